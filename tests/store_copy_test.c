/*
 * store_copy_test.c - store_copy (store/store_copy.c): moving a store
 * between engines. On the LMDB run: LMDB -> LMDB. On the PostgreSQL run
 * (paywire.store_copy_test.postgres): LMDB -> PostgreSQL -> LMDB, and the
 * two LMDB stores hold exactly the same bytes, table by table. Both runs:
 * the target's audit chain verifies to the source's head, and a target that
 * holds data is refused with nothing written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_fixture.h"
#include "store_internal.h"

/* Every entry of every table of s, as "table key value" records, in order
 * (malloc'd; *len bytes). */
typedef struct t_dump {
	uint8_t *buf;
	size_t len;
	size_t cap;
} t_dump;

static void
t_dump_add(t_dump *d, const void *p, size_t n)
{
	if (d->len + n + 8 > d->cap) {
		d->cap = (d->len + n + 8) * 2;
		d->buf = realloc(d->buf, d->cap);
		assert_non_null(d->buf);
	}
	memcpy(d->buf + d->len, &n, sizeof(n));
	memcpy(d->buf + d->len + sizeof(n), p, n);
	d->len += sizeof(n) + n;
}

static pw_status
t_dump_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	(void) step;
	t_dump_add(arg, key.data, key.len);
	t_dump_add(arg, val.data, val.len);
	return PW_OK;
}

static t_dump
t_dump_store(store *s)
{
	t_dump d = { 0 };
	store_txn t;

	assert_int_equal(PW_OK, store_read_begin(s, &t));
	for (int db = 0; db < STORE_DB_COUNT; db++) {
		t_dump_add(&d, store_db_name((store_db) db), strlen(store_db_name((store_db) db)));
		assert_int_equal(PW_OK, store_scan(&t, (store_db) db, (kv_val){ 0 }, t_dump_visit, &d));
	}
	store_read_end(&t);
	return d;
}

/* Fills e's (LMDB) store: merchants, sessions, their audit records. */
static void
t_fill(fx_env *e)
{
	for (int m = 0; m < 3; m++) {
		char name[32];
		char mid[FX_MERCHANT_ID_BYTES];

		snprintf(name, sizeof(name), "shop %d", m);
		assert_int_equal(PW_OK, fx_merchant_add(e->s, name, PAYWIRE__STORE__V1__MODE__MODE_TEST,
		    mid, sizeof(mid)));
		for (int i = 0; i < 40; i++) {
			store_session_params req = { 0 };
			fx_session c = { .merchant_id = mid, .req = &req, .base = NULL };

			req.amount_minor = 100 + i;
			req.currency = "EUR";
			req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
			c.hash[0] = (uint8_t) m;
			c.hash[1] = (uint8_t) i;
			assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
			fx_session_free(&c);
		}
	}
}

static int
t_setup(void **state)
{
	/* The source is always LMDB: the fixture's PostgreSQL database (on the
	 * .postgres run) is the middle of the round trip. */
	const fx_cfg cfg = { .name = "store_copy", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_NONE };
	fx_env *e;

	(void) fx_env_setup(state, &cfg);
	e = *state;
	e->opts.url = NULL;
	assert_int_equal(PW_OK, fx_store_open(e));
	t_fill(e);
	return 0;
}

static int
t_teardown(void **state)
{
	return fx_env_teardown(state);
}

/* An LMDB store in <root>/<name> with e's master key. */
static store_opts
t_lmdb_opts(fx_env *e, const char *name, char *dir, size_t dir_size)
{
	store_opts o = e->opts;
	char cmd[512];

	snprintf(dir, dir_size, "%s/%s", e->root, name);
	assert_int_equal(0, mkdir(dir, 0700));
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s/paywire.key'", e->key, dir);
	assert_int_equal(0, system(cmd));
	o.dir = dir;
	o.url = NULL;
	return o;
}

static void
test_round_trip_gives_the_same_records_and_chain(void **state)
{
	fx_env *e = *state;
	char mid_dir[256];
	char end_dir[256];
	store_opts src = e->opts;
	store_opts mid;
	store_opts end;
	store_copy_report r1;
	store_copy_report r2;
	char why[512];
	t_dump a;
	t_dump b;
	store *s;

	fx_store_close(e); /* copy from a stopped store */
	if (fx_pg()) {
		mid = e->opts;
		mid.url = e->url; /* the test case's own PostgreSQL database */
	} else {
		mid = t_lmdb_opts(e, "mid", mid_dir, sizeof(mid_dir));
	}
	end = t_lmdb_opts(e, "end", end_dir, sizeof(end_dir));
	assert_int_equal(PW_OK, store_copy(&src, &mid, &r1, why, sizeof(why)));
	assert_true(r1.audit.ok);
	assert_true(r1.records > 120 + 120); /* sessions, idem entries, audit records, ... */
	assert_int_equal(STORE_DB_COUNT, r1.tables);
	assert_int_equal(PW_OK, store_copy(&mid, &end, &r2, why, sizeof(why)));
	assert_int_equal(r1.records, r2.records);
	assert_true(r2.audit.ok);
	assert_memory_equal(r1.audit.head_hash, r2.audit.head_hash, 32);

	assert_int_equal(PW_OK, store_open(&s, &src));
	a = t_dump_store(s);
	store_close(s);
	assert_int_equal(PW_OK, store_open(&s, &end));
	b = t_dump_store(s);
	store_close(s);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	free(a.buf);
	free(b.buf);
}

static void
test_a_target_with_data_is_refused_and_nothing_written(void **state)
{
	fx_env *e = *state;
	char dir[256];
	store_opts src = e->opts;
	store_opts dst;
	store_copy_report r;
	char why[512];
	t_dump before;
	t_dump after;
	store *s;

	fx_store_close(e);
	if (fx_pg()) {
		dst = e->opts;
		dst.url = e->url;
	} else {
		dst = t_lmdb_opts(e, "dst", dir, sizeof(dir));
	}
	assert_int_equal(PW_OK, store_open(&s, &dst));
	assert_int_equal(PW_OK, fx_merchant_add(s, "already here",
	    PAYWIRE__STORE__V1__MODE__MODE_TEST, NULL, 0));
	before = t_dump_store(s);
	store_close(s);
	assert_int_equal(PW_FAILED_PRECONDITION, store_copy(&src, &dst, &r, why, sizeof(why)));
	assert_non_null(strstr(why, "not empty"));
	assert_int_equal(0, r.records);
	assert_int_equal(PW_OK, store_open(&s, &dst));
	after = t_dump_store(s);
	store_close(s);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.buf, after.buf, before.len);
	free(before.buf);
	free(after.buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_gives_the_same_records_and_chain,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_a_target_with_data_is_refused_and_nothing_written,
		    t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
