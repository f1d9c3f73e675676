/*
 * model_check.c - ORDER INDEPENDENCE model checker of the session state
 * machine (store/store_fsm.c), issue 7 "Order independence".
 *
 * WHAT IT CHECKS
 * The pure core fsm_apply is fed sequences of provider events for one
 * session (1000 EUR, test mode) drawn from a fixed alphabet (mc_events[]),
 * and every step is compared with a REFERENCE MODEL written here as tables,
 * never by calling the core:
 *   - mc_rules[]: a first-match decision table (event class x condition on
 *     the model's facts) -> outcome, anomaly, which fact moves;
 *   - mc_same_payment[][]: whether two successful payments are the same one;
 *   - mc_paid_status[][]: the visible status of a paid session, from its
 *     refund total and dispute progress;
 *   - mc_edges[][]: the DESIGN.md edge table, written out again.
 * Per step: outcome, the exact effect bits, status, payment_status, refund
 * total, dispute, payment recorded, attempt time, entitlement, the path
 * (every step an edge), and "paid never goes back".
 * At the end of a sequence whose multiset is CONSISTENT (docs/STATE_MACHINE.md
 * "What a consistent set excludes": no closure together with a success, not
 * two different closures, no two different payments), the final state and
 * the order-free effect counts (mark_paid, invoice, access link, grants -
 * revokes, anomalies) must equal a second model that folds the SET of events
 * (max of the facts) without any order at all.
 *
 * MODES
 *   exhaustive: every multiset of up to --depth events of the alphabet, in
 *     every distinct ordering;
 *   scenarios: realistic event sets (mc_scenarios[]), every sub-multiset with
 *     each event dropped, once or twice (duplicates), up to --scenario-max
 *     events, in every distinct ordering;
 *   random: --random N sequences, sequence i seeded with --seed + i (length
 *     1..16 over the whole alphabet, consistent or not), plus, for a
 *     consistent one, a shuffled copy that must end the same.
 * A failure prints the sequence and the command that replays it
 * (--seed N --random 1, or --seq a,b,c), with a step-by-step trace.
 *
 * Exit 0 when every check passed, 1 on a failure, 2 on bad arguments; the
 * last line is a one-line summary with the figures.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fsm.h"

#define S(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define P(x) PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_##x

#define MC_AMOUNT INT64_C(1000)
#define MC_NOW0 INT64_C(1767225700000)
#define MC_SEQ_MAX 16 /* longest sequence any mode builds */
#define MC_ST_COUNT 9 /* SessionStatus values, UNSPECIFIED..DISPUTED */

/* ---- the alphabet ---- */

/* The model's class of an event: what it means for the session, written by
 * hand for each row of mc_events[] (never derived from the core). */
typedef enum mc_class {
	MC_NOOP = 1,    /* an event type that changes nothing */
	MC_MODE_MONEY,  /* money event of the other mode: ignored, anomaly */
	MC_MODE_OTHER,  /* non-money event of the other mode: ignored */
	MC_PAY_BAD,     /* success without amount or with another amount/currency */
	MC_PAY,         /* valid success; .arg = payment identity 1..MC_PAY_IDS */
	MC_ATTEMPT,     /* pending (.arg 1) or failed (.arg 2) at .unix_s */
	MC_CLOSE,       /* expired (.arg 1) or canceled (.arg 2) */
	MC_REFUND_NONE, /* refund total <= 0: ignored */
	MC_REFUND_BAD,  /* refund over the amount or in another currency: anomaly */
	MC_REFUND,      /* refund, cumulative total .arg */
	MC_DISPUTE,     /* dispute progress .arg: 1 opened, 2 won, 3 lost */
} mc_class;

#define MC_PAY_IDS 4 /* 1 stripe pi_A, 2 stripe no ref, 3 stripe pi_B, 4 razorpay pi_A */

typedef struct mc_event {
	const char *name;      /* replay name (--seq) */
	pw_event_kind kind;    /* what the core sees */
	pw_provider provider;
	int live;              /* 1 live, 0 test, -1 unsaid */
	bool has_amount;
	int64_t amount_minor;
	const char *currency;
	int64_t refunded_minor;
	const char *payment_ref;
	const char *charge_ref;
	const char *order_ref;
	int64_t unix_s;
	mc_class cls;          /* the model's view */
	int64_t arg;           /* class argument, see mc_class */
	bool refs;             /* the event carries a ref: RECORD_REFS expected */
} mc_event;

#define STRIPE PW_PROVIDER_STRIPE
#define RZP PW_PROVIDER_RAZORPAY

