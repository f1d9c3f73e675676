/*
 * provider_http_test.c - paywire's outbound HTTP (provider/prov_http.c)
 * against a scripted HTTP/1.1 server on loopback (a thread of this test):
 * success on the first attempt with the headers a provider needs; 5xx, 429
 * (Retry-After), a dropped connection and an attempt that times out are
 * retried with the same Idempotency-Key and the same body; a 4xx and
 * `Stripe-Should-Retry: false` are not, `Stripe-Should-Retry: true` is; the
 * attempts stop at the deadline and at max_attempts (UNAVAILABLE, with what
 * the last attempt got); connections are reused across calls; no more than
 * max_in_flight calls run at once; an oversized answer is refused; the URL
 * policy (https only, no credentials in the URL); the backoff schedule.
 * Nothing here asserts a duration: waits are bounded by TW_HANG_MS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prov_http.h"
#include "pw_limits.h"
#include "test_wait.h"

/* ---- the scripted server ---- */

#define SRV_SCRIPT_MAX 16
#define SRV_SEEN_MAX 64

typedef enum { ACT_ANSWER, ACT_DROP, ACT_HOLD, ACT_BIG } srv_act;

typedef struct srv_step {
	srv_act act;
	int status;
	const char *headers; /* extra header lines, each ending in \r\n */
	const char *body;
} srv_step;

typedef struct srv_seen {
	char method[8];
	char path[128];
	char idem[96];
	char auth[160];
	char ctype[96];
	char body[512];
} srv_seen;

typedef struct srv {
	int lfd;
	int port;
	pthread_t thr;
	pthread_mutex_t mu;
	srv_step script[SRV_SCRIPT_MAX];
	int n_script;
	int next;                /* next step to play; past the script: 200 {} */
	srv_seen seen[SRV_SEEN_MAX];
	int n_seen;
	atomic_int conns;        /* connections accepted */
	atomic_int active;       /* requests being answered now */
	atomic_int max_active;
	atomic_bool stop;
	atomic_bool release;     /* ends ACT_HOLD */
	int hold_ms;             /* each answer waits this long (concurrency test) */
} srv;

static srv S;

static void
srv_hdr(const char *req, const char *name, char *out, size_t size)
{
	const char *p = strcasestr(req, name);
	size_t n;

	out[0] = '\0';
	if (p == NULL) {
		return;
	}
	p += strlen(name);
	while (*p == ' ') {
		p++;
	}
	n = strcspn(p, "\r\n");
	if (n >= size) {
		n = size - 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static bool
srv_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0) {
			return false;
		}
		s += w;
		n -= (size_t) w;
	}
	return true;
}

