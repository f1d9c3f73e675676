/*
 * store_subscription_test.c - subscriptions and entitlements
 * (store/store_subscription.c, store/store_entitlement.c), on both engines:
 * a subscription checkout records its sub_/cus_ refs and grants; a paid
 * invoice extends the period (the first one sets it, a second one for the
 * same period grants nothing twice, a redelivery is a DUPLICATE writing
 * nothing); a failed invoice makes the entitlement past_due (the key is not
 * valid, and says why) until a payment succeeds; the subscription's end
 * cancels it and revokes its key; an invoice of an unknown subscription is
 * IGNORED with the reason; an entitlement shared by two paid sessions is
 * revoked only when neither holds it any more; GetEntitlements lists a
 * merchant's own customer's entitlements and nothing of another merchant's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_P1_S INT64_C(1769904000)     /* 2026-02-01: end of the first period */
#define T_P2_S INT64_C(1772323200)     /* 2026-03-01: end of the second */
#define T_SECRET "subscription-test-jwt-secret-0123456789abcdef"

#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x
#define ES(x) PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "subscription", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .token_secret = T_SECRET, .open = true,
		.clock_t0_ms = T_T0_MS, .merchant_name = "Acme",
		.merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* A test-mode ACCESS_KEY session for (customer, plan) of merchant (NULL:
 * the setup merchant), sold as a subscription or once. */
static void
t_session(fx_env *e, const char *merchant, const char *customer, const char *plan, bool sub,
    char *sid)
{
	store_session_params req = { 0 };
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	fx_session c = { .merchant_id = merchant != NULL ? merchant : e->merchant_id, .req = &req };

	req.amount_minor = 900;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_email = "ada@example.com";
	req.customer_ref = customer;
	f.kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f.plan = (char *) plan;
	f.subscription = sub;
	req.fulfillment = &f;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	fx_session_free(&c);
}

static Paywire__Store__V1__SessionRecord *
t_get(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	return rec;
}

static void
t_ev(fx_env *e, pw_event *ev, pw_event_kind kind, const char *type)
{
	memset(ev, 0, sizeof(*ev));
	ev->provider = PW_PROVIDER_STRIPE;
	ev->kind = kind;
	snprintf(ev->event_id, sizeof(ev->event_id), "evt_sub_%u", ++e->seq);
	snprintf(ev->event_type, sizeof(ev->event_type), "%s", type);
	ev->live = 0;
	ev->event_unix_s = e->now_ms / 1000;
}

static pw_status
t_send(fx_env *e, const pw_event *ev, store_webhook_result *res)
{
	fx_webhook a = { .ev = ev };
	pw_status st = store_apply_sync(e->s, fx_webhook_apply, &a);
	*res = a.res;
	return st;
}

/* checkout.session.completed of sid in subscription mode (no
 * payment_intent: Stripe leaves it null), or a one-time payment (sub NULL,
 * pi its payment_intent). */
static store_webhook_result
t_checkout(fx_env *e, const char *sid, const char *sub, const char *pi)
{
	store_webhook_result res;
	pw_event ev;

	t_ev(e, &ev, PW_EV_PAYMENT_SUCCEEDED, "checkout.session.completed");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	snprintf(ev.order_ref, sizeof(ev.order_ref), "cs_test_%u", e->seq);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", pi != NULL ? pi : "");
	if (sub != NULL) {
		snprintf(ev.subscription_ref, sizeof(ev.subscription_ref), "%s", sub);
		snprintf(ev.customer_ref, sizeof(ev.customer_ref), "cus_stripe_1");
	}
	ev.has_amount = true;
	ev.amount_minor = 900;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	return res;
}

/* An invoice / subscription event of subscription sub. */
static void
t_sub_ev(fx_env *e, pw_event *ev, pw_event_kind kind, const char *sub, int64_t period_end_s,
    const char *billing_reason)
{
	static const char *types[] = { "invoice.payment_succeeded", "invoice.payment_failed",
		"customer.subscription.deleted" };

	t_ev(e, ev, kind, types[kind - PW_EV_SUBSCRIPTION_PAID]);
	snprintf(ev->subscription_ref, sizeof(ev->subscription_ref), "%s", sub);
	snprintf(ev->customer_ref, sizeof(ev->customer_ref), "cus_stripe_1");
	ev->period_end_unix_s = period_end_s;
	snprintf(ev->billing_reason, sizeof(ev->billing_reason), "%s",
	    billing_reason != NULL ? billing_reason : "");
	if (kind != PW_EV_SUBSCRIPTION_ENDED) {
		ev->has_amount = true;
		ev->amount_minor = 900;
		snprintf(ev->currency, sizeof(ev->currency), "EUR");
	}
}

