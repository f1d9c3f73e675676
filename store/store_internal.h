/*
 * store_internal.h - what the store's own .c files share. Never included
 * outside store/ (nothing above store/ may reach into LMDB, see store.h).
 *
 * WHO USES IT
 * store_env.c (open/close, error mapping, reads), store_keyfile.c (master key,
 * derived keys), store_rec.c (record helpers), store_writer.c (queue, group
 * commit), store_audit.c, store_merchant.c, store_session.c, store_reply.c and
 * store_payment.c (store_webhook_apply, store_access_redeem).
 *
 * THREADS
 * - struct store is created by store_open and freed by store_close (one
 *   thread). Its keys, env and dbi handles never change in between and may be
 *   read from any thread. `failed` is atomic. The queue fields are guarded by
 *   `mu`. The batch scratch arrays belong to the writer thread.
 * - A store_txn exists only while an apply callback runs, on the writer
 *   thread; every store_txn_* / store_rec_* / store_raw_* / store_audit_*
 *   helper taking a store_txn is writer-thread only.
 * - store_read_begin/store_read_end and the store_mdb_* helpers taking an
 *   MDB_txn work on any thread (MDB_NOTLS: a read txn is not tied to a thread,
 *   but one txn must not be used by two threads at once).
 *
 * ERRORS
 * Every LMDB/errno result goes through store_mdb_status() (one table, one log
 * line with mdb_strerror). Helpers taking a store_txn also record the first
 * real failure in t->err (sticky, like LMDB's MDB_TXN_ERROR): once a put
 * failed, the nested txn is unusable and the writer rolls the write back even
 * if the apply callback ignored the error and returned PW_OK. PW_NOT_FOUND and
 * PW_ALREADY_EXISTS are answers, not failures, and are never sticky.
 *
 * LIFETIMES
 * Bytes LMDB returns die with their transaction: the helpers below always
 * decode or copy before returning. Records returned through `void **out` are
 * protobuf-c messages allocated with pw_malloc (malloc-compatible), freed by
 * the caller with paywire__v1__*__free_unpacked(rec, NULL).
 */
#ifndef PW_STORE_INTERNAL_H
#define PW_STORE_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <lmdb.h>
#include <sodium.h>

#include "store.h"

/* ---- databases ---- */

/* One row per LMDB named database: enum value, name (see store.h DATABASES
 * and docs/STORE.md for key/value layouts). The env is opened with exactly
 * STORE_DB_COUNT named dbs (mdb_env_set_maxdbs). */
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
	XX(CREDITS, "credits")

typedef enum store_db {
#define STORE_XX_ENUM(name, str) STORE_DB_##name,
	STORE_DB_MAP(STORE_XX_ENUM)
#undef STORE_XX_ENUM
	STORE_DB_COUNT
} store_db;

/* The LMDB name of db ("sessions"). */
const char *store_db_name(store_db db);

/* ---- sizes of the store ----
 * Its operational limits (readers, data dir, reply scope, token secret and
 * token lengths, refs per session) live in common/pw_limits.h. */

/* Longest LMDB key we build (LMDB 0.9 default max key size is 511). */
#define STORE_KEY_BYTES_MAX 511

_Static_assert(PW_IDEMPOTENCY_KEY_BYTES_MAX + PW_ID_BYTES(4) + 1 <= STORE_KEY_BYTES_MAX,
    "idem key (merchant_id 0x00 idempotency_key) fits an LMDB key");
_Static_assert(PW_REPLY_SCOPE_BYTES_MAX + 1 + PW_REQUEST_ID_BYTES_MAX <= STORE_KEY_BYTES_MAX,
    "reply key (scope 0x00 request_id) fits an LMDB key");
_Static_assert(PW_ID_BYTES(4) - 1 <= PW_REPLY_SCOPE_BYTES_MAX,
    "a merchant id is a valid reply scope");
