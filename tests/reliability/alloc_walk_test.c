/*
 * alloc_walk_test.c - failing the N-th allocation along the create_session
 * and webhook ingest paths (issue 7, "Storage faults"; docs/reliability/crash.md).
 *
 * An in-process server (tests/server_harness.c). For N = 1, 2, ... the
 * allocation hook (pw_alloc_fail_at, common/common.c) fails the N-th
 * pw_malloc/pw_calloc/pw_realloc counted from just before the call; the call
 * is sent with a fresh request_id. Until the call succeeds, each failure must
 * be an error reply (no crash), and LMDB's last transaction id must not move
 * (nothing written). ASan's leak check at exit shows nothing leaked. The hook
 * reaches what allocates through pw_malloc: the store's record decoding, its
 * effects and replies (the server's own buffers use malloc and are not walked).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_harness.h"

#define WALK_MAX 10000 /* a path that never succeeds is a hang, not a walk */

static th_env F; /* server, REQ socket, test merchant */

static int
t_setup(void **state)
{
	(void) state;
	th_env_start(&F, 8);
	/* every failure point of the nested path: with the flat first run, a
	 * failure after a write is answered by the nested re-run instead */
	store_test_set_flat_runs(F.srv.st, false);
	return 0;
}

static int
t_teardown(void **state)
{
	(void) state;
	pw_alloc_fail_at(0);
	th_env_stop(&F);
	return 0;
}

/* Walks N until req succeeds; returns the response of the success. */
static Paywire__V1__Response *
walk(Paywire__V1__Request *req, const char *what, long *failures)
{
	char rid[64];

	for (long n = 1; n <= WALK_MAX; n++) {
		uint64_t before = store_last_txnid(F.srv.st);
		Paywire__V1__Response *r;

		snprintf(rid, sizeof(rid), "alloc-%s-%ld", what, n);
		req->request_id = rid;
		pw_alloc_fail_at(n);
		r = th_call(F.sock, req, NULL);
		pw_alloc_fail_at(0);
		assert_non_null(r);
		assert_non_null(r->status);
		if (r->status->code == 0) {
			*failures = n - 1;
			return r;
		}
		if (store_last_txnid(F.srv.st) != before) {
			fail_msg("%s: allocation %ld failed with code %d (%s) but the txn id moved "
			         "%llu -> %llu",
			    what, n, r->status->code, r->status->message, (unsigned long long) before,
			    (unsigned long long) store_last_txnid(F.srv.st));
		}
		paywire__v1__response__free_unpacked(r, NULL);
	}
	fail_msg("%s: still failing after %d allocations", what, WALK_MAX);
	return NULL;
}

static void
stripe_sign(char *out, size_t out_size, long t, const char *body)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[32];
	char ts[32];
	char hex[65];

	(void) snprintf(ts, sizeof(ts), "%ld.", t);
	crypto_auth_hmacsha256_init(&st, (const uint8_t *) TH_STRIPE_SECRET, strlen(TH_STRIPE_SECRET));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	(void) snprintf(out, out_size, "t=%ld,v1=%s", t, hex);
}

static void
test_failing_each_allocation_of_create_then_a_payment_writes_nothing_until_success(void **state)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	Paywire__V1__Fulfillment f = PAYWIRE__V1__FULFILLMENT__INIT;
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry h[2];
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hp[2] = { &h[0], &h[1] };
	Paywire__V1__Response *r;
	long fails_create = 0, fails_webhook = 0;
	char sid[64], body[1024], sig[160];

	(void) state;
	cs.amount_minor = 4900;
	cs.currency = "EUR";
	cs.mode = PAYWIRE__V1__MODE__MODE_TEST;
	cs.customer_email = "alloc@example.com";
	f.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f.plan = "pro";
	cs.fulfillment = &f;
	req.api_key = F.key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	r = walk(&req, "create", &fails_create);
	assert_int_equal(PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION, r->result_case);
	snprintf(sid, sizeof(sid), "%s", r->create_session->session->id);
	paywire__v1__response__free_unpacked(r, NULL);

	snprintf(body, sizeof(body),
	    "{\"id\":\"evt_alloc_1\",\"object\":\"event\",\"created\":1767225660,\"livemode\":false,"
	    "\"type\":\"checkout.session.completed\",\"data\":{\"object\":{\"id\":\"cs_test_alloc\","
	    "\"object\":\"checkout.session\",\"amount_total\":4900,\"currency\":\"eur\","
	    "\"client_reference_id\":\"%s\",\"payment_intent\":\"pi_alloc_1\","
	    "\"payment_status\":\"paid\",\"status\":\"complete\",\"livemode\":false}}}",
	    sid);
	stripe_sign(sig, sizeof(sig), (long) time(NULL), body);
	for (int i = 0; i < 2; i++) {
		paywire__v1__ingest_webhook_request__headers_entry__init(&h[i]);
	}
	h[0].key = "content-type";
	h[0].value = "application/json";
	h[1].key = "stripe-signature";
	h[1].value = sig;
	iw.provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
	iw.n_headers = 2;
	iw.headers = hp;
	iw.body.data = (uint8_t *) body;
	iw.body.len = strlen(body);
	req.api_key = NULL;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK;
	req.ingest_webhook = &iw;
	r = walk(&req, "webhook", &fails_webhook);
	assert_int_equal(PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK, r->result_case);
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED,
	    r->ingest_webhook->outcome);
	paywire__v1__response__free_unpacked(r, NULL);
	/* Each path allocates through the hook: the walk is not vacuous. */
	assert_true(fails_create > 0);
	assert_true(fails_webhook > 0);
	printf("alloc walk: create_session failed cleanly at %ld allocation(s), the payment at "
	       "%ld\n",
	    fails_create, fails_webhook);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_failing_each_allocation_of_create_then_a_payment_writes_nothing_until_success,
		    t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
