/*
 * store_env.c - the LMDB environment: open/close, the one error-mapping
 * table, read transactions, last txn id, counts.
 */
#include "store_internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- databases ---- */

static const char *const store_db_names[STORE_DB_COUNT] = {
#define STORE_XX_NAME(name, str) [STORE_DB_##name] = str,
	STORE_DB_MAP(STORE_XX_NAME)
#undef STORE_XX_NAME
};

const char *
store_db_name(store_db db)
{
	PW_ASSERT(db >= 0 && db < STORE_DB_COUNT);
	return store_db_names[db];
}

/* ---- the error table (STYLE.md section 4) ---- */

typedef enum store_err_kind {
	STORE_ERR_ANSWER = 0, /* an expected answer: not logged */
	STORE_ERR_LOG,        /* an operating error: logged once at warn */
	STORE_ERR_FATAL,      /* I/O error or corruption: logged, store failed */
	STORE_ERR_BUG,        /* we misused LMDB: PW_ASSERT */
} store_err_kind;

static const struct {
	int rc;              /* LMDB or errno result */
	pw_status st;        /* what callers see */
	store_err_kind kind; /* what else happens */
} store_err_map[] = {
	{ MDB_NOTFOUND, PW_NOT_FOUND, STORE_ERR_ANSWER },
	{ MDB_KEYEXIST, PW_ALREADY_EXISTS, STORE_ERR_ANSWER },
	/* Full map: that write (or batch) fails, reads go on (DESIGN.md). */
	{ MDB_MAP_FULL, PW_RESOURCE_EXHAUSTED, STORE_ERR_LOG },
	{ MDB_TXN_FULL, PW_RESOURCE_EXHAUSTED, STORE_ERR_LOG },
	{ ENOMEM, PW_RESOURCE_EXHAUSTED, STORE_ERR_LOG },
	/* Retryable: the condition may clear by itself. */
	{ MDB_READERS_FULL, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ MDB_MAP_RESIZED, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ ENOSPC, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ EDQUOT, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ EAGAIN, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ EBUSY, PW_UNAVAILABLE, STORE_ERR_LOG },
	/* Directory / permission problems (open). */
	{ EACCES, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ EPERM, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ EROFS, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ ENOENT, PW_UNAVAILABLE, STORE_ERR_LOG },
	{ ENOTDIR, PW_UNAVAILABLE, STORE_ERR_LOG },
	/* A key longer than LMDB allows: callers check lengths first. */
	{ MDB_BAD_VALSIZE, PW_INVALID_ARGUMENT, STORE_ERR_LOG },
	/* Not an environment we can use (open). */
	{ MDB_INVALID, PW_INTERNAL, STORE_ERR_LOG },
	{ MDB_VERSION_MISMATCH, PW_INTERNAL, STORE_ERR_LOG },
	{ MDB_INCOMPATIBLE, PW_INTERNAL, STORE_ERR_LOG },
	/* The data can no longer be trusted: stop writing (DESIGN.md). */
	{ MDB_CORRUPTED, PW_INTERNAL, STORE_ERR_FATAL },
	{ MDB_PANIC, PW_INTERNAL, STORE_ERR_FATAL },
	{ MDB_PAGE_NOTFOUND, PW_INTERNAL, STORE_ERR_FATAL },
	{ EIO, PW_INTERNAL, STORE_ERR_FATAL },
	/* Our bugs. */
	{ EINVAL, PW_INTERNAL, STORE_ERR_BUG },
	{ MDB_BAD_TXN, PW_INTERNAL, STORE_ERR_BUG },
	{ MDB_BAD_DBI, PW_INTERNAL, STORE_ERR_BUG },
	{ MDB_BAD_RSLOT, PW_INTERNAL, STORE_ERR_BUG },
	{ MDB_DBS_FULL, PW_INTERNAL, STORE_ERR_BUG },
};

