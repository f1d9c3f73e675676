/*
 * srv_apply.c - apply callbacks of the mutating calls (writer thread) and the
 * sealing of stored replies that carry a secret. See srv_apply.h.
 */
#include "srv_apply.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* A sealed stored reply starts with this byte. A packed Response never does:
 * its first byte is a field tag, and field number 0 does not exist. */
#define SEAL_MAGIC 0x00
#define SEAL_OVERHEAD (1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)

/* Key for one stored reply: BLAKE2b-256(key = env seal key, scope 0x00 request_id). */
static void
seal_key(const srv_call *c, uint8_t key[crypto_secretbox_KEYBYTES])
{
	crypto_generichash_state s;

	_Static_assert(crypto_secretbox_KEYBYTES == 32, "secretbox key is 32 bytes");
	(void) crypto_generichash_init(&s, c->env->reply_seal_key, sizeof(c->env->reply_seal_key),
	    crypto_secretbox_KEYBYTES);
	(void) crypto_generichash_update(&s, (const uint8_t *) c->scope, strlen(c->scope) + 1);
	(void) crypto_generichash_update(&s, (const uint8_t *) c->req->request_id,
	    strlen(c->req->request_id));
	(void) crypto_generichash_final(&s, key, crypto_secretbox_KEYBYTES);
}

/* c->stored = seal(c->reply). False: no memory. */
static bool
reply_seal(srv_call *c)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t *out;
	size_t n = SEAL_OVERHEAD + c->reply_len;

	PW_ASSERT(c->env->admin_key_set && c->reply != NULL);
	out = malloc(n);
	if (out == NULL) {
		return false;
	}
	out[0] = SEAL_MAGIC;
	pw_random(out + 1, crypto_secretbox_NONCEBYTES);
	seal_key(c, key);
	(void) crypto_secretbox_easy(out + 1 + crypto_secretbox_NONCEBYTES, c->reply, c->reply_len,
	    out + 1, key);
	sodium_memzero(key, sizeof(key));
	c->stored = out;
	c->stored_len = n;
	return true;
}

/* Opens a sealed stored reply into c->reply. */
static pw_status
reply_unseal(srv_call *c, const uint8_t *in, size_t in_len)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t *out;
	size_t n;
	int rv;

	if (!c->env->admin_key_set || in_len < SEAL_OVERHEAD) {
		srv_call_why(c, "the stored reply for this request_id cannot be opened");
		return PW_INTERNAL;
	}
	n = in_len - SEAL_OVERHEAD;
	out = malloc(n > 0 ? n : 1);
	if (out == NULL) {
		srv_call_why(c, "out of memory");
		return PW_UNAVAILABLE;
	}
	seal_key(c, key);
	rv = crypto_secretbox_open_easy(out, in + 1 + crypto_secretbox_NONCEBYTES,
	    in_len - 1 - crypto_secretbox_NONCEBYTES, in + 1, key);
	sodium_memzero(key, sizeof(key));
	if (rv != 0) {
		free(out);
		/* The admin key changed since the reply was stored. */
		srv_call_why(c, "the stored reply for this request_id was sealed with another admin key");
		return PW_INTERNAL;
	}
	c->reply = out;
	c->reply_len = n;
	return PW_OK;
}

static pw_status
apply_replay(srv_call *c, uint8_t *prev, size_t prev_len)
{
	pw_status rv = PW_OK;

	if (prev_len > 0 && prev[0] == SEAL_MAGIC) {
		rv = reply_unseal(c, prev, prev_len);
		sodium_memzero(prev, prev_len);
		free(prev);
	} else {
		c->reply = prev; /* the stored bytes, unchanged */
		c->reply_len = prev_len;
	}
	if (rv != PW_OK) {
		return rv;
	}
	/* Only successful replies are stored (an error rolls the request back). */
	c->status = PW_OK;
	c->replayed = true;
	atomic_fetch_add_explicit(&c->env->counters.replays, 1, memory_order_relaxed);
	return PW_OK;
}

/* Finishes a successful apply: c->reply from resp; false if out of memory. */
static pw_status
reply_ok(srv_call *c, Paywire__V1__Response *resp)
{
	c->why[0] = '\0';
	srv_call_reply(c, PW_OK, "", resp);
	if (c->reply == NULL) {
		srv_call_why(c, "out of memory packing the reply");
		return PW_UNAVAILABLE;
	}
	return PW_OK;
}

