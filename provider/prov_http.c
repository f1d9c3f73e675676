/* prov_http.c - outbound provider calls through libcurl (see prov_http.h).
 *
 * The pool: one CURLSH shares the connection cache, DNS and TLS sessions
 * between the easy handles (locked by a mutex per data kind); easy handles
 * are kept on a free list and reset between calls, so a connection (and its
 * TLS session) is reused across calls and threads. A counting gate bounds
 * the calls in flight, which bounds the connections: max_in_flight is also
 * the connection cache's size. */
#include "prov_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "paywire/version.h"
#include "prov_curl.h"
#include "pw_limits.h"

struct prov_http {
	prov_http_cfg cfg;
	CURLSH *share;
	pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
	pthread_mutex_t mu;       /* gate, free list, stats */
	pthread_cond_t cv;        /* a slot freed */
	uint32_t in_flight;
	CURL **free_list;         /* max_in_flight easy handles at most */
	uint32_t n_free;
	prov_http_stats stats;
};

/* ---- the shared connection cache's locks ---- */

static void
prov_share_lock(CURL *e, curl_lock_data data, curl_lock_access access, void *arg)
{
	prov_http *h = arg;

	(void) e;
	(void) access;
	if ((int) data >= 0 && data < CURL_LOCK_DATA_LAST) {
		(void) pthread_mutex_lock(&h->share_mu[data]);
	}
}

static void
prov_share_unlock(CURL *e, curl_lock_data data, void *arg)
{
	prov_http *h = arg;

	(void) e;
	if ((int) data >= 0 && data < CURL_LOCK_DATA_LAST) {
		(void) pthread_mutex_unlock(&h->share_mu[data]);
	}
}

static uint32_t
prov_or(uint32_t v, uint32_t dflt)
{
	return v != 0 ? v : dflt;
}

pw_status
prov_http_new(const prov_http_cfg *cfg, prov_http **out)
{
	prov_http *h;

	PW_ASSERT(cfg != NULL && out != NULL);
	*out = NULL;
	if (prov_curl_ready() != PW_OK) {
		pw_log(PW_LOG_ERROR, "provider calls: libcurl did not initialise");
		return PW_UNAVAILABLE;
	}
	h = pw_calloc(1, sizeof(*h));
	if (h == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	h->cfg = *cfg;
	h->cfg.connect_timeout_ms = prov_or(cfg->connect_timeout_ms, PW_PROVIDER_CONNECT_MS);
	h->cfg.attempt_timeout_ms = prov_or(cfg->attempt_timeout_ms, PW_PROVIDER_ATTEMPT_MS);
	h->cfg.max_in_flight = prov_or(cfg->max_in_flight, PW_PROVIDER_CONNS_MAX);
	h->cfg.backoff_base_ms = prov_or(cfg->backoff_base_ms, PW_PROVIDER_BACKOFF_BASE_MS);
	h->cfg.backoff_cap_ms = prov_or(cfg->backoff_cap_ms, PW_PROVIDER_BACKOFF_CAP_MS);
	h->cfg.max_attempts = prov_or(cfg->max_attempts, PW_PROVIDER_ATTEMPTS_MAX);
	if (h->cfg.max_in_flight > PW_PROVIDER_CONNS_LIMIT ||
	    h->cfg.max_attempts > PW_PROVIDER_ATTEMPTS_LIMIT ||
	    h->cfg.connect_timeout_ms > h->cfg.attempt_timeout_ms ||
	    h->cfg.backoff_base_ms > h->cfg.backoff_cap_ms) {
		pw_free(h);
		return PW_INVALID_ARGUMENT;
	}
	h->free_list = pw_calloc(h->cfg.max_in_flight, sizeof(*h->free_list));
	h->share = curl_share_init();
	if (h->free_list == NULL || h->share == NULL) {
		if (h->share != NULL) {
			(void) curl_share_cleanup(h->share);
		}
		pw_free(h->free_list);
		pw_free(h);
		return PW_RESOURCE_EXHAUSTED;
	}
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
		(void) pthread_mutex_init(&h->share_mu[i], NULL);
	}
	(void) pthread_mutex_init(&h->mu, NULL);
	(void) pthread_cond_init(&h->cv, NULL);
	(void) curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, prov_share_lock);
	(void) curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, prov_share_unlock);
	(void) curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	(void) curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	(void) curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	(void) curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = h;
	return PW_OK;
}

