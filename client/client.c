/*
 * client.c - libpaywire, the C client of paywire-server (include/paywire/client.h).
 *
 * One REQ socket per pw_client. Every call opens its own nng context and aio,
 * so calls from many threads run at once over the same connections. The REQ
 * resend timer is off: the library owns retries and re-sends the very same
 * bytes (same request_id) after a timeout, so the server's stored reply makes
 * a retry harmless. Nothing here keeps state between calls except the socket
 * and the count of its live connections.
 *
 * FAIL FAST. nng dials in the background, and a REQ send with no connection
 * just waits, so "nobody is there" would look like "the server is slow". The
 * client therefore counts its SP connections (nng_pipe_notify) and, when an
 * attempt finds none, first makes one connection of its own to the URL (the
 * reach check: an nng_stream_dialer, the 8-byte SP handshake, close; tcp://
 * and ipc:// only): refused, no such socket file, unreachable, not an nng
 * REP socket -> PW_UNAVAILABLE at once, nothing sent and no retry, since a
 * retry cannot succeed; a REP socket answers -> the send goes on and waits,
 * within the attempt's timeout, for the background dialer. Only timeouts
 * (and a dropped connection, which goes through the same check on its next
 * attempt) are retried. Threads: the count is an atomic written by nng's
 * threads.
 *
 * Results are copied into the caller's plain structs with bounded copies:
 * identifiers, keys and URLs must fit whole (a cut id or key would be wrong,
 * so an oversized one is PW_INTERNAL); free text (names, reasons, messages)
 * is cut at a UTF-8 boundary.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "paywire/v1/paywire.pb-c.h"
#include "client_hooks.h"
#include "pw_common.h"
#include "pw_provider.h"

#include <paywire/client.h>

/* nng redials after 100 ms, backing off to 1 s at most, so a restarted server
 * is found again within about a second. */
#define CLIENT_RECONNECT_MIN_MS 100
#define CLIENT_RECONNECT_MAX_MS 1000
/* Generated request ids: "req_" + a pw_id_new id (12 hex digits of the
 * time in ms, then 128 random bits in hex): the server keys its stored
 * replies by (scope, request id), so time-ordered ids append to that
 * B-tree instead of dirtying a random leaf per write. */
#define CLIENT_REQUEST_ID_PREFIX "req_"
/* nng's tcp:// and ipc:// transports open with an 8-byte SP header. */
#define CLIENT_SP_HEADER_BYTES 8
/* The audit head hash is a 32-byte BLAKE2b digest (head_hash_hex[65]). */
#define CLIENT_AUDIT_HASH_BYTES_MAX 32

_Static_assert(PW_ID_BYTES(sizeof(CLIENT_REQUEST_ID_PREFIX) - 1) - 1 <= PW_REQUEST_ID_BYTES_MAX,
    "a generated request id is a valid request id");
_Static_assert(PW_CLIENT_TIMEOUT_MS_MAX <= (uint32_t) INT32_MAX, "fits nng_duration");

/* The public enums have the wire's numbers: a cast is a correct mapping. */
#define CLIENT_SAME(a, b) _Static_assert((int) (a) == (int) (b), #a " == " #b)
CLIENT_SAME(PW_MODE_TEST, PAYWIRE__V1__MODE__MODE_TEST);
CLIENT_SAME(PW_MODE_LIVE, PAYWIRE__V1__MODE__MODE_LIVE);
CLIENT_SAME(PW_SESSION_CREATED, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_CREATED);
CLIENT_SAME(PW_SESSION_PENDING, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PENDING);
CLIENT_SAME(PW_SESSION_PAID, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID);
CLIENT_SAME(PW_SESSION_FAILED, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_FAILED);
CLIENT_SAME(PW_SESSION_EXPIRED, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_EXPIRED);
CLIENT_SAME(PW_SESSION_CANCELED, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_CANCELED);
CLIENT_SAME(PW_SESSION_REFUNDED, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_REFUNDED);
CLIENT_SAME(PW_SESSION_DISPUTED, PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_DISPUTED);
CLIENT_SAME(PW_PAYMENT_UNPAID, PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_UNPAID);
CLIENT_SAME(PW_PAYMENT_PROCESSING, PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_PROCESSING);
CLIENT_SAME(PW_PAYMENT_COMPLETED, PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_COMPLETED);
CLIENT_SAME(PW_PAYMENT_FAILED, PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_FAILED);
CLIENT_SAME(PW_PAYMENT_PARTIALLY_REFUNDED,
    PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_PARTIALLY_REFUNDED);
CLIENT_SAME(PW_PAYMENT_REFUNDED, PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_REFUNDED);
CLIENT_SAME(PW_PAYMENT_DISPUTED, PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_DISPUTED);
/* Providers: the wire's numbers for the rows that travel (test rows have
 * none), and pw_provider's for every row, so a cast is a correct mapping. */
#define CLIENT_XX_WIRE(NAME, value, name, label, secret_env) \
	CLIENT_SAME(PW_WEBHOOK_##NAME, PAYWIRE__V1__PROVIDER__PROVIDER_##NAME);
#define CLIENT_XX_SAME(NAME, value, name, label, secret_env) \
	CLIENT_SAME(PW_WEBHOOK_##NAME, PW_PROVIDER_##NAME);
PW_PROVIDER_MAP_BASE(CLIENT_XX_WIRE)
PW_PROVIDER_MAP(CLIENT_XX_SAME)
#undef CLIENT_XX_WIRE
#undef CLIENT_XX_SAME
CLIENT_SAME(PW_WEBHOOK_APPLIED, PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED);
CLIENT_SAME(PW_WEBHOOK_DUPLICATE, PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_DUPLICATE);
CLIENT_SAME(PW_WEBHOOK_IGNORED, PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_IGNORED);
CLIENT_SAME(PW_WEBHOOK_QUARANTINED, PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_QUARANTINED);
CLIENT_SAME(PW_FULFILL_ACCESS_KEY, PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY);
CLIENT_SAME(PW_FULFILL_CREDITS, PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS);

struct pw_client {
	nng_socket sock;                   /* REQ socket; each call opens its own ctx on it */
	nng_dialer dialer;                 /* background dialer to url, redials on loss */
	nng_stream_dialer *reach;          /* our own connects to url (reach check); NULL: none */
	atomic_int pipes;                  /* SP connections up, see client_pipe_event */
	uint32_t timeout_ms;               /* per attempt, 1..PW_CLIENT_TIMEOUT_MS_MAX */
	uint32_t retries;                  /* extra attempts after a timeout, 0..PW_CLIENT_RETRIES_MAX */
	char url[PW_CLIENT_URL_BYTES_MAX]; /* server address, for error messages */
#ifdef PW_TEST_HOOKS
	atomic_uint test_reach_checks;     /* reach checks made (client_hooks.h) */
	atomic_uint test_sends;            /* requests handed to nng (client_hooks.h) */
#endif
};

#ifdef PW_TEST_HOOKS
#define CLIENT_TEST_COUNT(c, field) ((void) atomic_fetch_add(&(c)->field, 1u))
#else
#define CLIENT_TEST_COUNT(c, field) ((void) 0)
#endif

/* Why an attempt got no reply. */
typedef enum client_miss {
	CLIENT_MISS_NONE = 0, /* a reply arrived */
	CLIENT_MISS_NO_PEER,  /* no connection took the request (or the reach check) within the timeout */
	CLIENT_MISS_LOST,     /* the connection dropped before the reply */
	CLIENT_MISS_SILENT,   /* sent, but no reply within the timeout */
} client_miss;

/* One string of a reply copied into the caller's struct. */
typedef struct client_field {
	char *out;        /* destination in the caller's struct */
	size_t out_size;  /* its size, NUL included */
	const char *src;  /* the reply's string (protobuf-c: never NULL, guarded anyway) */
	const char *name; /* field name, for the error message */
	bool whole;       /* true: must fit whole (ids, keys, URLs); false: free text, cut */
} client_field;

/* ---- errors and bounded copies ---- */

/* Drops an incomplete UTF-8 sequence at the end of s (len bytes, NUL at s[len]),
 * left there by a cut. */
static void
client_utf8_trim(char *s, size_t len)
{
	size_t start = len;
	size_t back = 0;
	size_t need;
	unsigned char lead;

	while (start > 0 && back < 4 && ((unsigned char) s[start - 1] & 0xc0) == 0x80) {
		start--;
		back++;
	}
	if (start == 0) {
		if (back > 0) {
			s[0] = '\0'; /* only continuation bytes: nothing sensible to keep */
		}
		return;
	}
	lead = (unsigned char) s[start - 1];
	if (lead < 0x80) {
		return;
	}
	need = (lead & 0xe0) == 0xc0 ? 1 : (lead & 0xf0) == 0xe0 ? 2 : (lead & 0xf8) == 0xf0 ? 3 : 0;
	if (back < need || need == 0) {
		s[start - 1] = '\0';
	}
}

/* Copies free text, cut at a UTF-8 boundary when it does not fit. */
static void
client_copy_text(char *out, size_t out_size, const char *src)
{
	size_t n;

	PW_ASSERT(out != NULL && out_size > 0);
	if (src == NULL) {
		out[0] = '\0';
		return;
	}
	n = strnlen(src, out_size);
	if (n < out_size) {
		memcpy(out, src, n + 1);
		return;
	}
	memcpy(out, src, out_size - 1);
	out[out_size - 1] = '\0';
	client_utf8_trim(out, out_size - 1);
}

static void
client_ok(pw_error *err)
{
	if (err != NULL) {
		err->code = PW_OK;
		err->message[0] = '\0';
		err->retry_after_ms = 0;
	}
}

__attribute__((format(printf, 3, 4))) static pw_status
client_fail(pw_error *err, pw_status code, const char *fmt, ...)
{
	va_list ap;
	int n;

	PW_ASSERT(code != PW_OK);
	if (err == NULL) {
		return code;
	}
	err->code = code;
	err->retry_after_ms = 0;
	va_start(ap, fmt);
	n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	if (n < 0) {
		err->message[0] = '\0';
	} else if ((size_t) n >= sizeof(err->message)) {
		client_utf8_trim(err->message, sizeof(err->message) - 1);
	}
	return code;
}

static pw_status
client_fields_copy(const client_field *f, size_t n, pw_error *err)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = f[i].src != NULL ? strlen(f[i].src) : 0;
		PW_ASSERT(f[i].out != NULL && f[i].out_size > 0);
		if (f[i].whole && len >= f[i].out_size) {
			f[i].out[0] = '\0';
			return client_fail(err, PW_INTERNAL,
			    "the server's reply field %s is %zu bytes; this client holds at most %zu",
			    f[i].name, len, f[i].out_size - 1);
		}
		client_copy_text(f[i].out, f[i].out_size, f[i].src);
	}
	return PW_OK;
}

static void
client_wipe_str(char *s)
{
	if (s != NULL && s[0] != '\0') {
		sodium_memzero(s, strlen(s));
	}
}

/* Maps an nng error during a call to a status; the caller adds the context.
 * An EINVAL there is this library's bug, not the caller's argument: only
 * pw_client_open maps nng errors to PW_INVALID_ARGUMENT (client_url_status). */
static pw_status
client_nng_status(int rv)
{
	switch (rv) {
	case NNG_ENOMEM:
		return PW_RESOURCE_EXHAUSTED;
	case NNG_ETIMEDOUT:
		return PW_TIMEOUT;
	case NNG_EMSGSIZE:
		return PW_PAYLOAD_TOO_LARGE;
	case NNG_ECLOSED:
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_EUNREACHABLE:
	case NNG_ENOENT:
	case NNG_EPEERAUTH:
	case NNG_EPROTO:
		return PW_UNAVAILABLE;
	default:
		return PW_INTERNAL;
	}
}

/* Maps an nng error about the URL given to pw_client_open: a malformed
 * address or a transport nng does not have is the caller's argument. */
static pw_status
client_url_status(int rv)
{
	switch (rv) {
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		return PW_INVALID_ARGUMENT;
	default:
		return client_nng_status(rv);
	}
}

/* True for a URL whose transport the reach check speaks: a byte stream that
 * opens with the 8-byte SP header (nng's tcp:// and ipc://). Any other
 * (inproc://, ws://, tls+tcp://) has no reach check: its calls wait for a
 * connection within their timeout. */
static bool
client_url_reachable(const char *url)
{
	static const char *const schemes[] = { "tcp://", "tcp4://", "tcp6://", "ipc://" };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0) {
			return true;
		}
	}
	return false;
}

static pw_status
client_nng_fail(pw_error *err, int rv, const char *what)
{
	return client_fail(err, client_nng_status(rv), "%s: %s", what, nng_strerror(rv));
}

/* ---- enum names ---- */

const char *
pw_session_status_name(pw_session_status s)
{
	switch (s) {
	case PW_SESSION_UNSPECIFIED:
		return "unspecified";
	case PW_SESSION_CREATED:
		return "created";
	case PW_SESSION_PENDING:
		return "pending";
	case PW_SESSION_PAID:
		return "paid";
	case PW_SESSION_FAILED:
		return "failed";
	case PW_SESSION_EXPIRED:
		return "expired";
	case PW_SESSION_CANCELED:
		return "canceled";
	case PW_SESSION_REFUNDED:
		return "refunded";
	case PW_SESSION_DISPUTED:
		return "disputed";
	}
	return "unknown";
}

const char *
pw_payment_status_name(pw_payment_status s)
{
	switch (s) {
	case PW_PAYMENT_UNSPECIFIED:
		return "unspecified";
	case PW_PAYMENT_UNPAID:
		return "unpaid";
	case PW_PAYMENT_PROCESSING:
		return "processing";
	case PW_PAYMENT_COMPLETED:
		return "completed";
	case PW_PAYMENT_FAILED:
		return "failed";
	case PW_PAYMENT_PARTIALLY_REFUNDED:
		return "partially_refunded";
	case PW_PAYMENT_REFUNDED:
		return "refunded";
	case PW_PAYMENT_DISPUTED:
		return "disputed";
	}
	return "unknown";
}

const char *
pw_credit_kind_name(pw_credit_kind k)
{
	switch (k) {
	case PW_CREDIT_UNSPECIFIED:
		return "unspecified";
	case PW_CREDIT_PURCHASE:
		return "purchase";
	case PW_CREDIT_DEDUCTION:
		return "deduction";
	case PW_CREDIT_REVERSAL:
		return "reversal";
	}
	return "unknown";
}

const char *
pw_mode_name(pw_mode m)
{
	switch (m) {
	case PW_MODE_UNSPECIFIED:
		return "unspecified";
	case PW_MODE_TEST:
		return "test";
	case PW_MODE_LIVE:
		return "live";
	}
	return "unknown";
}

const char *
pw_webhook_outcome_name(pw_webhook_outcome o)
{
	switch (o) {
	case PW_WEBHOOK_UNSPECIFIED:
		return "unspecified";
	case PW_WEBHOOK_APPLIED:
		return "applied";
	case PW_WEBHOOK_DUPLICATE:
		return "duplicate";
	case PW_WEBHOOK_IGNORED:
		return "ignored";
	case PW_WEBHOOK_QUARANTINED:
		return "quarantined";
	}
	return "unknown";
}

/* Provider names are the table's (pw_provider.h); the numbers are the same. */
const char *
pw_webhook_provider_name(pw_webhook_provider p)
{
	return pw_provider_known((pw_provider) p) ? pw_provider_name((pw_provider) p) : "unknown";
}

bool
pw_webhook_provider_parse(const char *name, pw_webhook_provider *out)
{
	pw_provider p;

	if (out == NULL || !pw_provider_parse(name, &p)) {
		return false;
	}
	*out = (pw_webhook_provider) p;
	return true;
}

/* Wire enum values -> public enums; a value this client does not know (a
 * newer server) reads as UNSPECIFIED rather than as a wrong state. */
static pw_mode
client_mode(int v)
{
	return v >= PW_MODE_UNSPECIFIED && v <= PW_MODE_LIVE ? (pw_mode) v : PW_MODE_UNSPECIFIED;
}

static pw_session_status
client_session_status(int v)
{
	return v >= PW_SESSION_UNSPECIFIED && v <= PW_SESSION_DISPUTED ? (pw_session_status) v
	                                                                 : PW_SESSION_UNSPECIFIED;
}

