/*
 * store_merchant_test.c - merchants, API keys: creation, authentication,
 * revocation, and that no raw key ever reaches the data file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_fixture.h"

/* ---- helpers ---- */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_merchant", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL, .open = true };
	return fx_env_setup(state, &cfg);
}

typedef struct t_revoke {
	const char *key; /* in: raw key */
	char mid[64];    /* out */
	char reason[256]; /* out */
} t_revoke;

static pw_status
t_revoke_apply(store_txn *t, void *arg)
{
	t_revoke *r = arg;
	return store_apikey_revoke(t, r->key, r->mid, sizeof(r->mid), r->reason,
	    sizeof(r->reason));
}

typedef struct t_newkey {
	const char *merchant_id;                  /* in */
	Paywire__Store__V1__Mode mode;            /* in */
	char key[128];                            /* out: raw */
	char reason[256];                         /* out */
} t_newkey;

static pw_status
t_newkey_apply(store_txn *t, void *arg)
{
	t_newkey *k = arg;
	Paywire__Store__V1__ApiKeyRecord *rec = NULL;
	pw_status st = store_apikey_create(t, k->merchant_id, k->mode, &rec, k->key, sizeof(k->key),
	    k->reason, sizeof(k->reason));

	if (rec != NULL) {
		paywire__store__v1__api_key_record__free_unpacked(rec, NULL);
	}
	return st;
}

/* A second key for m, so that its first may be revoked. */
static void
t_second_key(fx_env *e, const fx_merchant *m, t_newkey *k)
{
	k->merchant_id = m->rec->merchant_id;
	k->mode = m->mode;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_newkey_apply, k));
}

/* ---- tests ---- */

static void
test_merchant_create_returns_record_and_key_of_its_mode(void **state)
{
	fx_env *e = *state;
	fx_merchant test = { .name = "Acme Test", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	fx_merchant live = { .name = "Acme Live", .mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	Paywire__Store__V1__Mode mode = PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED;
	char mid[64];

	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &test));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &live));
	assert_string_equal("Acme Test", test.rec->name);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_TEST, test.rec->mode);
	assert_int_equal(0, strncmp(test.rec->merchant_id, "mer_", 4));
	assert_int_equal(4 + 44, strlen(test.rec->merchant_id));
	assert_true(test.rec->created_at_unix_ms > 0);
	assert_int_equal(0, test.rec->last_invoice_number);
	assert_string_not_equal(test.rec->merchant_id, live.rec->merchant_id);
	/* sk_test_/sk_live_ + 43 base64url characters */
	assert_int_equal(0, strncmp(test.key, "sk_test_", 8));
	assert_int_equal(0, strncmp(live.key, "sk_live_", 8));
	assert_int_equal(8 + 43, strlen(test.key));
	assert_int_equal(8 + strspn(test.key + 8,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(test.key));

	assert_int_equal(PW_OK, store_apikey_auth(e->s, test.key, mid, sizeof(mid), &mode));
	assert_string_equal(test.rec->merchant_id, mid);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_TEST, mode);
	assert_int_equal(PW_OK, store_apikey_auth(e->s, live.key, mid, sizeof(mid), &mode));
	assert_string_equal(live.rec->merchant_id, mid);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_LIVE, mode);
	fx_merchant_free(&test);
	fx_merchant_free(&live);
}

