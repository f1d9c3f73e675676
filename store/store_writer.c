/*
 * store_writer.c - the bounded write queue and the one writer thread that
 * applies it with group commit (docs/STORE.md "Group commit").
 *
 * The writer takes up to PW_STORE_BATCH_MAX queued writes, begins one batch
 * txn and runs each write's apply in it. The batch txn is then committed
 * once: one fsync for the whole batch. Done callbacks run after the commit,
 * so PW_OK always means durable. If the batch cannot commit, every write in
 * it gets the commit's status, whatever its apply said.
 *
 * A failed write keeps nothing. The first run of a batch is flat: each apply
 * runs in the batch txn itself, which costs no nested txn (in LMDB a child
 * txn copies every page it touches once more, and merges them back at its
 * commit). A write that fails before it wrote anything (most refusals: a
 * bad transition, a duplicate, not found) left nothing to undo, so the batch
 * goes on. One that fails after it wrote something, or meets an engine
 * failure, taints the flat run: the batch txn is aborted and the batch is run
 * again (store_txn.attempt counts it) with each write in its own nested txn,
 * committed (PW_OK) or aborted (anything else) alone. Both runs see the same
 * committed data and the applies are deterministic on it, so the result is
 * the one the nested run alone would give (tests/store_writer_test.c).
 *
 * Re-runs: an engine several servers share may answer KV_CONFLICT (another
 * server committed first), from the commit or from any op inside the batch.
 * Nothing of the batch was kept then, so the writer begins a fresh batch and
 * runs every apply of it again (store_txn.attempt counts), up to
 * STORE_COMMIT_ATTEMPTS_MAX attempts; the done callbacks run once, after the
 * last attempt. That is safe because an apply acts only through its txn
 * (store.h "RE-RUNS"); the writer's own state that an apply moves (the purge
 * position) is taken over only when the batch commits.
 */
#include "store_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* A run_here write runs on its caller's thread only after a batch of at
 * most this many writes (the purge riding in it counts). */
#define STORE_RUN_HERE_AFTER_MAX 2u

static void store_direct_run(store *s, store_write *w);

pw_status
store_submit(store *s, store_write *w)
{
	PW_ASSERT(s != NULL && w != NULL);
	PW_ASSERT(w->apply != NULL && w->done != NULL);
	if (s->read_only) {
		pw_log(PW_LOG_DEBUG, "store: write refused: store is read-only");
		return PW_UNAVAILABLE;
	}
	if (atomic_load(&s->failed)) {
		pw_log(PW_LOG_DEBUG, "store: write refused: store failed");
		return PW_UNAVAILABLE;
	}
	pthread_mutex_lock(&s->mu);
	if (s->closing || s->queued >= PW_STORE_QUEUE_MAX) {
		bool closing = s->closing;
		pthread_mutex_unlock(&s->mu);
		pw_log(PW_LOG_DEBUG, "store: write refused: %s",
		    closing ? "store is closing" : "write queue full");
		return PW_UNAVAILABLE;
	}
	w->next = NULL;
	if (w->run_here && s->writer_waiting && s->head == NULL &&
	    s->stats.last_batch_size <= STORE_RUN_HERE_AFTER_MAX &&
	    atomic_load(&s->writer_delay_ms) == 0 && pthread_mutex_trylock(&s->run_mu) == 0) {
		/* The writer is idle and writes come one at a time (its last
		 * batch was small): run w here, as the writer would, without
		 * waking it (a batch of one; mu is not held while it runs).
		 * After a large batch the next writes are likely already on
		 * their way: they wait for the writer and commit together, as a
		 * batch of one here would cost them a commit of its own. */
		pthread_mutex_unlock(&s->mu);
		store_direct_run(s, w);
		pthread_mutex_unlock(&s->run_mu);
		return PW_OK;
	}
	if (s->tail != NULL) {
		s->tail->next = w;
	} else {
		s->head = w;
	}
	s->tail = w;
	s->queued++;
	atomic_store_explicit(&s->queued_now, s->queued, memory_order_relaxed);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return PW_OK;
}

