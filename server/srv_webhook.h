/*
 * srv_webhook.h - provider webhooks: secrets, signature verification, and
 * parsing of a verified body into one provider-neutral pw_event. What the
 * rest of the server calls.
 *
 * OWNS
 * - srv_webhook_config: the webhook secrets of every provider of the table
 *   (PW_PROVIDER_MAP; several per provider at once, for rotation), the
 *   timestamp tolerance and the Web3 per-network confirmation minimums.
 *   Secrets live only inside this struct (caller's memory) and are wiped by
 *   srv_webhook_config_fini().
 * - srv_webhook_verify(): checks the provider's signature over the raw body,
 *   byte for byte, before anything parses it.
 * - srv_webhook_parse(): decodes a verified body (jansson) into a pw_event.
 * Both dispatch to the provider's ops (srv_wh.h): each provider's secret
 * format, verification and parsing live together in server/srv_wh_<name>.c.
 * Code in srv_webhook.c; docs/WEBHOOKS.md has the schemes, the event-type
 * table and the decisions, docs/PROVIDERS.md how to add a provider.
 *
 * THREADS AND LIFETIMES
 * Build the config on one thread at startup (init, add_secret, from_env,
 * set_min_confirmations, set_tolerance); from then on it is read-only and
 * verify/parse may run on any number of threads at once with the same const
 * config (no locks, no globals, no allocation except jansson's, inside parse).
 * srv_webhook_config_fini() runs after the last verify/parse has returned.
 * Nothing keeps a pointer into the caller's headers or body after returning.
 * libsodium must be initialised (pw_common_init) before verify or add_secret.
 *
 * SECRETS
 * A secret never appears in a log line, a `why` text, an error or a reply, and
 * neither does a MAC computed from it. MACs are compared in constant time
 * (sodium_memcmp).
 *
 * LIMITS (see also common/pw_limits.h)
 * - PW_SECRETS_PER_PROVIDER_MAX secrets per provider.
 * - PW_WEBHOOK_SECRET_BYTES_MAX bytes per secret string.
 * - A signature header is at most PW_HEADER_VALUE_BYTES_MAX bytes and lists
 *   at most PW_WEBHOOK_SIGNATURES_MAX signature entries.
 * - A body is at most PW_WEBHOOK_BODY_BYTES_MAX bytes; at most
 *   PW_WEBHOOK_HEADERS_MAX headers are passed.
 * - PW_WEB3_NETWORKS_MAX Web3 networks with a confirmation minimum.
 *
 * `why` (verify, parse): when why != NULL and why_size > 0, it receives a
 * NUL-terminated human reason on failure (truncated to fit) and "" on
 * success. It never contains a secret or a MAC. The configuration functions
 * log their reason instead (pw_log, PW_LOG_ERROR), also without the secret.
 */
#ifndef SRV_WEBHOOK_H
#define SRV_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "pw_event.h"
#include "pw_limits.h"
#include "srv_wh_types.h"

/* ---- configuration (startup thread only) ---- */

/* Fills *cfg with no secrets, tolerance PW_WEBHOOK_TOLERANCE_S and the
 * default confirmation minimums: ethereum 12, base 12, optimism 12,
 * arbitrum 12, polygon 128 (see docs/WEBHOOKS.md for why). Never fails. */
void srv_webhook_config_init(srv_webhook_config *cfg);

/* Wipes every secret (sodium_memzero) and the whole struct. cfg may be
 * re-initialised with srv_webhook_config_init afterwards. */
void srv_webhook_config_fini(srv_webhook_config *cfg);

