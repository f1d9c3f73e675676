/*
 * store_session_test.c - session creation, reads and Stripe-style
 * idempotency (replay, conflict, 24 h expiry with an injected clock).
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

#include <sodium.h>

#include "store_fixture.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_BASE "http://127.0.0.1:8080/checkout?session="

/* ---- helpers ---- */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_session", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* A request with every field set. Strings point to literals. */
typedef struct t_req {
	store_session_params req;                /* the request */
	Paywire__Store__V1__Session__MetadataEntry m[2]; /* its metadata */
	Paywire__Store__V1__Session__MetadataEntry *mp[2]; /* pointers to m */
	Paywire__Store__V1__Fulfillment ful;                         /* its fulfillment */
} t_req;

static void
t_req_init(t_req *r, const char *idem_key)
{
	store_session_params req = { 0 };
	Paywire__Store__V1__Session__MetadataEntry me =
	    PAYWIRE__STORE__V1__SESSION__METADATA_ENTRY__INIT;
	Paywire__Store__V1__Fulfillment ful = PAYWIRE__STORE__V1__FULFILLMENT__INIT;

	r->req = req;
	r->req.amount_minor = 4900;
	r->req.currency = "EUR";
	r->req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	r->req.success_url = "https://shop.example/ok";
	r->req.cancel_url = "https://shop.example/cancel";
	r->req.customer_email = "ada@example.com";
	r->req.customer_name = "Ada Lovelace";
	r->req.customer_ref = "cust_42";
	r->req.idempotency_key = (char *) idem_key;
	r->m[0] = me;
	r->m[0].key = "order";
	r->m[0].value = "A-1001";
	r->m[1] = me;
	r->m[1].key = "note";
	r->m[1].value = "gift \xc3\xa9";
	r->mp[0] = &r->m[0];
	r->mp[1] = &r->m[1];
	r->req.n_metadata = 2;
	r->req.metadata = r->mp;
	r->ful = ful;
	r->ful.kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	r->ful.plan = "pro";
	r->req.fulfillment = &r->ful;
}

/* Adds s and its NUL (NULL as "") to h. */
static void
t_hash_str(crypto_generichash_state *h, const char *s)
{
	if (s == NULL) {
		s = "";
	}
	crypto_generichash_update(h, (const uint8_t *) s, strlen(s) + 1);
}

/* The request hash the server would pass (it hashes the call's bytes): here
 * BLAKE2b-256 of every parameter, so equal parameters give equal hashes and
 * any change gives another. */
static void
t_hash(uint8_t out[32], const store_session_params *req)
{
	crypto_generichash_state h;
	char num[96];

	crypto_generichash_init(&h, NULL, 0, 32);
	snprintf(num, sizeof(num), "%lld %d %zu %d", (long long) req->amount_minor, (int) req->mode,
	    req->n_metadata, req->fulfillment != NULL);
	t_hash_str(&h, num);
	t_hash_str(&h, req->currency);
	t_hash_str(&h, req->success_url);
	t_hash_str(&h, req->cancel_url);
	t_hash_str(&h, req->customer_email);
	t_hash_str(&h, req->customer_name);
	t_hash_str(&h, req->customer_ref);
	t_hash_str(&h, req->idempotency_key);
	for (size_t i = 0; i < req->n_metadata; i++) {
		t_hash_str(&h, req->metadata[i]->key);
		t_hash_str(&h, req->metadata[i]->value);
	}
	if (req->fulfillment != NULL) {
		snprintf(num, sizeof(num), "%d %lld", (int) req->fulfillment->kind,
		    (long long) req->fulfillment->credits);
		t_hash_str(&h, num);
		t_hash_str(&h, req->fulfillment->plan);
	}
	crypto_generichash_final(&h, out, 32);
}

/* ---- tests ---- */

