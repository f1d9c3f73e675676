/*
 * srv_main.c - paywire-server: flags, secrets, store, REP server, signals.
 *
 * Threads: main (this file: startup, then waits for a signal or a failed
 * store), nng's callback threads, the store's writer thread. SIGTERM/SIGINT
 * are blocked in every thread (the mask is set before any thread starts) and
 * taken here with sigtimedwait, so no handler runs in a random thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include <paywire/version.h>

#include "srv_config.h"
#include "srv_dispatch.h"
#include "srv_limit.h"
#include "srv_metrics.h"
#include "srv_notify.h"
#include "srv_provider.h"
#include "srv_publish.h"
#include "srv_rpc.h"
#include "srv_systemd.h"
#include "srv_webhook.h"
#include "store.h"

/* How often the main thread checks store_failed() while idle. */
#define MAIN_POLL_MS 100

typedef struct server {
	srv_config cfg;               /* flags */
	srv_webhook_config webhooks;  /* provider secrets */
	store *st;                    /* open store */
	srv_provider *prov;           /* the provider worker */
	srv_notify *notify;           /* the merchant notifications' delivery worker */
	srv_limiter *limiter;         /* rate limits per merchant */
	srv_env env;                  /* dispatch state */
	bool env_ready;               /* env needs srv_env_fini */
	srv_rpc *rpc;                 /* REP server */
	srv_publisher *pub;           /* --publish: the change feed, or NULL */
	srv_metrics *metrics;         /* Prometheus counters (--metrics-listen serves them) */
} server;

static int
parse_flags(server *s, int argc, char **argv)
{
	char why[512];
	pw_status rv;

	srv_config_init(&s->cfg);
	rv = srv_config_parse(&s->cfg, argc, argv, why, sizeof(why));
	if (rv != PW_OK) {
		fprintf(stderr, "paywire-server: %s\n", why);
		return SRV_EXIT_USAGE;
	}
	if (s->cfg.help) {
		srv_config_usage(stdout, "paywire-server");
		return SRV_EXIT_OK;
	}
	if (s->cfg.version) {
		printf("paywire-server %s\n", PW_VERSION_LINE);
		return SRV_EXIT_OK;
	}
	pw_log_set_level(s->cfg.log_level);
	pw_log_set_format(s->cfg.log_format);
	rv = srv_config_finish(&s->cfg, why, sizeof(why));
	if (rv == PW_OK && s->cfg.config_file[0] != '\0') {
		rv = srv_config_file_load(s->cfg.config_file, why, sizeof(why));
	}
	if (rv == PW_OK) {
		rv = srv_config_secrets_check(why, sizeof(why));
	}
	if (rv != PW_OK) {
		fprintf(stderr, "paywire-server: %s\n", why);
		return SRV_EXIT_USAGE;
	}
	return -1; /* go on */
}

static int
load_webhooks(server *s)
{
	pw_status rv;

	srv_webhook_config_init(&s->webhooks);
	rv = srv_webhook_config_from_env(&s->webhooks);
	if (rv == PW_OK) {
		rv = srv_webhook_config_set_tolerance(&s->webhooks, s->cfg.webhook_tolerance_s);
	}
	if (rv != PW_OK) {
		pw_log(PW_LOG_ERROR, "webhook configuration refused (see the message above)");
		return SRV_EXIT_USAGE;
	}
	for (size_t ix = 0; ix < PW_PROVIDER_COUNT; ix++) {
		pw_provider p = pw_provider_at(ix);
		if (!srv_webhook_config_has_secret(&s->webhooks, p)) {
			pw_log(PW_LOG_INFO, "no %s webhook secret configured: its webhooks answer UNAVAILABLE",
			    pw_provider_name(p));
		}
	}
	return -1;
}

