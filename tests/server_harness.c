/*
 * server_harness.c - see server_harness.h.
 */
#include "server_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/req.h>

#include "test_wait.h"

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	if (dir[0] != '\0') {
		(void) nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	}
}

void
th_server_start(th_server *s, uint32_t contexts, uint32_t writer_delay_ms)
{
	const char *url;
	store_opts o;
	srv_rpc_opts ro;
	char why[256];

	memset(s, 0, sizeof(*s));
	assert_int_equal(0, pw_common_init());
	(void) pw_strlcpy(s->dir, "/tmp/pw-srv-XXXXXX", sizeof(s->dir));
	assert_non_null(mkdtemp(s->dir));
	(void) snprintf(s->url, sizeof(s->url), "ipc://%s/rpc.sock", s->dir);
	memset(&o, 0, sizeof(o));
	o.dir = s->dir;
	o.sync = STORE_SYNC_NONE; /* durability is tested with the binary */
	assert_int_equal(PW_OK, store_open(&s->st, &o));
	if (writer_delay_ms > 0) {
		store_test_set_writer_delay_ms(s->st, writer_delay_ms);
	}
	srv_webhook_config_init(&s->wh);
	assert_int_equal(PW_OK,
	    srv_webhook_config_add_secret(&s->wh, PW_PROVIDER_STRIPE, TH_STRIPE_SECRET));
#ifdef PW_TEST_HOOKS
	assert_int_equal(PW_OK,
	    srv_webhook_config_add_secret(&s->wh, PW_PROVIDER_FAKE, TH_FAKE_SECRET));
#endif
	assert_int_equal(PW_OK,
	    srv_env_init(&s->env, s->st, &s->wh, TH_ADMIN_KEY, "http://127.0.0.1:8080/"));
	url = s->url;
	ro.listen_urls = &url;
	ro.listen_count = 1;
	ro.contexts = contexts;
	assert_int_equal(PW_OK, srv_rpc_start(&s->rpc, &ro, &s->env, why, sizeof(why)));
}

void
th_server_stop(th_server *s)
{
	assert_int_equal(0, (int) srv_rpc_quiesce(s->rpc, TW_HANG_MS));
	store_close(s->st);
	srv_rpc_destroy(s->rpc);
	srv_env_fini(&s->env);
	srv_webhook_config_fini(&s->wh);
	rm_rf(s->dir);
	memset(s, 0, sizeof(*s));
}

const char *
th_server_bin(void)
{
	return PW_BINARY_DIR "/server/paywire-server";
}

void
th_proc_init(th_proc *p)
{
	memset(p, 0, sizeof(*p));
	(void) pw_strlcpy(p->dir, "/tmp/pw-proc-XXXXXX", sizeof(p->dir));
	assert_non_null(mkdtemp(p->dir));
	(void) snprintf(p->data, sizeof(p->data), "%s/data", p->dir);
	(void) snprintf(p->url, sizeof(p->url), "ipc://%s/rpc.sock", p->dir);
	(void) snprintf(p->log, sizeof(p->log), "%s/server.log", p->dir);
}

static void
dump_log(const th_proc *p)
{
	char line[512];
	FILE *f = fopen(p->log, "r");

	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		fprintf(stderr, "  server.log: %s", line);
	}
	(void) fclose(f);
}

static bool
proc_answers(const th_proc *p)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__GetStatusRequest gs = PAYWIRE__V1__GET_STATUS_REQUEST__INIT;
	Paywire__V1__Response *resp;
	nng_socket s;
	bool ok;

	if (nng_req0_open(&s) != 0) {
		return false;
	}
	/* A probe: a slow answer is asked again by th_proc_start's loop. */
	(void) nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 1000);
	(void) nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 1000);
	if (nng_dial(s, p->url, NULL, 0) != 0) {
		(void) nng_close(s);
		return false;
	}
	gs.session_id = (char *) "cs_probe";
	req.call_case = PAYWIRE__V1__REQUEST__CALL_GET_STATUS;
	req.get_status = &gs;
	resp = th_call(s, &req, NULL);
	ok = resp != NULL && resp->status != NULL && resp->status->code == 5;
	th_resp_free(resp);
	(void) nng_close(s);
	return ok;
}

