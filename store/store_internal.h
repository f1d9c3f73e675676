/*
 * store_internal.h - what the payment domain's .c files share. Never included
 * outside store/ (nothing above store/ reaches into the store's tables or its
 * engine, see store.h). The domain talks to storage only through the engine
 * seam (store_kv.h): nothing here names LMDB.
 *
 * WHO USES IT
 * store_env.c (open/close, reads, counts), store_keyfile.c (master key,
 * derived keys), store_rec.c (records and scans over the seam),
 * store_writer.c (queue, group commit, re-runs), store_audit.c,
 * store_merchant.c, store_session.c, store_reply.c, store_purge.c,
 * store_payment.c (store_webhook_apply), store_entitlement.c
 * (store_access_redeem) and store_token.c. The engine (kv_lmdb.c) does not:
 * it knows store_kv.h only.
 *
 * THREADS
 * - struct store is created by store_open and freed by store_close (one
 *   thread). Its keys, engine and env never change in between and may be
 *   read from any thread. `failed` is atomic. The queue fields are guarded by
 *   `mu`. The batch scratch arrays and the purge positions belong to the
 *   writer thread.
 * - A write store_txn exists only while an apply callback runs, on the writer
 *   thread; every helper taking one is writer-thread only there.
 * - A read store_txn (store_read_begin .. store_read_end) works on any
 *   thread, one thread at a time: the same helpers read through it.
 *
 * ERRORS
 * Every engine result comes back as a pw_status (store_kv.h "ERRORS"; the
 * engine maps its own codes in one table). Helpers taking a store_txn record
 * the first real failure in t->err (sticky, as LMDB keeps a failed txn in its
 * error state): once a put failed, the nested txn is unusable and the writer
 * rolls the write back even if the apply callback ignored the error and
 * returned PW_OK; a KV_CONFLICT recorded there makes the writer re-run the
 * whole batch.
 * PW_NOT_FOUND and PW_ALREADY_EXISTS are answers, not failures, and are never
 * sticky.
 *
 * LIFETIMES
 * Bytes the engine returns die with their transaction (or the next write in
 * it): the helpers below always decode or copy before returning, and a scan
 * callback sees them only during its call. Records returned through
 * `void **out` are protobuf-c messages allocated with pw_malloc
 * (malloc-compatible), freed by the caller with
 * paywire__store__v1__*__free_unpacked(rec, NULL).
 */
#ifndef PW_STORE_INTERNAL_H
#define PW_STORE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <sodium.h>

#include "pw_metrics.h"
#include "store.h"
#include "store_kv.h"

/* ---- tables ---- */

/* One row per table of the engine: enum value, name (see store.h TABLES and
 * docs/STORE.md for key/value layouts). The engine is opened with exactly
 * these STORE_DB_COUNT tables, a table's number being its store_db value. */
#define STORE_DB_MAP(XX)               \
	XX(MERCHANTS, "merchants")         \
	XX(APIKEYS, "apikeys")             \
	XX(SESSIONS, "sessions")           \
	XX(IDEM, "idem")                   \
	XX(REPLIES, "replies")             \
	XX(REFS, "refs")                   \
	XX(EVENTS, "events")               \
	XX(INVOICES, "invoices")           \
	XX(ENTITLEMENTS, "entitlements")   \
	XX(ENT_INDEX, "ent_index")         \
	XX(AUDIT, "audit")                 \
	XX(META, "meta")                   \
	XX(CREDITS, "credits")             \
	XX(EXPIRY, "expiry")               \
	XX(CREDIT_TXNS, "credit_txns")     \
	XX(MERCHANT_KEYS, "merchant_keys")   \
	XX(AK_HASHES, "ak_hashes")         \
	XX(MERCHANT_SESSIONS, "merchant_sessions") \
	XX(CUSTOMER_ENTS, "customer_ents") \
	XX(ANOMALIES, "anomalies")         \
	XX(QUARANTINE, "quarantine")       \
	XX(PARKED, "parked")               \
	XX(PROVIDER_CREDS, "provider_creds") \
	XX(REFUNDS, "refunds") \
	XX(CREDIT_PACKAGES, "credit_packages") \
	XX(PLAN_PRICES, "plan_prices") \
	XX(NOTIFY_ENDPOINTS, "notify_endpoints") \
	XX(NOTIFY_OUTBOX, "notify_outbox") \
	XX(NOTIFY_DUE, "notify_due") \
	XX(NOTIFY_DEAD, "notify_dead") \
	XX(AUDIT_MERCHANT, "audit_merchant")

typedef enum store_db {
#define STORE_XX_ENUM(name, str) STORE_DB_##name,
	STORE_DB_MAP(STORE_XX_ENUM)
#undef STORE_XX_ENUM
	STORE_DB_COUNT
} store_db;

