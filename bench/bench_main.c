/*
 * bench_main.c - paywire-bench: flags, the temporary directory, the order of
 * the phases, and the checks that the run measured what it says.
 *
 * Phases (each floor right next to what it is the floor of, so both see the
 * same machine state):
 *   nng echo ipc, get_status ipc, nng echo tcp, get_status tcp,
 *   LMDB 1 put/txn, create_session x1, LMDB T puts/txn, create_session xT.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "pw_common.h"
#include "store.h"

#define BENCH_SEED_SESSIONS 64u     /* get_status cycles through these */
#define BENCH_READ_WARMUP_MAX 1000u /* unmeasured calls before each read phase */
#define BENCH_WRITE_WARMUP_MAX 100u /* ... before the sequential write phases */
#define BENCH_WRITE_WARMUP_MIN 20u  /* ... at least (small --n) */
#define BENCH_CONC_WARMUP 5u        /* ... per thread before the concurrent ones */
#define BENCH_BLOCKS 20u            /* interleaved blocks of the sequential pairs */
#define BENCH_CONC_BLOCKS 5u        /* ... of the concurrent pair: long blocks, so
                                       starting and joining the threads stays small */
#define BENCH_MAP_BYTES_PER_WRITE (16u * 1024u) /* server map: generous per session */
#define BENCH_ROOT_PARENT_BYTES_MAX 64 /* TMPDIR; ipc:// paths must fit sun_path */
#define BENCH_ROUNDS_DEFAULT 5u     /* alternated rounds per peer comparison */
#define BENCH_POOL_RATE 6000.0      /* closed-loop fresh webhooks/s the pool is sized for */
#define BENCH_PRELOAD_SAMPLE 4096u  /* preloaded ids kept for the reads */

static const char bench_usage[] =
    "usage: paywire-bench [--server-bin PATH] [--n N] [--threads T] [--sync full|meta|none]\n"
    "                     [--store URL] [--json] [--no-floors] [--workloads LIST]\n"
    "                     [--seconds S] [--inflight N] [--rate R] [--http-rate R] [--pool N]\n"
    "                     [--bridge-bin PATH] [--preload N] [--grpc-peer PATH]\n"
    "                     [--pgbench CONNINFO] [--rounds N] [--json-out FILE]\n"
    "                     [--limits off|on]\n"
    "\n"
    "Starts a paywire-server child (ipc:// and tcp://127.0.0.1, temporary data dir),\n"
    "measures get_status and create_session through libpaywire, and, in the same run,\n"
    "the floors: an nng REQ/REP echo and raw LMDB commits. See docs/BENCH.md.\n"
    "\n"
    "  --server-bin PATH  paywire-server to run. Default: ../server/paywire-server or\n"
    "                     ./paywire-server next to this program\n"
    "  --n N              reads per transport and concurrent writes (100..1000000);\n"
    "                     sequential writes: N/10. Default: 20000\n"
    "  --threads T        client threads for the concurrent writes, and puts per\n"
    "                     transaction of the batched LMDB floor (1..256). Default: 32\n"
    "  --sync MODE        the server's --sync and the LMDB floors' durability. Default: full\n"
    "  --store URL        run the server on this PostgreSQL database (empty; its --store)\n"
    "                     instead of LMDB. bench/pg_bench.sh compares both engines and\n"
    "                     pgbench in one run\n"
    "  --limits off|on    the server's per-merchant rate limits: off (default, the\n"
    "                     bench measures the server), or on at 1000000/s with a burst\n"
    "                     of 1000000 for every class: no workload reaches it, every\n"
    "                     merchant call pays the limiter's check (credits_balance_*\n"
    "                     and the other keyed calls show its cost)\n"
    "  --json             print one JSON object instead of the table\n"
    "  --no-floors        skip the interleaved floor phases above (echo, LMDB)\n"
    "  --workloads LIST   the workload section: all (default), none, or names,\n"
    "                     comma-separated (the table's keys, e.g. get_status_x64,mix_open)\n"
    "  --seconds S        measured time per workload (0.1..600). Default: 5\n"
    "  --inflight N       closed-loop calls in flight of the x64 workloads, and the open\n"
    "                     loops' workers (1..256). Default: 64\n"
    "  --rate R           open-loop rate of mix_open, calls/s. Default: 5000\n"
    "  --http-rate R      open-loop rate of http_webhook_open, calls/s. Default: 10000\n"
    "  --pool N           unpaid sessions prepared for the fresh webhooks (0: sized from\n"
    "                     the rates and --seconds). Default: 0\n"
    "  --bridge-bin PATH  paywire-bridge for http_webhook_open. Default: next to the server\n"
    "  --preload N        write N sessions straight into the store before the server\n"
    "                     starts (0..100000000); reads then ask about them. Default: 0\n"
    "  --grpc-peer PATH   paywire-grpc-peer (bench/peers): get_status at 8 and 64 in\n"
    "                     flight against a gRPC C++ unary lookup, alternated\n"
    "  --pgbench CONNINFO pgbench single-row INSERTs at --inflight clients on this\n"
    "                     database against create_session, alternated (bench/pg_bench.sh)\n"
    "  --rounds N         alternated rounds of each peer comparison (1..16). Default: 5\n"
    "  --json-out FILE    also write the JSON object of the run into FILE\n"
    "  --help             print this help\n"
    "\n"
    "Exit codes: 0 measured, 1 a phase or the server failed, 2 usage error.\n";

