/*
 * bench_workloads.c - the workload section of paywire-bench: every call of
 * bench_work.c run by the runner (bench_load.c) for --seconds each, closed
 * loop at 1, 8 and 64 in flight or open loop at a fixed rate, next to an
 * nng echo at the same concurrency (the transport's floor), after the
 * preparation each needs (unpaid sessions, applied events, credits, the
 * HTTP bridge). Each row notes the server's LMDB commits it caused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "bench.h"
#include "pw_common.h"
#include "store.h"

#define BENCH_BRIDGE_WAIT_MS 15000
#define BENCH_ECHO_CALL_MS 10000

/* ---- nng echo at any concurrency: a context per worker on one socket, as
 * libpaywire opens a context per call on one socket ---- */

typedef struct bench_echo_conc {
	nng_socket req;
	const void *msg;
	size_t len;
	nng_ctx ctx[BENCH_WORKERS_MAX];
	nng_aio *aio[BENCH_WORKERS_MAX];
	atomic_long sent;
} bench_echo_conc;

static int
bench_op_echo(void *ctx, unsigned worker, uint64_t seq)
{
	bench_echo_conc *e = ctx;
	nng_msg *m = NULL;
	int rv;

	(void) seq;
	if (e->aio[worker] == NULL) {
		rv = nng_aio_alloc(&e->aio[worker], NULL, NULL);
		if (rv == 0) {
			rv = nng_ctx_open(&e->ctx[worker], e->req);
		}
		if (rv != 0) {
			fprintf(stderr, "bench: echo context: %s\n", nng_strerror(rv));
			return -1;
		}
		nng_aio_set_timeout(e->aio[worker], BENCH_ECHO_CALL_MS);
	}
	rv = nng_msg_alloc(&m, 0);
	if (rv == 0) {
		rv = nng_msg_append(m, e->msg, e->len);
	}
	if (rv == 0) {
		nng_aio_set_msg(e->aio[worker], m);
		nng_ctx_send(e->ctx[worker], e->aio[worker]);
		nng_aio_wait(e->aio[worker]);
		rv = nng_aio_result(e->aio[worker]);
		if (rv == 0) {
			m = NULL;
		}
	}
	if (rv == 0) {
		nng_ctx_recv(e->ctx[worker], e->aio[worker]);
		nng_aio_wait(e->aio[worker]);
		rv = nng_aio_result(e->aio[worker]);
		if (rv == 0) {
			m = nng_aio_get_msg(e->aio[worker]);
			rv = nng_msg_len(m) == e->len ? 0 : NNG_EINVAL;
		}
	}
	if (m != NULL) {
		nng_msg_free(m);
	}
	if (rv != 0) {
		fprintf(stderr, "bench: echo round trip: %s\n", nng_strerror(rv));
		return -1;
	}
	atomic_fetch_add(&e->sent, 1);
	return 0;
}

static void
bench_echo_conc_close(bench_echo_conc *e)
{
	for (unsigned i = 0; i < BENCH_WORKERS_MAX; i++) {
		if (e->aio[i] != NULL) {
			nng_aio_free(e->aio[i]);
			nng_ctx_close(e->ctx[i]);
		}
	}
}

/* ---- the bridge ---- */

