/*
 * store_session.c - checkout sessions and their idempotency keys.
 *
 * Session ids are "cs_" + pw_id_new: 12 hex digits of milliseconds, then 128
 * random bits, so new sessions land at the right end of the B-tree and an id
 * is unguessable (it is the capability for GetStatus).
 *
 * Idempotency follows Stripe: the idem db maps (merchant_id, idempotency_key)
 * to the request hash and the session it created. Within
 * PW_IDEMPOTENCY_TTL_MS the same hash replays the original session (nothing is
 * written), another hash is PW_IDEMPOTENCY_CONFLICT; an older entry counts as
 * absent and is overwritten by the new session's.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#define STORE_URL_BUF_BYTES (PW_URL_BYTES_MAX + PW_SESSION_ID_BYTES_MAX)

static char *
store_str(const char *s)
{
	return (char *) (s != NULL ? s : "");
}

static bool
store_str_fits(const char *s, size_t max)
{
	return s == NULL || strnlen(s, max + 1) <= max;
}

/* The server validates fully before any store call; these are the invariants
 * the store itself relies on (key sizes, array bounds), re-checked cheaply. */
static pw_status
store_session_args_check(const char *merchant_id, const store_session_params *p,
    int64_t now_ms)
{
	bool pkg = p->credit_package != NULL && p->credit_package[0] != '\0';
	const char *why = NULL;

	/* a package's session may leave amount and currency to the package */
	if (merchant_id[0] == '\0' || !store_str_fits(merchant_id, PW_SESSION_ID_BYTES_MAX - 1)) {
		why = "merchant_id";
	} else if (pkg && !store_credit_package_code_ok(p->credit_package)) {
		why = "credit_package";
	} else if ((p->amount_minor <= 0 && !(pkg && p->amount_minor == 0)) ||
	    p->amount_minor > PW_AMOUNT_MINOR_MAX) {
		why = "amount_minor";
	} else if ((p->currency == NULL || p->currency[0] == '\0') ? !pkg
	                                                           : pw_currency_exponent(p->currency) < 0) {
		why = "currency";
	} else if (p->mode != PAYWIRE__STORE__V1__MODE__MODE_TEST &&
	    p->mode != PAYWIRE__STORE__V1__MODE__MODE_LIVE) {
		why = "mode";
	} else if (p->n_metadata > PW_METADATA_ENTRIES_MAX) {
		why = "metadata";
	} else if (!store_str_fits(p->idempotency_key, PW_IDEMPOTENCY_KEY_BYTES_MAX)) {
		why = "idempotency_key";
	} else if (p->expires_at_unix_ms < 0 ||
	    (p->expires_at_unix_ms > 0 && p->expires_at_unix_ms <= now_ms)) {
		why = "expires_at_unix_ms (not after now)";
	}
	if (why != NULL) {
		pw_log(PW_LOG_DEBUG, "store: session create: invalid %s", why);
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

static bool
store_session_id_ok(const char *id)
{
	size_t len = strnlen(id, PW_SESSION_ID_BYTES_MAX);
	return len > 0 && len < PW_SESSION_ID_BYTES_MAX;
}

pw_status
store_session_load(store_txn *t, const char *id, Paywire__Store__V1__SessionRecord **out)
{
	PW_ASSERT(t != NULL && id != NULL && out != NULL);
	*out = NULL;
	if (!store_session_id_ok(id)) {
		return PW_NOT_FOUND; /* no such id can exist */
	}
	return store_rec_get(t, STORE_DB_SESSIONS, id, strlen(id),
	    &paywire__store__v1__session_record__descriptor, (void **) out);
}

pw_status
store_session_save(store_txn *t, Paywire__Store__V1__SessionRecord *rec)
{
	PW_ASSERT(t != NULL && rec != NULL && rec->session != NULL);
	PW_ASSERT(rec->session->id != NULL && store_session_id_ok(rec->session->id));
	rec->updated_at_unix_ms = t->now_ms;
	return store_rec_put(t, STORE_DB_SESSIONS, rec->session->id, strlen(rec->session->id),
	    &rec->base, 0, NULL);
}

/* Looks (merchant, idempotency key) up. PW_OK + *out: a replay of the same
 * request; PW_NOT_FOUND: none or expired (create a new session);
 * PW_IDEMPOTENCY_CONFLICT: same key, other parameters. */
static pw_status
store_idem_lookup(store_txn *t, const uint8_t *key, size_t keylen,
    const uint8_t hash[STORE_HASH_BYTES], Paywire__Store__V1__SessionRecord **out)
{
	Paywire__Store__V1__IdempotencyRecord *rec = NULL;
	pw_status st;

	st = store_rec_get(t, STORE_DB_IDEM, key, keylen,
	    &paywire__store__v1__idempotency_record__descriptor, (void **) &rec);
	if (st != PW_OK) {
		return st;
	}
	if (t->now_ms - rec->created_at_unix_ms >= PW_IDEMPOTENCY_TTL_MS) {
		st = PW_NOT_FOUND; /* expired: treated as new, overwritten below */
	} else if (rec->request_hash.len != STORE_HASH_BYTES ||
	    sodium_memcmp(rec->request_hash.data, hash, STORE_HASH_BYTES) != 0) {
		st = PW_IDEMPOTENCY_CONFLICT;
	} else {
		st = store_session_load(t, rec->session_id, out);
		if (st == PW_NOT_FOUND) {
			pw_log(PW_LOG_ERROR, "store: idempotency record names missing session %s",
			    rec->session_id);
			st = store_txn_note(t, PW_INTERNAL);
		}
	}
	paywire__store__v1__idempotency_record__free_unpacked(rec, NULL);
	return st;
}

static pw_status
store_idem_put(store_txn *t, const uint8_t *key, size_t keylen,
    const uint8_t hash[STORE_HASH_BYTES], const char *session_id)
{
	Paywire__Store__V1__IdempotencyRecord rec = PAYWIRE__STORE__V1__IDEMPOTENCY_RECORD__INIT;

	rec.request_hash.len = STORE_HASH_BYTES;
	rec.request_hash.data = (uint8_t *) hash;
	rec.session_id = (char *) session_id;
	rec.created_at_unix_ms = t->now_ms;
	return store_rec_put(t, STORE_DB_IDEM, key, keylen, &rec.base, 0, NULL);
}

/* Fills sess from p (pointers into p: valid while p is). */
static void
store_session_fill(Paywire__Store__V1__Session *sess, const store_session_params *p)
{
	PW_ASSERT(p->n_metadata <= PW_METADATA_ENTRIES_MAX);
	PW_ASSERT(p->n_metadata == 0 || p->metadata != NULL);
	sess->mode = p->mode;
	sess->status = PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED;
	sess->payment_status = PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_UNPAID;
	sess->amount_minor = p->amount_minor;
	sess->currency = store_str(p->currency);
	sess->success_url = store_str(p->success_url);
	sess->cancel_url = store_str(p->cancel_url);
	sess->customer_email = store_str(p->customer_email);
	sess->customer_name = store_str(p->customer_name);
	sess->customer_ref = store_str(p->customer_ref);
	sess->idempotency_key = store_str(p->idempotency_key);
	sess->fulfillment = p->fulfillment;
	sess->checkout_provider = p->provider;
	sess->provider_checkout_state = p->provider != PAYWIRE__STORE__V1__PROVIDER__PROVIDER_UNSPECIFIED
	    ? PAYWIRE__STORE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_PENDING
	    : PAYWIRE__STORE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_NONE;
	sess->credit_package = store_str(p->credit_package);
	for (size_t i = 0; i < p->n_metadata; i++) {
		PW_ASSERT(p->metadata[i] != NULL);
	}
	sess->n_metadata = p->n_metadata;
	sess->metadata = p->n_metadata > 0 ? p->metadata : NULL;
}

/* Writes the new session record under id. */
static pw_status
store_session_insert(store_txn *t, const char *merchant_id, const char *id,
    const store_session_params *p, const uint8_t hash[STORE_HASH_BYTES],
    const char *checkout_url_base)
{
	Paywire__Store__V1__Session sess = PAYWIRE__STORE__V1__SESSION__INIT;
	Paywire__Store__V1__SessionRecord rec = PAYWIRE__STORE__V1__SESSION_RECORD__INIT;
	char url[STORE_URL_BUF_BYTES];
	int n = 0;
	pw_status st;

	if (checkout_url_base != NULL && checkout_url_base[0] != '\0') {
		n = snprintf(url, sizeof(url), "%s%s", checkout_url_base, id);
		if (n < 0 || (size_t) n >= sizeof(url)) {
			pw_log(PW_LOG_WARN, "store: checkout URL base longer than %d bytes",
			    PW_URL_BYTES_MAX);
			return PW_INVALID_ARGUMENT;
		}
	}
	store_session_fill(&sess, p);
	sess.id = (char *) id;
	sess.merchant_id = (char *) merchant_id;
	sess.url = n > 0 ? url : "";
	sess.created_at_unix_ms = t->now_ms;
	sess.expires_at_unix_ms = p->expires_at_unix_ms > 0 ? p->expires_at_unix_ms
	                                                    : t->now_ms + PW_SESSION_TTL_DEFAULT_MS;
	rec.session = &sess;
	rec.request_hash.len = STORE_HASH_BYTES;
	rec.request_hash.data = (uint8_t *) hash;
	rec.updated_at_unix_ms = t->now_ms;
	st = store_rec_put(t, STORE_DB_SESSIONS, id, strlen(id), &rec.base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	if (st == PW_OK) {
		st = store_merchant_session_index(t, &sess);
	}
	return st == PW_OK ? store_expiry_index_put(t, &sess) : st;
}

/* The merchant must exist (the server authenticated its key, but a revoked
 * or deleted merchant must not gain sessions through a stale id). */
static pw_status
store_merchant_exists(store_txn *t, const char *merchant_id)
{
	Paywire__Store__V1__MerchantRecord *m = NULL;
	pw_status st;

	st = store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
	    &paywire__store__v1__merchant_record__descriptor, (void **) &m);
	if (m != NULL) {
		paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	}
	return st;
}

static pw_status store_session_create_new(store_txn *t, const char *merchant_id,
    const store_session_params *p, const uint8_t request_hash[32],
    const char *checkout_url_base, const uint8_t *idem_key, size_t idem_len,
    Paywire__Store__V1__SessionRecord **out);

/* A session selling a credit package: amount, currency and fulfillment are
 * the package's, read in this transaction (an archive queued before it is
 * seen); the record names the package. */
static pw_status
store_session_create_package(store_txn *t, const char *merchant_id,
    const store_session_params *p, const uint8_t request_hash[32],
    const char *checkout_url_base, const uint8_t *idem_key, size_t idem_len,
    Paywire__Store__V1__SessionRecord **out)
{
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	Paywire__Store__V1__CreditPackageRecord *pkg = NULL;
	store_session_params q = *p;
	char reason[256];
	pw_status st;

	if (p->fulfillment != NULL) {
		f.kind = p->fulfillment->kind;
		f.credits = p->fulfillment->credits;
	}
	st = store_credit_package_apply(t, merchant_id, p->credit_package, &q.amount_minor,
	    &q.currency, &f, &pkg, reason, sizeof(reason));
	if (st != PW_OK) {
		if (p->reason != NULL && p->reason_size > 0) {
			snprintf(p->reason, p->reason_size, "%s", reason);
		}
		return st;
	}
	q.fulfillment = &f;
	st = store_session_create_new(t, merchant_id, &q, request_hash, checkout_url_base, idem_key,
	    idem_len, out);
	paywire__store__v1__credit_package_record__free_unpacked(pkg, NULL);
	return st;
}

pw_status
store_session_create(store_txn *t, const char *merchant_id,
    const store_session_params *p, const uint8_t request_hash[32],
    const char *checkout_url_base, Paywire__Store__V1__SessionRecord **out)
{
	uint8_t idem_key[STORE_KEY_BYTES_MAX];
	size_t idem_len = 0;
	bool idem;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && p != NULL && request_hash != NULL);
	PW_ASSERT(out != NULL);
	*out = NULL;
	st = store_session_args_check(merchant_id, p, t->now_ms);
	if (st == PW_OK) {
		st = store_merchant_exists(t, merchant_id);
	}
	if (st != PW_OK) {
		return st;
	}
	idem = p->idempotency_key != NULL && p->idempotency_key[0] != '\0';
	if (idem) {
		bool fits = store_key_join(idem_key, sizeof(idem_key), merchant_id,
		    p->idempotency_key, &idem_len);
		PW_ASSERT(fits); /* lengths checked above, sizes tied in store_internal.h */
		st = store_idem_lookup(t, idem_key, idem_len, request_hash, out);
		if (st == PW_OK) {
			store_session_view(*out, t->now_ms); /* a replay answers it as of now */
		}
		if (st != PW_NOT_FOUND) {
			return st; /* PW_OK: replay, nothing written; or an error */
		}
	}
	if (p->credit_package != NULL && p->credit_package[0] != '\0') {
		return store_session_create_package(t, merchant_id, p, request_hash,
		    checkout_url_base, idem ? idem_key : NULL, idem_len, out);
	}
	return store_session_create_new(t, merchant_id, p, request_hash, checkout_url_base,
	    idem ? idem_key : NULL, idem_len, out);
}

/* The new session of p (idempotency looked up already: idem_key NULL for
 * none). */
static pw_status
store_session_create_new(store_txn *t, const char *merchant_id, const store_session_params *p,
    const uint8_t request_hash[32], const char *checkout_url_base, const uint8_t *idem_key,
    size_t idem_len, Paywire__Store__V1__SessionRecord **out)
{
	char id[PW_ID_BYTES(3)];
	char detail[160];
	bool idem = idem_key != NULL;
	pw_status st;

	pw_id_new(id, sizeof(id), "cs_", t->now_ms);
	st = store_session_insert(t, merchant_id, id, p, request_hash, checkout_url_base);
	if (st == PW_OK && idem) {
		st = store_idem_put(t, idem_key, idem_len, request_hash, id);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "amount_minor=%lld currency=%s mode=%s%s%s",
		    (long long) p->amount_minor, p->currency,
		    p->mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE ? "live" : "test",
		    p->credit_package != NULL && p->credit_package[0] != '\0' ? " package=" : "",
		    p->credit_package != NULL ? p->credit_package : "");
		st = store_audit_append(t, "session.created", merchant_id, id, detail);
	}
	if (st == PW_OK) {
		st = store_session_load(t, id, out);
	}
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

pw_status
store_session_get(store *s, const char *id, Paywire__Store__V1__SessionRecord **out)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && id != NULL && out != NULL);
	*out = NULL;
	if (!store_session_id_ok(id)) {
		pw_log(PW_LOG_DEBUG, "store: session id must be 1..%d bytes",
		    PW_SESSION_ID_BYTES_MAX - 1);
		return PW_INVALID_ARGUMENT;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_session_load(&t, id, out);
	}
	if (st == PW_OK) {
		store_session_view(*out, t.now_ms);
	}
	store_read_end(&t);
	return st;
}

