/* bridge_route_test.c - route matching of the bridge (bridge_routes.h):
 * every route, wrong methods, and paths that must never match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bridge_routes.h"

static void
test_every_route_matches_its_method_and_path(void **state)
{
	bridge_match m;

	(void) state;
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/create_session", &m));
	assert_int_equal(BRIDGE_ROUTE_CREATE_SESSION, m.route);
	assert_true(m.reads_body);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/checkout", &m));
	assert_int_equal(BRIDGE_ROUTE_CHECKOUT, m.route);
	assert_false(m.reads_body);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/healthz", &m));
	assert_int_equal(BRIDGE_ROUTE_HEALTHZ, m.route);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("HEAD", "/healthz", &m));
	assert_int_equal(BRIDGE_ROUTE_HEALTHZ, m.route);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/metrics", &m));
	assert_int_equal(BRIDGE_ROUTE_METRICS, m.route);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/session/cs_0190abc-_Z/status", &m));
	assert_int_equal(BRIDGE_ROUTE_SESSION_STATUS, m.route);
	assert_string_equal("cs_0190abc-_Z", m.session_id);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/access/cs_42", &m));
	assert_int_equal(BRIDGE_ROUTE_ACCESS, m.route);
	assert_string_equal("cs_42", m.session_id);
}

static void
test_webhook_routes_name_their_provider(void **state)
{
	bridge_match m;

	(void) state;
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/webhooks/stripe", &m));
	assert_int_equal(BRIDGE_ROUTE_WEBHOOK, m.route);
	assert_int_equal(PW_WEBHOOK_STRIPE, m.provider);
	assert_true(m.reads_body);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/webhooks/razorpay", &m));
	assert_int_equal(PW_WEBHOOK_RAZORPAY, m.provider);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/webhooks/onecom", &m));
	assert_int_equal(PW_WEBHOOK_ONECOM, m.provider);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/webhooks/web3", &m));
	assert_int_equal(PW_WEBHOOK_WEB3, m.provider);
}

static void
test_unknown_provider_is_not_found(void **state)
{
	bridge_match m;

	(void) state;
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", "/webhooks/paypal", &m));
	assert_int_equal(BRIDGE_ROUTE_UNMATCHED, m.route);
	assert_null(m.allow);
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", "/webhooks/Stripe", &m));
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", "/webhooks/stripe/", &m));
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", "/webhooks/", &m));
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", "/webhooks", &m));
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", "/webhooks/stripe%00", &m));
}

static void
test_wrong_method_is_405_with_allow(void **state)
{
	bridge_match m;

	(void) state;
	assert_int_equal(BRIDGE_MATCH_BAD_METHOD, bridge_route_match("GET", "/webhooks/stripe", &m));
	assert_string_equal("POST", m.allow);
	assert_int_equal(BRIDGE_ROUTE_UNMATCHED, m.route);
	assert_int_equal(BRIDGE_MATCH_BAD_METHOD, bridge_route_match("GET", "/create_session", &m));
	assert_string_equal("POST", m.allow);
	assert_int_equal(BRIDGE_MATCH_BAD_METHOD, bridge_route_match("POST", "/healthz", &m));
	assert_string_equal("GET, HEAD", m.allow);
	assert_int_equal(BRIDGE_MATCH_BAD_METHOD, bridge_route_match("DELETE", "/session/cs_1/status", &m));
	assert_string_equal("GET, HEAD", m.allow);
	assert_string_equal("", m.session_id);
	assert_int_equal(BRIDGE_MATCH_BAD_METHOD, bridge_route_match("get", "/metrics", &m));
}

static void
test_traversal_and_encoded_junk_are_not_found(void **state)
{
	static const char *const paths[] = {
		"",
		"/",
		"//healthz",
		"/healthz/",
		"/HEALTHZ",
		"/healthz/../metrics",
		"/./healthz",
		"/session/../status",
		"/session/cs_1/../status",
		"/session/%2e%2e/status",
		"/session//status",
		"/session/cs_1/status/",
		"/session/cs_1/statusx",
		"/session/cs_1",
		"/session/cs 1/status",
		"/session/cs_1%2fstatus",
		"/access/",
		"/access/..",
		"/access/../../etc/passwd",
		"/access/cs_1/x",
		"/access/cs_1%00",
		"/access/cs_\xc3\xa9",
		"/access/cs_1?token=x",
		"/checkout/",
		"/checkout%3fsession=1",
		"/create_session/",
		"/metrics.txt",
	};
	bridge_match m;

	(void) state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("GET", paths[i], &m));
		assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("POST", paths[i], &m));
		assert_int_equal(BRIDGE_ROUTE_UNMATCHED, m.route);
	}
}

static void
test_session_id_length_is_bounded(void **state)
{
	char path[256];
	char id[PW_SESSION_ID_BYTES_MAX + 1];
	bridge_match m;

	(void) state;
	memset(id, 'a', sizeof(id));
	id[PW_SESSION_ID_BYTES_MAX - 1] = '\0'; /* 63 bytes: the longest accepted */
	snprintf(path, sizeof(path), "/session/%s/status", id);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", path, &m));
	assert_string_equal(id, m.session_id);
	id[PW_SESSION_ID_BYTES_MAX - 1] = 'a';
	id[PW_SESSION_ID_BYTES_MAX] = '\0'; /* 64 bytes */
	snprintf(path, sizeof(path), "/access/%s", id);
	assert_int_equal(BRIDGE_MATCH_NOT_FOUND, bridge_route_match("GET", path, &m));
	assert_false(bridge_session_id_valid("", 0));
	assert_false(bridge_session_id_valid("a.b", 3));
	assert_true(bridge_session_id_valid("cs_A-9", 6));
}

static void
test_route_names_are_the_metric_labels(void **state)
{
	(void) state;
	assert_string_equal("unmatched", bridge_route_name(BRIDGE_ROUTE_UNMATCHED));
	assert_string_equal("webhook", bridge_route_name(BRIDGE_ROUTE_WEBHOOK));
	assert_string_equal("create_session", bridge_route_name(BRIDGE_ROUTE_CREATE_SESSION));
	assert_string_equal("session_status", bridge_route_name(BRIDGE_ROUTE_SESSION_STATUS));
	assert_string_equal("checkout", bridge_route_name(BRIDGE_ROUTE_CHECKOUT));
	assert_string_equal("access", bridge_route_name(BRIDGE_ROUTE_ACCESS));
	assert_string_equal("healthz", bridge_route_name(BRIDGE_ROUTE_HEALTHZ));
	assert_string_equal("metrics", bridge_route_name(BRIDGE_ROUTE_METRICS));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_matches_its_method_and_path),
		cmocka_unit_test(test_webhook_routes_name_their_provider),
		cmocka_unit_test(test_unknown_provider_is_not_found),
		cmocka_unit_test(test_wrong_method_is_405_with_allow),
		cmocka_unit_test(test_traversal_and_encoded_junk_are_not_found),
		cmocka_unit_test(test_session_id_length_is_bounded),
		cmocka_unit_test(test_route_names_are_the_metric_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
