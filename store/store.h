/*
 * store.h - paywire's durable state, behind one narrow interface.
 *
 * The store is the payment domain (state machine, effects, audit chain,
 * idempotency, stored replies, invoices, entitlements, purge, group commit)
 * over an engine seam (store_kv.h): a transactional, ordered key-value store.
 * LMDB, in the data directory, is the default engine (store/kv_lmdb.c, the
 * only code that calls LMDB); PostgreSQL (store/kv_pg.c, the only code that
 * calls libpq) is the second, chosen by store_opts.url. Nothing above
 * store/ sees the engine. The store owns: merchants, API
 * keys (keyed hashes only), sessions, idempotency keys, stored replies
 * (request_id dedup), provider refs, webhook events, invoices, entitlements,
 * credit ledgers and the hash-chained audit log.
 *
 * THREADS
 * - store_open/store_close: one thread, before/after everything else.
 * - Reads (store_session_get, store_apikey_auth, store_audit_verify,
 *   store_counts_get, store_last_txnid): any thread, concurrently; each runs
 *   its own read transaction (not tied to a thread, so nng's callback threads
 *   may use it) and never waits for the writer.
 * - Writes: only through store_submit()/store_apply_sync(). One writer thread
 *   owned by the store takes a batch of queued writes (up to
 *   PW_STORE_BATCH_MAX), runs each apply callback in the batch transaction
 *   (a flat run; when an apply fails after it wrote, the batch runs again
 *   with each apply in its own nested transaction, so that a failing apply
 *   rolls back alone), commits the batch once (one fsync), then calls every
 *   done callback. Group commit (docs/STORE.md).
 * - The store_txn handed to an apply callback is valid only during that call,
 *   on the writer thread. The store_txn_* / store_*(store_txn*) functions below
 *   may only be called from inside an apply callback.
 *
 * RE-RUNS (what an apply callback must guarantee)
 * On an engine several servers share, a batch's commit can fail because
 * another server committed first; on any engine, a flat run is undone when
 * one of its applies fails after it wrote. Nothing of the batch is kept then,
 * and the writer runs every apply callback of the batch again, in a new transaction
 * (store_txn_attempt counts the runs), before any done callback; after
 * STORE_COMMIT_ATTEMPTS_MAX attempts the writes are answered PW_UNAVAILABLE.
 * So an apply callback:
 * - acts only through its store_txn until the commit: no reply sent, no
 *   counter moved, no message queued; that is the done callback's work, which
 *   runs once, after the commit;
 * - recomputes everything it derives from the transaction on each run, and
 *   frees or overwrites what an earlier run left in its argument (records
 *   returned through `out`, reply bytes), since a run may find other data;
 * - may be called again even after it returned an error.
 * LMDB (one writer per environment) never conflicts; tests/store_conflict_test.c
 * forces conflicts through an engine wrapper, tests/store_writer_test.c flat
 * runs undone.
 *
 * DURABILITY
 * A done callback with PW_OK means the write is on disk (with STORE_SYNC_FULL).
 * An I/O error at commit (EIO, an engine panic) or corruption is fatal for
 * writes: the store refuses every later write with PW_UNAVAILABLE and
 * store_failed() turns true; the server then exits non-zero so its supervisor
 * restarts it. A full store (LMDB: map full) answers PW_RESOURCE_EXHAUSTED for
 * that batch; reads go on.
 *
 * DATA DIRECTORY
 *   <dir>/data.mdb, lock.mdb  the LMDB engine's environment
 *   <dir>/paywire.key         32 random bytes, mode 0600, created on first open;
 *                             the master key from which the API-key pepper, the
 *                             entitlement secretbox key and (unless
 *                             PAYWIRE_TOKEN_SECRET is set) the JWT key derive
 *                             (BLAKE2b keyed with the master key, distinct contexts).
 *
 * TYPES (the store's own: this header includes no generated wire header)
 * Functions here take and return only
 * - records of proto/paywire/store/v1/store.proto (package paywire.store.v1,
 *   Paywire__Store__V1__*), which imports nothing. Its enums and its Session
 *   and Fulfillment are the store's copies of the wire's, with the same
 *   numbers, so records written when SessionRecord embedded the wire Session
 *   decode unchanged (tests/store_record_compat_test.c);
 * - the plain C params and results below: store_session_params,
 *   store_webhook_result, store_access_receipt, store_audit_report.
 * The server maps the wire to them and back in one place (server/srv_map.c);
 * nothing under store/ knows the wire contract.
 *
 * TABLES (STORE_DB_MAP in store_internal.h; all values are protobuf records
 * of store.proto unless said otherwise; layouts in docs/STORE.md)
 *   name         key                                         value
 *   merchants    merchant_id                                  MerchantRecord
 *   apikeys      32-byte keyed BLAKE2b of the raw key         ApiKeyRecord
 *   sessions     session id ("cs_" + time-ordered: appends)   SessionRecord
 *   idem         merchant_id 0x00 idempotency_key             IdempotencyRecord
 *   replies      scope 0x00 request_id                        ReplyRecord
 *   refs         provider(1 byte) ref                         session id (bytes)
 *   events       provider(1 byte) event_id                    WebhookEventRecord
 *   invoices     merchant_id 0x00 number (8 bytes, big-endian) InvoiceRecord
 *   entitlements entitlement id                               EntitlementRecord
 *   ent_index    merchant_id 0x00 customer 0x00 plan          entitlement id (active one)
 *   audit        seq (8 bytes, big-endian: appends)           AuditRecord
 *   meta         "audit_head" -> 32-byte hash of last record, "audit_seq" -> 8 bytes BE
 *   credits      merchant_id 0x00 customer                    CreditLedgerRecord
 *   expiry       expires_at (8 bytes, big-endian) session id  empty (the sweep's index)
 *   credit_txns  merchant_id 0x00 customer 0x00 seq (8 bytes BE) CreditTxnRecord (immutable)
 *   merchant_keys merchant_id 0x00 key_id                     32-byte apikeys key (its hash)
 *   ak_hashes    32-byte keyed BLAKE2b of a raw access key       entitlement id
 *   merchant_sessions merchant_id 0x00 ~created (8 bytes BE) session id   empty (newest first)
 *   customer_ents merchant_id 0x00 customer 0x00 entitlement id  empty (GetEntitlements)
 *   anomalies    merchant_id 0x00 seq (8 bytes BE, the audit seq) AnomalyRecord
 *   quarantine   id (8 bytes BE)                              QuarantinedEventRecord
 *   parked       provider(1 byte) ref 0x00 seq (8 bytes BE)    ParkedEventRecord
 *   provider_creds merchant_id 0x00 provider(1) mode(1)       ProviderCredentialsRecord
 *   credit_packages merchant_id 0x00 code                     CreditPackageRecord
 *   refunds      "r" refund id                                RefundRecord
 *                "k" merchant_id 0x00 idempotency key         the refund id
 *   plan_prices  merchant_id 0x00 mode(1) plan                a Stripe price id (raw)
 *   notify_endpoints merchant_id 0x00 endpoint_id             NotifyEndpointRecord
 *   notify_outbox msg_id                                      OutboxMessageRecord
 *   notify_due   next attempt ms (8 bytes BE) msg_id          empty (the worker's index)
 *   notify_dead  msg_id                                       OutboxMessageRecord (dead letter)
 *
 * Records returned to callers are unpacked protobuf-c messages the caller owns
 * and frees with the matching paywire__store__v1__*__free_unpacked(rec, NULL).
 */
#ifndef PW_STORE_H
#define PW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "pw_event.h"
#include "pw_limits.h"
#include "pw_provider.h"
#include "paywire/store/v1/store.pb-c.h"

typedef struct store store;
typedef struct store_txn store_txn;

typedef enum store_sync {
	STORE_SYNC_FULL = 0, /* fsync data and meta at every commit (default) */
	STORE_SYNC_META,     /* no meta-page fsync: an OS crash may lose the last commits,
	                        never corrupts */
	STORE_SYNC_NONE,     /* no fsync: an OS crash may lose recent commits; tests/bench only */
} store_sync;

typedef struct store_opts {
	const char *dir;          /* data directory; created 0700 if missing. With url
	                             set it holds only paywire.key */
	const char *url;          /* NULL: LMDB in dir. Else a PostgreSQL database (a
	                             postgres:// URL or a libpq key=value string) that
	                             several servers may share (docs/POSTGRES.md) */
	uint64_t map_size_bytes;  /* 0: PW_MAP_SIZE_DEFAULT; min PW_MAP_SIZE_MIN */
	store_sync sync;          /* durability */
	bool read_only;           /* open read-only: every write answers PW_UNAVAILABLE */
	const char *token_secret; /* JWT HS256 key; NULL: derived from paywire.key */
} store_opts;

/* Opens (creating if needed) the environment and key file and starts the
 * writer thread. On success *out owns everything; on failure nothing is left
 * open and a message is logged. Errors: PW_INVALID_ARGUMENT (bad opts),
 * PW_UNAVAILABLE (directory/lock/permission problems), PW_INTERNAL. */
pw_status store_open(store **out, const store_opts *opts) PW_WUR;

