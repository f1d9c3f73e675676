/*
 * client_retry_test.c - libpaywire's transport: timeouts, retries with the
 * same bytes, no server (ipc:// and refused tcp://), a server gone between
 * calls, a peer that is not REP, a server that comes up late, a dropped
 * connection, and many threads sharing one client. Against client/testpeer.h
 * (a real nng REP socket on ipc:// in a temp dir). What the client did is
 * read from its test counters (client/client_hooks.h: reach checks, requests
 * sent), never from a clock; waits are bounded only to catch a hang. Links
 * libpaywire.a, where those counters are visible.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"
#include "client_fixture.h"
#include "client_hooks.h"
#include "testpeer.h"
#include "test_wait.h"

#include <paywire/client.h>

/* Per-attempt timeout of the test whose second attempt must be answered. */
#define SECOND_COPY_TIMEOUT_MS 60000

/* How the peer behaves. */
typedef enum peer_mode {
	PEER_SILENT,       /* never answers */
	PEER_SECOND_COPY,  /* answers only the 2nd copy of a request */
	PEER_ECHO,         /* answers at once, with values derived from the request */
	PEER_DROP_FIRST,   /* closes the connection on the 1st copy, answers the next */
} peer_mode;

typedef struct peer_state {
	_Atomic int mode;   /* peer_mode */
	uint32_t base;      /* copy_no of the previous request (peer thread only) */
} peer_state;

/* "t3-17" -> 3017: what PEER_ECHO answers as amount_minor. */
static int64_t
derived_amount(const char *session_id)
{
	int t = -1;
	int i = -1;
	if (sscanf(session_id, "t%d-%d", &t, &i) != 2) {
		return -1;
	}
	return (int64_t) t * 1000 + i;
}

static void
echo_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__GetStatusResponse g = PAYWIRE__V1__GET_STATUS_RESPONSE__INIT;

	PW_ASSERT(rq != NULL && rq->call_case == PAYWIRE__V1__REQUEST__CALL_GET_STATUS);
	g.session_id = rq->get_status->session_id;
	g.amount_minor = derived_amount(rq->get_status->session_id);
	g.currency = "EUR";
	g.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PENDING;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
	rsp.get_status = &g;
	testpeer_reply_pack(out, &rsp);
}

/* Runs on the peer thread: no cmocka asserts here. The tests of modes
 * SECOND_COPY and DROP_FIRST make one call at a time, so "the n-th copy" is
 * counted from the first request of that call (copy_no - base). */
static void
peer_handler(void *arg, const Paywire__V1__Request *rq, const uint8_t *raw, size_t raw_len,
    uint32_t copy_no, testpeer_reply *out)
{
	peer_state *ps = arg;
	(void) raw;
	(void) raw_len;

	switch ((peer_mode) atomic_load(&ps->mode)) {
	case PEER_SILENT:
		return;
	case PEER_ECHO:
		echo_reply(rq, out);
		return;
	case PEER_SECOND_COPY:
		if (copy_no - ps->base == 2) {
			echo_reply(rq, out);
		}
		return;
	case PEER_DROP_FIRST:
		if (copy_no - ps->base == 1) {
			out->drop_conn = true;
		} else {
			echo_reply(rq, out);
		}
		return;
	}
}

static pw_client *
open_client(const char *url, uint32_t timeout_ms, uint32_t retries)
{
	pw_client_opts opts = { .timeout_ms = timeout_ms, .retries = retries };
	pw_client *c = NULL;
	assert_int_equal(PW_OK, pw_client_open(&c, url, &opts));
	assert_non_null(c);
	return c;
}

/* Waits until the peer has seen n requests (TW_HANG_MS only ends a hang). */
static void
wait_count(testpeer *p, uint32_t n)
{
	TW_WAIT_UNTIL(testpeer_count(p) >= n);
	assert_int_equal(n, testpeer_count(p));
}

/* Proves no stray copy follows the n requests the peer has seen: the peer
 * turns to echoing and c asks for "t9-9" until it is answered (a slow echo
 * may cost c a retry or a call: each is "t9-9" too). Requests on one
 * connection arrive in order, so a stray copy sent before the fence would
 * stand between request n and the first "t9-9"; nothing is timed. */
