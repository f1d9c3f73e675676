/*
 * bridge_http.c - libmicrohttpd callbacks, request state, body accumulation,
 * dispatch through the route table, and the MHD daemon's lifecycle.
 *
 * libmicrohttpd calls the access handler several times per request: once when
 * the headers are in (every refusal that needs no body is answered there: 431,
 * 404, 405, and 413 by Content-Length, before a byte of body is read; MHD then
 * closes the connection), once per piece of body, and once more when the
 * request is complete, where the matched row's handler runs. Nothing here
 * knows one route from another: limits, Allow, handler and metric series all
 * come from the row.
 */
#include "bridge_http.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Per-connection pool: the headers (PW_BRIDGE_HEADER_BYTES_MAX) plus room
 * for MHD's own bookkeeping and the answer's header lines. */
#define BRIDGE_CONN_MEMORY_BYTES (PW_BRIDGE_HEADER_BYTES_MAX + 16u * 1024u)
/* Path characters kept in a log line. */
#define BRIDGE_LOG_PATH_BYTES 160

/* The request's headers, checked against the limits and collected once in
 * the first callback: what a handler sees as bridge_request.headers. */
typedef struct bridge_headers {
	pw_kv kv[PW_WEBHOOK_HEADERS_MAX];                                /* name -> value (MHD's copy) */
	char names[PW_WEBHOOK_HEADERS_MAX][PW_HEADER_NAME_BYTES_MAX + 1]; /* lower-case names */
	size_t n;                                                        /* entries used */
	bool refused;                                                    /* over a header limit */
} bridge_headers;

/* The state of one request, from its first callback to its completion. */
typedef struct bridge_conn {
	bridge_match match;                 /* the route, when matched */
	bridge_headers headers;             /* every header line, bounded */
	bridge_buf body;                    /* the raw body (routes with a body limit) */
	size_t body_limit;                  /* bytes the route accepts */
	uint64_t start_us;                  /* monotonic time of the headers */
	int http;                           /* status answered; 0: none (closed) */
	char method[8];                     /* for the log line */
	char path[BRIDGE_LOG_PATH_BYTES];   /* printable path, no query string */
	char rid[PW_TRACE_ID_BYTES_MAX + 1]; /* X-Request-Id: the client's (when valid) or ours */
} bridge_conn;

/* A client's X-Request-Id is taken when it is 1..PW_TRACE_ID_BYTES_MAX
 * bytes of [A-Za-z0-9._:-]; anything else is replaced by one of ours. */
static bool
bridge_rid_valid(const char *v)
{
	size_t n = v != NULL ? strlen(v) : 0;

	if (n == 0 || n > PW_TRACE_ID_BYTES_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char) v[i];
		bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_' || ch == ':' || ch == '-';

		if (!ok) {
			return false;
		}
	}
	return true;
}

/* The request's id: its valid X-Request-Id, else "br-" + 32 hex digits. */
static void
bridge_rid_take(struct MHD_Connection *conn, bridge_conn *bc)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	uint8_t raw[16];
	char hex[33];

	if (bridge_rid_valid(v)) {
		(void) pw_strlcpy(bc->rid, v, sizeof(bc->rid));
		return;
	}
	pw_random(raw, sizeof(raw));
	pw_hex(hex, sizeof(hex), raw, sizeof(raw));
	(void) snprintf(bc->rid, sizeof(bc->rid), "br-%s", hex);
}

static uint64_t
bridge_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void
bridge_config_default(bridge_config *cfg)
{
	PW_ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	(void) pw_strlcpy(cfg->listen_host, "127.0.0.1", sizeof(cfg->listen_host));
	cfg->listen_port = 8080;
	(void) pw_strlcpy(cfg->server_url, "tcp://127.0.0.1:7450", sizeof(cfg->server_url));
	cfg->body_bytes_max = PW_WEBHOOK_BODY_BYTES_MAX;
	cfg->connections_max = PW_BRIDGE_CONNECTIONS_MAX;
	cfg->conn_timeout_s = PW_BRIDGE_CONN_TIMEOUT_S;
	cfg->threads = PW_BRIDGE_THREADS_DEFAULT;
	(void) pw_strlcpy(cfg->razorpay_js, BRIDGE_RAZORPAY_JS_DEFAULT, sizeof(cfg->razorpay_js));
	cfg->ip_rate[0] = (bridge_ip_rate) { .interval_us = 1000000 / PW_BRIDGE_IP_RATE_PUBLIC_DEFAULT,
		.burst = PW_BRIDGE_IP_BURST_PUBLIC_DEFAULT };
	cfg->ip_rate[1] = (bridge_ip_rate) { .interval_us = 1000000 / PW_BRIDGE_IP_RATE_WEBHOOKS_DEFAULT,
		.burst = PW_BRIDGE_IP_BURST_WEBHOOKS_DEFAULT };
}

