/*
 * store_audit_test.c - the hash-chained audit log: appends from audited
 * operations, verification, and tampering done straight in LMDB (the test
 * opens the environment itself while the store is closed) located at the
 * right seq.
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

#include <libpq-fe.h>
#include <lmdb.h>
#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_RECORDS 7 /* merchant.created, 4 x session.created, apikey.created, apikey.revoked */

typedef struct t_fill {
	char key[128];    /* raw API key of the merchant */
	char key2[128];   /* its second key (the first may then be revoked) */
	char reason[256]; /* a refusal's reason */
} t_fill;

/* One apply that performs every audited operation of the core. */
static pw_status
t_fill_apply(store_txn *t, void *arg)
{
	t_fill *f = arg;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	Paywire__Store__V1__SessionRecord *sess = NULL;
	store_session_params req = { 0 };
	uint8_t hash[32] = { 0 };
	char mid[64];
	pw_status st;

	st = store_merchant_create(t, "Acme", PAYWIRE__STORE__V1__MODE__MODE_TEST, &m, f->key,
	    sizeof(f->key));
	if (st != PW_OK) {
		return st;
	}
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	for (int i = 0; i < 4 && st == PW_OK; i++) {
		req.amount_minor = 1000 + i;
		st = store_session_create(t, m->merchant_id, &req, hash, NULL, &sess);
		paywire__store__v1__session_record__free_unpacked(sess, NULL);
		sess = NULL;
	}
	if (st == PW_OK) {
		Paywire__Store__V1__ApiKeyRecord *k2 = NULL;
		st = store_apikey_create(t, m->merchant_id, PAYWIRE__STORE__V1__MODE__MODE_TEST, &k2,
		    f->key2, sizeof(f->key2), f->reason, sizeof(f->reason));
		if (k2 != NULL) {
			paywire__store__v1__api_key_record__free_unpacked(k2, NULL);
		}
	}
	if (st == PW_OK) {
		st = store_apikey_revoke(t, f->key, mid, sizeof(mid), f->reason, sizeof(f->reason));
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	return st;
}

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_audit", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_FULL, .open = true };
	return fx_env_setup(state, &cfg);
}

static void
t_fill_store(fx_env *e)
{
	t_fill f;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_fill_apply, &f));
}

/* The store's report, in a heap copy the caller frees. */
static store_audit_report *
t_verify(fx_env *e)
{
	store_audit_report *v = calloc(1, sizeof(*v));
	assert_non_null(v);
	assert_int_equal(PW_OK, store_audit_verify(e->s, v));
	return v;
}

/* ---- raw LMDB access (store closed) ---- */

typedef enum t_edit {
	T_EDIT_DETAIL_BYTE,  /* change one character of the action string */
	T_EDIT_LAST_BYTE,    /* flip the last byte (inside prev_hash, the last field) */
	T_EDIT_DELETE,       /* remove the record */
} t_edit;

/* t_tamper on PostgreSQL: the same edit through SQL on the table. */
static void
t_tamper_pg(fx_env *e, const char *dbname, const uint8_t key[8], t_edit edit)
{
	char conninfo[600];
	char sql[200];
	const char *params[2] = { (const char *) key, NULL };
	int lens[2] = { 8, 0 };
	const int fmts[2] = { 1, 1 };
	uint8_t buf[1024];
	size_t len;
	PGconn *c;
	PGresult *r;

	snprintf(conninfo, sizeof(conninfo), "%s", e->url);
	c = PQconnectdb(conninfo);
	assert_int_equal(CONNECTION_OK, PQstatus(c));
	snprintf(sql, sizeof(sql), "SELECT v FROM paywire.\"%s\" WHERE k = $1", dbname);
	r = PQexecParams(c, sql, 1, NULL, params, lens, fmts, 1);
	assert_int_equal(PGRES_TUPLES_OK, PQresultStatus(r));
	assert_int_equal(1, PQntuples(r));
	len = (size_t) PQgetlength(r, 0, 0);
	assert_true(len <= sizeof(buf));
	memcpy(buf, PQgetvalue(r, 0, 0), len);
	PQclear(r);
	if (edit == T_EDIT_DELETE) {
		snprintf(sql, sizeof(sql), "DELETE FROM paywire.\"%s\" WHERE k = $1", dbname);
	} else {
		if (edit == T_EDIT_DETAIL_BYTE) {
			uint8_t *p = memmem(buf, len, "created", 7);
			if (p == NULL) {
				p = memmem(buf, len, "revoked", 7);
			}
			assert_non_null(p);
			p[0] ^= 0x20;
		} else {
			buf[len - 1] ^= 0x01;
		}
		snprintf(sql, sizeof(sql), "UPDATE paywire.\"%s\" SET v = $2 WHERE k = $1", dbname);
		params[1] = (const char *) buf;
		lens[1] = (int) len;
	}
	r = PQexecParams(c, sql, edit == T_EDIT_DELETE ? 1 : 2, NULL, params, lens, fmts, 0);
	assert_int_equal(PGRES_COMMAND_OK, PQresultStatus(r));
	assert_string_equal("1", PQcmdTuples(r));
	PQclear(r);
	PQfinish(c);
}