static void
assert_no_stray_copy(testpeer *p, peer_state *ps, pw_client *c, uint32_t n)
{
	pw_status_info info;
	uint32_t count;

	wait_count(p, n);
	atomic_store(&ps->mode, PEER_ECHO);
	TW_WAIT_UNTIL(pw_status_get(c, "t9-9", &info, NULL) == PW_OK);
	count = testpeer_count(p);
	assert_true(count > n && count <= TESTPEER_COPIES_MAX);
	for (uint32_t k = n + 1; k <= count; k++) {
		Paywire__V1__Request *rq = cfx_request_get(p, k);
		assert_string_equal("t9-9", rq->get_status->session_id);
		paywire__v1__request__free_unpacked(rq, NULL);
	}
}

/* The client's own counters (client/client_hooks.h); all zero but pipes
 * in a build without PW_TEST_HOOKS, where the count assertions are skipped. */
static client_test_counts
counts_of(const pw_client *c)
{
	client_test_counts n;
	client_test_counts_get(c, &n);
	return n;
}

#ifdef PW_TEST_HOOKS
#define assert_counts(c, reach, sent)                         \
	do {                                                      \
		client_test_counts n_ = counts_of(c);                 \
		assert_int_equal((reach), n_.reach_checks);           \
		assert_int_equal((sent), n_.sends);                   \
	} while (0)
#else
#define assert_counts(c, reach, sent) ((void) (c))
#endif

/* Copies 1..n are byte-identical and carry the same request_id. */
static void
assert_identical_copies(testpeer *p, uint32_t n)
{
	uint8_t *first;
	size_t first_len;
	assert_true(testpeer_copy(p, 1, &first, &first_len));
	Paywire__V1__Request *rq1 = cfx_request_get(p, 1);
	for (uint32_t k = 2; k <= n; k++) {
		uint8_t *raw;
		size_t len;
		assert_true(testpeer_copy(p, k, &raw, &len));
		assert_int_equal(first_len, len);
		assert_memory_equal(first, raw, len);
		Paywire__V1__Request *rq = cfx_request_get(p, k);
		assert_string_equal(rq1->request_id, rq->request_id);
		paywire__v1__request__free_unpacked(rq, NULL);
	}
	paywire__v1__request__free_unpacked(rq1, NULL);
}

static void
test_silent_peer_times_out_after_retries_plus_one_identical_copies(void **state)
{
	peer_state ps = { .mode = PEER_SILENT };
	testpeer *p = testpeer_start(peer_handler, &ps);
	pw_status_info info;
	pw_error err;
	(void) state;

	assert_non_null(p);
	pw_client *c = open_client(testpeer_url(p), 200, 2);
	int64_t t0 = pw_monotonic_ms();
	assert_int_equal(PW_TIMEOUT, pw_status_get(c, "cs_silent", &info, &err));
	int64_t elapsed = pw_monotonic_ms() - t0;
	assert_int_equal(PW_TIMEOUT, err.code);
	assert_non_null(strstr(err.message, "3 attempt(s) of 200 ms"));
	/* Each attempt waited its full timeout (a slow machine only adds). */
	assert_true(elapsed >= 3 * 200 - 10);
#ifdef PW_TEST_HOOKS
	/* a timeout is retried: retries + 1 sends, and at most the first
	 * attempt checked for a server (later ones found the connection up);
	 * counted before the fence below, whose calls send too */
	assert_int_equal(3, counts_of(c).sends);
	assert_true(counts_of(c).reach_checks <= 1);
#endif
	/* and no stray copy (nng's own resend is off) */
	assert_no_stray_copy(p, &ps, c, 3);
	assert_identical_copies(p, 3);
	pw_client_close(c);
	testpeer_stop(p);
}

