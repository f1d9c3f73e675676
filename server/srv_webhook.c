/*
 * srv_webhook.c - webhook configuration (secrets, tolerance, Web3
 * confirmation minimums, the environment) and the two entry points the
 * server calls, srv_webhook_verify and srv_webhook_parse, which check what is
 * common to every provider and hand the rest to the provider's ops
 * (srv_wh.h). Contract in srv_webhook.h; the schemes and the decisions are
 * in docs/WEBHOOKS.md.
 */
#include "srv_webhook.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "srv_wh.h"

/* Confirmation minimums before a Web3 payment counts as paid. Why these
 * numbers: docs/WEBHOOKS.md, "Web3 confirmations". */
static const srv_webhook_network wh_default_networks[] = {
	{ .name = "ethereum", .min_confirmations = 12 },
	{ .name = "base", .min_confirmations = 12 },
	{ .name = "optimism", .min_confirmations = 12 },
	{ .name = "arbitrum", .min_confirmations = 12 },
	{ .name = "polygon", .min_confirmations = 128 },
};

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
	return pw_provider_known(p) && cfg->keyrings[pw_provider_index(p)].count > 0;
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
			(void) snprintf(why, why_size,
			    "ends with whitespace (a trailing newline?); secrets are never trimmed");
		} else {
			(void) snprintf(why, why_size,
			    "byte %zu is whitespace, a control byte or not ASCII", i + 1);
		}
		return false;
	}
	return true;
}

/* Validates one secret for provider p and turns it into HMAC key bytes: the
 * checks every secret passes here, then the provider's own format. */
static bool
wh_secret_decode(const srv_wh_ops *ops, const char *secret, srv_webhook_secret *out, char *why,
    size_t why_size)
{
	size_t len = strnlen(secret, PW_WEBHOOK_SECRET_BYTES_MAX + 1);

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		(void) snprintf(why, why_size, "is empty");
		return false;
	}
	if (len > PW_WEBHOOK_SECRET_BYTES_MAX) {
		(void) snprintf(why, why_size, "is longer than %d bytes", PW_WEBHOOK_SECRET_BYTES_MAX);
		return false;
	}
	if (!wh_secret_bytes_ok(secret, len, why, why_size)) {
		return false;
	}
	if (!ops->secret_decode(secret, len, out, why, why_size)) {
		sodium_memzero(out, sizeof(*out));
		return false;
	}
	PW_ASSERT(out->key_len >= 1 && out->key_len <= sizeof(out->key));
	if (out->key_len < PW_SECRET_BYTES_MIN) {
		(void) snprintf(why, why_size, "gives a %zu-byte key, shorter than %d bytes",
		    out->key_len, PW_SECRET_BYTES_MIN);
		sodium_memzero(out, sizeof(*out));
		return false;
	}
	return true;
}

