/*
 * store_apikey_test.c - a merchant's API keys (store/store_merchant.c):
 * another key (mode limits, the active-key cap), the listing (never a raw
 * key), rolling with a grace period under an injected clock (the old key
 * works until its expiry, then not; at once with grace 0), what cannot be
 * rolled, another merchant's key, and the last active key that cannot be
 * revoked. Every refusal writes nothing. Last used: noted in memory by a
 * successful authentication (the listing shows it at once), written by a
 * batch that commits anyway when a minute newer than the stored time (never a
 * commit of its own for a batch that writes nothing), by the writer alone when
 * no batch comes, and in full at close (kept over a reopen); a key never used
 * reads 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"
#include "store_internal.h"
#include "test_wait.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MODE(x) PAYWIRE__STORE__V1__MODE__MODE_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "apikey", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = MODE(LIVE) };
	return fx_env_setup(state, &cfg);
}

typedef struct t_key {
	fx_env *e;                                 /* in */
	const char *merchant_id;                   /* in: NULL = the setup merchant */
	Paywire__Store__V1__Mode mode;             /* in (create) */
	const char *key_id;                        /* in (roll) */
	const char *caller;                        /* in (roll): the calling raw key */
	int64_t grace_s;                           /* in (roll) */
	Paywire__Store__V1__ApiKeyRecord *rec;     /* out: the new key */
	Paywire__Store__V1__ApiKeyRecord *rolled;  /* out (roll): the old one */
	char raw[128];                             /* out */
	char reason[256];                          /* out */
	char mid[64];                              /* out (revoke) */
} t_key;

static const char *
t_mid(t_key *k)
{
	return k->merchant_id != NULL ? k->merchant_id : k->e->merchant_id;
}

static void
t_key_clear(t_key *k)
{
	if (k->rec != NULL) {
		paywire__store__v1__api_key_record__free_unpacked(k->rec, NULL);
	}
	if (k->rolled != NULL) {
		paywire__store__v1__api_key_record__free_unpacked(k->rolled, NULL);
	}
	k->rec = NULL;
	k->rolled = NULL;
}

static pw_status
t_create_apply(store_txn *t, void *arg)
{
	t_key *k = arg;
	t_key_clear(k);
	return store_apikey_create(t, t_mid(k), k->mode, &k->rec, k->raw, sizeof(k->raw), k->reason,
	    sizeof(k->reason));
}

static pw_status
t_roll_apply(store_txn *t, void *arg)
{
	t_key *k = arg;
	t_key_clear(k);
	return store_apikey_roll(t, t_mid(k), k->key_id, k->caller, k->grace_s, &k->rec, &k->rolled,
	    k->raw, sizeof(k->raw), k->reason, sizeof(k->reason));
}

static pw_status
t_revoke_apply(store_txn *t, void *arg)
{
	t_key *k = arg;
	return store_apikey_revoke(t, k->caller, k->mid, sizeof(k->mid), k->reason,
	    sizeof(k->reason));
}

static pw_status
t_run(fx_env *e, store_apply_fn fn, t_key *k)
{
	k->e = e;
	if (fn == t_create_apply) {
		e->now_ms++; /* listings are newest first to the millisecond */
	}
	return store_apply_sync(e->s, fn, k);
}

static bool
t_auth(fx_env *e, const char *raw)
{
	Paywire__Store__V1__Mode mode;
	char mid[64];
	pw_status st = store_apikey_auth(e->s, raw, mid, sizeof(mid), &mode);

	assert_true(st == PW_OK || st == PW_UNAUTHENTICATED);
	if (st == PW_OK) {
		assert_string_equal(e->merchant_id, mid);
	}
	return st == PW_OK;
}

/* A key made with the merchant (fx_merchant_add keeps no raw key): the
 * tests make their own first key, so they hold a raw one. */
static void
t_first(fx_env *e, t_key *k, Paywire__Store__V1__Mode mode)
{
	k->mode = mode;
	assert_int_equal(PW_OK, t_run(e, t_create_apply, k));
	assert_true(t_auth(e, k->raw));
}

/* ---- tests ---- */

