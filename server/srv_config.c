/*
 * srv_config.c - flags, config file, --help. See srv_config.h.
 */
#include "srv_config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <paywire/version.h>

#include "prov_smtp.h"
#include "prov_telegram.h"
#include "srv_validate.h"
#include "srv_webhook.h"

/* The variables a config file may set (and the server reads): every
 * provider's secret variable comes from the provider table. */
static const char *const config_keys[] = {
	"PAYWIRE_ADMIN_KEY",
	"PAYWIRE_TOKEN_SECRET",
#define CONFIG_XX_SECRET(NAME, value, name, label, secret_env) secret_env,
	PW_PROVIDER_MAP(CONFIG_XX_SECRET)
#undef CONFIG_XX_SECRET
	"PAYWIRE_WEB3_MIN_CONFIRMATIONS",
	"PAYWIRE_STORE",
	"PAYWIRE_SMTP_USER",
	"PAYWIRE_SMTP_PASSWORD",
	"PAYWIRE_TELEGRAM_BOT_TOKEN",
};
#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

void
srv_config_init(srv_config *cfg)
{
	PW_ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	(void) pw_strlcpy(cfg->data_dir, SRV_DEFAULT_DATA_DIR, sizeof(cfg->data_dir));
	(void) pw_strlcpy(cfg->public_url, SRV_DEFAULT_PUBLIC_URL, sizeof(cfg->public_url));
	cfg->sync = STORE_SYNC_FULL;
	cfg->contexts = PW_SRV_CONTEXTS_DEFAULT;
	cfg->log_level = PW_LOG_INFO;
	cfg->webhook_tolerance_s = PW_WEBHOOK_TOLERANCE_S;
	cfg->drain_timeout_ms = PW_SRV_DRAIN_TIMEOUT_MS_DEFAULT;
	(void) pw_strlcpy(cfg->stripe_api, SRV_DEFAULT_STRIPE_API, sizeof(cfg->stripe_api));
	(void) pw_strlcpy(cfg->telegram_api, PW_TELEGRAM_API_DEFAULT, sizeof(cfg->telegram_api));
	(void) pw_strlcpy(cfg->razorpay_api, SRV_DEFAULT_RAZORPAY_API, sizeof(cfg->razorpay_api));
	cfg->provider_workers = PW_SRV_PROVIDER_WORKERS_DEFAULT;
	cfg->provider_timeout_ms = PW_SRV_PROVIDER_TIMEOUT_MS_DEFAULT;
	cfg->notify_workers = PW_NOTIFY_WORKERS;
	cfg->notify_timeout_ms = PW_NOTIFY_ATTEMPT_MS;
	cfg->notify_per_endpoint = PW_NOTIFY_INFLIGHT_PER_ENDPOINT;
	cfg->rate_interval_us[0] = 1000000 / PW_RATE_READS_DEFAULT;
	cfg->rate_burst[0] = PW_RATE_READS_BURST_DEFAULT;
	cfg->rate_interval_us[1] = 1000000 / PW_RATE_WRITES_DEFAULT;
	cfg->rate_burst[1] = PW_RATE_WRITES_BURST_DEFAULT;
	cfg->rate_interval_us[2] = 1000000 / PW_RATE_PROVIDER_DEFAULT;
	cfg->rate_burst[2] = PW_RATE_PROVIDER_BURST_DEFAULT;
}

const char *
srv_config_sync_name(store_sync s)
{
	switch (s) {
	case STORE_SYNC_FULL: return "full";
	case STORE_SYNC_META: return "meta";
	case STORE_SYNC_NONE: return "none";
	}
	return "unknown";
}

/* Decimal 0..max, optional k/m/g (x1024^n) suffix when `suffix`. */
static bool
parse_u64(const char *s, uint64_t max, bool suffix, uint64_t *out)
{
	uint64_t v = 0;
	uint64_t mul = 1;
	size_t i = 0;

	if (s[0] < '0' || s[0] > '9') {
		return false;
	}
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (suffix && s[i] != '\0' && s[i + 1] == '\0') {
		switch (s[i]) {
		case 'k': case 'K': mul = 1024ull; break;
		case 'm': case 'M': mul = 1024ull * 1024ull; break;
		case 'g': case 'G': mul = 1024ull * 1024ull * 1024ull; break;
		default: return false;
		}
		i++;
	}
	if (s[i] != '\0' || (mul > 1 && v > max / mul) || v * mul > max) {
		return false;
	}
	*out = v * mul;
	return true;
}

typedef pw_status (*flag_fn)(srv_config *cfg, const char *v, char *why, size_t why_size);

static pw_status
flag_listen(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (cfg->listen_count >= PW_SRV_LISTEN_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--listen: at most %d listeners",
		    PW_SRV_LISTEN_MAX);
	}
	if ((strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0) || strlen(v) <= 6 ||
	    !pw_strlcpy(cfg->listen[cfg->listen_count], v, SRV_CONFIG_URL_BYTES)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--listen takes tcp://HOST:PORT or ipc://PATH (at most %d bytes)",
		    SRV_CONFIG_URL_BYTES - 1);
	}
	cfg->listen_count++;
	return PW_OK;
}

static pw_status
flag_publish(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if ((strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0) || strlen(v) <= 6 ||
	    !pw_strlcpy(cfg->publish, v, sizeof(cfg->publish))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--publish takes tcp://HOST:PORT or ipc://PATH (at most %d bytes)",
		    SRV_CONFIG_URL_BYTES - 1);
	}
	return PW_OK;
}

