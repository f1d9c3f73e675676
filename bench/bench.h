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
#include <stdatomic.h>
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

typedef struct bench_report bench_report;
typedef struct bench_peer_report bench_peer_report;

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
	uint64_t aux_cpu_ns;   /* ... of a second process on the path (the bridge); 0: none */
} bench_mark;

/* Takes a mark; srv_pid is the process serving the row (paywire-server or
 * the echo process), whose CPU is read from /proc; 0: none. */
void
bench_mark_take(bench_mark *m, pid_t srv_pid);

/* bench_mark_take, and the CPU of aux_pid too (a second process the calls
 * go through: paywire-bridge); 0: none. */
void
bench_mark_take_aux(bench_mark *m, pid_t srv_pid, pid_t aux_pid);

/* One row of the report. */
typedef struct bench_result {
	char name[BENCH_NAME_BYTES]; /* human label, e.g. "get_status tcp" */
	char slug[BENCH_NAME_BYTES];  /* JSON key, e.g. "get_status_tcp" */
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
	double aux_cpu_us_per_op;    /* the bridge's CPU per op (rows through paywire-bridge);
	                                < 0: none or not measurable, as srv_cpu_us_per_op */
	bool done;                   /* measured (false: skipped or failed) */
	double target_rate;          /* open loop: calls due per second; 0: closed loop */
	unsigned workers;            /* workload rows: threads (= calls in flight, closed loop) */
	char note[96];               /* workload rows: what was checked, e.g. "0 commits" */
	uint64_t commits;            /* workload rows: the server's LMDB commits meanwhile */
} bench_result;

