/*
 * client_cli_test.c - the built `paywire` binary, run as a child process
 * against an in-test REP peer (client/testpeer.h): help texts, usage errors
 * (exit 2, nothing sent), exact amounts, JSON output with exact integers,
 * server errors (exit 1), audit exit codes, webhook replay, secrets kept out
 * of the output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"
#include "client_fixture.h"
#include "testpeer.h"
#include "test_wait.h"

#include <paywire/client.h>

extern char **environ;

#define CLI_PATH PW_BINARY_DIR "/client/paywire"
#define OUT_BYTES_MAX (64 * 1024)

typedef struct run_result {
	int exit_code;            /* the child's exit status, or -1 if it did not exit */
	char out[OUT_BYTES_MAX];  /* its stdout */
	char err[OUT_BYTES_MAX];  /* its stderr */
} run_result;

static testpeer *g_peer;
static _Atomic int g_fail_code;       /* non-zero: the peer answers this status */
static _Atomic bool g_audit_ok = true; /* what verify_audit reports */
static run_result g_r;

/* ---- the peer: a plausible reply for each call ---- */

static void
reply_session(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateSessionResponse cs = PAYWIRE__V1__CREATE_SESSION_RESPONSE__INIT;
	Paywire__V1__Session s = PAYWIRE__V1__SESSION__INIT;
	s.id = "cs_0190cli";
	s.merchant_id = "mer_cli";
	s.url = "http://127.0.0.1:8080/checkout?session=cs_0190cli";
	s.mode = PAYWIRE__V1__MODE__MODE_TEST;
	s.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_CREATED;
	s.payment_status = PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_UNPAID;
	s.amount_minor = rq->create_session->amount_minor;
	s.currency = rq->create_session->currency;
	if (rq->create_session->credit_package[0] != '\0') { /* the package's price */
		s.amount_minor = 990;
		s.currency = "EUR";
		s.credit_package = rq->create_session->credit_package;
	}
	s.created_at_unix_ms = 1767225600000;
	cs.session = &s;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_SESSION;
	rsp.create_session = &cs;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_status(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__GetStatusResponse g = PAYWIRE__V1__GET_STATUS_RESPONSE__INIT;
	g.session_id = rq->get_status->session_id;
	g.merchant_id = "mer_cli";
	g.status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
	g.payment_status = PAYWIRE__V1__PAYMENT_STATUS__PAYMENT_STATUS_COMPLETED;
	g.payment_provider = PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY;
	g.amount_minor = 49900;
	g.currency = "INR";
	g.created_at_unix_ms = 1767225600000;
	g.paid_at_unix_ms = 1767225660123;
	g.mode = PAYWIRE__V1__MODE__MODE_LIVE;
	g.invoice_number = 42;
	g.expires_at_unix_ms = 1767312000000;
	if (rq->get_status->checkout_secret[0] != '\0') { /* the customer's view */
		g.merchant_name = "Acme";
		g.plan = "pro";
		g.access_link = "/access/cs_abc?token=eyJ.x.y";
	}
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_STATUS;
	rsp.get_status = &g;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_merchant(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreateMerchantResponse m = PAYWIRE__V1__CREATE_MERCHANT_RESPONSE__INIT;
	m.merchant_id = "mer_new";
	m.api_key = "sk_test_newkey";
	m.name = rq->create_merchant->name;
	m.mode = rq->create_merchant->mode;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT;
	rsp.create_merchant = &m;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_webhook(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__IngestWebhookResponse w = PAYWIRE__V1__INGEST_WEBHOOK_RESPONSE__INIT;
	w.outcome = PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED;
	w.session_id = "cs_0190cli";
	w.event_id = "evt_1";
	w.event_type = "checkout.session.completed";
	w.session_status = PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
	w.invoice_number = 1;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_INGEST_WEBHOOK;
	rsp.ingest_webhook = &w;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_audit(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__VerifyAuditResponse v = PAYWIRE__V1__VERIFY_AUDIT_RESPONSE__INIT;
	uint8_t hash[32] = { 0xab };
	bool ok = atomic_load(&g_audit_ok);
	v.ok = ok;
	v.records = 9;
	v.last_seq = 9;
	v.head_hash.data = hash;
	v.head_hash.len = sizeof(hash);
	v.first_bad_seq = ok ? 0 : 4;
	v.detail = ok ? "" : "record 4: hash mismatch";
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_VERIFY_AUDIT;
	rsp.verify_audit = &v;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_entitlements(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__GetEntitlementsResponse g = PAYWIRE__V1__GET_ENTITLEMENTS_RESPONSE__INIT;
	Paywire__V1__Entitlement e[2] = { PAYWIRE__V1__ENTITLEMENT__INIT,
		PAYWIRE__V1__ENTITLEMENT__INIT };
	Paywire__V1__Entitlement *ep[2] = { &e[0], &e[1] };
	static char *holders[] = { "cs_0190a", "cs_0190b" };

	e[0].id = "ent_0190pro";
	e[0].plan = "pro";
	e[0].state = PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_PAST_DUE;
	e[0].active = false;
	e[0].subscription = true;
	e[0].created_at_unix_ms = 1767225600000;
	e[0].current_period_end_unix_ms = 1769904000000;
	e[0].key_prefix = "ak_test_AbCd";
	e[0].customer = rq->get_entitlements->customer_ref;
	e[0].n_session_ids = 2;
	e[0].session_ids = holders;
	e[1].id = "ent_0190team";
	e[1].plan = "team";
	e[1].state = PAYWIRE__V1__ENTITLEMENT_STATE__ENTITLEMENT_STATE_REVOKED;
	e[1].created_at_unix_ms = 1767225600000;
	e[1].revoked_at_unix_ms = 1767225700000;
	e[1].key_prefix = "ak_test_EfGh";
	e[1].customer = rq->get_entitlements->customer_ref;
	g.n_entitlements = 2;
	g.entitlements = ep;
	g.has_more = true;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_GET_ENTITLEMENTS;
	rsp.get_entitlements = &g;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_api_keys(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__ListApiKeysResponse l = PAYWIRE__V1__LIST_API_KEYS_RESPONSE__INIT;
	Paywire__V1__ApiKeyInfo k[2] = { PAYWIRE__V1__API_KEY_INFO__INIT,
		PAYWIRE__V1__API_KEY_INFO__INIT };
	Paywire__V1__ApiKeyInfo *kp[2] = { &k[0], &k[1] };

	k[0].key_id = "key_0190new";
	k[0].key_prefix = "sk_test_AbCd";
	k[0].last4 = "wxyz";
	k[0].mode = PAYWIRE__V1__MODE__MODE_TEST;
	k[0].state = "active";
	k[0].created_at_unix_ms = 1767225600000;
	k[1].key_id = "key_0190old";
	k[1].key_prefix = "sk_test_EfGh";
	k[1].last4 = "stuv";
	k[1].mode = PAYWIRE__V1__MODE__MODE_TEST;
	k[1].state = "active";
	k[1].created_at_unix_ms = 1767225500000;
	k[1].last_used_at_unix_ms = 1767312060000; /* 2026-01-02T00:01:00Z */
	l.n_keys = 2;
	l.keys = kp;
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_API_KEYS;
	rsp.list_api_keys = &l;
	testpeer_reply_pack(out, &rsp);
}

/* set/list_provider_credentials: what the peer got (peer thread writes,
 * the test reads after the CLI exited). */
static char g_creds_secret[300];
static char g_creds_key_id[80];
static int g_creds_provider;
static int g_creds_mode;

static void
reply_creds_set(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	const Paywire__V1__SetProviderCredentialsRequest *r = rq->set_provider_credentials;
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__SetProviderCredentialsResponse sr =
	    PAYWIRE__V1__SET_PROVIDER_CREDENTIALS_RESPONSE__INIT;
	Paywire__V1__ProviderCredentialsInfo k = PAYWIRE__V1__PROVIDER_CREDENTIALS_INFO__INIT;

	(void) snprintf(g_creds_secret, sizeof(g_creds_secret), "%s", r->secret);
	(void) snprintf(g_creds_key_id, sizeof(g_creds_key_id), "%s", r->key_id);
	g_creds_provider = (int) r->provider;
	g_creds_mode = (int) r->mode;
	k.provider = r->provider;
	k.mode = r->mode;
	k.key_id = r->key_id;
	k.secret_hint = r->secret[0] != '\0' ? "sk_test_AbCd\xe2\x80\xa6wxyz" : "\xe2\x80\xa6t42q";
	k.created_at_unix_ms = 1767225600000;
	k.updated_at_unix_ms = 1767225660000;
	sr.credentials = &k;
	sr.deleted = r->secret[0] == '\0';
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_SET_PROVIDER_CREDENTIALS;
	rsp.set_provider_credentials = &sr;
	testpeer_reply_pack(out, &rsp);
}

static void
reply_creds_list(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__ListProviderCredentialsResponse l =
	    PAYWIRE__V1__LIST_PROVIDER_CREDENTIALS_RESPONSE__INIT;
	Paywire__V1__ProviderCredentialsInfo k[2] = { PAYWIRE__V1__PROVIDER_CREDENTIALS_INFO__INIT,
		PAYWIRE__V1__PROVIDER_CREDENTIALS_INFO__INIT };
	Paywire__V1__ProviderCredentialsInfo *kp[2] = { &k[0], &k[1] };

	k[0].provider = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
	k[0].mode = PAYWIRE__V1__MODE__MODE_TEST;
	k[0].key_id = "";
	k[0].secret_hint = "sk_test_AbCd\xe2\x80\xa6wxyz";
	k[0].created_at_unix_ms = 1767225600000;
	k[0].updated_at_unix_ms = 1767225660000;
	k[1].provider = PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY;
	k[1].mode = PAYWIRE__V1__MODE__MODE_LIVE;
	k[1].key_id = "rzp_live_1DP5mmOlF5G5ag";
	k[1].secret_hint = "\xe2\x80\xa6t42q";
	k[1].created_at_unix_ms = 1767225600000;
	k[1].updated_at_unix_ms = 1767225600000;
	l.n_credentials = 2;
	l.credentials = kp;
	(void) snprintf(g_creds_key_id, sizeof(g_creds_key_id), "%s",
	    rq->list_provider_credentials->merchant_id);
	rsp.request_id = rq->request_id;
	rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_PROVIDER_CREDENTIALS;
	rsp.list_provider_credentials = &l;
	testpeer_reply_pack(out, &rsp);
}

/* Peer thread: no cmocka asserts. */
/* create, archive and list credit packages: the one package the request
 * names (list: pack_100 and pack_200, archived when asked for). */
static void
reply_package(const Paywire__V1__Request *rq, testpeer_reply *out)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__CreditPackageCreateResponse c = PAYWIRE__V1__CREDIT_PACKAGE_CREATE_RESPONSE__INIT;
	Paywire__V1__CreditPackageArchiveResponse a = PAYWIRE__V1__CREDIT_PACKAGE_ARCHIVE_RESPONSE__INIT;
	Paywire__V1__CreditPackageListResponse l = PAYWIRE__V1__CREDIT_PACKAGE_LIST_RESPONSE__INIT;
	Paywire__V1__CreditPackage p[2] = { PAYWIRE__V1__CREDIT_PACKAGE__INIT,
		PAYWIRE__V1__CREDIT_PACKAGE__INIT };
	Paywire__V1__CreditPackage *pp[2] = { &p[0], &p[1] };

	p[0].code = "pack_100";
	p[0].name = "100 credits";
	p[0].credits = 100;
	p[0].amount_minor = 990;
	p[0].currency = "EUR";
	p[0].state = PAYWIRE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_ACTIVE;
	p[0].created_at_unix_ms = 1767225600000;
	p[1] = p[0];
	p[1].code = "pack_200";
	p[1].credits = 200;
	p[1].amount_minor = 1790;
	p[1].state = PAYWIRE__V1__CREDIT_PACKAGE_STATE__CREDIT_PACKAGE_STATE_ARCHIVED;
	p[1].archived_at_unix_ms = 1767225700000;
	rsp.request_id = rq->request_id;
	if (rq->call_case == PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE) {
		p[0].code = rq->create_credit_package->code;
		p[0].name = rq->create_credit_package->name;
		p[0].credits = rq->create_credit_package->credits;
		p[0].amount_minor = rq->create_credit_package->amount_minor;
		p[0].currency = rq->create_credit_package->currency;
		c.package = &p[0];
		c.created = 1;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_CREATE_CREDIT_PACKAGE;
		rsp.create_credit_package = &c;
	} else if (rq->call_case == PAYWIRE__V1__REQUEST__CALL_ARCHIVE_CREDIT_PACKAGE) {
		p[1].code = rq->archive_credit_package->code;
		a.package = &p[1];
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_ARCHIVE_CREDIT_PACKAGE;
		rsp.archive_credit_package = &a;
	} else {
		l.n_packages = rq->list_credit_packages->include_archived ? 2 : 1;
		l.packages = pp;
		l.has_more = 1;
		rsp.result_case = PAYWIRE__V1__RESPONSE__RESULT_LIST_CREDIT_PACKAGES;
		rsp.list_credit_packages = &l;
	}
	testpeer_reply_pack(out, &rsp);
}

static void
peer_handler(void *arg, const Paywire__V1__Request *rq, const uint8_t *raw, size_t raw_len,
    uint32_t copy_no, testpeer_reply *out)
{
	int code = atomic_load(&g_fail_code);
	(void) arg;
	(void) raw;
	(void) raw_len;
	(void) copy_no;
	PW_ASSERT(rq != NULL);
	if (code != 0) {
		testpeer_reply_status(out, rq->request_id, code,
		    code == 5 ? "session not found" : "admin key does not match");
		return;
	}
	switch (rq->call_case) {
	case PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION:
		reply_session(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_GET_STATUS:
		reply_status(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT:
		reply_merchant(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK:
		reply_webhook(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_VERIFY_AUDIT:
		reply_audit(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_GET_ENTITLEMENTS:
		reply_entitlements(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_LIST_API_KEYS:
		reply_api_keys(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_SET_PROVIDER_CREDENTIALS:
		reply_creds_set(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_LIST_PROVIDER_CREDENTIALS:
		reply_creds_list(rq, out);
		return;
	case PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE:
	case PAYWIRE__V1__REQUEST__CALL_ARCHIVE_CREDIT_PACKAGE:
	case PAYWIRE__V1__REQUEST__CALL_LIST_CREDIT_PACKAGES:
		reply_package(rq, out);
		return;
	default:
		testpeer_reply_status(out, rq->request_id, 12, "not in this test");
		return;
	}
}

/* ---- running the CLI ---- */

static void
read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The child's environment: ours without any PAYWIRE_* (tests are hermetic),
 * PAYWIRE_SERVER pointing at the peer unless extra sets it, plus extra ("K=V",
 * NULL-terminated). */
static char **
child_env(const char *const *extra)
{
	static char server[256];
	size_t n = 0;
	size_t k = 0;
	char **env;

	while (environ[n] != NULL) {
		n++;
	}
	env = calloc(n + 16, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], "PAYWIRE_", 8) != 0) {
			env[k++] = environ[i];
		}
	}
	bool own_server = false;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && i < 8; i++) {
		env[k++] = (char *) extra[i];
		own_server = own_server || strncmp(extra[i], "PAYWIRE_SERVER=", 15) == 0;
	}
	if (!own_server) {
		snprintf(server, sizeof(server), "PAYWIRE_SERVER=%s", testpeer_url(g_peer));
		env[k++] = server;
	}
	return env;
}

/* Runs paywire with args (NULL-terminated) and waits for it to exit
 * (TW_HANG_MS: only a hang reaches it). Its per-attempt timeout is
 * TW_HANG_MS too, so a slow peer is never a retry; a test that wants
 * another gives --timeout-ms itself (the last one wins). */
/* What the next run_cli gives the CLI on standard input (NULL: ours). */
static const char *g_stdin_text;

static void
run_cli(run_result *r, const char *const *extra_env, const char *const *args)
{
	char in_path[256];
	char out_path[256];
	char err_path[256];
	char *argv[40];
	posix_spawn_file_actions_t fa;
	char timeout[16];
	size_t n = 0;
	pid_t pid;
	pid_t w = 0;
	int status = 0;

	(void) snprintf(timeout, sizeof(timeout), "%d", TW_HANG_MS);
	argv[n++] = (char *) CLI_PATH;
	argv[n++] = (char *) "--timeout-ms";
	argv[n++] = timeout;
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(n < 39);
		argv[n++] = (char *) args[i];
	}
	argv[n] = NULL;
	snprintf(out_path, sizeof(out_path), "%s/out", testpeer_dir(g_peer));
	snprintf(err_path, sizeof(err_path), "%s/err", testpeer_dir(g_peer));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	snprintf(in_path, sizeof(in_path), "%s/in", testpeer_dir(g_peer));
	if (g_stdin_text != NULL) {
		FILE *f = fopen(in_path, "wb");
		assert_non_null(f);
		assert_int_equal(strlen(g_stdin_text), fwrite(g_stdin_text, 1, strlen(g_stdin_text), f));
		assert_int_equal(0, fclose(f));
		posix_spawn_file_actions_addopen(&fa, 0, in_path, O_RDONLY, 0);
	}
	char **env = child_env(extra_env);
	assert_int_equal(0, posix_spawn(&pid, CLI_PATH, &fa, NULL, argv, env));
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	r->exit_code = -1;
	TW_WAIT_UNTIL((w = waitpid(pid, &status, WNOHANG)) == pid);
	if (w == pid) {
		r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	if (r->exit_code == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	read_file(out_path, r->out, sizeof(r->out));
	read_file(err_path, r->err, sizeof(r->err));
	unlink(out_path);
	unlink(err_path);
	if (g_stdin_text != NULL) {
		unlink(in_path);
	}
}

#define RUN(env, ...)                                            \
	do {                                                         \
		const char *const args_[] = { __VA_ARGS__, NULL };      \
		run_cli(&g_r, env, args_);                               \
	} while (0)

static json_t *
parse_json_out(void)
{
	json_error_t e;
	json_t *j = json_loads(g_r.out, 0, &e);
	if (j == NULL) {
		print_error("stdout is not JSON (%s): %s\n", e.text, g_r.out);
	}
	assert_non_null(j);
	assert_true(json_is_object(j));
	return j;
}

static int
group_setup(void **state)
{
	(void) state;
	g_peer = testpeer_start(peer_handler, NULL);
	return g_peer != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void) state;
	testpeer_stop(g_peer);
	return 0;
}

static int
reset(void **state)
{
	(void) state;
	atomic_store(&g_fail_code, 0);
	atomic_store(&g_audit_ok, true);
	return 0;
}

/* ---- help and usage ---- */

static void
test_tool_help_exits_0_and_documents_commands_and_exit_codes(void **state)
{
	(void) state;
	RUN(NULL, "--help");
	assert_int_equal(0, g_r.exit_code);
	assert_string_equal("", g_r.err);
	static const char *const needles[] = { "merchant create", "key revoke", "session create",
		"status SESSION_ID", "webhook send", "access redeem", "audit verify", "--server URL",
		"--timeout-ms", "--retries", "--json", "PAYWIRE_SERVER", "PAYWIRE_ADMIN_KEY",
		"PAYWIRE_API_KEY", "0  success", "2  usage error", "examples:" };
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
		if (strstr(g_r.out, needles[i]) == NULL) {
			fail_msg("--help lacks '%s'", needles[i]);
		}
	}
}

static void
test_each_command_help_exits_0_with_usage_and_an_example(void **state)
{
	static const char *const cmds[][2] = { { "merchant", "create" }, { "key", "revoke" },
		{ "session", "create" }, { "status", NULL }, { "webhook", "send" },
		{ "access", "redeem" }, { "audit", "verify" }, { "anomalies", "list" } };
	uint32_t before = testpeer_count(g_peer);
	char want[64];
	(void) state;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i][1] != NULL) {
			RUN(NULL, cmds[i][0], cmds[i][1], "--help");
			snprintf(want, sizeof(want), "usage: paywire %s %s", cmds[i][0], cmds[i][1]);
		} else {
			RUN(NULL, cmds[i][0], "--help");
			snprintf(want, sizeof(want), "usage: paywire %s", cmds[i][0]);
		}
		assert_int_equal(0, g_r.exit_code);
		assert_non_null(strstr(g_r.out, want));
		assert_non_null(strstr(g_r.out, "example"));
	}
	assert_int_equal(before, testpeer_count(g_peer));
	/* three-word commands */
	static const char *const three[] = { "list", "show", "retry" };
	for (size_t i = 0; i < 3; i++) {
		RUN(NULL, "events", "quarantine", three[i], "--help");
		snprintf(want, sizeof(want), "usage: paywire events quarantine %s", three[i]);
		assert_int_equal(0, g_r.exit_code);
		assert_non_null(strstr(g_r.out, want));
		assert_non_null(strstr(g_r.out, "example"));
	}
}

static void
expect_usage_error(const char *const *env, const char *const *args, const char *needle)
{
	run_cli(&g_r, env, args);
	if (g_r.exit_code != 2 || strncmp(g_r.err, "error: INVALID_ARGUMENT: ", 25) != 0 ||
	    strstr(g_r.err, needle) == NULL) {
		fail_msg("'%s ...': exit %d, stderr: %s (wanted '%s')", args[0], g_r.exit_code, g_r.err,
		    needle);
	}
	assert_string_equal("", g_r.out);
}

static void
test_usage_errors_exit_2_and_send_nothing(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_k", NULL };
	static const char *const admin_env[] = { "PAYWIRE_ADMIN_KEY=adm_k", NULL };
	uint32_t before = testpeer_count(g_peer);
	(void) state;

#define USAGE(env, needle, ...)                                  \
	do {                                                         \
		const char *const a_[] = { __VA_ARGS__, NULL };         \
		expect_usage_error(env, a_, needle);                     \
	} while (0)
	USAGE(NULL, "unknown command 'frobnicate'", "frobnicate");
	USAGE(NULL, "unknown or missing verb", "session", "delete");
	USAGE(key_env, "--currency is required", "session", "create", "--amount-minor", "100");
	USAGE(key_env, "exactly one of --amount and --amount-minor", "session", "create",
	    "--currency", "EUR");
	USAGE(key_env, "unknown option --colour", "session", "create", "--colour", "red");
	USAGE(key_env, "--amount-minor wants an integer", "session", "create", "--amount-minor",
	    "12abc", "--currency", "EUR");
	USAGE(key_env, "--subscription sells a plan: it needs --plan", "session", "create",
	    "--amount-minor", "1", "--currency", "EUR", "--subscription");
	USAGE(key_env, "--customer is required", "entitlement", "list");
	USAGE(key_env, "--limit wants 1..100", "entitlement", "list", "--customer", "c", "--limit",
	    "0");
	USAGE(NULL, "no API key", "entitlement", "list", "--customer", "c");
	USAGE(key_env, "--plan and --credits exclude each other", "session", "create",
	    "--amount-minor", "1", "--currency", "EUR", "--plan", "p", "--credits", "5");
	USAGE(key_env, "--expires-in and --expires-at exclude each other", "session", "create",
	    "--amount-minor", "1", "--currency", "EUR", "--expires-in", "600", "--expires-at",
	    "1767312000");
	USAGE(key_env, "--expires-in wants seconds, 1..604800", "session", "create",
	    "--amount-minor", "1", "--currency", "EUR", "--expires-in", "604801");
	USAGE(key_env, "--expires-at wants a Unix time in seconds", "session", "create",
	    "--amount-minor", "1", "--currency", "EUR", "--expires-at", "-5");
	USAGE(key_env, "--grace and --now exclude each other", "key", "roll", "--grace", "60",
	    "--now");
	USAGE(key_env, "--grace wants seconds, 1..604800", "key", "roll", "--grace", "0");
	USAGE(key_env, "--mode wants test or live", "key", "create", "--mode", "prod");
	USAGE(NULL, "no API key", "key", "list");
	USAGE(key_env, "--credits is required", "credits", "deduct", "cust_1",
	    "--idempotency-key", "k");
	USAGE(key_env, "--credits wants an integer 1..1000000000", "credits", "deduct", "cust_1",
	    "--credits", "0", "--idempotency-key", "k");
	USAGE(key_env, "--idempotency-key is required", "credits", "deduct", "cust_1",
	    "--credits", "2");
	USAGE(key_env, "missing CUSTOMER", "credits", "balance");
	USAGE(NULL, "no API key", "credits", "balance", "cust_1");
	USAGE(key_env, "--limit wants 1..100", "credits", "list", "cust_1", "--limit", "101");
	USAGE(key_env, "--starting-after wants a seq", "credits", "list", "cust_1",
	    "--starting-after", "x");
	USAGE(NULL, "no admin key", "events", "quarantine", "list");
	USAGE(admin_env, "--limit wants 1..100", "events", "quarantine", "list", "--limit", "101");
	USAGE(admin_env, "--after wants an id", "events", "quarantine", "list", "--after", "x");
	USAGE(admin_env, "missing ID", "events", "quarantine", "retry");
	USAGE(admin_env, "missing ID", "events", "quarantine", "show");
	USAGE(admin_env, "unknown or missing verb", "events", "quarantine");
	USAGE(NULL, "no API key", "anomalies", "list");
	USAGE(key_env, "--limit wants 1..100", "anomalies", "list", "--limit", "0");
	USAGE(key_env, "--after wants a seq", "anomalies", "list", "--after", "-1");
	USAGE(key_env, "unexpected argument", "anomalies", "list", "extra");
	USAGE(key_env, "--metadata wants KEY=VALUE", "session", "create", "--amount-minor", "1",
	    "--currency", "EUR", "--metadata", "novalue");
	USAGE(NULL, "no API key", "session", "create", "--amount-minor", "1", "--currency", "EUR");
	USAGE(NULL, "no admin key", "merchant", "create", "--name", "x");
	USAGE(NULL, "--mode wants test or live", "merchant", "create", "--name", "x", "--mode",
	    "prod", "--admin-key", "a");
	USAGE(NULL, "missing SESSION_ID", "status");
	USAGE(NULL, "unexpected argument 'b'", "status", "a", "b");
	USAGE(NULL, "--timeout-ms wants 1..600000", "--timeout-ms", "abc", "status", "x");
	USAGE(NULL, "--retries wants 0..32", "status", "x", "--retries", "33");
	USAGE(NULL, "option --server needs a value", "status", "x", "--server");
	USAGE(NULL, "invalid server URL", "--server", "gopher://x", "status", "x");
	USAGE(NULL, "--provider wants stripe", "webhook", "send", "--provider", "paypal",
	    "--body-file", "/dev/null");
	USAGE(NULL, "--header wants 'Name: value'", "webhook", "send", "--provider", "stripe",
	    "--body-file", "/dev/null", "--header", "no-colon");
	USAGE(NULL, "cannot open --body-file", "webhook", "send", "--provider", "stripe",
	    "--body-file", "/nonexistent/body.json");
	USAGE(NULL, "--token is required", "access", "redeem", "cs_1");
#undef USAGE
	RUN(NULL, "--bogus");
	assert_int_equal(2, g_r.exit_code);
	/* No command at all: the tool's help on stderr, exit 2. */
	RUN(NULL, "--json");
	assert_int_equal(2, g_r.exit_code);
	assert_non_null(strstr(g_r.err, "usage: paywire"));
	assert_int_equal(before, testpeer_count(g_peer));
}

static void
test_amount_with_more_decimals_than_the_currency_is_refused_before_sending(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_k", NULL };
	uint32_t before = testpeer_count(g_peer);
	(void) state;

	RUN(key_env, "session", "create", "--amount", "49.001", "--currency", "EUR");
	assert_int_equal(2, g_r.exit_code);
	assert_non_null(strstr(g_r.err, "error: INVALID_ARGUMENT: --amount '49.001' is not an exact EUR amount"));
	RUN(key_env, "session", "create", "--amount", "5.5", "--currency", "JPY");
	assert_int_equal(2, g_r.exit_code);
	RUN(key_env, "session", "create", "--amount", "-1.00", "--currency", "EUR");
	assert_int_equal(2, g_r.exit_code);
	RUN(key_env, "session", "create", "--amount", "1e3", "--currency", "EUR");
	assert_int_equal(2, g_r.exit_code);
	RUN(key_env, "session", "create", "--amount", "10000000000.01", "--currency", "EUR");
	assert_int_equal(2, g_r.exit_code);
	RUN(key_env, "session", "create", "--amount", "1.50", "--currency", "eur");
	assert_int_equal(2, g_r.exit_code);
	assert_non_null(strstr(g_r.err, "known ISO 4217 currency"));
	assert_int_equal(before, testpeer_count(g_peer));
}

/* ---- output ---- */

static void
test_json_session_create_prints_exact_integers_of_minor_units(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_envkey", NULL };
	(void) state;

	/* The largest amount: 10^12 minor units, exact (a double would still
	 * hold it, but the conversion never goes near one). */
	RUN(key_env, "--json", "session", "create", "--amount", "10000000000.00", "--currency", "EUR",
	    "--metadata", "order=1001", "--metadata", "note=a=b", "--plan", "pro", "--email",
	    "jane@example.com", "--idempotency-key", "order-1001", "--request-id", "req_cli_1");
	assert_int_equal(0, g_r.exit_code);
	json_t *j = parse_json_out();
	assert_true(json_is_integer(json_object_get(j, "amount_minor")));
	assert_true(json_integer_value(json_object_get(j, "amount_minor")) == INT64_C(1000000000000));
	assert_string_equal("10000000000.00", json_string_value(json_object_get(j, "amount")));
	assert_string_equal("cs_0190cli", json_string_value(json_object_get(j, "id")));
	assert_string_equal("created", json_string_value(json_object_get(j, "status")));
	assert_string_equal("unpaid", json_string_value(json_object_get(j, "payment_status")));
	assert_string_equal("EUR", json_string_value(json_object_get(j, "currency")));
	assert_true(json_integer_value(json_object_get(j, "created_at_unix_ms")) == 1767225600000);
	json_decref(j);

	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("req_cli_1", rq->request_id);
	assert_string_equal("sk_test_envkey", rq->api_key);
	assert_true(rq->create_session->amount_minor == INT64_C(1000000000000));
	assert_int_equal(2, rq->create_session->n_metadata);
	assert_string_equal("note", rq->create_session->metadata[1]->key);
	assert_string_equal("a=b", rq->create_session->metadata[1]->value);
	assert_string_equal("pro", rq->create_session->fulfillment->plan);
	assert_string_equal("order-1001", rq->create_session->idempotency_key);
	paywire__v1__request__free_unpacked(rq, NULL);

	/* Exponent 3 (KWD) and 0 (JPY); --api-key beats the environment. */
	RUN(key_env, "--json", "session", "create", "--amount", "49", "--currency", "KWD",
	    "--api-key", "sk_test_flag");
	assert_int_equal(0, g_r.exit_code);
	j = parse_json_out();
	assert_int_equal(49000, json_integer_value(json_object_get(j, "amount_minor")));
	assert_string_equal("49.000", json_string_value(json_object_get(j, "amount")));
	json_decref(j);
	rq = cfx_request_last(g_peer);
	assert_string_equal("sk_test_flag", rq->api_key);
	paywire__v1__request__free_unpacked(rq, NULL);
	RUN(key_env, "session", "create", "--amount", "500", "--currency", "JPY", "--json");
	assert_int_equal(0, g_r.exit_code);
	j = parse_json_out();
	assert_int_equal(500, json_integer_value(json_object_get(j, "amount_minor")));
	json_decref(j);
}

static void
test_amount_minor_is_sent_as_it_is_for_the_server_to_judge(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_k", NULL };
	(void) state;
	RUN(key_env, "--json", "session", "create", "--amount-minor", "0", "--currency", "EUX");
	assert_int_equal(0, g_r.exit_code); /* this peer accepts anything */
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_int_equal(0, rq->create_session->amount_minor);
	assert_string_equal("EUX", rq->create_session->currency);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
test_subscription_session_and_entitlement_list(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_k", NULL };
	Paywire__V1__Request *rq;
	json_t *j, *arr, *e;

	(void) state;
	RUN(key_env, "session", "create", "--amount-minor", "900", "--currency", "EUR", "--plan",
	    "pro", "--subscription");
	assert_int_equal(0, g_r.exit_code);
	rq = cfx_request_last(g_peer);
	assert_non_null(rq->create_session->fulfillment);
	assert_int_equal(PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY,
	    rq->create_session->fulfillment->kind);
	assert_true(rq->create_session->fulfillment->subscription);
	paywire__v1__request__free_unpacked(rq, NULL);
	RUN(key_env, "session", "create", "--amount-minor", "900", "--currency", "EUR", "--plan",
	    "pro");
	rq = cfx_request_last(g_peer);
	assert_false(rq->create_session->fulfillment->subscription);
	paywire__v1__request__free_unpacked(rq, NULL);

	RUN(key_env, "--json", "entitlement", "list", "--customer", "cust_42", "--limit", "2",
	    "--starting-after", "ent_0190aaa");
	assert_int_equal(0, g_r.exit_code);
	rq = cfx_request_last(g_peer);
	assert_string_equal("cust_42", rq->get_entitlements->customer_ref);
	assert_int_equal(2, rq->get_entitlements->limit);
	assert_string_equal("ent_0190aaa", rq->get_entitlements->starting_after);
	paywire__v1__request__free_unpacked(rq, NULL);
	j = parse_json_out();
	assert_true(json_is_true(json_object_get(j, "has_more")));
	arr = json_object_get(j, "entitlements");
	assert_int_equal(2, json_array_size(arr));
	e = json_array_get(arr, 0);
	assert_string_equal("ent_0190pro", json_string_value(json_object_get(e, "id")));
	assert_string_equal("past_due", json_string_value(json_object_get(e, "state")));
	assert_true(json_is_false(json_object_get(e, "active")));
	assert_true(json_is_true(json_object_get(e, "subscription")));
	assert_true(json_integer_value(json_object_get(e, "current_period_end_unix_ms")) ==
	    INT64_C(1769904000000));
	assert_string_equal("ak_test_AbCd", json_string_value(json_object_get(e, "key_prefix")));
	assert_int_equal(2, json_array_size(json_object_get(e, "session_ids")));
	assert_string_equal("cs_0190b",
	    json_string_value(json_array_get(json_object_get(e, "session_ids"), 1)));
	e = json_array_get(arr, 1);
	assert_string_equal("revoked", json_string_value(json_object_get(e, "state")));
	assert_int_equal(0, json_array_size(json_object_get(e, "session_ids")));
	json_decref(j);
	/* the table: a header and one line each */
	RUN(key_env, "entitlement", "list", "--customer", "cust_42");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "period_end"));
	assert_non_null(strstr(g_r.out, "ent_0190pro"));
	assert_non_null(strstr(g_r.out, "past_due"));
	assert_non_null(strstr(g_r.out, "cs_0190a,cs_0190b"));
	assert_non_null(strstr(g_r.out, "2026-02-01T00:00:00Z"));
}

static void
test_key_list_shows_last_used_or_never(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_abc", NULL };
	json_t *j;
	json_t *arr;
	(void) state;

	RUN(key_env, "key", "list");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "last_used"));
	assert_non_null(strstr(g_r.out, "never"));                /* key_0190new */
	assert_non_null(strstr(g_r.out, "2026-01-02T00:01:00Z")); /* key_0190old */
	RUN(key_env, "--json", "key", "list");
	assert_int_equal(0, g_r.exit_code);
	j = parse_json_out();
	arr = json_object_get(j, "keys");
	assert_int_equal(2, json_array_size(arr));
	assert_true(json_integer_value(json_object_get(json_array_get(arr, 0),
	    "last_used_at_unix_ms")) == 0);
	assert_true(json_integer_value(json_object_get(json_array_get(arr, 1),
	    "last_used_at_unix_ms")) == INT64_C(1767312060000));
	json_decref(j);
	RUN(key_env, "key", "list", "--help");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "last used"));
}

