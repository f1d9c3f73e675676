/*
 * store_credits_test.c - customers' credit ledgers (store/store_credits.c):
 * a paid session's purchase, DeductCredits (idempotency key, replay,
 * conflict, a short balance, bad input: each refusal writes nothing), a
 * refund's reversal that stops at 0 and records the shortfall, listings
 * newest first with a cursor, and 64 concurrent deductions against a
 * balance of 10: exactly 10 succeed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"
#include "test_wait.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_CUSTOMER "cust_42"

#define KIND(x) PAYWIRE__STORE__V1__CREDIT_TXN_KIND__CREDIT_TXN_KIND_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "credits", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* A session selling `credits` to T_CUSTOMER, paid with payment_ref pi. */
static void
t_buy(fx_env *e, int64_t credits, const char *pi, char *sid)
{
	store_session_params req = { 0 };
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	fx_session c = { .merchant_id = e->merchant_id, .req = &req };
	fx_webhook w;
	pw_event ev;

	req.amount_minor = 1000;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_ref = T_CUSTOMER;
	f.kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS;
	f.credits = credits;
	req.fulfillment = &f;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	fx_session_free(&c);
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

/* A full refund of the payment pi. */
static void
t_refund(fx_env *e, const char *pi)
{
	fx_webhook w;
	pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = PW_EV_REFUND;
	snprintf(ev.event_id, sizeof(ev.event_id), "evt_%u", ++e->seq);
	snprintf(ev.event_type, sizeof(ev.event_type), "charge.refunded");
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", pi);
	ev.live = 0;
	ev.has_amount = true;
	ev.amount_minor = 1000;
	ev.amount_refunded_minor = 1000;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	ev.event_unix_s = e->now_ms / 1000;
	w = (fx_webhook){ .ev = &ev };
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &w));
	assert_int_equal(OUT(APPLIED), w.res.outcome);
}

typedef struct t_deduct {
	fx_env *e;                                    /* in */
	const char *customer;                         /* in */
	int64_t credits;                              /* in */
	const char *key;                              /* in: idempotency key */
	const char *description;                      /* in */
	uint8_t hash[32];                             /* in: parameters' hash */
	Paywire__Store__V1__CreditTxnRecord *txn;     /* out */
	char reason[160];                             /* out */
	pw_status st;                                 /* out (async) */
	atomic_int *done;                             /* async: counts answers */
	store_write w;                                /* async: the queued write */
} t_deduct;

static pw_status
t_deduct_apply(store_txn *t, void *arg)
{
	t_deduct *d = arg;
	store_deduct_params p = { .customer = d->customer, .credits = d->credits,
		.idempotency_key = d->key, .description = d->description };

	if (d->txn != NULL) { /* a re-run after a conflict: start again */
		paywire__store__v1__credit_txn_record__free_unpacked(d->txn, NULL);
		d->txn = NULL;
	}
	return store_credits_deduct(t, d->e->merchant_id, &p, d->hash, &d->txn, d->reason,
	    sizeof(d->reason));
}

/* The hash the server would compute: here of (credits, key) only. */
static void
t_hash(t_deduct *d)
{
	char buf[400];
	int n = snprintf(buf, sizeof(buf), "%s|%lld|%s|%s", d->customer, (long long) d->credits,
	    d->key != NULL ? d->key : "", d->description != NULL ? d->description : "");
	crypto_generichash(d->hash, sizeof(d->hash), (const uint8_t *) buf, (size_t) n, NULL, 0);
}

static pw_status
t_deduct_run(fx_env *e, t_deduct *d)
{
	d->e = e;
	if (d->customer == NULL) {
		d->customer = T_CUSTOMER;
	}
	t_hash(d);
	return store_apply_sync(e->s, t_deduct_apply, d);
}

static void
t_deduct_free(t_deduct *d)
{
	if (d->txn != NULL) {
		paywire__store__v1__credit_txn_record__free_unpacked(d->txn, NULL);
		d->txn = NULL;
	}
}

static int64_t
t_balance(fx_env *e, uint64_t *entries)
{
	Paywire__Store__V1__CreditLedgerRecord *l = NULL;
	int64_t b;

	assert_int_equal(PW_OK, store_credits_balance(e->s, e->merchant_id, T_CUSTOMER, &l));
	b = l->balance;
	if (entries != NULL) {
		*entries = l->entries;
	}
	paywire__store__v1__credit_ledger_record__free_unpacked(l, NULL);
	return b;
}

/* ---- tests ---- */

