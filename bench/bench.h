/*
 * bench.h - paywire-bench, the latency and throughput harness (not a test).
 *
 * The bench owns one temporary directory (mkdtemp) for the whole run: the
 * data directory of a real paywire-server child process, the ipc:// socket
 * of an nng echo child process and the environments of the raw LMDB floors.
 * It times every operation with clock_gettime(CLOCK_MONOTONIC) and reports
 * count, p50, p99, p99.9 and max (microseconds), ops/s and CPU per op, next
 * to floors measured in the same run on the same machine:
 *   - an nng REQ/REP echo of the exact get_status request bytes (ipc:// and
 *     tcp://), served by a process of its own as the server is: the
 *     transport's own round trip;
 *   - raw LMDB commits: one put per transaction (the cost of one durable
 *     write), and --threads puts per transaction (what group commit can reach).
 * A floor and what it is the floor of run in alternating blocks
 * (bench_interleave_run), so both see the same machine state.
 *
 * PROCESSES AND THREADS. main runs every phase in turn and owns both
 * children (the server, the echo process): it starts them, stops them with
 * SIGTERM by pid and reaps them; they get SIGTERM if the bench dies
 * (PR_SET_PDEATHSIG). Each block of the concurrent create phase adds
 * --threads client threads (bench_create_concurrent_block starts and joins
 * them), which share only a pw_client (thread-safe) and an atomic stop flag.
 *
 * LIMITS. --n is BENCH_N_MIN..BENCH_N_MAX, --threads 1..BENCH_THREADS_MAX;
 * every loop runs a fixed number of operations; every wait (server start and
 * stop, echo start and stop, each RPC, each nng send and receive) has a
 * timeout. A failed operation stops the run, and a run that failed prints no
 * report (its numbers would mean nothing).
 *
 * SECRETS. The admin key, the token secret and the merchant's API key live
 * only in this process and the server's environment; they are never printed
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

#include <nng/nng.h>
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

/* Takes a mark; srv_pid is the process serving the row (paywire-server or
 * the echo process), whose CPU is read from /proc; 0: none. */
void
bench_mark_take(bench_mark *m, pid_t srv_pid);

/* One row of the report. */
typedef struct bench_result {
	char name[BENCH_NAME_BYTES]; /* human label, e.g. "get_status tcp" */
	char key[BENCH_NAME_BYTES];  /* JSON key, e.g. "get_status_tcp" */
	const char *unit;            /* what one latency sample is: "op" or "txn" */
	size_t count;                /* samples (measured operations, warm-up excluded) */
	size_t ops;                  /* operations in the wall time (count, or count*puts) */
	double p50_us;               /* nearest-rank percentiles, microseconds */
	double p99_us;
	double p999_us;
	double max_us;
	double wall_s;               /* wall time of the measured loop */
	double ops_per_s;            /* ops / wall_s */
	double self_cpu_us_per_op;   /* this process's CPU per op (the client; LMDB: all of it) */
	double srv_cpu_us_per_op;    /* the serving process's CPU per op; < 0: none or not
	                                measurable (phase under BENCH_SRV_CPU_WALL_S_MIN) */
	bool done;                   /* measured (false: skipped or failed) */
} bench_result;

/* Wall and CPU time spent, summed over the measured blocks of one row. */
typedef struct bench_spent {
	uint64_t wall_ns;      /* sum of the blocks' wall times */
	uint64_t self_cpu_ns;  /* this process's CPU over those blocks */
	uint64_t srv_cpu_ns;   /* the server's CPU over those blocks */
	bool srv_cpu_ok;       /* a serving process's CPU was readable at every mark */
} bench_spent;

/* Adds the interval begin..end to acc (acc zeroed with srv_cpu_ok true
 * before the first call). */
void
bench_spent_add(bench_spent *acc, const bench_mark *begin, const bench_mark *end);

/* Fills r from count latency samples ns[] (sorted in place) and ops
 * operations done in `spent`. count > 0, ops >= count, spent->wall_ns > 0.
 * Keeps r's label, key and unit. */
void
bench_result_compute(bench_result *r, uint64_t *ns, size_t count, size_t ops,
    const bench_spent *spent);

/* Sets r's label, JSON key and unit; clears the numbers. */
void
bench_result_init(bench_result *r, const char *name, const char *key, const char *unit);

/* A measured loop: n samples, the latency of each (ns) into ns[0..n).
 * Stops at bench_interrupted. 0, or -1 after a message on stderr. */
typedef int (*bench_block_fn)(void *arg, uint64_t *ns, size_t n);

/* One side of an interleaved measurement. */
typedef struct bench_side {
	bench_block_fn block;    /* runs samples */
	void *arg;               /* its state */
	size_t n;                /* measured samples */
	size_t warmup;           /* unmeasured samples first */
	size_t ops_per_sample;   /* 1, or puts per LMDB transaction */
	pid_t srv_pid;           /* process serving it (its CPU is reported); 0: none */
	bench_result *out;       /* the row filled */
} bench_side;

#define BENCH_BLOCKS_MAX 64  /* blocks per side */

/* Runs a's and b's warm-ups, then `blocks` blocks of each, alternating
 * (a, b, a, b, ...), so a floor and what it is the floor of see the same
 * machine state (other load, disk, CPU frequency). b may be NULL (a alone).
 * blocks: 1..BENCH_BLOCKS_MAX. Fills a->out and b->out. 0 or -1. */
