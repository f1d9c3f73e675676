/*
 * store_env.c - the store's environment: the data directory, the key file,
 * the engine (store_kv.h) and the writer thread, opened and closed together;
 * read transactions, last txn id, counts. Engine-neutral: the engine is an
 * ops table (kv_lmdb_ops unless store_open_engine says otherwise).
 */
#include "store_internal.h"

#include "kv_pg.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- tables ---- */

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

size_t
store_writes_waiting(const store *s)
{
	PW_ASSERT(s != NULL);
	return atomic_load_explicit(&((store *) s)->queued_now, memory_order_relaxed);
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
	if (opts->url != NULL && !kv_pg_url_is_pg(opts->url)) {
		pw_log(PW_LOG_ERROR, "store: open: the store must be a postgres:// or postgresql:// "
		    "URL or a libpq key=value connection string");
		return PW_INVALID_ARGUMENT;
	}
	if (opts->url != NULL && strlen(opts->url) > PW_STORE_URL_BYTES_MAX) {
		pw_log(PW_LOG_ERROR, "store: open: the store's connection string is longer than %d "
		    "bytes", PW_STORE_URL_BYTES_MAX);
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
 * directory. */
static pw_status
store_dir_prepare(const char *dir, bool read_only)
{
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
	return PW_OK;
}

/* kv_config.fatal: an I/O error or corruption in the engine. */
static void
store_kv_fatal(void *arg, const char *what)
{
	store_fail(arg, what);
}

/* The engine's configuration for opts (map_size resolved). */
static kv_config
store_kv_config(store *s, const store_opts *opts, uint64_t map_size)
{
	return (kv_config){ .dir = opts->dir, .url = opts->url, .map_size_bytes = map_size, .sync = opts->sync,
		.read_only = opts->read_only, .tables = store_db_names, .n_tables = STORE_DB_COUNT,
		.fatal = store_kv_fatal, .fatal_arg = s };
}

/* The directory, then the key file (created only where the engine holds no
 * data yet), then the engine. */
static pw_status
store_storage_open(store *s, const store_opts *opts, uint64_t map_size)
{
	kv_config cfg = store_kv_config(s, opts, map_size);
	bool data_exists = false;
	pw_status st;

	st = store_dir_prepare(opts->dir, opts->read_only);
	if (st == PW_OK) {
		st = s->kv->probe(&cfg, &data_exists);
	}
	if (st == PW_OK) {
		st = store_keys_load(&s->keys, opts->dir, !opts->read_only && !data_exists,
		    opts->token_secret);
	}
	if (st == PW_OK) {
		st = s->kv->open(&s->env, &cfg);
	}
	PW_ASSERT((st == PW_OK) == (s->env != NULL));
	return st;
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
		s->kv->close(s->env);
	}
	sodium_memzero(&s->keys, sizeof(s->keys));
	store_lu_free(s->lu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->run_mu);
	free(s);
}

pw_status
store_open_engine(store **out, const store_opts *opts, const kv_ops *engine)
{
	uint64_t map_size = 0;
	store *s;
	pw_status st;

	PW_ASSERT(out != NULL && engine != NULL);
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
	pthread_mutex_init(&s->run_mu, NULL);
	{
		/* the writer's timed wait for the next sweep runs on the monotonic clock */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	atomic_init(&s->failed, false);
	pw_hist_init(&s->hist_batch);
	pw_hist_init(&s->hist_commit);
	atomic_init(&s->queued_now, 0);
	atomic_init(&s->writer_delay_ms, 0u);
	atomic_init(&s->audit_index_off, false);
	atomic_init(&s->flat_off, false);
	atomic_init(&s->purge_interval_ms, (unsigned) PW_STORE_PURGE_INTERVAL_MS);
	atomic_init(&s->sweep_interval_ms, (unsigned) PW_STORE_SWEEP_INTERVAL_MS);
	atomic_init(&s->lu_granularity_ms, (unsigned) PW_APIKEY_LASTUSED_GRANULARITY_MS);
	atomic_init(&s->lu_check_ms, (unsigned) PW_APIKEY_LASTUSED_CHECK_MS);
	atomic_init(&s->lu_idle_ms, (unsigned) PW_APIKEY_LASTUSED_IDLE_MS);
	s->kv = engine;
	s->read_only = opts->read_only;
	s->sync = opts->sync;

	st = store_lu_new(&s->lu);
	if (st != PW_OK) {
		store_free(s);
		return st;
	}
	st = store_storage_open(s, opts, map_size);
	if (st == PW_OK && !s->read_only) {
		st = store_writer_spawn(s);
	}
	if (st == PW_OK) {
		st = store_key_check(s);
		if (st != PW_OK) {
			store_close(s);
			return st;
		}
	}
	if (st != PW_OK) {
		store_free(s);
		return st;
	}
	if (opts->url != NULL) {
		pw_log(PW_LOG_INFO, "store: opened the PostgreSQL database (%s, sync %s)",
		    s->read_only ? "read-only" : "read-write",
		    s->sync == STORE_SYNC_FULL ? "full" : s->sync == STORE_SYNC_META ? "meta" : "none");
	} else {
		pw_log(PW_LOG_INFO, "store: opened %s (%s engine, %s, sync %s, map %llu bytes)",
		    opts->dir, engine->name, s->read_only ? "read-only" : "read-write",
		    s->sync == STORE_SYNC_FULL ? "full" : s->sync == STORE_SYNC_META ? "meta" : "none",
		    (unsigned long long) map_size);
	}
	*out = s;
	return PW_OK;
}

bool
store_url_is_postgres(const char *url)
{
	return kv_pg_url_is_pg(url);
}

pw_status
store_open(store **out, const store_opts *opts)
{
	if (opts != NULL && opts->url != NULL) {
		return store_open_engine(out, opts, &kv_pg_ops);
	}
	return store_open_engine(out, opts, &kv_lmdb_ops);
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
store_read_begin(store *s, store_txn *t)
{
	pw_status st;

	PW_ASSERT(s != NULL && t != NULL);
	*t = (store_txn){ .s = s, .txn = NULL, .now_ms = pw_now_unix_ms(), .attempt = 0,
		.read = true, .err = PW_OK };
	st = s->kv->read_begin(s->env, &t->txn);
	PW_ASSERT((st == PW_OK) == (t->txn != NULL));
	return st;
}

void
store_read_end(store_txn *t)
{
	PW_ASSERT(t != NULL && t->read);
	if (t->txn != NULL) {
		t->s->kv->read_end(t->txn);
		t->txn = NULL;
	}
}

uint64_t
store_last_txnid(store *s)
{
	PW_ASSERT(s != NULL);
	return s->kv->last_txnid(s->env);
}

