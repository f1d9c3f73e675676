/*
 * bridge_routes.c - the route handlers, the route table, and matching (see
 * bridge_routes.h). Each handler turns one HTTP request into one libpaywire
 * call and maps the answer: errors go through pw_status_http(), never a
 * blanket 500.
 *
 * The file reads top-down in the order C needs: handlers, then the table that
 * names them, then the functions that walk the table.
 */
#include "bridge_routes.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include <paywire/provider.h>

#include "bridge_json.h"
#include "bridge_pages.h"
#include "pw_common.h"

/* A syntactically valid session id that no server ever issued ("cs_", time 0,
 * 128 zero bits): /healthz asks for its status, a NOT_FOUND means "up". */
#define BRIDGE_PROBE_SESSION_ID "cs_00000000000000000000000000000000000000000000"

_Static_assert(sizeof(((pw_status_info *) 0)->access_link) <= PW_BRIDGE_TOKEN_BYTES_MAX + 1,
    "any token inside an access link the client carries passes the bridge's ?token= limit");

/* The {provider} segment: one entry per PW_PROVIDER_MAP row. */
static const struct bridge_provider {
	const char *segment;          /* lower-case name, as in /webhooks/<name> */
	pw_webhook_provider provider; /* what the client API calls it */
} bridge_providers[] = {
#define BRIDGE_XX_PROVIDER(NAME, value, lname, label, secret_env) \
	{ .segment = lname, .provider = PW_WEBHOOK_##NAME },
	PW_PROVIDER_MAP(BRIDGE_XX_PROVIDER)
#undef BRIDGE_XX_PROVIDER
};

#define BRIDGE_XX_SAME_VALUE(NAME, value, lname, label, secret_env) \
	_Static_assert((int) PW_WEBHOOK_##NAME == (value), "pw_webhook_provider follows PW_PROVIDER_MAP");
PW_PROVIDER_MAP(BRIDGE_XX_SAME_VALUE)
#undef BRIDGE_XX_SAME_VALUE

/* ---- handlers ---- */

/* The first value of header `name` (lower-case), as libmicrohttpd's lookup
 * would give it; NULL if the request has none. */
static const char *
bridge_request_header(const bridge_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->headers_n; i++) {
		if (strcmp(rq->headers[i].key, name) == 0) {
			return rq->headers[i].value;
		}
	}
	return NULL;
}

/* True for a status that judges the request itself: what the caller sent is
 * wrong, unknown or not allowed, and the server's message says why. Every
 * other status is about paywire (the server down or slow, an internal or
 * resource failure), and its message is for the operator. */
static bool
bridge_status_judges_request(pw_status st)
{
	switch (st) {
	case PW_INVALID_ARGUMENT:
	case PW_NOT_FOUND:
	case PW_ALREADY_EXISTS:
	case PW_PERMISSION_DENIED:
	case PW_FAILED_PRECONDITION:
	case PW_ABORTED:
	case PW_UNAUTHENTICATED:
	case PW_INVALID_TRANSITION:
	case PW_IDEMPOTENCY_CONFLICT:
		return true;
	case PW_OK:
	case PW_DEADLINE_EXCEEDED:
	case PW_RESOURCE_EXHAUSTED:
	case PW_UNIMPLEMENTED:
	case PW_INTERNAL:
	case PW_UNAVAILABLE:
	case PW_PAYLOAD_TOO_LARGE:
	case PW_TIMEOUT:
		return false;
	}
	return false;
}

/* The message a public error body may carry for a failed call of rq's route:
 * the server's own when st judges the request, else the status table's
 * sentence. libpaywire's transport messages name the RPC address and carry
 * nng's error text, and an internal failure's detail is the server's: they go
 * to the log, never to a provider, merchant or browser. */
static const char *
bridge_public_message(const bridge_request *rq, const pw_error *err, pw_status st)
{
	PW_ASSERT(st != PW_OK);
	if (!bridge_status_judges_request(st)) {
		pw_log(PW_LOG_WARN, "%s: %s: %s", bridge_route_name(rq->match->route), pw_status_name(st),
		    err->message);
		return pw_status_message(st);
	}
	return err->message[0] != '\0' ? err->message : pw_status_message(st);
}

/* The page for a browser route whose server call failed with st: not_found
 * says what does not exist; anything else is the service being unavailable. */
static void
bridge_page_failed(bridge_reply *rp, pw_status st, const char *not_found)
{
	PW_ASSERT(st != PW_OK);
	if (st == PW_NOT_FOUND) {
		bridge_reply_html_error(rp, st, "Not found", not_found);
		return;
	}
	bridge_reply_html_error(rp, st, "Unavailable",
	    "The payment service cannot answer right now. Try again in a moment.");
}

/* pw_status_get of session id into info (cleared first), or with a checkout
 * secret ("" none) pw_checkout_status_get. err, cleared first, gets the
 * server's message; NULL when the caller answers with its own. */
static pw_status
bridge_status_get(pw_client *client, const char *id, const char *secret, pw_status_info *info,
    pw_error *err)
{
	pw_error ignored;
	pw_error *e = err != NULL ? err : &ignored;

	PW_ASSERT(client != NULL && id != NULL && secret != NULL && info != NULL);
	memset(info, 0, sizeof(*info));
	memset(e, 0, sizeof(*e));
	return secret[0] != '\0' ? pw_checkout_status_get(client, id, secret, info, e)
	                         : pw_status_get(client, id, info, e);
}

/* Characters of every credential the bridge takes from a query or a form:
 * base64url and the dots of a JWT, so nothing needs percent-decoding. */
static const char bridge_token_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";

/* A checkout secret as it may appear in ?secret= or a form: "" (none), or at
 * most 63 token characters (the server checks it). */
static bool
bridge_secret_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	return n < 64 && strspn(s != NULL ? s : "", bridge_token_chars) == n;
}

