/*
 * store_creds_test.c - merchants' provider credentials (store/store_creds.c):
 * set, get, replace, delete; another merchant, provider or mode has none;
 * the listing carries hints only; the secret is nowhere in the engine's
 * data in clear; a record tampered with, copied under another merchant or
 * with its key id changed does not open (PW_INTERNAL, never garbage); bad
 * input is refused with a reason and writes nothing; a test merchant holds
 * no live credentials. Runs on LMDB and PostgreSQL.
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

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

#define T_SK_TEST "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz"
#define T_SK_TEST2 "sk_test_51ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210abcd"
#define T_RK_LIVE "rk_live_51LiveLiveLiveLiveLiveLiveLive0000zz99"
#define T_RZP_ID "rzp_test_1DP5mmOlF5G5ag"
#define T_RZP_SECRET "thisIsARazorpaySecret42q"

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "creds", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Creds Shop", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

typedef struct t_set {
	const char *merchant_id;                              /* in */
	pw_provider provider;                                 /* in */
	Paywire__Store__V1__Mode mode;                        /* in */
	const char *key_id;                                   /* in */
	const char *secret;                                   /* in: NULL: delete */
	Paywire__Store__V1__ProviderCredentialsRecord *rec;  /* out */
	char why[256];                                        /* out */
} t_set;

static pw_status
t_set_apply(store_txn *t, void *arg)
{
	t_set *p = arg;

	if (p->rec != NULL) {
		paywire__store__v1__provider_credentials_record__free_unpacked(p->rec, NULL);
		p->rec = NULL;
	}
	if (p->secret == NULL) {
		return store_provider_creds_delete(t, p->merchant_id, p->provider, p->mode, &p->rec);
	}
	return store_provider_creds_set(t, p->merchant_id, p->provider, p->mode, p->key_id,
	    p->secret, &p->rec, p->why, sizeof(p->why));
}

static pw_status
t_run(fx_env *e, t_set *p)
{
	pw_status st = store_apply_sync(e->s, t_set_apply, p);
	if (p->rec != NULL) {
		paywire__store__v1__provider_credentials_record__free_unpacked(p->rec, NULL);
		p->rec = NULL;
	}
	return st;
}

static void
t_stripe_test(fx_env *e, const char *secret)
{
	t_set p = { .merchant_id = e->merchant_id, .provider = PW_PROVIDER_STRIPE,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .key_id = "", .secret = secret };

	assert_int_equal(PW_OK, t_run(e, &p));
}