static int
open_store(server *s)
{
	store_opts o;
	pw_status rv;

	memset(&o, 0, sizeof(o));
	o.dir = s->cfg.data_dir;
	o.url = s->cfg.store_url[0] != '\0' ? s->cfg.store_url : NULL;
	o.map_size_bytes = s->cfg.map_size_bytes;
	o.sync = s->cfg.sync;
	o.read_only = s->cfg.read_only;
	o.token_secret = getenv("PAYWIRE_TOKEN_SECRET");
	if (o.token_secret != NULL && o.token_secret[0] == '\0') {
		o.token_secret = NULL;
	}
	rv = store_open(&s->st, &o);
	if (rv != PW_OK) {
		if (o.url != NULL) {
			pw_log(PW_LOG_ERROR, "cannot open the PostgreSQL store (key file in %s): %s",
			    s->cfg.data_dir, pw_status_name(rv));
			return SRV_EXIT_START;
		}
		pw_log(PW_LOG_ERROR, "cannot open the store in %s: %s", s->cfg.data_dir,
		    pw_status_name(rv));
		if (!s->cfg.read_only && access(s->cfg.data_dir, W_OK) != 0) {
			/* A payment service that cannot write says so at start
			 * rather than degrading quietly; reads only is a choice. */
			pw_log(PW_LOG_ERROR, "%s is not writable by this user: fix its "
			    "owner or mode, or pass --read-only to serve reads only",
			    s->cfg.data_dir);
		}
		return SRV_EXIT_START;
	}
#ifdef PW_TEST_HOOKS
	store_test_set_writer_delay_ms(s->st, s->cfg.test_writer_delay_ms);
	if (s->cfg.test_lastused_set) {
		store_test_set_lastused_ms(s->st, (uint32_t) PW_APIKEY_LASTUSED_GRANULARITY_MS,
		    s->cfg.test_lastused_check_ms, (uint32_t) PW_APIKEY_LASTUSED_IDLE_MS);
	}
#endif
	rv = srv_env_init(&s->env, s->st, &s->webhooks, getenv("PAYWIRE_ADMIN_KEY"),
	    s->cfg.public_url);
	if (rv != PW_OK) {
		return SRV_EXIT_USAGE;
	}
	s->env_ready = true;
	s->metrics = srv_metrics_new(s->st);
	if (s->metrics == NULL) {
		pw_log(PW_LOG_ERROR, "out of memory for the metrics");
		return SRV_EXIT_START;
	}
	s->env.metrics = s->metrics;
	if (s->cfg.metrics_listen[0] != '\0') {
		char why[512];

		rv = srv_metrics_start(s->metrics, s->cfg.metrics_listen, s->cfg.metrics_allow_public,
		    why, sizeof(why));
		if (rv != PW_OK) {
			pw_log(PW_LOG_ERROR, "%s", why);
			return rv == PW_INVALID_ARGUMENT ? SRV_EXIT_USAGE : SRV_EXIT_START;
		}
		pw_log(PW_LOG_INFO, "paywire-server serving metrics on http://%s/metrics",
		    s->cfg.metrics_listen);
	}
	if (!s->env.admin_key_set) {
		pw_log(PW_LOG_WARN, "PAYWIRE_ADMIN_KEY is not set: admin calls answer PERMISSION_DENIED");
	}
	return -1;
}

#ifdef PW_TEST_HOOKS
#include <fcntl.h>
#include <sys/mman.h>

/* PAYWIRE_TEST_CLOCK_FILE: the clock is the int64 (ms since 1970) in the
 * file's first 8 bytes, read at every use; 0 there: the real time. */
