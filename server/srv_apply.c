/*
 * srv_apply.c - queued writes of the mutating calls: scope, hash, submit,
 * the apply callback (writer thread) and the done callback. See srv_apply.h.
 * Nothing here knows a particular call: the row of the call table does.
 */
#include "srv_apply.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "srv_calls.h"
#include "srv_reply.h"
#include "srv_webhook.h"

/* ---- before the write is queued ---- */

static void
call_scope(srv_call *c)
{
	switch (c->ops->scope) {
	case SRV_SCOPE_ADMIN:
		(void) pw_strlcpy(c->scope, "admin", sizeof(c->scope));
		break;
	case SRV_SCOPE_MERCHANT:
		PW_ASSERT(c->merchant_id[0] != '\0');
		(void) pw_strlcpy(c->scope, c->merchant_id, sizeof(c->scope));
		break;
	case SRV_SCOPE_PROVIDER:
		(void) snprintf(c->scope, sizeof(c->scope), "webhook:%s",
		    pw_provider_name(c->ev.provider));
		break;
	case SRV_SCOPE_ACCESS:
		(void) pw_strlcpy(c->scope, "access", sizeof(c->scope));
		break;
	case SRV_SCOPE_NONE:
		break;
	}
	PW_ASSERT(c->scope[0] != '\0'); /* SRV_SCOPE_NONE is for reads */
}

/* The member of Request's `call` oneof that is set: the field whose number
 * is the case (protobuf-c numbers oneof cases by field number). */
static const ProtobufCMessage *
call_message(const Paywire__V1__Request *req)
{
	const ProtobufCFieldDescriptor *f;
	const ProtobufCMessage *sub;

	f = protobuf_c_message_descriptor_get_field(&paywire__v1__request__descriptor,
	    (unsigned) req->call_case);
	PW_ASSERT(f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
	    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0);
	memcpy(&sub, (const char *) req + f->offset, sizeof(sub));
	PW_ASSERT(sub != NULL);
	return sub;
}

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
call_hash(srv_call *c)
{
	hash_sink s;
	uint8_t tag = (uint8_t) c->req->call_case;

	memset(&s, 0, sizeof(s));
	s.base.append = hash_sink_append;
	(void) crypto_generichash_init(&s.state, NULL, 0, sizeof(c->hash));
	(void) crypto_generichash_update(&s.state, &tag, 1);
	(void) protobuf_c_message_pack_to_buffer(call_message(c->req), &s.base);
	(void) crypto_generichash_final(&s.state, c->hash, sizeof(c->hash));
}

static pw_status apply_cb(store_txn *t, void *arg);
static void apply_done_cb(pw_status st, void *arg);

static pw_status apply_replay(srv_call *c, uint8_t *prev, size_t prev_len);

/* Answers c from a read transaction when that changes nothing: its reply,
 * committed under its request_id, or its row's peek. True when c->reply is
 * ready. A lookup that fails leaves the request to the writer, which looks
 * again inside its transaction. */
static bool
apply_by_read(srv_call *c)
{
	srv_reply_msg m;
	uint8_t *prev = NULL;
	size_t prev_len = 0;
	pw_status rv;

	rv = store_reply_peek(c->env->st, c->scope, c->req->request_id, c->hash, &prev, &prev_len);
	if (rv == PW_OK) {
		rv = apply_replay(c, prev, prev_len);
		if (rv != PW_OK) {
			srv_call_reply(c, rv, c->why, NULL);
		} else {
			atomic_fetch_add_explicit(&c->env->counters.replays, 1, memory_order_relaxed);
		}
		return true;
	}
	if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "request_id was already used for a different request");
		srv_call_reply(c, rv, c->why, NULL);
		return true;
	}
	if (rv != PW_NOT_FOUND || c->ops->peek == NULL) {
		return false;
	}
	rv = srv_calls_peek(c);
	if (rv != PW_OK) {
		srv_result_fini(&c->res);
		c->why[0] = '\0';
		return false;
	}
	srv_reply_msg_init(&m);
	c->ops->reply(&m, &c->res);
	srv_call_reply(c, PW_OK, "", &m.resp);
	srv_result_fini(&c->res);
	return true;
}

/* After an OK commit or replay: does the call go on (the row's
 * `continues`), and did the provider worker take it? When it goes on but no
 * worker takes it, c is answered UNAVAILABLE (its commit stands: a resend
 * goes on from there). */
