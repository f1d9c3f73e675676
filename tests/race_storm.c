/*
 * race_storm.c - the concurrency load of issue 7, against real
 * paywire-server and paywire-bridge processes (started by
 * tests/integration/race_test.sh or scripts/reliability/race.sh).
 *
 * MODES
 *   storm  One merchant, P payments. For each payment, C threads (64) post
 *          the same signed Stripe checkout.session.completed delivery to the
 *          bridge's /webhooks/stripe at once (released together by a barrier,
 *          one payment after the other). Then (race_test.sh runs this part
 *          as a second invocation, --payments 0, against a server started
 *          with --test-writer-delay-ms, so the copies arrive while the first
 *          is still queued) K more payments whose create_session and
 *          ingest_webhook requests are re-sent raw, R copies under one SP
 *          request id on one IPC connection, as nng's REQ re-sends them.
 *          Checks: every delivery answered 2xx, exactly one
 *          APPLIED and C-1 DUPLICATE per payment; every re-sent copy answered
 *          OK with the same bytes; through public calls, every session paid
 *          with an access link, and the invoice numbers of the merchant are
 *          exactly 1..P+K (one each, no gap, no double). Writes the session
 *          ids (--sessions FILE) for tests/race_check.c, which counts what the
 *          store holds per session.
 *   payall P payments at once: C threads (--copies) each deliver the signed
 *          event of every C-th payment, once, with no barrier between
 *          payments, so that many payments commit concurrently (on
 *          PostgreSQL, on several servers: their invoice numbers and the
 *          audit chain meet there). Checks: every delivery 2xx and APPLIED;
 *          every session paid with an access link; invoice numbers exactly
 *          1..P.
 *   --bridge takes a comma-separated list of up to RS_BRIDGES_MAX bridges
 *          (one per server when several servers share a PostgreSQL
 *          database): storm copy k, payall payment i and mixed thread t go
 *          to bridge k, i, t modulo their number.
 *   mixed  T threads (8) share one libpaywire client and each runs M rounds of
 *          create_session (client, or the bridge's POST /create_session),
 *          get_status (client and the bridge's GET /session/{id}/status),
 *          a signed delivery through the bridge (APPLIED) and the same event
 *          through pw_webhook_ingest (DUPLICATE), and get_status again (paid).
 *          The ThreadSanitizer run drives the server and the bridge with it.
 *
 * Nothing here asserts a time: every wait is a blocking call bounded by the
 * client's and curl's timeouts (minutes, hang catchers). Rates are printed as
 * figures only. Exit 0 when every check passed, 1 otherwise; the last line is
 * a one-line summary.
 *
 * THREADS: the main thread sets up and checks; worker threads each own one
 * CURL handle; the pw_client is shared (libpaywire is thread-safe).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <paywire/client.h>

#include "paywire/v1/paywire.pb-c.h"

/* Every blocking wait (client call, HTTP request, raw read) ends by this
 * bound; only a hang reaches it (as TW_HANG_MS in tests/test_wait.h). */
#define RS_HANG_MS 120000
#define RS_COPIES_MAX 256
#define RS_THREADS_MAX 64
#define RS_BRIDGES_MAX 8
#define RS_BODY_BYTES_MAX (64 * 1024)
#define RS_REPLY_BYTES_MAX (64 * 1024)

/* The fixture's placeholders (tests/fixtures/README.md) and what each
 * payment puts in their place. */
#define RS_FX_SESSION "ps_2f6c1e9a4b7d"
#define RS_FX_EVENT "evt_1PwTestCheckoutCompleted01"
#define RS_FX_PI "pi_3PwTestPaymentIntent0001"
#define RS_FX_CS "cs_test_a1PaywireExampleSession0001"

typedef struct rs_args {
	const char *mode;        /* "storm" | "mixed" */
	const char *server;      /* tcp:// or ipc:// URL of paywire-server */
	const char *ipc;         /* ipc:// URL of the same server (raw re-sends) */
	const char *bridge;      /* http://127.0.0.1:PORT */
	const char *fixture;     /* stripe.checkout.session.completed.json */
	const char *sessions;    /* file the session ids are written to */
	unsigned payments;       /* storm: P */
	unsigned copies;         /* storm: C concurrent identical deliveries */
	unsigned resend;         /* storm: K payments re-sent raw */
	unsigned resend_copies;  /* storm: R copies of each re-sent request */
	unsigned threads;        /* mixed: T */
	unsigned rounds;         /* mixed: M per thread */
} rs_args;

typedef struct rs_env {
	rs_args a;
	pw_client *client;       /* shared by every thread */
	char admin_key[256];     /* PAYWIRE_ADMIN_KEY */
	char secret[256];        /* PAYWIRE_STRIPE_WEBHOOK_SECRET */
	char api_key[128];       /* the merchant's, made at start */
	char *fixture;           /* fixture bytes, NUL-terminated */
	char bridges[RS_BRIDGES_MAX][256]; /* --bridge, split at commas */
	unsigned n_bridges;      /* in bridges */
	atomic_uint failures;    /* checks that failed (each printed once) */
} rs_env;

/* One delivery's body and signature header. */
typedef struct rs_delivery {
	char sid[64];              /* the session it pays */
	char cks[64];              /* its checkout secret: the customer's view of it */
	char *body;                /* fixture with this payment's ids (malloc) */
	size_t body_len;
	char sig[160];             /* "Stripe-Signature: t=…,v1=…" */
} rs_delivery;

