/*
 * bench_report.c - the readable table and the JSON object of paywire-bench.
 * Ratios are computed here, from the rows, so both outputs agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench.h"
#include "pw_common.h"

#define BENCH_LABEL_WIDTH 38

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
	char srv[16] = "-";

	if (!r->done) {
		fprintf(f, "  %-*s %7s\n", BENCH_LABEL_WIDTH, r->name, "-");
		return;
	}
	if (r->srv_cpu_us_per_op >= 0) {
		snprintf(srv, sizeof(srv), "%.1f", r->srv_cpu_us_per_op);
	}
	fprintf(f, "  %-*s %7zu %8.1f %8.1f %8.1f %8.1f %8.0f %7.1f %7s\n", BENCH_LABEL_WIDTH,
	    r->name, r->count, r->p50_us, r->p99_us, r->p999_us, r->max_us, r->ops_per_s,
	    r->self_cpu_us_per_op, srv);
}

/* "2.41x", or "-" when a side was not measured. */
static const char *
bench_x(char *buf, size_t size, double ratio)
{
	if (ratio <= 0) {
		return "-";
	}
	snprintf(buf, size, "%.2fx", ratio);
	return buf;
}

/* If the run is CPU-bound, at most this many ops/s fit on the machine's
 * cores: both processes' CPU per op, measured, shares `cores` CPUs. */
static double
bench_cpu_ceiling(const bench_result *r, long cores)
{
	double per_op = r->self_cpu_us_per_op + r->srv_cpu_us_per_op;

	/* Both sides are needed: the server's CPU is not shown for short loops. */
	if (!r->done || r->srv_cpu_us_per_op <= 0 || per_op <= 0 || cores <= 0) {
		return 0.0;
	}
	return (double) cores * 1e6 / per_op;
}

/* A workload row's CPU per op on every process on its path: the bench's,
 * the server's and, through the HTTP bridge, the bridge's; 0 when the
 * server's (or the bridge's, for a bridge row) was not measurable. */
static double
bench_wl_cpu_total(const bench_result *w)
{
	if (!w->done || w->srv_cpu_us_per_op < 0) {
		return 0.0;
	}
	return w->self_cpu_us_per_op + w->srv_cpu_us_per_op +
	    (w->aux_cpu_us_per_op > 0 ? w->aux_cpu_us_per_op : 0.0);
}

/* cores x 10^6 us/s / that total: the most ops/s if CPU were the only limit. */
static double
bench_wl_cpu_ceiling(const bench_result *w, long cores)
{
	double total = bench_wl_cpu_total(w);

	return total > 0 && cores > 0 ? (double) cores * 1e6 / total : 0.0;
}

static void
bench_ratio_line(FILE *f, const char *label, const char *value)
{
	fprintf(f, "  %-62s %s\n", label, value);
}

