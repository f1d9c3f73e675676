/* common_util_test.c - status table, UTF-8, currencies, exact amounts, ids,
 * the randomness pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pw_common.h"

static void
test_status_table_maps_every_code_to_name_http_and_wire(void **state)
{
	(void) state;
	assert_string_equal("OK", pw_status_name(PW_OK));
	assert_int_equal(200, pw_status_http(PW_OK));
	assert_int_equal(400, pw_status_http(PW_INVALID_ARGUMENT));
	assert_int_equal(401, pw_status_http(PW_UNAUTHENTICATED));
	assert_int_equal(403, pw_status_http(PW_PERMISSION_DENIED));
	assert_int_equal(404, pw_status_http(PW_NOT_FOUND));
	assert_int_equal(409, pw_status_http(PW_ALREADY_EXISTS));
	assert_int_equal(409, pw_status_http(PW_FAILED_PRECONDITION));
	assert_int_equal(409, pw_status_http(PW_ABORTED));
	assert_int_equal(429, pw_status_http(PW_RESOURCE_EXHAUSTED));
	assert_int_equal(413, pw_status_http(PW_PAYLOAD_TOO_LARGE));
	assert_int_equal(501, pw_status_http(PW_UNIMPLEMENTED));
	assert_int_equal(503, pw_status_http(PW_UNAVAILABLE));
	assert_int_equal(500, pw_status_http(PW_INTERNAL));
	assert_int_equal(504, pw_status_http(PW_DEADLINE_EXCEEDED));
	assert_int_equal(10, pw_status_wire(PW_IDEMPOTENCY_CONFLICT));
	assert_int_equal(9, pw_status_wire(PW_INVALID_TRANSITION));
	assert_int_equal(PW_ABORTED, pw_status_from_wire(10));
	assert_int_equal(PW_UNAUTHENTICATED, pw_status_from_wire(16));
	assert_int_equal(PW_INTERNAL, pw_status_from_wire(100)); /* refinements never come from the wire */
	assert_int_equal(PW_INTERNAL, pw_status_from_wire(2));
	assert_string_equal("UNKNOWN", pw_status_name((pw_status) 77));
	assert_int_equal(500, pw_status_http((pw_status) 77));
}

