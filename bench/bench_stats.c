/*
 * bench_stats.c - the clock and the percentiles of paywire-bench.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "pw_common.h"

volatile sig_atomic_t bench_interrupted = 0;

uint64_t
bench_now_ns(void)
{
	struct timespec ts;
	int rv = clock_gettime(CLOCK_MONOTONIC, &ts);

	PW_ASSERT(rv == 0);
	return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

#define BENCH_SRV_CPU_WALL_S_MIN 1.0 /* shortest phase whose server CPU is reported */

/* utime + stime of pid in ns, from /proc/<pid>/stat (fields 14 and 15, in
 * clock ticks: 10 ms resolution, fine over a phase of a second or more).
 * 0 if it cannot be read. */
static uint64_t
bench_proc_cpu_ns(pid_t pid)
{
	char path[64];
	char buf[1024];
	unsigned long long utime;
	unsigned long long stime;
	long tck = sysconf(_SC_CLK_TCK);
	const char *p;
	size_t got;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long) pid);
	f = fopen(path, "r");
	if (f == NULL) {
		return 0;
	}
	got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (p == NULL || tck <= 0 ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
	        &stime) != 2) {
		return 0;
	}
	return (utime + stime) * (1000000000ull / (unsigned long long) tck);
}

void
bench_mark_take(bench_mark *m, pid_t srv_pid)
{
	bench_mark_take_aux(m, srv_pid, 0);
}

void
bench_mark_take_aux(bench_mark *m, pid_t srv_pid, pid_t aux_pid)
{
	struct timespec ts;
	int rv;

	PW_ASSERT(m != NULL);
	rv = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	PW_ASSERT(rv == 0);
	m->self_cpu_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
	m->srv_cpu_ns = srv_pid > 0 ? bench_proc_cpu_ns(srv_pid) : 0;
	m->aux_cpu_ns = aux_pid > 0 ? bench_proc_cpu_ns(aux_pid) : 0;
	m->wall_ns = bench_now_ns();
}

void
bench_result_init(bench_result *r, const char *name, const char *slug, const char *unit)
{
	bool fit_name;
	bool fit_slug;

	PW_ASSERT(r != NULL && name != NULL && slug != NULL && unit != NULL);
	memset(r, 0, sizeof(*r));
	fit_name = pw_strlcpy(r->name, name, sizeof(r->name));
	fit_slug = pw_strlcpy(r->slug, slug, sizeof(r->slug));
	PW_ASSERT(fit_name && fit_slug); /* labels are literals of ours */
	r->unit = unit;
	r->srv_cpu_us_per_op = -1.0;
	r->aux_cpu_us_per_op = -1.0;
}

void
bench_spent_add(bench_spent *acc, const bench_mark *begin, const bench_mark *end)
{
	PW_ASSERT(acc != NULL && begin != NULL && end != NULL);
	PW_ASSERT(end->wall_ns >= begin->wall_ns && end->self_cpu_ns >= begin->self_cpu_ns);
	acc->wall_ns += end->wall_ns - begin->wall_ns;
	acc->self_cpu_ns += end->self_cpu_ns - begin->self_cpu_ns;
	if (begin->srv_cpu_ns == 0 || end->srv_cpu_ns < begin->srv_cpu_ns) {
		acc->srv_cpu_ok = false; /* not tracked, or /proc could not be read */
	} else {
		acc->srv_cpu_ns += end->srv_cpu_ns - begin->srv_cpu_ns;
	}
	if (begin->aux_cpu_ns == 0 || end->aux_cpu_ns < begin->aux_cpu_ns) {
		acc->aux_cpu_ok = false;
	} else {
		acc->aux_cpu_ns += end->aux_cpu_ns - begin->aux_cpu_ns;
	}
}

void
bench_result_from_hist(bench_result *r, const bench_hist *h, size_t ops, const bench_spent *spent)
{
	PW_ASSERT(r != NULL && h != NULL && spent != NULL);
	PW_ASSERT(h->total > 0 && ops >= h->total && spent->wall_ns > 0);
	r->count = (size_t) h->total;
	r->ops = ops;
	r->p50_us = (double) bench_hist_quantile(h, 0.50) / 1000.0;
	r->p99_us = (double) bench_hist_quantile(h, 0.99) / 1000.0;
	r->p999_us = (double) bench_hist_quantile(h, 0.999) / 1000.0;
	r->max_us = (double) h->max_ns / 1000.0;
	r->wall_s = (double) spent->wall_ns / 1e9;
	r->ops_per_s = (double) ops / r->wall_s;
	r->self_cpu_us_per_op = (double) spent->self_cpu_ns / 1000.0 / (double) ops;
	r->srv_cpu_us_per_op = -1.0;
	/* The kernel counts the server's CPU in clock ticks (10 ms): below a
	 * second of wall time the figure would be mostly rounding. */
	if (spent->srv_cpu_ok && r->wall_s >= BENCH_SRV_CPU_WALL_S_MIN) {
		r->srv_cpu_us_per_op = (double) spent->srv_cpu_ns / 1000.0 / (double) ops;
	}
	r->aux_cpu_us_per_op = -1.0;
	if (spent->aux_cpu_ok && r->wall_s >= BENCH_SRV_CPU_WALL_S_MIN) {
		r->aux_cpu_us_per_op = (double) spent->aux_cpu_ns / 1000.0 / (double) ops;
	}
	r->done = true;
}

