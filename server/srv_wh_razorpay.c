/*
 * srv_wh_razorpay.c - Razorpay webhooks: secret, signature and events.
 *
 *   secret     any printable string; the HMAC key is its bytes
 *   header     x-razorpay-signature: <hex>
 *   signed     the body, HMAC-SHA256, hex; no timestamp is signed, so none
 *              is checked (dedup on the event id guards replays)
 *   events     payment.authorized/captured/failed, order.paid,
 *              refund.processed (docs/WEBHOOKS.md, "Razorpay")
 *   event id   "<event>:<entity id>" from the signed body, never the unsigned
 *              x-razorpay-event-id header
 */
#include "srv_wh.h"

#include <string.h>

_Static_assert(PW_EV_TYPE_BYTES - 1 + 1 + PW_EV_REF_BYTES - 1 < PW_EV_ID_BYTES,
    "razorpay <event>:<entity id> fits event_id");

static pw_status
razorpay_verify(const srv_wh_req *r)
{
	const char *hv;
	size_t hlen;
	srv_wh_sigs sigs = { .count = 0 };
	const srv_wh_part parts[] = { { r->body, r->body_len } };

	if (!srv_wh_header_get(r, "x-razorpay-signature", &hv, &hlen)) {
		return PW_UNAUTHENTICATED;
	}
	if (!srv_wh_hex_mac(hv, hlen, sigs.mac[0])) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed x-razorpay-signature header: "
		                                          "not 64 hex digits");
	}
	sigs.count = 1;
	if (!srv_wh_any_match(r, parts, 1, &sigs)) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "x-razorpay-signature does not match the "
		    "body with any of the %zu configured secrets", r->kr->count);
	}
	return PW_OK; /* Razorpay signs no timestamp: dedup guards replays */
}

/* ---------------------------------------------------------------------------
 * Events
 */

typedef enum rzp_shape {
	RZP_PAYMENT = 0, /* payload.payment.entity */
	RZP_ORDER,       /* payload.order.entity + payload.payment.entity */
	RZP_REFUND,      /* payload.refund.entity (+ payload.payment.entity) */
	RZP_NONE,        /* an event paywire does not act on */
} rzp_shape;

/* Razorpay's events; shape: which entities the payload carries. */
static const srv_wh_event_type rzp_types[] = {
	{ "payment.authorized", RZP_PAYMENT, PW_EV_PAYMENT_PENDING },
	{ "payment.captured", RZP_PAYMENT, PW_EV_PAYMENT_SUCCEEDED },
	{ "payment.failed", RZP_PAYMENT, PW_EV_PAYMENT_FAILED },
	{ "order.paid", RZP_ORDER, PW_EV_PAYMENT_SUCCEEDED },
	{ "refund.processed", RZP_REFUND, PW_EV_REFUND },
};

/* payload.<name>.entity (an object or NULL when absent and optional). */
static pw_status
rzp_entity(const srv_wh_req *r, const char *name, srv_wh_need need, json_t **out)
{
	char label[64];
	json_t *payload, *wrap;
	pw_status rv;

	*out = NULL;
	rv = srv_wh_json_obj(r, r->root, "payload", "payload", need, &payload);
	if (rv == PW_OK) {
		(void) snprintf(label, sizeof(label), "payload.%s", name);
		rv = srv_wh_json_obj(r, payload, name, label, need, &wrap);
	}
	if (rv == PW_OK) {
		(void) snprintf(label, sizeof(label), "payload.%s.entity", name);
		rv = srv_wh_json_obj(r, wrap, "entity", label, need, out);
	}
	return rv;
}

/* entity.notes.session_id -> session_ref when still empty. notes is an
 * object when set and an empty array [] when not (Razorpay's own samples). */
static pw_status
rzp_notes_ref(const srv_wh_req *r, json_t *entity, const char *label)
{
	static const srv_wh_field session = { "session_id", "notes.session_id", SRV_WH_OPTIONAL,
		SRV_WH_EV(session_ref) };
	json_t *notes = entity == NULL ? NULL : json_object_get(entity, "notes");

	if (r->ev->session_ref[0] != '\0' || notes == NULL || json_is_null(notes)) {
		return PW_OK;
	}
	if (json_is_array(notes) && json_array_size(notes) == 0) {
		return PW_OK;
	}
	if (!json_is_object(notes)) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT,
		    "%s.notes must be an object or an empty array", label);
	}
	return srv_wh_json_fields(r, notes, &session, 1);
}

