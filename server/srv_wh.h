/*
 * srv_wh.h - what a provider's webhook file is made of: one ops struct, and
 * the shared pieces every provider builds on.
 *
 * OWNS
 * - srv_wh_ops: one provider's secret check, signature verification and body
 *   parsing. Each provider file server/srv_wh_<name>.c defines exactly one,
 *   `const srv_wh_ops srv_wh_ops_<NAME>`, with designated initializers.
 *   srv_wh.c registers every row of PW_PROVIDER_MAP in one array (the way nng
 *   registers its protocols' ops): a table row without its file fails to
 *   link, and srv_wh_ops_get asserts that each ops names its own row.
 * - srv_wh_req: one webhook request as verify and parse see it.
 * - The helpers the provider files share, so that none copies another:
 *   srv_wh.c         `why`, header lookup, timestamps, MAC decoding and the
 *                    constant-time match against every configured secret;
 *   srv_wh_json.c    typed JSON members, field tables (ids copied into
 *                    pw_event), event-type tables, currencies, amounts in
 *                    minor units and exact decimal amounts, detail notes, the
 *                    body decoder;
 *   srv_wh_standard.c the Standard Webhooks scheme (secret, signature,
 *                    webhook-id/-timestamp envelope) that One.com, the Web3
 *                    relay and the test provider use.
 * srv_webhook.h is the contract the rest of the server calls (configuration,
 * srv_webhook_verify, srv_webhook_parse); it dispatches through these ops.
 * docs/PROVIDERS.md says how to add a provider; docs/WEBHOOKS.md has each
 * provider's scheme and event mapping.
 *
 * THREADS AND LIFETIMES
 * As srv_webhook.h: ops and helpers run on any thread with a const config,
 * no locks, no globals, no allocation except jansson's inside parse. Nothing
 * keeps a pointer into the request after returning. A `why` never holds a
 * secret or a MAC.
 */
#ifndef SRV_WH_H
#define SRV_WH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "pw_event.h"
#include "srv_wh_types.h"

#define SRV_WH_MAC_BYTES crypto_auth_hmacsha256_BYTES
/* Secrets of the whsec_ family (Stripe, Standard Webhooks) start with this. */
#define SRV_WH_SECRET_PREFIX "whsec_"
#define SRV_WH_SECRET_PREFIX_LEN (sizeof(SRV_WH_SECRET_PREFIX) - 1)
/* Unix timestamps in signature headers: at most 12 digits (year 33658), so
 * every arithmetic on them stays far from int64 overflow. */
#define SRV_WH_TS_DIGITS_MAX 12
/* Provider strings quoted in pw_event.detail (codes, statuses, header ids). */
#define SRV_WH_DETAIL_WORD_MAX 48

/* One webhook request. srv_webhook_verify and srv_webhook_parse fill it and
 * pass it to the provider's ops; verify leaves root and ev NULL, parse leaves
 * kr NULL. */
typedef struct srv_wh_req {
	const srv_webhook_config *cfg;  /* configuration, read-only */
	const srv_webhook_keyring *kr;  /* verify: the provider's secrets (count >= 1) */
	const srv_header *h;            /* request headers (lower-case names) */
	size_t nh;                      /* number of headers */
	const uint8_t *body;            /* raw body, exactly as signed */
	size_t body_len;                /* bytes in body */
	int64_t now_unix_s;             /* verify: current time (injected) */
	json_t *root;                   /* parse: the decoded body, a JSON object (not owned) */
	pw_event *ev;                   /* parse: the event being filled (zeroed, provider set) */
	char *why;                      /* reason out, may be NULL */
	size_t why_size;                /* size of why */
} srv_wh_req;

/* One provider. Every member is set (srv_wh_ops_get asserts it). */
typedef struct srv_wh_ops {
	pw_provider provider;           /* its row of PW_PROVIDER_MAP */
	/* Turns one secret (len bytes of printable ASCII, 1..
	 * PW_WEBHOOK_SECRET_BYTES_MAX, already checked) into HMAC key bytes in
	 * *out (zeroed by the caller). False with a reason in why (never NULL,
	 * why_size > 0; never the secret) when the provider's format refuses it;
	 * the reason completes "the secret ...", e.g. "must start with whsec_". */
	bool (*secret_decode)(const char *secret, size_t len, srv_webhook_secret *out, char *why,
	    size_t why_size);
	/* Checks the signature of r->body with the secrets r->kr (count >= 1)
	 * at r->now_unix_s: PW_OK or PW_UNAUTHENTICATED, why saying which check
	 * failed. */
	pw_status (*verify)(const srv_wh_req *r);
	/* Fills *r->ev from r->root (and headers when the provider signs data
	 * there): PW_OK, or PW_INVALID_ARGUMENT with why naming the field. */
	pw_status (*parse)(const srv_wh_req *r);
} srv_wh_ops;

