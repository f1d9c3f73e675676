/*
 * server_idempotency_test.c - every mutating call is idempotent by
 * construction: a repeat of a request_id gets the stored reply byte for byte
 * and changes nothing, concurrently too; real nng REQ re-sends; idempotency
 * keys; create_merchant's stored reply never holds the raw key in clear.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server_harness.h"

enum { C_OK = 0, C_DEADLINE = 4, C_ABORTED = 10 };

static th_env F; /* server, REQ socket, test merchant */

static int
group_setup(void **state)
{
	(void) state;
	th_env_start(&F, 64);
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	th_env_stop(&F);
	return 0;
}

static uint64_t
sessions(store *st)
{
	store_counts c;

	assert_int_equal(PW_OK, store_counts_get(st, &c));
	return c.sessions;
}

static bool file_contains(const char *path, const char *needle);

/* A packed create_session Request. */
static uint8_t *
session_frame(const char *rid, int64_t amount, const char *idem_key, size_t *len)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs;

	th_session_req_init(&cs, amount);
	cs.idempotency_key = (char *) (idem_key != NULL ? idem_key : "");
	cs.customer_email = (char *) "jane@example.com";
	req.request_id = (char *) rid;
	req.api_key = F.key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	return th_pack(&req.base, len);
}

static Paywire__V1__Response *
unpack_reply(const uint8_t *buf, size_t len)
{
	Paywire__V1__Response *r = paywire__v1__response__unpack(NULL, len, buf);

	assert_non_null(r);
	assert_non_null(r->status);
	return r;
}

static void
test_same_request_id_twice_returns_identical_bytes_and_one_session(void **state)
{
	uint8_t *frame;
	uint8_t *a = NULL;
	uint8_t *b = NULL;
	size_t len;
	size_t alen;
	size_t blen;
	uint64_t n0 = sessions(F.srv.st);
	uint64_t txn;
	Paywire__V1__Response *r;
	char rid[64];
	char path[256];

	(void) state;
	th_request_id(rid, sizeof(rid));
	frame = session_frame(rid, 4900, NULL, &len);
	assert_int_equal(0, th_call_raw(F.sock, frame, len, &a, &alen));
	txn = store_last_txnid(F.srv.st);
	assert_int_equal(0, th_call_raw(F.sock, frame, len, &b, &blen));
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(n0 + 1, sessions(F.srv.st));
	assert_int_equal(txn, store_last_txnid(F.srv.st)); /* the replay wrote nothing */
	r = unpack_reply(a, alen);
	assert_int_equal(C_OK, r->status->code);
	assert_string_equal(rid, r->request_id);
	/* The reply kept for the replay is sealed: the customer's checkout
	 * secret (a capability) is nowhere in the file; the session id is. */
	assert_int_equal(PW_CHECKOUT_SECRET_BYTES, strlen(r->create_session->checkout_secret));
	(void) snprintf(path, sizeof(path), "%s/data.mdb", F.srv.dir);
	assert_false(file_contains(path, r->create_session->checkout_secret + 4));
	assert_true(file_contains(path, r->create_session->session->id)); /* control */
	th_resp_free(r);
	free(a);
	free(b);
	free(frame);
}

static void
test_same_request_id_with_other_parameters_is_aborted_and_writes_nothing(void **state)
{
	uint8_t *f1;
	uint8_t *f2;
	uint8_t *out = NULL;
	size_t l1;
	size_t l2;
	size_t olen;
	uint64_t txn;
	Paywire__V1__Response *r;
	char rid[64];

	(void) state;
	th_request_id(rid, sizeof(rid));
	f1 = session_frame(rid, 100, NULL, &l1);
	f2 = session_frame(rid, 200, NULL, &l2);
	assert_int_equal(0, th_call_raw(F.sock, f1, l1, &out, &olen));
	free(out);
	txn = store_last_txnid(F.srv.st);
	assert_int_equal(0, th_call_raw(F.sock, f2, l2, &out, &olen));
	r = unpack_reply(out, olen);
	assert_int_equal(C_ABORTED, r->status->code);
	assert_string_equal(rid, r->request_id);
	assert_non_null(strstr(r->status->message, "request_id"));
	assert_int_equal(txn, store_last_txnid(F.srv.st));
	th_resp_free(r);
	free(out);
	free(f1);
	free(f2);
}

