/*
 * store_payment_order_test.c - delivery order does not matter, end to end.
 *
 * For each set of events of one session (with duplicates), every distinct
 * ordering is delivered through store_webhook_apply, one write each, to a
 * fresh session; the final session (status, payment_status, refunded amount,
 * invoice, entitlement) and the number of DUPLICATE answers must be the same
 * for every ordering, and equal to what the set means. All events carry the
 * session id (One.com / Web3 shape), so resolution does not depend on order
 * either (docs/PAYMENTS.md "Reference resolution" for refs-only events).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store_fixture.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_EVENTS_MAX 8

#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define PS(x) PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x

/* One event of a set: identity (equal for duplicates) and meaning. */
typedef struct t_item {
	int id;                   /* identity: duplicates share it */
	pw_event_kind kind;       /* what it means */
	int64_t refunded;         /* PW_EV_REFUND: cumulative total */
	int64_t at_s;             /* provider time of an attempt */
	bool refs_only;           /* carries only the payment ref (a Stripe charge.refunded,
	                             dispute): resolved through the ref the success records */
} t_item;

/* What every ordering of a set must end in. */
typedef struct t_final {
	Paywire__Store__V1__SessionStatus status;       /* final status */
	Paywire__Store__V1__PaymentStatus payment;      /* final payment_status */
	int64_t refunded;                        /* amount_refunded_minor */
	uint64_t invoices;                       /* invoices created for the session: 0 or 1 */
	bool entitlement_active;                 /* on the session and its entitlement record */
	int duplicates;                          /* DUPLICATE answers */
} t_final;

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "payment_order", .map_size_bytes = 256u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	return fx_env_setup(state, &cfg);
}

static int
t_teardown(void **state)
{
	fx_env *e = *state;

	fx_audit_ok(e->s);
	return fx_env_teardown(state);
}

/* ---- one ordering ---- */

static void
t_session(fx_env *e, const char *customer, char *sid)
{
	store_session_params req = { 0 };
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	fx_session c = { .merchant_id = e->merchant_id, .req = &req };

	req.amount_minor = 4900;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_ref = (char *) customer;
	f.kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f.plan = "pro";
	req.fulfillment = &f;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	paywire__store__v1__session_record__free_unpacked(c.rec, NULL);
}

static void
t_event(fx_env *e, const t_item *it, const char *sid, pw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->provider = PW_PROVIDER_ONECOM;
	ev->kind = it->kind;
	snprintf(ev->event_id, sizeof(ev->event_id), "o%u_e%d", e->seq, it->id);
	snprintf(ev->event_type, sizeof(ev->event_type), "kind.%d", (int) it->kind);
	snprintf(ev->session_ref, sizeof(ev->session_ref), "%s", it->refs_only ? "" : sid);
	snprintf(ev->payment_ref, sizeof(ev->payment_ref), "txn_o%u", e->seq);
	ev->live = 0;
	ev->event_unix_s = it->at_s;
	if (it->kind == PW_EV_PAYMENT_SUCCEEDED) {
		ev->has_amount = true;
		ev->amount_minor = 4900;
		memcpy(ev->currency, "EUR", 4);
	}
	ev->amount_refunded_minor = it->refunded;
}

static bool
t_entitlement_active(fx_env *e, const char *id)
{
	Paywire__Store__V1__EntitlementRecord *r = fx_entitlement_get(e->s, id);
	bool active = r->active;

	paywire__store__v1__entitlement_record__free_unpacked(r, NULL);
	return active;
}

