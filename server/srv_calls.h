/*
 * srv_calls.h - the table of RPC calls: one row per paywire.v1.Request
 * `call` oneof member.
 *
 * OWNS
 * The one place that knows each call: its name, who may make it, whether it
 * writes, the namespace of its stored replies and how they are kept, and the
 * functions that validate it, run it (a write on the store's writer thread,
 * or a read on the caller's thread) and build its reply (srv_reply.h).
 * Dispatch (srv_dispatch.c) and the write half (srv_apply.c) are driven by
 * the row alone: no other code in server/ switches over the call kind. The
 * rows are indexed by the oneof case, which is the field number (the shape of
 * nng's protocol ops tables, e.g. rep.c's rep0_ctx_ops). docs/SERVER.md
 * "Adding a call" gives the steps to add one.
 *
 * HOW DISPATCH USES A ROW (srv_dispatch.h has the whole lifecycle)
 *   request_id  required when `mutates`;
 *   auth        checked first (SRV_AUTH_*); nothing read or written on refusal;
 *   validate    then, on the caller's thread: input rules, and any check
 *               that needs no store (a webhook's signature); NULL: none;
 *   read        !mutates: a store read right there (readers never wait);
 *               fills c->res, or returns the error (with c->why when it
 *               has better words than `failed`);
 *   apply       mutates: queued, then run on the writer thread inside the
 *               store's nested transaction, after the request_id lookup
 *               found no stored reply; fills c->res, or returns the error
 *               (which rolls the request back), with c->why as for read;
 *   failed      the reason of an error read or apply left unexplained:
 *               "<failed>: <pw_status_message>";
 *   reply       builds the Response from c->res (PW_OK only);
 *   scope       mutates: where its replies are stored (SRV_SCOPE_*);
 *   sealed      the stored reply holds a raw API key: kept sealed under a
 *               key derived from the admin key (SRV_AUTH_ADMIN) or from
 *               the calling merchant key (SRV_AUTH_MERCHANT: a retry brings
 *               the same key, nobody else can open the copy);
 *   redact      NULL, or rewrites c->res into the copy kept for retries (a
 *               raw key shown once must never reach the disk).
 *
 * THREADS
 * The table is constant: any thread. The row's functions run on the thread
 * stated above, on a srv_call that thread owns.
 */
#ifndef SRV_CALLS_H
#define SRV_CALLS_H

#include <stdbool.h>

#include <paywire/status.h>

#include "paywire/v1/paywire.pb-c.h"
#include "prov_http.h"
#include "srv_call.h"
#include "srv_reply.h"
#include "store.h"

/* What a row's `provider` step gets from the provider worker. */
typedef struct srv_provider_ctx {
	prov_http *http;              /* the shared pool (provider/prov_http.h) */
	const char *stripe_api;       /* "https://api.stripe.com" (--stripe-api) */
	const char *razorpay_api;     /* "https://api.razorpay.com" (--razorpay-api) */
	int64_t deadline_mono_ms;     /* the step ends by then (--provider-timeout-ms) */
} srv_provider_ctx;

/* What Request.api_key must hold. */
typedef enum srv_auth {
	SRV_AUTH_NONE = 0,   /* nothing: the call carries its own capability
	                        (a session id, a provider signature, a JWT) */
	SRV_AUTH_MERCHANT,   /* a merchant API key that is not revoked; sets
	                        c->merchant_id and c->key_mode */
	SRV_AUTH_ADMIN,      /* the server's admin key (PAYWIRE_ADMIN_KEY) */
} srv_auth;

/* The namespace of a mutating call's stored replies (c->scope). */
typedef enum srv_scope {
	SRV_SCOPE_NONE = 0,  /* reads: nothing is stored */
	SRV_SCOPE_ADMIN,     /* "admin" */
	SRV_SCOPE_MERCHANT,  /* the authenticated merchant id (SRV_AUTH_MERCHANT) */
	SRV_SCOPE_PROVIDER,  /* "webhook:<provider>" of c->ev (set by validate) */
	SRV_SCOPE_ACCESS,    /* "access" */
} srv_scope;

