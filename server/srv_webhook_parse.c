/*
 * srv_webhook_parse.c - a verified webhook body -> one pw_event.
 *
 * Contract in srv_webhook.h; the field-by-field mapping of every provider and
 * the decisions (Razorpay event ids, exact amounts) are in docs/WEBHOOKS.md.
 * Everything here runs on a body whose signature was already checked, but is
 * written as if it were hostile anyway: every field is type- and
 * range-checked, every string bounds-checked before it is copied.
 */
#include <stdarg.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "srv_webhook.h"

/* Blockchain transaction ids: 0x + 64 hex for EVM chains, up to 88 base58
 * chars for Solana; "<network>:<tx>:<log_index>" must also fit payment_ref. */
#define WP_TX_BYTES_MAX 100
/* Provider strings quoted in pw_event.detail (codes, statuses, header ids). */
#define WP_DETAIL_WORD_MAX 48

_Static_assert(PW_EV_TYPE_BYTES - 1 + 1 + PW_EV_REF_BYTES - 1 < PW_EV_ID_BYTES,
    "razorpay <event>:<entity id> fits event_id");

typedef enum wp_need { WP_OPTIONAL = 0, WP_REQUIRED = 1 } wp_need;

/* State of one parse. */
typedef struct wp_ctx {
	const srv_webhook_config *cfg; /* confirmation minimums */
	const srv_header *h;           /* request headers (lower-case names) */
	size_t nh;                     /* number of headers */
	const uint8_t *body;           /* raw body, exactly as signed */
	size_t body_len;               /* raw body length */
	json_t *root;                  /* decoded body (an object), owned here */
	pw_event *ev;                  /* output being filled */
	char *why;                     /* reason out, may be NULL */
	size_t why_size;               /* size of why */
} wp_ctx;

static pw_status wp_fail(wp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why and answers PW_INVALID_ARGUMENT (the only parse error). */
static pw_status
wp_fail(wp_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why != NULL && c->why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(c->why, c->why_size, fmt, ap);
		va_end(ap);
	}
	return PW_INVALID_ARGUMENT;
}

/* ASCII upper case -> lower case; anything else unchanged. */
static char
wp_lower(char ch)
{
	if (ch >= 'A' && ch <= 'Z') {
		ch = (char) (ch - 'A' + 'a');
	}
	return ch;
}

static bool
wp_printable_word(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len == 0 || len > max) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) s[i];
		if (ch <= 0x20 || ch >= 0x7f) {
			return false;
		}
	}
	return true;
}

/* Appends "; <note>" to ev->detail when the whole note fits; a note that does
 * not fit is left out whole (detail is a human aid, never data). The notes
 * built here are bounded, so in practice they always fit. */