/* One connection: requests until the peer closes (keep-alive). */
static void *
srv_conn(void *arg)
{
	int fd = (int) (intptr_t) arg;
	char buf[16384];
	size_t have = 0;

	for (;;) {
		char *end;
		char cl[32];
		size_t hlen;
		size_t blen;
		srv_step step = { .act = ACT_ANSWER, .status = 200, .body = "{}" };
		srv_seen seen;
		char out[1024];
		int a;

		while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
			ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (r <= 0) {
				close(fd);
				return NULL;
			}
			have += (size_t) r;
			buf[have] = '\0';
		}
		hlen = (size_t) (end - buf) + 4;
		srv_hdr(buf, "\r\nContent-Length:", cl, sizeof(cl));
		blen = (size_t) strtoul(cl, NULL, 10);
		while (have < hlen + blen) {
			ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
			if (r <= 0) {
				close(fd);
				return NULL;
			}
			have += (size_t) r;
		}
		buf[have] = '\0';
		memset(&seen, 0, sizeof(seen));
		(void) sscanf(buf, "%7s %127s", seen.method, seen.path);
		srv_hdr(buf, "\r\nIdempotency-Key:", seen.idem, sizeof(seen.idem));
		srv_hdr(buf, "\r\nAuthorization:", seen.auth, sizeof(seen.auth));
		srv_hdr(buf, "\r\nContent-Type:", seen.ctype, sizeof(seen.ctype));
		memcpy(seen.body, buf + hlen, blen < sizeof(seen.body) - 1 ? blen : sizeof(seen.body) - 1);
		pthread_mutex_lock(&S.mu);
		if (S.n_seen < SRV_SEEN_MAX) {
			S.seen[S.n_seen++] = seen;
		}
		if (S.next < S.n_script) {
			step = S.script[S.next];
		}
		S.next++;
		pthread_mutex_unlock(&S.mu);
		memmove(buf, buf + hlen + blen, have - hlen - blen);
		have -= hlen + blen;

		a = atomic_fetch_add(&S.active, 1) + 1;
		for (int m = atomic_load(&S.max_active); a > m;) {
			if (atomic_compare_exchange_weak(&S.max_active, &m, a)) {
				break;
			}
		}
		if (S.hold_ms > 0) {
			tw_sleep_ms((uint32_t) S.hold_ms);
		}
		atomic_fetch_sub(&S.active, 1);
		switch (step.act) {
		case ACT_DROP:
			close(fd);
			return NULL;
		case ACT_HOLD:
			while (!atomic_load(&S.release) && !atomic_load(&S.stop)) {
				tw_sleep_ms(5);
			}
			close(fd);
			return NULL;
		case ACT_BIG: {
			size_t n = PW_PROVIDER_BODY_BYTES_MAX + 4096;
			char *big = malloc(n);
			assert_non_null(big);
			memset(big, 'x', n);
			(void) snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
			(void) (srv_write_all(fd, out, strlen(out)) && srv_write_all(fd, big, n));
			free(big);
			close(fd);
			return NULL;
		}
		case ACT_ANSWER:
			break;
		}
		(void) snprintf(out, sizeof(out),
		    "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nRequest-Id: req_test\r\n"
		    "%sContent-Length: %zu\r\n\r\n%s",
		    step.status, step.headers != NULL ? step.headers : "", strlen(step.body), step.body);
		if (!srv_write_all(fd, out, strlen(out))) {
			close(fd);
			return NULL;
		}
	}
}

static void *
srv_accept(void *arg)
{
	(void) arg;
	while (!atomic_load(&S.stop)) {
		pthread_t t;
		int fd = accept(S.lfd, NULL, NULL);

		if (fd < 0) {
			continue;
		}
		if (atomic_load(&S.stop)) {
			close(fd);
			break;
		}
		atomic_fetch_add(&S.conns, 1);
		assert_int_equal(0, pthread_create(&t, NULL, srv_conn, (void *) (intptr_t) fd));
		pthread_detach(t);
	}
	return NULL;
}

static void
srv_script(int n, ...)
{
	va_list ap;

	pthread_mutex_lock(&S.mu);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		S.script[i] = *va_arg(ap, const srv_step *);
	}
	va_end(ap);
	S.n_script = n;
	S.next = 0;
	S.n_seen = 0;
	pthread_mutex_unlock(&S.mu);
	atomic_store(&S.release, false);
}

static int
group_setup(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	(void) state;
	memset(&S, 0, sizeof(S));
	pthread_mutex_init(&S.mu, NULL);
	S.lfd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(0, bind(S.lfd, (struct sockaddr *) &a, sizeof(a)));
	assert_int_equal(0, listen(S.lfd, 64));
	assert_int_equal(0, getsockname(S.lfd, (struct sockaddr *) &a, &alen));
	S.port = ntohs(a.sin_port);
	assert_int_equal(0, pthread_create(&S.thr, NULL, srv_accept, NULL));
	return 0;
}

static int
group_teardown(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd;

	(void) state;
	atomic_store(&S.stop, true);
	/* wake accept() */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t) S.port);
	(void) connect(fd, (struct sockaddr *) &a, sizeof(a));
	close(fd);
	pthread_join(S.thr, NULL);
	close(S.lfd);
	return 0;
}

/* ---- the client side ---- */

