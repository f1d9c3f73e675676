/*
 * store_writer_test.c - the write queue and group commit: batching, per-write
 * rollback, deadlines, allocation failures, drain on close, the queue bound,
 * the error table and the fatal I/O error path.
 *
 * fdatasync(2) is interposed below (the executable's definition wins over
 * libc's for liblmdb.so), so a test can make LMDB's commit sync fail with EIO
 * exactly as a dying disk would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "kv_lmdb.h"
#include "kv_pg.h"
#include "store_fixture.h"
#include "store_internal.h"
#include "test_wait.h"

/* ---- fdatasync interposer ---- */

static atomic_bool t_fsync_fail = false;
static atomic_int t_fsync_calls = 0;

int fdatasync(int fd);

int
fdatasync(int fd)
{
	atomic_fetch_add(&t_fsync_calls, 1);
	if (atomic_load(&t_fsync_fail)) {
		errno = EIO;
		return -1;
	}
	return (int) syscall(SYS_fdatasync, fd);
}

/* ---- helpers ---- */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_writer", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_FULL, .open = true };
	return fx_env_setup(state, &cfg);
}

/* The same without fsync, for a test about the queue, not durability: 4,096
 * writes then cost no disk time (17 fsyncs took minutes on a busy disk). */
static int
t_setup_nosync(void **state)
{
	const fx_cfg cfg = { .name = "store_writer", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_NONE, .open = true };
	return fx_env_setup(state, &cfg);
}

static int
t_teardown(void **state)
{
	atomic_store(&t_fsync_fail, false);
	pw_alloc_fail_at(0);
	return fx_env_teardown(state);
}

static const uint8_t t_hash0[32];

/* A queued write: puts reply ("test", rid) when `write`, then answers ret. */
typedef struct t_job {
	store_write w;            /* the queued write */
	char rid[32];             /* request id it writes */
	bool write;               /* put a record */
	pw_status ret;            /* what apply answers after the put */
	atomic_int applied;       /* apply calls */
	atomic_int done;          /* done calls */
	_Atomic pw_status st;     /* done's status */
	pthread_t done_thread;    /* the thread done ran on */
} t_job;

static atomic_int t_done_total;

static pw_status
t_job_apply(store_txn *t, void *arg)
{
	t_job *j = arg;
	pw_status st;

	atomic_fetch_add(&j->applied, 1);
	if (j->write) {
		st = store_reply_put(t, "test", j->rid, t_hash0, (const uint8_t *) j->rid,
		    strlen(j->rid));
		if (st != PW_OK) {
			return st;
		}
	}
	return j->ret;
}

static void
t_job_done(pw_status st, void *arg)
{
	t_job *j = arg;
	j->done_thread = pthread_self(); /* before done is counted: read after it */
	atomic_store(&j->st, st);
	atomic_fetch_add(&j->done, 1);
	atomic_fetch_add(&t_done_total, 1);
}

static void
t_job_init(t_job *j, int i, bool write, pw_status ret)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->rid, sizeof(j->rid), "req-%04d", i);
	j->write = write;
	j->ret = ret;
	atomic_init(&j->st, PW_UNIMPLEMENTED);
	j->w.apply = t_job_apply;
	j->w.done = t_job_done;
	j->w.arg = j;
}

/* Waits until t_done_total reaches n. Thousands of fsynced writes may take
 * minutes on a busy disk: only TW_HANG_MS without a single answer ends it. */
static void
t_wait_done(int n)
{
	TW_WAIT_PROGRESS(atomic_load(&t_done_total) >= n, atomic_load(&t_done_total));
	assert_int_equal(n, atomic_load(&t_done_total));
}

/* Reads reply ("test", rid) back in a write txn. */
typedef struct t_get {
	const char *rid;  /* in */
	uint8_t *got;     /* out */
	size_t len;       /* out */
} t_get;

static pw_status
t_get_apply(store_txn *t, void *arg)
{
	t_get *g = arg;
	return store_reply_get(t, "test", g->rid, t_hash0, &g->got, &g->len);
}

static pw_status
t_reply_check(store *s, const char *rid)
{
	t_get g = { .rid = rid };
	pw_status st = store_apply_sync(s, t_get_apply, &g);
	if (st == PW_OK) {
		assert_memory_equal(rid, g.got, g.len);
	}
	free(g.got);
	return st;
}

/* A write that blocks the writer until the test opens it. */
typedef struct t_gate {
	pthread_mutex_t mu;  /* guards the flags */
	pthread_cond_t cv;   /* signalled on change */
	bool entered;        /* the writer is inside */
	bool open;           /* the test let it go */
	bool fail_store;     /* mark the store failed while inside */
	store_write w;       /* the queued write */
	atomic_int done;     /* done calls */
	_Atomic pw_status st; /* done's status */
} t_gate;

