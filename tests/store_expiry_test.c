/*
 * store_expiry_test.c - sessions nobody paid in time (store/store_expiry.c),
 * with an injected clock, never by sleeping: the default and a caller's
 * expires_at, reads that report expired from the moment it is due, the
 * sweep in bounded batches (and what it must leave alone), a payment or a
 * cancel that meets a due session before the sweep, and the writer's own
 * sweep of an idle store.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"
#include "test_wait.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T_DAY_MS PW_SESSION_TTL_DEFAULT_MS

#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define PS(x) PAYWIRE__STORE__V1__PAYMENT_STATUS__PAYMENT_STATUS_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "expiry", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

/* A session of 49.00 EUR expiring at expires_at (0: the default); its id
 * into sid. Returns the store's status. */
static pw_status
t_session_at(fx_env *e, int64_t expires_at, char *sid)
{
	store_session_params req = { 0 };
	fx_session c = { .merchant_id = e->merchant_id, .req = &req };
	pw_status st;

	req.amount_minor = 4900;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_email = "ada@example.com";
	req.expires_at_unix_ms = expires_at;
	randombytes_buf(c.hash, sizeof(c.hash));
	st = store_apply_sync(e->s, fx_session_apply, &c);
	if (st == PW_OK) {
		strcpy(sid, c.rec->session->id);
	}
	fx_session_free(&c);
	return st;
}

/* The record as the reads see it (store_session_get). */
static Paywire__Store__V1__SessionRecord *
t_get(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	assert_int_equal(PW_OK, store_session_get(e->s, sid, &rec));
	return rec;
}

static Paywire__Store__V1__SessionStatus
t_status(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = t_get(e, sid);
	Paywire__Store__V1__SessionStatus st = rec->session->status;
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	return st;
}

/* The status as stored, without the read's view. */
static Paywire__Store__V1__SessionStatus
t_stored_status(fx_env *e, const char *sid)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__SessionStatus st;
	store_txn t;

	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	assert_int_equal(PW_OK, store_session_load(&t, sid, &rec));
	store_read_end(&t);
	st = rec->session->status;
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	return st;
}

static uint64_t
t_index_entries(fx_env *e)
{
	uint64_t n = 0;
	store_txn t;

	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	assert_int_equal(PW_OK, store_count(&t, STORE_DB_EXPIRY, &n));
	store_read_end(&t);
	return n;
}

typedef struct t_sweep {
	size_t max;     /* in */
	size_t expired; /* out */
	bool more;      /* out */
} t_sweep;

static pw_status
t_sweep_apply(store_txn *t, void *arg)
{
	t_sweep *w = arg;
	return store_sessions_expire(t, w->max, &w->expired, &w->more);
}

static size_t
t_sweep_run(fx_env *e, size_t max, bool *more)
{
	t_sweep w = { .max = max };

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_sweep_apply, &w));
	*more = w.more;
	return w.expired;
}

/* Audit records of action act. */
typedef struct t_audit_count {
	const char *action;
	const char *session_id; /* NULL: any */
	unsigned n;
} t_audit_count;

static pw_status
t_audit_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	t_audit_count *c = arg;
	Paywire__Store__V1__AuditRecord *r = NULL;

	(void) key;
	(void) step;
	assert_int_equal(PW_OK, store_msg_unpack(&paywire__store__v1__audit_record__descriptor,
	    val.data, val.len, (void **) &r));
	if (strcmp(r->action, c->action) == 0 &&
	    (c->session_id == NULL || strcmp(r->session_id, c->session_id) == 0)) {
		c->n++;
	}
	paywire__store__v1__audit_record__free_unpacked(r, NULL);
	return PW_OK;
}