/* A payment entity: id -> payment_ref, order_id -> order_ref (kept when
 * absent), amount and currency, notes -> session_ref. */
static pw_status
rzp_payment(const srv_wh_req *r, json_t *pay)
{
	static const srv_wh_field ids[] = {
		{ "id", "payload.payment.entity.id", SRV_WH_REQUIRED, SRV_WH_EV(payment_ref) },
		{ "order_id", "payload.payment.entity.order_id", SRV_WH_OPTIONAL, SRV_WH_EV(order_ref) },
	};
	pw_status rv;

	rv = SRV_WH_FIELDS(r, pay, ids);
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, pay, "amount", "payload.payment.entity.amount", SRV_WH_REQUIRED,
		    "payload.payment.entity.currency");
	}
	return rv == PW_OK ? rzp_notes_ref(r, pay, "payload.payment.entity") : rv;
}

static pw_status
rzp_shape_payment(const srv_wh_req *r, const char **entity_id)
{
	json_t *pay, *order;
	const char *code = NULL;
	pw_status rv;

	rv = rzp_entity(r, "payment", SRV_WH_REQUIRED, &pay);
	if (rv == PW_OK) {
		rv = rzp_payment(r, pay);
	}
	if (rv == PW_OK) {
		rv = rzp_entity(r, "order", SRV_WH_OPTIONAL, &order); /* notes fallback */
	}
	if (rv == PW_OK) {
		rv = rzp_notes_ref(r, order, "payload.order.entity");
	}
	if (rv == PW_OK && r->ev->kind == PW_EV_PAYMENT_FAILED) {
		rv = srv_wh_json_str(r, pay, "error_reason", "payload.payment.entity.error_reason",
		    SRV_WH_OPTIONAL, &code);
		if (rv == PW_OK && code != NULL && srv_wh_word_ok(code, SRV_WH_DETAIL_WORD_MAX)) {
			srv_wh_detail(r->ev, "error_reason %s", code);
		}
	}
	*entity_id = r->ev->payment_ref;
	return rv;
}

static pw_status
rzp_shape_order(const srv_wh_req *r, const char **entity_id)
{
	json_t *order, *pay;
	const char *id;
	pw_status rv;

	rv = rzp_entity(r, "order", SRV_WH_REQUIRED, &order);
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, order, "id", "payload.order.entity.id", SRV_WH_REQUIRED, &id);
	}
	if (rv == PW_OK) {
		rv = rzp_entity(r, "payment", SRV_WH_OPTIONAL, &pay);
	}
	if (rv == PW_OK && pay != NULL) {
		rv = rzp_payment(r, pay); /* the money that moved */
	} else if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, order, "amount_paid", "payload.order.entity.amount_paid",
		    SRV_WH_REQUIRED, "payload.order.entity.currency");
	}
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->order_ref, sizeof(r->ev->order_ref), id,
		    "payload.order.entity.id");
	}
	if (rv == PW_OK) {
		rv = rzp_notes_ref(r, order, "payload.order.entity");
	}
	*entity_id = r->ev->order_ref;
	return rv;
}

/* refund.processed: the refund entity, plus the payment entity when present
 * (amount of the payment, cumulative amount_refunded, notes). */
static pw_status
rzp_shape_refund(const srv_wh_req *r, const char **entity_id)
{
	json_t *refund, *pay;
	const char *rid, *pay_id;
	int64_t ramount = 0, cumulative = 0;
	bool present = false;
	pw_status rv;

	*entity_id = NULL;
	rv = rzp_entity(r, "refund", SRV_WH_REQUIRED, &refund);
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, refund, "id", "payload.refund.entity.id", SRV_WH_REQUIRED, &rid);
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_str(r, refund, "payment_id", "payload.refund.entity.payment_id",
		    SRV_WH_REQUIRED, &pay_id);
	}
	if (rv == PW_OK) {
		rv = srv_wh_minor_amount(r, refund, "amount", "payload.refund.entity.amount",
		    SRV_WH_REQUIRED, "payload.refund.entity.currency");
	}
	if (rv == PW_OK) {
		ramount = r->ev->amount_minor;
		rv = rzp_entity(r, "payment", SRV_WH_OPTIONAL, &pay);
	}
	if (rv != PW_OK) {
		return rv;
	}
	*entity_id = rid;
	if (pay == NULL) {
		/* Without the payment: the payment's amount and the running total
		 * are unknown; this refund's amount is a lower bound of both. */
		r->ev->amount_refunded_minor = ramount;
		srv_wh_detail(r->ev, "no payment entity: cumulative refunded taken as this refund");
		return srv_wh_copy(r, r->ev->payment_ref, sizeof(r->ev->payment_ref), pay_id,
		    "payload.refund.entity.payment_id");
	}
	{
		char cur[4];
		memcpy(cur, r->ev->currency, sizeof(cur));
		rv = rzp_payment(r, pay);
		if (rv == PW_OK && (strcmp(r->ev->payment_ref, pay_id) != 0 ||
		                       strcmp(cur, r->ev->currency) != 0)) {
			return srv_wh_fail(r, PW_INVALID_ARGUMENT,
			    "refund and payment entities disagree on payment id or currency");
		}
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, pay, "amount_refunded", "payload.payment.entity.amount_refunded",
		    SRV_WH_OPTIONAL, 0, r->ev->amount_minor, &cumulative, &present);
	}
	if (rv == PW_OK && ramount > r->ev->amount_minor) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "refund amount exceeds the payment amount");
	}
	/* amount_refunded includes this refund; never report less than it */
	r->ev->amount_refunded_minor = present && cumulative > ramount ? cumulative : ramount;
	return rv;
}

