/*
 * store_purge.c - deleting expired replies and idempotency entries.
 *
 * Both expire after PW_IDEMPOTENCY_TTL_MS; readers already treat an older
 * entry as absent, so deleting it changes no answer. Their keys are not
 * time-ordered (scope/merchant + caller's id), so expiry cannot be found by
 * range: each call walks a bounded number of entries from where the previous
 * call stopped (a key kept in struct store, writer-only) and wraps around.
 *
 * The position is writer memory, outside the transaction: a call leaves its
 * new position in s->purge_next, and the writer takes it over only when the
 * batch commits (store_writer.c). A batch re-run after a conflict, or a purge
 * rolled back, therefore starts again where the last committed purge
 * stopped: at worst an entry is examined twice, never skipped.
 */
#include "store_internal.h"

#include <string.h>

typedef struct store_purge_db {
	store_db db;                            /* the db */
	const ProtobufCMessageDescriptor *desc; /* its record type */
	size_t created_offset;                  /* offsetof its int64 created_at_unix_ms */
} store_purge_db;

static const store_purge_db store_purge_dbs[STORE_PURGE_DBS] = {
	{ STORE_DB_REPLIES, &paywire__store__v1__reply_record__descriptor,
	    offsetof(Paywire__Store__V1__ReplyRecord, created_at_unix_ms) },
	{ STORE_DB_IDEM, &paywire__store__v1__idempotency_record__descriptor,
	    offsetof(Paywire__Store__V1__IdempotencyRecord, created_at_unix_ms) },
};

/* One purge walk over one db. */
typedef struct store_purge_walk {
	store_txn *t;              /* the caller's nested txn */
	const store_purge_db *d;   /* the db and its record type */
	size_t max_scan;           /* entries to examine at most */
	size_t examined;           /* entries examined so far */
	size_t *deleted;           /* the caller's count of deletions */
	uint8_t *resume;           /* out: the first key not examined */
	size_t *resume_len;        /* out: its length; 0 when the walk reached the end */
} store_purge_walk;

/* *expired: the value v of db d is older than the TTL. A record that does
 * not decode is kept (and logged): deleting it would destroy evidence. */
static pw_status
store_purge_check(store_txn *t, const store_purge_db *d, kv_val v, bool *expired)
{
	ProtobufCMessage *m = NULL;
	int64_t created;
	pw_status st;

	*expired = false;
	st = store_msg_unpack(d->desc, v.data, v.len, (void **) &m);
	if (st == PW_INTERNAL) {
		return PW_OK; /* logged by the decoder; skipped */
	}
	if (st != PW_OK) {
		return store_txn_note(t, st);
	}
	memcpy(&created, (const char *) m + d->created_offset, sizeof(created));
	protobuf_c_message_free_unpacked(m, NULL);
	*expired = t->now_ms - created >= PW_IDEMPOTENCY_TTL_MS;
	return PW_OK;
}

/* store_scan_fn: examines one entry; stops before the (max_scan + 1)th and
 * remembers its key (bytes copied: they die with the txn). */
static pw_status
store_purge_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_purge_walk *w = arg;
	bool expired = false;
	pw_status st;

	if (w->examined == w->max_scan) {
		PW_ASSERT(key.len > 0 && key.len <= STORE_KEY_BYTES_MAX);
		memcpy(w->resume, key.data, key.len);
		*w->resume_len = key.len;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->examined++;
	st = store_purge_check(w->t, w->d, val, &expired);
	if (st == PW_OK && expired) {
		*step = STORE_SCAN_DELETE;
		(*w->deleted)++;
	}
	return st;
}

/* Walks at most max_scan entries of db i from where the last purge stopped,
 * wrapping around once, deleting the expired ones; leaves the next position
 * in s->purge_next. */
static pw_status
store_purge_scan(store_txn *t, size_t i, size_t max_scan, size_t *deleted)
{
	store *s = t->s;
	const store_purge_pos *from = s->purge_moved ? &s->purge_next : &s->purge_at;
	uint8_t start[STORE_KEY_BYTES_MAX];
	size_t start_len = from->len[i];
	store_purge_walk w = { .t = t, .d = &store_purge_dbs[i], .max_scan = max_scan,
		.deleted = deleted, .resume = s->purge_next.key[i],
		.resume_len = &s->purge_next.len[i] };
	pw_status st;

	memcpy(start, from->key[i], start_len);
	*w.resume_len = 0;
	st = store_scan(t, w.d->db, (kv_val){ .data = start, .len = start_len },
	    store_purge_visit, &w);
	if (st == PW_OK && *w.resume_len == 0 && w.examined < max_scan) {
		/* past the end: go on from the start (once) */
		st = store_scan(t, w.d->db, (kv_val){ .data = NULL, .len = 0 }, store_purge_visit, &w);
	}
	if (st != PW_OK) {
		*w.resume_len = 0;
	}
	return st;
}

pw_status
store_expired_purge(store_txn *t, size_t max_scan, size_t *deleted_out)
{
	store *s;
	pw_status st = PW_OK;

	PW_ASSERT(t != NULL && deleted_out != NULL && max_scan > 0);
	PW_ASSERT(!t->read);
	*deleted_out = 0;
	if (t->err != PW_OK) {
		return t->err;
	}
	s = t->s;
	for (size_t i = 0; i < STORE_PURGE_DBS && st == PW_OK; i++) {
		st = store_purge_scan(t, i, max_scan, deleted_out);
	}
	/* purge_next now holds both dbs' positions: the writer takes them over
	 * if this batch commits. */
	s->purge_moved = st == PW_OK;
	if (*deleted_out > 0) {
		pw_log(PW_LOG_DEBUG, "store: purged %zu expired replies/idempotency entries",
		    *deleted_out);
	}
	return st;
}
