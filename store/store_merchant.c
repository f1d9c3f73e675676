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

#define STORE_KEY_ID_BYTES PW_ID_BYTES(4) /* "key_" + 44 */

/* Stores the ApiKeyRecord for raw_key (NOOVERWRITE: a hash collision of
 * 256-bit random keys is impossible in practice; if it happens it is a bug
 * worth stopping for) and its merchant_keys index entry. *out (may be NULL):
 * a copy of the record. */
static pw_status
store_apikey_insert(store_txn *t, const char *merchant_id, Paywire__Store__V1__Mode mode,
    const char *raw_key, Paywire__Store__V1__ApiKeyRecord **out)
{
	Paywire__Store__V1__ApiKeyRecord rec = PAYWIRE__STORE__V1__API_KEY_RECORD__INIT;
	char prefix[STORE_APIKEY_PREFIX_CHARS + 1];
	char key_id[STORE_KEY_ID_BYTES];
	uint8_t ikey[STORE_KEY_BYTES_MAX];
	uint8_t hash[STORE_HASH_BYTES];
	size_t ilen = 0;
	size_t len = strlen(raw_key);
	pw_status st;

	PW_ASSERT(len > 4);
	store_apikey_hash(t->s, raw_key, hash);
	pw_strlcpy(prefix, raw_key, sizeof(prefix)); /* truncation wanted */
	pw_id_new(key_id, sizeof(key_id), "key_", t->now_ms);
	rec.merchant_id = (char *) merchant_id;
	rec.mode = mode;
	rec.created_at_unix_ms = t->now_ms;
	rec.key_prefix = prefix;
	rec.key_id = key_id;
	rec.last4 = (char *) raw_key + len - 4;
	st = store_rec_put(t, STORE_DB_APIKEYS, hash, sizeof(hash), &rec.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	if (st == PW_OK && !store_key_join(ikey, sizeof(ikey), merchant_id, key_id, &ilen)) {
		st = store_txn_note(t, PW_INTERNAL);
	}
	if (st == PW_OK) {
		st = store_raw_put(t, STORE_DB_MERCHANT_KEYS, ikey, ilen, hash, sizeof(hash),
		    KV_PUT_INSERT | KV_PUT_FRESH);
	}
	if (st == PW_OK && out != NULL) {
		st = store_msg_dup(&rec.base, (void **) out);
	}
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

bool
store_apikey_active(const Paywire__Store__V1__ApiKeyRecord *k, int64_t now_ms)
{
	PW_ASSERT(k != NULL);
	return !k->revoked && (k->expires_at_unix_ms == 0 || now_ms < k->expires_at_unix_ms);
}

/* Walks merchant_id's merchant_keys entries (key_id order: oldest first). */
typedef struct store_keys_walk {
	store_txn *t;
	const uint8_t *prefix;            /* merchant_id 0x00 */
	size_t prefix_len;
	uint8_t hashes[PW_LIST_LIMIT_MAX][STORE_HASH_BYTES]; /* the newest entries seen */
	size_t n;                          /* in hashes (a ring when full) */
	size_t head;                       /* oldest in the ring */
	size_t total;                      /* entries seen */
} store_keys_walk;

static pw_status
store_keys_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_keys_walk *w = arg;

	if (key.len <= w->prefix_len || memcmp(key.data, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	if (val.len != STORE_HASH_BYTES) {
		pw_log(PW_LOG_ERROR, "store: merchant_keys entry of %zu bytes (corrupt)", val.len);
		return PW_INTERNAL;
	}
	if (w->n < PW_LIST_LIMIT_MAX) {
		memcpy(w->hashes[(w->head + w->n) % PW_LIST_LIMIT_MAX], val.data, STORE_HASH_BYTES);
		w->n++;
	} else {
		memcpy(w->hashes[w->head], val.data, STORE_HASH_BYTES);
		w->head = (w->head + 1) % PW_LIST_LIMIT_MAX;
	}
	w->total++;
	return PW_OK;
}

/* The keys of merchant_id in t, newest first (at most PW_LIST_LIMIT_MAX). */
static pw_status
store_mkeys_load(store_txn *t, const char *merchant_id, Paywire__Store__V1__ApiKeyRecord ***out,
    size_t *n_out)
{
	uint8_t prefix[STORE_KEY_BYTES_MAX];
	Paywire__Store__V1__ApiKeyRecord **list;
	store_keys_walk *w;
	size_t plen = strlen(merchant_id);
	pw_status st;

	*out = NULL;
	*n_out = 0;
	if (plen == 0 || plen + 1 > sizeof(prefix)) {
		return PW_INVALID_ARGUMENT;
	}
	memcpy(prefix, merchant_id, plen);
	prefix[plen++] = 0x00;
	w = pw_malloc(sizeof(*w));
	list = pw_malloc(PW_LIST_LIMIT_MAX * sizeof(*list));
	if (w == NULL || list == NULL) {
		pw_free(w);
		pw_free(list);
		return PW_RESOURCE_EXHAUSTED;
	}
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->prefix = prefix;
	w->prefix_len = plen;
	st = store_scan(t, STORE_DB_MERCHANT_KEYS, (kv_val){ .data = prefix, .len = plen },
	    store_keys_visit, w);
	for (size_t i = 0; i < w->n && st == PW_OK; i++) {
		const uint8_t *h = w->hashes[(w->head + w->n - 1 - i) % PW_LIST_LIMIT_MAX];
		st = store_rec_get(t, STORE_DB_APIKEYS, h, STORE_HASH_BYTES,
		    &paywire__store__v1__api_key_record__descriptor, (void **) &list[*n_out]);
		if (st == PW_NOT_FOUND) {
			pw_log(PW_LOG_ERROR, "store: merchant_keys names a missing key (corrupt)");
			st = store_txn_note(t, PW_INTERNAL);
		}
		if (st == PW_OK) {
			/* a read (ListApiKeys) reports the newer of the stored time
			 * and the one noted in memory since the store opened */
			int64_t mem = t->read ? store_lu_get(t->s->lu, h) : 0;
			if (mem > list[*n_out]->last_used_at_unix_ms) {
				list[*n_out]->last_used_at_unix_ms = mem;
			}
			(*n_out)++;
		}
	}
	pw_free(w);
	if (st != PW_OK) {
		store_apikey_list_free(list, *n_out);
		*n_out = 0;
		return st;
	}
	*out = list;
	return PW_OK;
}

void
store_apikey_list_free(Paywire__Store__V1__ApiKeyRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__api_key_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

/* Active keys of merchant_id in t (the newest PW_LIST_LIMIT_MAX looked at). */
static pw_status
store_mkeys_active(store_txn *t, const char *merchant_id, size_t *active)
{
	Paywire__Store__V1__ApiKeyRecord **list = NULL;
	size_t n = 0;
	pw_status st = store_mkeys_load(t, merchant_id, &list, &n);

	*active = 0;
	for (size_t i = 0; i < n && st == PW_OK; i++) {
		*active += store_apikey_active(list[i], t->now_ms) ? 1u : 0u;
	}
	store_apikey_list_free(list, n);
	return st;
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
		st = store_apikey_insert(t, merchant_id, mode, raw_key_out, NULL);
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
    size_t merchant_id_size, char *reason, size_t reason_size)
{
	Paywire__Store__V1__ApiKeyRecord *rec = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	size_t active = 0;
	char detail[64];
	pw_status st;

	PW_ASSERT(t != NULL && raw_key != NULL && merchant_id_out != NULL);
	PW_ASSERT(merchant_id_size >= 64 && reason != NULL && reason_size > 0);
	merchant_id_out[0] = '\0';
	reason[0] = '\0';
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
		/* Keys made before the merchant_keys index are not in it: such a
		 * merchant counts as holding this key alone, the safe side. */
		st = store_mkeys_active(t, rec->merchant_id, &active);
		if (st == PW_OK && store_apikey_active(rec, t->now_ms) && rec->key_id[0] != '\0') {
			active = active > 0 ? active - 1 : 0; /* the others */
		} else if (st == PW_OK && rec->key_id[0] == '\0') {
			/* not indexed: the count is of the others already */
		}
		if (st == PW_OK && active == 0 && store_apikey_active(rec, t->now_ms)) {
			snprintf(reason, reason_size, "this is the last active API key of merchant %s: "
			    "revoking it would lock the merchant out; create another key first "
			    "(paywire key create), or roll this one (paywire key roll)", rec->merchant_id);
			st = PW_FAILED_PRECONDITION;
		}
	}
	if (st == PW_OK && !rec->revoked) {
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

static pw_status
store_merchant_get(store_txn *t, const char *merchant_id, Paywire__Store__V1__MerchantRecord **m)
{
	return store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
	    &paywire__store__v1__merchant_record__descriptor, (void **) m);
}

pw_status
store_merchant_name_in(store_txn *t, const char *merchant_id, char *out, size_t size)
{
	Paywire__Store__V1__MerchantRecord *m = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && out != NULL && size > 0);
	out[0] = '\0';
	st = store_merchant_get(t, merchant_id, &m);
	if (st == PW_OK) {
		/* a name is at most PW_NAME_BYTES_MAX (store_merchant_args_check) */
		st = pw_strlcpy(out, m->name != NULL ? m->name : "", size) ? PW_OK : PW_INTERNAL;
		paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	}
	return st;
}

pw_status
store_merchant_name(store *s, const char *merchant_id, char *out, size_t size)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL);
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_merchant_name_in(&t, merchant_id, out, size);
		store_read_end(&t);
	}
	return st;
}

