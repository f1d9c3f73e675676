/*
 * srv_map.h - the one place where the wire contract meets the store's types.
 *
 * OWNS
 * Every translation between paywire.v1 (proto/paywire/v1/paywire.proto: what
 * callers send and receive) and what the store takes and returns (store.h:
 * paywire.store.v1 records from proto/paywire/store/v1/store.proto, and the
 * plain C params and results of store.h). Nothing else in the server copies
 * a field from one to the other, and nothing under store/ sees a wire type.
 * - Enums, both directions, for each enum the two contracts share: Mode,
 *   SessionStatus, PaymentStatus, Provider, FulfillmentKind, WebhookOutcome.
 *   One row list per enum (srv_map.c) generates a _Static_assert per value
 *   (the numbers agree, so disk and wire keep meaning the same) and a switch
 *   without `default:` over each side's enum, so a value added to one
 *   .proto and not to the list fails the build (-Wswitch). A number neither
 *   enum names is kept as the number: proto3 enums are open, and test
 *   builds store test providers (values 200..255) that no .proto names.
 * - Requests into store parameters (create_session).
 * - Store records and results into wire messages (Session, the replies of
 *   create_merchant, get_status, ingest_webhook, verify_audit,
 *   redeem_access).
 *
 * THREADS
 * Pure functions, no globals: any thread, on distinct objects.
 *
 * LIFETIMES
 * Nothing is copied or allocated: a mapped message points into what it was
 * mapped from (store record, store result, request, and the caller's
 * srv_map_session_buf), so it must be packed while those live. Mapped
 * wire messages are only read (packed); their non-const string pointers
 * are protobuf-c's types, not permission to write.
 */
#ifndef SRV_MAP_H
#define SRV_MAP_H

#include <stdbool.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_event.h"
#include "pw_limits.h"
#include "store.h"

/* ---- enums (store value <-> wire value) ---- */

Paywire__V1__Mode srv_map_mode_to_wire(Paywire__Store__V1__Mode v);
Paywire__Store__V1__Mode srv_map_mode_to_store(Paywire__V1__Mode v);
Paywire__V1__SessionStatus srv_map_session_status_to_wire(Paywire__Store__V1__SessionStatus v);
Paywire__Store__V1__SessionStatus srv_map_session_status_to_store(Paywire__V1__SessionStatus v);
Paywire__V1__PaymentStatus srv_map_payment_status_to_wire(Paywire__Store__V1__PaymentStatus v);
Paywire__Store__V1__PaymentStatus srv_map_payment_status_to_store(Paywire__V1__PaymentStatus v);
Paywire__V1__Provider srv_map_provider_to_wire(Paywire__Store__V1__Provider v);
Paywire__V1__RefundState srv_map_refund_state_to_wire(Paywire__Store__V1__RefundState v);
Paywire__Store__V1__RefundState srv_map_refund_state_to_store(Paywire__V1__RefundState v);
Paywire__V1__ProviderCheckoutState srv_map_provider_checkout_state_to_wire(
    Paywire__Store__V1__ProviderCheckoutState v);
Paywire__Store__V1__ProviderCheckoutState srv_map_provider_checkout_state_to_store(
    Paywire__V1__ProviderCheckoutState v);
Paywire__Store__V1__Provider srv_map_provider_to_store(Paywire__V1__Provider v);
Paywire__V1__FulfillmentKind srv_map_fulfillment_kind_to_wire(
    Paywire__Store__V1__FulfillmentKind v);
Paywire__Store__V1__FulfillmentKind srv_map_fulfillment_kind_to_store(
    Paywire__V1__FulfillmentKind v);