/* ---- the provider checkout paywire created (docs/PROVIDERS.md) ---- */

pw_status
store_session_provider_record(store_txn *t, const char *merchant_id, const char *session_id,
    const char *checkout_id, const char *checkout_url, Paywire__Store__V1__SessionRecord **out)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__Session *s;
	char owner[PW_SESSION_ID_BYTES_MAX];
	char detail[160];
	bool added = false;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && session_id != NULL && out != NULL);
	PW_ASSERT(checkout_id != NULL && checkout_url != NULL);
	*out = NULL;
	if (checkout_id[0] == '\0' || !store_str_fits(checkout_id, PW_EV_REF_BYTES - 1) ||
	    !store_str_fits(checkout_url, PW_URL_BYTES_MAX)) {
		return PW_INVALID_ARGUMENT;
	}
	st = store_session_load(t, session_id, &rec);
	if (st == PW_OK && strcmp(rec->session->merchant_id, merchant_id) != 0) {
		st = PW_NOT_FOUND; /* another merchant's: not told apart from none */
	}
	if (st != PW_OK) {
		goto out;
	}
	s = rec->session;
	if (s->checkout_provider == PAYWIRE__STORE__V1__PROVIDER__PROVIDER_UNSPECIFIED) {
		st = PW_FAILED_PRECONDITION;
		goto out;
	}
	if (s->provider_checkout_state ==
	    PAYWIRE__STORE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_CREATED) {
		st = strcmp(s->provider_checkout_id, checkout_id) == 0 ? PW_OK
		                                                       : PW_IDEMPOTENCY_CONFLICT;
		if (st == PW_IDEMPOTENCY_CONFLICT) {
			pw_log(PW_LOG_ERROR, "store: session %s has provider checkout %s; refusing a "
			    "second one (%s)", session_id, s->provider_checkout_id, checkout_id);
		}
		goto out; /* nothing written */
	}
	st = store_pbstr_set(&s->provider_checkout_id, checkout_id);
	if (st == PW_OK) {
		st = store_pbstr_set(&s->provider_checkout_url, checkout_url);
	}
	if (st == PW_OK) {
		/* the provider's events may name the checkout (cs_…, order_…) alone */
		st = store_session_ref_record(t, rec, (pw_provider) s->checkout_provider, checkout_id,
		    owner, sizeof(owner), &added);
		if (st == PW_OK && owner[0] != '\0' && strcmp(owner, session_id) != 0) {
			pw_log(PW_LOG_ERROR, "store: provider ref %s already belongs to session %s",
			    checkout_id, owner);
			st = PW_IDEMPOTENCY_CONFLICT;
		}
	}
	if (st == PW_OK) {
		s->provider_checkout_state =
		    PAYWIRE__STORE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_CREATED;
		rec->updated_at_unix_ms = store_txn_now_ms(t);
		snprintf(detail, sizeof(detail), "provider=%s checkout=%s",
		    pw_provider_name((pw_provider) s->checkout_provider), checkout_id);
		st = store_audit_append(t, "session.provider_checkout", merchant_id, session_id, detail);
	}
	if (st == PW_OK) {
		st = store_session_save(t, rec);
	}