static pw_status
apply_create_merchant(store_txn *t, srv_call *c)
{
	const Paywire__V1__CreateMerchantRequest *r = c->req->create_merchant;
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateMerchantResponse m = PAYWIRE__V1__CREATE_MERCHANT_RESPONSE__INIT;
	Paywire__V1__MerchantRecord *rec = NULL;
	char raw_key[128];
	pw_status rv;

	raw_key[0] = '\0';
	rv = store_merchant_create(t, r->name, r->mode, &rec, raw_key, sizeof(raw_key));
	if (rv != PW_OK) {
		srv_call_why(c, "creating the merchant failed: %s", pw_status_message(rv));
		return rv;
	}
	PW_ASSERT(rec != NULL && raw_key[0] != '\0');
	m.merchant_id = rec->merchant_id;
	m.api_key = raw_key;
	m.name = rec->name;
	m.mode = rec->mode;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT;
	resp.create_merchant = &m;
	rv = reply_ok(c, &resp);
	sodium_memzero(raw_key, sizeof(raw_key));
	paywire__v1__merchant_record__free_unpacked(rec, NULL);
	if (rv == PW_OK && !reply_seal(c)) {
		srv_call_why(c, "out of memory sealing the reply");
		rv = PW_UNAVAILABLE;
	}
	return rv;
}

static pw_status
apply_create_session(store_txn *t, srv_call *c)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateSessionResponse cs = PAYWIRE__V1__CREATE_SESSION_RESPONSE__INIT;
	Paywire__V1__SessionRecord *rec = NULL;
	pw_status rv;

	rv = store_session_create(t, c->merchant_id, c->req->create_session, c->hash,
	    c->env->checkout_url_base, &rec);
	if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "idempotency_key was already used with different parameters");
		return rv;
	}
	if (rv != PW_OK) {
		srv_call_why(c, "creating the session failed: %s", pw_status_message(rv));
		return rv;
	}
	PW_ASSERT(rec != NULL);
	if (rec->session == NULL) {
		paywire__v1__session_record__free_unpacked(rec, NULL);
		srv_call_why(c, "the store returned a session record without a session");
		return PW_INTERNAL;
	}
	cs.session = rec->session;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION;
	resp.create_session = &cs;
	rv = reply_ok(c, &resp);
	paywire__v1__session_record__free_unpacked(rec, NULL);
	return rv;
}

static pw_status
apply_revoke_api_key(store_txn *t, srv_call *c)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__RevokeApiKeyResponse rk = PAYWIRE__V1__REVOKE_API_KEY_RESPONSE__INIT;
	char merchant_id[64];
	pw_status rv;

	merchant_id[0] = '\0';
	rv = store_apikey_revoke(t, c->req->revoke_api_key->api_key, merchant_id,
	    sizeof(merchant_id));
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no such API key");
		return rv;
	}
	if (rv != PW_OK) {
		srv_call_why(c, "revoking the API key failed: %s", pw_status_message(rv));
		return rv;
	}
	rk.merchant_id = merchant_id;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REVOKE_API_KEY;
	resp.revoke_api_key = &rk;
	return reply_ok(c, &resp);
}

static pw_status
apply_ingest_webhook(store_txn *t, srv_call *c)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__IngestWebhookResponse w = PAYWIRE__V1__INGEST_WEBHOOK_RESPONSE__INIT;
	store_webhook_result res;
	pw_status rv;

	memset(&res, 0, sizeof(res));
	rv = store_webhook_apply(t, &c->ev, &res);
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "the event refers to a session paywire does not know; nothing was "
		                "recorded (the provider will retry)");
		return rv;
	}
	if (rv != PW_OK) {
		srv_call_why(c, "applying the event failed: %s", pw_status_message(rv));
		return rv;
	}
	res.session_id[sizeof(res.session_id) - 1] = '\0';
	res.reason[sizeof(res.reason) - 1] = '\0';
	res.access_key_id[sizeof(res.access_key_id) - 1] = '\0';
	w.outcome = res.outcome;
	w.session_id = res.session_id;
	w.event_id = c->ev.event_id;
	w.event_type = c->ev.event_type;
	w.reason = res.reason;
	w.session_status = res.session_status;
	w.invoice_number = res.invoice_number;
	w.access_key_id = res.access_key_id;
	w.anomaly = res.anomaly;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	resp.ingest_webhook = &w;
	return reply_ok(c, &resp);
}

/* The copy kept for retries never holds the raw access key: it has
 * access_key "" and already_revealed true. */
