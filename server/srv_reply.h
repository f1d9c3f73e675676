/*
 * srv_reply.h - the Response of every RPC call, and the copy of it kept for
 * retries.
 *
 * OWNS
 * - srv_result: what a call's read or apply produced, in the store's types
 *   (store records, store.h results, a raw key shown once), held until its
 *   Response is packed.
 * - the reply builders, one per call (srv_reply_<call>, the `reply` of its
 *   row in the call table, srv_calls.h): each maps a srv_result into a
 *   Response's result through srv_map.h (the one wire <-> store mapping),
 *   copying no string.
 * - packing a Response with its request_id and Status{code, message}.
 * - the two forms in which a reply holding a secret is kept for retries:
 *   sealed (crypto_secretbox) when it carries a raw API key, redacted when
 *   it reveals a raw access key once.
 * It depends on the wire types, the store's types, srv_map and libsodium
 * only. The call table and dispatch depend on it, never the other way round.
 *
 * THREADS
 * No globals: any thread, on distinct objects.
 *
 * LIFETIMES
 * A srv_reply_msg points into the srv_result it was built from: pack it
 * before srv_result_fini. Packed buffers (*out) are malloc'd and belong to
 * the caller, who frees them with srv_reply_free (they may hold a raw key).
 * Out of memory is reported (false, or PW_UNAVAILABLE), never fatal.
 *
 * SEALED FORM
 *   OFFSET  SIZE  MEANING
 *   0       1     0x00: a packed Response never starts with it (its first
 *                 byte is a field tag, and field number 0 does not exist)
 *   1       24    crypto_secretbox nonce (random)
 *   25      n+16  crypto_secretbox_easy of the packed Response (n bytes)
 * key = BLAKE2b-256(key = the server's seal key, scope 0x00 request_id), so a
 * sealed reply opens only for the scope and request_id it was stored under.
 */
#ifndef SRV_REPLY_H
#define SRV_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <paywire/status.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"
#include "pw_event.h"
#include "srv_map.h"
#include "store.h"

/* Longest raw API key store_merchant_create writes, with its NUL. */
#define SRV_RAW_KEY_BYTES 128
/* Merchant ids, with their NUL. */
#define SRV_MERCHANT_ID_BYTES 64
/* Bytes of the key srv_reply_seal takes. */
#define SRV_SEAL_KEY_BYTES 32

/* What a call produced. Each call sets only its own members (the row of the
 * call table says which builder reads them); the rest stay empty. */
/* test_payment: the Stripe-shaped event paywire builds (well under 2 KiB:
 * fixed keys, ids of at most 64 bytes, an email of PW_EMAIL_BYTES_MAX) and
 * its "t=<unix>,v1=<64 hex>" signature header. */
#define SRV_TEST_EVENT_BYTES (2048 + PW_EMAIL_BYTES_MAX)
#define SRV_TEST_SIG_BYTES 96

struct srv_notify_res; /* srv_notify_calls.c */
/* Frees what a notify call produced (wiping an endpoint secret). */
void srv_notify_res_free(struct srv_notify_res *r);