static void
test_another_key_within_the_merchants_mode_and_the_cap(void **state)
{
	fx_env *e = *state;
	char tmid[FX_MERCHANT_ID_BYTES];
	t_key k = { 0 };
	t_key live_on_test = { 0 };
	uint64_t txnid;
	size_t n = 0;
	Paywire__Store__V1__ApiKeyRecord **list = NULL;

	t_first(e, &k, MODE(TEST));
	assert_memory_equal("sk_test_", k.raw, 8);
	assert_memory_equal("key_", k.rec->key_id, 4);
	assert_string_equal(k.raw + strlen(k.raw) - 4, k.rec->last4);
	assert_memory_equal(k.raw, k.rec->key_prefix, 12);
	/* a test merchant holds no live key */
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Test Only", MODE(TEST), tmid, sizeof(tmid)));
	live_on_test.merchant_id = tmid;
	live_on_test.mode = MODE(LIVE);
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_FAILED_PRECONDITION, t_run(e, t_create_apply, &live_on_test));
	assert_non_null(strstr(live_on_test.reason, "test merchant"));
	/* no such merchant */
	live_on_test.merchant_id = "mer_none";
	assert_int_equal(PW_NOT_FOUND, t_run(e, t_create_apply, &live_on_test));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the cap: the merchant's first key (from setup) + 9 here = 10 active */
	for (int i = 1; i < PW_APIKEYS_ACTIVE_MAX - 1; i++) {
		t_key more = { .mode = MODE(LIVE) };
		assert_int_equal(PW_OK, t_run(e, t_create_apply, &more));
		t_key_clear(&more);
	}
	txnid = store_last_txnid(e->s);
	{
		t_key over = { .mode = MODE(LIVE) };
		assert_int_equal(PW_FAILED_PRECONDITION, t_run(e, t_create_apply, &over));
		assert_non_null(strstr(over.reason, "at most 10"));
		assert_null(over.rec);
		assert_string_equal("", over.raw);
	}
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* the listing: newest first, no raw key anywhere in it */
	assert_int_equal(PW_OK, store_apikey_list(e->s, e->merchant_id, &list, &n));
	assert_int_equal(PW_APIKEYS_ACTIVE_MAX, n);
	for (size_t i = 0; i + 1 < n; i++) {
		assert_true(strcmp(list[i]->key_id, list[i + 1]->key_id) >= 0);
		assert_true(strlen(list[i]->key_prefix) == 12);
	}
	assert_string_equal(k.rec->key_id, list[n - 2]->key_id); /* the one made first here */
	store_apikey_list_free(list, n);
	/* another merchant's listing is its own */
	assert_int_equal(PW_OK, store_apikey_list(e->s, tmid, &list, &n));
	assert_int_equal(1, n);
	store_apikey_list_free(list, n);
	t_key_clear(&k);
}

static void
test_roll_keeps_the_old_key_for_its_grace_period(void **state)
{
	fx_env *e = *state;
	t_key k = { 0 };
	t_key roll = { 0 };
	t_key again = { 0 };
	uint64_t txnid;

	t_first(e, &k, MODE(LIVE));
	roll.key_id = k.rec->key_id;
	roll.grace_s = 3600;
	assert_int_equal(PW_OK, t_run(e, t_roll_apply, &roll));
	assert_memory_equal("sk_live_", roll.raw, 8); /* the same mode */
	assert_string_equal(roll.rec->key_id, roll.rolled->replaced_by);
	assert_true(roll.rolled->expires_at_unix_ms == e->now_ms + 3600 * 1000);
	/* both work during the grace period */
	assert_true(t_auth(e, k.raw));
	assert_true(t_auth(e, roll.raw));
	e->now_ms = roll.rolled->expires_at_unix_ms - 1;
	assert_true(t_auth(e, k.raw));
	/* then only the new one */
	e->now_ms = roll.rolled->expires_at_unix_ms;
	assert_false(t_auth(e, k.raw));
	assert_true(t_auth(e, roll.raw));
	/* a rolled (and now expired) key cannot be rolled again */
	txnid = store_last_txnid(e->s);
	again.key_id = k.rec->key_id;
	again.grace_s = 60;
	assert_int_equal(PW_FAILED_PRECONDITION, t_run(e, t_roll_apply, &again));
	assert_non_null(strstr(again.reason, "rolled already"));
	assert_int_equal(txnid, store_last_txnid(e->s));
	t_key_clear(&k);
	t_key_clear(&roll);
	t_key_clear(&again);
}

