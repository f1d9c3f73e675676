/*
 * store_kv.h - the engine seam: a transactional, ordered key-value store the
 * payment domain (every store_*.c file) runs on. See docs/STORE.md "Engines".
 *
 * OWNS
 * Nothing of payments. An engine keeps a fixed set of named tables (the
 * domain passes their names at open: STORE_DB_MAP in store_internal.h); each
 * table maps byte-string keys (1..KV_KEY_BYTES_MAX bytes) to byte-string
 * values, ordered by memcmp of the keys (shorter first on a common prefix).
 * It offers read transactions, one write transaction at a time (a batch)
 * with nested transactions inside it (one per request), point reads and
 * writes, ordered scans, a table's entry count and the id of the last
 * committed write transaction. LMDB (kv_lmdb.c, kv_lmdb_ops) is the first
 * engine. An engine is one ops table, registered below; the domain reaches
 * it only through struct store's `kv` and `env` (store_internal.h).
 *
 * THREADS
 * - open/close/probe: one thread, before/after everything else.
 * - Read transactions: any thread, many at once. A read txn is not tied to
 *   the thread that began it (nng runs callbacks on its own threads), but one
 *   txn (and its cursors) is used by one thread at a time.
 * - Write transactions: only the store's writer thread. At most one batch is
 *   open at a time; inside it, at most one nested txn, and no op runs on the
 *   batch while a nested txn of it is open.
 * - last_txnid: any thread.
 *
 * LIFETIMES
 * - Bytes an engine returns (get, cursor_seek, cursor_next) belong to the
 *   engine and die at the next write on the same txn (a put or a delete, also
 *   in a nested txn) or when the txn ends, whichever comes first: decode or
 *   copy them before (LMDB's own documentation says the same of its pages).
 * - kv_txn and kv_cursor handles are engine-owned. A txn ends with exactly one
 *   of read_end, batch_commit, batch_abort, nest_commit or nest_abort; after
 *   that call the handle is gone, whatever the call returned. A cursor is
 *   closed before its txn ends.
 * - Nothing the domain passes in (keys, values, config strings) is kept after
 *   the call returns, except the table names and the fatal callback of
 *   kv_config, which must outlive the env.
 *
 * ERRORS
 * Every op answers a pw_status. Two are answers, not failures, and leave the
 * txn usable: PW_NOT_FOUND (no such key, or the end of a scan) and
 * PW_ALREADY_EXISTS (an insert-only put met the key). Anything else is a
 * failure: the txn (a nested one, or the batch) must be aborted and is never
 * used again (the domain makes such a failure sticky, store_txn.err). Each
 * engine maps its own results in one table (STYLE.md section 4) and logs the
 * original error once:
 *   PW_RESOURCE_EXHAUSTED  the storage is full (LMDB: the map); reads go on
 *   PW_UNAVAILABLE         retryable: readers full, disk full, busy
 *   KV_CONFLICT            another writer committed first (serialization
 *                          failure, unique violation from a concurrent
 *                          insert): nothing of the batch was kept; re-run it
 *   PW_INTERNAL            corruption, an I/O error, anything unmapped
 * An I/O error or corruption is also reported through
 * kv_config.fatal: from then on the store refuses writes (DESIGN.md
 * "Concurrency and durability"). Misuse (a bad handle, a key too long) is a
 * bug: PW_ASSERT.
 *
 * CONFLICTS (an engine several servers share, e.g. PostgreSQL)
 * KV_CONFLICT may come from batch_commit, from nest_commit, or from any op
 * inside the batch. The writer then aborts the whole batch and re-runs every
 * apply callback of it in a fresh batch, at most STORE_COMMIT_ATTEMPTS_MAX
 * times in all (store_writer.c). That is why nothing an apply does may act
 * outside its transaction before the commit (store.h "RE-RUNS"). LMDB, one
 * writer per environment, never answers KV_CONFLICT.
 */
#ifndef PW_STORE_KV_H
#define PW_STORE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "store.h"

/* Longest key every engine accepts: LMDB 0.9's default maximum key size.
 * The domain's keys are built to fit it. */
#define KV_KEY_BYTES_MAX 511

/* Most tables an engine is asked to keep (the domain has STORE_DB_COUNT,
 * 13); sizes engines' per-table arrays. */
#define KV_TABLES_MAX 32

/* "Another writer committed first; nothing of the batch was kept: re-run
 * it". gRPC's ABORTED means exactly this (a concurrency conflict, retry at a
 * higher level); the writer turns it into PW_UNAVAILABLE for the callers when
 * its re-runs are exhausted, so it never reaches the wire. */