typedef struct bench_cfg {
	char server_bin[PATH_MAX]; /* paywire-server to run */
	size_t n;                  /* --n */
	unsigned threads;          /* --threads */
	const char *sync;          /* --sync: full | meta | none */
	const char *store_url;     /* --store: a PostgreSQL database, else NULL (LMDB) */
	bool json;                 /* --json */
	bool no_floors;            /* --no-floors */
	bench_wl_cfg wl;           /* the workload section */
	char bridge_bin[PATH_MAX]; /* --bridge-bin */
	uint64_t preload;          /* --preload */
	const char *grpc_peer;     /* --grpc-peer */
	const char *pgbench;       /* --pgbench */
	size_t rounds;             /* --rounds */
	const char *json_out;      /* --json-out: the JSON object into this file too */
} bench_cfg;

/* What the run holds open. */
typedef struct bench_run {
	bench_server server;       /* the child */
	pw_client *ipc;            /* client on the ipc:// URL */
	pw_client *tcp;            /* client on the tcp:// URL */
	store *ro;                 /* the server's environment, opened read-only */
	char api_key[PW_API_KEY_BYTES_MAX]; /* the merchant's raw key (secret) */
	char (*ids)[64];           /* session ids the reads ask about */
	size_t nids;               /* how many */
} bench_run;

static void
bench_on_signal(int sig)
{
	(void) sig;
	bench_interrupted = 1;
}

static int
bench_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
bench_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "paywire-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(paywire-bench --help lists the flags)\n");
	return 2;
}

/* prefix + root + leaf into out; asserts it fits (main keeps root short). */
static void
bench_path(char *out, size_t size, const char *prefix, const char *root, const char *leaf)
{
	int n = snprintf(out, size, "%s%s%s", prefix, root, leaf);

	PW_ASSERT(n > 0 && (size_t) n < size);
}

/* Parses a decimal in [min, max]. */
static bool
bench_parse_size(const char *s, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9') {
		return false;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return false;
	}
	*out = (size_t) v;
	return true;
}

/* The server next to this program: build tree first, then an install. */
static int
bench_server_bin_default(char *out, size_t size)
{
	static const char *const rel[] = { "/../server/paywire-server", "/paywire-server" };
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		return -1;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	PW_ASSERT(slash != NULL);
	*slash = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		int w = snprintf(out, size, "%s%s", self, rel[i]);
		if (w > 0 && (size_t) w < size && access(out, X_OK) == 0) {
			return 0;
		}
	}
	return -1;
}

/* paywire-bridge beside the server: <dir>/../bridge/ (a build tree) or <dir>/.
 * Left empty when there is none (http_webhook_open then fails with why). */
static void
bench_bridge_bin_default(bench_cfg *cfg)
{
	static const char *const rel[] = { "/../bridge/paywire-bridge", "/paywire-bridge" };
	char dir[PATH_MAX];
	char *slash;

	pw_strlcpy(dir, cfg->server_bin, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		pw_strlcpy(dir, ".", sizeof(dir));
	} else {
		*slash = '\0';
	}
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		int w = snprintf(cfg->bridge_bin, sizeof(cfg->bridge_bin), "%s%s", dir, rel[i]);
		if (w > 0 && (size_t) w < sizeof(cfg->bridge_bin) && access(cfg->bridge_bin, X_OK) == 0) {
			return;
		}
	}
	cfg->bridge_bin[0] = '\0';
}

