/*
 * store_entitlement.c - what a payment grants, and the customer's access
 * page (docs/PAYMENTS.md "Entitlement lifecycle", "Credits").
 *
 * An access key is "ak_test_"/"ak_live_" + base64url(32 random bytes). It
 * exists in clear only on the writer's stack: at grant it is hashed (keyed
 * BLAKE2b with the access pepper, for later lookups) and sealed
 * (crypto_secretbox under the store's secretbox key, nonce || box) and then
 * wiped; at the first redemption of the customer's access link the sealed
 * copy is opened into the reply and wiped from the record in the same
 * transaction. So the raw key is shown once and never lies on disk in clear.
 * A revoked entitlement loses its sealed key at once and is never revealed.
 *
 * One active entitlement per (merchant, customer, plan): ent_index holds its
 * id. A second paid session of the same customer and plan links to it rather
 * than minting a second key, and becomes one of its holders
 * (holder_session_ids): a refund, a lost dispute or the end of a subscription
 * releases that session's hold, and the entitlement is revoked only when no
 * paid session holds it any more. customer_ents lists every entitlement of a
 * customer (GetEntitlements), revoked ones included.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* "ak_test_" + base64url(32 bytes) = 8 + 43 characters. */
#define STORE_AK_PREFIX_BYTES 8
#define STORE_AK_RANDOM_BYTES 32
#define STORE_AK_BYTES (STORE_AK_PREFIX_BYTES + 43)
/* Shown to operators: the prefix and 4 characters (24 of 256 random bits). */
#define STORE_AK_DISPLAY_BYTES 12
#define STORE_AK_SEALED_BYTES \
	(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + STORE_AK_BYTES)
/* A customer is a customer_ref, an email or a session id. */
#define STORE_CUSTOMER_BYTES (PW_EMAIL_BYTES_MAX + 1)
/* Entitlement ids: "ent_" + pw_id_new. */
#define STORE_ENT_ID_BYTES PW_ID_BYTES(4)

_Static_assert(PW_CUSTOMER_REF_BYTES_MAX < STORE_CUSTOMER_BYTES, "a customer_ref fits");
_Static_assert(PW_SESSION_ID_BYTES_MAX <= STORE_CUSTOMER_BYTES, "a session id fits");
_Static_assert(PW_ID_BYTES(4) + 1 + STORE_CUSTOMER_BYTES + 1 + PW_PLAN_BYTES_MAX <=
        STORE_KEY_BYTES_MAX,
    "ent_index key (merchant 0x00 customer 0x00 plan) fits an LMDB key");
_Static_assert(STORE_ENT_ID_BYTES <= sizeof(((store_webhook_result *) 0)->access_key_id),
    "an entitlement id fits the webhook result");

pw_status
store_pbstr_set(char **field, const char *val)
{
	size_t len;
	char *copy;

	PW_ASSERT(field != NULL && val != NULL);
	len = strlen(val);
	copy = pw_malloc(len + 1);
	if (copy == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	memcpy(copy, val, len + 1);
	/* protobuf-c points absent strings at its static empty string. */
	if (*field != NULL && *field != protobuf_c_empty_string) {
		pw_free(*field);
	}
	*field = copy;
	return PW_OK;
}

static bool
store_nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

bool
store_customer_of(const Paywire__Store__V1__Session *sess, char *out, size_t out_size)
{
	const char *c;

	PW_ASSERT(sess != NULL && out != NULL && out_size > 0);
	c = store_nonempty(sess->customer_ref) ? sess->customer_ref
	    : store_nonempty(sess->customer_email) ? sess->customer_email
	                                           : sess->id;
	return store_nonempty(c) && pw_strlcpy(out, c, out_size);
}

/* ent_index key: merchant_id 0x00 customer 0x00 plan. */
static bool
store_ent_index_key(const Paywire__Store__V1__Session *sess, uint8_t *key, size_t size, size_t *len)
{
	char customer[STORE_CUSTOMER_BYTES];
	const char *plan = sess->fulfillment->plan != NULL ? sess->fulfillment->plan : "";
	size_t plen = strlen(plan);

	if (!store_customer_of(sess, customer, sizeof(customer)) ||
	    !store_key_join(key, size, sess->merchant_id, customer, len)) {
		return false;
	}
	if (*len + 1 + plen > size || *len + 1 + plen > STORE_KEY_BYTES_MAX) {
		return false;
	}
	key[*len] = 0x00;
	memcpy(key + *len + 1, plan, plen);
	*len += 1 + plen;
	return true;
}

pw_status
store_entitlement_load(store_txn *t, const char *id, Paywire__Store__V1__EntitlementRecord **out)
{
	if (id == NULL || id[0] == '\0' || strlen(id) >= STORE_ENT_ID_BYTES) {
		return PW_NOT_FOUND;
	}
	return store_rec_get(t, STORE_DB_ENTITLEMENTS, id, strlen(id),
	    &paywire__store__v1__entitlement_record__descriptor, (void **) out);
}

/* The entitlement rec->access_key_id names. Its absence is corruption (a
 * session links only to an entitlement written in the same txn): PW_INTERNAL,
 * logged. */
static pw_status
store_ent_of_session(store_txn *t, const Paywire__Store__V1__SessionRecord *rec,
    Paywire__Store__V1__EntitlementRecord **out)
{
	pw_status st = store_entitlement_load(t, rec->access_key_id, out);

	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_ERROR, "store: session %s names missing entitlement %s",
		    rec->session->id, rec->access_key_id);
		return store_txn_note(t, PW_INTERNAL);
	}
	return st;
}