_Static_assert(STORE_DB_COUNT <= KV_TABLES_MAX, "every table fits an engine");

/* The table name of db ("sessions"). */
const char *store_db_name(store_db db);

/* ---- sizes of the store ----
 * Its operational limits (readers, data dir, reply scope, token secret and
 * token lengths, refs per session) live in common/pw_limits.h. */

/* Longest key we build: the longest every engine accepts. */
#define STORE_KEY_BYTES_MAX KV_KEY_BYTES_MAX

_Static_assert(PW_IDEMPOTENCY_KEY_BYTES_MAX + PW_ID_BYTES(4) + 1 <= STORE_KEY_BYTES_MAX,
    "idem key (merchant_id 0x00 idempotency_key) fits an engine key");
_Static_assert(PW_REPLY_SCOPE_BYTES_MAX + 1 + PW_REQUEST_ID_BYTES_MAX <= STORE_KEY_BYTES_MAX,
    "reply key (scope 0x00 request_id) fits an engine key");
_Static_assert(PW_ID_BYTES(4) - 1 <= PW_REPLY_SCOPE_BYTES_MAX,
    "a merchant id is a valid reply scope");
_Static_assert(PW_STORE_DIR_BYTES_MAX + 32 <= PATH_MAX,
    "<dir>/<file name> fits the store's PATH_MAX buffers");

/* Databases whose entries expire after PW_IDEMPOTENCY_TTL_MS (replies, idem):
 * store_expired_purge (store_purge.c) keeps a resume position for each. */
#define STORE_PURGE_DBS 2

/* Attempts at one batch, the first included, when its commit meets a
 * KV_CONFLICT (another server committed first). A conflict means the other
 * writer has finished, so a re-run almost always commits; the bound keeps one
 * hot key from holding the writer forever. When they are used up, every
 * write of the batch is answered PW_UNAVAILABLE, which clients retry with the
 * same request_id (idempotent). Lives here, not in pw_limits.h: it is the
 * writer's own policy, invisible outside the store. */
#define STORE_COMMIT_ATTEMPTS_MAX 4

/* ---- keys derived from <dir>/paywire.key ---- */

#define STORE_MASTER_KEY_BYTES 32
#define STORE_HASH_BYTES 32 /* BLAKE2b-256: key hashes, request hashes, audit chain */

/* Sub-keys: BLAKE2b-256 keyed with the master key over a distinct context
 * string each (store_keyfile.c), so one leaked sub-key reveals nothing of
 * the others or of the master. The master key itself is wiped after open. */
typedef struct store_keys {
	uint8_t apikey_pepper[STORE_HASH_BYTES];  /* apikeys db key = BLAKE2b(pepper, raw API key) */
	uint8_t access_pepper[STORE_HASH_BYTES];  /* EntitlementRecord.key_hash = BLAKE2b(pepper, raw access key) */
	uint8_t secretbox_key[crypto_secretbox_KEYBYTES]; /* EntitlementRecord.sealed_key */
	uint8_t jwt_key[PW_TOKEN_SECRET_BYTES_MAX]; /* HS256 key of customer access links */
	size_t jwt_key_len;                         /* bytes used in jwt_key (32 when derived) */
	uint8_t checkout_key[STORE_HASH_BYTES];     /* checkout secrets: BLAKE2b(key, session id) */
	uint8_t creds_key[STORE_HASH_BYTES];        /* ProviderCredentialsRecord.sealed (AEAD key) */
	uint8_t check[STORE_HASH_BYTES];            /* meta key_check: BLAKE2b(master, a constant);
	                                               names the master key without revealing it */
} store_keys;

/* Loads (or on first open creates) <dir>/paywire.key and derives s->keys.
 * may_create: false in read-only mode and when the engine already holds data
 * (a missing key next to existing data is refused, never silently replaced).
 * Refuses a key file that is not a regular file owned by us, is readable or
 * writable by group/others (PW_UNAVAILABLE) or is not exactly 32 bytes
 * (PW_INTERNAL). Logs a clear message on every error. */
pw_status store_keys_load(store_keys *keys, const char *dir, bool may_create,
    const char *token_secret) PW_WUR;

/* keyed BLAKE2b-256 of in[0..len) */
void store_keyed_hash(uint8_t out[STORE_HASH_BYTES], const uint8_t key[STORE_HASH_BYTES],
    const void *in, size_t len);

/* ---- the store ---- */

/* API keys' in-memory last-used times (store_lastused.c). */
typedef struct store_lu store_lu;

