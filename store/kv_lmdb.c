/*
 * kv_lmdb.c - the LMDB engine (store_kv.h): one environment in the data
 * directory, one named database per table. The only file of paywire that
 * calls LMDB (bench/ measures a bare LMDB floor of its own).
 *
 * Handles are LMDB's own: a kv_txn is an MDB_txn, a kv_cursor an MDB_cursor,
 * so no op allocates. A txn finds its kv_env through the environment's user
 * context (mdb_env_set_userctx). Read txns are MDB_RDONLY on an environment
 * opened MDB_NOTLS (a reader slot belongs to the txn, not to the thread); a
 * batch is a top-level write txn, a nested txn an LMDB child txn. One writer
 * per environment: LMDB serializes writers, so a commit never conflicts.
 */
#include "kv_lmdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "pw_limits.h"

_Static_assert(KV_KEY_BYTES_MAX == 511, "LMDB 0.9's default maximum key size");

/* The engine behind a kv_env handle. */
struct kv_env {
	MDB_env *env;               /* the environment in kv_config.dir */
	MDB_dbi dbi[KV_TABLES_MAX]; /* one named db per table, opened once at open */
	bool absent[KV_TABLES_MAX]; /* read-only open of an older store: the table
	                               does not exist yet, and reads as empty */
	size_t n_tables;            /* tables in dbi */
	kv_fatal_fn fatal;          /* told of I/O errors and corruption */
	void *fatal_arg;            /* its argument */
};

/* ---- the error table (STYLE.md section 4) ---- */

typedef enum kv_lmdb_err_kind {
	KV_LMDB_ANSWER = 0, /* an expected answer: not logged */
	KV_LMDB_LOG,        /* an operating error: logged once at warn */
	KV_LMDB_FATAL,      /* I/O error or corruption: logged, the store fails */
	KV_LMDB_BUG,        /* we misused LMDB: PW_ASSERT */
} kv_lmdb_err_kind;

static const struct {
	int rc;                /* LMDB or errno result */
	pw_status st;          /* what callers see */
	kv_lmdb_err_kind kind; /* what else happens */
} kv_lmdb_err_map[] = {
	{ MDB_NOTFOUND, PW_NOT_FOUND, KV_LMDB_ANSWER },
	{ MDB_KEYEXIST, PW_ALREADY_EXISTS, KV_LMDB_ANSWER },
	/* Full map: that write (or batch) fails, reads go on (DESIGN.md). */
	{ MDB_MAP_FULL, PW_RESOURCE_EXHAUSTED, KV_LMDB_LOG },
	{ MDB_TXN_FULL, PW_RESOURCE_EXHAUSTED, KV_LMDB_LOG },
	{ ENOMEM, PW_RESOURCE_EXHAUSTED, KV_LMDB_LOG },
	/* Retryable: the condition may clear by itself. */
	{ MDB_READERS_FULL, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ MDB_MAP_RESIZED, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ ENOSPC, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ EDQUOT, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ EAGAIN, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ EBUSY, PW_UNAVAILABLE, KV_LMDB_LOG },
	/* Directory / permission problems (open). */
	{ EACCES, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ EPERM, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ EROFS, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ ENOENT, PW_UNAVAILABLE, KV_LMDB_LOG },
	{ ENOTDIR, PW_UNAVAILABLE, KV_LMDB_LOG },
	/* A key longer than LMDB allows: callers check lengths first. */
	{ MDB_BAD_VALSIZE, PW_INVALID_ARGUMENT, KV_LMDB_LOG },
	/* Not an environment we can use (open). */
	{ MDB_INVALID, PW_INTERNAL, KV_LMDB_LOG },
	{ MDB_VERSION_MISMATCH, PW_INTERNAL, KV_LMDB_LOG },
	{ MDB_INCOMPATIBLE, PW_INTERNAL, KV_LMDB_LOG },
	/* The data can no longer be trusted: stop writing (DESIGN.md). */
	{ MDB_CORRUPTED, PW_INTERNAL, KV_LMDB_FATAL },
	{ MDB_PANIC, PW_INTERNAL, KV_LMDB_FATAL },
	{ MDB_PAGE_NOTFOUND, PW_INTERNAL, KV_LMDB_FATAL },
	{ EIO, PW_INTERNAL, KV_LMDB_FATAL },
	/* A transaction LMDB marked broken. 0.9's mdb_cursor_init swallows the
	 * MDB_PAGE_NOTFOUND of a table whose root page is past the end of the
	 * file (damaged on disk) and flags the transaction, so the call that met
	 * it answers MDB_BAD_TXN; this file never goes on using a transaction
	 * after an error it saw. Damaged data, not a misuse: the store fails
	 * (the server exits 3), it does not assert (store_writer_test). */
	{ MDB_BAD_TXN, PW_INTERNAL, KV_LMDB_FATAL },
	/* Our bugs. */
	{ EINVAL, PW_INTERNAL, KV_LMDB_BUG },
	{ MDB_BAD_DBI, PW_INTERNAL, KV_LMDB_BUG },
	{ MDB_BAD_RSLOT, PW_INTERNAL, KV_LMDB_BUG },
	{ MDB_DBS_FULL, PW_INTERNAL, KV_LMDB_BUG },
};

