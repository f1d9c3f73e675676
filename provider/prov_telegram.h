/* prov_telegram.h - one message through the Telegram Bot API's sendMessage,
 * by libcurl (issue 11: the Telegram channel of notifications).
 *
 * POST {api_base}/bot{token}/sendMessage with the JSON body
 * {"chat_id": "<chat>", "text": "<text>"} (plain text: no parse_mode, so
 * nothing in the text is markup). The token is part of the URL's path, so
 * the URL is never logged and never in an error; an error is also scrubbed
 * of the token in case the API or libcurl echoed it.
 *
 * What is accepted (checked before anything is sent):
 *   token: the Bot API's shape, digits ':' then 30.. of A-Z a-z 0-9 _ -
 *          (at most PW_NOTIFY_TELEGRAM_TOKEN_BYTES_MAX bytes);
 *   chat_id: an integer (-100... for a channel or supergroup) of at most 20
 *          digits, or "@" and a public name of 5..32 of A-Z a-z 0-9 _;
 *   text: 1..PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX bytes of UTF-8 (the API
 *          counts characters, at most 4096: a byte count is always within).
 * api_base: https:// (TLS verified, ca_file adds a CA); http:// only with
 * allow_http AND a loopback host (the tests' stand-in).
 *
 * Blocks for up to cfg->timeout_ms. Thread-safe: each call uses its own
 * libcurl handle. Never called by the writer or in an nng callback.
 */
#ifndef PW_PROV_TELEGRAM_H
#define PW_PROV_TELEGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_common.h"

#define PW_TELEGRAM_API_DEFAULT "https://api.telegram.org"

typedef struct prov_telegram_cfg {
	const char *api_base;   /* NULL: PW_TELEGRAM_API_DEFAULT; no trailing slash needed */
	const char *ca_file;    /* extra CA bundle, NULL: system */
	bool allow_http;        /* http:// api_base to a loopback host: stand-ins only */
	long timeout_ms;        /* the whole call; 0: PW_NOTIFY_TIMEOUT_MS_DEFAULT */
	long connect_timeout_ms; /* 0: PW_NOTIFY_CHAN_CONNECT_MS (capped by timeout_ms) */
} prov_telegram_cfg;

/* Bot API sendMessage (POST {api_base}/bot{token}/sendMessage, JSON {chat_id, text}).
 * PW_OK on {"ok":true}. 429 → PW_RESOURCE_EXHAUSTED with *retry_after_ms from
 * parameters.retry_after (or the Retry-After header; at most
 * PW_NOTIFY_RETRY_AFTER_MAX_S); 5xx/network/an answer that is not the API's
 * JSON → PW_UNAVAILABLE; 400/401/403/404 and any other 4xx (chat not found,
 * bot blocked, token revoked) → PW_FAILED_PRECONDITION (permanent).
 * PW_INVALID_ARGUMENT: a cfg or argument outside what is accepted (nothing
 * sent). retry_after_ms may be NULL; it is set to 0 unless a 429 says more.
 * err (errlen > 0): a clear reason with the API's description; the token
 * never appears in it. */
pw_status prov_telegram_send(const prov_telegram_cfg *cfg, const char *bot_token,
    const char *chat_id, const char *text, int64_t *retry_after_ms, char *err,
    size_t errlen) PW_WUR;

#endif