/* Sends a subscription event and asserts its outcome; returns the result. */
static store_webhook_result
t_sub(fx_env *e, pw_event_kind kind, const char *sub, int64_t period_end_s,
    const char *billing_reason, Paywire__Store__V1__WebhookOutcome want)
{
	store_webhook_result res;
	pw_event ev;

	t_sub_ev(e, &ev, kind, sub, period_end_s, billing_reason);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	if (res.outcome != want) {
		print_error("outcome %d, reason: %s\n", (int) res.outcome, res.reason);
	}
	assert_int_equal(want, res.outcome);
	return res;
}

/* The action of the merchant's latest audit record. */
static void
t_last_action(fx_env *e, const char *merchant, char *out, size_t size)
{
	Paywire__Store__V1__AuditRecord **list = NULL;
	uint64_t after = 0, next = 0;
	bool more = true;
	size_t n = 0;

	out[0] = '\0';
	while (more) {
		assert_int_equal(PW_OK, store_events_list(e->s, merchant != NULL ? merchant
		                                                                 : e->merchant_id,
		    after, 100, &list, &n, &more, &next));
		if (n > 0) {
			snprintf(out, size, "%s", list[n - 1]->action);
		}
		store_events_free(list, n);
		after = next;
	}
}

static void
t_expect_action(fx_env *e, const char *action)
{
	char got[64];

	t_last_action(e, NULL, got, sizeof(got));
	assert_string_equal(action, got);
}

/* ---- the customer's key ---- */

typedef struct t_redeem {
	const char *sid;            /* in */
	const char *token;          /* in */
	store_access_receipt r;     /* out */
} t_redeem;

static pw_status
t_redeem_cb(store_txn *t, void *arg)
{
	t_redeem *r = arg;
	return store_access_redeem(t, r->sid, r->token, true, &r->r);
}

/* Reveals sid's access key into key (its first redemption). */
static void
t_key_of(fx_env *e, const char *sid, char *key, size_t size)
{
	Paywire__Store__V1__SessionRecord *rec = t_get(e, sid);
	const char *q = strstr(rec->access_link, "?token=");
	t_redeem r;

	assert_non_null(q);
	memset(&r, 0, sizeof(r));
	r.sid = sid;
	r.token = q + 7;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_redeem_cb, &r));
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_true(strlen(r.r.access_key) > 8);
	snprintf(key, size, "%s", r.r.access_key);
	sodium_memzero(&r.r, sizeof(r.r));
}

static store_access_check
t_verify(fx_env *e, const char *key)
{
	store_access_check chk;
	assert_int_equal(PW_OK, store_access_key_verify(e->s, e->merchant_id, key, &chk));
	return chk;
}

/* ---- tests ---- */

static void
test_subscription_checkout_records_its_refs_and_grants(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	char key[128];
	char sid[64];

	t_session(e, NULL, "cust_1", "pro", true, sid);
	res = t_checkout(e, sid, "sub_1", NULL);
	assert_int_equal(ST(PAID), res.session_status);
	assert_string_not_equal("", res.access_key_id);
	rec = t_get(e, sid);
	assert_string_equal("sub_1", rec->subscription_ref);
	assert_string_equal("cus_stripe_1", rec->provider_customer_ref);
	assert_true(rec->session->fulfillment->subscription);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	ent = fx_entitlement_get(e->s, res.access_key_id);
	assert_true(ent->active);
	assert_true(ent->subscription);
	assert_int_equal(ES(ACTIVE), ent->state);
	assert_int_equal(0, ent->current_period_end_unix_ms); /* no invoice yet */
	assert_int_equal(1, ent->n_holder_session_ids);
	assert_string_equal(sid, ent->holder_session_ids[0]);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	t_key_of(e, sid, key, sizeof(key));
	assert_true(t_verify(e, key).valid);
	assert_int_equal(ES(ACTIVE), t_verify(e, key).state);
	fx_audit_ok(e->s);
}

