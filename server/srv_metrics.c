/* srv_metrics.c - the server's Prometheus metrics and listener (see srv_metrics.h). */
#include "srv_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <paywire/version.h>

#include "store.h"

/* The status rows, in table order, and their index. */
static const pw_status srv_metrics_statuses[SRV_METRICS_STATUS_N] = {
#define SRV_XX_ROW(name, value, wire, http, msg) PW_##name,
	PW_STATUS_MAP(SRV_XX_ROW)
#undef SRV_XX_ROW
};

static const char *const srv_metrics_wh_names[SRV_METRICS_WH_OUTCOMES] = {
	"applied", "duplicate", "ignored", "anomaly", "quarantined", "rejected",
};

typedef struct srv_metrics_shard {
	atomic_uint_fast64_t requests[SRV_METRICS_CALLS_MAX][SRV_METRICS_STATUS_N];
	pw_hist latency[SRV_METRICS_CALLS_MAX];
	atomic_uint_fast64_t webhooks[PW_PROVIDER_COUNT][SRV_METRICS_WH_OUTCOMES];
} __attribute__((aligned(64))) srv_metrics_shard;

struct srv_metrics {
	srv_metrics_shard shards[SRV_METRICS_SHARDS];
	_Atomic(const char *) call_names[SRV_METRICS_CALLS_MAX]; /* set at first use */
	struct store *st;          /* figures of the store, or NULL */
	int64_t start_unix_ms;     /* process start (srv_metrics_new) */
	int fd;                    /* listening socket, -1 */
	int wake[2];               /* pipe: stop the listener */
	bool started;              /* thread is joinable */
	pthread_t thread;          /* the listener */
	unsigned port;             /* bound port */
};

static atomic_uint srv_metrics_next_shard;
static _Thread_local unsigned srv_metrics_my_shard = SRV_METRICS_SHARDS;

static srv_metrics_shard *
srv_metrics_shard_of(srv_metrics *m)
{
	if (srv_metrics_my_shard >= SRV_METRICS_SHARDS) {
		srv_metrics_my_shard = atomic_fetch_add_explicit(&srv_metrics_next_shard, 1u,
		    memory_order_relaxed) % SRV_METRICS_SHARDS;
	}
	return &m->shards[srv_metrics_my_shard];
}

srv_metrics *
srv_metrics_new(struct store *st)
{
	srv_metrics *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		return NULL;
	}
	for (size_t s = 0; s < SRV_METRICS_SHARDS; s++) {
		for (size_t c = 0; c < SRV_METRICS_CALLS_MAX; c++) {
			for (size_t k = 0; k < SRV_METRICS_STATUS_N; k++) {
				atomic_init(&m->shards[s].requests[c][k], 0);
			}
			pw_hist_init(&m->shards[s].latency[c]);
		}
		for (size_t p = 0; p < PW_PROVIDER_COUNT; p++) {
			for (size_t o = 0; o < SRV_METRICS_WH_OUTCOMES; o++) {
				atomic_init(&m->shards[s].webhooks[p][o], 0);
			}
		}
	}
	for (size_t c = 0; c < SRV_METRICS_CALLS_MAX; c++) {
		atomic_init(&m->call_names[c], NULL);
	}
	m->st = st;
	m->start_unix_ms = pw_now_unix_ms();
	m->fd = -1;
	m->wake[0] = m->wake[1] = -1;
	return m;
}

static size_t
srv_metrics_status_index(pw_status st)
{
	for (size_t i = 0; i < SRV_METRICS_STATUS_N; i++) {
		if (srv_metrics_statuses[i] == st) {
			return i;
		}
	}
	return 0; /* every pw_status is a row; unreachable */
}

void
srv_metrics_request(srv_metrics *m, unsigned call_case, const char *call_name, pw_status st,
    uint64_t duration_us)
{
	srv_metrics_shard *sh;

	if (m == NULL) {
		return;
	}
	if (call_case >= SRV_METRICS_CALLS_MAX || call_name == NULL) {
		call_case = 0;
		call_name = "none";
	}
	if (atomic_load_explicit(&m->call_names[call_case], memory_order_relaxed) == NULL) {
		atomic_store_explicit(&m->call_names[call_case], call_name, memory_order_release);
	}
	sh = srv_metrics_shard_of(m);
	atomic_fetch_add_explicit(&sh->requests[call_case][srv_metrics_status_index(st)], 1,
	    memory_order_relaxed);
	pw_hist_observe(&sh->latency[call_case], &pw_hist_latency_us, duration_us);
}