pw_status
kv_lmdb_status(kv_env *env, int rc, const char *what)
{
	size_t n = sizeof(kv_lmdb_err_map) / sizeof(kv_lmdb_err_map[0]);

	if (rc == MDB_SUCCESS) {
		return PW_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (kv_lmdb_err_map[i].rc != rc) {
			continue;
		}
		switch (kv_lmdb_err_map[i].kind) {
		case KV_LMDB_ANSWER:
			break;
		case KV_LMDB_LOG:
			pw_log(PW_LOG_WARN, "store: %s: %s (%d) -> %s", what, mdb_strerror(rc), rc,
			    pw_status_name(kv_lmdb_err_map[i].st));
			break;
		case KV_LMDB_FATAL:
			pw_log(PW_LOG_ERROR, "store: %s: %s (%d)", what, mdb_strerror(rc), rc);
			if (env != NULL) {
				env->fatal(env->fatal_arg, what);
			}
			break;
		case KV_LMDB_BUG:
			pw_log(PW_LOG_ERROR, "store: %s: %s (%d): misuse of LMDB", what,
			    mdb_strerror(rc), rc);
			PW_ASSERT(!"LMDB reported a programming error");
			break;
		}
		return kv_lmdb_err_map[i].st;
	}
	pw_log(PW_LOG_ERROR, "store: %s: unmapped result %s (%d) -> INTERNAL", what,
	    mdb_strerror(rc), rc);
	return PW_INTERNAL;
}

/* ---- handles ---- */

static MDB_txn *
kv_lmdb_txn(kv_txn *txn)
{
	PW_ASSERT(txn != NULL);
	return (MDB_txn *) (void *) txn;
}

static MDB_cursor *
kv_lmdb_cur(kv_cursor *cur)
{
	PW_ASSERT(cur != NULL);
	return (MDB_cursor *) (void *) cur;
}

/* The kv_env a txn belongs to (set as the environment's user context). */
static kv_env *
kv_lmdb_env_of(MDB_txn *txn)
{
	kv_env *e = mdb_env_get_userctx(mdb_txn_env(txn));

	PW_ASSERT(e != NULL);
	return e;
}

/* One table of one txn, as LMDB names them. */
typedef struct kv_lmdb_at {
	MDB_txn *txn; /* the txn */
	kv_env *env;  /* its engine (for the error table) */
	MDB_dbi dbi;  /* the table's named db */
	bool absent;  /* no such db (read-only open of an older store): empty */
} kv_lmdb_at;