static const mc_event mc_events[] = {
	{ "noise", PW_EV_IGNORED, STRIPE, 0, false, 0, "", 0, "", "", "", 0, MC_NOOP, 0, false },
	{ "pend10", PW_EV_PAYMENT_PENDING, STRIPE, -1, false, 0, "", 0, "pi_A", "", "", 10, MC_ATTEMPT, 1, true },
	{ "pend20", PW_EV_PAYMENT_PENDING, STRIPE, -1, false, 0, "", 0, "", "", "", 20, MC_ATTEMPT, 1, false },
	{ "fail10", PW_EV_PAYMENT_FAILED, STRIPE, 0, false, 0, "", 0, "pi_A", "", "", 10, MC_ATTEMPT, 2, true },
	{ "fail20", PW_EV_PAYMENT_FAILED, RZP, -1, false, 0, "", 0, "", "", "order_1", 20, MC_ATTEMPT, 2, true },
	{ "pend0", PW_EV_PAYMENT_PENDING, STRIPE, 0, false, 0, "", 0, "", "", "", 0, MC_ATTEMPT, 1, false },
	{ "payA", PW_EV_PAYMENT_SUCCEEDED, STRIPE, 0, true, 1000, "EUR", 0, "pi_A", "ch_1", "", 30, MC_PAY, 1, true },
	{ "payN", PW_EV_PAYMENT_SUCCEEDED, STRIPE, -1, true, 1000, "EUR", 0, "", "", "cs_1", 30, MC_PAY, 2, true },
	{ "payB", PW_EV_PAYMENT_SUCCEEDED, STRIPE, 0, true, 1000, "EUR", 0, "pi_B", "", "", 31, MC_PAY, 3, true },
	{ "payR", PW_EV_PAYMENT_SUCCEEDED, RZP, 0, true, 1000, "EUR", 0, "pi_A", "", "", 32, MC_PAY, 4, true },
	{ "payAmt", PW_EV_PAYMENT_SUCCEEDED, STRIPE, 0, true, 999, "EUR", 0, "pi_A", "", "", 30, MC_PAY_BAD, 0, true },
	{ "payCur", PW_EV_PAYMENT_SUCCEEDED, STRIPE, 0, true, 1000, "USD", 0, "pi_A", "", "", 30, MC_PAY_BAD, 0, true },
	{ "payNoAmt", PW_EV_PAYMENT_SUCCEEDED, STRIPE, 0, false, 0, "", 0, "", "", "", 30, MC_PAY_BAD, 0, false },
	{ "payLive", PW_EV_PAYMENT_SUCCEEDED, STRIPE, 1, true, 1000, "EUR", 0, "pi_A", "", "", 30, MC_MODE_MONEY, 0, true },
	{ "expire", PW_EV_SESSION_EXPIRED, STRIPE, 0, false, 0, "", 0, "", "", "cs_1", 40, MC_CLOSE, 1, true },
	{ "cancel", PW_EV_PAYMENT_CANCELED, STRIPE, -1, false, 0, "", 0, "pi_A", "", "", 40, MC_CLOSE, 2, true },
	{ "ref400", PW_EV_REFUND, STRIPE, 0, true, 1000, "EUR", 400, "pi_A", "ch_1", "", 50, MC_REFUND, 400, true },
	{ "ref700", PW_EV_REFUND, RZP, 0, true, 1000, "EUR", 700, "pay_1", "", "", 50, MC_REFUND, 700, true },
	{ "ref1000", PW_EV_REFUND, STRIPE, -1, false, 0, "", 1000, "", "ch_1", "", 51, MC_REFUND, 1000, true },
	{ "ref1500", PW_EV_REFUND, STRIPE, 0, false, 0, "", 1500, "", "ch_1", "", 52, MC_REFUND_BAD, 0, true },
	{ "refUSD", PW_EV_REFUND, STRIPE, 0, true, 1000, "USD", 400, "", "", "", 52, MC_REFUND_BAD, 0, false },
	{ "ref0", PW_EV_REFUND, STRIPE, 0, false, 0, "", 0, "", "", "", 52, MC_REFUND_NONE, 0, false },
	{ "dOpen", PW_EV_DISPUTE_OPENED, STRIPE, 0, false, 0, "", 0, "", "ch_1", "", 60, MC_DISPUTE, 1, true },
	{ "dWon", PW_EV_DISPUTE_WON, STRIPE, -1, false, 0, "", 0, "", "", "", 61, MC_DISPUTE, 2, false },
	{ "dLost", PW_EV_DISPUTE_LOST, STRIPE, 0, false, 0, "", 0, "", "ch_1", "", 61, MC_DISPUTE, 3, true },
	{ "failLive", PW_EV_PAYMENT_FAILED, STRIPE, 1, false, 0, "", 0, "", "", "", 99, MC_MODE_OTHER, 0, false },
	{ "refLive", PW_EV_REFUND, STRIPE, 1, false, 0, "", 400, "", "", "", 50, MC_MODE_MONEY, 0, false },
	{ "closeLive", PW_EV_SESSION_EXPIRED, STRIPE, 1, false, 0, "", 0, "", "", "", 40, MC_MODE_OTHER, 0, false },
	{ "dLive", PW_EV_DISPUTE_OPENED, RZP, 1, false, 0, "", 0, "", "", "", 60, MC_MODE_MONEY, 0, false },
};
#define MC_EVENTS ((int) (sizeof(mc_events) / sizeof(mc_events[0])))

/* Two successes are the same payment: same provider, and the same ref or one
 * of them without a ref. Rows: recorded identity; columns: incoming. */