static void
test_credit_packages_and_a_session_selling_one(void **state)
{
	static const char *const key_env[] = { "PAYWIRE_API_KEY=sk_test_k", NULL };
	uint32_t before;
	Paywire__V1__Request *rq;
	json_t *j, *arr;

	(void) state;
#define USAGE(env, needle, ...)                                  \
	do {                                                         \
		const char *const a_[] = { __VA_ARGS__, NULL };         \
		expect_usage_error(env, a_, needle);                     \
	} while (0)
	/* help, usage errors: nothing sent */
	RUN(NULL, "credits", "package", "create", "--help");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "usage: paywire credits package create CODE --credits N"));
	assert_non_null(strstr(g_r.out, "example"));
	assert_non_null(strstr(g_r.out, "archive the package and create another code"));
	RUN(NULL, "credits", "package", "list", "--help");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "--all"));
	RUN(NULL, "credits", "--help");
	assert_non_null(strstr(g_r.out, "paywire credits package archive CODE"));
	before = testpeer_count(g_peer);
	USAGE(key_env, "--credits is required", "credits", "package", "create", "p",
	    "--amount-minor", "1", "--currency", "EUR");
	USAGE(key_env, "--credits wants an integer 1..1000000000", "credits", "package", "create",
	    "p", "--credits", "0", "--amount-minor", "1", "--currency", "EUR");
	USAGE(key_env, "give exactly one of --amount and --amount-minor", "credits", "package",
	    "create", "p", "--credits", "5", "--currency", "EUR");
	USAGE(key_env, "--currency is required", "credits", "package", "create", "p", "--credits",
	    "5", "--amount", "1.00");
	USAGE(key_env, "not an exact EUR amount", "credits", "package", "create", "p", "--credits",
	    "5", "--amount", "1.001", "--currency", "EUR");
	USAGE(key_env, "missing CODE", "credits", "package", "create");
	USAGE(key_env, "missing CODE", "credits", "package", "archive");
	USAGE(key_env, "--limit wants 1..100", "credits", "package", "list", "--limit", "101");
	USAGE(NULL, "no API key", "credits", "package", "list");
	USAGE(key_env, "--package sells credits: it excludes --plan", "session", "create",
	    "--package", "p", "--plan", "pro");
	USAGE(key_env, "give exactly one of --amount and --amount-minor (or --package)", "session",
	    "create", "--currency", "EUR");
	assert_int_equal(before, testpeer_count(g_peer));