static kv_lmdb_at
kv_lmdb_table(kv_txn *txn, unsigned table)
{
	MDB_txn *t = kv_lmdb_txn(txn);
	kv_env *e = kv_lmdb_env_of(t);

	PW_ASSERT(table < e->n_tables);
	return (kv_lmdb_at){ .txn = t, .env = e, .dbi = e->dbi[table], .absent = e->absent[table] };
}

/* The cursor handed out on an absent table: never an LMDB cursor, every
 * position on it is past the end. */
static char kv_lmdb_empty_cursor;
#define KV_LMDB_EMPTY_CURSOR ((kv_cursor *) (void *) &kv_lmdb_empty_cursor)

static MDB_val
kv_lmdb_key(kv_val key)
{
	PW_ASSERT(key.data != NULL && key.len > 0 && key.len <= KV_KEY_BYTES_MAX);
	return (MDB_val){ .mv_size = key.len, .mv_data = (void *) key.data };
}

static kv_val
kv_lmdb_val(const MDB_val *v)
{
	return (kv_val){ .data = v->mv_data, .len = v->mv_size };
}

/* ---- open, close ---- */

static pw_status
kv_lmdb_probe(const kv_config *cfg, bool *exists_out)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	PW_ASSERT(cfg != NULL && cfg->dir != NULL && exists_out != NULL);
	n = snprintf(path, sizeof(path), "%s/data.mdb", cfg->dir);
	PW_ASSERT(n > 0 && (size_t) n < sizeof(path));
	*exists_out = stat(path, &st) == 0;
	return PW_OK;
}

static unsigned
kv_lmdb_env_flags(const kv_config *cfg)
{
	/* MDB_NOTLS: reads run on nng's threads and a read txn must not pin a
	 * reader slot to a thread. */
	unsigned flags = MDB_NOTLS;

	switch (cfg->sync) {
	case STORE_SYNC_FULL:
		break;
	case STORE_SYNC_META:
		flags |= MDB_NOMETASYNC;
		break;
	case STORE_SYNC_NONE:
		flags |= MDB_NOSYNC;
		break;
	}
	if (cfg->read_only) {
		flags |= MDB_RDONLY;
	}
	return flags;
}

/* Opens every named db in one txn; the handles live until mdb_env_close. */
static pw_status
kv_lmdb_dbs_open(kv_env *e, const kv_config *cfg)
{
	MDB_txn *txn = NULL;
	unsigned flags = cfg->read_only ? 0 : MDB_CREATE;
	int rc;

	rc = mdb_txn_begin(e->env, NULL, cfg->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		return kv_lmdb_status(e, rc, "mdb_txn_begin(open dbs)");
	}
	for (size_t i = 0; i < cfg->n_tables; i++) {
		rc = mdb_dbi_open(txn, cfg->tables[i], flags, &e->dbi[i]);
		if (rc == MDB_NOTFOUND && cfg->read_only) {
			/* A store written by a build before this table existed,
			 * opened read-only (doctor, backup) before a server of this
			 * build opened it read-write, which creates the table: what
			 * it would hold is nothing yet. */
			pw_log(PW_LOG_INFO, "store: table %s does not exist yet (written by an older "
			    "build); read-only: read as empty", cfg->tables[i]);
			e->absent[i] = true;
			e->dbi[i] = 0;
			continue;
		}
		if (rc != 0) {
			pw_log(PW_LOG_ERROR, "store: cannot open database %s", cfg->tables[i]);
			mdb_txn_abort(txn);
			return kv_lmdb_status(e, rc, "mdb_dbi_open");
		}
	}
	/* Commit (even read-only): dbi handles opened in an aborted txn are lost. */
	rc = mdb_txn_commit(txn);
	return kv_lmdb_status(e, rc, "mdb_txn_commit(open dbs)");
}

