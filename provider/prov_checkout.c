/* prov_checkout.c - a session's checkout at Stripe or Razorpay (see
 * prov_checkout.h). */
#include "prov_checkout.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "prov_form.h"

/* Stripe's Checkout Session lives 30 min .. 24 h. */
#define PROV_STRIPE_EXPIRY_MIN_MS (30 * 60 * INT64_C(1000))
#define PROV_STRIPE_EXPIRY_MAX_MS (24 * 3600 * INT64_C(1000))
/* Razorpay's receipt: at most 40 characters. */
#define PROV_RZP_RECEIPT_MAX 40

void
prov_checkout_idempotency_key(const char *session_id, char *out, size_t out_size)
{
	(void) snprintf(out, out_size, "paywire-checkout-%s", session_id);
}

/* Replaces every occurrence of secret in s by "***" (in place, shorter). */
static void
prov_scrub(char *s, const char *secret)
{
	size_t n = secret != NULL ? strlen(secret) : 0;
	char *p;

	if (n < 8) {
		return;
	}
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

/* The provider's error message of a JSON error body: Stripe's
 * error.message (+ param), Razorpay's error.description (+ field). */
static void
prov_error_text(const prov_http_resp *r, const char *secret, char *out, size_t size)
{
	json_error_t jerr;
	json_t *root = r->body != NULL ? json_loadb(r->body, r->body_len, 0, &jerr) : NULL;
	json_t *e = root != NULL ? json_object_get(root, "error") : NULL;
	const char *msg = e != NULL ? json_string_value(json_object_get(e, "message")) : NULL;
	const char *param = e != NULL ? json_string_value(json_object_get(e, "param")) : NULL;

	if (msg == NULL && e != NULL) {
		msg = json_string_value(json_object_get(e, "description"));
		param = json_string_value(json_object_get(e, "field"));
	}
	if (msg != NULL) {
		(void) snprintf(out, size, "%s%s%s%s", msg, param != NULL ? " (param " : "",
		    param != NULL ? param : "", param != NULL ? ")" : "");
	} else {
		(void) snprintf(out, size, "HTTP %ld without an error message", r->status);
	}
	for (char *p = out; *p != '\0'; p++) {
		if ((unsigned char) *p < 0x20) {
			*p = ' ';
		}
	}
	prov_scrub(out, secret);
	json_decref(root);
}

/* The paywire status for a call that ended (prov_http_call's rv + resp). */
static pw_status
prov_outcome(const char *who, pw_status rv, const prov_http_resp *r, const char *secret,
    char *why, size_t why_size)
{
	char text[256];

	if (rv == PW_OK && r->status >= 200 && r->status < 300) {
		return PW_OK;
	}
	if (rv == PW_OK && r->status >= 400 && r->status < 500 && r->status != 429) {
		prov_error_text(r, secret, text, sizeof(text));
		if (r->status == 400) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s refused the request: %s",
			    who, text);
		}
		if (r->status == 401 || r->status == 403) {
			return pw_why(why, why_size, PW_FAILED_PRECONDITION,
			    "%s refused the merchant's credentials (HTTP %ld): %s; set them with "
			    "`paywire merchant credentials set`", who, r->status, text);
		}
		return pw_why(why, why_size, PW_FAILED_PRECONDITION, "%s refused (HTTP %ld): %s", who,
		    r->status, text);
	}
	if (rv == PW_INVALID_ARGUMENT) {
		return pw_why(why, why_size, PW_FAILED_PRECONDITION, "%s: %s", who, r->error);
	}
	if (r->status != 0) {
		prov_error_text(r, secret, text, sizeof(text));
		return pw_why(why, why_size, PW_UNAVAILABLE,
		    "%s did not succeed after %u attempt(s): HTTP %ld: %s; nothing was recorded, a "
		    "retry reuses the same idempotency key", who, r->attempts, r->status, text);
	}
	return pw_why(why, why_size, PW_UNAVAILABLE,
	    "%s did not answer after %u attempt(s): %s; nothing was recorded, a retry reuses "
	    "the same idempotency key", who, r->attempts, r->error[0] != '\0' ? r->error : "no answer");
}