static void
test_roll_now_by_the_calling_key_and_other_merchants_keys(void **state)
{
	fx_env *e = *state;
	char other[FX_MERCHANT_ID_BYTES];
	t_key k = { 0 };
	t_key roll = { 0 };
	t_key theirs = { 0 };
	t_key bad = { 0 };
	uint64_t txnid;

	t_first(e, &k, MODE(TEST));
	/* no key_id: the key that calls; grace 0: gone at once */
	roll.caller = k.raw;
	roll.grace_s = 0;
	assert_int_equal(PW_OK, t_run(e, t_roll_apply, &roll));
	assert_string_equal(k.rec->key_id, roll.rolled->key_id);
	assert_false(t_auth(e, k.raw));
	assert_true(t_auth(e, roll.raw));
	/* another merchant's key is not found through this merchant */
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", MODE(LIVE), other, sizeof(other)));
	txnid = store_last_txnid(e->s);
	theirs.merchant_id = other;
	theirs.key_id = roll.rec->key_id;
	theirs.grace_s = 60;
	assert_int_equal(PW_NOT_FOUND, t_run(e, t_roll_apply, &theirs));
	theirs.key_id = NULL;
	theirs.caller = roll.raw;
	assert_int_equal(PW_NOT_FOUND, t_run(e, t_roll_apply, &theirs));
	/* a grace period past the maximum */
	bad.key_id = roll.rec->key_id;
	bad.grace_s = PW_APIKEY_GRACE_MAX_S + 1;
	assert_int_equal(PW_INVALID_ARGUMENT, t_run(e, t_roll_apply, &bad));
	assert_int_equal(txnid, store_last_txnid(e->s));
	t_key_clear(&k);
	t_key_clear(&roll);
}

static void
test_the_last_active_key_is_not_revoked(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__ApiKeyRecord **list = NULL;
	t_key k = { 0 };
	t_key rv = { 0 };
	uint64_t txnid;
	size_t n = 0;

	/* the setup merchant's own key plus k: revoking k is fine */
	t_first(e, &k, MODE(LIVE));
	rv.caller = k.raw;
	assert_int_equal(PW_OK, t_run(e, t_revoke_apply, &rv));
	assert_false(t_auth(e, k.raw));
	/* the listing shows it revoked, with its time */
	assert_int_equal(PW_OK, store_apikey_list(e->s, e->merchant_id, &list, &n));
	assert_int_equal(2, n);
	assert_true(list[0]->revoked);
	assert_true(list[0]->revoked_at_unix_ms == e->now_ms);
	assert_false(list[1]->revoked);
	store_apikey_list_free(list, n);
	t_key_clear(&k);
	/* a merchant whose one key is the last: refused, the reason says so */
	{
		char mid[FX_MERCHANT_ID_BYTES];
		fx_merchant m = { .name = "Solo", .mode = MODE(TEST) };
		assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
		strcpy(mid, m.rec->merchant_id);
		txnid = store_last_txnid(e->s);
		rv.caller = m.key;
		assert_int_equal(PW_FAILED_PRECONDITION, t_run(e, t_revoke_apply, &rv));
		assert_non_null(strstr(rv.reason, "last active API key"));
		assert_non_null(strstr(rv.reason, mid));
		assert_int_equal(txnid, store_last_txnid(e->s));
		fx_merchant_free(&m);
	}
}

/* The last-used time of raw as stored (not what memory adds). */
static int64_t
t_stored_used(fx_env *e, const char *raw)
{
	Paywire__Store__V1__ApiKeyRecord *rec = NULL;
	uint8_t hash[STORE_HASH_BYTES];
	store_txn t;
	int64_t v;

	store_keyed_hash(hash, e->s->keys.apikey_pepper, raw, strlen(raw));
	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	assert_int_equal(PW_OK, store_rec_get(&t, STORE_DB_APIKEYS, hash, sizeof(hash),
	    &paywire__store__v1__api_key_record__descriptor, (void **) &rec));
	store_read_end(&t);
	v = rec->last_used_at_unix_ms;
	paywire__store__v1__api_key_record__free_unpacked(rec, NULL);
	return v;
}

/* The last-used time the listing shows for key_id. */
static int64_t
t_listed_used(fx_env *e, const char *key_id)
{
	Paywire__Store__V1__ApiKeyRecord **list = NULL;
	size_t n = 0;
	int64_t v = -1;

	assert_int_equal(PW_OK, store_apikey_list(e->s, e->merchant_id, &list, &n));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i]->key_id, key_id) == 0) {
			v = list[i]->last_used_at_unix_ms;
		}
	}
	store_apikey_list_free(list, n);
	assert_true(v >= 0); /* listed */
	return v;
}

/* A write that commits (another key), carrying the flush when it is due. */
static void
t_commit(fx_env *e)
{
	t_key more = { .mode = MODE(TEST) };
	uint64_t txnid = store_last_txnid(e->s);

	assert_int_equal(PW_OK, t_run(e, t_create_apply, &more));
	assert_true(store_last_txnid(e->s) > txnid);
	t_key_clear(&more);
}

