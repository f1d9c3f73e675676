/*
 * paywire/client.h - libpaywire, the C client of paywire-server.
 *
 * A pw_client holds one nng REQ socket dialed to the server. Every call is
 * synchronous, thread-safe (each call uses its own nng context, so many
 * threads may share one client), and bounded by the client's timeout.
 *
 * RETRIES. The REQ resend time is set to infinite: the library retries itself,
 * re-sending the same bytes (same request_id) after a timeout, up to
 * `retries` times. The server stores each mutating call's reply under its
 * request_id, so a retry never applies twice.
 *
 * ERRORS. Every call returns a pw_status (paywire/status.h). Server errors
 * come back with their code and the server's message in err->message;
 * transport failures are PW_UNAVAILABLE (cannot connect) or PW_TIMEOUT (no
 * answer within timeout after all retries). err may be NULL.
 *
 * No protobuf type appears here: results are plain structs with fixed-size,
 * NUL-terminated strings that the caller owns.
 */
#ifndef PAYWIRE_CLIENT_H
#define PAYWIRE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/provider.h>
#include <paywire/status.h>
#include <paywire/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PW_CLIENT_BUILD)
#define PW_API __attribute__((visibility("default")))
#else
#define PW_API
#endif

typedef struct pw_client pw_client;

typedef struct pw_client_opts {
	uint32_t timeout_ms; /* per attempt; 0: 5000 */
	uint32_t retries;    /* extra attempts after a timeout, same request_id; 0: none. Default via pw_client_opts_default: 3 */
} pw_client_opts;

typedef struct pw_error {
	pw_status code;
	char message[512];
	int64_t retry_after_ms;   /* PW_RESOURCE_EXHAUSTED by a rate limit: when to retry; else 0 */
} pw_error;

typedef enum pw_mode { PW_MODE_UNSPECIFIED = 0, PW_MODE_TEST = 1, PW_MODE_LIVE = 2 } pw_mode;

typedef enum pw_session_status {
	PW_SESSION_UNSPECIFIED = 0,
	PW_SESSION_CREATED = 1,
	PW_SESSION_PENDING = 2,
	PW_SESSION_PAID = 3,
	PW_SESSION_FAILED = 4,
	PW_SESSION_EXPIRED = 5,
	PW_SESSION_CANCELED = 6,
	PW_SESSION_REFUNDED = 7,
	PW_SESSION_DISPUTED = 8,
} pw_session_status;

typedef enum pw_payment_status {
	PW_PAYMENT_UNSPECIFIED = 0,
	PW_PAYMENT_UNPAID = 1,
	PW_PAYMENT_PROCESSING = 2,
	PW_PAYMENT_COMPLETED = 3,
	PW_PAYMENT_FAILED = 4,
	PW_PAYMENT_PARTIALLY_REFUNDED = 5,
	PW_PAYMENT_REFUNDED = 6,
	PW_PAYMENT_DISPUTED = 7,
} pw_payment_status;

/* PW_WEBHOOK_STRIPE = 1, PW_WEBHOOK_RAZORPAY = 2, PW_WEBHOOK_ONECOM = 3,
 * PW_WEBHOOK_WEB3 = 4, ...: one per row of the provider table
 * (paywire/provider.h), with the wire's numbers. */
typedef enum pw_webhook_provider {
#define PW_XX_WEBHOOK(NAME, value, name, label, secret_env) PW_WEBHOOK_##NAME = value,
	PW_PROVIDER_MAP(PW_XX_WEBHOOK)
#undef PW_XX_WEBHOOK
} pw_webhook_provider;

typedef enum pw_webhook_outcome {
	PW_WEBHOOK_UNSPECIFIED = 0,
	PW_WEBHOOK_APPLIED = 1,
	PW_WEBHOOK_DUPLICATE = 2,
	PW_WEBHOOK_IGNORED = 3,
	PW_WEBHOOK_QUARANTINED = 4, /* verified, not understood: kept for an operator */
} pw_webhook_outcome;

typedef enum pw_fulfillment_kind {
	PW_FULFILL_NONE = 0,
	PW_FULFILL_ACCESS_KEY = 1,
	PW_FULFILL_CREDITS = 2,
} pw_fulfillment_kind;

typedef struct pw_kv {
	const char *key;
	const char *value;
} pw_kv;

typedef enum pw_credit_kind {
	PW_CREDIT_UNSPECIFIED = 0,
	PW_CREDIT_PURCHASE = 1,  /* a paid session that sold credits */
	PW_CREDIT_DEDUCTION = 2, /* pw_credits_deduct */
	PW_CREDIT_REVERSAL = 3,  /* a refund or lost dispute of a purchase */
} pw_credit_kind;

/* Names of the enums above: "paid", "completed", "stripe", "applied", "test" … */
PW_API const char *pw_session_status_name(pw_session_status s);
PW_API const char *pw_payment_status_name(pw_payment_status s);
PW_API const char *pw_mode_name(pw_mode m);
PW_API const char *pw_webhook_outcome_name(pw_webhook_outcome o);
PW_API const char *pw_credit_kind_name(pw_credit_kind k); /* "purchase", "deduction", ... */
/* A provider's name ("stripe", "razorpay", "onecom", "web3": the table's
 * names) -> provider; false if unknown. The name of a value that is not a
 * provider is "unknown". */
PW_API bool pw_webhook_provider_parse(const char *name, pw_webhook_provider *out);
PW_API const char *pw_webhook_provider_name(pw_webhook_provider p);

/* Fills defaults: timeout 5000 ms, 3 retries. */
PW_API void pw_client_opts_default(pw_client_opts *opts);

/* Connects to url (tcp://host:port or ipc:///path). Dials in the background:
 * a server that is not up yet is not an error here (calls answer PW_TIMEOUT /
 * PW_UNAVAILABLE until it is). opts may be NULL for defaults. */
PW_API pw_status pw_client_open(pw_client **out, const char *url, const pw_client_opts *opts);
PW_API void pw_client_close(pw_client *c);