static void
test_session_create_copies_every_field(void **state)
{
	fx_env *e = *state;
	t_req r;
	fx_session c = { .merchant_id = e->merchant_id, .base = T_BASE };
	Paywire__Store__V1__SessionRecord *got = NULL;
	const Paywire__Store__V1__Session *s;
	char url[256];

	t_req_init(&r, "idem-1");
	c.req = &r.req;
	t_hash(c.hash, &r.req);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	s = c.rec->session;
	assert_int_equal(0, strncmp(s->id, "cs_", 3));
	assert_int_equal(3 + 44, strlen(s->id));
	assert_string_equal(e->merchant_id, s->merchant_id);
	assert_int_equal(PAYWIRE__STORE__V1__MODE__MODE_TEST, s->mode);
	assert_int_equal(PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_CREATED, s->status);
	assert_int_equal(PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_UNPAID, s->payment_status);
	assert_int_equal(4900, s->amount_minor);
	assert_string_equal("EUR", s->currency);
	snprintf(url, sizeof(url), "%s%s", T_BASE, s->id);
	assert_string_equal(url, s->url);
	assert_string_equal("https://shop.example/ok", s->success_url);
	assert_string_equal("https://shop.example/cancel", s->cancel_url);
	assert_string_equal("ada@example.com", s->customer_email);
	assert_string_equal("Ada Lovelace", s->customer_name);
	assert_string_equal("cust_42", s->customer_ref);
	assert_string_equal("idem-1", s->idempotency_key);
	assert_int_equal(2, s->n_metadata);
	assert_string_equal("order", s->metadata[0]->key);
	assert_string_equal("A-1001", s->metadata[0]->value);
	assert_string_equal("note", s->metadata[1]->key);
	assert_string_equal("gift \xc3\xa9", s->metadata[1]->value);
	assert_non_null(s->fulfillment);
	assert_int_equal(PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY, s->fulfillment->kind);
	assert_string_equal("pro", s->fulfillment->plan);
	assert_int_equal(T_T0_MS, s->created_at_unix_ms);
	assert_int_equal(0, s->paid_at_unix_ms);
	assert_int_equal(0, s->amount_refunded_minor);
	assert_int_equal(32, c.rec->request_hash.len);
	assert_memory_equal(c.hash, c.rec->request_hash.data, 32);
	assert_int_equal(T_T0_MS, c.rec->updated_at_unix_ms);

	/* a read returns the same record, byte for byte */
	assert_int_equal(PW_OK, store_session_get(e->s, s->id, &got));
	assert_int_equal(paywire__store__v1__session_record__get_packed_size(c.rec),
	    paywire__store__v1__session_record__get_packed_size(got));
	uint8_t a[4096];
	uint8_t b[4096];
	size_t na = paywire__store__v1__session_record__pack(c.rec, a);
	size_t nb = paywire__store__v1__session_record__pack(got, b);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	paywire__store__v1__session_record__free_unpacked(got, NULL);
	fx_session_free(&c);
}

static void
test_session_create_without_url_base_or_options_stores_empty_fields(void **state)
{
	fx_env *e = *state;
	store_session_params req = { 0 };
	fx_session c = { .merchant_id = e->merchant_id, .req = &req, .base = NULL };
	store_counts n;

	req.amount_minor = 1;
	req.currency = "JPY";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE;
	t_hash(c.hash, &req);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	assert_string_equal("", c.rec->session->url);
	assert_string_equal("", c.rec->session->idempotency_key);
	assert_null(c.rec->session->fulfillment);
	assert_int_equal(0, c.rec->session->n_metadata);
	fx_session_free(&c);
	/* no idempotency key: the same request again is a second session */
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	fx_session_free(&c);
	assert_int_equal(PW_OK, store_counts_get(e->s, &n));
	assert_int_equal(2, n.sessions);
}

static void
test_session_create_replay_returns_original_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	t_req r;
	fx_session c1 = { .merchant_id = e->merchant_id, .base = T_BASE };
	fx_session c2 = { .merchant_id = e->merchant_id, .base = T_BASE };
	store_counts n;
	uint64_t txnid;

	t_req_init(&r, "idem-replay");
	c1.req = c2.req = &r.req;
	t_hash(c1.hash, &r.req);
	memcpy(c2.hash, c1.hash, 32);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c1));
	txnid = store_last_txnid(e->s);
	e->now_ms += 3600 * 1000; /* an hour later */
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c2));
	assert_string_equal(c1.rec->session->id, c2.rec->session->id);
	assert_int_equal(T_T0_MS, c2.rec->session->created_at_unix_ms);
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &n));
	assert_int_equal(1, n.sessions);
	assert_int_equal(2, n.audit); /* merchant.created + one session.created */
	fx_session_free(&c1);
	fx_session_free(&c2);
}