static pw_status
flag_data(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (v[0] == '\0' || !pw_strlcpy(cfg->data_dir, v, sizeof(cfg->data_dir))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--data takes a directory (1..%d bytes)",
		    SRV_CONFIG_PATH_BYTES - 1);
	}
	return PW_OK;
}

/* A PostgreSQL connection string. It may hold a password: the message names
 * the flag and what it takes, never the value. */
static pw_status
store_url_set(srv_config *cfg, const char *v, const char *from, char *why, size_t why_size)
{
	if (!store_url_is_postgres(v) || !pw_strlcpy(cfg->store_url, v, sizeof(cfg->store_url))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s takes a PostgreSQL connection string of 1..%d bytes: a postgres:// or "
		    "postgresql:// URL or libpq key=value pairs (the value is not shown: it may "
		    "hold a password)", from, PW_STORE_URL_BYTES_MAX);
	}
	return PW_OK;
}

static pw_status
flag_store(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return store_url_set(cfg, v, "--store", why, why_size);
}

static pw_status
flag_map_size(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, PW_MAP_SIZE_MAX, true, &n) || n < PW_MAP_SIZE_MIN) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--map-size takes %llu..%llu bytes (suffix k, m or g allowed)",
		    (unsigned long long) PW_MAP_SIZE_MIN, (unsigned long long) PW_MAP_SIZE_MAX);
	}
	cfg->map_size_bytes = n;
	return PW_OK;
}

static pw_status
flag_sync(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (strcmp(v, "full") == 0) {
		cfg->sync = STORE_SYNC_FULL;
	} else if (strcmp(v, "meta") == 0) {
		cfg->sync = STORE_SYNC_META;
	} else if (strcmp(v, "none") == 0) {
		cfg->sync = STORE_SYNC_NONE;
	} else {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--sync takes full, meta or none");
	}
	return PW_OK;
}

static pw_status
flag_contexts(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, PW_SRV_CONTEXTS_MAX, false, &n) || n < 1) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--contexts takes 1..%d",
		    PW_SRV_CONTEXTS_MAX);
	}
	cfg->contexts = (uint32_t) n;
	return PW_OK;
}

static pw_status
flag_public_url(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (!srv_validate_url(v) || !pw_strlcpy(cfg->public_url, v, sizeof(cfg->public_url))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--public-url takes an http:// or https:// URL with a host (at most %d bytes)",
		    PW_URL_BYTES_MAX);
	}
	return PW_OK;
}

static pw_status
flag_log_level(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (!pw_log_level_parse(v, &cfg->log_level)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--log-level takes debug, info, warn or error");
	}
	return PW_OK;
}

static pw_status
flag_log_format(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (!pw_log_format_parse(v, &cfg->log_format)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--log-format takes text or json");
	}
	return PW_OK;
}

static pw_status
flag_metrics_listen(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	srv_metrics_addr a;

	if (!srv_metrics_addr_parse(v, &a) || !pw_strlcpy(cfg->metrics_listen, v,
	    sizeof(cfg->metrics_listen))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--metrics-listen takes HOST:PORT with HOST an IPv4 address, [IPv6] or "
		    "localhost and PORT 1..65535");
	}
	return PW_OK;
}

static pw_status
flag_config(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (v[0] == '\0' || !pw_strlcpy(cfg->config_file, v, sizeof(cfg->config_file))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--config takes a file path");
	}
	return PW_OK;
}

static pw_status
flag_tolerance(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, PW_WEBHOOK_TOLERANCE_S_MAX, false, &n) || n < 1) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--webhook-tolerance-s takes 1..%d",
		    PW_WEBHOOK_TOLERANCE_S_MAX);
	}
	cfg->webhook_tolerance_s = (int64_t) n;
	return PW_OK;
}

static pw_status
flag_drain(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, PW_SRV_DRAIN_TIMEOUT_MS_MAX, false, &n)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--drain-timeout-ms takes 0..%d",
		    PW_SRV_DRAIN_TIMEOUT_MS_MAX);
	}
	cfg->drain_timeout_ms = (int64_t) n;
	return PW_OK;
}

/* --stripe-api / --razorpay-api: an http(s) URL with a host; trailing '/'
 * dropped. http:// is accepted here and refused at start unless
 * --provider-allow-http is given too. */
static pw_status
flag_api_url(char *dst, size_t size, const char *name, const char *v, char *why,
    size_t why_size)
{
	size_t n = strlen(v);

	while (n > 0 && v[n - 1] == '/') {
		n--;
	}
	if ((strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0) ||
	    n <= (size_t) (v[4] == 's' ? 8 : 7) || n >= size || strchr(v, '@') != NULL) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--%s takes an https:// URL with a host and no credentials (at most %zu bytes)",
		    name, size - 1);
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
	return PW_OK;
}

static pw_status
flag_stripe_api(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_api_url(cfg->stripe_api, sizeof(cfg->stripe_api), "stripe-api", v, why,
	    why_size);
}

static pw_status
flag_razorpay_api(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_api_url(cfg->razorpay_api, sizeof(cfg->razorpay_api), "razorpay-api", v, why,
	    why_size);
}

