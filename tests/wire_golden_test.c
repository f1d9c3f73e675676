/*
 * wire_golden_test.c - the wire contract, recorded: a fixed sequence of
 * requests covering every call (create_merchant, create_session with every
 * field, get_status, ingest_webhook for each provider - applied, duplicate,
 * ignored, refused -, revoke_api_key, verify_audit, redeem_access) and the
 * error replies that matter (bad arguments, unauthenticated, not found,
 * idempotency conflicts, wire violations), sent to the built paywire-server
 * binary, with every reply compared field by field against
 * tests/golden/wire_replies.txt.
 *
 * The server runs as a child process (th_proc): the test knows only the wire
 * contract, the command line and the PAYWIRE_* environment, so a reshape of
 * the server's internals cannot change what it checks.
 *
 * Rendering (render_*): each reply is decoded and walked with protobuf-c's
 * descriptors, one line per field, unset and zero fields included, map
 * entries sorted by key, enums by name, unknown fields counted. Values that
 * are random on every run keep their shape only:
 * - ids, keys and tokens (fields named in random_fields) become
 *   "$<n>:<prefix>…<length><class>", where n numbers distinct values in
 *   order of first appearance, so "the same session id again" is checked;
 *   a known value inside another string (a URL, a message) becomes "$<n>";
 * - JWTs inside strings become "<jwt 3 parts>", checkout secrets (a URL's
 *   secret=) "<checkout secret>";
 * - *_unix_ms times become "<now>" when within a minute of the run, and
 *   "<now + 24 h>" when within a minute of a day after it (default expiry);
 * - head_hash becomes "<32 bytes>".
 *
 * Regenerate (only when a reply change is intended and reviewed):
 *   PW_GOLDEN_REGEN=1 ctest --test-dir build-test -R wire_golden
 * writes the file in the source tree; commit it with the change.
 */
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server_harness.h"

#define GOLDEN_PATH PW_SOURCE_DIR "/tests/golden/wire_replies.txt"
#define GOLD_TEXT_BYTES_MAX (1024 * 1024) /* rendered replies; today ~20 KiB */
#define GOLD_VARS_MAX 128                 /* distinct random values per run */
#define GOLD_DIFFS_SHOWN 40               /* differing lines printed on failure */

#define G_ADMIN_KEY "adm_golden_0123456789abcdef0123456789"
#define G_TOKEN_SECRET "golden-token-secret-0123456789abcdef0123"
#define G_STRIPE_SECRET "whsec_test_paywire_fixture_secret"
#define G_RZP_SECRET "rzp_webhook_fixture_secret"
#define G_STD_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define G_STD_WRONG "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* One random value seen in a reply, and its number in the rendering. */
typedef struct gold_var {
	char *value; /* malloc'd copy */
	int n;       /* 1-based, in order of first appearance */
} gold_var;

/* The state of one run: the server, the socket, the rendered text. */
typedef struct gold {
	th_proc proc;                  /* the paywire-server child */
	nng_socket sock;               /* REQ socket to it */
	char *text;                    /* rendered replies, NUL-terminated */
	size_t len;                    /* bytes used in text */
	gold_var vars[GOLD_VARS_MAX];  /* random values seen so far */
	int nvars;                     /* entries used in vars */
	int64_t t0_ms;                 /* wall clock at start, for time checks */
	unsigned rid_next;             /* counter of generated request ids */
	char rid[32];                  /* the last generated request id */
	Paywire__V1__Response *last;   /* the last decoded reply (owned) */
} gold;

/* Reply fields whose value is random on every run (by field name). */
static const char *const random_fields[] = {
	"merchant_id", "api_key", "id", "session_id", "access_key_id", "access_key", "key_id",
	"replaced_by", "key_prefix", "last4", "checkout_secret", "endpoint_id", "secret", "msg_id",
};

/* ---- text ---- */

static void
gold_put(gold *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
gold_put(gold *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->text + g->len, GOLD_TEXT_BYTES_MAX - g->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t) n < GOLD_TEXT_BYTES_MAX - g->len);
	g->len += (size_t) n;
}

/* Appends s quoted, with bytes outside printable ASCII as \xNN. */
static void
gold_put_quoted(gold *g, const char *s)
{
	gold_put(g, "\"");
	for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
			gold_put(g, "\\x%02x", *p);
		} else {
			gold_put(g, "%c", *p);
		}
	}
	gold_put(g, "\"");
}

/* ---- random values ---- */

