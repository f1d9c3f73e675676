/*
 * store_fsm_order_test.c - ORDER INDEPENDENCE of the session state machine.
 *
 * For consistent sets of events for one session (with duplicates), every
 * permutation is applied from a fresh session and must end in the same final
 * state, with exactly one payment/invoice where the set holds a success and
 * the same entitlement. Then an exhaustive walk over every sequence of up to
 * five events from a wide alphabet checks that every transition the FSM takes
 * is an edge fsm_transition_allowed accepts, and that every edge is taken.
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
#define SET_MAX 6

/* ---- events ---- */

static pw_event
ev_make(pw_event_kind kind)
{
	pw_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = kind;
	ev.live = 0;
	snprintf(ev.event_type, sizeof(ev.event_type), "kind_%d", (int) kind);
	return ev;
}

static pw_event
ev_at(pw_event_kind kind, int64_t unix_s)
{
	pw_event ev = ev_make(kind);
	ev.event_unix_s = unix_s;
	return ev;
}

static pw_event
ev_pay(int64_t amount, const char *ref)
{
	pw_event ev = ev_make(PW_EV_PAYMENT_SUCCEEDED);
	ev.has_amount = true;
	ev.amount_minor = amount;
	memcpy(ev.currency, "EUR", 4);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", ref);
	return ev;
}

static pw_event
ev_refund(int64_t total)
{
	pw_event ev = ev_make(PW_EV_REFUND);
	ev.amount_refunded_minor = total;
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_1");
	return ev;
}

/* ---- what must not depend on order ---- */

typedef struct outcome {
	Paywire__Store__V1__SessionStatus status;       /* final status */
	Paywire__Store__V1__PaymentStatus payment;      /* final payment_status */
	int64_t refunded;                        /* final amount_refunded_minor */
	fsm_dispute dispute;                     /* final dispute progress */
	bool paid;                               /* a payment recorded */
	bool entitled;                           /* entitlement active at the end */
	int64_t attempt_unix_s;                  /* latest attempt, while unpaid and open */
	int mark_paid;                           /* FSM_FX_MARK_PAID emitted */
	int invoices;                            /* FSM_FX_INVOICE emitted */
	int links;                               /* FSM_FX_ACCESS_LINK emitted */
	int net_grants;                          /* grants - revokes */
	int anomalies;                           /* FSM_FX_ANOMALY emitted */
} outcome;

static void
check_step(const fsm_state *before, const fsm_result *r)
{
	assert_true(r->path_len >= 1 && r->path_len <= FSM_PATH_MAX);
	assert_int_equal(before->status, r->path[0]);
	assert_int_equal(r->state.status, r->path[r->path_len - 1]);
	for (int i = 0; i + 1 < r->path_len; i++) {
		if (!fsm_transition_allowed(r->path[i], r->path[i + 1])) {
			fail_msg("FSM took %s -> %s, not in the table", fsm_status_name(r->path[i]),
			    fsm_status_name(r->path[i + 1]));
		}
	}
	assert_true(fsm_state_valid(&r->state));
	if (r->outcome == FSM_IGNORED) {
		assert_int_equal(1, r->path_len);
		assert_int_equal(before->status, r->state.status);
		assert_int_equal(before->amount_refunded_minor, r->state.amount_refunded_minor);
		assert_int_equal(before->dispute, r->state.dispute);
		assert_int_equal(before->paid_at_unix_ms, r->state.paid_at_unix_ms);
		assert_int_equal(before->attempt_unix_s, r->state.attempt_unix_s);
		assert_true(r->reason[0] != '\0');
	} else {
		assert_int_equal(FSM_APPLIED, r->outcome);
		assert_true((r->effects & FSM_FX_AUDIT) != 0);
	}
}