/* A flag that takes a value. */
static bool
bench_flag_known(const char *name)
{
	static const char *const names[] = { "--server-bin", "--n", "--threads", "--sync",
		"--store", "--workloads", "--seconds", "--inflight", "--rate", "--http-rate", "--pool",
		"--bridge-bin", "--preload", "--grpc-peer", "--pgbench", "--rounds", "--json-out",
		"--limits" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* One flag (and its value, from "=" or the next argument). 0, or 2 on a
 * usage error. */
static int
bench_flag(bench_cfg *cfg, const char *name, const char *val)
{
	size_t v;

	if (!bench_flag_known(name)) {
		return bench_usage_error("unknown flag %s", name);
	}
	if (val == NULL) {
		return bench_usage_error("%s needs a value", name);
	}
	if (strcmp(name, "--server-bin") == 0) {
		if (!pw_strlcpy(cfg->server_bin, val, sizeof(cfg->server_bin)) ||
		    access(val, X_OK) != 0) {
			return bench_usage_error("--server-bin %s: not an executable file", val);
		}
	} else if (strcmp(name, "--n") == 0) {
		if (!bench_parse_size(val, BENCH_N_MIN, BENCH_N_MAX, &cfg->n)) {
			return bench_usage_error("--n %s: expected %u..%u", val, BENCH_N_MIN, BENCH_N_MAX);
		}
	} else if (strcmp(name, "--threads") == 0) {
		if (!bench_parse_size(val, 1, BENCH_THREADS_MAX, &v)) {
			return bench_usage_error("--threads %s: expected 1..%u", val, BENCH_THREADS_MAX);
		}
		cfg->threads = (unsigned) v;
	} else if (strcmp(name, "--workloads") == 0) {
		if (bench_wl_list_check(val) != 0) {
			return 2;
		}
		cfg->wl.list = val;
	} else if (strcmp(name, "--seconds") == 0 || strcmp(name, "--rate") == 0 ||
	           strcmp(name, "--http-rate") == 0) {
		double d;
		char *end;
		errno = 0;
		d = strtod(val, &end);
		if (errno != 0 || *end != '\0' || !(d >= 0.1) ||
		    d > (strcmp(name, "--seconds") == 0 ? 600.0 : 1e6)) {
			return bench_usage_error("%s %s: expected a number, 0.1..%s", name, val,
			    strcmp(name, "--seconds") == 0 ? "600" : "1000000");
		}
		*(strcmp(name, "--seconds") == 0 ? &cfg->wl.seconds
		  : strcmp(name, "--rate") == 0  ? &cfg->wl.rate
		                                 : &cfg->wl.http_rate) = d;
	} else if (strcmp(name, "--inflight") == 0) {
		if (!bench_parse_size(val, 1, BENCH_WORKERS_MAX, &v)) {
			return bench_usage_error("--inflight %s: expected 1..%u", val, BENCH_WORKERS_MAX);
		}
		cfg->wl.inflight = (unsigned) v;
	} else if (strcmp(name, "--pool") == 0) {
		if (!bench_parse_size(val, 0, 100000000u, &cfg->wl.pool)) {
			return bench_usage_error("--pool %s: expected 0..100000000", val);
		}
	} else if (strcmp(name, "--preload") == 0) {
		if (!bench_parse_size(val, 0, 100000000u, &v)) {
			return bench_usage_error("--preload %s: expected 0..100000000", val);
		}
		cfg->preload = v;
	} else if (strcmp(name, "--rounds") == 0) {
		if (!bench_parse_size(val, 1, BENCH_ROUNDS_MAX, &cfg->rounds)) {
			return bench_usage_error("--rounds %s: expected 1..%u", val, BENCH_ROUNDS_MAX);
		}
	} else if (strcmp(name, "--bridge-bin") == 0 || strcmp(name, "--grpc-peer") == 0) {
		if (access(val, X_OK) != 0) {
			return bench_usage_error("%s %s: not an executable file", name, val);
		}
		if (strcmp(name, "--grpc-peer") == 0) {
			cfg->grpc_peer = val;
		} else if (!pw_strlcpy(cfg->bridge_bin, val, sizeof(cfg->bridge_bin))) {
			return bench_usage_error("--bridge-bin: path too long");
		}
	} else if (strcmp(name, "--json-out") == 0) {
		cfg->json_out = val;
	} else if (strcmp(name, "--limits") == 0) {
		if (strcmp(val, "on") != 0 && strcmp(val, "off") != 0) {
			return bench_usage_error("--limits %s: expected off or on", val);
		}
		bench_server_limits(strcmp(val, "on") == 0);
	} else if (strcmp(name, "--pgbench") == 0) {
		cfg->pgbench = val;
	} else if (strcmp(name, "--store") == 0) {
		if (!store_url_is_postgres(val)) {
			return bench_usage_error("--store: expected a postgres:// URL or libpq "
			    "key=value string of an empty database");
		}
		cfg->store_url = val;
	} else {
		PW_ASSERT(strcmp(name, "--sync") == 0);
		if (strcmp(val, "full") != 0 && strcmp(val, "meta") != 0 && strcmp(val, "none") != 0) {
			return bench_usage_error("--sync %s: expected full, meta or none", val);
		}
		cfg->sync = val;
	}
	return 0;
}

/* -1: --help printed (exit 0); 0: parsed; 2: usage error. */
static int
bench_cfg_parse(bench_cfg *cfg, int argc, char **argv)
{
	char name[32];

	*cfg = (bench_cfg) { .n = BENCH_N_DEFAULT, .threads = BENCH_THREADS_DEFAULT, .sync = "full",
		.rounds = BENCH_ROUNDS_DEFAULT,
		.wl = { .list = "all", .seconds = 5.0, .rate = 5000.0, .http_rate = 10000.0,
		    .pool_rate = BENCH_POOL_RATE, .inflight = 64 } };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *eq = strchr(a, '=');
		const char *val;
		int rv;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(bench_usage, stdout);
			return -1;
		}
		if (strcmp(a, "--json") == 0) {
			cfg->json = true;
			continue;
		}
		if (strcmp(a, "--no-floors") == 0) {
			cfg->no_floors = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || (eq != NULL && (size_t) (eq - a) >= sizeof(name))) {
			return bench_usage_error("unexpected argument %s", a);
		}
		if (eq != NULL) {
			memcpy(name, a, (size_t) (eq - a));
			name[eq - a] = '\0';
			val = eq + 1;
		} else {
			pw_strlcpy(name, a, sizeof(name));
			val = i + 1 < argc ? argv[++i] : NULL;
		}
		rv = bench_flag(cfg, name, val);
		if (rv != 0) {
			return rv;
		}
	}
	if (cfg->server_bin[0] == '\0' &&
	    bench_server_bin_default(cfg->server_bin, sizeof(cfg->server_bin)) != 0) {
		return bench_usage_error("%s", "no paywire-server next to this program: give --server-bin");
	}
	if (cfg->bridge_bin[0] == '\0') {
		bench_bridge_bin_default(cfg);
	}
	cfg->wl.bridge_bin = cfg->bridge_bin;
	return 0;
}