typedef struct srv_result {
	bool dirty;                                   /* a row may have written here since the
	                                                 last srv_result_fini (srv_result_touch) */
	struct srv_notify_res *notify;                /* the notify calls' (owned, srv_notify.h) */
	Paywire__Store__V1__MerchantRecord *merchant; /* create_merchant: the new merchant (owned) */
	char api_key[SRV_RAW_KEY_BYTES];              /* create_merchant: its raw key, shown once (wiped) */
	Paywire__Store__V1__SessionRecord *session;   /* create_session, get_status: the record (owned) */
	char merchant_id[SRV_MERCHANT_ID_BYTES];      /* revoke_api_key: the revoked key's merchant */
	store_webhook_result webhook;                 /* ingest_webhook: what the event did */
	const pw_event *event;                        /* ingest_webhook: the event applied (not owned) */
	store_access_receipt redeem;                  /* redeem_access: the receipt (its key wiped) */
	store_audit_report audit;                     /* verify_audit: the state of the chain */
	Paywire__Store__V1__CreditTxnRecord *credit;  /* deduct_credits: the entry (owned) */
	Paywire__Store__V1__CreditLedgerRecord *ledger; /* get_balance: the ledger (owned) */
	Paywire__Store__V1__CreditTxnRecord **credits; /* list_credit_transactions: a page (owned) */
	size_t n_credits;                             /* ... of this many entries */
	bool has_more;                                /* ... and older ones remain */
	Paywire__Store__V1__ApiKeyRecord *key;        /* create/roll_api_key: the new key (owned);
	                                                 its raw value is api_key above */
	Paywire__Store__V1__ApiKeyRecord *rolled;     /* roll_api_key: the old key after it (owned) */
	Paywire__Store__V1__ApiKeyRecord **keys;      /* list_api_keys (owned) */
	size_t n_keys;                                /* ... this many */
	int64_t now_ms;                               /* API keys: when their state was read */
	store_access_check access;                    /* verify_access_key */
	Paywire__Store__V1__SessionRecord **sessions; /* list_sessions (owned) */
	size_t n_sessions;                            /* ... this many */
	srv_map_session_buf *session_bufs;            /* ... their wire form (owned, n_sessions) */
	char next[PW_SESSION_ID_BYTES_MAX];           /* list_sessions: where to go on */
	Paywire__Store__V1__InvoiceRecord *invoice;   /* get_invoice (owned) */
	Paywire__Store__V1__InvoiceRecord **invoices; /* list_invoices (owned) */
	size_t n_invoices;                            /* ... this many */
	Paywire__Store__V1__AuditRecord **events;     /* list_events (owned) */
	size_t n_events;                              /* ... this many */
	uint64_t next_after;                          /* ... where to go on */
	char checkout_secret[PW_CHECKOUT_SECRET_BYTES + 1]; /* create/get_session: the session's */
	char checkout_url[PW_URL_BYTES_MAX + PW_CHECKOUT_SECRET_BYTES + 16]; /* ... its url with it */
	bool customer;                                /* get_status: the checkout secret matched */
	char merchant_name[PW_NAME_BYTES_MAX + 1];    /* get_status: who sells */
	char provider_key_id[64];                     /* get_status: Razorpay's public key id */
	char key_prefix[32];                          /* reissue_access_key: the new key's prefix */
	Paywire__Store__V1__RefundRecord *refund;     /* refund_payment: the refund (owned) */
	Paywire__V1__Mode plan_mode;                  /* set_plan_price: the mode set */
	char plan_price_plan[PW_PLAN_BYTES_MAX + 1];  /* ... the plan */
	char plan_price_id[PW_PROVIDER_ID_BYTES_MAX + 1]; /* ... the price ("" deleted) */
	char portal_customer[PW_PROVIDER_ID_BYTES_MAX + 1]; /* create_portal_session: cus_… */
	char portal_session_id[PW_SESSION_ID_BYTES_MAX + 1]; /* ... its session */
	Paywire__Store__V1__Mode portal_mode;         /* ... the session's mode */
	char portal_url[PW_URL_BYTES_MAX + 1];        /* ... Stripe's portal page, once made */
	char test_body[SRV_TEST_EVENT_BYTES];         /* test_payment: the event built */
	char test_sig[SRV_TEST_SIG_BYTES];            /* ... its stripe-signature (a MAC: wiped) */
	Paywire__Store__V1__EntitlementRecord **entitlements; /* get_entitlements (owned) */
	size_t n_entitlements;                        /* ... this many */
	Paywire__Store__V1__AnomalyRecord **anomalies; /* list_anomalies (owned) */
	size_t n_anomalies;                           /* ... this many */
	Paywire__Store__V1__QuarantinedEventRecord **quarantine; /* list/get_quarantined_event(s) (owned) */
	size_t n_quarantine;                          /* ... this many */
	bool q_retried;                               /* retry_quarantined_event: applied, removed */
	char q_reason[320];                           /* ... else why it still fails */
	Paywire__Store__V1__ProviderCredentialsRecord **creds; /* set/list_provider_credentials:
	                                                 hints only (owned) */
	size_t n_creds;                               /* ... this many (set: 1) */
	bool creds_deleted;                           /* set_provider_credentials: a delete */
	int64_t rl_def_interval_us[3];                /* set/get_merchant_rate_limits: the server's
	                                                 defaults per class (0: unlimited) */
	uint32_t rl_def_burst[3];                     /* ... their bursts */
	Paywire__Store__V1__CreditPackageRecord *package; /* create/archive_credit_package (owned) */
	bool package_created;                         /* create_credit_package: new (not a replay) */
	Paywire__Store__V1__CreditPackageRecord **packages; /* list_credit_packages (owned) */
	size_t n_packages;                            /* ... this many */
} srv_result;