/* Sets the trace id that this thread's following calls carry (on any
 * client) until it is set again: the server logs it with each call, so a
 * request can be followed across processes (the bridge passes the HTTP
 * request's X-Request-Id). Not the idempotency key. NULL or "" clears it.
 * PW_INVALID_ARGUMENT (nothing changes) for more than 64 bytes or a byte
 * outside [A-Za-z0-9._:-]. */
PW_API pw_status pw_trace_set(const char *trace_id);

/* ---- merchants (admin key) ---- */

typedef struct pw_merchant {
	char merchant_id[64];
	char api_key[128]; /* raw key: shown once, store it now */
	char name[256];
	pw_mode mode;
} pw_merchant;

PW_API pw_status pw_merchant_create(pw_client *c, const char *admin_key, const char *name,
    pw_mode mode, pw_merchant *out, pw_error *err);

/* Revokes a merchant API key (admin key). merchant_id_out may be NULL. */
PW_API pw_status pw_apikey_revoke(pw_client *c, const char *admin_key, const char *api_key,
    char merchant_id_out[64], pw_error *err);

/* ---- a merchant's own API keys (merchant API key) ---- */

/* What the merchant may see of a key: never the key itself. */
typedef struct pw_api_key_info {
	char key_id[64];            /* "key_..." */
	char key_prefix[16];        /* "sk_live_AbCd" */
	char last4[8];
	pw_mode mode;
	char state[16];             /* "active", "expiring" (rolled, in its grace period),
	                               "expired", "revoked" */
	int64_t created_at_unix_ms;
	int64_t expires_at_unix_ms; /* 0: never */
	int64_t revoked_at_unix_ms;
	char replaced_by[64];       /* the key that rolled it */
	int64_t last_used_at_unix_ms; /* its last successful authentication, to the minute
	                                 (a server persists it at most once a minute per key;
	                                 a crash may lose up to ~70 s of it); 0: never */
} pw_api_key_info;

typedef struct pw_api_key_new {
	pw_api_key_info key;
	char api_key[128];          /* raw, shown once: store it now */
	pw_api_key_info rolled;     /* pw_apikey_roll: the old key, expiring */
} pw_api_key_new;

/* Another key for the calling key's merchant, of mode (PW_MODE_UNSPECIFIED:
 * the calling key's; a test key cannot make a live one: PW_PERMISSION_DENIED).
 * At most 10 active keys: PW_FAILED_PRECONDITION beyond. */
PW_API pw_status pw_apikey_create(pw_client *c, const char *api_key, pw_mode mode,
    pw_api_key_new *out, pw_error *err);

/* Replaces the key key_id (NULL or "": the calling key) with a new one of the
 * same mode. The old one keeps working for grace_s seconds (0: 24 h; at most
 * 7 days), or not at all with expire_now. */
PW_API pw_status pw_apikey_roll(pw_client *c, const char *api_key, const char *key_id,
    unsigned grace_s, bool expire_now, pw_api_key_new *out, pw_error *err);

#define PW_API_KEYS_MAX 100
typedef struct pw_api_key_list {
	pw_api_key_info keys[PW_API_KEYS_MAX]; /* newest first */
	size_t n;
} pw_api_key_list;

/* The merchant's keys (out is ~24 KiB: allocate it). */
PW_API pw_status pw_apikey_list(pw_client *c, const char *api_key, pw_api_key_list *out,
    pw_error *err);

/* ---- sessions (merchant API key) ---- */

typedef struct pw_session_params {
	int64_t amount_minor;     /* > 0, minor units of currency */
	const char *currency;     /* ISO 4217, "EUR" */
	pw_mode mode;             /* must not exceed the key's mode */
	const char *success_url;  /* http(s), may be NULL */
	const char *cancel_url;
	const char *customer_email;
	const char *customer_name;
	const char *customer_ref;
	const char *idempotency_key; /* NULL: none */
	const pw_kv *metadata;
	size_t metadata_len;
	pw_fulfillment_kind fulfillment;
	const char *plan;         /* ACCESS_KEY */
	int64_t credits;          /* CREDITS */
	const char *request_id;   /* NULL: generated (time-ordered + random) */
	int64_t expires_at_unix_ms; /* 0: 24 h after creation; else 1 min .. 7 days ahead:
	                               unpaid past it, the session is expired */
	bool subscription;        /* ACCESS_KEY only: the plan is sold as a subscription
	                             (the provider's invoices extend it) */
	pw_webhook_provider provider; /* 0: none; PW_WEBHOOK_STRIPE or PW_WEBHOOK_RAZORPAY:
	                             paywire creates the provider's checkout (a Stripe
	                             Checkout Session, a Razorpay Order) with the
	                             merchant's credentials before it answers */
	const char *credit_package; /* NULL or "": none. Else the code of one of the
	                               merchant's active credit packages: the session
	                               sells its credits at its price (amount_minor 0 and
	                               currency NULL take the package's; given ones must
	                               equal it, as must a CREDITS fulfillment) */
} pw_session_params;

typedef struct pw_session {
	char id[64];
	char merchant_id[64];
	char url[2200];
	pw_mode mode;
	pw_session_status status;
	pw_payment_status payment_status;
	int64_t amount_minor;
	char currency[4];
	int64_t created_at_unix_ms;
	int64_t expires_at_unix_ms; /* unpaid past it: expired */
	char checkout_secret[64];   /* pw_session_create, pw_session_get: "cks_..." (url carries it);
	                               "" from the other calls */
	char checkout_provider[16]; /* "stripe", "razorpay": the provider checkout asked for; "" */
	char provider_checkout_id[128]; /* cs_…, order_… once created, else "" */
	char provider_checkout_url[2200]; /* Stripe's hosted page (send the customer there), else "" */
	bool provider_checkout_pending; /* asked for, not created yet (a resend finishes it) */
	char credit_package[40];    /* the credit package it sells (its code), or "" */
} pw_session;

PW_API pw_status pw_session_create(pw_client *c, const char *api_key, const pw_session_params *p,
    pw_session *out, pw_error *err);

