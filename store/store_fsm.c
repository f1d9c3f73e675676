/*
 * store_fsm.c - the session state machine (see store_fsm.h and
 * docs/STATE_MACHINE.md). Pure: no I/O, no clock, no allocation.
 *
 * Shape of fsm_apply: a handler per event kind updates the monotonic facts of
 * a copy of the state (or explains why it ignores the event); fsm_derive then
 * recomputes status, payment_status and entitlement from the facts; and
 * fsm_finish compares old and new to decide the effects. Because the status
 * is a function of facts that only grow, the order in which the facts arrive
 * does not change where the session ends.
 */
#include "store_fsm.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pw_common.h"

#define ST_UNSPECIFIED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_UNSPECIFIED
#define ST_CREATED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED
#define ST_PENDING PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PENDING
#define ST_PAID PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID
#define ST_FAILED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_FAILED
#define ST_EXPIRED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_EXPIRED
#define ST_CANCELED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CANCELED
#define ST_REFUNDED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_REFUNDED
#define ST_DISPUTED PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_DISPUTED
#define ST_COUNT 9 /* UNSPECIFIED..DISPUTED */

#define PS_UNPAID PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_UNPAID
#define PS_PROCESSING PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_PROCESSING
#define PS_COMPLETED PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_COMPLETED
#define PS_FAILED PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_FAILED
#define PS_PARTIAL PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_PARTIALLY_REFUNDED
#define PS_REFUNDED PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_REFUNDED
#define PS_DISPUTED PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_DISPUTED

_Static_assert(ST_UNSPECIFIED == 0 && ST_DISPUTED == ST_COUNT - 1,
    "the edge table covers every SessionStatus value");

/* The edges of DESIGN.md, and nothing else. Rows: from; columns: to. */
static const bool fsm_edges[ST_COUNT][ST_COUNT] = {
	[ST_CREATED] = {[ST_PENDING] = true, [ST_PAID] = true, [ST_FAILED] = true,
	    [ST_EXPIRED] = true, [ST_CANCELED] = true},
	[ST_PENDING] = {[ST_PAID] = true, [ST_FAILED] = true, [ST_EXPIRED] = true,
	    [ST_CANCELED] = true},
	/* A failed attempt is not the end: providers retry (Stripe keeps the
	 * PaymentIntent, Razorpay reports late captures), so failed -> pending is
	 * a retry being processed and failed -> paid is real money. */
	[ST_FAILED] = {[ST_PAID] = true, [ST_PENDING] = true, [ST_EXPIRED] = true,
	    [ST_CANCELED] = true},
	[ST_PAID] = {[ST_REFUNDED] = true, [ST_DISPUTED] = true},
	[ST_DISPUTED] = {[ST_PAID] = true, [ST_REFUNDED] = true},
	/* expired, canceled, refunded: terminal (all false). */
};

static bool
fsm_status_known(Paywire__Store__V1__SessionStatus st)
{
	return (int) st > (int) ST_UNSPECIFIED && (int) st < ST_COUNT;
}

bool
fsm_transition_allowed(Paywire__Store__V1__SessionStatus from, Paywire__Store__V1__SessionStatus to)
{
	if (!fsm_status_known(from) || !fsm_status_known(to)) {
		return false;
	}
	return fsm_edges[from][to];
}

const char *
fsm_status_name(Paywire__Store__V1__SessionStatus st)
{
	switch (st) {
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_UNSPECIFIED: return "unspecified";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED: return "created";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PENDING: return "pending";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID: return "paid";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_FAILED: return "failed";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_EXPIRED: return "expired";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CANCELED: return "canceled";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_REFUNDED: return "refunded";
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_DISPUTED: return "disputed";
	case _PAYWIRE__STORE__V1__SESSION_STATUS_IS_INT_SIZE: break;
	}
	return "unknown";
}

const char *
fsm_outcome_name(fsm_outcome o)
{
	switch (o) {
	case FSM_APPLIED: return "applied";
	case FSM_IGNORED: return "ignored";
	}
	return "unknown";
}

/* Every fsm_effect bit and its name, in bit order (the order they run). */
static const struct {
	uint32_t bit;     /* FSM_FX_* */
	const char *name; /* what fsm_effect_name answers for it */
} fsm_effects[] = {
	{ FSM_FX_RECORD_REFS, "record_refs" }, { FSM_FX_MARK_PAID, "mark_paid" },
	{ FSM_FX_INVOICE, "invoice" }, { FSM_FX_GRANT_ENTITLEMENT, "grant_entitlement" },
	{ FSM_FX_ACCESS_LINK, "access_link" }, { FSM_FX_RECORD_REFUND, "record_refund" },
	{ FSM_FX_REVOKE_ENTITLEMENT, "revoke_entitlement" }, { FSM_FX_ANOMALY, "anomaly" },
	{ FSM_FX_AUDIT, "audit" },
};

