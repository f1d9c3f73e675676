/*
 * srv_config.h - paywire-server's command line and config file.
 *
 * OWNS
 * - srv_config: every flag of paywire-server, parsed from argv into caller
 *   memory (fixed buffers, no allocation). Secrets are NOT in it: they come
 *   from the environment (PAYWIRE_*), which a --config file may fill.
 * - srv_config_file_load: reads a KEY=VALUE file of PAYWIRE_* variables,
 *   refusing it unless it is a regular file owned by the current user with no
 *   group/other permission bits (0600 or 0400), and sets each variable that
 *   the environment does not already set (the environment wins).
 * - srv_config_usage: the --help text (every flag and environment variable).
 *
 * THREADS
 * Startup thread only (setenv/getenv are not thread-safe).
 *
 * LIMITS
 * PW_SRV_LISTEN_MAX listeners, SRV_CONFIG_PATH_BYTES per path,
 * PW_CONFIG_FILE_BYTES_MAX per config file, the ranges in srv_config_usage.
 */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "srv_metrics.h"
#include "srv_rpc.h"
#include "store.h"

/* Paths (data dir, config file): PATH_MAX-sized, and an ipc:// URL under the
 * data dir must still fit a sockaddr_un (108 bytes) - checked at listen. */
#define SRV_CONFIG_PATH_BYTES 4096
/* A listen URL: "tcp://[v6 address]:port" or "ipc://" + a path. */
#define SRV_CONFIG_URL_BYTES (SRV_CONFIG_PATH_BYTES + 16)
/* --test-writer-delay-ms (test builds). */
#define SRV_TEST_WRITER_DELAY_MS_MAX 60000

#define SRV_DEFAULT_TCP_URL "tcp://127.0.0.1:7450"
#define SRV_DEFAULT_DATA_DIR "./data"
#define SRV_DEFAULT_PUBLIC_URL "http://127.0.0.1:8080"
#define SRV_IPC_SOCKET_NAME "paywire.sock"
#define SRV_DEFAULT_STRIPE_API "https://api.stripe.com"
#define SRV_DEFAULT_RAZORPAY_API "https://api.razorpay.com"

/* Exit codes of paywire-server. */
#define SRV_EXIT_OK 0
#define SRV_EXIT_START 1        /* could not start: store, listener */
#define SRV_EXIT_USAGE 2        /* bad flag, config file or secret (named, never shown) */
#define SRV_EXIT_STORE_FAILED 3 /* the store failed (I/O error at commit): restart me */

typedef struct srv_config {
	char listen[PW_SRV_LISTEN_MAX][SRV_CONFIG_URL_BYTES]; /* --listen URLs */
	size_t listen_count;                  /* 0 until defaults are applied */
	char data_dir[SRV_CONFIG_PATH_BYTES]; /* --data */
	char store_url[PW_STORE_URL_BYTES_MAX + 1]; /* --store or PAYWIRE_STORE ("": LMDB in
	                                          --data); a secret: never logged */
	uint64_t map_size_bytes;              /* --map-size (0: store default) */
	store_sync sync;                      /* --sync */
	bool read_only;                       /* --read-only */
	bool unsafe_no_fsync;                 /* --unsafe-no-fsync: accept --sync meta|none */
	uint32_t contexts;                    /* --contexts */
	char public_url[PW_URL_BYTES_MAX + 1]; /* --public-url */
	char publish[SRV_CONFIG_URL_BYTES];   /* --publish ("": no change feed socket) */
	pw_log_level log_level;               /* --log-level */
	pw_log_format log_format;             /* --log-format */
	char metrics_listen[SRV_METRICS_ADDR_BYTES]; /* --metrics-listen HOST:PORT ("": off) */
	bool metrics_allow_public;            /* --metrics-allow-public */
	int64_t webhook_tolerance_s;          /* --webhook-tolerance-s */
	int64_t drain_timeout_ms;             /* --drain-timeout-ms */
	uint32_t test_writer_delay_ms;        /* --test-writer-delay-ms (test builds) */
	bool test_lastused_set;               /* --test-lastused-check-ms given (test builds) */
	uint32_t test_lastused_check_ms;      /* ... its value */
	char stripe_api[PW_URL_BYTES_MAX + 1];   /* --stripe-api: Stripe's API base URL */
	char razorpay_api[PW_URL_BYTES_MAX + 1]; /* --razorpay-api */
	char provider_ca_file[SRV_CONFIG_PATH_BYTES]; /* --provider-ca-file ("": system CAs) */
	bool provider_allow_http;             /* --provider-allow-http (tests' stand-ins) */
	uint32_t provider_workers;            /* --provider-workers */
	uint32_t provider_timeout_ms;         /* --provider-timeout-ms */
	bool notify_allow_http;               /* --notify-allow-http (tests' receivers) */
	bool notify_allow_private;            /* --notify-allow-private (tests' loopback) */
	uint32_t notify_workers;              /* --notify-workers */
	uint32_t notify_timeout_ms;           /* --notify-timeout-ms: one delivery */
	uint32_t notify_per_endpoint;         /* --notify-per-endpoint: deliveries at once */
	char smtp_url[PW_URL_BYTES_MAX + 1];  /* --smtp-url: the relay of email endpoints ("": none) */
	char smtp_from[PW_NOTIFY_ADDR_BYTES_MAX + 1]; /* --smtp-from: their sender */
	bool smtp_allow_plain;                /* --smtp-allow-plain (a loopback relay without TLS) */
	char telegram_api[PW_URL_BYTES_MAX + 1]; /* --telegram-api (default Telegram's) */
	bool telegram_allow_http;             /* --telegram-allow-http (a loopback stand-in) */
	int64_t rate_interval_us[3];          /* --rate-reads/-writes/-provider: one request per
	                                         this many µs (0: no limit) */
	uint32_t rate_burst[3];               /* ... their bursts */
	char config_file[SRV_CONFIG_PATH_BYTES]; /* --config ("" = none) */
	bool help;                            /* --help given */
	bool version;                         /* --version given */
} srv_config;