/* ---- replies ---- */

/* MHD frees an answer's bytes through this; they may hold an access key. */
static void
bridge_http_free_body(void *p)
{
	sodium_memzero(p, strlen(p));
	pw_free(p);
}

static void
bridge_http_headers(struct MHD_Response *resp, const bridge_reply *rp)
{
	char csp[1024];

	/* An HTML reply is text/html whatever set the flag: the page routes set
	 * `html`, and the type must follow it (a page served as JSON is shown
	 * as source by browsers). */
	(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    rp->html ? BRIDGE_CT_HTML : rp->content_type);
	(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	(void) MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void) MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void) MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (rp->html && rp->csp_origin[0] != '\0') {
		/* Razorpay Checkout: its script, and the frame it opens */
		(void) snprintf(csp, sizeof(csp),
		    "default-src 'none'; script-src 'nonce-%s' %s; style-src 'nonce-%s'; "
		    "connect-src 'self'; frame-src %s %s; base-uri 'none'; form-action 'self'; "
		    "frame-ancestors 'none'",
		    rp->nonce, rp->csp_origin, rp->nonce, rp->csp_origin, BRIDGE_RAZORPAY_FRAME_ORIGIN);
	} else if (rp->html) {
		(void) snprintf(csp, sizeof(csp),
		    "default-src 'none'; script-src 'nonce-%s'; style-src 'nonce-%s'; "
		    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
		    rp->nonce, rp->nonce);
	} else {
		(void) snprintf(csp, sizeof(csp), "default-src 'none'; frame-ancestors 'none'");
	}
	(void) MHD_add_response_header(resp, "Content-Security-Policy", csp);
	if (rp->close) {
		(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	}
	if (rp->allow != NULL) {
		(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rp->allow);
	}
	if (rp->set_cookie[0] != '\0') {
		(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rp->set_cookie);
	}
	if (rp->location[0] != '\0') {
		(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rp->location);
	}
	if (rp->retry_after[0] != '\0') {
		(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, rp->retry_after);
	}
}

/* Queues rp on conn; the body's bytes move to MHD. A reply whose building
 * failed (over PW_BRIDGE_REPLY_BYTES_MAX, out of memory) becomes a 500. */
static enum MHD_Result
bridge_http_queue(struct MHD_Connection *conn, bridge_conn *bc, bridge_reply *rp)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!bridge_buf_ok(&rp->body)) {
		pw_log(PW_LOG_ERROR, "answer for %s could not be built", bridge_route_name(bc->match.route));
		bridge_reply_json_error(rp, PW_INTERNAL, "the answer could not be built");
	}
	if (!bridge_buf_ok(&rp->body)) {
		/* out of memory even for the error: a constant answer needs none */
		static const char oom[] = "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"out of memory\"}}";
		bridge_buf_wipe(&rp->body);
		rp->http = 500;
		rp->html = false;
		rp->content_type = BRIDGE_CT_JSON;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *) oom, MHD_RESPMEM_PERSISTENT);
	} else if (rp->body.data == NULL) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(rp->body.len, rp->body.data,
		    bridge_http_free_body);
	}
	if (resp == NULL) {
		bridge_buf_wipe(&rp->body);
		return MHD_NO;
	}
	rp->body.data = NULL; /* MHD owns it now */
	bridge_buf_fini(&rp->body);
	bridge_http_headers(resp, rp);
	if (bc->rid[0] != '\0') {
		(void) MHD_add_response_header(resp, "X-Request-Id", bc->rid);
	}
	ret = MHD_queue_response(conn, (unsigned) rp->http, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		bc->http = rp->http;
	}
	return ret;
}