pw_status
store_apikey_create(store_txn *t, const char *merchant_id, Paywire__Store__V1__Mode mode,
    Paywire__Store__V1__ApiKeyRecord **out, char *raw_key_out, size_t raw_key_size,
    char *reason, size_t reason_size)
{
	Paywire__Store__V1__MerchantRecord *m = NULL;
	size_t active = 0;
	char detail[96];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && out != NULL && raw_key_out != NULL);
	PW_ASSERT(raw_key_size >= STORE_RAW_KEY_BYTES_MIN && reason != NULL && reason_size > 0);
	*out = NULL;
	raw_key_out[0] = '\0';
	reason[0] = '\0';
	if (store_mode_key_prefix(mode) == NULL) {
		snprintf(reason, reason_size, "mode must be test or live");
		return PW_INVALID_ARGUMENT;
	}
	st = store_merchant_get(t, merchant_id, &m);
	if (st != PW_OK) {
		return st;
	}
	if (mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE && m->mode != mode) {
		snprintf(reason, reason_size, "merchant %s is a test merchant: it cannot hold live keys",
		    merchant_id);
		st = PW_FAILED_PRECONDITION;
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	if (st == PW_OK) {
		st = store_mkeys_active(t, merchant_id, &active);
	}
	if (st == PW_OK && active >= PW_APIKEYS_ACTIVE_MAX) {
		snprintf(reason, reason_size, "merchant %s already holds %zu active API keys (at most "
		    "%d): revoke one first", merchant_id, active, PW_APIKEYS_ACTIVE_MAX);
		st = PW_FAILED_PRECONDITION;
	}
	if (st == PW_OK) {
		store_apikey_generate(mode, raw_key_out, raw_key_size);
		st = store_apikey_insert(t, merchant_id, mode, raw_key_out, out);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "key_id=%s key_prefix=%s", (*out)->key_id,
		    (*out)->key_prefix);
		st = store_audit_append(t, "apikey.created", merchant_id, NULL, detail);
	}
	if (st != PW_OK) {
		sodium_memzero(raw_key_out, raw_key_size);
		if (*out != NULL) {
			paywire__store__v1__api_key_record__free_unpacked(*out, NULL);
			*out = NULL;
		}
	}
	return st;
}

