/*
 * store_kv_cache_test.c - the batch cache of engines whose reads cost a
 * round trip (store/kv_cache.[ch]): answers what was set, forgets rather
 * than grows past its bounds, and keeps replaced bytes alive until reclaim.
 * Engine-free: the engines' own suite (store_kv_test) checks the cache's use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kv_cache.h"

static kv_val
k_(const char *s)
{
	return (kv_val){ .data = s, .len = strlen(s) };
}

static void
test_answers_what_was_set_per_table(void **state)
{
	kv_cache *c = kv_cache_new();
	kv_val v;

	(void) state;
	assert_non_null(c);
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 0, k_("k"), &v));
	kv_cache_set(c, 0, k_("k"), "one", 3, 0);
	kv_cache_set(c, 1, k_("k"), NULL, 0, KV_CACHE_SET_ABSENT);
	assert_int_equal(KV_CACHE_PRESENT, kv_cache_get(c, 0, k_("k"), &v));
	assert_int_equal(3, v.len);
	assert_memory_equal("one", v.data, 3);
	assert_int_equal(KV_CACHE_ABSENT, kv_cache_get(c, 1, k_("k"), &v));
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 2, k_("k"), &v));
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 0, k_("k2"), &v));
	kv_cache_set(c, 0, k_("k"), NULL, 0, KV_CACHE_SET_ABSENT);
	assert_int_equal(KV_CACHE_ABSENT, kv_cache_get(c, 0, k_("k"), &v));
	assert_int_equal(2, kv_cache_size(c));
	kv_cache_clear(c);
	assert_int_equal(0, kv_cache_size(c));
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 1, k_("k"), &v));
	kv_cache_free(c);
}

/* A value get returned stays readable after set replaced it, until
 * reclaim (store_kv.h: bytes die at the next write, not before). */
static void
test_replaced_bytes_live_until_reclaim(void **state)
{
	kv_cache *c = kv_cache_new();
	kv_val old;
	kv_val v;

	(void) state;
	kv_cache_set(c, 0, k_("k"), "one", 3, 0);
	assert_int_equal(KV_CACHE_PRESENT, kv_cache_get(c, 0, k_("k"), &old));
	kv_cache_set(c, 0, k_("k"), "two", 3, 0);
	kv_cache_clear(c);
	assert_memory_equal("one", old.data, 3); /* ASan: not freed yet */
	kv_cache_reclaim(c);
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 0, k_("k"), &v));
	kv_cache_free(c);
}

/* Past KV_CACHE_ENTRIES_MAX entries or KV_CACHE_BYTES_MAX value bytes, a set
 * forgets its key (a miss), never answers wrong and never grows. */
static void
test_full_forgets_instead_of_growing(void **state)
{
	static char big[1u << 20];
	kv_cache *c = kv_cache_new();
	char key[32];
	kv_val v;
	size_t held = 0;

	(void) state;
	for (unsigned i = 0; i < KV_CACHE_ENTRIES_MAX + 100; i++) {
		snprintf(key, sizeof(key), "key-%u", i);
		(void) kv_cache_set(c, 0, k_(key), key, strlen(key), 0);
	}
	assert_int_equal(KV_CACHE_ENTRIES_MAX, kv_cache_size(c));
	snprintf(key, sizeof(key), "key-%u", KV_CACHE_ENTRIES_MAX + 5);
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 0, k_(key), &v));
	/* a key set again while full: its old value is gone, not kept stale */
	kv_cache_set(c, 0, k_("key-7"), "new", 3, 0);
	kv_cache_set(c, 0, k_("key-8"), "x", 1, 0);
	assert_int_equal(KV_CACHE_PRESENT, kv_cache_get(c, 0, k_("key-7"), &v));
	assert_memory_equal("new", v.data, 3);
	kv_cache_clear(c);
	kv_cache_reclaim(c);

	memset(big, 'b', sizeof(big));
	for (unsigned i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "big-%u", i);
		(void) kv_cache_set(c, 0, k_(key), big, sizeof(big), 0);
		held += kv_cache_get(c, 0, k_(key), &v) == KV_CACHE_PRESENT ? 1 : 0;
	}
	assert_int_equal(KV_CACHE_BYTES_MAX / sizeof(big), held);
	kv_cache_free(c);
}

/* kv_cache_dirty_fn: appends "key=value(+)" to the string at arg ("+": an
 * insert). */
static void
t_collect(void *arg, unsigned table, kv_val key, kv_val val, bool new_key)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%u:%.*s=%.*s%s ", table, (int) key.len, (const char *) key.data,
	    (int) val.len, (const char *) val.data, new_key ? "+" : "");
}

