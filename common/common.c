/*
 * common.c - assertions, logging, clock, randomness, ids, encodings, UTF-8,
 * crash points and the allocation hook (see pw_common.h).
 */
#include "pw_common.h"

#include <sodium.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- assertions ---- */

_Noreturn void
pw_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
	fflush(stderr);
	abort();
}

/* ---- logging ---- */

static atomic_int log_level = PW_LOG_INFO;

void
pw_log_set_level(pw_log_level lvl)
{
	atomic_store(&log_level, (int) lvl);
}

bool
pw_log_enabled(pw_log_level lvl)
{
	return (int) lvl >= atomic_load(&log_level);
}

bool
pw_log_level_parse(const char *s, pw_log_level *out)
{
	static const struct {
		const char *name;      /* flag value */
		pw_log_level level;    /* its level */
	} names[] = {
		{ "debug", PW_LOG_DEBUG },
		{ "info", PW_LOG_INFO },
		{ "warn", PW_LOG_WARN },
		{ "error", PW_LOG_ERROR },
	};
	if (s == NULL) {
		return false;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return true;
		}
	}
	return false;
}

pw_status
pw_why(char *why, size_t why_size, pw_status st, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(why, why_size, fmt, ap);
		va_end(ap);
	}
	return st;
}

static atomic_int log_format = PW_LOG_TEXT;

void
pw_log_set_format(pw_log_format f)
{
	atomic_store(&log_format, (int) f);
}

bool
pw_log_format_parse(const char *s, pw_log_format *out)
{
	if (s != NULL && strcmp(s, "text") == 0) {
		*out = PW_LOG_TEXT;
		return true;
	}
	if (s != NULL && strcmp(s, "json") == 0) {
		*out = PW_LOG_JSON;
		return true;
	}
	return false;
}

void
pw_log_safe_id(char *out, size_t out_size, const char *in)
{
	size_t i = 0;

	PW_ASSERT(out != NULL && out_size >= 2);
	for (; in != NULL && in[i] != '\0' && i + 1 < out_size; i++) {
		unsigned char ch = (unsigned char) in[i];
		bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_' || ch == ':' || ch == '-';
		out[i] = ok ? (char) ch : '?';
	}
	out[i] = '\0';
	if (i == 0) {
		(void) pw_strlcpy(out, "-", out_size);
	}
}

/* Appends msg[0..len) JSON-escaped to out[*pos..cap) (stops whole escapes
 * before cap). */
static void
log_json_escape(char *out, size_t cap, size_t *pos, const char *msg, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) msg[i];
		char esc[7];
		size_t n;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char) ch;
			n = 2;
		} else if (ch < 0x20 || ch >= 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			n = 6;
		} else {
			esc[0] = (char) ch;
			n = 1;
		}
		if (*pos + n >= cap) {
			return;
		}
		memcpy(out + *pos, esc, n);
		*pos += n;
	}
}