static void rs_fail(rs_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts a failed check and prints the first 20 of them (a broken run would
 * otherwise print thousands of lines). */
static void
rs_fail(rs_env *e, const char *fmt, ...)
{
	va_list ap;
	unsigned n = atomic_fetch_add(&e->failures, 1);

	if (n >= 20) {
		return;
	}
	va_start(ap, fmt);
	fputs("race_storm: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t
rs_now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- bodies and signatures ---- */

/* src with every `from` replaced by `to` (malloc'd, NUL-terminated). */
static char *
rs_replace(const char *src, const char *from, const char *to)
{
	size_t fl = strlen(from);
	size_t tl = strlen(to);
	size_t n = 0;
	const char *p;
	char *out;
	char *w;

	for (p = strstr(src, from); p != NULL; p = strstr(p + fl, from)) {
		n++;
	}
	out = malloc(strlen(src) + n * tl + 1);
	if (out == NULL) {
		abort();
	}
	w = out;
	for (p = src;;) {
		const char *hit = strstr(p, from);
		if (hit == NULL) {
			break;
		}
		memcpy(w, p, (size_t) (hit - p));
		w += hit - p;
		memcpy(w, to, tl);
		w += tl;
		p = hit + fl;
	}
	strcpy(w, p);
	return out;
}

/* The fixture with payment `tag`'s session, event, intent and checkout ids. */
static void
rs_delivery_init(rs_env *e, rs_delivery *d, const char *sid, const char *tag)
{
	char v[128];
	char *a;
	char *b;

	snprintf(d->sid, sizeof(d->sid), "%s", sid);
	d->cks[0] = '\0'; /* the caller sets it when it has it */
	a = rs_replace(e->fixture, RS_FX_SESSION, sid);
	snprintf(v, sizeof(v), "evt_race_%s", tag);
	b = rs_replace(a, RS_FX_EVENT, v);
	free(a);
	snprintf(v, sizeof(v), "pi_race_%s", tag);
	a = rs_replace(b, RS_FX_PI, v);
	free(b);
	snprintf(v, sizeof(v), "cs_test_race_%s", tag);
	d->body = rs_replace(a, RS_FX_CS, v);
	free(a);
	d->body_len = strlen(d->body);
	d->sig[0] = '\0';
}

/* Signs d now, as Stripe does: t=<unix s>, v1 = hex HMAC-SHA256 keyed with
 * the whole whsec_ string over "t.body". Signed when sent, so a slow run
 * never meets the 300 s tolerance. (The scheme itself is checked against
 * Stripe's own library in tests/integration/webhooks_test.sh.) */
static void
rs_delivery_sign(rs_env *e, rs_delivery *d, char *value, size_t value_size)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	char ts[32];

	snprintf(ts, sizeof(ts), "%lld", (long long) time(NULL));
	crypto_auth_hmacsha256_init(&st, (const unsigned char *) e->secret, strlen(e->secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) ".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *) d->body, d->body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(value, value_size, "t=%s,v1=%s", ts, hex);
	snprintf(d->sig, sizeof(d->sig), "Stripe-Signature: %s", value);
}

/* ---- HTTP ---- */

typedef struct rs_buf {
	char data[RS_REPLY_BYTES_MAX];
	size_t len;
} rs_buf;

static size_t
rs_curl_write(char *p, size_t size, size_t n, void *arg)
{
	rs_buf *b = arg;
	size_t len = size * n;
	size_t room = sizeof(b->data) - 1 - b->len;
	size_t take = len < room ? len : room;

	memcpy(b->data + b->len, p, take);
	b->len += take;
	b->data[b->len] = '\0';
	return len;
}

/* One HTTP request on curl handle h (kept alive between calls). body NULL:
 * GET. Returns the HTTP code (0: transport error, in out). */
static long
rs_http(CURL *h, const char *url, const char *header1, const char *header2, const char *body,
    size_t body_len, rs_buf *out)
{
	struct curl_slist *hs = NULL;
	long code = 0;
	CURLcode rc;

	out->len = 0;
	out->data[0] = '\0';
	curl_easy_reset(h);
	(void) curl_easy_setopt(h, CURLOPT_URL, url);
	(void) curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long) RS_HANG_MS);
	(void) curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	(void) curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, rs_curl_write);
	(void) curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	if (header1 != NULL) {
		hs = curl_slist_append(hs, header1);
	}
	if (header2 != NULL) {
		hs = curl_slist_append(hs, header2);
	}
	hs = curl_slist_append(hs, "Expect:"); /* no 100-continue round trip */
	(void) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
	if (body != NULL) {
		(void) curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		(void) curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long) body_len);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		(void) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	} else {
		snprintf(out->data, sizeof(out->data), "curl: %s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(hs);
	return code;
}

/* What a webhook answer said. */
typedef enum rs_outcome { RS_OTHER = 0, RS_APPLIED, RS_DUPLICATE } rs_outcome;

static rs_outcome
rs_outcome_of(const char *body)
{
	if (strstr(body, "\"outcome\":\"applied\"") != NULL) {
		return RS_APPLIED;
	}
	if (strstr(body, "\"outcome\":\"duplicate\"") != NULL) {
		return RS_DUPLICATE;
	}
	return RS_OTHER;
}

/* ---- setup shared by both modes ---- */

static int
rs_env_open(rs_env *e)
{
	pw_client_opts o;
	pw_merchant m;
	pw_error err;
	const char *v;
	FILE *f;
	long n;
	pw_status st;

	v = getenv("PAYWIRE_ADMIN_KEY");
	if (v == NULL || snprintf(e->admin_key, sizeof(e->admin_key), "%s", v) >= (int) sizeof(e->admin_key)) {
		fprintf(stderr, "race_storm: PAYWIRE_ADMIN_KEY is not set\n");
		return -1;
	}
	v = getenv("PAYWIRE_STRIPE_WEBHOOK_SECRET");
	if (v == NULL || snprintf(e->secret, sizeof(e->secret), "%s", v) >= (int) sizeof(e->secret)) {
		fprintf(stderr, "race_storm: PAYWIRE_STRIPE_WEBHOOK_SECRET is not set\n");
		return -1;
	}
	f = fopen(e->a.fixture, "rb");
	if (f == NULL) {
		fprintf(stderr, "race_storm: %s: %s\n", e->a.fixture, strerror(errno));
		return -1;
	}
	e->fixture = calloc(1, RS_BODY_BYTES_MAX);
	n = (long) fread(e->fixture, 1, RS_BODY_BYTES_MAX - 1, f);
	(void) fclose(f);
	if (n <= 0 || strstr(e->fixture, RS_FX_SESSION) == NULL) {
		fprintf(stderr, "race_storm: %s is not the checkout.session.completed fixture\n", e->a.fixture);
		return -1;
	}
	pw_client_opts_default(&o);
	o.timeout_ms = RS_HANG_MS; /* a slow server is never a retry or a failure */
	o.retries = 0;
	st = pw_client_open(&e->client, e->a.server, &o);
	if (st != PW_OK) {
		fprintf(stderr, "race_storm: open %s: %s\n", e->a.server, pw_status_name(st));
		return -1;
	}
	memset(&err, 0, sizeof(err));
	st = pw_merchant_create(e->client, e->admin_key, "race shop", PW_MODE_TEST, &m, &err);
	if (st != PW_OK) {
		fprintf(stderr, "race_storm: merchant create: %s %s\n", pw_status_name(st), err.message);
		return -1;
	}
	snprintf(e->api_key, sizeof(e->api_key), "%s", m.api_key);
	sodium_memzero(&m, sizeof(m));
	return 0;
}

/* A test-mode session of 49.00 EUR selling plan "pro" (the fixture's
 * amount), made through libpaywire, for customer `customer_ref`: one
 * customer per session, since an access key is granted once per customer
 * and plan (PAYMENTS.md), and the checker wants one entitlement per payment. */
static pw_status
rs_session_create(rs_env *e, const char *customer_ref, char sid[64], char cks[64])
{
	pw_session_params p = {
		.amount_minor = 4900,
		.currency = "EUR",
		.mode = PW_MODE_TEST,
		.customer_email = "jane.doe@example.com",
		.customer_ref = customer_ref,
		.fulfillment = PW_FULFILL_ACCESS_KEY,
		.plan = "pro",
	};
	pw_session s;
	pw_error err;
	pw_status st;

	memset(&err, 0, sizeof(err));
	st = pw_session_create(e->client, e->api_key, &p, &s, &err);
	if (st != PW_OK) {
		rs_fail(e, "create_session: %s %s", pw_status_name(st), err.message);
		return st;
	}
	snprintf(sid, 64, "%s", s.id);
	if (cks != NULL) {
		snprintf(cks, 64, "%s", s.checkout_secret);
	}
	return PW_OK;
}

/* ---- storm: C identical deliveries per payment ---- */

typedef struct rs_storm {
	rs_env *e;
	rs_delivery *d;             /* P deliveries */
	unsigned char *applied;     /* [P][C] answered applied */
	unsigned char *duplicate;   /* [P][C] answered duplicate */
	unsigned char *ok2xx;       /* [P][C] answered 2xx */
	pthread_barrier_t round;    /* releases the C copies of one payment together */
	char url[RS_BRIDGES_MAX][512]; /* each bridge's /webhooks/stripe */
} rs_storm;

typedef struct rs_worker {
	rs_storm *s;
	unsigned id;
} rs_worker;

static void *
rs_storm_worker(void *arg)
{
	rs_worker *w = arg;
	rs_storm *s = w->s;
	unsigned c = s->e->a.copies;
	CURL *h = curl_easy_init();
	rs_buf *b = malloc(sizeof(*b));
	char sigval[160];

	if (h == NULL || b == NULL) {
		abort();
	}
	for (unsigned i = 0; i < s->e->a.payments; i++) {
		size_t at = (size_t) i * c + w->id;
		long code;

		if (w->id == 0) { /* signs payment i before the others may send it */
			rs_delivery_sign(s->e, &s->d[i], sigval, sizeof(sigval));
		}
		(void) pthread_barrier_wait(&s->round);
		code = rs_http(h, s->url[w->id % s->e->n_bridges], s->d[i].sig, "Content-Type: application/json", s->d[i].body,
		    s->d[i].body_len, b);
		s->ok2xx[at] = code >= 200 && code < 300;
		s->applied[at] = rs_outcome_of(b->data) == RS_APPLIED;
		s->duplicate[at] = rs_outcome_of(b->data) == RS_DUPLICATE;
		if (!s->ok2xx[at]) {
			rs_fail(s->e, "payment %u copy %u: HTTP %ld %.200s", i, w->id, code, b->data);
		}
	}
	free(b);
	curl_easy_cleanup(h);
	return NULL;
}

/* Per payment: every copy 2xx, exactly one APPLIED, the others DUPLICATE. */
static void
rs_storm_tally(rs_storm *s, uint64_t *answered2xx, uint64_t *dups)
{
	unsigned c = s->e->a.copies;

	*answered2xx = 0;
	*dups = 0;
	for (unsigned i = 0; i < s->e->a.payments; i++) {
		unsigned ok = 0;
		unsigned ap = 0;
		unsigned du = 0;

		for (unsigned k = 0; k < c; k++) {
			ok += s->ok2xx[(size_t) i * c + k];
			ap += s->applied[(size_t) i * c + k];
			du += s->duplicate[(size_t) i * c + k];
		}
		*answered2xx += ok;
		*dups += du;
		if (ok != c || ap != 1 || du != c - 1) {
			rs_fail(s->e, "payment %u (%s): %u of %u answered 2xx, %u applied, %u duplicate", i,
			    s->d[i].sid, ok, c, ap, du);
		}
	}
}

/* ---- what storm and payall share ---- */

/* The bridges' webhook URLs, then a session and its signed delivery for
 * each payment [0, p), tagged prefix + its number. -1 when a session could
 * not be created (already counted as a failure). */
static int
rs_storm_prepare(rs_env *e, rs_storm *s, unsigned p, const char *prefix)
{
	for (unsigned b = 0; b < e->n_bridges; b++) {
		snprintf(s->url[b], sizeof(s->url[b]), "%s/webhooks/stripe", e->bridges[b]);
	}
	for (unsigned i = 0; i < p; i++) {
		char sid[64];
		char cks[64];
		char tag[32];

		snprintf(tag, sizeof(tag), "%s%u", prefix, i);
		if (rs_session_create(e, tag, sid, cks) != PW_OK) {
			return -1;
		}
		rs_delivery_init(e, &s->d[i], sid, tag);
		snprintf(s->d[i].cks, sizeof(s->d[i].cks), "%s", cks);
	}
	return 0;
}

/* Runs c workers (ids 0..c-1) of fn on s and waits for all of them. */
static void
rs_workers_run(rs_storm *s, unsigned c, void *(*fn)(void *))
{
	rs_worker w[RS_THREADS_MAX];
	pthread_t th[RS_THREADS_MAX];

	if (c > RS_THREADS_MAX) {
		abort(); /* --copies is parsed to 1..RS_THREADS_MAX */
	}
	for (unsigned k = 0; k < c; k++) {
		w[k] = (rs_worker) { .s = s, .id = k };
		if (pthread_create(&th[k], NULL, fn, &w[k]) != 0) {
			abort();
		}
	}
	for (unsigned k = 0; k < c; k++) {
		(void) pthread_join(th[k], NULL);
	}
}

/* Appends "<session id> <kind>" for d[0..n) to --sessions (if given): kind
 * is first for i < p, then rest. */
static void
rs_sessions_write(rs_env *e, const rs_delivery *d, unsigned n, unsigned p, const char *first,
    const char *rest)
{
	FILE *f;

	if (e->a.sessions == NULL) {
		return;
	}
	f = fopen(e->a.sessions, "a");
	if (f == NULL) {
		rs_fail(e, "%s: %s", e->a.sessions, strerror(errno));
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (d[i].sid[0] != '\0') {
			fprintf(f, "%s %s\n", d[i].sid, i < p ? first : rest);
		}
	}
	(void) fclose(f);
}

/* Frees what a run allocated in s (n deliveries). */
static void
rs_storm_free(rs_storm *s, unsigned n)
{
	for (unsigned i = 0; s->d != NULL && i < n; i++) {
		free(s->d[i].body);
	}
	free(s->d);
	free(s->applied);
	free(s->duplicate);
	free(s->ok2xx);
}

/* ---- payall: P payments at once, one delivery each ---- */

static void *
rs_payall_worker(void *arg)
{
	rs_worker *w = arg;
	rs_storm *s = w->s;
	unsigned c = s->e->a.copies;
	CURL *h = curl_easy_init();
	rs_buf *b = malloc(sizeof(*b));
	char sigval[160];

	if (h == NULL || b == NULL) {
		abort();
	}
	for (unsigned i = w->id; i < s->e->a.payments; i += c) {
		long code;

		rs_delivery_sign(s->e, &s->d[i], sigval, sizeof(sigval));
		code = rs_http(h, s->url[i % s->e->n_bridges], s->d[i].sig,
		    "Content-Type: application/json", s->d[i].body, s->d[i].body_len, b);
		s->ok2xx[i] = code >= 200 && code < 300;
		s->applied[i] = rs_outcome_of(b->data) == RS_APPLIED;
		if (!s->ok2xx[i] || !s->applied[i]) {
			rs_fail(s->e, "payment %u (%s): HTTP %ld %.200s", i, s->d[i].sid, code, b->data);
		}
	}
	free(b);
	curl_easy_cleanup(h);
	return NULL;
}

static void rs_public_check(rs_env *e, rs_delivery *d, unsigned n);

static int
rs_payall_run(rs_env *e)
{
	unsigned p = e->a.payments;
	unsigned c = e->a.copies;
	rs_storm s = { .e = e };
	int64_t t0;
	int64_t t1;
	int rv = 1;

	s.d = calloc(p + 1, sizeof(*s.d));
	s.applied = calloc(p + 1, 1);
	s.ok2xx = calloc(p + 1, 1);
	if (s.d == NULL || s.applied == NULL || s.ok2xx == NULL) {
		abort();
	}
	if (rs_storm_prepare(e, &s, p, "a") == 0) {
		t0 = rs_now_ms();
		rs_workers_run(&s, c, rs_payall_worker);
		t1 = rs_now_ms();
		rs_public_check(e, s.d, p);
		rs_sessions_write(e, s.d, p, p, "payall", "payall");
		printf("payall: %u payments by %u threads across %u bridge(s) in %.1f s (%.0f "
		       "payments/s); failures %u\n", p, c, e->n_bridges, (double) (t1 - t0) / 1000.0,
		    t1 > t0 ? (double) p * 1000.0 / (double) (t1 - t0) : 0.0,
		    atomic_load(&e->failures));
		rv = atomic_load(&e->failures) == 0 ? 0 : 1;
	}
	rs_storm_free(&s, p);
	return rv;
}

/* ---- storm: raw REQ re-sends ---- */

static int
rs_raw_read(int fd, uint8_t *buf, size_t n, int64_t deadline_ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline_ms - rs_now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int) left) == 0) {
			return -1;
		}
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0) {
			return 0;
		}
		got += (size_t) r;
	}
	return 1;
}