/* ---- holders and state ---- */

#define STORE_ENT_ACTIVE PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE
#define STORE_ENT_PAST_DUE PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_PAST_DUE

Paywire__Store__V1__EntitlementState
store_entitlement_state(const Paywire__Store__V1__EntitlementRecord *e)
{
	PW_ASSERT(e != NULL);
	if (e->state != PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_UNSPECIFIED) {
		return e->state;
	}
	/* written before states existed */
	return e->active ? PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE
	                 : PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED;
}

Paywire__Store__V1__EntitlementState
store_entitlement_state_at(const Paywire__Store__V1__EntitlementRecord *e, int64_t now_ms)
{
	Paywire__Store__V1__EntitlementState st = store_entitlement_state(e);

	if (st == PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE && e->active &&
	    e->subscription && e->current_period_end_unix_ms > 0 &&
	    now_ms - PW_SUBSCRIPTION_GRACE_MS >= e->current_period_end_unix_ms) {
		return PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_LAPSED;
	}
	return st;
}

const char *
store_entitlement_state_name(Paywire__Store__V1__EntitlementState st)
{
	switch (st) {
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE: return "active";
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_PAST_DUE: return "past_due";
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_CANCELED: return "canceled";
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED: return "revoked";
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_LAPSED: return "lapsed";
	default: return "unspecified";
	}
}

/* Appends sid to e's holders (pw_malloc'd: free_unpacked frees it). On
 * failure e is unchanged (free_unpacked frees every element of a repeated
 * string: none may be a borrowed one). */
static pw_status
store_ent_holder_add(Paywire__Store__V1__EntitlementRecord *e, const char *sid)
{
	size_t len = strlen(sid);
	char *copy;
	char **h;

	if (e->n_holder_session_ids >= PW_ENTITLEMENT_HOLDERS_MAX) {
		pw_log(PW_LOG_WARN, "store: entitlement %s holds %d sessions: session %s linked but "
		    "not recorded as a holder", e->id, PW_ENTITLEMENT_HOLDERS_MAX, sid);
		return PW_OK;
	}
	copy = pw_malloc(len + 1);
	if (copy == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	memcpy(copy, sid, len + 1);
	h = pw_realloc(e->holder_session_ids, (e->n_holder_session_ids + 1) * sizeof(*h));
	if (h == NULL) {
		pw_free(copy);
		return PW_RESOURCE_EXHAUSTED;
	}
	e->holder_session_ids = h;
	h[e->n_holder_session_ids++] = copy;
	return PW_OK;
}

/* A record written before holders existed names its creating session only
 * (the sessions that linked to it then are not known): its holder, while
 * it is active. */
static pw_status
store_ent_holders_init(Paywire__Store__V1__EntitlementRecord *e)
{
	if (e->n_holder_session_ids > 0 || !e->active) {
		return PW_OK;
	}
	return store_ent_holder_add(e, e->session_id);
}

/* Whether sid is one of e's recorded holders, at *at. */
static bool
store_ent_holder_find(const Paywire__Store__V1__EntitlementRecord *e, const char *sid, size_t *at)
{
	for (size_t i = 0; i < e->n_holder_session_ids; i++) {
		if (strcmp(e->holder_session_ids[i], sid) == 0) {
			*at = i;
			return true;
		}
	}
	return false;
}

bool
store_entitlement_holds(const Paywire__Store__V1__EntitlementRecord *e, const char *sid)
{
	PW_ASSERT(e != NULL && sid != NULL);
	if (e->n_holder_session_ids == 0) {
		return e->active && strcmp(e->session_id, sid) == 0; /* before holders existed */
	}
	size_t at;
	return store_ent_holder_find(e, sid, &at);
}

pw_status
store_entitlement_save(store_txn *t, Paywire__Store__V1__EntitlementRecord *e)
{
	PW_ASSERT(t != NULL && e != NULL && e->id != NULL && e->id[0] != '\0');
	e->state = store_entitlement_state(e); /* a record from before states gets one */
	/* paired with store_entitlement_state on the read side: an active
	 * record is active or past_due, an ended one revoked or canceled */
	PW_ASSERT(e->active == (e->state == STORE_ENT_ACTIVE || e->state == STORE_ENT_PAST_DUE));
	e->updated_at_unix_ms = t->now_ms;
	return store_rec_put(t, STORE_DB_ENTITLEMENTS, e->id, strlen(e->id), &e->base, 0, NULL);
}

/* customer_ents key: merchant_id 0x00 customer 0x00 entitlement id. */
static bool
store_ce_key(uint8_t *key, size_t size, const char *merchant_id, const char *customer,
    const char *id, size_t *len)
{
	size_t ilen = id != NULL ? strlen(id) : 0;

	if (!store_key_join(key, size, merchant_id, customer, len) || *len + 1 + ilen > size ||
	    *len + 1 + ilen > STORE_KEY_BYTES_MAX) {
		return false;
	}
	key[*len] = 0x00;
	memcpy(key + *len + 1, id, ilen);
	*len += 1 + ilen;
	return true;
}

/* The id in ent_index under key, if it names an active entitlement.
 * A row that points at a missing or inactive record is stale (never written
 * so by this file): logged and reported absent, so a new grant replaces it. */
static pw_status
store_ent_active_find(store_txn *t, const uint8_t *key, size_t keylen, char *id, size_t id_size)
{
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	size_t len = 0;
	pw_status st;

	st = store_raw_get(t, STORE_DB_ENT_INDEX, key, keylen, id, id_size - 1, &len);
	if (st != PW_OK) {
		return st;
	}
	id[len] = '\0';
	st = store_entitlement_load(t, id, &e);
	if (st == PW_OK && !e->active) {
		st = PW_NOT_FOUND;
	}
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_WARN, "store: ent_index row names %s entitlement %s: replaced",
		    e != NULL ? "an inactive" : "a missing", id);
	}
	if (e != NULL) {
		paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	}
	return st;
}

