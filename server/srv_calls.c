/*
 * srv_calls.c - each RPC call's functions, and the table that names them.
 * See srv_calls.h for what a row means and when each function runs.
 *
 * A call's functions only compute: they fill c->res or explain the refusal
 * in c->why. Auth, the request_id lookup, storing the reply and answering are
 * dispatch's (srv_dispatch.c, srv_apply.c), the same for every call.
 */
#include "srv_calls.h"
#include "srv_notify.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "prov_checkout.h"
#include "srv_limit.h"
#include "srv_map.h"
#include "srv_validate.h"
#include "srv_webhook.h"

/* Calls whose validation is their srv_validate_<call> (srv_validate.h) on
 * the request's member alone: <call>_validate, for the table. */
#define VALIDATE_MEMBER(call)                                                      \
	static pw_status call##_validate(srv_call *c)                                  \
	{                                                                              \
		return srv_validate_##call(c->req->call, c->why, sizeof(c->why));           \
	}

VALIDATE_MEMBER(create_merchant)
VALIDATE_MEMBER(get_status)
VALIDATE_MEMBER(revoke_api_key)
VALIDATE_MEMBER(redeem_access)
VALIDATE_MEMBER(cancel_session)
VALIDATE_MEMBER(deduct_credits)
VALIDATE_MEMBER(list_api_keys)
VALIDATE_MEMBER(roll_api_key)
VALIDATE_MEMBER(verify_access_key)
VALIDATE_MEMBER(get_session)
VALIDATE_MEMBER(list_sessions)
VALIDATE_MEMBER(get_invoice)
VALIDATE_MEMBER(list_invoices)
VALIDATE_MEMBER(list_events)
VALIDATE_MEMBER(get_entitlements)
VALIDATE_MEMBER(list_anomalies)
VALIDATE_MEMBER(list_quarantined_events)
VALIDATE_MEMBER(get_quarantined_event)
VALIDATE_MEMBER(get_balance)
VALIDATE_MEMBER(list_credit_transactions)
VALIDATE_MEMBER(reissue_access_key)
VALIDATE_MEMBER(create_portal_session)
VALIDATE_MEMBER(refund_payment)
VALIDATE_MEMBER(create_credit_package)
VALIDATE_MEMBER(archive_credit_package)
VALIDATE_MEMBER(list_credit_packages)

/* ---- create_merchant: admin; the reply shows the raw API key once ---- */

static pw_status
create_merchant_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__CreateMerchantRequest *r = c->req->create_merchant;
	srv_result *res = &c->res;
	pw_status rv;

	rv = store_merchant_create(t, r->name, srv_map_mode_to_store(r->mode), &res->merchant,
	    res->api_key, sizeof(res->api_key));
	PW_ASSERT(rv != PW_OK || (res->merchant != NULL && res->api_key[0] != '\0'));
	return rv;
}

/* ---- create_session: a merchant key; a test key cannot sell live ---- */

static pw_status
create_session_validate(srv_call *c)
{
	const Paywire__V1__CreateSessionRequest *r = c->req->create_session;
	pw_status rv;

	rv = srv_validate_create_session(r, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return rv;
	}
	if (r->mode == PAYWIRE__V1__MODE__MODE_LIVE && c->key_mode != PAYWIRE__V1__MODE__MODE_LIVE) {
		srv_call_why(c, "a test API key cannot create a live session");
		return PW_PERMISSION_DENIED;
	}
	PW_ASSERT(c->merchant_id[0] != '\0');
	return PW_OK;
}

/* A session record without its session, or with one the wire cannot carry
 * (srv_map_session_fits), is corrupt: never answered OK. Returns rv, or
 * PW_INTERNAL with why. */
static pw_status
session_record_check(srv_call *c, pw_status rv, const char *why)
{
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(c->res.session != NULL);
	if (c->res.session->session == NULL || !srv_map_session_fits(c->res.session->session)) {
		srv_call_why(c, "%s", why);
		return PW_INTERNAL;
	}
	return PW_OK;
}

/* The session's checkout secret, and its checkout URL with the secret, into
 * c->res for create_session and get_session (the merchant's calls). */
static void
checkout_secret_fill(srv_call *c)
{
	const Paywire__Store__V1__Session *s = c->res.session->session;
	int n;

	store_checkout_secret(c->env->st, s->id, c->res.checkout_secret);
	c->res.checkout_url[0] = '\0';
	if (s->url != NULL && s->url[0] != '\0') {
		n = snprintf(c->res.checkout_url, sizeof(c->res.checkout_url), "%s%csecret=%s", s->url,
		    strchr(s->url, '?') != NULL ? '&' : '?', c->res.checkout_secret);
		/* a url is at most PW_URL_BYTES_MAX (srv_env_init) */
		PW_ASSERT(n > 0 && (size_t) n < sizeof(c->res.checkout_url));
	}
}

/* c->hash doubles as the idempotency_key's parameter hash: the same key
 * with other parameters is a conflict. */
static pw_status
create_session_apply(store_txn *t, srv_call *c)
{
	srv_map_params_buf buf;
	store_session_params p;
	pw_status rv;

	char reason[256];

	srv_map_session_params(c->req->create_session, &p, &buf);
	reason[0] = '\0';
	p.reason = reason;
	p.reason_size = sizeof(reason);
	rv = store_session_create(t, c->merchant_id, &p, c->hash, c->env->checkout_url_base,
	    &c->res.session);
	if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "idempotency_key was already used with different parameters");
	} else if (rv != PW_OK && reason[0] != '\0') {
		srv_call_why(c, "create_session.credit_package: %s", reason); /* the package refused */
	}
	rv = session_record_check(c, rv, "the store returned a session record the wire cannot "
	                                 "carry (no session, or too much metadata)");
	if (rv == PW_OK) {
		checkout_secret_fill(c);
	}
	return rv;
}

/* ---- calls that go on past their commit (srv_calls.h `continues`) ---- */

/* c's committed (or replayed) reply when it carries result `want`,
 * unpacked; NULL when it does not (or does not unpack). */
static Paywire__V1__Response *
cont_unpack(const srv_call *c, Paywire__V1__Response__ResultCase want)
{
	Paywire__V1__Response *r = paywire__v1__response__unpack(NULL, c->reply_len, c->reply);

	if (r != NULL && r->result_case != want) {
		paywire__v1__response__free_unpacked(r, NULL);
		r = NULL;
	}
	return r;
}

/* Keeps r in c->cont when the call goes on (goes_on), else frees it. */
static bool
cont_keep(srv_call *c, Paywire__V1__Response *r, bool goes_on)
{
	if (!goes_on) {
		if (r != NULL) {
			paywire__v1__response__free_unpacked(r, NULL);
		}
		return false;
	}
	PW_ASSERT(c->cont == NULL);
	c->cont = r;
	return true;
}

/* The merchant's credentials at p for a wire mode into *cr (the caller wipes
 * it). None: FAILED_PRECONDITION saying how to set them and that `kept` is
 * kept for a resend. */
static pw_status
cont_creds(srv_call *c, pw_provider p, Paywire__V1__Mode mode, const char *kept,
    store_provider_creds *cr)
{
	bool live = mode == PAYWIRE__V1__MODE__MODE_LIVE;
	pw_status rv;

	rv = store_provider_creds_get(c->env->st, c->merchant_id, p,
	    live ? PAYWIRE__STORE__V1__MODE__MODE_LIVE : PAYWIRE__STORE__V1__MODE__MODE_TEST, cr);
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "this merchant has no %s credentials for %s mode: an operator sets them "
		                "with `paywire merchant credentials set`%s%s%s", pw_provider_name(p),
		    live ? "live" : "test", kept[0] != '\0' ? " (" : "", kept,
		    kept[0] != '\0' ? " is kept; resend the same request once they are set)" : "");
		return PW_FAILED_PRECONDITION;
	}
	if (rv != PW_OK) {
		srv_call_why(c, "reading the merchant's %s credentials failed: %s", pw_provider_name(p),
		    pw_status_message(rv));
	}
	return rv;
}

/* ---- create_session, continued: the provider checkout (docs/PROVIDERS.md) ----
 *
 * The first write committed the session with its provider checkout PENDING
 * and stored that reply. continues: the reply's session still PENDING (a
 * fresh create, or a resend after a crash or a failed provider call) goes
 * on. provider: the merchant's credentials for (provider, mode), then the
 * Checkout Session / Order, idempotent by the session id. record: the
 * second write records it (store_session_provider_record) and the reply is
 * built again from the record. */

static bool
create_session_wants_provider(const srv_call *c)
{
	return c->req->create_session->provider != PAYWIRE__V1__PROVIDER__PROVIDER_UNSPECIFIED;
}

static bool
create_session_continues(srv_call *c)
{
	Paywire__V1__Response *r = cont_unpack(c, PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION);
	const Paywire__V1__Session *s = r != NULL && r->create_session != NULL
	    ? r->create_session->session : NULL;

	/* none asked for, already recorded, or the session moved on (paid by
	 * another way, expired, canceled): the reply is the answer */
	return cont_keep(c, r, s != NULL &&
	        s->provider_checkout_state ==
	            PAYWIRE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_PENDING &&
	        s->status == PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_CREATED);
}

static pw_status
create_session_provider(srv_call *c, const srv_provider_ctx *px)
{
	const Paywire__V1__Session *s = c->cont->create_session->session;
	pw_provider p = (pw_provider) s->checkout_provider;
	store_provider_creds cr;
	prov_checkout_in in = { .session_id = s->id, .amount_minor = s->amount_minor,
		.currency = s->currency, .success_url = s->success_url,
		.cancel_url = s->cancel_url, .fallback_url = s->url,
		.customer_email = s->customer_email, .expires_at_unix_ms = s->expires_at_unix_ms,
		.created_at_unix_ms = s->created_at_unix_ms };
	prov_checkout_out out;
	char price[PW_PROVIDER_ID_BYTES_MAX + 1];
	pw_status rv;

	if (s->fulfillment != NULL) {
		in.plan = s->fulfillment->plan;
		in.credits = s->fulfillment->credits;
		in.subscription = s->fulfillment->subscription;
	}
	rv = cont_creds(c, p, s->mode, "the session", &cr);
	if (rv != PW_OK) {
		return rv;
	}
	if (p == PW_PROVIDER_STRIPE && in.plan != NULL && in.plan[0] != '\0' &&
	    store_plan_price_get(c->env->st, c->merchant_id, srv_map_mode_to_store(s->mode), in.plan,
	        price, sizeof(price)) == PW_OK) {
		in.stripe_price = price; /* the merchant's configured Price for the plan */
	}
	if (p == PW_PROVIDER_STRIPE) {
		rv = prov_stripe_checkout_create(px->http, px->stripe_api, cr.secret, &in,
		    px->deadline_mono_ms, &out, c->why, sizeof(c->why));
	} else {
		rv = prov_razorpay_order_create(px->http, px->razorpay_api, cr.key_id, cr.secret, &in,
		    px->deadline_mono_ms, &out, c->why, sizeof(c->why));
	}
	sodium_memzero(&cr, sizeof(cr));
	if (rv == PW_OK) {
		(void) pw_strlcpy(c->prov_id, out.id, sizeof(c->prov_id));
		(void) pw_strlcpy(c->prov_url, out.url, sizeof(c->prov_url));
	}
	return rv;
}

