/*
 * srv_wh_types.h - the data the webhook code shares between its two layers:
 * the headers of a request, the secrets of every provider and the rest of the
 * webhook configuration, and the header lookup every provider uses.
 *
 * OWNS
 * - srv_header, srv_webhook_secret, srv_webhook_keyring,
 *   srv_webhook_network, srv_webhook_config: plain data, no behaviour.
 *   srv_webhook.h (what the rest of the server calls: configuration, verify,
 *   parse) and srv_wh.h (what a provider file is made of) both build on
 *   them, so neither layer needs the other's header for its types: the
 *   provider layer (srv_wh*.c) depends on nothing above it.
 * - The two lookups the provider files make in that data,
 *   srv_webhook_header_find() and srv_webhook_min_confirmations(), defined
 *   in srv_wh.c with the other shared helpers.
 *
 * THREADS AND LIFETIMES
 * As srv_webhook.h: a config is built on one thread at startup and read-only
 * afterwards; a srv_header array belongs to the caller for one call.
 */
#ifndef SRV_WH_TYPES_H
#define SRV_WH_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_event.h"
#include "pw_limits.h"

/* Network names: 1..31 bytes of [a-z0-9_-] (pw_event.network is 32 bytes). */
#define SRV_WEBHOOK_NETWORK_BYTES 32

/* One HTTP header as forwarded by the bridge (names lower case; they are
 * matched case-insensitively all the same, as HTTP defines them). */
typedef struct srv_header {
	const char *name;  /* lower-case header name, NUL-terminated */
	const char *value; /* header value as received, NUL-terminated */
} srv_header;

/* One configured secret, already in the form the HMAC uses. */
typedef struct srv_webhook_secret {
	uint8_t key[PW_WEBHOOK_SECRET_BYTES_MAX]; /* HMAC key bytes (wiped by fini) */
	size_t key_len;                            /* bytes used in key, >= 1 */
} srv_webhook_secret;

/* Secrets of one provider; all of them are tried (rotation). */
typedef struct srv_webhook_keyring {
	srv_webhook_secret secrets[PW_SECRETS_PER_PROVIDER_MAX]; /* active secrets */
	size_t count;                                            /* secrets in use */
} srv_webhook_keyring;

/* A Web3 network and the confirmations it needs before a payment counts. */
typedef struct srv_webhook_network {
	char name[SRV_WEBHOOK_NETWORK_BYTES]; /* lower-case network name, e.g. "base" */
	int64_t min_confirmations;            /* >= 1 */
	bool operator_set;                    /* from the operator's spec, not a default */
} srv_webhook_network;

typedef struct srv_webhook_config {
	srv_webhook_keyring keyrings[PW_PROVIDER_COUNT];    /* by pw_provider_index() */
	int64_t tolerance_s;                                /* timestamp tolerance, both ways */
	srv_webhook_network networks[PW_WEB3_NETWORKS_MAX]; /* Web3 confirmation minimums */
	size_t network_count;                               /* entries used in networks */
} srv_webhook_config;

/* Finds the header called `name` (compared case-insensitively) among
 * h[0..nh). Returns 1 and sets *value when exactly one is present, 0 when
 * none (*value = NULL), and -1 when it appears more than once (*value =
 * NULL): an ambiguous signature or id is refused rather than guessed. */
int srv_webhook_header_find(const srv_header *h, size_t nh, const char *name, const char **value);

/* The confirmation minimum of a network (exact, lower-case name). False when
 * the network has none configured. *operator_set (may be NULL): the operator
 * set it (PAYWIRE_WEB3_MIN_CONFIRMATIONS), rather than paywire's defaults. */
bool srv_webhook_min_confirmations(const srv_webhook_config *cfg, const char *network,
    int64_t *min_out, bool *operator_set);

#endif /* SRV_WH_TYPES_H */