static bool
is_random_field(const char *name)
{
	for (size_t i = 0; i < sizeof(random_fields) / sizeof(random_fields[0]); i++) {
		if (strcmp(random_fields[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* The number of value, registering it when new. */
static int
gold_var_n(gold *g, const char *value)
{
	for (int i = 0; i < g->nvars; i++) {
		if (strcmp(g->vars[i].value, value) == 0) {
			return g->vars[i].n;
		}
	}
	assert_true(g->nvars < GOLD_VARS_MAX);
	g->vars[g->nvars].value = strdup(value);
	assert_non_null(g->vars[g->nvars].value);
	g->vars[g->nvars].n = g->nvars + 1;
	return ++g->nvars;
}

/* "hex", "b64url" or "text": the alphabet of s (random base64url may lack
 * '-' and '_', so alphanumeric text counts as b64url too). */
static const char *
char_class(const char *s)
{
	bool hex = true, b64 = true;

	for (const char *p = s; *p != '\0'; p++) {
		bool digit = *p >= '0' && *p <= '9';
		bool lower = *p >= 'a' && *p <= 'z';
		bool upper = *p >= 'A' && *p <= 'Z';

		hex = hex && (digit || (*p >= 'a' && *p <= 'f'));
		b64 = b64 && (digit || lower || upper || *p == '-' || *p == '_');
	}
	return hex ? "hex" : b64 ? "b64url" : "text";
}

/* "$n:<prefix>…<len><class>". The prefix is the type tag, lower-case letters
 * and '_' (cs_, mer_, ent_), then a mode word when there is one (sk_test_,
 * ak_live_): never more, since the random part may contain '_' itself. */
static void
gold_put_random(gold *g, const char *value)
{
	size_t plen = strspn(value, "abcdefghijklmnopqrstuvwxyz");

	/* a short value (a key's last 4) is all random: "n_ab" is not a tag */
	if (plen == 0 || value[plen] != '_' || strlen(value) <= 8) {
		plen = 0;
	} else {
		plen++;
		if (strncmp(value + plen, "test_", 5) == 0 || strncmp(value + plen, "live_", 5) == 0) {
			plen += 5;
		}
	}
	/* a few random characters (a key's last 4) may all happen to be hex
	 * digits: their class would then change from run to run */
	/* a whsec_ secret is standard base64 whose characters may or may not
	 * include '+', '/' or '=' on a given run: its class is its format */
	gold_put(g, "$%d:%.*s…%zu%s", gold_var_n(g, value), (int) plen, value,
	    strlen(value + plen), strncmp(value, "whsec_", 6) == 0 ? "base64"
	        : strlen(value + plen) > 8                    ? char_class(value + plen)
	                                                      : "chars");
}

/* Length of a JWT starting at s ("eyJ" + base64url and two dots), else 0. */
static size_t
jwt_len(const char *s)
{
	size_t n = 0;
	int dots = 0;

	if (strncmp(s, "eyJ", 3) != 0) {
		return 0;
	}
	while (s[n] != '\0' && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                              "0123456789-_.", s[n]) != NULL) {
		dots += s[n] == '.';
		n++;
	}
	return dots == 2 ? n : 0;
}

/* A string that is not itself random: known random values inside it become
 * "$n", JWTs "<jwt 3 parts>", the rest is quoted. */
static void
gold_put_string(gold *g, const char *s)
{
	char *out = malloc(strlen(s) * 2 + 64);
	size_t o = 0;

	assert_non_null(out);
	for (size_t i = 0; s[i] != '\0';) {
		size_t best = 0;
		int best_n = 0;

		for (int v = 0; v < g->nvars; v++) {
			size_t vl = strlen(g->vars[v].value);
			if (vl > best && strncmp(s + i, g->vars[v].value, vl) == 0) {
				best = vl;
				best_n = g->vars[v].n;
			}
		}
		if (best > 0) {
			o += (size_t) sprintf(out + o, "$%d", best_n);
			i += best;
		} else if (jwt_len(s + i) > 0) {
			o += (size_t) sprintf(out + o, "<jwt 3 parts>");
			i += jwt_len(s + i);
		} else if (strncmp(s + i, "cks_", 4) == 0 && strlen(s + i) >= PW_CHECKOUT_SECRET_BYTES) {
			o += (size_t) sprintf(out + o, "<checkout secret>"); /* in a checkout URL */
			i += PW_CHECKOUT_SECRET_BYTES;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
	gold_put_quoted(g, out);
	free(out);
}

/* ---- rendering ---- */

static void render_message(gold *g, const char *path, const ProtobufCMessage *m);

static void
render_time(gold *g, int64_t v)
{
	int64_t now_ms = (int64_t) time(NULL) * 1000;

	if (v == 0) {
		gold_put(g, "0");
	} else if (v >= g->t0_ms - 60000 && v <= now_ms + 60000) {
		gold_put(g, "<now>");
	} else if (v >= g->t0_ms + PW_SESSION_TTL_DEFAULT_MS - 60000 &&
	    v <= now_ms + PW_SESSION_TTL_DEFAULT_MS + 60000) {
		gold_put(g, "<now + 24 h>"); /* a session's default expiry */
	} else {
		gold_put(g, "<time out of range: %lld>", (long long) v);
	}
}

static void
render_enum(gold *g, const ProtobufCFieldDescriptor *f, int v)
{
	const ProtobufCEnumValue *ev =
	    protobuf_c_enum_descriptor_get_value((const ProtobufCEnumDescriptor *) f->descriptor, v);

	if (ev != NULL) {
		gold_put(g, "%s", ev->name);
	} else {
		gold_put(g, "<enum %d>", v);
	}
}

static void
render_bytes(gold *g, const ProtobufCFieldDescriptor *f, const ProtobufCBinaryData *b)
{
	if (strcmp(f->name, "head_hash") == 0) {
		gold_put(g, "<%zu bytes>", b->len);
		return;
	}
	gold_put(g, "0x");
	for (size_t i = 0; i < b->len; i++) {
		gold_put(g, "%02x", b->data[i]);
	}
}

/* One scalar, string, bytes or enum value, at p (a field of a message). */
static void
render_value(gold *g, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		gold_put(g, "%d", *(const int32_t *) p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		gold_put(g, "%u", *(const uint32_t *) p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		size_t nlen = strlen(f->name);
		if (nlen > 8 && strcmp(f->name + nlen - 8, "_unix_ms") == 0) {
			render_time(g, *(const int64_t *) p);
		} else {
			gold_put(g, "%lld", (long long) *(const int64_t *) p);
		}
		break;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		gold_put(g, "%llu", (unsigned long long) *(const uint64_t *) p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		gold_put(g, "%.9g", (double) *(const float *) p);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		gold_put(g, "%.17g", *(const double *) p);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		gold_put(g, "%s", *(const protobuf_c_boolean *) p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		render_enum(g, f, *(const int *) p);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *) p;
		if (s == NULL) {
			gold_put(g, "<null>");
		} else if (s[0] != '\0' && is_random_field(f->name)) {
			gold_put_random(g, s);
		} else {
			gold_put_string(g, s);
		}
		break;
	}
	case PROTOBUF_C_TYPE_BYTES:
		render_bytes(g, f, (const ProtobufCBinaryData *) p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		fail_msg("render_value: %s is a message", f->name);
		break;
	}
}

static int
entry_cmp(const void *a, const void *b)
{
	const ProtobufCMessage *const *x = a;
	const ProtobufCMessage *const *y = b;
	const ProtobufCFieldDescriptor *kf = &(*x)->descriptor->fields[0];

	return strcmp(*(char *const *) ((const char *) *x + kf->offset),
	    *(char *const *) ((const char *) *y + kf->offset));
}

/* A repeated field: map entries (string keys) sorted by key as
 * path["key"], other elements as path[i]. */
static void
render_repeated(gold *g, const char *path, const ProtobufCFieldDescriptor *f, const char *base)
{
	size_t n = *(const size_t *) (base + f->quantifier_offset);
	const char *arr = *(char *const *) (base + f->offset);
	char sub[512];

	gold_put(g, "%s.count = %zu\n", path, n);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && n > 0) {
		const ProtobufCMessageDescriptor *ed = f->descriptor;
		ProtobufCMessage **sorted = malloc(n * sizeof(*sorted));

		assert_non_null(sorted);
		memcpy(sorted, arr, n * sizeof(*sorted));
		if (ed->n_fields == 2 && strcmp(ed->fields[0].name, "key") == 0 &&
		    ed->fields[0].type == PROTOBUF_C_TYPE_STRING) {
			qsort(sorted, n, sizeof(*sorted), entry_cmp);
		}
		for (size_t i = 0; i < n; i++) {
			assert_true(snprintf(sub, sizeof(sub), "%s[%zu]", path, i) < (int) sizeof(sub));
			render_message(g, sub, sorted[i]);
		}
		free(sorted);
		return;
	}
	/* Response has no repeated scalars today; a new one must be rendered. */
	assert_true(n == 0 || f->type == PROTOBUF_C_TYPE_STRING);
	for (size_t i = 0; i < n; i++) {
		gold_put(g, "%s[%zu] = ", path, i);
		render_value(g, f, arr + i * sizeof(char *));
		gold_put(g, "\n");
	}
}

/* Every field of m, in descriptor order; a oneof member only when set. */
static void
render_message(gold *g, const char *path, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *) m;
	char sub[512];

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *) (base + f->quantifier_offset) != f->id) {
			continue;
		}
		assert_true(snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] != '\0' ? "." : "",
		                f->name) < (int) sizeof(sub));
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			render_repeated(g, sub, f, base);
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessage *child = *(ProtobufCMessage *const *) (base + f->offset);
			if (child == NULL) {
				gold_put(g, "%s = <unset>\n", sub);
			} else {
				render_message(g, sub, child);
			}
		} else {
			gold_put(g, "%s = ", sub);
			render_value(g, f, base + f->offset);
			gold_put(g, "\n");
		}
	}
	if (m->n_unknown_fields > 0) {
		gold_put(g, "%s<unknown fields> = %u\n", path, m->n_unknown_fields);
	}
}

/* ---- calls ---- */

/* A fresh request id "gold-NNN" (also kept in g->rid for replays). */
static const char *
gold_rid(gold *g)
{
	(void) snprintf(g->rid, sizeof(g->rid), "gold-%03u", ++g->rid_next);
	return g->rid;
}

