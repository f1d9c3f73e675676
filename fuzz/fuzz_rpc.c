/*
 * fuzz_rpc.c - the RPC path in process: one input is one nng message body,
 * handed to srv_dispatch_handle as srv_rpc.c does (wire validator, unpack,
 * call table, request_id, auth, validation, then the read or the queued
 * write through the real store writer), against a temp LMDB store made once
 * (sync none: durability is not what this target tests) with an admin key
 * and the Stripe fixture secret, as tests/server_harness.c sets up.
 * A queued write is waited for (the done callback). Every frame must get a
 * reply that unpacks as a Response echoing a status; anything else aborts.
 */
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paywire/v1/paywire.pb-c.h"
#include "srv_dispatch.h"
#include "srv_webhook.h"
#include "store.h"

#define FZ_ADMIN_KEY "adm_test_0123456789abcdef0123456789"

static struct {
	store *st;
	srv_webhook_config wh;
	srv_env env;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
} fz = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void
fz_done(srv_call *c, void *arg)
{
	(void) c;
	(void) arg;
	pthread_mutex_lock(&fz.mu);
	fz.done = true;
	pthread_cond_signal(&fz.cv);
	pthread_mutex_unlock(&fz.mu);
}

static char fz_dir[] = "/tmp/pw-fuzz-rpc-XXXXXX";

static int
fz_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

/* The temp store goes with the process (LMDB's files may be unlinked while
 * open): libFuzzer and the replay main both end through exit(). */
static void
fz_cleanup(void)
{
	(void) nftw(fz_dir, fz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	store_opts o;

	(void) argc;
	(void) argv;
	if (pw_common_init() != 0 || mkdtemp(fz_dir) == NULL) {
		abort();
	}
	(void) atexit(fz_cleanup);
	pw_log_set_level(PW_LOG_ERROR);
	memset(&o, 0, sizeof(o));
	o.dir = fz_dir;
	o.sync = STORE_SYNC_NONE;
	if (store_open(&fz.st, &o) != PW_OK) {
		abort();
	}
	srv_webhook_config_init(&fz.wh);
	if (srv_webhook_config_add_secret(&fz.wh, PW_PROVIDER_STRIPE,
	        "whsec_test_paywire_fixture_secret") != PW_OK ||
	    srv_env_init(&fz.env, fz.st, &fz.wh, FZ_ADMIN_KEY, "http://127.0.0.1:8080/") != PW_OK) {
		abort();
	}
	/* The store stays open for the process's life: libFuzzer exits from
	 * its own code; fz_cleanup removes the dir (fuzz.sh too, after a crash). */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	srv_call c;
	Paywire__V1__Response *resp;

	srv_call_init(&c, &fz.env, fz_done, NULL);
	fz.done = false;
	if (srv_dispatch_handle(&c, size > 0 ? data : NULL, size) == SRV_CALL_QUEUED) {
		pthread_mutex_lock(&fz.mu);
		while (!fz.done) {
			pthread_cond_wait(&fz.cv, &fz.mu);
		}
		pthread_mutex_unlock(&fz.mu);
	}
	if (c.reply == NULL) {
		abort(); /* only an allocation failure may leave no reply */
	}
	resp = paywire__v1__response__unpack(NULL, c.reply_len, c.reply);
	if (resp == NULL || resp->status == NULL) {
		abort();
	}
	paywire__v1__response__free_unpacked(resp, NULL);
	srv_call_reset(&c);
	return 0;
}
