/*
 * bench_rpc.c - paywire measured the way a merchant's service calls it:
 * libpaywire (include/paywire/client.h) against the real server.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "paywire/v1/paywire.pb-c.h"
#include "pw_common.h"

/* A checkout of 49.00 EUR that sells the "pro" plan: the README's example. */
static const pw_session_params bench_params = {
	.amount_minor = 4900,
	.currency = "EUR",
	.mode = PW_MODE_TEST,
	.customer_email = "bench@example.com",
	.fulfillment = PW_FULFILL_ACCESS_KEY,
	.plan = "pro",
};

static int
bench_rpc_fail(const char *what, const pw_error *err)
{
	fprintf(stderr, "bench: %s: %s: %s\n", what, pw_status_name(err->code), err->message);
	return -1;
}

/* A reply that is OK but not what was asked for stops the run: the numbers
 * would be measuring something else. */
static int
bench_answer_check(bool ok, const char *call)
{
	if (!ok) {
		fprintf(stderr, "bench: %s answered OK with an unexpected session\n", call);
		return -1;
	}
	return 0;
}

int
bench_client_open(pw_client **out, const char *url)
{
	/* No retries: a timed-out call is an error of the run, not a slow sample
	 * hidden behind a re-send. */
	pw_client_opts opts = { .timeout_ms = BENCH_RPC_TIMEOUT_MS, .retries = 0 };
	pw_status st;

	st = pw_client_open(out, url, &opts);
	if (st != PW_OK) {
		fprintf(stderr, "bench: cannot open a client to %s: %s\n", url, pw_status_name(st));
		return -1;
	}
	return 0;
}

int
bench_sessions_seed(pw_client *c, const char *api_key, char (*ids)[64], size_t n)
{
	pw_session s;
	pw_error err;

	PW_ASSERT(c != NULL && api_key != NULL && ids != NULL);
	for (size_t i = 0; i < n; i++) {
		if (pw_session_create(c, api_key, &bench_params, &s, &err) != PW_OK) {
			return bench_rpc_fail("create_session (seed)", &err);
		}
		if (bench_answer_check(s.status == PW_SESSION_CREATED, "create_session") != 0) {
			return -1;
		}
		memcpy(ids[i], s.id, sizeof(s.id));
	}
	return 0;
}

size_t
bench_status_request_pack(const char *session_id, uint8_t *buf, size_t size)
{
	Paywire__V1__Request rq = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	char rid[PW_ID_BYTES(4)];
	size_t packed;
	size_t len;

	/* libpaywire's request_id: "req_" + a time-ordered pw_id_new id. */
	pw_id_new(rid, sizeof(rid), "req_", pw_now_unix_ms());
	gs.session_id = (char *) session_id;
	rq.request_id = rid;
	rq.deadline_ms = BENCH_RPC_TIMEOUT_MS;
	rq.call_case = PAYWIRE__V1__REQUEST__CALL_GET_STATUS;
	rq.get_status = &gs;
	len = paywire__v1__request__get_packed_size(&rq);
	if (len > size) {
		return 0;
	}
	packed = paywire__v1__request__pack(&rq, buf);
	PW_ASSERT(packed == len);
	return len;
}

/* ---- sequential ---- */

static int
bench_status_once(pw_client *c, const char *id)
{
	pw_status_info info;
	pw_error err;

	if (pw_status_get(c, id, &info, &err) != PW_OK) {
		return bench_rpc_fail("get_status", &err);
	}
	return bench_answer_check(strcmp(info.session_id, id) == 0 &&
	        info.status == PW_SESSION_CREATED && info.amount_minor == bench_params.amount_minor,
	    "get_status");
}

int
bench_status_block(void *src, uint64_t *ns, size_t n)
{
	bench_status_src *q = src;
	uint64_t t0;

	PW_ASSERT(q != NULL && q->c != NULL && q->ids != NULL && q->nids > 0 && ns != NULL);
	for (size_t i = 0; i < n; i++) {
		if (bench_interrupted) {
			return -1;
		}
		t0 = bench_now_ns();
		if (bench_status_once(q->c, q->ids[q->next]) != 0) {
			return -1;
		}
		ns[i] = bench_now_ns() - t0;
		q->next = (q->next + 1) % q->nids;
	}
	return 0;
}

static int
bench_create_once(pw_client *c, const char *api_key)
{
	pw_session s;
	pw_error err;

	if (pw_session_create(c, api_key, &bench_params, &s, &err) != PW_OK) {
		return bench_rpc_fail("create_session", &err);
	}
	return bench_answer_check(s.status == PW_SESSION_CREATED &&
	        s.amount_minor == bench_params.amount_minor && s.id[0] != '\0',
	    "create_session");
}

