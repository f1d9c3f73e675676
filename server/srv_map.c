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
#define SRV_MAP_PROVIDER(XX)                                                      \
	XX(PROVIDER, PROVIDER_UNSPECIFIED) XX(PROVIDER, PROVIDER_STRIPE)              \
	XX(PROVIDER, PROVIDER_RAZORPAY) XX(PROVIDER, PROVIDER_ONECOM)                 \
	XX(PROVIDER, PROVIDER_WEB3)
#define SRV_MAP_FULFILLMENT_KIND(XX)                                              \
	XX(FULFILLMENT_KIND, FULFILLMENT_KIND_NONE)                                   \
	XX(FULFILLMENT_KIND, FULFILLMENT_KIND_ACCESS_KEY)                             \
	XX(FULFILLMENT_KIND, FULFILLMENT_KIND_CREDITS)
#define SRV_MAP_WEBHOOK_OUTCOME(XX)                                               \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_UNSPECIFIED)                              \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_APPLIED)                                  \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_DUPLICATE)                                \
	XX(WEBHOOK_OUTCOME, WEBHOOK_OUTCOME_IGNORED)

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

/* The two functions of one enum (declared in srv_map.h): srv_map_<name>_to_wire
 * and srv_map_<name>_to_store. Each switches over its argument's enum with no
 * `default:`, so -Wswitch names a value that ROWS lacks; the last return
 * keeps a number neither .proto names (the open-enum rule). */
