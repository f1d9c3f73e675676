/*
 * store_subscription.c - a subscription's events move the entitlement its
 * checkout granted (docs/PAYMENTS.md "Subscriptions"), and a merchant lists
 * a customer's entitlements (GetEntitlements).
 *
 * A session sold as a subscription (Fulfillment.subscription, ACCESS_KEY
 * only) is paid by its checkout like any other: the checkout's event records
 * the provider's subscription id (sub_…) as one of the session's refs, and
 * the entitlement is granted then. The provider's later events name the
 * subscription, not the session:
 *
 *   PW_EV_SUBSCRIPTION_PAID     period end extended to the invoice's, state
 *                               active again (audit entitlement.extended)
 *   PW_EV_SUBSCRIPTION_PAST_DUE state past_due: the key is not valid until a
 *                               payment succeeds (audit entitlement.past_due)
 *   PW_EV_SUBSCRIPTION_ENDED    the session's hold is released; with no paid
 *                               session left holding it the entitlement is
 *                               canceled and its key revoked (audit
 *                               entitlement.revoked)
 *
 * None changes the session's status: the checkout's payment stands. Every
 * change is written with its audit record and the event record in the
 * caller's nested transaction; a redelivery is a DUPLICATE (the events
 * table, store_payment.c). Periods only grow: an invoice for a period that
 * is already covered (the subscription's first invoice after its checkout,
 * a late or reordered event) changes nothing and is recorded IGNORED with
 * the reason, so nothing is granted twice.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OUTCOME_APPLIED PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED
#define OUTCOME_IGNORED PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED
#define ENT_ACTIVE PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE
#define ENT_PAST_DUE PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_PAST_DUE
#define ENT_CANCELED PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_CANCELED

/* refs key: provider byte + ref (store_payment.c's layout). */
#define SUB_REF_KEY_BYTES (1 + PW_EV_REF_BYTES)
/* Entitlement ids ("ent_" + pw_id_new) fit the results' id buffers. */
#define SUB_ENT_ID_BYTES STORE_RESULT_ID_BYTES
/* Audit detail: event, entitlement, states, period. */
#define SUB_DETAIL_BYTES 1536

_Static_assert(SUB_REF_KEY_BYTES <= STORE_KEY_BYTES_MAX, "a refs key fits");

/* One subscription event being applied. */
typedef struct sub_ctx {
	store_txn *t;                                  /* the caller's nested txn */
	const pw_event *ev;                            /* the verified event */
	store_webhook_result *out;                     /* the answer being built */
	Paywire__Store__V1__SessionRecord *rec;        /* the session that sold it */
	Paywire__Store__V1__EntitlementRecord *e;      /* its entitlement, once loaded */
	bool applied;                                  /* something changed (APPLIED) */
	bool rec_dirty;                                /* rec must be written */
	const char *action;                            /* audit action when applied */
	char reason[sizeof(((store_webhook_result *) 0)->reason)]; /* what happened / why not */
} sub_ctx;

static const char *
sub_kind_name(pw_event_kind k)
{
	switch (k) {
	case PW_EV_SUBSCRIPTION_PAID: return "paid";
	case PW_EV_SUBSCRIPTION_PAST_DUE: return "past_due";
	case PW_EV_SUBSCRIPTION_ENDED: return "ended";
	default: return "?";
	}
}

/* Session id for ev: session_ref, else the subscription ref recorded at its
 * checkout. PW_NOT_FOUND: neither names a session of ours. */
static pw_status
sub_resolve(store_txn *t, const pw_event *ev, char *sid, size_t sid_size)
{
	uint8_t key[SUB_REF_KEY_BYTES];
	size_t rlen = strlen(ev->subscription_ref);
	size_t len = 0;
	pw_status st;

	sid[0] = '\0';
	if (ev->session_ref[0] != '\0') {
		return pw_strlcpy(sid, ev->session_ref, sid_size) ? PW_OK : PW_NOT_FOUND;
	}
	if (rlen == 0) {
		return PW_NOT_FOUND;
	}
	PW_ASSERT(rlen < PW_EV_REF_BYTES);
	key[0] = (uint8_t) ev->provider;
	memcpy(key + 1, ev->subscription_ref, rlen);
	st = store_raw_get(t, STORE_DB_REFS, key, rlen + 1, sid, sid_size - 1, &len);
	if (st == PW_OK) {
		sid[len] = '\0';
	}
	return st;
}