static void
test_utf8_refuses_nul_overlong_surrogates_and_truncation(void **state)
{
	(void) state;
	assert_true(pw_utf8_valid("Jane Doe", 8));
	assert_true(pw_utf8_valid("J\xc3\xa9r\xc3\xb4me \xe2\x82\xac \xf0\x9f\x98\x80", 17));
	assert_false(pw_utf8_valid("a\0b", 3));
	assert_false(pw_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
	assert_false(pw_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(pw_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(pw_utf8_valid("\xe2\x82", 2));         /* truncated */
	assert_false(pw_utf8_valid("\xff", 1));
	assert_false(pw_utf8_valid("\x80", 1));
}

static void
test_currency_exponents_follow_iso_4217(void **state)
{
	(void) state;
	assert_int_equal(2, pw_currency_exponent("EUR"));
	assert_int_equal(2, pw_currency_exponent("INR"));
	assert_int_equal(0, pw_currency_exponent("JPY"));
	assert_int_equal(3, pw_currency_exponent("KWD"));
	assert_int_equal(4, pw_currency_exponent("CLF"));
	assert_int_equal(-1, pw_currency_exponent("eur"));
	assert_int_equal(-1, pw_currency_exponent("XXX"));
	assert_int_equal(-1, pw_currency_exponent("XAU"));
	assert_int_equal(-1, pw_currency_exponent("EURO"));
	assert_int_equal(-1, pw_currency_exponent("EU"));
	assert_int_equal(-1, pw_currency_exponent(""));
	assert_int_equal(-1, pw_currency_exponent("ABC"));
}

static pw_status
parse(const char *s, int exp, int64_t *out)
{
	return pw_amount_parse(s, strlen(s), exp, out);
}

static void
test_amount_parse_is_exact_and_refuses_excess_precision(void **state)
{
	int64_t v = -1;
	(void) state;
	assert_int_equal(PW_OK, parse("49.00", 2, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_OK, parse("49", 2, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_OK, parse("49.9", 2, &v));
	assert_int_equal(4990, v);
	assert_int_equal(PW_OK, parse("0.01", 2, &v));
	assert_int_equal(1, v);
	assert_int_equal(PW_OK, parse("500", 0, &v));
	assert_int_equal(500, v);
	assert_int_equal(PW_OK, parse("1.234", 3, &v));
	assert_int_equal(1234, v);
	assert_int_equal(PW_OK, parse("10000000000.00", 2, &v));
	assert_int_equal(PW_AMOUNT_MINOR_MAX, v);
	v = 7;
	assert_int_equal(PW_INVALID_ARGUMENT, parse("49.001", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("49.000", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("0.5", 0, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("-1", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("+1", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("1e3", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse(" 1", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("1.", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse(".5", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("1.2.3", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("10000000000.01", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, parse("99999999999999999999999", 2, &v));
	assert_int_equal(7, v); /* untouched on error */
}

static void
test_amount_format_uses_the_currency_exponent(void **state)
{
	char buf[32];
	(void) state;
	pw_amount_format(buf, sizeof(buf), 4900, 2);
	assert_string_equal("49.00", buf);
	pw_amount_format(buf, sizeof(buf), 5, 2);
	assert_string_equal("0.05", buf);
	pw_amount_format(buf, sizeof(buf), 500, 0);
	assert_string_equal("500", buf);
	pw_amount_format(buf, sizeof(buf), 1234, 3);
	assert_string_equal("1.234", buf);
	pw_amount_format(buf, sizeof(buf), -1900, 2);
	assert_string_equal("-19.00", buf);
}

static void
test_ids_are_prefixed_unique_and_time_ordered(void **state)
{
	char a[PW_ID_BYTES(3)];
	char b[PW_ID_BYTES(3)];
	char c[PW_ID_BYTES(3)];
	(void) state;
	pw_id_new(a, sizeof(a), "cs_", 1767225600000);
	pw_id_new(b, sizeof(b), "cs_", 1767225600000);
	pw_id_new(c, sizeof(c), "cs_", 1767225600001);
	assert_int_equal(3 + 12 + 32, strlen(a));
	assert_memory_equal("cs_", a, 3);
	assert_string_not_equal(a, b);
	assert_true(strcmp(a, c) < 0);
	assert_true(strcmp(b, c) < 0);
}

static bool
all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0) {
			return false;
		}
	}
	return true;
}

static void
test_random_pool_hands_out_in_order_and_wipes_what_it_gave(void **state)
{
	const uint8_t *pool;
	size_t size;
	size_t used;
	uint8_t before[512];
	uint8_t got[40];
	(void) state;
	pw_random(got, 1); /* the pool is filled now */
	pw_random_pool_view(&pool, &size, &used);
	assert_true(size <= sizeof(before) && used >= 1 && used < size);
	if (size - used < sizeof(got)) { /* start from a fresh pool */
		uint8_t drain[256];
		while (used < size) {
			size_t n = size - used < sizeof(drain) / 2 ? size - used : sizeof(drain) / 2;
			pw_random(drain, n);
			pw_random_pool_view(&pool, &size, &used);
		}
		pw_random(got, 1);
		pw_random_pool_view(&pool, &size, &used);
	}
	memcpy(before, pool, size);
	assert_true(all_zero(pool, used));
	assert_false(all_zero(pool + used, size - used));
	pw_random(got, sizeof(got));
	assert_memory_equal(before + used, got, sizeof(got));
	assert_true(all_zero(pool, used + sizeof(got)));
	assert_memory_equal(before + used + sizeof(got), pool + used + sizeof(got),
	    size - used - sizeof(got));
	/* a draw across the pool's end: the rest of this pool, then a new one */
	{
		size_t left;
		uint8_t big[100];
		pw_random_pool_view(&pool, &size, &used);
		while (size - used >= sizeof(big)) {
			pw_random(got, sizeof(got));
			pw_random_pool_view(&pool, &size, &used);
		}
		left = size - used;
		memcpy(before, pool + used, left);
		pw_random(big, sizeof(big));
		assert_memory_equal(before, big, left);
		pw_random_pool_view(&pool, &size, &used);
		assert_int_equal(sizeof(big) - left, used);
		assert_true(all_zero(pool, used));
	}
	/* a draw larger than half the pool goes past it */
	{
		uint8_t large[200];
		size_t used0;
		pw_random_pool_view(&pool, &size, &used0);
		pw_random(large, sizeof(large));
		pw_random_pool_view(&pool, &size, &used);
		assert_int_equal(used0, used);
		assert_false(all_zero(large, sizeof(large)));
	}
}

/* A forked child must not hand out the bytes its parent hands out next: the
 * pool is memory, and fork copies memory. */
static void
test_random_pool_is_not_shared_with_a_forked_child(void **state)
{
	uint8_t mine[32];
	uint8_t child[32];
	int fds[2];
	pid_t pid;
	int st = 0;
	(void) state;
	pw_random(mine, 1); /* a filled pool, most of it left */
	assert_int_equal(0, pipe(fds));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t b[32];
		pw_random(b, sizeof(b));
		_exit(write(fds[1], b, sizeof(b)) == (ssize_t) sizeof(b) ? 0 : 1);
	}
	close(fds[1]);
	pw_random(mine, sizeof(mine));
	assert_int_equal((ssize_t) sizeof(child), read(fds[0], child, sizeof(child)));
	close(fds[0]);
	assert_int_equal(pid, waitpid(pid, &st, 0));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_memory_not_equal(mine, child, sizeof(mine));
}

static void
test_strlcpy_reports_truncation(void **state)
{
	char buf[4];
	(void) state;
	assert_true(pw_strlcpy(buf, "abc", sizeof(buf)));
	assert_string_equal("abc", buf);
	assert_false(pw_strlcpy(buf, "abcd", sizeof(buf)));
	assert_string_equal("abc", buf);
}

static void
test_alloc_hook_fails_exactly_the_nth_allocation(void **state)
{
	(void) state;
	pw_alloc_fail_at(3);
	void *p1 = pw_malloc(8);
	void *p2 = pw_malloc(8);
	void *p3 = pw_malloc(8);
	void *p4 = pw_malloc(8);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_null(p3);
	assert_non_null(p4);
	pw_free(p1);
	pw_free(p2);
	pw_free(p4);
	pw_alloc_fail_at(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table_maps_every_code_to_name_http_and_wire),
		cmocka_unit_test(test_utf8_refuses_nul_overlong_surrogates_and_truncation),
		cmocka_unit_test(test_currency_exponents_follow_iso_4217),
		cmocka_unit_test(test_amount_parse_is_exact_and_refuses_excess_precision),
		cmocka_unit_test(test_amount_format_uses_the_currency_exponent),
		cmocka_unit_test(test_ids_are_prefixed_unique_and_time_ordered),
		cmocka_unit_test(test_random_pool_hands_out_in_order_and_wipes_what_it_gave),
		cmocka_unit_test(test_random_pool_is_not_shared_with_a_forked_child),
		cmocka_unit_test(test_strlcpy_reports_truncation),
		cmocka_unit_test(test_alloc_hook_fails_exactly_the_nth_allocation),
	};
	if (pw_common_init() != 0) {
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
