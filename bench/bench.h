/*
 * bench.h - paywire-bench, the latency and throughput harness (not a test).
 *
 * The bench owns one temporary directory (mkdtemp) for the whole run: the
 * data directory of a real paywire-server child process, the socket of an
 * in-process nng echo server and the environments of the raw LMDB floors.
 * It measures every operation with clock_gettime(CLOCK_MONOTONIC) and
 * reports count, p50, p99, p99.9 and max (microseconds) and ops/s, next to
 * floors measured in the same run on the same machine:
 *   - an nng REQ/REP echo of a get_status-sized message (ipc:// and tcp://),
 *     the transport's own round trip;
 *   - raw LMDB commits: one put per transaction (the cost of one durable
 *     write), and --threads puts per transaction (what group commit can reach).
 *
 * THREADS. main runs every phase in turn. The echo floor adds one REP thread
 * (bench_echo_run starts and joins it); the concurrent create phase adds
 * --threads client threads (bench_create_concurrent_run starts and joins
 * them). Nothing here is called from two threads at once, except the worker
 * bodies, which share only a pw_client (thread-safe) and an atomic stop flag.
 *
 * LIMITS. --n is 100..BENCH_N_MAX, --threads 1..BENCH_THREADS_MAX; every loop
 * runs a fixed number of operations; every wait (server start, server stop,
 * each RPC, each nng receive) has a timeout. A failed operation stops the
 * phase and the run (the numbers of a run with errors mean nothing).
 *
 * SECRETS. The admin key, the token secret and the merchant's API key live
 * only in this process and the child's environment; they are never printed
 * and are wiped before exit.
 */
#ifndef BENCH_H
#define BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <paywire/client.h>

#define BENCH_N_MAX 1000000u          /* reads per transport; bounds memory (8 B per op) */
#define BENCH_N_MIN 100u              /* below this, p99.9 is meaningless */
#define BENCH_THREADS_MAX 256u        /* = PW_STORE_BATCH_MAX: one batch can hold them all */
#define BENCH_THREADS_DEFAULT 32u
#define BENCH_N_DEFAULT 20000u
#define BENCH_PATH_BYTES 512          /* every path and URL the bench builds */
#define BENCH_NAME_BYTES 64           /* row labels */
#define BENCH_SECRET_HEX_BYTES 65     /* 32 random bytes as hex + NUL */
#define BENCH_RPC_TIMEOUT_MS 10000u   /* per call; no retries: a miss is an error */
#define BENCH_VALUE_BYTES 512u        /* raw LMDB floor value size (see docs/BENCH.md) */

/* Set by SIGINT/SIGTERM: every loop checks it and stops the run cleanly. */
extern volatile sig_atomic_t bench_interrupted;

/* Monotonic time in nanoseconds (CLOCK_MONOTONIC). */
uint64_t
bench_now_ns(void);

/* A point in time and the CPU spent so far, taken at both ends of a
 * measured loop. */
typedef struct bench_mark {
	uint64_t wall_ns;      /* CLOCK_MONOTONIC */
	uint64_t self_cpu_ns;  /* CLOCK_PROCESS_CPUTIME_ID: this process, every thread */
	uint64_t srv_cpu_ns;   /* utime + stime of the tracked server (/proc, clock ticks) */
} bench_mark;

/* The process whose CPU bench_mark_take reads (the server child); 0: none.
 * Main thread only, between phases. */
void
bench_server_track(pid_t pid);

void
bench_mark_take(bench_mark *m);

/* One row of the report. */
typedef struct bench_result {
	char name[BENCH_NAME_BYTES]; /* human label, e.g. "get_status tcp" */
	char key[BENCH_NAME_BYTES];  /* JSON key, e.g. "get_status_tcp" */
	const char *unit;            /* what one latency sample is: "op" or "txn" */
	bool on_server;              /* served by paywire-server (its CPU is counted) */
	size_t count;                /* samples (measured operations, warm-up excluded) */
	size_t ops;                  /* operations in the wall time (count, or count*puts) */
	double p50_us;               /* nearest-rank percentiles, microseconds */
	double p99_us;
	double p999_us;
	double max_us;
	double wall_s;               /* wall time of the measured loop */
	double ops_per_s;            /* ops / wall_s */
	double self_cpu_us_per_op;   /* this process's CPU (client; floors: all of it) per op */
	double srv_cpu_us_per_op;    /* the server's CPU per op; < 0 when not on_server */
	bool done;                   /* measured (false: skipped or failed) */
} bench_result;

/* Fills r from count latency samples ns[] (sorted in place) and ops
 * operations done between the marks begin and end. count > 0, ops >= count,
 * end after begin. Keeps r's label, key, unit and on_server. */
void
bench_result_compute(bench_result *r, uint64_t *ns, size_t count, size_t ops,
    const bench_mark *begin, const bench_mark *end);

/* Sets r's label, JSON key, unit and on_server; clears the numbers. */
void
bench_result_init(bench_result *r, const char *name, const char *key, const char *unit,
    bool on_server);

/* ---- the paywire-server child ---- */

typedef struct bench_server {
	pid_t pid;                                   /* child, 0 when not running */
	char data_dir[BENCH_PATH_BYTES];             /* <root>/data */
	char log_path[BENCH_PATH_BYTES];             /* <root>/server.log (stdout+stderr) */
	char ipc_url[BENCH_PATH_BYTES];              /* ipc://<root>/data/paywire.sock */
	char tcp_url[BENCH_NAME_BYTES];              /* tcp://127.0.0.1:<free port> */
	char admin_key[BENCH_SECRET_HEX_BYTES];      /* PAYWIRE_ADMIN_KEY of the child */
	char token_secret[BENCH_SECRET_HEX_BYTES];   /* PAYWIRE_TOKEN_SECRET of the child */
} bench_server;