static prov_http *
t_http(uint32_t attempts, uint32_t attempt_ms, uint32_t in_flight)
{
	prov_http_cfg cfg = { .allow_plain_http = true, .backoff_base_ms = 10,
		.backoff_cap_ms = 40, .max_attempts = attempts, .attempt_timeout_ms = attempt_ms,
		.connect_timeout_ms = attempt_ms != 0 ? attempt_ms : 0, .max_in_flight = in_flight };
	prov_http *h = NULL;

	assert_int_equal(PW_OK, prov_http_new(&cfg, &h));
	return h;
}

static prov_http_req
t_req(char *url, size_t size, const char *path)
{
	prov_http_req r = { .method = "POST", .content_type = "application/x-www-form-urlencoded",
		.body = "amount=4900&currency=eur", .body_len = 24, .bearer = "sk_test_fixture_secret",
		.idempotency_key = "pw_cs_0123", .extra_header = "Stripe-Version: 2024-04-10",
		.deadline_ms = pw_monotonic_ms() + TW_HANG_MS };

	(void) snprintf(url, size, "http://127.0.0.1:%d%s", S.port, path);
	r.url = url;
	return r;
}

static const srv_step OK200 = { .act = ACT_ANSWER, .status = 200, .body = "{\"id\":\"cs_1\"}" };
static const srv_step E500 = { .act = ACT_ANSWER, .status = 500, .body = "{\"error\":{}}" };
static const srv_step E400 = { .act = ACT_ANSWER, .status = 400,
	.body = "{\"error\":{\"message\":\"No such price\"}}" };
static const srv_step E429 = { .act = ACT_ANSWER, .status = 429, .headers = "Retry-After: 1\r\n",
	.body = "{\"error\":{}}" };
static const srv_step E500_NO = { .act = ACT_ANSWER, .status = 500,
	.headers = "Stripe-Should-Retry: false\r\n", .body = "{}" };
static const srv_step E400_YES = { .act = ACT_ANSWER, .status = 400,
	.headers = "Stripe-Should-Retry: true\r\n", .body = "{}" };
static const srv_step DROP = { .act = ACT_DROP };
static const srv_step HOLD = { .act = ACT_HOLD };
static const srv_step BIG = { .act = ACT_BIG };

