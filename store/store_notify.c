/*
 * store_notify.c - outbound notifications to merchants (issue 11,
 * docs/NOTIFY.md): their endpoints, the outbox written in the same
 * transaction as the change it tells, the due index the delivery worker
 * scans, and the dead letters.
 *
 * TABLES
 *   notify_endpoints  merchant_id 0x00 endpoint_id      NotifyEndpointRecord
 *   notify_outbox     msg_id                            OutboxMessageRecord
 *   notify_due        be64(next_attempt_at_unix_ms) msg_id  (empty)
 *   notify_dead       msg_id                            OutboxMessageRecord
 *
 * THE OUTBOX IS WRITTEN WITH THE CHANGE
 * store_audit_append_seq calls store_notify_on_audit in the change's own
 * transaction: when the audit action maps to a notification type (see
 * store_notify_type_of) and the merchant has active endpoints wanting it, one
 * message per endpoint is put in the outbox and the due index, due at once.
 * A change that rolls back takes its messages with it.
 *
 * MESSAGE IDS
 * msg_id = "msg_" + hex of the first 16 bytes of BLAKE2b-256("paywire notify
 * msg" 0x00 endpoint_id 0x00 be64(audit seq)): one id per event and endpoint,
 * the same when the event is replayed, so receivers dedupe.
 *
 * SECRETS
 * whsec_ + base64(24 random bytes), sealed like provider credentials
 * (store_creds.c): XChaCha20-Poly1305 under the creds sub-key with a random
 * nonce and ad = "paywire.v1 notify endpoint" 0x00 merchant_id 0x00
 * endpoint_id. The records handed out of the store never carry the sealed
 * bytes; nothing here logs or audits a secret.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTIFY_AD_CONTEXT "paywire.v1 notify endpoint"
#define NOTIFY_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define NOTIFY_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define NOTIFY_EP_PREFIX "ep_"
#define NOTIFY_MSG_PREFIX "msg_"
#define NOTIFY_KEY_BYTES (PW_REPLY_SCOPE_BYTES_MAX + 1 + STORE_NOTIFY_ID_BYTES)
#define NOTIFY_AD_BYTES (sizeof(NOTIFY_AD_CONTEXT) + NOTIFY_KEY_BYTES)

typedef Paywire__Store__V1__NotifyEndpointRecord ep_rec;
typedef Paywire__Store__V1__OutboxMessageRecord ob_rec;

/* ---- event types ---- */

static const char *const notify_types[] = {
	"session.paid", "session.failed", "session.expired", "session.canceled",
	"session.refunded", "entitlement.granted", "entitlement.revoked",
	"entitlement.past_due", "credits.changed", "endpoint.disabled",
};

/* audit action -> notification type (docs/NOTIFY.md "Event types") */
static const struct {
	const char *action;
	const char *type;
} notify_map[] = {
	{ "session.paid", "session.paid" },
	{ "session.failed", "session.failed" },
	{ "session.expired", "session.expired" },
	{ "session.canceled", "session.canceled" },
	{ "session.refunded", "session.refunded" },
	{ "session.partially_refunded", "session.refunded" },
	{ "entitlement.extended", "entitlement.granted" },
	{ "entitlement.revoked", "entitlement.revoked" },
	{ "entitlement.released", "entitlement.revoked" },
	{ "entitlement.past_due", "entitlement.past_due" },
	{ "credits.deducted", "credits.changed" },
	{ "credits.granted", "credits.changed" },
	{ "endpoint.disabled", "endpoint.disabled" },
};

const char *const *
store_notify_types(size_t *n)
{
	*n = sizeof(notify_types) / sizeof(notify_types[0]);
	return notify_types;
}

const char *
store_notify_type_of(const char *action)
{
	for (size_t i = 0; action != NULL && i < sizeof(notify_map) / sizeof(notify_map[0]); i++) {
		if (strcmp(notify_map[i].action, action) == 0) {
			return notify_map[i].type;
		}
	}
	return NULL;
}

static bool
notify_type_known(const char *type)
{
	for (size_t i = 0; i < sizeof(notify_types) / sizeof(notify_types[0]); i++) {
		if (strcmp(notify_types[i], type) == 0) {
			return true;
		}
	}
	return false;
}

pw_status
store_notify_types_check(const char *const *types, size_t n, char *why, size_t why_size)
{
	if (n > PW_NOTIFY_TYPES_MAX) {
		snprintf(why, why_size, "at most %d event types per endpoint", PW_NOTIFY_TYPES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < n; i++) {
		if (types[i] == NULL || strlen(types[i]) > PW_NOTIFY_TYPE_BYTES_MAX ||
		    !notify_type_known(types[i])) {
			snprintf(why, why_size, "unknown event type '%.40s' (known: session.paid, "
			    "session.failed, session.expired, session.canceled, session.refunded, "
			    "entitlement.granted, entitlement.revoked, entitlement.past_due, "
			    "credits.changed, endpoint.disabled)", types[i] != NULL ? types[i] : "");
			return PW_INVALID_ARGUMENT;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(types[i], types[j]) == 0) {
				snprintf(why, why_size, "event type %s given twice", types[i]);
				return PW_INVALID_ARGUMENT;
			}
		}
	}
	return PW_OK;
}

static bool
notify_wants(const ep_rec *ep, const char *type)
{
	if (ep->n_event_types == 0) {
		return true;
	}
	for (size_t i = 0; i < ep->n_event_types; i++) {
		if (strcmp(ep->event_types[i], type) == 0) {
			return true;
		}
	}
	return false;
}

/* ---- keys ---- */

