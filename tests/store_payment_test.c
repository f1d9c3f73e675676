/*
 * store_payment_test.c - store_webhook_apply and store_access_redeem against
 * a real store in a temp dir: the six effects of a payment, dedup, reference
 * resolution, anomalies, refunds and disputes, credits, and the customer's
 * access link (reveal once, refused tokens, no raw key on disk).
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

#include <jwt.h>
#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_SECRET "test-token-secret-0123456789abcdef-0123456789" /* >= 32 bytes */
#define T_OTHER_SECRET "another-token-secret-0123456789abcdef-012345"
#define T_WEEK_S (7 * 24 * 3600)

#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define PS(x) PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x
#define FK(x) PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_##x

/* ---- environment ---- */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "payment", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .token_secret = T_SECRET, .open = true,
		.clock_t0_ms = T_T0_MS, .merchant_name = "Acme",
		.merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* ---- sessions ---- */

typedef struct t_spec {
	int64_t amount;                   /* minor units */
	const char *currency;             /* ISO 4217 */
	Paywire__Store__V1__Mode mode;           /* test/live */
	const char *customer_ref;         /* "" none */
	const char *email;                /* customer_email */
	Paywire__Store__V1__FulfillmentKind kind; /* what is sold */
	const char *plan;                 /* ACCESS_KEY plan */
	int64_t credits;                  /* CREDITS amount */
	const char *merchant_id;          /* NULL: the setup merchant */
} t_spec;

static const t_spec t_default = { 4900, "EUR", PAYWIRE__STORE__V1__MODE__MODE_TEST, "",
	"ada@example.com", FK(ACCESS_KEY), "pro", 0, NULL };

static void
t_session(fx_env *e, const t_spec *sp, char *sid)
{
	store_session_params req = { 0 };
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	fx_session c = { .merchant_id = sp->merchant_id != NULL ? sp->merchant_id : e->merchant_id,
		.req = &req };

	req.amount_minor = sp->amount;
	req.currency = (char *) sp->currency;
	req.mode = sp->mode;
	req.customer_email = (char *) sp->email;
	req.customer_ref = (char *) sp->customer_ref;
	req.customer_name = "Ada";
	f.kind = sp->kind;
	f.plan = (char *) sp->plan;
	f.credits = sp->credits;
	req.fulfillment = &f;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	paywire__store__v1__session_record__free_unpacked(c.rec, NULL);
}

static Paywire__Store__V1__SessionRecord *
t_get(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	return rec;
}

/* ---- events ---- */

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
	snprintf(ev->payment_ref, sizeof(ev->payment_ref), "%s", pi != NULL ? pi : "");
}

static pw_status
t_send(fx_env *e, const pw_event *ev, store_webhook_result *res)
{
	fx_webhook a = { .ev = ev };
	pw_status st = store_apply_sync(e->s, fx_webhook_apply, &a);
	*res = a.res;
	return st;
}

/* Pays sid (4900 EUR unless the spec differs) and returns the result. */
static store_webhook_result
t_pay(fx_env *e, const char *sid, const char *pi)
{
	Paywire__Store__V1__SessionRecord *rec = t_get(e, sid);
	store_webhook_result res;
	pw_event ev;

	t_ev_paid(e, &ev, sid, rec->session->amount_minor, rec->session->currency, pi);
	ev.live = rec->session->mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE ? 1 : 0;
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	return res;
}

/* ---- redeem ---- */

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

/* Redeems; *out: a heap copy of the receipt on PW_OK (t_receipt_free), NULL
 * on any error (which leaves no key in the receipt). */
static pw_status
t_redeem_call(fx_env *e, const char *sid, const char *token, store_access_receipt **out)
{
	t_redeem r = { .sid = sid, .token = token };
	pw_status st = store_apply_sync(e->s, t_redeem_cb, &r);

	*out = NULL;
	if (st != PW_OK) {
		assert_string_equal("", r.r.access_key);
		return st;
	}
	*out = malloc(sizeof(**out));
	assert_non_null(*out);
	memcpy(*out, &r.r, sizeof(r.r));
	sodium_memzero(&r.r, sizeof(r.r));
	return st;
}

static void
t_receipt_free(store_access_receipt *r)
{
	sodium_memzero(r, sizeof(*r));
	free(r);
}

/* The token of sid's access link (caller frees). */
static char *
t_token_of(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = t_get(e, sid);
	const char *q = strstr(rec->access_link, "?token=");
	char *tok;

	assert_non_null(q);
	tok = strdup(q + 7);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	return tok;
}

static char *
t_jwt(jwt_alg_t alg, const char *key, const char *sub, const char *mer, const char *sid,
    long iat, long exp)
{
	jwt_t *j = NULL;
	char *s;

	assert_int_equal(0, jwt_new(&j));
	assert_int_equal(0, jwt_add_grant(j, "sub", sub));
	assert_int_equal(0, jwt_add_grant(j, "merchant_id", mer));
	assert_int_equal(0, jwt_add_grant(j, "session_id", sid));
	assert_int_equal(0, jwt_add_grant_int(j, "iat", iat));
	assert_int_equal(0, jwt_add_grant_int(j, "exp", exp));
	assert_int_equal(0, jwt_set_alg(j, alg, (const unsigned char *) key,
	    key != NULL ? (int) strlen(key) : 0));
	s = jwt_encode_str(j);
	assert_non_null(s);
	jwt_free(j);
	return s;
}

static char *
t_jwt_for(fx_env *e, const char *key, const char *mer, const char *sid)
{
	char sub[128];
	long now = (long) (e->now_ms / 1000);

	snprintf(sub, sizeof(sub), "customer_%s", sid);
	return t_jwt(JWT_ALG_HS256, key, sub, mer, sid, now, now + 3600);
}

