/* srv_notify_worker.c - the delivery worker of merchant notifications
 * (srv_notify.h, docs/NOTIFY.md). */
#include "srv_notify.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "prov_notify_text.h"
#include "prov_smtp.h"
#include "prov_telegram.h"
#include "pw_limits.h"

/* The documented schedule (docs/NOTIFY.md, --help): ~3 days 3 hours in all,
 * 10 attempts. */
const int64_t srv_notify_schedule_ms[] = {
	5 * 1000LL,            /* 5 s */
	5 * 60 * 1000LL,       /* 5 min */
	30 * 60 * 1000LL,      /* 30 min */
	2 * 3600 * 1000LL,     /* 2 h */
	5 * 3600 * 1000LL,     /* 5 h */
	10 * 3600 * 1000LL,    /* 10 h */
	14 * 3600 * 1000LL,    /* 14 h */
	20 * 3600 * 1000LL,    /* 20 h */
	24 * 3600 * 1000LL,    /* 24 h */
};
const size_t srv_notify_schedule_len = sizeof(srv_notify_schedule_ms) / sizeof(srv_notify_schedule_ms[0]);

int64_t
srv_notify_backoff_ms(uint32_t n, double r)
{
	int64_t base;

	if (n == 0 || n > srv_notify_schedule_len) {
		return 0;
	}
	base = srv_notify_schedule_ms[n - 1];
	return base - base / 10 + (int64_t) ((double) (base / 5) * r); /* +-10% */
}

/* The send function of each endpoint kind (the store's enum value); NULL:
 * not supported (a failure on the schedule, see deliver()). */
static const srv_notify_send_fn srv_notify_senders[] = {
	[PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK] = srv_notify_send_webhook,
	[PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL] = srv_notify_send_email,
	[PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM] = srv_notify_send_telegram,
};

typedef struct notify_job {
	Paywire__Store__V1__OutboxMessageRecord *m;
	struct notify_job *next;  /* queue, then the in-flight list */
} notify_job;

/* Jobs queued or in flight, at most: bounds memory and the scan's work. */
#define NOTIFY_INFLIGHT_MAX 256
/* Deliveries that ended recently, remembered so that a scan whose snapshot
 * was taken before their result committed does not send them again. */
#define NOTIFY_DONE_RING 512

typedef struct notify_done {
	char msg_id[STORE_NOTIFY_ID_BYTES];
	uint64_t gen;            /* n->done_gen when it ended (0: empty slot) */
} notify_done;

struct srv_notify {
	srv_notify_cfg cfg;
	store *st;
	pthread_mutex_t mu;
	pthread_cond_t scan_cv;    /* the scanner waits here (CLOCK_MONOTONIC) */
	pthread_cond_t work_cv;    /* the senders wait here */
	notify_job *queue;         /* taken by senders */
	notify_job *queue_tail;
	notify_job *busy;          /* every job queued or being sent (by msg_id) */
	size_t n_busy;
	notify_done done[NOTIFY_DONE_RING]; /* ring of deliveries that ended */
	size_t done_next;
	uint64_t done_gen;         /* deliveries ended so far */
	uint64_t scan_gen;         /* done_gen when the running scan began (scanner) */
	bool poked;
	bool stopping;
	pthread_t scanner;
	bool scanner_started;
	uint32_t n_threads;
	pthread_t threads[PW_NOTIFY_WORKERS_MAX];
};

static int64_t
poll_ms(void)
{
#ifdef PW_TEST_HOOKS
	return PW_NOTIFY_POLL_MS_TEST;
#else
	return PW_NOTIFY_POLL_MS;
#endif
}

/* ---- the webhook sender ---- */