static enum MHD_Result
bridge_http_refuse(struct MHD_Connection *conn, bridge_conn *bc, int http, const char *code,
    const char *message, const char *allow)
{
	bridge_reply rp;

	bridge_reply_init(&rp);
	bridge_reply_json_http_error(&rp, http, code, message);
	rp.allow = allow;
	return bridge_http_queue(conn, bc, &rp);
}

/* ---- request lifecycle ---- */

/* Checks one header line against the limits and keeps it, name lower-cased.
 * The value stays MHD's copy, alive until the request completes. */
static enum MHD_Result
bridge_http_header_cb(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	bridge_headers *h = cls;

	(void) kind;
	if (h->n >= PW_WEBHOOK_HEADERS_MAX || key_size == 0 || key_size > PW_HEADER_NAME_BYTES_MAX ||
	    value_size > PW_HEADER_VALUE_BYTES_MAX || value == NULL || strlen(value) != value_size) {
		h->refused = true;
		return MHD_NO;
	}
	for (size_t i = 0; i < key_size; i++) {
		char ch = key[i];
		h->names[h->n][i] = (ch >= 'A' && ch <= 'Z') ? (char) (ch - 'A' + 'a') : ch;
	}
	h->names[h->n][key_size] = '\0';
	h->kv[h->n].key = h->names[h->n];
	h->kv[h->n].value = value;
	h->n++;
	return MHD_YES;
}

/* bridge_query_fn over libmicrohttpd's query arguments (cls: the connection). */
static const char *
bridge_http_query(void *cls, const char *key)
{
	return MHD_lookup_connection_value(cls, MHD_GET_ARGUMENT_KIND, key);
}

/* The declared Content-Length, or -1 when absent (chunked) or unreadable. */
static long long
bridge_http_content_length(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end = NULL;
	unsigned long long v;

	if (cl == NULL || cl[0] < '0' || cl[0] > '9') {
		return -1;
	}
	v = strtoull(cl, &end, 10);
	if (end == NULL || *end != '\0' || v > (unsigned long long) INT64_MAX) {
		return (long long) INT64_MAX; /* over any limit */
	}
	return (long long) v;
}

static void
bridge_conn_describe(bridge_conn *bc, const char *method, const char *url)
{
	size_t i;

	(void) pw_strlcpy(bc->method, method, sizeof(bc->method));
	for (i = 0; url[i] != '\0' && i + 1 < sizeof(bc->path); i++) {
		unsigned char ch = (unsigned char) url[i];
		bc->path[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char) ch; /* no log injection */
	}
	bc->path[i] = '\0';
}

