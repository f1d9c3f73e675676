/*
 * store_conflict_test.c - the writer's re-runs after a commit conflict
 * (store.h "RE-RUNS", store_kv.h "CONFLICTS"). LMDB never conflicts, so the
 * store is opened (store_open_engine) on a test engine: kv_lmdb_ops with its
 * batch_commit and put wrapped to answer KV_CONFLICT when armed, as
 * PostgreSQL does when another server committed first. Every case proves the
 * batch was run again and that its effects (session, invoice, entitlement,
 * audit record, purge) happened exactly once, and that the done callbacks
 * ran once, after the last attempt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_DAY_MS (24 * 3600 * 1000)

/* ---- the conflicting engine ---- */

/* A trap: lets `skip` calls through, then fails the next `fail` ones. */
typedef struct t_trap {
	atomic_int skip; /* calls still to let through */
	atomic_int fail; /* then: calls still to fail with KV_CONFLICT */
	atomic_int hits; /* conflicts it reported */
} t_trap;

static t_trap t_commit_trap; /* on batch_commit */
static t_trap t_put_trap;    /* on put */
static kv_ops t_engine;      /* the engine under test with the two traps */
static const kv_ops *t_base; /* that engine: kv_lmdb_ops, or kv_pg_ops (.postgres) */

static void
t_arm(t_trap *trap, int skip, int fail)
{
	atomic_store(&trap->skip, skip);
	atomic_store(&trap->fail, fail);
	atomic_store(&trap->hits, 0);
}

static bool
t_sprung(t_trap *trap)
{
	if (atomic_load(&trap->fail) == 0) {
		return false;
	}
	if (atomic_load(&trap->skip) > 0) {
		atomic_fetch_sub(&trap->skip, 1);
		return false;
	}
	atomic_fetch_sub(&trap->fail, 1);
	atomic_fetch_add(&trap->hits, 1);
	return true;
}

static pw_status
t_batch_commit(kv_txn *txn)
{
	if (t_sprung(&t_commit_trap)) {
		/* Another server committed first: nothing of ours is kept. */
		t_base->batch_abort(txn);
		return KV_CONFLICT;
	}
	return t_base->batch_commit(txn);
}

static pw_status
t_put(kv_txn *txn, unsigned table, kv_val key, size_t size, unsigned flags, kv_fill_fn fill,
    void *arg)
{
	if (t_sprung(&t_put_trap)) {
		return KV_CONFLICT; /* e.g. a unique violation from a concurrent insert */
	}
	return t_base->put(txn, table, key, size, flags, fill, arg);
}

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_conflict", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .clock_t0_ms = T_T0_MS };
	fx_env *e;

	t_base = fx_pg() ? &kv_pg_ops : &kv_lmdb_ops;
	t_engine = *t_base;
	t_engine.name = fx_pg() ? "postgresql+conflicts" : "lmdb+conflicts";
	t_engine.batch_commit = t_batch_commit;
	t_engine.put = t_put;
	t_arm(&t_commit_trap, 0, 0);
	t_arm(&t_put_trap, 0, 0);
	(void) fx_env_setup(state, &cfg);
	e = *state;
	assert_int_equal(PW_OK, store_open_engine(&e->s, &e->opts, &t_engine));
	/* The cases drive every write themselves. */
	store_test_set_purge_interval_ms(e->s, 0);
	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Acme", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	    e->merchant_id, sizeof(e->merchant_id)));
	return 0;
}

/* ---- writes that count their runs ---- */

static sem_t t_done_sem; /* posted by every t_write done callback */

/* One write: runs inner(t, inner_arg) on each attempt. Re-run safe as
 * store.h asks: reset frees what an earlier run left before each run. */
typedef struct t_write {
	store_write w;                 /* the queued write (t_write_submit) */
	store_apply_fn inner;          /* the domain call */
	void *inner_arg;               /* its argument */
	void (*reset)(void *arg);      /* frees inner_arg's outputs; NULL: none */
	int runs;                      /* apply calls (writer thread) */
	unsigned attempts;             /* bit store_txn_attempt set for each run */
	int done;                      /* done calls */
	pw_status st;                  /* done's status */
} t_write;

static pw_status
t_write_apply(store_txn *t, void *arg)
{
	t_write *w = arg;

	if (w->reset != NULL) {
		w->reset(w->inner_arg);
	}
	w->runs++;
	w->attempts |= 1u << store_txn_attempt(t);
	return w->inner(t, w->inner_arg);
}

static void
t_write_done(pw_status st, void *arg)
{
	t_write *w = arg;

	w->st = st;
	w->done++;
	sem_post(&t_done_sem);
}