/* True if url can name a PostgreSQL store (store_opts.url): a postgres:// or
 * postgresql:// URL, or a libpq key=value connection string. Checks the
 * form only; whether the database answers is known at store_open. */
bool store_url_is_postgres(const char *url);

/* Stops accepting writes, drains the queue (every queued write is applied and
 * committed, done callbacks run), stops the writer, closes the env. */
void store_close(store *s);

/* True once a commit failed with an I/O error: the store refuses writes. */
bool store_failed(const store *s);

/* Writes queued for the writer and not yet taken into a batch, now (a
 * relaxed read, no lock: a hint, as a metric is). A done callback uses it to
 * tell whether the writer has a next batch waiting. */
size_t store_writes_waiting(const store *s);

/* The engine's last committed write transaction id (LMDB's txn id). It moves
 * only when a commit changed something, so "nothing written" is checkable
 * from outside: it does not move. */
uint64_t store_last_txnid(store *s);

/* ---- write path ---- */

typedef pw_status (*store_apply_fn)(store_txn *txn, void *arg);
typedef void (*store_done_fn)(pw_status st, void *arg);

/* A queued write, in caller memory. The caller fills apply, done, arg and
 * (optionally) deadline_mono_ms; the store owns `next` while queued. */
typedef struct store_write {
	store_apply_fn apply;      /* runs on the writer thread (or the caller's:
	                              run_here) in a nested txn (again after a
	                              conflict: see RE-RUNS) */
	store_done_fn done;        /* runs once, on the same thread, after the commit */
	void *arg;                 /* passed to both */
	int64_t deadline_mono_ms;  /* 0: none. Past it when dequeued: not applied,
	                              done(PW_DEADLINE_EXCEEDED) */
	const char *reply_scope;   /* optional, with reply_request_id: the apply
	                              looks its stored reply up first
	                              (store_reply_get); the writer then reads
	                              those of a whole batch in one go where the
	                              engine's reads cost a round trip. Caller
	                              memory, alive until done. */
	const char *reply_request_id;
	bool run_here;             /* the caller may run it: when the writer is
	                              idle (nothing queued, no batch running),
	                              store_submit applies and commits w on the
	                              calling thread, as a batch of one, and
	                              calls done before it returns (see below) */
	struct store_write *next;  /* queue link (store-owned) */
} store_write;

/* Queues w. Returns PW_OK: done will be called exactly once, from the writer
 * thread, with the apply's status if the batch committed, or the commit's
 * error (PW_UNAVAILABLE, PW_RESOURCE_EXHAUSTED, PW_INTERNAL) if it did not
 * (PW_UNAVAILABLE too when its re-runs after conflicts were used up).
 * Any other return: w was not queued and done will never be called
 * (PW_UNAVAILABLE when the queue is full, the store is read-only, failed or
 * closing). Never blocks, unless w->run_here: then, when the writer is idle,
 * the calling thread runs w itself (the same batch code, its commit and its
 * fsync; the writer's batches wait for it) and done has run, on the calling
 * thread, before PW_OK is returned: a caller that sets run_here must hold no
 * lock its apply or done takes. One hand-off fewer when writes come one at a
 * time; under load the writer batches them as before (docs/STORE.md "Group
 * commit"). */
pw_status store_submit(store *s, store_write *w) PW_WUR;

/* Submits apply and waits for the commit. Same statuses as done would get.
 * Not from the writer thread. For the CLI, tests and admin paths. */
pw_status store_apply_sync(store *s, store_apply_fn apply, void *arg) PW_WUR;

/* Test builds: make the writer sleep this long before applying each batch
 * (to provoke real REQ re-sends). 0 = off. */
void store_test_set_writer_delay_ms(store *s, uint32_t ms);

/* Test builds: off makes audit appends write no merchant index entry and no
 * meta audit_index_from, as a build before the index did (a store format 1
 * store written before it); on again, the next append starts the index. */
void store_test_set_audit_index(store *s, bool on);

/* Test builds: the interval of the writer's own purge of expired replies and
 * idempotency keys (default PW_STORE_PURGE_INTERVAL_MS); 0 = never, for tests
 * that drive store_expired_purge themselves. */
void store_test_set_purge_interval_ms(store *s, uint32_t ms);

/* Test builds: off makes every batch run with each write nested from the
 * start, without the flat first run (store_writer.c): an allocation walk
 * then reaches every failure point of an apply, as a failure after a write
 * is no longer answered by a re-run that does not fail. On by default. */
void store_test_set_flat_runs(store *s, bool on);

/* ---- operations inside an apply callback (writer thread only) ---- */

/* Current time as the writer sees it (pw_now_unix_ms at batch start; a
 * re-run takes a new one). */
int64_t store_txn_now_ms(store_txn *t);

/* 0 for the first run of this write's apply callback in its batch; 1, 2...
 * when the batch is re-run after a commit conflict (see RE-RUNS above). */
unsigned store_txn_attempt(const store_txn *t);

/* True once a put or delete went through t. A write whose apply changed
 * nothing (a duplicate event, say) is rolled back rather than committed, and
 * a batch of such writes ends without a commit: nothing moves on disk, no
 * fsync. Its reply need not be kept either: a resend recomputes the same
 * answer from the same data. */
bool store_txn_wrote(const store_txn *t);

/* Request-id dedup ("replies" db). scope separates callers (e.g. the merchant
 * id, "admin", "webhook"); request_hash is BLAKE2b-256 of the call's bytes.
 * get: PW_OK and *reply and *reply_len (malloc'd, caller frees) if a reply was
 *      stored for (scope, request_id) with the same hash; PW_IDEMPOTENCY_CONFLICT
 *      if stored with another hash; PW_NOT_FOUND if none (or older than 24 h).
 * put: stores reply for (scope, request_id). */
pw_status store_reply_get(store_txn *t, const char *scope, const char *request_id,
    const uint8_t request_hash[32], uint8_t **reply, size_t *reply_len) PW_WUR;

/* store_reply_get in a read transaction of its own, on the caller's thread,
 * before the writer: a re-sent request whose reply is committed is answered
 * without a write. Same answers as store_reply_get. */
pw_status store_reply_peek(store *s, const char *scope, const char *request_id,
    const uint8_t request_hash[32], uint8_t **reply, size_t *reply_len) PW_WUR;
pw_status store_reply_put(store_txn *t, const char *scope, const char *request_id,
    const uint8_t request_hash[32], const uint8_t *reply, size_t reply_len) PW_WUR;

/* Deletes stored replies and idempotency entries older than
 * PW_IDEMPOTENCY_TTL_MS (they already count as absent), so they do not fill
 * the map. Examines at most max_scan (> 0) entries of each of the two dbs per
 * call, resuming where the previous call stopped and wrapping around, so one
 * call costs O(max_scan). *deleted_out: entries removed (0: nothing written).
 * Writer thread only (inside an apply): the server schedules it, e.g. one
 * write a minute with max_scan 1024. */
pw_status store_expired_purge(store_txn *t, size_t max_scan, size_t *deleted_out) PW_WUR;

/* Creates a merchant and its first API key (sk_test_/sk_live_ + base64url of
 * 32 random bytes, per mode). raw_key_out (>= 96 bytes) receives the raw key,
 * which is never stored. *out: the new record (caller frees). Audited. */
/* The display name of merchant_id into out (size >= PW_NAME_BYTES_MAX + 1),
 * for the customer's pages. PW_NOT_FOUND: no such merchant. */
pw_status store_merchant_name(store *s, const char *merchant_id, char *out, size_t size) PW_WUR;

/* ---- a merchant's own rate limits (store_ratelimit.c; issue 11) ----
 * MerchantRecord.rate_reads/rate_writes/rate_provider (absent or kind 0:
 * the server's defaults). */
#define STORE_RATE_LIMIT_DEFAULT 0u
#define STORE_RATE_LIMIT_CUSTOM 1u
#define STORE_RATE_LIMIT_UNLIMITED 2u
#define STORE_RATE_LIMIT_CLASSES 3 /* reads, writes, provider calls */

/* The rules for one class's limit: kind 0..2; custom: rate 1..PW_RATE_MAX,
 * period_s 1, 60 or 3600, burst 1..PW_RATE_MAX; default and unlimited:
 * rate, period_s and burst 0. PW_INVALID_ARGUMENT with *reason. */
pw_status store_rate_limit_check(const Paywire__Store__V1__MerchantRateLimitRecord *r,
    char *reason, size_t reason_size) PW_WUR;

/* Sets merchant_id's limits: set[i] NULL leaves class i as it is; a
 * default kind clears the class. Audited "merchant.rate_limits.set".
 * *out: the merchant's record as written (caller frees). PW_NOT_FOUND: no
 * such merchant; PW_INVALID_ARGUMENT (reason): a class breaks the rules;
 * nothing is written then. */
pw_status store_merchant_rate_limits_set(store_txn *t, const char *merchant_id,
    const Paywire__Store__V1__MerchantRateLimitRecord *const set[STORE_RATE_LIMIT_CLASSES],
    Paywire__Store__V1__MerchantRecord **out, char *reason, size_t reason_size) PW_WUR;

/* merchant_id's record (caller frees). PW_NOT_FOUND: no such merchant. */
pw_status store_merchant_record_get(store *s, const char *merchant_id,
    Paywire__Store__V1__MerchantRecord **out) PW_WUR;