/* Sends a frame, renders the reply under "== name"; g->last holds it. */
static const Paywire__V1__Response *
gold_frame(gold *g, const char *name, const uint8_t *frame, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	int rv;

	th_resp_free(g->last);
	g->last = NULL;
	rv = th_call_raw(g->sock, frame, len, &out, &out_len);
	if (rv != 0) {
		fail_msg("%s: no reply: %s", name, nng_strerror(rv));
	}
	g->last = paywire__v1__response__unpack(NULL, out_len, out);
	free(out);
	if (g->last == NULL) {
		fail_msg("%s: the reply is not a paywire.v1.Response", name);
	}
	gold_put(g, "\n== %s\n", name);
	render_message(g, "", &g->last->base);
	return g->last;
}

/* Sends a Request carrying call (a CreateSessionRequest, GetStatusRequest...)
 * in the oneof member of its type, with request_id and api_key (NULL: unset),
 * and renders the reply under "== name". */
static void
gold_send(gold *g, const char *name, const char *rid, const char *key, ProtobufCMessage *call)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	const ProtobufCMessageDescriptor *d = req.base.descriptor;
	uint8_t *frame;
	size_t len;
	unsigned i;

	for (i = 0; i < d->n_fields && d->fields[i].descriptor != call->descriptor; i++) {
	}
	assert_true(i < d->n_fields && (d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0);
	*(uint32_t *) ((char *) &req + d->fields[i].quantifier_offset) = d->fields[i].id;
	*(ProtobufCMessage **) ((char *) &req + d->fields[i].offset) = call;
	req.request_id = (char *) rid;
	req.api_key = (char *) key;
	frame = th_pack(&req.base, &len);
	(void) gold_frame(g, name, frame, len);
	free(frame);
}

/* The result of the last reply, or a failure naming the case. */
static void
gold_expect(const gold *g, const char *what, int code)
{
	if (g->last->status == NULL || g->last->status->code != code) {
		fail_msg("%s: expected code %d, got %d %s", what, code,
		    g->last->status != NULL ? g->last->status->code : -1,
		    g->last->status != NULL ? g->last->status->message : "(no status)");
	}
}

static void
call_create_merchant(gold *g, const char *name, const char *admin_key, const char *mname,
    Paywire__V1__Mode mode)
{
	Paywire__V1__CreateMerchantRequest cm = PAYWIRE__V1__CREATE_MERCHANT_REQUEST__INIT;

	cm.name = (char *) mname;
	cm.mode = mode;
	gold_send(g, name, gold_rid(g), admin_key, &cm.base);
}

static void
call_get_status_secret(gold *g, const char *name, const char *sid, const char *secret)
{
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;

	gs.session_id = (char *) sid;
	gs.checkout_secret = (char *) secret;
	gold_send(g, name, NULL, NULL, &gs.base);
}

static void
call_get_status(gold *g, const char *name, const char *sid)
{
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;

	gs.session_id = (char *) sid;
	gold_send(g, name, NULL, NULL, &gs.base);
}

static void
call_revoke(gold *g, const char *name, const char *admin_key, const char *target)
{
	Paywire__V1__RevokeApiKeyRequest rk = PAYWIRE__V1__REVOKE_API_KEY_REQUEST__INIT;

	rk.api_key = (char *) target;
	gold_send(g, name, gold_rid(g), admin_key, &rk.base);
}

static void
call_verify_audit(gold *g, const char *name, const char *admin_key)
{
	Paywire__V1__VerifyAuditRequest va = PAYWIRE__V1__VERIFY_AUDIT_REQUEST__INIT;

	gold_send(g, name, gold_rid(g), admin_key, &va.base);
}

static void
call_redeem(gold *g, const char *name, const char *sid, const char *token)
{
	Paywire__V1__RedeemAccessRequest ra = PAYWIRE__V1__REDEEM_ACCESS_REQUEST__INIT;

	ra.session_id = (char *) sid;
	ra.token = (char *) token;
	gold_send(g, name, gold_rid(g), NULL, &ra.base);
}

/* ---- webhooks ---- */

/* How a delivery is signed. */
typedef enum sig_kind {
	SIG_STRIPE,   /* stripe-signature: t=,v1=hex(HMAC(secret, "t.body")) */
	SIG_RAZORPAY, /* x-razorpay-signature: hex(HMAC(secret, body)) */
	SIG_STANDARD, /* webhook-signature: v1,b64(HMAC(b64dec(secret), "id.t.body")) */
} sig_kind;

/* One provider as the test delivers to it. */
typedef struct gold_provider {
	Paywire__V1__Provider provider; /* wire enum */
	sig_kind sig;                   /* signature scheme */
	const char *secret;             /* the server's secret (environment) */
	const char *wrong;              /* a well-formed secret the server does not have */
} gold_provider;

static const gold_provider P_STRIPE = { PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE, SIG_STRIPE,
	G_STRIPE_SECRET, "whsec_not_the_secret" };
static const gold_provider P_RAZORPAY = { PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY, SIG_RAZORPAY,
	G_RZP_SECRET, "rzp_not_the_secret" };
static const gold_provider P_ONECOM = { PAYWIRE__V1__PROVIDER__PROVIDER_ONECOM, SIG_STANDARD,
	G_STD_SECRET, G_STD_WRONG };
static const gold_provider P_WEB3 = { PAYWIRE__V1__PROVIDER__PROVIDER_WEB3, SIG_STANDARD,
	G_STD_SECRET, G_STD_WRONG };

/* HMAC-SHA256(key, a || b || c). */
static void
hmac3(uint8_t mac[32], const uint8_t *key, size_t key_len, const char *a, const char *b,
    const char *c)
{
	crypto_auth_hmacsha256_state st;

	(void) crypto_auth_hmacsha256_init(&st, key, key_len);
	(void) crypto_auth_hmacsha256_update(&st, (const uint8_t *) a, strlen(a));
	(void) crypto_auth_hmacsha256_update(&st, (const uint8_t *) b, strlen(b));
	(void) crypto_auth_hmacsha256_update(&st, (const uint8_t *) c, strlen(c));
	(void) crypto_auth_hmacsha256_final(&st, mac);
}

/* The signature header's value for body, as the provider would send it. */
static void
sign(char *out, size_t out_size, sig_kind kind, const char *secret, const char *msg_id,
    const char *ts, const char *body)
{
	uint8_t mac[32];
	uint8_t key[64];
	size_t key_len = 0;
	char hex[65];
	char b64[64];
	char prefix[96];

	switch (kind) {
	case SIG_STRIPE:
		hmac3(mac, (const uint8_t *) secret, strlen(secret), ts, ".", body);
		(void) sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		(void) snprintf(out, out_size, "t=%s,v1=%s", ts, hex);
		break;
	case SIG_RAZORPAY:
		hmac3(mac, (const uint8_t *) secret, strlen(secret), "", "", body);
		(void) sodium_bin2hex(out, out_size, mac, sizeof(mac));
		break;
	case SIG_STANDARD:
		assert_int_equal(0, sodium_base642bin(key, sizeof(key), secret + 6, strlen(secret + 6),
		                        NULL, &key_len, NULL, sodium_base64_VARIANT_ORIGINAL));
		(void) snprintf(prefix, sizeof(prefix), "%s.%s.", msg_id, ts);
		hmac3(mac, key, key_len, prefix, "", body);
		(void) sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
		    sodium_base64_VARIANT_ORIGINAL);
		(void) snprintf(out, out_size, "v1,%s", b64);
		break;
	}
}

