/*
 * client_api_test.c - libpaywire's calls against an in-test REP peer
 * (client/testpeer.h): what each call puts on the wire, how each reply maps
 * into the public structs, the status table, bounded copies, and the
 * arguments refused before anything is sent.
 */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"
#include "client_fixture.h"
#include "testpeer.h"
#include "test_wait.h"

#include <paywire/client.h>

typedef void (*reply_fn)(const Paywire__V1__Request *rq, testpeer_reply *out);

static _Atomic(reply_fn) g_reply;   /* what the peer answers in the current test */
static _Atomic int g_code;          /* status code for status_reply */
static testpeer *g_peer;
static pw_client *g_client;

static void
peer_handler(void *arg, const Paywire__V1__Request *rq, const uint8_t *raw, size_t raw_len,
    uint32_t copy_no, testpeer_reply *out)
{
	reply_fn fn = atomic_load(&g_reply);
	(void) arg;
	(void) raw;
	(void) raw_len;
	(void) copy_no;
	if (fn != NULL) {
		fn(rq, out);
	}
}

static int
group_setup(void **state)
{
	pw_client_opts opts;
	(void) state;
	g_peer = testpeer_start(peer_handler, NULL);
	if (g_peer == NULL) {
		return -1;
	}
	pw_client_opts_default(&opts);
	opts.timeout_ms = TW_HANG_MS; /* the peer answers: only a hang reaches it */
	opts.retries = 0;
	return pw_client_open(&g_client, testpeer_url(g_peer), &opts) == PW_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void) state;
	pw_client_close(g_client);
	testpeer_stop(g_peer);
	return 0;
}

/* ---- the status table ---- */

static void
status_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	char msg[64];
	int code = atomic_load(&g_code);
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	if (code == 0) {
		Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
		Paywire__V1__GetStatusResponse gs = PAYWIRE__V1__GET_STATUS_RESPONSE__INIT;
		gs.session_id = rq->get_status->session_id;
		rsp.request_id = rq->request_id;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
		rsp.get_status = &gs;
		testpeer_reply_pack(out, &rsp);
		return;
	}
	snprintf(msg, sizeof(msg), "server says %d", code);
	testpeer_reply_status(out, rq->request_id, code, code == 8 ? "" : msg);
}

static void
test_every_status_row_maps_wire_code_and_message(void **state)
{
	static const struct {
		pw_status st;  /* the row */
		int wire;      /* what travels */
	} rows[] = {
#define XX(name, value, wire, http, msg) { PW_##name, wire },
		PW_STATUS_MAP(XX)
#undef XX
	};
	pw_status_info info;
	pw_error err;
	char want_msg[64];
	(void) state;

	atomic_store(&g_reply, status_reply);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* A refined row (value >= 100) travels as its base wire code: the
		 * client sees the base row, e.g. IDEMPOTENCY_CONFLICT -> ABORTED. */
		pw_status want = (int) rows[i].st == rows[i].wire ? rows[i].st
		                                                  : (pw_status) rows[i].wire;
		atomic_store(&g_code, rows[i].wire);
		pw_status rv = pw_status_get(g_client, "cs_row", &info, &err);
		assert_int_equal(want, rv);
		assert_int_equal(want, err.code);
		if (want == PW_OK) {
			assert_string_equal("cs_row", info.session_id);
			assert_string_equal("", err.message);
		} else if (rows[i].wire == 8) {
			/* An empty server message falls back to the table's message. */
			assert_string_equal(pw_status_message(PW_RESOURCE_EXHAUSTED), err.message);
		} else {
			snprintf(want_msg, sizeof(want_msg), "server says %d", rows[i].wire);
			assert_string_equal(want_msg, err.message);
		}
	}
}

static void
test_unknown_wire_codes_are_internal_with_the_code_in_the_message(void **state)
{
	static const int codes[] = { 1, 2, 11, 15, 17, 99, -1 };
	pw_status_info info;
	pw_error err;
	char want[64];
	(void) state;

	atomic_store(&g_reply, status_reply);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		atomic_store(&g_code, codes[i]);
		assert_int_equal(PW_INTERNAL, pw_status_get(g_client, "cs_x", &info, &err));
		assert_int_equal(PW_INTERNAL, err.code);
		snprintf(want, sizeof(want), "unknown status code %d: server says %d", codes[i], codes[i]);
		assert_non_null(strstr(err.message, want));
	}
}

/* ---- each call: request on the wire, reply in the struct ---- */

static void
merchant_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateMerchantResponse cm = PAYWIRE__V1__CREATE_MERCHANT_RESPONSE__INIT;
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	cm.merchant_id = "mer_0190aa";
	cm.api_key = "sk_live_secret_123";
	cm.name = rq->create_merchant->name;
	cm.mode = rq->create_merchant->mode;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT;
	rsp.create_merchant = &cm;
	testpeer_reply_pack(out, &rsp);
}

static void
test_merchant_create_sends_admin_key_name_mode_and_maps_reply(void **state)
{
	pw_merchant m;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, merchant_reply);
	assert_int_equal(PW_OK,
	    pw_merchant_create(g_client, "adm_key_1", "Caf\xc3\xa9 shop", PW_MODE_LIVE, &m, &err));
	assert_string_equal("mer_0190aa", m.merchant_id);
	assert_string_equal("sk_live_secret_123", m.api_key);
	assert_string_equal("Caf\xc3\xa9 shop", m.name);
	assert_int_equal(PW_MODE_LIVE, m.mode);
	assert_int_equal(PW_OK, err.code);

	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("adm_key_1", rq->api_key);
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT, rq->call_case);
	assert_string_equal("Caf\xc3\xa9 shop", rq->create_merchant->name);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE, rq->create_merchant->mode);
	assert_int_equal(TW_HANG_MS, rq->deadline_ms);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