static void
t_expect_unauth(fx_env *e, const char *sid, const char *token)
{
	store_access_receipt *r = NULL;
	uint64_t txnid = store_last_txnid(e->s);

	assert_int_equal(PW_UNAUTHENTICATED, t_redeem_call(e, sid, token, &r));
	assert_null(r);
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static pw_status
t_credits(fx_env *e, const char *customer, int64_t *balance, uint64_t *entries)
{
	Paywire__Store__V1__CreditLedgerRecord *r = NULL;
	uint8_t key[512];
	size_t keylen = 0;
	store_txn t;
	pw_status st;

	assert_true(store_key_join(key, sizeof(key), e->merchant_id, customer, &keylen));
	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	st = store_rec_get(&t, STORE_DB_CREDITS, key, keylen,
	    &paywire__store__v1__credit_ledger_record__descriptor, (void **) &r);
	store_read_end(&t);
	if (st == PW_OK) {
		*balance = r->balance;
		*entries = r->entries;
		paywire__store__v1__credit_ledger_record__free_unpacked(r, NULL);
	}
	return st;
}

/* The ent_index row of (setup merchant, customer, plan): PW_OK with the id. */
static pw_status
t_ent_index(fx_env *e, const char *customer, const char *plan, char *id, size_t id_size)
{
	uint8_t key[512];
	size_t keylen = 0;
	size_t len = 0;
	store_txn t;
	pw_status st;

	assert_true(store_key_join(key, sizeof(key), e->merchant_id, customer, &keylen));
	key[keylen++] = 0x00;
	memcpy(key + keylen, plan, strlen(plan));
	keylen += strlen(plan);
	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	st = store_raw_get(&t, STORE_DB_ENT_INDEX, key, keylen, id, id_size - 1, &len);
	store_read_end(&t);
	id[len] = '\0';
	return st;
}

/* ---- payment ---- */

static void
test_success_marks_paid_with_invoice_entitlement_link_and_audit(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	store_counts c0, c1;
	char sid[64];
	char *tok;
	jwt_t *j = NULL;
	pw_event ev;

	t_session(e, &t_default, sid);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	e->now_ms += 5000;
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_string_equal(sid, res.session_id);
	assert_int_equal(ST(PAID), res.session_status);
	assert_int_equal(1, res.invoice_number);
	assert_memory_equal("ent_", res.access_key_id, 4);
	assert_false(res.anomaly);
	assert_string_equal("", res.reason);

	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.invoices + 1, c1.invoices);
	assert_int_equal(c0.entitlements + 1, c1.entitlements);
	assert_int_equal(c0.events + 1, c1.events);
	assert_int_equal(c0.audit + 1, c1.audit);

	rec = t_get(e, sid);
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(PS(COMPLETED), rec->session->payment_status);
	assert_int_equal(e->now_ms, rec->session->paid_at_unix_ms);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, rec->session->payment_provider);
	assert_string_equal("pi_1", rec->paid_ref);
	assert_int_equal(1, rec->invoice_number);
	assert_string_equal(res.access_key_id, rec->access_key_id);
	assert_true(rec->entitlement_active);
	assert_int_equal(1, rec->n_refs);
	assert_string_equal("pi_1", rec->refs[0]->ref);
	assert_int_equal(0, strncmp(rec->access_link, "/access/", 8));
	assert_int_equal(0, strncmp(rec->access_link + 8, sid, strlen(sid)));
	paywire__store__v1__session_record__free_unpacked(rec, NULL);

	/* The link's JWT verifies with the token key and has the claims. */
	tok = t_token_of(e, sid);
	assert_int_equal(0, jwt_decode(&j, tok, (const unsigned char *) T_SECRET,
	    (int) strlen(T_SECRET)));
	assert_int_equal(JWT_ALG_HS256, jwt_get_alg(j));
	{
		char sub[128];
		snprintf(sub, sizeof(sub), "customer_%s", sid);
		assert_string_equal(sub, jwt_get_grant(j, "sub"));
	}
	assert_string_equal(sid, jwt_get_grant(j, "session_id"));
	assert_string_equal(e->merchant_id, jwt_get_grant(j, "merchant_id"));
	assert_int_equal(e->now_ms / 1000, jwt_get_grant_int(j, "iat"));
	assert_int_equal(e->now_ms / 1000 + T_WEEK_S, jwt_get_grant_int(j, "exp"));
	jwt_free(j);
	free(tok);
	fx_audit_ok(e->s);
}

static void
test_same_event_again_is_duplicate_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	store_counts c0, c1;
	uint8_t before[4096], after[4096];
	size_t nb, na;
	uint64_t txnid;
	char sid[64];
	pw_event ev;

	t_session(e, &t_default, sid);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_dup");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);

	rec = t_get(e, sid);
	nb = paywire__store__v1__session_record__pack(rec, before);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	txnid = store_last_txnid(e->s);
	e->now_ms += 60000;

	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(DUPLICATE), res.outcome);
	assert_string_equal(sid, res.session_id);
	assert_int_equal(ST(PAID), res.session_status);
	assert_int_equal(0, res.invoice_number);
	assert_string_equal("", res.access_key_id);
	assert_non_null(strstr(res.reason, "applied"));

	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_memory_equal(&c0, &c1, sizeof(c0));
	rec = t_get(e, sid);
	na = paywire__store__v1__session_record__pack(rec, after);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(nb, na);
	assert_memory_equal(before, after, nb);
}