_Static_assert(PW_STORE_DIR_BYTES_MAX + 32 <= PATH_MAX,
    "<dir>/<file name> fits the store's PATH_MAX buffers");

/* Databases whose entries expire after PW_IDEMPOTENCY_TTL_MS (replies, idem):
 * store_expired_purge (store_purge.c) keeps a resume position for each. */
#define STORE_PURGE_DBS 2

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
} store_keys;

/* Loads (or on first open creates) <dir>/paywire.key and derives s->keys.
 * may_create: false in read-only mode and when data.mdb already exists (a
 * missing key next to existing data is refused, never silently replaced).
 * Refuses a key file that is not a regular file owned by us, is readable or
 * writable by group/others (PW_UNAVAILABLE) or is not exactly 32 bytes
 * (PW_INTERNAL). Logs a clear message on every error. */
pw_status store_keys_load(store_keys *keys, const char *dir, bool may_create,
    const char *token_secret) PW_WUR;

/* keyed BLAKE2b-256 of in[0..len) */
void store_keyed_hash(uint8_t out[STORE_HASH_BYTES], const uint8_t key[STORE_HASH_BYTES],
    const void *in, size_t len);

/* ---- the store ---- */

/* The store behind the opaque handle of store.h. */
struct store {
	MDB_env *env;                         /* the environment in dir */
	MDB_dbi dbi[STORE_DB_COUNT];          /* named dbs, opened once at open */
	store_keys keys;                      /* derived keys; wiped at close */
	bool read_only;                       /* MDB_RDONLY: no writer thread, writes UNAVAILABLE */
	store_sync sync;                      /* durability mode (for logs) */
	atomic_bool failed;                   /* an I/O error or corruption: refuse writes */
	atomic_uint writer_delay_ms;          /* test hook: sleep before each batch */
	atomic_uint purge_interval_ms;        /* the writer's purge interval; 0: never (test hook) */

	pthread_mutex_t mu;                   /* guards everything below up to the scratch */
	pthread_cond_t cv;                    /* the writer waits here for work or close */
	store_write *head;                    /* queue: oldest first */
	store_write *tail;                    /* queue: newest */
	size_t queued;                        /* writes in the queue (<= PW_STORE_QUEUE_MAX) */
	bool closing;                         /* store_close started: no new writes */
	bool writer_started;                  /* `writer` is a joinable thread */
	pthread_t writer;                     /* the writer thread */
	store_stats stats;                    /* group-commit counters */

	store_write *batch[PW_STORE_BATCH_MAX]; /* writer only: the batch being applied */
	uint8_t purge_key[STORE_PURGE_DBS][STORE_KEY_BYTES_MAX]; /* writer only: where store_expired_purge resumes */
	size_t purge_len[STORE_PURGE_DBS];      /* writer only: bytes in purge_key (0: from the start) */
	store_write purge_write;                /* writer only: the periodic purge riding in a batch */
	size_t purge_deleted;                   /* writer only: entries its last run deleted */
	int64_t purge_last_ms;                  /* writer only: wall time of the last periodic purge */
	pw_status batch_st[PW_STORE_BATCH_MAX]; /* writer only: each write's status */
};

/* The handle an apply callback gets: one nested transaction. */
struct store_txn {
	store *s;           /* the store */
	MDB_txn *txn;       /* this write's nested txn (child of the batch txn) */
	int64_t now_ms;     /* pw_now_unix_ms() at batch start */
	pw_status err;      /* first failure seen by a helper (sticky), PW_OK if none */
};

/* ---- writer (store_writer.c) ---- */

/* The writer thread's body (started by store_open, joined by store_close):
 * takes batches from the queue until the store closes and the queue is
 * empty. */
void *store_writer_main(void *arg);

/* ---- error mapping (store_env.c) ---- */

