/*
 * bench_floor.c - the floors of paywire-bench, measured in the same run:
 * an nng REQ/REP echo (the transport alone) and raw LMDB commits (the disk
 * alone). They are what paywire could not go below on this machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench.h"
#include "pw_common.h"

extern char **environ;

#define BENCH_ECHO_TIMEOUT_MS 5000          /* one echo round trip, send or receive */
#define BENCH_LMDB_MAP_BYTES (8ull << 30)   /* sparse; far above what --n can write */
#define BENCH_LMDB_KEY_BYTES PW_ID_BYTES(3) /* "cs_" ids, as the sessions db */
#define BENCH_LMDB_PREGROW 16384u           /* records written and dropped at open */

/* ---- nng echo ----
 *
 * The REP side runs in a process of its own, as paywire-server does: nng
 * serves all sockets of a process from one poller thread, so an echo in the
 * bench's own process would share that thread with the REQ side and come
 * out slower than the real server, which is no floor. */

#define BENCH_ECHO_CONTEXTS 4 /* REP contexts: more than the one REQ in flight */

/* One REP context answering in its aio callback, as paywire-server's work
 * items do (nng demo/async/server.c): no thread hop between receiving and
 * sending back, so this is a floor for the server's read path. */
typedef struct bench_echo_item {
	nng_ctx ctx;            /* REP context */
	nng_aio *aio;           /* its aio; the callback runs on nng's threads */
	bool sending;           /* state: false RECV, true SEND */
	atomic_long *echoed;    /* shared count of messages sent back */
} bench_echo_item;

typedef struct bench_echo {
	nng_socket rep;                              /* REP socket */
	bench_echo_item items[BENCH_ECHO_CONTEXTS];  /* its contexts */
	atomic_long echoed;                          /* messages sent back */
} bench_echo;

static void
bench_echo_cb(void *arg)
{
	bench_echo_item *it = arg;
	int rv = nng_aio_result(it->aio);

	if (it->sending) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(it->aio)); /* still ours after a failed send */
			nng_aio_set_msg(it->aio, NULL);
		} else {
			atomic_fetch_add(it->echoed, 1);
		}
		it->sending = false;
		nng_ctx_recv(it->ctx, it->aio);
		return;
	}
	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return; /* stopping */
	}
	if (rv != 0) {
		nng_ctx_recv(it->ctx, it->aio); /* a dropped peer: keep serving */
		return;
	}
	it->sending = true; /* the received message stays on the aio: send it back */
	nng_ctx_send(it->ctx, it->aio);
}

static void
bench_echo_stop(bench_echo *e, int items)
{
	for (int i = 0; i < items; i++) {
		nng_aio_stop(e->items[i].aio);
	}
	for (int i = 0; i < items; i++) {
		nng_msg *left = nng_aio_get_msg(e->items[i].aio);
		if (left != NULL) {
			nng_msg_free(left);
		}
		nng_aio_free(e->items[i].aio);
		nng_ctx_close(e->items[i].ctx);
	}
	nng_close(e->rep);
}

/* Creates the contexts and posts their first receive. Returns how many
 * items are set up (all on success); *rv the first nng error. */
static int
bench_echo_items_start(bench_echo *e, int *rv)
{
	int i;

	*rv = 0;
	for (i = 0; i < BENCH_ECHO_CONTEXTS; i++) {
		bench_echo_item *it = &e->items[i];

		it->echoed = &e->echoed;
		*rv = nng_aio_alloc(&it->aio, bench_echo_cb, it);
		if (*rv != 0) {
			break;
		}
		*rv = nng_ctx_open(&it->ctx, e->rep);
		if (*rv != 0) {
			nng_aio_free(it->aio);
			break;
		}
	}
	for (int j = 0; j < i; j++) {
		nng_ctx_recv(e->items[j].ctx, e->items[j].aio);
	}
	return i;
}