static void
test_invoice_numbers_are_gapless_per_merchant(void **state)
{
	fx_env *e = *state;
	t_spec other = t_default;
	char m2[64], a[64], b[64], c[64];

	assert_int_equal(PW_OK,
	    fx_merchant_add(e->s, "Acme", PAYWIRE__STORE__V1__MODE__MODE_LIVE, m2, sizeof(m2)));
	other.merchant_id = m2;
	t_session(e, &t_default, a);
	t_session(e, &t_default, b);
	t_session(e, &other, c);
	assert_int_equal(1, t_pay(e, a, "pi_a").invoice_number);
	assert_int_equal(1, t_pay(e, c, "pi_c").invoice_number);
	assert_int_equal(2, t_pay(e, b, "pi_b").invoice_number);
}

static void
test_same_customer_and_plan_links_the_active_entitlement(void **state)
{
	fx_env *e = *state;
	t_spec sp = t_default;
	t_spec other_plan = t_default;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result r1, r2, r3, res;
	store_counts c0, c1;
	char a[64], b[64], c[64];
	pw_event ev;

	sp.customer_ref = "cus_42";
	other_plan.customer_ref = "cus_42";
	other_plan.plan = "team";
	t_session(e, &sp, a);
	t_session(e, &sp, b);
	t_session(e, &other_plan, c);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	r1 = t_pay(e, a, "pi_a");
	r2 = t_pay(e, b, "pi_b");
	r3 = t_pay(e, c, "pi_c");
	assert_string_equal(r1.access_key_id, r2.access_key_id);
	assert_string_not_equal(r1.access_key_id, r3.access_key_id);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.entitlements + 2, c1.entitlements);
	assert_int_equal(c0.invoices + 3, c1.invoices);

	/* Refunding the session that only linked keeps the key: a's payment
	 * still stands (a still holds it). */
	t_ev(e, &ev, PW_EV_REFUND, b);
	ev.amount_refunded_minor = 4900;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(REFUNDED), res.session_status);
	ent = fx_entitlement_get(e->s, r1.access_key_id);
	assert_true(ent->active);
	assert_string_equal(a, ent->session_id);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	/* Refunding a too: no paid session holds it any more, revoked. (The
	 * converse order: store_subscription_test.) */
	t_ev(e, &ev, PW_EV_REFUND, a);
	ev.amount_refunded_minor = 4900;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	ent = fx_entitlement_get(e->s, r1.access_key_id);
	assert_false(ent->active);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
}

static void
test_pending_then_failed_then_retry_success_is_paid(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	char sid[64];
	pw_event ev;

	t_session(e, &t_default, sid);
	t_ev(e, &ev, PW_EV_PAYMENT_PENDING, sid);
	ev.event_unix_s = 100;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(ST(PENDING), res.session_status);
	t_ev(e, &ev, PW_EV_PAYMENT_FAILED, sid);
	ev.event_unix_s = 200;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(FAILED), res.session_status);
	rec = t_get(e, sid);
	assert_int_equal(PS(FAILED), rec->session->payment_status);
	assert_int_equal(200, rec->attempt_unix_s);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	res = t_pay(e, sid, "pi_retry");
	assert_int_equal(ST(PAID), res.session_status);
	assert_int_equal(1, res.invoice_number);
	/* A stale failure after the payment changes nothing. */
	t_ev(e, &ev, PW_EV_PAYMENT_FAILED, sid);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_int_equal(ST(PAID), res.session_status);
	assert_false(res.anomaly);
}

static void
t_expect_anomaly(fx_env *e, const char *sid, const pw_event *ev)
{
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	store_counts c0, c1;

	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	assert_int_equal(PW_OK, t_send(e, ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_true(res.anomaly);
	assert_int_equal(0, res.invoice_number);
	assert_string_not_equal("", res.reason);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.invoices, c1.invoices);
	assert_int_equal(c0.entitlements, c1.entitlements);
	assert_int_equal(c0.events + 1, c1.events);
	assert_int_equal(c0.audit + 1, c1.audit); /* raised for an operator */
	rec = t_get(e, sid);
	assert_int_equal(0, rec->session->paid_at_unix_ms);
	assert_int_equal(1, rec->anomalies);
	assert_string_equal(res.reason, rec->anomaly);
	assert_string_equal("", rec->access_link);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
}

static void
test_amount_currency_or_mode_mismatch_is_an_anomaly_not_paid(void **state)
{
	fx_env *e = *state;
	char a[64], b[64], c[64];
	pw_event ev;

	t_session(e, &t_default, a);
	t_ev_paid(e, &ev, a, 4800, "EUR", "pi_a");
	t_expect_anomaly(e, a, &ev);

	t_session(e, &t_default, b);
	t_ev_paid(e, &ev, b, 4900, "USD", "pi_b");
	t_expect_anomaly(e, b, &ev);

	t_session(e, &t_default, c);
	t_ev_paid(e, &ev, c, 4900, "EUR", "pi_c");
	ev.live = 1; /* a live payment for a test session */
	t_expect_anomaly(e, c, &ev);
}

static void
test_payment_for_an_expired_session_is_an_anomaly(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	char sid[64];
	pw_event ev;

	t_session(e, &t_default, sid);
	t_ev(e, &ev, PW_EV_SESSION_EXPIRED, sid);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(ST(EXPIRED), res.session_status);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_late");
	t_expect_anomaly(e, sid, &ev);
}

static void
test_event_without_any_reference_is_recorded_ignored(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	store_counts c0, c1;
	pw_event ev;

	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	t_ev_paid(e, &ev, NULL, 4900, "EUR", "");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_non_null(strstr(res.reason, "no paywire reference"));
	assert_string_equal("", res.session_id);
	/* Refs nobody recorded count as no reference too. */
	t_ev_paid(e, &ev, NULL, 4900, "EUR", "pi_of_another_integration");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.events + 2, c1.events);
	assert_int_equal(c0.audit, c1.audit);
	/* Recorded: a redelivery is a duplicate. */
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(DUPLICATE), res.outcome);
	assert_non_null(strstr(res.reason, "ignored"));
}