static int64_t store_writer_wait_ms(const store *s);

/* Waits once for work (at most store_writer_wait_ms, read under mu: a knob
 * changed under mu either is seen here or its signal wakes this wait; < 0:
 * without bound), then moves up to PW_STORE_BATCH_MAX writes into s->batch.
 * Returns how many: 0 when the wait ended without work (*closing tells
 * whether the store is closing and the queue drained). */
static size_t
store_queue_take(store *s, bool *closing)
{
	struct timespec until;
	int64_t wait_ms;
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	wait_ms = store_writer_wait_ms(s);
	if (wait_ms >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t) (wait_ms / 1000);
		until.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	/* One wait: any wake-up (work, close, a knob changed, a timeout or a
	 * spurious one) goes back to the writer's loop, which looks again.
	 * While it waits the writer holds no run_mu: a run_here write may run
	 * on its caller's thread meanwhile (store_submit); the writer takes
	 * run_mu back, which waits for such a run to end, before it takes a
	 * batch. */
	if (s->head == NULL && !s->closing) {
		s->writer_waiting = true;
		s->writer_wait_ms = wait_ms;
		pthread_mutex_unlock(&s->run_mu);
		if (wait_ms < 0) {
			pthread_cond_wait(&s->cv, &s->mu);
		} else {
			(void) pthread_cond_timedwait(&s->cv, &s->mu, &until);
		}
		s->writer_waiting = false;
		pthread_mutex_unlock(&s->mu);
		pthread_mutex_lock(&s->run_mu); /* not under mu: run_mu comes first */
		pthread_mutex_lock(&s->mu);
	}
	*closing = s->closing && s->head == NULL;
	while (s->head != NULL && n < PW_STORE_BATCH_MAX) {
		store_write *w = s->head;
		s->head = w->next;
		w->next = NULL;
		s->batch[n++] = w;
	}
	if (s->head == NULL) {
		s->tail = NULL;
	}
	PW_ASSERT(s->queued >= n);
	s->queued -= n;
	atomic_store_explicit(&s->queued_now, s->queued, memory_order_relaxed);
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void
store_writer_sleep(store *s)
{
	unsigned ms = atomic_load(&s->writer_delay_ms);
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long) (ms % 1000u) * 1000000L };

	if (ms == 0) {
		return;
	}
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Applies one write in batch: in a nested txn of its own, or (flat) in
 * batch itself. A failure of the engine itself (begin/commit of the child)
 * and a KV_CONFLICT met anywhere poison the whole batch: *batch_st. In a flat
 * run, a write that failed after it wrote, or met any engine failure, sets
 * s->flat_tainted (and *batch_st, which ends the run): the batch must run
 * again, nested. *wrote becomes true when the write changed something; a
 * write that only read (a duplicate event, a replayed reply) is rolled back
 * when nested: there is nothing of it to keep. */
static pw_status
store_write_run(store *s, kv_txn *batch, store_write *w, const store_txn *proto,
    bool flat, pw_status *batch_st, bool *wrote)
{
	store_txn t = *proto;
	pw_status st;
	pw_status rv;

	if (w->deadline_mono_ms != 0 && pw_monotonic_ms() > w->deadline_mono_ms) {
		return PW_DEADLINE_EXCEEDED; /* not applied */
	}
	if (flat) {
		t.txn = batch;
		st = w->apply(&t, w->arg);
		if (t.err != PW_OK || (st != PW_OK && t.wrote)) {
			s->flat_tainted = true; /* something to undo: run nested */
			*batch_st = t.err != PW_OK ? t.err : st;
			return *batch_st;
		}
		if (st != PW_OK) {
			s->purge_moved = false; /* a purge that failed moved nothing */
			return st;
		}
		*wrote = *wrote || t.wrote;
		return PW_OK;
	}
	rv = s->kv->nest_begin(batch, &t.txn);
	if (rv != PW_OK) {
		*batch_st = rv;
		return rv;
	}
	st = w->apply(&t, w->arg);
	/* An engine failure the apply saw wins over what it returned: the child
	 * txn is unusable and must be rolled back. */
	if (t.err != PW_OK) {
		st = t.err;
	}
	if (st != PW_OK) {
		s->kv->nest_abort(t.txn);
		s->purge_moved = false; /* whatever a purge in it computed is undone */
		if (t.err == KV_CONFLICT) {
			*batch_st = KV_CONFLICT; /* the batch is lost: re-run it */
		}
		return st;
	}
	if (!t.wrote) {
		s->kv->nest_abort(t.txn);
		return PW_OK;
	}
	rv = s->kv->nest_commit(t.txn);
	if (rv != PW_OK) {
		*batch_st = rv;
		return rv;
	}
	*wrote = true;
	return PW_OK;
}