static pw_status
ep_key(const char *merchant_id, const char *endpoint_id, uint8_t *key, size_t *len)
{
	if (merchant_id == NULL || endpoint_id == NULL || merchant_id[0] == '\0' ||
	    endpoint_id[0] == '\0' || strlen(merchant_id) > PW_REPLY_SCOPE_BYTES_MAX ||
	    strlen(endpoint_id) >= STORE_NOTIFY_ID_BYTES ||
	    !store_key_join(key, NOTIFY_KEY_BYTES, merchant_id, endpoint_id, len)) {
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

static size_t
due_key(uint8_t *key, int64_t at_ms, const char *msg_id)
{
	size_t n = strlen(msg_id);

	PW_ASSERT(n < STORE_NOTIFY_ID_BYTES);
	store_be64_put(key, (uint64_t) (at_ms < 0 ? 0 : at_ms));
	memcpy(key + 8, msg_id, n);
	return 8 + n;
}

static void
notify_msg_id(char out[STORE_NOTIFY_ID_BYTES], const char *endpoint_id, uint64_t seq)
{
	static const char ctx[] = "paywire notify msg";
	crypto_generichash_state h;
	uint8_t be[8];
	uint8_t digest[32];
	const uint8_t zero = 0;

	crypto_generichash_init(&h, NULL, 0, sizeof(digest));
	crypto_generichash_update(&h, (const uint8_t *) ctx, sizeof(ctx) - 1);
	crypto_generichash_update(&h, &zero, 1);
	crypto_generichash_update(&h, (const uint8_t *) endpoint_id, strlen(endpoint_id));
	crypto_generichash_update(&h, &zero, 1);
	store_be64_put(be, seq);
	crypto_generichash_update(&h, be, sizeof(be));
	crypto_generichash_final(&h, digest, sizeof(digest));
	memcpy(out, NOTIFY_MSG_PREFIX, sizeof(NOTIFY_MSG_PREFIX) - 1);
	sodium_bin2hex(out + sizeof(NOTIFY_MSG_PREFIX) - 1,
	    STORE_NOTIFY_ID_BYTES - (sizeof(NOTIFY_MSG_PREFIX) - 1), digest, 16);
}

/* ---- secrets ---- */

static size_t
ep_ad(uint8_t *ad, const char *merchant_id, const char *endpoint_id)
{
	size_t m = strlen(merchant_id);
	size_t e = strlen(endpoint_id);
	size_t n = 0;

	memcpy(ad, NOTIFY_AD_CONTEXT, sizeof(NOTIFY_AD_CONTEXT));
	n = sizeof(NOTIFY_AD_CONTEXT); /* its NUL is the separator */
	memcpy(ad + n, merchant_id, m);
	n += m;
	ad[n++] = 0;
	memcpy(ad + n, endpoint_id, e);
	return n + e;
}

/* A new secret into out, sealed into nonce/sealed. */
static void
ep_secret_new(store_txn *t, const char *merchant_id, const char *endpoint_id,
    char out[PW_NOTIFY_SECRET_BYTES], uint8_t nonce[NOTIFY_NONCE_BYTES],
    uint8_t sealed[PW_NOTIFY_SECRET_BYTES + NOTIFY_TAG_BYTES], size_t *sealed_len)
{
	uint8_t raw[PW_NOTIFY_SECRET_RAW_BYTES];
	uint8_t ad[NOTIFY_AD_BYTES];
	unsigned long long slen = 0;
	size_t ad_len;

	pw_random(raw, sizeof(raw));
	memcpy(out, "whsec_", 6);
	sodium_bin2base64(out + 6, PW_NOTIFY_SECRET_BYTES - 6, raw, sizeof(raw),
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(raw, sizeof(raw));
	pw_random(nonce, NOTIFY_NONCE_BYTES);
	ad_len = ep_ad(ad, merchant_id, endpoint_id);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, &slen, (const uint8_t *) out,
	    strlen(out), ad, ad_len, NULL, nonce, t->s->keys.creds_key);
	*sealed_len = (size_t) slen;
}

static pw_status
ep_secret_open(store *s, const ep_rec *r, const ProtobufCBinaryData *nonce,
    const ProtobufCBinaryData *sealed, char out[PW_NOTIFY_SECRET_BYTES])
{
	uint8_t ad[NOTIFY_AD_BYTES];
	unsigned long long mlen = 0;
	size_t ad_len;

	if (nonce->len != NOTIFY_NONCE_BYTES || sealed->len <= NOTIFY_TAG_BYTES ||
	    sealed->len - NOTIFY_TAG_BYTES >= PW_NOTIFY_SECRET_BYTES) {
		return PW_INTERNAL;
	}
	ad_len = ep_ad(ad, r->merchant_id, r->endpoint_id);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *) out, &mlen, NULL, sealed->data,
	        sealed->len, ad, ad_len, nonce->data, s->keys.creds_key) != 0) {
		pw_log(PW_LOG_ERROR, "store: the secret of endpoint %s of merchant %s does not open "
		    "(tampered or copied record, or another paywire.key): rotate it",
		    r->endpoint_id, r->merchant_id);
		sodium_memzero(out, PW_NOTIFY_SECRET_BYTES);
		return PW_INTERNAL;
	}
	out[mlen] = '\0';
	return PW_OK;
}

/* Drops the sealed bytes from a record handed out. */
static void
ep_strip(ep_rec *r)
{
	if (r->sealed.data != NULL) {
		sodium_memzero(r->sealed.data, r->sealed.len);
	}
	if (r->prev_sealed.data != NULL) {
		sodium_memzero(r->prev_sealed.data, r->prev_sealed.len);
	}
	r->sealed.len = 0;
	r->nonce.len = 0;
	r->prev_sealed.len = 0;
	r->prev_nonce.len = 0;
}

void
store_endpoint_free(ep_rec *r)
{
	if (r != NULL) {
		ep_strip(r);
		paywire__store__v1__notify_endpoint_record__free_unpacked(r, NULL);
	}
}

static pw_status
ep_load(store_txn *t, const char *merchant_id, const char *endpoint_id, ep_rec **out)
{
	uint8_t key[NOTIFY_KEY_BYTES];
	size_t len = 0;

	*out = NULL;
	if (ep_key(merchant_id, endpoint_id, key, &len) != PW_OK) {
		return PW_NOT_FOUND;
	}
	return store_rec_get(t, STORE_DB_NOTIFY_ENDPOINTS, key, len,
	    &paywire__store__v1__notify_endpoint_record__descriptor, (void **) out);
}

static pw_status
ep_save(store_txn *t, ep_rec *r)
{
	uint8_t key[NOTIFY_KEY_BYTES];
	size_t len = 0;

	PW_ASSERT(ep_key(r->merchant_id, r->endpoint_id, key, &len) == PW_OK);
	r->updated_at_unix_ms = t->now_ms;
	return store_rec_put(t, STORE_DB_NOTIFY_ENDPOINTS, key, len, &r->base, 0, NULL);
}

/* A copy without its sealed bytes, for the caller. */
static pw_status
ep_out(const ep_rec *r, ep_rec **out)
{
	pw_status st = store_msg_dup(&r->base, (void **) out);

	if (st == PW_OK) {
		ep_strip(*out);
	}
	return st;
}

/* ---- a merchant's endpoints ---- */