static int
bench_bridge_start(const bench_wl_cfg *c, const char *server_url, pid_t *pid, unsigned *port)
{
	extern char **environ;
	char line[512];
	char threads[16];
	int fds[2];
	const char *at;
	int rv;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		return -1;
	}
	/* a bridge worker blocks in its libpaywire call: one worker per
	 * connection, so the bridge keeps as many calls in flight as the
	 * bench's connections (up to its maximum) */
	snprintf(threads, sizeof(threads), "%u",
	    c->inflight < PW_BRIDGE_THREADS_MAX ? c->inflight : PW_BRIDGE_THREADS_MAX);
	/* its per-address webhook limit off: every call comes from 127.0.0.1,
	 * and the bench measures the path, not the limiter (as the server's
	 * --limits off) */
	char *const argv[] = { (char *) c->bridge_bin, "--listen", "127.0.0.1:0", "--server",
		(char *) server_url, "--threads", threads, "--ip-rate-webhooks", "0", "--log-level",
		"warn", NULL };
	rv = bench_proc_spawn(c->bridge_bin, argv, environ, fds[1], STDERR_FILENO, pid);
	close(fds[1]);
	if (rv == 0 && bench_line_read(fds[0], line, sizeof(line), BENCH_BRIDGE_WAIT_MS) != 0) {
		fprintf(stderr, "bench: %s did not print its start line\n", c->bridge_bin);
		(void) bench_proc_stop(pid, 5000);
		rv = -1;
	}
	close(fds[0]);
	if (rv != 0) {
		return -1;
	}
	at = strstr(line, "listening on 127.0.0.1:");
	if (at == NULL || sscanf(at + strlen("listening on 127.0.0.1:"), "%u", port) != 1) {
		fprintf(stderr, "bench: cannot read the bridge's port from: %s\n", line);
		(void) bench_proc_stop(pid, 5000);
		return -1;
	}
	return 0;
}

/* ---- the table ---- */

typedef enum bench_need {
	BENCH_NEED_NONE = 0,
	BENCH_NEED_TARGETS = 1,  /* unpaid sessions */
	BENCH_NEED_DUPS = 2,     /* applied events */
	BENCH_NEED_CREDITS = 4,  /* a customer with credits */
	BENCH_NEED_HTTP = 8,     /* the bridge */
	BENCH_NEED_ECHO = 16,    /* the echo process */
} bench_need;

typedef struct bench_wl_def {
	const char *slug;         /* JSON key and --workloads name */
	const char *label;
	bench_op_fn op;
	unsigned workers;        /* 0: --inflight */
	int rate;                /* 0 closed; 1 --rate; 2 --http-rate */
	unsigned need;
	bool durable;            /* writes: commits are counted */
} bench_wl_def;

static const bench_wl_def bench_wl_defs[] = {
	{ "echo_tcp_x1", "floor: nng echo tcp, 1 in flight", bench_op_echo, 1, 0, BENCH_NEED_ECHO, false },
	{ "get_status_x1", "get_status, 1 in flight", bench_op_get_status, 1, 0, 0, false },
	{ "echo_tcp_x8", "floor: nng echo tcp, 8 in flight", bench_op_echo, 8, 0, BENCH_NEED_ECHO, false },
	{ "get_status_x8", "get_status, 8 in flight", bench_op_get_status, 8, 0, 0, false },
	{ "echo_tcp_x64", "floor: nng echo tcp, 64 in flight", bench_op_echo, 0, 0, BENCH_NEED_ECHO, false },
	{ "get_status_x64", "get_status, 64 in flight", bench_op_get_status, 0, 0, 0, false },
	{ "create_session_x64", "create_session, 64 in flight", bench_op_create, 0, 0, 0, true },
	{ "ingest_fresh_x64", "ingest_webhook fresh, 64 in flight", bench_op_ingest_fresh, 0, 0,
	    BENCH_NEED_TARGETS, true },
	{ "ingest_dup_x1", "ingest_webhook duplicate, 1 in flight", bench_op_ingest_dup, 1, 0,
	    BENCH_NEED_DUPS, true },
	{ "mix_x64", "create + webhook mix, 64 in flight", bench_op_mix, 0, 0, BENCH_NEED_TARGETS,
	    true },
	{ "mix_open", "create + webhook mix, open loop", bench_op_mix, 0, 1, BENCH_NEED_TARGETS,
	    true },
	{ "http_webhook_open", "HTTP webhooks via bridge, open loop", bench_op_http_webhook, 0, 2,
	    BENCH_NEED_TARGETS | BENCH_NEED_HTTP, true },
	{ "credits_deduct_x8", "credits_deduct, 8 in flight", bench_op_credits_deduct, 8, 0,
	    BENCH_NEED_CREDITS, true },
	{ "credits_balance_x8", "credits_balance, 8 in flight", bench_op_credits_balance, 8, 0,
	    BENCH_NEED_CREDITS, false },
	{ "list_sessions_x8", "list_sessions (10), 8 in flight", bench_op_sessions_list, 8, 0, 0,
	    false },
	{ "list_events_x8", "list_events (10), 8 in flight", bench_op_events_list, 8, 0, 0, false },
	{ "get_entitlements_x8", "get_entitlements, 8 in flight", bench_op_entitlements, 8, 0, 0,
	    false },
	{ "list_api_keys_x8", "list_api_keys, 8 in flight", bench_op_apikeys_list, 8, 0, 0, false },
};