/* Reads the stored replies the writes of s->batch[0..n) will look up first,
 * in one go (kv prefetch: one round trip on PostgreSQL; LMDB has no
 * prefetch, so nothing is built). */
static pw_status
store_batch_prefetch(store *s, kv_txn *batch, size_t n)
{
	size_t k = 0;

	if (s->kv->prefetch == NULL) {
		return PW_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const store_write *w = s->batch[i];
		size_t len = 0;

		if (w->reply_scope == NULL || w->reply_request_id == NULL ||
		    store_reply_key(w->reply_scope, w->reply_request_id, s->prefetch_key[k],
		    sizeof(s->prefetch_key[k]), &len) != PW_OK) {
			continue; /* no hint, or one the apply will refuse itself */
		}
		s->prefetch[k] = (kv_val){ .data = s->prefetch_key[k], .len = len };
		k++;
	}
	return k == 0 ? PW_OK : s->kv->prefetch(batch, STORE_DB_REPLIES, s->prefetch, k);
}

/* One attempt at s->batch[0..n) in one batch txn: fills s->batch_st of the
 * writes applied. Returns the batch's status: PW_OK iff committed, or iff no
 * write in it changed anything (*wrote false): such a batch is rolled back,
 * with no commit and no fsync, and its writes are answered from what they
 * read, which was committed before the batch began. */
static pw_status
store_batch_attempt(store *s, size_t n, unsigned attempt, bool flat, bool *wrote)
{
	store_txn proto = { .s = s, .txn = NULL, .now_ms = pw_now_unix_ms(), .attempt = attempt,
		.read = false, .err = PW_OK };
	pw_status batch_st = PW_OK;
	kv_txn *batch = NULL;

	s->purge_moved = false;
	s->flat_tainted = false;
	if (atomic_load(&s->failed)) {
		batch_st = PW_UNAVAILABLE;
	} else {
		batch_st = s->kv->batch_begin(s->env, &batch);
	}
	if (batch_st == PW_OK) {
		batch_st = store_batch_prefetch(s, batch, n);
	}
	*wrote = false;
	for (size_t i = 0; i < n && batch_st == PW_OK; i++) {
		s->batch_st[i] = store_write_run(s, batch, s->batch[i], &proto, flat, &batch_st, wrote);
	}
	s->lu_ran = false;
	if (batch_st == PW_OK && *wrote && s->lu_riding) {
		/* the last-used flush rides in a batch that commits anyway: no
		 * fsync of its own; it rolls back alone if it fails */
		s->lu_st = store_write_run(s, batch, &s->lu_write, &proto, flat, &batch_st, wrote);
		s->lu_ran = true;
	}
	if (batch_st == PW_OK && *wrote && !s->key_checked) {
		/* the first batch that writes checks (or records) the master key
		 * in the same transaction (store_key_check_apply) */
		pw_status kst;

		s->key_check_write = (store_write){ .apply = store_key_check_apply,
			.arg = s->keys.check };
		kst = store_write_run(s, batch, &s->key_check_write, &proto, flat,
		    &batch_st, wrote);
		if (kst == PW_FAILED_PRECONDITION) {
			store_fail(s, "the master key is not the data's");
		}
		if (kst != PW_OK && batch_st == PW_OK) {
			batch_st = kst;
		}
	}
	if (batch_st == PW_OK && atomic_load(&s->failed)) {
		batch_st = PW_UNAVAILABLE; /* an apply hit corruption: keep nothing */
	}
	if (batch_st == PW_OK && *wrote) {
		int64_t t0;

		pw_crashpoint("store.before_commit");
		t0 = pw_monotonic_us();
		batch_st = s->kv->batch_commit(batch);
		pw_hist_observe(&s->hist_commit, &pw_hist_latency_us,
		    (uint64_t) (pw_monotonic_us() - t0));
	} else if (batch != NULL) {
		s->kv->batch_abort(batch);
	}
	if (batch_st == PW_OK && s->purge_moved) {
		s->purge_at = s->purge_next; /* the purge's deletes are durable now */
	}
	if (batch_st == PW_OK && *wrote) {
		s->key_checked = true; /* committed with the check */
	}
	s->purge_moved = false;
	return batch_st;
}

