/*
 * store_fsm_test.c - the session state machine, rule by rule: the transition
 * table against an independent copy of DESIGN.md's, and every event rule with
 * its exact outcome, effects, path and reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store_fsm.h"

#define S(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define P(x) PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_##x

#define NOW INT64_C(1767225700000)
#define AMOUNT INT64_C(4900)

/* ---- helpers ---- */

static fsm_state
new_session(void)
{
	fsm_state s;
	fsm_state_init(&s, AMOUNT, "EUR", false);
	return s;
}

static pw_event
ev_make(pw_event_kind kind)
{
	pw_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = kind;
	ev.live = 0;
	snprintf(ev.event_id, sizeof(ev.event_id), "evt_%d", (int) kind);
	snprintf(ev.event_type, sizeof(ev.event_type), "test.kind_%d", (int) kind);
	return ev;
}

static pw_event
ev_success(int64_t amount, const char *currency, const char *ref)
{
	pw_event ev = ev_make(PW_EV_PAYMENT_SUCCEEDED);
	ev.has_amount = true;
	ev.amount_minor = amount;
	snprintf(ev.currency, sizeof(ev.currency), "%s", currency);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", ref);
	snprintf(ev.event_type, sizeof(ev.event_type), "payment_intent.succeeded");
	return ev;
}

static pw_event
ev_refund(int64_t total)
{
	pw_event ev = ev_make(PW_EV_REFUND);
	ev.has_amount = true;
	ev.amount_minor = AMOUNT;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	ev.amount_refunded_minor = total;
	return ev;
}

static pw_event
ev_attempt(pw_event_kind kind, int64_t unix_s)
{
	pw_event ev = ev_make(kind);
	ev.event_unix_s = unix_s;
	return ev;
}

static fsm_result
apply(const fsm_state *s, const pw_event *ev)
{
	fsm_result r;
	fsm_apply(s, ev, NOW, &r);
	return r;
}

static fsm_state
paid_session(void)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r = apply(&s, &ev);
	assert_int_equal(FSM_APPLIED, r.outcome);
	return r.state;
}

static void
assert_state_equal(const fsm_state *a, const fsm_state *b)
{
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->payment_status, b->payment_status);
	assert_int_equal(a->amount_minor, b->amount_minor);
	assert_string_equal(a->currency, b->currency);
	assert_int_equal(a->live, b->live);
	assert_int_equal(a->amount_refunded_minor, b->amount_refunded_minor);
	assert_int_equal(a->dispute, b->dispute);
	assert_int_equal(a->paid_at_unix_ms, b->paid_at_unix_ms);
	assert_int_equal(a->paid_provider, b->paid_provider);
	assert_string_equal(a->paid_ref, b->paid_ref);
	assert_int_equal(a->attempt_unix_s, b->attempt_unix_s);
	assert_int_equal(a->entitlement_active, b->entitlement_active);
}

static void
assert_ignored_unchanged(const fsm_state *before, const fsm_result *r, uint32_t effects,
    const char *reason_part)
{
	assert_int_equal(FSM_IGNORED, r->outcome);
	assert_state_equal(before, &r->state);
	assert_int_equal(effects, r->effects);
	assert_int_equal(1, r->path_len);
	assert_int_equal(before->status, r->path[0]);
	assert_non_null(strstr(r->reason, reason_part));
}

/* ---- the table ---- */

/* DESIGN.md's edges, written out again by hand: this is the oracle. */
static const char *const design_edges[] = {
	"created>pending", "created>paid", "created>failed", "created>expired",
	"created>canceled", "pending>paid", "pending>failed", "pending>expired",
	"pending>canceled", "failed>paid", "failed>pending", "failed>expired",
	"failed>canceled", "paid>refunded", "paid>disputed", "disputed>paid",
	"disputed>refunded",
};

static bool
design_allows(Paywire__Store__V1__SessionStatus from, Paywire__Store__V1__SessionStatus to)
{
	static const char *const names[] = {"unspecified", "created", "pending", "paid", "failed",
		"expired", "canceled", "refunded", "disputed"};
	char edge[64];

	snprintf(edge, sizeof(edge), "%s>%s", names[from], names[to]);
	for (size_t i = 0; i < sizeof(design_edges) / sizeof(design_edges[0]); i++) {
		if (strcmp(design_edges[i], edge) == 0) {
			return true;
		}
	}
	return false;
}