const char *
fsm_effect_name(uint32_t effect_bit)
{
	/* Not an enum switch: any uint32_t may come in, several bits too. */
	for (size_t i = 0; i < sizeof(fsm_effects) / sizeof(fsm_effects[0]); i++) {
		if (fsm_effects[i].bit == effect_bit) {
			return fsm_effects[i].name;
		}
	}
	return "unknown";
}

static const char *
fsm_dispute_name(fsm_dispute d)
{
	switch (d) {
	case FSM_DISPUTE_NONE: return "none";
	case FSM_DISPUTE_OPENED: return "opened";
	case FSM_DISPUTE_WON: return "won";
	case FSM_DISPUTE_LOST: return "lost";
	}
	return "unknown";
}

static bool
fsm_currency_ok(const char c[4])
{
	for (int i = 0; i < 3; i++) {
		if (c[i] < 'A' || c[i] > 'Z') {
			return false;
		}
	}
	return c[3] == '\0';
}

static bool
fsm_is_closed(Paywire__Store__V1__SessionStatus st)
{
	return st == ST_EXPIRED || st == ST_CANCELED;
}

/* payment_status is never stored independently: it is this function of the
 * status and the refund total. */
static Paywire__Store__V1__PaymentStatus
fsm_payment_status(Paywire__Store__V1__SessionStatus st, int64_t refunded_minor)
{
	switch (st) {
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PENDING: return PS_PROCESSING;
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_FAILED: return PS_FAILED;
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID:
		return refunded_minor > 0 ? PS_PARTIAL : PS_COMPLETED;
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_DISPUTED: return PS_DISPUTED;
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_REFUNDED: return PS_REFUNDED;
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED:
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_EXPIRED:
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CANCELED:
	case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_UNSPECIFIED:
	case _PAYWIRE__STORE__V1__SESSION_STATUS_IS_INT_SIZE: break;
	}
	return PS_UNPAID;
}

/* Recomputes what is derived from the facts. Unpaid statuses (created,
 * pending, failed, expired, canceled) are facts themselves and kept. */
static void
fsm_derive(fsm_state *n)
{
	if (n->paid_at_unix_ms > 0) {
		if (n->amount_refunded_minor >= n->amount_minor || n->dispute == FSM_DISPUTE_LOST) {
			n->status = ST_REFUNDED;
		} else if (n->dispute == FSM_DISPUTE_OPENED) {
			n->status = ST_DISPUTED;
		} else {
			n->status = ST_PAID; /* no dispute, or won */
		}
	}
	n->payment_status = fsm_payment_status(n->status, n->amount_refunded_minor);
	n->entitlement_active = n->paid_at_unix_ms > 0 && n->status != ST_REFUNDED;
}

void
fsm_state_init(fsm_state *s, int64_t amount_minor, const char *currency, bool live)
{
	PW_ASSERT(s != NULL && currency != NULL);
	PW_ASSERT(amount_minor > 0 && amount_minor <= PW_AMOUNT_MINOR_MAX);
	PW_ASSERT(strlen(currency) == 3);
	memset(s, 0, sizeof(*s));
	s->status = ST_CREATED;
	s->amount_minor = amount_minor;
	memcpy(s->currency, currency, 4);
	s->live = live;
	s->dispute = FSM_DISPUTE_NONE;
	s->paid_provider = PW_PROVIDER_NONE;
	fsm_derive(s);
	PW_ASSERT(fsm_currency_ok(s->currency));
}

