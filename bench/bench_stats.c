/*
 * bench_stats.c - the clock and the percentiles of paywire-bench.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
bench_result_init(bench_result *r, const char *name, const char *key, const char *unit)
{
	bool fit_name;
	bool fit_key;

	PW_ASSERT(r != NULL && name != NULL && key != NULL && unit != NULL);
	memset(r, 0, sizeof(*r));
	fit_name = pw_strlcpy(r->name, name, sizeof(r->name));
	fit_key = pw_strlcpy(r->key, key, sizeof(r->key));
	PW_ASSERT(fit_name && fit_key); /* labels are literals of ours */
	r->unit = unit;
}

void
bench_result_compute(bench_result *r, uint64_t *ns, size_t count, size_t ops, uint64_t wall_ns)
{
	PW_ASSERT(r != NULL && ns != NULL);
	PW_ASSERT(count > 0 && wall_ns > 0 && ops >= count);
	qsort(ns, count, sizeof(ns[0]), bench_u64_cmp);
	r->count = count;
	r->ops = ops;
	r->p50_us = bench_rank_us(ns, count, 0.50);
	r->p99_us = bench_rank_us(ns, count, 0.99);
	r->p999_us = bench_rank_us(ns, count, 0.999);
	r->max_us = (double) ns[count - 1] / 1000.0;
	r->wall_s = (double) wall_ns / 1e9;
	r->ops_per_s = (double) ops / r->wall_s;
	r->done = true;
}