typedef struct racer {
	const char *url;          /* server */
	const uint8_t *frame;     /* identical bytes for every thread */
	size_t len;               /* frame length */
	pthread_barrier_t *start; /* all send at once */
	uint8_t *reply;           /* reply bytes (malloc) */
	size_t reply_len;         /* bytes */
	int rv;                   /* nng status */
} racer;

static void *
racer_main(void *arg)
{
	racer *r = arg;
	nng_socket s;

	/* No cmocka asserts off the main thread: record and check later. */
	r->rv = nng_req0_open(&s);
	if (r->rv == 0) {
		(void) nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, TW_HANG_MS);
		(void) nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
		r->rv = nng_dial(s, r->url, NULL, 0);
	}
	(void) pthread_barrier_wait(r->start);
	if (r->rv == 0) {
		void *buf = NULL;
		size_t n = 0;
		r->rv = nng_send(s, (void *) r->frame, r->len, 0);
		if (r->rv == 0) {
			r->rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC);
		}
		if (r->rv == 0) {
			r->reply = malloc(n);
			if (r->reply != NULL) {
				memcpy(r->reply, buf, n);
			}
			r->reply_len = n;
			nng_free(buf, n);
		}
	}
	(void) nng_close(s);
	return NULL;
}

static void
test_32_threads_sending_the_same_create_session_make_one_session(void **state)
{
	enum { N = 32 };
	pthread_t th[N];
	racer rc[N];
	pthread_barrier_t start;
	uint8_t *frame;
	size_t len;
	uint64_t n0 = sessions(F.srv.st);
	uint64_t replays0 = atomic_load(&F.srv.env.counters.replays);
	char rid[64];

	(void) state;
	th_request_id(rid, sizeof(rid));
	frame = session_frame(rid, 777, NULL, &len);
	assert_int_equal(0, pthread_barrier_init(&start, NULL, N));
	for (int i = 0; i < N; i++) {
		rc[i] = (racer) { .url = F.srv.url, .frame = frame, .len = len, .start = &start };
		assert_int_equal(0, pthread_create(&th[i], NULL, racer_main, &rc[i]));
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(0, pthread_join(th[i], NULL));
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(0, rc[i].rv);
		assert_non_null(rc[i].reply);
		assert_int_equal(rc[0].reply_len, rc[i].reply_len);
		assert_memory_equal(rc[0].reply, rc[i].reply, rc[0].reply_len);
	}
	{
		Paywire__V1__Response *r = unpack_reply(rc[0].reply, rc[0].reply_len);
		assert_int_equal(C_OK, r->status->code);
		assert_int_equal(777, r->create_session->session->amount_minor);
		th_resp_free(r);
	}
	assert_int_equal(n0 + 1, sessions(F.srv.st));
	assert_int_equal(replays0 + N - 1, atomic_load(&F.srv.env.counters.replays));
	for (int i = 0; i < N; i++) {
		free(rc[i].reply);
	}
	(void) pthread_barrier_destroy(&start);
	free(frame);
}

static void
test_same_idempotency_key_with_another_request_id_returns_the_same_session(void **state)
{
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *a;
	Paywire__V1__Response *b;
	Paywire__V1__Response *c;
	uint64_t n0 = sessions(F.srv.st);
	uint64_t txn;
	char r1[64];
	char r2[64];
	char r3[64];

	(void) state;
	th_request_id(r1, sizeof(r1));
	th_request_id(r2, sizeof(r2));
	th_request_id(r3, sizeof(r3));
	th_session_req_init(&cs, 1000);
	cs.idempotency_key = (char *) "order-1001";
	a = th_create_session(F.sock, F.key, r1, &cs);
	b = th_create_session(F.sock, F.key, r2, &cs);
	assert_int_equal(C_OK, a->status->code);
	assert_int_equal(C_OK, b->status->code);
	assert_string_equal(r2, b->request_id);
	assert_string_equal(a->create_session->session->id, b->create_session->session->id);
	assert_int_equal(n0 + 1, sessions(F.srv.st));
	/* Same key, another amount: IDEMPOTENCY_CONFLICT travels as ABORTED. */
	txn = store_last_txnid(F.srv.st);
	cs.amount_minor = 2000;
	c = th_create_session(F.sock, F.key, r3, &cs);
	assert_int_equal(C_ABORTED, c->status->code);
	assert_non_null(strstr(c->status->message, "idempotency_key"));
	assert_int_equal(txn, store_last_txnid(F.srv.st));
	assert_int_equal(n0 + 1, sessions(F.srv.st));
	th_resp_free(a);
	th_resp_free(b);
	th_resp_free(c);
}