static pw_payment_status
client_payment_status(int v)
{
	return v >= PW_PAYMENT_UNSPECIFIED && v <= PW_PAYMENT_DISPUTED ? (pw_payment_status) v
	                                                                 : PW_PAYMENT_UNSPECIFIED;
}

static pw_webhook_outcome
client_outcome(int v)
{
	return v >= PW_WEBHOOK_UNSPECIFIED && v <= PW_WEBHOOK_QUARANTINED ? (pw_webhook_outcome) v
	                                                                : PW_WEBHOOK_UNSPECIFIED;
}

/* "" for PROVIDER_UNSPECIFIED (not paid yet) or a provider this client does not know. */
static const char *
client_provider_str(int v)
{
	return pw_provider_known((pw_provider) v) ? pw_provider_name((pw_provider) v) : "";
}

/* ---- open / close ---- */

void
pw_client_opts_default(pw_client_opts *opts)
{
	PW_ASSERT(opts != NULL);
	opts->timeout_ms = PW_CLIENT_TIMEOUT_MS_DEFAULT;
	opts->retries = PW_CLIENT_RETRIES_DEFAULT;
}

/* nng_pipe_notify callback, on nng's threads: counts the socket's live SP
 * connections. The reaper may run REM_POST before the dialer has run ADD_POST
 * for the same pipe, so the sum can dip below zero for a moment and still
 * ends right. A pipe the REQ protocol refuses (a peer that is not REP) gets
 * REM_POST without ADD_POST and leaves the sum one low: calls then make a
 * reach check even while connected, which costs a connect, never a wrong
 * answer. */
static void
client_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	pw_client *c = arg;

	(void) p;
	switch (ev) {
	case NNG_PIPE_EV_ADD_POST:
		(void) atomic_fetch_add(&c->pipes, 1);
		return;
	case NNG_PIPE_EV_REM_POST:
		(void) atomic_fetch_sub(&c->pipes, 1);
		return;
	case NNG_PIPE_EV_ADD_PRE:
	case NNG_PIPE_EV_NUM:
		return;
	}
}

/* Opens the REQ socket with the library's options and the connection count
 * (registered before any dial, so no connection goes uncounted). */
static pw_status
client_socket_setup(pw_client *c, pw_error *err)
{
	int rv;

	atomic_init(&c->pipes, 0);
	rv = nng_req0_open(&c->sock);
	if (rv != 0) {
		return client_nng_fail(err, rv, "opening the REQ socket");
	}
	/* The library re-sends itself (same bytes, same request_id) after its
	 * own timeout; nng's resend timer would add copies nobody counts. */
	rv = nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv == 0) {
		rv = nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, PW_RPC_MSG_BYTES_MAX);
	}
	if (rv == 0) {
		rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, CLIENT_RECONNECT_MIN_MS);
	}
	if (rv == 0) {
		rv = nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, CLIENT_RECONNECT_MAX_MS);
	}
	if (rv == 0) {
		rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, client_pipe_event, c);
	}
	if (rv == 0) {
		rv = nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, client_pipe_event, c);
	}
	if (rv != 0) {
		nng_close(c->sock);
		return client_nng_fail(err, rv, "setting REQ socket options");
	}
	return PW_OK;
}

pw_status
pw_client_open(pw_client **out, const char *url, const pw_client_opts *opts)
{
	pw_client *c;
	pw_status st;
	int rv;

	if (out == NULL || url == NULL || url[0] == '\0' || strlen(url) >= PW_CLIENT_URL_BYTES_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	*out = NULL;
	if (opts != NULL && (opts->timeout_ms > PW_CLIENT_TIMEOUT_MS_MAX ||
	                        opts->retries > PW_CLIENT_RETRIES_MAX)) {
		return PW_INVALID_ARGUMENT;
	}
	if (pw_common_init() != 0) {
		return PW_INTERNAL; /* libsodium could not initialise: no random request ids */
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	c->timeout_ms = opts != NULL && opts->timeout_ms != 0 ? opts->timeout_ms
	                                                      : PW_CLIENT_TIMEOUT_MS_DEFAULT;
	c->retries = opts != NULL ? opts->retries : PW_CLIENT_RETRIES_DEFAULT;
	memcpy(c->url, url, strlen(url) + 1);
	st = client_socket_setup(c, NULL);
	if (st != PW_OK) {
		free(c);
		return st;
	}
	/* Non-blocking: a server that is not up yet is found by the background
	 * redial; until then calls answer PW_UNAVAILABLE at once (reach check). */
	rv = nng_dial(c->sock, url, &c->dialer, NNG_FLAG_NONBLOCK);
	if (rv == 0 && client_url_reachable(url)) {
		rv = nng_stream_dialer_alloc(&c->reach, url);
	}
	if (rv != 0) {
		nng_close(c->sock);
		free(c);
		return client_url_status(rv);
	}
	*out = c;
	return PW_OK;
}

void
pw_client_close(pw_client *c)
{
	if (c == NULL) {
		return;
	}
	nng_close(c->sock); /* returns after the last pipe callback */
	if (c->reach != NULL) {
		nng_stream_dialer_free(c->reach);
	}
	free(c);
}

void
client_test_counts_get(const pw_client *c, client_test_counts *out)
{
	PW_ASSERT(c != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	out->pipes = atomic_load(&c->pipes);
#ifdef PW_TEST_HOOKS
	out->reach_checks = atomic_load(&c->test_reach_checks);
	out->sends = atomic_load(&c->test_sends);
#endif
}

/* ---- transport: one attempt, and the retry loop ---- */

static void
client_msg_free(nng_msg *m)
{
	if (m != NULL) {
		if (nng_msg_len(m) > 0) {
			sodium_memzero(nng_msg_body(m), nng_msg_len(m)); /* may hold keys */
		}
		nng_msg_free(m);
	}
}

/* What is left of an attempt that ends at deadline (pw_monotonic_ms), as an
 * aio timeout: at least 1 ms, so a late step still fails by timing out. */
static nng_duration
client_left_ms(int64_t deadline)
{
	int64_t now = pw_monotonic_ms();

	return now < deadline ? (nng_duration) (deadline - now) : 1;
}

/* Moves all of buf[0..len) over the stream s, sending (send) or receiving,
 * within the deadline: a stream may move fewer bytes than asked, so this
 * loops. 0, or the nng error that stopped it (NNG_ECONNSHUT for an end of
 * stream). */
static int
client_stream_move(nng_stream *s, nng_aio *aio, uint8_t *buf, size_t len, bool send,
    int64_t deadline)
{
	size_t done = 0;
	int rv;

	while (done < len) {
		nng_iov iov = { .iov_buf = buf + done, .iov_len = len - done };

		rv = nng_aio_set_iov(aio, 1, &iov);
		if (rv != 0) {
			return rv;
		}
		nng_aio_set_timeout(aio, client_left_ms(deadline));
		if (send) {
			nng_stream_send(s, aio);
		} else {
			nng_stream_recv(s, aio);
		}
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv != 0) {
			return rv;
		}
		if (nng_aio_count(aio) == 0) {
			return NNG_ECONNSHUT;
		}
		done += nng_aio_count(aio);
	}
	return 0;
}

/* The SP handshake of nng's tcp:// and ipc:// transports over the fresh
 * stream s: our REQ header out, the peer's header in. 0 when a REP socket
 * answered, NNG_EPROTO when something else did, else the nng error. The
 * handshake is completed, never cut: nng 1.5.2 listeners mishandle a
 * connection that closes while they negotiate (nng issue #1518), and the
 * server must see nothing but an ordinary REQ peer that came and went. */
static int
client_sp_handshake(nng_stream *s, nng_aio *aio, int64_t deadline)
{
	uint8_t ours[CLIENT_SP_HEADER_BYTES] = { 0, 'S', 'P', 0, 0, NNG_REQ0_SELF, 0, 0 };
	const uint8_t rep[CLIENT_SP_HEADER_BYTES] = { 0, 'S', 'P', 0, 0, NNG_REP0_SELF, 0, 0 };
	uint8_t theirs[CLIENT_SP_HEADER_BYTES];
	int rv;

	rv = client_stream_move(s, aio, ours, sizeof(ours), true, deadline);
	if (rv == 0) {
		rv = client_stream_move(s, aio, theirs, sizeof(theirs), false, deadline);
	}
	if (rv == 0 && memcmp(theirs, rep, sizeof(rep)) != 0) {
		rv = NNG_EPROTO;
	}
	return rv;
}

/* The reach check, for an attempt that finds no live connection: one
 * connection of our own to the URL on aio (connect, SP handshake, close),
 * within the attempt's time left. PW_OK: a REP socket answers there (the
 * send goes on and waits for the background dialer), or *miss is
 * CLIENT_MISS_NO_PEER (it timed out: a retry may succeed). PW_UNAVAILABLE:
 * refused, no socket file, unreachable, or not an nng REP socket: a retry
 * cannot succeed, so none is made and nothing is sent. */
static pw_status
client_reach_check(pw_client *c, nng_aio *aio, int64_t deadline, client_miss *miss, pw_error *err)
{
	nng_stream *s;
	int rv;

	CLIENT_TEST_COUNT(c, test_reach_checks);
	nng_aio_set_timeout(aio, client_left_ms(deadline));
	nng_stream_dialer_dial(c->reach, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv == 0) {
		s = nng_aio_get_output(aio, 0);
		rv = client_sp_handshake(s, aio, deadline);
		nng_stream_free(s);
	}
	switch (rv) {
	case 0:
		return PW_OK;
	case NNG_ETIMEDOUT:
		*miss = CLIENT_MISS_NO_PEER;
		return PW_OK;
	case NNG_ENOMEM:
		return client_nng_fail(err, rv, "connecting to the server");
	case NNG_EPROTO:
		return client_fail(err, PW_UNAVAILABLE,
		    "the server at %s does not answer as a paywire server (not an nng REP socket)",
		    c->url);
	default:
		return client_fail(err, PW_UNAVAILABLE, "cannot connect to the server at %s: %s", c->url,
		    nng_strerror(rv));
	}
}

/* One attempt: the reach check when no connection is up, then req sent once
 * on ctx and the reply awaited, all within timeout_ms. PW_OK with *reply set
 * (caller frees), or PW_OK with *miss telling why no reply came (a retry may
 * help); another status for a failure that a retry cannot fix. */
static pw_status
client_attempt(pw_client *c, nng_ctx ctx, nng_aio *aio, const void *req, size_t len,
    nng_msg **reply, client_miss *miss, pw_error *err)
{
	int64_t deadline = pw_monotonic_ms() + (int64_t) c->timeout_ms;
	nng_msg *msg;
	pw_status st;
	int rv;

	*reply = NULL;
	*miss = CLIENT_MISS_NONE;
	if (c->reach != NULL && atomic_load(&c->pipes) <= 0) {
		st = client_reach_check(c, aio, deadline, miss, err);
		if (st != PW_OK || *miss != CLIENT_MISS_NONE) {
			return st;
		}
	}
	rv = nng_msg_alloc(&msg, len);
	if (rv != 0) {
		return client_nng_fail(err, rv, "building the request message");
	}
	if (len > 0) {
		memcpy(nng_msg_body(msg), req, len);
	}
	nng_aio_set_msg(aio, msg);
	nng_aio_set_timeout(aio, client_left_ms(deadline));
	/* A REQ send completes once a connection takes the message: a timeout
	 * here means no connection came up in time. */
	CLIENT_TEST_COUNT(c, test_sends);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv != 0) {
		client_msg_free(nng_aio_get_msg(aio)); /* still ours after a failed send */
		nng_aio_set_msg(aio, NULL);
		if (rv == NNG_ETIMEDOUT || rv == NNG_ECONNRESET || rv == NNG_ECONNSHUT) {
			*miss = rv == NNG_ETIMEDOUT ? CLIENT_MISS_NO_PEER : CLIENT_MISS_LOST;
			return PW_OK;
		}
		return client_nng_fail(err, rv, "sending the request");
	}
	nng_aio_set_timeout(aio, client_left_ms(deadline));
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv == 0) {
		*reply = nng_aio_get_msg(aio);
		nng_aio_set_msg(aio, NULL);
		return PW_OK;
	}
	if (rv == NNG_ETIMEDOUT || rv == NNG_ECONNRESET || rv == NNG_ECONNSHUT) {
		*miss = rv == NNG_ETIMEDOUT ? CLIENT_MISS_SILENT : CLIENT_MISS_LOST;
		return PW_OK;
	}
	return client_nng_fail(err, rv, "waiting for the reply");
}

/* The status and message after the last attempt missed for reason last. */
static pw_status
client_missed(const pw_client *c, client_miss last, uint32_t attempts, pw_error *err)
{
	switch (last) {
	case CLIENT_MISS_NO_PEER:
		return client_fail(err, PW_UNAVAILABLE,
		    "cannot connect to the server at %s (%u attempt(s) of %u ms)", c->url, attempts,
		    c->timeout_ms);
	case CLIENT_MISS_LOST:
		return client_fail(err, PW_UNAVAILABLE,
		    "the connection to %s was lost before the reply (%u attempt(s))", c->url,
		    attempts);
	case CLIENT_MISS_SILENT:
		return client_fail(err, PW_TIMEOUT, "no reply from %s within %u attempt(s) of %u ms",
		    c->url, attempts, c->timeout_ms);
	case CLIENT_MISS_NONE:
		break;
	}
	PW_ASSERT(!"client_missed called without a miss");
	return PW_INTERNAL;
}

/* Sends req (same bytes, same request_id, on every attempt) until a reply
 * arrives, an attempt fails in a way a retry cannot fix (the reach check
 * found nothing listening), or retries run out: only misses (timeouts, a
 * dropped connection) are retried. On PW_OK *reply holds the reply (free with
 * client_msg_free). */