/* A Response being built, with room for its result sub-message, mapped from
 * a srv_result (srv_map.h). */
typedef struct srv_reply_msg {
	Paywire__V1__Response resp;                /* what gets packed */
	union {
		Paywire__V1__CreateMerchantResponse create_merchant; /* points into a srv_result */
		struct {
			Paywire__V1__CreateSessionResponse resp;         /* -> session.session */
			srv_map_session_buf session;                     /* points into a srv_result */
		} create_session;
		Paywire__V1__GetStatusResponse get_status;           /* points into a srv_result */
		Paywire__V1__IngestWebhookResponse ingest_webhook;   /* points into a srv_result */
		Paywire__V1__RevokeApiKeyResponse revoke_api_key;    /* points into a srv_result */
		Paywire__V1__VerifyAuditResponse verify_audit;       /* points into a srv_result */
		Paywire__V1__RedeemAccessResponse redeem_access;     /* points into a srv_result */
		Paywire__V1__ReissueAccessKeyResponse reissue_access_key; /* points into a srv_result */
		Paywire__V1__CreatePortalSessionResponse create_portal_session; /* into a srv_result */
		Paywire__V1__SetPlanPriceResponse set_plan_price; /* points into the request */
		struct {
			Paywire__V1__RefundPaymentResponse resp;         /* -> refund */
			Paywire__V1__Refund refund;                      /* points into a srv_result */
		} refund_payment;
		struct {
			Paywire__V1__TestPaymentResponse resp;           /* -> outcome */
			Paywire__V1__IngestWebhookResponse outcome;      /* points into a srv_result */
		} test_payment;
		struct {
			Paywire__V1__CancelSessionResponse resp;         /* -> session.session */
			srv_map_session_buf session;                     /* points into a srv_result */
		} cancel_session;
		struct {
			Paywire__V1__CreateApiKeyResponse resp;          /* -> key */
			Paywire__V1__ApiKeyInfo key;                     /* points into a srv_result */
		} create_api_key;
		struct {
			Paywire__V1__RollApiKeyResponse resp;            /* -> key, rolled */
			Paywire__V1__ApiKeyInfo key;                     /* points into a srv_result */
			Paywire__V1__ApiKeyInfo rolled;
		} roll_api_key;
		struct {
			Paywire__V1__ListApiKeysResponse resp;           /* -> keyp */
			Paywire__V1__ApiKeyInfo key[PW_LIST_LIMIT_MAX];  /* point into a srv_result */
			Paywire__V1__ApiKeyInfo *keyp[PW_LIST_LIMIT_MAX];
		} list_api_keys;
		struct {
			Paywire__V1__DeductCreditsResponse resp;         /* -> txn */
			Paywire__V1__CreditTransaction txn;              /* points into a srv_result */
		} deduct_credits;
		Paywire__V1__GetBalanceResponse get_balance;         /* points into a srv_result */
		Paywire__V1__VerifyAccessKeyResponse verify_access_key; /* points into a srv_result */
		struct {
			Paywire__V1__GetSessionResponse resp;            /* -> detail */
			Paywire__V1__SessionDetail detail;               /* -> session.session, refs */
			srv_map_session_buf session;                     /* points into a srv_result */
			Paywire__V1__ProviderRef refs[PW_SESSION_REFS_MAX];
			Paywire__V1__ProviderRef *refp[PW_SESSION_REFS_MAX];
		} get_session;
		struct {
			Paywire__V1__ListSessionsResponse resp;          /* -> sessp */
			Paywire__V1__Session *sessp[PW_LIST_LIMIT_MAX];  /* -> res->session_bufs */
		} list_sessions;
		struct {
			Paywire__V1__ListEventsResponse resp;            /* -> evp */
			Paywire__V1__Event ev[PW_LIST_LIMIT_MAX];        /* point into a srv_result */
			Paywire__V1__Event *evp[PW_LIST_LIMIT_MAX];
		} list_events;
		struct {
			Paywire__V1__ListAnomaliesResponse resp;         /* -> anp */
			Paywire__V1__Anomaly an[PW_LIST_LIMIT_MAX];      /* point into a srv_result */
			Paywire__V1__Anomaly *anp[PW_LIST_LIMIT_MAX];
		} list_anomalies;
		struct {
			Paywire__V1__CreditPackageCreateResponse resp;   /* -> pkg */
			Paywire__V1__CreditPackage pkg;                  /* points into a srv_result */
		} create_credit_package;
		struct {
			Paywire__V1__CreditPackageArchiveResponse resp;  /* -> pkg */
			Paywire__V1__CreditPackage pkg;                  /* points into a srv_result */
		} archive_credit_package;
		struct {
			Paywire__V1__CreditPackageListResponse resp;     /* -> pp */
			Paywire__V1__CreditPackage p[PW_LIST_LIMIT_MAX]; /* point into a srv_result */
			Paywire__V1__CreditPackage *pp[PW_LIST_LIMIT_MAX];
		} list_credit_packages;
		struct {
			Paywire__V1__ListQuarantinedEventsResponse resp;        /* -> qp */
			Paywire__V1__QuarantinedEvent q[PW_LIST_LIMIT_MAX];     /* point into a srv_result */
			Paywire__V1__QuarantinedEvent *qp[PW_LIST_LIMIT_MAX];
		} list_quarantined_events;
		struct {
			Paywire__V1__GetQuarantinedEventResponse resp;          /* -> q */
			Paywire__V1__QuarantinedEvent q;                        /* points into a srv_result */
			Paywire__V1__QuarantineHeader h[PW_WEBHOOK_HEADERS_MAX];
			Paywire__V1__QuarantineHeader *hp[PW_WEBHOOK_HEADERS_MAX];
		} get_quarantined_event;
		struct {
			Paywire__V1__RetryQuarantinedEventResponse resp;        /* -> result */
			Paywire__V1__IngestWebhookResponse result;              /* points into a srv_result */
		} retry_quarantined_event;
		struct {
			Paywire__V1__SetProviderCredentialsResponse resp; /* -> info */
			Paywire__V1__ProviderCredentialsInfo info;       /* points into a srv_result */
		} set_provider_credentials;
		struct {
			Paywire__V1__ListProviderCredentialsResponse resp; /* -> infop */
			Paywire__V1__ProviderCredentialsInfo info[PW_PROVIDER_COUNT * 2]; /* into a srv_result */
			Paywire__V1__ProviderCredentialsInfo *infop[PW_PROVIDER_COUNT * 2];
		} list_provider_credentials;
		struct {
			Paywire__V1__SetMerchantRateLimitsResponse set;  /* -> limits, defaults */
			Paywire__V1__GetMerchantRateLimitsResponse get;  /* -> limits, defaults */
			Paywire__V1__MerchantRateLimits limits;
			Paywire__V1__MerchantRateLimits defaults;
			Paywire__V1__MerchantRateLimit l[3];
			Paywire__V1__MerchantRateLimit d[3];
		} merchant_rate_limits;
		struct {
			Paywire__V1__GetInvoiceResponse resp;            /* -> inv */
			Paywire__V1__Invoice inv;                        /* points into a srv_result */
		} get_invoice;
		struct {
			Paywire__V1__ListInvoicesResponse resp;          /* -> invp */
			Paywire__V1__Invoice inv[PW_LIST_LIMIT_MAX];     /* point into a srv_result */
			Paywire__V1__Invoice *invp[PW_LIST_LIMIT_MAX];
		} list_invoices;
		struct {
			Paywire__V1__ListCreditTransactionsResponse resp; /* -> txnp */
			Paywire__V1__CreditTransaction txn[PW_LIST_LIMIT_MAX]; /* point into a srv_result */
			Paywire__V1__CreditTransaction *txnp[PW_LIST_LIMIT_MAX];
		} list_credit_transactions;
		struct {
			Paywire__V1__GetEntitlementsResponse resp;       /* -> entp */
			Paywire__V1__Entitlement ent[PW_LIST_LIMIT_MAX]; /* point into a srv_result */
			Paywire__V1__Entitlement *entp[PW_LIST_LIMIT_MAX];
		} get_entitlements;
	} u;                                       /* the one resp.result points at, if any */
} srv_reply_msg;

