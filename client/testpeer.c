/* testpeer.c - the client tests' REP peer (see testpeer.h). */
#include "testpeer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "pw_common.h"

struct testpeer {
	nng_socket sock;                        /* REP socket listening on url */
	pthread_t thread;                       /* serves requests until stop */
	atomic_bool stop;                       /* set by testpeer_stop */
	atomic_uint count;                      /* requests received so far */
	testpeer_fn fn;                         /* the test's handler */
	void *arg;                              /* its argument */
	pthread_mutex_t mu;                     /* guards copies */
	uint8_t *copies[TESTPEER_COPIES_MAX];   /* raw bytes of the first requests */
	size_t copy_lens[TESTPEER_COPIES_MAX];  /* their lengths */
	char dir[64];                           /* mkdtemp directory */
	char url[128];                          /* ipc://<dir>/peer.sock */
};

static void
testpeer_keep(testpeer *p, uint32_t n, const uint8_t *raw, size_t len)
{
	uint8_t *copy;

	if (n == 0 || n > TESTPEER_COPIES_MAX) {
		return;
	}
	copy = malloc(len > 0 ? len : 1);
	PW_ASSERT(copy != NULL);
	memcpy(copy, raw, len);
	pthread_mutex_lock(&p->mu);
	p->copies[n - 1] = copy;
	p->copy_lens[n - 1] = len;
	pthread_mutex_unlock(&p->mu);
}

static void
testpeer_serve_one(testpeer *p, nng_msg *msg)
{
	const uint8_t *raw = nng_msg_body(msg);
	size_t len = nng_msg_len(msg);
	uint32_t n = atomic_fetch_add(&p->count, 1) + 1;
	testpeer_reply r = { 0 };
	Paywire__V1__Request *rq;
	nng_msg *rep;
	int rv;

	testpeer_keep(p, n, raw, len);
	rq = paywire__v1__request__unpack(NULL, len, raw);
	p->fn(p->arg, rq, raw, len, n, &r);
	if (rq != NULL) {
		paywire__v1__request__free_unpacked(rq, NULL);
	}
	if (r.drop_conn) {
		nng_pipe_close(nng_msg_get_pipe(msg));
	}
	if (!r.send || r.drop_conn) {
		free(r.bytes);
		return;
	}
	rv = nng_msg_alloc(&rep, 0);
	PW_ASSERT(rv == 0);
	rv = nng_msg_append(rep, r.bytes, r.len);
	PW_ASSERT(rv == 0);
	free(r.bytes);
	/* REP pairs the reply with the last request it received (the header
	 * nng keeps per socket), so this answers exactly this copy. */
	rv = nng_sendmsg(p->sock, rep, 0);
	if (rv != 0) {
		nng_msg_free(rep); /* the requester went away: nothing to answer */
	}
}

static void *
testpeer_main(void *arg)
{
	testpeer *p = arg;
	nng_msg *msg;
	int rv;

	while (!atomic_load(&p->stop)) {
		rv = nng_recvmsg(p->sock, &msg, 0);
		if (rv == NNG_ETIMEDOUT) {
			continue;
		}
		if (rv != 0) {
			break; /* socket closed */
		}
		testpeer_serve_one(p, msg);
		nng_msg_free(msg);
	}
	return NULL;
}

static testpeer *
testpeer_listen(testpeer *p)
{
	int rv;

	rv = nng_rep0_open(&p->sock);
	if (rv == 0) {
		rv = nng_socket_set_ms(p->sock, NNG_OPT_RECVTIMEO, TESTPEER_POLL_MS);
	}
	if (rv == 0) {
		rv = nng_socket_set_size(p->sock, NNG_OPT_RECVMAXSZ, PW_RPC_MSG_BYTES_MAX);
	}
	if (rv == 0) {
		rv = nng_listen(p->sock, p->url, NULL, 0);
	}
	if (rv != 0) {
		fprintf(stderr, "testpeer: %s: %s\n", p->url, nng_strerror(rv));
		nng_close(p->sock);
		if (p->dir[0] != '\0') {
			rmdir(p->dir);
		}
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	rv = pthread_create(&p->thread, NULL, testpeer_main, p);
	PW_ASSERT(rv == 0);
	return p;
}

static testpeer *
testpeer_alloc(testpeer_fn fn, void *arg)
{
	testpeer *p = calloc(1, sizeof(*p));

	PW_ASSERT(p != NULL && fn != NULL);
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

testpeer *
testpeer_start(testpeer_fn fn, void *arg)
{
	testpeer *p = testpeer_alloc(fn, arg);

	snprintf(p->dir, sizeof(p->dir), "/tmp/pw-client-test.XXXXXX");
	if (mkdtemp(p->dir) == NULL) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	snprintf(p->url, sizeof(p->url), "ipc://%s/peer.sock", p->dir);
	return testpeer_listen(p);
}

testpeer *
testpeer_start_at(testpeer_fn fn, void *arg, const char *url)
{
	testpeer *p = testpeer_alloc(fn, arg);

	PW_ASSERT(strlen(url) < sizeof(p->url));
	snprintf(p->url, sizeof(p->url), "%s", url);
	return testpeer_listen(p);
}

void
testpeer_stop(testpeer *p)
{
	char path[200];

	if (p == NULL) {
		return;
	}
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	nng_close(p->sock);
	for (size_t i = 0; i < TESTPEER_COPIES_MAX; i++) {
		free(p->copies[i]);
	}
	if (p->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/peer.sock", p->dir);
		unlink(path);
		rmdir(p->dir);
	}
	pthread_mutex_destroy(&p->mu);
	free(p);
}

const char *
testpeer_url(const testpeer *p)
{
	return p->url;
}

const char *
testpeer_dir(const testpeer *p)
{
	return p->dir;
}

uint32_t
testpeer_count(const testpeer *p)
{
	return atomic_load(&((testpeer *) p)->count);
}

bool
testpeer_copy(testpeer *p, uint32_t n, uint8_t **bytes, size_t *len)
{
	bool ok = false;

	if (n == 0 || n > TESTPEER_COPIES_MAX) {
		return false;
	}
	pthread_mutex_lock(&p->mu);
	if (p->copies[n - 1] != NULL) {
		*bytes = p->copies[n - 1];
		*len = p->copy_lens[n - 1];
		ok = true;
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

void
testpeer_reply_pack(testpeer_reply *out, const Paywire__V1__Response *rsp)
{
	size_t size = paywire__v1__response__get_packed_size(rsp);

	out->bytes = malloc(size > 0 ? size : 1);
	PW_ASSERT(out->bytes != NULL);
	out->len = paywire__v1__response__pack(rsp, out->bytes);
	PW_ASSERT(out->len == size);
	out->send = true;
}

void
testpeer_reply_status(testpeer_reply *out, const char *request_id, int32_t code,
    const char *message)
{
	Paywire__V1__Response rsp = PAYWIRE__V1__RESPONSE__INIT;
	Paywire__V1__Status st = PAYWIRE__V1__STATUS__INIT;

	st.code = code;
	st.message = (char *) message;
	rsp.request_id = (char *) request_id;
	rsp.status = &st;
	testpeer_reply_pack(out, &rsp);
}