static void
test_paid_invoices_extend_the_period_and_never_grant_twice(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result res, dup;
	store_counts c0, c1;
	store_access_check chk;
	uint64_t txnid;
	char key[128];
	char sid[64];
	pw_event ev;

	t_session(e, NULL, "cust_1", "pro", true, sid);
	res = t_checkout(e, sid, "sub_1", NULL);
	t_key_of(e, sid, key, sizeof(key));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	/* the subscription's first invoice: sets the period, mints nothing */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create");
	assert_int_equal(PW_OK, t_send(e, &ev, &dup));
	assert_int_equal(OUT(APPLIED), dup.outcome);
	assert_string_equal(sid, dup.session_id);
	assert_string_equal(res.access_key_id, dup.access_key_id);
	assert_int_equal(ST(PAID), dup.session_status);
	assert_int_equal(0, dup.invoice_number);
	t_expect_action(e, "entitlement.extended");
	chk = t_verify(e, key);
	assert_true(chk.valid);
	assert_true(chk.until_unix_ms == T_P1_S * 1000);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_true(c0.entitlements == c1.entitlements && c0.invoices == c1.invoices);
	/* its redelivery: a DUPLICATE that writes nothing */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_OK, t_send(e, &ev, &dup));
	assert_int_equal(OUT(DUPLICATE), dup.outcome);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* another event for the same period: covered, IGNORED with the reason */
	dup = t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create",
	    OUT(IGNORED));
	assert_non_null(strstr(dup.reason, "already covered"));
	/* the next period */
	e->now_ms += 31ll * 24 * 3600 * 1000;
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P2_S, "subscription_cycle", OUT(APPLIED));
	chk = t_verify(e, key);
	assert_true(chk.valid);
	assert_true(chk.until_unix_ms == T_P2_S * 1000);
	/* a late invoice of the first period does not take it back */
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_cycle", OUT(IGNORED));
	ent = fx_entitlement_get(e->s, res.access_key_id);
	assert_true(ent->current_period_end_unix_ms == T_P2_S * 1000);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_true(c0.entitlements == c1.entitlements && c0.invoices == c1.invoices);
	fx_audit_ok(e->s);
}

static void
test_failed_invoice_makes_it_past_due_until_a_payment(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	store_access_check chk;
	char key[128];
	char sid[64];

	t_session(e, NULL, "cust_1", "pro", true, sid);
	t_checkout(e, sid, "sub_1", NULL);
	t_key_of(e, sid, key, sizeof(key));
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create", OUT(APPLIED));
	/* the renewal fails */
	t_sub(e, PW_EV_SUBSCRIPTION_PAST_DUE, "sub_1", T_P2_S, "subscription_cycle", OUT(APPLIED));
	t_expect_action(e, "entitlement.past_due");
	chk = t_verify(e, key);
	assert_false(chk.valid);
	assert_int_equal(ES(PAST_DUE), chk.state);
	assert_string_equal("past_due: the subscription's latest payment failed", chk.reason);
	assert_true(chk.until_unix_ms == T_P1_S * 1000);
	assert_int_equal(0, chk.revoked_at_unix_ms);
	/* a second failed attempt changes nothing */
	res = t_sub(e, PW_EV_SUBSCRIPTION_PAST_DUE, "sub_1", T_P2_S, "subscription_cycle",
	    OUT(IGNORED));
	assert_non_null(strstr(res.reason, "already past_due"));
	/* the retry succeeds: active again, the period extended */
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P2_S, "subscription_cycle", OUT(APPLIED));
	chk = t_verify(e, key);
	assert_true(chk.valid);
	assert_string_equal("", chk.reason);
	assert_true(chk.until_unix_ms == T_P2_S * 1000);
	/* a failure of a period already paid (reordered delivery): nothing */
	res = t_sub(e, PW_EV_SUBSCRIPTION_PAST_DUE, "sub_1", T_P2_S, "subscription_cycle",
	    OUT(IGNORED));
	assert_non_null(strstr(res.reason, "already paid"));
	assert_true(t_verify(e, key).valid);
	fx_audit_ok(e->s);
}

/* A subscription with no renewal reported: valid through its period end and
 * the grace after it (a late renewal webhook makes no paying customer's key
 * invalid), LAPSED from then on (not valid, says why, in GetEntitlements
 * too), and ACTIVE again when the renewal arrives. Nothing is written by
 * the reads: LAPSED is never stored. The clock is injected. */
