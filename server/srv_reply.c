/*
 * srv_reply.c - reply builders, packing, sealing and redaction of replies.
 * See srv_reply.h.
 */
#include "srv_reply.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_MAGIC 0x00
#define SEAL_OVERHEAD (1 + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)

_Static_assert(crypto_secretbox_KEYBYTES == SRV_SEAL_KEY_BYTES, "secretbox key is 32 bytes");

/* ---- results ---- */

void
srv_result_init(srv_result *res)
{
	PW_ASSERT(res != NULL);
	memset(res, 0, sizeof(*res));
}

/* A string of a store-owned message that may hold a raw key: wiped in place
 * before the message is freed. protobuf_c_empty_string is shared, never
 * written. */
static void
wipe_string(char *s)
{
	if (s != NULL && s != protobuf_c_empty_string) {
		sodium_memzero(s, strlen(s));
	}
}

void
srv_result_fini(srv_result *res)
{
	PW_ASSERT(res != NULL);
	if (res->merchant != NULL) {
		paywire__v1__merchant_record__free_unpacked(res->merchant, NULL);
	}
	if (res->session != NULL) {
		paywire__v1__session_record__free_unpacked(res->session, NULL);
	}
	if (res->redeem != NULL) {
		wipe_string(res->redeem->access_key);
		paywire__v1__redeem_access_response__free_unpacked(res->redeem, NULL);
	}
	if (res->audit != NULL) {
		paywire__v1__verify_audit_response__free_unpacked(res->audit, NULL);
	}
	sodium_memzero(res, sizeof(*res)); /* api_key held a raw key */
}

/* ---- builders ---- */

void
srv_reply_msg_init(srv_reply_msg *m)
{
	PW_ASSERT(m != NULL);
	memset(m, 0, sizeof(*m));
	paywire__v1__response__init(&m->resp);
}

void
srv_reply_create_merchant(srv_reply_msg *m, srv_result *res)
{
	Paywire__V1__CreateMerchantResponse *out = &m->u.create_merchant;

	PW_ASSERT(res->merchant != NULL && res->api_key[0] != '\0');
	paywire__v1__create_merchant_response__init(out);
	out->merchant_id = res->merchant->merchant_id;
	out->api_key = res->api_key;
	out->name = res->merchant->name;
	out->mode = res->merchant->mode;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT;
	m->resp.create_merchant = out;
}

void
srv_reply_create_session(srv_reply_msg *m, srv_result *res)
{
	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	paywire__v1__create_session_response__init(&m->u.create_session);
	m->u.create_session.session = res->session->session;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION;
	m->resp.create_session = &m->u.create_session;
}

void
srv_reply_get_status(srv_reply_msg *m, srv_result *res)
{
	Paywire__V1__GetStatusResponse *g = &m->u.get_status;
	const Paywire__V1__Session *s;

	PW_ASSERT(res->session != NULL && res->session->session != NULL);
	s = res->session->session;
	paywire__v1__get_status_response__init(g);
	g->access_link = res->session->access_link; /* the record's, not the session's */
	g->invoice_number = res->session->invoice_number;
	g->session_id = s->id;
	g->status = s->status;
	g->payment_status = s->payment_status;
	g->payment_provider = s->payment_provider;
	g->amount_minor = s->amount_minor;
	g->currency = s->currency;
	g->created_at_unix_ms = s->created_at_unix_ms;
	g->paid_at_unix_ms = s->paid_at_unix_ms;
	g->amount_refunded_minor = s->amount_refunded_minor;
	g->mode = s->mode;
	g->merchant_id = s->merchant_id;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
	m->resp.get_status = g;
}

void
srv_reply_ingest_webhook(srv_reply_msg *m, srv_result *res)
{
	Paywire__V1__IngestWebhookResponse *w = &m->u.ingest_webhook;

	PW_ASSERT(res->event != NULL);
	/* The store fills fixed buffers: terminate them whatever it wrote. */
	res->webhook.session_id[sizeof(res->webhook.session_id) - 1] = '\0';
	res->webhook.reason[sizeof(res->webhook.reason) - 1] = '\0';
	res->webhook.access_key_id[sizeof(res->webhook.access_key_id) - 1] = '\0';
	paywire__v1__ingest_webhook_response__init(w);
	w->outcome = res->webhook.outcome;
	w->session_id = res->webhook.session_id;
	w->event_id = (char *) res->event->event_id;
	w->event_type = (char *) res->event->event_type;
	w->reason = res->webhook.reason;
	w->session_status = res->webhook.session_status;
	w->invoice_number = res->webhook.invoice_number;
	w->access_key_id = res->webhook.access_key_id;
	w->anomaly = res->webhook.anomaly;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	m->resp.ingest_webhook = w;
}

void
srv_reply_revoke_api_key(srv_reply_msg *m, srv_result *res)
{
	PW_ASSERT(m != NULL && res != NULL);
	paywire__v1__revoke_api_key_response__init(&m->u.revoke_api_key);
	m->u.revoke_api_key.merchant_id = res->merchant_id;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REVOKE_API_KEY;
	m->resp.revoke_api_key = &m->u.revoke_api_key;
}

/* The store's own message is the result: nothing to copy. */
void
srv_reply_verify_audit(srv_reply_msg *m, srv_result *res)
{
	PW_ASSERT(res->audit != NULL);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_VERIFY_AUDIT;
	m->resp.verify_audit = res->audit;
}

/* As for verify_audit; the raw access key in it is wiped by redaction or by
 * srv_result_fini. */