static void
test_unknown_session_ref_is_not_found_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	store_counts c0, c1;
	uint64_t txnid;
	pw_event ev;

	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	txnid = store_last_txnid(e->s);
	t_ev_paid(e, &ev, "cs_00000000000000000000000000000000000000000000", 4900, "EUR", "pi_x");
	assert_int_equal(PW_NOT_FOUND, t_send(e, &ev, &res));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_memory_equal(&c0, &c1, sizeof(c0));
	/* Not recorded: the provider's retry is processed again, not a duplicate. */
	assert_int_equal(PW_NOT_FOUND, t_send(e, &ev, &res));
}

static void
test_merchant_verifies_an_access_key_until_its_refund(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	store_access_check chk;
	store_webhook_result paid;
	store_webhook_result res;
	char other[FX_MERCHANT_ID_BYTES];
	char key[128];
	char bad[128];
	char sid[64];
	uint64_t txnid;
	pw_event ev;
	char *tok;

	t_session(e, &t_default, sid);
	paid = t_pay(e, sid, "pi_verify");
	tok = t_token_of(e, sid);
	assert_int_equal(PW_OK, t_redeem_call(e, sid, tok, &r));
	strcpy(key, r->access_key);
	t_receipt_free(r);
	free(tok);
	txnid = store_last_txnid(e->s);
	/* valid: for whom, what, since when */
	assert_int_equal(PW_OK, store_access_key_verify(e->s, e->merchant_id, key, &chk));
	assert_true(chk.valid);
	assert_string_equal("", chk.reason);
	assert_string_equal(paid.access_key_id, chk.entitlement_id);
	assert_string_equal(sid, chk.session_id);
	assert_string_equal("ada@example.com", chk.customer);
	assert_string_equal("pro", chk.plan);
	assert_true(chk.granted_at_unix_ms == e->now_ms);
	assert_int_equal(0, chk.until_unix_ms);
	/* another merchant, a wrong key, a key of another length: unknown alike */
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_OK, store_access_key_verify(e->s, other, key, &chk));
	assert_false(chk.valid);
	assert_string_equal("unknown access key", chk.reason);
	assert_string_equal("", chk.entitlement_id);
	assert_string_equal("", chk.customer);
	strcpy(bad, key);
	bad[20] = bad[20] == 'A' ? 'B' : 'A';
	assert_int_equal(PW_OK, store_access_key_verify(e->s, e->merchant_id, bad, &chk));
	assert_false(chk.valid);
	assert_string_equal("unknown access key", chk.reason);
	assert_int_equal(PW_OK, store_access_key_verify(e->s, e->merchant_id, "ak_test_short", &chk));
	assert_false(chk.valid);
	assert_int_equal(txnid, store_last_txnid(e->s)); /* reads write nothing */
	/* refunded in full: revoked, and the merchant learns why */
	t_ev(e, &ev, PW_EV_REFUND, NULL);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_verify");
	ev.amount_refunded_minor = 4900;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(REFUNDED), res.session_status);
	assert_int_equal(PW_OK, store_access_key_verify(e->s, e->merchant_id, key, &chk));
	assert_false(chk.valid);
	assert_string_equal("revoked: the payment was refunded", chk.reason);
	assert_string_equal(paid.access_key_id, chk.entitlement_id);
	assert_true(chk.revoked_at_unix_ms == e->now_ms);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(bad, sizeof(bad));
}

static void
test_refunds_resolved_by_provider_refs_accumulate_then_revoke(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result res, paid;
	char sid[64], again[64], idx[64];
	pw_event ev;

	t_session(e, &t_default, sid);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_r");
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_r");
	assert_int_equal(PW_OK, t_send(e, &ev, &paid));
	assert_int_equal(OUT(APPLIED), paid.outcome);

	/* charge.refunded: no session_ref, only the charge and intent refs. */
	t_ev(e, &ev, PW_EV_REFUND, NULL);
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_r");
	ev.amount_refunded_minor = 1900;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_string_equal(sid, res.session_id);
	assert_int_equal(ST(PAID), res.session_status);
	rec = t_get(e, sid);
	assert_int_equal(1900, rec->session->amount_refunded_minor);
	assert_int_equal(PS(PARTIALLY_REFUNDED), rec->session->payment_status);
	assert_true(rec->entitlement_active);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(PW_OK, t_ent_index(e, "ada@example.com", "pro", idx, sizeof(idx)));
	assert_string_equal(paid.access_key_id, idx);

	t_ev(e, &ev, PW_EV_REFUND, NULL);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_r");
	ev.amount_refunded_minor = 4900; /* cumulative */
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(ST(REFUNDED), res.session_status);
	rec = t_get(e, sid);
	assert_int_equal(4900, rec->session->amount_refunded_minor);
	assert_int_equal(PS(REFUNDED), rec->session->payment_status);
	assert_false(rec->entitlement_active);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	ent = fx_entitlement_get(e->s, paid.access_key_id);
	assert_false(ent->active);
	assert_int_equal(e->now_ms, ent->revoked_at_unix_ms);
	assert_int_equal(0, ent->sealed_key.len);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	assert_int_equal(PW_NOT_FOUND, t_ent_index(e, "ada@example.com", "pro", idx, sizeof(idx)));

	/* The index row is gone: the same customer buying again gets a new key. */
	t_session(e, &t_default, again);
	res = t_pay(e, again, "pi_again");
	assert_string_not_equal(paid.access_key_id, res.access_key_id);
	fx_audit_ok(e->s);
}