/* Delivers body to the provider as ingest_webhook. event_id is the
 * x-razorpay-event-id or webhook-id header (unused by Stripe); secret is the
 * key to sign with (the provider's, or its wrong one). */
static void
call_ingest(gold *g, const char *name, const gold_provider *p, const char *secret,
    const char *event_id, const char *body)
{
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry h[4];
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hp[4] = { &h[0], &h[1], &h[2], &h[3] };
	char ts[24];
	char sig[160];

	(void) snprintf(ts, sizeof(ts), "%lld", (long long) time(NULL));
	sign(sig, sizeof(sig), p->sig, secret, event_id, ts, body);
	for (int i = 0; i < 4; i++) {
		paywire__v1__ingest_webhook_request__headers_entry__init(&h[i]);
	}
	h[0].key = (char *) "content-type";
	h[0].value = (char *) "application/json";
	iw.n_headers = 2;
	switch (p->sig) {
	case SIG_STRIPE:
		h[1].key = (char *) "stripe-signature";
		h[1].value = sig;
		break;
	case SIG_RAZORPAY:
		h[1].key = (char *) "x-razorpay-signature";
		h[1].value = sig;
		h[2].key = (char *) "x-razorpay-event-id";
		h[2].value = (char *) event_id;
		iw.n_headers = 3;
		break;
	case SIG_STANDARD:
		h[1].key = (char *) "webhook-id";
		h[1].value = (char *) event_id;
		h[2].key = (char *) "webhook-timestamp";
		h[2].value = ts;
		h[3].key = (char *) "webhook-signature";
		h[3].value = sig;
		iw.n_headers = 4;
		break;
	}
	iw.provider = p->provider;
	iw.headers = hp;
	iw.body.data = (uint8_t *) body;
	iw.body.len = strlen(body);
	gold_send(g, name, gold_rid(g), NULL, &iw.base);
}

/* ---- the sequence ---- */

/* Ids kept between cases. */
typedef struct gold_ids {
	char key[128];        /* merchant 1's raw API key (test mode) */
	char key2[128];       /* merchant 2's raw API key (live mode) */
	char s_stripe[64];    /* session paid through Stripe (access key) */
	char s_rzp[64];       /* session paid through Razorpay (credits, INR) */
	char s_onecom[64];    /* session paid through One.com */
	char s_web3[64];      /* session paid through the Web3 relay */
	char s_anomaly[64];   /* session that sees a wrong amount */
	char token[2048];     /* the Stripe session's access token */
	char cks_stripe[64];  /* the Stripe session's checkout secret */
	char mid[64];         /* merchant 1's id */
} gold_ids;

static void
keep_session_id(const gold *g, char *out, size_t out_size)
{
	gold_expect(g, "create_session", 0);
	(void) pw_strlcpy(out, g->last->create_session->session->id, out_size);
}

static void
seq_merchants(gold *g, gold_ids *ids)
{
	call_create_merchant(g, "create_merchant ok (test mode)", G_ADMIN_KEY, "Golden shop",
	    PAYWIRE__V1__MODE__MODE_TEST);
	gold_expect(g, "create_merchant", 0);
	(void) pw_strlcpy(ids->key, g->last->create_merchant->api_key, sizeof(ids->key));
	(void) pw_strlcpy(ids->mid, g->last->create_merchant->merchant_id, sizeof(ids->mid));
	call_create_merchant(g, "create_merchant ok (live mode)", G_ADMIN_KEY, "Golden live shop",
	    PAYWIRE__V1__MODE__MODE_LIVE);
	gold_expect(g, "create_merchant live", 0);
	(void) pw_strlcpy(ids->key2, g->last->create_merchant->api_key, sizeof(ids->key2));
	call_create_merchant(g, "create_merchant empty name: invalid", G_ADMIN_KEY, "",
	    PAYWIRE__V1__MODE__MODE_TEST);
	call_create_merchant(g, "create_merchant mode unspecified: invalid", G_ADMIN_KEY, "x",
	    PAYWIRE__V1__MODE__MODE_UNSPECIFIED);
	call_create_merchant(g, "create_merchant wrong admin key: unauthenticated", "adm_wrong",
	    "x", PAYWIRE__V1__MODE__MODE_TEST);
	call_create_merchant(g, "create_merchant merchant key as admin key: unauthenticated",
	    ids->key, "x", PAYWIRE__V1__MODE__MODE_TEST);
}

/* A session with every field of CreateSessionRequest set. */
static void
seq_full_session(gold *g, gold_ids *ids)
{
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Fulfillment ful = PAYWIRE__V1__FULFILLMENT__INIT;
	Paywire__V1__CreateSessionRequest__MetadataEntry md[2];
	Paywire__V1__CreateSessionRequest__MetadataEntry *mdp[2] = { &md[0], &md[1] };
	char rid[32];

	th_session_req_init(&cs, 4900);
	cs.success_url = (char *) "https://shop.example/ok?x=1";
	cs.cancel_url = (char *) "https://shop.example/cancel";
	cs.customer_email = (char *) "jane@example.com";
	cs.customer_name = (char *) "Jane Doe";
	cs.customer_ref = (char *) "cust_42";
	cs.idempotency_key = (char *) "idem-golden-1";
	for (int i = 0; i < 2; i++) {
		paywire__v1__create_session_request__metadata_entry__init(&md[i]);
	}
	md[0].key = (char *) "order";
	md[0].value = (char *) "A-1001";
	md[1].key = (char *) "channel";
	md[1].value = (char *) "web";
	cs.n_metadata = 2;
	cs.metadata = mdp;
	ful.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	ful.plan = (char *) "pro";
	cs.fulfillment = &ful;
	(void) pw_strlcpy(rid, gold_rid(g), sizeof(rid));
	gold_send(g, "create_session every field", rid, ids->key, &cs.base);
	keep_session_id(g, ids->s_stripe, sizeof(ids->s_stripe));
	(void) pw_strlcpy(ids->cks_stripe, g->last->create_session->checkout_secret,
	    sizeof(ids->cks_stripe));
	gold_send(g, "create_session same request_id: replay", rid, ids->key, &cs.base);
	gold_send(g, "create_session same idempotency_key, new request_id: original", gold_rid(g), ids->key, &cs.base);
	cs.amount_minor = 5000;
	gold_send(g, "create_session same request_id, other amount: conflict", rid, ids->key,
	    &cs.base);
	gold_send(g, "create_session same idempotency_key, other amount: conflict", gold_rid(g), ids->key, &cs.base);
}

/* The other sessions: credits in INR, plain EUR ones. */
static void
seq_sessions(gold *g, gold_ids *ids)
{
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Fulfillment ful = PAYWIRE__V1__FULFILLMENT__INIT;

	th_session_req_init(&cs, 49900);
	cs.currency = (char *) "INR";
	ful.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS;
	ful.credits = 500;
	cs.fulfillment = &ful;
	cs.customer_ref = (char *) "cust_rzp";
	gold_send(g, "create_session credits INR", gold_rid(g), ids->key, &cs.base);
	keep_session_id(g, ids->s_rzp, sizeof(ids->s_rzp));
	th_session_req_init(&cs, 4900);
	gold_send(g, "create_session minimal (onecom)", gold_rid(g), ids->key, &cs.base);
	keep_session_id(g, ids->s_onecom, sizeof(ids->s_onecom));
	gold_send(g, "create_session minimal (web3)", gold_rid(g), ids->key, &cs.base);
	keep_session_id(g, ids->s_web3, sizeof(ids->s_web3));
	gold_send(g, "create_session minimal (anomaly)", gold_rid(g), ids->key, &cs.base);
	keep_session_id(g, ids->s_anomaly, sizeof(ids->s_anomaly));
	gold_send(g, "create_session live key, test mode", gold_rid(g), ids->key2, &cs.base);
	cs.mode = PAYWIRE__V1__MODE__MODE_LIVE;
	gold_send(g, "create_session live key, live mode", gold_rid(g), ids->key2, &cs.base);
}