static const bool mc_same_payment[MC_PAY_IDS + 1][MC_PAY_IDS + 1] = {
	[1] = { [1] = true, [2] = true },
	[2] = { [1] = true, [2] = true, [3] = true },
	[3] = { [2] = true, [3] = true },
	[4] = { [4] = true },
};

/* ---- the model's facts and its tables ---- */

typedef struct mc_facts {
	int paid;                         /* payment identity recorded, 0 none */
	int64_t refunded;                 /* highest refund total */
	int dispute;                      /* 0 none .. 3 lost */
	Paywire__Store__V1__SessionStatus open;  /* unpaid status: created/pending/failed/expired/canceled */
	int64_t attempt_s;                /* time of the latest attempt applied */
} mc_facts;

typedef enum mc_cond {
	C_ANY = 1,   /* always */
	C_CLOSED,    /* unpaid and expired/canceled */
	C_PAID,      /* a payment is recorded */
	C_PAID_SAME, /* recorded, and the same payment as the event's */
	C_PAID_OTHER,/* recorded, another payment */
	C_NOT_LATER, /* attempt not after the latest (time, failed > pending) */
	C_NOT_MORE,  /* refund total / dispute progress not beyond the recorded */
} mc_cond;

typedef enum mc_update {
	U_NONE = 0, U_PAY, U_ATTEMPT, U_CLOSE, U_REFUND, U_DISPUTE,
} mc_update;

typedef struct mc_rule {
	mc_class cls;
	mc_cond cond;
	bool applied;    /* APPLIED, else IGNORED */
	bool anomaly;    /* ANOMALY (+AUDIT) on IGNORED */
	mc_update upd;   /* the fact an APPLIED row moves */
} mc_rule;

/* First match wins (docs/STATE_MACHINE.md "Events -> transitions"). */
static const mc_rule mc_rules[] = {
	{ MC_NOOP, C_ANY, false, false, U_NONE },
	{ MC_MODE_MONEY, C_ANY, false, true, U_NONE },
	{ MC_MODE_OTHER, C_ANY, false, false, U_NONE },
	{ MC_PAY_BAD, C_ANY, false, true, U_NONE },
	{ MC_PAY, C_CLOSED, false, true, U_NONE },
	{ MC_PAY, C_PAID_SAME, false, false, U_NONE },
	{ MC_PAY, C_PAID_OTHER, false, true, U_NONE },
	{ MC_PAY, C_ANY, true, false, U_PAY },
	{ MC_ATTEMPT, C_PAID, false, false, U_NONE },
	{ MC_ATTEMPT, C_CLOSED, false, false, U_NONE },
	{ MC_ATTEMPT, C_NOT_LATER, false, false, U_NONE },
	{ MC_ATTEMPT, C_ANY, true, false, U_ATTEMPT },
	{ MC_CLOSE, C_PAID, false, false, U_NONE },
	{ MC_CLOSE, C_CLOSED, false, false, U_NONE },
	{ MC_CLOSE, C_ANY, true, false, U_CLOSE },
	{ MC_REFUND_NONE, C_ANY, false, false, U_NONE },
	{ MC_REFUND_BAD, C_ANY, false, true, U_NONE },
	{ MC_REFUND, C_NOT_MORE, false, false, U_NONE },
	{ MC_REFUND, C_ANY, true, false, U_REFUND },
	{ MC_DISPUTE, C_NOT_MORE, false, false, U_NONE },
	{ MC_DISPUTE, C_ANY, true, false, U_DISPUTE },
};

/* Status of a paid session: [refund total reached the amount][dispute]. */
static const Paywire__Store__V1__SessionStatus mc_paid_status[2][4] = {
	{ S(PAID), S(DISPUTED), S(PAID), S(REFUNDED) },
	{ S(REFUNDED), S(REFUNDED), S(REFUNDED), S(REFUNDED) },
};

/* payment_status of each status ([1]: with a partial refund). */
static const Paywire__Store__V1__PaymentStatus mc_payment_status[MC_ST_COUNT][2] = {
	[S(CREATED)] = { P(UNPAID), P(UNPAID) },
	[S(PENDING)] = { P(PROCESSING), P(PROCESSING) },
	[S(PAID)] = { P(COMPLETED), P(PARTIALLY_REFUNDED) },
	[S(FAILED)] = { P(FAILED), P(FAILED) },
	[S(EXPIRED)] = { P(UNPAID), P(UNPAID) },
	[S(CANCELED)] = { P(UNPAID), P(UNPAID) },
	[S(REFUNDED)] = { P(REFUNDED), P(REFUNDED) },
	[S(DISPUTED)] = { P(DISPUTED), P(DISPUTED) },
};

/* DESIGN.md's edges, written out again (17). */
static const bool mc_edges[MC_ST_COUNT][MC_ST_COUNT] = {
	[S(CREATED)] = { [S(PENDING)] = 1, [S(PAID)] = 1, [S(FAILED)] = 1, [S(EXPIRED)] = 1, [S(CANCELED)] = 1 },
	[S(PENDING)] = { [S(PAID)] = 1, [S(FAILED)] = 1, [S(EXPIRED)] = 1, [S(CANCELED)] = 1 },
	[S(FAILED)] = { [S(PAID)] = 1, [S(PENDING)] = 1, [S(EXPIRED)] = 1, [S(CANCELED)] = 1 },
	[S(PAID)] = { [S(REFUNDED)] = 1, [S(DISPUTED)] = 1 },
	[S(DISPUTED)] = { [S(PAID)] = 1, [S(REFUNDED)] = 1 },
};