/* A call's reply builder: sets m->resp's result (result_case and the oneof
 * member) from res. m was set up by srv_reply_msg_init; res holds what the
 * call's read or apply returned PW_OK with. Cannot fail. A builder that
 * fills a member of m->u starts with SRV_REPLY_USE(m, member). */
typedef void (*srv_reply_fn)(srv_reply_msg *m, srv_result *res);

/* A call's redaction: rewrites res, in place, into what may be kept on disk
 * for retries, wiping the secret. Returns true when res changed (build the
 * reply again from res, with a fresh srv_reply_msg, and pack that for the
 * kept copy), false when it held nothing secret. */
typedef bool (*srv_redact_fn)(srv_result *res);

/* Empties res (all members NULL, zero or ""). */
void srv_result_init(srv_result *res);

/* Marks res as written to. Called before a row's read, peek, apply, record
 * or record_failure runs (srv_calls.c, srv_apply.c record_cb): the only
 * code that fills a srv_result. */
void srv_result_touch(srv_result *res);

/* Wipes the raw keys in res, frees what it owns and empties it. Safe on an
 * empty or already finished res: one not touched since its last fini is
 * left as it is (a call finishes its result once packed, then again when
 * the call is reset; the second would wipe 10 KB of zeros). Test builds
 * check that such a res is all zeros. */