/* The merchant cancels one of its sessions: created or pending -> canceled;
 * *out is the session after it. PW_FAILED_PRECONDITION in any other status
 * (err->message says which); PW_NOT_FOUND for no such session or another
 * merchant's. Retried calls carry the same request_id: a retry after the
 * cancel committed answers the same session. */
PW_API pw_status pw_session_cancel(pw_client *c, const char *api_key, const char *session_id,
    pw_session *out, pw_error *err);

/* ---- credits (merchant API key) ---- */

/* One immutable entry of a customer's credit ledger. */
typedef struct pw_credit_txn {
	uint64_t seq;                /* 1, 2, ... per customer: the listing cursor */
	char customer[256];
	pw_credit_kind kind;
	int64_t delta;               /* what the balance moved by (signed) */
	int64_t balance_after;
	int64_t shortfall;           /* REVERSAL: credits already spent, not taken back */
	char session_id[64];         /* PURCHASE/REVERSAL */
	char idempotency_key[256];   /* DEDUCTION */
	char description[504];       /* DEDUCTION */
	int64_t created_at_unix_ms;
} pw_credit_txn;

/* Spends `credits` (1..10^9) of a customer's balance (customer: the
 * customer_ref its sessions carried, else their e-mail). idempotency_key is
 * required: the same key and parameters within 24 h answer the same entry
 * without deducting again; other parameters PW_IDEMPOTENCY_CONFLICT. A
 * balance below `credits`: PW_FAILED_PRECONDITION (err->message says the
 * balance), nothing deducted. description may be NULL. */
PW_API pw_status pw_credits_deduct(pw_client *c, const char *api_key, const char *customer,
    int64_t credits, const char *idempotency_key, const char *description, pw_credit_txn *out,
    pw_error *err);

typedef struct pw_credit_balance {
	char customer[256];
	int64_t balance;             /* 0 for a customer without entries */
	uint64_t transactions;       /* seq of the latest entry */
	int64_t updated_at_unix_ms;
} pw_credit_balance;

PW_API pw_status pw_credits_balance(pw_client *c, const char *api_key, const char *customer,
    pw_credit_balance *out, pw_error *err);

#define PW_CREDIT_PAGE_MAX 100
typedef struct pw_credit_page {
	pw_credit_txn txns[PW_CREDIT_PAGE_MAX]; /* newest first */
	size_t n;
	bool has_more;               /* older entries remain: ask again with
	                                starting_after = txns[n - 1].seq */
} pw_credit_page;

/* A page of a customer's entries, newest first: seq < starting_after (0:
 * from the newest), at most limit (1..PW_CREDIT_PAGE_MAX; 0: 10). out is
 * large (~110 KiB): allocate it. */
PW_API pw_status pw_credits_list(pw_client *c, const char *api_key, const char *customer,
    uint64_t starting_after, unsigned limit, pw_credit_page *out, pw_error *err);

/* ---- credit packages: the merchant's catalogue (merchant API key) ---- */

typedef enum pw_credit_package_state {
	PW_CREDIT_PACKAGE_UNSPECIFIED = 0,
	PW_CREDIT_PACKAGE_ACTIVE = 1,   /* sessions may sell it */
	PW_CREDIT_PACKAGE_ARCHIVED = 2, /* no new session may; its code is never reused */
} pw_credit_package_state;

/* What a package sells (credits) at what price. Immutable but for its state:
 * to change a price, archive it and create another code. */
typedef struct pw_credit_package {
	char code[40];               /* 1..32 bytes of [a-z0-9_-] */
	char name[132];              /* display name, "" none */
	int64_t credits;
	int64_t amount_minor;
	char currency[4];
	pw_credit_package_state state;
	int64_t created_at_unix_ms;
	int64_t archived_at_unix_ms; /* 0: active */
	bool created;                /* pw_credit_package_create: true if this call made it,
	                                false if it existed with the same parameters */
} pw_credit_package;

/* Creates the package code (1..32 bytes of [a-z0-9_-]) selling credits
 * (1..10^9) for amount_minor (> 0) of currency (ISO 4217); name may be NULL.
 * The same code with the same parameters again answers it (created false);
 * with other parameters, or an archived code: PW_ALREADY_EXISTS (codes are
 * never changed or reused). At 100 active packages: PW_FAILED_PRECONDITION. */
PW_API pw_status pw_credit_package_create(pw_client *c, const char *api_key, const char *code,
    const char *name, int64_t credits, int64_t amount_minor, const char *currency,
    pw_credit_package *out, pw_error *err);

/* Archives the package code: no new session may sell it; sessions created
 * with it keep their price. Archiving an archived one changes nothing.
 * PW_NOT_FOUND: no such package of this merchant. */
PW_API pw_status pw_credit_package_archive(pw_client *c, const char *api_key, const char *code,
    pw_credit_package *out, pw_error *err);

#define PW_CREDIT_PACKAGE_PAGE_MAX 100
typedef struct pw_credit_package_page {
	pw_credit_package packages[PW_CREDIT_PACKAGE_PAGE_MAX]; /* in code order */
	size_t n;
	bool has_more;               /* go on with starting_after = the last code */
} pw_credit_package_page;

/* The merchant's packages in code order, codes after starting_after (NULL or
 * "": from the first), at most limit (1..100; 0: 10); archived ones only
 * with include_archived. out is ~20 KiB: allocate it. */
PW_API pw_status pw_credit_packages_list(pw_client *c, const char *api_key,
    const char *starting_after, unsigned limit, bool include_archived,
    pw_credit_package_page *out, pw_error *err);

/* ---- a merchant's own sessions and invoices (merchant API key) ---- */

typedef struct pw_provider_ref {
	char provider[16];          /* "stripe", "razorpay", ... */
	char ref[128];              /* pi_..., ch_..., order_..., pay_..., network:tx:index */
} pw_provider_ref;