pw_status
store_mdb_status(store *s, int rc, const char *what)
{
	size_t n = sizeof(store_err_map) / sizeof(store_err_map[0]);

	if (rc == MDB_SUCCESS) {
		return PW_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (store_err_map[i].rc != rc) {
			continue;
		}
		switch (store_err_map[i].kind) {
		case STORE_ERR_ANSWER:
			break;
		case STORE_ERR_LOG:
			pw_log(PW_LOG_WARN, "store: %s: %s (%d) -> %s", what, mdb_strerror(rc), rc,
			    pw_status_name(store_err_map[i].st));
			break;
		case STORE_ERR_FATAL:
			pw_log(PW_LOG_ERROR, "store: %s: %s (%d)", what, mdb_strerror(rc), rc);
			if (s != NULL) {
				store_fail(s, what);
			}
			break;
		case STORE_ERR_BUG:
			pw_log(PW_LOG_ERROR, "store: %s: %s (%d): misuse of LMDB", what,
			    mdb_strerror(rc), rc);
			PW_ASSERT(!"LMDB reported a programming error");
			break;
		}
		return store_err_map[i].st;
	}
	pw_log(PW_LOG_ERROR, "store: %s: unmapped result %s (%d) -> INTERNAL", what,
	    mdb_strerror(rc), rc);
	return PW_INTERNAL;
}

void
store_fail(store *s, const char *why)
{
	PW_ASSERT(s != NULL);
	if (!atomic_exchange(&s->failed, true)) {
		pw_log(PW_LOG_ERROR, "store: FAILED (%s): refusing every write from now on; "
		    "restart on a checked environment", why);
	}
}

bool
store_failed(const store *s)
{
	PW_ASSERT(s != NULL);
	return atomic_load(&((store *) s)->failed);
}

/* ---- open ---- */

