/*
 * store_package_test.c - credit packages (store/store_credit_package.c): a
 * merchant's catalogue (create, its idempotent replay, immutable codes,
 * archive, listing in code order with a cursor, the active and total
 * limits, another merchant's packages unseen), and a session selling a
 * package (amount, currency and credits from the package, given values
 * checked against it, unknown/archived/foreign packages refused with
 * nothing written), paid (the balance grows in the payment's own
 * transaction), refunded (the purchase reversed), on LMDB and PostgreSQL.
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
#define T_CUSTOMER "cust_7"

#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x
#define PKG(x) PAYWIRE__STORE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_##x
#define FK(x) PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "package", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* ---- creating and archiving packages ---- */

typedef struct t_pkg {
	const char *merchant_id;                      /* in */
	store_credit_package_params p;                /* in */
	const char *archive;                          /* in: archive this code instead */
	Paywire__Store__V1__CreditPackageRecord *rec; /* out */
	bool created;                                 /* out */
	char reason[256];                             /* out */
} t_pkg;

static pw_status
t_pkg_apply(store_txn *t, void *arg)
{
	t_pkg *k = arg;

	if (k->rec != NULL) {
		paywire__store__v1__credit_package_record__free_unpacked(k->rec, NULL);
		k->rec = NULL;
	}
	k->reason[0] = '\0';
	if (k->archive != NULL) {
		return store_credit_package_archive(t, k->merchant_id, k->archive, &k->rec);
	}
	return store_credit_package_create(t, k->merchant_id, &k->p, &k->rec, &k->created,
	    k->reason, sizeof(k->reason));
}

static void
t_pkg_free(t_pkg *k)
{
	if (k->rec != NULL) {
		paywire__store__v1__credit_package_record__free_unpacked(k->rec, NULL);
		k->rec = NULL;
	}
}

/* Creates code (credits for amount EUR) for merchant m; returns the status. */
static pw_status
t_create(fx_env *e, const char *m, const char *code, int64_t credits, int64_t amount,
    const char *currency, const char *name, char *reason, size_t reason_size, bool *created)
{
	t_pkg k = { .merchant_id = m, .p = { .code = code, .name = name, .credits = credits,
		.amount_minor = amount, .currency = currency } };
	pw_status st = store_apply_sync(e->s, t_pkg_apply, &k);

	if (reason != NULL) {
		snprintf(reason, reason_size, "%s", k.reason);
	}
	if (created != NULL) {
		*created = k.created;
	}
	if (st == PW_OK) {
		assert_non_null(k.rec);
		assert_string_equal(code, k.rec->code);
		assert_int_equal(credits, k.rec->credits);
		assert_int_equal(amount, k.rec->amount_minor);
		assert_string_equal(currency, k.rec->currency);
	} else {
		assert_null(k.rec);
	}
	t_pkg_free(&k);
	return st;
}

static pw_status
t_archive(fx_env *e, const char *m, const char *code)
{
	t_pkg k = { .merchant_id = m, .archive = code };
	pw_status st = store_apply_sync(e->s, t_pkg_apply, &k);

	if (st == PW_OK) {
		assert_int_equal(PKG(ARCHIVED), k.rec->state);
		assert_true(k.rec->archived_at_unix_ms > 0);
	}
	t_pkg_free(&k);
	return st;
}

/* The codes of a listing, joined with ','. */
static void
t_list(fx_env *e, const char *m, const char *after, size_t limit, bool archived, char *out,
    size_t out_size, bool *more)
{
	Paywire__Store__V1__CreditPackageRecord **list = NULL;
	size_t n = 0;
	size_t len = 0;

	assert_int_equal(PW_OK, store_credit_packages_list(e->s, m, after, limit, archived, &list,
	    &n, more));
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		len += (size_t) snprintf(out + len, out_size - len, "%s%s", i > 0 ? "," : "",
		    list[i]->code);
		assert_true(len < out_size);
	}
	store_credit_package_list_free(list, n);
}