#define BENCH_WL_COUNT (sizeof(bench_wl_defs) / sizeof(bench_wl_defs[0]))

const char *const bench_wl_skipped[][2] = {
	{ "refund_payment", "needs a provider (Stripe/Razorpay API) to call: not measured" },
	{ "create_portal", "needs a provider (Stripe API) to call: not measured" },
	{ "create_session with provider checkout", "needs a provider: not measured" },
};
const size_t bench_wl_skipped_n = sizeof(bench_wl_skipped) / sizeof(bench_wl_skipped[0]);

/* name is in the comma-separated list (or the list is "all"). */
static bool
bench_wl_selected(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (strcmp(list, "all") == 0) {
		return true;
	}
	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t) (comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0) {
			return true;
		}
		p += len + (comma != NULL ? 1 : 0);
	}
	return false;
}

int
bench_wl_list_check(const char *list)
{
	if (strcmp(list, "all") == 0 || strcmp(list, "none") == 0) {
		return 0;
	}
	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t) (comma - p) : strlen(p);
		bool known = false;
		for (size_t i = 0; i < BENCH_WL_COUNT && !known; i++) {
			known = strlen(bench_wl_defs[i].slug) == len &&
			        strncmp(p, bench_wl_defs[i].slug, len) == 0;
		}
		if (!known) {
			fprintf(stderr, "paywire-bench: --workloads: unknown workload %.*s\n", (int) len, p);
			return -1;
		}
		p += len + (comma != NULL ? 1 : 0);
	}
	return 0;
}

/* Estimated unpaid sessions workload d uses in c->seconds. */
static double
bench_pool_need(const bench_wl_cfg *c, const bench_wl_def *d)
{
	double span = c->seconds * 1.15 + 1.0; /* warm-up and slack */

	if (!(d->need & BENCH_NEED_TARGETS)) {
		return 0;
	}
	if (d->rate == 1) {
		return c->rate * span / 2.0; /* the mix pays every other call */
	}
	if (d->rate == 2) {
		return c->http_rate * span;
	}
	return c->pool_rate * span / (d->op == bench_op_mix ? 2.0 : 1.0);
}

/* Estimated unpaid sessions the selected workloads use. */
static size_t
bench_pool_size(const bench_wl_cfg *c)
{
	double need = BENCH_DUPS + 16;

	for (size_t i = 0; i < BENCH_WL_COUNT; i++) {
		if (bench_wl_selected(c->list, bench_wl_defs[i].slug)) {
			need += bench_pool_need(c, &bench_wl_defs[i]);
		}
	}
	return (size_t) need;
}

/* Workload i's share of the unpaid sessions left: an open loop gets what
 * its rate needs; a closed loop shares what the open loops after it do not
 * need with the closed loops after it, in proportion to their estimates. */
static uint64_t
bench_pool_budget(const bench_wl_cfg *c, size_t i, size_t left)
{
	double reserved = 0;
	double closed = 0;
	double mine = bench_pool_need(c, &bench_wl_defs[i]);

	if (bench_wl_defs[i].rate != 0) {
		return (uint64_t) (mine < (double) left ? mine : (double) left);
	}
	for (size_t j = i; j < BENCH_WL_COUNT; j++) {
		if (!bench_wl_selected(c->list, bench_wl_defs[j].slug)) {
			continue;
		}
		if (bench_wl_defs[j].rate != 0) {
			reserved += bench_pool_need(c, &bench_wl_defs[j]);
		} else {
			closed += bench_pool_need(c, &bench_wl_defs[j]);
		}
	}
	if (closed <= 0 || (double) left <= reserved) {
		return 0;
	}
	return (uint64_t) (((double) left - reserved) * mine / closed);
}

