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
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

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
	    "  --log-level L           debug | info | warn | error (default info: one line per\n"
	    "                          request with its X-Request-Id, route, code and latency)\n"
	    "  --ip-rate-public R[:B]  per client address on the public routes (pages, status,\n"
	    "                          create_session, refund, portal, test payments): R\n"
	    "                          requests per second (R/m, R/h: per minute, hour),\n"
	    "                          burst B (default %u:%u; 0: off); over it 429 with\n"
	    "                          Retry-After\n"
	    "  --ip-rate-webhooks R[:B]  the same for /webhooks/{provider} (default %u:%u;\n"
	    "                          0: off); refused before the body is read, providers\n"
	    "                          retry, no event is lost\n"
	    "  --trust-forwarded-for CIDR[,CIDR]  reverse proxies (at most %u ranges): a\n"
	    "                          request from one is limited by X-Forwarded-For's last\n"
	    "                          address outside them; from any other peer the header\n"
	    "                          is ignored (default: none)\n"
	    "  --log-format F          text | json (one JSON object per line; default text)\n"
	    "  --tls-cert FILE         serve HTTPS with this PEM certificate (chain), with\n"
	    "  --tls-key FILE          this PEM private key (mode 0600 or 0400: a key readable\n"
	    "                          by group or others is refused). Plain HTTP is then not\n"
	    "                          served on the port. docs/BRIDGE.md: or nginx in front\n"
	    "  --help, --version\n",
	    PW_WEBHOOK_BODY_BYTES_MAX, PW_BRIDGE_CONNECTIONS_MAX, PW_BRIDGE_CONN_TIMEOUT_S,
	    PW_BRIDGE_THREADS_DEFAULT, PW_BRIDGE_THREADS_MAX, PW_CLIENT_TIMEOUT_MS_DEFAULT,
	    PW_CLIENT_RETRIES_DEFAULT, PW_BRIDGE_IP_RATE_PUBLIC_DEFAULT,
	    PW_BRIDGE_IP_BURST_PUBLIC_DEFAULT, PW_BRIDGE_IP_RATE_WEBHOOKS_DEFAULT,
	    PW_BRIDGE_IP_BURST_WEBHOOKS_DEFAULT, PW_BRIDGE_TRUSTED_PROXIES_MAX);
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
	pw_log_format log_format; /* --log-format */
	char tls_cert[PATH_MAX];  /* --tls-cert ("" : none) */
	char tls_key[PATH_MAX];   /* --tls-key ("" : none) */
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
	if (strcmp(name, "--ip-rate-public") == 0) {
		return bridge_ip_rate_parse(val, &f->cfg.ip_rate[BRIDGE_IP_PUBLIC - 1]);
	}
	if (strcmp(name, "--ip-rate-webhooks") == 0) {
		return bridge_ip_rate_parse(val, &f->cfg.ip_rate[BRIDGE_IP_WEBHOOKS - 1]);
	}
	if (strcmp(name, "--trust-forwarded-for") == 0) {
		char why[160];

		if (!bridge_trust_parse(val, &f->cfg.trust, why, sizeof(why))) {
			fprintf(stderr, "paywire-bridge: %s\n", why);
			return false;
		}
		return true;
	}
	if (strcmp(name, "--log-format") == 0) {
		return pw_log_format_parse(val, &f->log_format);
	}
	if (strcmp(name, "--tls-cert") == 0) {
		return val[0] != '\0' && pw_strlcpy(f->tls_cert, val, sizeof(f->tls_cert));
	}
	if (strcmp(name, "--tls-key") == 0) {
		return val[0] != '\0' && pw_strlcpy(f->tls_key, val, sizeof(f->tls_key));
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
	f->log_format = PW_LOG_TEXT;
	f->tls_cert[0] = f->tls_key[0] = '\0';
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

/* Reads a PEM file (--tls-cert, --tls-key) into *out (malloc, NUL-terminated).
 * A key must not be readable by group or others. false: a message said why. */
static bool
bridge_tls_read(const char *flag, const char *path, bool is_key, char **out)
{
	struct stat st;
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		fprintf(stderr, "paywire-bridge: %s %s: cannot open: %s\n", flag, path, strerror(errno));
		return false;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "paywire-bridge: %s %s: not a regular file\n", flag, path);
		(void) fclose(f);
		return false;
	}
	if (is_key && (st.st_mode & 077) != 0) {
		fprintf(stderr, "paywire-bridge: %s %s: the private key is readable by group or "
		                "others (mode %04o): chmod 600 it\n",
		    flag, path, (unsigned) (st.st_mode & 07777));
		(void) fclose(f);
		return false;
	}
	if (st.st_size <= 0 || (uint64_t) st.st_size > PW_BRIDGE_TLS_FILE_BYTES_MAX) {
		fprintf(stderr, "paywire-bridge: %s %s: empty or over %u bytes\n", flag, path,
		    PW_BRIDGE_TLS_FILE_BYTES_MAX);
		(void) fclose(f);
		return false;
	}
	buf = malloc((size_t) st.st_size + 1);
	n = buf != NULL ? fread(buf, 1, (size_t) st.st_size, f) : 0;
	(void) fclose(f);
	if (buf == NULL || n != (size_t) st.st_size) {
		fprintf(stderr, "paywire-bridge: %s %s: cannot read it\n", flag, path);
		free(buf);
		return false;
	}
	buf[n] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL) {
		fprintf(stderr, "paywire-bridge: %s %s: not a PEM file\n", flag, path);
		if (is_key) {
			sodium_memzero(buf, n);
		}
		free(buf);
		return false;
	}
	*out = buf;
	return true;
}