static pw_status
create_session_record(store_txn *t, srv_call *c)
{
	const Paywire__V1__Session *s = c->cont->create_session->session;
	pw_status rv;

	rv = store_session_provider_record(t, c->merchant_id, s->id, c->prov_id, c->prov_url,
	    &c->res.session);
	if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "session %s already records another provider checkout; %s is not "
		                "recorded", s->id, c->prov_id);
		return PW_INTERNAL;
	}
	rv = session_record_check(c, rv, "the store returned a session record the wire cannot "
	                                 "carry (no session, or too much metadata)");
	if (rv == PW_OK) {
		checkout_secret_fill(c);
	}
	return rv;
}

/* ---- cancel_session: a merchant key; its own sessions only ---- */

static pw_status
cancel_session_apply(store_txn *t, srv_call *c)
{
	char reason[160];
	pw_status rv;

	rv = store_session_cancel(t, c->merchant_id, c->req->cancel_session->session_id,
	    &c->res.session, reason, sizeof(reason));
	if (rv == PW_FAILED_PRECONDITION) {
		srv_call_why(c, "%s", reason);
	} else if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no session %s for this merchant", c->req->cancel_session->session_id);
	}
	return session_record_check(c, rv, "the store returned a session record the wire cannot "
	                                   "carry (no session, or too much metadata)");
}

/* ---- credits: a merchant key; its own customers' ledgers ---- */

/* c->hash (the call's parameters) is the idempotency key's parameter hash:
 * the same key with other parameters is a conflict. */
static pw_status
deduct_credits_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__DeductCreditsRequest *r = c->req->deduct_credits;
	store_deduct_params p = { .customer = r->customer, .credits = r->credits,
		.idempotency_key = r->idempotency_key, .description = r->description };
	char reason[160];
	pw_status rv;

	rv = store_credits_deduct(t, c->merchant_id, &p, c->hash, &c->res.credit, reason,
	    sizeof(reason));
	if (rv == PW_FAILED_PRECONDITION || rv == PW_INVALID_ARGUMENT) {
		srv_call_why(c, "%s", reason);
	} else if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "idempotency_key was already used with different parameters");
	}
	return rv;
}

static pw_status
get_balance_read(srv_call *c)
{
	return store_credits_balance(c->env->st, c->merchant_id, c->req->get_balance->customer,
	    &c->res.ledger);
}

static pw_status
list_credit_transactions_read(srv_call *c)
{
	const Paywire__V1__ListCreditTransactionsRequest *r = c->req->list_credit_transactions;

	return store_credits_list(c->env->st, c->merchant_id, r->customer, r->starting_after,
	    r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT, &c->res.credits, &c->res.n_credits,
	    &c->res.has_more);
}

/* ---- credit packages: a merchant key; its own catalogue ---- */

static pw_status
create_credit_package_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__CreditPackageCreateRequest *r = c->req->create_credit_package;
	store_credit_package_params p = { .code = r->code, .name = r->name, .credits = r->credits,
		.amount_minor = r->amount_minor, .currency = r->currency };
	char reason[256];
	pw_status rv;

	if (c->res.package != NULL) { /* an earlier run's (RE-RUNS, store.h) */
		paywire__store__v1__credit_package_record__free_unpacked(c->res.package, NULL);
		c->res.package = NULL;
	}
	rv = store_credit_package_create(t, c->merchant_id, &p, &c->res.package,
	    &c->res.package_created, reason, sizeof(reason));
	if (rv != PW_OK && reason[0] != '\0') {
		srv_call_why(c, "%s", reason);
	}
	return rv;
}

static pw_status
archive_credit_package_apply(store_txn *t, srv_call *c)
{
	const char *code = c->req->archive_credit_package->code;
	pw_status rv;

	if (c->res.package != NULL) {
		paywire__store__v1__credit_package_record__free_unpacked(c->res.package, NULL);
		c->res.package = NULL;
	}
	rv = store_credit_package_archive(t, c->merchant_id, code, &c->res.package);
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no credit package %s for this merchant", code);
	}
	return rv;
}

static pw_status
list_credit_packages_read(srv_call *c)
{
	const Paywire__V1__CreditPackageListRequest *r = c->req->list_credit_packages;

	return store_credit_packages_list(c->env->st, c->merchant_id, r->starting_after,
	    r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT, r->include_archived,
	    &c->res.packages, &c->res.n_packages, &c->res.has_more);
}

/* ---- get_status: no key (the session id is the capability); a read ---- */

/* A Razorpay order paywire created: the merchant's public key id, which
 * Razorpay Checkout needs in the customer's browser (never the secret). None
 * when the merchant has no credentials for the mode any more. */
static void
get_status_razorpay_key(srv_call *c)
{
	const Paywire__Store__V1__Session *s = c->res.session->session;
	Paywire__Store__V1__ProviderCredentialsRecord **list = NULL;
	size_t n = 0;

	if (s->checkout_provider != PAYWIRE__STORE__V1__PROVIDER__PROVIDER_RAZORPAY ||
	    s->provider_checkout_state !=
	        PAYWIRE__STORE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_CREATED) {
		return;
	}
	/* the listing (hints and key ids): a customer's page never makes the
	 * store open a secret */
	if (store_provider_creds_list(c->env->st, s->merchant_id, &list, &n) != PW_OK) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i]->provider == PAYWIRE__STORE__V1__PROVIDER__PROVIDER_RAZORPAY &&
		    list[i]->mode == s->mode) {
			(void) pw_strlcpy(c->res.provider_key_id, list[i]->key_id,
			    sizeof(c->res.provider_key_id));
		}
	}
	store_provider_creds_list_free(list, n);
}

static pw_status
get_status_read(srv_call *c)
{
	const char *id = c->req->get_status->session_id;
	pw_status rv;

	rv = store_session_get(c->env->st, id, &c->res.session);
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "session %s not found", id);
	}
	rv = session_record_check(c, rv, "session record without a session, or with one the wire "
	                                 "cannot carry (corrupt record)");
	if (rv != PW_OK || c->req->get_status->checkout_secret[0] == '\0') {
		return rv; /* without the secret: the status only */
	}
	if (!store_checkout_secret_ok(c->env->st, id, c->req->get_status->checkout_secret)) {
		srv_call_why(c, "checkout_secret is not the secret of session %s", id);
		return PW_UNAUTHENTICATED;
	}
	c->res.customer = true;
	rv = store_merchant_name(c->env->st, c->res.session->session->merchant_id,
	    c->res.merchant_name, sizeof(c->res.merchant_name));
	if (rv != PW_OK && rv != PW_NOT_FOUND) {
		return rv;
	}
	get_status_razorpay_key(c);
	return PW_OK; /* no name to show is not the customer's problem */
}

/* ---- test_payment: the checkout secret is the credential; test mode only ---- */

/* Builds the Stripe event a test payment stands for (Stripe's own shape:
 * checkout.session.completed, or payment_intent.payment_failed) into
 * c->res.test_body. Amounts in Stripe's unit of the currency. */
static pw_status
test_event_build(srv_call *c, const Paywire__Store__V1__Session *s, bool fail, int64_t now_ms)
{
	char cur[4];
	char evt[PW_ID_BYTES(9)];
	int64_t amount;
	int n;

	for (size_t i = 0; i < 4; i++) {
		cur[i] = (char) (s->currency[i] >= 'A' && s->currency[i] <= 'Z' ? s->currency[i] + 32
		                                                                 : s->currency[i]);
	}
	if (pw_amount_rescale(s->amount_minor, pw_currency_exponent(s->currency),
	        pw_stripe_exponent(s->currency), &amount) != PW_OK) {
		srv_call_why(c, "the amount has no value in Stripe's unit of %s", s->currency);
		return PW_FAILED_PRECONDITION;
	}
	/* A payment is one event (a second click is its duplicate); each decline
	 * is an attempt of its own. */
	pw_id_new(evt, sizeof(evt), "evt_test_", now_ms);
	if (fail) {
		n = snprintf(c->res.test_body, sizeof(c->res.test_body),
		    "{\"id\":\"%s\",\"object\":\"event\",\"api_version\":\"2026-10-28.endive\","
		    "\"created\":%lld,\"livemode\":false,\"type\":\"payment_intent.payment_failed\","
		    "\"data\":{\"object\":{\"id\":\"pi_test_%s\",\"object\":\"payment_intent\","
		    "\"amount\":%lld,\"amount_received\":0,\"currency\":\"%s\",\"livemode\":false,"
		    "\"status\":\"requires_payment_method\",\"last_payment_error\":{\"code\":"
		    "\"card_declined\",\"decline_code\":\"generic_decline\",\"message\":\"Your card "
		    "was declined (paywire test mode).\"},\"metadata\":{\"session_id\":\"%s\"}}}}",
		    evt, (long long) (now_ms / 1000), s->id, (long long) amount, cur, s->id);
	} else {
		n = snprintf(c->res.test_body, sizeof(c->res.test_body),
		    "{\"id\":\"evt_test_paid_%s\",\"object\":\"event\",\"api_version\":"
		    "\"2026-10-28.endive\",\"created\":%lld,\"livemode\":false,\"type\":"
		    "\"checkout.session.completed\",\"data\":{\"object\":{\"id\":\"cs_test_%s\","
		    "\"object\":\"checkout.session\",\"amount_subtotal\":%lld,\"amount_total\":%lld,"
		    "\"client_reference_id\":\"%s\",\"currency\":\"%s\",\"livemode\":false,"
		    "\"metadata\":{\"session_id\":\"%s\"},\"mode\":\"payment\",\"payment_intent\":"
		    "\"pi_test_%s\",\"payment_status\":\"paid\",\"status\":\"complete\"}}}",
		    s->id, (long long) (now_ms / 1000), s->id, (long long) amount, (long long) amount,
		    s->id, cur, s->id, s->id);
	}
	PW_ASSERT(n > 0 && (size_t) n < sizeof(c->res.test_body)); /* ids are at most 63 bytes */
	return PW_OK;
}

