/*
 * srv_notify.h - outbound notifications to merchants (issue 11,
 * docs/NOTIFY.md): the merchant calls on endpoints and messages (rows of the
 * call table, srv_calls.c) and the delivery worker.
 *
 * THE WORKER
 * One scanner thread reads the due index (store_outbox_due) every poll
 * interval (PW_NOTIFY_POLL_MS, PW_NOTIFY_POLL_MS_TEST in test builds, so an
 * injected clock that moves is seen), and whenever a delivery ends; it hands
 * due messages to a pool of sender threads, at most `per_endpoint` in flight
 * per endpoint. A sender signs and sends one message (prov_notify_post) and
 * records the result in a second write through the writer
 * (store_outbox_result). Never the writer, never an nng callback.
 *
 * At least once: a message leaves the outbox only with a 2xx; a crash
 * between the POST and its recording sends it again (same webhook-id).
 *
 * CHANNELS
 * The sender picks the send function by the endpoint's kind from
 * srv_notify_senders[] (srv_notify_worker.c): WEBHOOK is srv_notify_send_webhook,
 * EMAIL srv_notify_send_email (provider/prov_smtp.c), TELEGRAM
 * srv_notify_send_telegram (provider/prov_telegram.c); the text of the last
 * two is prov_notify_text's. Creating an EMAIL or TELEGRAM endpoint needs the
 * server configured for it (--smtp-url, PAYWIRE_TELEGRAM_BOT_TOKEN).
 */
#ifndef SRV_NOTIFY_H
#define SRV_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <paywire/status.h>

#include "prov_notify.h"
#include "srv_call.h"
#include "store.h"

/* ---- the calls (srv_calls.c rows) ---- */
pw_status srv_notify_create_validate(srv_call *c);
pw_status srv_notify_create_apply(store_txn *t, srv_call *c);
pw_status srv_notify_list_endpoints_read(srv_call *c);
pw_status srv_notify_update_validate(srv_call *c);
pw_status srv_notify_update_apply(store_txn *t, srv_call *c);
pw_status srv_notify_delete_validate(srv_call *c);
pw_status srv_notify_delete_apply(store_txn *t, srv_call *c);
pw_status srv_notify_rotate_validate(srv_call *c);
pw_status srv_notify_rotate_apply(store_txn *t, srv_call *c);
pw_status srv_notify_list_messages_validate(srv_call *c);
pw_status srv_notify_list_messages_read(srv_call *c);
pw_status srv_notify_retry_validate(srv_call *c);
pw_status srv_notify_retry_apply(store_txn *t, srv_call *c);
pw_status srv_notify_replay_validate(srv_call *c);
pw_status srv_notify_replay_apply(store_txn *t, srv_call *c);
void srv_reply_notify_create(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_rotate(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_update(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_delete(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_endpoints(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_messages(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_message(srv_reply_msg *m, srv_result *res);
void srv_reply_notify_replay(srv_reply_msg *m, srv_result *res);

/* ---- the worker ---- */

typedef struct srv_notify srv_notify;

typedef struct srv_notify_cfg {
	uint32_t workers;          /* sender threads, 1..PW_NOTIFY_WORKERS_MAX */
	uint32_t per_endpoint;     /* deliveries at once to one endpoint */
	uint32_t connect_ms;       /* one delivery's connect */
	uint32_t timeout_ms;       /* one delivery in all */
	int64_t disable_after_ms;  /* failing this long with no success: disabled */
	prov_notify_policy policy; /* https only, internal addresses (--notify-allow-*) */
	/* EMAIL endpoints (--smtp-url, --smtp-from; smtp_url "": none) */
	char smtp_url[PW_URL_BYTES_MAX + 1];
	char smtp_from[PW_NOTIFY_ADDR_BYTES_MAX + 1];
	char smtp_user[PW_NOTIFY_ADDR_BYTES_MAX + 1];       /* "": no AUTH */
	char smtp_password[PW_NOTIFY_SMTP_PASSWORD_BYTES_MAX + 1];        /* secret: never logged */
	bool smtp_allow_plain;
	/* TELEGRAM endpoints (PAYWIRE_TELEGRAM_BOT_TOKEN; "": none) */
	char telegram_api[PW_URL_BYTES_MAX + 1];
	char telegram_token[PW_NOTIFY_TELEGRAM_TOKEN_BYTES_MAX + 1]; /* secret */
	bool telegram_allow_http;
} srv_notify_cfg;

/* The retry schedule: the wait after failed attempt n (1-based) is
 * srv_notify_schedule_ms[n - 1], jittered by +-10%; after the last, the
 * message is a dead letter. */
extern const int64_t srv_notify_schedule_ms[];
extern const size_t srv_notify_schedule_len;
/* The wait after failed attempt n with a uniform r in [0, 1); 0: give up. */
int64_t srv_notify_backoff_ms(uint32_t n, double r);

pw_status srv_notify_start(srv_notify **out, const srv_notify_cfg *cfg, store *st) PW_WUR;
/* Wakes the scanner now (new messages committed). Any thread; n may be NULL. */
void srv_notify_poke(srv_notify *n);
/* Stops the threads (a delivery in flight ends within its timeout; its
 * result is recorded if the store still takes writes). Before store_close. */
void srv_notify_stop(srv_notify *n);
void srv_notify_free(srv_notify *n);

/* ---- channels: one send function per endpoint kind ---- */

/* What a sender gets: the message, its endpoint (no secret) and the
 * endpoint's secrets. It fills out (status: 2xx delivered, 410 gone,
 * anything else or 0 failed; error: why) and returns PW_OK, or
 * PW_INVALID_ARGUMENT when the policy refused the target (a failure too). */
typedef struct srv_notify_send_out {
	long status;
	char error[PW_NOTIFY_ERROR_BYTES_MAX];
} srv_notify_send_out;

typedef pw_status (*srv_notify_send_fn)(const srv_notify_cfg *cfg,
    const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out);

/* EMAIL: a short text mail to ep->url (an address) through the relay;
 * TELEGRAM: the same text to the chat ep->url through the Bot API. A
 * message the relay or Telegram accepted is delivered (status 200); any
 * refusal is a failure on the schedule (out->error says why). */
pw_status srv_notify_send_email(const srv_notify_cfg *cfg,
    const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out);
pw_status srv_notify_send_telegram(const srv_notify_cfg *cfg,
    const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out);

/* Standard Webhooks over HTTP(S). */
pw_status srv_notify_send_webhook(const srv_notify_cfg *cfg,
    const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out);

#endif