static void wp_detail(pw_event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wp_detail(pw_event *ev, const char *fmt, ...)
{
	char note[sizeof(ev->detail)];
	size_t used = strlen(ev->detail);
	const char *sep = used > 0 ? "; " : "";
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	if (n < 0 || used + strlen(sep) + (size_t) n >= sizeof(ev->detail)) {
		return;
	}
	(void) snprintf(ev->detail + used, sizeof(ev->detail) - used, "%s%s", sep, note);
}

/* ---------------------------------------------------------------------------
 * Typed member access. `label` is the field's path, for why.
 */

/* parent.key as an object; absent or null: *out = NULL (an error if
 * required). parent may be NULL (then everything in it is absent). */
static pw_status
wp_obj(wp_ctx *c, json_t *parent, const char *key, const char *label, wp_need need, json_t **out)
{
	json_t *v = parent == NULL ? NULL : json_object_get(parent, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		return need == WP_REQUIRED ? wp_fail(c, "missing object %s", label) : PW_OK;
	}
	if (!json_is_object(v)) {
		return wp_fail(c, "%s must be an object", label);
	}
	*out = v;
	return PW_OK;
}

/* parent.key as a string; absent or null: *out = NULL (an error if
 * required, as is an empty string then). */
static pw_status
wp_str(wp_ctx *c, json_t *parent, const char *key, const char *label, wp_need need,
    const char **out)
{
	json_t *v = parent == NULL ? NULL : json_object_get(parent, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		return need == WP_REQUIRED ? wp_fail(c, "missing string %s", label) : PW_OK;
	}
	if (!json_is_string(v)) {
		return wp_fail(c, "%s must be a string", label);
	}
	if (need == WP_REQUIRED && json_string_length(v) == 0) {
		return wp_fail(c, "%s is empty", label);
	}
	*out = json_string_value(v);
	return PW_OK;
}

/* parent.key as a JSON integer in [lo, hi]; *present tells whether it was
 * there (absent or null is an error if required). A JSON real is refused:
 * these fields are counts or minor units, never fractions. */
static pw_status
wp_int(wp_ctx *c, json_t *parent, const char *key, const char *label, wp_need need, int64_t lo,
    int64_t hi, int64_t *out, bool *present)
{
	json_t *v = parent == NULL ? NULL : json_object_get(parent, key);
	json_int_t x;

	PW_ASSERT(lo <= hi);
	*present = false;
	*out = 0;
	if (v == NULL || json_is_null(v)) {
		return need == WP_REQUIRED ? wp_fail(c, "missing integer %s", label) : PW_OK;
	}
	if (!json_is_integer(v)) {
		return wp_fail(c, "%s must be an integer", label);
	}
	x = json_integer_value(v);
	if (x < lo || x > hi) {
		return wp_fail(c, "%s is out of range %lld..%lld", label, (long long) lo,
		    (long long) hi);
	}
	*out = x;
	*present = true;
	return PW_OK;
}

/* Copies an identifier into a pw_event field: printable ASCII without
 * spaces, and it must fit (never truncated). src NULL or "" leaves "". */
static pw_status
wp_copy(wp_ctx *c, char *dst, size_t dst_size, const char *src, const char *label)
{
	size_t len;

	PW_ASSERT(dst_size > 0);
	dst[0] = '\0';
	if (src == NULL || src[0] == '\0') {
		return PW_OK;
	}
	len = strnlen(src, dst_size);
	if (len >= dst_size) {
		return wp_fail(c, "%s is longer than %zu bytes", label, dst_size - 1);
	}
	if (!wp_printable_word(src, dst_size - 1)) {
		return wp_fail(c, "%s must be printable ASCII without spaces", label);
	}
	PW_ASSERT(pw_strlcpy(dst, src, dst_size));
	return PW_OK;
}

/* parent.key: an ISO 4217 code in any case -> ev->currency (upper case) and
 * its exponent. */
static pw_status
wp_currency(wp_ctx *c, json_t *parent, const char *key, const char *label, int *exp_out)
{
	const char *s;
	char up[4];
	pw_status rv;

	rv = wp_str(c, parent, key, label, WP_REQUIRED, &s);
	if (rv != PW_OK) {
		return rv;
	}
	if (strlen(s) != 3) {
		return wp_fail(c, "%s must be a 3-letter ISO 4217 code", label);
	}
	for (size_t i = 0; i < 3; i++) {
		char ch = s[i];
		if (ch >= 'a' && ch <= 'z') {
			ch = (char) (ch - 'a' + 'A');
		}
		if (ch < 'A' || ch > 'Z') {
			return wp_fail(c, "%s must be a 3-letter ISO 4217 code", label);
		}
		up[i] = ch;
	}
	up[3] = '\0';
	*exp_out = pw_currency_exponent(up);
	if (*exp_out < 0) {
		return wp_fail(c, "unknown currency %s in %s (not ISO 4217)", up, label);
	}
	memcpy(c->ev->currency, up, sizeof(up));
	return PW_OK;
}

/* Amount in minor units (JSON integer) plus its currency: the Stripe and
 * Razorpay shape. Fills ev->amount_minor, ev->currency, ev->has_amount. */
static pw_status
wp_minor_amount(wp_ctx *c, json_t *obj, const char *key, const char *label, wp_need need,
    const char *cur_label)
{
	int64_t amount;
	bool present;
	int exp;
	pw_status rv;

	rv = wp_int(c, obj, key, label, need, 0, PW_AMOUNT_MINOR_MAX, &amount, &present);
	if (rv != PW_OK || !present) {
		return rv;
	}
	rv = wp_currency(c, obj, "currency", cur_label, &exp);
	if (rv != PW_OK) {
		return rv;
	}
	c->ev->amount_minor = amount;
	c->ev->has_amount = true;
	return PW_OK;
}

/* A header's single value (for parse, after verify accepted the request). */
static pw_status
wp_header(wp_ctx *c, const char *name, const char **value)
{
	int found = srv_webhook_header_find(c->h, c->nh, name, value);

	if (found != 1) {
		return wp_fail(c, "%s header %s", name, found == 0 ? "missing" : "repeated");
	}
	return PW_OK;
}

/* ---------------------------------------------------------------------------
 * Exact decimal amounts (One.com, Web3)
 *
 * jansson turns a JSON number into a double, and a double is not money. The
 * amount of these flat bodies is a top-level member, so its raw token text is
 * found in the exact body bytes by a small scanner and converted with
 * pw_amount_parse, digit by digit. The scanner runs only on a body jansson
 * already accepted (valid JSON, an object, no duplicate key), so it finds
 * exactly the member jansson decoded.
 */

static size_t
wp_skip_ws(const uint8_t *b, size_t len, size_t i)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) {
		i++;
	}
	return i;
}

/* b[i] == '"': index just past the closing quote, or len if unterminated. */
static size_t
wp_skip_string(const uint8_t *b, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (b[i] == '\\') {
			i++;
		} else if (b[i] == '"') {
			return i + 1;
		}
	}
	return len;
}

/* Index just past the JSON value starting at b[i]. */
static size_t
wp_skip_value(const uint8_t *b, size_t len, size_t i)
{
	size_t depth = 0;

	if (i < len && b[i] == '"') {
		return wp_skip_string(b, len, i);
	}
	if (i < len && (b[i] == '{' || b[i] == '[')) {
		while (i < len) {
			if (b[i] == '"') {
				i = wp_skip_string(b, len, i);
				continue;
			}
			depth += b[i] == '{' || b[i] == '[';
			depth -= b[i] == '}' || b[i] == ']';
			i++;
			if (depth == 0) {
				return i;
			}
		}
		return len;
	}
	while (i < len && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' &&
	    b[i] != '\t' && b[i] != '\n' && b[i] != '\r') {
		i++;
	}
	return i;
}

/* True when the raw key token b[s..e) (quotes included) decodes to key. A key
 * written with escapes ("\u0061mount") is decoded by jansson itself. */
static bool
wp_key_equals(const uint8_t *b, size_t s, size_t e, const char *key)
{
	size_t klen = strlen(key);
	json_t *k;
	bool eq;

	if (memchr(b + s, '\\', e - s) == NULL) {
		return e - s == klen + 2 && memcmp(b + s + 1, key, klen) == 0;
	}
	k = json_loadb((const char *) b + s, e - s, JSON_DECODE_ANY, NULL);
	eq = k != NULL && json_is_string(k) && json_string_length(k) == klen &&
	    memcmp(json_string_value(k), key, klen) == 0;
	json_decref(k);
	return eq;
}

/* Raw text of the value of top-level member `key` of the object in b. */
static bool
wp_raw_member(const uint8_t *b, size_t len, const char *key, const char **tok, size_t *tok_len)
{
	size_t i = wp_skip_ws(b, len, 0);

	if (i >= len || b[i] != '{') {
		return false;
	}
	i = wp_skip_ws(b, len, i + 1);
	while (i < len && b[i] == '"') {
		size_t ks = i;
		size_t ke = wp_skip_string(b, len, i);
		size_t vs = wp_skip_ws(b, len, ke);
		size_t ve;
		if (vs >= len || b[vs] != ':') {
			return false;
		}
		vs = wp_skip_ws(b, len, vs + 1);
		ve = wp_skip_value(b, len, vs);
		if (ve > len || ve == vs) {
			return false;
		}
		if (wp_key_equals(b, ks, ke, key)) {
			*tok = (const char *) b + vs;
			*tok_len = ve - vs;
			return true;
		}
		i = wp_skip_ws(b, len, ve);
		if (i >= len || b[i] != ',') {
			return false;
		}
		i = wp_skip_ws(b, len, i + 1);
	}
	return false;
}