static void
test_create_replay_and_immutable_codes(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__CreditPackageRecord *r = NULL;
	char reason[256];
	bool created = false;
	uint64_t txnid;

	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "pack_100", 100, 990, "EUR",
	    "100 credits", reason, sizeof(reason), &created));
	assert_true(created);
	assert_int_equal(PW_OK, store_credit_package_get(e->s, e->merchant_id, "pack_100", &r));
	assert_int_equal(PKG(ACTIVE), r->state);
	assert_string_equal("100 credits", r->name);
	assert_int_equal(T_T0_MS, r->created_at_unix_ms);
	assert_int_equal(0, r->archived_at_unix_ms);
	paywire__store__v1__credit_package_record__free_unpacked(r, NULL);

	/* the same create again: the same package, nothing written */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "pack_100", 100, 990, "EUR",
	    "100 credits", reason, sizeof(reason), &created));
	assert_false(created);
	assert_int_equal(txnid, store_last_txnid(e->s));

	/* the code with another price, credits, currency or name: refused */
	assert_int_equal(PW_ALREADY_EXISTS, t_create(e, e->merchant_id, "pack_100", 100, 890,
	    "EUR", "100 credits", reason, sizeof(reason), NULL));
	assert_non_null(strstr(reason, "never changed or reused"));
	assert_int_equal(PW_ALREADY_EXISTS, t_create(e, e->merchant_id, "pack_100", 101, 990,
	    "EUR", "100 credits", reason, sizeof(reason), NULL));
	assert_int_equal(PW_ALREADY_EXISTS, t_create(e, e->merchant_id, "pack_100", 100, 990,
	    "USD", "100 credits", reason, sizeof(reason), NULL));
	assert_int_equal(PW_ALREADY_EXISTS, t_create(e, e->merchant_id, "pack_100", 100, 990,
	    "EUR", NULL, reason, sizeof(reason), NULL));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_credit_package_get(e->s, e->merchant_id, "pack_100", &r));
	assert_int_equal(990, r->amount_minor); /* the price never moved */
	paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
	fx_audit_ok(e->s);
}

static void
test_bad_parameters_write_nothing(void **state)
{
	fx_env *e = *state;
	char big[PW_CREDIT_PACKAGE_NAME_BYTES_MAX + 2];
	char reason[256];
	uint64_t txnid = store_last_txnid(e->s);
	static const char *const bad_codes[] = { "", "Pack", "pack 1", "pack.1", "päck",
		"abcdefghijklmnopqrstuvwxyz0123456" /* 33 bytes */ };

	for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
		assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, bad_codes[i], 1, 1,
		    "EUR", NULL, reason, sizeof(reason), NULL));
		assert_non_null(strstr(reason, "code"));
	}
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "abcdefghijklmnopqrstuvwxyz-_0123",
	    1, 1, "EUR", NULL, reason, sizeof(reason), NULL)); /* 32 bytes: the longest */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", 0, 1, "EUR", NULL,
	    reason, sizeof(reason), NULL));
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", PW_CREDITS_MAX + 1,
	    1, "EUR", NULL, reason, sizeof(reason), NULL));
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", 1, 0, "EUR", NULL,
	    reason, sizeof(reason), NULL));
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", 1, -5, "EUR", NULL,
	    reason, sizeof(reason), NULL));
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", 1, 1, "eur", NULL,
	    reason, sizeof(reason), NULL));
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", 1, 1, "XXX", NULL,
	    reason, sizeof(reason), NULL));
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT, t_create(e, e->merchant_id, "p", 1, 1, "EUR", big,
	    reason, sizeof(reason), NULL));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the limits themselves pass */
	big[PW_CREDIT_PACKAGE_NAME_BYTES_MAX] = '\0';
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "p", PW_CREDITS_MAX, PW_AMOUNT_MINOR_MAX,
	    "JPY", big, reason, sizeof(reason), NULL));
	/* no such merchant */
	assert_int_equal(PW_NOT_FOUND, t_create(e, "mer_nobody", "p", 1, 1, "EUR", NULL, reason,
	    sizeof(reason), NULL));
}

