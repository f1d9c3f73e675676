/* prov_notify_text.h - the human text of a notification (issue 11): the
 * subject and body an email or a Telegram message carries for one event.
 *
 * Short, plain UTF-8 text, no secret: the text names the event, the
 * session, the merchant, the amount when known and a detail note; it never
 * holds a key, a token, a customer's address or a provider credential (the
 * caller passes none). Sizes are bounded: the subject fits
 * PW_NOTIFY_SUBJECT_BYTES_MAX, the body PW_NOTIFY_TEXT_BYTES_MAX, whatever
 * the inputs (each is cut at its limit, on a UTF-8 boundary, and control
 * characters become spaces, so a detail cannot add a line or a header).
 *
 * Pure function, thread-safe. */
#ifndef PW_PROV_NOTIFY_TEXT_H
#define PW_PROV_NOTIFY_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_common.h"

typedef struct prov_notify_event {
	const char *type;          /* "session.paid", "entitlement.past_due", ... (the outbox's types) */
	const char *session_id;    /* NULL or "": none */
	const char *merchant_id;   /* NULL or "": none */
	const char *detail;        /* a note (why it failed, ...); NULL or "": none */
	bool has_amount;           /* amount_minor and currency are meaningful */
	int64_t amount_minor;      /* minor units of currency */
	const char *currency;      /* ISO 4217, "EUR" */
	int64_t event_unix_s;      /* when it happened; 0: not said */
} prov_notify_event;

/* The subject and body buffers' sizes. */
#define PW_NOTIFY_TEXT_SUBJECT_SIZE (PW_NOTIFY_SUBJECT_BYTES_MAX + 1)
#define PW_NOTIFY_TEXT_BODY_SIZE (PW_NOTIFY_TEXT_BYTES_MAX + 1)

/* Writes the subject (one line, no LF) and the body (lines ending in "\n")
 * of ev. PW_OK, or PW_INVALID_ARGUMENT when ev->type is empty or not
 * made of a-z 0-9 . _ (nothing written then). */
pw_status prov_notify_text(const prov_notify_event *ev,
    char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE], char body[PW_NOTIFY_TEXT_BODY_SIZE]) PW_WUR;

#endif