/* THE mapping of an LMDB/errno result rc to a pw_status (docs/STORE.md,
 * STYLE.md section 4). Logs mdb_strerror(rc) once with `what` (e.g.
 * "mdb_put(sessions)") unless the result is an expected answer (MDB_SUCCESS,
 * MDB_NOTFOUND, MDB_KEYEXIST). MDB_CORRUPTED, MDB_PANIC, EIO and
 * MDB_PAGE_NOTFOUND mark the store failed (s may be NULL during open).
 * EINVAL and MDB_BAD_TXN/DBI/RSLOT are bugs: PW_ASSERT fires. Anything not in
 * the table is PW_INTERNAL. Never returns PW_OK for rc != 0. */
pw_status store_mdb_status(store *s, int rc, const char *what) PW_WUR;

/* Marks the store failed (writes refused from now on) and logs why. */
void store_fail(store *s, const char *why);

/* Records st as t's sticky error if it is a failure (not OK, NOT_FOUND,
 * ALREADY_EXISTS) and none was recorded yet. Returns st unchanged. */
pw_status store_txn_note(store_txn *t, pw_status st);

/* ---- read transactions (any thread) ---- */

/* Begins a read txn. PW_UNAVAILABLE if the reader table is full. */
pw_status store_read_begin(store *s, MDB_txn **out) PW_WUR;
/* Ends it (abort: a read txn has nothing to commit). */
void store_read_end(MDB_txn *txn);

/* ---- record helpers (store_rec.c) ---- */

/* Gets the record under key in db from txn and unpacks it with desc.
 * PW_OK: *out is a new message (caller frees with free_unpacked(out, NULL)).
 * PW_NOT_FOUND: no such key. PW_INTERNAL: the bytes do not unpack ("corrupt
 * record", logged). PW_RESOURCE_EXHAUSTED: out of memory (pw_malloc hook). */
pw_status store_mdb_rec_get(store *s, MDB_txn *txn, store_db db, const void *key,
    size_t keylen, const ProtobufCMessageDescriptor *desc, void **out) PW_WUR;

/* Copies the raw value under key into buf[0..buf_size). PW_OK with *len_out;
 * PW_NOT_FOUND; PW_INTERNAL if the stored value is larger than buf_size. */
pw_status store_mdb_raw_get(store *s, MDB_txn *txn, store_db db, const void *key,
    size_t keylen, void *buf, size_t buf_size, size_t *len_out) PW_WUR;

/* Writer-side versions (inside an apply): same contracts, plus sticky error. */
pw_status store_rec_get(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessageDescriptor *desc, void **out) PW_WUR;
pw_status store_raw_get(store_txn *t, store_db db, const void *key, size_t keylen,
    void *buf, size_t buf_size, size_t *len_out) PW_WUR;

/* Packs msg (PW_ASSERT: protobuf_c_message_check passes, packed size is what
 * was reserved) straight into LMDB's page with MDB_RESERVE. flags: 0
 * (overwrite), MDB_NOOVERWRITE (PW_ALREADY_EXISTS if present) or MDB_APPEND
 * (key must sort after every key: PW_ALREADY_EXISTS otherwise).
 * hash_out (may be NULL): BLAKE2b-256 of the packed bytes as stored. */
pw_status store_rec_put(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessage *msg, unsigned flags, uint8_t hash_out[STORE_HASH_BYTES]) PW_WUR;

/* Stores raw bytes (refs, ent_index, meta). Flags as store_rec_put. */
pw_status store_raw_put(store_txn *t, store_db db, const void *key, size_t keylen,
    const void *val, size_t len, unsigned flags) PW_WUR;

/* Deletes key. PW_NOT_FOUND if absent. */
pw_status store_raw_del(store_txn *t, store_db db, const void *key, size_t keylen) PW_WUR;

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

/* The SessionRecord of id (writer side). PW_NOT_FOUND if none. */
pw_status store_session_load(store_txn *t, const char *id, Paywire__V1__SessionRecord **out) PW_WUR;
/* Overwrites the record of rec->session->id (must exist or be new), sets
 * updated_at_unix_ms to the txn time first. */