/* The peer of conn as 16 bytes (IPv4 mapped); false when MHD gives none. */
static bool
bridge_http_peer(struct MHD_Connection *conn, uint8_t out[16])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	if (sa == NULL) {
		return false;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *) (const void *) sa;
		static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		memcpy(out, pre, sizeof(pre));
		memcpy(out + 12, &s4->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

/* The per-address limit of the matched route (bridge_iplimit.h). False:
 * refused, rp holds the 429 (HTML for a page, JSON otherwise) with
 * Retry-After, counted in the metrics. */
static bool
bridge_http_ip_allowed(bridge *br, struct MHD_Connection *conn, bridge_conn *bc,
    const char *method, bridge_reply *rp)
{
	bridge_ip_class cls = bc->match.route->ip_class;
	bridge_iplimit *l = cls != BRIDGE_IP_NONE ? br->env.ip[cls - 1] : NULL;
	uint8_t peer[16];
	bridge_ip_key key;
	int64_t wait_ms = 0;
	char msg[96];

	if (l == NULL || !bridge_http_peer(conn, peer)) {
		return true;
	}
	bridge_client_addr(peer, &br->env.trust, bc->headers.kv, bc->headers.n, &key);
	if (bridge_iplimit_take(l, &key, (int64_t) bridge_now_us(), &wait_ms)) {
		return true;
	}
	bridge_metrics_ip_limited(&br->env.metrics, (size_t) cls - 1);
	bridge_reply_init(rp);
	(void) snprintf(msg, sizeof(msg), "too many requests from this address: retry in %lld s",
	    (long long) ((wait_ms + 999) / 1000));
	if (strcmp(method, "POST") != 0 && (strcmp(bc->match.route->name, "checkout") == 0 ||
	    strcmp(bc->match.route->name, "access") == 0)) {
		bridge_reply_html_error(rp, PW_RESOURCE_EXHAUSTED, "Too many requests", msg);
		(void) snprintf(rp->retry_after, sizeof(rp->retry_after), "%lld",
		    (long long) ((wait_ms + 999) / 1000));
	} else {
		bridge_reply_rate_limited(rp, msg, wait_ms);
	}
	pw_log(PW_LOG_INFO, "%s %s: 429, the per-address %s limit", bc->method, bc->path,
	    cls == BRIDGE_IP_WEBHOOKS ? "webhooks" : "public");
	return false;
}

/* A request whose body has no single length: more than one Content-Length
 * line, or Content-Length with Transfer-Encoding. Two parties reading it
 * (a proxy in front, the bridge) can disagree on where it ends, and the
 * bytes one takes for the next request the other took for this body
 * (request smuggling). RFC 9112 6.3: such a request is refused (400), and
 * the connection is closed after the answer whatever the answer. NULL: the
 * framing is unambiguous. */
static const char *
bridge_http_framing_refusal(const bridge_headers *h)
{
	size_t lengths = 0;
	bool chunked = false;

	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->names[i], "content-length") == 0) {
			lengths++;
		} else if (strcmp(h->names[i], "transfer-encoding") == 0) {
			chunked = true;
		}
	}
	if (lengths > 1) {
		return "more than one Content-Length header";
	}
	if (lengths == 1 && chunked) {
		return "both Content-Length and Transfer-Encoding";
	}
	return NULL;
}

/* The first callback of a request: headers are in, no body read yet. */
static enum MHD_Result
bridge_http_first(bridge *br, struct MHD_Connection *conn, const char *url, const char *method,
    bridge_conn *bc)
{
	bridge_match_result mr;
	long long declared;
	bridge_reply limited;
	const char *framing;

	(void) MHD_get_connection_values_n(conn, MHD_HEADER_KIND, bridge_http_header_cb, &bc->headers);
	if (bc->headers.refused) {
		return bridge_http_refuse(conn, bc, 431, "HEADERS_TOO_LARGE",
		    "too many header lines, or a header name or value too long", NULL);
	}
	/* matched first, so that a framing refusal is logged and counted under
	 * its route; refused whether or not the route exists */
	mr = bridge_route_match(method, url, &bc->match);
	framing = bridge_http_framing_refusal(&bc->headers);
	if (framing != NULL) {
		bridge_reply_init(&limited);
		bridge_reply_json_http_error(&limited, 400, pw_status_name(PW_INVALID_ARGUMENT), framing);
		limited.close = true;
		pw_log(PW_LOG_INFO, "%s %s: 400, %s (connection closed)", bc->method, bc->path, framing);
		bridge_route_refused(&br->env, &bc->match); /* a provider's webhook: rejected */
		return bridge_http_queue(conn, bc, &limited); /* before any body is read */
	}
	switch (mr) {
	case BRIDGE_MATCH_NOT_FOUND:
		return bridge_http_refuse(conn, bc, 404, pw_status_name(PW_NOT_FOUND), "no such route", NULL);
	case BRIDGE_MATCH_BAD_METHOD:
		return bridge_http_refuse(conn, bc, 405, "METHOD_NOT_ALLOWED",
		    "method not allowed on this route", bc->match.allow);
	case BRIDGE_MATCH_OK:
		break;
	}
	if (!bridge_http_ip_allowed(br, conn, bc, method, &limited)) {
		return bridge_http_queue(conn, bc, &limited); /* before any body is read */
	}
	bc->body_limit = bridge_route_body_limit(bc->match.route, br->cfg.body_bytes_max);
	if (bc->body_limit == 0) {
		/* answered at the final callback, so the connection stays alive; a
		 * body on a route without one goes over the zero limit and closes
		 * the connection */
		return MHD_YES;
	}
	bridge_buf_init(&bc->body, bc->body_limit + 1);
	declared = bridge_http_content_length(conn);
	if (declared > (long long) bc->body_limit) {
		/* answered before a byte of the body is read; MHD closes afterwards */
		bridge_route_refused(&br->env, &bc->match);
		return bridge_http_refuse(conn, bc, pw_status_http(PW_PAYLOAD_TOO_LARGE),
		    pw_status_name(PW_PAYLOAD_TOO_LARGE), "request body too large", NULL);
	}
	return MHD_YES; /* wait for the body */
}