static pw_status
t_gate_apply(store_txn *t, void *arg)
{
	t_gate *g = arg;
	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cv);
	while (!g->open) {
		pthread_cond_wait(&g->cv, &g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	if (g->fail_store) {
		store_fail(t->s, "test: simulated I/O error");
	}
	return PW_OK;
}

static void
t_gate_done(pw_status st, void *arg)
{
	t_gate *g = arg;
	atomic_store(&g->st, st);
	atomic_fetch_add(&g->done, 1);
}

static void
t_gate_start(store *s, t_gate *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->w.apply = t_gate_apply;
	g->w.done = t_gate_done;
	g->w.arg = g;
	assert_int_equal(PW_OK, store_submit(s, &g->w));
	pthread_mutex_lock(&g->mu);
	while (!g->entered) {
		pthread_cond_wait(&g->cv, &g->mu);
	}
	pthread_mutex_unlock(&g->mu);
}

static void
t_gate_open(t_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void
t_gate_fini(t_gate *g)
{
	TW_WAIT_UNTIL(atomic_load(&g->done) != 0);
	assert_int_equal(1, atomic_load(&g->done));
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

/* ---- group commit ---- */

#define T_THREADS 4
#define T_PER_THREAD 16

typedef struct t_submitter {
	store *s;       /* the store */
	t_job *jobs;    /* count jobs */
	int count;      /* how many */
	bool run_here;  /* submit them run_here, paced so the writer idles now and then */
} t_submitter;

static void *
t_submit_main(void *arg)
{
	t_submitter *sub = arg;
	for (int i = 0; i < sub->count; i++) {
		sub->jobs[i].w.run_here = sub->run_here;
		PW_ASSERT(store_submit(sub->s, &sub->jobs[i].w) == PW_OK);
		if (sub->run_here) {
			tw_sleep_ms(2 + i % 5); /* the writer goes idle now and then */
		} else if (i % 4 == 0) {
			tw_sleep_ms(1); /* interleave the threads' submits */
		}
	}
	return NULL;
}

static void
test_group_commit_applies_concurrent_writes_once_in_fewer_commits(void **state)
{
	fx_env *e = *state;
	static t_job jobs[T_THREADS * T_PER_THREAD];
	t_submitter subs[T_THREADS];
	pthread_t th[T_THREADS];
	t_gate g;
	store_stats st;
	store_counts c;
	int n = T_THREADS * T_PER_THREAD;
	int fsyncs;

	atomic_store(&t_done_total, 0);
	for (int i = 0; i < n; i++) {
		t_job_init(&jobs[i], i, true, PW_OK);
	}
	fsyncs = atomic_load(&t_fsync_calls);
	/* The writer is held inside a first write while the threads submit, so
	 * the batching does not depend on how fast this machine schedules them. */
	t_gate_start(e->s, &g);
	for (int i = 0; i < T_THREADS; i++) {
		subs[i] = (t_submitter){ .s = e->s, .jobs = &jobs[i * T_PER_THREAD],
			.count = T_PER_THREAD };
		assert_int_equal(0, pthread_create(&th[i], NULL, t_submit_main, &subs[i]));
	}
	for (int i = 0; i < T_THREADS; i++) {
		pthread_join(th[i], NULL);
	}
	t_gate_open(&g);
	t_wait_done(n);
	t_gate_fini(&g);
	for (int i = 0; i < n; i++) {
		assert_int_equal(1, atomic_load(&jobs[i].done));
		assert_int_equal(1, atomic_load(&jobs[i].applied));
		assert_int_equal(PW_OK, atomic_load(&jobs[i].st));
	}
	store_stats_get(e->s, &st);
	assert_int_equal(n + 1, st.writes); /* the n writes and the gate's */
	assert_true(st.batches < (uint64_t) n);
	/* every batch committed but the gate's, which wrote nothing */
	assert_int_equal(st.batches, st.commits + 1);
	assert_int_equal(1, st.unchanged);
	/* one data sync (plus LMDB's meta sync) per batch, not per write */
	assert_true(atomic_load(&t_fsync_calls) - fsyncs <= 2 * (int) st.batches);
	print_message("64 writes: %llu batches\n", (unsigned long long) st.batches);

	fx_store_reopen(e);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(n, c.replies);
	for (int i = 0; i < n; i++) {
		assert_int_equal(PW_OK, t_reply_check(e->s, jobs[i].rid));
	}
}

/* ---- run_here: the caller commits when the writer is idle ---- */

/* The writer's own timers off (the expiry sweep, the idle last-used
 * check), so that it waits for work without bound and wakes only for a
 * write: whether it is idle is then the test's to decide. */
static void
t_writer_timers_off(store *s)
{
	store_test_set_sweep_interval_ms(s, 0);
	store_test_set_lastused_ms(s, atomic_load(&s->lu_granularity_ms),
	    atomic_load(&s->lu_check_ms), 0);
}

/* True when the writer waits for work with nothing queued, and with no
 * bound after t_writer_timers_off: no timer, and no wake-up from the knobs
 * it set still on its way, can take the writer out of that wait while the
 * test relies on it (a run_here write that finds it out of its wait is
 * queued instead). */
static bool
t_writer_idle(store *s)
{
	bool idle;

	pthread_mutex_lock(&s->mu);
	idle = s->writer_waiting && s->head == NULL && s->writer_wait_ms < 0;
	pthread_mutex_unlock(&s->mu);
	return idle;
}

static void
test_run_here_write_commits_on_the_callers_thread_when_the_writer_is_idle(void **state)
{
	fx_env *e = *state;
	static t_job j; /* static: still queued when an assert fails, its done runs at close */
	static t_job q;
	uint64_t txnid;
	store_stats st;

	atomic_store(&t_done_total, 0);
	t_writer_timers_off(e->s);
	/* a first write of one: the writer's last batch is small */
	t_job_init(&q, 0, true, PW_OK);
	assert_int_equal(PW_OK, store_submit(e->s, &q.w));
	t_wait_done(1);
	TW_WAIT_UNTIL(t_writer_idle(e->s));
	assert_true(t_writer_idle(e->s));
	txnid = store_last_txnid(e->s);

	t_job_init(&j, 1, true, PW_OK);
	j.w.run_here = true;
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	/* answered before store_submit returned, on this thread, durable */
	assert_int_equal(1, atomic_load(&j.done));
	assert_int_equal(1, atomic_load(&j.applied));
	assert_int_equal(PW_OK, atomic_load(&j.st));
	assert_true(pthread_equal(j.done_thread, pthread_self()));
	assert_int_equal(txnid + 1, store_last_txnid(e->s));
	store_stats_get(e->s, &st);
	assert_int_equal(1, st.last_batch_size);
	assert_int_equal(2, st.commits);
	/* the writer still serves queued writes afterwards */
	t_job_init(&q, 2, true, PW_OK);
	assert_int_equal(PW_OK, store_submit(e->s, &q.w));
	t_wait_done(3);
	assert_false(pthread_equal(q.done_thread, pthread_self()));

	fx_store_reopen(e);
	assert_int_equal(PW_OK, t_reply_check(e->s, "req-0001"));
	assert_int_equal(PW_OK, t_reply_check(e->s, "req-0002"));
}

/* A run_here write that fails is rolled back as a queued one is, and one
 * that changes nothing ends without a commit: the same batch code. */
static void
test_run_here_failure_and_no_change_write_nothing(void **state)
{
	fx_env *e = *state;
	static t_job j; /* static: see above */
	uint64_t txnid;
	store_counts c;

	atomic_store(&t_done_total, 0);
	t_writer_timers_off(e->s);
	TW_WAIT_UNTIL(t_writer_idle(e->s));
	txnid = store_last_txnid(e->s);
	t_job_init(&j, 7, true, PW_INVALID_ARGUMENT);
	j.w.run_here = true;
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	assert_int_equal(1, atomic_load(&j.done));
	assert_true(pthread_equal(j.done_thread, pthread_self()));
	assert_int_equal(PW_INVALID_ARGUMENT, atomic_load(&j.st));
	t_job_init(&j, 8, false, PW_OK);
	j.w.run_here = true;
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	assert_int_equal(1, atomic_load(&j.done));
	assert_int_equal(PW_OK, atomic_load(&j.st));
	assert_int_equal(txnid, store_last_txnid(e->s)); /* no commit, no fsync */
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(0, c.replies);
}

/* While a batch runs, a run_here write is queued and answered by the
 * writer; after a large batch the next one goes to the writer too (writes
 * are arriving together: they commit together), and once batches are small
 * again it runs on its caller's thread. */
static void
test_run_here_write_goes_to_the_writer_while_it_is_busy_or_after_a_large_batch(void **state)
{
	fx_env *e = *state;
	static t_job jobs[8];
	static t_job j; /* static: see above */
	t_gate g;
	store_stats st;

	atomic_store(&t_done_total, 0);
	t_writer_timers_off(e->s);
	t_gate_start(e->s, &g); /* the writer is inside a batch */
	t_job_init(&j, 100, true, PW_OK);
	j.w.run_here = true;
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	for (int i = 0; i < 8; i++) {
		t_job_init(&jobs[i], i, true, PW_OK);
		assert_int_equal(PW_OK, store_submit(e->s, &jobs[i].w));
	}
	assert_int_equal(0, atomic_load(&j.done)); /* queued: the writer is busy */
	t_gate_open(&g);
	t_wait_done(9);
	t_gate_fini(&g);
	assert_int_equal(PW_OK, atomic_load(&j.st));
	assert_false(pthread_equal(j.done_thread, pthread_self()));
	store_stats_get(e->s, &st);
	assert_int_equal(9, st.last_batch_size); /* j and the eight, together */

	/* after that batch of 9: queued, though the writer is idle */
	TW_WAIT_UNTIL(t_writer_idle(e->s));
	t_job_init(&j, 101, true, PW_OK);
	j.w.run_here = true;
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	t_wait_done(10);
	assert_false(pthread_equal(j.done_thread, pthread_self()));
	/* after that batch of 1: here */
	TW_WAIT_UNTIL(t_writer_idle(e->s));
	t_job_init(&j, 102, true, PW_OK);
	j.w.run_here = true;
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	assert_int_equal(1, atomic_load(&j.done));
	assert_true(pthread_equal(j.done_thread, pthread_self()));
	assert_int_equal(PW_OK, atomic_load(&j.st));
}

/* Threads submitting run_here writes at once, some running them, others
 * queueing behind them or the writer: every write applied and answered
 * exactly once, all of them durable, and the writer still closes cleanly. */
#define T_HERE_THREADS 3
#define T_HERE_PER_THREAD 40

static void
test_run_here_writes_from_many_threads_are_each_applied_once(void **state)
{
	fx_env *e = *state;
	static t_job jobs[T_HERE_THREADS * T_HERE_PER_THREAD];
	t_submitter subs[T_HERE_THREADS];
	pthread_t th[T_HERE_THREADS];
	store_stats st;
	store_counts c;
	int n = T_HERE_THREADS * T_HERE_PER_THREAD;
	int here = 0;

	atomic_store(&t_done_total, 0);
	for (int i = 0; i < n; i++) {
		t_job_init(&jobs[i], i, true, PW_OK);
	}
	for (int i = 0; i < T_HERE_THREADS; i++) {
		subs[i] = (t_submitter){ .s = e->s, .jobs = &jobs[i * T_HERE_PER_THREAD],
			.count = T_HERE_PER_THREAD, .run_here = true };
		assert_int_equal(0, pthread_create(&th[i], NULL, t_submit_main, &subs[i]));
	}
	t_wait_done(n);
	for (int i = 0; i < T_HERE_THREADS; i++) {
		pthread_join(th[i], NULL);
	}
	for (int i = 0; i < n; i++) {
		assert_int_equal(1, atomic_load(&jobs[i].done));
		assert_int_equal(1, atomic_load(&jobs[i].applied));
		assert_int_equal(PW_OK, atomic_load(&jobs[i].st));
		here += pthread_equal(jobs[i].done_thread, th[i / T_HERE_PER_THREAD]) ? 1 : 0;
	}
	store_stats_get(e->s, &st);
	assert_int_equal(n, st.writes);
	print_message("%d run_here writes: %d on their caller's thread, %llu batches\n", n, here,
	    (unsigned long long) st.batches);
	fx_store_reopen(e);
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(n, c.replies);
}

/* ---- rollback ---- */

static void
test_failed_apply_leaves_nothing_behind(void **state)
{
	fx_env *e = *state;
	t_job j;
	store_counts c;
	uint64_t txnid = store_last_txnid(e->s);

	atomic_store(&t_done_total, 0);
	t_job_init(&j, 1, true, PW_INTERNAL); /* puts, then fails */
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	t_wait_done(1);
	assert_int_equal(PW_INTERNAL, atomic_load(&j.st));
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(0, c.replies);
	assert_int_equal(PW_NOT_FOUND, t_reply_check(e->s, j.rid));
	assert_false(store_failed(e->s));
}

/* Writes that succeed without writing (a duplicate event, a replay) are
 * answered OK with no commit: the engine's txn id does not move, no fsync. */
static void
test_writes_that_change_nothing_end_without_a_commit(void **state)
{
	fx_env *e = *state;
	t_gate g;
	t_job j[3];
	store_stats s0;
	store_stats s1;
	uint64_t txnid = store_last_txnid(e->s);
	int fsyncs = atomic_load(&t_fsync_calls);

	atomic_store(&t_done_total, 0);
	store_stats_get(e->s, &s0);
	for (int i = 0; i < 3; i++) {
		t_job_init(&j[i], 10 + i, false, PW_OK); /* reads only */
	}
	t_gate_start(e->s, &g); /* the three queue into one batch */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(PW_OK, store_submit(e->s, &j[i].w));
	}
	t_gate_open(&g);
	t_wait_done(3);
	t_gate_fini(&g);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(1, atomic_load(&j[i].applied));
		assert_int_equal(PW_OK, atomic_load(&j[i].st));
	}
	store_stats_get(e->s, &s1);
	assert_int_equal(s0.batches + 2, s1.batches);
	assert_int_equal(s0.commits, s1.commits);
	assert_int_equal(s0.unchanged + 2, s1.unchanged);
	assert_int_equal(txnid, store_last_txnid(e->s));
	assert_int_equal(fsyncs, atomic_load(&t_fsync_calls));

	/* one writing job in such a batch: the batch commits, once */
	t_job_init(&j[0], 20, true, PW_OK);
	t_job_init(&j[1], 21, false, PW_OK);
	atomic_store(&t_done_total, 0);
	t_gate_start(e->s, &g);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(PW_OK, store_submit(e->s, &j[i].w));
	}
	t_gate_open(&g);
	t_wait_done(2);
	t_gate_fini(&g);
	store_stats_get(e->s, &s0);
	assert_int_equal(s1.commits + 1, s0.commits);
	assert_int_equal(txnid + 1, store_last_txnid(e->s));
	assert_int_equal(PW_OK, t_reply_check(e->s, j[0].rid));
}

