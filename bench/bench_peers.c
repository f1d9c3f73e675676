/*
 * bench_peers.c - paywire against its peers, alternated in the same run:
 * round k runs paywire for --seconds, then the peer for --seconds, and the
 * figure is the median over the rounds of paywire's rate / the peer's rate
 * in that round, so both see the same machine state.
 *   - gRPC: bench/peers/paywire-grpc-peer, a gRPC C++ unary server (Debian's
 *     grpc++) doing the same in-memory lookup as get_status (a session's
 *     status by its id), loaded by the same program's client at the same
 *     concurrency; against get_status at 8 and at --inflight in flight.
 *   - PostgreSQL: pgbench, one single-row INSERT per transaction at
 *     --inflight clients, against durable create_session at --inflight.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "pw_common.h"

#define BENCH_PEER_START_MS 15000
#define BENCH_PEER_OUT_BYTES 16384

extern char **environ;

/* Runs argv to its end (at most timeout_ms, then SIGTERM), its stdout into
 * out (NUL-terminated, cut at size). 0 if it exited 0. */
static int
bench_capture(char *const *argv, char *out, size_t size, int timeout_ms)
{
	int64_t deadline = pw_monotonic_ms() + timeout_ms;
	int fds[2];
	size_t got = 0;
	pid_t pid;
	int code;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		return -1;
	}
	if (bench_proc_spawn(argv[0], argv, environ, fds[1], fds[1], &pid) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int64_t left = deadline - pw_monotonic_ms();
		ssize_t n;
		char sink[512];
		if (left <= 0 || poll(&p, 1, (int) left) <= 0) {
			fprintf(stderr, "bench: %s did not finish in time\n", argv[0]);
			break;
		}
		n = got + 1 < size ? read(fds[0], out + got, size - 1 - got)
		                   : read(fds[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		if (got + 1 < size) {
			got += (size_t) n;
		}
	}
	out[got] = '\0';
	close(fds[0]);
	code = bench_proc_stop(&pid, 5000);
	if (code != 0) {
		fprintf(stderr, "bench: %s exited with %d:\n%s\n", argv[0], code, out);
		return -1;
	}
	return 0;
}

static int
bench_dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *) a;
	double y = *(const double *) b;

	return (x > y) - (x < y);
}

static void
bench_cmp_finish(bench_peer_cmp *c)
{
	double ratios[BENCH_ROUNDS_MAX];

	for (size_t i = 0; i < c->rounds; i++) {
		ratios[i] = c->peer_ops[i] > 0 ? c->paywire_ops[i] / c->peer_ops[i] : 0;
	}
	qsort(ratios, c->rounds, sizeof(ratios[0]), bench_dbl_cmp);
	c->median_ratio = c->rounds % 2 == 1 ? ratios[c->rounds / 2]
	                                     : (ratios[c->rounds / 2 - 1] + ratios[c->rounds / 2]) / 2;
	c->done = true;
}

/* ---- gRPC ---- */

static int
bench_grpc_round(const bench_peers_io *io, const char *target, unsigned threads,
    bench_peer_cmp *c, bench_work *wk)
{
	char out[BENCH_PEER_OUT_BYTES];
	char th[16];
	char secs[32];
	bench_result row;
	bench_load l = { .label = c->slug, .op = bench_op_get_status, .ctx = wk, .workers = threads,
		.seconds = io->seconds, .srv_pid = io->server->pid };
	double ops = 0;
	double p99 = 0;
	const char *at;

	bench_result_init(&row, c->label, c->slug, "op");
	if (bench_load_run(&l, &row) != 0) {
		return -1;
	}
	snprintf(th, sizeof(th), "%u", threads);
	snprintf(secs, sizeof(secs), "%.3f", io->seconds);
	char *const argv[] = { (char *) io->grpc_peer, "--load", (char *) target, "--threads", th,
		"--seconds", secs, "--ids", "64", NULL };
	if (bench_capture(argv, out, sizeof(out), (int) (io->seconds * 1000.0) + 60000) != 0) {
		return -1;
	}
	at = strstr(out, "ops_per_s ");
	if (at == NULL || sscanf(at, "ops_per_s %lf p99_us %lf", &ops, &p99) != 2 || ops <= 0) {
		fprintf(stderr, "bench: cannot read the gRPC peer's figures from: %.300s\n", out);
		return -1;
	}
	c->paywire_ops[c->rounds] = row.ops_per_s;
	c->paywire_p99_us[c->rounds] = row.p99_us;
	c->peer_ops[c->rounds] = ops;
	c->peer_p99_us[c->rounds] = p99;
	c->rounds++;
	return 0;
}

