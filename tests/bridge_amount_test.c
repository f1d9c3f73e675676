/* bridge_amount_test.c - exact JSON amounts and the create_session body
 * parser of the bridge (bridge_json.h). No server, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bridge_json.h"

/* bridge_json_amount on a C-string token. */
static pw_status
amount(const char *raw, int exponent, int64_t *out)
{
	char msg[BRIDGE_JSON_MSG_BYTES];
	*out = -7;
	return bridge_json_amount(raw, strlen(raw), exponent, out, msg, sizeof(msg));
}

static void
test_amount_string_and_number_49_eur_are_4900(void **state)
{
	int64_t v;

	(void) state;
	assert_int_equal(PW_OK, amount("\"49.00\"", 2, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_OK, amount("49.00", 2, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_OK, amount("49", 2, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_OK, amount("\"49\"", 2, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_OK, amount("49.5", 2, &v));
	assert_int_equal(4950, v);
}

static void
test_amount_that_a_double_would_round_is_exact(void **state)
{
	int64_t v;

	(void) state;
	/* 0.29 * 100 and 19.99 * 100 are 28.999... and 1998.999... as doubles */
	assert_int_equal(PW_OK, amount("0.29", 2, &v));
	assert_int_equal(29, v);
	assert_int_equal(PW_OK, amount("19.99", 2, &v));
	assert_int_equal(1999, v);
	assert_int_equal(PW_OK, amount("\"1.005\"", 3, &v));
	assert_int_equal(1005, v);
}

static void
test_amount_with_more_precision_than_the_currency_is_refused(void **state)
{
	int64_t v;

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"49.001\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("49.001", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("49.000", 2, &v));
	assert_int_equal(-7, v); /* nothing written on failure */
}

static void
test_amount_in_jpy_has_no_decimals(void **state)
{
	int64_t v;

	(void) state;
	assert_int_equal(PW_OK, amount("500", 0, &v));
	assert_int_equal(500, v);
	assert_int_equal(PW_OK, amount("\"500\"", 0, &v));
	assert_int_equal(500, v);
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"0.5\"", 0, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("0.5", 0, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("500.0", 0, &v));
}

static void
test_amount_with_exponent_sign_or_nothing_is_refused(void **state)
{
	int64_t v;

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT, amount("1e3", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("1E3", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"1e3\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("4.9e1", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("-1", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"-1\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"+1\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\" 49\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"49.\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\".5\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("true", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("null", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("{}", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"0\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("0.00", 2, &v));
}

static void
test_amount_over_the_limit_is_refused_and_the_limit_is_accepted(void **state)
{
	int64_t v;

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT, amount("99999999999999999999", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("\"99999999999999999999999999999999999\"", 2, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, amount("10000000000.01", 2, &v));
	assert_int_equal(PW_OK, amount("10000000000.00", 2, &v));
	assert_int_equal(PW_AMOUNT_MINOR_MAX, v);
}

static void
test_count_takes_plain_integers_only(void **state)
{
	int64_t v = 0;

	(void) state;
	assert_int_equal(PW_OK, bridge_json_count("4900", 4, PW_AMOUNT_MINOR_MAX, &v));
	assert_int_equal(4900, v);
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_count("0", 1, 10, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_count("11", 2, 10, &v));
	assert_int_equal(PW_OK, bridge_json_count("10", 2, 10, &v));
	assert_int_equal(10, v);
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_count("-5", 2, 10, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_count("4900.0", 6, PW_AMOUNT_MINOR_MAX, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_count("1e3", 3, PW_AMOUNT_MINOR_MAX, &v));
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_count("\"5\"", 3, 10, &v));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    bridge_json_count("9223372036854775808", 19, PW_AMOUNT_MINOR_MAX, &v));
}

static void
test_raw_member_finds_top_level_tokens_only(void **state)
{
	static const char body[] =
	    " { \"metadata\" : {\"amount\":\"1.00\", \"x\":[1,{\"amount\":2}]}, \"s\":\"a\\\"}b\","
	    "\n\"\\u0061mount\" :\t49.10 , \"z\":null}";
	const char *v = NULL;
	size_t n = 0;

	(void) state;
	assert_int_equal(PW_OK, bridge_json_raw_member(body, strlen(body), "amount", &v, &n));
	assert_int_equal(5, n);
	assert_memory_equal("49.10", v, 5);
	assert_int_equal(PW_OK, bridge_json_raw_member(body, strlen(body), "s", &v, &n));
	assert_int_equal(7, n);
	assert_int_equal(PW_OK, bridge_json_raw_member(body, strlen(body), "z", &v, &n));
	assert_memory_equal("null", v, 4);
	assert_int_equal(PW_NOT_FOUND, bridge_json_raw_member(body, strlen(body), "x", &v, &n));
	assert_int_equal(PW_NOT_FOUND, bridge_json_raw_member("{}", 2, "amount", &v, &n));
	assert_int_equal(PW_INVALID_ARGUMENT, bridge_json_raw_member("[1]", 3, "amount", &v, &n));
}

/* bridge_json_create_parse on a C string; the message lands in msg. */
static char msg[BRIDGE_JSON_MSG_BYTES];

static pw_status
create(const char *body, const char *idem, bridge_create *c)
{
	msg[0] = '\0';
	return bridge_json_create_parse(body, strlen(body), idem, c, msg, sizeof(msg));
}

static void
test_create_with_a_credit_package_leaves_amount_and_currency_to_it(void **state)
{
	bridge_create c;

	(void) state;
	assert_int_equal(PW_OK, create("{\"credit_package\":\"pack_100\",\"mode\":\"test\"}", NULL, &c));
	assert_string_equal("pack_100", c.params.credit_package);
	assert_int_equal(0, c.params.amount_minor);
	assert_null(c.params.currency);
	assert_int_equal(PW_FULFILL_NONE, c.params.fulfillment);
	bridge_json_create_fini(&c);
	/* given, they are read as usual (the server compares them with the package) */
	assert_int_equal(PW_OK, create("{\"credit_package\":\"pack_100\",\"amount\":\"9.90\","
	    "\"currency\":\"eur\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(990, c.params.amount_minor);
	assert_string_equal("EUR", c.params.currency);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"credit_package\":\"pack_100\",\"currency\":\"EUR\","
	    "\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(0, c.params.amount_minor);
	assert_string_equal("EUR", c.params.currency);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"credit_package\":\"pack_100\","
	    "\"amount\":\"9.90\",\"mode\":\"test\"}", NULL, &c));
	assert_non_null(strstr(msg, "amount needs currency"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"credit_package\":\"pack_100\","
	    "\"plan\":\"pro\",\"mode\":\"test\"}", NULL, &c));
	assert_non_null(strstr(msg, "credit_package sells credits"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"credit_package\":7,\"mode\":\"test\"}", NULL,
	    &c));
	assert_non_null(strstr(msg, "credit_package must be a string"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"credit_package\":"
	    "\"abcdefghijklmnopqrstuvwxyz0123456\",\"mode\":\"test\"}", NULL, &c));
	/* without a package, amount and currency stay required */
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"mode\":\"test\"}", NULL, &c));
}

/* Found by fuzz_bridge (fuzz/corpus/fuzz_bridge/regress-deep-nesting): a
 * body jansson accepts whose nesting is past the raw scanner's bound was
 * refused with an empty message. */
static void
test_create_refuses_a_body_nested_too_deep_and_says_so(void **state)
{
	char body[512];
	int d = PW_BRIDGE_JSON_DEPTH_MAX + 1;
	bridge_create c;
	int n;

	(void) state;
	n = snprintf(body, sizeof(body), "{\"metadata\":%.*s%.*s,\"amount_minor\":1,"
	    "\"currency\":\"EUR\",\"mode\":\"test\"}", d,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", d,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	assert_true(n > 0 && (size_t) n < sizeof(body) && d <= 80);
	assert_int_equal(PW_INVALID_ARGUMENT, create(body, NULL, &c));
	assert_non_null(strstr(msg, "deeper than 64 levels"));
	/* at the bound it is read (and refused for what metadata holds) */
	d = PW_BRIDGE_JSON_DEPTH_MAX - 1; /* + the outer object: 64 */
	n = snprintf(body, sizeof(body), "{\"metadata\":%.*s%.*s,\"amount_minor\":1,"
	    "\"currency\":\"EUR\",\"mode\":\"test\"}", d,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", d,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	assert_true(n > 0 && (size_t) n < sizeof(body));
	assert_int_equal(PW_INVALID_ARGUMENT, create(body, NULL, &c));
	assert_non_null(strstr(msg, "metadata must be an object of strings"));
}

static void
test_create_converts_amounts_exactly(void **state)
{
	bridge_create c;

	(void) state;
	assert_int_equal(PW_OK, create("{\"amount\":49.00,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(4900, c.params.amount_minor);
	assert_string_equal("EUR", c.params.currency);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"amount\":19.99,\"currency\":\"eur\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(1999, c.params.amount_minor);
	assert_string_equal("EUR", c.params.currency);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"currency\":\"JPY\",\"mode\":\"test\",\"amount\":\"500\"}", NULL, &c));
	assert_int_equal(500, c.params.amount_minor);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"amount_minor\":4900,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(4900, c.params.amount_minor);
	bridge_json_create_fini(&c);
	/* the amount inside metadata is not the amount */
	assert_int_equal(PW_OK,
	    create("{\"metadata\":{\"amount\":\"1\"},\"amount\":\"2.00\",\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(200, c.params.amount_minor);
	bridge_json_create_fini(&c);
}

static void
test_create_refuses_bad_amounts(void **state)
{
	bridge_create c;

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":49.001,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_non_null(strstr(msg, "amount"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"0.5\",\"currency\":\"JPY\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":1e3,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":-1,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"\",\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount_minor\":123456789012345678901234567890,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_non_null(strstr(msg, "amount_minor"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount_minor\":49.5,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"amount_minor\":100,\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"currency\":\"EUR\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"1\",\"currency\":\"ABC\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"1\",\"currency\":\"EURO\",\"mode\":\"test\"}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"1\"}", NULL, &c));
	assert_null(c.root); /* reset on failure: nothing to free */
}

static void
test_create_reads_expiry_and_refuses_a_bad_one(void **state)
{
	bridge_create c;

	(void) state;
	assert_int_equal(PW_OK, create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\","
	                               "\"expires_at_unix_ms\":1767312000000}", NULL, &c));
	assert_true(c.params.expires_at_unix_ms == INT64_C(1767312000000));
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\"}",
	                            NULL, &c));
	assert_int_equal(0, c.params.expires_at_unix_ms); /* the server's default */
	bridge_json_create_fini(&c);
	const char *bad[] = { "-1", "0", "1.5", "\"1767312000000\"", "1e12", "true" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[160];
		snprintf(body, sizeof(body),
		    "{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"expires_at_unix_ms\":%s}",
		    bad[i]);
		assert_int_equal(PW_INVALID_ARGUMENT, create(body, NULL, &c));
		assert_non_null(strstr(msg, "expires_at_unix_ms"));
		assert_null(c.root);
	}
}

static void
test_create_reads_subscription_and_refuses_a_bad_one(void **state)
{
	bridge_create c;

	(void) state;
	assert_int_equal(PW_OK, create("{\"amount\":\"9\",\"currency\":\"EUR\",\"mode\":\"test\","
	                               "\"plan\":\"pro\",\"subscription\":true}", NULL, &c));
	assert_true(c.params.subscription);
	assert_int_equal(PW_FULFILL_ACCESS_KEY, c.params.fulfillment);
	assert_string_equal("pro", c.params.plan);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"amount\":\"9\",\"currency\":\"EUR\",\"mode\":\"test\","
	                               "\"plan\":\"pro\",\"subscription\":false}", NULL, &c));
	assert_false(c.params.subscription);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"amount\":\"9\",\"currency\":\"EUR\",\"mode\":\"test\","
	                               "\"plan\":\"pro\"}", NULL, &c));
	assert_false(c.params.subscription); /* a one-time sale by default */
	bridge_json_create_fini(&c);
	assert_int_equal(PW_OK, create("{\"amount\":\"9\",\"currency\":\"EUR\",\"mode\":\"test\","
	                               "\"plan\":\"pro\",\"subscription\":null}", NULL, &c));
	assert_false(c.params.subscription); /* null: absent */
	bridge_json_create_fini(&c);
	/* not a boolean; without a plan (credits, or nothing) */
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"9\",\"currency\":\"EUR\","
	                                         "\"mode\":\"test\",\"plan\":\"pro\",\"subscription\":1}",
	                                         NULL, &c));
	assert_non_null(strstr(msg, "subscription must be true or false"));
	assert_null(c.root);
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"9\",\"currency\":\"EUR\","
	                                         "\"mode\":\"test\",\"credits\":5,\"subscription\":true}",
	                                         NULL, &c));
	assert_non_null(strstr(msg, "give plan too"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"9\",\"currency\":\"EUR\","
	                                         "\"mode\":\"test\",\"subscription\":true}", NULL, &c));
	assert_null(c.root);
}

