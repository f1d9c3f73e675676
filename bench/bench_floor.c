/*
 * bench_floor.c - the floors of paywire-bench, measured in the same run:
 * an nng REQ/REP echo (the transport alone) and raw LMDB commits (the disk
 * alone). They are what paywire could not go below on this machine.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lmdb.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "bench.h"
#include "pw_common.h"

#define BENCH_ECHO_TIMEOUT_MS 5000          /* one echo round trip, send or receive */
#define BENCH_LMDB_MAP_BYTES (8ull << 30)   /* sparse; far above what --n can write */
#define BENCH_LMDB_KEY_BYTES PW_ID_BYTES(3) /* "cs_" ids, as the sessions db */

/* ---- nng echo ---- */

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

/* warmup unmeasured round trips, then n measured ones into ns[]. */
static int
bench_echo_loop(nng_socket req, const void *msg, size_t len, uint64_t *ns, size_t n,
    size_t warmup, bench_mark *begin, bench_mark *end)
{
	uint64_t t0;
	uint64_t t1;

	for (size_t i = 0; i < warmup && !bench_interrupted; i++) {
		if (bench_echo_once(req, msg, len) != 0) {
			return -1;
		}
	}
	bench_mark_take(begin);
	for (size_t i = 0; i < n; i++) {
		if (bench_interrupted) {
			return -1;
		}
		t0 = bench_now_ns();
		if (bench_echo_once(req, msg, len) != 0) {
			return -1;
		}
		t1 = bench_now_ns();
		ns[i] = t1 - t0;
	}
	bench_mark_take(end);
	return 0;
}

int
bench_echo_run(const char *url, const void *msg, size_t len, size_t n, size_t warmup,
    bench_result *out)
{
	char dial_url[BENCH_PATH_BYTES];
	bench_echo e;
	nng_socket req;
	bench_mark begin;
	bench_mark end;
	uint64_t *ns;
	int rv;

	PW_ASSERT(url != NULL && msg != NULL && len > 0 && n > 0 && out != NULL);
	ns = calloc(n, sizeof(*ns));
	if (ns == NULL) {
		fprintf(stderr, "bench: out of memory for %zu samples\n", n);
		return -1;
	}
	rv = bench_echo_start(&e, url, dial_url, sizeof(dial_url));
	if (rv == 0) {
		rv = bench_req_open(&req, dial_url);
		if (rv == 0) {
			rv = bench_echo_loop(req, msg, len, ns, n, warmup, &begin, &end);
			nng_close(req);
		}
		bench_echo_stop(&e, BENCH_ECHO_CONTEXTS);
	}
	if (rv == 0) {
		PW_ASSERT(atomic_load(&e.echoed) >= (long) (n + warmup));
		bench_result_compute(out, ns, n, n, &begin, &end);
	}
	free(ns);
	return rv;
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

/* Opens an environment in dir (created 0700) with one named db, as the
 * store keeps its sessions in a named db. */
static int
bench_lmdb_open(const char *dir, const char *sync, MDB_env **env, MDB_dbi *dbi)
{
	MDB_txn *txn;
	int rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "bench: mkdir %s: %s\n", dir, strerror(errno));
		return -1;
	}
	rc = mdb_env_create(env);
	if (rc != 0) {
		return bench_lmdb_fail("mdb_env_create", rc);
	}
	rc = mdb_env_set_mapsize(*env, (size_t) BENCH_LMDB_MAP_BYTES);
	if (rc == 0) {
		rc = mdb_env_set_maxdbs(*env, 1);
	}
	if (rc == 0) {
		rc = mdb_env_open(*env, dir, MDB_NOTLS | bench_lmdb_flags(sync), 0600);
	}
	if (rc == 0) {
		rc = mdb_txn_begin(*env, NULL, 0, &txn);
		if (rc == 0) {
			rc = mdb_dbi_open(txn, "sessions", MDB_CREATE, dbi);
			if (rc == 0) {
				rc = mdb_txn_commit(txn);
			} else {
				mdb_txn_abort(txn);
			}
		}
	}
	if (rc != 0) {
		mdb_env_close(*env);
		return bench_lmdb_fail("opening the environment", rc);
	}
	return 0;
}

