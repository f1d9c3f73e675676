/*
 * bench_stats.c - the clock and the percentiles of paywire-bench.
 */
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

static pid_t bench_tracked_pid; /* main thread only */

void
bench_server_track(pid_t pid)
{
	bench_tracked_pid = pid;
}

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
bench_mark_take(bench_mark *m)
{
	struct timespec ts;
	int rv;

	PW_ASSERT(m != NULL);
	rv = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	PW_ASSERT(rv == 0);
	m->self_cpu_ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
	m->srv_cpu_ns = bench_tracked_pid > 0 ? bench_proc_cpu_ns(bench_tracked_pid) : 0;
	m->wall_ns = bench_now_ns();
}

static int
bench_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a;
	uint64_t y = *(const uint64_t *) b;

	return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of all samples at or
 * below it (p99.9 of 1000 samples is the 999th). Sorted input. */
static double
bench_rank_us(const uint64_t *sorted, size_t count, double p)
{
	double rank = p * (double) count;
	size_t idx = (size_t) rank;

	if ((double) idx < rank) {
		idx++; /* ceil */
	}
	if (idx == 0) {
		idx = 1;
	}
	PW_ASSERT(idx <= count);
	return (double) sorted[idx - 1] / 1000.0;
}

void
bench_result_init(bench_result *r, const char *name, const char *key, const char *unit,
    bool on_server)
{
	bool fit_name;
	bool fit_key;

	PW_ASSERT(r != NULL && name != NULL && key != NULL && unit != NULL);
	memset(r, 0, sizeof(*r));
	fit_name = pw_strlcpy(r->name, name, sizeof(r->name));
	fit_key = pw_strlcpy(r->key, key, sizeof(r->key));
	PW_ASSERT(fit_name && fit_key); /* labels are literals of ours */
	r->unit = unit;
	r->on_server = on_server;
	r->srv_cpu_us_per_op = -1.0;
}

void
bench_result_compute(bench_result *r, uint64_t *ns, size_t count, size_t ops,
    const bench_mark *begin, const bench_mark *end)
{
	uint64_t wall_ns;

	PW_ASSERT(r != NULL && ns != NULL && begin != NULL && end != NULL);
	PW_ASSERT(end->wall_ns > begin->wall_ns && end->self_cpu_ns >= begin->self_cpu_ns);
	PW_ASSERT(count > 0 && ops >= count);
	wall_ns = end->wall_ns - begin->wall_ns;
	qsort(ns, count, sizeof(ns[0]), bench_u64_cmp);
	r->count = count;
	r->ops = ops;
	r->p50_us = bench_rank_us(ns, count, 0.50);
	r->p99_us = bench_rank_us(ns, count, 0.99);
	r->p999_us = bench_rank_us(ns, count, 0.999);
	r->max_us = (double) ns[count - 1] / 1000.0;
	r->wall_s = (double) wall_ns / 1e9;
	r->ops_per_s = (double) ops / r->wall_s;
	r->self_cpu_us_per_op = (double) (end->self_cpu_ns - begin->self_cpu_ns) / 1000.0 / (double) ops;
	if (r->on_server && end->srv_cpu_ns >= begin->srv_cpu_ns && begin->srv_cpu_ns > 0) {
		r->srv_cpu_us_per_op = (double) (end->srv_cpu_ns - begin->srv_cpu_ns) / 1000.0 / (double) ops;
	}
	r->done = true;
}