static void
test_transition_table_matches_design_for_every_pair(void **state)
{
	int allowed = 0;
	(void) state;
	for (int from = 0; from <= 8; from++) {
		for (int to = 0; to <= 8; to++) {
			bool want = design_allows((Paywire__Store__V1__SessionStatus) from,
			    (Paywire__Store__V1__SessionStatus) to);
			bool got = fsm_transition_allowed((Paywire__Store__V1__SessionStatus) from,
			    (Paywire__Store__V1__SessionStatus) to);
			if (want != got) {
				fail_msg("%d -> %d: design %d, fsm %d", from, to, want, got);
			}
			allowed += got;
		}
	}
	assert_int_equal(17, allowed);
}

static void
test_terminal_statuses_have_no_way_out_and_paid_never_goes_back(void **state)
{
	(void) state;
	for (int to = 0; to <= 8; to++) {
		assert_false(fsm_transition_allowed(S(EXPIRED), (Paywire__Store__V1__SessionStatus) to));
		assert_false(fsm_transition_allowed(S(CANCELED), (Paywire__Store__V1__SessionStatus) to));
		assert_false(fsm_transition_allowed(S(REFUNDED), (Paywire__Store__V1__SessionStatus) to));
	}
	assert_false(fsm_transition_allowed(S(PAID), S(CREATED)));
	assert_false(fsm_transition_allowed(S(PAID), S(PENDING)));
	assert_false(fsm_transition_allowed(S(PAID), S(FAILED)));
	assert_false(fsm_transition_allowed(S(DISPUTED), S(FAILED)));
}

static void
test_out_of_range_statuses_are_never_allowed(void **state)
{
	(void) state;
	assert_false(fsm_transition_allowed((Paywire__Store__V1__SessionStatus) 9, S(PAID)));
	assert_false(fsm_transition_allowed(S(CREATED), (Paywire__Store__V1__SessionStatus) 9));
	assert_false(fsm_transition_allowed((Paywire__Store__V1__SessionStatus) -1, S(PAID)));
	assert_false(fsm_transition_allowed(S(CREATED), (Paywire__Store__V1__SessionStatus) 1000));
}

static void
test_names_are_stable(void **state)
{
	(void) state;
	assert_string_equal("created", fsm_status_name(S(CREATED)));
	assert_string_equal("disputed", fsm_status_name(S(DISPUTED)));
	assert_string_equal("unspecified", fsm_status_name(S(UNSPECIFIED)));
	assert_string_equal("unknown", fsm_status_name((Paywire__Store__V1__SessionStatus) 42));
	assert_string_equal("applied", fsm_outcome_name(FSM_APPLIED));
	assert_string_equal("ignored", fsm_outcome_name(FSM_IGNORED));
	assert_string_equal("mark_paid", fsm_effect_name(FSM_FX_MARK_PAID));
	assert_string_equal("revoke_entitlement", fsm_effect_name(FSM_FX_REVOKE_ENTITLEMENT));
	assert_string_equal("unknown", fsm_effect_name(FSM_FX_MARK_PAID | FSM_FX_INVOICE));
}

/* ---- state ---- */

static void
test_state_init_is_created_unpaid_and_valid(void **state)
{
	fsm_state s = new_session();
	(void) state;
	assert_int_equal(S(CREATED), s.status);
	assert_int_equal(P(UNPAID), s.payment_status);
	assert_int_equal(AMOUNT, s.amount_minor);
	assert_string_equal("EUR", s.currency);
	assert_false(s.live);
	assert_int_equal(0, s.paid_at_unix_ms);
	assert_false(s.entitlement_active);
	assert_true(fsm_state_valid(&s));
}