static int
bench_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	if (remove(path) != 0) {
		fprintf(stderr, "bench: cannot remove %s: %s\n", path, strerror(errno));
	}
	return 0;
}

static void
bench_rows_init(bench_report *r, unsigned threads)
{
	char name[BENCH_NAME_BYTES];

	bench_result_init(&r->echo_ipc, "floor: nng REQ/REP echo ipc", "echo_ipc", "op");
	bench_result_init(&r->status_ipc, "get_status ipc", "get_status_ipc", "op");
	bench_result_init(&r->echo_tcp, "floor: nng REQ/REP echo tcp", "echo_tcp", "op");
	bench_result_init(&r->status_tcp, "get_status tcp", "get_status_tcp", "op");
	bench_result_init(&r->lmdb_one, "floor: LMDB 1 put + commit", "lmdb_one_put", "txn");
	bench_result_init(&r->lmdb_shape, "floor: LMDB a create's writes + commit",
	    "lmdb_create_shape", "txn");
	bench_result_init(&r->create_seq, "create_session, 1 thread", "create_session_seq", "op");
	snprintf(name, sizeof(name), "floor: LMDB %u puts + commit (per txn)", threads);
	bench_result_init(&r->lmdb_batch, name, "lmdb_batch_put", "txn");
	snprintf(name, sizeof(name), "create_session, %u threads", threads);
	bench_result_init(&r->create_conc, name, "create_session_concurrent", "op");
}

