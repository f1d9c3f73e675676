/*
 * kv_pg.c - the PostgreSQL engine (store_kv.h): one table per named table
 * (k bytea primary key, v bytea) in the schema "paywire", reached through
 * libpq. The only file of paywire that calls libpq. docs/POSTGRES.md.
 *
 * Connections: one for the writer (batches, created at open), and a pool of
 * up to KV_PG_READERS_MAX for read transactions (one per read txn in flight,
 * kept for the next). A connection that broke is dropped and replaced by
 * the next transaction that needs one, so a server reconnects by itself
 * after the database restarts or fails over; while it cannot connect, every
 * transaction answers PW_UNAVAILABLE at once.
 *
 * Transactions: a batch is a SERIALIZABLE transaction (docs/POSTGRES.md
 * "Isolation" says why that is enough for every promise of the domain), a
 * nested txn a savepoint, a read txn a REPEATABLE READ READ ONLY transaction
 * (one snapshot). Serialization failures, deadlocks and unique violations
 * are KV_CONFLICT: the writer re-runs the batch.
 *
 * Statements are prepared per connection on first use, parameters and
 * results travel in binary (bytea as raw bytes). A kv_txn of a read lives in
 * its connection, the batch and its nested txn in the env (one batch at a
 * time, from the writer thread only).
 */
#include "kv_pg.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "kv_cache.h"
#include "pw_limits.h"

/* bytea's and bytea[]'s type oids (pg_type.dat) */
#define KV_PG_BYTEA_OID 17
#define KV_PG_BYTEA_ARRAY_OID 1001

/* "SELECT pg_advisory_xact_lock(...)": the key of the migration lock, the
 * bytes "paywire\0" read as a big-endian integer. */
#define KV_PG_MIGRATE_LOCK "8095501862412526848"

/* The writer lock: a session-level advisory lock every server's writer
 * holds from the begin of a batch to its commit, so the writers of several
 * servers take turns as LMDB's writers do (docs/POSTGRES.md "Isolation").
 * The bytes "paywire\1". */
#define KV_PG_WRITER_LOCK "8095501862412526849"

/* ---- statements ---- */

typedef enum kv_pg_op {
	KV_PG_GET = 0,
	KV_PG_INSERT,
	KV_PG_UPSERT,
	KV_PG_DEL,
	KV_PG_SEEK,
	KV_PG_NEXT,
	KV_PG_COUNT,
	KV_PG_INSERT_NEW,
	KV_PG_OP_COUNT,
} kv_pg_op;

/* One statement per op: head, the qualified table name, tail. */
static const struct {
	const char *head; /* before the table name */
	const char *tail; /* after it */
	int nparams;      /* bytea parameters */
} kv_pg_sql[KV_PG_OP_COUNT] = {
	[KV_PG_GET] = { "SELECT v FROM ", " WHERE k = $1", 1 },
	[KV_PG_INSERT] = { "INSERT INTO ", " (k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING", 2 },
	[KV_PG_UPSERT] = { "INSERT INTO ", " (k, v) VALUES ($1, $2) "
			   "ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v", 2 },
	[KV_PG_DEL] = { "DELETE FROM ", " WHERE k = $1", 1 },
	[KV_PG_SEEK] = { "SELECT k, v FROM ", " WHERE k >= $1 ORDER BY k LIMIT 64", 1 },
	[KV_PG_NEXT] = { "SELECT k, v FROM ", " WHERE k > $1 ORDER BY k LIMIT 64", 1 },
	[KV_PG_COUNT] = { "SELECT count(*) FROM ", "", 0 },
	/* a key the batch knows is new: an existing one fails the batch with a
	 * unique violation (KV_CONFLICT), never overwrites */
	[KV_PG_INSERT_NEW] = { "INSERT INTO ", " (k, v) VALUES ($1, $2)", 2 },
};
_Static_assert(KV_PG_PAGE_ROWS == 64, "the LIMIT of KV_PG_SEEK and KV_PG_NEXT");
_Static_assert(KV_PG_OP_COUNT <= 8, "one bit per op in kv_pg_conn.prepared");

/* ---- handles ---- */

typedef enum kv_pg_kind {
	KV_PG_READ = 0,
	KV_PG_BATCH,
	KV_PG_NEST,
} kv_pg_kind;

typedef struct kv_pg_conn kv_pg_conn;

struct kv_txn {
	kv_env *env;       /* the engine */
	kv_pg_conn *c;     /* the connection it runs on */
	kv_pg_kind kind;   /* read, batch or nested */
	bool open;         /* begun and not yet ended */
	bool wrote;        /* a put or del changed a row (a nested txn's, once
	                      committed, counts for its batch) */
	bool begun;        /* a read: its BEGIN was sent (with its first op) */
	bool sp;           /* a nested txn: its SAVEPOINT was sent (with its first
	                      statement that writes: kv_pg_nest_sp) */
	PGresult **res;    /* results whose bytes were returned (gets): freed at
	                      the next write or at the end */
	size_t n_res;      /* in res */
	size_t cap_res;    /* res's capacity */
	unsigned char *buf; /* a value being written (put's fill) */
	size_t cap_buf;    /* its capacity */
};

struct kv_pg_conn {
	PGconn *pg;                       /* NULL: not connected */
	uint8_t prepared[KV_TABLES_MAX];  /* bit (1 << op) once prepared here */
	bool broken;                      /* drop it: it failed or reached a standby */
	bool piped;                       /* in pipeline mode (the writer's connection) */
	uint8_t *pend;                    /* piped: what was sent and not yet read, in order */
	size_t npend;                     /* in pend */
	size_t cap_pend;                  /* pend's capacity */
	pw_status perr;                   /* piped: the first failure read in this batch */
	bool answered;                    /* piped: a statement of this batch was answered */
	kv_pg_conn *next;                 /* in the free pool */
	kv_txn txn;                       /* its read txn (readers) */
};

struct kv_env {
	char *url;                               /* the connection string (never logged) */
	size_t n_tables;                         /* tables */
	char qname[KV_TABLES_MAX][64];           /* "paywire"."<name>" */
	store_sync sync;                         /* synchronous_commit of the writer */
	bool read_only;                          /* no writer connection */
	kv_fatal_fn fatal;                       /* told of corruption */
	void *fatal_arg;                         /* its argument */
	kv_pg_conn writer;                       /* the writer's connection */
	int64_t writer_retry_mono_ms;            /* no connection attempt before this */
	kv_txn batch;                            /* the batch (writer thread) */
	kv_txn nest;                             /* its nested txn */
	kv_cache *cache;                         /* what the batch read and wrote
	                                            (kv_cache.h; writer thread) */
	bool strict;                             /* the last batch conflicted: this
	                                            one checks KV_PUT_FRESH keys
	                                            before answering (writer thread) */
	pthread_mutex_t mu;                      /* guards free, n_readers */
	kv_pg_conn *free;                        /* idle read connections */
	unsigned n_readers;                      /* read connections existing */
	_Atomic uint64_t txnid;                  /* the commits sequence, as last read */
};

struct kv_cursor {
	kv_txn *txn;                          /* its txn */
	unsigned table;                       /* its table */
	PGresult *page;                       /* the rows fetched last, or NULL */
	int row;                              /* position in page */
	unsigned char last[KV_KEY_BYTES_MAX]; /* the page's last key (for the next page) */
	size_t last_len;                      /* its length */
};

/* ---- the error table (STYLE.md section 4) ---- */

typedef enum kv_pg_err_kind {
	KV_PG_ANSWER = 0, /* an expected answer (a conflict): not logged here */
	KV_PG_LOG,        /* an operating error: logged once at warn */
	KV_PG_DROP,       /* logged; the connection is dropped and made again
	                     (a standby answered: reconnect finds the primary) */
	KV_PG_FATAL,      /* corruption: logged, the store fails */
} kv_pg_err_kind;

/* By SQLSTATE: a 5-character code, or a 2-character class; the first row
 * that matches wins (codes before their class). */