static outcome
run_order(const pw_event *evs, const int *perm, int n)
{
	fsm_state s;
	fsm_result r;
	outcome o;
	bool open_unpaid;

	memset(&o, 0, sizeof(o));
	fsm_state_init(&s, AMOUNT, "EUR", false);
	for (int i = 0; i < n; i++) {
		fsm_apply(&s, &evs[perm[i]], NOW + i, &r);
		check_step(&s, &r);
		o.mark_paid += (r.effects & FSM_FX_MARK_PAID) != 0;
		o.invoices += (r.effects & FSM_FX_INVOICE) != 0;
		o.links += (r.effects & FSM_FX_ACCESS_LINK) != 0;
		o.net_grants += (r.effects & FSM_FX_GRANT_ENTITLEMENT) != 0;
		o.net_grants -= (r.effects & FSM_FX_REVOKE_ENTITLEMENT) != 0;
		o.anomalies += (r.effects & FSM_FX_ANOMALY) != 0;
		assert_true(o.net_grants == 0 || o.net_grants == 1);
		s = r.state;
	}
	o.status = s.status;
	o.payment = s.payment_status;
	o.refunded = s.amount_refunded_minor;
	o.dispute = s.dispute;
	o.paid = s.paid_at_unix_ms > 0;
	o.entitled = s.entitlement_active;
	open_unpaid = !o.paid && s.status != S(EXPIRED) && s.status != S(CANCELED);
	o.attempt_unix_s = open_unpaid ? s.attempt_unix_s : 0;
	assert_int_equal(o.entitled ? 1 : 0, o.net_grants);
	return o;
}

static bool
outcome_equal(const outcome *a, const outcome *b)
{
	return a->status == b->status && a->payment == b->payment && a->refunded == b->refunded &&
	    a->dispute == b->dispute && a->paid == b->paid && a->entitled == b->entitled &&
	    a->attempt_unix_s == b->attempt_unix_s && a->mark_paid == b->mark_paid &&
	    a->invoices == b->invoices && a->links == b->links && a->net_grants == b->net_grants &&
	    a->anomalies == b->anomalies;
}

static bool
next_permutation(int *a, int n)
{
	int i = n - 2;
	int j = n - 1;
	while (i >= 0 && a[i] >= a[i + 1]) {
		i--;
	}
	if (i < 0) {
		return false;
	}
	while (a[j] <= a[i]) {
		j--;
	}
	int t = a[i];
	a[i] = a[j];
	a[j] = t;
	for (int l = i + 1, r = n - 1; l < r; l++, r--) {
		t = a[l];
		a[l] = a[r];
		a[r] = t;
	}
	return true;
}

static void
describe(char *buf, size_t size, const pw_event *evs, const int *perm, int n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; i < n && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? "," : "", evs[perm[i]].event_type);
		if (w < 0) {
			break;
		}
		off += (size_t) w;
	}
}

/* Applies every permutation of evs[0..n) and compares each end with want. */
static void
check_all_orders(const pw_event *evs, int n, const outcome *want)
{
	int perm[SET_MAX];
	long count = 0;
	long expect = 1;
	char order[512];

	assert_true(n >= 2 && n <= SET_MAX);
	for (int i = 0; i < n; i++) {
		perm[i] = i;
		expect *= i + 1;
	}
	do {
		outcome got = run_order(evs, perm, n);
		count++;
		if (!outcome_equal(&got, want)) {
			describe(order, sizeof(order), evs, perm, n);
			fail_msg("order [%s]: status %s/%d refunded %lld dispute %d paid %d entitled %d "
			         "attempt %lld mark_paid %d invoices %d links %d grants %d anomalies %d",
			    order, fsm_status_name(got.status), (int) got.payment, (long long) got.refunded,
			    (int) got.dispute, got.paid, got.entitled, (long long) got.attempt_unix_s,
			    got.mark_paid, got.invoices, got.links, got.net_grants, got.anomalies);
		}
	} while (next_permutation(perm, n));
	assert_int_equal(expect, count);
}

static outcome
want_paid(Paywire__Store__V1__SessionStatus st, Paywire__Store__V1__PaymentStatus ps, int64_t refunded,
    fsm_dispute d, bool entitled, int anomalies)
{
	outcome o;
	memset(&o, 0, sizeof(o));
	o.status = st;
	o.payment = ps;
	o.refunded = refunded;
	o.dispute = d;
	o.paid = true;
	o.entitled = entitled;
	o.mark_paid = 1;
	o.invoices = 1;
	o.links = 1;
	o.net_grants = entitled ? 1 : 0;
	o.anomalies = anomalies;
	return o;
}

