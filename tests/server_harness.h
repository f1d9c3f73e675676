/*
 * server_harness.h - helpers for the server tests (tests/server_*_test.c).
 *
 * - th_server: a real paywire server in this process (store_open in a
 *   mkdtemp dir, srv_env, srv_rpc on ipc://<dir>/rpc.sock).
 * - th_proc: the built paywire-server binary as a child process, on
 *   ipc://<dir>/rpc.sock.
 * - th_*: raw nng REQ sockets + protobuf-c, no libpaywire.
 * Every helper asserts with cmocka; every wait is on a condition, bounded by
 * TW_HANG_MS (tests/test_wait.h), which only a hang reaches.
 */
#ifndef SERVER_HARNESS_H
#define SERVER_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "paywire/v1/paywire.pb-c.h"
#include "srv_dispatch.h"
#include "srv_rpc.h"
#include "srv_webhook.h"
#include "store.h"
#include "test_wait.h"

#define TH_ADMIN_KEY "adm_test_0123456789abcdef0123456789"
#define TH_STRIPE_SECRET "whsec_test_paywire_fixture_secret"
/* Test builds: the fake provider's Standard Webhooks secret; its key is the
 * 32 bytes of TH_FAKE_KEY. */
#define TH_FAKE_KEY "paywire-fake-provider-key-00001!"
#define TH_FAKE_SECRET "whsec_cGF5d2lyZS1mYWtlLXByb3ZpZGVyLWtleS0wMDAwMSE="
#define TH_DIR_BYTES 64
#define TH_PATH_BYTES 256

typedef struct th_server {
	char dir[TH_DIR_BYTES];    /* mkdtemp data dir (removed by stop) */
	char url[TH_PATH_BYTES];   /* ipc://<dir>/rpc.sock */
	store *st;                 /* open store */
	srv_webhook_config wh;     /* webhook secrets (Stripe fixture; test builds: the fake) */
	srv_env env;               /* dispatch state */
	srv_rpc *rpc;              /* REP server */
} th_server;

/* Starts a server; writer_delay_ms > 0 sets store_test_set_writer_delay_ms. */
void th_server_start(th_server *s, uint32_t contexts, uint32_t writer_delay_ms);
/* Stops in the documented order and removes the data dir. */
void th_server_stop(th_server *s);

/* The fixture most server tests share: an in-process server, one REQ socket
 * to it (TW_HANG_MS receive timeout, nng's resend off) and a test-mode merchant. */
typedef struct th_env {
	th_server srv;   /* in-process server */
	nng_socket sock; /* REQ socket to it */
	char key[128];   /* the merchant's raw API key */
	char mid[64];    /* its merchant id */
} th_env;

/* Starts e's server with `contexts` contexts, opens the socket, creates the
 * merchant; a failure fails the test. */
void th_env_start(th_env *e, uint32_t contexts);
/* Closes the socket and stops the server (removing its data dir). */
void th_env_stop(th_env *e);

typedef struct th_proc {
	char dir[TH_DIR_BYTES];    /* mkdtemp dir; data in <dir>/data */
	char data[TH_PATH_BYTES];  /* <dir>/data */
	char url[TH_PATH_BYTES];   /* ipc://<dir>/rpc.sock */
	char log[TH_PATH_BYTES];   /* <dir>/server.log (stdout+stderr) */
	pid_t pid;                 /* child pid, 0 when not running */
} th_proc;

/* Makes the temp dir (no process yet). */
void th_proc_init(th_proc *p);
/* Starts paywire-server on p's data and url, with extra flags (NULL-ended),
 * and waits (TW_HANG_MS) until it answers get_status. */
void th_proc_start(th_proc *p, const char *const *extra);
/* Sends sig and waits (TW_HANG_MS) for the exit; returns the wait status. */
int th_proc_stop(th_proc *p, int sig);
/* VmRSS of the child in KiB. */
long th_proc_rss_kib(const th_proc *p);
/* Removes the temp dir. */
void th_proc_fini(th_proc *p);
/* Path of the built binary. */
const char *th_server_bin(void);

/* Raw SP-over-IPC client (no nng): connects to the ipc:// path, exchanges
 * the SP handshake as a REQ peer, sends one message (a 4-byte request id
 * header + body) and waits up to timeout_ms. Returns 1 and the reply body
 * (*out, *out_len; free()) when a reply came, 0 when the server closed the
 * connection without replying, -1 on timeout. Used for frames that make the
 * server drop the connection: nng 1.5.2's own REQ socket can hang in
 * nng_close() after its pipe was dropped mid-send. */
int th_raw_ipc_call(const char *url, const uint8_t *body, size_t len, int timeout_ms,
    uint8_t **out, size_t *out_len);

/* The same, step by step, for a test that sends one request several times
 * on one connection (as nng's REQ re-sends it: same bytes, same request id):
 * th_raw_ipc_open connects and exchanges the handshake before deadline_ms
 * (monotonic, pw_monotonic_ms) and returns the fd (close() it);
 * th_raw_ipc_send sends body with request_id (high bit set), false when the
 * server closed; th_raw_ipc_recv reads one reply, returning as
 * th_raw_ipc_call does. */
int th_raw_ipc_open(const char *url, int64_t deadline_ms);
bool th_raw_ipc_send(int fd, uint32_t request_id, const uint8_t *body, size_t len);
int th_raw_ipc_recv(int fd, int64_t deadline_ms, uint8_t **out, size_t *out_len);

/* A REQ socket dialed to url, with recv timeout and resend time (0: nng's
 * default; <0: infinite). */
nng_socket th_req_open(const char *url, int recv_timeout_ms, int resend_ms);
/* Sends buf, receives a reply. Returns nng's status (0, NNG_ETIMEDOUT...);
 * on 0, *out and *out_len hold the reply (free with free()). */
int th_call_raw(nng_socket s, const uint8_t *buf, size_t len, uint8_t **out, size_t *out_len);
/* Packs req, calls, unpacks the reply (asserts it unpacks). NULL on an nng
 * error (returned in *nng_rv when not NULL). Free with th_resp_free. */
Paywire__V1__Response *th_call(nng_socket s, const Paywire__V1__Request *req, int *nng_rv);
void th_resp_free(Paywire__V1__Response *r);
/* Packs a message into a malloc'd buffer. */
uint8_t *th_pack(const ProtobufCMessage *m, size_t *len);

/* Creates a merchant with the admin key; fills api_key (>= 128) and
 * merchant_id (>= 64). */
void th_merchant_create(nng_socket s, Paywire__V1__Mode mode, char *api_key, char *merchant_id);
/* A valid CreateSessionRequest (amount, EUR, TEST), in caller memory. */
void th_session_req_init(Paywire__V1__CreateSessionRequest *cs, int64_t amount);
/* Sends create_session and returns the reply (asserts nng ok). */
Paywire__V1__Response *th_create_session(nng_socket s, const char *api_key, const char *request_id,
    Paywire__V1__CreateSessionRequest *cs);
/* A fresh unique request id "req_<counter>_<random>". */
void th_request_id(char *out, size_t out_size);

#endif