static void
test_batch_with_one_failing_write_commits_the_others(void **state)
{
	fx_env *e = *state;
	t_gate g;
	t_job j[3];
	store_stats st;

	atomic_store(&t_done_total, 0);
	t_job_init(&j[0], 1, true, PW_OK);
	t_job_init(&j[1], 2, true, PW_INVALID_TRANSITION);
	t_job_init(&j[2], 3, true, PW_OK);
	t_gate_start(e->s, &g); /* the writer is busy: the next three queue up */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(PW_OK, store_submit(e->s, &j[i].w));
	}
	t_gate_open(&g);
	t_wait_done(3);
	t_gate_fini(&g);
	store_stats_get(e->s, &st);
	assert_int_equal(2, st.batches);
	assert_int_equal(3, st.last_batch_size);
	assert_int_equal(1, st.commits);   /* the three writes' batch */
	assert_int_equal(1, st.unchanged); /* the gate's: it wrote nothing */
	/* j[1] failed after its put: the flat run (j[0], then j[1]) was undone
	 * and the batch ran again with each write nested */
	assert_int_equal(1, st.nested_reruns);
	assert_int_equal(2, atomic_load(&j[0].applied));
	assert_int_equal(2, atomic_load(&j[1].applied));
	assert_int_equal(1, atomic_load(&j[2].applied));
	assert_int_equal(PW_OK, atomic_load(&j[0].st));
	assert_int_equal(PW_INVALID_TRANSITION, atomic_load(&j[1].st));
	assert_int_equal(PW_OK, atomic_load(&j[2].st));
	fx_store_reopen(e);
	assert_int_equal(PW_OK, t_reply_check(e->s, j[0].rid));
	assert_int_equal(PW_NOT_FOUND, t_reply_check(e->s, j[1].rid));
	assert_int_equal(PW_OK, t_reply_check(e->s, j[2].rid));
}

