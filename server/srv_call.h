/*
 * srv_call.h - the state of the RPC server's requests.
 *
 * OWNS
 * - srv_env: what every request shares (the store, the webhook secrets, the
 *   admin key's hash, the key that seals stored replies, the checkout URL
 *   base, the stopping flag, counters).
 * - srv_call: the state of one request, from its wire bytes to its packed
 *   reply. A transport (srv_rpc.c) embeds one srv_call per nng context and
 *   reuses it request after request.
 * - the helpers every stage of a request uses: its reason (why), its reply
 *   (packed with srv_reply.h) and its log line.
 * What a request goes through is dispatch's (srv_dispatch.h); what each call
 * does is its row in the call table (srv_calls.h); the write half is
 * srv_apply.h.
 *
 * SCOPES AND HASHES
 *   scope: the namespace of a mutating call's stored replies (the row's
 *   srv_scope): "admin", the merchant id, "webhook:<provider>" or "access".
 *   hash: BLAKE2b-256 over one byte holding the call's field number followed
 *   by the packed call sub-message (a retry of the same bytes matches; the
 *   same bytes for another call do not).
 *
 * THREADS
 * srv_env_init/fini: startup/shutdown thread; srv_env_stop: the control
 * thread. A srv_call belongs to one request at a time, on one thread at a
 * time: the thread that handles its frame, then (for a queued write) the
 * store's writer thread until its done callback has run (a write the
 * handling thread commits itself, store_write.run_here, never leaves it). After
 * srv_dispatch_handle returns SRV_CALL_REPLY, or after its done callback
 * ran, the caller owns c->reply and calls srv_call_reset before reusing it.
 */
#ifndef SRV_CALL_H
#define SRV_CALL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/status.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"
#include "pw_event.h"
#include "srv_reply.h"
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
	/* Webhooks answered OK, by what they did (srv_wh_tally): an anomaly is
	 * money that needs a human, counted apart from harmless ignored events. */
	atomic_uint_fast64_t webhooks[5];  /* applied, duplicate, ignored, anomaly, quarantined */
} srv_counters;

/* What a webhook answered OK did, for srv_counters.webhooks. */
typedef enum srv_wh_tally {
	SRV_WH_NONE = 0,      /* not a webhook, or not answered yet */
	SRV_WH_APPLIED,       /* outcome APPLIED, no anomaly */
	SRV_WH_DUPLICATE,     /* outcome DUPLICATE */
	SRV_WH_IGNORED,       /* outcome IGNORED, no anomaly */
	SRV_WH_ANOMALY,       /* recorded as an anomaly (reply anomaly=true) */
	SRV_WH_QUARANTINED,   /* verified, not understood: kept in the quarantine */
} srv_wh_tally;

/* The names of srv_counters.webhooks, in index order (tally - 1). */
extern const char *const srv_wh_tally_names[5];

typedef struct srv_call srv_call;

/* Hands a call whose commit is not its end (a row's `continues`: the
 * provider checkout of create_session) to the provider worker
 * (srv_provider.h). False: not taken (no worker, stopping): the call is
 * answered as it is. */
typedef bool (*srv_continue_fn)(void *arg, srv_call *c);

typedef struct srv_env {
	store *st;                                   /* open store (not owned) */
	srv_continue_fn continue_fn;                 /* the provider worker, or NULL */
	struct srv_limiter *limiter;                 /* rate limits per merchant, or NULL */
	void *continue_arg;
	const srv_webhook_config *webhooks;          /* provider secrets (not owned) */
	bool admin_key_set;                          /* PAYWIRE_ADMIN_KEY configured */
	uint8_t admin_key_hash[32];                  /* BLAKE2b-256 of the admin key */
	uint8_t reply_seal_key[SRV_SEAL_KEY_BYTES];  /* from the admin key: seals replies with secrets */
	char checkout_url_base[SRV_CHECKOUT_BASE_BYTES]; /* public_url + SRV_CHECKOUT_PATH */
	bool notify_allow_http;                      /* --notify-allow-http (endpoints' urls) */
	bool notify_allow_private;                   /* --notify-allow-private */
	bool notify_email;                           /* --smtp-url set: EMAIL endpoints */
	bool notify_telegram;                        /* a bot token: TELEGRAM endpoints */
	atomic_bool stopping;                        /* shutdown: new requests answer UNAVAILABLE */
	atomic_int store_users;                      /* requests inside a store read or submit */
	srv_counters counters;                       /* see srv_counters */
	struct srv_metrics *metrics;                 /* Prometheus counters, or NULL (srv_metrics.h) */
} srv_env;