void srv_result_fini(srv_result *res);

/* An empty Response (no request_id, status or result yet). m->u is left as
 * it was: it is a union of every call's reply, 15 KB mostly of list pages,
 * and the builder zeroes the one member it fills (SRV_REPLY_USE). Test
 * builds fill m->u with a pattern first, so a builder that forgot packs
 * garbage pointers and fails its test. */
void srv_reply_msg_init(srv_reply_msg *m);

/* The member of m->u a builder fills, zeroed before it does. */
#define SRV_REPLY_USE(m, member) memset(&(m)->u.member, 0, sizeof((m)->u.member))

/* The reply builders, one per call; see srv_reply_fn. */
void srv_reply_create_merchant(srv_reply_msg *m, srv_result *res);
void srv_reply_create_session(srv_reply_msg *m, srv_result *res);
void srv_reply_get_status(srv_reply_msg *m, srv_result *res);
void srv_reply_ingest_webhook(srv_reply_msg *m, srv_result *res);
void srv_reply_revoke_api_key(srv_reply_msg *m, srv_result *res);
void srv_reply_verify_audit(srv_reply_msg *m, srv_result *res);
void srv_reply_redeem_access(srv_reply_msg *m, srv_result *res);
void srv_reply_cancel_session(srv_reply_msg *m, srv_result *res);
void srv_reply_deduct_credits(srv_reply_msg *m, srv_result *res);
void srv_reply_verify_access_key(srv_reply_msg *m, srv_result *res);
void srv_reply_get_session(srv_reply_msg *m, srv_result *res);
void srv_reply_reissue_access_key(srv_reply_msg *m, srv_result *res);
void srv_reply_create_portal_session(srv_reply_msg *m, srv_result *res);
void srv_reply_refund_payment(srv_reply_msg *m, srv_result *res);
void srv_reply_test_payment(srv_reply_msg *m, srv_result *res);
void srv_reply_list_sessions(srv_reply_msg *m, srv_result *res);
void srv_reply_get_entitlements(srv_reply_msg *m, srv_result *res);
void srv_reply_get_invoice(srv_reply_msg *m, srv_result *res);
void srv_reply_list_invoices(srv_reply_msg *m, srv_result *res);
void srv_reply_list_events(srv_reply_msg *m, srv_result *res);
void srv_reply_list_anomalies(srv_reply_msg *m, srv_result *res);
void srv_reply_create_credit_package(srv_reply_msg *m, srv_result *res);
void srv_reply_archive_credit_package(srv_reply_msg *m, srv_result *res);
void srv_reply_list_credit_packages(srv_reply_msg *m, srv_result *res);
void srv_reply_list_quarantined_events(srv_reply_msg *m, srv_result *res);
void srv_reply_get_quarantined_event(srv_reply_msg *m, srv_result *res);
void srv_reply_retry_quarantined_event(srv_reply_msg *m, srv_result *res);
void srv_reply_create_api_key(srv_reply_msg *m, srv_result *res);
void srv_reply_roll_api_key(srv_reply_msg *m, srv_result *res);
void srv_reply_list_api_keys(srv_reply_msg *m, srv_result *res);
void srv_reply_get_balance(srv_reply_msg *m, srv_result *res);
void srv_reply_set_provider_credentials(srv_reply_msg *m, srv_result *res);
void srv_reply_list_provider_credentials(srv_reply_msg *m, srv_result *res);
void srv_reply_set_merchant_rate_limits(srv_reply_msg *m, srv_result *res);
void srv_reply_get_merchant_rate_limits(srv_reply_msg *m, srv_result *res);
void srv_reply_list_credit_transactions(srv_reply_msg *m, srv_result *res);