static void
test_set_get_replace_delete(void **state)
{
	fx_env *e = *state;
	store_provider_creds c;
	t_set p = { .merchant_id = e->merchant_id, .provider = PW_PROVIDER_STRIPE,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .key_id = "", .secret = T_SK_TEST };
	uint64_t audit0 = fx_audit_ok(e->s);

	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, e->merchant_id,
	                                   PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_set_apply, &p));
	assert_non_null(p.rec);
	assert_string_equal(e->merchant_id, p.rec->merchant_id);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, p.rec->provider);
	assert_string_equal("sk_test_51Ab\xe2\x80\xa6wxyz", p.rec->secret_hint);
	assert_int_equal(0, p.rec->sealed.len);
	assert_int_equal(0, p.rec->nonce.len);
	assert_int_equal(T_T0_MS, p.rec->created_at_unix_ms);
	assert_int_equal(T_T0_MS, p.rec->updated_at_unix_ms);
	paywire__store__v1__provider_credentials_record__free_unpacked(p.rec, NULL);
	p.rec = NULL;

	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(T_SK_TEST, c.secret);
	assert_string_equal("", c.key_id);
	assert_int_equal(T_T0_MS, c.updated_at_unix_ms);

	/* replaced: the new secret, created kept, updated moved */
	e->now_ms += 60000;
	p.secret = T_SK_TEST2;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_set_apply, &p));
	assert_int_equal(T_T0_MS, p.rec->created_at_unix_ms);
	assert_int_equal(T_T0_MS + 60000, p.rec->updated_at_unix_ms);
	paywire__store__v1__provider_credentials_record__free_unpacked(p.rec, NULL);
	p.rec = NULL;
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(T_SK_TEST2, c.secret);
	assert_int_equal(T_T0_MS + 60000, c.updated_at_unix_ms);

	/* Razorpay live and test alongside */
	t_set r = { .merchant_id = e->merchant_id, .provider = PW_PROVIDER_RAZORPAY,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .key_id = T_RZP_ID,
		.secret = T_RZP_SECRET };
	assert_int_equal(PW_OK, t_run(e, &r));
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_RAZORPAY,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(T_RZP_ID, c.key_id);
	assert_string_equal(T_RZP_SECRET, c.secret);

	/* deleted: gone, the others stay */
	p.secret = NULL;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_set_apply, &p));
	assert_string_equal("sk_test_51Zy\xe2\x80\xa6" "abcd", p.rec->secret_hint);
	paywire__store__v1__provider_credentials_record__free_unpacked(p.rec, NULL);
	p.rec = NULL;
	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, e->merchant_id,
	                                   PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_int_equal(PW_NOT_FOUND, t_run(e, &p));
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_RAZORPAY,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	sodium_memzero(&c, sizeof(c));
	/* set, replace, set, delete: four audit records, none with the secret */
	assert_int_equal(audit0 + 4, fx_audit_ok(e->s));
	assert_false(fx_data_has(e, T_SK_TEST, strlen(T_SK_TEST)));
	assert_false(fx_data_has(e, T_SK_TEST2, strlen(T_SK_TEST2)));
	assert_false(fx_data_has(e, T_RZP_SECRET, strlen(T_RZP_SECRET)));
}

static void
test_another_merchant_provider_or_mode_has_none(void **state)
{
	fx_env *e = *state;
	char other[FX_MERCHANT_ID_BYTES];
	store_provider_creds c;

	t_stripe_test(e, T_SK_TEST);
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	                            other, sizeof(other)));
	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, other, PW_PROVIDER_STRIPE,
	                                   PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, e->merchant_id,
	                                   PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_LIVE, &c));
	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, e->merchant_id,
	                                   PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, "m_unknown",
	                                   PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal("", c.secret);
	/* a merchant id that is a prefix of another's sees none of its */
	char prefix[FX_MERCHANT_ID_BYTES];
	snprintf(prefix, sizeof(prefix), "%.*s", (int) strlen(e->merchant_id) - 1, e->merchant_id);
	assert_int_equal(PW_NOT_FOUND, store_provider_creds_get(e->s, prefix, PW_PROVIDER_STRIPE,
	                                   PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	Paywire__Store__V1__ProviderCredentialsRecord **list = NULL;
	size_t n = 9;
	assert_int_equal(PW_OK, store_provider_creds_list(e->s, prefix, &list, &n));
	assert_int_equal(0, n);
	store_provider_creds_list_free(list, n);
	assert_int_equal(PW_OK, store_provider_creds_list(e->s, other, &list, &n));
	assert_int_equal(0, n);
	store_provider_creds_list_free(list, n);
	/* providers without outbound calls, and no mode */
	assert_int_equal(PW_INVALID_ARGUMENT, store_provider_creds_get(e->s, e->merchant_id,
	                                          PW_PROVIDER_ONECOM,
	                                          PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_int_equal(PW_INVALID_ARGUMENT, store_provider_creds_get(e->s, e->merchant_id,
	                                          PW_PROVIDER_STRIPE,
	                                          PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED, &c));
}

static void
test_listing_carries_hints_only(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__ProviderCredentialsRecord **list = NULL;
	size_t n = 0;
	t_set live = { .merchant_id = e->merchant_id, .provider = PW_PROVIDER_STRIPE,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE, .key_id = "", .secret = T_RK_LIVE };
	t_set rzp = { .merchant_id = e->merchant_id, .provider = PW_PROVIDER_RAZORPAY,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .key_id = T_RZP_ID,
		.secret = T_RZP_SECRET };

	assert_int_equal(PW_OK, store_provider_creds_list(e->s, e->merchant_id, &list, &n));
	assert_int_equal(0, n);
	store_provider_creds_list_free(list, n);
	assert_int_equal(PW_OK, t_run(e, &rzp));
	assert_int_equal(PW_OK, t_run(e, &live));
	t_stripe_test(e, T_SK_TEST);
	assert_int_equal(PW_OK, store_provider_creds_list(e->s, e->merchant_id, &list, &n));
	assert_int_equal(3, n);
	/* (provider, mode) order */
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, list[0]->provider);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_TEST, list[0]->mode);
	assert_string_equal("sk_test_51Ab\xe2\x80\xa6wxyz", list[0]->secret_hint);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_LIVE, list[1]->mode);
	assert_string_equal("rk_live_51Li\xe2\x80\xa6zz99", list[1]->secret_hint);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_RAZORPAY, list[2]->provider);
	assert_string_equal(T_RZP_ID, list[2]->key_id);
	assert_string_equal("\xe2\x80\xa6" "t42q", list[2]->secret_hint);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(0, list[i]->sealed.len);
		assert_int_equal(0, list[i]->nonce.len);
	}
	store_provider_creds_list_free(list, n);
	assert_int_equal(PW_INVALID_ARGUMENT, store_provider_creds_list(e->s, "", &list, &n));
}

