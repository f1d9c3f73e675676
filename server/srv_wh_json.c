/*
 * srv_wh_json.c - the JSON pieces every provider's parse shares (see
 * srv_wh.h): typed members, identifier copies, currencies, amounts in minor
 * units and exact decimal amounts, detail notes, the body decoder.
 *
 * Everything here runs on a body whose signature was already checked, but is
 * written as if it were hostile anyway: every field is type- and
 * range-checked, every string bounds-checked before it is copied, and no
 * reason in why echoes body bytes.
 */
#include "srv_wh.h"

#include <stdarg.h>
#include <string.h>

/* The notes the providers build are bounded, so in practice they always fit. */
void
srv_wh_detail(pw_event *ev, const char *fmt, ...)
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

const srv_wh_event_type *
srv_wh_event_type_find(const srv_wh_req *r, const srv_wh_event_type *types, size_t n,
    const char *ignored)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(types[i].type, r->ev->event_type) == 0) {
			r->ev->kind = types[i].kind;
			return &types[i];
		}
	}
	r->ev->kind = PW_EV_IGNORED;
	srv_wh_detail(r->ev, "%s", ignored);
	return NULL;
}

char
srv_wh_lower(char ch)
{
	if (ch >= 'A' && ch <= 'Z') {
		ch = (char) (ch - 'A' + 'a');
	}
	return ch;
}

/* ---------------------------------------------------------------------------
 * Typed member access. `label` is the field's path, for why.
 */

typedef enum wj_kind { WJ_OBJECT = 0, WJ_STRING, WJ_INTEGER } wj_kind;

/* What a member must be, named for why. */
static const struct {
	json_type type;         /* jansson's type */
	const char *name;       /* "missing <name> <label>" */
	const char *article;    /* "<label> must be <article> <name>" */
} wj_types[] = {
	[WJ_OBJECT] = { JSON_OBJECT, "object", "an" },
	[WJ_STRING] = { JSON_STRING, "string", "a" },
	[WJ_INTEGER] = { JSON_INTEGER, "integer", "an" },
};

/* parent.key of kind k: *v is the member, or NULL when it is
 * absent or null (PW_OK, or an error if required). A JSON real is not an
 * integer: amounts here are minor units, never fractions. */
static pw_status
wj_member(const srv_wh_req *r, json_t *parent, const char *key, const char *label,
    srv_wh_need need, wj_kind k, json_t **v)
{
	json_t *m = parent == NULL ? NULL : json_object_get(parent, key);

	*v = NULL;
	if (m == NULL || json_is_null(m)) {
		return need == SRV_WH_REQUIRED
		    ? srv_wh_fail(r, PW_INVALID_ARGUMENT, "missing %s %s", wj_types[k].name, label)
		    : PW_OK;
	}
	if (json_typeof(m) != wj_types[k].type) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s must be %s %s", label,
		    wj_types[k].article, wj_types[k].name);
	}
	*v = m;
	return PW_OK;
}

pw_status
srv_wh_json_obj(const srv_wh_req *r, json_t *parent, const char *key, const char *label,
    srv_wh_need need, json_t **out)
{
	return wj_member(r, parent, key, label, need, WJ_OBJECT, out);
}

pw_status
srv_wh_json_str(const srv_wh_req *r, json_t *parent, const char *key, const char *label,
    srv_wh_need need, const char **out)
{
	json_t *v;
	pw_status rv;

	*out = NULL;
	rv = wj_member(r, parent, key, label, need, WJ_STRING, &v);
	if (rv == PW_OK && v != NULL && need == SRV_WH_REQUIRED && json_string_length(v) == 0) {
		rv = srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s is empty", label);
	}
	*out = rv == PW_OK && v != NULL ? json_string_value(v) : NULL;
	return rv;
}

pw_status
srv_wh_json_int(const srv_wh_req *r, json_t *parent, const char *key, const char *label,
    srv_wh_need need, int64_t lo, int64_t hi, int64_t *out, bool *present)
{
	json_t *v;
	json_int_t x;
	pw_status rv;

	PW_ASSERT(lo <= hi);
	*present = false;
	*out = 0;
	rv = wj_member(r, parent, key, label, need, WJ_INTEGER, &v);
	if (rv != PW_OK || v == NULL) {
		return rv;
	}
	x = json_integer_value(v);
	if (x < lo || x > hi) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s is out of range %lld..%lld", label,
		    (long long) lo, (long long) hi);
	}
	*out = x;
	*present = true;
	return PW_OK;
}