static bool
apply_continue(srv_call *c)
{
	srv_env *env = c->env;

	if (c->status != PW_OK || c->ops->continues == NULL || !c->ops->continues(c)) {
		return false;
	}
	if (env->continue_fn != NULL && env->continue_fn(env->continue_arg, c)) {
		return true;
	}
	srv_call_why(c, "the server is not calling providers now (shutting down): the session is "
	                "committed; resend the same request to finish it");
	srv_call_reply(c, PW_UNAVAILABLE, c->why, NULL);
	return false;
}

pw_status
srv_apply_submit(srv_call *c, bool *answered)
{
	srv_env *env = c->env;
	pw_status rv;

	PW_ASSERT(c->req != NULL && c->ops != NULL && c->ops->mutates && answered != NULL);
	*answered = false;
	call_scope(c);
	call_hash(c);
	if (store_failed(env->st)) {
		srv_call_why(c, "the store failed; the server is restarting, retry later");
		return PW_UNAVAILABLE;
	}
	if (apply_by_read(c)) {
		/* a replay of a call that goes on past its commit: on to the
		 * provider worker, whose end calls done */
		*answered = !apply_continue(c);
		return PW_OK;
	}
	memset(&c->w, 0, sizeof(c->w));
	c->w.apply = apply_cb;
	c->w.done = apply_done_cb;
	c->w.arg = c;
	c->w.reply_scope = c->scope;
	c->w.reply_request_id = c->req->request_id;
	/* An RPC's receive callback holds no lock: when the writer is idle, it
	 * commits the write itself (one hand-off fewer; store.h) and done has
	 * run when store_submit returns. */
	c->w.run_here = true;
	if (c->req->deadline_ms > 0) {
		c->w.deadline_mono_ms = pw_monotonic_ms() + (int64_t) c->req->deadline_ms;
	}
	c->applied = false;
	c->apply_st = PW_OK;
	rv = store_submit(env->st, &c->w);
	if (rv != PW_OK) {
		srv_call_why(c, "write not queued: %s", pw_status_message(rv));
		return rv;
	}
	/* From here the writer thread owns c until done runs (or done ran
	 * already, on this thread): only env. */
	atomic_fetch_add_explicit(&env->counters.writes, 1, memory_order_relaxed);
	return PW_OK;
}

/* ---- writer thread ---- */

/* The key that seals a call's stored reply: derived from the admin key for
 * admin calls, from the calling merchant key for merchant calls (a retry
 * comes with the same key; nobody without it can open the copy). False when
 * there is none (no admin key configured). */
static bool
apply_seal_key(const srv_call *c, uint8_t key[SRV_SEAL_KEY_BYTES])
{
	static const char ctx[] = "paywire.v1 merchant reply seal";
	uint8_t k1[32];

	if (c->ops->auth == SRV_AUTH_ADMIN) {
		if (!c->env->admin_key_set) {
			return false;
		}
		memcpy(key, c->env->reply_seal_key, SRV_SEAL_KEY_BYTES);
		return true;
	}
	PW_ASSERT(c->ops->auth == SRV_AUTH_MERCHANT && c->req->api_key != NULL);
	(void) crypto_generichash(k1, sizeof(k1), (const uint8_t *) c->req->api_key,
	    strlen(c->req->api_key), NULL, 0);
	(void) crypto_generichash(key, SRV_SEAL_KEY_BYTES, (const uint8_t *) ctx, sizeof(ctx) - 1, k1,
	    sizeof(k1));
	sodium_memzero(k1, sizeof(k1));
	return true;
}

/* prev: the stored reply (malloc'd, now ours). A sealed one is opened with
 * the call's seal key (apply_seal_key); any other is sent as stored. */
static pw_status
apply_replay(srv_call *c, uint8_t *prev, size_t prev_len)
{
	pw_status rv = PW_OK;

	if (!srv_reply_is_sealed(prev, prev_len)) {
		c->reply = prev; /* the stored bytes, unchanged */
		c->reply_len = prev_len;
	} else {
		uint8_t key[SRV_SEAL_KEY_BYTES];

		if (!apply_seal_key(c, key)) {
			srv_call_why(c, "the stored reply for this request_id cannot be opened");
			rv = PW_INTERNAL;
		} else {
			rv = srv_reply_unseal(key, c->scope, c->req->request_id, prev, prev_len, &c->reply,
			    &c->reply_len, c->why, sizeof(c->why));
		}
		sodium_memzero(key, sizeof(key));
	}
	if (c->reply != prev) {
		srv_reply_free(&prev, &prev_len);
	}
	if (rv != PW_OK) {
		return rv;
	}
	/* Only successful replies are stored (an error rolls the request back). */
	c->status = PW_OK;
	c->replayed = true; /* counted by apply_done_cb, once the batch committed */
	return PW_OK;
}