typedef struct ep_walk {
	const char *merchant_id;
	size_t mlen;
	ep_rec **list;   /* PW_NOTIFY_ENDPOINTS_MAX slots, or NULL: count only */
	size_t n;
	size_t seen;
} ep_walk;

static pw_status
ep_visit(kv_val k, kv_val v, store_scan_step *step, void *arg)
{
	ep_walk *w = arg;
	pw_status st;

	if (k.len <= w->mlen || memcmp(k.data, w->merchant_id, w->mlen) != 0 ||
	    ((const uint8_t *) k.data)[w->mlen] != 0) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->seen++;
	if (w->list == NULL) {
		return PW_OK;
	}
	if (w->n == PW_NOTIFY_ENDPOINTS_MAX) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	st = store_msg_unpack(&paywire__store__v1__notify_endpoint_record__descriptor, v.data, v.len,
	    (void **) &w->list[w->n]);
	if (st == PW_OK) {
		w->n++;
	}
	return st;
}

static pw_status
ep_scan(store_txn *t, ep_walk *w)
{
	uint8_t from[PW_REPLY_SCOPE_BYTES_MAX + 1];

	w->mlen = strlen(w->merchant_id);
	if (w->mlen == 0 || w->mlen > PW_REPLY_SCOPE_BYTES_MAX) {
		return PW_OK;
	}
	memcpy(from, w->merchant_id, w->mlen);
	from[w->mlen] = 0;
	return store_scan(t, STORE_DB_NOTIFY_ENDPOINTS,
	    (kv_val){ .data = from, .len = w->mlen + 1 }, ep_visit, w);
}

void
store_endpoint_list_free(ep_rec **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		store_endpoint_free(list[i]);
	}
	pw_free(list);
}

static pw_status
ep_list_txn(store_txn *t, const char *merchant_id, ep_rec ***out, size_t *n)
{
	ep_walk w = { .merchant_id = merchant_id };
	pw_status st;

	*out = NULL;
	*n = 0;
	w.list = pw_calloc(PW_NOTIFY_ENDPOINTS_MAX, sizeof(*w.list));
	if (w.list == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = ep_scan(t, &w);
	if (st != PW_OK) {
		store_endpoint_list_free(w.list, w.n);
		return st;
	}
	*out = w.list;
	*n = w.n;
	return PW_OK;
}

pw_status
store_endpoint_list(store *s, const char *merchant_id, ep_rec ***out, size_t *n)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n != NULL);
	*out = NULL;
	*n = 0;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = ep_list_txn(&t, merchant_id, out, n);
	}
	store_read_end(&t);
	if (st == PW_OK) {
		for (size_t i = 0; i < *n; i++) {
			ep_strip((*out)[i]);
		}
	}
	return st;
}

pw_status
store_endpoint_get(store *s, const char *merchant_id, const char *endpoint_id, ep_rec **out,
    store_notify_secrets *sec)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL);
	*out = NULL;
	if (sec != NULL) {
		sodium_memzero(sec, sizeof(*sec));
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = ep_load(&t, merchant_id, endpoint_id, out);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		return st;
	}
	if (sec != NULL) {
		st = ep_secret_open(s, *out, &(*out)->nonce, &(*out)->sealed, sec->current);
		if (st == PW_OK && (*out)->prev_sealed.len > 0 &&
		    (*out)->prev_expires_at_unix_ms > pw_now_unix_ms()) {
			st = ep_secret_open(s, *out, &(*out)->prev_nonce, &(*out)->prev_sealed,
			    sec->previous);
			sec->has_previous = st == PW_OK;
		}
		if (st != PW_OK) {
			sodium_memzero(sec, sizeof(*sec));
			store_endpoint_free(*out);
			*out = NULL;
			return st;
		}
	}
	ep_strip(*out);
	return PW_OK;
}