#undef USAGE

	/* create: the exact price in minor units */
	RUN(key_env, "--json", "credits", "package", "create", "pack_100", "--credits", "100",
	    "--amount", "9.90", "--currency", "EUR", "--name", "100 credits");
	assert_int_equal(0, g_r.exit_code);
	rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__REQUEST__CALL_CREATE_CREDIT_PACKAGE, rq->call_case);
	assert_string_equal("sk_test_k", rq->api_key);
	assert_string_equal("pack_100", rq->create_credit_package->code);
	assert_string_equal("100 credits", rq->create_credit_package->name);
	assert_int_equal(100, rq->create_credit_package->credits);
	assert_int_equal(990, rq->create_credit_package->amount_minor);
	assert_string_equal("EUR", rq->create_credit_package->currency);
	paywire__v1__request__free_unpacked(rq, NULL);
	j = parse_json_out();
	assert_string_equal("pack_100", json_string_value(json_object_get(j, "code")));
	assert_int_equal(990, json_integer_value(json_object_get(j, "amount_minor")));
	assert_int_equal(100, json_integer_value(json_object_get(j, "credits")));
	assert_string_equal("active", json_string_value(json_object_get(j, "state")));
	assert_true(json_is_true(json_object_get(j, "created")));
	json_decref(j);

	/* list: the flags go out as they are; a table */
	RUN(key_env, "--json", "credits", "package", "list", "--all", "--limit", "5",
	    "--starting-after", "pack_050");
	assert_int_equal(0, g_r.exit_code);
	rq = cfx_request_last(g_peer);
	assert_true(rq->list_credit_packages->include_archived);
	assert_int_equal(5, rq->list_credit_packages->limit);
	assert_string_equal("pack_050", rq->list_credit_packages->starting_after);
	paywire__v1__request__free_unpacked(rq, NULL);
	j = parse_json_out();
	arr = json_object_get(j, "packages");
	assert_int_equal(2, json_array_size(arr));
	assert_string_equal("archived",
	    json_string_value(json_object_get(json_array_get(arr, 1), "state")));
	assert_true(json_is_true(json_object_get(j, "has_more")));
	json_decref(j);
	RUN(key_env, "credits", "package", "list");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "pack_100"));
	assert_non_null(strstr(g_r.out, "next_starting_after"));
	rq = cfx_request_last(g_peer);
	assert_false(rq->list_credit_packages->include_archived);
	paywire__v1__request__free_unpacked(rq, NULL);

	/* archive */
	RUN(key_env, "credits", "package", "archive", "pack_200");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "archived"));
	rq = cfx_request_last(g_peer);
	assert_string_equal("pack_200", rq->archive_credit_package->code);
	paywire__v1__request__free_unpacked(rq, NULL);

	/* a session selling it: no amount, no currency, no fulfillment sent */
	RUN(key_env, "--json", "session", "create", "--package", "pack_100", "--customer-ref",
	    "cust_42");
	assert_int_equal(0, g_r.exit_code);
	rq = cfx_request_last(g_peer);
	assert_string_equal("pack_100", rq->create_session->credit_package);
	assert_int_equal(0, rq->create_session->amount_minor);
	assert_string_equal("", rq->create_session->currency);
	assert_null(rq->create_session->fulfillment);
	paywire__v1__request__free_unpacked(rq, NULL);
	j = parse_json_out();
	assert_string_equal("pack_100", json_string_value(json_object_get(j, "credit_package")));
	assert_int_equal(990, json_integer_value(json_object_get(j, "amount_minor")));
	json_decref(j);
	/* with the price given too, it goes as given (the server compares) */
	RUN(key_env, "session", "create", "--package", "pack_100", "--amount", "9.90",
	    "--currency", "EUR");
	assert_int_equal(0, g_r.exit_code);
	rq = cfx_request_last(g_peer);
	assert_int_equal(990, rq->create_session->amount_minor);
	assert_string_equal("EUR", rq->create_session->currency);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
