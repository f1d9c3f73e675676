/*
 * kv_lmdb.h - what the LMDB engine (kv_lmdb.c) shows beyond its ops table
 * (store_kv.h): its one error table, for tests. Nothing in store/ but
 * kv_lmdb.c includes it; the domain reaches LMDB only through kv_lmdb_ops.
 *
 * THREADS: any thread. No allocation.
 */
#ifndef PW_KV_LMDB_H
#define PW_KV_LMDB_H

#include "store_kv.h"

/* THE mapping of an LMDB/errno result rc to a pw_status (docs/STORE.md
 * "Error mapping", STYLE.md section 4). Logs mdb_strerror(rc) once with
 * `what` (e.g. "mdb_put") unless the result is an expected answer
 * (MDB_SUCCESS, MDB_NOTFOUND, MDB_KEYEXIST). MDB_CORRUPTED, MDB_PANIC, EIO
 * and MDB_PAGE_NOTFOUND are fatal: env's kv_config.fatal is told (env may be
 * NULL while opening). EINVAL and MDB_BAD_TXN/DBI/RSLOT, MDB_DBS_FULL are
 * bugs: PW_ASSERT fires. Anything not in the table is PW_INTERNAL. Never
 * returns PW_OK for rc != 0. */
pw_status kv_lmdb_status(kv_env *env, int rc, const char *what) PW_WUR;

#endif
