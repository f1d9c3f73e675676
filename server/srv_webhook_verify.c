/*
 * srv_webhook_verify.c - webhook secrets (configuration) and signature
 * verification of the raw body. Contract in srv_webhook.h; the schemes and
 * the decisions are in docs/WEBHOOKS.md.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "srv_webhook.h"

#define WH_SECRET_PREFIX "whsec_"
#define WH_SECRET_PREFIX_LEN (sizeof(WH_SECRET_PREFIX) - 1)
#define WH_MAC_BYTES crypto_auth_hmacsha256_BYTES
/* Unix timestamps in signature headers: at most 12 digits (year 33658), so
 * every arithmetic on them stays far from int64 overflow. */
#define WH_TS_DIGITS_MAX 12
/* Standard Webhooks message id: it becomes pw_event.event_id. */
#define WH_MSG_ID_BYTES_MAX (PW_EV_ID_BYTES - 1)

_Static_assert(WH_MAC_BYTES == 32, "HMAC-SHA256 is 32 bytes");
_Static_assert(PW_WEBHOOK_STD_KEY_BYTES_MAX <= PW_WEBHOOK_SECRET_BYTES_MAX,
    "a decoded Standard Webhooks key fits a secret slot");
_Static_assert(SRV_WEBHOOK_NETWORK_BYTES <= sizeof(((pw_event *) 0)->network),
    "a network name fits pw_event.network");

/* Confirmation minimums before a Web3 payment counts as paid. Why these
 * numbers: docs/WEBHOOKS.md, "Web3 confirmations". */
static const srv_webhook_network wh_default_networks[] = {
	{ .name = "ethereum", .min_confirmations = 12 },
	{ .name = "base", .min_confirmations = 12 },
	{ .name = "optimism", .min_confirmations = 12 },
	{ .name = "arbitrum", .min_confirmations = 12 },
	{ .name = "polygon", .min_confirmations = 128 },
};

/* The environment variable that holds each provider's secrets. */
static const struct {
	pw_provider provider; /* whose secrets */
	const char *var;      /* environment variable name */
} wh_env_secrets[] = {
	{ PW_PROVIDER_STRIPE, "PAYWIRE_STRIPE_WEBHOOK_SECRET" },
	{ PW_PROVIDER_RAZORPAY, "PAYWIRE_RAZORPAY_WEBHOOK_SECRET" },
	{ PW_PROVIDER_ONECOM, "PAYWIRE_ONECOM_WEBHOOK_SECRET" },
	{ PW_PROVIDER_WEB3, "PAYWIRE_WEB3_WEBHOOK_SECRET" },
};

/* One piece of the signed content (pieces are MACed in order). */
typedef struct wh_part {
	const void *ptr; /* bytes, may be NULL when len == 0 */
	size_t len;      /* length in bytes */
} wh_part;

/* Signatures found in a header, decoded to raw MAC bytes. */
typedef struct wh_sigs {
	uint8_t mac[PW_WEBHOOK_SIGNATURES_MAX][WH_MAC_BYTES]; /* v1 MACs */
	size_t count;                                          /* v1 MACs found */
	size_t entries;                                        /* all signature entries seen */
} wh_sigs;

/* Everything a provider verifier needs, bundled to keep signatures short. */
typedef struct wh_verify_in {
	const srv_webhook_keyring *kr; /* the provider's secrets (count >= 1) */
	const srv_header *h;           /* request headers */
	size_t nh;                     /* number of headers */
	const uint8_t *body;           /* raw body */
	size_t body_len;               /* raw body length */
	int64_t now_unix_s;            /* current time */
	int64_t tolerance_s;           /* allowed skew, both ways */
	char *why;                     /* reason out, may be NULL */
	size_t why_size;               /* size of why */
} wh_verify_in;

static void wh_why(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
wh_why(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0) {
		return;
	}
	va_start(ap, fmt);
	(void) vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

static bool
wh_provider_valid(pw_provider p)
{
	return (int) p >= (int) PW_PROVIDER_STRIPE && (int) p <= (int) PW_PROVIDER_WEB3;
}

static bool
wh_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---------------------------------------------------------------------------
 * Providers and headers
 */

bool
srv_webhook_provider_parse(const char *name, pw_provider *out)
{
	static const pw_provider all[] = { PW_PROVIDER_STRIPE, PW_PROVIDER_RAZORPAY,
		PW_PROVIDER_ONECOM, PW_PROVIDER_WEB3 };

	PW_ASSERT(out != NULL);
	if (name == NULL) {
		return false;
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, srv_webhook_provider_name(all[i])) == 0) {
			*out = all[i];
			return true;
		}
	}
	return false;
}