test_session_mode_defaults_to_the_mode_of_the_keys_prefix(void **state)
{
	static const char *const live_env[] = { "PAYWIRE_API_KEY=sk_live_abc", NULL };
	static const char *const test_env[] = { "PAYWIRE_API_KEY=sk_test_abc", NULL };
	(void) state;
	RUN(live_env, "session", "create", "--amount-minor", "100", "--currency", "EUR");
	assert_int_equal(0, g_r.exit_code);
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE, rq->create_session->mode);
	paywire__v1__request__free_unpacked(rq, NULL);
	RUN(test_env, "session", "create", "--amount-minor", "100", "--currency", "EUR");
	rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_TEST, rq->create_session->mode);
	paywire__v1__request__free_unpacked(rq, NULL);
	/* An explicit --mode wins (the server decides whether the key may). */
	RUN(test_env, "session", "create", "--amount-minor", "100", "--currency", "EUR", "--mode",
	    "live");
	rq = cfx_request_last(g_peer);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE, rq->create_session->mode);
	assert_int_equal(0, rq->create_session->expires_at_unix_ms); /* the server's default */
	paywire__v1__request__free_unpacked(rq, NULL);
	/* --expires-at is sent as Unix milliseconds; --expires-in counts from now. */
	RUN(test_env, "session", "create", "--amount-minor", "100", "--currency", "EUR",
	    "--expires-at", "1767312000");
	rq = cfx_request_last(g_peer);
	assert_true(rq->create_session->expires_at_unix_ms == INT64_C(1767312000000));
	paywire__v1__request__free_unpacked(rq, NULL);
	int64_t before = pw_now_unix_ms();
	RUN(test_env, "session", "create", "--amount-minor", "100", "--currency", "EUR",
	    "--expires-in", "600");
	rq = cfx_request_last(g_peer);
	assert_true(rq->create_session->expires_at_unix_ms >= before + 600000);
	assert_true(rq->create_session->expires_at_unix_ms <= pw_now_unix_ms() + 600000);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
