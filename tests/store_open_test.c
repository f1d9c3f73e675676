/*
 * store_open_test.c - store_open/store_close: data directory, key file,
 * options, reopen, read-only mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"

/* ---- helpers (each test: its own mkdtemp root, removed afterwards) ---- */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_open", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL };
	return fx_env_setup(state, &cfg);
}

static pw_status
t_open(fx_env *e, bool read_only, const char *token_secret)
{
	e->opts.read_only = read_only;
	e->opts.token_secret = token_secret;
	return fx_store_open(e);
}

/* ---- tests ---- */

static void
test_open_creates_private_directory_and_key_file(void **state)
{
	fx_env *e = *state;
	struct stat st;

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(0, stat(e->dir, &st));
	assert_int_equal(0700, st.st_mode & 0777);
	assert_int_equal(0, stat(e->key, &st));
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(0600, st.st_mode & 0777);
	assert_int_equal(32, st.st_size);
	assert_false(store_failed(e->s));
	/* no temporary file left behind */
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", e->key);
	assert_int_not_equal(0, access(tmp, F_OK));
}

static void
test_reopen_keeps_data_and_master_key(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	uint8_t pepper[STORE_HASH_BYTES];
	uint8_t keyfile[32];
	uint8_t keyfile2[32];
	char mid[64];
	Paywire__Store__V1__Mode mode;
	uint64_t txnid;
	int fd;

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	memcpy(pepper, e->s->keys.apikey_pepper, sizeof(pepper));
	txnid = store_last_txnid(e->s);
	fx_store_close(e);
	fd = open(e->key, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(32, read(fd, keyfile, sizeof(keyfile)));
	close(fd);

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_memory_equal(pepper, e->s->keys.apikey_pepper, sizeof(pepper));
	assert_int_equal(PW_OK, store_apikey_auth(e->s, m.key, mid, sizeof(mid), &mode));
	assert_string_equal(m.rec->merchant_id, mid);
	fd = open(e->key, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(32, read(fd, keyfile2, sizeof(keyfile2)));
	close(fd);
	assert_memory_equal(keyfile, keyfile2, sizeof(keyfile));
	paywire__store__v1__merchant_record__free_unpacked(m.rec, NULL);
}

static void
test_open_refuses_group_readable_key_file(void **state)
{
	fx_env *e = *state;

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	fx_store_close(e);
	assert_int_equal(0, chmod(e->key, 0644));
	assert_int_equal(PW_UNAVAILABLE, t_open(e, false, NULL));
	assert_null(e->s);
	assert_int_equal(0, chmod(e->key, 0640));
	assert_int_equal(PW_UNAVAILABLE, t_open(e, false, NULL));
	assert_int_equal(0, chmod(e->key, 0604));
	assert_int_equal(PW_UNAVAILABLE, t_open(e, true, NULL));
	assert_null(e->s);
	assert_int_equal(0, chmod(e->key, 0600));
	assert_int_equal(PW_OK, t_open(e, false, NULL));
}

static void
test_open_refuses_key_file_of_wrong_size(void **state)
{
	fx_env *e = *state;

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	fx_store_close(e);
	assert_int_equal(0, truncate(e->key, 31));
	assert_int_equal(PW_INTERNAL, t_open(e, false, NULL));
	assert_null(e->s);
	assert_int_equal(0, truncate(e->key, 33));
	assert_int_equal(PW_INTERNAL, t_open(e, false, NULL));
}

static void
test_open_refuses_missing_key_next_to_existing_data(void **state)
{
	fx_env *e = *state;

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	fx_store_close(e);
	assert_int_equal(0, unlink(e->key));
	assert_int_equal(PW_UNAVAILABLE, t_open(e, false, NULL));
	assert_null(e->s);
	/* and it did not quietly create a new one */
	assert_int_not_equal(0, access(e->key, F_OK));
}

/* Writes 32 fresh random bytes to path (0600), replacing it. */
static void
t_key_write(const char *path)
{
	uint8_t key[32];
	int fd;

	randombytes_buf(key, sizeof(key));
	(void) unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(32, write(fd, key, sizeof(key)));
	close(fd);
}

/* A paywire.key that is not the one the data was written with (a copy of
 * another server's, a new one) is refused at open with FAILED_PRECONDITION,
 * never used: its API-key hashes and sealed keys would not match the data.
 * The right key opens again. */
static void
test_open_refuses_another_master_key_than_the_datas(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	char saved[200];
	char mid[64];
	Paywire__Store__V1__Mode mode;

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	fx_store_close(e);
	snprintf(saved, sizeof(saved), "%s.saved", e->key);
	assert_int_equal(0, rename(e->key, saved));
	t_key_write(e->key);
	assert_int_equal(PW_FAILED_PRECONDITION, t_open(e, false, NULL));
	assert_null(e->s);
	assert_int_equal(PW_FAILED_PRECONDITION, t_open(e, true, NULL));
	assert_int_equal(0, rename(saved, e->key));
	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(PW_OK, store_apikey_auth(e->s, m.key, mid, sizeof(mid), &mode));
	paywire__store__v1__merchant_record__free_unpacked(m.rec, NULL);
}

/* Two servers started on one empty database with different keys (each made
 * its own): both open, nothing to compare yet; the first to write records
 * its key; the other's first write is refused with FAILED_PRECONDITION, and
 * its store refuses writes from then on. The first goes on. */
static void
test_pg_servers_with_different_keys_the_second_fails_its_first_write(void **state)
{
	fx_env *e = *state;
	fx_merchant m1 = { .name = "One", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	fx_merchant m2 = { .name = "Two", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	fx_merchant m3 = { .name = "Three", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	store_opts o2;
	char dir2[200];
	char key2[220];
	store *s2 = NULL;

	if (!fx_pg()) {
		print_message("[ PostgreSQL only ] several servers share one database\n");
		skip();
	}
	snprintf(dir2, sizeof(dir2), "%s/data2", e->root);
	snprintf(key2, sizeof(key2), "%s/paywire.key", dir2);
	assert_int_equal(0, mkdir(dir2, 0700));
	t_key_write(key2);
	o2 = e->opts;
	o2.dir = dir2;
	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(PW_OK, store_open(&s2, &o2));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m1));
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(s2, fx_merchant_apply, &m2));
	assert_true(store_failed(s2));
	assert_int_not_equal(PW_OK, store_apply_sync(s2, fx_merchant_apply, &m2));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m3));
	store_close(s2);
	paywire__store__v1__merchant_record__free_unpacked(m1.rec, NULL);
	paywire__store__v1__merchant_record__free_unpacked(m3.rec, NULL);
	if (m2.rec != NULL) {
		paywire__store__v1__merchant_record__free_unpacked(m2.rec, NULL);
	}
}