static void
bench_report_init(bench_report *r, const bench_cfg *cfg)
{
	time_t now = time(NULL);
	struct tm tm;
	char line[256];
	FILE *f;

	memset(r, 0, sizeof(*r));
	r->server_bin = cfg->server_bin;
	r->sync = cfg->sync;
	r->threads = cfg->threads;
	r->n = cfg->n;
	r->cores = sysconf(_SC_NPROCESSORS_ONLN);
	r->server_exit = -1;
	r->preload = cfg->preload;
	r->seconds = cfg->wl.seconds;
	bench_rows_init(r, cfg->threads);
	gmtime_r(&now, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	f = fopen("/proc/cpuinfo", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon += colon[1] == ' ' ? 2 : 1;
			colon[strcspn(colon, "\n")] = '\0';
			pw_strlcpy(r->cpu, colon, sizeof(r->cpu));
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
}

/* ---- the run ---- */

static int
bench_run_open(bench_run *b, const bench_cfg *cfg, const char *root, bench_report *r)
{
	store_opts ro = { .read_only = true };
	uint64_t writes = (uint64_t) cfg->n * 2u + BENCH_SEED_SESSIONS;
	uint64_t map = writes * BENCH_MAP_BYTES_PER_WRITE;
	unsigned contexts = cfg->threads > PW_SRV_CONTEXTS_DEFAULT ? cfg->threads
	                                                            : PW_SRV_CONTEXTS_DEFAULT;
	pw_merchant m;
	pw_error err;

	map += (cfg->preload + (uint64_t) (cfg->wl.seconds * 60000.0)) * BENCH_MAP_BYTES_PER_WRITE;
	map = map < PW_MAP_SIZE_DEFAULT ? PW_MAP_SIZE_DEFAULT : map;
	if (bench_server_prepare(&b->server, root) != 0) {
		return -1;
	}
	if (cfg->preload > 0) {
		size_t ns = cfg->preload < BENCH_PRELOAD_SAMPLE ? (size_t) cfg->preload
		                                                : BENCH_PRELOAD_SAMPLE;
		b->ids = calloc(ns, sizeof(*b->ids));
		if (b->ids == NULL) {
			return -1;
		}
		b->nids = ns;
		bench_phase("preload (straight into the store)", (size_t) cfg->preload);
		if (bench_preload(b->server.data_dir, b->server.token_secret, map, cfg->preload,
		        b->ids, ns, &r->preload_s) != 0) {
			return -1;
		}
	}
	fprintf(stderr, "bench: starting %s\n", cfg->server_bin);
	if (bench_server_launch(&b->server, cfg->server_bin, cfg->sync, contexts, map) != 0) {
		return -1;
	}
	if (bench_client_open(&b->ipc, b->server.ipc_url) != 0 ||
	    bench_client_open(&b->tcp, b->server.tcp_url) != 0) {
		return -1;
	}
	if (pw_merchant_create(b->tcp, b->server.admin_key, "paywire-bench", PW_MODE_TEST, &m,
	        &err) != PW_OK) {
		fprintf(stderr, "bench: create_merchant: %s: %s\n", pw_status_name(err.code),
		    err.message);
		return -1;
	}
	pw_strlcpy(b->api_key, m.api_key, sizeof(b->api_key));
	sodium_memzero(m.api_key, sizeof(m.api_key));
	/* A second, read-only view of the server's environment, through the
	 * store interface: its transaction ids count the commits. */
	ro.dir = b->server.data_dir;
	ro.map_size_bytes = map; /* the server's: a smaller map fails once the file outgrows it */
	ro.url = cfg->store_url;
	if (store_open(&b->ro, &ro) != PW_OK) {
		fprintf(stderr, "bench: cannot open the server's store read-only\n");
		return -1;
	}
	if (b->ids != NULL) {
		/* preloaded: the seeds are created (and counted) but not read */
		char (*seed)[64] = calloc(BENCH_SEED_SESSIONS, sizeof(*seed));
		int rv = seed == NULL ? -1
		                      : bench_sessions_seed(b->tcp, b->api_key, seed, BENCH_SEED_SESSIONS);
		free(seed);
		return rv;
	}
	b->ids = calloc(BENCH_SEED_SESSIONS, sizeof(*b->ids));
	if (b->ids == NULL) {
		return -1;
	}
	b->nids = BENCH_SEED_SESSIONS;
	return bench_sessions_seed(b->tcp, b->api_key, b->ids, BENCH_SEED_SESSIONS);
}

/* Stops the server; returns its exit code (-1 if killed). */
static int
bench_run_close(bench_run *b)
{
	int code;

	store_close(b->ro);
	pw_client_close(b->ipc);
	pw_client_close(b->tcp);
	sodium_memzero(b->api_key, sizeof(b->api_key));
	free(b->ids);
	code = bench_server_stop(&b->server);
	if (code != 0) {
		bench_server_log_dump(&b->server);
	}
	return code;
}

void
bench_phase(const char *what, size_t n)
{
	fprintf(stderr, "bench: %-34s %zu\n", what, n);
}

/* get_status on one transport, interleaved with an nng echo of the same
 * request bytes on the same kind of transport. */
static int
bench_read_pair(bench_run *b, pw_client *c, const char *echo_url, const uint8_t *msg,
    size_t len, size_t n, size_t warm, bench_result *echo_out, bench_result *status_out)
{
	bench_echo_peer peer;
	bench_status_src src = { .c = c, .ids = b->ids, .nids = b->nids };
	bench_side echo = { .block = bench_echo_block, .arg = &peer, .n = n, .warmup = warm,
		.ops_per_sample = 1, .out = echo_out };
	bench_side status = { .block = bench_status_block, .arg = &src, .n = n, .warmup = warm,
		.ops_per_sample = 1, .out = status_out };
	int rv;

	rv = bench_echo_open(&peer, echo_url, msg, len);
	if (rv != 0) {
		return -1;
	}
	echo.srv_pid = peer.pid;
	status.srv_pid = b->server.pid;
	rv = bench_interleave_run(&echo, &status, BENCH_BLOCKS);
	if (bench_echo_close(&peer) != 0) {
		rv = -1;
	}
	return rv;
}

static int
bench_reads(bench_run *b, const bench_cfg *cfg, const char *root, bench_report *r)
{
	uint8_t msg[512];
	char echo_ipc[BENCH_PATH_BYTES];
	size_t warm = cfg->n / 10 < BENCH_READ_WARMUP_MAX ? cfg->n / 10 : BENCH_READ_WARMUP_MAX;
	size_t len = bench_status_request_pack(b->ids[0], msg, sizeof(msg));
	int rv;

	PW_ASSERT(len > 0);
	r->status_msg_bytes = len;
	bench_path(echo_ipc, sizeof(echo_ipc), "ipc://", root, "/echo.sock");
	bench_phase("get_status ipc | nng echo ipc", cfg->n);
	rv = bench_read_pair(b, b->ipc, echo_ipc, msg, len, cfg->n, warm, &r->echo_ipc,
	    &r->status_ipc);
	if (rv == 0) {
		bench_phase("get_status tcp | nng echo tcp", cfg->n);
		rv = bench_read_pair(b, b->tcp, "tcp://127.0.0.1:0", msg, len, cfg->n, warm,
		    &r->echo_tcp, &r->status_tcp);
	}
	return rv;
}

/* create_session on one thread, interleaved with single-put LMDB commits
 * and with LMDB commits of a create's writes (bench_lmdb_open_shape); the
 * server's commits are counted around it (warm-up included: it commits
 * too). */
static int
bench_write_pair(bench_run *b, const bench_cfg *cfg, const char *root, size_t n, size_t warm,
    bench_report *r)
{
	char dir[BENCH_PATH_BYTES];
	char shape_dir[BENCH_PATH_BYTES];
	bench_lmdb_floor floor;
	bench_lmdb_floor shape;
	store_counts counts;
	bench_create_src src = { .c = b->tcp, .api_key = b->api_key };
	bench_side lmdb = { .block = bench_lmdb_block, .arg = &floor, .n = n, .warmup = warm,
		.ops_per_sample = 1, .out = &r->lmdb_one };
	bench_side create = { .block = bench_create_block, .arg = &src, .n = n, .warmup = warm,
		.ops_per_sample = 1, .srv_pid = b->server.pid, .out = &r->create_seq };
	bench_side shaped = { .block = bench_lmdb_block, .arg = &shape, .n = n, .warmup = warm,
		.ops_per_sample = 1, .out = &r->lmdb_shape };
	uint64_t txn0;
	int rv;

	bench_path(dir, sizeof(dir), "", root, "/lmdb-one");
	bench_path(shape_dir, sizeof(shape_dir), "", root, "/lmdb-shape");
	rv = bench_lmdb_open(&floor, dir, cfg->sync, 1);
	if (rv != 0) {
		return -1;
	}
	if (store_counts_get(b->ro, &counts) != PW_OK ||
	    bench_lmdb_open_shape(&shape, shape_dir, cfg->sync, (size_t) counts.sessions) != 0) {
		(void) bench_lmdb_close(&floor);
		return -1;
	}
	txn0 = store_last_txnid(b->ro);
	rv = bench_interleave_run3(&lmdb, &create, &shaped, BENCH_BLOCKS);
	r->commit_seq.commits = store_last_txnid(b->ro) - txn0;
	r->commit_seq.writes = src.created;
	if (bench_lmdb_close(&floor) != 0) {
		rv = -1;
	}
	if (bench_lmdb_close(&shape) != 0) {
		rv = -1;
	}
	return rv;
}

/* create_session from T threads, interleaved with LMDB commits of T puts
 * each (what group commit could reach); the server's commits are counted
 * around it. */
static int
bench_conc_pair(bench_run *b, const bench_cfg *cfg, const char *root, size_t n,
    bench_report *r)
{
	char dir[BENCH_PATH_BYTES];
	bench_lmdb_floor floor;
	bench_conc_src src = { .c = b->tcp, .api_key = b->api_key, .threads = cfg->threads };
	bench_side lmdb = { .block = bench_lmdb_block, .arg = &floor, .n = n / cfg->threads,
		.warmup = BENCH_CONC_WARMUP, .ops_per_sample = cfg->threads, .out = &r->lmdb_batch };
	bench_side create = { .block = bench_create_concurrent_block, .arg = &src, .n = n,
		.warmup = (size_t) cfg->threads * BENCH_CONC_WARMUP, .ops_per_sample = 1,
		.srv_pid = b->server.pid, .out = &r->create_conc };
	uint64_t txn0;
	int rv;

	bench_path(dir, sizeof(dir), "", root, "/lmdb-batch");
	rv = bench_lmdb_open(&floor, dir, cfg->sync, cfg->threads);
	if (rv != 0) {
		return -1;
	}
	txn0 = store_last_txnid(b->ro);
	rv = bench_interleave_run(&lmdb, &create, BENCH_CONC_BLOCKS);
	r->commit_conc.commits = store_last_txnid(b->ro) - txn0;
	r->commit_conc.writes = src.created;
	if (bench_lmdb_close(&floor) != 0) {
		rv = -1;
	}
	return rv;
}

static int
bench_writes(bench_run *b, const bench_cfg *cfg, const char *root, bench_report *r)
{
	size_t seq = cfg->n / 10;
	size_t warm = seq / 10 < BENCH_WRITE_WARMUP_MAX ? seq / 10 : BENCH_WRITE_WARMUP_MAX;
	size_t conc = cfg->n < cfg->threads * BENCH_CONC_BLOCKS ? cfg->threads * BENCH_CONC_BLOCKS
	                                                         : cfg->n;
	int rv;

	/* A fresh environment's first commits grow its file: keep them out. */
	warm = warm < BENCH_WRITE_WARMUP_MIN ? BENCH_WRITE_WARMUP_MIN : warm;
	bench_phase("create_session x1 | LMDB 1 put | LMDB a create's writes", seq);
	rv = bench_write_pair(b, cfg, root, seq, warm, r);
	if (rv == 0) {
		bench_phase("create_session xT | LMDB T puts", conc);
		rv = bench_conc_pair(b, cfg, root, conc, r);
	}
	return rv;
}

/* Every acknowledged create_session is in the server's store. */
static int
bench_sessions_check(bench_run *b, bench_report *r)
{
	store_counts counts;

	if (store_counts_get(b->ro, &counts) != PW_OK) {
		fprintf(stderr, "bench: cannot count the server's sessions\n");
		return -1;
	}
	r->sessions_on_disk = counts.sessions;
	if (counts.sessions != r->sessions_expected) {
		fprintf(stderr, "bench: %llu sessions in the store, %llu acknowledged\n",
		    (unsigned long long) counts.sessions, (unsigned long long) r->sessions_expected);
		return -1;
	}
	return 0;
}

/* The server's resident memory: anonymous (its own) and file-backed (the
 * map's pages), from /proc/<pid>/status. */
static void
bench_rss_read(pid_t pid, bench_report *r)
{
	char path[64];
	char line[256];
	FILE *f;

	r->srv_rss_anon_kib = -1;
	r->srv_rss_file_kib = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long) pid);
	f = pid > 0 ? fopen(path, "r") : NULL;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		(void) sscanf(line, "RssAnon: %ld kB", &r->srv_rss_anon_kib);
		(void) sscanf(line, "RssFile: %ld kB", &r->srv_rss_file_kib);
	}
	if (f != NULL) {
		fclose(f);
	}
}