/* A write refused before it wrote anything (most refusals) leaves nothing to
 * undo: the flat run goes on and the batch runs once, each apply once. */
static void
test_refusal_before_any_write_keeps_the_flat_run(void **state)
{
	fx_env *e = *state;
	t_gate g;
	t_job j[4];
	store_stats s0;
	store_stats s1;
	uint64_t txnid = store_last_txnid(e->s);

	atomic_store(&t_done_total, 0);
	store_stats_get(e->s, &s0);
	t_job_init(&j[0], 1, true, PW_OK);
	t_job_init(&j[1], 2, false, PW_INVALID_TRANSITION); /* refuses, wrote nothing */
	t_job_init(&j[2], 3, true, PW_OK);
	t_job_init(&j[3], 4, false, PW_NOT_FOUND);
	t_gate_start(e->s, &g);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(PW_OK, store_submit(e->s, &j[i].w));
	}
	t_gate_open(&g);
	t_wait_done(4);
	t_gate_fini(&g);
	store_stats_get(e->s, &s1);
	assert_int_equal(s0.nested_reruns, s1.nested_reruns);
	assert_int_equal(s0.commits + 1, s1.commits);
	assert_int_equal(4, s1.last_batch_size);
	assert_int_equal(txnid + 1, store_last_txnid(e->s));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(1, atomic_load(&j[i].applied));
	}
	assert_int_equal(PW_OK, atomic_load(&j[0].st));
	assert_int_equal(PW_INVALID_TRANSITION, atomic_load(&j[1].st));
	assert_int_equal(PW_OK, atomic_load(&j[2].st));
	assert_int_equal(PW_NOT_FOUND, atomic_load(&j[3].st));
	fx_store_reopen(e);
	assert_int_equal(PW_OK, t_reply_check(e->s, j[0].rid));
	assert_int_equal(PW_NOT_FOUND, t_reply_check(e->s, j[1].rid));
	assert_int_equal(PW_OK, t_reply_check(e->s, j[2].rid));
}

