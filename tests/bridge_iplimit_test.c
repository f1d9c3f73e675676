/*
 * bridge_iplimit_test.c - the bridge's limits per client address
 * (bridge/bridge_iplimit.c) with the clock given by the test: exact bursts
 * and the wait of a refusal; addresses have their own buckets but one IPv6
 * /64 shares one; X-Forwarded-For is read only from a trusted peer, from the
 * right, stopping at the first untrusted hop (or at garbage); the CIDR and
 * rate flags' grammar; a table flooded with more addresses than it holds
 * stays bounded and refuses nobody for lack of room, while the address
 * deepest in debt (a scraper) keeps its bucket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "bridge_iplimit.h"

#define T0 INT64_C(1000000000)

static bridge_ip_key
t_key(const char *addr)
{
	uint8_t a[16];
	bridge_ip_key k;

	assert_true(bridge_ip_parse(addr, strlen(addr), a));
	bridge_ip_key_of(a, &k);
	return k;
}

static bridge_iplimit *
t_new(int64_t interval_us, uint32_t burst)
{
	bridge_iplimit *l = bridge_iplimit_new((bridge_ip_rate) { .interval_us = interval_us,
		.burst = burst });

	assert_non_null(l);
	return l;
}

static void
test_exact_burst_then_the_rate(void **state)
{
	bridge_iplimit *l = t_new(1000000, 5);
	bridge_ip_key a = t_key("203.0.113.7");
	bridge_ip_key b = t_key("203.0.113.8");
	int64_t wait = -1;

	(void) state;
	for (int i = 0; i < 5; i++) {
		assert_true(bridge_iplimit_take(l, &a, T0, &wait));
		assert_int_equal(0, wait);
	}
	assert_false(bridge_iplimit_take(l, &a, T0, &wait));
	assert_int_equal(1001, wait);
	assert_true(bridge_iplimit_take(l, &b, T0, &wait)); /* another address: its own */
	assert_false(bridge_iplimit_take(l, &a, T0 + 999999, &wait));
	assert_int_equal(1, wait);
	assert_true(bridge_iplimit_take(l, &a, T0 + 1000000, &wait));
	assert_false(bridge_iplimit_take(l, &a, T0 + 1000000, &wait));
	bridge_iplimit_free(l);
}

static void
test_ipv6_shares_a_bucket_per_64(void **state)
{
	bridge_iplimit *l = t_new(3600 * INT64_C(1000000), 2);
	bridge_ip_key x1 = t_key("2001:db8:1:2::1");
	bridge_ip_key x2 = t_key("2001:db8:1:2:ffff:ffff:ffff:fffe");
	bridge_ip_key y = t_key("2001:db8:1:3::1"); /* the next /64 */
	int64_t wait;

	(void) state;
	assert_memory_equal(x1.b, x2.b, sizeof(x1.b));
	assert_true(bridge_iplimit_take(l, &x1, T0, &wait));
	assert_true(bridge_iplimit_take(l, &x2, T0, &wait));
	assert_false(bridge_iplimit_take(l, &x1, T0, &wait)); /* same /64: the burst is spent */
	assert_true(bridge_iplimit_take(l, &y, T0, &wait));
	/* IPv4 keeps the whole address: neighbours are not one client */
	{
		bridge_ip_key a = t_key("198.51.100.1");
		bridge_ip_key b = t_key("198.51.100.2");

		assert_true(bridge_iplimit_take(l, &a, T0, &wait));
		assert_true(bridge_iplimit_take(l, &a, T0, &wait));
		assert_false(bridge_iplimit_take(l, &a, T0, &wait));
		assert_true(bridge_iplimit_take(l, &b, T0, &wait));
	}
	bridge_iplimit_free(l);
}

static void
t_client(const char *peer, const bridge_trust *trust, const pw_kv *h, size_t n,
    const char *want)
{
	uint8_t p[16];
	bridge_ip_key got;
	bridge_ip_key w = t_key(want);

	assert_true(bridge_ip_parse(peer, strlen(peer), p));
	bridge_client_addr(p, trust, h, n, &got);
	if (memcmp(got.b, w.b, sizeof(w.b)) != 0) {
		fail_msg("peer %s: the client is not %s", peer, want);
	}
}