#define SRV_MAP_ENUM(name, Type, TYPE, ROWS)                                      \
	ROWS(SRV_MAP_XX_SAME)                                                         \
	Paywire__V1__##Type                                                           \
	srv_map_##name##_to_wire(Paywire__Store__V1__##Type v)                        \
	{                                                                             \
		switch (v) {                                                              \
			ROWS(SRV_MAP_XX_TO_WIRE)                                              \
		case _PAYWIRE__STORE__V1__##TYPE##_IS_INT_SIZE:                           \
			break;                                                                \
		}                                                                         \
		return (Paywire__V1__##Type) v;                                           \
	}                                                                             \
	Paywire__Store__V1__##Type                                                    \
	srv_map_##name##_to_store(Paywire__V1__##Type v)                              \
	{                                                                             \
		switch (v) {                                                              \
			ROWS(SRV_MAP_XX_TO_STORE)                                             \
		case _PAYWIRE__V1__##TYPE##_IS_INT_SIZE:                                  \
			break;                                                                \
		}                                                                         \
		return (Paywire__Store__V1__##Type) v;                                    \
	}

SRV_MAP_ENUM(mode, Mode, MODE, SRV_MAP_MODE)
SRV_MAP_ENUM(session_status, SessionStatus, SESSION_STATUS, SRV_MAP_SESSION_STATUS)
SRV_MAP_ENUM(payment_status, PaymentStatus, PAYMENT_STATUS, SRV_MAP_PAYMENT_STATUS)
SRV_MAP_ENUM(provider, Provider, PROVIDER, SRV_MAP_PROVIDER)
SRV_MAP_ENUM(fulfillment_kind, FulfillmentKind, FULFILLMENT_KIND, SRV_MAP_FULFILLMENT_KIND)
SRV_MAP_ENUM(webhook_outcome, WebhookOutcome, WEBHOOK_OUTCOME, SRV_MAP_WEBHOOK_OUTCOME)

/* ---- requests -> store ---- */

void
srv_map_session_params(const Paywire__V1__CreateSessionRequest *r, store_session_params *p,
    srv_map_params_buf *buf)
{
	PW_ASSERT(r != NULL && p != NULL && buf != NULL);
	PW_ASSERT(r->n_metadata <= PW_METADATA_ENTRIES_MAX); /* validated */
	memset(p, 0, sizeof(*p));
	p->amount_minor = r->amount_minor;
	p->currency = r->currency;
	p->mode = srv_map_mode_to_store(r->mode);
	p->success_url = r->success_url;
	p->cancel_url = r->cancel_url;
	p->customer_email = r->customer_email;
	p->customer_name = r->customer_name;
	p->customer_ref = r->customer_ref;
	p->idempotency_key = r->idempotency_key;
	for (size_t i = 0; i < r->n_metadata; i++) {
		PW_ASSERT(r->metadata[i] != NULL);
		paywire__store__v1__session__metadata_entry__init(&buf->ents[i]);
		buf->ents[i].key = r->metadata[i]->key;
		buf->ents[i].value = r->metadata[i]->value;
		buf->entp[i] = &buf->ents[i];
	}
	p->n_metadata = r->n_metadata;
	p->metadata = r->n_metadata > 0 ? buf->entp : NULL;
	if (r->fulfillment != NULL) {
		paywire__store__v1__fulfillment__init(&buf->fulfillment);
		buf->fulfillment.kind = srv_map_fulfillment_kind_to_store(r->fulfillment->kind);
		buf->fulfillment.plan = r->fulfillment->plan;
		buf->fulfillment.credits = r->fulfillment->credits;
		p->fulfillment = &buf->fulfillment;
	}
}

/* ---- store -> wire ---- */

bool
srv_map_session_fits(const Paywire__Store__V1__Session *s)
{
	PW_ASSERT(s != NULL);
	return s->n_metadata <= PW_METADATA_ENTRIES_MAX;
}

/* The metadata and fulfillment of s into buf (the parts that are messages). */
static void
srv_map_session_parts(Paywire__Store__V1__Session *s, srv_map_session_buf *buf)
{
	Paywire__V1__Session *out = &buf->session;

	for (size_t i = 0; i < s->n_metadata; i++) {
		PW_ASSERT(s->metadata[i] != NULL);
		paywire__v1__session__metadata_entry__init(&buf->ents[i]);
		buf->ents[i].key = s->metadata[i]->key;
		buf->ents[i].value = s->metadata[i]->value;
		buf->entp[i] = &buf->ents[i];
	}
	out->n_metadata = s->n_metadata;
	out->metadata = s->n_metadata > 0 ? buf->entp : NULL;
	out->fulfillment = NULL;
	if (s->fulfillment != NULL) {
		paywire__v1__fulfillment__init(&buf->fulfillment);
		buf->fulfillment.kind = srv_map_fulfillment_kind_to_wire(s->fulfillment->kind);
		buf->fulfillment.plan = s->fulfillment->plan;
		buf->fulfillment.credits = s->fulfillment->credits;
		out->fulfillment = &buf->fulfillment;
	}
}

Paywire__V1__Session *
srv_map_session(Paywire__Store__V1__Session *s, srv_map_session_buf *buf)
{
	Paywire__V1__Session *out;

	PW_ASSERT(s != NULL && buf != NULL);
	PW_ASSERT(srv_map_session_fits(s));
	out = &buf->session;
	paywire__v1__session__init(out);
	out->id = s->id;
	out->merchant_id = s->merchant_id;
	out->mode = srv_map_mode_to_wire(s->mode);
	out->status = srv_map_session_status_to_wire(s->status);
	out->payment_status = srv_map_payment_status_to_wire(s->payment_status);
	out->amount_minor = s->amount_minor;
	out->currency = s->currency;
	out->url = s->url;
	out->success_url = s->success_url;
	out->cancel_url = s->cancel_url;
	out->customer_email = s->customer_email;
	out->customer_name = s->customer_name;
	out->customer_ref = s->customer_ref;
	srv_map_session_parts(s, buf);
	out->created_at_unix_ms = s->created_at_unix_ms;
	out->paid_at_unix_ms = s->paid_at_unix_ms;
	out->payment_provider = srv_map_provider_to_wire(s->payment_provider);
	out->amount_refunded_minor = s->amount_refunded_minor;
	out->idempotency_key = s->idempotency_key;
	return out;
}

void
srv_map_get_status(Paywire__Store__V1__SessionRecord *rec, Paywire__V1__GetStatusResponse *out)
{
	const Paywire__Store__V1__Session *s;

	PW_ASSERT(rec != NULL && rec->session != NULL && out != NULL);
	s = rec->session;
	paywire__v1__get_status_response__init(out);
	out->access_link = rec->access_link; /* the record's, not the session's */
	out->invoice_number = rec->invoice_number;
	out->session_id = s->id;
	out->status = srv_map_session_status_to_wire(s->status);
	out->payment_status = srv_map_payment_status_to_wire(s->payment_status);
	out->payment_provider = srv_map_provider_to_wire(s->payment_provider);
	out->amount_minor = s->amount_minor;
	out->currency = s->currency;
	out->created_at_unix_ms = s->created_at_unix_ms;
	out->paid_at_unix_ms = s->paid_at_unix_ms;
	out->amount_refunded_minor = s->amount_refunded_minor;
	out->mode = srv_map_mode_to_wire(s->mode);
	out->merchant_id = s->merchant_id;
}

void
srv_map_merchant(Paywire__Store__V1__MerchantRecord *m, char *api_key,
    Paywire__V1__CreateMerchantResponse *out)
{
	PW_ASSERT(m != NULL && api_key != NULL && out != NULL);
	paywire__v1__create_merchant_response__init(out);
	out->merchant_id = m->merchant_id;
	out->api_key = api_key;
	out->name = m->name;
	out->mode = srv_map_mode_to_wire(m->mode);
}

void
srv_map_webhook(store_webhook_result *w, const pw_event *ev,
    Paywire__V1__IngestWebhookResponse *out)
{
	PW_ASSERT(w != NULL && ev != NULL && out != NULL);
	paywire__v1__ingest_webhook_response__init(out);
	out->outcome = srv_map_webhook_outcome_to_wire(w->outcome);
	out->session_id = w->session_id;
	out->event_id = (char *) ev->event_id;
	out->event_type = (char *) ev->event_type;
	out->reason = w->reason;
	out->session_status = srv_map_session_status_to_wire(w->session_status);
	out->invoice_number = w->invoice_number;
	out->access_key_id = w->access_key_id;
	out->anomaly = w->anomaly;
}

void
srv_map_receipt(store_access_receipt *r, Paywire__V1__RedeemAccessResponse *out)
{
	PW_ASSERT(r != NULL && out != NULL);
	paywire__v1__redeem_access_response__init(out);
	out->session_id = r->session_id;
	out->merchant_id = r->merchant_id;
	out->status = srv_map_session_status_to_wire(r->status);
	out->amount_minor = r->amount_minor;
	out->currency = r->currency;
	out->paid_at_unix_ms = r->paid_at_unix_ms;
	out->invoice_number = r->invoice_number;
	out->access_key_id = r->access_key_id;
	out->access_key = r->access_key;
	out->already_revealed = r->already_revealed;
	out->entitlement_active = r->entitlement_active;
	out->plan = r->plan;
	out->customer_email = r->customer_email;
}

void
srv_map_audit(store_audit_report *a, Paywire__V1__VerifyAuditResponse *out)
{
	PW_ASSERT(a != NULL && out != NULL);
	paywire__v1__verify_audit_response__init(out);
	out->ok = a->ok;
	out->records = a->records;
	out->last_seq = a->last_seq;
	out->head_hash.len = sizeof(a->head_hash);
	out->head_hash.data = a->head_hash;
	out->first_bad_seq = a->first_bad_seq;
	out->detail = a->detail;
}