static void
bench_ratios_print(const bench_report *r, FILE *f)
{
	char label[128];
	char a[32];
	char b[32];
	char both[80];

	fprintf(f, "\nratios (same run, same machine)\n");
	snprintf(both, sizeof(both), "ipc %s  tcp %s",
	    bench_x(a, sizeof(a), bench_ratio(r->status_ipc.p50_us, r->echo_ipc.p50_us)),
	    bench_x(b, sizeof(b), bench_ratio(r->status_tcp.p50_us, r->echo_tcp.p50_us)));
	bench_ratio_line(f, "get_status / nng echo, p50:", both);
	snprintf(both, sizeof(both), "ipc %s  tcp %s",
	    bench_x(a, sizeof(a), bench_ratio(r->status_ipc.srv_cpu_us_per_op,
	                              r->echo_ipc.srv_cpu_us_per_op)),
	    bench_x(b, sizeof(b), bench_ratio(r->status_tcp.srv_cpu_us_per_op,
	                              r->echo_tcp.srv_cpu_us_per_op)));
	bench_ratio_line(f, "get_status / nng echo, serving process CPU per op:", both);
	bench_ratio_line(f, "create_session 1 thread / LMDB 1 put + commit, p50:",
	    bench_x(a, sizeof(a), bench_ratio(r->create_seq.p50_us, r->lmdb_one.p50_us)));
	bench_ratio_line(f, "create_session 1 thread / (nng echo tcp + LMDB 1 put), p50:",
	    bench_x(a, sizeof(a),
	        bench_ratio(r->create_seq.p50_us,
	            r->echo_tcp.done && r->lmdb_one.done ? r->echo_tcp.p50_us + r->lmdb_one.p50_us : 0)));
	bench_ratio_line(f, "LMDB a create's writes / LMDB 1 put, p50:",
	    bench_x(a, sizeof(a), bench_ratio(r->lmdb_shape.p50_us, r->lmdb_one.p50_us)));
	bench_ratio_line(f, "create_session 1 thread / (echo tcp + a create's writes), p50:",
	    bench_x(a, sizeof(a),
	        bench_ratio(r->create_seq.p50_us, r->echo_tcp.done && r->lmdb_shape.done
	                                              ? r->echo_tcp.p50_us + r->lmdb_shape.p50_us
	                                              : 0)));
	snprintf(label, sizeof(label), "create_session %u threads / 1 thread, ops/s:", r->threads);
	bench_ratio_line(f, label,
	    bench_x(a, sizeof(a), bench_ratio(r->create_conc.ops_per_s, r->create_seq.ops_per_s)));
	snprintf(label, sizeof(label), "create_session %u threads / LMDB %u puts per commit, ops/s:",
	    r->threads, r->threads);
	bench_ratio_line(f, label,
	    bench_x(a, sizeof(a), bench_ratio(r->create_conc.ops_per_s, r->lmdb_batch.ops_per_s)));
	snprintf(label, sizeof(label), "create_session %u threads, CPU ceiling (%ld cores / CPU per op):",
	    r->threads, r->cores);
	if (bench_cpu_ceiling(&r->create_conc, r->cores) > 0) {
		snprintf(a, sizeof(a), "%.0f ops/s", bench_cpu_ceiling(&r->create_conc, r->cores));
	} else {
		snprintf(a, sizeof(a), "-");
	}
	bench_ratio_line(f, label, a);
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
	fprintf(f, "  server memory at the end: RssAnon %ld KiB (its own), RssFile %ld KiB (mostly the "
	    "map's pages)\n", r->srv_rss_anon_kib, r->srv_rss_file_kib);
	fprintf(f, "  server stopped with SIGTERM: exit %d\n", r->server_exit);
}

static const bench_result *
bench_wl_find(const bench_report *r, const char *slug)
{
	for (size_t i = 0; i < r->nwl; i++) {
		if (strcmp(r->wl[i].slug, slug) == 0 && r->wl[i].done) {
			return &r->wl[i];
		}
	}
	return NULL;
}

static void
bench_wl_print(const bench_report *r, FILE *f)
{
	if (r->nwl == 0) {
		return;
	}
	fprintf(f, "\nworkloads (%.1f s each%s; latency of open loops from each call's due time)\n",
	    r->seconds, r->preload > 0 ? ", after --preload" : "");
	if (r->preload > 0) {
		fprintf(f, "  preload: %llu sessions straight into the store in %.1f s\n",
		    (unsigned long long) r->preload, r->preload_s);
	}
	for (size_t i = 0; i < r->nwl; i++) {
		const bench_result *w = &r->wl[i];
		bench_row_print(f, w);
		if (w->target_rate > 0) {
			fprintf(f, "  %-*s open loop at %.0f calls/s, %u workers\n", BENCH_LABEL_WIDTH, "",
			    w->target_rate, w->workers);
		}
		if (w->note[0] != '\0') {
			fprintf(f, "  %-*s %s\n", BENCH_LABEL_WIDTH, "", w->note);
		}
		if (w->aux_cpu_us_per_op >= 0) {
			fprintf(f, "  %-*s bridge CPU %.1f us per op; bench + server + bridge %.1f us: "
			    "at most %.0f/s on %ld cores\n", BENCH_LABEL_WIDTH, "", w->aux_cpu_us_per_op,
			    bench_wl_cpu_total(w), bench_wl_cpu_ceiling(w, r->cores), r->cores);
		}
	}
	for (size_t i = 0; i < bench_wl_skipped_n; i++) {
		fprintf(f, "  %-*s skipped: %s\n", BENCH_LABEL_WIDTH, bench_wl_skipped[i][0],
		    bench_wl_skipped[i][1]);
	}
}