/* What the line item is called: the plan, "<n> credits", or the seller. */
static void
prov_item_name(const prov_checkout_in *in, char *out, size_t size)
{
	if (in->plan != NULL && in->plan[0] != '\0') {
		(void) snprintf(out, size, "%s", in->plan);
	} else if (in->credits > 0) {
		(void) snprintf(out, size, "%" PRId64 " credits", in->credits);
	} else if (in->merchant_name != NULL && in->merchant_name[0] != '\0') {
		(void) snprintf(out, size, "Payment to %s", in->merchant_name);
	} else {
		(void) snprintf(out, size, "Payment %s", in->session_id);
	}
}

static bool
prov_copy_id(json_t *root, const char *prefix, prov_checkout_out *out)
{
	const char *id = json_string_value(json_object_get(root, "id"));
	size_t n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > PW_PROVIDER_ID_BYTES_MAX || strncmp(id, prefix, strlen(prefix)) != 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char) id[i]) && id[i] != '_') {
			return false;
		}
	}
	memcpy(out->id, id, n + 1);
	return true;
}

/* ---- Stripe ---- */

pw_status
prov_stripe_checkout_create(prov_http *h, const char *api_base, const char *secret_key,
    const prov_checkout_in *in, int64_t deadline_mono_ms, prov_checkout_out *out, char *why,
    size_t why_size)
{
	char url[PW_PROVIDER_URL_BYTES_MAX];
	char idem[128];
	char name[128];
	char cur[8];
	char success[PW_URL_BYTES_MAX + 64];
	int64_t amount = 0;
	int64_t exp_ms;
	int iso;
	int sexp;
	prov_form f;
	prov_http_resp resp;
	prov_http_req req = { .method = "POST", .content_type = "application/x-www-form-urlencoded",
		.bearer = secret_key, .extra_header = "Stripe-Version: " PW_STRIPE_API_VERSION,
		.deadline_ms = deadline_mono_ms };
	json_error_t jerr;
	json_t *root;
	pw_status rv;

	PW_ASSERT(h != NULL && api_base != NULL && secret_key != NULL && in != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	iso = pw_currency_exponent(in->currency);
	sexp = pw_stripe_exponent(in->currency);
	if (iso < 0 || sexp < 0 || pw_amount_rescale(in->amount_minor, iso, sexp, &amount) != PW_OK) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%" PRId64 " %s minor units have no exact amount in Stripe's units",
		    in->amount_minor, in->currency);
	}
	for (size_t i = 0; i < sizeof(cur) - 1 && in->currency[i] != '\0'; i++) {
		cur[i] = (char) tolower((unsigned char) in->currency[i]);
		cur[i + 1] = '\0';
	}
	/* Stripe's session lives 30 min .. 24 h from its creation: paywire's
	 * expiry within that, counted from the paywire session's creation (a
	 * margin for the time the call takes), so every attempt sends the same */
	exp_ms = in->expires_at_unix_ms;
	if (exp_ms > in->created_at_unix_ms + PROV_STRIPE_EXPIRY_MAX_MS - 10 * 60000) {
		exp_ms = in->created_at_unix_ms + PROV_STRIPE_EXPIRY_MAX_MS - 10 * 60000;
	}
	if (exp_ms < in->created_at_unix_ms + PROV_STRIPE_EXPIRY_MIN_MS + 10 * 60000) {
		exp_ms = in->created_at_unix_ms + PROV_STRIPE_EXPIRY_MIN_MS + 10 * 60000;
	}
	prov_item_name(in, name, sizeof(name));
	/* Stripe replaces {CHECKOUT_SESSION_ID}; paywire's page is the way back
	 * when the merchant gave no URL (Stripe requires a success_url) */
	if (in->success_url != NULL && in->success_url[0] != '\0') {
		(void) snprintf(success, sizeof(success), "%s", in->success_url);
	} else {
		(void) snprintf(success, sizeof(success), "%s", in->fallback_url);
	}

	prov_form_init(&f);
	prov_form_add(&f, "mode", in->subscription ? "subscription" : "payment");
	prov_form_add(&f, "client_reference_id", in->session_id);
	prov_form_add(&f, "metadata[session_id]", in->session_id);
	prov_form_add(&f, in->subscription ? "subscription_data[metadata][session_id]"
	                                   : "payment_intent_data[metadata][session_id]",
	    in->session_id);
	if (!in->subscription) {
		/* a customer for every payment: the customer portal needs one */
		prov_form_add(&f, "customer_creation", "always");
	}
	prov_form_add(&f, "line_items[0][quantity]", "1");
	if (in->stripe_price != NULL && in->stripe_price[0] != '\0') {
		prov_form_add(&f, "line_items[0][price]", in->stripe_price);
	} else {
		prov_form_add(&f, "line_items[0][price_data][currency]", cur);
		prov_form_add_i64(&f, "line_items[0][price_data][unit_amount]", amount);
		prov_form_add(&f, "line_items[0][price_data][product_data][name]", name);
		if (in->subscription) {
			prov_form_add(&f, "line_items[0][price_data][recurring][interval]", "month");
		}
	}
	prov_form_add(&f, "success_url", success);
	prov_form_add(&f, "cancel_url", in->cancel_url != NULL && in->cancel_url[0] != '\0'
	                                    ? in->cancel_url : in->fallback_url);
	prov_form_add(&f, "customer_email", in->customer_email);
	prov_form_add_i64(&f, "expires_at", exp_ms / 1000);
	if (prov_form_done(&f) != PW_OK) {
		prov_form_fini(&f);
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "the checkout session's parameters do not fit %u bytes", PW_PROVIDER_FORM_BYTES_MAX);
	}
	(void) snprintf(url, sizeof(url), "%s/v1/checkout/sessions", api_base);
	prov_checkout_idempotency_key(in->session_id, idem, sizeof(idem));
	req.url = url;
	req.body = f.buf;
	req.body_len = f.len;
	req.idempotency_key = idem;
	rv = prov_http_call(h, &req, &resp);
	prov_form_fini(&f);
	out->attempts = resp.attempts;
	out->http_status = resp.status;
	rv = prov_outcome("stripe", rv, &resp, secret_key, why, why_size);
	if (rv == PW_OK) {
		root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		const char *u = root != NULL ? json_string_value(json_object_get(root, "url")) : NULL;
		if (root == NULL || !prov_copy_id(root, "cs_", out) || u == NULL ||
		    strncmp(u, "http", 4) != 0 || strlen(u) > PW_URL_BYTES_MAX) {
			rv = pw_why(why, why_size, PW_INTERNAL,
			    "stripe answered %ld without a checkout session id and url", resp.status);
		} else {
			(void) snprintf(out->url, sizeof(out->url), "%s", u);
		}
		json_decref(root);
	}
	prov_http_resp_fini(&resp);
	return rv;
}

