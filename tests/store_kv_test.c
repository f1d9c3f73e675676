/*
 * store_kv_test.c - the engine seam's contract (store_kv.h), checked on an
 * engine alone, without the payment domain: tables, answers that leave the
 * txn usable, insert-only and append puts, nested txns, batch commit and
 * abort with the last txn id, read snapshots, ordered cursors with delete.
 *
 * Every case goes through t_kv only, so both engines run the same cases:
 * LMDB (paywire.store_kv_test) and PostgreSQL (paywire.store_kv_test.postgres,
 * t_config pointing at the test case's own database).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include "store_fixture.h"
#include "store_kv.h"

static const kv_ops *t_kv = &kv_lmdb_ops; /* the engine under test (t_setup) */
static const char *const t_tables[] = { "alpha", "beta" };
static int t_fatal_calls; /* kv_config.fatal calls: none expected */

enum { T_ALPHA = 0, T_BETA = 1 };

/* The test env: fx_env (temp dir) first, then the open engine. */
typedef struct t_env {
	fx_env fx;   /* temp dir; no store is opened */
	kv_env *env; /* the engine under test */
} t_env;

static void
t_fatal(void *arg, const char *what)
{
	(void) arg;
	(void) what;
	t_fatal_calls++;
}

static kv_config
t_config(const t_env *e)
{
	return (kv_config){ .dir = e->fx.dir, .url = fx_pg() ? e->fx.url : NULL, .map_size_bytes = 4u << 20,
		.sync = STORE_SYNC_NONE, .read_only = false, .tables = t_tables,
		.n_tables = sizeof(t_tables) / sizeof(t_tables[0]), .fatal = t_fatal,
		.fatal_arg = NULL };
}

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_kv", .env_bytes = sizeof(t_env) };
	t_env *e;
	kv_config c;
	bool exists = true;

	(void) fx_env_setup(state, &cfg);
	e = *state;
	t_kv = fx_pg() ? &kv_pg_ops : &kv_lmdb_ops;
	assert_int_equal(0, mkdir(e->fx.dir, 0700));
	c = t_config(e);
	assert_int_equal(PW_OK, t_kv->probe(&c, &exists));
	assert_false(exists);
	assert_int_equal(PW_OK, t_kv->open(&e->env, &c));
	assert_int_equal(PW_OK, t_kv->probe(&c, &exists));
	assert_true(exists);
	t_fatal_calls = 0;
	return 0;
}

static int
t_teardown(void **state)
{
	t_env *e = *state;

	t_kv->close(e->env);
	assert_int_equal(0, t_fatal_calls);
	return fx_env_teardown(state);
}

/* ---- helpers ---- */

static kv_val
t_key(const char *s)
{
	return (kv_val){ .data = s, .len = strlen(s) };
}

static void
t_fill(void *space, size_t size, void *arg)
{
	memcpy(space, arg, size);
}

/* put of the string v (without its NUL) under k. */
static pw_status
t_put(kv_txn *txn, unsigned table, const char *k, const char *v, unsigned flags)
{
	return t_kv->put(txn, table, t_key(k), strlen(v), flags, t_fill, (void *) v);
}

/* Asserts an op answered st with bytes got equal to the string want, or
 * answered PW_NOT_FOUND when want is NULL. */
static void
t_at(pw_status st, kv_val got, const char *want)
{
	if (want == NULL) {
		assert_int_equal(PW_NOT_FOUND, st);
		return;
	}
	assert_int_equal(PW_OK, st);
	assert_int_equal(strlen(want), got.len);
	assert_memory_equal(want, got.data, got.len);
}

/* Asserts the value under k is the string want (NULL: absent). */
static void
t_expect(kv_txn *txn, unsigned table, const char *k, const char *want)
{
	kv_val v;
	pw_status st = t_kv->get(txn, table, t_key(k), &v);

	t_at(st, v, want);
}

/* Begins a batch and a nested txn in it. */
static void
t_nest_begin(t_env *e, kv_txn **batch, kv_txn **nest)
{
	assert_int_equal(PW_OK, t_kv->batch_begin(e->env, batch));
	assert_int_equal(PW_OK, t_kv->nest_begin(*batch, nest));
}