/* Calls visit for every merchant with a limit of its own (any class not
 * default), in merchant id order; for the server's start. visit's record
 * dies when it returns. */
typedef void (*store_rate_limits_fn)(const Paywire__Store__V1__MerchantRecord *m, void *arg);
pw_status store_merchant_rate_limits_each(store *s, store_rate_limits_fn visit, void *arg) PW_WUR;

pw_status store_merchant_create(store_txn *t, const char *name, Paywire__Store__V1__Mode mode,
    Paywire__Store__V1__MerchantRecord **out, char *raw_key_out, size_t raw_key_size) PW_WUR;

/* Revokes an API key by its raw value. PW_NOT_FOUND if unknown; PW_OK (no
 * change) if already revoked. PW_FAILED_PRECONDITION (nothing written,
 * *reason says why) when it is its merchant's last active key: revoking it
 * would lock the merchant out; create another first. merchant_id_out >= 64
 * bytes. Audited. */
pw_status store_apikey_revoke(store_txn *t, const char *raw_key, char *merchant_id_out,
    size_t merchant_id_size, char *reason, size_t reason_size) PW_WUR;

/* A merchant's API key is active: not revoked, not past expires_at. */
bool store_apikey_active(const Paywire__Store__V1__ApiKeyRecord *k, int64_t now_ms);

/* Another API key for merchant_id, of `mode` (at most the merchant's):
 * raw_key_out (>= 96 bytes) gets the raw key, *out its record (caller
 * frees). PW_FAILED_PRECONDITION (*reason) with PW_APIKEYS_ACTIVE_MAX active
 * keys, or a mode above the merchant's; PW_NOT_FOUND for no merchant.
 * Audited "apikey.created". */
pw_status store_apikey_create(store_txn *t, const char *merchant_id,
    Paywire__Store__V1__Mode mode, Paywire__Store__V1__ApiKeyRecord **out, char *raw_key_out,
    size_t raw_key_size, char *reason, size_t reason_size) PW_WUR;

/* Rolls merchant_id's key key_id (NULL or "": the key whose raw value is
 * caller_raw_key): a new key of the same mode (raw_key_out, *out), and the
 * old one expires at now + grace_s (0: now), replaced_by the new one.
 * PW_NOT_FOUND: no such key of this merchant; PW_FAILED_PRECONDITION
 * (*reason): it is revoked or expired already. *rolled: the old key's
 * record after it (caller frees). Audited "apikey.rolled". */
pw_status store_apikey_roll(store_txn *t, const char *merchant_id, const char *key_id,
    const char *caller_raw_key, int64_t grace_s, Paywire__Store__V1__ApiKeyRecord **out,
    Paywire__Store__V1__ApiKeyRecord **rolled, char *raw_key_out, size_t raw_key_size,
    char *reason, size_t reason_size) PW_WUR;

/* merchant_id's keys, newest first (to the millisecond of their creation:
 * key ids are time-ordered), at most PW_LIST_LIMIT_MAX: an array of
 * *n_out records (free with store_apikey_list_free). Never a raw key: the
 * store has none. last_used_at_unix_ms is the newer of the stored time and
 * the one this store noted in memory since it opened. */
pw_status store_apikey_list(store *s, const char *merchant_id,
    Paywire__Store__V1__ApiKeyRecord ***out, size_t *n_out) PW_WUR;
void store_apikey_list_free(Paywire__Store__V1__ApiKeyRecord **list, size_t n);

/* What a new session is made of: the caller's validated parameters, with the
 * names of the Session fields they become. Everything is borrowed for the
 * call only (the store copies what it keeps); a NULL string is stored as "".
 * Zero-initialise ({ 0 }) and set what applies. */
typedef struct store_session_params {
	int64_t amount_minor;           /* 1..PW_AMOUNT_MINOR_MAX */
	const char *currency;           /* ISO 4217, upper case ("EUR") */
	Paywire__Store__V1__Mode mode;  /* TEST or LIVE */
	const char *success_url;        /* where the customer goes after paying */
	const char *cancel_url;         /* where the customer goes on cancel */
	const char *customer_email;
	const char *customer_name;
	const char *customer_ref;       /* the merchant's own customer id */
	const char *idempotency_key;    /* NULL or "": none */
	size_t n_metadata;              /* 0..PW_METADATA_ENTRIES_MAX */
	Paywire__Store__V1__Session__MetadataEntry **metadata; /* n_metadata entries, in order */
	Paywire__Store__V1__Fulfillment *fulfillment; /* what to grant; NULL: none (the
	                                                 record then has none either) */
	int64_t expires_at_unix_ms;     /* 0: created + PW_SESSION_TTL_DEFAULT_MS; else
	                                   after the writer's clock (the server checks
	                                   the PW_SESSION_TTL_MIN/MAX_MS range) */
	Paywire__Store__V1__Provider provider; /* UNSPECIFIED: no provider checkout; STRIPE or
	                                   RAZORPAY: the session is created with its
	                                   provider checkout PENDING (the server creates
	                                   it, then store_session_provider_record) */
	const char *credit_package;     /* NULL or "": none. Else the code of the
	                                   merchant's active credit package it sells:
	                                   amount_minor (0 or equal), currency (NULL,
	                                   "" or equal) and fulfillment (NULL, NONE or
	                                   CREDITS with its credits) come from it */
	char *reason;                   /* NULL, or reason_size bytes the store fills
	                                   with why it refused the package */
	size_t reason_size;
} store_session_params;

/* Creates a session for an authenticated merchant from parameters the server
 * has already validated (the store re-checks only what its keys and arrays
 * rely on: PW_INVALID_ARGUMENT). Idempotency (Stripe's semantics), when
 * p->idempotency_key is set: same merchant + key + same request_hash within
 * 24 h -> PW_OK with the original session; another hash ->
 * PW_IDEMPOTENCY_CONFLICT. request_hash: BLAKE2b-256 of the parameters.
 * checkout_url_base: prefix for session.url ("http://127.0.0.1:8080/checkout?session="),
 * may be NULL. *out: the session record (caller frees). Audited.
 * With p->credit_package, in the same transaction: PW_NOT_FOUND (no such
 * package of this merchant), PW_FAILED_PRECONDITION (archived),
 * PW_INVALID_ARGUMENT (amount, currency or fulfillment given and not the
 * package's), each with p->reason filled and nothing written; else the
 * session sells the package's credits at its price and records its code. An
 * idempotent replay answers the original session even if the package was
 * archived since. */
pw_status store_session_create(store_txn *t, const char *merchant_id,
    const store_session_params *p, const uint8_t request_hash[32],
    const char *checkout_url_base, Paywire__Store__V1__SessionRecord **out) PW_WUR;

/* Records the provider checkout paywire created for a session whose provider
 * checkout is PENDING (docs/PROVIDERS.md "Provider checkout"): its id (cs_…,
 * order_…) and hosted URL ("" for Razorpay), state CREATED, a provider ref
 * (so the provider's events find the session by it too), audited
 * (session.provider_checkout). The same id again: PW_OK, nothing written (a
 * retry that reached the same provider object). Another id while one is
 * recorded: PW_IDEMPOTENCY_CONFLICT, nothing written (one paywire session
 * never has two provider checkouts). PW_NOT_FOUND: no such session of
 * merchant_id; PW_FAILED_PRECONDITION: the session asked for no provider
 * checkout. *out: the updated record (caller frees). */
/* A merchant's session whose Stripe customer is recorded (from its
 * checkout's events): customer (cus_…) and the session's mode, for a
 * customer portal session. PW_NOT_FOUND: no such session of merchant_id;
 * PW_FAILED_PRECONDITION: no Stripe customer recorded (why says so). A read
 * inside t; writes nothing. */
pw_status store_session_stripe_customer(store_txn *t, const char *merchant_id,
    const char *session_id, char *customer, size_t customer_size,
    Paywire__Store__V1__Mode *mode, char *why, size_t why_size) PW_WUR;

/* ---- refunds the merchant asks paywire to make (RefundPayment, issue 10) ---- */

typedef struct store_refund_params {
	const char *session_id;
	int64_t amount_minor;        /* 0: all that is left */
	const char *idempotency_key; /* required (1..PW_IDEMPOTENCY_KEY_BYTES_MAX) */
	const char *reason;          /* "", duplicate, fraudulent, requested_by_customer */
} store_refund_params;

/* Records a refund request of a paid Stripe / Razorpay session (REQUESTED;
 * its amount reserved on the session so no two requests refund more than
 * was paid; audited refund.requested). The same merchant + idempotency key:
 * the refund it made (same request_hash), else PW_IDEMPOTENCY_CONFLICT.
 * PW_NOT_FOUND: no such session of merchant_id. PW_FAILED_PRECONDITION (why
 * says which): not paid, paid another way, or more than is left.
 * *out: the refund (caller frees). */
pw_status store_refund_request(store_txn *t, const char *merchant_id,
    const store_refund_params *p, const uint8_t request_hash[32],
    Paywire__Store__V1__RefundRecord **out, char *why, size_t why_size) PW_WUR;