/* Top-level "amount" (decimal string or JSON number, major units) and
 * "currency" -> exact minor units, strictly positive. */
static pw_status
wp_decimal_amount(wp_ctx *c)
{
	json_t *v = json_object_get(c->root, "amount");
	const char *text = NULL;
	size_t text_len = 0;
	int exp = 0;
	int64_t minor = 0;
	pw_status rv;

	rv = wp_currency(c, c->root, "currency", "currency", &exp);
	if (rv != PW_OK) {
		return rv;
	}
	if (v == NULL || json_is_null(v)) {
		return wp_fail(c, "missing amount");
	}
	if (json_is_string(v)) {
		text = json_string_value(v);
		text_len = json_string_length(v);
	} else if (json_is_number(v)) {
		if (!wp_raw_member(c->body, c->body_len, "amount", &text, &text_len)) {
			return wp_fail(c, "amount: number token not found in the body");
		}
	} else {
		return wp_fail(c, "amount must be a decimal string or a JSON number");
	}
	rv = pw_amount_parse(text, text_len, exp, &minor);
	if (rv != PW_OK || minor <= 0) {
		return wp_fail(c, "amount is not an exact positive %s amount (digits with at most %d "
		    "decimals, no sign or exponent, at most %lld minor units)",
		    c->ev->currency, exp, (long long) PW_AMOUNT_MINOR_MAX);
	}
	c->ev->amount_minor = minor;
	c->ev->has_amount = true;
	return PW_OK;
}

/* ---------------------------------------------------------------------------
 * Stripe
 */

typedef enum wp_stripe_obj {
	WP_STRIPE_CHECKOUT = 0, /* data.object is a Checkout Session */
	WP_STRIPE_PI,           /* a PaymentIntent */
	WP_STRIPE_CHARGE,       /* a Charge */
	WP_STRIPE_DISPUTE,      /* a Dispute */
} wp_stripe_obj;

static const struct {
	const char *type;      /* Stripe event type */
	wp_stripe_obj obj;     /* what data.object is */
	pw_event_kind kind;    /* meaning (refined for completed / dispute.closed) */
} wp_stripe_types[] = {
	{ "checkout.session.completed", WP_STRIPE_CHECKOUT, PW_EV_PAYMENT_SUCCEEDED },
	{ "checkout.session.async_payment_succeeded", WP_STRIPE_CHECKOUT, PW_EV_PAYMENT_SUCCEEDED },
	{ "checkout.session.async_payment_failed", WP_STRIPE_CHECKOUT, PW_EV_PAYMENT_FAILED },
	{ "checkout.session.expired", WP_STRIPE_CHECKOUT, PW_EV_SESSION_EXPIRED },
	{ "payment_intent.processing", WP_STRIPE_PI, PW_EV_PAYMENT_PENDING },
	{ "payment_intent.succeeded", WP_STRIPE_PI, PW_EV_PAYMENT_SUCCEEDED },
	{ "payment_intent.payment_failed", WP_STRIPE_PI, PW_EV_PAYMENT_FAILED },
	{ "payment_intent.canceled", WP_STRIPE_PI, PW_EV_PAYMENT_CANCELED },
	{ "charge.succeeded", WP_STRIPE_CHARGE, PW_EV_PAYMENT_SUCCEEDED },
	{ "charge.refunded", WP_STRIPE_CHARGE, PW_EV_REFUND },
	{ "charge.dispute.created", WP_STRIPE_DISPUTE, PW_EV_DISPUTE_OPENED },
	{ "charge.dispute.closed", WP_STRIPE_DISPUTE, PW_EV_DISPUTE_WON },
};

/* obj.metadata.session_id -> session_ref, when present and not empty. */
static pw_status
wp_stripe_metadata_ref(wp_ctx *c, json_t *obj)
{
	json_t *md;
	const char *sid;
	pw_status rv;

	rv = wp_obj(c, obj, "metadata", "data.object.metadata", WP_OPTIONAL, &md);
	if (rv != PW_OK) {
		return rv;
	}
	rv = wp_str(c, md, "session_id", "data.object.metadata.session_id", WP_OPTIONAL, &sid);
	if (rv != PW_OK) {
		return rv;
	}
	return wp_copy(c, c->ev->session_ref, sizeof(c->ev->session_ref), sid,
	    "data.object.metadata.session_id");
}

static pw_status
wp_stripe_checkout(wp_ctx *c, json_t *obj)
{
	const char *id, *pi, *ref, *ps = NULL;
	pw_status rv;

	rv = wp_str(c, obj, "id", "data.object.id", WP_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->order_ref, sizeof(c->ev->order_ref), id, "data.object.id");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, obj, "payment_intent", "data.object.payment_intent", WP_OPTIONAL, &pi);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), pi,
		    "data.object.payment_intent");
	}
	if (rv == PW_OK) {
		rv = wp_minor_amount(c, obj, "amount_total", "data.object.amount_total",
		    WP_OPTIONAL, "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, obj, "client_reference_id", "data.object.client_reference_id",
		    WP_OPTIONAL, &ref);
	}
	if (rv == PW_OK && ref != NULL && ref[0] != '\0') {
		rv = wp_copy(c, c->ev->session_ref, sizeof(c->ev->session_ref), ref,
		    "data.object.client_reference_id");
	} else if (rv == PW_OK) {
		rv = wp_stripe_metadata_ref(c, obj);
	}
	if (rv != PW_OK || strcmp(c->ev->event_type, "checkout.session.completed") != 0) {
		return rv;
	}
	/* completed: paid now, or later for asynchronous methods (bank debits) */
	rv = wp_str(c, obj, "payment_status", "data.object.payment_status", WP_REQUIRED, &ps);
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(ps != NULL);
	if (strcmp(ps, "paid") == 0 || strcmp(ps, "no_payment_required") == 0) {
		c->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	} else if (strcmp(ps, "unpaid") == 0) {
		c->ev->kind = PW_EV_PAYMENT_PENDING;
		wp_detail(c->ev, "checkout completed, payment unpaid (asynchronous method)");
	} else {
		c->ev->kind = PW_EV_IGNORED;
		wp_detail(c->ev, "unknown checkout payment_status");
	}
	return PW_OK;
}