static void
test_dispute_lost_refunds_and_revokes_dispute_won_stays_paid(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result res, paid;
	char lost[64], won[64];
	t_spec sp = t_default;
	pw_event ev;

	sp.customer_ref = "cus_lost";
	t_session(e, &sp, lost);
	sp.customer_ref = "cus_won";
	t_session(e, &sp, won);
	paid = t_pay(e, lost, "pi_lost");
	t_ev(e, &ev, PW_EV_DISPUTE_OPENED, NULL);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_lost");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(DISPUTED), res.session_status);
	t_ev(e, &ev, PW_EV_DISPUTE_LOST, lost);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(REFUNDED), res.session_status);
	rec = t_get(e, lost);
	assert_int_equal(PS(REFUNDED), rec->session->payment_status);
	assert_int_equal(3, rec->dispute);
	assert_false(rec->entitlement_active);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	ent = fx_entitlement_get(e->s, paid.access_key_id);
	assert_false(ent->active);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);

	paid = t_pay(e, won, "pi_won");
	t_ev(e, &ev, PW_EV_DISPUTE_OPENED, won);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(DISPUTED), res.session_status);
	t_ev(e, &ev, PW_EV_DISPUTE_WON, won);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(PAID), res.session_status);
	rec = t_get(e, won);
	assert_int_equal(PS(COMPLETED), rec->session->payment_status);
	assert_true(rec->entitlement_active);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	ent = fx_entitlement_get(e->s, paid.access_key_id);
	assert_true(ent->active);
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
}

static void
test_credits_are_added_on_payment_and_taken_back_on_refund(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	t_spec sp = t_default;
	store_webhook_result res;
	store_counts c0, c1;
	char *tok;
	int64_t bal = 0;
	uint64_t entries = 0;
	char a[64], b[64];
	pw_event ev;

	sp.kind = FK(CREDITS);
	sp.plan = "";
	sp.credits = 250;
	sp.customer_ref = "cus_credits";
	t_session(e, &sp, a);
	t_session(e, &sp, b);
	assert_int_equal(PW_NOT_FOUND, t_credits(e, "cus_credits", &bal, &entries));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	res = t_pay(e, a, "pi_ca");
	assert_string_equal("", res.access_key_id);
	t_pay(e, b, "pi_cb");
	assert_int_equal(PW_OK, t_credits(e, "cus_credits", &bal, &entries));
	assert_int_equal(500, bal);
	assert_int_equal(2, entries);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.entitlements, c1.entitlements); /* no access key */

	t_ev(e, &ev, PW_EV_REFUND, a);
	ev.amount_refunded_minor = 4900;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(REFUNDED), res.session_status);
	assert_int_equal(PW_OK, t_credits(e, "cus_credits", &bal, &entries));
	assert_int_equal(250, bal);
	assert_int_equal(3, entries);

	/* The access page of a credits session: a receipt, no key. */
	tok = t_token_of(e, b);
	assert_int_equal(PW_OK, t_redeem_call(e, b, tok, &r));
	assert_int_equal(ST(PAID), r->status);
	assert_true(r->entitlement_active);
	assert_string_equal("", r->access_key_id);
	assert_string_equal("", r->access_key);
	assert_string_equal("", r->plan);
	t_receipt_free(r);
	free(tok);
}

static void
test_ref_owned_by_another_session_is_not_repointed(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	char a[64], b[64];
	pw_event ev;

	t_session(e, &t_default, a);
	t_session(e, &t_default, b);
	t_pay(e, a, "pi_shared");
	t_ev(e, &ev, PW_EV_PAYMENT_PENDING, b);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_shared");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_true(res.anomaly);
	assert_non_null(strstr(res.reason, "already belongs to session"));
	rec = t_get(e, b);
	assert_int_equal(1, rec->anomalies);
	assert_int_equal(0, rec->n_refs);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* The ref still resolves to a. */
	t_ev(e, &ev, PW_EV_REFUND, NULL);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_shared");
	ev.amount_refunded_minor = 100;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_string_equal(a, res.session_id);
	fx_audit_ok(e->s);
}

static void
test_event_without_provider_or_id_is_invalid(void **state)
{
	fx_env *e = *state;
	store_webhook_result res;
	uint64_t txnid = store_last_txnid(e->s);
	char sid[64];
	pw_event ev;

	t_session(e, &t_default, sid);
	txnid = store_last_txnid(e->s);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1");
	ev.event_id[0] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT, t_send(e, &ev, &res));
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_1");
	ev.provider = PW_PROVIDER_NONE;
	assert_int_equal(PW_INVALID_ARGUMENT, t_send(e, &ev, &res));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

/* ---- access links ---- */

static void
test_redeem_reveals_the_key_once_and_never_stores_it(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result paid;
	store_counts c0, c1;
	char key[128];
	char sid[64];
	char *tok;

	t_session(e, &t_default, sid);
	paid = t_pay(e, sid, "pi_reveal");
	tok = t_token_of(e, sid);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));

	assert_int_equal(PW_OK, t_redeem_call(e, sid, tok, &r));
	assert_non_null(r);
	assert_string_equal(sid, r->session_id);
	assert_string_equal(e->merchant_id, r->merchant_id);
	assert_int_equal(ST(PAID), r->status);
	assert_int_equal(4900, r->amount_minor);
	assert_string_equal("EUR", r->currency);
	assert_int_equal(1, r->invoice_number);
	assert_string_equal(paid.access_key_id, r->access_key_id);
	assert_string_equal("pro", r->plan);
	assert_string_equal("ada@example.com", r->customer_email);
	assert_true(r->entitlement_active);
	assert_false(r->already_revealed);
	assert_int_equal(51, strlen(r->access_key));
	assert_memory_equal("ak_test_", r->access_key, 8);
	strcpy(key, r->access_key);
	t_receipt_free(r);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.audit + 1, c1.audit); /* access.revealed */

	assert_int_equal(PW_OK, t_redeem_call(e, sid, tok, &r));
	assert_true(r->already_revealed);
	assert_string_equal("", r->access_key);
	assert_true(r->entitlement_active);
	t_receipt_free(r);

	ent = fx_entitlement_get(e->s, paid.access_key_id);
	assert_true(ent->revealed);
	assert_int_equal(0, ent->sealed_key.len);
	assert_int_equal(32, ent->key_hash.len);
	assert_memory_equal(key, ent->key_prefix, 12);
	assert_int_equal(12, strlen(ent->key_prefix));
	paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);

	/* On disk: the display prefix is (the scan works), the key never was. */
	assert_true(fx_data_has(e, key, 12));
	assert_false(fx_data_has(e, key + 8, strlen(key) - 8));
	sodium_memzero(key, sizeof(key));
	free(tok);
	fx_audit_ok(e->s);
}

