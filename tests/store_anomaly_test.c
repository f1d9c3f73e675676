/*
 * store_anomaly_test.c - money that needs a human (store/store_anomaly.c and
 * the anomaly records of store/store_payment.c): every event recorded as an
 * anomaly leaves one AnomalyRecord, in the event's transaction, with the
 * recommended action; harmless ignored events and redeliveries leave none;
 * a merchant lists its own, oldest first, with a cursor; bad listing
 * arguments are refused.
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

#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x
#define FK(x) PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "anomaly", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* A 4900 EUR test-mode session of merchant_id (NULL: the setup merchant)
 * selling an access key. */
static void
t_session(fx_env *e, const char *merchant_id, char *sid)
{
	store_session_params req = { 0 };
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	fx_session c = { .merchant_id = merchant_id != NULL ? merchant_id : e->merchant_id,
		.req = &req };

	req.amount_minor = 4900;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_email = "ada@example.com";
	f.kind = FK(ACCESS_KEY);
	f.plan = "pro";
	req.fulfillment = &f;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	fx_session_free(&c);
}

static void
t_ev(fx_env *e, pw_event *ev, pw_event_kind kind, const char *sid)
{
	memset(ev, 0, sizeof(*ev));
	ev->provider = PW_PROVIDER_STRIPE;
	ev->kind = kind;
	snprintf(ev->event_id, sizeof(ev->event_id), "evt_%u", ++e->seq);
	snprintf(ev->event_type, sizeof(ev->event_type), "test.kind.%d", (int) kind);
	snprintf(ev->session_ref, sizeof(ev->session_ref), "%s", sid != NULL ? sid : "");
	ev->live = 0;
	ev->event_unix_s = e->now_ms / 1000;
}

static void
t_ev_paid(fx_env *e, pw_event *ev, const char *sid, int64_t amount, const char *cur,
    const char *pi)
{
	t_ev(e, ev, PW_EV_PAYMENT_SUCCEEDED, sid);
	ev->has_amount = true;
	ev->amount_minor = amount;
	snprintf(ev->currency, sizeof(ev->currency), "%s", cur);
	snprintf(ev->payment_ref, sizeof(ev->payment_ref), "%s", pi);
}

static store_webhook_result
t_apply(fx_env *e, const pw_event *ev)
{
	fx_webhook w = { .ev = ev };

	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &w));
	return w.res;
}

/* The merchant's anomalies after `after` (asserting PW_OK). */
static size_t
t_list(fx_env *e, const char *merchant_id, uint64_t after, size_t limit,
    Paywire__Store__V1__AnomalyRecord ***out, bool *more)
{
	size_t n = 0;

	assert_int_equal(PW_OK, store_anomalies_list(e->s, merchant_id, after, limit, out, &n, more));
	return n;
}

static size_t
t_count(fx_env *e, const char *merchant_id)
{
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	bool more = false;
	size_t n = t_list(e, merchant_id, 0, PW_LIST_LIMIT_MAX, &list, &more);

	store_anomalies_free(list, n);
	assert_false(more);
	return n;
}

static void
test_second_payment_is_an_anomaly_that_says_refund_it(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	store_webhook_result r;
	char sid[PW_SESSION_ID_BYTES_MAX];
	bool more = true;
	pw_event ev;
	size_t n;

	t_session(e, NULL, sid);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_first");
	r = t_apply(e, &ev);
	assert_int_equal(OUT(APPLIED), r.outcome);
	assert_false(r.anomaly);
	assert_int_equal(0, t_count(e, e->merchant_id));

	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_second");
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	assert_true(r.anomaly);

	n = t_list(e, e->merchant_id, 0, 10, &list, &more);
	assert_int_equal(1, n);
	assert_false(more);
	assert_true(list[0]->seq > 0);
	assert_string_equal(e->merchant_id, list[0]->merchant_id);
	assert_string_equal(sid, list[0]->session_id);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, list[0]->provider);
	assert_string_equal(ev.event_id, list[0]->event_id);
	assert_string_equal("pi_second", list[0]->payment_ref);
	assert_true(list[0]->has_amount);
	assert_int_equal(4900, list[0]->amount_minor);
	assert_string_equal("EUR", list[0]->currency);
	assert_string_equal(r.reason, list[0]->reason);
	assert_string_equal("refund payment pi_second at stripe: the session was already paid by "
	                    "pi_first", list[0]->action);
	assert_int_equal(T_T0_MS, list[0]->created_at_unix_ms);
	assert_string_equal("", list[0]->resolution);

	/* the session points at its anomaly */
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(1, rec->anomalies);
	assert_int_equal(1, rec->n_anomaly_seqs);
	assert_int_equal(list[0]->seq, rec->anomaly_seqs[0]);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	store_anomalies_free(list, n);

	/* the provider's redelivery is a DUPLICATE: no second anomaly */
	r = t_apply(e, &ev);
	assert_int_equal(OUT(DUPLICATE), r.outcome);
	assert_int_equal(1, t_count(e, e->merchant_id));
}