static void
test_session_create_same_key_other_parameters_is_a_conflict(void **state)
{
	fx_env *e = *state;
	t_req r;
	fx_session c = { .merchant_id = e->merchant_id, .base = T_BASE };
	uint64_t txnid;
	store_counts n;

	t_req_init(&r, "idem-conflict");
	c.req = &r.req;
	t_hash(c.hash, &r.req);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	fx_session_free(&c);
	txnid = store_last_txnid(e->s);
	r.req.amount_minor = 5000;
	t_hash(c.hash, &r.req);
	assert_int_equal(PW_IDEMPOTENCY_CONFLICT, store_apply_sync(e->s, fx_session_apply, &c));
	assert_null(c.rec);
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &n));
	assert_int_equal(1, n.sessions);
	/* the key is per merchant: another merchant may use it freely */
	c.merchant_id = "mer_unknown";
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, fx_session_apply, &c));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_session_create_after_24_hours_is_a_new_session(void **state)
{
	fx_env *e = *state;
	t_req r;
	fx_session c1 = { .merchant_id = e->merchant_id, .base = T_BASE };
	fx_session c2 = { .merchant_id = e->merchant_id, .base = T_BASE };
	fx_session c3 = { .merchant_id = e->merchant_id, .base = T_BASE };
	store_counts n;

	t_req_init(&r, "idem-ttl");
	c1.req = c2.req = c3.req = &r.req;
	t_hash(c1.hash, &r.req);
	memcpy(c2.hash, c1.hash, 32);
	memcpy(c3.hash, c1.hash, 32);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c1));
	e->now_ms += PW_IDEMPOTENCY_TTL_MS + 3600 * 1000; /* 25 h later */
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c2));
	assert_string_not_equal(c1.rec->session->id, c2.rec->session->id);
	assert_int_equal(e->now_ms, c2.rec->session->created_at_unix_ms);
	/* time-ordered ids: the later session sorts after */
	assert_true(strcmp(c1.rec->session->id, c2.rec->session->id) < 0);
	/* the key now names the new session */
	e->now_ms += 1000;
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c3));
	assert_string_equal(c2.rec->session->id, c3.rec->session->id);
	assert_int_equal(PW_OK, store_counts_get(e->s, &n));
	assert_int_equal(2, n.sessions);
	fx_session_free(&c1);
	fx_session_free(&c2);
	fx_session_free(&c3);
}

static void
test_expired_idempotency_keys_are_purged_and_sessions_kept(void **state)
{
	fx_env *e = *state;
	t_req r;
	fx_session c = { .merchant_id = e->merchant_id, .base = NULL };
	fx_purge p = { .max_scan = 100 };
	store_counts n;

	t_req_init(&r, "idem-purge");
	c.req = &r.req;
	t_hash(c.hash, &r.req);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	fx_session_free(&c);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(0, p.deleted); /* still young */
	e->now_ms += PW_IDEMPOTENCY_TTL_MS;
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(1, p.deleted);
	assert_int_equal(PW_OK, store_counts_get(e->s, &n));
	assert_int_equal(1, n.sessions);
	/* the key is free again: other parameters are no conflict */
	r.req.amount_minor = 777;
	t_hash(c.hash, &r.req);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	assert_int_equal(777, c.rec->session->amount_minor);
	fx_session_free(&c);
}

static void
test_session_create_with_bad_input_writes_nothing(void **state)
{
	fx_env *e = *state;
	t_req r;
	fx_session c = { .merchant_id = e->merchant_id, .base = T_BASE };
	uint64_t txnid = store_last_txnid(e->s);

	t_req_init(&r, "");
	c.req = &r.req;
	r.req.amount_minor = 0;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_session_apply, &c));
	r.req.amount_minor = PW_AMOUNT_MINOR_MAX + 1;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_session_apply, &c));
	r.req.amount_minor = 100;
	r.req.currency = "EURO";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_session_apply, &c));
	r.req.currency = "EUR";
	r.req.mode = PAYWIRE__STORE__V1__MODE__MODE_UNSPECIFIED;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_session_apply, &c));
	r.req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	r.req.n_metadata = PW_METADATA_ENTRIES_MAX + 1;
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_session_apply, &c));
	r.req.n_metadata = 2;
	c.merchant_id = "";
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, fx_session_apply, &c));
	assert_null(c.rec);
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_session_get_unknown_or_malformed_id(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec = (Paywire__Store__V1__SessionRecord *) 0x1;
	char longid[PW_SESSION_ID_BYTES_MAX + 1];

	assert_int_equal(PW_NOT_FOUND,
	    store_session_get(e->s, "cs_0000000000000000000000000000000000000000000", &rec));
	assert_null(rec);
	assert_int_equal(PW_INVALID_ARGUMENT, store_session_get(e->s, "", &rec));
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT, store_session_get(e->s, longid, &rec));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_create_copies_every_field, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_create_without_url_base_or_options_stores_empty_fields, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_create_replay_returns_original_and_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_session_create_same_key_other_parameters_is_a_conflict,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_session_create_after_24_hours_is_a_new_session,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_expired_idempotency_keys_are_purged_and_sessions_kept,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_session_create_with_bad_input_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_session_get_unknown_or_malformed_id, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
