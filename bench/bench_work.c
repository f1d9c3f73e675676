/*
 * bench_work.c - the workloads of paywire-bench: one call of each kind as a
 * bench_op_fn for the runner (bench_load.c), and what they need prepared:
 * unpaid sessions to pay (fresh webhooks), events already applied
 * (duplicates), a customer with credits. Webhook events are Stripe
 * checkout.session.completed events built and signed here with the
 * server's Stripe webhook secret, as Stripe would send them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "pw_common.h"

#define BENCH_EVT_BODY_BYTES 768  /* one event's JSON */
#define BENCH_SIG_BYTES 160       /* "t=<unix>,v1=<64 hex>" */
#define BENCH_HTTP_BYTES 2048     /* one request or response */
#define BENCH_HTTP_TIMEOUT_S 10   /* send and receive, per call */
#define BENCH_CREDITS_BOUGHT 1000000000 /* PW_CREDITS_MAX: deducted 1 per call */

static const char bench_customer[] = "bench_customer";

static int
bench_fail(const char *what, const pw_error *err)
{
	fprintf(stderr, "bench: %s: %s: %s\n", what, pw_status_name(err->code), err->message);
	return -1;
}

/* ---- events ---- */

/* A checkout.session.completed paying session sid (4900 EUR minor units, as
 * every bench session), event id evt_<tag>_<n>. */
static void
bench_event_body(const bench_work *wk, uint64_t n, const char *sid, char *out, size_t size)
{
	int len = snprintf(out, size,
	    "{\"id\":\"evt_%s_%llu\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":%ld,\"livemode\":false,\"data\":{\"object\":{\"id\":\"cs_%s_%llu\","
	    "\"object\":\"checkout.session\",\"amount_total\":%lld,\"currency\":\"eur\","
	    "\"client_reference_id\":\"%s\",\"payment_intent\":\"pi_%s_%llu\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}",
	    wk->tag, (unsigned long long) n, (long) time(NULL), wk->tag, (unsigned long long) n,
	    (long long) BENCH_SESSION_AMOUNT, sid, wk->tag, (unsigned long long) n);

	PW_ASSERT(len > 0 && (size_t) len < size);
}

/* stripe-signature for body, signed now. */
static void
bench_stripe_sign(const bench_work *wk, const char *body, char *out, size_t size)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[32];
	char ts[32];
	char hex[65];
	long t = (long) time(NULL);

	snprintf(ts, sizeof(ts), "%ld.", t);
	crypto_auth_hmacsha256_init(&st, (const uint8_t *) wk->stripe_secret,
	    strlen(wk->stripe_secret));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, size, "t=%ld,v1=%s", t, hex);
	sodium_memzero(mac, sizeof(mac));
}

static int
bench_ingest(const bench_work *wk, const char *body, pw_webhook_outcome want)
{
	char sig[BENCH_SIG_BYTES];
	pw_kv h[2] = { { "content-type", "application/json" }, { "stripe-signature", sig } };
	pw_webhook_result res;
	pw_error err;

	bench_stripe_sign(wk, body, sig, sizeof(sig));
	if (pw_webhook_ingest(wk->c, PW_WEBHOOK_STRIPE, h, 2, body, strlen(body), &res, &err) !=
	    PW_OK) {
		return bench_fail("ingest_webhook", &err);
	}
	if (res.outcome != want) {
		fprintf(stderr, "bench: ingest_webhook answered %s, expected %s (%s)\n",
		    pw_webhook_outcome_name(res.outcome), pw_webhook_outcome_name(want), res.reason);
		return -1;
	}
	return 0;
}

/* The next unpaid session of the pool; -1 when the pool is used up. */
static int
bench_target_take(bench_work *wk, size_t *idx)
{
	size_t i = atomic_fetch_add(&wk->target_next, 1);

	if (i >= wk->ntargets) {
		fprintf(stderr, "bench: the pool of %zu unpaid sessions is used up (--pool)\n",
		    wk->ntargets);
		return -1;
	}
	*idx = i;
	return 0;
}

/* ---- the calls ---- */