static void sub_ignore(sub_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Notes why nothing changes (the event is recorded IGNORED with it). */
static void
sub_ignore(sub_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
}

/* Why the session's entitlement cannot move, or "" when it can: c->e loaded. */
static pw_status
sub_check(sub_ctx *c)
{
	const Paywire__Store__V1__Session *sess = c->rec->session;
	const Paywire__Store__V1__Fulfillment *f = sess->fulfillment;
	bool live = sess->mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE;
	pw_status st;

	if (f == NULL || !f->subscription ||
	    f->kind != PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY) {
		sub_ignore(c, "session %s sells no subscription", sess->id);
		return PW_OK;
	}
	if (c->ev->live != -1 && (c->ev->live == 1) != live) {
		sub_ignore(c, "%s", c->ev->live == 1 ? "live-mode event for a test-mode session"
		                                      : "test-mode event for a live-mode session");
		return PW_OK;
	}
	if (c->rec->access_key_id[0] == '\0') {
		return PW_OK; /* not paid yet: sub_unpaid decides */
	}
	st = store_entitlement_load(c->t, c->rec->access_key_id, &c->e);
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_ERROR, "store: session %s names missing entitlement %s", sess->id,
		    c->rec->access_key_id);
		st = store_txn_note(c->t, PW_INTERNAL); /* a session names only a written one */
	}
	return st;
}

/* The session is not paid yet (its checkout event has not come): a paid
 * invoice's period is kept on the session for the grant; anything else
 * waits for nothing. */
static pw_status
sub_unpaid(sub_ctx *c)
{
	int64_t end_ms = c->ev->period_end_unix_s * 1000;

	if (c->ev->kind != PW_EV_SUBSCRIPTION_PAID || end_ms <= 0) {
		sub_ignore(c, "session %s is not paid: it holds no entitlement yet",
		    c->rec->session->id);
		return PW_OK;
	}
	if (end_ms <= c->rec->subscription_period_end_unix_ms) {
		sub_ignore(c, "%s", "period already recorded for the grant");
		return PW_OK;
	}
	c->rec->subscription_period_end_unix_ms = end_ms;
	c->rec_dirty = true;
	c->applied = true;
	c->action = "subscription.period_recorded";
	snprintf(c->reason, sizeof(c->reason),
	    "period end %" PRId64 " kept for the grant at payment", end_ms);
	return PW_OK;
}

static void
sub_on_paid(sub_ctx *c, int64_t end_ms)
{
	Paywire__Store__V1__EntitlementRecord *e = c->e;
	Paywire__Store__V1__EntitlementState was = store_entitlement_state(e);

	if (end_ms > c->rec->subscription_period_end_unix_ms) {
		c->rec->subscription_period_end_unix_ms = end_ms;
		c->rec_dirty = true;
	}
	if (end_ms > e->current_period_end_unix_ms) {
		e->current_period_end_unix_ms = end_ms;
	} else if (was == ENT_PAST_DUE && end_ms == 0) {
		/* no period in the invoice: it paid what was due all the same */
	} else {
		snprintf(c->reason, sizeof(c->reason),
		    "period already covered until %" PRId64 " (%s): nothing granted twice",
		    e->current_period_end_unix_ms,
		    c->ev->billing_reason[0] != '\0' ? c->ev->billing_reason : "no billing_reason");
		return;
	}
	e->state = ENT_ACTIVE;
	e->subscription = true;
	c->applied = true;
	c->action = "entitlement.extended";
	snprintf(c->reason, sizeof(c->reason), "entitlement %s %s -> active, until %" PRId64, e->id,
	    store_entitlement_state_name(was), e->current_period_end_unix_ms);
}