/* The value of field name in an application/x-www-form-urlencoded body, into
 * out: true when present with 1..out_size-1 token characters (no decoding
 * needed). */
static bool
bridge_form_get(const bridge_request *rq, const char *name, char *out, size_t out_size)
{
	size_t nlen = strlen(name);
	size_t pos = 0;

	out[0] = '\0';
	while (rq->body != NULL && pos < rq->body_len) {
		const char *amp = memchr(rq->body + pos, '&', rq->body_len - pos);
		size_t end = amp != NULL ? (size_t) (amp - rq->body) : rq->body_len;
		size_t n = end - pos;
		if (n > nlen && strncmp(rq->body + pos, name, nlen) == 0 && rq->body[pos + nlen] == '=') {
			size_t vlen = n - nlen - 1;
			const char *v = rq->body + pos + nlen + 1;
			if (vlen == 0 || vlen >= out_size) {
				return false;
			}
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] == '\0' || strchr(bridge_token_chars, v[i]) == NULL) {
					return false;
				}
			}
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return true;
		}
		pos = end + 1;
	}
	return false;
}

/* A state-changing POST from a browser must come from our own pages:
 * Sec-Fetch-Site, when sent, is same-origin (the browser sets it and no page
 * can); without it, an Origin header, when sent, is the public URL's origin.
 * Our pages say `Referrer-Policy: no-referrer`, under which a browser sends
 * `Origin: null` with a form POST (found by tests/browser/checkout.js in
 * chromium): then Sec-Fetch-Site decides, and an opaque origin without it is
 * refused. A client that sends neither header is no browser a cross-site
 * page could drive. */
static bool
bridge_same_origin(const bridge_env *env, const bridge_request *rq)
{
	const char *origin = bridge_request_header(rq, "origin");
	const char *site = bridge_request_header(rq, "sec-fetch-site");
	const char *host = strstr(env->public_url, "://");
	size_t olen;

	if (site != NULL) {
		return strcmp(site, "same-origin") == 0;
	}
	if (origin == NULL) {
		return true;
	}
	if (host == NULL) {
		return false;
	}
	host += 3;
	olen = (size_t) (host - env->public_url) + strcspn(host, "/");
	return strlen(origin) == olen && strncmp(origin, env->public_url, olen) == 0;
}

/* The checkout page's and the status route's absolute URLs for the
 * customer: the access link and where to continue, once paid. */
static void
bridge_customer_urls(const bridge_env *env, const pw_status_info *info, bridge_buf *access,
    bridge_buf *cont)
{
	if (info->status != PW_SESSION_PAID) {
		return;
	}
	(void) bridge_access_url(access, info, env->public_url);
	bridge_continue_url(cont, info->success_url, info->session_id);
}