static pw_status
wp_stripe_pi(wp_ctx *c, json_t *obj)
{
	const char *id, *charge;
	int64_t received;
	bool has_received = false;
	pw_status rv;

	rv = wp_str(c, obj, "id", "data.object.id", WP_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), id, "data.object.id");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, obj, "latest_charge", "data.object.latest_charge", WP_OPTIONAL, &charge);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->charge_ref, sizeof(c->ev->charge_ref), charge,
		    "data.object.latest_charge");
	}
	if (rv == PW_OK) {
		rv = wp_minor_amount(c, obj, "amount", "data.object.amount", WP_REQUIRED,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = wp_int(c, obj, "amount_received", "data.object.amount_received", WP_OPTIONAL, 0,
		    PW_AMOUNT_MINOR_MAX, &received, &has_received);
	}
	if (rv == PW_OK) {
		rv = wp_stripe_metadata_ref(c, obj);
	}
	if (rv == PW_OK && c->ev->kind == PW_EV_PAYMENT_SUCCEEDED && has_received) {
		c->ev->amount_minor = received; /* what actually moved */
	}
	return rv;
}

static pw_status
wp_stripe_charge(wp_ctx *c, json_t *obj)
{
	const char *id, *pi;
	int64_t refunded;
	bool present;
	pw_status rv;

	rv = wp_str(c, obj, "id", "data.object.id", WP_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->charge_ref, sizeof(c->ev->charge_ref), id, "data.object.id");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, obj, "payment_intent", "data.object.payment_intent", WP_OPTIONAL, &pi);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), pi,
		    "data.object.payment_intent");
	}
	if (rv == PW_OK) {
		rv = wp_minor_amount(c, obj, "amount", "data.object.amount", WP_REQUIRED,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = wp_stripe_metadata_ref(c, obj);
	}
	if (rv != PW_OK || c->ev->kind != PW_EV_REFUND) {
		return rv;
	}
	rv = wp_int(c, obj, "amount_refunded", "data.object.amount_refunded", WP_REQUIRED, 0,
	    c->ev->amount_minor, &refunded, &present);
	if (rv != PW_OK) {
		return rv;
	}
	c->ev->amount_refunded_minor = refunded; /* cumulative, as Stripe reports it */
	wp_detail(c->ev, "refunded %lld of %lld minor units%s", (long long) refunded,
	    (long long) c->ev->amount_minor, refunded < c->ev->amount_minor ? " (partial)" : "");
	return PW_OK;
}

static pw_status
wp_stripe_dispute(wp_ctx *c, json_t *obj)
{
	const char *charge, *pi, *status = NULL;
	pw_status rv;

	rv = wp_str(c, obj, "charge", "data.object.charge", WP_REQUIRED, &charge);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->charge_ref, sizeof(c->ev->charge_ref), charge,
		    "data.object.charge");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, obj, "payment_intent", "data.object.payment_intent", WP_OPTIONAL, &pi);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), pi,
		    "data.object.payment_intent");
	}
	if (rv == PW_OK) {
		rv = wp_minor_amount(c, obj, "amount", "data.object.amount", WP_REQUIRED,
		    "data.object.currency");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, obj, "status", "data.object.status", WP_REQUIRED, &status);
	}
	if (rv != PW_OK || c->ev->kind == PW_EV_DISPUTE_OPENED) {
		return rv;
	}
	/* charge.dispute.closed: only won and lost move money for good */
	PW_ASSERT(status != NULL);
	if (strcmp(status, "won") == 0) {
		c->ev->kind = PW_EV_DISPUTE_WON;
	} else if (strcmp(status, "lost") == 0) {
		c->ev->kind = PW_EV_DISPUTE_LOST;
	} else {
		c->ev->kind = PW_EV_IGNORED;
		if (wp_printable_word(status, WP_DETAIL_WORD_MAX)) {
			wp_detail(c->ev, "dispute closed with status %s", status);
		}
	}
	return PW_OK;
}

/* Top-level fields shared by every Stripe event. */
static pw_status
wp_stripe_envelope(wp_ctx *c)
{
	const char *id, *type;
	json_t *live = json_object_get(c->root, "livemode");
	bool present;
	pw_status rv;

	rv = wp_str(c, c->root, "id", "id", WP_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->event_id, sizeof(c->ev->event_id), id, "id");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, c->root, "type", "type", WP_REQUIRED, &type);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->event_type, sizeof(c->ev->event_type), type, "type");
	}
	if (rv == PW_OK) {
		rv = wp_int(c, c->root, "created", "created", WP_OPTIONAL, 0, INT64_MAX / 1000,
		    &c->ev->event_unix_s, &present);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (live != NULL && !json_is_null(live) && !json_is_boolean(live)) {
		return wp_fail(c, "livemode must be a boolean");
	}
	c->ev->live = live == NULL || json_is_null(live) ? -1 : json_is_true(live) ? 1 : 0;
	return PW_OK;
}