pw_status store_session_save(store_txn *t, Paywire__V1__SessionRecord *rec) PW_WUR;

/* ---- audit log (store_audit.c) ---- */

/* Appends one hash-chained audit record in t (same txn as the change it
 * records): seq = last + 1, unix_ms = txn time, prev_hash = BLAKE2b-256 of
 * the previous record's packed bytes (32 zero bytes for seq 1); updates
 * meta "audit_seq"/"audit_head". Strings may be NULL (stored empty); detail
 * carries ids and amounts, never a secret. */
pw_status store_audit_append(store_txn *t, const char *action, const char *merchant_id,
    const char *session_id, const char *detail) PW_WUR;

/* meta keys */
#define STORE_META_AUDIT_SEQ "audit_seq"
#define STORE_META_AUDIT_HEAD "audit_head"

/* ---- payments (store_payment.c, store_entitlement.c, store_token.c) ----
 * Added by the payment engine; docs/PAYMENTS.md. The credits db maps
 * "merchant_id 0x00 customer" to a CreditLedgerRecord. */

/* Replaces the string field *field of an unpacked protobuf-c message with a
 * pw_malloc'd copy of val, freeing the old value (free_unpacked(rec, NULL)
 * frees the new one). PW_RESOURCE_EXHAUSTED (field unchanged) on OOM. */
pw_status store_pbstr_set(char **field, const char *val) PW_WUR;

/* The customer an entitlement or a credit ledger belongs to: customer_ref,
 * else customer_email, else the session id. false if it does not fit out. */
bool store_customer_of(const Paywire__V1__Session *sess, char *out, size_t out_size);

/* GRANT of an access key for rec's session (FULFILLMENT_KIND_ACCESS_KEY):
 * links rec->access_key_id to the active entitlement of (merchant, customer,
 * plan) if there is one, else creates it (sealed key, keyed hash, ent_index
 * row). *created: a new entitlement was written. The raw key never leaves
 * the function unsealed. */
pw_status store_entitlement_grant(store_txn *t, Paywire__V1__SessionRecord *rec,
    bool *created) PW_WUR;

/* REVOKE of rec's access-key entitlement, when rec's session created it:
 * inactive, revoked_at, sealed key wiped, ent_index row removed. *revoked:
 * false when there was nothing to revoke (none, already revoked, or shared:
 * created by another session of the same customer and plan). */
pw_status store_entitlement_revoke(store_txn *t, Paywire__V1__SessionRecord *rec,
    bool *revoked) PW_WUR;

/* Adds delta (may be negative) to the credit ledger of (merchant, customer),
 * creating it at 0. *balance_out (may be NULL): the new balance. */
pw_status store_credits_add(store_txn *t, const char *merchant_id, const char *customer,
    int64_t delta, int64_t *balance_out) PW_WUR;

/* ACCESS_LINK: "/access/<session_id>?token=<HS256 JWT>" (sub, merchant_id,
 * session_id, iat = now, exp = now + PW_ACCESS_LINK_TTL_S) signed with
 * keys->jwt_key. *link_out: pw_malloc'd, caller frees. */
pw_status store_token_link_mint(const store_keys *keys, const char *merchant_id,
    const char *session_id, int64_t now_ms, char **link_out) PW_WUR;

/* Verifies an access-link JWT for session_id at now_ms: HS256 only,
 * signature (constant time), exp > now, iat not in the future beyond
 * PW_TOKEN_SKEW_S, sub and session_id claims. PW_OK with the merchant_id
 * claim in merchant_out; PW_UNAUTHENTICATED for any failure (the reason is
 * logged at debug, never returned). */
pw_status store_token_verify(const store_keys *keys, const char *token, const char *session_id,
    int64_t now_ms, char *merchant_out, size_t merchant_size) PW_WUR;

#endif