static void
test_redeem_refuses_bad_tokens_without_writing(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	char a[64], b[64], sub[128], buf[2048];
	char *tok_a, *tok_b, *t;
	const char *dot;
	char *hdr;
	long now;

	t_session(e, &t_default, a);
	t_session(e, &t_default, b);
	t_pay(e, a, "pi_ta");
	t_pay(e, b, "pi_tb");
	tok_a = t_token_of(e, a);
	tok_b = t_token_of(e, b);
	now = (long) (e->now_ms / 1000);
	snprintf(sub, sizeof(sub), "customer_%s", a);

	/* Tampered payload (one character), and tampered signature. */
	strcpy(buf, tok_a);
	dot = strchr(buf, '.');
	buf[dot - buf + 3] = buf[dot - buf + 3] == 'A' ? 'B' : 'A';
	t_expect_unauth(e, a, buf);
	strcpy(buf, tok_a);
	buf[strlen(buf) - 2] = buf[strlen(buf) - 2] == 'A' ? 'B' : 'A';
	t_expect_unauth(e, a, buf);
	t_expect_unauth(e, a, "");
	t_expect_unauth(e, a, "not.a.jwt");

	/* Another session's token, on this session's path. */
	t_expect_unauth(e, a, tok_b);

	/* Signed with another key. */
	t = t_jwt_for(e, T_OTHER_SECRET, e->merchant_id, a);
	t_expect_unauth(e, a, t);
	free(t);

	/* alg "none": hand-made header, real payload, no signature (and then
	 * the genuine signature kept). */
	hdr = malloc(256);
	sodium_bin2base64(hdr, 256, (const unsigned char *) "{\"alg\":\"none\",\"typ\":\"JWT\"}",
	    strlen("{\"alg\":\"none\",\"typ\":\"JWT\"}"), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	dot = strchr(tok_a, '.');
	snprintf(buf, sizeof(buf), "%s.%.*s.", hdr, (int) (strrchr(tok_a, '.') - dot - 1), dot + 1);
	t_expect_unauth(e, a, buf);
	snprintf(buf, sizeof(buf), "%s%s", hdr, dot);
	t_expect_unauth(e, a, buf);
	free(hdr);

	/* Right key, right claims, wrong algorithm. */
	t = t_jwt(JWT_ALG_HS512, T_SECRET, sub, e->merchant_id, a, now, now + 3600);
	t_expect_unauth(e, a, t);
	free(t);
	/* Right key, claims of another merchant / in the future / wrong sub. */
	t = t_jwt_for(e, T_SECRET, "mer_someone_else", a);
	t_expect_unauth(e, a, t);
	free(t);
	t = t_jwt(JWT_ALG_HS256, T_SECRET, sub, e->merchant_id, a, now + 3600, now + 7200);
	t_expect_unauth(e, a, t);
	free(t);
	t = t_jwt(JWT_ALG_HS256, T_SECRET, "customer_other", e->merchant_id, a, now, now + 3600);
	t_expect_unauth(e, a, t);
	free(t);
	t = t_jwt(JWT_ALG_HS256, T_SECRET, sub, e->merchant_id, b, now, now + 3600);
	t_expect_unauth(e, a, t); /* session_id claim of another session */
	free(t);
	t = t_jwt(JWT_ALG_HS256, T_SECRET, sub, e->merchant_id, a, now - 7200, now - 1);
	t_expect_unauth(e, a, t); /* expired a second ago */
	free(t);

	/* The genuine token still works (the refusals consumed nothing)... */
	assert_int_equal(PW_OK, t_redeem_call(e, a, tok_a, &r));
	assert_int_equal(51, strlen(r->access_key));
	t_receipt_free(r);
	/* ...until it expires (7 days). */
	e->now_ms += (int64_t) T_WEEK_S * 1000;
	t_expect_unauth(e, b, tok_b);
	e->now_ms -= 1000;
	assert_int_equal(PW_OK, t_redeem_call(e, b, tok_b, &r));
	t_receipt_free(r);
	free(tok_a);
	free(tok_b);
}

static void
test_redeem_of_unknown_session_is_not_found(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	const char *ghost = "cs_00000000000000000000000000000000000000000000";
	char *t = t_jwt_for(e, T_SECRET, e->merchant_id, ghost);

	assert_int_equal(PW_NOT_FOUND, t_redeem_call(e, ghost, t, &r));
	assert_null(r);
	free(t);
}

static void
test_revoked_entitlement_is_never_revealed(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	store_webhook_result res;
	char sid[64];
	char *tok;
	pw_event ev;

	t_session(e, &t_default, sid);
	t_pay(e, sid, "pi_rv");
	tok = t_token_of(e, sid);
	t_ev(e, &ev, PW_EV_REFUND, sid);
	ev.amount_refunded_minor = 4900;
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(REFUNDED), res.session_status);
	assert_int_equal(PW_OK, t_redeem_call(e, sid, tok, &r));
	assert_int_equal(ST(REFUNDED), r->status);
	assert_false(r->entitlement_active);
	assert_false(r->already_revealed);
	assert_string_equal("", r->access_key);
	t_receipt_free(r);
	free(tok);
}