pw_status
prov_stripe_portal_create(prov_http *h, const char *api_base, const char *secret_key,
    const char *customer, const char *return_url, int64_t deadline_mono_ms, char *url_out,
    size_t url_size, char *why, size_t why_size)
{
	char url[PW_PROVIDER_URL_BYTES_MAX];
	prov_form f;
	prov_http_resp resp;
	prov_http_req req = { .method = "POST", .content_type = "application/x-www-form-urlencoded",
		.bearer = secret_key, .extra_header = "Stripe-Version: " PW_STRIPE_API_VERSION,
		.deadline_ms = deadline_mono_ms, .url = url };
	json_error_t jerr;
	json_t *root;
	const char *u;
	pw_status rv;

	PW_ASSERT(h != NULL && api_base != NULL && secret_key != NULL && customer != NULL);
	PW_ASSERT(return_url != NULL && url_out != NULL && url_size > 0);
	url_out[0] = '\0';
	prov_form_init(&f);
	prov_form_add(&f, "customer", customer);
	prov_form_add(&f, "return_url", return_url);
	if (prov_form_done(&f) != PW_OK) {
		prov_form_fini(&f);
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "the portal's parameters are too long");
	}
	(void) snprintf(url, sizeof(url), "%s/v1/billing_portal/sessions", api_base);
	req.body = f.buf;
	req.body_len = f.len;
	rv = prov_http_call(h, &req, &resp);
	prov_form_fini(&f);
	rv = prov_outcome("stripe", rv, &resp, secret_key, why, why_size);
	if (rv == PW_OK) {
		root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		u = root != NULL ? json_string_value(json_object_get(root, "url")) : NULL;
		if (u == NULL || strncmp(u, "http", 4) != 0 || strlen(u) >= url_size) {
			rv = pw_why(why, why_size, PW_INTERNAL, "stripe answered %ld without a portal url",
			    resp.status);
		} else {
			(void) snprintf(url_out, url_size, "%s", u);
		}
		json_decref(root);
	}
	prov_http_resp_fini(&resp);
	return rv;
}