static const struct {
	const char *code;     /* SQLSTATE or class */
	pw_status st;         /* what callers see */
	kv_pg_err_kind kind;  /* what else happens */
} kv_pg_err_map[] = {
	/* Another transaction committed first: re-run the batch. */
	{ "40001", KV_CONFLICT, KV_PG_ANSWER }, /* serialization_failure */
	{ "40P01", KV_CONFLICT, KV_PG_ANSWER }, /* deadlock_detected */
	{ "23505", KV_CONFLICT, KV_PG_ANSWER }, /* unique_violation (concurrent insert) */
	/* The database cannot take it now: retryable. */
	{ "53100", PW_UNAVAILABLE, KV_PG_LOG },       /* disk_full (LMDB: ENOSPC) */
	{ "53300", PW_UNAVAILABLE, KV_PG_DROP },      /* too_many_connections */
	{ "53", PW_RESOURCE_EXHAUSTED, KV_PG_LOG },   /* out of memory, other resources */
	{ "54", PW_RESOURCE_EXHAUSTED, KV_PG_LOG },   /* program_limit_exceeded */
	{ "08", PW_UNAVAILABLE, KV_PG_DROP },         /* connection_exception */
	{ "57P", PW_UNAVAILABLE, KV_PG_DROP },        /* admin/crash shutdown, starting up */
	{ "57", PW_UNAVAILABLE, KV_PG_LOG },          /* query_canceled (statement_timeout) */
	{ "25006", PW_UNAVAILABLE, KV_PG_DROP },      /* read_only_sql_transaction: a standby */
	{ "40003", PW_UNAVAILABLE, KV_PG_DROP },      /* statement_completion_unknown */
	{ "58", PW_UNAVAILABLE, KV_PG_LOG },          /* system_error: I/O on the server */
	{ "55P03", PW_UNAVAILABLE, KV_PG_LOG },       /* lock_not_available (lock_timeout) */
	{ "28", PW_UNAVAILABLE, KV_PG_DROP },         /* invalid authorization */
	{ "3D000", PW_UNAVAILABLE, KV_PG_DROP },      /* no such database */
	/* The data can no longer be trusted: stop writing (DESIGN.md). */
	{ "XX001", PW_INTERNAL, KV_PG_FATAL },        /* data_corrupted */
	{ "XX002", PW_INTERNAL, KV_PG_FATAL },        /* index_corrupted */
};

pw_status
kv_pg_status(kv_env *env, const char *sqlstate, const char *msg, const char *what)
{
	size_t n = sizeof(kv_pg_err_map) / sizeof(kv_pg_err_map[0]);
	char line[256];
	size_t len;

	/* libpq's messages end in a newline and may span lines: log one line. */
	snprintf(line, sizeof(line), "%s", msg != NULL ? msg : "(no message)");
	for (len = 0; line[len] != '\0'; len++) {
		if (line[len] == '\n' || line[len] == '\t') {
			line[len] = line[len + 1] == '\0' ? '\0' : ' ';
		}
	}
	if (sqlstate == NULL) {
		pw_log(PW_LOG_WARN, "store: %s: no answer from PostgreSQL: %s -> UNAVAILABLE", what,
		    line);
		return PW_UNAVAILABLE;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(kv_pg_err_map[i].code, sqlstate, strlen(kv_pg_err_map[i].code)) != 0) {
			continue;
		}
		switch (kv_pg_err_map[i].kind) {
		case KV_PG_ANSWER:
			pw_log(PW_LOG_DEBUG, "store: %s: %s (%s) -> %s", what, line, sqlstate,
			    pw_status_name(kv_pg_err_map[i].st));
			break;
		case KV_PG_LOG:
		case KV_PG_DROP:
			pw_log(PW_LOG_WARN, "store: %s: %s (%s) -> %s", what, line, sqlstate,
			    pw_status_name(kv_pg_err_map[i].st));
			break;
		case KV_PG_FATAL:
			pw_log(PW_LOG_ERROR, "store: %s: %s (%s)", what, line, sqlstate);
			if (env != NULL) {
				env->fatal(env->fatal_arg, what);
			}
			break;
		}
		return kv_pg_err_map[i].st;
	}
	pw_log(PW_LOG_ERROR, "store: %s: unmapped result %s (%s) -> INTERNAL", what, line,
	    sqlstate);
	return PW_INTERNAL;
}

/* Whether the row of kv_pg_err_map for sqlstate asks to drop the connection. */
static bool
kv_pg_drops(const char *sqlstate)
{
	size_t n = sizeof(kv_pg_err_map) / sizeof(kv_pg_err_map[0]);

	if (sqlstate == NULL) {
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(kv_pg_err_map[i].code, sqlstate, strlen(kv_pg_err_map[i].code)) == 0) {
			return kv_pg_err_map[i].kind == KV_PG_DROP;
		}
	}
	return false;
}

bool
kv_pg_url_is_pg(const char *url)
{
	if (url == NULL) {
		return false;
	}
	return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0 ||
	    strchr(url, '=') != NULL;
}

/* ---- connections ---- */

/* PostgreSQL's notices ("relation ... already exists, skipping") go to the
 * debug log, not to stderr. */
static void
kv_pg_notice(void *arg, const char *message)
{
	(void) arg;
	pw_log(PW_LOG_DEBUG, "store: PostgreSQL notice: %.*s", (int) strcspn(message, "\n"),
	    message);
}

/* Connects c (c->pg NULL) to env's database. PW_UNAVAILABLE with the reason
 * logged when it cannot. */
static pw_status
kv_pg_connect(kv_env *e, kv_pg_conn *c, const char *role)
{
	/* Later keywords override earlier ones, and dbname is expanded from the
	 * connection string: what the operator's string sets wins. */
	const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *const vals[] = { KV_PG_CONNECT_TIMEOUT_S, "paywire-server", e->url, NULL };
	pw_status st = PW_OK;

	PW_ASSERT(c->pg == NULL);
	memset(c->prepared, 0, sizeof(c->prepared));
	c->broken = false;
	c->pg = PQconnectdbParams(keys, vals, 1);
	if (c->pg == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		st = kv_pg_status(e, NULL, PQerrorMessage(c->pg), role);
		PQfinish(c->pg);
		c->pg = NULL;
		return st;
	}
	PQsetNoticeProcessor(c->pg, kv_pg_notice, NULL);
	return PW_OK;
}

static void
kv_pg_disconnect(kv_pg_conn *c)
{
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->broken = false;
	c->piped = false;
	c->npend = 0;
	c->perr = PW_OK;
}

/* The status of res (which may be NULL) for a command expected to end as
 * `want`; marks c broken when the connection is gone or must be dropped.
 * Does not clear res. */
static pw_status
kv_pg_check(kv_env *e, kv_pg_conn *c, const PGresult *res, ExecStatusType want,
    const char *what)
{
	const char *state;
	pw_status st;

	if (res != NULL && PQresultStatus(res) == want) {
		return PW_OK;
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL && res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR &&
	    PQstatus(c->pg) == CONNECTION_OK) {
		pw_log(PW_LOG_ERROR, "store: %s: unexpected result %s", what,
		    PQresStatus(PQresultStatus(res)));
		return PW_INTERNAL;
	}
	st = kv_pg_status(e, state, res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(c->pg),
	    what);
	if (PQstatus(c->pg) != CONNECTION_OK || kv_pg_drops(state)) {
		c->broken = true;
	}
	return st;
}

/* Runs statements without parameters whose rows are not needed (BEGIN,
 * SAVEPOINT, ...). */
static pw_status
kv_pg_cmd(kv_env *e, kv_pg_conn *c, const char *sql, const char *what)
{
	PGresult *res = PQexec(c->pg, sql);
	pw_status st = kv_pg_check(e, c, res, res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK ?
	    PGRES_TUPLES_OK : PGRES_COMMAND_OK, what);

	PQclear(res);
	return st;
}

/* ---- pipelines ----
 *
 * Every connection but the one migrations use is in libpq's pipeline mode.
 * A read sends its BEGIN with its first op. On the writer's connection: a statement whose
 * answer the domain does not need (SAVEPOINT, RELEASE, an overwriting put,
 * the batch's BEGIN and lock) is sent and not waited for; a statement whose
 * answer it needs (get, insert-only put, del, scans, count, COMMIT) is sent
 * with a sync and everything sent so far is read, in order. A batch then
 * costs about one round trip per read the domain makes, not one per
 * statement. Any failure read (a statement's error, a lost connection) is
 * the batch's: it is kept in perr, every later op of the batch answers it,
 * and the connection is dropped when the batch ends (which rolls it back and
 * gives the writer lock back), so no statement runs after a failure in a
 * state the domain did not see. */

enum { KV_PG_PEND_QUERY = 0, KV_PG_PEND_SYNC = 1 };

/* Records one sent item (ok: libpq took it). */
static void
kv_pg_pipe_sent(kv_env *e, kv_pg_conn *c, int ok, uint8_t kind, const char *what)
{
	if (ok == 1 && c->npend == c->cap_pend) {
		size_t cap = c->cap_pend != 0 ? c->cap_pend * 2 : 64;
		uint8_t *p = realloc(c->pend, cap);

		if (p == NULL) {
			ok = 0;
		} else {
			c->pend = p;
			c->cap_pend = cap;
		}
	}
	if (ok != 1) {
		if (c->perr == PW_OK) {
			c->perr = kv_pg_check(e, c, NULL, PGRES_COMMAND_OK, what);
			if (c->perr == PW_OK || c->perr == PW_INTERNAL) {
				c->perr = PW_UNAVAILABLE;
			}
		}
		c->broken = true;
		return;
	}
	c->pend[c->npend++] = kind;
}