/* Everything paywire holds of one of the merchant's sessions. */
typedef struct pw_session_detail {
	pw_session session;
	char customer_email[256];
	char customer_ref[208];
	int64_t amount_refunded_minor;
	int64_t paid_at_unix_ms;
	char payment_provider[16];  /* "" until paid */
	char paid_ref[128];         /* the payment_ref of the recorded payment */
	uint64_t invoice_number;    /* 0: none */
	char access_key_id[64];
	bool entitlement_active;
	char access_link[2048];     /* the customer's link: the merchant may pass it on */
	char dispute[16];           /* "", "opened", "won", "lost" */
	uint64_t anomalies;
	char anomaly[256];          /* the last one, for a human */
	int64_t updated_at_unix_ms;
	pw_provider_ref refs[32];
	size_t n_refs;
} pw_session_detail;

/* One of the merchant's sessions; another merchant's is PW_NOT_FOUND. */
PW_API pw_status pw_session_get(pw_client *c, const char *api_key, const char *session_id,
    pw_session_detail *out, pw_error *err);

typedef struct pw_session_filter {
	pw_session_status status;   /* PW_SESSION_UNSPECIFIED: any (as of now) */
	int64_t created_from_unix_ms; /* 0: open; inclusive */
	int64_t created_to_unix_ms;   /* 0: open; inclusive */
	unsigned limit;             /* 1..100; 0: 10 */
	const char *starting_after; /* NULL: from the newest; else the previous page's next */
} pw_session_filter;

#define PW_SESSION_PAGE_MAX 100
typedef struct pw_session_page {
	pw_session sessions[PW_SESSION_PAGE_MAX]; /* newest first */
	size_t n;
	bool has_more;
	char next[64];              /* pass as starting_after to go on */
} pw_session_page;

/* A page of the merchant's sessions (out is ~240 KiB: allocate it). A page
 * may come back short with has_more when a filter matched little of what
 * the server examined: go on with next. */
PW_API pw_status pw_sessions_list(pw_client *c, const char *api_key, const pw_session_filter *f,
    pw_session_page *out, pw_error *err);

typedef struct pw_invoice {
	uint64_t number;            /* gapless per merchant, from 1 */
	char session_id[64];
	int64_t amount_minor;
	char currency[4];
	char provider[16];
	char payment_ref[128];
	int64_t issued_at_unix_ms;
	char customer_email[256];
	char customer_name[256];
} pw_invoice;

PW_API pw_status pw_invoice_get(pw_client *c, const char *api_key, uint64_t number,
    pw_invoice *out, pw_error *err);

#define PW_INVOICE_PAGE_MAX 100
typedef struct pw_invoice_page {
	pw_invoice invoices[PW_INVOICE_PAGE_MAX]; /* in number order */
	size_t n;
	bool has_more;              /* go on with starting_after = the last number */
} pw_invoice_page;

PW_API pw_status pw_invoices_list(pw_client *c, const char *api_key, uint64_t starting_after,
    unsigned limit, pw_invoice_page *out, pw_error *err);

/* ---- the change feed (merchant API key) ---- */

typedef struct pw_event_info {
	uint64_t seq;               /* orders every event of the service */
	char type[64];              /* "session.paid", "session.expired", "credits.deducted", ... */
	char merchant_id[64];
	char session_id[64];        /* "" for changes of no session */
	char detail[1024];          /* ids and amounts, never a secret */
	int64_t created_at_unix_ms;
} pw_event_info;

#define PW_EVENT_PAGE_MAX 100
typedef struct pw_event_page {
	pw_event_info events[PW_EVENT_PAGE_MAX]; /* in seq order */
	size_t n;
	bool has_more;
	uint64_t next_after_seq;    /* pass it as after_seq to go on */
} pw_event_page;

/* The merchant's events after after_seq (0: from the first), at most limit
 * (1..100; 0: 10). A consumer that was down catches up from the last seq it
 * handled (out is ~110 KiB: allocate it). */
PW_API pw_status pw_events_list(pw_client *c, const char *api_key, uint64_t after_seq,
    unsigned limit, pw_event_page *out, pw_error *err);

/* ---- anomalies: money that needs a human (merchant API key) ---- */

/* A payment, refund or dispute paywire recorded but did not apply (an
 * underpayment, another currency or mode, a payment for a closed session, a
 * second payment for a paid session, ...): `action` says what to do,
 * usually refund that payment at the provider. */
typedef struct pw_anomaly {
	uint64_t seq;               /* orders the merchant's anomalies */
	char session_id[64];
	char provider[16];          /* "stripe", "razorpay", ... */
	char event_id[256];
	char event_type[96];
	char payment_ref[128];      /* pi_…, pay_…, a tx; "" none */
	char charge_ref[128];       /* ch_…; "" none */
	bool has_amount;            /* amount_minor and currency are the event's */
	int64_t amount_minor;
	char currency[4];
	char reason[256];
	char action[512];           /* "refund payment pi_… at stripe: ..." */
	int64_t created_at_unix_ms;
	char resolution[256];       /* "" open; what settled it since */
	int64_t resolved_at_unix_ms;
} pw_anomaly;

#define PW_ANOMALY_PAGE_MAX 100
typedef struct pw_anomaly_page {
	pw_anomaly anomalies[PW_ANOMALY_PAGE_MAX]; /* oldest first (seq order) */
	size_t n;
	bool has_more;              /* go on with after_seq = the last seq */
} pw_anomaly_page;

/* The merchant's anomalies with seq > after_seq (0: from the first), at most
 * limit (1..100; 0: 10), oldest first (out is ~230 KiB: allocate it). */
PW_API pw_status pw_anomalies_list(pw_client *c, const char *api_key, uint64_t after_seq,
    unsigned limit, pw_anomaly_page *out, pw_error *err);