void
srv_reply_redeem_access(srv_reply_msg *m, srv_result *res)
{
	PW_ASSERT(res->redeem != NULL);
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_REDEEM_ACCESS;
	m->resp.redeem_access = res->redeem;
}

/* Wiping the key in place leaves "" (all NULs): it packs exactly as an empty
 * access_key, and the store-allocated string is freed as usual. */
bool
srv_reply_redact_redeem_access(srv_result *res)
{
	Paywire__V1__RedeemAccessResponse *r = res->redeem;

	PW_ASSERT(r != NULL);
	if (r->access_key == NULL || r->access_key[0] == '\0') {
		return false; /* nothing secret: keep the reply as sent */
	}
	wipe_string(r->access_key);
	r->already_revealed = 1;
	PW_ASSERT(r->access_key[0] == '\0');
	return true;
}

/* ---- packing ---- */

bool
srv_reply_pack(Paywire__V1__Response *resp, const char *request_id, pw_status st,
    const char *msg, uint8_t **out, size_t *out_len)
{
	Paywire__V1__Status status = PAYWIRE__V1__STATUS__INIT;
	size_t n;
	size_t w;
	uint8_t *buf;

	PW_ASSERT(resp != NULL && out != NULL && out_len != NULL);
	resp->request_id = (char *) (request_id != NULL ? request_id : "");
	status.code = pw_status_wire(st);
	status.message = (char *) (msg != NULL ? msg : "");
	resp->status = &status;
	n = paywire__v1__response__get_packed_size(resp);
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		resp->status = NULL;
		return false;
	}
	w = paywire__v1__response__pack(resp, buf);
	resp->status = NULL; /* points at our stack */
	PW_ASSERT(w == n);
	*out = buf;
	*out_len = n;
	return true;
}

bool
srv_reply_error_pack(const char *request_id, pw_status st, const char *msg, uint8_t **out,
    size_t *out_len)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;

	return srv_reply_pack(&resp, request_id, st, msg, out, out_len);
}

void
srv_reply_free(uint8_t **p, size_t *len)
{
	PW_ASSERT(p != NULL && len != NULL);
	if (*p != NULL) {
		sodium_memzero(*p, *len);
		free(*p);
	}
	*p = NULL;
	*len = 0;
}

/* ---- sealing ---- */

bool
srv_reply_is_sealed(const uint8_t *buf, size_t len)
{
	return len > 0 && buf[0] == SEAL_MAGIC;
}

/* The key of one stored reply: BLAKE2b-256(key, scope 0x00 request_id). */
static void
seal_key(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope, const char *request_id,
    uint8_t out[crypto_secretbox_KEYBYTES])
{
	crypto_generichash_state s;

	(void) crypto_generichash_init(&s, key, SRV_SEAL_KEY_BYTES, crypto_secretbox_KEYBYTES);
	(void) crypto_generichash_update(&s, (const uint8_t *) scope, strlen(scope) + 1);
	(void) crypto_generichash_update(&s, (const uint8_t *) request_id, strlen(request_id));
	(void) crypto_generichash_final(&s, out, crypto_secretbox_KEYBYTES);
}

bool
srv_reply_seal(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope,
    const char *request_id, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	uint8_t k[crypto_secretbox_KEYBYTES];
	uint8_t *buf;
	size_t n = SEAL_OVERHEAD + in_len;

	PW_ASSERT(key != NULL && scope != NULL && request_id != NULL && in != NULL);
	PW_ASSERT(!srv_reply_is_sealed(in, in_len)); /* a packed Response */
	buf = malloc(n);
	if (buf == NULL) {
		return false;
	}
	buf[0] = SEAL_MAGIC;
	pw_random(buf + 1, crypto_secretbox_NONCEBYTES);
	seal_key(key, scope, request_id, k);
	(void) crypto_secretbox_easy(buf + 1 + crypto_secretbox_NONCEBYTES, in, in_len, buf + 1, k);
	sodium_memzero(k, sizeof(k));
	*out = buf;
	*out_len = n;
	return true;
}

pw_status
srv_reply_unseal(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope,
    const char *request_id, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
    char *why, size_t why_size)
{
	uint8_t k[crypto_secretbox_KEYBYTES];
	uint8_t *buf;
	size_t n;
	int rv;

	PW_ASSERT(key != NULL && scope != NULL && request_id != NULL && in != NULL);
	PW_ASSERT(srv_reply_is_sealed(in, in_len));
	if (in_len < SEAL_OVERHEAD) {
		(void) snprintf(why, why_size, "the stored reply for this request_id cannot be opened");
		return PW_INTERNAL;
	}
	n = in_len - SEAL_OVERHEAD;
	buf = malloc(n > 0 ? n : 1);
	if (buf == NULL) {
		(void) snprintf(why, why_size, "out of memory");
		return PW_UNAVAILABLE;
	}
	seal_key(key, scope, request_id, k);
	rv = crypto_secretbox_open_easy(buf, in + 1 + crypto_secretbox_NONCEBYTES,
	    in_len - 1 - crypto_secretbox_NONCEBYTES, in + 1, k);
	sodium_memzero(k, sizeof(k));
	if (rv != 0) {
		free(buf);
		/* The admin key changed since the reply was stored. */
		(void) snprintf(why, why_size,
		    "the stored reply for this request_id was sealed with another admin key");
		return PW_INTERNAL;
	}
	*out = buf;
	*out_len = n;
	return PW_OK;
}