/* Opens the REP side on url; *dial_url gets the address to dial (the port
 * bound, for tcp://...:0). */
static int
bench_echo_start(bench_echo *e, const char *url, char *dial_url, size_t dial_size)
{
	nng_listener l;
	int port = 0;
	int items = 0;
	int rv;

	memset(e, 0, sizeof(*e));
	atomic_init(&e->echoed, 0);
	rv = nng_rep0_open(&e->rep);
	if (rv == 0) {
		rv = nng_socket_set_size(e->rep, NNG_OPT_RECVMAXSZ, PW_RPC_MSG_BYTES_MAX);
	}
	if (rv == 0) {
		items = bench_echo_items_start(e, &rv);
	}
	if (rv == 0) {
		rv = nng_listen(e->rep, url, &l, 0);
	}
	if (rv == 0 && strncmp(url, "tcp://", 6) == 0) {
		rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
	}
	if (rv != 0) {
		fprintf(stderr, "bench: echo server on %s: %s\n", url, nng_strerror(rv));
		bench_echo_stop(e, items);
		return -1;
	}
	if (port != 0) {
		snprintf(dial_url, dial_size, "tcp://127.0.0.1:%d", port);
	} else {
		bool fit = pw_strlcpy(dial_url, url, dial_size);
		PW_ASSERT(fit); /* both are BENCH_PATH_BYTES */
	}
	return 0;
}

static int
bench_req_open(nng_socket *req, const char *url)
{
	int rv;

	rv = nng_req0_open(req);
	if (rv == 0) {
		rv = nng_socket_set_size(*req, NNG_OPT_RECVMAXSZ, PW_RPC_MSG_BYTES_MAX);
	}
	if (rv == 0) {
		rv = nng_socket_set_ms(*req, NNG_OPT_RECVTIMEO, BENCH_ECHO_TIMEOUT_MS);
	}
	if (rv == 0) {
		rv = nng_socket_set_ms(*req, NNG_OPT_SENDTIMEO, BENCH_ECHO_TIMEOUT_MS);
	}
	if (rv == 0) {
		rv = nng_dial(*req, url, NULL, 0); /* the listener is up: dial synchronously */
	}
	if (rv != 0) {
		fprintf(stderr, "bench: echo client to %s: %s\n", url, nng_strerror(rv));
		nng_close(*req);
		return -1;
	}
	return 0;
}

/* One round trip: a new message (as libpaywire builds one per call), send,
 * receive, check the echo. 0 or -1. */
static int
bench_echo_once(nng_socket req, const void *msg, size_t len)
{
	nng_msg *m;
	int rv;

	rv = nng_msg_alloc(&m, 0);
	if (rv == 0) {
		rv = nng_msg_append(m, msg, len);
		if (rv != 0) {
			nng_msg_free(m);
		}
	}
	if (rv == 0) {
		rv = nng_sendmsg(req, m, 0);
		if (rv != 0) {
			nng_msg_free(m);
		}
	}
	if (rv == 0) {
		rv = nng_recvmsg(req, &m, 0);
	}
	if (rv != 0) {
		fprintf(stderr, "bench: echo round trip: %s\n", nng_strerror(rv));
		return -1;
	}
	rv = nng_msg_len(m) == len && memcmp(nng_msg_body(m), msg, len) == 0 ? 0 : -1;
	nng_msg_free(m);
	if (rv != 0) {
		fprintf(stderr, "bench: the echo differs from the message sent\n");
	}
	return rv;
}

