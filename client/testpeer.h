/*
 * testpeer.h - an in-test stand-in for paywire-server's socket, used by the
 * client tests only (never linked into libpaywire or the CLI).
 *
 * A testpeer is a real nng REP socket listening on ipc:// in a fresh mkdtemp
 * directory, served by one thread. For each request it keeps a copy of the
 * raw bytes, decodes it with protobuf-c and asks the test's handler what to
 * answer: a packed paywire.v1.Response, arbitrary bytes, or nothing at all.
 * It is not a fake server: it speaks the wire contract and nothing more, so
 * the library is tested over real nng transport.
 *
 * Threads: testpeer_start/stop from the test's main thread; the handler runs
 * on the peer thread; testpeer_count/testpeer_copy from any thread.
 * Limits: the first TESTPEER_COPIES_MAX requests are kept; every receive waits
 * at most TESTPEER_POLL_MS so stop is prompt.
 */
#ifndef PW_CLIENT_TESTPEER_H
#define PW_CLIENT_TESTPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "paywire/v1/paywire.pb-c.h"

#define TESTPEER_COPIES_MAX 64
#define TESTPEER_POLL_MS 20

typedef struct testpeer testpeer;

/* What the handler wants sent back. */
typedef struct testpeer_reply {
	bool send;          /* false: stay silent (the client will time out) */
	uint8_t *bytes;     /* reply body, malloc'd by the handler; the peer frees it */
	size_t len;         /* its length */
	bool drop_conn;     /* true: close the connection instead of answering */
} testpeer_reply;

/* rq is NULL when the request did not decode. copy_no counts requests from 1. */
typedef void (*testpeer_fn)(void *arg, const Paywire__V1__Request *rq, const uint8_t *raw,
    size_t raw_len, uint32_t copy_no, testpeer_reply *out);

/* Starts a peer; *url_out (owned by the peer) is its ipc:// address. Returns
 * NULL on failure (the test fails). */
testpeer *testpeer_start(testpeer_fn fn, void *arg);
/* Same, listening on url (the caller owns its directory). */
testpeer *testpeer_start_at(testpeer_fn fn, void *arg, const char *url);
/* Stops the thread, closes the socket, removes the temp dir, frees. */
void testpeer_stop(testpeer *p);
const char *testpeer_url(const testpeer *p);
/* The temp dir of the peer (tests may put files there). */
const char *testpeer_dir(const testpeer *p);
uint32_t testpeer_count(const testpeer *p);
/* The n-th request's raw bytes (n from 1); false if not kept. */
bool testpeer_copy(testpeer *p, uint32_t n, uint8_t **bytes, size_t *len);

/* Packs rsp into a malloc'd reply (helper for handlers). */
void testpeer_reply_pack(testpeer_reply *out, const Paywire__V1__Response *rsp);
/* A reply with just request_id and a status (code, message). */
void testpeer_reply_status(testpeer_reply *out, const char *request_id, int32_t code,
    const char *message);

#endif