void
srv_metrics_webhook(srv_metrics *m, pw_provider p, srv_metrics_wh outcome)
{
	size_t ix;

	if (m == NULL || !pw_provider_known(p)) {
		return;
	}
	ix = pw_provider_index(p);
	PW_ASSERT(ix < PW_PROVIDER_COUNT && (unsigned) outcome < SRV_METRICS_WH_OUTCOMES);
	atomic_fetch_add_explicit(&srv_metrics_shard_of(m)->webhooks[ix][outcome], 1,
	    memory_order_relaxed);
}

static uint64_t
srv_metrics_get(const atomic_uint_fast64_t *v)
{
	return (uint64_t) atomic_load_explicit((atomic_uint_fast64_t *) v, memory_order_relaxed);
}

static void
srv_metrics_render_requests(srv_metrics *m, pw_text *t)
{
	pw_metrics_family(t, "paywire_server_requests_total", "counter",
	    "RPC requests answered, by call and status code.");
	for (size_t c = 0; c < SRV_METRICS_CALLS_MAX; c++) {
		const char *name = atomic_load_explicit(&m->call_names[c], memory_order_acquire);

		if (name == NULL) {
			continue;
		}
		for (size_t k = 0; k < SRV_METRICS_STATUS_N; k++) {
			uint64_t v = 0;

			for (size_t s = 0; s < SRV_METRICS_SHARDS; s++) {
				v += srv_metrics_get(&m->shards[s].requests[c][k]);
			}
			if (v > 0) {
				pw_text_printf(t, "paywire_server_requests_total{call=\"%s\",code=\"%s\"} %llu\n",
				    name, pw_status_name(srv_metrics_statuses[k]), (unsigned long long) v);
			}
		}
	}
	pw_metrics_family(t, "paywire_server_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its answer, by call.");
	for (size_t c = 0; c < SRV_METRICS_CALLS_MAX; c++) {
		const char *name = atomic_load_explicit(&m->call_names[c], memory_order_acquire);
		pw_hist_snap snap;
		char labels[96];

		if (name == NULL) {
			continue;
		}
		memset(&snap, 0, sizeof(snap));
		for (size_t s = 0; s < SRV_METRICS_SHARDS; s++) {
			pw_hist_snap_add(&snap, &m->shards[s].latency[c]);
		}
		(void) snprintf(labels, sizeof(labels), "call=\"%s\"", name);
		pw_metrics_hist(t, "paywire_server_request_duration_seconds", labels,
		    &pw_hist_latency_us, &snap);
	}
}

static void
srv_metrics_render_webhooks(srv_metrics *m, pw_text *t)
{
	pw_metrics_family(t, "paywire_server_webhooks_total", "counter",
	    "Provider webhooks, by provider and outcome (rejected: answered with an error; "
	    "anomaly: money that needs a human).");
	for (size_t p = 0; p < PW_PROVIDER_COUNT; p++) {
		for (size_t o = 0; o < SRV_METRICS_WH_OUTCOMES; o++) {
			uint64_t v = 0;

			for (size_t s = 0; s < SRV_METRICS_SHARDS; s++) {
				v += srv_metrics_get(&m->shards[s].webhooks[p][o]);
			}
			pw_text_printf(t, "paywire_server_webhooks_total{provider=\"%s\",outcome=\"%s\"} %llu\n",
			    pw_provider_name(pw_provider_at(p)), srv_metrics_wh_names[o],
			    (unsigned long long) v);
		}
	}
}

static void
srv_metrics_gauge(pw_text *t, const char *name, const char *help, uint64_t v)
{
	pw_metrics_family(t, name, "gauge", help);
	pw_text_printf(t, "%s %llu\n", name, (unsigned long long) v);
}

static void
srv_metrics_render_store(srv_metrics *m, pw_text *t)
{
	store_obs o;
	store_stats ws;
	pw_hist_snap snap;

	if (m->st == NULL) {
		return;
	}
	store_obs_get(m->st, &o);
	pw_metrics_family(t, "paywire_store_batch_size", "histogram",
	    "Writes per writer batch (one transaction, one commit).");
	memset(&snap, 0, sizeof(snap));
	pw_hist_snap_add(&snap, o.batch);
	pw_metrics_hist(t, "paywire_store_batch_size", "", &pw_hist_batch_size, &snap);
	pw_metrics_family(t, "paywire_store_commit_duration_seconds", "histogram",
	    "Time of each batch commit, the fsync included (LMDB with --sync full).");
	memset(&snap, 0, sizeof(snap));
	pw_hist_snap_add(&snap, o.commit);
	pw_metrics_hist(t, "paywire_store_commit_duration_seconds", "", &pw_hist_latency_us, &snap);
	srv_metrics_gauge(t, "paywire_store_queue_depth", "Writes queued for the writer now.",
	    o.queue_depth);
	store_stats_get(m->st, &ws);
	pw_metrics_family(t, "paywire_store_nested_reruns_total", "counter",
	    "Batches run again with each write in a nested transaction: a write of the "
	    "batch's flat first run failed after it wrote.");
	pw_text_printf(t, "paywire_store_nested_reruns_total %llu\n",
	    (unsigned long long) ws.nested_reruns);
	srv_metrics_gauge(t, "paywire_store_failed",
	    "1 once the store failed (an I/O error at commit): the server exits 3.",
	    o.failed ? 1u : 0u);
	if (o.has_map) {
		srv_metrics_gauge(t, "paywire_store_map_used_bytes",
		    "LMDB: bytes of the map in use (pages up to the last one).", o.map_used_bytes);
		srv_metrics_gauge(t, "paywire_store_map_size_bytes",
		    "LMDB: the map's size (--map-size); a full map refuses writes.", o.map_size_bytes);
	}
	if (o.has_readers) {
		srv_metrics_gauge(t, "paywire_store_readers_used",
		    "LMDB: reader slots in use (threads with a read transaction's slot).",
		    o.readers_used);
		srv_metrics_gauge(t, "paywire_store_readers_max", "LMDB: reader slots in all.",
		    o.readers_max);
	}
}