static pw_status
kv_lmdb_env_open(kv_env *e, const kv_config *cfg)
{
	int rc;
	int dead = 0;

	rc = mdb_env_set_maxdbs(e->env, (MDB_dbi) cfg->n_tables);
	if (rc == 0) {
		rc = mdb_env_set_mapsize(e->env, (size_t) cfg->map_size_bytes);
	}
	if (rc == 0) {
		rc = mdb_env_set_maxreaders(e->env, PW_STORE_READERS_MAX);
	}
	if (rc == 0) {
		rc = mdb_env_set_userctx(e->env, e);
	}
	if (rc != 0) {
		return kv_lmdb_status(e, rc, "mdb_env_set_*");
	}
	rc = mdb_env_open(e->env, cfg->dir, kv_lmdb_env_flags(cfg), 0600);
	if (rc != 0) {
		pw_log(PW_LOG_ERROR, "store: cannot open LMDB environment in %s", cfg->dir);
		return kv_lmdb_status(e, rc, "mdb_env_open");
	}
	/* Free reader slots left by processes that died inside a read txn. */
	rc = mdb_reader_check(e->env, &dead);
	if (rc != 0) {
		return kv_lmdb_status(e, rc, "mdb_reader_check");
	}
	if (dead > 0) {
		pw_log(PW_LOG_INFO, "store: cleared %d stale reader slot(s)", dead);
	}
	return kv_lmdb_dbs_open(e, cfg);
}

static void
kv_lmdb_close(kv_env *e)
{
	if (e == NULL) {
		return;
	}
	if (e->env != NULL) {
		mdb_env_close(e->env);
	}
	free(e);
}

static pw_status
kv_lmdb_open(kv_env **out, const kv_config *cfg)
{
	kv_env *e;
	pw_status st;
	int rc;

	PW_ASSERT(out != NULL && cfg != NULL && cfg->dir != NULL && cfg->fatal != NULL);
	PW_ASSERT(cfg->n_tables > 0 && cfg->n_tables <= KV_TABLES_MAX && cfg->tables != NULL);
	PW_ASSERT(cfg->map_size_bytes > 0 && cfg->map_size_bytes <= (uint64_t) SIZE_MAX);
	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	e->n_tables = cfg->n_tables;
	e->fatal = cfg->fatal;
	e->fatal_arg = cfg->fatal_arg;
	rc = mdb_env_create(&e->env);
	if (rc != 0) {
		e->env = NULL;
		st = kv_lmdb_status(e, rc, "mdb_env_create");
	} else {
		st = kv_lmdb_env_open(e, cfg);
	}
	if (st != PW_OK) {
		kv_lmdb_close(e);
		return st;
	}
	*out = e;
	return PW_OK;
}

/* ---- transactions ---- */

static pw_status
kv_lmdb_begin(kv_env *e, MDB_txn *parent, unsigned flags, kv_txn **out, const char *what)
{
	MDB_txn *txn = NULL;
	int rc;

	PW_ASSERT(e != NULL && out != NULL);
	*out = NULL;
	rc = mdb_txn_begin(e->env, parent, flags, &txn);
	if (rc != 0) {
		return kv_lmdb_status(e, rc, what);
	}
	*out = (kv_txn *) (void *) txn;
	return PW_OK;
}

static pw_status
kv_lmdb_read_begin(kv_env *e, kv_txn **out)
{
	return kv_lmdb_begin(e, NULL, MDB_RDONLY, out, "mdb_txn_begin(read)");
}

/* Ends a txn keeping nothing (a read txn has nothing to keep). */
static void
kv_lmdb_abort(kv_txn *txn)
{
	mdb_txn_abort(kv_lmdb_txn(txn));
}

static pw_status
kv_lmdb_batch_begin(kv_env *e, kv_txn **out)
{
	return kv_lmdb_begin(e, NULL, 0, out, "mdb_txn_begin(batch)");
}