/* Commits the nested txn, then its batch. */
static void
t_nest_commit(kv_txn *batch, kv_txn *nest)
{
	assert_int_equal(PW_OK, t_kv->nest_commit(nest));
	assert_int_equal(PW_OK, t_kv->batch_commit(batch));
}

/* A batch with one nested txn that ran put(k, v, flags); commits both.
 * Returns the put's status. */
static pw_status
t_write_one(t_env *e, unsigned table, const char *k, const char *v, unsigned flags)
{
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;
	pw_status st;

	t_nest_begin(e, &batch, &nest);
	st = t_put(nest, table, k, v, flags);
	t_nest_commit(batch, nest);
	return st;
}

/* Asserts, in a read txn of its own, the value under k. */
static void
t_read_expect(t_env *e, unsigned table, const char *k, const char *want)
{
	kv_txn *txn = NULL;

	assert_int_equal(PW_OK, t_kv->read_begin(e->env, &txn));
	t_expect(txn, table, k, want);
	t_kv->read_end(txn);
}

/* ---- cases ---- */

static void
test_tables_are_separate_and_put_overwrites(void **state)
{
	t_env *e = *state;

	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "one", 0));
	t_read_expect(e, T_ALPHA, "k", "one");
	t_read_expect(e, T_BETA, "k", NULL);
	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "two", 0));
	t_read_expect(e, T_ALPHA, "k", "two");
}

static void
test_insert_only_answers_already_exists_and_the_txn_goes_on(void **state)
{
	t_env *e = *state;
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;

	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "one", KV_PUT_INSERT));
	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_ALREADY_EXISTS, t_put(nest, T_ALPHA, "k", "two", KV_PUT_INSERT));
	assert_int_equal(PW_NOT_FOUND, t_kv->del(nest, T_ALPHA, t_key("absent")));
	/* both were answers: the same txn writes on */
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "k2", "three", KV_PUT_INSERT));
	t_nest_commit(batch, nest);
	t_read_expect(e, T_ALPHA, "k", "one");
	t_read_expect(e, T_ALPHA, "k2", "three");
}

static void
test_append_takes_keys_past_the_last_and_refuses_an_existing_one(void **state)
{
	t_env *e = *state;

	assert_int_equal(PW_OK, t_write_one(e, T_BETA, "0001", "a", KV_PUT_APPEND));
	assert_int_equal(PW_OK, t_write_one(e, T_BETA, "0002", "b", KV_PUT_APPEND));
	assert_int_equal(PW_ALREADY_EXISTS, t_write_one(e, T_BETA, "0002", "c", KV_PUT_APPEND));
	t_read_expect(e, T_BETA, "0002", "b");
}

/* KV_PUT_FRESH over a key a committed batch wrote (an anomaly the domain
 * turns into an error): LMDB answers PW_ALREADY_EXISTS at once; PostgreSQL
 * may answer PW_OK without asking, and then the batch fails with
 * KV_CONFLICT and keeps nothing; the batch after a conflict (the writer's
 * re-run) answers exactly. Either way the old value stays. */
static void
test_fresh_insert_over_an_existing_key_is_refused_at_once_or_by_its_batch(void **state)
{
	t_env *e = *state;
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;
	pw_status st;

	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "one", KV_PUT_INSERT));
	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "other", "x", KV_PUT_INSERT | KV_PUT_FRESH));
	st = t_put(nest, T_ALPHA, "k", "two", KV_PUT_INSERT | KV_PUT_FRESH);
	if (st == PW_OK) {
		assert_true(fx_pg());
		(void) t_kv->nest_commit(nest);
		assert_int_equal(KV_CONFLICT, t_kv->batch_commit(batch));
		t_read_expect(e, T_ALPHA, "other", NULL); /* nothing of it kept */
		/* the re-run asks before it answers */
		t_nest_begin(e, &batch, &nest);
		assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "other", "x",
		    KV_PUT_INSERT | KV_PUT_FRESH));
		st = t_put(nest, T_ALPHA, "k", "two", KV_PUT_INSERT | KV_PUT_FRESH);
	}
	assert_int_equal(PW_ALREADY_EXISTS, st);
	t_nest_commit(batch, nest);
	t_read_expect(e, T_ALPHA, "k", "one");
	t_read_expect(e, T_ALPHA, "other", "x");
}