static void
test_each_kind_of_anomaly_says_what_to_do(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	char a[PW_SESSION_ID_BYTES_MAX];
	char b[PW_SESSION_ID_BYTES_MAX];
	char c[PW_SESSION_ID_BYTES_MAX];
	char d[PW_SESSION_ID_BYTES_MAX];
	bool more = true;
	pw_event ev;
	size_t n;

	t_session(e, NULL, a);
	t_ev_paid(e, &ev, a, 4000, "EUR", "pi_under");
	assert_true(t_apply(e, &ev).anomaly);
	t_session(e, NULL, b);
	t_ev_paid(e, &ev, b, 4900, "USD", "pi_usd");
	assert_true(t_apply(e, &ev).anomaly);
	t_session(e, NULL, c);
	t_ev_paid(e, &ev, c, 4900, "EUR", "pi_live");
	ev.live = 1;
	assert_true(t_apply(e, &ev).anomaly);
	/* a refund over the amount of a paid session */
	t_session(e, NULL, d);
	t_ev_paid(e, &ev, d, 4900, "EUR", "pi_d");
	assert_false(t_apply(e, &ev).anomaly);
	t_ev(e, &ev, PW_EV_REFUND, NULL);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_d");
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_d");
	ev.has_amount = true;
	ev.amount_minor = 9900;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	ev.amount_refunded_minor = 9900;
	assert_true(t_apply(e, &ev).anomaly);

	n = t_list(e, e->merchant_id, 0, 10, &list, &more);
	assert_int_equal(4, n);
	assert_false(more);
	assert_string_equal(a, list[0]->session_id);
	assert_string_equal("refund payment pi_under at stripe: it paid 4000 EUR (minor units), "
	                    "the session asks 4900 EUR", list[0]->action);
	assert_string_equal("refund payment pi_usd at stripe: it paid 4900 USD (minor units), "
	                    "the session asks 4900 EUR", list[1]->action);
	assert_string_equal("refund payment pi_live at stripe: a live-mode payment for a test-mode "
	                    "session", list[2]->action);
	assert_non_null(strstr(list[3]->action, "check refund of pi_d at stripe, paywire did not "
	                                        "record it: refund total 9900 exceeds"));
	assert_string_equal("ch_d", list[3]->charge_ref);
	/* oldest first */
	for (size_t i = 1; i < n; i++) {
		assert_true(list[i]->seq > list[i - 1]->seq);
	}
	store_anomalies_free(list, n);
}

static void
test_payment_for_a_canceled_session_says_refund_it(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	char sid[PW_SESSION_ID_BYTES_MAX];
	bool more = true;
	pw_event ev;
	size_t n;

	t_session(e, NULL, sid);
	t_ev(e, &ev, PW_EV_PAYMENT_CANCELED, sid);
	assert_false(t_apply(e, &ev).anomaly);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_late");
	assert_true(t_apply(e, &ev).anomaly);
	n = t_list(e, e->merchant_id, 0, 10, &list, &more);
	assert_int_equal(1, n);
	assert_string_equal("refund payment pi_late at stripe: the session is canceled: nothing "
	                    "was sold", list[0]->action);
	store_anomalies_free(list, n);
}

static void
test_harmless_ignored_events_are_not_anomalies(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	store_webhook_result r;
	pw_event ev;

	t_session(e, NULL, sid);
	t_ev(e, &ev, PW_EV_IGNORED, sid); /* a type paywire does not act on */
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	assert_false(r.anomaly);
	t_ev(e, &ev, PW_EV_IGNORED, NULL); /* another integration's */
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	assert_false(r.anomaly);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1");
	assert_false(t_apply(e, &ev).anomaly);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1"); /* the same payment again */
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	assert_false(r.anomaly);
	assert_int_equal(0, t_count(e, e->merchant_id));
}