/* Starts bin as a child on ipc:// and a free tcp://127.0.0.1 port, with
 * --data <root>/data, --sync sync, --contexts contexts, --map-size
 * map_size_bytes and fresh random secrets in its environment (the parent's
 * PAYWIRE_* variables are not passed on), then waits (at most 15 s) until it
 * answers get_status on both URLs. The child gets SIGTERM if the bench dies.
 * Returns 0 with s filled, or -1 after a message on stderr (any child
 * started is killed and reaped). */
int
bench_server_start(bench_server *s, const char *bin, const char *root, const char *sync,
    unsigned contexts, uint64_t map_size_bytes);

/* Sends SIGTERM to the child and waits (at most 20 s, then SIGKILL) for it.
 * Returns the child's exit code (0 for a clean stop), or -1 if it had to be
 * killed or died by a signal. Wipes the secrets in s. No-op (0) if not
 * running. */
int
bench_server_stop(bench_server *s);

/* Prints the last lines of the child's log on stderr (after a failure). */
void
bench_server_log_dump(const bench_server *s);

/* ---- floors (bench_floor.c) ---- */

/* nng REQ/REP echo: an in-process REP thread on url echoes every message; the
 * REQ side sends msg (len bytes) n times after warmup unmeasured round trips.
 * A tcp://127.0.0.1:0 url is resolved to the port bound. 0 or -1. */
int
bench_echo_run(const char *url, const void *msg, size_t len, size_t n, size_t warmup,
    bench_result *out);

/* Raw LMDB: in a new environment in dir (created), txns transactions of
 * puts_per_txn puts each (47-byte time-ordered key, BENCH_VALUE_BYTES value)
 * plus commit, after warmup unmeasured ones. sync: "full" (default flags),
 * "meta" (MDB_NOMETASYNC) or "none" (MDB_NOSYNC). One sample per txn; ops
 * counts puts. 0 or -1. */
int
bench_lmdb_run(const char *dir, const char *sync, size_t txns, size_t puts_per_txn,
    size_t warmup, bench_result *out);

/* ---- paywire over libpaywire (bench_rpc.c) ---- */

/* Opens a client to url with BENCH_RPC_TIMEOUT_MS and no retries. */
int
bench_client_open(pw_client **out, const char *url);

/* Creates n sessions (sequentially) and copies their ids into ids[n][64]. */
int
bench_sessions_seed(pw_client *c, const char *api_key, char (*ids)[64], size_t n);

/* get_status, sequential on one thread, cycling through ids. */
int
bench_status_run(pw_client *c, char (*ids)[64], size_t nids, size_t n, size_t warmup,
    bench_result *out);

/* create_session, sequential on one thread: each call is one durable write. */
int
bench_create_seq_run(pw_client *c, const char *api_key, size_t n, size_t warmup,
    bench_result *out);

/* create_session from `threads` threads sharing c, n calls in all (split
 * evenly), after a warm-up of warmup calls per thread. ops/s over the wall
 * time from the common start to the last thread's end. */
int
bench_create_concurrent_run(pw_client *c, const char *api_key, size_t n, unsigned threads,
    size_t warmup, bench_result *out);

/* The exact bytes libpaywire sends for get_status(session_id) (request_id
 * "req_" + 32 hex digits, deadline BENCH_RPC_TIMEOUT_MS), packed into
 * buf[size]. Returns the length, 0 if it does not fit. */
size_t
bench_status_request_pack(const char *session_id, uint8_t *buf, size_t size);

/* ---- report (bench_report.c) ---- */

typedef struct bench_commit {
	uint64_t writes;   /* acknowledged create_session calls in the phase */
	uint64_t commits;  /* LMDB write transactions the server committed meanwhile */
} bench_commit;

typedef struct bench_report {
	const char *server_bin;      /* path of the server binary */
	const char *sync;            /* full | meta | none */
	unsigned threads;            /* --threads */
	size_t n;                    /* --n */
	long cores;                  /* online CPUs */
	char cpu[128];               /* /proc/cpuinfo "model name", or "" */
	char date[32];               /* UTC, ISO 8601, start of the run */
	size_t status_msg_bytes;     /* size of a get_status request (the echo size) */
	bench_result echo_ipc;       /* floor: nng echo ipc:// */
	bench_result echo_tcp;       /* floor: nng echo tcp:// */
	bench_result status_ipc;     /* get_status ipc:// */
	bench_result status_tcp;     /* get_status tcp:// */
	bench_result lmdb_one;       /* floor: 1 put per txn */
	bench_result create_seq;     /* create_session, sequential, tcp:// */
	bench_result lmdb_batch;     /* floor: threads puts per txn */
	bench_result create_conc;    /* create_session, threads concurrent, tcp:// */
	bench_commit commit_seq;     /* group commit during create_seq */
	bench_commit commit_conc;    /* group commit during create_conc */
	uint64_t sessions_expected;  /* sessions acknowledged over the whole run */
	uint64_t sessions_on_disk;   /* sessions in the server's store at the end */
	int server_exit;             /* exit code of the server after SIGTERM */
} bench_report;

/* Prints the table on f. */
void
bench_report_print(const bench_report *r, FILE *f);

/* Prints one JSON object (one line) on f. 0 or -1 (out of memory). */
int
bench_report_json(const bench_report *r, FILE *f);

#endif
