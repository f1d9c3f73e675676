/*
 * bridge_metrics.h - the bridge's Prometheus counters and histograms.
 *
 * Owns: fixed arrays of atomic counters; no allocation, no locks. Every label
 * set is bounded at compile time: BRIDGE_ROUTE_COUNT routes x
 * BRIDGE_METRICS_CODES_N status codes (anything else counts as code="other"),
 * 4 providers x 4 outcomes, BRIDGE_METRICS_BUCKETS_N latency buckets per route.
 * Threads: any thread may record at any time (relaxed atomics; a scrape may see
 * a request counted in one series and not yet in another, as Prometheus
 * allows). Lifetime: the caller's memory, initialized by bridge_metrics_init.
 *
 * Exposed series (text format 0.0.4):
 *   paywire_bridge_http_requests_total{route,code}            counter
 *   paywire_bridge_webhooks_total{provider,outcome}           counter
 *     outcome: applied | duplicate | ignored | rejected (any error answer)
 *   paywire_bridge_request_duration_seconds{route}            histogram
 *     buckets (le, seconds) 0.0001 ... 10, +Inf; _sum in seconds; _count
 */
#ifndef BRIDGE_METRICS_H
#define BRIDGE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/client.h>

#include "bridge_buf.h"
#include "bridge_routes.h"

#define BRIDGE_METRICS_CODES_N 15     /* HTTP codes with their own series, plus "other" */
#define BRIDGE_METRICS_BUCKETS_N 16   /* finite latency buckets; +Inf is the count */
#define BRIDGE_METRICS_PROVIDERS_N 4  /* stripe razorpay onecom web3 */
#define BRIDGE_METRICS_OUTCOMES_N 4   /* applied duplicate ignored rejected */
/* Room for a full scrape: every series rendered, each line < 160 bytes. */
#define BRIDGE_METRICS_TEXT_BYTES_MAX (64u * 1024u)

typedef enum bridge_webhook_tally {
	BRIDGE_TALLY_APPLIED = 0,
	BRIDGE_TALLY_DUPLICATE = 1,
	BRIDGE_TALLY_IGNORED = 2,
	BRIDGE_TALLY_REJECTED = 3,
} bridge_webhook_tally;

typedef struct bridge_metrics {
	atomic_uint_fast64_t requests[BRIDGE_ROUTE_COUNT][BRIDGE_METRICS_CODES_N + 1]; /* [route][code index]; last = other */
	atomic_uint_fast64_t webhooks[BRIDGE_METRICS_PROVIDERS_N][BRIDGE_METRICS_OUTCOMES_N]; /* [provider-1][tally] */
	atomic_uint_fast64_t buckets[BRIDGE_ROUTE_COUNT][BRIDGE_METRICS_BUCKETS_N]; /* non-cumulative counts per bucket */
	atomic_uint_fast64_t count[BRIDGE_ROUTE_COUNT];  /* requests observed (the +Inf bucket) */
	atomic_uint_fast64_t sum_us[BRIDGE_ROUTE_COUNT]; /* total latency, microseconds */
} bridge_metrics;

/* Zeroes every series. */
void bridge_metrics_init(bridge_metrics *m);

/* Counts one answered request: its route, HTTP code and latency (µs). */
void bridge_metrics_request(bridge_metrics *m, bridge_route_id route, int http_code,
    uint64_t duration_us);

/* Counts one webhook: provider and tally. */
void bridge_metrics_webhook(bridge_metrics *m, pw_webhook_provider provider,
    bridge_webhook_tally tally);

/* Tally for a webhook answer: the outcome when st is PW_OK, else REJECTED. */
bridge_webhook_tally bridge_metrics_tally_of(pw_status st, pw_webhook_outcome outcome);

/* Renders every series in Prometheus text format into out (which the caller
 * initialized; the scrape fits BRIDGE_METRICS_TEXT_BYTES_MAX). Counters with a
 * code label are rendered only once non-zero (bounded either way); webhook
 * counters and histograms are always rendered. */
void bridge_metrics_render(const bridge_metrics *m, bridge_buf *out);

#endif
