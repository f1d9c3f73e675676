/*
 * srv_wh_stripe.c - Stripe webhooks: secret, signature and events.
 *
 *   secret     "whsec_..."; the HMAC key is the whole string's bytes
 *   header     stripe-signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]
 *   signed     "<t>.<body>", HMAC-SHA256, lower-case hex; any v1 may match,
 *              v0 and unknown schemes are ignored; t within the tolerance
 *   events     checkout.session.*, payment_intent.*, charge.succeeded,
 *              charge.refunded, charge.dispute.* (docs/WEBHOOKS.md, "Stripe")
 *   event id   the body's "id" (signed)
 */
#include "srv_wh.h"

#include <string.h>

/* Stripe signing secrets are whsec_ strings, used as they are. */
static bool
stripe_secret_decode(const char *secret, size_t len, srv_webhook_secret *out, char *why,
    size_t why_size)
{
	PW_ASSERT(why != NULL && why_size > 0);
	if (len <= SRV_WH_SECRET_PREFIX_LEN ||
	    strncmp(secret, SRV_WH_SECRET_PREFIX, SRV_WH_SECRET_PREFIX_LEN) != 0) {
		(void) snprintf(why, why_size, "must start with whsec_ (Stripe signing secret)");
		return false;
	}
	return srv_wh_secret_raw(secret, len, out, why, why_size);
}

/* ---------------------------------------------------------------------------
 * Signature
 */

/* One "key=value" item of a Stripe-Signature header, already split. */
static bool
stripe_sig_item(const srv_wh_req *r, const char *item, size_t len, const char **t,
    size_t *t_len, srv_wh_sigs *sigs)
{
	const char *eq = memchr(item, '=', len);
	size_t klen = eq == NULL ? 0 : (size_t) (eq - item);
	const char *val = eq == NULL ? NULL : eq + 1;
	size_t vlen = eq == NULL ? 0 : len - klen - 1;

	if (eq == NULL || klen == 0) {
		(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed stripe-signature header: an "
		                                          "item is not key=value");
		return false;
	}
	if (klen == 1 && item[0] == 't') {
		if (*t != NULL) {
			(void) srv_wh_fail(r, PW_UNAUTHENTICATED,
			    "malformed stripe-signature header: t= twice");
			return false;
		}
		*t = val;
		*t_len = vlen;
		return true;
	}
	if (++sigs->entries > PW_WEBHOOK_SIGNATURES_MAX) {
		(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "stripe-signature header lists more than "
		    "%d signatures", PW_WEBHOOK_SIGNATURES_MAX);
		return false;
	}
	if (klen == 2 && item[0] == 'v' && item[1] == '1') {
		if (!srv_wh_hex_mac(val, vlen, sigs->mac[sigs->count])) {
			(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed stripe-signature header: "
			                                          "a v1 signature is not 64 hex digits");
			return false;
		}
		sigs->count++;
	}
	return true; /* v0 and unknown schemes are ignored, as Stripe documents */
}

static pw_status
stripe_verify(const srv_wh_req *r)
{
	const char *hv;
	size_t hlen;
	const char *t = NULL;
	size_t t_len = 0;
	int64_t ts = 0;
	srv_wh_sigs sigs = { .count = 0 };
	size_t pos = 0;

	if (!srv_wh_header_get(r, "stripe-signature", &hv, &hlen)) {
		return PW_UNAUTHENTICATED;
	}
	while (pos <= hlen) {
		const char *comma = memchr(hv + pos, ',', hlen - pos);
		size_t end = comma == NULL ? hlen : (size_t) (comma - hv);
		if (!stripe_sig_item(r, hv + pos, end - pos, &t, &t_len, &sigs)) {
			return PW_UNAUTHENTICATED;
		}
		pos = end + 1;
	}
	if (t == NULL || !srv_wh_ts_parse(t, t_len, &ts)) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed stripe-signature header: no "
		                                          "t=<unix timestamp>");
	}
	if (sigs.count == 0) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "stripe-signature header has no v1 "
		                                          "signature");
	}
	{
		const srv_wh_part parts[] = { { t, t_len }, { ".", 1 }, { r->body, r->body_len } };
		if (!srv_wh_any_match(r, parts, 3, &sigs)) {
			return srv_wh_fail(r, PW_UNAUTHENTICATED, "no stripe-signature v1 signature "
			    "matches the body with any of the %zu configured secrets", r->kr->count);
		}
	}
	return srv_wh_ts_check(r, "stripe-signature timestamp", ts);
}

