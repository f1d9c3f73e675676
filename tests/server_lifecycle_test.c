/*
 * server_lifecycle_test.c - the paywire-server binary as a child process:
 * SIGTERM with writes in flight (every one acknowledged, all on disk after a
 * restart, exit 0), kill -9 after an acknowledged create (the session
 * survives), API key last used (shown at once, kept over kill -9 once a
 * committing write carried it, kept over a clean stop), read-only mode, a
 * failed store (in-process), --help/--version,
 * usage errors, and the config file's permission check.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_harness.h"
#include "store_internal.h" /* store_fail: simulate an I/O error at commit */

enum { C_OK = 0, C_UNAVAIL = 14 };

static int
setup(void **state)
{
	(void) state;
	assert_int_equal(0, pw_common_init());
	assert_int_equal(0, setenv("PAYWIRE_ADMIN_KEY", TH_ADMIN_KEY, 1));
	return 0;
}

/* get_status code and amount of a session, on socket s. */
static int
status_on(nng_socket s, const char *sid, int64_t *amount)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	Paywire__V1__Response *r;
	int code;

	gs.session_id = (char *) sid;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_GET_STATUS;
	req.get_status = &gs;
	r = th_call(s, &req, NULL);
	assert_non_null(r);
	code = r->status->code;
	if (code == C_OK && amount != NULL) {
		*amount = r->get_status->amount_minor;
	}
	th_resp_free(r);
	return code;
}

/* The same on a fresh socket. */
static int
status_of(const char *url, const char *sid, int64_t *amount)
{
	nng_socket s = th_req_open(url, TW_HANG_MS, -1);
	int code = status_on(s, sid, amount);

	(void) nng_close(s);
	return code;
}

/* The writes of the SIGTERM test: one context each on one REQ socket, so
 * they travel on one connection, in order, ahead of a fence request. */
typedef struct flight {
	nng_ctx ctx;       /* its REQ context */
	nng_aio *aio;      /* send, then receive */
	char rid[64];      /* its request_id */
	int code;          /* reply code, -1: no reply */
	char sid[64];      /* session id when OK */
} flight;

/* Sends a create_session of amount on f's context and posts the receive
 * (with f's request_id kept when resend, else a new one). */
static void
flight_send_as(nng_socket s, flight *f, const char *key, int64_t amount, bool resend)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateSessionRequest cs;
	uint8_t *buf;
	size_t len;
	nng_msg *m;

	if (!resend) {
		th_request_id(f->rid, sizeof(f->rid));
	}
	th_session_req_init(&cs, amount);
	req.request_id = f->rid;
	req.api_key = (char *) key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = &cs;
	buf = th_pack(&req.base, &len);
	assert_int_equal(0, nng_ctx_open(&f->ctx, s));
	assert_int_equal(0, nng_aio_alloc(&f->aio, NULL, NULL));
	nng_aio_set_timeout(f->aio, TW_HANG_MS);
	assert_int_equal(0, nng_msg_alloc(&m, 0));
	assert_int_equal(0, nng_msg_append(m, buf, len));
	free(buf);
	nng_aio_set_msg(f->aio, m);
	nng_ctx_send(f->ctx, f->aio);
	nng_aio_wait(f->aio); /* the connection took it */
	assert_int_equal(0, nng_aio_result(f->aio));
	nng_ctx_recv(f->ctx, f->aio);
}

static void
flight_send(nng_socket s, flight *f, const char *key, int64_t amount)
{
	flight_send_as(s, f, key, amount, false);
}

/* Waits for f's reply and records its code (and session id). */
static void
flight_reply(flight *f)
{
	Paywire__V1__Response *r = NULL;
	nng_msg *m;

	nng_aio_wait(f->aio);
	f->code = -1;
	if (nng_aio_result(f->aio) == 0) {
		m = nng_aio_get_msg(f->aio);
		r = paywire__v1__response__unpack(NULL, nng_msg_len(m), nng_msg_body(m));
		nng_msg_free(m);
	}
	if (r != NULL && r->status != NULL) {
		f->code = r->status->code;
		if (f->code == C_OK) {
			(void) pw_strlcpy(f->sid, r->create_session->session->id, sizeof(f->sid));
		}
	}
	if (r != NULL) {
		paywire__v1__response__free_unpacked(r, NULL);
	}
	nng_aio_free(f->aio);
	(void) nng_ctx_close(f->ctx);
}