pw_status
srv_notify_send_webhook(const srv_notify_cfg *cfg, const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out)
{
	char sig[PW_NOTIFY_SIG_HEADER_BYTES];
	char sig2[PW_NOTIFY_SIG_HEADER_BYTES / 2];
	int64_t ts = now_ms / 1000;
	prov_notify_req req = { .url = ep->url, .body = m->payload, .body_len = strlen(m->payload),
		.msg_id = m->msg_id, .timestamp_s = ts, .signature = sig,
		.connect_ms = cfg->connect_ms, .total_ms = cfg->timeout_ms };
	prov_notify_resp resp;
	pw_status st;

	memset(out, 0, sizeof(*out));
	if (!prov_notify_sign(sec->current, m->msg_id, ts, m->payload, req.body_len, sig,
	        sizeof(sig) / 2)) {
		snprintf(out->error, sizeof(out->error), "the endpoint's secret is malformed: rotate it");
		return PW_OK;
	}
	if (sec->has_previous &&
	    prov_notify_sign(sec->previous, m->msg_id, ts, m->payload, req.body_len, sig2,
	        sizeof(sig2))) {
		/* a rotation's grace: both signatures, space-separated */
		size_t n = strlen(sig);
		sig[n] = ' ';
		(void) pw_strlcpy(sig + n + 1, sig2, sizeof(sig) - n - 1);
	}
	st = prov_notify_post(&cfg->policy, &req, &resp);
	out->status = resp.status;
	(void) pw_strlcpy(out->error, resp.error, sizeof(out->error));
	sodium_memzero(sig, sizeof(sig));
	sodium_memzero(sig2, sizeof(sig2));
	return st;
}

/* ---- email and Telegram: the same message as a short text ---- */

/* The subject and body of message m (prov_notify_text): its type, and the
 * session, merchant and detail of its payload's data. PW_OK or
 * PW_INVALID_ARGUMENT (a payload that is not ours: never, short of a bug). */
static pw_status
notify_text(const Paywire__Store__V1__OutboxMessageRecord *m,
    char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE], char body[PW_NOTIFY_TEXT_BODY_SIZE])
{
	json_error_t jerr;
	json_t *root = json_loads(m->payload, JSON_REJECT_DUPLICATES, &jerr);
	json_t *data = json_is_object(root) ? json_object_get(root, "data") : NULL;
	prov_notify_event ev = { .type = m->event_type,
		.event_unix_s = m->event_at_unix_ms / 1000 };
	pw_status st;

	if (json_is_object(data)) {
		ev.session_id = json_string_value(json_object_get(data, "session_id"));
		ev.merchant_id = json_string_value(json_object_get(data, "merchant_id"));
		ev.detail = json_string_value(json_object_get(data, "detail"));
	}
	st = prov_notify_text(&ev, subject, body);
	json_decref(root);
	return st;
}

_Static_assert(PW_NOTIFY_SUBJECT_BYTES_MAX + 2 + PW_NOTIFY_TEXT_BYTES_MAX <=
        PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX, "a subject and a body fit one Telegram message");

/* A channel's outcome as the worker's: accepted is delivered (200); the
 * rest fail on the schedule with err (a 429's wait is the schedule's). */
static pw_status
notify_chan_outcome(pw_status st, const char *err, srv_notify_send_out *out)
{
	if (st == PW_OK) {
		out->status = 200;
		return PW_OK;
	}
	out->status = 0;
	(void) pw_strlcpy(out->error, err[0] != '\0' ? err : pw_status_message(st),
	    sizeof(out->error));
	return PW_OK;
}

pw_status
srv_notify_send_email(const srv_notify_cfg *cfg, const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out)
{
	char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE];
	char body[PW_NOTIFY_TEXT_BODY_SIZE];
	char err[PW_NOTIFY_ERROR_BYTES_MAX];
	prov_smtp_cfg sc = { .url = cfg->smtp_url, .from = cfg->smtp_from,
		.user = cfg->smtp_user[0] != '\0' ? cfg->smtp_user : NULL,
		.password = cfg->smtp_user[0] != '\0' ? cfg->smtp_password : NULL,
		.ca_file = cfg->policy.ca_file, .allow_plain = cfg->smtp_allow_plain,
		.timeout_ms = (long) cfg->timeout_ms, .connect_timeout_ms = (long) cfg->connect_ms };
	pw_status st;

	(void) sec;
	(void) now_ms;
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (cfg->smtp_url[0] == '\0') {
		(void) pw_strlcpy(out->error, "email endpoints need the server's --smtp-url",
		    sizeof(out->error));
		return PW_OK;
	}
	st = notify_text(m, subject, body);
	if (st == PW_OK) {
		/* the message id is the webhook-id: a resend has the same Message-ID */
		st = prov_smtp_send(&sc, ep->url, subject, body, m->msg_id, err, sizeof(err));
	}
	return notify_chan_outcome(st, err, out);
}