typedef struct pw_status_info {
	char session_id[64];
	char merchant_id[64];
	pw_session_status status;
	pw_payment_status payment_status;
	char payment_provider[16]; /* "" until paid */
	int64_t amount_minor;
	char currency[4];
	int64_t amount_refunded_minor;
	int64_t created_at_unix_ms;
	int64_t paid_at_unix_ms;
	pw_mode mode;
	uint64_t invoice_number;
	char access_link[2048];    /* with the checkout secret: the customer's link once paid */
	int64_t expires_at_unix_ms; /* unpaid past it: expired (reported from that moment) */
	/* With the checkout secret only ("" / 0 otherwise): what the pages show. */
	char merchant_name[256];   /* who sells */
	char plan[64];             /* the plan sold, or "" */
	int64_t credits;           /* the credits sold, or 0 */
	char success_url[2048];
	char cancel_url[2048];
	char provider_checkout_url[2200]; /* with the secret: where to pay (Stripe) */
	char provider_checkout_id[128];   /* with the secret: cs_…, order_… */
	char checkout_provider[16];       /* with the secret: "stripe", "razorpay", "" */
	char provider_key_id[64];         /* with the secret, Razorpay: the public key id */
	char credit_package[40];   /* with credits: the package sold (its code), or "" */
} pw_status_info;

/* With the session's checkout secret (the customer's browser holds it, in
 * the checkout URL): the status plus the access link, the URLs, the merchant
 * name and what is sold. A wrong secret: PW_UNAUTHENTICATED. */
PW_API pw_status pw_checkout_status_get(pw_client *c, const char *session_id,
    const char *checkout_secret, pw_status_info *out, pw_error *err);

/* No authentication: the status only (no access link, no URLs). */
PW_API pw_status pw_status_get(pw_client *c, const char *session_id, pw_status_info *out,
    pw_error *err);

/* ---- webhooks (the bridge) ---- */

typedef struct pw_webhook_result {
	pw_webhook_outcome outcome;
	char session_id[64];
	char event_id[256];
	char event_type[96];
	char reason[256];
	pw_session_status session_status;
	uint64_t invoice_number;
	char access_key_id[64];
	bool anomaly;
} pw_webhook_result;

/* Forwards a provider's webhook exactly as received: header names lower-case,
 * body the raw bytes. The server verifies the signature. */
PW_API pw_status pw_webhook_ingest(pw_client *c, pw_webhook_provider provider,
    const pw_kv *headers, size_t headers_len, const void *body, size_t body_len,
    pw_webhook_result *out, pw_error *err);

/* Test-mode sessions only, with the checkout secret: paywire builds a
 * Stripe-shaped event (a paid checkout, or with fail a declined payment),
 * signs it with its Stripe webhook secret and applies it as a webhook; *out
 * is the outcome. A live session: PW_FAILED_PRECONDITION; no Stripe secret
 * configured on the server: PW_UNAVAILABLE. */
PW_API pw_status pw_test_payment(pw_client *c, const char *session_id,
    const char *checkout_secret, bool fail, pw_webhook_result *out, pw_error *err);

/* ---- the quarantine: verified webhooks paywire could not process (admin key) ---- */

typedef struct pw_quarantined_event {
	uint64_t id;
	char provider[16];          /* "stripe", ... */
	char reason[320];           /* why it could not be processed (latest attempt) */
	int64_t received_at_unix_ms;
	uint32_t attempts;          /* retries that failed */
	int64_t last_attempt_unix_ms;
	uint64_t body_bytes;
} pw_quarantined_event;

#define PW_QUARANTINE_PAGE_MAX 100
typedef struct pw_quarantine_page {
	pw_quarantined_event events[PW_QUARANTINE_PAGE_MAX]; /* oldest first */
	size_t n;
	bool has_more;              /* go on with after_id = the last id */
} pw_quarantine_page;

/* One kept event with its exact body and headers (~1.6 MiB: allocate it). */
typedef struct pw_quarantined_detail {
	pw_quarantined_event event;
	uint8_t body[1024 * 1024]; /* body_bytes of them (PW_WEBHOOK_BODY_BYTES_MAX) */
	size_t headers_len;
	struct {
		char name[128];
		char value[8192];
	} headers[64];
} pw_quarantined_detail;

typedef struct pw_quarantine_retry_result {
	bool retried;               /* applied and removed from the quarantine */
	char reason[320];           /* !retried: why it still fails (kept with it) */
	pw_webhook_result result;   /* retried: what the event did */
} pw_quarantine_retry_result;

/* Kept events with id > after_id (0: from the first), at most limit (1..100;
 * 0: 10), oldest first (out ~36 KiB). */
PW_API pw_status pw_quarantine_list(pw_client *c, const char *admin_key, uint64_t after_id,
    unsigned limit, pw_quarantine_page *out, pw_error *err);
/* One kept event, with its body and headers. PW_NOT_FOUND: no such id. */
PW_API pw_status pw_quarantine_get(pw_client *c, const char *admin_key, uint64_t id,
    pw_quarantined_detail *out, pw_error *err);
/* Verifies (the secrets configured now, at its receipt time) and parses the
 * event again and applies it as a delivery would: out->retried and the
 * entry removed, or out->reason and the entry kept with it. */
PW_API pw_status pw_quarantine_retry(pw_client *c, const char *admin_key, uint64_t id,
    pw_quarantine_retry_result *out, pw_error *err);

/* ---- a merchant's provider credentials (admin key; issue 10) ---- */

/* What paywire calls a provider with for a merchant, as it may be shown:
 * never the secret, only its hint. */
typedef struct pw_provider_credentials {
	char provider[16];          /* "stripe" or "razorpay" */
	pw_mode mode;
	char key_id[64];            /* Razorpay's key id (not secret); Stripe "" */
	char secret_hint[32];       /* "sk_test_AbCd…wxyz" (Stripe), "…wxyz" (Razorpay) */
	int64_t created_at_unix_ms;
	int64_t updated_at_unix_ms; /* last set */
	bool deleted;               /* pw_provider_credentials_delete: these were deleted */
} pw_provider_credentials;

#define PW_PROVIDER_CREDENTIALS_MAX 8
typedef struct pw_provider_credentials_page {
	pw_provider_credentials items[PW_PROVIDER_CREDENTIALS_MAX]; /* (provider, mode) order */
	size_t n;
} pw_provider_credentials_page;