static pw_status
flag_provider_ca(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (v[0] == '\0' || !pw_strlcpy(cfg->provider_ca_file, v, sizeof(cfg->provider_ca_file))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--provider-ca-file takes a file (1..%d bytes)", SRV_CONFIG_PATH_BYTES - 1);
	}
	return PW_OK;
}

static pw_status
flag_provider_workers(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, PW_SRV_PROVIDER_WORKERS_MAX, false, &n) || n == 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--provider-workers takes 1..%d",
		    PW_SRV_PROVIDER_WORKERS_MAX);
	}
	cfg->provider_workers = (uint32_t) n;
	return PW_OK;
}

static pw_status
flag_provider_timeout(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, PW_SRV_PROVIDER_TIMEOUT_MS_MAX, false, &n) || n < 1000) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--provider-timeout-ms takes 1000..%d",
		    PW_SRV_PROVIDER_TIMEOUT_MS_MAX);
	}
	cfg->provider_timeout_ms = (uint32_t) n;
	return PW_OK;
}

static pw_status
flag_notify_u32(uint32_t *out, const char *name, uint64_t lo, uint64_t hi, const char *v,
    char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, hi, false, &n) || n < lo) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--%s takes %llu..%llu", name,
		    (unsigned long long) lo, (unsigned long long) hi);
	}
	*out = (uint32_t) n;
	return PW_OK;
}

static pw_status
flag_notify_workers(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_notify_u32(&cfg->notify_workers, "notify-workers", 1, PW_NOTIFY_WORKERS_MAX, v,
	    why, why_size);
}

static pw_status
flag_notify_timeout(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_notify_u32(&cfg->notify_timeout_ms, "notify-timeout-ms", 500, 120000, v, why,
	    why_size);
}

static pw_status
flag_notify_per_endpoint(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_notify_u32(&cfg->notify_per_endpoint, "notify-per-endpoint", 1, 64, v, why,
	    why_size);
}

/* --smtp-url: smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT], no
 * credentials in it (PAYWIRE_SMTP_USER/PASSWORD), no path. */
static pw_status
flag_smtp_url(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	size_t skip = strncmp(v, "smtps://", 8) == 0 ? 8 : strncmp(v, "smtp://", 7) == 0 ? 7 : 0;
	size_t n = strlen(v);

	if (skip == 0 || n <= skip || n >= sizeof(cfg->smtp_url) || strpbrk(v + skip, "@/?# ") != NULL) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--smtp-url takes smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT], without "
		    "credentials (PAYWIRE_SMTP_USER/PAYWIRE_SMTP_PASSWORD) or a path (at most %zu "
		    "bytes)", sizeof(cfg->smtp_url) - 1);
	}
	memcpy(cfg->smtp_url, v, n + 1);
	return PW_OK;
}

static pw_status
flag_smtp_from(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	if (!prov_smtp_addr_ok(v) || !pw_strlcpy(cfg->smtp_from, v, sizeof(cfg->smtp_from))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--smtp-from takes a plain address local@domain (no display name, at most %d "
		    "bytes)", PW_NOTIFY_ADDR_BYTES_MAX);
	}
	return PW_OK;
}

static pw_status
flag_telegram_api(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_api_url(cfg->telegram_api, sizeof(cfg->telegram_api), "telegram-api", v, why,
	    why_size);
}

/* --rate-X RATE[/s|/m|/h][:BURST]: RATE requests per second (or minute, or
 * hour; 0: no limit), BURST (default 2 x RATE, at least 1). */
static pw_status
flag_rate(srv_config *cfg, int cls, const char *name, const char *v, char *why, size_t why_size)
{
	if (pw_rate_parse(v, PW_RATE_MAX, &cfg->rate_interval_us[cls], &cfg->rate_burst[cls])) {
		return PW_OK;
	}
	return pw_why(why, why_size, PW_INVALID_ARGUMENT,
	    "--%s takes RATE[/s|/m|/h][:BURST]: 0..%d requests per second (minute, hour; 0: "
	    "no limit) and a burst 1..%d", name, PW_RATE_MAX, PW_RATE_MAX);
}

static pw_status
flag_rate_reads(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_rate(cfg, 0, "rate-reads", v, why, why_size);
}

static pw_status
flag_rate_writes(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_rate(cfg, 1, "rate-writes", v, why, why_size);
}

static pw_status
flag_rate_provider(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	return flag_rate(cfg, 2, "rate-provider", v, why, why_size);
}

#ifdef PW_TEST_HOOKS
static pw_status
flag_writer_delay(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, SRV_TEST_WRITER_DELAY_MS_MAX, false, &n)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--test-writer-delay-ms takes 0..%d",
		    SRV_TEST_WRITER_DELAY_MS_MAX);
	}
	cfg->test_writer_delay_ms = (uint32_t) n;
	return PW_OK;
}

static pw_status
flag_lastused_check(srv_config *cfg, const char *v, char *why, size_t why_size)
{
	uint64_t n;

	if (!parse_u64(v, (uint64_t) PW_APIKEY_LASTUSED_CHECK_MS, false, &n)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--test-lastused-check-ms takes 0..%lld", PW_APIKEY_LASTUSED_CHECK_MS);
	}
	cfg->test_lastused_set = true;
	cfg->test_lastused_check_ms = (uint32_t) n;
	return PW_OK;
}
#endif

typedef struct flag_def {
	const char *name; /* without the leading "--" */
	flag_fn fn;       /* NULL: a switch without a value */
} flag_def;