/* A piece of body: stored up to the limit. Over it, the connection is closed:
 * libmicrohttpd 0.9.75 cannot queue an answer while a body is being read, and
 * reading on to answer 413 at the end would let a client stream forever. */
static enum MHD_Result
bridge_http_upload(bridge *br, bridge_conn *bc, const char *data, size_t *size)
{
	if (*size > bc->body_limit - bc->body.len) {
		pw_log(PW_LOG_INFO, "%s %s: chunked body over %zu bytes, connection closed", bc->method,
		    bc->path, bc->body_limit);
		bc->http = pw_status_http(PW_PAYLOAD_TOO_LARGE);
		bridge_route_refused(&br->env, &bc->match);
		return MHD_NO;
	}
	bridge_buf_append(&bc->body, data, *size);
	if (!bridge_buf_ok(&bc->body)) {
		pw_log(PW_LOG_ERROR, "%s %s: out of memory for the body", bc->method, bc->path);
		return MHD_NO;
	}
	*size = 0;
	return MHD_YES;
}

/* Runs the matched row's handler and queues its answer. */
static enum MHD_Result
bridge_http_run(bridge *br, struct MHD_Connection *conn, bridge_conn *bc, const char *method)
{
	const bridge_route *route = bc->match.route;
	bridge_request rq;
	bridge_reply rp;

	PW_ASSERT(route != NULL && route->handler != NULL);
	memset(&rq, 0, sizeof(rq));
	rq.match = &bc->match;
	rq.method = method;
	rq.headers = bc->headers.kv;
	rq.headers_n = bc->headers.n;
	rq.body = bc->body.data;
	rq.body_len = bc->body.len;
	rq.query = bridge_http_query;
	rq.query_cls = conn;
	bridge_reply_init(&rp);
	(void) pw_trace_set(bc->rid); /* the server logs it with each call (valid: checked) */
	route->handler(&br->env, &rq, &rp);
	(void) pw_trace_set(NULL);
	PW_ASSERT(rp.http >= 200 && rp.http <= 599);
	return bridge_http_queue(conn, bc, &rp);
}

static enum MHD_Result
bridge_http_access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	bridge *br = cls;
	bridge_conn *bc = *con_cls;

	(void) version;
	if (bc == NULL) {
		bc = pw_calloc(1, sizeof(*bc));
		if (bc == NULL) {
			pw_log(PW_LOG_ERROR, "out of memory for a request");
			return MHD_NO;
		}
		bc->start_us = bridge_now_us(); /* calloc: match.route NULL, unmatched */
		bridge_buf_init(&bc->body, 2);
		bridge_conn_describe(bc, method, url);
		bridge_rid_take(conn, bc);
		*con_cls = bc;
		return bridge_http_first(br, conn, url, method, bc);
	}
	if (*upload_data_size != 0) {
		return bridge_http_upload(br, bc, upload_data, upload_data_size);
	}
	return bridge_http_run(br, conn, bc, method);
}

static void
bridge_http_completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	bridge *br = cls;
	bridge_conn *bc = *con_cls;
	uint64_t us;

	(void) conn;
	if (bc == NULL) {
		return;
	}
	us = bridge_now_us() - bc->start_us;
	bridge_metrics_request(&br->env.metrics, bridge_route_index(bc->match.route), bc->http, us);
	/* one line per request at info; the scrapes and health checks of
	 * monitoring stay at debug */
	pw_log(bc->match.route != NULL && (strcmp(bridge_route_name(bc->match.route), "metrics") == 0 ||
	    strcmp(bridge_route_name(bc->match.route), "healthz") == 0) ? PW_LOG_DEBUG : PW_LOG_INFO,
	    "http request_id=%s route=%s method=%s path=%s code=%d us=%llu%s", bc->rid,
	    bc->match.route != NULL ? bridge_route_name(bc->match.route) : "unmatched", bc->method,
	    bc->path, bc->http, (unsigned long long) us,
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " closed=1");
	bridge_buf_wipe(&bc->body); /* a webhook body is the provider's data: not kept */
	pw_free(bc);
	*con_cls = NULL;
}