#define KV_CONFLICT PW_ABORTED

typedef struct kv_env kv_env;       /* an open engine */
typedef struct kv_txn kv_txn;       /* a read, batch or nested transaction */
typedef struct kv_cursor kv_cursor; /* a position in one table of one txn */

/* A key or a value: len bytes at data (data may be NULL when len is 0). */
typedef struct kv_val {
	const void *data; /* the bytes; engine-owned when the engine returned them */
	size_t len;       /* their number */
} kv_val;

/* put flags */
#define KV_PUT_INSERT 0x1u /* insert only: PW_ALREADY_EXISTS if the key is there */
#define KV_PUT_APPEND 0x2u /* insert only, and the key sorts after every key of the
                              table (time-ordered keys): an engine may append without
                              a search, and may answer PW_ALREADY_EXISTS for a key
                              that is not past the last one (LMDB does) */
#define KV_PUT_FRESH 0x4u  /* with KV_PUT_INSERT or KV_PUT_APPEND: the caller made
                              the key new (random bits, a sequence past its head),
                              so an existing one is an anomaly it turns into an
                              error. An engine whose answers cost a round trip
                              (PostgreSQL) may then answer PW_OK without asking and
                              report an existing key later, as KV_CONFLICT of the
                              batch; the batch that re-runs it answers
                              PW_ALREADY_EXISTS exactly. LMDB answers at once. */

/* Writes exactly size bytes of a value into space (engine memory). Runs
 * inside put, on the calling thread; must not call the engine. */
typedef void (*kv_fill_fn)(void *space, size_t size, void *arg);

/* Told of each fatal error (an I/O error or corruption; the store fails at
 * the first), on the thread that met it, with what was being done (e.g.
 * "commit(batch)"). */
typedef void (*kv_fatal_fn)(void *arg, const char *what);

/* What an engine is opened with. */
typedef struct kv_config {
	const char *dir;             /* data directory (exists; the domain created it) */
	const char *url;             /* a database's connection string (PostgreSQL: a
	                                libpq URL or key=value string); NULL for LMDB */
	uint64_t map_size_bytes;     /* most bytes the data may take (LMDB: map size) */
	store_sync sync;             /* durability of a commit (store.h) */
	bool read_only;              /* only read txns will be begun */
	const char *const *tables;   /* table names; a table's number is its index */
	size_t n_tables;             /* 1..KV_TABLES_MAX */
	kv_fatal_fn fatal;           /* see above; never NULL */
	void *fatal_arg;             /* passed to fatal */
} kv_config;

/*
 * The ops of one engine (nng's protocol ops shape: designated initializers,
 * every op filled but prefetch). Table numbers are indexes into kv_config.tables.
 *
 * probe: *exists_out = the storage cfg names already holds data (LMDB:
 *   <dir>/data.mdb exists). Opens nothing; the domain uses it to refuse a
 *   missing key file next to existing data.
 * open: opens (creating unless read_only) the storage and every table. On
 *   success *out owns everything; on failure nothing is left open, a message
 *   is logged, and the status says why (PW_UNAVAILABLE for directory, lock
 *   or permission problems, PW_INTERNAL for data that cannot be used).
 * close: ends everything open; every txn must have ended before.
 * read_begin / read_end: a read transaction: one consistent snapshot that
 *   never waits for the writer, taken at its begin or, at the latest, by its
 *   first op (LMDB: at begin; PostgreSQL: with the first statement, which
 *   goes with the first op to save a round trip): everything committed
 *   before the begin is in it, and nothing committed after its first op.
 *   PW_UNAVAILABLE when no reader slot is free.
 * batch_begin: the write transaction of one batch (one commit, one fsync).
 * batch_commit: makes the batch durable (per kv_config.sync) and ends it,
 *   whatever it answers; only PW_OK means kept. KV_CONFLICT: nothing kept,
 *   re-run. A batch that wrote nothing must not move last_txnid.
 * batch_abort: ends the batch, keeping nothing of it.
 * nest_begin / nest_commit / nest_abort: a transaction nested in the open
 *   batch (LMDB: a child txn; SQL: a savepoint). Its commit folds its writes
 *   into the batch (durable only when the batch commits); its abort undoes
 *   them and leaves the batch usable. A failure of nest_commit itself is a
 *   failure of the batch.
 * get: *val = the value under key in table. PW_NOT_FOUND if none.
 * put: stores a value of size bytes under key, written by fill(space, size,
 *   arg) into engine memory (LMDB: straight into its page, reserved by the
 *   put; another engine may fill a buffer and send it). Without flags,
 *   overwrites. flags: KV_PUT_INSERT, KV_PUT_APPEND (see above). fill is not
 *   called when put fails. In a batch or a nested txn (the domain writes only
 *   in nested ones).
 * del: deletes key. PW_NOT_FOUND if absent. In a batch or a nested txn.
 * cursor_open / cursor_close: a cursor over one table of txn.
 * cursor_seek: moves to the first entry whose key is >= key (keylen 0: the
 *   first entry) and returns it. PW_NOT_FOUND: no such entry.
 * cursor_next: moves to the next entry and returns it; after cursor_del it
 *   returns the entry that followed the deleted one. PW_NOT_FOUND at the end.
 * cursor_del: deletes the entry at the cursor (not in a read txn).
 * count: *out = entries in table, as txn sees it.
 * prefetch (the one optional op: NULL for an engine whose reads cost no
 *   round trip, LMDB, so the writer does not even build the keys): reads
 *   keys[0..n) of table in the batch (or its nested txn) in one go, so that
 *   gets of them later in the same batch are cheap. Answers like a get that
 *   failed: PW_OK, or a failure of the batch. Never changes what a get
 *   answers.
 * last_txnid: the id of the last committed write transaction that changed
 *   something; it moves iff data changed ("nothing written" is checkable
 *   from outside, DESIGN.md). Any thread.
 */