/* The ops of every row, srv_wh_ops_<NAME>, each defined in its provider file. */
#define SRV_WH_XX_DECLARE(NAME, value, name, label, secret_env) \
	extern const srv_wh_ops srv_wh_ops_##NAME;
PW_PROVIDER_MAP(SRV_WH_XX_DECLARE)
#undef SRV_WH_XX_DECLARE

/* The ops registered for p; NULL when p is not a row of the table. */
const srv_wh_ops *srv_wh_ops_get(pw_provider p);

/* ---- text (srv_wh.c) ---- */

/* Writes a reason into r->why (truncated to fit; nothing when why is NULL
 * or why_size is 0) and returns st: PW_UNAUTHENTICATED from verify,
 * PW_INVALID_ARGUMENT from parse. */
pw_status srv_wh_fail(const srv_wh_req *r, pw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when the NUL-terminated s is 1..max bytes of printable ASCII without
 * space: what an identifier copied into a pw_event or a note may be. */
bool srv_wh_word_ok(const char *s, size_t max);

/* ---- signatures (srv_wh.c) ---- */

/* One piece of the signed content; pieces are MACed in order. */
typedef struct srv_wh_part {
	const void *ptr;                /* bytes, may be NULL when len == 0 */
	size_t len;                     /* length in bytes */
} srv_wh_part;

/* The signatures a header lists, decoded to raw MAC bytes. */
typedef struct srv_wh_sigs {
	uint8_t mac[PW_WEBHOOK_SIGNATURES_MAX][SRV_WH_MAC_BYTES]; /* the v1 MACs */
	size_t count;                   /* v1 MACs found */
	size_t entries;                 /* signature entries seen, any version */
} srv_wh_sigs;

/* The single value of the required header `name`, at most
 * PW_HEADER_VALUE_BYTES_MAX bytes (*len). False with why set when it is
 * missing, repeated or too long. */
bool srv_wh_header_get(const srv_wh_req *r, const char *name, const char **value, size_t *len);

/* s[0..len) as a decimal unix timestamp of 1..SRV_WH_TS_DIGITS_MAX digits. */
bool srv_wh_ts_parse(const char *s, size_t len, int64_t *out);

/* PW_OK when ts is within cfg->tolerance_s of r->now_unix_s in both
 * directions, else PW_UNAUTHENTICATED with why naming `what`. */
pw_status srv_wh_ts_check(const srv_wh_req *r, const char *what, int64_t ts);

/* Decodes exactly SRV_WH_MAC_BYTES from 64 lower-case hex digits (as Stripe
 * and Razorpay send them; upper case is refused) or from padded standard
 * base64. False for anything else. */
bool srv_wh_hex_mac(const char *s, size_t len, uint8_t mac[SRV_WH_MAC_BYTES]);
bool srv_wh_b64_mac(const char *s, size_t len, uint8_t mac[SRV_WH_MAC_BYTES]);

/* True when some secret of r->kr, MACing the concatenated parts, produces
 * one of sigs' MACs. Every secret and every candidate is compared, each in
 * constant time (sodium_memcmp); the computed MACs are wiped. */
bool srv_wh_any_match(const srv_wh_req *r, const srv_wh_part *parts, size_t nparts,
    const srv_wh_sigs *sigs);

/* True when secret (len bytes) starts with SRV_WH_SECRET_PREFIX ("whsec_")
 * and has at least min_len bytes. The prefix is public, but every compare
 * that touches a secret is constant-time here (sodium_memcmp), so none of
 * them needs a reason to be otherwise. */
bool srv_wh_secret_prefixed(const char *secret, size_t len, size_t min_len);

/* secret_decode for providers whose HMAC key is the secret string's own
 * bytes (Razorpay; Stripe after its prefix check). Never fails. */
bool srv_wh_secret_raw(const char *secret, size_t len, srv_webhook_secret *out, char *why,
    size_t why_size);

/* ---- JSON bodies (srv_wh_json.c) ---- */

typedef enum srv_wh_need {
	SRV_WH_OPTIONAL = 0,            /* absent or null is fine (*out = NULL / not present) */
	SRV_WH_REQUIRED = 1,            /* absent, null (or an empty string) is malformed */
} srv_wh_need;

/* Every function here answers PW_OK or PW_INVALID_ARGUMENT with why naming
 * `label`, the member's path in the body ("data.object.amount"). `parent`
 * may be NULL: then every member of it is absent. */

/* Decodes r->body (json_loadb, duplicate keys refused) into *root, a JSON
 * object owned by the caller (json_decref). why never echoes body bytes. */
pw_status srv_wh_json_decode(const srv_wh_req *r, json_t **root);

/* parent.key as an object / a string (*out NULL when absent and optional). */
pw_status srv_wh_json_obj(const srv_wh_req *r, json_t *parent, const char *key,
    const char *label, srv_wh_need need, json_t **out);
pw_status srv_wh_json_str(const srv_wh_req *r, json_t *parent, const char *key,
    const char *label, srv_wh_need need, const char **out);

/* parent.key as a JSON integer in [lo, hi] (a real is refused: these are
 * counts or minor units); *present says whether it was there. */
pw_status srv_wh_json_int(const srv_wh_req *r, json_t *parent, const char *key,
    const char *label, srv_wh_need need, int64_t lo, int64_t hi, int64_t *out, bool *present);

/* A string member copied into one of pw_event's identifier fields: most of
 * what a provider's object carries (ids, references, types). */
typedef struct srv_wh_field {
	const char *key;                /* member name */
	const char *label;              /* its path in the body, for why */
	srv_wh_need need;               /* REQUIRED: absent, null or "" is malformed */
	size_t offset;                  /* offsetof(pw_event, <field>), see SRV_WH_EV */
	size_t size;                    /* sizeof that field */
} srv_wh_field;

/* offset and size of a pw_event member, for srv_wh_field. */
#define SRV_WH_EV(member) offsetof(pw_event, member), sizeof(((pw_event *) 0)->member)

/* Reads fields[0..n) of obj in order, each a string copied as srv_wh_copy
 * does; an absent optional member leaves its pw_event field as it was. Stops
 * at the first error. SRV_WH_FIELDS takes an array. */
pw_status srv_wh_json_fields(const srv_wh_req *r, json_t *obj, const srv_wh_field *fields,
    size_t n);
#define SRV_WH_FIELDS(r, obj, fields) \
	srv_wh_json_fields((r), (obj), (fields), sizeof(fields) / sizeof((fields)[0]))

/* Copies an identifier into a pw_event field of dst_size bytes: printable
 * ASCII without spaces that fits (never truncated). src NULL or "" leaves "". */
pw_status srv_wh_copy(const srv_wh_req *r, char *dst, size_t dst_size, const char *src,
    const char *label);

/* obj.<key> (a JSON integer of minor units, 0..PW_AMOUNT_MINOR_MAX) and
 * obj.currency (ISO 4217, any case): ev->amount_minor, ev->currency,
 * ev->has_amount. An absent optional amount leaves them unset. */
pw_status srv_wh_minor_amount(const srv_wh_req *r, json_t *obj, const char *key,
    const char *label, srv_wh_need need, const char *cur_label);

/* Top-level "amount" in major units (a decimal string, or a JSON number
 * whose exact token is read from the raw body, never from a double) and
 * "currency": exact minor units, strictly positive, into ev. */
pw_status srv_wh_decimal_amount(const srv_wh_req *r);

/* The single value of a header, for parse (verify already bounded it). */
pw_status srv_wh_header_value(const srv_wh_req *r, const char *name, const char **value);

/* One event type of a provider and what it means. */
typedef struct srv_wh_event_type {
	const char *type;               /* the provider's event type, e.g. "charge.refunded" */
	unsigned shape;                 /* the provider's own index: what the payload carries */
	pw_event_kind kind;             /* its meaning (the provider may refine it) */
} srv_wh_event_type;

/* The row of types[0..n) whose type is ev->event_type: sets ev->kind to its
 * kind and returns it. NULL when paywire does not act on that type: then
 * ev->kind is PW_EV_IGNORED and `ignored` is noted in ev->detail. */
const srv_wh_event_type *srv_wh_event_type_find(const srv_wh_req *r,
    const srv_wh_event_type *types, size_t n, const char *ignored);

/* Appends "; <note>" to ev->detail when the whole note fits (detail is a
 * human aid, never data: a note that does not fit is left out whole). */
void srv_wh_detail(pw_event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ASCII upper case -> lower case; any other byte unchanged. */
char srv_wh_lower(char ch);

/* ---- Standard Webhooks (srv_wh_standard.c) ---- */

/* secret_decode: "whsec_" + standard base64 (padded or not) of
 * 1..PW_WEBHOOK_STD_KEY_BYTES_MAX bytes; the key is the decoded bytes. */
bool srv_wh_std_secret_decode(const char *secret, size_t len, srv_webhook_secret *out,
    char *why, size_t why_size);

/* verify: "webhook-id", "webhook-timestamp" and "webhook-signature:
 * v1,<base64> [v1,<base64>...]" (other versions ignored) over
 * "<id>.<timestamp>.<body>"; the timestamp within the tolerance. */
pw_status srv_wh_std_verify(const srv_wh_req *r);

/* For parse: webhook-id -> ev->event_id, webhook-timestamp ->
 * ev->event_unix_s, ev->live = -1 (these bodies do not say), and the body's
 * required "event" -> ev->event_type. */
pw_status srv_wh_std_envelope(const srv_wh_req *r);

#endif