pw_status
srv_notify_send_telegram(const srv_notify_cfg *cfg,
    const Paywire__Store__V1__OutboxMessageRecord *m,
    const Paywire__Store__V1__NotifyEndpointRecord *ep, const store_notify_secrets *sec,
    int64_t now_ms, srv_notify_send_out *out)
{
	char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE];
	char body[PW_NOTIFY_TEXT_BODY_SIZE];
	char text[PW_NOTIFY_TEXT_SUBJECT_SIZE + PW_NOTIFY_TEXT_BODY_SIZE + 2];
	char err[PW_NOTIFY_ERROR_BYTES_MAX];
	prov_telegram_cfg tc = { .api_base = cfg->telegram_api, .ca_file = cfg->policy.ca_file,
		.allow_http = cfg->telegram_allow_http, .timeout_ms = (long) cfg->timeout_ms,
		.connect_timeout_ms = (long) cfg->connect_ms };
	int64_t retry_after_ms = 0;
	pw_status st;

	(void) sec;
	(void) now_ms;
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (cfg->telegram_token[0] == '\0') {
		(void) pw_strlcpy(out->error,
		    "Telegram endpoints need the server's PAYWIRE_TELEGRAM_BOT_TOKEN", sizeof(out->error));
		return PW_OK;
	}
	st = notify_text(m, subject, body);
	if (st == PW_OK) {
		/* the subject as the first line, then the body */
		snprintf(text, sizeof(text), "%s\n\n%s", subject, body);
		st = prov_telegram_send(&tc, cfg->telegram_token, ep->url, text, &retry_after_ms, err,
		    sizeof(err));
	}
	return notify_chan_outcome(st, err, out);
}

/* ---- one delivery ---- */

typedef struct notify_rec {
	store_outbox_attempt a;
	bool disabled;
} notify_rec;

static pw_status
notify_rec_apply(store_txn *t, void *arg)
{
	notify_rec *r = arg;

	return store_outbox_result(t, &r->a, &r->disabled);
}