static Paywire__Store__V1__SessionStatus
mc_status(const mc_facts *f)
{
	if (f->paid == 0) {
		return f->open;
	}
	return mc_paid_status[f->refunded >= MC_AMOUNT][f->dispute];
}

static bool
mc_entitled(const mc_facts *f)
{
	return f->paid != 0 && mc_status(f) != S(REFUNDED);
}

static int
mc_attempt_rank(Paywire__Store__V1__SessionStatus open)
{
	return open == S(FAILED) ? 2 : (open == S(PENDING) ? 1 : 0);
}

static bool
mc_cond_holds(mc_cond c, const mc_facts *f, const mc_event *e)
{
	bool closed = f->paid == 0 && (f->open == S(EXPIRED) || f->open == S(CANCELED));

	switch (c) {
	case C_ANY: return true;
	case C_CLOSED: return closed;
	case C_PAID: return f->paid != 0;
	case C_PAID_SAME: return f->paid != 0 && mc_same_payment[f->paid][e->arg];
	case C_PAID_OTHER: return f->paid != 0 && !mc_same_payment[f->paid][e->arg];
	case C_NOT_LATER:
		return e->unix_s < f->attempt_s ||
		    (e->unix_s == f->attempt_s && e->arg <= mc_attempt_rank(f->open));
	case C_NOT_MORE:
		return e->cls == MC_REFUND ? e->arg <= f->refunded : e->arg <= f->dispute;
	}
	return false;
}

static const mc_rule *
mc_rule_for(const mc_facts *f, const mc_event *e)
{
	for (size_t i = 0; i < sizeof(mc_rules) / sizeof(mc_rules[0]); i++) {
		if (mc_rules[i].cls == e->cls && mc_cond_holds(mc_rules[i].cond, f, e)) {
			return &mc_rules[i];
		}
	}
	fprintf(stderr, "model_check: no rule for %s\n", e->name);
	abort();
}

/* What the model expects of one step. */
typedef struct mc_expect {
	bool applied;
	uint32_t effects;
	mc_facts after;
} mc_expect;

static mc_expect
mc_step(const mc_facts *f, const mc_event *e)
{
	const mc_rule *r = mc_rule_for(f, e);
	mc_expect x = { .applied = r->applied, .effects = 0, .after = *f };

	if (e->refs) {
		x.effects |= FSM_FX_RECORD_REFS;
	}
	if (!r->applied) {
		x.effects |= r->anomaly ? (FSM_FX_ANOMALY | FSM_FX_AUDIT) : 0u;
		return x;
	}
	switch (r->upd) {
	case U_PAY: x.after.paid = (int) e->arg; break;
	case U_ATTEMPT:
		x.after.open = e->arg == 2 ? S(FAILED) : S(PENDING);
		x.after.attempt_s = e->unix_s;
		break;
	case U_CLOSE: x.after.open = e->arg == 1 ? S(EXPIRED) : S(CANCELED); break;
	case U_REFUND: x.after.refunded = e->arg; break;
	case U_DISPUTE: x.after.dispute = (int) e->arg; break;
	case U_NONE: break;
	}
	if (f->paid == 0 && x.after.paid != 0) {
		x.effects |= FSM_FX_MARK_PAID | FSM_FX_INVOICE | FSM_FX_ACCESS_LINK;
	}
	if (!mc_entitled(f) && mc_entitled(&x.after)) {
		x.effects |= FSM_FX_GRANT_ENTITLEMENT;
	}
	if (mc_entitled(f) && !mc_entitled(&x.after)) {
		x.effects |= FSM_FX_REVOKE_ENTITLEMENT;
	}
	if (f->refunded != x.after.refunded) {
		x.effects |= FSM_FX_RECORD_REFUND;
	}
	x.effects |= FSM_FX_AUDIT;
	return x;
}

/* ---- the set model: final facts of a consistent multiset, no order ---- */

typedef struct mc_counts {
	int mark_paid, invoices, links, net_grants, anomalies;
} mc_counts;

static bool
mc_consistent(const int *seq, int n)
{
	int pays[MC_SEQ_MAX], npay = 0, close_kind = 0;

	for (int i = 0; i < n; i++) {
		const mc_event *e = &mc_events[seq[i]];
		if (e->cls == MC_CLOSE) {
			if (close_kind != 0 && close_kind != e->arg) {
				return false; /* two different closures */
			}
			close_kind = (int) e->arg;
		}
		if (e->cls == MC_PAY) {
			pays[npay++] = (int) e->arg;
		}
	}
	if (close_kind != 0 && npay > 0) {
		return false; /* a closure and a success */
	}
	for (int i = 0; i < npay; i++) {
		for (int j = 0; j < npay; j++) {
			if (!mc_same_payment[pays[i]][pays[j]]) {
				return false; /* two different payments */
			}
		}
	}
	return true;
}

