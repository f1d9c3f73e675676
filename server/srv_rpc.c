/*
 * srv_rpc.c - nng REP socket, contexts and work items. See srv_rpc.h for the
 * state machine and the shutdown order.
 */
#include "srv_rpc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

typedef enum work_state {
	WORK_INIT = 0, /* created, not yet receiving */
	WORK_RECV,     /* nng_ctx_recv posted */
	WORK_SEND,     /* nng_ctx_send posted */
} work_state;

typedef struct srv_work {
	srv_rpc *rpc;          /* owner */
	nng_ctx ctx;           /* this item's REP context */
	nng_aio *aio;          /* the one aio, alternating recv and send */
	nng_msg *msg;          /* received frame, reused for the reply */
	work_state state;      /* what the aio is doing */
	atomic_int pending;    /* 2 while a write is queued: RECV callback + done */
	srv_call call;         /* the request being served */
	struct srv_work *reply_next; /* link in the replier's queue */
} srv_work;

struct srv_rpc {
	nng_socket sock;                              /* the REP socket */
	bool sock_open;                               /* sock needs nng_close */
	nng_listener listeners[PW_SRV_LISTEN_MAX];   /* started listeners */
	size_t listener_count;                        /* entries used */
	srv_work *works;                              /* contexts work items */
	uint32_t work_count;                          /* entries in works */
	srv_env *env;                                 /* dispatch state (not owned) */
	atomic_bool closing;                          /* destroy: do not re-arm receives */
	atomic_uint_fast64_t received;                /* frames received */
	atomic_uint_fast64_t sent;                    /* replies sent */
	atomic_uint_fast64_t send_errors;             /* replies nng could not send */
	atomic_int_fast64_t in_flight;                /* received, not yet answered */
	/* The replier: sends the replies of queued writes, so the store's
	 * writer hands them over in one go and starts its next batch instead
	 * of sending each reply itself. */
	pthread_mutex_t reply_mu;                     /* guards the three below */
	pthread_cond_t reply_cv;                      /* work queued or stop */
	srv_work *reply_head;                         /* FIFO of items to send */
	srv_work *reply_tail;
	bool reply_stop;                              /* destroy: drain, then exit */
	bool replier_started;                         /* `replier` is joinable */
	pthread_t replier;                            /* the replier thread */
};

static void work_cb(void *arg);

static void
work_recv(srv_work *w)
{
	w->state = WORK_RECV;
	nng_ctx_recv(w->ctx, w->aio);
}

/* A request is over (answered or abandoned): back to receiving. */
static void
work_next(srv_work *w)
{
	srv_call_reset(&w->call);
	atomic_fetch_sub(&w->rpc->in_flight, 1);
	if (atomic_load(&w->rpc->closing)) {
		w->state = WORK_INIT;
		return;
	}
	work_recv(w);
}

/* Sends c->reply in the received message. Called from the RECV callback or,
 * for a queued write, by whichever of the RECV callback and the writer's
 * done callback finishes second: the RECV callback itself, or the replier
 * thread the done callback queued the item to. */
static void
work_send(srv_work *w)
{
	srv_call *c = &w->call;
	int rv;

	PW_ASSERT(w->msg != NULL);
	nng_msg_clear(w->msg);
	rv = c->reply != NULL ? nng_msg_append(w->msg, c->reply, c->reply_len) : NNG_ENOMEM;
	if (rv != 0) {
		/* No memory for the reply: stay silent; the client's timeout
		 * and retry (same request_id) get the stored reply. */
		pw_log(PW_LOG_WARN, "rpc: cannot build a reply message: %s", nng_strerror(rv));
		nng_msg_free(w->msg);
		w->msg = NULL;
		work_next(w);
		return;
	}
	w->state = WORK_SEND;
	nng_aio_set_msg(w->aio, w->msg);
	w->msg = NULL; /* owned by the aio until the send completes */
	nng_ctx_send(w->ctx, w->aio);
}