/* Sends sql (no parameters) without waiting for it. */
static void
kv_pg_pipe_cmd(kv_env *e, kv_pg_conn *c, const char *sql, const char *what)
{
	if (!c->broken) {
		kv_pg_pipe_sent(e, c, PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0),
		    KV_PG_PEND_QUERY, what);
	}
}

static void
kv_pg_pipe_sync(kv_env *e, kv_pg_conn *c, const char *what)
{
	if (!c->broken) {
		kv_pg_pipe_sent(e, c, PQpipelineSync(c->pg), KV_PG_PEND_SYNC, what);
	}
}

/* Reads everything sent so far, in order. The result of pending item `want`
 * (SIZE_MAX: none) goes to *out (the caller clears it) when the batch has
 * not failed. Returns c->perr. */
static pw_status
kv_pg_pipe_drain(kv_env *e, kv_pg_conn *c, size_t want, PGresult **out, const char *what)
{
	if (out != NULL) {
		*out = NULL;
	}
	for (size_t i = 0; i < c->npend && !c->broken; i++) {
		PGresult *res = PQgetResult(c->pg);
		ExecStatusType rs = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;

		if (c->pend[i] == KV_PG_PEND_SYNC) {
			if (rs != PGRES_PIPELINE_SYNC) {
				c->perr = c->perr != PW_OK ? c->perr :
				    kv_pg_check(e, c, res, PGRES_PIPELINE_SYNC, what);
				c->broken = true;
			}
			PQclear(res);
			continue;
		}
		if (res == NULL || rs == PGRES_FATAL_ERROR || rs == PGRES_PIPELINE_ABORTED) {
			if (c->perr == PW_OK) {
				c->perr = rs == PGRES_PIPELINE_ABORTED ? PW_INTERNAL :
				    kv_pg_check(e, c, res, PGRES_COMMAND_OK, what);
			}
			if (c->perr == PW_UNAVAILABLE && !c->answered &&
			    PQstatus(c->pg) != CONNECTION_OK) {
				/* The connection was gone before anything of this batch
				 * was answered (the database restarted or failed over
				 * while the writer was idle): nothing of it was kept, so
				 * it is re-run on a new connection, as after a conflict. */
				pw_log(PW_LOG_INFO, "store: a PostgreSQL connection was lost before its "
				    "transaction began: connecting again and running it again");
				c->perr = KV_CONFLICT;
			}
			c->broken = true;
			PQclear(res);
			break;
		}
		c->answered = true;
		if (i == want && out != NULL) {
			*out = res;
		} else {
			PQclear(res);
		}
		/* the NULL that ends this statement's results */
		res = PQgetResult(c->pg);
		if (res != NULL) {
			PQclear(res);
			c->perr = c->perr != PW_OK ? c->perr : PW_INTERNAL;
			c->broken = true;
		}
	}
	c->npend = 0;
	if (c->perr != PW_OK && out != NULL && *out != NULL) {
		PQclear(*out);
		*out = NULL;
	}
	return c->perr;
}

/* ---- schema ---- */

/* The layouts this build knows, oldest first; version i+1 is row i. Each
 * runs once, in the transaction of the migration lock, and is recorded in
 * paywire.schema_migrations. The tables themselves are created (IF NOT
 * EXISTS) at every open from the names the domain passes, so a table a
 * newer domain adds needs no migration of its own. */
static const char *const kv_pg_migrations[KV_PG_SCHEMA_VERSION] = {
	"one key/value table per named table: k bytea primary key (1..511 bytes), v bytea",
};