static bool
rs_raw_write(int fd, const uint8_t *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
		if (w <= 0) {
			return false;
		}
		off += (size_t) w;
	}
	return true;
}

/* Connects to an ipc:// URL and exchanges the SP handshake as a REQ peer
 * (0x00 'S' 'P' 0x00, REQ v0 = 0x0030; the REP answers 0x0031). -1 on error. */
static int
rs_raw_open(const char *url)
{
	static const uint8_t hello[8] = { 0x00, 'S', 'P', 0x00, 0x00, 0x30, 0x00, 0x00 };
	struct sockaddr_un sa;
	uint8_t peer[8];
	int fd;

	if (strncmp(url, "ipc://", 6) != 0 || strlen(url + 6) >= sizeof(sa.sun_path)) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, url + 6, strlen(url + 6));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 || !rs_raw_write(fd, hello, sizeof(hello)) ||
	    rs_raw_read(fd, peer, sizeof(peer), rs_now_ms() + RS_HANG_MS) != 1 || peer[5] != 0x31) {
		(void) close(fd);
		return -1;
	}
	return fd;
}

/* Sends body under SP request id `rid` (IPC framing: type 0x01, 8-byte
 * big-endian length, then the 4-byte id with its high bit set). */
static bool
rs_raw_send(int fd, uint32_t rid, const uint8_t *body, size_t len)
{
	uint8_t hdr[13];
	uint64_t n = (uint64_t) len + 4;

	hdr[0] = 0x01;
	for (int i = 0; i < 8; i++) {
		hdr[1 + i] = (uint8_t) (n >> (56 - 8 * i));
	}
	for (int i = 0; i < 4; i++) {
		hdr[9 + i] = (uint8_t) (rid >> (24 - 8 * i));
	}
	return rs_raw_write(fd, hdr, sizeof(hdr)) && rs_raw_write(fd, body, len);
}

