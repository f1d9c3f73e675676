/* srv_provider.c - the provider worker (see srv_provider.h). */
#include "srv_provider.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pw_limits.h"
#include "srv_apply.h"
#include "srv_calls.h"

struct srv_provider {
	srv_env *env;
	srv_provider_cfg cfg;
	char stripe_api[PW_URL_BYTES_MAX + 1];
	char razorpay_api[PW_URL_BYTES_MAX + 1];
	prov_http *http;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	srv_call *head;          /* FIFO of calls waiting for a worker */
	srv_call *tail;
	bool stopping;
	uint32_t n_threads;
	pthread_t threads[PW_SRV_PROVIDER_WORKERS_MAX];
};

/* Ends c with its reply as it stands (an error set by the step, or the
 * UNAVAILABLE of a stop). */
static void
provider_answer(srv_call *c)
{
	srv_call_log(c);
	c->done(c, c->done_arg);
}

static void
provider_run(srv_provider *p, srv_call *c)
{
	srv_provider_ctx px = { .http = p->http, .stripe_api = p->stripe_api,
		.razorpay_api = p->razorpay_api,
		.deadline_mono_ms = pw_monotonic_ms() + (int64_t) p->cfg.timeout_ms };
	pw_status rv;

	c->why[0] = '\0';
	c->prov_refused = false;
	/* the first write is committed, the provider not called yet: a crash
	 * here leaves the session PENDING, and the next attempt calls it */
	pw_crashpoint("server.before_provider_call");
	rv = c->ops->provider(c, &px);
	if (rv != PW_OK && c->prov_refused && c->ops->record_failure != NULL) {
		/* the provider said no for good: record it, then answer the error */
		c->prov_err = rv;
		(void) pw_strlcpy(c->prov_why, c->why, sizeof(c->prov_why));
		rv = srv_apply_record_submit(c);
		if (rv == PW_OK) {
			return;
		}
		srv_call_reply(c, c->prov_err, c->prov_why, NULL);
		provider_answer(c);
		return;
	}
	if (rv != PW_OK) {
		srv_call_reply(c, rv, c->why, NULL);
		provider_answer(c);
		return;
	}
	/* the provider made its object; a crash here leaves the session
	 * PENDING: the next attempt reaches the same object (idempotency key) */
	pw_crashpoint("server.after_provider_call");
	rv = srv_apply_record_submit(c);
	if (rv != PW_OK) {
		srv_call_why(c, "recording the provider's answer was not queued: %s; a resend of the "
		                "same request records it", pw_status_message(rv));
		srv_call_reply(c, PW_UNAVAILABLE, c->why, NULL);
		provider_answer(c);
	}
}

static void *
provider_main(void *arg)
{
	srv_provider *p = arg;
	srv_call *c;

	for (;;) {
		(void) pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stopping) {
			(void) pthread_cond_wait(&p->cv, &p->mu);
		}
		c = p->head;
		if (c == NULL) { /* stopping, nothing queued */
			(void) pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->head = c->next_cont;
		if (p->head == NULL) {
			p->tail = NULL;
		}
		c->next_cont = NULL;
		(void) pthread_mutex_unlock(&p->mu);
		provider_run(p, c);
	}
}

/* srv_env.continue_fn. */
static bool
provider_take(void *arg, srv_call *c)
{
	srv_provider *p = arg;
	bool taken = false;

	PW_ASSERT(c->ops != NULL && c->ops->provider != NULL && c->ops->record != NULL);
	(void) pthread_mutex_lock(&p->mu);
	if (!p->stopping) {
		c->next_cont = NULL;
		if (p->tail != NULL) {
			p->tail->next_cont = c;
		} else {
			p->head = c;
		}
		p->tail = c;
		taken = true;
		(void) pthread_cond_signal(&p->cv);
	}
	(void) pthread_mutex_unlock(&p->mu);
	return taken;
}

static bool
provider_url_ok(const char *u, bool plain)
{
	return (strncmp(u, "https://", 8) == 0 && u[8] != '\0') ||
	    (plain && strncmp(u, "http://", 7) == 0 && u[7] != '\0');
}

pw_status
srv_provider_start(srv_provider **out, const srv_provider_cfg *cfg, srv_env *env, char *why,
    size_t why_size)
{
	srv_provider *p;
	pw_status rv;

	PW_ASSERT(out != NULL && cfg != NULL && env != NULL);
	*out = NULL;
	if (cfg->workers == 0 || cfg->workers > PW_SRV_PROVIDER_WORKERS_MAX ||
	    cfg->timeout_ms == 0 || cfg->stripe_api == NULL || cfg->razorpay_api == NULL ||
	    !provider_url_ok(cfg->stripe_api, cfg->http.allow_plain_http) ||
	    !provider_url_ok(cfg->razorpay_api, cfg->http.allow_plain_http)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "provider calls: 1..%d workers, a timeout and https:// API URLs are needed",
		    PW_SRV_PROVIDER_WORKERS_MAX);
	}
	p = pw_calloc(1, sizeof(*p));
	if (p == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	p->env = env;
	p->cfg = *cfg;
	if (!pw_strlcpy(p->stripe_api, cfg->stripe_api, sizeof(p->stripe_api)) ||
	    !pw_strlcpy(p->razorpay_api, cfg->razorpay_api, sizeof(p->razorpay_api))) {
		pw_free(p);
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "provider API URL too long");
	}
	rv = prov_http_new(&cfg->http, &p->http);
	if (rv != PW_OK) {
		pw_free(p);
		return pw_why(why, why_size, rv, "provider calls: the HTTP client did not start: %s",
		    pw_status_message(rv));
	}
	(void) pthread_mutex_init(&p->mu, NULL);
	(void) pthread_cond_init(&p->cv, NULL);
	for (uint32_t i = 0; i < cfg->workers; i++) {
		if (pthread_create(&p->threads[i], NULL, provider_main, p) != 0) {
			srv_provider_stop(p);
			srv_provider_free(p);
			return pw_why(why, why_size, PW_INTERNAL, "provider calls: no thread");
		}
		p->n_threads++;
	}
	env->continue_arg = p;
	env->continue_fn = provider_take;
	*out = p;
	return PW_OK;
}

void
srv_provider_stop(srv_provider *p)
{
	srv_call *c;

	if (p == NULL) {
		return;
	}
	(void) pthread_mutex_lock(&p->mu);
	p->stopping = true;
	c = p->head; /* not started: answered now */
	p->head = p->tail = NULL;
	(void) pthread_cond_broadcast(&p->cv);
	(void) pthread_mutex_unlock(&p->mu);
	while (c != NULL) {
		srv_call *next = c->next_cont;

		c->next_cont = NULL;
		srv_call_why(c, "the server is shutting down before the provider was called: the "
		                "session is committed; resend the same request to finish it");
		srv_call_reply(c, PW_UNAVAILABLE, c->why, NULL);
		provider_answer(c);
		c = next;
	}
	for (uint32_t i = 0; i < p->n_threads; i++) {
		(void) pthread_join(p->threads[i], NULL);
	}
	p->n_threads = 0;
}

void
srv_provider_free(srv_provider *p)
{
	if (p == NULL) {
		return;
	}
	PW_ASSERT(p->n_threads == 0 && p->head == NULL);
	prov_http_free(p->http);
	(void) pthread_mutex_destroy(&p->mu);
	(void) pthread_cond_destroy(&p->cv);
	pw_free(p);
}
