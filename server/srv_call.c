/*
 * srv_call.c - the shared env and the state of one request: lifecycle,
 * reason, reply and log line. See srv_call.h.
 */
#include "srv_call.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "srv_validate.h"

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

	PW_ASSERT(env != NULL);
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
	srv_result_init(&c->res);
}

void
srv_call_reset(srv_call *c)
{
	PW_ASSERT(c != NULL);
	if (c->req != NULL) {
		/* the one request that carries a provider secret: wiped, not just freed */
		if (c->req->call_case == PAYWIRE__V1__REQUEST__CALL_SET_PROVIDER_CREDENTIALS &&
		    c->req->set_provider_credentials != NULL &&
		    c->req->set_provider_credentials->secret != NULL) {
			char *sec = c->req->set_provider_credentials->secret;
			sodium_memzero(sec, strlen(sec));
		}
		paywire__v1__request__free_unpacked(c->req, NULL);
		c->req = NULL;
	}
	srv_result_fini(&c->res);
	srv_reply_free(&c->reply, &c->reply_len);
	srv_reply_free(&c->stored, &c->stored_len);
	if (c->cont != NULL) {
		paywire__v1__response__free_unpacked(c->cont, NULL);
		c->cont = NULL;
	}
	sodium_memzero(c->prov_url, sizeof(c->prov_url));
	c->prov_id[0] = '\0';
	c->next_cont = NULL;
	c->retry_after_ms = 0;
	c->prov_refused = false;
	c->prov_err = PW_OK;
	c->prov_why[0] = '\0';
	c->ops = NULL;
	c->call_name = "none";
	c->echo_id[0] = '\0';
	c->scope[0] = '\0';
	c->merchant_id[0] = '\0';
	c->key_mode = PAYWIRE__V1__MODE__MODE_UNSPECIFIED;
	c->why[0] = '\0';
	c->status = PW_OK;
	c->wh_tally = SRV_WH_NONE;
	c->wh_quarantine = false;
	c->q_parsed = false;
	c->q_reason[0] = '\0';
	c->apply_st = PW_OK;
	c->applied = false;
	c->replayed = false;
}

pw_status
srv_call_status(const srv_call *c)
{
	return c->status;
}

void
srv_call_why(srv_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

void
srv_call_reply(srv_call *c, pw_status st, const char *msg, Paywire__V1__Response *resp)
{
	const char *rid = c->req != NULL ? c->req->request_id : c->echo_id;
	bool ok;

	srv_reply_free(&c->reply, &c->reply_len);
	c->status = st;
	if (resp == NULL) {
		ok = srv_reply_error_pack_retry(rid, st, msg, c->retry_after_ms, &c->reply,
		    &c->reply_len);
	} else {
		ok = srv_reply_pack(resp, rid, st, msg, &c->reply, &c->reply_len);
	}
	if (!ok) {
		/* Out of memory: the transport sends nothing and the client's
		 * timeout and retry (same request_id) take over. */
		pw_log(PW_LOG_WARN, "rpc: out of memory packing a reply");
		c->status = PW_INTERNAL;
	}
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
srv_env_log_webhooks(srv_env *env)
{
	uint64_t v[5];

	PW_ASSERT(env != NULL);
	for (size_t i = 0; i < 5; i++) {
		v[i] = (uint64_t) atomic_load_explicit(&env->counters.webhooks[i], memory_order_relaxed);
	}
	pw_log(PW_LOG_INFO, "webhooks answered: applied=%llu duplicate=%llu ignored=%llu anomaly=%llu "
	    "quarantined=%llu", (unsigned long long) v[0], (unsigned long long) v[1],
	    (unsigned long long) v[2], (unsigned long long) v[3], (unsigned long long) v[4]);
}

const char *const srv_wh_tally_names[5] = { "applied", "duplicate", "ignored", "anomaly",
	"quarantined" };

void
srv_call_log(srv_call *c)
{
	char rid[72];
	pw_log_level lvl = PW_LOG_DEBUG;
	long long us = (long long) (srv_mono_us() - c->start_us);

	if (c->status != PW_OK) {
		atomic_fetch_add_explicit(&c->env->counters.errors, 1, memory_order_relaxed);
	} else if (c->wh_tally != SRV_WH_NONE) {
		atomic_fetch_add_explicit(&c->env->counters.webhooks[c->wh_tally - 1], 1,
		    memory_order_relaxed);
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