const char *
srv_webhook_provider_name(pw_provider p)
{
	switch (p) {
	case PW_PROVIDER_NONE:
		return "none";
	case PW_PROVIDER_STRIPE:
		return "stripe";
	case PW_PROVIDER_RAZORPAY:
		return "razorpay";
	case PW_PROVIDER_ONECOM:
		return "onecom";
	case PW_PROVIDER_WEB3:
		return "web3";
	}
	return "unknown";
}

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

/* ---------------------------------------------------------------------------
 * Configuration
 */

void
srv_webhook_config_init(srv_webhook_config *cfg)
{
	size_t n = sizeof(wh_default_networks) / sizeof(wh_default_networks[0]);

	PW_ASSERT(cfg != NULL);
	_Static_assert(sizeof(wh_default_networks) / sizeof(wh_default_networks[0]) <=
	        PW_WEB3_NETWORKS_MAX,
	    "the defaults fit the table");
	memset(cfg, 0, sizeof(*cfg));
	cfg->tolerance_s = PW_WEBHOOK_TOLERANCE_S;
	memcpy(cfg->networks, wh_default_networks, sizeof(wh_default_networks));
	cfg->network_count = n;
}

void
srv_webhook_config_fini(srv_webhook_config *cfg)
{
	PW_ASSERT(cfg != NULL);
	sodium_memzero(cfg, sizeof(*cfg));
}

bool
srv_webhook_config_has_secret(const srv_webhook_config *cfg, pw_provider p)
{
	PW_ASSERT(cfg != NULL);
	return wh_provider_valid(p) && cfg->keyrings[p].count > 0;
}

/* Checks the bytes of a secret: printable ASCII, no whitespace, no control
 * byte. The reason never quotes the secret, only an offset. */
static bool
wh_secret_bytes_ok(const char *s, size_t len, char *why, size_t why_size)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];
		if (c > 0x20 && c < 0x7f) {
			continue;
		}
		if (i + 1 == len && (c == '\n' || c == '\r' || c == ' ' || c == '\t')) {
			wh_why(why, why_size,
			    "ends with whitespace (a trailing newline?); secrets are never trimmed");
		} else {
			wh_why(why, why_size,
			    "byte %zu is whitespace, a control byte or not ASCII", i + 1);
		}
		return false;
	}
	return true;
}

/* Standard Webhooks: whsec_<base64> -> raw key bytes (padded or unpadded). */
static bool
wh_secret_decode_std(const char *b64, size_t b64_len, srv_webhook_secret *out, char *why,
    size_t why_size)
{
	static const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
		sodium_base64_VARIANT_ORIGINAL_NO_PADDING };

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
	wh_why(why, why_size,
	    "the part after whsec_ is not base64 of 1..%d bytes (Standard Webhooks secret)",
	    PW_WEBHOOK_STD_KEY_BYTES_MAX);
	return false;
}

/* Validates one secret for provider p and turns it into HMAC key bytes. */
static bool
wh_secret_decode(pw_provider p, const char *secret, srv_webhook_secret *out, char *why,
    size_t why_size)
{
	size_t len = strnlen(secret, PW_WEBHOOK_SECRET_BYTES_MAX + 1);
	bool has_prefix = strncmp(secret, WH_SECRET_PREFIX, WH_SECRET_PREFIX_LEN) == 0;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		wh_why(why, why_size, "is empty");
		return false;
	}
	if (len > PW_WEBHOOK_SECRET_BYTES_MAX) {
		wh_why(why, why_size, "is longer than %d bytes", PW_WEBHOOK_SECRET_BYTES_MAX);
		return false;
	}
	if (!wh_secret_bytes_ok(secret, len, why, why_size)) {
		return false;
	}
	switch (p) {
	case PW_PROVIDER_STRIPE:
		if (!has_prefix || len == WH_SECRET_PREFIX_LEN) {
			wh_why(why, why_size, "must start with whsec_ (Stripe signing secret)");
			return false;
		}
		break;
	case PW_PROVIDER_RAZORPAY:
		break;
	case PW_PROVIDER_ONECOM:
	case PW_PROVIDER_WEB3:
		if (!has_prefix) {
			wh_why(why, why_size, "must be whsec_<base64> (Standard Webhooks secret)");
			return false;
		}
		return wh_secret_decode_std(secret + WH_SECRET_PREFIX_LEN, len - WH_SECRET_PREFIX_LEN,
		    out, why, why_size);
	case PW_PROVIDER_NONE:
		PW_ASSERT(!"provider checked by the caller");
		return false;
	}
	/* Stripe and Razorpay: the key is the secret string's bytes as given. */
	memcpy(out->key, secret, len);
	out->key_len = len;
	return true;
}