/* Inside one batch every op sees the batch's own writes, a nested abort
 * undoes them for later ops too (an engine that remembers what its batch
 * read and wrote, like PostgreSQL's, must forget), and insert-only and del
 * answer from what the batch did. */
static void
test_a_batch_sees_its_writes_and_not_those_of_an_aborted_nest(void **state)
{
	t_env *e = *state;
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;
	kv_val v;

	assert_int_equal(PW_OK, t_write_one(e, T_BETA, "gone", "g", 0));
	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "k", "v1", 0));
	t_expect(nest, T_BETA, "gone", "g");
	assert_int_equal(PW_OK, t_kv->nest_commit(nest));

	assert_int_equal(PW_OK, t_kv->nest_begin(batch, &nest));
	t_expect(nest, T_ALPHA, "k", "v1");
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "k", "v2", 0));
	assert_int_equal(PW_OK, t_kv->del(nest, T_BETA, t_key("gone")));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "new", "n", KV_PUT_INSERT | KV_PUT_FRESH));
	t_expect(nest, T_ALPHA, "k", "v2");
	t_expect(nest, T_BETA, "gone", NULL);
	t_kv->nest_abort(nest);

	assert_int_equal(PW_OK, t_kv->nest_begin(batch, &nest));
	t_expect(nest, T_ALPHA, "k", "v1");
	t_expect(nest, T_BETA, "gone", "g");
	t_expect(nest, T_ALPHA, "new", NULL);
	assert_int_equal(PW_ALREADY_EXISTS, t_put(nest, T_ALPHA, "k", "v3", KV_PUT_INSERT));
	assert_int_equal(PW_OK, t_kv->del(nest, T_ALPHA, t_key("k")));
	assert_int_equal(PW_NOT_FOUND, t_kv->del(nest, T_ALPHA, t_key("k")));
	assert_int_equal(PW_NOT_FOUND, t_kv->get(nest, T_ALPHA, t_key("k"), &v));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "k", "v4", KV_PUT_INSERT | KV_PUT_FRESH));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "new", "n2", KV_PUT_INSERT | KV_PUT_FRESH));
	t_nest_commit(batch, nest);
	t_read_expect(e, T_ALPHA, "k", "v4");
	t_read_expect(e, T_ALPHA, "new", "n2");
	t_read_expect(e, T_BETA, "gone", "g");
}

/* prefetch (the writer reads a batch's stored replies in one go) never
 * changes what a get answers: keys found, keys absent, a key given twice, a
 * key the batch wrote before, and what the batch writes after. */
static void
test_prefetch_changes_no_answer(void **state)
{
	t_env *e = *state;
	const kv_val keys[] = { t_key("a"), t_key("absent"), t_key("a"), t_key("mine"),
		t_key("b") };
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;

	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "a", "1", 0));
	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "b", "2", 0));
	assert_int_equal(PW_OK, t_write_one(e, T_BETA, "absent", "other table", 0));
	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "mine", "m", 0));
	if (t_kv->prefetch != NULL) { /* optional: NULL on LMDB */
		assert_int_equal(PW_OK, t_kv->prefetch(nest, T_ALPHA, keys, 5));
	}
	t_expect(nest, T_ALPHA, "a", "1");
	t_expect(nest, T_ALPHA, "b", "2");
	t_expect(nest, T_ALPHA, "mine", "m");
	t_expect(nest, T_ALPHA, "absent", NULL);
	t_expect(nest, T_BETA, "absent", "other table");
	assert_int_equal(PW_ALREADY_EXISTS, t_put(nest, T_ALPHA, "a", "x", KV_PUT_INSERT));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "absent", "now", KV_PUT_INSERT));
	t_expect(nest, T_ALPHA, "absent", "now");
	if (t_kv->prefetch != NULL) { /* again: no change */
		assert_int_equal(PW_OK, t_kv->prefetch(nest, T_ALPHA, keys, 2));
	}
	t_expect(nest, T_ALPHA, "absent", "now");
	t_nest_commit(batch, nest);
	t_read_expect(e, T_ALPHA, "absent", "now");
	t_read_expect(e, T_ALPHA, "a", "1");
}

/* Asserts a scan of table in txn from the first key returns exactly the
 * keys of want, a string of one-character keys in order. */
