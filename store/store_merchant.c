/*
 * store_merchant.c - merchants and their API keys.
 *
 * A raw API key is "sk_test_" or "sk_live_" + base64url(32 random bytes). It
 * is shown once (raw_key_out) and never stored: the apikeys db is keyed by
 * BLAKE2b-256(apikey_pepper, raw key), so a copy of the data does not hold
 * a usable key, and authentication is one hash + one B-tree lookup (no
 * secret-dependent comparison to time). Only the first 12 characters
 * ("sk_test_AbCd", 24 random bits) are kept, for operators.
 *
 * Modes: a TEST merchant gets a sk_test_ key, a LIVE merchant a sk_live_
 * key. store_apikey_auth returns the key's mode; the server lets a live key
 * create test and live sessions and answers PERMISSION_DENIED when a test key
 * asks for a live session.
 */
#include "store_internal.h"

#include <string.h>

#define STORE_APIKEY_RANDOM_BYTES 32
#define STORE_APIKEY_PREFIX_CHARS 12
#define STORE_RAW_KEY_BYTES_MIN 96 /* raw_key_out contract in store.h */

_Static_assert(8 + sodium_base64_ENCODED_LEN(STORE_APIKEY_RANDOM_BYTES,
        sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= STORE_RAW_KEY_BYTES_MIN,
    "a raw key fits the caller's buffer");
_Static_assert(8 + sodium_base64_ENCODED_LEN(STORE_APIKEY_RANDOM_BYTES,
        sodium_base64_VARIANT_URLSAFE_NO_PADDING) <= PW_API_KEY_BYTES_MAX,
    "a raw key is within the wire limit");

static const char *
store_mode_key_prefix(Paywire__Store__V1__Mode mode)
{
	switch (mode) {
	case PAYWIRE__STORE__V1__MODE__MODE_TEST:
		return "sk_test_";
	case PAYWIRE__STORE__V1__MODE__MODE_LIVE:
		return "sk_live_";
	case PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED:
	case _PAYWIRE__STORE__V1__MODE_IS_INT_SIZE:
		break;
	}
	return NULL;
}

static const char *
store_mode_name(Paywire__Store__V1__Mode mode)
{
	return mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE ? "live" : "test";
}

static void
store_apikey_hash(const store *s, const char *raw_key, uint8_t out[STORE_HASH_BYTES])
{
	store_keyed_hash(out, s->keys.apikey_pepper, raw_key, strlen(raw_key));
}

/* Writes a fresh raw key for mode into out. */
static void
store_apikey_generate(Paywire__Store__V1__Mode mode, char *out, size_t out_size)
{
	uint8_t rnd[STORE_APIKEY_RANDOM_BYTES];
	char b64[sodium_base64_ENCODED_LEN(STORE_APIKEY_RANDOM_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	const char *prefix = store_mode_key_prefix(mode);
	int n;

	PW_ASSERT(prefix != NULL);
	pw_random(rnd, sizeof(rnd));
	pw_base64url(b64, sizeof(b64), rnd, sizeof(rnd));
	n = snprintf(out, out_size, "%s%s", prefix, b64);
	PW_ASSERT(n > 0 && (size_t) n < out_size);
	sodium_memzero(rnd, sizeof(rnd));
	sodium_memzero(b64, sizeof(b64));
}

static pw_status
store_merchant_args_check(const char *name, Paywire__Store__V1__Mode mode)
{
	size_t len = strlen(name);

	if (len == 0 || len > PW_NAME_BYTES_MAX || !pw_utf8_valid(name, len)) {
		pw_log(PW_LOG_DEBUG, "store: merchant name must be 1..%d bytes of UTF-8",
		    PW_NAME_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (store_mode_key_prefix(mode) == NULL) {
		pw_log(PW_LOG_DEBUG, "store: merchant mode must be test or live");
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* Stores the ApiKeyRecord for raw_key (NOOVERWRITE: a hash collision of
 * 256 random bits is impossible; if it happens, it is refused). */
static pw_status
store_apikey_insert(store_txn *t, const char *merchant_id, Paywire__Store__V1__Mode mode,
    const char *raw_key)
{
	Paywire__Store__V1__ApiKeyRecord rec = PAYWIRE__STORE__V1__API_KEY_RECORD__INIT;
	char prefix[STORE_APIKEY_PREFIX_CHARS + 1];
	uint8_t hash[STORE_HASH_BYTES];
	pw_status st;

	store_apikey_hash(t->s, raw_key, hash);
	pw_strlcpy(prefix, raw_key, sizeof(prefix)); /* truncation wanted */
	rec.merchant_id = (char *) merchant_id;
	rec.mode = mode;
	rec.created_at_unix_ms = t->now_ms;
	rec.key_prefix = prefix;
	st = store_rec_put(t, STORE_DB_APIKEYS, hash, sizeof(hash), &rec.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

pw_status
store_merchant_create(store_txn *t, const char *name, Paywire__Store__V1__Mode mode,
    Paywire__Store__V1__MerchantRecord **out, char *raw_key_out, size_t raw_key_size)
{
	Paywire__Store__V1__MerchantRecord rec = PAYWIRE__STORE__V1__MERCHANT_RECORD__INIT;
	char merchant_id[PW_ID_BYTES(4)];
	char detail[64];
	pw_status st;

	PW_ASSERT(t != NULL && name != NULL && out != NULL && raw_key_out != NULL);
	PW_ASSERT(raw_key_size >= STORE_RAW_KEY_BYTES_MIN);
	*out = NULL;
	raw_key_out[0] = '\0';
	st = store_merchant_args_check(name, mode);
	if (st != PW_OK) {
		return st;
	}
	pw_id_new(merchant_id, sizeof(merchant_id), "mer_", t->now_ms);
	rec.merchant_id = merchant_id;
	rec.name = (char *) name;
	rec.mode = mode;
	rec.created_at_unix_ms = t->now_ms;
	st = store_rec_put(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id), &rec.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	if (st == PW_ALREADY_EXISTS) {
		st = store_txn_note(t, PW_INTERNAL); /* 128 random bits collided */
	}
	if (st == PW_OK) {
		store_apikey_generate(mode, raw_key_out, raw_key_size);
		st = store_apikey_insert(t, merchant_id, mode, raw_key_out);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "mode=%s", store_mode_name(mode));
		st = store_audit_append(t, "merchant.created", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		st = store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
		    &paywire__store__v1__merchant_record__descriptor, (void **) out);
	}
	if (st != PW_OK) {
		/* Nothing of this call survives: the key must not either. */
		sodium_memzero(raw_key_out, raw_key_size);
	}
	return st;
}

static bool
store_raw_key_plausible(const char *raw_key)
{
	size_t len = strnlen(raw_key, PW_API_KEY_BYTES_MAX + 1);
	return len > 0 && len <= PW_API_KEY_BYTES_MAX;
}

pw_status
store_apikey_revoke(store_txn *t, const char *raw_key, char *merchant_id_out,
    size_t merchant_id_size)
{
	Paywire__Store__V1__ApiKeyRecord *rec = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	char detail[64];
	pw_status st;

	PW_ASSERT(t != NULL && raw_key != NULL && merchant_id_out != NULL);
	PW_ASSERT(merchant_id_size >= 64);
	merchant_id_out[0] = '\0';
	if (!store_raw_key_plausible(raw_key)) {
		return PW_NOT_FOUND;
	}
	store_apikey_hash(t->s, raw_key, hash);
	st = store_rec_get(t, STORE_DB_APIKEYS, hash, sizeof(hash),
	    &paywire__store__v1__api_key_record__descriptor, (void **) &rec);
	if (st != PW_OK) {
		return st;
	}
	if (!pw_strlcpy(merchant_id_out, rec->merchant_id, merchant_id_size)) {
		st = PW_INTERNAL;
	} else if (!rec->revoked) {
		rec->revoked = true;
		rec->revoked_at_unix_ms = t->now_ms;
		st = store_rec_put(t, STORE_DB_APIKEYS, hash, sizeof(hash), &rec->base, 0, NULL);
		if (st == PW_OK) {
			snprintf(detail, sizeof(detail), "key_prefix=%s", rec->key_prefix);
			st = store_audit_append(t, "apikey.revoked", rec->merchant_id, NULL, detail);
		}
	}
	paywire__store__v1__api_key_record__free_unpacked(rec, NULL);
	return st;
}

pw_status
store_apikey_auth(store *s, const char *raw_key, char *merchant_id_out, size_t merchant_id_size,
    Paywire__Store__V1__Mode *mode_out)
{
	Paywire__Store__V1__ApiKeyRecord *rec = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && raw_key != NULL && merchant_id_out != NULL && mode_out != NULL);
	PW_ASSERT(merchant_id_size >= 64);
	merchant_id_out[0] = '\0';
	*mode_out = PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED;
	if (!store_raw_key_plausible(raw_key)) {
		return PW_UNAUTHENTICATED;
	}
	store_apikey_hash(s, raw_key, hash);
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_rec_get(&t, STORE_DB_APIKEYS, hash, sizeof(hash),
		    &paywire__store__v1__api_key_record__descriptor, (void **) &rec);
	}
	store_read_end(&t);
	if (st == PW_NOT_FOUND) {
		return PW_UNAUTHENTICATED; /* same answer as revoked: no oracle */
	}
	if (st != PW_OK) {
		return st;
	}
	if (rec->revoked) {
		st = PW_UNAUTHENTICATED;
	} else if (!pw_strlcpy(merchant_id_out, rec->merchant_id, merchant_id_size)) {
		st = PW_INTERNAL;
	} else {
		*mode_out = rec->mode;
	}
	paywire__store__v1__api_key_record__free_unpacked(rec, NULL);
	if (st != PW_OK) {
		merchant_id_out[0] = '\0';
	}
	return st;
}