static pw_status
client_exchange(pw_client *c, const void *req, size_t len, nng_msg **reply, pw_error *err)
{
	client_miss miss = CLIENT_MISS_NONE;
	uint32_t attempts = 0;
	nng_aio *aio;
	nng_ctx ctx;
	pw_status st = PW_OK;
	int rv;

	*reply = NULL;
	if (len > PW_RPC_MSG_BYTES_MAX) {
		return client_fail(err, PW_PAYLOAD_TOO_LARGE,
		    "the request is %zu bytes; one RPC message holds at most %u", len,
		    PW_RPC_MSG_BYTES_MAX);
	}
	rv = nng_ctx_open(&ctx, c->sock);
	if (rv != 0) {
		return client_nng_fail(err, rv, "opening a request context");
	}
	rv = nng_ctx_set_ms(ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv == 0) {
		rv = nng_aio_alloc(&aio, NULL, NULL);
	}
	if (rv != 0) {
		nng_ctx_close(ctx);
		return client_nng_fail(err, rv, "preparing the request context");
	}
	while (attempts <= c->retries) {
		attempts++;
		st = client_attempt(c, ctx, aio, req, len, reply, &miss, err);
		if (st != PW_OK || *reply != NULL) {
			break;
		}
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	if (st != PW_OK) {
		return st;
	}
	if (*reply == NULL) {
		return client_missed(c, miss, attempts, err);
	}
	return PW_OK;
}

/* ---- typed calls ---- */

static pw_status
client_request_id(char *rid, size_t rid_size, const char *given, pw_error *err)
{
	PW_ASSERT(rid_size > PW_REQUEST_ID_BYTES_MAX);
	if (given != NULL) {
		size_t n = strlen(given);
		if (n == 0 || n > PW_REQUEST_ID_BYTES_MAX) {
			return client_fail(err, PW_INVALID_ARGUMENT,
			    "request_id must be 1..%d bytes (got %zu)", PW_REQUEST_ID_BYTES_MAX, n);
		}
		memcpy(rid, given, n + 1);
		return PW_OK;
	}
	pw_id_new(rid, rid_size, CLIENT_REQUEST_ID_PREFIX, pw_now_unix_ms());
	return PW_OK;
}

/* Checks a decoded reply: same request_id, server status, expected result. */
static pw_status
client_reply_check(const Paywire__V1__Response *rsp, const char *rid,
    Paywire__V1__Response__ResultCase want, pw_error *err)
{
	int code = rsp->status != NULL ? rsp->status->code : 0; /* proto3: absent = code 0 */
	pw_status st;

	if (rsp->request_id == NULL || strcmp(rsp->request_id, rid) != 0) {
		return client_fail(err, PW_INTERNAL,
		    "the server's reply is for another request (request_id does not match %s)", rid);
	}
	if (code != 0) {
		const char *msg = rsp->status->message != NULL ? rsp->status->message : "";
		st = pw_status_from_wire(code);
		if (st == PW_INTERNAL && code != pw_status_wire(PW_INTERNAL)) {
			return client_fail(err, PW_INTERNAL, "the server answered unknown status code %d: %s",
			    code, msg);
		}
		if (err != NULL) {
			err->code = st;
			err->retry_after_ms = rsp->status->retry_after_ms > 0 ? rsp->status->retry_after_ms : 0;
			client_copy_text(err->message, sizeof(err->message),
			    msg[0] != '\0' ? msg : pw_status_message(st));
		}
		return st;
	}
	if (rsp->result_case != want) {
		return client_fail(err, PW_INTERNAL,
		    "the server's reply carries result %d where %d was expected", (int) rsp->result_case,
		    (int) want);
	}
	return PW_OK;
}

static pw_status
client_reply_decode(const nng_msg *msg, const char *rid, Paywire__V1__Response__ResultCase want,
    Paywire__V1__Response **out, pw_error *err)
{
	Paywire__V1__Response *rsp;
	pw_status st;
	size_t len = nng_msg_len(msg);

	rsp = paywire__v1__response__unpack(NULL, len, nng_msg_body((nng_msg *) msg));
	if (rsp == NULL) {
		return client_fail(err, PW_INTERNAL,
		    "the server's reply (%zu bytes) does not decode as a paywire.v1.Response", len);
	}
	st = client_reply_check(rsp, rid, want, err);
	if (st != PW_OK) {
		paywire__v1__response__free_unpacked(rsp, NULL);
		return st;
	}
	*out = rsp;
	return PW_OK;
}

/* pw_trace_set's value for this thread ("" : none). */
static _Thread_local char client_trace[PW_TRACE_ID_BYTES_MAX + 1];

pw_status
pw_trace_set(const char *trace_id)
{
	size_t n = trace_id != NULL ? strlen(trace_id) : 0;

	if (n > PW_TRACE_ID_BYTES_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char) trace_id[i];
		bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '_' || ch == ':' || ch == '-';

		if (!ok) {
			return PW_INVALID_ARGUMENT;
		}
	}
	memcpy(client_trace, n > 0 ? trace_id : "", n);
	client_trace[n] = '\0';
	return PW_OK;
}

/* Packs rq (request_id from request_id, or random), exchanges it and decodes
 * the reply. On PW_OK *out is the reply (free with
 * paywire__v1__response__free_unpacked), and its result is `want`. */
static pw_status
client_call(pw_client *c, Paywire__V1__Request *rq, const char *request_id,
    Paywire__V1__Response__ResultCase want, Paywire__V1__Response **out, pw_error *err)
{
	char rid[PW_REQUEST_ID_BYTES_MAX + 1];
	nng_msg *reply = NULL;
	uint8_t *buf;
	size_t size;
	size_t packed;
	pw_status st;

	*out = NULL;
	st = client_request_id(rid, sizeof(rid), request_id, err);
	if (st != PW_OK) {
		return st;
	}
	rq->request_id = rid;
	rq->trace_id = client_trace;
	rq->deadline_ms = c->timeout_ms; /* the server need not answer later than this */
	size = paywire__v1__request__get_packed_size(rq);
	if (size > PW_RPC_MSG_BYTES_MAX) {
		return client_fail(err, PW_PAYLOAD_TOO_LARGE,
		    "the request is %zu bytes; one RPC message holds at most %u", size,
		    PW_RPC_MSG_BYTES_MAX);
	}
	buf = malloc(size);
	if (buf == NULL) {
		return client_fail(err, PW_RESOURCE_EXHAUSTED, "out of memory for a %zu-byte request", size);
	}
	packed = paywire__v1__request__pack(rq, buf);
	PW_ASSERT(packed == size);
	st = client_exchange(c, buf, size, &reply, err);
	sodium_memzero(buf, size); /* holds the api key */
	free(buf);
	if (st != PW_OK) {
		return st;
	}
	st = client_reply_decode(reply, rid, want, out, err);
	client_msg_free(reply);
	if (st == PW_OK) {
		client_ok(err);
	}
	return st;
}

static char *
client_str(const char *s)
{
	return (char *) (s != NULL ? s : "");
}

/* A required string argument of a public call, for client_begin. */
typedef struct client_arg {
	const char *name;  /* as the message names it: "session_id" */
	const char *value; /* the caller's; NULL is refused */
} client_arg;

/* Common entry checks: a client, an out struct (zeroed here) and the n
 * required strings in need; fn names the public call in the message. */
static pw_status
client_begin(const pw_client *c, void *out, size_t out_size, const char *fn,
    const client_arg *need, size_t n, pw_error *err)
{
	client_ok(err);
	if (out != NULL) {
		memset(out, 0, out_size);
	}
	if (c == NULL || out == NULL) {
		return client_fail(err, PW_INVALID_ARGUMENT, "%s: %s is NULL", fn,
		    c == NULL ? "the client" : "the result pointer");
	}
	for (size_t i = 0; i < n; i++) {
		if (need[i].value == NULL) {
			return client_fail(err, PW_INVALID_ARGUMENT, "%s: %s is NULL", fn, need[i].name);
		}
	}
	return PW_OK;
}

/* ---- replies: each call's result into the caller's struct ---- */

/* A string field f of reply r copied into out->f (client_fields_copy), named
 * f in messages: CLIENT_ID must fit whole (ids, keys, URLs, codes), CLIENT_TEXT
 * is free text, cut at a UTF-8 boundary. */
#define CLIENT_COPY(out, r, f, whole) { (out)->f, sizeof((out)->f), (r)->f, #f, whole }
#define CLIENT_ID(out, r, f) CLIENT_COPY(out, r, f, true)
#define CLIENT_TEXT(out, r, f) CLIENT_COPY(out, r, f, false)

static pw_status
client_merchant_map(const Paywire__V1__CreateMerchantResponse *r, pw_merchant *out, pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, r, merchant_id), CLIENT_ID(out, r, api_key),
		CLIENT_TEXT(out, r, name),
	};

	out->mode = client_mode(r->mode);
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static void
client_merchant_wipe(ProtobufCMessage *result)
{
	client_wipe_str(((Paywire__V1__CreateMerchantResponse *) (void *) result)->api_key);
}

/* merchant_id_out of pw_apikey_revoke: the size its prototype promises. */
typedef struct client_revoked {
	char merchant_id[64]; /* whose key it was */
} client_revoked;

static pw_status
client_revoke_map(const Paywire__V1__RevokeApiKeyResponse *r, client_revoked *out, pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, r, merchant_id),
	};

	return client_fields_copy(f, 1, err);
}

