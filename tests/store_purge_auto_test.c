/* store_purge_auto_test.c - the writer deletes expired replies and
 * idempotency keys by itself: once per PW_STORE_PURGE_INTERVAL_MS it appends
 * one bounded purge write to a batch it is committing anyway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store_fixture.h"

#define T0_MS INT64_C(1767225600000)

typedef struct reply_put {
	const char *request_id; /* key under scope "it" */
} reply_put;

static pw_status
reply_put_apply(store_txn *t, void *arg)
{
	const reply_put *r = arg;
	uint8_t hash[32] = { 1 };
	static const uint8_t body[] = "stored reply";

	return store_reply_put(t, "it", r->request_id, hash, body, sizeof(body));
}

static void
put_reply(fx_env *e, const char *request_id)
{
	reply_put r = { .request_id = request_id };
	assert_int_equal(PW_OK, store_apply_sync(e->s, reply_put_apply, &r));
}

static uint64_t
replies(fx_env *e)
{
	store_counts c;
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	return c.replies;
}

static uint64_t
writes(fx_env *e)
{
	store_stats st;
	store_stats_get(e->s, &st);
	return st.writes;
}

static int
setup(void **state)
{
	const fx_cfg cfg = { .name = "purge_auto", .open = true, .clock_t0_ms = T0_MS };
	return fx_env_setup(state, &cfg);
}

static void
test_writer_purges_expired_replies_without_being_asked(void **state)
{
	fx_env *e = *state;

	put_reply(e, "req-old");
	assert_int_equal(1, replies(e));
	e->now_ms += PW_IDEMPOTENCY_TTL_MS + 3600 * 1000; /* 25 h later */
	put_reply(e, "req-new");                          /* any write: the purge rides along */
	assert_int_equal(1, replies(e));                  /* the expired one is gone */
}

static void
test_writer_purges_at_most_once_per_interval(void **state)
{
	fx_env *e = *state;
	uint64_t w0 = writes(e);

	e->now_ms += 10 * 1000; /* within the interval of open: no purge added */
	put_reply(e, "a");
	assert_int_equal(w0 + 1, writes(e));
	e->now_ms += PW_STORE_PURGE_INTERVAL_MS; /* interval passed: one purge rides along */
	put_reply(e, "b");
	assert_int_equal(w0 + 3, writes(e));
	put_reply(e, "c"); /* and not again right after */
	assert_int_equal(w0 + 4, writes(e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_purges_expired_replies_without_being_asked,
		    setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_writer_purges_at_most_once_per_interval, setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