static pw_status
wp_stripe(wp_ctx *c)
{
	json_t *data, *obj;
	size_t n = sizeof(wp_stripe_types) / sizeof(wp_stripe_types[0]);
	size_t i;
	pw_status rv;

	rv = wp_stripe_envelope(c);
	if (rv != PW_OK) {
		return rv;
	}
	for (i = 0; i < n && strcmp(wp_stripe_types[i].type, c->ev->event_type) != 0; i++) {
	}
	if (i == n) {
		c->ev->kind = PW_EV_IGNORED;
		wp_detail(c->ev, "stripe event type not handled by paywire");
		return PW_OK;
	}
	c->ev->kind = wp_stripe_types[i].kind;
	rv = wp_obj(c, c->root, "data", "data", WP_REQUIRED, &data);
	if (rv == PW_OK) {
		rv = wp_obj(c, data, "object", "data.object", WP_REQUIRED, &obj);
	}
	if (rv != PW_OK) {
		return rv;
	}
	switch (wp_stripe_types[i].obj) {
	case WP_STRIPE_CHECKOUT:
		return wp_stripe_checkout(c, obj);
	case WP_STRIPE_PI:
		return wp_stripe_pi(c, obj);
	case WP_STRIPE_CHARGE:
		return wp_stripe_charge(c, obj);
	case WP_STRIPE_DISPUTE:
		return wp_stripe_dispute(c, obj);
	}
	PW_ASSERT(!"unhandled stripe object kind");
	return PW_INTERNAL;
}

/* ---------------------------------------------------------------------------
 * Razorpay
 */

typedef enum wp_rzp_shape {
	WP_RZP_PAYMENT = 0, /* payload.payment.entity */
	WP_RZP_ORDER,       /* payload.order.entity + payload.payment.entity */
	WP_RZP_REFUND,      /* payload.refund.entity (+ payload.payment.entity) */
} wp_rzp_shape;

static const struct {
	const char *event;  /* Razorpay event name */
	wp_rzp_shape shape; /* which entities the payload carries */
	pw_event_kind kind; /* meaning */
} wp_rzp_types[] = {
	{ "payment.authorized", WP_RZP_PAYMENT, PW_EV_PAYMENT_PENDING },
	{ "payment.captured", WP_RZP_PAYMENT, PW_EV_PAYMENT_SUCCEEDED },
	{ "payment.failed", WP_RZP_PAYMENT, PW_EV_PAYMENT_FAILED },
	{ "order.paid", WP_RZP_ORDER, PW_EV_PAYMENT_SUCCEEDED },
	{ "refund.processed", WP_RZP_REFUND, PW_EV_REFUND },
};

/* payload.<name>.entity (an object or NULL when absent and optional). */
static pw_status
wp_rzp_entity(wp_ctx *c, const char *name, wp_need need, json_t **out)
{
	char label[64];
	json_t *payload, *wrap;
	pw_status rv;

	*out = NULL;
	rv = wp_obj(c, c->root, "payload", "payload", need, &payload);
	if (rv == PW_OK) {
		(void) snprintf(label, sizeof(label), "payload.%s", name);
		rv = wp_obj(c, payload, name, label, need, &wrap);
	}
	if (rv == PW_OK) {
		(void) snprintf(label, sizeof(label), "payload.%s.entity", name);
		rv = wp_obj(c, wrap, "entity", label, need, out);
	}
	return rv;
}

/* entity.notes.session_id -> session_ref when still empty. notes is an
 * object when set and an empty array [] when not (Razorpay's own samples). */
static pw_status
wp_rzp_notes_ref(wp_ctx *c, json_t *entity, const char *label)
{
	json_t *notes = entity == NULL ? NULL : json_object_get(entity, "notes");
	const char *sid;
	pw_status rv;

	if (c->ev->session_ref[0] != '\0' || notes == NULL || json_is_null(notes)) {
		return PW_OK;
	}
	if (json_is_array(notes) && json_array_size(notes) == 0) {
		return PW_OK;
	}
	if (!json_is_object(notes)) {
		return wp_fail(c, "%s.notes must be an object or an empty array", label);
	}
	rv = wp_str(c, notes, "session_id", "notes.session_id", WP_OPTIONAL, &sid);
	if (rv != PW_OK) {
		return rv;
	}
	return wp_copy(c, c->ev->session_ref, sizeof(c->ev->session_ref), sid, "notes.session_id");
}

/* A payment entity: id -> payment_ref, order_id -> order_ref, amount and
 * currency, notes -> session_ref. */
static pw_status
wp_rzp_payment(wp_ctx *c, json_t *pay)
{
	const char *id, *order;
	pw_status rv;

	rv = wp_str(c, pay, "id", "payload.payment.entity.id", WP_REQUIRED, &id);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), id,
		    "payload.payment.entity.id");
	}
	if (rv == PW_OK) {
		rv = wp_str(c, pay, "order_id", "payload.payment.entity.order_id", WP_OPTIONAL, &order);
	}
	if (rv == PW_OK && order != NULL) {
		rv = wp_copy(c, c->ev->order_ref, sizeof(c->ev->order_ref), order,
		    "payload.payment.entity.order_id");
	}
	if (rv == PW_OK) {
		rv = wp_minor_amount(c, pay, "amount", "payload.payment.entity.amount", WP_REQUIRED,
		    "payload.payment.entity.currency");
	}
	if (rv == PW_OK) {
		rv = wp_rzp_notes_ref(c, pay, "payload.payment.entity");
	}
	return rv;
}

static pw_status
wp_rzp_shape_payment(wp_ctx *c, const char **entity_id)
{
	json_t *pay, *order;
	const char *code = NULL;
	pw_status rv;

	rv = wp_rzp_entity(c, "payment", WP_REQUIRED, &pay);
	if (rv == PW_OK) {
		rv = wp_rzp_payment(c, pay);
	}
	if (rv == PW_OK) {
		rv = wp_rzp_entity(c, "order", WP_OPTIONAL, &order); /* notes fallback */
	}
	if (rv == PW_OK) {
		rv = wp_rzp_notes_ref(c, order, "payload.order.entity");
	}
	if (rv == PW_OK && c->ev->kind == PW_EV_PAYMENT_FAILED) {
		rv = wp_str(c, pay, "error_reason", "payload.payment.entity.error_reason",
		    WP_OPTIONAL, &code);
		if (rv == PW_OK && code != NULL && wp_printable_word(code, WP_DETAIL_WORD_MAX)) {
			wp_detail(c->ev, "error_reason %s", code);
		}
	}
	*entity_id = c->ev->payment_ref;
	return rv;
}

