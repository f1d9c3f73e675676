/*
 * server_mlimits_test.c - SetMerchantRateLimits and GetMerchantRateLimits
 * through a real server (in-process, on ipc://): the admin key only; every
 * refusal (bad merchant id, unknown merchant, no class named, an unknown
 * kind, interval_us set by the caller, a rate with no kind, each store rule)
 * answers its code and reason and writes nothing (Get still shows the old
 * limits); a set answers the limits as stored with the server's defaults; a
 * retry with the same request_id answers the stored reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_harness.h"

enum { C_OK = 0, C_INVALID = 3, C_NOT_FOUND = 5, C_UNAUTH = 16 };

static th_env F;
static const char *const admin_key = TH_ADMIN_KEY;

static int
group_setup(void **state)
{
	(void) state;
	th_env_start(&F, 4);
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	th_env_stop(&F);
	return 0;
}

static Paywire__V1__MerchantRateLimit
t_rl(Paywire__V1__MerchantRateLimitKind kind, uint32_t rate, uint32_t period_s, uint32_t burst)
{
	Paywire__V1__MerchantRateLimit r = PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT;

	r.kind = kind;
	r.rate = rate;
	r.period_s = period_s;
	r.burst = burst;
	return r;
}

static Paywire__V1__Response *
t_set(const char *key, const char *rid, const char *mid, Paywire__V1__MerchantRateLimit *reads,
    Paywire__V1__MerchantRateLimit *writes, Paywire__V1__MerchantRateLimit *provider)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__SetMerchantRateLimitsRequest r = PAYWIRE__V1__SET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__MerchantRateLimits l = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__Response *resp;
	char rbuf[64];

	l.reads = reads;
	l.writes = writes;
	l.provider = provider;
	r.merchant_id = (char *) mid;
	r.limits = &l;
	if (rid == NULL) {
		th_request_id(rbuf, sizeof(rbuf));
		rid = rbuf;
	}
	req.request_id = (char *) rid;
	req.api_key = (char *) key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_SET_MERCHANT_RATE_LIMITS;
	req.set_merchant_rate_limits = &r;
	resp = th_call(F.sock, &req, NULL);
	assert_non_null(resp);
	assert_non_null(resp->status);
	return resp;
}

static Paywire__V1__Response *
t_get(const char *key, const char *mid)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__GetMerchantRateLimitsRequest r = PAYWIRE__V1__GET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__Response *resp;
	char rid[64];

	th_request_id(rid, sizeof(rid));
	r.merchant_id = (char *) mid;
	req.request_id = rid;
	req.api_key = (char *) key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_GET_MERCHANT_RATE_LIMITS;
	req.get_merchant_rate_limits = &r;
	resp = th_call(F.sock, &req, NULL);
	assert_non_null(resp);
	assert_non_null(resp->status);
	return resp;
}

static void
t_refused(Paywire__V1__Response *resp, int code, const char *needle)
{
	if ((int) resp->status->code != code || strstr(resp->status->message, needle) == NULL) {
		fail_msg("want code %d with '%s', got %d '%s'", code, needle, (int) resp->status->code,
		    resp->status->message);
	}
	th_resp_free(resp);
}

/* The merchant's reads as Get shows them. */
static Paywire__V1__MerchantRateLimitKind
t_reads_kind(uint32_t *rate)
{
	Paywire__V1__Response *g = t_get(admin_key, F.mid);
	Paywire__V1__MerchantRateLimitKind k;

	assert_int_equal(C_OK, g->status->code);
	k = g->get_merchant_rate_limits->limits->reads->kind;
	*rate = g->get_merchant_rate_limits->limits->reads->rate;
	th_resp_free(g);
	return k;
}