static pw_status
client_key_info_copy(const Paywire__V1__ApiKeyInfo *k, pw_api_key_info *out, pw_error *err)
{
	const client_field f[] = {
		{ out->key_id, sizeof(out->key_id), k->key_id, "key_id", true },
		{ out->key_prefix, sizeof(out->key_prefix), k->key_prefix, "key_prefix", true },
		{ out->last4, sizeof(out->last4), k->last4, "last4", true },
		{ out->state, sizeof(out->state), k->state, "state", true },
		{ out->replaced_by, sizeof(out->replaced_by), k->replaced_by, "replaced_by", true },
	};

	out->mode = (pw_mode) k->mode; /* k: checked non-NULL by the callers */
	out->created_at_unix_ms = k->created_at_unix_ms;
	out->expires_at_unix_ms = k->expires_at_unix_ms;
	out->revoked_at_unix_ms = k->revoked_at_unix_ms;
	out->last_used_at_unix_ms = k->last_used_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_key_raw(const char *raw, pw_api_key_new *out, pw_error *err)
{
	const client_field f[] = {
		{ out->api_key, sizeof(out->api_key), raw, "api_key", true },
	};
	return client_fields_copy(f, 1, err);
}

static pw_status
client_key_new_map(const Paywire__V1__CreateApiKeyResponse *r, pw_api_key_new *out, pw_error *err)
{
	pw_status st;

	if (r->key == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's create_api_key reply has no key");
	}
	st = client_key_info_copy(r->key, &out->key, err);
	return st == PW_OK ? client_key_raw(r->api_key, out, err) : st;
}

static void
client_key_new_wipe(ProtobufCMessage *result)
{
	client_wipe_str(((Paywire__V1__CreateApiKeyResponse *) (void *) result)->api_key);
}

static pw_status
client_key_roll_map(const Paywire__V1__RollApiKeyResponse *r, pw_api_key_new *out, pw_error *err)
{
	pw_status st;

	if (r->key == NULL || r->rolled == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's roll_api_key reply lacks a key");
	}
	st = client_key_info_copy(r->key, &out->key, err);
	if (st == PW_OK) {
		st = client_key_info_copy(r->rolled, &out->rolled, err);
	}
	return st == PW_OK ? client_key_raw(r->api_key, out, err) : st;
}

static void
client_key_roll_wipe(ProtobufCMessage *result)
{
	client_wipe_str(((Paywire__V1__RollApiKeyResponse *) (void *) result)->api_key);
}

static pw_status
client_key_list_map(const Paywire__V1__ListApiKeysResponse *r, pw_api_key_list *out, pw_error *err)
{
	if (r->n_keys > PW_API_KEYS_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu keys; at most %d expected",
		    r->n_keys, PW_API_KEYS_MAX);
	}
	for (size_t i = 0; i < r->n_keys; i++) {
		pw_status st = client_key_info_copy(r->keys[i], &out->keys[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = r->n_keys;
	return PW_OK;
}

static pw_status
client_session_map(const Paywire__V1__CreateSessionResponse *cs, pw_session *out, pw_error *err)
{
	const Paywire__V1__Session *s = cs->session;

	if (s == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's create_session reply has no session");
	}
	const client_field f[] = {
		CLIENT_ID(out, s, id), CLIENT_ID(out, s, merchant_id), CLIENT_ID(out, s, url),
		CLIENT_ID(out, s, currency), CLIENT_ID(out, cs, checkout_secret),
		CLIENT_ID(out, s, provider_checkout_id), CLIENT_ID(out, s, provider_checkout_url),
		{ out->checkout_provider, sizeof(out->checkout_provider),
		    client_provider_str(s->checkout_provider), "checkout_provider", true },
		CLIENT_ID(out, s, credit_package),
	};
	out->provider_checkout_pending = s->provider_checkout_state ==
	    PAYWIRE__V1__PROVIDER_CHECKOUT_STATE__PROVIDER_CHECKOUT_STATE_PENDING;
	out->mode = client_mode(s->mode);
	out->status = client_session_status(s->status);
	out->payment_status = client_payment_status(s->payment_status);
	out->amount_minor = s->amount_minor;
	out->created_at_unix_ms = s->created_at_unix_ms;
	out->expires_at_unix_ms = s->expires_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_session_copy(const Paywire__V1__Session *s, pw_session *out, pw_error *err)
{
	Paywire__V1__CreateSessionResponse cs = PAYWIRE__V1__CREATE_SESSION_RESPONSE__INIT;

	cs.session = (Paywire__V1__Session *) s;
	return client_session_map(&cs, out, err);
}

static const char *
client_provider_text(Paywire__V1__Provider p)
{
	return p == PAYWIRE__V1__PROVIDER__PROVIDER_UNSPECIFIED
	    ? ""
	    : pw_webhook_provider_name((pw_webhook_provider) p);
}

static pw_status
client_detail_map(const Paywire__V1__GetSessionResponse *g, pw_session_detail *out, pw_error *err)
{
	const Paywire__V1__SessionDetail *d = g->session;
	pw_status st;

	if (d == NULL || d->session == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's get_session reply has no session");
	}
	st = client_session_copy(d->session, &out->session, err);
	if (st != PW_OK) {
		return st;
	}
	if (!pw_strlcpy(out->session.checkout_secret, g->checkout_secret,
	        sizeof(out->session.checkout_secret))) {
		return client_fail(err, PW_INTERNAL, "the server's checkout_secret is too long");
	}
	const client_field f[] = {
		{ out->customer_email, sizeof(out->customer_email), d->session->customer_email,
		    "customer_email", true },
		{ out->customer_ref, sizeof(out->customer_ref), d->session->customer_ref,
		    "customer_ref", true },
		{ out->payment_provider, sizeof(out->payment_provider),
		    client_provider_text(d->session->payment_provider), "payment_provider", true },
		{ out->paid_ref, sizeof(out->paid_ref), d->paid_ref, "paid_ref", true },
		{ out->access_key_id, sizeof(out->access_key_id), d->access_key_id, "access_key_id",
		    true },
		{ out->access_link, sizeof(out->access_link), d->access_link, "access_link", true },
		{ out->dispute, sizeof(out->dispute), d->dispute, "dispute", true },
		{ out->anomaly, sizeof(out->anomaly), d->anomaly, "anomaly", false },
	};
	out->amount_refunded_minor = d->session->amount_refunded_minor;
	out->paid_at_unix_ms = d->session->paid_at_unix_ms;
	out->invoice_number = d->invoice_number;
	out->entitlement_active = d->entitlement_active != 0;
	out->anomalies = d->anomalies;
	out->updated_at_unix_ms = d->updated_at_unix_ms;
	st = client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
	for (size_t i = 0; st == PW_OK && i < d->n_refs && i < 32; i++) {
		const client_field r[] = {
			{ out->refs[i].provider, sizeof(out->refs[i].provider),
			    client_provider_text(d->refs[i]->provider), "refs.provider", true },
			{ out->refs[i].ref, sizeof(out->refs[i].ref), d->refs[i]->ref, "refs.ref", true },
		};
		st = client_fields_copy(r, 2, err);
		out->n_refs = i + 1;
	}
	return st;
}

static pw_status
client_session_page_map(const Paywire__V1__ListSessionsResponse *l, pw_session_page *out,
    pw_error *err)
{
	const client_field f[] = {
		{ out->next, sizeof(out->next), l->next_starting_after, "next_starting_after", true },
	};
	pw_status st;

	if (l->n_sessions > PW_SESSION_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu sessions; at most %d expected",
		    l->n_sessions, PW_SESSION_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_sessions; i++) {
		st = client_session_copy(l->sessions[i], &out->sessions[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_sessions;
	out->has_more = l->has_more != 0;
	return client_fields_copy(f, 1, err);
}

static pw_status
client_invoice_copy(const Paywire__V1__Invoice *v, pw_invoice *out, pw_error *err)
{
	const client_field f[] = {
		{ out->session_id, sizeof(out->session_id), v->session_id, "session_id", true },
		{ out->currency, sizeof(out->currency), v->currency, "currency", true },
		{ out->provider, sizeof(out->provider), client_provider_text(v->provider), "provider",
		    true },
		{ out->payment_ref, sizeof(out->payment_ref), v->payment_ref, "payment_ref", true },
		{ out->customer_email, sizeof(out->customer_email), v->customer_email,
		    "customer_email", true },
		{ out->customer_name, sizeof(out->customer_name), v->customer_name, "customer_name",
		    false },
	};

	out->number = v->number;
	out->amount_minor = v->amount_minor;
	out->issued_at_unix_ms = v->issued_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_invoice_map(const Paywire__V1__GetInvoiceResponse *g, pw_invoice *out, pw_error *err)
{
	if (g->invoice == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's get_invoice reply has no invoice");
	}
	return client_invoice_copy(g->invoice, out, err);
}

static pw_status
client_invoice_page_map(const Paywire__V1__ListInvoicesResponse *l, pw_invoice_page *out,
    pw_error *err)
{
	if (l->n_invoices > PW_INVOICE_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu invoices; at most %d expected",
		    l->n_invoices, PW_INVOICE_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_invoices; i++) {
		pw_status st = client_invoice_copy(l->invoices[i], &out->invoices[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_invoices;
	out->has_more = l->has_more != 0;
	return PW_OK;
}

static pw_status
client_event_page_map(const Paywire__V1__ListEventsResponse *l, pw_event_page *out,
    pw_error *err)
{
	if (l->n_events > PW_EVENT_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu events; at most %d expected",
		    l->n_events, PW_EVENT_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_events; i++) {
		const Paywire__V1__Event *v = l->events[i];
		pw_event_info *e = &out->events[i];
		const client_field f[] = {
			{ e->type, sizeof(e->type), v->type, "type", true },
			{ e->merchant_id, sizeof(e->merchant_id), v->merchant_id, "merchant_id", true },
			{ e->session_id, sizeof(e->session_id), v->session_id, "session_id", true },
			{ e->detail, sizeof(e->detail), v->detail, "detail", false },
		};
		pw_status st;

		e->seq = v->seq;
		e->created_at_unix_ms = v->created_at_unix_ms;
		st = client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_events;
	out->has_more = l->has_more != 0;
	out->next_after_seq = l->next_after_seq;
	return PW_OK;
}

static pw_status
client_anomaly_page_map(const Paywire__V1__ListAnomaliesResponse *l, pw_anomaly_page *out,
    pw_error *err)
{
	if (l->n_anomalies > PW_ANOMALY_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu anomalies; at most %d expected",
		    l->n_anomalies, PW_ANOMALY_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_anomalies; i++) {
		const Paywire__V1__Anomaly *v = l->anomalies[i];
		pw_anomaly *a = &out->anomalies[i];
		const client_field f[] = {
			{ a->session_id, sizeof(a->session_id), v->session_id, "session_id", true },
			{ a->provider, sizeof(a->provider), client_provider_text(v->provider), "provider",
			    true },
			{ a->event_id, sizeof(a->event_id), v->event_id, "event_id", true },
			{ a->event_type, sizeof(a->event_type), v->event_type, "event_type", true },
			{ a->payment_ref, sizeof(a->payment_ref), v->payment_ref, "payment_ref", true },
			{ a->charge_ref, sizeof(a->charge_ref), v->charge_ref, "charge_ref", true },
			{ a->currency, sizeof(a->currency), v->currency, "currency", true },
			{ a->reason, sizeof(a->reason), v->reason, "reason", false },
			{ a->action, sizeof(a->action), v->action, "action", false },
			{ a->resolution, sizeof(a->resolution), v->resolution, "resolution", false },
		};
		pw_status st;

		a->seq = v->seq;
		a->has_amount = v->has_amount != 0;
		a->amount_minor = v->amount_minor;
		a->created_at_unix_ms = v->created_at_unix_ms;
		a->resolved_at_unix_ms = v->resolved_at_unix_ms;
		st = client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_anomalies;
	out->has_more = l->has_more != 0;
	return PW_OK;
}

static pw_status
client_quarantined_copy(const Paywire__V1__QuarantinedEvent *v, pw_quarantined_event *q,
    pw_error *err)
{
	const client_field f[] = {
		{ q->provider, sizeof(q->provider), client_provider_text(v->provider), "provider", true },
		{ q->reason, sizeof(q->reason), v->reason, "reason", false },
	};

	q->id = v->id;
	q->received_at_unix_ms = v->received_at_unix_ms;
	q->attempts = v->attempts;
	q->last_attempt_unix_ms = v->last_attempt_unix_ms;
	q->body_bytes = v->body_bytes;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_quarantine_page_map(const Paywire__V1__ListQuarantinedEventsResponse *l,
    pw_quarantine_page *out, pw_error *err)
{
	if (l->n_events > PW_QUARANTINE_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu events; at most %d expected",
		    l->n_events, PW_QUARANTINE_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_events; i++) {
		pw_status st = client_quarantined_copy(l->events[i], &out->events[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_events;
	out->has_more = l->has_more != 0;
	return PW_OK;
}

static pw_status
client_quarantine_detail_map(const Paywire__V1__GetQuarantinedEventResponse *g,
    pw_quarantined_detail *out, pw_error *err)
{
	const Paywire__V1__QuarantinedEvent *v = g->event;
	pw_status st;

	if (v == NULL || v->body.len > sizeof(out->body) ||
	    v->n_headers > sizeof(out->headers) / sizeof(out->headers[0])) {
		return client_fail(err, PW_INTERNAL, "the server's quarantined event does not fit");
	}
	st = client_quarantined_copy(v, &out->event, err);
	if (st != PW_OK) {
		return st;
	}
	if (v->body.len > 0) {
		memcpy(out->body, v->body.data, v->body.len);
	}
	out->event.body_bytes = v->body.len;
	for (size_t i = 0; i < v->n_headers; i++) {
		const client_field f[] = {
			{ out->headers[i].name, sizeof(out->headers[i].name), v->headers[i]->name, "name",
			    true },
			{ out->headers[i].value, sizeof(out->headers[i].value), v->headers[i]->value,
			    "value", true },
		};
		st = client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->headers_len = v->n_headers;
	return PW_OK;
}

static pw_status client_webhook_map(const Paywire__V1__IngestWebhookResponse *w,
    pw_webhook_result *out, pw_error *err);

static pw_status
client_quarantine_retry_map(const Paywire__V1__RetryQuarantinedEventResponse *r,
    pw_quarantine_retry_result *out, pw_error *err)
{
	const client_field f[] = { CLIENT_TEXT(out, r, reason) };

	out->retried = r->retried != 0;
	if (out->retried && r->result == NULL) {
		return client_fail(err, PW_INTERNAL, "the server retried the event without its result");
	}
	if (r->result != NULL) {
		pw_status st = client_webhook_map(r->result, &out->result, err);
		if (st != PW_OK) {
			return st;
		}
	}
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

/* cancel_session answers the session as create_session does. */
static pw_status
client_cancel_map(const Paywire__V1__CancelSessionResponse *cx, pw_session *out, pw_error *err)
{
	Paywire__V1__CreateSessionResponse cs = PAYWIRE__V1__CREATE_SESSION_RESPONSE__INIT;

	if (cx->session == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's cancel_session reply has no session");
	}
	cs.session = cx->session;
	return client_session_map(&cs, out, err);
}

static pw_status
client_status_map(const Paywire__V1__GetStatusResponse *g, pw_status_info *out, pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, g, session_id), CLIENT_ID(out, g, merchant_id), CLIENT_ID(out, g, currency),
		{ out->payment_provider, sizeof(out->payment_provider),
		    client_provider_str(g->payment_provider), "payment_provider", true },
		CLIENT_ID(out, g, access_link), CLIENT_TEXT(out, g, merchant_name),
		CLIENT_TEXT(out, g, plan), CLIENT_ID(out, g, success_url), CLIENT_ID(out, g, cancel_url),
		CLIENT_ID(out, g, provider_checkout_url), CLIENT_ID(out, g, provider_checkout_id),
		CLIENT_ID(out, g, provider_key_id),
		{ out->checkout_provider, sizeof(out->checkout_provider),
		    client_provider_str(g->checkout_provider), "checkout_provider", true },
		CLIENT_ID(out, g, credit_package),
	};
	out->credits = g->credits;

	out->status = client_session_status(g->status);
	out->payment_status = client_payment_status(g->payment_status);
	out->amount_minor = g->amount_minor;
	out->amount_refunded_minor = g->amount_refunded_minor;
	out->created_at_unix_ms = g->created_at_unix_ms;
	out->expires_at_unix_ms = g->expires_at_unix_ms;
	out->paid_at_unix_ms = g->paid_at_unix_ms;
	out->mode = client_mode(g->mode);
	out->invoice_number = g->invoice_number;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_webhook_map(const Paywire__V1__IngestWebhookResponse *w, pw_webhook_result *out,
    pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, w, session_id), CLIENT_ID(out, w, event_id),
		CLIENT_ID(out, w, event_type), CLIENT_TEXT(out, w, reason),
		CLIENT_ID(out, w, access_key_id),
	};

	out->outcome = client_outcome(w->outcome);
	out->session_status = client_session_status(w->session_status);
	out->invoice_number = w->invoice_number;
	out->anomaly = w->anomaly != 0;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_access_map(const Paywire__V1__RedeemAccessResponse *a, pw_access *out, pw_error *err)
{
	/* The raw key is revealed once: only fields that would be wrong if cut
	 * may fail the call; plan and email are display text. */
	const client_field f[] = {
		CLIENT_ID(out, a, session_id), CLIENT_ID(out, a, merchant_id),
		CLIENT_ID(out, a, currency), CLIENT_ID(out, a, access_key_id),
		CLIENT_ID(out, a, access_key), CLIENT_TEXT(out, a, plan),
		CLIENT_TEXT(out, a, customer_email), CLIENT_TEXT(out, a, merchant_name),
	};

	out->status = client_session_status(a->status);
	out->amount_minor = a->amount_minor;
	out->paid_at_unix_ms = a->paid_at_unix_ms;
	out->invoice_number = a->invoice_number;
	out->already_revealed = a->already_revealed != 0;
	out->entitlement_active = a->entitlement_active != 0;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_reissue_map(const Paywire__V1__ReissueAccessKeyResponse *r, pw_access_reissue *out,
    pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, r, session_id), CLIENT_ID(out, r, access_link),
		CLIENT_ID(out, r, entitlement_id), { out->key_prefix, sizeof(out->key_prefix),
		    r->access_key_prefix, "access_key_prefix", true },
	};

	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_refund_map(const Paywire__V1__RefundPaymentResponse *rr, pw_refund *out, pw_error *err)
{
	const Paywire__V1__Refund *r = rr->refund;
	static const char *const states[] = { "", "requested", "pending", "failed" };

	if (r == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's refund_payment reply has no refund");
	}
	const client_field f[] = {
		CLIENT_ID(out, r, id), CLIENT_ID(out, r, session_id), CLIENT_ID(out, r, currency),
		CLIENT_ID(out, r, payment_ref), CLIENT_ID(out, r, provider_refund_id),
		CLIENT_ID(out, r, reason), CLIENT_TEXT(out, r, failure_reason),
		CLIENT_TEXT(out, r, idempotency_key),
		{ out->provider, sizeof(out->provider), client_provider_str(r->provider), "provider",
		    true },
		{ out->state, sizeof(out->state),
		    (unsigned) r->state < sizeof(states) / sizeof(states[0]) ? states[r->state] : "",
		    "state", true },
	};
	out->amount_minor = r->amount_minor;
	out->created_at_unix_ms = r->created_at_unix_ms;
	out->mode = client_mode(r->mode);
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_plan_price_map(const Paywire__V1__SetPlanPriceResponse *r, pw_plan_price *out,
    pw_error *err)
{
	const client_field f[] = {
		CLIENT_TEXT(out, r, plan), CLIENT_ID(out, r, stripe_price_id),
	};

	out->mode = client_mode(r->mode);
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_portal_map(const Paywire__V1__CreatePortalSessionResponse *r, pw_portal *out,
    pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, r, url), CLIENT_ID(out, r, customer), CLIENT_ID(out, r, session_id),
	};

	out->mode = client_mode(r->mode);
	if (r->url[0] == '\0') {
		return client_fail(err, PW_INTERNAL, "the server's create_portal_session reply has no url");
	}
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_test_payment_map(const Paywire__V1__TestPaymentResponse *r, pw_webhook_result *out,
    pw_error *err)
{
	if (r->outcome == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's test_payment reply has no outcome");
	}
	return client_webhook_map(r->outcome, out, err);
}

static void
client_access_wipe(ProtobufCMessage *result)
{
	client_wipe_str(((Paywire__V1__RedeemAccessResponse *) (void *) result)->access_key);
}

static pw_status
client_audit_map(const Paywire__V1__VerifyAuditResponse *v, pw_audit_report *out, pw_error *err)
{

	if (v->head_hash.len > CLIENT_AUDIT_HASH_BYTES_MAX) {
		return client_fail(err, PW_INTERNAL,
		    "the server's audit head hash is %zu bytes; at most %d expected", v->head_hash.len,
		    CLIENT_AUDIT_HASH_BYTES_MAX);
	}
	out->ok = v->ok != 0;
	out->records = v->records;
	out->last_seq = v->last_seq;
	out->first_bad_seq = v->first_bad_seq;
	if (v->head_hash.len > 0) {
		pw_hex(out->head_hash_hex, sizeof(out->head_hash_hex), v->head_hash.data,
		    v->head_hash.len);
	}
	client_copy_text(out->detail, sizeof(out->detail), v->detail);
	return PW_OK;
}

static pw_status
client_credit_txn_copy(const Paywire__V1__CreditTransaction *t, pw_credit_txn *out,
    pw_error *err)
{
	const client_field f[] = {
		{ out->customer, sizeof(out->customer), t->customer, "customer", true },
		{ out->session_id, sizeof(out->session_id), t->session_id, "session_id", true },
		{ out->idempotency_key, sizeof(out->idempotency_key), t->idempotency_key,
		    "idempotency_key", true },
		{ out->description, sizeof(out->description), t->description, "description", false },
	};

	out->seq = t->seq;
	out->kind = (pw_credit_kind) t->kind;
	out->delta = t->delta;
	out->balance_after = t->balance_after;
	out->shortfall = t->shortfall;
	out->created_at_unix_ms = t->created_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_deduct_map(const Paywire__V1__DeductCreditsResponse *d, pw_credit_txn *out, pw_error *err)
{
	if (d->transaction == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's deduct_credits reply has no entry");
	}
	return client_credit_txn_copy(d->transaction, out, err);
}

static pw_status
client_balance_map(const Paywire__V1__GetBalanceResponse *b, pw_credit_balance *out,
    pw_error *err)
{
	const client_field f[] = {
		{ out->customer, sizeof(out->customer), b->customer, "customer", true },
	};

	out->balance = b->balance;
	out->transactions = b->transactions;
	out->updated_at_unix_ms = b->updated_at_unix_ms;
	return client_fields_copy(f, 1, err);
}

static pw_status
client_credit_page_map(const Paywire__V1__ListCreditTransactionsResponse *l, pw_credit_page *out,
    pw_error *err)
{
	if (l->n_transactions > PW_CREDIT_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu entries; at most %d expected",
		    l->n_transactions, PW_CREDIT_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_transactions; i++) {
		pw_status st;

		if (l->transactions[i] == NULL) {
			return client_fail(err, PW_INTERNAL, "the server sent an empty entry");
		}
		st = client_credit_txn_copy(l->transactions[i], &out->txns[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_transactions;
	out->has_more = l->has_more != 0;
	return PW_OK;
}

/* v: not NULL (the callers check). */
static pw_status
client_package_copy(const Paywire__V1__CreditPackage *v, pw_credit_package *out, pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, v, code), CLIENT_TEXT(out, v, name), CLIENT_ID(out, v, currency),
	};

	out->credits = v->credits;
	out->amount_minor = v->amount_minor;
	out->state = (pw_credit_package_state) v->state;
	out->created_at_unix_ms = v->created_at_unix_ms;
	out->archived_at_unix_ms = v->archived_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_package_create_map(const Paywire__V1__CreditPackageCreateResponse *r,
    pw_credit_package *out, pw_error *err)
{
	pw_status st;

	if (r->package == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply has no credit package");
	}
	st = client_package_copy(r->package, out, err);
	out->created = r->created != 0;
	return st;
}

static pw_status
client_package_archive_map(const Paywire__V1__CreditPackageArchiveResponse *r,
    pw_credit_package *out, pw_error *err)
{
	if (r->package == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply has no credit package");
	}
	return client_package_copy(r->package, out, err);
}

static pw_status
client_package_page_map(const Paywire__V1__CreditPackageListResponse *l,
    pw_credit_package_page *out, pw_error *err)
{
	if (l->n_packages > PW_CREDIT_PACKAGE_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu packages; at most %d expected",
		    l->n_packages, PW_CREDIT_PACKAGE_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_packages; i++) {
		pw_status st;

		if (l->packages[i] == NULL) {
			return client_fail(err, PW_INTERNAL, "the server sent an empty package");
		}
		st = client_package_copy(l->packages[i], &out->packages[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_packages;
	out->has_more = l->has_more != 0;
	return PW_OK;
}

/* An entitlement state as its name ("" for UNSPECIFIED, "unknown" past the table). */
static const char *
client_ent_state_text(Paywire__V1__EntitlementState st)
{
	switch (st) {
	case PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_UNSPECIFIED: return "";
	case PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_ACTIVE: return "active";
	case PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_PAST_DUE: return "past_due";
	case PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_CANCELED: return "canceled";
	case PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED: return "revoked";
	case PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_LAPSED: return "lapsed";
	case _PAYWIRE__V1__ENTITLEMENT_STATE_IS_INT_SIZE: break;
	}
	return "unknown";
}

static pw_status
client_entitlement_copy(const Paywire__V1__Entitlement *v, pw_entitlement *out, pw_error *err)
{
	const client_field f[] = {
		{ out->id, sizeof(out->id), v->id, "id", true },
		{ out->plan, sizeof(out->plan), v->plan, "plan", true },
		{ out->key_prefix, sizeof(out->key_prefix), v->key_prefix, "key_prefix", true },
		{ out->customer, sizeof(out->customer), v->customer, "customer", true },
	};
	size_t n = v->n_session_ids < PW_ENTITLEMENT_SESSIONS_MAX ? v->n_session_ids
	                                                          : PW_ENTITLEMENT_SESSIONS_MAX;
	pw_status st;

	(void) snprintf(out->state, sizeof(out->state), "%s", client_ent_state_text(v->state));
	out->active = v->active != 0;
	out->subscription = v->subscription != 0;
	out->created_at_unix_ms = v->created_at_unix_ms;
	out->current_period_end_unix_ms = v->current_period_end_unix_ms;
	out->revoked_at_unix_ms = v->revoked_at_unix_ms;
	out->n_sessions = v->n_session_ids;
	for (size_t i = 0; i < n; i++) {
		const client_field sf = { out->session_ids[i], sizeof(out->session_ids[i]),
			v->session_ids[i], "session_ids", true };
		st = client_fields_copy(&sf, 1, err);
		if (st != PW_OK) {
			return st;
		}
	}
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_entitlement_page_map(const Paywire__V1__GetEntitlementsResponse *l,
    pw_entitlement_page *out, pw_error *err)
{
	if (l->n_entitlements > PW_ENTITLEMENT_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL,
		    "the server sent %zu entitlements; at most %d expected", l->n_entitlements,
		    PW_ENTITLEMENT_PAGE_MAX);
	}
	for (size_t i = 0; i < l->n_entitlements; i++) {
		pw_status st = client_entitlement_copy(l->entitlements[i], &out->entitlements[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_entitlements;
	out->has_more = l->has_more != 0;
	return PW_OK;
}

static pw_status
client_access_check_map(const Paywire__V1__VerifyAccessKeyResponse *v, pw_access_check *out,
    pw_error *err)
{
	const client_field f[] = {
		{ out->reason, sizeof(out->reason), v->reason, "reason", false },
		{ out->entitlement_id, sizeof(out->entitlement_id), v->entitlement_id, "entitlement_id",
		    true },
		{ out->session_id, sizeof(out->session_id), v->session_id, "session_id", true },
		{ out->customer, sizeof(out->customer), v->customer, "customer", true },
		{ out->plan, sizeof(out->plan), v->plan, "plan", true },
	};

	out->valid = v->valid != 0;
	(void) snprintf(out->state, sizeof(out->state), "%s", client_ent_state_text(v->state));
	out->granted_at_unix_ms = v->granted_at_unix_ms;
	out->revoked_at_unix_ms = v->revoked_at_unix_ms;
	out->until_unix_ms = v->until_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_creds_copy(const Paywire__V1__ProviderCredentialsInfo *v, pw_provider_credentials *out,
    pw_error *err)
{
	const client_field f[] = {
		{ out->provider, sizeof(out->provider), client_provider_text(v->provider), "provider",
		    true },
		{ out->key_id, sizeof(out->key_id), v->key_id, "key_id", true },
		{ out->secret_hint, sizeof(out->secret_hint), v->secret_hint, "secret_hint", true },
	};

	out->mode = client_mode(v->mode);
	out->created_at_unix_ms = v->created_at_unix_ms;
	out->updated_at_unix_ms = v->updated_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_creds_set_map(const Paywire__V1__SetProviderCredentialsResponse *r,
    pw_provider_credentials *out, pw_error *err)
{
	pw_status st;

	if (r->credentials == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply names no credentials");
	}
	st = client_creds_copy(r->credentials, out, err);
	out->deleted = r->deleted != 0;
	return st;
}

static pw_status
client_creds_list_map(const Paywire__V1__ListProviderCredentialsResponse *l,
    pw_provider_credentials_page *out, pw_error *err)
{
	if (l->n_credentials > PW_PROVIDER_CREDENTIALS_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu credentials; at most %d "
		    "expected", l->n_credentials, PW_PROVIDER_CREDENTIALS_MAX);
	}
	for (size_t i = 0; i < l->n_credentials; i++) {
		pw_status st = client_creds_copy(l->credentials[i], &out->items[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = l->n_credentials;
	return PW_OK;
}

/* ---- a merchant's own rate limits ---- */

static void
client_rl_copy(const Paywire__V1__MerchantRateLimit *v, pw_rate_limit *out)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL) {
		return;
	}
	out->kind = (int) v->kind >= 0 && (int) v->kind <= PW_RATE_LIMIT_UNLIMITED ?
	    (pw_rate_limit_kind) v->kind : PW_RATE_LIMIT_UNCHANGED;
	out->rate = v->rate;
	out->period_s = v->period_s;
	out->burst = v->burst;
	out->interval_us = v->interval_us;
}

static pw_status
client_rl_fill(const char *merchant_id, const Paywire__V1__MerchantRateLimits *l,
    const Paywire__V1__MerchantRateLimits *d, pw_merchant_rate_limits *out, pw_error *err)
{
	const client_field f[] = {
		{ out->merchant_id, sizeof(out->merchant_id), merchant_id, "merchant_id", true },
	};

	if (l == NULL || d == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply names no rate limits");
	}
	client_rl_copy(l->reads, &out->limits[PW_RATE_CLASS_READS]);
	client_rl_copy(l->writes, &out->limits[PW_RATE_CLASS_WRITES]);
	client_rl_copy(l->provider, &out->limits[PW_RATE_CLASS_PROVIDER]);
	client_rl_copy(d->reads, &out->server_defaults[PW_RATE_CLASS_READS]);
	client_rl_copy(d->writes, &out->server_defaults[PW_RATE_CLASS_WRITES]);
	client_rl_copy(d->provider, &out->server_defaults[PW_RATE_CLASS_PROVIDER]);
	return client_fields_copy(f, 1, err);
}

static pw_status
client_rl_set_map(const Paywire__V1__SetMerchantRateLimitsResponse *r,
    pw_merchant_rate_limits *out, pw_error *err)
{
	return client_rl_fill(r->merchant_id, r->limits, r->server_defaults, out, err);
}

static pw_status
client_rl_get_map(const Paywire__V1__GetMerchantRateLimitsResponse *r,
    pw_merchant_rate_limits *out, pw_error *err)
{
	return client_rl_fill(r->merchant_id, r->limits, r->server_defaults, out, err);
}

/* ---- the calls ---- */

/* What one typed call is, besides the arguments it packs: a row of
 * client_calls[], one per public call. */
typedef struct client_call_spec {
	const char *fn;                           /* the public function, for messages */
	Paywire__V1__Request__CallCase call;      /* the Request's oneof member (its field number) */
	Paywire__V1__Response__ResultCase result; /* the Response's member the reply must carry */
	pw_status (*map)(const ProtobufCMessage *result, void *out, pw_error *err); /* -> out */
	void (*wipe)(ProtobufCMessage *result);   /* wipes a raw key in the unpacked result; or NULL */
	size_t out_size;                          /* sizeof the caller's struct (wiped if map fails) */
	bool keyed;                               /* need[0] goes as api_key (client_run) */
} client_call_spec;

/* ---- notifications (issue 11) ---- */

static pw_status
client_endpoint_copy(const Paywire__V1__NotifyEndpoint *e, pw_endpoint *out, pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, e, endpoint_id), CLIENT_ID(out, e, url), CLIENT_TEXT(out, e, description),
		CLIENT_TEXT(out, e, disabled_reason),
	};

	if (e->n_event_types > PW_ENDPOINT_TYPES_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu event types", e->n_event_types);
	}
	for (size_t i = 0; i < e->n_event_types; i++) {
		if (!pw_strlcpy(out->event_types[i], e->event_types[i], sizeof(out->event_types[i]))) {
			return client_fail(err, PW_INTERNAL, "the server sent an event type too long");
		}
	}
	out->n_event_types = e->n_event_types;
	out->kind = (pw_notify_kind) e->kind;
	out->enabled = e->enabled != 0;
	out->disabled_at_unix_ms = e->disabled_at_unix_ms;
	out->failing_since_unix_ms = e->failing_since_unix_ms;
	out->created_at_unix_ms = e->created_at_unix_ms;
	out->prev_secret_expires_at_unix_ms = e->prev_secret_expires_at_unix_ms;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_endpoint_secret_map(const Paywire__V1__EndpointSecretResponse *r, pw_endpoint_secret *out,
    pw_error *err)
{
	const client_field f[] = { CLIENT_ID(out, r, secret) };

	if (r->endpoint == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply has no endpoint");
	}
	pw_status st = client_endpoint_copy(r->endpoint, &out->endpoint, err);
	return st != PW_OK ? st : client_fields_copy(f, 1, err);
}

static void
client_endpoint_secret_wipe(ProtobufCMessage *result)
{
	client_wipe_str(((Paywire__V1__EndpointSecretResponse *) (void *) result)->secret);
}

static pw_status
client_endpoint_map(const Paywire__V1__EndpointResponse *r, pw_endpoint *out, pw_error *err)
{
	if (r->endpoint == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply has no endpoint");
	}
	return client_endpoint_copy(r->endpoint, out, err);
}

static pw_status
client_endpoint_list_map(const Paywire__V1__ListEndpointsResponse *r, pw_endpoint_list *out,
    pw_error *err)
{
	if (r->n_endpoints > PW_ENDPOINTS_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu endpoints", r->n_endpoints);
	}
	for (size_t i = 0; i < r->n_endpoints; i++) {
		pw_status st = r->endpoints[i] == NULL ? client_fail(err, PW_INTERNAL, "empty endpoint")
		                                       : client_endpoint_copy(r->endpoints[i],
		                                             &out->endpoints[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = r->n_endpoints;
	return PW_OK;
}

static pw_status
client_notify_msg_copy(const Paywire__V1__NotifyMessage *m, pw_notify_message *out, pw_error *err)
{
	const client_field f[] = {
		CLIENT_ID(out, m, msg_id), CLIENT_ID(out, m, endpoint_id), CLIENT_ID(out, m, event_type),
		CLIENT_TEXT(out, m, last_error), CLIENT_ID(out, m, payload),
	};

	out->attempts = m->attempts;
	out->next_attempt_at_unix_ms = m->next_attempt_at_unix_ms;
	out->created_at_unix_ms = m->created_at_unix_ms;
	out->dead_at_unix_ms = m->dead_at_unix_ms;
	out->last_status = m->last_status;
	out->dead = m->dead != 0;
	return client_fields_copy(f, sizeof(f) / sizeof(f[0]), err);
}

static pw_status
client_notify_page_map(const Paywire__V1__ListNotifyMessagesResponse *r, pw_notify_page *out,
    pw_error *err)
{
	if (r->n_messages > PW_NOTIFY_PAGE_MAX) {
		return client_fail(err, PW_INTERNAL, "the server sent %zu messages", r->n_messages);
	}
	for (size_t i = 0; i < r->n_messages; i++) {
		pw_status st = r->messages[i] == NULL ? client_fail(err, PW_INTERNAL, "empty message")
		                                      : client_notify_msg_copy(r->messages[i],
		                                            &out->messages[i], err);
		if (st != PW_OK) {
			return st;
		}
	}
	out->n = r->n_messages;
	out->has_more = r->has_more != 0;
	return PW_OK;
}

static pw_status
client_notify_msg_map(const Paywire__V1__NotifyMessageResponse *r, pw_notify_message *out,
    pw_error *err)
{
	if (r->message == NULL) {
		return client_fail(err, PW_INTERNAL, "the server's reply has no message");
	}
	return client_notify_msg_copy(r->message, out, err);
}

static pw_status
client_notify_replay_map(const Paywire__V1__ReplayNotifyResponse *r, pw_notify_replay *out,
    pw_error *err)
{
	(void) err;
	out->enqueued = r->enqueued;
	out->examined = r->examined;
	out->has_more = r->has_more != 0;
	out->next_since_unix_ms = r->next_since_unix_ms;
	return PW_OK;
}

/* Every typed call, one row each: XX(NAME, fn, map, reply, out, wipe, keyed).
 * NAME is the oneof member in both paywire.v1.Request (CALL_NAME) and
 * Response (RESULT_NAME); fn the public function (for messages); map fills
 * the caller's `out` struct from the `reply` message; wipe (or NULL) clears a
 * raw key in the unpacked reply; keyed: the call's first required argument
 * is sent as api_key. */
#define CLIENT_CALL_MAP(XX)                                                                  \
	XX(CREATE_MERCHANT, "pw_merchant_create", client_merchant_map,                            \
	    Paywire__V1__CreateMerchantResponse, pw_merchant, client_merchant_wipe, true)         \
	XX(REVOKE_API_KEY, "pw_apikey_revoke", client_revoke_map,                                 \
	    Paywire__V1__RevokeApiKeyResponse, client_revoked, NULL, true)                        \
	XX(CREATE_SESSION, "pw_session_create", client_session_map,                               \
	    Paywire__V1__CreateSessionResponse, pw_session, NULL, true)                           \
	XX(GET_STATUS, "pw_status_get", client_status_map, Paywire__V1__GetStatusResponse,        \
	    pw_status_info, NULL, false)                                                          \
	XX(INGEST_WEBHOOK, "pw_webhook_ingest", client_webhook_map,                               \
	    Paywire__V1__IngestWebhookResponse, pw_webhook_result, NULL, false)                   \
	XX(REDEEM_ACCESS, "pw_access_redeem", client_access_map,                                  \
	    Paywire__V1__RedeemAccessResponse, pw_access, client_access_wipe, false)              \
	XX(VERIFY_AUDIT, "pw_audit_verify", client_audit_map, Paywire__V1__VerifyAuditResponse,   \
	    pw_audit_report, NULL, true)                                                          \
	XX(CANCEL_SESSION, "pw_session_cancel", client_cancel_map,                                \
	    Paywire__V1__CancelSessionResponse, pw_session, NULL, true)                           \
	XX(DEDUCT_CREDITS, "pw_credits_deduct", client_deduct_map,                                \
	    Paywire__V1__DeductCreditsResponse, pw_credit_txn, NULL, true)                        \
	XX(GET_BALANCE, "pw_credits_balance", client_balance_map,                                 \
	    Paywire__V1__GetBalanceResponse, pw_credit_balance, NULL, true)                       \
	XX(LIST_CREDIT_TRANSACTIONS, "pw_credits_list", client_credit_page_map,                   \
	    Paywire__V1__ListCreditTransactionsResponse, pw_credit_page, NULL, true)              \
	XX(CREATE_API_KEY, "pw_apikey_create", client_key_new_map,                                \
	    Paywire__V1__CreateApiKeyResponse, pw_api_key_new, client_key_new_wipe, true)         \
	XX(ROLL_API_KEY, "pw_apikey_roll", client_key_roll_map,                                   \
	    Paywire__V1__RollApiKeyResponse, pw_api_key_new, client_key_roll_wipe, true)          \
	XX(LIST_API_KEYS, "pw_apikey_list", client_key_list_map,                                  \
	    Paywire__V1__ListApiKeysResponse, pw_api_key_list, NULL, true)                        \
	XX(VERIFY_ACCESS_KEY, "pw_access_key_verify", client_access_check_map,                    \
	    Paywire__V1__VerifyAccessKeyResponse, pw_access_check, NULL, true)                    \
	XX(GET_SESSION, "pw_session_get", client_detail_map, Paywire__V1__GetSessionResponse,     \
	    pw_session_detail, NULL, true)                                                        \
	XX(LIST_SESSIONS, "pw_sessions_list", client_session_page_map,                            \
	    Paywire__V1__ListSessionsResponse, pw_session_page, NULL, true)                       \
	XX(GET_INVOICE, "pw_invoice_get", client_invoice_map, Paywire__V1__GetInvoiceResponse,    \
	    pw_invoice, NULL, true)                                                               \
	XX(LIST_INVOICES, "pw_invoices_list", client_invoice_page_map,                            \
	    Paywire__V1__ListInvoicesResponse, pw_invoice_page, NULL, true)                       \
	XX(LIST_EVENTS, "pw_events_list", client_event_page_map, Paywire__V1__ListEventsResponse, \
	    pw_event_page, NULL, true)                                                            \
	XX(REISSUE_ACCESS_KEY, "pw_access_key_reissue", client_reissue_map,                       \
	    Paywire__V1__ReissueAccessKeyResponse, pw_access_reissue, NULL, true)                 \
	XX(SET_PLAN_PRICE, "pw_plan_price_set", client_plan_price_map,                            \
	    Paywire__V1__SetPlanPriceResponse, pw_plan_price, NULL, true)                         \
	XX(CREATE_ENDPOINT, "pw_endpoint_create", client_endpoint_secret_map,                     \
	    Paywire__V1__EndpointSecretResponse, pw_endpoint_secret, client_endpoint_secret_wipe, \
	    true)                                                                                 \
	XX(ROTATE_ENDPOINT_SECRET, "pw_endpoint_rotate", client_endpoint_secret_map,              \
	    Paywire__V1__EndpointSecretResponse, pw_endpoint_secret, client_endpoint_secret_wipe, \
	    true)                                                                                 \
	XX(LIST_ENDPOINTS, "pw_endpoint_list_get", client_endpoint_list_map,                      \
	    Paywire__V1__ListEndpointsResponse, pw_endpoint_list, NULL, true)                     \
	XX(UPDATE_ENDPOINT, "pw_endpoint_update", client_endpoint_map,                            \
	    Paywire__V1__EndpointResponse, pw_endpoint, NULL, true)                               \
	XX(DELETE_ENDPOINT, "pw_endpoint_delete", client_endpoint_map,                            \
	    Paywire__V1__EndpointResponse, pw_endpoint, NULL, true)                               \
	XX(LIST_NOTIFY_MESSAGES, "pw_notify_list", client_notify_page_map,                        \
	    Paywire__V1__ListNotifyMessagesResponse, pw_notify_page, NULL, true)                  \
	XX(RETRY_NOTIFY_MESSAGE, "pw_notify_retry", client_notify_msg_map,                        \
	    Paywire__V1__NotifyMessageResponse, pw_notify_message, NULL, true)                    \
	XX(REPLAY_NOTIFY, "pw_notify_replay_since", client_notify_replay_map,                     \
	    Paywire__V1__ReplayNotifyResponse, pw_notify_replay, NULL, true)                      \
	XX(REFUND_PAYMENT, "pw_payment_refund", client_refund_map,                                \
	    Paywire__V1__RefundPaymentResponse, pw_refund, NULL, true)                            \
	XX(CREATE_PORTAL_SESSION, "pw_portal_create", client_portal_map,                          \
	    Paywire__V1__CreatePortalSessionResponse, pw_portal, NULL, true)                      \
	XX(TEST_PAYMENT, "pw_test_payment", client_test_payment_map,                              \
	    Paywire__V1__TestPaymentResponse, pw_webhook_result, NULL, false)                  \
	XX(GET_ENTITLEMENTS, "pw_entitlements_get", client_entitlement_page_map,                  \
	    Paywire__V1__GetEntitlementsResponse, pw_entitlement_page, NULL, true)                \
	XX(LIST_ANOMALIES, "pw_anomalies_list", client_anomaly_page_map,                          \
	    Paywire__V1__ListAnomaliesResponse, pw_anomaly_page, NULL, true)                      \
	XX(LIST_QUARANTINED_EVENTS, "pw_quarantine_list", client_quarantine_page_map,             \
	    Paywire__V1__ListQuarantinedEventsResponse, pw_quarantine_page, NULL, true)           \
	XX(GET_QUARANTINED_EVENT, "pw_quarantine_get", client_quarantine_detail_map,              \
	    Paywire__V1__GetQuarantinedEventResponse, pw_quarantined_detail, NULL, true)          \
	XX(RETRY_QUARANTINED_EVENT, "pw_quarantine_retry", client_quarantine_retry_map,           \
	    Paywire__V1__RetryQuarantinedEventResponse, pw_quarantine_retry_result, NULL, true)   \
	XX(SET_PROVIDER_CREDENTIALS, "pw_provider_credentials_set", client_creds_set_map,         \
	    Paywire__V1__SetProviderCredentialsResponse, pw_provider_credentials, NULL, true)     \
	XX(LIST_PROVIDER_CREDENTIALS, "pw_provider_credentials_list", client_creds_list_map,      \
	    Paywire__V1__ListProviderCredentialsResponse, pw_provider_credentials_page, NULL, true) \
	XX(CREATE_CREDIT_PACKAGE, "pw_credit_package_create", client_package_create_map,          \
	    Paywire__V1__CreditPackageCreateResponse, pw_credit_package, NULL, true)              \
	XX(ARCHIVE_CREDIT_PACKAGE, "pw_credit_package_archive", client_package_archive_map,       \
	    Paywire__V1__CreditPackageArchiveResponse, pw_credit_package, NULL, true)             \
	XX(LIST_CREDIT_PACKAGES, "pw_credit_packages_list", client_package_page_map,              \
	    Paywire__V1__CreditPackageListResponse, pw_credit_package_page, NULL, true)            \
	XX(SET_MERCHANT_RATE_LIMITS, "pw_merchant_rate_limits_set", client_rl_set_map,            \
	    Paywire__V1__SetMerchantRateLimitsResponse, pw_merchant_rate_limits, NULL, true)       \
	XX(GET_MERCHANT_RATE_LIMITS, "pw_merchant_rate_limits_get", client_rl_get_map,            \
	    Paywire__V1__GetMerchantRateLimitsResponse, pw_merchant_rate_limits, NULL, true)

/* Each map behind the one signature of client_call_spec.map: the reply is
 * the message the row names (client_typed_call checked the result case),
 * and a pointer to it converts to and from its first member, base. */
#define CLIENT_XX_ADAPT(NAME, fn, map_fn, reply, out_type, wipe, keyed)                        \
	static pw_status client_map_##NAME(const ProtobufCMessage *m, void *o, pw_error *err)        \
	{                                                                                           \
		return map_fn((const reply *) (const void *) m, (out_type *) o, err);                   \
	}
CLIENT_CALL_MAP(CLIENT_XX_ADAPT)
#undef CLIENT_XX_ADAPT

typedef enum client_call_id {
#define CLIENT_XX_ID(NAME, fn, map_fn, reply, out_type, wipe, keyed) CLIENT_CALL_##NAME,
	CLIENT_CALL_MAP(CLIENT_XX_ID)
#undef CLIENT_XX_ID
} client_call_id;

static const client_call_spec client_calls[] = {
#define CLIENT_XX_SPEC(NAME, fn_name, map_fn, reply, out_type, wipe_fn, is_keyed)               \
	[CLIENT_CALL_##NAME] = { .fn = fn_name, .call = PAYWIRE__V1__REQUEST__CALL_##NAME,          \
		.result = PAYWIRE__V1__RESPONSE__RESULT_##NAME, .map = client_map_##NAME,                \
		.wipe = wipe_fn, .out_size = sizeof(out_type), .keyed = is_keyed },
	CLIENT_CALL_MAP(CLIENT_XX_SPEC)
#undef CLIENT_XX_SPEC
};

/* Where oneof member number `field` of message m lives (a Request call or a
 * Response result, both message-typed), from protobuf-c's own descriptor:
 * the layout is the generated code's business, not ours. The slot holds a
 * struct pointer, and every struct pointer has the representation of a
 * ProtobufCMessage * (C11 6.2.5), so it is moved with memcpy as one. */
static void *
client_oneof_slot(ProtobufCMessage *m, unsigned field)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field(m->descriptor, field);

	PW_ASSERT(fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE);
	return (char *) m + fd->offset;
}

/* Sends `call` (the spec's request member, filled by the caller) with
 * api_key (NULL: none) and request_id (NULL: random), and maps the reply's
 * result into out. A raw key in the unpacked reply is wiped before it is
 * freed, and out is wiped when a call carrying one fails to map. */
static pw_status
client_typed_call(pw_client *c, const client_call_spec *spec, const char *api_key,
    const char *request_id, ProtobufCMessage *call, void *out, pw_error *err)
{
	Paywire__V1__Request rq = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__Response *rsp;
	ProtobufCMessage *result;
	pw_status st;

	if (api_key != NULL) {
		rq.api_key = client_str(api_key);
	}
	rq.call_case = spec->call;
	memcpy(client_oneof_slot(&rq.base, (unsigned) spec->call), &call, sizeof(call));
	st = client_call(c, &rq, request_id, spec->result, &rsp, err);
	if (st != PW_OK) {
		return st;
	}
	memcpy(&result, client_oneof_slot(&rsp->base, (unsigned) spec->result), sizeof(result));
	st = spec->map(result, out, err);
	if (spec->wipe != NULL) {
		spec->wipe(result);
		if (st != PW_OK) {
			sodium_memzero(out, spec->out_size);
		}
	}
	paywire__v1__response__free_unpacked(rsp, NULL);
	return st;
}

/* A whole typed call for the calls without extra checks: the entry checks
 * (client_begin with the spec's fn and out size), then client_typed_call
 * with need[0] as api_key for a keyed call. call is filled already (NULL
 * strings read as ""; client_begin refuses them before anything is sent). */
static pw_status
client_run(pw_client *c, client_call_id id, const client_arg *need, size_t n,
    ProtobufCMessage *call, void *out, pw_error *err)
{
	const client_call_spec *spec = &client_calls[id];
	pw_status st = client_begin(c, out, spec->out_size, spec->fn, need, n, err);

	if (st != PW_OK) {
		return st;
	}
	PW_ASSERT(!spec->keyed || n > 0);
	return client_typed_call(c, spec, spec->keyed ? need[0].value : NULL, NULL, call, out, err);
}

/* ---- merchants ---- */

pw_status
pw_merchant_create(pw_client *c, const char *admin_key, const char *name, pw_mode mode,
    pw_merchant *out, pw_error *err)
{
	Paywire__V1__CreateMerchantRequest cm = PAYWIRE__V1__CREATE_MERCHANT_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key }, { "name", name } };

	if ((int) mode < PW_MODE_UNSPECIFIED || (int) mode > PW_MODE_LIVE) {
		if (out != NULL) {
			memset(out, 0, sizeof(*out));
		}
		return client_fail(err, PW_INVALID_ARGUMENT, "pw_merchant_create: mode %d is not test or live",
		    (int) mode);
	}
	cm.name = client_str(name);
	cm.mode = (Paywire__V1__Mode) mode;
	return client_run(c, CLIENT_CALL_CREATE_MERCHANT, need, 2, &cm.base, out, err);
}

pw_status
pw_apikey_revoke(pw_client *c, const char *admin_key, const char *api_key,
    char merchant_id_out[64], pw_error *err)
{
	Paywire__V1__RevokeApiKeyRequest rk = PAYWIRE__V1__REVOKE_API_KEY_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key }, { "api_key", api_key } };
	client_revoked rev; /* merchant_id_out may be NULL: the call fills a local */
	pw_status st;

	if (merchant_id_out != NULL) {
		merchant_id_out[0] = '\0';
	}
	rk.api_key = client_str(api_key);
	st = client_run(c, CLIENT_CALL_REVOKE_API_KEY, need, 2, &rk.base, &rev, err);
	if (st == PW_OK && merchant_id_out != NULL) {
		memcpy(merchant_id_out, rev.merchant_id, sizeof(rev.merchant_id));
	}
	return st;
}

/* ---- sessions ---- */

typedef struct client_session_req {
	Paywire__V1__CreateSessionRequest cs;                                          /* the call */
	Paywire__V1__Fulfillment ff;                                                   /* what to grant */
	Paywire__V1__CreateSessionRequest__MetadataEntry md[PW_METADATA_ENTRIES_MAX];  /* entries */
	Paywire__V1__CreateSessionRequest__MetadataEntry *mdp[PW_METADATA_ENTRIES_MAX]; /* pointers to them */
} client_session_req;

static pw_status
client_session_req_fill(client_session_req *r, const pw_session_params *p, pw_error *err)
{
	static const Paywire__V1__CreateSessionRequest cs0 = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	static const Paywire__V1__Fulfillment ff0 = PAYWIRE__V1__FULFILLMENT__INIT;
	static const Paywire__V1__CreateSessionRequest__MetadataEntry md0 =
	    PAYWIRE__V1__CREATE_SESSION_REQUEST__METADATA_ENTRY__INIT;

	if (p->metadata_len > PW_METADATA_ENTRIES_MAX || (p->metadata_len > 0 && p->metadata == NULL)) {
		return client_fail(err, PW_INVALID_ARGUMENT,
		    "pw_session_create: metadata has %zu entries (at most %d, and not NULL)",
		    p->metadata_len, PW_METADATA_ENTRIES_MAX);
	}
	if ((int) p->mode < PW_MODE_UNSPECIFIED || (int) p->mode > PW_MODE_LIVE ||
	    (int) p->fulfillment < PW_FULFILL_NONE || (int) p->fulfillment > PW_FULFILL_CREDITS) {
		return client_fail(err, PW_INVALID_ARGUMENT,
		    "pw_session_create: mode %d or fulfillment %d out of range", (int) p->mode,
		    (int) p->fulfillment);
	}
	r->cs = cs0;
	r->ff = ff0;
	for (size_t i = 0; i < p->metadata_len; i++) {
		if (p->metadata[i].key == NULL || p->metadata[i].value == NULL) {
			return client_fail(err, PW_INVALID_ARGUMENT,
			    "pw_session_create: metadata entry %zu has a NULL key or value", i);
		}
		r->md[i] = md0;
		r->md[i].key = client_str(p->metadata[i].key);
		r->md[i].value = client_str(p->metadata[i].value);
		r->mdp[i] = &r->md[i];
	}
	r->cs.amount_minor = p->amount_minor;
	r->cs.currency = client_str(p->currency);
	r->cs.mode = (Paywire__V1__Mode) p->mode;
	r->cs.success_url = client_str(p->success_url);
	r->cs.cancel_url = client_str(p->cancel_url);
	r->cs.customer_email = client_str(p->customer_email);
	r->cs.customer_name = client_str(p->customer_name);
	r->cs.customer_ref = client_str(p->customer_ref);
	r->cs.idempotency_key = client_str(p->idempotency_key);
	r->cs.expires_at_unix_ms = p->expires_at_unix_ms;
	r->cs.provider = (Paywire__V1__Provider) p->provider;
	r->cs.credit_package = client_str(p->credit_package);
	r->cs.n_metadata = p->metadata_len;
	r->cs.metadata = p->metadata_len > 0 ? r->mdp : NULL;
	if (p->fulfillment != PW_FULFILL_NONE) {
		r->ff.kind = (Paywire__V1__FulfillmentKind) p->fulfillment;
		r->ff.plan = client_str(p->fulfillment == PW_FULFILL_ACCESS_KEY ? p->plan : NULL);
		r->ff.credits = p->fulfillment == PW_FULFILL_CREDITS ? p->credits : 0;
		r->ff.subscription = p->subscription;
		r->cs.fulfillment = &r->ff;
	}
	return PW_OK;
}

pw_status
pw_session_create(pw_client *c, const char *api_key, const pw_session_params *p,
    pw_session *out, pw_error *err)
{
	const client_call_spec *spec = &client_calls[CLIENT_CALL_CREATE_SESSION];
	const client_arg need[] = { { "api_key", api_key }, { "params", p != NULL ? "" : NULL },
		{ "currency", p == NULL || (p->credit_package != NULL && p->credit_package[0] != '\0')
		        ? "" /* a package's session may take the package's currency */
		        : p->currency } };
	client_session_req *r;
	pw_status st = client_begin(c, out, sizeof(*out), spec->fn, need, 3, err);

	if (st != PW_OK) {
		return st;
	}
	r = malloc(sizeof(*r)); /* ~5 KiB of metadata slots: not on a caller's stack */
	if (r == NULL) {
		return client_fail(err, PW_RESOURCE_EXHAUSTED, "%s: out of memory", spec->fn);
	}
	st = client_session_req_fill(r, p, err);
	if (st == PW_OK) {
		st = client_typed_call(c, spec, api_key, p->request_id, &r->cs.base, out, err);
	}
	free(r);
	return st;
}

pw_status
pw_status_get(pw_client *c, const char *session_id, pw_status_info *out, pw_error *err)
{
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	const client_arg need[] = { { "session_id", session_id } };

	gs.session_id = client_str(session_id);
	return client_run(c, CLIENT_CALL_GET_STATUS, need, 1, &gs.base, out, err);
}

pw_status
pw_checkout_status_get(pw_client *c, const char *session_id, const char *checkout_secret,
    pw_status_info *out, pw_error *err)
{
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	const client_arg need[] = { { "session_id", session_id },
		{ "checkout_secret", checkout_secret } };

	gs.session_id = client_str(session_id);
	gs.checkout_secret = client_str(checkout_secret);
	return client_run(c, CLIENT_CALL_GET_STATUS, need, 2, &gs.base, out, err);
}

pw_status
pw_test_payment(pw_client *c, const char *session_id, const char *checkout_secret, bool fail,
    pw_webhook_result *out, pw_error *err)
{
	Paywire__V1__TestPaymentRequest r = PAYWIRE__V1__TEST_PAYMENT_REQUEST__INIT;
	const client_arg need[] = { { "session_id", session_id },
		{ "checkout_secret", checkout_secret } };

	r.session_id = client_str(session_id);
	r.checkout_secret = client_str(checkout_secret);
	r.fail = fail;
	return client_run(c, CLIENT_CALL_TEST_PAYMENT, need, 2, &r.base, out, err);
}

pw_status
pw_session_cancel(pw_client *c, const char *api_key, const char *session_id, pw_session *out,
    pw_error *err)
{
	Paywire__V1__CancelSessionRequest cx = PAYWIRE__V1__CANCEL_SESSION_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "session_id", session_id } };

	cx.session_id = client_str(session_id);
	return client_run(c, CLIENT_CALL_CANCEL_SESSION, need, 2, &cx.base, out, err);
}

/* ---- a merchant's own sessions and invoices ---- */

pw_status
pw_session_get(pw_client *c, const char *api_key, const char *session_id, pw_session_detail *out,
    pw_error *err)
{
	Paywire__V1__GetSessionRequest r = PAYWIRE__V1__GET_SESSION_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "session_id", session_id } };

	r.session_id = client_str(session_id);
	return client_run(c, CLIENT_CALL_GET_SESSION, need, 2, &r.base, out, err);
}

pw_status
pw_sessions_list(pw_client *c, const char *api_key, const pw_session_filter *f,
    pw_session_page *out, pw_error *err)
{
	Paywire__V1__ListSessionsRequest r = PAYWIRE__V1__LIST_SESSIONS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "filter", f != NULL ? "" : NULL } };

	if (f != NULL) {
		r.status = (Paywire__V1__SessionStatus) f->status;
		r.created_from_unix_ms = f->created_from_unix_ms;
		r.created_to_unix_ms = f->created_to_unix_ms;
		r.limit = f->limit;
		r.starting_after = client_str(f->starting_after);
	}
	return client_run(c, CLIENT_CALL_LIST_SESSIONS, need, 2, &r.base, out, err);
}

pw_status
pw_invoice_get(pw_client *c, const char *api_key, uint64_t number, pw_invoice *out,
    pw_error *err)
{
	Paywire__V1__GetInvoiceRequest r = PAYWIRE__V1__GET_INVOICE_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.number = number;
	return client_run(c, CLIENT_CALL_GET_INVOICE, need, 1, &r.base, out, err);
}

pw_status
pw_invoices_list(pw_client *c, const char *api_key, uint64_t starting_after, unsigned limit,
    pw_invoice_page *out, pw_error *err)
{
	Paywire__V1__ListInvoicesRequest r = PAYWIRE__V1__LIST_INVOICES_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.starting_after = starting_after;
	r.limit = limit;
	return client_run(c, CLIENT_CALL_LIST_INVOICES, need, 1, &r.base, out, err);
}

/* ---- the change feed ---- */

pw_status
pw_events_list(pw_client *c, const char *api_key, uint64_t after_seq, unsigned limit,
    pw_event_page *out, pw_error *err)
{
	Paywire__V1__ListEventsRequest r = PAYWIRE__V1__LIST_EVENTS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.after_seq = after_seq;
	r.limit = limit;
	return client_run(c, CLIENT_CALL_LIST_EVENTS, need, 1, &r.base, out, err);
}

/* ---- anomalies ---- */

pw_status
pw_anomalies_list(pw_client *c, const char *api_key, uint64_t after_seq, unsigned limit,
    pw_anomaly_page *out, pw_error *err)
{
	Paywire__V1__ListAnomaliesRequest r = PAYWIRE__V1__LIST_ANOMALIES_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.after_seq = after_seq;
	r.limit = limit;
	return client_run(c, CLIENT_CALL_LIST_ANOMALIES, need, 1, &r.base, out, err);
}

/* ---- the quarantine (admin) ---- */

pw_status
pw_quarantine_list(pw_client *c, const char *admin_key, uint64_t after_id, unsigned limit,
    pw_quarantine_page *out, pw_error *err)
{
	Paywire__V1__ListQuarantinedEventsRequest r = PAYWIRE__V1__LIST_QUARANTINED_EVENTS_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key } };

	r.after_id = after_id;
	r.limit = limit;
	return client_run(c, CLIENT_CALL_LIST_QUARANTINED_EVENTS, need, 1, &r.base, out, err);
}

pw_status
pw_quarantine_get(pw_client *c, const char *admin_key, uint64_t id, pw_quarantined_detail *out,
    pw_error *err)
{
	Paywire__V1__GetQuarantinedEventRequest r = PAYWIRE__V1__GET_QUARANTINED_EVENT_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key } };

	r.id = id;
	return client_run(c, CLIENT_CALL_GET_QUARANTINED_EVENT, need, 1, &r.base, out, err);
}

pw_status
pw_quarantine_retry(pw_client *c, const char *admin_key, uint64_t id, pw_quarantine_retry_result *out,
    pw_error *err)
{
	Paywire__V1__RetryQuarantinedEventRequest r = PAYWIRE__V1__RETRY_QUARANTINED_EVENT_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key } };

	r.id = id;
	return client_run(c, CLIENT_CALL_RETRY_QUARANTINED_EVENT, need, 1, &r.base, out, err);
}

/* ---- a merchant's provider credentials (admin) ---- */

static pw_status
client_creds_send(pw_client *c, const char *fn, const char *admin_key, const char *merchant_id,
    pw_webhook_provider provider, pw_mode mode, const char *key_id, const char *secret,
    pw_provider_credentials *out, pw_error *err)
{
	Paywire__V1__SetProviderCredentialsRequest r =
	    PAYWIRE__V1__SET_PROVIDER_CREDENTIALS_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key }, { "merchant_id", merchant_id },
		{ "secret", secret } };
	const client_call_spec *spec = &client_calls[CLIENT_CALL_SET_PROVIDER_CREDENTIALS];
	pw_status st = client_begin(c, out, sizeof(*out), fn, need, 3, err);

	if (st != PW_OK) {
		return st;
	}
	if ((int) mode < PW_MODE_UNSPECIFIED || (int) mode > PW_MODE_LIVE) {
		return client_fail(err, PW_INVALID_ARGUMENT, "%s: mode %d out of range", fn, (int) mode);
	}
	r.merchant_id = client_str(merchant_id);
	r.provider = (Paywire__V1__Provider) provider;
	r.mode = (Paywire__V1__Mode) mode;
	r.key_id = client_str(key_id);
	r.secret = client_str(secret);
	return client_typed_call(c, spec, admin_key, NULL, &r.base, out, err);
}

pw_status
pw_provider_credentials_set(pw_client *c, const char *admin_key, const char *merchant_id,
    pw_webhook_provider provider, pw_mode mode, const char *key_id, const char *secret,
    pw_provider_credentials *out, pw_error *err)
{
	if (secret != NULL && secret[0] == '\0') {
		client_ok(err);
		if (out != NULL) {
			memset(out, 0, sizeof(*out));
		}
		return client_fail(err, PW_INVALID_ARGUMENT, "pw_provider_credentials_set: secret is "
		    "empty (pw_provider_credentials_delete deletes)");
	}
	return client_creds_send(c, "pw_provider_credentials_set", admin_key, merchant_id, provider,
	    mode, key_id, secret, out, err);
}

pw_status
pw_provider_credentials_delete(pw_client *c, const char *admin_key, const char *merchant_id,
    pw_webhook_provider provider, pw_mode mode, pw_provider_credentials *out, pw_error *err)
{
	return client_creds_send(c, "pw_provider_credentials_delete", admin_key, merchant_id,
	    provider, mode, "", "", out, err);
}

pw_status
pw_provider_credentials_list(pw_client *c, const char *admin_key, const char *merchant_id,
    pw_provider_credentials_page *out, pw_error *err)
{
	Paywire__V1__ListProviderCredentialsRequest r =
	    PAYWIRE__V1__LIST_PROVIDER_CREDENTIALS_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key }, { "merchant_id", merchant_id } };

	r.merchant_id = client_str(merchant_id);
	return client_run(c, CLIENT_CALL_LIST_PROVIDER_CREDENTIALS, need, 2, &r.base, out, err);
}

/* ---- a merchant's own rate limits ---- */

pw_status
pw_merchant_rate_limits_set(pw_client *c, const char *admin_key, const char *merchant_id,
    const pw_rate_limit *set, pw_merchant_rate_limits *out, pw_error *err)
{
	Paywire__V1__SetMerchantRateLimitsRequest r = PAYWIRE__V1__SET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	Paywire__V1__MerchantRateLimits ls = PAYWIRE__V1__MERCHANT_RATE_LIMITS__INIT;
	Paywire__V1__MerchantRateLimit w[PW_RATE_CLASSES];
	Paywire__V1__MerchantRateLimit **slot[PW_RATE_CLASSES] = { &ls.reads, &ls.writes,
		&ls.provider };
	const client_arg need[] = { { "admin_key", admin_key }, { "merchant_id", merchant_id },
		{ "set", set != NULL ? "" : NULL } };

	for (int i = 0; set != NULL && i < PW_RATE_CLASSES; i++) {
		paywire__v1__merchant_rate_limit__init(&w[i]);
		if (set[i].kind == PW_RATE_LIMIT_UNCHANGED) {
			continue;
		}
		w[i].kind = (Paywire__V1__MerchantRateLimitKind) set[i].kind;
		w[i].rate = set[i].rate;
		w[i].period_s = set[i].period_s;
		w[i].burst = set[i].burst;
		w[i].interval_us = set[i].interval_us;
		*slot[i] = &w[i];
	}
	r.merchant_id = client_str(merchant_id);
	r.limits = &ls;
	return client_run(c, CLIENT_CALL_SET_MERCHANT_RATE_LIMITS, need, 3, &r.base, out, err);
}

pw_status
pw_merchant_rate_limits_get(pw_client *c, const char *admin_key, const char *merchant_id,
    pw_merchant_rate_limits *out, pw_error *err)
{
	Paywire__V1__GetMerchantRateLimitsRequest r = PAYWIRE__V1__GET_MERCHANT_RATE_LIMITS_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key }, { "merchant_id", merchant_id } };

	r.merchant_id = client_str(merchant_id);
	return client_run(c, CLIENT_CALL_GET_MERCHANT_RATE_LIMITS, need, 2, &r.base, out, err);
}

/* ---- a customer's access key, checked by the merchant ---- */

pw_status
pw_access_key_verify(pw_client *c, const char *api_key, const char *access_key,
    pw_access_check *out, pw_error *err)
{
	Paywire__V1__VerifyAccessKeyRequest r = PAYWIRE__V1__VERIFY_ACCESS_KEY_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "access_key", access_key } };

	r.access_key = client_str(access_key);
	return client_run(c, CLIENT_CALL_VERIFY_ACCESS_KEY, need, 2, &r.base, out, err);
}

/* ---- a customer's entitlements ---- */

pw_status
pw_entitlements_get(pw_client *c, const char *api_key, const char *customer_ref,
    const char *starting_after, unsigned limit, pw_entitlement_page *out, pw_error *err)
{
	Paywire__V1__GetEntitlementsRequest r = PAYWIRE__V1__GET_ENTITLEMENTS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "customer_ref", customer_ref } };

	r.customer_ref = client_str(customer_ref);
	r.starting_after = client_str(starting_after);
	r.limit = limit;
	return client_run(c, CLIENT_CALL_GET_ENTITLEMENTS, need, 2, &r.base, out, err);
}

/* ---- a merchant's own API keys ---- */

pw_status
pw_apikey_create(pw_client *c, const char *api_key, pw_mode mode, pw_api_key_new *out,
    pw_error *err)
{
	Paywire__V1__CreateApiKeyRequest r = PAYWIRE__V1__CREATE_API_KEY_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.mode = (Paywire__V1__Mode) mode;
	return client_run(c, CLIENT_CALL_CREATE_API_KEY, need, 1, &r.base, out, err);
}

pw_status
pw_apikey_roll(pw_client *c, const char *api_key, const char *key_id, unsigned grace_s,
    bool expire_now, pw_api_key_new *out, pw_error *err)
{
	Paywire__V1__RollApiKeyRequest r = PAYWIRE__V1__ROLL_API_KEY_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.key_id = client_str(key_id);
	r.grace_s = grace_s;
	r.expire_now = expire_now;
	return client_run(c, CLIENT_CALL_ROLL_API_KEY, need, 1, &r.base, out, err);
}

pw_status
pw_apikey_list(pw_client *c, const char *api_key, pw_api_key_list *out, pw_error *err)
{
	Paywire__V1__ListApiKeysRequest r = PAYWIRE__V1__LIST_API_KEYS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	return client_run(c, CLIENT_CALL_LIST_API_KEYS, need, 1, &r.base, out, err);
}

/* ---- credits ---- */

pw_status
pw_credits_deduct(pw_client *c, const char *api_key, const char *customer, int64_t credits,
    const char *idempotency_key, const char *description, pw_credit_txn *out, pw_error *err)
{
	Paywire__V1__DeductCreditsRequest d = PAYWIRE__V1__DEDUCT_CREDITS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "customer", customer },
		{ "idempotency_key", idempotency_key } };

	d.customer = client_str(customer);
	d.credits = credits;
	d.idempotency_key = client_str(idempotency_key);
	d.description = client_str(description);
	return client_run(c, CLIENT_CALL_DEDUCT_CREDITS, need, 3, &d.base, out, err);
}

pw_status
pw_credits_balance(pw_client *c, const char *api_key, const char *customer,
    pw_credit_balance *out, pw_error *err)
{
	Paywire__V1__GetBalanceRequest b = PAYWIRE__V1__GET_BALANCE_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "customer", customer } };

	b.customer = client_str(customer);
	return client_run(c, CLIENT_CALL_GET_BALANCE, need, 2, &b.base, out, err);
}