static void
test_revoked_and_unknown_keys_are_unauthenticated_alike(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	t_revoke r = { 0 };
	Paywire__Store__V1__Mode mode;
	char mid[64];
	char longkey[PW_API_KEY_BYTES_MAX + 2];
	uint64_t txnid;

	t_newkey k2 = { 0 };

	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	r.key = m.key;
	/* the only key: refused, nothing written, the reason says why */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_non_null(strstr(r.reason, "last active API key"));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_apikey_auth(e->s, m.key, mid, sizeof(mid), &mode));
	/* with a second key it goes */
	t_second_key(e, &m, &k2);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_string_equal(m.rec->merchant_id, r.mid);
	/* and the second is now the last one */
	r.key = k2.key;
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_int_equal(PW_OK, store_apikey_auth(e->s, k2.key, mid, sizeof(mid), &mode));
	r.key = m.key;
	strcpy(mid, "garbage");
	assert_int_equal(PW_UNAUTHENTICATED, store_apikey_auth(e->s, m.key, mid, sizeof(mid), &mode));
	assert_string_equal("", mid);
	assert_int_equal(PW_UNAUTHENTICATED,
	    store_apikey_auth(e->s, "sk_test_unknown", mid, sizeof(mid), &mode));
	assert_int_equal(PW_UNAUTHENTICATED, store_apikey_auth(e->s, "", mid, sizeof(mid), &mode));
	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(PW_UNAUTHENTICATED,
	    store_apikey_auth(e->s, longkey, mid, sizeof(mid), &mode));

	/* revoking again changes nothing and still names the merchant */
	txnid = store_last_txnid(e->s);
	memset(r.mid, 0, sizeof(r.mid));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_string_equal(m.rec->merchant_id, r.mid);
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* an unknown key cannot be revoked */
	r.key = "sk_test_unknown";
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_int_equal(txnid, store_last_txnid(e->s));
	fx_merchant_free(&m);
}

static void
test_raw_api_key_is_not_stored_anywhere(void **state)
{
	fx_env *e = *state;
	fx_merchant m[3] = {
		{ .name = "Needle Merchant One", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST },
		{ .name = "Needle Merchant Two", .mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE },
		{ .name = "Needle Merchant Three", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST },
	};
	t_revoke r = { .key = NULL };
	t_newkey k2 = { 0 };
	uint8_t *data;
	size_t len;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m[i]));
	}
	t_second_key(e, &m[1], &k2);
	r.key = m[1].key;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	fx_store_close(e);
	data = fx_data_read(e, &len);
	for (int i = 0; i < 3; i++) {
		/* the scan works: what is stored is found */
		assert_non_null(memmem(data, len, m[i].name, strlen(m[i].name)));
		assert_non_null(memmem(data, len, m[i].key, 12)); /* the operator prefix */
		/* the key is not there, whole or as its random part */
		assert_null(memmem(data, len, m[i].key, strlen(m[i].key)));
		assert_null(memmem(data, len, m[i].key + 8, strlen(m[i].key) - 8));
		assert_null(memmem(data, len, m[i].key + 12, 16));
		fx_merchant_free(&m[i]);
	}
	assert_null(memmem(data, len, k2.key, strlen(k2.key)));
	assert_null(memmem(data, len, k2.key + 12, 16));
	free(data);
	assert_int_equal(PW_OK, fx_store_open(e));
}

static void
test_merchant_create_with_bad_input_writes_nothing(void **state)
{
	fx_env *e = *state;
	char longname[PW_NAME_BYTES_MAX + 2];
	fx_merchant m = { .name = "", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	uint64_t txnid = store_last_txnid(e->s);
	store_counts c;

	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_merchant_apply, &m));
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	m.name = longname;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_merchant_apply, &m));
	m.name = "bad \xff utf8";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_merchant_apply, &m));
	m.name = "Fine";
	m.mode = PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_merchant_apply, &m));
	assert_null(m.rec);
	assert_string_equal("", m.key);
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(0, c.merchants);
	assert_int_equal(0, c.audit);
}

static void
test_merchant_create_and_revoke_are_audited(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	t_revoke r = { .key = NULL };
	t_newkey k2 = { 0 };
	store_audit_report v;
	store_counts c;

	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	t_second_key(e, &m, &k2);
	r.key = m.key;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(1, c.merchants);
	assert_int_equal(3, c.audit); /* merchant.created, apikey.created, apikey.revoked */
	assert_int_equal(PW_OK, store_audit_verify(e->s, &v));
	assert_true(v.ok);
	assert_int_equal(3, v.records);
	assert_int_equal(3, v.last_seq);
	fx_merchant_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merchant_create_returns_record_and_key_of_its_mode,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_revoked_and_unknown_keys_are_unauthenticated_alike,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_raw_api_key_is_not_stored_anywhere, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_merchant_create_with_bad_input_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_merchant_create_and_revoke_are_audited, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