/* add_secret with a label for the log line (env variable or function). */
static pw_status
wh_add_secret_labeled(srv_webhook_config *cfg, pw_provider p, const char *secret,
    const char *label, size_t position)
{
	char why[160] = "";
	srv_webhook_secret tmp;
	srv_webhook_keyring *kr;

	PW_ASSERT(cfg != NULL && label != NULL);
	if (!wh_provider_valid(p) || secret == NULL) {
		pw_log(PW_LOG_ERROR, "%s: no such provider or no secret given", label);
		return PW_INVALID_ARGUMENT;
	}
	kr = &cfg->keyrings[p];
	PW_ASSERT(kr->count <= PW_SECRETS_PER_PROVIDER_MAX);
	if (kr->count == PW_SECRETS_PER_PROVIDER_MAX) {
		pw_log(PW_LOG_ERROR, "%s: more than %d %s webhook secrets", label,
		    PW_SECRETS_PER_PROVIDER_MAX, srv_webhook_provider_name(p));
		return PW_INVALID_ARGUMENT;
	}
	if (!wh_secret_decode(p, secret, &tmp, why, sizeof(why))) {
		pw_log(PW_LOG_ERROR, "%s: %s webhook secret %zu refused: it %s", label,
		    srv_webhook_provider_name(p), position, why);
		sodium_memzero(&tmp, sizeof(tmp));
		return PW_INVALID_ARGUMENT;
	}
	kr->secrets[kr->count] = tmp;
	kr->count++;
	sodium_memzero(&tmp, sizeof(tmp));
	return PW_OK;
}

pw_status
srv_webhook_config_add_secret(srv_webhook_config *cfg, pw_provider p, const char *secret)
{
	return wh_add_secret_labeled(cfg, p, secret, "srv_webhook_config_add_secret", 1);
}

static bool
wh_is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Splits a secret list into [start, len) entries. False (and logs) on a
 * leading/trailing separator, an empty entry or too many entries. */
static bool
wh_list_split(const char *list, const char *label, size_t starts[], size_t lens[], size_t *n)
{
	size_t len = strlen(list);
	size_t i = 0;

	*n = 0;
	if (len == 0 || wh_is_sep(list[0]) || wh_is_sep(list[len - 1])) {
		pw_log(PW_LOG_ERROR, "%s: the secret list is empty or starts or ends with "
		    "whitespace or a comma (a trailing newline?); it is never trimmed", label);
		return false;
	}
	while (i < len) {
		size_t commas = 0;
		if (*n == PW_SECRETS_PER_PROVIDER_MAX) {
			pw_log(PW_LOG_ERROR, "%s: more than %d secrets", label,
			    PW_SECRETS_PER_PROVIDER_MAX);
			return false;
		}
		starts[*n] = i;
		while (i < len && !wh_is_sep(list[i])) {
			i++;
		}
		lens[*n] = i - starts[*n];
		(*n)++;
		for (; i < len && wh_is_sep(list[i]); i++) {
			commas += list[i] == ',';
		}
		if (commas > 1) {
			pw_log(PW_LOG_ERROR, "%s: empty entry after secret %zu", label, *n);
			return false;
		}
	}
	return true;
}