int
bench_echo_serve(const char *url)
{
	char dial_url[BENCH_PATH_BYTES];
	sigset_t set;
	bench_echo e;
	int sig = 0;

	/* Blocked before nng starts its threads, so they inherit the mask and
	 * sigwait below is the only taker. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (bench_echo_start(&e, url, dial_url, sizeof(dial_url)) != 0) {
		return 1;
	}
	printf("%s\n", dial_url);
	fflush(stdout);
	while (sigwait(&set, &sig) != 0) {
	}
	bench_echo_stop(&e, BENCH_ECHO_CONTEXTS);
	printf("echoed %ld\n", atomic_load(&e.echoed));
	fflush(stdout);
	return 0;
}

int
bench_line_read(int fd, char *buf, size_t size, int timeout_ms)
{
	int64_t deadline = pw_monotonic_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;

	while (got + 1 < size) {
		int64_t left = deadline - pw_monotonic_ms();
		if (left <= 0 || poll(&p, 1, (int) left) <= 0) {
			break;
		}
		r = read(fd, buf + got, 1); /* one byte: never read past the line */
		if (r <= 0) {
			break;
		}
		if (buf[got] == '\n') {
			buf[got] = '\0';
			return 0;
		}
		got++;
	}
	buf[got] = '\0';
	return -1;
}