static void
bench_peer_print(FILE *f, const bench_peer_cmp *c)
{
	if (!c->done) {
		return;
	}
	fprintf(f, "  %-52s median %.2fx over %zu rounds (goal >= %.0fx)\n", c->label,
	    c->median_ratio, c->rounds, c->goal);
	for (size_t k = 0; k < c->rounds; k++) {
		fprintf(f, "    round %zu: paywire %.0f/s, peer %.0f/s: %.2fx\n", k + 1, c->paywire_ops[k],
		    c->peer_ops[k], c->peer_ops[k] > 0 ? c->paywire_ops[k] / c->peer_ops[k] : 0.0);
	}
}

/* "met"/"NOT met"/"-" */
static const char *
bench_met(bool measured, bool met)
{
	return !measured ? "not measured" : (met ? "met" : "NOT met");
}

static void
bench_goal_line(FILE *f, const char *figure, const char *value, const char *goal, const char *met)
{
	fprintf(f, "  %-58s %-24s %-14s %s\n", figure, value, goal, met);
}

static void
bench_goals_print(const bench_report *r, FILE *f)
{
	const bench_result *e64 = bench_wl_find(r, "echo_tcp_x64");
	const bench_result *s1 = bench_wl_find(r, "get_status_x1");
	const bench_result *mix = bench_wl_find(r, "mix_x64");
	const bench_result *cr = bench_wl_find(r, "create_session_x64");
	const bench_result *dup = bench_wl_find(r, "ingest_dup_x1");
	const bench_result *http = bench_wl_find(r, "http_webhook_open");
	char v[64];
	double x;
	double y;

	fprintf(f, "\ngoals of issue 12 (ratios within this run)\n");
	x = bench_ratio(r->status_ipc.p50_us, r->echo_ipc.p50_us);
	y = bench_ratio(r->status_ipc.p99_us, r->echo_ipc.p99_us);
	snprintf(v, sizeof(v), "%.2fx / %.2fx", x, y);
	bench_goal_line(f, "GetStatus ipc 1 client p50 / p99 vs nng echo", v, "<=1.1x/<=1.2x",
	    bench_met(x > 0 && y > 0, x <= 1.1 && y <= 1.2));
	x = mix != NULL && e64 != NULL ? mix->ops_per_s / e64->ops_per_s : 0;
	snprintf(v, sizeof(v), "%.2fx", x);
	bench_goal_line(f, "durable mix, 64 in flight, rate vs echo rate x64", v, ">=0.5x",
	    bench_met(x > 0, x >= 0.5));
	x = bench_ratio(r->create_seq.p50_us,
	    r->echo_tcp.done && r->lmdb_one.done ? r->echo_tcp.p50_us + r->lmdb_one.p50_us : 0);
	snprintf(v, sizeof(v), "%.2fx", x);
	bench_goal_line(f, "one durable create p50 vs echo p50 + LMDB 1-put p50", v, "<=1.3x",
	    bench_met(x > 0, x <= 1.3));
	x = cr != NULL && e64 != NULL && cr->srv_cpu_us_per_op > 0 && e64->srv_cpu_us_per_op > 0
	        ? cr->srv_cpu_us_per_op - e64->srv_cpu_us_per_op
	        : -1e9;
	snprintf(v, sizeof(v), "%+.1f us", x);
	bench_goal_line(f, "server CPU per durable create - echo CPU per msg", x > -1e8 ? v : "-",
	    "<= +30 us", bench_met(x > -1e8, x <= 30.0));
	x = dup != NULL && s1 != NULL ? dup->p50_us / s1->p50_us : 0;
	snprintf(v, sizeof(v), "%.2fx, %llu commits", x,
	    (unsigned long long) (dup != NULL ? dup->commits : 0));
	bench_goal_line(f, "duplicate webhook p50 vs GetStatus p50 (and no fsync)", v,
	    "<=1.2x, 0", bench_met(x > 0, dup != NULL && x <= 1.2 && dup->commits == 0));
	x = r->peers.grpc8.done ? r->peers.grpc8.median_ratio : 0;
	y = r->peers.grpc64.done ? r->peers.grpc64.median_ratio : 0;
	snprintf(v, sizeof(v), "%.2fx / %.2fx", x, y);
	bench_goal_line(f, "RPC rate x8 / x64 vs gRPC C++ unary (median)", v, ">=4x",
	    bench_met(x > 0 && y > 0, x >= 4 && y >= 4));
	x = r->peers.pg.done ? r->peers.pg.median_ratio : 0;
	snprintf(v, sizeof(v), "%.2fx", x);
	bench_goal_line(f, "durable creates x64 vs pgbench INSERT -c 64 (median)", v, ">=3x",
	    bench_met(x > 0, x >= 3));
	snprintf(v, sizeof(v), "%.0f/s, p99 %.1f ms", http != NULL ? http->ops_per_s : 0,
	    http != NULL ? http->p99_us / 1000.0 : 0);
	bench_goal_line(f, "HTTP webhooks via bridge, 64 conns, open loop", v, ">=10000/s,<=20ms",
	    bench_met(http != NULL,
	        http != NULL && http->ops_per_s >= 10000 * 0.98 && http->p99_us <= 20000));
	if (http != NULL && http->aux_cpu_us_per_op >= 0 && bench_wl_cpu_total(http) > 0) {
		/* the CPU the goal's rate needs against what the machine has */
		fprintf(f, "  %-58s bench %.1f + server %.1f + bridge %.1f = %.1f us: %.2f of %ld cores "
		    "at 10000/s\n", "  CPU per HTTP webhook", http->self_cpu_us_per_op,
		    http->srv_cpu_us_per_op, http->aux_cpu_us_per_op, bench_wl_cpu_total(http),
		    bench_wl_cpu_total(http) * 10000.0 / 1e6, r->cores);
	}
	if (r->peers.grpc8.done || r->peers.grpc64.done || r->peers.pg.done) {
		fprintf(f, "\npeers (alternated rounds; ratio = paywire / peer in the same round)\n");
		bench_peer_print(f, &r->peers.grpc8);
		bench_peer_print(f, &r->peers.grpc64);
		bench_peer_print(f, &r->peers.pg);
	}
}