/* Where store_expired_purge resumes in each of its dbs. */
typedef struct store_purge_pos {
	uint8_t key[STORE_PURGE_DBS][STORE_KEY_BYTES_MAX]; /* the first key not examined */
	size_t len[STORE_PURGE_DBS];                       /* bytes in key (0: from the start) */
} store_purge_pos;

/* The store behind the opaque handle of store.h. */
struct store {
	const kv_ops *kv;                     /* the engine (kv_lmdb_ops by default) */
	kv_env *env;                          /* its open storage in dir */
	store_keys keys;                      /* derived keys; wiped at close */
	bool read_only;                       /* opened read-only: no writer thread, writes UNAVAILABLE */
	store_sync sync;                      /* durability mode (for logs) */
	atomic_bool failed;                   /* an I/O error or corruption: refuse writes */
	atomic_uint writer_delay_ms;          /* test hook: sleep before each batch */
	atomic_bool flat_off;                 /* test hook: no flat first run of a batch */
	atomic_bool audit_index_off;          /* test hook: appends write no audit_merchant
	                                         entry and no audit_index_from (an older
	                                         build's store) */
	uint64_t audit_index_from;            /* writer only: meta audit_index_from once
	                                         read (0: not known yet) */
	atomic_uint purge_interval_ms;        /* the writer's purge interval; 0: never (test hook) */
	atomic_uint sweep_interval_ms;        /* the writer's expiry sweep interval; 0: never (test hook) */
	atomic_uint lu_granularity_ms;        /* API key last-used granularity (test hook) */
	atomic_uint lu_check_ms;              /* ... the writer's check interval (test hook) */
	atomic_uint lu_idle_ms;               /* ... and its idle interval; 0: never (test hook) */
	store_lu *lu;                         /* API keys' in-memory last-used times (any thread) */
	pw_hist hist_batch;                   /* writes per committed-or-not batch (metrics) */
	pw_hist hist_commit;                  /* µs of each batch commit (the fsync) (metrics) */
	atomic_size_t queued_now;             /* a copy of `queued` readable without mu (metrics) */

	pthread_mutex_t run_mu;               /* held by whoever runs a batch (the writer, or
	                                         a run_here caller while the writer waits):
	                                         guards the "writer only" scratch below.
	                                         Taken before mu, never while holding it,
	                                         except by trylock */
	pthread_mutex_t mu;                   /* guards everything below up to the scratch */
	pthread_cond_t cv;                    /* the writer waits here for work, close or the
	                                         next sweep (CLOCK_MONOTONIC) */
	store_write *head;                    /* queue: oldest first */
	store_write *tail;                    /* queue: newest */
	size_t queued;                        /* writes in the queue (<= PW_STORE_QUEUE_MAX) */
	bool closing;                         /* store_close started: no new writes */
	bool writer_waiting;                  /* the writer waits for work, without run_mu */
	int64_t writer_wait_ms;               /* ... for at most this long (< 0: no bound) */
	bool writer_started;                  /* `writer` is a joinable thread */
	pthread_t writer;                     /* the writer thread */
	store_stats stats;                    /* group-commit counters */

	store_write *batch[PW_STORE_BATCH_MAX]; /* writer only: the batch being applied */
	pw_status batch_st[PW_STORE_BATCH_MAX]; /* writer only: each write's status */
	uint8_t prefetch_key[PW_STORE_BATCH_MAX][STORE_KEY_BYTES_MAX]; /* writer only: the
	                                           stored-reply keys of the batch */
	kv_val prefetch[PW_STORE_BATCH_MAX];    /* writer only: those keys, for kv prefetch */
	store_purge_pos purge_at;               /* writer only: committed purge position */
	store_purge_pos purge_next;             /* writer only: moved by a purge of the running
	                                           batch, taken over when the batch commits */
	bool purge_moved;                       /* writer only: purge_next is the one to use */
	bool flat_tainted;                      /* writer only: the flat run of the batch
	                                           must be undone and run again nested */
	bool key_checked;                       /* writer only: a batch committed with the
	                                           key check (store_key_check_apply) */
	store_write key_check_write;            /* writer only: that check, riding in a batch */
	store_write purge_write;                /* writer only: the periodic purge riding in a batch */
	size_t purge_deleted;                   /* writer only: entries its last run deleted */
	int64_t purge_last_ms;                  /* writer only: wall time of the last periodic purge */
	store_write sweep_write;                /* writer only: the expiry sweep */
	uint8_t sweep_keys[PW_STORE_SWEEP_BATCH_MAX][8 + PW_SESSION_ID_BYTES_MAX]; /* writer only:
	                                           the due index entries a sweep collects */
	size_t sweep_lens[PW_STORE_SWEEP_BATCH_MAX]; /* writer only: their lengths */
	size_t sweep_expired;                   /* writer only: sessions its last run expired */
	bool sweep_found_more;                  /* writer only: its last run left due entries */
	bool sweep_more;                        /* writer only: ... and that run committed */
	int64_t sweep_last_ms;                  /* writer only: wall time of the last sweep */
	store_write lu_write;                   /* writer only: the last-used flush */
	int64_t lu_last_check;                  /* writer only: monotonic ms of the last check */
	bool lu_riding;                         /* writer only: the flush rides in this batch */
	bool lu_ran;                            /* writer only: ... and ran in its last attempt */
	pw_status lu_st;                        /* writer only: ... with this status */
	store_commit_hook commit_hook;          /* set at startup; called by the writer */
	void *commit_hook_arg;
};