static void
t_tamper(fx_env *e, const char *dbname, uint64_t seq, t_edit edit)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k;
	MDB_val v;
	uint8_t key[8];
	uint8_t buf[1024];

	for (int i = 7; i >= 0; i--) {
		key[i] = (uint8_t) (seq >> (8 * (7 - i)));
	}
	if (fx_pg()) {
		t_tamper_pg(e, dbname, key, edit);
		return;
	}
	k.mv_size = sizeof(key);
	k.mv_data = key;
	assert_int_equal(0, mdb_env_create(&env));
	assert_int_equal(0, mdb_env_set_maxdbs(env, 32));
	assert_int_equal(0, mdb_env_open(env, e->dir, 0, 0600));
	assert_int_equal(0, mdb_txn_begin(env, NULL, 0, &txn));
	assert_int_equal(0, mdb_dbi_open(txn, dbname, 0, &dbi));
	assert_int_equal(0, mdb_get(txn, dbi, &k, &v));
	assert_true(v.mv_size <= sizeof(buf));
	memcpy(buf, v.mv_data, v.mv_size);
	if (edit == T_EDIT_DELETE) {
		assert_int_equal(0, mdb_del(txn, dbi, &k, NULL));
	} else {
		if (edit == T_EDIT_DETAIL_BYTE) {
			/* the action: "merchant.created", "session.created", "apikey.revoked" */
			uint8_t *p = memmem(buf, v.mv_size, "created", 7);
			if (p == NULL) {
				p = memmem(buf, v.mv_size, "revoked", 7);
			}
			assert_non_null(p);
			p[0] ^= 0x20; /* 'c' -> 'C', 'r' -> 'R': still valid UTF-8 */
		} else {
			buf[v.mv_size - 1] ^= 0x01;
		}
		v.mv_data = buf;
		assert_int_equal(0, mdb_put(txn, dbi, &k, &v, 0));
	}
	assert_int_equal(0, mdb_txn_commit(txn));
	mdb_env_close(env);
}

/* ---- tests ---- */

static void
test_empty_audit_log_verifies(void **state)
{
	fx_env *e = *state;
	store_audit_report *v = t_verify(e);

	assert_true(v->ok);
	assert_int_equal(0, v->records);
	assert_int_equal(0, v->last_seq);
	assert_int_equal(0, v->first_bad_seq);
	free(v);
}

static void
test_audit_chain_of_audited_operations_verifies(void **state)
{
	fx_env *e = *state;
	store_audit_report *v;
	store_counts c;

	t_fill_store(e);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(T_RECORDS, c.audit);
	v = t_verify(e);
	assert_true(v->ok);
	assert_int_equal(T_RECORDS, v->records);
	assert_int_equal(T_RECORDS, v->last_seq);
	assert_int_equal(0, v->first_bad_seq);
	assert_int_equal(32, sizeof(v->head_hash));
	assert_false(sodium_is_zero(v->head_hash, sizeof(v->head_hash)));
	free(v);
	/* and after a restart, appends continue the same chain */
	fx_store_reopen(e);
	t_fill_store(e);
	v = t_verify(e);
	assert_true(v->ok);
	assert_int_equal(2 * T_RECORDS, v->records);
	free(v);
}

static void
t_expect_bad(fx_env *e, uint64_t seq, t_edit edit, uint64_t want)
{
	store_audit_report *v;

	t_fill_store(e);
	fx_store_close(e);
	t_tamper(e, "audit", seq, edit);
	assert_int_equal(PW_OK, fx_store_open(e));
	v = t_verify(e);
	print_message("seq %llu edited: %s\n", (unsigned long long) seq, v->detail);
	assert_false(v->ok);
	assert_int_equal(want, v->first_bad_seq);
	free(v);
}