/* Sets (or replaces) merchant_id's credentials at provider (PW_WEBHOOK_STRIPE
 * or PW_WEBHOOK_RAZORPAY) for mode (test or live). Stripe: key_id NULL or ""
 * and secret a secret or restricted key (sk_test_/sk_live_/rk_test_/rk_live_)
 * whose test/live part is mode; Razorpay: key_id its rzp_test_/rzp_live_ key
 * id of mode and secret its key secret. The server stores the secret
 * sealed, never answers or logs it; out gets its hint. The caller wipes its
 * own copy of secret (the library wipes the request it packed).
 * PW_INVALID_ARGUMENT: a rule broken (err says which, never quoting the
 * secret); PW_NOT_FOUND: no such merchant; PW_FAILED_PRECONDITION: live
 * credentials for a test merchant. */
PW_API pw_status pw_provider_credentials_set(pw_client *c, const char *admin_key,
    const char *merchant_id, pw_webhook_provider provider, pw_mode mode, const char *key_id,
    const char *secret, pw_provider_credentials *out, pw_error *err);
/* Deletes them; out names what was deleted (out->deleted). PW_NOT_FOUND:
 * the merchant has none for (provider, mode), or no such merchant. */
PW_API pw_status pw_provider_credentials_delete(pw_client *c, const char *admin_key,
    const char *merchant_id, pw_webhook_provider provider, pw_mode mode,
    pw_provider_credentials *out, pw_error *err);
/* merchant_id's credentials, hints only. PW_NOT_FOUND: no such merchant. */
PW_API pw_status pw_provider_credentials_list(pw_client *c, const char *admin_key,
    const char *merchant_id, pw_provider_credentials_page *out, pw_error *err);

/* ---- a merchant's own rate limits (admin key; issue 11) ---- */

/* How one call class is limited. In pw_merchant_rate_limits_set,
 * PW_RATE_LIMIT_UNCHANGED leaves the class as it is. */
typedef enum pw_rate_limit_kind {
	PW_RATE_LIMIT_UNCHANGED = 0,
	PW_RATE_LIMIT_DEFAULT = 1,   /* the server's --rate-reads/-writes/-provider */
	PW_RATE_LIMIT_CUSTOM = 2,    /* rate per period_s, burst */
	PW_RATE_LIMIT_UNLIMITED = 3,
} pw_rate_limit_kind;

/* The classes, indexes of pw_merchant_rate_limits' arrays. */
#define PW_RATE_CLASS_READS 0
#define PW_RATE_CLASS_WRITES 1
#define PW_RATE_CLASS_PROVIDER 2
#define PW_RATE_CLASSES 3

typedef struct pw_rate_limit {
	pw_rate_limit_kind kind;
	uint32_t rate;        /* CUSTOM: 1..1000000 requests per period_s */
	uint32_t period_s;    /* CUSTOM: 1, 60 or 3600 */
	uint32_t burst;       /* CUSTOM: 1..1000000; in answers: the burst applied */
	int64_t interval_us;  /* answers only: one request per this many µs as applied
	                         (0: unlimited); leave 0 when setting */
} pw_rate_limit;

typedef struct pw_merchant_rate_limits {
	char merchant_id[64];
	pw_rate_limit limits[PW_RATE_CLASSES];          /* the merchant's own (or DEFAULT) */
	pw_rate_limit server_defaults[PW_RATE_CLASSES]; /* what DEFAULT means on this server
	                                                   (CUSTOM or UNLIMITED) */
} pw_merchant_rate_limits;

/* Sets merchant_id's own limits, set[PW_RATE_CLASSES] by class (UNCHANGED:
 * left as it is; at least one other). They apply to the merchant's next
 * request, with that class's bucket full, and survive a restart.
 * PW_INVALID_ARGUMENT: a rule broken (err says which); PW_NOT_FOUND: no
 * such merchant. */
PW_API pw_status pw_merchant_rate_limits_set(pw_client *c, const char *admin_key,
    const char *merchant_id, const pw_rate_limit *set, pw_merchant_rate_limits *out,
    pw_error *err);
/* merchant_id's limits. PW_NOT_FOUND: no such merchant. */
PW_API pw_status pw_merchant_rate_limits_get(pw_client *c, const char *admin_key,
    const char *merchant_id, pw_merchant_rate_limits *out, pw_error *err);

/* ---- customer access ---- */

typedef struct pw_access {
	char session_id[64];
	char merchant_id[64];
	pw_session_status status;
	int64_t amount_minor;
	char currency[4];
	int64_t paid_at_unix_ms;
	uint64_t invoice_number;
	char access_key_id[64];
	char access_key[128];   /* raw key on the first redemption only, else "" */
	bool already_revealed;
	bool entitlement_active;
	char plan[64];
	char customer_email[256];
	char merchant_name[256];
} pw_access;

/* Reveals: the first redemption fills access_key (and the server wipes it). */
PW_API pw_status pw_access_redeem(pw_client *c, const char *session_id, const char *token,
    pw_access *out, pw_error *err);

/* The same receipt without revealing anything (access_key stays ""): what a
 * page shows on GET, so a link checker or a HEAD burns nothing. */
PW_API pw_status pw_access_view(pw_client *c, const char *session_id, const char *token,
    pw_access *out, pw_error *err);

/* The merchant re-issues the access key of its own paid session (the
 * customer lost it): a new key, revealed once through the new access_link;
 * the old key verifies as replaced and the old link opens nothing.
 * PW_FAILED_PRECONDITION: the session sold no key, or it is revoked;
 * PW_NOT_FOUND: no such session for this merchant. */
typedef struct pw_access_reissue {
	char session_id[64];
	char access_link[2048];   /* relative "/access/<id>?token=...": the bridge's public URL + it */
	char key_prefix[32];      /* "ak_test_AbCd" of the new key */
	char entitlement_id[64];
} pw_access_reissue;

PW_API pw_status pw_access_key_reissue(pw_client *c, const char *api_key, const char *session_id,
    pw_access_reissue *out, pw_error *err);