/* The writes are in flight at SIGTERM, and that is known, not guessed: they
 * went out on one connection before a get_status (the fence), the server
 * reads a connection in order, and it answered the fence; the writer's
 * 1 s delay keeps them unanswered until then. */
static void
test_sigterm_with_writes_in_flight_acknowledges_them_and_exits_0(void **state)
{
	enum { N = 16 };
	const char *const slow[] = { "--test-writer-delay-ms", "1000", "--drain-timeout-ms",
		"120000", NULL };
	const char *const normal[] = { NULL };
	static flight w[N];
	th_proc p;
	nng_socket s;
	char key[128];
	char mid[64];
	int status;

	(void) state;
	th_proc_init(&p);
	th_proc_start(&p, slow);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	for (int i = 0; i < N; i++) {
		flight_send(s, &w[i], key, 1000 + i);
	}
	assert_int_equal(5, status_on(s, "cs_fence", NULL)); /* NOT_FOUND, after all N */
	assert_int_equal(0, kill(p.pid, SIGTERM));
	for (int i = 0; i < N; i++) {
		flight_reply(&w[i]);
	}
	(void) nng_close(s);
	status = th_proc_stop(&p, 0); /* signal 0: just wait */
	assert_true(WIFEXITED(status));
	assert_int_equal(0, WEXITSTATUS(status));
	/* Every request the server had taken at SIGTERM got its real answer.
	 * The fence cannot prove that of all N: nng may run the fence's receive
	 * callback before a write's, and a write whose callback runs after
	 * SIGTERM is refused UNAVAILABLE before anything is written (seen once
	 * under heavy load). Such a write must then be absent: its resend, with
	 * the same request id, applies it once (below). Most were taken. */
	int refused = 0;
	for (int i = 0; i < N; i++) {
		if (w[i].code == C_UNAVAIL) {
			refused++;
		} else if (w[i].code != C_OK) {
			fail_msg("write %d: code %d (expected OK: it was in flight at SIGTERM)", i,
			    w[i].code);
		}
	}
	if (refused * 4 > N) {
		fail_msg("%d of %d writes in flight at SIGTERM were refused", refused, N);
	}
	th_proc_start(&p, normal);
	if (refused > 0) {
		print_message("# %d write(s) not yet taken at SIGTERM: resent\n", refused);
		s = th_req_open(p.url, TW_HANG_MS, -1);
		for (int i = 0; i < N; i++) {
			if (w[i].code == C_UNAVAIL) {
				flight_send_as(s, &w[i], key, 1000 + i, true);
				flight_reply(&w[i]);
				assert_int_equal(C_OK, w[i].code);
			}
		}
		(void) nng_close(s);
	}
	for (int i = 0; i < N; i++) {
		int64_t amount = 0;
		assert_int_equal(C_OK, status_of(p.url, w[i].sid, &amount));
		assert_int_equal(1000 + i, amount);
	}
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_fini(&p);
}

static void
test_kill_9_after_an_acknowledged_create_keeps_the_session(void **state)
{
	const char *const none[] = { NULL };
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	th_proc p;
	nng_socket s;
	char key[128];
	char mid[64];
	char rid[64];
	char sid[64];
	int64_t amount = 0;
	int status;

	(void) state;
	th_proc_init(&p);
	th_proc_start(&p, none);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	th_session_req_init(&cs, 777);
	cs.currency = (char *) "JPY";
	th_request_id(rid, sizeof(rid));
	r = th_create_session(s, key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);
	(void) nng_close(s);
	status = th_proc_stop(&p, SIGKILL);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(SIGKILL, WTERMSIG(status));
	th_proc_start(&p, none); /* also proves a stale IPC socket file is reused */
	assert_int_equal(C_OK, status_of(p.url, sid, &amount));
	assert_int_equal(777, amount);
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_fini(&p);
}

static void
test_read_only_server_refuses_writes_and_answers_reads(void **state)
{
	const char *const none[] = { NULL };
	const char *const ro[] = { "--read-only", NULL };
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	th_proc p;
	nng_socket s;
	char key[128];
	char mid[64];
	char rid[64];
	char sid[64];

	(void) state;
	th_proc_init(&p);
	th_proc_start(&p, none);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	th_session_req_init(&cs, 50);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(s, key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);
	(void) nng_close(s);
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_start(&p, ro);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(s, key, rid, &cs);
	assert_int_equal(C_UNAVAIL, r->status->code);
	th_resp_free(r);
	(void) nng_close(s);
	assert_int_equal(C_OK, status_of(p.url, sid, NULL));
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_fini(&p);
}