session_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateSessionResponse cs = PAYWIRE__V1__CREATE_SESSION_RESPONSE__INIT;
	Paywire__V1__Session s = PAYWIRE__V1__SESSION__INIT;
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	s.id = "cs_0190aa00bb";
	s.merchant_id = "mer_0190aa";
	s.url = "http://127.0.0.1:8080/checkout?session=cs_0190aa00bb";
	s.mode = rq->create_session->mode;
	s.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_CREATED;
	s.payment_status = PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_UNPAID;
	s.amount_minor = rq->create_session->amount_minor;
	s.currency = rq->create_session->currency;
	s.created_at_unix_ms = INT64_C(1767225600123);
	cs.session = &s;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION;
	rsp.create_session = &cs;
	testpeer_reply_pack(out, &rsp);
}

static void
test_session_create_sends_every_parameter_and_maps_the_session(void **state)
{
	const pw_kv md[] = { { "order", "1001" }, { "note", "first \xe2\x82\xac" } };
	pw_session_params p = {
		.amount_minor = INT64_C(1000000000000),
		.currency = "EUR",
		.mode = PW_MODE_TEST,
		.success_url = "https://shop.example/ok",
		.cancel_url = "https://shop.example/cancel",
		.customer_email = "jane@example.com",
		.customer_name = "Jane",
		.customer_ref = "cust-7",
		.idempotency_key = "order-1001",
		.metadata = md,
		.metadata_len = 2,
		.fulfillment = PW_FULFILL_ACCESS_KEY,
		.plan = "pro",
		.credits = 99, /* ignored for ACCESS_KEY */
		.request_id = "req_fixed_1",
	};
	pw_session s;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, session_reply);
	assert_int_equal(PW_OK, pw_session_create(g_client, "sk_test_k", &p, &s, &err));
	assert_string_equal("cs_0190aa00bb", s.id);
	assert_string_equal("mer_0190aa", s.merchant_id);
	assert_string_equal("http://127.0.0.1:8080/checkout?session=cs_0190aa00bb", s.url);
	assert_int_equal(PW_MODE_TEST, s.mode);
	assert_int_equal(PW_SESSION_CREATED, s.status);
	assert_int_equal(PW_PAYMENT_UNPAID, s.payment_status);
	assert_true(s.amount_minor == INT64_C(1000000000000));
	assert_string_equal("EUR", s.currency);
	assert_true(s.created_at_unix_ms == INT64_C(1767225600123));

	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	const Paywire__V1__CreateSessionRequest *cs = rq->create_session;
	assert_string_equal("req_fixed_1", rq->request_id);
	assert_string_equal("sk_test_k", rq->api_key);
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION, rq->call_case);
	assert_true(cs->amount_minor == INT64_C(1000000000000));
	assert_string_equal("EUR", cs->currency);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_TEST, cs->mode);
	assert_string_equal("https://shop.example/ok", cs->success_url);
	assert_string_equal("https://shop.example/cancel", cs->cancel_url);
	assert_string_equal("jane@example.com", cs->customer_email);
	assert_string_equal("Jane", cs->customer_name);
	assert_string_equal("cust-7", cs->customer_ref);
	assert_string_equal("order-1001", cs->idempotency_key);
	assert_int_equal(2, cs->n_metadata);
	assert_string_equal("order", cs->metadata[0]->key);
	assert_string_equal("1001", cs->metadata[0]->value);
	assert_string_equal("note", cs->metadata[1]->key);
	assert_string_equal("first \xe2\x82\xac", cs->metadata[1]->value);
	assert_non_null(cs->fulfillment);
	assert_int_equal(PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY,
	    cs->fulfillment->kind);
	assert_string_equal("pro", cs->fulfillment->plan);
	assert_int_equal(0, cs->fulfillment->credits);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
test_session_create_with_credits_and_no_fulfillment(void **state)
{
	pw_session_params p = { .amount_minor = 500, .currency = "JPY",
		.fulfillment = PW_FULFILL_CREDITS, .credits = 250, .plan = "ignored" };
	pw_session s;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, session_reply);
	assert_int_equal(PW_OK, pw_session_create(g_client, "sk_test_k", &p, &s, &err));
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS,
	    rq->create_session->fulfillment->kind);
	assert_int_equal(250, rq->create_session->fulfillment->credits);
	assert_string_equal("", rq->create_session->fulfillment->plan);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_UNSPECIFIED, rq->create_session->mode);
	paywire__v1__request__free_unpacked(rq, NULL);

	p.fulfillment = PW_FULFILL_NONE;
	assert_int_equal(PW_OK, pw_session_create(g_client, "sk_test_k", &p, &s, &err));
	rq = cfx_request_last(g_peer);
	assert_null(rq->create_session->fulfillment);
	assert_int_equal(0, rq->create_session->n_metadata);
	paywire__v1__request__free_unpacked(rq, NULL);
}

/* create/archive/list credit packages: the package the request names, and
 * for a list two (the second archived). */
static void
package_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreditPackageCreateResponse c = PAYWIRE__V1__CREDIT_PACKAGE_CREATE_RESPONSE__INIT;
	Paywire__V1__CreditPackageArchiveResponse a = PAYWIRE__V1__CREDIT_PACKAGE_ARCHIVE_RESPONSE__INIT;
	Paywire__V1__CreditPackageListResponse l = PAYWIRE__V1__CREDIT_PACKAGE_LIST_RESPONSE__INIT;
	Paywire__V1__CreditPackage p[2] = { PAYWIRE__V1__CREDIT_PACKAGE__INIT,
		PAYWIRE__V1__CREDIT_PACKAGE__INIT };
	Paywire__V1__CreditPackage *pp[2] = { &p[0], &p[1] };

	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	p[0].code = "pack_100";
	p[0].name = "100 credits \xe2\x82\xac";
	p[0].credits = PW_CREDITS_MAX;
	p[0].amount_minor = INT64_C(999999999999);
	p[0].currency = "KWD";
	p[0].state = PAYWIRE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_ACTIVE;
	p[0].created_at_unix_ms = 1767225600000;
	p[1] = p[0];
	p[1].code = "pack_200";
	p[1].state = PAYWIRE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_ARCHIVED;
	p[1].archived_at_unix_ms = 1767225700000;
	rsp.request_id = rq->request_id;
	switch (rq->call_case) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE:
		c.package = &p[0];
		c.created = 1;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_CREDIT_PACKAGE;
		rsp.create_credit_package = &c;
		break;
	case PAYWIRE__V1__REQUEST__CALL_ARCHIVE_CREDIT_PACKAGE:
		a.package = &p[1];
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_ARCHIVE_CREDIT_PACKAGE;
		rsp.archive_credit_package = &a;
		break;
	default:
		l.packages = pp;
		l.n_packages = 2;
		l.has_more = 1;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_CREDIT_PACKAGES;
		rsp.list_credit_packages = &l;
		break;
	}
	testpeer_reply_pack(out, &rsp);
}

