/*
 * store_refund_test.c - what paywire records of its calls to the providers
 * (issue 10), on both engines: a session's provider checkout (PENDING at
 * creation, recorded once: the same id again changes nothing, another id is
 * refused), refunds the merchant asks for (reserved on the session so two
 * requests never refund more than was paid, idempotent by the merchant's
 * key, recorded pending or failed with the reservation released), and the
 * merchant's Stripe Price per plan. Every refusal writes nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x
#define RS(x) PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_##x
#define PCS(x) PAYWIRE__STORE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "refund", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* A 1000 EUR-cent test session (with a Stripe provider checkout when
 * provider is true), paid with payment_ref pi unless pi is NULL. */
static void
t_session(fx_env *e, bool provider, const char *pi, char *sid)
{
	store_session_params req = { 0 };
	fx_session c = { .merchant_id = e->merchant_id, .req = &req };
	fx_webhook w;
	pw_event ev;

	req.amount_minor = 1000;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.provider = provider ? PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE
	                        : PAYWIRE__STORE__V1__PROVIDER__PROVIDER_UNSPECIFIED;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	fx_session_free(&c);
	if (pi == NULL) {
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = PW_EV_PAYMENT_SUCCEEDED;
	snprintf(ev.event_id, sizeof(ev.event_id), "evt_%u", ++e->seq);
	snprintf(ev.event_type, sizeof(ev.event_type), "checkout.session.completed");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", pi);
	ev.live = 0;
	ev.has_amount = true;
	ev.amount_minor = 1000;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	ev.event_unix_s = e->now_ms / 1000;
	w = (fx_webhook){ .ev = &ev };
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &w));
	assert_int_equal(OUT(APPLIED), w.res.outcome);
}

/* ---- apply callbacks ---- */

typedef struct t_rec {
	fx_env *e;
	const char *sid;
	const char *id;
	const char *url;
	Paywire__Store__V1__SessionRecord *rec;
} t_rec;

static pw_status
t_rec_apply(store_txn *t, void *arg)
{
	t_rec *r = arg;

	if (r->rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(r->rec, NULL);
		r->rec = NULL;
	}
	return store_session_provider_record(t, r->e->merchant_id, r->sid, r->id, r->url, &r->rec);
}

typedef struct t_ref {
	fx_env *e;
	store_refund_params p;
	uint8_t hash[32];
	Paywire__Store__V1__RefundRecord *out;
	char why[256];
	/* the provider's answer (t_answer_apply) */
	const char *refund_id;
	const char *provider_id;
	const char *failure;
} t_ref;

static pw_status
t_ref_apply(store_txn *t, void *arg)
{
	t_ref *r = arg;

	if (r->out != NULL) {
		paywire__store__v1__refund_record__free_unpacked(r->out, NULL);
		r->out = NULL;
	}
	return store_refund_request(t, r->e->merchant_id, &r->p, r->hash, &r->out, r->why,
	    sizeof(r->why));
}

static pw_status
t_answer_apply(store_txn *t, void *arg)
{
	t_ref *r = arg;

	if (r->out != NULL) {
		paywire__store__v1__refund_record__free_unpacked(r->out, NULL);
		r->out = NULL;
	}
	return store_refund_provider_record(t, r->e->merchant_id, r->refund_id, r->provider_id,
	    r->failure, &r->out);
}

static void
t_ref_fini(t_ref *r)
{
	if (r->out != NULL) {
		paywire__store__v1__refund_record__free_unpacked(r->out, NULL);
		r->out = NULL;
	}
}

static Paywire__Store__V1__SessionRecord *
t_get(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;

	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	return rec;
}

/* ---- tests ---- */