static void
test_deadline_passed_is_not_applied_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	t_job late;
	t_job ok;
	uint64_t txnid = store_last_txnid(e->s);

	atomic_store(&t_done_total, 0);
	t_job_init(&late, 1, true, PW_OK);
	late.w.deadline_mono_ms = pw_monotonic_ms() - 1;
	assert_int_equal(PW_OK, store_submit(e->s, &late.w));
	t_wait_done(1);
	assert_int_equal(PW_DEADLINE_EXCEEDED, atomic_load(&late.st));
	assert_int_equal(0, atomic_load(&late.applied));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* a deadline in the future is no obstacle */
	t_job_init(&ok, 2, true, PW_OK);
	ok.w.deadline_mono_ms = pw_monotonic_ms() + 60000;
	assert_int_equal(PW_OK, store_submit(e->s, &ok.w));
	t_wait_done(2);
	assert_int_equal(PW_OK, atomic_load(&ok.st));
	assert_int_equal(PW_NOT_FOUND, t_reply_check(e->s, late.rid));
}

/* ---- allocation failures ---- */

static void
test_allocation_failure_at_every_point_leaves_nothing_behind(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	store_session_params req = { 0 };
	fx_session c = { .req = &req, .hash = { 1 } };
	store_counts cnt;
	uint64_t txnid = store_last_txnid(e->s);
	pw_status st = PW_INTERNAL;
	long n;

	store_test_set_flat_runs(e->s, false); /* every point of the nested path */
	for (n = 1; n < 200; n++) {
		pw_alloc_fail_at(n);
		st = store_apply_sync(e->s, fx_merchant_apply, &m);
		pw_alloc_fail_at(0);
		if (st == PW_OK) {
			break;
		}
		assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
		assert_null(m.rec);
		assert_int_equal(txnid, store_last_txnid(e->s));
		assert_int_equal(PW_OK, store_counts_get(e->s, &cnt));
		assert_int_equal(0, cnt.merchants);
		assert_int_equal(0, cnt.audit);
	}
	assert_int_equal(PW_OK, st);
	assert_true(n > 1); /* at least one allocation failed */
	req.amount_minor = 100;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.idempotency_key = "k1";
	c.merchant_id = m.rec->merchant_id;
	txnid = store_last_txnid(e->s);
	for (n = 1; n < 200; n++) {
		pw_alloc_fail_at(n);
		st = store_apply_sync(e->s, fx_session_apply, &c);
		pw_alloc_fail_at(0);
		if (st == PW_OK) {
			break;
		}
		assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
		assert_int_equal(txnid, store_last_txnid(e->s));
		assert_int_equal(PW_OK, store_counts_get(e->s, &cnt));
		assert_int_equal(0, cnt.sessions);
	}
	assert_int_equal(PW_OK, st);
	assert_true(n > 2); /* merchant lookup and record read both failed once */
	paywire__store__v1__session_record__free_unpacked(c.rec, NULL);
	paywire__store__v1__merchant_record__free_unpacked(m.rec, NULL);
	assert_int_equal(PW_OK, store_counts_get(e->s, &cnt));
	assert_int_equal(1, cnt.sessions);
	assert_int_equal(2, cnt.audit);
}