/* Starts the echo child; *dial_url: where it listens. */
static int
bench_echo_child_start(const char *url, pid_t *pid, int *out_fd, char *dial_url, size_t size)
{
	char self[PATH_MAX];
	int fds[2];
	ssize_t n;
	int rv;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || pipe2(fds, O_CLOEXEC) != 0) {
		fprintf(stderr, "bench: cannot start the echo process: %s\n", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	char *const argv[] = { self, "--echo-server", (char *) url, NULL };
	rv = bench_proc_spawn(self, argv, environ, fds[1], STDERR_FILENO, pid);
	close(fds[1]);
	if (rv == 0 && bench_line_read(fds[0], dial_url, size, BENCH_ECHO_TIMEOUT_MS) != 0) {
		fprintf(stderr, "bench: the echo process did not listen on %s\n", url);
		(void) bench_proc_stop(pid, BENCH_ECHO_TIMEOUT_MS);
		rv = -1;
	}
	if (rv != 0) {
		close(fds[0]);
		return -1;
	}
	*out_fd = fds[0];
	return 0;
}

/* Stops the echo child and checks it echoed at least `want` messages. */
static int
bench_echo_child_stop(pid_t *pid, int out_fd, long want)
{
	char line[64];
	long echoed = -1;
	int code;

	code = bench_proc_stop(pid, BENCH_ECHO_TIMEOUT_MS);
	if (bench_line_read(out_fd, line, sizeof(line), BENCH_ECHO_TIMEOUT_MS) == 0) {
		if (sscanf(line, "echoed %ld", &echoed) != 1) {
			echoed = -1;
		}
	}
	close(out_fd);
	if (code != 0 || echoed < want) {
		fprintf(stderr, "bench: the echo process exited with %d after %ld echoes (want %ld)\n",
		    code, echoed, want);
		return -1;
	}
	return 0;
}

int
bench_echo_open(bench_echo_peer *p, const char *url, const void *msg, size_t len)
{
	char dial_url[BENCH_PATH_BYTES];
	int rv;

	PW_ASSERT(p != NULL && url != NULL && msg != NULL && len > 0);
	memset(p, 0, sizeof(*p));
	p->msg = msg;
	p->len = len;
	p->out_fd = -1;
	rv = bench_echo_child_start(url, &p->pid, &p->out_fd, dial_url, sizeof(dial_url));
	if (rv != 0) {
		return -1;
	}
	rv = bench_req_open(&p->req, dial_url);
	if (rv != 0) {
		(void) bench_echo_child_stop(&p->pid, p->out_fd, 0);
		return -1;
	}
	p->req_open = true;
	return 0;
}

int
bench_echo_block(void *peer, uint64_t *ns, size_t n)
{
	bench_echo_peer *p = peer;
	uint64_t t0;

	PW_ASSERT(p != NULL && p->req_open && ns != NULL);
	for (size_t i = 0; i < n; i++) {
		if (bench_interrupted) {
			return -1;
		}
		t0 = bench_now_ns();
		if (bench_echo_once(p->req, p->msg, p->len) != 0) {
			return -1;
		}
		ns[i] = bench_now_ns() - t0;
		p->sent++;
	}
	return 0;
}

int
bench_echo_close(bench_echo_peer *p)
{
	PW_ASSERT(p != NULL);
	if (p->req_open) {
		nng_close(p->req);
		p->req_open = false;
	}
	if (p->pid <= 0) {
		return 0;
	}
	return bench_echo_child_stop(&p->pid, p->out_fd, p->sent);
}

/* ---- raw LMDB ---- */

static unsigned
bench_lmdb_flags(const char *sync)
{
	if (strcmp(sync, "meta") == 0) {
		return MDB_NOMETASYNC;
	}
	if (strcmp(sync, "none") == 0) {
		return MDB_NOSYNC;
	}
	PW_ASSERT(strcmp(sync, "full") == 0);
	return 0;
}

static int
bench_lmdb_fail(const char *what, int rc)
{
	fprintf(stderr, "bench: LMDB floor: %s: %s\n", what, mdb_strerror(rc));
	return -1;
}

/* One named db, as the store keeps its sessions in a named db. */
static int
bench_lmdb_dbi_open(MDB_env *env, MDB_dbi *dbi)
{
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = mdb_dbi_open(txn, "sessions", MDB_CREATE, dbi);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

/* Grows the file by BENCH_LMDB_PREGROW records (~2,500 pages) in a db of
 * their own, then drops it: its pages go to the freelist, and the measured
 * commits reuse them instead of growing the file, as a server's environment
 * that has been running does. (A commit that grows the file makes
 * fdatasync commit the filesystem's journal too: on a shared disk that
 * alone cost several times the server's own commit, 2026-12-06.) */
static int
bench_lmdb_pregrow(MDB_env *env)
{
	static uint8_t value[BENCH_VALUE_BYTES];
	char key[32];
	MDB_val k;
	MDB_val v = { .mv_size = sizeof(value), .mv_data = value };
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc != 0) {
		return rc;
	}
	rc = mdb_dbi_open(txn, "pregrow", MDB_CREATE, &dbi);
	for (unsigned i = 0; rc == 0 && i < BENCH_LMDB_PREGROW; i++) {
		snprintf(key, sizeof(key), "%08u", i);
		k.mv_size = strlen(key);
		k.mv_data = key;
		rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc == 0) {
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	}
	if (rc != 0) {
		return rc;
	}
	rc = mdb_drop(txn, dbi, 1);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

int
bench_lmdb_open(bench_lmdb_floor *f, const char *dir, const char *sync, size_t puts_per_txn)
{
	MDB_dbi dbi = 0;
	int rc;

	PW_ASSERT(f != NULL && dir != NULL && sync != NULL && puts_per_txn > 0);
	memset(f, 0, sizeof(*f));
	f->puts_per_txn = puts_per_txn;
	pw_random(f->value, sizeof(f->value)); /* incompressible, like packed records */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "bench: mkdir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	rc = mdb_env_create(&f->env);
	if (rc != 0) {
		f->env = NULL;
		return bench_lmdb_fail("mdb_env_create", rc);
	}
	rc = mdb_env_set_mapsize(f->env, (size_t) BENCH_LMDB_MAP_BYTES);
	if (rc == 0) {
		rc = mdb_env_set_maxdbs(f->env, 2 + BENCH_SHAPE_TABLES + 1);
	}
	if (rc == 0) {
		rc = mdb_env_open(f->env, dir, MDB_NOTLS | bench_lmdb_flags(sync), 0600);
	}
	if (rc == 0) {
		rc = bench_lmdb_pregrow(f->env);
	}
	if (rc == 0) {
		rc = bench_lmdb_dbi_open(f->env, &dbi);
	}
	if (rc != 0) {
		mdb_env_close(f->env);
		f->env = NULL;
		return bench_lmdb_fail("opening the environment", rc);
	}
	f->dbi = dbi;
	return 0;
}

/* The create's tables (bench.h bench_lmdb_open_shape): name, key bytes
 * (0: a time-ordered "cs_" id alone), value bytes. */
static const struct {
	const char *name;
	size_t key_bytes;
	size_t value_bytes;
} bench_shape[BENCH_SHAPE_TABLES] = {
	{ "sessions", 0, 430 },
	{ "merchant_sessions", 90, 0 },
	{ "expiry", 56, 0 },
	{ "audit", 8, 210 },
	{ "audit_merchant", 60, 0 },
	{ "replies", 0, 790 },
};

_Static_assert(BENCH_SHAPE_VALUE_BYTES >= 790 + 1, "the shape's values fit f->shape_value");

static int bench_lmdb_shape_puts(bench_lmdb_floor *f, MDB_txn *txn);

int
bench_lmdb_open_shape(bench_lmdb_floor *f, const char *dir, const char *sync, size_t prefill)
{
	MDB_txn *txn = NULL;
	int rc;

	if (bench_lmdb_open(f, dir, sync, 1) != 0) {
		return -1;
	}
	f->shape = true;
	pw_random(f->shape_value, sizeof(f->shape_value));
	rc = mdb_txn_begin(f->env, NULL, 0, &txn);
	for (size_t i = 0; rc == 0 && i <= BENCH_SHAPE_TABLES; i++) {
		MDB_dbi dbi = 0;

		rc = mdb_dbi_open(txn, i < BENCH_SHAPE_TABLES ? bench_shape[i].name : "meta",
		    MDB_CREATE, &dbi);
		f->shape_dbi[i] = dbi;
	}
	prefill = prefill < BENCH_SHAPE_PREFILL_MAX ? prefill : BENCH_SHAPE_PREFILL_MAX;
	for (size_t done = 0; rc == 0 && done < prefill; done++) {
		if (done > 0 && done % BENCH_SHAPE_PREFILL_TXN == 0) {
			rc = mdb_txn_commit(txn);
			txn = NULL;
			if (rc == 0) {
				rc = mdb_txn_begin(f->env, NULL, 0, &txn);
			}
		}
		if (rc == 0) {
			rc = bench_lmdb_shape_puts(f, txn);
			f->txns++; /* checked at close like the measured ones */
		}
	}
	if (rc == 0) {
		rc = mdb_txn_commit(txn);
	} else if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	if (rc != 0) {
		mdb_env_close(f->env);
		f->env = NULL;
		return bench_lmdb_fail("opening the create's tables", rc);
	}
	return 0;
}

/* A create's writes (bench_lmdb_open_shape) into txn. */
static int
bench_lmdb_shape_puts(bench_lmdb_floor *f, MDB_txn *txn)
{
	char id[BENCH_LMDB_KEY_BYTES];
	uint8_t key[128];
	uint64_t seq = f->txns + 1;
	int rc = 0;

	/* time-ordered within a millisecond too? pw_id_new's random tail is
	 * not: a put may land in the last leaf or one before, as the server's */
	pw_id_new(id, sizeof(id), "cs_", pw_now_unix_ms());
	for (size_t i = 0; rc == 0 && i < BENCH_SHAPE_TABLES; i++) {
		MDB_val k;
		MDB_val v = { .mv_size = bench_shape[i].value_bytes, .mv_data = f->shape_value };
		size_t idlen = strlen(id);

		if (bench_shape[i].key_bytes == 8) {
			for (int b = 0; b < 8; b++) {
				key[b] = (uint8_t) (seq >> (56 - 8 * b)); /* big-endian: appends */
			}
			k = (MDB_val){ .mv_size = 8, .mv_data = key };
		} else if (bench_shape[i].key_bytes == 0) {
			k = (MDB_val){ .mv_size = idlen, .mv_data = id };
		} else {
			/* a fixed prefix (merchant, expiry time) then the id: appends */
			size_t pre = bench_shape[i].key_bytes - idlen;
			PW_ASSERT(bench_shape[i].key_bytes > idlen && bench_shape[i].key_bytes <= sizeof(key));
			memset(key, 'm' + (int) i, pre);
			memcpy(key + pre, id, idlen);
			k = (MDB_val){ .mv_size = bench_shape[i].key_bytes, .mv_data = key };
		}
		f->shape_value[0] = (uint8_t) seq; /* values differ, as records do */
		rc = mdb_put(txn, f->shape_dbi[i], &k, &v, 0);
	}
	for (int m = 0; rc == 0 && m < 2; m++) {
		static const char *const names[2] = { "audit_head", "audit_seq" };
		MDB_val k = { .mv_size = strlen(names[m]), .mv_data = (void *) names[m] };
		MDB_val v = { .mv_size = m == 0 ? 32 : 8, .mv_data = f->shape_value + 1 };

		rc = mdb_put(txn, f->shape_dbi[BENCH_SHAPE_TABLES], &k, &v, 0);
	}
	return rc;
}

/* One transaction: begin, puts (time-ordered keys), commit. */
static int
bench_lmdb_txn(bench_lmdb_floor *f)
{
	char key[BENCH_LMDB_KEY_BYTES];
	MDB_val k;
	MDB_val v = { .mv_size = sizeof(f->value), .mv_data = f->value };
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(f->env, NULL, 0, &txn);
	if (rc != 0) {
		return bench_lmdb_fail("mdb_txn_begin", rc);
	}
	if (f->shape) {
		rc = bench_lmdb_shape_puts(f, txn);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return bench_lmdb_fail("mdb_put (a create's writes)", rc);
		}
	}
	for (size_t i = 0; !f->shape && i < f->puts_per_txn; i++) {
		pw_id_new(key, sizeof(key), "cs_", pw_now_unix_ms());
		k.mv_size = strlen(key);
		k.mv_data = key;
		f->value[0] = (uint8_t) i; /* values differ, as records do */
		rc = mdb_put(txn, f->dbi, &k, &v, 0);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return bench_lmdb_fail("mdb_put", rc);
		}
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		return bench_lmdb_fail("mdb_txn_commit", rc);
	}
	f->txns++;
	return 0;
}