/* add_secret with a label for the log line (env variable or function). */
static pw_status
wh_add_secret_labeled(srv_webhook_config *cfg, pw_provider p, const char *secret,
    const char *label, size_t position)
{
	const srv_wh_ops *ops = srv_wh_ops_get(p);
	char why[160] = "";
	srv_webhook_secret tmp;
	srv_webhook_keyring *kr;

	PW_ASSERT(cfg != NULL && label != NULL);
	if (ops == NULL || secret == NULL) {
		pw_log(PW_LOG_ERROR, "%s: no such provider or no secret given", label);
		return PW_INVALID_ARGUMENT;
	}
	kr = &cfg->keyrings[pw_provider_index(p)];
	PW_ASSERT(kr->count <= PW_SECRETS_PER_PROVIDER_MAX);
	if (kr->count == PW_SECRETS_PER_PROVIDER_MAX) {
		pw_log(PW_LOG_ERROR, "%s: more than %d %s webhook secrets", label,
		    PW_SECRETS_PER_PROVIDER_MAX, pw_provider_name(p));
		return PW_INVALID_ARGUMENT;
	}
	if (!wh_secret_decode(ops, secret, &tmp, why, sizeof(why))) {
		pw_log(PW_LOG_ERROR, "%s: %s webhook secret %zu refused: it %s", label,
		    pw_provider_name(p), position, why);
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
	srv_webhook_keyring *kr;
	srv_webhook_keyring saved;
	pw_status rv = PW_OK;

	PW_ASSERT(cfg != NULL && label != NULL);
	if (!pw_provider_known(p) || list == NULL) {
		pw_log(PW_LOG_ERROR, "%s: no such provider or no secret list given", label);
		return PW_INVALID_ARGUMENT;
	}
	if (!wh_list_split(list, label, starts, lens, &n)) {
		return PW_INVALID_ARGUMENT;
	}
	kr = &cfg->keyrings[pw_provider_index(p)];
	saved = *kr;
	for (size_t i = 0; i < n && rv == PW_OK; i++) {
		/* An overlong entry is cut one byte past the limit, so the length
		 * check in wh_secret_decode still sees it as too long. */
		size_t cut = lens[i] < sizeof(one) - 1 ? lens[i] : sizeof(one) - 1;
		memcpy(one, list + starts[i], cut);
		one[cut] = '\0';
		rv = wh_add_secret_labeled(cfg, p, one, label, i + 1);
	}
	if (rv != PW_OK) {
		sodium_memzero(kr, sizeof(*kr));
		*kr = saved; /* all or nothing */
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
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			return false;
		}
		out->name[i] = c;
	}
	for (size_t i = 0; i < digits; i++) {
		if (colon[1 + i] < '0' || colon[1 + i] > '9') {
			return false;
		}
		count = count * 10 + (colon[1 + i] - '0');
	}
	if (count < 1 || count > PW_WEB3_CONFIRMATIONS_MAX) {
		return false;
	}
	out->min_confirmations = count;
	out->operator_set = true; /* parsed from the operator's spec */
	return true;
}

