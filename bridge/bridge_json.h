/*
 * bridge_json.h - JSON in and out of the bridge (jansson), and the exact
 * conversion of JSON amounts to minor units.
 *
 * AMOUNTS NEVER PASS THROUGH A DOUBLE. jansson turns a JSON number with a
 * fraction into a double, so "49.01" would be 49.009999... The bridge
 * therefore uses jansson only to validate a request body and to read its
 * strings and objects (json_loadb with JSON_REJECT_DUPLICATES and
 * JSON_DECODE_INT_AS_REAL, so that no integer, however long, makes parsing
 * fail before we can say which field is wrong). Every number the bridge uses
 * (amount, amount_minor, credits) is read from its raw token text, found by a
 * small scanner over the top-level object of the already-validated body
 * (bridge_json_raw_member), and converted by pw_amount_parse with the
 * currency's exponent. A number with a sign or an exponent ("1e3", "-1") is
 * refused, as is more precision than the currency has ("49.001" EUR, "0.5" JPY).
 *
 * Owns: bridge_create holds the parsed jansson tree; params' strings point
 * into it until bridge_json_create_fini. Threads: any; nothing shared.
 */
#ifndef BRIDGE_JSON_H
#define BRIDGE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <paywire/client.h>

#include "bridge_buf.h"
#include "pw_common.h"
#include "pw_limits.h"

/* Room for an error message about a request (key names are cut to 64 bytes). */
#define BRIDGE_JSON_MSG_BYTES 256

/* Finds the raw value token of top-level member `key` in body[0..len), which
 * must be a JSON object that jansson has accepted. On PW_OK val and val_len
 * span the token exactly as sent ("\"49.00\"", "49.00", "{...}").
 * PW_NOT_FOUND if there is no such member; PW_INVALID_ARGUMENT if the body is
 * not an object (never for a validated object). Keys are compared after JSON
 * unescaping, so "\u0061mount" is "amount". */
pw_status bridge_json_raw_member(const char *body, size_t len, const char *key, const char **val,
    size_t *val_len) PW_WUR;

/* Converts the raw JSON token of an amount (a JSON string "49.00" or a JSON
 * number 49.00) to minor units with `exponent` decimals (0..4). PW_OK with
 * *out in 1..PW_AMOUNT_MINOR_MAX, else PW_INVALID_ARGUMENT (sign, exponent
 * notation, empty, too precise, zero, too large, not a string or number).
 * msg (may be NULL) gets a sentence for the client. */
pw_status bridge_json_amount(const char *raw, size_t raw_len, int exponent, int64_t *out, char *msg,
    size_t msg_size) PW_WUR;

/* Converts the raw token of a JSON integer (digits only, no sign, fraction or
 * exponent) in 1..max. PW_INVALID_ARGUMENT otherwise. */
pw_status bridge_json_count(const char *raw, size_t raw_len, int64_t max, int64_t *out) PW_WUR;

/* A parsed POST /create_session body. */
typedef struct bridge_create {
	pw_session_params params;                  /* ready for pw_session_create */
	char currency[4];                          /* upper-cased ISO 4217 code */
	pw_kv metadata[PW_METADATA_ENTRIES_MAX];   /* params.metadata points here */
	void *root;                                /* json_t *: owns the strings above */
} bridge_create;

/* Parses and checks a create_session body. idempotency_header is the
 * Idempotency-Key header or NULL. Accepted keys: amount | amount_minor,
 * currency, mode, success_url, cancel_url, customer_email, customer_name,
 * customer_ref, idempotency_key, metadata, plan | credits; any other key is
 * refused (as Stripe does). currency, mode and one of amount / amount_minor
 * are required; JSON null means "absent" for the optional keys.
 * PW_OK: out is filled, call bridge_json_create_fini. PW_INVALID_ARGUMENT:
 * msg says what is wrong, nothing to free (out is reset). */
pw_status bridge_json_create_parse(const char *body, size_t len, const char *idempotency_header,
    bridge_create *out, char *msg, size_t msg_size) PW_WUR;
void bridge_json_create_fini(bridge_create *c);

/* Answers. Each appends one compact JSON document to out. Strings that are
 * not valid UTF-8 are replaced by U+FFFD. */
/* {"error":{"code":code,"message":message}} */
void bridge_json_error(bridge_buf *out, const char *code, const char *message);
/* The created session; checkout_url is the bridge's own checkout page. */
void bridge_json_session(bridge_buf *out, const pw_session *s, const char *checkout_url);

/* POST /sessions/{id}/refund and /portal (issue 10): their bodies and answers. */
pw_status bridge_json_refund_parse(const char *body, size_t len, int64_t *amount_minor,
    char *reason, size_t reason_size, char *msg, size_t msg_size) PW_WUR;
pw_status bridge_json_portal_parse(const char *body, size_t len, char *return_url,
    size_t url_size, char *msg, size_t msg_size) PW_WUR;
void bridge_json_refund(bridge_buf *out, const pw_refund *r);
void bridge_json_portal(bridge_buf *out, const pw_portal *p);
/* What GET /session/{id}/status?secret= adds for the customer (the secret
 * matched): absolute URLs the bridge built, "" for none. */
typedef struct bridge_json_customer {
	const char *access_url;   /* the access link, once paid */
	const char *continue_url; /* success_url with the session id, once paid */
} bridge_json_customer;

/* GET /session/{id}/status: the status; with cv (the checkout secret
 * matched) also merchant_name, plan, credits, access_url, continue_url,
 * cancel_url. Without cv never the access link. */
void bridge_json_status(bridge_buf *out, const pw_status_info *s, const bridge_json_customer *cv);
/* A recorded webhook: outcome, session_id, event_id, event_type, reason only. */
void bridge_json_webhook(bridge_buf *out, const pw_webhook_result *r);
/* {"status":status} */
void bridge_json_health(bridge_buf *out, const char *status);

#endif