static pw_status
wh_add_list_labeled(srv_webhook_config *cfg, pw_provider p, const char *list, const char *label)
{
	size_t starts[PW_SECRETS_PER_PROVIDER_MAX];
	size_t lens[PW_SECRETS_PER_PROVIDER_MAX];
	size_t n = 0;
	char one[PW_WEBHOOK_SECRET_BYTES_MAX + 2];
	srv_webhook_keyring saved;
	pw_status rv = PW_OK;

	PW_ASSERT(cfg != NULL && label != NULL);
	if (!wh_provider_valid(p) || list == NULL) {
		pw_log(PW_LOG_ERROR, "%s: no such provider or no secret list given", label);
		return PW_INVALID_ARGUMENT;
	}
	if (!wh_list_split(list, label, starts, lens, &n)) {
		return PW_INVALID_ARGUMENT;
	}
	saved = cfg->keyrings[p];
	for (size_t i = 0; i < n && rv == PW_OK; i++) {
		/* An overlong entry is cut one byte past the limit, so the length
		 * check in wh_secret_decode still sees it as too long. */
		size_t cut = lens[i] < sizeof(one) - 1 ? lens[i] : sizeof(one) - 1;
		memcpy(one, list + starts[i], cut);
		one[cut] = '\0';
		rv = wh_add_secret_labeled(cfg, p, one, label, i + 1);
	}
	if (rv != PW_OK) {
		sodium_memzero(&cfg->keyrings[p], sizeof(cfg->keyrings[p]));
		cfg->keyrings[p] = saved; /* all or nothing */
	}
	sodium_memzero(&saved, sizeof(saved));
	sodium_memzero(one, sizeof(one));
	return rv;
}

pw_status
srv_webhook_config_add_secret_list(srv_webhook_config *cfg, pw_provider p, const char *list)
{
	return wh_add_list_labeled(cfg, p, list, "srv_webhook_config_add_secret_list");
}

pw_status
srv_webhook_config_set_tolerance(srv_webhook_config *cfg, int64_t tolerance_s)
{
	PW_ASSERT(cfg != NULL);
	if (tolerance_s < 1 || tolerance_s > PW_WEBHOOK_TOLERANCE_S_MAX) {
		pw_log(PW_LOG_ERROR, "webhook timestamp tolerance %lld s is outside 1..%d s",
		    (long long) tolerance_s, PW_WEBHOOK_TOLERANCE_S_MAX);
		return PW_INVALID_ARGUMENT;
	}
	cfg->tolerance_s = tolerance_s;
	return PW_OK;
}

bool
srv_webhook_min_confirmations(const srv_webhook_config *cfg, const char *network,
    int64_t *min_out)
{
	PW_ASSERT(cfg != NULL && network != NULL && min_out != NULL);
	PW_ASSERT(cfg->network_count <= PW_WEB3_NETWORKS_MAX);
	for (size_t i = 0; i < cfg->network_count; i++) {
		if (strcmp(cfg->networks[i].name, network) == 0) {
			*min_out = cfg->networks[i].min_confirmations;
			return true;
		}
	}
	return false;
}

/* Parses one "name:count" entry of a confirmation spec. */
static bool
wh_network_entry_parse(const char *s, size_t len, srv_webhook_network *out)
{
	const char *colon = memchr(s, ':', len);
	size_t name_len;
	size_t digits;
	int64_t count = 0;

	memset(out, 0, sizeof(*out));
	if (colon == NULL) {
		return false;
	}
	name_len = (size_t) (colon - s);
	digits = len - name_len - 1;
	if (name_len == 0 || name_len >= SRV_WEBHOOK_NETWORK_BYTES || digits == 0 || digits > 7) {
		return false;
	}
	for (size_t i = 0; i < name_len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z') {
			c = (char) (c - 'A' + 'a');
		}
		if (!((c >= 'a' && c <= 'z') || wh_is_digit(c) || c == '_' || c == '-')) {
			return false;
		}
		out->name[i] = c;
	}
	for (size_t i = 0; i < digits; i++) {
		if (!wh_is_digit(colon[1 + i])) {
			return false;
		}
		count = count * 10 + (colon[1 + i] - '0');
	}
	if (count < 1 || count > PW_WEB3_CONFIRMATIONS_MAX) {
		return false;
	}
	out->min_confirmations = count;
	return true;
}

/* Inserts or replaces a network in a table. False when the table is full. */
static bool
wh_network_upsert(srv_webhook_network *tab, size_t *n, const srv_webhook_network *nw)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(tab[i].name, nw->name) == 0) {
			tab[i].min_confirmations = nw->min_confirmations;
			return true;
		}
	}
	if (*n == PW_WEB3_NETWORKS_MAX) {
		return false;
	}
	tab[*n] = *nw;
	(*n)++;
	return true;
}