/* The flat first run, allocation N failing for N = 1, 2, ...: each create
 * either fails with nothing written (the failure came before its first put)
 * or writes its merchant exactly once (a failure after a put undoes the flat
 * run; the nested re-run, with the one failure spent, goes through), until N
 * is past the create's last allocation. */
static void
test_allocation_failure_in_a_flat_run_writes_once_or_nothing(void **state)
{
	fx_env *e = *state;
	store_counts c0;
	store_counts c1;
	store_stats s0;
	store_stats s1;
	int recovered = 0;
	long n;

	for (n = 1; n < 200; n++) {
		fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
		uint64_t txnid = store_last_txnid(e->s);
		pw_status st;

		store_stats_get(e->s, &s0);
		assert_int_equal(PW_OK, store_counts_get(e->s, &c0));
		pw_alloc_fail_at(n);
		st = store_apply_sync(e->s, fx_merchant_apply, &m);
		pw_alloc_fail_at(0);
		store_stats_get(e->s, &s1);
		assert_int_equal(PW_OK, store_counts_get(e->s, &c1));
		if (st != PW_OK) {
			assert_int_equal(PW_RESOURCE_EXHAUSTED, st);
			assert_null(m.rec);
			assert_int_equal(txnid, store_last_txnid(e->s));
			assert_int_equal(c0.merchants, c1.merchants);
			assert_int_equal(c0.audit, c1.audit);
			continue;
		}
		assert_non_null(m.rec);
		assert_int_equal(txnid + 1, store_last_txnid(e->s));
		assert_int_equal(c0.merchants + 1, c1.merchants);
		assert_int_equal(c0.audit + 1, c1.audit);
		fx_merchant_free(&m);
		if (s1.nested_reruns == s0.nested_reruns) {
			break; /* no allocation failed: the walk is over */
		}
		assert_int_equal(s0.nested_reruns + 1, s1.nested_reruns);
		assert_int_equal(2, m.calls); /* the flat run and the nested one */
		recovered++;
	}
	assert_true(n < 200);
	assert_true(recovered > 0); /* failures after a put were walked */
}

/* ---- close, queue bound ---- */

static void
test_close_applies_and_answers_every_queued_write(void **state)
{
	fx_env *e = *state;
	t_job j[10];
	store_counts c;

	atomic_store(&t_done_total, 0);
	store_test_set_writer_delay_ms(e->s, 30);
	for (int i = 0; i < 10; i++) {
		t_job_init(&j[i], i, true, PW_OK);
		assert_int_equal(PW_OK, store_submit(e->s, &j[i].w));
	}
	store_close(e->s); /* drains */
	e->s = NULL;
	assert_int_equal(10, atomic_load(&t_done_total));
	for (int i = 0; i < 10; i++) {
		assert_int_equal(1, atomic_load(&j[i].done));
		assert_int_equal(PW_OK, atomic_load(&j[i].st));
	}
	assert_int_equal(PW_OK, fx_store_open(e));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(10, c.replies);
}

static void
test_full_queue_refuses_with_unavailable(void **state)
{
	fx_env *e = *state;
	static t_job jobs[PW_STORE_QUEUE_MAX]; /* static: nothing to free when an assert fails */
	t_job extra;
	t_gate g;
	store_stats st;

	atomic_store(&t_done_total, 0);
	t_gate_start(e->s, &g);
	for (int i = 0; i < PW_STORE_QUEUE_MAX; i++) {
		t_job_init(&jobs[i], i, false, PW_OK);
		assert_int_equal(PW_OK, store_submit(e->s, &jobs[i].w));
	}
	t_job_init(&extra, -1, false, PW_OK);
	extra.w.done = fx_never_done;
	assert_int_equal(PW_UNAVAILABLE, store_submit(e->s, &extra.w));
	t_gate_open(&g);
	t_wait_done(PW_STORE_QUEUE_MAX);
	t_gate_fini(&g);
	store_stats_get(e->s, &st);
	assert_int_equal(1 + PW_STORE_QUEUE_MAX / PW_STORE_BATCH_MAX, st.batches);
	assert_int_equal(PW_STORE_BATCH_MAX, st.last_batch_size);
	assert_int_equal(0, atomic_load(&extra.applied));
}

/* ---- errors ---- */