static void
test_a_paid_session_buys_credits_as_one_entry(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__CreditTxnRecord **list = NULL;
	char sid[PW_SESSION_ID_BYTES_MAX];
	uint64_t entries = 0;
	bool more = true;
	size_t n = 0;

	assert_int_equal(0, t_balance(e, &entries)); /* no ledger yet: 0 */
	assert_int_equal(0, entries);
	t_buy(e, 10, "pi_1", sid);
	assert_int_equal(10, t_balance(e, &entries));
	assert_int_equal(1, entries);
	assert_int_equal(PW_OK, store_credits_list(e->s, e->merchant_id, T_CUSTOMER, 0, 10, &list,
	    &n, &more));
	assert_int_equal(1, n);
	assert_false(more);
	assert_int_equal(KIND(PURCHASE), list[0]->kind);
	assert_int_equal(10, list[0]->delta);
	assert_int_equal(10, list[0]->balance_after);
	assert_string_equal(sid, list[0]->session_id);
	assert_true(list[0]->created_at_unix_ms == T_T0_MS);
	store_credits_list_free(list, n);
}

static void
test_deduct_replay_conflict_short_balance_and_bad_input(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	t_deduct d = { .credits = 3, .key = "use-1", .description = "one export" };
	t_deduct again = { .credits = 3, .key = "use-1", .description = "one export" };
	t_deduct other = { .credits = 4, .key = "use-1" };
	t_deduct big = { .credits = 8, .key = "use-2" };
	t_deduct nokey = { .credits = 1, .key = "" };
	t_deduct zero = { .credits = 0, .key = "use-3" };
	t_deduct nobody = { .customer = "", .credits = 1, .key = "use-4" };
	uint64_t txnid;
	uint64_t audit0;

	t_buy(e, 10, "pi_1", sid);
	audit0 = fx_audit_ok(e->s);
	assert_int_equal(PW_OK, t_deduct_run(e, &d));
	assert_int_equal(KIND(DEDUCTION), d.txn->kind);
	assert_int_equal(-3, d.txn->delta);
	assert_int_equal(7, d.txn->balance_after);
	assert_int_equal(2, d.txn->seq);
	assert_string_equal("use-1", d.txn->idempotency_key);
	assert_string_equal("one export", d.txn->description);
	assert_int_equal(7, t_balance(e, NULL));
	assert_int_equal(audit0 + 1, fx_audit_ok(e->s)); /* credits.deducted */

	txnid = store_last_txnid(e->s);
	/* the same key and parameters: the same entry, nothing written */
	assert_int_equal(PW_OK, t_deduct_run(e, &again));
	assert_int_equal(2, again.txn->seq);
	assert_int_equal(7, again.txn->balance_after);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the same key, other parameters */
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, t_deduct_run(e, &other));
	/* more than the balance */
	assert_int_equal(PW_FAILED_PRECONDITION, t_deduct_run(e, &big));
	assert_non_null(strstr(big.reason, "balance is 7 credits, 8 asked"));
	assert_null(big.txn);
	/* bad input */
	assert_int_equal(PW_INVALID_ARGUMENT, t_deduct_run(e, &nokey));
	assert_int_equal(PW_INVALID_ARGUMENT, t_deduct_run(e, &zero));
	assert_int_equal(PW_INVALID_ARGUMENT, t_deduct_run(e, &nobody));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(7, t_balance(e, NULL));
	/* 24 h later the key is free again (Stripe's window) */
	e->now_ms += PW_IDEMPOTENCY_TTL_MS;
	t_deduct_free(&again);
	assert_int_equal(PW_OK, t_deduct_run(e, &again));
	assert_int_equal(3, again.txn->seq);
	assert_int_equal(4, t_balance(e, NULL));
	t_deduct_free(&d);
	t_deduct_free(&again);
}

static void
test_a_session_key_is_not_a_deduction_key(void **state)
{
	fx_env *e = *state;
	store_session_params req = { 0 };
	fx_session c = { .merchant_id = e->merchant_id, .req = &req };
	t_deduct d = { .credits = 1, .key = "shared-key" };

	req.amount_minor = 100;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.idempotency_key = "shared-key";
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	fx_session_free(&c);
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, t_deduct_run(e, &d));
}

static void
test_a_refund_after_spending_stops_at_zero_and_records_the_shortfall(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__CreditTxnRecord **list = NULL;
	char sid[PW_SESSION_ID_BYTES_MAX];
	t_deduct d = { .credits = 7, .key = "use-1" };
	uint64_t entries = 0;
	bool more;
	size_t n = 0;

	t_buy(e, 10, "pi_1", sid);
	assert_int_equal(PW_OK, t_deduct_run(e, &d));
	t_deduct_free(&d);
	t_refund(e, "pi_1");
	assert_int_equal(0, t_balance(e, &entries));
	assert_int_equal(3, entries);
	assert_int_equal(PW_OK, store_credits_list(e->s, e->merchant_id, T_CUSTOMER, 0, 1, &list,
	    &n, &more));
	assert_int_equal(1, n);
	assert_true(more);
	assert_int_equal(KIND(REVERSAL), list[0]->kind);
	assert_int_equal(-3, list[0]->delta);
	assert_int_equal(7, list[0]->shortfall);
	assert_int_equal(0, list[0]->balance_after);
	assert_string_equal(sid, list[0]->session_id);
	store_credits_list_free(list, n);
	fx_audit_ok(e->s);
}

