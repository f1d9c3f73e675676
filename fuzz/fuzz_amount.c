/*
 * fuzz_amount.c - amount and decimal parsing, three ways that must agree.
 * Byte 0 picks the exponent (byte % 5, as currencies have 0..4 decimals);
 * the rest is the amount text.
 *   - pw_amount_parse (common/currency.c) against fz_ref_parse below, a
 *     reference written separately (grammar digits[.digits], at most
 *     `exponent` decimals, <= 32 bytes, value <= PW_AMOUNT_MINOR_MAX; a
 *     value past 10^17 is only remembered as "too big", so it cannot
 *     overflow): same verdict, same value;
 *     an accepted amount formats back (pw_amount_format) to text that
 *     parses to the same value;
 *   - the bridge's bridge_json_amount on the text as a JSON number token and
 *     as a JSON string: accepted exactly when the reference accepts a value
 *     > 0 (a token with exponent notation is refused by both), same value;
 *   - the server's webhook amount (srv_wh_decimal_amount) on a body
 *     {"amount":<text>,"currency":<a currency with that exponent>} decoded
 *     as the webhook parser does: when jansson accepts the body, the same
 *     verdict and value as the reference (> 0).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bridge_json.h"
#include "pw_common.h"
#include "srv_wh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* v * 10 + d, or "too big" (*big) once v passes 10^17: far above any amount. */
static void
fz_ref_push(uint64_t *v, bool *big, unsigned d)
{
	if (*v > UINT64_C(100000000000000000)) {
		*big = true;
		return;
	}
	*v = *v * 10 + d;
}

static bool
fz_ref_parse(const char *s, size_t n, int exponent, int64_t *out)
{
	uint64_t v = 0;
	bool big = false;
	size_t i = 0, int_digits = 0, frac_digits = 0;

	if (n == 0 || n > 32) {
		return false;
	}
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
		fz_ref_push(&v, &big, (unsigned) (s[i] - '0'));
	}
	if (int_digits == 0) {
		return false;
	}
	if (i < n) {
		if (s[i] != '.') {
			return false;
		}
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++) {
			fz_ref_push(&v, &big, (unsigned) (s[i] - '0'));
		}
		if (frac_digits == 0 || i != n || frac_digits > (size_t) exponent) {
			return false;
		}
	}
	for (size_t k = frac_digits; k < (size_t) exponent; k++) {
		fz_ref_push(&v, &big, 0);
	}
	if (big || v > (uint64_t) PW_AMOUNT_MINOR_MAX) {
		return false;
	}
	*out = (int64_t) v;
	return true;
}

/* A currency with each exponent 0..4 (pw_currency_exponent). */
static const char *const fz_cur[5] = { "JPY", NULL, "EUR", "BHD", "CLF" };

static void
fz_server(const char *text, size_t n, int exp, bool ref_ok, int64_t ref)
{
	char body[128];
	int len;
	json_t *root;
	json_error_t err;
	pw_event ev;
	srv_wh_req r;

	if (fz_cur[exp] == NULL || pw_currency_exponent(fz_cur[exp]) != exp || n > 64 ||
	    memchr(text, '\0', n) != NULL) {
		return;
	}
	len = snprintf(body, sizeof(body), "{\"amount\":%.*s,\"currency\":\"%s\"}", (int) n, text,
	    fz_cur[exp]);
	root = json_loadb(body, (size_t) len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		return; /* not JSON: the webhook parser refuses it before */
	}
	memset(&ev, 0, sizeof(ev));
	memset(&r, 0, sizeof(r));
	r.body = (const uint8_t *) body;
	r.body_len = (size_t) len;
	r.root = root;
	r.ev = &ev;
	if (json_is_object(root)) {
		pw_status st = srv_wh_decimal_amount(&r);
		/* the number token is the text without JSON whitespace around it */
		size_t a = 0, z = n;
		while (a < z && strchr(" \t\r\n", text[a]) != NULL) {
			a++;
		}
		while (z > a && strchr(" \t\r\n", text[z - 1]) != NULL) {
			z--;
		}
		ref_ok = fz_ref_parse(text + a, z - a, exp, &ref);
		/* a JSON number with an exponent or a sign is no exact amount */
		bool expect = ref_ok && ref > 0;
		if (json_is_string(json_object_get(root, "amount"))) {
			expect = false; /* text was a JSON string token: checked below */
			const char *sv = json_string_value(json_object_get(root, "amount"));
			int64_t v2 = 0;
			expect = fz_ref_parse(sv, strlen(sv), exp, &v2) && v2 > 0 &&
			    strlen(sv) == json_string_length(json_object_get(root, "amount"));
			ref = v2;
		}
		if ((st == PW_OK) != expect || (st == PW_OK && ev.amount_minor != ref)) {
			abort();
		}
	}
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data + 1;
	size_t n;
	int exp;
	int64_t v = -1, ref = -1, b = -1;
	bool ok, ref_ok;
	char fmt[64], quoted[80];

	if (size == 0) {
		return 0;
	}
	exp = data[0] % 5;
	n = size - 1;
	ok = pw_amount_parse(text, n, exp, &v) == PW_OK;
	ref_ok = fz_ref_parse(text, n, exp, &ref);
	if (ok != ref_ok || (ok && v != ref)) {
		abort();
	}
	if (ok) {
		int64_t back = -1;
		pw_amount_format(fmt, sizeof(fmt), v, exp);
		if (pw_amount_parse(fmt, strlen(fmt), exp, &back) != PW_OK || back != v) {
			abort();
		}
	}
	/* the bridge: the text as a number token (a text that starts with a
	 * quote is a string token: the next check) */
	if (n > 0 && text[0] == '"') {
		/* nothing */
	} else if (n > 0 && bridge_json_amount(text, n, exp, &b, NULL, 0) == PW_OK) {
		if (!ref_ok || ref <= 0 || b != ref) {
			abort();
		}
	} else if (ref_ok && ref > 0 && n > 0) {
		abort();
	}
	/* the bridge: the text as a JSON string, when it needs no escaping */
	if (n + 3 <= sizeof(quoted) && memchr(text, '"', n) == NULL && memchr(text, '\\', n) == NULL &&
	    memchr(text, '\0', n) == NULL) {
		bool sok;
		quoted[0] = '"';
		memcpy(quoted + 1, text, n);
		quoted[n + 1] = '"';
		b = -1;
		sok = bridge_json_amount(quoted, n + 2, exp, &b, NULL, 0) == PW_OK;
		if (sok && (!ref_ok || ref <= 0 || b != ref)) {
			abort();
		}
	}
	fz_server(text, n, exp, ref_ok, ref);
	return 0;
}