static pw_status
redeem_store_copy(srv_call *c, Paywire__V1__Response *resp, Paywire__V1__RedeemAccessResponse *out)
{
	char *key = out->access_key;
	protobuf_c_boolean revealed = out->already_revealed;
	bool ok;

	if (key == NULL || key[0] == '\0') {
		return PW_OK; /* nothing secret: store c->reply itself */
	}
	out->access_key = (char *) "";
	out->already_revealed = 1;
	ok = srv_response_pack(resp, PW_OK, "", &c->stored, &c->stored_len);
	out->access_key = key;
	out->already_revealed = revealed;
	if (!ok) {
		srv_call_why(c, "out of memory packing the reply");
		return PW_UNAVAILABLE;
	}
	return PW_OK;
}

static pw_status
apply_redeem_access(store_txn *t, srv_call *c)
{
	const Paywire__V1__RedeemAccessRequest *r = c->req->redeem_access;
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__RedeemAccessResponse *out = NULL;
	pw_status rv;

	rv = store_access_redeem(t, r->session_id, r->token, &out);
	if (rv == PW_UNAUTHENTICATED) {
		srv_call_why(c, "invalid or expired access token");
		return rv;
	}
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "session %s not found", r->session_id);
		return rv;
	}
	if (rv != PW_OK) {
		srv_call_why(c, "redeeming access failed: %s", pw_status_message(rv));
		return rv;
	}
	PW_ASSERT(out != NULL);
	resp.request_id = c->req->request_id;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REDEEM_ACCESS;
	resp.redeem_access = out;
	rv = reply_ok(c, &resp);
	if (rv == PW_OK) {
		rv = redeem_store_copy(c, &resp, out);
	}
	if (out->access_key != NULL && out->access_key != protobuf_c_empty_string) {
		sodium_memzero(out->access_key, strlen(out->access_key));
	}
	paywire__v1__redeem_access_response__free_unpacked(out, NULL);
	return rv;
}

static pw_status
apply_call(store_txn *t, srv_call *c)
{
	switch (c->req->call_case) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT: return apply_create_merchant(t, c);
	case PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION: return apply_create_session(t, c);
	case PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK: return apply_ingest_webhook(t, c);
	case PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY: return apply_revoke_api_key(t, c);
	case PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS: return apply_redeem_access(t, c);
	case PAYWIRE__V1__REQUEST__CALL_GET_STATUS:
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT:
	case PAYWIRE__V1__REQUEST__CALL__NOT_SET:
	case _PAYWIRE__V1__REQUEST__CALL__CASE_IS_INT_SIZE:
		break;
	}
	PW_ASSERT(!"a read-only call was queued as a write");
	return PW_INTERNAL;
}

pw_status
srv_apply_cb(store_txn *t, void *arg)
{
	srv_call *c = arg;
	uint8_t *prev = NULL;
	size_t prev_len = 0;
	const uint8_t *keep;
	size_t keep_len;
	pw_status rv;

	PW_ASSERT(c != NULL && c->req != NULL && c->reply == NULL);
	c->applied = true;
	rv = store_reply_get(t, c->scope, c->req->request_id, c->hash, &prev, &prev_len);
	if (rv == PW_OK) {
		rv = apply_replay(c, prev, prev_len);
	} else if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "request_id was already used for a different request");
	} else if (rv != PW_NOT_FOUND) {
		srv_call_why(c, "looking up the request_id failed: %s", pw_status_message(rv));
	} else {
		rv = apply_call(t, c);
		if (rv == PW_OK) {
			keep = c->stored != NULL ? c->stored : c->reply;
			keep_len = c->stored != NULL ? c->stored_len : c->reply_len;
			rv = store_reply_put(t, c->scope, c->req->request_id, c->hash, keep, keep_len);
			if (rv != PW_OK) {
				srv_call_why(c, "storing the reply failed: %s", pw_status_message(rv));
			}
		}
	}
	c->apply_st = rv;
	return rv; /* not PW_OK: the nested transaction is rolled back */
}

void
srv_apply_done_cb(pw_status st, void *arg)
{
	srv_call *c = arg;

	PW_ASSERT(c != NULL && c->req != NULL);
	if (st != PW_OK) {
		if (!c->applied && st == PW_DEADLINE_EXCEEDED) {
			srv_call_why(c, "deadline_ms passed before the write was applied; nothing was written");
		} else if (!c->applied) {
			srv_call_why(c, "the write was not applied: %s", pw_status_message(st));
		} else if (c->apply_st != st) {
			/* The apply succeeded but its batch did not commit. */
			srv_call_why(c, "the commit failed: %s; nothing from this request was written",
			    pw_status_message(st));
		}
		srv_call_reply(c, st, c->why, NULL);
	}
	if (c->stored != NULL) {
		sodium_memzero(c->stored, c->stored_len);
		free(c->stored);
		c->stored = NULL;
		c->stored_len = 0;
	}
	srv_call_log(c);
	c->done(c, c->done_arg);
}
