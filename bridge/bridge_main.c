/*
 * bridge_main.c - paywire-bridge: flags, the two libpaywire clients, the
 * daemon, and a clean stop on SIGTERM/SIGINT (exit 0).
 *
 * Signals are blocked before any thread starts, so libmicrohttpd's and nng's
 * threads inherit the mask and the main thread alone takes them in sigwait.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <paywire/client.h>
#include <paywire/version.h>

#include "bridge_http.h"
#include "pw_common.h"
#include "pw_sd.h"

static void
bridge_usage(FILE *f)
{
	fprintf(f,
	    "usage: paywire-bridge [options]\n"
	    "  --listen HOST:PORT      address to listen on (default 127.0.0.1:8080; port 0: any)\n"
	    "  --server URL            paywire-server (default $PAYWIRE_SERVER or tcp://127.0.0.1:7450)\n"
	    "  --public-url URL        where browsers reach this bridge (default http://HOST:PORT)\n"
	    "  --razorpay-checkout-js URL  Razorpay Checkout's script, loaded by the checkout page\n"
	    "                          of a Razorpay order paywire created (default\n"
	    "                          " BRIDGE_RAZORPAY_JS_DEFAULT ")\n"
	    "  --max-body-bytes N      webhook body limit (default and maximum %u)\n"
	    "  --max-connections N     concurrent connections (default and maximum %u)\n"
	    "  --conn-timeout-s N      idle connection timeout in seconds (default %u)\n"
	    "  --threads N             HTTP worker threads (default %u, maximum %u)\n"
	    "  --server-timeout-ms N   per-attempt timeout of server calls (default %u)\n"
	    "  --server-retries N      retries after a timeout, same request id (default %u)\n"
	    "  --log-level L           debug | info | warn | error (default info)\n"
	    "  --help, --version\n",
	    PW_WEBHOOK_BODY_BYTES_MAX, PW_BRIDGE_CONNECTIONS_MAX, PW_BRIDGE_CONN_TIMEOUT_S,
	    PW_BRIDGE_THREADS_DEFAULT, PW_BRIDGE_THREADS_MAX, PW_CLIENT_TIMEOUT_MS_DEFAULT,
	    PW_CLIENT_RETRIES_DEFAULT);
}

/* Parses a decimal in [lo, hi]. */
static bool
bridge_flag_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || s[0] < '0' || s[0] > '9') {
		return false;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == NULL || *end != '\0' || v < lo || v > hi) {
		return false;
	}
	*out = v;
	return true;
}

