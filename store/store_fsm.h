/*
 * store_fsm.h - the session state machine: a pure core
 * (state, event, now) -> (new state, effects). See docs/STATE_MACHINE.md.
 *
 * OWNS
 * The transition table of a payment session (DESIGN.md "State machine") and
 * the rules that turn one verified provider event (pw_event) into a new
 * session state plus a set of effects. It does no I/O, takes the clock as an
 * argument, allocates nothing and keeps no global mutable state: the store's
 * writer executes the effects in its write transaction, and a model checker
 * can feed it every ordering of events (tests/store_fsm_order_test.c).
 *
 * THREADS
 * Every function is pure and reentrant: any thread, concurrently.
 *
 * LIFETIMES
 * All structs are plain data in caller memory; no pointer in them refers to
 * anything but static strings (fsm_result.audit_action).
 *
 * MONOTONIC FACTS (why delivery order does not matter)
 * fsm_state keeps facts that only ever grow: whether a payment was recorded
 * (paid_at_unix_ms), the highest cumulative refund total seen, the dispute
 * progress none < opened < won < lost, the latest payment attempt by provider
 * time, and whether the session was closed (expired/canceled) before it was
 * paid. The visible status is derived from those facts after every event, so
 * a refund or dispute that arrives before its payment is remembered and
 * applied when the payment lands. Two events of a consistent set that do not
 * commute are excluded by definition (see docs/STATE_MACHINE.md): a closure
 * (expired/canceled) together with a success, and two different closures.
 *
 * WHAT THE STORE MUST PERSIST
 * Every field of fsm_state (SessionRecord holds most of them; dispute,
 * attempt_unix_s and paid_ref need their own fields, see the docs).
 * Records read from disk must pass fsm_state_valid() before fsm_apply().
 */
#ifndef STORE_FSM_H
#define STORE_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_event.h"
#include "paywire/store/v1/store.pb-c.h"

/* Longest reason string, NUL included (matches store_webhook_result.reason). */
#define FSM_REASON_BYTES 256
/* Statuses on a path: from, at most one intermediate (paid), to. */
#define FSM_PATH_MAX 3

/* Dispute progress. Ordered: a fact only moves to a higher value, so the
 * last word on a dispute is the highest one ever reported (lost > won: a
 * contradictory pair keeps the conservative answer). */
typedef enum fsm_dispute {
	FSM_DISPUTE_NONE = 0,   /* no dispute reported */
	FSM_DISPUTE_OPENED = 1, /* a chargeback is open: session disputed */
	FSM_DISPUTE_WON = 2,    /* the merchant won: the money stays, session paid */
	FSM_DISPUTE_LOST = 3,   /* the money went back: session refunded */
} fsm_dispute;

/* Everything the decision needs about one session. */
typedef struct fsm_state {
	Paywire__Store__V1__SessionStatus status;          /* CREATED..DISPUTED, never UNSPECIFIED */
	Paywire__Store__V1__PaymentStatus payment_status;  /* derived from status and refunds */
	int64_t amount_minor;                       /* session amount, 1..PW_AMOUNT_MINOR_MAX */
	char currency[4];                           /* ISO 4217, upper case, NUL-terminated */
	bool live;                                  /* true: live mode, false: test mode */
	int64_t amount_refunded_minor;              /* highest cumulative refund seen, 0..amount_minor */
	fsm_dispute dispute;                        /* highest dispute progress seen */
	int64_t paid_at_unix_ms;                    /* when the payment was recorded; 0: none */
	pw_provider paid_provider;                  /* provider of the recorded payment; NONE if none */
	char paid_ref[PW_EV_REF_BYTES];             /* payment_ref of the recorded payment; "" unknown */
	int64_t attempt_unix_s;                     /* provider time of the latest pending/failed
	                                               attempt applied; 0 none or unknown */
	bool entitlement_active;                    /* what the session sold is granted and live */
} fsm_state;

typedef enum fsm_outcome {
	FSM_APPLIED = 1, /* the state changed: persist result.state */
	FSM_IGNORED = 2, /* nothing changed (result.state == input); reason says why */
} fsm_outcome;

/* Effects the writer executes in the same transaction, in this order.
 * Each is emitted at most once per call. */
typedef enum fsm_effect {
	FSM_FX_RECORD_REFS = 1u << 0,         /* map ev payment/charge/order refs -> session
	                                         (when not yet recorded); any outcome */
	FSM_FX_MARK_PAID = 1u << 1,           /* a payment was recorded by this event:
	                                         paid_at, provider, paid_ref are new */
	FSM_FX_INVOICE = 1u << 2,             /* issue the invoice (gapless per merchant) */
	FSM_FX_GRANT_ENTITLEMENT = 1u << 3,   /* fulfil what the session sold (access key
	                                         or credits): entitlement became active */
	FSM_FX_ACCESS_LINK = 1u << 4,         /* mint the customer access link (JWT) */
	FSM_FX_RECORD_REFUND = 1u << 5,       /* amount_refunded_minor grew */
	FSM_FX_REVOKE_ENTITLEMENT = 1u << 6,  /* the entitlement became inactive (full refund
	                                         or lost dispute) */
	FSM_FX_ANOMALY = 1u << 7,             /* money moved but was not applied: store reason
	                                         as SessionRecord.anomaly, flag the reply */
	FSM_FX_AUDIT = 1u << 8,               /* append an audit record (audit_action) */
} fsm_effect;