static void
sub_on_past_due(sub_ctx *c, int64_t end_ms)
{
	Paywire__Store__V1__EntitlementRecord *e = c->e;

	if (end_ms > 0 && end_ms <= e->current_period_end_unix_ms) {
		snprintf(c->reason, sizeof(c->reason),
		    "the failed invoice's period (until %" PRId64 ") is already paid", end_ms);
		return;
	}
	if (store_entitlement_state(e) == ENT_PAST_DUE) {
		sub_ignore(c, "entitlement %s is already past_due", e->id);
		return;
	}
	e->state = ENT_PAST_DUE;
	c->applied = true;
	c->action = "entitlement.past_due";
	snprintf(c->reason, sizeof(c->reason), "entitlement %s active -> past_due", e->id);
}

static pw_status
sub_on_ended(sub_ctx *c)
{
	bool ended = false;
	pw_status st;

	/* store_entitlement_release writes e itself */
	st = store_entitlement_release(c->t, c->rec->session, c->e, ENT_CANCELED, &ended);
	if (st != PW_OK) {
		return st;
	}
	c->applied = true;
	if (ended) {
		c->action = "entitlement.revoked";
		snprintf(c->reason, sizeof(c->reason),
		    "subscription ended: entitlement %s canceled, its key revoked", c->e->id);
	} else {
		c->action = "entitlement.released";
		snprintf(c->reason, sizeof(c->reason),
		    "subscription ended: entitlement %s kept, held by %zu other paid session(s)",
		    c->e->id, c->e->n_holder_session_ids);
	}
	return PW_OK;
}

/* The entitlement's move for a paid session holding it. */
static pw_status
sub_move(sub_ctx *c)
{
	int64_t end_ms = c->ev->period_end_unix_s * 1000;

	if (!c->e->active) {
		snprintf(c->reason, sizeof(c->reason), "entitlement %s is %s", c->e->id,
		    store_entitlement_state_name(store_entitlement_state(c->e)));
		return PW_OK;
	}
	if (!store_entitlement_holds(c->e, c->rec->session->id)) {
		sub_ignore(c, "session %s no longer holds the entitlement (refunded or ended)",
		    c->rec->session->id);
		return PW_OK;
	}
	switch (c->ev->kind) {
	case PW_EV_SUBSCRIPTION_PAID: sub_on_paid(c, end_ms); break;
	case PW_EV_SUBSCRIPTION_PAST_DUE: sub_on_past_due(c, end_ms); break;
	case PW_EV_SUBSCRIPTION_ENDED: return sub_on_ended(c);
	default: PW_ASSERT(!"not a subscription event");
	}
	return c->applied ? store_entitlement_save(c->t, c->e) : PW_OK;
}

static pw_status
sub_audit(sub_ctx *c)
{
	const pw_event *ev = c->ev;
	char detail[SUB_DETAIL_BYTES];

	snprintf(detail, sizeof(detail),
	    "event=%s:%s type=%s subscription=%s billing_reason=%s amount=%" PRId64 " %s "
	    "period_end=%" PRId64 " entitlement=%s state=%s: %s",
	    pw_provider_name(ev->provider), ev->event_id, ev->event_type,
	    ev->subscription_ref[0] != '\0' ? ev->subscription_ref : "-",
	    ev->billing_reason[0] != '\0' ? ev->billing_reason : "-",
	    ev->has_amount ? ev->amount_minor : 0, ev->currency, ev->period_end_unix_s * 1000,
	    c->e != NULL ? c->e->id : "-",
	    c->e != NULL ? store_entitlement_state_name(store_entitlement_state(c->e)) : "-",
	    c->reason);
	return store_audit_append(c->t, c->action, c->rec->session->merchant_id,
	    c->rec->session->id, detail);
}

/* The subscription's first invoice is what its checkout paid: its
 * payment_intent and charge become the session's refs, so a refund or a
 * dispute of that payment (charge.refunded names only them) finds the
 * session. Later invoices' payments are the subscription's, not the
 * session's: not recorded. */
