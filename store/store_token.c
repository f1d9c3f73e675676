/*
 * store_token.c - customer access links: HS256 JWTs minted when a session is
 * paid (built directly with libsodium's HMAC-SHA256, byte for byte what
 * libjwt writes: store_token_encode_direct), verified when the customer
 * redeems the link (docs/PAYMENTS.md "Access link").
 *
 * Verification is deliberately stricter than jwt_decode alone:
 * - the HMAC-SHA256 of "header.payload" is recomputed with libsodium and
 *   compared in constant time (sodium_memcmp) BEFORE libjwt sees the token,
 *   so no timing of libjwt's own comparison is observable on a forged token;
 * - the algorithm is pinned: after jwt_decode with the key, jwt_get_alg must
 *   say HS256 ("none", HS384, RS256... are refused even when well-formed);
 * - libjwt 1.10 checks no claim, so exp, iat, sub and session_id are checked
 *   here.
 * Every failure is one answer, PW_UNAUTHENTICATED: the reason goes to the
 * debug log, never to the caller (no oracle). Tokens are never logged.
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jwt.h>

/* "customer_" + session id. */
#define STORE_TOKEN_SUB_BYTES (sizeof("customer_") + PW_SESSION_ID_BYTES_MAX)
/* The claims' JSON: the keys, two times, a jti and three ids. */
#define STORE_TOKEN_CLAIMS_BYTES (160 + 3 * PW_SESSION_ID_BYTES_MAX)
/* "/access/" + session id + "?token=" + token. */
#define STORE_LINK_BYTES_MAX (PW_TOKEN_BYTES_MAX + PW_SESSION_ID_BYTES_MAX + 32)

_Static_assert(PW_TOKEN_SECRET_BYTES_MAX <= 4096, "a JWT key length fits an int");
_Static_assert(crypto_auth_hmacsha256_BYTES == 32, "HS256 signatures are 32 bytes");

/* Session ids are "cs_" + hex; anything else would need URL escaping and
 * cannot come from store_session_create. */
/* Claim equality in constant time for equal lengths. The claims were
 * already authenticated by the HMAC and are known to the caller, so this is
 * hygiene: every token-derived comparison goes through libsodium. */
static bool
store_token_claim_eq(const char *claim, const char *want)
{
	size_t n;

	if (claim == NULL) {
		return false;
	}
	n = strlen(want);
	return strlen(claim) == n && sodium_memcmp(claim, want, n) == 0;
}

static bool
store_token_id_ok(const char *id)
{
	size_t len = strnlen(id, PW_SESSION_ID_BYTES_MAX);

	if (len == 0 || len >= PW_SESSION_ID_BYTES_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!ok) {
			return false;
		}
	}
	return true;
}

/* The compact JWS header libjwt writes for HS256, {"alg":"HS256","typ":"JWT"},
 * base64url. */
static const char store_token_head_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* The token the way libjwt 1.10 writes it (a compact header, the claims with
 * sorted keys and no spaces, HS256), built directly: one snprintf, two
 * base64url encodings and one HMAC-SHA256 with libsodium, instead of
 * libjwt's jansson objects, key copies and OpenSSL HMAC (about 8% of the
 * server's CPU per paid webhook, bench/RESULTS.md). Every claim value is an
 * id of [A-Za-z0-9_-] (the caller checked), so no JSON escaping exists to get
 * wrong; store_token_encode_libjwt is the reference the tests compare with. */