/* One transaction: begin, puts x (time-ordered key, value), commit. */
static int
bench_lmdb_txn(MDB_env *env, MDB_dbi dbi, size_t puts, uint8_t *value)
{
	char key[BENCH_LMDB_KEY_BYTES];
	MDB_val k;
	MDB_val v = { .mv_size = BENCH_VALUE_BYTES, .mv_data = value };
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc != 0) {
		return bench_lmdb_fail("mdb_txn_begin", rc);
	}
	for (size_t i = 0; i < puts; i++) {
		pw_id_new(key, sizeof(key), "cs_", pw_now_unix_ms());
		k.mv_size = strlen(key);
		k.mv_data = key;
		value[0] = (uint8_t) i; /* values differ, as records do */
		rc = mdb_put(txn, dbi, &k, &v, 0);
		if (rc != 0) {
			mdb_txn_abort(txn);
			return bench_lmdb_fail("mdb_put", rc);
		}
	}
	rc = mdb_txn_commit(txn);
	return rc == 0 ? 0 : bench_lmdb_fail("mdb_txn_commit", rc);
}

static int
bench_lmdb_loop(MDB_env *env, MDB_dbi dbi, size_t txns, size_t puts, size_t warmup,
    uint64_t *ns, bench_mark *begin, bench_mark *end)
{
	uint8_t value[BENCH_VALUE_BYTES];
	uint64_t t0;

	pw_random(value, sizeof(value)); /* incompressible, like packed records */
	for (size_t i = 0; i < warmup && !bench_interrupted; i++) {
		if (bench_lmdb_txn(env, dbi, puts, value) != 0) {
			return -1;
		}
	}
	bench_mark_take(begin);
	for (size_t i = 0; i < txns; i++) {
		if (bench_interrupted) {
			return -1;
		}
		t0 = bench_now_ns();
		if (bench_lmdb_txn(env, dbi, puts, value) != 0) {
			return -1;
		}
		ns[i] = bench_now_ns() - t0;
	}
	bench_mark_take(end);
	return 0;
}

/* Entries in dbi (a read txn). */
static size_t
bench_lmdb_entries(MDB_env *env, MDB_dbi dbi)
{
	MDB_txn *txn;
	MDB_stat st;
	int rc;

	rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	PW_ASSERT(rc == 0); /* a reader slot is free: we are the only user */
	rc = mdb_stat(txn, dbi, &st);
	mdb_txn_abort(txn);
	PW_ASSERT(rc == 0);
	return st.ms_entries;
}

int
bench_lmdb_run(const char *dir, const char *sync, size_t txns, size_t puts_per_txn,
    size_t warmup, bench_result *out)
{
	MDB_env *env;
	MDB_dbi dbi;
	bench_mark begin;
	bench_mark end;
	uint64_t *ns;
	int rv;

	PW_ASSERT(dir != NULL && sync != NULL && out != NULL);
	PW_ASSERT(txns > 0 && puts_per_txn > 0);
	ns = calloc(txns, sizeof(*ns));
	if (ns == NULL) {
		fprintf(stderr, "bench: out of memory for %zu samples\n", txns);
		return -1;
	}
	rv = bench_lmdb_open(dir, sync, &env, &dbi);
	if (rv == 0) {
		rv = bench_lmdb_loop(env, dbi, txns, puts_per_txn, warmup, ns, &begin, &end);
		if (rv == 0) {
			/* Every put landed (ids are unique): the floor did the work. */
			PW_ASSERT(bench_lmdb_entries(env, dbi) == (txns + warmup) * puts_per_txn);
		}
		mdb_env_close(env);
	}
	if (rv == 0) {
		bench_result_compute(out, ns, txns, txns * puts_per_txn, &begin, &end);
	}
	free(ns);
	return rv;
}