int
bench_interleave_run(const bench_side *a, const bench_side *b, size_t blocks);

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

/* Forks and execs bin with argv and envp; the child's stdout is out_fd, its
 * stderr err_fd, its stdin /dev/null; it gets SIGTERM when the bench dies.
 * 0 with *pid set, or -1 (message on stderr). */
int
bench_proc_spawn(const char *bin, char *const *argv, char *const *envp, int out_fd,
    int err_fd, pid_t *pid);

/* Sends SIGTERM to *pid and waits at most wait_ms (then SIGKILL). Returns
 * the exit code, or -1 if it was killed or died by a signal; *pid = 0. */
int
bench_proc_stop(pid_t *pid, int wait_ms);

/* Sleeps ms milliseconds (restarts after signals). */
void
bench_sleep_ms(long ms);

/* ---- floors (bench_floor.c) ---- */

/* nng REQ/REP echo: this program re-executed as `--echo-server url` (a
 * process of its own, as paywire-server is) sends back every message; the
 * REQ side here sends msg (len bytes, kept by the caller) per sample. */
typedef struct bench_echo_peer {
	pid_t pid;           /* the echo process, 0 when stopped */
	int out_fd;          /* its stdout (dial URL, then the echo count) */
	nng_socket req;      /* REQ socket dialed to it */
	bool req_open;       /* req is open */
	const void *msg;     /* message sent per sample */
	size_t len;          /* its size */
	long sent;           /* round trips done */
} bench_echo_peer;

/* Starts the echo process on url (tcp://127.0.0.1:0: a port of its choice)
 * and dials it. 0, or -1 with nothing left running. */
int
bench_echo_open(bench_echo_peer *p, const char *url, const void *msg, size_t len);

/* bench_block_fn: one echo round trip per sample. */
int
bench_echo_block(void *peer, uint64_t *ns, size_t n);

/* Stops the echo process; -1 if it failed or echoed fewer than p->sent. */
int
bench_echo_close(bench_echo_peer *p);

/* The child's main for `--echo-server url`: serves until SIGTERM/SIGINT.
 * Prints the URL to dial as its first stdout line once listening, and
 * "echoed N" at the end. Returns the exit code (0, or 1: cannot listen). */
int
bench_echo_serve(const char *url);

/* Raw LMDB: an environment of its own in dir; one sample = one transaction
 * of puts_per_txn puts (47-byte time-ordered key, BENCH_VALUE_BYTES value)
 * and its commit. sync: "full" (default flags), "meta" (MDB_NOMETASYNC),
 * "none" (MDB_NOSYNC). */
typedef struct bench_lmdb_floor {
	struct MDB_env *env;             /* the environment */
	unsigned dbi;                    /* its one named db, "sessions" */
	size_t puts_per_txn;             /* puts per sample */
	size_t txns;                     /* transactions committed */
	uint8_t value[BENCH_VALUE_BYTES]; /* random, incompressible */
} bench_lmdb_floor;

/* Creates dir (0700) and the environment. 0 or -1. */
int
bench_lmdb_open(bench_lmdb_floor *f, const char *dir, const char *sync, size_t puts_per_txn);

/* bench_block_fn: one transaction per sample. */
int
bench_lmdb_block(void *floor, uint64_t *ns, size_t n);

/* Checks every put landed, closes. 0 or -1. */
int
bench_lmdb_close(bench_lmdb_floor *f);

/* ---- paywire over libpaywire (bench_rpc.c) ---- */

/* Opens a client to url with BENCH_RPC_TIMEOUT_MS and no retries. */
int
bench_client_open(pw_client **out, const char *url);

/* Creates n sessions (sequentially) and copies their ids into ids[n][64]. */
int
bench_sessions_seed(pw_client *c, const char *api_key, char (*ids)[64], size_t n);

/* get_status on one thread, cycling through ids. */
typedef struct bench_status_src {
	pw_client *c;          /* client */
	char (*ids)[64];       /* sessions to ask about */
	size_t nids;           /* how many */
	size_t next;           /* next index into ids */
} bench_status_src;

/* bench_block_fn: one get_status per sample. */
int
bench_status_block(void *src, uint64_t *ns, size_t n);

/* create_session on one thread: each call is one durable write. */
typedef struct bench_create_src {
	pw_client *c;          /* client */
	const char *api_key;   /* merchant key */
	size_t created;        /* sessions acknowledged (warm-up included) */
} bench_create_src;

/* bench_block_fn: one create_session per sample. */
int
bench_create_block(void *src, uint64_t *ns, size_t n);

/* create_session from `threads` threads sharing one client. */
typedef struct bench_conc_src {
	pw_client *c;          /* shared client (thread-safe: a context per call) */
	const char *api_key;   /* merchant key */
	unsigned threads;      /* 1..BENCH_THREADS_MAX */
	size_t created;        /* sessions acknowledged (warm-up included) */
} bench_conc_src;

/* bench_block_fn: starts `threads` workers, n calls split evenly among them,
 * released together once all have started; joins them. One sample = one
 * call's latency under that concurrency. */
int
bench_create_concurrent_block(void *src, uint64_t *ns, size_t n);

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
