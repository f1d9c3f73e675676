/*
 * store_payment.c - store_webhook_apply: one verified provider event becomes
 * a state transition and all of its consequences, in the caller's nested
 * write transaction (docs/PAYMENTS.md, DESIGN.md "What a payment does").
 *
 * Steps: dedup on (provider, event_id); resolve the session (session_ref,
 * else a recorded provider ref); run the pure state machine (store_fsm.h);
 * execute its effects in the fixed order of the fsm_effect bits through the
 * ops table below; record the event; save the session. Every write goes to
 * the same nested txn: any error returns at once and the writer rolls the
 * whole event back (nothing half-applied), so the provider's retry starts
 * from a clean slate. A DUPLICATE, and a NOT_FOUND session, write nothing.
 *
 * Test builds abort at "store.after_dedup" and at each
 * "store.between_effects" (PAYWIRE_CRASHPOINT) to prove that.
 */
#include "store_internal.h"
#include "store_fsm.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* refs and events keys: provider byte + ref / event id. */
#define STORE_PREFIXED_KEY_BYTES (1 + PW_EV_ID_BYTES)
/* Audit detail of one event: ids, amounts, statuses and the reason. */
#define STORE_PAY_DETAIL_BYTES 1024

_Static_assert(STORE_PREFIXED_KEY_BYTES <= STORE_KEY_BYTES_MAX, "event key fits an LMDB key");
_Static_assert(PW_EV_REF_BYTES <= PW_EV_ID_BYTES, "a ref key fits the same buffer");
_Static_assert(FSM_REASON_BYTES == sizeof(((store_webhook_result *) 0)->reason),
    "the fsm reason fits the result");

/* Records keep a pw_provider as a paywire.store.v1.Provider (a cast): the
 * rows that have a name there have its number. */