static void
t_write_submit(store *s, t_write *w)
{
	w->w = (store_write){ .apply = t_write_apply, .done = t_write_done, .arg = w };
	assert_int_equal(PW_OK, store_submit(s, &w->w));
}

static void
t_session_reset(void *arg)
{
	fx_session_free(arg);
}

static void
t_merchant_reset(void *arg)
{
	fx_merchant_free(arg);
}

/* ---- a gate: holds the writer inside a batch while writes queue up ---- */

typedef struct t_gate {
	sem_t inside;  /* posted when the writer runs the gate */
	sem_t open;    /* posted by the test to let it go */
	t_write write; /* the gate's own write */
} t_gate;

static pw_status
t_gate_wait(store_txn *t, void *arg)
{
	t_gate *g = arg;

	(void) t;
	sem_post(&g->inside);
	sem_wait(&g->open);
	return PW_OK;
}

static void
t_gate_close(store *s, t_gate *g)
{
	assert_int_equal(0, sem_init(&g->inside, 0, 0));
	assert_int_equal(0, sem_init(&g->open, 0, 0));
	g->write = (t_write){ .inner = t_gate_wait, .inner_arg = g };
	t_write_submit(s, &g->write);
	assert_int_equal(0, sem_wait(&g->inside)); /* the writer is in the gate's batch */
}

/* ---- fixtures of the cases ---- */

static void
t_request(store_session_params *req, Paywire__Store__V1__Fulfillment *f,
    const char *idem_key)
{
	*req = (store_session_params) { 0 };
	*f = (Paywire__Store__V1__Fulfillment) PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	req->amount_minor = 4900;
	req->currency = "EUR";
	req->mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req->customer_email = "ada@example.com";
	req->idempotency_key = (char *) idem_key;
	f->kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f->plan = "pro";
	req->fulfillment = f;
}

/* A session of the setup merchant, created without conflicts; sid gets its id. */
static void
t_session_add(fx_env *e, char sid[PW_SESSION_ID_BYTES_MAX])
{
	store_session_params req;
	Paywire__Store__V1__Fulfillment f;
	fx_session c = { .merchant_id = e->merchant_id, .req = &req, .hash = { 7 } };

	t_request(&req, &f, "");
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	assert_true(pw_strlcpy(sid, c.rec->session->id, PW_SESSION_ID_BYTES_MAX));
	fx_session_free(&c);
}

static void
t_paid_event(pw_event *ev, const char *sid, const char *event_id)
{
	memset(ev, 0, sizeof(*ev));
	ev->provider = PW_PROVIDER_STRIPE;
	ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	snprintf(ev->event_id, sizeof(ev->event_id), "%s", event_id);
	snprintf(ev->event_type, sizeof(ev->event_type), "payment_intent.succeeded");
	snprintf(ev->session_ref, sizeof(ev->session_ref), "%s", sid);
	snprintf(ev->payment_ref, sizeof(ev->payment_ref), "pi_%s", event_id);
	snprintf(ev->currency, sizeof(ev->currency), "EUR");
	ev->has_amount = true;
	ev->amount_minor = 4900;
	ev->live = 0;
	ev->event_unix_s = T_T0_MS / 1000;
}

/* What the store holds, to compare before and after. */
typedef struct t_snap {
	store_counts c;   /* entries per table */
	uint64_t audit;   /* verified audit records */
	uint64_t txnid;   /* last committed txn */
} t_snap;

static void
t_snap_take(store *s, t_snap *out)
{
	assert_int_equal(PW_OK, store_counts_get(s, &out->c));
	out->audit = fx_audit_ok(s);
	out->txnid = store_last_txnid(s);
}

/* Asserts one payment's effects happened exactly once between a and b. */
static void
t_paid_once(const t_snap *a, const t_snap *b, const fx_webhook *wh)
{
	assert_int_equal(PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_APPLIED, wh->res.outcome);
	assert_int_equal(PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID,
	    wh->res.session_status);
	assert_int_equal(1, wh->res.invoice_number); /* gapless: not 2 */
	assert_int_equal(a->c.invoices + 1, b->c.invoices);
	assert_int_equal(a->c.events + 1, b->c.events);
	assert_int_equal(a->c.entitlements + 1, b->c.entitlements);
}

/* ---- cases ---- */

/* Pays a new session (its id in sid) through a write that meets one
 * conflict, sprung by trap after skip calls. Asserts the write ran twice
 * and its payment took effect once, in one kept commit. */