void
th_proc_start(th_proc *p, const char *const *extra)
{
	const char *argv[32];
	int n = 0;
	int status;

	argv[n++] = th_server_bin();
	argv[n++] = "--data";
	argv[n++] = p->data;
	argv[n++] = "--listen";
	argv[n++] = p->url;
	argv[n++] = "--log-level";
	argv[n++] = "info";
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 31; i++) {
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		/* The server dies with the test, even when a failed assert or a
		 * ctest timeout skips th_proc_fini. */
		(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			(void) dup2(fd, 1);
			(void) dup2(fd, 2);
		}
		execv(argv[0], (char *const *) argv);
		_exit(127);
	}
	for (int64_t end = tw_now_ms() + TW_HANG_MS; tw_now_ms() < end; tw_sleep_ms(50)) {
		if (proc_answers(p)) {
			return;
		}
		if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
			p->pid = 0;
			dump_log(p);
			fail_msg("paywire-server exited during start (status %d)", status);
		}
	}
	dump_log(p);
	fail_msg("paywire-server did not answer within %d ms", TW_HANG_MS);
}

int
th_proc_stop(th_proc *p, int sig)
{
	int status = -1;

	assert_true(p->pid > 0);
	assert_int_equal(0, kill(p->pid, sig));
	for (int64_t end = tw_now_ms() + TW_HANG_MS; tw_now_ms() < end; tw_sleep_ms(10)) {
		pid_t w = waitpid(p->pid, &status, WNOHANG);
		if (w == p->pid) {
			p->pid = 0;
			return status;
		}
	}
	(void) kill(p->pid, SIGKILL);
	(void) waitpid(p->pid, &status, 0);
	p->pid = 0;
	dump_log(p);
	fail_msg("paywire-server did not exit within %d ms of signal %d", TW_HANG_MS, sig);
	return status;
}

long
th_proc_rss_kib(const th_proc *p)
{
	char path[64];
	char line[256];
	long kib = -1;
	FILE *f;

	(void) snprintf(path, sizeof(path), "/proc/%d/status", (int) p->pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
		}
	}
	(void) fclose(f);
	assert_true(kib > 0);
	return kib;
}

void
th_proc_fini(th_proc *p)
{
	if (p->pid > 0) {
		(void) kill(p->pid, SIGKILL);
		(void) waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
	rm_rf(p->dir);
}

nng_socket
th_req_open(const char *url, int recv_timeout_ms, int resend_ms)
{
	nng_socket s;

	assert_int_equal(0, nng_req0_open(&s));
	assert_int_equal(0, nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, recv_timeout_ms));
	/* A REQ send waits for a connected pipe: bound it, so a test fails
	 * instead of hanging when the server has gone. */
	assert_int_equal(0, nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, TW_HANG_MS));
	if (resend_ms != 0) {
		assert_int_equal(0, nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME,
		                        resend_ms < 0 ? NNG_DURATION_INFINITE : resend_ms));
	}
	assert_int_equal(0, nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, PW_RPC_MSG_BYTES_MAX));
	assert_int_equal(0, nng_dial(s, url, NULL, 0));
	return s;
}

int
th_call_raw(nng_socket s, const uint8_t *buf, size_t len, uint8_t **out, size_t *out_len)
{
	void *rbuf = NULL;
	size_t rlen = 0;
	int rv;

	rv = nng_send(s, (void *) buf, len, 0);
	if (rv != 0) {
		return rv;
	}
	rv = nng_recv(s, &rbuf, &rlen, NNG_FLAG_ALLOC);
	if (rv != 0) {
		return rv;
	}
	*out = malloc(rlen > 0 ? rlen : 1);
	assert_non_null(*out);
	memcpy(*out, rbuf, rlen);
	*out_len = rlen;
	nng_free(rbuf, rlen);
	return 0;
}

