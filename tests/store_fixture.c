/*
 * store_fixture.c - the shared store test set-up (store_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <unistd.h>

#include <libpq-fe.h>

#include "store_fixture.h"
#include "store_internal.h"

/* ---- PostgreSQL ---- */

bool
fx_pg(void)
{
	const char *h = getenv("PW_TEST_PG_HOST");

	return h != NULL && h[0] != '\0';
}

/* A connection to the cluster's maintenance database (or db). */
static PGconn *
fx_pg_connect(const char *db)
{
	char conninfo[512];
	PGconn *c;

	snprintf(conninfo, sizeof(conninfo), "host=%s user=postgres dbname=%s",
	    getenv("PW_TEST_PG_HOST"), db);
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		print_error("PostgreSQL test cluster: %s", PQerrorMessage(c));
		fail();
	}
	return c;
}

static void
fx_pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		print_error("%s: %s", sql, PQerrorMessage(c));
		PQclear(r);
		fail();
	}
	PQclear(r);
}

void
fx_pg_terminate(const fx_env *e)
{
	char sql[256];
	PGconn *c = fx_pg_connect("postgres");

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	                           "WHERE datname = '%s'", e->pgdb);
	fx_pg_exec(c, sql);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'",
	    e->pgdb);
	for (int i = 0;; i++) { /* bounded: a hang, not a slow machine, ends it */
		PGresult *r = PQexec(c, sql);
		bool gone = PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "0") == 0;

		PQclear(r);
		if (gone) {
			break;
		}
		if (i >= 60000) {
			print_error("connections to %s still there after 60 s", e->pgdb);
			fail();
		}
		usleep(1000);
	}
	PQfinish(c);
}

/* Creates the test case's own database and points e->opts.url at it. */
static void
fx_pg_create(fx_env *e, const char *name)
{
	static unsigned counter;
	char sql[160];
	PGconn *c;

	snprintf(e->pgdb, sizeof(e->pgdb), "pw_%.24s_%ld_%u", name, (long) getpid(), counter++);
	for (char *p = e->pgdb; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) {
			*p = '_';
		}
	}
	c = fx_pg_connect("postgres");
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", e->pgdb);
	fx_pg_exec(c, sql);
	PQfinish(c);
	snprintf(e->url, sizeof(e->url), "host=%s user=postgres dbname=%s",
	    getenv("PW_TEST_PG_HOST"), e->pgdb);
	e->opts.url = e->url;
}

static void
fx_pg_drop(fx_env *e)
{
	char sql[160];
	PGconn *c;

	if (e->pgdb[0] == '\0') {
		return;
	}
	c = fx_pg_connect("postgres");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", e->pgdb);
	fx_pg_exec(c, sql);
	PQfinish(c);
}

/* Every key and value of every table of e's database, concatenated. */
static uint8_t *
fx_pg_data_read(const fx_env *e, size_t *len)
{
	PGconn *c = fx_pg_connect(e->pgdb);
	PGresult *r;
	uint8_t *buf = NULL;
	size_t n = 0;

	r = PQexec(c, "SELECT tablename FROM pg_tables WHERE schemaname = 'paywire' "
	    "AND tablename <> 'schema_migrations'");
	assert_int_equal(PGRES_TUPLES_OK, PQresultStatus(r));
	for (int i = 0; i < PQntuples(r); i++) {
		char sql[200];
		PGresult *rows;

		snprintf(sql, sizeof(sql), "SELECT k || v FROM paywire.\"%s\"", PQgetvalue(r, i, 0));
		rows = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 1);
		assert_int_equal(PGRES_TUPLES_OK, PQresultStatus(rows));
		for (int j = 0; j < PQntuples(rows); j++) {
			size_t l = (size_t) PQgetlength(rows, j, 0);

			buf = realloc(buf, n + l + 1);
			assert_non_null(buf);
			memcpy(buf + n, PQgetvalue(rows, j, 0), l);
			n += l;
		}
		PQclear(rows);
	}
	PQclear(r);
	PQfinish(c);
	assert_true(n > 0);
	*len = n;
	return buf;
}

/* ---- environment ---- */

static int
fx_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static int64_t
fx_clock_cb(void *arg)
{
	return *(const int64_t *) arg;
}

int
fx_env_setup(void **state, const fx_cfg *cfg)
{
	size_t bytes = cfg->env_bytes != 0 ? cfg->env_bytes : sizeof(fx_env);
	fx_env *e;
	int n;

	PW_ASSERT(cfg->name != NULL && bytes >= sizeof(fx_env));
	PW_ASSERT(cfg->merchant_name == NULL || cfg->open);
	e = calloc(1, bytes);
	assert_non_null(e);
	assert_int_equal(0, pw_common_init());
	n = snprintf(e->root, sizeof(e->root), "/tmp/pw_%s_XXXXXX", cfg->name);
	assert_true(n > 0 && (size_t) n < sizeof(e->root));
	assert_non_null(mkdtemp(e->root));
	snprintf(e->dir, sizeof(e->dir), "%s/data", e->root);
	snprintf(e->key, sizeof(e->key), "%s/paywire.key", e->dir);
	e->opts.dir = e->dir;
	e->opts.map_size_bytes = cfg->map_size_bytes;
	e->opts.sync = cfg->sync;
	e->opts.token_secret = cfg->token_secret;
	if (fx_pg()) {
		fx_pg_create(e, cfg->name);
	}
	if (cfg->clock_t0_ms != 0) {
		e->now_ms = cfg->clock_t0_ms;
		pw_clock_set(fx_clock_cb, &e->now_ms);
	}
	if (cfg->open) {
		assert_int_equal(PW_OK, fx_store_open(e));
	}
	if (cfg->merchant_name != NULL) {
		assert_int_equal(PW_OK, fx_merchant_add(e->s, cfg->merchant_name, cfg->merchant_mode,
		    e->merchant_id, sizeof(e->merchant_id)));
	}
	*state = e;
	return 0;
}