/* The replier thread: sends, in the order they were queued, the replies
 * the writer's done callbacks handed over. On stop it drains the queue
 * first. */
static void *
rpc_replier_main(void *arg)
{
	srv_rpc *r = arg;
	srv_work *w;

	for (;;) {
		pthread_mutex_lock(&r->reply_mu);
		while (r->reply_head == NULL && !r->reply_stop) {
			pthread_cond_wait(&r->reply_cv, &r->reply_mu);
		}
		w = r->reply_head;
		r->reply_head = NULL;
		r->reply_tail = NULL;
		pthread_mutex_unlock(&r->reply_mu);
		if (w == NULL) {
			return NULL; /* stopping and drained */
		}
		while (w != NULL) {
			srv_work *next = w->reply_next;
			w->reply_next = NULL;
			work_send(w);
			w = next;
		}
	}
}

/* Queues w's reply for the replier (a reply already durable: done
 * callbacks run after the commit). */
static void
rpc_reply_queue(srv_rpc *r, srv_work *w)
{
	bool wake;

	w->reply_next = NULL;
	pthread_mutex_lock(&r->reply_mu);
	wake = r->reply_head == NULL; /* else the replier is awake already */
	if (r->reply_tail != NULL) {
		r->reply_tail->reply_next = w;
	} else {
		r->reply_head = w;
	}
	r->reply_tail = w;
	if (wake) {
		pthread_cond_signal(&r->reply_cv);
	}
	pthread_mutex_unlock(&r->reply_mu);
}

/* srv_call done callback: runs on the store's writer thread (or the
 * provider worker's). When it is the second to finish, the reply goes to
 * the replier: the writer does not send it itself. */
static void
work_write_done(srv_call *c, void *arg)
{
	srv_work *w = arg;

	PW_ASSERT(&w->call == c);
	if (atomic_fetch_sub(&w->pending, 1) == 1) {
		if (store_writes_waiting(w->rpc->env->st) == 0) {
			work_send(w); /* no batch waits on the writer: send it here */
		} else {
			rpc_reply_queue(w->rpc, w);
		}
	}
}

static void
work_on_recv(srv_work *w)
{
	srv_call_result res;
	int rv = nng_aio_result(w->aio);

	if (rv != 0) {
		/* ECLOSED/ECANCELED: the socket or aio is going away. Anything
		 * else (ENOMEM...) is transient: receive again. */
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED && !atomic_load(&w->rpc->closing)) {
			pw_log(PW_LOG_WARN, "rpc: receive failed: %s", nng_strerror(rv));
			work_recv(w);
		}
		return;
	}
	w->msg = nng_aio_get_msg(w->aio);
	nng_aio_set_msg(w->aio, NULL);
	atomic_fetch_add(&w->rpc->received, 1);
	atomic_fetch_add(&w->rpc->in_flight, 1);
	atomic_store(&w->pending, 2);
	res = srv_dispatch_handle(&w->call, nng_msg_body(w->msg), nng_msg_len(w->msg));
	switch (res) {
	case SRV_CALL_REPLY:
		work_send(w);
		break;
	case SRV_CALL_QUEUED:
		/* The writer may already have finished (then we send), or not
		 * (then its done callback sends). */
		if (atomic_fetch_sub(&w->pending, 1) == 1) {
			work_send(w);
		}
		break;
	}
}

static void
work_on_send(srv_work *w)
{
	int rv = nng_aio_result(w->aio);

	if (rv != 0) {
		/* The message is still ours (nng_ctx_send(3)): the peer left. */
		nng_msg_free(nng_aio_get_msg(w->aio));
		nng_aio_set_msg(w->aio, NULL);
		atomic_fetch_add(&w->rpc->send_errors, 1);
	} else {
		atomic_fetch_add(&w->rpc->sent, 1);
	}
	work_next(w);
}

