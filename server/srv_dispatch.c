/*
 * srv_dispatch.c - frame -> request -> auth -> validation -> read or queued
 * write -> reply. The write half (apply callbacks) is in srv_apply.c.
 */
#include "srv_dispatch.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "srv_apply.h"
#include "srv_validate.h"
#include "srv_wire.h"

int64_t
srv_mono_us(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- env ---- */

pw_status
srv_env_init(srv_env *env, store *st, const srv_webhook_config *webhooks, const char *admin_key,
    const char *public_url)
{
	static const char seal_ctx[] = "paywire.reply-seal.v1";
	size_t ulen;

	PW_ASSERT(env != NULL && st != NULL && webhooks != NULL);
	memset(env, 0, sizeof(*env));
	if (public_url == NULL || !srv_validate_url(public_url)) {
		pw_log(PW_LOG_ERROR, "--public-url must be an http:// or https:// URL with a host");
		return PW_INVALID_ARGUMENT;
	}
	ulen = strlen(public_url);
	while (ulen > 0 && public_url[ulen - 1] == '/') {
		ulen--; /* "http://h/" + "/checkout" would double the slash */
	}
	PW_ASSERT(ulen + sizeof(SRV_CHECKOUT_PATH) <= sizeof(env->checkout_url_base));
	memcpy(env->checkout_url_base, public_url, ulen);
	memcpy(env->checkout_url_base + ulen, SRV_CHECKOUT_PATH, sizeof(SRV_CHECKOUT_PATH));
	env->st = st;
	env->webhooks = webhooks;
	if (admin_key != NULL && admin_key[0] != '\0') {
		env->admin_key_set = true;
		(void) crypto_generichash(env->admin_key_hash, sizeof(env->admin_key_hash),
		    (const uint8_t *) admin_key, strlen(admin_key), NULL, 0);
		(void) crypto_generichash(env->reply_seal_key, sizeof(env->reply_seal_key),
		    (const uint8_t *) seal_ctx, sizeof(seal_ctx) - 1, env->admin_key_hash,
		    sizeof(env->admin_key_hash));
	}
	atomic_init(&env->stopping, false);
	atomic_init(&env->store_users, 0);
	return PW_OK;
}

void
srv_env_fini(srv_env *env)
{
	PW_ASSERT(env != NULL);
	PW_ASSERT(atomic_load(&env->store_users) == 0);
	sodium_memzero(env->admin_key_hash, sizeof(env->admin_key_hash));
	sodium_memzero(env->reply_seal_key, sizeof(env->reply_seal_key));
	env->admin_key_set = false;
}

void
srv_env_stop(srv_env *env)
{
	const struct timespec pause = { 0, 100 * 1000 };

	atomic_store(&env->stopping, true);
	/* Requests that saw stopping == false are inside a store read or
	 * store_submit: both return in microseconds and never wait. */
	while (atomic_load(&env->store_users) != 0) {
		(void) nanosleep(&pause, NULL);
	}
}

/* ---- call ---- */

void
srv_call_init(srv_call *c, srv_env *env, srv_call_done_fn done, void *arg)
{
	PW_ASSERT(c != NULL && env != NULL && done != NULL);
	memset(c, 0, sizeof(*c));
	c->env = env;
	c->done = done;
	c->done_arg = arg;
	c->call_name = "none";
}

static void
wipe_free(uint8_t **p, size_t *len)
{
	if (*p != NULL) {
		sodium_memzero(*p, *len); /* replies may carry a raw API or access key */
		free(*p);
	}
	*p = NULL;
	*len = 0;
}

void
srv_call_reset(srv_call *c)
{
	PW_ASSERT(c != NULL);
	if (c->req != NULL) {
		paywire__v1__request__free_unpacked(c->req, NULL);
		c->req = NULL;
	}
	wipe_free(&c->reply, &c->reply_len);
	wipe_free(&c->stored, &c->stored_len);
	c->call_name = "none";
	c->echo_id[0] = '\0';
	c->scope[0] = '\0';
	c->merchant_id[0] = '\0';
	c->why[0] = '\0';
	c->status = PW_OK;
	c->apply_st = PW_OK;
	c->applied = false;
	c->replayed = false;
}

pw_status
srv_call_status(const srv_call *c)
{
	return c->status;
}

/* ---- replies ---- */

bool
srv_reply_error_pack(const char *request_id, pw_status st, const char *msg, uint8_t **out,
    size_t *out_len)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;

	resp.request_id = (char *) (request_id != NULL ? request_id : "");
	return srv_response_pack(&resp, st, msg, out, out_len);
}