/* What an apply callback (a nested write txn) or a reader holds. */
struct store_txn {
	store *s;           /* the store */
	kv_txn *txn;        /* engine txn: this write's nested txn, or a read txn */
	int64_t now_ms;     /* pw_now_unix_ms() at batch (attempt) or read start */
	unsigned attempt;   /* 0; 1.. when the batch is re-run after a conflict */
	bool read;          /* a read txn: nothing may be written through it */
	pw_status err;      /* first failure seen by a helper (sticky), PW_OK if none */
	bool wrote;         /* a put or delete went to the engine through this txn */
};

/* ---- open, failure (store_env.c) ---- */

/* store_open on a given engine (store_open uses kv_lmdb_ops). For tests that
 * wrap an engine (tests/store_conflict_test.c) and for the next engines.
 * Same contract as store_open. */
pw_status store_open_engine(store **out, const store_opts *opts, const kv_ops *engine) PW_WUR;

/* Marks the store failed (writes refused from now on) and logs why. The
 * engine's kv_config.fatal callback. */
void store_fail(store *s, const char *why);

/* ---- API key last-used (store_lastused.c) ---- */

/* The table (store_open) and its end (store_close). */
pw_status store_lu_new(store_lu **out) PW_WUR;
void store_lu_free(store_lu *lu);
/* Any thread, lock-free: the key whose apikeys key is hash authenticated at
 * now_ms (store_apikey_auth). lu may be NULL (nothing noted). */
void store_lu_note(store_lu *lu, const uint8_t hash[STORE_HASH_BYTES], int64_t now_ms);
/* Any thread: its in-memory last-used time, 0 if none noted. */
int64_t store_lu_get(store_lu *lu, const uint8_t hash[STORE_HASH_BYTES]);
/* Authentications of keys that found no room in the table. */
uint64_t store_lu_untracked(store_lu *lu);
/* Writer only: the flush (a write of the writer's own, arg = the store),
 * what its done has to do (returns the records it wrote), and its flags. */
pw_status store_lu_flush_apply(store_txn *t, void *arg);
size_t store_lu_flush_done(store_lu *lu, pw_status st);
bool store_lu_take_dirty(store_lu *lu);
void store_lu_set_dirty(store_lu *lu);
void store_lu_set_force(store_lu *lu, bool force);
bool store_lu_more(const store_lu *lu);

/* ---- writer (store_writer.c) ---- */

/* The writer thread's body (started by store_open, joined by store_close):
 * takes batches from the queue until the store closes and the queue is
 * empty. */
void *store_writer_main(void *arg);

/* Records st as t's sticky error if it is a failure (not OK, NOT_FOUND,
 * ALREADY_EXISTS) and none was recorded yet. Returns st unchanged. */
pw_status store_txn_note(store_txn *t, pw_status st);

/* ---- read transactions (any thread) ---- */

/* Begins a read txn into caller memory t: the helpers below then read
 * through it. PW_UNAVAILABLE if the engine has no reader slot free. */
pw_status store_read_begin(store *s, store_txn *t) PW_WUR;
/* Ends it (nothing to commit). t may be one whose begin failed. */
void store_read_end(store_txn *t);

/* ---- records over the seam (store_rec.c) ---- */

/* Gets the record under key in db from t and unpacks it with desc.
 * PW_OK: *out is a new message (caller frees with free_unpacked(out, NULL)).
 * PW_NOT_FOUND: no such key. PW_INTERNAL: the bytes do not unpack ("corrupt
 * record", logged). PW_RESOURCE_EXHAUSTED: out of memory (pw_malloc hook). */
pw_status store_rec_get(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessageDescriptor *desc, void **out) PW_WUR;

/* Copies the raw value under key into buf[0..buf_size). PW_OK with *len_out;
 * PW_NOT_FOUND; PW_INTERNAL if the stored value is larger than buf_size. */
pw_status store_raw_get(store_txn *t, store_db db, const void *key, size_t keylen,
    void *buf, size_t buf_size, size_t *len_out) PW_WUR;