/* Checks the secret and the session, builds the event, signs it with the
 * Stripe secret, then verifies and parses it exactly as a delivery. */
static pw_status
test_payment_validate(srv_call *c)
{
	const Paywire__V1__TestPaymentRequest *r = c->req->test_payment;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	srv_header h[2];
	int64_t now_ms = pw_now_unix_ms();
	pw_status rv;

	rv = srv_validate_test_payment(r, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return rv;
	}
	rv = store_session_get(c->env->st, r->session_id, &rec);
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "session %s not found", r->session_id);
		return rv;
	}
	if (rv == PW_OK && !store_checkout_secret_ok(c->env->st, r->session_id, r->checkout_secret)) {
		srv_call_why(c, "checkout_secret is not the secret of session %s", r->session_id);
		rv = PW_UNAUTHENTICATED;
	} else if (rv == PW_OK && (rec->session == NULL ||
	               rec->session->mode != PAYWIRE__STORE__V1__MODE__MODE_TEST)) {
		srv_call_why(c, "session %s is a live session: test payments are for test mode only, "
		                "a live session is paid at its provider", r->session_id);
		rv = PW_FAILED_PRECONDITION;
	} else if (rv == PW_OK && !srv_webhook_config_has_secret(c->env->webhooks,
	                              PW_PROVIDER_STRIPE)) {
		srv_call_why(c, "test payments are signed with the Stripe webhook secret: set "
		                "PAYWIRE_STRIPE_WEBHOOK_SECRET");
		rv = PW_UNAVAILABLE;
	}
	if (rv == PW_OK) {
		rv = test_event_build(c, rec->session, r->fail, now_ms);
	}
	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	if (rv == PW_OK) {
		rv = srv_webhook_sign_stripe(c->env->webhooks, (const uint8_t *) c->res.test_body,
		    strlen(c->res.test_body), now_ms / 1000, c->res.test_sig, sizeof(c->res.test_sig));
	}
	if (rv != PW_OK) {
		return rv;
	}
	h[0] = (srv_header) { .name = "stripe-signature", .value = c->res.test_sig };
	h[1] = (srv_header) { .name = "content-type", .value = "application/json" };
	rv = srv_webhook_verify(c->env->webhooks, PW_PROVIDER_STRIPE, h, 2,
	    (const uint8_t *) c->res.test_body, strlen(c->res.test_body), now_ms / 1000, c->why,
	    sizeof(c->why));
	if (rv == PW_OK) {
		rv = srv_webhook_parse(c->env->webhooks, PW_PROVIDER_STRIPE, h, 2,
		    (const uint8_t *) c->res.test_body, strlen(c->res.test_body), &c->ev, c->why,
		    sizeof(c->why));
	}
	if (rv != PW_OK) { /* our own event: a bug, said as such */
		char inner[SRV_WHY_BYTES];
		(void) pw_strlcpy(inner, c->why, sizeof(inner));
		srv_call_why(c, "the test event paywire built was refused: %s", inner);
		rv = PW_INTERNAL;
	}
	return rv;
}

/* ---- ingest_webhook: the provider's signature is the credential ---- */

/* Verifies then parses on this thread (no store access, no waiting); only
 * a verified, well-formed event reaches the writer. */
static pw_status
ingest_webhook_validate(srv_call *c)
{
	const Paywire__V1__IngestWebhookRequest *r = c->req->ingest_webhook;
	srv_header h[PW_WEBHOOK_HEADERS_MAX];
	pw_provider p;
	pw_status rv;

	rv = srv_validate_ingest_webhook(r, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return rv;
	}
	PW_ASSERT(r->n_headers <= PW_WEBHOOK_HEADERS_MAX);
	for (size_t i = 0; i < r->n_headers; i++) {
		h[i].name = r->headers[i]->key;
		h[i].value = r->headers[i]->value;
	}
	p = (pw_provider) r->provider;
	rv = srv_webhook_verify(c->env->webhooks, p, h, r->n_headers, r->body.data, r->body.len,
	    pw_now_unix_ms() / 1000, c->why, sizeof(c->why));
	if (rv != PW_OK) {
		return rv;
	}
	rv = srv_webhook_parse(c->env->webhooks, p, h, r->n_headers, r->body.data, r->body.len,
	    &c->ev, c->why, sizeof(c->why));
	if (rv == PW_INVALID_ARGUMENT) {
		/* Verified, so it is the provider's; not understood, so it is kept
		 * for an operator (the apply writes it to the quarantine) instead
		 * of being refused for good. */
		(void) pw_strlcpy(c->q_reason, c->why[0] != '\0' ? c->why : "unparseable body",
		    sizeof(c->q_reason));
		memset(&c->ev, 0, sizeof(c->ev));
		c->ev.provider = p;
		c->ev.live = -1;
		c->wh_quarantine = true;
		c->why[0] = '\0';
		rv = PW_OK;
	}
	PW_ASSERT(rv != PW_OK || c->ev.provider == p); /* SRV_SCOPE_PROVIDER reads it */
	return rv;
}

/* The verified delivery in c's request into the quarantine, with its reason. */
static pw_status
ingest_webhook_quarantine(store_txn *t, srv_call *c)
{
	const Paywire__V1__IngestWebhookRequest *r = c->req->ingest_webhook;
	Paywire__Store__V1__QuarantinedEventRecord q = PAYWIRE__STORE__V1__QUARANTINED_EVENT_RECORD__INIT;
	Paywire__Store__V1__QuarantineHeader hv[PW_WEBHOOK_HEADERS_MAX];
	Paywire__Store__V1__QuarantineHeader *hp[PW_WEBHOOK_HEADERS_MAX];
	store_webhook_result *out = &c->res.webhook;
	uint64_t id = 0;
	pw_status rv;
	int n;

	PW_ASSERT(r->n_headers <= PW_WEBHOOK_HEADERS_MAX);
	for (size_t i = 0; i < r->n_headers; i++) {
		paywire__store__v1__quarantine_header__init(&hv[i]);
		hv[i].name = r->headers[i]->key;
		hv[i].value = r->headers[i]->value;
		hp[i] = &hv[i];
	}
	q.provider = (Paywire__Store__V1__Provider) c->ev.provider;
	q.body.data = r->body.data;
	q.body.len = r->body.len;
	q.n_headers = r->n_headers;
	q.headers = r->n_headers > 0 ? hp : NULL;
	q.reason = c->q_reason;
	rv = store_quarantine_put(t, &q, &id);
	if (rv == PW_UNAVAILABLE) {
		srv_call_why(c, "the event could not be processed (%s) and the quarantine is full "
		                "(%d events): nothing was recorded, the provider will retry",
		    c->q_reason, PW_QUARANTINE_EVENTS_MAX);
		return rv;
	}
	if (rv != PW_OK) {
		return rv;
	}
	memset(out, 0, sizeof(*out));
	out->outcome = PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_QUARANTINED;
	n = snprintf(out->reason, sizeof(out->reason), "quarantined as %llu: %s",
	    (unsigned long long) id, c->q_reason); /* cut: a note for operators */
	PW_ASSERT(n > 0);
	pw_log(PW_LOG_WARN, "webhook: a verified %s event was quarantined as %llu: %s",
	    pw_provider_name(c->ev.provider), (unsigned long long) id, c->q_reason);
	c->wh_tally = SRV_WH_QUARANTINED;
	c->res.event = &c->ev;
	return PW_OK;
}

static srv_wh_tally
srv_wh_tally_of(const store_webhook_result *r)
{
	if (r->anomaly) {
		return SRV_WH_ANOMALY; /* money that needs a human, even when the event applied */
	}
	switch (r->outcome) {
	case PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED: return SRV_WH_APPLIED;
	case PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_DUPLICATE: return SRV_WH_DUPLICATE;
	case PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED: return SRV_WH_IGNORED;
	case PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_QUARANTINED: return SRV_WH_QUARANTINED;
	case PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_UNSPECIFIED:
	case _PAYWIRE__STORE__V1__WEBHOOK_OUTCOME_IS_INT_SIZE: break;
	}
	return SRV_WH_NONE;
}

static pw_status
ingest_webhook_apply(store_txn *t, srv_call *c)
{
	pw_status rv;

	if (c->wh_quarantine) {
		return ingest_webhook_quarantine(t, c);
	}
	rv = store_webhook_apply(t, &c->ev, &c->res.webhook);
	c->wh_tally = rv == PW_OK ? srv_wh_tally_of(&c->res.webhook) : SRV_WH_NONE;
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "the event refers to a session paywire does not know; nothing was "
		                "recorded (the provider will retry)");
	}
	c->res.event = &c->ev;
	return rv;
}

/* A delivery of an event already recorded (a provider's retry): DUPLICATE,
 * from a read transaction, with no write and without waiting for the writer. */
static pw_status
ingest_webhook_peek(srv_call *c)
{
	pw_status rv;

	if (c->wh_quarantine) {
		return PW_NOT_FOUND; /* no event id to look up: the writer keeps it */
	}
	rv = store_webhook_peek(c->env->st, &c->ev, &c->res.webhook);
	if (rv == PW_OK) {
		c->wh_tally = SRV_WH_DUPLICATE;
		c->res.event = &c->ev;
	}
	return rv;
}

/* ---- revoke_api_key: admin ---- */

static pw_status
revoke_api_key_apply(store_txn *t, srv_call *c)
{
	char reason[256];
	pw_status rv;

	rv = store_apikey_revoke(t, c->req->revoke_api_key->api_key, c->res.merchant_id,
	    sizeof(c->res.merchant_id), reason, sizeof(reason));
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no such API key");
	} else if (rv == PW_FAILED_PRECONDITION) {
		srv_call_why(c, "%s", reason);
	}
	return rv;
}

/* ---- API keys: a merchant key manages its merchant's keys ---- */

/* A merchant's new key: at most the calling key's mode (a test key cannot
 * mint a live one); UNSPECIFIED means the calling key's. */
static pw_status
create_api_key_validate(srv_call *c)
{
	const Paywire__V1__CreateApiKeyRequest *r = c->req->create_api_key;
	pw_status rv = srv_validate_create_api_key(r, c->why, sizeof(c->why));

	if (rv == PW_OK && r->mode == PAYWIRE__V1__MODE__MODE_LIVE &&
	    c->key_mode != PAYWIRE__V1__MODE__MODE_LIVE) {
		srv_call_why(c, "a test API key cannot create a live key");
		rv = PW_PERMISSION_DENIED;
	}
	return rv;
}

