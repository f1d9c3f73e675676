/*
 * bench_report.c - the readable table and the JSON object of paywire-bench.
 * Ratios are computed here, from the rows, so both outputs agree.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "bench.h"
#include "pw_common.h"

#define BENCH_LABEL_WIDTH 40

/* a / b, or 0 when either side was not measured. */
static double
bench_ratio(double a, double b)
{
	return a > 0 && b > 0 ? a / b : 0.0;
}

static double
bench_per_commit(const bench_commit *c)
{
	return c->commits > 0 ? (double) c->writes / (double) c->commits : 0.0;
}

static void
bench_row_print(FILE *f, const bench_result *r)
{
	if (!r->done) {
		fprintf(f, "  %-*s %8s\n", BENCH_LABEL_WIDTH, r->name, "-");
		return;
	}
	fprintf(f, "  %-*s %8zu %9.1f %9.1f %9.1f %9.1f %10.0f\n", BENCH_LABEL_WIDTH, r->name,
	    r->count, r->p50_us, r->p99_us, r->p999_us, r->max_us, r->ops_per_s);
}

static void
bench_ratios_print(const bench_report *r, FILE *f)
{
	fprintf(f, "\nratios (what paywire adds over the floor, same run)\n");
	fprintf(f, "  get_status / nng echo, p50:                    ipc %.2fx   tcp %.2fx\n",
	    bench_ratio(r->status_ipc.p50_us, r->echo_ipc.p50_us),
	    bench_ratio(r->status_tcp.p50_us, r->echo_tcp.p50_us));
	fprintf(f, "  create_session / LMDB 1 put+commit, p50:       %.2fx\n",
	    bench_ratio(r->create_seq.p50_us, r->lmdb_one.p50_us));
	fprintf(f, "  create_session %u threads / 1 thread, ops/s:   %.2fx\n", r->threads,
	    bench_ratio(r->create_conc.ops_per_s, r->create_seq.ops_per_s));
	fprintf(f, "  create_session %u threads / LMDB %u puts/txn, ops/s: %.2f\n", r->threads,
	    r->threads, bench_ratio(r->create_conc.ops_per_s, r->lmdb_batch.ops_per_s));
}

static void
bench_commits_print(const bench_report *r, FILE *f)
{
	fprintf(f, "\ngroup commit (the server's LMDB transaction ids, read from its environment)\n");
	fprintf(f, "  create_session, 1 thread:    %8llu writes in %8llu commits: %6.2f writes/commit\n",
	    (unsigned long long) r->commit_seq.writes, (unsigned long long) r->commit_seq.commits,
	    bench_per_commit(&r->commit_seq));
	fprintf(f, "  create_session, %3u threads: %8llu writes in %8llu commits: %6.2f writes/commit\n",
	    r->threads, (unsigned long long) r->commit_conc.writes,
	    (unsigned long long) r->commit_conc.commits, bench_per_commit(&r->commit_conc));
	fprintf(f, "  sessions on disk: %llu of %llu acknowledged\n",
	    (unsigned long long) r->sessions_on_disk, (unsigned long long) r->sessions_expected);
	fprintf(f, "  server stopped with SIGTERM: exit %d\n", r->server_exit);
}

void
bench_report_print(const bench_report *r, FILE *f)
{
	PW_ASSERT(r != NULL && f != NULL);
	fprintf(f, "paywire-bench %s  %s  %ld cores%s%s  sync %s  n %zu  threads %u\n",
	    PW_VERSION_STRING, r->date, r->cores, r->cpu[0] != '\0' ? "  " : "", r->cpu, r->sync,
	    r->n, r->threads);
	fprintf(f, "server: %s\n\n", r->server_bin);
	fprintf(f, "  %-*s %8s %9s %9s %9s %9s %10s\n", BENCH_LABEL_WIDTH, "latency in us", "count",
	    "p50", "p99", "p99.9", "max", "ops/s");
	fprintf(f, "reads, one client thread (get_status request: %zu bytes)\n",
	    r->status_msg_bytes);
	bench_row_print(f, &r->echo_ipc);
	bench_row_print(f, &r->status_ipc);
	bench_row_print(f, &r->echo_tcp);
	bench_row_print(f, &r->status_tcp);
	fprintf(f, "durable writes, one at a time (tcp)\n");
	bench_row_print(f, &r->lmdb_one);
	bench_row_print(f, &r->create_seq);
	fprintf(f, "durable writes, %u at a time (tcp)\n", r->threads);
	bench_row_print(f, &r->lmdb_batch);
	bench_row_print(f, &r->create_conc);
	bench_ratios_print(r, f);
	bench_commits_print(r, f);
}