/* Defaults: no listener yet (see srv_config_finish), ./data, full sync,
 * PW_SRV_CONTEXTS_DEFAULT contexts, http://127.0.0.1:8080, info,
 * PW_WEBHOOK_TOLERANCE_S, PW_SRV_DRAIN_TIMEOUT_MS_DEFAULT. */
void srv_config_init(srv_config *cfg);

/* Parses argv[1..argc) ("--flag value" or "--flag=value"). PW_OK, or
 * PW_INVALID_ARGUMENT with why naming the flag and the accepted range. */
pw_status srv_config_parse(srv_config *cfg, int argc, char **argv, char *why,
    size_t why_size) PW_WUR;

/* After parse: refuses --sync meta or none unless --unsafe-no-fsync is given
 * too (an OK reply could be lost by a power cut: money the caller was told
 * about), then, with no --listen, listens on SRV_DEFAULT_TCP_URL and
 * ipc://<data>/paywire.sock. PW_INVALID_ARGUMENT (why names the flag) for an
 * unconfirmed unsafe sync mode or an IPC path that is too long. */
pw_status srv_config_finish(srv_config *cfg, char *why, size_t why_size) PW_WUR;

/* Loads a config file (see top comment). Lines: blank, "# comment", or
 * KEY=VALUE with KEY one of the PAYWIRE_* variables listed by
 * srv_config_usage; VALUE is taken verbatim up to the end of the line,
 * except that one pair of surrounding double or single quotes is removed
 * (so the file can also be sourced by a shell). PW_OK; PW_PERMISSION_DENIED
 * (mode/owner); PW_INVALID_ARGUMENT (syntax, unknown or repeated key, CR,
 * too big); PW_NOT_FOUND (cannot open). why never contains a value. */
pw_status srv_config_file_load(const char *path, char *why, size_t why_size) PW_WUR;

/* Checks the secrets that are not webhook secrets, from the environment
 * (after srv_config_file_load has filled it):
 *   PAYWIRE_ADMIN_KEY     unset (admin calls answer PERMISSION_DENIED) or
 *                         PW_SECRET_BYTES_MIN..PW_ADMIN_KEY_BYTES_MAX bytes;
 *   PAYWIRE_TOKEN_SECRET  unset (derived from <data>/paywire.key) or
 *                         PW_TOKEN_SECRET_BYTES_MIN..PW_TOKEN_SECRET_BYTES_MAX
 *                         bytes;
 * each, when set, printable ASCII without space or control bytes (a
 * trailing newline is an error, never trimmed); set but empty is refused.
 * PW_OK, or PW_INVALID_ARGUMENT with why naming the variable and the rule,
 * never the value. Webhook secrets: srv_webhook_config_from_env. Not
 * thread-safe (getenv). */
pw_status srv_config_secrets_check(char *why, size_t why_size) PW_WUR;

/* The --help text. */
void srv_config_usage(FILE *out, const char *prog);

/* "full" | "meta" | "none". */
const char *srv_config_sync_name(store_sync s);

#endif
