/*
 * store_reply.c - stored replies: request-id dedup for every mutating call.
 *
 * The server looks (scope, request_id) up first inside its apply callback; a
 * hit with the same request hash returns the stored reply bytes unchanged, so
 * a re-sent or retried request changes nothing. The reply of a new request is
 * stored in the same transaction as its effects. Entries older than
 * PW_IDEMPOTENCY_TTL_MS count as absent and are overwritten by the next put.
 */
#include "store_internal.h"

#include <string.h>

/* Builds "scope 0x00 request_id"; PW_INVALID_ARGUMENT past the limits. */
pw_status
store_reply_key(const char *scope, const char *request_id, uint8_t *key, size_t key_size,
    size_t *keylen)
{
	size_t slen = strnlen(scope, PW_REPLY_SCOPE_BYTES_MAX + 1);
	size_t rlen = strnlen(request_id, PW_REQUEST_ID_BYTES_MAX + 1);

	if (slen == 0 || slen > PW_REPLY_SCOPE_BYTES_MAX || rlen == 0 ||
	    rlen > PW_REQUEST_ID_BYTES_MAX) {
		pw_log(PW_LOG_DEBUG, "store: reply key: scope must be 1..%d bytes, request_id 1..%d",
		    PW_REPLY_SCOPE_BYTES_MAX, PW_REQUEST_ID_BYTES_MAX);
		return PW_INVALID_ARGUMENT;
	}
	if (!store_key_join(key, key_size, scope, request_id, keylen)) {
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

pw_status
store_reply_get(store_txn *t, const char *scope, const char *request_id,
    const uint8_t request_hash[32], uint8_t **reply, size_t *reply_len)
{
	Paywire__Store__V1__ReplyRecord *rec = NULL;
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;
	pw_status st;

	PW_ASSERT(t != NULL && scope != NULL && request_id != NULL && request_hash != NULL);
	PW_ASSERT(reply != NULL && reply_len != NULL);
	*reply = NULL;
	*reply_len = 0;
	st = store_reply_key(scope, request_id, key, sizeof(key), &keylen);
	if (st == PW_OK) {
		st = store_rec_get(t, STORE_DB_REPLIES, key, keylen, &paywire__store__v1__reply_record__descriptor,
		    (void **) &rec);
	}
	if (st != PW_OK) {
		return st;
	}
	if (t->now_ms - rec->created_at_unix_ms >= PW_IDEMPOTENCY_TTL_MS) {
		st = PW_NOT_FOUND; /* expired: a new request */
	} else if (rec->request_hash.len != STORE_HASH_BYTES ||
	    sodium_memcmp(rec->request_hash.data, request_hash, STORE_HASH_BYTES) != 0) {
		st = PW_IDEMPOTENCY_CONFLICT;
	} else {
		*reply = pw_malloc(rec->reply.len > 0 ? rec->reply.len : 1);
		if (*reply == NULL) {
			st = store_txn_note(t, PW_RESOURCE_EXHAUSTED);
		} else {
			if (rec->reply.len > 0) {
				memcpy(*reply, rec->reply.data, rec->reply.len);
			}
			*reply_len = rec->reply.len;
		}
	}
	paywire__store__v1__reply_record__free_unpacked(rec, NULL);
	return st;
}

pw_status
store_reply_put(store_txn *t, const char *scope, const char *request_id,
    const uint8_t request_hash[32], const uint8_t *reply, size_t reply_len)
{
	Paywire__Store__V1__ReplyRecord rec = PAYWIRE__STORE__V1__REPLY_RECORD__INIT;
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;
	pw_status st;

	PW_ASSERT(t != NULL && scope != NULL && request_id != NULL && request_hash != NULL);
	PW_ASSERT(reply != NULL || reply_len == 0);
	st = store_reply_key(scope, request_id, key, sizeof(key), &keylen);
	if (st != PW_OK) {
		return st;
	}
	if (reply_len > PW_RPC_MSG_BYTES_MAX) {
		pw_log(PW_LOG_WARN, "store: reply of %zu bytes is larger than an RPC frame", reply_len);
		return PW_INVALID_ARGUMENT;
	}
	rec.request_hash.len = STORE_HASH_BYTES;
	rec.request_hash.data = (uint8_t *) request_hash;
	rec.reply.len = reply_len;
	rec.reply.data = (uint8_t *) reply;
	rec.created_at_unix_ms = t->now_ms;
	return store_rec_put(t, STORE_DB_REPLIES, key, keylen, &rec.base, 0, NULL);
}

pw_status
store_reply_peek(store *s, const char *scope, const char *request_id,
    const uint8_t request_hash[32], uint8_t **reply, size_t *reply_len)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && reply != NULL && reply_len != NULL);
	*reply = NULL;
	*reply_len = 0;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_reply_get(&t, scope, request_id, request_hash, reply, reply_len);
	}
	store_read_end(&t);
	return st;
}