/* Rewrites the stored record of (merchant, stripe, test): flips a byte of
 * the sealed secret, changes its key id, or copies it under `to`. */
typedef struct t_tamper {
	const char *merchant_id; /* in */
	const char *to;          /* in: copy under this merchant (its merchant_id rewritten) */
	bool flip;               /* in */
	const char *key_id;      /* in: != NULL: the record's key id becomes this */
} t_tamper;

static void
t_key(const char *merchant_id, uint8_t *key, size_t *len)
{
	size_t m = strlen(merchant_id);
	memcpy(key, merchant_id, m);
	key[m] = 0;
	key[m + 1] = (uint8_t) PW_PROVIDER_STRIPE;
	key[m + 2] = (uint8_t) PAYWIRE__STORE__V1__MODE__MODE_TEST;
	*len = m + 3;
}

static pw_status
t_tamper_apply(store_txn *t, void *arg)
{
	t_tamper *x = arg;
	Paywire__Store__V1__ProviderCredentialsRecord *r = NULL;
	uint8_t key[96];
	size_t len = 0;
	pw_status st;

	t_key(x->merchant_id, key, &len);
	st = store_rec_get(t, STORE_DB_PROVIDER_CREDS, key, len,
	    &paywire__store__v1__provider_credentials_record__descriptor, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (x->flip) {
		r->sealed.data[r->sealed.len / 2] ^= 0x01;
	}
	char *kid = r->key_id;
	char *mid = r->merchant_id;
	if (x->key_id != NULL) {
		r->key_id = (char *) x->key_id;
	}
	if (x->to != NULL) {
		r->merchant_id = (char *) x->to;
		t_key(x->to, key, &len);
	}
	st = store_rec_put(t, STORE_DB_PROVIDER_CREDS, key, len, &r->base, 0, NULL);
	r->merchant_id = mid;
	r->key_id = kid;
	paywire__store__v1__provider_credentials_record__free_unpacked(r, NULL);
	return st;
}

static void
test_a_tampered_or_copied_record_does_not_open(void **state)
{
	fx_env *e = *state;
	char other[FX_MERCHANT_ID_BYTES];
	store_provider_creds c;

	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	                            other, sizeof(other)));
	t_stripe_test(e, T_SK_TEST);
	/* copied under another merchant (its merchant_id field rewritten to match) */
	t_tamper copy = { .merchant_id = e->merchant_id, .to = other };
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_tamper_apply, &copy));
	assert_int_equal(PW_INTERNAL, store_provider_creds_get(e->s, other, PW_PROVIDER_STRIPE,
	                                  PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal("", c.secret);
	/* the original still opens */
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(T_SK_TEST, c.secret);
	/* its key id changed */
	t_tamper kid = { .merchant_id = e->merchant_id, .key_id = "rzp_test_zzzzzzzzzzzz" };
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_tamper_apply, &kid));
	assert_int_equal(PW_INTERNAL, store_provider_creds_get(e->s, e->merchant_id,
	                                  PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal("", c.secret);
	/* set again: opens; then one bit of the sealed secret flipped */
	t_stripe_test(e, T_SK_TEST);
	t_tamper flip = { .merchant_id = e->merchant_id, .flip = true };
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_tamper_apply, &flip));
	assert_int_equal(PW_INTERNAL, store_provider_creds_get(e->s, e->merchant_id,
	                                  PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal("", c.secret);
	assert_string_equal("", c.key_id);
	/* replacing a broken record works: set does not need to open the old one */
	t_stripe_test(e, T_SK_TEST);
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	sodium_memzero(&c, sizeof(c));
}

static void
test_bad_input_is_refused_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	char test_merchant[FX_MERCHANT_ID_BYTES];
	char long_secret[PW_PROVIDER_SECRET_BYTES_MAX + 2];
	static const struct {
		pw_provider provider;
		Paywire__Store__V1__Mode mode;
		const char *key_id;
		const char *secret;
		pw_status want;
		const char *why; /* a part of the reason */
	} cases[] = {
		{ PW_PROVIDER_ONECOM, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", T_SK_TEST,
		    PW_INVALID_ARGUMENT, "paywire makes no calls to onecom" },
		{ PW_PROVIDER_WEB3, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", T_SK_TEST,
		    PW_INVALID_ARGUMENT, "paywire makes no calls to web3" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED, "", T_SK_TEST,
		    PW_INVALID_ARGUMENT, "mode must be test or live" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_LIVE, "", T_SK_TEST,
		    PW_INVALID_ARGUMENT, "a stripe test key cannot be set for mode live" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", T_RK_LIVE,
		    PW_INVALID_ARGUMENT, "a stripe live key cannot be set for mode test" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", "pk_test_51AbCdEfGhIjKlMnOpQr",
		    PW_INVALID_ARGUMENT, "sk_test_, sk_live_, rk_test_ or rk_live_" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", "sk_test_short",
		    PW_INVALID_ARGUMENT, "at least 16 characters after its prefix" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "key", T_SK_TEST,
		    PW_INVALID_ARGUMENT, "key_id must be empty for stripe" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", "",
		    PW_INVALID_ARGUMENT, "secret is required" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "",
		    "sk_test_51AbCdEf GhIjKlMnOpQrSt", PW_INVALID_ARGUMENT, "printable ASCII" },
		{ PW_PROVIDER_STRIPE, PAYWIRE__STORE__V1__MODE__MODE_TEST, "",
		    "sk_test_51AbCdEf\nGhIjKlMnOpQrSt", PW_INVALID_ARGUMENT, "printable ASCII" },
		{ PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_TEST, "", T_RZP_SECRET,
		    PW_INVALID_ARGUMENT, "rzp_test_ or rzp_live_" },
		{ PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_LIVE, T_RZP_ID, T_RZP_SECRET,
		    PW_INVALID_ARGUMENT, "a razorpay test key cannot be set for mode live" },
		{ PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_TEST, "rzp_live_1DP5mmOlF5G5ag",
		    T_RZP_SECRET, PW_INVALID_ARGUMENT, "a razorpay live key cannot be set for mode test" },
		{ PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_TEST, "rzp_test_",
		    T_RZP_SECRET, PW_INVALID_ARGUMENT, "key_id has at least" },
		{ PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_TEST, T_RZP_ID, "short",
		    PW_INVALID_ARGUMENT, "key secret has at least" },
		{ PW_PROVIDER_RAZORPAY, PAYWIRE__STORE__V1__MODE__MODE_TEST, "rzp_test_1DP5mm\tOlF5G5",
		    T_RZP_SECRET, PW_INVALID_ARGUMENT, "key_id must be printable ASCII" },
	};
	uint64_t txn = store_last_txnid(e->s);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t_set p = { .merchant_id = e->merchant_id, .provider = cases[i].provider,
			.mode = cases[i].mode, .key_id = cases[i].key_id, .secret = cases[i].secret };
		print_message("case %zu: %s\n", i, cases[i].why);
		assert_int_equal(cases[i].want, t_run(e, &p));
		assert_non_null(strstr(p.why, cases[i].why));
		/* the reason never quotes the secret */
		assert_null(strstr(p.why, cases[i].secret[0] != '\0' ? cases[i].secret : "\x01"));
	}
	memset(long_secret, 'a', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	memcpy(long_secret, "sk_test_", 8);
	t_set big = { .merchant_id = e->merchant_id, .provider = PW_PROVIDER_STRIPE,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .key_id = "", .secret = long_secret };
	assert_int_equal(PW_INVALID_ARGUMENT, t_run(e, &big));
	assert_non_null(strstr(big.why, "longer than 255"));
	/* exactly the maximum is fine */
	long_secret[PW_PROVIDER_SECRET_BYTES_MAX] = '\0';
	t_set unknown = { .merchant_id = "m_nobody", .provider = PW_PROVIDER_STRIPE,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .key_id = "", .secret = T_SK_TEST };
	assert_int_equal(PW_NOT_FOUND, t_run(e, &unknown));
	assert_non_null(strstr(unknown.why, "no merchant m_nobody"));
	assert_int_equal(txn, store_last_txnid(e->s));

	/* a test merchant holds no live credentials */
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Test only", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	                            test_merchant, sizeof(test_merchant)));
	txn = store_last_txnid(e->s);
	t_set live = { .merchant_id = test_merchant, .provider = PW_PROVIDER_STRIPE,
		.mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE, .key_id = "", .secret = T_RK_LIVE };
	assert_int_equal(PW_FAILED_PRECONDITION, t_run(e, &live));
	assert_non_null(strstr(live.why, "test merchant"));
	assert_int_equal(txn, store_last_txnid(e->s));

	big.secret = long_secret;
	assert_int_equal(PW_OK, t_run(e, &big));
	store_provider_creds c;
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(long_secret, c.secret);
	sodium_memzero(&c, sizeof(c));
}

static void
test_credentials_survive_a_reopen(void **state)
{
	fx_env *e = *state;
	store_provider_creds c;

	t_stripe_test(e, T_SK_TEST);
	fx_store_reopen(e);
	assert_int_equal(PW_OK, store_provider_creds_get(e->s, e->merchant_id, PW_PROVIDER_STRIPE,
	                            PAYWIRE__STORE__V1__MODE__MODE_TEST, &c));
	assert_string_equal(T_SK_TEST, c.secret);
	sodium_memzero(&c, sizeof(c));
	assert_false(fx_data_has(e, T_SK_TEST, strlen(T_SK_TEST)));
	/* a part of it is not there either: the hint's tail is */
	assert_false(fx_data_has(e, "EfGhIjKlMnOpQrStUvWx", 20));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get_replace_delete, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_another_merchant_provider_or_mode_has_none, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_listing_carries_hints_only, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_a_tampered_or_copied_record_does_not_open, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_is_refused_and_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_credentials_survive_a_reopen, t_setup,
		    fx_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