/* Reads one reply (malloc'd, without the SP id). 1 ok, else 0/-1. */
static int
rs_raw_recv(int fd, uint8_t **out, size_t *out_len)
{
	int64_t deadline = rs_now_ms() + RS_HANG_MS;
	uint8_t rh[9];
	uint64_t n = 0;
	int rv = rs_raw_read(fd, rh, sizeof(rh), deadline);

	if (rv != 1) {
		return rv;
	}
	for (int i = 0; i < 8; i++) {
		n = (n << 8) | rh[1 + i];
	}
	if (n < 4 || n > 16u * 1024u * 1024u) {
		return 0;
	}
	*out = malloc((size_t) n);
	if (*out == NULL || rs_raw_read(fd, *out, (size_t) n, deadline) != 1) {
		free(*out);
		return 0;
	}
	memmove(*out, *out + 4, (size_t) n - 4);
	*out_len = (size_t) n - 4;
	return 1;
}

/* Sends R copies of frame under one SP id on one connection (what nng's REQ
 * does when it re-sends), reads R replies, checks they are byte for byte the
 * same and OK. Returns the first reply unpacked (caller frees) or NULL. */
static Paywire__V1__Response *
rs_resend(rs_env *e, const char *what, const uint8_t *frame, size_t len, uint64_t *replies)
{
	unsigned r = e->a.resend_copies;
	uint8_t *rep[RS_COPIES_MAX] = { NULL };
	size_t rep_len[RS_COPIES_MAX] = { 0 };
	Paywire__V1__Response *out = NULL;
	int fd = rs_raw_open(e->a.ipc);
	unsigned got = 0;

	if (fd < 0) {
		rs_fail(e, "%s: cannot connect to %s", what, e->a.ipc);
		return NULL;
	}
	for (unsigned i = 0; i < r; i++) {
		if (!rs_raw_send(fd, 0x80000001u, frame, len)) {
			rs_fail(e, "%s: the server closed while copy %u was sent", what, i);
			break;
		}
	}
	while (got < r && rs_raw_recv(fd, &rep[got], &rep_len[got]) == 1) {
		got++;
	}
	(void) close(fd);
	*replies += got;
	if (got != r) {
		rs_fail(e, "%s: %u replies to %u copies", what, got, r);
	}
	for (unsigned i = 1; i < got; i++) {
		if (rep_len[i] != rep_len[0] || memcmp(rep[i], rep[0], rep_len[0]) != 0) {
			rs_fail(e, "%s: copy %u answered other bytes than copy 0", what, i);
		}
	}
	if (got > 0) {
		out = paywire__v1__response__unpack(NULL, rep_len[0], rep[0]);
		if (out == NULL || out->status == NULL || out->status->code != 0) {
			rs_fail(e, "%s: not OK (%s)", what,
			    out != NULL && out->status != NULL ? out->status->message : "does not unpack");
		}
	}
	for (unsigned i = 0; i < got; i++) {
		free(rep[i]);
	}
	return out;
}

