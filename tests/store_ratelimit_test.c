/*
 * store_ratelimit_test.c - a merchant's own rate limits (MerchantRecord
 * 40..42): set per class (absent: unchanged, default: cleared), kept across
 * a reopen, listed for the server's start, audited; bad input and unknown
 * merchants write nothing. Runs on LMDB and PostgreSQL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "store_fixture.h"

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_ratelimit", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL, .open = true, .merchant_name = "Limits",
		.merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	return fx_env_setup(state, &cfg);
}

typedef struct t_set {
	const char *merchant_id;
	const Paywire__Store__V1__MerchantRateLimitRecord *set[STORE_RATE_LIMIT_CLASSES];
	Paywire__Store__V1__MerchantRecord *out;
	char reason[256];
} t_set;

static pw_status
t_set_apply(store_txn *t, void *arg)
{
	t_set *s = arg;

	if (s->out != NULL) {
		paywire__store__v1__merchant_record__free_unpacked(s->out, NULL);
		s->out = NULL;
	}
	return store_merchant_rate_limits_set(t, s->merchant_id, s->set, &s->out, s->reason,
	    sizeof(s->reason));
}

static Paywire__Store__V1__MerchantRateLimitRecord
t_rl(uint32_t kind, uint32_t rate, uint32_t period_s, uint32_t burst)
{
	Paywire__Store__V1__MerchantRateLimitRecord r;

	paywire__store__v1__merchant_rate_limit_record__init(&r);
	r.kind = kind;
	r.rate = rate;
	r.period_s = period_s;
	r.burst = burst;
	return r;
}

static uint64_t
t_audits(fx_env *e)
{
	store_counts c;

	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	return c.audit;
}

typedef struct t_seen {
	int n;
	char id[FX_MERCHANT_ID_BYTES];
	uint32_t reads_rate;
} t_seen;

static void
t_visit(const Paywire__Store__V1__MerchantRecord *m, void *arg)
{
	t_seen *s = arg;

	s->n++;
	(void) snprintf(s->id, sizeof(s->id), "%s", m->merchant_id);
	s->reads_rate = m->rate_reads != NULL ? m->rate_reads->rate : 0;
}

static void
test_set_get_reopen_and_list(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__MerchantRateLimitRecord reads = t_rl(STORE_RATE_LIMIT_CUSTOM, 5, 60, 3);
	Paywire__Store__V1__MerchantRateLimitRecord unl = t_rl(STORE_RATE_LIMIT_UNLIMITED, 0, 0, 0);
	Paywire__Store__V1__MerchantRateLimitRecord def = t_rl(STORE_RATE_LIMIT_DEFAULT, 0, 0, 0);
	Paywire__Store__V1__MerchantRecord *m = NULL;
	t_set s = { .merchant_id = e->merchant_id, .set = { &reads, NULL, &unl } };
	t_seen seen = { 0 };
	char other[FX_MERCHANT_ID_BYTES];
	uint64_t a0 = t_audits(e);

	/* nobody has limits of their own yet */
	assert_int_equal(PW_OK, store_merchant_rate_limits_each(e->s, t_visit, &seen));
	assert_int_equal(0, seen.n);
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	    other, sizeof(other)));
	a0 = t_audits(e);

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_set_apply, &s));
	assert_non_null(s.out);
	assert_non_null(s.out->rate_reads);
	assert_int_equal(5, s.out->rate_reads->rate);
	assert_int_equal(60, s.out->rate_reads->period_s);
	assert_int_equal(3, s.out->rate_reads->burst);
	assert_null(s.out->rate_writes);
	assert_non_null(s.out->rate_provider);
	assert_int_equal(STORE_RATE_LIMIT_UNLIMITED, s.out->rate_provider->kind);
	assert_int_equal(a0 + 1, t_audits(e));

	/* kept across a close and reopen (a server restart) */
	fx_store_reopen(e);
	assert_int_equal(PW_OK, store_merchant_record_get(e->s, e->merchant_id, &m));
	assert_non_null(m->rate_reads);
	assert_int_equal(5, m->rate_reads->rate);
	assert_non_null(m->rate_provider);
	assert_null(m->rate_writes);
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	m = NULL;
	assert_int_equal(PW_OK, store_merchant_record_get(e->s, other, &m));
	assert_null(m->rate_reads);
	assert_null(m->rate_writes);
	assert_null(m->rate_provider);
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	m = NULL;

	/* listed for the server's start: only the merchant with limits */
	assert_int_equal(PW_OK, store_merchant_rate_limits_each(e->s, t_visit, &seen));
	assert_int_equal(1, seen.n);
	assert_string_equal(e->merchant_id, seen.id);
	assert_int_equal(5, seen.reads_rate);

	/* absent classes stay; default clears one */
	s.set[0] = NULL;
	s.set[1] = NULL;
	s.set[2] = &def;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_set_apply, &s));
	assert_non_null(s.out->rate_reads);
	assert_null(s.out->rate_provider);
	s.set[0] = &def;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_set_apply, &s));
	assert_null(s.out->rate_reads);
	seen.n = 0;
	assert_int_equal(PW_OK, store_merchant_rate_limits_each(e->s, t_visit, &seen));
	assert_int_equal(0, seen.n);
	assert_int_equal(a0 + 3, t_audits(e));
	paywire__store__v1__merchant_record__free_unpacked(s.out, NULL);
}

static void
test_bad_limits_and_unknown_merchant_write_nothing(void **state)
{
	fx_env *e = *state;
	const Paywire__Store__V1__MerchantRateLimitRecord bad[] = {
		t_rl(STORE_RATE_LIMIT_CUSTOM, 0, 1, 1),             /* rate 0 */
		t_rl(STORE_RATE_LIMIT_CUSTOM, PW_RATE_MAX + 1, 1, 1),
		t_rl(STORE_RATE_LIMIT_CUSTOM, 1, 2, 1),             /* period */
		t_rl(STORE_RATE_LIMIT_CUSTOM, 1, 1, 0),             /* burst 0 */
		t_rl(STORE_RATE_LIMIT_CUSTOM, 1, 1, PW_RATE_MAX + 1),
		t_rl(3, 0, 0, 0),                                   /* kind */
		t_rl(STORE_RATE_LIMIT_UNLIMITED, 1, 0, 0),          /* rate with unlimited */
		t_rl(STORE_RATE_LIMIT_DEFAULT, 0, 0, 5),            /* burst with default */
	};
	Paywire__Store__V1__MerchantRateLimitRecord ok = t_rl(STORE_RATE_LIMIT_CUSTOM, 1, 1, 1);
	Paywire__Store__V1__MerchantRecord *m = NULL;
	uint64_t a0 = t_audits(e);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_set s = { .merchant_id = e->merchant_id, .set = { &ok, &bad[i], NULL } };

		assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_set_apply, &s));
		assert_null(s.out);
		assert_non_null(strstr(s.reason, "writes: "));
	}
	{
		t_set s = { .merchant_id = "mer_nobody", .set = { &ok, NULL, NULL } };

		assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_set_apply, &s));
		assert_null(s.out);
		assert_non_null(strstr(s.reason, "no merchant"));
	}
	assert_int_equal(a0, t_audits(e));
	assert_int_equal(PW_OK, store_merchant_record_get(e->s, e->merchant_id, &m));
	assert_null(m->rate_reads);
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	assert_int_equal(PW_NOT_FOUND, store_merchant_record_get(e->s, "mer_nobody", &m));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_reopen_and_list, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_bad_limits_and_unknown_merchant_write_nothing,
		    t_setup, fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
