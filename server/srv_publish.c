/*
 * srv_publish.c - the change feed's publisher. See srv_publish.h.
 */
#include "srv_publish.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "pw_common.h"
#include "srv_map.h"

/* How often the publisher looks without being woken (other servers on a
 * shared store commit without telling this one). */
#define PW_PUBLISH_POLL_MS 1000

struct srv_publisher {
	store *st;                 /* read with store_events_list */
	nng_socket sock;           /* pub0 */
	pthread_t thread;
	pthread_mutex_t mu;        /* guards pending, stopping */
	pthread_cond_t cv;         /* CLOCK_MONOTONIC */
	bool pending;              /* a commit since the thread last looked */
	bool stopping;
	bool joined;               /* main thread only: the thread has ended */
	uint64_t last;             /* seq of the last event sent (thread only) */
	atomic_uint_fast64_t sent; /* events sent */
};

void
srv_publish_notify(void *arg)
{
	srv_publisher *p = arg;

	pthread_mutex_lock(&p->mu);
	p->pending = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* One event: merchant id, 0x00, packed Event. */
static void
publish_one(srv_publisher *p, Paywire__Store__V1__AuditRecord *rec)
{
	Paywire__V1__Event ev;
	size_t mlen = strlen(rec->merchant_id);
	size_t len;
	uint8_t *buf;
	int rv;

	srv_map_event(rec, &ev);
	len = mlen + 1 + paywire__v1__event__get_packed_size(&ev);
	buf = malloc(len);
	if (buf == NULL) {
		pw_log(PW_LOG_WARN, "publish: out of memory for event %llu: subscribers fill the gap "
		    "with ListEvents", (unsigned long long) rec->seq);
		return;
	}
	memcpy(buf, rec->merchant_id, mlen);
	buf[mlen] = 0x00;
	(void) paywire__v1__event__pack(&ev, buf + mlen + 1);
	rv = nng_send(p->sock, buf, len, NNG_FLAG_NONBLOCK);
	free(buf);
	if (rv != 0) {
		pw_log(PW_LOG_WARN, "publish: event %llu not sent: %s", (unsigned long long) rec->seq,
		    nng_strerror(rv));
		return;
	}
	atomic_fetch_add(&p->sent, 1);
}

/* Sends every committed event after p->last. */
static void
publish_drain(srv_publisher *p)
{
	for (;;) {
		Paywire__Store__V1__AuditRecord **list = NULL;
		uint64_t next = p->last;
		bool more = false;
		size_t n = 0;
		pw_status st;

		st = store_events_list(p->st, NULL, p->last, PW_LIST_LIMIT_MAX, &list, &n, &more, &next);
		if (st != PW_OK) {
			pw_log(PW_LOG_WARN, "publish: reading events after %llu: %s",
			    (unsigned long long) p->last, pw_status_name(st));
			return;
		}
		for (size_t i = 0; i < n; i++) {
			publish_one(p, list[i]);
		}
		store_events_free(list, n);
		p->last = next;
		if (!more) {
			return;
		}
	}
}

static void *
publish_main(void *arg)
{
	srv_publisher *p = arg;
	struct timespec until;
	bool stop;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += PW_PUBLISH_POLL_MS / 1000;
		pthread_mutex_lock(&p->mu);
		while (!p->pending && !p->stopping) {
			if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
				break;
			}
		}
		p->pending = false;
		stop = p->stopping;
		pthread_mutex_unlock(&p->mu);
		publish_drain(p);
		if (stop) {
			return NULL;
		}
	}
}

pw_status
srv_publish_start(srv_publisher **out, store *st, const char *url, char *why, size_t why_size)
{
	pthread_condattr_t ca;
	srv_publisher *p;
	int rv;

	PW_ASSERT(out != NULL && st != NULL && url != NULL);
	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	p->st = st;
	atomic_init(&p->sent, 0);
	if (store_events_head(st, &p->last) != PW_OK) {
		free(p);
		return pw_why(why, why_size, PW_UNAVAILABLE, "--publish: cannot read the event head");
	}
	rv = nng_pub0_open(&p->sock);
	if (rv == 0) {
		rv = nng_listen(p->sock, url, NULL, 0);
		if (rv != 0) {
			(void) nng_close(p->sock);
		}
	}
	if (rv != 0) {
		free(p);
		return pw_why(why, why_size, PW_UNAVAILABLE, "--publish %s: %s", url, nng_strerror(rv));
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, publish_main, p) != 0) {
		(void) nng_close(p->sock);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return pw_why(why, why_size, PW_UNAVAILABLE, "--publish: cannot start its thread");
	}
	*out = p;
	return PW_OK;
}

uint64_t
srv_publish_sent(const srv_publisher *p)
{
	return p != NULL ? atomic_load(&((srv_publisher *) p)->sent) : 0;
}

void
srv_publish_stop(srv_publisher *p)
{
	if (p == NULL || p->joined) {
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	(void) pthread_join(p->thread, NULL); /* it sent what was committed, then ended */
	p->joined = true;
}

void
srv_publish_free(srv_publisher *p)
{
	if (p == NULL) {
		return;
	}
	srv_publish_stop(p);
	(void) nng_close(p->sock);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