/* Adds one active secret for provider p. The secret is validated as given,
 * never trimmed:
 *   - 1..PW_WEBHOOK_SECRET_BYTES_MAX bytes of printable ASCII, no space, tab,
 *     CR, LF or other control byte anywhere (a trailing newline from a file or
 *     a copy-paste is an error, not silently removed);
 *   - then the provider's own format (its ops' secret_decode), e.g.
 *     Stripe: starts with "whsec_"; the HMAC key is the whole string's bytes;
 *     Razorpay: any such string; the HMAC key is its bytes;
 *     One.com, Web3 (Standard Webhooks): "whsec_" + standard base64 (padded
 *     or not) that decodes to 1..PW_WEBHOOK_STD_KEY_BYTES_MAX bytes; the
 *     HMAC key is the decoded bytes;
 *   - and the HMAC key is at least PW_SECRET_BYTES_MIN (24) bytes long.
 * PW_OK: stored. PW_INVALID_ARGUMENT: bad provider, bad secret, or already
 * PW_SECRETS_PER_PROVIDER_MAX secrets for p; cfg unchanged. The reason is
 * logged (never the secret itself). */
pw_status srv_webhook_config_add_secret(srv_webhook_config *cfg, pw_provider p,
    const char *secret) PW_WUR;

/* Adds every secret of a list: secrets separated by one comma and/or
 * whitespace ("whsec_a,whsec_b", "whsec_a whsec_b", "whsec_a, whsec_b").
 * Leading or trailing whitespace or commas, or an empty entry (",,"), are
 * refused. All or nothing: on any error cfg is unchanged. Same statuses as
 * srv_webhook_config_add_secret; the log names the entry's position (1-based). */
pw_status srv_webhook_config_add_secret_list(srv_webhook_config *cfg, pw_provider p,
    const char *list) PW_WUR;

/* Overrides or adds Web3 confirmation minimums from a spec
 * "network:count[,network:count...]", e.g. "base:5,ethereum:20". Network names
 * are 1..31 bytes of [a-z0-9_-] (upper case is lowered); count is a decimal
 * 1..PW_WEB3_CONFIRMATIONS_MAX. No spaces. All or nothing: on error
 * (PW_INVALID_ARGUMENT, also when the table would exceed
 * PW_WEB3_NETWORKS_MAX) cfg is unchanged. */
pw_status srv_webhook_config_set_min_confirmations(srv_webhook_config *cfg,
    const char *spec) PW_WUR;

/* Sets the timestamp tolerance (seconds, applied both ways), 1..
 * PW_WEBHOOK_TOLERANCE_S_MAX. PW_INVALID_ARGUMENT otherwise (cfg unchanged). */
pw_status srv_webhook_config_set_tolerance(srv_webhook_config *cfg, int64_t tolerance_s) PW_WUR;

/* Reads every provider's secret variable (pw_provider_secret_env:
 * PAYWIRE_STRIPE_WEBHOOK_SECRET, ...; each a list as in
 * srv_webhook_config_add_secret_list; unset = no secret for that provider,
 * whose webhooks then answer UNAVAILABLE; set but empty is refused) and
 * PAYWIRE_WEB3_MIN_CONFIRMATIONS (a spec as in
 * srv_webhook_config_set_min_confirmations). PW_OK or PW_INVALID_ARGUMENT,
 * the log naming the variable (never its value). On error cfg may hold the
 * secrets of the variables read before the bad one: the caller refuses to
 * start and calls srv_webhook_config_fini. Not thread-safe (getenv). */
pw_status srv_webhook_config_from_env(srv_webhook_config *cfg) PW_WUR;

/* True when at least one secret is configured for p. */
bool srv_webhook_config_has_secret(const srv_webhook_config *cfg, pw_provider p);

/* Signs body as Stripe does ("t=<now>,v1=<hex HMAC-SHA256>") with the first
 * configured Stripe secret, into header: the test-mode payments of the
 * checkout page (srv_calls.c test_payment) go through srv_webhook_verify like
 * any delivery. PW_UNAVAILABLE: no Stripe secret; PW_INTERNAL: header too
 * small (>= 96 bytes is enough). The header is a MAC: never log it. */