static void
t_scan_expect(kv_txn *txn, unsigned table, const char *want)
{
	kv_cursor *cur = NULL;
	kv_val k;
	kv_val v;
	uint64_t n = 0;
	size_t i = 0;
	pw_status st;

	assert_int_equal(PW_OK, t_kv->cursor_open(txn, table, &cur));
	for (st = t_kv->cursor_seek(cur, (kv_val){ .data = NULL, .len = 0 }, &k, &v); st == PW_OK;
	     st = t_kv->cursor_next(cur, &k, &v), i++) {
		assert_true(i < strlen(want));
		assert_int_equal(1, k.len);
		assert_int_equal(want[i], ((const char *) k.data)[0]);
	}
	assert_int_equal(PW_NOT_FOUND, st);
	assert_int_equal(strlen(want), i);
	t_kv->cursor_close(cur);
	assert_int_equal(PW_OK, t_kv->count(txn, table, &n));
	assert_int_equal(strlen(want), n);
}

/* Scans and counts inside a batch see every write of the batch (an engine
 * that keeps writes back until the commit sends them first), a nested abort
 * after a scan still undoes the nested writes and only them, and what the
 * batch wrote before is written once, at the commit. */
static void
test_scans_see_the_batch_and_a_nested_abort_after_a_scan_undoes_only_it(void **state)
{
	t_env *e = *state;
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;

	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "a", "1", 0));
	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "b", "2", 0));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "c", "3", KV_PUT_INSERT | KV_PUT_FRESH));
	assert_int_equal(PW_OK, t_kv->nest_commit(nest));

	assert_int_equal(PW_OK, t_kv->nest_begin(batch, &nest));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "d", "4", KV_PUT_INSERT | KV_PUT_FRESH));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "b", "two", 0));
	t_scan_expect(nest, T_ALPHA, "abcd");
	t_kv->nest_abort(nest);

	assert_int_equal(PW_OK, t_kv->nest_begin(batch, &nest));
	t_expect(nest, T_ALPHA, "b", "2");
	t_scan_expect(nest, T_ALPHA, "abc");
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "e", "5", KV_PUT_INSERT | KV_PUT_FRESH));
	t_scan_expect(nest, T_ALPHA, "abce");
	t_nest_commit(batch, nest);
	t_read_expect(e, T_ALPHA, "b", "2");
	t_read_expect(e, T_ALPHA, "c", "3");
	t_read_expect(e, T_ALPHA, "d", NULL);
	t_read_expect(e, T_ALPHA, "e", "5");
}

/* A batch whose first nested txn put (k, v) in alpha and committed; the
 * batch is left open. */
static kv_txn *
t_batch_with(t_env *e, const char *k, const char *v)
{
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;

	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, k, v, 0));
	assert_int_equal(PW_OK, t_kv->nest_commit(nest));
	return batch;
}

static void
test_nested_abort_undoes_only_the_nested_writes(void **state)
{
	t_env *e = *state;
	uint64_t txnid = t_kv->last_txnid(e->env);
	kv_txn *batch = t_batch_with(e, "kept", "1");
	kv_txn *nest = NULL;

	assert_int_equal(PW_OK, t_kv->nest_begin(batch, &nest));
	assert_int_equal(PW_OK, t_put(nest, T_ALPHA, "undone", "2", 0));
	t_expect(nest, T_ALPHA, "kept", "1"); /* a nested txn sees its batch */
	t_kv->nest_abort(nest);
	t_expect(batch, T_ALPHA, "undone", NULL);
	assert_int_equal(PW_OK, t_kv->batch_commit(batch));
	assert_int_equal(txnid + 1, t_kv->last_txnid(e->env));
	t_read_expect(e, T_ALPHA, "kept", "1");
	t_read_expect(e, T_ALPHA, "undone", NULL);
}

static void
test_batch_abort_and_empty_commit_keep_nothing_and_move_no_txnid(void **state)
{
	t_env *e = *state;
	uint64_t txnid = t_kv->last_txnid(e->env);
	kv_txn *batch = t_batch_with(e, "k", "v");

	t_kv->batch_abort(batch);
	assert_int_equal(PW_OK, t_kv->batch_begin(e->env, &batch));
	assert_int_equal(PW_OK, t_kv->batch_commit(batch)); /* wrote nothing */
	assert_int_equal(txnid, t_kv->last_txnid(e->env));
	t_read_expect(e, T_ALPHA, "k", NULL);
}