int
bench_lmdb_block(void *floor, uint64_t *ns, size_t n)
{
	bench_lmdb_floor *f = floor;
	uint64_t t0;

	PW_ASSERT(f != NULL && f->env != NULL && ns != NULL);
	for (size_t i = 0; i < n; i++) {
		if (bench_interrupted) {
			return -1;
		}
		t0 = bench_now_ns();
		if (bench_lmdb_txn(f) != 0) {
			return -1;
		}
		ns[i] = bench_now_ns() - t0;
	}
	return 0;
}

int
bench_lmdb_close(bench_lmdb_floor *f)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc;

	PW_ASSERT(f != NULL);
	if (f->env == NULL) {
		return 0;
	}
	/* Every put landed (ids are unique): the floor did the work it claims. */
	rc = mdb_txn_begin(f->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0) {
		rc = mdb_stat(txn, f->shape ? f->shape_dbi[BENCH_SHAPE_TABLES - 1] : f->dbi, &st);
		mdb_txn_abort(txn);
	}
	mdb_env_close(f->env);
	f->env = NULL;
	if (rc != 0) {
		return bench_lmdb_fail("mdb_stat", rc);
	}
	if (st.ms_entries != f->txns * f->puts_per_txn) {
		fprintf(stderr, "bench: LMDB floor: %zu entries, %zu put\n", (size_t) st.ms_entries,
		    f->txns * f->puts_per_txn);
		return -1;
	}
	return 0;
}