static void
bridge_route_webhook(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	pw_webhook_provider provider = rq->match->provider;
	pw_webhook_result res;
	pw_error err;
	pw_status st;

	PW_ASSERT((int) provider != 0);
	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	st = pw_webhook_ingest(env->client, provider, rq->headers, rq->headers_n,
	    rq->body != NULL ? rq->body : "", rq->body_len, &res, &err);
	if (st == PW_OK && res.outcome == PW_WEBHOOK_UNSPECIFIED) {
		st = PW_INTERNAL;
		(void) pw_strlcpy(err.message, "the server answered without an outcome", sizeof(err.message));
	}
	bridge_metrics_webhook(&env->metrics, provider, bridge_metrics_tally_of(st, res.outcome,
	    res.anomaly));
	if (st != PW_OK) {
		pw_log(PW_LOG_INFO, "webhook %s refused: %s", pw_webhook_provider_name(provider),
		    pw_status_name(st));
		bridge_reply_json_error(rp, st, bridge_public_message(rq, &err, st));
		return;
	}
	rp->http = 200;
	bridge_json_webhook(&rp->body, &res);
}

/* A server error for a merchant route: a rate limit's refusal is a 429
 * with Retry-After, anything else the mapped JSON error. */
static void
bridge_reply_client_error(bridge_reply *rp, const bridge_request *rq, const pw_error *err,
    pw_status st)
{
	if (st == PW_RESOURCE_EXHAUSTED && err->retry_after_ms > 0) {
		bridge_reply_rate_limited(rp, bridge_public_message(rq, err, st), err->retry_after_ms);
		return;
	}
	bridge_reply_json_error(rp, st, bridge_public_message(rq, err, st));
}

static void
bridge_route_create_session(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	const char *api_key = bridge_request_header(rq, "x-api-key");
	const char *idem = bridge_request_header(rq, "idempotency-key");
	char msg[BRIDGE_JSON_MSG_BYTES];
	char checkout_url[PW_URL_BYTES_MAX + PW_SESSION_ID_BYTES_MAX + 128];
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
	st = pw_session_create(env->client, api_key, &req.params, &s, &err);
	bridge_json_create_fini(&req);
	if (st != PW_OK) {
		bridge_reply_client_error(rp, rq, &err, st);
		return;
	}
	(void) snprintf(checkout_url, sizeof(checkout_url), "%s/checkout?session=%s&secret=%s",
	    env->public_url, s.id, s.checkout_secret);
	rp->http = 200;
	bridge_json_session(&rp->body, &s, checkout_url);
}

/* POST /sessions/{session_id}/refund: RefundPayment (X-API-Key, a required
 * Idempotency-Key header; body {"amount_minor": N, "reason": R}, both
 * optional). */
static void
bridge_route_refund(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	const char *api_key = bridge_request_header(rq, "x-api-key");
	const char *idem = bridge_request_header(rq, "idempotency-key");
	char msg[BRIDGE_JSON_MSG_BYTES];
	char reason[32];
	pw_refund_params p = { .session_id = rq->match->session_id };
	pw_refund r;
	pw_error err;
	pw_status st;

	if (api_key == NULL || api_key[0] == '\0' || strlen(api_key) > PW_API_KEY_BYTES_MAX) {
		bridge_reply_json_error(rp, PW_UNAUTHENTICATED, "send the merchant API key in X-API-Key");
		return;
	}
	if (idem == NULL || idem[0] == '\0' || strlen(idem) > PW_IDEMPOTENCY_KEY_BYTES_MAX) {
		bridge_reply_json_error(rp, PW_INVALID_ARGUMENT,
		    "send an Idempotency-Key header (1..255 bytes): a retried refund must not refund twice");
		return;
	}
	st = bridge_json_refund_parse(rq->body, rq->body_len, &p.amount_minor, reason, sizeof(reason),
	    msg, sizeof(msg));
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, msg);
		return;
	}
	p.idempotency_key = idem;
	p.reason = reason[0] != '\0' ? reason : NULL;
	memset(&err, 0, sizeof(err));
	st = pw_payment_refund(env->client, api_key, &p, &r, &err);
	if (st != PW_OK) {
		bridge_reply_client_error(rp, rq, &err, st);
		return;
	}
	rp->http = 200;
	bridge_json_refund(&rp->body, &r);
}