static pw_status
ep_url_check(const char *url, char *why, size_t why_size)
{
	size_t n = url != NULL ? strlen(url) : 0;

	if (n == 0 || n > PW_NOTIFY_URL_BYTES_MAX || !pw_utf8_valid(url, n) ||
	    (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strpbrk(url, " \t\r\n") != NULL) {
		snprintf(why, why_size, "url must be an http(s) URL of at most %d bytes without "
		    "spaces", PW_NOTIFY_URL_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* A Telegram chat id: -?digits (a user, group or channel id) or @name. */
static bool
ep_chat_ok(const char *u, size_t n)
{
	size_t i = u[0] == '-' ? 1 : 0;

	if (u[0] == '@') {
		if (n < 6 || n > 33) {
			return false;
		}
		for (i = 1; i < n; i++) {
			char ch = u[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			        (ch >= '0' && ch <= '9') || ch == '_')) {
				return false;
			}
		}
		return true;
	}
	if (n <= i || n - i > 20) {
		return false;
	}
	for (; i < n; i++) {
		if (u[i] < '0' || u[i] > '9') {
			return false;
		}
	}
	return true;
}

pw_status
store_notify_target_check(Paywire__Store__V1__NotifyEndpointKind kind, const char *url, char *why,
    size_t why_size)
{
	size_t n = url != NULL ? strlen(url) : 0;
	const char *at = n > 0 ? strchr(url, '@') : NULL;

	switch (kind) {
	case PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK:
		return ep_url_check(url, why, why_size);
	case PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL:
		/* the shape; the sender's subset (prov_smtp_addr_ok) is the server's check */
		if (n == 0 || n > PW_NOTIFY_ADDR_BYTES_MAX || at == NULL || at == url ||
		    at[1] == '\0' || strchr(at + 1, '@') != NULL ||
		    strpbrk(url, " \t\r\n<>\"(),;:\\") != NULL || !pw_utf8_valid(url, n)) {
			snprintf(why, why_size, "an EMAIL endpoint's url is an address local@domain of at "
			    "most %d bytes", PW_NOTIFY_ADDR_BYTES_MAX);
			return PW_INVALID_ARGUMENT;
		}
		return PW_OK;
	case PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM:
		if (n == 0 || n > PW_NOTIFY_TELEGRAM_CHAT_BYTES_MAX || !ep_chat_ok(url, n)) {
			snprintf(why, why_size, "a TELEGRAM endpoint's url is a chat id: an integer "
			    "(-100... for a channel) or @channelname");
			return PW_INVALID_ARGUMENT;
		}
		return PW_OK;
	default:
		snprintf(why, why_size, "kind must be WEBHOOK, EMAIL or TELEGRAM");
		return PW_INVALID_ARGUMENT;
	}
}

static pw_status
ep_desc_check(const char *d, char *why, size_t why_size)
{
	size_t n = d != NULL ? strlen(d) : 0;

	if (n > PW_NOTIFY_DESCRIPTION_BYTES_MAX || (n > 0 && !pw_utf8_valid(d, n))) {
		snprintf(why, why_size, "description must be at most %d bytes of UTF-8",
		    PW_NOTIFY_DESCRIPTION_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

pw_status
store_endpoint_create(store_txn *t, const char *merchant_id, const store_endpoint_in *in,
    ep_rec **out, char secret[PW_NOTIFY_SECRET_BYTES], char *why, size_t why_size)
{
	ep_rec rec = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_RECORD__INIT;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	uint8_t nonce[NOTIFY_NONCE_BYTES];
	uint8_t sealed[PW_NOTIFY_SECRET_BYTES + NOTIFY_TAG_BYTES];
	char id[STORE_NOTIFY_ID_BYTES];
	char detail[PW_NOTIFY_URL_BYTES_MAX + 128];
	size_t sealed_len = 0;
	ep_walk w = { .merchant_id = merchant_id };
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && in != NULL && out != NULL && secret != NULL);
	*out = NULL;
	why[0] = '\0';
	secret[0] = '\0';
	st = store_notify_target_check(in->kind, in->url, why, why_size);
	if (st == PW_OK) {
		st = ep_desc_check(in->description, why, why_size);
	}
	if (st == PW_OK) {
		st = store_notify_types_check(in->types, in->n_types, why, why_size);
	}
	if (st != PW_OK) {
		return st;
	}
	st = store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
	    &paywire__store__v1__merchant_record__descriptor, (void **) &m);
	if (st == PW_NOT_FOUND) {
		snprintf(why, why_size, "no merchant %s", merchant_id);
	}
	if (st != PW_OK) {
		return st;
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	st = ep_scan(t, &w);
	if (st != PW_OK) {
		return st;
	}
	if (w.seen >= PW_NOTIFY_ENDPOINTS_MAX) {
		snprintf(why, why_size, "merchant %s has %d endpoints already (the most): delete one "
		    "first", merchant_id, PW_NOTIFY_ENDPOINTS_MAX);
		return PW_RESOURCE_EXHAUSTED;
	}
	pw_id_new(id, sizeof(id), NOTIFY_EP_PREFIX, t->now_ms);
	ep_secret_new(t, merchant_id, id, secret, nonce, sealed, &sealed_len);
	rec.merchant_id = (char *) merchant_id;
	rec.endpoint_id = id;
	rec.kind = in->kind;
	rec.url = (char *) in->url;
	rec.event_types = (char **) in->types;
	rec.n_event_types = in->n_types;
	rec.description = (char *) (in->description != NULL ? in->description : "");
	rec.state = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE;
	rec.nonce.data = nonce;
	rec.nonce.len = sizeof(nonce);
	rec.sealed.data = sealed;
	rec.sealed.len = sealed_len;
	rec.created_at_unix_ms = t->now_ms;
	st = ep_save(t, &rec);
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "endpoint=%s url=%s types=%zu", id, in->url,
		    in->n_types);
		st = store_audit_append(t, "endpoint.created", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		st = ep_out(&rec, out);
	}
	sodium_memzero(sealed, sizeof(sealed));
	if (st != PW_OK) {
		sodium_memzero(secret, PW_NOTIFY_SECRET_BYTES);
	}
	return st;
}

pw_status
store_endpoint_update(store_txn *t, const char *merchant_id, const store_endpoint_update_in *in,
    ep_rec **out, char *why, size_t why_size)
{
	ep_rec *r = NULL;
	char detail[160];
	pw_status st;

	PW_ASSERT(t != NULL && in != NULL && out != NULL);
	*out = NULL;
	why[0] = '\0';
	if (in->enable < 0 || in->enable > 2) {
		snprintf(why, why_size, "enable must be 0 (keep), 1 (enable) or 2 (disable)");
		return PW_INVALID_ARGUMENT;
	}
	if (in->set_types) {
		st = store_notify_types_check(in->types, in->n_types, why, why_size);
		if (st != PW_OK) {
			return st;
		}
	}
	if (in->set_description) {
		st = ep_desc_check(in->description, why, why_size);
		if (st != PW_OK) {
			return st;
		}
	}
	st = ep_load(t, merchant_id, in->endpoint_id, &r);
	if (st == PW_NOT_FOUND) {
		snprintf(why, why_size, "no endpoint %.64s", in->endpoint_id);
	}
	if (st != PW_OK) {
		return st;
	}
	char **old_types = r->event_types;
	size_t old_n = r->n_event_types;
	char *old_desc = r->description;
	char *old_reason = r->disabled_reason;
	if (in->set_types) {
		r->event_types = (char **) in->types;
		r->n_event_types = in->n_types;
	}
	if (in->set_description) {
		r->description = (char *) (in->description != NULL ? in->description : "");
	}
	if (in->enable == 1) {
		r->state = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE;
		r->disabled_reason = (char *) "";
		r->disabled_at_unix_ms = 0;
		r->failing_since_unix_ms = 0;
	} else if (in->enable == 2 &&
	    r->state != PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_DISABLED) {
		r->state = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_DISABLED;
		r->disabled_reason = (char *) "disabled by the merchant";
		r->disabled_at_unix_ms = t->now_ms;
	}
	st = ep_save(t, r);
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "endpoint=%s enable=%d types=%s description=%s",
		    r->endpoint_id, in->enable, in->set_types ? "set" : "kept",
		    in->set_description ? "set" : "kept");
		st = store_audit_append(t, "endpoint.updated", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		st = ep_out(r, out);
	}
	r->event_types = old_types;
	r->n_event_types = old_n;
	r->description = old_desc;
	r->disabled_reason = old_reason;
	store_endpoint_free(r);
	return st;
}

pw_status
store_endpoint_delete(store_txn *t, const char *merchant_id, const char *endpoint_id,
    ep_rec **out)
{
	uint8_t key[NOTIFY_KEY_BYTES];
	size_t len = 0;
	ep_rec *r = NULL;
	char detail[96];
	pw_status st;

	PW_ASSERT(t != NULL && out != NULL);
	*out = NULL;
	st = ep_load(t, merchant_id, endpoint_id, &r);
	if (st != PW_OK) {
		return st;
	}
	PW_ASSERT(ep_key(merchant_id, endpoint_id, key, &len) == PW_OK);
	st = store_raw_del(t, STORE_DB_NOTIFY_ENDPOINTS, key, len);
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "endpoint=%s", endpoint_id);
		st = store_audit_append(t, "endpoint.deleted", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		ep_strip(r);
		*out = r;
		return PW_OK;
	}
	store_endpoint_free(r);
	return st;
}

pw_status
store_endpoint_rotate(store_txn *t, const char *merchant_id, const char *endpoint_id,
    int64_t grace_ms, ep_rec **out, char secret[PW_NOTIFY_SECRET_BYTES])
{
	uint8_t nonce[NOTIFY_NONCE_BYTES];
	uint8_t sealed[PW_NOTIFY_SECRET_BYTES + NOTIFY_TAG_BYTES];
	size_t sealed_len = 0;
	ProtobufCBinaryData on;
	ProtobufCBinaryData os;
	ProtobufCBinaryData pn;
	ProtobufCBinaryData ps;
	ep_rec *r = NULL;
	char detail[128];
	pw_status st;

	PW_ASSERT(t != NULL && out != NULL && secret != NULL);
	*out = NULL;
	secret[0] = '\0';
	if (grace_ms < 0 || grace_ms > PW_NOTIFY_GRACE_MS_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	if (grace_ms == 0) {
		grace_ms = PW_NOTIFY_GRACE_MS_DEFAULT;
	}
	st = ep_load(t, merchant_id, endpoint_id, &r);
	if (st != PW_OK) {
		return st;
	}
	ep_secret_new(t, merchant_id, endpoint_id, secret, nonce, sealed, &sealed_len);
	on = r->nonce;
	os = r->sealed;
	pn = r->prev_nonce;
	ps = r->prev_sealed;
	r->prev_nonce = on;
	r->prev_sealed = os;
	r->prev_expires_at_unix_ms = t->now_ms + grace_ms;
	r->nonce.data = nonce;
	r->nonce.len = sizeof(nonce);
	r->sealed.data = sealed;
	r->sealed.len = sealed_len;
	st = ep_save(t, r);
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "endpoint=%s grace_ms=%lld", endpoint_id,
		    (long long) grace_ms);
		st = store_audit_append(t, "endpoint.secret_rotated", merchant_id, NULL, detail);
	}
	if (st == PW_OK) {
		st = ep_out(r, out);
	}
	/* give the record back what it owns, for its free */
	r->nonce = on;
	r->sealed = os;
	r->prev_nonce = pn;
	r->prev_sealed = ps;
	sodium_memzero(sealed, sizeof(sealed));
	store_endpoint_free(r);
	if (st != PW_OK) {
		sodium_memzero(secret, PW_NOTIFY_SECRET_BYTES);
	}
	return st;
}

/* ---- the outbox ---- */

/* JSON string body of s (escaped, no quotes) appended to b. */
static void
json_esc(char *b, size_t size, size_t *n, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
		char tmp[8];
		size_t k = 0;

		if (*p == '"' || *p == '\\') {
			tmp[k++] = '\\';
			tmp[k++] = (char) *p;
		} else if (*p < 0x20) {
			tmp[k++] = '\\';
			tmp[k++] = 'u';
			tmp[k++] = '0';
			tmp[k++] = '0';
			tmp[k++] = hex[*p >> 4];
			tmp[k++] = hex[*p & 0xf];
		} else {
			tmp[k++] = (char) *p;
		}
		if (*n + k + 1 > size) {
			return;
		}
		memcpy(b + *n, tmp, k);
		*n += k;
	}
	b[*n] = '\0';
}