static void
test_state_valid_refuses_inconsistent_records(void **state)
{
	fsm_state good = paid_session();
	fsm_state s;
	(void) state;
	assert_true(fsm_state_valid(&good));
	assert_false(fsm_state_valid(NULL));

	s = good; s.status = S(UNSPECIFIED);
	assert_false(fsm_state_valid(&s));
	s = good; s.paid_at_unix_ms = 0;                 /* paid without a payment */
	assert_false(fsm_state_valid(&s));
	s = new_session(); s.paid_at_unix_ms = NOW;      /* payment on a created status */
	assert_false(fsm_state_valid(&s));
	s = good; s.amount_refunded_minor = AMOUNT + 1;
	assert_false(fsm_state_valid(&s));
	s = good; s.payment_status = P(UNPAID);
	assert_false(fsm_state_valid(&s));
	s = good; s.entitlement_active = false;
	assert_false(fsm_state_valid(&s));
	s = good; s.status = S(REFUNDED);                /* not what the facts derive */
	assert_false(fsm_state_valid(&s));
	s = good; memcpy(s.currency, "eur", 4);
	assert_false(fsm_state_valid(&s));
	s = good; s.amount_minor = 0;
	assert_false(fsm_state_valid(&s));
	s = good; s.dispute = (fsm_dispute) 4;
	assert_false(fsm_state_valid(&s));
	s = new_session(); s.attempt_unix_s = 5;         /* created after an attempt */
	assert_false(fsm_state_valid(&s));
	s = new_session(); s.paid_provider = PW_PROVIDER_STRIPE;
	assert_false(fsm_state_valid(&s));
}

/* ---- payments ---- */

static void
test_payment_succeeded_marks_paid_with_invoice_grant_and_link(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(FSM_FX_RECORD_REFS | FSM_FX_MARK_PAID | FSM_FX_INVOICE |
	        FSM_FX_ACCESS_LINK | FSM_FX_GRANT_ENTITLEMENT | FSM_FX_AUDIT,
	    r.effects);
	assert_int_equal(S(PAID), r.state.status);
	assert_int_equal(P(COMPLETED), r.state.payment_status);
	assert_int_equal(NOW, r.state.paid_at_unix_ms);
	assert_int_equal(PW_PROVIDER_STRIPE, r.state.paid_provider);
	assert_string_equal("pi_1", r.state.paid_ref);
	assert_true(r.state.entitlement_active);
	assert_int_equal(2, r.path_len);
	assert_int_equal(S(CREATED), r.path[0]);
	assert_int_equal(S(PAID), r.path[1]);
	assert_string_equal("session.paid", r.audit_action);
	assert_string_equal("", r.reason);
}

static void
test_payment_without_ref_does_not_ask_to_record_refs(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "");
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(0, r.effects & FSM_FX_RECORD_REFS);
	assert_string_equal("", r.state.paid_ref);
}

static void
test_payment_with_other_amount_is_ignored_as_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT - 1, "EUR", "pi_1");
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS | FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "payment of 4899 EUR (minor units) differs from the session's 4900 EUR: not marked paid");
	assert_string_equal("session.anomaly", r.audit_action);
}

static void
test_payment_with_other_currency_is_ignored_as_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT, "USD", "pi_1");
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS | FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "4900 USD (minor units) differs from the session's 4900 EUR");
}

static void
test_live_payment_for_test_session_is_ignored_as_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r;
	(void) state;
	ev.live = 1;
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS | FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "live-mode event for a test-mode session");
}

static void
test_test_payment_for_live_session_is_ignored_as_anomaly(void **state)
{
	fsm_state s;
	pw_event ev = ev_success(AMOUNT, "EUR", "");
	fsm_result r;
	(void) state;
	fsm_state_init(&s, AMOUNT, "EUR", true);
	ev.live = 0;
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "test-mode event for a live-mode session");
}

static void
test_payment_of_unknown_mode_is_not_checked_for_mode(void **state)
{
	fsm_state s;
	pw_event ev = ev_success(AMOUNT, "EUR", "pay_1");
	fsm_result r;
	(void) state;
	fsm_state_init(&s, AMOUNT, "EUR", true);
	ev.live = -1;
	r = apply(&s, &ev);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(S(PAID), r.state.status);
}

static void
test_mode_mismatch_of_non_money_event_is_ignored_without_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_make(PW_EV_PAYMENT_FAILED);
	fsm_result r;
	(void) state;
	ev.live = 1;
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, 0, "live-mode event for a test-mode session");
	assert_null(r.audit_action);
}

