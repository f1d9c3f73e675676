/*
 * kv_pg.h - what the PostgreSQL engine (kv_pg.c) shows beyond its ops table
 * (store_kv.h): its error table and its schema, for tests and tools. Nothing
 * in store/ but kv_pg.c and store_env.c includes it; the domain reaches
 * PostgreSQL only through kv_pg_ops.
 *
 * THREADS: any thread. No allocation.
 */
#ifndef PW_KV_PG_H
#define PW_KV_PG_H

#include "store_kv.h"

/* The schema paywire's tables live in, and the newest layout version this
 * build knows (paywire.schema_migrations, docs/POSTGRES.md "Schema"). */
#define KV_PG_SCHEMA "paywire"
#define KV_PG_SCHEMA_VERSION 1

/* Rows a cursor fetches at a time. */
#define KV_PG_PAGE_ROWS 64

/* Most read connections one engine keeps (one per read txn in flight); a
 * read txn begun when all are busy answers PW_UNAVAILABLE, as LMDB does
 * when its reader slots are full. */
#define KV_PG_READERS_MAX 32

/* After a failed connection attempt, the writer answers PW_UNAVAILABLE at
 * once for this long before it tries to connect again (no hang, no storm of
 * connection attempts against a database that is restarting). */
#define KV_PG_RECONNECT_MS 100

/* How long a writer waits for the writer lock another server holds before
 * its batch answers PW_UNAVAILABLE (PostgreSQL's lock_timeout). */
#define KV_PG_LOCK_TIMEOUT "10s"

/* libpq's connect_timeout (seconds) unless the connection string sets its
 * own: a host that does not answer fails a connection attempt after this. */
#define KV_PG_CONNECT_TIMEOUT_S "3"

/* THE mapping of a PostgreSQL result to a pw_status (docs/POSTGRES.md
 * "Errors", STYLE.md section 4), by SQLSTATE (5 characters, or a 2-character
 * class); sqlstate NULL means the connection is gone (no result). Logs once
 * with `what` unless the result is an answer. Serialization failure,
 * deadlock and unique violation are KV_CONFLICT; data or index corruption is
 * fatal (env's kv_config.fatal is told, env may be NULL). */
pw_status kv_pg_status(kv_env *env, const char *sqlstate, const char *msg, const char *what)
    PW_WUR;

/* True if url names a PostgreSQL database for --store: a postgres:// or
 * postgresql:// URL, or a libpq key=value connection string. */
bool kv_pg_url_is_pg(const char *url);

#endif