static void
deliver(srv_notify *n, const Paywire__Store__V1__OutboxMessageRecord *m)
{
	Paywire__Store__V1__NotifyEndpointRecord *ep = NULL;
	store_notify_secrets sec;
	srv_notify_send_out out;
	char err[PW_NOTIFY_ERROR_BYTES_MAX];
	notify_rec r = { .a = { .msg_id = m->msg_id, .disable_after_ms = n->cfg.disable_after_ms } };
	int64_t now = pw_now_unix_ms();
	pw_status st;

	memset(&out, 0, sizeof(out));
	err[0] = '\0';
	r.a.attempt_at_ms = now;
	st = store_endpoint_get(n->st, m->merchant_id, m->endpoint_id, &ep, &sec);
	if (st == PW_NOT_FOUND || (st == PW_OK &&
	    ep->state != PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE)) {
		r.a.outcome = STORE_OUTBOX_SKIPPED; /* deleted or disabled: a dead letter */
	} else if (st == PW_INTERNAL) {
		/* its secret does not open (logged by the store): a failure like any
		 * other, on the schedule, until the merchant rotates it */
		r.a.outcome = STORE_OUTBOX_FAILED;
		snprintf(err, sizeof(err), "the endpoint's secret does not open: rotate it");
	} else if (st != PW_OK) {
		pw_log(PW_LOG_WARN, "notify: endpoint %s not readable (%s): message %s stays",
		    m->endpoint_id, pw_status_message(st), m->msg_id);
		return; /* the next scan tries again */
	} else if ((size_t) ep->kind >= sizeof(srv_notify_senders) / sizeof(srv_notify_senders[0]) ||
	    srv_notify_senders[ep->kind] == NULL) {
		r.a.outcome = STORE_OUTBOX_FAILED;
		snprintf(err, sizeof(err), "no sender for this endpoint kind");
	} else {
		st = srv_notify_senders[ep->kind](&n->cfg, m, ep, &sec, now, &out);
		(void) pw_strlcpy(err, out.error, sizeof(err));
		r.a.http_status = (int) out.status;
		if (out.status >= 200 && out.status < 300) {
			r.a.outcome = STORE_OUTBOX_DELIVERED;
		} else if (out.status == 410) {
			r.a.outcome = STORE_OUTBOX_GONE;
		} else {
			r.a.outcome = STORE_OUTBOX_FAILED;
			if (err[0] == '\0' && out.status != 0) {
				snprintf(err, sizeof(err), "HTTP %ld", out.status);
			}
		}
		/* st PW_INVALID_ARGUMENT: the policy refused the address (out.error
		 * says why): a failure like any other, on the schedule */
	}
	sodium_memzero(&sec, sizeof(sec));
	store_endpoint_free(ep);
	if (r.a.outcome == STORE_OUTBOX_FAILED) {
		r.a.retry_at_ms = now + srv_notify_backoff_ms(m->attempts + 1,
		    (double) randombytes_uniform(1000000) / 1e6);
		if (srv_notify_backoff_ms(m->attempts + 1, 0) == 0) {
			r.a.retry_at_ms = 0; /* the schedule is used up: a dead letter */
		}
	}
	r.a.error = err;
	st = store_apply_sync(n->st, notify_rec_apply, &r);
	if (st != PW_OK && st != PW_NOT_FOUND) {
		pw_log(PW_LOG_WARN, "notify: recording attempt %u of %s failed (%s): it is sent again",
		    m->attempts + 1, m->msg_id, pw_status_message(st));
	}
	pw_log(PW_LOG_DEBUG, "notify: %s to %s: %s (HTTP %d%s%s)", m->msg_id, m->endpoint_id,
	    r.a.outcome == STORE_OUTBOX_DELIVERED ? "delivered" :
	    r.a.outcome == STORE_OUTBOX_GONE ? "gone" :
	    r.a.outcome == STORE_OUTBOX_SKIPPED ? "skipped" : "failed",
	    r.a.http_status, err[0] != '\0' ? ", " : "", err);
	if (r.disabled) {
		pw_log(PW_LOG_WARN, "notify: endpoint %s of merchant %s disabled", m->endpoint_id,
		    m->merchant_id);
	}
}

/* ---- threads ---- */

static size_t
busy_for(srv_notify *n, const char *endpoint_id, const char *msg_id, bool *same)
{
	size_t k = 0;

	*same = false;
	for (notify_job *j = n->busy; j != NULL; j = j->next) {
		if (strcmp(j->m->endpoint_id, endpoint_id) == 0) {
			k++;
		}
		if (strcmp(j->m->msg_id, msg_id) == 0) {
			*same = true;
		}
	}
	return k;
}

/* A job is on two lists at once: `busy` (queued or being sent, through
 * job.next) and the senders' queue (through qnode.next) until a sender takes
 * it. */
typedef struct busy_node {
	notify_job job;
	notify_job qnode;
} busy_node;