static void
test_last_used_noted_in_memory_written_by_commits_kept_at_close(void **state)
{
	fx_env *e = *state;
	t_key k = { 0 };
	t_key never = { 0 };
	t_key refused = { .mode = MODE(LIVE), .merchant_id = "mer_none" };
	store_stats st0;
	store_stats st1;
	uint64_t txnid;
	int64_t used1;
	int64_t used2;
	int64_t used3;

	/* every batch that commits may carry the flush; never a batch of its own */
	store_test_set_lastused_ms(e->s, (uint32_t) PW_APIKEY_LASTUSED_GRANULARITY_MS, 0, 0);
	never.mode = MODE(LIVE);
	assert_int_equal(PW_OK, t_run(e, t_create_apply, &never));
	t_first(e, &k, MODE(LIVE)); /* authenticates once */
	used1 = e->now_ms;
	/* memory only: the listing shows it, the store does not hold it yet */
	assert_true(t_listed_used(e, k.rec->key_id) == used1);
	assert_true(t_stored_used(e, k.raw) == 0);
	assert_true(t_listed_used(e, never.rec->key_id) == 0);
	/* a failed authentication notes nothing */
	assert_false(t_auth(e, "sk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	/* a batch that writes nothing does not commit for the flush */
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_NOT_FOUND, t_run(e, t_create_apply, &refused));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_true(t_stored_used(e, k.raw) == 0);
	/* the next batch that commits writes it (first use: due at once) */
	store_stats_get(e->s, &st0);
	t_commit(e);
	store_stats_get(e->s, &st1);
	assert_true(t_stored_used(e, k.raw) == used1);
	assert_true(t_stored_used(e, never.raw) == 0);
	assert_true(st1.lastused_written == st0.lastused_written + 1);
	assert_true(st1.batches == st0.batches + 1); /* it rode in that batch */
	/* 30 s later: memory moves, the store keeps the minute */
	e->now_ms += 30 * 1000;
	assert_true(t_auth(e, k.raw));
	used2 = e->now_ms;
	t_commit(e);
	assert_true(t_listed_used(e, k.rec->key_id) == used2);
	assert_true(t_stored_used(e, k.raw) == used1);
	/* a minute after the stored time: written by the next commit */
	e->now_ms = used1 + PW_APIKEY_LASTUSED_GRANULARITY_MS + 1000;
	assert_true(t_auth(e, k.raw));
	used3 = e->now_ms;
	t_commit(e);
	assert_true(t_stored_used(e, k.raw) == used3);
	/* used again, not a minute later: only in memory until the close */
	e->now_ms += 5 * 1000;
	assert_true(t_auth(e, k.raw));
	used3 = e->now_ms;
	assert_true(t_stored_used(e, k.raw) < used3);
	fx_store_reopen(e);
	assert_true(t_stored_used(e, k.raw) == used3);
	assert_true(t_listed_used(e, k.rec->key_id) == used3);
	assert_true(t_listed_used(e, never.rec->key_id) == 0);
	assert_true(t_stored_used(e, never.raw) == 0);
	t_key_clear(&k);
	t_key_clear(&never);
}

static void
test_last_used_written_alone_when_no_batch_comes(void **state)
{
	fx_env *e = *state;
	t_key k = { 0 };
	store_stats st;
	int64_t used;

	t_first(e, &k, MODE(TEST));
	used = e->now_ms;
	/* no write comes: the writer flushes alone after the idle interval */
	store_test_set_lastused_ms(e->s, (uint32_t) PW_APIKEY_LASTUSED_GRANULARITY_MS,
	    (uint32_t) PW_APIKEY_LASTUSED_CHECK_MS, 20);
	TW_WAIT_UNTIL(t_stored_used(e, k.raw) == used);
	assert_true(t_stored_used(e, k.raw) == used);
	store_stats_get(e->s, &st);
	assert_true(st.lastused_written >= 1);
	assert_true(st.lastused_flushes >= 1);
	t_key_clear(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_another_key_within_the_merchants_mode_and_the_cap,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_roll_keeps_the_old_key_for_its_grace_period,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_roll_now_by_the_calling_key_and_other_merchants_keys, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_the_last_active_key_is_not_revoked, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_last_used_noted_in_memory_written_by_commits_kept_at_close, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_last_used_written_alone_when_no_batch_comes, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