/* ---------------------------------------------------------------------------
 * Events
 */

typedef enum stripe_obj {
	STRIPE_CHECKOUT = 0, /* data.object is a Checkout Session */
	STRIPE_PI,           /* a PaymentIntent */
	STRIPE_CHARGE,       /* a Charge */
	STRIPE_DISPUTE,      /* a Dispute */
} stripe_obj;

static const struct {
	const char *type;   /* Stripe event type */
	stripe_obj obj;     /* what data.object is */
	pw_event_kind kind; /* meaning (refined for completed / dispute.closed) */
} stripe_types[] = {
	{ "checkout.session.completed", STRIPE_CHECKOUT, PW_EV_PAYMENT_SUCCEEDED },
	{ "checkout.session.async_payment_succeeded", STRIPE_CHECKOUT, PW_EV_PAYMENT_SUCCEEDED },
	{ "checkout.session.async_payment_failed", STRIPE_CHECKOUT, PW_EV_PAYMENT_FAILED },
	{ "checkout.session.expired", STRIPE_CHECKOUT, PW_EV_SESSION_EXPIRED },
	{ "payment_intent.processing", STRIPE_PI, PW_EV_PAYMENT_PENDING },
	{ "payment_intent.succeeded", STRIPE_PI, PW_EV_PAYMENT_SUCCEEDED },
	{ "payment_intent.payment_failed", STRIPE_PI, PW_EV_PAYMENT_FAILED },
	{ "payment_intent.canceled", STRIPE_PI, PW_EV_PAYMENT_CANCELED },
	{ "charge.succeeded", STRIPE_CHARGE, PW_EV_PAYMENT_SUCCEEDED },
	{ "charge.refunded", STRIPE_CHARGE, PW_EV_REFUND },
	{ "charge.dispute.created", STRIPE_DISPUTE, PW_EV_DISPUTE_OPENED },
	{ "charge.dispute.closed", STRIPE_DISPUTE, PW_EV_DISPUTE_WON },
};

/* obj.metadata.session_id -> session_ref, when present and not empty. */
static pw_status
stripe_metadata_ref(const srv_wh_req *r, json_t *obj)
{
	json_t *md;
	const char *sid;
	pw_status rv;

	rv = srv_wh_json_obj(r, obj, "metadata", "data.object.metadata", SRV_WH_OPTIONAL, &md);
	if (rv != PW_OK) {
		return rv;
	}
	rv = srv_wh_json_str(r, md, "session_id", "data.object.metadata.session_id", SRV_WH_OPTIONAL,
	    &sid);
	if (rv != PW_OK) {
		return rv;
	}
	return srv_wh_copy(r, r->ev->session_ref, sizeof(r->ev->session_ref), sid,
	    "data.object.metadata.session_id");
}

