/*
 * store_creds.c - merchants' provider credentials (issue 10): what paywire
 * calls Stripe or Razorpay with for a merchant.
 *
 * provider_creds  merchant_id 0x00 provider(1) mode(1)  ProviderCredentialsRecord
 *
 * The secret is kept sealed only: sealed =
 * crypto_aead_xchacha20poly1305_ietf_encrypt(secret, ad, nonce, creds_key)
 * with a random 24-byte nonce at every set and
 *   ad = "paywire.v1 provider credentials" 0x00 merchant_id 0x00
 *        provider(1) mode(1) key_id
 * so the record opens only where it was written: copied under another
 * merchant, provider or mode, or with its key_id changed, it fails its tag
 * (PW_INTERNAL), never decrypts as someone else's. creds_key is a sub-key of
 * paywire.key of its own (store_keyfile.c). Nothing here logs or audits a
 * secret: logs name the merchant, provider and mode; the audit and the
 * listing carry the hint ("sk_test_AbCd…wxyz", "…wxyz").
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#define CREDS_AD_CONTEXT "paywire.v1 provider credentials"
#define CREDS_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CREDS_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
/* merchant_id 0x00 provider mode */
#define CREDS_KEY_BYTES (PW_REPLY_SCOPE_BYTES_MAX + 3)
#define CREDS_AD_BYTES (sizeof(CREDS_AD_CONTEXT) + CREDS_KEY_BYTES + PW_PROVIDER_KEY_ID_BYTES_MAX)
/* Stripe's key prefixes: sk_/rk_ then test_/live_ (8 characters). */
#define CREDS_STRIPE_PREFIX_BYTES 8
/* The hint shows the prefix, this many characters after it, and the last this many. */
#define CREDS_HINT_SHOWN 4
#define CREDS_ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

_Static_assert(CREDS_STRIPE_PREFIX_BYTES + CREDS_HINT_SHOWN + sizeof(CREDS_ELLIPSIS) - 1 +
        CREDS_HINT_SHOWN < PW_PROVIDER_SECRET_HINT_BYTES_MAX,
    "a hint fits PW_PROVIDER_SECRET_HINT_BYTES_MAX");
_Static_assert(2 * CREDS_HINT_SHOWN <= PW_PROVIDER_SECRET_BYTES_MIN,
    "a hint shows at most half of what follows a secret's prefix");

static const char *
creds_mode_name(Paywire__Store__V1__Mode mode)
{
	switch (mode) {
	case PAYWIRE__STORE__V1__MODE__MODE_TEST:
		return "test";
	case PAYWIRE__STORE__V1__MODE__MODE_LIVE:
		return "live";
	case PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED:
	case _PAYWIRE__STORE__V1__MODE_IS_INT_SIZE:
		break;
	}
	return NULL;
}

static bool
creds_provider_ok(pw_provider p)
{
	return p == PW_PROVIDER_STRIPE || p == PW_PROVIDER_RAZORPAY;
}

/* Printable ASCII, no space. */
static bool
creds_charset_ok(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s <= ' ' || *s > '~') {
			return false;
		}
	}
	return true;
}