/* create_session refusals: one field wrong at a time. */
static void
seq_session_refusals(gold *g, const gold_ids *ids)
{
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Fulfillment ful = PAYWIRE__V1__FULFILLMENT__INIT;

	th_session_req_init(&cs, 0);
	gold_send(g, "create_session amount 0: invalid", gold_rid(g), ids->key, &cs.base);
	th_session_req_init(&cs, 100);
	cs.currency = (char *) "eur";
	gold_send(g, "create_session currency lower case: invalid", gold_rid(g), ids->key, &cs.base);
	th_session_req_init(&cs, 100);
	cs.success_url = (char *) "ftp://shop.example/";
	gold_send(g, "create_session ftp url: invalid", gold_rid(g), ids->key, &cs.base);
	th_session_req_init(&cs, 100);
	ful.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS;
	cs.fulfillment = &ful;
	gold_send(g, "create_session credits 0: invalid", gold_rid(g), ids->key, &cs.base);
	th_session_req_init(&cs, 100);
	gold_send(g, "create_session no request_id: invalid", "", ids->key, &cs.base);
	gold_send(g, "create_session no key: unauthenticated", gold_rid(g), "", &cs.base);
	gold_send(g, "create_session unknown key: unauthenticated", gold_rid(g), "sk_test_nope",
	    &cs.base);
	cs.mode = PAYWIRE__V1__MODE__MODE_LIVE;
	gold_send(g, "create_session test key, live mode: permission denied", gold_rid(g), ids->key, &cs.base);
}

static void
seq_reads(gold *g, const gold_ids *ids)
{
	call_get_status(g, "get_status created", ids->s_stripe);
	call_get_status(g, "get_status unknown session: not found",
	    "cs_0000000000000000000000000000000000000000000");
	call_get_status(g, "get_status empty id: invalid", "");
}

static void
seq_stripe(gold *g, const gold_ids *ids)
{
	char body[1024];
	char pay[1024];

	(void) snprintf(pay, sizeof(pay),
	    "{\"id\":\"evt_gold_cs_1\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":1767225660,\"livemode\":false,\"data\":{\"object\":{"
	    "\"id\":\"cs_test_gold_1\",\"object\":\"checkout.session\",\"amount_total\":4900,"
	    "\"currency\":\"eur\",\"client_reference_id\":\"%s\",\"payment_intent\":\"pi_gold_1\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}",
	    ids->s_stripe);
	call_ingest(g, "stripe wrong secret: unauthenticated", &P_STRIPE, P_STRIPE.wrong, "", pay);
	call_ingest(g, "stripe checkout.session.completed: applied", &P_STRIPE, G_STRIPE_SECRET, "",
	    pay);
	call_ingest(g, "stripe same event again: duplicate", &P_STRIPE, G_STRIPE_SECRET, "", pay);
	(void) snprintf(body, sizeof(body),
	    "{\"id\":\"evt_gold_pf_1\",\"object\":\"event\",\"type\":\"payment_intent.payment_failed\","
	    "\"created\":1767225661,\"livemode\":false,\"data\":{\"object\":{\"id\":\"pi_gold_1\","
	    "\"object\":\"payment_intent\",\"amount\":4900,\"currency\":\"eur\","
	    "\"latest_charge\":\"ch_gold_1\",\"livemode\":false,\"metadata\":{\"session_id\":\"%s\"},"
	    "\"status\":\"requires_payment_method\"}}}",
	    ids->s_stripe);
	call_ingest(g, "stripe payment_failed after paid: ignored (stale)", &P_STRIPE,
	    G_STRIPE_SECRET, "", body);
	call_ingest(g, "stripe unhandled type: ignored", &P_STRIPE, G_STRIPE_SECRET, "",
	    "{\"id\":\"evt_gold_cust\",\"object\":\"event\",\"type\":\"customer.created\","
	    "\"created\":1767225662,\"livemode\":false,\"data\":{\"object\":{\"id\":\"cus_1\"}}}");
	call_ingest(g, "stripe no paywire reference: ignored", &P_STRIPE, G_STRIPE_SECRET, "",
	    "{\"id\":\"evt_gold_foreign\",\"object\":\"event\",\"type\":\"payment_intent.succeeded\","
	    "\"created\":1767225663,\"livemode\":false,\"data\":{\"object\":{\"id\":\"pi_foreign\","
	    "\"object\":\"payment_intent\",\"amount\":4900,\"amount_received\":4900,"
	    "\"currency\":\"eur\",\"latest_charge\":\"ch_foreign\",\"livemode\":false,"
	    "\"status\":\"succeeded\"}}}");
	(void) snprintf(body, sizeof(body),
	    "{\"id\":\"evt_gold_amt\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":1767225664,\"livemode\":false,\"data\":{\"object\":{"
	    "\"id\":\"cs_test_gold_amt\",\"object\":\"checkout.session\",\"amount_total\":4800,"
	    "\"currency\":\"eur\",\"client_reference_id\":\"%s\",\"payment_intent\":\"pi_gold_amt\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}",
	    ids->s_anomaly);
	call_ingest(g, "stripe amount mismatch: ignored, anomaly", &P_STRIPE, G_STRIPE_SECRET, "",
	    body);
	call_ingest(g, "stripe body not JSON: quarantined", &P_STRIPE, G_STRIPE_SECRET, "",
	    "this is not json");
	call_ingest(g, "stripe unknown session: not found", &P_STRIPE, G_STRIPE_SECRET, "",
	    "{\"id\":\"evt_gold_nf\",\"object\":\"event\",\"type\":\"checkout.session.completed\","
	    "\"created\":1767225665,\"livemode\":false,\"data\":{\"object\":{"
	    "\"id\":\"cs_test_gold_nf\",\"object\":\"checkout.session\",\"amount_total\":4900,"
	    "\"currency\":\"eur\",\"client_reference_id\":"
	    "\"cs_0000000000000000000000000000000000000000000\",\"payment_intent\":\"pi_gold_nf\","
	    "\"payment_status\":\"paid\",\"livemode\":false,\"metadata\":{}}}}");
	call_ingest(g, "stripe partial refund: applied", &P_STRIPE, G_STRIPE_SECRET, "",
	    "{\"id\":\"evt_gold_rf_1\",\"object\":\"event\",\"type\":\"charge.refunded\","
	    "\"created\":1767225666,\"livemode\":false,\"data\":{\"object\":{\"id\":\"ch_gold_1\","
	    "\"object\":\"charge\",\"amount\":4900,\"amount_refunded\":1900,\"currency\":\"eur\","
	    "\"livemode\":false,\"payment_intent\":\"pi_gold_1\",\"refunded\":false}}}");
}

/* One delivery of a table: who sends which body, signed how. */
typedef struct delivery {
	const char *name;          /* case name in the golden file */
	const gold_provider *p;    /* the sender */
	bool wrong_secret;         /* signed with a secret the server does not have */
	const char *event_id;      /* x-razorpay-event-id or webhook-id */
	int body;                  /* index into the caller's bodies */
} delivery;