static void
label(pw_event *ev, const char *name)
{
	snprintf(ev->event_type, sizeof(ev->event_type), "%s", name);
}

/* ---- the sets ---- */

static void
test_failed_and_succeeded_in_any_order_end_paid(void **state)
{
	pw_event evs[3] = {ev_make(PW_EV_PAYMENT_FAILED), ev_pay(AMOUNT, "pi_1"),
		ev_make(PW_EV_PAYMENT_FAILED)};
	outcome want = want_paid(S(PAID), P(COMPLETED), 0, FSM_DISPUTE_NONE, true, 0);
	(void) state;
	label(&evs[0], "failed");
	label(&evs[1], "succeeded");
	label(&evs[2], "failed(dup)");
	check_all_orders(evs, 3, &want);
}

static void
test_succeeded_and_full_refund_in_any_order_end_refunded_with_one_invoice(void **state)
{
	pw_event evs[3] = {ev_pay(AMOUNT, "pi_1"), ev_refund(AMOUNT), ev_pay(AMOUNT, "pi_1")};
	outcome want = want_paid(S(REFUNDED), P(REFUNDED), AMOUNT, FSM_DISPUTE_NONE, false, 0);
	(void) state;
	label(&evs[0], "succeeded");
	label(&evs[1], "refund4900");
	label(&evs[2], "succeeded(dup)");
	check_all_orders(evs, 3, &want);
}

static void
test_partial_then_cumulative_refunds_in_any_order_end_fully_refunded(void **state)
{
	pw_event evs[4] = {ev_pay(AMOUNT, "pi_1"), ev_refund(1900), ev_refund(4900), ev_refund(1900)};
	outcome want = want_paid(S(REFUNDED), P(REFUNDED), 4900, FSM_DISPUTE_NONE, false, 0);
	(void) state;
	label(&evs[0], "succeeded");
	label(&evs[1], "refund1900");
	label(&evs[2], "refund4900");
	label(&evs[3], "refund1900(dup)");
	check_all_orders(evs, 4, &want);
}

static void
test_partial_refunds_without_full_end_partially_refunded(void **state)
{
	pw_event evs[4] = {ev_refund(1900), ev_pay(AMOUNT, "pi_1"), ev_refund(2500), ev_refund(1900)};
	outcome want = want_paid(S(PAID), P(PARTIALLY_REFUNDED), 2500, FSM_DISPUTE_NONE, true, 0);
	(void) state;
	label(&evs[0], "refund1900");
	label(&evs[1], "succeeded");
	label(&evs[2], "refund2500");
	label(&evs[3], "refund1900(dup)");
	check_all_orders(evs, 4, &want);
}

static void
test_succeeded_dispute_opened_and_lost_in_any_order_end_refunded(void **state)
{
	pw_event evs[4] = {ev_pay(AMOUNT, "pi_1"), ev_make(PW_EV_DISPUTE_OPENED),
		ev_make(PW_EV_DISPUTE_LOST), ev_make(PW_EV_DISPUTE_OPENED)};
	outcome want = want_paid(S(REFUNDED), P(REFUNDED), 0, FSM_DISPUTE_LOST, false, 0);
	(void) state;
	label(&evs[0], "succeeded");
	label(&evs[1], "opened");
	label(&evs[2], "lost");
	label(&evs[3], "opened(dup)");
	check_all_orders(evs, 4, &want);
}

static void
test_won_dispute_then_full_refund_end_refunded(void **state)
{
	pw_event evs[5] = {ev_pay(AMOUNT, "pi_1"), ev_make(PW_EV_DISPUTE_OPENED),
		ev_make(PW_EV_DISPUTE_WON), ev_refund(AMOUNT), ev_make(PW_EV_DISPUTE_OPENED)};
	outcome want = want_paid(S(REFUNDED), P(REFUNDED), AMOUNT, FSM_DISPUTE_WON, false, 0);
	(void) state;
	label(&evs[0], "succeeded");
	label(&evs[1], "opened");
	label(&evs[2], "won");
	label(&evs[3], "refund4900");
	label(&evs[4], "opened(dup)");
	check_all_orders(evs, 5, &want);
}