pw_status
pw_credits_list(pw_client *c, const char *api_key, const char *customer, uint64_t starting_after,
    unsigned limit, pw_credit_page *out, pw_error *err)
{
	Paywire__V1__ListCreditTransactionsRequest l =
	    PAYWIRE__V1__LIST_CREDIT_TRANSACTIONS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "customer", customer } };

	l.customer = client_str(customer);
	l.starting_after = starting_after;
	l.limit = limit;
	return client_run(c, CLIENT_CALL_LIST_CREDIT_TRANSACTIONS, need, 2, &l.base, out, err);
}

/* ---- credit packages ---- */

pw_status
pw_credit_package_create(pw_client *c, const char *api_key, const char *code, const char *name,
    int64_t credits, int64_t amount_minor, const char *currency, pw_credit_package *out,
    pw_error *err)
{
	Paywire__V1__CreditPackageCreateRequest r = PAYWIRE__V1__CREDIT_PACKAGE_CREATE_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "code", code },
		{ "currency", currency } };

	r.code = client_str(code);
	r.name = client_str(name);
	r.credits = credits;
	r.amount_minor = amount_minor;
	r.currency = client_str(currency);
	return client_run(c, CLIENT_CALL_CREATE_CREDIT_PACKAGE, need, 3, &r.base, out, err);
}

