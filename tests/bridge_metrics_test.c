/* bridge_metrics_test.c - the bridge's Prometheus text (bridge_metrics.h):
 * exact sample lines, cumulative buckets, bounded labels, valid format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bridge_metrics.h"

static bridge_metrics m; /* large: static storage */

/* The bridge's route labels, in its route table's order (bridge_route_test
 * checks the table against the same list). */
static const char *const routes[] = { "unmatched", "webhook", "create_session", "session_status",
	"checkout", "access", "test_payment", "healthz", "metrics" };
#define ROUTES_N (sizeof(routes) / sizeof(routes[0]))
#define ROUTE_UNMATCHED 0
#define ROUTE_HEALTHZ 7

static char *
render(bridge_buf *b)
{
	bridge_buf_init(b, BRIDGE_METRICS_TEXT_BYTES_MAX);
	bridge_metrics_render(&m, b);
	assert_true(bridge_buf_ok(b));
	return (char *) bridge_buf_str(b);
}

/* True if `line` (without newline) appears as a whole line of text. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line)) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n') {
			return true;
		}
	}
	return false;
}

static void
test_fresh_metrics_render_zero_webhooks_and_empty_histograms(void **state)
{
	bridge_buf b;
	const char *t;

	(void) state;
	bridge_metrics_init(&m, routes, ROUTES_N);
	t = render(&b);
	assert_null(strstr(t, "paywire_bridge_http_requests_total{"));
	assert_true(has_line(t, "# TYPE paywire_bridge_http_requests_total counter"));
	assert_true(has_line(t, "# TYPE paywire_bridge_webhooks_total counter"));
	assert_true(has_line(t, "# TYPE paywire_bridge_request_duration_seconds histogram"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"stripe\",outcome=\"applied\"} 0"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"web3\",outcome=\"rejected\"} 0"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_count{route=\"healthz\"} 0"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_sum{route=\"healthz\"} 0.000000"));
	bridge_buf_fini(&b);
}

static void
test_requests_count_by_route_and_code_with_cumulative_buckets(void **state)
{
	bridge_buf b;
	const char *t;

	(void) state;
	bridge_metrics_init(&m, routes, ROUTES_N);
	bridge_metrics_request(&m, ROUTE_HEALTHZ, 503, 1500);
	bridge_metrics_request(&m, ROUTE_HEALTHZ, 503, 80);
	bridge_metrics_request(&m, ROUTE_HEALTHZ, 200, 20000000); /* 20 s: only +Inf */
	bridge_metrics_request(&m, ROUTE_UNMATCHED, 418, 10);
	t = render(&b);
	assert_true(has_line(t, "paywire_bridge_http_requests_total{route=\"healthz\",code=\"503\"} 2"));
	assert_true(has_line(t, "paywire_bridge_http_requests_total{route=\"healthz\",code=\"200\"} 1"));
	assert_true(has_line(t, "paywire_bridge_http_requests_total{route=\"unmatched\",code=\"other\"} 1"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_bucket{route=\"healthz\",le=\"0.0001\"} 1"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_bucket{route=\"healthz\",le=\"0.001\"} 1"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_bucket{route=\"healthz\",le=\"0.0025\"} 2"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_bucket{route=\"healthz\",le=\"10\"} 2"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_bucket{route=\"healthz\",le=\"+Inf\"} 3"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_sum{route=\"healthz\"} 20.001580"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_count{route=\"healthz\"} 3"));
	assert_true(has_line(t, "paywire_bridge_request_duration_seconds_count{route=\"webhook\"} 0"));
	bridge_buf_fini(&b);
}

static void
test_webhook_tallies_follow_status_and_outcome(void **state)
{
	bridge_buf b;
	const char *t;

	(void) state;
	assert_int_equal(BRIDGE_TALLY_APPLIED, bridge_metrics_tally_of(PW_OK, PW_WEBHOOK_APPLIED, false));
	assert_int_equal(BRIDGE_TALLY_DUPLICATE, bridge_metrics_tally_of(PW_OK, PW_WEBHOOK_DUPLICATE, false));
	assert_int_equal(BRIDGE_TALLY_IGNORED, bridge_metrics_tally_of(PW_OK, PW_WEBHOOK_IGNORED, false));
	assert_int_equal(BRIDGE_TALLY_REJECTED, bridge_metrics_tally_of(PW_OK, PW_WEBHOOK_UNSPECIFIED, false));
	assert_int_equal(BRIDGE_TALLY_REJECTED,
	    bridge_metrics_tally_of(PW_UNAUTHENTICATED, PW_WEBHOOK_APPLIED, false));
	/* an anomaly is counted apart from ignored events, whatever the outcome */
	assert_int_equal(BRIDGE_TALLY_ANOMALY, bridge_metrics_tally_of(PW_OK, PW_WEBHOOK_IGNORED, true));
	assert_int_equal(BRIDGE_TALLY_ANOMALY, bridge_metrics_tally_of(PW_OK, PW_WEBHOOK_APPLIED, true));
	assert_int_equal(BRIDGE_TALLY_REJECTED,
	    bridge_metrics_tally_of(PW_UNAVAILABLE, PW_WEBHOOK_IGNORED, true));
	bridge_metrics_init(&m, routes, ROUTES_N);
	bridge_metrics_webhook(&m, PW_WEBHOOK_STRIPE, BRIDGE_TALLY_APPLIED);
	bridge_metrics_webhook(&m, PW_WEBHOOK_STRIPE, BRIDGE_TALLY_APPLIED);
	bridge_metrics_webhook(&m, PW_WEBHOOK_RAZORPAY, BRIDGE_TALLY_DUPLICATE);
	bridge_metrics_webhook(&m, PW_WEBHOOK_WEB3, BRIDGE_TALLY_REJECTED);
	bridge_metrics_webhook(&m, PW_WEBHOOK_STRIPE, BRIDGE_TALLY_ANOMALY);
	t = render(&b);
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"stripe\",outcome=\"applied\"} 2"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"razorpay\",outcome=\"duplicate\"} 1"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"web3\",outcome=\"rejected\"} 1"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"onecom\",outcome=\"ignored\"} 0"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"stripe\",outcome=\"anomaly\"} 1"));
	assert_true(has_line(t, "paywire_bridge_webhooks_total{provider=\"stripe\",outcome=\"ignored\"} 0"));
	bridge_buf_fini(&b);
}

/* Every line is a comment or `name{label="v",...} number`. */
static void
assert_exposition_format(const char *t)
{
	const char *line = t;

	assert_true(strlen(t) > 0 && t[strlen(t) - 1] == '\n');
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		const char *p = line;
		assert_non_null(end);
		if (*p == '#') {
			assert_true(strncmp(p, "# HELP paywire_bridge_", 22) == 0 ||
			    strncmp(p, "# TYPE paywire_bridge_", 22) == 0);
			line = end + 1;
			continue;
		}
		while ((*p >= 'a' && *p <= 'z') || *p == '_') {
			p++;
		}
		assert_true(p > line);
		assert_int_equal('{', *p);
		while (*p != '}') {
			assert_true(p < end && *p != ' ');
			p++;
		}
		assert_int_equal(' ', p[1]);
		p += 2;
		assert_true(p < end);
		while (p < end) {
			assert_true((*p >= '0' && *p <= '9') || *p == '.');
			p++;
		}
		line = end + 1;
	}
}

static void
test_full_scrape_is_valid_exposition_and_fits(void **state)
{
	static const int codes[] = { 200, 400, 401, 403, 404, 405, 409, 413, 429, 431, 500, 501, 502,
		503, 504, 302 };
	bridge_buf b;
	const char *t;

	(void) state;
	bridge_metrics_init(&m, routes, ROUTES_N);
	for (size_t r = 0; r < ROUTES_N; r++) {
		for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
			bridge_metrics_request(&m, r, codes[c], UINT64_C(1) << 40);
		}
	}
	t = render(&b);
	assert_exposition_format(t);
	assert_true(strlen(t) < BRIDGE_METRICS_TEXT_BYTES_MAX);
	/* every route x code series, and no other */
	size_t n = 0;
	for (const char *p = strstr(t, "paywire_bridge_http_requests_total{"); p != NULL;
	     p = strstr(p + 1, "paywire_bridge_http_requests_total{")) {
		n++;
	}
	assert_int_equal(ROUTES_N * (BRIDGE_METRICS_CODES_N + 1), n);
	bridge_buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_metrics_render_zero_webhooks_and_empty_histograms),
		cmocka_unit_test(test_requests_count_by_route_and_code_with_cumulative_buckets),
		cmocka_unit_test(test_webhook_tallies_follow_status_and_outcome),
		cmocka_unit_test(test_full_scrape_is_valid_exposition_and_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
