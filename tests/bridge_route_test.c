/* bridge_route_test.c - the bridge's route table and matching
 * (bridge_routes.h): every route, wrong methods, paths that must never match,
 * and every row reachable through its own pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <paywire/provider.h>

#include "bridge_routes.h"

static void
test_every_route_matches_its_method_and_path(void **state)
{
	bridge_match m;

	(void) state;
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/create_session", &m));
	assert_string_equal("create_session", bridge_route_name(m.route));
	assert_int_equal(PW_BRIDGE_CREATE_BODY_BYTES_MAX, m.route->body_bytes_max);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/checkout", &m));
	assert_string_equal("checkout", bridge_route_name(m.route));
	assert_int_equal(0, m.route->body_bytes_max);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/healthz", &m));
	assert_string_equal("healthz", bridge_route_name(m.route));
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("HEAD", "/healthz", &m));
	assert_string_equal("healthz", bridge_route_name(m.route));
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/metrics", &m));
	assert_string_equal("metrics", bridge_route_name(m.route));
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/session/cs_0190abc-_Z/status", &m));
	assert_string_equal("session_status", bridge_route_name(m.route));
	assert_string_equal("cs_0190abc-_Z", m.session_id);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("GET", "/access/cs_42", &m));
	assert_string_equal("access", bridge_route_name(m.route));
	assert_string_equal("cs_42", m.session_id);
}

static void
test_webhook_routes_name_their_provider(void **state)
{
	bridge_match m;

	(void) state;
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", "/webhooks/stripe", &m));
	assert_string_equal("webhook", bridge_route_name(m.route));
	assert_int_equal(PW_WEBHOOK_STRIPE, m.provider);
	assert_int_equal(PW_WEBHOOK_BODY_BYTES_MAX, m.route->body_bytes_max);
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
	assert_null(m.route);
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
	assert_null(m.route);
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
		assert_null(m.route);
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
	static const char *const labels[] = { "unmatched", "webhook", "create_session", "refund",
		"portal", "session_status", "checkout", "access", "test_payment", "healthz", "metrics" };
	static bridge_metrics m; /* large: static storage */

	(void) state;
	assert_string_equal("unmatched", bridge_route_name(NULL));
	assert_int_equal(0, bridge_route_index(NULL));
	assert_int_equal(sizeof(labels) / sizeof(labels[0]) - 1, bridge_route_count());
	for (size_t i = 0; i < bridge_route_count(); i++) {
		assert_string_equal(labels[1 + i], bridge_route_at(i)->name);
		assert_int_equal(1 + i, bridge_route_index(bridge_route_at(i)));
	}
	bridge_routes_metrics_init(&m);
	assert_int_equal(sizeof(labels) / sizeof(labels[0]), m.routes_n);
	for (size_t i = 0; i < m.routes_n; i++) {
		assert_string_equal(labels[i], m.routes[i]);
	}
}

/* The path a pattern stands for with sample segments: {session_id} "cs_1",
 * {provider} the given provider name. */
static void
sample_path(const char *pattern, const char *provider, char *out, size_t out_size)
{
	size_t n = 0;

	for (const char *p = pattern; *p != '\0'; p++) {
		const char *seg = NULL;
		if (strncmp(p, "{session_id}", 12) == 0) {
			seg = "cs_1";
		} else if (strncmp(p, "{provider}", 10) == 0) {
			seg = provider;
		}
		if (seg != NULL) {
			n += (size_t) snprintf(out + n, out_size - n, "%s", seg);
			p = strchr(p, '}');
		} else {
			out[n++] = *p;
		}
		assert_true(n < out_size);
	}
	out[n] = '\0';
}

static void
test_every_row_matches_its_own_pattern_and_methods(void **state)
{
	char path[256];
	char method[16];
	bridge_match m;

	(void) state;
	for (size_t i = 0; i < bridge_route_count(); i++) {
		const bridge_route *r = bridge_route_at(i);
		assert_non_null(r->handler);
		assert_true(r->path[0] == '/');
		sample_path(r->path, "stripe", path, sizeof(path));
		/* every method the row lists is accepted; its Allow is the list */
		for (const char *p = r->methods; *p != '\0';) {
			size_t n = strcspn(p, ", ");
			assert_true(n > 0 && n < sizeof(method));
			memcpy(method, p, n);
			method[n] = '\0';
			assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match(method, path, &m));
			assert_ptr_equal(r, m.route);
			p += n;
			p += strspn(p, ", ");
		}
		assert_int_equal(BRIDGE_MATCH_BAD_METHOD, bridge_route_match("PATCH", path, &m));
		assert_string_equal(r->methods, m.allow);
	}
}

/* POST /webhooks/<name> is the webhook route for the provider numbered value. */
static void
assert_webhook_route(const char *name, int value)
{
	char path[128];
	bridge_match m;

	snprintf(path, sizeof(path), "/webhooks/%s", name);
	assert_int_equal(BRIDGE_MATCH_OK, bridge_route_match("POST", path, &m));
	assert_string_equal("webhook", bridge_route_name(m.route));
	assert_int_equal(value, (int) m.provider);
}

/* One webhook route per PW_PROVIDER_MAP row, naming that provider. */
static void
test_webhook_routes_follow_the_provider_table(void **state)
{
	(void) state;
#define XX(NAME, value, lname, label, secret_env) assert_webhook_route(lname, value);
	PW_PROVIDER_MAP(XX)
#undef XX
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
		cmocka_unit_test(test_every_row_matches_its_own_pattern_and_methods),
		cmocka_unit_test(test_webhook_routes_follow_the_provider_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
