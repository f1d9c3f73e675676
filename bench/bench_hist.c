/*
 * bench_hist.c - a log-linear latency histogram (HdrHistogram's layout, fixed
 * memory, mergeable): values below 2^BENCH_HIST_SUB_BITS ns are counted
 * exactly; above, each power of two is cut into 2^(BENCH_HIST_SUB_BITS-1)
 * equal buckets, so a bucket is at most 1/128 (0.8%) of its values wide.
 * One per worker thread, merged after the run: no sharing while measuring.
 */
#include <string.h>

#include "bench.h"
#include "pw_common.h"

/* Index of v's bucket. */
static size_t
bench_hist_idx(uint64_t v)
{
	unsigned msb;
	unsigned shift;

	if (v < (UINT64_C(1) << BENCH_HIST_SUB_BITS)) {
		return (size_t) v;
	}
	msb = 63u - (unsigned) __builtin_clzll(v);
	shift = msb - (BENCH_HIST_SUB_BITS - 1u);
	/* v >> shift is in [2^(SUB-1), 2^SUB): the half above the exact range */
	return (size_t) shift * (1u << (BENCH_HIST_SUB_BITS - 1u)) + (size_t) (v >> shift);
}

/* The lowest and highest value of bucket idx. */
static void
bench_hist_bounds(size_t idx, uint64_t *lo, uint64_t *hi)
{
	const size_t half = (size_t) 1 << (BENCH_HIST_SUB_BITS - 1u);
	size_t shift;
	uint64_t top;

	if (idx < ((size_t) 1 << BENCH_HIST_SUB_BITS)) {
		*lo = *hi = (uint64_t) idx;
		return;
	}
	shift = idx / half - 1u;
	top = (uint64_t) (idx - shift * half);
	*lo = top << shift;
	*hi = ((top + 1u) << shift) - 1u;
}

void
bench_hist_reset(bench_hist *h)
{
	PW_ASSERT(h != NULL);
	memset(h, 0, sizeof(*h));
}

void
bench_hist_record(bench_hist *h, uint64_t ns)
{
	size_t idx = bench_hist_idx(ns);

	PW_ASSERT(idx < BENCH_HIST_BUCKETS);
	h->counts[idx]++;
	if (h->total == 0 || ns < h->min_ns) {
		h->min_ns = ns;
	}
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
	h->total++;
	h->sum_ns += ns;
}

void
bench_hist_merge(bench_hist *into, const bench_hist *from)
{
	PW_ASSERT(into != NULL && from != NULL);
	if (from->total == 0) {
		return;
	}
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		into->counts[i] += from->counts[i];
	}
	if (into->total == 0 || from->min_ns < into->min_ns) {
		into->min_ns = from->min_ns;
	}
	if (from->max_ns > into->max_ns) {
		into->max_ns = from->max_ns;
	}
	into->total += from->total;
	into->sum_ns += from->sum_ns;
}

uint64_t
bench_hist_quantile(const bench_hist *h, double p)
{
	double rank_d;
	uint64_t rank;
	uint64_t seen = 0;
	uint64_t lo;
	uint64_t hi;

	PW_ASSERT(h != NULL && p >= 0.0 && p <= 1.0);
	if (h->total == 0) {
		return 0;
	}
	/* nearest rank: the smallest bucket with at least p of all samples at or
	 * below it; reported as the bucket's midpoint, clamped to min..max */
	rank_d = p * (double) h->total;
	rank = (uint64_t) rank_d;
	if ((double) rank < rank_d) {
		rank++;
	}
	if (rank == 0) {
		rank = 1;
	}
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t mid;
			bench_hist_bounds(i, &lo, &hi);
			mid = lo + (hi - lo) / 2u;
			mid = mid < h->min_ns ? h->min_ns : mid;
			return mid > h->max_ns ? h->max_ns : mid;
		}
	}
	return h->max_ns;
}

int
bench_hist_self_check(void)
{
	/* every bucket's bounds map back to it, and buckets tile the range */
	uint64_t prev_hi = 0;

	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		uint64_t lo;
		uint64_t hi;
		bench_hist_bounds(i, &lo, &hi);
		if (bench_hist_idx(lo) != i || bench_hist_idx(hi) != i ||
		    (i > 0 && lo != prev_hi + 1u)) {
			return -1;
		}
		prev_hi = hi;
		if (hi == UINT64_MAX) {
			break;
		}
	}
	return 0;
}