static int
bench_measure(const bench_cfg *cfg, const char *root, bench_report *r)
{
	bench_run b;
	int rv;
	int code;

	uint8_t msg[512];
	size_t len;

	memset(&b, 0, sizeof(b));
	rv = bench_run_open(&b, cfg, root, r);
	if (rv == 0 && !cfg->no_floors) {
		rv = bench_reads(&b, cfg, root, r);
	}
	if (rv == 0 && !cfg->no_floors) {
		rv = bench_writes(&b, cfg, root, r);
	}
	if (rv == 0 && strcmp(cfg->wl.list, "none") != 0) {
		bench_wl_io io = { .server = &b.server, .client = b.tcp, .api_key = b.api_key,
			.ids = b.ids, .nids = b.nids, .ro = b.ro, .msg = msg };
		len = bench_status_request_pack(b.ids[0], msg, sizeof(msg));
		PW_ASSERT(len > 0);
		io.msg_len = len;
		rv = bench_workloads_run(&cfg->wl, &io, r);
	}
	if (rv == 0 && (cfg->grpc_peer != NULL || cfg->pgbench != NULL)) {
		bench_peers_io io = { .server = &b.server, .client = b.tcp, .api_key = b.api_key,
			.ids = b.ids, .nids = b.nids, .grpc_peer = cfg->grpc_peer, .pgbench = cfg->pgbench,
			.rounds = cfg->rounds, .seconds = cfg->wl.seconds, .inflight = cfg->wl.inflight };
		rv = bench_peers_run(&io, &r->peers, &r->wl_sessions);
	}
	r->sessions_expected = BENCH_SEED_SESSIONS + r->commit_seq.writes + r->commit_conc.writes +
	                       r->wl_sessions + (cfg->preload > 0 ? cfg->preload : 0);
	if (rv == 0) {
		rv = bench_sessions_check(&b, r);
	}
	bench_rss_read(b.server.pid, r);
	code = bench_run_close(&b);
	r->server_exit = code;
	if (code != 0) {
		fprintf(stderr, "bench: the server exited with %d after SIGTERM\n", code);
		rv = -1;
	}
	if (bench_interrupted) {
		fprintf(stderr, "bench: interrupted\n");
		rv = -1;
	}
	return rv;
}