static void
test_credit_package_calls_send_their_arguments_and_map_replies(void **state)
{
	pw_credit_package_page *page = malloc(sizeof(*page));
	pw_session_params sp = { .credit_package = "pack_100", .customer_ref = "cust_1" };
	pw_credit_package pk;
	pw_session s;
	pw_error err;
	Paywire__V1__Request *rq;
	uint32_t before;

	(void) state;
	assert_non_null(page);
	atomic_store(&g_reply, package_reply);
	assert_int_equal(PW_OK, pw_credit_package_create(g_client, "sk_test_k", "pack_100",
	    "100 credits", 100, 990, "EUR", &pk, &err));
	rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE, rq->call_case);
	assert_string_equal("sk_test_k", rq->api_key);
	assert_string_equal("pack_100", rq->create_credit_package->code);
	assert_string_equal("100 credits", rq->create_credit_package->name);
	assert_int_equal(100, rq->create_credit_package->credits);
	assert_int_equal(990, rq->create_credit_package->amount_minor);
	assert_string_equal("EUR", rq->create_credit_package->currency);
	paywire__v1__request__free_unpacked(rq, NULL);
	assert_string_equal("pack_100", pk.code);
	assert_string_equal("100 credits \xe2\x82\xac", pk.name);
	assert_true(pk.credits == PW_CREDITS_MAX);
	assert_true(pk.amount_minor == INT64_C(999999999999));
	assert_string_equal("KWD", pk.currency);
	assert_int_equal(PW_CREDIT_PACKAGE_ACTIVE, pk.state);
	assert_true(pk.created);
	assert_true(pk.created_at_unix_ms == 1767225600000);

	assert_int_equal(PW_OK, pw_credit_package_archive(g_client, "sk_test_k", "pack_200", &pk,
	    &err));
	rq = cfx_request_last(g_peer);
	assert_string_equal("pack_200", rq->archive_credit_package->code);
	paywire__v1__request__free_unpacked(rq, NULL);
	assert_int_equal(PW_CREDIT_PACKAGE_ARCHIVED, pk.state);
	assert_true(pk.archived_at_unix_ms == 1767225700000);

	assert_int_equal(PW_OK, pw_credit_packages_list(g_client, "sk_test_k", "pack_050", 7, true,
	    page, &err));
	rq = cfx_request_last(g_peer);
	assert_string_equal("pack_050", rq->list_credit_packages->starting_after);
	assert_int_equal(7, rq->list_credit_packages->limit);
	assert_true(rq->list_credit_packages->include_archived);
	paywire__v1__request__free_unpacked(rq, NULL);
	assert_int_equal(2, page->n);
	assert_true(page->has_more);
	assert_string_equal("pack_200", page->packages[1].code);
	assert_int_equal(PW_CREDIT_PACKAGE_ARCHIVED, page->packages[1].state);
	free(page);

	/* refused before sending: no key, no code, no currency */
	before = testpeer_count(g_peer);
	assert_int_equal(PW_INVALID_ARGUMENT, pw_credit_package_create(g_client, NULL, "p", NULL,
	    1, 1, "EUR", &pk, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_credit_package_create(g_client, "k", NULL, NULL,
	    1, 1, "EUR", &pk, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_credit_package_create(g_client, "k", "p", NULL,
	    1, 1, NULL, &pk, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_credit_package_archive(g_client, "k", NULL, &pk,
	    &err));
	assert_int_equal(before, testpeer_count(g_peer));

	/* a session selling a package: no currency needed, the code sent */
	atomic_store(&g_reply, session_reply);
	assert_int_equal(PW_OK, pw_session_create(g_client, "sk_test_k", &sp, &s, &err));
	rq = cfx_request_last(g_peer);
	assert_string_equal("pack_100", rq->create_session->credit_package);
	assert_int_equal(0, rq->create_session->amount_minor);
	assert_string_equal("", rq->create_session->currency);
	assert_null(rq->create_session->fulfillment);
	paywire__v1__request__free_unpacked(rq, NULL);
	/* without a package the currency stays required */
	sp.credit_package = NULL;
	before = testpeer_count(g_peer);
	assert_int_equal(PW_INVALID_ARGUMENT, pw_session_create(g_client, "sk_test_k", &sp, &s,
	    &err));
	assert_int_equal(before, testpeer_count(g_peer));
}

/* set/get merchant rate limits: reads custom 5/min burst 2, writes default
 * (the server's 2000/s), provider unlimited; the defaults. */
static void
limits_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__SetMerchantRateLimitsResponse sr = PAYWIRE__V1__SET_MERCHANT_RATE_LIMITS_RESPONSE__INIT;
	Paywire__V1__GetMerchantRateLimitsResponse gr = PAYWIRE__V1__GET_MERCHANT_RATE_LIMITS_RESPONSE__INIT;
	Paywire__V1__MerchantRateLimits l = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__MerchantRateLimits d = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__MerchantRateLimit x[4] = { PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT,
		PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT, PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT,
		PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT };

	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	x[0].kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM;
	x[0].rate = 5;
	x[0].period_s = 60;
	x[0].burst = 2;
	x[0].interval_us = 12000000;
	x[1].kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT;
	x[1].interval_us = 500;
	x[1].burst = 4000;
	x[2].kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED;
	x[3].kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM;
	x[3].rate = 2000;
	x[3].period_s = 1;
	x[3].burst = 4000;
	x[3].interval_us = 500;
	l.reads = &x[0];
	l.writes = &x[1];
	l.provider = &x[2];
	d.reads = &x[3];
	d.writes = &x[3];
	d.provider = &x[3];
	rsp.request_id = rq->request_id;
	if (rq->call_case == PAYWIRE__V1__REQUEST__CALL_SET_MERCHANT_RATE_LIMITS) {
		sr.merchant_id = rq->set_merchant_rate_limits->merchant_id;
		sr.limits = &l;
		sr.server_defaults = &d;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_SET_MERCHANT_RATE_LIMITS;
		rsp.set_merchant_rate_limits = &sr;
	} else {
		gr.merchant_id = rq->get_merchant_rate_limits->merchant_id;
		gr.limits = &l;
		gr.server_defaults = &d;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_MERCHANT_RATE_LIMITS;
		rsp.get_merchant_rate_limits = &gr;
	}
	testpeer_reply_pack(out, &rsp);
}

static void
test_merchant_rate_limits_send_their_classes_and_map_replies(void **state)
{
	pw_rate_limit set[PW_RATE_CLASSES] = {
		{ .kind = PW_RATE_LIMIT_CUSTOM, .rate = 5, .period_s = 60, .burst = 2 },
		{ .kind = PW_RATE_LIMIT_UNCHANGED },
		{ .kind = PW_RATE_LIMIT_UNLIMITED },
	};
	pw_merchant_rate_limits r;
	Paywire__V1__Request *rq;
	pw_error err;
	size_t before;

	(void) state;
	atomic_store(&g_reply, limits_reply);
	assert_int_equal(PW_OK, pw_merchant_rate_limits_set(g_client, "adm_k", "mer_1", set, &r,
	    &err));
	rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_SET_MERCHANT_RATE_LIMITS, rq->call_case);
	assert_string_equal("adm_k", rq->api_key);
	assert_string_equal("mer_1", rq->set_merchant_rate_limits->merchant_id);
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM,
	    rq->set_merchant_rate_limits->limits->reads->kind);
	assert_int_equal(5, rq->set_merchant_rate_limits->limits->reads->rate);
	assert_int_equal(60, rq->set_merchant_rate_limits->limits->reads->period_s);
	assert_int_equal(2, rq->set_merchant_rate_limits->limits->reads->burst);
	assert_null(rq->set_merchant_rate_limits->limits->writes); /* unchanged: not sent */
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED,
	    rq->set_merchant_rate_limits->limits->provider->kind);
	paywire__v1__request__free_unpacked(rq, NULL);
	assert_string_equal("mer_1", r.merchant_id);
	assert_int_equal(PW_RATE_LIMIT_CUSTOM, r.limits[PW_RATE_CLASS_READS].kind);
	assert_true(r.limits[PW_RATE_CLASS_READS].interval_us == 12000000);
	assert_int_equal(PW_RATE_LIMIT_DEFAULT, r.limits[PW_RATE_CLASS_WRITES].kind);
	assert_int_equal(4000, r.limits[PW_RATE_CLASS_WRITES].burst);
	assert_int_equal(PW_RATE_LIMIT_UNLIMITED, r.limits[PW_RATE_CLASS_PROVIDER].kind);
	assert_int_equal(2000, r.server_defaults[PW_RATE_CLASS_PROVIDER].rate);

	assert_int_equal(PW_OK, pw_merchant_rate_limits_get(g_client, "adm_k", "mer_1", &r, &err));
	rq = cfx_request_last(g_peer);
	assert_string_equal("mer_1", rq->get_merchant_rate_limits->merchant_id);
	paywire__v1__request__free_unpacked(rq, NULL);
	assert_int_equal(5, r.limits[PW_RATE_CLASS_READS].rate);

	/* refused before sending: no admin key, no merchant, no classes */
	before = testpeer_count(g_peer);
	assert_int_equal(PW_INVALID_ARGUMENT, pw_merchant_rate_limits_set(g_client, NULL, "mer_1",
	    set, &r, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_merchant_rate_limits_set(g_client, "adm_k", NULL,
	    set, &r, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_merchant_rate_limits_set(g_client, "adm_k", "mer_1",
	    NULL, &r, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_merchant_rate_limits_get(g_client, "adm_k", NULL,
	    &r, &err));
	assert_int_equal(before, testpeer_count(g_peer));
}

static void
get_status_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__GetStatusResponse g = PAYWIRE__V1__GET_STATUS_RESPONSE__INIT;
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	g.session_id = rq->get_status->session_id;
	g.merchant_id = "mer_0190aa";
	g.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
	g.payment_status = PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_PARTIALLY_REFUNDED;
	g.payment_provider = PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY;
	g.amount_minor = 49900;
	g.currency = "INR";
	g.amount_refunded_minor = 1900;
	g.created_at_unix_ms = 1767225600000;
	g.paid_at_unix_ms = 1767225660000;
	g.mode = PAYWIRE__V1__MODE__MODE_LIVE;
	g.invoice_number = UINT64_C(18446744073709551615);
	g.access_link = "http://127.0.0.1:8080/access/cs_1?token=eyJ.x.y";
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
	rsp.get_status = &g;
	testpeer_reply_pack(out, &rsp);
}

static void
test_status_get_maps_every_field(void **state)
{
	pw_status_info i;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, get_status_reply);
	assert_int_equal(PW_OK, pw_status_get(g_client, "cs_1", &i, &err));
	assert_string_equal("cs_1", i.session_id);
	assert_string_equal("mer_0190aa", i.merchant_id);
	assert_int_equal(PW_SESSION_PAID, i.status);
	assert_int_equal(PW_PAYMENT_PARTIALLY_REFUNDED, i.payment_status);
	assert_string_equal("razorpay", i.payment_provider);
	assert_int_equal(49900, i.amount_minor);
	assert_string_equal("INR", i.currency);
	assert_int_equal(1900, i.amount_refunded_minor);
	assert_true(i.created_at_unix_ms == 1767225600000);
	assert_true(i.paid_at_unix_ms == 1767225660000);
	assert_int_equal(PW_MODE_LIVE, i.mode);
	assert_true(i.invoice_number == UINT64_C(18446744073709551615));
	assert_string_equal("http://127.0.0.1:8080/access/cs_1?token=eyJ.x.y", i.access_link);

	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("", rq->api_key); /* no authentication */
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_GET_STATUS, rq->call_case);
	assert_string_equal("cs_1", rq->get_status->session_id);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