static void
test_zero_retries_send_exactly_one_copy(void **state)
{
	peer_state ps = { .mode = PEER_SILENT };
	testpeer *p = testpeer_start(peer_handler, &ps);
	pw_status_info info;
	(void) state;

	assert_non_null(p);
	pw_client *c = open_client(testpeer_url(p), 100, 0);
	assert_int_equal(PW_TIMEOUT, pw_status_get(c, "cs_once", &info, NULL));
	assert_no_stray_copy(p, &ps, c, 1);
	pw_client_close(c);
	testpeer_stop(p);
}

static void
test_peer_answering_only_the_second_copy_succeeds(void **state)
{
	peer_state ps = { .mode = PEER_SECOND_COPY };
	testpeer *p = testpeer_start(peer_handler, &ps);
	pw_status_info info;
	pw_error err;
	(void) state;

	assert_non_null(p);
	/* The first attempt must time out and the second must be answered
	 * within the same per-attempt timeout: a minute, so a loaded machine
	 * cannot make the answered attempt miss it (the test takes that minute). */
	pw_client *c = open_client(testpeer_url(p), SECOND_COPY_TIMEOUT_MS, 1);
	assert_int_equal(PW_OK, pw_status_get(c, "t7-42", &info, &err));
	assert_int_equal(PW_OK, err.code);
	assert_string_equal("t7-42", info.session_id);
	assert_int_equal(7042, info.amount_minor);
	assert_int_equal(2, testpeer_count(p));
	assert_identical_copies(p, 2);
	pw_client_close(c);
	testpeer_stop(p);
}

/* Nothing listens at url: the call fails UNAVAILABLE on its first attempt,
 * with one reach check, nothing sent and no retry (a retry cannot succeed). */
static void
assert_refused_at_once(const char *url)
{
	pw_status_info info;
	pw_error err;

	pw_client *c = open_client(url, 150, 3); /* no server: still opens */
	assert_int_equal(PW_UNAVAILABLE, pw_status_get(c, "cs_x", &info, &err));
	assert_int_equal(PW_UNAVAILABLE, err.code);
	assert_non_null(strstr(err.message, "cannot connect"));
	assert_non_null(strstr(err.message, url));
	assert_counts(c, 1, 0);
	/* and so is every call after it, each with one check of its own */
	assert_int_equal(PW_UNAVAILABLE, pw_status_get(c, "cs_y", &info, &err));
	assert_counts(c, 2, 0);
	pw_client_close(c);
}

static void
test_no_server_at_all_is_unavailable_at_once_and_not_retried(void **state)
{
	char dir[] = "/tmp/pw-client-none.XXXXXX";
	char url[128];
	(void) state;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/nobody.sock", dir);
	assert_refused_at_once(url);
	assert_int_equal(0, rmdir(dir));
}