/* The key of merchant_id named key_id (via merchant_keys), or the one whose
 * raw value is raw_key: *rec and its hash. PW_NOT_FOUND: none of this
 * merchant's. */
static pw_status
store_apikey_find(store_txn *t, const char *merchant_id, const char *key_id, const char *raw_key,
    uint8_t hash[STORE_HASH_BYTES], Paywire__Store__V1__ApiKeyRecord **rec)
{
	uint8_t ikey[STORE_KEY_BYTES_MAX];
	size_t ilen = 0;
	size_t len = 0;
	pw_status st;

	*rec = NULL;
	if (key_id != NULL && key_id[0] != '\0') {
		if (!store_key_join(ikey, sizeof(ikey), merchant_id, key_id, &ilen)) {
			return PW_NOT_FOUND;
		}
		st = store_raw_get(t, STORE_DB_MERCHANT_KEYS, ikey, ilen, hash, STORE_HASH_BYTES, &len);
		if (st == PW_OK && len != STORE_HASH_BYTES) {
			st = store_txn_note(t, PW_INTERNAL);
		}
	} else if (raw_key != NULL && store_raw_key_plausible(raw_key)) {
		store_apikey_hash(t->s, raw_key, hash);
		st = PW_OK;
	} else {
		return PW_NOT_FOUND;
	}
	if (st == PW_OK) {
		st = store_rec_get(t, STORE_DB_APIKEYS, hash, STORE_HASH_BYTES,
		    &paywire__store__v1__api_key_record__descriptor, (void **) rec);
	}
	if (st == PW_OK && strcmp((*rec)->merchant_id, merchant_id) != 0) {
		paywire__store__v1__api_key_record__free_unpacked(*rec, NULL);
		*rec = NULL;
		st = PW_NOT_FOUND; /* another merchant's: not told apart from none */
	}
	return st;
}