/* Records the provider's answer to a REQUESTED refund: provider_refund_id
 * (PENDING: the provider's webhook then refunds the session) or, with
 * provider_refund_id NULL, failure_reason (FAILED: the reservation is
 * released). The same answer again: PW_OK, nothing written; another one:
 * PW_IDEMPOTENCY_CONFLICT. Audited refund.pending / refund.failed. */
pw_status store_refund_provider_record(store_txn *t, const char *merchant_id,
    const char *refund_id, const char *provider_refund_id, const char *failure_reason,
    Paywire__Store__V1__RefundRecord **out) PW_WUR;

/* A merchant's Stripe Price for a plan in one mode (issue 10: "a configured
 * Price id per plan where the merchant has one"): CreateSession's Stripe
 * checkout then sells `price` instead of `price_data`. price_id "" deletes
 * (PW_NOT_FOUND when there was none). Audited plan_price.set/.deleted.
 * PW_INVALID_ARGUMENT: not price_…, too long, a mode other than test/live. */
pw_status store_plan_price_set(store_txn *t, const char *merchant_id,
    Paywire__Store__V1__Mode mode, const char *plan, const char *price_id) PW_WUR;
/* The price id for (merchant, mode, plan) into out; PW_NOT_FOUND: none. */
pw_status store_plan_price_get(store *s, const char *merchant_id, Paywire__Store__V1__Mode mode,
    const char *plan, char *out, size_t size) PW_WUR;

/* A merchant's refund by id (another merchant's: PW_NOT_FOUND). */
pw_status store_refund_get(store_txn *t, const char *merchant_id, const char *refund_id,
    Paywire__Store__V1__RefundRecord **out) PW_WUR;

/* "requested", "pending", "failed". */
const char *store_refund_state_name(Paywire__Store__V1__RefundState st);

/* The audit record of a customer portal session paywire created
 * (portal.created: customer, never the URL). */
pw_status store_portal_audit(store_txn *t, const char *merchant_id, const char *session_id,
    const char *customer) PW_WUR;

pw_status store_session_provider_record(store_txn *t, const char *merchant_id,
    const char *session_id, const char *checkout_id, const char *checkout_url,
    Paywire__Store__V1__SessionRecord **out) PW_WUR;

/* The merchant merchant_id cancels its session session_id: created or
 * pending -> canceled (the state machine's closure, as a provider's
 * cancellation), audited "session.canceled". PW_NOT_FOUND when there is no
 * such session or it is another merchant's (nothing tells them apart);
 * PW_FAILED_PRECONDITION (nothing written) in any other status: *reason says
 * which. *out: the session record after it (caller frees). */
pw_status store_session_cancel(store_txn *t, const char *merchant_id, const char *session_id,
    Paywire__Store__V1__SessionRecord **out, char *reason, size_t reason_size) PW_WUR;

/* Bytes of store_access_receipt.access_key: "ak_test_"/"ak_live_" +
 * base64url(32 bytes) is 51 characters. */
#define STORE_ACCESS_KEY_BYTES 64
/* Bytes of the id buffers of the results below (entitlement ids "ent_..."). */
#define STORE_RESULT_ID_BYTES 64

/* Result of applying one verified provider event. */
typedef struct store_webhook_result {
	Paywire__Store__V1__WebhookOutcome outcome;       /* APPLIED, DUPLICATE or IGNORED */
	char session_id[PW_SESSION_ID_BYTES_MAX];         /* "": no session resolved */
	char reason[256];                                 /* why IGNORED / what was anomalous */
	Paywire__Store__V1__SessionStatus session_status; /* the session's status after it */
	uint64_t invoice_number;                          /* 0: none created */
	char access_key_id[STORE_RESULT_ID_BYTES];        /* "" : none created */
	bool anomaly;                                     /* money moved but was not applied */
} store_webhook_result;

/* Applies a verified, parsed provider event (DESIGN.md "What a payment does"):
 * dedup on (provider, event_id) -> DUPLICATE, nothing else changes; resolve the
 * session (ev->session_ref, else a recorded provider ref); run the state
 * machine; on payment: session paid, invoice (gapless per merchant),
 * entitlement, access link JWT, audit record; refunds/lost disputes revoke the
 * entitlement. Statuses: PW_OK with out filled (APPLIED/DUPLICATE/IGNORED, all
 * recorded); PW_NOT_FOUND when the event names a session that does not exist
 * (nothing written, so the provider retries). */
pw_status store_webhook_apply(store_txn *t, const pw_event *ev, store_webhook_result *out) PW_WUR;

/* The answer to an event that was already recorded, from a read transaction
 * on the caller's thread, before the writer: PW_OK with out filled
 * (DUPLICATE) when (provider, event_id) is in the events table;
 * PW_NOT_FOUND when the event must go to the writer (store_webhook_apply,
 * which checks again: an event queued ahead of it may record it first).
 * Writes nothing, any thread. */
pw_status store_webhook_peek(store *s, const pw_event *ev, store_webhook_result *out) PW_WUR;

/* The checkout secret of session_id (PW_CHECKOUT_SECRET_BYTES + NUL into out):
 * the customer's capability on the checkout page. Deterministic, so a replay
 * answers the same secret and nothing is stored. */
void store_checkout_secret(store *s, const char *session_id,
    char out[PW_CHECKOUT_SECRET_BYTES + 1]);

/* Whether secret is session_id's checkout secret (constant time). */
bool store_checkout_secret_ok(store *s, const char *session_id, const char *secret) PW_WUR;

/* The customer's receipt for one redemption of an access link, in caller
 * memory. Strings are NUL-terminated copies; access_key holds a raw key, so
 * the caller wipes it (sodium_memzero) when done. */
typedef struct store_access_receipt {
	char session_id[PW_SESSION_ID_BYTES_MAX];   /* the session redeemed */
	char merchant_id[STORE_RESULT_ID_BYTES];    /* its merchant */
	Paywire__Store__V1__SessionStatus status;   /* its status now */
	int64_t amount_minor;                       /* its amount */
	char currency[4];                           /* ISO 4217 */
	int64_t paid_at_unix_ms;                    /* 0: not paid */
	uint64_t invoice_number;                    /* 0: none */
	char access_key_id[STORE_RESULT_ID_BYTES];  /* "": the session sold no access key */
	char access_key[STORE_ACCESS_KEY_BYTES];    /* raw key: only at the first redemption,
	                                               else "" */
	bool already_revealed;                      /* the raw key was shown before */
	bool entitlement_active;                    /* what the session sold is granted and live */
	char plan[PW_PLAN_BYTES_MAX + 1];           /* ACCESS_KEY's plan, else "" */
	char customer_email[PW_EMAIL_BYTES_MAX + 1]; /* the session's customer_email */
	char merchant_name[PW_NAME_BYTES_MAX + 1];  /* who sold it */
} store_access_receipt;

/* Customer redemption of an access link: verifies the JWT (HS256 pinned,
 * signature, expiry, sub/session match) with the store's token key and
 * checks it is the session's current link (a re-issue replaces it); fills
 * *out and, when reveal is set and the first time only, reveals the raw
 * access key into it and wipes its sealed copy (without reveal nothing
 * changes: the page a GET shows). PW_UNAUTHENTICATED for a bad token, PW_NOT_FOUND for
 * an unknown session, PW_INTERNAL for a record whose strings do not fit *out
 * (corrupt). On any error *out holds no key. Audited (without the key). */
pw_status store_access_redeem(store_txn *t, const char *session_id, const char *token,
    bool reveal, store_access_receipt *out) PW_WUR;

/* Expires the sessions that are due (unpaid past their expires_at): each
 * becomes expired through the state machine's closure, audited
 * "session.expired" (by=sweep). Examines at most max_scan (> 0) entries of
 * the expiry index (max_scan <= PW_STORE_SWEEP_BATCH_MAX), earliest first;
 * *expired_out: sessions expired;
 * *more_out (may be NULL): due entries were left for the next call. Writes
 * nothing when nothing is due. The writer runs it itself every
 * PW_STORE_SWEEP_INTERVAL_MS with PW_STORE_SWEEP_BATCH_MAX (and at once
 * again while more are due); tests drive it with an injected clock. */
pw_status store_sessions_expire(store_txn *t, size_t max_scan, size_t *expired_out,
    bool *more_out) PW_WUR;

/* Test builds: the interval of the writer's expiry sweep (default
 * PW_STORE_SWEEP_INTERVAL_MS); 0 = never, for tests that drive
 * store_sessions_expire themselves. */
void store_test_set_sweep_interval_ms(store *s, uint32_t ms);

/* Test builds: the API key last-used flush's granularity (default
 * PW_APIKEY_LASTUSED_GRANULARITY_MS, wall clock: injectable), how often a
 * batch of writes may carry it (default PW_APIKEY_LASTUSED_CHECK_MS,
 * monotonic; 0: every batch) and after how long without one the writer runs
 * it alone (default PW_APIKEY_LASTUSED_IDLE_MS, monotonic; 0: never). */
void store_test_set_lastused_ms(store *s, uint32_t granularity_ms, uint32_t check_ms,
    uint32_t idle_ms);