webhook_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__IngestWebhookResponse w = PAYWIRE__V1__INGEST_WEBHOOK_RESPONSE__INIT;
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	w.outcome = PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED;
	w.session_id = "cs_1";
	w.event_id = "evt_1";
	w.event_type = "payment_intent.payment_failed";
	w.reason = "stale: session already paid";
	w.session_status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
	w.invoice_number = 7;
	w.access_key_id = "ak_id_1";
	w.anomaly = 1;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	rsp.ingest_webhook = &w;
	testpeer_reply_pack(out, &rsp);
}

static void
test_webhook_ingest_forwards_exact_body_and_lower_case_headers(void **state)
{
	static const uint8_t body[] = { '{', '"', 0x00, 0xff, 'x', '"', '}', '\r', '\n' };
	const pw_kv hdr[] = { { "Stripe-Signature", "t=1,v1=ab" }, { "content-type", "a/b" } };
	pw_webhook_result r;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, webhook_reply);
	assert_int_equal(PW_OK, pw_webhook_ingest(g_client, PW_WEBHOOK_STRIPE, hdr, 2, body,
	                            sizeof(body), &r, &err));
	assert_int_equal(PW_WEBHOOK_IGNORED, r.outcome);
	assert_string_equal("cs_1", r.session_id);
	assert_string_equal("evt_1", r.event_id);
	assert_string_equal("payment_intent.payment_failed", r.event_type);
	assert_string_equal("stale: session already paid", r.reason);
	assert_int_equal(PW_SESSION_PAID, r.session_status);
	assert_int_equal(7, r.invoice_number);
	assert_string_equal("ak_id_1", r.access_key_id);
	assert_true(r.anomaly);

	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	const Paywire__V1__IngestWebhookRequest *iw = rq->ingest_webhook;
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE, iw->provider);
	assert_int_equal(sizeof(body), iw->body.len);
	assert_memory_equal(body, iw->body.data, sizeof(body));
	assert_int_equal(2, iw->n_headers);
	assert_string_equal("stripe-signature", iw->headers[0]->key);
	assert_string_equal("t=1,v1=ab", iw->headers[0]->value);
	assert_string_equal("content-type", iw->headers[1]->key);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
