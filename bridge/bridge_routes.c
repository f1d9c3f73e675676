/* bridge_routes.c - route matching (pure) and the route handlers. Each
 * handler turns one HTTP request into one libpaywire call and maps the answer:
 * errors go through pw_status_http(), never a blanket 500. */
#include "bridge_routes.h"

#include <microhttpd.h>
#include <sodium.h>
#include <string.h>

#include "bridge_http.h"
#include "bridge_json.h"
#include "bridge_pages.h"
#include "pw_common.h"

/* A syntactically valid session id that no server ever issued ("cs_", time 0,
 * 128 zero bits): /healthz asks for its status, a NOT_FOUND means "up". */
#define BRIDGE_PROBE_SESSION_ID "cs_00000000000000000000000000000000000000000000"

_Static_assert(sizeof(((pw_status_info *) 0)->access_link) <= PW_BRIDGE_TOKEN_BYTES_MAX + 1,
    "any token inside an access link the client carries passes the bridge's ?token= limit");

static const struct {
	const char *name;
	pw_webhook_provider provider;
} bridge_providers[] = {
	{ "stripe", PW_WEBHOOK_STRIPE },
	{ "razorpay", PW_WEBHOOK_RAZORPAY },
	{ "onecom", PW_WEBHOOK_ONECOM },
	{ "web3", PW_WEBHOOK_WEB3 },
};

/* ---- matching ---- */

const char *
bridge_route_name(bridge_route_id route)
{
	switch (route) {
	case BRIDGE_ROUTE_UNMATCHED:
		return "unmatched";
	case BRIDGE_ROUTE_WEBHOOK:
		return "webhook";
	case BRIDGE_ROUTE_CREATE_SESSION:
		return "create_session";
	case BRIDGE_ROUTE_SESSION_STATUS:
		return "session_status";
	case BRIDGE_ROUTE_CHECKOUT:
		return "checkout";
	case BRIDGE_ROUTE_ACCESS:
		return "access";
	case BRIDGE_ROUTE_HEALTHZ:
		return "healthz";
	case BRIDGE_ROUTE_METRICS:
		return "metrics";
	}
	PW_ASSERT(!"route out of range");
	return "unmatched";
}

bool
bridge_session_id_valid(const char *s, size_t len)
{
	PW_ASSERT(s != NULL);
	if (len == 0 || len >= PW_SESSION_ID_BYTES_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '-';
		if (!ok) {
			return false;
		}
	}
	return true;
}

/* Copies a valid session id s[0..len) into out->session_id. */
static bool
bridge_match_session(const char *s, size_t len, bridge_match *out)
{
	if (!bridge_session_id_valid(s, len)) {
		return false;
	}
	memcpy(out->session_id, s, len);
	out->session_id[len] = '\0';
	return true;
}

/* The route a path names, whatever the method; UNMATCHED if none. */
static bridge_route_id
bridge_route_of_path(const char *path, bridge_match *out)
{
	static const char webhooks[] = "/webhooks/";
	static const char session[] = "/session/";
	static const char access[] = "/access/";
	const char *rest;
	const char *slash;

	if (strcmp(path, "/create_session") == 0) {
		return BRIDGE_ROUTE_CREATE_SESSION;
	}
	if (strcmp(path, "/checkout") == 0) {
		return BRIDGE_ROUTE_CHECKOUT;
	}
	if (strcmp(path, "/healthz") == 0) {
		return BRIDGE_ROUTE_HEALTHZ;
	}
	if (strcmp(path, "/metrics") == 0) {
		return BRIDGE_ROUTE_METRICS;
	}
	if (strncmp(path, webhooks, sizeof(webhooks) - 1) == 0) {
		rest = path + sizeof(webhooks) - 1;
		for (size_t i = 0; i < sizeof(bridge_providers) / sizeof(bridge_providers[0]); i++) {
			if (strcmp(rest, bridge_providers[i].name) == 0) {
				out->provider = bridge_providers[i].provider;
				return BRIDGE_ROUTE_WEBHOOK;
			}
		}
		return BRIDGE_ROUTE_UNMATCHED; /* unknown provider: 404 */
	}
	if (strncmp(path, session, sizeof(session) - 1) == 0) {
		rest = path + sizeof(session) - 1;
		slash = strchr(rest, '/');
		if (slash != NULL && strcmp(slash, "/status") == 0 &&
		    bridge_match_session(rest, (size_t) (slash - rest), out)) {
			return BRIDGE_ROUTE_SESSION_STATUS;
		}
		return BRIDGE_ROUTE_UNMATCHED;
	}
	if (strncmp(path, access, sizeof(access) - 1) == 0) {
		rest = path + sizeof(access) - 1;
		return bridge_match_session(rest, strlen(rest), out) ? BRIDGE_ROUTE_ACCESS
		                                                     : BRIDGE_ROUTE_UNMATCHED;
	}
	return BRIDGE_ROUTE_UNMATCHED;
}