static pw_status
create_api_key_apply(store_txn *t, srv_call *c)
{
	Paywire__V1__Mode mode = c->req->create_api_key->mode;
	char reason[256];
	pw_status rv;

	if (mode == PAYWIRE__V1__MODE__MODE_UNSPECIFIED) {
		mode = c->key_mode;
	}
	c->res.now_ms = store_txn_now_ms(t);
	if (c->res.key != NULL) { /* a re-run after a conflict */
		paywire__store__v1__api_key_record__free_unpacked(c->res.key, NULL);
		c->res.key = NULL;
	}
	rv = store_apikey_create(t, c->merchant_id, srv_map_mode_to_store(mode), &c->res.key,
	    c->res.api_key, sizeof(c->res.api_key), reason, sizeof(reason));
	if (rv == PW_FAILED_PRECONDITION || rv == PW_INVALID_ARGUMENT) {
		srv_call_why(c, "%s", reason);
	}
	return rv;
}

static pw_status
roll_api_key_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__RollApiKeyRequest *r = c->req->roll_api_key;
	int64_t grace = r->expire_now ? 0 : r->grace_s > 0 ? (int64_t) r->grace_s
	                                                   : PW_APIKEY_GRACE_DEFAULT_S;
	char reason[256];
	pw_status rv;

	c->res.now_ms = store_txn_now_ms(t);
	if (c->res.key != NULL) { /* a re-run after a conflict */
		paywire__store__v1__api_key_record__free_unpacked(c->res.key, NULL);
		c->res.key = NULL;
	}
	if (c->res.rolled != NULL) {
		paywire__store__v1__api_key_record__free_unpacked(c->res.rolled, NULL);
		c->res.rolled = NULL;
	}
	rv = store_apikey_roll(t, c->merchant_id, r->key_id, c->req->api_key, grace, &c->res.key,
	    &c->res.rolled, c->res.api_key, sizeof(c->res.api_key), reason, sizeof(reason));
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no API key %s for this merchant", r->key_id);
	} else if (rv == PW_FAILED_PRECONDITION || rv == PW_INVALID_ARGUMENT) {
		srv_call_why(c, "%s", reason);
	}
	return rv;
}

/* ---- a merchant's own sessions and invoices: reads ---- */

static pw_status
get_session_read(srv_call *c)
{
	const char *id = c->req->get_session->session_id;
	pw_status rv = store_session_get_for(c->env->st, c->merchant_id, id, &c->res.session);

	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no session %s for this merchant", id);
	}
	rv = session_record_check(c, rv, "session record without a session, or with one the wire "
	                                 "cannot carry (corrupt record)");
	if (rv == PW_OK) {
		checkout_secret_fill(c);
	}
	return rv;
}

static pw_status
list_sessions_read(srv_call *c)
{
	const Paywire__V1__ListSessionsRequest *r = c->req->list_sessions;
	store_session_filter f = {
		.status = srv_map_session_status_to_store(r->status),
		.created_from_ms = r->created_from_unix_ms,
		.created_to_ms = r->created_to_unix_ms,
		.starting_after = r->starting_after,
		.limit = r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT,
	};
	pw_status rv;

	rv = store_sessions_list(c->env->st, c->merchant_id, &f, &c->res.sessions,
	    &c->res.n_sessions, &c->res.has_more, c->res.next, sizeof(c->res.next));
	if (rv == PW_INVALID_ARGUMENT) {
		srv_call_why(c, "list_sessions.starting_after is not a session of this merchant");
		return rv;
	}
	for (size_t i = 0; rv == PW_OK && i < c->res.n_sessions; i++) {
		if (c->res.sessions[i]->session == NULL ||
		    !srv_map_session_fits(c->res.sessions[i]->session)) {
			srv_call_why(c, "a session record the wire cannot carry (corrupt record)");
			rv = PW_INTERNAL;
		}
	}
	if (rv == PW_OK && c->res.n_sessions > 0) {
		c->res.session_bufs = calloc(c->res.n_sessions, sizeof(*c->res.session_bufs));
		if (c->res.session_bufs == NULL) {
			rv = PW_RESOURCE_EXHAUSTED;
		}
	}
	return rv;
}

static pw_status
get_invoice_read(srv_call *c)
{
	uint64_t n = c->req->get_invoice->number;
	pw_status rv = store_invoice_get(c->env->st, c->merchant_id, n, &c->res.invoice);

	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no invoice %llu for this merchant", (unsigned long long) n);
	}
	return rv;
}

static pw_status
list_invoices_read(srv_call *c)
{
	const Paywire__V1__ListInvoicesRequest *r = c->req->list_invoices;

	return store_invoices_list(c->env->st, c->merchant_id, r->starting_after,
	    r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT, &c->res.invoices, &c->res.n_invoices,
	    &c->res.has_more);
}

/* ---- list_events: a merchant key; its own events (the change feed) ---- */

static pw_status
list_events_read(srv_call *c)
{
	const Paywire__V1__ListEventsRequest *r = c->req->list_events;

	return store_events_list(c->env->st, c->merchant_id, r->after_seq,
	    r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT, &c->res.events, &c->res.n_events,
	    &c->res.has_more, &c->res.next_after);
}

/* ---- get_entitlements: a merchant key; its own customer's entitlements ---- */

static pw_status
get_entitlements_read(srv_call *c)
{
	const Paywire__V1__GetEntitlementsRequest *r = c->req->get_entitlements;

	return store_entitlements_list(c->env->st, c->merchant_id, r->customer_ref,
	    r->starting_after, r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT,
	    &c->res.entitlements, &c->res.n_entitlements, &c->res.has_more);
}

/* ---- list_anomalies: a merchant key; its own money that needs a human ---- */

static pw_status
list_anomalies_read(srv_call *c)
{
	const Paywire__V1__ListAnomaliesRequest *r = c->req->list_anomalies;

	return store_anomalies_list(c->env->st, c->merchant_id, r->after_seq,
	    r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT, &c->res.anomalies,
	    &c->res.n_anomalies, &c->res.has_more);
}

/* ---- the quarantine: admin ---- */

static pw_status
list_quarantined_events_read(srv_call *c)
{
	const Paywire__V1__ListQuarantinedEventsRequest *r = c->req->list_quarantined_events;

	return store_quarantine_list(c->env->st, r->after_id,
	    r->limit > 0 ? r->limit : PW_LIST_LIMIT_DEFAULT, &c->res.quarantine,
	    &c->res.n_quarantine, &c->res.has_more);
}

static pw_status
quarantine_not_found(srv_call *c, pw_status rv, uint64_t id)
{
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no quarantined event %llu (retried already?)", (unsigned long long) id);
	}
	return rv;
}

static pw_status
get_quarantined_event_read(srv_call *c)
{
	uint64_t id = c->req->get_quarantined_event->id;
	Paywire__Store__V1__QuarantinedEventRecord *q = NULL;
	pw_status rv;

	rv = store_quarantine_get(c->env->st, id, &q);
	if (rv == PW_OK) {
		c->res.quarantine = pw_calloc(1, sizeof(*c->res.quarantine));
		if (c->res.quarantine == NULL) {
			paywire__store__v1__quarantined_event_record__free_unpacked(q, NULL);
			return PW_RESOURCE_EXHAUSTED;
		}
		c->res.quarantine[0] = q;
		c->res.n_quarantine = 1;
	}
	return quarantine_not_found(c, rv, id);
}

/* Verifies (with the secrets configured now, at the time it was received:
 * the signature's timestamp is judged against that, not against today) and
 * parses the kept event, as ingest_webhook_validate does for a delivery. On
 * the caller's thread: a read. Sets c->q_parsed and c->ev, or c->q_reason. */
static pw_status
retry_quarantined_event_validate(srv_call *c)
{
	uint64_t id = c->req->retry_quarantined_event->id;
	Paywire__Store__V1__QuarantinedEventRecord *q = NULL;
	srv_header h[PW_WEBHOOK_HEADERS_MAX];
	pw_provider p;
	char why[SRV_WHY_BYTES];
	pw_status rv;

	if (id == 0) {
		srv_call_why(c, "retry_quarantined_event.id is required (ids start at 1)");
		return PW_INVALID_ARGUMENT;
	}
	rv = store_quarantine_get(c->env->st, id, &q);
	if (rv != PW_OK) {
		return quarantine_not_found(c, rv, id);
	}
	p = (pw_provider) q->provider;
	if (q->n_headers > PW_WEBHOOK_HEADERS_MAX || !pw_provider_known(p)) {
		paywire__store__v1__quarantined_event_record__free_unpacked(q, NULL);
		return PW_INTERNAL; /* put refused both */
	}
	for (size_t i = 0; i < q->n_headers; i++) {
		h[i].name = q->headers[i]->name;
		h[i].value = q->headers[i]->value;
	}
	why[0] = '\0';
	rv = srv_webhook_verify(c->env->webhooks, p, h, q->n_headers, q->body.data, q->body.len,
	    q->received_at_unix_ms / 1000, why, sizeof(why));
	if (rv == PW_OK) {
		rv = srv_webhook_parse(c->env->webhooks, p, h, q->n_headers, q->body.data, q->body.len,
		    &c->ev, why, sizeof(why));
	} else {
		int n = snprintf(c->q_reason, sizeof(c->q_reason), "signature no longer verifies: %s",
		    why[0] != '\0' ? why : pw_status_message(rv));
		PW_ASSERT(n > 0);
	}
	paywire__store__v1__quarantined_event_record__free_unpacked(q, NULL);
	if (rv == PW_OK) {
		c->q_parsed = true;
	} else if (c->q_reason[0] == '\0') {
		(void) pw_strlcpy(c->q_reason, why[0] != '\0' ? why : pw_status_message(rv),
		    sizeof(c->q_reason));
	}
	return PW_OK; /* a failure is the call's answer, written by the apply */
}

/* Applies the parsed event as a live delivery would and removes the entry,
 * or keeps it with the new reason. */