static const flag_def flags[] = {
	{ .name = "listen", .fn = flag_listen },
	{ .name = "publish", .fn = flag_publish },
	{ .name = "data", .fn = flag_data },
	{ .name = "store", .fn = flag_store },
	{ .name = "map-size", .fn = flag_map_size },
	{ .name = "sync", .fn = flag_sync },
	{ .name = "contexts", .fn = flag_contexts },
	{ .name = "public-url", .fn = flag_public_url },
	{ .name = "log-level", .fn = flag_log_level },
	{ .name = "log-format", .fn = flag_log_format },
	{ .name = "metrics-listen", .fn = flag_metrics_listen },
	{ .name = "config", .fn = flag_config },
	{ .name = "webhook-tolerance-s", .fn = flag_tolerance },
	{ .name = "drain-timeout-ms", .fn = flag_drain },
	{ .name = "stripe-api", .fn = flag_stripe_api },
	{ .name = "razorpay-api", .fn = flag_razorpay_api },
	{ .name = "provider-ca-file", .fn = flag_provider_ca },
	{ .name = "provider-workers", .fn = flag_provider_workers },
	{ .name = "provider-timeout-ms", .fn = flag_provider_timeout },
	{ .name = "notify-workers", .fn = flag_notify_workers },
	{ .name = "notify-timeout-ms", .fn = flag_notify_timeout },
	{ .name = "notify-per-endpoint", .fn = flag_notify_per_endpoint },
	{ .name = "smtp-url", .fn = flag_smtp_url },
	{ .name = "smtp-from", .fn = flag_smtp_from },
	{ .name = "telegram-api", .fn = flag_telegram_api },
	{ .name = "rate-reads", .fn = flag_rate_reads },
	{ .name = "rate-writes", .fn = flag_rate_writes },
	{ .name = "rate-provider", .fn = flag_rate_provider },
#ifdef PW_TEST_HOOKS
	{ .name = "test-writer-delay-ms", .fn = flag_writer_delay },
	{ .name = "test-lastused-check-ms", .fn = flag_lastused_check },
#endif
	{ .name = "read-only", .fn = NULL },
	{ .name = "unsafe-no-fsync", .fn = NULL },
	{ .name = "provider-allow-http", .fn = NULL },
	{ .name = "metrics-allow-public", .fn = NULL },
	{ .name = "notify-allow-http", .fn = NULL },
	{ .name = "notify-allow-private", .fn = NULL },
	{ .name = "smtp-allow-plain", .fn = NULL },
	{ .name = "telegram-allow-http", .fn = NULL },
	{ .name = "help", .fn = NULL },
	{ .name = "version", .fn = NULL },
};

static void
flag_switch(srv_config *cfg, const char *name)
{
	if (strcmp(name, "read-only") == 0) {
		cfg->read_only = true;
	} else if (strcmp(name, "unsafe-no-fsync") == 0) {
		cfg->unsafe_no_fsync = true;
	} else if (strcmp(name, "provider-allow-http") == 0) {
		cfg->provider_allow_http = true;
	} else if (strcmp(name, "metrics-allow-public") == 0) {
		cfg->metrics_allow_public = true;
	} else if (strcmp(name, "notify-allow-http") == 0) {
		cfg->notify_allow_http = true;
	} else if (strcmp(name, "notify-allow-private") == 0) {
		cfg->notify_allow_private = true;
	} else if (strcmp(name, "smtp-allow-plain") == 0) {
		cfg->smtp_allow_plain = true;
	} else if (strcmp(name, "telegram-allow-http") == 0) {
		cfg->telegram_allow_http = true;
	} else if (strcmp(name, "help") == 0) {
		cfg->help = true;
	} else {
		PW_ASSERT(strcmp(name, "version") == 0);
		cfg->version = true;
	}
}

static const flag_def *
flag_find(const char *arg, size_t len)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, arg, len) == 0) {
			return &flags[i];
		}
	}
	return NULL;
}

pw_status
srv_config_parse(srv_config *cfg, int argc, char **argv, char *why, size_t why_size)
{
	PW_ASSERT(cfg != NULL && argv != NULL && why != NULL);
	why[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq;
		const char *value;
		const flag_def *f;
		pw_status rv;

		if (strncmp(arg, "--", 2) != 0) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT, "unexpected argument '%s'", arg);
		}
		arg += 2;
		eq = strchr(arg, '=');
		f = flag_find(arg, eq != NULL ? (size_t) (eq - arg) : strlen(arg));
		if (f == NULL) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT, "unknown flag '%s' (see --help)",
			    argv[i]);
		}
		if (f->fn == NULL) {
			if (eq != NULL) {
				return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--%s takes no value", f->name);
			}
			flag_switch(cfg, f->name);
			continue;
		}
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT, "--%s needs a value", f->name);
		}
		rv = f->fn(cfg, value, why, why_size);
		if (rv != PW_OK) {
			return rv;
		}
	}
	return PW_OK;
}