static void
json_add(char *b, size_t size, size_t *n, const char *s)
{
	size_t k = strlen(s);

	if (*n + k + 1 <= size) {
		memcpy(b + *n, s, k);
		*n += k;
		b[*n] = '\0';
	}
}

/* The Standard Webhooks payload: {"type","timestamp","data":{…}}. */
static void
notify_payload(char *b, size_t size, const char *type, int64_t at_ms, const char *merchant_id,
    const char *session_id, uint64_t seq, const char *action, const char *detail)
{
	char ts[96];
	char num[32];
	time_t secs = (time_t) (at_ms / 1000);
	struct tm tm;
	size_t n = 0;

	gmtime_r(&secs, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (at_ms % 1000));
	b[0] = '\0';
	json_add(b, size, &n, "{\"type\":\"");
	json_esc(b, size, &n, type);
	json_add(b, size, &n, "\",\"timestamp\":\"");
	json_add(b, size, &n, ts);
	json_add(b, size, &n, "\",\"data\":{\"merchant_id\":\"");
	json_esc(b, size, &n, merchant_id);
	json_add(b, size, &n, "\",\"session_id\":\"");
	json_esc(b, size, &n, session_id);
	snprintf(num, sizeof(num), "\",\"seq\":%llu", (unsigned long long) seq);
	json_add(b, size, &n, num);
	json_add(b, size, &n, ",\"action\":\"");
	json_esc(b, size, &n, action);
	json_add(b, size, &n, "\",\"detail\":\"");
	json_esc(b, size, &n, detail);
	json_add(b, size, &n, "\"}}");
}

static pw_status
ob_put(store_txn *t, ob_rec *m, unsigned flags)
{
	uint8_t dk[8 + STORE_NOTIFY_ID_BYTES];
	pw_status st = store_rec_put(t, STORE_DB_NOTIFY_OUTBOX, m->msg_id, strlen(m->msg_id),
	    &m->base, flags, NULL);

	if (st != PW_OK) {
		return st;
	}
	return store_raw_put(t, STORE_DB_NOTIFY_DUE, dk, due_key(dk, m->next_attempt_at_unix_ms,
	    m->msg_id), m->endpoint_id, strlen(m->endpoint_id), 0);
}

/* One message of the event (seq, action...) to endpoint ep, due now. An id
 * already in the outbox is left as it is (*added false). */