/* A free loopback port: bound once by the kernel's choice, then released. */
static int
free_tcp_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *) &a, &len) == 0) {
		port = ntohs(a.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

static void
test_refused_tcp_connection_is_unavailable_at_once_and_not_retried(void **state)
{
	char url[64];
	int port = free_tcp_port();
	(void) state;

	assert_true(port > 0);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	assert_refused_at_once(url);
}

/* Waits (bounded, a hang guard only) until c counts n live connections. */
static void
wait_pipes(const pw_client *c, int n)
{
	for (int i = 0; i < 6000 && counts_of(c).pipes != n; i++) {
		usleep(10 * 1000);
	}
	assert_int_equal(n, counts_of(c).pipes);
}

static void
test_server_gone_between_calls_is_unavailable_at_once(void **state)
{
	peer_state ps = { .mode = PEER_ECHO };
	testpeer *p = testpeer_start(peer_handler, &ps);
	pw_status_info info;
	pw_error err;
	(void) state;

	assert_non_null(p);
	pw_client *c = open_client(testpeer_url(p), 5000, 3);
	assert_int_equal(PW_OK, pw_status_get(c, "t4-1", &info, &err));
	assert_int_equal(4001, info.amount_minor);
	wait_pipes(c, 1);
	client_test_counts before = counts_of(c);
	assert_int_equal(1, before.sends);

	testpeer_stop(p); /* closes its socket and removes its socket file */
	wait_pipes(c, 0);
	assert_int_equal(PW_UNAVAILABLE, pw_status_get(c, "t4-2", &info, &err));
	assert_non_null(strstr(err.message, "cannot connect"));
	assert_counts(c, before.reach_checks + 1, 1); /* checked once, nothing sent */
	pw_client_close(c);
}

/* Something listens, but it is not a REP socket (here: a PAIR socket). */
static void
test_a_peer_that_is_not_rep_is_unavailable_at_once(void **state)
{
	char dir[] = "/tmp/pw-client-pair.XXXXXX";
	char url[128];
	char path[128];
	pw_status_info info;
	pw_error err;
	nng_socket pair;
	(void) state;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/pair.sock", dir);
	assert_int_equal(0, nng_pair0_open(&pair));
	assert_int_equal(0, nng_listen(pair, url, NULL, 0));
	pw_client *c = open_client(url, 5000, 3);
	assert_int_equal(PW_UNAVAILABLE, pw_status_get(c, "cs_z", &info, &err));
	assert_non_null(strstr(err.message, "not an nng REP socket"));
	assert_counts(c, 1, 0);
	pw_client_close(c);
	nng_close(pair);
	snprintf(path, sizeof(path), "%s/pair.sock", dir);
	unlink(path);
	assert_int_equal(0, rmdir(dir));
}

static void
test_server_that_starts_late_is_found_by_the_background_dial(void **state)
{
	peer_state ps = { .mode = PEER_ECHO };
	char dir[] = "/tmp/pw-client-late.XXXXXX";
	char url[128];
	char path[128];
	pw_status_info info;
	pw_error err;
	(void) state;

	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "ipc://%s/late.sock", dir);
	pw_client *c = open_client(url, 400, 5);
	assert_int_equal(PW_UNAVAILABLE, pw_status_get(c, "t1-1", &info, &err));
	testpeer *p = testpeer_start_at(peer_handler, &ps, url);
	assert_non_null(p);
	/* However long the background dial takes on this machine, the same
	 * client gets OK once it has connected. */
	pw_status rv = PW_UNAVAILABLE;
	TW_WAIT_UNTIL((rv = pw_status_get(c, "t1-2", &info, &err)) == PW_OK);
	assert_int_equal(PW_OK, rv);
	assert_int_equal(1002, info.amount_minor);
	pw_client_close(c);
	testpeer_stop(p);
	snprintf(path, sizeof(path), "%s/late.sock", dir);
	unlink(path);
	assert_int_equal(0, rmdir(dir));
}

static void
test_dropped_connection_is_retried_with_the_same_bytes(void **state)
{
	peer_state ps = { .mode = PEER_DROP_FIRST };
	testpeer *p = testpeer_start(peer_handler, &ps);
	pw_status_info info;
	pw_error err;
	(void) state;

	assert_non_null(p);
	pw_client *c = open_client(testpeer_url(p), TW_HANG_MS, 1);
	int64_t t0 = pw_monotonic_ms();
	assert_int_equal(PW_OK, pw_status_get(c, "t2-5", &info, &err));
	/* The loss is noticed at once (ECONNRESET), not after the timeout. */
	assert_true(pw_monotonic_ms() - t0 < TW_HANG_MS);
	assert_int_equal(2005, info.amount_minor);
	assert_int_equal(2, testpeer_count(p));
	assert_identical_copies(p, 2);

	/* Without retries the loss is reported as UNAVAILABLE. */
	pw_client_close(c);
	c = open_client(testpeer_url(p), TW_HANG_MS, 0);
	ps.base = testpeer_count(p); /* the peer thread is idle between calls */
	assert_int_equal(PW_UNAVAILABLE, pw_status_get(c, "t2-6", &info, &err));
	assert_non_null(strstr(err.message, "lost before the reply"));
	pw_client_close(c);
	testpeer_stop(p);
}

/* ---- many threads, one client ---- */

#define THREADS 8
#define CALLS 50

typedef struct worker {
	pw_client *c;          /* shared client */
	int t;                 /* thread number */
	atomic_int *ok;        /* calls answered with their own values */
	atomic_int *wrong;     /* calls answered with someone else's values or failed */
} worker;

static void *
worker_main(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < CALLS; i++) {
		char sid[32];
		pw_status_info info;
		pw_error err;
		snprintf(sid, sizeof(sid), "t%d-%d", w->t, i);
		pw_status rv = pw_status_get(w->c, sid, &info, &err);
		if (rv == PW_OK && strcmp(info.session_id, sid) == 0 &&
		    info.amount_minor == (int64_t) w->t * 1000 + i && info.status == PW_SESSION_PENDING) {
			atomic_fetch_add(w->ok, 1);
		} else {
			atomic_fetch_add(w->wrong, 1);
		}
	}
	return NULL;
}