pw_status
srv_config_finish(srv_config *cfg, char *why, size_t why_size)
{
	char ipc[SRV_CONFIG_URL_BYTES];
	int n;

	PW_ASSERT(cfg != NULL && why != NULL);
	if (cfg->store_url[0] == '\0' && getenv("PAYWIRE_STORE") != NULL &&
	    getenv("PAYWIRE_STORE")[0] != '\0') {
		pw_status rv = store_url_set(cfg, getenv("PAYWIRE_STORE"), "PAYWIRE_STORE", why,
		    why_size);

		if (rv != PW_OK) {
			return rv;
		}
	}
	if (cfg->sync != STORE_SYNC_FULL && !cfg->unsafe_no_fsync) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--sync %s skips %s: an OS crash or power loss may lose payments already "
		    "answered OK. Pass --unsafe-no-fsync as well to accept that (tests and "
		    "benchmarks only)",
		    srv_config_sync_name(cfg->sync),
		    cfg->store_url[0] != '\0' ? "waiting for the commit's flush "
		                                 "(synchronous_commit off)" :
		    cfg->sync == STORE_SYNC_NONE ? "every fsync (MDB_NOSYNC)"
		                                 : "the meta-page fsync (MDB_NOMETASYNC)");
	}
	if (cfg->listen_count > 0) {
		return PW_OK;
	}
	n = snprintf(ipc, sizeof(ipc), "ipc://%s/%s", cfg->data_dir, SRV_IPC_SOCKET_NAME);
	/* sockaddr_un.sun_path holds 107 bytes plus the NUL. */
	if (n < 0 || (size_t) n - 6 > 107) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "the default IPC path %s/%s is longer than 107 bytes: pass --listen explicitly",
		    cfg->data_dir, SRV_IPC_SOCKET_NAME);
	}
	(void) pw_strlcpy(cfg->listen[0], SRV_DEFAULT_TCP_URL, SRV_CONFIG_URL_BYTES);
	(void) pw_strlcpy(cfg->listen[1], ipc, SRV_CONFIG_URL_BYTES);
	cfg->listen_count = 2;
	return PW_OK;
}

/* ---- secrets other than webhook secrets ---- */

/* One secret variable: unset is fine (the caller's default applies); set,
 * it must be min..max bytes of printable ASCII without space. why names the
 * variable and an offset, never a byte of the value. */
static pw_status
secret_var_check(const char *var, size_t min, size_t max, const char *unset_means, char *why,
    size_t why_size)
{
	const char *v = getenv(var);
	size_t len;

	if (v == NULL) {
		return PW_OK;
	}
	len = strnlen(v, max + 1);
	if (len == 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s is set but empty: give it %zu..%zu bytes, or unset it (%s)", var, min, max,
		    unset_means);
	}
	if (len < min || len > max) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s is %s than %zu bytes: it must be %zu..%zu bytes (e.g. head -c 32 /dev/urandom "
		    "| base64)",
		    var, len < min ? "shorter" : "longer", len < min ? min : max, min, max);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) v[i];
		if (c <= 0x20 || c >= 0x7f) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "%s: byte %zu is %s; it takes printable ASCII without spaces and is never "
			    "trimmed",
			    var, i + 1,
			    i + 1 == len && (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			        ? "trailing whitespace (a newline from a file?)"
			        : "whitespace, a control byte or not ASCII");
		}
	}
	return PW_OK;
}

pw_status
srv_config_secrets_check(char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(why != NULL && why_size > 0);
	why[0] = '\0';
	rv = secret_var_check("PAYWIRE_ADMIN_KEY", PW_SECRET_BYTES_MIN, PW_ADMIN_KEY_BYTES_MAX,
	    "admin calls then answer PERMISSION_DENIED", why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	return secret_var_check("PAYWIRE_TOKEN_SECRET", PW_TOKEN_SECRET_BYTES_MIN,
	    PW_TOKEN_SECRET_BYTES_MAX, "the key is then derived from <data>/paywire.key", why,
	    why_size);
}

/* ---- config file ---- */

static int
config_key_index(const char *key, size_t len)
{
	for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
		if (strlen(config_keys[i]) == len && strncmp(config_keys[i], key, len) == 0) {
			return (int) i;
		}
	}
	return -1;
}

/* One KEY=VALUE line (NUL-terminated, no newline); line_no for messages. */
static pw_status
config_line(char *line, int line_no, bool seen[CONFIG_KEY_COUNT], char *why, size_t why_size)
{
	char *eq;
	char *value;
	size_t vlen;
	int k;

	while (*line == ' ' || *line == '\t') {
		line++;
	}
	if (*line == '\0' || *line == '#') {
		return PW_OK;
	}
	if (strchr(line, '\r') != NULL) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "line %d: carriage return (save the file with Unix line endings)", line_no);
	}
	eq = strchr(line, '=');
	k = eq != NULL ? config_key_index(line, (size_t) (eq - line)) : -1;
	if (k < 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "line %d: expected KEY=VALUE with KEY one of the PAYWIRE_* variables in --help",
		    line_no);
	}
	if (seen[k]) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "line %d: %s is set twice", line_no,
		    config_keys[k]);
	}
	seen[k] = true;
	value = eq + 1;
	vlen = strlen(value);
	if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
		value[vlen - 1] = '\0';
		value++;
	}
	if (getenv(config_keys[k]) != NULL) {
		pw_log(PW_LOG_INFO, "config: %s is set in the environment; the file's value is ignored",
		    config_keys[k]);
		return PW_OK;
	}
	if (setenv(config_keys[k], value, 0) != 0) {
		return pw_why(why, why_size, PW_UNAVAILABLE, "line %d: setenv failed", line_no);
	}
	return PW_OK;
}