/* A deduction of a customer's credits (DeductCredits). Borrowed for the call. */
typedef struct store_deduct_params {
	const char *customer;        /* 1..PW_CREDIT_CUSTOMER_BYTES_MAX bytes */
	int64_t credits;             /* 1..PW_CREDITS_MAX */
	const char *idempotency_key; /* required, 1..PW_IDEMPOTENCY_KEY_BYTES_MAX */
	const char *description;     /* NULL or 0..PW_DESCRIPTION_BYTES_MAX */
} store_deduct_params;

/* The merchant spends p->credits of a customer's balance: a DEDUCTION entry,
 * audited "credits.deducted". Idempotency as CreateSession's (same key
 * space, Stripe's semantics): same key + same request_hash within 24 h ->
 * PW_OK with the original entry, nothing written; other parameters (or a key
 * a CreateSession used) -> PW_IDEMPOTENCY_CONFLICT. A balance below
 * p->credits -> PW_FAILED_PRECONDITION, nothing written, *reason says the
 * balance. PW_INVALID_ARGUMENT for parameters out of range. *out: the entry
 * (caller frees). */
pw_status store_credits_deduct(store_txn *t, const char *merchant_id,
    const store_deduct_params *p, const uint8_t request_hash[32],
    Paywire__Store__V1__CreditTxnRecord **out, char *reason, size_t reason_size) PW_WUR;

/* The merchant re-issues the access key of its own session session_id (the
 * customer lost it): a new raw key replaces the entitlement's (the old one
 * then verifies as "replaced"), sealed for one reveal, and a new access link
 * replaces the session's (the old link no longer opens the page); audited
 * access.reissued. *out: the session record after it (caller frees); prefix:
 * the new key's display prefix ("ak_test_AbCd", prefix_size >= 16).
 * PW_NOT_FOUND: no such session for merchant_id; PW_FAILED_PRECONDITION (why
 * filled): the session sold no access key, or its key is revoked. */
pw_status store_access_reissue(store_txn *t, const char *merchant_id, const char *session_id,
    Paywire__Store__V1__SessionRecord **out, char *prefix, size_t prefix_size, char *why,
    size_t why_size) PW_WUR;

/* What a merchant learns of one customer access key (VerifyAccessKey). */
typedef struct store_access_check {
	bool valid;                                  /* it grants its plan now */
	char reason[160];                            /* why not (revoked after a refund, ...);
	                                                "" when valid */
	char entitlement_id[STORE_RESULT_ID_BYTES];  /* "" for an unknown key */
	char session_id[PW_SESSION_ID_BYTES_MAX];    /* the session that sold it */
	char customer[PW_EMAIL_BYTES_MAX + 1];       /* customer_ref, else e-mail */
	char plan[PW_PLAN_BYTES_MAX + 1];
	int64_t granted_at_unix_ms;
	int64_t revoked_at_unix_ms;                  /* 0: not revoked */
	int64_t until_unix_ms;                       /* subscription: end of the paid period;
	                                                0: no end (a one-time purchase) */
	Paywire__Store__V1__EntitlementState state;  /* UNSPECIFIED for an unknown key */
} store_access_check;

/* Looks a raw access key ("ak_test_..."/"ak_live_...") up for merchant_id by
 * its keyed hash (the key itself is never stored): PW_OK with *out filled.
 * An unknown key, or another merchant's, is PW_OK with valid false and
 * reason "unknown access key" (nothing tells them apart). Keys granted
 * before the ak_hashes index existed read as unknown. A read: any thread. */
pw_status store_access_key_verify(store *s, const char *merchant_id, const char *access_key,
    store_access_check *out) PW_WUR;

/* ---- the change feed (reads, any thread) ----
 * Every committed change has its audit record (written in the same
 * transaction): the audit log is the outbox. Its seq orders the events. */

/* The seq of the last committed event (0: none). */
pw_status store_events_head(store *s, uint64_t *seq) PW_WUR;

/* Events after after_seq in seq order, of merchant_id (NULL: every
 * merchant's), at most limit (1..PW_LIST_LIMIT_MAX). A merchant's listing is
 * a range read of its index (audit_merchant, written with each record that
 * has a merchant), so other merchants' records cost nothing and its page is
 * full while it has events; *has_more then says whether it has more. Below
 * meta audit_index_from (records written before the index existed: a store
 * of an older build; docs/STORE.md "The audit log's merchant index"), and
 * for NULL, it walks the log itself and examines at most PW_LIST_SCAN_MAX
 * records, so a page may come back short (even empty) with *has_more.
 * *next_after: the seq to pass next (past every record examined, matched or
 * not; the last record returned, on the index). Free *out with
 * store_events_free. */
pw_status store_events_list(store *s, const char *merchant_id, uint64_t after_seq, size_t limit,
    Paywire__Store__V1__AuditRecord ***out, size_t *n_out, bool *has_more,
    uint64_t *next_after) PW_WUR;
void store_events_free(Paywire__Store__V1__AuditRecord **list, size_t n);

/* ---- anomalies: money that needs a human (reads, any thread) ----
 * Every event the payment engine records as an anomaly (docs/PAYMENTS.md
 * "Anomalies") leaves an AnomalyRecord under merchant_id 0x00 seq, written
 * in the event's transaction; seq is the audit seq of its session.anomaly
 * record, so anomalies list in the order they were found. */

/* merchant_id's anomalies with seq > after_seq, oldest first, at most limit
 * (1..PW_LIST_LIMIT_MAX). *has_more: more follow; pass the last seq of the
 * page as the next after_seq. Another merchant's are never seen.
 * PW_INVALID_ARGUMENT: limit out of range, after_seq UINT64_MAX, an empty or
 * too long merchant_id. Free *out with store_anomalies_free. */
pw_status store_anomalies_list(store *s, const char *merchant_id, uint64_t after_seq,
    size_t limit, Paywire__Store__V1__AnomalyRecord ***out, size_t *n_out,
    bool *has_more) PW_WUR;
void store_anomalies_free(Paywire__Store__V1__AnomalyRecord **list, size_t n);

/* ---- quarantine: verified webhooks paywire could not parse ----
 * The exact body and headers of a delivery whose signature verified but
 * whose body the provider's parser refused, kept (at most
 * PW_QUARANTINE_EVENTS_MAX) until an operator retries it. Ids grow from 1
 * (meta "quarantine_id") and are never reused. */

/* In t (writer): keeps r (provider, body, headers and reason set by the
 * caller; id, received time, attempts are set here), *id_out its id.
 * PW_UNAVAILABLE, nothing written, when PW_QUARANTINE_EVENTS_MAX are kept;
 * PW_INVALID_ARGUMENT for a body over PW_WEBHOOK_BODY_BYTES_MAX, more than
 * PW_WEBHOOK_HEADERS_MAX headers or an empty reason. */
pw_status store_quarantine_put(store_txn *t, Paywire__Store__V1__QuarantinedEventRecord *r,
    uint64_t *id_out) PW_WUR;

/* In t (writer): the entry id (*out owned by the caller) or PW_NOT_FOUND. */
pw_status store_quarantine_get_in(store_txn *t, uint64_t id,
    Paywire__Store__V1__QuarantinedEventRecord **out) PW_WUR;

/* In t (writer): removes the entry id (it was applied). PW_NOT_FOUND. */
pw_status store_quarantine_remove(store_txn *t, uint64_t id) PW_WUR;

/* In t (writer): a retry of id failed: reason replaces the kept one,
 * attempts + 1, last attempt now. PW_NOT_FOUND. */
pw_status store_quarantine_note(store_txn *t, uint64_t id, const char *reason) PW_WUR;

/* Reads (any thread): the entry id, or PW_NOT_FOUND. */
pw_status store_quarantine_get(store *s, uint64_t id,
    Paywire__Store__V1__QuarantinedEventRecord **out) PW_WUR;

/* Reads: entries with id > after_id, oldest first, at most limit
 * (1..PW_LIST_LIMIT_MAX), *has_more when more follow. Free with
 * store_quarantine_free. */
pw_status store_quarantine_list(store *s, uint64_t after_id, size_t limit,
    Paywire__Store__V1__QuarantinedEventRecord ***out, size_t *n_out, bool *has_more) PW_WUR;
void store_quarantine_free(Paywire__Store__V1__QuarantinedEventRecord **list, size_t n);

/* ---- a merchant's provider credentials (issue 10) ----
 * What paywire calls Stripe or Razorpay with for a merchant, one set per
 * (merchant, provider, mode) in table provider_creds (key merchant_id 0x00
 * provider(1) mode(1)). The secret is stored sealed only
 * (crypto_aead_xchacha20poly1305_ietf under its own sub-key of paywire.key,
 * a random nonce per record, the record's place as additional data: a
 * record copied under another merchant, provider or mode does not open);
 * it is never returned but by store_provider_creds_get, never logged,
 * never audited (the audit and the listing carry hints only). */

/* A merchant's credentials at one provider for one mode. Stripe: key_id ""
 * and secret = the secret or restricted key (sk_test_/sk_live_/rk_test_/rk_live_);
 * Razorpay: key_id = rzp_test_/rzp_live_ key id, secret = its key secret.
 * The caller wipes it (sodium_memzero) after use. */
typedef struct store_provider_creds {
	char key_id[64];
	char secret[256];
	int64_t updated_at_unix_ms;
} store_provider_creds;