static void
test_payment_without_amount_is_ignored_as_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "");
	fsm_result r;
	(void) state;
	ev.has_amount = false;
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "payment carries no amount: not marked paid");
}

static void
test_payment_for_expired_session_is_ignored_as_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event exp = ev_make(PW_EV_SESSION_EXPIRED);
	pw_event pay = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r;
	(void) state;
	r = apply(&s, &exp);
	s = r.state;
	assert_int_equal(S(EXPIRED), s.status);
	r = apply(&s, &pay);
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS | FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "payment for a session already expired: money moved, not marked paid");
}

static void
test_payment_for_canceled_session_is_ignored_as_anomaly(void **state)
{
	fsm_state s = new_session();
	pw_event cancel = ev_make(PW_EV_PAYMENT_CANCELED);
	pw_event pay = ev_success(AMOUNT, "EUR", "");
	fsm_result r;
	(void) state;
	r = apply(&s, &cancel);
	s = r.state;
	assert_int_equal(S(CANCELED), s.status);
	r = apply(&s, &pay);
	assert_ignored_unchanged(&s, &r, FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "payment for a session already canceled");
}

static void
test_same_payment_reported_twice_is_ignored_without_second_invoice(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS, "payment already recorded");
	assert_null(r.audit_action);
}

static void
test_second_payment_with_another_ref_is_an_anomaly(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "pi_2");
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS | FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "second payment pi_2 for a session already paid by pi_1: not applied");
}

static void
test_second_payment_from_another_provider_is_an_anomaly(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_success(AMOUNT, "EUR", "");
	fsm_result r;
	(void) state;
	ev.provider = PW_PROVIDER_WEB3;
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, FSM_FX_ANOMALY | FSM_FX_AUDIT, "second payment");
}

/* ---- attempts ---- */

static void
test_payment_failed_after_paid_is_ignored_as_stale(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_make(PW_EV_PAYMENT_FAILED);
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, 0,
	    "stale: payment failure after the payment was recorded");
}

static void
test_payment_pending_after_paid_is_ignored_as_stale(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_make(PW_EV_PAYMENT_PENDING);
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, 0, "stale: payment pending after the payment was recorded");
}

static void
test_pending_then_failed_then_paid_walks_allowed_edges(void **state)
{
	fsm_state s = new_session();
	pw_event pend = ev_attempt(PW_EV_PAYMENT_PENDING, 100);
	pw_event fail = ev_attempt(PW_EV_PAYMENT_FAILED, 200);
	pw_event pay = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r;
	(void) state;
	r = apply(&s, &pend);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(S(PENDING), r.state.status);
	assert_int_equal(P(PROCESSING), r.state.payment_status);
	assert_int_equal(FSM_FX_AUDIT, r.effects);
	assert_string_equal("session.pending", r.audit_action);
	r = apply(&r.state, &fail);
	assert_int_equal(S(FAILED), r.state.status);
	assert_int_equal(P(FAILED), r.state.payment_status);
	assert_int_equal(S(PENDING), r.path[0]);
	assert_int_equal(S(FAILED), r.path[1]);
	assert_string_equal("session.failed", r.audit_action);
	r = apply(&r.state, &pay);
	assert_int_equal(S(PAID), r.state.status);
	assert_int_equal(S(FAILED), r.path[0]);
	assert_int_equal(S(PAID), r.path[1]);
	assert_true((r.effects & FSM_FX_INVOICE) != 0);
}

static void
test_failed_then_later_pending_is_a_retry_being_processed(void **state)
{
	fsm_state s = new_session();
	pw_event fail = ev_attempt(PW_EV_PAYMENT_FAILED, 100);
	pw_event pend = ev_attempt(PW_EV_PAYMENT_PENDING, 160);
	fsm_result r;
	(void) state;
	r = apply(&s, &fail);
	r = apply(&r.state, &pend);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(S(PENDING), r.state.status);
	assert_int_equal(2, r.path_len);
	assert_int_equal(S(FAILED), r.path[0]);
	assert_int_equal(S(PENDING), r.path[1]);
	assert_int_equal(160, r.state.attempt_unix_s);
}