static void
test_subscription_past_its_period_and_grace_lapses_until_a_renewal(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord **list = NULL;
	store_access_check chk;
	size_t n = 0;
	bool more = false;
	uint64_t txnid;
	char key[128];
	char sid[64];

	t_session(e, NULL, "cust_1", "pro", true, sid);
	t_checkout(e, sid, "sub_1", NULL);
	t_key_of(e, sid, key, sizeof(key));
	/* no invoice yet: no period end known, nothing can lapse */
	e->now_ms = T_P2_S * 1000 + PW_SUBSCRIPTION_GRACE_MS;
	assert_true(t_verify(e, key).valid);
	e->now_ms = T_T0_MS;
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create", OUT(APPLIED));
	txnid = store_last_txnid(e->s);
	/* the last millisecond of the grace: still valid */
	e->now_ms = T_P1_S * 1000 + PW_SUBSCRIPTION_GRACE_MS - 1;
	chk = t_verify(e, key);
	assert_true(chk.valid);
	assert_int_equal(ES(ACTIVE), chk.state);
	/* the grace over: lapsed */
	e->now_ms += 1;
	chk = t_verify(e, key);
	assert_false(chk.valid);
	assert_int_equal(ES(LAPSED), chk.state);
	assert_string_equal("lapsed: the subscription's paid period ended and no renewal was "
	                    "reported", chk.reason);
	assert_true(chk.until_unix_ms == T_P1_S * 1000);
	assert_int_equal(PW_OK, store_entitlements_list(e->s, e->merchant_id, "cust_1", "", 100,
	    &list, &n, &more));
	assert_int_equal(1, n);
	assert_int_equal(ES(LAPSED), list[0]->state);
	assert_true(list[0]->active); /* the record: still granted, only the read says lapsed */
	store_entitlement_list_free(list, n);
	assert_int_equal(txnid, store_last_txnid(e->s)); /* reads wrote nothing */
	/* the renewal arrives late: active again, to the new period end */
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P2_S, "subscription_cycle", OUT(APPLIED));
	chk = t_verify(e, key);
	assert_true(chk.valid);
	assert_int_equal(ES(ACTIVE), chk.state);
	assert_true(chk.until_unix_ms == T_P2_S * 1000);
	/* a one-time purchase never lapses */
	{
		char sid2[64];
		char key2[128];

		t_session(e, NULL, "cust_2", "lifetime", false, sid2);
		t_checkout(e, sid2, NULL, "pi_once");
		t_key_of(e, sid2, key2, sizeof(key2));
		e->now_ms = T_P2_S * 1000 + 10 * PW_SUBSCRIPTION_GRACE_MS;
		assert_true(t_verify(e, key2).valid);
	}
	fx_audit_ok(e->s);
}

static void
test_subscription_deleted_cancels_it_and_revokes_its_key(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result paid, res;
	store_access_check chk;
	char key[128];
	char sid[64], again[64];

	t_session(e, NULL, "cust_1", "pro", true, sid);
	paid = t_checkout(e, sid, "sub_1", NULL);
	t_key_of(e, sid, key, sizeof(key));
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create", OUT(APPLIED));
	res = t_sub(e, PW_EV_SUBSCRIPTION_ENDED, "sub_1", 0, NULL, OUT(APPLIED));
	assert_non_null(strstr(res.reason, "canceled"));
	t_expect_action(e, "entitlement.revoked");
	chk = t_verify(e, key);
	assert_false(chk.valid);
	assert_int_equal(ES(CANCELED), chk.state);
	assert_string_equal("canceled: the subscription ended", chk.reason);
	assert_true(chk.revoked_at_unix_ms == e->now_ms);
	ent = fx_entitlement_get(e->s, paid.access_key_id);
	assert_false(ent->active);
	assert_int_equal(0, ent->n_holder_session_ids);
	assert_int_equal(0, ent->sealed_key.len);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	/* the checkout's payment stands: the session stays paid */
	rec = t_get(e, sid);
	assert_int_equal(ST(PAID), rec->session->status);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* later invoices of the ended subscription change nothing */
	res = t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P2_S, "subscription_cycle",
	    OUT(IGNORED));
	assert_non_null(strstr(res.reason, "canceled"));
	assert_false(t_verify(e, key).valid);
	/* a new subscription of the customer mints a new key */
	t_session(e, NULL, "cust_1", "pro", true, again);
	res = t_checkout(e, again, "sub_2", NULL);
	assert_string_not_equal(paid.access_key_id, res.access_key_id);
	fx_audit_ok(e->s);
}