test_status_prints_aligned_key_value_lines(void **state)
{
	size_t colon_col = 0;
	size_t lines = 0;
	(void) state;

	RUN(NULL, "status", "cs_abc");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "        status: paid\n"));
	assert_non_null(strstr(g_r.out, "payment_status: completed\n"));
	assert_non_null(strstr(g_r.out, "payment_provider: razorpay\n"));
	assert_non_null(strstr(g_r.out, " amount: 499.00 INR\n"));
	assert_non_null(strstr(g_r.out, " amount_minor: 49900\n"));
	assert_non_null(strstr(g_r.out, " paid_at: 2026-01-01T00:01:00.123Z\n"));
	assert_null(strstr(g_r.out, "access_link")); /* the session id alone: status only */
	assert_non_null(strstr(g_r.out, " expires_at: 2026-01-02T00:00:00.000Z\n"));
	for (char *line = g_r.out; *line != '\0'; lines++) {
		char *nl = strchr(line, '\n');
		char *colon = strstr(line, ": ");
		assert_non_null(nl);
		assert_true(colon != NULL && colon < nl);
		if (colon_col == 0) {
			colon_col = (size_t) (colon - line);
		}
		assert_int_equal(colon_col, (size_t) (colon - line));
		line = nl + 1;
	}
	assert_int_equal(14, lines);
	RUN(NULL, "status", "cs_abc", "--secret", "cks_x");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, " merchant_name: Acme\n"));
	assert_non_null(strstr(g_r.out, " plan: pro\n"));
	assert_non_null(strstr(g_r.out, " access_link: /access/cs_abc?token=eyJ.x.y\n"));
	RUN(NULL, "status", "--json", "cs_abc");
	json_t *j = parse_json_out();
	assert_int_equal(42, json_integer_value(json_object_get(j, "invoice_number")));
	assert_true(json_integer_value(json_object_get(j, "paid_at_unix_ms")) == 1767225660123);
	assert_true(json_integer_value(json_object_get(j, "expires_at_unix_ms")) == 1767312000000);
	assert_string_equal("live", json_string_value(json_object_get(j, "mode")));
	json_decref(j);
}