static void
test_older_or_same_second_pending_after_failed_is_stale(void **state)
{
	fsm_state s = new_session();
	pw_event fail = ev_attempt(PW_EV_PAYMENT_FAILED, 100);
	pw_event older = ev_attempt(PW_EV_PAYMENT_PENDING, 99);
	pw_event same = ev_attempt(PW_EV_PAYMENT_PENDING, 100);
	fsm_result r;
	(void) state;
	r = apply(&s, &fail);
	s = r.state;
	r = apply(&s, &older);
	assert_ignored_unchanged(&s, &r, 0, "stale: a later payment attempt is already recorded (failed)");
	r = apply(&s, &same);
	assert_ignored_unchanged(&s, &r, 0, "stale: a later payment attempt");
}

static void
test_newer_pending_of_same_status_is_recorded(void **state)
{
	fsm_state s = new_session();
	pw_event p1 = ev_attempt(PW_EV_PAYMENT_PENDING, 100);
	pw_event p2 = ev_attempt(PW_EV_PAYMENT_PENDING, 150);
	fsm_result r;
	(void) state;
	r = apply(&s, &p1);
	r = apply(&r.state, &p2);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(1, r.path_len);
	assert_int_equal(150, r.state.attempt_unix_s);
	assert_string_equal("session.attempt_recorded", r.audit_action);
	r = apply(&r.state, &p2);
	assert_int_equal(FSM_IGNORED, r.outcome);
}

/* ---- closures ---- */

static void
test_expiry_closes_an_unpaid_session_for_good(void **state)
{
	fsm_state s = new_session();
	pw_event pend = ev_make(PW_EV_PAYMENT_PENDING);
	pw_event exp = ev_make(PW_EV_SESSION_EXPIRED);
	pw_event fail = ev_make(PW_EV_PAYMENT_FAILED);
	pw_event cancel = ev_make(PW_EV_PAYMENT_CANCELED);
	fsm_result r;
	(void) state;
	r = apply(&s, &pend);
	r = apply(&r.state, &exp);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(S(EXPIRED), r.state.status);
	assert_int_equal(P(UNPAID), r.state.payment_status);
	assert_int_equal(S(PENDING), r.path[0]);
	assert_int_equal(S(EXPIRED), r.path[1]);
	assert_string_equal("session.expired", r.audit_action);
	s = r.state;
	r = apply(&s, &fail);
	assert_ignored_unchanged(&s, &r, 0, "stale: session already expired");
	r = apply(&s, &exp);
	assert_ignored_unchanged(&s, &r, 0, "session already expired");
	r = apply(&s, &cancel);
	assert_ignored_unchanged(&s, &r, 0, "session already expired");
}

static void
test_cancel_closes_a_failed_session(void **state)
{
	fsm_state s = new_session();
	pw_event fail = ev_make(PW_EV_PAYMENT_FAILED);
	pw_event cancel = ev_make(PW_EV_PAYMENT_CANCELED);
	fsm_result r;
	(void) state;
	r = apply(&s, &fail);
	r = apply(&r.state, &cancel);
	assert_int_equal(S(CANCELED), r.state.status);
	assert_string_equal("session.canceled", r.audit_action);
}

static void
test_expiry_after_paid_is_ignored_as_stale(void **state)
{
	fsm_state s = paid_session();
	pw_event exp = ev_make(PW_EV_SESSION_EXPIRED);
	pw_event cancel = ev_make(PW_EV_PAYMENT_CANCELED);
	fsm_result r = apply(&s, &exp);
	(void) state;
	assert_ignored_unchanged(&s, &r, 0, "stale: expiry after the payment was recorded");
	r = apply(&s, &cancel);
	assert_ignored_unchanged(&s, &r, 0, "stale: cancellation after the payment was recorded");
}

/* ---- unknown ---- */

static void
test_unknown_event_type_is_ignored_with_its_name(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_make(PW_EV_IGNORED);
	fsm_result r;
	(void) state;
	snprintf(ev.event_type, sizeof(ev.event_type), "customer.created");
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, 0, "event type \"customer.created\" does not change a session");
}

static void
test_out_of_range_event_kind_is_ignored(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_make(PW_EV_IGNORED);
	fsm_result r;
	(void) state;
	ev.kind = (pw_event_kind) 77;
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, 0, "does not change a session");
}

