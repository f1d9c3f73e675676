/*
 * srv_rpc.h - the nng REP server: one socket, N contexts, each a work item.
 *
 * OWNS
 * One nng REP socket (nng_rep0_open) with NNG_OPT_RECVMAXSZ =
 * PW_RPC_MSG_BYTES_MAX (nng drops a larger frame and its connection before
 * allocating it; the server keeps serving), its listeners, and N work items
 * created before listening. A work item is an nng_ctx + nng_aio + srv_call
 * with a small state machine, the shape of nng demo/async/server.c:
 *
 *   RECV --frame--> srv_dispatch_handle --reply now--------------> SEND
 *                        |                                          ^
 *                        +--write run here (writer idle): done -----+
 *                        +--write queued--> (writer thread) done    |
 *                                             --queued--> replier --+
 *                                             (or sent by done when
 *                                              no write waits)
 *   SEND --completion--> RECV
 *
 * Writes are submitted with run_here (store.h): when the writer is idle,
 * the RECV callback commits the write itself and done has run before
 * store_submit returns. A queued write completes on the store's writer
 * thread while the RECV callback that queued it may still be running on an
 * nng thread. Both decrement a per-item counter that starts at 2; whichever
 * comes second sends the reply (nng_ctx_send on the item's aio): the RECV
 * callback itself, or, when the done callback is second, the replier
 * thread, to which the done callback queues the item so that the writer
 * goes on to its next batch, or, when no write is queued for a next batch,
 * the done callback itself. The replier sends in queue order. So the aio is
 * never resubmitted while the callback that owns it is still using it, and
 * no lock is held across store_submit or nng calls.
 *
 * THREADS
 * srv_rpc_start/quiesce/destroy: one control thread. The replier: one
 * thread of its own (started by srv_rpc_start, drained and joined by
 * srv_rpc_destroy). Callbacks run on nng's
 * threads and the store's writer thread: reads run in the callback (LMDB
 * readers never wait); a write is queued, or, when the writer is idle,
 * committed in the callback (the one place a callback waits: for its own
 * commit, which the writer would have made at that moment anyway).
 *
 * SHUTDOWN (in this order)
 *   srv_rpc_quiesce(r, ms)  new frames answer UNAVAILABLE without touching
 *                           the store; waits up to ms for requests in flight
 *                           (their writes and replies). Listeners stay open:
 *                           closing one closes its pipes, and replies in
 *                           flight must still reach their callers.
 *   store_close(st)         drains queued writes: their done callbacks hand
 *                           their replies to the replier.
 *   srv_rpc_destroy(r)      stops the replier once it has sent what it was
 *                           handed, then closes the socket, stops every
 *                           aio, frees.
 *
 * LIMITS
 * contexts 1..PW_SRV_CONTEXTS_MAX; at most PW_SRV_LISTEN_MAX listeners.
 */
#ifndef SRV_RPC_H
#define SRV_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <paywire/status.h>

#include "pw_common.h"
#include "srv_dispatch.h"


typedef struct srv_rpc srv_rpc;

typedef struct srv_rpc_opts {
	const char *const *listen_urls; /* nng URLs: tcp://host:port, ipc:///path */
	size_t listen_count;            /* 1..PW_SRV_LISTEN_MAX */
	uint32_t contexts;              /* 1..PW_SRV_CONTEXTS_MAX work items */
} srv_rpc_opts;

typedef struct srv_rpc_stats {
	uint64_t received;  /* frames received */
	uint64_t sent;      /* replies sent */
	uint64_t send_errors; /* replies nng could not send (peer gone) */
	uint64_t in_flight; /* requests received and not yet answered */
} srv_rpc_stats;

/* Opens the socket, creates the work items, starts every listener, then
 * starts receiving. env must outlive r. PW_OK: *out running. Otherwise
 * nothing is left open: PW_INVALID_ARGUMENT (bad opts or URL),
 * PW_UNAVAILABLE (address in use, permission), PW_INTERNAL; why says which
 * listener and nng's reason. */
pw_status srv_rpc_start(srv_rpc **out, const srv_rpc_opts *opts, srv_env *env, char *why,
    size_t why_size) PW_WUR;

/* Shutdown step 1 (see top comment). Calls srv_env_stop. Returns the number
 * of requests still in flight when timeout_ms ran out (0: all answered). */
uint64_t srv_rpc_quiesce(srv_rpc *r, int64_t timeout_ms);

/* Shutdown step 3: after store_close. Closes the socket, stops and frees
 * every work item. */
void srv_rpc_destroy(srv_rpc *r);

void srv_rpc_stats_get(srv_rpc *r, srv_rpc_stats *out);

#endif