static void
test_server_error_prints_code_name_and_message_and_exits_1(void **state)
{
	(void) state;
	atomic_store(&g_fail_code, 5);
	RUN(NULL, "status", "cs_gone");
	assert_int_equal(1, g_r.exit_code);
	assert_string_equal("error: NOT_FOUND: session not found\n", g_r.err);
	assert_string_equal("", g_r.out);
	RUN(NULL, "--json", "status", "cs_gone");
	assert_int_equal(1, g_r.exit_code);
	assert_string_equal("", g_r.out);
}

static void
test_admin_key_never_appears_in_the_output(void **state)
{
	(void) state;
	atomic_store(&g_fail_code, 16);
	RUN(NULL, "merchant", "create", "--name", "Shop", "--admin-key", "adm_SECRET_9f8e7d");
	assert_int_equal(1, g_r.exit_code);
	assert_string_equal("error: UNAUTHENTICATED: admin key does not match\n", g_r.err);
	assert_null(strstr(g_r.out, "adm_SECRET_9f8e7d"));
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("adm_SECRET_9f8e7d", rq->api_key);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
test_merchant_create_prints_the_key_once_with_a_note(void **state)
{
	static const char *const adm_env[] = { "PAYWIRE_ADMIN_KEY=adm_env", NULL };
	(void) state;
	RUN(adm_env, "merchant", "create", "--name", "Demo shop", "--mode", "live");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "    api_key: sk_test_newkey\n"));
	assert_non_null(strstr(g_r.out, "merchant_id: mer_new\n"));
	assert_non_null(strstr(g_r.out, "       mode: live\n"));
	assert_non_null(strstr(g_r.err, "shown once"));
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	assert_string_equal("adm_env", rq->api_key);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE, rq->create_merchant->mode);
	paywire__v1__request__free_unpacked(rq, NULL);
	RUN(adm_env, "--json", "merchant", "create", "--name", "Demo shop");
	json_t *j = parse_json_out();
	assert_string_equal("sk_test_newkey", json_string_value(json_object_get(j, "api_key")));
	assert_string_equal("test", json_string_value(json_object_get(j, "mode")));
	json_decref(j);
}