static void
t_pay_through_conflict(fx_env *e, t_trap *trap, int skip, pw_event *ev,
    char sid[PW_SESSION_ID_BYTES_MAX])
{
	fx_webhook wh = { .ev = ev };
	t_write w = { .inner = fx_webhook_apply, .inner_arg = &wh };
	t_snap a;
	t_snap b;

	t_session_add(e, sid);
	t_paid_event(ev, sid, "evt_1");
	t_snap_take(e->s, &a);
	t_arm(trap, skip, 1);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_write_apply, &w));
	assert_int_equal(1, atomic_load(&trap->hits));
	assert_int_equal(2, w.runs);
	assert_int_equal(0x3u, w.attempts); /* attempt 0, then 1 */
	t_snap_take(e->s, &b);
	t_paid_once(&a, &b, &wh);
	assert_int_equal(a.audit + 1, b.audit);
	assert_int_equal(a.txnid + 1, b.txnid); /* one commit kept */
}

static void
test_commit_conflict_reruns_the_write_and_its_payment_takes_effect_once(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	pw_event ev;
	fx_webhook wh = { .ev = &ev };
	t_snap a;
	t_snap b;

	t_pay_through_conflict(e, &t_commit_trap, 0, &ev, sid);
	/* the provider's redelivery is a duplicate: still one invoice */
	t_snap_take(e->s, &a);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &wh));
	assert_int_equal(PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_DUPLICATE, wh.res.outcome);
	assert_string_equal(sid, wh.res.session_id);
	t_snap_take(e->s, &b);
	assert_int_equal(a.c.invoices, b.c.invoices);
	assert_int_equal(a.txnid, b.txnid); /* a duplicate writes nothing */
}

static void
test_conflict_met_inside_an_apply_reruns_the_batch(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	pw_event ev;

	/* the third put of the payment (its merchant's invoice counter): between
	 * two of its effects */
	t_pay_through_conflict(e, &t_put_trap, 2, &ev, sid);
}

static void
test_conflicting_batch_is_rerun_whole_and_every_write_answered_once(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	store_session_params req;
	Paywire__Store__V1__Fulfillment f;
	fx_session c = { .merchant_id = e->merchant_id, .req = &req, .hash = { 9 } };
	fx_merchant m = { .name = "Second", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	pw_event ev;
	fx_webhook wh = { .ev = &ev };
	t_write w[3] = {
		{ .inner = fx_session_apply, .inner_arg = &c, .reset = t_session_reset },
		{ .inner = fx_webhook_apply, .inner_arg = &wh },
		{ .inner = fx_merchant_apply, .inner_arg = &m, .reset = t_merchant_reset },
	};
	store_stats s0;
	store_stats s1;
	t_gate g;
	t_snap a;
	t_snap b;

	assert_int_equal(0, sem_init(&t_done_sem, 0, 0));
	t_session_add(e, sid);
	t_request(&req, &f, "idem-1");
	t_paid_event(&ev, sid, "evt_3");
	t_snap_take(e->s, &a);
	t_gate_close(e->s, &g); /* the next three writes queue into one batch */
	for (int i = 0; i < 3; i++) {
		t_write_submit(e->s, &w[i]);
	}
	store_stats_get(e->s, &s0);
	t_arm(&t_commit_trap, 0, 2); /* ours conflicts twice (the gate's wrote nothing: no commit) */
	sem_post(&g.open);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(0, sem_wait(&t_done_sem));
	}
	assert_int_equal(2, atomic_load(&t_commit_trap.hits));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(3, w[i].runs);
		assert_int_equal(0x7u, w[i].attempts);
		assert_int_equal(1, w[i].done);
		assert_int_equal(PW_OK, w[i].st);
	}
	/* s0 was taken while the gate's batch ran: it (no write, no commit) and
	 * ours, committed once */
	store_stats_get(e->s, &s1);
	assert_int_equal(s0.batches + 2, s1.batches);
	assert_int_equal(s0.commits + 1, s1.commits);
	assert_int_equal(s0.unchanged + 1, s1.unchanged);
	assert_int_equal(s0.writes + 4, s1.writes);
	assert_int_equal(3, s1.last_batch_size);
	t_snap_take(e->s, &b);
	t_paid_once(&a, &b, &wh);
	assert_int_equal(a.c.sessions + 1, b.c.sessions);
	assert_int_equal(a.c.merchants + 1, b.c.merchants);
	assert_int_equal(a.audit + 3, b.audit); /* session, payment, merchant: once each */
	assert_int_equal(a.txnid + 1, b.txnid);
	/* the idempotency key names the session of the kept run: a replay */
	assert_non_null(c.rec);
	assert_true(pw_strlcpy(sid, c.rec->session->id, sizeof(sid)));
	fx_session_free(&c);
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	assert_string_equal(sid, c.rec->session->id);
	t_snap_take(e->s, &a);
	assert_int_equal(b.c.sessions, a.c.sessions);
	assert_int_equal(b.txnid, a.txnid);
	fx_session_free(&c);
	fx_merchant_free(&m);
	sem_destroy(&g.inside);
	sem_destroy(&g.open);
	sem_destroy(&t_done_sem);
}