void
bench_report_print(const bench_report *r, FILE *f)
{
	PW_ASSERT(r != NULL && f != NULL);
	fprintf(f, "paywire-bench %s  %s  %ld cores%s%s  sync %s  n %zu  threads %u\n",
	    PW_VERSION_STRING, r->date, r->cores, r->cpu[0] != '\0' ? "  " : "", r->cpu, r->sync,
	    r->n, r->threads);
	fprintf(f, "server: %s\n\n", r->server_bin);
	fprintf(f, "  %-*s %7s %8s %8s %8s %8s %8s %15s\n", BENCH_LABEL_WIDTH, "", "", "", "", "",
	    "", "", "CPU us per op");
	fprintf(f, "  %-*s %7s %8s %8s %8s %8s %8s %7s %7s\n", BENCH_LABEL_WIDTH, "latency in us",
	    "count", "p50", "p99", "p99.9", "max", "ops/s", "bench", "server");
	fprintf(f, "reads, one client thread (get_status request: %zu bytes)\n",
	    r->status_msg_bytes);
	bench_row_print(f, &r->echo_ipc);
	bench_row_print(f, &r->status_ipc);
	bench_row_print(f, &r->echo_tcp);
	bench_row_print(f, &r->status_tcp);
	fprintf(f, "durable writes, one at a time (tcp)\n");
	bench_row_print(f, &r->lmdb_one);
	bench_row_print(f, &r->lmdb_shape);
	bench_row_print(f, &r->create_seq);
	fprintf(f, "durable writes, %u at a time (tcp)\n", r->threads);
	bench_row_print(f, &r->lmdb_batch);
	bench_row_print(f, &r->create_conc);
	bench_ratios_print(r, f);
	bench_commits_print(r, f);
	bench_wl_print(r, f);
	bench_goals_print(r, f);
}