void
prov_http_free(prov_http *h)
{
	if (h == NULL) {
		return;
	}
	PW_ASSERT(h->in_flight == 0);
	for (uint32_t i = 0; i < h->n_free; i++) {
		curl_easy_cleanup(h->free_list[i]);
	}
	(void) curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
		(void) pthread_mutex_destroy(&h->share_mu[i]);
	}
	(void) pthread_mutex_destroy(&h->mu);
	(void) pthread_cond_destroy(&h->cv);
	pw_free(h->free_list);
	pw_free(h);
}

void
prov_http_stats_get(prov_http *h, prov_http_stats *out)
{
	(void) pthread_mutex_lock(&h->mu);
	*out = h->stats;
	(void) pthread_mutex_unlock(&h->mu);
}

/* ---- the gate ---- */

static void
prov_deadline_ts(int64_t deadline_mono_ms, struct timespec *ts)
{
	/* the condition variable waits on CLOCK_REALTIME: convert */
	int64_t left = deadline_mono_ms - pw_monotonic_ms();
	struct timespec now;

	(void) clock_gettime(CLOCK_REALTIME, &now);
	if (left < 0) {
		left = 0;
	}
	ts->tv_sec = now.tv_sec + (time_t) (left / 1000);
	ts->tv_nsec = now.tv_nsec + (long) (left % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* A slot and an easy handle, or NULL at the deadline (or out of memory:
 * *oom set). */
static CURL *
prov_acquire(prov_http *h, int64_t deadline_ms, bool *oom)
{
	CURL *e = NULL;
	struct timespec ts;

	*oom = false;
	prov_deadline_ts(deadline_ms, &ts);
	(void) pthread_mutex_lock(&h->mu);
	while (h->in_flight >= h->cfg.max_in_flight) {
		if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) == ETIMEDOUT) {
			(void) pthread_mutex_unlock(&h->mu);
			return NULL;
		}
	}
	h->in_flight++;
	if (h->n_free > 0) {
		e = h->free_list[--h->n_free];
	}
	(void) pthread_mutex_unlock(&h->mu);
	if (e == NULL) {
		e = curl_easy_init();
	}
	if (e == NULL) {
		(void) pthread_mutex_lock(&h->mu);
		h->in_flight--;
		(void) pthread_cond_signal(&h->cv);
		(void) pthread_mutex_unlock(&h->mu);
		*oom = true;
	}
	return e;
}

static void
prov_release(prov_http *h, CURL *e)
{
	(void) pthread_mutex_lock(&h->mu);
	PW_ASSERT(h->in_flight > 0 && h->n_free < h->cfg.max_in_flight);
	h->free_list[h->n_free++] = e; /* its connection stays in the shared cache */
	h->in_flight--;
	(void) pthread_cond_signal(&h->cv);
	(void) pthread_mutex_unlock(&h->mu);
}

/* ---- one attempt ---- */


typedef struct prov_hdrs {
	int should_retry;        /* -1 not sent, 0 false, 1 true */
	uint32_t retry_after_ms; /* 0: not sent */
	char request_id[80];
} prov_hdrs;

/* "Name: value\r\n" -> value trimmed, when name matches (case-insensitive). */
static bool
prov_header_is(const char *line, size_t len, const char *name, char *val, size_t vsize)
{
	size_t nlen = strlen(name);
	size_t i;
	size_t j;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':') {
		return false;
	}
	i = nlen + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t')) {
		i++;
	}
	j = len;
	while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' ')) {
		j--;
	}
	if (j - i >= vsize) {
		j = i + vsize - 1;
	}
	memcpy(val, line + i, j - i);
	val[j - i] = '\0';
	return true;
}

static size_t
prov_header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	prov_hdrs *hd = arg;
	size_t len = size * nmemb;
	char v[96];

	if (prov_header_is(line, len, "stripe-should-retry", v, sizeof(v))) {
		hd->should_retry = strcasecmp(v, "true") == 0 ? 1 : strcasecmp(v, "false") == 0 ? 0 : -1;
	} else if (prov_header_is(line, len, "retry-after", v, sizeof(v))) {
		/* delta-seconds only (what Stripe and Razorpay send); an HTTP
		 * date is ignored: the backoff applies */
		char *end = NULL;
		unsigned long s = strtoul(v, &end, 10);
		if (end != v && *end == '\0' && s <= PW_PROVIDER_RETRY_AFTER_MAX_S) {
			hd->retry_after_ms = (uint32_t) s * 1000u;
		}
	} else if (prov_header_is(line, len, "request-id", v, sizeof(v)) ||
	    prov_header_is(line, len, "x-request-id", v, sizeof(v))) {
		(void) pw_strlcpy(hd->request_id, v, sizeof(hd->request_id));
	}
	return len;
}