static pw_status
kv_pg_schema_version(kv_env *e, kv_pg_conn *c, int *out)
{
	PGresult *res = PQexec(c->pg, "SELECT coalesce(max(version), 0) FROM "
	    KV_PG_SCHEMA ".schema_migrations");
	pw_status st = kv_pg_check(e, c, res, PGRES_TUPLES_OK, "schema version");

	if (st == PW_OK) {
		*out = atoi(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return st;
}

/* Creates or upgrades the schema, in one transaction under an advisory
 * lock: several servers starting at once take turns, and the later ones
 * find the work done. */
static pw_status
kv_pg_migrate(kv_env *e, kv_pg_conn *c, const kv_config *cfg)
{
	char sql[512];
	int version = 0;
	pw_status st;

	st = kv_pg_cmd(e, c, "BEGIN", "migrate: begin");
	if (st == PW_OK) {
		PGresult *res = PQexec(c->pg, "SELECT pg_advisory_xact_lock(" KV_PG_MIGRATE_LOCK ")");

		st = kv_pg_check(e, c, res, PGRES_TUPLES_OK, "migrate: lock");
		PQclear(res);
	}
	if (st == PW_OK) {
		st = kv_pg_cmd(e, c, "CREATE SCHEMA IF NOT EXISTS " KV_PG_SCHEMA, "migrate: schema");
	}
	if (st == PW_OK) {
		st = kv_pg_cmd(e, c, "CREATE TABLE IF NOT EXISTS " KV_PG_SCHEMA ".schema_migrations ("
		    "version integer PRIMARY KEY, description text NOT NULL, "
		    "applied_at timestamptz NOT NULL DEFAULT now())", "migrate: migrations table");
	}
	if (st == PW_OK) {
		st = kv_pg_schema_version(e, c, &version);
	}
	if (st == PW_OK && version > KV_PG_SCHEMA_VERSION) {
		pw_log(PW_LOG_ERROR, "store: the database's paywire schema is version %d, newer "
		    "than this build's %d: run a paywire-server at least as new as the one that "
		    "wrote it", version, KV_PG_SCHEMA_VERSION);
		st = PW_INTERNAL;
	}
	for (int v = version + 1; st == PW_OK && v <= KV_PG_SCHEMA_VERSION; v++) {
		const char *params[2];
		char vbuf[16];
		PGresult *res;

		snprintf(vbuf, sizeof(vbuf), "%d", v);
		params[0] = vbuf;
		params[1] = kv_pg_migrations[v - 1];
		res = PQexecParams(c->pg, "INSERT INTO " KV_PG_SCHEMA ".schema_migrations "
		    "(version, description) VALUES ($1::integer, $2)", 2, NULL, params, NULL, NULL, 0);
		st = kv_pg_check(e, c, res, PGRES_COMMAND_OK, "migrate: record");
		PQclear(res);
		if (st == PW_OK) {
			pw_log(PW_LOG_INFO, "store: PostgreSQL schema migrated to version %d (%s)", v,
			    kv_pg_migrations[v - 1]);
		}
	}
	for (size_t i = 0; st == PW_OK && i < cfg->n_tables; i++) {
		snprintf(sql, sizeof(sql), "CREATE TABLE IF NOT EXISTS %s (k bytea PRIMARY KEY "
		    "CHECK (octet_length(k) BETWEEN 1 AND %d), v bytea NOT NULL)", e->qname[i],
		    KV_KEY_BYTES_MAX);
		st = kv_pg_cmd(e, c, sql, "migrate: table");
	}
	if (st == PW_OK) {
		/* last_txnid: moved by every batch that changed something. */
		st = kv_pg_cmd(e, c, "CREATE SEQUENCE IF NOT EXISTS " KV_PG_SCHEMA ".commits",
		    "migrate: commits sequence");
	}
	if (st == PW_OK) {
		st = kv_pg_cmd(e, c, "COMMIT", "migrate: commit");
	} else if (c->pg != NULL) {
		PQclear(PQexec(c->pg, "ROLLBACK"));
	}
	return st;
}

/* A read-only open finds the schema there and not newer than this build. */
static pw_status
kv_pg_schema_check(kv_env *e, kv_pg_conn *c)
{
	int version = 0;
	pw_status st = kv_pg_schema_version(e, c, &version);

	if (st == PW_OK && (version < 1 || version > KV_PG_SCHEMA_VERSION)) {
		pw_log(PW_LOG_ERROR, "store: the database's paywire schema is version %d; this "
		    "build reads version 1..%d", version, KV_PG_SCHEMA_VERSION);
		st = PW_INTERNAL;
	}
	return st;
}

/* ---- open, close ---- */

static pw_status
kv_pg_probe(const kv_config *cfg, bool *exists_out)
{
	kv_env probe = { .url = (char *) cfg->url, .fatal = cfg->fatal, .fatal_arg = cfg->fatal_arg };
	kv_pg_conn c = { .pg = NULL };
	PGresult *res;
	pw_status st;

	PW_ASSERT(cfg != NULL && cfg->url != NULL && exists_out != NULL);
	*exists_out = false;
	st = kv_pg_connect(&probe, &c, "connect(probe)");
	if (st != PW_OK) {
		return st;
	}
	res = PQexec(c.pg, "SELECT to_regclass('" KV_PG_SCHEMA ".schema_migrations') IS NOT NULL");
	st = kv_pg_check(&probe, &c, res, PGRES_TUPLES_OK, "probe");
	if (st == PW_OK) {
		*exists_out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	}
	PQclear(res);
	kv_pg_disconnect(&c);
	return st;
}

static void
kv_pg_txn_free(kv_txn *t)
{
	for (size_t i = 0; i < t->n_res; i++) {
		PQclear(t->res[i]);
	}
	free(t->res);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

static void
kv_pg_close(kv_env *e)
{
	kv_pg_conn *c;

	if (e == NULL) {
		return;
	}
	kv_pg_disconnect(&e->writer);
	free(e->writer.pend);
	while ((c = e->free) != NULL) {
		e->free = c->next;
		kv_pg_disconnect(c);
		kv_pg_txn_free(&c->txn);
		free(c->pend);
		free(c);
		e->n_readers--;
	}
	PW_ASSERT(e->n_readers == 0); /* every read txn ended before close */
	kv_pg_txn_free(&e->batch);
	kv_pg_txn_free(&e->nest);
	kv_cache_free(e->cache);
	pthread_mutex_destroy(&e->mu);
	if (e->url != NULL) {
		sodium_memzero(e->url, strlen(e->url));
		free(e->url);
	}
	free(e);
}

static pw_status
kv_pg_open(kv_env **out, const kv_config *cfg)
{
	kv_pg_conn c = { .pg = NULL };
	kv_env *e;
	pw_status st;

	PW_ASSERT(out != NULL && cfg != NULL && cfg->url != NULL && cfg->fatal != NULL);
	PW_ASSERT(cfg->n_tables > 0 && cfg->n_tables <= KV_TABLES_MAX && cfg->tables != NULL);
	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	pthread_mutex_init(&e->mu, NULL);
	atomic_init(&e->txnid, 0);
	e->url = strdup(cfg->url);
	e->n_tables = cfg->n_tables;
	e->sync = cfg->sync;
	e->read_only = cfg->read_only;
	e->fatal = cfg->fatal;
	e->fatal_arg = cfg->fatal_arg;
	e->cache = cfg->read_only ? NULL : kv_cache_new();
	if (e->url == NULL || (!cfg->read_only && e->cache == NULL)) {
		kv_pg_close(e);
		return PW_RESOURCE_EXHAUSTED;
	}
	for (size_t i = 0; i < cfg->n_tables; i++) {
		int n = snprintf(e->qname[i], sizeof(e->qname[i]), KV_PG_SCHEMA ".\"%s\"",
		    cfg->tables[i]);

		PW_ASSERT(n > 0 && (size_t) n < sizeof(e->qname[i]));
		PW_ASSERT(strchr(cfg->tables[i], '"') == NULL);
	}
	st = kv_pg_connect(e, &c, "connect");
	if (st == PW_OK) {
		st = cfg->read_only ? kv_pg_schema_check(e, &c) : kv_pg_migrate(e, &c, cfg);
	}
	kv_pg_disconnect(&c);
	if (st != PW_OK) {
		pw_log(PW_LOG_ERROR, "store: cannot open the PostgreSQL store");
		kv_pg_close(e);
		return st;
	}
	*out = e;
	return PW_OK;
}

/* ---- transactions ---- */

/* Connects the writer if it is not (at most once per KV_PG_RECONNECT_MS),
 * with its synchronous_commit. */
static pw_status
kv_pg_writer_ready(kv_env *e)
{
	kv_pg_conn *c = &e->writer;
	pw_status st;

	if (c->pg != NULL && !c->broken && PQstatus(c->pg) == CONNECTION_OK) {
		return PW_OK;
	}
	kv_pg_disconnect(c);
	if (pw_monotonic_ms() < e->writer_retry_mono_ms) {
		return PW_UNAVAILABLE;
	}
	st = kv_pg_connect(e, c, "connect(writer)");
	if (st == PW_OK) {
		/* FULL: a commit returns once it is flushed (and, with a
		 * synchronous standby, flushed there too). META and NONE: the
		 * database may lose the last commits in a crash, never corrupts. */
		st = kv_pg_cmd(e, c, e->sync == STORE_SYNC_FULL ? "SET synchronous_commit = on" :
		    "SET synchronous_commit = off", "connect(writer): synchronous_commit");
	}
	if (st == PW_OK) {
		/* A writer that waits for the writer lock longer than this (another
		 * server stuck inside a batch) answers UNAVAILABLE: no hang. */
		st = kv_pg_cmd(e, c, "SET lock_timeout = '" KV_PG_LOCK_TIMEOUT "'",
		    "connect(writer): lock_timeout");
	}
	if (st == PW_OK && PQenterPipelineMode(c->pg) != 1) {
		st = kv_pg_check(e, c, NULL, PGRES_COMMAND_OK, "connect(writer): pipeline mode");
	}
	if (st != PW_OK) {
		kv_pg_disconnect(c);
		e->writer_retry_mono_ms = pw_monotonic_ms() + KV_PG_RECONNECT_MS;
		return st;
	}
	c->piped = true;
	c->perr = PW_OK;
	pw_log(PW_LOG_INFO, "store: writer connected to PostgreSQL");
	return PW_OK;
}

/* Frees the results whose bytes t returned: they die at a write or the end. */
static void
kv_pg_txn_forget(kv_txn *t)
{
	for (size_t i = 0; i < t->n_res; i++) {
		PQclear(t->res[i]);
	}
	t->n_res = 0;
}

/* Keeps res until t's next write or end. */
static pw_status
kv_pg_txn_keep(kv_txn *t, PGresult *res)
{
	if (t->n_res == t->cap_res) {
		size_t cap = t->cap_res != 0 ? t->cap_res * 2 : 8;
		PGresult **r = realloc(t->res, cap * sizeof(*r));

		if (r == NULL) {
			PQclear(res);
			return PW_RESOURCE_EXHAUSTED;
		}
		t->res = r;
		t->cap_res = cap;
	}
	t->res[t->n_res++] = res;
	return PW_OK;
}

/* A read connection, in pipeline mode. */
static pw_status
kv_pg_reader_connect(kv_env *e, kv_pg_conn *c)
{
	pw_status st = kv_pg_connect(e, c, "connect(reader)");

	if (st == PW_OK && PQenterPipelineMode(c->pg) != 1) {
		st = kv_pg_check(e, c, NULL, PGRES_COMMAND_OK, "connect(reader): pipeline mode");
		kv_pg_disconnect(c);
		return st == PW_OK ? PW_UNAVAILABLE : st;
	}
	if (st == PW_OK) {
		c->piped = true;
		c->perr = PW_OK;
	}
	return st;
}

static pw_status
kv_pg_read_begin(kv_env *e, kv_txn **out)
{
	kv_pg_conn *c;
	pw_status st = PW_OK;

	*out = NULL;
	pthread_mutex_lock(&e->mu);
	c = e->free;
	if (c != NULL) {
		e->free = c->next;
	} else if (e->n_readers < KV_PG_READERS_MAX) {
		e->n_readers++;
	} else {
		st = PW_UNAVAILABLE;
	}
	pthread_mutex_unlock(&e->mu);
	if (st != PW_OK) {
		pw_log(PW_LOG_WARN, "store: all %d PostgreSQL read connections are busy",
		    KV_PG_READERS_MAX);
		return st;
	}
	if (c != NULL && c->pg != NULL && c->npend > 0) {
		/* the COMMIT the last read on it sent: a failure drops it */
		c->perr = PW_OK;
		(void) kv_pg_pipe_drain(e, c, SIZE_MAX, NULL, "end(read)");
	}
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		st = c == NULL ? PW_RESOURCE_EXHAUSTED : kv_pg_reader_connect(e, c);
	} else if (c->pg == NULL || c->broken || PQstatus(c->pg) != CONNECTION_OK) {
		kv_pg_disconnect(c);
		st = kv_pg_reader_connect(e, c);
	}
	if (st != PW_OK) {
		/* Keep the slot's memory for the next try, without a connection. */
		pthread_mutex_lock(&e->mu);
		if (c != NULL) {
			kv_pg_disconnect(c);
			c->next = e->free;
			e->free = c;
		} else {
			e->n_readers--;
		}
		pthread_mutex_unlock(&e->mu);
		return st;
	}
	/* Nothing is sent yet: the BEGIN goes with the first op, in its round
	 * trip, and the snapshot is taken there (store_kv.h). */
	c->perr = PW_OK;
	c->answered = false;
	c->txn = (kv_txn){ .env = e, .c = c, .kind = KV_PG_READ, .open = true, .res = c->txn.res,
		.cap_res = c->txn.cap_res, .buf = c->txn.buf, .cap_buf = c->txn.cap_buf };
	*out = &c->txn;
	return PW_OK;
}

static void
kv_pg_read_end(kv_txn *t)
{
	kv_env *e = t->env;
	kv_pg_conn *c = t->c;

	PW_ASSERT(t->open && t->kind == KV_PG_READ);
	kv_pg_txn_forget(t);
	t->open = false;
	/* The COMMIT is sent, not waited for: the next read on this connection
	 * reads its answer first, so the snapshot is released now and a read
	 * costs one round trip per op. */
	if (t->begun && !c->broken) {
		kv_pg_pipe_cmd(e, c, "COMMIT", "end(read)");
		kv_pg_pipe_sync(e, c, "end(read)");
		if (c->broken || PQflush(c->pg) != 0) {
			c->broken = true;
		}
	}
	if (c->broken) {
		kv_pg_disconnect(c);
	}
	pthread_mutex_lock(&e->mu);
	c->next = e->free;
	e->free = c;
	pthread_mutex_unlock(&e->mu);
}

static pw_status
kv_pg_batch_begin(kv_env *e, kv_txn **out)
{
	kv_pg_conn *c = &e->writer;
	kv_txn *t = &e->batch;
	pw_status st;

	PW_ASSERT(!e->read_only && !t->open);
	*out = NULL;
	st = kv_pg_writer_ready(e);
	if (st != PW_OK) {
		return st;
	}
	PW_ASSERT(c->piped && c->npend == 0);
	c->perr = PW_OK;
	c->answered = false;
	/* The writer lock (waiting at most lock_timeout), a sync (the lock is a
	 * session lock, taken in its own implicit transaction), then the
	 * transaction. Its snapshot is taken by its first read, which the
	 * database runs after the lock was granted: it sees every batch
	 * committed before. Nothing is waited for here: a failure (the lock's
	 * timeout, a connection that died meanwhile) is read with the first
	 * answer the batch needs, and fails the batch. */
	kv_pg_pipe_cmd(e, c, "SELECT pg_advisory_lock(" KV_PG_WRITER_LOCK ")", "lock(writer)");
	kv_pg_pipe_sync(e, c, "lock(writer)");
	kv_pg_pipe_cmd(e, c, "BEGIN ISOLATION LEVEL SERIALIZABLE", "begin(batch)");
	if (c->perr != PW_OK) {
		st = c->perr;
		kv_pg_disconnect(c);
		return st;
	}
	t->env = e;
	t->c = c;
	t->kind = KV_PG_BATCH;
	t->open = true;
	t->wrote = false;
	t->n_res = 0;
	*out = t;
	return PW_OK;
}

static void
kv_pg_batch_end(kv_txn *t)
{
	kv_pg_txn_forget(t);
	kv_cache_clear(t->env->cache);
	kv_cache_reclaim(t->env->cache);
	t->open = false;
	if (t->c->perr == KV_CONFLICT) {
		t->env->strict = true; /* the re-run answers every insert exactly */
	}
	if (t->c->broken) {
		/* Rolls back whatever is open and gives the writer lock back. */
		kv_pg_disconnect(t->c);
	}
}

static void kv_pg_flush(kv_txn *t, bool before_end);

static pw_status
kv_pg_batch_commit(kv_txn *t)
{
	kv_env *e = t->env;
	kv_pg_conn *c = t->c;
	bool committed = false;
	PGresult *res = NULL;
	size_t at;
	pw_status st;

	PW_ASSERT(t->open && t->kind == KV_PG_BATCH && !e->nest.open);
	if (c->broken) {
		st = c->perr != PW_OK ? c->perr : PW_UNAVAILABLE;
		kv_pg_batch_end(t);
		return st;
	}
	/* One round trip: a batch that changed something moves the commits
	 * sequence (last_txnid), then COMMIT, then the writer lock is given
	 * back. A sequence is outside the transaction: it never conflicts, and
	 * a commit that then fails leaves it moved ("unchanged" stays exact). */
	kv_pg_flush(t, false);
	if (t->wrote) {
		kv_pg_pipe_cmd(e, c, "SELECT nextval('" KV_PG_SCHEMA ".commits')", "commit(batch)");
	}
	at = c->npend;
	kv_pg_pipe_cmd(e, c, "COMMIT", "commit(batch)");
	kv_pg_pipe_cmd(e, c, "SELECT pg_advisory_unlock(" KV_PG_WRITER_LOCK ")", "unlock(writer)");
	kv_pg_pipe_sync(e, c, "commit(batch)");
	st = kv_pg_pipe_drain(e, c, at, &res, "commit(batch)");
	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
		committed = strcmp(PQcmdStatus(res), "COMMIT") == 0;
		if (!committed) {
			/* "ROLLBACK": the transaction had failed before */
			pw_log(PW_LOG_ERROR, "store: commit(batch): PostgreSQL answered %s",
			    PQcmdStatus(res));
			st = PW_INTERNAL;
			c->broken = true;
		}
	} else if (st == PW_OK) {
		st = PW_INTERNAL;
		c->broken = true;
	}
	PQclear(res);
	/* A connection lost during COMMIT cannot tell whether it committed:
	 * UNAVAILABLE; callers retry with the same request_id, and the stored
	 * reply answers a retry of what did commit. */
	if (committed) {
		e->strict = false;
	} else if (st == KV_CONFLICT) {
		e->strict = true;
	}
	kv_pg_batch_end(t);
	return committed ? PW_OK : st;
}

static void
kv_pg_batch_abort(kv_txn *t)
{
	kv_env *e = t->env;
	kv_pg_conn *c = t->c;

	PW_ASSERT(t->open && t->kind == KV_PG_BATCH && !e->nest.open);
	if (!c->broken) {
		kv_pg_pipe_cmd(e, c, "ROLLBACK", "abort(batch)");
		kv_pg_pipe_cmd(e, c, "SELECT pg_advisory_unlock(" KV_PG_WRITER_LOCK ")",
		    "unlock(writer)");
		kv_pg_pipe_sync(e, c, "abort(batch)");
		(void) kv_pg_pipe_drain(e, c, SIZE_MAX, NULL, "abort(batch)");
	}
	kv_pg_batch_end(t);
}

static pw_status
kv_pg_nest_begin(kv_txn *batch, kv_txn **out)
{
	kv_env *e = batch->env;
	kv_pg_conn *c = batch->c;

	PW_ASSERT(batch->open && batch->kind == KV_PG_BATCH && !e->nest.open);
	*out = NULL;
	kv_pg_txn_forget(batch);
	if (c->broken) {
		return c->perr != PW_OK ? c->perr : PW_UNAVAILABLE;
	}
	/* The SAVEPOINT goes with the first statement that writes (most nested
	 * txns send none: their writes wait in the cache for the commit). */
	kv_cache_mark(e->cache);
	e->nest.sp = false;
	e->nest.env = e;
	e->nest.c = c;
	e->nest.kind = KV_PG_NEST;
	e->nest.open = true;
	e->nest.wrote = false;
	e->nest.n_res = 0;
	*out = &e->nest;
	return PW_OK;
}

static pw_status
kv_pg_nest_commit(kv_txn *t)
{
	kv_pg_conn *c = t->c;

	PW_ASSERT(t->open && t->kind == KV_PG_NEST);
	kv_pg_txn_forget(t);
	t->open = false;
	kv_cache_release(t->env->cache);
	if (t->sp) {
		kv_pg_pipe_cmd(t->env, c, "RELEASE SAVEPOINT kv_nest", "commit(nested)");
	}
	if (c->broken) {
		return c->perr != PW_OK ? c->perr : PW_UNAVAILABLE;
	}
	if (t->wrote) {
		t->env->batch.wrote = true;
	}
	return PW_OK;
}

static void
kv_pg_nest_abort(kv_txn *t)
{
	PW_ASSERT(t->open && t->kind == KV_PG_NEST);
	kv_pg_txn_forget(t);
	t->open = false;
	/* What the nested txn wrote is undone: in the cache (its writes not yet
	 * sent among them) and, if it sent any, in the database. */
	kv_cache_rollback(t->env->cache);
	if (t->sp) {
		kv_pg_pipe_cmd(t->env, t->c, "ROLLBACK TO SAVEPOINT kv_nest", "abort(nested)");
		kv_pg_pipe_cmd(t->env, t->c, "RELEASE SAVEPOINT kv_nest", "abort(nested)");
	}
}

/* ---- statements on a txn ---- */

/* Prepares op on table for t's connection if it is not yet. */
static pw_status
kv_pg_prepare(kv_txn *t, unsigned table, kv_pg_op op, char *name, size_t name_size)
{
	kv_pg_conn *c = t->c;
	const Oid types[2] = { KV_PG_BYTEA_OID, KV_PG_BYTEA_OID };
	char sql[256];
	PGresult *res;
	pw_status st;

	PW_ASSERT(table < t->env->n_tables);
	snprintf(name, name_size, "kv%u_%d", table, (int) op);
	if ((c->prepared[table] & (1u << op)) != 0) {
		return PW_OK;
	}
	snprintf(sql, sizeof(sql), "%s%s%s", kv_pg_sql[op].head, t->env->qname[table],
	    kv_pg_sql[op].tail);
	res = PQprepare(c->pg, name, sql, kv_pg_sql[op].nparams, types);
	st = kv_pg_check(t->env, c, res, PGRES_COMMAND_OK, "prepare");
	PQclear(res);
	if (st == PW_OK) {
		c->prepared[table] |= (uint8_t) (1u << op);
	}
	return st;
}

/* kv_pg_run on the writer's pipeline: prepared on first use, sent; an
 * overwriting put is not waited for (*out NULL), anything else is. */
static pw_status
kv_pg_run_piped(kv_txn *t, unsigned table, kv_pg_op op, const char *const vals[2],
    const int lens[2], bool wait, PGresult **out, const char *what)
{
	const Oid types[2] = { KV_PG_BYTEA_OID, KV_PG_BYTEA_OID };
	const int fmts[2] = { 1, 1 };
	kv_pg_conn *c = t->c;
	char name[32];
	char sql[256];
	size_t at;

	PW_ASSERT(table < t->env->n_tables);
	snprintf(name, sizeof(name), "kv%u_%d", table, (int) op);
	if (t->kind == KV_PG_READ && !t->begun) {
		kv_pg_pipe_cmd(t->env, c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
		    "begin(read)");
		t->begun = true;
	}
	if ((c->prepared[table] & (1u << op)) == 0) {
		snprintf(sql, sizeof(sql), "%s%s%s", kv_pg_sql[op].head, t->env->qname[table],
		    kv_pg_sql[op].tail);
		kv_pg_pipe_sent(t->env, c, PQsendPrepare(c->pg, name, sql, kv_pg_sql[op].nparams,
		    types), KV_PG_PEND_QUERY, "prepare");
		c->prepared[table] |= (uint8_t) (1u << op); /* a failure drops the connection */
	}
	at = c->npend;
	if (!c->broken) {
		kv_pg_pipe_sent(t->env, c, PQsendQueryPrepared(c->pg, name, kv_pg_sql[op].nparams,
		    vals, lens, fmts, 1), KV_PG_PEND_QUERY, what);
	}
	if (!wait || c->broken) {
		return c->perr; /* read with the next answer the batch needs */
	}
	kv_pg_pipe_sync(t->env, c, what);
	return kv_pg_pipe_drain(t->env, c, at, out, what);
}

/* kv_pg_run_piped for a read: a pooled connection the database dropped
 * while it was idle (a restart, a failover) is found with the read's first
 * op, before anything was answered: the read connects again and runs that
 * op (and its BEGIN) once more. Found reading (the drain answers KV_CONFLICT
 * for a connection libpq saw close), sending (on a Unix socket whose peer is
 * gone the send fails: EPIPE), or as the database's own last word on it
 * (57P01, "terminating connection due to administrator command", which a
 * pooled connection reads as its next answer): each marks it broken, with
 * UNAVAILABLE. A read changes nothing, so running it again is safe whatever
 * the dead connection took; a database that is down fails the new connect,
 * and the read answers UNAVAILABLE. */
static pw_status
kv_pg_run_read(kv_txn *t, unsigned table, kv_pg_op op, const char *const vals[2],
    const int lens[2], PGresult **out, const char *what)
{
	bool first = !t->begun;
	pw_status st = kv_pg_run_piped(t, table, op, vals, lens, true, out, what);
	bool gone = st == KV_CONFLICT || (st == PW_UNAVAILABLE && t->c->broken);

	if (gone && first && t->n_res == 0) {
		kv_pg_disconnect(t->c);
		st = kv_pg_reader_connect(t->env, t->c);
		if (st == PW_OK) {
			t->c->answered = false;
			t->begun = false;
			st = kv_pg_run_piped(t, table, op, vals, lens, true, out, what);
		}
		if (st == KV_CONFLICT) {
			st = PW_UNAVAILABLE;
		}
	}
	return st;
}

/* Runs op on table with up to two bytea parameters; *out = its result (the
 * caller clears it) when PW_OK. !wait (the writer's pipeline only): sent and
 * not waited for, PW_OK with *out NULL; a failure is the batch's, read with
 * the next answer it needs. */
static pw_status
kv_pg_run(kv_txn *t, unsigned table, kv_pg_op op, kv_val p0, kv_val p1, bool wait,
    PGresult **out, const char *what)
{
	const char *vals[2] = { p0.data != NULL ? p0.data : "", p1.data != NULL ? p1.data : "" };
	const int lens[2] = { (int) p0.len, (int) p1.len };
	const int fmts[2] = { 1, 1 };
	char name[32];
	PGresult *res;
	pw_status st;

	PW_ASSERT(t != NULL && t->open);
	PW_ASSERT(p0.len <= INT32_MAX && p1.len <= INT32_MAX);
	*out = NULL;
	if (t->c->broken) {
		return t->c->perr != PW_OK ? t->c->perr : PW_UNAVAILABLE;
	}
	PW_ASSERT(wait || (t->kind != KV_PG_READ && t->c->piped));
	if (t->c->piped) {
		return t->kind == KV_PG_READ ? kv_pg_run_read(t, table, op, vals, lens, out, what) :
		    kv_pg_run_piped(t, table, op, vals, lens, wait, out, what);
	}
	st = kv_pg_prepare(t, table, op, name, sizeof(name));
	if (st != PW_OK) {
		return st;
	}
	res = PQexecPrepared(t->c->pg, name, kv_pg_sql[op].nparams, vals, lens, fmts, 1);
	st = kv_pg_check(t->env, t->c, res, op == KV_PG_GET || op == KV_PG_SEEK ||
	    op == KV_PG_NEXT || op == KV_PG_COUNT ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, what);
	if (st != PW_OK) {
		PQclear(res);
		return st;
	}
	*out = res;
	return PW_OK;
}

static void
kv_pg_key_check(kv_val key)
{
	PW_ASSERT(key.data != NULL && key.len > 0 && key.len <= KV_KEY_BYTES_MAX);
}

/* The batch's cache (kv_cache.h), or NULL for a read txn. */
static kv_cache *
kv_pg_cache(const kv_txn *t)
{
	return t->kind == KV_PG_READ ? NULL : t->env->cache;
}

/* A statement that writes is about to be sent in t: a nested txn sends its
 * SAVEPOINT first, once, so that its abort can undo what it sent. */
static void
kv_pg_nest_sp(kv_txn *t)
{
	if (t->kind == KV_PG_NEST && !t->sp) {
		kv_pg_pipe_cmd(t->env, t->c, "SAVEPOINT kv_nest", "begin(nested)");
		t->sp = true;
	}
}

/* kv_cache_dirty_fn: sends one write the batch kept back, not waited for. */
static void
kv_pg_flush_one(void *arg, unsigned table, kv_val key, kv_val val, bool new_key)
{
	kv_txn *t = arg;
	PGresult *res = NULL;

	(void) kv_pg_run(t, table, new_key ? KV_PG_INSERT_NEW : KV_PG_UPSERT, key, val, false, &res,
	    "put");
	PQclear(res);
}

/* Sends every write the batch kept back in its cache (at the commit, and
 * before a scan or a count, which read the database). A plain INSERT for a
 * key the batch inserted (an existing one fails the batch: KV_CONFLICT, see
 * kv_pg_insert_op), an upsert for an overwrite. Each key once, however many
 * times the batch wrote it: one row version per batch, not one per request
 * (a row every request rewrites, the audit head, would otherwise carry a
 * version and a lock per savepoint). */
static void
kv_pg_flush(kv_txn *t, bool before_end)
{
	kv_cache *cache = t->env->cache;

	if (t->c->broken || !kv_cache_has_dirty(cache)) {
		return;
	}
	kv_pg_nest_sp(t);
	kv_cache_each_dirty(cache, kv_pg_flush_one, t, before_end);
}

static pw_status
kv_pg_get(kv_txn *t, unsigned table, kv_val key, kv_val *val)
{
	kv_cache *cache = kv_pg_cache(t);
	PGresult *res;
	pw_status st;

	kv_pg_key_check(key);
	if (cache != NULL && !t->c->broken) {
		switch (kv_cache_get(cache, table, key, val)) {
		case KV_CACHE_PRESENT:
			return PW_OK;
		case KV_CACHE_ABSENT:
			return PW_NOT_FOUND;
		case KV_CACHE_MISS:
			break;
		}
	}
	/* A miss: nothing of this key waits in the cache, so the database
	 * holds what the batch sees. */
	st = kv_pg_run(t, table, KV_PG_GET, key, (kv_val){ 0 }, true, &res, "get");
	if (st != PW_OK) {
		return st;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		if (cache != NULL) {
			(void) kv_cache_set(cache, table, key, NULL, 0, KV_CACHE_SET_ABSENT);
		}
		return PW_NOT_FOUND;
	}
	*val = (kv_val){ .data = PQgetvalue(res, 0, 0), .len = (size_t) PQgetlength(res, 0, 0) };
	if (cache != NULL) {
		(void) kv_cache_set(cache, table, key, val->data, val->len, 0);
	}
	return kv_pg_txn_keep(t, res);
}

/* A write on t: the bytes t returned die (store_kv.h LIFETIMES). */
static void
kv_pg_txn_write(kv_txn *t)
{
	kv_pg_txn_forget(t);
	kv_cache_reclaim(t->env->cache);
}

/* The statement of an insert-only put of key, and whether to wait for it:
 * a key the cache knows is answered without asking (*exists) or kept back as
 * an insert (KV_PG_INSERT_NEW); so is a key the cache does not know when the
 * caller expects it new (KV_PUT_FRESH) and the last batch did not conflict:
 * an existing one then fails the batch at its commit (a unique violation:
 * KV_CONFLICT), and its re-run, strict, asks before answering. Otherwise the
 * put asks (ON CONFLICT DO NOTHING) and waits. */
static kv_pg_op
kv_pg_insert_op(kv_txn *t, unsigned table, kv_val key, unsigned flags, bool *wait, bool *exists)
{
	kv_val v;

	*exists = false;
	*wait = false;
	switch (kv_cache_get(t->env->cache, table, key, &v)) {
	case KV_CACHE_PRESENT:
		*exists = true;
		return KV_PG_INSERT;
	case KV_CACHE_ABSENT:
		return KV_PG_INSERT_NEW;
	case KV_CACHE_MISS:
		break;
	}
	if ((flags & KV_PUT_FRESH) != 0 && !t->env->strict) {
		return KV_PG_INSERT_NEW;
	}
	*wait = true;
	return KV_PG_INSERT;
}

/* A put's status when the connection already failed, else PW_OK. */
static pw_status
kv_pg_broken_status(const kv_txn *t)
{
	if (!t->c->broken) {
		return PW_OK;
	}
	return t->c->perr != PW_OK ? t->c->perr : PW_UNAVAILABLE;
}

static pw_status
kv_pg_put(kv_txn *t, unsigned table, kv_val key, size_t size, unsigned flags, kv_fill_fn fill,
    void *arg)
{
	kv_pg_op op = KV_PG_UPSERT;
	bool wait = false;
	bool exists = false;
	kv_cache_res kept;
	PGresult *res;
	pw_status st;

	kv_pg_key_check(key);
	PW_ASSERT(t->kind != KV_PG_READ && fill != NULL && size <= INT32_MAX);
	kv_pg_txn_write(t);
	st = kv_pg_broken_status(t);
	if (st != PW_OK) {
		return st;
	}
	if ((flags & (KV_PUT_INSERT | KV_PUT_APPEND | KV_PUT_FRESH)) != 0) {
		op = kv_pg_insert_op(t, table, key, flags, &wait, &exists);
		if (exists) {
			return PW_ALREADY_EXISTS;
		}
	}
	if (size > t->cap_buf || t->buf == NULL) {
		size_t cap = size > 256 ? size : 256;
		unsigned char *b = realloc(t->buf, cap);

		if (b == NULL) {
			return PW_RESOURCE_EXHAUSTED;
		}
		t->buf = b;
		t->cap_buf = cap;
	}
	fill(t->buf, size, arg);
	if (!wait) {
		/* Kept back in the cache until the commit (kv_pg_flush); sent now
		 * only when the cache cannot keep it. */
		kept = kv_cache_set(t->env->cache, table, key, t->buf, size, KV_CACHE_SET_DIRTY |
		    (op == KV_PG_INSERT_NEW ? KV_CACHE_SET_NEW : 0u));
		if (kept == KV_CACHE_NOMEM) {
			return PW_RESOURCE_EXHAUSTED;
		}
		t->wrote = true;
		if (kept == KV_CACHE_KEPT) {
			return PW_OK;
		}
	}
	kv_pg_nest_sp(t);
	st = kv_pg_run(t, table, op, key, (kv_val){ .data = t->buf, .len = size }, wait, &res,
	    "put");
	if (st != PW_OK || !wait) {
		return st;
	}
	/* INSERT ... ON CONFLICT DO NOTHING: 0 rows when the key was there. */
	if (strcmp(PQcmdTuples(res), "0") == 0) {
		PQclear(res);
		return PW_ALREADY_EXISTS;
	}
	PQclear(res);
	t->wrote = true;
	(void) kv_cache_set(t->env->cache, table, key, t->buf, size, 0);
	return PW_OK;
}

/* Deletes key; known: the caller saw it in this txn (a cursor's entry), so
 * the answer is not waited for. */
static pw_status
kv_pg_del_key(kv_txn *t, unsigned table, kv_val key, bool known)
{
	PGresult *res = NULL;
	kv_val v;
	pw_status st;

	kv_pg_key_check(key);
	PW_ASSERT(t->kind != KV_PG_READ);
	st = kv_pg_broken_status(t);
	if (st != PW_OK) {
		return st;
	}
	if (!known) {
		switch (kv_cache_get(t->env->cache, table, key, &v)) {
		case KV_CACHE_PRESENT:
			known = true;
			break;
		case KV_CACHE_ABSENT:
			return PW_NOT_FOUND;
		case KV_CACHE_MISS:
			break;
		}
	}
	kv_pg_txn_write(t);
	/* The cache first (a write of this key kept back is dropped), then the
	 * database, which may hold the row. */
	if (kv_cache_set(t->env->cache, table, key, NULL, 0, KV_CACHE_SET_ABSENT) ==
	    KV_CACHE_NOMEM) {
		return PW_RESOURCE_EXHAUSTED;
	}
	kv_pg_nest_sp(t);
	st = kv_pg_run(t, table, KV_PG_DEL, key, (kv_val){ 0 }, !known, &res, "del");
	if (st != PW_OK) {
		return st;
	}
	if (res != NULL && strcmp(PQcmdTuples(res), "0") == 0) {
		st = PW_NOT_FOUND;
	} else {
		t->wrote = true;
	}
	PQclear(res);
	return st;
}

static pw_status
kv_pg_del(kv_txn *t, unsigned table, kv_val key)
{
	return kv_pg_del_key(t, table, key, false);
}

static pw_status
kv_pg_count(kv_txn *t, unsigned table, uint64_t *out)
{
	PGresult *res;
	const unsigned char *p;
	uint64_t n = 0;
	pw_status st;

	if (t->kind != KV_PG_READ) {
		kv_pg_flush(t, true); /* the database counts what the batch kept back too */
	}
	st = kv_pg_run(t, table, KV_PG_COUNT, (kv_val){ 0 }, (kv_val){ 0 }, true, &res, "count");
	if (st != PW_OK) {
		return st;
	}
	/* count(*) is an int8, big-endian in binary results */
	PW_ASSERT(PQntuples(res) == 1 && PQgetlength(res, 0, 0) == 8);
	p = (const unsigned char *) PQgetvalue(res, 0, 0);
	for (int i = 0; i < 8; i++) {
		n = (n << 8) | p[i];
	}
	PQclear(res);
	*out = n;
	return PW_OK;
}

/* Appends v as a big-endian int32 at *p. */
static unsigned char *
kv_pg_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
	return p + 4;
}