static pw_status
config_open(const char *path, int *fd_out, size_t *size_out, char *why, size_t why_size)
{
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return pw_why(why, why_size, PW_NOT_FOUND, "cannot open config file %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		(void) close(fd);
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "config file %s is not a regular file",
		    path);
	}
	if (sb.st_uid != geteuid() || (sb.st_mode & 077) != 0) {
		(void) close(fd);
		return pw_why(why, why_size, PW_PERMISSION_DENIED,
		    "config file %s holds secrets: it must be owned by uid %u with mode 0600, "
		    "found uid %u mode %04o (chmod 600 %s)",
		    path, (unsigned) geteuid(), (unsigned) sb.st_uid, (unsigned) (sb.st_mode & 07777),
		    path);
	}
	if (sb.st_size > PW_CONFIG_FILE_BYTES_MAX) {
		(void) close(fd);
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "config file %s is over %d bytes", path,
		    PW_CONFIG_FILE_BYTES_MAX);
	}
	*fd_out = fd;
	*size_out = (size_t) sb.st_size;
	return PW_OK;
}

pw_status
srv_config_file_load(const char *path, char *why, size_t why_size)
{
	char *buf;
	size_t size = 0;
	size_t got = 0;
	bool seen[CONFIG_KEY_COUNT] = { false };
	pw_status rv;
	int fd = -1;
	int line_no = 0;

	PW_ASSERT(path != NULL && why != NULL);
	why[0] = '\0';
	rv = config_open(path, &fd, &size, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	buf = malloc(size + 1);
	if (buf == NULL) {
		(void) close(fd);
		return pw_why(why, why_size, PW_UNAVAILABLE, "out of memory");
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n <= 0) {
			break;
		}
		got += (size_t) n;
	}
	(void) close(fd);
	buf[got] = '\0';
	if (strlen(buf) != got) {
		rv = pw_why(why, why_size, PW_INVALID_ARGUMENT, "config file %s contains a NUL byte", path);
	}
	for (char *line = buf; rv == PW_OK && line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (nl != NULL) {
			*nl = '\0';
		}
		rv = config_line(line, ++line_no, seen, why, why_size);
		line = nl != NULL ? nl + 1 : NULL;
	}
	sodium_memzero(buf, size + 1);
	free(buf);
	return rv;
}

/* ---- --help ---- */

