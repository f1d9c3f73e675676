/*
 * store_purge.c - deleting expired replies and idempotency entries.
 *
 * Both expire after PW_IDEMPOTENCY_TTL_MS; readers already treat an older
 * entry as absent, so deleting it changes no answer. Their keys are not
 * time-ordered (scope/merchant + caller's id), so expiry cannot be found by
 * range: each call walks a bounded number of entries from where the previous
 * call stopped (a key kept in struct store, writer-only) and wraps around.
 */
#include "store_internal.h"

#include <string.h>

typedef struct store_purge_db {
	store_db db;                            /* the db */
	const ProtobufCMessageDescriptor *desc; /* its record type */
	size_t created_offset;                  /* offsetof its int64 created_at_unix_ms */
} store_purge_db;

static const store_purge_db store_purge_dbs[STORE_PURGE_DBS] = {
	{ STORE_DB_REPLIES, &paywire__v1__reply_record__descriptor,
	    offsetof(Paywire__V1__ReplyRecord, created_at_unix_ms) },
	{ STORE_DB_IDEM, &paywire__v1__idempotency_record__descriptor,
	    offsetof(Paywire__V1__IdempotencyRecord, created_at_unix_ms) },
};

/* *expired: the value v of db d is older than the TTL. A record that does
 * not decode is kept (and logged): deleting it would destroy evidence. */
static pw_status
store_purge_check(store_txn *t, const store_purge_db *d, const MDB_val *v, bool *expired)
{
	ProtobufCMessage *m = NULL;
	int64_t created;
	pw_status st;

	*expired = false;
	st = store_msg_unpack(d->desc, v->mv_data, v->mv_size, (void **) &m);
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

/* Positions cur at the resume key of db i (or the first entry). */
static int
store_purge_seek(store *s, size_t i, MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
	if (s->purge_len[i] == 0) {
		return mdb_cursor_get(cur, k, v, MDB_FIRST);
	}
	k->mv_size = s->purge_len[i];
	k->mv_data = s->purge_key[i];
	return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

/* Walks at most max_scan entries of db i, deleting the expired ones. */
static pw_status
store_purge_scan(store_txn *t, size_t i, size_t max_scan, size_t *deleted)
{
	const store_purge_db *d = &store_purge_dbs[i];
	store *s = t->s;
	MDB_cursor *cur = NULL;
	MDB_val k;
	MDB_val v;
	bool wrapped = false;
	bool expired;
	pw_status st = PW_OK;
	int rc;

	rc = mdb_cursor_open(t->txn, s->dbi[d->db], &cur);
	if (rc != 0) {
		return store_txn_note(t, store_mdb_status(s, rc, "mdb_cursor_open(purge)"));
	}
	rc = store_purge_seek(s, i, cur, &k, &v);
	for (size_t n = 0; n < max_scan && st == PW_OK;) {
		if (rc == MDB_NOTFOUND && !wrapped) {
			wrapped = true; /* past the end: go on from the start */
			rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			continue;
		}
		if (rc != 0) {
			break;
		}
		n++;
		st = store_purge_check(t, d, &v, &expired);
		if (st == PW_OK && expired) {
			rc = mdb_cursor_del(cur, 0);
			if (rc != 0) {
				st = store_txn_note(t, store_mdb_status(s, rc, "mdb_cursor_del(purge)"));
				break;
			}
			(*deleted)++;
		}
		/* After a delete the cursor already sits on the next entry; LMDB's
		 * MDB_NEXT then returns that one (C_DEL) instead of skipping it. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (st == PW_OK && rc != 0 && rc != MDB_NOTFOUND) {
		st = store_txn_note(t, store_mdb_status(s, rc, "mdb_cursor_get(purge)"));
	}
	/* Resume at the first entry not examined (bytes copied: they die with the txn). */
	s->purge_len[i] = 0;
	if (st == PW_OK && rc == 0 && k.mv_size <= sizeof(s->purge_key[i])) {
		memcpy(s->purge_key[i], k.mv_data, k.mv_size);
		s->purge_len[i] = k.mv_size;
	}
	mdb_cursor_close(cur);
	return st;
}

pw_status
store_expired_purge(store_txn *t, size_t max_scan, size_t *deleted_out)
{
	pw_status st = PW_OK;

	PW_ASSERT(t != NULL && deleted_out != NULL && max_scan > 0);
	*deleted_out = 0;
	if (t->err != PW_OK) {
		return t->err;
	}
	for (size_t i = 0; i < STORE_PURGE_DBS && st == PW_OK; i++) {
		st = store_purge_scan(t, i, max_scan, deleted_out);
	}
	if (*deleted_out > 0) {
		pw_log(PW_LOG_DEBUG, "store: purged %zu expired replies/idempotency entries",
		    *deleted_out);
	}
	return st;
}