static void
test_listing_pages_with_a_cursor_and_keeps_merchants_apart(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	char other[FX_MERCHANT_ID_BYTES];
	char sid[PW_SESSION_ID_BYTES_MAX];
	uint64_t seqs[5];
	uint64_t after = 0;
	size_t got = 0;
	bool more = true;
	pw_event ev;
	size_t n;

	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	for (int i = 0; i < 5; i++) {
		char pi[32];

		t_session(e, NULL, sid);
		snprintf(pi, sizeof(pi), "pi_short_%d", i);
		t_ev_paid(e, &ev, sid, 100 + i, "EUR", pi);
		assert_true(t_apply(e, &ev).anomaly);
		/* the other merchant's anomaly falls between ours */
		t_session(e, other, sid);
		snprintf(pi, sizeof(pi), "pi_other_%d", i);
		t_ev_paid(e, &ev, sid, 1, "EUR", pi);
		assert_true(t_apply(e, &ev).anomaly);
	}
	while (more) {
		n = t_list(e, e->merchant_id, after, 2, &list, &more);
		assert_true(n <= 2);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(e->merchant_id, list[i]->merchant_id);
			assert_true(list[i]->seq > after);
			assert_int_equal(100 + (int64_t) got, list[i]->amount_minor);
			seqs[got++] = list[i]->seq;
			after = list[i]->seq;
		}
		store_anomalies_free(list, n);
		assert_true(got <= 5);
	}
	assert_int_equal(5, got);
	assert_true(seqs[4] > seqs[0]);
	assert_int_equal(5, t_count(e, other));
	assert_int_equal(0, t_count(e, "mer_nobody"));
	/* after the last: empty, no more */
	n = t_list(e, e->merchant_id, seqs[4], 10, &list, &more);
	assert_int_equal(0, n);
	assert_false(more);
	store_anomalies_free(list, n);
}