static void
test_create_refuses_unknown_keys_and_bad_json(void **state)
{
	bridge_create c;

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"amount_cents\":100}", NULL, &c));
	assert_non_null(strstr(msg, "unknown parameter: amount_cents"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"1\",\"amount\":\"2\",\"currency\":\"EUR\",\"mode\":\"test\"}",
	                                          NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("[]", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\"} x", NULL, &c));
}

static void
test_create_reads_every_field(void **state)
{
	static const char body[] =
	    "{\"amount\":\"49.00\",\"currency\":\"EUR\",\"mode\":\"test\","
	    "\"success_url\":\"https://shop.example/ok\",\"cancel_url\":null,"
	    "\"customer_email\":\"a@b.example\",\"customer_name\":\"Ann <script>\","
	    "\"customer_ref\":\"c1\",\"idempotency_key\":\"k1\","
	    "\"metadata\":{\"order\":\"42\",\"note\":\"x\"},\"plan\":\"pro\"}";
	bridge_create c;

	(void) state;
	assert_int_equal(PW_OK, create(body, "k1", &c));
	assert_int_equal(PW_MODE_TEST, c.params.mode);
	assert_string_equal("https://shop.example/ok", c.params.success_url);
	assert_null(c.params.cancel_url);
	assert_string_equal("a@b.example", c.params.customer_email);
	assert_string_equal("Ann <script>", c.params.customer_name);
	assert_string_equal("c1", c.params.customer_ref);
	assert_string_equal("k1", c.params.idempotency_key);
	assert_int_equal(2, c.params.metadata_len);
	assert_string_equal("order", c.params.metadata[0].key);
	assert_string_equal("42", c.params.metadata[0].value);
	assert_int_equal(PW_FULFILL_ACCESS_KEY, c.params.fulfillment);
	assert_string_equal("pro", c.params.plan);
	bridge_json_create_fini(&c);
}