/* Delivers items in the order of idx to a fresh session; fills *fin. */
static void
t_run_ordering(fx_env *e, const t_item *items, const int *idx, size_t n, t_final *fin)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	store_counts c0, c1;
	char customer[32];
	char sid[64];

	e->seq++; /* orderings run so far: unique ids */
	snprintf(customer, sizeof(customer), "cus_%u", e->seq);
	t_session(e, customer, sid);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	memset(fin, 0, sizeof(*fin));
	for (size_t i = 0; i < n; i++) {
		pw_event ev;
		fx_webhook a;

		t_event(e, &items[idx[i]], sid, &ev);
		a.ev = &ev;
		e->now_ms += 1000;
		assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &a));
		assert_false(a.res.anomaly);
		fin->duplicates += a.res.outcome == OUT(DUPLICATE);
	}
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	fin->status = rec->session->status;
	fin->payment = rec->session->payment_status;
	fin->refunded = rec->session->amount_refunded_minor;
	fin->invoices = c1.invoices - c0.invoices;
	assert_int_equal(fin->invoices != 0, rec->invoice_number != 0);
	fin->entitlement_active = rec->entitlement_active;
	if (rec->access_key_id[0] != '\0') {
		assert_int_equal(rec->entitlement_active, t_entitlement_active(e, rec->access_key_id));
	} else {
		assert_false(rec->entitlement_active);
	}
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
}

/* Next distinct permutation of ids (lexicographic); false after the last. */
static bool
t_next_perm(int *ids, size_t n)
{
	size_t i = n - 1;
	size_t j = n - 1;

	while (i > 0 && ids[i - 1] >= ids[i]) {
		i--;
	}
	if (i == 0) {
		return false;
	}
	while (ids[j] <= ids[i - 1]) {
		j--;
	}
	int tmp = ids[i - 1];
	ids[i - 1] = ids[j];
	ids[j] = tmp;
	for (size_t a = i, b = n - 1; a < b; a++, b--) {
		tmp = ids[a];
		ids[a] = ids[b];
		ids[b] = tmp;
	}
	return true;
}

/* Runs every distinct ordering of items and checks each against want.
 * Returns the number of orderings. */
static unsigned
t_every_ordering(fx_env *e, const t_item *items, size_t n, const t_final *want)
{
	int ids[T_EVENTS_MAX];
	int idx[T_EVENTS_MAX];
	unsigned count = 0;

	assert_true(n <= T_EVENTS_MAX);
	for (size_t i = 0; i < n; i++) {
		ids[i] = items[i].id;
		/* items are listed sorted by id, duplicates adjacent */
		assert_true(i == 0 || items[i - 1].id <= items[i].id);
	}
	do {
		t_final got;
		/* Map each identity back to (the first) item carrying it. */
		for (size_t i = 0; i < n; i++) {
			size_t k = 0;
			while (items[k].id != ids[i]) {
				k++;
			}
			idx[i] = (int) k;
		}
		t_run_ordering(e, items, idx, n, &got);
		assert_int_equal(want->status, got.status);
		assert_int_equal(want->payment, got.payment);
		assert_int_equal(want->refunded, got.refunded);
		assert_int_equal(want->invoices, got.invoices);
		assert_int_equal(want->entitlement_active, got.entitlement_active);
		assert_int_equal(want->duplicates, got.duplicates);
		count++;
	} while (t_next_perm(ids, n));
	return count;
}

/* ---- sets ---- */

static void
test_failed_and_succeeded_in_any_order_end_paid(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_FAILED, 0, 100, false },
		{ 1, PW_EV_PAYMENT_FAILED, 0, 100, false },
		{ 2, PW_EV_PAYMENT_SUCCEEDED, 0, 200, false },
		{ 2, PW_EV_PAYMENT_SUCCEEDED, 0, 200, false },
	};
	const t_final want = { ST(PAID), PS(COMPLETED), 0, 1, true, 2 };

	assert_int_equal(6, t_every_ordering(e, items, 4, &want));
}

static void
test_attempts_success_and_cumulative_refunds_in_any_order_end_refunded(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_PENDING, 0, 100, false },
		{ 2, PW_EV_PAYMENT_FAILED, 0, 200, false },
		{ 3, PW_EV_PAYMENT_SUCCEEDED, 0, 300, false },
		{ 4, PW_EV_REFUND, 1900, 400, false },
		{ 4, PW_EV_REFUND, 1900, 400, false },
		{ 5, PW_EV_REFUND, 4900, 500, false },
	};
	const t_final want = { ST(REFUNDED), PS(REFUNDED), 4900, 1, false, 1 };

	assert_int_equal(360, t_every_ordering(e, items, 6, &want));
}