void
srv_metrics_render(srv_metrics *m, pw_text *t)
{
	PW_ASSERT(m != NULL && t != NULL);
	srv_metrics_render_requests(m, t);
	srv_metrics_render_webhooks(m, t);
	srv_metrics_render_store(m, t);
	pw_metrics_family(t, "process_start_time_seconds", "gauge",
	    "Start time of the process since the Unix epoch, in seconds.");
	pw_text_printf(t, "process_start_time_seconds %lld.%03lld\n",
	    (long long) (m->start_unix_ms / 1000), (long long) (m->start_unix_ms % 1000));
	pw_metrics_family(t, "paywire_build_info", "gauge",
	    "Always 1; the labels say which build runs.");
	pw_text_printf(t, "paywire_build_info{program=\"paywire-server\",version=\"%s\",wire=\"%s\"} 1\n",
	    PW_VERSION_STRING, PW_WIRE_PACKAGE);
}

/* ---- the address ---- */

bool
srv_metrics_addr_parse(const char *s, srv_metrics_addr *out)
{
	char host[64];
	const char *colon;
	const char *port_s;
	size_t hlen;
	unsigned long port;
	char *end;

	if (s == NULL || out == NULL || strlen(s) >= SRV_METRICS_ADDR_BYTES) {
		return false;
	}
	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			return false;
		}
		hlen = (size_t) (close - s - 1);
		if (hlen == 0 || hlen >= sizeof(host)) {
			return false;
		}
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port_s = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || strchr(s, ':') != colon) {
			return false;
		}
		hlen = (size_t) (colon - s);
		if (hlen == 0 || hlen >= sizeof(host)) {
			return false;
		}
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port_s = colon + 1;
	}
	if (port_s[0] < '0' || port_s[0] > '9') {
		return false;
	}
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535) {
		return false;
	}
	if (strcmp(host, "localhost") == 0) {
		(void) pw_strlcpy(host, "127.0.0.1", sizeof(host));
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *) &out->ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) {
			return false;
		}
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t) port);
		out->len = sizeof(*a6);
		out->loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *) &out->ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
			return false;
		}
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t) port);
		out->len = sizeof(*a4);
		out->loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127u;
	}
	return true;
}

/* ---- the listener ---- */

static void
srv_metrics_send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return; /* timeout or gone: drop the connection */
		}
		p += w;
		len -= (size_t) w;
	}
}

static void
srv_metrics_answer(int fd, int code, const char *reason, const char *type, const char *body,
    size_t body_len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
	    "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
	    code, reason, type, body_len);

	PW_ASSERT(n > 0 && (size_t) n < sizeof(head));
	srv_metrics_send_all(fd, head, (size_t) n);
	srv_metrics_send_all(fd, body, body_len);
}

static void
srv_metrics_plain(int fd, int code, const char *reason, const char *body)
{
	srv_metrics_answer(fd, code, reason, "text/plain; charset=utf-8", body, strlen(body));
}