static uint8_t *
rs_pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len > 0 ? *len : 1);
	if (buf == NULL) {
		abort();
	}
	(void) protobuf_c_message_pack(m, buf);
	return buf;
}

/* Payment k of the re-send phase: its create_session, then its delivery as
 * an ingest_webhook call, each re-sent R times under one request_id. */
static void
rs_resend_one(rs_env *e, unsigned k, rs_delivery *d, uint64_t *replies)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	Paywire__V1__Fulfillment ful = PAYWIRE__V1__FULFILLMENT__INIT;
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry hdr =
	    PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__HEADERS_ENTRY__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hdrs[1] = { &hdr };
	Paywire__V1__Response *r;
	char rid[96];
	char tag[64];
	char sig[160];
	uint8_t nonce[8];
	char nonce_hex[17];
	uint8_t *frame;
	size_t len;

	randombytes_buf(nonce, sizeof(nonce));
	sodium_bin2hex(nonce_hex, sizeof(nonce_hex), nonce, sizeof(nonce));
	snprintf(rid, sizeof(rid), "race-cs-%u-%s", k, nonce_hex);
	cs.amount_minor = 4900;
	cs.currency = (char *) "EUR";
	cs.mode = PAYWIRE__V1__MODE__MODE_TEST;
	cs.customer_email = (char *) "jane.doe@example.com";
	snprintf(tag, sizeof(tag), "rs%u_%s", k, nonce_hex);
	cs.customer_ref = tag;
	ful.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	ful.plan = (char *) "pro";
	cs.fulfillment = &ful;
	req.request_id = rid;
	req.api_key = e->api_key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	frame = rs_pack(&req.base, &len);
	r = rs_resend(e, "create_session re-send", frame, len, replies);
	free(frame);
	if (r == NULL || r->result_case != PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION ||
	    r->create_session->session == NULL) {
		if (r != NULL) {
			paywire__v1__response__free_unpacked(r, NULL);
		}
		rs_fail(e, "re-send payment %u: no session", k);
		d->sid[0] = '\0';
		return;
	}
	rs_delivery_init(e, d, r->create_session->session->id, tag);
	snprintf(d->cks, sizeof(d->cks), "%s", r->create_session->checkout_secret);
	paywire__v1__response__free_unpacked(r, NULL);

	rs_delivery_sign(e, d, sig, sizeof(sig));
	hdr.key = (char *) "stripe-signature";
	hdr.value = sig;
	iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
	iw.n_headers = 1;
	iw.headers = hdrs;
	iw.body.data = (uint8_t *) d->body;
	iw.body.len = d->body_len;
	snprintf(rid, sizeof(rid), "race-wh-%u-%s", k, nonce_hex);
	req.call_case = PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK;
	req.api_key = (char *) "";
	req.ingest_webhook = &iw;
	frame = rs_pack(&req.base, &len);
	r = rs_resend(e, "ingest_webhook re-send", frame, len, replies);
	free(frame);
	if (r != NULL && (r->result_case != PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK ||
	                     r->ingest_webhook->outcome != PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED)) {
		rs_fail(e, "re-send payment %u (%s): the delivery was not APPLIED", k, d->sid);
	}
	if (r != NULL) {
		paywire__v1__response__free_unpacked(r, NULL);
	}
}