static void *
sender_main(void *arg)
{
	srv_notify *n = arg;

	for (;;) {
		notify_job *q;
		busy_node *b;
		bool stop;

		(void) pthread_mutex_lock(&n->mu);
		while (n->queue == NULL && !n->stopping) {
			(void) pthread_cond_wait(&n->work_cv, &n->mu);
		}
		if (n->queue == NULL) {
			(void) pthread_mutex_unlock(&n->mu);
			return NULL;
		}
		q = n->queue;
		n->queue = q->next;
		if (n->queue == NULL) {
			n->queue_tail = NULL;
		}
		stop = n->stopping; /* read under the lock: srv_notify_stop writes it */
		(void) pthread_mutex_unlock(&n->mu);
		b = (busy_node *) (void *) ((char *) q - offsetof(busy_node, qnode));
		if (!stop) {
			deliver(n, b->job.m);
		}
		(void) pthread_mutex_lock(&n->mu);
		for (notify_job **pp = &n->busy; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == &b->job) {
				*pp = b->job.next;
				break;
			}
		}
		n->n_busy--;
		n->done_gen++;
		(void) pw_strlcpy(n->done[n->done_next].msg_id, b->job.m->msg_id,
		    sizeof(n->done[n->done_next].msg_id));
		n->done[n->done_next].gen = n->done_gen;
		n->done_next = (n->done_next + 1) % NOTIFY_DONE_RING;
		n->poked = true; /* a slot freed: look again */
		(void) pthread_cond_signal(&n->scan_cv);
		(void) pthread_mutex_unlock(&n->mu);
		paywire__store__v1__outbox_message_record__free_unpacked(b->job.m, NULL);
		pw_free(b);
	}
}

/* Under mu: msg_id's delivery ended after the running scan began, so the
 * scan's snapshot may still show it in the outbox. */
static bool
ended_since_scan(const srv_notify *n, const char *msg_id)
{
	for (size_t i = 0; i < NOTIFY_DONE_RING; i++) {
		if (n->done[i].gen > n->scan_gen && strcmp(n->done[i].msg_id, msg_id) == 0) {
			return true;
		}
	}
	return false;
}

/* store_outbox_skip_fn: a message in flight, or one whose endpoint is at its
 * limit, is not taken (the scan looks further, so a slow endpoint does not
 * hold up the others). */
static bool
scan_skip(const char *endpoint_id, const char *msg_id, void *arg)
{
	srv_notify *n = arg;
	bool same = false;
	size_t k;

	(void) pthread_mutex_lock(&n->mu);
	k = busy_for(n, endpoint_id, msg_id, &same);
	same = same || ended_since_scan(n, msg_id);
	(void) pthread_mutex_unlock(&n->mu);
	return same || (endpoint_id[0] != '\0' && k >= n->cfg.per_endpoint);
}

static void
scan_once(srv_notify *n)
{
	Paywire__Store__V1__OutboxMessageRecord **list = NULL;
	size_t count = 0;
	int64_t next = 0;
	pw_status st;

	(void) pthread_mutex_lock(&n->mu);
	n->scan_gen = n->done_gen; /* before the snapshot: what ended later is skipped */
	(void) pthread_mutex_unlock(&n->mu);
	st = store_outbox_due(n->st, pw_now_unix_ms(), PW_NOTIFY_BATCH_MAX, scan_skip, n, &list,
	    &count, &next);
	if (st != PW_OK) {
		pw_log(PW_LOG_WARN, "notify: reading the outbox failed: %s", pw_status_message(st));
		return;
	}
	(void) pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < count; i++) {
		bool same = false;
		size_t k = busy_for(n, list[i]->endpoint_id, list[i]->msg_id, &same);
		busy_node *b;

		if (same || ended_since_scan(n, list[i]->msg_id) || k >= n->cfg.per_endpoint ||
		    n->n_busy >= NOTIFY_INFLIGHT_MAX) {
			continue; /* in flight already, or its endpoint is at its limit */
		}
		b = pw_calloc(1, sizeof(*b));
		if (b == NULL) {
			break;
		}
		b->job.m = list[i];
		list[i] = NULL;
		b->job.next = n->busy;
		n->busy = &b->job;
		n->n_busy++;
		if (n->queue_tail != NULL) {
			n->queue_tail->next = &b->qnode;
		} else {
			n->queue = &b->qnode;
		}
		n->queue_tail = &b->qnode;
		(void) pthread_cond_signal(&n->work_cv);
	}
	(void) pthread_mutex_unlock(&n->mu);
	for (size_t i = 0; i < count; i++) {
		if (list[i] != NULL) {
			paywire__store__v1__outbox_message_record__free_unpacked(list[i], NULL);
		}
	}
	pw_free(list);
}