static pw_status
retry_quarantined_event_apply(store_txn *t, srv_call *c)
{
	uint64_t id = c->req->retry_quarantined_event->id;
	Paywire__Store__V1__QuarantinedEventRecord *q = NULL;
	pw_status rv;

	/* Still there (another retry may have applied it since the read). */
	rv = store_quarantine_get_in(t, id, &q);
	if (rv != PW_OK) {
		return quarantine_not_found(c, rv, id);
	}
	paywire__store__v1__quarantined_event_record__free_unpacked(q, NULL);
	if (c->q_parsed) {
		rv = store_webhook_apply(t, &c->ev, &c->res.webhook);
		if (rv == PW_OK) {
			c->res.q_retried = true;
			c->res.event = &c->ev;
			return store_quarantine_remove(t, id);
		}
		if (rv != PW_NOT_FOUND) {
			return rv; /* rolled back; the entry stays as it was */
		}
		/* nothing written: the session it names is unknown */
		(void) snprintf(c->q_reason, sizeof(c->q_reason),
		    "the event refers to a session paywire does not know (%s)", c->ev.session_ref);
	}
	(void) pw_strlcpy(c->res.q_reason, c->q_reason, sizeof(c->res.q_reason));
	return store_quarantine_note(t, id, c->q_reason);
}

/* ---- verify_access_key: a merchant key; its own customers' keys ---- */

static pw_status
verify_access_key_read(srv_call *c)
{
	return store_access_key_verify(c->env->st, c->merchant_id,
	    c->req->verify_access_key->access_key, &c->res.access);
}

static pw_status
list_api_keys_read(srv_call *c)
{
	c->res.now_ms = pw_now_unix_ms();
	return store_apikey_list(c->env->st, c->merchant_id, &c->res.keys, &c->res.n_keys);
}

/* ---- verify_audit: admin; a read (no input beyond the key) ---- */

/* A read transaction that walks the chain: it never waits for the writer. */
static pw_status
verify_audit_read(srv_call *c)
{
	return store_audit_verify(c->env->st, &c->res.audit);
}

/* ---- redeem_access: the access-link JWT is the credential (the store
 * checks it); the raw access key is revealed once ---- */

static pw_status
redeem_access_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__RedeemAccessRequest *r = c->req->redeem_access;
	pw_status rv;

	rv = store_access_redeem(t, r->session_id, r->token, !r->view_only, &c->res.redeem);
	if (rv == PW_UNAUTHENTICATED) {
		srv_call_why(c, "invalid or expired access token");
	} else if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "session %s not found", r->session_id);
	}
	PW_ASSERT(rv != PW_OK || c->res.redeem.session_id[0] != '\0');
	return rv;
}

/* ---- reissue_access_key: a merchant key; its own sessions ---- */

static pw_status
reissue_access_key_apply(store_txn *t, srv_call *c)
{
	char why[256];
	pw_status rv;

	if (c->res.session != NULL) { /* a re-run after a conflict */
		paywire__store__v1__session_record__free_unpacked(c->res.session, NULL);
		c->res.session = NULL;
	}
	rv = store_access_reissue(t, c->merchant_id, c->req->reissue_access_key->session_id,
	    &c->res.session, c->res.key_prefix, sizeof(c->res.key_prefix), why, sizeof(why));
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no session %s for this merchant", c->req->reissue_access_key->session_id);
	} else if (rv == PW_FAILED_PRECONDITION) {
		srv_call_why(c, "%s", why);
	}
	return rv;
}

/* ---- create_portal_session: a merchant key; Stripe's customer portal ----
 * The first write finds the session's Stripe customer and writes nothing
 * (its reply, url "", is not kept); the provider worker makes the portal
 * session with the merchant's credentials for the session's mode; the
 * second write audits it (portal.created) and keeps the reply, sealed (the
 * url is a capability). */

static pw_status
create_portal_session_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__CreatePortalSessionRequest *r = c->req->create_portal_session;
	char why[256];
	pw_status rv;

	rv = store_session_stripe_customer(t, c->merchant_id, r->session_id, c->res.portal_customer,
	    sizeof(c->res.portal_customer), &c->res.portal_mode, why, sizeof(why));
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no session %s for this merchant", r->session_id);
	} else if (rv == PW_FAILED_PRECONDITION) {
		srv_call_why(c, "%s", why);
	}
	if (rv == PW_OK) {
		(void) pw_strlcpy(c->res.portal_session_id, r->session_id,
		    sizeof(c->res.portal_session_id));
	}
	return rv;
}

static bool
create_portal_session_continues(srv_call *c)
{
	Paywire__V1__Response *r = cont_unpack(c, PAYWIRE__V1__RESPONSE__RESULT_CREATE_PORTAL_SESSION);

	return cont_keep(c, r, r != NULL && r->create_portal_session != NULL &&
	        r->create_portal_session->url[0] == '\0');
}

static pw_status
create_portal_session_provider(srv_call *c, const srv_provider_ctx *px)
{
	const Paywire__V1__CreatePortalSessionResponse *p = c->cont->create_portal_session;
	store_provider_creds cr;
	pw_status rv;

	rv = cont_creds(c, PW_PROVIDER_STRIPE, p->mode, "", &cr);
	if (rv != PW_OK) {
		return rv;
	}
	rv = prov_stripe_portal_create(px->http, px->stripe_api, cr.secret, p->customer,
	    c->req->create_portal_session->return_url, px->deadline_mono_ms, c->prov_url,
	    sizeof(c->prov_url), c->why, sizeof(c->why));
	sodium_memzero(&cr, sizeof(cr));
	return rv;
}

static pw_status
create_portal_session_record(store_txn *t, srv_call *c)
{
	const Paywire__V1__CreatePortalSessionResponse *p = c->cont->create_portal_session;
	pw_status rv;

	rv = store_portal_audit(t, c->merchant_id, p->session_id, p->customer);
	if (rv == PW_OK) {
		(void) pw_strlcpy(c->res.portal_customer, p->customer, sizeof(c->res.portal_customer));
		(void) pw_strlcpy(c->res.portal_session_id, p->session_id,
		    sizeof(c->res.portal_session_id));
		(void) pw_strlcpy(c->res.portal_url, c->prov_url, sizeof(c->res.portal_url));
		c->res.portal_mode = p->mode == PAYWIRE__V1__MODE__MODE_LIVE
		    ? PAYWIRE__STORE__V1__MODE__MODE_LIVE : PAYWIRE__STORE__V1__MODE__MODE_TEST;
	}
	return rv;
}

/* ---- refund_payment: a merchant key; a refund made at the provider ----
 * First write: the request recorded (REQUESTED, its amount reserved) and
 * its reply kept. Provider worker: the refund at Stripe / Razorpay,
 * idempotent by the refund's id. Second write: PENDING with the provider's
 * refund id (the reply kept again), or, when the provider refused, FAILED
 * (record_failure) and the call answers the provider's reason. */

static pw_status
refund_payment_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__RefundPaymentRequest *r = c->req->refund_payment;
	store_refund_params p = { .session_id = r->session_id, .amount_minor = r->amount_minor,
		.idempotency_key = r->idempotency_key, .reason = r->reason };
	char why[256];
	pw_status rv;

	if (c->res.refund != NULL) { /* a re-run after a conflict */
		paywire__store__v1__refund_record__free_unpacked(c->res.refund, NULL);
		c->res.refund = NULL;
	}
	rv = store_refund_request(t, c->merchant_id, &p, c->hash, &c->res.refund, why, sizeof(why));
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no session %s for this merchant", r->session_id);
	} else if (rv == PW_FAILED_PRECONDITION) {
		srv_call_why(c, "%s", why);
	} else if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "idempotency_key was already used with different parameters");
	}
	return rv;
}

static bool
refund_payment_continues(srv_call *c)
{
	Paywire__V1__Response *r = cont_unpack(c, PAYWIRE__V1__RESPONSE__RESULT_REFUND_PAYMENT);
	const Paywire__V1__Refund *f = r != NULL && r->refund_payment != NULL
	    ? r->refund_payment->refund : NULL;

	return cont_keep(c, r, f != NULL && f->state == PAYWIRE__V1__REFUND_STATE__REFUND_STATE_REQUESTED);
}

static pw_status
refund_payment_provider(srv_call *c, const srv_provider_ctx *px)
{
	const Paywire__V1__Refund *f = c->cont->refund_payment->refund;
	store_provider_creds cr;
	prov_refund_in in = { .refund_id = f->id, .session_id = f->session_id,
		.payment_ref = f->payment_ref, .amount_minor = f->amount_minor,
		.currency = f->currency, .reason = f->reason };
	pw_provider p = (pw_provider) f->provider;
	pw_status rv;

	rv = cont_creds(c, p, f->mode, "the refund, requested,", &cr);
	if (rv != PW_OK) {
		return rv;
	}
	/* the provider's own refusal (a final 4xx it answered) is recorded */
	if (p == PW_PROVIDER_STRIPE) {
		rv = prov_stripe_refund_create(px->http, px->stripe_api, cr.secret, &in,
		    px->deadline_mono_ms, c->prov_id, sizeof(c->prov_id), &c->prov_refused, c->why,
		    sizeof(c->why));
	} else {
		rv = prov_razorpay_refund_create(px->http, px->razorpay_api, cr.key_id, cr.secret, &in,
		    px->deadline_mono_ms, c->prov_id, sizeof(c->prov_id), &c->prov_refused, c->why,
		    sizeof(c->why));
	}
	sodium_memzero(&cr, sizeof(cr));
	return rv;
}

static pw_status
refund_payment_record(store_txn *t, srv_call *c)
{
	const Paywire__V1__Refund *f = c->cont->refund_payment->refund;
	pw_status rv;

	rv = store_refund_provider_record(t, c->merchant_id, f->id, c->prov_id, NULL,
	    &c->res.refund);
	if (rv == PW_IDEMPOTENCY_CONFLICT) {
		srv_call_why(c, "refund %s already records another provider answer", f->id);
		return PW_INTERNAL;
	}
	return rv;
}

static pw_status
refund_payment_record_failure(store_txn *t, srv_call *c)
{
	const Paywire__V1__Refund *f = c->cont->refund_payment->refund;
	Paywire__Store__V1__RefundRecord *r = NULL;
	pw_status rv;

	rv = store_refund_provider_record(t, c->merchant_id, f->id, NULL, c->prov_why, &r);
	if (r != NULL) {
		paywire__store__v1__refund_record__free_unpacked(r, NULL);
	}
	return rv == PW_IDEMPOTENCY_CONFLICT ? PW_OK : rv; /* taken meanwhile: the answer stands */
}

/* ---- provider credentials: admin; the secret is never answered ---- */

/* The merchant must exist (a read, before the writer). */
static pw_status
creds_merchant_known(srv_call *c, const char *merchant_id)
{
	char name[PW_NAME_BYTES_MAX + 1];
	pw_status rv = store_merchant_name(c->env->st, merchant_id, name, sizeof(name));

	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no merchant %s", merchant_id);
	}
	return rv;
}