static const pw_session_params bench_session = {
	.amount_minor = BENCH_SESSION_AMOUNT,
	.currency = "EUR",
	.mode = PW_MODE_TEST,
	.customer_email = "bench@example.com",
	.customer_ref = bench_customer,
	.fulfillment = PW_FULFILL_ACCESS_KEY,
	.plan = "pro",
};

int
bench_op_get_status(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	const char *id = wk->ids[seq % wk->nids];
	pw_status_info info;
	pw_error err;

	(void) worker;
	if (pw_status_get(wk->c, id, &info, &err) != PW_OK) {
		return bench_fail("get_status", &err);
	}
	if (strcmp(info.session_id, id) != 0) {
		fprintf(stderr, "bench: get_status answered another session\n");
		return -1;
	}
	return 0;
}

/* Every BENCH_CUSTOMER_EVERY-th session is bench_customer's (the credits,
 * entitlements and access-key reads ask about that customer); every other
 * session has a customer of its own, as a shop's checkouts mostly do. With
 * one customer for all, every fresh webhook would relink the same
 * entitlement record (its holders capped at PW_ENTITLEMENT_HOLDERS_MAX, a
 * warning logged per payment past the cap): the cost of one customer who
 * buys the same plan 10^5 times, not of a checkout. */
#define BENCH_CUSTOMER_EVERY 1024u

static int
bench_create(bench_work *wk, char *id_out)
{
	pw_session_params p = bench_session;
	uint64_t n = atomic_fetch_add(&wk->customers, 1);
	char customer[64];
	pw_session s;
	pw_error err;

	if (n % BENCH_CUSTOMER_EVERY != 0) {
		snprintf(customer, sizeof(customer), "bench_cus_%s_%llu", wk->tag,
		    (unsigned long long) n);
		p.customer_ref = customer;
	}
	if (pw_session_create(wk->c, wk->api_key, &p, &s, &err) != PW_OK) {
		return bench_fail("create_session", &err);
	}
	if (s.status != PW_SESSION_CREATED || s.amount_minor != BENCH_SESSION_AMOUNT) {
		fprintf(stderr, "bench: create_session answered OK with an unexpected session\n");
		return -1;
	}
	if (id_out != NULL) {
		memcpy(id_out, s.id, sizeof(s.id));
	}
	atomic_fetch_add(&wk->created, 1);
	return 0;
}

int
bench_op_create(void *ctx, unsigned worker, uint64_t seq)
{
	(void) worker;
	(void) seq;
	return bench_create(ctx, NULL);
}

/* Fills the pool: call seq creates targets[seq]. */
int
bench_op_create_target(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;

	(void) worker;
	PW_ASSERT(seq < wk->ntargets);
	return bench_create(wk, wk->targets[seq]);
}

int
bench_op_ingest_fresh(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	char body[BENCH_EVT_BODY_BYTES];
	size_t i;

	(void) worker;
	(void) seq;
	if (bench_target_take(wk, &i) != 0) {
		return -1;
	}
	bench_event_body(wk, i, wk->targets[i], body, sizeof(body));
	if (bench_ingest(wk, body, PW_WEBHOOK_APPLIED) != 0) {
		return -1;
	}
	atomic_fetch_add(&wk->paid, 1);
	return 0;
}

int
bench_op_ingest_dup(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;

	(void) worker;
	return bench_ingest(wk, wk->dups[seq % wk->ndups], PW_WEBHOOK_DUPLICATE);
}

/* Half create_session, half a fresh webhook: the durable write mix. */
int
bench_op_mix(void *ctx, unsigned worker, uint64_t seq)
{
	return seq % 2u == 0 ? bench_op_create(ctx, worker, seq)
	                     : bench_op_ingest_fresh(ctx, worker, seq);
}

int
bench_op_credits_deduct(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	char idem[64];
	pw_credit_txn t;
	pw_error err;

	(void) worker;
	snprintf(idem, sizeof(idem), "bench_%s_%llu", wk->tag, (unsigned long long) seq);
	if (pw_credits_deduct(wk->c, wk->api_key, bench_customer, 1, idem, NULL, &t, &err) !=
	    PW_OK) {
		return bench_fail("credits_deduct", &err);
	}
	return 0;
}