static void
test_a_read_txn_keeps_one_snapshot(void **state)
{
	t_env *e = *state;
	kv_txn *r = NULL;
	uint64_t n = 0;

	/* Committed before the begin: in the snapshot. Committed after the
	 * first op: not (store_kv.h: the snapshot is taken at the begin or, at
	 * the latest, by the first op). */
	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "old", 0));
	assert_int_equal(PW_OK, t_kv->read_begin(e->env, &r));
	t_expect(r, T_ALPHA, "k", "old");
	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "new", 0));
	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k2", "x", 0));
	t_expect(r, T_ALPHA, "k", "old");
	t_expect(r, T_ALPHA, "k2", NULL);
	assert_int_equal(PW_OK, t_kv->count(r, T_ALPHA, &n));
	assert_int_equal(1, n);
	t_kv->read_end(r);
	t_read_expect(e, T_ALPHA, "k", "new");
}

/* Puts each of keys[0..n) (value = key) in one batch. */
static void
t_fill_table(t_env *e, unsigned table, const char *const *keys, size_t n)
{
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;

	t_nest_begin(e, &batch, &nest);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(PW_OK, t_put(nest, table, keys[i], keys[i], KV_PUT_INSERT));
	}
	t_nest_commit(batch, nest);
}

static void
test_cursor_walks_in_key_order_from_a_seek(void **state)
{
	t_env *e = *state;
	/* inserted out of order; memcmp order is "a" < "ab" < "b" < "b\x01" < "c" */
	static const char *const keys[] = { "c", "ab", "b\x01", "a", "b" };
	static const char *const order[] = { "a", "ab", "b", "b\x01", "c" };
	kv_cursor *cur = NULL;
	kv_txn *r = NULL;
	kv_val k;
	kv_val v;

	t_fill_table(e, T_ALPHA, keys, 5);
	assert_int_equal(PW_OK, t_kv->read_begin(e->env, &r));
	assert_int_equal(PW_OK, t_kv->cursor_open(r, T_ALPHA, &cur));
	t_at(t_kv->cursor_seek(cur, (kv_val){ .data = NULL, .len = 0 }, &k, &v), k, order[0]);
	assert_memory_equal(order[0], v.data, v.len);
	for (size_t i = 1; i < 5; i++) {
		t_at(t_kv->cursor_next(cur, &k, &v), k, order[i]);
	}
	t_at(t_kv->cursor_next(cur, &k, &v), k, NULL);
	t_at(t_kv->cursor_seek(cur, t_key("aa"), &k, &v), k, "ab"); /* first key >= "aa" */
	t_at(t_kv->cursor_seek(cur, t_key("b"), &k, &v), k, "b");   /* an exact key */
	t_at(t_kv->cursor_seek(cur, t_key("d"), &k, &v), k, NULL);  /* past the end */
	t_kv->cursor_close(cur);
	t_kv->read_end(r);
}

static void
test_cursor_delete_then_next_returns_the_following_entry(void **state)
{
	t_env *e = *state;
	static const char *const keys[] = { "1", "2", "3", "4" };
	kv_cursor *cur = NULL;
	kv_txn *batch = NULL;
	kv_txn *nest = NULL;
	kv_val k;
	kv_val v;
	uint64_t n = 0;

	t_fill_table(e, T_BETA, keys, 4);
	t_nest_begin(e, &batch, &nest);
	assert_int_equal(PW_OK, t_kv->cursor_open(nest, T_BETA, &cur));
	t_at(t_kv->cursor_seek(cur, t_key("2"), &k, &v), k, "2");
	assert_int_equal(PW_OK, t_kv->cursor_del(cur));
	t_at(t_kv->cursor_next(cur, &k, &v), k, "3"); /* not skipped */
	assert_int_equal(PW_OK, t_kv->cursor_del(cur));
	t_at(t_kv->cursor_next(cur, &k, &v), k, "4");
	t_kv->cursor_close(cur);
	assert_int_equal(PW_OK, t_kv->count(nest, T_BETA, &n));
	assert_int_equal(2, n);
	t_nest_commit(batch, nest);
	t_read_expect(e, T_BETA, "1", "1");
	t_read_expect(e, T_BETA, "2", NULL);
	t_read_expect(e, T_BETA, "3", NULL);
	t_read_expect(e, T_BETA, "4", "4");
}