bool
srv_response_pack(Paywire__V1__Response *resp, pw_status st, const char *msg, uint8_t **out,
    size_t *out_len)
{
	Paywire__V1__Status status = PAYWIRE__V1__STATUS__INIT;
	size_t n;
	size_t w;
	uint8_t *buf;

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

void
srv_call_reply(srv_call *c, pw_status st, const char *msg, Paywire__V1__Response *resp)
{
	Paywire__V1__Response local = PAYWIRE__V1__RESPONSE__INIT;

	if (resp == NULL) {
		resp = &local;
	}
	resp->request_id = c->req != NULL ? c->req->request_id : c->echo_id;
	wipe_free(&c->reply, &c->reply_len);
	c->status = st;
	if (!srv_response_pack(resp, st, msg, &c->reply, &c->reply_len)) {
		/* Out of memory: the transport sends nothing and the client's
		 * timeout and retry (same request_id) take over. */
		pw_log(PW_LOG_WARN, "rpc: out of memory packing a reply");
		c->status = PW_INTERNAL;
	}
}

void
srv_call_why(srv_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

/* Copies a client-supplied id for a log line: visible ASCII only. */
static void
log_safe(char *out, size_t out_size, const char *in)
{
	size_t i = 0;

	for (; in != NULL && in[i] != '\0' && i + 1 < out_size; i++) {
		unsigned char ch = (unsigned char) in[i];
		out[i] = (ch > 0x20 && ch < 0x7f) ? (char) ch : '?';
	}
	out[i] = '\0';
}

void
srv_call_log(srv_call *c)
{
	char rid[72];
	pw_log_level lvl = PW_LOG_DEBUG;
	long long us = (long long) (srv_mono_us() - c->start_us);

	if (c->status != PW_OK) {
		atomic_fetch_add_explicit(&c->env->counters.errors, 1, memory_order_relaxed);
	}
	/* Errors that an operator must look at go to warn; a caller's mistake
	 * (bad input, bad key) is the caller's business and stays at debug. */
	if (c->status == PW_INTERNAL || c->status == PW_UNAVAILABLE ||
	    c->status == PW_RESOURCE_EXHAUSTED) {
		lvl = PW_LOG_WARN;
	}
	if (!pw_log_enabled(lvl)) {
		return;
	}
	log_safe(rid, sizeof(rid), c->req != NULL ? c->req->request_id : c->echo_id);
	pw_log(lvl, "rpc request_id=%s call=%s status=%s us=%lld%s%s%s", rid[0] ? rid : "-",
	    c->call_name, pw_status_name(c->status), us, c->replayed ? " replay=1" : "",
	    c->status != PW_OK ? " why=" : "", c->status != PW_OK ? c->why : "");
}

/* Error reply now (no store write). */
static srv_call_result
reply_now(srv_call *c, pw_status st)
{
	if (st == PW_OK) {
		c->why[0] = '\0';
	}
	srv_call_reply(c, st, c->why, NULL);
	srv_call_log(c);
	return SRV_CALL_REPLY;
}

/* ---- auth ---- */

static pw_status
auth_admin(srv_call *c)
{
	const srv_env *env = c->env;
	const char *key = c->req->api_key;
	uint8_t h[32];
	int cmp;

	if (!env->admin_key_set) {
		srv_call_why(c, "no admin key configured (set PAYWIRE_ADMIN_KEY on the server)");
		return PW_PERMISSION_DENIED;
	}
	if (key == NULL || key[0] == '\0') {
		srv_call_why(c, "missing API key (admin calls take the admin key in api_key)");
		return PW_UNAUTHENTICATED;
	}
	/* Hash both sides so the comparison is constant-time and independent of
	 * the length of either key. */
	(void) crypto_generichash(h, sizeof(h), (const uint8_t *) key, strlen(key), NULL, 0);
	cmp = sodium_memcmp(h, env->admin_key_hash, sizeof(h));
	sodium_memzero(h, sizeof(h));
	if (cmp != 0) {
		srv_call_why(c, "invalid admin key");
		return PW_UNAUTHENTICATED;
	}
	return PW_OK;
}

static pw_status
auth_merchant(srv_call *c, Paywire__V1__Mode *mode)
{
	pw_status rv;

	rv = srv_validate_api_key(c->req->api_key, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return rv;
	}
	rv = store_apikey_auth(c->env->st, c->req->api_key, c->merchant_id, sizeof(c->merchant_id),
	    mode);
	if (rv == PW_UNAUTHENTICATED) {
		srv_call_why(c, "invalid or revoked API key");
	} else if (rv != PW_OK) {
		srv_call_why(c, "API key check failed: %s", pw_status_message(rv));
	}
	return rv;
}

/* ---- writes ---- */

typedef struct hash_sink {
	ProtobufCBuffer base;              /* protobuf-c virtual buffer (append) */
	crypto_generichash_state state;    /* BLAKE2b-256 being fed */
} hash_sink;

static void
hash_sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	hash_sink *s = (hash_sink *) b;

	(void) crypto_generichash_update(&s->state, data, len);
}

/* hash = BLAKE2b-256(call field number || packed call sub-message), streamed
 * (no copy of a 1 MiB webhook body). */
static void
call_hash(srv_call *c, const ProtobufCMessage *sub)
{
	hash_sink s;
	uint8_t tag = (uint8_t) c->req->call_case;

	PW_ASSERT(sub != NULL);
	memset(&s, 0, sizeof(s));
	s.base.append = hash_sink_append;
	(void) crypto_generichash_init(&s.state, NULL, 0, sizeof(c->hash));
	(void) crypto_generichash_update(&s.state, &tag, 1);
	(void) protobuf_c_message_pack_to_buffer(sub, &s.base);
	(void) crypto_generichash_final(&s.state, c->hash, sizeof(c->hash));
}

static srv_call_result
submit_write(srv_call *c, const ProtobufCMessage *sub)
{
	srv_env *env = c->env;
	pw_status rv;

	PW_ASSERT(c->scope[0] != '\0');
	call_hash(c, sub);
	if (store_failed(env->st)) {
		srv_call_why(c, "the store failed; the server is restarting, retry later");
		return reply_now(c, PW_UNAVAILABLE);
	}
	memset(&c->w, 0, sizeof(c->w));
	c->w.apply = srv_apply_cb;
	c->w.done = srv_apply_done_cb;
	c->w.arg = c;
	if (c->req->deadline_ms > 0) {
		c->w.deadline_mono_ms = pw_monotonic_ms() + (int64_t) c->req->deadline_ms;
	}
	c->applied = false;
	c->apply_st = PW_OK;
	rv = store_submit(env->st, &c->w);
	if (rv != PW_OK) {
		srv_call_why(c, "write not queued: %s", pw_status_message(rv));
		return reply_now(c, rv);
	}
	atomic_fetch_add_explicit(&env->counters.writes, 1, memory_order_relaxed);
	/* From here the writer thread owns c until done runs: touch nothing. */
	return SRV_CALL_QUEUED;
}

/* ---- calls ---- */

static srv_call_result
call_create_merchant(srv_call *c)
{
	pw_status rv;

	rv = auth_admin(c);
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	rv = srv_validate_create_merchant(c->req->create_merchant, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	(void) pw_strlcpy(c->scope, "admin", sizeof(c->scope));
	return submit_write(c, &c->req->create_merchant->base);
}

static srv_call_result
call_create_session(srv_call *c)
{
	const Paywire__V1__CreateSessionRequest *r = c->req->create_session;
	Paywire__V1__Mode key_mode = PAYWIRE__V1__MODE__MODE_UNSPECIFIED;
	pw_status rv;

	rv = auth_merchant(c, &key_mode);
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	rv = srv_validate_create_session(r, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	if (r->mode == PAYWIRE__V1__MODE__MODE_LIVE && key_mode != PAYWIRE__V1__MODE__MODE_LIVE) {
		srv_call_why(c, "a test API key cannot create a live session");
		return reply_now(c, PW_PERMISSION_DENIED);
	}
	PW_ASSERT(c->merchant_id[0] != '\0');
	(void) pw_strlcpy(c->scope, c->merchant_id, sizeof(c->scope));
	return submit_write(c, &r->base);
}

static srv_call_result
call_revoke_api_key(srv_call *c)
{
	pw_status rv;

	rv = auth_admin(c);
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	rv = srv_validate_revoke_api_key(c->req->revoke_api_key, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	(void) pw_strlcpy(c->scope, "admin", sizeof(c->scope));
	return submit_write(c, &c->req->revoke_api_key->base);
}

static srv_call_result
call_redeem_access(srv_call *c)
{
	pw_status rv;

	rv = srv_validate_redeem_access(c->req->redeem_access, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	(void) pw_strlcpy(c->scope, "access", sizeof(c->scope));
	return submit_write(c, &c->req->redeem_access->base);
}

/* Verifies then parses on this thread (no store access, no waiting); only
 * a verified, well-formed event reaches the writer. */
static srv_call_result
call_ingest_webhook(srv_call *c)
{
	const Paywire__V1__IngestWebhookRequest *r = c->req->ingest_webhook;
	srv_header h[PW_WEBHOOK_HEADERS_MAX];
	pw_provider p;
	pw_status rv;

	rv = srv_validate_ingest_webhook(r, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	PW_ASSERT(r->n_headers <= PW_WEBHOOK_HEADERS_MAX);
	for (size_t i = 0; i < r->n_headers; i++) {
		h[i].name = r->headers[i]->key;
		h[i].value = r->headers[i]->value;
	}
	p = (pw_provider) r->provider;
	rv = srv_webhook_verify(c->env->webhooks, p, h, r->n_headers, r->body.data, r->body.len,
	    pw_now_unix_ms() / 1000, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	rv = srv_webhook_parse(c->env->webhooks, p, h, r->n_headers, r->body.data, r->body.len,
	    &c->ev, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	(void) snprintf(c->scope, sizeof(c->scope), "webhook:%s", pw_provider_name(p));
	return submit_write(c, &r->base);
}

static srv_call_result
call_get_status(srv_call *c)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__GetStatusResponse g = PAYWIRE__V1__GET_STATUS_RESPONSE__INIT;
	Paywire__V1__SessionRecord *rec = NULL;
	const Paywire__V1__Session *s;
	pw_status rv;

	rv = srv_validate_get_status(c->req->get_status, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	rv = store_session_get(c->env->st, c->req->get_status->session_id, &rec);
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "session %s not found", c->req->get_status->session_id);
		return reply_now(c, rv);
	}
	if (rv != PW_OK) {
		srv_call_why(c, "reading the session failed: %s", pw_status_message(rv));
		return reply_now(c, rv);
	}
	s = rec->session;
	if (s == NULL) {
		paywire__v1__session_record__free_unpacked(rec, NULL);
		srv_call_why(c, "session record without a session (corrupt record)");
		return reply_now(c, PW_INTERNAL);
	}
	g.session_id = s->id;
	g.status = s->status;
	g.payment_status = s->payment_status;
	g.payment_provider = s->payment_provider;
	g.amount_minor = s->amount_minor;
	g.currency = s->currency;
	g.created_at_unix_ms = s->created_at_unix_ms;
	g.paid_at_unix_ms = s->paid_at_unix_ms;
	g.amount_refunded_minor = s->amount_refunded_minor;
	g.mode = s->mode;
	g.merchant_id = s->merchant_id;
	g.access_link = rec->access_link;
	g.invoice_number = rec->invoice_number;
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
	resp.get_status = &g;
	c->why[0] = '\0';
	srv_call_reply(c, PW_OK, "", &resp);
	paywire__v1__session_record__free_unpacked(rec, NULL);
	srv_call_log(c);
	return SRV_CALL_REPLY;
}

static srv_call_result
call_verify_audit(srv_call *c)
{
	Paywire__V1__Response resp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__VerifyAuditResponse *out = NULL;
	pw_status rv;

	rv = auth_admin(c);
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	/* A read transaction that walks the chain: it never waits for the writer. */
	rv = store_audit_verify(c->env->st, &out);
	if (rv != PW_OK) {
		srv_call_why(c, "audit verification failed to run: %s", pw_status_message(rv));
		return reply_now(c, rv);
	}
	resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_VERIFY_AUDIT;
	resp.verify_audit = out;
	c->why[0] = '\0';
	srv_call_reply(c, PW_OK, "", &resp);
	paywire__v1__verify_audit_response__free_unpacked(out, NULL);
	srv_call_log(c);
	return SRV_CALL_REPLY;
}

static const char *
call_name(Paywire__V1__Request__CallCase cc)
{
	switch (cc) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT: return "create_merchant";
	case PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION: return "create_session";
	case PAYWIRE__V1__REQUEST__CALL_GET_STATUS: return "get_status";
	case PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK: return "ingest_webhook";
	case PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY: return "revoke_api_key";
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT: return "verify_audit";
	case PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS: return "redeem_access";
	case PAYWIRE__V1__REQUEST__CALL__NOT_SET:
	case _PAYWIRE__V1__REQUEST__CALL__CASE_IS_INT_SIZE:
		break;
	}
	return "none";
}

static bool
call_mutates(Paywire__V1__Request__CallCase cc)
{
	switch (cc) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT:
	case PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION:
	case PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK:
	case PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY:
	case PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS:
		return true;
	case PAYWIRE__V1__REQUEST__CALL_GET_STATUS:
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT:
	case PAYWIRE__V1__REQUEST__CALL__NOT_SET:
	case _PAYWIRE__V1__REQUEST__CALL__CASE_IS_INT_SIZE:
		break;
	}
	return false;
}

static srv_call_result
route(srv_call *c)
{
	switch (c->req->call_case) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT: return call_create_merchant(c);
	case PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION: return call_create_session(c);
	case PAYWIRE__V1__REQUEST__CALL_GET_STATUS: return call_get_status(c);
	case PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK: return call_ingest_webhook(c);
	case PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY: return call_revoke_api_key(c);
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT: return call_verify_audit(c);
	case PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS: return call_redeem_access(c);
	case PAYWIRE__V1__REQUEST__CALL__NOT_SET:
	case _PAYWIRE__V1__REQUEST__CALL__CASE_IS_INT_SIZE:
		break;
	}
	srv_call_why(c, "no call set in Request (set one of the oneof call fields)");
	return reply_now(c, PW_INVALID_ARGUMENT);
}

/* Runs route() unless the server is stopping. store_users and stopping form
 * a Dekker pair (seq_cst): srv_env_stop sets stopping then waits for
 * store_users == 0; we raise store_users then read stopping. Either we see
 * stopping, or srv_env_stop waits for us. */
static srv_call_result
route_guarded(srv_call *c)
{
	srv_env *env = c->env;
	srv_call_result res;

	atomic_fetch_add(&env->store_users, 1);
	if (atomic_load(&env->stopping)) {
		atomic_fetch_sub(&env->store_users, 1);
		srv_call_why(c, "server is shutting down, retry later");
		return reply_now(c, PW_UNAVAILABLE);
	}
	res = route(c);
	atomic_fetch_sub(&env->store_users, 1);
	return res;
}

/* A frame the wire validator refused is still answered with its request_id
 * when one can be read (clients match replies on it): protobuf-c unpacks
 * any input safely; only a printable request_id is echoed, nothing else of
 * the frame is used. */
static void
echo_best_effort(srv_call *c, const uint8_t *buf, size_t len)
{
	Paywire__V1__Request *req = paywire__v1__request__unpack(NULL, len, buf);

	if (req == NULL) {
		return;
	}
	if (srv_validate_request_id(req->request_id, false, NULL, 0) == PW_OK) {
		(void) pw_strlcpy(c->echo_id, req->request_id, sizeof(c->echo_id));
	}
	paywire__v1__request__free_unpacked(req, NULL);
}

srv_call_result
srv_dispatch_handle(srv_call *c, const uint8_t *buf, size_t len)
{
	pw_status rv;

	PW_ASSERT(c != NULL && c->req == NULL && c->reply == NULL);
	PW_ASSERT(buf != NULL || len == 0);
	c->start_us = srv_mono_us();
	atomic_fetch_add_explicit(&c->env->counters.frames, 1, memory_order_relaxed);
	rv = srv_wire_check(&paywire__v1__request__descriptor, buf, len, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		echo_best_effort(c, buf, len);
		return reply_now(c, rv);
	}
	c->req = paywire__v1__request__unpack(NULL, len, buf);
	if (c->req == NULL) {
		srv_call_why(c, "frame is not a paywire.v1.Request");
		return reply_now(c, PW_INVALID_ARGUMENT);
	}
	c->call_name = call_name(c->req->call_case);
	rv = srv_validate_request_id(c->req->request_id, call_mutates(c->req->call_case), c->why,
	    sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv);
	}
	return route_guarded(c);
}
