/*
 * bridge_metrics.h - the bridge's Prometheus counters and histograms.
 *
 * Layering: knows nothing of routes. The route table (bridge_routes.c) hands
 * its labels to bridge_metrics_init and records requests by route index;
 * provider labels are generated from PW_PROVIDER_MAP (paywire/provider.h).
 *
 * Owns: fixed arrays of atomic counters; no allocation, no locks. Every label
 * set is bounded at compile time: at most BRIDGE_METRICS_ROUTES_MAX routes x
 * BRIDGE_METRICS_CODES_N status codes (anything else counts as code="other"),
 * BRIDGE_METRICS_PROVIDERS_N providers (one per PW_PROVIDER_MAP row) x 6
 * outcomes, BRIDGE_METRICS_BUCKETS_N latency buckets per route.
 * Threads: any thread may record at any time (relaxed atomics; a scrape may see
 * a request counted in one series and not yet in another, as Prometheus
 * allows). Lifetime: the caller's memory, initialized by bridge_metrics_init;
 * the route labels must be static strings.
 *
 * Exposed series (text format 0.0.4):
 *   paywire_bridge_http_requests_total{route,code}            counter
 *   paywire_bridge_webhooks_total{provider,outcome}           counter
 *     outcome: applied | duplicate | ignored | rejected (any error answer) |
 *              anomaly (recorded as money that needs a human: the reply said
 *              anomaly=true; never counted as applied or ignored too) |
 *              quarantined (verified, not understood: kept for an operator)
 *   paywire_bridge_request_duration_seconds{route}            histogram
 *     buckets (le, seconds) 0.0001 ... 10, +Inf; _sum in seconds; _count
 */
#ifndef BRIDGE_METRICS_H
#define BRIDGE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/client.h>
#include <paywire/provider.h>

#include "bridge_buf.h"
#include "pw_limits.h"
#include "pw_metrics.h"
#include "pw_provider.h"

/* One series per PW_PROVIDER_MAP row, at the row's index (pw_provider_index). */
#define BRIDGE_METRICS_PROVIDERS_N ((size_t) PW_PROVIDER_COUNT)

#define BRIDGE_METRICS_ROUTES_MAX 16  /* route series: the route table's rows + "unmatched" */
#define BRIDGE_METRICS_CODES_N 15     /* HTTP codes with their own series, plus "other" */
#define BRIDGE_METRICS_BUCKETS_N 16   /* finite latency buckets (pw_hist_latency_us); +Inf is the count */
#define BRIDGE_METRICS_OUTCOMES_N 6   /* applied duplicate ignored rejected anomaly quarantined */
/* Room for a full scrape; bridge_routes.c asserts that
 * BRIDGE_METRICS_SCRAPE_BYTES(its route series) fits. */
#define BRIDGE_IP_CLASSES 2           /* per-address limits: public, webhooks */
#define BRIDGE_METRICS_TEXT_BYTES_MAX (96u * 1024u)
/* Bytes of a full scrape of `routes` routes: every line < 160 bytes; per
 * route the code series, the buckets, +Inf, _sum and _count; the webhook
 * series; six HELP/TYPE lines. */
#define BRIDGE_METRICS_SCRAPE_BYTES(routes)                                                   \
	(160u * ((routes) * (BRIDGE_METRICS_CODES_N + 1u + BRIDGE_METRICS_BUCKETS_N + 3u) +      \
	    (unsigned) BRIDGE_METRICS_PROVIDERS_N * BRIDGE_METRICS_OUTCOMES_N + 6u))

_Static_assert(BRIDGE_METRICS_TEXT_BYTES_MAX <= PW_BRIDGE_REPLY_BYTES_MAX,
    "a full scrape fits the bridge's answer limit");

_Static_assert(BRIDGE_METRICS_BUCKETS_N == PW_HIST_LATENCY_BUCKETS,
    "the bridge's latency histograms are pw_hist_latency_us");

typedef enum bridge_webhook_tally {
	BRIDGE_TALLY_APPLIED = 0,
	BRIDGE_TALLY_DUPLICATE = 1,
	BRIDGE_TALLY_IGNORED = 2,
	BRIDGE_TALLY_REJECTED = 3,
	BRIDGE_TALLY_ANOMALY = 4,
	BRIDGE_TALLY_QUARANTINED = 5,
} bridge_webhook_tally;

typedef struct bridge_metrics {
	const char *routes[BRIDGE_METRICS_ROUTES_MAX]; /* route labels, static strings, by index */
	size_t routes_n;                               /* labels in use */
	atomic_uint_fast64_t requests[BRIDGE_METRICS_ROUTES_MAX][BRIDGE_METRICS_CODES_N + 1]; /* [route][code index]; last = other */
	atomic_uint_fast64_t webhooks[BRIDGE_METRICS_PROVIDERS_N][BRIDGE_METRICS_OUTCOMES_N]; /* [provider index][tally] */
	pw_hist latency[BRIDGE_METRICS_ROUTES_MAX]; /* per route, µs (pw_hist_latency_us: common/pw_metrics.h,
	                                              shared with the server) */
	atomic_uint_fast64_t ip_limited[BRIDGE_IP_CLASSES]; /* 429s of the per-address limits:
	                                                       public, webhooks */
} bridge_metrics;

/* Zeroes every series and takes the route labels: route index i is rendered
 * as route="route_labels[i]", in that order. 1 <= routes_n <=
 * BRIDGE_METRICS_ROUTES_MAX; the strings must outlive m. */
void bridge_metrics_init(bridge_metrics *m, const char *const *route_labels, size_t routes_n);

/* Counts one answered request: its route index (< routes_n), HTTP code and
 * latency (µs). */
void bridge_metrics_request(bridge_metrics *m, size_t route, int http_code, uint64_t duration_us);

/* Counts one webhook: provider (a PW_PROVIDER_MAP row) and tally. */
void bridge_metrics_webhook(bridge_metrics *m, pw_webhook_provider provider,
    bridge_webhook_tally tally);

/* Tally for a webhook answer: REJECTED when st is not PW_OK; ANOMALY when the
 * reply said anomaly (whatever the outcome); else the outcome. */
bridge_webhook_tally bridge_metrics_tally_of(pw_status st, pw_webhook_outcome outcome,
    bool anomaly);

/* Renders every series in Prometheus text format into out (which the caller
 * initialized; the scrape fits BRIDGE_METRICS_TEXT_BYTES_MAX). Counters with a
 * code label are rendered only once non-zero (bounded either way); webhook
 * counters and histograms are always rendered. */
void bridge_metrics_render(const bridge_metrics *m, bridge_buf *out);

/* A request refused by a per-address limit of class cls (0 public,
 * 1 webhooks): paywire_bridge_ip_limited_total{class=...}. */
void bridge_metrics_ip_limited(bridge_metrics *m, size_t cls);

#endif