bool
fsm_state_valid(const fsm_state *s)
{
	fsm_state d;
	bool paid_status;

	if (s == NULL || !fsm_status_known(s->status)) {
		return false;
	}
	if (s->amount_minor <= 0 || s->amount_minor > PW_AMOUNT_MINOR_MAX ||
	    !fsm_currency_ok(s->currency)) {
		return false;
	}
	if (s->amount_refunded_minor < 0 || s->amount_refunded_minor > s->amount_minor ||
	    s->dispute < FSM_DISPUTE_NONE || s->dispute > FSM_DISPUTE_LOST ||
	    s->paid_at_unix_ms < 0 || s->attempt_unix_s < 0 ||
	    (s->paid_provider != PW_PROVIDER_NONE && !pw_provider_known(s->paid_provider)) ||
	    memchr(s->paid_ref, '\0', sizeof(s->paid_ref)) == NULL) {
		return false;
	}
	paid_status = s->status == ST_PAID || s->status == ST_DISPUTED || s->status == ST_REFUNDED;
	if (paid_status != (s->paid_at_unix_ms > 0)) {
		return false;
	}
	if (!paid_status && (s->paid_provider != PW_PROVIDER_NONE || s->paid_ref[0] != '\0')) {
		return false;
	}
	if (s->status == ST_CREATED && s->attempt_unix_s != 0) {
		return false; /* an applied attempt leaves created */
	}
	d = *s;
	fsm_derive(&d);
	return d.status == s->status && d.payment_status == s->payment_status &&
	    d.entitlement_active == s->entitlement_active;
}

/* ---- event handlers: each returns true when it changed a fact of *n ---- */

__attribute__((format(printf, 3, 4))) static bool
fsm_ignore(fsm_result *out, bool anomaly, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
	if (anomaly) {
		out->effects |= FSM_FX_ANOMALY;
	}
	return false;
}

/* PENDING / FAILED: the latest attempt wins, by provider time, then
 * failed > pending for the same second (a pending attempt that failed is the
 * usual order within one second). Max is commutative: order-free. */
static bool
fsm_on_attempt(fsm_state *n, const pw_event *ev, fsm_result *out)
{
	bool failed = ev->kind == PW_EV_PAYMENT_FAILED;
	int64_t t = ev->event_unix_s > 0 ? ev->event_unix_s : 0;
	int rank = failed ? 2 : 1;
	int cur_rank = n->status == ST_FAILED ? 2 : (n->status == ST_PENDING ? 1 : 0);

	if (n->paid_at_unix_ms > 0) {
		return fsm_ignore(out, false, "stale: payment %s after the payment was recorded",
		    failed ? "failure" : "pending");
	}
	if (fsm_is_closed(n->status)) {
		return fsm_ignore(out, false, "stale: session already %s", fsm_status_name(n->status));
	}
	if (t < n->attempt_unix_s || (t == n->attempt_unix_s && rank <= cur_rank)) {
		return fsm_ignore(out, false, "stale: a later payment attempt is already recorded (%s)",
		    fsm_status_name(n->status));
	}
	n->status = failed ? ST_FAILED : ST_PENDING;
	n->attempt_unix_s = t;
	return true;
}

static bool
fsm_on_success(fsm_state *n, const pw_event *ev, int64_t now_unix_ms, fsm_result *out)
{
	if (!ev->has_amount) {
		return fsm_ignore(out, true, "payment carries no amount: not marked paid");
	}
	if (ev->amount_minor != n->amount_minor || strcmp(ev->currency, n->currency) != 0) {
		return fsm_ignore(out, true,
		    "payment of %" PRId64 " %s (minor units) differs from the session's %" PRId64
		    " %s: not marked paid",
		    ev->amount_minor, ev->currency, n->amount_minor, n->currency);
	}
	if (fsm_is_closed(n->status)) {
		return fsm_ignore(out, true, "payment for a session already %s: money moved, not marked paid",
		    fsm_status_name(n->status));
	}
	if (n->paid_at_unix_ms > 0) {
		bool other_ref = ev->payment_ref[0] != '\0' && n->paid_ref[0] != '\0' &&
		    strcmp(ev->payment_ref, n->paid_ref) != 0;
		if (other_ref || ev->provider != n->paid_provider) {
			return fsm_ignore(out, true,
			    "second payment %s for a session already paid by %s: not applied",
			    ev->payment_ref[0] != '\0' ? ev->payment_ref : "(no ref)",
			    n->paid_ref[0] != '\0' ? n->paid_ref : "(no ref)");
		}
		return fsm_ignore(out, false, "payment already recorded");
	}
	n->paid_at_unix_ms = now_unix_ms;
	n->paid_provider = ev->provider;
	(void) pw_strlcpy(n->paid_ref, ev->payment_ref, sizeof(n->paid_ref));
	return true;
}