void
pw_log(pw_log_level lvl, const char *fmt, ...)
{
	static const char *const lvl_names[] = { "debug", "info", "warn", "error" };
	char line[2048];
	char msg[2048];
	char ts_s[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;
	int m;
	size_t len;

	if (!pw_log_enabled(lvl)) {
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(ts_s, sizeof(ts_s), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000L);
	PW_ASSERT(n > 0 && (size_t) n < sizeof(ts_s));
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m < 0) {
		m = 0;
	}
	if ((size_t) m >= sizeof(msg)) {
		m = (int) sizeof(msg) - 1; /* truncated */
	}
	if (atomic_load(&log_format) == PW_LOG_JSON) {
		n = snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts_s,
		    lvl_names[lvl]);
		PW_ASSERT(n > 0 && (size_t) n < sizeof(line));
		len = (size_t) n;
		log_json_escape(line, sizeof(line) - 3, &len, msg, (size_t) m);
		line[len++] = '"';
		line[len++] = '}';
	} else {
		n = snprintf(line, sizeof(line), "%s %-5s ", ts_s, lvl_names[lvl]);
		PW_ASSERT(n > 0 && (size_t) n < sizeof(line));
		len = (size_t) n;
		for (size_t i = 0; i < (size_t) m && len < sizeof(line) - 1; i++) {
			/* one line whatever the message holds */
			line[len++] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
		}
	}
	PW_ASSERT(len < sizeof(line));
	line[len++] = '\n';
	/* One write(2) per line so lines from several threads never interleave. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void) w;
}

/* ---- clock ---- */

/* No initializer: static storage starts null, and clang refuses NULL
 * ((void *) 0) as the initializer of an _Atomic function pointer. */
static _Atomic(pw_clock_fn) clock_fn;
static void *_Atomic clock_arg = NULL;

void
pw_clock_set(pw_clock_fn fn, void *arg)
{
	atomic_store(&clock_arg, arg);
	atomic_store(&clock_fn, fn);
}

int64_t
pw_now_unix_ms(void)
{
	pw_clock_fn fn = atomic_load(&clock_fn);
	struct timespec ts;

	if (fn != NULL) {
		return fn(atomic_load(&clock_arg));
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
pw_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
pw_monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- init, randomness ---- */

static atomic_long alloc_fail_at = 0;
static atomic_long alloc_count = 0;

int
pw_common_init(void)
{
	const char *fail;

	if (sodium_init() < 0) {
		return -1;
	}
	fail = getenv("PAYWIRE_FAIL_ALLOC");
	if (fail != NULL && *fail != '\0') {
		pw_alloc_fail_at(strtol(fail, NULL, 10));
	}
	return 0;
}

/* A thread's pool of kernel randomness. One getrandom(2) (libsodium's
 * randombytes_buf, which reads at most 256 bytes a call) fills it; the bytes
 * are handed out in order and each is wiped as it leaves, so the pool only
 * ever holds bytes nobody has been given. A system call costs about a
 * microsecond on the virtual machines paywire is measured on, and a create
 * draws twice (its session id, its stored reply's nonce): one call now
 * serves several creates instead of one per draw.
 * fork: the child drops the forking thread's pool (pw_random_atfork_child;
 * it is the one thread a child has), so parent and child never hand out the
 * same bytes. A draw larger than half the pool goes to the kernel directly. */
#define PW_RANDOM_POOL_BYTES 256

typedef struct pw_random_pool {
	uint8_t b[PW_RANDOM_POOL_BYTES];
	size_t used; /* b[0..used) handed out (and wiped); PW_RANDOM_POOL_BYTES: empty */
} pw_random_pool;

static _Thread_local pw_random_pool rnd_pool = { .used = PW_RANDOM_POOL_BYTES };
static pthread_once_t rnd_atfork_once = PTHREAD_ONCE_INIT;

static void
pw_random_atfork_child(void)
{
	sodium_memzero(rnd_pool.b, sizeof(rnd_pool.b));
	rnd_pool.used = PW_RANDOM_POOL_BYTES;
}

static void
pw_random_atfork_register(void)
{
	PW_ASSERT(pthread_atfork(NULL, NULL, pw_random_atfork_child) == 0);
}

void
pw_random(void *buf, size_t len)
{
	pw_random_pool *p = &rnd_pool;
	uint8_t *out = buf;

	if (len > PW_RANDOM_POOL_BYTES / 2) {
		randombytes_buf(buf, len);
		return;
	}
	while (len > 0) {
		if (p->used == PW_RANDOM_POOL_BYTES) {
			PW_ASSERT(pthread_once(&rnd_atfork_once, pw_random_atfork_register) == 0);
			randombytes_buf(p->b, sizeof(p->b));
			p->used = 0;
		}
		size_t n = PW_RANDOM_POOL_BYTES - p->used;
		n = n < len ? n : len;
		memcpy(out, p->b + p->used, n);
		sodium_memzero(p->b + p->used, n);
		p->used += n;
		out += n;
		len -= n;
	}
}

void
pw_random_pool_view(const uint8_t **pool, size_t *size, size_t *used)
{
	*pool = rnd_pool.b;
	*size = sizeof(rnd_pool.b);
	*used = rnd_pool.used;
}

/* ---- ids and encodings ---- */

void
pw_id_new(char *out, size_t out_size, const char *prefix, int64_t unix_ms)
{
	uint8_t rnd[16];
	size_t plen = strlen(prefix);
	char hex[33];

	PW_ASSERT(out_size >= PW_ID_BYTES(plen));
	PW_ASSERT(unix_ms >= 0);
	pw_random(rnd, sizeof(rnd));
	pw_hex(hex, sizeof(hex), rnd, sizeof(rnd));
	/* 12 hex digits of milliseconds: lexical order is creation order until
	 * the year 10889. */
	int n = snprintf(out, out_size, "%s%012llx%s", prefix,
	    (unsigned long long) unix_ms & 0xffffffffffffull, hex);
	PW_ASSERT(n > 0 && (size_t) n == PW_ID_BYTES(plen) - 1);
}

void
pw_base64url(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	PW_ASSERT(out_size >= sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
	sodium_bin2base64(out, out_size, in, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void
pw_hex(char *out, size_t out_size, const uint8_t *in, size_t len)
{
	PW_ASSERT(out_size >= len * 2 + 1);
	sodium_bin2hex(out, out_size, in, len);
}

/* ---- UTF-8 ---- */

bool
pw_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		uint32_t cp;
		if (c == 0) {
			return false; /* embedded NUL */
		}
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n) {
			return false; /* truncated sequence */
		}
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
			return false;
		}
		i += n + 1;
	}
	return true;
}

/* ---- crash points ---- */

void
pw_crashpoint(const char *name)
{
#ifdef PW_TEST_HOOKS
	static atomic_long hits = 0;
	const char *spec = getenv("PAYWIRE_CRASHPOINT");
	const char *colon;
	size_t nlen;
	long want = 1;

	if (spec == NULL || *spec == '\0') {
		return;
	}
	colon = strchr(spec, ':');
	nlen = colon != NULL ? (size_t) (colon - spec) : strlen(spec);
	if (strlen(name) != nlen || strncmp(spec, name, nlen) != 0) {
		return;
	}
	if (colon != NULL) {
		want = strtol(colon + 1, NULL, 10);
	}
	if (atomic_fetch_add(&hits, 1) + 1 == want) {
		fprintf(stderr, "crashpoint %s reached: abort\n", name);
		abort();
	}
#else
	(void) name;
#endif
}

/* ---- allocation hook ---- */

void
pw_alloc_fail_at(long n)
{
	atomic_store(&alloc_count, 0);
	atomic_store(&alloc_fail_at, n);
}

static bool
alloc_should_fail(void)
{
	long at = atomic_load(&alloc_fail_at);
	if (at <= 0) {
		return false;
	}
	return atomic_fetch_add(&alloc_count, 1) + 1 == at;
}

void *
pw_malloc(size_t n)
{
	return alloc_should_fail() ? NULL : malloc(n);
}

void *
pw_calloc(size_t count, size_t n)
{
	return alloc_should_fail() ? NULL : calloc(count, n);
}

void *
pw_realloc(void *p, size_t n)
{
	return alloc_should_fail() ? NULL : realloc(p, n);
}

void
pw_free(void *p)
{
	free(p);
}

bool
pw_strlcpy(char *out, const char *src, size_t out_size)
{
	size_t n;

	PW_ASSERT(out_size > 0);
	if (src == NULL) {
		out[0] = '\0';
		return true;
	}
	n = strnlen(src, out_size);
	if (n == out_size) {
		memcpy(out, src, out_size - 1);
		out[out_size - 1] = '\0';
		return false;
	}
	memcpy(out, src, n + 1);
	return true;
}

/* Decimal digits only, at most max. */
static bool
pw_rate_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t) (s[i] - '0')) / 10) {
			return false;
		}
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
pw_rate_parse(const char *s, uint64_t max, int64_t *interval_us, uint32_t *burst)
{
	const char *colon = strchr(s, ':');
	size_t hl = colon != NULL ? (size_t) (colon - s) : strlen(s);
	int64_t unit_us = 1000000;
	uint64_t rate;
	uint64_t b;

	PW_ASSERT(max <= UINT32_MAX / 2);
	if (hl > 2 && s[hl - 2] == '/') {
		switch (s[hl - 1]) {
		case 's': unit_us = 1000000; break;
		case 'm': unit_us = 60 * INT64_C(1000000); break;
		case 'h': unit_us = 3600 * INT64_C(1000000); break;
		default: return false;
		}
		hl -= 2;
	}
	if (!pw_rate_u64(s, hl, max, &rate)) {
		return false;
	}
	b = rate > 0 ? rate * 2 : 1;
	if (colon != NULL && (!pw_rate_u64(colon + 1, strlen(colon + 1), max, &b) || b == 0)) {
		return false;
	}
	*interval_us = rate > 0 ? unit_us / (int64_t) rate : 0;
	if (rate > 0 && *interval_us == 0) {
		*interval_us = 1;
	}
	*burst = (uint32_t) b;
	return true;
}