static unsigned
t_audits(fx_env *e, const char *action, const char *sid)
{
	t_audit_count c = { .action = action, .session_id = sid };
	store_txn t;

	assert_int_equal(PW_OK, store_read_begin(e->s, &t));
	assert_int_equal(PW_OK, store_scan(&t, STORE_DB_AUDIT, (kv_val){ .data = NULL, .len = 0 },
	    t_audit_visit, &c));
	store_read_end(&t);
	return c.n;
}

static pw_event
t_event(fx_env *e, pw_event_kind kind, const char *sid)
{
	pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = kind;
	snprintf(ev.event_id, sizeof(ev.event_id), "evt_%u", ++e->seq);
	snprintf(ev.event_type, sizeof(ev.event_type), "test.kind.%d", (int) kind);
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	ev.live = 0;
	ev.event_unix_s = e->now_ms / 1000;
	if (kind == PW_EV_PAYMENT_SUCCEEDED) {
		ev.has_amount = true;
		ev.amount_minor = 4900;
		snprintf(ev.currency, sizeof(ev.currency), "EUR");
		snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_%u", e->seq);
	}
	return ev;
}

static store_webhook_result
t_send(fx_env *e, const pw_event *ev)
{
	fx_webhook a = { .ev = ev };
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &a));
	return a.res;
}

/* ---- tests ---- */

static void
test_default_and_own_expiry_are_recorded_and_indexed(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	char a[PW_SESSION_ID_BYTES_MAX];
	char b[PW_SESSION_ID_BYTES_MAX];

	assert_int_equal(PW_OK, t_session_at(e, 0, a));
	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 3600 * 1000, b));
	rec = t_get(e, a);
	assert_true(rec->session->expires_at_unix_ms == T_T0_MS + T_DAY_MS);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	rec = t_get(e, b);
	assert_true(rec->session->expires_at_unix_ms == T_T0_MS + 3600 * 1000);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(2, t_index_entries(e));
}

static void
test_an_expiry_not_after_now_is_refused_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	uint64_t txnid = store_last_txnid(e->s);

	assert_int_equal(PW_INVALID_ARGUMENT, t_session_at(e, T_T0_MS, sid));
	assert_int_equal(PW_INVALID_ARGUMENT, t_session_at(e, T_T0_MS - 1, sid));
	assert_int_equal(PW_INVALID_ARGUMENT, t_session_at(e, -5, sid));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(0, t_index_entries(e));
}

static void
test_reads_report_expired_from_the_moment_it_is_due(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__SessionRecord *rec;
	char sid[PW_SESSION_ID_BYTES_MAX];
	uint64_t txnid;

	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 120 * 1000, sid));
	txnid = store_last_txnid(e->s);
	e->now_ms = T_T0_MS + 120 * 1000 - 1;
	assert_int_equal(ST(CREATED), t_status(e, sid));
	e->now_ms = T_T0_MS + 120 * 1000;
	rec = t_get(e, sid);
	assert_int_equal(ST(EXPIRED), rec->session->status);
	assert_int_equal(PS(UNPAID), rec->session->payment_status);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	/* nothing was written: the record still says created until the sweep */
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(ST(CREATED), t_stored_status(e, sid));
}