static void
test_refusals_write_nothing(void **state)
{
	Paywire__V1__MerchantRateLimit ok = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM, 7, 60, 3);
	Paywire__V1__MerchantRateLimit bad_kind = t_rl((Paywire__V1__MerchantRateLimitKind) 9, 0, 0, 0);
	Paywire__V1__MerchantRateLimit no_kind = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_KIND_UNSPECIFIED, 5, 1, 1);
	Paywire__V1__MerchantRateLimit with_interval = ok;
	Paywire__V1__MerchantRateLimit period = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM, 7, 7, 3);
	Paywire__V1__MerchantRateLimit burst0 = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM, 7, 60, 0);
	Paywire__V1__MerchantRateLimit unl_rate = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED, 7, 0, 0);
	uint32_t rate = 0;

	(void) state;
	with_interval.interval_us = 5;
	t_refused(t_set(F.key, NULL, F.mid, &ok, NULL, NULL), C_UNAUTH, "admin key");
	t_refused(t_set(admin_key, NULL, "", &ok, NULL, NULL), C_INVALID, "merchant_id");
	t_refused(t_set(admin_key, NULL, "mer nobody", &ok, NULL, NULL), C_INVALID, "printable");
	t_refused(t_set(admin_key, NULL, "mer_nobody", &ok, NULL, NULL), C_NOT_FOUND, "no merchant");
	t_refused(t_set(admin_key, NULL, F.mid, NULL, NULL, NULL), C_INVALID, "names no class");
	t_refused(t_set(admin_key, NULL, F.mid, &bad_kind, NULL, NULL), C_INVALID,
	    "is not a value of paywire.v1.MerchantRateLimitKind"); /* the wire layer */
	t_refused(t_set(admin_key, NULL, F.mid, NULL, &no_kind, NULL), C_INVALID, "a kind is needed");
	t_refused(t_set(admin_key, NULL, F.mid, NULL, NULL, &with_interval), C_INVALID,
	    "provider.interval_us");
	t_refused(t_set(admin_key, NULL, F.mid, &period, NULL, NULL), C_INVALID, "period");
	t_refused(t_set(admin_key, NULL, F.mid, &burst0, NULL, NULL), C_INVALID, "burst");
	t_refused(t_set(admin_key, NULL, F.mid, &unl_rate, NULL, NULL), C_INVALID, "custom limit only");
	/* a good class with a bad one: nothing at all */
	t_refused(t_set(admin_key, NULL, F.mid, &ok, &burst0, NULL), C_INVALID, "writes");
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT,
	    t_reads_kind(&rate));
	t_refused(t_get(F.key, F.mid), C_UNAUTH, "admin key");
	t_refused(t_get(admin_key, "mer_nobody"), C_NOT_FOUND, "no merchant");
}

static void
test_set_get_and_replay(void **state)
{
	Paywire__V1__MerchantRateLimit reads = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM, 7, 60, 3);
	Paywire__V1__MerchantRateLimit unl = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED, 0, 0, 0);
	Paywire__V1__MerchantRateLimit def = t_rl(
	    PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT, 0, 0, 0);
	Paywire__V1__Response *r;
	const Paywire__V1__MerchantRateLimits *l;
	uint32_t rate = 0;

	(void) state;
	r = t_set(admin_key, "req_mlimits_1", F.mid, &reads, NULL, &unl);
	assert_int_equal(C_OK, r->status->code);
	assert_string_equal(F.mid, r->set_merchant_rate_limits->merchant_id);
	l = r->set_merchant_rate_limits->limits;
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM,
	    l->reads->kind);
	assert_int_equal(7, l->reads->rate);
	assert_int_equal(60, l->reads->period_s);
	assert_int_equal(3, l->reads->burst);
	assert_int_equal(60000000 / 7, l->reads->interval_us);
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT,
	    l->writes->kind);
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED,
	    l->provider->kind);
	assert_non_null(r->set_merchant_rate_limits->server_defaults);
	th_resp_free(r);
	/* the same request_id again: the stored reply, nothing changed */
	r = t_set(admin_key, "req_mlimits_1", F.mid, &reads, NULL, &unl);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(7, r->set_merchant_rate_limits->limits->reads->rate);
	th_resp_free(r);
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM,
	    t_reads_kind(&rate));
	assert_int_equal(7, rate);
	/* back to the default */
	r = t_set(admin_key, NULL, F.mid, &def, NULL, NULL);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT,
	    r->set_merchant_rate_limits->limits->reads->kind);
	assert_int_equal(PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED,
	    r->set_merchant_rate_limits->limits->provider->kind); /* left as it was */
	th_resp_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals_write_nothing),
		cmocka_unit_test(test_set_get_and_replay),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