pw_status
store_apikey_roll(store_txn *t, const char *merchant_id, const char *key_id,
    const char *caller_raw_key, int64_t grace_s, Paywire__Store__V1__ApiKeyRecord **out,
    Paywire__Store__V1__ApiKeyRecord **rolled, char *raw_key_out, size_t raw_key_size,
    char *reason, size_t reason_size)
{
	Paywire__Store__V1__ApiKeyRecord *old = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	char detail[192];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && out != NULL && rolled != NULL);
	PW_ASSERT(raw_key_out != NULL && raw_key_size >= STORE_RAW_KEY_BYTES_MIN);
	PW_ASSERT(reason != NULL && reason_size > 0);
	*out = NULL;
	*rolled = NULL;
	raw_key_out[0] = '\0';
	reason[0] = '\0';
	if (grace_s < 0 || grace_s > PW_APIKEY_GRACE_MAX_S) {
		snprintf(reason, reason_size, "grace must be 0..%d s", PW_APIKEY_GRACE_MAX_S);
		return PW_INVALID_ARGUMENT;
	}
	st = store_apikey_find(t, merchant_id, key_id, caller_raw_key, hash, &old);
	if (st != PW_OK) {
		return st;
	}
	if (!store_apikey_active(old, t->now_ms) || old->replaced_by[0] != '\0') {
		snprintf(reason, reason_size, "key %s is %s: only an active key that was not rolled "
		    "already can be rolled", old->key_id[0] != '\0' ? old->key_id : old->key_prefix,
		    old->revoked ? "revoked" : old->replaced_by[0] != '\0' ? "rolled already" : "expired");
		st = PW_FAILED_PRECONDITION;
	}
	if (st == PW_OK) {
		store_apikey_generate(old->mode, raw_key_out, raw_key_size);
		st = store_apikey_insert(t, merchant_id, old->mode, raw_key_out, out);
	}
	if (st == PW_OK) {
		old->expires_at_unix_ms = t->now_ms + grace_s * 1000;
		st = store_pbstr_set(&old->replaced_by, (*out)->key_id);
	}
	if (st == PW_OK) {
		st = store_rec_put(t, STORE_DB_APIKEYS, hash, sizeof(hash), &old->base, 0, NULL);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "key_prefix=%s replaced_by=%s grace_s=%lld",
		    old->key_prefix, (*out)->key_id, (long long) grace_s);
		st = store_audit_append(t, "apikey.rolled", merchant_id, NULL, detail);
	}
	if (st != PW_OK) {
		sodium_memzero(raw_key_out, raw_key_size);
		if (*out != NULL) {
			paywire__store__v1__api_key_record__free_unpacked(*out, NULL);
			*out = NULL;
		}
		paywire__store__v1__api_key_record__free_unpacked(old, NULL);
		return st;
	}
	*rolled = old;
	return PW_OK;
}

pw_status
store_apikey_list(store *s, const char *merchant_id, Paywire__Store__V1__ApiKeyRecord ***out,
    size_t *n_out)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	*out = NULL;
	*n_out = 0;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_mkeys_load(&t, merchant_id, out, n_out);
	}
	store_read_end(&t);
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
	if (!store_apikey_active(rec, t.now_ms)) {
		st = PW_UNAUTHENTICATED; /* revoked, or rolled and past its grace period */
	} else if (!pw_strlcpy(merchant_id_out, rec->merchant_id, merchant_id_size)) {
		st = PW_INTERNAL;
	} else {
		*mode_out = rec->mode;
		store_lu_note(s->lu, hash, t.now_ms); /* memory only: the writer persists it */
	}
	paywire__store__v1__api_key_record__free_unpacked(rec, NULL);
	if (st != PW_OK) {
		merchant_id_out[0] = '\0';
	}
	return st;
}