/* Packs the reply from c->res into c->reply and, when the reply may not be
 * kept as sent, the copy kept for retries into c->stored. */
static pw_status
apply_reply(srv_call *c)
{
	const srv_call_ops *ops = c->ops;
	const char *rid = c->req->request_id;
	srv_reply_msg m;

	srv_reply_msg_init(&m);
	ops->reply(&m, &c->res);
	c->why[0] = '\0';
	srv_call_reply(c, PW_OK, "", &m.resp);
	if (c->reply == NULL) {
		srv_call_why(c, "out of memory packing the reply");
		return PW_UNAVAILABLE;
	}
	PW_ASSERT(c->stored == NULL);
	if (ops->redact != NULL && ops->redact(&c->res)) {
		srv_reply_msg_init(&m); /* the kept copy: built again from the redacted result */
		ops->reply(&m, &c->res);
		if (!srv_reply_pack(&m.resp, rid, PW_OK, "", &c->stored, &c->stored_len)) {
			srv_call_why(c, "out of memory packing the reply");
			return PW_UNAVAILABLE;
		}
	}
	if (ops->sealed) {
		uint8_t key[SRV_SEAL_KEY_BYTES];
		bool sealed;

		PW_ASSERT(apply_seal_key(c, key)); /* auth let it in: there is a key */
		sealed = srv_reply_seal(key, c->scope, rid, c->reply, c->reply_len, &c->stored,
		    &c->stored_len);
		sodium_memzero(key, sizeof(key));
		if (!sealed) {
			srv_call_why(c, "out of memory sealing the reply");
			return PW_UNAVAILABLE;
		}
	}
	return PW_OK;
}

/* The call's effects, then its reply, kept in the same transaction. */
static pw_status
apply_run(store_txn *t, srv_call *c)
{
	const uint8_t *keep;
	size_t keep_len;
	pw_status rv;

	rv = srv_calls_apply(t, c);
	if (rv == PW_OK) {
		rv = apply_reply(c);
	}
	if (rv == PW_OK) {
		srv_call_note_state(c); /* logged once answered (srv_call_log) */
	}
	srv_result_fini(&c->res); /* packed: the raw keys in it are wiped now */
	if (rv != PW_OK) {
		return rv;
	}
	if (!store_txn_wrote(t)) {
		/* The call changed nothing (a duplicate event): no reply is kept,
		 * so nothing is written and the batch may end without a commit. A
		 * resend of this request_id recomputes the same answer. */
		return PW_OK;
	}
	keep = c->stored != NULL ? c->stored : c->reply;
	keep_len = c->stored != NULL ? c->stored_len : c->reply_len;
	rv = store_reply_put(t, c->scope, c->req->request_id, c->hash, keep, keep_len);
	if (rv != PW_OK) {
		srv_call_why(c, "storing the reply failed: %s", pw_status_message(rv));
	}
	return rv;
}

/* A re-run after a commit conflict (store.h, RE-RUNS): what the earlier run
 * left (reply bytes, the stored copy, results, the reason) is dropped; the
 * run starts from the request alone. */
static void
apply_forget_run(srv_call *c)
{
	srv_reply_free(&c->reply, &c->reply_len);
	srv_reply_free(&c->stored, &c->stored_len);
	srv_result_fini(&c->res);
	c->state_note[0] = '\0';
	c->replayed = false;
	c->status = PW_OK;
	c->apply_st = PW_OK;
	c->why[0] = '\0';
}

/* store_apply_fn of every mutating call. May run more than once per request
 * (a re-run after a commit conflict); moves no counter and sends nothing. */