/* ---- allocation failures ---- */

static void
test_allocation_failure_anywhere_in_a_payment_writes_nothing(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	store_counts c0, c1;
	uint64_t txnid;
	char sid[64];
	pw_event ev;
	pw_status st = PW_INTERNAL;
	long n;

	t_session(e, &t_default, sid);
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_oom");
	snprintf(ev.charge_ref, sizeof(ev.charge_ref), "ch_oom");
	assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
	store_test_set_flat_runs(e->s, false); /* every point of the nested path */
	for (n = 1; n < 1000; n++) {
		txnid = store_last_txnid(e->s);
		pw_alloc_fail_at(n);
		st = t_send(e, &ev, &res);
		pw_alloc_fail_at(0);
		if (st == PW_OK) {
			break;
		}
		assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
		assert_int_equal(txnid, store_last_txnid(e->s));
		rec = t_get(e, sid);
		assert_int_equal(ST(CREATED), rec->session->status);
		assert_int_equal(0, rec->n_refs);
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	assert_int_equal(PW_OK, st);
	assert_true(n > 5); /* the loop did inject failures inside the apply */
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(1, res.invoice_number);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
	assert_int_equal(c0.invoices + 1, c1.invoices);
	assert_int_equal(c0.entitlements + 1, c1.entitlements);
	assert_int_equal(c0.events + 1, c1.events);
	fx_audit_ok(e->s);
}

static void
test_allocation_failure_during_redeem_keeps_the_key_sealed(void **state)
{
	fx_env *e = *state;
	store_access_receipt *r = NULL;
	Paywire__Store__V1__EntitlementRecord *ent;
	store_webhook_result paid;
	char sid[64];
	char *tok;
	pw_status st = PW_INTERNAL;
	long n;

	t_session(e, &t_default, sid);
	paid = t_pay(e, sid, "pi_oom_redeem");
	tok = t_token_of(e, sid);
	store_test_set_flat_runs(e->s, false); /* every point of the nested path */
	for (n = 1; n < 1000; n++) {
		pw_alloc_fail_at(n);
		st = t_redeem_call(e, sid, tok, &r);
		pw_alloc_fail_at(0);
		if (st == PW_OK) {
			break;
		}
		assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
		assert_null(r);
		ent = fx_entitlement_get(e->s, paid.access_key_id);
		assert_false(ent->revealed);
		assert_true(ent->sealed_key.len > 0);
		paywire__store__v1__entitlement_record__free_unpacked(ent, NULL);
	}
	assert_int_equal(PW_OK, st);
	assert_true(n > 3);
	assert_int_equal(51, strlen(r->access_key));
	t_receipt_free(r);
	free(tok);
}

/* ---- a merchant cancels ---- */

typedef struct t_cancel {
	const char *merchant_id;                 /* in */
	const char *sid;                         /* in */
	Paywire__Store__V1__SessionRecord *rec;  /* out: caller frees */
	char reason[160];                        /* out */
} t_cancel;

static pw_status
t_cancel_cb(store_txn *t, void *arg)
{
	t_cancel *c = arg;
	return store_session_cancel(t, c->merchant_id, c->sid, &c->rec, c->reason,
	    sizeof(c->reason));
}

static pw_status
t_cancel_call(fx_env *e, const char *merchant_id, const char *sid, char *reason_out)
{
	t_cancel c = { .merchant_id = merchant_id, .sid = sid };
	pw_status st = store_apply_sync(e->s, t_cancel_cb, &c);

	if (st == PW_OK) {
		assert_non_null(c.rec);
		assert_int_equal(ST(CANCELED), c.rec->session->status);
		paywire__store__v1__session_record__free_unpacked(c.rec, NULL);
	} else {
		assert_null(c.rec);
	}
	if (reason_out != NULL) {
		strcpy(reason_out, c.reason);
	}
	return st;
}

/* created -> canceled, audited; again, or paid, or another merchant's: refused
 * with nothing written; a payment reported after the cancel is an anomaly,
 * never paid. */
static void
test_merchant_cancel_closes_only_its_created_or_pending_sessions(void **state)
{
	fx_env *e = *state;
	char sid[64];
	char paid[64];
	char pending[64];
	char other_mid[FX_MERCHANT_ID_BYTES];
	char reason[160];
	Paywire__Store__V1__SessionRecord *rec;
	store_webhook_result res;
	pw_event ev;
	uint64_t txn;
	uint64_t audit;

	t_session(e, &t_default, sid);
	t_session(e, &t_default, paid);
	t_session(e, &t_default, pending);
	(void) t_pay(e, paid, "pi_paid");
	t_ev(e, &ev, PW_EV_PAYMENT_PENDING, pending);
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(ST(PENDING), res.session_status);
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	    other_mid, sizeof(other_mid)));

	audit = fx_audit_ok(e->s);
	assert_int_equal(PW_OK, t_cancel_call(e, e->merchant_id, sid, NULL));
	assert_int_equal(PW_OK, t_cancel_call(e, e->merchant_id, pending, NULL));
	assert_int_equal(audit + 2, fx_audit_ok(e->s)); /* one session.canceled each */
	rec = t_get(e, sid);
	assert_int_equal(ST(CANCELED), rec->session->status);
	assert_int_equal(PS(UNPAID), rec->session->payment_status);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);

	txn = store_last_txnid(e->s);
	assert_int_equal(PW_FAILED_PRECONDITION, t_cancel_call(e, e->merchant_id, sid, reason));
	assert_non_null(strstr(reason, "canceled"));
	assert_int_equal(PW_FAILED_PRECONDITION, t_cancel_call(e, e->merchant_id, paid, reason));
	assert_non_null(strstr(reason, "paid"));
	assert_int_equal(PW_NOT_FOUND, t_cancel_call(e, other_mid, pending, NULL));
	assert_int_equal(PW_NOT_FOUND, t_cancel_call(e, e->merchant_id, "cs_nonexistent", NULL));
	assert_int_equal(txn, store_last_txnid(e->s));
	rec = t_get(e, paid);
	assert_int_equal(ST(PAID), rec->session->status);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);

	/* money for the canceled session: recorded as an anomaly, not paid */
	t_ev_paid(e, &ev, sid, 4900, "EUR", "pi_late");
	assert_int_equal(PW_OK, t_send(e, &ev, &res));
	assert_int_equal(OUT(IGNORED), res.outcome);
	assert_true(res.anomaly);
	assert_int_equal(ST(CANCELED), res.session_status);
}