/* Applies s->batch[0..n), re-running it after a conflict; fills s->batch_st;
 * *wrote tells whether the batch committed a change (false: it was answered
 * without a commit). True if its writes may be answered as applied. */
static bool
store_batch_apply(store *s, size_t n, bool *wrote)
{
	pw_status batch_st = PW_OK;
	unsigned attempt = 0;
	/* flat first, unless a test turned it off; after a taint, nested (the
	 * re-run takes one of the STORE_COMMIT_ATTEMPTS_MAX attempts) */
	bool flat = !atomic_load_explicit(&s->flat_off, memory_order_relaxed);

	for (;;) {
		batch_st = store_batch_attempt(s, n, attempt, flat, wrote);
		attempt++;
		if (flat && s->flat_tainted) {
			/* a write of the flat run has something to undo: nothing of
			 * the batch was kept; run it again, each write nested */
			flat = false;
			s->flat_tainted = false;
			pthread_mutex_lock(&s->mu);
			s->stats.nested_reruns++;
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		if (batch_st != KV_CONFLICT || attempt >= STORE_COMMIT_ATTEMPTS_MAX) {
			break;
		}
		pw_log(PW_LOG_INFO, "store: batch of %zu write(s) met a conflict; re-running it "
		    "(attempt %u of %d)", n, attempt + 1, STORE_COMMIT_ATTEMPTS_MAX);
	}
	if (batch_st == KV_CONFLICT) {
		pw_log(PW_LOG_WARN, "store: batch of %zu write(s) still conflicting after %d "
		    "attempts: answered UNAVAILABLE", n, STORE_COMMIT_ATTEMPTS_MAX);
		batch_st = PW_UNAVAILABLE; /* retryable: clients retry, idempotently */
	}
	if (batch_st != PW_OK) {
		/* Every write gets the batch's status, even those whose apply said
		 * OK: none of them is durable. */
		for (size_t i = 0; i < n; i++) {
			s->batch_st[i] = batch_st;
		}
	}
	return batch_st == PW_OK;
}

/* ---- the API key last-used flush (store_lastused.c) ---- */

static void
store_lu_done(pw_status st, void *arg)
{
	store *s = arg;
	size_t written = store_lu_flush_done(s->lu, st);

	pthread_mutex_lock(&s->mu);
	s->stats.lastused_flushes++;
	s->stats.lastused_written += written;
	pthread_mutex_unlock(&s->mu);
	if (st != PW_OK) {
		/* rolled back; the keys stay due for the next check */
		pw_log(PW_LOG_WARN, "store: API key last-used flush failed: %s", pw_status_name(st));
	}
}

static void
store_lu_setup(store *s)
{
	s->lu_write = (store_write){ .apply = store_lu_flush_apply, .done = store_lu_done, .arg = s };
}

/* Before a batch of callers' writes: the flush rides in it when a key was
 * used since the last check and PW_APIKEY_LASTUSED_CHECK_MS (monotonic)
 * passed since it, or at once while the last flush stopped at its bound. */
static bool
store_lu_ride_due(store *s)
{
	int64_t now = pw_monotonic_ms();
	int64_t check = (int64_t) atomic_load(&s->lu_check_ms);

	if (!store_lu_more(s->lu)) {
		if (now - s->lu_last_check < check) {
			return false;
		}
		if (!store_lu_take_dirty(s->lu)) {
			return false;
		}
	}
	s->lu_last_check = now;
	store_lu_setup(s);
	return true;
}

/* With no batch to ride in: a batch of the flush's own when a key was used
 * and nothing checked for PW_APIKEY_LASTUSED_IDLE_MS (a server that only
 * reads still persists its keys' times, at most once per that interval). */
static bool
store_lu_idle_due(store *s)
{
	int64_t now = pw_monotonic_ms();
	int64_t idle = (int64_t) atomic_load(&s->lu_idle_ms);

	if (idle == 0 || now - s->lu_last_check < idle) {
		return false;
	}
	s->lu_last_check = now;
	if (!store_lu_take_dirty(s->lu) && !store_lu_more(s->lu)) {
		return false;
	}
	store_lu_setup(s);
	return true;
}

static void store_batch_run(store *s, size_t n);

/* At close, after the queue drained: writes every key whose in-memory time
 * is newer than the stored one (a clean shutdown keeps all of it). */
static void
store_lu_final(store *s)
{
	if (atomic_load(&s->failed)) {
		return;
	}
	store_lu_set_force(s->lu, true);
	do {
		store_lu_setup(s);
		s->batch[0] = &s->lu_write;
		store_batch_run(s, 1);
	} while (store_lu_more(s->lu) && !atomic_load(&s->failed));
	store_lu_set_force(s->lu, false);
}

static void
store_batch_run(store *s, size_t n)
{
	bool sweep;
	bool own;
	bool applied;
	bool wrote = false;
	bool committed;

	PW_ASSERT(n > 0 && n <= PW_STORE_BATCH_MAX);
	/* the writer's own writes (the sweep, the last-used flush) run alone */
	own = s->batch[n - 1] == &s->sweep_write || s->batch[n - 1] == &s->lu_write;
	sweep = s->batch[n - 1] == &s->sweep_write;
	PW_ASSERT(!own || n == 1);
	applied = store_batch_apply(s, n, &wrote);
	committed = applied && wrote;
	pthread_mutex_lock(&s->mu);
	if (sweep) {
		s->stats.sweeps++;
		s->stats.sweep_expired += s->batch_st[n - 1] == PW_OK ? s->sweep_expired : 0u;
	}
	if (!own) {
		s->stats.batches++;
		s->stats.writes += n;
		s->stats.commits += committed ? 1u : 0u;
		s->stats.unchanged += applied && !wrote ? 1u : 0u;
		s->stats.last_batch_size = n;
	}
	pthread_mutex_unlock(&s->mu);
	if (!own) {
		pw_hist_observe(&s->hist_batch, &pw_hist_batch_size, n);
	}
	if (committed) {
		pw_crashpoint("store.after_commit"); /* durable, nobody answered yet */
		if (s->commit_hook != NULL) {
			s->commit_hook(s->commit_hook_arg);
		}
	}
	if (s->lu_riding) {
		s->lu_riding = false;
		if (s->lu_ran) {
			store_lu_done(committed ? s->lu_st : s->batch_st[0], s);
		} else {
			store_lu_set_dirty(s->lu); /* the batch wrote nothing: next time */
		}
	}
	for (size_t i = 0; i < n; i++) {
		store_write *w = s->batch[i];
		s->batch[i] = NULL;
		/* w may be freed by its done callback: do not touch it after. */
		w->done(s->batch_st[i], w->arg);
	}
}

/* ---- periodic purge of expired replies and idempotency keys ---- */

static pw_status
store_purge_apply(store_txn *t, void *arg)
{
	store *s = arg;
	return store_expired_purge(t, PW_STORE_PURGE_SCAN_MAX, &s->purge_deleted);
}

static void
store_purge_done(pw_status st, void *arg)
{
	(void) arg;
	if (st != PW_OK) {
		/* It rolled back alone (nested txn); the next interval retries. */
		pw_log(PW_LOG_WARN, "store: periodic purge failed: %s", pw_status_name(st));
	}
}

/* Appends the purge write to a batch of n at most once per
 * PW_STORE_PURGE_INTERVAL_MS (wall clock, injectable in tests). The store
 * owns the 24 h TTL, so it enforces it: nobody has to remember to call it.
 * It rides in a batch being committed anyway (no extra fsync) and only when
 * there is traffic: an idle store does not grow. Returns the new n. */
static size_t
store_purge_maybe_add(store *s, size_t n)
{
	int64_t now = pw_now_unix_ms();
	int64_t interval = (int64_t) atomic_load(&s->purge_interval_ms);

	if (n >= PW_STORE_BATCH_MAX || interval == 0) {
		return n; /* a full batch: next time; 0: off (tests) */
	}
	if (now >= s->purge_last_ms && now - s->purge_last_ms < interval) {
		return n;
	}
	s->purge_last_ms = now;
	s->purge_write = (store_write){ .apply = store_purge_apply, .done = store_purge_done, .arg = s };
	s->batch[n] = &s->purge_write;
	return n + 1;
}

/* ---- the expiry sweep ---- */

static pw_status
store_sweep_apply(store_txn *t, void *arg)
{
	store *s = arg;
	return store_sessions_expire(t, PW_STORE_SWEEP_BATCH_MAX, &s->sweep_expired,
	    &s->sweep_found_more);
}

static void
store_sweep_done(pw_status st, void *arg)
{
	store *s = arg;

	s->sweep_more = st == PW_OK && s->sweep_found_more;
	if (st != PW_OK) {
		/* rolled back alone; the next interval retries */
		pw_log(PW_LOG_WARN, "store: expiry sweep failed: %s", pw_status_name(st));
	}
}

/* How long the writer may wait for work before the next sweep is due:
 * 0 when the last sweep left due sessions, -1 (no bound) when sweeps are
 * off. */
static int64_t
store_sweep_wait_ms(const store *s)
{
	int64_t interval = (int64_t) atomic_load(&s->sweep_interval_ms);

	if (interval == 0) {
		return -1;
	}
	return s->sweep_more ? 0 : interval;
}

/* True when the sweep is due: once per PW_STORE_SWEEP_INTERVAL_MS (wall
 * clock, injectable in tests), or at once while the last sweep left due
 * sessions; then sets it up in s->sweep_write. */
static bool
store_sweep_due(store *s)
{
	int64_t now = pw_now_unix_ms();
	int64_t interval = (int64_t) atomic_load(&s->sweep_interval_ms);

	if (interval == 0) {
		return false;
	}
	if (!s->sweep_more && now >= s->sweep_last_ms && now - s->sweep_last_ms < interval) {
		return false;
	}
	s->sweep_last_ms = now;
	s->sweep_more = false;
	s->sweep_write = (store_write){ .apply = store_sweep_apply, .done = store_sweep_done, .arg = s };
	return true;
}

/* How long the writer may wait for work: the sooner of the sweep's and the
 * idle last-used check's (-1: neither). */
static int64_t
store_writer_wait_ms(const store *s)
{
	int64_t sweep = store_sweep_wait_ms(s);
	int64_t idle = (int64_t) atomic_load(&s->lu_idle_ms);
	int64_t lu = idle == 0 ? -1 : idle;

	if (sweep < 0) {
		return lu;
	}
	return lu >= 0 && lu < sweep ? lu : sweep;
}

void *
store_writer_main(void *arg)
{
	store *s = arg;
	bool closing = false;
	size_t n;

	PW_ASSERT(s != NULL && !s->read_only);
	pthread_mutex_lock(&s->run_mu); /* released only while it waits for work */
	s->purge_last_ms = pw_now_unix_ms(); /* first purge one interval after open */
	s->sweep_last_ms = s->purge_last_ms - PW_STORE_SWEEP_INTERVAL_MS; /* first sweep at once */
	s->lu_last_check = pw_monotonic_ms();
	for (;;) {
		/* The sweep is a batch of its own, never inside the callers'
		 * writes: what it reads (the expiry index) must not make their
		 * batch conflict with another server's on a shared engine, and a
		 * sweep that finds nothing due ends without a commit. The
		 * last-used flush likewise. */
		if (store_sweep_due(s)) {
			s->batch[0] = &s->sweep_write;
			store_batch_run(s, 1);
		}
		if (store_lu_idle_due(s)) {
			s->batch[0] = &s->lu_write;
			store_batch_run(s, 1);
		}
		n = store_queue_take(s, &closing);
		if (n == 0) {
			if (closing) {
				break; /* closing and drained */
			}
			continue;
		}
		n = store_purge_maybe_add(s, n); /* rides on traffic only */
		s->lu_riding = store_lu_ride_due(s); /* and so does the last-used flush */
		store_writer_sleep(s);
		store_batch_run(s, n);
	}
	store_lu_final(s);
	pthread_mutex_unlock(&s->run_mu);
	return NULL;
}

/* A run_here write, on its caller's thread, holding run_mu while the writer
 * waits: the writer's own batch of one, with what rides on traffic (the
 * purge, the last-used flush) as the writer would add it. */
static void
store_direct_run(store *s, store_write *w)
{
	size_t n;

	s->batch[0] = w;
	n = store_purge_maybe_add(s, 1);
	s->lu_riding = store_lu_ride_due(s);
	store_batch_run(s, n);
}

/* ---- synchronous writes ---- */

typedef struct store_sync_call {
	store_apply_fn apply; /* the caller's apply */
	void *arg;            /* and its argument */
	pthread_mutex_t mu;   /* guards done/st */
	pthread_cond_t cv;    /* signalled when done */
	bool done;            /* the done callback ran */
	pw_status st;         /* its status */
} store_sync_call;

static pw_status
store_sync_apply(store_txn *t, void *arg)
{
	store_sync_call *c = arg;
	return c->apply(t, c->arg);
}

static void
store_sync_done(pw_status st, void *arg)
{
	store_sync_call *c = arg;

	pthread_mutex_lock(&c->mu);
	c->st = st;
	c->done = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

pw_status
store_apply_sync(store *s, store_apply_fn apply, void *arg)
{
	store_sync_call c = { .apply = apply, .arg = arg, .done = false, .st = PW_INTERNAL };
	store_write w = { .apply = store_sync_apply, .done = store_sync_done, .arg = &c };
	pw_status st;

	PW_ASSERT(s != NULL && apply != NULL);
	PW_ASSERT(!s->writer_started || !pthread_equal(pthread_self(), s->writer));
	pthread_mutex_init(&c.mu, NULL);
	pthread_cond_init(&c.cv, NULL);
	st = store_submit(s, &w);
	if (st == PW_OK) {
		pthread_mutex_lock(&c.mu);
		while (!c.done) {
			pthread_cond_wait(&c.cv, &c.mu);
		}
		st = c.st;
		pthread_mutex_unlock(&c.mu);
	}
	pthread_cond_destroy(&c.cv);
	pthread_mutex_destroy(&c.mu);
	return st;
}

/* ---- introspection, test hooks ---- */

void
store_obs_get(store *s, store_obs *out)
{
	kv_info ki;

	PW_ASSERT(s != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	out->queue_depth = atomic_load_explicit(&s->queued_now, memory_order_relaxed);
	out->failed = atomic_load(&s->failed);
	memset(&ki, 0, sizeof(ki));
	if (s->kv->info != NULL && s->kv->info(s->env, &ki) == PW_OK) {
		out->has_map = ki.has_map;
		out->map_used_bytes = ki.map_used_bytes;
		out->map_size_bytes = ki.map_size_bytes;
		out->has_readers = ki.has_readers;
		out->readers_used = ki.readers_used;
		out->readers_max = ki.readers_max;
	}
	out->batch = &s->hist_batch;
	out->commit = &s->hist_commit;
}

void
store_stats_get(store *s, store_stats *out)
{
	PW_ASSERT(s != NULL && out != NULL);
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}

/* Sets a test-hook knob; a build without PW_TEST_HOOKS ignores it (and says
 * so), so a production store cannot be slowed down or have its purge off. */
static void
store_test_knob_set(store *s, atomic_uint *knob, uint32_t v, const char *what)
{
	PW_ASSERT(s != NULL && knob != NULL);
#ifdef PW_TEST_HOOKS
	(void) what;
	atomic_store(knob, v);
#else
	(void) v;
	pw_log(PW_LOG_WARN, "store: %s ignored (not a PW_TEST_HOOKS build)", what);
#endif
}

void
store_test_set_writer_delay_ms(store *s, uint32_t ms)
{
	PW_ASSERT(s != NULL);
	store_test_knob_set(s, &s->writer_delay_ms, ms, "writer delay");
}

void
store_test_set_audit_index(store *s, bool on)
{
	PW_ASSERT(s != NULL);
#ifdef PW_TEST_HOOKS
	atomic_store(&s->audit_index_off, !on);
#else
	(void) on;
	pw_log(PW_LOG_WARN, "store: audit index switch ignored (not a PW_TEST_HOOKS build)");
#endif
}

void
store_test_set_flat_runs(store *s, bool on)
{
	PW_ASSERT(s != NULL);
#ifdef PW_TEST_HOOKS
	atomic_store(&s->flat_off, !on);
#else
	(void) on;
	pw_log(PW_LOG_WARN, "store: flat-run switch ignored (not a PW_TEST_HOOKS build)");
#endif
}

void
store_test_set_purge_interval_ms(store *s, uint32_t ms)
{
	PW_ASSERT(s != NULL);
	store_test_knob_set(s, &s->purge_interval_ms, ms, "purge interval");
}

void
store_set_commit_hook(store *s, store_commit_hook fn, void *arg)
{
	PW_ASSERT(s != NULL);
	s->commit_hook = fn;
	s->commit_hook_arg = arg;
}

void
store_test_set_sweep_interval_ms(store *s, uint32_t ms)
{
	PW_ASSERT(s != NULL);
	pthread_mutex_lock(&s->mu); /* set under mu: see store_queue_take */
	store_test_knob_set(s, &s->sweep_interval_ms, ms, "sweep interval");
	pthread_cond_signal(&s->cv); /* the writer re-reads its wait */
	pthread_mutex_unlock(&s->mu);
}

void
store_test_set_lastused_ms(store *s, uint32_t granularity_ms, uint32_t check_ms,
    uint32_t idle_ms)
{
	PW_ASSERT(s != NULL);
	pthread_mutex_lock(&s->mu); /* set under mu: see store_queue_take */
	store_test_knob_set(s, &s->lu_granularity_ms, granularity_ms, "last-used granularity");
	store_test_knob_set(s, &s->lu_check_ms, check_ms, "last-used check interval");
	store_test_knob_set(s, &s->lu_idle_ms, idle_ms, "last-used idle interval");
	pthread_cond_signal(&s->cv); /* the writer re-reads its wait */
	pthread_mutex_unlock(&s->mu);
}

int64_t
store_txn_now_ms(store_txn *t)
{
	PW_ASSERT(t != NULL && t->txn != NULL);
	return t->now_ms;
}

bool
store_txn_wrote(const store_txn *t)
{
	PW_ASSERT(t != NULL && t->txn != NULL);
	return t->wrote;
}

unsigned
store_txn_attempt(const store_txn *t)
{
	PW_ASSERT(t != NULL && t->txn != NULL);
	PW_ASSERT(t->attempt < STORE_COMMIT_ATTEMPTS_MAX);
	return t->attempt;
}
