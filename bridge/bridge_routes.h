/*
 * bridge_routes.h - the bridge's one route table, its matching, and the
 * route handlers.
 *
 * OWNS
 * The route table (bridge_routes.c): one row per route with its path
 * pattern, methods, metric label, body limit and handler. Matching, the 405
 * rule, body limits and the route metric labels all come from it; nothing
 * else in the bridge lists routes. docs/BRIDGE.md gives the steps to add one.
 *
 *   POST       /webhooks/{provider}           webhook  (a provider per PW_PROVIDER_MAP row)
 *   POST       /create_session                create_session
 *   GET, HEAD  /session/{session_id}/status   session_status
 *   GET, HEAD  /checkout  (?session=ID)       checkout
 *   GET, HEAD  /access/{session_id}  (?token=JWT)  access
 *   GET, HEAD  /healthz                       healthz
 *   GET, HEAD  /metrics                       metrics
 *
 * PATTERNS
 * A pattern is the exact path, except that a {param} stands for one whole
 * path segment (up to the next '/' or the end): {session_id} is
 * 1..PW_SESSION_ID_BYTES_MAX-1 bytes of [A-Za-z0-9_-]; {provider} is a
 * provider's lower-case name from PW_PROVIDER_MAP (include/paywire/provider.h),
 * compared exactly. Paths are raw (the bridge never percent-decodes, see
 * bridge_http.c), so traversal ("..", "//"), encoded bytes ("%2e"), trailing
 * slashes or a segment outside its param's syntax match no row: 404. A row's
 * methods are its Allow header ("GET, HEAD"); a path that matches a row but
 * not its methods is 405 with that Allow. GET rows take HEAD too
 * (libmicrohttpd then sends the headers only). One row per pattern.
 *
 * LAYERING
 * bridge_http (libmicrohttpd) -> bridge_routes -> bridge_reply, bridge_json,
 * bridge_pages, bridge_metrics -> bridge_buf. This module includes no
 * libmicrohttpd header and nothing above it: the http layer hands a handler
 * the request's headers (collected and bounded), body and a query lookup.
 *
 * THREADS AND LIFETIMES
 * Matching is pure (any thread). Handlers run on a libmicrohttpd worker
 * thread, one request each, and block in a synchronous libpaywire call
 * (bounded by the client's timeout and retries when the server is slow; with
 * nothing listening it fails UNAVAILABLE at once). They fill the bridge_reply
 * the http layer initialized and never queue it themselves. Everything a
 * bridge_request points to lives until the request completes. Handlers never
 * put a body, an API key, a token or an access key in a log line; the access
 * key appears only in the access page's body.
 *
 * PUBLIC BODIES
 * An error body carries the server's message only for a status that judges
 * the request (bridge_status_judges_request); for any other status it carries
 * the status table's sentence, and libpaywire's message (the RPC address,
 * nng's error text) goes to the log. Pages use fixed sentences only.
 */
#ifndef BRIDGE_ROUTES_H
#define BRIDGE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include <paywire/client.h>

#include "bridge_iplimit.h"
#include "bridge_metrics.h"
#include "bridge_reply.h"
#include "pw_limits.h"

/* Razorpay Checkout's script; the frame it opens comes from Razorpay's API. */
#define BRIDGE_RAZORPAY_JS_DEFAULT "https://checkout.razorpay.com/v1/checkout.js"
#define BRIDGE_RAZORPAY_FRAME_ORIGIN "https://api.razorpay.com"

/* What the handlers work with: set up once before the daemon starts, then
 * shared by every worker thread (the clients are thread-safe, the metrics
 * atomic, the rest read-only). */
typedef struct bridge_env {
	pw_client *client;                 /* caller's: every route's server calls */
	pw_client *probe;                  /* caller's: /healthz only (short timeout, no retries) */
	char public_url[PW_URL_BYTES_MAX]; /* where browsers reach the bridge; no trailing slash */
	char razorpay_js[PW_URL_BYTES_MAX]; /* Razorpay Checkout's script URL (--razorpay-checkout-js) */
	bridge_metrics metrics;            /* counters, read by /metrics */
	bridge_iplimit *ip[BRIDGE_IP_CLASSES]; /* per client address, by route class
	                                      (bridge_ip_class - 1); NULL: off */
	bridge_trust trust;                /* --trust-forwarded-for */
} bridge_env;