static void
mc_fold(const int *seq, int n, mc_facts *f, mc_counts *c)
{
	memset(f, 0, sizeof(*f));
	memset(c, 0, sizeof(*c));
	f->open = S(CREATED);
	for (int i = 0; i < n; i++) {
		const mc_event *e = &mc_events[seq[i]];
		switch (e->cls) {
		case MC_PAY: f->paid = 1; break; /* any: all are the same payment */
		case MC_CLOSE: f->open = e->arg == 1 ? S(EXPIRED) : S(CANCELED); break;
		case MC_REFUND: f->refunded = e->arg > f->refunded ? e->arg : f->refunded; break;
		case MC_DISPUTE: f->dispute = e->arg > f->dispute ? (int) e->arg : f->dispute; break;
		case MC_MODE_MONEY:
		case MC_PAY_BAD:
		case MC_REFUND_BAD: c->anomalies++; break;
		case MC_ATTEMPT:
		case MC_NOOP:
		case MC_MODE_OTHER:
		case MC_REFUND_NONE: break;
		}
	}
	for (int i = 0; i < n; i++) {
		const mc_event *e = &mc_events[seq[i]];
		bool closed = f->open == S(EXPIRED) || f->open == S(CANCELED);
		if (e->cls == MC_ATTEMPT && !closed &&
		    (e->unix_s > f->attempt_s ||
		        (e->unix_s == f->attempt_s && e->arg > mc_attempt_rank(f->open)))) {
			f->open = e->arg == 2 ? S(FAILED) : S(PENDING);
			f->attempt_s = e->unix_s;
		}
	}
	c->mark_paid = c->invoices = c->links = f->paid != 0;
	c->net_grants = mc_entitled(f) ? 1 : 0;
}

/* ---- running the core ---- */

static pw_event
mc_pw_event(const mc_event *m)
{
	pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.provider = m->provider;
	ev.kind = m->kind;
	ev.live = m->live;
	ev.has_amount = m->has_amount;
	ev.amount_minor = m->amount_minor;
	(void) snprintf(ev.currency, sizeof(ev.currency), "%s", m->currency);
	ev.amount_refunded_minor = m->refunded_minor;
	(void) snprintf(ev.event_id, sizeof(ev.event_id), "evt_%s", m->name);
	(void) snprintf(ev.event_type, sizeof(ev.event_type), "type_%s", m->name);
	(void) snprintf(ev.payment_ref, sizeof(ev.payment_ref), "%s", m->payment_ref);
	(void) snprintf(ev.charge_ref, sizeof(ev.charge_ref), "%s", m->charge_ref);
	(void) snprintf(ev.order_ref, sizeof(ev.order_ref), "%s", m->order_ref);
	ev.event_unix_s = m->unix_s;
	return ev;
}

static pw_event mc_pw[sizeof(mc_events) / sizeof(mc_events[0])];

static struct {
	bool verbose;          /* trace every step */
	uint64_t sequences;    /* sequences run */
	uint64_t steps;        /* fsm_apply calls */
	uint64_t consistent;   /* sequences checked against the set model */
	uint64_t failures;
	bool edge_seen[MC_ST_COUNT][MC_ST_COUNT];
} mc;

static void
mc_print_seq(FILE *fp, const int *seq, int n)
{
	for (int i = 0; i < n; i++) {
		fprintf(fp, "%s%s", i > 0 ? "," : "", mc_events[seq[i]].name);
	}
}

__attribute__((format(printf, 4, 5))) static bool
mc_fail(const int *seq, int n, const char *how, const char *fmt, ...)
{
	va_list ap;

	mc.failures++;
	if (mc.failures > 5) {
		return false;
	}
	fprintf(stderr, "model_check: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  sequence: ");
	mc_print_seq(stderr, seq, n);
	fprintf(stderr, "\n  replay: model_check ");
	if (how != NULL) {
		fprintf(stderr, "%s --verbose\n", how);
	} else {
		fprintf(stderr, "--seq ");
		mc_print_seq(stderr, seq, n);
		fprintf(stderr, "\n");
	}
	return false;
}

/* exact: the step model tracks the attempt time always; the set model only
 * while the session is unpaid and open (an attempt after a payment or a
 * closure is stale, so the time kept depends on what came first). */
static bool
mc_facts_match(const fsm_state *s, const mc_facts *f, bool exact)
{
	Paywire__Store__V1__SessionStatus st = mc_status(f);
	bool attempt = exact || (f->paid == 0 && st != S(EXPIRED) && st != S(CANCELED));

	return s->status == st &&
	    s->payment_status == mc_payment_status[st][f->refunded > 0 && f->refunded < MC_AMOUNT] &&
	    s->amount_refunded_minor == f->refunded && (int) s->dispute == f->dispute &&
	    (s->paid_at_unix_ms > 0) == (f->paid != 0) && s->entitlement_active == mc_entitled(f) &&
	    (!attempt || s->attempt_unix_s == f->attempt_s);
}