/* Mints a raw key for mode, fills e (hash, sealed copy, prefix) and wipes
 * the raw key. e->sealed_key.data is pw_malloc'd: caller frees. */
static pw_status
store_ak_mint(const store_keys *keys, Paywire__Store__V1__Mode mode,
    Paywire__Store__V1__EntitlementRecord *e, uint8_t hash[STORE_HASH_BYTES], char *prefix)
{
	uint8_t rnd[STORE_AK_RANDOM_BYTES];
	char raw[STORE_AK_BYTES + 8];
	uint8_t *sealed;
	size_t len;

	sealed = pw_malloc(STORE_AK_SEALED_BYTES);
	if (sealed == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	memcpy(raw, mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE ? "ak_live_" : "ak_test_",
	    STORE_AK_PREFIX_BYTES);
	pw_random(rnd, sizeof(rnd));
	pw_base64url(raw + STORE_AK_PREFIX_BYTES, sizeof(raw) - STORE_AK_PREFIX_BYTES, rnd,
	    sizeof(rnd));
	sodium_memzero(rnd, sizeof(rnd));
	len = strlen(raw);
	PW_ASSERT(len == STORE_AK_BYTES);
	store_keyed_hash(hash, keys->access_pepper, raw, len);
	pw_random(sealed, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, (const uint8_t *) raw, len,
	    sealed, keys->secretbox_key);
	memcpy(prefix, raw, STORE_AK_DISPLAY_BYTES);
	prefix[STORE_AK_DISPLAY_BYTES] = '\0';
	sodium_memzero(raw, sizeof(raw));
	e->key_hash.data = hash;
	e->key_hash.len = STORE_HASH_BYTES;
	e->sealed_key.data = sealed;
	e->sealed_key.len = STORE_AK_SEALED_BYTES;
	e->key_prefix = prefix;
	return PW_OK;
}

static bool
store_sess_subscription(const Paywire__Store__V1__Session *sess)
{
	return sess->fulfillment != NULL && sess->fulfillment->subscription;
}

static pw_status
store_ent_create(store_txn *t, const Paywire__Store__V1__SessionRecord *rec, const char *customer,
    char *id_out)
{
	Paywire__Store__V1__EntitlementRecord e = PAYWIRE__STORE__V1__ENTITLEMENT_RECORD__INIT;
	const Paywire__Store__V1__Session *sess = rec->session;
	uint8_t hash[STORE_HASH_BYTES];
	uint8_t ckey[STORE_KEY_BYTES_MAX];
	char prefix[STORE_AK_DISPLAY_BYTES + 1];
	char *holders[1];
	size_t cklen = 0;
	pw_status st;

	pw_id_new(id_out, STORE_ENT_ID_BYTES, "ent_", t->now_ms);
	if (!store_ce_key(ckey, sizeof(ckey), sess->merchant_id, customer, id_out, &cklen)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	e.id = id_out;
	e.merchant_id = sess->merchant_id;
	e.session_id = sess->id;
	e.customer = (char *) customer;
	e.plan = sess->fulfillment->plan;
	e.active = true;
	e.created_at_unix_ms = t->now_ms;
	e.updated_at_unix_ms = t->now_ms;
	e.state = PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE;
	holders[0] = sess->id;
	e.holder_session_ids = holders;
	e.n_holder_session_ids = 1;
	e.subscription = store_sess_subscription(sess);
	/* a subscription's first invoice may have come before its checkout */
	e.current_period_end_unix_ms = e.subscription ? rec->subscription_period_end_unix_ms : 0;
	st = store_ak_mint(&t->s->keys, sess->mode, &e, hash, prefix);
	if (st != PW_OK) {
		return st;
	}
	st = store_rec_put(t, STORE_DB_ENTITLEMENTS, id_out, strlen(id_out), &e.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	if (st == PW_OK) {
		/* the merchant's VerifyAccessKey finds the entitlement by this hash */
		st = store_raw_put(t, STORE_DB_AK_HASHES, hash, STORE_HASH_BYTES, id_out, strlen(id_out),
		    KV_PUT_INSERT | KV_PUT_FRESH);
	}
	if (st == PW_OK) {
		/* GetEntitlements lists the customer's entitlements by this row */
		st = store_raw_put(t, STORE_DB_CUSTOMER_ENTS, ckey, cklen, "", 0,
		    KV_PUT_INSERT | KV_PUT_FRESH);
	}
	sodium_memzero(e.sealed_key.data, e.sealed_key.len);
	pw_free(e.sealed_key.data);
	/* A fresh 128-bit random id cannot collide: a collision is corruption. */
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

/* A second paid session of the same customer and plan: rec's session
 * becomes a holder of the active entitlement id (a new payment: a past_due
 * entitlement is active again; a subscription session brings its period). */
static pw_status
store_ent_link(store_txn *t, const Paywire__Store__V1__SessionRecord *rec, const char *id)
{
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	const Paywire__Store__V1__Session *sess = rec->session;
	pw_status st;

	st = store_entitlement_load(t, id, &e);
	if (st == PW_NOT_FOUND) {
		return store_txn_note(t, PW_INTERNAL); /* store_ent_active_find just read it */
	}
	if (st != PW_OK) {
		return st;
	}
	st = store_ent_holders_init(e);
	if (st == PW_OK && !store_entitlement_holds(e, sess->id)) {
		st = store_ent_holder_add(e, sess->id);
	}
	if (st == PW_OK) {
		e->state = PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE;
		if (store_sess_subscription(sess)) {
			e->subscription = true;
			if (rec->subscription_period_end_unix_ms > e->current_period_end_unix_ms) {
				e->current_period_end_unix_ms = rec->subscription_period_end_unix_ms;
			}
		}
		st = store_entitlement_save(t, e);
	}
	paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	return st;
}

pw_status
store_entitlement_grant(store_txn *t, Paywire__Store__V1__SessionRecord *rec, bool *created)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	char customer[STORE_CUSTOMER_BYTES];
	char id[STORE_ENT_ID_BYTES];
	size_t keylen = 0;
	pw_status st;

	PW_ASSERT(t != NULL && rec != NULL && rec->session != NULL && created != NULL);
	PW_ASSERT(rec->session->fulfillment != NULL);
	PW_ASSERT(rec->session->fulfillment->kind ==
	    PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY);
	*created = false;
	if (!store_customer_of(rec->session, customer, sizeof(customer)) ||
	    !store_ent_index_key(rec->session, key, sizeof(key), &keylen)) {
		pw_log(PW_LOG_ERROR, "store: session %s: customer or plan too long for an entitlement",
		    rec->session->id);
		return store_txn_note(t, PW_INTERNAL);
	}
	st = store_ent_active_find(t, key, keylen, id, sizeof(id));
	if (st == PW_NOT_FOUND) {
		st = store_ent_create(t, rec, customer, id);
		if (st == PW_OK) {
			st = store_raw_put(t, STORE_DB_ENT_INDEX, key, keylen, id, strlen(id), 0);
		}
		*created = st == PW_OK;
	} else if (st == PW_OK) {
		st = store_ent_link(t, rec, id);
	}
	if (st == PW_OK) {
		st = store_pbstr_set(&rec->access_key_id, id);
	}
	return st;
}

/* Drops the sealed key of e (memory of the unpacked record). */
static void
store_ent_wipe_sealed(Paywire__Store__V1__EntitlementRecord *e)
{
	if (e->sealed_key.data != NULL) {
		sodium_memzero(e->sealed_key.data, e->sealed_key.len);
		pw_free(e->sealed_key.data);
	}
	e->sealed_key.data = NULL;
	e->sealed_key.len = 0;
}

/* Removes the ent_index row of e if it still points at e. */
static pw_status
store_ent_unindex(store_txn *t, const Paywire__Store__V1__Session *sess,
    const Paywire__Store__V1__EntitlementRecord *e)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	char id[STORE_ENT_ID_BYTES];
	size_t keylen = 0;
	size_t len = 0;
	pw_status st;

	if (!store_ent_index_key(sess, key, sizeof(key), &keylen)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	st = store_raw_get(t, STORE_DB_ENT_INDEX, key, keylen, id, sizeof(id) - 1, &len);
	if (st == PW_NOT_FOUND) {
		return PW_OK;
	}
	if (st != PW_OK) {
		return st;
	}
	id[len] = '\0';
	if (strcmp(id, e->id) != 0) {
		return PW_OK; /* the index names another (active) entitlement */
	}
	return store_raw_del(t, STORE_DB_ENT_INDEX, key, keylen);
}

pw_status
store_entitlement_release(store_txn *t, const Paywire__Store__V1__Session *sess,
    Paywire__Store__V1__EntitlementRecord *e, Paywire__Store__V1__EntitlementState end,
    bool *ended)
{
	size_t at = 0;
	pw_status st;

	PW_ASSERT(t != NULL && sess != NULL && e != NULL && ended != NULL);
	PW_ASSERT(end == PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_CANCELED ||
	    end == PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED);
	*ended = false;
	if (!e->active) {
		return PW_OK; /* already ended */
	}
	st = store_ent_holders_init(e);
	if (st != PW_OK) {
		return st;
	}
	if (!store_ent_holder_find(e, sess->id, &at)) {
		return PW_OK; /* not a holder (released before, or past the holder bound) */
	}
	pw_free(e->holder_session_ids[at]);
	e->holder_session_ids[at] = e->holder_session_ids[e->n_holder_session_ids - 1];
	e->n_holder_session_ids--;
	if (e->n_holder_session_ids == 0) {
		/* no paid session holds it any more: the key goes */
		e->active = false;
		e->state = end;
		e->revoked_at_unix_ms = t->now_ms;
		store_ent_wipe_sealed(e);
		*ended = true;
	}
	st = store_entitlement_save(t, e);
	if (st == PW_OK && *ended) {
		st = store_ent_unindex(t, sess, e);
	}
	return st;
}

pw_status
store_entitlement_revoke(store_txn *t, Paywire__Store__V1__SessionRecord *rec, bool *revoked)
{
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && rec != NULL && rec->session != NULL && revoked != NULL);
	*revoked = false;
	if (!store_nonempty(rec->access_key_id)) {
		return PW_OK;
	}
	st = store_ent_of_session(t, rec, &e);
	if (st != PW_OK) {
		return st;
	}
	/* Another paid session holding it keeps it: its payment still stands
	 * (docs/PAYMENTS.md). */
	st = store_entitlement_release(t, rec->session, e,
	    PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED, revoked);
	paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	return st;
}

/* ---- the customer's access page ---- */

/* Opens the sealed key of e into *out (pw_malloc'd). PW_INTERNAL: wrong
 * size or MAC failure (logged, the key stays sealed); PW_RESOURCE_EXHAUSTED. */
static pw_status
store_ak_open(const store_keys *keys, const Paywire__Store__V1__EntitlementRecord *e, char **out)
{
	size_t clen;
	size_t mlen;
	char *m;

	if (e->sealed_key.len <= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
	    e->sealed_key.len > STORE_AK_SEALED_BYTES) {
		pw_log(PW_LOG_ERROR, "store: entitlement %s: sealed key has a wrong size", e->id);
		return PW_INTERNAL;
	}
	clen = e->sealed_key.len - crypto_secretbox_NONCEBYTES;
	mlen = clen - crypto_secretbox_MACBYTES;
	m = pw_malloc(mlen + 1);
	if (m == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	if (crypto_secretbox_open_easy((uint8_t *) m,
	        e->sealed_key.data + crypto_secretbox_NONCEBYTES, clen, e->sealed_key.data,
	        keys->secretbox_key) != 0) {
		pw_log(PW_LOG_ERROR, "store: entitlement %s: sealed key does not open", e->id);
		sodium_memzero(m, mlen + 1);
		pw_free(m);
		return PW_INTERNAL;
	}
	m[mlen] = '\0';
	*out = m;
	return PW_OK;
}

/* Copies src into a receipt's buffer dst[0..size). A string of a record that
 * does not fit is a corrupt record (the store wrote it within these sizes),
 * never a truncated answer. */
static pw_status
store_receipt_copy(char *dst, size_t size, const char *src, const char *what)
{
	PW_ASSERT(dst != NULL && size > 0);
	if (src == NULL) {
		src = "";
	}
	if (!pw_strlcpy(dst, src, size)) {
		pw_log(PW_LOG_ERROR, "store: access receipt: the record's %s is longer than %zu bytes",
		    what, size - 1);
		dst[0] = '\0';
		return PW_INTERNAL;
	}
	return PW_OK;
}

/* The first redemption with reveal set reveals the key into r and wipes its
 * sealed copy; without reveal it only says whether the key is still there. */
static pw_status
store_ent_reveal(store_txn *t, const Paywire__Store__V1__SessionRecord *rec, bool reveal,
    store_access_receipt *r)
{
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	char detail[128];
	char *key = NULL;
	pw_status st;

	st = store_ent_of_session(t, rec, &e);
	if (st != PW_OK) {
		return st;
	}
	r->entitlement_active = e->active;
	r->already_revealed = e->revealed;
	if (reveal && e->active && !e->revealed) {
		st = store_txn_note(t, store_ak_open(&t->s->keys, e, &key));
		if (st == PW_OK) {
			st = store_receipt_copy(r->access_key, sizeof(r->access_key), key, "access key");
		}
		if (st == PW_OK) {
			e->revealed = true;
			store_ent_wipe_sealed(e);
			st = store_rec_put(t, STORE_DB_ENTITLEMENTS, e->id, strlen(e->id), &e->base, 0,
			    NULL);
		}
		if (st == PW_OK) {
			snprintf(detail, sizeof(detail), "entitlement=%s", e->id);
			st = store_audit_append(t, "access.revealed", rec->session->merchant_id,
			    rec->session->id, detail);
		}
	}
	if (key != NULL) {
		sodium_memzero(key, strlen(key));
		pw_free(key);
	}
	paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	return st;
}

/* Copies the receipt fields of rec into r. */
static pw_status
store_redeem_fill(const Paywire__Store__V1__SessionRecord *rec, store_access_receipt *r)
{
	const Paywire__Store__V1__Session *s = rec->session;
	const char *plan = s->fulfillment != NULL && s->fulfillment->kind ==
	        PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY
	    ? s->fulfillment->plan
	    : "";
	pw_status st;

	r->status = s->status;
	r->amount_minor = s->amount_minor;
	r->paid_at_unix_ms = s->paid_at_unix_ms;
	r->invoice_number = rec->invoice_number;
	r->entitlement_active = rec->entitlement_active;
	st = store_receipt_copy(r->session_id, sizeof(r->session_id), s->id, "session id");
	if (st == PW_OK) {
		st = store_receipt_copy(r->merchant_id, sizeof(r->merchant_id), s->merchant_id,
		    "merchant id");
	}
	if (st == PW_OK) {
		st = store_receipt_copy(r->currency, sizeof(r->currency), s->currency, "currency");
	}
	if (st == PW_OK) {
		st = store_receipt_copy(r->access_key_id, sizeof(r->access_key_id),
		    rec->access_key_id, "access key id");
	}
	if (st == PW_OK) {
		st = store_receipt_copy(r->plan, sizeof(r->plan), plan, "plan");
	}
	if (st == PW_OK) {
		st = store_receipt_copy(r->customer_email, sizeof(r->customer_email),
		    s->customer_email, "customer email");
	}
	return st;
}

/* Whether token is the one in rec's current access link (a re-issued key
 * comes with a new link: the old one no longer opens the page). Constant time
 * for equal lengths; the lengths of JWTs are not secret. */
static bool
store_link_is_current(const Paywire__Store__V1__SessionRecord *rec, const char *token)
{
	const char *cur = store_nonempty(rec->access_link) ? strstr(rec->access_link, "?token=")
	                                                   : NULL;
	size_t len = strlen(token);

	if (cur == NULL) {
		return false;
	}
	cur += strlen("?token=");
	return strlen(cur) == len && sodium_memcmp(cur, token, len) == 0;
}

pw_status
store_access_redeem(store_txn *t, const char *session_id, const char *token, bool reveal,
    store_access_receipt *out)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	char merchant[PW_SESSION_ID_BYTES_MAX];
	pw_status st;

	PW_ASSERT(t != NULL && session_id != NULL && token != NULL && out != NULL);
	sodium_memzero(out, sizeof(*out)); /* a re-run may find an earlier run's key */
	st = store_token_verify(&t->s->keys, token, session_id, t->now_ms, merchant,
	    sizeof(merchant));
	if (st != PW_OK) {
		return st;
	}
	st = store_session_load(t, session_id, &rec);
	if (st != PW_OK) {
		return st;
	}
	PW_ASSERT(rec->session != NULL);
	if (strcmp(rec->session->merchant_id, merchant) != 0) {
		pw_log(PW_LOG_DEBUG, "store: access token refused: merchant_id claim is another merchant");
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
		return PW_UNAUTHENTICATED;
	}
	if (!store_link_is_current(rec, token)) {
		pw_log(PW_LOG_DEBUG, "store: access token refused: not the session's current link "
		                     "(re-issued)");
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
		return PW_UNAUTHENTICATED;
	}
	st = store_redeem_fill(rec, out);
	if (st == PW_OK) {
		st = store_merchant_name_in(t, merchant, out->merchant_name, sizeof(out->merchant_name));
		st = st == PW_NOT_FOUND ? store_txn_note(t, PW_INTERNAL) : st; /* a session's merchant */
	}
	if (st == PW_OK && store_nonempty(rec->access_key_id)) {
		st = store_ent_reveal(t, rec, reveal, out);
	}
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	if (st != PW_OK) {
		sodium_memzero(out, sizeof(*out)); /* no key leaves with an error */
	}
	return st;
}

/* ---- the merchant checks a customer's access key ---- */

/* Why an entitlement's key is not valid: its state, and for a revoked one
 * the session that sold it. */
static void
store_ak_why(store_txn *t, const Paywire__Store__V1__EntitlementRecord *e, char *out,
    size_t size)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	const char *what = "revoked";

	switch (store_entitlement_state_at(e, t->now_ms)) {
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_PAST_DUE:
		snprintf(out, size, "past_due: the subscription's latest payment failed");
		return;
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_LAPSED:
		snprintf(out, size, "lapsed: the subscription's paid period ended and no renewal "
		                    "was reported");
		return;
	case PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_CANCELED:
		snprintf(out, size, "canceled: the subscription ended");
		return;
	default:
		break;
	}
	if (store_session_load(t, e->session_id, &rec) == PW_OK && rec->session != NULL) {
		switch (rec->session->status) {
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_REFUNDED:
			what = rec->dispute == 3 ? "revoked: the payment's dispute was lost"
			                         : "revoked: the payment was refunded";
			break;
		case PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_DISPUTED:
			what = "revoked: the payment is disputed";
			break;
		default:
			break;
		}
	}
	snprintf(out, size, "%s", what);
	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
}

pw_status
store_access_key_verify(store *s, const char *merchant_id, const char *access_key,
    store_access_check *out)
{
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	char id[STORE_ENT_ID_BYTES];
	size_t len = strnlen(access_key, STORE_AK_BYTES + 1);
	size_t idlen = 0;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && access_key != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	snprintf(out->reason, sizeof(out->reason), "unknown access key");
	if (len != STORE_AK_BYTES) {
		return PW_OK; /* no key of ours has another length */
	}
	store_keyed_hash(hash, s->keys.access_pepper, access_key, len);
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_raw_get(&t, STORE_DB_AK_HASHES, hash, sizeof(hash), id, sizeof(id) - 1,
		    &idlen);
	}
	if (st == PW_OK) {
		id[idlen] = '\0';
		st = store_entitlement_load(&t, id, &e);
		if (st == PW_NOT_FOUND) {
			pw_log(PW_LOG_ERROR, "store: ak_hashes names missing entitlement %s", id);
			st = PW_INTERNAL;
		}
	}
	if (st == PW_OK && strcmp(e->merchant_id, merchant_id) == 0) {
		out->state = store_entitlement_state_at(e, t.now_ms);
		out->valid = e->active &&
		    out->state == PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE;
		out->until_unix_ms = e->subscription ? e->current_period_end_unix_ms : 0;
		(void) pw_strlcpy(out->entitlement_id, e->id, sizeof(out->entitlement_id));
		(void) pw_strlcpy(out->session_id, e->session_id, sizeof(out->session_id));
		(void) pw_strlcpy(out->customer, e->customer, sizeof(out->customer));
		(void) pw_strlcpy(out->plan, e->plan, sizeof(out->plan));
		out->granted_at_unix_ms = e->created_at_unix_ms;
		out->revoked_at_unix_ms = e->revoked_at_unix_ms;
		out->reason[0] = '\0';
		if (!out->valid) {
			store_ak_why(&t, e, out->reason, sizeof(out->reason));
		} else if (e->key_hash.len != sizeof(hash) ||
		    sodium_memcmp(e->key_hash.data, hash, sizeof(hash)) != 0) {
			out->valid = false; /* the entitlement lives on under a re-issued key */
			snprintf(out->reason, sizeof(out->reason),
			    "replaced: the merchant re-issued this customer's access key");
		}
	}
	store_read_end(&t);
	if (e != NULL) {
		paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	}
	sodium_memzero(hash, sizeof(hash));
	return st == PW_NOT_FOUND ? PW_OK : st; /* unknown: out says so */
}