static void
test_sweep_expires_due_sessions_in_bounded_batches(void **state)
{
	fx_env *e = *state;
	char due[10][PW_SESSION_ID_BYTES_MAX];
	char later[PW_SESSION_ID_BYTES_MAX];
	char paid[PW_SESSION_ID_BYTES_MAX];
	pw_event ev;
	uint64_t audit0;
	uint64_t txnid;
	bool more = false;
	size_t n;

	for (int i = 0; i < 10; i++) {
		assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000 + i, due[i]));
	}
	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, paid));
	ev = t_event(e, PW_EV_PAYMENT_SUCCEEDED, paid);
	assert_int_equal(OUT(APPLIED), t_send(e, &ev).outcome);
	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 3600 * 1000, later));
	/* before anything is due a sweep writes nothing */
	txnid = store_last_txnid(e->s);
	assert_int_equal(0, t_sweep_run(e, 4, &more));
	assert_false(more);
	assert_int_equal(txnid, store_last_txnid(e->s));

	e->now_ms = T_T0_MS + 120 * 1000;
	audit0 = fx_audit_ok(e->s);
	/* 11 due entries (10 unpaid + the paid one), 4 per sweep */
	n = t_sweep_run(e, 4, &more);
	assert_true(more);
	n += t_sweep_run(e, 4, &more);
	assert_true(more);
	n += t_sweep_run(e, 4, &more);
	assert_false(more);
	assert_int_equal(10, n);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(ST(EXPIRED), t_stored_status(e, due[i]));
		assert_int_equal(1, t_audits(e, "session.expired", due[i]));
	}
	assert_int_equal(ST(PAID), t_stored_status(e, paid));
	assert_int_equal(0, t_audits(e, "session.expired", paid));
	assert_int_equal(ST(CREATED), t_stored_status(e, later));
	assert_int_equal(audit0 + 10, fx_audit_ok(e->s));
	assert_int_equal(1, t_index_entries(e)); /* only the later one is left */
	/* nothing more is due: no write */
	txnid = store_last_txnid(e->s);
	assert_int_equal(0, t_sweep_run(e, 4, &more));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_pending_and_failed_sessions_expire_too(void **state)
{
	fx_env *e = *state;
	char pend[PW_SESSION_ID_BYTES_MAX];
	char fail[PW_SESSION_ID_BYTES_MAX];
	pw_event ev;
	bool more;

	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, pend));
	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, fail));
	ev = t_event(e, PW_EV_PAYMENT_PENDING, pend);
	assert_int_equal(OUT(APPLIED), t_send(e, &ev).outcome);
	ev = t_event(e, PW_EV_PAYMENT_FAILED, fail);
	assert_int_equal(OUT(APPLIED), t_send(e, &ev).outcome);
	assert_int_equal(ST(PENDING), t_status(e, pend));
	assert_int_equal(ST(FAILED), t_status(e, fail));
	e->now_ms = T_T0_MS + 60 * 1000;
	assert_int_equal(ST(EXPIRED), t_status(e, pend));
	assert_int_equal(ST(EXPIRED), t_status(e, fail));
	assert_int_equal(2, t_sweep_run(e, 16, &more));
	assert_int_equal(ST(EXPIRED), t_stored_status(e, pend));
	assert_int_equal(ST(EXPIRED), t_stored_status(e, fail));
}

static void
test_payment_after_due_is_an_anomaly_with_or_without_the_sweep(void **state)
{
	fx_env *e = *state;
	char swept[PW_SESSION_ID_BYTES_MAX];
	char unswept[PW_SESSION_ID_BYTES_MAX];
	store_webhook_result r1;
	store_webhook_result r2;
	pw_event ev;
	bool more;

	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, swept));
	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, unswept));
	e->now_ms = T_T0_MS + 61 * 1000;
	/* one is swept first (its entry only: a sweep of 1) */
	assert_int_equal(1, t_sweep_run(e, 1, &more));
	assert_true(more);
	{
		/* which one the sweep took: the index orders equal expiries by id */
		if (t_stored_status(e, swept) != ST(EXPIRED)) {
			char tmp[PW_SESSION_ID_BYTES_MAX];
			strcpy(tmp, swept);
			strcpy(swept, unswept);
			strcpy(unswept, tmp);
		}
	}
	assert_int_equal(ST(EXPIRED), t_stored_status(e, swept));
	assert_int_equal(ST(CREATED), t_stored_status(e, unswept));
	ev = t_event(e, PW_EV_PAYMENT_SUCCEEDED, swept);
	r1 = t_send(e, &ev);
	ev = t_event(e, PW_EV_PAYMENT_SUCCEEDED, unswept);
	r2 = t_send(e, &ev);
	/* the same answer either way */
	assert_int_equal(OUT(IGNORED), r1.outcome);
	assert_int_equal(OUT(IGNORED), r2.outcome);
	assert_true(r1.anomaly && r2.anomaly);
	assert_int_equal(ST(EXPIRED), r1.session_status);
	assert_int_equal(ST(EXPIRED), r2.session_status);
	assert_int_equal(0, r1.invoice_number + r2.invoice_number);
	assert_int_equal(ST(EXPIRED), t_stored_status(e, unswept));
	assert_int_equal(1, t_audits(e, "session.expired", swept));
	assert_int_equal(1, t_audits(e, "session.expired", unswept));
	assert_int_equal(0, t_audits(e, "session.paid", NULL));
	/* the sweep then finds the other entry and writes no second expiry */
	assert_int_equal(0, t_sweep_run(e, 16, &more));
	assert_int_equal(1, t_audits(e, "session.expired", unswept));
	assert_int_equal(0, t_index_entries(e));
	fx_audit_ok(e->s);
}