/* ---- Razorpay ---- */

/* receipt: "pw_" + the session id's last characters (<= 40 in all). */
static void
prov_rzp_receipt(const char *session_id, char *out, size_t size)
{
	size_t n = strlen(session_id);
	size_t keep = PROV_RZP_RECEIPT_MAX - 3;

	(void) snprintf(out, size, "pw_%s", n > keep ? session_id + (n - keep) : session_id);
}

/* An order already made for this receipt (a retry after an answer was
 * lost): GET /v1/orders?receipt=. PW_OK with out->id, PW_NOT_FOUND, or the
 * call's error. */
static pw_status
prov_rzp_find(prov_http *h, const char *api_base, const char *key_id, const char *key_secret,
    const char *receipt, const char *session_id, int64_t deadline_mono_ms,
    prov_checkout_out *out, char *why, size_t why_size)
{
	char url[PW_PROVIDER_URL_BYTES_MAX];
	prov_http_resp resp;
	prov_http_req req = { .method = "GET", .basic_user = key_id, .basic_pass = key_secret,
		.deadline_ms = deadline_mono_ms, .url = url };
	json_error_t jerr;
	json_t *root;
	json_t *items;
	json_t *o;
	size_t i;
	pw_status rv;

	(void) snprintf(url, sizeof(url), "%s/v1/orders?receipt=%s", api_base, receipt);
	rv = prov_http_call(h, &req, &resp);
	rv = prov_outcome("razorpay", rv, &resp, key_secret, why, why_size);
	out->attempts += resp.attempts;
	if (rv == PW_OK) {
		rv = PW_NOT_FOUND;
		root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		items = root != NULL ? json_object_get(root, "items") : NULL;
		json_array_foreach(items, i, o) {
			const char *sid = json_string_value(json_object_get(json_object_get(o, "notes"),
			    "session_id"));
			if (sid != NULL && strcmp(sid, session_id) == 0 && prov_copy_id(o, "order_", out)) {
				rv = PW_OK;
				break;
			}
		}
		json_decref(root);
	}
	prov_http_resp_fini(&resp);
	return rv;
}