access_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__RedeemAccessResponse a = PAYWIRE__V1__REDEEM_ACCESS_RESPONSE__INIT;
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	a.session_id = rq->redeem_access->session_id;
	a.merchant_id = "mer_1";
	a.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
	a.amount_minor = 4900;
	a.currency = "EUR";
	a.paid_at_unix_ms = 1767225660000;
	a.invoice_number = 3;
	a.access_key_id = "akid_1";
	a.access_key = "ak_test_rawkey";
	a.already_revealed = 0;
	a.entitlement_active = 1;
	a.plan = "pro";
	a.customer_email = "jane@example.com";
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REDEEM_ACCESS;
	rsp.redeem_access = &a;
	testpeer_reply_pack(out, &rsp);
}

static void
test_access_redeem_sends_token_and_maps_receipt(void **state)
{
	pw_access a;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, access_reply);
	assert_int_equal(PW_OK, pw_access_redeem(g_client, "cs_9", "eyJ.tok.sig", &a, &err));
	assert_string_equal("cs_9", a.session_id);
	assert_string_equal("mer_1", a.merchant_id);
	assert_int_equal(PW_SESSION_PAID, a.status);
	assert_int_equal(4900, a.amount_minor);
	assert_string_equal("EUR", a.currency);
	assert_true(a.paid_at_unix_ms == 1767225660000);
	assert_int_equal(3, a.invoice_number);
	assert_string_equal("akid_1", a.access_key_id);
	assert_string_equal("ak_test_rawkey", a.access_key);
	assert_false(a.already_revealed);
	assert_true(a.entitlement_active);
	assert_string_equal("pro", a.plan);
	assert_string_equal("jane@example.com", a.customer_email);
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("eyJ.tok.sig", rq->redeem_access->token);
	assert_string_equal("cs_9", rq->redeem_access->session_id);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static _Atomic size_t g_hash_len;

static void
audit_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__VerifyAuditResponse v = PAYWIRE__V1__VERIFY_AUDIT_RESPONSE__INIT;
	uint8_t hash[40];
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	for (size_t i = 0; i < sizeof(hash); i++) {
		hash[i] = (uint8_t) (0xa0 + i);
	}
	v.ok = 0;
	v.records = 12;
	v.last_seq = 12;
	v.head_hash.data = hash;
	v.head_hash.len = atomic_load(&g_hash_len);
	v.first_bad_seq = 5;
	v.detail = "record 5: hash mismatch";
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_VERIFY_AUDIT;
	rsp.verify_audit = &v;
	testpeer_reply_pack(out, &rsp);
}

static void
test_audit_verify_maps_report_and_hex_head_hash(void **state)
{
	pw_audit_report r;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, audit_reply);
	atomic_store(&g_hash_len, 32);
	assert_int_equal(PW_OK, pw_audit_verify(g_client, "adm", &r, &err));
	assert_false(r.ok);
	assert_int_equal(12, r.records);
	assert_int_equal(12, r.last_seq);
	assert_int_equal(5, r.first_bad_seq);
	assert_string_equal("record 5: hash mismatch", r.detail);
	assert_string_equal("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
	    r.head_hash_hex);
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("adm", rq->api_key);
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT, rq->call_case);
	paywire__v1__request__free_unpacked(rq, NULL);

	/* A hash longer than head_hash_hex can hold is a contract violation. */
	atomic_store(&g_hash_len, 33);
	assert_int_equal(PW_INTERNAL, pw_audit_verify(g_client, "adm", &r, &err));
	assert_non_null(strstr(err.message, "33 bytes"));
}