/* Another API key of the calling key's merchant: its raw value and id. */
static void
key_create(nng_socket s, const char *key, char *raw_out, char *id_out)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateApiKeyRequest ck = PAYWIRE__V1__CREATE_API_KEY_REQUEST__INIT;
	Paywire__V1__Response *r;
	char rid[64];

	th_request_id(rid, sizeof(rid));
	req.request_id = rid;
	req.api_key = (char *) key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_API_KEY;
	req.create_api_key = &ck;
	r = th_call(s, &req, NULL);
	assert_non_null(r);
	assert_int_equal(C_OK, r->status->code);
	assert_true(pw_strlcpy(raw_out, r->create_api_key->api_key, 128));
	assert_true(pw_strlcpy(id_out, r->create_api_key->key->key_id, 64));
	th_resp_free(r);
}

/* ListApiKeys with key: the last_used_at_unix_ms of key_id in it. */
static int64_t
key_last_used(nng_socket s, const char *key, const char *key_id)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__ListApiKeysRequest lk = PAYWIRE__V1__LIST_API_KEYS_REQUEST__INIT;
	Paywire__V1__Response *r;
	int64_t v = -1;

	req.api_key = (char *) key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_LIST_API_KEYS;
	req.list_api_keys = &lk;
	r = th_call(s, &req, NULL);
	assert_non_null(r);
	assert_int_equal(C_OK, r->status->code);
	for (size_t i = 0; i < r->list_api_keys->n_keys; i++) {
		if (strcmp(r->list_api_keys->keys[i]->key_id, key_id) == 0) {
			v = r->list_api_keys->keys[i]->last_used_at_unix_ms;
		}
	}
	th_resp_free(r);
	assert_true(v >= 0); /* listed */
	return v;
}

/* Last used: a key's successful call shows at once in ListApiKeys (>= the
 * call's time), a key never used shows 0; a write that commits carries the
 * time to disk, so a kill -9 right after keeps it; a clean stop keeps the
 * rest. */