/* POST /sessions/{session_id}/portal: CreatePortalSession (X-API-Key; body
 * {"return_url": URL}). */
static void
bridge_route_portal(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	const char *api_key = bridge_request_header(rq, "x-api-key");
	char msg[BRIDGE_JSON_MSG_BYTES];
	char return_url[PW_URL_BYTES_MAX + 1];
	pw_portal p;
	pw_error err;
	pw_status st;

	if (api_key == NULL || api_key[0] == '\0' || strlen(api_key) > PW_API_KEY_BYTES_MAX) {
		bridge_reply_json_error(rp, PW_UNAUTHENTICATED, "send the merchant API key in X-API-Key");
		return;
	}
	st = bridge_json_portal_parse(rq->body, rq->body_len, return_url, sizeof(return_url), msg,
	    sizeof(msg));
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, msg);
		return;
	}
	memset(&err, 0, sizeof(err));
	st = pw_portal_create(env->client, api_key, rq->match->session_id, return_url, &p, &err);
	if (st != PW_OK) {
		bridge_reply_client_error(rp, rq, &err, st);
		return;
	}
	rp->http = 200;
	bridge_json_portal(&rp->body, &p);
	sodium_memzero(&p, sizeof(p)); /* the portal url is a capability */
}

static void
bridge_route_session_status(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	const char *secret = rq->query(rq->query_cls, "secret");
	bridge_json_customer cv;
	bridge_buf access, cont;
	pw_status_info info;
	pw_error err;
	pw_status st;

	secret = secret != NULL ? secret : "";
	if (!bridge_secret_ok(secret)) {
		bridge_reply_json_error(rp, PW_INVALID_ARGUMENT,
		    "secret must be the checkout secret of the session's checkout URL");
		return;
	}
	st = bridge_status_get(env->client, rq->match->session_id, secret, &info, &err);
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, bridge_public_message(rq, &err, st));
		sodium_memzero(&info, sizeof(info));
		return;
	}
	rp->http = 200;
	if (secret[0] == '\0') {
		bridge_json_status(&rp->body, &info, NULL);
	} else {
		bridge_buf_init(&access, 8192);
		bridge_buf_init(&cont, 8192);
		bridge_customer_urls(env, &info, &access, &cont);
		cv.access_url = bridge_buf_ok(&access) ? bridge_buf_str(&access) : "";
		cv.continue_url = bridge_buf_ok(&cont) ? bridge_buf_str(&cont) : "";
		bridge_json_status(&rp->body, &info, &cv);
		bridge_buf_wipe(&access); /* held the customer's token */
		bridge_buf_wipe(&cont);
	}
	sodium_memzero(&info, sizeof(info)); /* the access link is the customer's credential */
}

/* "scheme://host[:port]" of an http(s) URL into out; false otherwise. */
static bool
bridge_url_origin(const char *url, char *out, size_t size)
{
	const char *host = strstr(url, "://");
	size_t n;

	if (host == NULL || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)) {
		return false;
	}
	host += 3;
	n = (size_t) (host - url) + strcspn(host, "/?#");
	if (n >= size || n <= (size_t) (host - url)) {
		return false;
	}
	memcpy(out, url, n);
	out[n] = '\0';
	return strspn(out, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/.-[]") == n;
}

