/*
 * fuzz_fsm.c - the transition core (store/store_fsm.c) against the model.
 *
 * Input byte 0 picks the mode:
 *   even: every further byte is an event of the model checker's alphabet
 *         (byte % its size, at most MC_SEQ_MAX): the sequence runs through
 *         mc_check, the step model and, when consistent, the set model
 *         (tests/reliability/model_check.c, included here);
 *   odd:  the bytes fill raw pw_events (any kind, amounts, refunds, refs,
 *         times, modes) applied one after another: the core must keep its
 *         contract (valid state, path on the edge table, IGNORED changes
 *         nothing, paid never goes back) for inputs no alphabet lists.
 * Any failure aborts, so libFuzzer keeps the input.
 */
#include "../tests/reliability/model_check.c"

static uint64_t
fz_take(const uint8_t **p, size_t *n, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes && *n > 0; i++, (*p)++, (*n)--) {
		v = (v << 8) | **p;
	}
	return v;
}

static void
fz_raw_event(pw_event *ev, const uint8_t **p, size_t *n)
{
	static const char *const refs[] = { "", "pi_A", "pi_B", "ch_1" };
	static const char *const curs[] = { "EUR", "USD", "JPY", "" };
	static const pw_provider provs[] = { PW_PROVIDER_STRIPE, PW_PROVIDER_RAZORPAY,
		PW_PROVIDER_ONECOM, PW_PROVIDER_WEB3 };
	uint64_t b = fz_take(p, n, 4);

	memset(ev, 0, sizeof(*ev));
	ev->kind = (pw_event_kind) (b % 10);
	ev->provider = provs[(b >> 4) % 4];
	ev->live = (int) ((b >> 6) % 3) - 1;
	ev->has_amount = ((b >> 8) & 1) != 0;
	(void) snprintf(ev->currency, sizeof(ev->currency), "%s", curs[(b >> 9) % 4]);
	(void) snprintf(ev->payment_ref, sizeof(ev->payment_ref), "%s", refs[(b >> 11) % 4]);
	(void) snprintf(ev->charge_ref, sizeof(ev->charge_ref), "%s", refs[(b >> 13) % 4]);
	ev->event_unix_s = (int64_t) ((b >> 15) % 64) - 8;
	ev->amount_minor = (int64_t) (int32_t) fz_take(p, n, 4);
	ev->amount_refunded_minor = (int64_t) (int32_t) fz_take(p, n, 4);
	if ((b >> 21) & 1) {
		ev->amount_minor = 1000; /* the session's: reach the paid states often */
	}
}

static void
fz_raw(const uint8_t *p, size_t n)
{
	fsm_state s;
	fsm_result r;
	pw_event ev;
	int64_t now = MC_NOW0;

	fsm_state_init(&s, MC_AMOUNT, "EUR", (n > 0 && (p[0] & 2) != 0));
	for (int i = 0; n > 0 && i < 64; i++) {
		bool was_paid = s.paid_at_unix_ms > 0, was_refunded = s.status == S(REFUNDED);
		fz_raw_event(&ev, &p, &n);
		fsm_apply(&s, &ev, now++, &r);
		if (!mc_path_ok(&s, &r) || !fsm_state_valid(&r.state) ||
		    (was_paid && r.state.paid_at_unix_ms != s.paid_at_unix_ms) ||
		    (was_refunded && r.state.status != S(REFUNDED)) ||
		    (r.outcome == FSM_IGNORED && memcmp(&r.state, &s, sizeof(s)) != 0) ||
		    (r.outcome == FSM_APPLIED && (r.effects & FSM_FX_AUDIT) == 0)) {
			fprintf(stderr, "fuzz_fsm: contract broken at event %d (kind %d): %s -> %s\n", i,
			    (int) ev.kind, fsm_status_name(s.status), fsm_status_name(r.state.status));
			abort();
		}
		s = r.state;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	int seq[MC_SEQ_MAX], n = 0;

	if (!ready) {
		for (int i = 0; i < MC_EVENTS; i++) {
			mc_pw[i] = mc_pw_event(&mc_events[i]);
		}
		ready = true;
	}
	if (size == 0) {
		return 0;
	}
	if ((data[0] & 1) != 0) {
		fz_raw(data + 1, size - 1);
		return 0;
	}
	for (size_t i = 1; i < size && n < MC_SEQ_MAX; i++) {
		seq[n++] = data[i] % MC_EVENTS;
	}
	if (n > 0) {
		(void) mc_check(seq, n, NULL);
	}
	if (mc.failures > 0) {
		abort();
	}
	return 0;
}
