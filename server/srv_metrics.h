/*
 * srv_metrics.h - paywire-server's Prometheus metrics and their listener.
 *
 * OWNS
 * - srv_metrics: per-call request counters by status, latency histograms per
 *   call, webhook outcomes by provider, sharded per thread (relaxed atomics:
 *   recording takes no lock, a thread writes its own shard's cache lines);
 *   the store's figures (writer batch and commit histograms, queue depth,
 *   LMDB map use and reader slots, failed flag) read at scrape time.
 * - the listener (--metrics-listen): one thread, one connection at a time,
 *   a minimal HTTP/1.0 GET responder: GET /metrics answers the text format
 *   0.0.4, any other path 404, any other method 405; a request head over
 *   SRV_METRICS_REQUEST_BYTES_MAX answers 431; SRV_METRICS_IO_TIMEOUT_MS per
 *   read and write, then the connection is dropped.
 *
 * Exposed series: see docs/SERVER.md "Metrics".
 *
 * THREADS
 * srv_metrics_request/_webhook: any thread. render: any thread (the
 * listener). start/free: the main thread.
 */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "pw_metrics.h"
#include "pw_provider.h"

struct store;

#define SRV_METRICS_ADDR_BYTES 80          /* "[v6]:port" */
#define SRV_METRICS_CALLS_MAX 80           /* call cases 0..79 (0: not parsed) */
#define SRV_METRICS_SHARDS 8               /* recording shards (threads pick one) */
#define SRV_METRICS_STATUS_N 17            /* rows of PW_STATUS_MAP */
#define SRV_METRICS_WH_OUTCOMES 6          /* applied duplicate ignored anomaly quarantined rejected */
#define SRV_METRICS_REQUEST_BYTES_MAX 4096 /* an HTTP request head */
#define SRV_METRICS_IO_TIMEOUT_MS 5000     /* per read/write of a scrape */
#define SRV_METRICS_TEXT_BYTES_MAX (512u * 1024u) /* one scrape */

typedef struct srv_metrics srv_metrics;

/* A parsed --metrics-listen value. */
typedef struct srv_metrics_addr {
	struct sockaddr_storage ss; /* the address to bind */
	socklen_t len;              /* its length */
	bool loopback;              /* 127.0.0.0/8 or ::1 */
} srv_metrics_addr;

/* "HOST:PORT", HOST an IPv4 address, "[IPv6]" or "localhost" (127.0.0.1),
 * PORT 1..65535. False on anything else. */
bool srv_metrics_addr_parse(const char *s, srv_metrics_addr *out);

/* A zeroed set; NULL when out of memory. st: the store whose figures a
 * scrape shows (may be NULL: no store series). */
srv_metrics *srv_metrics_new(struct store *st);

/* Counts one answered request: its call case (Paywire__V1__Request__CallCase;
 * 0 or out of range: call "none"), call name (a static string), status and
 * latency in µs. */
void srv_metrics_request(srv_metrics *m, unsigned call_case, const char *call_name,
    pw_status st, uint64_t duration_us);

/* Webhook outcomes, by index. */
typedef enum srv_metrics_wh {
	SRV_METRICS_WH_APPLIED = 0,
	SRV_METRICS_WH_DUPLICATE,
	SRV_METRICS_WH_IGNORED,
	SRV_METRICS_WH_ANOMALY,
	SRV_METRICS_WH_QUARANTINED,
	SRV_METRICS_WH_REJECTED,
} srv_metrics_wh;
void srv_metrics_webhook(srv_metrics *m, pw_provider p, srv_metrics_wh outcome);

/* Renders every series into t. */
void srv_metrics_render(srv_metrics *m, pw_text *t);

/* Binds addr (refusing a non-loopback one unless allow_public) and starts
 * the listener thread. PW_OK; PW_INVALID_ARGUMENT (address, public without
 * allow_public); PW_UNAVAILABLE (bind/listen failed: why says so). */
pw_status srv_metrics_start(srv_metrics *m, const char *addr, bool allow_public, char *why,
    size_t why_size) PW_WUR;

/* The bound port (after start; for tests with port 0 - not accepted by the
 * flag, which wants 1..65535). */
unsigned srv_metrics_port(const srv_metrics *m);

/* Stops the listener (if started; before the store closes: a scrape reads
 * it). Recording goes on working. NULL: nothing. */
void srv_metrics_stop(srv_metrics *m);

/* Stops the listener (if started) and frees m. NULL: nothing. */
void srv_metrics_free(srv_metrics *m);

#endif