static void
work_cb(void *arg)
{
	srv_work *w = arg;

	switch (w->state) {
	case WORK_INIT:
		break; /* a stopped aio completing: nothing to do */
	case WORK_RECV:
		work_on_recv(w);
		break;
	case WORK_SEND:
		work_on_send(w);
		break;
	}
}

static pw_status
map_nng(int rv)
{
	switch (rv) {
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
	case NNG_EINVAL:
		return PW_INVALID_ARGUMENT;
	case NNG_EADDRINUSE:
	case NNG_EPERM:
	case NNG_ENOENT:
	case NNG_ENOMEM:
		return PW_UNAVAILABLE;
	default:
		return PW_INTERNAL;
	}
}

static pw_status
rpc_works_create(srv_rpc *r, uint32_t n)
{
	int rv;

	r->works = calloc(n, sizeof(*r->works));
	if (r->works == NULL) {
		return PW_UNAVAILABLE;
	}
	for (uint32_t i = 0; i < n; i++) {
		srv_work *w = &r->works[i];
		w->rpc = r;
		w->state = WORK_INIT;
		atomic_init(&w->pending, 0);
		srv_call_init(&w->call, r->env, work_write_done, w);
		rv = nng_aio_alloc(&w->aio, work_cb, w);
		if (rv == 0) {
			rv = nng_ctx_open(&w->ctx, r->sock);
			if (rv != 0) {
				nng_aio_free(w->aio);
				w->aio = NULL;
			}
		}
		if (rv != 0) {
			pw_log(PW_LOG_ERROR, "rpc: creating context %u failed: %s", i, nng_strerror(rv));
			return map_nng(rv);
		}
		r->work_count = i + 1;
	}
	return PW_OK;
}

static pw_status
rpc_listen(srv_rpc *r, const char *url, char *why, size_t why_size)
{
	nng_listener l;
	int rv;

	rv = nng_listener_create(&l, r->sock, url);
	if (rv == 0 && strncmp(url, "ipc://", 6) == 0) {
		/* Only this user may connect over IPC (the bridge runs as the
		 * same user; others use TCP on loopback). */
		rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600);
	}
	if (rv == 0) {
		rv = nng_listener_start(l, 0);
	}
	if (rv != 0) {
		(void) snprintf(why, why_size, "cannot listen on %s: %s", url, nng_strerror(rv));
		return map_nng(rv);
	}
	r->listeners[r->listener_count++] = l;
	return PW_OK;
}

static pw_status
rpc_open(srv_rpc *r, const srv_rpc_opts *opts, char *why, size_t why_size)
{
	pw_status st;
	int rv;

	rv = nng_rep0_open(&r->sock);
	if (rv != 0) {
		(void) snprintf(why, why_size, "nng_rep0_open: %s", nng_strerror(rv));
		return map_nng(rv);
	}
	r->sock_open = true;
	/* Before any listener exists, so every pipe inherits it. */
	rv = nng_socket_set_size(r->sock, NNG_OPT_RECVMAXSZ, PW_RPC_MSG_BYTES_MAX);
	if (rv != 0) {
		(void) snprintf(why, why_size, "NNG_OPT_RECVMAXSZ: %s", nng_strerror(rv));
		return map_nng(rv);
	}
	st = rpc_works_create(r, opts->contexts);
	if (st != PW_OK) {
		(void) snprintf(why, why_size, "cannot create %u contexts", opts->contexts);
		return st;
	}
	for (size_t i = 0; i < opts->listen_count; i++) {
		st = rpc_listen(r, opts->listen_urls[i], why, why_size);
		if (st != PW_OK) {
			return st;
		}
	}
	return PW_OK;
}