pw_status
pw_credit_package_archive(pw_client *c, const char *api_key, const char *code,
    pw_credit_package *out, pw_error *err)
{
	Paywire__V1__CreditPackageArchiveRequest r = PAYWIRE__V1__CREDIT_PACKAGE_ARCHIVE_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "code", code } };

	r.code = client_str(code);
	return client_run(c, CLIENT_CALL_ARCHIVE_CREDIT_PACKAGE, need, 2, &r.base, out, err);
}

pw_status
pw_credit_packages_list(pw_client *c, const char *api_key, const char *starting_after,
    unsigned limit, bool include_archived, pw_credit_package_page *out, pw_error *err)
{
	Paywire__V1__CreditPackageListRequest r = PAYWIRE__V1__CREDIT_PACKAGE_LIST_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.starting_after = client_str(starting_after);
	r.limit = limit;
	r.include_archived = include_archived;
	return client_run(c, CLIENT_CALL_LIST_CREDIT_PACKAGES, need, 1, &r.base, out, err);
}

/* ---- webhooks ---- */

typedef struct client_webhook_req {
	Paywire__V1__IngestWebhookRequest iw;                                           /* the call */
	Paywire__V1__IngestWebhookRequest__HeadersEntry hd[PW_WEBHOOK_HEADERS_MAX];     /* entries */
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hdp[PW_WEBHOOK_HEADERS_MAX];   /* pointers */
	char names[PW_WEBHOOK_HEADERS_MAX][PW_HEADER_NAME_BYTES_MAX + 1];               /* lower-cased names */
} client_webhook_req;