static void
test_unknown_subscription_is_ignored_with_the_reason(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	store_counts c0, c1;
	uint64_t txnid;
	pw_event ev;

	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAID, "sub_nobody", T_P1_S, "subscription_cycle");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_string_equal("", res.session_id);
	assert_non_null(strstr(res.reason, "unknown subscription sub_nobody"));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_true(c1.events == c0.events + 1 && c1.audit == c0.audit);
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(DUPLICATE), res.outcome);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* a session id in the metadata naming no session: NOT_FOUND, nothing
	 * written (the provider retries) */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAST_DUE, "sub_nobody", T_P1_S, "subscription_cycle");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "cs_00000000000000000000000000000000000");
	assert_int_equal(PW_NOT_FOUND, t_send(e, &ev, &res));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_subscription_event_for_a_one_time_sale_or_other_mode_is_ignored(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	char key[128];
	char sid[64], sub[64];
	pw_event ev;

	t_session(e, NULL, "cust_1", "pro", false, sid);
	t_checkout(e, sid, NULL, "pi_once");
	t_key_of(e, sid, key, sizeof(key));
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAST_DUE, "", T_P1_S, "subscription_cycle");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_non_null(strstr(res.reason, "sells no subscription"));
	assert_true(t_verify(e, key).valid);
	assert_int_equal(0, t_verify(e, key).until_unix_ms);
	/* a live-mode event for a test-mode subscription */
	t_session(e, NULL, "cust_2", "pro", true, sub);
	t_checkout(e, sub, "sub_9", NULL);
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_ENDED, "sub_9", 0, NULL);
	ev.live = 1;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_non_null(strstr(res.reason, "live-mode event"));
}

static void
test_invoice_before_its_checkout_keeps_the_period_for_the_grant(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result res;
	char sid[64];
	pw_event ev;

	t_session(e, NULL, "cust_1", "pro", true, sid);
	/* subscription_details.metadata.session_id names the session */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(ST(CREATED), res.session_status);
	t_expect_action(e, "subscription.period_recorded");
	/* a failure before the checkout: nothing to make past_due */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAST_DUE, "sub_1", T_P1_S, "subscription_create");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_non_null(strstr(res.reason, "not paid"));
	res = t_checkout(e, sid, "sub_1", NULL);
	ent = fx_entitlement_get(e->s, res.access_key_id);
	assert_true(ent->current_period_end_unix_ms == T_P1_S * 1000);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	fx_audit_ok(e->s);
}

/* A refund of the payment pi (resolved through its recorded ref). */
static void
t_refund(fx_env *e, const char *pi)
{
	store_webhook_result res;
	pw_event ev;

	t_ev(e, &ev, PW_EV_REFUND, "charge.refunded");
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", pi);
	ev.has_amount = true;
	ev.amount_minor = 900;
	ev.amount_refunded_minor = 900;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(ST(REFUNDED), res.session_status);
}

static void
test_shared_entitlement_is_revoked_only_when_no_paid_session_holds_it(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result ra, rb;
	store_access_check chk;
	char a[64], b[64];
	char key[128];

	t_session(e, NULL, "cust_1", "pro", false, a);
	t_session(e, NULL, "cust_1", "pro", false, b);
	ra = t_checkout(e, a, NULL, "pi_a");
	rb = t_checkout(e, b, NULL, "pi_b");
	assert_string_equal(ra.access_key_id, rb.access_key_id);
	t_key_of(e, a, key, sizeof(key));
	ent = fx_entitlement_get(e->s, ra.access_key_id);
	assert_int_equal(2, ent->n_holder_session_ids);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	/* the session that created it is refunded: b's payment still holds it */
	t_refund(e, "pi_a");
	chk = t_verify(e, key);
	assert_true(chk.valid);
	ent = fx_entitlement_get(e->s, ra.access_key_id);
	assert_true(ent->active);
	assert_int_equal(1, ent->n_holder_session_ids);
	assert_string_equal(b, ent->holder_session_ids[0]);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	/* the last paid session holding it is refunded: revoked */
	t_refund(e, "pi_b");
	chk = t_verify(e, key);
	assert_false(chk.valid);
	assert_int_equal(ES(REVOKED), chk.state);
	assert_string_equal("revoked: the payment was refunded", chk.reason);
	ent = fx_entitlement_get(e->s, ra.access_key_id);
	assert_false(ent->active);
	assert_int_equal(0, ent->n_holder_session_ids);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	fx_audit_ok(e->s);
}