/* The direct encoder that mints access links writes what libjwt writes,
 * byte for byte, for every key length and a spread of ids and times; and
 * libjwt decodes its tokens with the key (and refuses them without it). */
static void
test_direct_token_encoder_matches_libjwt(void **state)
{
	store_keys k;
	char a[PW_TOKEN_BYTES_MAX + 1];
	char b[PW_TOKEN_BYTES_MAX + 1];
	char mer[PW_SESSION_ID_BYTES_MAX];
	char sid[PW_SESSION_ID_BYTES_MAX];
	char jti[32];
	uint8_t rnd[16];
	static const size_t key_lens[] = { PW_TOKEN_SECRET_BYTES_MIN, 32, 33, 64, 65, 200,
		PW_TOKEN_SECRET_BYTES_MAX };
	static const int64_t times[] = { 1, 1700000000, 4102444800, 253402300799 };

	(void) state;
	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < sizeof(key_lens) / sizeof(key_lens[0]); i++) {
		for (size_t j = 0; j < sizeof(times) / sizeof(times[0]); j++) {
			jwt_t *d = NULL;

			k.jwt_key_len = key_lens[i];
			randombytes_buf(k.jwt_key, k.jwt_key_len);
			pw_id_new(mer, sizeof(mer), "mer_", 1700000000000 + (int64_t) j);
			pw_id_new(sid, sizeof(sid), "cs_", 1700000000000 + (int64_t) i);
			randombytes_buf(rnd, sizeof(rnd));
			pw_base64url(jti, sizeof(jti), rnd, sizeof(rnd));
			assert_true(store_token_test_encode(&k, mer, sid, jti, times[j], false, a, sizeof(a)));
			assert_true(store_token_test_encode(&k, mer, sid, jti, times[j], true, b, sizeof(b)));
			assert_string_equal(b, a);
			assert_int_equal(0, jwt_decode(&d, a, k.jwt_key, (int) k.jwt_key_len));
			assert_int_equal(JWT_ALG_HS256, jwt_get_alg(d));
			assert_string_equal(mer, jwt_get_grant(d, "merchant_id"));
			assert_int_equal(times[j] + T_WEEK_S, jwt_get_grant_int(d, "exp"));
			jwt_free(d);
			k.jwt_key[0] ^= 1;
			d = NULL;
			assert_int_not_equal(0, jwt_decode(&d, a, k.jwt_key, (int) k.jwt_key_len));
			jwt_free(d);
		}
	}
	/* ids the encoder would have to escape are refused, not written */
	k.jwt_key_len = 32;
	assert_false(store_token_test_encode(&k, "mer_\"x", "cs_1", "j", 1, false, a, sizeof(a)));
	assert_false(store_token_test_encode(&k, "mer_1", "cs_1/", "j", 1, false, a, sizeof(a)));
	assert_false(store_token_test_encode(&k, "", "cs_1", "j", 1, false, a, sizeof(a)));
	/* and a buffer too small is refused, not overrun */
	assert_false(store_token_test_encode(&k, "mer_1", "cs_1", "j", 1, false, a, 64));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, t_setup, fx_env_teardown)
		T(test_success_marks_paid_with_invoice_entitlement_link_and_audit),
		T(test_same_event_again_is_duplicate_and_writes_nothing),
		T(test_invoice_numbers_are_gapless_per_merchant),
		T(test_same_customer_and_plan_links_the_active_entitlement),
		T(test_pending_then_failed_then_retry_success_is_paid),
		T(test_amount_currency_or_mode_mismatch_is_an_anomaly_not_paid),
		T(test_payment_for_an_expired_session_is_an_anomaly),
		T(test_merchant_cancel_closes_only_its_created_or_pending_sessions),
		T(test_event_without_any_reference_is_recorded_ignored),
		T(test_unknown_session_ref_is_not_found_and_writes_nothing),
		T(test_merchant_verifies_an_access_key_until_its_refund),
		T(test_refunds_resolved_by_provider_refs_accumulate_then_revoke),
		T(test_dispute_lost_refunds_and_revokes_dispute_won_stays_paid),
		T(test_credits_are_added_on_payment_and_taken_back_on_refund),
		T(test_ref_owned_by_another_session_is_not_repointed),
		T(test_event_without_provider_or_id_is_invalid),
		T(test_redeem_reveals_the_key_once_and_never_stores_it),
		T(test_redeem_refuses_bad_tokens_without_writing),
		T(test_redeem_of_unknown_session_is_not_found),
		T(test_revoked_entitlement_is_never_revealed),
		T(test_allocation_failure_anywhere_in_a_payment_writes_nothing),
		T(test_allocation_failure_during_redeem_keeps_the_key_sealed),
#undef T
		cmocka_unit_test(test_direct_token_encoder_matches_libjwt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