static void
test_audit_verify_exit_code_follows_the_chain(void **state)
{
	static const char *const adm_env[] = { "PAYWIRE_ADMIN_KEY=adm", NULL };
	(void) state;
	RUN(adm_env, "audit", "verify");
	assert_int_equal(0, g_r.exit_code);
	assert_non_null(strstr(g_r.out, "ok: yes\n"));
	atomic_store(&g_audit_ok, false);
	RUN(adm_env, "--json", "audit", "verify");
	assert_int_equal(1, g_r.exit_code);
	json_t *j = parse_json_out();
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_int_equal(4, json_integer_value(json_object_get(j, "first_bad_seq")));
	assert_string_equal("ab00000000000000000000000000000000000000000000000000000000000000",
	    json_string_value(json_object_get(j, "head_hash")));
	json_decref(j);
}

static void
test_webhook_send_forwards_file_bytes_and_lower_case_headers(void **state)
{
	static const char body[] = "{\"id\":\"evt_1\",\r\n\"x\":\"\xc3\xa9\"}\n";
	char path[256];
	(void) state;

	snprintf(path, sizeof(path), "%s/body.json", testpeer_dir(g_peer));
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(sizeof(body) - 1, fwrite(body, 1, sizeof(body) - 1, f));
	fclose(f);
	RUN(NULL, "--json", "webhook", "send", "--provider", "onecom", "--body-file", path,
	    "--header", "Webhook-Id:  msg_1 ", "--header", "webhook-signature: v1,abc=");
	unlink(path);
	assert_int_equal(0, g_r.exit_code);
	json_t *j = parse_json_out();
	assert_string_equal("applied", json_string_value(json_object_get(j, "outcome")));
	assert_string_equal("paid", json_string_value(json_object_get(j, "session_status")));
	json_decref(j);
	Paywire__V1__Request *rq = cfx_request_last(g_peer);
	const Paywire__V1__IngestWebhookRequest *iw = rq->ingest_webhook;
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_ONECOM, iw->provider);
	assert_int_equal(sizeof(body) - 1, iw->body.len);
	assert_memory_equal(body, iw->body.data, sizeof(body) - 1);
	assert_int_equal(2, iw->n_headers);
	assert_string_equal("webhook-id", iw->headers[0]->key);
	assert_string_equal("msg_1", iw->headers[0]->value);
	assert_string_equal("webhook-signature", iw->headers[1]->key);
	assert_string_equal("v1,abc=", iw->headers[1]->value);
	paywire__v1__request__free_unpacked(rq, NULL);
}

static void
test_no_server_is_exit_1_unavailable(void **state)
{
	char url[256];
	(void) state;
	snprintf(url, sizeof(url), "ipc://%s/nobody.sock", testpeer_dir(g_peer));
	RUN(NULL, "--server", url, "--timeout-ms", "100", "--retries", "1", "status", "cs_x");
	assert_int_equal(1, g_r.exit_code);
	assert_non_null(strstr(g_r.err, "error: UNAVAILABLE: cannot connect to the server at ipc://"));
}

/* With nothing listening, every command answers exit 1 with UNAVAILABLE,
 * the address it tried and what set it, at once: each waits up to 600 s per
 * attempt with 32 retries here, so a refusal that were retried like a
 * timeout would hit run_cli's 30 s bound (exit_code -1) instead. */
static void
test_no_server_every_command_fails_at_once_naming_the_address(void **state)
{
	char url[256];
	char env_server[300];
	char body[256];
	char want[512];
	(void) state;

	snprintf(url, sizeof(url), "ipc://%s/nobody.sock", testpeer_dir(g_peer));
	snprintf(env_server, sizeof(env_server), "PAYWIRE_SERVER=%s", url);
	snprintf(body, sizeof(body), "%s/evt.json", testpeer_dir(g_peer));
	FILE *f = fopen(body, "w");
	assert_non_null(f);
	fputs("{}", f);
	fclose(f);
	const char *const env[] = { env_server, "PAYWIRE_ADMIN_KEY=adm_cli_test", NULL };
	const char *const cmds[][8] = {
		{ "status", "cs_x", NULL },
		{ "session", "create", "--amount", "1.00", "--currency", "EUR", "--api-key", "sk_test_k" },
		{ "merchant", "create", "--name", "Shop", NULL },
		{ "key", "revoke", "sk_test_k", NULL },
		{ "webhook", "send", "--provider", "stripe", "--body-file", body, NULL },
		{ "access", "redeem", "cs_x", "--token", "t.t.t", NULL },
		{ "audit", "verify", NULL },
	};
	uint32_t before = testpeer_count(g_peer);

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *args[16] = { "--timeout-ms", "600000", "--retries", "32" };
		size_t n = 4;
		for (size_t k = 0; k < 8 && cmds[i][k] != NULL; k++) {
			args[n++] = cmds[i][k];
		}
		args[n] = NULL;
		run_cli(&g_r, env, args);
		if (g_r.exit_code != 1) {
			print_error("%s: exit %d, stderr: %s\n", cmds[i][0], g_r.exit_code, g_r.err);
		}
		assert_int_equal(1, g_r.exit_code);
		snprintf(want, sizeof(want), "error: UNAVAILABLE: cannot connect to the server at %s: ", url);
		assert_non_null(strstr(g_r.err, want));
		snprintf(want, sizeof(want), "server: %s (from PAYWIRE_SERVER; --server URL overrides it)\n",
		    url);
		assert_non_null(strstr(g_r.err, want));
		assert_string_equal("", g_r.out);
	}
	/* the flag names itself */
	RUN(NULL, "--server", url, "--timeout-ms", "600000", "status", "cs_x");
	assert_int_equal(1, g_r.exit_code);
	snprintf(want, sizeof(want), "server: %s (from --server)\n", url);
	assert_non_null(strstr(g_r.err, want));
	assert_int_equal(before, testpeer_count(g_peer)); /* the peer saw none of it */
	unlink(body);
}

/* ---- merchant credentials ---- */

#define T_CREDS_SECRET "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz"