static void
test_refund_of_the_first_invoices_payment_revokes_the_subscription(void **state)
{
	fx_env *e = *state;
	store_webhook_result paid, res;
	store_access_check chk;
	char key[128];
	char sid[64];
	pw_event ev;

	t_session(e, NULL, "cust_1", "pro", true, sid);
	paid = t_checkout(e, sid, "sub_1", NULL);
	t_key_of(e, sid, key, sizeof(key));
	/* the first invoice carries the payment the checkout made */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create");
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_first");
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_first");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	/* a renewal's payment is the subscription's, not the session's */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P2_S, "subscription_cycle");
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_renewal");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	t_ev(e, &ev, PW_EV_REFUND, "charge.refunded");
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_renewal");
	ev.has_amount = true;
	ev.amount_minor = 900;
	ev.amount_refunded_minor = 900;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	/* a renewal's payment is no ref of the session: the refund is parked
	 * (applied if an event ever records pi_renewal), the key stays valid */
	assert_non_null(strstr(res.reason, "parked"));
	assert_true(t_verify(e, key).valid);
	/* the refund of the first payment: found by its charge, revokes */
	t_ev(e, &ev, PW_EV_REFUND, "charge.refunded");
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_first");
	ev.has_amount = true;
	ev.amount_minor = 900;
	ev.amount_refunded_minor = 900;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_string_equal(sid, res.session_id);
	assert_int_equal(ST(REFUNDED), res.session_status);
	chk = t_verify(e, key);
	assert_false(chk.valid);
	assert_int_equal(ES(REVOKED), chk.state);
	assert_string_equal("revoked: the payment was refunded", chk.reason);
	assert_string_equal(paid.access_key_id, chk.entitlement_id);
	fx_audit_ok(e->s);
}

static void
test_shared_subscription_ends_when_its_last_holder_ends(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	char a[64], b[64];
	char key[128];

	t_session(e, NULL, "cust_1", "pro", true, a);
	t_session(e, NULL, "cust_1", "pro", true, b);
	t_checkout(e, a, "sub_a", NULL);
	t_checkout(e, b, "sub_b", NULL);
	t_key_of(e, a, key, sizeof(key));
	res = t_sub(e, PW_EV_SUBSCRIPTION_ENDED, "sub_a", 0, NULL, OUT(APPLIED));
	assert_non_null(strstr(res.reason, "kept"));
	t_expect_action(e, "entitlement.released");
	assert_true(t_verify(e, key).valid);
	/* sub_a's session no longer holds it: its invoices change nothing */
	res = t_sub(e, PW_EV_SUBSCRIPTION_PAST_DUE, "sub_a", T_P2_S, NULL, OUT(IGNORED));
	assert_non_null(strstr(res.reason, "no longer holds"));
	assert_true(t_verify(e, key).valid);
	t_sub(e, PW_EV_SUBSCRIPTION_ENDED, "sub_b", 0, NULL, OUT(APPLIED));
	t_expect_action(e, "entitlement.revoked");
	assert_false(t_verify(e, key).valid);
}

/* Sends ev with the N-th allocation failing, N = 1, 2, ... until it goes
 * through: every failure is RESOURCE_EXHAUSTED and writes nothing. Returns
 * the result of the one that went through. */
static store_webhook_result
t_send_walk(fx_env *e, const pw_event *ev)
{
	store_webhook_result res;
	pw_status st = PW_INTERNAL;
	uint64_t txnid;
	long n;

	store_test_set_flat_runs(e->s, false); /* every point of the nested path */
	for (n = 1; n < 1000; n++) {
		txnid = store_last_txnid(e->s);
		pw_alloc_fail_at(n);
		st = t_send(e, ev, &res);
		pw_alloc_fail_at(0);
		if (st == PW_OK) {
			break;
		}
		assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
		assert_int_equal(txnid, store_last_txnid(e->s));
	}
	assert_int_equal(PW_OK, st);
	assert_true(n > 3); /* failures were injected inside the apply */
	return res;
}