pw_status srv_webhook_sign_stripe(const srv_webhook_config *cfg, const uint8_t *body,
    size_t body_len, int64_t now_unix_s, char *header, size_t header_size) PW_WUR;

/* Prints one --help line per provider of the table: its secret variable
 * and its label. */
void srv_webhook_help(FILE *out);

/* ---- headers (any thread) ---- */


/* ---- verification and parsing (any thread, const config) ---- */

/* Verifies the provider's signature over body[0..body_len) exactly as
 * received, before any parsing, with the provider's ops. now_unix_s is the
 * current time (injected so tests can use fixed vectors). The schemes:
 *   Stripe:   "stripe-signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]";
 *             HMAC-SHA256(key = whole whsec_ string, "<t>.<body>"); any v1
 *             may match; other schemes (v0...) are ignored.
 *   Razorpay: "x-razorpay-signature: <hex>" = HMAC-SHA256(secret, body); no
 *             timestamp is signed, so none is checked.
 *   One.com, Web3 (Standard Webhooks): "webhook-id", "webhook-timestamp",
 *             "webhook-signature: v1,<base64> [v1,<base64> ...]" (other
 *             versions ignored); HMAC-SHA256(key = decoded whsec_ key,
 *             "<id>.<timestamp>.<body>").
 * Every configured secret of p is tried. The timestamp must be within
 * cfg->tolerance_s of now_unix_s in BOTH directions (a Stripe timestamp 301 s
 * in the future is refused too, unlike Stripe's SDKs).
 * Returns:
 *   PW_OK               a configured secret signed this body (and timestamp ok);
 *   PW_UNAUTHENTICATED  signature header missing, repeated, malformed or
 *                       over the limits; no signature matched; timestamp out
 *                       of tolerance;
 *   PW_UNAVAILABLE      no secret configured for p (the provider retries until
 *                       an operator configures one);
 *   PW_INVALID_ARGUMENT p is not a provider, body_len > PW_WEBHOOK_BODY_BYTES_MAX
 *                       or nh > PW_WEBHOOK_HEADERS_MAX.
 * Preconditions (asserted): cfg != NULL; h != NULL unless nh == 0; body !=
 * NULL unless body_len == 0. Does not block; no allocation. */
pw_status srv_webhook_verify(const srv_webhook_config *cfg, pw_provider p, const srv_header *h,
    size_t nh, const uint8_t *body, size_t body_len, int64_t now_unix_s, char *why,
    size_t why_size) PW_WUR;

/* Parses a body that srv_webhook_verify accepted into *out (fully
 * overwritten; on error *out is zeroed) with the provider's ops. The JSON is
 * decoded from the exact bytes (json_loadb, duplicate keys refused, unknown
 * keys ignored). See docs/WEBHOOKS.md for every event type, the field each
 * pw_event member comes from, and how amounts are converted exactly to minor
 * units.
 * Returns:
 *   PW_OK               *out filled; an event type paywire does not act on is
 *                       PW_OK with kind PW_EV_IGNORED; an event with no paywire
 *                       reference is PW_OK with session_ref "" (the store
 *                       resolves it through payment/charge/order refs or
 *                       answers IGNORED);
 *   PW_INVALID_ARGUMENT not JSON, not an object, a required field missing or
 *                       of the wrong type, an amount not exact in the
 *                       currency's minor units or out of range, an unknown
 *                       currency, a string longer than its pw_event field, a
 *                       required header (webhook-id, webhook-timestamp)
 *                       missing, p not a provider; why says which.
 * Preconditions as for srv_webhook_verify, and out != NULL. Allocates only
 * inside jansson, everything freed before returning. */
pw_status srv_webhook_parse(const srv_webhook_config *cfg, pw_provider p, const srv_header *h,
    size_t nh, const uint8_t *body, size_t body_len, pw_event *out, char *why,
    size_t why_size) PW_WUR;

#endif