static void
test_error_table_maps_lmdb_results(void **state)
{
	fx_env *e = *state;

	FX_LMDB_ONLY("LMDB's error table; PostgreSQL's is test_error_table_maps_pg_results");
	assert_int_equal(PW_OK, kv_lmdb_status(e->s->env, MDB_SUCCESS, "test"));
	assert_int_equal(PW_NOT_FOUND, kv_lmdb_status(e->s->env, MDB_NOTFOUND, "test"));
	assert_int_equal(PW_RESOURCE_EXHAUSTED, kv_lmdb_status(e->s->env, MDB_MAP_FULL, "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_lmdb_status(e->s->env, MDB_READERS_FULL, "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_lmdb_status(e->s->env, ENOSPC, "test"));
	assert_int_equal(PW_INTERNAL, kv_lmdb_status(e->s->env, 123456, "test: unmapped"));
	assert_false(store_failed(e->s));
	assert_int_equal(PW_INTERNAL, kv_lmdb_status(e->s->env, MDB_CORRUPTED, "test"));
	assert_true(store_failed(e->s));
}

/* Points the root page of table name past the end of data.mdb, in the live
 * record of LMDB's main tree (0.9 layout, 4 KiB pages, little-endian): the
 * newer of the two meta pages names the main tree's root (MDB_meta: its
 * MAIN_DBI MDB_db at offset 16 + 24 + 48, md_root 40 bytes into it, the
 * txnid at 16 + 24 + 96 + 8); the tree of this test's store is one leaf,
 * whose node for the table is F_SUBDATA (2) with a 48-byte MDB_db (md_root
 * at offset 40). Only that page: freed pages hold stale copies of the node
 * whose bytes now belong to other records. Returns the nodes patched. */
static int
t_corrupt_table_root(const fx_env *e, const char *name)
{
	enum { PS = 4096, META_ROOT = 16 + 24 + 48 + 40, META_TXNID = 16 + 24 + 96 + 8 };
	char path[256];
	size_t klen = strlen(name);
	uint8_t head[8] = { 48, 0, 0, 0, 2, 0, (uint8_t) klen, 0 };
	uint64_t past_end = UINT64_C(0x7fffffff0);
	uint64_t t0, t1, root;
	uint8_t *buf, *page;
	long size;
	int patched = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/data.mdb", e->dir);
	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(0, fseek(f, 0, SEEK_END));
	size = ftell(f);
	assert_true(size >= 4 * PS);
	buf = malloc((size_t) size);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal((size_t) size, fread(buf, 1, (size_t) size, f));
	memcpy(&t0, buf + META_TXNID, 8);
	memcpy(&t1, buf + PS + META_TXNID, 8);
	memcpy(&root, buf + (t1 > t0 ? PS : 0) + META_ROOT, 8);
	assert_true(root >= 2 && (long) ((root + 1) * PS) <= size);
	page = buf + root * PS;
	for (size_t i = 16; i + 8 + klen + 48 <= PS; i++) {
		if (memcmp(page + i, head, 8) == 0 && memcmp(page + i + 8, name, klen) == 0) {
			memcpy(page + i + 8 + klen + 40, &past_end, sizeof(past_end));
			patched++;
		}
	}
	rewind(f);
	assert_int_equal((size_t) size, fwrite(buf, 1, (size_t) size, f));
	assert_int_equal(0, fclose(f));
	free(buf);
	return patched;
}

/* A table damaged on disk (its root page past the end of the file): the
 * read that meets it answers PW_INTERNAL and the store fails, so the server
 * exits 3 for its supervisor; no assertion, no crash. LMDB 0.9 reports the
 * missing page on the call that meets it, and MDB_BAD_TXN on later calls of
 * the same transaction: both mean the data cannot be trusted. */
static void
test_table_damaged_on_disk_fails_the_store(void **state)
{
	fx_env *e = *state;
	fx_merchant m = { .name = "Acme", .mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	store_session_params req = { .amount_minor = 100, .currency = "EUR",
		.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .idempotency_key = "k1" };
	fx_session c = { .req = &req, .hash = { 1 } };
	Paywire__Store__V1__SessionRecord *rec = NULL;
	char sid[PW_SESSION_ID_BYTES_MAX];
	pw_status st = PW_OK;

	FX_LMDB_ONLY("LMDB's pages");
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_merchant_apply, &m));
	c.merchant_id = m.rec->merchant_id;
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	snprintf(sid, sizeof(sid), "%s", c.rec->session->id);
	fx_session_free(&c);
	fx_merchant_free(&m);
	fx_store_close(e);
	assert_int_equal(1, t_corrupt_table_root(e, "sessions"));
	assert_int_equal(PW_OK, fx_store_open(e));
	assert_false(store_failed(e->s));
	for (int i = 0; i < 3 && st != PW_INTERNAL; i++) {
		st = store_session_get(e->s, sid, &rec);
		assert_null(rec);
	}
	assert_int_equal(PW_INTERNAL, st);
	assert_true(store_failed(e->s));
	/* and writes are refused from then on */
	assert_int_equal(PW_UNAVAILABLE, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	    NULL, 0));
}