/* Stripe's customer portal for the customer of one of the merchant's
 * sessions (its Stripe customer is recorded from the checkout's
 * completion): paywire creates a portal session with the merchant's
 * credentials for the session's mode. The url is short-lived: send the
 * customer there at once. PW_FAILED_PRECONDITION: no Stripe customer
 * recorded, or no credentials; PW_NOT_FOUND: no such session for this
 * merchant; PW_UNAVAILABLE: Stripe did not answer (retried within the
 * server's deadline); PW_INVALID_ARGUMENT: a bad return_url, or Stripe
 * refused the request (err says why). */
typedef struct pw_portal {
	char url[2200];           /* Stripe's portal page */
	char customer[128];       /* cus_… */
	char session_id[64];
	pw_mode mode;             /* the session's mode */
} pw_portal;

PW_API pw_status pw_portal_create(pw_client *c, const char *api_key, const char *session_id,
    const char *return_url, pw_portal *out, pw_error *err);

/* A refund paywire made at the provider (RefundPayment). */
typedef struct pw_refund {
	char id[64];                  /* "rf_…" */
	char session_id[64];
	int64_t amount_minor;
	char currency[4];
	char state[16];               /* "requested", "pending", "failed" */
	char provider[16];            /* "stripe", "razorpay" */
	char payment_ref[128];        /* pi_… / pay_… */
	char provider_refund_id[128]; /* re_… / rfnd_… once the provider took it */
	char reason[32];
	char failure_reason[256];
	char idempotency_key[256];
	int64_t created_at_unix_ms;
	pw_mode mode;
} pw_refund;

typedef struct pw_refund_params {
	const char *session_id;
	int64_t amount_minor;         /* 0: all that is left */
	const char *idempotency_key;  /* required */
	const char *reason;           /* NULL, "duplicate", "fraudulent", "requested_by_customer" */
	const char *request_id;       /* NULL: generated */
} pw_refund_params;

/* Refunds a paid Stripe or Razorpay session at the provider: recorded,
 * made at the provider (idempotent), recorded again as pending; the session
 * is refunded when the provider's webhook confirms it. The same
 * idempotency key and parameters answer the same refund. PW_FAILED_PRECONDITION:
 * not paid, paid another way, more than is left, no credentials, or the
 * provider refused (err says why; the refund is recorded failed);
 * PW_INVALID_ARGUMENT: bad parameters or the provider refused the request;
 * PW_UNAVAILABLE: no final answer from the provider: send the same request
 * again (the same request_id) to finish it. */
PW_API pw_status pw_payment_refund(pw_client *c, const char *api_key, const pw_refund_params *p,
    pw_refund *out, pw_error *err);

/* The merchant's Stripe Price for a plan (issue 10): Stripe checkouts paywire
 * creates for sessions selling the plan then sell this Price instead of
 * price_data. price_id "" deletes (PW_NOT_FOUND when there was none); mode
 * PW_MODE_UNSPECIFIED: the key's. A test key sets test mode only. */
typedef struct pw_plan_price {
	char plan[72];
	pw_mode mode;
	char stripe_price_id[128];    /* "" once deleted */
} pw_plan_price;

PW_API pw_status pw_plan_price_set(pw_client *c, const char *api_key, const char *plan,
    pw_mode mode, const char *stripe_price_id, pw_plan_price *out, pw_error *err);

/* ---- notifications to merchants (issue 11, docs/NOTIFY.md; merchant key) ----
 * Endpoints receive Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature) for the event types they want; at least once, retried
 * on a schedule of ~3 days, then dead letters. */

typedef enum pw_notify_kind {
	PW_NOTIFY_KIND_UNSPECIFIED = 0, /* WEBHOOK */
	PW_NOTIFY_KIND_WEBHOOK = 1,
	PW_NOTIFY_KIND_EMAIL = 2,       /* not supported yet: INVALID_ARGUMENT */
	PW_NOTIFY_KIND_TELEGRAM = 3,    /* not supported yet: INVALID_ARGUMENT */
} pw_notify_kind;

#define PW_ENDPOINT_TYPES_MAX 16
#define PW_ENDPOINTS_MAX 16

typedef struct pw_endpoint {
	char endpoint_id[64];                       /* ep_… */
	pw_notify_kind kind;
	char url[1025];
	char event_types[PW_ENDPOINT_TYPES_MAX][33]; /* none: every type */
	size_t n_event_types;
	char description[257];
	bool enabled;
	char disabled_reason[128];
	int64_t disabled_at_unix_ms;
	int64_t failing_since_unix_ms;              /* failing since then; 0: not failing */
	int64_t created_at_unix_ms;
	int64_t prev_secret_expires_at_unix_ms;     /* a rotation: both signatures until then */
} pw_endpoint;

/* create and rotate: the secret (whsec_…), shown this once. */
typedef struct pw_endpoint_secret {
	pw_endpoint endpoint;
	char secret[64];
} pw_endpoint_secret;

typedef struct pw_endpoint_params {
	pw_notify_kind kind;                 /* 0: WEBHOOK */
	const char *url;                     /* https:// */
	const char *const *event_types;      /* n_event_types of them; 0: every type */
	size_t n_event_types;
	const char *description;             /* may be NULL */
} pw_endpoint_params;

typedef struct pw_endpoint_changes {
	const char *endpoint_id;
	int enable;                          /* 0 keep, 1 enable, 2 disable */
	bool set_event_types;                /* replace the types with these (none: all) */
	const char *const *event_types;
	size_t n_event_types;
	bool set_description;
	const char *description;
} pw_endpoint_changes;

typedef struct pw_endpoint_list {
	pw_endpoint endpoints[PW_ENDPOINTS_MAX];
	size_t n;
} pw_endpoint_list;

typedef struct pw_notify_message {
	char msg_id[64];                 /* msg_…: the webhook-id */
	char endpoint_id[64];
	char event_type[33];
	uint32_t attempts;
	int64_t next_attempt_at_unix_ms; /* in the outbox */
	int64_t created_at_unix_ms;
	int64_t dead_at_unix_ms;         /* a dead letter: when it gave up */
	int last_status;                 /* the last attempt's HTTP status; 0: none */
	char last_error[200];
	bool dead;
	char payload[4096];              /* the JSON body sent */
} pw_notify_message;