static void
test_audit_changed_action_is_reported_at_its_seq(void **state)
{
	t_expect_bad(*state, 3, T_EDIT_DETAIL_BYTE, 3);
}

static void
test_audit_changed_prev_hash_is_reported_at_its_seq(void **state)
{
	t_expect_bad(*state, 4, T_EDIT_LAST_BYTE, 4);
}

static void
test_audit_changed_first_record_is_reported(void **state)
{
	t_expect_bad(*state, 1, T_EDIT_DETAIL_BYTE, 1);
}

static void
test_audit_changed_last_record_is_reported(void **state)
{
	t_expect_bad(*state, T_RECORDS, T_EDIT_DETAIL_BYTE, T_RECORDS);
}

static void
test_audit_deleted_record_is_reported(void **state)
{
	t_expect_bad(*state, 2, T_EDIT_DELETE, 2);
}

static void
test_audit_deleted_last_record_is_reported(void **state)
{
	t_expect_bad(*state, T_RECORDS, T_EDIT_DELETE, T_RECORDS);
}

/* ---- a merchant's events: the audit_merchant index ---- */

#define T_OTHERS_AT_ONCE 2000u /* other-merchant records per transaction */

typedef struct t_append {
	const char *merchant;   /* "" or NULL: none */
	unsigned n;             /* records to append */
	uint64_t seqs[8];       /* the first 8 seqs written */
} t_append;

static pw_status
t_append_apply(store_txn *t, void *arg)
{
	t_append *a = arg;
	pw_status st = PW_OK;

	for (unsigned i = 0; i < a->n && st == PW_OK; i++) {
		uint64_t seq = 0;
		st = store_audit_append_seq(t, "test.event", a->merchant, NULL, "detail", &seq);
		if (st == PW_OK && i < 8) {
			a->seqs[i] = seq;
		}
	}
	return st;
}

/* Appends n records of merchant (in transactions of T_OTHERS_AT_ONCE); the
 * seq of the first. */
static uint64_t
t_append_n(fx_env *e, const char *merchant, unsigned n)
{
	uint64_t first = 0;

	while (n > 0) {
		t_append a = { .merchant = merchant, .n = n < T_OTHERS_AT_ONCE ? n : T_OTHERS_AT_ONCE };
		assert_int_equal(PW_OK, store_apply_sync(e->s, t_append_apply, &a));
		first = first == 0 ? a.seqs[0] : first;
		n -= a.n;
	}
	return first;
}

/* Lists merchant's events (NULL: all) in pages of limit from after 0 into
 * seqs[cap]; *pages: pages read, *short_pages: pages with has_more that were
 * not full. Checks order, the merchant of each and next_after. Returns the
 * number of events. */
static size_t
t_list_all(fx_env *e, const char *merchant, size_t limit, uint64_t *seqs, size_t cap,
    size_t *pages, size_t *short_pages)
{
	uint64_t after = 0;
	size_t total = 0;
	bool more = true;

	*pages = 0;
	*short_pages = 0;
	while (more) {
		Paywire__Store__V1__AuditRecord **list = NULL;
		uint64_t next = 0;
		size_t n = 0;

		assert_int_equal(PW_OK, store_events_list(e->s, merchant, after, limit, &list, &n,
		    &more, &next));
		(*pages)++;
		assert_true(*pages < 100000);
		if (more && n < limit) {
			(*short_pages)++;
		}
		for (size_t i = 0; i < n; i++) {
			assert_true(list[i]->seq > after);
			assert_true(i == 0 || list[i]->seq > list[i - 1]->seq);
			if (merchant != NULL) {
				assert_string_equal(merchant, list[i]->merchant_id);
			}
			assert_true(total < cap);
			seqs[total++] = list[i]->seq;
		}
		assert_true(n == 0 || next >= list[n - 1]->seq);
		assert_true(next >= after);
		assert_true(!more || next > after); /* a page with more always moves on */
		store_events_free(list, n);
		after = next;
	}
	return total;
}

/* meta audit_index_from, 0 when absent. */
static uint64_t
t_index_from(fx_env *e)
{
	uint8_t buf[8];
	size_t len = 0;
	store_txn t;
	pw_status st;

	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	st = store_raw_get(&t, STORE_DB_META, STORE_META_AUDIT_INDEX_FROM,
	    strlen(STORE_META_AUDIT_INDEX_FROM), buf, sizeof(buf), &len);
	store_read_end(&t);
	if (st == PW_NOT_FOUND) {
		return 0;
	}
	assert_int_equal(PW_OK, st);
	assert_int_equal(8, len);
	return store_be64_get(buf);
}

