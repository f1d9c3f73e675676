/*
 * srv_dispatch.h - one RPC frame in, one reply frame out.
 *
 * OWNS
 * - srv_env: what every call shares (the store, the webhook secrets, the
 *   admin key's hash, the checkout URL base, the stopping flag, counters).
 * - srv_call: the state of one request, from its wire bytes to its packed
 *   reply. A transport (srv_rpc.c) embeds one srv_call per nng context and
 *   reuses it request after request.
 *
 * REQUEST LIFECYCLE (srv_dispatch_handle)
 *   srv_wire_check(Request) -> unpack -> call set? -> request_id -> auth ->
 *   validation (srv_validate.h; nothing written on refusal) -> per call:
 *   - get_status, verify_audit: a read transaction right here, on the
 *     caller's thread (LMDB readers never wait). Reply ready on return.
 *   - create_merchant, create_session, revoke_api_key, ingest_webhook,
 *     redeem_access: a store_write embedded in the srv_call is queued with
 *     store_submit(). Its apply (writer thread) first looks the request up
 *     with store_reply_get(scope, request_id, hash): a stored reply is sent
 *     back unchanged and nothing changes; otherwise the call's effects and
 *     the packed reply (store_reply_put) commit in the SAME transaction.
 *     The reply is ready when the srv_call's done callback runs (writer
 *     thread), after the commit.
 *   Every reply echoes request_id and carries Status{code = pw_status_wire(st),
 *   message}. The pw_status of the apply (or of the commit) goes into the
 *   reply unchanged.
 *
 * SCOPES AND HASHES
 *   scope: the merchant id for create_session, "admin" for admin calls,
 *   "webhook:<provider>" for ingest_webhook, "access" for redeem_access.
 *   hash: BLAKE2b-256 over one byte holding the call's field number followed
 *   by the packed call sub-message (a retry of the same bytes matches; the
 *   same bytes for another call do not).
 *
 * STORED REPLIES THAT CARRY A SECRET
 *   create_merchant's reply holds the merchant's first raw API key. It is kept
 *   in the replies db sealed (crypto_secretbox, key derived from the admin
 *   key, the scope and the request_id), so the raw key never sits on disk in
 *   clear; a retry carrying the same admin key gets the identical bytes.
 *   redeem_access's reply may hold a raw access key revealed once: the copy
 *   kept for retries has access_key emptied and already_revealed set, so the
 *   key is never written to disk (the store wipes its sealed copy).
 *
 * THREADS
 * srv_env_init/fini: startup/shutdown thread. srv_dispatch_handle: any thread,
 * concurrently on distinct srv_calls; it never blocks (reads do not wait, writes
 * are queued). A srv_call belongs to one request at a time: after
 * srv_dispatch_handle returns SRV_CALL_REPLY, or after its done callback ran,
 * the caller owns c->reply and calls srv_call_reset before reusing the call.
 */
#ifndef SRV_DISPATCH_H
#define SRV_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/status.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"
#include "pw_event.h"
#include "srv_webhook.h"
#include "store.h"

/* "/checkout?session=" appended to --public-url. */
#define SRV_CHECKOUT_PATH "/checkout?session="
#define SRV_CHECKOUT_BASE_BYTES (PW_URL_BYTES_MAX + sizeof(SRV_CHECKOUT_PATH))
/* Longest scope: "webhook:" + provider name, or a merchant id. */
#define SRV_SCOPE_BYTES 72
/* Longest reason carried in a Status.message. */
#define SRV_WHY_BYTES 320

/* Counters for tests and logs (relaxed atomics; approximate under load). */
typedef struct srv_counters {
	atomic_uint_fast64_t frames;       /* frames handed to srv_dispatch_handle */
	atomic_uint_fast64_t writes;       /* writes queued with store_submit */
	atomic_uint_fast64_t replays;      /* applies answered from a stored reply */
	atomic_uint_fast64_t errors;       /* replies with a status other than OK */
} srv_counters;

typedef struct srv_env {
	store *st;                                   /* open store (not owned) */
	const srv_webhook_config *webhooks;          /* provider secrets (not owned) */
	bool admin_key_set;                          /* PAYWIRE_ADMIN_KEY configured */
	uint8_t admin_key_hash[32];                  /* BLAKE2b-256 of the admin key */
	uint8_t reply_seal_key[32];                  /* from the admin key: seals replies with secrets */
	char checkout_url_base[SRV_CHECKOUT_BASE_BYTES]; /* public_url + SRV_CHECKOUT_PATH */
	atomic_bool stopping;                        /* shutdown: new requests answer UNAVAILABLE */
	atomic_int store_users;                      /* requests inside a store read or submit */
	srv_counters counters;                       /* see srv_counters */
} srv_env;