static pw_status
stripe_checkout(const srv_wh_req *r, json_t *obj)
{
	const char *id, *pi, *ref, *ps = NULL;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "id", "data.object.id", SRV_WH_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->order_ref, sizeof(r->ev->order_ref), id, "data.object.id");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, obj, "payment_intent", "data.object.payment_intent",
		    SRV_WH_OPTIONAL, &pi);
	}
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->payment_ref, sizeof(r->ev->payment_ref), pi,
		    "data.object.payment_intent");
	}
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, obj, "amount_total", "data.object.amount_total",
		    SRV_WH_OPTIONAL, "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, obj, "client_reference_id", "data.object.client_reference_id",
		    SRV_WH_OPTIONAL, &ref);
	}
	if (rv == PW_OK && ref != NULL && ref[0] != '\0') {
		rv = srv_wh_copy(r, r->ev->session_ref, sizeof(r->ev->session_ref), ref,
		    "data.object.client_reference_id");
	} else if (rv == PW_OK) {
		rv = stripe_metadata_ref(r, obj);
	}
	if (rv != PW_OK || strcmp(r->ev->event_type, "checkout.session.completed") != 0) {
		return rv;
	}
	/* completed: paid now, or later for asynchronous methods (bank debits) */
	rv = srv_wh_json_str(r, obj, "payment_status", "data.object.payment_status", SRV_WH_REQUIRED,
	    &ps);
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(ps != NULL);
	if (strcmp(ps, "paid") == 0 || strcmp(ps, "no_payment_required") == 0) {
		r->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	} else if (strcmp(ps, "unpaid") == 0) {
		r->ev->kind = PW_EV_PAYMENT_PENDING;
		srv_wh_detail(r->ev, "checkout completed, payment unpaid (asynchronous method)");
	} else {
		r->ev->kind = PW_EV_IGNORED;
		srv_wh_detail(r->ev, "unknown checkout payment_status");
	}
	return PW_OK;
}

static pw_status
stripe_pi(const srv_wh_req *r, json_t *obj)
{
	const char *id, *charge;
	int64_t received;
	bool has_received = false;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "id", "data.object.id", SRV_WH_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->payment_ref, sizeof(r->ev->payment_ref), id, "data.object.id");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, obj, "latest_charge", "data.object.latest_charge", SRV_WH_OPTIONAL,
		    &charge);
	}
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->charge_ref, sizeof(r->ev->charge_ref), charge,
		    "data.object.latest_charge");
	}
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, obj, "amount", "data.object.amount", SRV_WH_REQUIRED,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, obj, "amount_received", "data.object.amount_received",
		    SRV_WH_OPTIONAL, 0, PW_AMOUNT_MINOR_MAX, &received, &has_received);
	}
	if (rv == PW_OK) {
		rv = stripe_metadata_ref(r, obj);
	}
	if (rv == PW_OK && r->ev->kind == PW_EV_PAYMENT_SUCCEEDED && has_received) {
		r->ev->amount_minor = received; /* what actually moved */
	}
	return rv;
}

static pw_status
stripe_charge(const srv_wh_req *r, json_t *obj)
{
	const char *id, *pi;
	int64_t refunded;
	bool present;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "id", "data.object.id", SRV_WH_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->charge_ref, sizeof(r->ev->charge_ref), id, "data.object.id");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, obj, "payment_intent", "data.object.payment_intent",
		    SRV_WH_OPTIONAL, &pi);
	}
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->payment_ref, sizeof(r->ev->payment_ref), pi,
		    "data.object.payment_intent");
	}
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, obj, "amount", "data.object.amount", SRV_WH_REQUIRED,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = stripe_metadata_ref(r, obj);
	}
	if (rv != PW_OK || r->ev->kind != PW_EV_REFUND) {
		return rv;
	}
	rv = srv_wh_json_int(r, obj, "amount_refunded", "data.object.amount_refunded", SRV_WH_REQUIRED,
	    0, r->ev->amount_minor, &refunded, &present);
	if (rv != PW_OK) {
		return rv;
	}
	r->ev->amount_refunded_minor = refunded; /* cumulative, as Stripe reports it */
	srv_wh_detail(r->ev, "refunded %lld of %lld minor units%s", (long long) refunded,
	    (long long) r->ev->amount_minor, refunded < r->ev->amount_minor ? " (partial)" : "");
	return PW_OK;
}