static void
test_unknown_event_with_ref_still_records_refs(void **state)
{
	fsm_state s = new_session();
	pw_event ev = ev_make(PW_EV_IGNORED);
	fsm_result r;
	(void) state;
	snprintf(ev.order_ref, sizeof(ev.order_ref), "cs_test_1");
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, FSM_FX_RECORD_REFS, "does not change a session");
}

/* ---- refunds ---- */

static void
test_partial_refunds_accumulate_and_full_refund_revokes(void **state)
{
	fsm_state s = paid_session();
	pw_event r1 = ev_refund(1900);
	pw_event r2 = ev_refund(4900);
	fsm_result r;
	(void) state;
	r = apply(&s, &r1);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(FSM_FX_RECORD_REFUND | FSM_FX_AUDIT, r.effects);
	assert_int_equal(S(PAID), r.state.status);
	assert_int_equal(P(PARTIALLY_REFUNDED), r.state.payment_status);
	assert_int_equal(1900, r.state.amount_refunded_minor);
	assert_true(r.state.entitlement_active);
	assert_int_equal(1, r.path_len);
	assert_string_equal("session.partially_refunded", r.audit_action);
	s = r.state;
	r = apply(&s, &r1); /* the same cumulative total again: never added twice */
	assert_ignored_unchanged(&s, &r, 0, "refund total 1900 already recorded (1900)");
	r = apply(&s, &r2);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(FSM_FX_RECORD_REFUND | FSM_FX_REVOKE_ENTITLEMENT | FSM_FX_AUDIT, r.effects);
	assert_int_equal(S(REFUNDED), r.state.status);
	assert_int_equal(P(REFUNDED), r.state.payment_status);
	assert_int_equal(4900, r.state.amount_refunded_minor);
	assert_false(r.state.entitlement_active);
	assert_int_equal(S(PAID), r.path[0]);
	assert_int_equal(S(REFUNDED), r.path[1]);
	assert_string_equal("session.refunded", r.audit_action);
}

static void
test_lower_refund_total_after_higher_is_stale(void **state)
{
	fsm_state s = paid_session();
	pw_event hi = ev_refund(3000);
	pw_event lo = ev_refund(1000);
	fsm_result r = apply(&s, &hi);
	(void) state;
	s = r.state;
	r = apply(&s, &lo);
	assert_ignored_unchanged(&s, &r, 0, "refund total 1000 already recorded (3000)");
	assert_int_equal(3000, r.state.amount_refunded_minor);
}

static void
test_refund_over_the_session_amount_is_an_anomaly(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_refund(AMOUNT + 1);
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "refund total 4901 exceeds the session amount 4900: not applied");
}

static void
test_refund_in_another_currency_is_an_anomaly(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_refund(100);
	fsm_result r;
	(void) state;
	snprintf(ev.currency, sizeof(ev.currency), "INR");
	r = apply(&s, &ev);
	assert_ignored_unchanged(&s, &r, FSM_FX_ANOMALY | FSM_FX_AUDIT,
	    "refund in INR for a session in EUR: not applied");
}

static void
test_refund_without_total_is_ignored(void **state)
{
	fsm_state s = paid_session();
	pw_event ev = ev_refund(0);
	fsm_result r = apply(&s, &ev);
	(void) state;
	assert_ignored_unchanged(&s, &r, 0, "refund carries no refunded total");
}

static void
test_refund_before_payment_is_remembered_and_applied_when_paid(void **state)
{
	fsm_state s = new_session();
	pw_event refund = ev_refund(AMOUNT);
	pw_event pay = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r;
	(void) state;
	r = apply(&s, &refund);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(FSM_FX_RECORD_REFUND | FSM_FX_AUDIT, r.effects);
	assert_int_equal(S(CREATED), r.state.status);
	assert_int_equal(P(UNPAID), r.state.payment_status);
	assert_string_equal("session.refund_recorded", r.audit_action);
	r = apply(&r.state, &pay);
	assert_int_equal(FSM_APPLIED, r.outcome);
	/* paid, invoiced and linked, but never granted: the money is already back */
	assert_int_equal(FSM_FX_RECORD_REFS | FSM_FX_MARK_PAID | FSM_FX_INVOICE |
	        FSM_FX_ACCESS_LINK | FSM_FX_AUDIT,
	    r.effects);
	assert_int_equal(S(REFUNDED), r.state.status);
	assert_false(r.state.entitlement_active);
	assert_int_equal(3, r.path_len);
	assert_int_equal(S(CREATED), r.path[0]);
	assert_int_equal(S(PAID), r.path[1]);
	assert_int_equal(S(REFUNDED), r.path[2]);
	assert_string_equal("session.paid", r.audit_action);
}

