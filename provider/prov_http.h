/* prov_http.h - paywire's outbound HTTPS calls to payment providers
 * (issue 10), done by libcurl: TLS verified, explicit connect and total
 * timeouts, a bounded pool of connections reused across calls, response
 * bodies bounded, retries with exponential backoff and jitter within the
 * call's deadline that honour `Stripe-Should-Retry` and `Retry-After`.
 *
 * Never called inside a store transaction, by the writer or by an nng
 * callback: a provider call can take seconds. Thread-safe: any number of
 * threads may call prov_http_call on one prov_http at once; at most
 * cfg.max_in_flight run at the same time, the others wait for a slot within
 * their deadline.
 *
 * What is retried (a retry reuses the request's bytes and its
 * Idempotency-Key, so the provider applies it once):
 *   - transport failures: connect refused or timed out, reset, a timed out
 *     attempt, a truncated answer;
 *   - HTTP 409, 429 and 5xx;
 *   - anything with `Stripe-Should-Retry: true`;
 * and never an answer with `Stripe-Should-Retry: false`, nor any other 4xx.
 * The wait before attempt n+1 is min(base * 2^n, cap), jittered down to half
 * of it at random, or the provider's `Retry-After` when it asks for more;
 * a wait that would end past the deadline is not taken: the call answers
 * with what the last attempt got.
 */
#ifndef PW_PROV_HTTP_H
#define PW_PROV_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_common.h"

typedef struct prov_http prov_http;

typedef struct prov_http_cfg {
	uint32_t connect_timeout_ms; /* one attempt's TCP + TLS connect; 0: PW_PROVIDER_CONNECT_MS */
	uint32_t attempt_timeout_ms; /* one attempt in all; 0: PW_PROVIDER_ATTEMPT_MS */
	uint32_t max_in_flight;      /* calls at once = connections kept; 0: PW_PROVIDER_CONNS_MAX */
	uint32_t backoff_base_ms;    /* first retry wait; 0: PW_PROVIDER_BACKOFF_BASE_MS */
	uint32_t backoff_cap_ms;     /* longest computed wait; 0: PW_PROVIDER_BACKOFF_CAP_MS */
	uint32_t max_attempts;       /* 0: PW_PROVIDER_ATTEMPTS_MAX */
	const char *ca_file;         /* extra CA bundle (tests' self-signed CA); NULL: system */
	bool allow_plain_http;       /* http:// too (loopback stand-ins in tests); else https only */
} prov_http_cfg;

typedef struct prov_http_req {
	const char *method;          /* "GET" or "POST" */
	const char *url;             /* https://api.stripe.com/v1/checkout/sessions */
	const char *content_type;    /* POST: "application/x-www-form-urlencoded", ... */
	const char *body;            /* POST body (not NUL-terminated necessarily) */
	size_t body_len;
	const char *bearer;          /* Authorization: Bearer (Stripe's secret key) or NULL */
	const char *basic_user;      /* Authorization: Basic (Razorpay key id) or NULL */
	const char *basic_pass;      /*   and its secret */
	const char *idempotency_key; /* Idempotency-Key header, or NULL */
	const char *extra_header;    /* one more "Name: value" (Stripe-Version), or NULL */
	int64_t deadline_ms;         /* pw_mono_ms() by which the call must end */
} prov_http_req;

/* What the call got. body is malloc'd (NUL-terminated), freed by
 * prov_http_resp_fini. */
typedef struct prov_http_resp {
	long status;             /* the last attempt's HTTP status; 0: no answer */
	char *body;
	size_t body_len;
	uint32_t attempts;       /* attempts made (1 = no retry) */
	bool retryable;          /* the last failure was one a later call may retry */
	char request_id[80];     /* the provider's Request-Id / x-request-id, if any */
	char error[256];         /* transport failure of the last attempt (no secret) */
} prov_http_resp;

/* PW_OK, or PW_INVALID_ARGUMENT for a bad cfg, PW_RESOURCE_EXHAUSTED. */
pw_status prov_http_new(const prov_http_cfg *cfg, prov_http **out) PW_WUR;
void prov_http_free(prov_http *h);

/* Runs req with its retries. PW_OK when an answer arrived (any status: the
 * caller reads resp->status; a 4xx is the provider's word, not retried),
 * PW_UNAVAILABLE when no attempt got a final answer before the deadline or
 * the attempts ran out (resp says what the last one got),
 * PW_DEADLINE_EXCEEDED when no slot freed before the deadline,
 * PW_INVALID_ARGUMENT for a URL the policy refuses (not https, credentials
 * in it). Secrets (bearer, basic_pass) never reach resp->error or a log. */
pw_status prov_http_call(prov_http *h, const prov_http_req *req, prov_http_resp *resp) PW_WUR;
void prov_http_resp_fini(prov_http_resp *resp);

/* Counters for metrics and tests. */
typedef struct prov_http_stats {
	uint64_t calls;
	uint64_t attempts;
	uint64_t retries;
	uint64_t connects;      /* new connections opened (reuse keeps this low) */
} prov_http_stats;
void prov_http_stats_get(prov_http *h, prov_http_stats *out);

/* The wait before retry n (n >= 1) for cfg, given a Retry-After of
 * retry_after_ms (0: none) and a uniform random r in [0, 1): exposed for
 * the tests of the schedule. */
uint32_t prov_http_backoff_ms(const prov_http_cfg *cfg, uint32_t n, uint32_t retry_after_ms,
    double r);

#endif