static void
test_conflicts_past_the_bound_answer_unavailable_and_keep_nothing(void **state)
{
	fx_env *e = *state;
	store_session_params req;
	Paywire__Store__V1__Fulfillment f;
	fx_session c = { .merchant_id = e->merchant_id, .req = &req, .hash = { 5 } };
	t_write w = { .inner = fx_session_apply, .inner_arg = &c, .reset = t_session_reset };
	t_snap a;
	t_snap b;

	t_request(&req, &f, "idem-2");
	t_snap_take(e->s, &a);
	t_arm(&t_commit_trap, 0, STORE_COMMIT_ATTEMPTS_MAX);
	assert_int_equal(PW_UNAVAILABLE, store_apply_sync(e->s, t_write_apply, &w));
	assert_int_equal(STORE_COMMIT_ATTEMPTS_MAX, atomic_load(&t_commit_trap.hits));
	assert_int_equal(STORE_COMMIT_ATTEMPTS_MAX, w.runs);
	assert_int_equal((1u << STORE_COMMIT_ATTEMPTS_MAX) - 1u, w.attempts);
	t_snap_take(e->s, &b);
	assert_memory_equal(&a.c, &b.c, sizeof(a.c));
	assert_int_equal(a.audit, b.audit);
	assert_int_equal(a.txnid, b.txnid);
	assert_false(store_failed(e->s)); /* retryable: the store goes on */
	/* the client's retry goes through */
	w.runs = 0;
	w.attempts = 0;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_write_apply, &w));
	assert_int_equal(1, w.runs);
	t_snap_take(e->s, &b);
	assert_int_equal(a.c.sessions + 1, b.c.sessions);
	fx_session_free(&c);
}

/* True when reply ("test", rid) is still in its table (expired or not). */
static bool
t_reply_present(store *s, const char *rid)
{
	Paywire__Store__V1__ReplyRecord *r = NULL;
	uint8_t key[64];
	size_t keylen = 0;
	store_txn t;
	pw_status st;

	assert_true(store_key_join(key, sizeof(key), "test", rid, &keylen));
	assert_int_equal(PW_OK, store_read_begin(s, &t));
	st = store_rec_get(&t, STORE_DB_REPLIES, key, keylen, &paywire__store__v1__reply_record__descriptor,
	    (void **) &r);
	store_read_end(&t);
	if (r != NULL) {
		paywire__store__v1__reply_record__free_unpacked(r, NULL);
	}
	assert_true(st == PW_OK || st == PW_NOT_FOUND);
	return st == PW_OK;
}

static pw_status
t_reply_put_apply(store_txn *t, void *arg)
{
	static const uint8_t hash[32];
	const char *rid = arg;

	return store_reply_put(t, "test", rid, hash, (const uint8_t *) rid, strlen(rid));
}

static void
test_rerun_purge_starts_where_the_last_committed_purge_stopped(void **state)
{
	fx_env *e = *state;
	char rid[10][8];
	fx_purge p = { .max_scan = 4 };
	t_write w = { .inner = fx_purge_apply, .inner_arg = &p };
	store_counts c;

	for (int i = 0; i < 10; i++) {
		snprintf(rid[i], sizeof(rid[i]), "r-%03d", i);
		assert_int_equal(PW_OK, store_apply_sync(e->s, t_reply_put_apply, rid[i]));
	}
	e->now_ms += T_DAY_MS + 1; /* every reply expired */
	t_arm(&t_commit_trap, 0, 1);
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_write_apply, &w));
	assert_int_equal(2, w.runs);
	assert_int_equal(4, p.deleted);
	/* the re-run examined the same first four, not the four after them */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(i >= 4, t_reply_present(e->s, rid[i]));
	}
	/* committed: the next purge goes on from r-004 */
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(4, p.deleted);
	assert_false(t_reply_present(e->s, rid[7]));
	assert_true(t_reply_present(e->s, rid[8]));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_purge_apply, &p));
	assert_int_equal(2, p.deleted);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(0, c.replies);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_commit_conflict_reruns_the_write_and_its_payment_takes_effect_once, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_conflict_met_inside_an_apply_reruns_the_batch,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_conflicting_batch_is_rerun_whole_and_every_write_answered_once, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_conflicts_past_the_bound_answer_unavailable_and_keep_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_rerun_purge_starts_where_the_last_committed_purge_stopped, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