bridge_match_result
bridge_route_match(const char *method, const char *path, bridge_match *out)
{
	bridge_route_id route;
	bool post;
	bool method_ok;

	PW_ASSERT(method != NULL && path != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	out->route = BRIDGE_ROUTE_UNMATCHED;
	route = bridge_route_of_path(path, out);
	if (route == BRIDGE_ROUTE_UNMATCHED) {
		memset(out, 0, sizeof(*out));
		return BRIDGE_MATCH_NOT_FOUND;
	}
	post = route == BRIDGE_ROUTE_WEBHOOK || route == BRIDGE_ROUTE_CREATE_SESSION;
	out->allow = post ? "POST" : "GET, HEAD";
	method_ok = post ? strcmp(method, "POST") == 0
	                 : (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
	if (!method_ok) {
		const char *allow = out->allow;
		memset(out, 0, sizeof(*out));
		out->allow = allow;
		return BRIDGE_MATCH_BAD_METHOD;
	}
	out->route = route;
	out->reads_body = post;
	return BRIDGE_MATCH_OK;
}

/* ---- handlers ---- */

/* Lower-cased copies of the request's headers, for pw_webhook_ingest. */
typedef struct bridge_headers {
	pw_kv kv[PW_WEBHOOK_HEADERS_MAX];                            /* name -> value */
	char names[PW_WEBHOOK_HEADERS_MAX][PW_HEADER_NAME_BYTES_MAX + 1]; /* lower-case names */
	size_t n;                                                    /* entries used */
	bool refused;                                                /* over a header limit */
} bridge_headers;

static enum MHD_Result
bridge_headers_cb(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
    const char *value, size_t value_size)
{
	bridge_headers *h = cls;

	(void) kind;
	if (h->n >= PW_WEBHOOK_HEADERS_MAX || key_size == 0 || key_size > PW_HEADER_NAME_BYTES_MAX ||
	    value_size > PW_HEADER_VALUE_BYTES_MAX || value == NULL || strlen(value) != value_size) {
		h->refused = true; /* the http layer checked these already; stay safe anyway */
		return MHD_NO;
	}
	for (size_t i = 0; i < key_size; i++) {
		char ch = key[i];
		h->names[h->n][i] = (ch >= 'A' && ch <= 'Z') ? (char) (ch - 'A' + 'a') : ch;
	}
	h->names[h->n][key_size] = '\0';
	h->kv[h->n].key = h->names[h->n];
	h->kv[h->n].value = value; /* MHD's copy, alive until the request completes */
	h->n++;
	return MHD_YES;
}

/* The server's message when it sent one, else the table's. */
static const char *
bridge_err_message(const pw_error *err, pw_status st)
{
	return err->message[0] != '\0' ? err->message : pw_status_message(st);
}

void
bridge_route_webhook(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	static bridge_headers headers_zero;
	bridge_headers h = headers_zero;
	pw_webhook_provider provider = rq->match->provider;
	pw_webhook_result res;
	pw_error err;
	pw_status st;

	PW_ASSERT(rq->match->route == BRIDGE_ROUTE_WEBHOOK);
	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	(void) MHD_get_connection_values_n(rq->conn, MHD_HEADER_KIND, bridge_headers_cb, &h);
	if (h.refused) {
		bridge_metrics_webhook(&br->metrics, provider, BRIDGE_TALLY_REJECTED);
		bridge_reply_json_http_error(rp, 431, "HEADERS_TOO_LARGE",
		    "too many headers or a header too long");
		return;
	}
	st = pw_webhook_ingest(br->client, provider, h.kv, h.n, rq->body != NULL ? rq->body : "",
	    rq->body_len, &res, &err);
	if (st == PW_OK && res.outcome == PW_WEBHOOK_UNSPECIFIED) {
		st = PW_INTERNAL;
		(void) pw_strlcpy(err.message, "the server answered without an outcome", sizeof(err.message));
	}
	bridge_metrics_webhook(&br->metrics, provider, bridge_metrics_tally_of(st, res.outcome));
	if (st != PW_OK) {
		pw_log(PW_LOG_INFO, "webhook %s refused: %s", pw_webhook_provider_name(provider),
		    pw_status_name(st));
		bridge_reply_json_error(rp, st, bridge_err_message(&err, st));
		return;
	}
	rp->http = 200;
	bridge_json_webhook(&rp->body, &res);
}

void
bridge_route_create_session(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	const char *api_key = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-API-Key");
	const char *idem = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Idempotency-Key");
	char msg[BRIDGE_JSON_MSG_BYTES];
	char checkout_url[PW_URL_BYTES_MAX + PW_SESSION_ID_BYTES_MAX + 32];
	bridge_create req;
	pw_session s;
	pw_error err;
	pw_status st;

	if (api_key == NULL || api_key[0] == '\0' || strlen(api_key) > PW_API_KEY_BYTES_MAX) {
		bridge_reply_json_error(rp, PW_UNAUTHENTICATED, "send the merchant API key in X-API-Key");
		return;
	}
	st = bridge_json_create_parse(rq->body, rq->body_len, idem, &req, msg, sizeof(msg));
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, msg);
		return;
	}
	memset(&s, 0, sizeof(s));
	memset(&err, 0, sizeof(err));
	st = pw_session_create(br->client, api_key, &req.params, &s, &err);
	bridge_json_create_fini(&req);
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, bridge_err_message(&err, st));
		return;
	}
	(void) snprintf(checkout_url, sizeof(checkout_url), "%s/checkout?session=%s",
	    br->cfg.public_url, s.id);
	rp->http = 200;
	bridge_json_session(&rp->body, &s, checkout_url);
}