static bool
mc_path_ok(const fsm_state *before, const fsm_result *r)
{
	if (r->path_len < 1 || r->path_len > FSM_PATH_MAX || r->path[0] != before->status ||
	    r->path[r->path_len - 1] != r->state.status) {
		return false;
	}
	for (int i = 0; i + 1 < r->path_len; i++) {
		if ((int) r->path[i] <= 0 || (int) r->path[i] >= MC_ST_COUNT ||
		    (int) r->path[i + 1] <= 0 || (int) r->path[i + 1] >= MC_ST_COUNT ||
		    !mc_edges[r->path[i]][r->path[i + 1]]) {
			return false;
		}
		mc.edge_seen[r->path[i]][r->path[i + 1]] = true;
	}
	return r->path_len != 3 || r->path[1] == S(PAID);
}

/* Runs seq through the core against the step model; fills the final state
 * and the order-free counts. False (and a printed failure) on a mismatch. */
static bool
mc_run(const int *seq, int n, const char *how, fsm_state *final, mc_counts *cnt)
{
	fsm_state s;
	fsm_result r;
	mc_facts f = { .open = S(CREATED) };

	fsm_state_init(&s, MC_AMOUNT, "EUR", false);
	memset(cnt, 0, sizeof(*cnt));
	mc.sequences++;
	for (int i = 0; i < n; i++) {
		const mc_event *e = &mc_events[seq[i]];
		mc_expect x = mc_step(&f, e);
		bool was_paid = s.paid_at_unix_ms > 0, was_refunded = s.status == S(REFUNDED);

		fsm_apply(&s, &mc_pw[seq[i]], MC_NOW0 + i, &r);
		mc.steps++;
		if (mc.verbose) {
			fprintf(stderr, "  %2d %-9s %-8s %s -> %s effects 0x%03x (model 0x%03x, %s) %s\n", i,
			    e->name, fsm_outcome_name(r.outcome), fsm_status_name(s.status),
			    fsm_status_name(r.state.status), r.effects, x.effects,
			    x.applied ? "applied" : "ignored", r.reason);
		}
		if ((r.outcome == FSM_APPLIED) != x.applied || r.effects != x.effects) {
			return mc_fail(seq, n, how, "step %d (%s): core %s effects 0x%x, model %s effects 0x%x",
			    i, e->name, fsm_outcome_name(r.outcome), r.effects,
			    x.applied ? "applied" : "ignored", x.effects);
		}
		if (!mc_facts_match(&r.state, &x.after, true)) {
			return mc_fail(seq, n, how, "step %d (%s): core state %s refunded %" PRId64
			    " dispute %d differs from the model's %s refunded %" PRId64 " dispute %d", i,
			    e->name, fsm_status_name(r.state.status), r.state.amount_refunded_minor,
			    (int) r.state.dispute, fsm_status_name(mc_status(&x.after)), x.after.refunded,
			    x.after.dispute);
		}
		if (!mc_path_ok(&s, &r) || !fsm_state_valid(&r.state) ||
		    (r.outcome == FSM_IGNORED && r.reason[0] == '\0') ||
		    ((r.effects & FSM_FX_AUDIT) != 0) != (r.audit_action != NULL)) {
			return mc_fail(seq, n, how, "step %d (%s): bad path, state, reason or audit action", i,
			    e->name);
		}
		if ((was_paid && (r.state.paid_at_unix_ms == 0 ||
		                     (r.state.status != S(PAID) && r.state.status != S(DISPUTED) &&
		                         r.state.status != S(REFUNDED)))) ||
		    (was_refunded && r.state.status != S(REFUNDED))) {
			return mc_fail(seq, n, how, "step %d (%s): paid went back to %s", i, e->name,
			    fsm_status_name(r.state.status));
		}
		cnt->mark_paid += (r.effects & FSM_FX_MARK_PAID) != 0;
		cnt->invoices += (r.effects & FSM_FX_INVOICE) != 0;
		cnt->links += (r.effects & FSM_FX_ACCESS_LINK) != 0;
		cnt->net_grants += (r.effects & FSM_FX_GRANT_ENTITLEMENT) != 0;
		cnt->net_grants -= (r.effects & FSM_FX_REVOKE_ENTITLEMENT) != 0;
		cnt->anomalies += (r.effects & FSM_FX_ANOMALY) != 0;
		s = r.state;
		f = x.after;
	}
	*final = s;
	return true;
}

/* One sequence: the step model throughout, and the set model at the end
 * when the multiset is consistent. */
static bool
mc_check(const int *seq, int n, const char *how)
{
	fsm_state s;
	mc_counts c, fc;
	mc_facts ff;

	if (!mc_run(seq, n, how, &s, &c)) {
		return false;
	}
	if (!mc_consistent(seq, n)) {
		return true;
	}
	mc.consistent++;
	mc_fold(seq, n, &ff, &fc);
	if (!mc_facts_match(&s, &ff, false) || memcmp(&c, &fc, sizeof(c)) != 0) {
		return mc_fail(seq, n, how,
		    "final state %s refunded %" PRId64 " (mark_paid %d invoices %d links %d net grants %d"
		    " anomalies %d) differs from the set model's %s refunded %" PRId64
		    " (%d %d %d %d %d)", fsm_status_name(s.status), s.amount_refunded_minor, c.mark_paid,
		    c.invoices, c.links, c.net_grants, c.anomalies, fsm_status_name(mc_status(&ff)),
		    ff.refunded, fc.mark_paid, fc.invoices, fc.links, fc.net_grants, fc.anomalies);
	}
	return true;
}