static pw_status
kv_lmdb_nest_begin(kv_txn *batch, kv_txn **out)
{
	MDB_txn *parent = kv_lmdb_txn(batch);

	return kv_lmdb_begin(kv_lmdb_env_of(parent), parent, 0, out, "mdb_txn_begin(nested)");
}

/* mdb_txn_commit frees the txn whatever it answers. LMDB skips a write txn
 * that changed nothing (no new txn id, no fsync). */
static pw_status
kv_lmdb_commit(kv_txn *txn, const char *what)
{
	MDB_txn *t = kv_lmdb_txn(txn);
	kv_env *e = kv_lmdb_env_of(t);

	return kv_lmdb_status(e, mdb_txn_commit(t), what);
}

static pw_status
kv_lmdb_batch_commit(kv_txn *txn)
{
	return kv_lmdb_commit(txn, "mdb_txn_commit(batch)");
}

static pw_status
kv_lmdb_nest_commit(kv_txn *txn)
{
	return kv_lmdb_commit(txn, "mdb_txn_commit(nested)");
}

/* ---- data ---- */

static pw_status
kv_lmdb_get(kv_txn *txn, unsigned table, kv_val key, kv_val *val)
{
	kv_lmdb_at at = kv_lmdb_table(txn, table);
	MDB_val k = kv_lmdb_key(key);
	MDB_val v = { .mv_size = 0, .mv_data = NULL };
	int rc;

	PW_ASSERT(val != NULL);
	if (at.absent) {
		*val = (kv_val){ .data = NULL, .len = 0 };
		return PW_NOT_FOUND;
	}
	rc = mdb_get(at.txn, at.dbi, &k, &v);
	*val = kv_lmdb_val(&v); /* points into the map: dies with the txn */
	return kv_lmdb_status(at.env, rc, "mdb_get");
}

static unsigned
kv_lmdb_put_flags(unsigned flags)
{
	unsigned f = MDB_RESERVE;

	PW_ASSERT((flags & ~(KV_PUT_INSERT | KV_PUT_APPEND | KV_PUT_FRESH)) == 0);
	if ((flags & KV_PUT_INSERT) != 0) {
		f |= MDB_NOOVERWRITE;
	}
	if ((flags & KV_PUT_APPEND) != 0) {
		f |= MDB_APPEND; /* MDB_KEYEXIST for a key not past the last */
	}
	return f;
}

static pw_status
kv_lmdb_put(kv_txn *txn, unsigned table, kv_val key, size_t size, unsigned flags,
    kv_fill_fn fill, void *arg)
{
	kv_lmdb_at at = kv_lmdb_table(txn, table);
	MDB_val k = kv_lmdb_key(key);
	MDB_val v = { .mv_size = size, .mv_data = NULL };
	int rc;

	PW_ASSERT(fill != NULL);
	if (at.absent) {
		return PW_UNAVAILABLE; /* only a read-only open has absent tables */
	}
	/* MDB_RESERVE: LMDB makes room in its page and the value is written
	 * there, so a put copies nothing twice and allocates nothing. */
	rc = mdb_put(at.txn, at.dbi, &k, &v, kv_lmdb_put_flags(flags));
	if (rc != 0) {
		return kv_lmdb_status(at.env, rc, "mdb_put");
	}
	PW_ASSERT(v.mv_size == size && (v.mv_data != NULL || size == 0));
	fill(v.mv_data, size, arg);
	return PW_OK;
}

static pw_status
kv_lmdb_del(kv_txn *txn, unsigned table, kv_val key)
{
	kv_lmdb_at at = kv_lmdb_table(txn, table);
	MDB_val k = kv_lmdb_key(key);

	if (at.absent) {
		return PW_UNAVAILABLE; /* only a read-only open has absent tables */
	}
	return kv_lmdb_status(at.env, mdb_del(at.txn, at.dbi, &k, NULL), "mdb_del");
}