static void
bridge_route_checkout(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	const char *id = rq->query(rq->query_cls, "session");
	const char *secret = rq->query(rq->query_cls, "secret");
	bridge_checkout_view v;
	bridge_buf access, cont;
	pw_status_info info;
	pw_status st;

	rp->html = true;
	secret = secret != NULL ? secret : "";
	if (id == NULL || id[0] == '\0') {
		bridge_reply_html_error(rp, PW_INVALID_ARGUMENT, "Bad request",
		    "This checkout link has no session. Use the link the merchant gave you.");
		return;
	}
	if (!bridge_session_id_valid(id, strlen(id))) {
		bridge_page_failed(rp, PW_NOT_FOUND, "There is no such checkout session.");
		return;
	}
	if (!bridge_secret_ok(secret)) {
		bridge_reply_html_error(rp, PW_UNAUTHENTICATED, "Link not valid",
		    "This checkout link is not valid. Use the complete link the merchant gave you.");
		return;
	}
	st = bridge_status_get(env->client, id, secret, &info, NULL);
	if (st == PW_UNAUTHENTICATED) {
		bridge_reply_html_error(rp, st, "Link not valid",
		    "This checkout link is not valid. Use the complete link the merchant gave you.");
	} else if (st != PW_OK) {
		bridge_page_failed(rp, st, "There is no such checkout session.");
	} else if (info.provider_checkout_url[0] != '\0' &&
	    (info.status == PW_SESSION_CREATED || info.status == PW_SESSION_PENDING ||
	        info.status == PW_SESSION_FAILED) &&
	    strlen(info.provider_checkout_url) < sizeof(rp->location) &&
	    (strncmp(info.provider_checkout_url, "https://", 8) == 0 ||
	        strncmp(info.provider_checkout_url, "http://", 7) == 0)) {
		/* paywire created the provider's checkout (Stripe): the customer pays
		 * there, and comes back to success_url; once paid this page shows the
		 * receipt and the access link as for any session */
		(void) snprintf(rp->location, sizeof(rp->location), "%s", info.provider_checkout_url);
		rp->http = 303;
		bridge_page_redirect(&rp->body, info.provider_checkout_url, rp->nonce);
	} else {
		bridge_buf_init(&access, 8192);
		bridge_buf_init(&cont, 8192);
		bridge_customer_urls(env, &info, &access, &cont);
		v = (bridge_checkout_view) { .s = &info, .secret = secret,
			.access_url = bridge_buf_ok(&access) ? bridge_buf_str(&access) : "",
			.continue_url = bridge_buf_ok(&cont) ? bridge_buf_str(&cont) : "" };
		if (strcmp(info.checkout_provider, "razorpay") == 0 &&
		    strncmp(info.provider_checkout_id, "order_", 6) == 0 &&
		    info.provider_key_id[0] != '\0' && env->razorpay_js[0] != '\0' &&
		    bridge_url_origin(env->razorpay_js, rp->csp_origin, sizeof(rp->csp_origin))) {
			v.razorpay_js = env->razorpay_js; /* the page offers Razorpay Checkout */
		}
		rp->http = 200;
		bridge_page_checkout(&rp->body, &v, rp->nonce);
		bridge_buf_wipe(&access);
		bridge_buf_wipe(&cont);
	}
	sodium_memzero(&info, sizeof(info));
}

/* POST /checkout/{session_id}/test: "Pay (test)" / "Fail (test)" of the
 * checkout page, with the checkout secret; JSON answers. */
static void
bridge_route_test_payment(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	bool fail;
	char secret[64];
	char outcome[8];
	pw_webhook_result res;
	pw_error err;
	pw_status st;

	if (!bridge_same_origin(env, rq)) {
		bridge_reply_json_error(rp, PW_PERMISSION_DENIED,
		    "a test payment must come from the checkout page itself");
		return;
	}
	if (!bridge_form_get(rq, "secret", secret, sizeof(secret))) {
		bridge_reply_json_error(rp, PW_UNAUTHENTICATED,
		    "send the checkout secret of the session as the form field secret");
		return;
	}
	if (!bridge_form_get(rq, "outcome", outcome, sizeof(outcome)) ||
	    (strcmp(outcome, "pay") != 0 && strcmp(outcome, "fail") != 0)) {
		bridge_reply_json_error(rp, PW_INVALID_ARGUMENT, "outcome must be pay or fail");
		return;
	}
	fail = strcmp(outcome, "fail") == 0; /* the outcome the page asked for */
	memset(&res, 0, sizeof(res));
	memset(&err, 0, sizeof(err));
	st = pw_test_payment(env->client, rq->match->session_id, secret, fail, &res, &err);
	sodium_memzero(secret, sizeof(secret));
	if (st != PW_OK) {
		bridge_reply_json_error(rp, st, bridge_public_message(rq, &err, st));
		return;
	}
	rp->http = 200;
	bridge_json_webhook(&rp->body, &res);
}