/* fuzz/fuzz_fsm.c includes this file for its models and mc_check: the modes
 * and main below are the checker's own. */
#ifndef MC_NO_MAIN

/* ---- orderings ---- */

/* Next distinct permutation of a[0..n) in lexicographic order; false after
 * the last. Duplicates make each distinct ordering appear once. */
static bool
mc_next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1;

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

static uint64_t mc_sets; /* multisets whose orderings were all run */

/* Every distinct ordering of the sorted multiset a[0..n). */
static void
mc_all_orders(int *a, int n)
{
	mc_sets++;
	do {
		(void) mc_check(a, n, NULL);
	} while (mc.failures == 0 && mc_next_perm(a, n));
}

/* Every multiset of size k of events >= from, appended to a[0..n). */
static void
mc_multisets(int *a, int n, int k, int from)
{
	if (mc.failures > 0) {
		return;
	}
	if (k == 0) {
		int b[MC_SEQ_MAX];
		memcpy(b, a, sizeof(int) * (size_t) n);
		mc_all_orders(b, n);
		return;
	}
	for (int e = from; e < MC_EVENTS; e++) {
		a[n] = e;
		mc_multisets(a, n + 1, k - 1, e);
	}
}

/* Realistic event sets for one session (names of mc_events). */
static const char *const mc_scenarios[][8] = {
	{ "pend10", "fail20", "payA", "payN", "ref400", "ref1000", NULL },
	{ "pend10", "payA", "dOpen", "dWon", "ref400", "ref700", NULL },
	{ "payN", "payA", "dOpen", "dLost", "ref400", "noise", NULL },
	{ "fail10", "pend20", "payR", "ref1000", "dOpen", NULL },
	{ "pend0", "fail10", "pend20", "expire", "ref0", NULL },
	{ "fail10", "cancel", "payAmt", "payLive", "refUSD", NULL },
	{ "payA", "payCur", "ref1500", "refLive", "dLive", "failLive", NULL },
	{ "pend20", "fail20", "closeLive", "expire", "noise", NULL },
};

static int
mc_event_index(const char *name)
{
	for (int i = 0; i < MC_EVENTS; i++) {
		if (strcmp(mc_events[i].name, name) == 0) {
			return i;
		}
	}
	return -1;
}

/* Each event of the scenario dropped, once or twice, up to max events. */
static void
mc_scenario(const int *base, int nbase, int at, int *a, int n, int max)
{
	if (mc.failures > 0) {
		return;
	}
	if (at == nbase) {
		int b[MC_SEQ_MAX];
		memcpy(b, a, sizeof(int) * (size_t) n);
		/* sort, so mc_next_perm starts at the first ordering */
		for (int i = 1; i < n; i++) {
			for (int j = i; j > 0 && b[j - 1] > b[j]; j--) {
				int t = b[j];
				b[j] = b[j - 1];
				b[j - 1] = t;
			}
		}
		if (n > 0) {
			mc_all_orders(b, n);
		}
		return;
	}
	for (int copies = 0; copies <= 2 && n + copies <= max; copies++) {
		for (int c = 0; c < copies; c++) {
			a[n + c] = base[at];
		}
		mc_scenario(base, nbase, at + 1, a, n + copies, max);
	}
}

/* ---- random sequences ---- */

static uint64_t
mc_splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void
mc_random_one(uint64_t seed)
{
	uint64_t rng = seed;
	int seq[MC_SEQ_MAX], shuffled[MC_SEQ_MAX], n = 1 + (int) (mc_splitmix(&rng) % MC_SEQ_MAX);
	char how[96];
	fsm_state a, b;
	mc_counts ca, cb;

	for (int i = 0; i < n; i++) {
		seq[i] = (int) (mc_splitmix(&rng) % (uint64_t) MC_EVENTS);
	}
	(void) snprintf(how, sizeof(how), "--seed %" PRIu64 " --random 1 --depth 0 --scenario-max 0", seed);
	if (!mc_check(seq, n, how) || !mc_consistent(seq, n)) {
		return;
	}
	/* the same consistent multiset in another order ends the same */
	memcpy(shuffled, seq, sizeof(seq));
	for (int i = n - 1; i > 0; i--) {
		int j = (int) (mc_splitmix(&rng) % (uint64_t) (i + 1)), t = shuffled[i];
		shuffled[i] = shuffled[j];
		shuffled[j] = t;
	}
	if (!mc_run(seq, n, how, &a, &ca) || !mc_run(shuffled, n, how, &b, &cb)) {
		return;
	}
	if (a.status != b.status || a.payment_status != b.payment_status ||
	    a.amount_refunded_minor != b.amount_refunded_minor || a.dispute != b.dispute ||
	    a.entitlement_active != b.entitlement_active || memcmp(&ca, &cb, sizeof(ca)) != 0) {
		(void) mc_fail(shuffled, n, how, "a shuffled copy ends %s, the sequence %s",
		    fsm_status_name(b.status), fsm_status_name(a.status));
	}
}