static void
test_api_key_last_used_shows_at_once_and_survives_kill_9_once_written(void **state)
{
	const char *const carry[] = { "--test-lastused-check-ms", "0", NULL };
	const char *const none[] = { NULL };
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	th_proc p;
	nng_socket s;
	char key[128];
	char mid[64];
	char used_raw[128];
	char used_id[64];
	char never_raw[128];
	char never_id[64];
	char rid[64];
	int64_t t0;
	int64_t t1;
	int64_t seen;
	int status;

	(void) state;
	th_proc_init(&p);
	th_proc_start(&p, carry);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	key_create(s, key, used_raw, used_id);
	key_create(s, key, never_raw, never_id);
	assert_int_equal(0, key_last_used(s, key, used_id)); /* "never" */
	t0 = pw_now_unix_ms();
	seen = key_last_used(s, used_raw, used_id); /* this call authenticates with it */
	t1 = pw_now_unix_ms();
	assert_true(seen >= t0 && seen <= t1);
	assert_int_equal(seen, key_last_used(s, key, used_id));
	assert_int_equal(0, key_last_used(s, key, never_id));
	/* a write that commits (acknowledged: on disk) carries the flush */
	th_session_req_init(&cs, 100);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(s, key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	th_resp_free(r);
	(void) nng_close(s);
	status = th_proc_stop(&p, SIGKILL);
	assert_true(WIFSIGNALED(status));
	th_proc_start(&p, none);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	assert_int_equal(seen, key_last_used(s, key, used_id));
	assert_int_equal(0, key_last_used(s, key, never_id));
	/* used again: only in memory (not a minute newer) until a clean stop */
	t0 = pw_now_unix_ms();
	(void) key_last_used(s, never_raw, never_id);
	(void) nng_close(s);
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_start(&p, none);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	assert_true(key_last_used(s, key, never_id) >= t0);
	assert_int_equal(seen, key_last_used(s, key, used_id));
	(void) nng_close(s);
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_fini(&p);
}

/* A full LMDB map answers RESOURCE_EXHAUSTED to writes while reads go on. */
static void
test_full_map_answers_resource_exhausted_and_reads_go_on(void **state)
{
	const char *const tiny[] = { "--map-size", "1m", "--sync", "none", "--unsafe-no-fsync", NULL };
	static Paywire__V1__CreateSessionRequest__MetadataEntry md[PW_METADATA_ENTRIES_MAX];
	static Paywire__V1__CreateSessionRequest__MetadataEntry *mdp[PW_METADATA_ENTRIES_MAX];
	static char keys[PW_METADATA_ENTRIES_MAX][8];
	static char value[PW_METADATA_VALUE_BYTES_MAX + 1];
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	th_proc p;
	nng_socket s;
	char key[128];
	char mid[64];
	char rid[64];
	char first[64] = "";
	int code = C_OK;
	int i;

	(void) state;
	memset(value, 'v', sizeof(value) - 1);
	for (i = 0; i < PW_METADATA_ENTRIES_MAX; i++) {
		paywire__v1__create_session_request__metadata_entry__init(&md[i]);
		(void) snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		md[i].key = keys[i];
		md[i].value = value;
		mdp[i] = &md[i];
	}
	th_proc_init(&p);
	th_proc_start(&p, tiny);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	th_session_req_init(&cs, 100);
	cs.n_metadata = PW_METADATA_ENTRIES_MAX;
	cs.metadata = mdp;
	for (i = 0; i < 200 && code == C_OK; i++) { /* ~50 KB per session + reply: 1 MiB fills */
		th_request_id(rid, sizeof(rid));
		r = th_create_session(s, key, rid, &cs);
		code = r->status->code;
		if (code == C_OK && first[0] == '\0') {
			(void) pw_strlcpy(first, r->create_session->session->id, sizeof(first));
		}
		th_resp_free(r);
	}
	if (code != 8) {
		fail_msg("after %d sessions: code %d, expected RESOURCE_EXHAUSTED (8)", i, code);
	}
	assert_true(first[0] != '\0');
	assert_int_equal(C_OK, status_of(p.url, first, NULL));
	(void) nng_close(s);
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	th_proc_fini(&p);
}

/* In-process: once the store has failed, mutations answer UNAVAILABLE and
 * reads go on (paywire-server's main loop then exits with 3). */
static void
test_failed_store_answers_unavailable_to_writes_and_reads_go_on(void **state)
{
	th_server srv;
	nng_socket s;
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Response *r;
	char key[128];
	char mid[64];
	char rid[64];
	char sid[64];

	(void) state;
	th_server_start(&srv, 4, 0);
	s = th_req_open(srv.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	th_session_req_init(&cs, 60);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(s, key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);
	store_fail(srv.st, "test: simulated I/O error at commit");
	assert_true(store_failed(srv.st));
	th_request_id(rid, sizeof(rid));
	r = th_create_session(s, key, rid, &cs);
	assert_int_equal(C_UNAVAIL, r->status->code);
	th_resp_free(r);
	assert_int_equal(C_OK, status_of(srv.url, sid, NULL));
	(void) nng_close(s);
	th_server_stop(&srv);
}

/* Runs the binary with args, captures stdout+stderr; returns the exit code. */
static int
run_bin(const char *args, char *out, size_t out_size)
{
	char cmd[2048];
	FILE *f;
	size_t n;
	int st;

	(void) snprintf(cmd, sizeof(cmd), "timeout -s KILL %d %s %s 2>&1", TW_HANG_MS / 1000,
	    th_server_bin(), args);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, out_size - 1, f);
	out[n] = '\0';
	st = pclose(f);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_help_lists_every_flag_and_variable_and_exits_0(void **state)
{
	static const char *const words[] = { "--listen", "--data", "--map-size", "--read-only",
		"--sync", "--contexts", "--public-url", "--log-level", "--config",
		"--webhook-tolerance-s", "--drain-timeout-ms", "--version",
		"--help", "PAYWIRE_ADMIN_KEY", "PAYWIRE_TOKEN_SECRET", "PAYWIRE_STRIPE_WEBHOOK_SECRET",
		"PAYWIRE_RAZORPAY_WEBHOOK_SECRET", "PAYWIRE_ONECOM_WEBHOOK_SECRET",
		"PAYWIRE_WEB3_WEBHOOK_SECRET", "PAYWIRE_WEB3_MIN_CONFIRMATIONS", "full", "meta",
		"none", "tcp://127.0.0.1:7450", "paywire.sock", "SIGTERM", "Exit codes" };
	static char out[16384];

	(void) state;
	assert_int_equal(0, run_bin("--help", out, sizeof(out)));
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strstr(out, words[i]) == NULL) {
			fail_msg("--help does not mention %s", words[i]);
		}
	}
	assert_int_equal(0, run_bin("--version", out, sizeof(out)));
	assert_non_null(strstr(out, "paywire-server 0.1.0"));
}