typedef struct srv_call_ops {
	const char *name;                               /* the oneof member's name: logs, tests */
	const char *failed;                             /* reason prefix of an unexplained error */
	srv_auth auth;                                  /* what api_key must be */
	bool mutates;                                   /* true: apply (queued write); false: read */
	srv_scope scope;                                /* mutates: where its replies are stored */
	bool sealed;                                    /* mutates: stored reply sealed (raw API key) */
	pw_status (*validate)(srv_call *c);             /* caller's thread, before any store call; or NULL */
	pw_status (*read)(srv_call *c);                 /* !mutates: caller's thread, store reads only */
	pw_status (*apply)(store_txn *t, srv_call *c);  /* mutates: writer thread, inside the txn */
	pw_status (*peek)(srv_call *c);                 /* mutates: caller's thread, reads only:
	                                                  * PW_OK with c->res filled when the
	                                                  * call would change nothing (answered
	                                                  * before the writer); PW_NOT_FOUND: queue
	                                                  * it; or NULL */
	srv_reply_fn reply;                             /* c->res -> Response result */
	srv_redact_fn redact;                           /* mutates: copy kept for retries; or NULL */
	/* A call whose commit is not its end (create_session with a provider
	 * checkout, docs/PROVIDERS.md): after its commit, or a replay of its
	 * stored reply, `continues` (any thread, c->reply the OK reply) says
	 * whether it goes on (and keeps what it needs in c->cont); then, on a
	 * provider worker, `provider` makes the outbound call (no store
	 * transaction is open) and, when it succeeded, `record` runs in a
	 * second write on the writer thread: it records the result and fills
	 * c->res, whose reply then replaces the stored one. NULL: none. */
	bool (*continues)(srv_call *c);
	pw_status (*provider)(srv_call *c, const srv_provider_ctx *px);
	pw_status (*record)(store_txn *t, srv_call *c);
	/* When `provider` fails for good (the provider refused: it returned
	 * PW_INVALID_ARGUMENT or PW_FAILED_PRECONDITION with c->prov_refused
	 * set), record_failure runs in the second write instead of `record`
	 * (the stored reply is left as it is) and the call answers that error.
	 * NULL: such a failure is answered without a write. */
	pw_status (*record_failure)(store_txn *t, srv_call *c);
	/* Whether this request will reach a provider (its rate limit class,
	 * srv_limit.h); NULL: every request of a row with `provider` does. */
	bool (*wants_provider)(const srv_call *c);
	/* After the call's own commit (not a replay of a stored reply), on the
	 * writer thread, in commit order: tells in-memory state what the commit
	 * changed (set_merchant_rate_limits: the limiter). NULL: none. */
	void (*committed)(srv_call *c);
} srv_call_ops;

/* The row for a Request's call case; NULL when no call is set (or the case
 * has no row). */
const srv_call_ops *srv_calls_find(Paywire__V1__Request__CallCase cc);

/* Runs the read of c's row (c->ops, not mutating) on the caller's thread:
 * PW_OK with c->res filled, or the error with c->why set ("" before the
 * call; the row's `failed` wording when the call gave none). */
pw_status srv_calls_read(srv_call *c) PW_WUR;

/* Runs the apply of c's row (c->ops, mutating) in t on the writer thread:
 * PW_OK with c->res filled, or the error with c->why set as for
 * srv_calls_read; the caller rolls t back. */
pw_status srv_calls_apply(store_txn *t, srv_call *c) PW_WUR;

/* Runs the peek of c's row (mutating, with a peek) on the caller's thread:
 * PW_OK with c->res filled (an answer that changes nothing), PW_NOT_FOUND
 * (the write must be queued), or another error (queue it too: the writer
 * decides). */
pw_status srv_calls_peek(srv_call *c) PW_WUR;

#endif