static bool
creds_prefixed(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

pw_status
store_provider_creds_check(pw_provider provider, Paywire__Store__V1__Mode mode,
    const char *key_id, const char *secret, char *why, size_t why_size)
{
	const char *mname = creds_mode_name(mode);
	size_t klen;
	size_t slen;

	PW_ASSERT(why != NULL && why_size > 0);
	why[0] = '\0';
	if (!creds_provider_ok(provider)) {
		snprintf(why, why_size, "provider must be stripe or razorpay: paywire makes no calls "
		    "to %s, so it holds no credentials for it", pw_provider_name(provider));
		return PW_INVALID_ARGUMENT;
	}
	if (mname == NULL) {
		snprintf(why, why_size, "mode must be test or live");
		return PW_INVALID_ARGUMENT;
	}
	if (key_id == NULL) {
		key_id = "";
	}
	if (secret == NULL || secret[0] == '\0') {
		snprintf(why, why_size, "secret is required");
		return PW_INVALID_ARGUMENT;
	}
	klen = strnlen(key_id, PW_PROVIDER_KEY_ID_BYTES_MAX + 1);
	slen = strnlen(secret, PW_PROVIDER_SECRET_BYTES_MAX + 1);
	if (slen > PW_PROVIDER_SECRET_BYTES_MAX) {
		snprintf(why, why_size, "secret is longer than %d bytes", PW_PROVIDER_SECRET_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (!creds_charset_ok(secret)) {
		snprintf(why, why_size, "secret must be printable ASCII without spaces");
		return PW_INVALID_ARGUMENT;
	}
	if (klen > PW_PROVIDER_KEY_ID_BYTES_MAX) {
		snprintf(why, why_size, "key_id is longer than %d bytes", PW_PROVIDER_KEY_ID_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (!creds_charset_ok(key_id)) {
		snprintf(why, why_size, "key_id must be printable ASCII without spaces");
		return PW_INVALID_ARGUMENT;
	}
	if (provider == PW_PROVIDER_STRIPE) {
		bool test = creds_prefixed(secret, "sk_test_") || creds_prefixed(secret, "rk_test_");
		bool live = creds_prefixed(secret, "sk_live_") || creds_prefixed(secret, "rk_live_");

		if (klen != 0) {
			snprintf(why, why_size, "key_id must be empty for stripe (a Stripe key is its "
			    "secret alone)");
			return PW_INVALID_ARGUMENT;
		}
		if (!test && !live) {
			snprintf(why, why_size, "a stripe secret must be a secret or restricted key "
			    "(sk_test_, sk_live_, rk_test_ or rk_live_)");
			return PW_INVALID_ARGUMENT;
		}
		if (live != (mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE)) {
			snprintf(why, why_size, "a stripe %s key cannot be set for mode %s",
			    live ? "live" : "test", mname);
			return PW_INVALID_ARGUMENT;
		}
		if (slen < CREDS_STRIPE_PREFIX_BYTES + PW_PROVIDER_SECRET_BYTES_MIN) {
			snprintf(why, why_size, "a stripe secret has at least %d characters after its "
			    "prefix", PW_PROVIDER_SECRET_BYTES_MIN);
			return PW_INVALID_ARGUMENT;
		}
		return PW_OK;
	}
	/* razorpay */
	{
		bool test = creds_prefixed(key_id, "rzp_test_");
		bool live = creds_prefixed(key_id, "rzp_live_");

		if (!test && !live) {
			snprintf(why, why_size, "a razorpay key_id must start with rzp_test_ or rzp_live_");
			return PW_INVALID_ARGUMENT;
		}
		if (live != (mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE)) {
			snprintf(why, why_size, "a razorpay %s key cannot be set for mode %s",
			    live ? "live" : "test", mname);
			return PW_INVALID_ARGUMENT;
		}
		if (klen < PW_PROVIDER_KEY_ID_BYTES_MIN) {
			snprintf(why, why_size, "a razorpay key_id has at least %d characters",
			    PW_PROVIDER_KEY_ID_BYTES_MIN);
			return PW_INVALID_ARGUMENT;
		}
		if (slen < PW_PROVIDER_SECRET_BYTES_MIN) {
			snprintf(why, why_size, "a razorpay key secret has at least %d characters",
			    PW_PROVIDER_SECRET_BYTES_MIN);
			return PW_INVALID_ARGUMENT;
		}
	}
	return PW_OK;
}

/* The table key of (merchant_id, provider, mode) into key[CREDS_KEY_BYTES]. */
static pw_status
creds_key(const char *merchant_id, pw_provider provider, Paywire__Store__V1__Mode mode,
    uint8_t *key, size_t *len)
{
	size_t mlen;

	if (merchant_id == NULL || merchant_id[0] == '\0' || !creds_provider_ok(provider) ||
	    creds_mode_name(mode) == NULL) {
		return PW_INVALID_ARGUMENT;
	}
	mlen = strnlen(merchant_id, PW_REPLY_SCOPE_BYTES_MAX + 1);
	if (mlen > PW_REPLY_SCOPE_BYTES_MAX || memchr(merchant_id, '\0', mlen) != NULL) {
		return PW_INVALID_ARGUMENT;
	}
	memcpy(key, merchant_id, mlen);
	key[mlen] = 0x00;
	key[mlen + 1] = (uint8_t) provider;
	key[mlen + 2] = (uint8_t) mode;
	*len = mlen + 3;
	return PW_OK;
}

/* The additional data of a record: its context, table key and key_id. */
static size_t
creds_ad(uint8_t ad[CREDS_AD_BYTES], const uint8_t *key, size_t key_len, const char *key_id)
{
	size_t klen = strlen(key_id);
	size_t n = sizeof(CREDS_AD_CONTEXT); /* with its NUL: the separator */

	PW_ASSERT(key_len <= CREDS_KEY_BYTES && klen <= PW_PROVIDER_KEY_ID_BYTES_MAX);
	memcpy(ad, CREDS_AD_CONTEXT, sizeof(CREDS_AD_CONTEXT));
	memcpy(ad + n, key, key_len);
	n += key_len;
	memcpy(ad + n, key_id, klen);
	return n + klen;
}

/* The hint of a valid secret (store_provider_creds_check passed). */
static void
creds_hint(pw_provider provider, const char *secret, char out[PW_PROVIDER_SECRET_HINT_BYTES_MAX])
{
	size_t slen = strlen(secret);
	size_t shown = provider == PW_PROVIDER_STRIPE ? CREDS_STRIPE_PREFIX_BYTES + CREDS_HINT_SHOWN
	                                              : 0;
	int n;

	PW_ASSERT(slen >= shown + 2 * CREDS_HINT_SHOWN);
	n = snprintf(out, PW_PROVIDER_SECRET_HINT_BYTES_MAX, "%.*s" CREDS_ELLIPSIS "%s", (int) shown,
	    secret, secret + slen - CREDS_HINT_SHOWN);
	PW_ASSERT(n > 0 && n < PW_PROVIDER_SECRET_HINT_BYTES_MAX);
}

/* Drops what a record returned to a caller must not carry. */
static void
creds_strip(Paywire__Store__V1__ProviderCredentialsRecord *r)
{
	if (r->sealed.data != NULL) {
		sodium_memzero(r->sealed.data, r->sealed.len);
	}
	r->sealed.len = 0;
	r->nonce.len = 0;
}

/* The record under key, checked against where it is stored. */
static pw_status
creds_load(store_txn *t, const uint8_t *key, size_t key_len, const char *merchant_id,
    pw_provider provider, Paywire__Store__V1__Mode mode,
    Paywire__Store__V1__ProviderCredentialsRecord **out)
{
	Paywire__Store__V1__ProviderCredentialsRecord *r = NULL;
	pw_status st;

	*out = NULL;
	st = store_rec_get(t, STORE_DB_PROVIDER_CREDS, key, key_len,
	    &paywire__store__v1__provider_credentials_record__descriptor, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (r->merchant_id == NULL || strcmp(r->merchant_id, merchant_id) != 0 ||
	    (pw_provider) r->provider != provider || r->mode != mode || r->key_id == NULL ||
	    strlen(r->key_id) > PW_PROVIDER_KEY_ID_BYTES_MAX) {
		pw_log(PW_LOG_ERROR, "store: %s credentials of merchant %s (%s) are stored under "
		    "another merchant, provider or mode (corrupt or copied record)",
		    pw_provider_name(provider), merchant_id, creds_mode_name(mode));
		creds_strip(r);
		paywire__store__v1__provider_credentials_record__free_unpacked(r, NULL);
		return PW_INTERNAL;
	}
	*out = r;
	return PW_OK;
}

pw_status
store_provider_creds_set(store_txn *t, const char *merchant_id, pw_provider provider,
    Paywire__Store__V1__Mode mode, const char *key_id, const char *secret,
    Paywire__Store__V1__ProviderCredentialsRecord **out, char *why, size_t why_size)
{
	Paywire__Store__V1__ProviderCredentialsRecord rec =
	    PAYWIRE__STORE__V1__PROVIDER_CREDENTIALS_RECORD__INIT;
	Paywire__Store__V1__ProviderCredentialsRecord *old = NULL;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	uint8_t key[CREDS_KEY_BYTES];
	uint8_t ad[CREDS_AD_BYTES];
	uint8_t nonce[CREDS_NONCE_BYTES];
	uint8_t sealed[PW_PROVIDER_SECRET_BYTES_MAX + CREDS_TAG_BYTES];
	char hint[PW_PROVIDER_SECRET_HINT_BYTES_MAX];
	unsigned long long sealed_len = 0;
	size_t key_len = 0;
	size_t ad_len;
	char detail[256];
	bool replaced = false;
	pw_status st;

	PW_ASSERT(t != NULL && out != NULL && why != NULL && why_size > 0);
	*out = NULL;
	why[0] = '\0';
	st = store_provider_creds_check(provider, mode, key_id, secret, why, why_size);
	if (st != PW_OK) {
		return st;
	}
	if (key_id == NULL) {
		key_id = "";
	}
	if (creds_key(merchant_id, provider, mode, key, &key_len) != PW_OK) {
		snprintf(why, why_size, "merchant_id is empty or too long");
		return PW_INVALID_ARGUMENT;
	}
	st = store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
	    &paywire__store__v1__merchant_record__descriptor, (void **) &m);
	if (st == PW_NOT_FOUND) {
		snprintf(why, why_size, "no merchant %s", merchant_id);
	}
	if (st != PW_OK) {
		return st;
	}
	if (mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE && m->mode != mode) {
		snprintf(why, why_size, "merchant %s is a test merchant: it cannot hold live "
		    "credentials", merchant_id);
		st = PW_FAILED_PRECONDITION;
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	if (st != PW_OK) {
		return st;
	}
	st = creds_load(t, key, key_len, merchant_id, provider, mode, &old);
	if (st != PW_OK && st != PW_NOT_FOUND) {
		return st;
	}
	rec.created_at_unix_ms = old != NULL ? old->created_at_unix_ms : t->now_ms;
	if (old != NULL) {
		replaced = true;
		creds_strip(old);
		paywire__store__v1__provider_credentials_record__free_unpacked(old, NULL);
	}

	pw_random(nonce, sizeof(nonce));
	ad_len = creds_ad(ad, key, key_len, key_id);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, &sealed_len, (const uint8_t *) secret,
	    strlen(secret), ad, ad_len, NULL, nonce, t->s->keys.creds_key);
	PW_ASSERT(sealed_len == strlen(secret) + CREDS_TAG_BYTES);
	creds_hint(provider, secret, hint);

	rec.merchant_id = (char *) merchant_id;
	rec.provider = (Paywire__Store__V1__Provider) provider;
	rec.mode = mode;
	rec.key_id = (char *) key_id;
	rec.secret_hint = hint;
	rec.nonce.data = nonce;
	rec.nonce.len = sizeof(nonce);
	rec.sealed.data = sealed;
	rec.sealed.len = (size_t) sealed_len;
	rec.updated_at_unix_ms = t->now_ms;
	st = store_rec_put(t, STORE_DB_PROVIDER_CREDS, key, key_len, &rec.base, 0, NULL);
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "provider=%s mode=%s key_id=%s secret=%s replaced=%s",
		    pw_provider_name(provider), creds_mode_name(mode), key_id, hint,
		    replaced ? "yes" : "no");
		st = store_audit_append(t, "provider_credentials.set", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		rec.nonce.len = 0;
		rec.sealed.len = 0;
		st = store_msg_dup(&rec.base, (void **) out);
	}
	sodium_memzero(sealed, sizeof(sealed));
	return st;
}

pw_status
store_provider_creds_delete(store_txn *t, const char *merchant_id, pw_provider provider,
    Paywire__Store__V1__Mode mode, Paywire__Store__V1__ProviderCredentialsRecord **out)
{
	Paywire__Store__V1__ProviderCredentialsRecord *old = NULL;
	uint8_t key[CREDS_KEY_BYTES];
	size_t key_len = 0;
	char detail[256];
	pw_status st;

	PW_ASSERT(t != NULL);
	if (out != NULL) {
		*out = NULL;
	}
	st = creds_key(merchant_id, provider, mode, key, &key_len);
	if (st != PW_OK) {
		return st;
	}
	st = creds_load(t, key, key_len, merchant_id, provider, mode, &old);
	if (st != PW_OK) {
		return st;
	}
	creds_strip(old);
	st = store_raw_del(t, STORE_DB_PROVIDER_CREDS, key, key_len);
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "provider=%s mode=%s key_id=%s secret=%s",
		    pw_provider_name(provider), creds_mode_name(mode), old->key_id,
		    old->secret_hint != NULL ? old->secret_hint : "");
		st = store_audit_append(t, "provider_credentials.deleted", merchant_id, NULL, detail);
	}
	if (st == PW_OK && out != NULL) {
		*out = old;
		old = NULL;
	}
	if (old != NULL) {
		paywire__store__v1__provider_credentials_record__free_unpacked(old, NULL);
	}
	return st;
}

pw_status
store_provider_creds_get(store *s, const char *merchant_id, pw_provider provider,
    Paywire__Store__V1__Mode mode, store_provider_creds *out)
{
	Paywire__Store__V1__ProviderCredentialsRecord *r = NULL;
	uint8_t key[CREDS_KEY_BYTES];
	uint8_t ad[CREDS_AD_BYTES];
	unsigned long long mlen = 0;
	size_t key_len = 0;
	size_t ad_len;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL);
	sodium_memzero(out, sizeof(*out));
	st = creds_key(merchant_id, provider, mode, key, &key_len);
	if (st != PW_OK) {
		return st;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = creds_load(&t, key, key_len, merchant_id, provider, mode, &r);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		return st;
	}
	if (r->nonce.len != CREDS_NONCE_BYTES || r->sealed.len <= CREDS_TAG_BYTES ||
	    r->sealed.len - CREDS_TAG_BYTES > PW_PROVIDER_SECRET_BYTES_MAX) {
		st = PW_INTERNAL;
	} else {
		ad_len = creds_ad(ad, key, key_len, r->key_id);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *) out->secret, &mlen, NULL,
		        r->sealed.data, r->sealed.len, ad, ad_len, r->nonce.data,
		        s->keys.creds_key) != 0 ||
		    memchr(out->secret, '\0', (size_t) mlen) != NULL) {
			st = PW_INTERNAL;
		}
	}
	if (st == PW_OK) {
		out->secret[mlen] = '\0';
		(void) pw_strlcpy(out->key_id, r->key_id, sizeof(out->key_id)); /* checked by load */
		out->updated_at_unix_ms = r->updated_at_unix_ms;
	} else {
		pw_log(PW_LOG_ERROR, "store: %s %s credentials of merchant %s do not open (tampered or "
		    "copied record, or another paywire.key): set them again",
		    pw_provider_name(provider), creds_mode_name(mode), merchant_id);
		sodium_memzero(out, sizeof(*out));
	}
	creds_strip(r);
	paywire__store__v1__provider_credentials_record__free_unpacked(r, NULL);
	return st;
}