/* Packs msg (PW_ASSERT: protobuf_c_message_check passes, packed size is what
 * was reserved) straight into the engine's space (zero-copy put). flags: 0
 * (overwrite), KV_PUT_INSERT (PW_ALREADY_EXISTS if present) or KV_PUT_APPEND
 * (insert of a key past every other: PW_ALREADY_EXISTS otherwise).
 * hash_out (may be NULL): BLAKE2b-256 of the packed bytes as stored. */
pw_status store_rec_put(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessage *msg, unsigned flags, uint8_t hash_out[STORE_HASH_BYTES]) PW_WUR;

/* Stores raw bytes (refs, ent_index, meta). Flags as store_rec_put. */
pw_status store_raw_put(store_txn *t, store_db db, const void *key, size_t keylen,
    const void *val, size_t len, unsigned flags) PW_WUR;

/* Deletes key. PW_NOT_FOUND if absent. */
pw_status store_raw_del(store_txn *t, store_db db, const void *key, size_t keylen) PW_WUR;

/* Entries of db as t sees it (*out). */
pw_status store_count(store_txn *t, store_db db, uint64_t *out) PW_WUR;

/* What a scan callback asks for next. */
typedef enum store_scan_step {
	STORE_SCAN_NEXT = 0, /* go on with the next entry */
	STORE_SCAN_DELETE,   /* delete this entry (write txn), then go on */
	STORE_SCAN_STOP,     /* stop here: this entry is left as it is */
} store_scan_step;

/* Called for each entry of a scan; key and val die when it returns. *step
 * is STORE_SCAN_NEXT on entry. A status other than PW_OK stops the scan,
 * which returns it. */
typedef pw_status (*store_scan_fn)(kv_val key, kv_val val, store_scan_step *step, void *arg);

/* Visits the entries of db in key order, from the first key >= from
 * (from.len 0: the first entry), until the end or a STORE_SCAN_STOP. PW_OK
 * then; else the engine's failure or visit's status. */
pw_status store_scan(store_txn *t, store_db db, kv_val from, store_scan_fn visit,
    void *arg) PW_WUR;

/* A deep copy of msg owned by the caller (pack + unpack with pw_malloc), for
 * returning messages built on the stack. PW_RESOURCE_EXHAUSTED on OOM. */
pw_status store_msg_dup(const ProtobufCMessage *msg, void **out) PW_WUR;

/* Unpacks data[0..len) as desc into a new message (caller frees with
 * free_unpacked(out, NULL)). PW_INTERNAL if it does not decode,
 * PW_RESOURCE_EXHAUSTED on OOM. */
pw_status store_msg_unpack(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
    void **out) PW_WUR;

/* Builds the key "a 0x00 b" (no trailing NUL) in out. false if it does not
 * fit in out_size or STORE_KEY_BYTES_MAX. */
bool store_key_join(uint8_t *out, size_t out_size, const char *a, const char *b, size_t *len_out);

static inline void
store_be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t) (v & 0xffu);
		v >>= 8;
	}
}

static inline uint64_t
store_be64_get(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = (v << 8) | in[i];
	}
	return v;
}

/* ---- sessions (store_session.c) ---- */

/* The SessionRecord of id (read or write txn). PW_NOT_FOUND if none. */
pw_status store_session_load(store_txn *t, const char *id, Paywire__Store__V1__SessionRecord **out) PW_WUR;
/* Overwrites the record of rec->session->id (must exist or be new), sets
 * updated_at_unix_ms to the txn time first. */
pw_status store_session_save(store_txn *t, Paywire__Store__V1__SessionRecord *rec) PW_WUR;

/* ---- a merchant's sessions, newest first (store_query.c) ---- */

/* Writes the merchant_sessions entry of a new session (same txn). */
pw_status store_merchant_session_index(store_txn *t, const Paywire__Store__V1__Session *sess) PW_WUR;

/* ---- expiry (store_expiry.c) ---- */

/* When sess expires unless paid: its expires_at, else (records written
 * before expiry existed) created + PW_SESSION_TTL_DEFAULT_MS. */
int64_t store_session_expires_at(const Paywire__Store__V1__Session *sess);
/* True when the state machine would close rec (no payment, not closed) and
 * its expiry has passed at now_ms. */
bool store_session_due(const Paywire__Store__V1__SessionRecord *rec, int64_t now_ms);
/* Reads: shows a due rec as expired (status and payment_status as the
 * state machine's closure sets them) and fills an expires_at the record
 * lacks (store_session_expires_at), in memory only. */
void store_session_view(Paywire__Store__V1__SessionRecord *rec, int64_t now_ms);
/* Writes the expiry index entry of a new session (same txn). */
pw_status store_expiry_index_put(store_txn *t, const Paywire__Store__V1__Session *sess) PW_WUR;
/* When rec is due at the txn time: the closure in rec (not saved: the
 * caller saves) and its audit record "session.expired" (detail by=by),
 * *expired true. Else nothing, *expired false. */
