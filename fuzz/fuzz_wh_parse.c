/*
 * fuzz_wh_parse.c - each provider's JSON event extractor: srv_webhook_parse on
 * a request in the fuzz_wh_input.h format (no signature check: the parser
 * must be safe on any body, whatever verify decided). An event it accepts
 * must keep pw_event's contract (strings NUL-terminated, live -1..1, the
 * provider set, a known kind, amounts in range), which the store relies on,
 * and is then applied to a fresh session by the transition core.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_wh_input.h"
#include "store_fsm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
fz_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void
fz_event_contract(const fz_wh *r, const pw_event *ev)
{
	fsm_state s;
	fsm_result res;

	if (ev->provider != r->provider || ev->live < -1 || ev->live > 1 ||
	    (int) ev->kind < PW_EV_IGNORED || (int) ev->kind > PW_EV_KIND_LAST ||
	    !fz_terminated(ev->event_id, sizeof(ev->event_id)) ||
	    !fz_terminated(ev->event_type, sizeof(ev->event_type)) ||
	    !fz_terminated(ev->session_ref, sizeof(ev->session_ref)) ||
	    !fz_terminated(ev->currency, sizeof(ev->currency)) ||
	    !fz_terminated(ev->payment_ref, sizeof(ev->payment_ref)) ||
	    !fz_terminated(ev->charge_ref, sizeof(ev->charge_ref)) ||
	    !fz_terminated(ev->order_ref, sizeof(ev->order_ref)) ||
	    !fz_terminated(ev->network, sizeof(ev->network)) ||
	    !fz_terminated(ev->detail, sizeof(ev->detail)) ||
	    (ev->has_amount && (ev->amount_minor < 0 || ev->amount_minor > PW_AMOUNT_MINOR_MAX)) ||
	    ev->amount_refunded_minor < 0 || ev->amount_refunded_minor > PW_AMOUNT_MINOR_MAX) {
		abort();
	}
	fsm_state_init(&s, 4900, "EUR", false);
	fsm_apply(&s, ev, INT64_C(1767225600000), &res);
	if (!fsm_state_valid(&res.state)) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const srv_webhook_config *cfg = fz_wh_setup();
	fz_wh r;
	pw_event ev;
	char why[256];
	pw_status st;

	if (!fz_wh_split(data, size, &r)) {
		return 0;
	}
	st = srv_webhook_parse(cfg, r.provider, r.h, r.nh, r.body_len > 0 ? r.body : NULL,
	    r.body_len, &ev, why, sizeof(why));
	if (st == PW_OK) {
		fz_event_contract(&r, &ev);
	} else if (st != PW_INVALID_ARGUMENT || memchr(why, '\0', sizeof(why)) == NULL) {
		abort();
	}
	return 0;
}
