/*
 * bench_load.c - the workload runner of paywire-bench: `workers` threads
 * run one operation after another for a time (and operation) budget, in a
 * closed loop (each worker sends its next call when the last one answered:
 * `workers` calls in flight) or an open loop (calls are due at a fixed rate,
 * call k at start + k/rate; a worker takes the next due call, waits for its
 * time, sends it, and its latency is measured from the time it was DUE, so
 * a stall that delays later calls shows in their latency: coordinated
 * omission cannot hide it). Each worker records into a histogram of its own;
 * they are merged at the end. The calling thread draws a progress bar on
 * stderr when stderr is a terminal.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "pw_common.h"

#define BENCH_PROGRESS_MS 200     /* progress bar refresh */
#define BENCH_WARM_FRACTION 10u   /* the first 1/10 of the time is warm-up ... */
#define BENCH_WARM_MAX_NS 500000000ull /* ... at most 0.5 s */

typedef struct bench_load_state {
	const bench_load *l;
	uint64_t start_ns;     /* the loop's start (open loop: call 0 is due here) */
	uint64_t measure_ns;   /* calls started (due) before this are warm-up */
	uint64_t end_ns;       /* no call starts (is due) at or after this */
	double interval_ns;    /* open loop: between due times */
	atomic_uint_fast64_t next;     /* next call's sequence number */
	atomic_uint_fast64_t done;     /* calls completed (warm-up included) */
	atomic_bool stop;              /* a call failed or the run was interrupted */
} bench_load_state;

typedef struct bench_load_worker {
	bench_load_state *st;
	unsigned id;
	pthread_t thread;
	bench_hist *hist;      /* measured calls' latencies */
	uint64_t last_done_ns; /* completion of its last measured call */
	int rv;
} bench_load_worker;

static void
bench_sleep_until(uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t) (t_ns / 1000000000u),
		.tv_nsec = (long) (t_ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
	}
}

static void *
bench_load_worker_main(void *arg)
{
	bench_load_worker *w = arg;
	bench_load_state *st = w->st;
	const bench_load *l = st->l;

	for (;;) {
		uint64_t seq;
		uint64_t t0;
		uint64_t t1;

		if (atomic_load(&st->stop) || bench_interrupted) {
			break;
		}
		seq = atomic_fetch_add(&st->next, 1);
		if (l->max_ops > 0 && seq >= l->max_ops) {
			break;
		}
		if (l->rate > 0) {
			t0 = st->start_ns + (uint64_t) ((double) seq * st->interval_ns);
			if (t0 >= st->end_ns) {
				break;
			}
			bench_sleep_until(t0); /* returns at once when the call is late */
		} else {
			t0 = bench_now_ns();
			if (t0 >= st->end_ns) {
				break;
			}
		}
		if (l->op(l->ctx, w->id, seq) != 0) {
			w->rv = -1;
			atomic_store(&st->stop, true);
			break;
		}
		t1 = bench_now_ns();
		atomic_fetch_add(&st->done, 1);
		if (t0 >= st->measure_ns) {
			bench_hist_record(w->hist, t1 - t0);
			w->last_done_ns = t1 > w->last_done_ns ? t1 : w->last_done_ns;
		}
	}
	return NULL;
}

/* \r + a bar on stderr; only on a terminal. */
static void
bench_progress(const char *label, double frac, uint64_t done)
{
	char bar[41];
	size_t fill;

	frac = frac < 0 ? 0 : (frac > 1 ? 1 : frac);
	fill = (size_t) (frac * 40.0);
	memset(bar, '#', fill);
	memset(bar + fill, '.', 40 - fill);
	bar[40] = '\0';
	fprintf(stderr, "\r  %-28.28s [%s] %3.0f%% %10llu", label, bar, frac * 100.0,
	    (unsigned long long) done);
	fflush(stderr);
}

