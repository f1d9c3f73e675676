/*
 * srv_map.c - wire <-> store translation. See srv_map.h.
 */
#include "srv_map.h"

#include <string.h>

/* ---- enums ---- */

/* The values each shared enum has, one XX(ENUM, VALUE) row per value name
 * (ENUM and VALUE as protobuf-c spells them in both generated headers). */
#define SRV_MAP_MODE(XX)                                                          \
	XX(MODE, MODE_UNSPECIFIED) XX(MODE, MODE_TEST) XX(MODE, MODE_LIVE)
#define SRV_MAP_SESSION_STATUS(XX)                                                \
	XX(SESSION_STATUS, SESSION_STATUS_UNSPECIFIED)                                \
	XX(SESSION_STATUS, SESSION_STATUS_CREATED)                                    \
	XX(SESSION_STATUS, SESSION_STATUS_PENDING)                                    \
	XX(SESSION_STATUS, SESSION_STATUS_PAID)                                       \
	XX(SESSION_STATUS, SESSION_STATUS_FAILED)                                     \
	XX(SESSION_STATUS, SESSION_STATUS_EXPIRED)                                    \
	XX(SESSION_STATUS, SESSION_STATUS_CANCELED)                                   \
	XX(SESSION_STATUS, SESSION_STATUS_REFUNDED)                                   \
	XX(SESSION_STATUS, SESSION_STATUS_DISPUTED)
#define SRV_MAP_PAYMENT_STATUS(XX)                                                \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_UNSPECIFIED)                                \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_UNPAID)                                     \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_PROCESSING)                                 \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_COMPLETED)                                  \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_FAILED)                                     \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_PARTIALLY_REFUNDED)                         \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_REFUNDED)                                   \
	XX(PAYMENT_STATUS, PAYMENT_STATUS_DISPUTED)
/* Providers come from their table (include/paywire/provider.h): a new row
 * maps without a line here. XX##_P adapts a table row to XX. */