static pw_status
wp_rzp_shape_order(wp_ctx *c, const char **entity_id)
{
	json_t *order, *pay;
	const char *id;
	pw_status rv;

	rv = wp_rzp_entity(c, "order", WP_REQUIRED, &order);
	if (rv == PW_OK) {
		rv = wp_str(c, order, "id", "payload.order.entity.id", WP_REQUIRED, &id);
	}
	if (rv == PW_OK) {
		rv = wp_rzp_entity(c, "payment", WP_OPTIONAL, &pay);
	}
	if (rv == PW_OK && pay != NULL) {
		rv = wp_rzp_payment(c, pay); /* the money that moved */
	} else if (rv == PW_OK) {
		rv = wp_minor_amount(c, order, "amount_paid", "payload.order.entity.amount_paid",
		    WP_REQUIRED, "payload.order.entity.currency");
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->order_ref, sizeof(c->ev->order_ref), id,
		    "payload.order.entity.id");
	}
	if (rv == PW_OK) {
		rv = wp_rzp_notes_ref(c, order, "payload.order.entity");
	}
	*entity_id = c->ev->order_ref;
	return rv;
}

/* refund.processed: the refund entity, plus the payment entity when present
 * (amount of the payment, cumulative amount_refunded, notes). */
static pw_status
wp_rzp_shape_refund(wp_ctx *c, const char **entity_id)
{
	json_t *refund, *pay;
	const char *rid, *pay_id;
	int64_t ramount = 0, cumulative = 0;
	bool present = false;
	pw_status rv;

	*entity_id = NULL;
	rv = wp_rzp_entity(c, "refund", WP_REQUIRED, &refund);
	if (rv == PW_OK) {
		rv = wp_str(c, refund, "id", "payload.refund.entity.id", WP_REQUIRED, &rid);
	}
	if (rv == PW_OK) {
		rv = wp_str(c, refund, "payment_id", "payload.refund.entity.payment_id", WP_REQUIRED,
		    &pay_id);
	}
	if (rv == PW_OK) {
		rv = wp_minor_amount(c, refund, "amount", "payload.refund.entity.amount", WP_REQUIRED,
		    "payload.refund.entity.currency");
	}
	if (rv == PW_OK) {
		ramount = c->ev->amount_minor;
		rv = wp_rzp_entity(c, "payment", WP_OPTIONAL, &pay);
	}
	if (rv != PW_OK) {
		return rv;
	}
	*entity_id = rid;
	if (pay == NULL) {
		/* Without the payment: the payment's amount and the running total
		 * are unknown; this refund's amount is a lower bound of both. */
		c->ev->amount_refunded_minor = ramount;
		wp_detail(c->ev, "no payment entity: cumulative refunded taken as this refund");
		return wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), pay_id,
		    "payload.refund.entity.payment_id");
	}
	{
		char cur[4];
		memcpy(cur, c->ev->currency, sizeof(cur));
		rv = wp_rzp_payment(c, pay);
		if (rv == PW_OK && (strcmp(c->ev->payment_ref, pay_id) != 0 ||
		                       strcmp(cur, c->ev->currency) != 0)) {
			return wp_fail(c, "refund and payment entities disagree on payment id or "
			                  "currency");
		}
	}
	if (rv == PW_OK) {
		rv = wp_int(c, pay, "amount_refunded", "payload.payment.entity.amount_refunded",
		    WP_OPTIONAL, 0, c->ev->amount_minor, &cumulative, &present);
	}
	if (rv == PW_OK && ramount > c->ev->amount_minor) {
		return wp_fail(c, "refund amount exceeds the payment amount");
	}
	/* amount_refunded includes this refund; never report less than it */
	c->ev->amount_refunded_minor = present && cumulative > ramount ? cumulative : ramount;
	return rv;
}

/* Event id from signed content: "<event>:<entity id>", or for types paywire
 * does not handle "<event>:body-<BLAKE2b-128 of the body>" (see WEBHOOKS.md). */
static pw_status
wp_rzp_event_id(wp_ctx *c, const char *entity_id)
{
	char tail[PW_EV_REF_BYTES];
	int n;

	if (entity_id != NULL) {
		PW_ASSERT(pw_strlcpy(tail, entity_id, sizeof(tail)));
	} else {
		uint8_t h[16];
		char hex[2 * sizeof(h) + 1];
		(void) crypto_generichash(h, sizeof(h), c->body, c->body_len, NULL, 0);
		pw_hex(hex, sizeof(hex), h, sizeof(h));
		(void) snprintf(tail, sizeof(tail), "body-%s", hex);
	}
	n = snprintf(c->ev->event_id, sizeof(c->ev->event_id), "%s:%s", c->ev->event_type, tail);
	PW_ASSERT(n > 0 && (size_t) n < sizeof(c->ev->event_id));
	return PW_OK;
}

