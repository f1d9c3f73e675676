/*
 * server_limit_test.c - rate limits per merchant and class
 * (server/srv_limit.c, GCRA) with the clock given by the test: an idle
 * merchant's burst passes at once and the next request is refused with the
 * time to wait; one interval later one more passes; merchants and classes do
 * not share a budget; a class without a rate is unlimited; 8 threads racing
 * for a burst of 100 with the clock stopped get exactly 100 between them (the
 * CAS loop neither loses nor invents a request); a merchant's own limit
 * (srv_limiter_set_own) applies to its next request with a full bucket,
 * others keep the default, unlimited and back-to-default work, and with the
 * default unlimited an own limit still applies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "srv_limit.h"

#define T0 INT64_C(1000000000)

static srv_limiter *
t_new(int64_t reads_us, uint32_t reads_burst, int64_t writes_us, uint32_t writes_burst)
{
	const srv_limit_rate rates[SRV_LIMIT_CLASSES] = {
		{ .interval_us = reads_us, .burst = reads_burst },
		{ .interval_us = writes_us, .burst = writes_burst },
		{ 0 },
	};
	srv_limiter *l = srv_limiter_new(rates);

	assert_non_null(l);
	return l;
}

static void
test_a_burst_passes_then_the_rate(void **state)
{
	srv_limiter *l = t_new(0, 0, 1000000, 5); /* writes: 1 per s, burst 5 */
	int64_t wait = -1;

	(void) state;
	for (int i = 0; i < 5; i++) {
		assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
		assert_int_equal(0, wait);
	}
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
	assert_int_equal(1001, wait); /* one interval (rounded up to the next ms) */
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0 + 999999, &wait));
	assert_int_equal(1, wait);
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0 + 1000000, &wait));
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0 + 1000000, &wait));
	/* idle long enough: the whole burst again, never more */
	for (int i = 0; i < 5; i++) {
		assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0 + 60000000, &wait));
	}
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0 + 60000000, &wait));
	srv_limiter_free(l);
}

static void
test_merchants_and_classes_have_their_own_budget(void **state)
{
	srv_limiter *l = t_new(1000000, 2, 1000000, 1);
	int64_t wait = 0;

	(void) state;
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
	assert_true(srv_limiter_take(l, "mer_b", SRV_LIMIT_WRITES, T0, &wait)); /* another merchant */
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));  /* another class */
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	for (int i = 0; i < 1000; i++) { /* provider calls: no rate, no limit */
		assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_PROVIDER, T0, &wait));
	}
	srv_limiter_free(l);
}

typedef struct race {
	srv_limiter *l;
	atomic_int ok;
} race;

static void *
t_racer(void *arg)
{
	race *r = arg;
	int64_t wait;

	for (int i = 0; i < 1000; i++) {
		if (srv_limiter_take(r->l, "mer_race", SRV_LIMIT_WRITES, T0, &wait)) {
			atomic_fetch_add(&r->ok, 1);
		}
	}
	return NULL;
}

static void
test_racing_threads_share_the_burst_exactly(void **state)
{
	race r = { .l = t_new(0, 0, 3600 * INT64_C(1000000), 100) };
	pthread_t t[8];

	(void) state;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(0, pthread_create(&t[i], NULL, t_racer, &r));
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
	}
	assert_int_equal(100, atomic_load(&r.ok));
	srv_limiter_free(r.l);
}

static void
test_many_merchants_fill_the_table_and_then_pass(void **state)
{
	srv_limiter *l = t_new(0, 0, 3600 * INT64_C(1000000), 1);
	char id[32];
	int64_t wait;

	(void) state;
	for (int i = 0; i < SRV_LIMIT_SLOTS; i++) {
		(void) snprintf(id, sizeof(id), "mer_%d", i);
		assert_true(srv_limiter_take(l, id, SRV_LIMIT_WRITES, T0, &wait));
	}
	/* the table is full: a new merchant is let through (never refused for
	 * the limiter's own capacity), the tracked ones are still limited */
	assert_true(srv_limiter_take(l, "mer_new", SRV_LIMIT_WRITES, T0, &wait));
	assert_true(srv_limiter_take(l, "mer_new", SRV_LIMIT_WRITES, T0, &wait));
	assert_false(srv_limiter_take(l, "mer_7", SRV_LIMIT_WRITES, T0, &wait));
	srv_limiter_free(l);
}

static void
test_own_limits_apply_at_once_and_only_to_their_merchant(void **state)
{
	srv_limiter *l = t_new(1000000, 3, 0, 0); /* reads: 1 per s, burst 3; writes: none */
	const srv_limit_rate own = { .interval_us = 60 * INT64_C(1000000), .burst = 2 };
	const srv_limit_rate unlimited = { 0 };
	const srv_limit_rate d = srv_limiter_default(l, SRV_LIMIT_READS);
	int64_t wait = 0;

	(void) state;
	assert_int_equal(1000000, d.interval_us);
	assert_int_equal(3, d.burst);
	assert_int_equal(0, srv_limiter_default(l, SRV_LIMIT_WRITES).interval_us);
	/* mer_a spends its default burst, then gets 2 per minute of its own */
	for (int i = 0; i < 3; i++) {
		assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	}
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	assert_true(srv_limiter_set_own(l, "mer_a", SRV_LIMIT_READS, &own));
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait)); /* full again */
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0 + 1000000, &wait));
	assert_int_equal(59001, wait); /* a minute less the second gone */
	/* mer_b keeps the default: 3 at once */
	for (int i = 0; i < 3; i++) {
		assert_true(srv_limiter_take(l, "mer_b", SRV_LIMIT_READS, T0, &wait));
	}
	assert_false(srv_limiter_take(l, "mer_b", SRV_LIMIT_READS, T0, &wait));
	/* writes have no default limit, but mer_a's own one applies */
	assert_true(srv_limiter_set_own(l, "mer_a", SRV_LIMIT_WRITES, &own));
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
	assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_WRITES, T0, &wait));
	for (int i = 0; i < 100; i++) {
		assert_true(srv_limiter_take(l, "mer_b", SRV_LIMIT_WRITES, T0, &wait));
	}
	/* unlimited, then back to the default (a full default bucket) */
	assert_true(srv_limiter_set_own(l, "mer_a", SRV_LIMIT_READS, &unlimited));
	for (int i = 0; i < 1000; i++) {
		assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	}
	assert_true(srv_limiter_set_own(l, "mer_a", SRV_LIMIT_READS, NULL));
	for (int i = 0; i < 3; i++) {
		assert_true(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	}
	assert_false(srv_limiter_take(l, "mer_a", SRV_LIMIT_READS, T0, &wait));
	assert_int_equal(1001, wait);
	srv_limiter_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_burst_passes_then_the_rate),
		cmocka_unit_test(test_merchants_and_classes_have_their_own_budget),
		cmocka_unit_test(test_racing_threads_share_the_burst_exactly),
		cmocka_unit_test(test_many_merchants_fill_the_table_and_then_pass),
		cmocka_unit_test(test_own_limits_apply_at_once_and_only_to_their_merchant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