/* Razorpay, then One.com and the Web3 relay (Standard Webhooks). */
static void
seq_deliveries(gold *g, const gold_ids *ids)
{
	static const char rzp_fmt[] =
	    "{\"entity\":\"event\",\"account_id\":\"acc_gold\",\"event\":\"%s\","
	    "\"contains\":[\"payment\"],\"payload\":{\"payment\":{\"entity\":{\"id\":\"%s\","
	    "\"entity\":\"payment\",\"amount\":49900,\"currency\":\"INR\",\"status\":\"%s\","
	    "\"order_id\":\"order_gold_1\",\"method\":\"upi\",\"amount_refunded\":0,"
	    "\"notes\":{\"session_id\":\"%s\"},\"error_reason\":%s,\"created_at\":1767225630}}},"
	    "\"created_at\":%d}";
	static const char web3_fmt[] =
	    "{\"event\":\"%s\",\"session_id\":\"%s\",\"blockchain_tx_id\":"
	    "\"0x00000000000000000000000000000000000000000000000000000000001dbeef\","
	    "\"network\":\"base\",\"log_index\":7,\"confirmations\":%d,\"asset\":\"USDC\","
	    "\"amount\":\"49.00\",\"currency\":\"EUR\"}";
	static const delivery d[] = {
		{ "razorpay wrong secret: unauthenticated", &P_RAZORPAY, true, "evt_rzp_gold_0", 0 },
		{ "razorpay payment.failed: applied", &P_RAZORPAY, false, "evt_rzp_gold_0", 0 },
		{ "razorpay payment.captured after failed: applied", &P_RAZORPAY, false,
		    "evt_rzp_gold_1", 1 },
		{ "razorpay captured, other event-id header: duplicate", &P_RAZORPAY, false,
		    "evt_rzp_gold_other", 1 },
		{ "razorpay payment.failed after paid: ignored (stale)", &P_RAZORPAY, false,
		    "evt_rzp_gold_2", 2 },
		{ "onecom wrong secret: unauthenticated", &P_ONECOM, true, "msg_gold_onecom_1", 3 },
		{ "onecom payment.completed: applied", &P_ONECOM, false, "msg_gold_onecom_1", 3 },
		{ "onecom same webhook-id: duplicate", &P_ONECOM, false, "msg_gold_onecom_1", 3 },
		{ "onecom unhandled event: ignored", &P_ONECOM, false, "msg_gold_onecom_2", 4 },
		{ "onecom no reference: quarantined", &P_ONECOM, false, "msg_gold_onecom_3", 5 },
		{ "web3 wrong secret: unauthenticated", &P_WEB3, true, "msg_gold_web3_1", 6 },
		{ "web3 below the confirmation minimum: applied (pending)", &P_WEB3, false,
		    "msg_gold_web3_1", 6 },
		{ "web3 at the minimum: applied (paid)", &P_WEB3, false, "msg_gold_web3_2", 7 },
		{ "web3 same webhook-id: duplicate", &P_WEB3, false, "msg_gold_web3_2", 7 },
		{ "web3 unhandled event: ignored", &P_WEB3, false, "msg_gold_web3_3", 8 },
	};
	char b[9][1024];

	(void) snprintf(b[0], sizeof(b[0]), rzp_fmt, "payment.failed", "pay_gold_0", "failed",
	    ids->s_rzp, "\"payment_failed\"", 1767225640);
	(void) snprintf(b[1], sizeof(b[1]), rzp_fmt, "payment.captured", "pay_gold_1", "captured",
	    ids->s_rzp, "null", 1767225650);
	(void) snprintf(b[2], sizeof(b[2]), rzp_fmt, "payment.failed", "pay_gold_2", "failed",
	    ids->s_rzp, "\"payment_failed\"", 1767225655);
	(void) snprintf(b[3], sizeof(b[3]),
	    "{\"event\":\"payment.completed\",\"reference\":\"%s\",\"amount\":\"49.00\","
	    "\"currency\":\"EUR\",\"payload\":{\"txn_id\":\"onepay_gold\",\"status\":\"completed\"}}",
	    ids->s_onecom);
	(void) snprintf(b[4], sizeof(b[4]),
	    "{\"event\":\"payment.refund_requested\",\"reference\":\"%s\",\"payload\":{}}",
	    ids->s_onecom);
	(void) snprintf(b[5], sizeof(b[5]),
	    "{\"event\":\"payment.completed\",\"amount\":\"49.00\",\"currency\":\"EUR\","
	    "\"payload\":{\"txn_id\":\"x\"}}");
	(void) snprintf(b[6], sizeof(b[6]), web3_fmt, "transfer.confirmed", ids->s_web3, 2);
	(void) snprintf(b[7], sizeof(b[7]), web3_fmt, "transfer.confirmed", ids->s_web3, 12);
	(void) snprintf(b[8], sizeof(b[8]), web3_fmt, "transfer.seen", ids->s_web3, 0);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		call_ingest(g, d[i].name, d[i].p, d[i].wrong_secret ? d[i].p->wrong : d[i].p->secret,
		    d[i].event_id, b[d[i].body]);
	}
}

/* Reads after the payments, the access page, audit, key revocation. */
static void
seq_after(gold *g, gold_ids *ids)
{
	const char *link;

	call_get_status(g, "get_status stripe: paid, no secret: no link", ids->s_stripe);
	gold_expect(g, "get_status stripe", 0);
	assert_string_equal("", g->last->get_status->access_link);
	call_get_status_secret(g, "get_status stripe: paid, partly refunded", ids->s_stripe,
	    ids->cks_stripe);
	gold_expect(g, "get_status stripe", 0);
	link = strstr(g->last->get_status->access_link, "token=");
	assert_non_null(link);
	(void) pw_strlcpy(ids->token, link + 6, sizeof(ids->token));
	call_get_status(g, "get_status razorpay: paid", ids->s_rzp);
	call_get_status(g, "get_status onecom: paid", ids->s_onecom);
	call_get_status(g, "get_status web3: paid", ids->s_web3);
	call_get_status(g, "get_status anomaly: still created", ids->s_anomaly);

	call_redeem(g, "redeem_access bad token: unauthenticated", ids->s_stripe,
	    "eyJhbGciOiJIUzI1NiJ9.e30.AAAA");
	call_redeem(g, "redeem_access: the key, once", ids->s_stripe, ids->token);
	call_redeem(g, "redeem_access again: already revealed", ids->s_stripe, ids->token);
	call_redeem(g, "redeem_access token of another session: unauthenticated", ids->s_rzp,
	    ids->token);

	call_verify_audit(g, "verify_audit: ok", G_ADMIN_KEY);
	call_verify_audit(g, "verify_audit merchant key: unauthenticated", ids->key);

	call_revoke(g, "revoke_api_key merchant key as admin: unauthenticated", ids->key,
	    ids->key2);
	call_revoke(g, "revoke_api_key last active key: failed_precondition", G_ADMIN_KEY,
	    ids->key2);
	{
		Paywire__V1__CreateApiKeyRequest ck = PAYWIRE__V1__CREATE_API_KEY_REQUEST__INIT;
		Paywire__V1__ListApiKeysRequest lk = PAYWIRE__V1__LIST_API_KEYS_REQUEST__INIT;

		gold_send(g, "create_api_key: a second key, shown once", gold_rid(g), ids->key2,
		    &ck.base);
		gold_send(g, "list_api_keys: two keys, never the keys", gold_rid(g), ids->key2,
		    &lk.base);
	}
	call_revoke(g, "revoke_api_key: revoked", G_ADMIN_KEY, ids->key2);
	call_revoke(g, "revoke_api_key unknown key: not found", G_ADMIN_KEY, "sk_live_nope");
	{
		Paywire__V1__CreateSessionRequest cs;
		th_session_req_init(&cs, 100);
		gold_send(g, "create_session revoked key: unauthenticated", gold_rid(g), ids->key2,
		    &cs.base);
	}
}