/* A nested transaction's sets, dirty or clean, are undone by rollback and
 * kept by release; each_dirty lists what waits to be sent, once per key; an
 * overwritten insert stays an insert; sent before the end, inserts become
 * overwrites. */
static void
test_marks_undo_and_dirty_entries_wait_to_be_sent(void **state)
{
	kv_cache *c = kv_cache_new();
	char got[256] = "";
	kv_val v;

	(void) state;
	assert_int_equal(KV_CACHE_KEPT, kv_cache_set(c, 0, k_("a"), "1", 1, KV_CACHE_SET_DIRTY));
	assert_int_equal(KV_CACHE_KEPT, kv_cache_set(c, 0, k_("clean"), "c", 1, 0));
	assert_true(kv_cache_has_dirty(c));

	kv_cache_mark(c);
	(void) kv_cache_set(c, 0, k_("a"), "2", 1, KV_CACHE_SET_DIRTY);
	(void) kv_cache_set(c, 1, k_("b"), "x", 1, KV_CACHE_SET_DIRTY | KV_CACHE_SET_NEW);
	(void) kv_cache_set(c, 0, k_("clean"), NULL, 0, KV_CACHE_SET_ABSENT);
	(void) kv_cache_set(c, 0, k_("a"), NULL, 0, KV_CACHE_SET_ABSENT);
	assert_int_equal(KV_CACHE_ABSENT, kv_cache_get(c, 0, k_("a"), &v));
	kv_cache_rollback(c);
	assert_int_equal(KV_CACHE_PRESENT, kv_cache_get(c, 0, k_("a"), &v));
	assert_memory_equal("1", v.data, 1);
	assert_int_equal(KV_CACHE_MISS, kv_cache_get(c, 1, k_("b"), &v));
	assert_int_equal(KV_CACHE_PRESENT, kv_cache_get(c, 0, k_("clean"), &v));
	kv_cache_each_dirty(c, t_collect, got, false);
	assert_string_equal("0:a=1 ", got);

	kv_cache_mark(c);
	(void) kv_cache_set(c, 1, k_("b"), "x", 1, KV_CACHE_SET_DIRTY | KV_CACHE_SET_NEW);
	(void) kv_cache_set(c, 1, k_("b"), "y", 1, KV_CACHE_SET_DIRTY); /* still an insert */
	kv_cache_release(c);
	got[0] = '\0';
	kv_cache_each_dirty(c, t_collect, got, false);
	assert_true(strstr(got, "1:b=y+ ") != NULL && strstr(got, "0:a=1 ") != NULL);
	got[0] = '\0';
	kv_cache_each_dirty(c, t_collect, got, true); /* sent before the end: */
	got[0] = '\0';
	kv_cache_each_dirty(c, t_collect, got, false);
	assert_true(strstr(got, "1:b=y ") != NULL); /* its row exists now */
	kv_cache_clear(c);
	assert_false(kv_cache_has_dirty(c));
	kv_cache_free(c);
}

/* Full: a dirty set is FORGOT (the engine sends it itself) and the key's
 * older dirty value is gone with it, so it is not sent later over the newer
 * one. */
static void
test_a_dirty_set_the_cache_cannot_keep_is_forgot_with_its_older_value(void **state)
{
	static char big[KV_CACHE_BYTES_MAX - 16];
	kv_cache *c = kv_cache_new();
	char got[256] = "";

	(void) state;
	memset(big, 'b', sizeof(big));
	assert_int_equal(KV_CACHE_KEPT, kv_cache_set(c, 0, k_("hot"), "old", 3, KV_CACHE_SET_DIRTY));
	assert_int_equal(KV_CACHE_KEPT, kv_cache_set(c, 0, k_("big"), big, sizeof(big), 0));
	assert_int_equal(KV_CACHE_FORGOT, kv_cache_set(c, 0, k_("hot"), big, 64,
	    KV_CACHE_SET_DIRTY));
	kv_cache_each_dirty(c, t_collect, got, false);
	assert_string_equal("", got);
	assert_false(kv_cache_has_dirty(c));
	kv_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_what_was_set_per_table),
		cmocka_unit_test(test_replaced_bytes_live_until_reclaim),
		cmocka_unit_test(test_full_forgets_instead_of_growing),
		cmocka_unit_test(test_marks_undo_and_dirty_entries_wait_to_be_sent),
		cmocka_unit_test(test_a_dirty_set_the_cache_cannot_keep_is_forgot_with_its_older_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