typedef struct bridge_match bridge_match;

/* Looks up query argument key of the request (cls is bridge_request.query_cls);
 * NULL when absent. The value lives until the request completes. */
typedef const char *bridge_query_fn(void *cls, const char *key);

/* What a handler sees of the request. */
typedef struct bridge_request {
	const bridge_match *match; /* route and captured segments */
	const char *method;        /* "GET", "POST", "HEAD" */
	const pw_kv *headers;      /* every header line in order, names lower-cased */
	size_t headers_n;          /* entries, <= PW_WEBHOOK_HEADERS_MAX */
	const char *body;          /* raw body (routes with a body limit), NULL if empty */
	size_t body_len;           /* its exact length */
	bridge_query_fn *query;    /* query argument lookup */
	void *query_cls;           /* its first argument */
} bridge_request;

/* A route's handler: answers rq into rp (status, content type, body). */
typedef void bridge_handler_fn(bridge_env *env, const bridge_request *rq, bridge_reply *rp);

/* Which per-address limit a route counts against (bridge_iplimit.h). */
typedef enum bridge_ip_class {
	BRIDGE_IP_NONE = 0,      /* not limited per address (healthz, metrics) */
	BRIDGE_IP_PUBLIC = 1,    /* pages, status, create_session...: --ip-rate-public */
	BRIDGE_IP_WEBHOOKS = 2,  /* provider webhooks: --ip-rate-webhooks */
} bridge_ip_class;

/* One row of the route table. */
typedef struct bridge_route {
	const char *name;          /* metric label: route="name" */
	const char *path;          /* pattern, see PATTERNS */
	const char *methods;       /* accepted methods, as sent in Allow: "POST", "GET, HEAD" */
	size_t body_bytes_max;     /* body limit before --max-body-bytes lowers it; 0: no body */
	bridge_handler_fn *handler; /* answers a matched request */
	bridge_ip_class ip_class;  /* its per-address limit */
} bridge_route;

typedef enum bridge_match_result {
	BRIDGE_MATCH_OK = 0,
	BRIDGE_MATCH_NOT_FOUND = 1,  /* 404 */
	BRIDGE_MATCH_BAD_METHOD = 2, /* 405, see allow */
} bridge_match_result;

struct bridge_match {
	const bridge_route *route;                /* the row; NULL (unmatched) unless BRIDGE_MATCH_OK */
	const char *allow;                        /* the row's methods; NULL when not found */
	pw_webhook_provider provider;             /* a {provider} segment; 0 otherwise */
	char session_id[PW_SESSION_ID_BYTES_MAX]; /* a {session_id} segment; "" otherwise */
};

/* Matches method and path against the table. Both non-NULL; path is the raw
 * request path without query string. out is always fully written: on
 * BRIDGE_MATCH_BAD_METHOD only allow is set, on NOT_FOUND nothing. Pure, any
 * thread. */
bridge_match_result bridge_route_match(const char *method, const char *path, bridge_match *out);

/* The body limit of a matched route under the configured limit
 * (--max-body-bytes): the smaller of the two; 0 for a route without a body. */
size_t bridge_route_body_limit(const bridge_route *route, size_t configured_max);

/* The route's metric label; "unmatched" for NULL (404, 405, 431 before
 * routing). */
const char *bridge_route_name(const bridge_route *route);

/* The metric series index of a route: 0 for NULL (unmatched), 1 + its row
 * otherwise; always < bridge_route_count() + 1. */
size_t bridge_route_index(const bridge_route *route);

/* The table's rows, in order, for tests and docs: i < bridge_route_count(). */
size_t bridge_route_count(void);
const bridge_route *bridge_route_at(size_t i);

/* Initializes m with one route series per row, after "unmatched" (index 0). */
void bridge_routes_metrics_init(bridge_metrics *m);

/* The http layer refused a matched request itself (body over the limit, or a
 * chunked body cut off): counts it where its handler would have, so a
 * webhook's provider tally says rejected. */
void bridge_route_refused(bridge_env *env, const bridge_match *match);

/* True if s is a syntactically valid session id: 1..PW_SESSION_ID_BYTES_MAX-1
 * bytes of [A-Za-z0-9_-]. Says nothing about whether it exists. */
bool bridge_session_id_valid(const char *s, size_t len);

#endif