/* Fills *env. admin_key: NULL or "" = no admin key (admin calls then answer
 * PERMISSION_DENIED); otherwise only its hash and a derived sealing key are
 * kept (the caller wipes its copy). public_url: an http(s) URL that
 * srv_validate_url accepts; trailing '/' are dropped before SRV_CHECKOUT_PATH
 * is appended.
 * PW_INVALID_ARGUMENT for a bad public_url. st and webhooks must outlive env. */
pw_status srv_env_init(srv_env *env, store *st, const srv_webhook_config *webhooks,
    const char *admin_key, const char *public_url) PW_WUR;

/* Wipes the key material. */
void srv_env_fini(srv_env *env);

/* Shutdown, step 1: from now on every new request answers UNAVAILABLE
 * ("server is shutting down") without touching the store; returns once no
 * request is inside a store read or store_submit (microseconds). Queued
 * writes still complete: store_close drains them. */
void srv_env_stop(srv_env *env);

typedef struct srv_call srv_call;

/* Called exactly once, on the store's writer thread, when a queued write has
 * finished: c->reply/c->reply_len hold the packed Response. */
typedef void (*srv_call_done_fn)(srv_call *c, void *arg);

typedef enum srv_call_result {
	SRV_CALL_REPLY = 0,  /* c->reply is ready now; done will not be called */
	SRV_CALL_QUEUED = 1, /* a write is queued; done will be called once */
} srv_call_result;

struct srv_call {
	srv_env *env;                     /* shared state (set by srv_call_init) */
	srv_call_done_fn done;            /* completion of a queued write */
	void *done_arg;                   /* passed to done */
	Paywire__V1__Request *req;        /* unpacked request, or NULL */
	const char *call_name;            /* "create_session"... for logs */
	int64_t start_us;                 /* monotonic µs when the frame arrived */
	char scope[SRV_SCOPE_BYTES];      /* reply scope (see top comment) */
	uint8_t hash[32];                 /* BLAKE2b-256 of the call (see top comment) */
	char merchant_id[64];             /* authenticated merchant (create_session) */
	pw_event ev;                      /* ingest_webhook: the verified, parsed event */
	pw_status status;                 /* status carried by c->reply */
	pw_status apply_st;               /* the apply's status; PW_OK before it ran */
	bool applied;                     /* the apply callback ran */
	bool replayed;                    /* the reply came from the replies db */
	char why[SRV_WHY_BYTES];          /* reason for an error status */
	char echo_id[PW_REQUEST_ID_BYTES_MAX + 1]; /* request_id to echo when req is NULL */
	uint8_t *reply;                   /* packed Response (malloc), owned by the call */
	size_t reply_len;                 /* bytes in reply */
	uint8_t *stored;                  /* bytes to store_reply_put if not reply (malloc) */
	size_t stored_len;                /* bytes in stored */
	store_write w;                    /* the queued write (store owns w.next while queued) */
};

/* Prepares c for its first request. */
void srv_call_init(srv_call *c, srv_env *env, srv_call_done_fn done, void *arg);

/* Handles one frame (buf is not kept after return; the request is copied
 * out by unpacking). Returns SRV_CALL_REPLY with c->reply set, or
 * SRV_CALL_QUEUED (c->reply will be set before done runs). Never blocks.
 * Never fails: every error becomes an error reply. */
srv_call_result srv_dispatch_handle(srv_call *c, const uint8_t *buf, size_t len);

/* The status code carried by the reply in c (after completion). */
pw_status srv_call_status(const srv_call *c);

/* Frees the request and reply of the last request; c is ready for the next.
 * Not while a write of c is queued. */
void srv_call_reset(srv_call *c);

/* Packs an error Response {request_id, Status{pw_status_wire(st), msg}} into
 * a malloc'd buffer (*out, *out_len). For transports that must answer
 * without a srv_call. Returns false when out of memory. */
bool srv_reply_error_pack(const char *request_id, pw_status st, const char *msg, uint8_t **out,
    size_t *out_len);

#endif