static void
test_open_refuses_symlinked_key_file(void **state)
{
	fx_env *e = *state;
	char other[200];

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	fx_store_close(e);
	snprintf(other, sizeof(other), "%s/elsewhere.key", e->root);
	assert_int_equal(0, rename(e->key, other));
	assert_int_equal(0, symlink(other, e->key));
	assert_int_equal(PW_UNAVAILABLE, t_open(e, false, NULL));
	assert_null(e->s);
}

static void
test_open_refuses_bad_options(void **state)
{
	fx_env *e = *state;
	store *s = (store *) 0x1;
	store_opts o = { .dir = NULL };

	assert_int_equal(PW_INVALID_ARGUMENT, store_open(&s, NULL));
	assert_null(s);
	assert_int_equal(PW_INVALID_ARGUMENT, store_open(&s, &o));
	o.dir = "";
	assert_int_equal(PW_INVALID_ARGUMENT, store_open(&s, &o));
	o.dir = e->dir;
	o.map_size_bytes = PW_MAP_SIZE_MIN - 1;
	assert_int_equal(PW_INVALID_ARGUMENT, store_open(&s, &o));
	o.map_size_bytes = 0;
	o.sync = (store_sync) 7;
	assert_int_equal(PW_INVALID_ARGUMENT, store_open(&s, &o));
	o.sync = STORE_SYNC_META;
	o.token_secret = "too short for HS256";
	assert_int_equal(PW_INVALID_ARGUMENT, store_open(&s, &o));
	assert_null(s);
	/* nothing was created by the refused opens */
	assert_int_not_equal(0, access(e->dir, F_OK));
}