static pw_status
kv_lmdb_count(kv_txn *txn, unsigned table, uint64_t *out)
{
	kv_lmdb_at at = kv_lmdb_table(txn, table);
	MDB_stat ms;
	int rc;

	PW_ASSERT(out != NULL);
	if (at.absent) {
		*out = 0;
		return PW_OK;
	}
	rc = mdb_stat(at.txn, at.dbi, &ms);
	*out = rc == 0 ? (uint64_t) ms.ms_entries : 0;
	return kv_lmdb_status(at.env, rc, "mdb_stat");
}

static uint64_t
kv_lmdb_last_txnid(kv_env *e)
{
	MDB_envinfo info;
	int rc;

	PW_ASSERT(e != NULL);
	rc = mdb_env_info(e->env, &info);
	PW_ASSERT(rc == 0);
	return (uint64_t) info.me_last_txnid;
}

/* mdb_reader_list calls this once per line: a header, then one line per
 * reader slot in use ("(no active readers)" when none). */
static int
kv_lmdb_reader_line(const char *msg, void *ctx)
{
	uint64_t *n = ctx;

	if (strstr(msg, "pid") == NULL && strstr(msg, "(no active") == NULL) {
		(*n)++;
	}
	return 0;
}

static pw_status
kv_lmdb_info(kv_env *e, kv_info *out)
{
	MDB_envinfo info;
	MDB_stat st;
	unsigned int max_readers = 0;
	uint64_t used = 0;

	PW_ASSERT(e != NULL && out != NULL);
	if (mdb_env_info(e->env, &info) != 0 || mdb_env_stat(e->env, &st) != 0) {
		return PW_INTERNAL;
	}
	out->has_map = true;
	out->map_size_bytes = (uint64_t) info.me_mapsize;
	out->map_used_bytes = ((uint64_t) info.me_last_pgno + 1u) * (uint64_t) st.ms_psize;
	if (mdb_env_get_maxreaders(e->env, &max_readers) == 0 &&
	    mdb_reader_list(e->env, kv_lmdb_reader_line, &used) >= 0) {
		out->has_readers = true;
		out->readers_used = used;
		out->readers_max = max_readers;
	}
	return PW_OK;
}

/* ---- cursors ---- */

static pw_status
kv_lmdb_cursor_open(kv_txn *txn, unsigned table, kv_cursor **out)
{
	kv_lmdb_at at = kv_lmdb_table(txn, table);
	MDB_cursor *cur = NULL;
	pw_status st;

	PW_ASSERT(out != NULL);
	if (at.absent) {
		*out = KV_LMDB_EMPTY_CURSOR;
		return PW_OK;
	}
	st = kv_lmdb_status(at.env, mdb_cursor_open(at.txn, at.dbi, &cur), "mdb_cursor_open");
	*out = (kv_cursor *) (void *) cur; /* NULL unless PW_OK */
	return st;
}

static void
kv_lmdb_cursor_close(kv_cursor *cur)
{
	if (cur == KV_LMDB_EMPTY_CURSOR) {
		return;
	}
	mdb_cursor_close(kv_lmdb_cur(cur));
}

/* One mdb_cursor_get; the key and value returned point into the map. */
static pw_status
kv_lmdb_cursor_get(MDB_cursor *cur, MDB_val *k, MDB_cursor_op op, kv_val *key_out,
    kv_val *val_out)
{
	MDB_val v = { 0 };
	int rc;

	PW_ASSERT(key_out != NULL && val_out != NULL);
	*key_out = (kv_val){ .data = NULL, .len = 0 };
	*val_out = *key_out;
	rc = mdb_cursor_get(cur, k, &v, op);
	if (rc != 0) {
		return kv_lmdb_status(kv_lmdb_env_of(mdb_cursor_txn(cur)), rc, "mdb_cursor_get");
	}
	*key_out = kv_lmdb_val(k);
	*val_out = kv_lmdb_val(&v);
	return PW_OK;
}