static void
test_a_provider_checkout_is_recorded_once(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	t_rec r = { .e = e };
	uint64_t txn;
	char plain[64];
	char sid[64];

	t_session(e, true, NULL, sid);
	rec = t_get(e, sid);
	assert_int_equal(PCS(PENDING), rec->session->provider_checkout_state);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, rec->session->checkout_provider);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	r.sid = sid;
	r.id = "cs_test_a1";
	r.url = "https://checkout.stripe.com/c/pay/cs_test_a1";
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_rec_apply, &r));
	assert_int_equal(PCS(CREATED), r.rec->session->provider_checkout_state);
	assert_string_equal("cs_test_a1", r.rec->session->provider_checkout_id);
	assert_string_equal(r.url, r.rec->session->provider_checkout_url);
	/* the same again (a resend that reached the same Stripe session): nothing */
	txn = store_last_txnid(e->s);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_rec_apply, &r));
	assert_int_equal(txn, store_last_txnid(e->s));
	/* another id: never a second provider checkout */
	r.id = "cs_test_b2";
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, store_apply_sync(e->s, t_rec_apply, &r));
	assert_int_equal(txn, store_last_txnid(e->s));
	rec = t_get(e, sid);
	assert_string_equal("cs_test_a1", rec->session->provider_checkout_id);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* a session that asked for none; another merchant's; bad input */
	t_session(e, false, NULL, plain);
	txn = store_last_txnid(e->s);
	r.sid = plain;
	r.id = "cs_test_c3";
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_rec_apply, &r));
	r.sid = "cs_nosuchsession";
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_rec_apply, &r));
	r.sid = sid;
	r.id = "";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_rec_apply, &r));
	assert_int_equal(txn, store_last_txnid(e->s));
	if (r.rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(r.rec, NULL);
	}
	fx_audit_ok(e->s);
}

static void
test_refunds_reserve_their_amount_and_are_idempotent(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	t_ref a = { .e = e };
	t_ref b = { .e = e };
	uint64_t txn;
	char id[64];
	char sid[64];
	char unpaid[64];

	t_session(e, false, "pi_paid_1", sid);
	a.p = (store_refund_params){ .session_id = sid, .amount_minor = 600, .idempotency_key = "r1",
		.reason = "requested_by_customer" };
	randombytes_buf(a.hash, sizeof(a.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_ref_apply, &a));
	assert_int_equal(RS(REQUESTED), a.out->state);
	assert_int_equal(600, a.out->amount_minor);
	assert_string_equal("pi_paid_1", a.out->payment_ref);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, a.out->provider);
	strcpy(id, a.out->id);
	rec = t_get(e, sid);
	assert_int_equal(600, rec->refund_requested_minor);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* the same key and parameters: the same refund, nothing written */
	txn = store_last_txnid(e->s);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_ref_apply, &a));
	assert_string_equal(id, a.out->id);
	assert_int_equal(txn, store_last_txnid(e->s));
	/* the same key, other parameters */
	b = a;
	b.out = NULL;
	randombytes_buf(b.hash, sizeof(b.hash));
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, store_apply_sync(e->s, t_ref_apply, &b));
	/* more than is left (400 of 1000): refused, nothing written */
	b.p.idempotency_key = "r2";
	b.p.amount_minor = 401;
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_ref_apply, &b));
	assert_non_null(strstr(b.why, "400"));
	assert_int_equal(txn, store_last_txnid(e->s));
	/* 0: all that is left */
	b.p.amount_minor = 0;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_ref_apply, &b));
	assert_int_equal(400, b.out->amount_minor);
	/* nothing left now */
	t_ref_fini(&b);
	b.p.idempotency_key = "r3";
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_ref_apply, &b));
	/* an unpaid session, another merchant's (none) */
	t_session(e, false, NULL, unpaid);
	b.p.session_id = unpaid;
	b.p.idempotency_key = "r4";
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_ref_apply, &b));
	assert_non_null(strstr(b.why, "only a paid session"));
	b.p.session_id = "cs_nosuch";
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_ref_apply, &b));
	b.p.idempotency_key = "";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_ref_apply, &b));
	t_ref_fini(&a);
	t_ref_fini(&b);
	fx_audit_ok(e->s);
}