uint8_t *
th_pack(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n > 0 ? n : 1);

	assert_non_null(buf);
	assert_int_equal(n, protobuf_c_message_pack(m, buf));
	*len = n;
	return buf;
}

Paywire__V1__Response *
th_call(nng_socket s, const Paywire__V1__Request *req, int *nng_rv)
{
	Paywire__V1__Response *resp;
	uint8_t *buf;
	uint8_t *out = NULL;
	size_t len;
	size_t out_len = 0;
	int rv;

	buf = th_pack(&req->base, &len);
	rv = th_call_raw(s, buf, len, &out, &out_len);
	free(buf);
	if (nng_rv != NULL) {
		*nng_rv = rv;
	}
	if (rv != 0) {
		return NULL;
	}
	resp = paywire__v1__response__unpack(NULL, out_len, out);
	free(out);
	assert_non_null(resp);
	assert_non_null(resp->status);
	return resp;
}

void
th_resp_free(Paywire__V1__Response *r)
{
	if (r != NULL) {
		paywire__v1__response__free_unpacked(r, NULL);
	}
}

void
th_request_id(char *out, size_t out_size)
{
	static atomic_uint counter;
	uint8_t rnd[8];
	char hex[17];

	pw_random(rnd, sizeof(rnd));
	pw_hex(hex, sizeof(hex), rnd, sizeof(rnd));
	(void) snprintf(out, out_size, "req_%u_%s", atomic_fetch_add(&counter, 1), hex);
}

void
th_merchant_create(nng_socket s, Paywire__V1__Mode mode, char *api_key, char *merchant_id)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__CreateMerchantRequest cm = PAYWIRE__V1__CREATE_MERCHANT_REQUEST__INIT;
	Paywire__V1__Response *resp;
	char rid[64];

	th_request_id(rid, sizeof(rid));
	cm.name = (char *) "test shop";
	cm.mode = mode;
	req.request_id = rid;
	req.api_key = (char *) TH_ADMIN_KEY;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_MERCHANT;
	req.create_merchant = &cm;
	resp = th_call(s, &req, NULL);
	assert_non_null(resp);
	if (resp->status->code != 0) {
		fail_msg("create_merchant: %d %s", resp->status->code, resp->status->message);
	}
	assert_int_equal(PAYWIRE__V1__RESPONSE__RESULT_CREATE_MERCHANT, resp->result_case);
	(void) pw_strlcpy(api_key, resp->create_merchant->api_key, 128);
	(void) pw_strlcpy(merchant_id, resp->create_merchant->merchant_id, 64);
	th_resp_free(resp);
}

void
th_session_req_init(Paywire__V1__CreateSessionRequest *cs, int64_t amount)
{
	paywire__v1__create_session_request__init(cs);
	cs->amount_minor = amount;
	cs->currency = (char *) "EUR";
	cs->mode = PAYWIRE__V1__MODE__MODE_TEST;
}

Paywire__V1__Response *
th_create_session(nng_socket s, const char *api_key, const char *request_id,
    Paywire__V1__CreateSessionRequest *cs)
{
	Paywire__V1__Request req = PAYWIRE__V1__REQUEST__INIT;
	Paywire__V1__Response *resp;
	int rv = 0;

	req.request_id = (char *) request_id;
	req.api_key = (char *) api_key;
	req.call_case = PAYWIRE__V1__REQUEST__CALL_CREATE_SESSION;
	req.create_session = cs;
	resp = th_call(s, &req, &rv);
	if (resp == NULL) {
		fail_msg("create_session: nng error %s", nng_strerror(rv));
	}
	return resp;
}

/* ---- raw SP over IPC ---- */

static int
raw_connect(const char *url)
{
	struct sockaddr_un sa;
	const char *path = url + 6; /* "ipc://" */
	int fd;

	assert_int_equal(0, strncmp(url, "ipc://", 6));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(0, connect(fd, (struct sockaddr *) &sa, sizeof(sa)));
	return fd;
}

