/*
 * bridge_http.h - the bridge's HTTP/1.1 front on libmicrohttpd.
 *
 * Shape: nng demo/rest/server.c on libmicrohttpd. An HTTP request becomes one
 * synchronous libpaywire call, answered when the reply arrives. The daemon runs
 * MHD_USE_INTERNAL_POLLING_THREAD with a thread pool (cfg.threads, each an
 * epoll loop): a handler blocks its worker for at most the client's timeout x
 * (retries + 1), and the other workers go on. libpaywire calls are thread-safe
 * and each uses its own nng context, so workers never wait on each other.
 * (Suspend/resume would need an asynchronous client call; libpaywire has none.)
 *
 * Owns: the MHD daemon, per-request state (allocated at the first callback of
 * a request, freed in the completion callback), the metrics. It does NOT own
 * the two pw_client handles: the caller opens them before bridge_http_start
 * and closes them after bridge_http_stop. No secret is held: the bridge only
 * forwards the merchant's X-API-Key and the customer's token.
 *
 * Limits (each refused with a JSON error, nothing forwarded to the server):
 *   - more than PW_WEBHOOK_HEADERS_MAX header lines, a name over
 *     PW_HEADER_NAME_BYTES_MAX or a value over PW_HEADER_VALUE_BYTES_MAX -> 431;
 *     all headers together over PW_BRIDGE_HEADER_BYTES_MAX -> 431 from
 *     libmicrohttpd itself (MHD_OPTION_CONNECTION_MEMORY_LIMIT);
 *   - a body over cfg.body_bytes_max (webhooks) or
 *     min(cfg.body_bytes_max, PW_BRIDGE_CREATE_BODY_BYTES_MAX) (create_session):
 *     with Content-Length, 413 before a byte of the body is read; a chunked
 *     body is stored up to the limit and the connection is closed as soon as
 *     it goes over (libmicrohttpd 0.9.75 cannot queue an answer mid-upload);
 *   - cfg.connections_max connections, cfg.conn_timeout_s idle timeout.
 *
 * Threads: bridge_http_start/stop from one thread (main); handlers on MHD's.
 */
#ifndef BRIDGE_HTTP_H
#define BRIDGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/client.h>

#include "bridge_buf.h"
#include "bridge_metrics.h"
#include "bridge_routes.h"
#include "pw_common.h"
#include "pw_limits.h"

typedef struct bridge_config {
	char listen_host[256];             /* numeric address or name to bind */
	uint16_t listen_port;              /* 0: any free port (see bridge_http_port) */
	char server_url[PW_URL_BYTES_MAX]; /* libpaywire URL of paywire-server */
	char public_url[PW_URL_BYTES_MAX]; /* "" : http://<listen host>:<port>; no trailing slash */
	size_t body_bytes_max;             /* webhook body limit, 1..PW_WEBHOOK_BODY_BYTES_MAX */
	unsigned connections_max;          /* 1..PW_BRIDGE_CONNECTIONS_MAX */
	unsigned conn_timeout_s;           /* idle timeout, 1..3600 */
	unsigned threads;                  /* 1..PW_BRIDGE_THREADS_MAX */
} bridge_config;

/* The bridge. Fields are set by bridge_http_start except the clients. */
typedef struct bridge {
	bridge_config cfg;         /* copy of the configuration */
	pw_client *client;         /* caller's: every route's server calls */
	pw_client *probe;          /* caller's: /healthz only (short timeout, no retries) */
	bridge_metrics metrics;    /* counters, read by /metrics */
	struct MHD_Daemon *daemon; /* running daemon, NULL when stopped */
	uint16_t port;             /* the port actually bound */
} bridge;

/* What a handler sees of the request. */
typedef struct bridge_request {
	struct MHD_Connection *conn; /* for headers and query arguments */
	const bridge_match *match;   /* route and captured argument */
	const char *method;          /* "GET", "POST", "HEAD" */
	const char *body;            /* raw body (POST routes), NULL if empty */
	size_t body_len;             /* its exact length */
} bridge_request;

/* What a handler answers. The http layer turns it into an MHD response. */
typedef struct bridge_reply {
	int http;                 /* HTTP status code */
	const char *content_type; /* static string */
	bridge_buf body;          /* the answer's bytes */
	const char *allow;        /* Allow header (405), or NULL */
	bool private_page;        /* Cache-Control: no-store, Referrer-Policy: no-referrer */
	bool html;                /* an HTML page: CSP with the nonce below */
	char nonce[32];           /* CSP nonce for the page's inline script and style */
} bridge_reply;

#define BRIDGE_CT_JSON "application/json; charset=utf-8"
#define BRIDGE_CT_HTML "text/html; charset=utf-8"
#define BRIDGE_CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

/* Fills defaults: 127.0.0.1:8080, tcp://127.0.0.1:7450, body limit
 * PW_WEBHOOK_BODY_BYTES_MAX, PW_BRIDGE_CONNECTIONS_MAX connections,
 * PW_BRIDGE_CONN_TIMEOUT_S, PW_BRIDGE_THREADS_DEFAULT threads. */
void bridge_config_default(bridge_config *cfg);

/* Starts listening. br->client and br->probe must be open. On success the
 * daemon runs and br->port holds the bound port; PW_UNAVAILABLE if the
 * address cannot be bound, PW_INVALID_ARGUMENT for a bad configuration. */
pw_status bridge_http_start(bridge *br, const bridge_config *cfg) PW_WUR;

/* Stops the daemon: waits for requests in flight, then returns. Idempotent. */
void bridge_http_stop(bridge *br);

/* Reply helpers for handlers. The reply is initialized by the http layer. */
/* {"error":{"code":<pw_status_name(st)>,"message":...}} with pw_status_http(st).
 * message NULL: the status table's default message. */
void bridge_reply_json_error(bridge_reply *rp, pw_status st, const char *message);
/* The same shape for the HTTP-level refusals that have no pw_status
 * (405 METHOD_NOT_ALLOWED, 431 HEADERS_TOO_LARGE). */
void bridge_reply_json_http_error(bridge_reply *rp, int http, const char *code, const char *message);
/* An HTML error page with the HTTP status of st. */
void bridge_reply_html_error(bridge_reply *rp, pw_status st, const char *title, const char *message);

#endif