static void
bench_load_wait(bench_load_state *st, bench_load_worker *w, unsigned started, bool tty)
{
	const bench_load *l = st->l;

	while (tty && !atomic_load(&st->stop) && !bench_interrupted) {
		uint64_t now = bench_now_ns();
		double ft = (double) (now - st->start_ns) / (double) (st->end_ns - st->start_ns);
		double fo = l->max_ops > 0 ? (double) atomic_load(&st->done) / (double) l->max_ops : 0;
		bool running = false;

		bench_progress(l->label, ft > fo ? ft : fo, atomic_load(&st->done));
		for (unsigned i = 0; i < started && !running; i++) {
			running = pthread_tryjoin_np(w[i].thread, NULL) == EBUSY;
			if (!running) {
				/* joined: mark it so the loop below does not join it again */
				w[i].id = UINT32_MAX;
			}
		}
		if (!running) {
			break;
		}
		bench_sleep_ms(BENCH_PROGRESS_MS);
	}
	for (unsigned i = 0; i < started; i++) {
		if (w[i].id != UINT32_MAX) {
			pthread_join(w[i].thread, NULL);
		}
	}
	if (tty) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

int
bench_load_run(const bench_load *l, bench_result *out)
{
	bench_load_state *st;
	bench_load_worker *w;
	bench_hist *all;
	bench_mark m0;
	bench_mark m1;
	bench_spent spent = { .srv_cpu_ok = true, .aux_cpu_ok = l->aux_pid > 0 };
	uint64_t span;
	uint64_t warm;
	uint64_t last = 0;
	unsigned started = 0;
	int rv = 0;

	PW_ASSERT(l != NULL && out != NULL && l->op != NULL && l->label != NULL);
	PW_ASSERT(l->workers > 0 && l->workers <= BENCH_WORKERS_MAX && l->seconds > 0);
	st = calloc(1, sizeof(*st));
	w = calloc(l->workers, sizeof(*w));
	all = calloc((size_t) l->workers + 1u, sizeof(*all));
	if (st == NULL || w == NULL || all == NULL) {
		fprintf(stderr, "bench: out of memory for %u workers\n", l->workers);
		free(st);
		free(w);
		free(all);
		return -1;
	}
	st->l = l;
	span = (uint64_t) (l->seconds * 1e9);
	warm = span / BENCH_WARM_FRACTION < BENCH_WARM_MAX_NS ? span / BENCH_WARM_FRACTION
	                                                      : BENCH_WARM_MAX_NS;
	st->interval_ns = l->rate > 0 ? 1e9 / l->rate : 0;
	atomic_init(&st->next, 0);
	atomic_init(&st->done, 0);
	atomic_init(&st->stop, false);
	st->start_ns = bench_now_ns() + 2000000u; /* 2 ms: the workers are up by then */
	st->measure_ns = st->start_ns + warm;
	st->end_ns = st->start_ns + warm + span;
	for (unsigned i = 0; i < l->workers; i++) {
		w[i].st = st;
		w[i].id = i;
		w[i].hist = &all[i + 1];
		if (pthread_create(&w[i].thread, NULL, bench_load_worker_main, &w[i]) != 0) {
			fprintf(stderr, "bench: cannot start worker %u\n", i);
			atomic_store(&st->stop, true);
			rv = -1;
			break;
		}
		started++;
	}
	bench_sleep_until(st->measure_ns);
	bench_mark_take_aux(&m0, l->srv_pid, l->aux_pid);
	bench_load_wait(st, w, started, isatty(STDERR_FILENO) == 1);
	bench_mark_take_aux(&m1, l->srv_pid, l->aux_pid);
	for (unsigned i = 0; i < started; i++) {
		rv = w[i].rv != 0 ? -1 : rv;
		bench_hist_merge(&all[0], w[i].hist);
		last = w[i].last_done_ns > last ? w[i].last_done_ns : last;
	}
	if (bench_interrupted) {
		rv = -1;
	}
	if (rv == 0 && (all[0].total == 0 || last <= st->measure_ns)) {
		fprintf(stderr, "bench: %s: no call measured (budget of %llu calls used up in the "
		    "warm-up?)\n", l->label, (unsigned long long) l->max_ops);
		rv = -1;
	}
	if (rv == 0) {
		/* the measured span: the first measured start to the last completion */
		m1.wall_ns = m0.wall_ns + (last - st->measure_ns);
		bench_spent_add(&spent, &m0, &m1);
		bench_result_from_hist(out, &all[0], all[0].total, &spent);
		out->target_rate = l->rate;
		out->workers = l->workers;
	}
	free(all);
	free(w);
	free(st);
	return rv;
}
