/*
 * bridge_reply.h - what the bridge answers to one HTTP request: status,
 * content type, body, and the error answers in their two shapes (JSON for
 * the API routes, an HTML page for the browser routes).
 *
 * Layering: below the routes (whose handlers fill a reply) and the http layer
 * (which initializes it, refuses requests with it and turns it into a
 * libmicrohttpd response); above bridge_json, bridge_pages and bridge_buf.
 * Knows nothing of routes or of libmicrohttpd.
 *
 * Owns: the body buffer, from bridge_reply_init until the http layer hands
 * its bytes to libmicrohttpd (or wipes them). Threads: a reply belongs to one
 * request on one thread. Limits: the body never grows past
 * PW_BRIDGE_REPLY_BYTES_MAX; a reply that did not fit is answered 500 by the
 * http layer, never truncated.
 */
#ifndef BRIDGE_REPLY_H
#define BRIDGE_REPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <paywire/status.h>

#include "bridge_buf.h"

#define BRIDGE_CT_JSON "application/json; charset=utf-8"
#define BRIDGE_CT_HTML "text/html; charset=utf-8"
#define BRIDGE_CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

typedef struct bridge_reply {
	int http;                 /* HTTP status code */
	const char *content_type; /* static string; html overrides it with BRIDGE_CT_HTML */
	bridge_buf body;          /* the answer's bytes */
	const char *allow;        /* Allow header (405), or NULL */
	bool html;                /* an HTML page: CSP with the nonce below */
	char nonce[32];           /* CSP nonce for the page's inline script and style */
	char set_cookie[192];     /* a Set-Cookie header value, or "" (the access page's CSRF cookie) */
	char location[2304];      /* a Location header (a 303 to the provider's page), or "" */
	char retry_after[24];     /* a Retry-After header (a 429), or "" */
	bool close;               /* Connection: close, and the connection closed after it */
	char csp_origin[300];     /* a page that loads a provider's script: its origin, allowed
	                             in script-src and frame-src (with Razorpay's API), or "" */
} bridge_reply;

/* A rate limit's refusal (err->retry_after_ms > 0): 429 Too Many Requests
 * with Retry-After in whole seconds (rounded up), the JSON error body as
 * bridge_reply_json_error's. */
void bridge_reply_rate_limited(bridge_reply *rp, const char *message, int64_t retry_after_ms);

/* Starts a reply: 500, JSON, empty body bounded by PW_BRIDGE_REPLY_BYTES_MAX,
 * a fresh random nonce. Nothing is allocated until the body is written. */
void bridge_reply_init(bridge_reply *rp);

/* {"error":{"code":<pw_status_name(st)>,"message":...}} with pw_status_http(st).
 * st is not PW_OK. message NULL: the status table's default message. Any body
 * written before is wiped. */
void bridge_reply_json_error(bridge_reply *rp, pw_status st, const char *message);

/* The same shape for the HTTP-level refusals that have no pw_status
 * (405 METHOD_NOT_ALLOWED, 431 HEADERS_TOO_LARGE). http is 400..599. */
void bridge_reply_json_http_error(bridge_reply *rp, int http, const char *code, const char *message);

/* An HTML error page with the HTTP status of st (not PW_OK). Any body written
 * before is wiped. */
void bridge_reply_html_error(bridge_reply *rp, pw_status st, const char *title, const char *message);

#endif