static uint64_t
t_index_entries(fx_env *e)
{
	uint64_t n = 0;
	store_txn t;

	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	assert_int_equal(PW_OK, store_count(&t, STORE_DB_AUDIT_MERCHANT, &n));
	store_read_end(&t);
	return n;
}

/* More other-merchant records between two of a merchant's than one walk of
 * the log examines (PW_LIST_SCAN_MAX): its pages are still full. */
static void
test_events_merchant_pages_full_past_other_merchants(void **state)
{
	fx_env *e = *state;
	uint64_t want[40];
	uint64_t got[40];
	size_t pages = 0;
	size_t shorts = 0;
	size_t n;
	size_t k = 0;

	for (unsigned round = 0; round < 2; round++) {
		uint64_t first = t_append_n(e, "mer_a", 20);
		for (uint64_t i = 0; i < 20; i++) {
			want[k++] = first + i;
		}
		(void) t_append_n(e, "mer_b", PW_LIST_SCAN_MAX + 5u);
	}
	(void) t_append_n(e, NULL, 3); /* records of no merchant get no entry */
	assert_int_equal(1, t_index_from(e));
	assert_int_equal(40u + 2u * (PW_LIST_SCAN_MAX + 5u), t_index_entries(e));
	n = t_list_all(e, "mer_a", 7, got, 40, &pages, &shorts);
	assert_int_equal(40, n);
	assert_memory_equal(want, got, sizeof(want));
	assert_int_equal(0, shorts);
	assert_int_equal(6, pages); /* 5 full pages of 7 and 5: no has_more on the last */
	/* a page of exactly what is left says there is no more */
	{
		Paywire__Store__V1__AuditRecord **list = NULL;
		uint64_t next = 0;
		bool more = true;

		assert_int_equal(PW_OK, store_events_list(e->s, "mer_a", want[29], 10, &list, &n,
		    &more, &next));
		assert_int_equal(10, n);
		assert_false(more);
		assert_int_equal(want[39], next);
		store_events_free(list, n);
		/* an unknown merchant: an empty page at once */
		assert_int_equal(PW_OK, store_events_list(e->s, "mer_none", 0, 10, &list, &n, &more,
		    &next));
		assert_int_equal(0, n);
		assert_false(more);
		store_events_free(list, n);
	}
	fx_audit_ok(e->s);
}

/* A store whose older records have no index entries (written before the
 * index: the test hook plays the older build): they are listed through the
 * walk of the log, the newer ones through the index, in one seq order; the
 * marker is the first seq of the index. */
static void
test_events_listing_of_records_older_than_the_index(void **state)
{
	fx_env *e = *state;
	uint64_t want[64];
	uint64_t got[64];
	uint64_t all[256];
	size_t pages = 0;
	size_t shorts = 0;
	size_t k = 0;
	size_t n;
	uint64_t from;

#ifndef PW_TEST_HOOKS
	skip(); /* the older build is played by a test hook */
#endif
	store_test_set_audit_index(e->s, false);
	for (unsigned i = 0; i < 3; i++) {
		uint64_t first = t_append_n(e, "mer_a", 5);
		for (uint64_t j = 0; j < 5; j++) {
			want[k++] = first + j;
		}
		(void) t_append_n(e, "mer_b", 30);
	}
	assert_int_equal(0, t_index_from(e));
	assert_int_equal(0, t_index_entries(e));
	/* no index yet: the walk alone */
	n = t_list_all(e, "mer_a", 4, got, 64, &pages, &shorts);
	assert_int_equal(15, n);
	assert_memory_equal(want, got, 15 * sizeof(uint64_t));

	store_test_set_audit_index(e->s, true);
	from = t_append_n(e, "mer_b", 2); /* the first append with the index: the marker */
	for (unsigned i = 0; i < 3; i++) {
		uint64_t first = t_append_n(e, "mer_a", 5);
		for (uint64_t j = 0; j < 5; j++) {
			want[k++] = first + j;
		}
		(void) t_append_n(e, "mer_b", 30);
	}
	assert_int_equal(from, t_index_from(e));
	assert_int_equal(2 + 15 + 90, t_index_entries(e));
	for (int reopen = 0; reopen < 2; reopen++) {
		/* pages that end before, at and across the marker */
		for (size_t limit = 1; limit <= 16; limit++) {
			n = t_list_all(e, "mer_a", limit, got, 64, &pages, &shorts);
			assert_int_equal(30, n);
			assert_memory_equal(want, got, 30 * sizeof(uint64_t));
		}
		/* starting inside the older part and past the marker */
		{
			Paywire__Store__V1__AuditRecord **list = NULL;
			uint64_t next = 0;
			bool more = false;

			assert_int_equal(PW_OK, store_events_list(e->s, "mer_a", want[12], 5, &list, &n,
			    &more, &next));
			assert_int_equal(5, n);
			assert_int_equal(want[13], list[0]->seq);
			assert_int_equal(want[17], list[4]->seq); /* across the marker */
			assert_true(more);
			store_events_free(list, n);
			assert_int_equal(PW_OK, store_events_list(e->s, "mer_a", from, 100, &list, &n,
			    &more, &next));
			assert_int_equal(15, n);
			assert_int_equal(want[15], list[0]->seq);
			assert_false(more);
			store_events_free(list, n);
		}
		/* every merchant's: the log as it is */
		n = t_list_all(e, NULL, 50, all, 256, &pages, &shorts);
		assert_int_equal(15 + 90 + 2 + 15 + 90, n);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(i + 1, all[i]);
		}
		fx_store_reopen(e);
	}
	fx_audit_ok(e->s);
}