pw_status
srv_webhook_config_set_min_confirmations(srv_webhook_config *cfg, const char *spec)
{
	srv_webhook_network tab[PW_WEB3_NETWORKS_MAX];
	size_t n;
	size_t len;
	size_t pos = 0;
	size_t entry = 0;

	PW_ASSERT(cfg != NULL);
	PW_ASSERT(cfg->network_count <= PW_WEB3_NETWORKS_MAX);
	len = spec == NULL ? 0 : strnlen(spec, PW_HEADER_VALUE_BYTES_MAX + 1);
	if (len == 0 || len > PW_HEADER_VALUE_BYTES_MAX) {
		pw_log(PW_LOG_ERROR, "confirmation minimums: empty or longer than %u bytes",
		    PW_HEADER_VALUE_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	memcpy(tab, cfg->networks, sizeof(tab));
	n = cfg->network_count;
	while (pos <= len) {
		const char *comma = memchr(spec + pos, ',', len - pos);
		size_t end = comma == NULL ? len : (size_t) (comma - spec);
		srv_webhook_network nw;
		entry++;
		if (!wh_network_entry_parse(spec + pos, end - pos, &nw)) {
			pw_log(PW_LOG_ERROR, "confirmation minimums: entry %zu is not network:count "
			    "(network 1..%d bytes of [a-z0-9_-], count 1..%d)", entry,
			    SRV_WEBHOOK_NETWORK_BYTES - 1, PW_WEB3_CONFIRMATIONS_MAX);
			return PW_INVALID_ARGUMENT;
		}
		if (!wh_network_upsert(tab, &n, &nw)) {
			pw_log(PW_LOG_ERROR, "confirmation minimums: more than %d networks",
			    PW_WEB3_NETWORKS_MAX);
			return PW_INVALID_ARGUMENT;
		}
		pos = end + 1;
	}
	memcpy(cfg->networks, tab, sizeof(tab));
	cfg->network_count = n;
	return PW_OK;
}

pw_status
srv_webhook_config_from_env(srv_webhook_config *cfg)
{
	const char *v;
	pw_status rv;

	PW_ASSERT(cfg != NULL);
	for (size_t i = 0; i < sizeof(wh_env_secrets) / sizeof(wh_env_secrets[0]); i++) {
		v = getenv(wh_env_secrets[i].var);
		if (v == NULL || v[0] == '\0') {
			continue; /* that provider's webhooks answer UNAVAILABLE */
		}
		rv = wh_add_list_labeled(cfg, wh_env_secrets[i].provider, v, wh_env_secrets[i].var);
		if (rv != PW_OK) {
			return rv;
		}
	}
	v = getenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS");
	if (v != NULL && v[0] != '\0') {
		rv = srv_webhook_config_set_min_confirmations(cfg, v);
		if (rv != PW_OK) {
			pw_log(PW_LOG_ERROR, "PAYWIRE_WEB3_MIN_CONFIRMATIONS refused (see above)");
			return rv;
		}
	}
	return PW_OK;
}

/* ---------------------------------------------------------------------------
 * Verification
 */

/* HMAC-SHA256 of the concatenated parts with one secret. */
static void
wh_hmac(const srv_webhook_secret *s, const wh_part *parts, size_t nparts,
    uint8_t mac[WH_MAC_BYTES])
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

/* True when some configured secret produces one of the candidate MACs.
 * Every secret and every candidate is compared, in constant time each. */
static bool
wh_any_match(const srv_webhook_keyring *kr, const wh_part *parts, size_t nparts,
    const wh_sigs *sigs)
{
	uint8_t mac[WH_MAC_BYTES];
	bool match = false;

	PW_ASSERT(kr->count >= 1 && kr->count <= PW_SECRETS_PER_PROVIDER_MAX);
	PW_ASSERT(sigs->count <= PW_WEBHOOK_SIGNATURES_MAX);
	for (size_t i = 0; i < kr->count; i++) {
		wh_hmac(&kr->secrets[i], parts, nparts, mac);
		for (size_t j = 0; j < sigs->count; j++) {
			if (sodium_memcmp(mac, sigs->mac[j], WH_MAC_BYTES) == 0) {
				match = true;
			}
		}
	}
	sodium_memzero(mac, sizeof(mac));
	return match;
}

/* The single value of a required header, bounded. */
static bool
wh_header_get(const wh_verify_in *in, const char *name, const char **value, size_t *len)
{
	int found = srv_webhook_header_find(in->h, in->nh, name, value);

	if (found == 0) {
		wh_why(in->why, in->why_size, "missing %s header", name);
		return false;
	}
	if (found < 0) {
		wh_why(in->why, in->why_size, "%s header appears more than once", name);
		return false;
	}
	*len = strnlen(*value, PW_HEADER_VALUE_BYTES_MAX + 1);
	if (*len > PW_HEADER_VALUE_BYTES_MAX) {
		wh_why(in->why, in->why_size, "%s header is longer than %u bytes", name,
		    PW_HEADER_VALUE_BYTES_MAX);
		return false;
	}
	return true;
}

/* Decimal unix timestamp of 1..WH_TS_DIGITS_MAX digits. */
static bool
wh_ts_parse(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > WH_TS_DIGITS_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!wh_is_digit(s[i])) {
			return false;
		}
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* PW_OK when ts is within the tolerance of now, both ways. */
static pw_status
wh_ts_check(const wh_verify_in *in, const char *what, int64_t ts)
{
	PW_ASSERT(ts >= 0 && in->now_unix_s >= 0);
	if (in->now_unix_s - ts > in->tolerance_s) {
		wh_why(in->why, in->why_size, "%s is %lld s in the past (tolerance %lld s)", what,
		    (long long) (in->now_unix_s - ts), (long long) in->tolerance_s);
		return PW_UNAUTHENTICATED;
	}
	if (ts - in->now_unix_s > in->tolerance_s) {
		wh_why(in->why, in->why_size, "%s is %lld s in the future (tolerance %lld s)", what,
		    (long long) (ts - in->now_unix_s), (long long) in->tolerance_s);
		return PW_UNAUTHENTICATED;
	}
	return PW_OK;
}

/* Decodes exactly 32 bytes of hex (either case) into mac. */
static bool
wh_hex_mac(const char *s, size_t len, uint8_t mac[WH_MAC_BYTES])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (len != 2 * WH_MAC_BYTES) {
		return false;
	}
	if (sodium_hex2bin(mac, WH_MAC_BYTES, s, len, NULL, &bin_len, &end) != 0) {
		return false;
	}
	return bin_len == WH_MAC_BYTES && end == s + len;
}

/* Decodes exactly 32 bytes of padded standard base64 into mac. */
static bool
wh_b64_mac(const char *s, size_t len, uint8_t mac[WH_MAC_BYTES])
{
	size_t bin_len = 0;
	const char *end = NULL;

	if (sodium_base642bin(mac, WH_MAC_BYTES, s, len, NULL, &bin_len, &end,
	        sodium_base64_VARIANT_ORIGINAL) != 0) {
		return false;
	}
	return bin_len == WH_MAC_BYTES && end == s + len;
}

/* One "key=value" item of a Stripe-Signature header, already split. */
static bool
wh_stripe_item(const wh_verify_in *in, const char *item, size_t len, const char **t,
    size_t *t_len, wh_sigs *sigs)
{
	const char *eq = memchr(item, '=', len);
	size_t klen = eq == NULL ? 0 : (size_t) (eq - item);
	const char *val = eq == NULL ? NULL : eq + 1;
	size_t vlen = eq == NULL ? 0 : len - klen - 1;

	if (eq == NULL || klen == 0) {
		wh_why(in->why, in->why_size, "malformed stripe-signature header: an item is "
		                              "not key=value");
		return false;
	}
	if (klen == 1 && item[0] == 't') {
		if (*t != NULL) {
			wh_why(in->why, in->why_size, "malformed stripe-signature header: t= twice");
			return false;
		}
		*t = val;
		*t_len = vlen;
		return true;
	}
	if (++sigs->entries > PW_WEBHOOK_SIGNATURES_MAX) {
		wh_why(in->why, in->why_size, "stripe-signature header lists more than %d "
		    "signatures", PW_WEBHOOK_SIGNATURES_MAX);
		return false;
	}
	if (klen == 2 && item[0] == 'v' && item[1] == '1') {
		if (!wh_hex_mac(val, vlen, sigs->mac[sigs->count])) {
			wh_why(in->why, in->why_size, "malformed stripe-signature header: a v1 "
			                              "signature is not 64 hex digits");
			return false;
		}
		sigs->count++;
	}
	return true; /* v0 and unknown schemes are ignored, as Stripe documents */
}

static pw_status
wh_verify_stripe(const wh_verify_in *in)
{
	const char *hv;
	size_t hlen;
	const char *t = NULL;
	size_t t_len = 0;
	int64_t ts = 0;
	wh_sigs sigs = { .count = 0 };
	size_t pos = 0;

	if (!wh_header_get(in, "stripe-signature", &hv, &hlen)) {
		return PW_UNAUTHENTICATED;
	}
	while (pos <= hlen) {
		const char *comma = memchr(hv + pos, ',', hlen - pos);
		size_t end = comma == NULL ? hlen : (size_t) (comma - hv);
		if (!wh_stripe_item(in, hv + pos, end - pos, &t, &t_len, &sigs)) {
			return PW_UNAUTHENTICATED;
		}
		pos = end + 1;
	}
	if (t == NULL || !wh_ts_parse(t, t_len, &ts)) {
		wh_why(in->why, in->why_size, "malformed stripe-signature header: no t=<unix "
		                              "timestamp>");
		return PW_UNAUTHENTICATED;
	}
	if (sigs.count == 0) {
		wh_why(in->why, in->why_size, "stripe-signature header has no v1 signature");
		return PW_UNAUTHENTICATED;
	}
	{
		const wh_part parts[] = { { t, t_len }, { ".", 1 }, { in->body, in->body_len } };
		if (!wh_any_match(in->kr, parts, 3, &sigs)) {
			wh_why(in->why, in->why_size, "no stripe-signature v1 signature matches the "
			    "body with any of the %zu configured secrets", in->kr->count);
			return PW_UNAUTHENTICATED;
		}
	}
	return wh_ts_check(in, "stripe-signature timestamp", ts);
}

static pw_status
wh_verify_razorpay(const wh_verify_in *in)
{
	const char *hv;
	size_t hlen;
	wh_sigs sigs = { .count = 0 };
	const wh_part parts[] = { { in->body, in->body_len } };

	if (!wh_header_get(in, "x-razorpay-signature", &hv, &hlen)) {
		return PW_UNAUTHENTICATED;
	}
	if (!wh_hex_mac(hv, hlen, sigs.mac[0])) {
		wh_why(in->why, in->why_size, "malformed x-razorpay-signature header: not 64 hex "
		                              "digits");
		return PW_UNAUTHENTICATED;
	}
	sigs.count = 1;
	if (!wh_any_match(in->kr, parts, 1, &sigs)) {
		wh_why(in->why, in->why_size, "x-razorpay-signature does not match the body with "
		    "any of the %zu configured secrets", in->kr->count);
		return PW_UNAUTHENTICATED;
	}
	return PW_OK; /* Razorpay signs no timestamp: dedup guards replays */
}

/* Splits "v1,<b64> v1,<b64> v2,..." into sigs (v1 only, others ignored). */
static bool
wh_std_sigs(const wh_verify_in *in, const char *hv, size_t hlen, wh_sigs *sigs)
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
			wh_why(in->why, in->why_size, "malformed webhook-signature header: an entry "
			                              "is not <version>,<signature>");
			return false;
		}
		if (++sigs->entries > PW_WEBHOOK_SIGNATURES_MAX) {
			wh_why(in->why, in->why_size, "webhook-signature header lists more than %d "
			    "signatures", PW_WEBHOOK_SIGNATURES_MAX);
			return false;
		}
		if (comma - entry != 2 || entry[0] != 'v' || entry[1] != '1') {
			continue; /* other versions are ignored */
		}
		if (!wh_b64_mac(comma + 1, elen - 3, sigs->mac[sigs->count])) {
			wh_why(in->why, in->why_size, "malformed webhook-signature header: a v1 "
			                              "signature is not base64 of 32 bytes");
			return false;
		}
		sigs->count++;
	}
	return true;
}