/* One statement for keys[0..n): SELECT k, v ... WHERE k = ANY($1), $1 a
 * bytea[] in binary (array_send's layout: ndim, has-null, element oid, then
 * the dimension and lower bound, then each element's length and bytes).
 * Every key found is remembered present with its value, every other absent
 * (kv_cache.h). Keys the cache already knows are not asked. */
static pw_status
kv_pg_prefetch(kv_txn *t, unsigned table, const kv_val *keys, size_t n)
{
	kv_env *e = t->env;
	kv_pg_conn *c = t->c;
	const Oid types[1] = { KV_PG_BYTEA_ARRAY_OID };
	const int fmts[1] = { 1 };
	size_t size = 20;
	size_t m = 0;
	unsigned char *arr;
	unsigned char *p;
	const char *vals[1];
	int lens[1];
	char sql[160];
	PGresult *res = NULL;
	kv_val v;
	size_t at;
	pw_status st;

	PW_ASSERT(t->open && t->kind != KV_PG_READ && table < e->n_tables && c->piped);
	if (c->broken) {
		return c->perr != PW_OK ? c->perr : PW_UNAVAILABLE;
	}
	for (size_t i = 0; i < n; i++) {
		kv_pg_key_check(keys[i]);
		size += 4 + keys[i].len;
	}
	PW_ASSERT(size <= INT32_MAX);
	arr = malloc(size);
	if (arr == NULL) {
		return PW_OK; /* nothing fetched: the gets ask one by one */
	}
	p = arr + 20;
	for (size_t i = 0; i < n; i++) {
		if (kv_cache_get(e->cache, table, keys[i], &v) != KV_CACHE_MISS) {
			continue;
		}
		p = kv_pg_be32(p, (uint32_t) keys[i].len);
		memcpy(p, keys[i].data, keys[i].len);
		p += keys[i].len;
		m++;
	}
	if (m == 0) {
		free(arr);
		return PW_OK;
	}
	(void) kv_pg_be32(kv_pg_be32(kv_pg_be32(kv_pg_be32(kv_pg_be32(arr, 1), 0),
	    KV_PG_BYTEA_OID), (uint32_t) m), 1);
	vals[0] = (const char *) arr;
	lens[0] = (int) (p - arr);
	snprintf(sql, sizeof(sql), "SELECT k, v FROM %s WHERE k = ANY($1)", e->qname[table]);
	kv_pg_txn_forget(t);
	at = c->npend;
	kv_pg_pipe_sent(e, c, PQsendQueryParams(c->pg, sql, 1, types, vals, lens, fmts, 1),
	    KV_PG_PEND_QUERY, "prefetch");
	kv_pg_pipe_sync(e, c, "prefetch");
	st = kv_pg_pipe_drain(e, c, at, &res, "prefetch");
	if (st == PW_OK && res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		for (int r = 0; r < PQntuples(res); r++) {
			(void) kv_cache_set(e->cache, table, (kv_val){ .data = PQgetvalue(res, r, 0),
			    .len = (size_t) PQgetlength(res, r, 0) }, PQgetvalue(res, r, 1),
			    (size_t) PQgetlength(res, r, 1), 0);
		}
		/* the rest are absent: what the cache does not hold yet */
		p = arr + 20;
		for (size_t i = 0; i < m; i++) {
			uint32_t len = ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
			    ((uint32_t) p[2] << 8) | p[3];
			kv_val k = { .data = p + 4, .len = len };

			if (kv_cache_get(e->cache, table, k, &v) == KV_CACHE_MISS) {
				(void) kv_cache_set(e->cache, table, k, NULL, 0, KV_CACHE_SET_ABSENT);
			}
			p += 4 + len;
		}
	} else if (st == PW_OK) {
		st = kv_pg_check(e, c, res, PGRES_TUPLES_OK, "prefetch");
		c->broken = true;
		c->perr = st != PW_OK ? st : PW_INTERNAL;
		st = c->perr;
	}
	PQclear(res);
	free(arr);
	return st;
}