static pw_status
kv_lmdb_cursor_seek(kv_cursor *cur, kv_val key, kv_val *key_out, kv_val *val_out)
{
	MDB_val k = { 0 };

	if (cur == KV_LMDB_EMPTY_CURSOR) {
		*key_out = (kv_val){ .data = NULL, .len = 0 };
		*val_out = *key_out;
		return PW_NOT_FOUND;
	}
	if (key.len == 0) {
		return kv_lmdb_cursor_get(kv_lmdb_cur(cur), &k, MDB_FIRST, key_out, val_out);
	}
	k = kv_lmdb_key(key);
	return kv_lmdb_cursor_get(kv_lmdb_cur(cur), &k, MDB_SET_RANGE, key_out, val_out);
}

static pw_status
kv_lmdb_cursor_next(kv_cursor *cur, kv_val *key_out, kv_val *val_out)
{
	MDB_val k = { 0 };

	if (cur == KV_LMDB_EMPTY_CURSOR) {
		*key_out = (kv_val){ .data = NULL, .len = 0 };
		*val_out = *key_out;
		return PW_NOT_FOUND;
	}
	/* After mdb_cursor_del the cursor already sits on the next entry, and
	 * MDB_NEXT returns that one (LMDB's C_DEL) instead of skipping it. */
	return kv_lmdb_cursor_get(kv_lmdb_cur(cur), &k, MDB_NEXT, key_out, val_out);
}

static pw_status
kv_lmdb_cursor_del(kv_cursor *cur)
{
	MDB_cursor *c;

	PW_ASSERT(cur != KV_LMDB_EMPTY_CURSOR); /* it is never positioned */
	c = kv_lmdb_cur(cur);
	return kv_lmdb_status(kv_lmdb_env_of(mdb_cursor_txn(c)), mdb_cursor_del(c, 0),
	    "mdb_cursor_del");
}

const kv_ops kv_lmdb_ops = {
	.name = "lmdb",
	.probe = kv_lmdb_probe,
	.open = kv_lmdb_open,
	.close = kv_lmdb_close,
	.read_begin = kv_lmdb_read_begin,
	.read_end = kv_lmdb_abort,
	.batch_begin = kv_lmdb_batch_begin,
	.batch_commit = kv_lmdb_batch_commit,
	.batch_abort = kv_lmdb_abort,
	.nest_begin = kv_lmdb_nest_begin,
	.nest_commit = kv_lmdb_nest_commit,
	.nest_abort = kv_lmdb_abort,
	.get = kv_lmdb_get,
	.put = kv_lmdb_put,
	.del = kv_lmdb_del,
	.cursor_open = kv_lmdb_cursor_open,
	.cursor_seek = kv_lmdb_cursor_seek,
	.cursor_next = kv_lmdb_cursor_next,
	.cursor_del = kv_lmdb_cursor_del,
	.cursor_close = kv_lmdb_cursor_close,
	.count = kv_lmdb_count,
	.prefetch = NULL, /* a read of a mapped page costs no round trip */
	.last_txnid = kv_lmdb_last_txnid,
	.info = kv_lmdb_info,
};

/* ---- outside the ops: backups and health of a data directory (store.h) ----
 * Each opens its own environment read-only, beside any server's, and closes
 * it before returning. LMDB results go into why with mdb_strerror; nothing
 * here reaches kv_lmdb_status (no store to fail). */

static pw_status
kv_lmdb_side_open(const char *dir, MDB_env **out, char *why, size_t why_size)
{
	MDB_env *env = NULL;
	int rc;

	*out = NULL;
	rc = mdb_env_create(&env);
	if (rc == 0) {
		rc = mdb_env_set_maxdbs(env, KV_TABLES_MAX);
	}
	if (rc == 0) {
		rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
	}
	if (rc != 0) {
		if (env != NULL) {
			mdb_env_close(env);
		}
		return pw_why(why, why_size, PW_UNAVAILABLE, "cannot open the LMDB environment in "
		    "%s: %s", dir, mdb_strerror(rc));
	}
	*out = env;
	return PW_OK;
}