static void *
scanner_main(void *arg)
{
	srv_notify *n = arg;

	for (;;) {
		struct timespec ts;

		(void) pthread_mutex_lock(&n->mu);
		if (!n->poked && !n->stopping) {
			(void) clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (long) (poll_ms() % 1000) * 1000000L;
			ts.tv_sec += (time_t) (poll_ms() / 1000) + ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			(void) pthread_cond_timedwait(&n->scan_cv, &n->mu, &ts);
		}
		n->poked = false;
		if (n->stopping) {
			(void) pthread_mutex_unlock(&n->mu);
			return NULL;
		}
		(void) pthread_mutex_unlock(&n->mu);
		scan_once(n);
	}
}

pw_status
srv_notify_start(srv_notify **out, const srv_notify_cfg *cfg, store *st)
{
	srv_notify *n;
	pthread_condattr_t ca;

	PW_ASSERT(out != NULL && cfg != NULL && st != NULL);
	*out = NULL;
	if (cfg->workers == 0 || cfg->workers > PW_NOTIFY_WORKERS_MAX || cfg->per_endpoint == 0) {
		return PW_INVALID_ARGUMENT;
	}
	n = pw_calloc(1, sizeof(*n));
	if (n == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	n->cfg = *cfg;
	n->st = st;
	(void) pthread_mutex_init(&n->mu, NULL);
	(void) pthread_condattr_init(&ca);
	(void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void) pthread_cond_init(&n->scan_cv, &ca);
	(void) pthread_condattr_destroy(&ca);
	(void) pthread_cond_init(&n->work_cv, NULL);
	for (uint32_t i = 0; i < cfg->workers; i++) {
		if (pthread_create(&n->threads[i], NULL, sender_main, n) != 0) {
			break;
		}
		n->n_threads++;
	}
	if (n->n_threads == cfg->workers && pthread_create(&n->scanner, NULL, scanner_main, n) == 0) {
		n->scanner_started = true;
	}
	if (!n->scanner_started) {
		srv_notify_stop(n);
		srv_notify_free(n);
		return PW_RESOURCE_EXHAUSTED;
	}
	*out = n;
	return PW_OK;
}

void
srv_notify_poke(srv_notify *n)
{
	if (n == NULL) {
		return;
	}
	(void) pthread_mutex_lock(&n->mu);
	n->poked = true;
	(void) pthread_cond_signal(&n->scan_cv);
	(void) pthread_mutex_unlock(&n->mu);
}

void
srv_notify_stop(srv_notify *n)
{
	if (n == NULL) {
		return;
	}
	(void) pthread_mutex_lock(&n->mu);
	n->stopping = true;
	(void) pthread_cond_broadcast(&n->scan_cv);
	(void) pthread_cond_broadcast(&n->work_cv);
	(void) pthread_mutex_unlock(&n->mu);
	if (n->scanner_started) {
		(void) pthread_join(n->scanner, NULL);
		n->scanner_started = false;
	}
	for (uint32_t i = 0; i < n->n_threads; i++) {
		(void) pthread_join(n->threads[i], NULL);
	}
	n->n_threads = 0;
}

void
srv_notify_free(srv_notify *n)
{
	if (n == NULL) {
		return;
	}
	/* queued jobs never taken: they stay in the outbox for the next start */
	while (n->busy != NULL) {
		notify_job *j = n->busy;
		busy_node *b = (busy_node *) (void *) ((char *) j - offsetof(busy_node, job));
		n->busy = j->next;
		paywire__store__v1__outbox_message_record__free_unpacked(j->m, NULL);
		pw_free(b);
	}
	(void) pthread_mutex_destroy(&n->mu);
	(void) pthread_cond_destroy(&n->scan_cv);
	(void) pthread_cond_destroy(&n->work_cv);
	sodium_memzero(&n->cfg, sizeof(n->cfg)); /* the relay's password, the bot token */
	pw_free(n);
}
