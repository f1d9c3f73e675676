/*
 * pw_limits.h - every limit of paywire, with why. Over a limit: a clear error,
 * nothing written. Related limits are tied together with _Static_assert.
 */
#ifndef PW_LIMITS_H
#define PW_LIMITS_H

#include <stdint.h>

/* Largest RPC frame the server accepts (NNG_OPT_RECVMAXSZ). A webhook body plus
 * its headers must fit; nng 1.5.2 has no limit by default. */
#define PW_RPC_MSG_BYTES_MAX (2u * 1024u * 1024u)

/* Largest webhook body the bridge accepts (HTTP 413 above). Stripe events are
 * well under 64 KiB; 1 MiB leaves room for any provider. */
#define PW_WEBHOOK_BODY_BYTES_MAX (1024u * 1024u)

/* Headers forwarded with a webhook, and the size of each. */
#define PW_WEBHOOK_HEADERS_MAX 64
#define PW_HEADER_NAME_BYTES_MAX 128
#define PW_HEADER_VALUE_BYTES_MAX 8192

_Static_assert(PW_WEBHOOK_BODY_BYTES_MAX +
        PW_WEBHOOK_HEADERS_MAX * (PW_HEADER_NAME_BYTES_MAX + PW_HEADER_VALUE_BYTES_MAX) +
        64u * 1024u <= PW_RPC_MSG_BYTES_MAX,
    "a maximal webhook must fit in one RPC frame");

/* Amounts: minor units, strictly positive, at most this. 10^12 minor units is
 * 10 billion EUR; far above any checkout, far below int64 overflow even when
 * summed over many refunds. */
#define PW_AMOUNT_MINOR_MAX INT64_C(1000000000000)

/* URLs (success/cancel): http(s) only, at most this many bytes. */
#define PW_URL_BYTES_MAX 2048

/* Metadata: Stripe's limits. */
#define PW_METADATA_ENTRIES_MAX 50
#define PW_METADATA_KEY_BYTES_MAX 40
#define PW_METADATA_VALUE_BYTES_MAX 500

/* Free-text strings. */
#define PW_NAME_BYTES_MAX 200         /* merchant name, customer name */
#define PW_EMAIL_BYTES_MAX 254        /* RFC 5321 path limit */
#define PW_CUSTOMER_REF_BYTES_MAX 200
#define PW_IDEMPOTENCY_KEY_BYTES_MAX 255 /* Stripe's limit */
#define PW_REQUEST_ID_BYTES_MAX 128
#define PW_API_KEY_BYTES_MAX 128
#define PW_SESSION_ID_BYTES_MAX 64
#define PW_PLAN_BYTES_MAX 64
#define PW_CREDITS_MAX INT64_C(1000000000)

/* Repeated/map fields the wire validator accepts in one message, over all. */
#define PW_WIRE_REPEATED_MAX 128
_Static_assert(PW_WIRE_REPEATED_MAX >= PW_METADATA_ENTRIES_MAX, "metadata fits");
_Static_assert(PW_WIRE_REPEATED_MAX >= PW_WEBHOOK_HEADERS_MAX, "headers fit");

/* Server: nng contexts (concurrent requests in flight). */
#define PW_SRV_CONTEXTS_DEFAULT 128
#define PW_SRV_CONTEXTS_MAX 4096

/* Writer: bounded queue; a full queue answers UNAVAILABLE (retryable). */
#define PW_STORE_QUEUE_MAX 4096
/* Requests applied in one write transaction (one fsync). */
#define PW_STORE_BATCH_MAX 256
_Static_assert(PW_STORE_BATCH_MAX <= PW_STORE_QUEUE_MAX, "a batch fits the queue");
_Static_assert(PW_SRV_CONTEXTS_MAX <= PW_STORE_QUEUE_MAX,
    "every context can have one write queued");

/* LMDB map size default (grows nothing by itself: a full map answers
 * RESOURCE_EXHAUSTED while reads go on). */
#define PW_MAP_SIZE_DEFAULT (1024ull * 1024ull * 1024ull)
#define PW_MAP_SIZE_MIN (1024ull * 1024ull)

/* Idempotency keys and stored replies are kept this long (Stripe: 24 h). */
#define PW_IDEMPOTENCY_TTL_MS (24ll * 3600ll * 1000ll)
/* The writer deletes expired replies/idempotency keys itself: at most once
 * per interval it appends one purge write, bounded to this many entries
 * examined per db, to a batch it is committing anyway (no extra fsync). */
#define PW_STORE_PURGE_INTERVAL_MS (60ll * 1000ll)
#define PW_STORE_PURGE_SCAN_MAX 1024u
_Static_assert(PW_STORE_PURGE_INTERVAL_MS < PW_IDEMPOTENCY_TTL_MS, "purge runs well within a TTL");

/* Webhook timestamp tolerance, both ways (Stripe's default). */
#define PW_WEBHOOK_TOLERANCE_S 300

/* Secrets per provider active at once (rotation). */
#define PW_SECRETS_PER_PROVIDER_MAX 4

/* Customer access link lifetime. */
#define PW_ACCESS_LINK_TTL_S (7 * 24 * 3600)

/* Bridge. */
#define PW_BRIDGE_CONNECTIONS_MAX 1024
#define PW_BRIDGE_CONN_TIMEOUT_S 30
#define PW_BRIDGE_HEADER_BYTES_MAX (64u * 1024u)

/* Client: default per-call timeout and retries (same request_id). */
#define PW_CLIENT_TIMEOUT_MS_DEFAULT 5000
#define PW_CLIENT_RETRIES_DEFAULT 3

#endif