/* Through public calls only: every session paid, with an access link, and
 * the merchant's invoice numbers are exactly 1..n, each once. */
static void
rs_public_check(rs_env *e, rs_delivery *d, unsigned n)
{
	unsigned char *seen = calloc(n + 1, 1);
	pw_status_info info;
	pw_error err;

	for (unsigned i = 0; i < n; i++) {
		pw_status st;

		if (d[i].sid[0] == '\0') {
			continue; /* already counted as a failure */
		}
		memset(&err, 0, sizeof(err));
		st = pw_status_get(e->client, d[i].sid, &info, &err);
		if (st == PW_OK && info.access_link[0] != '\0') { /* the session id alone */
			rs_fail(e, "%s: get_status without the checkout secret answers the access link",
			    d[i].sid);
		}
		st = pw_checkout_status_get(e->client, d[i].sid, d[i].cks, &info, &err);
		if (st != PW_OK || info.status != PW_SESSION_PAID || info.access_link[0] == '\0') {
			rs_fail(e, "%s: %s, status %s, access link %s", d[i].sid, pw_status_name(st),
			    pw_session_status_name(info.status), info.access_link[0] ? "set" : "missing");
			continue;
		}
		if (info.invoice_number < 1 || info.invoice_number > n || seen[info.invoice_number]) {
			rs_fail(e, "%s: invoice number %" PRIu64 " out of 1..%u or given twice", d[i].sid,
			    info.invoice_number, n);
			continue;
		}
		seen[info.invoice_number] = 1;
	}
	free(seen);
}

static int
rs_storm_run(rs_env *e)
{
	unsigned p = e->a.payments;
	unsigned c = e->a.copies;
	unsigned n = p + e->a.resend;
	rs_storm s = { .e = e };
	uint64_t answered = 0;
	uint64_t dups = 0;
	uint64_t replies = 0;
	int64_t t0;
	int64_t t1;
	int64_t t2;

	s.d = calloc(n, sizeof(*s.d));
	s.applied = calloc((size_t) p * c + 1, 1);
	s.duplicate = calloc((size_t) p * c + 1, 1);
	s.ok2xx = calloc((size_t) p * c + 1, 1);
	if (s.d == NULL || s.applied == NULL || s.duplicate == NULL || s.ok2xx == NULL) {
		abort();
	}
	if (rs_storm_prepare(e, &s, p, "") != 0) {
		rs_storm_free(&s, n);
		return 1;
	}
	t0 = rs_now_ms();
	if (p > 0) {
		(void) pthread_barrier_init(&s.round, NULL, c);
		rs_workers_run(&s, c, rs_storm_worker);
		(void) pthread_barrier_destroy(&s.round);
	}
	t1 = rs_now_ms();
	rs_storm_tally(&s, &answered, &dups);
	for (unsigned k = 0; k < e->a.resend; k++) {
		rs_resend_one(e, k, &s.d[p + k], &replies);
	}
	t2 = rs_now_ms();
	rs_public_check(e, s.d, n);
	rs_sessions_write(e, s.d, n, p, "storm", "resend");
	if (p > 0) {
		printf("storm: %u payments x %u copies = %" PRIu64 " deliveries in %.1f s (%.0f deliveries/s), "
		       "%" PRIu64 " answered 2xx, %" PRIu64 " answered duplicate; ",
		    p, c, (uint64_t) p * c, (double) (t1 - t0) / 1000.0,
		    t1 > t0 ? (double) p * c * 1000.0 / (double) (t1 - t0) : 0.0, answered, dups);
	}
	if (e->a.resend > 0) {
		printf("re-sends: %u payments x %u copies x 2 calls (create_session, ingest_webhook), "
		       "%" PRIu64 " replies in %.1f s; ",
		    e->a.resend, e->a.resend_copies, replies, (double) (t2 - t1) / 1000.0);
	}
	printf("failures %u\n", atomic_load(&e->failures));
	rs_storm_free(&s, n);
	return atomic_load(&e->failures) == 0 ? 0 : 1;
}