static pw_status
stripe_dispute(const srv_wh_req *r, json_t *obj)
{
	const char *charge, *pi, *status = NULL;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "charge", "data.object.charge", SRV_WH_REQUIRED, &charge);
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->charge_ref, sizeof(r->ev->charge_ref), charge,
		    "data.object.charge");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, obj, "payment_intent", "data.object.payment_intent",
		    SRV_WH_OPTIONAL, &pi);
	}
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->payment_ref, sizeof(r->ev->payment_ref), pi,
		    "data.object.payment_intent");
	}
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, obj, "amount", "data.object.amount", SRV_WH_REQUIRED,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, obj, "status", "data.object.status", SRV_WH_REQUIRED, &status);
	}
	if (rv != PW_OK || r->ev->kind == PW_EV_DISPUTE_OPENED) {
		return rv;
	}
	/* charge.dispute.closed: only won and lost move money for good */
	PW_ASSERT(status != NULL);
	if (strcmp(status, "won") == 0) {
		r->ev->kind = PW_EV_DISPUTE_WON;
	} else if (strcmp(status, "lost") == 0) {
		r->ev->kind = PW_EV_DISPUTE_LOST;
	} else {
		r->ev->kind = PW_EV_IGNORED;
		if (srv_wh_word_ok(status, SRV_WH_DETAIL_WORD_MAX)) {
			srv_wh_detail(r->ev, "dispute closed with status %s", status);
		}
	}
	return PW_OK;
}

/* Top-level fields shared by every Stripe event. */
static pw_status
stripe_envelope(const srv_wh_req *r)
{
	const char *id, *type;
	json_t *live = json_object_get(r->root, "livemode");
	bool present;
	pw_status rv;

	rv = srv_wh_json_str(r, r->root, "id", "id", SRV_WH_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->event_id, sizeof(r->ev->event_id), id, "id");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, r->root, "type", "type", SRV_WH_REQUIRED, &type);
	}
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->event_type, sizeof(r->ev->event_type), type, "type");
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, r->root, "created", "created", SRV_WH_OPTIONAL, 0, INT64_MAX / 1000,
		    &r->ev->event_unix_s, &present);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (live != NULL && !json_is_null(live) && !json_is_boolean(live)) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "livemode must be a boolean");
	}
	r->ev->live = live == NULL || json_is_null(live) ? -1 : json_is_true(live) ? 1 : 0;
	return PW_OK;
}

static pw_status
stripe_parse(const srv_wh_req *r)
{
	json_t *data, *obj;
	size_t n = sizeof(stripe_types) / sizeof(stripe_types[0]);
	size_t i;
	pw_status rv;

	rv = stripe_envelope(r);
	if (rv != PW_OK) {
		return rv;
	}
	for (i = 0; i < n && strcmp(stripe_types[i].type, r->ev->event_type) != 0; i++) {
	}
	if (i == n) {
		r->ev->kind = PW_EV_IGNORED;
		srv_wh_detail(r->ev, "stripe event type not handled by paywire");
		return PW_OK;
	}
	r->ev->kind = stripe_types[i].kind;
	rv = srv_wh_json_obj(r, r->root, "data", "data", SRV_WH_REQUIRED, &data);
	if (rv == PW_OK) {
		rv = srv_wh_json_obj(r, data, "object", "data.object", SRV_WH_REQUIRED, &obj);
	}
	if (rv != PW_OK) {
		return rv;
	}
	switch (stripe_types[i].obj) {
	case STRIPE_CHECKOUT:
		return stripe_checkout(r, obj);
	case STRIPE_PI:
		return stripe_pi(r, obj);
	case STRIPE_CHARGE:
		return stripe_charge(r, obj);
	case STRIPE_DISPUTE:
		return stripe_dispute(r, obj);
	}
	PW_ASSERT(!"unhandled stripe object kind");
	return PW_INTERNAL;
}

const srv_wh_ops srv_wh_ops_STRIPE = {
	.provider = PW_PROVIDER_STRIPE,
	.secret_help = "whsec_... (several: separated by commas/spaces)",
	.secret_decode = stripe_secret_decode,
	.verify = stripe_verify,
	.parse = stripe_parse,
};