/* {"count":..,"p50_us":..,...} or null when not measured. */
static json_t *
bench_row_json(const bench_result *r)
{
	if (!r->done) {
		return json_null();
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "label",
	    r->name, "sample", r->unit, "count", (json_int_t) r->count, "ops", (json_int_t) r->ops,
	    "p50_us", r->p50_us, "p99_us", r->p99_us, "p999_us", r->p999_us, "max_us", r->max_us,
	    "wall_s", r->wall_s, "ops_per_s", r->ops_per_s, "bench_cpu_us_per_op",
	    r->self_cpu_us_per_op, "server_cpu_us_per_op",
	    r->srv_cpu_us_per_op >= 0 ? json_real(r->srv_cpu_us_per_op) : json_null());
}

static json_t *
bench_results_json(const bench_report *r)
{
	const bench_result *rows[] = { &r->echo_ipc, &r->status_ipc, &r->echo_tcp,
		&r->status_tcp, &r->lmdb_one, &r->lmdb_shape, &r->create_seq, &r->lmdb_batch,
		&r->create_conc };
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (json_object_set_new(o, rows[i]->slug, bench_row_json(rows[i])) != 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

/* A number, or null when it could not be measured (0). */
static json_t *
bench_num_json(double v)
{
	return v > 0 ? json_real(v) : json_null();
}

static json_t *
bench_ratios_json(const bench_report *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "get_status_over_echo_ipc_p50",
	    bench_num_json(bench_ratio(r->status_ipc.p50_us, r->echo_ipc.p50_us)),
	    "get_status_over_echo_tcp_p50",
	    bench_num_json(bench_ratio(r->status_tcp.p50_us, r->echo_tcp.p50_us)),
	    "get_status_over_echo_ipc_server_cpu",
	    bench_num_json(bench_ratio(r->status_ipc.srv_cpu_us_per_op, r->echo_ipc.srv_cpu_us_per_op)),
	    "get_status_over_echo_tcp_server_cpu",
	    bench_num_json(bench_ratio(r->status_tcp.srv_cpu_us_per_op, r->echo_tcp.srv_cpu_us_per_op)),
	    "create_seq_over_lmdb_one_p50",
	    bench_num_json(bench_ratio(r->create_seq.p50_us, r->lmdb_one.p50_us)),
	    "create_seq_over_echo_tcp_plus_lmdb_one_p50",
	    bench_num_json(bench_ratio(r->create_seq.p50_us, r->echo_tcp.p50_us + r->lmdb_one.p50_us)),
	    "lmdb_create_shape_over_lmdb_one_p50",
	    bench_num_json(bench_ratio(r->lmdb_shape.p50_us, r->lmdb_one.p50_us)),
	    "create_seq_over_echo_tcp_plus_lmdb_create_shape_p50",
	    bench_num_json(bench_ratio(r->create_seq.p50_us,
	        r->echo_tcp.done && r->lmdb_shape.done ? r->echo_tcp.p50_us + r->lmdb_shape.p50_us : 0)),
	    "create_concurrent_cpu_ceiling_ops",
	    bench_num_json(bench_cpu_ceiling(&r->create_conc, r->cores)),
	    "create_concurrent_over_seq_ops",
	    bench_num_json(bench_ratio(r->create_conc.ops_per_s, r->create_seq.ops_per_s)),
	    "create_concurrent_over_lmdb_batch_ops",
	    bench_num_json(bench_ratio(r->create_conc.ops_per_s, r->lmdb_batch.ops_per_s)));
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

static json_t *
bench_wl_json(const bench_report *r)
{
	json_t *o = json_object();

	for (size_t i = 0; o != NULL && i < r->nwl; i++) {
		const bench_result *w = &r->wl[i];
		json_t *row = bench_row_json(w);
		if (row != NULL && json_is_object(row)) {
			json_object_set_new(row, "rate", w->target_rate > 0 ? json_real(w->target_rate)
			                                                   : json_null());
			json_object_set_new(row, "workers", json_integer(w->workers));
			json_object_set_new(row, "commits", json_integer((json_int_t) w->commits));
			json_object_set_new(row, "note", json_string(w->note));
			json_object_set_new(row, "bridge_cpu_us_per_op",
			    w->aux_cpu_us_per_op >= 0 ? json_real(w->aux_cpu_us_per_op) : json_null());
			json_object_set_new(row, "cpu_us_per_op_total",
			    bench_num_json(bench_wl_cpu_total(w)));
			json_object_set_new(row, "cpu_ceiling_ops_per_s",
			    bench_num_json(bench_wl_cpu_ceiling(w, r->cores)));
		}
		json_object_set_new(o, w->slug, row);
	}
	return o;
}

static json_t *
bench_peer_json(const bench_peer_cmp *c)
{
	json_t *rounds;

	if (!c->done) {
		return json_null();
	}
	rounds = json_array();
	for (size_t k = 0; rounds != NULL && k < c->rounds; k++) {
		json_array_append_new(rounds, json_pack("{s:f, s:f, s:f}", "paywire_ops_per_s",
		                                  c->paywire_ops[k], "peer_ops_per_s", c->peer_ops[k],
		                                  "paywire_p99_us", c->paywire_p99_us[k]));
	}
	return json_pack("{s:s, s:f, s:f, s:o}", "label", c->label, "median_ratio",
	    c->median_ratio, "goal", c->goal, "rounds", rounds);
}

static json_t *
bench_peers_json(const bench_report *r)
{
	json_t *o = json_object();

	if (o != NULL && r->peers.grpc8.done) {
		json_object_set_new(o, r->peers.grpc8.slug, bench_peer_json(&r->peers.grpc8));
	}
	if (o != NULL && r->peers.grpc64.done) {
		json_object_set_new(o, r->peers.grpc64.slug, bench_peer_json(&r->peers.grpc64));
	}
	if (o != NULL && r->peers.pg.done) {
		json_object_set_new(o, r->peers.pg.slug, bench_peer_json(&r->peers.pg));
	}
	return o;
}

int
bench_report_json(const bench_report *r, FILE *f)
{
	json_t *o;
	int rv;

	PW_ASSERT(r != NULL && f != NULL);
	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:i, s:o, s:o, s:I, s:f, s:f, s:I, s:I}",
	    "version", PW_VERSION_STRING, "date", r->date, "cores", (json_int_t) r->cores, "cpu",
	    r->cpu, "server_bin", r->server_bin, "sync", r->sync, "n", (json_int_t) r->n,
	    "threads", (json_int_t) r->threads, "status_request_bytes",
	    (json_int_t) r->status_msg_bytes, "results", bench_results_json(r), "ratios",
	    bench_ratios_json(r), "group_commit", bench_commits_json(r), "server_exit",
	    r->server_exit, "workloads", bench_wl_json(r), "peers", bench_peers_json(r), "preload",
	    (json_int_t) r->preload, "preload_s", r->preload_s, "seconds", r->seconds,
	    "server_rss_anon_kib", (json_int_t) r->srv_rss_anon_kib, "server_rss_file_kib",
	    (json_int_t) r->srv_rss_file_kib);
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