/* ---- mixed: T threads of create/status/ingest through both fronts ---- */

typedef struct rs_mixed {
	rs_env *e;
	unsigned id;
	uint64_t calls;  /* calls made by this thread */
	char (*sids)[64]; /* the sessions it paid (rounds of them) */
	unsigned paid;    /* how many */
} rs_mixed;

/* Creates a session through the bridge's POST /create_session. */
static bool
rs_bridge_create(rs_env *e, CURL *h, rs_buf *b, const char *customer_ref, char sid[64])
{
	char body[256];
	char url[512];
	char key[200];
	const char *p;
	long code;
	size_t i = 0;

	snprintf(body, sizeof(body),
	    "{\"amount\":\"49.00\",\"currency\":\"EUR\",\"mode\":\"test\",\"customer_email\":"
	    "\"jane.doe@example.com\",\"customer_ref\":\"%s\",\"plan\":\"pro\"}",
	    customer_ref);
	snprintf(url, sizeof(url), "%s/create_session", e->bridges[0]);
	snprintf(key, sizeof(key), "X-API-Key: %s", e->api_key);
	code = rs_http(h, url, key, "Content-Type: application/json", body, strlen(body), b);
	p = strstr(b->data, "\"id\":\"");
	if (code != 200 || p == NULL) {
		rs_fail(e, "bridge create_session: HTTP %ld %.200s", code, b->data);
		return false;
	}
	for (p += 6; *p != '"' && *p != '\0' && i < 63; p++) {
		sid[i++] = *p;
	}
	sid[i] = '\0';
	return true;
}

/* One round: create, status twice, deliver (bridge), re-deliver (client),
 * status. */
static void
rs_mixed_round(rs_mixed *m, CURL *h, rs_buf *b, unsigned j)
{
	rs_env *e = m->e;
	pw_kv hdr;
	pw_webhook_result res;
	pw_status_info info;
	pw_error err;
	rs_delivery d;
	char sid[64];
	char tag[64];
	char url[512];
	char sigval[160];
	long code;
	pw_status st;

	snprintf(tag, sizeof(tag), "m%u_%u_%u", m->id, j, (unsigned) getpid());
	if (j % 2 == 0) {
		if (rs_session_create(e, tag, sid, NULL) != PW_OK) {
			return;
		}
	} else if (!rs_bridge_create(e, h, b, tag, sid)) {
		return;
	}
	st = pw_status_get(e->client, sid, &info, &err);
	if (st != PW_OK || info.status != PW_SESSION_CREATED) {
		rs_fail(e, "%s: get_status %s before payment", sid, pw_status_name(st));
	}
	snprintf(url, sizeof(url), "%s/session/%s/status", e->bridges[m->id % e->n_bridges], sid);
	code = rs_http(h, url, NULL, NULL, NULL, 0, b);
	if (code != 200 || strstr(b->data, "\"status\":\"created\"") == NULL) {
		rs_fail(e, "%s: bridge status HTTP %ld %.200s", sid, code, b->data);
	}
	rs_delivery_init(e, &d, sid, tag);
	rs_delivery_sign(e, &d, sigval, sizeof(sigval));
	snprintf(url, sizeof(url), "%s/webhooks/stripe", e->bridges[m->id % e->n_bridges]);
	code = rs_http(h, url, d.sig, "Content-Type: application/json", d.body, d.body_len, b);
	if (code != 200 || rs_outcome_of(b->data) != RS_APPLIED) {
		rs_fail(e, "%s: bridge delivery HTTP %ld %.200s", sid, code, b->data);
	}
	hdr = (pw_kv) { .key = "stripe-signature", .value = sigval };
	memset(&err, 0, sizeof(err));
	st = pw_webhook_ingest(e->client, PW_WEBHOOK_STRIPE, &hdr, 1, d.body, d.body_len, &res, &err);
	if (st != PW_OK || res.outcome != PW_WEBHOOK_DUPLICATE) {
		rs_fail(e, "%s: client re-delivery %s %s outcome %s", sid, pw_status_name(st), err.message,
		    pw_webhook_outcome_name(res.outcome));
	}
	st = pw_status_get(e->client, sid, &info, &err);
	if (st != PW_OK || info.status != PW_SESSION_PAID || info.invoice_number == 0) {
		rs_fail(e, "%s: get_status %s after payment", sid, pw_status_name(st));
	}
	snprintf(m->sids[m->paid++], 64, "%s", sid);
	free(d.body);
	m->calls += 6;
}

static void *
rs_mixed_worker(void *arg)
{
	rs_mixed *m = arg;
	CURL *h = curl_easy_init();
	rs_buf *b = malloc(sizeof(*b));

	if (h == NULL || b == NULL) {
		abort();
	}
	for (unsigned j = 0; j < m->e->a.rounds; j++) {
		rs_mixed_round(m, h, b, j);
	}
	free(b);
	curl_easy_cleanup(h);
	return NULL;
}

