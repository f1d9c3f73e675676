/*
 * server_creds_test.c - SetProviderCredentials and ListProviderCredentials
 * through a real server (in-process, on ipc:// in a temp dir): the admin key
 * only; every refusal answers its code and reason and writes nothing; a
 * secret is set, replaced, listed as a hint, deleted (empty secret); the
 * secret is in no reply, no error message, no log line (debug level) and not
 * in the data file (the stored reply included); a retry with the same
 * request_id answers the same hint-only reply.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_harness.h"

enum { C_OK = 0, C_INVALID = 3, C_NOT_FOUND = 5, C_FAILED_PRECONDITION = 9, C_UNAUTH = 16 };

#define T_SK_TEST "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz"
#define T_SK_TEST2 "sk_test_51SecondSecondSecondSecond000000abcd"
#define T_SK_LIVE "sk_live_51LiveLiveLiveLiveLiveLiveLive9999"
#define T_RZP_ID "rzp_test_1DP5mmOlF5G5ag"
#define T_RZP_SECRET "thisIsARazorpaySecret42q"

static th_env F; /* server, REQ socket, a test-mode merchant */
static char live_key[128];
static char live_mid[64];
static char log_path[TH_PATH_BYTES];
static int saved_stderr = -1;

static int
group_setup(void **state)
{
	int fd;

	(void) state;
	/* every log line of the server (debug included) goes to a file read below */
	snprintf(log_path, sizeof(log_path), "/tmp/pw_server_creds_log_%d", (int) getpid());
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_int_equal(2, dup2(fd, 2));
	close(fd);
	pw_log_set_level(PW_LOG_DEBUG);
	th_env_start(&F, 4);
	th_merchant_create(F.sock, PAYWIRE__V1__MODE__MODE_LIVE, live_key, live_mid);
	return 0;
}

static int
group_teardown(void **state)
{
	(void) state;
	th_env_stop(&F);
	fflush(stderr);
	(void) dup2(saved_stderr, 2);
	close(saved_stderr);
	unlink(log_path);
	return 0;
}

static bool
file_contains(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	size_t nlen = strlen(needle);
	size_t cap = 0;
	size_t len = 0;
	char *buf = NULL;
	bool found = false;

	if (f == NULL) {
		return false;
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 1u << 20 : cap * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0) {
			break;
		}
		len += n;
	}
	fclose(f);
	for (size_t i = 0; !found && nlen <= len && i <= len - nlen; i++) {
		found = memcmp(buf + i, needle, nlen) == 0;
	}
	free(buf);
	return found;
}

static Paywire__V1__Response *
set_creds(const char *api_key, const char *rid, const char *mid, Paywire__V1__Provider p,
    Paywire__V1__Mode mode, const char *key_id, const char *secret)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__SetProviderCredentialsRequest r =
	    PAYWIRE__V1__SET_PROVIDER_CREDENTIALS_REQUEST__INIT;
	Paywire__V1__Response *resp;

	r.merchant_id = (char *) mid;
	r.provider = p;
	r.mode = mode;
	r.key_id = (char *) key_id;
	r.secret = (char *) secret;
	req.request_id = (char *) rid;
	req.api_key = (char *) api_key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_SET_PROVIDER_CREDENTIALS;
	req.set_provider_credentials = &r;
	resp = th_call(F.sock, &req, NULL);
	assert_non_null(resp);
	assert_non_null(resp->status);
	return resp;
}

static Paywire__V1__Response *
list_creds(const char *api_key, const char *mid)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__ListProviderCredentialsRequest r =
	    PAYWIRE__V1__LIST_PROVIDER_CREDENTIALS_REQUEST__INIT;
	Paywire__V1__Response *resp;

	r.merchant_id = (char *) mid;
	req.api_key = (char *) api_key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_LIST_PROVIDER_CREDENTIALS;
	req.list_provider_credentials = &r;
	resp = th_call(F.sock, &req, NULL);
	assert_non_null(resp);
	assert_non_null(resp->status);
	return resp;
}

/* A refused set: code, a part of the message, nothing written, the secret
 * not in the message. */