_Static_assert(PW_PROVIDER_KEY_ID_BYTES_MAX < 64 && PW_PROVIDER_SECRET_BYTES_MAX < 256,
    "store_provider_creds holds the longest key id and secret with their NUL");

/* PW_OK and *out; PW_NOT_FOUND when the merchant has none for (provider, mode).
 * A read (no writer); decrypts with the provider credentials sub-key.
 * PW_INTERNAL (logged without the secret; *out wiped) when the record does
 * not open or does not belong where it is stored (tampered, copied, or
 * written under another paywire.key); PW_INVALID_ARGUMENT for a provider
 * other than stripe/razorpay or a mode other than test/live. */
pw_status store_provider_creds_get(store *s, const char *merchant_id, pw_provider provider,
    Paywire__Store__V1__Mode mode, store_provider_creds *out) PW_WUR;

/* Whether (provider, mode, key_id, secret) may be set (why says what is
 * wrong, never quoting the secret): provider stripe or razorpay (onecom and
 * web3 have no outbound calls); mode test or live; Stripe: key_id "" and a
 * secret sk_test_/sk_live_/rk_test_/rk_live_ whose test/live part is mode
 * (a test key never serves live, nor a live key test) with at least
 * PW_PROVIDER_SECRET_BYTES_MIN characters after that prefix; Razorpay:
 * key_id rzp_test_/rzp_live_ of mode, PW_PROVIDER_KEY_ID_BYTES_MIN..MAX, and
 * a secret of PW_PROVIDER_SECRET_BYTES_MIN..MAX; every string printable
 * ASCII without spaces, secrets at most PW_PROVIDER_SECRET_BYTES_MAX. */
pw_status store_provider_creds_check(pw_provider provider, Paywire__Store__V1__Mode mode,
    const char *key_id, const char *secret, char *why, size_t why_size) PW_WUR;

/* In t (writer): sets (or replaces) merchant_id's credentials for
 * (provider, mode), sealed under a fresh nonce; audited
 * "provider_credentials.set" (detail: provider, mode, key id, the secret's
 * hint, replaced=yes|no). *out: the record after it, without its nonce and
 * sealed secret (caller frees). PW_NOT_FOUND: no such merchant;
 * PW_INVALID_ARGUMENT: store_provider_creds_check refused (why);
 * PW_FAILED_PRECONDITION (why): live credentials for a test merchant. */
pw_status store_provider_creds_set(store_txn *t, const char *merchant_id, pw_provider provider,
    Paywire__Store__V1__Mode mode, const char *key_id, const char *secret,
    Paywire__Store__V1__ProviderCredentialsRecord **out, char *why, size_t why_size) PW_WUR;

/* In t (writer): deletes them; audited "provider_credentials.deleted" (the
 * hint of what was deleted). *out (may be NULL): the record deleted, without
 * its nonce and sealed secret (caller frees). PW_NOT_FOUND: the merchant has
 * none for (provider, mode) (nothing written). */
pw_status store_provider_creds_delete(store_txn *t, const char *merchant_id, pw_provider provider,
    Paywire__Store__V1__Mode mode, Paywire__Store__V1__ProviderCredentialsRecord **out) PW_WUR;

/* Reads: merchant_id's credentials (hints only: every record comes without
 * its nonce and sealed secret), in (provider, mode) order, at most
 * PW_PROVIDER_COUNT * 2. An unknown merchant has none. Free with
 * store_provider_creds_list_free. */
pw_status store_provider_creds_list(store *s, const char *merchant_id,
    Paywire__Store__V1__ProviderCredentialsRecord ***out, size_t *n_out) PW_WUR;
void store_provider_creds_list_free(Paywire__Store__V1__ProviderCredentialsRecord **list, size_t n);

/* Entries of the parked table (events waiting for a ref; each event has one
 * entry per ref it names). A read. */
pw_status store_parked_count(store *s, uint64_t *n) PW_WUR;

/* Called on the writer thread after every batch that committed a change,
 * before its done callbacks: the change feed's publisher wakes on it. It
 * must not block or call the store's write path. NULL: none. Set before
 * the first write (startup thread). */
typedef void (*store_commit_hook)(void *arg);
void store_set_commit_hook(store *s, store_commit_hook fn, void *arg);

/* ---- a merchant's sessions and invoices (reads, any thread) ---- */

/* The session session_id of merchant_id as of now (store_session_get's
 * view). PW_NOT_FOUND: none, or another merchant's (nothing tells them
 * apart). *out: caller frees. */
pw_status store_session_get_for(store *s, const char *merchant_id, const char *session_id,
    Paywire__Store__V1__SessionRecord **out) PW_WUR;

typedef struct store_session_filter {
	Paywire__Store__V1__SessionStatus status; /* UNSPECIFIED: any */
	int64_t created_from_ms;                  /* 0: open; inclusive */
	int64_t created_to_ms;                    /* 0: open; inclusive */
	const char *starting_after;               /* NULL or "": from the newest */
	size_t limit;                             /* 1..PW_LIST_LIMIT_MAX */
} store_session_filter;

/* A page of merchant_id's sessions, newest first, matching f (their status
 * as of now). Examines at most PW_LIST_SCAN_MAX index entries per page: a
 * page may then come back short with *has_more, and next (>=
 * PW_SESSION_ID_BYTES_MAX bytes) is where to continue ("" at the end).
 * Sessions made before the merchant_sessions index existed are not listed.
 * PW_INVALID_ARGUMENT: a limit out of range, a cursor that is no session id
 * of this merchant. *out: array of *n_out records, free with
 * store_session_list_free. */
pw_status store_sessions_list(store *s, const char *merchant_id, const store_session_filter *f,
    Paywire__Store__V1__SessionRecord ***out, size_t *n_out, bool *has_more, char *next,
    size_t next_size) PW_WUR;
void store_session_list_free(Paywire__Store__V1__SessionRecord **list, size_t n);

/* Invoice `number` of merchant_id. PW_NOT_FOUND if none. *out: caller frees. */
pw_status store_invoice_get(store *s, const char *merchant_id, uint64_t number,
    Paywire__Store__V1__InvoiceRecord **out) PW_WUR;

/* merchant_id's invoices in number order, those after starting_after, at
 * most limit (1..PW_LIST_LIMIT_MAX). Free with store_invoice_list_free. */
pw_status store_invoices_list(store *s, const char *merchant_id, uint64_t starting_after,
    size_t limit, Paywire__Store__V1__InvoiceRecord ***out, size_t *n_out,
    bool *has_more) PW_WUR;
void store_invoice_list_free(Paywire__Store__V1__InvoiceRecord **list, size_t n);

/* GetEntitlements: merchant_id's entitlements of customer (a customer_ref,
 * else the e-mail its sessions carried), in id order after starting_after
 * ("" from the first), at most limit (1..PW_LIST_LIMIT_MAX); *has_more when
 * the customer has more. Revoked and canceled ones included; the records
 * come without their sealed key or key hash. An unknown customer, or
 * another merchant's, is PW_OK with none. Entitlements granted before the
 * customer_ents index existed are not listed. PW_INVALID_ARGUMENT: customer
 * empty or too long, limit out of range. A read: any thread. Free with
 * store_entitlement_list_free. */
pw_status store_entitlements_list(store *s, const char *merchant_id, const char *customer,
    const char *starting_after, size_t limit, Paywire__Store__V1__EntitlementRecord ***out,
    size_t *n_out, bool *has_more) PW_WUR;
void store_entitlement_list_free(Paywire__Store__V1__EntitlementRecord **list, size_t n);

/* ---- credit packages: a merchant's catalogue ---- */

/* What a new credit package is. Borrowed for the call. */
typedef struct store_credit_package_params {
	const char *code;      /* 1..PW_CREDIT_PACKAGE_CODE_BYTES_MAX of [a-z0-9_-] */
	const char *name;      /* NULL or 0..PW_CREDIT_PACKAGE_NAME_BYTES_MAX */
	int64_t credits;       /* 1..PW_CREDITS_MAX */
	int64_t amount_minor;  /* 1..PW_AMOUNT_MINOR_MAX */
	const char *currency;  /* ISO 4217, upper case */
} store_credit_package_params;

/* True for a code of 1..PW_CREDIT_PACKAGE_CODE_BYTES_MAX bytes of [a-z0-9_-]. */
bool store_credit_package_code_ok(const char *code);

/* "active", "archived" ("unspecified" for 0). */
const char *store_credit_package_state_name(Paywire__Store__V1__CreditPackageState st);

/* In t (writer): merchant_id's new package, active, audited
 * "credit_package.created"; *created true. The same code again, active and
 * with the same parameters: PW_OK with it as it is, *created false, nothing
 * written. Codes are immutable: the code with other parameters, or an
 * archived code, is PW_ALREADY_EXISTS; PW_FAILED_PRECONDITION at
 * PW_CREDIT_PACKAGES_ACTIVE_MAX active packages; PW_RESOURCE_EXHAUSTED at
 * PW_CREDIT_PACKAGES_MAX in all; PW_INVALID_ARGUMENT for parameters out of
 * range; PW_NOT_FOUND for no such merchant. Every refusal fills reason and
 * writes nothing. *out: caller frees. */
