/*
 * bench_preload.c - --preload N: N sessions written straight into the
 * server's data directory through the store interface (no RPC, no server
 * yet), BENCH_PRELOAD_BATCH per transaction, without fsync until the end
 * (one sync(2) then). They are the same records create_session writes
 * (store_session_create: session, audit record, indexes), of a merchant of
 * their own, so the server then runs on a store of that size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bench.h"
#include "pw_common.h"
#include "store.h"

#define BENCH_PRELOAD_BATCH 2000u /* sessions per transaction */

typedef struct bench_preload_txn {
	char merchant_id[64];      /* the preload's merchant (made by the first txn) */
	uint64_t first;            /* index of the first session of this txn */
	uint64_t count;            /* sessions in it */
	uint64_t n;                /* all of them */
	char (*sample)[64];        /* every step-th session's id is kept here */
	size_t nsample;
	uint64_t step;
} bench_preload_txn;

static pw_status
bench_preload_merchant(store_txn *t, void *arg)
{
	bench_preload_txn *p = arg;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	char raw[128];
	pw_status st;

	st = store_merchant_create(t, "paywire-bench preload", PAYWIRE__STORE__V1__MODE__MODE_TEST,
	    &m, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw)); /* the preload's sessions are never called for */
	if (st == PW_OK) {
		pw_strlcpy(p->merchant_id, m->merchant_id, sizeof(p->merchant_id));
		paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	}
	return st;
}

static pw_status
bench_preload_sessions(store_txn *t, void *arg)
{
	bench_preload_txn *p = arg;
	Paywire__Store__V1__Fulfillment ful = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	store_session_params sp = { 0 };
	uint8_t hash[32];

	ful.kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	ful.plan = "pro";
	sp.amount_minor = BENCH_SESSION_AMOUNT;
	sp.currency = "EUR";
	sp.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	sp.customer_email = "bench@example.com";
	sp.fulfillment = &ful;
	for (uint64_t i = 0; i < p->count; i++) {
		Paywire__Store__V1__SessionRecord *rec = NULL;
		uint64_t k = p->first + i;
		pw_status st;

		pw_random(hash, sizeof(hash)); /* no idempotency key: never compared */
		st = store_session_create(t, p->merchant_id, &sp, hash, NULL, &rec);
		if (st != PW_OK) {
			return st;
		}
		if (p->nsample > 0 && k % p->step == 0 && k / p->step < p->nsample) {
			pw_strlcpy(p->sample[k / p->step], rec->session->id, 64);
		}
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	return PW_OK;
}

int
bench_preload(const char *dir, const char *token_secret, uint64_t map_bytes, uint64_t n,
    char (*sample)[64], size_t nsample, double *secs)
{
	store_opts o = { .dir = dir, .map_size_bytes = map_bytes, .sync = STORE_SYNC_NONE,
		.token_secret = token_secret };
	bench_preload_txn p = { .n = n, .sample = sample, .nsample = nsample };
	uint64_t t0 = bench_now_ns();
	uint64_t last_print = t0;
	store *s = NULL;
	pw_status st;

	PW_ASSERT(dir != NULL && n > 0 && (nsample == 0 || sample != NULL));
	p.step = nsample > 0 && n > nsample ? n / nsample : 1;
	if (store_open(&s, &o) != PW_OK) {
		fprintf(stderr, "bench: --preload: cannot open a store in %s\n", dir);
		return -1;
	}
	st = store_apply_sync(s, bench_preload_merchant, &p);
	for (uint64_t done = 0; st == PW_OK && done < n && !bench_interrupted;) {
		p.first = done;
		p.count = n - done < BENCH_PRELOAD_BATCH ? n - done : BENCH_PRELOAD_BATCH;
		st = store_apply_sync(s, bench_preload_sessions, &p);
		done += p.count;
		if (isatty(STDERR_FILENO) && bench_now_ns() - last_print > 200000000u) {
			last_print = bench_now_ns();
			fprintf(stderr, "\r  preload %llu of %llu sessions", (unsigned long long) done,
			    (unsigned long long) n);
		}
	}
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r\033[K");
	}
	store_close(s);
	sync(); /* written without fsync: on disk before the server opens it */
	if (st != PW_OK || bench_interrupted) {
		fprintf(stderr, "bench: --preload: %s\n", pw_status_name(st));
		return -1;
	}
	*secs = (double) (bench_now_ns() - t0) / 1e9;
	return 0;
}