/* Finds needle in the file's bytes. */
static bool
file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t nlen = strlen(needle);
	size_t cap = 0;
	size_t len = 0;
	char *buf = NULL;
	bool found = false;
	char chunk[65536];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n > cap) {
			cap = (len + n) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	(void) fclose(f);
	for (size_t i = 0; i + nlen <= len && !found; i++) {
		found = memcmp(buf + i, needle, nlen) == 0;
	}
	free(buf);
	return found;
}

static void
test_create_merchant_replay_returns_the_same_key_never_stored_in_clear(void **state)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateMerchantRequest cm = PAYWIRE__V1__CREATE_MERCHANT_REQUEST__INIT;
	Paywire__V1__Response *r;
	store_counts c0;
	store_counts c1;
	uint8_t *frame;
	uint8_t *a = NULL;
	uint8_t *b = NULL;
	size_t len;
	size_t alen;
	size_t blen;
	char path[256];
	char rid[64];

	(void) state;
	assert_int_equal(PW_OK, store_counts_get(F.srv.st, &c0));
	th_request_id(rid, sizeof(rid));
	cm.name = (char *) "replayed shop";
	cm.mode = PAYWIRE__V1__MODE__MODE_TEST;
	req.request_id = rid;
	req.api_key = (char *) TH_ADMIN_KEY;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT;
	req.create_merchant = &cm;
	frame = th_pack(&req.base, &len);
	assert_int_equal(0, th_call_raw(F.sock, frame, len, &a, &alen));
	assert_int_equal(0, th_call_raw(F.sock, frame, len, &b, &blen));
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(PW_OK, store_counts_get(F.srv.st, &c1));
	assert_int_equal(c0.merchants + 1, c1.merchants);
	r = unpack_reply(a, alen);
	assert_int_equal(C_OK, r->status->code);
	assert_non_null(strstr(r->create_merchant->api_key, "sk_test_"));
	/* The stored reply is sealed: the raw key is nowhere in the file. The
	 * 12-character prefix is stored on purpose (operators), so look for the
	 * part after it. */
	(void) snprintf(path, sizeof(path), "%s/data.mdb", F.srv.dir);
	assert_true(strlen(r->create_merchant->api_key) > 20);
	assert_false(file_contains(path, r->create_merchant->api_key + 12));
	assert_true(file_contains(path, r->create_merchant->merchant_id)); /* control */
	th_resp_free(r);
	free(a);
	free(b);
	free(frame);
}

/* A store write that holds the writer until the test lets it go. */
typedef struct hold {
	store_write w;         /* queued with store_submit */
	atomic_bool entered;   /* the writer is inside apply */
	atomic_bool released;  /* the test let it go */
	atomic_int done;       /* done calls */
} hold;

static pw_status
hold_apply(store_txn *t, void *arg)
{
	hold *h = arg;

	(void) t;
	atomic_store(&h->entered, true);
	while (!atomic_load(&h->released)) {
		tw_sleep_ms(1);
	}
	return PW_OK;
}

static void
hold_done(pw_status st, void *arg)
{
	hold *h = arg;

	(void) st;
	atomic_fetch_add(&h->done, 1);
}

/* A REQ re-send is the same bytes under the same SP request id on the same
 * connection. Three of them arrive while the writer is held, so all three
 * are in the server before anything is written (counted, not timed): one
 * session, three identical replies. They are sent raw (th_raw_ipc_*), not by
 * an nng REQ socket with a short resend time: nng 1.5.2 hangs in nng_close()
 * on such a socket now and then (5 runs in ~250 under load, every thread
 * idle inside libnng), whatever the server did. */