/* PostgreSQL only: the writers of two engines on one database take turns on
 * the writer lock; one that waits longer than KV_PG_LOCK_TIMEOUT (10 s)
 * answers UNAVAILABLE, not a hang, and writes nothing; once the lock is
 * free it writes. */
static void
test_pg_second_writer_waits_then_answers_unavailable(void **state)
{
	t_env *e = *state;
	kv_config c = t_config(e);
	kv_env *other = NULL;
	kv_txn *b1 = NULL;
	kv_txn *n1 = NULL;
	kv_txn *b2 = NULL;
	kv_txn *n2 = NULL;
	kv_val v;

	if (!fx_pg()) {
		print_message("[ PostgreSQL only ] the writer lock of several servers\n");
		skip();
	}
	assert_int_equal(PW_OK, t_kv->open(&other, &c));
	t_nest_begin(e, &b1, &n1);
	/* a read makes the first batch hold the lock (its begin is pipelined) */
	assert_int_equal(PW_NOT_FOUND, t_kv->get(n1, T_ALPHA, t_key("k"), &v));
	assert_int_equal(PW_OK, t_kv->batch_begin(other, &b2));
	assert_int_equal(PW_OK, t_kv->nest_begin(b2, &n2));
	assert_int_equal(PW_UNAVAILABLE, t_kv->get(n2, T_ALPHA, t_key("k"), &v));
	t_kv->nest_abort(n2);
	t_kv->batch_abort(b2);
	assert_int_equal(PW_OK, t_put(n1, T_ALPHA, "k", "first", 0));
	t_nest_commit(b1, n1);
	/* the lock is free again: the other engine writes */
	assert_int_equal(PW_OK, t_kv->batch_begin(other, &b2));
	assert_int_equal(PW_OK, t_kv->nest_begin(b2, &n2));
	assert_int_equal(PW_OK, t_put(n2, T_ALPHA, "k", "second", 0));
	t_nest_commit(b2, n2);
	t_read_expect(e, T_ALPHA, "k", "second");
	t_kv->close(other);
}

/* PostgreSQL only: pooled read connections the database dropped while they
 * were idle (a restart, a failover) are found by the next reads, which
 * connect again and answer: a read never answers UNAVAILABLE for a
 * connection that died before it began while the database is up. */
static void
test_reads_connect_again_when_the_database_dropped_their_pooled_connections(void **state)
{
	t_env *e = *state;
	kv_txn *r[3] = { NULL, NULL, NULL };
	kv_val v;

	if (!fx_pg()) {
		print_message("[ PostgreSQL only ] pooled read connections\n");
		skip();
	}
	assert_int_equal(PW_OK, t_write_one(e, T_ALPHA, "k", "one", 0));
	for (int round = 0; round < 2; round++) {
		/* three reads at once: three pooled connections */
		for (int i = 0; i < 3; i++) {
			assert_int_equal(PW_OK, t_kv->read_begin(e->env, &r[i]));
			assert_int_equal(PW_OK, t_kv->get(r[i], T_ALPHA, t_key("k"), &v));
			assert_int_equal(3, v.len);
			assert_memory_equal("one", v.data, 3);
		}
		for (int i = 0; i < 3; i++) {
			t_kv->read_end(r[i]);
		}
		fx_pg_terminate(&e->fx); /* the database drops every one of them */
	}
	t_read_expect(e, T_ALPHA, "k", "one");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tables_are_separate_and_put_overwrites, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_insert_only_answers_already_exists_and_the_txn_goes_on, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_append_takes_keys_past_the_last_and_refuses_an_existing_one, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_nested_abort_undoes_only_the_nested_writes,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_fresh_insert_over_an_existing_key_is_refused_at_once_or_by_its_batch,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_batch_sees_its_writes_and_not_those_of_an_aborted_nest, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_prefetch_changes_no_answer, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_scans_see_the_batch_and_a_nested_abort_after_a_scan_undoes_only_it, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_batch_abort_and_empty_commit_keep_nothing_and_move_no_txnid, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reads_connect_again_when_the_database_dropped_their_pooled_connections,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_a_read_txn_keeps_one_snapshot,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_cursor_walks_in_key_order_from_a_seek, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_cursor_delete_then_next_returns_the_following_entry, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_pg_second_writer_waits_then_answers_unavailable, t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