static pw_status
apply_cb(store_txn *t, void *arg)
{
	srv_call *c = arg;
	uint8_t *prev = NULL;
	size_t prev_len = 0;
	pw_status rv;

	PW_ASSERT(c != NULL && c->req != NULL && c->ops != NULL);
	if (store_txn_attempt(t) > 0) {
		apply_forget_run(c);
	}
	PW_ASSERT(c->reply == NULL && c->stored == NULL);
	c->applied = true;
	rv = store_reply_get(t, c->scope, c->req->request_id, c->hash, &prev, &prev_len);
	pw_crashpoint("server.after_request_dedup");
	if (rv == PW_OK) {
		rv = apply_replay(c, prev, prev_len);
	} else if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "request_id was already used for a different request");
	} else if (rv != PW_NOT_FOUND) {
		srv_call_why(c, "looking up the request_id failed: %s", pw_status_message(rv));
	} else {
		rv = apply_run(t, c);
	}
	c->apply_st = rv;
	return rv; /* not PW_OK: the nested transaction is rolled back */
}

/* store_done_fn of every mutating call: after the commit, or its failure. */
static void
apply_done_cb(pw_status st, void *arg)
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
		c->replayed = false;
		srv_call_reply(c, st, c->why, NULL);
	} else if (c->replayed) {
		atomic_fetch_add_explicit(&c->env->counters.replays, 1, memory_order_relaxed);
	} else if (c->status == PW_OK && c->ops->committed != NULL) {
		c->ops->committed(c);
	}
	srv_reply_free(&c->stored, &c->stored_len);
	if (st == PW_OK && apply_continue(c)) {
		return; /* the provider worker has c now; its end calls done */
	}
	srv_call_log(c);
	c->done(c, c->done_arg);
}

/* ---- the second write of a call that went on (srv_apply_record_submit) ---- */

static pw_status
record_cb(store_txn *t, void *arg)
{
	srv_call *c = arg;
	const uint8_t *keep;
	size_t keep_len;
	pw_status rv;

	PW_ASSERT(c != NULL && c->req != NULL && c->ops != NULL && c->ops->record != NULL);
	if (store_txn_attempt(t) > 0) {
		srv_reply_free(&c->stored, &c->stored_len);
		srv_result_fini(&c->res);
		c->why[0] = '\0';
	}
	c->applied = true;
	srv_result_touch(&c->res); /* the row's record or record_failure fills it */
	if (c->prov_refused) {
		/* the provider's refusal: recorded; the stored reply stays */
		rv = c->ops->record_failure(t, c);
		srv_result_fini(&c->res);
		c->apply_st = rv;
		return rv;
	}
	rv = c->ops->record(t, c);
	if (rv == PW_OK) {
		srv_reply_free(&c->stored, &c->stored_len);
		rv = apply_reply(c); /* the new reply, sealed or redacted as the row says */
	}
	srv_result_fini(&c->res);
	if (rv == PW_OK) {
		keep = c->stored != NULL ? c->stored : c->reply;
		keep_len = c->stored != NULL ? c->stored_len : c->reply_len;
		/* replaces the reply stored by the first write: a resend now gets
		 * the finished answer, byte for byte */
		rv = store_reply_put(t, c->scope, c->req->request_id, c->hash, keep, keep_len);
	}
	c->apply_st = rv;
	return rv;
}

static void
record_done_cb(pw_status st, void *arg)
{
	srv_call *c = arg;

	if (st != PW_OK) {
		if (!c->applied || c->apply_st == st) {
			if (c->why[0] == '\0') {
				srv_call_why(c, "recording the provider's answer failed: %s",
				    pw_status_message(st));
			}
		} else {
			srv_call_why(c, "the commit failed: %s; the provider's answer was not recorded, "
			                "a resend records it", pw_status_message(st));
		}
		srv_call_reply(c, st, c->why, NULL);
	} else if (c->prov_refused) {
		srv_call_reply(c, c->prov_err, c->prov_why, NULL); /* recorded; the call's answer */
	}
	srv_reply_free(&c->stored, &c->stored_len);
	srv_call_log(c);
	c->done(c, c->done_arg);
}

pw_status
srv_apply_record_submit(srv_call *c)
{
	pw_status rv;

	PW_ASSERT(c != NULL && c->ops != NULL && c->scope[0] != '\0');
	PW_ASSERT(c->prov_refused ? c->ops->record_failure != NULL : c->ops->record != NULL);
	memset(&c->w, 0, sizeof(c->w));
	c->w.apply = record_cb;
	c->w.done = record_done_cb;
	c->w.arg = c;
	c->applied = false;
	c->apply_st = PW_OK;
	rv = store_submit(c->env->st, &c->w);
	if (rv == PW_OK) {
		atomic_fetch_add_explicit(&c->env->counters.writes, 1, memory_order_relaxed);
	}
	return rv;
}