static pw_status
sub_first_payment_refs(sub_ctx *c)
{
	const char *refs[] = { c->ev->payment_ref, c->ev->charge_ref };
	char owner[PW_SESSION_ID_BYTES_MAX];
	pw_status st = PW_OK;

	if (c->ev->kind != PW_EV_SUBSCRIPTION_PAID ||
	    strcmp(c->ev->billing_reason, "subscription_create") != 0) {
		return PW_OK;
	}
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && st == PW_OK; i++) {
		bool added = false;
		st = store_session_ref_record(c->t, c->rec, c->ev->provider, refs[i], owner,
		    sizeof(owner), &added);
		c->rec_dirty = c->rec_dirty || added;
		if (st == PW_OK && owner[0] != '\0' && strcmp(owner, c->rec->session->id) != 0) {
			pw_log(PW_LOG_WARN, "store: %s ref %s of subscription %s already belongs to "
			    "session %s: not re-pointed", pw_provider_name(c->ev->provider), refs[i],
			    c->ev->subscription_ref, owner);
		}
	}
	return st;
}

/* Decides and writes for a loaded session. */
static pw_status
sub_apply_session(sub_ctx *c)
{
	pw_status st;

	st = sub_check(c);
	if (st != PW_OK || c->reason[0] != '\0') {
		return st;
	}
	st = sub_first_payment_refs(c);
	if (st == PW_OK) {
		st = c->e == NULL ? sub_unpaid(c) : sub_move(c);
	}
	if (st == PW_OK && c->applied) {
		PW_ASSERT(c->action != NULL);
		st = sub_audit(c);
	}
	if (st == PW_OK && c->rec_dirty) {
		st = store_session_save(c->t, c->rec);
	}
	return st;
}

pw_status
store_subscription_apply(store_txn *t, const pw_event *ev, store_webhook_result *out)
{
	sub_ctx c;
	pw_status st;

	PW_ASSERT(t != NULL && ev != NULL && out != NULL);
	PW_ASSERT(ev->kind >= PW_EV_SUBSCRIPTION_PAID && ev->kind <= PW_EV_KIND_LAST);
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.ev = ev;
	c.out = out;
	st = sub_resolve(t, ev, out->session_id, sizeof(out->session_id));
	if (st == PW_NOT_FOUND && ev->session_ref[0] == '\0') {
		/* not ours, or its checkout event has not come yet */
		snprintf(c.reason, sizeof(c.reason),
		    "unknown subscription %s: no paywire session recorded it (its checkout event "
		    "has not been applied, or another integration's)",
		    ev->subscription_ref[0] != '\0' ? ev->subscription_ref : "(none)");
		out->outcome = OUTCOME_IGNORED;
		(void) pw_strlcpy(out->reason, c.reason, sizeof(out->reason));
		return store_webhook_event_put(t, ev, OUTCOME_IGNORED, "", c.reason);
	}
	if (st == PW_OK) {
		st = store_session_load(t, out->session_id, &c.rec);
	}
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_WARN, "store: %s subscription event %s names unknown session %s",
		    pw_provider_name(ev->provider), ev->event_id, out->session_id);
	}
	if (st == PW_OK) {
		st = sub_apply_session(&c);
	}
	if (st == PW_OK) {
		PW_ASSERT(c.reason[0] != '\0');
		st = store_webhook_event_put(t, ev, c.applied ? OUTCOME_APPLIED : OUTCOME_IGNORED,
		    c.rec->session->id, c.reason);
	}
	if (st == PW_OK) {
		out->outcome = c.applied ? OUTCOME_APPLIED : OUTCOME_IGNORED;
		out->session_status = c.rec->session->status;
		(void) pw_strlcpy(out->reason, c.reason, sizeof(out->reason));
		if (c.e != NULL) {
			(void) pw_strlcpy(out->access_key_id, c.e->id, sizeof(out->access_key_id));
		}
		pw_log(PW_LOG_INFO, "store: %s subscription %s event %s on session %s: %s",
		    pw_provider_name(ev->provider), sub_kind_name(ev->kind), ev->event_id,
		    c.rec->session->id, c.reason);
	}
	if (c.e != NULL) {
		paywire__store__v1__entitlement_record__free_unpacked(c.e, NULL);
	}
	if (c.rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(c.rec, NULL);
	}
	return st;
}