pw_status store_credit_package_create(store_txn *t, const char *merchant_id,
    const store_credit_package_params *p, Paywire__Store__V1__CreditPackageRecord **out,
    bool *created, char *reason, size_t reason_size) PW_WUR;

/* In t (writer): archives merchant_id's package code (no new session may
 * sell it; sessions already created keep their price and credits), audited
 * "credit_package.archived". An archived one: PW_OK, nothing written.
 * PW_NOT_FOUND: no such package of this merchant. *out: caller frees. */
pw_status store_credit_package_archive(store_txn *t, const char *merchant_id, const char *code,
    Paywire__Store__V1__CreditPackageRecord **out) PW_WUR;

/* A read: merchant_id's package code, or PW_NOT_FOUND. *out: caller frees. */
pw_status store_credit_package_get(store *s, const char *merchant_id, const char *code,
    Paywire__Store__V1__CreditPackageRecord **out) PW_WUR;

/* A read: merchant_id's packages in code order, codes > starting_after (NULL
 * or "": from the first), at most limit (1..PW_LIST_LIMIT_MAX), archived
 * ones only with include_archived; *has_more when more follow (continue
 * with the last code). PW_INVALID_ARGUMENT: limit out of range, a cursor that
 * is no code. Free with store_credit_package_list_free. */
pw_status store_credit_packages_list(store *s, const char *merchant_id,
    const char *starting_after, size_t limit, bool include_archived,
    Paywire__Store__V1__CreditPackageRecord ***out, size_t *n_out, bool *has_more) PW_WUR;
void store_credit_package_list_free(Paywire__Store__V1__CreditPackageRecord **list, size_t n);

/* The name of an entitlement state: "active", "past_due", "canceled",
 * "revoked" ("unspecified" for 0). */
const char *store_entitlement_state_name(Paywire__Store__V1__EntitlementState st);

/* ---- reads (any thread) ---- */

/* The credit ledger of (merchant, customer): balance, entries (the seq of
 * the latest), updated time; a customer without one reads as balance 0.
 * PW_INVALID_ARGUMENT for a customer out of range. *out: caller frees. */
pw_status store_credits_balance(store *s, const char *merchant_id, const char *customer,
    Paywire__Store__V1__CreditLedgerRecord **out) PW_WUR;

/* A page of (merchant, customer)'s entries, newest first: those with seq <
 * starting_after (0: from the newest), at most limit (1..PW_LIST_LIMIT_MAX);
 * *has_more when older ones remain. *out: an array of *n_out records, free
 * with store_credits_list_free. */
pw_status store_credits_list(store *s, const char *merchant_id, const char *customer,
    uint64_t starting_after, size_t limit, Paywire__Store__V1__CreditTxnRecord ***out,
    size_t *n_out, bool *has_more) PW_WUR;
void store_credits_list_free(Paywire__Store__V1__CreditTxnRecord **list, size_t n);

/* The session record for id, as of now: a session that is due (unpaid past
 * its expires_at) reads as expired even before the sweep wrote it.
 * PW_NOT_FOUND if none. *out: caller frees. */
pw_status store_session_get(store *s, const char *id, Paywire__Store__V1__SessionRecord **out) PW_WUR;

/* Authenticates a raw API key. PW_OK: merchant_id_out (>= 64 bytes) and
 * *mode_out filled. PW_UNAUTHENTICATED if unknown or revoked (one answer for
 * both: no oracle). A success notes the key's last-used time in memory only
 * (no write: store_lastused.c); the writer persists it lazily. */
pw_status store_apikey_auth(store *s, const char *raw_key, char *merchant_id_out,
    size_t merchant_id_size, Paywire__Store__V1__Mode *mode_out) PW_WUR;

/* The state of the audit chain, in caller memory. */
typedef struct store_audit_report {
	bool ok;                      /* the chain is intact up to the head in meta */
	uint64_t records;             /* records walked */
	uint64_t last_seq;            /* seq of the last record (0: empty log) */
	uint8_t head_hash[32];        /* BLAKE2b-256 of the last record as walked */
	uint64_t first_bad_seq;       /* 0 when ok */
	char detail[256];             /* what was found, for an operator */
} store_audit_report;

/* Walks the audit chain from seq 1 and fills *out. PW_OK even when the chain
 * is broken (out->ok false, first_bad_seq set). */
pw_status store_audit_verify(store *s, store_audit_report *out) PW_WUR;

/* What store_copy did. */
typedef struct store_copy_report {
	uint64_t records;         /* entries copied, every table */
	uint64_t tables;          /* tables copied */
	store_audit_report audit; /* the target's audit chain, verified after the copy */
} store_copy_report;

/* Copies everything of the store `from` (opened read-only; one snapshot)
 * into the store `to` (opened read-write: LMDB in its dir, or PostgreSQL at
 * its url, either engine either way), then verifies the target: every
 * table's count equals the source snapshot's, and its audit chain verifies
 * to the source's head. Both opts name the same master key (paywire.key in
 * their dir). One thread; neither store may be open elsewhere for writing.
 * Errors (why says which table and what, never a connection string):
 * PW_FAILED_PRECONDITION the target holds data (nothing is written), or the
 * source's audit chain is broken; PW_INTERNAL a check after the copy failed;
 * store_open's errors for either side. */
pw_status store_copy(const store_opts *from, const store_opts *to, store_copy_report *out,
    char *why, size_t why_size) PW_WUR;

/* ---- an LMDB data directory seen from outside a server (kv_lmdb.c) ----
 * For `paywire backup`, `restore` and `doctor`, which run in another process
 * than the server: LMDB lets a second process open the environment and read
 * while the server writes. None of these writes to the data. */

/* The store format this build reads and writes: the record schema
 * (paywire.store.v1, store.proto) and its table layout (docs/STORE.md). */
#define STORE_FORMAT_VERSION 1

/* What store_lmdb_inspect found. */
typedef struct store_lmdb_info {
	uint64_t map_bytes;    /* the map size the environment records */
	uint64_t used_bytes;   /* pages up to the high-water mark, in bytes */
	uint64_t last_txnid;   /* the last committed write transaction */
	unsigned readers_max;  /* reader slots of the lock file */
	unsigned readers_used; /* slots held now (after the stale ones were freed) */
	int stale_cleared;     /* slots of dead processes that were freed */
} store_lmdb_info;

/* Opens the LMDB environment in dir read-only (another process, e.g. the
 * server, may have it open), frees the reader slots of dead processes
 * (mdb_reader_check) and fills *out. PW_UNAVAILABLE (why says why) when it
 * cannot be opened. */
pw_status store_lmdb_inspect(const char *dir, store_lmdb_info *out, char *why, size_t why_size)
    PW_WUR;

/* LMDB's compacting copy (mdb_env_copy2, MDB_CP_COMPACT) of the environment
 * in dir into dest_dir/data.mdb (dest_dir exists; the file must not): one
 * read snapshot, so it is consistent while a server keeps writing, and holds
 * every transaction committed before it began. The file gets mode 0600.
 * *last_txnid: the snapshot's transaction id. */
pw_status store_lmdb_backup(const char *dir, const char *dest_dir, uint64_t *last_txnid,
    char *why, size_t why_size) PW_WUR;

/* True when some process has the environment in dir open (a server, or
 * another backup): it holds LMDB's lock on dir/lock.mdb (fcntl, byte 0);
 * *pid (may be NULL) is one such process. Must not be asked by a process that
 * has that environment open itself. */
bool store_lmdb_in_use(const char *dir, long *pid);

/* Counts for tests and metrics (read txn). */
typedef struct store_counts {
	uint64_t merchants, sessions, invoices, entitlements, events, audit, replies;
} store_counts;
pw_status store_counts_get(store *s, store_counts *out) PW_WUR;

/* Group-commit statistics of the writer (benchmark, tests, metrics). */
typedef struct store_stats {
	uint64_t batches;         /* write transactions begun (one per batch) */
	uint64_t writes;          /* writes taken from the queue (applied or not) */
	uint64_t commits;         /* batch transactions committed successfully */
	uint64_t unchanged;       /* batches that changed nothing: rolled back, no fsync */
	uint64_t nested_reruns;   /* batches run again with each write nested: a write of
	                             the first (flat) run failed after it wrote */
	uint64_t last_batch_size; /* writes in the most recent batch */
	uint64_t sweeps;          /* expiry sweeps run; the writer's own, so not counted
	                             above (a sweep alone is no batch of callers' writes) */
	uint64_t sweep_expired;   /* sessions those sweeps expired (committed) */
	uint64_t lastused_flushes; /* API key last-used flushes run (the writer's own, like sweeps) */
	uint64_t lastused_written; /* API key records they wrote (committed) */
} store_stats;

/* Copies the current counters (any thread; a consistent snapshot). */
void store_stats_get(store *s, store_stats *out);

/* Live figures for metrics (any thread; takes no store lock: the queue depth
 * is a relaxed copy, the engine's figures come from its own cheap calls). */