static pw_status
set_provider_credentials_validate(srv_call *c)
{
	const Paywire__V1__SetProviderCredentialsRequest *r = c->req->set_provider_credentials;
	pw_status rv = srv_validate_set_provider_credentials(r, c->why, sizeof(c->why));

	return rv != PW_OK ? rv : creds_merchant_known(c, r->merchant_id);
}

static pw_status
set_provider_credentials_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__SetProviderCredentialsRequest *r = c->req->set_provider_credentials;
	pw_provider p = (pw_provider) r->provider;
	Paywire__Store__V1__Mode mode = srv_map_mode_to_store(r->mode);
	char why[256];
	pw_status rv;

	store_provider_creds_list_free(c->res.creds, c->res.n_creds); /* a re-run */
	c->res.creds = NULL;
	c->res.n_creds = 0;
	c->res.creds = pw_calloc(1, sizeof(*c->res.creds));
	if (c->res.creds == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	c->res.creds_deleted = r->secret == NULL || r->secret[0] == '\0';
	if (c->res.creds_deleted) {
		rv = store_provider_creds_delete(t, r->merchant_id, p, mode, &c->res.creds[0]);
		if (rv == PW_NOT_FOUND) {
			srv_call_why(c, "merchant %s has no %s %s credentials", r->merchant_id,
			    pw_provider_name(p), r->mode == PAYWIRE__V1__MODE__MODE_LIVE ? "live" : "test");
		}
	} else {
		why[0] = '\0';
		rv = store_provider_creds_set(t, r->merchant_id, p, mode, r->key_id, r->secret,
		    &c->res.creds[0], why, sizeof(why));
		if (rv != PW_OK && why[0] != '\0') {
			srv_call_why(c, "%s", why);
		}
	}
	if (rv == PW_OK) {
		PW_ASSERT(c->res.creds[0] != NULL);
		c->res.n_creds = 1;
	}
	return rv;
}

static pw_status
list_provider_credentials_validate(srv_call *c)
{
	const Paywire__V1__ListProviderCredentialsRequest *r = c->req->list_provider_credentials;
	pw_status rv = srv_validate_list_provider_credentials(r, c->why, sizeof(c->why));

	return rv != PW_OK ? rv : creds_merchant_known(c, r->merchant_id);
}

static pw_status
list_provider_credentials_read(srv_call *c)
{
	return store_provider_creds_list(c->env->st, c->req->list_provider_credentials->merchant_id,
	    &c->res.creds, &c->res.n_creds);
}

/* ---- set_plan_price: a merchant key; its Stripe Price per plan ---- */