void
bench_result_compute(bench_result *r, uint64_t *ns, size_t count, size_t ops,
    const bench_spent *spent)
{
	bench_hist *h;

	PW_ASSERT(r != NULL && ns != NULL && spent != NULL);
	PW_ASSERT(count > 0 && ops >= count && spent->wall_ns > 0);
	h = malloc(sizeof(*h));
	PW_ASSERT(h != NULL); /* 59 KiB */
	bench_hist_reset(h);
	for (size_t i = 0; i < count; i++) {
		bench_hist_record(h, ns[i]);
	}
	bench_result_from_hist(r, h, ops, spent);
	free(h);
}

/* State of one side during bench_interleave_run. */
typedef struct bench_run_side {
	const bench_side *side; /* the caller's description */
	uint64_t *ns;           /* max(n, warmup) samples */
	size_t at;              /* samples measured so far */
	bench_spent spent;      /* time of the measured blocks */
} bench_run_side;

static int
bench_side_begin(bench_run_side *rs, const bench_side *side)
{
	size_t cap = side->n > side->warmup ? side->n : side->warmup;

	PW_ASSERT(side->block != NULL && side->out != NULL && side->n > 0);
	PW_ASSERT(side->ops_per_sample > 0);
	memset(rs, 0, sizeof(*rs));
	rs->side = side;
	rs->spent.srv_cpu_ok = true;
	rs->ns = calloc(cap, sizeof(*rs->ns));
	if (rs->ns == NULL) {
		fprintf(stderr, "bench: out of memory for %zu samples\n", cap);
		return -1;
	}
	/* Warm-up: the same loop, its samples overwritten below. */
	return side->warmup > 0 ? side->block(side->arg, rs->ns, side->warmup) : 0;
}

/* Measures block k (of blocks) of one side. */
static int
bench_side_block(bench_run_side *rs, size_t k, size_t blocks)
{
	const bench_side *side = rs->side;
	size_t end = side->n * (k + 1) / blocks;
	bench_mark m0;
	bench_mark m1;
	int rv;

	if (end == rs->at) {
		return 0; /* n < blocks: this block is empty */
	}
	bench_mark_take(&m0, side->srv_pid);
	rv = side->block(side->arg, rs->ns + rs->at, end - rs->at);
	bench_mark_take(&m1, side->srv_pid);
	bench_spent_add(&rs->spent, &m0, &m1);
	rs->at = end;
	return rv;
}

static void
bench_side_end(bench_run_side *rs, int rv)
{
	const bench_side *side = rs->side;

	if (rv == 0 && side != NULL) {
		PW_ASSERT(rs->at == side->n);
		bench_result_compute(side->out, rs->ns, side->n, side->n * side->ops_per_sample,
		    &rs->spent);
	}
	free(rs->ns);
}

int
bench_interleave_run3(const bench_side *a, const bench_side *b, const bench_side *c,
    size_t blocks)
{
	bench_run_side ra;
	bench_run_side rb;
	bench_run_side rc;
	int rv;

	PW_ASSERT(a != NULL && blocks > 0 && blocks <= BENCH_BLOCKS_MAX);
	memset(&rb, 0, sizeof(rb));
	memset(&rc, 0, sizeof(rc));
	rv = bench_side_begin(&ra, a);
	if (rv == 0 && b != NULL) {
		rv = bench_side_begin(&rb, b);
	}
	if (rv == 0 && c != NULL) {
		rv = bench_side_begin(&rc, c);
	}
	for (size_t k = 0; k < blocks && rv == 0; k++) {
		rv = bench_side_block(&ra, k, blocks);
		if (rv == 0 && b != NULL) {
			rv = bench_side_block(&rb, k, blocks);
		}
		if (rv == 0 && c != NULL) {
			rv = bench_side_block(&rc, k, blocks);
		}
	}
	bench_side_end(&ra, rv);
	bench_side_end(&rb, rv);
	bench_side_end(&rc, rv);
	return rv;
}

int
bench_interleave_run(const bench_side *a, const bench_side *b, size_t blocks)
{
	return bench_interleave_run3(a, b, NULL, blocks);
}