static void
test_pending_and_succeeded_in_any_order_end_paid(void **state)
{
	pw_event evs[3] = {ev_make(PW_EV_PAYMENT_PENDING), ev_pay(AMOUNT, "pi_1"),
		ev_make(PW_EV_PAYMENT_PENDING)};
	outcome want = want_paid(S(PAID), P(COMPLETED), 0, FSM_DISPUTE_NONE, true, 0);
	(void) state;
	label(&evs[0], "pending");
	label(&evs[1], "succeeded");
	label(&evs[2], "pending(dup)");
	check_all_orders(evs, 3, &want);
}

static void
test_six_events_with_retries_refund_and_dispute_end_disputed(void **state)
{
	pw_event evs[6] = {ev_at(PW_EV_PAYMENT_PENDING, 100), ev_at(PW_EV_PAYMENT_FAILED, 200),
		ev_at(PW_EV_PAYMENT_PENDING, 300), ev_pay(AMOUNT, "pi_1"), ev_refund(1900),
		ev_make(PW_EV_DISPUTE_OPENED)};
	outcome want = want_paid(S(DISPUTED), P(DISPUTED), 1900, FSM_DISPUTE_OPENED, true, 0);
	(void) state;
	label(&evs[0], "pending@100");
	label(&evs[1], "failed@200");
	label(&evs[2], "pending@300");
	label(&evs[3], "succeeded");
	label(&evs[4], "refund1900");
	label(&evs[5], "opened");
	check_all_orders(evs, 6, &want);
}

static void
test_mismatched_payment_among_good_ones_is_one_anomaly_in_any_order(void **state)
{
	pw_event evs[6] = {ev_pay(AMOUNT + 100, "pi_bad"), ev_pay(AMOUNT, "pi_1"),
		ev_make(PW_EV_PAYMENT_FAILED), ev_refund(1900), ev_refund(1900),
		ev_make(PW_EV_DISPUTE_WON)};
	outcome want = want_paid(S(PAID), P(PARTIALLY_REFUNDED), 1900, FSM_DISPUTE_WON, true, 1);
	(void) state;
	label(&evs[0], "succeeded(5000)");
	label(&evs[1], "succeeded");
	label(&evs[2], "failed");
	label(&evs[3], "refund1900");
	label(&evs[4], "refund1900(dup)");
	label(&evs[5], "won");
	check_all_orders(evs, 6, &want);
}

static void
test_wrong_mode_payment_with_refund_and_lost_dispute_in_any_order(void **state)
{
	pw_event evs[6] = {ev_pay(AMOUNT, "pi_1"), ev_pay(AMOUNT, "pi_live"), ev_refund(AMOUNT),
		ev_refund(AMOUNT), ev_make(PW_EV_DISPUTE_OPENED), ev_make(PW_EV_DISPUTE_LOST)};
	outcome want = want_paid(S(REFUNDED), P(REFUNDED), AMOUNT, FSM_DISPUTE_LOST, false, 1);
	(void) state;
	evs[1].live = 1;
	label(&evs[0], "succeeded");
	label(&evs[1], "succeeded(live)");
	label(&evs[2], "refund4900");
	label(&evs[3], "refund4900(dup)");
	label(&evs[4], "opened");
	label(&evs[5], "lost");
	check_all_orders(evs, 6, &want);
}

static void
test_unpaid_attempts_in_any_order_end_at_the_latest_attempt(void **state)
{
	pw_event evs[5] = {ev_at(PW_EV_PAYMENT_PENDING, 100), ev_at(PW_EV_PAYMENT_FAILED, 50),
		ev_at(PW_EV_PAYMENT_FAILED, 50), ev_at(PW_EV_PAYMENT_PENDING, 20), ev_make(PW_EV_IGNORED)};
	outcome want;
	(void) state;
	memset(&want, 0, sizeof(want));
	want.status = S(PENDING);
	want.payment = P(PROCESSING);
	want.attempt_unix_s = 100;
	label(&evs[0], "pending@100");
	label(&evs[1], "failed@50");
	label(&evs[2], "failed@50(dup)");
	label(&evs[3], "pending@20");
	label(&evs[4], "unknown");
	check_all_orders(evs, 5, &want);
}