/* ---- disputes ---- */

static void
test_dispute_opened_then_lost_refunds_and_revokes(void **state)
{
	fsm_state s = paid_session();
	pw_event open = ev_make(PW_EV_DISPUTE_OPENED);
	pw_event lost = ev_make(PW_EV_DISPUTE_LOST);
	fsm_result r;
	(void) state;
	r = apply(&s, &open);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(FSM_FX_AUDIT, r.effects);
	assert_int_equal(S(DISPUTED), r.state.status);
	assert_int_equal(P(DISPUTED), r.state.payment_status);
	assert_true(r.state.entitlement_active);
	assert_string_equal("session.disputed", r.audit_action);
	r = apply(&r.state, &lost);
	assert_int_equal(FSM_FX_REVOKE_ENTITLEMENT | FSM_FX_AUDIT, r.effects);
	assert_int_equal(S(REFUNDED), r.state.status);
	assert_int_equal(P(REFUNDED), r.state.payment_status);
	assert_false(r.state.entitlement_active);
	assert_int_equal(S(DISPUTED), r.path[0]);
	assert_int_equal(S(REFUNDED), r.path[1]);
}

static void
test_dispute_won_returns_to_paid(void **state)
{
	fsm_state s = paid_session();
	pw_event open = ev_make(PW_EV_DISPUTE_OPENED);
	pw_event won = ev_make(PW_EV_DISPUTE_WON);
	fsm_result r;
	(void) state;
	r = apply(&s, &open);
	r = apply(&r.state, &won);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(FSM_FX_AUDIT, r.effects);
	assert_int_equal(S(PAID), r.state.status);
	assert_int_equal(P(COMPLETED), r.state.payment_status);
	assert_true(r.state.entitlement_active);
	assert_string_equal("session.dispute_won", r.audit_action);
	s = r.state;
	r = apply(&s, &open); /* a late "opened" does not reopen a won dispute */
	assert_ignored_unchanged(&s, &r, 0, "dispute already won");
}

static void
test_dispute_lost_without_opened_refunds_directly(void **state)
{
	fsm_state s = paid_session();
	pw_event lost = ev_make(PW_EV_DISPUTE_LOST);
	fsm_result r = apply(&s, &lost);
	(void) state;
	assert_int_equal(S(REFUNDED), r.state.status);
	assert_int_equal(2, r.path_len);
	assert_int_equal(FSM_FX_REVOKE_ENTITLEMENT | FSM_FX_AUDIT, r.effects);
}

static void
test_dispute_before_payment_is_applied_when_paid(void **state)
{
	fsm_state s = new_session();
	pw_event open = ev_make(PW_EV_DISPUTE_OPENED);
	pw_event pay = ev_success(AMOUNT, "EUR", "pi_1");
	fsm_result r;
	(void) state;
	r = apply(&s, &open);
	assert_int_equal(FSM_APPLIED, r.outcome);
	assert_int_equal(S(CREATED), r.state.status);
	assert_string_equal("session.dispute_recorded", r.audit_action);
	r = apply(&r.state, &pay);
	assert_int_equal(S(DISPUTED), r.state.status);
	assert_int_equal(3, r.path_len);
	assert_int_equal(S(PAID), r.path[1]);
	assert_true((r.effects & FSM_FX_GRANT_ENTITLEMENT) != 0);
	assert_true(r.state.entitlement_active);
}

