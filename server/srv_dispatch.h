/*
 * srv_dispatch.h - one RPC frame in, one reply frame out.
 *
 * OWNS
 * The path every request takes, the same for every call; what differs per
 * call is its row in the call table (srv_calls.h). The state of a request
 * (srv_call) and what requests share (srv_env) are srv_call.h's, included
 * here for the transports.
 *
 * REQUEST LIFECYCLE (srv_dispatch_handle)
 *   srv_wire_check(Request) (refused: the reply still echoes a readable
 *   request_id) -> unpack -> the row for the call case (none: INVALID_ARGUMENT)
 *   -> request_id (required when the row mutates) -> stopping? (UNAVAILABLE,
 *   the store untouched) -> auth (the row's srv_auth) -> the row's validate
 *   (srv_validate.h; nothing written on refusal) -> then
 *   - a read (get_status, verify_audit): the row's read, a store read right
 *     here on the caller's thread (LMDB readers never wait), and its reply.
 *     The reply is ready on return.
 *   - a write (create_merchant, create_session, revoke_api_key,
 *     ingest_webhook, redeem_access): queued with srv_apply_submit
 *     (srv_apply.h: request_id lookup, the row's apply and the stored reply
 *     in one transaction). The reply is ready when the srv_call's done
 *     callback runs (writer thread), after the commit.
 *   Every reply echoes request_id and carries Status{code = pw_status_wire(st),
 *   message}. The pw_status of the apply (or of the commit) goes into the
 *   reply unchanged.
 *
 * AUTH
 *   SRV_AUTH_ADMIN: no admin key configured -> PERMISSION_DENIED; api_key
 *   missing or not the admin key -> UNAUTHENTICATED (both keys hashed, then
 *   sodium_memcmp). SRV_AUTH_MERCHANT: api_key missing, unknown or revoked
 *   -> UNAUTHENTICATED; sets c->merchant_id and c->key_mode.
 *
 * STORED REPLIES THAT CARRY A SECRET (rows with `sealed` or `redact`)
 *   create_merchant's reply holds the merchant's first raw API key. It is kept
 *   in the replies db sealed (srv_reply_seal, key derived from the admin
 *   key, the scope and the request_id), so the raw key never sits on disk in
 *   clear; a retry carrying the same admin key gets the identical bytes.
 *   redeem_access's reply may hold a raw access key revealed once: the copy
 *   kept for retries has access_key emptied and already_revealed set, so the
 *   key is never written to disk (the store wipes its sealed copy).
 *
 * THREADS
 * srv_dispatch_handle: any thread, concurrently on distinct srv_calls.
 * Reads do not wait; a write is queued, or, when the store's writer is idle,
 * committed on this thread before it returns (store_write.run_here: it then
 * waits for its own commit, and the call's done has run). See srv_call.h
 * for who owns a srv_call when.
 */
#ifndef SRV_DISPATCH_H
#define SRV_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "srv_call.h"

/* Handles one frame (buf is not kept after return; the request is copied
 * out by unpacking). c was prepared by srv_call_init or srv_call_reset.
 * Returns SRV_CALL_REPLY with c->reply set, or SRV_CALL_QUEUED (c->reply
 * will be set before done runs). Never blocks. Never fails: every error
 * becomes an error reply. */
srv_call_result srv_dispatch_handle(srv_call *c, const uint8_t *buf, size_t len);

#endif