static void
revoke_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__RevokeApiKeyResponse r = PAYWIRE__V1__REVOKE_API_KEY_RESPONSE__INIT;
	PW_ASSERT(rq != NULL); /* peer thread: no cmocka asserts */
	r.merchant_id = "mer_revoked";
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REVOKE_API_KEY;
	rsp.revoke_api_key = &r;
	testpeer_reply_pack(out, &rsp);
}

static void
test_apikey_revoke_returns_merchant_id_and_accepts_null_out(void **state)
{
	char mid[64];
	pw_error err;
	(void) state;

	atomic_store(&g_reply, revoke_reply);
	assert_int_equal(PW_OK, pw_apikey_revoke(g_client, "adm", "sk_test_old", mid, &err));
	assert_string_equal("mer_revoked", mid);
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("adm", rq->api_key);
	assert_string_equal("sk_test_old", rq->revoke_api_key->api_key);
	paywire__v1__request__free_unpacked(rq, NULL);
	assert_int_equal(PW_OK, pw_apikey_revoke(g_client, "adm", "sk_test_old", NULL, NULL));
}

/* "req_" + 12 hex digits of the time in ms + 32 hex digits of 128 random
 * bits (pw_id_new): the server's stored replies are keyed by the request
 * id, so ids of later calls sort after earlier ones' (B-tree appends). */
static void
test_generated_request_ids_are_req_time_ordered_hex_and_unique(void **state)
{
	char seen[2][64];
	pw_status_info info;
	(void) state;

	atomic_store(&g_reply, status_reply);
	atomic_store(&g_code, 0);
	for (int k = 0; k < 2; k++) {
		int64_t before = pw_now_unix_ms();
		assert_int_equal(PW_OK, pw_status_get(g_client, "cs_id", &info, NULL));
		int64_t after = pw_now_unix_ms();
		Paywire__V1__Request *rq = cfx_request_last(g_peer);
		assert_int_equal(4 + 12 + 32, strlen(rq->request_id));
		assert_memory_equal("req_", rq->request_id, 4);
		assert_int_equal(12 + 32, strspn(rq->request_id + 4, "0123456789abcdef"));
		char ms_hex[13];
		memcpy(ms_hex, rq->request_id + 4, 12);
		ms_hex[12] = '\0';
		long long ms = strtoll(ms_hex, NULL, 16);
		/* the call's own wall-clock time (a clock step during the call
		 * could move it: bounds of a minute, not a duration) */
		assert_true(ms >= before - 60000 && ms <= after + 60000);
		snprintf(seen[k], sizeof(seen[k]), "%s", rq->request_id);
		paywire__v1__request__free_unpacked(rq, NULL);
	}
	assert_string_not_equal(seen[0], seen[1]);
	/* the time part of the later call's id does not sort before the earlier's */
	assert_true(memcmp(seen[0] + 4, seen[1] + 4, 12) <= 0);
}

/* ---- replies that break the contract ---- */

static void
wrong_id_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	(void) rq;
	testpeer_reply_status(out, "req_someone_else", 0, "");
}

static void
garbage_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x08 };
	(void) rq;
	out->bytes = malloc(sizeof(junk));
	memcpy(out->bytes, junk, sizeof(junk));
	out->len = sizeof(junk);
	out->send = true;
}

static void
wrong_result_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	revoke_reply(rq, out); /* a revoke result for a get_status call */
}

static void
test_reply_for_another_request_id_is_internal(void **state)
{
	pw_status_info info;
	pw_error err;
	(void) state;
	atomic_store(&g_reply, wrong_id_reply);
	assert_int_equal(PW_INTERNAL, pw_status_get(g_client, "cs_1", &info, &err));
	assert_int_equal(PW_INTERNAL, err.code);
	assert_non_null(strstr(err.message, "request_id does not match"));
	assert_string_equal("", info.session_id);
}

static void
test_reply_that_does_not_decode_is_internal(void **state)
{
	pw_status_info info;
	pw_error err;
	(void) state;
	atomic_store(&g_reply, garbage_reply);
	assert_int_equal(PW_INTERNAL, pw_status_get(g_client, "cs_1", &info, &err));
	assert_non_null(strstr(err.message, "does not decode"));
}

static void
test_reply_with_the_wrong_result_is_internal(void **state)
{
	pw_status_info info;
	pw_error err;
	(void) state;
	atomic_store(&g_reply, wrong_result_reply);
	assert_int_equal(PW_INTERNAL, pw_status_get(g_client, "cs_1", &info, &err));
	assert_non_null(strstr(err.message, "carries result 14 where 12 was expected"));
}

/* ---- oversized strings: cut or refused, never overflowing ---- */

static char g_big[8192];

static void
long_message_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	testpeer_reply_status(out, rq->request_id, 5, g_big);
}

static void
long_fields_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__IngestWebhookResponse w = PAYWIRE__V1__INGEST_WEBHOOK_RESPONSE__INIT;
	w.outcome = PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED;
	w.session_id = "cs_1";
	w.reason = g_big;                       /* free text: cut */
	w.event_id = atomic_load(&g_code) ? g_big : "evt_1"; /* an id: refused */
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	rsp.ingest_webhook = &w;
	testpeer_reply_pack(out, &rsp);
}

static void
long_key_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateMerchantResponse cm = PAYWIRE__V1__CREATE_MERCHANT_RESPONSE__INIT;
	cm.merchant_id = "mer_1";
	cm.api_key = g_big;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT;
	rsp.create_merchant = &cm;
	testpeer_reply_pack(out, &rsp);
}