static pw_status
client_webhook_req_fill(client_webhook_req *r, pw_webhook_provider provider,
    const pw_kv *headers, size_t headers_len, const void *body, size_t body_len, pw_error *err)
{
	static const Paywire__V1__IngestWebhookRequest iw0 = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	static const Paywire__V1__IngestWebhookRequest__HeadersEntry hd0 =
	    PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__HEADERS_ENTRY__INIT;

	r->iw = iw0;
	for (size_t i = 0; i < headers_len; i++) {
		const char *name = headers[i].key;
		const char *value = headers[i].value;
		size_t nlen;
		if (name == NULL || value == NULL) {
			return client_fail(err, PW_INVALID_ARGUMENT,
			    "pw_webhook_ingest: header %zu has a NULL name or value", i);
		}
		nlen = strlen(name);
		if (nlen > PW_HEADER_NAME_BYTES_MAX || strlen(value) > PW_HEADER_VALUE_BYTES_MAX) {
			return client_fail(err, PW_PAYLOAD_TOO_LARGE,
			    "pw_webhook_ingest: header %zu is longer than %d (name) / %d (value) bytes", i,
			    PW_HEADER_NAME_BYTES_MAX, PW_HEADER_VALUE_BYTES_MAX);
		}
		/* HTTP header names are case-insensitive; the wire carries lower case. */
		for (size_t k = 0; k <= nlen; k++) {
			char ch = name[k];
			r->names[i][k] = ch >= 'A' && ch <= 'Z' ? (char) (ch - 'A' + 'a') : ch;
		}
		r->hd[i] = hd0;
		r->hd[i].key = r->names[i];
		r->hd[i].value = client_str(value);
		r->hdp[i] = &r->hd[i];
	}
	r->iw.provider = (Paywire__V1__Provider) provider;
	r->iw.n_headers = headers_len;
	r->iw.headers = headers_len > 0 ? r->hdp : NULL;
	r->iw.body.len = body_len;
	r->iw.body.data = (uint8_t *) (body_len > 0 ? body : NULL);
	return PW_OK;
}