/* Reads one request head (bounded) and answers it. */
static void
srv_metrics_serve(srv_metrics *m, int fd)
{
	char req[SRV_METRICS_REQUEST_BYTES_MAX + 1];
	size_t len = 0;
	struct timeval tv = { SRV_METRICS_IO_TIMEOUT_MS / 1000, (SRV_METRICS_IO_TIMEOUT_MS % 1000) * 1000 };

	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t r;

		if (len >= SRV_METRICS_REQUEST_BYTES_MAX) {
			srv_metrics_plain(fd, 431, "Request Header Fields Too Large",
			    "request head too large\n");
			return;
		}
		r = recv(fd, req + len, SRV_METRICS_REQUEST_BYTES_MAX - len, 0);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return; /* timeout, reset or closed before a whole head */
		}
		len += (size_t) r;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL) {
			break;
		}
	}
	if (strncmp(req, "GET ", 4) != 0) {
		srv_metrics_plain(fd, 405, "Method Not Allowed", "only GET /metrics\n");
		return;
	}
	if (strncmp(req + 4, "/metrics ", 9) != 0 && strncmp(req + 4, "/metrics\r", 9) != 0 &&
	    strncmp(req + 4, "/metrics?", 9) != 0) {
		srv_metrics_plain(fd, 404, "Not Found", "only GET /metrics\n");
		return;
	}
	{
		char *buf = malloc(SRV_METRICS_TEXT_BYTES_MAX);
		pw_text t;

		if (buf == NULL) {
			srv_metrics_plain(fd, 500, "Internal Server Error", "out of memory\n");
			return;
		}
		pw_text_init(&t, buf, SRV_METRICS_TEXT_BYTES_MAX);
		srv_metrics_render(m, &t);
		if (t.overflow) {
			srv_metrics_plain(fd, 500, "Internal Server Error", "the scrape does not fit\n");
		} else {
			srv_metrics_answer(fd, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", buf,
			    t.len);
		}
		free(buf);
	}
}

static void *
srv_metrics_thread(void *arg)
{
	srv_metrics *m = arg;

	for (;;) {
		struct pollfd pf[2] = { { .fd = m->fd, .events = POLLIN }, { .fd = m->wake[0],
			.events = POLLIN } };
		int fd;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR) {
				continue;
			}
			pw_log(PW_LOG_ERROR, "metrics listener: poll: %s", strerror(errno));
			return NULL;
		}
		if (pf[1].revents != 0) {
			return NULL; /* stop */
		}
		fd = accept(m->fd, NULL, NULL);
		if (fd < 0) {
			continue; /* EINTR, ECONNABORTED, EMFILE: try again */
		}
		srv_metrics_serve(m, fd);
		(void) close(fd);
	}
}

pw_status
srv_metrics_start(srv_metrics *m, const char *addr, bool allow_public, char *why,
    size_t why_size)
{
	srv_metrics_addr a;
	const int one = 1;
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);

	PW_ASSERT(m != NULL && !m->started);
	if (!srv_metrics_addr_parse(addr, &a)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--metrics-listen takes HOST:PORT with HOST an IPv4 address, [IPv6] or localhost");
	}
	if (!a.loopback && !allow_public) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "--metrics-listen %s is not a loopback address: pass --metrics-allow-public to "
		    "serve metrics beyond this machine", addr);
	}
	m->fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0) {
		return pw_why(why, why_size, PW_UNAVAILABLE, "metrics socket: %s", strerror(errno));
	}
	(void) setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->fd, (struct sockaddr *) &a.ss, a.len) != 0 || listen(m->fd, 16) != 0) {
		int e = errno;

		(void) close(m->fd);
		m->fd = -1;
		return pw_why(why, why_size, PW_UNAVAILABLE, "--metrics-listen %s: %s", addr,
		    strerror(e));
	}
	if (getsockname(m->fd, (struct sockaddr *) &bound, &blen) == 0) {
		m->port = bound.ss_family == AF_INET6
		    ? ntohs(((struct sockaddr_in6 *) &bound)->sin6_port)
		    : ntohs(((struct sockaddr_in *) &bound)->sin_port);
	}
	if (pipe2(m->wake, O_CLOEXEC) != 0) {
		(void) close(m->fd);
		m->fd = -1;
		return pw_why(why, why_size, PW_UNAVAILABLE, "metrics pipe: %s", strerror(errno));
	}
	if (pthread_create(&m->thread, NULL, srv_metrics_thread, m) != 0) {
		(void) close(m->fd);
		(void) close(m->wake[0]);
		(void) close(m->wake[1]);
		m->fd = m->wake[0] = m->wake[1] = -1;
		return pw_why(why, why_size, PW_UNAVAILABLE, "cannot start the metrics thread");
	}
	m->started = true;
	return PW_OK;
}

unsigned
srv_metrics_port(const srv_metrics *m)
{
	return m != NULL ? m->port : 0;
}

void
srv_metrics_stop(srv_metrics *m)
{
	if (m == NULL || !m->started) {
		return;
	}
	ssize_t w = write(m->wake[1], "x", 1);

	(void) w;
	(void) pthread_join(m->thread, NULL);
	m->started = false;
}

void
srv_metrics_free(srv_metrics *m)
{
	if (m == NULL) {
		return;
	}
	srv_metrics_stop(m);
	if (m->fd >= 0) {
		(void) close(m->fd);
	}
	if (m->wake[0] >= 0) {
		(void) close(m->wake[0]);
		(void) close(m->wake[1]);
	}
	free(m);
}