static pw_status
wp_razorpay(wp_ctx *c)
{
	const char *event, *hdr_id = NULL, *entity_id = NULL;
	bool present;
	size_t n = sizeof(wp_rzp_types) / sizeof(wp_rzp_types[0]);
	size_t i;
	pw_status rv;

	c->ev->live = -1; /* Razorpay webhooks do not say */
	rv = wp_str(c, c->root, "event", "event", WP_REQUIRED, &event);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->event_type, sizeof(c->ev->event_type), event, "event");
	}
	if (rv == PW_OK) {
		rv = wp_int(c, c->root, "created_at", "created_at", WP_OPTIONAL, 0, INT64_MAX / 1000,
		    &c->ev->event_unix_s, &present);
	}
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(event != NULL);
	for (i = 0; i < n && strcmp(wp_rzp_types[i].event, event) != 0; i++) {
	}
	if (i == n) {
		c->ev->kind = PW_EV_IGNORED;
		wp_detail(c->ev, "razorpay event not handled by paywire");
	} else {
		c->ev->kind = wp_rzp_types[i].kind;
		switch (wp_rzp_types[i].shape) {
		case WP_RZP_PAYMENT:
			rv = wp_rzp_shape_payment(c, &entity_id);
			break;
		case WP_RZP_ORDER:
			rv = wp_rzp_shape_order(c, &entity_id);
			break;
		case WP_RZP_REFUND:
			rv = wp_rzp_shape_refund(c, &entity_id);
			break;
		}
	}
	if (rv == PW_OK) {
		rv = wp_rzp_event_id(c, entity_id);
	}
	/* the header id is not signed: reported, never used as the dedup key */
	if (rv == PW_OK && srv_webhook_header_find(c->h, c->nh, "x-razorpay-event-id", &hdr_id) == 1 &&
	    wp_printable_word(hdr_id, WP_DETAIL_WORD_MAX)) {
		wp_detail(c->ev, "x-razorpay-event-id %s (unsigned)", hdr_id);
	}
	return rv;
}

/* ---------------------------------------------------------------------------
 * Standard Webhooks bodies: One.com and the Web3 relay
 */

/* webhook-id -> event_id, webhook-timestamp -> event_unix_s, "event". */
static pw_status
wp_std_envelope(wp_ctx *c, const char **event)
{
	const char *id, *ts;
	int64_t t = 0;
	size_t len;
	pw_status rv;

	rv = wp_header(c, "webhook-id", &id);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->event_id, sizeof(c->ev->event_id), id, "webhook-id header");
	}
	if (rv == PW_OK) {
		rv = wp_header(c, "webhook-timestamp", &ts);
	}
	if (rv != PW_OK) {
		return rv;
	}
	len = strnlen(ts, 13);
	for (size_t i = 0; i < len; i++) {
		if (ts[i] < '0' || ts[i] > '9') {
			len = 0;
			break;
		}
		t = t * 10 + (ts[i] - '0');
	}
	if (len == 0 || len > 12 || c->ev->event_id[0] == '\0') {
		return wp_fail(c, "webhook-id or webhook-timestamp header malformed");
	}
	c->ev->event_unix_s = t;
	c->ev->live = -1;
	rv = wp_str(c, c->root, "event", "event", WP_REQUIRED, event);
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->event_type, sizeof(c->ev->event_type), *event, "event");
	}
	return rv;
}

static pw_status
wp_onecom(wp_ctx *c)
{
	const char *event = NULL, *ref, *txn;
	json_t *payload;
	bool completed;
	pw_status rv;

	rv = wp_std_envelope(c, &event);
	if (rv == PW_OK) {
		/* paywire's own integration: a body without reference is malformed */
		rv = wp_str(c, c->root, "reference", "reference", WP_REQUIRED, &ref);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->session_ref, sizeof(c->ev->session_ref), ref, "reference");
	}
	if (rv == PW_OK) {
		rv = wp_obj(c, c->root, "payload", "payload", WP_OPTIONAL, &payload);
	}
	if (rv == PW_OK) {
		rv = wp_str(c, payload, "txn_id", "payload.txn_id", WP_OPTIONAL, &txn);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->payment_ref, sizeof(c->ev->payment_ref), txn, "payload.txn_id");
	}
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(event != NULL);
	completed = strcmp(event, "payment.completed") == 0;
	if (completed || json_object_get(c->root, "amount") != NULL) {
		rv = wp_decimal_amount(c); /* required when money moved */
	}
	if (completed) {
		c->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	} else if (strcmp(event, "payment.failed") == 0) {
		c->ev->kind = PW_EV_PAYMENT_FAILED;
	} else {
		c->ev->kind = PW_EV_IGNORED;
		wp_detail(c->ev, "one.com event not handled by paywire");
	}
	return rv;
}

/* "network" -> ev->network, lower case, 1..31 bytes of [a-z0-9_-]. */
static pw_status
wp_web3_network(wp_ctx *c)
{
	const char *s;
	size_t len;
	pw_status rv;

	rv = wp_str(c, c->root, "network", "network", WP_REQUIRED, &s);
	if (rv != PW_OK) {
		return rv;
	}
	len = strnlen(s, SRV_WEBHOOK_NETWORK_BYTES);
	if (len >= SRV_WEBHOOK_NETWORK_BYTES) {
		return wp_fail(c, "network is longer than %d bytes", SRV_WEBHOOK_NETWORK_BYTES - 1);
	}
	for (size_t i = 0; i < len; i++) {
		char ch = wp_lower(s[i]);
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
			return wp_fail(c, "network must be [a-z0-9_-]");
		}
		c->ev->network[i] = ch;
	}
	c->ev->network[len] = '\0';
	return PW_OK;
}

/* "blockchain_tx_id" (alphanumeric, 0x-hex lowered so one transaction has one
 * spelling) and "log_index" -> payment_ref "<network>:<tx>:<log_index>". */
static pw_status
wp_web3_payment_ref(wp_ctx *c)
{
	const char *tx;
	char low[WP_TX_BYTES_MAX + 1];
	int64_t log_index;
	bool present, hex;
	size_t len;
	int n;
	pw_status rv;

	rv = wp_str(c, c->root, "blockchain_tx_id", "blockchain_tx_id", WP_REQUIRED, &tx);
	if (rv == PW_OK) {
		rv = wp_int(c, c->root, "log_index", "log_index", WP_REQUIRED, 0, INT32_MAX,
		    &log_index, &present);
	}
	if (rv != PW_OK) {
		return rv;
	}
	len = strnlen(tx, WP_TX_BYTES_MAX + 1);
	if (len > WP_TX_BYTES_MAX) {
		return wp_fail(c, "blockchain_tx_id is longer than %d bytes", WP_TX_BYTES_MAX);
	}
	hex = len > 2 && tx[0] == '0' && (tx[1] == 'x' || tx[1] == 'X');
	for (size_t i = 0; i < len; i++) {
		char ch = tx[i];
		bool alnum = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z');
		if (!alnum) {
			return wp_fail(c, "blockchain_tx_id must be alphanumeric");
		}
		hex = hex && (i < 2 || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		                 (ch >= 'A' && ch <= 'F'));
		low[i] = ch;
	}
	for (size_t i = 0; hex && i < len; i++) {
		low[i] = wp_lower(low[i]);
	}
	low[len] = '\0';
	n = snprintf(c->ev->payment_ref, sizeof(c->ev->payment_ref), "%s:%s:%lld", c->ev->network,
	    low, (long long) log_index);
	if (n < 0 || (size_t) n >= sizeof(c->ev->payment_ref)) {
		c->ev->payment_ref[0] = '\0';
		return wp_fail(c, "network:blockchain_tx_id:log_index is longer than %zu bytes",
		    sizeof(c->ev->payment_ref) - 1);
	}
	return PW_OK;
}