/* Fills *env. admin_key: NULL or "" = no admin key (admin calls then answer
 * PERMISSION_DENIED); otherwise only its hash and a derived sealing key are
 * kept (the caller wipes its copy). public_url: an http(s) URL that
 * srv_validate_url accepts; trailing '/' are dropped before SRV_CHECKOUT_PATH
 * is appended.
 * PW_INVALID_ARGUMENT for a bad public_url. st and webhooks must outlive env. */
pw_status srv_env_init(srv_env *env, store *st, const srv_webhook_config *webhooks,
    const char *admin_key, const char *public_url) PW_WUR;

/* One INFO line with the webhook counters ("webhooks answered: applied=3
 * duplicate=1 ignored=2 anomaly=1 quarantined=0"): anomalies apart from
 * ignored events. */
void srv_env_log_webhooks(srv_env *env);

/* Wipes the key material. No request may be inside the store. */
void srv_env_fini(srv_env *env);

/* Shutdown, step 1: from now on every new request answers UNAVAILABLE
 * ("server is shutting down") without touching the store; returns once no
 * request is inside a store read or store_submit (microseconds). Queued
 * writes still complete: store_close drains them. */
void srv_env_stop(srv_env *env);

struct srv_call_ops; /* a row of the call table, srv_calls.h */

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
	const struct srv_call_ops *ops;   /* the call's row in the call table, or NULL */
	const char *call_name;            /* "create_session"... for logs; "none" */
	int64_t start_us;                 /* monotonic µs when the frame arrived */
	char scope[SRV_SCOPE_BYTES];      /* reply scope (see top comment) */
	uint8_t hash[32];                 /* BLAKE2b-256 of the call (see top comment) */
	char merchant_id[SRV_MERCHANT_ID_BYTES]; /* SRV_AUTH_MERCHANT: the authenticated merchant */
	Paywire__V1__Mode key_mode;       /* SRV_AUTH_MERCHANT: the mode of its API key */
	pw_event ev;                      /* ingest_webhook: the verified, parsed event */
	srv_wh_tally wh_tally;            /* ingest_webhook: what it did (counted when answered OK) */
	bool wh_quarantine;               /* ingest_webhook: verified, not parsed: keep it (q_reason) */
	bool q_parsed;                    /* retry_quarantined_event: verified and parsed into ev */
	char q_reason[SRV_WHY_BYTES];     /* why parsing failed (quarantine, retry) */
	srv_result res;                   /* what the read or apply produced, until packed */
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
	/* A call that goes on past its commit (the row's `continues`): */
	Paywire__V1__Response *cont;      /* its committed reply, unpacked (or NULL) */
	char prov_id[PW_PROVIDER_ID_BYTES_MAX + 1]; /* the provider object made (cs_…, order_…) */
	char prov_url[PW_URL_BYTES_MAX + 1];        /* its hosted URL ("" for Razorpay) */
	srv_call *next_cont;              /* the provider worker's queue */
	int64_t retry_after_ms;           /* a rate limit's refusal: Status.retry_after_ms */
	char state_note[SRV_WHY_BYTES];   /* a state change to log once answered OK (ids only;
	                                     srv_call_note_state), or "" */
	pw_log_level note_level;          /* ... at this level */
	bool prov_refused;                /* the provider refused for good (record_failure) */
	pw_status prov_err;               /* ... the error the call then answers */
	char prov_why[SRV_WHY_BYTES];     /* ... and its reason */
};

/* Prepares c for its first request. env must outlive c. */
void srv_call_init(srv_call *c, srv_env *env, srv_call_done_fn done, void *arg);

/* The status code carried by the reply in c (after completion). */
pw_status srv_call_status(const srv_call *c);

/* Frees the request, result and reply of the last request (wiping them); c
 * is ready for the next. Not while a write of c is queued. */
void srv_call_reset(srv_call *c);

/* printf into c->why (truncated to SRV_WHY_BYTES). */
void srv_call_why(srv_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces c->reply with resp (NULL: a bare status reply) carrying st and
 * msg, echoing c's request_id (or c->echo_id before the request unpacked);
 * sets c->status. Out of memory: c->reply stays NULL and c->status is
 * PW_INTERNAL (the transport then sends nothing; the client retries). */
void srv_call_reply(srv_call *c, pw_status st, const char *msg, Paywire__V1__Response *resp);

/* Notes the state change the applied call made (session created, webhook
 * applied / anomaly / quarantined, refund) from c->res, before the result is
 * wiped; srv_call_log writes it once the call is answered OK. Writer thread. */
void srv_call_note_state(srv_call *c);

/* One line per request: debug, or warn for INTERNAL/UNAVAILABLE/
 * RESOURCE_EXHAUSTED. Counts errors. */
void srv_call_log(srv_call *c);

/* Monotonic clock in microseconds. */
int64_t srv_mono_us(void);

#endif