int
bench_create_block(void *src, uint64_t *ns, size_t n)
{
	bench_create_src *q = src;
	uint64_t t0;

	PW_ASSERT(q != NULL && q->c != NULL && q->api_key != NULL && ns != NULL);
	for (size_t i = 0; i < n; i++) {
		if (bench_interrupted) {
			return -1;
		}
		t0 = bench_now_ns();
		if (bench_create_once(q->c, q->api_key) != 0) {
			return -1;
		}
		ns[i] = bench_now_ns() - t0;
		q->created++;
	}
	return 0;
}

/* ---- concurrent ---- */

/* What the workers of one block share. The gate holds them until every one
 * has started, so the block's calls start together. */
typedef struct bench_conc {
	pw_client *c;          /* shared client (thread-safe) */
	const char *api_key;   /* merchant key */
	pthread_mutex_t mu;    /* guards ready and go */
	pthread_cond_t cv;     /* signals ready (to the block) and go (to workers) */
	unsigned ready;        /* workers at the gate */
	bool go;               /* the gate is open */
	atomic_bool stop;      /* a worker failed or the run was interrupted */
} bench_conc;

typedef struct bench_worker {
	bench_conc *conc;      /* shared state */
	pthread_t thread;      /* this worker */
	uint64_t *ns;          /* its slice of the samples */
	size_t n;              /* calls to make */
	int rv;                /* 0, or -1 after a failed call (message printed) */
} bench_worker;

static void
bench_gate_wait(bench_conc *k)
{
	pthread_mutex_lock(&k->mu);
	k->ready++;
	pthread_cond_broadcast(&k->cv);
	while (!k->go) {
		pthread_cond_wait(&k->cv, &k->mu);
	}
	pthread_mutex_unlock(&k->mu);
}

static void *
bench_worker_main(void *arg)
{
	bench_worker *w = arg;
	bench_conc *k = w->conc;
	uint64_t t0;

	bench_gate_wait(k);
	for (size_t i = 0; i < w->n && w->rv == 0; i++) {
		if (atomic_load(&k->stop) || bench_interrupted) {
			w->rv = -1;
			break;
		}
		t0 = bench_now_ns();
		w->rv = bench_create_once(k->c, k->api_key);
		w->ns[i] = bench_now_ns() - t0;
	}
	if (w->rv != 0) {
		atomic_store(&k->stop, true);
	}
	return NULL;
}

/* Starts the workers, n calls split evenly; returns how many started. */
static unsigned
bench_workers_start(bench_worker *w, unsigned threads, bench_conc *k, uint64_t *ns, size_t n)
{
	size_t off = 0;
	unsigned i;
	int rv;

	for (i = 0; i < threads; i++) {
		w[i].conc = k;
		w[i].ns = ns + off;
		w[i].n = n / threads + (i < n % threads ? 1 : 0);
		off += w[i].n;
		rv = pthread_create(&w[i].thread, NULL, bench_worker_main, &w[i]);
		if (rv != 0) {
			fprintf(stderr, "bench: pthread_create: %s\n", strerror(rv));
			break;
		}
	}
	PW_ASSERT(i < threads || off == n);
	return i;
}

/* Waits until every started worker is at the gate, then lets them all go
 * (or stop, when not all could start). */
static void
bench_gate_open(bench_conc *k, unsigned started, unsigned threads)
{
	pthread_mutex_lock(&k->mu);
	while (k->ready < started) {
		pthread_cond_wait(&k->cv, &k->mu);
	}
	if (started < threads) {
		atomic_store(&k->stop, true);
	}
	k->go = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

int
bench_create_concurrent_block(void *src, uint64_t *ns, size_t n)
{
	bench_conc_src *q = src;
	bench_conc k = { .c = NULL };
	bench_worker *w;
	unsigned started;
	int rv = 0;

	PW_ASSERT(q != NULL && q->c != NULL && q->api_key != NULL && ns != NULL);
	PW_ASSERT(q->threads > 0 && q->threads <= BENCH_THREADS_MAX);
	k.c = q->c;
	k.api_key = q->api_key;
	w = calloc(q->threads, sizeof(*w));
	if (w == NULL) {
		fprintf(stderr, "bench: out of memory for %u workers\n", q->threads);
		return -1;
	}
	pthread_mutex_init(&k.mu, NULL);
	pthread_cond_init(&k.cv, NULL);
	atomic_init(&k.stop, false);
	started = bench_workers_start(w, q->threads, &k, ns, n);
	bench_gate_open(&k, started, q->threads);
	for (unsigned i = 0; i < started; i++) {
		pthread_join(w[i].thread, NULL);
		rv = w[i].rv != 0 ? -1 : rv;
	}
	if (started < q->threads || atomic_load(&k.stop)) {
		rv = -1;
	}
	if (rv == 0) {
		q->created += n;
	}
	pthread_cond_destroy(&k.cv);
	pthread_mutex_destroy(&k.mu);
	free(w);
	return rv;
}