static pw_status
ob_enqueue(store_txn *t, const ep_rec *ep, const char *type, uint64_t seq, int64_t at_ms,
    const char *session_id, const char *action, const char *detail, bool *added)
{
	ob_rec m = PAYWIRE__STORE__V1__OUTBOX_MESSAGE_RECORD__INIT;
	char id[STORE_NOTIFY_ID_BYTES];
	char payload[PW_NOTIFY_PAYLOAD_BYTES_MAX];
	pw_status st;

	*added = false;
	notify_msg_id(id, ep->endpoint_id, seq);
	notify_payload(payload, sizeof(payload), type, at_ms, ep->merchant_id, session_id, seq,
	    action, detail);
	m.msg_id = id;
	m.merchant_id = ep->merchant_id;
	m.endpoint_id = ep->endpoint_id;
	m.event_type = (char *) type;
	m.payload = payload;
	m.audit_seq = seq;
	m.next_attempt_at_unix_ms = t->now_ms;
	m.created_at_unix_ms = t->now_ms;
	m.event_at_unix_ms = at_ms;
	st = store_rec_put(t, STORE_DB_NOTIFY_OUTBOX, id, strlen(id), &m.base, KV_PUT_INSERT, NULL);
	if (st == PW_ALREADY_EXISTS) {
		return PW_OK;
	}
	if (st != PW_OK) {
		return st;
	}
	uint8_t dk[8 + STORE_NOTIFY_ID_BYTES];
	st = store_raw_put(t, STORE_DB_NOTIFY_DUE, dk, due_key(dk, m.next_attempt_at_unix_ms, id),
	    ep->endpoint_id, strlen(ep->endpoint_id), 0);
	if (st == PW_OK) {
		st = store_raw_del(t, STORE_DB_NOTIFY_DEAD, id, strlen(id));
		st = st == PW_NOT_FOUND ? PW_OK : st;
	}
	*added = st == PW_OK;
	return st;
}

pw_status
store_notify_on_audit(store_txn *t, uint64_t seq, const char *action, const char *merchant_id,
    const char *session_id, const char *detail)
{
	const char *type = store_notify_type_of(action);
	ep_rec **eps = NULL;
	size_t n = 0;
	bool added = false;
	pw_status st;

	if (type == NULL || merchant_id == NULL || merchant_id[0] == '\0') {
		return PW_OK;
	}
	st = ep_list_txn(t, merchant_id, &eps, &n);
	for (size_t i = 0; st == PW_OK && i < n; i++) {
		if (eps[i]->state == PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE &&
		    notify_wants(eps[i], type)) {
			st = ob_enqueue(t, eps[i], type, seq, t->now_ms, session_id != NULL ? session_id : "",
			    action, detail != NULL ? detail : "", &added);
		}
	}
	store_endpoint_list_free(eps, n);
	return st;
}

/* ---- the worker's side ---- */

typedef struct due_walk {
	int64_t now_ms;
	size_t max;
	store_outbox_skip_fn skip;
	void *skip_arg;
	size_t examined;
	char (*ids)[STORE_NOTIFY_ID_BYTES];
	size_t n;
	int64_t next_ms; /* the first due time past now; 0 none */
} due_walk;

static pw_status
due_visit(kv_val k, kv_val v, store_scan_step *step, void *arg)
{
	due_walk *w = arg;
	int64_t at;

	if (k.len <= 8 || k.len - 8 >= STORE_NOTIFY_ID_BYTES) {
		pw_log(PW_LOG_ERROR, "store: notify_due key of %zu bytes (corrupt)", k.len);
		return PW_INTERNAL;
	}
	at = (int64_t) store_be64_get(k.data);
	if (at > w->now_ms || w->n == w->max || w->examined == PW_LIST_SCAN_MAX) {
		w->next_ms = at;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->examined++;
	memcpy(w->ids[w->n], (const uint8_t *) k.data + 8, k.len - 8);
	w->ids[w->n][k.len - 8] = '\0';
	if (w->skip != NULL) {
		char ep[STORE_NOTIFY_ID_BYTES];
		size_t n = v.len < sizeof(ep) - 1 ? v.len : sizeof(ep) - 1;

		memcpy(ep, v.data, n); /* "" for entries written before the value held it */
		ep[n] = '\0';
		if (w->skip(ep, w->ids[w->n], w->skip_arg)) {
			return PW_OK; /* in flight, or its endpoint is busy: look further */
		}
	}
	w->n++;
	return PW_OK;
}

void
store_outbox_list_free(ob_rec **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__outbox_message_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

pw_status
store_outbox_due(store *s, int64_t now_ms, size_t max, store_outbox_skip_fn skip, void *skip_arg,
    ob_rec ***out, size_t *n_out, int64_t *next_due_ms)
{
	due_walk w = { .now_ms = now_ms, .max = max, .skip = skip, .skip_arg = skip_arg };
	ob_rec **list = NULL;
	size_t n = 0;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL && n_out != NULL && max > 0);
	*out = NULL;
	*n_out = 0;
	if (next_due_ms != NULL) {
		*next_due_ms = 0;
	}
	w.ids = pw_calloc(max, sizeof(*w.ids));
	list = pw_calloc(max, sizeof(*list));
	if (w.ids == NULL || list == NULL) {
		pw_free(w.ids);
		pw_free(list);
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_NOTIFY_DUE, (kv_val){ .data = NULL, .len = 0 }, due_visit,
		    &w);
	}
	for (size_t i = 0; st == PW_OK && i < w.n; i++) {
		st = store_rec_get(&t, STORE_DB_NOTIFY_OUTBOX, w.ids[i], strlen(w.ids[i]),
		    &paywire__store__v1__outbox_message_record__descriptor, (void **) &list[n]);
		if (st == PW_NOT_FOUND) {
			st = PW_OK; /* a stale due entry: the result's write drops it */
			continue;
		}
		if (st == PW_OK) {
			n++;
		}
	}
	store_read_end(&t);
	pw_free(w.ids);
	if (st != PW_OK) {
		store_outbox_list_free(list, n);
		return st;
	}
	*out = list;
	*n_out = n;
	if (next_due_ms != NULL) {
		*next_due_ms = w.next_ms;
	}
	return PW_OK;
}

static pw_status
ob_load(store_txn *t, store_db db, const char *msg_id, ob_rec **out)
{
	*out = NULL;
	if (msg_id == NULL || msg_id[0] == '\0' || strlen(msg_id) >= STORE_NOTIFY_ID_BYTES) {
		return PW_NOT_FOUND;
	}
	return store_rec_get(t, db, msg_id, strlen(msg_id),
	    &paywire__store__v1__outbox_message_record__descriptor, (void **) out);
}

/* Removes m from the outbox and its due entry. */
static pw_status
ob_remove(store_txn *t, const ob_rec *m)
{
	uint8_t dk[8 + STORE_NOTIFY_ID_BYTES];
	pw_status st = store_raw_del(t, STORE_DB_NOTIFY_DUE, dk,
	    due_key(dk, m->next_attempt_at_unix_ms, m->msg_id));

	if (st != PW_OK && st != PW_NOT_FOUND) {
		return st;
	}
	return store_raw_del(t, STORE_DB_NOTIFY_OUTBOX, m->msg_id, strlen(m->msg_id));
}

