/*
 * store_merchant_test.c - merchants, API keys: creation, authentication,
 * revocation, and that no raw key ever reaches the data file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

/* ---- helpers ---- */

typedef struct t_env {
	char root[64]; /* mkdtemp directory */
	char dir[128]; /* root/data */
	store *s;      /* open store */
} t_env;

static int
t_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static void
t_open(t_env *e)
{
	store_opts o = { .dir = e->dir, .map_size_bytes = 16u << 20, .sync = STORE_SYNC_FULL };
	assert_int_equal(PW_OK, store_open(&e->s, &o));
}

static int
t_setup(void **state)
{
	t_env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	assert_int_equal(0, pw_common_init());
	strcpy(e->root, "/tmp/pw_store_merchant_XXXXXX");
	assert_non_null(mkdtemp(e->root));
	snprintf(e->dir, sizeof(e->dir), "%s/data", e->root);
	t_open(e);
	*state = e;
	return 0;
}

static int
t_teardown(void **state)
{
	t_env *e = *state;
	store_close(e->s);
	nftw(e->root, t_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(e);
	return 0;
}

typedef struct t_merchant {
	const char *name;                 /* in */
	Paywire__V1__Mode mode;           /* in */
	Paywire__V1__MerchantRecord *rec; /* out */
	char key[128];                    /* out: raw API key */
} t_merchant;

static pw_status
t_merchant_apply(store_txn *t, void *arg)
{
	t_merchant *m = arg;
	return store_merchant_create(t, m->name, m->mode, &m->rec, m->key, sizeof(m->key));
}

typedef struct t_revoke {
	const char *key; /* in: raw key */
	char mid[64];    /* out */
} t_revoke;

static pw_status
t_revoke_apply(store_txn *t, void *arg)
{
	t_revoke *r = arg;
	return store_apikey_revoke(t, r->key, r->mid, sizeof(r->mid));
}

static void
t_merchant_free(t_merchant *m)
{
	if (m->rec != NULL) {
		paywire__v1__merchant_record__free_unpacked(m->rec, NULL);
		m->rec = NULL;
	}
}

/* Reads the whole data.mdb. */
static uint8_t *
t_read_data(const char *dir, size_t *len)
{
	char path[200];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(0, fseek(f, 0, SEEK_END));
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t) n);
	assert_non_null(buf);
	assert_int_equal((size_t) n, fread(buf, 1, (size_t) n, f));
	fclose(f);
	*len = (size_t) n;
	return buf;
}

/* ---- tests ---- */

static void
test_merchant_create_returns_record_and_key_of_its_mode(void **state)
{
	t_env *e = *state;
	t_merchant test = { .name = "Acme Test", .mode = PAYWIRE__V1__MODE__MODE_TEST };
	t_merchant live = { .name = "Acme Live", .mode = PAYWIRE__V1__MODE__MODE_LIVE };
	Paywire__V1__Mode mode = PAYWIRE__V1__MODE__MODE_UNSPECIFIED;
	char mid[64];

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_merchant_apply, &test));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_merchant_apply, &live));
	assert_string_equal("Acme Test", test.rec->name);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_TEST, test.rec->mode);
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
	assert_int_equal(PAYWIRE__V1__MODE__MODE_TEST, mode);
	assert_int_equal(PW_OK, store_apikey_auth(e->s, live.key, mid, sizeof(mid), &mode));
	assert_string_equal(live.rec->merchant_id, mid);
	assert_int_equal(PAYWIRE__V1__MODE__MODE_LIVE, mode);
	t_merchant_free(&test);
	t_merchant_free(&live);
}

static void
test_revoked_and_unknown_keys_are_unauthenticated_alike(void **state)
{
	t_env *e = *state;
	t_merchant m = { .name = "Acme", .mode = PAYWIRE__V1__MODE__MODE_TEST };
	t_revoke r = { 0 };
	Paywire__V1__Mode mode;
	char mid[64];
	char longkey[PW_API_KEY_BYTES_MAX + 2];
	uint64_t txnid;

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_merchant_apply, &m));
	r.key = m.key;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_string_equal(m.rec->merchant_id, r.mid);
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
	t_merchant_free(&m);
}

static void
test_raw_api_key_is_not_stored_anywhere(void **state)
{
	t_env *e = *state;
	t_merchant m[3] = {
		{ .name = "Needle Merchant One", .mode = PAYWIRE__V1__MODE__MODE_TEST },
		{ .name = "Needle Merchant Two", .mode = PAYWIRE__V1__MODE__MODE_LIVE },
		{ .name = "Needle Merchant Three", .mode = PAYWIRE__V1__MODE__MODE_TEST },
	};
	t_revoke r = { .key = NULL };
	uint8_t *data;
	size_t len;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(PW_OK, store_apply_sync(e->s, t_merchant_apply, &m[i]));
	}
	r.key = m[1].key;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	store_close(e->s);
	e->s = NULL;
	data = t_read_data(e->dir, &len);
	for (int i = 0; i < 3; i++) {
		/* the scan works: what is stored is found */
		assert_non_null(memmem(data, len, m[i].name, strlen(m[i].name)));
		assert_non_null(memmem(data, len, m[i].key, 12)); /* the operator prefix */
		/* the key is not there, whole or as its random part */
		assert_null(memmem(data, len, m[i].key, strlen(m[i].key)));
		assert_null(memmem(data, len, m[i].key + 8, strlen(m[i].key) - 8));
		assert_null(memmem(data, len, m[i].key + 12, 16));
		t_merchant_free(&m[i]);
	}
	free(data);
	t_open(e);
}

static void
test_merchant_create_with_bad_input_writes_nothing(void **state)
{
	t_env *e = *state;
	char longname[PW_NAME_BYTES_MAX + 2];
	t_merchant m = { .name = "", .mode = PAYWIRE__V1__MODE__MODE_TEST };
	uint64_t txnid = store_last_txnid(e->s);
	store_counts c;

	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_merchant_apply, &m));
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	m.name = longname;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_merchant_apply, &m));
	m.name = "bad \xff utf8";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_merchant_apply, &m));
	m.name = "Fine";
	m.mode = PAYWIRE__V1__MODE__MODE_UNSPECIFIED;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_merchant_apply, &m));
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
	t_env *e = *state;
	t_merchant m = { .name = "Acme", .mode = PAYWIRE__V1__MODE__MODE_LIVE };
	t_revoke r = { .key = NULL };
	Paywire__V1__VerifyAuditResponse *v = NULL;
	store_counts c;

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_merchant_apply, &m));
	r.key = m.key;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_revoke_apply, &r));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(1, c.merchants);
	assert_int_equal(2, c.audit);
	assert_int_equal(PW_OK, store_audit_verify(e->s, &v));
	assert_true(v->ok);
	assert_int_equal(2, v->records);
	assert_int_equal(2, v->last_seq);
	paywire__v1__verify_audit_response__free_unpacked(v, NULL);
	t_merchant_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merchant_create_returns_record_and_key_of_its_mode,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_revoked_and_unknown_keys_are_unauthenticated_alike,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_raw_api_key_is_not_stored_anywhere, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_merchant_create_with_bad_input_writes_nothing,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_merchant_create_and_revoke_are_audited, t_setup,
		    t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
