/*
 * server_notify_test.c - the pieces of outbound notifications that need no
 * network (server/srv_notify_worker.c, provider/prov_notify.c): the retry
 * schedule with its jitter bounds and its end, the Standard Webhooks
 * signature against the specification's own example, a rotation's two
 * signatures, the address policy's ranges, and the URL policy (https only
 * unless allowed, internal literals refused unless allowed, credentials in
 * the URL refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "prov_notify.h"
#include "srv_notify.h"

static void
test_schedule_spans_three_days_with_jitter_then_ends(void **state)
{
	static const int64_t want[] = { 5000, 300000, 1800000, 7200000, 18000000, 36000000,
		50400000, 72000000, 86400000 };
	int64_t total = 0;

	(void) state;
	assert_int_equal(srv_notify_schedule_len, 9);
	for (uint32_t n = 1; n <= 9; n++) {
		int64_t lo = srv_notify_backoff_ms(n, 0.0);
		int64_t hi = srv_notify_backoff_ms(n, 0.999999);
		assert_int_equal(srv_notify_schedule_ms[n - 1], want[n - 1]);
		assert_true(lo >= want[n - 1] * 9 / 10 && lo <= want[n - 1]);
		assert_true(hi <= want[n - 1] * 11 / 10 && hi >= want[n - 1]);
		total += want[n - 1];
	}
	assert_int_equal(srv_notify_backoff_ms(10, 0.5), 0); /* used up: a dead letter */
	assert_int_equal(srv_notify_backoff_ms(0, 0.5), 0);
	assert_true(total > 3LL * 24 * 3600 * 1000 && total < 4LL * 24 * 3600 * 1000);
}

static void
test_signature_matches_the_specification_example(void **state)
{
	char sig[128];

	(void) state;
	/* the Standard Webhooks specification's example (and the npm library's test) */
	assert_true(prov_notify_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}", 20, sig,
	    sizeof(sig)));
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* malformed secrets: refused, nothing signed */
	assert_false(prov_notify_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "x", 1, sig,
	    sizeof(sig)));
	assert_false(prov_notify_sign("whsec_***", "m", 1, "x", 1, sig, sizeof(sig)));
	assert_false(prov_notify_sign("whsec_", "m", 1, "x", 1, sig, sizeof(sig)));
	assert_false(prov_notify_sign("whsec", "m", 1, "x", 1, sig, sizeof(sig)));
	assert_false(prov_notify_sign("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "x", 1, sig,
	    sizeof(sig)));
	assert_false(prov_notify_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "x", 1, sig,
	    10)); /* no room */
}

static bool
internal4(const char *a)
{
	struct sockaddr_in s;

	memset(&s, 0, sizeof(s));
	s.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return prov_notify_addr_internal((const struct sockaddr *) (const void *) &s);
}

static bool
internal6(const char *a)
{
	struct sockaddr_in6 s;

	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
	return prov_notify_addr_internal((const struct sockaddr *) (const void *) &s);
}

static void
test_internal_ranges(void **state)
{
	static const char *const in4[] = { "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.254",
		"127.0.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"224.0.0.1", "255.255.255.255" };
	static const char *const out4[] = { "8.8.8.8", "100.63.255.255", "100.128.0.0",
		"172.15.255.255", "172.32.0.0", "192.167.1.1", "203.0.113.7", "1.1.1.1" };
	static const char *const in6[] = { "::", "::1", "fc00::1", "fdff::1", "fe80::1",
		"febf::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "ff02::1" };
	static const char *const out6[] = { "2001:db8::1", "2606:4700::1111", "fec0::1",
		"::ffff:8.8.8.8" };

	(void) state;
	for (size_t i = 0; i < sizeof(in4) / sizeof(in4[0]); i++) {
		assert_true(internal4(in4[i]));
	}
	for (size_t i = 0; i < sizeof(out4) / sizeof(out4[0]); i++) {
		assert_false(internal4(out4[i]));
	}
	for (size_t i = 0; i < sizeof(in6) / sizeof(in6[0]); i++) {
		assert_true(internal6(in6[i]));
	}
	for (size_t i = 0; i < sizeof(out6) / sizeof(out6[0]); i++) {
		assert_false(internal6(out6[i]));
	}
}

static void
test_url_policy(void **state)
{
	const prov_notify_policy strict = { 0 };
	const prov_notify_policy http = { .allow_http = true };
	const prov_notify_policy priv = { .allow_http = true, .allow_private = true };
	char why[256];

	(void) state;
	assert_int_equal(prov_notify_check_url(&strict, "https://203.0.113.7/h", why, sizeof(why)),
	    PW_OK);
	assert_int_equal(prov_notify_check_url(&strict, "http://203.0.113.7/h", why, sizeof(why)),
	    PW_INVALID_ARGUMENT);
	assert_non_null(strstr(why, "--notify-allow-http"));
	assert_int_equal(prov_notify_check_url(&http, "http://203.0.113.7/h", why, sizeof(why)),
	    PW_OK);
	assert_int_equal(prov_notify_check_url(&http, "ftp://203.0.113.7/h", why, sizeof(why)),
	    PW_INVALID_ARGUMENT);
	assert_int_equal(prov_notify_check_url(&strict, "https://127.0.0.1/h", why, sizeof(why)),
	    PW_INVALID_ARGUMENT);
	assert_non_null(strstr(why, "--notify-allow-private"));
	assert_int_equal(prov_notify_check_url(&strict, "https://[::1]:8443/h", why, sizeof(why)),
	    PW_INVALID_ARGUMENT);
	assert_int_equal(prov_notify_check_url(&strict, "https://169.254.169.254/latest", why,
	    sizeof(why)), PW_INVALID_ARGUMENT);
	assert_int_equal(prov_notify_check_url(&priv, "http://127.0.0.1:9/h", why, sizeof(why)),
	    PW_OK);
	assert_int_equal(prov_notify_check_url(&strict, "https://user:pw@203.0.113.7/h", why,
	    sizeof(why)), PW_INVALID_ARGUMENT);
	assert_non_null(strstr(why, "credentials"));
	assert_int_equal(prov_notify_check_url(&strict, "not a url", why, sizeof(why)),
	    PW_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_spans_three_days_with_jitter_then_ends),
		cmocka_unit_test(test_signature_matches_the_specification_example),
		cmocka_unit_test(test_internal_ranges),
		cmocka_unit_test(test_url_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
