/*
 * srv_apply.h - the write half of dispatch: a mutating call from its queued
 * write to its committed reply.
 *
 * OWNS
 * The store_write of a srv_call whose row in the call table (srv_calls.h)
 * mutates, and the replies db entry of its request_id:
 *   - srv_apply_submit sets c->scope from the row's srv_scope, hashes the
 *     call (see srv_call.h) and queues the write with store_submit
 *     (deadline_ms > 0 becomes the write's deadline);
 *   - on the store's writer thread, inside a nested transaction, it first
 *     asks the replies db for (scope, request_id, hash):
 *       a stored reply with the same hash is the answer, byte for byte
 *       (opened first when sealed), and nothing changes (REQ re-sends and
 *       client retries land here);
 *       the same request_id with another hash is PW_IDEMPOTENCY_CONFLICT;
 *       otherwise the row's apply runs, its reply is packed, and the copy
 *       kept for retries (the reply, sealed when the row says so, or
 *       redacted by the row's redact) is stored with store_reply_put in the
 *       same transaction, so the effects and the reply commit together or
 *       not at all. An error rolls the request back alone: error replies
 *       are never stored;
 *   - after the commit (or its failure) the final status (the apply's, or
 *     the commit's) becomes the reply, the request is logged and the
 *     srv_call's done callback runs, still on the writer thread.
 *
 * THREADS
 * srv_apply_submit: the thread handling the frame, which owns c. Once it
 * returns PW_OK the writer thread owns c until c->done has run: the caller
 * touches nothing of c before that.
 */
#ifndef SRV_APPLY_H
#define SRV_APPLY_H

#include <paywire/status.h>

#include "pw_common.h"
#include "srv_call.h"

/* Queues c's write (c->req unpacked, c->ops a mutating row, auth and
 * validation passed), unless a read answers it first: a request_id whose
 * reply is committed (a re-send) gets that reply, and a row's peek may
 * answer what would change nothing (a duplicate event). Those are answered
 * from a read transaction on this thread, with no write: PW_OK and
 * *answered true, c->reply ready, done will not be called.
 * PW_OK and *answered false: queued, c->done will be called exactly once.
 * Otherwise nothing was queued, c->why says why and done will not be
 * called: PW_UNAVAILABLE (the store failed, is read-only or closing, or its
 * queue is full). Never blocks. */
pw_status srv_apply_submit(srv_call *c, bool *answered) PW_WUR;

/* The second write of a call that went on past its commit (its row's
 * `record`, after its `provider` step on a provider worker): queues it;
 * PW_OK: c->done will be called once, on the writer thread, with the new
 * reply (which also replaces the stored one) or the error. Otherwise
 * nothing was queued (PW_UNAVAILABLE: store closing or failed, queue full)
 * and done will not be called. */
pw_status srv_apply_record_submit(srv_call *c) PW_WUR;

#endif