static bool
store_token_encode_direct(const store_keys *keys, const char *merchant_id,
    const char *session_id, const char *jti, int64_t now_s, char *out, size_t out_size)
{
	char claims[STORE_TOKEN_CLAIMS_BYTES];
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	size_t head = sizeof(store_token_head_b64) - 1;
	size_t at;
	int n;

	n = snprintf(claims, sizeof(claims),
	    "{\"exp\":%lld,\"iat\":%lld,\"jti\":\"%s\",\"merchant_id\":\"%s\","
	    "\"session_id\":\"%s\",\"sub\":\"customer_%s\"}",
	    (long long) (now_s + PW_ACCESS_LINK_TTL_S), (long long) now_s, jti, merchant_id,
	    session_id, session_id);
	if (n < 0 || (size_t) n >= sizeof(claims) ||
	    head + 1 + sodium_base64_ENCODED_LEN((size_t) n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) +
	            sodium_base64_ENCODED_LEN(sizeof(mac), sodium_base64_VARIANT_URLSAFE_NO_PADDING) >
	        out_size) {
		return false;
	}
	memcpy(out, store_token_head_b64, head);
	out[head] = '.';
	sodium_bin2base64(out + head + 1, out_size - head - 1, (const uint8_t *) claims, (size_t) n,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	at = strlen(out);
	crypto_auth_hmacsha256_init(&st, keys->jwt_key, keys->jwt_key_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) out, at);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	out[at] = '.';
	sodium_bin2base64(out + at + 1, out_size - at - 1, mac, sizeof(mac),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return true;
}

/* The same token through libjwt: the reference for the direct encoder
 * (store_token_test_encode), not used to mint. */
static bool
store_token_encode_libjwt(const store_keys *keys, const char *merchant_id,
    const char *session_id, const char *jti, int64_t now_s, char *out, size_t out_size)
{
	char sub[STORE_TOKEN_SUB_BYTES];
	jwt_t *jwt = NULL;
	char *tok;
	int rc;

	snprintf(sub, sizeof(sub), "customer_%s", session_id);
	rc = jwt_new(&jwt);
	if (rc != 0) {
		return false;
	}
	rc = jwt_add_grant(jwt, "sub", sub);
	rc = rc != 0 ? rc : jwt_add_grant(jwt, "merchant_id", merchant_id);
	rc = rc != 0 ? rc : jwt_add_grant(jwt, "session_id", session_id);
	rc = rc != 0 ? rc : jwt_add_grant(jwt, "jti", jti);
	rc = rc != 0 ? rc : jwt_add_grant_int(jwt, "iat", (long) now_s);
	rc = rc != 0 ? rc : jwt_add_grant_int(jwt, "exp", (long) (now_s + PW_ACCESS_LINK_TTL_S));
	rc = rc != 0 ? rc
	             : jwt_set_alg(jwt, JWT_ALG_HS256, keys->jwt_key, (int) keys->jwt_key_len);
	tok = rc == 0 ? jwt_encode_str(jwt) : NULL;
	jwt_free(jwt); /* scrubs its copy of the key */
	if (tok == NULL || strlen(tok) >= out_size) {
		free(tok);
		return false;
	}
	memcpy(out, tok, strlen(tok) + 1);
	free(tok);
	return true;
}

bool
store_token_test_encode(const store_keys *keys, const char *merchant_id, const char *session_id,
    const char *jti, int64_t now_s, bool libjwt, char *out, size_t out_size)
{
	if (!store_token_id_ok(merchant_id) || !store_token_id_ok(session_id) ||
	    !store_token_id_ok(jti)) {
		return false;
	}
	return libjwt ? store_token_encode_libjwt(keys, merchant_id, session_id, jti, now_s, out,
	                    out_size)
	              : store_token_encode_direct(keys, merchant_id, session_id, jti, now_s, out,
	                    out_size);
}

pw_status
store_token_link_mint(const store_keys *keys, const char *merchant_id, const char *session_id,
    int64_t now_ms, char **link_out)
{
	char tok[PW_TOKEN_BYTES_MAX + 1];
	uint8_t rnd[16];
	char jti[32];
	char *link;
	size_t size;
	int n;

	PW_ASSERT(keys != NULL && merchant_id != NULL && session_id != NULL && link_out != NULL);
	PW_ASSERT(keys->jwt_key_len >= PW_TOKEN_SECRET_BYTES_MIN &&
	    keys->jwt_key_len <= PW_TOKEN_SECRET_BYTES_MAX);
	PW_ASSERT(now_ms > 0);
	*link_out = NULL;
	if (!store_token_id_ok(session_id) || !store_token_id_ok(merchant_id)) {
		pw_log(PW_LOG_ERROR, "store: access link: malformed session or merchant id on record");
		return PW_INTERNAL;
	}
	/* a fresh id per link: a re-issued link differs from the one it
	 * replaces even within the same second */
	pw_random(rnd, sizeof(rnd));
	pw_base64url(jti, sizeof(jti), rnd, sizeof(rnd));
	if (!store_token_encode_direct(keys, merchant_id, session_id, jti, now_ms / 1000, tok,
	        sizeof(tok))) {
		pw_log(PW_LOG_ERROR, "store: access link: the token does not fit");
		return PW_INTERNAL;
	}
	PW_ASSERT(strlen(tok) <= PW_TOKEN_BYTES_MAX); /* we verify what we mint */
	size = strlen("/access/") + strlen(session_id) + strlen("?token=") + strlen(tok) + 1;
	PW_ASSERT(size <= STORE_LINK_BYTES_MAX);
	link = pw_malloc(size);
	if (link == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	n = snprintf(link, size, "/access/%s?token=%s", session_id, tok);
	PW_ASSERT(n > 0 && (size_t) n + 1 == size);
	*link_out = link;
	return PW_OK;
}

/* Constant-time HMAC-SHA256 check of "header.payload" against the
 * signature part, with our key, before any JSON is parsed. */
static bool
store_token_mac_ok(const store_keys *keys, const char *token, size_t len, const char **why)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	uint8_t sig[crypto_auth_hmacsha256_BYTES];
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 != NULL ? memchr(dot1 + 1, '.', len - (size_t) (dot1 + 1 - token))
	                                : NULL;
	const char *end = NULL;
	size_t sig_len = 0;
	size_t signed_len;
	bool ok;

	if (dot1 == NULL || dot2 == NULL || memchr(dot2 + 1, '.', len - (size_t) (dot2 + 1 - token))) {
		*why = "not three dot-separated parts";
		return false;
	}
	signed_len = (size_t) (dot2 - token);
	if (sodium_base642bin(sig, sizeof(sig), dot2 + 1, len - signed_len - 1, NULL, &sig_len, &end,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    sig_len != sizeof(sig) || end != token + len) {
		*why = "signature is not 32 bytes of base64url";
		return false;
	}
	crypto_auth_hmacsha256_init(&st, keys->jwt_key, keys->jwt_key_len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) token, signed_len);
	crypto_auth_hmacsha256_final(&st, mac);
	ok = sodium_memcmp(mac, sig, sizeof(mac)) == 0;
	sodium_memzero(&st, sizeof(st));
	if (!ok) {
		*why = "bad signature";
	}
	return ok;
}

/* The claims of a decoded, signature-checked token. */
static bool
store_token_claims_ok(jwt_t *jwt, const char *session_id, int64_t now_ms, const char **why)
{
	char sub[STORE_TOKEN_SUB_BYTES];
	const char *v;
	long exp;
	long iat;

	errno = 0;
	exp = jwt_get_grant_int(jwt, "exp");
	if (errno != 0 || (int64_t) exp * 1000 <= now_ms) {
		*why = errno != 0 ? "no exp claim" : "expired";
		return false;
	}
	errno = 0;
	iat = jwt_get_grant_int(jwt, "iat");
	if (errno != 0 || (int64_t) iat > now_ms / 1000 + PW_TOKEN_SKEW_S) {
		*why = errno != 0 ? "no iat claim" : "issued in the future";
		return false;
	}
	snprintf(sub, sizeof(sub), "customer_%s", session_id);
	v = jwt_get_grant(jwt, "sub");
	if (!store_token_claim_eq(v, sub)) {
		*why = "sub is not this session's customer";
		return false;
	}
	v = jwt_get_grant(jwt, "session_id");
	if (!store_token_claim_eq(v, session_id)) {
		*why = "session_id claim is another session";
		return false;
	}
	return true;
}

pw_status
store_token_verify(const store_keys *keys, const char *token, const char *session_id,
    int64_t now_ms, char *merchant_out, size_t merchant_size)
{
	const char *why = NULL;
	const char *mer;
	jwt_t *jwt = NULL;
	size_t len;
	bool ok = false;

	PW_ASSERT(keys != NULL && token != NULL && session_id != NULL && merchant_out != NULL);
	PW_ASSERT(merchant_size > 0 && now_ms > 0);
	merchant_out[0] = '\0';
	len = strnlen(token, PW_TOKEN_BYTES_MAX + 1);
	if (len == 0 || len > PW_TOKEN_BYTES_MAX) {
		why = "empty or oversized token";
	} else if (!store_token_id_ok(session_id)) {
		why = "malformed session id";
	} else if (!store_token_mac_ok(keys, token, len, &why)) {
		/* why set */
	} else if (jwt_decode(&jwt, token, keys->jwt_key, (int) keys->jwt_key_len) != 0) {
		why = "libjwt refused the token";
	} else if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
		why = "algorithm is not HS256";
	} else if (store_token_claims_ok(jwt, session_id, now_ms, &why)) {
		mer = jwt_get_grant(jwt, "merchant_id");
		ok = mer != NULL && mer[0] != '\0' && pw_strlcpy(merchant_out, mer, merchant_size);
		why = ok ? NULL : "no usable merchant_id claim";
	}
	if (jwt != NULL) {
		jwt_free(jwt);
	}
	if (!ok) {
		merchant_out[0] = '\0';
		pw_log(PW_LOG_DEBUG, "store: access token refused: %s", why);
		return PW_UNAUTHENTICATED;
	}
	return PW_OK;
}