static void
test_oversized_strings_are_cut_at_utf8_boundaries_or_refused(void **state)
{
	pw_status_info info;
	pw_webhook_result r;
	pw_merchant m;
	pw_error err;
	(void) state;

	/* "ab" then 3-byte euro signs: a cut at 511 (or 255) bytes lands inside
	 * one, which must be dropped whole: 509 (254) bytes remain. */
	memset(g_big, 0, sizeof(g_big));
	memcpy(g_big, "ab", 2);
	for (size_t i = 2; i + 3 < 6000; i += 3) {
		memcpy(g_big + i, "\xe2\x82\xac", 3);
	}
	atomic_store(&g_reply, long_message_reply);
	assert_int_equal(PW_NOT_FOUND, pw_status_get(g_client, "cs_1", &info, &err));
	assert_int_equal(509, strlen(err.message));
	assert_true(pw_utf8_valid(err.message, strlen(err.message)));
	assert_int_equal(0, strncmp(err.message, g_big, 509));

	atomic_store(&g_reply, long_fields_reply);
	atomic_store(&g_code, 0);
	assert_int_equal(PW_OK, pw_webhook_ingest(g_client, PW_WEBHOOK_WEB3, NULL, 0, "{}", 2, &r, &err));
	assert_int_equal(254, strlen(r.reason));
	assert_true(pw_utf8_valid(r.reason, strlen(r.reason)));
	assert_int_equal(0, strncmp(r.reason, g_big, strlen(r.reason)));

	atomic_store(&g_code, 1);
	assert_int_equal(PW_INTERNAL,
	    pw_webhook_ingest(g_client, PW_WEBHOOK_WEB3, NULL, 0, "{}", 2, &r, &err));
	assert_non_null(strstr(err.message, "event_id"));

	/* A raw API key that does not fit is refused, and nothing of it is left. */
	atomic_store(&g_reply, long_key_reply);
	assert_int_equal(PW_INTERNAL, pw_merchant_create(g_client, "adm", "n", PW_MODE_TEST, &m, &err));
	assert_non_null(strstr(err.message, "api_key"));
	assert_string_equal("", m.api_key);
	assert_string_equal("", m.merchant_id);
}

/* ---- refused before sending ---- */