/* ---- main ---- */

static int
mc_usage(void)
{
	fprintf(stderr,
	    "usage: model_check [--seed N] [--random N] [--depth D] [--scenario-max M]\n"
	    "                   [--full] [--verbose] [--seq name,name,...]\n"
	    "  defaults (CI slice): --seed 1 --random 100000 --depth 4 --scenario-max 7\n"
	    "  --full: --random 1000000 --depth 5 --scenario-max 8\n");
	return 2;
}

static int
mc_parse_seq(const char *arg, int *seq)
{
	char buf[512];
	int n = 0;

	(void) snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int ix = mc_event_index(tok);
		if (ix < 0 || n == MC_SEQ_MAX) {
			fprintf(stderr, "model_check: unknown event %s or more than %d\n", tok, MC_SEQ_MAX);
			return -1;
		}
		seq[n++] = ix;
	}
	return n;
}

int
main(int argc, char **argv)
{
	uint64_t seed = 1, random = 100000;
	int depth = 4, scenario_max = 7, seq[MC_SEQ_MAX], nseq = -1, edges = 0, seen = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--verbose") == 0) {
			mc.verbose = true;
		} else if (strcmp(a, "--full") == 0) {
			random = 1000000;
			depth = 5;
			scenario_max = 8;
		} else if (v == NULL) {
			return mc_usage();
		} else if (strcmp(a, "--seed") == 0) {
			seed = strtoull(v, NULL, 10), i++;
		} else if (strcmp(a, "--random") == 0) {
			random = strtoull(v, NULL, 10), i++;
		} else if (strcmp(a, "--depth") == 0) {
			depth = atoi(v), i++;
		} else if (strcmp(a, "--scenario-max") == 0) {
			scenario_max = atoi(v), i++;
		} else if (strcmp(a, "--seq") == 0) {
			nseq = mc_parse_seq(v, seq), i++;
			if (nseq <= 0) {
				return mc_usage();
			}
		} else {
			return mc_usage();
		}
	}
	if (depth < 0 || depth > MC_SEQ_MAX || scenario_max < 0 || scenario_max > MC_SEQ_MAX) {
		return mc_usage();
	}
	for (int i = 0; i < MC_EVENTS; i++) {
		mc_pw[i] = mc_pw_event(&mc_events[i]);
	}
	if (nseq > 0) {
		mc.verbose = true;
		(void) mc_check(seq, nseq, NULL);
		printf("model_check: replayed %d events, %s\n", nseq, mc.failures == 0 ? "ok" : "FAILED");
		return mc.failures == 0 ? 0 : 1;
	}
	/* exhaustive: every multiset up to depth, every ordering */
	for (int k = 1; k <= depth && mc.failures == 0; k++) {
		int a[MC_SEQ_MAX];
		mc_multisets(a, 0, k, 0);
	}
	/* scenarios with drops and duplicates */
	for (size_t s = 0; s < sizeof(mc_scenarios) / sizeof(mc_scenarios[0]) && mc.failures == 0; s++) {
		int base[8], nb = 0, a[MC_SEQ_MAX];
		for (; mc_scenarios[s][nb] != NULL; nb++) {
			base[nb] = mc_event_index(mc_scenarios[s][nb]);
			if (base[nb] < 0) {
				fprintf(stderr, "model_check: scenario event %s unknown\n", mc_scenarios[s][nb]);
				return 2;
			}
		}
		mc_scenario(base, nb, 0, a, 0, scenario_max);
	}
	for (uint64_t i = 0; i < random && mc.failures == 0; i++) {
		mc_random_one(seed + i);
	}
	for (int f = 0; f < MC_ST_COUNT; f++) {
		for (int t = 0; t < MC_ST_COUNT; t++) {
			edges += mc_edges[f][t];
			seen += mc_edges[f][t] && mc.edge_seen[f][t];
		}
	}
	if (mc.failures == 0 && depth >= 3 && seen != edges) {
		fprintf(stderr, "model_check: FAIL: only %d of the %d edges were taken\n", seen, edges);
		mc.failures++;
	}
	printf("model_check: %s: %" PRIu64 " multisets in every order (depth %d, scenarios up to %d"
	    " events), %" PRIu64 " random sequences from seed %" PRIu64 "; %" PRIu64
	    " sequences, %" PRIu64 " fsm_apply steps, %" PRIu64 " checked against the set model,"
	    " %d/%d edges taken, %" PRIu64 " failures\n",
	    mc.failures == 0 ? "ok" : "FAILED", mc_sets, depth, scenario_max, random, seed,
	    mc.sequences, mc.steps, mc.consistent, seen, edges, mc.failures);
	return mc.failures == 0 ? 0 : 1;
}
#endif