/* "HOST:PORT" or "[V6]:PORT" into cfg. */
static bool
bridge_flag_listen(const char *s, bridge_config *cfg)
{
	const char *colon = strrchr(s, ':');
	const char *host = s;
	size_t host_len;
	unsigned long port;

	if (colon == NULL || !bridge_flag_uint(colon + 1, 0, 65535, &port)) {
		return false;
	}
	host_len = (size_t) (colon - s);
	if (host_len >= 2 && s[0] == '[' && s[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(cfg->listen_host)) {
		return false;
	}
	memcpy(cfg->listen_host, host, host_len);
	cfg->listen_host[host_len] = '\0';
	cfg->listen_port = (uint16_t) port;
	return true;
}

typedef struct bridge_flags {
	bridge_config cfg;        /* the daemon's configuration */
	pw_client_opts opts;      /* the main client's timeout and retries */
	pw_log_level log_level;   /* --log-level */
} bridge_flags;

/* The C type of a numeric flag's field. */
typedef enum bridge_flag_type {
	BRIDGE_FLAG_SIZE = 0,     /* size_t */
	BRIDGE_FLAG_UNSIGNED = 1, /* unsigned */
	BRIDGE_FLAG_U32 = 2,      /* uint32_t */
} bridge_flag_type;

/* A numeric flag: a decimal in [lo, hi] stored in one field of bridge_flags. */
typedef struct bridge_uint_flag {
	const char *name;       /* "--threads" */
	unsigned long lo;       /* smallest value accepted */
	unsigned long hi;       /* largest value accepted */
	bridge_flag_type type;  /* the field's type */
	size_t offset;          /* the field, offsetof(bridge_flags, ...) */
} bridge_uint_flag;

static const bridge_uint_flag bridge_uint_flags[] = {
	{ .name = "--max-body-bytes", .lo = 1, .hi = PW_WEBHOOK_BODY_BYTES_MAX,
	    .type = BRIDGE_FLAG_SIZE, .offset = offsetof(bridge_flags, cfg.body_bytes_max) },
	{ .name = "--max-connections", .lo = 1, .hi = PW_BRIDGE_CONNECTIONS_MAX,
	    .type = BRIDGE_FLAG_UNSIGNED, .offset = offsetof(bridge_flags, cfg.connections_max) },
	{ .name = "--conn-timeout-s", .lo = 1, .hi = 3600,
	    .type = BRIDGE_FLAG_UNSIGNED, .offset = offsetof(bridge_flags, cfg.conn_timeout_s) },
	{ .name = "--threads", .lo = 1, .hi = PW_BRIDGE_THREADS_MAX,
	    .type = BRIDGE_FLAG_UNSIGNED, .offset = offsetof(bridge_flags, cfg.threads) },
	{ .name = "--server-timeout-ms", .lo = 1, .hi = 600000,
	    .type = BRIDGE_FLAG_U32, .offset = offsetof(bridge_flags, opts.timeout_ms) },
	{ .name = "--server-retries", .lo = 0, .hi = 10,
	    .type = BRIDGE_FLAG_U32, .offset = offsetof(bridge_flags, opts.retries) },
};

/* Parses val for the numeric flag d and stores it; false on a bad value. */
static bool
bridge_uint_flag_apply(bridge_flags *f, const bridge_uint_flag *d, const char *val)
{
	unsigned char *field = (unsigned char *) f + d->offset;
	unsigned long v = 0;

	if (!bridge_flag_uint(val, d->lo, d->hi, &v)) {
		return false;
	}
	switch (d->type) {
	case BRIDGE_FLAG_SIZE:
		*(size_t *) (void *) field = (size_t) v;
		return true;
	case BRIDGE_FLAG_UNSIGNED:
		*(unsigned *) (void *) field = (unsigned) v;
		return true;
	case BRIDGE_FLAG_U32:
		*(uint32_t *) (void *) field = (uint32_t) v;
		return true;
	}
	PW_ASSERT(!"flag type out of range");
	return false;
}

/* "--public-url": http(s), trailing slashes dropped (pages append
 * "/checkout", "/access/..."). */
static bool
bridge_flag_public_url(const char *val, bridge_config *cfg)
{
	size_t n = strlen(val);

	while (n > 0 && val[n - 1] == '/') {
		n--;
	}
	if (n == 0 || n >= sizeof(cfg->public_url) ||
	    (strncmp(val, "http://", 7) != 0 && strncmp(val, "https://", 8) != 0)) {
		return false;
	}
	memcpy(cfg->public_url, val, n);
	cfg->public_url[n] = '\0';
	return true;
}

/* One flag with its value; false on an unknown flag or a bad value. */
static bool
bridge_flag_apply(bridge_flags *f, const char *name, const char *val)
{
	if (strcmp(name, "--listen") == 0) {
		return bridge_flag_listen(val, &f->cfg);
	}
	if (strcmp(name, "--server") == 0) {
		return val[0] != '\0' && pw_strlcpy(f->cfg.server_url, val, sizeof(f->cfg.server_url));
	}
	if (strcmp(name, "--public-url") == 0) {
		return bridge_flag_public_url(val, &f->cfg);
	}
	if (strcmp(name, "--razorpay-checkout-js") == 0) {
		return (strncmp(val, "https://", 8) == 0 || strncmp(val, "http://", 7) == 0) &&
		    pw_strlcpy(f->cfg.razorpay_js, val, sizeof(f->cfg.razorpay_js));
	}
	if (strcmp(name, "--log-level") == 0) {
		return pw_log_level_parse(val, &f->log_level);
	}
	for (size_t i = 0; i < sizeof(bridge_uint_flags) / sizeof(bridge_uint_flags[0]); i++) {
		if (strcmp(name, bridge_uint_flags[i].name) == 0) {
			return bridge_uint_flag_apply(f, &bridge_uint_flags[i], val);
		}
	}
	return false;
}

/* 0: run; 1: exit 0 (help, version); 2: usage error. */
static int
bridge_flags_parse(int argc, char **argv, bridge_flags *f)
{
	const char *env = getenv("PAYWIRE_SERVER");

	bridge_config_default(&f->cfg);
	pw_client_opts_default(&f->opts);
	f->log_level = PW_LOG_INFO;
	if (env != NULL && env[0] != '\0' && !pw_strlcpy(f->cfg.server_url, env, sizeof(f->cfg.server_url))) {
		fprintf(stderr, "paywire-bridge: PAYWIRE_SERVER is too long\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			bridge_usage(stdout);
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("paywire-bridge %s\n", PW_VERSION_LINE);
			return 1;
		}
		if (i + 1 >= argc || !bridge_flag_apply(f, argv[i], argv[i + 1])) {
			fprintf(stderr, "paywire-bridge: bad or incomplete option: %s\n", argv[i]);
			bridge_usage(stderr);
			return 2;
		}
		i++;
	}
	return 0;
}

/* Opens the main client and the health probe's (1 s, no retries). */
static pw_status
bridge_clients_open(bridge *br, const bridge_flags *f)
{
	pw_client_opts probe_opts;
	pw_status st;

	st = pw_client_open(&br->env.client, f->cfg.server_url, &f->opts);
	if (st != PW_OK) {
		return st;
	}
	pw_client_opts_default(&probe_opts);
	probe_opts.timeout_ms = PW_BRIDGE_PROBE_TIMEOUT_MS;
	probe_opts.retries = 0;
	st = pw_client_open(&br->env.probe, f->cfg.server_url, &probe_opts);
	if (st != PW_OK) {
		pw_client_close(br->env.client);
		br->env.client = NULL;
	}
	return st;
}

/* Under systemd (Type=notify): READY=1 once the daemon listens, then waits
 * for SIGTERM/SIGINT, pinging the watchdog (WatchdogSec=) from this loop
 * every quarter of its interval; then STOPPING=1. Returns the signal. */
static int
bridge_wait_stop(const sigset_t *stop)
{
	uint64_t wd_ms = pw_sd_watchdog_ms();
	uint64_t tick_ms = wd_ms > 0 ? wd_ms / 4 : 1000;
	struct timespec tick = { (time_t) (tick_ms / 1000), (long) (tick_ms % 1000) * 1000000L };
	int sig;

	pw_sd_ready("serving");
	for (;;) {
		sig = sigtimedwait(stop, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			break;
		}
		if (wd_ms > 0) {
			pw_sd_watchdog();
		}
	}
	pw_sd_stopping();
	return sig;
}

static int
bridge_serve(bridge *br, const bridge_flags *f, const sigset_t *stop)
{
	pw_status st;
	int sig = 0;

	st = bridge_http_start(br, &f->cfg);
	if (st != PW_OK) {
		fprintf(stderr, "paywire-bridge: cannot start on %s:%u: %s\n", f->cfg.listen_host,
		    (unsigned) f->cfg.listen_port, pw_status_name(st));
		return 1;
	}
	/* the startup line: tests and operators read the bound port from it */
	printf("paywire-bridge %s listening on %s:%u (server %s); point a browser at "
	       "%s/checkout?session=<id>\n",
	    PW_VERSION_STRING, f->cfg.listen_host, (unsigned) br->port, f->cfg.server_url,
	    br->cfg.public_url);
	fflush(stdout);
	sig = bridge_wait_stop(stop);
	pw_log(PW_LOG_INFO, "signal %d: stopping", sig);
	bridge_http_stop(br);
	return 0;
}

int
main(int argc, char **argv)
{
	static bridge br; /* large (metrics): static storage, not the stack */
	bridge_flags f;
	sigset_t stop;
	int rc;

	rc = bridge_flags_parse(argc, argv, &f);
	if (rc != 0) {
		return rc == 1 ? 0 : 2;
	}
	pw_log_set_level(f.log_level);
	if (pw_common_init() != 0) {
		fprintf(stderr, "paywire-bridge: libsodium failed to initialize\n");
		return 1;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (bridge_clients_open(&br, &f) != PW_OK) {
		fprintf(stderr, "paywire-bridge: cannot open a client for %s\n", f.cfg.server_url);
		return 1;
	}
	rc = bridge_serve(&br, &f, &stop);
	pw_client_close(br.env.probe);
	pw_client_close(br.env.client);
	return rc;
}
