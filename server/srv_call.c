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

#include "srv_metrics.h"
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
	c->state_note[0] = '\0';
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

/* The metrics outcome of a webhook answered with tally t (SRV_WH_NONE: an
 * error answer). */
static srv_metrics_wh
log_wh_outcome(srv_wh_tally t)
{
	switch (t) {
	case SRV_WH_APPLIED:
		return SRV_METRICS_WH_APPLIED;
	case SRV_WH_DUPLICATE:
		return SRV_METRICS_WH_DUPLICATE;
	case SRV_WH_IGNORED:
		return SRV_METRICS_WH_IGNORED;
	case SRV_WH_ANOMALY:
		return SRV_METRICS_WH_ANOMALY;
	case SRV_WH_QUARANTINED:
		return SRV_METRICS_WH_QUARANTINED;
	case SRV_WH_NONE:
		break;
	}
	return SRV_METRICS_WH_REJECTED;
}

/* The name of a session status ("SESSION_STATUS_PAID"). */
static const char *
note_status_name(int v)
{
	const ProtobufCEnumValue *e =
	    protobuf_c_enum_descriptor_get_value(&paywire__store__v1__session_status__descriptor, v);

	return e != NULL ? e->name : "?";
}

void
srv_call_note_state(srv_call *c)
{
	Paywire__V1__Request__CallCase cc = c->req != NULL ? c->req->call_case
	                                                    : PAYWIRE__V1__REQUEST__CALL__NOT_SET;

	c->state_note[0] = '\0';
	c->note_level = PW_LOG_INFO;
	if (cc == PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK && c->req->ingest_webhook != NULL) {
		pw_provider p = (pw_provider) c->req->ingest_webhook->provider;
		const char *pname = pw_provider_known(p) ? pw_provider_name(p) : "unknown";
		const store_webhook_result *w = &c->res.webhook;
		const char *sess = w->session_id[0] ? w->session_id : "-";

		if (c->wh_tally == SRV_WH_ANOMALY || w->anomaly) {
			c->note_level = PW_LOG_WARN;
			(void) snprintf(c->state_note, sizeof(c->state_note),
			    "anomaly provider=%s session=%.64s event=%.64s reason=%.120s", pname, sess,
			    c->ev.event_type, w->reason[0] ? w->reason : "-");
		} else if (c->wh_tally == SRV_WH_APPLIED) {
			(void) snprintf(c->state_note, sizeof(c->state_note),
			    "webhook applied provider=%s session=%.64s event=%.64s kind=%s session_status=%s",
			    pname, sess, c->ev.event_type, c->ev.kind == PW_EV_REFUND ? "refund" : "payment",
			    note_status_name((int) w->session_status));
		} else if (c->wh_tally == SRV_WH_QUARANTINED) {
			c->note_level = PW_LOG_WARN;
			(void) snprintf(c->state_note, sizeof(c->state_note),
			    "webhook quarantined provider=%s event=%.64s", pname, c->ev.event_type);
		}
		return;
	}
	if (cc == PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION && c->res.session != NULL &&
	    c->res.session->session != NULL) {
		const Paywire__Store__V1__Session *s = c->res.session->session;

		(void) snprintf(c->state_note, sizeof(c->state_note),
		    "session created session=%.64s merchant=%.64s amount_minor=%lld currency=%.8s", s->id,
		    c->merchant_id, (long long) s->amount_minor, s->currency);
	} else if (cc == PAYWIRE__V1__REQUEST__CALL_REFUND_PAYMENT && c->res.refund != NULL) {
		(void) snprintf(c->state_note, sizeof(c->state_note),
		    "refund %.64s session=%.64s merchant=%.64s amount_minor=%lld state=%d", c->res.refund->id,
		    c->res.refund->session_id, c->merchant_id, (long long) c->res.refund->amount_minor,
		    (int) c->res.refund->state);
	}
}

/* The state change of a call answered now: its note (srv_call_note_state)
 * once OK, a refused webhook with its reason. Ids only: never a secret. */
static void
log_state_change(srv_call *c, const char *rid, const char *trace)
{
	Paywire__V1__Request__CallCase cc = c->req != NULL ? c->req->call_case
	                                                    : PAYWIRE__V1__REQUEST__CALL__NOT_SET;

	if (cc == PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK && c->req->ingest_webhook != NULL &&
	    c->status != PW_OK) {
		pw_provider p = (pw_provider) c->req->ingest_webhook->provider;

		pw_log(PW_LOG_INFO, "webhook refused provider=%s status=%s reason=%s request_id=%s "
		    "trace=%s", pw_provider_known(p) ? pw_provider_name(p) : "unknown",
		    pw_status_name(c->status), c->why[0] ? c->why : "-", rid, trace);
		return;
	}
	if (c->status == PW_OK && !c->replayed && c->state_note[0] != '\0') {
		pw_log(c->note_level, "%s request_id=%s trace=%s", c->state_note, rid, trace);
	}
}

void
srv_call_log(srv_call *c)
{
	char rid[72];
	char trace[PW_TRACE_ID_BYTES_MAX + 1];
	pw_log_level lvl = PW_LOG_INFO;
	long long us = (long long) (srv_mono_us() - c->start_us);
	unsigned cc = c->req != NULL ? (unsigned) c->req->call_case : 0u;

	if (c->status != PW_OK) {
		atomic_fetch_add_explicit(&c->env->counters.errors, 1, memory_order_relaxed);
	} else if (c->wh_tally != SRV_WH_NONE) {
		atomic_fetch_add_explicit(&c->env->counters.webhooks[c->wh_tally - 1], 1,
		    memory_order_relaxed);
	}
	srv_metrics_request(c->env->metrics, cc, c->call_name, c->status, (uint64_t) (us > 0 ? us : 0));
	if (cc == PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK && c->req->ingest_webhook != NULL) {
		srv_metrics_webhook(c->env->metrics, (pw_provider) c->req->ingest_webhook->provider,
		    c->status == PW_OK ? log_wh_outcome(c->wh_tally) : SRV_METRICS_WH_REJECTED);
	}
	/* Errors that an operator must look at go to warn; every other request
	 * is one info line (a caller's mistake is the caller's business, but
	 * its line says which). */
	if (c->status == PW_INTERNAL || c->status == PW_UNAVAILABLE ||
	    c->status == PW_RESOURCE_EXHAUSTED) {
		lvl = PW_LOG_WARN;
	}
	if (!pw_log_enabled(lvl) && !pw_log_enabled(PW_LOG_WARN)) {
		return;
	}
	pw_log_safe_id(rid, sizeof(rid), c->req != NULL ? c->req->request_id : c->echo_id);
	pw_log_safe_id(trace, sizeof(trace), c->req != NULL ? c->req->trace_id : NULL);
	pw_log(lvl, "rpc request_id=%s trace=%s call=%s status=%s us=%lld%s%s%s", rid, trace,
	    c->call_name, pw_status_name(c->status), us, c->replayed ? " replay=1" : "",
	    c->status != PW_OK ? " why=" : "", c->status != PW_OK ? c->why : "");
	log_state_change(c, rid, trace);
}