static pw_status
wp_web3(wp_ctx *c)
{
	const char *event = NULL, *sid;
	int64_t min = 0;
	bool present;
	pw_status rv;

	rv = wp_std_envelope(c, &event);
	if (rv == PW_OK) {
		rv = wp_str(c, c->root, "session_id", "session_id", WP_REQUIRED, &sid);
	}
	if (rv == PW_OK) {
		rv = wp_copy(c, c->ev->session_ref, sizeof(c->ev->session_ref), sid, "session_id");
	}
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(event != NULL);
	if (strcmp(event, "payment.confirmed") != 0 && strcmp(event, "transfer.confirmed") != 0) {
		c->ev->kind = PW_EV_IGNORED;
		wp_detail(c->ev, "web3 event not handled by paywire");
		return PW_OK;
	}
	rv = wp_web3_network(c);
	if (rv == PW_OK) {
		rv = wp_web3_payment_ref(c);
	}
	if (rv == PW_OK) {
		rv = wp_int(c, c->root, "confirmations", "confirmations", WP_REQUIRED, 0, INT32_MAX,
		    &c->ev->confirmations, &present);
	}
	if (rv == PW_OK) {
		rv = wp_decimal_amount(c);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (!srv_webhook_min_confirmations(c->cfg, c->ev->network, &min)) {
		c->ev->kind = PW_EV_PAYMENT_PENDING;
		wp_detail(c->ev, "no confirmation minimum configured for network %s", c->ev->network);
	} else if (c->ev->confirmations < min) {
		c->ev->kind = PW_EV_PAYMENT_PENDING;
		wp_detail(c->ev, "%lld/%lld confirmations on %s", (long long) c->ev->confirmations,
		    (long long) min, c->ev->network);
	} else {
		c->ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	}
	return PW_OK;
}

/* ---------------------------------------------------------------------------
 * Entry point
 */

/* A human reason for a jansson decode error that never echoes body bytes
 * (they may be anything, and why travels in a UTF-8 protobuf string). */
static const char *
wp_json_error_text(const json_error_t *err)
{
	switch (json_error_code(err)) {
	case json_error_duplicate_key:
		return "a key appears twice in one object";
	case json_error_invalid_utf8:
		return "not valid UTF-8";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "contains a NUL character";
	case json_error_numeric_overflow:
		return "a number is too large";
	case json_error_stack_overflow:
		return "nested too deeply";
	case json_error_premature_end_of_input:
		return "ends too early";
	case json_error_end_of_input_expected:
		return "has bytes after the JSON value";
	default:
		return "is not valid JSON";
	}
}

static pw_status
wp_decode(wp_ctx *c)
{
	json_error_t err;

	memset(&err, 0, sizeof(err));
	c->root = json_loadb((const char *) c->body, c->body_len, JSON_REJECT_DUPLICATES, &err);
	if (c->root == NULL) {
		return wp_fail(c, "body %s (line %d, column %d)", wp_json_error_text(&err), err.line,
		    err.column);
	}
	if (!json_is_object(c->root)) {
		return wp_fail(c, "body is not a JSON object");
	}
	return PW_OK;
}

pw_status
srv_webhook_parse(const srv_webhook_config *cfg, pw_provider p, const srv_header *h, size_t nh,
    const uint8_t *body, size_t body_len, pw_event *out, char *why, size_t why_size)
{
	wp_ctx c = { .cfg = cfg, .h = h, .nh = nh, .body = body, .body_len = body_len,
		.root = NULL, .ev = out, .why = why, .why_size = why_size };
	pw_status rv;

	PW_ASSERT(cfg != NULL && out != NULL);
	PW_ASSERT(h != NULL || nh == 0);
	PW_ASSERT(body != NULL || body_len == 0);
	memset(out, 0, sizeof(*out));
	if (why != NULL && why_size > 0) {
		why[0] = '\0';
	}
	if (body_len > PW_WEBHOOK_BODY_BYTES_MAX || nh > PW_WEBHOOK_HEADERS_MAX) {
		return wp_fail(&c, "webhook over the limits (%u body bytes, %d headers)",
		    PW_WEBHOOK_BODY_BYTES_MAX, PW_WEBHOOK_HEADERS_MAX);
	}
	if ((int) p < (int) PW_PROVIDER_STRIPE || (int) p > (int) PW_PROVIDER_WEB3) {
		return wp_fail(&c, "unknown webhook provider %d", (int) p);
	}
	out->provider = p;
	rv = wp_decode(&c);
	if (rv == PW_OK) {
		switch (p) {
		case PW_PROVIDER_STRIPE:
			rv = wp_stripe(&c);
			break;
		case PW_PROVIDER_RAZORPAY:
			rv = wp_razorpay(&c);
			break;
		case PW_PROVIDER_ONECOM:
			rv = wp_onecom(&c);
			break;
		case PW_PROVIDER_WEB3:
			rv = wp_web3(&c);
			break;
		case PW_PROVIDER_NONE:
			PW_ASSERT(!"provider checked above");
			break;
		}
	}
	json_decref(c.root);
	if (rv != PW_OK) {
		memset(out, 0, sizeof(*out));
	}
	return rv;
}