/* Inserts or replaces a network in a table. False when the table is full. */
static bool
wh_network_upsert(srv_webhook_network *tab, size_t *n, const srv_webhook_network *nw)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(tab[i].name, nw->name) == 0) {
			tab[i].min_confirmations = nw->min_confirmations;
			tab[i].operator_set = nw->operator_set;
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
	for (size_t ix = 0; ix < PW_PROVIDER_COUNT; ix++) {
		pw_provider p = pw_provider_at(ix);
		const char *var = pw_provider_secret_env(p);
		v = getenv(var);
		if (v == NULL) {
			continue; /* that provider's webhooks answer UNAVAILABLE */
		}
		if (v[0] == '\0') {
			/* Set but empty: a config line or a deployment template whose
			 * value went missing. Unset means "provider off"; empty is a
			 * mistake, so it stops the start rather than pass as "off". */
			pw_log(PW_LOG_ERROR, "%s is set but empty: give the secret, or unset it to answer "
			    "that provider's webhooks UNAVAILABLE", var);
			return PW_INVALID_ARGUMENT;
		}
		rv = wh_add_list_labeled(cfg, p, v, var);
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

void
srv_webhook_help(FILE *out)
{
	PW_ASSERT(out != NULL);
	for (size_t ix = 0; ix < PW_PROVIDER_COUNT; ix++) {
		pw_provider p = pw_provider_at(ix);
		(void) fprintf(out, "  %-31s %s webhook secret(s)\n", pw_provider_secret_env(p),
		    pw_provider_label(p));
	}
}

/* ---------------------------------------------------------------------------
 * Verification and parsing
 */

pw_status
srv_webhook_verify(const srv_webhook_config *cfg, pw_provider p, const srv_header *h, size_t nh,
    const uint8_t *body, size_t body_len, int64_t now_unix_s, char *why, size_t why_size)
{
	srv_wh_req r = { .cfg = cfg, .h = h, .nh = nh, .body = body, .body_len = body_len,
		.now_unix_s = now_unix_s, .why = why, .why_size = why_size };
	const srv_wh_ops *ops;

	PW_ASSERT(cfg != NULL);
	PW_ASSERT(h != NULL || nh == 0);
	PW_ASSERT(body != NULL || body_len == 0);
	PW_ASSERT(now_unix_s >= 0);
	PW_ASSERT(cfg->tolerance_s >= 1 && cfg->tolerance_s <= PW_WEBHOOK_TOLERANCE_S_MAX);
	if (why != NULL && why_size > 0) {
		why[0] = '\0';
	}
	ops = srv_wh_ops_get(p);
	if (ops == NULL) {
		return srv_wh_fail(&r, PW_INVALID_ARGUMENT, "unknown webhook provider %d", (int) p);
	}
	if (body_len > PW_WEBHOOK_BODY_BYTES_MAX || nh > PW_WEBHOOK_HEADERS_MAX) {
		return srv_wh_fail(&r, PW_INVALID_ARGUMENT, "webhook over the limits (%u body bytes, "
		    "%d headers)", PW_WEBHOOK_BODY_BYTES_MAX, PW_WEBHOOK_HEADERS_MAX);
	}
	r.kr = &cfg->keyrings[pw_provider_index(p)];
	if (r.kr->count == 0) {
		return srv_wh_fail(&r, PW_UNAVAILABLE, "no webhook secret configured for %s",
		    pw_provider_name(p));
	}
	return ops->verify(&r);
}

pw_status
srv_webhook_parse(const srv_webhook_config *cfg, pw_provider p, const srv_header *h, size_t nh,
    const uint8_t *body, size_t body_len, pw_event *out, char *why, size_t why_size)
{
	srv_wh_req r = { .cfg = cfg, .h = h, .nh = nh, .body = body, .body_len = body_len,
		.ev = out, .why = why, .why_size = why_size };
	const srv_wh_ops *ops;
	json_t *root = NULL;
	pw_status rv;

	PW_ASSERT(cfg != NULL && out != NULL);
	PW_ASSERT(h != NULL || nh == 0);
	PW_ASSERT(body != NULL || body_len == 0);
	memset(out, 0, sizeof(*out));
	if (why != NULL && why_size > 0) {
		why[0] = '\0';
	}
	if (body_len > PW_WEBHOOK_BODY_BYTES_MAX || nh > PW_WEBHOOK_HEADERS_MAX) {
		return srv_wh_fail(&r, PW_INVALID_ARGUMENT, "webhook over the limits (%u body bytes, "
		    "%d headers)", PW_WEBHOOK_BODY_BYTES_MAX, PW_WEBHOOK_HEADERS_MAX);
	}
	ops = srv_wh_ops_get(p);
	if (ops == NULL) {
		return srv_wh_fail(&r, PW_INVALID_ARGUMENT, "unknown webhook provider %d", (int) p);
	}
	out->provider = p;
	rv = srv_wh_json_decode(&r, &root);
	if (rv == PW_OK) {
		r.root = root;
		rv = ops->parse(&r);
	}
	json_decref(root);
	if (rv != PW_OK) {
		memset(out, 0, sizeof(*out));
	}
	return rv;
}

/* ---- test-mode payments: a Stripe signature of our own ---- */

pw_status
srv_webhook_sign_stripe(const srv_webhook_config *cfg, const uint8_t *body, size_t body_len,
    int64_t now_unix_s, char *header, size_t header_size)
{
	const srv_webhook_keyring *kr;
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	char ts[24];
	int n;

	PW_ASSERT(cfg != NULL && body != NULL && header != NULL && header_size > 0);
	header[0] = '\0';
	kr = &cfg->keyrings[pw_provider_index(PW_PROVIDER_STRIPE)];
	if (kr->count == 0) {
		return PW_UNAVAILABLE;
	}
	n = snprintf(ts, sizeof(ts), "%lld", (long long) now_unix_s);
	PW_ASSERT(n > 0 && (size_t) n < sizeof(ts));
	/* The first secret, as Stripe signs with the endpoint's current one. */
	crypto_auth_hmacsha256_init(&st, kr->secrets[0].key, kr->secrets[0].key_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ts, (size_t) n);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ".", 1);
	crypto_auth_hmacsha256_update(&st, body, body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	n = snprintf(header, header_size, "t=%s,v1=%s", ts, hex);
	sodium_memzero(mac, sizeof(mac));
	sodium_memzero(hex, sizeof(hex));
	return n > 0 && (size_t) n < header_size ? PW_OK : PW_INTERNAL;
}