typedef struct bench_wl_env {
	const bench_wl_cfg *c;
	bench_work *wk;
	bench_echo_peer echo;     /* the echo process */
	bench_echo_conc econ;     /* its concurrent client */
	bool echo_up;
	pid_t bridge_pid;
	unsigned need_done;
} bench_wl_env;

static int
bench_wl_prepare(bench_wl_env *e, const bench_wl_def *d, const bench_server *srv, pid_t srv_pid,
    const uint8_t *msg, size_t len)
{
	bench_work *wk = e->wk;
	unsigned want = d->need & ~e->need_done;

	if ((want & BENCH_NEED_TARGETS) || (want & BENCH_NEED_DUPS)) {
		if (!(e->need_done & BENCH_NEED_TARGETS)) {
			bench_result scratch;
			bench_load l = { .label = "preparing unpaid sessions", .op = bench_op_create_target,
				.ctx = wk, .workers = e->c->inflight, .seconds = 3600, .max_ops = wk->ntargets,
				.srv_pid = srv_pid };
			fprintf(stderr, "bench: %-34s %zu\n", "preparing unpaid sessions", wk->ntargets);
			bench_result_init(&scratch, "prep", "prep", "op");
			/* warm-up calls of the runner create targets too: all of them are made */
			(void) bench_load_run(&l, &scratch); /* may measure nothing: it is fast */
			if (atomic_load(&wk->created) < wk->ntargets) {
				fprintf(stderr, "bench: only %llu of %zu unpaid sessions were created\n",
				    (unsigned long long) atomic_load(&wk->created), wk->ntargets);
				return -1;
			}
			e->need_done |= BENCH_NEED_TARGETS;
		}
	}
	if (want & BENCH_NEED_DUPS) {
		if (bench_work_dups_prep(wk) != 0) {
			return -1;
		}
		e->need_done |= BENCH_NEED_DUPS;
	}
	if (want & BENCH_NEED_CREDITS) {
		if (bench_work_credits_prep(wk) != 0) {
			return -1;
		}
		e->need_done |= BENCH_NEED_CREDITS;
	}
	if (want & BENCH_NEED_HTTP) {
		if (bench_bridge_start(e->c, srv->tcp_url, &e->bridge_pid, &wk->http_port) != 0) {
			return -1;
		}
		e->need_done |= BENCH_NEED_HTTP;
	}
	if (want & BENCH_NEED_ECHO) {
		if (bench_echo_open(&e->echo, "tcp://127.0.0.1:0", msg, len) != 0) {
			return -1;
		}
		e->echo_up = true;
		e->econ.req = e->echo.req;
		e->econ.msg = msg;
		e->econ.len = len;
		e->need_done |= BENCH_NEED_ECHO;
	}
	return 0;
}

static void
bench_wl_env_close(bench_wl_env *e, int *rv)
{
	if (e->echo_up) {
		bench_echo_conc_close(&e->econ);
		e->echo.sent += atomic_load(&e->econ.sent);
		if (bench_echo_close(&e->echo) != 0) {
			*rv = -1;
		}
	}
	bench_work_http_close(e->wk);
	if (e->bridge_pid > 0 && bench_proc_stop(&e->bridge_pid, 20000) != 0) {
		fprintf(stderr, "bench: the bridge did not exit cleanly\n");
		*rv = -1;
	}
	for (unsigned i = 0; i < BENCH_WORKERS_MAX; i++) {
		free(e->wk->pages[i]);
		e->wk->pages[i] = NULL;
	}
}