/* ---- GetEntitlements ---- */

typedef struct sub_list_walk {
	store_txn *t;
	const uint8_t *prefix;                          /* merchant 0x00 customer 0x00 */
	size_t prefix_len;
	const char *skip;                               /* the cursor's id: skipped */
	size_t limit;
	Paywire__Store__V1__EntitlementRecord **out;    /* limit slots */
	size_t n;
	bool more;
} sub_list_walk;

static pw_status
sub_list_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	sub_list_walk *w = arg;
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	char id[SUB_ENT_ID_BYTES];
	size_t ilen;
	pw_status st;

	(void) val;
	if (key.len <= w->prefix_len || memcmp(key.data, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP; /* past the customer's range */
		return PW_OK;
	}
	ilen = key.len - w->prefix_len;
	if (ilen >= sizeof(id)) {
		pw_log(PW_LOG_ERROR, "store: customer_ents entry with a %zu-byte id", ilen);
		return PW_INTERNAL;
	}
	memcpy(id, (const uint8_t *) key.data + w->prefix_len, ilen);
	id[ilen] = '\0';
	if (w->skip != NULL && strcmp(id, w->skip) == 0) {
		return PW_OK;
	}
	if (w->n == w->limit) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	st = store_entitlement_load(w->t, id, &e);
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_ERROR, "store: customer_ents names missing entitlement %s", id);
		return PW_INTERNAL;
	}
	if (st != PW_OK) {
		return st;
	}
	/* the state as of this read (LAPSED is never stored) */
	e->state = store_entitlement_state_at(e, w->t->now_ms);
	/* the listing never carries key material */
	if (e->sealed_key.data != NULL) {
		sodium_memzero(e->sealed_key.data, e->sealed_key.len);
	}
	e->sealed_key.len = 0;
	e->key_hash.len = 0;
	w->out[w->n++] = e;
	return PW_OK;
}

void
store_entitlement_list_free(Paywire__Store__V1__EntitlementRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		if (list[i] != NULL) {
			paywire__store__v1__entitlement_record__free_unpacked(list[i], NULL);
		}
	}
	pw_free(list);
}

pw_status
store_entitlements_list(store *s, const char *merchant_id, const char *customer,
    const char *starting_after, size_t limit, Paywire__Store__V1__EntitlementRecord ***out,
    size_t *n_out, bool *has_more)
{
	uint8_t start[STORE_KEY_BYTES_MAX];
	size_t plen = 0;
	size_t slen;
	size_t alen;
	sub_list_walk w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && customer != NULL && out != NULL);
	PW_ASSERT(n_out != NULL && has_more != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	alen = starting_after != NULL ? strlen(starting_after) : 0;
	if (limit == 0 || limit > PW_LIST_LIMIT_MAX || customer[0] == '\0' ||
	    strlen(customer) > PW_EMAIL_BYTES_MAX || alen >= SUB_ENT_ID_BYTES ||
	    !store_key_join(start, sizeof(start), merchant_id, customer, &plen) ||
	    plen + 1 + alen > sizeof(start)) {
		return PW_INVALID_ARGUMENT;
	}
	start[plen++] = 0x00;
	memcpy(start + plen, starting_after, alen);
	slen = plen + alen;
	memset(&w, 0, sizeof(w));
	w.prefix = start;
	w.prefix_len = plen;
	w.skip = alen > 0 ? starting_after : NULL;
	w.limit = limit;
	w.out = pw_calloc(limit, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		w.t = &t;
		st = store_scan(&t, STORE_DB_CUSTOMER_ENTS, (kv_val){ .data = start, .len = slen },
		    sub_list_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_entitlement_list_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	*has_more = w.more;
	return PW_OK;
}