static void
test_forwarded_for_only_from_trusted_proxies(void **state)
{
	bridge_trust trust;
	char why[160];
	const pw_kv one[] = { { "x-forwarded-for", "198.51.100.9" } };
	const pw_kv chain[] = { { "x-forwarded-for", "192.0.2.1, 198.51.100.9, 10.0.0.5" } };
	const pw_kv lines[] = { { "x-forwarded-for", "192.0.2.1" }, { "host", "t" },
		{ "x-forwarded-for", "198.51.100.9, 10.0.0.6" } };
	const pw_kv garbage[] = { { "x-forwarded-for", "198.51.100.9, nonsense, 10.0.0.5" } };
	const pw_kv spoofed_all[] = { { "x-forwarded-for", "10.0.0.7, 10.0.0.5" } };

	(void) state;
	assert_true(bridge_trust_parse("127.0.0.1,10.0.0.0/8,::1", &trust, why, sizeof(why)));
	assert_int_equal(3, trust.n);
	/* no header, or an untrusted peer: the peer */
	t_client("127.0.0.1", &trust, NULL, 0, "127.0.0.1");
	t_client("203.0.113.5", &trust, one, 1, "203.0.113.5");
	/* a trusted peer: the last untrusted hop from the right */
	t_client("127.0.0.1", &trust, one, 1, "198.51.100.9");
	t_client("::1", &trust, one, 1, "198.51.100.9");
	t_client("127.0.0.1", &trust, chain, 1, "198.51.100.9"); /* 10.0.0.5 is a proxy */
	t_client("127.0.0.1", &trust, lines, 3, "198.51.100.9"); /* the last line first */
	t_client("127.0.0.1", &trust, garbage, 1, "10.0.0.5");   /* garbage: the last trusted hop */
	t_client("127.0.0.1", &trust, spoofed_all, 1, "10.0.0.7"); /* all trusted: the leftmost */
	/* with no trusted proxies the header never counts */
	{
		bridge_trust none = { .n = 0 };

		t_client("127.0.0.1", &none, one, 1, "127.0.0.1");
	}
	/* the flag's grammar */
	assert_false(bridge_trust_parse("", &trust, why, sizeof(why)));
	assert_false(bridge_trust_parse("10.0.0.0/33", &trust, why, sizeof(why)));
	assert_non_null(strstr(why, "prefix length"));
	assert_false(bridge_trust_parse("10.0.0.0/", &trust, why, sizeof(why)));
	assert_false(bridge_trust_parse("example.com", &trust, why, sizeof(why)));
	assert_non_null(strstr(why, "not an address"));
	assert_false(bridge_trust_parse("::/129", &trust, why, sizeof(why)));
	assert_true(bridge_trust_parse("2001:db8::/32", &trust, why, sizeof(why)));
	t_client("2001:db8:ffff::1", &trust, one, 1, "198.51.100.9");
	t_client("2001:db9::1", &trust, one, 1, "2001:db9::1");
	{
		char many[512] = "";

		for (unsigned i = 0; i <= PW_BRIDGE_TRUSTED_PROXIES_MAX; i++) {
			char one_cidr[24];

			(void) snprintf(one_cidr, sizeof(one_cidr), "%s10.%u.0.0/16", i ? "," : "", i);
			(void) strncat(many, one_cidr, sizeof(many) - strlen(many) - 1);
		}
		assert_false(bridge_trust_parse(many, &trust, why, sizeof(why)));
		assert_non_null(strstr(why, "at most"));
	}
}