/* Event id from signed content: "<event>:<entity id>", or for types paywire
 * does not handle "<event>:body-<BLAKE2b-128 of the body>" (see WEBHOOKS.md). */
static pw_status
rzp_event_id(const srv_wh_req *r, const char *entity_id)
{
	char tail[PW_EV_REF_BYTES];
	int n;

	if (entity_id != NULL) {
		PW_ASSERT(pw_strlcpy(tail, entity_id, sizeof(tail)));
	} else {
		uint8_t h[16];
		char hex[2 * sizeof(h) + 1];
		(void) crypto_generichash(h, sizeof(h), r->body, r->body_len, NULL, 0);
		pw_hex(hex, sizeof(hex), h, sizeof(h));
		(void) snprintf(tail, sizeof(tail), "body-%s", hex);
	}
	n = snprintf(r->ev->event_id, sizeof(r->ev->event_id), "%s:%s", r->ev->event_type, tail);
	PW_ASSERT(n > 0 && (size_t) n < sizeof(r->ev->event_id));
	return PW_OK;
}

static pw_status
razorpay_parse(const srv_wh_req *r)
{
	static const srv_wh_field type = { "event", "event", SRV_WH_REQUIRED, SRV_WH_EV(event_type) };
	const srv_wh_event_type *t;
	rzp_shape shape;
	const char *hdr_id = NULL, *entity_id = NULL;
	bool present;
	pw_status rv;

	r->ev->live = -1; /* Razorpay webhooks do not say */
	rv = srv_wh_json_fields(r, r->root, &type, 1);
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, r->root, "created_at", "created_at", SRV_WH_OPTIONAL, 0,
		    INT64_MAX / 1000, &r->ev->event_unix_s, &present);
	}
	if (rv != PW_OK) {
		return rv;
	}
	t = srv_wh_event_type_find(r, rzp_types, sizeof(rzp_types) / sizeof(rzp_types[0]),
	    "razorpay event not handled by paywire");
	shape = t == NULL ? RZP_NONE : (rzp_shape) t->shape;
	switch (shape) {
	case RZP_NONE:
		break; /* IGNORED: the event id is made from the body */
	case RZP_PAYMENT:
		rv = rzp_shape_payment(r, &entity_id);
		break;
	case RZP_ORDER:
		rv = rzp_shape_order(r, &entity_id);
		break;
	case RZP_REFUND:
		rv = rzp_shape_refund(r, &entity_id);
		break;
	}
	if (rv == PW_OK) {
		rv = rzp_event_id(r, entity_id);
	}
	/* the header id is not signed: reported, never used as the dedup key */
	if (rv == PW_OK && srv_webhook_header_find(r->h, r->nh, "x-razorpay-event-id", &hdr_id) == 1 &&
	    srv_wh_word_ok(hdr_id, SRV_WH_DETAIL_WORD_MAX)) {
		srv_wh_detail(r->ev, "x-razorpay-event-id %s (unsigned)", hdr_id);
	}
	return rv;
}

const srv_wh_ops srv_wh_ops_RAZORPAY = { .provider = PW_PROVIDER_RAZORPAY,
	.secret_decode = srv_wh_secret_raw, .verify = razorpay_verify, .parse = razorpay_parse };