/* The commits sequence, read on a pooled read connection: it counts the
 * batches of every server that changed something. If the database cannot be
 * asked, the last value this engine saw. */
static uint64_t
kv_pg_last_txnid(kv_env *e)
{
	kv_txn *t = NULL;
	PGresult *res = NULL;
	uint64_t v = atomic_load(&e->txnid);
	size_t at;

	if (kv_pg_read_begin(e, &t) != PW_OK) {
		return v;
	}
	at = t->c->npend;
	kv_pg_pipe_cmd(e, t->c, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "
	    KV_PG_SCHEMA ".commits", "last_txnid");
	kv_pg_pipe_sync(e, t->c, "last_txnid");
	if (kv_pg_pipe_drain(e, t->c, at, &res, "last_txnid") == PW_OK && res != NULL &&
	    PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		v = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		atomic_store(&e->txnid, v);
	}
	PQclear(res);
	kv_pg_read_end(t);
	return v;
}

/* ---- cursors ---- */

static pw_status
kv_pg_cursor_open(kv_txn *t, unsigned table, kv_cursor **out)
{
	kv_cursor *cur;

	PW_ASSERT(t != NULL && t->open && table < t->env->n_tables);
	cur = calloc(1, sizeof(*cur));
	if (cur == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	cur->txn = t;
	cur->table = table;
	*out = cur;
	return PW_OK;
}

static void
kv_pg_cursor_close(kv_cursor *cur)
{
	if (cur != NULL) {
		PQclear(cur->page);
		free(cur);
	}
}

/* The entry at cur->row of the page, and remembers the page's last key. */
static pw_status
kv_pg_cursor_at(kv_cursor *cur, kv_val *key_out, kv_val *val_out)
{
	int n = cur->page != NULL ? PQntuples(cur->page) : 0;

	if (cur->row >= n) {
		return PW_NOT_FOUND;
	}
	*key_out = (kv_val){ .data = PQgetvalue(cur->page, cur->row, 0),
		.len = (size_t) PQgetlength(cur->page, cur->row, 0) };
	*val_out = (kv_val){ .data = PQgetvalue(cur->page, cur->row, 1),
		.len = (size_t) PQgetlength(cur->page, cur->row, 1) };
	return PW_OK;
}

/* Fetches the page that starts at key (op SEEK: >=, NEXT: >). */
static pw_status
kv_pg_cursor_fetch(kv_cursor *cur, kv_pg_op op, kv_val key)
{
	PGresult *res;
	pw_status st;
	int n;

	if (cur->txn->kind != KV_PG_READ) {
		kv_pg_flush(cur->txn, true); /* the scan reads what the batch kept back too */
	}
	st = kv_pg_run(cur->txn, cur->table, op, key, (kv_val){ 0 }, true, &res, "cursor");
	if (st != PW_OK) {
		return st;
	}
	PQclear(cur->page);
	cur->page = res;
	cur->row = 0;
	n = PQntuples(res);
	if (n > 0) {
		cur->last_len = (size_t) PQgetlength(res, n - 1, 0);
		PW_ASSERT(cur->last_len > 0 && cur->last_len <= sizeof(cur->last));
		memcpy(cur->last, PQgetvalue(res, n - 1, 0), cur->last_len);
	}
	return PW_OK;
}

static pw_status
kv_pg_cursor_seek(kv_cursor *cur, kv_val key, kv_val *key_out, kv_val *val_out)
{
	pw_status st;

	PW_ASSERT(cur != NULL && key.len <= KV_KEY_BYTES_MAX);
	st = kv_pg_cursor_fetch(cur, KV_PG_SEEK, key);
	return st != PW_OK ? st : kv_pg_cursor_at(cur, key_out, val_out);
}

static pw_status
kv_pg_cursor_next(kv_cursor *cur, kv_val *key_out, kv_val *val_out)
{
	pw_status st;

	PW_ASSERT(cur != NULL && cur->page != NULL);
	cur->row++;
	if (cur->row < PQntuples(cur->page)) {
		return kv_pg_cursor_at(cur, key_out, val_out);
	}
	if (PQntuples(cur->page) < KV_PG_PAGE_ROWS) {
		cur->row = PQntuples(cur->page);
		return PW_NOT_FOUND; /* a short page was the last */
	}
	st = kv_pg_cursor_fetch(cur, KV_PG_NEXT,
	    (kv_val){ .data = cur->last, .len = cur->last_len });
	return st != PW_OK ? st : kv_pg_cursor_at(cur, key_out, val_out);
}

static pw_status
kv_pg_cursor_del(kv_cursor *cur)
{
	unsigned char key[KV_KEY_BYTES_MAX];
	kv_val k;
	kv_val v;
	pw_status st;

	PW_ASSERT(cur != NULL && cur->txn->kind != KV_PG_READ);
	st = kv_pg_cursor_at(cur, &k, &v);
	PW_ASSERT(st == PW_OK); /* deleting where there is no entry is a bug */
	memcpy(key, k.data, k.len);
	st = kv_pg_del_key(cur->txn, cur->table, (kv_val){ .data = key, .len = k.len }, true);
	/* The row was in this txn's snapshot, so it is there unless a
	 * concurrent writer removed it, which SERIALIZABLE reports as a
	 * conflict; NOT_FOUND here would be a bug of the engine. */
	return st;
}

const kv_ops kv_pg_ops = {
	.name = "postgresql",
	.probe = kv_pg_probe,
	.open = kv_pg_open,
	.close = kv_pg_close,
	.read_begin = kv_pg_read_begin,
	.read_end = kv_pg_read_end,
	.batch_begin = kv_pg_batch_begin,
	.batch_commit = kv_pg_batch_commit,
	.batch_abort = kv_pg_batch_abort,
	.nest_begin = kv_pg_nest_begin,
	.nest_commit = kv_pg_nest_commit,
	.nest_abort = kv_pg_nest_abort,
	.get = kv_pg_get,
	.put = kv_pg_put,
	.del = kv_pg_del,
	.cursor_open = kv_pg_cursor_open,
	.cursor_seek = kv_pg_cursor_seek,
	.cursor_next = kv_pg_cursor_next,
	.cursor_del = kv_pg_cursor_del,
	.cursor_close = kv_pg_cursor_close,
	.count = kv_pg_count,
	.prefetch = kv_pg_prefetch,
	.last_txnid = kv_pg_last_txnid,
};
