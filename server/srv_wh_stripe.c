/*
 * srv_wh_stripe.c - Stripe webhooks: secret, signature and events.
 *
 *   secret     "whsec_..."; the HMAC key is the whole string's bytes
 *   header     stripe-signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]
 *   signed     "<t>.<body>", HMAC-SHA256, lower-case hex; any v1 may match,
 *              v0 and unknown schemes are ignored; t within the tolerance
 *   events     checkout.session.*, payment_intent.*, charge.succeeded,
 *              charge.refunded, charge.dispute.*, invoice.payment_succeeded,
 *              invoice.payment_failed, customer.subscription.deleted
 *              (docs/WEBHOOKS.md, "Stripe")
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
	if (!srv_wh_secret_prefixed(secret, len, SRV_WH_SECRET_PREFIX_LEN + 1)) {
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
	STRIPE_INVOICE,      /* an Invoice (a subscription's) */
	STRIPE_SUBSCRIPTION, /* a Subscription */
	STRIPE_OBJ_COUNT
} stripe_obj;

/* Stripe's event types; shape: what data.object is. */
static const srv_wh_event_type stripe_types[] = {
	{ "checkout.session.completed", STRIPE_CHECKOUT, PW_EV_PAYMENT_SUCCEEDED }, /* refined */
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
	{ "charge.dispute.closed", STRIPE_DISPUTE, PW_EV_DISPUTE_WON }, /* refined */
	{ "invoice.payment_succeeded", STRIPE_INVOICE, PW_EV_SUBSCRIPTION_PAID },
	{ "invoice.payment_failed", STRIPE_INVOICE, PW_EV_SUBSCRIPTION_PAST_DUE },
	{ "customer.subscription.deleted", STRIPE_SUBSCRIPTION, PW_EV_SUBSCRIPTION_ENDED },
};

/* obj.metadata.session_id -> session_ref, when present and not empty. */
static pw_status
stripe_metadata_ref(const srv_wh_req *r, json_t *obj)
{
	static const srv_wh_field session = { "session_id", "data.object.metadata.session_id",
		SRV_WH_OPTIONAL, SRV_WH_EV(session_ref) };
	json_t *md;
	pw_status rv;

	rv = srv_wh_json_obj(r, obj, "metadata", "data.object.metadata", SRV_WH_OPTIONAL, &md);
	return rv == PW_OK ? srv_wh_json_fields(r, md, &session, 1) : rv;
}

/* Checkout Session, after its ids and amount: the session reference, and for
 * checkout.session.completed whether the money moved. */
static pw_status
stripe_checkout(const srv_wh_req *r, json_t *obj)
{
	const char *ref, *ps = NULL;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "client_reference_id", "data.object.client_reference_id",
	    SRV_WH_OPTIONAL, &ref);
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

/* PaymentIntent, after its ids and amount: what was received, metadata. */
static pw_status
stripe_pi(const srv_wh_req *r, json_t *obj)
{
	int64_t received;
	bool has_received = false;
	pw_status rv;

	rv = srv_wh_json_int(r, obj, "amount_received", "data.object.amount_received",
	    SRV_WH_OPTIONAL, 0, PW_AMOUNT_MINOR_MAX, &received, &has_received);
	if (rv == PW_OK) {
		rv = stripe_metadata_ref(r, obj);
	}
	if (rv == PW_OK && r->ev->kind == PW_EV_PAYMENT_SUCCEEDED && has_received) {
		r->ev->amount_minor = received; /* what actually moved */
	}
	return rv;
}

/* Charge, after its ids and amount: metadata, and for charge.refunded the
 * cumulative amount refunded. */
