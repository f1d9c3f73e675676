/* bridge_metrics.c - Prometheus counters and histograms (see bridge_metrics.h). */
#include "bridge_metrics.h"

#include <stdio.h>
#include <string.h>

#include "pw_common.h"

/* HTTP codes with their own series; anything else is code="other". */
static const int bridge_metrics_codes[BRIDGE_METRICS_CODES_N] = {
	200, 400, 401, 403, 404, 405, 409, 413, 429, 431, 500, 501, 502, 503, 504,
};

static const char *const bridge_metrics_tallies[BRIDGE_METRICS_OUTCOMES_N] = {
	"applied", "duplicate", "ignored", "rejected", "anomaly", "quarantined",
};

void
bridge_metrics_init(bridge_metrics *m, const char *const *route_labels, size_t routes_n)
{
	PW_ASSERT(m != NULL && route_labels != NULL);
	PW_ASSERT(routes_n >= 1 && routes_n <= BRIDGE_METRICS_ROUTES_MAX);
	m->routes_n = routes_n;
	for (size_t r = 0; r < BRIDGE_METRICS_ROUTES_MAX; r++) {
		m->routes[r] = r < routes_n ? route_labels[r] : NULL;
		PW_ASSERT(r >= routes_n || m->routes[r] != NULL);
		for (size_t c = 0; c <= BRIDGE_METRICS_CODES_N; c++) {
			atomic_init(&m->requests[r][c], 0);
		}
		pw_hist_init(&m->latency[r]);
	}
	for (size_t p = 0; p < BRIDGE_METRICS_PROVIDERS_N; p++) {
		for (size_t o = 0; o < BRIDGE_METRICS_OUTCOMES_N; o++) {
			atomic_init(&m->webhooks[p][o], 0);
		}
	}
}

static size_t
bridge_metrics_code_index(int http_code)
{
	for (size_t i = 0; i < BRIDGE_METRICS_CODES_N; i++) {
		if (bridge_metrics_codes[i] == http_code) {
			return i;
		}
	}
	return BRIDGE_METRICS_CODES_N; /* "other" */
}

void
bridge_metrics_request(bridge_metrics *m, size_t route, int http_code, uint64_t duration_us)
{
	PW_ASSERT(m != NULL);
	PW_ASSERT(route < m->routes_n);
	atomic_fetch_add_explicit(&m->requests[route][bridge_metrics_code_index(http_code)], 1,
	    memory_order_relaxed);
	pw_hist_observe(&m->latency[route], &pw_hist_latency_us, duration_us);
}

