/*
 * bridge_json.c - request parsing with exact amounts, and JSON answers.
 * See bridge_json.h for why numbers are read from their raw token text.
 */
#include "bridge_json.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Key names quoted back in error messages are cut to this many bytes. */
#define BRIDGE_JSON_KEY_ECHO_MAX 64

/* Writes a sentence for the client into msg (which may be NULL: then nothing
 * is written; snprintf with size 0 writes nothing). Never fails. */
#define BRIDGE_MSG(msg, msg_size, ...) \
	((void) snprintf((msg), (msg) != NULL ? (msg_size) : 0, __VA_ARGS__))

/* ---- raw scanner over a validated object ---- */

static size_t
bridge_json_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
		i++;
	}
	return i;
}

/* s[*i] is the opening quote; on true *i is just past the closing quote. */
static bool
bridge_json_skip_string(const char *s, size_t len, size_t *i)
{
	size_t k = *i;

	if (k >= len || s[k] != '"') {
		return false;
	}
	for (k++; k < len; k++) {
		if (s[k] == '\\') {
			k++; /* the escaped character, whatever it is, cannot close the string */
			continue;
		}
		if (s[k] == '"') {
			*i = k + 1;
			return true;
		}
	}
	return false;
}

/* Skips one value starting at s[*i] (no leading whitespace). */
static bool
bridge_json_skip_value(const char *s, size_t len, size_t *i)
{
	size_t k = *i;
	int depth = 0;

	if (k >= len) {
		return false;
	}
	if (s[k] == '"') {
		return bridge_json_skip_string(s, len, i);
	}
	if (s[k] != '{' && s[k] != '[') {
		size_t start = k; /* number, true, false, null */
		while (k < len && strchr(",}] \t\r\n", s[k]) == NULL) {
			k++;
		}
		*i = k;
		return k > start;
	}
	while (k < len) {
		char ch = s[k];
		if (ch == '"') {
			if (!bridge_json_skip_string(s, len, &k)) {
				return false;
			}
			continue;
		}
		if (ch == '{' || ch == '[') {
			if (++depth > PW_BRIDGE_JSON_DEPTH_MAX) {
				return false;
			}
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
		k++;
		if (depth == 0) {
			*i = k;
			return true;
		}
	}
	return false;
}

/* True if no array or object in the JSON object s[0..len) (valid JSON) lies
 * deeper than PW_BRIDGE_JSON_DEPTH_MAX: the raw scanner's bound, checked by
 * the scanner itself walking the whole object. jansson's own bound is far
 * larger, so a body it accepts can still be too deep to scan. */
static bool
bridge_json_depth_ok(const char *s, size_t len)
{
	size_t i = bridge_json_ws(s, len, 0);

	return bridge_json_skip_value(s, len, &i);
}

/* True if the raw key token s[0..len) (quotes included) names `key`. */
static bool
bridge_json_key_is(const char *s, size_t len, const char *key)
{
	size_t klen = strlen(key);
	json_t *decoded;
	bool same;

	PW_ASSERT(len >= 2 && s[0] == '"' && s[len - 1] == '"');
	if (memchr(s, '\\', len) == NULL) {
		return len - 2 == klen && memcmp(s + 1, key, klen) == 0;
	}
	/* an escaped key: let jansson decode it rather than a second decoder */
	decoded = json_loadb(s, len, JSON_DECODE_ANY, NULL);
	same = decoded != NULL && json_is_string(decoded) && json_string_length(decoded) == klen &&
	    memcmp(json_string_value(decoded), key, klen) == 0;
	json_decref(decoded);
	return same;
}

pw_status
bridge_json_raw_member(const char *body, size_t len, const char *key, const char **val,
    size_t *val_len)
{
	size_t i;

	PW_ASSERT(body != NULL && key != NULL && val != NULL && val_len != NULL);
	i = bridge_json_ws(body, len, 0);
	if (i >= len || body[i] != '{') {
		return PW_INVALID_ARGUMENT;
	}
	i = bridge_json_ws(body, len, i + 1);
	if (i < len && body[i] == '}') {
		return PW_NOT_FOUND;
	}
	while (i < len) {
		size_t kstart = i;
		size_t vstart;
		if (!bridge_json_skip_string(body, len, &i)) {
			return PW_INVALID_ARGUMENT;
		}
		bool match = bridge_json_key_is(body + kstart, i - kstart, key);
		i = bridge_json_ws(body, len, i);
		if (i >= len || body[i] != ':') {
			return PW_INVALID_ARGUMENT;
		}
		vstart = bridge_json_ws(body, len, i + 1);
		i = vstart;
		if (!bridge_json_skip_value(body, len, &i)) {
			return PW_INVALID_ARGUMENT;
		}
		if (match) {
			*val = body + vstart;
			*val_len = i - vstart;
			return PW_OK;
		}
		i = bridge_json_ws(body, len, i);
		if (i < len && body[i] == '}') {
			return PW_NOT_FOUND;
		}
		if (i >= len || body[i] != ',') {
			return PW_INVALID_ARGUMENT;
		}
		i = bridge_json_ws(body, len, i + 1);
	}
	return PW_INVALID_ARGUMENT;
}

/* ---- numbers from raw tokens ---- */

pw_status
bridge_json_amount(const char *raw, size_t raw_len, int exponent, int64_t *out, char *msg,
    size_t msg_size)
{
	json_t *str = NULL;
	const char *text = raw;
	size_t text_len = raw_len;
	int64_t minor = 0;
	pw_status rv;

	PW_ASSERT(raw != NULL && out != NULL);
	PW_ASSERT(exponent >= 0 && exponent <= 4);
	if (raw_len > 0 && raw[0] == '"') {
		str = json_loadb(raw, raw_len, JSON_DECODE_ANY, NULL);
		if (str == NULL || !json_is_string(str)) {
			json_decref(str);
			BRIDGE_MSG(msg, msg_size, "amount must be a decimal string or number");
			return PW_INVALID_ARGUMENT;
		}
		text = json_string_value(str);
		text_len = json_string_length(str);
	} else if (raw_len == 0 || raw[0] < '0' || raw[0] > '9') {
		/* a JSON number starts with a digit or '-': '-' and true/null/{} end here */
		BRIDGE_MSG(msg, msg_size, "amount must be a positive decimal string or number");
		return PW_INVALID_ARGUMENT;
	}
	if (memchr(text, 'e', text_len) != NULL || memchr(text, 'E', text_len) != NULL) {
		json_decref(str);
		BRIDGE_MSG(msg, msg_size, "amount must not use exponent notation");
		return PW_INVALID_ARGUMENT;
	}
	rv = pw_amount_parse(text, text_len, exponent, &minor);
	json_decref(str);
	if (rv != PW_OK) {
		BRIDGE_MSG(msg, msg_size,
		    "amount must be a positive decimal with at most %d digits after the point, "
		    "at most %lld minor units",
		    exponent, (long long) PW_AMOUNT_MINOR_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (minor <= 0) {
		BRIDGE_MSG(msg, msg_size, "amount must be greater than zero");
		return PW_INVALID_ARGUMENT;
	}
	PW_ASSERT(minor <= PW_AMOUNT_MINOR_MAX);
	*out = minor;
	return PW_OK;
}

pw_status
bridge_json_count(const char *raw, size_t raw_len, int64_t max, int64_t *out)
{
	int64_t v = 0;

	PW_ASSERT(raw != NULL && out != NULL && max > 0);
	if (raw_len == 0 || raw_len > 19) {
		return PW_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < raw_len; i++) {
		if (raw[i] < '0' || raw[i] > '9') {
			return PW_INVALID_ARGUMENT; /* sign, fraction, exponent, quote */
		}
		if (v > (max - (raw[i] - '0')) / 10) {
			return PW_INVALID_ARGUMENT; /* past max, checked before it can overflow */
		}
		v = v * 10 + (raw[i] - '0');
	}
	if (v < 1) {
		return PW_INVALID_ARGUMENT;
	}
	*out = v;
	return PW_OK;
}

/* ---- create_session ---- */

static const char *const bridge_create_keys[] = {
	"amount", "amount_minor", "currency", "mode", "success_url", "cancel_url",
	"customer_email", "customer_name", "customer_ref", "idempotency_key", "metadata", "plan",
	"credits", "expires_at_unix_ms", "subscription", "credit_package", "provider",
};

static pw_status
bridge_create_check_keys(json_t *root, char *msg, size_t msg_size)
{
	const char *key;
	json_t *v;

	json_object_foreach (root, key, v) {
		bool known = false;
		(void) v;
		for (size_t i = 0; i < sizeof(bridge_create_keys) / sizeof(bridge_create_keys[0]); i++) {
			if (strcmp(key, bridge_create_keys[i]) == 0) {
				known = true;
				break;
			}
		}
		if (!known) {
			BRIDGE_MSG(msg, msg_size, "unknown parameter: %.*s", BRIDGE_JSON_KEY_ECHO_MAX, key);
			return PW_INVALID_ARGUMENT;
		}
	}
	return PW_OK;
}

/* An optional string member: absent or null leaves *out NULL. len_max is
 * the largest accepted length in bytes. */
static pw_status
bridge_create_string(json_t *root, const char *key, size_t len_max, const char **out, char *msg,
    size_t msg_size)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		return PW_OK;
	}
	if (!json_is_string(v)) {
		BRIDGE_MSG(msg, msg_size, "%s must be a string", key);
		return PW_INVALID_ARGUMENT;
	}
	if (json_string_length(v) > len_max) {
		BRIDGE_MSG(msg, msg_size, "%s is longer than %zu bytes", key, len_max);
		return PW_INVALID_ARGUMENT;
	}
	*out = json_string_value(v);
	return PW_OK;
}

static pw_status
bridge_create_currency(json_t *root, bridge_create *c, int *exponent, char *msg, size_t msg_size)
{
	json_t *v = json_object_get(root, "currency");
	const char *s;

	if (v == NULL || !json_is_string(v) || json_string_length(v) != 3) {
		BRIDGE_MSG(msg, msg_size, "currency must be a three-letter ISO 4217 code");
		return PW_INVALID_ARGUMENT;
	}
	s = json_string_value(v);
	for (size_t i = 0; i < 3; i++) {
		char ch = s[i];
		if (ch >= 'a' && ch <= 'z') {
			ch = (char) (ch - 'a' + 'A'); /* "eur" as Stripe writes it */
		}
		if (ch < 'A' || ch > 'Z') {
			BRIDGE_MSG(msg, msg_size, "currency must be a three-letter ISO 4217 code");
			return PW_INVALID_ARGUMENT;
		}
		c->currency[i] = ch;
	}
	c->currency[3] = '\0';
	*exponent = pw_currency_exponent(c->currency);
	if (*exponent < 0) {
		BRIDGE_MSG(msg, msg_size, "currency %s is not an active ISO 4217 currency", c->currency);
		return PW_INVALID_ARGUMENT;
	}
	c->params.currency = c->currency;
	return PW_OK;
}

/* The raw token of an optional member, NULL when absent or null. */
static pw_status
bridge_create_raw(const char *body, size_t len, const char *key, const char **raw, size_t *raw_len)
{
	pw_status rv = bridge_json_raw_member(body, len, key, raw, raw_len);

	if (rv == PW_NOT_FOUND || (rv == PW_OK && *raw_len == 4 && memcmp(*raw, "null", 4) == 0)) {
		*raw = NULL;
		*raw_len = 0;
		return PW_OK;
	}
	return rv;
}

static pw_status
bridge_create_amount(const char *body, size_t len, int exponent, bridge_create *c, char *msg,
    size_t msg_size)
{
	const char *amount = NULL;
	const char *minor = NULL;
	size_t amount_len = 0;
	size_t minor_len = 0;
	pw_status rv;

	rv = bridge_create_raw(body, len, "amount", &amount, &amount_len);
	if (rv != PW_OK) {
		return rv;
	}
	rv = bridge_create_raw(body, len, "amount_minor", &minor, &minor_len);
	if (rv != PW_OK) {
		return rv;
	}
	if ((amount == NULL) == (minor == NULL)) {
		BRIDGE_MSG(msg, msg_size, "give exactly one of amount and amount_minor");
		return PW_INVALID_ARGUMENT;
	}
	if (amount != NULL) {
		return bridge_json_amount(amount, amount_len, exponent, &c->params.amount_minor, msg,
		    msg_size);
	}
	rv = bridge_json_count(minor, minor_len, PW_AMOUNT_MINOR_MAX, &c->params.amount_minor);
	if (rv != PW_OK) {
		BRIDGE_MSG(msg, msg_size, "amount_minor must be an integer from 1 to %lld",
		    (long long) PW_AMOUNT_MINOR_MAX);
	}
	return rv;
}

static pw_status
bridge_create_mode(json_t *root, bridge_create *c, char *msg, size_t msg_size)
{
	const char *mode = NULL;
	pw_status rv;

	rv = bridge_create_string(root, "mode", 8, &mode, msg, msg_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (mode == NULL) {
		/* required: guessing "test" for a live shop (or the reverse) is worse than asking */
		BRIDGE_MSG(msg, msg_size, "mode is required: \"test\" or \"live\"");
		return PW_INVALID_ARGUMENT;
	}
	if (strcmp(mode, "test") == 0) {
		c->params.mode = PW_MODE_TEST;
	} else if (strcmp(mode, "live") == 0) {
		c->params.mode = PW_MODE_LIVE;
	} else {
		BRIDGE_MSG(msg, msg_size, "mode must be \"test\" or \"live\"");
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

static pw_status
bridge_create_metadata(json_t *root, bridge_create *c, char *msg, size_t msg_size)
{
	json_t *md = json_object_get(root, "metadata");
	const char *key;
	json_t *v;
	size_t n = 0;

	if (md == NULL || json_is_null(md)) {
		return PW_OK;
	}
	if (!json_is_object(md)) {
		BRIDGE_MSG(msg, msg_size, "metadata must be an object of strings");
		return PW_INVALID_ARGUMENT;
	}
	if (json_object_size(md) > PW_METADATA_ENTRIES_MAX) {
		BRIDGE_MSG(msg, msg_size, "metadata has more than %d entries", PW_METADATA_ENTRIES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	json_object_foreach (md, key, v) {
		size_t klen = strlen(key);
		if (klen == 0 || klen > PW_METADATA_KEY_BYTES_MAX) {
			BRIDGE_MSG(msg, msg_size, "metadata keys must be 1 to %d bytes",
			    PW_METADATA_KEY_BYTES_MAX);
			return PW_INVALID_ARGUMENT;
		}
		if (!json_is_string(v) || json_string_length(v) > PW_METADATA_VALUE_BYTES_MAX) {
			BRIDGE_MSG(msg, msg_size, "metadata[%.*s] must be a string of at most %d bytes",
			    BRIDGE_JSON_KEY_ECHO_MAX, key, PW_METADATA_VALUE_BYTES_MAX);
			return PW_INVALID_ARGUMENT;
		}
		PW_ASSERT(n < PW_METADATA_ENTRIES_MAX);
		c->metadata[n].key = key;
		c->metadata[n].value = json_string_value(v);
		n++;
	}
	c->params.metadata = n > 0 ? c->metadata : NULL;
	c->params.metadata_len = n;
	return PW_OK;
}

/* subscription: an optional JSON boolean, true only with a plan (a plan
 * sold as a subscription). */
static pw_status
bridge_create_subscription(json_t *root, bridge_create *c, char *msg, size_t msg_size)
{
	json_t *v = json_object_get(root, "subscription");

	if (v == NULL || json_is_null(v)) {
		return PW_OK; /* null means absent, as for every key */
	}
	if (!json_is_boolean(v)) {
		BRIDGE_MSG(msg, msg_size, "subscription must be true or false");
		return PW_INVALID_ARGUMENT;
	}
	c->params.subscription = json_is_true(v);
	if (c->params.subscription && c->params.plan == NULL) {
		BRIDGE_MSG(msg, msg_size, "subscription sells a plan: give plan too");
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

static pw_status
bridge_create_fulfillment(const char *body, size_t len, json_t *root, bridge_create *c, char *msg,
    size_t msg_size)
{
	const char *credits = NULL;
	size_t credits_len = 0;
	pw_status rv;

	rv = bridge_create_string(root, "plan", PW_PLAN_BYTES_MAX - 1, &c->params.plan, msg, msg_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = bridge_create_raw(body, len, "credits", &credits, &credits_len);
	if (rv != PW_OK) {
		return rv;
	}
	if (c->params.plan != NULL && credits != NULL) {
		BRIDGE_MSG(msg, msg_size, "give at most one of plan and credits");
		return PW_INVALID_ARGUMENT;
	}
	if (c->params.plan != NULL && c->params.credit_package != NULL) {
		BRIDGE_MSG(msg, msg_size, "credit_package sells credits: it takes no plan");
		return PW_INVALID_ARGUMENT;
	}
	rv = bridge_create_subscription(root, c, msg, msg_size);
	if (rv != PW_OK) {
		return rv;
	}
	c->params.fulfillment = PW_FULFILL_NONE;
	if (c->params.plan != NULL) {
		c->params.fulfillment = PW_FULFILL_ACCESS_KEY;
	}
	if (credits != NULL) {
		rv = bridge_json_count(credits, credits_len, PW_CREDITS_MAX, &c->params.credits);
		if (rv != PW_OK) {
			BRIDGE_MSG(msg, msg_size, "credits must be an integer from 1 to %lld",
			    (long long) PW_CREDITS_MAX);
			return rv;
		}
		c->params.fulfillment = PW_FULFILL_CREDITS;
	}
	return PW_OK;
}

/* expires_at_unix_ms: an optional positive integer; the server checks its
 * range against its clock. */
static pw_status
bridge_create_expiry(const char *body, size_t len, bridge_create *c, char *msg, size_t msg_size)
{
	const char *raw = NULL;
	size_t raw_len = 0;
	pw_status rv;

	rv = bridge_create_raw(body, len, "expires_at_unix_ms", &raw, &raw_len);
	if (rv != PW_OK || raw == NULL) {
		return rv;
	}
	rv = bridge_json_count(raw, raw_len, INT64_MAX / 2, &c->params.expires_at_unix_ms);
	if (rv != PW_OK) {
		BRIDGE_MSG(msg, msg_size, "expires_at_unix_ms must be a positive integer (Unix "
		                          "milliseconds)");
	}
	return rv;
}

static pw_status
bridge_create_texts(json_t *root, bridge_create *c, const char *idem_header, char *msg,
    size_t msg_size)
{
	pw_session_params *p = &c->params;
	pw_status rv;

	rv = bridge_create_string(root, "success_url", PW_URL_BYTES_MAX, &p->success_url, msg, msg_size);
	if (rv == PW_OK) {
		rv = bridge_create_string(root, "cancel_url", PW_URL_BYTES_MAX, &p->cancel_url, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_string(root, "customer_email", PW_EMAIL_BYTES_MAX, &p->customer_email,
		    msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_string(root, "customer_name", PW_NAME_BYTES_MAX, &p->customer_name, msg,
		    msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_string(root, "customer_ref", PW_CUSTOMER_REF_BYTES_MAX, &p->customer_ref,
		    msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_string(root, "idempotency_key", PW_IDEMPOTENCY_KEY_BYTES_MAX,
		    &p->idempotency_key, msg, msg_size);
	}
	if (rv != PW_OK || idem_header == NULL) {
		return rv;
	}
	if (strlen(idem_header) == 0 || strlen(idem_header) > PW_IDEMPOTENCY_KEY_BYTES_MAX) {
		BRIDGE_MSG(msg, msg_size, "Idempotency-Key must be 1 to %d bytes",
		    PW_IDEMPOTENCY_KEY_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (p->idempotency_key != NULL && strcmp(p->idempotency_key, idem_header) != 0) {
		BRIDGE_MSG(msg, msg_size, "idempotency_key and the Idempotency-Key header differ");
		return PW_INVALID_ARGUMENT;
	}
	p->idempotency_key = idem_header;
	return PW_OK;
}

/* provider: absent/null (none), "stripe" or "razorpay": paywire creates the
 * provider's checkout (issue 10). */
static pw_status
bridge_create_provider(json_t *root, bridge_create *c, char *msg, size_t msg_size)
{
	const char *p = NULL;
	pw_status rv = bridge_create_string(root, "provider", 16, &p, msg, msg_size);

	if (rv != PW_OK || p == NULL) {
		return rv;
	}
	if (strcmp(p, "stripe") == 0) {
		c->params.provider = PW_WEBHOOK_STRIPE;
	} else if (strcmp(p, "razorpay") == 0) {
		c->params.provider = PW_WEBHOOK_RAZORPAY;
	} else {
		BRIDGE_MSG(msg, msg_size, "provider must be \"stripe\" or \"razorpay\" (paywire creates "
		                          "checkouts there only)");
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* key is in the object, and not null. */
static bool
bridge_create_given(json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);

	return v != NULL && !json_is_null(v);
}

static pw_status
bridge_create_fields(const char *body, size_t len, json_t *root, const char *idem_header,
    bridge_create *out, char *msg, size_t msg_size)
{
	int exponent = -1;
	bool pkg;
	pw_status rv;

	rv = bridge_create_check_keys(root, msg, msg_size);
	if (rv == PW_OK) {
		/* a credit package sets amount, currency and credits: given ones are
		 * checked against it by the server */
		rv = bridge_create_string(root, "credit_package", PW_CREDIT_PACKAGE_CODE_BYTES_MAX,
		    &out->params.credit_package, msg, msg_size);
	}
	pkg = out->params.credit_package != NULL;
	if (rv == PW_OK && (!pkg || bridge_create_given(root, "currency"))) {
		rv = bridge_create_currency(root, out, &exponent, msg, msg_size);
	}
	if (rv == PW_OK && pkg && exponent < 0 && bridge_create_given(root, "amount")) {
		BRIDGE_MSG(msg, msg_size, "amount needs currency (or leave both to the credit package)");
		rv = PW_INVALID_ARGUMENT;
	}
	if (rv == PW_OK && (!pkg || bridge_create_given(root, "amount") ||
	    bridge_create_given(root, "amount_minor"))) {
		rv = bridge_create_amount(body, len, exponent, out, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_mode(root, out, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_expiry(body, len, out, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_texts(root, out, idem_header, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_metadata(root, out, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_fulfillment(body, len, root, out, msg, msg_size);
	}
	if (rv == PW_OK) {
		rv = bridge_create_provider(root, out, msg, msg_size);
	}
	return rv;
}

pw_status
bridge_json_create_parse(const char *body, size_t len, const char *idempotency_header,
    bridge_create *out, char *msg, size_t msg_size)
{
	json_error_t jerr;
	json_t *root;
	pw_status rv;

	PW_ASSERT(out != NULL);
	PW_ASSERT(body != NULL || len == 0);
	memset(out, 0, sizeof(*out));
	if (msg != NULL && msg_size > 0) {
		msg[0] = '\0';
	}
	if (len == 0) {
		BRIDGE_MSG(msg, msg_size, "the body must be a JSON object");
		return PW_INVALID_ARGUMENT;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (root == NULL) {
		BRIDGE_MSG(msg, msg_size, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
		    jerr.text);
		return PW_INVALID_ARGUMENT;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		BRIDGE_MSG(msg, msg_size, "the body must be a JSON object");
		return PW_INVALID_ARGUMENT;
	}
	if (!bridge_json_depth_ok(body, len)) {
		/* before the fields: their raw tokens are found by a scanner that
		 * stops at this depth */
		json_decref(root);
		BRIDGE_MSG(msg, msg_size, "the body nests arrays or objects deeper than %d levels",
		    PW_BRIDGE_JSON_DEPTH_MAX);
		return PW_INVALID_ARGUMENT;
	}
	out->root = root;
	rv = bridge_create_fields(body, len, root, idempotency_header, out, msg, msg_size);
	if (rv != PW_OK) {
		bridge_json_create_fini(out); /* every refusal says why (fuzz_bridge aborts on none) */
		return rv;
	}
	PW_ASSERT(out->params.credit_package != NULL ||
	    (out->params.amount_minor > 0 && out->params.currency == out->currency));
	return PW_OK;
}

void
bridge_json_create_fini(bridge_create *c)
{
	PW_ASSERT(c != NULL);
	json_decref((json_t *) c->root);
	memset(c, 0, sizeof(*c));
}

/* ---- answers ---- */

static int
bridge_json_dump_cb(const char *buffer, size_t size, void *data)
{
	bridge_buf_append((bridge_buf *) data, buffer, size);
	return bridge_buf_ok((bridge_buf *) data) ? 0 : -1;
}

/* Dumps and releases root; an allocation failure marks out failed. */
static void
bridge_json_emit(bridge_buf *out, json_t *root)
{
	if (root == NULL) {
		out->failed = true;
		return;
	}
	if (json_dump_callback(root, bridge_json_dump_cb, out, JSON_COMPACT) != 0) {
		out->failed = true;
	}
	json_decref(root);
}

/* A JSON string for s, "\uFFFD" for bytes that are not valid UTF-8 (a server
 * bug, but never a reason to send malformed JSON). */
static json_t *
bridge_json_str(const char *s)
{
	PW_ASSERT(s != NULL);
	if (!pw_utf8_valid(s, strlen(s))) {
		return json_string("\xEF\xBF\xBD");
	}
	return json_string(s);
}

/* s, or null when s is empty. */
static json_t *
bridge_json_str_or_null(const char *s)
{
	return s[0] == '\0' ? json_null() : bridge_json_str(s);
}

/* The amount as a decimal string in its currency ("49.00"), or null. */
static json_t *
bridge_json_amount_text(int64_t minor, const char *currency)
{
	char text[48];
	int exponent = pw_currency_exponent(currency);

	if (exponent < 0) {
		return json_null();
	}
	pw_amount_format(text, sizeof(text), minor, exponent);
	return json_string(text);
}

void
bridge_json_error(bridge_buf *out, const char *code, const char *message)
{
	PW_ASSERT(out != NULL && code != NULL && message != NULL);
	bridge_json_emit(out, json_pack("{s:{s:o,s:o}}", "error", "code", bridge_json_str(code),
	                          "message", bridge_json_str(message)));
}

void
bridge_json_session(bridge_buf *out, const pw_session *s, const char *checkout_url)
{
	json_t *root;

	PW_ASSERT(out != NULL && s != NULL && checkout_url != NULL);
	root = json_pack("{s:o,s:o,s:o,s:s?,s:s?,s:s?,s:I,s:o,s:o,s:o,s:I,s:I}", "id",
	        bridge_json_str(s->id),
	        "url", bridge_json_str(s->url[0] != '\0' ? s->url : checkout_url), "checkout_url",
	        bridge_json_str(checkout_url), "status", pw_session_status_name(s->status),
	        "payment_status", pw_payment_status_name(s->payment_status), "mode",
	        pw_mode_name(s->mode), "amount_minor", (json_int_t) s->amount_minor, "amount",
	        bridge_json_amount_text(s->amount_minor, s->currency), "currency",
	        bridge_json_str(s->currency), "merchant_id", bridge_json_str(s->merchant_id),
	        "created_at_unix_ms", (json_int_t) s->created_at_unix_ms, "expires_at_unix_ms",
	        (json_int_t) s->expires_at_unix_ms, "checkout_secret",
	        bridge_json_str_or_null(s->checkout_secret));
	if (root != NULL && s->credit_package[0] != '\0') {
		(void) json_object_set_new(root, "credit_package", bridge_json_str(s->credit_package));
	}
	if (root != NULL && s->checkout_provider[0] != '\0') {
		/* the provider checkout paywire created (issue 10) */
		(void) json_object_set_new(root, "checkout_provider", bridge_json_str(s->checkout_provider));
		(void) json_object_set_new(root, "provider_checkout_id",
		    bridge_json_str_or_null(s->provider_checkout_id));
		(void) json_object_set_new(root, "provider_checkout_url",
		    bridge_json_str_or_null(s->provider_checkout_url));
	}
	bridge_json_emit(out, root);
}

void
bridge_json_refund(bridge_buf *out, const pw_refund *r)
{
	PW_ASSERT(out != NULL && r != NULL);
	bridge_json_emit(out,
	    json_pack("{s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "id", bridge_json_str(r->id),
	        "session_id", bridge_json_str(r->session_id), "state", bridge_json_str(r->state),
	        "amount_minor", (json_int_t) r->amount_minor, "currency", bridge_json_str(r->currency),
	        "provider", bridge_json_str(r->provider), "payment_ref",
	        bridge_json_str_or_null(r->payment_ref), "provider_refund_id",
	        bridge_json_str_or_null(r->provider_refund_id), "reason",
	        bridge_json_str_or_null(r->reason), "failure_reason",
	        bridge_json_str_or_null(r->failure_reason), "created_at_unix_ms",
	        (json_int_t) r->created_at_unix_ms));
}

void
bridge_json_portal(bridge_buf *out, const pw_portal *p)
{
	PW_ASSERT(out != NULL && p != NULL);
	bridge_json_emit(out, json_pack("{s:o,s:o,s:o,s:s}", "url", bridge_json_str(p->url),
	                          "customer", bridge_json_str(p->customer), "session_id",
	                          bridge_json_str(p->session_id), "mode", pw_mode_name(p->mode)));
}

/* A refund or portal body: a JSON object with only the given keys; amount_minor
 * (refund) a positive integer; strings at most len_max bytes. */
pw_status
bridge_json_refund_parse(const char *body, size_t len, int64_t *amount_minor, char *reason,
    size_t reason_size, char *msg, size_t msg_size)
{
	json_error_t jerr;
	json_t *root;
	json_t *v;
	const char *member;
	const char *raw = NULL;
	size_t raw_len = 0;
	pw_status rv = PW_OK;

	*amount_minor = 0;
	reason[0] = '\0';
	if (len == 0) {
		return PW_OK; /* all that is left, no reason */
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
	if (root == NULL || !json_is_object(root)) {
		BRIDGE_MSG(msg, msg_size, "the body must be a JSON object");
		json_decref(root);
		return PW_INVALID_ARGUMENT;
	}
	json_object_foreach (root, member, v) {
		if (strcmp(member, "amount_minor") != 0 && strcmp(member, "reason") != 0) {
			BRIDGE_MSG(msg, msg_size, "unknown parameter: %.*s", BRIDGE_JSON_KEY_ECHO_MAX, member);
			rv = PW_INVALID_ARGUMENT;
			break;
		}
	}
	if (rv == PW_OK && bridge_json_raw_member(body, len, "amount_minor", &raw, &raw_len) == PW_OK &&
	    bridge_json_count(raw, raw_len, PW_AMOUNT_MINOR_MAX, amount_minor) != PW_OK) {
		BRIDGE_MSG(msg, msg_size, "amount_minor must be an integer from 1 to %lld (or absent: "
		                          "all that is left)", (long long) PW_AMOUNT_MINOR_MAX);
		rv = PW_INVALID_ARGUMENT;
	}
	v = json_object_get(root, "reason");
	if (rv == PW_OK && v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) >= reason_size) {
			BRIDGE_MSG(msg, msg_size, "reason must be duplicate, fraudulent or "
			                          "requested_by_customer");
			rv = PW_INVALID_ARGUMENT;
		} else {
			(void) pw_strlcpy(reason, json_string_value(v), reason_size);
		}
	}
	json_decref(root);
	return rv;
}

pw_status
bridge_json_portal_parse(const char *body, size_t len, char *return_url, size_t url_size,
    char *msg, size_t msg_size)
{
	json_error_t jerr;
	json_t *root = len > 0 ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	json_t *v;
	const char *member;
	pw_status rv = PW_OK;

	return_url[0] = '\0';
	if (root == NULL || !json_is_object(root)) {
		BRIDGE_MSG(msg, msg_size, "the body must be a JSON object with return_url");
		json_decref(root);
		return PW_INVALID_ARGUMENT;
	}
	json_object_foreach (root, member, v) {
		if (strcmp(member, "return_url") != 0) {
			BRIDGE_MSG(msg, msg_size, "unknown parameter: %.*s", BRIDGE_JSON_KEY_ECHO_MAX, member);
			rv = PW_INVALID_ARGUMENT;
			break;
		}
	}
	v = json_object_get(root, "return_url");
	if (rv == PW_OK && (!json_is_string(v) || json_string_length(v) == 0 ||
	                       json_string_length(v) >= url_size)) {
		BRIDGE_MSG(msg, msg_size, "return_url (an http or https URL) is required");
		rv = PW_INVALID_ARGUMENT;
	}
	if (rv == PW_OK) {
		(void) pw_strlcpy(return_url, json_string_value(v), url_size);
	}
	json_decref(root);
	return rv;
}

void
bridge_json_status(bridge_buf *out, const pw_status_info *s, const bridge_json_customer *cv)
{
	json_t *root;

	PW_ASSERT(out != NULL && s != NULL);
	root = json_pack("{s:o,s:s?,s:s?,s:o,s:s?,s:I,s:o,s:I,s:o,s:I,s:o,s:I}", "session_id",
	        bridge_json_str(s->session_id), "status", pw_session_status_name(s->status),
	        "payment_status", pw_payment_status_name(s->payment_status), "payment_provider",
	        bridge_json_str_or_null(s->payment_provider), "mode", pw_mode_name(s->mode),
	        "amount_minor", (json_int_t) s->amount_minor, "amount",
	        bridge_json_amount_text(s->amount_minor, s->currency), "amount_refunded_minor",
	        (json_int_t) s->amount_refunded_minor, "currency", bridge_json_str(s->currency),
	        "created_at_unix_ms", (json_int_t) s->created_at_unix_ms, "paid_at_unix_ms",
	        s->paid_at_unix_ms > 0 ? json_integer((json_int_t) s->paid_at_unix_ms) : json_null(),
	        "expires_at_unix_ms", (json_int_t) s->expires_at_unix_ms);
	if (root != NULL && cv != NULL) {
		/* the checkout secret matched: what the customer's page shows */
		(void) json_object_set_new(root, "merchant_name", bridge_json_str_or_null(s->merchant_name));
		(void) json_object_set_new(root, "plan", bridge_json_str_or_null(s->plan));
		(void) json_object_set_new(root, "credits",
		    s->credits > 0 ? json_integer((json_int_t) s->credits) : json_null());
		(void) json_object_set_new(root, "access_url", bridge_json_str_or_null(cv->access_url));
		(void) json_object_set_new(root, "continue_url",
		    bridge_json_str_or_null(cv->continue_url));
		(void) json_object_set_new(root, "cancel_url", bridge_json_str_or_null(s->cancel_url));
	}
	bridge_json_emit(out, root);
}

void
bridge_json_webhook(bridge_buf *out, const pw_webhook_result *r)
{
	json_t *o;

	PW_ASSERT(out != NULL && r != NULL);
	o = json_pack("{s:s?,s:o,s:o,s:o,s:o}", "outcome", pw_webhook_outcome_name(r->outcome),
	    "session_id", bridge_json_str_or_null(r->session_id), "event_id",
	    bridge_json_str_or_null(r->event_id), "event_type",
	    bridge_json_str_or_null(r->event_type), "reason", bridge_json_str_or_null(r->reason));
	/* only when set: money that needs a human (paywire anomalies list) */
	if (o != NULL && r->anomaly) {
		(void) json_object_set_new(o, "anomaly", json_true());
	}
	bridge_json_emit(out, o);
}

void
bridge_json_health(bridge_buf *out, const char *status)
{
	PW_ASSERT(out != NULL && status != NULL);
	bridge_json_emit(out, json_pack("{s:s}", "status", status));
}