static void
test_same_second_pending_and_failed_end_failed_in_any_order(void **state)
{
	pw_event evs[3] = {ev_make(PW_EV_PAYMENT_PENDING), ev_make(PW_EV_PAYMENT_FAILED),
		ev_make(PW_EV_PAYMENT_PENDING)};
	outcome want;
	(void) state;
	memset(&want, 0, sizeof(want));
	want.status = S(FAILED);
	want.payment = P(FAILED);
	label(&evs[0], "pending");
	label(&evs[1], "failed");
	label(&evs[2], "pending(dup)");
	check_all_orders(evs, 3, &want);
}

static void
test_attempts_and_expiry_in_any_order_end_expired(void **state)
{
	pw_event evs[4] = {ev_make(PW_EV_PAYMENT_FAILED), ev_at(PW_EV_PAYMENT_PENDING, 10),
		ev_make(PW_EV_SESSION_EXPIRED), ev_make(PW_EV_PAYMENT_FAILED)};
	outcome want;
	(void) state;
	memset(&want, 0, sizeof(want));
	want.status = S(EXPIRED);
	want.payment = P(UNPAID);
	label(&evs[0], "failed");
	label(&evs[1], "pending@10");
	label(&evs[2], "expired");
	label(&evs[3], "failed(dup)");
	check_all_orders(evs, 4, &want);
}

static void
test_refund_and_dispute_before_payment_still_end_refunded(void **state)
{
	pw_event evs[6] = {ev_pay(AMOUNT, "pi_1"), ev_refund(1900), ev_refund(2500),
		ev_refund(4900), ev_make(PW_EV_DISPUTE_LOST), ev_make(PW_EV_DISPUTE_OPENED)};
	outcome want = want_paid(S(REFUNDED), P(REFUNDED), 4900, FSM_DISPUTE_LOST, false, 0);
	(void) state;
	label(&evs[0], "succeeded");
	label(&evs[1], "refund1900");
	label(&evs[2], "refund2500");
	label(&evs[3], "refund4900");
	label(&evs[4], "lost");
	label(&evs[5], "opened");
	check_all_orders(evs, 6, &want);
}

/* The harness itself must be able to see a difference: two sets that are
 * NOT consistent (a closure together with a success) do depend on order,
 * which is why docs/STATE_MACHINE.md excludes them. */
static void
test_expiry_with_success_is_order_dependent_and_excluded(void **state)
{
	pw_event evs[2] = {ev_make(PW_EV_SESSION_EXPIRED), ev_pay(AMOUNT, "pi_1")};
	int a[2] = {0, 1};
	int b[2] = {1, 0};
	outcome first;
	outcome second;
	(void) state;
	first = run_order(evs, a, 2);
	second = run_order(evs, b, 2);
	assert_int_equal(S(EXPIRED), first.status);
	assert_int_equal(1, first.anomalies);
	assert_int_equal(S(PAID), second.status);
	assert_int_equal(0, second.anomalies);
}

/* ---- every transition taken is allowed, every edge is taken ---- */

#define ALPHABET 18
#define DEPTH 5

typedef struct walk {
	pw_event alphabet[ALPHABET];            /* the events tried at every step */
	bool taken[9][9];                       /* edges the FSM walked */
	long steps;                             /* fsm_apply calls */
} walk;

static void
walk_from(walk *w, const fsm_state *s, int depth)
{
	if (depth == DEPTH) {
		return;
	}
	for (int i = 0; i < ALPHABET; i++) {
		fsm_result r;
		fsm_apply(s, &w->alphabet[i], NOW + depth, &r);
		w->steps++;
		check_step(s, &r);
		for (int k = 0; k + 1 < r.path_len; k++) {
			w->taken[r.path[k]][r.path[k + 1]] = true;
		}
		if (r.outcome == FSM_APPLIED) {
			walk_from(w, &r.state, depth + 1);
		}
	}
}

