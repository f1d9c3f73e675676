/*
 * store_reply_test.c - stored replies (request-id dedup): round trip, hash
 * conflict, scope separation, 24 h expiry with an injected clock, limits.
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

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_reply", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL, .open = true, .clock_t0_ms = T_T0_MS };
	return fx_env_setup(state, &cfg);
}

typedef struct t_reply {
	const char *scope;      /* in */
	const char *request_id; /* in */
	uint8_t hash[32];       /* in */
	const uint8_t *put;     /* in: bytes to store (put) */
	size_t put_len;         /* in */
	uint8_t *got;           /* out (get): malloc'd */
	size_t got_len;         /* out (get) */
} t_reply;

static pw_status
t_get_apply(store_txn *t, void *arg)
{
	t_reply *r = arg;
	return store_reply_get(t, r->scope, r->request_id, r->hash, &r->got, &r->got_len);
}

static pw_status
t_put_apply(store_txn *t, void *arg)
{
	t_reply *r = arg;
	return store_reply_put(t, r->scope, r->request_id, r->hash, r->put, r->put_len);
}

static void
t_reply_init(t_reply *r, const char *scope, const char *request_id, uint8_t hash_byte,
    const char *bytes)
{
	memset(r, 0, sizeof(*r));
	r->scope = scope;
	r->request_id = request_id;
	memset(r->hash, hash_byte, sizeof(r->hash));
	r->put = (const uint8_t *) bytes;
	r->put_len = strlen(bytes);
}

static void
t_got_free(t_reply *r)
{
	free(r->got);
	r->got = NULL;
	r->got_len = 0;
}

/* ---- tests ---- */

static void
test_reply_get_without_put_is_not_found(void **state)
{
	fx_env *e = *state;
	t_reply r;
	uint64_t txnid = store_last_txnid(e->s);

	t_reply_init(&r, "mer_1", "req-1", 0xaa, "");
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_get_apply, &r));
	assert_null(r.got);
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_reply_put_then_get_returns_the_exact_bytes(void **state)
{
	fx_env *e = *state;
	static const uint8_t bin[] = { 0x0a, 0x00, 0xff, 0x10, 0x00 };
	t_reply r;

	t_reply_init(&r, "mer_1", "req-1", 0xaa, "");
	r.put = bin;
	r.put_len = sizeof(bin);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &r));
	assert_int_equal(sizeof(bin), r.got_len);
	assert_memory_equal(bin, r.got, sizeof(bin));
	t_got_free(&r);
	/* an empty reply is a reply too */
	t_reply_init(&r, "mer_1", "req-empty", 0xaa, "");
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &r));
	assert_non_null(r.got);
	assert_int_equal(0, r.got_len);
	t_got_free(&r);
}

static void
test_reply_get_with_other_hash_is_a_conflict(void **state)
{
	fx_env *e = *state;
	t_reply r;

	t_reply_init(&r, "admin", "req-1", 0xaa, "reply-A");
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r));
	r.hash[31] ^= 1;
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, store_apply_sync(e->s, t_get_apply, &r));
	assert_null(r.got);
}

static void
test_reply_scopes_are_separate(void **state)
{
	fx_env *e = *state;
	t_reply a;
	t_reply b;

	t_reply_init(&a, "mer_A", "req-1", 0xaa, "reply-A");
	t_reply_init(&b, "mer_B", "req-1", 0xbb, "reply-B");
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &a));
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_get_apply, &b));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &b));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &a));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &b));
	assert_memory_equal("reply-A", a.got, a.got_len);
	assert_memory_equal("reply-B", b.got, b.got_len);
	t_got_free(&a);
	t_got_free(&b);
	/* "mer_A\0req-1" must not collide with "mer\0_A..." style splits */
	t_reply_init(&b, "mer", "_A", 0xaa, "x");
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_get_apply, &b));
}