static void
test_partial_refund_during_dispute_keeps_disputed(void **state)
{
	fsm_state s = paid_session();
	pw_event open = ev_make(PW_EV_DISPUTE_OPENED);
	pw_event r1 = ev_refund(1000);
	fsm_result r;
	(void) state;
	r = apply(&s, &open);
	r = apply(&r.state, &r1);
	assert_int_equal(S(DISPUTED), r.state.status);
	assert_int_equal(P(DISPUTED), r.state.payment_status);
	assert_int_equal(1000, r.state.amount_refunded_minor);
	assert_int_equal(FSM_FX_RECORD_REFUND | FSM_FX_AUDIT, r.effects);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table_matches_design_for_every_pair),
		cmocka_unit_test(test_terminal_statuses_have_no_way_out_and_paid_never_goes_back),
		cmocka_unit_test(test_out_of_range_statuses_are_never_allowed),
		cmocka_unit_test(test_names_are_stable),
		cmocka_unit_test(test_state_init_is_created_unpaid_and_valid),
		cmocka_unit_test(test_state_valid_refuses_inconsistent_records),
		cmocka_unit_test(test_payment_succeeded_marks_paid_with_invoice_grant_and_link),
		cmocka_unit_test(test_payment_without_ref_does_not_ask_to_record_refs),
		cmocka_unit_test(test_payment_with_other_amount_is_ignored_as_anomaly),
		cmocka_unit_test(test_payment_with_other_currency_is_ignored_as_anomaly),
		cmocka_unit_test(test_live_payment_for_test_session_is_ignored_as_anomaly),
		cmocka_unit_test(test_test_payment_for_live_session_is_ignored_as_anomaly),
		cmocka_unit_test(test_payment_of_unknown_mode_is_not_checked_for_mode),
		cmocka_unit_test(test_mode_mismatch_of_non_money_event_is_ignored_without_anomaly),
		cmocka_unit_test(test_payment_without_amount_is_ignored_as_anomaly),
		cmocka_unit_test(test_payment_for_expired_session_is_ignored_as_anomaly),
		cmocka_unit_test(test_payment_for_canceled_session_is_ignored_as_anomaly),
		cmocka_unit_test(test_same_payment_reported_twice_is_ignored_without_second_invoice),
		cmocka_unit_test(test_second_payment_with_another_ref_is_an_anomaly),
		cmocka_unit_test(test_second_payment_from_another_provider_is_an_anomaly),
		cmocka_unit_test(test_payment_failed_after_paid_is_ignored_as_stale),
		cmocka_unit_test(test_payment_pending_after_paid_is_ignored_as_stale),
		cmocka_unit_test(test_pending_then_failed_then_paid_walks_allowed_edges),
		cmocka_unit_test(test_failed_then_later_pending_is_a_retry_being_processed),
		cmocka_unit_test(test_older_or_same_second_pending_after_failed_is_stale),
		cmocka_unit_test(test_newer_pending_of_same_status_is_recorded),
		cmocka_unit_test(test_expiry_closes_an_unpaid_session_for_good),
		cmocka_unit_test(test_cancel_closes_a_failed_session),
		cmocka_unit_test(test_expiry_after_paid_is_ignored_as_stale),
		cmocka_unit_test(test_unknown_event_type_is_ignored_with_its_name),
		cmocka_unit_test(test_out_of_range_event_kind_is_ignored),
		cmocka_unit_test(test_unknown_event_with_ref_still_records_refs),
		cmocka_unit_test(test_partial_refunds_accumulate_and_full_refund_revokes),
		cmocka_unit_test(test_lower_refund_total_after_higher_is_stale),
		cmocka_unit_test(test_refund_over_the_session_amount_is_an_anomaly),
		cmocka_unit_test(test_refund_in_another_currency_is_an_anomaly),
		cmocka_unit_test(test_refund_without_total_is_ignored),
		cmocka_unit_test(test_refund_before_payment_is_remembered_and_applied_when_paid),
		cmocka_unit_test(test_dispute_opened_then_lost_refunds_and_revokes),
		cmocka_unit_test(test_dispute_won_returns_to_paid),
		cmocka_unit_test(test_dispute_lost_without_opened_refunds_directly),
		cmocka_unit_test(test_dispute_before_payment_is_applied_when_paid),
		cmocka_unit_test(test_partial_refund_during_dispute_keeps_disputed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