pw_status
srv_wh_json_fields(const srv_wh_req *r, json_t *obj, const srv_wh_field *fields, size_t n)
{
	pw_status rv = PW_OK;

	for (size_t i = 0; i < n && rv == PW_OK; i++) {
		const srv_wh_field *f = &fields[i];
		const char *s;
		PW_ASSERT(f->offset + f->size <= sizeof(pw_event) && f->size > 0);
		rv = srv_wh_json_str(r, obj, f->key, f->label, f->need, &s);
		if (rv == PW_OK && s != NULL) {
			rv = srv_wh_copy(r, (char *) r->ev + f->offset, f->size, s, f->label);
		}
	}
	return rv;
}

/* Copies an identifier into a pw_event field: printable ASCII without
 * spaces, and it must fit (never truncated). src NULL or "" leaves "". */
pw_status
srv_wh_copy(const srv_wh_req *r, char *dst, size_t dst_size, const char *src, const char *label)
{
	size_t len;

	PW_ASSERT(dst_size > 0);
	dst[0] = '\0';
	if (src == NULL || src[0] == '\0') {
		return PW_OK;
	}
	len = strnlen(src, dst_size);
	if (len >= dst_size) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s is longer than %zu bytes", label,
		    dst_size - 1);
	}
	if (!srv_wh_word_ok(src, dst_size - 1)) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s must be printable ASCII without spaces",
		    label);
	}
	PW_ASSERT(pw_strlcpy(dst, src, dst_size));
	return PW_OK;
}

/* parent.key: an ISO 4217 code in any case -> ev->currency (upper case) and
 * its exponent. */
static pw_status
wj_currency(const srv_wh_req *r, json_t *parent, const char *key, const char *label, int *exp_out)
{
	const char *s;
	char up[4];
	pw_status rv;

	rv = srv_wh_json_str(r, parent, key, label, SRV_WH_REQUIRED, &s);
	if (rv != PW_OK) {
		return rv;
	}
	if (strlen(s) != 3) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s must be a 3-letter ISO 4217 code", label);
	}
	for (size_t i = 0; i < 3; i++) {
		char ch = s[i];
		if (ch >= 'a' && ch <= 'z') {
			ch = (char) (ch - 'a' + 'A');
		}
		if (ch < 'A' || ch > 'Z') {
			return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s must be a 3-letter ISO 4217 code",
			    label);
		}
		up[i] = ch;
	}
	up[3] = '\0';
	*exp_out = pw_currency_exponent(up);
	if (*exp_out < 0) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "unknown currency %s in %s (not ISO 4217)",
		    up, label);
	}
	memcpy(r->ev->currency, up, sizeof(up));
	return PW_OK;
}

/* Amount in minor units (JSON integer) plus its currency: the Stripe and
 * Razorpay shape. Fills ev->amount_minor, ev->currency, ev->has_amount. */
pw_status
srv_wh_minor_amount(const srv_wh_req *r, json_t *obj, const char *key, const char *label,
    srv_wh_need need, const char *cur_label)
{
	int64_t amount;
	bool present;
	int exp;
	pw_status rv;

	rv = srv_wh_json_int(r, obj, key, label, need, 0, PW_AMOUNT_MINOR_MAX, &amount, &present);
	if (rv != PW_OK || !present) {
		return rv;
	}
	rv = wj_currency(r, obj, "currency", cur_label, &exp);
	if (rv != PW_OK) {
		return rv;
	}
	r->ev->amount_minor = amount;
	r->ev->has_amount = true;
	return PW_OK;
}

/* A header's single value (for parse, after verify accepted the request). */
pw_status
srv_wh_header_value(const srv_wh_req *r, const char *name, const char **value)
{
	int found = srv_webhook_header_find(r->h, r->nh, name, value);

	if (found != 1) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "%s header %s", name,
		    found == 0 ? "missing" : "repeated");
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

/* JSON's four whitespace bytes. */
static bool
wj_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
wj_skip_ws(const uint8_t *b, size_t len, size_t i)
{
	while (i < len && wj_ws(b[i])) {
		i++;
	}
	return i;
}

