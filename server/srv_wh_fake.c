/*
 * srv_wh_fake.c - the fake provider of test builds (PW_TEST_HOOKS only).
 *
 * It exists to prove docs/PROVIDERS.md: it was added by its steps alone, a
 * row in PW_PROVIDER_MAP_TEST (include/paywire/provider.h) and this file,
 * and tests/server_provider_test.c sends it through the real server (wire
 * check, validation, verify, parse, the store's apply, get_status). A
 * production build neither compiles this file (server/CMakeLists.txt) nor
 * has its table row.
 *
 *   secret     Standard Webhooks (srv_wh_standard.c), PAYWIRE_FAKE_WEBHOOK_SECRET
 *   body       {"event","session_id","payment_id","amount_minor","currency"}
 *   events     fake.paid (amount in minor units required) -> SUCCEEDED,
 *              fake.failed -> FAILED, anything else -> IGNORED
 *   event id   the webhook-id header (signed)
 */
#ifndef PW_TEST_HOOKS
#error "srv_wh_fake.c is the test builds' fake provider: build it only with PW_TEST_HOOKS"
#endif

#include "srv_wh.h"

#include <string.h>

/* The body's ids, in reading order. */
static const srv_wh_field fake_fields[] = {
	{ "session_id", "session_id", SRV_WH_REQUIRED, SRV_WH_EV(session_ref) },
	{ "payment_id", "payment_id", SRV_WH_OPTIONAL, SRV_WH_EV(payment_ref) },
};

static pw_status
fake_parse(const srv_wh_req *r)
{
	const char *event = r->ev->event_type;
	bool paid = false;
	pw_status rv;

	rv = srv_wh_std_envelope(r);
	if (rv == PW_OK) {
		rv = SRV_WH_FIELDS(r, r->root, fake_fields);
		paid = strcmp(event, "fake.paid") == 0;
	}
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, r->root, "amount_minor", "amount_minor",
		    paid ? SRV_WH_REQUIRED : SRV_WH_OPTIONAL, "currency");
	}
	r->ev->kind = paid ? PW_EV_PAYMENT_SUCCEEDED
	    : strcmp(event, "fake.failed") == 0 ? PW_EV_PAYMENT_FAILED
	                                        : PW_EV_IGNORED;
	return rv;
}

const srv_wh_ops srv_wh_ops_FAKE = { .provider = PW_PROVIDER_FAKE,
	.secret_decode = srv_wh_std_secret_decode, .verify = srv_wh_std_verify, .parse = fake_parse };