#define STORE_XX_PROVIDER(NAME, value, name, label, secret_env)                     \
	_Static_assert((int) PW_PROVIDER_##NAME ==                                      \
	        (int) PAYWIRE__STORE__V1__PROVIDER__PROVIDER_##NAME,                    \
	    "PW_PROVIDER_MAP row " #NAME " has the value of paywire.store.v1.Provider");
PW_PROVIDER_MAP_BASE(STORE_XX_PROVIDER)
#undef STORE_XX_PROVIDER
_Static_assert((int) PW_PROVIDER_NONE == (int) PAYWIRE__STORE__V1__PROVIDER__PROVIDER_UNSPECIFIED,
    "no provider is PROVIDER_UNSPECIFIED");

#define ST_CREATED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED
#define OUTCOME_APPLIED PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED
#define OUTCOME_DUPLICATE PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_DUPLICATE
#define OUTCOME_IGNORED PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED
#define KIND_ACCESS_KEY PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY
#define KIND_CREDITS PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS

#define STORE_NO_REF_REASON "no paywire reference: another integration on this provider account?"

/* Everything one apply works on. */
typedef struct pay_ctx {
	store_txn *t;                     /* the caller's nested txn */
	const pw_event *ev;               /* the verified event */
	store_webhook_result *out;        /* the answer being built */
	Paywire__Store__V1__SessionRecord *rec;  /* the session, changed in memory, saved at the end */
	fsm_state before;                 /* state decoded from rec */
	fsm_result res;                   /* what the state machine decided */
	uint32_t effects;                 /* res.effects plus ANOMALY/AUDIT of a ref conflict */
	bool dirty;                       /* rec must be written */
	char anomaly[FSM_REASON_BYTES];   /* ref conflict found by RECORD_REFS; "" none */
	char detail[96];                  /* what the entitlement effects did, for the audit */
	char new_refs[4][PW_EV_REF_BYTES]; /* refs this event recorded first: parked events wait on them */
	int n_new_refs;                   /* entries used */
} pay_ctx;

/* Parked events applied by an event that recorded their ref may record refs
 * of their own, which apply more: this deep at most (the rest wait). */
#define STORE_UNPARK_DEPTH_MAX 4

/* provider byte + s: the key layout of the refs and events dbs. */
static size_t
pay_prefixed_key(uint8_t key[STORE_PREFIXED_KEY_BYTES], pw_provider p, const char *s)
{
	size_t len = strlen(s);

	PW_ASSERT(len > 0 && len < PW_EV_ID_BYTES);
	key[0] = (uint8_t) p;
	memcpy(key + 1, s, len);
	return len + 1;
}

static bool
pay_str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* pw_event is built by our parser: unterminated strings or out-of-range
 * enums are bugs. A missing provider or event id is bad input. */
static pw_status
pay_event_check(const pw_event *ev)
{
	PW_ASSERT(pay_str_ok(ev->event_id, sizeof(ev->event_id)));
	PW_ASSERT(pay_str_ok(ev->event_type, sizeof(ev->event_type)));
	PW_ASSERT(pay_str_ok(ev->session_ref, sizeof(ev->session_ref)));
	PW_ASSERT(pay_str_ok(ev->currency, sizeof(ev->currency)));
	PW_ASSERT(pay_str_ok(ev->payment_ref, sizeof(ev->payment_ref)));
	PW_ASSERT(pay_str_ok(ev->charge_ref, sizeof(ev->charge_ref)));
	PW_ASSERT(pay_str_ok(ev->order_ref, sizeof(ev->order_ref)));
	PW_ASSERT(pay_str_ok(ev->subscription_ref, sizeof(ev->subscription_ref)));
	PW_ASSERT(pay_str_ok(ev->customer_ref, sizeof(ev->customer_ref)));
	PW_ASSERT(pay_str_ok(ev->billing_reason, sizeof(ev->billing_reason)));
	PW_ASSERT(ev->kind >= PW_EV_IGNORED && ev->kind <= PW_EV_KIND_LAST);
	PW_ASSERT(ev->live >= -1 && ev->live <= 1);
	if (!pw_provider_known(ev->provider) || ev->event_id[0] == '\0') {
		pw_log(PW_LOG_WARN, "store: webhook event without provider or event id refused");
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* ---- session <-> state machine ---- */

pw_status
store_session_state_load(const Paywire__Store__V1__SessionRecord *rec, fsm_state *s)
{
	const Paywire__Store__V1__Session *sess = rec->session;

	memset(s, 0, sizeof(*s));
	if (sess == NULL || strlen(sess->currency) != 3 ||
	    !pw_strlcpy(s->paid_ref, rec->paid_ref, sizeof(s->paid_ref))) {
		return PW_INTERNAL;
	}
	memcpy(s->currency, sess->currency, 4);
	s->status = sess->status;
	s->payment_status = sess->payment_status;
	s->amount_minor = sess->amount_minor;
	s->live = sess->mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE;
	s->amount_refunded_minor = sess->amount_refunded_minor;
	s->dispute = (fsm_dispute) rec->dispute;
	s->paid_at_unix_ms = sess->paid_at_unix_ms;
	s->paid_provider = (pw_provider) sess->payment_provider;
	s->attempt_unix_s = rec->attempt_unix_s;
	s->entitlement_active = rec->entitlement_active;
	return fsm_state_valid(s) ? PW_OK : PW_INTERNAL;
}

/* The facts no single effect owns (status and what derives from it). */
static void
pay_state_store(pay_ctx *c)
{
	const fsm_state *n = &c->res.state;
	Paywire__Store__V1__Session *sess = c->rec->session;
	fsm_state check;

	sess->status = n->status;
	sess->payment_status = n->payment_status;
	c->rec->dispute = (int32_t) n->dispute;
	c->rec->attempt_unix_s = n->attempt_unix_s;
	c->rec->entitlement_active = n->entitlement_active;
	/* Paired check: the record now decodes to exactly the new state. */
	PW_ASSERT(store_session_state_load(c->rec, &check) == PW_OK);
	PW_ASSERT(check.status == n->status && check.paid_at_unix_ms == n->paid_at_unix_ms &&
	    check.amount_refunded_minor == n->amount_refunded_minor &&
	    check.dispute == n->dispute && check.paid_provider == n->paid_provider &&
	    strcmp(check.paid_ref, n->paid_ref) == 0);
}

/* ---- effects, one function per FSM_FX_* bit ---- */

static pw_status
pay_ref_append(Paywire__Store__V1__SessionRecord *rec, pw_provider p, const char *ref)
{
	Paywire__Store__V1__ProviderRef **refs;
	Paywire__Store__V1__ProviderRef *r;

	if (rec->n_refs >= PW_SESSION_REFS_MAX) {
		return PW_OK; /* the refs db still resolves it */
	}
	r = pw_malloc(sizeof(*r));
	refs = r != NULL ? pw_realloc(rec->refs, (rec->n_refs + 1) * sizeof(*refs)) : NULL;
	if (refs == NULL) {
		pw_free(r);
		return PW_RESOURCE_EXHAUSTED;
	}
	rec->refs = refs;
	paywire__store__v1__provider_ref__init(r);
	r->provider = (Paywire__Store__V1__Provider) p;
	r->ref = (char *) protobuf_c_empty_string;
	rec->refs[rec->n_refs++] = r;
	return store_pbstr_set(&r->ref, ref);
}

pw_status
store_session_ref_record(store_txn *t, Paywire__Store__V1__SessionRecord *rec, pw_provider p,
    const char *ref, char *owner, size_t owner_size, bool *added)
{
	uint8_t key[STORE_PREFIXED_KEY_BYTES];
	const char *sid = rec->session->id;
	size_t keylen;
	size_t len = 0;
	pw_status st;

	PW_ASSERT(owner != NULL && owner_size > 0 && added != NULL);
	owner[0] = '\0';
	*added = false;
	if (ref[0] == '\0') {
		return PW_OK;
	}
	keylen = pay_prefixed_key(key, p, ref);
	st = store_raw_get(t, STORE_DB_REFS, key, keylen, owner, owner_size - 1, &len);
	if (st == PW_NOT_FOUND) {
		owner[0] = '\0';
		st = store_raw_put(t, STORE_DB_REFS, key, keylen, sid, strlen(sid), KV_PUT_INSERT);
		*added = st == PW_OK;
		return st == PW_OK ? pay_ref_append(rec, p, ref) : st;
	}
	if (st == PW_OK) {
		owner[len] = '\0';
	}
	return st;
}

/* Maps one ref to the session unless it is known; a ref that belongs to
 * another session is never re-pointed: that is an anomaly. */
static pw_status
pay_ref_record(pay_ctx *c, const char *ref)
{
	char owner[PW_SESSION_ID_BYTES_MAX];
	bool added = false;
	pw_status st;

	st = store_session_ref_record(c->t, c->rec, c->ev->provider, ref, owner, sizeof(owner),
	    &added);
	if (st == PW_OK && added && (size_t) c->n_new_refs < sizeof(c->new_refs) / sizeof(c->new_refs[0])) {
		/* parked events waiting on this ref are applied after this one */
		(void) pw_strlcpy(c->new_refs[c->n_new_refs++], ref, sizeof(c->new_refs[0]));
	}
	if (st != PW_OK) {
		return st;
	}
	c->dirty = c->dirty || added;
	if (owner[0] != '\0' && strcmp(owner, c->rec->session->id) != 0 && c->anomaly[0] == '\0') {
		snprintf(c->anomaly, sizeof(c->anomaly),
		    "%s ref %s already belongs to session %s: not re-pointed",
		    pw_provider_name(c->ev->provider), ref, owner);
		c->effects |= FSM_FX_ANOMALY | FSM_FX_AUDIT;
	}
	return PW_OK;
}

/* A subscription checkout's sub_ (a refs row too: its invoices find the
 * session by it) and cus_, kept on the session when first seen. */
static pw_status
pay_subscription_refs(pay_ctx *c)
{
	Paywire__Store__V1__SessionRecord *rec = c->rec;
	pw_status st = PW_OK;

	if (c->ev->subscription_ref[0] != '\0' && rec->subscription_ref[0] == '\0') {
		st = store_pbstr_set(&rec->subscription_ref, c->ev->subscription_ref);
		c->dirty = true;
	}
	if (st == PW_OK && c->ev->customer_ref[0] != '\0' && rec->provider_customer_ref[0] == '\0') {
		st = store_pbstr_set(&rec->provider_customer_ref, c->ev->customer_ref);
		c->dirty = true;
	}
	return st;
}

static pw_status
pay_fx_record_refs(pay_ctx *c)
{
	const char *refs[] = { c->ev->payment_ref, c->ev->charge_ref, c->ev->order_ref,
		c->ev->subscription_ref };
	pw_status st = PW_OK;

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && st == PW_OK; i++) {
		st = pay_ref_record(c, refs[i]);
	}
	return st == PW_OK ? pay_subscription_refs(c) : st;
}

static pw_status
pay_fx_mark_paid(pay_ctx *c)
{
	Paywire__Store__V1__Session *sess = c->rec->session;
	const fsm_state *n = &c->res.state;

	PW_ASSERT(c->before.paid_at_unix_ms == 0 && n->paid_at_unix_ms > 0);
	sess->paid_at_unix_ms = n->paid_at_unix_ms;
	sess->payment_provider = (Paywire__Store__V1__Provider) n->paid_provider;
	return store_pbstr_set(&c->rec->paid_ref, n->paid_ref);
}

/* Gapless per merchant: the number comes from the merchant record, which
 * is written in the same txn as the invoice. */
static pw_status
pay_fx_invoice(pay_ctx *c)
{
	Paywire__Store__V1__InvoiceRecord inv = PAYWIRE__STORE__V1__INVOICE_RECORD__INIT;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	Paywire__Store__V1__Session *sess = c->rec->session;
	uint8_t key[PW_SESSION_ID_BYTES_MAX + 1 + 8];
	size_t mlen = strlen(sess->merchant_id);
	pw_status st;

	PW_ASSERT(c->rec->invoice_number == 0);
	st = store_rec_get(c->t, STORE_DB_MERCHANTS, sess->merchant_id, mlen,
	    &paywire__store__v1__merchant_record__descriptor, (void **) &m);
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_ERROR, "store: session %s names missing merchant", sess->id);
		return store_txn_note(c->t, PW_INTERNAL);
	}
	if (st != PW_OK) {
		return st;
	}
	PW_ASSERT(mlen > 0 && mlen < PW_SESSION_ID_BYTES_MAX);
	m->last_invoice_number++;
	memcpy(key, sess->merchant_id, mlen);
	key[mlen] = 0x00;
	store_be64_put(key + mlen + 1, m->last_invoice_number);
	inv.merchant_id = sess->merchant_id;
	inv.number = m->last_invoice_number;
	inv.session_id = sess->id;
	inv.amount_minor = sess->amount_minor;
	inv.currency = sess->currency;
	inv.provider = (Paywire__Store__V1__Provider) c->res.state.paid_provider;
	inv.payment_ref = c->rec->paid_ref;
	inv.issued_at_unix_ms = c->t->now_ms;
	inv.customer_email = sess->customer_email;
	inv.customer_name = sess->customer_name;
	st = store_rec_put(c->t, STORE_DB_INVOICES, key, mlen + 9, &inv.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	if (st == PW_OK) {
		st = store_rec_put(c->t, STORE_DB_MERCHANTS, sess->merchant_id, mlen, &m->base, 0, NULL);
	}
	if (st == PW_OK) {
		c->rec->invoice_number = m->last_invoice_number;
		c->out->invoice_number = m->last_invoice_number;
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	/* An existing invoice under the next number: the counter went back. */
	return st == PW_ALREADY_EXISTS ? store_txn_note(c->t, PW_INTERNAL) : st;
}

static int64_t
pay_credits_of(const Paywire__Store__V1__Session *sess)
{
	int64_t n = sess->fulfillment->credits;
	return n > 0 && n <= PW_CREDITS_MAX ? n : 0;
}

static pw_status
pay_credits(pay_ctx *c, int sign)
{
	char customer[PW_EMAIL_BYTES_MAX + 1];
	int64_t n = pay_credits_of(c->rec->session);
	Paywire__Store__V1__CreditTxnRecord *e = NULL;
	store_credit_post post;
	pw_status st;

	if (n == 0) {
		snprintf(c->detail, sizeof(c->detail), " credits=0");
		return PW_OK;
	}
	if (!store_customer_of(c->rec->session, customer, sizeof(customer))) {
		return store_txn_note(c->t, PW_INTERNAL);
	}
	post = (store_credit_post){ .merchant_id = c->rec->session->merchant_id,
		.customer = customer,
		.kind = sign > 0 ? PAYWIRE__STORE__V1__CREDIT_TXN_KIND__CREDIT_TXN_KIND_PURCHASE
		                 : PAYWIRE__STORE__V1__CREDIT_TXN_KIND__CREDIT_TXN_KIND_REVERSAL,
		.delta = sign * n, .session_id = c->rec->session->id };
	st = store_credits_post(c->t, &post, &e);
	if (st == PW_OK) {
		snprintf(c->detail, sizeof(c->detail),
		    " credits=%+" PRId64 " balance=%" PRId64 " seq=%" PRIu64 "%s", e->delta,
		    e->balance_after, e->seq, e->shortfall > 0 ? " shortfall" : "");
		if (e->shortfall > 0) {
			size_t len = strlen(c->detail);
			snprintf(c->detail + len, sizeof(c->detail) - len, "=%" PRId64, e->shortfall);
		}
		paywire__store__v1__credit_txn_record__free_unpacked(e, NULL);
	}
	return st;
}

/* GRANT (sign +1) or REVOKE (sign -1) of the session's access-key
 * entitlement, noted in the audit detail. */
static pw_status
pay_access(pay_ctx *c, int sign)
{
	bool changed = false;
	pw_status st;

	st = sign > 0 ? store_entitlement_grant(c->t, c->rec, &changed)
	              : store_entitlement_revoke(c->t, c->rec, &changed);
	if (st != PW_OK || c->rec->access_key_id[0] == '\0') {
		return st; /* a grant always links one: only a revoke gets here with none */
	}
	if (sign > 0) {
		(void) pw_strlcpy(c->out->access_key_id, c->rec->access_key_id,
		    sizeof(c->out->access_key_id));
	}
	snprintf(c->detail, sizeof(c->detail), " entitlement=%s%s", c->rec->access_key_id,
	    sign > 0 ? (changed ? "" : " (existing)")
	             : (changed ? " revoked" : " kept (shared or already revoked)"));
	return PW_OK;
}

/* GRANT (sign +1) or REVOKE (sign -1) of what the session sold. */
static pw_status
pay_fulfil(pay_ctx *c, int sign)
{
	const Paywire__Store__V1__Fulfillment *f = c->rec->session->fulfillment;

	if (f == NULL || f->kind == PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_NONE) {
		return PW_OK;
	}
	if (f->kind == KIND_CREDITS) {
		return pay_credits(c, sign);
	}
	/* A revoke of an unknown kind finds no entitlement: nothing to undo. */
	if (sign > 0 && f->kind != KIND_ACCESS_KEY) {
		pw_log(PW_LOG_ERROR, "store: session %s: unknown fulfillment kind %d",
		    c->rec->session->id, (int) f->kind);
		return store_txn_note(c->t, PW_INTERNAL);
	}
	return pay_access(c, sign);
}

static pw_status
pay_fx_grant(pay_ctx *c)
{
	return pay_fulfil(c, +1);
}

static pw_status
pay_fx_access_link(pay_ctx *c)
{
	Paywire__Store__V1__Session *sess = c->rec->session;
	char *link = NULL;
	pw_status st;

	st = store_token_link_mint(&c->t->s->keys, sess->merchant_id, sess->id, c->t->now_ms, &link);
	if (st != PW_OK) {
		return st;
	}
	if (c->rec->access_link != NULL && c->rec->access_link != protobuf_c_empty_string) {
		pw_free(c->rec->access_link);
	}
	c->rec->access_link = link; /* the record owns it */
	return PW_OK;
}

static pw_status
pay_fx_record_refund(pay_ctx *c)
{
	PW_ASSERT(c->res.state.amount_refunded_minor > c->before.amount_refunded_minor);
	c->rec->session->amount_refunded_minor = c->res.state.amount_refunded_minor;
	return PW_OK;
}

static pw_status
pay_fx_revoke(pay_ctx *c)
{
	return pay_fulfil(c, -1);
}

static pw_status
pay_fx_anomaly(pay_ctx *c)
{
	char reason[FSM_REASON_BYTES];

	if ((c->res.effects & FSM_FX_ANOMALY) != 0 && c->anomaly[0] != '\0') {
		/* Both may be long: truncation of an operator note is acceptable. */
		int n = snprintf(reason, sizeof(reason), "%s; %s", c->res.reason, c->anomaly);
		PW_ASSERT(n > 0);
	} else {
		(void) pw_strlcpy(reason, (c->res.effects & FSM_FX_ANOMALY) != 0 ? c->res.reason
		                                                                 : c->anomaly,
		    sizeof(reason));
	}
	PW_ASSERT(reason[0] != '\0');
	c->rec->anomalies++;
	c->out->anomaly = true;
	c->dirty = true;
	pw_log(PW_LOG_WARN, "store: ANOMALY on session %s (%s event %s): %s", c->rec->session->id,
	    pw_provider_name(c->ev->provider), c->ev->event_id, reason);
	return store_pbstr_set(&c->rec->anomaly, reason);
}

/* The ref an operator looks the money up by at the provider. */
static const char *
pay_money_ref(const pw_event *ev)
{
	if (ev->payment_ref[0] != '\0') {
		return ev->payment_ref;
	}
	return ev->charge_ref[0] != '\0' ? ev->charge_ref : ev->order_ref;
}

/* Why a payment the state machine refused is money to give back. */
static void
pay_payment_cause(const pay_ctx *c, char *out, size_t out_size)
{
	const pw_event *ev = c->ev;
	const fsm_state *b = &c->before;

	if (ev->live != -1 && (ev->live == 1) != b->live) {
		snprintf(out, out_size, "a %s-mode payment for a %s-mode session",
		    ev->live == 1 ? "live" : "test", b->live ? "live" : "test");
	} else if (!ev->has_amount) {
		snprintf(out, out_size, "the event carried no amount; check what was taken");
	} else if (ev->amount_minor != b->amount_minor || strcmp(ev->currency, b->currency) != 0) {
		snprintf(out, out_size,
		    "it paid %" PRId64 " %s (minor units), the session asks %" PRId64 " %s",
		    ev->amount_minor, ev->currency, b->amount_minor, b->currency);
	} else if (b->paid_at_unix_ms > 0) {
		snprintf(out, out_size, "the session was already paid by %s",
		    b->paid_ref[0] != '\0' ? b->paid_ref : "another payment");
	} else {
		snprintf(out, out_size, "the session is %s: nothing was sold",
		    fsm_status_name(b->status));
	}
}

/* What the merchant should do about this anomaly (AnomalyRecord.action). */
static void
pay_anomaly_action(const pay_ctx *c, const char *reason, char *out, size_t out_size)
{
	const pw_event *ev = c->ev;
	const char *ref = pay_money_ref(ev);
	const char *prov = pw_provider_name(ev->provider);
	char cause[FSM_REASON_BYTES];

	if (ref[0] == '\0') {
		ref = "(no ref)";
	}
	if ((c->res.effects & FSM_FX_ANOMALY) == 0) {
		/* only a ref conflict: the event itself applied */
		snprintf(out, out_size, "check %s event %s at %s: %s", prov, ev->event_id, prov, reason);
		return;
	}
	switch (ev->kind) {
	case PW_EV_PAYMENT_SUCCEEDED:
		pay_payment_cause(c, cause, sizeof(cause));
		snprintf(out, out_size, "refund payment %s at %s: %s", ref, prov, cause);
		return;
	case PW_EV_REFUND:
		snprintf(out, out_size, "check refund of %s at %s, paywire did not record it: %s", ref,
		    prov, reason);
		return;
	case PW_EV_DISPUTE_OPENED:
	case PW_EV_DISPUTE_WON:
	case PW_EV_DISPUTE_LOST:
		snprintf(out, out_size, "check the dispute of %s at %s, paywire did not record it: %s",
		    ref, prov, reason);
		return;
	case PW_EV_IGNORED:
	case PW_EV_PAYMENT_PENDING:
	case PW_EV_PAYMENT_FAILED:
	case PW_EV_SESSION_EXPIRED:
	case PW_EV_PAYMENT_CANCELED:
	case PW_EV_SUBSCRIPTION_PAID:
	case PW_EV_SUBSCRIPTION_PAST_DUE:
	case PW_EV_SUBSCRIPTION_ENDED: break;
	}
	snprintf(out, out_size, "check %s event %s at %s: %s", prov, ev->event_id, prov, reason);
}

/* The AnomalyRecord of this event, under the seq of its audit record, and
 * the seq on the session (for a later refund of that payment). */
static pw_status
pay_anomaly_record(pay_ctx *c, uint64_t seq)
{
	Paywire__Store__V1__AnomalyRecord a = PAYWIRE__STORE__V1__ANOMALY_RECORD__INIT;
	Paywire__Store__V1__SessionRecord *rec = c->rec;
	const pw_event *ev = c->ev;
	char action[2 * FSM_REASON_BYTES];
	uint64_t *seqs;

	pay_anomaly_action(c, rec->anomaly, action, sizeof(action));
	a.seq = seq;
	a.merchant_id = rec->session->merchant_id;
	a.session_id = rec->session->id;
	a.provider = (Paywire__Store__V1__Provider) ev->provider;
	a.event_id = (char *) ev->event_id;
	a.event_type = (char *) ev->event_type;
	a.payment_ref = (char *) ev->payment_ref;
	a.charge_ref = (char *) ev->charge_ref;
	a.has_amount = ev->has_amount;
	a.amount_minor = ev->has_amount ? ev->amount_minor : 0;
	a.currency = (char *) ev->currency;
	a.reason = rec->anomaly;
	a.action = action;
	a.created_at_unix_ms = c->t->now_ms;
	a.payment = ev->kind == PW_EV_PAYMENT_SUCCEEDED && (c->res.effects & FSM_FX_ANOMALY) != 0;
	if (rec->n_anomaly_seqs < PW_SESSION_ANOMALIES_MAX) {
		seqs = pw_realloc(rec->anomaly_seqs, (rec->n_anomaly_seqs + 1) * sizeof(*seqs));
		if (seqs == NULL) {
			return PW_RESOURCE_EXHAUSTED;
		}
		rec->anomaly_seqs = seqs;
		rec->anomaly_seqs[rec->n_anomaly_seqs++] = seq;
	}
	return store_anomaly_put(c->t, &a);
}

static pw_status
pay_fx_audit(pay_ctx *c)
{
	const pw_event *ev = c->ev;
	const char *action = c->res.audit_action != NULL ? c->res.audit_action : "session.anomaly";
	char detail[STORE_PAY_DETAIL_BYTES];
	uint64_t seq = 0;
	pw_status st;

	snprintf(detail, sizeof(detail),
	    "event=%s:%s type=%s amount=%" PRId64 " %s refunded=%" PRId64 " status=%s->%s"
	    " invoice=%" PRIu64 "%s%s%s",
	    pw_provider_name(ev->provider), ev->event_id, ev->event_type,
	    ev->has_amount ? ev->amount_minor : 0, ev->currency, ev->amount_refunded_minor,
	    fsm_status_name(c->before.status), fsm_status_name(c->res.state.status),
	    c->rec->invoice_number, c->detail, c->out->anomaly ? " anomaly=" : "",
	    c->out->anomaly ? c->rec->anomaly : "");
	st = store_audit_append_seq(c->t, action, c->rec->session->merchant_id, c->rec->session->id,
	    detail, &seq);
	if (st == PW_OK && c->out->anomaly) {
		st = pay_anomaly_record(c, seq);
	}
	return st;
}

/* In the order of the fsm_effect bits (store_fsm.h): the order they run. */
static const struct {
	uint32_t bit;                 /* FSM_FX_* */
	pw_status (*run)(pay_ctx *c); /* executes it in c->t */
} pay_effects[] = {
	{ FSM_FX_RECORD_REFS, pay_fx_record_refs },
	{ FSM_FX_MARK_PAID, pay_fx_mark_paid },
	{ FSM_FX_INVOICE, pay_fx_invoice },
	{ FSM_FX_GRANT_ENTITLEMENT, pay_fx_grant },
	{ FSM_FX_ACCESS_LINK, pay_fx_access_link },
	{ FSM_FX_RECORD_REFUND, pay_fx_record_refund },
	{ FSM_FX_REVOKE_ENTITLEMENT, pay_fx_revoke },
	{ FSM_FX_ANOMALY, pay_fx_anomaly },
	{ FSM_FX_AUDIT, pay_fx_audit },
};

static pw_status
pay_effects_run(pay_ctx *c)
{
	bool first = true;
	pw_status st;

	for (size_t i = 0; i < sizeof(pay_effects) / sizeof(pay_effects[0]); i++) {
		/* c->effects may grow while running (a ref conflict). */
		if ((c->effects & pay_effects[i].bit) == 0) {
			continue;
		}
		if (!first) {
			pw_crashpoint("store.between_effects");
		}
		first = false;
		st = pay_effects[i].run(c);
		if (st != PW_OK) {
			return st;
		}
	}
	return PW_OK;
}

/* ---- the event record ---- */

pw_status
store_webhook_event_put(store_txn *t, const pw_event *ev,
    Paywire__Store__V1__WebhookOutcome outcome, const char *session_id, const char *reason)
{
	Paywire__Store__V1__WebhookEventRecord r = PAYWIRE__STORE__V1__WEBHOOK_EVENT_RECORD__INIT;
	uint8_t key[STORE_PREFIXED_KEY_BYTES];
	size_t keylen = pay_prefixed_key(key, ev->provider, ev->event_id);
	pw_status st;

	r.provider = (Paywire__Store__V1__Provider) ev->provider;
	r.event_id = (char *) ev->event_id;
	r.event_type = (char *) ev->event_type;
	r.outcome = outcome;
	r.session_id = (char *) session_id;
	r.reason = (char *) reason;
	r.received_at_unix_ms = t->now_ms;
	st = store_rec_put(t, STORE_DB_EVENTS, key, keylen, &r.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	/* The dedup lookup in this same txn said absent. */
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

/* PW_OK: seen before, out filled as DUPLICATE. PW_NOT_FOUND: new. */
static pw_status
pay_dedup(store_txn *t, const pw_event *ev, store_webhook_result *out)
{
	Paywire__Store__V1__WebhookEventRecord *r = NULL;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	uint8_t key[STORE_PREFIXED_KEY_BYTES];
	size_t keylen = pay_prefixed_key(key, ev->provider, ev->event_id);
	pw_status st;

	st = store_rec_get(t, STORE_DB_EVENTS, key, keylen,
	    &paywire__store__v1__webhook_event_record__descriptor, (void **) &r);
	pw_crashpoint("store.after_dedup");
	if (st != PW_OK) {
		return st;
	}
	out->outcome = OUTCOME_DUPLICATE;
	(void) pw_strlcpy(out->session_id, r->session_id, sizeof(out->session_id));
	snprintf(out->reason, sizeof(out->reason), "duplicate of event %s (%s)", r->event_id,
	    r->outcome == OUTCOME_APPLIED ? "applied" : "ignored");
	paywire__store__v1__webhook_event_record__free_unpacked(r, NULL);
	if (out->session_id[0] != '\0') {
		st = store_session_load(t, out->session_id, &rec);
		if (st == PW_OK) {
			store_session_view(rec, t->now_ms);
			out->session_status = rec->session->status;
			paywire__store__v1__session_record__free_unpacked(rec, NULL);
		} else if (st != PW_NOT_FOUND) {
			return st;
		}
	}
	return PW_OK;
}

/* Session id for ev: session_ref, else the first recorded provider ref.
 * PW_NOT_FOUND: ev names no known session (sid ""). */
static pw_status
pay_resolve(store_txn *t, const pw_event *ev, char *sid, size_t sid_size)
{
	const char *refs[] = { ev->payment_ref, ev->charge_ref, ev->order_ref };
	uint8_t key[STORE_PREFIXED_KEY_BYTES];
	size_t len = 0;
	pw_status st;

	sid[0] = '\0';
	if (ev->session_ref[0] != '\0') {
		return pw_strlcpy(sid, ev->session_ref, sid_size) ? PW_OK : PW_NOT_FOUND;
	}
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		if (refs[i][0] == '\0') {
			continue;
		}
		st = store_raw_get(t, STORE_DB_REFS, key, pay_prefixed_key(key, ev->provider, refs[i]),
		    sid, sid_size - 1, &len);
		if (st == PW_OK) {
			sid[len] = '\0';
			return PW_OK;
		}
		if (st != PW_NOT_FOUND) {
			return st;
		}
	}
	return PW_NOT_FOUND;
}

/* ---- a refund or dispute of a payment recorded as an anomaly ---- */

/* A refund or dispute names the payment it is about (payment_ref). When
 * both it and the session's recorded payment are known and differ, it is
 * about another payment: the session's own is untouched. Unknown on either
 * side: the session's (a refund may arrive before the payment it refunds;
 * the state machine then keeps the total, order-free). Decided here, not in
 * the pure state machine: it needs the recorded payment, which a refund
 * that came first could not know. */
static bool
pay_other_payment(const pay_ctx *c)
{
	return c->ev->payment_ref[0] != '\0' && c->before.paid_ref[0] != '\0' &&
	    strcmp(c->ev->payment_ref, c->before.paid_ref) != 0;
}

/* c->res for an event ignored here (not by the state machine): the session
 * unchanged, its refs recorded, nothing else. */
__attribute__((format(printf, 2, 3))) static void
pay_ignore(pay_ctx *c, const char *fmt, ...)
{
	va_list ap;

	memset(&c->res, 0, sizeof(c->res));
	c->res.state = c->before;
	c->res.outcome = FSM_IGNORED;
	c->res.path[0] = c->before.status;
	c->res.path_len = 1;
	if (c->ev->payment_ref[0] != '\0' || c->ev->charge_ref[0] != '\0' ||
	    c->ev->order_ref[0] != '\0') {
		c->res.effects |= FSM_FX_RECORD_REFS;
	}
	va_start(ap, fmt);
	(void) vsnprintf(c->res.reason, sizeof(c->res.reason), fmt, ap);
	va_end(ap);
}


static bool
pay_money_event(pw_event_kind k)
{
	return k == PW_EV_REFUND || k == PW_EV_DISPUTE_OPENED || k == PW_EV_DISPUTE_WON ||
	    k == PW_EV_DISPUTE_LOST;
}

/* The payment anomaly of the session that ev (a refund or dispute) is about:
 * PW_OK with *out (caller frees), or PW_NOT_FOUND. */
static pw_status
pay_anomaly_of(pay_ctx *c, Paywire__Store__V1__AnomalyRecord **out)
{
	const pw_event *ev = c->ev;
	Paywire__Store__V1__AnomalyRecord *a = NULL;
	pw_status st;

	*out = NULL;
	for (size_t i = 0; i < c->rec->n_anomaly_seqs; i++) {
		st = store_anomaly_get(c->t, c->rec->session->merchant_id, c->rec->anomaly_seqs[i], &a);
		if (st == PW_NOT_FOUND) {
			continue;
		}
		if (st != PW_OK) {
			return st;
		}
		if (a->payment && (pw_provider) a->provider == ev->provider &&
		    ((a->payment_ref[0] != '\0' && strcmp(a->payment_ref, ev->payment_ref) == 0) ||
		        (a->charge_ref[0] != '\0' && strcmp(a->charge_ref, ev->charge_ref) == 0)) &&
		    strcmp(a->payment_ref, c->before.paid_ref) != 0) {
			*out = a;
			return PW_OK;
		}
		paywire__store__v1__anomaly_record__free_unpacked(a, NULL);
		a = NULL;
	}
	return PW_NOT_FOUND;
}

/* What ev did to the anomalous payment a (its resolution). */
static void
pay_resolution(const pay_ctx *c, const Paywire__Store__V1__AnomalyRecord *a, char *out,
    size_t out_size, bool *resolved)
{
	const pw_event *ev = c->ev;
	const char *prov = pw_provider_name(ev->provider);
	int64_t total = ev->amount_refunded_minor;
	int n; /* used: a long event id is cut, knowingly (-Wformat-truncation) */

	*resolved = false;
	if (ev->kind == PW_EV_REFUND) {
		*resolved = !a->has_amount || total >= a->amount_minor;
		if (a->has_amount) {
			n = snprintf(out, out_size, "%s (%" PRId64 " of %" PRId64 " %s) by %s event %s",
			    *resolved ? "refunded in full" : "partially refunded", total, a->amount_minor,
			    a->currency, prov, ev->event_id);
		} else {
			n = snprintf(out, out_size, "refunded (%" PRId64 ") by %s event %s", total, prov,
			    ev->event_id);
		}
		if (n < 0 || (size_t) n >= out_size) {
			out[out_size - 1] = '\0'; /* cut: a long event id */
		}
		return;
	}
	*resolved = ev->kind == PW_EV_DISPUTE_LOST; /* the money went back to the customer */
	n = snprintf(out, out_size, "disputed by the customer (%s, %s event %s)%s",
	    ev->kind == PW_EV_DISPUTE_OPENED ? "opened" : ev->kind == PW_EV_DISPUTE_WON ? "won" : "lost",
	    prov, ev->event_id, ev->kind == PW_EV_DISPUTE_OPENED ? ": answer it at the provider" : "");
	if (n < 0 || (size_t) n >= out_size) {
		out[out_size - 1] = '\0'; /* cut: a long event id */
	}
}

/* ev refunds or disputes the anomalous payment a, not the session's own:
 * the session is left as it is (its refs are still recorded), the anomaly
 * is annotated, and the event is audited and recorded IGNORED. Fills c->res
 * as the state machine would for an ignored event. */
static pw_status
pay_decide_anomaly(pay_ctx *c, Paywire__Store__V1__AnomalyRecord *a)
{
	char resolution[FSM_REASON_BYTES];
	bool resolved = false;
	pw_status st;

	pay_ignore(c, "%s of payment %s, recorded as anomaly %" PRIu64 ", not of the session's "
	              "payment: the session is unchanged",
	    c->ev->kind == PW_EV_REFUND ? "refund" : "dispute", pay_money_ref(c->ev), a->seq);
	c->res.effects |= FSM_FX_AUDIT;
	c->res.audit_action = c->ev->kind == PW_EV_REFUND ? "anomaly.refunded" : "anomaly.disputed";
	pay_resolution(c, a, resolution, sizeof(resolution), &resolved);
	snprintf(c->detail, sizeof(c->detail), " anomaly_seq=%" PRIu64 "%s", a->seq,
	    resolved ? " resolved" : "");
	st = store_pbstr_set(&a->resolution, resolution);
	if (st == PW_OK) {
		a->resolved_at_unix_ms = resolved ? c->t->now_ms : 0;
		st = store_anomaly_put(c->t, a);
	}
	if (st == PW_OK) {
		pw_log(PW_LOG_INFO, "store: anomaly %" PRIu64 " of session %s: %s", a->seq,
		    c->rec->session->id, resolution);
	}
	return st;
}

/* Decides c->res: a refund or dispute of a payment recorded as an anomaly
 * touches only that anomaly; everything else goes to the state machine. */
static pw_status
pay_decide(pay_ctx *c)
{
	Paywire__Store__V1__AnomalyRecord *a = NULL;
	pw_status st = PW_NOT_FOUND;

	if (pay_money_event(c->ev->kind) && c->rec->n_anomaly_seqs > 0) {
		st = pay_anomaly_of(c, &a);
	}
	if (st == PW_OK) {
		st = pay_decide_anomaly(c, a);
		paywire__store__v1__anomaly_record__free_unpacked(a, NULL);
		return st;
	}
	if (st != PW_NOT_FOUND) {
		return st;
	}
	if (pay_money_event(c->ev->kind) && pay_other_payment(c)) {
		pay_ignore(c, "%s of payment %s, not of the session's payment %s: not applied",
		    c->ev->kind == PW_EV_REFUND ? "refund" : "dispute", c->ev->payment_ref,
		    c->before.paid_ref);
		return PW_OK;
	}
	fsm_apply(&c->before, c->ev, store_txn_now_ms(c->t), &c->res);
	return PW_OK;
}

/* Runs the state machine and its effects on a loaded session. */
static pw_status
pay_apply_session(pay_ctx *c)
{
	const char *reason;
	pw_status st;

	st = store_session_state_load(c->rec, &c->before);
	if (st != PW_OK) {
		pw_log(PW_LOG_ERROR, "store: session %s: record fails the state machine's checks",
		    c->rec->session != NULL ? c->rec->session->id : "?");
		return store_txn_note(c->t, st);
	}
	st = pay_decide(c);
	if (st != PW_OK) {
		return st;
	}
	c->effects = c->res.effects;
	c->dirty = c->dirty || c->res.outcome == FSM_APPLIED; /* dirty: expired just before */
	st = pay_effects_run(c);
	if (st != PW_OK) {
		return st;
	}
	pw_crashpoint("store.between_effects");
	if (c->res.outcome == FSM_APPLIED) {
		pay_state_store(c);
	}
	reason = c->out->anomaly ? c->rec->anomaly : c->res.reason;
	st = store_webhook_event_put(c->t, c->ev,
	    c->res.outcome == FSM_APPLIED ? OUTCOME_APPLIED : OUTCOME_IGNORED, c->rec->session->id,
	    reason);
	if (st == PW_OK && c->dirty) {
		pw_crashpoint("store.between_effects");
		st = store_session_save(c->t, c->rec);
	}
	if (st == PW_OK) {
		c->out->outcome = c->res.outcome == FSM_APPLIED ? OUTCOME_APPLIED : OUTCOME_IGNORED;
		c->out->session_status = c->rec->session->status;
		(void) pw_strlcpy(c->out->reason, reason, sizeof(c->out->reason));
	}
	return st;
}

static pw_status pay_apply_depth(store_txn *t, const pw_event *ev, store_webhook_result *out,
    int depth);

static int
pay_parked_cmp(const void *a, const void *b)
{
	uint64_t x = ((const store_parked_event *) a)->seq;
	uint64_t y = ((const store_parked_event *) b)->seq;

	return x < y ? -1 : x > y;
}

/* The events parked under refs (just recorded by an event of provider p),
 * applied in arrival order as if delivered now: each one's "parked" event
 * record is replaced by its real outcome. */
static pw_status
pay_unpark(store_txn *t, pw_provider p, char (*refs)[PW_EV_REF_BYTES], int n_refs, int depth)
{
	store_parked_event *evs;
	store_webhook_result res;
	uint8_t key[STORE_PREFIXED_KEY_BYTES];
	size_t n = 0;
	size_t got = 0;
	pw_status st = PW_OK;

	evs = pw_malloc(3 * PW_PARKED_APPLY_MAX * sizeof(*evs)); /* filled by the takes */
	if (evs == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	for (int i = 0; i < n_refs && st == PW_OK; i++) {
		st = store_parked_take(t, p, refs[i], evs + n, PW_PARKED_APPLY_MAX, &got);
		n += got;
	}
	qsort(evs, n, sizeof(*evs), pay_parked_cmp);
	for (size_t i = 0; i < n && st == PW_OK; i++) {
		/* taken under one ref, its other keys are gone too: no event twice */
		PW_ASSERT(i == 0 || evs[i].seq != evs[i - 1].seq);
		st = store_raw_del(t, STORE_DB_EVENTS, key,
		    pay_prefixed_key(key, evs[i].ev.provider, evs[i].ev.event_id));
		if (st == PW_OK || st == PW_NOT_FOUND) {
			st = pay_apply_depth(t, &evs[i].ev, &res, depth);
		}
		if (st == PW_OK) {
			pw_log(PW_LOG_INFO, "store: parked %s event %s applied: %s%s%s",
			    pw_provider_name(evs[i].ev.provider), evs[i].ev.event_id,
			    res.outcome == OUTCOME_APPLIED ? "applied" : "ignored",
			    res.reason[0] != '\0' ? ", " : "", res.reason);
		}
	}
	pw_free(evs);
	return st;
}

/* Parks a refs-only event no session knows yet (store_parked.c): true when
 * it was parked, with out filled. */
static pw_status
pay_park(store_txn *t, const pw_event *ev, store_webhook_result *out, bool *parked)
{
	const char *ref = ev->payment_ref[0] != '\0' ? ev->payment_ref
	    : ev->charge_ref[0] != '\0'              ? ev->charge_ref
	                                             : ev->order_ref;
	pw_status st;

	*parked = false;
	if (ev->kind == PW_EV_IGNORED || ref[0] == '\0') {
		return PW_OK;
	}
	st = store_parked_put(t, ev);
	if (st == PW_RESOURCE_EXHAUSTED) {
		pw_log(PW_LOG_WARN, "store: parked events table full: %s event %s not parked",
		    pw_provider_name(ev->provider), ev->event_id);
		return PW_OK;
	}
	if (st != PW_OK) {
		return st;
	}
	*parked = true;
	out->outcome = OUTCOME_IGNORED;
	snprintf(out->reason, sizeof(out->reason),
	    "parked: no session has %s ref %s yet; applied when an event records it",
	    pw_provider_name(ev->provider), ref);
	return store_webhook_event_put(t, ev, OUTCOME_IGNORED, "", out->reason);
}

pw_status
store_webhook_apply(store_txn *t, const pw_event *ev, store_webhook_result *out)
{
	return pay_apply_depth(t, ev, out, 0);
}

static pw_status
pay_apply_depth(store_txn *t, const pw_event *ev, store_webhook_result *out, int depth)
{
	bool parked = false;
	pay_ctx c;
	pw_status st;

	PW_ASSERT(t != NULL && ev != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	st = pay_event_check(ev);
	if (st != PW_OK) {
		return st;
	}
	st = pay_dedup(t, ev, out);
	if (st != PW_NOT_FOUND) {
		return st; /* PW_OK: DUPLICATE, nothing written; or an error */
	}
	if (ev->kind >= PW_EV_SUBSCRIPTION_PAID) {
		/* a subscription's entitlement, never a session's status */
		st = store_subscription_apply(t, ev, out);
		if (st != PW_OK) {
			memset(out, 0, sizeof(*out));
		}
		return st;
	}
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.ev = ev;
	c.out = out;
	st = pay_resolve(t, ev, out->session_id, sizeof(out->session_id));
	if (st == PW_NOT_FOUND && ev->session_ref[0] == '\0') {
		/* Refs nobody recorded yet: it waits for the event that does. */
		st = pay_park(t, ev, out, &parked);
		if (st != PW_OK || parked) {
			return st;
		}
		/* Nothing of ours: record it so a redelivery is a DUPLICATE. */
		out->outcome = OUTCOME_IGNORED;
		(void) pw_strlcpy(out->reason, STORE_NO_REF_REASON, sizeof(out->reason));
		return store_webhook_event_put(t, ev, OUTCOME_IGNORED, "", STORE_NO_REF_REASON);
	}
	if (st == PW_OK) {
		st = store_session_load(t, out->session_id, &c.rec);
	}
	if (st == PW_NOT_FOUND) {
		/* Nothing written: the provider keeps the event and retries. */
		pw_log(PW_LOG_WARN, "store: %s event %s names unknown session %s",
		    pw_provider_name(ev->provider), ev->event_id, out->session_id);
	}
	if (st == PW_OK) {
		/* A due session expires first, as the sweep would have done: a
		 * payment for it is then an anomaly whether or not the sweep ran. */
		st = store_session_expire_due(t, c.rec, "event", &c.dirty);
	}
	if (st == PW_OK) {
		st = pay_apply_session(&c);
	}
	if (c.rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(c.rec, NULL);
	}
	if (st == PW_OK && c.n_new_refs > 0 && depth < STORE_UNPARK_DEPTH_MAX) {
		st = pay_unpark(t, ev->provider, c.new_refs, c.n_new_refs, depth + 1);
	}
	if (st != PW_OK) {
		memset(out, 0, sizeof(*out));
	}
	return st;
}

pw_status
store_webhook_peek(store *s, const pw_event *ev, store_webhook_result *out)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && ev != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	st = pay_event_check(ev);
	if (st != PW_OK) {
		return st;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = pay_dedup(&t, ev, out);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		memset(out, 0, sizeof(*out));
	}
	return st;
}

/* ---- a merchant cancels ---- */

pw_status
store_session_cancel(store_txn *t, const char *merchant_id, const char *session_id,
    Paywire__Store__V1__SessionRecord **out, char *reason, size_t reason_size)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	pw_event ev;
	fsm_state before;
	fsm_result res;
	char detail[128];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && session_id != NULL && out != NULL);
	PW_ASSERT(reason != NULL && reason_size > 0);
	*out = NULL;
	reason[0] = '\0';
	st = store_session_load(t, session_id, &rec);
	if (st == PW_OK && strcmp(rec->session->merchant_id, merchant_id) != 0) {
		st = PW_NOT_FOUND; /* another merchant's: not told apart from none */
	}
	if (st == PW_OK) {
		st = store_session_state_load(rec, &before);
		if (st != PW_OK) {
			pw_log(PW_LOG_ERROR, "store: session %s: record fails the state machine's checks",
			    session_id);
			st = store_txn_note(t, st);
		}
	}
	if (st == PW_OK && store_session_due(rec, store_txn_now_ms(t))) {
		/* the sweep has not written it yet; nothing is written here either */
		snprintf(reason, reason_size, "session is expired (unpaid past its expires_at): "
		    "only a created or pending session can be canceled");
		st = PW_FAILED_PRECONDITION;
	} else if (st == PW_OK && before.status != ST_CREATED &&
	    before.status != PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PENDING) {
		snprintf(reason, reason_size, "session is %s: only a created or pending session "
		    "can be canceled", fsm_status_name(before.status));
		st = PW_FAILED_PRECONDITION;
	}
	if (st == PW_OK) {
		memset(&ev, 0, sizeof(ev));
		ev.provider = PW_PROVIDER_NONE;
		ev.kind = PW_EV_PAYMENT_CANCELED;
		ev.live = -1;
		fsm_apply(&before, &ev, store_txn_now_ms(t), &res);
		/* created/pending, no payment recorded: the closure applies, and
		 * its only effect is the audit record written below. */
		PW_ASSERT(res.outcome == FSM_APPLIED &&
		    res.state.status == PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CANCELED &&
		    (res.effects & ~(uint32_t) FSM_FX_AUDIT) == 0);
		rec->session->status = res.state.status;
		rec->session->payment_status = res.state.payment_status;
		rec->updated_at_unix_ms = store_txn_now_ms(t);
		snprintf(detail, sizeof(detail), "by=merchant status=%s->canceled",
		    fsm_status_name(before.status));
		st = store_audit_append(t, "session.canceled", merchant_id, session_id, detail);
	}
	if (st == PW_OK) {
		st = store_session_save(t, rec);
	}
	if (st != PW_OK) {
		if (rec != NULL) {
			paywire__store__v1__session_record__free_unpacked(rec, NULL);
		}
		return st;
	}
	store_session_view(rec, store_txn_now_ms(t)); /* expires_at as readers see it */
	*out = rec;
	return PW_OK;
}