/* A merchant's own rate limits (admin): set, read, refusals. */
static void
seq_limits(gold *g, gold_ids *ids)
{
	Paywire__V1__SetMerchantRateLimitsRequest sr = PAYWIRE__V1__SET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__GetMerchantRateLimitsRequest gr = PAYWIRE__V1__GET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__MerchantRateLimits ls = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__MerchantRateLimits none = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__MerchantRateLimit reads = PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT;
	Paywire__V1__MerchantRateLimit provider = PAYWIRE__V1__MERCHANT_RATE_LIMIT__INIT;

	reads.kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_CUSTOM;
	reads.rate = 50;
	reads.period_s = 60;
	reads.burst = 10;
	provider.kind = PAYWIRE__V1__MERCHANT_RATE_LIMIT_KIND__MERCHANT_RATE_LIMIT_UNLIMITED;
	ls.reads = &reads;
	ls.provider = &provider;
	sr.merchant_id = ids->mid;
	sr.limits = &ls;
	gold_send(g, "set_merchant_rate_limits: reads 50/min burst 10, provider unlimited",
	    gold_rid(g), G_ADMIN_KEY, &sr.base);
	gold_send(g, "set_merchant_rate_limits merchant key: unauthenticated", gold_rid(g), ids->key,
	    &sr.base);
	sr.merchant_id = "mer_nobody";
	gold_send(g, "set_merchant_rate_limits unknown merchant: not found", gold_rid(g), G_ADMIN_KEY,
	    &sr.base);
	sr.merchant_id = ids->mid;
	sr.limits = &none;
	gold_send(g, "set_merchant_rate_limits nothing named: invalid", gold_rid(g), G_ADMIN_KEY,
	    &sr.base);
	gr.merchant_id = ids->mid;
	gold_send(g, "get_merchant_rate_limits: as set, with the server's defaults", gold_rid(g),
	    G_ADMIN_KEY, &gr.base);
}

/* Frames the wire validator refuses, and a request with no call. */
static void
seq_frames(gold *g)
{
	static const uint8_t unknown_field[] = { 0x98, 0x06, 0x01 }; /* field 99, varint */
	static const uint8_t field_zero[] = { 0x00, 0x01 };          /* field 0 */
	static const uint8_t wrong_type[] = { 0x1a, 0x01, 'x' };     /* deadline_ms as bytes */
	static const uint8_t nul_string[] = { 0x0a, 0x03, 'a', 0x00, 'b' }; /* request_id "a\0b" */
	static const uint8_t garbage[] = "\xff\xff\xff\xff this is not protobuf";
	/* get_status { session_id: "cs_x" } with field 99 inside it */
	static const uint8_t nested_unknown[] = { 0x62, 0x09, 0x0a, 0x04, 'c', 's', '_', 'x', 0x98,
		0x06, 0x01 };
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	uint8_t *frame;
	size_t len;

	(void) gold_frame(g, "frame unknown field: invalid", unknown_field, sizeof(unknown_field));
	(void) gold_frame(g, "frame field 0: invalid", field_zero, sizeof(field_zero));
	(void) gold_frame(g, "frame wrong wire type: invalid", wrong_type, sizeof(wrong_type));
	(void) gold_frame(g, "frame string with NUL: invalid", nul_string, sizeof(nul_string));
	(void) gold_frame(g, "frame not protobuf: invalid", garbage, sizeof(garbage) - 1);
	(void) gold_frame(g, "frame empty: invalid", (const uint8_t *) "", 0);
	(void) gold_frame(g, "frame unknown field inside a call: invalid", nested_unknown,
	    sizeof(nested_unknown));
	req.request_id = (char *) "gold-nocall";
	frame = th_pack(&req.base, &len);
	(void) gold_frame(g, "request with no call: invalid", frame, len);
	free(frame);
}

/* ---- compare ---- */