/* A store written before a table existed (here: audit_merchant, dropped
 * with raw LMDB after a build without the index wrote the log) opens
 * read-only, as `paywire doctor` and backups open it before a new server
 * has run on it: the missing table reads as empty. The next read-write open
 * creates it. */
static void
test_read_only_open_of_a_store_from_before_a_table_existed(void **state)
{
	fx_env *e = *state;
	store_opts ro = e->opts;
	store *s = NULL;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	uint64_t got[64];
	size_t pages = 0;
	size_t shorts = 0;
	size_t n;
	store_counts c;

	FX_LMDB_ONLY("the table is dropped with raw LMDB");
#ifndef PW_TEST_HOOKS
	skip(); /* the older build is played by a test hook */
#endif
	store_test_set_audit_index(e->s, false);
	(void) t_append_n(e, "mer_a", 5);
	(void) t_append_n(e, "mer_b", 3);
	fx_store_close(e);
	assert_int_equal(0, mdb_env_create(&env));
	assert_int_equal(0, mdb_env_set_maxdbs(env, KV_TABLES_MAX));
	assert_int_equal(0, mdb_env_open(env, e->dir, 0, 0600));
	assert_int_equal(0, mdb_txn_begin(env, NULL, 0, &txn));
	assert_int_equal(0, mdb_dbi_open(txn, "audit_merchant", 0, &dbi));
	assert_int_equal(0, mdb_drop(txn, dbi, 1));
	assert_int_equal(0, mdb_txn_commit(txn));
	mdb_env_close(env);

	ro.read_only = true;
	assert_int_equal(PW_OK, store_open(&s, &ro));
	e->s = s;
	n = t_list_all(e, "mer_a", 2, got, 64, &pages, &shorts);
	assert_int_equal(5, n);
	n = t_list_all(e, NULL, 4, got, 64, &pages, &shorts);
	assert_int_equal(8, n);
	assert_int_equal(PW_OK, store_counts_get(s, &c));
	assert_int_equal(8, c.audit);
	fx_audit_ok(s);
	fx_store_close(e);

	/* read-write: the table is made again, and the index starts */
	assert_int_equal(PW_OK, fx_store_open(e));
	(void) t_append_n(e, "mer_a", 2);
	n = t_list_all(e, "mer_a", 3, got, 64, &pages, &shorts);
	assert_int_equal(7, n);
	assert_int_equal(2, t_index_entries(e));
	fx_audit_ok(e->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_audit_log_verifies, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain_of_audited_operations_verifies, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_changed_action_is_reported_at_its_seq, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_changed_prev_hash_is_reported_at_its_seq,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_changed_first_record_is_reported, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_changed_last_record_is_reported, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_deleted_record_is_reported, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_audit_deleted_last_record_is_reported, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_events_merchant_pages_full_past_other_merchants,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_events_listing_of_records_older_than_the_index,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_read_only_open_of_a_store_from_before_a_table_existed,
		    t_setup, fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