pw_status store_session_expire_due(store_txn *t, Paywire__Store__V1__SessionRecord *rec,
    const char *by, bool *expired) PW_WUR;

/* The state machine's view of rec (store_payment.c): PW_INTERNAL when the
 * record fails its checks (corrupt). */
struct fsm_state;
pw_status store_session_state_load(const Paywire__Store__V1__SessionRecord *rec,
    struct fsm_state *s) PW_WUR;

/* ---- audit log (store_audit.c) ---- */

/* The outbox hook (store_notify.c): called by store_audit_append_seq in the
 * change's transaction with the record just appended; puts one outbox
 * message per active endpoint of merchant_id that wants the action's type. */
pw_status store_notify_on_audit(store_txn *t, uint64_t seq, const char *action,
    const char *merchant_id, const char *session_id, const char *detail) PW_WUR;

/* Appends one hash-chained audit record in t (same txn as the change it
 * records): seq = last + 1, unix_ms = txn time, prev_hash = BLAKE2b-256 of
 * the previous record's packed bytes (32 zero bytes for seq 1); updates
 * meta "audit_seq"/"audit_head". Strings may be NULL (stored empty); detail
 * carries ids and amounts, never a secret. */
pw_status store_audit_append(store_txn *t, const char *action, const char *merchant_id,
    const char *session_id, const char *detail) PW_WUR;
/* The same, and *seq_out = the seq of the record written (PW_OK only). */
pw_status store_audit_append_seq(store_txn *t, const char *action, const char *merchant_id,
    const char *session_id, const char *detail, uint64_t *seq_out) PW_WUR;

/* ---- credit packages (store_credit_package.c) ---- */

/* The package merchant_id/code in t: PW_OK (*out owned by the caller) or
 * PW_NOT_FOUND (none, another merchant's, or a code that cannot exist). */
pw_status store_credit_package_load(store_txn *t, const char *merchant_id, const char *code,
    Paywire__Store__V1__CreditPackageRecord **out) PW_WUR;

/* A session sells the package merchant_id/code (store_session_create, in
 * its transaction): the package must be active (PW_NOT_FOUND,
 * PW_FAILED_PRECONDITION) and what the caller gave must be unset or equal
 * the package's (*amount_minor 0 or equal, *currency NULL/"" or equal, f
 * kind NONE or CREDITS with its credits; else PW_INVALID_ARGUMENT), reason
 * says which. On PW_OK *amount_minor, *currency and f are the package's
 * (f: CREDITS, its credits) and *pkg owns the record *currency points into
 * (the caller frees it after use). */
pw_status store_credit_package_apply(store_txn *t, const char *merchant_id, const char *code,
    int64_t *amount_minor, const char **currency, Paywire__Store__V1__Fulfillment *f,
    Paywire__Store__V1__CreditPackageRecord **pkg, char *reason, size_t reason_size) PW_WUR;

/* ---- anomalies (store_anomaly.c) ---- */

/* Writes r (r->seq and r->merchant_id set: seq the audit seq of the record
 * that audited it) under merchant_id 0x00 seq in t, insert-only. */
pw_status store_anomaly_put(store_txn *t, const Paywire__Store__V1__AnomalyRecord *r) PW_WUR;

/* The anomaly merchant_id/seq: PW_OK (*out owned by the caller) or
 * PW_NOT_FOUND. */
pw_status store_anomaly_get(store_txn *t, const char *merchant_id, uint64_t seq,
    Paywire__Store__V1__AnomalyRecord **out) PW_WUR;

/* ---- parked events (store_parked.c) ---- */

typedef struct store_parked_event {
	uint64_t seq;  /* arrival order */
	pw_event ev;   /* as it was parked */
} store_parked_event;

/* Parks ev (a verified event of no known session, with at least one ref)
 * under each of its refs in t. PW_RESOURCE_EXHAUSTED, nothing written, when
 * PW_PARKED_ENTRIES_MAX would be passed. */
pw_status store_parked_put(store_txn *t, const pw_event *ev) PW_WUR;

/* Takes (deletes, under every ref) at most max (<= PW_PARKED_APPLY_MAX)
 * events parked under provider p's ref, in seq order, into out[*n_out]. */
pw_status store_parked_take(store_txn *t, pw_provider p, const char *ref,
    store_parked_event *out, size_t max, size_t *n_out) PW_WUR;