static pw_status
stripe_charge(const srv_wh_req *r, json_t *obj)
{
	int64_t refunded;
	bool present;
	pw_status rv;

	rv = stripe_metadata_ref(r, obj);
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

/* Dispute, after its ids and amount: for charge.dispute.closed, who won. */
static pw_status
stripe_dispute(const srv_wh_req *r, json_t *obj)
{
	const char *status = NULL;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "status", "data.object.status", SRV_WH_REQUIRED, &status);
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

/* The latest lines.data[].period.end of an invoice (what its payment pays
 * for; the invoice's own period_end is not: for a subscription invoice it
 * is the end of the previous period). 0 when it has no line with a period. */
static pw_status
stripe_invoice_period(const srv_wh_req *r, json_t *obj)
{
	json_t *lines, *data, *line;
	size_t i;
	pw_status rv;

	rv = srv_wh_json_obj(r, obj, "lines", "data.object.lines", SRV_WH_OPTIONAL, &lines);
	if (rv != PW_OK || lines == NULL) {
		return rv;
	}
	data = json_object_get(lines, "data");
	if (data != NULL && !json_is_null(data) && !json_is_array(data)) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "data.object.lines.data must be an array");
	}
	json_array_foreach(data, i, line) {
		json_t *period;
		int64_t end;
		bool present;
		if (!json_is_object(line)) {
			return srv_wh_fail(r, PW_INVALID_ARGUMENT,
			    "data.object.lines.data[] must be objects");
		}
		rv = srv_wh_json_obj(r, line, "period", "data.object.lines.data[].period",
		    SRV_WH_OPTIONAL, &period);
		if (rv == PW_OK) {
			rv = srv_wh_json_int(r, period, "end", "data.object.lines.data[].period.end",
			    SRV_WH_OPTIONAL, 0, INT64_MAX / 1000, &end, &present);
		}
		if (rv != PW_OK) {
			return rv;
		}
		if (present && end > r->ev->period_end_unix_s) {
			r->ev->period_end_unix_s = end;
		}
	}
	return PW_OK;
}

/* A subscription's session id, when its creator put one in the metadata:
 * the invoice's own, else subscription_details.metadata (older API
 * versions), else parent.subscription_details.metadata (2025 and later,
 * which also moved the subscription id there). */
static pw_status
stripe_invoice_refs(const srv_wh_req *r, json_t *obj)
{
	static const srv_wh_field sub = { "subscription",
		"data.object.parent.subscription_details.subscription", SRV_WH_OPTIONAL,
		SRV_WH_EV(subscription_ref) };
	json_t *details = NULL, *parent = NULL;
	pw_status rv;

	rv = stripe_metadata_ref(r, obj);
	if (rv == PW_OK) {
		rv = srv_wh_json_obj(r, obj, "parent", "data.object.parent", SRV_WH_OPTIONAL, &parent);
	}
	if (rv == PW_OK && parent != NULL) {
		rv = srv_wh_json_obj(r, parent, "subscription_details",
		    "data.object.parent.subscription_details", SRV_WH_OPTIONAL, &details);
		if (rv == PW_OK && r->ev->subscription_ref[0] == '\0') {
			rv = srv_wh_json_fields(r, details, &sub, 1);
		}
	}
	if (rv == PW_OK && details == NULL) {
		rv = srv_wh_json_obj(r, obj, "subscription_details",
		    "data.object.subscription_details", SRV_WH_OPTIONAL, &details);
	}
	if (rv == PW_OK && r->ev->session_ref[0] == '\0' && details != NULL) {
		rv = stripe_metadata_ref(r, details);
	}
	return rv;
}

/* Invoice, after its ids and amount due: the subscription and session it
 * belongs to, why it was made, the period it pays for. An invoice of no
 * subscription is not paywire's. */
static pw_status
stripe_invoice(const srv_wh_req *r, json_t *obj)
{
	static const srv_wh_field reason = { "billing_reason", "data.object.billing_reason",
		SRV_WH_OPTIONAL, SRV_WH_EV(billing_reason) };
	pw_status rv;

	rv = stripe_invoice_refs(r, obj);
	if (rv == PW_OK) {
		rv = srv_wh_json_fields(r, obj, &reason, 1);
	}
	if (rv == PW_OK) {
		rv = stripe_invoice_period(r, obj);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (r->ev->subscription_ref[0] == '\0' && r->ev->session_ref[0] == '\0') {
		r->ev->kind = PW_EV_IGNORED;
		srv_wh_detail(r->ev, "invoice of no subscription");
		return PW_OK;
	}
	srv_wh_detail(r->ev, "invoice %s (%s) period end %lld", r->ev->order_ref,
	    r->ev->billing_reason[0] != '\0' ? r->ev->billing_reason : "no billing_reason",
	    (long long) r->ev->period_end_unix_s);
	return PW_OK;
}

/* Subscription (customer.subscription.deleted): its metadata's session id
 * and the end of its last period. */
static pw_status
stripe_subscription(const srv_wh_req *r, json_t *obj)
{
	const char *status = NULL;
	bool present;
	pw_status rv;

	rv = srv_wh_json_str(r, obj, "status", "data.object.status", SRV_WH_REQUIRED, &status);
	if (rv == PW_OK) {
		rv = stripe_metadata_ref(r, obj);
	}
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, obj, "current_period_end", "data.object.current_period_end",
		    SRV_WH_OPTIONAL, 0, INT64_MAX / 1000, &r->ev->period_end_unix_s, &present);
	}
	if (rv == PW_OK && srv_wh_word_ok(status, SRV_WH_DETAIL_WORD_MAX)) {
		srv_wh_detail(r->ev, "subscription %s", status);
	}
	return rv;
}

