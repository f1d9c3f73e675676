/*
 * server_provider_test.c - the provider table holds together, and a provider
 * added through the steps of docs/PROVIDERS.md alone works end to end.
 *
 * - The table (PW_PROVIDER_MAP) and the wire enum paywire.v1.Provider agree
 *   both ways: the compiler checks every wire row against the enum
 *   (server/srv_wh.c, client/client.c); this checks that every enum value
 *   but UNSPECIFIED is a row, and that no test row is a wire value.
 * - Every row has one index, a name that round-trips, a secret variable and
 *   registered ops that name it.
 * - The test builds' fake provider (PW_PROVIDER_MAP_TEST, server/srv_wh_fake.c)
 *   through the in-process server: a signed fake.paid webhook passes the wire
 *   check, validation, verify and parse and is APPLIED by the store; the
 *   session is PAID by provider 250; the same event again is DUPLICATE; a bad
 *   signature is UNAUTHENTICATED with nothing written. Its secret variable is
 *   read from the environment and the config file and listed by --help.
 * Needs PW_TEST_HOOKS (the fake exists only there).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server_harness.h"
#include "srv_config.h"
#include "srv_wh.h"

#ifndef PW_TEST_HOOKS
#error "server_provider_test needs a PW_TEST_HOOKS build (the fake provider)"
#endif

enum { C_OK = 0, C_UNAUTH = 16 };

/* The end-to-end case's fixture: an in-process server that has the fake
 * provider's secret (tests/server_harness.c), a REQ socket, a merchant. */
static int
env_start(void **state)
{
	static th_env env;

	th_env_start(&env, 8);
	*state = &env;
	return 0;
}

/* Runs last: nng frees closed sockets and pipes on its own reaper thread,
 * so wait for it, or LeakSanitizer may catch them in flight at exit. */
static int
env_stop(void **state)
{
	th_env_stop(*state);
	nng_fini();
	return 0;
}

/* ---------------------------------------------------------------------------
 * The table
 */

static void
test_table_and_wire_enum_agree_both_ways(void **state)
{
	const ProtobufCEnumDescriptor *d = &paywire__v1__provider__descriptor;
	size_t wire_rows = 0;

	(void) state;
	for (unsigned i = 0; i < d->n_values; i++) {
		int v = d->values[i].value;
		const char *suffix = d->values[i].name + strlen("PROVIDER_");
		if (v == 0) {
			assert_string_equal("PROVIDER_UNSPECIFIED", d->values[i].name);
			continue;
		}
		/* a wire value without its row would be refused by every server */
		assert_true(pw_provider_known((pw_provider) v));
		assert_int_equal(0, strcasecmp(suffix, pw_provider_name((pw_provider) v)));
	}
#define XX_WIRE(NAME, value, name, label, secret_env)                           \
	assert_non_null(protobuf_c_enum_descriptor_get_value(d, value));            \
	wire_rows++;
	PW_PROVIDER_MAP_BASE(XX_WIRE)
#undef XX_WIRE
#define XX_TEST(NAME, value, name, label, secret_env)                           \
	assert_null(protobuf_c_enum_descriptor_get_value(d, value));                \
	assert_true((value) >= PW_PROVIDER_TEST_VALUE_MIN);
	PW_PROVIDER_MAP_TEST(XX_TEST)
#undef XX_TEST
	assert_int_equal(d->n_values, wire_rows + 1);
	assert_true(PW_PROVIDER_COUNT > wire_rows); /* this build has the test row */
}