static void
test_first_attempt_answers_with_the_headers_a_provider_needs(void **state)
{
	prov_http *h = t_http(0, 0, 0);
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	srv_script(1, &OK200);
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	assert_int_equal(200, resp.status);
	assert_int_equal(1, resp.attempts);
	assert_string_equal("{\"id\":\"cs_1\"}", resp.body);
	assert_string_equal("req_test", resp.request_id);
	assert_int_equal(1, S.n_seen);
	assert_string_equal("POST", S.seen[0].method);
	assert_string_equal("/v1/checkout/sessions", S.seen[0].path);
	assert_string_equal("pw_cs_0123", S.seen[0].idem);
	assert_string_equal("Bearer sk_test_fixture_secret", S.seen[0].auth);
	assert_string_equal("application/x-www-form-urlencoded", S.seen[0].ctype);
	assert_string_equal("amount=4900&currency=eur", S.seen[0].body);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_5xx_429_and_a_drop_are_retried_with_the_same_key_and_body(void **state)
{
	prov_http *h = t_http(0, 0, 0);
	prov_http_resp resp;
	prov_http_stats st;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/refunds");

	(void) state;
	srv_script(4, &E500, &E429, &DROP, &OK200);
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	assert_int_equal(200, resp.status);
	/* the server saw all four; a connection that dies before any answer
	 * may be re-sent by libcurl itself on a fresh one (the same bytes and
	 * key) within one attempt: 3 or 4 attempts */
	assert_int_equal(4, S.n_seen);
	assert_true(resp.attempts == 3 || resp.attempts == 4);
	for (int i = 0; i < 4; i++) {
		assert_string_equal("pw_cs_0123", S.seen[i].idem);
		assert_string_equal("amount=4900&currency=eur", S.seen[i].body);
	}
	prov_http_stats_get(h, &st);
	assert_int_equal(resp.attempts - 1, st.retries);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_a_4xx_and_should_retry_false_are_final_should_retry_true_is_not(void **state)
{
	prov_http *h = t_http(0, 0, 0);
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	srv_script(2, &E400, &OK200);
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	assert_int_equal(400, resp.status);
	assert_int_equal(1, resp.attempts);
	assert_false(resp.retryable);
	assert_non_null(strstr(resp.body, "No such price"));
	prov_http_resp_fini(&resp);

	srv_script(2, &E500_NO, &OK200);
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	assert_int_equal(500, resp.status); /* the provider's word: do not retry */
	assert_int_equal(1, resp.attempts);
	assert_false(resp.retryable);
	prov_http_resp_fini(&resp);

	srv_script(2, &E400_YES, &OK200);
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	assert_int_equal(200, resp.status);
	assert_int_equal(2, resp.attempts);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_attempts_stop_at_max_attempts_unavailable_with_the_last_answer(void **state)
{
	prov_http *h = t_http(3, 0, 0);
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	srv_script(5, &E500, &E500, &E500, &E500, &OK200);
	assert_int_equal(PW_UNAVAILABLE, prov_http_call(h, &r, &resp));
	assert_int_equal(3, resp.attempts);
	assert_int_equal(500, resp.status);
	assert_true(resp.retryable); /* a later call may try again, with the same key */
	assert_int_equal(3, S.n_seen);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_the_deadline_ends_the_retries(void **state)
{
	prov_http *h = t_http(16, 0, 0);
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	/* every answer a 429 that asks for 1 s more: with a deadline already
	 * closer than that after the first answer, no second attempt is made */
	srv_script(3, &E429, &E429, &E429);
	r.deadline_ms = pw_monotonic_ms() + 900;
	assert_int_equal(PW_UNAVAILABLE, prov_http_call(h, &r, &resp));
	assert_true(resp.attempts <= 1);
	prov_http_resp_fini(&resp);
	/* a deadline already passed: no attempt at all */
	srv_script(1, &OK200);
	r.deadline_ms = pw_monotonic_ms() - 1;
	assert_int_equal(PW_UNAVAILABLE, prov_http_call(h, &r, &resp));
	assert_int_equal(0, resp.attempts);
	assert_int_equal(0, S.n_seen);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_an_attempt_that_times_out_is_retried(void **state)
{
	/* attempts of 2 s: the held one times out, the next is answered (a
	 * third and fourth are there in case a loaded machine makes one more
	 * time out: the test checks the retry, not a speed) */
	prov_http *h = t_http(4, 2000, 0);
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	srv_script(4, &HOLD, &OK200, &OK200, &OK200);
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	atomic_store(&S.release, true);
	assert_int_equal(200, resp.status);
	assert_true(resp.attempts >= 2);
	assert_string_equal(S.seen[0].idem, S.seen[1].idem);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_connections_are_reused_across_calls(void **state)
{
	prov_http *h = t_http(0, 0, 0);
	prov_http_resp resp;
	prov_http_stats st;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/customers");
	int c0 = atomic_load(&S.conns);

	(void) state;
	srv_script(0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
		assert_int_equal(200, resp.status);
		prov_http_resp_fini(&resp);
	}
	prov_http_stats_get(h, &st);
	assert_int_equal(5, st.calls);
	assert_int_equal(1, st.connects);
	assert_int_equal(c0 + 1, atomic_load(&S.conns));
	prov_http_free(h);
}

typedef struct par {
	prov_http *h;
	pw_status st;
	long status;
} par;

static void *
t_par(void *arg)
{
	par *p = arg;
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	p->st = prov_http_call(p->h, &r, &resp);
	p->status = resp.status;
	prov_http_resp_fini(&resp);
	return NULL;
}

static void
test_no_more_than_max_in_flight_calls_at_once(void **state)
{
	prov_http *h = t_http(0, 0, 2);
	pthread_t t[8];
	par p[8];

	(void) state;
	srv_script(0);
	atomic_store(&S.max_active, 0);
	S.hold_ms = 20;
	for (int i = 0; i < 8; i++) {
		p[i] = (par){ .h = h };
		assert_int_equal(0, pthread_create(&t[i], NULL, t_par, &p[i]));
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(PW_OK, p[i].st);
		assert_int_equal(200, p[i].status);
	}
	S.hold_ms = 0;
	assert_true(atomic_load(&S.max_active) >= 1);
	assert_true(atomic_load(&S.max_active) <= 2);
	prov_http_free(h);
}

static void
test_an_oversized_answer_is_refused_not_retried(void **state)
{
	prov_http *h = t_http(0, 0, 0);
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	srv_script(2, &BIG, &OK200);
	assert_int_equal(PW_UNAVAILABLE, prov_http_call(h, &r, &resp));
	assert_int_equal(1, resp.attempts);
	assert_non_null(strstr(resp.error, "larger than paywire reads"));
	prov_http_resp_fini(&resp);
	prov_http_free(h);
}

static void
test_the_url_policy_https_only_and_no_credentials(void **state)
{
	prov_http_cfg cfg = { 0 };
	prov_http *h = NULL;
	prov_http_resp resp;
	char url[128];
	prov_http_req r = t_req(url, sizeof(url), "/v1/checkout/sessions");

	(void) state;
	assert_int_equal(PW_OK, prov_http_new(&cfg, &h));
	srv_script(1, &OK200);
	assert_int_equal(PW_INVALID_ARGUMENT, prov_http_call(h, &r, &resp)); /* http:// */
	assert_non_null(strstr(resp.error, "https://"));
	r.url = "https://user:pw@api.stripe.com/v1/refunds";
	assert_int_equal(PW_INVALID_ARGUMENT, prov_http_call(h, &r, &resp));
	assert_null(strstr(resp.error, "pw"));
	r.url = "ftp://api.stripe.com/v1/refunds";
	assert_int_equal(PW_INVALID_ARGUMENT, prov_http_call(h, &r, &resp));
	assert_int_equal(0, S.n_seen);
	/* TLS is verified: https to a server that speaks plain HTTP fails */
	(void) snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/refunds", S.port);
	r.url = url;
	r.deadline_ms = pw_monotonic_ms() + TW_HANG_MS;
	assert_int_equal(PW_UNAVAILABLE, prov_http_call(h, &r, &resp));
	assert_int_equal(0, resp.status);
	assert_string_not_equal("", resp.error);
	assert_null(strstr(resp.error, "sk_test_fixture_secret"));
	prov_http_resp_fini(&resp);
	prov_http_free(h);
	/* a bad configuration */
	cfg.max_in_flight = PW_PROVIDER_CONNS_LIMIT + 1;
	assert_int_equal(PW_INVALID_ARGUMENT, prov_http_new(&cfg, &h));
	cfg = (prov_http_cfg){ .backoff_base_ms = 100, .backoff_cap_ms = 10 };
	assert_int_equal(PW_INVALID_ARGUMENT, prov_http_new(&cfg, &h));
}

/* TLS is verified against a real TLS server (openssl s_server with a
 * self-signed certificate for 127.0.0.1): refused without its CA, not
 * retried; accepted with cfg.ca_file (--provider-ca-file). */
static void
test_tls_is_verified_and_an_extra_ca_is_accepted(void **state)
{
	char dir[] = "/tmp/pw-tls-XXXXXX";
	char cmd[1024];
	char cert[128];
	char url[128];
	prov_http_cfg cfg = { .backoff_base_ms = 10, .backoff_cap_ms = 20, .max_attempts = 3 };
	prov_http *h = NULL;
	prov_http_resp resp;
	prov_http_req r = { .method = "GET", .url = url };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd;
	int port;
	pid_t pid;
	pw_status st;

	(void) state;
	assert_non_null(mkdtemp(dir));
	(void) snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	(void) snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 -keyout %s/key.pem -out %s >/dev/null 2>&1",
	    dir, cert);
	assert_int_equal(0, system(cmd));
	/* a free port */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(0, bind(fd, (struct sockaddr *) &a, sizeof(a)));
	assert_int_equal(0, getsockname(fd, (struct sockaddr *) &a, &alen));
	port = ntohs(a.sin_port);
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char p[16];
		char k[128];

		(void) snprintf(p, sizeof(p), "%d", port);
		(void) snprintf(k, sizeof(k), "%s/key.pem", dir);
		(void) freopen("/dev/null", "w", stdout);
		(void) freopen("/dev/null", "w", stderr);
		execlp("openssl", "openssl", "s_server", "-accept", p, "-cert", cert, "-key", k,
		    "-www", "-quiet", (char *) NULL);
		_exit(127);
	}
	/* wait until it accepts (bounded: a hang only) */
	for (int64_t end = pw_monotonic_ms() + TW_HANG_MS;;) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		int ok = connect(c, (struct sockaddr *) &a, sizeof(a));

		close(c);
		if (ok == 0) {
			break;
		}
		assert_true(pw_monotonic_ms() < end);
		tw_sleep_ms(20);
	}
	(void) snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	r.deadline_ms = pw_monotonic_ms() + TW_HANG_MS;
	assert_int_equal(PW_OK, prov_http_new(&cfg, &h));
	st = prov_http_call(h, &r, &resp);
	assert_int_equal(PW_UNAVAILABLE, st);
	assert_int_equal(0, resp.status);
	assert_int_equal(1, resp.attempts); /* a certificate it cannot verify: not retried */
	assert_false(resp.retryable);
	assert_string_not_equal("", resp.error);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
	cfg.ca_file = cert;
	assert_int_equal(PW_OK, prov_http_new(&cfg, &h));
	r.deadline_ms = pw_monotonic_ms() + TW_HANG_MS;
	assert_int_equal(PW_OK, prov_http_call(h, &r, &resp));
	assert_int_equal(200, resp.status);
	prov_http_resp_fini(&resp);
	prov_http_free(h);
	(void) kill(pid, SIGTERM);
	(void) waitpid(pid, NULL, 0);
	(void) snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(0, system(cmd));
}

static void
test_the_backoff_schedule(void **state)
{
	prov_http_cfg cfg = { .backoff_base_ms = 500, .backoff_cap_ms = 8000 };

	(void) state;
	assert_int_equal(250, prov_http_backoff_ms(&cfg, 1, 0, 0.0));   /* half, at least */
	assert_int_equal(499, prov_http_backoff_ms(&cfg, 1, 0, 0.999)); /* up to the full wait */
	assert_int_equal(500, prov_http_backoff_ms(&cfg, 2, 0, 0.0));   /* doubles */
	assert_int_equal(1000, prov_http_backoff_ms(&cfg, 3, 0, 0.0));
	assert_int_equal(4000, prov_http_backoff_ms(&cfg, 5, 0, 0.0));  /* 8000 capped, jittered */
	assert_int_equal(4000, prov_http_backoff_ms(&cfg, 30, 0, 0.0)); /* no overflow */
	assert_int_equal(3000, prov_http_backoff_ms(&cfg, 1, 3000, 0.5)); /* Retry-After wins */
	assert_int_equal(6000, prov_http_backoff_ms(&cfg, 5, 1000, 0.5)); /* unless shorter */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_attempt_answers_with_the_headers_a_provider_needs),
		cmocka_unit_test(test_5xx_429_and_a_drop_are_retried_with_the_same_key_and_body),
		cmocka_unit_test(test_a_4xx_and_should_retry_false_are_final_should_retry_true_is_not),
		cmocka_unit_test(test_attempts_stop_at_max_attempts_unavailable_with_the_last_answer),
		cmocka_unit_test(test_the_deadline_ends_the_retries),
		cmocka_unit_test(test_an_attempt_that_times_out_is_retried),
		cmocka_unit_test(test_connections_are_reused_across_calls),
		cmocka_unit_test(test_no_more_than_max_in_flight_calls_at_once),
		cmocka_unit_test(test_an_oversized_answer_is_refused_not_retried),
		cmocka_unit_test(test_the_url_policy_https_only_and_no_credentials),
		cmocka_unit_test(test_tls_is_verified_and_an_extra_ca_is_accepted),
		cmocka_unit_test(test_the_backoff_schedule),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