/* The golden file, NUL-terminated (free()), or NULL when it is missing. */
static char *
read_golden(void)
{
	char *buf = malloc(GOLD_TEXT_BYTES_MAX);
	size_t n = 0;
	FILE *f;

	assert_non_null(buf);
	f = fopen(GOLDEN_PATH, "rb");
	if (f == NULL) {
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, GOLD_TEXT_BYTES_MAX - 1, f);
	assert_int_equal(0, ferror(f));
	assert_true(feof(f)); /* the whole file fitted */
	(void) fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The next line of *p (without '\n'), advancing *p; NULL at the end. */
static const char *
next_line(const char **p, size_t *len)
{
	const char *s = *p;
	const char *nl;

	if (s == NULL || *s == '\0') {
		return NULL;
	}
	nl = strchr(s, '\n');
	*len = nl != NULL ? (size_t) (nl - s) : strlen(s);
	*p = nl != NULL ? nl + 1 : s + *len;
	return s;
}

/* Compares the golden text with the rendered one line by line; prints the
 * differing lines with the case they belong to; returns how many differ. */
static int
gold_diff(const char *want, const char *got)
{
	const char *w = want, *o = got;
	const char *wl, *ol;
	size_t wn = 0, on = 0;
	char where[256] = "(start)";
	int diffs = 0;
	int line = 0;

	for (;;) { /* skip the golden file's header comments */
		const char *save = w;
		wl = next_line(&w, &wn);
		if (wl == NULL || wl[0] != '#') {
			w = save;
			break;
		}
	}
	for (;;) {
		wl = next_line(&w, &wn);
		ol = next_line(&o, &on);
		line++;
		if (wl == NULL && ol == NULL) {
			break;
		}
		if (ol != NULL && strncmp(ol, "== ", 3) == 0) {
			(void) snprintf(where, sizeof(where), "%.*s", (int) on, ol);
		}
		if (wl == NULL || ol == NULL || wn != on || memcmp(wl, ol, wn) != 0) {
			if (++diffs <= GOLD_DIFFS_SHOWN) {
				print_error("[%s] line %d\n  golden: %.*s\n  reply:  %.*s\n", where, line,
				    (int) (wl != NULL ? wn : 5), wl != NULL ? wl : "<end>",
				    (int) (ol != NULL ? on : 5), ol != NULL ? ol : "<end>");
			}
		}
	}
	return diffs;
}

static void
gold_write(const gold *g)
{
	FILE *f = fopen(GOLDEN_PATH, "wb");

	assert_non_null(f);
	fprintf(f, "# paywire-server replies to tests/wire_golden_test.c's fixed requests,\n"
	           "# rendered field by field (random ids, keys, tokens and times keep their\n"
	           "# shape only; see the test's top comment). Regenerate only for an intended,\n"
	           "# reviewed reply change: PW_GOLDEN_REGEN=1 ctest -R wire_golden\n");
	assert_int_equal(g->len, fwrite(g->text, 1, g->len, f));
	assert_int_equal(0, fclose(f));
}

/* ---- the test ---- */

/* Allocates the run; the server starts in the test. */
static int
gold_setup(void **state)
{
	gold *g = calloc(1, sizeof(*g));

	if (g == NULL) {
		return -1;
	}
	g->text = calloc(1, GOLD_TEXT_BYTES_MAX);
	if (g->text == NULL) {
		free(g);
		return -1;
	}
	g->t0_ms = (int64_t) time(NULL) * 1000;
	*state = g;
	return 0;
}

/* Frees the run, also after a failed assert: the socket, the child (killed
 * if still running), its temp dir, the values. */
static int
gold_teardown(void **state)
{
	gold *g = *state;

	th_resp_free(g->last);
	if (g->sock.id != 0) {
		(void) nng_close(g->sock);
	}
	if (g->proc.dir[0] != '\0') {
		th_proc_fini(&g->proc);
	}
	for (int i = 0; i < g->nvars; i++) {
		free(g->vars[i].value);
	}
	free(g->text);
	free(g);
	return 0;
}

/* Notifications to merchants (issue 11): the endpoint calls and their refusals. */
static void
seq_notify(gold *g, gold_ids *ids)
{
	Paywire__V1__CreateEndpointRequest ce = PAYWIRE__V1__CREATE_ENDPOINT_REQUEST__INIT;
	Paywire__V1__ListEndpointsRequest le = PAYWIRE__V1__LIST_ENDPOINTS_REQUEST__INIT;
	Paywire__V1__UpdateEndpointRequest ue = PAYWIRE__V1__UPDATE_ENDPOINT_REQUEST__INIT;
	Paywire__V1__RotateEndpointSecretRequest re = PAYWIRE__V1__ROTATE_ENDPOINT_SECRET_REQUEST__INIT;
	Paywire__V1__DeleteEndpointRequest de = PAYWIRE__V1__DELETE_ENDPOINT_REQUEST__INIT;
	Paywire__V1__ListNotifyMessagesRequest lm = PAYWIRE__V1__LIST_NOTIFY_MESSAGES_REQUEST__INIT;
	Paywire__V1__RetryNotifyMessageRequest rm = PAYWIRE__V1__RETRY_NOTIFY_MESSAGE_REQUEST__INIT;
	Paywire__V1__ReplayNotifyRequest rn = PAYWIRE__V1__REPLAY_NOTIFY_REQUEST__INIT;
	char *types[] = { (char *) "session.paid", (char *) "session.nope" };
	char ep[64];

	ce.url = (char *) "https://203.0.113.7/hooks"; /* TEST-NET-3: public, no DNS */
	ce.event_types = types;
	ce.n_event_types = 1;
	ce.description = (char *) "orders";
	gold_send(g, "create_endpoint: the secret shown once", gold_rid(g), ids->key, &ce.base);
	gold_expect(g, "create_endpoint", 0);
	snprintf(ep, sizeof(ep), "%s", g->last->create_endpoint->endpoint->endpoint_id);
	ce.kind = PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL;
	gold_send(g, "create_endpoint email: the server has no relay", gold_rid(g), ids->key, &ce.base);
	ce.kind = PAYWIRE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK;
	ce.url = (char *) "http://203.0.113.7/hooks";
	gold_send(g, "create_endpoint http: invalid", gold_rid(g), ids->key, &ce.base);
	ce.url = (char *) "https://127.0.0.1/hooks";
	gold_send(g, "create_endpoint loopback: invalid", gold_rid(g), ids->key, &ce.base);
	ce.url = (char *) "https://203.0.113.7/hooks";
	ce.n_event_types = 2;
	gold_send(g, "create_endpoint unknown type: invalid", gold_rid(g), ids->key, &ce.base);
	gold_send(g, "list_endpoints: never a secret", NULL, ids->key, &le.base);
	ue.endpoint_id = ep;
	ue.enable = 2;
	gold_send(g, "update_endpoint: disabled", gold_rid(g), ids->key, &ue.base);
	re.endpoint_id = ep;
	gold_send(g, "rotate_endpoint_secret: a new secret, the old one for 24 h", gold_rid(g),
	    ids->key, &re.base);
	lm.dead = 1;
	gold_send(g, "list_notify_messages dead: none", NULL, ids->key, &lm.base);
	rm.msg_id = (char *) "msg_00000000000000000000000000000000";
	gold_send(g, "retry_notify_message unknown: not found", gold_rid(g), ids->key, &rm.base);
	rn.since_unix_ms = 1;
	rn.endpoint_id = ep;
	gold_send(g, "replay_notify: a disabled endpoint takes none", gold_rid(g), ids->key, &rn.base);
	de.endpoint_id = ep;
	gold_send(g, "delete_endpoint", gold_rid(g), ids->key, &de.base);
	gold_send(g, "delete_endpoint again: not found", gold_rid(g), ids->key, &de.base);
}

static void
test_replies_match_the_golden_file_field_by_field(void **state)
{
	static const char *const extra[] = { "--public-url", "https://pay.example.test", NULL };
	gold *g = *state;
	gold_ids ids;
	char *want;
	int diffs;

	memset(&ids, 0, sizeof(ids));
	assert_int_equal(0, setenv("PAYWIRE_ADMIN_KEY", G_ADMIN_KEY, 1));
	assert_int_equal(0, setenv("PAYWIRE_TOKEN_SECRET", G_TOKEN_SECRET, 1));
	assert_int_equal(0, setenv("PAYWIRE_STRIPE_WEBHOOK_SECRET", G_STRIPE_SECRET, 1));
	assert_int_equal(0, setenv("PAYWIRE_RAZORPAY_WEBHOOK_SECRET", G_RZP_SECRET, 1));
	assert_int_equal(0, setenv("PAYWIRE_ONECOM_WEBHOOK_SECRET", G_STD_SECRET, 1));
	assert_int_equal(0, setenv("PAYWIRE_WEB3_WEBHOOK_SECRET", G_STD_SECRET, 1));
	th_proc_init(&g->proc);
	th_proc_start(&g->proc, extra);
	g->sock = th_req_open(g->proc.url, TW_HANG_MS, -1);

	seq_merchants(g, &ids);
	seq_full_session(g, &ids);
	seq_sessions(g, &ids);
	seq_session_refusals(g, &ids);
	seq_reads(g, &ids);
	seq_stripe(g, &ids);
	seq_deliveries(g, &ids);
	seq_after(g, &ids);
	seq_limits(g, &ids);
	seq_frames(g);
	seq_notify(g, &ids);
	sodium_memzero(&ids, sizeof(ids));
	assert_int_equal(0, th_proc_stop(&g->proc, SIGTERM));

	if (getenv("PW_GOLDEN_REGEN") != NULL && strcmp(getenv("PW_GOLDEN_REGEN"), "1") == 0) {
		gold_write(g);
		print_message("wrote %s (%zu bytes): review and commit it\n", GOLDEN_PATH, g->len);
		return;
	}
	want = read_golden();
	if (want == NULL) {
		fail_msg("cannot read %s (PW_GOLDEN_REGEN=1 writes it)", GOLDEN_PATH);
	}
	diffs = gold_diff(want, g->text);
	free(want);
	if (diffs != 0) {
		fail_msg("%d line(s) differ from %s", diffs, GOLDEN_PATH);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replies_match_the_golden_file_field_by_field,
		    gold_setup, gold_teardown),
	};
	int rv;

	if (sodium_init() < 0) {
		return 1;
	}
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	/* nng frees closed sockets on its reaper thread: wait for it, or
	 * LeakSanitizer may catch them in flight at exit. */
	nng_fini();
	return rv;
}