/* meta keys */
#define STORE_META_AUDIT_SEQ "audit_seq"
#define STORE_META_AUDIT_HEAD "audit_head"
#define STORE_META_QUARANTINE_ID "quarantine_id" /* 8 bytes BE: the last id given */
#define STORE_META_PARKED_SEQ "parked_seq"         /* 8 bytes BE: the last parked seq */
#define STORE_META_AUDIT_INDEX_FROM "audit_index_from" /* 8 bytes BE: the first audit seq
                                                          audit_merchant covers; absent:
                                                          none (store_audit.c) */

/* store_merchant_name inside t. */
pw_status store_merchant_name_in(store_txn *t, const char *merchant_id, char *out,
    size_t size) PW_WUR;

/* ---- payments (store_payment.c, store_entitlement.c, store_token.c) ----
 * Added by the payment engine; docs/PAYMENTS.md. The credits db maps
 * "merchant_id 0x00 customer" to a CreditLedgerRecord. */

/* Replaces the string field *field of an unpacked protobuf-c message with a
 * pw_malloc'd copy of val, freeing the old value (free_unpacked(rec, NULL)
 * frees the new one). PW_RESOURCE_EXHAUSTED (field unchanged) on OOM. */
pw_status store_pbstr_set(char **field, const char *val) PW_WUR;

/* The customer an entitlement or a credit ledger belongs to: customer_ref,
 * else customer_email, else the session id. false if it does not fit out. */
bool store_customer_of(const Paywire__Store__V1__Session *sess, char *out, size_t out_size);

/* GRANT of an access key for rec's session (FULFILLMENT_KIND_ACCESS_KEY):
 * links rec->access_key_id to the active entitlement of (merchant, customer,
 * plan) if there is one (rec's session becomes one of its holders; a
 * past_due one is active again), else creates it (sealed key, keyed hash,
 * ent_index and customer_ents rows, rec's session its holder, a
 * subscription's period from rec). *created: a new entitlement was written.
 * The raw key never leaves the function unsealed. */
pw_status store_entitlement_grant(store_txn *t, Paywire__Store__V1__SessionRecord *rec,
    bool *created) PW_WUR;

/* REVOKE of rec's access-key entitlement (a full refund, a lost dispute):
 * rec's session releases its hold; with no paid session left holding it,
 * it is revoked: inactive, state REVOKED, revoked_at, sealed key wiped,
 * ent_index row removed. *revoked: it was revoked now (false: none, not a
 * holder, already ended, or still held by another paid session). */
pw_status store_entitlement_revoke(store_txn *t, Paywire__Store__V1__SessionRecord *rec,
    bool *revoked) PW_WUR;

/* ---- entitlements and subscriptions (store_entitlement.c,
 * store_subscription.c) ---- */

/* The EntitlementRecord of id. PW_NOT_FOUND if none (or id not one). */
pw_status store_entitlement_load(store_txn *t, const char *id,
    Paywire__Store__V1__EntitlementRecord **out) PW_WUR;
/* e's state; records written before states: active -> ACTIVE, else REVOKED. */
Paywire__Store__V1__EntitlementState store_entitlement_state(
    const Paywire__Store__V1__EntitlementRecord *e);
/* e's state as a reader sees it at now_ms: store_entitlement_state, except
 * that an ACTIVE subscription past its period end + PW_SUBSCRIPTION_GRACE_MS
 * is LAPSED (never written; the next paid invoice makes it ACTIVE again). */
Paywire__Store__V1__EntitlementState store_entitlement_state_at(
    const Paywire__Store__V1__EntitlementRecord *e, int64_t now_ms);
/* Whether the paid session sid holds e (records before holders: its creator). */
bool store_entitlement_holds(const Paywire__Store__V1__EntitlementRecord *e, const char *sid);
/* Writes e back (updated_at = txn time). */
pw_status store_entitlement_save(store_txn *t, Paywire__Store__V1__EntitlementRecord *e) PW_WUR;
/* Releases sess's hold of e and writes e. When no holder is left, e ends
 * with state end (CANCELED or REVOKED): inactive, revoked_at, sealed key
 * wiped, ent_index row removed; *ended true. Not a holder, or e already
 * ended: nothing written. */
pw_status store_entitlement_release(store_txn *t, const Paywire__Store__V1__Session *sess,
    Paywire__Store__V1__EntitlementRecord *e, Paywire__Store__V1__EntitlementState end,
    bool *ended) PW_WUR;

/* A subscription event (PW_EV_SUBSCRIPTION_*), after store_webhook_apply's
 * dedup: finds the session by session_ref or the subscription ref recorded
 * at its checkout, moves its entitlement (extended, past_due, canceled),
 * audits it and records the event, all in t. An unknown subscription is
 * recorded IGNORED; a session_ref naming no session is PW_NOT_FOUND with
 * nothing written. */
pw_status store_subscription_apply(store_txn *t, const pw_event *ev,
    store_webhook_result *out) PW_WUR;