/* Wall and CPU time spent, summed over the measured blocks of one row. */
typedef struct bench_spent {
	uint64_t wall_ns;      /* sum of the blocks' wall times */
	uint64_t self_cpu_ns;  /* this process's CPU over those blocks */
	uint64_t srv_cpu_ns;   /* the server's CPU over those blocks */
	bool srv_cpu_ok;       /* a serving process's CPU was readable at every mark */
	uint64_t aux_cpu_ns;   /* the second process's (the bridge's) CPU over those blocks */
	bool aux_cpu_ok;       /* it was tracked and readable at every mark (start true
	                          to track it) */
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

/* ---- the log-linear histogram (bench_hist.c) ---- */

#define BENCH_HIST_SUB_BITS 8u     /* exact below 256 ns; buckets <= 1/128 of their value */
#define BENCH_HIST_BUCKETS 7424u   /* 256 + 56 powers of two x 128: all of uint64_t */

/* Fixed memory (59 KiB), one per worker thread, merged after the run. */
typedef struct bench_hist {
	uint64_t counts[BENCH_HIST_BUCKETS];
	uint64_t total;    /* samples */
	uint64_t min_ns;   /* exact */
	uint64_t max_ns;   /* exact */
	uint64_t sum_ns;
} bench_hist;

void
bench_hist_reset(bench_hist *h);

void
bench_hist_record(bench_hist *h, uint64_t ns);

/* into += from (bucket by bucket). */
void
bench_hist_merge(bench_hist *into, const bench_hist *from);

/* Nearest rank p (0..1): the midpoint of the bucket holding it, clamped to
 * the exact min..max. 0 for an empty histogram. */
uint64_t
bench_hist_quantile(const bench_hist *h, double p);

/* Every bucket's bounds map back to it and the buckets tile uint64_t. 0 or -1. */
int
bench_hist_self_check(void);

/* Fills r from a histogram of count samples and ops operations done in
 * `spent` (as bench_result_compute). */
void
bench_result_from_hist(bench_result *r, const bench_hist *h, size_t ops, const bench_spent *spent);

/* ---- the workload runner (bench_load.c) ---- */

#define BENCH_WORKERS_MAX 256u

/* One call of a workload: worker 0..workers-1, seq its sequence number in
 * the run (0, 1, ...: unique). 0, or -1 after a message on stderr (stops the
 * run). Called from `workers` threads at once. */
typedef int (*bench_op_fn)(void *ctx, unsigned worker, uint64_t seq);

typedef struct bench_load {
	const char *label;     /* progress bar */
	bench_op_fn op;
	void *ctx;
	unsigned workers;      /* 1..BENCH_WORKERS_MAX threads */
	double seconds;        /* measured time (plus a warm-up of 1/10 of it, <= 0.5 s) */
	uint64_t max_ops;      /* call budget, warm-up included (0: none): seq < max_ops */
	double rate;           /* 0: closed loop; > 0: open loop, calls due per second */
	pid_t srv_pid;         /* whose CPU is reported; 0: none */
	pid_t aux_pid;         /* a second process on the path (the bridge), whose CPU is
	                          reported too; 0: none */
} bench_load;

/* Runs l; fills out (label, key and unit set by the caller). 0 or -1. */
int
bench_load_run(const bench_load *l, bench_result *out);

/* Sets r's label, JSON key and unit; clears the numbers. */
void
bench_result_init(bench_result *r, const char *name, const char *slug, const char *unit);

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

/* The same with a third side c (may be NULL): a, b, c, a, b, c, ... */
int
bench_interleave_run3(const bench_side *a, const bench_side *b, const bench_side *c,
    size_t blocks);

/* ---- the paywire-server child ---- */

typedef struct bench_server {
	pid_t pid;                                   /* child, 0 when not running */
	char data_dir[BENCH_PATH_BYTES];             /* <root>/data */
	char log_path[BENCH_PATH_BYTES];             /* <root>/server.log (stdout+stderr) */
	char ipc_url[BENCH_PATH_BYTES];              /* ipc://<root>/data/paywire.sock */
	char tcp_url[BENCH_NAME_BYTES];              /* tcp://127.0.0.1:<free port> */
	char admin_key[BENCH_SECRET_HEX_BYTES];      /* PAYWIRE_ADMIN_KEY of the child */
	char token_secret[BENCH_SECRET_HEX_BYTES];   /* PAYWIRE_TOKEN_SECRET of the child */
	char stripe_secret[BENCH_SECRET_HEX_BYTES + 8]; /* PAYWIRE_STRIPE_WEBHOOK_SECRET: whsec_... */
} bench_server;

/* Servers started after this run with the per-merchant rate limits on, at
 * rates no workload reaches (on), or without them (off, the default). */
void bench_server_limits(bool on);

/* Fills s's paths (under root) and fresh random secrets; starts nothing.
 * 0, or -1 (root too long). */
int
bench_server_prepare(bench_server *s, const char *root);

/* Starts the server prepared by bench_server_prepare (as bench_server_start). */
int
bench_server_launch(bench_server *s, const char *bin, const char *sync, unsigned contexts,
    uint64_t map_size_bytes);

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
#define BENCH_SHAPE_TABLES 6         /* the tables a create appends to (bench_lmdb_open_shape) */
#define BENCH_SHAPE_VALUE_BYTES 1024u /* its largest value, and more */

typedef struct bench_lmdb_floor {
	struct MDB_env *env;             /* the environment */
	unsigned dbi;                    /* its one named db, "sessions" */
	unsigned shape_dbi[BENCH_SHAPE_TABLES + 1]; /* shape: the create's tables, then meta */
	bool shape;                      /* one sample = a create's writes (below) */
	size_t puts_per_txn;             /* puts per sample */
	size_t txns;                     /* transactions committed */
	uint8_t value[BENCH_VALUE_BYTES]; /* random, incompressible */
	uint8_t shape_value[BENCH_SHAPE_VALUE_BYTES]; /* shape: the same, for its records */
} bench_lmdb_floor;

/* Creates dir (0700) and the environment. 0 or -1. */
int
bench_lmdb_open(bench_lmdb_floor *f, const char *dir, const char *sync, size_t puts_per_txn);

/* The same, but one sample is one transaction of the records a durable
 * create_session writes, in as many tables and of about their sizes (from
 * mdb_stat of the server's environment, bench/RESULTS.md "Profile"): one
 * append in each of sessions (430-byte value), merchant_sessions (a 90-byte
 * key), expiry (a 56-byte key), audit (8-byte key, 210-byte value),
 * audit_merchant (a 60-byte key) and replies (790-byte value), and the two
 * overwrites of meta (the audit chain's head and sequence), then the commit.
 * Raw LMDB, keys in time order: what the disk charges for a create's writes
 * alone, with no paywire code, no nested transaction and no transport.
 * prefill: records written into each table first (in transactions of
 * BENCH_SHAPE_PREFILL_TXN, not measured), so that its trees are as deep as
 * the server's: the sessions the server holds, at most BENCH_SHAPE_PREFILL_MAX. */
#define BENCH_SHAPE_PREFILL_MAX 200000u
#define BENCH_SHAPE_PREFILL_TXN 10000u
int
bench_lmdb_open_shape(bench_lmdb_floor *f, const char *dir, const char *sync, size_t prefill);

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

/* ---- workloads (bench_work.c) ---- */

#define BENCH_SESSION_AMOUNT 4900     /* every bench session: 49.00 EUR */
#define BENCH_DUPS 64u                /* events applied once, then re-delivered */
#define BENCH_PAGE_BYTES (1024u * 1024u) /* the largest listing page (sessions: ~480 KiB) */
#define BENCH_TAG_BYTES 17            /* 8 random bytes as hex + NUL */

/* What the workloads share: a client, the merchant, the sessions. */
typedef struct bench_work {
	pw_client *c;                 /* shared (thread-safe) */
	const char *api_key;          /* the merchant's key (secret) */
	const char *stripe_secret;    /* the server's Stripe webhook secret (secret) */
	char tag[BENCH_TAG_BYTES];    /* random, in every event id of this run */
	char (*ids)[64];              /* sessions the reads ask about */
	size_t nids;
	char (*targets)[64];          /* unpaid sessions the fresh webhooks pay, once each */
	size_t ntargets;
	atomic_size_t target_next;    /* targets used so far */
	char dups[BENCH_DUPS][768];   /* applied events, re-delivered as duplicates */
	size_t ndups;
	atomic_uint_fast64_t created; /* sessions acknowledged */
	atomic_uint_fast64_t customers; /* creates so far: each session's own customer */
	atomic_uint_fast64_t paid;    /* webhooks applied */
	atomic_uint_fast64_t listed;  /* events the list_events pages held */
	atomic_uint_fast64_t listed_pages; /* ... in this many pages */
	unsigned http_port;           /* paywire-bridge on 127.0.0.1 */
	int http_fd[BENCH_WORKERS_MAX]; /* each worker's connection; 0: none yet */
	void *pages[BENCH_WORKERS_MAX]; /* each worker's listing buffer */
} bench_work;

int bench_op_get_status(void *ctx, unsigned worker, uint64_t seq);
int bench_op_create(void *ctx, unsigned worker, uint64_t seq);
int bench_op_create_target(void *ctx, unsigned worker, uint64_t seq);
int bench_op_ingest_fresh(void *ctx, unsigned worker, uint64_t seq);
int bench_op_ingest_dup(void *ctx, unsigned worker, uint64_t seq);
int bench_op_mix(void *ctx, unsigned worker, uint64_t seq);
int bench_op_credits_deduct(void *ctx, unsigned worker, uint64_t seq);
int bench_op_credits_balance(void *ctx, unsigned worker, uint64_t seq);
int bench_op_sessions_list(void *ctx, unsigned worker, uint64_t seq);
int bench_op_events_list(void *ctx, unsigned worker, uint64_t seq);
int bench_op_entitlements(void *ctx, unsigned worker, uint64_t seq);
int bench_op_apikeys_list(void *ctx, unsigned worker, uint64_t seq);
int bench_op_http_webhook(void *ctx, unsigned worker, uint64_t seq);

/* Pays BENCH_DUPS targets and keeps their events for bench_op_ingest_dup. */
int bench_work_dups_prep(bench_work *wk);
/* A paid CREDITS session for the bench's customer (10^9 credits). */
int bench_work_credits_prep(bench_work *wk);
/* Closes the workers' HTTP connections. */
void bench_work_http_close(bench_work *wk);

/* Reads one line (without its newline) from fd within timeout_ms. 0 or -1. */
int
bench_line_read(int fd, char *buf, size_t size, int timeout_ms);

/* ---- --preload (bench_preload.c) ---- */

/* Writes n sessions (of a merchant of their own) into the store in dir,
 * before the server starts; keeps nsample of their ids, evenly spread, in
 * sample. *secs: how long it took. 0 or -1. */
int
bench_preload(const char *dir, const char *token_secret, uint64_t map_bytes, uint64_t n,
    char (*sample)[64], size_t nsample, double *secs);

/* ---- the workload section (bench_workloads.c) ---- */

#define BENCH_WL_MAX 32u

typedef struct bench_wl_cfg {
	const char *list;        /* --workloads: "all", "none" or names, comma-separated */
	double seconds;          /* --seconds per workload */
	double rate;             /* --rate: the open-loop mix, calls/s */
	double http_rate;        /* --http-rate: the open-loop HTTP webhooks, calls/s */
	double pool_rate;        /* closed-loop fresh webhooks/s the pool is sized for */
	size_t pool;             /* --pool: unpaid sessions (0: from the rates) */
	unsigned inflight;       /* --inflight: closed-loop calls in flight (64) */
	const char *bridge_bin;  /* paywire-bridge */
} bench_wl_cfg;

/* What the workload section uses of the run. */
typedef struct bench_wl_io {
	bench_server *server;
	pw_client *client;       /* tcp:// */
	const char *api_key;
	char (*ids)[64];         /* sessions the reads ask about */
	size_t nids;
	struct store *ro;        /* the server's store, read-only: commits */
	const uint8_t *msg;      /* the get_status request bytes (the echo's message) */
	size_t msg_len;
} bench_wl_io;

/* 0, or -1 (message on stderr) if list names an unknown workload. */
int
bench_wl_list_check(const char *list);

/* Runs the selected workloads into r->wl. 0 or -1. */
int
bench_workloads_run(const bench_wl_cfg *c, bench_wl_io *io, bench_report *r);

/* Workloads not measured, with why: { name, reason }. */
extern const char *const bench_wl_skipped[][2];
extern const size_t bench_wl_skipped_n;

/* "bench: <what> <n>" on stderr. */
void
bench_phase(const char *what, size_t n);

/* ---- peers (bench_peers.c) ---- */

typedef struct bench_peers_io {
	bench_server *server;
	pw_client *client;       /* tcp:// */
	const char *api_key;
	char (*ids)[64];         /* sessions get_status asks about */
	size_t nids;
	const char *grpc_peer;   /* paywire-grpc-peer, or NULL */
	const char *pgbench;     /* pgbench's database (conninfo), or NULL */
	size_t rounds;           /* alternated rounds */
	double seconds;          /* per side per round */
	unsigned inflight;       /* the high concurrency (64) */
} bench_peers_io;

/* Runs the comparisons asked for into out; *created += sessions created. */
int
bench_peers_run(const bench_peers_io *io, bench_peer_report *out, uint64_t *created);

/* ---- report (bench_report.c) ---- */

/* ---- peers (bench_peers.c) ---- */

#define BENCH_ROUNDS_MAX 16u

/* One peer against paywire, alternated round by round. */
typedef struct bench_peer_cmp {
	char label[BENCH_NAME_BYTES];
	char slug[BENCH_NAME_BYTES];
	size_t rounds;
	double paywire_ops[BENCH_ROUNDS_MAX];  /* paywire's rate in each round */
	double peer_ops[BENCH_ROUNDS_MAX];     /* the peer's */
	double paywire_p99_us[BENCH_ROUNDS_MAX];
	double peer_p99_us[BENCH_ROUNDS_MAX];
	double median_ratio;                   /* median of paywire/peer per round */
	double goal;                           /* the goal for it */
	bool done;
} bench_peer_cmp;

typedef struct bench_peer_report {
	bench_peer_cmp grpc8;       /* get_status x8 vs gRPC unary lookup x8 */
	bench_peer_cmp grpc64;      /* ... x64 */
	bench_peer_cmp pg;          /* create_session x64 vs pgbench INSERT -c 64 */
} bench_peer_report;

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
	bench_result lmdb_shape;     /* floor: a create's writes per txn */
	bench_result create_seq;     /* create_session, sequential, tcp:// */
	bench_result lmdb_batch;     /* floor: threads puts per txn */
	bench_result create_conc;    /* create_session, threads concurrent, tcp:// */
	bench_commit commit_seq;     /* group commit during create_seq */
	bench_commit commit_conc;    /* group commit during create_conc */
	uint64_t sessions_expected;  /* sessions acknowledged over the whole run */
	uint64_t sessions_on_disk;   /* sessions in the server's store at the end */
	int server_exit;             /* exit code of the server after SIGTERM */
	bench_result wl[BENCH_WL_MAX]; /* the workload section, in run order */
	size_t nwl;
	uint64_t wl_sessions;        /* sessions the workload section created */
	uint64_t preload;            /* --preload */
	double preload_s;            /* its time */
	double seconds;              /* --seconds */
	long srv_rss_anon_kib;       /* the server's RssAnon at the end (not the map) */
	long srv_rss_file_kib;       /* ... RssFile: mostly the map's pages in memory */
	bench_peer_report peers;     /* --grpc-peer, --pgbench */
} bench_report;

/* Prints the table on f. */
void
bench_report_print(const bench_report *r, FILE *f);

/* Prints one JSON object (one line) on f. 0 or -1 (out of memory). */
int
bench_report_json(const bench_report *r, FILE *f);

#endif