static void
test_every_row_has_an_index_a_name_a_secret_variable_and_its_ops(void **state)
{
	pw_provider p = PW_PROVIDER_NONE;

	(void) state;
	for (size_t ix = 0; ix < PW_PROVIDER_COUNT; ix++) {
		pw_provider q = pw_provider_at(ix);
		const srv_wh_ops *ops = srv_wh_ops_get(q);
		const char *env = pw_provider_secret_env(q);
		assert_true(pw_provider_known(q));
		assert_int_equal(ix, pw_provider_index(q));
		assert_true(pw_provider_parse(pw_provider_name(q), &p));
		assert_int_equal(q, p);
		assert_non_null(ops);
		assert_int_equal(q, ops->provider);
		assert_non_null(env);
		assert_int_equal(0, strncmp(env, "PAYWIRE_", 8));
		assert_non_null(strstr(env, "_WEBHOOK_SECRET"));
		for (size_t jx = 0; jx < ix; jx++) {
			pw_provider o = pw_provider_at(jx);
			assert_int_not_equal(o, q);
			assert_string_not_equal(pw_provider_name(o), pw_provider_name(q));
			assert_string_not_equal(pw_provider_secret_env(o), env);
		}
	}
	assert_false(pw_provider_known(PW_PROVIDER_NONE));
	assert_null(srv_wh_ops_get(PW_PROVIDER_NONE));
	assert_null(srv_wh_ops_get((pw_provider) 42));
	assert_null(pw_provider_secret_env((pw_provider) 42));
	assert_string_equal("fake", pw_provider_name(PW_PROVIDER_FAKE));
	assert_int_equal(250, PW_PROVIDER_FAKE);
}

/* ---------------------------------------------------------------------------
 * The fake provider, end to end
 */

/* "v1,<base64 HMAC-SHA256(key, id.ts.body)>", the Standard Webhooks way. */
static void
fake_sign(char *out, size_t out_size, const char *key, const char *id, const char *ts,
    const char *body)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[32];
	char b64[64];

	crypto_auth_hmacsha256_init(&st, (const uint8_t *) key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) id, strlen(id));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) ".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *) body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	(void) snprintf(out, out_size, "v1,%s", b64);
}

/* Sends one ingest_webhook for the fake provider, signed with key, and
 * returns the reply. */
static Paywire__V1__Response *
fake_ingest(th_env *e, const char *key, const char *msg_id, const char *body)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest iw = PAYWIRE__V1__INGEST_WEBHOOK_REQUEST__INIT;
	Paywire__V1__IngestWebhookRequest__HeadersEntry h[4];
	Paywire__V1__IngestWebhookRequest__HeadersEntry *hp[4] = { &h[0], &h[1], &h[2], &h[3] };
	char rid[64];
	char ts[32];
	char sig[128];

	(void) snprintf(ts, sizeof(ts), "%ld", (long) time(NULL));
	fake_sign(sig, sizeof(sig), key, msg_id, ts, body);
	for (int i = 0; i < 4; i++) {
		paywire__v1__ingest_webhook_request__headers_entry__init(&h[i]);
	}
	h[0].key = (char *) "content-type";
	h[0].value = (char *) "application/json";
	h[1].key = (char *) "webhook-id";
	h[1].value = (char *) msg_id;
	h[2].key = (char *) "webhook-timestamp";
	h[2].value = ts;
	h[3].key = (char *) "webhook-signature";
	h[3].value = sig;
	iw.provider = (Paywire__V1__Provider) PW_PROVIDER_FAKE;
	iw.n_headers = 4;
	iw.headers = hp;
	iw.body.data = (uint8_t *) body;
	iw.body.len = strlen(body);
	th_request_id(rid, sizeof(rid));
	req.request_id = rid;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_INGEST_WEBHOOK;
	req.ingest_webhook = &iw;
	return th_call(e->sock, &req, NULL);
}

