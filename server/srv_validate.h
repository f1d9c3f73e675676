/*
 * srv_validate.h - input validation of every RPC call, before any store call.
 *
 * OWNS
 * The rules an unpacked paywire.v1 request must follow before the server
 * authenticates it against, reads from or writes to the store: lengths, ranges,
 * enums, URL shape, currency codes, metadata, fulfillment. A refused request
 * writes nothing. Each refusal is PW_INVALID_ARGUMENT with a `why` naming the
 * field and the limit ("create_session.amount_minor must be 1..1000000000000,
 * got 0"). The wire validator (srv_wire.h) has already refused unknown fields,
 * NULs and invalid UTF-8; these functions check UTF-8 again (cheap, and they
 * may be called on messages that did not come off the wire).
 *
 * THREADS
 * Pure functions: no globals, no allocation, any thread.
 *
 * LIMITS
 * Every limit comes from common/pw_limits.h, except PW_ACCESS_TOKEN_BYTES_MAX below.
 *
 * `why` receives a NUL-terminated reason on failure (truncated to why_size)
 * and "" on success; it never contains a secret (API keys and tokens are
 * described by their length only).
 */
#ifndef SRV_VALIDATE_H
#define SRV_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <paywire/status.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"


/* request_id: when `required` (mutating calls) 1..PW_REQUEST_ID_BYTES_MAX
 * bytes, else 0..PW_REQUEST_ID_BYTES_MAX; printable ASCII only (it is logged
 * and used as a key). */
pw_status srv_validate_request_id(const char *request_id, bool required, char *why,
    size_t why_size) PW_WUR;

/* Request.api_key when a call needs one: 1..PW_API_KEY_BYTES_MAX bytes.
 * Empty is PW_UNAUTHENTICATED ("missing API key"), too long PW_UNAUTHENTICATED
 * too (no key that long exists; the caller learns nothing more). */
pw_status srv_validate_api_key(const char *api_key, char *why, size_t why_size) PW_WUR;

/* create_merchant: name 1..PW_NAME_BYTES_MAX bytes of UTF-8; mode TEST or LIVE. */
pw_status srv_validate_create_merchant(const Paywire__V1__CreateMerchantRequest *r, char *why,
    size_t why_size) PW_WUR;

/* create_session:
 * - amount_minor 1..PW_AMOUNT_MINOR_MAX;
 * - currency: an ISO 4217 code in upper case that pw_currency_exponent knows
 *   ("eur" and "EUR1" refused; XXX "no currency", XTS and the metal/fund units
 *   are refused since nothing can be charged in them);
 * - mode TEST or LIVE;
 * - success_url, cancel_url: empty, or http:// / https:// + a host, at most
 *   PW_URL_BYTES_MAX bytes, no whitespace, control bytes or userinfo (@);
 * - customer_email: empty, or <= PW_EMAIL_BYTES_MAX bytes with one '@' between
 *   non-empty parts and no whitespace; customer_name <= PW_NAME_BYTES_MAX;
 *   customer_ref <= PW_CUSTOMER_REF_BYTES_MAX; idempotency_key <=
 *   PW_IDEMPOTENCY_KEY_BYTES_MAX;
 * - metadata: <= PW_METADATA_ENTRIES_MAX entries, keys 1..PW_METADATA_KEY_BYTES_MAX
 *   bytes, unique, values <= PW_METADATA_VALUE_BYTES_MAX bytes;
 * - fulfillment: absent or NONE (no plan, no credits); ACCESS_KEY with a plan of
 *   1..PW_PLAN_BYTES_MAX bytes and no credits; CREDITS with
 *   1..PW_CREDITS_MAX credits and no plan;
 * - credit_package: "" or a code (1..PW_CREDIT_PACKAGE_CODE_BYTES_MAX of
 *   [a-z0-9_-]); with one, amount_minor may be 0 and currency "" (the
 *   package's), and fulfillment must be absent, NONE or CREDITS (the store
 *   checks given values against the package). */
pw_status srv_validate_create_session(const Paywire__V1__CreateSessionRequest *r, char *why,
    size_t why_size) PW_WUR;

/* A session id: 1..PW_SESSION_ID_BYTES_MAX bytes of [A-Za-z0-9_-].
 * `field` names it in the reason. */