static int64_t
test_clock_read(void *arg)
{
	const volatile int64_t *p = arg;
	int64_t v = *p;
	struct timespec ts;

	if (v != 0) {
		return v;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
test_clock_setup(void)
{
	const char *path = getenv("PAYWIRE_TEST_CLOCK_FILE");
	void *map;
	int fd;

	if (path == NULL || path[0] == '\0') {
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pw_log(PW_LOG_ERROR, "PAYWIRE_TEST_CLOCK_FILE %s: %s", path, strerror(errno));
		return SRV_EXIT_USAGE;
	}
	map = mmap(NULL, sizeof(int64_t), PROT_READ, MAP_SHARED, fd, 0);
	(void) close(fd);
	if (map == MAP_FAILED) {
		pw_log(PW_LOG_ERROR, "PAYWIRE_TEST_CLOCK_FILE %s: mmap: %s", path, strerror(errno));
		return SRV_EXIT_USAGE;
	}
	pw_clock_set(test_clock_read, map); /* kept mapped until exit */
	pw_log(PW_LOG_WARN, "test clock: %s", path);
	return -1;
}
#endif

/* The email and Telegram channels' settings (flags and PAYWIRE_SMTP_*,
 * PAYWIRE_TELEGRAM_BOT_TOKEN) into nc: 0, or -1 with the reason logged (a
 * configuration error: exit 2). */
static int
notify_channels(server *s, srv_notify_cfg *nc)
{
	const char *user = getenv("PAYWIRE_SMTP_USER");
	const char *pass = getenv("PAYWIRE_SMTP_PASSWORD");
	const char *tok = getenv("PAYWIRE_TELEGRAM_BOT_TOKEN");
	size_t tl = tok != NULL ? strlen(tok) : 0;
	const char *colon = tl > 0 ? strchr(tok, ':') : NULL;

	if ((s->cfg.smtp_url[0] != '\0') != (s->cfg.smtp_from[0] != '\0')) {
		pw_log(PW_LOG_ERROR, "--smtp-url and --smtp-from go together (email endpoints need both)");
		return -1;
	}
	if ((user != NULL && user[0] != '\0') != (pass != NULL && pass[0] != '\0')) {
		pw_log(PW_LOG_ERROR, "PAYWIRE_SMTP_USER and PAYWIRE_SMTP_PASSWORD go together");
		return -1;
	}
	if (user != NULL && user[0] != '\0' &&
	    (!pw_strlcpy(nc->smtp_user, user, sizeof(nc->smtp_user)) ||
	        !pw_strlcpy(nc->smtp_password, pass, sizeof(nc->smtp_password)))) {
		pw_log(PW_LOG_ERROR, "PAYWIRE_SMTP_USER (at most %zu bytes) or PAYWIRE_SMTP_PASSWORD (at "
		    "most %zu bytes) is too long", sizeof(nc->smtp_user) - 1,
		    sizeof(nc->smtp_password) - 1);
		return -1;
	}
	if (tl > 0) {
		bool digits = colon != NULL && colon > tok;
		for (const char *p = tok; digits && p < colon; p++) {
			digits = *p >= '0' && *p <= '9';
		}
		if (!digits || tl - (size_t) (colon - tok) < 2 || strpbrk(tok, " \t\r\n/") != NULL ||
		    !pw_strlcpy(nc->telegram_token, tok, sizeof(nc->telegram_token))) {
			pw_log(PW_LOG_ERROR, "PAYWIRE_TELEGRAM_BOT_TOKEN is not a bot token (digits, ':', "
			    "then the secret; at most %d bytes)", PW_NOTIFY_TELEGRAM_TOKEN_BYTES_MAX);
			return -1;
		}
	}
	(void) pw_strlcpy(nc->smtp_url, s->cfg.smtp_url, sizeof(nc->smtp_url));
	(void) pw_strlcpy(nc->smtp_from, s->cfg.smtp_from, sizeof(nc->smtp_from));
	nc->smtp_allow_plain = s->cfg.smtp_allow_plain;
	(void) pw_strlcpy(nc->telegram_api, s->cfg.telegram_api, sizeof(nc->telegram_api));
	nc->telegram_allow_http = s->cfg.telegram_allow_http;
	if (nc->smtp_url[0] != '\0') {
		pw_log(PW_LOG_INFO, "email endpoints: relay %s, from %s%s", nc->smtp_url, nc->smtp_from,
		    nc->smtp_user[0] != '\0' ? ", with AUTH" : "");
	}
	if (nc->telegram_token[0] != '\0') {
		pw_log(PW_LOG_INFO, "Telegram endpoints: Bot API %s", nc->telegram_api);
	}
	return 0;
}

static int
start_notify(server *s)
{
	srv_notify_cfg nc = { .workers = s->cfg.notify_workers,
		.per_endpoint = s->cfg.notify_per_endpoint, .connect_ms = PW_NOTIFY_CONNECT_MS,
		.timeout_ms = s->cfg.notify_timeout_ms, .disable_after_ms = PW_NOTIFY_DISABLE_AFTER_MS,
		.policy = { .allow_http = s->cfg.notify_allow_http,
		    .allow_private = s->cfg.notify_allow_private,
		    .ca_file = s->cfg.provider_ca_file[0] != '\0' ? s->cfg.provider_ca_file : NULL } };
	pw_status rv;

	if (nc.connect_ms > nc.timeout_ms) {
		nc.connect_ms = nc.timeout_ms;
	}
	if (notify_channels(s, &nc) != 0) {
		sodium_memzero(&nc, sizeof(nc));
		return SRV_EXIT_USAGE;
	}
	s->env.notify_allow_http = s->cfg.notify_allow_http;
	s->env.notify_allow_private = s->cfg.notify_allow_private;
	s->env.notify_email = nc.smtp_url[0] != '\0';
	s->env.notify_telegram = nc.telegram_token[0] != '\0';
	if (s->cfg.read_only) {
		return -1; /* no writes: nothing to deliver from here */
	}
	rv = srv_notify_start(&s->notify, &nc, s->st);
	sodium_memzero(&nc, sizeof(nc)); /* the worker keeps its own copy */
	if (rv != PW_OK) {
		pw_log(PW_LOG_ERROR, "cannot start the notification worker: %s", pw_status_name(rv));
		return SRV_EXIT_START;
	}
	if (s->cfg.notify_allow_http || s->cfg.notify_allow_private) {
		pw_log(PW_LOG_WARN, "%s%s: merchant endpoints may be plain http or internal addresses "
		    "(tests only)", s->cfg.notify_allow_http ? "--notify-allow-http " : "",
		    s->cfg.notify_allow_private ? "--notify-allow-private" : "");
	}
	return -1;
}

static int
start_rpc(server *s)
{
	const char *urls[PW_SRV_LISTEN_MAX];
	srv_rpc_opts o;
	char why[512];
	pw_status rv;

	if (s->cfg.publish[0] != '\0') {
		rv = srv_publish_start(&s->pub, s->st, s->cfg.publish, why, sizeof(why));
		if (rv != PW_OK) {
			pw_log(PW_LOG_ERROR, "%s", why);
			return SRV_EXIT_START;
		}
		store_set_commit_hook(s->st, srv_publish_notify, s->pub);
		pw_log(PW_LOG_INFO, "paywire-server publishing committed events on %s",
		    s->cfg.publish);
	}
	{
		srv_limit_rate rates[SRV_LIMIT_CLASSES];

		for (int i = 0; i < SRV_LIMIT_CLASSES; i++) {
			rates[i] = (srv_limit_rate) { .interval_us = s->cfg.rate_interval_us[i],
				.burst = s->cfg.rate_burst[i] };
		}
		s->limiter = srv_limiter_new(rates);
		if (s->limiter == NULL) {
			pw_log(PW_LOG_ERROR, "out of memory for the rate limits");
			return SRV_EXIT_START;
		}
		s->env.limiter = s->limiter;
		{
			size_t n_own = 0;
			pw_status lrv = srv_limit_load(s->limiter, s->st, &n_own);

			if (lrv != PW_OK) {
				pw_log(PW_LOG_ERROR, "loading the merchants' own rate limits failed: %s",
				    pw_status_message(lrv));
				return SRV_EXIT_START;
			}
			pw_log(PW_LOG_INFO, "rate limits: %zu merchants with limits of their own", n_own);
		}
	}
	{
		srv_provider_cfg pc = { .workers = s->cfg.provider_workers,
			.timeout_ms = s->cfg.provider_timeout_ms, .stripe_api = s->cfg.stripe_api,
			.razorpay_api = s->cfg.razorpay_api,
			.http = { .ca_file = s->cfg.provider_ca_file[0] != '\0' ? s->cfg.provider_ca_file
			                                                       : NULL,
			    .allow_plain_http = s->cfg.provider_allow_http } };

		rv = srv_provider_start(&s->prov, &pc, &s->env, why, sizeof(why));
		if (rv != PW_OK) {
			pw_log(PW_LOG_ERROR, "%s%s", why,
			    s->cfg.provider_allow_http ? "" : " (an http:// URL needs --provider-allow-http)");
			return SRV_EXIT_USAGE;
		}
		if (s->cfg.provider_allow_http) {
			pw_log(PW_LOG_WARN, "--provider-allow-http: provider calls may go over plain "
			                    "http (tests' stand-ins only)");
		}
	}
	for (size_t i = 0; i < s->cfg.listen_count; i++) {
		urls[i] = s->cfg.listen[i];
	}
	o.listen_urls = urls;
	o.listen_count = s->cfg.listen_count;
	o.contexts = s->cfg.contexts;
	rv = srv_rpc_start(&s->rpc, &o, &s->env, why, sizeof(why));
	if (rv != PW_OK) {
		pw_log(PW_LOG_ERROR, "%s", why);
		return SRV_EXIT_START;
	}
	for (size_t i = 0; i < s->cfg.listen_count; i++) {
		pw_log(PW_LOG_INFO, "paywire-server listening on %s", urls[i]);
	}
	pw_log(PW_LOG_INFO,
	    "paywire-server %s (wire %s): data %s, store %s, sync %s%s, %u contexts, public url %s",
	    PW_VERSION_STRING, PW_WIRE_PACKAGE, s->cfg.data_dir,
	    s->cfg.store_url[0] != '\0' ? "postgresql" : "lmdb", srv_config_sync_name(s->cfg.sync),
	    s->cfg.read_only ? ", read-only" : "", s->cfg.contexts, s->cfg.public_url);
	return -1;
}

/* Waits for SIGTERM/SIGINT or a failed store. Returns the exit code. */
static int
wait_for_stop(server *s, const sigset_t *set)
{
	const struct timespec poll = { 0, MAIN_POLL_MS * 1000 * 1000 };
	int sig;

	for (;;) {
		srv_systemd_tick(s->st, s->cfg.read_only);
		if (store_failed(s->st)) {
			pw_log(PW_LOG_ERROR, "the store failed (an I/O error or damaged data): exiting with %d so a "
			                     "supervisor restarts the server on a clean environment",
			    SRV_EXIT_STORE_FAILED);
			return SRV_EXIT_STORE_FAILED;
		}
		sig = sigtimedwait(set, NULL, &poll);
		if (sig == SIGTERM || sig == SIGINT) {
			pw_log(PW_LOG_INFO, "%s: stopping (requests in flight finish, new ones answer "
			                    "UNAVAILABLE)",
			    sig == SIGTERM ? "SIGTERM" : "SIGINT");
			return SRV_EXIT_OK;
		}
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			pw_log(PW_LOG_ERROR, "sigtimedwait: %s", strerror(errno));
			return SRV_EXIT_START;
		}
	}
}

static void
shutdown_all(server *s, int code)
{
	uint64_t left = 0;

	if (s->rpc != NULL) {
		/* A failed store answers every write UNAVAILABLE at once, so a
		 * short drain is enough there. */
		left = srv_rpc_quiesce(s->rpc,
		    code == SRV_EXIT_STORE_FAILED ? 1000 : s->cfg.drain_timeout_ms);
		if (left > 0) {
			pw_log(PW_LOG_WARN, "%llu requests still in flight after the drain timeout",
			    (unsigned long long) left);
		}
	} else if (s->env_ready) {
		srv_env_stop(&s->env);
	}
	srv_publish_stop(s->pub); /* what is committed goes out; later commits: ListEvents */
	srv_provider_stop(s->prov); /* provider steps end; their second writes still commit */
	srv_metrics_stop(s->metrics); /* a scrape reads the store; recording goes on */
	srv_notify_stop(s->notify); /* deliveries end; undelivered messages stay in the outbox */
	if (s->st != NULL) {
		store_close(s->st); /* commits queued writes; their replies go out */
		s->st = NULL;
	}
	srv_provider_free(s->prov); /* no done callback can hand it a call any more */
	srv_notify_free(s->notify);
	s->notify = NULL;
	s->prov = NULL;
	srv_publish_free(s->pub); /* no commit hook can run any more */
	s->pub = NULL;
	srv_rpc_destroy(s->rpc);
	s->rpc = NULL;
	if (s->env_ready) {
		srv_env_log_webhooks(&s->env);
		srv_env_fini(&s->env);
	}
	srv_metrics_free(s->metrics); /* after the rpc: no request records any more */
	s->metrics = NULL;
	srv_limiter_free(s->limiter); /* after the rpc: no request can use it */
	s->limiter = NULL;
	srv_webhook_config_fini(&s->webhooks);
}

int
main(int argc, char **argv)
{
	static server s; /* large (config buffers); zeroed */
	sigset_t set;
	int code;

	/* Before any thread exists, so every thread inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void) signal(SIGPIPE, SIG_IGN);
	if (pw_common_init() != 0) {
		fprintf(stderr, "paywire-server: libsodium initialisation failed\n");
		return SRV_EXIT_START;
	}
	srv_webhook_config_init(&s.webhooks);
	code = parse_flags(&s, argc, argv);
	if (s.cfg.help || s.cfg.version || code == SRV_EXIT_USAGE) {
		return code < 0 ? SRV_EXIT_OK : code;
	}
	if (code < 0) {
		code = load_webhooks(&s);
	}
#ifdef PW_TEST_HOOKS
	if (code < 0) {
		code = test_clock_setup();
	}
#endif
	if (code < 0) {
		code = open_store(&s);
	}
	if (code < 0) {
		code = start_notify(&s);
	}
	if (code < 0) {
		code = start_rpc(&s);
	}
	if (code < 0) {
		srv_systemd_ready("serving"); /* store open, every listener bound */
		code = wait_for_stop(&s, &set);
		srv_systemd_stopping();
	}
	shutdown_all(&s, code);
	pw_log(code == SRV_EXIT_OK ? PW_LOG_INFO : PW_LOG_WARN, "paywire-server exiting with %d",
	    code);
	return code;
}