static pw_status
store_opts_check(const store_opts *opts, uint64_t *map_size)
{
	if (opts == NULL || opts->dir == NULL || opts->dir[0] == '\0') {
		pw_log(PW_LOG_ERROR, "store: open: no data directory given");
		return PW_INVALID_ARGUMENT;
	}
	if (strlen(opts->dir) > PW_STORE_DIR_BYTES_MAX) {
		pw_log(PW_LOG_ERROR, "store: open: data directory path longer than %d bytes",
		    PW_STORE_DIR_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	*map_size = opts->map_size_bytes != 0 ? opts->map_size_bytes : PW_MAP_SIZE_DEFAULT;
	if (*map_size < PW_MAP_SIZE_MIN || *map_size > (uint64_t) SIZE_MAX) {
		pw_log(PW_LOG_ERROR, "store: open: map size %llu bytes is below the minimum %llu",
		    (unsigned long long) *map_size, (unsigned long long) PW_MAP_SIZE_MIN);
		return PW_INVALID_ARGUMENT;
	}
	if (opts->token_secret != NULL && (strlen(opts->token_secret) < PW_TOKEN_SECRET_BYTES_MIN ||
	    strlen(opts->token_secret) > PW_TOKEN_SECRET_BYTES_MAX)) {
		pw_log(PW_LOG_ERROR, "store: open: the token secret must be %d..%d bytes (HS256 "
		    "needs a key at least as long as its 32-byte hash, RFC 7518 3.2)",
		    PW_TOKEN_SECRET_BYTES_MIN, PW_TOKEN_SECRET_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	switch (opts->sync) {
	case STORE_SYNC_FULL:
	case STORE_SYNC_META:
	case STORE_SYNC_NONE:
		return PW_OK;
	}
	pw_log(PW_LOG_ERROR, "store: open: unknown sync mode %d", (int) opts->sync);
	return PW_INVALID_ARGUMENT;
}

/* Creates dir 0700 if missing (not in read-only mode) and checks it is a
 * directory. *data_exists: <dir>/data.mdb is already there. */
static pw_status
store_dir_prepare(const char *dir, bool read_only, bool *data_exists)
{
	char path[PATH_MAX];
	struct stat st;
	int rv;

	if (!read_only) {
		rv = mkdir(dir, 0700);
		if (rv != 0 && errno != EEXIST) {
			pw_log(PW_LOG_ERROR, "store: cannot create data directory %s: %s", dir,
			    strerror(errno));
			return PW_UNAVAILABLE;
		}
	}
	rv = stat(dir, &st);
	if (rv != 0 || !S_ISDIR(st.st_mode)) {
		pw_log(PW_LOG_ERROR, "store: data directory %s: %s", dir,
		    rv != 0 ? strerror(errno) : "not a directory");
		return PW_UNAVAILABLE;
	}
	rv = snprintf(path, sizeof(path), "%s/data.mdb", dir);
	PW_ASSERT(rv > 0 && (size_t) rv < sizeof(path));
	*data_exists = stat(path, &st) == 0;
	return PW_OK;
}

static unsigned
store_env_flags(const store_opts *opts)
{
	/* MDB_NOTLS: reads run on nng's threads and a read txn must not pin a
	 * reader slot to a thread. */
	unsigned flags = MDB_NOTLS;

	switch (opts->sync) {
	case STORE_SYNC_FULL:
		break;
	case STORE_SYNC_META:
		flags |= MDB_NOMETASYNC;
		break;
	case STORE_SYNC_NONE:
		flags |= MDB_NOSYNC;
		break;
	}
	if (opts->read_only) {
		flags |= MDB_RDONLY;
	}
	return flags;
}

/* Opens every named db in one txn; the handles live until mdb_env_close. */
static pw_status
store_dbs_open(store *s)
{
	MDB_txn *txn = NULL;
	unsigned flags = s->read_only ? 0 : MDB_CREATE;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		return store_mdb_status(s, rc, "mdb_txn_begin(open dbs)");
	}
	for (int i = 0; i < STORE_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_db_name((store_db) i), flags, &s->dbi[i]);
		if (rc != 0) {
			pw_log(PW_LOG_ERROR, "store: cannot open database %s", store_db_name((store_db) i));
			mdb_txn_abort(txn);
			return store_mdb_status(s, rc, "mdb_dbi_open");
		}
	}
	/* Commit (even read-only): dbi handles opened in an aborted txn are lost. */
	rc = mdb_txn_commit(txn);
	return store_mdb_status(s, rc, "mdb_txn_commit(open dbs)");
}

static pw_status
store_env_open(store *s, const store_opts *opts, uint64_t map_size)
{
	int rc;
	int dead = 0;

	rc = mdb_env_create(&s->env);
	if (rc != 0) {
		s->env = NULL;
		return store_mdb_status(s, rc, "mdb_env_create");
	}
	rc = mdb_env_set_maxdbs(s->env, STORE_DB_COUNT);
	if (rc == 0) {
		rc = mdb_env_set_mapsize(s->env, (size_t) map_size);
	}
	if (rc == 0) {
		rc = mdb_env_set_maxreaders(s->env, PW_STORE_READERS_MAX);
	}
	if (rc != 0) {
		return store_mdb_status(s, rc, "mdb_env_set_*");
	}
	rc = mdb_env_open(s->env, opts->dir, store_env_flags(opts), 0600);
	if (rc != 0) {
		pw_log(PW_LOG_ERROR, "store: cannot open LMDB environment in %s", opts->dir);
		return store_mdb_status(s, rc, "mdb_env_open");
	}
	/* Free reader slots left by processes that died inside a read txn. */
	rc = mdb_reader_check(s->env, &dead);
	if (rc != 0) {
		return store_mdb_status(s, rc, "mdb_reader_check");
	}
	if (dead > 0) {
		pw_log(PW_LOG_INFO, "store: cleared %d stale reader slot(s)", dead);
	}
	return store_dbs_open(s);
}

/* Starts the writer with every signal blocked, so signals go to the
 * application's own threads. */
static pw_status
store_writer_spawn(store *s)
{
	sigset_t all;
	sigset_t old;
	int rv;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rv = pthread_create(&s->writer, NULL, store_writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rv != 0) {
		pw_log(PW_LOG_ERROR, "store: cannot start the writer thread: %s", strerror(rv));
		return PW_UNAVAILABLE;
	}
	s->writer_started = true;
	return PW_OK;
}

static void
store_free(store *s)
{
	if (s->env != NULL) {
		mdb_env_close(s->env);
	}
	sodium_memzero(&s->keys, sizeof(s->keys));
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

pw_status
store_open(store **out, const store_opts *opts)
{
	uint64_t map_size = 0;
	bool data_exists = false;
	store *s;
	pw_status st;

	PW_ASSERT(out != NULL);
	*out = NULL;
	st = store_opts_check(opts, &map_size);
	if (st != PW_OK) {
		return st;
	}
	if (sodium_init() < 0) {
		pw_log(PW_LOG_ERROR, "store: sodium_init failed");
		return PW_INTERNAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	atomic_init(&s->failed, false);
	atomic_init(&s->writer_delay_ms, 0u);
	atomic_init(&s->purge_interval_ms, (unsigned) PW_STORE_PURGE_INTERVAL_MS);
	s->read_only = opts->read_only;
	s->sync = opts->sync;

	st = store_dir_prepare(opts->dir, opts->read_only, &data_exists);
	if (st == PW_OK) {
		st = store_keys_load(&s->keys, opts->dir, !opts->read_only && !data_exists,
		    opts->token_secret);
	}
	if (st == PW_OK) {
		st = store_env_open(s, opts, map_size);
	}
	if (st == PW_OK && !s->read_only) {
		st = store_writer_spawn(s);
	}
	if (st != PW_OK) {
		store_free(s);
		return st;
	}
	pw_log(PW_LOG_INFO, "store: opened %s (%s, sync %s, map %llu bytes)", opts->dir,
	    s->read_only ? "read-only" : "read-write",
	    s->sync == STORE_SYNC_FULL ? "full" : s->sync == STORE_SYNC_META ? "meta" : "none",
	    (unsigned long long) map_size);
	*out = s;
	return PW_OK;
}

void
store_close(store *s)
{
	if (s == NULL) {
		return;
	}
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->writer_started) {
		/* The writer drains the queue (every queued write is applied,
		 * committed and answered) before it returns. */
		pthread_join(s->writer, NULL);
		s->writer_started = false;
	}
	PW_ASSERT(s->head == NULL && s->queued == 0);
	store_free(s);
}

/* ---- reads ---- */

pw_status
store_read_begin(store *s, MDB_txn **out)
{
	int rc;

	PW_ASSERT(s != NULL && out != NULL);
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, out);
	if (rc != 0) {
		*out = NULL;
		return store_mdb_status(s, rc, "mdb_txn_begin(read)");
	}
	return PW_OK;
}

void
store_read_end(MDB_txn *txn)
{
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
}

uint64_t
store_last_txnid(store *s)
{
	MDB_envinfo info;
	int rc;

	PW_ASSERT(s != NULL);
	rc = mdb_env_info(s->env, &info);
	PW_ASSERT(rc == 0);
	return (uint64_t) info.me_last_txnid;
}

pw_status
store_counts_get(store *s, store_counts *out)
{
	const struct {
		store_db db;     /* counted database */
		size_t offset;   /* its field in store_counts */
	} rows[] = {
		{ STORE_DB_MERCHANTS, offsetof(store_counts, merchants) },
		{ STORE_DB_SESSIONS, offsetof(store_counts, sessions) },
		{ STORE_DB_INVOICES, offsetof(store_counts, invoices) },
		{ STORE_DB_ENTITLEMENTS, offsetof(store_counts, entitlements) },
		{ STORE_DB_EVENTS, offsetof(store_counts, events) },
		{ STORE_DB_AUDIT, offsetof(store_counts, audit) },
		{ STORE_DB_REPLIES, offsetof(store_counts, replies) },
	};
	MDB_txn *txn = NULL;
	MDB_stat ms;
	pw_status st;
	int rc;

	PW_ASSERT(s != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	st = store_read_begin(s, &txn);
	if (st != PW_OK) {
		return st;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rc = mdb_stat(txn, s->dbi[rows[i].db], &ms);
		if (rc != 0) {
			store_read_end(txn);
			return store_mdb_status(s, rc, "mdb_stat");
		}
		memcpy((char *) out + rows[i].offset, &(uint64_t) { ms.ms_entries }, sizeof(uint64_t));
	}
	store_read_end(txn);
	return PW_OK;
}