static void
test_bad_arguments_are_refused_before_anything_is_sent(void **state)
{
	static uint8_t big_body[PW_WEBHOOK_BODY_BYTES_MAX + 1];
	pw_kv md[PW_METADATA_ENTRIES_MAX + 1];
	pw_kv hdr[PW_WEBHOOK_HEADERS_MAX + 1];
	char long_name[PW_HEADER_NAME_BYTES_MAX + 2];
	char long_rid[PW_REQUEST_ID_BYTES_MAX + 2];
	pw_session_params p = { .amount_minor = 1, .currency = "EUR" };
	pw_webhook_result r;
	pw_status_info info;
	pw_session s;
	pw_merchant m;
	pw_error err;
	uint32_t before = testpeer_count(g_peer);
	(void) state;

	for (size_t i = 0; i < PW_METADATA_ENTRIES_MAX + 1; i++) {
		md[i] = (pw_kv) { "k", "v" };
	}
	for (size_t i = 0; i < PW_WEBHOOK_HEADERS_MAX + 1; i++) {
		hdr[i] = (pw_kv) { "h", "v" };
	}
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(long_rid, 'r', sizeof(long_rid) - 1);
	long_rid[sizeof(long_rid) - 1] = '\0';

	assert_int_equal(PW_INVALID_ARGUMENT, pw_status_get(NULL, "cs", &info, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_status_get(g_client, NULL, &info, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_status_get(g_client, "cs", NULL, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_merchant_create(g_client, NULL, "n", PW_MODE_TEST, &m, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_merchant_create(g_client, "a", "n", (pw_mode) 7, &m, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_session_create(g_client, "k", NULL, &s, &err));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_access_redeem(g_client, "cs", NULL, NULL, &err));
	p.metadata = md;
	p.metadata_len = PW_METADATA_ENTRIES_MAX + 1;
	assert_int_equal(PW_INVALID_ARGUMENT, pw_session_create(g_client, "k", &p, &s, &err));
	assert_non_null(strstr(err.message, "metadata"));
	p.metadata_len = 0;
	p.request_id = long_rid;
	assert_int_equal(PW_INVALID_ARGUMENT, pw_session_create(g_client, "k", &p, &s, &err));
	assert_non_null(strstr(err.message, "request_id"));
	assert_int_equal(PW_PAYLOAD_TOO_LARGE, pw_webhook_ingest(g_client, PW_WEBHOOK_STRIPE, NULL, 0,
	                                           big_body, sizeof(big_body), &r, &err));
	assert_int_equal(PW_PAYLOAD_TOO_LARGE, pw_webhook_ingest(g_client, PW_WEBHOOK_STRIPE, hdr,
	                                           PW_WEBHOOK_HEADERS_MAX + 1, "{}", 2, &r, &err));
	hdr[0].key = long_name;
	assert_int_equal(PW_PAYLOAD_TOO_LARGE,
	    pw_webhook_ingest(g_client, PW_WEBHOOK_STRIPE, hdr, 1, "{}", 2, &r, &err));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    pw_webhook_ingest(g_client, (pw_webhook_provider) 0, NULL, 0, "{}", 2, &r, &err));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    pw_webhook_ingest(g_client, (pw_webhook_provider) 5, NULL, 0, "{}", 2, &r, &err));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    pw_webhook_ingest(g_client, PW_WEBHOOK_STRIPE, NULL, 0, NULL, 2, &r, &err));
	assert_int_equal(before, testpeer_count(g_peer));
}

static void
test_client_open_refuses_bad_urls_and_options(void **state)
{
	pw_client_opts opts;
	pw_client *c = (pw_client *) 1;
	(void) state;

	assert_int_equal(PW_INVALID_ARGUMENT, pw_client_open(&c, "bogus://x", NULL));
	assert_null(c);
	assert_int_equal(PW_INVALID_ARGUMENT, pw_client_open(&c, "", NULL));
	assert_int_equal(PW_INVALID_ARGUMENT, pw_client_open(NULL, "tcp://127.0.0.1:1", NULL));
	pw_client_opts_default(&opts);
	assert_int_equal(PW_CLIENT_TIMEOUT_MS_DEFAULT, opts.timeout_ms);
	assert_int_equal(PW_CLIENT_RETRIES_DEFAULT, opts.retries);
	opts.retries = 1000;
	assert_int_equal(PW_INVALID_ARGUMENT, pw_client_open(&c, "tcp://127.0.0.1:1", &opts));
	opts.retries = 0;
	opts.timeout_ms = 3600000;
	assert_int_equal(PW_INVALID_ARGUMENT, pw_client_open(&c, "tcp://127.0.0.1:1", &opts));
	pw_client_close(NULL);
}

static void
raw_echo_reply(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	uint8_t *raw;
	size_t len;
	(void) rq;
	/* Echo the request bytes back (whatever they are). */
	PW_ASSERT(testpeer_copy(g_peer, testpeer_count(g_peer), &raw, &len));
	out->bytes = malloc(len + 1);
	memcpy(out->bytes, raw, len);
	out->len = len;
	out->send = true;
}

static void
test_raw_call_sends_bytes_as_they_are_and_returns_the_reply(void **state)
{
	static const uint8_t req[] = { 0x0a, 0x03, 'r', 'i', 'd', 0x98, 0x06, 0x01 };
	void *reply;
	size_t len;
	pw_error err;
	(void) state;

	atomic_store(&g_reply, raw_echo_reply);
	assert_int_equal(PW_OK, pw_client_call_raw(g_client, req, sizeof(req), &reply, &len, &err));
	assert_int_equal(sizeof(req), len);
	assert_memory_equal(req, reply, len);
	pw_free_reply(reply);
	assert_int_equal(PW_INVALID_ARGUMENT, pw_client_call_raw(g_client, req, 1, NULL, &len, &err));
}

/* ---- names ---- */

static void
test_enum_names_are_lower_case_words(void **state)
{
	pw_webhook_provider p;
	(void) state;

	assert_string_equal("paid", pw_session_status_name(PW_SESSION_PAID));
	assert_string_equal("created", pw_session_status_name(PW_SESSION_CREATED));
	assert_string_equal("disputed", pw_session_status_name(PW_SESSION_DISPUTED));
	assert_string_equal("unknown", pw_session_status_name((pw_session_status) 42));
	assert_string_equal("completed", pw_payment_status_name(PW_PAYMENT_COMPLETED));
	assert_string_equal("partially_refunded", pw_payment_status_name(PW_PAYMENT_PARTIALLY_REFUNDED));
	assert_string_equal("test", pw_mode_name(PW_MODE_TEST));
	assert_string_equal("live", pw_mode_name(PW_MODE_LIVE));
	assert_string_equal("applied", pw_webhook_outcome_name(PW_WEBHOOK_APPLIED));
	assert_string_equal("duplicate", pw_webhook_outcome_name(PW_WEBHOOK_DUPLICATE));
	assert_string_equal("ignored", pw_webhook_outcome_name(PW_WEBHOOK_IGNORED));
	assert_string_equal("stripe", pw_webhook_provider_name(PW_WEBHOOK_STRIPE));
	assert_string_equal("web3", pw_webhook_provider_name(PW_WEBHOOK_WEB3));
	assert_true(pw_webhook_provider_parse("razorpay", &p));
	assert_int_equal(PW_WEBHOOK_RAZORPAY, p);
	assert_true(pw_webhook_provider_parse("onecom", &p));
	assert_int_equal(PW_WEBHOOK_ONECOM, p);
	assert_false(pw_webhook_provider_parse("Stripe", &p));
	assert_false(pw_webhook_provider_parse("", &p));
	assert_false(pw_webhook_provider_parse(NULL, &p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_status_row_maps_wire_code_and_message),
		cmocka_unit_test(test_unknown_wire_codes_are_internal_with_the_code_in_the_message),
		cmocka_unit_test(test_merchant_create_sends_admin_key_name_mode_and_maps_reply),
		cmocka_unit_test(test_session_create_sends_every_parameter_and_maps_the_session),
		cmocka_unit_test(test_session_create_with_credits_and_no_fulfillment),
		cmocka_unit_test(test_merchant_rate_limits_send_their_classes_and_map_replies),
		cmocka_unit_test(test_credit_package_calls_send_their_arguments_and_map_replies),
		cmocka_unit_test(test_status_get_maps_every_field),
		cmocka_unit_test(test_webhook_ingest_forwards_exact_body_and_lower_case_headers),
		cmocka_unit_test(test_access_redeem_sends_token_and_maps_receipt),
		cmocka_unit_test(test_audit_verify_maps_report_and_hex_head_hash),
		cmocka_unit_test(test_apikey_revoke_returns_merchant_id_and_accepts_null_out),
		cmocka_unit_test(test_generated_request_ids_are_req_time_ordered_hex_and_unique),
		cmocka_unit_test(test_reply_for_another_request_id_is_internal),
		cmocka_unit_test(test_reply_that_does_not_decode_is_internal),
		cmocka_unit_test(test_reply_with_the_wrong_result_is_internal),
		cmocka_unit_test(test_oversized_strings_are_cut_at_utf8_boundaries_or_refused),
		cmocka_unit_test(test_bad_arguments_are_refused_before_anything_is_sent),
		cmocka_unit_test(test_client_open_refuses_bad_urls_and_options),
		cmocka_unit_test(test_raw_call_sends_bytes_as_they_are_and_returns_the_reply),
		cmocka_unit_test(test_enum_names_are_lower_case_words),
	};
	int rv = cmocka_run_group_tests(tests, group_setup, group_teardown);
	/* nng frees closed sockets, dialers and pipes on its own reaper thread:
	 * wait for it, or LeakSanitizer may catch them in flight at exit. */
	nng_fini();
	return rv;
}