static void
bench_signals_set(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bench_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char **argv)
{
	char root[BENCH_PATH_BYTES];
	const char *tmp = getenv("TMPDIR");
	bench_report r;
	bench_cfg cfg;
	int rv;

	if (argc == 3 && strcmp(argv[1], "--echo-server") == 0) {
		return bench_echo_serve(argv[2]); /* the echo floor's child (bench_echo_open) */
	}
	if (bench_hist_self_check() != 0) {
		fprintf(stderr, "bench: the histogram's buckets do not tile (a bug)\n");
		return 1;
	}
	rv = bench_cfg_parse(&cfg, argc, argv);
	if (rv != 0) {
		return rv < 0 ? 0 : rv;
	}
	if (pw_common_init() != 0) {
		fprintf(stderr, "bench: cannot initialise libsodium\n");
		return 1;
	}
	pw_log_set_level(PW_LOG_WARN); /* the read-only store's open is not news */
	bench_signals_set();
	bench_report_init(&r, &cfg);
	if (tmp == NULL || tmp[0] == '\0') {
		tmp = "/tmp";
	}
	if (strlen(tmp) > BENCH_ROOT_PARENT_BYTES_MAX) {
		/* ipc:// paths must fit sun_path (108 bytes) */
		fprintf(stderr, "bench: TMPDIR is longer than %d bytes\n", BENCH_ROOT_PARENT_BYTES_MAX);
		return 1;
	}
	bench_path(root, sizeof(root), "", tmp, "/paywire-bench.XXXXXX");
	if (mkdtemp(root) == NULL) {
		fprintf(stderr, "bench: mkdtemp %s: %s\n", root, strerror(errno));
		return 1;
	}
	if (cfg.store_url != NULL && setenv("PAYWIRE_STORE", cfg.store_url, 1) != 0) {
		fprintf(stderr, "bench: setenv: %s\n", strerror(errno));
		return 1;
	}
	rv = bench_measure(&cfg, root, &r);
	nftw(root, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rv != 0) {
		/* The numbers of a run that failed mean nothing: stderr says why. */
		fprintf(stderr, "bench: no report: the run failed\n");
		return 1;
	}
	if (cfg.json_out != NULL) {
		FILE *jf = fopen(cfg.json_out, "w");
		if (jf == NULL || bench_report_json(&r, jf) != 0) {
			fprintf(stderr, "bench: cannot write %s: %s\n", cfg.json_out, strerror(errno));
			rv = -1;
		}
		if (jf != NULL && fclose(jf) != 0) {
			rv = -1;
		}
	}
	if (cfg.json) {
		if (bench_report_json(&r, stdout) != 0) {
			rv = -1;
		}
	} else {
		bench_report_print(&r, stdout);
	}
	return rv == 0 ? 0 : 1;
}