typedef struct creds_walk {
	const uint8_t *prefix; /* merchant_id 0x00 */
	size_t prefix_len;
	Paywire__Store__V1__ProviderCredentialsRecord **out; /* CREDS_LIST_MAX slots */
	size_t n;
} creds_walk;

#define CREDS_LIST_MAX (PW_PROVIDER_COUNT * 2)

static pw_status
creds_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	creds_walk *w = arg;
	Paywire__Store__V1__ProviderCredentialsRecord *r = NULL;
	pw_status st;

	if (key.len < w->prefix_len || memcmp(key.data, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	if (key.len != w->prefix_len + 2 || w->n == CREDS_LIST_MAX) {
		pw_log(PW_LOG_ERROR, "store: provider_creds holds an entry that is no (provider, "
		    "mode) of a merchant (corrupt)");
		return PW_INTERNAL;
	}
	st = store_msg_unpack(&paywire__store__v1__provider_credentials_record__descriptor, val.data,
	    val.len, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	creds_strip(r);
	w->out[w->n++] = r;
	return PW_OK;
}

void
store_provider_creds_list_free(Paywire__Store__V1__ProviderCredentialsRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__provider_credentials_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

pw_status
store_provider_creds_list(store *s, const char *merchant_id,
    Paywire__Store__V1__ProviderCredentialsRecord ***out, size_t *n_out)
{
	uint8_t prefix[PW_REPLY_SCOPE_BYTES_MAX + 1];
	size_t mlen;
	creds_walk w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	*out = NULL;
	*n_out = 0;
	mlen = strnlen(merchant_id, PW_REPLY_SCOPE_BYTES_MAX + 1);
	if (mlen == 0 || mlen > PW_REPLY_SCOPE_BYTES_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	memcpy(prefix, merchant_id, mlen);
	prefix[mlen] = 0x00;
	memset(&w, 0, sizeof(w));
	w.prefix = prefix;
	w.prefix_len = mlen + 1;
	w.out = pw_calloc(CREDS_LIST_MAX, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_PROVIDER_CREDS,
		    (kv_val){ .data = prefix, .len = w.prefix_len }, creds_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_provider_creds_list_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	return PW_OK;
}