static void
test_merchant_credentials_set_reads_the_secret_from_stdin_and_never_prints_it(void **state)
{
	static const char *const admin_env[] = { "PAYWIRE_ADMIN_KEY=adm_test_cli_key", NULL };
	(void) state;

	g_stdin_text = T_CREDS_SECRET "\n";
	g_creds_secret[0] = '\0';
	RUN(admin_env, "merchant", "credentials", "set", "mer_cli", "--provider", "stripe", "--mode",
	    "test");
	g_stdin_text = NULL;
	if (g_r.exit_code != 0) {
		fail_msg("exit %d: %s", g_r.exit_code, g_r.err);
	}
	/* what went to the server: the line read, without its newline */
	assert_string_equal(T_CREDS_SECRET, g_creds_secret);
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE, g_creds_provider);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_TEST, g_creds_mode);
	assert_string_equal("", g_creds_key_id);
	assert_non_null(strstr(g_r.out, "sk_test_AbCd\xe2\x80\xa6wxyz"));
	assert_non_null(strstr(g_r.out, "mer_cli"));
	assert_null(strstr(g_r.out, T_CREDS_SECRET));
	assert_null(strstr(g_r.err, T_CREDS_SECRET));

	/* razorpay, --key-id, JSON */
	g_stdin_text = "thisIsARazorpaySecret42q\r\n";
	RUN(admin_env, "--json", "merchant", "credentials", "set", "mer_cli", "--provider",
	    "razorpay", "--mode", "live", "--key-id", "rzp_live_1DP5mmOlF5G5ag");
	g_stdin_text = NULL;
	assert_int_equal(0, g_r.exit_code);
	assert_string_equal("thisIsARazorpaySecret42q", g_creds_secret);
	assert_string_equal("rzp_live_1DP5mmOlF5G5ag", g_creds_key_id);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE, g_creds_mode);
	json_t *j = parse_json_out();
	assert_string_equal("razorpay", json_string_value(json_object_get(j, "provider")));
	assert_string_equal("live", json_string_value(json_object_get(j, "mode")));
	json_decref(j);
	assert_null(strstr(g_r.out, "thisIsARazorpaySecret42q"));

	/* the listing: hints only */
	RUN(admin_env, "merchant", "credentials", "list", "mer_cli");
	assert_int_equal(0, g_r.exit_code);
	assert_string_equal("mer_cli", g_creds_key_id);
	assert_non_null(strstr(g_r.out, "sk_test_AbCd\xe2\x80\xa6wxyz"));
	assert_non_null(strstr(g_r.out, "rzp_live_1DP5mmOlF5G5ag"));
	RUN(admin_env, "--json", "merchant", "credentials", "list", "mer_cli");
	assert_int_equal(0, g_r.exit_code);
	j = parse_json_out();
	json_t *arr = json_object_get(j, "credentials");
	assert_int_equal(2, json_array_size(arr));
	assert_string_equal("\xe2\x80\xa6t42q",
	    json_string_value(json_object_get(json_array_get(arr, 1), "secret_hint")));
	json_decref(j);

	/* delete: an empty secret goes to the server */
	strcpy(g_creds_secret, "x");
	RUN(admin_env, "merchant", "credentials", "delete", "mer_cli", "--provider", "razorpay",
	    "--mode", "live");
	assert_int_equal(0, g_r.exit_code);
	assert_string_equal("", g_creds_secret);
	assert_non_null(strstr(g_r.out, "deleted"));

	/* the secret never on the command line: no option takes it */
	uint32_t before = testpeer_count(g_peer);
	g_stdin_text = T_CREDS_SECRET "\n";
	RUN(admin_env, "merchant", "credentials", "set", "mer_cli", "--provider", "stripe", "--mode",
	    "test", "--secret", T_CREDS_SECRET);
	g_stdin_text = NULL;
	assert_int_equal(2, g_r.exit_code);
	assert_non_null(strstr(g_r.err, "unknown option --secret"));
	assert_int_equal(before, testpeer_count(g_peer));
}

#define USAGE(env, needle, ...)                                  \
	do {                                                         \
		const char *const a_[] = { __VA_ARGS__, NULL };         \
		expect_usage_error(env, a_, needle);                     \
	} while (0)

static void
test_merchant_credentials_usage_errors_send_nothing(void **state)
{
	static const char *const admin_env[] = { "PAYWIRE_ADMIN_KEY=adm_test_cli_key", NULL };
	uint32_t before = testpeer_count(g_peer);
	(void) state;

	g_stdin_text = "";
	USAGE(admin_env, "no secret on standard input", "merchant", "credentials", "set", "m_1",
	    "--provider", "stripe", "--mode", "test");
	g_stdin_text = "\n";
	USAGE(admin_env, "no secret on standard input", "merchant", "credentials", "set", "m_1",
	    "--provider", "stripe", "--mode", "test");
	g_stdin_text = T_CREDS_SECRET T_CREDS_SECRET T_CREDS_SECRET T_CREDS_SECRET T_CREDS_SECRET
	    T_CREDS_SECRET "\n";
	USAGE(admin_env, "longer than 255 bytes", "merchant", "credentials", "set", "m_1",
	    "--provider", "stripe", "--mode", "test");
	assert_null(strstr(g_r.err, T_CREDS_SECRET));
	g_stdin_text = T_CREDS_SECRET "\n";
	USAGE(admin_env, "--provider is required", "merchant", "credentials", "set", "m_1",
	    "--mode", "test");
	USAGE(admin_env, "--provider wants stripe or razorpay, got 'paypal'", "merchant",
	    "credentials", "set", "m_1", "--provider", "paypal", "--mode", "test");
	USAGE(admin_env, "--mode is required", "merchant", "credentials", "set", "m_1",
	    "--provider", "stripe");
	USAGE(admin_env, "--mode wants test or live", "merchant", "credentials", "set", "m_1",
	    "--provider", "stripe", "--mode", "prod");
	USAGE(admin_env, "missing MERCHANT_ID", "merchant", "credentials", "set", "--provider",
	    "stripe", "--mode", "test");
	USAGE(NULL, "no admin key", "merchant", "credentials", "set", "m_1", "--provider", "stripe",
	    "--mode", "test");
	g_stdin_text = NULL;
	USAGE(admin_env, "unknown option --key-id", "merchant", "credentials", "delete", "m_1",
	    "--provider", "razorpay", "--mode", "test", "--key-id", "rzp_test_x");
	USAGE(admin_env, "--mode is required", "merchant", "credentials", "delete", "m_1",
	    "--provider", "razorpay");
	USAGE(admin_env, "missing MERCHANT_ID", "merchant", "credentials", "list");
	USAGE(NULL, "no admin key", "merchant", "credentials", "list", "m_1");
	assert_int_equal(before, testpeer_count(g_peer));
	/* help */
	static const char *const verbs[] = { "set", "list", "delete" };
	char want[80];
	for (size_t i = 0; i < 3; i++) {
		RUN(NULL, "merchant", "credentials", verbs[i], "--help");
		snprintf(want, sizeof(want), "usage: paywire merchant credentials %s", verbs[i]);
		assert_int_equal(0, g_r.exit_code);
		assert_non_null(strstr(g_r.out, want));
		assert_non_null(strstr(g_r.out, "example"));
	}
	/* a server refusal: code and message, exit 1 */
	atomic_store(&g_fail_code, 3);
	g_stdin_text = T_CREDS_SECRET "\n";
	RUN(admin_env, "merchant", "credentials", "set", "m_1", "--provider", "stripe", "--mode",
	    "test");
	g_stdin_text = NULL;
	atomic_store(&g_fail_code, 0);
	assert_int_equal(1, g_r.exit_code);
	assert_non_null(strstr(g_r.err, "error: INVALID_ARGUMENT"));
	assert_null(strstr(g_r.err, T_CREDS_SECRET));
	assert_null(strstr(g_r.out, T_CREDS_SECRET));
}
#undef USAGE

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_tool_help_exits_0_and_documents_commands_and_exit_codes, reset),
		cmocka_unit_test_setup(test_each_command_help_exits_0_with_usage_and_an_example, reset),
		cmocka_unit_test_setup(test_usage_errors_exit_2_and_send_nothing, reset),
		cmocka_unit_test_setup(
		    test_amount_with_more_decimals_than_the_currency_is_refused_before_sending, reset),
		cmocka_unit_test_setup(test_json_session_create_prints_exact_integers_of_minor_units, reset),
		cmocka_unit_test_setup(test_amount_minor_is_sent_as_it_is_for_the_server_to_judge, reset),
		cmocka_unit_test_setup(test_session_mode_defaults_to_the_mode_of_the_keys_prefix, reset),
		cmocka_unit_test_setup(test_subscription_session_and_entitlement_list, reset),
		cmocka_unit_test_setup(test_key_list_shows_last_used_or_never, reset),
		cmocka_unit_test_setup(test_credit_packages_and_a_session_selling_one, reset),
		cmocka_unit_test_setup(test_status_prints_aligned_key_value_lines, reset),
		cmocka_unit_test_setup(test_server_error_prints_code_name_and_message_and_exits_1, reset),
		cmocka_unit_test_setup(test_admin_key_never_appears_in_the_output, reset),
		cmocka_unit_test_setup(test_merchant_create_prints_the_key_once_with_a_note, reset),
		cmocka_unit_test_setup(test_audit_verify_exit_code_follows_the_chain, reset),
		cmocka_unit_test_setup(test_webhook_send_forwards_file_bytes_and_lower_case_headers, reset),
		cmocka_unit_test_setup(test_no_server_is_exit_1_unavailable, reset),
		cmocka_unit_test_setup(
		    test_merchant_credentials_set_reads_the_secret_from_stdin_and_never_prints_it, reset),
		cmocka_unit_test_setup(test_merchant_credentials_usage_errors_send_nothing, reset),
		cmocka_unit_test_setup(test_no_server_every_command_fails_at_once_naming_the_address, reset),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