static pw_status
ob_to_dead(store_txn *t, ob_rec *m)
{
	pw_status st = ob_remove(t, m);

	if (st != PW_OK) {
		return st;
	}
	m->dead_at_unix_ms = t->now_ms;
	return store_rec_put(t, STORE_DB_NOTIFY_DEAD, m->msg_id, strlen(m->msg_id), &m->base, 0,
	    NULL);
}

static pw_status
ep_disable(store_txn *t, ep_rec *ep, const char *reason)
{
	char detail[200];
	pw_status st;

	ep->state = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_DISABLED;
	ep->disabled_reason = (char *) reason;
	ep->disabled_at_unix_ms = t->now_ms;
	st = ep_save(t, ep);
	if (st == PW_OK) {
		/* after the save: the disabled endpoint itself is not told, the
		 * merchant's other active endpoints are (store_notify_on_audit) */
		snprintf(detail, sizeof(detail), "endpoint=%s reason=%s", ep->endpoint_id, reason);
		st = store_audit_append(t, "endpoint.disabled", ep->merchant_id, NULL, detail);
	}
	return st;
}

/* m becomes a dead letter and its endpoint is disabled for reason, in t;
 * *disabled (may be NULL) says so to the caller. */
static pw_status
ob_dead_and_disable(store_txn *t, ob_rec *m, ep_rec *ep, const char *reason, bool *disabled)
{
	pw_status st = ob_to_dead(t, m);

	if (st == PW_OK) {
		st = ep_disable(t, ep, reason);
		if (disabled != NULL) {
			*disabled = true;
		}
	}
	return st;
}

pw_status
store_outbox_result(store_txn *t, const store_outbox_attempt *a, bool *disabled)
{
	ob_rec *m = NULL;
	ep_rec *ep = NULL;
	uint8_t dk[8 + STORE_NOTIFY_ID_BYTES];
	char *orig_err = NULL;
	char *ep_orig_reason = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && a != NULL && a->msg_id != NULL);
	if (disabled != NULL) {
		*disabled = false;
	}
	st = ob_load(t, STORE_DB_NOTIFY_OUTBOX, a->msg_id, &m);
	if (st != PW_OK) {
		return st; /* PW_NOT_FOUND: already done (another server, a retry) */
	}
	orig_err = m->last_error;
	st = ep_load(t, m->merchant_id, m->endpoint_id, &ep);
	if (ep != NULL) {
		ep_orig_reason = ep->disabled_reason;
	}
	if (st == PW_NOT_FOUND) {
		/* its endpoint was deleted: nothing will ever take it */
		m->last_error = (char *) "endpoint deleted";
		st = ob_to_dead(t, m);
		goto out;
	}
	if (st != PW_OK) {
		goto out;
	}
	if (a->outcome != STORE_OUTBOX_SKIPPED) {
		m->attempts++;
		m->last_attempt_at_unix_ms = a->attempt_at_ms;
		m->last_status = a->http_status;
		m->last_error = (char *) (a->error != NULL ? a->error : "");
	}
	if (a->outcome == STORE_OUTBOX_DELIVERED) {
		st = ob_remove(t, m);
		if (st == PW_OK) {
			ep->last_success_at_unix_ms = t->now_ms;
			ep->failing_since_unix_ms = 0;
			st = ep_save(t, ep);
		}
		goto out;
	}
	if (ep->state != PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE) {
		if (a->outcome == STORE_OUTBOX_SKIPPED && (m->last_error == NULL ||
		    m->last_error[0] == '\0')) {
			m->last_error = (char *) "endpoint disabled";
		}
		st = ob_to_dead(t, m);
		goto out;
	}
	if (a->outcome == STORE_OUTBOX_GONE) {
		st = ob_dead_and_disable(t, m, ep, "the endpoint answered 410 Gone", disabled);
		goto out;
	}
	if (ep->failing_since_unix_ms == 0) {
		ep->failing_since_unix_ms = a->attempt_at_ms;
		st = ep_save(t, ep);
		if (st != PW_OK) {
			goto out;
		}
	} else if (a->disable_after_ms > 0 &&
	    t->now_ms - ep->failing_since_unix_ms >= a->disable_after_ms) {
		/* failing_since is reset by every success: none since */
		st = ob_dead_and_disable(t, m, ep, "no successful delivery for days", disabled);
		goto out;
	}
	if (a->retry_at_ms == 0) {
		st = ob_to_dead(t, m); /* retries exhausted */
		goto out;
	}
	st = store_raw_del(t, STORE_DB_NOTIFY_DUE, dk, due_key(dk, m->next_attempt_at_unix_ms,
	    m->msg_id));
	if (st == PW_OK || st == PW_NOT_FOUND) {
		m->next_attempt_at_unix_ms = a->retry_at_ms;
		st = ob_put(t, m, 0);
	}
out:
	if (ep != NULL) {
		ep->disabled_reason = ep_orig_reason; /* it may point at a literal meanwhile */
	}
	store_endpoint_free(ep);
	if (m != NULL) {
		m->last_error = orig_err; /* it may point at a's or a literal meanwhile */
		paywire__store__v1__outbox_message_record__free_unpacked(m, NULL);
	}
	return st;
}

/* ---- listing, retry, replay (the merchant's CLI) ---- */

typedef struct ob_walk {
	const char *merchant_id;
	const char *endpoint_id;  /* NULL/"" all */
	size_t limit;
	ob_rec **out;
	size_t n;
	size_t examined;
	bool more;
} ob_walk;