static void
test_allocation_failure_anywhere_writes_nothing(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result ra, res;
	char a[64], b[64];
	char key[128];
	pw_event ev;

	t_session(e, NULL, "cust_1", "pro", true, a);
	t_session(e, NULL, "cust_1", "pro", true, b);
	ra = t_checkout(e, a, "sub_a", NULL);
	t_key_of(e, a, key, sizeof(key));
	/* b's checkout links: a holder added */
	t_ev(e, &ev, PW_EV_PAYMENT_SUCCEEDED, "checkout.session.completed");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", b);
	snprintf(ev.order_ref, sizeof(ev.order_ref), "cs_test_oom");
	snprintf(ev.subscription_ref, sizeof(ev.subscription_ref), "sub_b");
	ev.has_amount = true;
	ev.amount_minor = 900;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	res = t_send_walk(e, &ev);
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_string_equal(ra.access_key_id, res.access_key_id);
	/* the first invoice: the period and the payment's refs */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_PAID, "sub_a", T_P1_S, "subscription_create");
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_oom");
	res = t_send_walk(e, &ev);
	assert_int_equal(OUT(APPLIED), res.outcome);
	/* a's subscription ends: a released, b holds it */
	t_sub_ev(e, &ev, PW_EV_SUBSCRIPTION_ENDED, "sub_a", 0, NULL);
	res = t_send_walk(e, &ev);
	assert_int_equal(OUT(APPLIED), res.outcome);
	ent = fx_entitlement_get(e->s, ra.access_key_id);
	assert_true(ent->active);
	assert_int_equal(1, ent->n_holder_session_ids);
	assert_string_equal(b, ent->holder_session_ids[0]);
	assert_true(ent->current_period_end_unix_ms == T_P1_S * 1000);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	assert_true(t_verify(e, key).valid);
	fx_audit_ok(e->s);
}

/* Rewrites entitlement id as a record written before states and holders. */
static pw_status
t_make_legacy_cb(store_txn *t, void *arg)
{
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	pw_status st = store_entitlement_load(t, arg, &e);

	if (st != PW_OK) {
		return st;
	}
	for (size_t i = 0; i < e->n_holder_session_ids; i++) {
		free(e->holder_session_ids[i]);
	}
	e->n_holder_session_ids = 0;
	e->state = ES(UNSPECIFIED);
	st = store_rec_put(t, STORE_DB_ENTITLEMENTS, e->id, strlen(e->id), &e->base, 0, NULL);
	paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	return st;
}

static void
test_entitlement_written_before_holders_is_held_by_its_creator(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result ra;
	char a[64], b[64];
	char key[128];

	t_session(e, NULL, "cust_1", "pro", false, a);
	t_session(e, NULL, "cust_1", "pro", false, b);
	ra = t_checkout(e, a, NULL, "pi_a");
	t_key_of(e, a, key, sizeof(key));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_make_legacy_cb, ra.access_key_id));
	assert_int_equal(ES(ACTIVE), t_verify(e, key).state); /* read from active */
	/* a second paid session links: the creator and it hold it now */
	t_checkout(e, b, NULL, "pi_b");
	ent = fx_entitlement_get(e->s, ra.access_key_id);
	assert_int_equal(ES(ACTIVE), ent->state);
	assert_int_equal(2, ent->n_holder_session_ids);
	assert_string_equal(a, ent->holder_session_ids[0]);
	assert_string_equal(b, ent->holder_session_ids[1]);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	t_refund(e, "pi_a");
	assert_true(t_verify(e, key).valid);
	t_refund(e, "pi_b");
	assert_false(t_verify(e, key).valid);
	/* a legacy record refunded by its creator alone: revoked */
	{
		char c[64];
		store_webhook_result rc;
		char key2[128];

		t_session(e, NULL, "cust_2", "pro", false, c);
		rc = t_checkout(e, c, NULL, "pi_c");
		t_key_of(e, c, key2, sizeof(key2));
		assert_int_equal(PW_OK, store_apply_sync(e->s, t_make_legacy_cb, rc.access_key_id));
		t_refund(e, "pi_c");
		assert_int_equal(ES(REVOKED), t_verify(e, key2).state);
	}
	fx_audit_ok(e->s);
}