pw_status
prov_razorpay_order_create(prov_http *h, const char *api_base, const char *key_id,
    const char *key_secret, const prov_checkout_in *in, int64_t deadline_mono_ms,
    prov_checkout_out *out, char *why, size_t why_size)
{
	char url[PW_PROVIDER_URL_BYTES_MAX];
	char receipt[PROV_RZP_RECEIPT_MAX + 1];
	prov_http_resp resp;
	prov_http_req req = { .method = "POST", .content_type = "application/json",
		.basic_user = key_id, .basic_pass = key_secret, .deadline_ms = deadline_mono_ms };
	json_error_t jerr;
	json_t *body;
	json_t *root;
	char *text;
	pw_status rv;

	PW_ASSERT(h != NULL && api_base != NULL && key_id != NULL && key_secret != NULL);
	PW_ASSERT(in != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	prov_rzp_receipt(in->session_id, receipt, sizeof(receipt));
	/* Razorpay takes no idempotency key: an order made by an attempt whose
	 * answer was lost is found by its receipt before another is made */
	rv = prov_rzp_find(h, api_base, key_id, key_secret, receipt, in->session_id,
	    deadline_mono_ms, out, why, why_size);
	if (rv != PW_NOT_FOUND) {
		return rv;
	}
	body = json_pack("{s:I, s:s, s:s, s:{s:s}}", "amount", (json_int_t) in->amount_minor,
	    "currency", in->currency, "receipt", receipt, "notes", "session_id", in->session_id);
	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		return pw_why(why, why_size, PW_RESOURCE_EXHAUSTED, "out of memory");
	}
	(void) snprintf(url, sizeof(url), "%s/v1/orders", api_base);
	req.url = url;
	req.body = text;
	req.body_len = strlen(text);
	rv = prov_http_call(h, &req, &resp);
	free(text);
	out->attempts += resp.attempts;
	out->http_status = resp.status;
	rv = prov_outcome("razorpay", rv, &resp, key_secret, why, why_size);
	if (rv == PW_OK) {
		root = json_loadb(resp.body, resp.body_len, 0, &jerr);
		if (root == NULL || !prov_copy_id(root, "order_", out)) {
			rv = pw_why(why, why_size, PW_INTERNAL, "razorpay answered %ld without an order id",
			    resp.status);
		}
		json_decref(root);
	}
	prov_http_resp_fini(&resp);
	return rv;
}

/* ---- refunds ---- */

/* The provider's final refusal: a 4xx other than 409 and 429 (a 5xx, even
 * with Stripe-Should-Retry: false, leaves the outcome unknown: not recorded,
 * a resend asks again with the same key). */
static bool
prov_refused(pw_status rv, const prov_http_resp *r)
{
	return rv != PW_OK && r->status >= 400 && r->status < 500 && r->status != 409 &&
	    r->status != 429;
}

/* The id of a 2xx answer's object (prefix checked) into id_out. */
static pw_status
prov_answer_id(const char *who, const prov_http_resp *resp, const char *prefix, char *id_out,
    size_t id_size, char *why, size_t why_size)
{
	prov_checkout_out o;
	json_error_t jerr;
	json_t *root = json_loadb(resp->body, resp->body_len, 0, &jerr);
	pw_status rv = PW_OK;

	memset(&o, 0, sizeof(o));
	if (root == NULL || !prov_copy_id(root, prefix, &o) || strlen(o.id) >= id_size) {
		rv = pw_why(why, why_size, PW_INTERNAL, "%s answered %ld without a %s… id", who,
		    resp->status, prefix);
	} else {
		(void) snprintf(id_out, id_size, "%s", o.id);
	}
	json_decref(root);
	return rv;
}