static bool
fsm_on_closure(fsm_state *n, const pw_event *ev, fsm_result *out)
{
	bool expired = ev->kind == PW_EV_SESSION_EXPIRED;

	if (n->paid_at_unix_ms > 0) {
		return fsm_ignore(out, false, "stale: %s after the payment was recorded",
		    expired ? "expiry" : "cancellation");
	}
	if (fsm_is_closed(n->status)) {
		return fsm_ignore(out, false, "session already %s", fsm_status_name(n->status));
	}
	n->status = expired ? ST_EXPIRED : ST_CANCELED;
	return true;
}

/* Providers report the cumulative refunded total: keep the maximum, so a
 * total reported twice (or late) is never added twice. */
static bool
fsm_on_refund(fsm_state *n, const pw_event *ev, fsm_result *out)
{
	int64_t total = ev->amount_refunded_minor;

	if (total <= 0) {
		return fsm_ignore(out, false, "refund carries no refunded total");
	}
	if (ev->has_amount && strcmp(ev->currency, n->currency) != 0) {
		return fsm_ignore(out, true, "refund in %s for a session in %s: not applied",
		    ev->currency, n->currency);
	}
	if (total > n->amount_minor) {
		return fsm_ignore(out, true,
		    "refund total %" PRId64 " exceeds the session amount %" PRId64 ": not applied",
		    total, n->amount_minor);
	}
	if (total <= n->amount_refunded_minor) {
		return fsm_ignore(out, false, "refund total %" PRId64 " already recorded (%" PRId64 ")",
		    total, n->amount_refunded_minor);
	}
	n->amount_refunded_minor = total;
	return true;
}

static bool
fsm_on_dispute(fsm_state *n, const pw_event *ev, fsm_result *out)
{
	fsm_dispute d = ev->kind == PW_EV_DISPUTE_OPENED ? FSM_DISPUTE_OPENED
	    : ev->kind == PW_EV_DISPUTE_WON              ? FSM_DISPUTE_WON
	                                                 : FSM_DISPUTE_LOST;

	if (d <= n->dispute) {
		return fsm_ignore(out, false, "dispute already %s", fsm_dispute_name(n->dispute));
	}
	n->dispute = d;
	return true;
}

/* A money event is one whose mode mismatch is an anomaly for an operator. */
static bool
fsm_moves_money(pw_event_kind k)
{
	return k == PW_EV_PAYMENT_SUCCEEDED || k == PW_EV_REFUND || k == PW_EV_DISPUTE_OPENED ||
	    k == PW_EV_DISPUTE_WON || k == PW_EV_DISPUTE_LOST;
}

static bool
fsm_dispatch(fsm_state *n, const pw_event *ev, int64_t now_unix_ms, fsm_result *out)
{
	if (ev->live != -1 && (ev->live == 1) != n->live) {
		return fsm_ignore(out, fsm_moves_money(ev->kind), "%s-mode event for a %s-mode session",
		    ev->live == 1 ? "live" : "test", n->live ? "live" : "test");
	}
	switch (ev->kind) {
	case PW_EV_PAYMENT_PENDING:
	case PW_EV_PAYMENT_FAILED: return fsm_on_attempt(n, ev, out);
	case PW_EV_PAYMENT_SUCCEEDED: return fsm_on_success(n, ev, now_unix_ms, out);
	case PW_EV_SESSION_EXPIRED:
	case PW_EV_PAYMENT_CANCELED: return fsm_on_closure(n, ev, out);
	case PW_EV_REFUND: return fsm_on_refund(n, ev, out);
	case PW_EV_DISPUTE_OPENED:
	case PW_EV_DISPUTE_WON:
	case PW_EV_DISPUTE_LOST: return fsm_on_dispute(n, ev, out);
	case PW_EV_IGNORED:
	/* A subscription's events move its entitlement (store_subscription.c),
	 * never a session's status. */
	case PW_EV_SUBSCRIPTION_PAID:
	case PW_EV_SUBSCRIPTION_PAST_DUE:
	case PW_EV_SUBSCRIPTION_ENDED: break;
	}
	return fsm_ignore(out, false, "event type \"%s\" does not change a session",
	    ev->event_type[0] != '\0' ? ev->event_type : "(none)");
}

/* ---- outcome ---- */

static void
fsm_path(Paywire__Store__V1__SessionStatus from, Paywire__Store__V1__SessionStatus to, fsm_result *out)
{
	out->path[0] = from;
	out->path_len = 1;
	if (from == to) {
		return;
	}
	if (!fsm_transition_allowed(from, to)) {
		/* An unpaid session whose payment lands after its refund or
		 * dispute: it is paid, then refunded/disputed, in one event. */
		PW_ASSERT(fsm_transition_allowed(from, ST_PAID));
		PW_ASSERT(fsm_transition_allowed(ST_PAID, to));
		out->path[out->path_len++] = ST_PAID;
	}
	out->path[out->path_len++] = to;
}