/* ---- checkout secrets ---- */

_Static_assert(PW_CHECKOUT_SECRET_BYTES == 4 + 43, "cks_ + base64url of 32 bytes");

void
store_checkout_secret(store *s, const char *session_id, char out[PW_CHECKOUT_SECRET_BYTES + 1])
{
	uint8_t mac[STORE_HASH_BYTES];

	PW_ASSERT(s != NULL && session_id != NULL && out != NULL);
	store_keyed_hash(mac, s->keys.checkout_key, session_id, strlen(session_id));
	memcpy(out, "cks_", 4);
	pw_base64url(out + 4, PW_CHECKOUT_SECRET_BYTES + 1 - 4, mac, sizeof(mac));
	PW_ASSERT(strlen(out) == PW_CHECKOUT_SECRET_BYTES);
	sodium_memzero(mac, sizeof(mac));
}

bool
store_checkout_secret_ok(store *s, const char *session_id, const char *secret)
{
	char want[PW_CHECKOUT_SECRET_BYTES + 1];
	bool ok;

	PW_ASSERT(s != NULL && session_id != NULL && secret != NULL);
	if (strlen(secret) != PW_CHECKOUT_SECRET_BYTES) {
		return false; /* the length is public: every secret has the same */
	}
	store_checkout_secret(s, session_id, want);
	ok = sodium_memcmp(want, secret, PW_CHECKOUT_SECRET_BYTES) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}