/* webhook-id: 1..WH_MSG_ID_BYTES_MAX printable ASCII bytes, no space. */
static bool
wh_msg_id_ok(const char *id, size_t len)
{
	if (len == 0 || len > WH_MSG_ID_BYTES_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) id[i];
		if (c <= 0x20 || c >= 0x7f) {
			return false;
		}
	}
	return true;
}

static pw_status
wh_verify_standard(const wh_verify_in *in)
{
	const char *id, *tsv, *hv;
	size_t id_len, ts_len, hlen;
	int64_t ts = 0;
	wh_sigs sigs = { .count = 0 };

	if (!wh_header_get(in, "webhook-id", &id, &id_len) ||
	    !wh_header_get(in, "webhook-timestamp", &tsv, &ts_len) ||
	    !wh_header_get(in, "webhook-signature", &hv, &hlen)) {
		return PW_UNAUTHENTICATED;
	}
	if (!wh_msg_id_ok(id, id_len)) {
		wh_why(in->why, in->why_size, "malformed webhook-id header: 1..%d printable "
		    "ASCII bytes expected", WH_MSG_ID_BYTES_MAX);
		return PW_UNAUTHENTICATED;
	}
	if (!wh_ts_parse(tsv, ts_len, &ts)) {
		wh_why(in->why, in->why_size, "malformed webhook-timestamp header: not a unix "
		                              "timestamp");
		return PW_UNAUTHENTICATED;
	}
	if (!wh_std_sigs(in, hv, hlen, &sigs)) {
		return PW_UNAUTHENTICATED;
	}
	if (sigs.count == 0) {
		wh_why(in->why, in->why_size, "webhook-signature header has no v1 signature");
		return PW_UNAUTHENTICATED;
	}
	{
		const wh_part parts[] = { { id, id_len }, { ".", 1 }, { tsv, ts_len }, { ".", 1 },
			{ in->body, in->body_len } };
		if (!wh_any_match(in->kr, parts, 5, &sigs)) {
			wh_why(in->why, in->why_size, "no webhook-signature v1 signature matches the "
			    "body with any of the %zu configured secrets", in->kr->count);
			return PW_UNAUTHENTICATED;
		}
	}
	return wh_ts_check(in, "webhook-timestamp", ts);
}