/* What info reports (metrics); unset members are false/0. */
typedef struct kv_info {
	bool has_map;            /* map_* are meaningful */
	uint64_t map_used_bytes; /* bytes of the map in use */
	uint64_t map_size_bytes; /* the map's size */
	bool has_readers;        /* readers_* are meaningful */
	uint64_t readers_used;   /* reader slots in use */
	uint64_t readers_max;    /* reader slots in all */
} kv_info;

typedef struct kv_ops {
	const char *name; /* "lmdb": for logs */
	pw_status (*probe)(const kv_config *cfg, bool *exists_out);
	pw_status (*open)(kv_env **out, const kv_config *cfg);
	void (*close)(kv_env *env);
	pw_status (*read_begin)(kv_env *env, kv_txn **out);
	void (*read_end)(kv_txn *txn);
	pw_status (*batch_begin)(kv_env *env, kv_txn **out);
	pw_status (*batch_commit)(kv_txn *txn);
	void (*batch_abort)(kv_txn *txn);
	pw_status (*nest_begin)(kv_txn *batch, kv_txn **out);
	pw_status (*nest_commit)(kv_txn *txn);
	void (*nest_abort)(kv_txn *txn);
	pw_status (*get)(kv_txn *txn, unsigned table, kv_val key, kv_val *val);
	pw_status (*put)(kv_txn *txn, unsigned table, kv_val key, size_t size, unsigned flags,
	    kv_fill_fn fill, void *arg);
	pw_status (*del)(kv_txn *txn, unsigned table, kv_val key);
	pw_status (*cursor_open)(kv_txn *txn, unsigned table, kv_cursor **out);
	pw_status (*cursor_seek)(kv_cursor *cur, kv_val key, kv_val *key_out, kv_val *val_out);
	pw_status (*cursor_next)(kv_cursor *cur, kv_val *key_out, kv_val *val_out);
	pw_status (*cursor_del)(kv_cursor *cur);
	void (*cursor_close)(kv_cursor *cur);
	pw_status (*count)(kv_txn *txn, unsigned table, uint64_t *out);
	pw_status (*prefetch)(kv_txn *txn, unsigned table, const kv_val *keys, size_t n);
	uint64_t (*last_txnid)(kv_env *env);
	/* optional (NULL: nothing to say): figures for metrics, any thread,
	 * cheap (no transaction) */
	pw_status (*info)(kv_env *env, kv_info *out);
} kv_ops;

/* ---- the engines ---- */

/* LMDB 0.9 (kv_lmdb.c): one environment in kv_config.dir, a named database
 * per table. The default engine of store_open. */
extern const kv_ops kv_lmdb_ops;

/* PostgreSQL 15 through libpq (kv_pg.c): one table per table in the schema
 * "paywire" of the database kv_config.url names; several servers may share
 * it. The engine of store_open when store_opts.url is set. */
extern const kv_ops kv_pg_ops;

#endif