static void
test_bad_flags_exit_2_with_a_clear_message(void **state)
{
	static char out[4096];

	(void) state;
	assert_int_equal(2, run_bin("--contexts 0", out, sizeof(out)));
	assert_non_null(strstr(out, "--contexts"));
	assert_int_equal(2, run_bin("--contexts 4097", out, sizeof(out)));
	assert_int_equal(2, run_bin("--sync fast", out, sizeof(out)));
	assert_non_null(strstr(out, "full, meta or none"));
	assert_int_equal(2, run_bin("--no-such-flag", out, sizeof(out)));
	assert_int_equal(2, run_bin("--map-size 10", out, sizeof(out)));
	assert_int_equal(2, run_bin("--public-url javascript:x", out, sizeof(out)));
	assert_int_equal(2, run_bin("--listen", out, sizeof(out)));
}

/* A bad secret or an unconfirmed unsafe sync mode stops the binary before it
 * opens the store or listens: exit 2, the variable (or flag) named, the
 * value never printed. `timeout` only turns a server that wrongly started
 * into a failure (exit 124) instead of a hang. */
static void
test_bad_secrets_and_unsafe_sync_exit_2_naming_the_variable_only(void **state)
{
	static const struct {
		const char *var;   /* NULL: a flag case */
		const char *value; /* or the flags */
		const char *says;
	} cases[] = {
		{ "PAYWIRE_ADMIN_KEY", "adm_Zq7shortkey", "PAYWIRE_ADMIN_KEY is shorter than 24" },
		{ "PAYWIRE_ADMIN_KEY", "", "PAYWIRE_ADMIN_KEY is set but empty" },
		{ "PAYWIRE_TOKEN_SECRET", "tok_Zq7_0123456789abcdef\n", "PAYWIRE_TOKEN_SECRET" },
		{ "PAYWIRE_STRIPE_WEBHOOK_SECRET", "whsec_Zq7short", "shorter than 24 bytes" },
		{ "PAYWIRE_STRIPE_WEBHOOK_SECRET", "sk_live_Zq7_0123456789abcdef", "must start with whsec_" },
		{ "PAYWIRE_STRIPE_WEBHOOK_SECRET", "", "PAYWIRE_STRIPE_WEBHOOK_SECRET is set but empty" },
		{ "PAYWIRE_RAZORPAY_WEBHOOK_SECRET", "rzp_Zq7short", "shorter than 24 bytes" },
		/* base64 of 16 bytes: a well-formed but too short Standard key */
		{ "PAYWIRE_ONECOM_WEBHOOK_SECRET", "whsec_WnE3c2hvcnRrZXkxMjM0NQ==", "16-byte key" },
		{ "PAYWIRE_WEB3_WEBHOOK_SECRET", "whsec_Zq7*not*base64*0123456789", "not base64" },
		{ "PAYWIRE_ONECOM_WEBHOOK_SECRET", "wHsec_WnE3c2hvcnRrZXkxMjM0NTY3ODkwMTIzNDU2Nzg5MA==",
		    "must be whsec_<base64>" },
		{ "PAYWIRE_RAZORPAY_WEBHOOK_SECRET", "rzp_Zq7_0123456789abcdef_x\n", "trailing" },
		{ NULL, "--sync none", "--unsafe-no-fsync" },
		{ NULL, "--sync meta", "--unsafe-no-fsync" },
	};
	static char out[8192];
	char args[1200];
	th_proc p;

	(void) state;
	th_proc_init(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code;
		if (cases[i].var != NULL) {
			assert_int_equal(0, setenv(cases[i].var, cases[i].value, 1));
		}
		(void) snprintf(args, sizeof(args), "--data %s --listen %s --log-level info %s", p.data,
		    p.url, cases[i].var == NULL ? cases[i].value : "");
		code = run_bin(args, out, sizeof(out));
		if (cases[i].var != NULL) {
			if (strcmp(cases[i].var, "PAYWIRE_ADMIN_KEY") == 0) {
				assert_int_equal(0, setenv("PAYWIRE_ADMIN_KEY", TH_ADMIN_KEY, 1));
			} else {
				assert_int_equal(0, unsetenv(cases[i].var));
			}
		}
		if (code != 2 || strstr(out, cases[i].says) == NULL ||
		    (cases[i].var != NULL && strstr(out, cases[i].var) == NULL) ||
		    (cases[i].var != NULL && cases[i].value[0] != '\0' &&
		        strstr(out, cases[i].value + 4) != NULL)) {
			fail_msg("case %zu: exit %d, output [%s], wanted [%s]", i, code, out,
			    cases[i].says);
		}
	}
	/* never started: no store was created */
	assert_int_not_equal(0, access(p.data, F_OK));
	th_proc_fini(&p);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(strlen(text), fwrite(text, 1, strlen(text), f));
	assert_int_equal(0, fclose(f));
	assert_int_equal(0, chmod(path, mode));
}