/* Reads exactly n bytes before the deadline: 1 ok, 0 EOF/reset, -1 timeout. */
static int
raw_read(int fd, uint8_t *buf, size_t n, int64_t deadline_ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline_ms - pw_monotonic_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int) left) == 0) {
			return -1;
		}
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0) {
			return 0;
		}
		got += (size_t) r;
	}
	return 1;
}

/* Writes all of buf; false when the peer closed (EPIPE/ECONNRESET). */
static bool
raw_write(int fd, const uint8_t *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
		if (w <= 0) {
			return false;
		}
		off += (size_t) w;
	}
	return true;
}

int
th_raw_ipc_open(const char *url, int64_t deadline_ms)
{
	/* SP handshake: 0x00 'S' 'P' 0x00, our protocol (REQ v0 = 0x0030), 0x0000. */
	static const uint8_t hello[8] = { 0x00, 'S', 'P', 0x00, 0x00, 0x30, 0x00, 0x00 };
	uint8_t peer[8];
	int fd = raw_connect(url);

	assert_true(raw_write(fd, hello, sizeof(hello)));
	assert_int_equal(1, raw_read(fd, peer, sizeof(peer), deadline_ms));
	assert_int_equal(0x31, peer[5]); /* REP v0 */
	return fd;
}

bool
th_raw_ipc_send(int fd, uint32_t request_id, const uint8_t *body, size_t len)
{
	uint8_t hdr[9 + 4];
	uint64_t msg_len = (uint64_t) len + 4;

	assert_true((request_id & 0x80000000u) != 0); /* the high bit ends the backtrace */
	hdr[0] = 0x01;                                 /* IPC message type */
	for (int i = 0; i < 8; i++) {
		hdr[1 + i] = (uint8_t) (msg_len >> (56 - 8 * i));
	}
	for (int i = 0; i < 4; i++) {
		hdr[9 + i] = (uint8_t) (request_id >> (24 - 8 * i));
	}
	return raw_write(fd, hdr, sizeof(hdr)) && raw_write(fd, body, len);
}

int
th_raw_ipc_recv(int fd, int64_t deadline_ms, uint8_t **out, size_t *out_len)
{
	uint8_t rh[9];
	uint64_t n = 0;
	int rv = raw_read(fd, rh, sizeof(rh), deadline_ms);

	if (rv != 1) {
		return rv;
	}
	for (int i = 0; i < 8; i++) {
		n = (n << 8) | rh[1 + i];
	}
	assert_true(n >= 4 && n < PW_RPC_MSG_BYTES_MAX);
	*out = malloc((size_t) n);
	assert_non_null(*out);
	assert_int_equal(1, raw_read(fd, *out, (size_t) n, deadline_ms));
	memmove(*out, *out + 4, (size_t) n - 4); /* drop the request id */
	*out_len = (size_t) n - 4;
	return 1;
}

int
th_raw_ipc_call(const char *url, const uint8_t *body, size_t len, int timeout_ms, uint8_t **out,
    size_t *out_len)
{
	int64_t deadline = pw_monotonic_ms() + timeout_ms;
	int fd = th_raw_ipc_open(url, deadline);
	int rv;

	/* The server may close while we are still writing: that is an answer. */
	if (th_raw_ipc_send(fd, 0x80000001u, body, len)) {
		rv = th_raw_ipc_recv(fd, deadline, out, out_len);
	} else {
		uint8_t b;
		rv = raw_read(fd, &b, 1, deadline) == -1 ? -1 : 0;
	}
	(void) close(fd);
	return rv;
}

void
th_env_start(th_env *e, uint32_t contexts)
{
	th_server_start(&e->srv, contexts, 0);
	e->sock = th_req_open(e->srv.url, TW_HANG_MS, -1);
	th_merchant_create(e->sock, PAYWIRE__V1__MODE__MODE_TEST, e->key, e->mid);
}

void
th_env_stop(th_env *e)
{
	(void) nng_close(e->sock);
	th_server_stop(&e->srv);
}