int
bench_op_credits_balance(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	pw_credit_balance b;
	pw_error err;

	(void) worker;
	(void) seq;
	if (pw_credits_balance(wk->c, wk->api_key, bench_customer, &b, &err) != PW_OK) {
		return bench_fail("credits_balance", &err);
	}
	if (b.balance <= 0) {
		fprintf(stderr, "bench: credits_balance: the customer has no credits\n");
		return -1;
	}
	return 0;
}

/* Each worker's page buffers (the pages are large: allocated once). */
static void *
bench_page(bench_work *wk, unsigned worker, size_t size)
{
	PW_ASSERT(worker < BENCH_WORKERS_MAX);
	if (wk->pages[worker] == NULL) {
		wk->pages[worker] = malloc(size > BENCH_PAGE_BYTES ? size : BENCH_PAGE_BYTES);
	}
	PW_ASSERT(size <= BENCH_PAGE_BYTES);
	if (wk->pages[worker] == NULL) {
		fprintf(stderr, "bench: out of memory for a listing page\n");
	}
	return wk->pages[worker];
}

int
bench_op_sessions_list(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	pw_session_filter f = { .limit = 10 };
	pw_session_page *pg = bench_page(wk, worker, sizeof(*pg));
	pw_error err;

	(void) seq;
	if (pg == NULL) {
		return -1;
	}
	if (pw_sessions_list(wk->c, wk->api_key, &f, pg, &err) != PW_OK) {
		return bench_fail("list_sessions", &err);
	}
	if (pg->n == 0 && !pg->has_more) {
		fprintf(stderr, "bench: list_sessions answered no session\n");
		return -1;
	}
	return 0;
}

int
bench_op_events_list(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	pw_event_page *pg = bench_page(wk, worker, sizeof(*pg));
	pw_error err;

	(void) seq;
	if (pg == NULL) {
		return -1;
	}
	if (pw_events_list(wk->c, wk->api_key, 0, 10, pg, &err) != PW_OK) {
		return bench_fail("list_events", &err);
	}
	/* a page may be short (even empty, with has_more) when the server
	 * walks the log past other merchants' events (a store's records older
	 * than its merchant index): OK is the answer checked, and the row notes
	 * how full the pages were */
	atomic_fetch_add(&wk->listed, pg->n);
	atomic_fetch_add(&wk->listed_pages, 1);
	return 0;
}

int
bench_op_entitlements(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	pw_entitlement_page *pg = bench_page(wk, worker, sizeof(*pg));
	pw_error err;

	(void) seq;
	if (pg == NULL) {
		return -1;
	}
	if (pw_entitlements_get(wk->c, wk->api_key, bench_customer, NULL, 10, pg, &err) != PW_OK) {
		return bench_fail("get_entitlements", &err);
	}
	return 0;
}

int
bench_op_apikeys_list(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	pw_api_key_list *pg = bench_page(wk, worker, sizeof(*pg));
	pw_error err;

	(void) seq;
	if (pg == NULL) {
		return -1;
	}
	if (pw_apikey_list(wk->c, wk->api_key, pg, &err) != PW_OK) {
		return bench_fail("list_api_keys", &err);
	}
	if (pg->n == 0) {
		fprintf(stderr, "bench: list_api_keys answered no key\n");
		return -1;
	}
	return 0;
}

/* ---- HTTP through paywire-bridge: one keep-alive connection per worker ---- */