static void
test_get_entitlements_lists_a_merchants_own_customer(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__EntitlementRecord **list = NULL;
	store_webhook_result pro, team;
	char other[FX_MERCHANT_ID_BYTES];
	char a[64], b[64], c[64];
	uint64_t txnid;
	bool more;
	size_t n;

	t_session(e, NULL, "cust_1", "pro", true, a);
	t_session(e, NULL, "cust_1", "team", false, b);
	pro = t_checkout(e, a, "sub_1", NULL);
	t_sub(e, PW_EV_SUBSCRIPTION_PAID, "sub_1", T_P1_S, "subscription_create", OUT(APPLIED));
	team = t_checkout(e, b, NULL, "pi_team");
	t_refund(e, "pi_team");
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	t_session(e, other, "cust_1", "pro", false, c);
	t_checkout(e, c, NULL, "pi_other");
	txnid = store_last_txnid(e->s);

	assert_int_equal(PW_OK, store_entitlements_list(e->s, e->merchant_id, "cust_1", "", 100,
	    &list, &n, &more));
	assert_int_equal(2, n);
	assert_false(more);
	for (size_t i = 0; i < n; i++) {
		const Paywire__Store__V1__EntitlementRecord *x = list[i];
		assert_int_equal(0, x->sealed_key.len);
		assert_int_equal(0, x->key_hash.len);
		assert_string_equal("cust_1", x->customer);
		assert_int_equal(0, strncmp(x->key_prefix, "ak_test_", 8));
		if (strcmp(x->id, pro.access_key_id) == 0) {
			assert_string_equal("pro", x->plan);
			assert_int_equal(ES(ACTIVE), x->state);
			assert_true(x->active && x->subscription);
			assert_true(x->current_period_end_unix_ms == T_P1_S * 1000);
			assert_int_equal(1, x->n_holder_session_ids);
			assert_string_equal(a, x->holder_session_ids[0]);
		} else {
			assert_string_equal(team.access_key_id, x->id);
			assert_string_equal("team", x->plan);
			assert_int_equal(ES(REVOKED), x->state);
			assert_false(x->active);
			assert_int_equal(0, x->n_holder_session_ids);
		}
	}
	assert_true(strcmp(list[0]->id, list[1]->id) < 0);
	/* pages of one */
	{
		Paywire__Store__V1__EntitlementRecord **p = NULL;
		size_t pn;
		assert_int_equal(PW_OK, store_entitlements_list(e->s, e->merchant_id, "cust_1", "", 1,
		    &p, &pn, &more));
		assert_int_equal(1, pn);
		assert_true(more);
		assert_string_equal(list[0]->id, p[0]->id);
		store_entitlement_list_free(p, pn);
		assert_int_equal(PW_OK, store_entitlements_list(e->s, e->merchant_id, "cust_1",
		    list[0]->id, 1, &p, &pn, &more));
		assert_int_equal(1, pn);
		assert_false(more);
		assert_string_equal(list[1]->id, p[0]->id);
		store_entitlement_list_free(p, pn);
	}
	store_entitlement_list_free(list, n);
	/* the other merchant sees its own one only; an unknown customer: none */
	assert_int_equal(PW_OK, store_entitlements_list(e->s, other, "cust_1", "", 100, &list, &n,
	    &more));
	assert_int_equal(1, n);
	assert_string_equal(c, list[0]->session_id);
	store_entitlement_list_free(list, n);
	assert_int_equal(PW_OK, store_entitlements_list(e->s, e->merchant_id, "cust_nobody", "",
	    100, &list, &n, &more));
	assert_int_equal(0, n);
	assert_false(more);
	store_entitlement_list_free(list, n);
	/* a prefix of a customer is another customer */
	assert_int_equal(PW_OK, store_entitlements_list(e->s, e->merchant_id, "cust_", "", 100,
	    &list, &n, &more));
	assert_int_equal(0, n);
	store_entitlement_list_free(list, n);
	/* bad arguments */
	assert_int_equal(PW_INVALID_ARGUMENT, store_entitlements_list(e->s, e->merchant_id, "", "",
	    10, &list, &n, &more));
	assert_null(list);
	assert_int_equal(PW_INVALID_ARGUMENT, store_entitlements_list(e->s, e->merchant_id,
	    "cust_1", "", 0, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT, store_entitlements_list(e->s, e->merchant_id,
	    "cust_1", "", PW_LIST_LIMIT_MAX + 1, &list, &n, &more));
	assert_int_equal(txnid, store_last_txnid(e->s)); /* reads write nothing */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subscription_checkout_records_its_refs_and_grants,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_paid_invoices_extend_the_period_and_never_grant_twice,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_failed_invoice_makes_it_past_due_until_a_payment,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_subscription_past_its_period_and_grace_lapses_until_a_renewal, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_subscription_deleted_cancels_it_and_revokes_its_key,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_subscription_is_ignored_with_the_reason,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_subscription_event_for_a_one_time_sale_or_other_mode_is_ignored, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_invoice_before_its_checkout_keeps_the_period_for_the_grant, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_shared_entitlement_is_revoked_only_when_no_paid_session_holds_it, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refund_of_the_first_invoices_payment_revokes_the_subscription, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_shared_subscription_ends_when_its_last_holder_ends,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_entitlement_written_before_holders_is_held_by_its_creator, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_allocation_failure_anywhere_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_get_entitlements_lists_a_merchants_own_customer,
		    t_setup, fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