static void
test_archive_list_and_another_merchant(void **state)
{
	fx_env *e = *state;
	char other[FX_MERCHANT_ID_BYTES];
	char codes[512];
	char reason[256];
	bool more = true;
	uint64_t txnid;

	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "c", 3, 300, "EUR", NULL, NULL, 0,
	    NULL));
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "a", 1, 100, "EUR", NULL, NULL, 0,
	    NULL));
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "b", 2, 200, "EUR", NULL, NULL, 0,
	    NULL));
	/* the other merchant's own "a" is its own package */
	assert_int_equal(PW_OK, t_create(e, other, "a", 50, 5000, "USD", NULL, NULL, 0, NULL));

	t_list(e, e->merchant_id, NULL, 10, false, codes, sizeof(codes), &more);
	assert_string_equal("a,b,c", codes);
	assert_false(more);
	t_list(e, e->merchant_id, "", 2, false, codes, sizeof(codes), &more);
	assert_string_equal("a,b", codes);
	assert_true(more);
	t_list(e, e->merchant_id, "b", 2, false, codes, sizeof(codes), &more);
	assert_string_equal("c", codes);
	assert_false(more);
	t_list(e, other, NULL, 10, true, codes, sizeof(codes), &more);
	assert_string_equal("a", codes);

	/* archive: hidden from the default listing, kept with include_archived */
	assert_int_equal(PW_OK, t_archive(e, e->merchant_id, "b"));
	t_list(e, e->merchant_id, NULL, 10, false, codes, sizeof(codes), &more);
	assert_string_equal("a,c", codes);
	t_list(e, e->merchant_id, NULL, 10, true, codes, sizeof(codes), &more);
	assert_string_equal("a,b,c", codes);
	/* again: no change, nothing written */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_OK, t_archive(e, e->merchant_id, "b"));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* an archived code is never reused, even with the same parameters */
	assert_int_equal(PW_ALREADY_EXISTS, t_create(e, e->merchant_id, "b", 2, 200, "EUR", NULL,
	    reason, sizeof(reason), NULL));
	assert_non_null(strstr(reason, "archived"));
	/* unknown, or another merchant's: not found, nothing written */
	assert_int_equal(PW_NOT_FOUND, t_archive(e, e->merchant_id, "zzz"));
	assert_int_equal(PW_NOT_FOUND, t_archive(e, other, "c"));
	assert_int_equal(PW_NOT_FOUND, t_archive(e, e->merchant_id, "BAD CODE"));
	assert_int_equal(txnid, store_last_txnid(e->s));
	{
		Paywire__Store__V1__CreditPackageRecord *r = NULL;
		assert_int_equal(PW_NOT_FOUND, store_credit_package_get(e->s, other, "c", &r));
		assert_int_equal(PW_OK, store_credit_package_get(e->s, other, "a", &r));
		assert_int_equal(PKG(ACTIVE), r->state); /* the other merchant's "a" untouched */
		paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
	}
	/* listing: bad arguments */
	{
		Paywire__Store__V1__CreditPackageRecord **list = NULL;
		size_t n = 0;
		assert_int_equal(PW_INVALID_ARGUMENT, store_credit_packages_list(e->s, e->merchant_id,
		    NULL, 0, false, &list, &n, &more));
		assert_int_equal(PW_INVALID_ARGUMENT, store_credit_packages_list(e->s, e->merchant_id,
		    NULL, PW_LIST_LIMIT_MAX + 1, false, &list, &n, &more));
		assert_int_equal(PW_INVALID_ARGUMENT, store_credit_packages_list(e->s, e->merchant_id,
		    "NOT A CODE", 10, false, &list, &n, &more));
	}
	fx_audit_ok(e->s);
}

/* Creates n packages "<prefix>NNNN" in one write, archiving each when
 * archive is set. */
typedef struct t_bulk {
	const char *merchant_id;
	const char *prefix;
	unsigned from, n;
	bool archive;
} t_bulk;