/* ---- the merchant re-issues a lost key ---- */

pw_status
store_access_reissue(store_txn *t, const char *merchant_id, const char *session_id,
    Paywire__Store__V1__SessionRecord **out, char *prefix_out, size_t prefix_size, char *why,
    size_t why_size)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__EntitlementRecord *e = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	char prefix[STORE_AK_DISPLAY_BYTES + 1];
	char old_prefix[STORE_AK_DISPLAY_BYTES + 1];
	char detail[160];
	char *link = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && session_id != NULL && out != NULL);
	PW_ASSERT(why != NULL && why_size > 0 && prefix_out != NULL);
	PW_ASSERT(prefix_size > STORE_AK_DISPLAY_BYTES);
	*out = NULL;
	prefix_out[0] = '\0';
	why[0] = '\0';
	st = store_session_load(t, session_id, &rec);
	if (st == PW_OK && strcmp(rec->session->merchant_id, merchant_id) != 0) {
		st = PW_NOT_FOUND; /* another merchant's session is not there for this one */
	}
	if (st == PW_OK && !store_nonempty(rec->access_key_id)) {
		snprintf(why, why_size, "session %s sold no access key: nothing to re-issue", session_id);
		st = PW_FAILED_PRECONDITION;
	}
	if (st == PW_OK) {
		st = store_ent_of_session(t, rec, &e);
	}
	if (st == PW_OK && !e->active) {
		store_ak_why(t, e, detail, sizeof(detail));
		snprintf(why, why_size, "the access key of session %s is %s: a revoked key is not "
		                        "re-issued", session_id, detail);
		st = PW_FAILED_PRECONDITION;
	}
	if (st == PW_OK) {
		(void) pw_strlcpy(old_prefix, e->key_prefix, sizeof(old_prefix));
		store_ent_wipe_sealed(e);
		/* The mint points key_hash and key_prefix at our stack: free the
		 * unpacked ones first (protobuf-c frees each field on its own), and
		 * take ours back before the record is freed below. */
		pw_free(e->key_hash.data);
		e->key_hash.data = NULL;
		e->key_hash.len = 0;
		if (e->key_prefix != protobuf_c_empty_string) {
			pw_free(e->key_prefix);
		}
		e->key_prefix = NULL;
		st = store_ak_mint(&t->s->keys, rec->session->mode, e, hash, prefix);
	}
	if (st == PW_OK) {
		e->revealed = false;
		st = store_rec_put(t, STORE_DB_ENTITLEMENTS, e->id, strlen(e->id), &e->base, 0, NULL);
	}
	if (st == PW_OK) {
		st = store_raw_put(t, STORE_DB_AK_HASHES, hash, STORE_HASH_BYTES, e->id, strlen(e->id),
		    KV_PUT_INSERT | KV_PUT_FRESH);
		st = st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
	}
	if (st == PW_OK) {
		/* A new link: the old one (perhaps what the customer lost, or what
		 * leaked) no longer opens the page (store_link_is_current). */
		st = store_token_link_mint(&t->s->keys, merchant_id, session_id, t->now_ms, &link);
	}
	if (st == PW_OK) {
		st = store_pbstr_set(&rec->access_link, link);
	}
	if (st == PW_OK) {
		st = store_session_save(t, rec);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "entitlement=%s old=%s new=%s", e->id, old_prefix, prefix);
		st = store_audit_append(t, "access.reissued", merchant_id, session_id, detail);
	}
	if (link != NULL) {
		sodium_memzero(link, strlen(link));
		pw_free(link);
	}
	if (e != NULL) {
		if (e->sealed_key.data != NULL) {
			sodium_memzero(e->sealed_key.data, e->sealed_key.len);
			pw_free(e->sealed_key.data); /* the mint's, not the unpacked record's */
			e->sealed_key.data = NULL;
			e->sealed_key.len = 0;
		}
		if (e->key_hash.data == hash) {
			e->key_hash.data = NULL; /* our stack */
			e->key_hash.len = 0;
		}
		if (e->key_prefix == prefix) {
			e->key_prefix = NULL;
		}
		paywire__store__v1__entitlement_record__free_unpacked(e, NULL);
	}
	if (st == PW_OK) {
		(void) pw_strlcpy(prefix_out, prefix, prefix_size);
		*out = rec;
	} else if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	return st;
}
