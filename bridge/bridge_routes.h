/*
 * bridge_routes.h - the bridge's routes: matching (pure) and handlers.
 *
 * Matching owns nothing and touches no server: bridge_route_match turns a
 * method and a raw path (the bridge never percent-decodes paths, see
 * bridge_http.c) into a route and its captured argument. Any path outside the
 * table below, including traversal ("..", "//"), encoded bytes ("%2e"),
 * trailing slashes or an identifier with a character outside [A-Za-z0-9_-],
 * is BRIDGE_MATCH_NOT_FOUND. A known path with another method is
 * BRIDGE_MATCH_BAD_METHOD, and out->allow lists the methods it takes.
 *
 *   POST /webhooks/{stripe|razorpay|onecom|web3}   BRIDGE_ROUTE_WEBHOOK
 *   POST /create_session                           BRIDGE_ROUTE_CREATE_SESSION
 *   GET  /session/{id}/status                      BRIDGE_ROUTE_SESSION_STATUS
 *   GET  /checkout  (?session=ID)                  BRIDGE_ROUTE_CHECKOUT
 *   GET  /access/{session_id}  (?token=JWT)        BRIDGE_ROUTE_ACCESS
 *   GET  /healthz                                  BRIDGE_ROUTE_HEALTHZ
 *   GET  /metrics                                  BRIDGE_ROUTE_METRICS
 * GET routes also take HEAD (libmicrohttpd then sends the headers only).
 *
 * Handlers run on a libmicrohttpd worker thread, one request each, and block
 * in a synchronous libpaywire call (bounded by the client's timeout and
 * retries). They fill a bridge_reply (bridge_http.h) and never queue it
 * themselves. They never put a body, an API key, a token or an access key in
 * a log line; the access key appears only in the access page's body.
 */
#ifndef BRIDGE_ROUTES_H
#define BRIDGE_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include <paywire/client.h>

#include "pw_limits.h"

typedef enum bridge_route_id {
	BRIDGE_ROUTE_UNMATCHED = 0, /* 404 / 405 / refused before routing */
	BRIDGE_ROUTE_WEBHOOK = 1,
	BRIDGE_ROUTE_CREATE_SESSION = 2,
	BRIDGE_ROUTE_SESSION_STATUS = 3,
	BRIDGE_ROUTE_CHECKOUT = 4,
	BRIDGE_ROUTE_ACCESS = 5,
	BRIDGE_ROUTE_HEALTHZ = 6,
	BRIDGE_ROUTE_METRICS = 7,
} bridge_route_id;
#define BRIDGE_ROUTE_COUNT 8

typedef enum bridge_match_result {
	BRIDGE_MATCH_OK = 0,
	BRIDGE_MATCH_NOT_FOUND = 1,  /* 404 */
	BRIDGE_MATCH_BAD_METHOD = 2, /* 405, see allow */
} bridge_match_result;

typedef struct bridge_match {
	bridge_route_id route;                    /* UNMATCHED unless BRIDGE_MATCH_OK */
	const char *allow;                        /* static "GET, HEAD" / "POST"; NULL when not found */
	bool reads_body;                          /* the route takes a request body (POST routes) */
	pw_webhook_provider provider;             /* WEBHOOK only */
	char session_id[PW_SESSION_ID_BYTES_MAX]; /* SESSION_STATUS and ACCESS; "" otherwise */
} bridge_match;

/* Matches method and path. Both non-NULL; path is the raw request path
 * without query string. out is always fully written. Pure, any thread. */
bridge_match_result bridge_route_match(const char *method, const char *path, bridge_match *out);

/* Metric label of a route: "webhook", "create_session", ... "unmatched". */
const char *bridge_route_name(bridge_route_id route);

/* True if s is a syntactically valid session id: 1..PW_SESSION_ID_BYTES_MAX-1
 * bytes of [A-Za-z0-9_-]. Says nothing about whether it exists. */
bool bridge_session_id_valid(const char *s, size_t len);

struct bridge;
struct bridge_request;
struct bridge_reply;

/* The handlers: each answers the request described by rq into rp (status,
 * content type, body, page headers). rq->match->route selects which. */
void bridge_route_webhook(struct bridge *br, const struct bridge_request *rq, struct bridge_reply *rp);
void bridge_route_create_session(struct bridge *br, const struct bridge_request *rq,
    struct bridge_reply *rp);
void bridge_route_session_status(struct bridge *br, const struct bridge_request *rq,
    struct bridge_reply *rp);
void bridge_route_checkout(struct bridge *br, const struct bridge_request *rq, struct bridge_reply *rp);
void bridge_route_access(struct bridge *br, const struct bridge_request *rq, struct bridge_reply *rp);
void bridge_route_healthz(struct bridge *br, const struct bridge_request *rq, struct bridge_reply *rp);
void bridge_route_metrics(struct bridge *br, const struct bridge_request *rq, struct bridge_reply *rp);

#endif