#define SRV_MAP_PROVIDER(XX)                                                      \
	XX(PROVIDER, PROVIDER_UNSPECIFIED) PW_PROVIDER_MAP_BASE(XX##_P)
#define SRV_MAP_FULFILLMENT_KIND(XX)                                              \
	XX(FULFILLMENT_KIND, FULFILLMENT_KIND_NONE)                                   \
	XX(FULFILLMENT_KIND, FULFILLMENT_KIND_ACCESS_KEY)                             \
	XX(FULFILLMENT_KIND, FULFILLMENT_KIND_CREDITS)
#define SRV_MAP_WEBHOOK_OUTCOME(XX)                                               \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_UNSPECIFIED)                              \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_APPLIED)                                  \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_DUPLICATE)                                \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_IGNORED)                                  \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_QUARANTINED)
#define SRV_MAP_CREDIT_TXN_KIND(XX)                                               \
	XX(CREDIT_TXN_KIND, CREDIT_TXN_KIND_UNSPECIFIED)                              \
	XX(CREDIT_TXN_KIND, CREDIT_TXN_KIND_PURCHASE)                                 \
	XX(CREDIT_TXN_KIND, CREDIT_TXN_KIND_DEDUCTION)                                \
	XX(CREDIT_TXN_KIND, CREDIT_TXN_KIND_REVERSAL)
#define SRV_MAP_PROVIDER_CHECKOUT_STATE(XX)                                       \
	XX(PROVIDER_CHECKOUT_STATE, PROVIDER_CHECKOUT_STATE_NONE)                     \
	XX(PROVIDER_CHECKOUT_STATE, PROVIDER_CHECKOUT_STATE_PENDING)                  \
	XX(PROVIDER_CHECKOUT_STATE, PROVIDER_CHECKOUT_STATE_CREATED)
#define SRV_MAP_REFUND_STATE(XX)                                                  \
	XX(REFUND_STATE, REFUND_STATE_UNSPECIFIED)                                    \
	XX(REFUND_STATE, REFUND_STATE_REQUESTED)                                      \
	XX(REFUND_STATE, REFUND_STATE_PENDING)                                        \
	XX(REFUND_STATE, REFUND_STATE_FAILED)
#define SRV_MAP_ENTITLEMENT_STATE(XX)                                             \
	XX(ENTITLEMENT_STATE, ENTITLEMENT_STATE_UNSPECIFIED)                          \
	XX(ENTITLEMENT_STATE, ENTITLEMENT_STATE_ACTIVE)                               \
	XX(ENTITLEMENT_STATE, ENTITLEMENT_STATE_PAST_DUE)                             \
	XX(ENTITLEMENT_STATE, ENTITLEMENT_STATE_CANCELED)                             \
	XX(ENTITLEMENT_STATE, ENTITLEMENT_STATE_REVOKED)                              \
	XX(ENTITLEMENT_STATE, ENTITLEMENT_STATE_LAPSED)
#define SRV_MAP_CREDIT_PACKAGE_STATE(XX)                                          \
	XX(CREDIT_PACKAGE_STATE, CREDIT_PACKAGE_STATE_UNSPECIFIED)                    \
	XX(CREDIT_PACKAGE_STATE, CREDIT_PACKAGE_STATE_ACTIVE)                         \
	XX(CREDIT_PACKAGE_STATE, CREDIT_PACKAGE_STATE_ARCHIVED)

/* A row's value has the same number on disk and on the wire. */
#define SRV_MAP_XX_SAME(E, V)                                                     \
	_Static_assert((int) PAYWIRE__V1__##E##__##V == (int) PAYWIRE__STORE__V1__##E##__##V, \
	    "paywire.v1 and paywire.store.v1 give " #V " the same number");
#define SRV_MAP_XX_TO_WIRE(E, V)                                                  \
	case PAYWIRE__STORE__V1__##E##__##V:                                          \
		return PAYWIRE__V1__##E##__##V;
#define SRV_MAP_XX_TO_STORE(E, V)                                                 \
	case PAYWIRE__V1__##E##__##V:                                                 \
		return PAYWIRE__STORE__V1__##E##__##V;
#define SRV_MAP_XX_SAME_P(NAME, ...) SRV_MAP_XX_SAME(PROVIDER, PROVIDER_##NAME)
#define SRV_MAP_XX_TO_WIRE_P(NAME, ...) SRV_MAP_XX_TO_WIRE(PROVIDER, PROVIDER_##NAME)
#define SRV_MAP_XX_TO_STORE_P(NAME, ...) SRV_MAP_XX_TO_STORE(PROVIDER, PROVIDER_##NAME)

/* One direction of one enum: srv_map_<name>_<dir>, from package From to
 * package To (FROM: From's upper-case prefix). It switches over its
 * argument's enum with no `default:`, so -Wswitch names a value that ROWS
 * lacks; the last return keeps a number neither .proto names (the
 * open-enum rule). */
#define SRV_MAP_ENUM_FN(name, dir, To, From, FROM, Type, TYPE, ROWS, XX)         \
	To##Type                                                                      \
	srv_map_##name##_##dir(From##Type v)                                          \
	{                                                                             \
		switch (v) {                                                              \
			ROWS(XX)                                                              \
		case _##FROM##TYPE##_IS_INT_SIZE:                                         \
			break;                                                                \
		}                                                                         \
		return (To##Type) v;                                                      \
	}

/* Everything of one enum: its _Static_asserts and its two functions
 * (declared in srv_map.h). */
#define SRV_MAP_ENUM(name, Type, TYPE, ROWS)                                      \
	ROWS(SRV_MAP_XX_SAME)                                                         \
	SRV_MAP_ENUM_FN(name, to_wire, Paywire__V1__, Paywire__Store__V1__,           \
	    PAYWIRE__STORE__V1__, Type, TYPE, ROWS, SRV_MAP_XX_TO_WIRE)               \
	SRV_MAP_ENUM_FN(name, to_store, Paywire__Store__V1__, Paywire__V1__,          \
	    PAYWIRE__V1__, Type, TYPE, ROWS, SRV_MAP_XX_TO_STORE)

SRV_MAP_ENUM(mode, Mode, MODE, SRV_MAP_MODE)
SRV_MAP_ENUM(session_status, SessionStatus, SESSION_STATUS, SRV_MAP_SESSION_STATUS)
SRV_MAP_ENUM(payment_status, PaymentStatus, PAYMENT_STATUS, SRV_MAP_PAYMENT_STATUS)
SRV_MAP_ENUM(provider, Provider, PROVIDER, SRV_MAP_PROVIDER)
SRV_MAP_ENUM(fulfillment_kind, FulfillmentKind, FULFILLMENT_KIND, SRV_MAP_FULFILLMENT_KIND)
SRV_MAP_ENUM(webhook_outcome, WebhookOutcome, WEBHOOK_OUTCOME, SRV_MAP_WEBHOOK_OUTCOME)
SRV_MAP_ENUM(credit_txn_kind, CreditTxnKind, CREDIT_TXN_KIND, SRV_MAP_CREDIT_TXN_KIND)
SRV_MAP_ENUM(entitlement_state, EntitlementState, ENTITLEMENT_STATE, SRV_MAP_ENTITLEMENT_STATE)
SRV_MAP_ENUM(provider_checkout_state, ProviderCheckoutState, PROVIDER_CHECKOUT_STATE,
    SRV_MAP_PROVIDER_CHECKOUT_STATE)
SRV_MAP_ENUM(refund_state, RefundState, REFUND_STATE, SRV_MAP_REFUND_STATE)
SRV_MAP_ENUM(credit_package_state, CreditPackageState, CREDIT_PACKAGE_STATE,
    SRV_MAP_CREDIT_PACKAGE_STATE)

/* ---- messages ---- */

/* The fields a message takes from another as they are (same name, same C
 * type on both sides), one list per mapping; enum fields go through the
 * functions above, and fields named otherwise are written out. Each mapping
 * function names its source `from` and its result `to`. */
#define SRV_MAP_XX_COPY(field) to->field = from->field;

#define SRV_MAP_PARAMS_SAME(XX)                                                   \
	XX(amount_minor) XX(currency) XX(success_url) XX(cancel_url)                  \
	XX(customer_email) XX(customer_name) XX(customer_ref) XX(idempotency_key)    \
	XX(expires_at_unix_ms) XX(credit_package)
#define SRV_MAP_SESSION_SAME(XX)                                                  \
	XX(id) XX(merchant_id) XX(amount_minor) XX(currency) XX(url) XX(success_url)  \
	XX(cancel_url) XX(customer_email) XX(customer_name) XX(customer_ref)          \
	XX(created_at_unix_ms) XX(paid_at_unix_ms) XX(amount_refunded_minor)          \
	XX(idempotency_key) XX(expires_at_unix_ms) XX(provider_checkout_id)          \
	XX(provider_checkout_url) XX(credit_package)
#define SRV_MAP_STATUS_SAME(XX)                                                   \
	XX(merchant_id) XX(amount_minor) XX(currency) XX(created_at_unix_ms)          \
	XX(paid_at_unix_ms) XX(amount_refunded_minor) XX(expires_at_unix_ms)
#define SRV_MAP_MERCHANT_SAME(XX) XX(merchant_id) XX(name)
#define SRV_MAP_WEBHOOK_SAME(XX)                                                  \
	XX(session_id) XX(reason) XX(invoice_number) XX(access_key_id) XX(anomaly)
#define SRV_MAP_RECEIPT_SAME(XX)                                                  \
	XX(session_id) XX(merchant_id) XX(amount_minor) XX(currency) XX(paid_at_unix_ms) \
	XX(invoice_number) XX(access_key_id) XX(access_key) XX(already_revealed)      \
	XX(entitlement_active) XX(plan) XX(customer_email)
#define SRV_MAP_CREDIT_TXN_SAME(XX)                                               \
	XX(seq) XX(customer) XX(delta) XX(balance_after) XX(shortfall) XX(session_id)  \
	XX(idempotency_key) XX(description) XX(created_at_unix_ms)
#define SRV_MAP_API_KEY_SAME(XX)                                                  \
	XX(key_id) XX(key_prefix) XX(last4) XX(created_at_unix_ms) XX(expires_at_unix_ms) \
	XX(revoked_at_unix_ms) XX(replaced_by) XX(last_used_at_unix_ms)
#define SRV_MAP_ACCESS_CHECK_SAME(XX)                                              \
	XX(valid) XX(reason) XX(entitlement_id) XX(session_id) XX(customer) XX(plan)  \
	XX(granted_at_unix_ms) XX(revoked_at_unix_ms) XX(until_unix_ms)
#define SRV_MAP_ENTITLEMENT_SAME(XX)                                              \
	XX(id) XX(plan) XX(created_at_unix_ms) XX(current_period_end_unix_ms)           \
	XX(key_prefix) XX(customer) XX(subscription) XX(revoked_at_unix_ms)
#define SRV_MAP_INVOICE_SAME(XX)                                                  \
	XX(number) XX(session_id) XX(amount_minor) XX(currency) XX(payment_ref)         \
	XX(issued_at_unix_ms) XX(customer_email) XX(customer_name)
#define SRV_MAP_DETAIL_SAME(XX)                                                   \
	XX(paid_ref) XX(invoice_number) XX(access_key_id) XX(entitlement_active)       \
	XX(access_link) XX(anomalies) XX(anomaly) XX(updated_at_unix_ms)
#define SRV_MAP_BALANCE_SAME(XX) XX(customer) XX(balance) XX(updated_at_unix_ms)
#define SRV_MAP_AUDIT_SAME(XX) XX(ok) XX(records) XX(last_seq) XX(first_bad_seq) XX(detail)

/* The parts of a Session (or of a request) that are messages of their own,
 * metadata entries and the fulfillment: from `from` into `buf` (an
 * srv_map_params_buf or srv_map_session_buf) and `to`, with the init
 * functions of the target package (p: its lower-case prefix) and the
 * fulfillment kind's mapping in direction dir. One body for both ways. */
#define SRV_MAP_PARTS(p, dir)                                                     \
	do {                                                                          \
		for (size_t i = 0; i < from->n_metadata; i++) {                           \
			PW_ASSERT(from->metadata[i] != NULL);                                 \
			p##session__metadata_entry__init(&buf->ents[i]);                      \
			buf->ents[i].key = from->metadata[i]->key;                            \
			buf->ents[i].value = from->metadata[i]->value;                        \
			buf->entp[i] = &buf->ents[i];                                         \
		}                                                                         \
		to->n_metadata = from->n_metadata;                                        \
		to->metadata = from->n_metadata > 0 ? buf->entp : NULL;                   \
		to->fulfillment = NULL;                                                   \
		if (from->fulfillment != NULL) {                                          \
			p##fulfillment__init(&buf->fulfillment);                              \
			buf->fulfillment.kind = srv_map_fulfillment_kind_##dir(from->fulfillment->kind); \
			buf->fulfillment.plan = from->fulfillment->plan;                      \
			buf->fulfillment.credits = from->fulfillment->credits;                \
			buf->fulfillment.subscription = from->fulfillment->subscription;      \
			to->fulfillment = &buf->fulfillment;                                  \
		}                                                                         \
	} while (0)

/* ---- requests -> store ---- */

void
srv_map_session_params(const Paywire__V1__CreateSessionRequest *from, store_session_params *to,
    srv_map_params_buf *buf)
{
	PW_ASSERT(from != NULL && to != NULL && buf != NULL);
	PW_ASSERT(from->n_metadata <= PW_METADATA_ENTRIES_MAX); /* validated */
	memset(to, 0, sizeof(*to));
	SRV_MAP_PARAMS_SAME(SRV_MAP_XX_COPY)
	to->mode = srv_map_mode_to_store(from->mode);
	to->provider = srv_map_provider_to_store(from->provider);
	SRV_MAP_PARTS(paywire__store__v1__, to_store);
}

/* ---- store -> wire ---- */

bool
srv_map_session_fits(const Paywire__Store__V1__Session *s)
{
	PW_ASSERT(s != NULL);
	return s->n_metadata <= PW_METADATA_ENTRIES_MAX;
}

Paywire__V1__Session *
srv_map_session(Paywire__Store__V1__Session *from, srv_map_session_buf *buf)
{
	Paywire__V1__Session *to;

	PW_ASSERT(from != NULL && buf != NULL);
	PW_ASSERT(srv_map_session_fits(from));
	to = &buf->session;
	paywire__v1__session__init(to);
	SRV_MAP_SESSION_SAME(SRV_MAP_XX_COPY)
	to->mode = srv_map_mode_to_wire(from->mode);
	to->status = srv_map_session_status_to_wire(from->status);
	to->payment_status = srv_map_payment_status_to_wire(from->payment_status);
	to->payment_provider = srv_map_provider_to_wire(from->payment_provider);
	to->checkout_provider = srv_map_provider_to_wire(from->checkout_provider);
	to->provider_checkout_state =
	    srv_map_provider_checkout_state_to_wire(from->provider_checkout_state);
	SRV_MAP_PARTS(paywire__v1__, to_wire);
	return to;
}

void
srv_map_get_status(Paywire__Store__V1__SessionRecord *rec, bool customer, char *merchant_name,
    Paywire__V1__GetStatusResponse *to)
{
	const Paywire__Store__V1__Session *from;

	PW_ASSERT(rec != NULL && rec->session != NULL && to != NULL);
	from = rec->session;
	paywire__v1__get_status_response__init(to);
	SRV_MAP_STATUS_SAME(SRV_MAP_XX_COPY)
	to->session_id = from->id;
	to->status = srv_map_session_status_to_wire(from->status);
	to->payment_status = srv_map_payment_status_to_wire(from->payment_status);
	to->payment_provider = srv_map_provider_to_wire(from->payment_provider);
	to->mode = srv_map_mode_to_wire(from->mode);
	to->invoice_number = rec->invoice_number;
	if (customer) { /* the checkout secret matched: what the customer's pages show */
		to->access_link = rec->access_link; /* the record's, not the session's */
		to->merchant_name = merchant_name;
		to->success_url = from->success_url;
		to->cancel_url = from->cancel_url;
		to->provider_checkout_url = from->provider_checkout_url;
		to->provider_checkout_id = from->provider_checkout_id;
		to->checkout_provider = srv_map_provider_to_wire(from->checkout_provider);
		if (from->fulfillment != NULL) {
			to->plan = from->fulfillment->plan;
			to->credits = from->fulfillment->credits;
		}
		to->credit_package = from->credit_package;
	}
}

void
srv_map_merchant(Paywire__Store__V1__MerchantRecord *from, char *api_key,
    Paywire__V1__CreateMerchantResponse *to)
{
	PW_ASSERT(from != NULL && api_key != NULL && to != NULL);
	paywire__v1__create_merchant_response__init(to);
	SRV_MAP_MERCHANT_SAME(SRV_MAP_XX_COPY)
	to->api_key = api_key;
	to->mode = srv_map_mode_to_wire(from->mode);
}

void
srv_map_webhook(store_webhook_result *from, const pw_event *ev,
    Paywire__V1__IngestWebhookResponse *to)
{
	PW_ASSERT(from != NULL && ev != NULL && to != NULL);
	paywire__v1__ingest_webhook_response__init(to);
	SRV_MAP_WEBHOOK_SAME(SRV_MAP_XX_COPY)
	to->outcome = srv_map_webhook_outcome_to_wire(from->outcome);
	to->session_status = srv_map_session_status_to_wire(from->session_status);
	to->event_id = (char *) ev->event_id;
	to->event_type = (char *) ev->event_type;
}

void
srv_map_receipt(store_access_receipt *from, Paywire__V1__RedeemAccessResponse *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__redeem_access_response__init(to);
	SRV_MAP_RECEIPT_SAME(SRV_MAP_XX_COPY)
	to->merchant_name = from->merchant_name;
	to->status = srv_map_session_status_to_wire(from->status);
}

void
srv_map_audit(store_audit_report *from, Paywire__V1__VerifyAuditResponse *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__verify_audit_response__init(to);
	SRV_MAP_AUDIT_SAME(SRV_MAP_XX_COPY)
	to->head_hash.len = sizeof(from->head_hash);
	to->head_hash.data = from->head_hash;
}

void
srv_map_credit_txn(Paywire__Store__V1__CreditTxnRecord *from, Paywire__V1__CreditTransaction *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__credit_transaction__init(to);
	SRV_MAP_CREDIT_TXN_SAME(SRV_MAP_XX_COPY)
	to->kind = srv_map_credit_txn_kind_to_wire(from->kind);
}

void
srv_map_balance(Paywire__Store__V1__CreditLedgerRecord *from, Paywire__V1__GetBalanceResponse *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__get_balance_response__init(to);
	SRV_MAP_BALANCE_SAME(SRV_MAP_XX_COPY)
	to->transactions = from->entries;
}

void
srv_map_api_key(Paywire__Store__V1__ApiKeyRecord *from, int64_t now_ms,
    Paywire__V1__ApiKeyInfo *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__api_key_info__init(to);
	SRV_MAP_API_KEY_SAME(SRV_MAP_XX_COPY)
	to->mode = srv_map_mode_to_wire(from->mode);
	to->state = (char *) (from->revoked                                       ? "revoked"
	    : from->expires_at_unix_ms != 0 && now_ms >= from->expires_at_unix_ms ? "expired"
	    : from->expires_at_unix_ms != 0                                       ? "expiring"
	                                                                          : "active");
}

void
srv_map_access_check(store_access_check *from, Paywire__V1__VerifyAccessKeyResponse *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__verify_access_key_response__init(to);
	/* fixed buffers: terminated whatever the store wrote */
	from->reason[sizeof(from->reason) - 1] = '\0';
	from->entitlement_id[sizeof(from->entitlement_id) - 1] = '\0';
	from->session_id[sizeof(from->session_id) - 1] = '\0';
	from->customer[sizeof(from->customer) - 1] = '\0';
	from->plan[sizeof(from->plan) - 1] = '\0';
	SRV_MAP_ACCESS_CHECK_SAME(SRV_MAP_XX_COPY)
	to->state = srv_map_entitlement_state_to_wire(from->state);
}

void
srv_map_entitlement(Paywire__Store__V1__EntitlementRecord *from, Paywire__V1__Entitlement *to)
{
	Paywire__Store__V1__EntitlementState st;

	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__entitlement__init(to);
	SRV_MAP_ENTITLEMENT_SAME(SRV_MAP_XX_COPY)
	/* records written before states: active -> ACTIVE, else REVOKED */
	st = from->state != PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_UNSPECIFIED
	    ? from->state
	    : from->active ? PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE
	                   : PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED;
	to->state = srv_map_entitlement_state_to_wire(st);
	to->active = from->active &&
	    st == PAYWIRE__STORE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE;
	/* the holders (the creating session for records written before them) */
	if (from->n_holder_session_ids > 0) {
		to->n_session_ids = from->n_holder_session_ids;
		to->session_ids = from->holder_session_ids;
	} else if (from->active) {
		to->n_session_ids = 1;
		to->session_ids = &from->session_id;
	}
}

void
srv_map_invoice(Paywire__Store__V1__InvoiceRecord *from, Paywire__V1__Invoice *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__invoice__init(to);
	SRV_MAP_INVOICE_SAME(SRV_MAP_XX_COPY)
	to->provider = srv_map_provider_to_wire(from->provider);
}

void
srv_map_session_detail(Paywire__Store__V1__SessionRecord *from, Paywire__V1__SessionDetail *to,
    srv_map_session_buf *buf, Paywire__V1__ProviderRef *refs, Paywire__V1__ProviderRef **refp)
{
	static const char *const dispute[] = { "", "opened", "won", "lost" };
	size_t n = from->n_refs < PW_SESSION_REFS_MAX ? from->n_refs : PW_SESSION_REFS_MAX;

	PW_ASSERT(from != NULL && from->session != NULL && to != NULL);
	paywire__v1__session_detail__init(to);
	SRV_MAP_DETAIL_SAME(SRV_MAP_XX_COPY)
	to->session = srv_map_session(from->session, buf);
	to->dispute = (char *) (from->dispute >= 0 && from->dispute <= 3 ? dispute[from->dispute]
	                                                                 : "unknown");
	for (size_t i = 0; i < n; i++) {
		paywire__v1__provider_ref__init(&refs[i]);
		refs[i].provider = srv_map_provider_to_wire(from->refs[i]->provider);
		refs[i].ref = from->refs[i]->ref;
		refp[i] = &refs[i];
	}
	to->n_refs = n;
	to->refs = n > 0 ? refp : NULL;
}

void
srv_map_event(Paywire__Store__V1__AuditRecord *from, Paywire__V1__Event *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__event__init(to);
	to->seq = from->seq;
	to->type = from->action;
	to->merchant_id = from->merchant_id;
	to->session_id = from->session_id;
	to->detail = from->detail;
	to->created_at_unix_ms = from->unix_ms;
}

void
srv_map_anomaly(Paywire__Store__V1__AnomalyRecord *from, Paywire__V1__Anomaly *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__anomaly__init(to);
	to->seq = from->seq;
	to->session_id = from->session_id;
	to->provider = srv_map_provider_to_wire(from->provider);
	to->event_id = from->event_id;
	to->event_type = from->event_type;
	to->payment_ref = from->payment_ref;
	to->charge_ref = from->charge_ref;
	to->has_amount = from->has_amount;
	to->amount_minor = from->amount_minor;
	to->currency = from->currency;
	to->reason = from->reason;
	to->action = from->action;
	to->created_at_unix_ms = from->created_at_unix_ms;
	to->resolution = from->resolution;
	to->resolved_at_unix_ms = from->resolved_at_unix_ms;
}

void
srv_map_quarantined(Paywire__Store__V1__QuarantinedEventRecord *from,
    Paywire__V1__QuarantinedEvent *to, Paywire__V1__QuarantineHeader **hp, size_t n_hp)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__quarantined_event__init(to);
	to->id = from->id;
	to->provider = srv_map_provider_to_wire(from->provider);
	to->reason = from->reason;
	to->received_at_unix_ms = from->received_at_unix_ms;
	to->attempts = from->attempts;
	to->last_attempt_unix_ms = from->last_attempt_unix_ms;
	to->body_bytes = from->body.len;
	if (hp == NULL) {
		return;
	}
	PW_ASSERT(from->n_headers <= n_hp);
	to->body = from->body;
	for (size_t i = 0; i < from->n_headers; i++) {
		paywire__v1__quarantine_header__init(hp[i]);
		hp[i]->name = from->headers[i]->name;
		hp[i]->value = from->headers[i]->value;
	}
	to->n_headers = from->n_headers;
	to->headers = from->n_headers > 0 ? hp : NULL;
}

void
srv_map_provider_creds(Paywire__Store__V1__ProviderCredentialsRecord *from,
    Paywire__V1__ProviderCredentialsInfo *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__provider_credentials_info__init(to);
	to->provider = srv_map_provider_to_wire(from->provider);
	to->mode = srv_map_mode_to_wire(from->mode);
	to->key_id = from->key_id;
	to->secret_hint = from->secret_hint;
	to->created_at_unix_ms = from->created_at_unix_ms;
	to->updated_at_unix_ms = from->updated_at_unix_ms;
}

void
srv_map_credit_package(Paywire__Store__V1__CreditPackageRecord *from,
    Paywire__V1__CreditPackage *to)
{
	PW_ASSERT(from != NULL && to != NULL);
	paywire__v1__credit_package__init(to);
	to->code = from->code;
	to->name = from->name;
	to->credits = from->credits;
	to->amount_minor = from->amount_minor;
	to->currency = from->currency;
	to->state = srv_map_credit_package_state_to_wire(from->state);
	to->created_at_unix_ms = from->created_at_unix_ms;
	to->archived_at_unix_ms = from->archived_at_unix_ms;
}

int64_t
srv_rate_interval_us(uint32_t rate, uint32_t period_s)
{
	int64_t t;

	if (rate == 0) {
		return 0;
	}
	t = (int64_t) period_s * 1000000 / (int64_t) rate;
	return t > 0 ? t : 1;
}