static void
test_partial_refund_in_any_order_stays_paid(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_SUCCEEDED, 0, 100, false },
		{ 2, PW_EV_REFUND, 1900, 200, false },
		{ 2, PW_EV_REFUND, 1900, 200, false },
		{ 3, PW_EV_PAYMENT_FAILED, 0, 50, false },
	};
	const t_final want = { ST(PAID), PS(PARTIALLY_REFUNDED), 1900, 1, true, 1 };

	assert_int_equal(12, t_every_ordering(e, items, 4, &want));
}

static void
test_success_and_lost_dispute_in_any_order_end_refunded(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_SUCCEEDED, 0, 100, false },
		{ 1, PW_EV_PAYMENT_SUCCEEDED, 0, 100, false },
		{ 2, PW_EV_DISPUTE_OPENED, 0, 200, false },
		{ 2, PW_EV_DISPUTE_OPENED, 0, 200, false },
		{ 3, PW_EV_DISPUTE_LOST, 0, 300, false },
	};
	const t_final want = { ST(REFUNDED), PS(REFUNDED), 0, 1, false, 2 };

	assert_int_equal(30, t_every_ordering(e, items, 5, &want));
}

static void
test_success_and_won_dispute_in_any_order_end_paid(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_SUCCEEDED, 0, 100, false },
		{ 2, PW_EV_DISPUTE_OPENED, 0, 200, false },
		{ 3, PW_EV_DISPUTE_WON, 0, 300, false },
		{ 3, PW_EV_DISPUTE_WON, 0, 300, false },
	};
	const t_final want = { ST(PAID), PS(COMPLETED), 0, 1, true, 1 };

	assert_int_equal(12, t_every_ordering(e, items, 4, &want));
}

/* Refs-only events before the event that records their ref are parked and
 * applied when it comes: the order still does not matter. */
static void
test_refs_only_refund_before_the_payment_is_parked_then_applied(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_SUCCEEDED, 0, 100, false },
		{ 2, PW_EV_REFUND, 1900, 200, true },
		{ 2, PW_EV_REFUND, 1900, 200, true },
		{ 3, PW_EV_REFUND, 4900, 300, true },
	};
	const t_final want = { ST(REFUNDED), PS(REFUNDED), 4900, 1, false, 1 };
	uint64_t parked = 1;

	assert_int_equal(12, t_every_ordering(e, items, 4, &want));
	assert_int_equal(PW_OK, store_parked_count(e->s, &parked));
	assert_int_equal(0, parked); /* every parked event was applied */
}

static void
test_refs_only_dispute_before_the_payment_is_parked_then_applied(void **state)
{
	fx_env *e = *state;
	const t_item items[] = {
		{ 1, PW_EV_PAYMENT_SUCCEEDED, 0, 100, false },
		{ 2, PW_EV_DISPUTE_OPENED, 0, 200, true },
		{ 3, PW_EV_DISPUTE_LOST, 0, 300, true },
		{ 3, PW_EV_DISPUTE_LOST, 0, 300, true },
	};
	const t_final want = { ST(REFUNDED), PS(REFUNDED), 0, 1, false, 1 };

	assert_int_equal(12, t_every_ordering(e, items, 4, &want));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_setup, t_teardown)
		T(test_failed_and_succeeded_in_any_order_end_paid),
		T(test_attempts_success_and_cumulative_refunds_in_any_order_end_refunded),
		T(test_partial_refund_in_any_order_stays_paid),
		T(test_success_and_lost_dispute_in_any_order_end_refunded),
		T(test_success_and_won_dispute_in_any_order_end_paid),
		T(test_refs_only_refund_before_the_payment_is_parked_then_applied),
		T(test_refs_only_dispute_before_the_payment_is_parked_then_applied),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
