/*
 * srv_apply.h - the write half of dispatch (internal to server/).
 *
 * srv_apply_cb is the store_apply_fn of every mutating call: it runs on the
 * store's writer thread inside a nested transaction. It first asks the
 * replies db for (scope, request_id, hash):
 *   - a stored reply with the same hash is the answer, byte for byte, and
 *     nothing changes (REQ re-sends and client retries land here);
 *   - the same request_id with another hash is PW_IDEMPOTENCY_CONFLICT;
 *   - otherwise the call's effects run and its packed reply is stored with
 *     store_reply_put in the same transaction, so the effects and the reply
 *     commit together or not at all.
 * srv_apply_done_cb is the store_done_fn: it turns the final status (the
 * apply's, or the commit's if the batch failed) into the reply, logs the
 * request and calls the srv_call's done callback.
 *
 * Also the small reply helpers shared by srv_dispatch.c and srv_apply.c.
 */
#ifndef SRV_APPLY_H
#define SRV_APPLY_H

#include "srv_dispatch.h"

/* store_apply_fn / store_done_fn for a srv_call queued by srv_dispatch.c. */
pw_status srv_apply_cb(store_txn *t, void *arg);
void srv_apply_done_cb(pw_status st, void *arg);

/* Packs resp with Status{pw_status_wire(st), msg} into a malloc'd buffer.
 * resp->status is set during the call and reset to NULL. False: no memory. */
bool srv_response_pack(Paywire__V1__Response *resp, pw_status st, const char *msg,
    uint8_t **out, size_t *out_len);

/* Replaces c->reply with resp (NULL: a bare status reply) carrying st and
 * msg, echoing c's request_id; sets c->status. */
void srv_call_reply(srv_call *c, pw_status st, const char *msg, Paywire__V1__Response *resp);

/* printf into c->why. */
void srv_call_why(srv_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line per request: debug, or warn for INTERNAL/UNAVAILABLE/
 * RESOURCE_EXHAUSTED. Counts errors. */
void srv_call_log(srv_call *c);

/* Monotonic clock in microseconds. */
int64_t srv_mono_us(void);

#endif