#define PW_NOTIFY_PAGE_MAX 100
typedef struct pw_notify_page {
	pw_notify_message messages[PW_NOTIFY_PAGE_MAX];
	size_t n;
	bool has_more;
} pw_notify_page;

typedef struct pw_notify_replay {
	uint32_t enqueued;               /* messages put back in the outbox */
	uint32_t examined;               /* events read */
	bool has_more;                   /* go on from next_since_unix_ms */
	int64_t next_since_unix_ms;
} pw_notify_replay;

PW_API pw_status pw_endpoint_create(pw_client *c, const char *api_key,
    const pw_endpoint_params *p, pw_endpoint_secret *out, pw_error *err);
PW_API pw_status pw_endpoint_list_get(pw_client *c, const char *api_key, pw_endpoint_list *out,
    pw_error *err);
PW_API pw_status pw_endpoint_update(pw_client *c, const char *api_key,
    const pw_endpoint_changes *p, pw_endpoint *out, pw_error *err);
PW_API pw_status pw_endpoint_delete(pw_client *c, const char *api_key, const char *endpoint_id,
    pw_endpoint *out, pw_error *err);
/* grace_ms: how long the old secret keeps signing too (0: 24 h; at most 7 days). */
PW_API pw_status pw_endpoint_rotate(pw_client *c, const char *api_key, const char *endpoint_id,
    int64_t grace_ms, pw_endpoint_secret *out, pw_error *err);
/* The outbox (dead false) or the dead letters, of one endpoint or all (NULL);
 * limit 0: 100. out is large (~450 KiB): allocate it. */
PW_API pw_status pw_notify_list(pw_client *c, const char *api_key, bool dead,
    const char *endpoint_id, unsigned limit, pw_notify_page *out, pw_error *err);
/* A dead letter back in the outbox, due now. */
PW_API pw_status pw_notify_retry(pw_client *c, const char *api_key, const char *msg_id,
    pw_notify_message *out, pw_error *err);
/* Events since since_unix_ms sent again, each with its first webhook-id. */
PW_API pw_status pw_notify_replay_since(pw_client *c, const char *api_key, int64_t since_unix_ms,
    const char *endpoint_id, pw_notify_replay *out, pw_error *err);

/* What the merchant learns of a customer's access key (ak_...). */
typedef struct pw_access_check {
	bool valid;                 /* it grants its plan now */
	char reason[160];           /* why not ("revoked: the payment was refunded",
	                               "unknown access key"); "" when valid */
	char entitlement_id[64];
	char session_id[64];
	char customer[256];
	char plan[72];
	int64_t granted_at_unix_ms;
	int64_t revoked_at_unix_ms;
	int64_t until_unix_ms;      /* subscription: end of the paid period; 0: no end
	                               (a one-time purchase) or not reported yet */
	char state[16];             /* "active", "past_due", "lapsed", "canceled", "revoked";
	                               "" for an unknown key */
} pw_access_check;

/* Merchant key: is access_key one of this merchant's customers' valid keys?
 * An unknown key and another merchant's answer alike (PW_OK, valid false). */
PW_API pw_status pw_access_key_verify(pw_client *c, const char *api_key, const char *access_key,
    pw_access_check *out, pw_error *err);

/* ---- a customer's entitlements (merchant API key) ---- */

/* At most this many of an entitlement's holding sessions are copied
 * (n_sessions counts them all). */
#define PW_ENTITLEMENT_SESSIONS_MAX 16

typedef struct pw_entitlement {
	char id[64];                /* "ent_..." */
	char plan[72];
	char state[16];             /* "active", "past_due", "lapsed", "canceled", "revoked" */
	bool active;                /* the key grants the plan now */
	bool subscription;
	int64_t created_at_unix_ms;
	int64_t current_period_end_unix_ms; /* subscription: end of the paid period; 0: none */
	int64_t revoked_at_unix_ms; /* 0: not revoked or canceled */
	char key_prefix[16];        /* "ak_test_AbCd" (never the key) */
	char customer[256];
	size_t n_sessions;          /* the paid sessions holding it */
	char session_ids[PW_ENTITLEMENT_SESSIONS_MAX][64]; /* the first of them */
} pw_entitlement;

#define PW_ENTITLEMENT_PAGE_MAX 100
typedef struct pw_entitlement_page {
	pw_entitlement entitlements[PW_ENTITLEMENT_PAGE_MAX]; /* in id order */
	size_t n;
	bool has_more;              /* go on with starting_after = the last id */
} pw_entitlement_page;

/* The merchant's entitlements of one customer (its customer_ref, else the
 * e-mail its sessions carried), revoked and canceled ones included, at most
 * limit (1..100; 0: 10) after starting_after (NULL or "": from the first).
 * An unknown customer, or another merchant's: PW_OK with none. customer_ref
 * missing: PW_INVALID_ARGUMENT. out is ~170 KiB: allocate it. */
PW_API pw_status pw_entitlements_get(pw_client *c, const char *api_key, const char *customer_ref,
    const char *starting_after, unsigned limit, pw_entitlement_page *out, pw_error *err);

/* ---- audit (admin key) ---- */

typedef struct pw_audit_report {
	bool ok;
	uint64_t records;
	uint64_t last_seq;
	char head_hash_hex[65];
	uint64_t first_bad_seq;
	char detail[256];
} pw_audit_report;

PW_API pw_status pw_audit_verify(pw_client *c, const char *admin_key, pw_audit_report *out,
    pw_error *err);

/* ---- raw ---- */

/* Sends request bytes as they are and returns the raw reply (malloc'd, free
 * with pw_free_reply). For tools and tests that speak protobuf themselves. */
PW_API pw_status pw_client_call_raw(pw_client *c, const void *req, size_t req_len,
    void **reply, size_t *reply_len, pw_error *err);
PW_API void pw_free_reply(void *reply);

#ifdef __cplusplus
}
#endif
#endif
