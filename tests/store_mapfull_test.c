/*
 * store_mapfull_test.c - a tiny map (PW_MAP_SIZE_MIN) filled until LMDB
 * answers MDB_MAP_FULL: the write gets PW_RESOURCE_EXHAUSTED, nothing of it
 * is kept, reads go on, the store is not failed, and what happens next is
 * what docs/STORE.md says.
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
#include <unistd.h>

#include "store_fixture.h"

#define T_BIG_BYTES 8000   /* one overflow record of ~2 pages */
#define T_SMALL_BYTES 16

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_mapfull", .map_size_bytes = PW_MAP_SIZE_MIN,
		.sync = STORE_SYNC_FULL, .open = true };
	return fx_env_setup(state, &cfg);
}

static const uint8_t t_hash0[32];
static uint8_t t_big[T_BIG_BYTES];

/* Puts reply ("fill", rid) of len bytes; answers `ret` whatever the put said
 * when ignore_error (an apply that forgets to check). */
typedef struct t_put {
	char rid[32];      /* request id */
	size_t len;        /* value size */
	bool ignore_error; /* return PW_OK even if the put failed */
	pw_status put_st;  /* what the put said */
} t_put;

static pw_status
t_put_apply(store_txn *t, void *arg)
{
	t_put *p = arg;
	p->put_st = store_reply_put(t, "fill", p->rid, t_hash0, t_big, p->len);
	return p->ignore_error ? PW_OK : p->put_st;
}

/* Fills the map with big records; returns how many were stored. */
static int
t_fill(fx_env *e)
{
	t_put p = { .len = T_BIG_BYTES };
	uint64_t txnid;
	pw_status st = PW_OK;
	int ok = 0;

	for (int i = 0; i < 1000; i++) {
		snprintf(p.rid, sizeof(p.rid), "big-%04d", i);
		txnid = store_last_txnid(e->s);
		st = store_apply_sync(e->s, t_put_apply, &p);
		if (st != PW_OK) {
			assert_int_equal(txnid, store_last_txnid(e->s));
			break;
		}
		ok++;
	}
	assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
	return ok;
}

static void
test_full_map_answers_resource_exhausted_and_reads_go_on(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	Paywire__Store__V1__Mode mode;
	store_counts c;
	char mid[64];
	int stored;

	memset(t_big, 0x5a, sizeof(t_big));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	stored = t_fill(e);
	assert_true(stored > 10);
	print_message("map of %llu bytes: %d records of %d bytes before MAP_FULL\n",
	    (unsigned long long) PW_MAP_SIZE_MIN, stored, T_BIG_BYTES);
	assert_false(store_failed(e->s));
	/* reads go on */
	assert_int_equal(PW_OK, store_apikey_auth(e->s, m.key, mid, sizeof(mid), &mode));
	assert_string_equal(m.rec->merchant_id, mid);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(stored, c.replies);
	fx_audit_ok(e->s);
	/* a second big write fails the same way: the condition persists */
	t_put p = { .len = T_BIG_BYTES };
	strcpy(p.rid, "big-again");
	assert_int_equal(PW_RESOURCE_EXHAUSTED, store_apply_sync(e->s, t_put_apply, &p));
	/* what survives a restart is exactly what was acknowledged */
	fx_store_reopen(e);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(stored, c.replies);
	paywire__store__v1__merchant_record__free_unpacked(m.rec, NULL);
}

static void
test_apply_ignoring_a_full_map_is_rolled_back_anyway(void **state)
{
	fx_env *e = *state;
	t_put p = { .len = T_BIG_BYTES, .ignore_error = true };
	uint64_t txnid;

	memset(t_big, 0x5a, sizeof(t_big));
	(void) t_fill(e);
	txnid = store_last_txnid(e->s);
	strcpy(p.rid, "careless");
	/* the apply returns PW_OK, but its txn failed: the writer rolls it back */
	assert_int_equal(PW_RESOURCE_EXHAUSTED, store_apply_sync(e->s, t_put_apply, &p));
	assert_int_equal(PW_RESOURCE_EXHAUSTED, p.put_st);
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_false(store_failed(e->s));
}

static void
test_small_write_after_a_full_map(void **state)
{
	fx_env *e = *state;
	t_put p = { .len = T_SMALL_BYTES };
	store_counts before;
	store_counts after;
	uint64_t txnid;
	pw_status st;
	int small_ok = 0;

	memset(t_big, 0x5a, sizeof(t_big));
	(void) t_fill(e);
	assert_int_equal(PW_OK, store_counts_get(e->s, &before));
	/* Small writes go on while LMDB finds pages for them (free pages of
	 * older transactions, room left in existing leaves), then fail the same
	 * clean way: RESOURCE_EXHAUSTED, nothing written, store not failed. */
	for (int i = 0; i < 1000; i++) {
		snprintf(p.rid, sizeof(p.rid), "small-%04d", i);
		txnid = store_last_txnid(e->s);
		st = store_apply_sync(e->s, t_put_apply, &p);
		if (st != PW_OK) {
			assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
			assert_int_equal(txnid, store_last_txnid(e->s));
			break;
		}
		small_ok++;
	}
	print_message("after MAP_FULL: %d small writes fitted\n", small_ok);
	assert_true(small_ok < 1000);
	assert_false(store_failed(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &after));
	assert_int_equal(before.replies + (uint64_t) small_ok, after.replies);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_map_answers_resource_exhausted_and_reads_go_on,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_apply_ignoring_a_full_map_is_rolled_back_anyway,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_small_write_after_a_full_map, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