static void
test_every_transition_taken_is_allowed_and_every_edge_is_taken(void **state)
{
	static walk w;
	fsm_state s;
	int edges = 0;
	(void) state;
	memset(&w, 0, sizeof(w));
	w.alphabet[0] = ev_at(PW_EV_PAYMENT_PENDING, 0);
	w.alphabet[1] = ev_at(PW_EV_PAYMENT_PENDING, 100);
	w.alphabet[2] = ev_at(PW_EV_PAYMENT_FAILED, 0);
	w.alphabet[3] = ev_at(PW_EV_PAYMENT_FAILED, 100);
	w.alphabet[4] = ev_pay(AMOUNT, "pi_1");
	w.alphabet[5] = ev_pay(AMOUNT - 1, "pi_1");
	w.alphabet[6] = ev_pay(AMOUNT, "pi_2");
	w.alphabet[7] = ev_make(PW_EV_SESSION_EXPIRED);
	w.alphabet[8] = ev_make(PW_EV_PAYMENT_CANCELED);
	w.alphabet[9] = ev_refund(1900);
	w.alphabet[10] = ev_refund(AMOUNT);
	w.alphabet[11] = ev_refund(AMOUNT + 1);
	w.alphabet[12] = ev_make(PW_EV_DISPUTE_OPENED);
	w.alphabet[13] = ev_make(PW_EV_DISPUTE_WON);
	w.alphabet[14] = ev_make(PW_EV_DISPUTE_LOST);
	w.alphabet[15] = ev_make(PW_EV_IGNORED);
	w.alphabet[16] = ev_pay(AMOUNT, "pi_1");
	w.alphabet[16].live = 1;
	w.alphabet[17] = ev_at(PW_EV_PAYMENT_PENDING, 200);
	fsm_state_init(&s, AMOUNT, "EUR", false);
	walk_from(&w, &s, 0);
	for (int from = 0; from < 9; from++) {
		for (int to = 0; to < 9; to++) {
			if (w.taken[from][to]) {
				edges++;
			}
			if (fsm_transition_allowed((Paywire__Store__V1__SessionStatus) from,
			        (Paywire__Store__V1__SessionStatus) to) &&
			    !w.taken[from][to]) {
				fail_msg("edge %s -> %s is never taken", fsm_status_name(from),
				    fsm_status_name(to));
			}
		}
	}
	assert_int_equal(17, edges);
	assert_true(w.steps > 100000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_and_succeeded_in_any_order_end_paid),
		cmocka_unit_test(test_succeeded_and_full_refund_in_any_order_end_refunded_with_one_invoice),
		cmocka_unit_test(test_partial_then_cumulative_refunds_in_any_order_end_fully_refunded),
		cmocka_unit_test(test_partial_refunds_without_full_end_partially_refunded),
		cmocka_unit_test(test_succeeded_dispute_opened_and_lost_in_any_order_end_refunded),
		cmocka_unit_test(test_won_dispute_then_full_refund_end_refunded),
		cmocka_unit_test(test_pending_and_succeeded_in_any_order_end_paid),
		cmocka_unit_test(test_six_events_with_retries_refund_and_dispute_end_disputed),
		cmocka_unit_test(test_mismatched_payment_among_good_ones_is_one_anomaly_in_any_order),
		cmocka_unit_test(test_wrong_mode_payment_with_refund_and_lost_dispute_in_any_order),
		cmocka_unit_test(test_unpaid_attempts_in_any_order_end_at_the_latest_attempt),
		cmocka_unit_test(test_same_second_pending_and_failed_end_failed_in_any_order),
		cmocka_unit_test(test_attempts_and_expiry_in_any_order_end_expired),
		cmocka_unit_test(test_refund_and_dispute_before_payment_still_end_refunded),
		cmocka_unit_test(test_expiry_with_success_is_order_dependent_and_excluded),
		cmocka_unit_test(test_every_transition_taken_is_allowed_and_every_edge_is_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