/* --tls-cert and --tls-key: both or neither; loaded into f->cfg. 0 or 2. */
static int
bridge_tls_load(bridge_flags *f, char **cert, char **key)
{
	*cert = *key = NULL;
	if (f->tls_cert[0] == '\0' && f->tls_key[0] == '\0') {
		return 0;
	}
	if (f->tls_cert[0] == '\0' || f->tls_key[0] == '\0') {
		fprintf(stderr, "paywire-bridge: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (!bridge_http_tls_supported()) {
		fprintf(stderr, "paywire-bridge: this libmicrohttpd was built without TLS: use a "
		                "reverse proxy for HTTPS (docs/BRIDGE.md)\n");
		return 2;
	}
	if (!bridge_tls_read("--tls-cert", f->tls_cert, false, cert) ||
	    !bridge_tls_read("--tls-key", f->tls_key, true, key)) {
		free(*cert);
		*cert = NULL;
		return 2;
	}
	f->cfg.tls_cert_pem = *cert;
	f->cfg.tls_key_pem = *key;
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
	char *tls_cert = NULL; /* --tls-cert's PEM, alive while the daemon runs */
	char *tls_key = NULL;  /* --tls-key's PEM (wiped at exit) */
	int rc;

	rc = bridge_flags_parse(argc, argv, &f);
	if (rc != 0) {
		return rc == 1 ? 0 : 2;
	}
	pw_log_set_level(f.log_level);
	pw_log_set_format(f.log_format);
	if (pw_common_init() != 0) {
		fprintf(stderr, "paywire-bridge: libsodium failed to initialize\n");
		return 1;
	}
	if (bridge_tls_load(&f, &tls_cert, &tls_key) != 0) {
		return 2;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (bridge_clients_open(&br, &f) != PW_OK) {
		fprintf(stderr, "paywire-bridge: cannot open a client for %s\n", f.cfg.server_url);
		free(tls_cert);
		free(tls_key);
		return 1;
	}
	rc = bridge_serve(&br, &f, &stop);
	pw_client_close(br.env.probe);
	pw_client_close(br.env.client);
	free(tls_cert);
	if (tls_key != NULL) {
		sodium_memzero(tls_key, strlen(tls_key));
		free(tls_key);
	}
	return rc;
}