Paywire__V1__WebhookOutcome srv_map_webhook_outcome_to_wire(Paywire__Store__V1__WebhookOutcome v);
Paywire__Store__V1__WebhookOutcome srv_map_webhook_outcome_to_store(Paywire__V1__WebhookOutcome v);
Paywire__V1__CreditTxnKind srv_map_credit_txn_kind_to_wire(Paywire__Store__V1__CreditTxnKind v);
Paywire__Store__V1__CreditTxnKind srv_map_credit_txn_kind_to_store(Paywire__V1__CreditTxnKind v);
Paywire__V1__EntitlementState srv_map_entitlement_state_to_wire(
    Paywire__Store__V1__EntitlementState v);
Paywire__V1__CreditPackageState srv_map_credit_package_state_to_wire(
    Paywire__Store__V1__CreditPackageState v);
Paywire__Store__V1__CreditPackageState srv_map_credit_package_state_to_store(
    Paywire__V1__CreditPackageState v);
Paywire__Store__V1__EntitlementState srv_map_entitlement_state_to_store(
    Paywire__V1__EntitlementState v);

/* ---- requests -> store ---- */

/* Room for the parts of store_session_params that are messages, mapped from
 * a request. */
typedef struct srv_map_params_buf {
	Paywire__Store__V1__Session__MetadataEntry ents[PW_METADATA_ENTRIES_MAX];  /* metadata */
	Paywire__Store__V1__Session__MetadataEntry *entp[PW_METADATA_ENTRIES_MAX]; /* -> ents */
	Paywire__Store__V1__Fulfillment fulfillment;                              /* if any */
} srv_map_params_buf;

/* Fills *to from a create_session request that srv_validate_create_session
 * accepted (PW_ASSERT: at most PW_METADATA_ENTRIES_MAX metadata entries),
 * building its metadata and fulfillment in buf. to borrows from's strings
 * and buf: use it while both live. A request without a fulfillment gives a
 * session without one, so the stored session, and the Session replied, are
 * what the caller sent. */
void srv_map_session_params(const Paywire__V1__CreateSessionRequest *from,
    store_session_params *to, srv_map_params_buf *buf);

/* ---- store -> wire ---- */

/* Room for a wire Session mapped from a store Session: the message and the
 * parts it points at that are not strings of the record. */
typedef struct srv_map_session_buf {
	Paywire__V1__Session session;                                        /* the result */
	Paywire__V1__Fulfillment fulfillment;                                /* if the record has one */
	Paywire__V1__Session__MetadataEntry ents[PW_METADATA_ENTRIES_MAX];   /* metadata, in order */
	Paywire__V1__Session__MetadataEntry *entp[PW_METADATA_ENTRIES_MAX];  /* -> ents */
} srv_map_session_buf;

/* True when the wire can carry s as srv_map_session maps it: a session of a
 * record the store wrote always fits (at most PW_METADATA_ENTRIES_MAX
 * entries, checked at creation); one that does not is a corrupt record,
 * which the caller refuses with PW_INTERNAL before building a reply. */
bool srv_map_session_fits(const Paywire__Store__V1__Session *s);

/* The wire Session of from, field for field (the messages have the same
 * numbers), built in buf; returns &buf->session. from must fit (asserted). */
Paywire__V1__Session *srv_map_session(Paywire__Store__V1__Session *from,
    srv_map_session_buf *buf);

/* *to = the GetStatusResponse of rec (its session must be set, asserted):
 * the status fields of the session and the invoice_number; with customer
 * (the caller showed the checkout secret) also the record's access_link, the
 * session's URLs, what it sells and merchant_name. */
void srv_map_get_status(Paywire__Store__V1__SessionRecord *rec, bool customer,
    char *merchant_name, Paywire__V1__GetStatusResponse *to);

/* *to = the CreateMerchantResponse of a new merchant and its raw key (shown
 * once). */
void srv_map_merchant(Paywire__Store__V1__MerchantRecord *from, char *api_key,
    Paywire__V1__CreateMerchantResponse *to);

/* *to = the IngestWebhookResponse of what store_webhook_apply did with ev.
 * from's strings must be NUL-terminated (the caller terminates them). */