pw_status
prov_stripe_refund_create(prov_http *h, const char *api_base, const char *secret_key,
    const prov_refund_in *in, int64_t deadline_mono_ms, char *id_out, size_t id_size,
    bool *refused, char *why, size_t why_size)
{
	char url[PW_PROVIDER_URL_BYTES_MAX];
	char idem[128];
	int64_t amount = 0;
	int iso = pw_currency_exponent(in->currency);
	int sexp = pw_stripe_exponent(in->currency);
	prov_form f;
	prov_http_resp resp;
	prov_http_req req = { .method = "POST", .content_type = "application/x-www-form-urlencoded",
		.bearer = secret_key, .extra_header = "Stripe-Version: " PW_STRIPE_API_VERSION,
		.deadline_ms = deadline_mono_ms, .url = url };
	pw_status rv;

	PW_ASSERT(h != NULL && api_base != NULL && secret_key != NULL && in != NULL);
	id_out[0] = '\0';
	*refused = false;
	if (iso < 0 || sexp < 0 || pw_amount_rescale(in->amount_minor, iso, sexp, &amount) != PW_OK) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%" PRId64 " %s minor units have no exact amount in Stripe's units",
		    in->amount_minor, in->currency);
	}
	prov_form_init(&f);
	if (strncmp(in->payment_ref, "ch_", 3) == 0) {
		prov_form_add(&f, "charge", in->payment_ref);
	} else {
		prov_form_add(&f, "payment_intent", in->payment_ref);
	}
	prov_form_add_i64(&f, "amount", amount);
	prov_form_add(&f, "reason", in->reason);
	prov_form_add(&f, "metadata[session_id]", in->session_id);
	prov_form_add(&f, "metadata[refund_id]", in->refund_id);
	if (prov_form_done(&f) != PW_OK) {
		prov_form_fini(&f);
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "the refund's parameters are too long");
	}
	(void) snprintf(url, sizeof(url), "%s/v1/refunds", api_base);
	(void) snprintf(idem, sizeof(idem), "paywire-refund-%s", in->refund_id);
	req.body = f.buf;
	req.body_len = f.len;
	req.idempotency_key = idem;
	rv = prov_http_call(h, &req, &resp);
	prov_form_fini(&f);
	rv = prov_outcome("stripe", rv, &resp, secret_key, why, why_size);
	*refused = prov_refused(rv, &resp);
	if (rv == PW_OK) {
		rv = prov_answer_id("stripe", &resp, "re_", id_out, id_size, why, why_size);
	}
	prov_http_resp_fini(&resp);
	return rv;
}

pw_status
prov_razorpay_refund_create(prov_http *h, const char *api_base, const char *key_id,
    const char *key_secret, const prov_refund_in *in, int64_t deadline_mono_ms, char *id_out,
    size_t id_size, bool *refused, char *why, size_t why_size)
{
	char url[PW_PROVIDER_URL_BYTES_MAX];
	char receipt[PROV_RZP_RECEIPT_MAX + 1];
	prov_http_resp resp;
	prov_http_req req = { .method = "POST", .content_type = "application/json",
		.basic_user = key_id, .basic_pass = key_secret, .deadline_ms = deadline_mono_ms,
		.url = url };
	json_t *body;
	char *text;
	pw_status rv;

	PW_ASSERT(h != NULL && api_base != NULL && key_id != NULL && key_secret != NULL);
	id_out[0] = '\0';
	*refused = false;
	prov_rzp_receipt(in->refund_id, receipt, sizeof(receipt));
	body = json_pack("{s:I, s:s, s:{s:s, s:s}}", "amount", (json_int_t) in->amount_minor,
	    "receipt", receipt, "notes", "session_id", in->session_id, "refund_id", in->refund_id);
	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (text == NULL) {
		return pw_why(why, why_size, PW_RESOURCE_EXHAUSTED, "out of memory");
	}
	(void) snprintf(url, sizeof(url), "%s/v1/payments/%s/refund", api_base, in->payment_ref);
	req.body = text;
	req.body_len = strlen(text);
	rv = prov_http_call(h, &req, &resp);
	free(text);
	rv = prov_outcome("razorpay", rv, &resp, key_secret, why, why_size);
	*refused = prov_refused(rv, &resp);
	if (rv == PW_OK) {
		rv = prov_answer_id("razorpay", &resp, "rfnd_", id_out, id_size, why, why_size);
	}
	prov_http_resp_fini(&resp);
	return rv;
}