pw_status
srv_rpc_start(srv_rpc **out, const srv_rpc_opts *opts, srv_env *env, char *why, size_t why_size)
{
	srv_rpc *r;
	pw_status st;

	PW_ASSERT(out != NULL && opts != NULL && env != NULL && why != NULL && why_size > 0);
	why[0] = '\0';
	if (opts->contexts < 1 || opts->contexts > PW_SRV_CONTEXTS_MAX || opts->listen_count < 1 ||
	    opts->listen_count > PW_SRV_LISTEN_MAX || opts->listen_urls == NULL) {
		(void) snprintf(why, why_size, "contexts must be 1..%d and listeners 1..%d",
		    PW_SRV_CONTEXTS_MAX, PW_SRV_LISTEN_MAX);
		return PW_INVALID_ARGUMENT;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		(void) snprintf(why, why_size, "out of memory");
		return PW_UNAVAILABLE;
	}
	r->env = env;
	atomic_init(&r->closing, false);
	pthread_mutex_init(&r->reply_mu, NULL);
	pthread_cond_init(&r->reply_cv, NULL);
	if (pthread_create(&r->replier, NULL, rpc_replier_main, r) != 0) {
		(void) snprintf(why, why_size, "cannot start the replier thread");
		srv_rpc_destroy(r);
		return PW_UNAVAILABLE;
	}
	r->replier_started = true;
	st = rpc_open(r, opts, why, why_size);
	if (st != PW_OK) {
		srv_rpc_destroy(r);
		return st;
	}
	for (uint32_t i = 0; i < r->work_count; i++) {
		work_recv(&r->works[i]);
	}
	*out = r;
	return PW_OK;
}

uint64_t
srv_rpc_quiesce(srv_rpc *r, int64_t timeout_ms)
{
	const struct timespec pause = { 0, 2 * 1000 * 1000 };
	int64_t deadline;
	int_fast64_t left;

	PW_ASSERT(r != NULL);
	/* Listeners stay open: closing one closes its pipes, and the replies
	 * in flight must still reach their callers. New frames are answered
	 * UNAVAILABLE instead. */
	srv_env_stop(r->env);
	deadline = pw_monotonic_ms() + timeout_ms;
	for (;;) {
		left = atomic_load(&r->in_flight);
		if (left <= 0 || pw_monotonic_ms() >= deadline) {
			break;
		}
		(void) nanosleep(&pause, NULL);
	}
	return left > 0 ? (uint64_t) left : 0;
}

void
srv_rpc_destroy(srv_rpc *r)
{
	if (r == NULL) {
		return;
	}
	/* The replier first: it sends what the last done callbacks (store_close
	 * drained the writes) handed it, then exits. */
	if (r->replier_started) {
		pthread_mutex_lock(&r->reply_mu);
		r->reply_stop = true;
		pthread_cond_signal(&r->reply_cv);
		pthread_mutex_unlock(&r->reply_mu);
		(void) pthread_join(r->replier, NULL);
	}
	atomic_store(&r->closing, true);
	/* Stop every aio first (waits for a running callback; a pending recv
	 * completes with ECANCELED and is not re-armed), then close. */
	for (uint32_t i = 0; i < r->work_count; i++) {
		nng_aio_stop(r->works[i].aio);
	}
	if (r->sock_open) {
		(void) nng_close(r->sock); /* also closes contexts and listeners */
	}
	for (uint32_t i = 0; i < r->work_count; i++) {
		srv_work *w = &r->works[i];
		if (w->msg != NULL) {
			nng_msg_free(w->msg);
		}
		nng_aio_free(w->aio);
		srv_call_reset(&w->call);
	}
	free(r->works);
	pthread_cond_destroy(&r->reply_cv);
	pthread_mutex_destroy(&r->reply_mu);
	free(r);
}

void
srv_rpc_stats_get(srv_rpc *r, srv_rpc_stats *out)
{
	int_fast64_t f = atomic_load(&r->in_flight);

	out->received = atomic_load(&r->received);
	out->sent = atomic_load(&r->sent);
	out->send_errors = atomic_load(&r->send_errors);
	out->in_flight = f > 0 ? (uint64_t) f : 0;
}