/* GET /access/{id}?token=: the receipt and a form to reveal the key (a link
 * checker, a mail scanner or a HEAD burns nothing); POST /access/{id} with
 * the token and the CSRF value of that form (and its cookie): the reveal. */
static void
bridge_route_access(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	bool post = strcmp(rq->method, "POST") == 0;
	char token[PW_BRIDGE_TOKEN_BYTES_MAX + 1];
	char csrf[64];
	uint8_t raw[24];
	pw_access acc;
	pw_error err;
	pw_status st;

	rp->html = true;
	if (post) {
		const char *cookie = bridge_request_header(rq, "cookie");
		const char *c = cookie != NULL ? strstr(cookie, "pw_csrf=") : NULL;
		size_t clen = c != NULL ? strcspn(c + 8, "; ") : 0;
		if (!bridge_same_origin(env, rq) || !bridge_form_get(rq, "csrf", csrf, sizeof(csrf)) ||
		    c == NULL || (c != cookie && c[-1] != ' ' && c[-1] != ';') ||
		    clen != strlen(csrf) || sodium_memcmp(c + 8, csrf, clen) != 0) {
			bridge_reply_html_error(rp, PW_PERMISSION_DENIED, "Request refused",
			    "This request did not come from your access page. Open your access link again "
			    "and press the button there.");
			return;
		}
		if (!bridge_form_get(rq, "token", token, sizeof(token))) {
			token[0] = '\0';
		}
	} else {
		const char *q = rq->query(rq->query_cls, "token");
		if (q == NULL || strlen(q) >= sizeof(token)) {
			token[0] = '\0';
		} else {
			memcpy(token, q, strlen(q) + 1);
		}
	}
	if (token[0] == '\0') {
		bridge_reply_html_error(rp, PW_UNAUTHENTICATED, "Link not valid",
		    "This access link is not valid. Use the complete link from your checkout page.");
		return;
	}
	memset(&acc, 0, sizeof(acc));
	memset(&err, 0, sizeof(err));
	st = post ? pw_access_redeem(env->client, rq->match->session_id, token, &acc, &err)
	          : pw_access_view(env->client, rq->match->session_id, token, &acc, &err);
	if (st == PW_UNAUTHENTICATED || st == PW_PERMISSION_DENIED) {
		bridge_reply_html_error(rp, st, "Link not valid",
		    "This access link is not valid or has expired.");
	} else if (st != PW_OK) {
		bridge_page_failed(rp, st, "There is no such purchase.");
	} else if (post) {
		rp->http = 200;
		bridge_page_access(&rp->body, &acc, NULL, NULL, rp->nonce);
	} else {
		/* A fresh CSRF value per view: in the form and in a cookie only this
		 * site's pages send back (SameSite=Strict), compared on POST. */
		pw_random(raw, sizeof(raw));
		pw_base64url(csrf, sizeof(csrf), raw, sizeof(raw));
		(void) snprintf(rp->set_cookie, sizeof(rp->set_cookie),
		    "pw_csrf=%s; Path=/access/; Max-Age=3600; HttpOnly; SameSite=Strict%s", csrf,
		    strncmp(env->public_url, "https://", 8) == 0 ? "; Secure" : "");
		rp->http = 200;
		bridge_page_access(&rp->body, &acc, token, csrf, rp->nonce);
	}
	sodium_memzero(&acc, sizeof(acc)); /* held the raw access key */
	sodium_memzero(token, sizeof(token));
}