static void
test_error_table_maps_pg_results(void **state)
{
	fx_env *e = *state;

	if (!fx_pg()) {
		print_message("[ PostgreSQL only ] PostgreSQL's error table\n");
		skip();
	}
	assert_int_equal(KV_CONFLICT, kv_pg_status(e->s->env, "40001", "ser", "test"));
	assert_int_equal(KV_CONFLICT, kv_pg_status(e->s->env, "40P01", "deadlock", "test"));
	assert_int_equal(KV_CONFLICT, kv_pg_status(e->s->env, "23505", "unique", "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_pg_status(e->s->env, "08006", "gone", "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_pg_status(e->s->env, "57P01", "shutdown", "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_pg_status(e->s->env, "25006", "standby", "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_pg_status(e->s->env, "53100", "disk full", "test"));
	assert_int_equal(PW_RESOURCE_EXHAUSTED, kv_pg_status(e->s->env, "53200", "oom", "test"));
	assert_int_equal(PW_UNAVAILABLE, kv_pg_status(e->s->env, NULL, "no answer", "test"));
	assert_int_equal(PW_INTERNAL, kv_pg_status(e->s->env, "42P01", "no table", "test"));
	assert_false(store_failed(e->s));
	assert_int_equal(PW_INTERNAL, kv_pg_status(e->s->env, "XX001", "corrupt", "test"));
	assert_true(store_failed(e->s));
}

static void
test_failure_inside_a_batch_fails_it_and_every_queued_write(void **state)
{
	fx_env *e = *state;
	t_gate g;
	t_job j;
	t_job refused;
	uint64_t txnid = store_last_txnid(e->s);

	atomic_store(&t_done_total, 0);
	t_gate_start(e->s, &g);
	g.fail_store = true;
	t_job_init(&j, 1, true, PW_OK);
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	t_gate_open(&g);
	t_wait_done(1);
	t_gate_fini(&g);
	assert_int_equal(PW_UNAVAILABLE, atomic_load(&g.st));
	assert_int_equal(PW_UNAVAILABLE, atomic_load(&j.st));
	assert_int_equal(0, atomic_load(&j.applied));
	assert_true(store_failed(e->s));
	t_job_init(&refused, 2, true, PW_OK);
	refused.w.done = fx_never_done;
	assert_int_equal(PW_UNAVAILABLE, store_submit(e->s, &refused.w));
	assert_int_equal(txnid, store_last_txnid(e->s));
}

static void
test_io_error_at_commit_fails_the_store_and_reads_go_on(void **state)
{
	fx_env *e = *state;
	t_job first;
	t_job j;
	t_job later;
	store_counts c;
	uint64_t txnid;

	FX_LMDB_ONLY("the fsync trap is in this process (LMDB's own fdatasync); PostgreSQL "
	    "syncs in its server, whose I/O errors it handles itself (a PANIC and recovery)");
	atomic_store(&t_done_total, 0);
	t_job_init(&first, 1, true, PW_OK);
	assert_int_equal(PW_OK, store_submit(e->s, &first.w));
	t_wait_done(1);
	assert_int_equal(PW_OK, atomic_load(&first.st));
	txnid = store_last_txnid(e->s);

	atomic_store(&t_fsync_fail, true);
	t_job_init(&j, 2, true, PW_OK);
	assert_int_equal(PW_OK, store_submit(e->s, &j.w));
	t_wait_done(2);
	atomic_store(&t_fsync_fail, false);
	assert_int_equal(1, atomic_load(&j.applied));
	assert_int_equal(PW_INTERNAL, atomic_load(&j.st)); /* applied, but not durable */
	assert_true(store_failed(e->s));
	assert_int_equal(txnid, store_last_txnid(e->s));
	/* writes are refused from now on, reads go on */
	t_job_init(&later, 3, true, PW_OK);
	later.w.done = fx_never_done;
	assert_int_equal(PW_UNAVAILABLE, store_submit(e->s, &later.w));
	assert_int_equal(PW_OK, store_counts_get(e->s, &c));
	assert_int_equal(1, c.replies);
	/* a restart on the same environment serves again, without the lost write */
	fx_store_reopen(e);
	assert_false(store_failed(e->s));
	assert_int_equal(PW_OK, t_reply_check(e->s, first.rid));
	assert_int_equal(PW_NOT_FOUND, t_reply_check(e->s, j.rid));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_group_commit_applies_concurrent_writes_once_in_fewer_commits, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_here_write_commits_on_the_callers_thread_when_the_writer_is_idle, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_run_here_failure_and_no_change_write_nothing,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_here_write_goes_to_the_writer_while_it_is_busy_or_after_a_large_batch,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_here_writes_from_many_threads_are_each_applied_once, t_setup_nosync,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_failed_apply_leaves_nothing_behind, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_writes_that_change_nothing_end_without_a_commit,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_batch_with_one_failing_write_commits_the_others,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_refusal_before_any_write_keeps_the_flat_run,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_passed_is_not_applied_and_writes_nothing,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_allocation_failure_at_every_point_leaves_nothing_behind, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_allocation_failure_in_a_flat_run_writes_once_or_nothing, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_close_applies_and_answers_every_queued_write,
		    t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_refuses_with_unavailable,
		    t_setup_nosync, t_teardown),
		cmocka_unit_test_setup_teardown(test_error_table_maps_lmdb_results, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_error_table_maps_pg_results, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_table_damaged_on_disk_fails_the_store, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_failure_inside_a_batch_fails_it_and_every_queued_write, t_setup, t_teardown),
		cmocka_unit_test_setup_teardown(test_io_error_at_commit_fails_the_store_and_reads_go_on,
		    t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
