/*
 * pw_metrics.h - Prometheus building blocks shared by the server and the
 * bridge: a fixed-bucket histogram of relaxed atomics and a bounded text
 * buffer for the exposition format (text format 0.0.4).
 *
 * Owns: nothing allocated; a pw_hist lives in its owner's memory and a
 * pw_text writes into the caller's buffer (cut, never overrun: overflow is
 * set and the scrape is answered 500 by the listener).
 * Threads: any thread may observe at any time (relaxed atomics, no lock); a
 * render racing an observation may see it in a bucket before the count, as
 * Prometheus allows (the rendered +Inf/_count is never below the buckets).
 */
#ifndef PW_METRICS_H
#define PW_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_HIST_BUCKETS_MAX 16 /* finite buckets of one histogram; +Inf is the count */

/* Bucket layouts (upper bounds in the observed unit and their le labels). */
typedef struct pw_hist_layout {
	const uint64_t *bounds;   /* ascending */
	const char *const *le;    /* labels, same order */
	size_t n;                 /* 1..PW_HIST_BUCKETS_MAX */
	uint64_t sum_divisor;     /* _sum = sum / divisor, 6 decimals (1000000: µs to s) */
} pw_hist_layout;

/* Latency in µs, rendered in seconds: 100µs ... 10s (PW_HIST_LATENCY_BUCKETS). */
#define PW_HIST_LATENCY_BUCKETS 16
extern const pw_hist_layout pw_hist_latency_us;
/* Writer batch sizes (writes per batch): 1 ... PW_STORE_BATCH_MAX. */
extern const pw_hist_layout pw_hist_batch_size;

typedef struct pw_hist {
	atomic_uint_fast64_t buckets[PW_HIST_BUCKETS_MAX]; /* non-cumulative counts */
	atomic_uint_fast64_t count;                        /* observations */
	atomic_uint_fast64_t sum;                          /* their total, in the unit */
} pw_hist;

void pw_hist_init(pw_hist *h);
/* Counts v in the first bucket whose bound is >= v (none: only +Inf). */
void pw_hist_observe(pw_hist *h, const pw_hist_layout *l, uint64_t v);
/* Adds src's counts to acc's (both non-atomic snapshots: pw_hist_snap). */
typedef struct pw_hist_snap {
	uint64_t buckets[PW_HIST_BUCKETS_MAX];
	uint64_t count;
	uint64_t sum;
} pw_hist_snap;
void pw_hist_snap_add(pw_hist_snap *acc, const pw_hist *h);

/* A bounded text buffer. */
typedef struct pw_text {
	char *buf;      /* caller memory */
	size_t cap;     /* its size */
	size_t len;     /* bytes written (buf[len] == '\0' while cap > 0) */
	bool overflow;  /* something did not fit (and was dropped) */
} pw_text;

void pw_text_init(pw_text *t, char *buf, size_t cap);
void pw_text_printf(pw_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "# HELP name help\n# TYPE name type\n". */
void pw_metrics_family(pw_text *t, const char *name, const char *type, const char *help);
/* The _bucket/_sum/_count lines of one histogram series; labels is "" or
 * `key="value"` pairs without braces (label values must need no escaping). */
void pw_metrics_hist(pw_text *t, const char *name, const char *labels,
    const pw_hist_layout *l, const pw_hist_snap *s);

#endif