static pw_status
t_bulk_apply(store_txn *t, void *arg)
{
	t_bulk *b = arg;
	char code[32];
	char reason[256];
	pw_status st = PW_OK;

	for (unsigned i = b->from; i < b->from + b->n && st == PW_OK; i++) {
		store_credit_package_params p = { .code = code, .credits = 1, .amount_minor = 100,
			.currency = "EUR" };
		Paywire__Store__V1__CreditPackageRecord *r = NULL;
		bool created = false;

		snprintf(code, sizeof(code), "%s%04u", b->prefix, i);
		st = store_credit_package_create(t, b->merchant_id, &p, &r, &created, reason,
		    sizeof(reason));
		if (r != NULL) {
			paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
			r = NULL;
		}
		if (st == PW_OK && b->archive) {
			st = store_credit_package_archive(t, b->merchant_id, code, &r);
			if (r != NULL) {
				paywire__store__v1__credit_package_record__free_unpacked(r, NULL);
			}
		}
	}
	return st;
}

static void
test_active_and_total_limits(void **state)
{
	fx_env *e = *state;
	t_bulk b = { .merchant_id = e->merchant_id, .prefix = "act" };
	char reason[256];
	char codes[64];
	bool more = false;
	uint64_t txnid;

	b.n = PW_CREDIT_PACKAGES_ACTIVE_MAX;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_bulk_apply, &b));
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_FAILED_PRECONDITION, t_create(e, e->merchant_id, "one_more", 1, 1,
	    "EUR", NULL, reason, sizeof(reason), NULL));
	assert_non_null(strstr(reason, "archive one first"));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the listing pages through all of them */
	t_list(e, e->merchant_id, "act0098", 100, false, codes, sizeof(codes), &more);
	assert_string_equal("act0099", codes);
	assert_false(more);
	/* archive one: room for one */
	assert_int_equal(PW_OK, t_archive(e, e->merchant_id, "act0000"));
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "one_more", 1, 1, "EUR", NULL, NULL, 0,
	    NULL));
	/* archived ones count toward the total: fill it with archived packages
	 * (each is created while one active slot is free, then archived) */
	assert_int_equal(PW_OK, t_archive(e, e->merchant_id, "act0001"));
	b = (t_bulk){ .merchant_id = e->merchant_id, .prefix = "old", .archive = true };
	for (unsigned done = PW_CREDIT_PACKAGES_ACTIVE_MAX + 1; done < PW_CREDIT_PACKAGES_MAX;) {
		b.from = done;
		b.n = PW_CREDIT_PACKAGES_MAX - done < 100 ? PW_CREDIT_PACKAGES_MAX - done : 100;
		assert_int_equal(PW_OK, store_apply_sync(e->s, t_bulk_apply, &b));
		done += b.n;
	}
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_RESOURCE_EXHAUSTED, t_create(e, e->merchant_id, "past_total", 1, 1,
	    "EUR", NULL, reason, sizeof(reason), NULL));
	assert_non_null(strstr(reason, "archived ones count"));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the existing ones still replay */
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "one_more", 1, 1, "EUR", NULL, NULL, 0,
	    NULL));
}

/* ---- sessions selling a package ---- */

typedef struct t_sess {
	fx_env *e;
	const char *merchant_id;
	const char *package;
	int64_t amount;
	const char *currency;
	Paywire__Store__V1__Fulfillment *f;
	const char *idem;
	Paywire__Store__V1__SessionRecord *rec;
	char reason[256];
} t_sess;

static pw_status
t_sess_apply(store_txn *t, void *arg)
{
	t_sess *c = arg;
	store_session_params p = { 0 };
	uint8_t hash[32];
	char hin[256];
	int n;

	if (c->rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(c->rec, NULL);
		c->rec = NULL;
	}
	p.amount_minor = c->amount;
	p.currency = c->currency;
	p.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	p.customer_ref = T_CUSTOMER;
	p.fulfillment = c->f;
	p.credit_package = c->package;
	p.idempotency_key = c->idem;
	p.reason = c->reason;
	p.reason_size = sizeof(c->reason);
	c->reason[0] = '\0';
	n = snprintf(hin, sizeof(hin), "%s|%lld|%s", c->package != NULL ? c->package : "",
	    (long long) c->amount, c->currency != NULL ? c->currency : "");
	crypto_generichash(hash, sizeof(hash), (const uint8_t *) hin, (size_t) n, NULL, 0);
	return store_session_create(t, c->merchant_id, &p, hash, NULL, &c->rec);
}