/* redeem_access's srv_redact_fn: when res->redeem reveals a raw access key,
 * wipes it (access_key becomes "") and sets already_revealed, so the copy
 * kept for retries never holds the key. A message built before still points
 * at the wiped (empty) key, but not at the new already_revealed: build it
 * again. */
bool srv_reply_redact_redeem_access(srv_result *res);

/* Packs resp with request_id ("" for NULL) and Status{pw_status_wire(st),
 * msg ("" for NULL)} into a malloc'd buffer (*out, *out_len). resp->status
 * points at the caller's stack during the call and is NULL again after it.
 * False: out of memory, *out untouched. */
bool srv_reply_pack(Paywire__V1__Response *resp, const char *request_id, pw_status st,
    const char *msg, uint8_t **out, size_t *out_len);

/* Packs a Response without a result: {request_id, Status{pw_status_wire(st),
 * msg}}. For replies that carry only a status, and for transports that must
 * answer without a srv_call. False: out of memory. */
bool srv_reply_error_pack(const char *request_id, pw_status st, const char *msg, uint8_t **out,
    size_t *out_len);
/* The same with Status.retry_after_ms (a rate limit's refusal). */
bool srv_reply_error_pack_retry(const char *request_id, pw_status st, const char *msg,
    int64_t retry_after_ms, uint8_t **out, size_t *out_len);

/* Wipes (a reply may carry a raw API or access key) and frees *p; then *p =
 * NULL, *len = 0. Nothing for *p == NULL. */
void srv_reply_free(uint8_t **p, size_t *len);

/* True when buf[0..len) is in the sealed form (see the top comment). */
bool srv_reply_is_sealed(const uint8_t *buf, size_t len);

/* Seals in[0..in_len) (a packed Response) for (scope, request_id) under key
 * into a malloc'd buffer (*out, *out_len). False: out of memory, *out
 * untouched. */
bool srv_reply_seal(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope,
    const char *request_id, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);

/* Opens what srv_reply_seal made for (scope, request_id) under key into a
 * malloc'd buffer (*out, *out_len). PW_OK; PW_INTERNAL when in is too short
 * or does not open (sealed under another key: the admin key changed);
 * PW_UNAVAILABLE when out of memory. On error *out is untouched and why says
 * which. */
pw_status srv_reply_unseal(const uint8_t key[SRV_SEAL_KEY_BYTES], const char *scope,
    const char *request_id, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
    char *why, size_t why_size) PW_WUR;

#endif