/* ---- daemon ---- */

/* Paths and query arguments are taken as sent: every identifier the bridge
 * routes on is URL-safe, so a percent sign can only be junk, and decoding it
 * ("%2e%2e", "%00") would only let junk look like a route. */
static size_t
bridge_http_unescape_cb(void *cls, struct MHD_Connection *conn, char *s)
{
	(void) cls;
	(void) conn;
	return strlen(s);
}

static void
bridge_http_log_cb(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void) cls;
	(void) vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
		line[--n] = '\0';
	}
	pw_log(PW_LOG_WARN, "microhttpd: %s", line);
}

static pw_status
bridge_http_check_config(const bridge_config *cfg)
{
	if (cfg->body_bytes_max < 1 || cfg->body_bytes_max > PW_WEBHOOK_BODY_BYTES_MAX ||
	    cfg->connections_max < 1 || cfg->connections_max > PW_BRIDGE_CONNECTIONS_MAX ||
	    cfg->conn_timeout_s < 1 || cfg->conn_timeout_s > 3600 || cfg->threads < 1 ||
	    cfg->threads > PW_BRIDGE_THREADS_MAX || cfg->listen_host[0] == '\0') {
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* Resolves host:port for binding; *ai must be freed with freeaddrinfo. */
static pw_status
bridge_http_resolve(const bridge_config *cfg, struct addrinfo **ai)
{
	struct addrinfo hints;
	char port[8];
	int rv;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	(void) snprintf(port, sizeof(port), "%u", (unsigned) cfg->listen_port);
	rv = getaddrinfo(cfg->listen_host, port, &hints, ai);
	if (rv != 0) {
		pw_log(PW_LOG_ERROR, "cannot resolve %s: %s", cfg->listen_host, gai_strerror(rv));
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* Binds and listens on ai (non-blocking: MHD's pool of threads shares the
 * socket) before any MHD thread exists, so that the bound port, and with it
 * the public URL, are known before the first request can arrive: the
 * handlers read env.public_url on MHD's threads without a lock, which is only
 * safe when it was written before those threads were created (the
 * ThreadSanitizer run, tests/integration/race_test.sh, caught it written
 * after MHD_start_daemon). *fd: the socket; *port: the port bound. */
static pw_status
bridge_http_listen(const struct addrinfo *ai, int *fd, uint16_t *port)
{
	struct sockaddr_storage sa;
	socklen_t sa_len = sizeof(sa);
	const int on = 1;
	int s;

	s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		return PW_UNAVAILABLE;
	}
	/* As MHD does for its own sockets: a restart may rebind at once. */
	(void) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6) {
		(void) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
	if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, SOMAXCONN) != 0 ||
	    getsockname(s, (struct sockaddr *) &sa, &sa_len) != 0) {
		(void) close(s);
		return PW_UNAVAILABLE;
	}
	*port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
	                                      : ((struct sockaddr_in *) &sa)->sin_port);
	*fd = s;
	return PW_OK;
}

/* Starts MHD on the listening socket fd, which it owns from then on (closed
 * by MHD_stop_daemon). */
static struct MHD_Daemon *
bridge_http_daemon(bridge *br, int fd, bool v6)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (v6) {
		flags |= MHD_USE_IPv6;
	}
	if (br->cfg.tls_cert_pem != NULL) {
		/* the same daemon over TLS (GnuTLS inside libmicrohttpd): plain
		 * HTTP on this port fails the handshake */
		return MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, bridge_http_access_cb, br,
		    MHD_OPTION_HTTPS_MEM_CERT, br->cfg.tls_cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, br->cfg.tls_key_pem,
		    MHD_OPTION_EXTERNAL_LOGGER, bridge_http_log_cb, NULL,
		    MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned) br->cfg.threads,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned) br->cfg.connections_max,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) br->cfg.conn_timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) BRIDGE_CONN_MEMORY_BYTES,
		    MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
		    MHD_OPTION_UNESCAPE_CALLBACK, bridge_http_unescape_cb, NULL,
		    MHD_OPTION_NOTIFY_COMPLETED, bridge_http_completed_cb, br,
		    MHD_OPTION_END);
	}
	return MHD_start_daemon(flags, 0, NULL, NULL, bridge_http_access_cb, br,
	    MHD_OPTION_EXTERNAL_LOGGER, bridge_http_log_cb, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned) br->cfg.threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned) br->cfg.connections_max,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) br->cfg.conn_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) BRIDGE_CONN_MEMORY_BYTES,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
	    MHD_OPTION_UNESCAPE_CALLBACK, bridge_http_unescape_cb, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, bridge_http_completed_cb, br,
	    MHD_OPTION_END);
}