static pw_status
set_plan_price_validate(srv_call *c)
{
	const Paywire__V1__SetPlanPriceRequest *r = c->req->set_plan_price;
	size_t plen = r->plan != NULL ? strlen(r->plan) : 0;
	size_t ilen = r->stripe_price_id != NULL ? strlen(r->stripe_price_id) : 0;

	if (plen == 0 || plen > PW_PLAN_BYTES_MAX || !pw_utf8_valid(r->plan, plen)) {
		srv_call_why(c, "set_plan_price.plan must be 1..%d bytes of UTF-8", PW_PLAN_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (ilen > 0 && (ilen > PW_PROVIDER_ID_BYTES_MAX || strncmp(r->stripe_price_id, "price_", 6) != 0 ||
	                    strspn(r->stripe_price_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                               "0123456789_") != ilen)) {
		srv_call_why(c, "set_plan_price.stripe_price_id must be a Stripe Price id (price_…, "
		                "at most %d bytes) or empty (delete)", PW_PROVIDER_ID_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (r->mode != PAYWIRE__V1__MODE__MODE_UNSPECIFIED && r->mode != PAYWIRE__V1__MODE__MODE_TEST &&
	    r->mode != PAYWIRE__V1__MODE__MODE_LIVE) {
		srv_call_why(c, "set_plan_price.mode must be TEST or LIVE");
		return PW_INVALID_ARGUMENT;
	}
	if (r->mode == PAYWIRE__V1__MODE__MODE_LIVE && c->key_mode != PAYWIRE__V1__MODE__MODE_LIVE) {
		srv_call_why(c, "a test API key cannot set a live plan price");
		return PW_PERMISSION_DENIED;
	}
	return PW_OK;
}

static pw_status
set_plan_price_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__SetPlanPriceRequest *r = c->req->set_plan_price;
	Paywire__V1__Mode mode = r->mode != PAYWIRE__V1__MODE__MODE_UNSPECIFIED ? r->mode : c->key_mode;
	pw_status rv;

	rv = store_plan_price_set(t, c->merchant_id, srv_map_mode_to_store(mode), r->plan,
	    r->stripe_price_id != NULL ? r->stripe_price_id : "");
	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "plan %s has no Stripe price in this mode to delete", r->plan);
	}
	c->res.plan_mode = mode;
	(void) pw_strlcpy(c->res.plan_price_plan, r->plan, sizeof(c->res.plan_price_plan));
	(void) pw_strlcpy(c->res.plan_price_id, r->stripe_price_id != NULL ? r->stripe_price_id : "",
	    sizeof(c->res.plan_price_id));
	return rv;
}

static void
srv_reply_set_plan_price(srv_reply_msg *m, srv_result *res)
{
	SRV_REPLY_USE(m, set_plan_price);
	paywire__v1__set_plan_price_response__init(&m->u.set_plan_price);
	m->u.set_plan_price.plan = res->plan_price_plan;
	m->u.set_plan_price.mode = res->plan_mode;
	m->u.set_plan_price.stripe_price_id = res->plan_price_id;
	m->resp.result_case = PAYWIRE__V1__RESPONSE__RESULT_SET_PLAN_PRICE;
	m->resp.set_plan_price = &m->u.set_plan_price;
}

/* ---- a merchant's own rate limits: admin (srv_limit.h) ---- */

/* Request class i as the store's record: *present false for absent or
 * UNSPECIFIED (left as it is). */
static pw_status
rl_from_wire(srv_call *c, const char *name, const Paywire__V1__MerchantRateLimit *w,
    Paywire__Store__V1__MerchantRateLimitRecord *out, bool *present)
{
	char why[160];
	pw_status rv;

	paywire__store__v1__merchant_rate_limit_record__init(out);
	*present = false;
	if (w == NULL || w->kind == PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_KIND_UNSPECIFIED) {
		if (w != NULL && (w->rate != 0 || w->period_s != 0 || w->burst != 0 || w->interval_us != 0)) {
			srv_call_why(c, "set_merchant_rate_limits.limits.%s: a kind is needed with a rate",
			    name);
			return PW_INVALID_ARGUMENT;
		}
		return PW_OK;
	}
	switch (w->kind) {
	case PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_DEFAULT:
		out->kind = STORE_RATE_LIMIT_DEFAULT;
		break;
	case PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM:
		out->kind = STORE_RATE_LIMIT_CUSTOM;
		break;
	case PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED:
		out->kind = STORE_RATE_LIMIT_UNLIMITED;
		break;
	default:
		srv_call_why(c, "set_merchant_rate_limits.limits.%s.kind must be DEFAULT (1), CUSTOM (2) "
		    "or UNLIMITED (3), got %d", name, (int) w->kind);
		return PW_INVALID_ARGUMENT;
	}
	if (w->interval_us != 0) {
		srv_call_why(c, "set_merchant_rate_limits.limits.%s.interval_us is the server's to "
		    "answer: leave it 0", name);
		return PW_INVALID_ARGUMENT;
	}
	out->rate = w->rate;
	out->period_s = w->period_s;
	out->burst = w->burst;
	rv = store_rate_limit_check(out, why, sizeof(why));
	if (rv != PW_OK) {
		srv_call_why(c, "set_merchant_rate_limits.limits.%s: %s", name, why);
		return rv;
	}
	*present = true;
	return PW_OK;
}

static const char *const rl_class_names[3] = { "reads", "writes", "provider" };

static pw_status
rl_request(srv_call *c, Paywire__Store__V1__MerchantRateLimitRecord recs[3], bool present[3])
{
	const Paywire__V1__SetMerchantRateLimitsRequest *r = c->req->set_merchant_rate_limits;
	const Paywire__V1__MerchantRateLimits *l = r->limits;
	const Paywire__V1__MerchantRateLimit *w[3] = { l != NULL ? l->reads : NULL,
		l != NULL ? l->writes : NULL, l != NULL ? l->provider : NULL };
	pw_status rv;

	for (int i = 0; i < 3; i++) {
		rv = rl_from_wire(c, rl_class_names[i], w[i], &recs[i], &present[i]);
		if (rv != PW_OK) {
			return rv;
		}
	}
	return PW_OK;
}

static void
rl_defaults(srv_call *c)
{
	for (int i = 0; i < 3; i++) {
		srv_limit_rate d = { 0 };

		if (c->env->limiter != NULL) {
			d = srv_limiter_default(c->env->limiter, (srv_limit_class) i);
		}
		c->res.rl_def_interval_us[i] = d.interval_us;
		c->res.rl_def_burst[i] = d.burst;
	}
}

static pw_status
set_merchant_rate_limits_validate(srv_call *c)
{
	const Paywire__V1__SetMerchantRateLimitsRequest *r = c->req->set_merchant_rate_limits;
	Paywire__Store__V1__MerchantRateLimitRecord recs[3];
	bool present[3];
	pw_status rv = srv_validate_merchant_id("set_merchant_rate_limits.merchant_id",
	    r->merchant_id, c->why, sizeof(c->why));

	if (rv != PW_OK) {
		return rv;
	}
	rv = rl_request(c, recs, present);
	if (rv != PW_OK) {
		return rv;
	}
	if (!present[0] && !present[1] && !present[2]) {
		srv_call_why(c, "set_merchant_rate_limits.limits names no class to set (reads, writes, "
		    "provider)");
		return PW_INVALID_ARGUMENT;
	}
	return creds_merchant_known(c, r->merchant_id);
}

static pw_status
set_merchant_rate_limits_apply(store_txn *t, srv_call *c)
{
	const Paywire__V1__SetMerchantRateLimitsRequest *r = c->req->set_merchant_rate_limits;
	Paywire__Store__V1__MerchantRateLimitRecord recs[3];
	const Paywire__Store__V1__MerchantRateLimitRecord *set[3];
	bool present[3];
	char why[256];
	pw_status rv = rl_request(c, recs, present);

	if (rv != PW_OK) {
		return rv;
	}
	for (int i = 0; i < 3; i++) {
		set[i] = present[i] ? &recs[i] : NULL;
	}
	if (c->res.merchant != NULL) { /* a re-run */
		paywire__store__v1__merchant_record__free_unpacked(c->res.merchant, NULL);
		c->res.merchant = NULL;
	}
	why[0] = '\0';
	rv = store_merchant_rate_limits_set(t, r->merchant_id, set, &c->res.merchant, why,
	    sizeof(why));
	if (rv != PW_OK && why[0] != '\0') {
		srv_call_why(c, "%s", why);
	}
	rl_defaults(c);
	return rv;
}

/* After the commit: the limiter applies the classes the request set, to the
 * merchant's next request. */
static void
set_merchant_rate_limits_committed(srv_call *c)
{
	const Paywire__V1__SetMerchantRateLimitsRequest *r = c->req->set_merchant_rate_limits;
	Paywire__Store__V1__MerchantRateLimitRecord recs[3];
	bool present[3];

	if (c->env->limiter == NULL || rl_request(c, recs, present) != PW_OK) {
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (present[i]) {
			srv_limit_apply_record(c->env->limiter, r->merchant_id, (srv_limit_class) i,
			    recs[i].kind == STORE_RATE_LIMIT_DEFAULT ? NULL : &recs[i]);
		}
	}
}

static pw_status
get_merchant_rate_limits_validate(srv_call *c)
{
	return srv_validate_merchant_id("get_merchant_rate_limits.merchant_id",
	    c->req->get_merchant_rate_limits->merchant_id, c->why, sizeof(c->why));
}

static pw_status
get_merchant_rate_limits_read(srv_call *c)
{
	const char *id = c->req->get_merchant_rate_limits->merchant_id;
	pw_status rv = store_merchant_record_get(c->env->st, id, &c->res.merchant);

	if (rv == PW_NOT_FOUND) {
		srv_call_why(c, "no merchant %s", id);
	}
	rl_defaults(c);
	return rv;
}

/* ---- the table ---- */

/* One row per Request `call` member, indexed by its field number (so the
 * rows may stand in any order: here by who may call, merchant, admin, then
 * anyone holding a capability). A row names only what it has: a read has no
 * scope, apply, sealed or redact. */
static const srv_call_ops srv_calls[] = {
	/* A merchant's key; its replies are stored under the merchant id, sealed:
	 * they hold the customer's checkout secret (a capability). */
	[PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION] = { .name = "create_session",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = create_session_validate, .apply = create_session_apply,
	    .reply = srv_reply_create_session, .failed = "creating the session failed",
	    .continues = create_session_continues, .provider = create_session_provider,
	    .record = create_session_record, .wants_provider = create_session_wants_provider },
	/* A merchant's key; only its own sessions (another's answers NOT_FOUND). */
	[PAYWIRE__V1__REQUEST__CALL_CANCEL_SESSION] = { .name = "cancel_session",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = cancel_session_validate, .apply = cancel_session_apply,
	    .reply = srv_reply_cancel_session, .failed = "canceling the session failed" },
	/* A merchant's key manages its merchant's keys. The replies of create
	 * and roll hold a raw key: stored sealed. */
	[PAYWIRE__V1__REQUEST__CALL_CREATE_API_KEY] = { .name = "create_api_key",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = create_api_key_validate, .apply = create_api_key_apply,
	    .reply = srv_reply_create_api_key, .failed = "creating the API key failed" },
	[PAYWIRE__V1__REQUEST__CALL_ROLL_API_KEY] = { .name = "roll_api_key",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = roll_api_key_validate, .apply = roll_api_key_apply,
	    .reply = srv_reply_roll_api_key, .failed = "rolling the API key failed" },
	/* A merchant's key: its own sessions and invoices (another's: NOT_FOUND). */
	[PAYWIRE__V1__REQUEST__CALL_GET_SESSION] = { .name = "get_session",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = get_session_validate,
	    .read = get_session_read, .reply = srv_reply_get_session,
	    .failed = "reading the session failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_SESSIONS] = { .name = "list_sessions",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = list_sessions_validate,
	    .read = list_sessions_read, .reply = srv_reply_list_sessions,
	    .failed = "listing sessions failed" },
	[PAYWIRE__V1__REQUEST__CALL_GET_INVOICE] = { .name = "get_invoice",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = get_invoice_validate,
	    .read = get_invoice_read, .reply = srv_reply_get_invoice,
	    .failed = "reading the invoice failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_INVOICES] = { .name = "list_invoices",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = list_invoices_validate,
	    .read = list_invoices_read, .reply = srv_reply_list_invoices,
	    .failed = "listing invoices failed" },
	/* A merchant's key: its own events after a seq (the change feed). */
	[PAYWIRE__V1__REQUEST__CALL_LIST_EVENTS] = { .name = "list_events",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = list_events_validate,
	    .read = list_events_read, .reply = srv_reply_list_events,
	    .failed = "listing events failed" },
	/* A merchant's key: a new access key for its customer who lost one. The
	 * reply holds the new access link (a capability): stored sealed. */
	[PAYWIRE__V1__REQUEST__CALL_REISSUE_ACCESS_KEY] = { .name = "reissue_access_key",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = reissue_access_key_validate, .apply = reissue_access_key_apply,
	    .reply = srv_reply_reissue_access_key, .failed = "re-issuing the access key failed" },
	/* A merchant's key: Stripe's customer portal for the customer of one of
	 * its sessions (docs/PROVIDERS.md). Its stored reply holds the portal's
	 * url (a capability): sealed. */
	/* A merchant's key: its Stripe Price per plan (docs/PROVIDERS.md). */
	[PAYWIRE__V1__REQUEST__CALL_SET_PLAN_PRICE] = { .name = "set_plan_price",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = set_plan_price_validate, .apply = set_plan_price_apply,
	    .reply = srv_reply_set_plan_price, .failed = "setting the plan price failed" },
	/* A merchant's key: a refund made at the provider (docs/PROVIDERS.md). */
	[PAYWIRE__V1__REQUEST__CALL_REFUND_PAYMENT] = { .name = "refund_payment",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = refund_payment_validate, .apply = refund_payment_apply,
	    .reply = srv_reply_refund_payment, .failed = "the refund failed",
	    .continues = refund_payment_continues, .provider = refund_payment_provider,
	    .record = refund_payment_record, .record_failure = refund_payment_record_failure },
	[PAYWIRE__V1__REQUEST__CALL_CREATE_PORTAL_SESSION] = { .name = "create_portal_session",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = create_portal_session_validate, .apply = create_portal_session_apply,
	    .reply = srv_reply_create_portal_session, .failed = "creating the portal session failed",
	    .continues = create_portal_session_continues, .provider = create_portal_session_provider,
	    .record = create_portal_session_record },
	/* A merchant's key: its own customer's entitlements (another merchant's
	 * customer of the same name: none). */
	[PAYWIRE__V1__REQUEST__CALL_GET_ENTITLEMENTS] = { .name = "get_entitlements",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = get_entitlements_validate,
	    .read = get_entitlements_read, .reply = srv_reply_get_entitlements,
	    .failed = "listing entitlements failed" },
	/* Admin: verified webhooks paywire could not process, kept (reads). */
	[PAYWIRE__V1__REQUEST__CALL_LIST_QUARANTINED_EVENTS] = { .name = "list_quarantined_events",
	    .auth = SRV_AUTH_ADMIN, .mutates = false, .validate = list_quarantined_events_validate,
	    .read = list_quarantined_events_read, .reply = srv_reply_list_quarantined_events,
	    .failed = "listing the quarantine failed" },
	[PAYWIRE__V1__REQUEST__CALL_GET_QUARANTINED_EVENT] = { .name = "get_quarantined_event",
	    .auth = SRV_AUTH_ADMIN, .mutates = false, .validate = get_quarantined_event_validate,
	    .read = get_quarantined_event_read, .reply = srv_reply_get_quarantined_event,
	    .failed = "reading the quarantined event failed" },
	/* Admin: verify, parse and apply a kept event again (a write either way:
	 * the entry is removed, or keeps the new reason). */
	[PAYWIRE__V1__REQUEST__CALL_RETRY_QUARANTINED_EVENT] = { .name = "retry_quarantined_event",
	    .auth = SRV_AUTH_ADMIN, .mutates = true, .scope = SRV_SCOPE_ADMIN,
	    .validate = retry_quarantined_event_validate, .apply = retry_quarantined_event_apply,
	    .reply = srv_reply_retry_quarantined_event,
	    .failed = "retrying the quarantined event failed" },
	/* A merchant's key: its anomalies after a seq (money that needs a human). */
	[PAYWIRE__V1__REQUEST__CALL_LIST_ANOMALIES] = { .name = "list_anomalies",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = list_anomalies_validate,
	    .read = list_anomalies_read, .reply = srv_reply_list_anomalies,
	    .failed = "listing anomalies failed" },
	/* A merchant's key: whether one of its customers' access keys is valid. */
	[PAYWIRE__V1__REQUEST__CALL_VERIFY_ACCESS_KEY] = { .name = "verify_access_key",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = verify_access_key_validate,
	    .read = verify_access_key_read, .reply = srv_reply_verify_access_key,
	    .failed = "verifying the access key failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_API_KEYS] = { .name = "list_api_keys",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = list_api_keys_validate,
	    .read = list_api_keys_read, .reply = srv_reply_list_api_keys,
	    .failed = "listing API keys failed" },
	/* A merchant's key; its own customers' ledgers. The writer serializes
	 * deductions: none overdraws. */
	[PAYWIRE__V1__REQUEST__CALL_DEDUCT_CREDITS] = { .name = "deduct_credits",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = deduct_credits_validate, .apply = deduct_credits_apply,
	    .reply = srv_reply_deduct_credits, .failed = "deducting credits failed" },
	/* A merchant's key; its own catalogue of credit packages. */
	[PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE] = { .name = "create_credit_package",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = create_credit_package_validate, .apply = create_credit_package_apply,
	    .reply = srv_reply_create_credit_package,
	    .failed = "creating the credit package failed" },
	[PAYWIRE__V1__REQUEST__CALL_ARCHIVE_CREDIT_PACKAGE] = { .name = "archive_credit_package",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = archive_credit_package_validate, .apply = archive_credit_package_apply,
	    .reply = srv_reply_archive_credit_package,
	    .failed = "archiving the credit package failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_PACKAGES] = { .name = "list_credit_packages",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = list_credit_packages_validate,
	    .read = list_credit_packages_read, .reply = srv_reply_list_credit_packages,
	    .failed = "listing credit packages failed" },
	/* A merchant's key. Reads. */
	[PAYWIRE__V1__REQUEST__CALL_GET_BALANCE] = { .name = "get_balance",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .validate = get_balance_validate,
	    .read = get_balance_read, .reply = srv_reply_get_balance,
	    .failed = "reading the balance failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_TRANSACTIONS] = {
	    .name = "list_credit_transactions", .auth = SRV_AUTH_MERCHANT, .mutates = false,
	    .validate = list_credit_transactions_validate, .read = list_credit_transactions_read,
	    .reply = srv_reply_list_credit_transactions,
	    .failed = "listing credit transactions failed" },
	/* Admin: a merchant's provider credentials. The request holds the
	 * secret; the reply (kept for retries as sent) holds hints only. */
	[PAYWIRE__V1__REQUEST__CALL_SET_PROVIDER_CREDENTIALS] = {
	    .name = "set_provider_credentials", .auth = SRV_AUTH_ADMIN, .mutates = true,
	    .scope = SRV_SCOPE_ADMIN, .validate = set_provider_credentials_validate,
	    .apply = set_provider_credentials_apply, .reply = srv_reply_set_provider_credentials,
	    .failed = "setting the provider credentials failed" },
	/* Admin: a merchant's own rate limits (srv_limit.h); the limiter is
	 * told after the commit. */
	[PAYWIRE__V1__REQUEST__CALL_SET_MERCHANT_RATE_LIMITS] = {
	    .name = "set_merchant_rate_limits", .auth = SRV_AUTH_ADMIN, .mutates = true,
	    .scope = SRV_SCOPE_ADMIN, .validate = set_merchant_rate_limits_validate,
	    .apply = set_merchant_rate_limits_apply, .reply = srv_reply_set_merchant_rate_limits,
	    .committed = set_merchant_rate_limits_committed,
	    .failed = "setting the merchant's rate limits failed" },
	[PAYWIRE__V1__REQUEST__CALL_GET_MERCHANT_RATE_LIMITS] = {
	    .name = "get_merchant_rate_limits", .auth = SRV_AUTH_ADMIN, .mutates = false,
	    .validate = get_merchant_rate_limits_validate, .read = get_merchant_rate_limits_read,
	    .reply = srv_reply_get_merchant_rate_limits,
	    .failed = "reading the merchant's rate limits failed" },
	/* Merchant keys: outbound notifications (docs/NOTIFY.md). The replies
	 * of create_endpoint and rotate_endpoint_secret hold the endpoint's
	 * secret: stored sealed. */
	[PAYWIRE__V1__REQUEST__CALL_CREATE_ENDPOINT] = { .name = "create_endpoint",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = srv_notify_create_validate, .apply = srv_notify_create_apply,
	    .reply = srv_reply_notify_create, .failed = "creating the endpoint failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_ENDPOINTS] = { .name = "list_endpoints",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false, .read = srv_notify_list_endpoints_read,
	    .reply = srv_reply_notify_endpoints, .failed = "listing the endpoints failed" },
	[PAYWIRE__V1__REQUEST__CALL_UPDATE_ENDPOINT] = { .name = "update_endpoint",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = srv_notify_update_validate, .apply = srv_notify_update_apply,
	    .reply = srv_reply_notify_update, .failed = "updating the endpoint failed" },
	[PAYWIRE__V1__REQUEST__CALL_DELETE_ENDPOINT] = { .name = "delete_endpoint",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = srv_notify_delete_validate, .apply = srv_notify_delete_apply,
	    .reply = srv_reply_notify_delete, .failed = "deleting the endpoint failed" },
	[PAYWIRE__V1__REQUEST__CALL_ROTATE_ENDPOINT_SECRET] = { .name = "rotate_endpoint_secret",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT, .sealed = true,
	    .validate = srv_notify_rotate_validate, .apply = srv_notify_rotate_apply,
	    .reply = srv_reply_notify_rotate, .failed = "rotating the endpoint secret failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_NOTIFY_MESSAGES] = { .name = "list_notify_messages",
	    .auth = SRV_AUTH_MERCHANT, .mutates = false,
	    .validate = srv_notify_list_messages_validate, .read = srv_notify_list_messages_read,
	    .reply = srv_reply_notify_messages, .failed = "listing the messages failed" },
	[PAYWIRE__V1__REQUEST__CALL_RETRY_NOTIFY_MESSAGE] = { .name = "retry_notify_message",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = srv_notify_retry_validate, .apply = srv_notify_retry_apply,
	    .reply = srv_reply_notify_message, .failed = "retrying the message failed" },
	[PAYWIRE__V1__REQUEST__CALL_REPLAY_NOTIFY] = { .name = "replay_notify",
	    .auth = SRV_AUTH_MERCHANT, .mutates = true, .scope = SRV_SCOPE_MERCHANT,
	    .validate = srv_notify_replay_validate, .apply = srv_notify_replay_apply,
	    .reply = srv_reply_notify_replay, .failed = "replaying the events failed" },
	[PAYWIRE__V1__REQUEST__CALL_LIST_PROVIDER_CREDENTIALS] = {
	    .name = "list_provider_credentials", .auth = SRV_AUTH_ADMIN, .mutates = false,
	    .validate = list_provider_credentials_validate, .read = list_provider_credentials_read,
	    .reply = srv_reply_list_provider_credentials,
	    .failed = "listing the provider credentials failed" },
	/* Admin. Its reply holds the merchant's first raw API key: stored sealed. */
	[PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT] = { .name = "create_merchant",
	    .auth = SRV_AUTH_ADMIN, .mutates = true, .scope = SRV_SCOPE_ADMIN, .sealed = true,
	    .validate = create_merchant_validate, .apply = create_merchant_apply,
	    .reply = srv_reply_create_merchant, .failed = "creating the merchant failed" },
	/* Admin. */
	[PAYWIRE__V1__REQUEST__CALL_REVOKE_API_KEY] = { .name = "revoke_api_key",
	    .auth = SRV_AUTH_ADMIN, .mutates = true, .scope = SRV_SCOPE_ADMIN,
	    .validate = revoke_api_key_validate, .apply = revoke_api_key_apply,
	    .reply = srv_reply_revoke_api_key, .failed = "revoking the API key failed" },
	/* Admin. A read: walks the audit chain in a read transaction. */
	[PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT] = { .name = "verify_audit",
	    .auth = SRV_AUTH_ADMIN, .mutates = false, .read = verify_audit_read,
	    .reply = srv_reply_verify_audit, .failed = "audit verification failed to run" },
	/* No key: a session id (128 random bits) is the capability. A read. */
	[PAYWIRE__V1__REQUEST__CALL_GET_STATUS] = { .name = "get_status", .auth = SRV_AUTH_NONE,
	    .mutates = false, .validate = get_status_validate, .read = get_status_read,
	    .reply = srv_reply_get_status, .failed = "reading the session failed" },
	/* The access-link JWT (checked by the store) is the credential. The copy
	 * kept for retries never holds the raw access key. */
	[PAYWIRE__V1__REQUEST__CALL_REDEEM_ACCESS] = { .name = "redeem_access",
	    .auth = SRV_AUTH_NONE, .mutates = true, .scope = SRV_SCOPE_ACCESS,
	    .validate = redeem_access_validate, .apply = redeem_access_apply,
	    .reply = srv_reply_redeem_access, .redact = srv_reply_redact_redeem_access,
	    .failed = "redeeming access failed" },
	/* The session's checkout secret (checked by validate) is the credential;
	 * test mode only. The event built goes the webhook way: stored under
	 * webhook:stripe, its duplicates answered by peek. */
	[PAYWIRE__V1__REQUEST__CALL_TEST_PAYMENT] = { .name = "test_payment",
	    .auth = SRV_AUTH_NONE, .mutates = true, .scope = SRV_SCOPE_PROVIDER,
	    .validate = test_payment_validate, .apply = ingest_webhook_apply,
	    .peek = ingest_webhook_peek,
	    .reply = srv_reply_test_payment, .failed = "the test payment failed" },
	/* The provider's signature (checked by validate) is the credential. */
	[PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK] = { .name = "ingest_webhook",
	    .auth = SRV_AUTH_NONE, .mutates = true, .scope = SRV_SCOPE_PROVIDER,
	    .validate = ingest_webhook_validate, .apply = ingest_webhook_apply,
	    .peek = ingest_webhook_peek,
	    .reply = srv_reply_ingest_webhook, .failed = "applying the event failed" },
};

const srv_call_ops *
srv_calls_find(Paywire__V1__Request__CallCase cc)
{
	const srv_call_ops *ops;

	if ((int) cc <= 0 || (size_t) cc >= sizeof(srv_calls) / sizeof(srv_calls[0])) {
		return NULL;
	}
	ops = &srv_calls[cc];
	if (ops->name == NULL) {
		return NULL; /* a hole below the first field number */
	}
	/* A row is either a read or a write, with what that needs. */
	PW_ASSERT(ops->reply != NULL && ops->failed != NULL);
	PW_ASSERT(ops->mutates ? (ops->apply != NULL && ops->read == NULL &&
	                             ops->scope != SRV_SCOPE_NONE)
	                       : (ops->read != NULL && ops->apply == NULL &&
	                             ops->scope == SRV_SCOPE_NONE && ops->redact == NULL &&
	                             !ops->sealed));
	PW_ASSERT(!ops->sealed ||
	    ((ops->auth == SRV_AUTH_ADMIN || ops->auth == SRV_AUTH_MERCHANT) && ops->redact == NULL));
	PW_ASSERT(ops->scope != SRV_SCOPE_MERCHANT || ops->auth == SRV_AUTH_MERCHANT);
	return ops;
}

/* An error the call did not explain (c->why still "") is worded by its row:
 * "<failed>: <status message>". */
static pw_status
call_explain(srv_call *c, pw_status rv)
{
	if (rv != PW_OK && c->why[0] == '\0') {
		srv_call_why(c, "%s: %s", c->ops->failed, pw_status_message(rv));
	}
	return rv;
}

pw_status
srv_calls_read(srv_call *c)
{
	PW_ASSERT(c->req != NULL && c->ops != NULL && !c->ops->mutates);
	c->why[0] = '\0';
	srv_result_touch(&c->res);
	return call_explain(c, c->ops->read(c));
}

pw_status
srv_calls_peek(srv_call *c)
{
	PW_ASSERT(c->req != NULL && c->ops != NULL && c->ops->mutates && c->ops->peek != NULL);
	c->why[0] = '\0';
	srv_result_touch(&c->res);
	return c->ops->peek(c);
}

pw_status
srv_calls_apply(store_txn *t, srv_call *c)
{
	PW_ASSERT(t != NULL && c->req != NULL && c->ops != NULL && c->ops->mutates);
	c->why[0] = '\0';
	srv_result_touch(&c->res);
	return call_explain(c, c->ops->apply(t, c));
}