/* {"count":..,"p50_us":..,...} or null when not measured. */
static json_t *
bench_row_json(const bench_result *r)
{
	if (!r->done) {
		return json_null();
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "label", r->name,
	    "sample", r->unit, "count", (json_int_t) r->count, "ops", (json_int_t) r->ops,
	    "p50_us", r->p50_us, "p99_us", r->p99_us, "p999_us", r->p999_us, "max_us", r->max_us,
	    "wall_s", r->wall_s, "ops_per_s", r->ops_per_s);
}

static json_t *
bench_results_json(const bench_report *r)
{
	const bench_result *rows[] = { &r->echo_ipc, &r->status_ipc, &r->echo_tcp,
		&r->status_tcp, &r->lmdb_one, &r->create_seq, &r->lmdb_batch, &r->create_conc };
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (json_object_set_new(o, rows[i]->key, bench_row_json(rows[i])) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static json_t *
bench_ratios_json(const bench_report *r)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f}",
	    "get_status_over_echo_ipc_p50", bench_ratio(r->status_ipc.p50_us, r->echo_ipc.p50_us),
	    "get_status_over_echo_tcp_p50", bench_ratio(r->status_tcp.p50_us, r->echo_tcp.p50_us),
	    "create_seq_over_lmdb_one_p50", bench_ratio(r->create_seq.p50_us, r->lmdb_one.p50_us),
	    "create_concurrent_over_seq_ops",
	    bench_ratio(r->create_conc.ops_per_s, r->create_seq.ops_per_s),
	    "create_concurrent_over_lmdb_batch_ops",
	    bench_ratio(r->create_conc.ops_per_s, r->lmdb_batch.ops_per_s));
}

static json_t *
bench_commits_json(const bench_report *r)
{
	return json_pack("{s:{s:I, s:I, s:f}, s:{s:I, s:I, s:f}, s:I, s:I}", "sequential",
	    "writes", (json_int_t) r->commit_seq.writes, "commits",
	    (json_int_t) r->commit_seq.commits, "writes_per_commit", bench_per_commit(&r->commit_seq),
	    "concurrent", "writes", (json_int_t) r->commit_conc.writes, "commits",
	    (json_int_t) r->commit_conc.commits, "writes_per_commit",
	    bench_per_commit(&r->commit_conc), "sessions_expected",
	    (json_int_t) r->sessions_expected, "sessions_on_disk", (json_int_t) r->sessions_on_disk);
}

int
bench_report_json(const bench_report *r, FILE *f)
{
	json_t *o;
	int rv;

	PW_ASSERT(r != NULL && f != NULL);
	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:i}",
	    "version", PW_VERSION_STRING, "date", r->date, "cores", (json_int_t) r->cores, "cpu",
	    r->cpu, "server_bin", r->server_bin, "sync", r->sync, "n", (json_int_t) r->n,
	    "threads", (json_int_t) r->threads, "status_request_bytes",
	    (json_int_t) r->status_msg_bytes, "results", bench_results_json(r), "ratios",
	    bench_ratios_json(r), "group_commit", bench_commits_json(r), "server_exit",
	    r->server_exit);
	if (o == NULL) {
		fprintf(stderr, "bench: cannot build the JSON report\n");
		return -1;
	}
	rv = json_dumpf(o, f, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (rv != 0) {
		return -1;
	}
	fputc('\n', f);
	return 0;
}
