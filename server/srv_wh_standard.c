/*
 * srv_wh_standard.c - the Standard Webhooks scheme (standardwebhooks.com),
 * shared by every provider that signs that way: One.com, the Web3 relay, and
 * in test builds the fake provider. Each of them has its own file with its
 * own parse; this file holds what they share (srv_wh.h, "Standard
 * Webhooks"), and is no provider itself.
 *
 *   secret     "whsec_" + standard base64 (padded or not) of
 *              1..PW_WEBHOOK_STD_KEY_BYTES_MAX bytes; the HMAC key is the
 *              decoded bytes
 *   headers    webhook-id, webhook-timestamp,
 *              webhook-signature: v1,<base64> [v1,<base64> ...]
 *   signed     "<webhook-id>.<webhook-timestamp>.<body>", HMAC-SHA256
 *   event id   the webhook-id header (signed, so it is a safe dedup key)
 */
#include "srv_wh.h"

#include <string.h>

/* Standard Webhooks message id: it becomes pw_event.event_id. */
#define STD_MSG_ID_BYTES_MAX (PW_EV_ID_BYTES - 1)

bool
srv_wh_std_secret_decode(const char *secret, size_t len, srv_webhook_secret *out, char *why,
    size_t why_size)
{
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING };
	const char *b64;
	size_t b64_len;

	PW_ASSERT(why != NULL && why_size > 0);
	if (!srv_wh_secret_prefixed(secret, len, SRV_WH_SECRET_PREFIX_LEN)) {
		(void) snprintf(why, why_size, "must be whsec_<base64> (Standard Webhooks secret)");
		return false;
	}
	b64 = secret + SRV_WH_SECRET_PREFIX_LEN;
	b64_len = len - SRV_WH_SECRET_PREFIX_LEN;
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		size_t bin_len = 0;
		const char *end = NULL;
		int rv = sodium_base642bin(out->key, PW_WEBHOOK_STD_KEY_BYTES_MAX, b64, b64_len,
		    NULL, &bin_len, &end, variants[i]);
		if (rv == 0 && end == b64 + b64_len && bin_len >= 1) {
			out->key_len = bin_len;
			return true;
		}
	}
	sodium_memzero(out->key, sizeof(out->key));
	(void) snprintf(why, why_size,
	    "the part after whsec_ is not base64 of 1..%d bytes (Standard Webhooks secret)",
	    PW_WEBHOOK_STD_KEY_BYTES_MAX);
	return false;
}

/* Splits "v1,<b64> v1,<b64> v2,..." into sigs (v1 only, others ignored). */
static bool
std_sigs(const srv_wh_req *r, const char *hv, size_t hlen, srv_wh_sigs *sigs)
{
	size_t pos = 0;

	while (pos < hlen) {
		const char *sp = memchr(hv + pos, ' ', hlen - pos);
		size_t end = sp == NULL ? hlen : (size_t) (sp - hv);
		const char *entry = hv + pos;
		size_t elen = end - pos;
		const char *comma = memchr(entry, ',', elen);
		pos = end + 1;
		if (elen == 0) {
			continue; /* repeated spaces */
		}
		if (comma == NULL || comma == entry) {
			(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed webhook-signature header: "
			                                          "an entry is not <version>,<signature>");
			return false;
		}
		if (++sigs->entries > PW_WEBHOOK_SIGNATURES_MAX) {
			(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "webhook-signature header lists more "
			    "than %d signatures", PW_WEBHOOK_SIGNATURES_MAX);
			return false;
		}
		if (comma - entry != 2 || entry[0] != 'v' || entry[1] != '1') {
			continue; /* other versions are ignored */
		}
		if (!srv_wh_b64_mac(comma + 1, elen - 3, sigs->mac[sigs->count])) {
			(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed webhook-signature header: "
			                                          "a v1 signature is not base64 of 32 bytes");
			return false;
		}
		sigs->count++;
	}
	return true;
}

pw_status
srv_wh_std_verify(const srv_wh_req *r)
{
	const char *id, *tsv, *hv;
	size_t id_len, ts_len, hlen;
	int64_t ts = 0;
	srv_wh_sigs sigs = { .count = 0 };

	if (!srv_wh_header_get(r, "webhook-id", &id, &id_len) ||
	    !srv_wh_header_get(r, "webhook-timestamp", &tsv, &ts_len) ||
	    !srv_wh_header_get(r, "webhook-signature", &hv, &hlen)) {
		return PW_UNAUTHENTICATED;
	}
	if (!srv_wh_word_ok(id, STD_MSG_ID_BYTES_MAX)) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed webhook-id header: 1..%d "
		    "printable ASCII bytes expected", STD_MSG_ID_BYTES_MAX);
	}
	if (!srv_wh_ts_parse(tsv, ts_len, &ts)) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "malformed webhook-timestamp header: not a "
		                                          "unix timestamp");
	}
	if (!std_sigs(r, hv, hlen, &sigs)) {
		return PW_UNAUTHENTICATED;
	}
	if (sigs.count == 0) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED, "webhook-signature header has no v1 "
		                                          "signature");
	}
	{
		const srv_wh_part parts[] = { { id, id_len }, { ".", 1 }, { tsv, ts_len }, { ".", 1 },
			{ r->body, r->body_len } };
		if (!srv_wh_any_match(r, parts, 5, &sigs)) {
			return srv_wh_fail(r, PW_UNAUTHENTICATED, "no webhook-signature v1 signature "
			    "matches the body with any of the %zu configured secrets", r->kr->count);
		}
	}
	return srv_wh_ts_check(r, "webhook-timestamp", ts);
}

pw_status
srv_wh_std_envelope(const srv_wh_req *r)
{
	static const srv_wh_field event = { "event", "event", SRV_WH_REQUIRED,
		SRV_WH_EV(event_type) };
	const char *id, *ts;
	int64_t t = 0;
	pw_status rv;

	rv = srv_wh_header_value(r, "webhook-id", &id);
	if (rv == PW_OK) {
		rv = srv_wh_copy(r, r->ev->event_id, sizeof(r->ev->event_id), id, "webhook-id header");
	}
	if (rv == PW_OK) {
		rv = srv_wh_header_value(r, "webhook-timestamp", &ts);
	}
	if (rv != PW_OK) {
		return rv;
	}
	if (!srv_wh_ts_parse(ts, strnlen(ts, SRV_WH_TS_DIGITS_MAX + 1), &t) ||
	    r->ev->event_id[0] == '\0') {
		return srv_wh_fail(r, PW_INVALID_ARGUMENT,
		    "webhook-id or webhook-timestamp header malformed");
	}
	r->ev->event_unix_s = t;
	r->ev->live = -1;
	return srv_wh_json_fields(r, r->root, &event, 1);
}