typedef struct store_obs {
	uint64_t queue_depth;      /* writes queued now */
	bool failed;               /* store_failed() */
	bool has_map;              /* the engine has a map (LMDB): the two below */
	uint64_t map_used_bytes;   /* pages in use x page size */
	uint64_t map_size_bytes;   /* the map's size */
	bool has_readers;          /* the engine has reader slots (LMDB): the two below */
	uint64_t readers_used;     /* slots held by live read transactions' threads */
	uint64_t readers_max;      /* slots in the lock table */
	const struct pw_hist *batch;  /* writes per batch (pw_hist_batch_size), the writer's */
	const struct pw_hist *commit; /* µs per batch commit, fsync included (pw_hist_latency_us) */
} store_obs;
void store_obs_get(store *s, store_obs *out);
/* ---- outbound notifications to merchants (store_notify.c, docs/NOTIFY.md) ----
 * Endpoints, the outbox written in the change's own transaction (the audit
 * append puts the messages: store_audit_append_seq), the due index, dead
 * letters. Records handed out never carry the sealed secrets. */

/* An endpoint or message id with its NUL ("ep_…", "msg_…"). */
#define STORE_NOTIFY_ID_BYTES 64

/* The notification types (session.paid, …, endpoint.disabled), *n of them. */
const char *const *store_notify_types(size_t *n);
/* The notification type an audit action tells ("session.partially_refunded"
 * -> "session.refunded"), or NULL: none (docs/NOTIFY.md "Event types"). */
const char *store_notify_type_of(const char *action);
/* PW_INVALID_ARGUMENT with why: an unknown or repeated type, too many. */
pw_status store_notify_types_check(const char *const *types, size_t n, char *why,
    size_t why_size) PW_WUR;

/* An endpoint's url for its kind: WEBHOOK an http(s) URL (<=
 * PW_NOTIFY_URL_BYTES_MAX, no spaces), EMAIL an address (local@domain, <=
 * PW_NOTIFY_ADDR_BYTES_MAX), TELEGRAM a chat id (-?digits or @name).
 * PW_INVALID_ARGUMENT with why; any other kind too. */
pw_status store_notify_target_check(Paywire__Store__V1__NotifyEndpointKind kind, const char *url,
    char *why, size_t why_size) PW_WUR;

typedef struct store_endpoint_in {
	Paywire__Store__V1__NotifyEndpointKind kind; /* WEBHOOK, EMAIL or TELEGRAM */
	const char *url;                             /* store_notify_target_check's */
	const char *const *types;                    /* n_types known types; 0: all */
	size_t n_types;
	const char *description;                     /* may be NULL */
} store_endpoint_in;

typedef struct store_endpoint_update_in {
	const char *endpoint_id;
	int enable;                                  /* 0 keep, 1 enable, 2 disable */
	bool set_types;
	const char *const *types;
	size_t n_types;
	bool set_description;
	const char *description;
} store_endpoint_update_in;

/* The secrets of an endpoint (the worker signs with them; wipe after use). */
typedef struct store_notify_secrets {
	char current[PW_NOTIFY_SECRET_BYTES];
	char previous[PW_NOTIFY_SECRET_BYTES];       /* during a rotation's grace */
	bool has_previous;
} store_notify_secrets;

/* A new endpoint of merchant_id with a new secret (whsec_…) in secret, shown
 * once. PW_INVALID_ARGUMENT (why): an unknown kind, a url wrong for its kind,
 * description or types; PW_RESOURCE_EXHAUSTED: PW_NOTIFY_ENDPOINTS_MAX
 * already; PW_NOT_FOUND: no such merchant. Audited endpoint.created. */
pw_status store_endpoint_create(store_txn *t, const char *merchant_id,
    const store_endpoint_in *in, Paywire__Store__V1__NotifyEndpointRecord **out,
    char secret[PW_NOTIFY_SECRET_BYTES], char *why, size_t why_size) PW_WUR;
/* Enable/disable, event types, description. PW_NOT_FOUND: none of the
 * merchant's. Audited endpoint.updated. */
pw_status store_endpoint_update(store_txn *t, const char *merchant_id,
    const store_endpoint_update_in *in, Paywire__Store__V1__NotifyEndpointRecord **out,
    char *why, size_t why_size) PW_WUR;
/* Deletes it (its messages go to the dead letters when the worker meets
 * them). Audited endpoint.deleted. */
pw_status store_endpoint_delete(store_txn *t, const char *merchant_id, const char *endpoint_id,
    Paywire__Store__V1__NotifyEndpointRecord **out) PW_WUR;
/* A new secret; the old one keeps signing for grace_ms (0: the default
 * PW_NOTIFY_GRACE_MS_DEFAULT; PW_INVALID_ARGUMENT past PW_NOTIFY_GRACE_MS_MAX). */
pw_status store_endpoint_rotate(store_txn *t, const char *merchant_id, const char *endpoint_id,
    int64_t grace_ms, Paywire__Store__V1__NotifyEndpointRecord **out,
    char secret[PW_NOTIFY_SECRET_BYTES]) PW_WUR;
/* A merchant's endpoints (at most PW_NOTIFY_ENDPOINTS_MAX), id order. */
pw_status store_endpoint_list(store *s, const char *merchant_id,
    Paywire__Store__V1__NotifyEndpointRecord ***out, size_t *n) PW_WUR;
void store_endpoint_list_free(Paywire__Store__V1__NotifyEndpointRecord **list, size_t n);
/* One endpoint; with sec (may be NULL) its secrets opened (PW_INTERNAL when
 * they do not open). */
pw_status store_endpoint_get(store *s, const char *merchant_id, const char *endpoint_id,
    Paywire__Store__V1__NotifyEndpointRecord **out, store_notify_secrets *sec) PW_WUR;
void store_endpoint_free(Paywire__Store__V1__NotifyEndpointRecord *r);

/* The worker's filter of due entries: true skips the message (in flight
 * already, or its endpoint has its most in flight), so that one busy
 * endpoint's messages do not hide the others'. Called inside a read txn:
 * it must not call the store. */
typedef bool (*store_outbox_skip_fn)(const char *endpoint_id, const char *msg_id, void *arg);
/* Up to max outbox messages due at now_ms, oldest due first (a read), past
 * the ones skip (may be NULL) skips, examining at most PW_LIST_SCAN_MAX.
 * *next_due_ms: the first due time after them (0: none known). */
pw_status store_outbox_due(store *s, int64_t now_ms, size_t max, store_outbox_skip_fn skip,
    void *skip_arg, Paywire__Store__V1__OutboxMessageRecord ***out, size_t *n_out,
    int64_t *next_due_ms) PW_WUR;
void store_outbox_list_free(Paywire__Store__V1__OutboxMessageRecord **list, size_t n);

typedef enum store_outbox_outcome {
	STORE_OUTBOX_DELIVERED = 0, /* a 2xx: the message leaves the outbox */
	STORE_OUTBOX_FAILED,        /* retry at retry_at_ms, or dead when it is 0 */
	STORE_OUTBOX_GONE,          /* 410: dead, and the endpoint disabled */
	STORE_OUTBOX_SKIPPED,       /* not sent (endpoint disabled/deleted): dead */
} store_outbox_outcome;

typedef struct store_outbox_attempt {
	const char *msg_id;
	store_outbox_outcome outcome;
	int64_t attempt_at_ms;     /* when it was sent (the clock's) */
	int http_status;           /* 0: no answer */
	const char *error;         /* what went wrong, or NULL */
	int64_t retry_at_ms;       /* FAILED: when to try again; 0: give up (dead letter) */
	int64_t disable_after_ms;  /* FAILED: an endpoint failing this long with no success is
	                              disabled (endpoint.disabled audited and told) */
} store_outbox_attempt;

/* The worker's second write: records an attempt. PW_NOT_FOUND: the message
 * is not in the outbox (done already). *disabled: it disabled the endpoint. */
pw_status store_outbox_result(store_txn *t, const store_outbox_attempt *a, bool *disabled) PW_WUR;
/* A merchant's outbox (or dead letters), at most limit (1..PW_LIST_LIMIT_MAX)
 * messages, of one endpoint when endpoint_id is not NULL/"". */
pw_status store_outbox_list(store *s, const char *merchant_id, bool dead, const char *endpoint_id,
    size_t limit, Paywire__Store__V1__OutboxMessageRecord ***out, size_t *n_out,
    bool *has_more) PW_WUR;
/* A dead letter back into the outbox, due now, attempts 0. PW_NOT_FOUND,
 * PW_FAILED_PRECONDITION (its endpoint deleted or disabled). */
pw_status store_outbox_retry(store_txn *t, const char *merchant_id, const char *msg_id,
    Paywire__Store__V1__OutboxMessageRecord **out, char *why, size_t why_size) PW_WUR;

typedef struct store_replay_result {
	uint32_t enqueued;       /* new outbox messages (same ids as the first time) */
	uint32_t examined;       /* audit records read */
	bool has_more;           /* stopped at PW_NOTIFY_REPLAY_SCAN_MAX */
	int64_t next_since_ms;   /* where to go on */
} store_replay_result;

/* Re-enqueues the merchant's events since since_ms from the audit log, to
 * endpoint_id (NULL/"": every active endpoint that wants them), each with the
 * webhook-id it had (one per event and endpoint). Messages still in the
 * outbox are left alone. */
pw_status store_notify_replay(store_txn *t, const char *merchant_id, int64_t since_ms,
    const char *endpoint_id, store_replay_result *res, char *why, size_t why_size) PW_WUR;

#endif