int
fx_env_teardown(void **state)
{
	fx_env *e = *state;

	PW_ASSERT(e != NULL);
	store_close(e->s);
	pw_clock_set(NULL, NULL);
	fx_pg_drop(e);
	nftw(e->root, fx_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(e);
	*state = NULL;
	return 0;
}

pw_status
fx_store_open(fx_env *e)
{
	PW_ASSERT(e->s == NULL);
	pw_status st;

	PW_ASSERT(e->opts.dir == e->dir);
	st = store_open(&e->s, &e->opts);
	if (st == PW_OK && e->now_ms != 0) {
		/* An injected clock jumps: the writer's own sweep would expire
		 * sessions at whatever write comes next. Tests of expiry drive
		 * store_sessions_expire themselves. */
		store_test_set_sweep_interval_ms(e->s, 0);
	}
	return st;
}

void
fx_store_close(fx_env *e)
{
	store_close(e->s);
	e->s = NULL;
}

void
fx_store_reopen(fx_env *e)
{
	fx_store_close(e);
	assert_int_equal(PW_OK, fx_store_open(e));
}

store *
fx_store_new(const fx_env *e)
{
	store *s = NULL;

	assert_int_equal(PW_OK, store_open(&s, &e->opts));
	assert_non_null(s);
	if (e->now_ms != 0) {
		store_test_set_sweep_interval_ms(s, 0); /* as fx_store_open */
	}
	return s;
}

/* ---- merchants ---- */

pw_status
fx_merchant_apply(store_txn *t, void *arg)
{
	fx_merchant *m = arg;

	m->calls++;
	return store_merchant_create(t, m->name, m->mode, &m->rec, m->key, sizeof(m->key));
}

void
fx_merchant_free(fx_merchant *m)
{
	if (m->rec != NULL) {
		paywire__store__v1__merchant_record__free_unpacked(m->rec, NULL);
		m->rec = NULL;
	}
}

pw_status
fx_merchant_add(store *s, const char *name, Paywire__Store__V1__Mode mode, char *id_out, size_t id_size)
{
	fx_merchant m = { .name = name, .mode = mode };
	pw_status st;

	PW_ASSERT(s != NULL && name != NULL);
	PW_ASSERT(id_out == NULL || id_size >= FX_MERCHANT_ID_BYTES);
	st = store_apply_sync(s, fx_merchant_apply, &m);
	if (st == PW_OK && id_out != NULL) {
		PW_ASSERT(m.rec != NULL);
		assert_true(pw_strlcpy(id_out, m.rec->merchant_id, id_size));
	}
	fx_merchant_free(&m);
	return st;
}

/* ---- sessions, events, purge ---- */

pw_status
fx_session_apply(store_txn *t, void *arg)
{
	fx_session *c = arg;
	return store_session_create(t, c->merchant_id, c->req, c->hash, c->base, &c->rec);
}

void
fx_session_free(fx_session *c)
{
	if (c->rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(c->rec, NULL);
		c->rec = NULL;
	}
}

pw_status
fx_webhook_apply(store_txn *t, void *arg)
{
	fx_webhook *a = arg;
	return store_webhook_apply(t, a->ev, &a->res);
}

pw_status
fx_purge_apply(store_txn *t, void *arg)
{
	fx_purge *p = arg;
	return store_expired_purge(t, p->max_scan, &p->deleted);
}

void
fx_never_done(pw_status st, void *arg)
{
	(void) st;
	(void) arg;
	fail_msg("done called for a write that was refused");
}

/* ---- reading back ---- */

uint64_t
fx_audit_ok(store *s)
{
	store_audit_report v;
	uint64_t records;

	assert_int_equal(PW_OK, store_audit_verify(s, &v));
	assert_true(v.ok);
	records = v.records;
	return records;
}

Paywire__Store__V1__EntitlementRecord *
fx_entitlement_get(store *s, const char *id)
{
	Paywire__Store__V1__EntitlementRecord *r = NULL;
	store_txn t;

	assert_int_equal(PW_OK, store_read_begin(s, &t));
	assert_int_equal(PW_OK, store_rec_get(&t, STORE_DB_ENTITLEMENTS, id, strlen(id),
	    &paywire__store__v1__entitlement_record__descriptor, (void **) &r));
	store_read_end(&t);
	assert_non_null(r);
	return r;
}

uint8_t *
fx_data_read(const fx_env *e, size_t *len)
{
	char path[200];
	FILE *f;
	uint8_t *buf;
	long n;

	if (fx_pg()) {
		return fx_pg_data_read(e, len);
	}
	snprintf(path, sizeof(path), "%s/data.mdb", e->dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(0, fseek(f, 0, SEEK_END));
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t) n);
	assert_non_null(buf);
	assert_int_equal((size_t) n, fread(buf, 1, (size_t) n, f));
	fclose(f);
	*len = (size_t) n;
	return buf;
}

bool
fx_data_has(const fx_env *e, const void *needle, size_t len)
{
	size_t n = 0;
	uint8_t *buf = fx_data_read(e, &n);
	bool found = memmem(buf, n, needle, len) != NULL;

	free(buf);
	return found;
}