static pw_status
ob_visit(kv_val k, kv_val v, store_scan_step *step, void *arg)
{
	ob_walk *w = arg;
	ob_rec *r = NULL;
	pw_status st;

	(void) k;
	if (w->n == w->limit || w->examined == PW_LIST_SCAN_MAX) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->examined++;
	st = store_msg_unpack(&paywire__store__v1__outbox_message_record__descriptor, v.data, v.len,
	    (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (strcmp(r->merchant_id, w->merchant_id) != 0 ||
	    (w->endpoint_id != NULL && w->endpoint_id[0] != '\0' &&
	        strcmp(r->endpoint_id, w->endpoint_id) != 0)) {
		paywire__store__v1__outbox_message_record__free_unpacked(r, NULL);
		return PW_OK;
	}
	w->out[w->n++] = r;
	return PW_OK;
}

pw_status
store_outbox_list(store *s, const char *merchant_id, bool dead, const char *endpoint_id,
    size_t limit, ob_rec ***out, size_t *n_out, bool *has_more)
{
	ob_walk w = { .merchant_id = merchant_id, .endpoint_id = endpoint_id, .limit = limit };
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	if (limit == 0 || limit > PW_LIST_LIMIT_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	w.out = pw_calloc(limit, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, dead ? STORE_DB_NOTIFY_DEAD : STORE_DB_NOTIFY_OUTBOX,
		    (kv_val){ .data = NULL, .len = 0 }, ob_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_outbox_list_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	*has_more = w.more;
	return PW_OK;
}

pw_status
store_outbox_retry(store_txn *t, const char *merchant_id, const char *msg_id, ob_rec **out,
    char *why, size_t why_size)
{
	ob_rec *m = NULL;
	ep_rec *ep = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && out != NULL);
	*out = NULL;
	why[0] = '\0';
	st = ob_load(t, STORE_DB_NOTIFY_DEAD, msg_id, &m);
	if (st == PW_OK && strcmp(m->merchant_id, merchant_id) != 0) {
		st = PW_NOT_FOUND; /* another merchant's */
	}
	if (st == PW_NOT_FOUND) {
		snprintf(why, why_size, "no dead letter %.64s", msg_id != NULL ? msg_id : "");
	}
	if (st != PW_OK) {
		goto out;
	}
	st = ep_load(t, m->merchant_id, m->endpoint_id, &ep);
	if (st == PW_NOT_FOUND) {
		snprintf(why, why_size, "its endpoint %s was deleted", m->endpoint_id);
		st = PW_FAILED_PRECONDITION;
	} else if (st == PW_OK &&
	    ep->state != PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE) {
		snprintf(why, why_size, "its endpoint %s is disabled: enable it first", m->endpoint_id);
		st = PW_FAILED_PRECONDITION;
	}
	if (st != PW_OK) {
		goto out;
	}
	st = store_raw_del(t, STORE_DB_NOTIFY_DEAD, msg_id, strlen(msg_id));
	if (st == PW_OK) {
		m->attempts = 0;
		m->dead_at_unix_ms = 0;
		m->next_attempt_at_unix_ms = t->now_ms;
		st = ob_put(t, m, KV_PUT_INSERT);
		if (st == PW_ALREADY_EXISTS) {
			snprintf(why, why_size, "%s is in the outbox already", msg_id);
		}
	}
	if (st == PW_OK) {
		*out = m;
		m = NULL;
	}
out:
	store_endpoint_free(ep);
	if (m != NULL) {
		paywire__store__v1__outbox_message_record__free_unpacked(m, NULL);
	}
	return st;
}

static pw_status
audit_rec_at(store_txn *t, uint64_t seq, Paywire__Store__V1__AuditRecord **out)
{
	uint8_t k[8];

	store_be64_put(k, seq);
	return store_rec_get(t, STORE_DB_AUDIT, k, sizeof(k),
	    &paywire__store__v1__audit_record__descriptor, (void **) out);
}

pw_status
store_notify_replay(store_txn *t, const char *merchant_id, int64_t since_ms,
    const char *endpoint_id, store_replay_result *res, char *why, size_t why_size)
{
	Paywire__Store__V1__AuditRecord *r = NULL;
	uint8_t head[8];
	size_t hl = 0;
	uint64_t last = 0;
	uint64_t lo = 1;
	uint64_t hi;
	ep_rec **eps = NULL;
	size_t n_eps = 0;
	pw_status st;

	PW_ASSERT(t != NULL && res != NULL);
	memset(res, 0, sizeof(*res));
	why[0] = '\0';
	res->next_since_ms = since_ms;
	st = ep_list_txn(t, merchant_id, &eps, &n_eps);
	if (st != PW_OK) {
		return st;
	}
	if (endpoint_id != NULL && endpoint_id[0] != '\0') {
		bool found = false;
		for (size_t i = 0; i < n_eps; i++) {
			found = found || strcmp(eps[i]->endpoint_id, endpoint_id) == 0;
		}
		if (!found) {
			snprintf(why, why_size, "no endpoint %.64s", endpoint_id);
			st = PW_NOT_FOUND;
			goto out;
		}
	}
	st = store_raw_get(t, STORE_DB_META, STORE_META_AUDIT_SEQ, strlen(STORE_META_AUDIT_SEQ),
	    head, sizeof(head), &hl);
	if (st == PW_NOT_FOUND) {
		st = PW_OK;
		goto out;
	}
	if (st != PW_OK || hl != 8) {
		st = st != PW_OK ? st : PW_INTERNAL;
		goto out;
	}
	last = store_be64_get(head);
	/* the first record at or after since_ms: seqs and times only grow */
	hi = last + 1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		st = audit_rec_at(t, mid, &r);
		if (st != PW_OK) {
			goto out;
		}
		if (r->unix_ms < since_ms) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
		paywire__store__v1__audit_record__free_unpacked(r, NULL);
		r = NULL;
	}
	for (uint64_t seq = lo; seq <= last; seq++) {
		const char *type;

		if (res->examined == PW_NOTIFY_REPLAY_SCAN_MAX) {
			res->has_more = true;
			break;
		}
		st = audit_rec_at(t, seq, &r);
		if (st != PW_OK) {
			goto out;
		}
		res->examined++;
		res->next_since_ms = r->unix_ms;
		type = store_notify_type_of(r->action);
		if (type != NULL && strcmp(r->merchant_id, merchant_id) == 0) {
			for (size_t i = 0; st == PW_OK && i < n_eps; i++) {
				bool added = false;
				if (eps[i]->state !=
				        PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE ||
				    !notify_wants(eps[i], type) ||
				    (endpoint_id != NULL && endpoint_id[0] != '\0' &&
				        strcmp(eps[i]->endpoint_id, endpoint_id) != 0)) {
					continue;
				}
				st = ob_enqueue(t, eps[i], type, r->seq, r->unix_ms, r->session_id, r->action,
				    r->detail, &added);
				res->enqueued += added ? 1u : 0u;
			}
		}
		paywire__store__v1__audit_record__free_unpacked(r, NULL);
		r = NULL;
		if (st != PW_OK) {
			goto out;
		}
	}
	if (st == PW_OK && res->enqueued > 0) {
		char detail[128];
		snprintf(detail, sizeof(detail), "since_ms=%lld enqueued=%u", (long long) since_ms,
		    res->enqueued);
		st = store_audit_append(t, "notify.replayed", merchant_id, NULL, detail);
	}
out:
	store_endpoint_list_free(eps, n_eps);
	return st;
}