/* The public enum and pw_provider are generated from the same table rows. */
#define BRIDGE_XX_SAME_VALUE(NAME, value, name, label, secret_env)               \
	_Static_assert((int) PW_WEBHOOK_##NAME == (int) PW_PROVIDER_##NAME, \
	               "pw_webhook_provider and pw_provider differ for " #NAME);
PW_PROVIDER_MAP(BRIDGE_XX_SAME_VALUE)
#undef BRIDGE_XX_SAME_VALUE

void
bridge_metrics_webhook(bridge_metrics *m, pw_webhook_provider provider, bridge_webhook_tally tally)
{
	size_t p = pw_provider_index((pw_provider) provider);

	PW_ASSERT(m != NULL);
	PW_ASSERT(p < BRIDGE_METRICS_PROVIDERS_N);
	PW_ASSERT((unsigned) tally < BRIDGE_METRICS_OUTCOMES_N);
	atomic_fetch_add_explicit(&m->webhooks[p][tally], 1, memory_order_relaxed);
}

bridge_webhook_tally
bridge_metrics_tally_of(pw_status st, pw_webhook_outcome outcome, bool anomaly)
{
	if (st != PW_OK) {
		return BRIDGE_TALLY_REJECTED;
	}
	if (anomaly && outcome != PW_WEBHOOK_UNSPECIFIED) {
		return BRIDGE_TALLY_ANOMALY; /* money that needs a human, apart from ignored */
	}
	switch (outcome) {
	case PW_WEBHOOK_APPLIED:
		return BRIDGE_TALLY_APPLIED;
	case PW_WEBHOOK_DUPLICATE:
		return BRIDGE_TALLY_DUPLICATE;
	case PW_WEBHOOK_IGNORED:
		return BRIDGE_TALLY_IGNORED;
	case PW_WEBHOOK_QUARANTINED:
		return BRIDGE_TALLY_QUARANTINED;
	case PW_WEBHOOK_UNSPECIFIED:
		return BRIDGE_TALLY_REJECTED; /* answered as an error by the route */
	}
	return BRIDGE_TALLY_REJECTED;
}

static uint64_t
bridge_metrics_get(const atomic_uint_fast64_t *v)
{
	/* the arrays are read-only here; atomic_load wants a non-const pointer in C11 */
	return (uint64_t) atomic_load_explicit((atomic_uint_fast64_t *) v, memory_order_relaxed);
}

/* The code label of series c: the HTTP code, or "other" for the last. */
static void
bridge_metrics_code_label(size_t c, char *out, size_t out_size)
{
	PW_ASSERT(c <= BRIDGE_METRICS_CODES_N);
	if (c == BRIDGE_METRICS_CODES_N) {
		(void) pw_strlcpy(out, "other", out_size);
		return;
	}
	(void) snprintf(out, out_size, "%d", bridge_metrics_codes[c]);
}

/* The HELP and TYPE lines of a metric family. */
static void
bridge_metrics_family(bridge_buf *out, const char *name, const char *type, const char *help)
{
	bridge_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
bridge_metrics_render_requests(const bridge_metrics *m, bridge_buf *out)
{
	bridge_metrics_family(out, "paywire_bridge_http_requests_total", "counter",
	    "HTTP requests answered, by route and status code.");
	for (size_t r = 0; r < m->routes_n; r++) {
		for (size_t c = 0; c <= BRIDGE_METRICS_CODES_N; c++) {
			uint64_t v = bridge_metrics_get(&m->requests[r][c]);
			char code[16];

			if (v == 0) {
				continue; /* series appear once non-zero */
			}
			bridge_metrics_code_label(c, code, sizeof(code));
			bridge_buf_printf(out, "paywire_bridge_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
			    m->routes[r], code, (unsigned long long) v);
		}
	}
}

static void
bridge_metrics_render_webhooks(const bridge_metrics *m, bridge_buf *out)
{
	bridge_metrics_family(out, "paywire_bridge_webhooks_total", "counter",
	    "Provider webhooks, by provider and outcome (rejected: answered with an error; "
	    "anomaly: recorded as money that needs a human).");
	for (size_t i = 0; i < BRIDGE_METRICS_PROVIDERS_N * BRIDGE_METRICS_OUTCOMES_N; i++) {
		size_t p = i / BRIDGE_METRICS_OUTCOMES_N;
		size_t o = i % BRIDGE_METRICS_OUTCOMES_N;

		bridge_buf_printf(out, "paywire_bridge_webhooks_total{provider=\"%s\",outcome=\"%s\"} %llu\n",
		    pw_provider_name(pw_provider_at(p)), bridge_metrics_tallies[o],
		    (unsigned long long) bridge_metrics_get(&m->webhooks[p][o]));
	}
}

static void
bridge_metrics_render_histograms(const bridge_metrics *m, bridge_buf *out)
{
	bridge_metrics_family(out, "paywire_bridge_request_duration_seconds", "histogram",
	    "Time from the request's headers to its answer being sent, by route.");
	for (size_t r = 0; r < m->routes_n; r++) {
		char text[(BRIDGE_METRICS_BUCKETS_N + 3u) * 160u];
		char labels[96];
		pw_hist_snap snap;
		pw_text t;

		memset(&snap, 0, sizeof(snap));
		pw_hist_snap_add(&snap, &m->latency[r]);
		(void) snprintf(labels, sizeof(labels), "route=\"%s\"", m->routes[r]);
		pw_text_init(&t, text, sizeof(text));
		pw_metrics_hist(&t, "paywire_bridge_request_duration_seconds", labels,
		    &pw_hist_latency_us, &snap);
		PW_ASSERT(!t.overflow); /* 19 lines under 160 bytes each */
		bridge_buf_append(out, text, t.len);
	}
}

static void
bridge_metrics_render_ip_limited(const bridge_metrics *m, bridge_buf *out)
{
	static const char *const names[BRIDGE_IP_CLASSES] = { "public", "webhooks" };

	bridge_buf_printf(out, "# HELP paywire_bridge_ip_limited_total Requests refused with 429 by "
	    "the per-client-address rate limits, by route class.\n"
	    "# TYPE paywire_bridge_ip_limited_total counter\n");
	for (size_t i = 0; i < BRIDGE_IP_CLASSES; i++) {
		bridge_buf_printf(out, "paywire_bridge_ip_limited_total{class=\"%s\"} %llu\n", names[i],
		    (unsigned long long) atomic_load_explicit(&m->ip_limited[i], memory_order_relaxed));
	}
}

void
bridge_metrics_ip_limited(bridge_metrics *m, size_t cls)
{
	PW_ASSERT(m != NULL && cls < BRIDGE_IP_CLASSES);
	atomic_fetch_add_explicit(&m->ip_limited[cls], 1, memory_order_relaxed);
}

void
bridge_metrics_render(const bridge_metrics *m, bridge_buf *out)
{
	PW_ASSERT(m != NULL && out != NULL);
	bridge_metrics_render_requests(m, out);
	bridge_metrics_render_webhooks(m, out);
	bridge_metrics_render_histograms(m, out);
	bridge_metrics_render_ip_limited(m, out);
}
