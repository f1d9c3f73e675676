/*
 * pw_event.h - one provider-neutral payment event.
 *
 * Produced by the server's webhook parser (server/srv_webhook.h) from a body
 * whose signature was verified; consumed by the store (store_webhook_apply),
 * which turns it into a state transition and its effects. Plain data: fixed
 * buffers, no pointers, so it can be copied into a queued write and hashed.
 * All strings are NUL-terminated UTF-8; an empty string means "absent".
 * pw_provider (who sent it) is the provider table's enum (pw_provider.h).
 */
#ifndef PW_EVENT_H
#define PW_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "pw_provider.h"

/* What the event means for the session, whatever the provider called it. */
typedef enum pw_event_kind {
	PW_EV_IGNORED = 0,          /* unknown / uninteresting type: recorded, IGNORED */
	PW_EV_PAYMENT_PENDING,      /* money on its way (async method, processing, authorized, too few confirmations) */
	PW_EV_PAYMENT_SUCCEEDED,    /* money moved: the session is paid */
	PW_EV_PAYMENT_FAILED,       /* an attempt failed (not terminal: a retry may succeed) */
	PW_EV_SESSION_EXPIRED,      /* the provider's checkout expired */
	PW_EV_PAYMENT_CANCELED,     /* the provider canceled the payment (Stripe PI canceled) */
	PW_EV_REFUND,               /* amount_refunded_minor = cumulative refunded total */
	PW_EV_DISPUTE_OPENED,
	PW_EV_DISPUTE_WON,
	PW_EV_DISPUTE_LOST,
	/* A subscription's events (docs/PAYMENTS.md "Subscriptions"): they move the
	 * entitlement of the session that sold it, never the session's status. */
	PW_EV_SUBSCRIPTION_PAID,    /* an invoice was paid: the period extends to period_end */
	PW_EV_SUBSCRIPTION_PAST_DUE, /* an invoice's payment failed: past_due */
	PW_EV_SUBSCRIPTION_ENDED,   /* the subscription was deleted: the key is revoked */
} pw_event_kind;

/* The highest pw_event_kind (range checks). */
#define PW_EV_KIND_LAST PW_EV_SUBSCRIPTION_ENDED

#define PW_EV_ID_BYTES 256
#define PW_EV_TYPE_BYTES 96
#define PW_EV_REF_BYTES 128

typedef struct pw_event {
	pw_provider provider;                 /* who sent it */
	pw_event_kind kind;                   /* what it means */
	char event_id[PW_EV_ID_BYTES];        /* provider's event id: dedup key with provider */
	char event_type[PW_EV_TYPE_BYTES];    /* provider's type string, e.g. "payment_intent.succeeded" */
	char session_ref[PW_EV_REF_BYTES];    /* paywire session id if the event carries one, else "" */
	bool has_amount;                      /* amount_minor/currency are meaningful */
	int64_t amount_minor;                 /* amount of the payment, minor units of currency */
	char currency[4];                     /* ISO 4217, upper case */
	int64_t amount_refunded_minor;        /* PW_EV_REFUND: cumulative amount refunded so far */
	int live;                             /* 1 live, 0 test, -1 the provider does not say */
	char payment_ref[PW_EV_REF_BYTES];    /* pi_… / pay_… / onecom txn id / tx hash */
	char charge_ref[PW_EV_REF_BYTES];     /* ch_… (Stripe), else "" */
	char order_ref[PW_EV_REF_BYTES];      /* order_… (Razorpay), Stripe cs_… checkout id */
	char network[32];                     /* Web3: network name, e.g. "base" */
	int64_t confirmations;                /* Web3: confirmations seen */
	int64_t event_unix_s;                 /* provider's event time, 0 if unknown */
	char detail[160];                     /* human note, e.g. why pending or ignored */
	char subscription_ref[PW_EV_REF_BYTES]; /* Stripe sub_… (subscription checkout, invoice,
	                                           subscription), else "" */
	char customer_ref[PW_EV_REF_BYTES];   /* Stripe cus_… of a subscription, else "" */
	int64_t period_end_unix_s;            /* PW_EV_SUBSCRIPTION_*: end of the invoiced period
	                                         (latest lines.data[].period.end); 0 unknown */
	char billing_reason[48];              /* Stripe invoice billing_reason, else "" */
} pw_event;

#endif
