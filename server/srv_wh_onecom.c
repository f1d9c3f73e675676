/*
 * srv_wh_onecom.c - One.com webhooks: Standard Webhooks signing
 * (srv_wh_standard.c) and One.com's event body.
 *
 *   body       {"event","reference","amount","currency","payload":{"txn_id"}}
 *   events     payment.completed (amount and currency required),
 *              payment.failed; anything else is IGNORED
 *   session    "reference", required: this integration is paywire's own
 *   event id   the webhook-id header (signed)
 * docs/WEBHOOKS.md, "One.com".
 */
#include "srv_wh.h"

#include <string.h>

static pw_status
onecom_parse(const srv_wh_req *r)
{
	/* paywire's own integration: a body without reference is malformed */
	static const srv_wh_field reference = { "reference", "reference", SRV_WH_REQUIRED,
		SRV_WH_EV(session_ref) };
	static const srv_wh_field txn = { "txn_id", "payload.txn_id", SRV_WH_OPTIONAL,
		SRV_WH_EV(payment_ref) };
	const char *event = r->ev->event_type;
	json_t *payload = NULL;
	bool completed;
	pw_status rv;

	rv = srv_wh_std_envelope(r);
	if (rv == PW_OK) {
		rv = srv_wh_json_fields(r, r->root, &reference, 1);
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_obj(r, r->root, "payload", "payload", SRV_WH_OPTIONAL, &payload);
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_fields(r, payload, &txn, 1);
	}
	if (rv != PW_OK) {
		return rv;
	}
	completed = strcmp(event, "payment.completed") == 0;
	if (completed || json_object_get(r->root, "amount") != NULL) {
		rv = srv_wh_decimal_amount(r); /* required when money moved */
	}
	if (completed) {
		r->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	} else if (strcmp(event, "payment.failed") == 0) {
		r->ev->kind = PW_EV_PAYMENT_FAILED;
	} else {
		r->ev->kind = PW_EV_IGNORED;
		srv_wh_detail(r->ev, "one.com event not handled by paywire");
	}
	return rv;
}

const srv_wh_ops srv_wh_ops_ONECOM = { .provider = PW_PROVIDER_ONECOM,
	.secret_decode = srv_wh_std_secret_decode, .verify = srv_wh_std_verify, .parse = onecom_parse };