static void
test_reply_expires_after_24_hours_and_is_overwritten(void **state)
{
	fx_env *e = *state;
	t_reply r;
	t_reply r2;

	t_reply_init(&r, "webhook:stripe", "evt-1", 0xaa, "old");
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r));
	e->now_ms = T_T0_MS + PW_IDEMPOTENCY_TTL_MS - 1;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &r));
	t_got_free(&r);
	e->now_ms = T_T0_MS + PW_IDEMPOTENCY_TTL_MS;
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_get_apply, &r));
	/* expired: even another hash is no conflict, and a put replaces it */
	t_reply_init(&r2, "webhook:stripe", "evt-1", 0xcc, "new");
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_get_apply, &r2));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r2));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &r2));
	assert_memory_equal("new", r2.got, 3);
	t_got_free(&r2);
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, store_apply_sync(e->s, t_get_apply, &r));
	store_counts c;
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(1, c.replies);
}

static void
test_reply_keys_past_their_limits_are_refused(void **state)
{
	fx_env *e = *state;
	char long_id[PW_REQUEST_ID_BYTES_MAX + 2];
	char long_scope[80];
	t_reply r;
	uint64_t txnid = store_last_txnid(e->s);

	memset(long_id, 'r', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	memset(long_scope, 's', sizeof(long_scope) - 1);
	long_scope[sizeof(long_scope) - 1] = '\0';
	t_reply_init(&r, "mer_1", long_id, 0xaa, "x");
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &r));
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_get_apply, &r));
	long_id[PW_REQUEST_ID_BYTES_MAX] = '\0'; /* exactly at the limit: fine */
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r));
	txnid = store_last_txnid(e->s);
	t_reply_init(&r, long_scope, "req", 0xaa, "x");
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &r));
	t_reply_init(&r, "", "req", 0xaa, "x");
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &r));
	t_reply_init(&r, "mer_1", "", 0xaa, "x");
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &r));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
t_put_n(fx_env *e, const char *prefix, int n)
{
	char rid[32];
	t_reply r;

	for (int i = 0; i < n; i++) {
		snprintf(rid, sizeof(rid), "%s-%03d", prefix, i);
		t_reply_init(&r, "mer_1", rid, 0xaa, rid);
		assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &r));
	}
}

static void
test_expired_purge_deletes_only_expired_entries_in_bounded_steps(void **state)
{
	fx_env *e = *state;
	fx_purge p = { .max_scan = 7 };
	store_counts c;
	uint64_t txnid;
	size_t total = 0;
	t_reply r;

	/* This test drives the purge itself, step by step: the writer's own
	 * periodic purge would ride along when the clock jumps. */
	store_test_set_purge_interval_ms(e->s, 0);
	/* "a-" entries expire, "b-" entries are 23 h younger */
	t_put_n(e, "a", 20);
	e->now_ms += 23 * 3600 * 1000;
	t_put_n(e, "b", 10);
	e->now_ms += 2 * 3600 * 1000; /* "a" are 25 h old, "b" 2 h */
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(30, c.replies);
	/* bounded: at most 7 entries examined per call and db */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
		assert_true(p.deleted <= 7);
		total += p.deleted;
	}
	assert_int_equal(20, total);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(10, c.replies);
	t_reply_init(&r, "mer_1", "b-009", 0xaa, "");
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_get_apply, &r));
	assert_memory_equal("b-009", r.got, r.got_len);
	t_got_free(&r);
	/* nothing expired: nothing written */
	txnid = store_last_txnid(e->s);
	p.max_scan = 1000;
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(0, p.deleted);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* a day later the rest goes in one call */
	e->now_ms += PW_IDEMPOTENCY_TTL_MS;
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(10, p.deleted);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(0, c.replies);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(0, p.deleted);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reply_get_without_put_is_not_found, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reply_put_then_get_returns_the_exact_bytes, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reply_get_with_other_hash_is_a_conflict, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reply_scopes_are_separate, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reply_expires_after_24_hours_and_is_overwritten,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reply_keys_past_their_limits_are_refused, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_expired_purge_deletes_only_expired_entries_in_bounded_steps, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