static int
bench_http_connect(const bench_work *wk)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = BENCH_HTTP_TIMEOUT_S };
	int one = 1;
	int fd;

	sa.sin_port = htons((uint16_t) wk->http_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -1;
	}
	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		fprintf(stderr, "bench: connect to the bridge: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
bench_send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Reads one response; *code its status. 0 or -1. */
static int
bench_http_read(int fd, int *code, char *buf, size_t size)
{
	size_t got = 0;
	char *end = NULL;
	long clen = -1;

	while (end == NULL) {
		ssize_t n;
		if (got + 1 >= size) {
			return -1;
		}
		n = recv(fd, buf + got, size - 1 - got, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		got += (size_t) n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "HTTP/1.%*c %d", code) != 1) {
		return -1;
	}
	for (char *p = buf; p < end; p++) {
		if (strncasecmp(p, "\ncontent-length:", 16) == 0) {
			clen = strtol(p + 16, NULL, 10);
			break;
		}
	}
	if (clen < 0 || (size_t) (end + 4 - buf) + (size_t) clen >= size) {
		return -1;
	}
	while (got < (size_t) (end + 4 - buf) + (size_t) clen) {
		ssize_t n = recv(fd, buf + got, size - 1 - got, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		got += (size_t) n;
	}
	buf[got] = '\0';
	return 0;
}

int
bench_op_http_webhook(void *ctx, unsigned worker, uint64_t seq)
{
	bench_work *wk = ctx;
	char body[BENCH_EVT_BODY_BYTES];
	char sig[BENCH_SIG_BYTES];
	char req[BENCH_HTTP_BYTES];
	char resp[BENCH_HTTP_BYTES];
	size_t i;
	int code = 0;
	int len;

	(void) seq;
	PW_ASSERT(worker < BENCH_WORKERS_MAX);
	if (bench_target_take(wk, &i) != 0) {
		return -1;
	}
	bench_event_body(wk, i, wk->targets[i], body, sizeof(body));
	bench_stripe_sign(wk, body, sig, sizeof(sig));
	len = snprintf(req, sizeof(req),
	    "POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
	    "Stripe-Signature: %s\r\nContent-Length: %zu\r\n\r\n%s",
	    sig, strlen(body), body);
	PW_ASSERT(len > 0 && (size_t) len < sizeof(req));
	if (wk->http_fd[worker] <= 0) {
		wk->http_fd[worker] = bench_http_connect(wk);
		if (wk->http_fd[worker] < 0) {
			return -1;
		}
	}
	if (bench_send_all(wk->http_fd[worker], req, (size_t) len) != 0 ||
	    bench_http_read(wk->http_fd[worker], &code, resp, sizeof(resp)) != 0) {
		fprintf(stderr, "bench: HTTP webhook: the connection failed: %s\n", strerror(errno));
		return -1;
	}
	if (code != 200 || strstr(resp, "\"applied\"") == NULL) {
		char *b = strstr(resp, "\r\n\r\n");
		fprintf(stderr, "bench: HTTP webhook answered %d: %.200s\n", code, b ? b + 4 : "");
		return -1;
	}
	atomic_fetch_add(&wk->paid, 1);
	return 0;
}

void
bench_work_http_close(bench_work *wk)
{
	for (unsigned i = 0; i < BENCH_WORKERS_MAX; i++) {
		if (wk->http_fd[i] > 0) {
			close(wk->http_fd[i]);
			wk->http_fd[i] = 0;
		}
	}
}

/* ---- preparation ---- */

int
bench_work_dups_prep(bench_work *wk)
{
	for (size_t k = 0; k < BENCH_DUPS; k++) {
		size_t i;
		if (bench_target_take(wk, &i) != 0) {
			return -1;
		}
		bench_event_body(wk, i, wk->targets[i], wk->dups[k], sizeof(wk->dups[k]));
		if (bench_ingest(wk, wk->dups[k], PW_WEBHOOK_APPLIED) != 0) {
			return -1;
		}
		atomic_fetch_add(&wk->paid, 1);
	}
	wk->ndups = BENCH_DUPS;
	return 0;
}

int
bench_work_credits_prep(bench_work *wk)
{
	pw_session_params p = bench_session;
	char body[BENCH_EVT_BODY_BYTES];
	pw_session s;
	pw_error err;

	p.fulfillment = PW_FULFILL_CREDITS;
	p.plan = NULL;
	p.credits = BENCH_CREDITS_BOUGHT;
	if (pw_session_create(wk->c, wk->api_key, &p, &s, &err) != PW_OK) {
		return bench_fail("create_session (credits)", &err);
	}
	atomic_fetch_add(&wk->created, 1);
	bench_event_body(wk, UINT64_MAX, s.id, body, sizeof(body));
	if (bench_ingest(wk, body, PW_WEBHOOK_APPLIED) != 0) {
		return -1;
	}
	atomic_fetch_add(&wk->paid, 1);
	return 0;
}