static void
test_rate_flag_grammar(void **state)
{
	bridge_ip_rate r;

	(void) state;
	assert_true(bridge_ip_rate_parse("20", &r));
	assert_int_equal(50000, r.interval_us);
	assert_int_equal(40, r.burst);
	assert_true(bridge_ip_rate_parse("5/m:3", &r));
	assert_int_equal(12000000, r.interval_us);
	assert_int_equal(3, r.burst);
	assert_true(bridge_ip_rate_parse("1/h", &r));
	assert_int_equal(3600 * INT64_C(1000000), r.interval_us);
	assert_int_equal(2, r.burst);
	assert_true(bridge_ip_rate_parse("0", &r));
	assert_int_equal(0, r.interval_us); /* off */
	assert_false(bridge_ip_rate_parse("", &r));
	assert_false(bridge_ip_rate_parse("x", &r));
	assert_false(bridge_ip_rate_parse("5/d", &r));
	assert_false(bridge_ip_rate_parse("5:0", &r));
	assert_false(bridge_ip_rate_parse("5:", &r));
	assert_false(bridge_ip_rate_parse("1000001", &r));
	assert_false(bridge_ip_rate_parse("-1", &r));
}

static void
test_a_flood_of_addresses_stays_bounded_and_refuses_nobody_for_room(void **state)
{
	bridge_iplimit *l = t_new(3600 * INT64_C(1000000), 10); /* 1 per hour: no refill */
	bridge_ip_key busy = t_key("192.0.2.200");
	char addr[48];
	int64_t wait;
	int64_t now = T0;

	(void) state;
	/* a scraper spends its whole burst: 10 hours of debt, the most of anyone,
	 * so it is the last entry to be evicted */
	for (int i = 0; i < 10; i++) {
		assert_true(bridge_iplimit_take(l, &busy, now, &wait));
	}
	/* 4 x the table of distinct addresses, each sending its one request */
	for (unsigned i = 0; i < 4 * PW_BRIDGE_IP_SLOTS; i++) {
		bridge_ip_key k;

		(void) snprintf(addr, sizeof(addr), "2001:db8:%x:%x::1", i >> 16, i & 0xffff);
		k = t_key(addr);
		now += 1; /* a microsecond apart */
		assert_true(bridge_iplimit_take(l, &k, now, &wait)); /* never refused for room */
		/* the scraper keeps coming back: it stays limited all along */
		if (i % 1024 == 0) {
			assert_false(bridge_iplimit_take(l, &busy, now, &wait));
		}
	}
	assert_true(bridge_iplimit_used(l) <= PW_BRIDGE_IP_SLOTS);
	assert_int_equal(PW_BRIDGE_IP_SLOTS, bridge_iplimit_used(l));
	/* an address whose bucket was full again (idle) is the first to go: a
	 * limiter with a refill finds room without evicting anyone busy */
	bridge_iplimit_free(l);
	l = t_new(1000, 1); /* 1 per ms */
	for (unsigned i = 0; i < 2 * PW_BRIDGE_IP_SLOTS; i++) {
		bridge_ip_key k;

		(void) snprintf(addr, sizeof(addr), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
		    i & 255);
		k = t_key(addr);
		assert_true(bridge_iplimit_take(l, &k, T0 + (int64_t) i * 1000, &wait));
	}
	assert_true(bridge_iplimit_used(l) <= PW_BRIDGE_IP_SLOTS);
	bridge_iplimit_free(l);
}

static void
test_zero_rate_lets_everything_pass(void **state)
{
	bridge_iplimit *l = t_new(0, 0);
	bridge_ip_key a = t_key("203.0.113.7");
	int64_t wait;

	(void) state;
	for (int i = 0; i < 10000; i++) {
		assert_true(bridge_iplimit_take(l, &a, T0, &wait));
	}
	assert_int_equal(0, bridge_iplimit_used(l));
	bridge_iplimit_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_burst_then_the_rate),
		cmocka_unit_test(test_ipv6_shares_a_bucket_per_64),
		cmocka_unit_test(test_forwarded_for_only_from_trusted_proxies),
		cmocka_unit_test(test_rate_flag_grammar),
		cmocka_unit_test(test_a_flood_of_addresses_stays_bounded_and_refuses_nobody_for_room),
		cmocka_unit_test(test_zero_rate_lets_everything_pass),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
