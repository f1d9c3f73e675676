/*
 * bridge_http.h - the bridge's HTTP/1.1 front on libmicrohttpd.
 *
 * Shape: nng demo/rest/server.c on libmicrohttpd. An HTTP request becomes one
 * synchronous libpaywire call, answered when the reply arrives. The daemon runs
 * MHD_USE_INTERNAL_POLLING_THREAD with a thread pool (cfg.threads, each an
 * epoll loop): a handler blocks its worker for at most the client's timeout x
 * (retries + 1), and only while the server is there but slow (with nothing
 * listening, libpaywire answers UNAVAILABLE at once), and the other workers
 * go on. libpaywire calls are thread-safe
 * and each uses its own nng context, so workers never wait on each other.
 * (Suspend/resume would need an asynchronous client call; libpaywire has none.)
 *
 * Layering: the top of the bridge and its only libmicrohttpd user. It matches
 * each request against the route table (bridge_routes.h), enforces the limits
 * below, collects the headers once (lower-cased, bounded) for the handler,
 * runs the row's handler and turns its bridge_reply into an MHD response.
 * Nothing below includes this header.
 *
 * Owns: the MHD daemon, per-request state (allocated at the first callback of
 * a request, freed in the completion callback), the handlers' bridge_env
 * (public URL and metrics, set by bridge_http_start). It does NOT own the two
 * pw_client handles in br->env: the caller opens them before
 * bridge_http_start and closes them after bridge_http_stop. No secret is
 * held: the bridge only forwards the merchant's X-API-Key and the customer's
 * token.
 *
 * Limits (each refused with a JSON error, nothing forwarded to the server):
 *   - more than PW_WEBHOOK_HEADERS_MAX header lines, a name over
 *     PW_HEADER_NAME_BYTES_MAX or a value over PW_HEADER_VALUE_BYTES_MAX -> 431;
 *     all headers together over PW_BRIDGE_HEADER_BYTES_MAX -> 431 from
 *     libmicrohttpd itself (MHD_OPTION_CONNECTION_MEMORY_LIMIT);
 *   - a body over the route's limit, bridge_route_body_limit(): its row's
 *     body_bytes_max lowered to cfg.body_bytes_max (webhooks: cfg.body_bytes_max;
 *     create_session: min(cfg.body_bytes_max, PW_BRIDGE_CREATE_BODY_BYTES_MAX);
 *     GET routes: 0): with Content-Length, 413 before a byte of the body is
 *     read; a chunked body (or any body on a route without one) is stored up to
 *     the limit and the connection is closed as soon as it goes over
 *     (libmicrohttpd 0.9.75 cannot queue an answer mid-upload);
 *   - cfg.connections_max connections, cfg.conn_timeout_s idle timeout.
 *
 * Threads: bridge_http_start/stop from one thread (main); handlers on MHD's.
 */
#ifndef BRIDGE_HTTP_H
#define BRIDGE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridge_routes.h"
#include "pw_common.h"
#include "pw_limits.h"

typedef struct bridge_config {
	char listen_host[256];             /* numeric address or name to bind */
	uint16_t listen_port;              /* 0: any free port (see bridge_http_port) */
	char server_url[PW_URL_BYTES_MAX]; /* libpaywire URL of paywire-server */
	char public_url[PW_URL_BYTES_MAX]; /* "" : http://<listen host>:<port>; no trailing slash */
	size_t body_bytes_max;             /* body limit of every route, 1..PW_WEBHOOK_BODY_BYTES_MAX */
	unsigned connections_max;          /* 1..PW_BRIDGE_CONNECTIONS_MAX */
	unsigned conn_timeout_s;           /* idle timeout, 1..3600 */
	unsigned threads;                  /* 1..PW_BRIDGE_THREADS_MAX */
	char razorpay_js[PW_URL_BYTES_MAX]; /* Razorpay Checkout's script (the checkout page of a
	                                      Razorpay order paywire created loads it) */
	bridge_ip_rate ip_rate[BRIDGE_IP_CLASSES]; /* --ip-rate-public, --ip-rate-webhooks
	                                             (interval_us 0: off) */
	bridge_trust trust;                /* --trust-forwarded-for (n 0: X-Forwarded-For ignored) */
	const char *tls_cert_pem;          /* --tls-cert's PEM (NUL-terminated, caller memory that
	                                      outlives the daemon), or NULL: plain HTTP */
	const char *tls_key_pem;           /* --tls-key's PEM (same; with tls_cert_pem) */
} bridge_config;

/* The bridge. The caller sets env.client and env.probe; bridge_http_start
 * sets the rest. */
typedef struct bridge {
	bridge_config cfg;         /* copy of the configuration, public_url filled in */
	bridge_env env;            /* what the route handlers use: clients, public URL, metrics */
	struct MHD_Daemon *daemon; /* running daemon, NULL when stopped */
	uint16_t port;             /* the port actually bound */
} bridge;

/* Fills defaults: 127.0.0.1:8080, tcp://127.0.0.1:7450, body limit
 * PW_WEBHOOK_BODY_BYTES_MAX, PW_BRIDGE_CONNECTIONS_MAX connections,
 * PW_BRIDGE_CONN_TIMEOUT_S, PW_BRIDGE_THREADS_DEFAULT threads. */
void bridge_config_default(bridge_config *cfg);

/* Starts listening. br->env.client and br->env.probe must be open. On success
 * the daemon runs, br->port holds the bound port and br->cfg.public_url the
 * public URL; PW_UNAVAILABLE if the address cannot be bound,
 * PW_INVALID_ARGUMENT for a bad configuration. */
pw_status bridge_http_start(bridge *br, const bridge_config *cfg) PW_WUR;

/* True when this libmicrohttpd was built with TLS (GnuTLS). */
bool bridge_http_tls_supported(void);

/* Stops the daemon: waits for requests in flight, then returns. Idempotent. */
void bridge_http_stop(bridge *br);

#endif