/* What each kind of data.object carries, read in this order: its own id
 * (required) and the id of the object it belongs to (stripe_ids), its amount
 * in minor units with data.object.currency (stripe_objs), then what only that
 * kind has (rest). */
static const struct {
	stripe_obj obj;             /* the kind */
	const char *key;            /* an id member of data.object */
	srv_wh_need need;           /* its own id is required, the related one is not */
	size_t offset;              /* the pw_event field it fills (SRV_WH_EV) */
	size_t size;                /* that field's size */
} stripe_ids[] = {
	{ STRIPE_CHECKOUT, "id", SRV_WH_REQUIRED, SRV_WH_EV(order_ref) },
	{ STRIPE_CHECKOUT, "payment_intent", SRV_WH_OPTIONAL, SRV_WH_EV(payment_ref) },
	{ STRIPE_CHECKOUT, "subscription", SRV_WH_OPTIONAL, SRV_WH_EV(subscription_ref) },
	{ STRIPE_CHECKOUT, "customer", SRV_WH_OPTIONAL, SRV_WH_EV(customer_ref) },
	{ STRIPE_PI, "id", SRV_WH_REQUIRED, SRV_WH_EV(payment_ref) },
	{ STRIPE_PI, "latest_charge", SRV_WH_OPTIONAL, SRV_WH_EV(charge_ref) },
	{ STRIPE_CHARGE, "id", SRV_WH_REQUIRED, SRV_WH_EV(charge_ref) },
	{ STRIPE_CHARGE, "payment_intent", SRV_WH_OPTIONAL, SRV_WH_EV(payment_ref) },
	{ STRIPE_DISPUTE, "charge", SRV_WH_REQUIRED, SRV_WH_EV(charge_ref) },
	{ STRIPE_DISPUTE, "payment_intent", SRV_WH_OPTIONAL, SRV_WH_EV(payment_ref) },
	{ STRIPE_INVOICE, "id", SRV_WH_REQUIRED, SRV_WH_EV(order_ref) },
	{ STRIPE_INVOICE, "subscription", SRV_WH_OPTIONAL, SRV_WH_EV(subscription_ref) },
	{ STRIPE_INVOICE, "customer", SRV_WH_OPTIONAL, SRV_WH_EV(customer_ref) },
	{ STRIPE_INVOICE, "payment_intent", SRV_WH_OPTIONAL, SRV_WH_EV(payment_ref) },
	{ STRIPE_INVOICE, "charge", SRV_WH_OPTIONAL, SRV_WH_EV(charge_ref) },
	{ STRIPE_SUBSCRIPTION, "id", SRV_WH_REQUIRED, SRV_WH_EV(subscription_ref) },
	{ STRIPE_SUBSCRIPTION, "customer", SRV_WH_OPTIONAL, SRV_WH_EV(customer_ref) },
};

static const struct {
	const char *amount;         /* its amount member (minor units); NULL: none */
	srv_wh_need need;           /* a Checkout Session's amount_total may be null */
	pw_status (*rest)(const srv_wh_req *r, json_t *obj); /* what only this kind has */
} stripe_objs[STRIPE_OBJ_COUNT] = {
	[STRIPE_CHECKOUT] = { "amount_total", SRV_WH_OPTIONAL, stripe_checkout },
	[STRIPE_PI] = { "amount", SRV_WH_REQUIRED, stripe_pi },
	[STRIPE_CHARGE] = { "amount", SRV_WH_REQUIRED, stripe_charge },
	[STRIPE_DISPUTE] = { "amount", SRV_WH_REQUIRED, stripe_dispute },
	[STRIPE_INVOICE] = { "amount_due", SRV_WH_OPTIONAL, stripe_invoice },
	[STRIPE_SUBSCRIPTION] = { NULL, SRV_WH_OPTIONAL, stripe_subscription },
};