static pw_status
t_sell(fx_env *e, t_sess *c)
{
	c->e = e;
	if (c->merchant_id == NULL) {
		c->merchant_id = e->merchant_id;
	}
	return store_apply_sync(e->s, t_sess_apply, c);
}

static void
t_sess_free(t_sess *c)
{
	if (c->rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(c->rec, NULL);
		c->rec = NULL;
	}
}

static void
t_event(fx_env *e, pw_event_kind kind, const char *sid, const char *pi, int64_t amount)
{
	fx_webhook w;
	pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = kind;
	snprintf(ev.event_id, sizeof(ev.event_id), "evt_%u", ++e->seq);
	snprintf(ev.event_type, sizeof(ev.event_type), "%s",
	    kind == PW_EV_REFUND ? "charge.refunded" : "checkout.session.completed");
	if (sid != NULL) {
		snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	}
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", pi);
	ev.has_amount = true;
	ev.amount_minor = amount;
	ev.amount_refunded_minor = kind == PW_EV_REFUND ? amount : 0;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	ev.event_unix_s = e->now_ms / 1000;
	w = (fx_webhook){ .ev = &ev };
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &w));
	assert_int_equal(OUT(APPLIED), w.res.outcome);
	assert_false(w.res.anomaly);
}

static int64_t
t_balance(fx_env *e)
{
	Paywire__Store__V1__CreditLedgerRecord *l = NULL;
	int64_t b;

	assert_int_equal(PW_OK, store_credits_balance(e->s, e->merchant_id, T_CUSTOMER, &l));
	b = l->balance;
	paywire__store__v1__credit_ledger_record__free_unpacked(l, NULL);
	return b;
}

static void
test_a_session_sells_a_package_paid_and_refunded(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	t_sess c = { .package = "pack_100" };
	char sid[PW_SESSION_ID_BYTES_MAX];
	uint64_t txnid;

	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "pack_100", 100, 990, "EUR", NULL,
	    NULL, 0, NULL));
	/* amount, currency and fulfillment left to the package */
	assert_int_equal(PW_OK, t_sell(e, &c));
	assert_int_equal(990, c.rec->session->amount_minor);
	assert_string_equal("EUR", c.rec->session->currency);
	assert_non_null(c.rec->session->fulfillment);
	assert_int_equal(FK(CREDITS), c.rec->session->fulfillment->kind);
	assert_int_equal(100, c.rec->session->fulfillment->credits);
	assert_string_equal("pack_100", c.rec->session->credit_package);
	strcpy(sid, c.rec->session->id);
	t_sess_free(&c);
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_string_equal("pack_100", rec->session->credit_package);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);

	/* the paid event: session paid and balance grown, one commit */
	assert_int_equal(0, t_balance(e));
	txnid = store_last_txnid(e->s);
	t_event(e, PW_EV_PAYMENT_SUCCEEDED, sid, "pi_1", 990);
	assert_int_equal(txnid + 1, store_last_txnid(e->s));
	assert_int_equal(100, t_balance(e));
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	assert_int_equal(PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID,
	    rec->session->status);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	{
		Paywire__Store__V1__CreditTxnRecord **list = NULL;
		size_t n = 0;
		bool more = true;
		assert_int_equal(PW_OK, store_credits_list(e->s, e->merchant_id, T_CUSTOMER, 0, 10,
		    &list, &n, &more));
		assert_int_equal(1, n);
		assert_string_equal(sid, list[0]->session_id);
		assert_int_equal(100, list[0]->delta);
		store_credits_list_free(list, n);
	}
	/* the refund reverses the purchase */
	t_event(e, PW_EV_REFUND, NULL, "pi_1", 990);
	assert_int_equal(0, t_balance(e));
	fx_audit_ok(e->s);
}

