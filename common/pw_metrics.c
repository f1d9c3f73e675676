/* pw_metrics.c - shared histogram and exposition text (see pw_metrics.h). */
#include "pw_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pw_common.h"

static const uint64_t latency_bounds[PW_HIST_LATENCY_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 5000000, 10000000,
};
static const char *const latency_le[PW_HIST_LATENCY_BUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10",
};
const pw_hist_layout pw_hist_latency_us = { .bounds = latency_bounds, .le = latency_le,
	.n = PW_HIST_LATENCY_BUCKETS, .sum_divisor = 1000000 };

static const uint64_t batch_bounds[10] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 };
_Static_assert(PW_STORE_BATCH_MAX <= 512, "the batch buckets cover every batch");
static const char *const batch_le[10] = { "1", "2", "4", "8", "16", "32", "64", "128", "256",
	"512" };
const pw_hist_layout pw_hist_batch_size = { .bounds = batch_bounds, .le = batch_le, .n = 10,
	.sum_divisor = 1 };

void
pw_hist_init(pw_hist *h)
{
	PW_ASSERT(h != NULL);
	for (size_t b = 0; b < PW_HIST_BUCKETS_MAX; b++) {
		atomic_init(&h->buckets[b], 0);
	}
	atomic_init(&h->count, 0);
	atomic_init(&h->sum, 0);
}

void
pw_hist_observe(pw_hist *h, const pw_hist_layout *l, uint64_t v)
{
	size_t b = 0;

	PW_ASSERT(h != NULL && l != NULL && l->n <= PW_HIST_BUCKETS_MAX);
	while (b < l->n && v > l->bounds[b]) {
		b++;
	}
	if (b < l->n) {
		atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

static uint64_t
hist_get(const atomic_uint_fast64_t *v)
{
	/* atomic_load wants a non-const pointer in C11 */
	return (uint64_t) atomic_load_explicit((atomic_uint_fast64_t *) v, memory_order_relaxed);
}

void
pw_hist_snap_add(pw_hist_snap *acc, const pw_hist *h)
{
	PW_ASSERT(acc != NULL && h != NULL);
	for (size_t b = 0; b < PW_HIST_BUCKETS_MAX; b++) {
		acc->buckets[b] += hist_get(&h->buckets[b]);
	}
	acc->count += hist_get(&h->count);
	acc->sum += hist_get(&h->sum);
}

void
pw_text_init(pw_text *t, char *buf, size_t cap)
{
	PW_ASSERT(t != NULL && buf != NULL && cap > 0);
	t->buf = buf;
	t->cap = cap;
	t->len = 0;
	t->overflow = false;
	buf[0] = '\0';
}

void
pw_text_printf(pw_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	PW_ASSERT(t != NULL);
	if (t->overflow) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= t->cap - t->len) {
		t->overflow = true;
		t->buf[t->len] = '\0'; /* drop the cut line */
		return;
	}
	t->len += (size_t) n;
}

void
pw_metrics_family(pw_text *t, const char *name, const char *type, const char *help)
{
	pw_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
pw_metrics_hist(pw_text *t, const char *name, const char *labels, const pw_hist_layout *l,
    const pw_hist_snap *s)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	uint64_t cumulative = 0;
	uint64_t count;

	PW_ASSERT(l->n <= PW_HIST_BUCKETS_MAX && l->sum_divisor > 0);
	for (size_t b = 0; b < l->n; b++) {
		cumulative += s->buckets[b];
		pw_text_printf(t, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep, l->le[b],
		    (unsigned long long) cumulative);
	}
	count = s->count > cumulative ? s->count : cumulative;
	pw_text_printf(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
	    (unsigned long long) count);
	const char *open = labels[0] != '\0' ? "{" : "";
	const char *close = labels[0] != '\0' ? "}" : "";
	if (l->sum_divisor == 1) {
		pw_text_printf(t, "%s_sum%s%s%s %llu\n", name, open, labels, close,
		    (unsigned long long) s->sum);
	} else {
		pw_text_printf(t, "%s_sum%s%s%s %llu.%06llu\n", name, open, labels, close,
		    (unsigned long long) (s->sum / l->sum_divisor),
		    (unsigned long long) ((s->sum % l->sum_divisor) * 1000000u / l->sum_divisor));
	}
	pw_text_printf(t, "%s_count%s%s%s %llu\n", name, open, labels, close,
	    (unsigned long long) count);
}