static int
rs_mixed_run(rs_env *e)
{
	rs_mixed m[RS_THREADS_MAX];
	pthread_t th[RS_THREADS_MAX];
	uint64_t calls = 0;
	int64_t t0 = rs_now_ms();
	int64_t t1;

	FILE *f;

	for (unsigned k = 0; k < e->a.threads; k++) {
		m[k] = (rs_mixed) { .e = e, .id = k, .sids = calloc(e->a.rounds, 64) };
		if (m[k].sids == NULL || pthread_create(&th[k], NULL, rs_mixed_worker, &m[k]) != 0) {
			abort();
		}
	}
	for (unsigned k = 0; k < e->a.threads; k++) {
		(void) pthread_join(th[k], NULL);
		calls += m[k].calls;
	}
	t1 = rs_now_ms();
	f = e->a.sessions != NULL ? fopen(e->a.sessions, "a") : NULL;
	for (unsigned k = 0; k < e->a.threads; k++) {
		for (unsigned i = 0; f != NULL && i < m[k].paid; i++) {
			fprintf(f, "%s mixed\n", m[k].sids[i]);
		}
		free(m[k].sids);
	}
	if (f != NULL) {
		(void) fclose(f);
	}
	printf("mixed: %u threads x %u rounds, %" PRIu64 " calls (client and bridge) in %.1f s, "
	       "failures %u\n",
	    e->a.threads, e->a.rounds, calls, (double) (t1 - t0) / 1000.0, atomic_load(&e->failures));
	return atomic_load(&e->failures) == 0 ? 0 : 1;
}

/* ---- main ---- */

static bool
rs_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v || n < lo || n > hi) {
		return false;
	}
	*out = (unsigned) n;
	return true;
}

static int
rs_usage(void)
{
	fprintf(stderr,
	    "usage: race_storm storm --server URL --ipc ipc://PATH --bridge URL --fixture FILE\n"
	    "                        --sessions FILE [--payments P] [--copies C] [--resend K]\n"
	    "                        [--resend-copies R]\n"
	    "       race_storm payall --server URL --bridge URL[,URL...] --fixture FILE\n"
	    "                        [--sessions FILE] [--payments P] [--copies C]\n"
	    "       race_storm mixed --server URL --bridge URL --fixture FILE [--sessions FILE]\n"
	    "                        [--threads T] [--rounds M]\n"
	    "--bridge: a comma-separated list of up to 8 bridges (requests spread over them)\n"
	    "env: PAYWIRE_ADMIN_KEY, PAYWIRE_STRIPE_WEBHOOK_SECRET\n");
	return 2;
}

static bool
rs_parse(int argc, char **argv, rs_args *a)
{
	*a = (rs_args) { .payments = 20, .copies = 64, .resend = 4, .resend_copies = 8, .threads = 8,
		.rounds = 20 };
	if (argc < 2) {
		return false;
	}
	a->mode = argv[1];
	for (int i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i];
		const char *v = argv[i + 1];
		bool ok = true;

		if (strcmp(k, "--server") == 0) {
			a->server = v;
		} else if (strcmp(k, "--ipc") == 0) {
			a->ipc = v;
		} else if (strcmp(k, "--bridge") == 0) {
			a->bridge = v;
		} else if (strcmp(k, "--fixture") == 0) {
			a->fixture = v;
		} else if (strcmp(k, "--sessions") == 0) {
			a->sessions = v;
		} else if (strcmp(k, "--payments") == 0) {
			ok = rs_uint(v, 0, 100000, &a->payments);
		} else if (strcmp(k, "--copies") == 0) {
			ok = rs_uint(v, 1, RS_THREADS_MAX, &a->copies);
		} else if (strcmp(k, "--resend") == 0) {
			ok = rs_uint(v, 0, 100000, &a->resend);
		} else if (strcmp(k, "--resend-copies") == 0) {
			ok = rs_uint(v, 1, RS_COPIES_MAX, &a->resend_copies);
		} else if (strcmp(k, "--threads") == 0) {
			ok = rs_uint(v, 1, RS_THREADS_MAX, &a->threads);
		} else if (strcmp(k, "--rounds") == 0) {
			ok = rs_uint(v, 1, 1000000, &a->rounds);
		} else {
			ok = false;
		}
		if (!ok) {
			fprintf(stderr, "race_storm: bad option %s %s\n", k, v);
			return false;
		}
	}
	if (a->server == NULL || a->bridge == NULL || a->fixture == NULL) {
		return false;
	}
	if (strcmp(a->mode, "storm") == 0) {
		return a->sessions != NULL && (a->resend == 0 || a->ipc != NULL);
	}
	return strcmp(a->mode, "mixed") == 0 || strcmp(a->mode, "payall") == 0;
}

int
main(int argc, char **argv)
{
	static rs_env e;
	int rv;

	if (!rs_parse(argc, argv, &e.a)) {
		return rs_usage();
	}
	for (const char *b = e.a.bridge; *b != '\0' && e.n_bridges < RS_BRIDGES_MAX;) {
		size_t len = strcspn(b, ",");

		if (len == 0 || len >= sizeof(e.bridges[0])) {
			return rs_usage();
		}
		memcpy(e.bridges[e.n_bridges], b, len);
		e.bridges[e.n_bridges++][len] = '\0';
		b += len + (b[len] == ',');
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
		fprintf(stderr, "race_storm: libsodium or libcurl did not initialize\n");
		return 1;
	}
	atomic_init(&e.failures, 0);
	rv = rs_env_open(&e);
	if (rv == 0) {
		rv = strcmp(e.a.mode, "storm") == 0 ? rs_storm_run(&e) :
		    strcmp(e.a.mode, "payall") == 0 ? rs_payall_run(&e) : rs_mixed_run(&e);
	} else {
		rv = 1;
	}
	if (e.client != NULL) {
		pw_client_close(e.client);
	}
	free(e.fixture);
	sodium_memzero(e.admin_key, sizeof(e.admin_key));
	curl_global_cleanup();
	return rv;
}