static void
test_payment_before_due_is_kept_after_it(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	pw_event ev;
	bool more;

	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, sid));
	e->now_ms = T_T0_MS + 59 * 1000;
	ev = t_event(e, PW_EV_PAYMENT_SUCCEEDED, sid);
	assert_int_equal(OUT(APPLIED), t_send(e, &ev).outcome);
	e->now_ms = T_T0_MS + 2 * T_DAY_MS;
	assert_int_equal(ST(PAID), t_status(e, sid));
	assert_int_equal(0, t_sweep_run(e, 16, &more));
	assert_int_equal(ST(PAID), t_stored_status(e, sid));
	assert_int_equal(0, t_index_entries(e));
}

static pw_status
t_cancel_apply(store_txn *t, void *arg)
{
	fx_env *e = ((void **) arg)[0];
	const char *sid = ((void **) arg)[1];
	char *reason = ((void **) arg)[2];
	Paywire__Store__V1__SessionRecord *rec = NULL;
	pw_status st = store_session_cancel(t, e->merchant_id, sid, &rec, reason, 160);

	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	return st;
}

static void
test_cancel_of_a_due_session_is_refused_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	char reason[160] = "";
	void *args[3] = { e, sid, reason };
	uint64_t txnid;

	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, sid));
	e->now_ms = T_T0_MS + 60 * 1000;
	txnid = store_last_txnid(e->s);
	assert_int_equal(PW_FAILED_PRECONDITION, store_apply_sync(e->s, t_cancel_apply, args));
	assert_non_null(strstr(reason, "expired"));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_the_writer_sweeps_an_idle_store_by_itself(void **state)
{
	fx_env *e = *state;
	char sid[PW_SESSION_ID_BYTES_MAX];
	store_stats st;

	assert_int_equal(PW_OK, t_session_at(e, T_T0_MS + 60 * 1000, sid));
	e->now_ms = T_T0_MS + 61 * 1000;
	/* no write is submitted: the writer wakes for the sweep on its own */
	store_test_set_sweep_interval_ms(e->s, 1);
	TW_WAIT_UNTIL(t_stored_status(e, sid) == ST(EXPIRED));
	assert_int_equal(ST(EXPIRED), t_stored_status(e, sid));
	assert_int_equal(1, t_audits(e, "session.expired", sid));
	store_stats_get(e->s, &st);
	assert_true(st.sweeps >= 1);
	assert_int_equal(1, st.sweep_expired);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_and_own_expiry_are_recorded_and_indexed,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_expiry_not_after_now_is_refused_and_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_reads_report_expired_from_the_moment_it_is_due,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_sweep_expires_due_sessions_in_bounded_batches,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_pending_and_failed_sessions_expire_too, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_payment_after_due_is_an_anomaly_with_or_without_the_sweep, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_payment_before_due_is_kept_after_it, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_cancel_of_a_due_session_is_refused_and_writes_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_the_writer_sweeps_an_idle_store_by_itself, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