static void
test_archiving_keeps_a_created_sessions_price(void **state)
{
	fx_env *e = *state;
	t_sess c = { .package = "p5", .amount = 500, .currency = "EUR" };
	char sid[PW_SESSION_ID_BYTES_MAX];
	uint64_t txnid;

	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "p5", 5, 500, "EUR", NULL, NULL, 0,
	    NULL));
	/* amount and currency given: equal to the package's, accepted */
	c.idem = "idem-p5";
	assert_int_equal(PW_OK, t_sell(e, &c));
	strcpy(sid, c.rec->session->id);
	t_sess_free(&c);
	assert_int_equal(PW_OK, t_archive(e, e->merchant_id, "p5"));
	/* a replay of the same create answers the original session, nothing written */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_OK, t_sell(e, &c));
	assert_string_equal(sid, c.rec->session->id);
	t_sess_free(&c);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* a new session may not sell it */
	c.idem = NULL;
	assert_int_equal(PW_FAILED_PRECONDITION, t_sell(e, &c));
	assert_non_null(strstr(c.reason, "archived"));
	assert_null(c.rec);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the created one is paid at its price and grants its credits */
	t_event(e, PW_EV_PAYMENT_SUCCEEDED, sid, "pi_5", 500);
	assert_int_equal(5, t_balance(e));
}

static void
test_a_session_with_a_bad_package_writes_nothing(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	char other[FX_MERCHANT_ID_BYTES];
	uint64_t txnid;
	t_sess c;

	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	assert_int_equal(PW_OK, t_create(e, e->merchant_id, "p10", 10, 1000, "EUR", NULL, NULL, 0,
	    NULL));
	assert_int_equal(PW_OK, t_create(e, other, "theirs", 10, 1000, "EUR", NULL, NULL, 0,
	    NULL));
	txnid = store_last_txnid(e->s);

	c = (t_sess){ .package = "nope" };
	assert_int_equal(PW_NOT_FOUND, t_sell(e, &c));
	assert_non_null(strstr(c.reason, "no credit package nope"));
	c = (t_sess){ .package = "theirs" }; /* another merchant's */
	assert_int_equal(PW_NOT_FOUND, t_sell(e, &c));
	c = (t_sess){ .package = "p10", .amount = 999 };
	assert_int_equal(PW_INVALID_ARGUMENT, t_sell(e, &c));
	assert_non_null(strstr(c.reason, "amount_minor does not match"));
	c = (t_sess){ .package = "p10", .currency = "USD" };
	assert_int_equal(PW_INVALID_ARGUMENT, t_sell(e, &c));
	assert_non_null(strstr(c.reason, "currency does not match"));
	f.kind = FK(CREDITS);
	f.credits = 11;
	c = (t_sess){ .package = "p10", .f = &f };
	assert_int_equal(PW_INVALID_ARGUMENT, t_sell(e, &c));
	assert_non_null(strstr(c.reason, "fulfillment does not match"));
	f.kind = FK(ACCESS_KEY);
	f.credits = 0;
	f.plan = "pro";
	c = (t_sess){ .package = "p10", .f = &f };
	assert_int_equal(PW_INVALID_ARGUMENT, t_sell(e, &c));
	c = (t_sess){ .package = "P10" }; /* no code */
	assert_int_equal(PW_INVALID_ARGUMENT, t_sell(e, &c));
	c = (t_sess){ .package = NULL }; /* no package: amount and currency required */
	assert_int_equal(PW_INVALID_ARGUMENT, t_sell(e, &c));
	assert_int_equal(txnid, store_last_txnid(e->s));

	/* the matching fulfillment is accepted */
	f = (Paywire__Store__V1__Fulfillment) PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	f.kind = FK(CREDITS);
	f.credits = 10;
	c = (t_sess){ .package = "p10", .f = &f, .amount = 1000 };
	assert_int_equal(PW_OK, t_sell(e, &c));
	assert_int_equal(10, c.rec->session->fulfillment->credits);
	t_sess_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_replay_and_immutable_codes, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_bad_parameters_write_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_archive_list_and_another_merchant, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_active_and_total_limits, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_a_session_sells_a_package_paid_and_refunded,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_archiving_keeps_a_created_sessions_price,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_a_session_with_a_bad_package_writes_nothing,
		    t_setup, fx_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