/* b[i] == '"': index just past the closing quote, or len if unterminated. */
static size_t
wj_skip_string(const uint8_t *b, size_t len, size_t i)
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
wj_skip_value(const uint8_t *b, size_t len, size_t i)
{
	size_t depth = 0;

	if (i < len && b[i] == '"') {
		return wj_skip_string(b, len, i);
	}
	if (i < len && (b[i] == '{' || b[i] == '[')) {
		while (i < len) {
			if (b[i] == '"') {
				i = wj_skip_string(b, len, i);
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
	while (i < len && b[i] != ',' && b[i] != '}' && b[i] != ']' && !wj_ws(b[i])) {
		i++;
	}
	return i;
}

/* True when the raw key token b[s..e) (quotes included) decodes to key. A key
 * written with escapes ("\u0061mount") is decoded by jansson itself. */
static bool
wj_key_equals(const uint8_t *b, size_t s, size_t e, const char *key)
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
wj_raw_member(const uint8_t *b, size_t len, const char *key, const char **tok, size_t *tok_len)
{
	size_t i = wj_skip_ws(b, len, 0);

	if (i >= len || b[i] != '{') {
		return false;
	}
	i = wj_skip_ws(b, len, i + 1);
	while (i < len && b[i] == '"') {
		size_t ks = i;
		size_t ke = wj_skip_string(b, len, i);
		size_t vs = wj_skip_ws(b, len, ke);
		size_t ve;
		if (vs >= len || b[vs] != ':') {
			return false;
		}
		vs = wj_skip_ws(b, len, vs + 1);
		ve = wj_skip_value(b, len, vs);
		if (ve > len || ve == vs) {
			return false;
		}
		if (wj_key_equals(b, ks, ke, key)) {
			*tok = (const char *) b + vs;
			*tok_len = ve - vs;
			return true;
		}
		i = wj_skip_ws(b, len, ve);
		if (i >= len || b[i] != ',') {
			return false;
		}
		i = wj_skip_ws(b, len, i + 1);
	}
	return false;
}

/* Top-level "amount" (decimal string or JSON number, major units) and
 * "currency" -> exact minor units, strictly positive. */
pw_status
srv_wh_decimal_amount(const srv_wh_req *r)
{
	json_t *v = json_object_get(r->root, "amount");
	const char *text = NULL;
	size_t text_len = 0;
	int exp = 0;
	int64_t minor = 0;
	pw_status rv;

	rv = wj_currency(r, r->root, "currency", "currency", &exp);
	if (rv != PW_OK) {
		return rv;
	}
	if (v == NULL || json_is_null(v)) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "missing amount");
	}
	if (json_is_string(v)) {
		text = json_string_value(v);
		text_len = json_string_length(v);
	} else if (json_is_number(v)) {
		if (!wj_raw_member(r->body, r->body_len, "amount", &text, &text_len)) {
			return srv_wh_fail(r, PW_INVALID_ARGUMENT,
			    "amount: number token not found in the body");
		}
	} else {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT,
		    "amount must be a decimal string or a JSON number");
	}
	rv = pw_amount_parse(text, text_len, exp, &minor);
	if (rv != PW_OK || minor <= 0) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "amount is not an exact positive %s amount "
		    "(digits with at most %d decimals, no sign or exponent, at most %lld minor units)",
		    r->ev->currency, exp, (long long) PW_AMOUNT_MINOR_MAX);
	}
	r->ev->amount_minor = minor;
	r->ev->has_amount = true;
	return PW_OK;
}

/* ---------------------------------------------------------------------------
 * Decoding
 */

/* A human reason for a jansson decode error that never echoes body bytes
 * (they may be anything, and why travels in a UTF-8 protobuf string). */
static const char *
wj_error_text(const json_error_t *err)
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

pw_status
srv_wh_json_decode(const srv_wh_req *r, json_t **root)
{
	json_error_t err;
	json_t *v;

	*root = NULL;
	memset(&err, 0, sizeof(err));
	v = json_loadb((const char *) r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL) {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "body %s (line %d, column %d)",
		    wj_error_text(&err), err.line, err.column);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return srv_wh_fail(r, PW_INVALID_ARGUMENT, "body is not a JSON object");
	}
	*root = v;
	return PW_OK;
}