void srv_map_webhook(store_webhook_result *from, const pw_event *ev,
    Paywire__V1__IngestWebhookResponse *to);

/* *to = the RedeemAccessResponse of a receipt. It points at
 * from->access_key: wiping that buffer (redaction) leaves an empty key in
 * the message. */
void srv_map_receipt(store_access_receipt *from, Paywire__V1__RedeemAccessResponse *to);

/* *to = the VerifyAuditResponse of an audit report (head_hash: the 32 bytes
 * of from). */
void srv_map_audit(store_audit_report *from, Paywire__V1__VerifyAuditResponse *to);

/* *to = the wire CreditTransaction of a ledger entry (strings point into
 * from). */
void srv_map_credit_txn(Paywire__Store__V1__CreditTxnRecord *from,
    Paywire__V1__CreditTransaction *to);

/* *to = the ApiKeyInfo of a key at now_ms: its state "active", "expiring"
 * (rolled, in its grace period), "expired" or "revoked". Never the key. */
void srv_map_api_key(Paywire__Store__V1__ApiKeyRecord *from, int64_t now_ms,
    Paywire__V1__ApiKeyInfo *to);

/* *to = the VerifyAccessKeyResponse of a check (strings point into from). */
void srv_map_access_check(store_access_check *from, Paywire__V1__VerifyAccessKeyResponse *to);

/* *to = the wire Event of an audit record (strings point into from). */
void srv_map_event(Paywire__Store__V1__AuditRecord *from, Paywire__V1__Event *to);

/* *to = the wire QuarantinedEvent of a record (strings point into from);
 * with hp (n_hp slots, initialized messages are not needed), the body and
 * headers too, else only body_bytes. */
void srv_map_quarantined(Paywire__Store__V1__QuarantinedEventRecord *from,
    Paywire__V1__QuarantinedEvent *to, Paywire__V1__QuarantineHeader **hp, size_t n_hp);

/* *to = the wire CreditPackage of a record (strings point into from). */
void srv_map_credit_package(Paywire__Store__V1__CreditPackageRecord *from,
    Paywire__V1__CreditPackage *to);

/* *to = the wire Anomaly of a record (strings point into from). */
void srv_map_anomaly(Paywire__Store__V1__AnomalyRecord *from, Paywire__V1__Anomaly *to);

/* *to = the wire Invoice of a record (strings point into from). */
void srv_map_invoice(Paywire__Store__V1__InvoiceRecord *from, Paywire__V1__Invoice *to);

/* An entitlement for GetEntitlements: to points into from (strings, the
 * holders), which must outlive it; never the key's hash or sealed copy. A
 * record written before states reads ACTIVE when active, else REVOKED;
 * before holders, its creating session holds it while active. */
void srv_map_entitlement(Paywire__Store__V1__EntitlementRecord *from, Paywire__V1__Entitlement *to);

/* *to = the SessionDetail of a record (its session must fit, asserted):
 * the session built in buf, its refs in refs/refp (PW_SESSION_REFS_MAX
 * slots). */
void srv_map_session_detail(Paywire__Store__V1__SessionRecord *from,
    Paywire__V1__SessionDetail *to, srv_map_session_buf *buf, Paywire__V1__ProviderRef *refs,
    Paywire__V1__ProviderRef **refp);

/* *to = the GetBalanceResponse of a ledger (transactions: its entries). */
void srv_map_balance(Paywire__Store__V1__CreditLedgerRecord *from,
    Paywire__V1__GetBalanceResponse *to);

/* A merchant's provider credentials as shown (hints only: the record holds
 * no secret in clear, and its sealed bytes are not mapped). */
/* One request per this many µs for rate per period_s (at least 1; 0 for
 * rate 0). */
int64_t srv_rate_interval_us(uint32_t rate, uint32_t period_s);

void srv_map_provider_creds(Paywire__Store__V1__ProviderCredentialsRecord *from,
    Paywire__V1__ProviderCredentialsInfo *to);

#endif