pw_status
srv_webhook_verify(const srv_webhook_config *cfg, pw_provider p, const srv_header *h, size_t nh,
    const uint8_t *body, size_t body_len, int64_t now_unix_s, char *why, size_t why_size)
{
	wh_verify_in in = { .h = h, .nh = nh, .body = body, .body_len = body_len,
		.now_unix_s = now_unix_s, .why = why, .why_size = why_size };

	PW_ASSERT(cfg != NULL);
	PW_ASSERT(h != NULL || nh == 0);
	PW_ASSERT(body != NULL || body_len == 0);
	PW_ASSERT(now_unix_s >= 0);
	wh_why(why, why_size, "%s", "");
	if (!wh_provider_valid(p)) {
		wh_why(why, why_size, "unknown webhook provider %d", (int) p);
		return PW_INVALID_ARGUMENT;
	}
	if (body_len > PW_WEBHOOK_BODY_BYTES_MAX || nh > PW_WEBHOOK_HEADERS_MAX) {
		wh_why(why, why_size, "webhook over the limits (%u body bytes, %d headers)",
		    PW_WEBHOOK_BODY_BYTES_MAX, PW_WEBHOOK_HEADERS_MAX);
		return PW_INVALID_ARGUMENT;
	}
	in.kr = &cfg->keyrings[p];
	in.tolerance_s = cfg->tolerance_s;
	PW_ASSERT(in.tolerance_s >= 1 && in.tolerance_s <= PW_WEBHOOK_TOLERANCE_S_MAX);
	if (in.kr->count == 0) {
		wh_why(why, why_size, "no webhook secret configured for %s",
		    srv_webhook_provider_name(p));
		return PW_UNAVAILABLE;
	}
	switch (p) {
	case PW_PROVIDER_STRIPE:
		return wh_verify_stripe(&in);
	case PW_PROVIDER_RAZORPAY:
		return wh_verify_razorpay(&in);
	case PW_PROVIDER_ONECOM:
	case PW_PROVIDER_WEB3:
		return wh_verify_standard(&in);
	case PW_PROVIDER_NONE:
		break;
	}
	PW_ASSERT(!"provider checked above");
	return PW_INTERNAL;
}