static int
bench_grpc(const bench_peers_io *io, bench_peer_report *out, bench_work *wk)
{
	char line[256];
	char target[64];
	int fds[2];
	pid_t pid = 0;
	unsigned port = 0;
	int rv;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		return -1;
	}
	char *const argv[] = { (char *) io->grpc_peer, "--serve", "127.0.0.1:0", "--ids", "64",
		NULL };
	rv = bench_proc_spawn(io->grpc_peer, argv, environ, fds[1], STDERR_FILENO, &pid);
	close(fds[1]);
	if (rv == 0 && (bench_line_read(fds[0], line, sizeof(line), BENCH_PEER_START_MS) != 0 ||
	                   sscanf(line, "listening %u", &port) != 1)) {
		fprintf(stderr, "bench: the gRPC peer did not start: %s\n", line);
		rv = -1;
	}
	close(fds[0]);
	if (rv != 0) {
		if (pid > 0) {
			(void) bench_proc_stop(&pid, 5000);
		}
		return -1;
	}
	snprintf(target, sizeof(target), "127.0.0.1:%u", port);
	snprintf(out->grpc8.label, sizeof(out->grpc8.label), "get_status / gRPC unary, 8 in flight");
	snprintf(out->grpc8.slug, sizeof(out->grpc8.slug), "grpc_x8");
	snprintf(out->grpc64.label, sizeof(out->grpc64.label), "get_status / gRPC unary, %u in flight",
	    io->inflight);
	snprintf(out->grpc64.slug, sizeof(out->grpc64.slug), "grpc_x%u", io->inflight);
	out->grpc8.goal = 4.0;
	out->grpc64.goal = 4.0;
	for (size_t k = 0; k < io->rounds && rv == 0; k++) {
		bench_phase("gRPC peer, round", k + 1);
		rv = bench_grpc_round(io, target, 8, &out->grpc8, wk);
		if (rv == 0) {
			rv = bench_grpc_round(io, target, io->inflight, &out->grpc64, wk);
		}
	}
	if (bench_proc_stop(&pid, 10000) != 0) {
		fprintf(stderr, "bench: the gRPC peer did not exit cleanly\n");
		rv = -1;
	}
	if (rv == 0) {
		bench_cmp_finish(&out->grpc8);
		bench_cmp_finish(&out->grpc64);
	}
	return rv;
}

/* ---- pgbench ---- */

static int
bench_pg(const bench_peers_io *io, bench_peer_report *out, bench_work *wk)
{
	char script[] = "/tmp/paywire-bench-pgbench.XXXXXX";
	static const char sql[] = "INSERT INTO floor (v) VALUES (decode(repeat('ab', 200), 'hex'));\n";
	char out_buf[BENCH_PEER_OUT_BYTES];
	char clients[16];
	char secs[16];
	bench_peer_cmp *c = &out->pg;
	int fd;
	int rv = 0;

	fd = mkstemp(script);
	if (fd < 0 || write(fd, sql, sizeof(sql) - 1) != (ssize_t) (sizeof(sql) - 1)) {
		fprintf(stderr, "bench: cannot write the pgbench script: %s\n", strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(script);
		}
		return -1;
	}
	close(fd);
	(void) chmod(script, 0644); /* pgbench may run as another user: harmless either way */
	snprintf(c->label, sizeof(c->label), "create_session / pgbench INSERT, %u clients",
	    io->inflight);
	snprintf(c->slug, sizeof(c->slug), "pgbench_x%u", io->inflight);
	c->goal = 3.0;
	snprintf(clients, sizeof(clients), "%u", io->inflight);
	snprintf(secs, sizeof(secs), "%d", (int) ceil(io->seconds));
	for (size_t k = 0; k < io->rounds && rv == 0; k++) {
		bench_result row;
		bench_load l = { .label = c->slug, .op = bench_op_create, .ctx = wk,
			.workers = io->inflight, .seconds = ceil(io->seconds), .srv_pid = io->server->pid };
		const char *at;
		double tps = 0;
		char *const argv[] = { "/usr/bin/pgbench", "-n", "-c", clients, "-j", "2", "-T", secs,
			"-f", script, (char *) io->pgbench, NULL };

		bench_phase("pgbench peer, round", k + 1);
		bench_result_init(&row, c->label, c->slug, "op");
		rv = bench_load_run(&l, &row);
		if (rv == 0) {
			rv = bench_capture(argv, out_buf, sizeof(out_buf), (int) (io->seconds * 1000) + 60000);
		}
		if (rv == 0) {
			at = strstr(out_buf, "tps = ");
			if (at == NULL || sscanf(at, "tps = %lf", &tps) != 1 || tps <= 0) {
				fprintf(stderr, "bench: cannot read pgbench's tps from: %.300s\n", out_buf);
				rv = -1;
			}
		}
		if (rv == 0) {
			c->paywire_ops[c->rounds] = row.ops_per_s;
			c->paywire_p99_us[c->rounds] = row.p99_us;
			c->peer_ops[c->rounds] = tps;
			c->peer_p99_us[c->rounds] = 0;
			c->rounds++;
		}
	}
	unlink(script);
	if (rv == 0) {
		bench_cmp_finish(c);
	}
	return rv;
}

int
bench_peers_run(const bench_peers_io *io, bench_peer_report *out, uint64_t *created)
{
	bench_work *wk = calloc(1, sizeof(*wk));
	int rv = 0;

	if (wk == NULL) {
		return -1;
	}
	wk->c = io->client;
	wk->api_key = io->api_key;
	wk->ids = io->ids;
	wk->nids = io->nids;
	atomic_init(&wk->created, 0);
	atomic_init(&wk->customers, 0);
	if (io->grpc_peer != NULL) {
		rv = bench_grpc(io, out, wk);
	}
	if (rv == 0 && io->pgbench != NULL) {
		rv = bench_pg(io, out, wk);
	}
	*created += atomic_load(&wk->created);
	free(wk);
	return rv;
}
