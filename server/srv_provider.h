/*
 * srv_provider.h - the provider worker: the threads that make paywire's
 * outbound calls to payment providers for requests that go on past their
 * commit (a row's `continues`, srv_calls.h; today create_session with a
 * provider checkout, docs/PROVIDERS.md "Provider checkout").
 *
 * A provider call takes up to seconds, so it never runs inside a store
 * transaction, on the writer thread or on an nng callback: the request's
 * first write commits the session (and its reply), the writer's done
 * callback hands the request here, a worker runs the row's `provider` step
 * (provider/prov_http.c: retries, deadline) and queues the row's `record`
 * as a second write (srv_apply_record_submit), whose done callback sends
 * the reply. A failure of the provider step is the request's reply (the
 * session stays committed with its provider checkout PENDING: a resend of
 * the same request tries again with the same idempotency key).
 *
 * THREADS
 * srv_provider_start/stop/free: the control thread. srv_provider_take
 * (srv_env.continue_fn): any thread; never blocks.
 *
 * SHUTDOWN: after srv_rpc_quiesce, before store_close: srv_provider_stop
 * answers the requests still queued UNAVAILABLE and waits for the ones in a
 * worker (each bounded by the step's deadline), whose second writes the
 * still-open store commits.
 */
#ifndef SRV_PROVIDER_H
#define SRV_PROVIDER_H

#include <stdbool.h>
#include <stdint.h>

#include <paywire/status.h>

#include "prov_http.h"
#include "pw_common.h"
#include "srv_call.h"

typedef struct srv_provider srv_provider;

typedef struct srv_provider_cfg {
	uint32_t workers;                       /* 1..PW_SRV_PROVIDER_WORKERS_MAX */
	uint32_t timeout_ms;                    /* one provider step, retries included */
	const char *stripe_api;                 /* base URL, no trailing '/' */
	const char *razorpay_api;
	prov_http_cfg http;                     /* the pool, TLS, the URL policy */
} srv_provider_cfg;

/* Starts the workers and sets env->continue_fn. PW_OK; PW_INVALID_ARGUMENT
 * (bad cfg, why says which); PW_RESOURCE_EXHAUSTED / PW_INTERNAL (threads). */
pw_status srv_provider_start(srv_provider **out, const srv_provider_cfg *cfg, srv_env *env,
    char *why, size_t why_size) PW_WUR;

/* Shutdown (see top comment). NULL: nothing. */
void srv_provider_stop(srv_provider *p);
void srv_provider_free(srv_provider *p);

#endif