out:
	if (st != PW_OK) {
		if (rec != NULL) {
			paywire__store__v1__session_record__free_unpacked(rec, NULL);
		}
		return st;
	}
	store_session_view(rec, store_txn_now_ms(t));
	*out = rec;
	return PW_OK;
}

/* ---- the customer portal (issue 10) ---- */

pw_status
store_session_stripe_customer(store_txn *t, const char *merchant_id, const char *session_id,
    char *customer, size_t customer_size, Paywire__Store__V1__Mode *mode, char *why,
    size_t why_size)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && session_id != NULL && customer != NULL);
	PW_ASSERT(mode != NULL && why != NULL && why_size > 0);
	customer[0] = '\0';
	why[0] = '\0';
	st = store_session_load(t, session_id, &rec);
	if (st == PW_OK && strcmp(rec->session->merchant_id, merchant_id) != 0) {
		st = PW_NOT_FOUND; /* another merchant's: not told apart from none */
	}
	if (st == PW_OK && (rec->provider_customer_ref[0] == '\0' ||
	                       strncmp(rec->provider_customer_ref, "cus_", 4) != 0)) {
		snprintf(why, why_size, "session %s has no Stripe customer recorded (one is recorded "
		                        "from its Stripe checkout's completion)", session_id);
		st = PW_FAILED_PRECONDITION;
	}
	if (st == PW_OK && !pw_strlcpy(customer, rec->provider_customer_ref, customer_size)) {
		st = store_txn_note(t, PW_INTERNAL);
	}
	if (st == PW_OK) {
		*mode = rec->session->mode;
	}
	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	return st;
}

pw_status
store_portal_audit(store_txn *t, const char *merchant_id, const char *session_id,
    const char *customer)
{
	char detail[160];

	PW_ASSERT(t != NULL && merchant_id != NULL && session_id != NULL && customer != NULL);
	snprintf(detail, sizeof(detail), "provider=stripe customer=%s", customer);
	return store_audit_append(t, "portal.created", merchant_id, session_id, detail);
}
