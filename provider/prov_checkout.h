/* prov_checkout.h - creating a session's checkout at its provider (issue 10):
 * a Stripe Checkout Session (POST /v1/checkout/sessions, form-encoded) or a
 * Razorpay Order (POST /v1/orders, JSON), through prov_http. What is sent is
 * built from the paywire session alone; the idempotency key is derived from
 * the paywire session id, so every attempt, every resend and every restart
 * reaches the same provider object (docs/PROVIDERS.md "Provider checkout").
 *
 * The key is the merchant's for the session's mode: store_provider_creds_check
 * refused, when it was set, a key whose test/live part is not its mode, and
 * the server reads it by the session's mode (so a test key never creates a
 * live checkout); nothing here looks into a secret.
 *
 * Errors are paywire statuses with the provider's reason in why (never a
 * secret: the key is masked if a provider echoes it):
 *   PW_INVALID_ARGUMENT     the provider refused the request (400)
 *   PW_FAILED_PRECONDITION  the provider refused the merchant's credentials
 *                           (401, 403) or the account state (402, 404, 409
 *                           with Stripe-Should-Retry: false, other 4xx)
 *   PW_UNAVAILABLE          no final answer within the deadline (5xx, 429,
 *                           timeouts, resets: retried by prov_http first)
 *   PW_INTERNAL             a 2xx answer without the object's id
 */
#ifndef PW_PROV_CHECKOUT_H
#define PW_PROV_CHECKOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "prov_http.h"
#include "pw_common.h"
#include "pw_limits.h"

typedef struct prov_checkout_in {
	const char *session_id;      /* paywire's: client_reference_id, metadata, receipt */
	int64_t amount_minor;        /* ISO 4217 minor units (converted to the provider's) */
	const char *currency;        /* "EUR" */
	const char *merchant_name;   /* what the customer sees as the product's seller */
	const char *plan;            /* ACCESS_KEY: the plan sold, else NULL/"" */
	const char *stripe_price;    /* the merchant's Stripe Price for the plan (price_…), sold
	                                instead of price_data; NULL: price_data */
	int64_t credits;             /* CREDITS: how many, else 0 */
	bool subscription;           /* the plan is sold as a subscription (Stripe only) */
	const char *success_url;     /* "" or NULL: the provider's default is not allowed: */
	const char *cancel_url;      /*   paywire's checkout page is used instead */
	const char *fallback_url;    /* paywire's checkout page (with its secret) */
	const char *customer_email;
	int64_t expires_at_unix_ms;  /* the paywire session's */
	int64_t created_at_unix_ms;  /* the paywire session's: every parameter sent is derived
	                                from the session alone, never from the clock, so a
	                                retry or a resend hours later sends the same request
	                                (Stripe refuses a reused idempotency key otherwise) */
} prov_checkout_in;

typedef struct prov_checkout_out {
	char id[PW_PROVIDER_ID_BYTES_MAX + 1];     /* cs_…, order_… */
	char url[PW_URL_BYTES_MAX + 1];           /* Stripe's hosted page; "" for Razorpay */
	uint32_t attempts;                        /* HTTP attempts made */
	long http_status;                         /* the last answer's status (0: none) */
} prov_checkout_out;

/* "paywire-checkout-" + session id: the Idempotency-Key (Stripe) of every
 * attempt for this session. */
void prov_checkout_idempotency_key(const char *session_id, char *out, size_t out_size);

pw_status prov_stripe_checkout_create(prov_http *h, const char *api_base, const char *secret_key,
    const prov_checkout_in *in, int64_t deadline_mono_ms, prov_checkout_out *out, char *why,
    size_t why_size) PW_WUR;

/* A Stripe customer portal session for customer (cus_…) returning to
 * return_url: its url into url_out. No idempotency key (each call makes a
 * new short-lived portal session, as Stripe intends). */
pw_status prov_stripe_portal_create(prov_http *h, const char *api_base, const char *secret_key,
    const char *customer, const char *return_url, int64_t deadline_mono_ms, char *url_out,
    size_t url_size, char *why, size_t why_size) PW_WUR;

/* A refund of payment_ref (Stripe: a payment intent pi_…; Razorpay: a
 * payment pay_…) of amount_minor (ISO 4217 minor units of currency),
 * idempotent by refund_id (Stripe's Idempotency-Key
 * "paywire-refund-<refund_id>"; Razorpay: receipt = refund_id). The
 * provider's refund id into id_out. reason: "" or Stripe's enum. *refused:
 * the provider answered a final refusal (a 4xx other than 409/429), which
 * the caller records; false otherwise (no answer, a 5xx: a resend asks
 * again with the same key). */
typedef struct prov_refund_in {
	const char *refund_id;     /* paywire's rf_… */
	const char *session_id;
	const char *payment_ref;
	int64_t amount_minor;
	const char *currency;
	const char *reason;
} prov_refund_in;

pw_status prov_stripe_refund_create(prov_http *h, const char *api_base, const char *secret_key,
    const prov_refund_in *in, int64_t deadline_mono_ms, char *id_out, size_t id_size,
    bool *refused, char *why, size_t why_size) PW_WUR;
pw_status prov_razorpay_refund_create(prov_http *h, const char *api_base, const char *key_id,
    const char *key_secret, const prov_refund_in *in, int64_t deadline_mono_ms, char *id_out,
    size_t id_size, bool *refused, char *why, size_t why_size) PW_WUR;

/* Razorpay Orders: amount in the smallest unit, receipt (<= 40 chars, from
 * the session id) and notes.session_id. Razorpay has no idempotency header:
 * a retried create may make a second order, which paywire never records
 * (the first recorded wins; docs/PROVIDERS.md). */
pw_status prov_razorpay_order_create(prov_http *h, const char *api_base, const char *key_id,
    const char *key_secret, const prov_checkout_in *in, int64_t deadline_mono_ms,
    prov_checkout_out *out, char *why, size_t why_size) PW_WUR;

#endif