static pw_status
client_webhook_check(pw_webhook_provider provider, const pw_kv *headers, size_t headers_len,
    const void *body, size_t body_len, pw_error *err)
{
	if (!pw_provider_known((pw_provider) provider)) {
		return client_fail(err, PW_INVALID_ARGUMENT, "pw_webhook_ingest: unknown provider %d",
		    (int) provider);
	}
	if ((headers_len > 0 && headers == NULL) || (body_len > 0 && body == NULL)) {
		return client_fail(err, PW_INVALID_ARGUMENT,
		    "pw_webhook_ingest: headers or body is NULL with a non-zero length");
	}
	if (headers_len > PW_WEBHOOK_HEADERS_MAX) {
		return client_fail(err, PW_PAYLOAD_TOO_LARGE,
		    "pw_webhook_ingest: %zu headers; at most %d are forwarded", headers_len,
		    PW_WEBHOOK_HEADERS_MAX);
	}
	if (body_len > PW_WEBHOOK_BODY_BYTES_MAX) {
		return client_fail(err, PW_PAYLOAD_TOO_LARGE,
		    "pw_webhook_ingest: the body is %zu bytes; at most %u", body_len,
		    PW_WEBHOOK_BODY_BYTES_MAX);
	}
	return PW_OK;
}

pw_status
pw_webhook_ingest(pw_client *c, pw_webhook_provider provider, const pw_kv *headers,
    size_t headers_len, const void *body, size_t body_len, pw_webhook_result *out,
    pw_error *err)
{
	const client_call_spec *spec = &client_calls[CLIENT_CALL_INGEST_WEBHOOK];
	client_webhook_req *r;
	pw_status st = client_begin(c, out, sizeof(*out), spec->fn, NULL, 0, err);

	if (st == PW_OK) {
		st = client_webhook_check(provider, headers, headers_len, body, body_len, err);
	}
	if (st != PW_OK) {
		return st;
	}
	r = malloc(sizeof(*r)); /* ~11 KiB of header slots: not on a caller's stack */
	if (r == NULL) {
		return client_fail(err, PW_RESOURCE_EXHAUSTED, "%s: out of memory", spec->fn);
	}
	st = client_webhook_req_fill(r, provider, headers, headers_len, body, body_len, err);
	if (st == PW_OK) {
		st = client_typed_call(c, spec, NULL, NULL, &r->iw.base, out, err);
	}
	free(r);
	return st;
}

/* ---- customer access ---- */

pw_status
pw_access_redeem(pw_client *c, const char *session_id, const char *token, pw_access *out,
    pw_error *err)
{
	Paywire__V1__RedeemAccessRequest ra = PAYWIRE__V1__REDEEM_ACCESS_REQUEST__INIT;
	const client_arg need[] = { { "session_id", session_id }, { "token", token } };

	ra.session_id = client_str(session_id);
	ra.token = client_str(token);
	return client_run(c, CLIENT_CALL_REDEEM_ACCESS, need, 2, &ra.base, out, err);
}

pw_status
pw_access_view(pw_client *c, const char *session_id, const char *token, pw_access *out,
    pw_error *err)
{
	Paywire__V1__RedeemAccessRequest ra = PAYWIRE__V1__REDEEM_ACCESS_REQUEST__INIT;
	const client_arg need[] = { { "session_id", session_id }, { "token", token } };

	ra.session_id = client_str(session_id);
	ra.token = client_str(token);
	ra.view_only = true;
	return client_run(c, CLIENT_CALL_REDEEM_ACCESS, need, 2, &ra.base, out, err);
}

pw_status
pw_access_key_reissue(pw_client *c, const char *api_key, const char *session_id,
    pw_access_reissue *out, pw_error *err)
{
	Paywire__V1__ReissueAccessKeyRequest r = PAYWIRE__V1__REISSUE_ACCESS_KEY_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "session_id", session_id } };

	r.session_id = client_str(session_id);
	return client_run(c, CLIENT_CALL_REISSUE_ACCESS_KEY, need, 2, &r.base, out, err);
}

pw_status
pw_plan_price_set(pw_client *c, const char *api_key, const char *plan, pw_mode mode,
    const char *stripe_price_id, pw_plan_price *out, pw_error *err)
{
	Paywire__V1__SetPlanPriceRequest r = PAYWIRE__V1__SET_PLAN_PRICE_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "plan", plan } };

	r.plan = client_str(plan);
	r.mode = (Paywire__V1__Mode) mode;
	r.stripe_price_id = client_str(stripe_price_id);
	return client_run(c, CLIENT_CALL_SET_PLAN_PRICE, need, 2, &r.base, out, err);
}

/* ---- notifications (issue 11) ---- */

pw_status
pw_endpoint_create(pw_client *c, const char *api_key, const pw_endpoint_params *p,
    pw_endpoint_secret *out, pw_error *err)
{
	Paywire__V1__CreateEndpointRequest r = PAYWIRE__V1__CREATE_ENDPOINT_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key },
		{ "url", p != NULL ? p->url : NULL } };

	if (p != NULL) {
		r.kind = (Paywire__V1__NotifyEndpointKind) p->kind;
		r.url = client_str(p->url);
		r.event_types = (char **) p->event_types;
		r.n_event_types = p->n_event_types;
		r.description = client_str(p->description);
	}
	return client_run(c, CLIENT_CALL_CREATE_ENDPOINT, need, 2, &r.base, out, err);
}

pw_status
pw_endpoint_list_get(pw_client *c, const char *api_key, pw_endpoint_list *out, pw_error *err)
{
	Paywire__V1__ListEndpointsRequest r = PAYWIRE__V1__LIST_ENDPOINTS_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	return client_run(c, CLIENT_CALL_LIST_ENDPOINTS, need, 1, &r.base, out, err);
}

pw_status
pw_endpoint_update(pw_client *c, const char *api_key, const pw_endpoint_changes *p,
    pw_endpoint *out, pw_error *err)
{
	Paywire__V1__UpdateEndpointRequest r = PAYWIRE__V1__UPDATE_ENDPOINT_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key },
		{ "endpoint_id", p != NULL ? p->endpoint_id : NULL } };

	if (p != NULL) {
		r.endpoint_id = client_str(p->endpoint_id);
		r.enable = p->enable;
		r.set_event_types = p->set_event_types;
		r.event_types = (char **) p->event_types;
		r.n_event_types = p->n_event_types;
		r.set_description = p->set_description;
		r.description = client_str(p->description);
	}
	return client_run(c, CLIENT_CALL_UPDATE_ENDPOINT, need, 2, &r.base, out, err);
}

pw_status
pw_endpoint_delete(pw_client *c, const char *api_key, const char *endpoint_id, pw_endpoint *out,
    pw_error *err)
{
	Paywire__V1__DeleteEndpointRequest r = PAYWIRE__V1__DELETE_ENDPOINT_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "endpoint_id", endpoint_id } };

	r.endpoint_id = client_str(endpoint_id);
	return client_run(c, CLIENT_CALL_DELETE_ENDPOINT, need, 2, &r.base, out, err);
}

pw_status
pw_endpoint_rotate(pw_client *c, const char *api_key, const char *endpoint_id, int64_t grace_ms,
    pw_endpoint_secret *out, pw_error *err)
{
	Paywire__V1__RotateEndpointSecretRequest r = PAYWIRE__V1__ROTATE_ENDPOINT_SECRET_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "endpoint_id", endpoint_id } };

	r.endpoint_id = client_str(endpoint_id);
	r.grace_ms = grace_ms;
	return client_run(c, CLIENT_CALL_ROTATE_ENDPOINT_SECRET, need, 2, &r.base, out, err);
}

pw_status
pw_notify_list(pw_client *c, const char *api_key, bool dead, const char *endpoint_id,
    unsigned limit, pw_notify_page *out, pw_error *err)
{
	Paywire__V1__ListNotifyMessagesRequest r = PAYWIRE__V1__LIST_NOTIFY_MESSAGES_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.dead = dead;
	r.endpoint_id = client_str(endpoint_id);
	r.limit = limit;
	return client_run(c, CLIENT_CALL_LIST_NOTIFY_MESSAGES, need, 1, &r.base, out, err);
}

pw_status
pw_notify_retry(pw_client *c, const char *api_key, const char *msg_id, pw_notify_message *out,
    pw_error *err)
{
	Paywire__V1__RetryNotifyMessageRequest r = PAYWIRE__V1__RETRY_NOTIFY_MESSAGE_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "msg_id", msg_id } };

	r.msg_id = client_str(msg_id);
	return client_run(c, CLIENT_CALL_RETRY_NOTIFY_MESSAGE, need, 2, &r.base, out, err);
}

pw_status
pw_notify_replay_since(pw_client *c, const char *api_key, int64_t since_unix_ms,
    const char *endpoint_id, pw_notify_replay *out, pw_error *err)
{
	Paywire__V1__ReplayNotifyRequest r = PAYWIRE__V1__REPLAY_NOTIFY_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key } };

	r.since_unix_ms = since_unix_ms;
	r.endpoint_id = client_str(endpoint_id);
	return client_run(c, CLIENT_CALL_REPLAY_NOTIFY, need, 1, &r.base, out, err);
}

pw_status
pw_portal_create(pw_client *c, const char *api_key, const char *session_id,
    const char *return_url, pw_portal *out, pw_error *err)
{
	Paywire__V1__CreatePortalSessionRequest r = PAYWIRE__V1__CREATE_PORTAL_SESSION_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "session_id", session_id },
		{ "return_url", return_url } };

	r.session_id = client_str(session_id);
	r.return_url = client_str(return_url);
	return client_run(c, CLIENT_CALL_CREATE_PORTAL_SESSION, need, 3, &r.base, out, err);
}

pw_status
pw_payment_refund(pw_client *c, const char *api_key, const pw_refund_params *p, pw_refund *out,
    pw_error *err)
{
	Paywire__V1__RefundPaymentRequest r = PAYWIRE__V1__REFUND_PAYMENT_REQUEST__INIT;
	const client_arg need[] = { { "api_key", api_key }, { "session_id", p->session_id },
		{ "idempotency_key", p->idempotency_key } };

	PW_ASSERT(p != NULL);
	r.session_id = client_str(p->session_id);
	r.amount_minor = p->amount_minor;
	r.idempotency_key = client_str(p->idempotency_key);
	r.reason = client_str(p->reason);
	const client_call_spec *spec = &client_calls[CLIENT_CALL_REFUND_PAYMENT];
	pw_status st = client_begin(c, out, spec->out_size, spec->fn, need, 3, err);

	if (st != PW_OK) {
		return st;
	}
	return client_typed_call(c, spec, api_key, p->request_id, &r.base, out, err);
}

/* ---- audit ---- */

pw_status
pw_audit_verify(pw_client *c, const char *admin_key, pw_audit_report *out, pw_error *err)
{
	Paywire__V1__VerifyAuditRequest va = PAYWIRE__V1__VERIFY_AUDIT_REQUEST__INIT;
	const client_arg need[] = { { "admin_key", admin_key } };

	return client_run(c, CLIENT_CALL_VERIFY_AUDIT, need, 1, &va.base, out, err);
}

/* ---- raw ---- */

pw_status
pw_client_call_raw(pw_client *c, const void *req, size_t req_len, void **reply,
    size_t *reply_len, pw_error *err)
{
	nng_msg *msg;
	pw_status st;
	void *copy;
	size_t len;

	client_ok(err);
	if (reply != NULL) {
		*reply = NULL;
	}
	if (reply_len != NULL) {
		*reply_len = 0;
	}
	if (c == NULL || reply == NULL || reply_len == NULL || (req == NULL && req_len > 0)) {
		return client_fail(err, PW_INVALID_ARGUMENT,
		    "pw_client_call_raw: client, reply or reply_len is NULL, or req is NULL");
	}
	st = client_exchange(c, req, req_len, &msg, err);
	if (st != PW_OK) {
		return st;
	}
	len = nng_msg_len(msg);
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL) {
		client_msg_free(msg);
		return client_fail(err, PW_RESOURCE_EXHAUSTED, "out of memory for a %zu-byte reply", len);
	}
	if (len > 0) {
		memcpy(copy, nng_msg_body(msg), len);
	}
	client_msg_free(msg);
	*reply = copy;
	*reply_len = len;
	return PW_OK;
}

void
pw_free_reply(void *reply)
{
	free(reply);
}