static void
test_the_providers_answer_pending_or_failed_releasing_the_amount(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	t_ref a = { .e = e };
	t_ref ans = { .e = e };
	uint64_t txn;
	char sid[64];
	char rf1[64];
	char rf2[64];

	t_session(e, false, "pi_paid_2", sid);
	a.p = (store_refund_params){ .session_id = sid, .amount_minor = 700, .idempotency_key = "k1" };
	randombytes_buf(a.hash, sizeof(a.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_ref_apply, &a));
	strcpy(rf1, a.out->id);
	a.p = (store_refund_params){ .session_id = sid, .amount_minor = 300, .idempotency_key = "k2" };
	randombytes_buf(a.hash, sizeof(a.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_ref_apply, &a));
	strcpy(rf2, a.out->id);
	/* the first: the provider took it */
	ans.refund_id = rf1;
	ans.provider_id = "re_1";
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_answer_apply, &ans));
	assert_int_equal(RS(PENDING), ans.out->state);
	assert_string_equal("re_1", ans.out->provider_refund_id);
	txn = store_last_txnid(e->s);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_answer_apply, &ans)); /* again: nothing */
	assert_int_equal(txn, store_last_txnid(e->s));
	ans.provider_id = "re_other";
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, store_apply_sync(e->s, t_answer_apply, &ans));
	/* the second: refused; its 300 are free again */
	ans.refund_id = rf2;
	ans.provider_id = NULL;
	ans.failure = "stripe refused the request: charge_already_refunded";
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_answer_apply, &ans));
	assert_int_equal(RS(FAILED), ans.out->state);
	assert_string_equal(ans.failure, ans.out->failure_reason);
	rec = t_get(e, sid);
	assert_int_equal(700, rec->refund_requested_minor);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	a.p = (store_refund_params){ .session_id = sid, .amount_minor = 300, .idempotency_key = "k3" };
	randombytes_buf(a.hash, sizeof(a.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_ref_apply, &a));
	/* another merchant's refund id, an unknown one */
	ans.refund_id = "rf_nosuch";
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_answer_apply, &ans));
	t_ref_fini(&a);
	t_ref_fini(&ans);
	fx_audit_ok(e->s);
}

typedef struct t_price {
	fx_env *e;
	Paywire__Store__V1__Mode mode;
	const char *plan;
	const char *price;
} t_price;

static pw_status
t_price_apply(store_txn *t, void *arg)
{
	t_price *p = arg;

	return store_plan_price_set(t, p->e->merchant_id, p->mode, p->plan, p->price);
}

static void
test_plan_prices_per_mode(void **state)
{
	fx_env *e = *state;
	t_price p = { .e = e, .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .plan = "pro",
		.price = "price_test_1" };
	char out[128];
	uint64_t txn;

	assert_int_equal(PW_NOT_FOUND, store_plan_price_get(e->s, e->merchant_id, p.mode, "pro", out,
	    sizeof(out)));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_price_apply, &p));
	assert_int_equal(PW_OK, store_plan_price_get(e->s, e->merchant_id, p.mode, "pro", out,
	    sizeof(out)));
	assert_string_equal("price_test_1", out);
	/* live is its own */
	assert_int_equal(PW_NOT_FOUND, store_plan_price_get(e->s, e->merchant_id,
	    PAYWIRE__STORE__V1__MODE__MODE_LIVE, "pro", out, sizeof(out)));
	/* another plan, another merchant: none */
	assert_int_equal(PW_NOT_FOUND, store_plan_price_get(e->s, e->merchant_id, p.mode, "pr", out,
	    sizeof(out)));
	assert_int_equal(PW_NOT_FOUND, store_plan_price_get(e->s, "mer_other", p.mode, "pro", out,
	    sizeof(out)));
	/* replaced, then deleted; deleting again NOT_FOUND */
	p.price = "price_test_2";
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_price_apply, &p));
	assert_int_equal(PW_OK, store_plan_price_get(e->s, e->merchant_id, p.mode, "pro", out,
	    sizeof(out)));
	assert_string_equal("price_test_2", out);
	p.price = "";
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_price_apply, &p));
	txn = store_last_txnid(e->s);
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_price_apply, &p));
	/* bad input writes nothing */
	p.price = "prod_1";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_price_apply, &p));
	p.price = "price_1";
	p.mode = PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_price_apply, &p));
	assert_int_equal(txn, store_last_txnid(e->s));
	fx_audit_ok(e->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_provider_checkout_is_recorded_once, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_refunds_reserve_their_amount_and_are_idempotent,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_the_providers_answer_pending_or_failed_releasing_the_amount, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_plan_prices_per_mode, t_setup, fx_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