static void
test_listing_is_newest_first_with_a_cursor(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__CreditTxnRecord **list = NULL;
	char sid[PW_SESSION_ID_BYTES_MAX];
	char key[16];
	uint64_t seen[8];
	uint64_t after = 0;
	size_t total = 0;
	bool more = true;
	size_t n = 0;

	t_buy(e, 100, "pi_1", sid);
	for (int i = 0; i < 6; i++) {
		t_deduct d = { .credits = 1, .key = key };
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(PW_OK, t_deduct_run(e, &d));
		t_deduct_free(&d);
	}
	/* 7 entries, pages of 3: 7 6 5 | 4 3 2 | 1 */
	while (more) {
		assert_int_equal(PW_OK, store_credits_list(e->s, e->merchant_id, T_CUSTOMER, after, 3,
		    &list, &n, &more));
		assert_true(n >= 1 && n <= 3);
		for (size_t i = 0; i < n; i++) {
			seen[total++] = list[i]->seq;
		}
		after = list[n - 1]->seq;
		store_credits_list_free(list, n);
	}
	assert_int_equal(7, total);
	for (size_t i = 0; i < total; i++) {
		assert_int_equal(7 - i, seen[i]);
	}
	/* another customer, or another merchant, sees nothing of it */
	assert_int_equal(PW_OK, store_credits_list(e->s, e->merchant_id, "cust_4", 0, 10, &list, &n,
	    &more));
	assert_int_equal(0, n);
	store_credits_list_free(list, n);
	assert_int_equal(PW_OK, store_credits_list(e->s, "mer_other", T_CUSTOMER, 0, 10, &list, &n,
	    &more));
	assert_int_equal(0, n);
	store_credits_list_free(list, n);
	/* limits */
	assert_int_equal(PW_INVALID_ARGUMENT, store_credits_list(e->s, e->merchant_id, T_CUSTOMER, 0,
	    0, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT, store_credits_list(e->s, e->merchant_id, T_CUSTOMER, 0,
	    PW_LIST_LIMIT_MAX + 1, &list, &n, &more));
}

static void
t_deduct_done(pw_status st, void *arg)
{
	t_deduct *d = arg;

	d->st = st;
	atomic_fetch_add(d->done, 1);
}

static void
test_64_concurrent_deductions_against_10_exactly_10_succeed(void **state)
{
	fx_env *e = *state;
	enum { N = 64 };
	t_deduct *d = calloc(N, sizeof(*d));
	char keys[N][16];
	char sid[PW_SESSION_ID_BYTES_MAX];
	atomic_int done = 0;
	int ok = 0;
	int refused = 0;
	uint64_t entries = 0;

	assert_non_null(d);
	t_buy(e, 10, "pi_1", sid);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "race-%d", i);
		d[i] = (t_deduct){ .e = e, .customer = T_CUSTOMER, .credits = 1, .key = keys[i],
			.done = &done };
		t_hash(&d[i]);
		d[i].w = (store_write){ .apply = t_deduct_apply, .done = t_deduct_done, .arg = &d[i] };
	}
	/* all queued before the writer can take them: they meet in batches */
	for (int i = 0; i < N; i++) {
		assert_int_equal(PW_OK, store_submit(e->s, &d[i].w));
	}
	TW_WAIT_UNTIL(atomic_load(&done) == N);
	assert_int_equal(N, atomic_load(&done));
	for (int i = 0; i < N; i++) {
		if (d[i].st == PW_OK) {
			ok++;
		} else {
			assert_int_equal(PW_FAILED_PRECONDITION, d[i].st);
			refused++;
		}
		t_deduct_free(&d[i]);
	}
	assert_int_equal(10, ok);
	assert_int_equal(N - 10, refused);
	assert_int_equal(0, t_balance(e, &entries));
	assert_int_equal(11, entries);
	fx_audit_ok(e->s);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_paid_session_buys_credits_as_one_entry, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_deduct_replay_conflict_short_balance_and_bad_input,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_a_session_key_is_not_a_deduction_key, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_refund_after_spending_stops_at_zero_and_records_the_shortfall, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_listing_is_newest_first_with_a_cursor, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_64_concurrent_deductions_against_10_exactly_10_succeed, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