pw_status srv_validate_session_id(const char *field, const char *id, char *why,
    size_t why_size) PW_WUR;

/* create_api_key: mode 0/TEST/LIVE; list_api_keys: nothing; roll_api_key:
 * key_id 0..47 bytes, grace_s 0..PW_APIKEY_GRACE_MAX_S, not with expire_now. */
pw_status srv_validate_create_api_key(const Paywire__V1__CreateApiKeyRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_list_api_keys(const Paywire__V1__ListApiKeysRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_roll_api_key(const Paywire__V1__RollApiKeyRequest *r, char *why,
    size_t why_size) PW_WUR;

/* verify_access_key: access_key 1..PW_API_KEY_BYTES_MAX bytes (a secret:
 * the message names its length, never its bytes). */
pw_status srv_validate_verify_access_key(const Paywire__V1__VerifyAccessKeyRequest *r, char *why,
    size_t why_size) PW_WUR;

/* get_session: session_id; list_sessions: limit 0..PW_LIST_LIMIT_MAX, a
 * created range from <= to, starting_after "" or a session id;
 * get_invoice: number >= 1; list_invoices: limit as above. */
pw_status srv_validate_get_session(const Paywire__V1__GetSessionRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_list_sessions(const Paywire__V1__ListSessionsRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_get_invoice(const Paywire__V1__GetInvoiceRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_list_invoices(const Paywire__V1__ListInvoicesRequest *r, char *why,
    size_t why_size) PW_WUR;

/* get_entitlements: customer_ref 1..PW_CREDIT_CUSTOMER_BYTES_MAX bytes
 * (required), limit 0..PW_LIST_LIMIT_MAX, starting_after "" or an ent_ id. */
pw_status srv_validate_get_entitlements(const Paywire__V1__GetEntitlementsRequest *r, char *why,
    size_t why_size) PW_WUR;

/* list_events: limit 0..PW_LIST_LIMIT_MAX, after_seq below UINT64_MAX. */
pw_status srv_validate_list_events(const Paywire__V1__ListEventsRequest *r, char *why,
    size_t why_size) PW_WUR;

/* list_anomalies: limit 0..PW_LIST_LIMIT_MAX, after_seq below UINT64_MAX. */
pw_status srv_validate_list_anomalies(const Paywire__V1__ListAnomaliesRequest *r, char *why,
    size_t why_size) PW_WUR;

/* list_quarantined_events: limit 0..PW_LIST_LIMIT_MAX, after_id below
 * UINT64_MAX; get_quarantined_event: id >= 1. */
pw_status srv_validate_list_quarantined_events(
    const Paywire__V1__ListQuarantinedEventsRequest *r, char *why, size_t why_size) PW_WUR;
pw_status srv_validate_get_quarantined_event(const Paywire__V1__GetQuarantinedEventRequest *r,
    char *why, size_t why_size) PW_WUR;

/* create_credit_package: code 1..PW_CREDIT_PACKAGE_CODE_BYTES_MAX of
 * [a-z0-9_-], name 0..PW_CREDIT_PACKAGE_NAME_BYTES_MAX UTF-8, credits
 * 1..PW_CREDITS_MAX, amount_minor 1..PW_AMOUNT_MINOR_MAX, an ISO 4217
 * currency; archive_credit_package: a code; list_credit_packages: limit
 * 0..PW_LIST_LIMIT_MAX, starting_after "" or a code. */
pw_status srv_validate_create_credit_package(const Paywire__V1__CreditPackageCreateRequest *r,
    char *why, size_t why_size) PW_WUR;
pw_status srv_validate_archive_credit_package(const Paywire__V1__CreditPackageArchiveRequest *r,
    char *why, size_t why_size) PW_WUR;
pw_status srv_validate_list_credit_packages(const Paywire__V1__CreditPackageListRequest *r,
    char *why, size_t why_size) PW_WUR;

/* deduct_credits: customer 1..PW_CREDIT_CUSTOMER_BYTES_MAX, credits
 * 1..PW_CREDITS_MAX, idempotency_key required (1..PW_IDEMPOTENCY_KEY_BYTES_MAX),
 * description 0..PW_DESCRIPTION_BYTES_MAX; get_balance and
 * list_credit_transactions: customer likewise, limit 0..PW_LIST_LIMIT_MAX. */
pw_status srv_validate_deduct_credits(const Paywire__V1__DeductCreditsRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_get_balance(const Paywire__V1__GetBalanceRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_list_credit_transactions(
    const Paywire__V1__ListCreditTransactionsRequest *r, char *why, size_t why_size) PW_WUR;

/* get_status: session_id as srv_validate_session_id. */
pw_status srv_validate_cancel_session(const Paywire__V1__CancelSessionRequest *r, char *why,
    size_t why_size) PW_WUR;
/* test_payment: session_id, checkout_secret required ("cks_" + 43 base64url);
 * reissue_access_key: session_id. get_status: session_id, checkout_secret
 * empty or of that shape. */
pw_status srv_validate_test_payment(const Paywire__V1__TestPaymentRequest *r, char *why,
    size_t why_size) PW_WUR;
pw_status srv_validate_reissue_access_key(const Paywire__V1__ReissueAccessKeyRequest *r,
    char *why, size_t why_size) PW_WUR;
pw_status srv_validate_get_status(const Paywire__V1__GetStatusRequest *r, char *why,
    size_t why_size) PW_WUR;

/* ingest_webhook: provider a row of PW_PROVIDER_MAP; 1..PW_WEBHOOK_BODY_BYTES_MAX body
 * bytes; <= PW_WEBHOOK_HEADERS_MAX headers, names 1..PW_HEADER_NAME_BYTES_MAX
 * bytes of lower-case visible ASCII, unique, values <= PW_HEADER_VALUE_BYTES_MAX. */
pw_status srv_validate_ingest_webhook(const Paywire__V1__IngestWebhookRequest *r, char *why,
    size_t why_size) PW_WUR;

/* revoke_api_key: api_key 1..PW_API_KEY_BYTES_MAX bytes. */
pw_status srv_validate_revoke_api_key(const Paywire__V1__RevokeApiKeyRequest *r, char *why,
    size_t why_size) PW_WUR;

/* redeem_access: session_id as srv_validate_session_id; token
 * 1..PW_ACCESS_TOKEN_BYTES_MAX bytes of printable ASCII. */
pw_status srv_validate_redeem_access(const Paywire__V1__RedeemAccessRequest *r, char *why,
    size_t why_size) PW_WUR;

/* The URL rule of create_session (success_url/cancel_url), exposed for tests
 * and for --public-url: true when url is http(s)://host[:port][/...] within
 * PW_URL_BYTES_MAX bytes. Empty is false here (callers allow it). */
bool srv_validate_url(const char *url);

/* refund_payment: a session id, amount 0..PW_AMOUNT_MINOR_MAX, a required
 * idempotency key, a reason from Stripe's list or none. */
pw_status srv_validate_refund_payment(const Paywire__V1__RefundPaymentRequest *r, char *why,
    size_t why_size) PW_WUR;

/* create_portal_session: a session id and an http(s) return_url. */
pw_status srv_validate_create_portal_session(const Paywire__V1__CreatePortalSessionRequest *r,
    char *why, size_t why_size) PW_WUR;
/* set_provider_credentials: merchant_id 1..PW_REPLY_SCOPE_BYTES_MAX printable
 * ASCII; provider STRIPE or RAZORPAY (ONECOM and WEB3: paywire makes no calls
 * to them, INVALID_ARGUMENT says so); mode TEST or LIVE; an empty secret
 * (delete) wants an empty key_id, else the rules of
 * store_provider_creds_check (prefixes matching mode, lengths, printable
 * ASCII without spaces). list_provider_credentials: merchant_id as above.
 * why never quotes the secret. */
pw_status srv_validate_set_provider_credentials(const Paywire__V1__SetProviderCredentialsRequest *r,
    char *why, size_t why_size) PW_WUR;
pw_status srv_validate_list_provider_credentials(
    const Paywire__V1__ListProviderCredentialsRequest *r, char *why, size_t why_size) PW_WUR;

/* A merchant id field of an admin call: 1..PW_REPLY_SCOPE_BYTES_MAX bytes
 * of printable ASCII without spaces. */
pw_status srv_validate_merchant_id(const char *field, const char *id, char *why,
    size_t why_size) PW_WUR;

#endif