pw_status
store_lmdb_inspect(const char *dir, store_lmdb_info *out, char *why, size_t why_size)
{
	MDB_env *env = NULL;
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t readers = 0;
	int dead = 0;
	int rc;
	pw_status st;

	PW_ASSERT(dir != NULL && out != NULL && why != NULL && why_size > 0);
	memset(out, 0, sizeof(*out));
	st = kv_lmdb_side_open(dir, &env, why, why_size);
	if (st != PW_OK) {
		return st;
	}
	rc = mdb_reader_check(env, &dead);
	if (rc == 0) {
		rc = mdb_env_info(env, &info);
	}
	if (rc == 0) {
		rc = mdb_env_stat(env, &ms);
	}
	if (rc == 0) {
		rc = mdb_reader_list(env, kv_lmdb_reader_line, &readers);
	}
	if (rc != 0) {
		mdb_env_close(env);
		return pw_why(why, why_size, PW_UNAVAILABLE, "cannot inspect the LMDB environment in "
		    "%s: %s", dir, mdb_strerror(rc));
	}
	out->map_bytes = (uint64_t) info.me_mapsize;
	out->used_bytes = ((uint64_t) info.me_last_pgno + 1) * ms.ms_psize;
	out->last_txnid = (uint64_t) info.me_last_txnid;
	out->readers_max = info.me_maxreaders;
	out->readers_used = (unsigned) readers;
	out->stale_cleared = dead;
	mdb_env_close(env);
	return PW_OK;
}

pw_status
store_lmdb_backup(const char *dir, const char *dest_dir, uint64_t *last_txnid, char *why,
    size_t why_size)
{
	MDB_env *env = NULL;
	MDB_envinfo info;
	char path[PATH_MAX];
	int rc;
	int n;
	pw_status st;

	PW_ASSERT(dir != NULL && dest_dir != NULL && last_txnid != NULL && why != NULL);
	*last_txnid = 0;
	n = snprintf(path, sizeof(path), "%s/data.mdb", dest_dir);
	if (n < 0 || (size_t) n >= sizeof(path)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "the path %s is too long", dest_dir);
	}
	st = kv_lmdb_side_open(dir, &env, why, why_size);
	if (st != PW_OK) {
		return st;
	}
	/* The copy's own read txn is its snapshot; the id read before it is
	 * a lower bound of what it holds. */
	rc = mdb_env_info(env, &info);
	if (rc == 0) {
		*last_txnid = (uint64_t) info.me_last_txnid;
		rc = mdb_env_copy2(env, dest_dir, MDB_CP_COMPACT);
	}
	mdb_env_close(env);
	if (rc != 0) {
		(void) unlink(path);
		return pw_why(why, why_size, PW_UNAVAILABLE, "LMDB's compacting copy of %s into %s "
		    "failed: %s", dir, dest_dir, mdb_strerror(rc));
	}
	if (chmod(path, 0600) != 0) {
		return pw_why(why, why_size, PW_UNAVAILABLE, "cannot chmod 600 %s: %s", path,
		    strerror(errno));
	}
	return PW_OK;
}

bool
store_lmdb_in_use(const char *dir, long *pid)
{
	char path[PATH_MAX];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	bool in_use = false;
	int fd;
	int n;

	PW_ASSERT(dir != NULL);
	if (pid != NULL) {
		*pid = 0;
	}
	n = snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	if (n < 0 || (size_t) n >= sizeof(path)) {
		return false;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return false; /* no lock file: no environment was ever opened here */
	}
	/* Every process with the environment open holds at least a shared
	 * lock on byte 0 (LMDB's mdb_env_excl_lock / mdb_env_share_locks). */
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
		in_use = true;
		if (pid != NULL) {
			*pid = (long) fl.l_pid;
		}
	}
	(void) close(fd);
	return in_use;
}