void
srv_config_usage(FILE *out, const char *prog)
{
	fprintf(out,
	    "usage: %s [flags]\n"
	    "\n"
	    "paywire-server %s: payment sessions over nng REQ/REP + protobuf (%s).\n"
	    "\n"
	    "Flags (--flag VALUE or --flag=VALUE):\n"
	    "  --listen URL            listen on URL; repeatable, at most %d. tcp://HOST:PORT or\n"
	    "                          ipc://PATH (IPC sockets get mode 0600). Default: %s and\n"
	    "                          ipc://<data>/%s\n"
	    "  --data DIR              data directory (LMDB env + paywire.key), created 0700.\n"
	    "                          Default: %s\n"
	    "  --store URL             keep the data in PostgreSQL instead of LMDB: a libpq\n"
	    "                          connection string, postgres://USER@HOST/DB?... or\n"
	    "                          'host=... dbname=...'; multi-host URLs with\n"
	    "                          target_session_attrs=read-write follow a failover.\n"
	    "                          Several servers may share one database; each needs the\n"
	    "                          same <data>/paywire.key. Prefer PAYWIRE_STORE (below):\n"
	    "                          a flag is visible to other users in ps. docs/POSTGRES.md\n"
	    "  --map-size BYTES        LMDB map size, %llu..%llu, suffix k/m/g allowed. A full map\n"
	    "                          answers RESOURCE_EXHAUSTED to writes; reads go on.\n"
	    "                          Default: %llu (1g)\n"
	    "  --read-only             open the store read-only: every write answers UNAVAILABLE\n"
	    "  --sync full|meta|none   durability of each commit (default full). On PostgreSQL,\n"
	    "                          full is synchronous_commit on (flushed, and on a\n"
	    "                          synchronous standby too), meta and none are off. LMDB:\n"
	    "                            full  fsync data and meta pages: an OK reply is on disk\n"
	    "                                  and survives power loss.\n"
	    "                            meta  skip the meta-page fsync (MDB_NOMETASYNC): an OS\n"
	    "                                  crash or power loss may lose the last commits\n"
	    "                                  (already answered OK); never corrupts.\n"
	    "                            none  no fsync (MDB_NOSYNC): an OS crash or power loss may\n"
	    "                                  lose recent commits that were answered OK. Process\n"
	    "                                  crashes lose nothing. Tests and benchmarks only.\n"
	    "                          meta and none are refused (exit 2) without --unsafe-no-fsync.\n"
	    "  --unsafe-no-fsync       accept --sync meta or none: says out loud that OK replies\n"
	    "                          may be lost by an OS crash or power cut\n"
	    "  --contexts N            concurrent requests in flight (nng contexts), 1..%d.\n"
	    "                          Default: %d\n"
	    "  --public-url URL        base of checkout links: session.url = URL/checkout?session=ID.\n"
	    "                          Default: %s\n"
	    "  --log-level LEVEL       debug|info|warn|error (info: one line per request with\n"
	    "                          its request id, trace id, call, status and latency, and\n"
	    "                          one per state change). Default: info. Secrets are never\n"
	    "                          logged.\n"
	    "  --log-format FORMAT     text|json: json writes one JSON object per line\n"
	    "                          ({\"ts\",\"level\",\"msg\"}). Default: text\n"
	    "  --config FILE           KEY=VALUE lines setting the PAYWIRE_* variables below\n"
	    "                          (# comments; one pair of surrounding quotes removed).\n"
	    "                          Refused unless owned by you with mode 0600 (or 0400).\n"
	    "                          A variable already in the environment wins over the file.\n"
	    "  --webhook-tolerance-s N accepted age of a signed webhook timestamp, both ways,\n"
	    "                          1..%d. Default: %d\n"
	    "  --drain-timeout-ms N    on SIGTERM/SIGINT, how long to wait for requests in\n"
	    "                          flight, 0..%d. Default: %d\n"
#ifdef PW_TEST_HOOKS
	    "  --test-writer-delay-ms N  (test builds) the writer sleeps N ms before each batch,\n"
	    "                          0..%d, to provoke REQ re-sends.\n"
	    "  --test-lastused-check-ms N  (test builds) how often a committing batch may carry\n"
	    "                          the API key last-used flush, 0..10000 (0: every one).\n"
#endif
	    "  --version               print the version and exit\n"
	    "  --help                  print this help and exit\n",
	    prog, PW_VERSION_STRING, PW_WIRE_PACKAGE, PW_SRV_LISTEN_MAX, SRV_DEFAULT_TCP_URL,
	    SRV_IPC_SOCKET_NAME, SRV_DEFAULT_DATA_DIR, (unsigned long long) PW_MAP_SIZE_MIN,
	    (unsigned long long) PW_MAP_SIZE_MAX, (unsigned long long) PW_MAP_SIZE_DEFAULT,
	    PW_SRV_CONTEXTS_MAX, PW_SRV_CONTEXTS_DEFAULT, SRV_DEFAULT_PUBLIC_URL,
	    PW_WEBHOOK_TOLERANCE_S_MAX, PW_WEBHOOK_TOLERANCE_S, PW_SRV_DRAIN_TIMEOUT_MS_MAX,
	    PW_SRV_DRAIN_TIMEOUT_MS_DEFAULT
#ifdef PW_TEST_HOOKS
	    ,
	    SRV_TEST_WRITER_DELAY_MS_MAX
#endif
	);
	fputs("  --metrics-listen HOST:PORT  serve Prometheus metrics (GET /metrics, text format)\n"
	      "                          on HOST:PORT; HOST must be a loopback address unless\n"
	      "                          --metrics-allow-public is given. Default: off\n"
	      "  --metrics-allow-public  let --metrics-listen bind a non-loopback address (the\n"
	      "                          metrics carry no secret, but call counts are business\n"
	      "                          data: firewall it)\n",
	    out);
	fputs("  --publish URL           the change feed: send every committed event (the audit\n"
	      "                          record of each change) on an nng PUB socket at URL\n"
	      "                          (tcp://HOST:PORT or ipc://PATH) after its commit; a message\n"
	      "                          is the merchant id, a 0x00 byte, a packed paywire.v1.Event.\n"
	      "                          It carries every merchant's events: bind it to a private\n"
	      "                          address. Subscribers fill gaps with ListEvents. Default: off\n",
	    out);
	fprintf(out,
	    "  --stripe-api URL        Stripe's API, where paywire creates Checkout Sessions\n"
	    "                          (CreateSession.provider). Default: %s\n"
	    "  --razorpay-api URL      Razorpay's API (Orders). Default: %s\n"
	    "  --provider-ca-file FILE extra CA bundle for the providers' TLS (system CAs too)\n"
	    "  --provider-allow-http   accept http:// provider URLs: for the tests' local\n"
	    "                          stand-ins only, never in production\n"
	    "  --provider-workers N    threads making provider calls, 1..%d. Default: %d\n"
	    "  --provider-timeout-ms N one provider step, retries included, 1000..%d.\n"
	    "                          Default: %d\n"
	    "  --rate-reads R[:B]      per merchant: R reads per second (R/m, R/h: per minute,\n"
	    "                          hour) and a burst B (default %d:%d); over it\n"
	    "                          RESOURCE_EXHAUSTED with Status.retry_after_ms\n"
	    "  --rate-writes R[:B]     writes (default %d:%d)\n"
	    "  --rate-provider R[:B]   calls that reach a provider (default %d:%d); R 0: no limit\n"
	    "\n",
	    SRV_DEFAULT_STRIPE_API, SRV_DEFAULT_RAZORPAY_API, PW_SRV_PROVIDER_WORKERS_MAX,
	    PW_SRV_PROVIDER_WORKERS_DEFAULT, PW_SRV_PROVIDER_TIMEOUT_MS_MAX,
	    PW_SRV_PROVIDER_TIMEOUT_MS_DEFAULT, PW_RATE_READS_DEFAULT, PW_RATE_READS_BURST_DEFAULT,
	    PW_RATE_WRITES_DEFAULT, PW_RATE_WRITES_BURST_DEFAULT, PW_RATE_PROVIDER_DEFAULT,
	    PW_RATE_PROVIDER_BURST_DEFAULT);
	fprintf(out,
	    "Notifications to merchants (docs/NOTIFY.md): Standard Webhooks to the endpoints\n"
	    "merchants register (paywire notify endpoint create); at least once, retried after\n"
	    "5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h and 24h (+-10%% jitter; ~3 days, 10 attempts),\n"
	    "then a dead letter; 410 Gone disables an endpoint at once, %d days without a\n"
	    "success while failing too.\n"
	    "  --notify-workers N      delivery threads, 1..%d. Default: %d\n"
	    "  --notify-timeout-ms N   one delivery in all (connect %d ms), 500..120000.\n"
	    "                          Default: %d\n"
	    "  --notify-per-endpoint N deliveries at once to one endpoint, 1..64. Default: %d\n"
	    "  --notify-allow-http     accept http:// endpoints (tests only; https otherwise)\n"
	    "  --notify-allow-private  accept endpoints on loopback, link-local and private\n"
	    "                          addresses (tests only; refused otherwise, at creation\n"
	    "                          and at every delivery)\n"
	    "Two more endpoint kinds carry the same messages as short texts:\n"
	    "  --smtp-url URL          email endpoints: the relay, smtp://HOST[:PORT] (STARTTLS\n"
	    "                          required) or smtps://HOST[:PORT]; with --smtp-from.\n"
	    "                          AUTH from PAYWIRE_SMTP_USER / PAYWIRE_SMTP_PASSWORD.\n"
	    "                          Default: none (email endpoints are refused)\n"
	    "  --smtp-from ADDR        the sender of those mails (local@domain)\n"
	    "  --smtp-allow-plain      a relay on loopback without TLS (tests, a local MTA)\n"
	    "  --telegram-api URL      Telegram endpoints (a chat id each) go through the Bot\n"
	    "                          API here with PAYWIRE_TELEGRAM_BOT_TOKEN (unset:\n"
	    "                          Telegram endpoints are refused). Default: %s\n"
	    "  --telegram-allow-http   an http:// --telegram-api on loopback (tests' stand-in)\n"
	    "\n",
	    (int) (PW_NOTIFY_DISABLE_AFTER_MS / (24 * 3600 * 1000LL)), PW_NOTIFY_WORKERS_MAX,
	    PW_NOTIFY_WORKERS, PW_NOTIFY_CONNECT_MS, PW_NOTIFY_ATTEMPT_MS,
	    PW_NOTIFY_INFLIGHT_PER_ENDPOINT, PW_TELEGRAM_API_DEFAULT);
	fprintf(out,
	    "Environment (or --config FILE):\n"
	    "  PAYWIRE_ADMIN_KEY               key for admin calls (create_merchant,\n"
	    "                                  revoke_api_key, verify_audit), %d..%d bytes.\n"
	    "                                  Unset: admin calls answer PERMISSION_DENIED.\n"
	    "  PAYWIRE_TOKEN_SECRET            HS256 key of customer access links, %d..%d bytes.\n"
	    "                                  Unset: derived from <data>/paywire.key.\n"
	    "                                  Secrets: printable ASCII, no spaces, never trimmed;\n"
	    "                                  set but empty, too short or malformed: exit %d.\n",
	    PW_SECRET_BYTES_MIN, PW_ADMIN_KEY_BYTES_MAX, PW_TOKEN_SECRET_BYTES_MIN,
	    PW_TOKEN_SECRET_BYTES_MAX, SRV_EXIT_USAGE);
	srv_webhook_help(out); /* one line per provider: its secret variable */
	fprintf(out,
	    "                                  Several at once (rotation): separated by commas\n"
	    "                                  or spaces; formats in docs/WEBHOOKS.md; each key at\n"
	    "                                  least %d bytes. A provider without a secret\n"
	    "                                  answers UNAVAILABLE.\n"
	    "  PAYWIRE_WEB3_MIN_CONFIRMATIONS  network:count,... e.g. base:5,ethereum:20\n"
	    "  PAYWIRE_STORE                   as --store (which wins); keeps a password out of ps\n"
	    "  PAYWIRE_SMTP_USER, PAYWIRE_SMTP_PASSWORD  the relay's AUTH (--smtp-url)\n"
	    "  PAYWIRE_TELEGRAM_BOT_TOKEN      the bot that sends Telegram endpoints' messages\n"
#ifdef PW_TEST_HOOKS
	    "  PAYWIRE_CRASHPOINT=name[:n]     (test builds) abort at a named crash point\n"
	    "  PAYWIRE_FAIL_ALLOC=n            (test builds) fail the n-th allocation\n"
	    "  PAYWIRE_TEST_CLOCK_FILE=PATH    (test builds) the clock: an int64 of ms since\n"
	    "                                  1970 (native order) in the file's first 8 bytes,\n"
	    "                                  read at every use; 0: the real time\n"
#endif
	    "\n"
	    "Signals: SIGTERM/SIGINT stop taking new requests (they answer UNAVAILABLE), wait\n"
	    "for requests in flight (--drain-timeout-ms), commit queued writes and exit 0.\n"
	    "\n"
	    "Exit codes: %d clean stop, %d could not start (store, listener),\n"
	    "%d bad flag, config file or secret, %d the store failed (I/O error at commit):\n"
	    "restart the server (a supervisor should).\n",
	    PW_SECRET_BYTES_MIN, SRV_EXIT_OK, SRV_EXIT_START, SRV_EXIT_USAGE, SRV_EXIT_STORE_FAILED);
}