static void
test_create_checks_mode_fulfillment_metadata_and_idempotency(void **state)
{
	char big[4096];
	size_t n;
	bridge_create c;

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"sandbox\"}", NULL, &c));
	assert_non_null(strstr(msg, "mode"));
	assert_int_equal(PW_INVALID_ARGUMENT, create("{\"amount\":\"1\",\"currency\":\"EUR\"}", NULL, &c));
	assert_string_equal("mode is required: \"test\" or \"live\"", msg);
	assert_int_equal(PW_OK,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"live\"}", NULL, &c));
	assert_int_equal(PW_MODE_LIVE, c.params.mode);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"plan\":\"p\",\"credits\":5}", NULL, &c));
	assert_int_equal(PW_OK, create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"credits\":5}", NULL, &c));
	assert_int_equal(PW_FULFILL_CREDITS, c.params.fulfillment);
	assert_int_equal(5, c.params.credits);
	bridge_json_create_fini(&c);
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"credits\":0}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"metadata\":{\"a\":1}}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"metadata\":[]}", NULL, &c));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"idempotency_key\":\"a\"}", "b", &c));
	assert_int_equal(PW_OK, create("{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\"}", "hdr", &c));
	assert_string_equal("hdr", c.params.idempotency_key);
	bridge_json_create_fini(&c);
	/* 51 metadata entries: one over the limit */
	n = (size_t) snprintf(big, sizeof(big), "{\"amount\":\"1\",\"currency\":\"EUR\",\"mode\":\"test\",\"metadata\":{");
	for (int i = 0; i <= PW_METADATA_ENTRIES_MAX; i++) {
		n += (size_t) snprintf(big + n, sizeof(big) - n, "%s\"k%d\":\"v\"", i ? "," : "", i);
	}
	(void) snprintf(big + n, sizeof(big) - n, "}}");
	assert_int_equal(PW_INVALID_ARGUMENT, create(big, NULL, &c));
	assert_non_null(strstr(msg, "metadata"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_amount_string_and_number_49_eur_are_4900),
		cmocka_unit_test(test_amount_that_a_double_would_round_is_exact),
		cmocka_unit_test(test_amount_with_more_precision_than_the_currency_is_refused),
		cmocka_unit_test(test_amount_in_jpy_has_no_decimals),
		cmocka_unit_test(test_amount_with_exponent_sign_or_nothing_is_refused),
		cmocka_unit_test(test_amount_over_the_limit_is_refused_and_the_limit_is_accepted),
		cmocka_unit_test(test_count_takes_plain_integers_only),
		cmocka_unit_test(test_raw_member_finds_top_level_tokens_only),
		cmocka_unit_test(test_create_converts_amounts_exactly),
		cmocka_unit_test(test_create_refuses_bad_amounts),
		cmocka_unit_test(test_create_refuses_unknown_keys_and_bad_json),
		cmocka_unit_test(test_create_reads_expiry_and_refuses_a_bad_one),
		cmocka_unit_test(test_create_reads_subscription_and_refuses_a_bad_one),
		cmocka_unit_test(test_create_reads_every_field),
		cmocka_unit_test(test_create_refuses_a_body_nested_too_deep_and_says_so),
		cmocka_unit_test(test_create_with_a_credit_package_leaves_amount_and_currency_to_it),
		cmocka_unit_test(test_create_checks_mode_fulfillment_metadata_and_idempotency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