static void
expect_refused(const char *mid, Paywire__V1__Provider p, Paywire__V1__Mode mode,
    const char *key_id, const char *secret, int code, const char *why_part)
{
	uint64_t before = store_last_txnid(F.srv.st);
	Paywire__V1__Response *resp;
	char rid[64];

	th_request_id(rid, sizeof(rid));
	resp = set_creds(TH_ADMIN_KEY, rid, mid, p, mode, key_id, secret);
	if (resp->status->code != code || strstr(resp->status->message, why_part) == NULL) {
		fail_msg("expected %d '%s', got %d: %s", code, why_part, resp->status->code,
		    resp->status->message);
	}
	if (secret != NULL && secret[0] != '\0') {
		assert_null(strstr(resp->status->message, secret));
	}
	assert_int_equal(PAYWIRE__V1__RESPONSE__RESULT__NOT_SET, resp->result_case);
	th_resp_free(resp);
	assert_int_equal(before, store_last_txnid(F.srv.st));
}

static void
test_every_refusal_answers_its_code_and_writes_nothing(void **state)
{
	const Paywire__V1__Provider S = PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE;
	const Paywire__V1__Provider R = PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY;
	const Paywire__V1__Mode T = PAYWIRE__V1__MODE__MODE_TEST;
	const Paywire__V1__Mode L = PAYWIRE__V1__MODE__MODE_LIVE;
	char long_mid[PW_REPLY_SCOPE_BYTES_MAX + 2];
	char long_secret[PW_PROVIDER_SECRET_BYTES_MAX + 2];
	char long_kid[PW_PROVIDER_KEY_ID_BYTES_MAX + 2];

	(void) state;
	memset(long_mid, 'm', sizeof(long_mid) - 1);
	long_mid[sizeof(long_mid) - 1] = '\0';
	memset(long_secret, 'a', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	memcpy(long_secret, "sk_test_", 8);
	memset(long_kid, 'k', sizeof(long_kid) - 1);
	long_kid[sizeof(long_kid) - 1] = '\0';
	memcpy(long_kid, "rzp_test_", 9);

	expect_refused("m_nobody", S, T, "", T_SK_TEST, C_NOT_FOUND, "no merchant m_nobody");
	expect_refused("", S, T, "", T_SK_TEST, C_INVALID, "merchant_id must be 1..64 bytes");
	expect_refused(long_mid, S, T, "", T_SK_TEST, C_INVALID, "merchant_id must be 1..64 bytes");
	expect_refused("m x", S, T, "", T_SK_TEST, C_INVALID, "printable ASCII");
	expect_refused(F.mid, PAYWIRE__V1__PROVIDER__PROVIDER_ONECOM, T, "", T_SK_TEST, C_INVALID,
	    "paywire makes no calls to onecom");
	expect_refused(F.mid, PAYWIRE__V1__PROVIDER__PROVIDER_WEB3, T, "", T_SK_TEST, C_INVALID,
	    "paywire makes no calls to web3");
	expect_refused(F.mid, PAYWIRE__V1__PROVIDER__PROVIDER_UNSPECIFIED, T, "", T_SK_TEST,
	    C_INVALID, "provider must be PROVIDER_STRIPE (1) or PROVIDER_RAZORPAY (2), got 0");
	expect_refused(F.mid, S, PAYWIRE__V1__MODE__MODE_UNSPECIFIED, "", T_SK_TEST, C_INVALID,
	    "mode must be MODE_TEST (1) or MODE_LIVE (2)");
	/* a test key cannot create a live provider session, nor a live key a test one */
	expect_refused(live_mid, S, L, "", T_SK_TEST, C_INVALID,
	    "a stripe test key cannot be set for mode live");
	expect_refused(live_mid, S, T, "", T_SK_LIVE, C_INVALID,
	    "a stripe live key cannot be set for mode test");
	expect_refused(live_mid, R, L, T_RZP_ID, T_RZP_SECRET, C_INVALID,
	    "a razorpay test key cannot be set for mode live");
	expect_refused(live_mid, R, T, "rzp_live_1DP5mmOlF5G5ag", T_RZP_SECRET, C_INVALID,
	    "a razorpay live key cannot be set for mode test");
	expect_refused(F.mid, S, T, "", "pk_test_51AbCdEfGhIjKlMnOpQrSt", C_INVALID,
	    "sk_test_, sk_live_, rk_test_ or rk_live_");
	expect_refused(F.mid, S, T, "key_1", T_SK_TEST, C_INVALID, "key_id must be empty for stripe");
	expect_refused(F.mid, S, T, "", "sk_test_tooShort", C_INVALID, "at least 16 characters");
	expect_refused(F.mid, S, T, "", long_secret, C_INVALID, "secret is longer than 255 bytes");
	expect_refused(F.mid, S, T, "", "sk_test_51AbCdEf\x7fGhIjKlMnOpQr", C_INVALID,
	    "secret must be printable ASCII without spaces");
	expect_refused(F.mid, S, T, "", "sk_test_51AbCdEf GhIjKlMnOpQr", C_INVALID,
	    "secret must be printable ASCII without spaces");
	expect_refused(F.mid, R, T, "", T_RZP_SECRET, C_INVALID, "rzp_test_ or rzp_live_");
	expect_refused(F.mid, R, T, long_kid, T_RZP_SECRET, C_INVALID, "key_id is longer than 63");
	expect_refused(F.mid, R, T, "rzp_test_", T_RZP_SECRET, C_INVALID, "key_id has at least");
	expect_refused(F.mid, R, T, T_RZP_ID, "short", C_INVALID, "key secret has at least");
	/* a delete names no key id */
	expect_refused(F.mid, R, T, T_RZP_ID, "", C_INVALID, "key_id must be empty with an empty");
	/* a delete of what is not there */
	expect_refused(F.mid, R, T, "", "", C_NOT_FOUND, "has no razorpay test credentials");
	/* a test merchant holds no live credentials */
	expect_refused(F.mid, S, L, "", T_SK_LIVE, C_FAILED_PRECONDITION, "test merchant");

	/* not the admin key: a merchant's own key cannot set or list */
	{
		Paywire__V1__Response *resp;
		uint64_t before = store_last_txnid(F.srv.st);
		resp = set_creds(F.key, "req_creds_merchant", F.mid, S, T, "", T_SK_TEST);
		assert_int_equal(C_UNAUTH, resp->status->code);
		th_resp_free(resp);
		resp = list_creds(F.key, F.mid);
		assert_int_equal(C_UNAUTH, resp->status->code);
		th_resp_free(resp);
		resp = list_creds(TH_ADMIN_KEY, "m_nobody");
		assert_int_equal(C_NOT_FOUND, resp->status->code);
		assert_non_null(strstr(resp->status->message, "no merchant m_nobody"));
		th_resp_free(resp);
		resp = list_creds(TH_ADMIN_KEY, "");
		assert_int_equal(C_INVALID, resp->status->code);
		th_resp_free(resp);
		assert_int_equal(before, store_last_txnid(F.srv.st));
	}
}

static void
test_set_replace_list_delete_and_the_secret_is_nowhere(void **state)
{
	Paywire__V1__Response *resp;
	Paywire__V1__Response *again;
	char path[TH_PATH_BYTES + 16];
	char rid[64];

	(void) state;
	th_request_id(rid, sizeof(rid));
	resp = set_creds(TH_ADMIN_KEY, rid, live_mid, PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    PAYWIRE__V1__MODE__MODE_TEST, "", T_SK_TEST);
	assert_int_equal(C_OK, resp->status->code);
	assert_int_equal(PAYWIRE__V1__RESPONSE__RESULT_SET_PROVIDER_CREDENTIALS, resp->result_case);
	assert_false(resp->set_provider_credentials->deleted);
	assert_string_equal("sk_test_51Ab\xe2\x80\xa6wxyz",
	    resp->set_provider_credentials->credentials->secret_hint);
	assert_int_equal(PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    resp->set_provider_credentials->credentials->provider);
	/* a retry with the same request_id: the same reply, from the stored copy */
	uint64_t before = store_last_txnid(F.srv.st);
	again = set_creds(TH_ADMIN_KEY, rid, live_mid, PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    PAYWIRE__V1__MODE__MODE_TEST, "", T_SK_TEST);
	assert_int_equal(C_OK, again->status->code);
	assert_string_equal(resp->set_provider_credentials->credentials->secret_hint,
	    again->set_provider_credentials->credentials->secret_hint);
	assert_int_equal(resp->set_provider_credentials->credentials->updated_at_unix_ms,
	    again->set_provider_credentials->credentials->updated_at_unix_ms);
	assert_int_equal(before, store_last_txnid(F.srv.st));
	th_resp_free(again);
	th_resp_free(resp);

	/* the server reads what it will call the provider with */
	store_provider_creds c;
	assert_int_equal(PW_OK, store_provider_creds_get(F.srv.st, live_mid, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(T_SK_TEST, c.secret);
	sodium_memzero(&c, sizeof(c));

	/* replaced; Razorpay and live alongside */
	th_request_id(rid, sizeof(rid));
	resp = set_creds(TH_ADMIN_KEY, rid, live_mid, PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    PAYWIRE__V1__MODE__MODE_TEST, "", T_SK_TEST2);
	assert_int_equal(C_OK, resp->status->code);
	th_resp_free(resp);
	th_request_id(rid, sizeof(rid));
	resp = set_creds(TH_ADMIN_KEY, rid, live_mid, PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY,
	    PAYWIRE__V1__MODE__MODE_TEST, T_RZP_ID, T_RZP_SECRET);
	assert_int_equal(C_OK, resp->status->code);
	assert_string_equal(T_RZP_ID, resp->set_provider_credentials->credentials->key_id);
	th_resp_free(resp);
	th_request_id(rid, sizeof(rid));
	resp = set_creds(TH_ADMIN_KEY, rid, live_mid, PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE,
	    PAYWIRE__V1__MODE__MODE_LIVE, "", T_SK_LIVE);
	assert_int_equal(C_OK, resp->status->code);
	th_resp_free(resp);

	resp = list_creds(TH_ADMIN_KEY, live_mid);
	assert_int_equal(C_OK, resp->status->code);
	assert_int_equal(3, resp->list_provider_credentials->n_credentials);
	assert_string_equal("sk_test_51Se\xe2\x80\xa6" "abcd",
	    resp->list_provider_credentials->credentials[0]->secret_hint);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE,
	    resp->list_provider_credentials->credentials[1]->mode);
	assert_string_equal("\xe2\x80\xa6t42q",
	    resp->list_provider_credentials->credentials[2]->secret_hint);
	th_resp_free(resp);
	/* another merchant's listing: none */
	resp = list_creds(TH_ADMIN_KEY, F.mid);
	assert_int_equal(C_OK, resp->status->code);
	assert_int_equal(0, resp->list_provider_credentials->n_credentials);
	th_resp_free(resp);

	/* deleted with an empty secret: the reply names what went */
	th_request_id(rid, sizeof(rid));
	resp = set_creds(TH_ADMIN_KEY, rid, live_mid, PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY,
	    PAYWIRE__V1__MODE__MODE_TEST, "", "");
	assert_int_equal(C_OK, resp->status->code);
	assert_true(resp->set_provider_credentials->deleted);
	assert_string_equal(T_RZP_ID, resp->set_provider_credentials->credentials->key_id);
	th_resp_free(resp);
	resp = list_creds(TH_ADMIN_KEY, live_mid);
	assert_int_equal(2, resp->list_provider_credentials->n_credentials);
	th_resp_free(resp);

	/* nowhere in clear: data file (stored replies included), log */
	snprintf(path, sizeof(path), "%s/data.mdb", F.srv.dir);
	assert_true(file_contains(path, live_mid)); /* control: the file is the store's */
	assert_false(file_contains(path, T_SK_TEST));
	assert_false(file_contains(path, T_SK_TEST2));
	assert_false(file_contains(path, T_SK_LIVE));
	assert_false(file_contains(path, T_RZP_SECRET));
	fflush(stderr);
	assert_true(file_contains(log_path, "call=set_provider_credentials")); /* control */
	assert_false(file_contains(log_path, T_SK_TEST));
	assert_false(file_contains(log_path, T_SK_TEST2));
	assert_false(file_contains(log_path, T_SK_LIVE));
	assert_false(file_contains(log_path, T_RZP_SECRET));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_refusal_answers_its_code_and_writes_nothing),
		cmocka_unit_test(test_set_replace_list_delete_and_the_secret_is_nowhere),
	};

	int rv = cmocka_run_group_tests(tests, group_setup, group_teardown);
	nng_fini();
	return rv;
}