/* Result of fsm_apply. */
typedef struct fsm_result {
	fsm_state state;                                /* new state (== input when IGNORED) */
	fsm_outcome outcome;                            /* APPLIED or IGNORED */
	uint32_t effects;                               /* fsm_effect bits */
	Paywire__Store__V1__SessionStatus path[FSM_PATH_MAX];  /* statuses walked: path[0] = from,
	                                                   path[path_len-1] = to; every step
	                                                   is fsm_transition_allowed */
	int path_len;                                   /* 1: status unchanged; 2 or 3 */
	const char *audit_action;                       /* static, e.g. "session.paid";
	                                                   NULL unless FSM_FX_AUDIT */
	char reason[FSM_REASON_BYTES];                  /* why IGNORED / what was anomalous;
	                                                   "" when applied */
} fsm_result;

/* True if the state machine has the edge from -> to (DESIGN.md):
 *   created  -> pending | paid | failed | expired | canceled
 *   pending  -> paid | failed | expired | canceled
 *   failed   -> paid | pending | expired | canceled
 *   paid     -> refunded | disputed
 *   disputed -> paid (won) | refunded (lost)
 * expired, canceled, refunded are terminal; from == to is not a transition;
 * UNSPECIFIED or an unknown value is never allowed. A caller asking for a
 * transition this refuses gets PW_INVALID_TRANSITION. */
bool fsm_transition_allowed(Paywire__Store__V1__SessionStatus from, Paywire__Store__V1__SessionStatus to);

/* "created", "pending", ... "disputed"; "unspecified" for 0, "unknown" for
 * a value outside the enum. Static strings. */
const char *fsm_status_name(Paywire__Store__V1__SessionStatus st);
/* "applied" / "ignored". */
const char *fsm_outcome_name(fsm_outcome o);
/* "record_refs", "mark_paid", ... for one FSM_FX_* bit; "unknown" otherwise. */
const char *fsm_effect_name(uint32_t effect_bit);

/* Fills *s with a freshly created session: status CREATED, payment UNPAID,
 * no facts. amount_minor in 1..PW_AMOUNT_MINOR_MAX and currency three
 * upper-case letters (PW_ASSERT: the server validated them). */
void fsm_state_init(fsm_state *s, int64_t amount_minor, const char *currency, bool live);

/* True if *s is internally consistent: a known status; amount, currency and
 * refund total in range; a payment recorded exactly when the status is
 * paid, disputed or refunded; payment_status and entitlement_active equal
 * to what the facts derive. The store checks records it decodes with this
 * (false -> PW_INTERNAL) before calling fsm_apply. */
bool fsm_state_valid(const fsm_state *s);

/* Applies one verified provider event to *s at now_unix_ms (> 0) and fills
 * *out. Never fails: every event ends APPLIED or IGNORED (DUPLICATE is the
 * store's dedup, decided before). PW_ASSERT: s, ev, out non-NULL, *s valid.
 * Rules (docs/STATE_MACHINE.md has the full table):
 * - kind PW_EV_IGNORED or unknown: IGNORED.
 * - ev->live (1/0) differing from the session's mode: IGNORED (+ANOMALY for
 *   money events: succeeded, refund, dispute); -1 means no check.
 * - SUCCEEDED: amount/currency must equal the session's, else IGNORED+ANOMALY;
 *   on an expired/canceled session IGNORED+ANOMALY (money moved); already paid:
 *   IGNORED (same payment) or IGNORED+ANOMALY (a different payment_ref: a second
 *   payment). Else the payment is recorded: MARK_PAID, INVOICE, ACCESS_LINK and
 *   GRANT_ENTITLEMENT (unless an earlier refund/lost dispute already undid it).
 * - PENDING/FAILED: the latest attempt by (event_unix_s, failed > pending)
 *   sets created/pending/failed; stale when paid or closed: IGNORED.
 * - EXPIRED/CANCELED: closes an unpaid session (terminal); IGNORED when paid
 *   ("stale") or already closed.
 * - REFUND: amount_refunded_minor = max(old, ev cumulative); over the session
 *   amount or another currency: IGNORED+ANOMALY; refunded when full, then
 *   REVOKE_ENTITLEMENT.
 * - DISPUTE_*: dispute = max(old, ev); opened -> disputed, won -> paid,
 *   lost -> refunded + REVOKE_ENTITLEMENT.
 * RECORD_REFS is set whenever the event carries a ref; AUDIT whenever the
 * outcome is APPLIED or an anomaly is raised. */
void fsm_apply(const fsm_state *s, const pw_event *ev, int64_t now_unix_ms, fsm_result *out);

#endif
