/*
 * srv_dispatch.c - frame -> request -> the call's row -> auth -> validation
 * -> read here, or a queued write (srv_apply.c) -> reply. The same path for
 * every call: what a call does is in its row (srv_calls.c).
 */
#include "srv_dispatch.h"

#include <sodium.h>
#include <string.h>

#include "srv_apply.h"
#include "srv_calls.h"
#include "srv_limit.h"
#include "srv_map.h"
#include "srv_reply.h"
#include "srv_validate.h"
#include "srv_wire.h"

/* Answers now, on this thread (no store write): resp, or a bare status with
 * c->why when resp is NULL. */
static srv_call_result
reply_now(srv_call *c, pw_status st, Paywire__V1__Response *resp)
{
	if (st == PW_OK) {
		c->why[0] = '\0';
	}
	srv_call_reply(c, st, c->why, resp);
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
auth_merchant(srv_call *c)
{
	Paywire__Store__V1__Mode key_mode = PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED;
	pw_status rv;

	rv = srv_validate_api_key(c->req->api_key, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return rv;
	}
	rv = store_apikey_auth(c->env->st, c->req->api_key, c->merchant_id, sizeof(c->merchant_id),
	    &key_mode);
	c->key_mode = srv_map_mode_to_wire(key_mode);
	if (rv == PW_UNAUTHENTICATED) {
		srv_call_why(c, "invalid or revoked API key");
	} else if (rv != PW_OK) {
		srv_call_why(c, "API key check failed: %s", pw_status_message(rv));
	}
	return rv;
}

static pw_status
call_auth(srv_call *c)
{
	switch (c->ops->auth) {
	case SRV_AUTH_NONE:
		return PW_OK;
	case SRV_AUTH_MERCHANT:
		return auth_merchant(c);
	case SRV_AUTH_ADMIN:
		return auth_admin(c);
	}
	PW_ASSERT(!"a call table row with an unknown auth kind");
	return PW_INTERNAL;
}

/* ---- rate limits (srv_limit.h): per merchant key's merchant, per class ---- */

static pw_status
call_limit(srv_call *c)
{
	srv_limit_class cls;
	int64_t wait_ms = 0;

	if (c->env->limiter == NULL || c->ops->auth != SRV_AUTH_MERCHANT) {
		return PW_OK; /* admin calls; capabilities (GetStatus, webhooks): the bridge limits IPs */
	}
	if (c->ops->provider != NULL &&
	    (c->ops->wants_provider == NULL || c->ops->wants_provider(c))) {
		cls = SRV_LIMIT_PROVIDER;
	} else {
		cls = c->ops->mutates ? SRV_LIMIT_WRITES : SRV_LIMIT_READS;
	}
	if (srv_limiter_take(c->env->limiter, c->merchant_id, cls, srv_mono_us(), &wait_ms)) {
		return PW_OK;
	}
	c->retry_after_ms = wait_ms;
	srv_call_why(c, "rate limit for %s reached for this merchant: retry in %lld ms",
	    srv_limit_class_name(cls), (long long) wait_ms);
	return PW_RESOURCE_EXHAUSTED;
}

/* ---- reads and writes ---- */

/* A read: the row's read on this thread, then its reply. */
static srv_call_result
call_read(srv_call *c)
{
	srv_reply_msg m;
	srv_call_result res;
	pw_status rv;

	rv = srv_calls_read(c);
	if (rv != PW_OK) {
		srv_result_fini(&c->res);
		return reply_now(c, rv, NULL);
	}
	srv_reply_msg_init(&m);
	c->ops->reply(&m, &c->res);
	res = reply_now(c, PW_OK, &m.resp);
	srv_result_fini(&c->res);
	return res;
}

static srv_call_result
route(srv_call *c)
{
	const srv_call_ops *ops = c->ops;
	bool answered = false;
	pw_status rv;

	if (ops == NULL) {
		srv_call_why(c, "no call set in Request (set one of the oneof call fields)");
		return reply_now(c, PW_INVALID_ARGUMENT, NULL);
	}
	rv = call_auth(c);
	if (rv != PW_OK) {
		return reply_now(c, rv, NULL);
	}
	rv = call_limit(c);
	if (rv != PW_OK) {
		return reply_now(c, rv, NULL);
	}
	if (ops->validate != NULL) {
		rv = ops->validate(c);
		if (rv != PW_OK) {
			return reply_now(c, rv, NULL);
		}
	}
	if (!ops->mutates) {
		return call_read(c);
	}
	rv = srv_apply_submit(c, &answered);
	if (rv != PW_OK) {
		return reply_now(c, rv, NULL);
	}
	if (answered) {
		srv_call_log(c); /* from a read: nothing was written */
		return SRV_CALL_REPLY;
	}
	return SRV_CALL_QUEUED; /* the writer thread owns c now */
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
		return reply_now(c, PW_UNAVAILABLE, NULL);
	}
	res = route(c);
	atomic_fetch_sub(&env->store_users, 1);
	return res;
}

/* ---- frames ---- */

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
		return reply_now(c, rv, NULL);
	}
	c->req = paywire__v1__request__unpack(NULL, len, buf);
	if (c->req == NULL) {
		srv_call_why(c, "frame is not a paywire.v1.Request");
		return reply_now(c, PW_INVALID_ARGUMENT, NULL);
	}
	c->ops = srv_calls_find(c->req->call_case);
	c->call_name = c->ops != NULL ? c->ops->name : "none";
	rv = srv_validate_request_id(c->req->request_id, c->ops != NULL && c->ops->mutates, c->why,
	    sizeof(c->why));
	if (rv != PW_OK) {
		return reply_now(c, rv, NULL);
	}
	return route_guarded(c);
}