static void
bridge_route_healthz(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	pw_status_info info;
	pw_status st;

	(void) rq;
	st = bridge_status_get(env->probe, BRIDGE_PROBE_SESSION_ID, "", &info, NULL);
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

static void
bridge_route_metrics(bridge_env *env, const bridge_request *rq, bridge_reply *rp)
{
	(void) rq;
	rp->http = 200;
	rp->content_type = BRIDGE_CT_PROMETHEUS;
	bridge_metrics_render(&env->metrics, &rp->body);
}

/* ---- the table ---- */

/* Every route of the bridge. The order is the order of the metric series. */
static const bridge_route bridge_routes[] = {
	{ .name = "webhook", .path = "/webhooks/{provider}", .methods = "POST",
	    .body_bytes_max = PW_WEBHOOK_BODY_BYTES_MAX, .handler = bridge_route_webhook,
	    .ip_class = BRIDGE_IP_WEBHOOKS },
	{ .name = "create_session", .path = "/create_session", .methods = "POST",
	    .body_bytes_max = PW_BRIDGE_CREATE_BODY_BYTES_MAX, .handler = bridge_route_create_session,
	    .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "refund", .path = "/sessions/{session_id}/refund", .methods = "POST",
	    .body_bytes_max = PW_BRIDGE_FORM_BYTES_MAX, .handler = bridge_route_refund, .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "portal", .path = "/sessions/{session_id}/portal", .methods = "POST",
	    .body_bytes_max = PW_BRIDGE_FORM_BYTES_MAX, .handler = bridge_route_portal, .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "session_status", .path = "/session/{session_id}/status", .methods = "GET, HEAD",
	    .body_bytes_max = 0, .handler = bridge_route_session_status,
	    .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "checkout", .path = "/checkout", .methods = "GET, HEAD",
	    .body_bytes_max = 0, .handler = bridge_route_checkout, .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "access", .path = "/access/{session_id}", .methods = "GET, HEAD, POST",
	    .body_bytes_max = PW_BRIDGE_FORM_BYTES_MAX, .handler = bridge_route_access, .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "test_payment", .path = "/checkout/{session_id}/test", .methods = "POST",
	    .body_bytes_max = PW_BRIDGE_FORM_BYTES_MAX, .handler = bridge_route_test_payment,
	    .ip_class = BRIDGE_IP_PUBLIC },
	{ .name = "healthz", .path = "/healthz", .methods = "GET, HEAD",
	    .body_bytes_max = 0, .handler = bridge_route_healthz },
	{ .name = "metrics", .path = "/metrics", .methods = "GET, HEAD",
	    .body_bytes_max = 0, .handler = bridge_route_metrics },
};

#define BRIDGE_ROUTES_N (sizeof(bridge_routes) / sizeof(bridge_routes[0]))

_Static_assert(BRIDGE_ROUTES_N + 1 <= BRIDGE_METRICS_ROUTES_MAX,
    "every route and \"unmatched\" has its metric series (raise BRIDGE_METRICS_ROUTES_MAX)");
_Static_assert(BRIDGE_METRICS_SCRAPE_BYTES(BRIDGE_ROUTES_N + 1) <= BRIDGE_METRICS_TEXT_BYTES_MAX,
    "a full /metrics scrape fits (raise BRIDGE_METRICS_TEXT_BYTES_MAX)");

/* ---- matching ---- */

typedef enum bridge_param {
	BRIDGE_PARAM_SESSION_ID = 0, /* {session_id} */
	BRIDGE_PARAM_PROVIDER = 1,   /* {provider} */
} bridge_param;

static const struct {
	const char *spelling; /* as written in a pattern */
	bridge_param param;   /* what it captures */
} bridge_params[] = {
	{ .spelling = "{session_id}", .param = BRIDGE_PARAM_SESSION_ID },
	{ .spelling = "{provider}", .param = BRIDGE_PARAM_PROVIDER },
};

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

/* The param a pattern's "{...}" (spelling[0..len)) names. A pattern with any
 * other is a bug in the table. */
static bridge_param
bridge_param_of(const char *spelling, size_t len)
{
	for (size_t i = 0; i < sizeof(bridge_params) / sizeof(bridge_params[0]); i++) {
		if (strlen(bridge_params[i].spelling) == len &&
		    memcmp(bridge_params[i].spelling, spelling, len) == 0) {
			return bridge_params[i].param;
		}
	}
	PW_ASSERT(!"unknown {param} in a route pattern");
	return BRIDGE_PARAM_SESSION_ID;
}

/* Captures the path segment s[0..len) as param into out; false if it is not
 * that param's syntax. */
static bool
bridge_param_capture(bridge_param param, const char *s, size_t len, bridge_match *out)
{
	switch (param) {
	case BRIDGE_PARAM_SESSION_ID:
		if (!bridge_session_id_valid(s, len)) {
			return false;
		}
		memcpy(out->session_id, s, len);
		out->session_id[len] = '\0';
		return true;
	case BRIDGE_PARAM_PROVIDER:
		for (size_t i = 0; i < sizeof(bridge_providers) / sizeof(bridge_providers[0]); i++) {
			if (strlen(bridge_providers[i].segment) == len &&
			    memcmp(bridge_providers[i].segment, s, len) == 0) {
				out->provider = bridge_providers[i].provider;
				return true;
			}
		}
		return false;
	}
	PW_ASSERT(!"param out of range");
	return false;
}

/* True if path matches pattern; the segments its params stand for are
 * captured into out (partly, when false: the caller clears it). */
static bool
bridge_path_match(const char *pattern, const char *path, bridge_match *out)
{
	const char *p = pattern;
	const char *s = path;

	while (*p != '\0') {
		const char *close;
		size_t seg;

		if (*p != '{') {
			if (*p != *s) {
				return false; /* also when the path ends first */
			}
			p++;
			s++;
			continue;
		}
		close = strchr(p, '}');
		PW_ASSERT(close != NULL);
		seg = strcspn(s, "/");
		if (!bridge_param_capture(bridge_param_of(p, (size_t) (close + 1 - p)), s, seg, out)) {
			return false;
		}
		p = close + 1;
		s += seg;
	}
	return *s == '\0';
}

/* True if method is one of the comma-separated methods (exact, case-sensitive,
 * as HTTP methods are). */
static bool
bridge_method_in(const char *methods, const char *method)
{
	size_t n = strlen(method);
	const char *p = methods;

	while (*p != '\0') {
		size_t tok = strcspn(p, ", ");
		if (n > 0 && tok == n && memcmp(p, method, n) == 0) {
			return true;
		}
		p += tok;
		p += strspn(p, ", ");
	}
	return false;
}

bridge_match_result
bridge_route_match(const char *method, const char *path, bridge_match *out)
{
	PW_ASSERT(method != NULL && path != NULL && out != NULL);
	for (size_t i = 0; i < BRIDGE_ROUTES_N; i++) {
		const bridge_route *r = &bridge_routes[i];

		memset(out, 0, sizeof(*out));
		if (!bridge_path_match(r->path, path, out)) {
			continue;
		}
		if (!bridge_method_in(r->methods, method)) {
			memset(out, 0, sizeof(*out));
			out->allow = r->methods;
			return BRIDGE_MATCH_BAD_METHOD;
		}
		out->route = r;
		out->allow = r->methods;
		return BRIDGE_MATCH_OK;
	}
	memset(out, 0, sizeof(*out));
	return BRIDGE_MATCH_NOT_FOUND;
}

size_t
bridge_route_body_limit(const bridge_route *route, size_t configured_max)
{
	PW_ASSERT(route != NULL);
	return route->body_bytes_max < configured_max ? route->body_bytes_max : configured_max;
}

const char *
bridge_route_name(const bridge_route *route)
{
	return route != NULL ? route->name : "unmatched";
}

size_t
bridge_route_index(const bridge_route *route)
{
	if (route == NULL) {
		return 0;
	}
	PW_ASSERT(route >= bridge_routes && route < bridge_routes + BRIDGE_ROUTES_N);
	return 1 + (size_t) (route - bridge_routes);
}

size_t
bridge_route_count(void)
{
	return BRIDGE_ROUTES_N;
}

const bridge_route *
bridge_route_at(size_t i)
{
	PW_ASSERT(i < BRIDGE_ROUTES_N);
	return &bridge_routes[i];
}

void
bridge_routes_metrics_init(bridge_metrics *m)
{
	const char *labels[BRIDGE_ROUTES_N + 1];

	PW_ASSERT(m != NULL);
	labels[0] = bridge_route_name(NULL);
	for (size_t i = 0; i < BRIDGE_ROUTES_N; i++) {
		labels[1 + i] = bridge_routes[i].name;
	}
	bridge_metrics_init(m, labels, BRIDGE_ROUTES_N + 1);
}

void
bridge_route_refused(bridge_env *env, const bridge_match *match)
{
	PW_ASSERT(env != NULL && match != NULL);
	if (match->route != NULL && (int) match->provider != 0) {
		/* a request naming a provider is that provider's webhook */
		bridge_metrics_webhook(&env->metrics, match->provider, BRIDGE_TALLY_REJECTED);
	}
}