static void
test_fake_provider_webhook_is_verified_parsed_and_applied_end_to_end(void **state)
{
	th_env *e = *state;
	Paywire__V1__CreateSessionRequest cs;
	Paywire__V1__Request gq = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	Paywire__V1__Response *r;
	const Paywire__V1__IngestWebhookResponse *iw;
	char rid[64];
	char sid[64];
	char body[512];
	uint64_t txn;

	th_session_req_init(&cs, 4900);
	th_request_id(rid, sizeof(rid));
	r = th_create_session(e->sock, e->key, rid, &cs);
	assert_int_equal(C_OK, r->status->code);
	(void) pw_strlcpy(sid, r->create_session->session->id, sizeof(sid));
	th_resp_free(r);
	(void) snprintf(body, sizeof(body),
	    "{\"event\":\"fake.paid\",\"session_id\":\"%s\",\"payment_id\":\"fk_pay_1\","
	    "\"amount_minor\":4900,\"currency\":\"eur\"}", sid);

	/* a wrong key: refused before anything is parsed, nothing written */
	txn = store_last_txnid(e->srv.st);
	r = fake_ingest(e, "not-the-fake-provider-key-000001", "msg_fake_1", body);
	assert_int_equal(C_UNAUTH, r->status->code);
	th_resp_free(r);
	assert_int_equal(txn, store_last_txnid(e->srv.st));

	r = fake_ingest(e, TH_FAKE_KEY, "msg_fake_1", body);
	assert_int_equal(C_OK, r->status->code);
	iw = r->ingest_webhook;
	assert_non_null(iw);
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED, iw->outcome);
	assert_int_equal(PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID, iw->session_status);
	assert_string_equal(sid, iw->session_id);
	assert_string_equal("msg_fake_1", iw->event_id);
	assert_true(iw->invoice_number >= 1);
	th_resp_free(r);

	/* the provider delivers the same event again: DUPLICATE */
	r = fake_ingest(e, TH_FAKE_KEY, "msg_fake_1", body);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_DUPLICATE,
	    r->ingest_webhook->outcome);
	th_resp_free(r);

	gs.session_id = sid;
	gq.call_case = PAYWIRE__V1__REQUEST__CALL_GET_STATUS;
	gq.get_status = &gs;
	r = th_call(e->sock, &gq, NULL);
	assert_int_equal(C_OK, r->status->code);
	assert_int_equal(PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_PAID, r->get_status->status);
	assert_int_equal(PW_PROVIDER_FAKE, (int) r->get_status->payment_provider);
	assert_int_equal(4900, r->get_status->amount_minor);
	assert_true(r->get_status->paid_at_unix_ms > 0);
	th_resp_free(r);
}

static void
test_fake_provider_secret_comes_from_its_variable_and_is_listed(void **state)
{
	srv_webhook_config cfg;
	char path[] = "/tmp/pw-provider-test-XXXXXX";
	char why[256];
	char *help = NULL;
	size_t help_len = 0;
	FILE *f;
	int fd;

	(void) state;
	for (size_t ix = 0; ix < PW_PROVIDER_COUNT; ix++) {
		unsetenv(pw_provider_secret_env(pw_provider_at(ix)));
	}
	/* the environment */
	setenv("PAYWIRE_FAKE_WEBHOOK_SECRET", TH_FAKE_SECRET, 1);
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_OK, srv_webhook_config_from_env(&cfg));
	assert_true(srv_webhook_config_has_secret(&cfg, PW_PROVIDER_FAKE));
	assert_false(srv_webhook_config_has_secret(&cfg, PW_PROVIDER_STRIPE));
	srv_webhook_config_fini(&cfg);
	unsetenv("PAYWIRE_FAKE_WEBHOOK_SECRET");

	/* a config file may set it (the key list comes from the table) */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(0, fchmod(fd, 0600));
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "PAYWIRE_FAKE_WEBHOOK_SECRET=%s\n", TH_FAKE_SECRET);
	assert_int_equal(0, fclose(f));
	assert_int_equal(PW_OK, srv_config_file_load(path, why, sizeof(why)));
	assert_non_null(getenv("PAYWIRE_FAKE_WEBHOOK_SECRET"));
	assert_string_equal(TH_FAKE_SECRET, getenv("PAYWIRE_FAKE_WEBHOOK_SECRET"));
	unsetenv("PAYWIRE_FAKE_WEBHOOK_SECRET");
	assert_int_equal(0, unlink(path));

	/* --help lists it, with what its secret looks like */
	f = open_memstream(&help, &help_len);
	assert_non_null(f);
	srv_config_usage(f, "paywire-server");
	assert_int_equal(0, fclose(f));
	assert_non_null(strstr(help,
	    "  PAYWIRE_FAKE_WEBHOOK_SECRET     Fake (test builds) webhook secret(s)\n"));
	assert_non_null(strstr(help, "  PAYWIRE_RAZORPAY_WEBHOOK_SECRET Razorpay webhook secret(s)\n"));
	free(help);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_and_wire_enum_agree_both_ways),
		cmocka_unit_test(test_every_row_has_an_index_a_name_a_secret_variable_and_its_ops),
		cmocka_unit_test(test_fake_provider_secret_comes_from_its_variable_and_is_listed),
		cmocka_unit_test_setup_teardown(
		    test_fake_provider_webhook_is_verified_parsed_and_applied_end_to_end, env_start,
		    env_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
