/*
 * store_fixture.h - the set-up every store test shares: a private temporary
 * data directory, a store opened on it with the test's options, an optional
 * injected clock and setup merchant, and the small apply callbacks the tests
 * run through store_apply_sync (create a merchant, create a session, apply a
 * webhook event, purge expired entries).
 *
 * Compiled into each tests/store_*_test.c executable (pw_add_test SOURCES);
 * it links paywire_store and cmocka and may read the tables through
 * store_internal.h.
 *
 * THREADS: the fx_env_* / fx_store_* / fx_*_add / fx_audit_* / fx_data_*
 * helpers run on the cmocka test thread and fail the running test with cmocka
 * assertions. The *_apply callbacks run on the store's writer thread (inside
 * store_apply_sync) and only return statuses; fx_never_done fails the test if
 * a writer ever calls it.
 *
 * LIFETIMES: fx_env_setup allocates the env (and creates its directory);
 * fx_env_teardown closes the store, restores the real clock, removes the whole
 * directory and frees the env. Records a callback returns (rec fields) belong
 * to the caller, freed with the matching fx_*_free.
 *
 * LIMITS: paths are bounded by the char arrays below (mkdtemp names are
 * short); merchant ids fit FX_MERCHANT_ID_BYTES.
 */
#ifndef PW_TEST_STORE_FIXTURE_H
#define PW_TEST_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* A merchant id ("mer_" + 44 characters) with its NUL, rounded up. */
#define FX_MERCHANT_ID_BYTES 64

/* What a test's setup asks for. Zero fields mean "no"/"none". */
typedef struct fx_cfg {
	const char *name;               /* temp dir is /tmp/pw_<name>_XXXXXX */
	uint64_t map_size_bytes;        /* store_opts.map_size_bytes */
	store_sync sync;                /* store_opts.sync */
	const char *token_secret;       /* store_opts.token_secret (NULL: derived) */
	bool open;                      /* open the store in setup */
	int64_t clock_t0_ms;            /* != 0: inject a clock reading now_ms, from here */
	const char *merchant_name;      /* != NULL: create this merchant (needs open) */
	Paywire__Store__V1__Mode merchant_mode; /* its mode */
	size_t env_bytes;               /* allocation for a test env that embeds fx_env
	                                   first; 0: sizeof(fx_env) */
} fx_cfg;

/* One test's environment (cmocka *state). */
typedef struct fx_env {
	char root[64];                         /* mkdtemp directory, removed at teardown */
	char dir[128];                         /* root/data: the store's data directory */
	char key[160];                         /* dir/paywire.key: the master key file */
	store_opts opts;                       /* what fx_store_open uses; opts.dir == dir */
	store *s;                              /* the open store or NULL */
	int64_t now_ms;                        /* the injected clock (cfg.clock_t0_ms) */
	char merchant_id[FX_MERCHANT_ID_BYTES]; /* setup merchant, "" when none */
	unsigned seq;                          /* a counter for the test's own ids */
	char pgdb[64];                         /* PostgreSQL run: the test's own database */
	char url[512];                         /* its connection string (opts.url) */
} fx_env;

/* The engine a store test runs on: PostgreSQL when PW_TEST_PG_HOST names the
 * socket directory of a cluster (tests/pg/cluster.sh; ctest's *.postgres
 * runs), LMDB otherwise. Each test case then gets its own database, created
 * at setup and dropped at teardown. */
bool fx_pg(void);

/* PostgreSQL only: ends every connection to the test case's database
 * (pg_terminate_backend) and waits until they are gone. */
void fx_pg_terminate(const fx_env *e);

/* A test case that only makes sense on LMDB calls this first, with why:
 * on PostgreSQL it is skipped (cmocka skip) with the reason printed. */
#define FX_LMDB_ONLY(why)                                                    \
	do {                                                                 \
		if (fx_pg()) {                                               \
			print_message("[ LMDB only ] %s\n", why);          \
			skip();                                              \
		}                                                            \
	} while (0)