static void
test_read_only_open_refuses_writes_and_serves_reads(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	fx_merchant m2 = { .name = "Other", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	store_write w = { .apply = fx_merchant_apply, .done = fx_never_done, .arg = &m2 };
	Paywire__Store__V1__Mode mode;
	store_counts c;
	uint64_t txnid;
	char mid[64];

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	txnid = store_last_txnid(e->s);
	fx_store_close(e);

	assert_int_equal(PW_OK, t_open(e, true, NULL));
	assert_int_equal(PW_UNAVAILABLE, store_submit(e->s, &w));
	assert_int_equal(PW_UNAVAILABLE, store_apply_sync(e->s, fx_merchant_apply, &m2));
	assert_int_equal(0, m2.calls);
	assert_int_equal(PW_OK, store_apikey_auth(e->s, m.key, mid, sizeof(mid), &mode));
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_LIVE, mode);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(1, c.merchants);
	fx_audit_ok(e->s);
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_false(store_failed(e->s));
	paywire__store__v1__merchant_record__free_unpacked(m.rec, NULL);
}

static void
test_read_only_open_of_missing_store_fails_without_creating_it(void **state)
{
	fx_env *e = *state;

	assert_int_equal(PW_UNAVAILABLE, t_open(e, true, NULL));
	assert_null(e->s);
	assert_int_not_equal(0, access(e->dir, F_OK));
}

static void
test_token_secret_becomes_the_jwt_key_else_it_is_derived(void **state)
{
	fx_env *e = *state;
	const char *secret = "0123456789abcdef0123456789abcdef-secret";
	uint8_t derived[STORE_HASH_BYTES];

	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_int_equal(STORE_HASH_BYTES, e->s->keys.jwt_key_len);
	memcpy(derived, e->s->keys.jwt_key, sizeof(derived));
	/* every sub-key is distinct */
	assert_memory_not_equal(e->s->keys.apikey_pepper, e->s->keys.access_pepper, STORE_HASH_BYTES);
	assert_memory_not_equal(e->s->keys.apikey_pepper, e->s->keys.secretbox_key, STORE_HASH_BYTES);
	assert_memory_not_equal(e->s->keys.apikey_pepper, derived, STORE_HASH_BYTES);
	assert_memory_not_equal(e->s->keys.secretbox_key, derived, STORE_HASH_BYTES);
	fx_store_close(e);
	assert_int_equal(PW_OK, t_open(e, false, secret));
	assert_int_equal(strlen(secret), e->s->keys.jwt_key_len);
	assert_memory_equal(secret, e->s->keys.jwt_key, strlen(secret));
	fx_store_close(e);
	assert_int_equal(PW_OK, t_open(e, false, NULL));
	assert_memory_equal(derived, e->s->keys.jwt_key, sizeof(derived));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_private_directory_and_key_file, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data_and_master_key, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_group_readable_key_file, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_key_file_of_wrong_size, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_another_master_key_than_the_datas,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_pg_servers_with_different_keys_the_second_fails_its_first_write, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_missing_key_next_to_existing_data,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_symlinked_key_file, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_bad_options, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_read_only_open_refuses_writes_and_serves_reads,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_read_only_open_of_missing_store_fails_without_creating_it, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_token_secret_becomes_the_jwt_key_else_it_is_derived,
		    t_setup, fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