void
bridge_route_session_status(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	pw_status_info info;
	pw_error err;
	pw_status st;

	memset(&info, 0, sizeof(info));
	memset(&err, 0, sizeof(err));
	st = pw_status_get(br->client, rq->match->session_id, &info, &err);
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, bridge_err_message(&err, st));
	} else {
		rp->http = 200;
		bridge_json_status(&rp->body, &info);
	}
	sodium_memzero(&info, sizeof(info)); /* the access link is the customer's credential */
}

void
bridge_route_checkout(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	const char *id = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "session");
	pw_status_info info;
	pw_error err;
	pw_status st;

	rp->html = true;
	rp->private_page = true; /* once paid, the page carries the access link */
	if (id == NULL || id[0] == '\0') {
		bridge_reply_html_error(rp, PW_INVALID_ARGUMENT, "Bad request",
		    "This checkout link has no session. Use the link the merchant gave you.");
		return;
	}
	if (!bridge_session_id_valid(id, strlen(id))) {
		bridge_reply_html_error(rp, PW_NOT_FOUND, "Not found", "There is no such checkout session.");
		return;
	}
	memset(&info, 0, sizeof(info));
	memset(&err, 0, sizeof(err));
	st = pw_status_get(br->client, id, &info, &err);
	if (st == PW_NOT_FOUND) {
		bridge_reply_html_error(rp, st, "Not found", "There is no such checkout session.");
	} else if (st != PW_OK) {
		bridge_reply_html_error(rp, st, "Unavailable",
		    "The payment service cannot answer right now. Try again in a moment.");
	} else {
		rp->http = 200;
		bridge_page_checkout(&rp->body, &info, br->cfg.public_url, rp->nonce);
	}
	sodium_memzero(&info, sizeof(info));
}

void
bridge_route_access(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	const char *token = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "token");
	pw_access acc;
	pw_error err;
	pw_status st;

	rp->html = true;
	rp->private_page = true;
	if (token == NULL || token[0] == '\0' || strlen(token) > PW_BRIDGE_TOKEN_BYTES_MAX) {
		bridge_reply_html_error(rp, PW_UNAUTHENTICATED, "Link not valid",
		    "This access link is not valid. Use the complete link from your checkout page.");
		return;
	}
	memset(&acc, 0, sizeof(acc));
	memset(&err, 0, sizeof(err));
	st = pw_access_redeem(br->client, rq->match->session_id, token, &acc, &err);
	if (st == PW_UNAUTHENTICATED || st == PW_PERMISSION_DENIED) {
		bridge_reply_html_error(rp, st, "Link not valid",
		    "This access link is not valid or has expired.");
	} else if (st == PW_NOT_FOUND) {
		bridge_reply_html_error(rp, st, "Not found", "There is no such purchase.");
	} else if (st != PW_OK) {
		bridge_reply_html_error(rp, st, "Unavailable",
		    "The payment service cannot answer right now. Try again in a moment.");
	} else {
		rp->http = 200;
		bridge_page_access(&rp->body, &acc, rp->nonce);
	}
	sodium_memzero(&acc, sizeof(acc)); /* held the raw access key */
}

void
bridge_route_healthz(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	pw_status_info info;
	pw_error err;
	pw_status st;

	(void) rq;
	memset(&err, 0, sizeof(err));
	st = pw_status_get(br->probe, BRIDGE_PROBE_SESSION_ID, &info, &err);
	sodium_memzero(&info, sizeof(info));
	/* any answer the server itself produced about the probe id means it is up */
	if (st == PW_OK || st == PW_NOT_FOUND || st == PW_INVALID_ARGUMENT) {
		rp->http = 200;
		bridge_json_health(&rp->body, "ok");
		return;
	}
	rp->http = 503;
	bridge_json_health(&rp->body, st == PW_TIMEOUT ? "timeout" : "unavailable");
}

void
bridge_route_metrics(bridge *br, const bridge_request *rq, bridge_reply *rp)
{
	(void) rq;
	rp->http = 200;
	rp->content_type = BRIDGE_CT_PROMETHEUS;
	bridge_metrics_render(&br->metrics, &rp->body);
}