/* Body of a cmocka setup: pw_common_init, a fresh directory, then (per cfg)
 * the clock, the open store and the merchant. *state receives the env
 * (cfg->env_bytes zeroed bytes, fx_env first). Always returns 0; a failure
 * fails the test. */
int fx_env_setup(void **state, const fx_cfg *cfg);

/* Body of a cmocka teardown: closes e->s if open, restores the real clock,
 * removes root and everything below it, frees the env. Returns 0. */
int fx_env_teardown(void **state);

/* Opens e->s with e->opts (e->s must be NULL). Returns store_open's status;
 * e->s stays NULL on failure. */
pw_status fx_store_open(fx_env *e) PW_WUR;

/* Closes e->s (if open) and sets it to NULL. */
void fx_store_close(fx_env *e);

/* Closes e->s and opens it again with e->opts, asserting PW_OK. */
void fx_store_reopen(fx_env *e);

/* Opens another handle on e's directory with e->opts, asserting PW_OK.
 * The caller closes it (store_close). */
store *fx_store_new(const fx_env *e);

/* ---- merchants ---- */

typedef struct fx_merchant {
	const char *name;                 /* in */
	Paywire__Store__V1__Mode mode;           /* in */
	Paywire__Store__V1__MerchantRecord *rec; /* out: caller frees (fx_merchant_free) */
	char key[128];                    /* out: raw API key */
	int calls;                        /* apply calls */
} fx_merchant;

/* Apply callback: store_merchant_create(name, mode) into rec and key. */
pw_status fx_merchant_apply(store_txn *t, void *arg);

/* Frees m->rec (if any) and sets it to NULL. */
void fx_merchant_free(fx_merchant *m);

/* Creates a merchant through store_apply_sync and returns its status; on
 * PW_OK copies its id into id_out (when not NULL; id_size >=
 * FX_MERCHANT_ID_BYTES). Nothing is left to free. */
pw_status fx_merchant_add(store *s, const char *name, Paywire__Store__V1__Mode mode, char *id_out,
    size_t id_size) PW_WUR;

/* ---- sessions ---- */

typedef struct fx_session {
	const char *merchant_id;                      /* in */
	const store_session_params *req; /* in */
	uint8_t hash[32];                             /* in: request hash */
	const char *base;                             /* in: checkout URL base or NULL */
	Paywire__Store__V1__SessionRecord *rec;              /* out: caller frees (fx_session_free) */
} fx_session;

/* Apply callback: store_session_create(merchant_id, req, hash, base) into rec. */
pw_status fx_session_apply(store_txn *t, void *arg);

/* Frees c->rec (if any) and sets it to NULL. */
void fx_session_free(fx_session *c);

/* ---- webhook events, purge ---- */

typedef struct fx_webhook {
	const pw_event *ev;       /* in */
	store_webhook_result res; /* out */
} fx_webhook;

/* Apply callback: store_webhook_apply(ev) into res. */
pw_status fx_webhook_apply(store_txn *t, void *arg);

typedef struct fx_purge {
	size_t max_scan; /* in: entries examined per db (> 0) */
	size_t deleted;  /* out */
} fx_purge;

/* Apply callback: store_expired_purge(max_scan) into deleted. */
pw_status fx_purge_apply(store_txn *t, void *arg);

/* Done callback for a write that must be refused: fails the test if called. */
void fx_never_done(pw_status st, void *arg);

/* ---- reading back ---- */

/* Asserts the audit chain verifies; returns its number of records. */
uint64_t fx_audit_ok(store *s);

/* The entitlement record id, read straight from its table (asserting it exists).
 * Caller frees (paywire__store__v1__entitlement_record__free_unpacked). */
Paywire__Store__V1__EntitlementRecord *fx_entitlement_get(store *s, const char *id);

/* Everything e's engine stored (malloc'd, caller frees), its size in *len:
 * LMDB's data.mdb, or on PostgreSQL every key and value of every table. */
uint8_t *fx_data_read(const fx_env *e, size_t *len);

/* True when what e's engine stored contains the len bytes at needle. */
bool fx_data_has(const fx_env *e, const void *needle, size_t len);

#endif