pw_status
bridge_http_start(bridge *br, const bridge_config *cfg)
{
	struct addrinfo *ai = NULL;
	bool v6;
	int fd = -1;
	pw_status st;

	PW_ASSERT(br != NULL && cfg != NULL);
	PW_ASSERT(br->env.client != NULL && br->env.probe != NULL);
	PW_ASSERT(br->daemon == NULL);
	st = bridge_http_check_config(cfg);
	if (st != PW_OK) {
		return st;
	}
	br->cfg = *cfg;
	bridge_routes_metrics_init(&br->env.metrics);
	st = bridge_http_resolve(cfg, &ai);
	if (st != PW_OK) {
		return st;
	}
	v6 = ai->ai_family == AF_INET6;
	st = bridge_http_listen(ai, &fd, &br->port);
	freeaddrinfo(ai);
	if (st != PW_OK) {
		pw_log(PW_LOG_ERROR, "cannot listen on %s:%u", cfg->listen_host, (unsigned) cfg->listen_port);
		return st;
	}
	/* Everything the handlers read is written now, before MHD's threads. */
	if (br->cfg.public_url[0] == '\0') {
		bool brackets = strchr(cfg->listen_host, ':') != NULL;
		(void) snprintf(br->cfg.public_url, sizeof(br->cfg.public_url), "%s://%s%s%s:%u",
		    cfg->tls_cert_pem != NULL ? "https" : "http", brackets ? "[" : "", cfg->listen_host, brackets ? "]" : "", (unsigned) br->port);
	}
	(void) pw_strlcpy(br->env.public_url, br->cfg.public_url, sizeof(br->env.public_url));
	(void) pw_strlcpy(br->env.razorpay_js, br->cfg.razorpay_js, sizeof(br->env.razorpay_js));
	br->env.trust = br->cfg.trust;
	for (size_t i = 0; i < BRIDGE_IP_CLASSES; i++) {
		br->env.ip[i] = NULL;
		if (br->cfg.ip_rate[i].interval_us > 0) {
			br->env.ip[i] = bridge_iplimit_new(br->cfg.ip_rate[i]);
			if (br->env.ip[i] == NULL) {
				/* like a full table: never refuse customers for the
				 * limiter's own lack of room; said loudly */
				pw_log(PW_LOG_ERROR, "out of memory for the per-address %s rate limit: "
				    "running without it", i == 0 ? "public" : "webhooks");
			}
		}
	}
	br->daemon = bridge_http_daemon(br, fd, v6);
	if (br->daemon == NULL) {
		/* Whether MHD closed fd on this path is not documented: it is left
		 * open (the bridge exits when it cannot start) rather than risk
		 * closing a number another thread has reused. */
		pw_log(PW_LOG_ERROR, "cannot start the HTTP daemon on %s:%u", cfg->listen_host,
		    (unsigned) br->port);
		bridge_http_stop(br); /* frees the limiters */
		return PW_UNAVAILABLE;
	}
	return PW_OK;
}

bool
bridge_http_tls_supported(void)
{
	return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

void
bridge_http_stop(bridge *br)
{
	PW_ASSERT(br != NULL);
	if (br->daemon != NULL) {
		MHD_stop_daemon(br->daemon);
		br->daemon = NULL;
	}
	for (size_t i = 0; i < BRIDGE_IP_CLASSES; i++) {
		bridge_iplimit_free(br->env.ip[i]); /* after the daemon: no handler uses it */
		br->env.ip[i] = NULL;
	}
}