/* Maps the provider ref of p to rec's session in refs and appends it to
 * rec->refs (*added; the caller saves rec) unless some session holds it
 * already: then *owner names that session (never re-pointed) and nothing
 * is written. "" ref: nothing. (store_payment.c) */
pw_status store_session_ref_record(store_txn *t, Paywire__Store__V1__SessionRecord *rec,
    pw_provider p, const char *ref, char *owner, size_t owner_size, bool *added) PW_WUR;
/* The event record of ev (store_payment.c), insert-only. */
pw_status store_webhook_event_put(store_txn *t, const pw_event *ev,
    Paywire__Store__V1__WebhookOutcome outcome, const char *session_id, const char *reason) PW_WUR;

/* One change of a credit ledger (store_credits.c). */
typedef struct store_credit_post {
	const char *merchant_id;
	const char *customer;
	Paywire__Store__V1__CreditTxnKind kind; /* PURCHASE (delta > 0), DEDUCTION or
	                                           REVERSAL (delta < 0) */
	int64_t delta;                          /* +-1..PW_CREDITS_MAX */
	const char *session_id;                 /* PURCHASE/REVERSAL, else NULL */
	const char *idempotency_key;            /* DEDUCTION, else NULL */
	const char *description;                /* DEDUCTION, may be NULL */
} store_credit_post;

/* Moves the ledger of (merchant, customer), creating it at 0, and writes its
 * new immutable entry (seq = the ledger's count + 1) in the same txn. A
 * REVERSAL stops the balance at 0 and records the rest as its shortfall; a
 * DEDUCTION beyond the balance is PW_FAILED_PRECONDITION (the caller checks
 * first). *out (may be NULL): a copy of the entry (caller frees). */
pw_status store_credits_post(store_txn *t, const store_credit_post *p,
    Paywire__Store__V1__CreditTxnRecord **out) PW_WUR;

/* 1..PW_CREDIT_CUSTOMER_BYTES_MAX bytes. */
bool store_credit_customer_ok(const char *customer);

/* ACCESS_LINK: "/access/<session_id>?token=<HS256 JWT>" (sub, merchant_id,
 * session_id, iat = now, exp = now + PW_ACCESS_LINK_TTL_S) signed with
 * keys->jwt_key. *link_out: pw_malloc'd, caller frees. */
pw_status store_token_link_mint(const store_keys *keys, const char *merchant_id,
    const char *session_id, int64_t now_ms, char **link_out) PW_WUR;

/* Test: the token for (merchant_id, session_id, jti, now_s) into out, by
 * the direct encoder that mints (libjwt false) or by libjwt (true), so a test
 * can check both write the same bytes. false: an id outside [A-Za-z0-9_-],
 * or out too small. */
bool store_token_test_encode(const store_keys *keys, const char *merchant_id,
    const char *session_id, const char *jti, int64_t now_s, bool libjwt, char *out,
    size_t out_size);

/* Verifies an access-link JWT for session_id at now_ms: HS256 only,
 * signature (constant time), exp > now, iat not in the future beyond
 * PW_TOKEN_SKEW_S, sub and session_id claims. PW_OK with the merchant_id
 * claim in merchant_out; PW_UNAUTHENTICATED for any failure (the reason is
 * logged at debug, never returned). */
pw_status store_token_verify(const store_keys *keys, const char *token, const char *session_id,
    int64_t now_ms, char *merchant_out, size_t merchant_size) PW_WUR;

/* The STORE_DB_REPLIES key of (scope, request_id) into key (key_size >=
 * STORE_KEY_BYTES_MAX); PW_INVALID_ARGUMENT past the limits (store_reply.c). */
pw_status store_reply_key(const char *scope, const char *request_id, uint8_t *key,
    size_t key_size, size_t *keylen);

/* The master key in use must be the one the data was written with: several
 * servers share one PostgreSQL database, each with its own copy of
 * paywire.key, and a server given another key would write API-key hashes and
 * sealed access keys no other server can read (nor, on LMDB, a key file
 * swapped under existing data). meta "key_check" names the key
 * (store_keys.check). store_key_check, at open: compares it, writes nothing
 * (PW_OK when there is none yet). store_key_check_apply, an apply callback
 * the writer runs at the end of its first batch that writes: compares it, or
 * inserts ours when there is none, under the writer lock, so of two servers
 * that started on an empty database with different keys the second fails
 * its first write. Both answer PW_FAILED_PRECONDITION, logged with what to
 * do, when it differs (store_keyfile.c). */
pw_status store_key_check(store *s);
#define STORE_META_KEY_CHECK "key_check"
pw_status store_key_check_apply(store_txn *t, void *arg);

#endif