static void
test_config_file_is_refused_unless_0600_and_its_admin_key_works(void **state)
{
	static char out[4096];
	char path[300];
	char args[1200];
	char cfg_flag[320];
	const char *extra[3];
	th_proc p;
	nng_socket s;
	char key[128];
	char mid[64];

	(void) state;
	th_proc_init(&p);
	(void) snprintf(path, sizeof(path), "%s/paywire.env", p.dir);
	write_file(path, "# secrets\nPAYWIRE_ADMIN_KEY=" TH_ADMIN_KEY "\n", 0644);
	(void) snprintf(args, sizeof(args), "--data %s --listen %s --config %s", p.data, p.url, path);
	assert_int_equal(2, run_bin(args, out, sizeof(out)));
	assert_non_null(strstr(out, "0600"));
	assert_null(strstr(out, TH_ADMIN_KEY)); /* never echo a secret */
	write_file(path, "PAYWIRE_NOT_A_THING=1\n", 0600);
	assert_int_equal(2, run_bin(args, out, sizeof(out)));
	assert_non_null(strstr(out, "line 1"));
	/* 0600 file, admin key only there: admin calls work. */
	write_file(path, "# secrets\n\nPAYWIRE_ADMIN_KEY=\"" TH_ADMIN_KEY "\"\n", 0600);
	assert_int_equal(0, unsetenv("PAYWIRE_ADMIN_KEY"));
	(void) snprintf(cfg_flag, sizeof(cfg_flag), "--config=%s", path);
	extra[0] = cfg_flag;
	extra[1] = NULL;
	th_proc_start(&p, extra);
	s = th_req_open(p.url, TW_HANG_MS, -1);
	th_merchant_create(s, PAYWIRE__V1__MODE__MODE_TEST, key, mid);
	(void) nng_close(s);
	assert_int_equal(0, th_proc_stop(&p, SIGTERM));
	assert_int_equal(0, setenv("PAYWIRE_ADMIN_KEY", TH_ADMIN_KEY, 1));
	th_proc_fini(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_with_writes_in_flight_acknowledges_them_and_exits_0),
		cmocka_unit_test(test_kill_9_after_an_acknowledged_create_keeps_the_session),
		cmocka_unit_test(test_read_only_server_refuses_writes_and_answers_reads),
		cmocka_unit_test(test_api_key_last_used_shows_at_once_and_survives_kill_9_once_written),
		cmocka_unit_test(test_full_map_answers_resource_exhausted_and_reads_go_on),
		cmocka_unit_test(test_failed_store_answers_unavailable_to_writes_and_reads_go_on),
		cmocka_unit_test(test_help_lists_every_flag_and_variable_and_exits_0),
		cmocka_unit_test(test_bad_flags_exit_2_with_a_clear_message),
		cmocka_unit_test(test_bad_secrets_and_unsafe_sync_exit_2_naming_the_variable_only),
		cmocka_unit_test(test_config_file_is_refused_unless_0600_and_its_admin_key_works),
	};

	int rv = cmocka_run_group_tests(tests, setup, NULL);
	/* nng frees closed sockets, dialers and pipes on its own reaper thread:
	 * wait for it, or LeakSanitizer may catch them in flight at exit. */
	nng_fini();
	return rv;
}
