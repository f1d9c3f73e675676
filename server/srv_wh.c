/*
 * srv_wh.c - the provider registry and the signature helpers every provider
 * file shares (see srv_wh.h). The schemes themselves are in the provider
 * files; docs/WEBHOOKS.md describes them.
 */
#include "srv_wh.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "paywire/v1/paywire.pb-c.h"

_Static_assert(SRV_WH_MAC_BYTES == 32, "HMAC-SHA256 is 32 bytes");
_Static_assert(PW_WEBHOOK_STD_KEY_BYTES_MAX <= PW_WEBHOOK_SECRET_BYTES_MAX,
    "a decoded Standard Webhooks key fits a secret slot");

/* The rows that travel on the wire have the numbers of paywire.v1.Provider
 * (test rows have none: they never leave a test build). */
#define SRV_WH_XX_WIRE(NAME, value, name, label, secret_env)                      \
	_Static_assert((int) PW_PROVIDER_##NAME == (int) PAYWIRE__V1__PROVIDER__PROVIDER_##NAME, \
	    "PW_PROVIDER_MAP row " #NAME " has the value of paywire.v1.Provider");
PW_PROVIDER_MAP_BASE(SRV_WH_XX_WIRE)
#undef SRV_WH_XX_WIRE

/* Every provider's ops, one slot per row of the table. */
static const srv_wh_ops *const srv_wh_registry[PW_PROVIDER_COUNT] = {
#define SRV_WH_XX_REGISTER(NAME, value, name, label, secret_env) \
	[PW_PROVIDER_IX_##NAME] = &srv_wh_ops_##NAME,
	PW_PROVIDER_MAP(SRV_WH_XX_REGISTER)
#undef SRV_WH_XX_REGISTER
};

const srv_wh_ops *
srv_wh_ops_get(pw_provider p)
{
	const srv_wh_ops *ops;

	if (!pw_provider_known(p)) {
		return NULL;
	}
	ops = srv_wh_registry[pw_provider_index(p)];
	/* A provider file that names another row, or leaves a member out, is a
	 * bug of that file: found by the first webhook of any test. */
	PW_ASSERT(ops != NULL && ops->provider == p);
	PW_ASSERT(ops->secret_decode != NULL && ops->verify != NULL && ops->parse != NULL);
	return ops;
}

/* ---------------------------------------------------------------------------
 * Text
 */

pw_status
srv_wh_fail(const srv_wh_req *r, pw_status st, const char *fmt, ...)
{
	va_list ap;

	PW_ASSERT(st != PW_OK);
	if (r->why != NULL && r->why_size > 0) {
		va_start(ap, fmt);
		(void) vsnprintf(r->why, r->why_size, fmt, ap);
		va_end(ap);
	}
	return st;
}

bool
srv_wh_word_ok(const char *s, size_t max)
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

/* ---------------------------------------------------------------------------
 * Headers (srv_wh_types.h)
 */

int
srv_webhook_header_find(const srv_header *h, size_t nh, const char *name, const char **value)
{
	int found = 0;

	PW_ASSERT(name != NULL && value != NULL);
	PW_ASSERT(h != NULL || nh == 0);
	*value = NULL;
	for (size_t i = 0; i < nh; i++) {
		/* HTTP header names are case-insensitive; the bridge sends them lower
		 * case, but a name spelled otherwise must not slip past the
		 * repeated-header check. */
		if (h[i].name == NULL || strcasecmp(h[i].name, name) != 0) {
			continue;
		}
		PW_ASSERT(h[i].value != NULL);
		if (found) {
			*value = NULL;
			return -1; /* repeated: refuse rather than pick one */
		}
		found = 1;
		*value = h[i].value;
	}
	return found;
}

bool
srv_webhook_min_confirmations(const srv_webhook_config *cfg, const char *network,
    int64_t *min_out, bool *operator_set)
{
	PW_ASSERT(cfg != NULL && network != NULL && min_out != NULL);
	PW_ASSERT(cfg->network_count <= PW_WEB3_NETWORKS_MAX);
	for (size_t i = 0; i < cfg->network_count; i++) {
		if (strcmp(cfg->networks[i].name, network) == 0) {
			*min_out = cfg->networks[i].min_confirmations;
			if (operator_set != NULL) {
				*operator_set = cfg->networks[i].operator_set;
			}
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------------------
 * Signatures
 */

bool
srv_wh_header_get(const srv_wh_req *r, const char *name, const char **value, size_t *len)
{
	int found = srv_webhook_header_find(r->h, r->nh, name, value);

	if (found == 0) {
		(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "missing %s header", name);
		return false;
	}
	if (found < 0) {
		(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "%s header appears more than once", name);
		return false;
	}
	*len = strnlen(*value, PW_HEADER_VALUE_BYTES_MAX + 1);
	if (*len > PW_HEADER_VALUE_BYTES_MAX) {
		(void) srv_wh_fail(r, PW_UNAUTHENTICATED, "%s header is longer than %u bytes", name,
		    PW_HEADER_VALUE_BYTES_MAX);
		return false;
	}
	return true;
}

bool
srv_wh_ts_parse(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > SRV_WH_TS_DIGITS_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

pw_status
srv_wh_ts_check(const srv_wh_req *r, const char *what, int64_t ts)
{
	int64_t tolerance_s = r->cfg->tolerance_s;

	PW_ASSERT(ts >= 0 && r->now_unix_s >= 0);
	PW_ASSERT(tolerance_s >= 1 && tolerance_s <= PW_WEBHOOK_TOLERANCE_S_MAX);
	if (r->now_unix_s - ts > tolerance_s) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED,
		    "%s is %lld s in the past (tolerance %lld s)", what,
		    (long long) (r->now_unix_s - ts), (long long) tolerance_s);
	}
	if (ts - r->now_unix_s > tolerance_s) {
		return srv_wh_fail(r, PW_UNAUTHENTICATED,
		    "%s is %lld s in the future (tolerance %lld s)", what,
		    (long long) (ts - r->now_unix_s), (long long) tolerance_s);
	}
	return PW_OK;
}

bool
srv_wh_hex_mac(const char *s, size_t len, uint8_t mac[SRV_WH_MAC_BYTES])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len != 2 * SRV_WH_MAC_BYTES) {
		return false;
	}
	/* Lower case only, as the providers send it and as their own libraries
	 * compare it (as strings): an upper-cased copy is not what the provider
	 * signed, so it is refused like any other malformed signature. */
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	if (sodium_hex2bin(mac, SRV_WH_MAC_BYTES, s, len, NULL, &bin_len, &end) != 0) {
		return false;
	}
	return bin_len == SRV_WH_MAC_BYTES && end == s + len;
}

bool
srv_wh_b64_mac(const char *s, size_t len, uint8_t mac[SRV_WH_MAC_BYTES])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (sodium_base642bin(mac, SRV_WH_MAC_BYTES, s, len, NULL, &bin_len, &end,
	        sodium_base64_VARIANT_ORIGINAL) != 0) {
		return false;
	}
	return bin_len == SRV_WH_MAC_BYTES && end == s + len;
}

/* HMAC-SHA256 of the concatenated parts with one secret. */
static void
srv_wh_hmac(const srv_webhook_secret *s, const srv_wh_part *parts, size_t nparts,
    uint8_t mac[SRV_WH_MAC_BYTES])
{
	crypto_auth_hmacsha256_state st;

	PW_ASSERT(s->key_len >= 1 && s->key_len <= sizeof(s->key));
	(void) crypto_auth_hmacsha256_init(&st, s->key, s->key_len);
	for (size_t i = 0; i < nparts; i++) {
		if (parts[i].len > 0) {
			(void) crypto_auth_hmacsha256_update(&st, parts[i].ptr, parts[i].len);
		}
	}
	(void) crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

bool
srv_wh_any_match(const srv_wh_req *r, const srv_wh_part *parts, size_t nparts,
    const srv_wh_sigs *sigs)
{
	const srv_webhook_keyring *kr = r->kr;
	uint8_t mac[SRV_WH_MAC_BYTES];
	bool match = false;

	PW_ASSERT(kr != NULL && kr->count >= 1 && kr->count <= PW_SECRETS_PER_PROVIDER_MAX);
	PW_ASSERT(sigs->count <= PW_WEBHOOK_SIGNATURES_MAX);
	for (size_t i = 0; i < kr->count; i++) {
		srv_wh_hmac(&kr->secrets[i], parts, nparts, mac);
		for (size_t j = 0; j < sigs->count; j++) {
			if (sodium_memcmp(mac, sigs->mac[j], SRV_WH_MAC_BYTES) == 0) {
				match = true;
			}
		}
	}
	sodium_memzero(mac, sizeof(mac));
	return match;
}

bool
srv_wh_secret_prefixed(const char *secret, size_t len, size_t min_len)
{
	PW_ASSERT(secret != NULL);
	return len >= min_len && len >= SRV_WH_SECRET_PREFIX_LEN &&
	    sodium_memcmp(secret, SRV_WH_SECRET_PREFIX, SRV_WH_SECRET_PREFIX_LEN) == 0;
}

bool
srv_wh_secret_raw(const char *secret, size_t len, srv_webhook_secret *out, char *why,
    size_t why_size)
{
	(void) why;
	(void) why_size;
	PW_ASSERT(len >= 1 && len <= sizeof(out->key));
	memcpy(out->key, secret, len);
	out->key_len = len;
	return true;
}