/* Stripe counts some currencies in other units than ISO 4217
 * (pw_stripe_exponent): the event's amounts become paywire's minor units
 * here, exactly, so a correct payment in MGA or ISK is not an amount
 * mismatch. An amount that has no exact value in minor units (a fraction of
 * an ISK, which Stripe refuses since 2023) is refused with the reason. */
static pw_status
stripe_units(const srv_wh_req *r)
{
	pw_event *ev = r->ev;
	int iso;
	int st;

	if (!ev->has_amount) {
		return PW_OK;
	}
	iso = pw_currency_exponent(ev->currency);
	st = pw_stripe_exponent(ev->currency);
	PW_ASSERT(iso >= 0 && st >= 0); /* srv_wh_minor_amount checked the currency */
	if (iso == st) {
		return PW_OK;
	}
	if (pw_amount_rescale(ev->amount_minor, st, iso, &ev->amount_minor) != PW_OK ||
	    pw_amount_rescale(ev->amount_refunded_minor, st, iso, &ev->amount_refunded_minor) !=
	        PW_OK) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT,
		    "data.object amount is not a whole number of %s minor units (Stripe counts %s "
		    "with %d decimals, ISO 4217 with %d)", ev->currency, ev->currency, st, iso);
	}
	return PW_OK;
}

/* data.object of kind k: its ids, its amount, the rest. Labels are the
 * members' paths, "data.object.<key>". */
static pw_status
stripe_object(const srv_wh_req *r, stripe_obj k, json_t *obj)
{
	char label[64];
	pw_status rv = PW_OK;

	PW_ASSERT(k < STRIPE_OBJ_COUNT && stripe_objs[k].rest != NULL);
	for (size_t i = 0; i < sizeof(stripe_ids) / sizeof(stripe_ids[0]) && rv == PW_OK; i++) {
		srv_wh_field f = { .key = stripe_ids[i].key, .label = label,
			.need = stripe_ids[i].need, .offset = stripe_ids[i].offset,
			.size = stripe_ids[i].size };
		if (stripe_ids[i].obj == k) {
			(void) snprintf(label, sizeof(label), "data.object.%s", f.key);
			rv = srv_wh_json_fields(r, obj, &f, 1);
		}
	}
	(void) snprintf(label, sizeof(label), "data.object.%s",
	    stripe_objs[k].amount != NULL ? stripe_objs[k].amount : "");
	if (rv == PW_OK && stripe_objs[k].amount != NULL) {
		rv = srv_wh_minor_amount(r, obj, stripe_objs[k].amount, label, stripe_objs[k].need,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = stripe_objs[k].rest(r, obj);
	}
	return rv == PW_OK ? stripe_units(r) : rv;
}

/* Top-level members shared by every Stripe event. */
static pw_status
stripe_envelope(const srv_wh_req *r)
{
	static const srv_wh_field ids[] = {
		{ "id", "id", SRV_WH_REQUIRED, SRV_WH_EV(event_id) },
		{ "type", "type", SRV_WH_REQUIRED, SRV_WH_EV(event_type) },
	};
	json_t *live = json_object_get(r->root, "livemode");
	bool present;
	pw_status rv;

	rv = SRV_WH_FIELDS(r, r->root, ids);
	if (rv == PW_OK) {
		rv = srv_wh_json_int(r, r->root, "created", "created", SRV_WH_OPTIONAL, 0,
		    INT64_MAX / 1000, &r->ev->event_unix_s, &present);
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
	const srv_wh_event_type *t;
	json_t *data, *obj;
	pw_status rv;

	rv = stripe_envelope(r);
	if (rv != PW_OK) {
		return rv;
	}
	t = srv_wh_event_type_find(r, stripe_types, sizeof(stripe_types) / sizeof(stripe_types[0]),
	    "stripe event type not handled by paywire");
	if (t == NULL) {
		return PW_OK;
	}
	rv = srv_wh_json_obj(r, r->root, "data", "data", SRV_WH_REQUIRED, &data);
	if (rv == PW_OK) {
		rv = srv_wh_json_obj(r, data, "object", "data.object", SRV_WH_REQUIRED, &obj);
	}
	return rv == PW_OK ? stripe_object(r, (stripe_obj) t->shape, obj) : rv;
}

const srv_wh_ops srv_wh_ops_STRIPE = { .provider = PW_PROVIDER_STRIPE,
	.secret_decode = stripe_secret_decode, .verify = stripe_verify, .parse = stripe_parse };