static void
test_bad_listing_arguments_are_refused(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	bool more = false;
	size_t n = 7;
	char longid[PW_SESSION_ID_BYTES_MAX + 8];

	assert_int_equal(PW_INVALID_ARGUMENT,
	    store_anomalies_list(e->s, e->merchant_id, 0, 0, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT, store_anomalies_list(e->s, e->merchant_id, 0,
	                                          PW_LIST_LIMIT_MAX + 1, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    store_anomalies_list(e->s, e->merchant_id, UINT64_MAX, 10, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT, store_anomalies_list(e->s, "", 0, 10, &list, &n, &more));
	memset(longid, 'm', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT,
	    store_anomalies_list(e->s, longid, 0, 10, &list, &n, &more));
	assert_null(list);
	assert_int_equal(0, n);
}

/* ---- refunds and disputes are tied to the payment they name ---- */

/* A Stripe charge.refunded of payment pi / charge ch, cumulative total,
 * with no session reference (resolved through the refs). */
static void
t_ev_refund(fx_env *e, pw_event *ev, const char *pi, const char *ch, int64_t amount,
    int64_t total)
{
	t_ev(e, ev, PW_EV_REFUND, NULL);
	snprintf(ev->event_type, sizeof(ev->event_type), "charge.refunded");
	snprintf(ev->payment_ref, sizeof(ev->payment_ref), "%s", pi);
	snprintf(ev->charge_ref, sizeof(ev->charge_ref), "%s", ch);
	ev->has_amount = true;
	ev->amount_minor = amount;
	snprintf(ev->currency, sizeof(ev->currency), "EUR");
	ev->amount_refunded_minor = total;
}

static Paywire__Store__V1__AnomalyRecord *
t_only_anomaly(fx_env *e)
{
	Paywire__Store__V1__AnomalyRecord **list = NULL;
	Paywire__Store__V1__AnomalyRecord *a;
	bool more = false;
	size_t n = t_list(e, e->merchant_id, 0, 10, &list, &more);

	assert_int_equal(1, n);
	a = list[0];
	pw_free(list);
	return a;
}

static void
test_refund_of_the_second_payment_resolves_its_anomaly_and_keeps_the_sale(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__AnomalyRecord *a;
	char sid[PW_SESSION_ID_BYTES_MAX];
	store_webhook_result r;
	pw_event ev;

	t_session(e, NULL, sid);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1");
	assert_int_equal(OUT(APPLIED), t_apply(e, &ev).outcome);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_2");
	assert_true(t_apply(e, &ev).anomaly);

	/* a partial refund of pi_2 first: annotated, not resolved */
	t_ev_refund(e, &ev, "pi_2", "ch_2", 4900, 1000);
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	assert_false(r.anomaly);
	assert_string_equal(sid, r.session_id);
	assert_non_null(strstr(r.reason, "refund of payment pi_2, recorded as anomaly"));
	a = t_only_anomaly(e);
	assert_string_equal("partially refunded (1000 of 4900 EUR) by stripe event evt_3",
	    a->resolution);
	assert_int_equal(0, a->resolved_at_unix_ms);
	paywire__store__v1__anomaly_record__free_unpacked(a, NULL);
	/* the rest: resolved */
	t_ev_refund(e, &ev, "pi_2", "ch_2", 4900, 4900);
	assert_int_equal(OUT(IGNORED), t_apply(e, &ev).outcome);
	a = t_only_anomaly(e);
	assert_string_equal("refunded in full (4900 of 4900 EUR) by stripe event evt_4",
	    a->resolution);
	assert_int_equal(T_T0_MS, a->resolved_at_unix_ms);
	paywire__store__v1__anomaly_record__free_unpacked(a, NULL);

	/* the real sale is untouched: paid, nothing refunded, entitlement live */
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(0, rec->session->amount_refunded_minor);
	assert_true(rec->entitlement_active);
	assert_string_equal("pi_1", rec->paid_ref);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);

	/* a dispute of pi_2: annotated, the session's dispute state untouched */
	t_ev(e, &ev, PW_EV_DISPUTE_OPENED, NULL);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_2");
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	a = t_only_anomaly(e);
	assert_non_null(strstr(a->resolution, "disputed by the customer (opened"));
	paywire__store__v1__anomaly_record__free_unpacked(a, NULL);
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(0, rec->dispute);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);

	/* a refund of the session's own payment still applies */
	t_ev_refund(e, &ev, "pi_1", "ch_1", 4900, 4900);
	r = t_apply(e, &ev);
	assert_int_equal(OUT(APPLIED), r.outcome);
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(ST(REFUNDED), rec->session->status);
	assert_false(rec->entitlement_active);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
}

static void
test_refund_of_an_underpayment_does_not_count_against_the_later_real_payment(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__AnomalyRecord *a;
	char sid[PW_SESSION_ID_BYTES_MAX];
	store_webhook_result r;
	pw_event ev;

	t_session(e, NULL, sid);
	t_ev_paid(e, &ev, sid, 4000, "EUR", "pi_under");
	assert_true(t_apply(e, &ev).anomaly);
	t_ev_refund(e, &ev, "pi_under", "ch_under", 4000, 4000);
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	a = t_only_anomaly(e);
	assert_true(a->resolved_at_unix_ms > 0);
	paywire__store__v1__anomaly_record__free_unpacked(a, NULL);
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(0, rec->session->amount_refunded_minor);
	assert_int_equal(ST(CREATED), rec->session->status);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* the customer pays the right amount: paid, not "partially refunded" */
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_ok");
	assert_int_equal(OUT(APPLIED), t_apply(e, &ev).outcome);
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_COMPLETED,
	    rec->session->payment_status);
	assert_int_equal(0, rec->session->amount_refunded_minor);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
}

static void
test_refund_naming_another_payment_than_the_recorded_one_is_not_applied(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	char sid[PW_SESSION_ID_BYTES_MAX];
	store_webhook_result r;
	pw_event ev;

	t_session(e, NULL, sid);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1");
	assert_int_equal(OUT(APPLIED), t_apply(e, &ev).outcome);
	t_ev_refund(e, &ev, "pi_unknown", "ch_x", 4900, 4900);
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	r = t_apply(e, &ev);
	assert_int_equal(OUT(IGNORED), r.outcome);
	assert_false(r.anomaly);
	assert_string_equal("refund of payment pi_unknown, not of the session's payment pi_1: not "
	                    "applied", r.reason);
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(0, rec->session->amount_refunded_minor);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* a refund that names no payment (only the charge) is the session's */
	t_ev_refund(e, &ev, "", "ch_1", 4900, 1000);
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	assert_int_equal(OUT(APPLIED), t_apply(e, &ev).outcome);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_second_payment_is_an_anomaly_that_says_refund_it,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_each_kind_of_anomaly_says_what_to_do, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_payment_for_a_canceled_session_says_refund_it,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_harmless_ignored_events_are_not_anomalies, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_listing_pages_with_a_cursor_and_keeps_merchants_apart,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_bad_listing_arguments_are_refused, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refund_of_the_second_payment_resolves_its_anomaly_and_keeps_the_sale, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refund_of_an_underpayment_does_not_count_against_the_later_real_payment,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_refund_naming_another_payment_than_the_recorded_one_is_not_applied, t_setup,
		    fx_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