int
bench_workloads_run(const bench_wl_cfg *c, bench_wl_io *io, bench_report *r)
{
	bench_work *wk = calloc(1, sizeof(*wk));
	bench_wl_env e = { .c = c, .wk = wk };
	uint8_t rnd[8];
	int rv = 0;

	if (wk == NULL) {
		return -1;
	}
	atomic_init(&e.econ.sent, 0);
	wk->c = io->client;
	wk->api_key = io->api_key;
	wk->stripe_secret = io->server->stripe_secret;
	wk->ids = io->ids;
	wk->nids = io->nids;
	atomic_init(&wk->target_next, 0);
	atomic_init(&wk->created, 0);
	atomic_init(&wk->customers, 0);
	atomic_init(&wk->paid, 0);
	atomic_init(&wk->listed, 0);
	atomic_init(&wk->listed_pages, 0);
	pw_random(rnd, sizeof(rnd));
	pw_hex(wk->tag, sizeof(wk->tag), rnd, sizeof(rnd));
	wk->ntargets = c->pool > 0 ? c->pool : bench_pool_size(c);
	wk->targets = calloc(wk->ntargets, sizeof(*wk->targets));
	if (wk->targets == NULL) {
		free(wk);
		return -1;
	}
	for (size_t i = 0; i < BENCH_WL_COUNT && rv == 0 && r->nwl < BENCH_WL_MAX; i++) {
		const bench_wl_def *d = &bench_wl_defs[i];
		bench_result *row = &r->wl[r->nwl];
		bench_load l = { .label = d->slug, .op = d->op, .ctx = wk, .seconds = c->seconds,
			.srv_pid = io->server->pid };
		uint64_t txn0;
		uint64_t created0;
		uint64_t paid0;
		uint64_t commits;

		if (!bench_wl_selected(c->list, d->slug)) {
			continue;
		}
		if (bench_wl_prepare(&e, d, io->server, io->server->pid, io->msg, io->msg_len) != 0) {
			rv = -1;
			break;
		}
		l.workers = d->workers > 0 ? d->workers : c->inflight;
		l.rate = d->rate == 1 ? c->rate : (d->rate == 2 ? c->http_rate : 0);
		if (d->need & BENCH_NEED_HTTP) {
			l.aux_pid = e.bridge_pid; /* its CPU per webhook too */
		}
		if (d->need & BENCH_NEED_ECHO) {
			l.ctx = &e.econ;
			l.srv_pid = e.echo.pid;
		}
		if (d->need & BENCH_NEED_TARGETS) {
			uint64_t budget = bench_pool_budget(c, i, wk->ntargets - atomic_load(&wk->target_next));
			if (budget == 0) {
				fprintf(stderr, "bench: %s: the pool of unpaid sessions is used up (--pool)\n",
				    d->slug);
				rv = -1;
				break;
			}
			/* the mix pays every other call */
			l.max_ops = d->op == bench_op_mix ? budget * 2u : budget;
		}
		bench_result_init(row, d->label, d->slug, "op");
		fprintf(stderr, "bench: %s\n", d->label);
		txn0 = store_last_txnid(io->ro);
		created0 = atomic_load(&wk->created);
		paid0 = atomic_load(&wk->paid);
		rv = bench_load_run(&l, row);
		commits = store_last_txnid(io->ro) - txn0;
		if (d->durable || commits > 0) {
			uint64_t writes = atomic_load(&wk->created) - created0 + atomic_load(&wk->paid) - paid0;
			if (d->op == bench_op_credits_deduct || d->op == bench_op_ingest_dup) {
				writes = (uint64_t) row->ops; /* warm-up excluded; close enough to note */
			}
			snprintf(row->note, sizeof(row->note), "%llu commits for %llu calls",
			    (unsigned long long) commits, (unsigned long long) writes);
		}
		if (d->op == bench_op_events_list && atomic_load(&wk->listed_pages) > 0) {
			/* warm-up included: how full the pages were, not a count of the row */
			snprintf(row->note, sizeof(row->note), "%.1f events per page (limit 10)",
			    (double) atomic_load(&wk->listed) / (double) atomic_load(&wk->listed_pages));
		}
		row->commits = commits;
		if (rv == 0) {
			r->nwl++;
		}
	}
	bench_wl_env_close(&e, &rv);
	r->wl_sessions = atomic_load(&wk->created);
	free(wk->targets);
	sodium_memzero(wk->dups, sizeof(wk->dups));
	free(wk);
	return rv;
}