/* The URL the policy allows: https (or http with allow_plain_http), no
 * user:password in it. */
static bool
prov_url_ok(const prov_http *h, const char *url)
{
	const char *rest;

	if (strncmp(url, "https://", 8) == 0) {
		rest = url + 8;
	} else if (h->cfg.allow_plain_http && strncmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else {
		return false;
	}
	return rest[0] != '\0' && strcspn(rest, "@/") == strcspn(rest, "/") &&
	    strlen(url) < PW_PROVIDER_URL_BYTES_MAX;
}

/* One attempt: the status (0 for none) and the body. *retryable says
 * whether another attempt may help. */
static void
prov_attempt(prov_http *h, CURL *e, const prov_http_req *req, int64_t left_ms,
    prov_http_resp *resp, prov_hdrs *hd, bool *retryable)
{
	struct curl_slist *hl = NULL;
	prov_curl_sink sink = { .max = PW_PROVIDER_BODY_BYTES_MAX };
	char line[PW_PROVIDER_HEADER_BYTES_MAX];
	long connects = 0;
	CURLcode rc;
	long tmo = (long) (left_ms < (int64_t) h->cfg.attempt_timeout_ms ? left_ms
	                                                                   : h->cfg.attempt_timeout_ms);

	memset(hd, 0, sizeof(*hd));
	hd->should_retry = -1;
	curl_easy_reset(e);
	(void) curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	(void) curl_easy_setopt(e, CURLOPT_URL, req->url);
	(void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, h->cfg.allow_plain_http ? "http,https"
	                                                                          : "https");
	(void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->cfg.ca_file != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_CAINFO, h->cfg.ca_file);
	}
	(void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long) h->cfg.connect_timeout_ms < tmo ? (long) h->cfg.connect_timeout_ms : tmo);
	(void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, tmo > 0 ? tmo : 1L);
	(void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void) curl_easy_setopt(e, CURLOPT_MAXCONNECTS, (long) h->cfg.max_in_flight);
	(void) curl_easy_setopt(e, CURLOPT_USERAGENT, "paywire/" PW_VERSION_STRING);
	(void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, prov_curl_sink_cb);
	(void) curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
	(void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, prov_header_cb);
	(void) curl_easy_setopt(e, CURLOPT_HEADERDATA, hd);
	(void) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""); /* what libcurl can decode */
	if (strcmp(req->method, "POST") == 0) {
		(void) curl_easy_setopt(e, CURLOPT_POST, 1L);
		(void) curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		(void) curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t) (req->body != NULL ? req->body_len : 0));
		if (req->content_type != NULL) {
			(void) snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
			hl = curl_slist_append(hl, line);
		}
	}
	if (req->bearer != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, req->bearer);
		(void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
	} else if (req->basic_user != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_USERNAME, req->basic_user);
		(void) curl_easy_setopt(e, CURLOPT_PASSWORD, req->basic_pass != NULL ? req->basic_pass : "");
		(void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
	}
	if (req->idempotency_key != NULL) {
		(void) snprintf(line, sizeof(line), "Idempotency-Key: %s", req->idempotency_key);
		hl = curl_slist_append(hl, line);
	}
	if (req->extra_header != NULL) {
		hl = curl_slist_append(hl, req->extra_header);
	}
	hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
	(void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(e);
	(void) curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
	/* the secrets set on the handle go with the reset at its next use; the
	 * options holding them are cleared now */
	(void) curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, NULL);
	(void) curl_easy_setopt(e, CURLOPT_PASSWORD, NULL);
	(void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	(void) pthread_mutex_lock(&h->mu);
	h->stats.attempts++;
	h->stats.connects += (uint64_t) connects;
	(void) pthread_mutex_unlock(&h->mu);

	pw_free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = 0;
	resp->error[0] = '\0';
	if (hd->request_id[0] != '\0') {
		(void) pw_strlcpy(resp->request_id, hd->request_id, sizeof(resp->request_id));
	}
	if (rc != CURLE_OK) {
		(void) snprintf(resp->error, sizeof(resp->error), "%s",
		    sink.too_big ? "the provider's answer is larger than paywire reads"
		                 : curl_easy_strerror(rc));
		pw_free(sink.buf);
		/* a refused URL scheme or a TLS verification failure will not get
		 * better by trying again */
		*retryable = !sink.too_big && rc != CURLE_UNSUPPORTED_PROTOCOL &&
		    rc != CURLE_PEER_FAILED_VERIFICATION && rc != CURLE_SSL_CACERT_BADFILE &&
		    rc != CURLE_URL_MALFORMAT && rc != CURLE_OUT_OF_MEMORY;
		return;
	}
	(void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = sink.buf != NULL ? sink.buf : pw_calloc(1, 1);
	resp->body_len = sink.len;
	if (hd->should_retry >= 0) {
		*retryable = hd->should_retry == 1;
	} else {
		*retryable = resp->status == 409 || resp->status == 429 || resp->status >= 500;
	}
}

uint32_t
prov_http_backoff_ms(const prov_http_cfg *cfg, uint32_t n, uint32_t retry_after_ms, double r)
{
	uint64_t d = cfg->backoff_base_ms;

	PW_ASSERT(n >= 1);
	for (uint32_t i = 1; i < n && d < cfg->backoff_cap_ms; i++) {
		d *= 2;
	}
	if (d > cfg->backoff_cap_ms) {
		d = cfg->backoff_cap_ms;
	}
	/* jitter: a uniform share of the upper half, so retries of many calls
	 * spread out and none waits less than half the schedule */
	d = d / 2 + (uint64_t) ((double) (d - d / 2) * r);
	if (retry_after_ms > d) {
		d = retry_after_ms; /* the provider asked for longer */
	}
	return (uint32_t) d;
}

static void
prov_sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

pw_status
prov_http_call(prov_http *h, const prov_http_req *req, prov_http_resp *resp)
{
	prov_hdrs hd;
	bool retryable = false;
	bool oom = false;
	CURL *e;

	PW_ASSERT(h != NULL && req != NULL && resp != NULL && req->method != NULL && req->url != NULL);
	memset(resp, 0, sizeof(*resp));
	if (!prov_url_ok(h, req->url)) {
		(void) snprintf(resp->error, sizeof(resp->error),
		    "the provider URL must be https:// with a host and no credentials in it");
		return PW_INVALID_ARGUMENT;
	}
	if (strcmp(req->method, "POST") != 0 && strcmp(req->method, "GET") != 0) {
		return PW_INVALID_ARGUMENT;
	}
	e = prov_acquire(h, req->deadline_ms, &oom);
	if (e == NULL) {
		(void) snprintf(resp->error, sizeof(resp->error), "%s",
		    oom ? "out of memory" : "no connection to the provider was free before the deadline");
		return oom ? PW_RESOURCE_EXHAUSTED : PW_DEADLINE_EXCEEDED;
	}
	(void) pthread_mutex_lock(&h->mu);
	h->stats.calls++;
	(void) pthread_mutex_unlock(&h->mu);
	for (;;) {
		int64_t left = req->deadline_ms - pw_monotonic_ms();
		uint32_t wait;

		if (left <= 0) {
			if (resp->attempts == 0) {
				(void) snprintf(resp->error, sizeof(resp->error), "the deadline passed");
			}
			resp->retryable = true;
			break;
		}
		resp->attempts++;
		prov_attempt(h, e, req, left, resp, &hd, &retryable);
		resp->retryable = retryable;
		if (resp->status != 0 && !retryable) {
			break; /* the provider's final word, success or not */
		}
		if (!retryable || resp->attempts >= h->cfg.max_attempts) {
			break;
		}
		wait = prov_http_backoff_ms(&h->cfg, resp->attempts, hd.retry_after_ms,
		    (double) randombytes_uniform(1u << 30) / (double) (1u << 30));
		if ((int64_t) wait >= req->deadline_ms - pw_monotonic_ms()) {
			break; /* the wait would end past the deadline: answer now */
		}
		(void) pthread_mutex_lock(&h->mu);
		h->stats.retries++;
		(void) pthread_mutex_unlock(&h->mu);
		prov_sleep_ms(wait);
	}
	prov_release(h, e);
	if (resp->status != 0 && !(resp->retryable && (resp->status == 409 || resp->status == 429 ||
	                                               resp->status >= 500))) {
		return PW_OK;
	}
	return PW_UNAVAILABLE;
}

void
prov_http_resp_fini(prov_http_resp *resp)
{
	if (resp != NULL) {
		pw_free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
	}
}
