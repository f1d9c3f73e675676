/*
 * pw_common.h - small shared helpers: assertions, logging, clock, randomness,
 * ids, UTF-8, currency table, crash points, allocation hook.
 * Everything here is thread-safe unless said otherwise.
 */
#ifndef PW_COMMON_H
#define PW_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pw_limits.h"

#include <paywire/status.h>

#define PW_WUR __attribute__((warn_unused_result))

/* PW_ASSERT stays on in release builds: a broken invariant in a payment
 * system must stop the process, not continue with bad state. */
#define PW_ASSERT(expr) \
	((expr) ? (void) 0 : pw_assert_fail(#expr, __FILE__, __LINE__))
#ifdef NDEBUG
#define PW_DEBUG_ASSERT(expr) ((void) 0)
#else
#define PW_DEBUG_ASSERT(expr) PW_ASSERT(expr)
#endif
_Noreturn void pw_assert_fail(const char *expr, const char *file, int line);

/* Logging: one line per call on stderr, "ts level msg". Never log a secret. */
typedef enum pw_log_level { PW_LOG_DEBUG = 0, PW_LOG_INFO, PW_LOG_WARN, PW_LOG_ERROR } pw_log_level;
void pw_log_set_level(pw_log_level lvl);
bool pw_log_enabled(pw_log_level lvl);
void pw_log(pw_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Line format: text "ts level msg" (default) or one JSON object per line,
 * {"ts":"…","level":"info","msg":"…"} (msg JSON-escaped; bytes that are not
 * printable ASCII become \u00XX, so every line parses whatever a message
 * holds). */
typedef enum pw_log_format { PW_LOG_TEXT = 0, PW_LOG_JSON = 1 } pw_log_format;
void pw_log_set_format(pw_log_format f);
/* Parses "text|json"; false on anything else. */
bool pw_log_format_parse(const char *s, pw_log_format *out);
/* Copies a caller-supplied id (a request id) for a log line: at most
 * out_size - 1 bytes of [A-Za-z0-9._:-], anything else as '?'; "" -> "-". */
void pw_log_safe_id(char *out, size_t out_size, const char *in);

/* Writes the formatted reason into why[0..why_size) (nothing when why is
 * NULL or why_size 0) and returns st: the one helper behind every
 * "status + why" answer (flags, validation, store copy). */
pw_status pw_why(char *why, size_t why_size, pw_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Parses "debug|info|warn|error"; returns false on anything else. */
bool pw_log_level_parse(const char *s, pw_log_level *out);

/* Clock: wall time in ms. Tests inject a clock with pw_clock_set (NULL = real). */
typedef int64_t (*pw_clock_fn)(void *arg);
void pw_clock_set(pw_clock_fn fn, void *arg);
int64_t pw_now_unix_ms(void);
int64_t pw_monotonic_ms(void);
int64_t pw_monotonic_us(void);

/* Random bytes from the kernel through libsodium (sodium_init must have run:
 * pw_common_init). Small draws come from a per-thread pool filled by one
 * getrandom(2) and wiped as it is handed out; a forked child drops its copy
 * (common.c "A thread's pool"). */
int pw_common_init(void) PW_WUR; /* 0 on success */
void pw_random(void *buf, size_t len);
/* For tests: the calling thread's pool and how much of it is handed out. */
void pw_random_pool_view(const uint8_t **pool, size_t *size, size_t *used);

/* Time-ordered id: prefix + 12 hex digits of ms time + 32 hex digits of
 * 128 random bits, e.g. "cs_0190f3c2a1b24f…". out must hold
 * strlen(prefix) + 45 bytes. Lexical order = creation order (B-tree appends). */
#define PW_ID_BYTES(prefix_len) ((prefix_len) + 12 + 32 + 1)
void pw_id_new(char *out, size_t out_size, const char *prefix, int64_t unix_ms);

/* base64url without padding of len bytes into out (size >= 4*len/3+4). */
void pw_base64url(char *out, size_t out_size, const uint8_t *in, size_t len);
void pw_hex(char *out, size_t out_size, const uint8_t *in, size_t len);

/* True if s[0..len) is valid UTF-8 with no NUL byte. */
bool pw_utf8_valid(const char *s, size_t len);

/* ISO 4217: exponent (digits after the decimal point) of an upper-case code,
 * or -1 if the code is not an active ISO 4217 currency. */
int pw_currency_exponent(const char *code);

/* The exponent of Stripe's amounts in this currency (its "smallest unit",
 * which differs from ISO 4217's for MGA and ISK: common/currency.c), or -1
 * for a code that is not ISO 4217. */
int pw_stripe_exponent(const char *code);

/* v (>= 0) counted with from_exp decimals, counted with to_exp decimals,
 * exactly: PW_INVALID_ARGUMENT when it would drop a nonzero digit or pass
 * PW_AMOUNT_MINOR_MAX (or for exponents outside 0..4). */
pw_status pw_amount_rescale(int64_t v, int from_exp, int to_exp, int64_t *out) PW_WUR;

/* Exact decimal -> minor units. "49", "49.0", "49.00" with exponent 2 -> 4900.
 * Refuses (PW_INVALID_ARGUMENT): empty, sign, exponent notation, spaces, more
 * fraction digits than `exponent` (unless they are all zeros? no: refused),
 * overflow past PW_AMOUNT_MINOR_MAX. */
pw_status pw_amount_parse(const char *dec, size_t len, int exponent, int64_t *out) PW_WUR;
/* minor units -> "49.00" (exponent 2). */
void pw_amount_format(char *out, size_t out_size, int64_t minor, int exponent);

/* Crash points (test builds, PAYWIRE_CRASHPOINT=name[:n]): abort() the n-th
 * time (default 1st) the named point is reached. No-op when unset. The
 * points, in the order a write meets them (docs/reliability/crash.md):
 *
 *   server.after_request_dedup  srv_apply.c: the request_id lookup of a
 *                               mutating call is done, nothing applied yet
 *   store.after_dedup           store_payment.c: the (provider, event id)
 *                               dedup lookup of a webhook is done
 *   store.between_effects       store_payment.c: between two effects of one
 *                               event (invoice, entitlement, link, audit...)
 *   store.before_commit         store_writer.c: the batch is applied, its
 *                               commit not started
 *   store.after_commit          store_writer.c: the batch is durable, no
 *                               reply of it has been sent
 */
void pw_crashpoint(const char *name);

/* Allocation hook: PAYWIRE_FAIL_ALLOC=n (or pw_alloc_fail_at(n)) makes the n-th
 * pw_malloc/pw_calloc/pw_realloc call return NULL; 0 disables. */
void *pw_malloc(size_t n);
void *pw_calloc(size_t count, size_t n);
void *pw_realloc(void *p, size_t n);
void pw_free(void *p);
void pw_alloc_fail_at(long n);

/* Bounded copy: copies at most out_size-1 bytes, always NUL-terminates;
 * returns false if src did not fit. */
bool pw_strlcpy(char *out, const char *src, size_t out_size);

/* A rate limit as operators write it: RATE[/s|/m|/h][:BURST], RATE 0..max
 * requests per second (minute, hour), BURST 1..max (default 2 x RATE, at
 * least 1); digits only, no sign or space. *interval_us: one request per
 * that many µs (at least 1; 0 when RATE is 0: no limit). The server's
 * --rate-* flags and the bridge's --ip-rate-* flags. False: malformed. */
bool pw_rate_parse(const char *s, uint64_t max, int64_t *interval_us, uint32_t *burst);

#endif