static void
test_req_resend_arrives_several_times_and_makes_one_session(void **state)
{
	enum { COPIES = 3 };
	th_server slow;
	hold h = { .w = { .apply = hold_apply, .done = hold_done } };
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	uint8_t *reply[COPIES] = { NULL };
	size_t reply_len[COPIES] = { 0 };
	int64_t deadline = pw_monotonic_ms() + TW_HANG_MS;
	nng_socket s;
	uint8_t *frame;
	size_t len;
	char key[128];
	char mid[64];
	char rid[64];
	uint64_t frames0;
	uint64_t replays0;
	uint64_t n0;
	srv_rpc_stats st;
	int fd;

	(void) state;
	th_server_start(&slow, 16, 0);
	s = th_req_open(slow.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	n0 = sessions(slow.st);
	frames0 = atomic_load(&slow.env.counters.frames);
	replays0 = atomic_load(&slow.env.counters.replays);
	h.w.arg = &h;
	assert_int_equal(PW_OK, store_submit(slow.st, &h.w));
	TW_WAIT_UNTIL(atomic_load(&h.entered));
	assert_true(atomic_load(&h.entered));
	th_request_id(rid, sizeof(rid));
	th_session_req_init(&cs, 4242);
	req.request_id = rid;
	req.api_key = key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	frame = th_pack(&req.base, &len);
	fd = th_raw_ipc_open(slow.url, deadline);
	for (int i = 0; i < COPIES; i++) {
		assert_true(th_raw_ipc_send(fd, 0x80000001u, frame, len));
	}
	TW_WAIT_UNTIL(atomic_load(&slow.env.counters.frames) - frames0 >= COPIES);
	atomic_store(&h.released, true);
	for (int i = 0; i < COPIES; i++) {
		assert_int_equal(1, th_raw_ipc_recv(fd, deadline, &reply[i], &reply_len[i]));
	}
	(void) close(fd);
	free(frame);
	r = paywire__v1__response__unpack(NULL, reply_len[0], reply[0]);
	assert_non_null(r);
	assert_int_equal(C_OK, r->status->code);
	assert_string_equal(rid, r->request_id);
	th_resp_free(r);
	for (int i = 1; i < COPIES; i++) { /* every copy: the same reply, byte for byte */
		assert_int_equal(reply_len[0], reply_len[i]);
		assert_memory_equal(reply[0], reply[i], reply_len[0]);
	}
	for (int i = 0; i < COPIES; i++) {
		free(reply[i]);
	}
	/* Every copy has been answered: none is in flight. */
	TW_WAIT_UNTIL((srv_rpc_stats_get(slow.rpc, &st), st.in_flight == 0));
	if (atomic_load(&slow.env.counters.frames) - frames0 < 3) {
		fail_msg("the request arrived only %llu times",
		    (unsigned long long) (atomic_load(&slow.env.counters.frames) - frames0));
	}
	assert_true(atomic_load(&slow.env.counters.replays) - replays0 >= 2);
	assert_int_equal(n0 + 1, sessions(slow.st));
	assert_int_equal(1, atomic_load(&h.done));
	(void) nng_close(s);
	th_server_stop(&slow);
}

static void
test_deadline_passed_before_the_write_is_deadline_exceeded_and_writes_nothing(void **state)
{
	th_server slow;
	nng_socket s;
	char key[128];
	char mid[64];
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	uint64_t txn;

	(void) state;
	th_server_start(&slow, 4, 300);
	s = th_req_open(slow.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	txn = store_last_txnid(slow.st);
	th_session_req_init(&cs, 10);
	req.request_id = (char *) "req_deadline_1";
	req.api_key = key;
	req.deadline_ms = 50;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	r = th_call(s, &req, NULL);
	assert_non_null(r);
	assert_int_equal(C_DEADLINE, r->status->code);
	assert_int_equal(txn, store_last_txnid(slow.st));
	th_resp_free(r);
	(void) nng_close(s);
	th_server_stop(&slow);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_request_id_twice_returns_identical_bytes_and_one_session),
		cmocka_unit_test(test_same_request_id_with_other_parameters_is_aborted_and_writes_nothing),
		cmocka_unit_test(test_32_threads_sending_the_same_create_session_make_one_session),
		cmocka_unit_test(test_same_idempotency_key_with_another_request_id_returns_the_same_session),
		cmocka_unit_test(test_create_merchant_replay_returns_the_same_key_never_stored_in_clear),
		cmocka_unit_test(test_req_resend_arrives_several_times_and_makes_one_session),
		cmocka_unit_test(test_deadline_passed_before_the_write_is_deadline_exceeded_and_writes_nothing),
	};

	int rv = cmocka_run_group_tests(tests, group_setup, group_teardown);
	/* nng frees closed sockets, dialers and pipes on its own reaper thread:
	 * wait for it, or LeakSanitizer may catch them in flight at exit. */
	nng_fini();
	return rv;
}