static void
test_eight_threads_share_one_client_and_each_gets_its_own_reply(void **state)
{
	peer_state ps = { .mode = PEER_ECHO };
	testpeer *p = testpeer_start(peer_handler, &ps);
	pthread_t th[THREADS];
	worker w[THREADS];
	atomic_int ok = 0;
	atomic_int wrong = 0;
	(void) state;

	assert_non_null(p);
	/* No retries and a generous timeout: every call is exactly one request. */
	pw_client *c = open_client(testpeer_url(p), TW_HANG_MS, 0);
	for (int t = 0; t < THREADS; t++) {
		w[t] = (worker) { .c = c, .t = t, .ok = &ok, .wrong = &wrong };
		assert_int_equal(0, pthread_create(&th[t], NULL, worker_main, &w[t]));
	}
	for (int t = 0; t < THREADS; t++) {
		assert_int_equal(0, pthread_join(th[t], NULL));
	}
	assert_int_equal(0, atomic_load(&wrong));
	assert_int_equal(THREADS * CALLS, atomic_load(&ok));
	assert_int_equal(THREADS * CALLS, testpeer_count(p));
	pw_client_close(c);
	testpeer_stop(p);
}

/* True if name is one of the comma-separated names in list; if_unset when
 * list is NULL. */
static bool
name_listed(const char *list, const char *name, bool if_unset)
{
	size_t len = strlen(name);

	if (list == NULL) {
		return if_unset;
	}
	for (const char *p = list; *p != '\0';) {
		size_t tok = strcspn(p, ",");
		if (tok == len && strncmp(p, name, len) == 0) {
			return true;
		}
		p += tok;
		p += *p == ',' ? 1 : 0;
	}
	return false;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_peer_times_out_after_retries_plus_one_identical_copies),
		cmocka_unit_test(test_zero_retries_send_exactly_one_copy),
		cmocka_unit_test(test_peer_answering_only_the_second_copy_succeeds),
		cmocka_unit_test(test_no_server_at_all_is_unavailable_at_once_and_not_retried),
		cmocka_unit_test(test_refused_tcp_connection_is_unavailable_at_once_and_not_retried),
		cmocka_unit_test(test_server_gone_between_calls_is_unavailable_at_once),
		cmocka_unit_test(test_a_peer_that_is_not_rep_is_unavailable_at_once),
		cmocka_unit_test(test_server_that_starts_late_is_found_by_the_background_dial),
		cmocka_unit_test(test_dropped_connection_is_retried_with_the_same_bytes),
		cmocka_unit_test(test_eight_threads_share_one_client_and_each_gets_its_own_reply),
	};
	/* PW_TEST_ONLY / PW_TEST_SKIP: comma-separated test names (ctest runs the
	 * cases that hit nng's own leak alone, see tests/client.cmake). */
	struct CMUnitTest run[sizeof(tests) / sizeof(tests[0])];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (name_listed(getenv("PW_TEST_ONLY"), tests[i].name, true) &&
		    !name_listed(getenv("PW_TEST_SKIP"), tests[i].name, false)) {
			run[n++] = tests[i];
		}
	}
	int rv = _cmocka_run_group_tests("client_retry_test", run, n, NULL, NULL);
	/* nng frees closed sockets, dialers and pipes on its own reaper thread:
	 * wait for it, or LeakSanitizer may catch them in flight at exit. */
	nng_fini();
	return rv;
}