static const char *
fsm_audit_action(const fsm_state *s, const fsm_state *n)
{
	if (s->paid_at_unix_ms == 0 && n->paid_at_unix_ms > 0) {
		return "session.paid";
	}
	if (s->status != n->status) {
		if (s->status == ST_DISPUTED && n->status == ST_PAID) {
			return "session.dispute_won";
		}
		switch (n->status) {
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PENDING: return "session.pending";
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_FAILED: return "session.failed";
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_EXPIRED: return "session.expired";
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CANCELED: return "session.canceled";
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_REFUNDED: return "session.refunded";
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_DISPUTED: return "session.disputed";
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID:
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED:
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_UNSPECIFIED:
		case _PAYWIRE__STORE__V1__SESSION_STATUS_IS_INT_SIZE: break;
		}
		PW_ASSERT(!"no other status is reached by a change");
	}
	if (s->amount_refunded_minor != n->amount_refunded_minor) {
		return n->paid_at_unix_ms > 0 ? "session.partially_refunded" : "session.refund_recorded";
	}
	if (s->dispute != n->dispute) {
		return "session.dispute_recorded";
	}
	return "session.attempt_recorded";
}

static void
fsm_finish(const fsm_state *s, const fsm_state *n, bool applied, fsm_result *out)
{
	if (!applied) {
		out->state = *s;
		out->outcome = FSM_IGNORED;
		fsm_path(s->status, s->status, out);
		if ((out->effects & FSM_FX_ANOMALY) != 0) {
			out->effects |= FSM_FX_AUDIT;
			out->audit_action = "session.anomaly";
		}
		PW_ASSERT(out->reason[0] != '\0');
		return;
	}
	out->state = *n;
	out->outcome = FSM_APPLIED;
	fsm_path(s->status, n->status, out);
	if (s->paid_at_unix_ms == 0 && n->paid_at_unix_ms > 0) {
		out->effects |= FSM_FX_MARK_PAID | FSM_FX_INVOICE | FSM_FX_ACCESS_LINK;
	}
	if (!s->entitlement_active && n->entitlement_active) {
		out->effects |= FSM_FX_GRANT_ENTITLEMENT;
	}
	if (s->entitlement_active && !n->entitlement_active) {
		out->effects |= FSM_FX_REVOKE_ENTITLEMENT;
	}
	if (s->amount_refunded_minor != n->amount_refunded_minor) {
		out->effects |= FSM_FX_RECORD_REFUND;
	}
	out->effects |= FSM_FX_AUDIT;
	out->audit_action = fsm_audit_action(s, n);
	PW_ASSERT((out->effects & FSM_FX_ANOMALY) == 0);
}

static bool
fsm_event_has_ref(const pw_event *ev)
{
	return ev->payment_ref[0] != '\0' || ev->charge_ref[0] != '\0' || ev->order_ref[0] != '\0' ||
	    ev->subscription_ref[0] != '\0';
}

void
fsm_apply(const fsm_state *s, const pw_event *ev, int64_t now_unix_ms, fsm_result *out)
{
	fsm_state n;
	bool applied;

	PW_ASSERT(s != NULL && ev != NULL && out != NULL);
	PW_ASSERT(now_unix_ms > 0);
	PW_ASSERT(fsm_state_valid(s));
	PW_ASSERT(ev->live >= -1 && ev->live <= 1);
	PW_ASSERT(ev->provider == PW_PROVIDER_NONE || pw_provider_known(ev->provider));
	/* pw_event's strings are NUL-terminated by contract (pw_event.h). */
	PW_ASSERT(memchr(ev->event_type, '\0', sizeof(ev->event_type)) != NULL);
	PW_ASSERT(memchr(ev->currency, '\0', sizeof(ev->currency)) != NULL);
	PW_ASSERT(memchr(ev->payment_ref, '\0', sizeof(ev->payment_ref)) != NULL);

	memset(out, 0, sizeof(*out));
	if (fsm_event_has_ref(ev)) {
		out->effects |= FSM_FX_RECORD_REFS;
	}
	n = *s;
	applied = fsm_dispatch(&n, ev, now_unix_ms, out);
	fsm_derive(&n);
	fsm_finish(s, &n, applied, out);
	PW_ASSERT(fsm_state_valid(&out->state));
}
