/*
 * store_rec.c - get/put/delete of protobuf records and raw values, the only
 * place that moves bytes between LMDB and protobuf-c.
 *
 * Every record is checked twice (STYLE.md section 7): protobuf_c_message_check
 * and an exact packed size when it is encoded, a successful unpack and
 * protobuf_c_message_check when it is decoded. Values are packed straight into
 * LMDB's page (MDB_RESERVE), so a put allocates nothing.
 */
#include "store_internal.h"

#include <string.h>

/* protobuf-c allocator over the pw_malloc hook that remembers whether an
 * allocation failed, so an out-of-memory unpack is not reported as a
 * corrupt record. pw_malloc is malloc, so callers free with a NULL allocator. */
typedef struct store_alloc_state {
	bool failed; /* an allocation returned NULL */
} store_alloc_state;

static void *
store_pb_alloc(void *data, size_t size)
{
	void *p = pw_malloc(size);
	if (p == NULL) {
		((store_alloc_state *) data)->failed = true;
	}
	return p;
}

static void
store_pb_free(void *data, void *p)
{
	(void) data;
	pw_free(p);
}

static pw_status
store_unpack(store_db db, const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
    void **out)
{
	store_alloc_state as = { .failed = false };
	ProtobufCAllocator alloc = { .alloc = store_pb_alloc, .free = store_pb_free,
		.allocator_data = &as };
	ProtobufCMessage *m;

	m = protobuf_c_message_unpack(desc, &alloc, len, data);
	if (m == NULL && as.failed) {
		pw_log(PW_LOG_WARN, "store: out of memory decoding a %s record", desc->short_name);
		return PW_RESOURCE_EXHAUSTED;
	}
	if (m == NULL || !protobuf_c_message_check(m)) {
		pw_log(PW_LOG_ERROR, "store: corrupt record in %s (%zu bytes do not decode as %s)",
		    db < STORE_DB_COUNT ? store_db_name(db) : "memory", len, desc->short_name);
		if (m != NULL) {
			protobuf_c_message_free_unpacked(m, NULL);
		}
		return PW_INTERNAL;
	}
	PW_ASSERT(m->descriptor == desc);
	*out = m;
	return PW_OK;
}

pw_status
store_txn_note(store_txn *t, pw_status st)
{
	PW_ASSERT(t != NULL);
	if (st != PW_OK && st != PW_NOT_FOUND && st != PW_ALREADY_EXISTS && t->err == PW_OK) {
		t->err = st;
	}
	return st;
}

static void
store_key_check(store *s, store_db db, const void *key, size_t keylen)
{
	PW_ASSERT(s != NULL && key != NULL);
	PW_ASSERT(db >= 0 && db < STORE_DB_COUNT);
	PW_ASSERT(keylen > 0 && keylen <= STORE_KEY_BYTES_MAX);
}

pw_status
store_mdb_rec_get(store *s, MDB_txn *txn, store_db db, const void *key, size_t keylen,
    const ProtobufCMessageDescriptor *desc, void **out)
{
	MDB_val k = { .mv_size = keylen, .mv_data = (void *) key };
	MDB_val v = { 0 };
	int rc;

	store_key_check(s, db, key, keylen);
	PW_ASSERT(txn != NULL && desc != NULL && out != NULL);
	*out = NULL;
	rc = mdb_get(txn, s->dbi[db], &k, &v);
	if (rc != 0) {
		return store_mdb_status(s, rc, "mdb_get");
	}
	/* v points into the map: decode it before the txn ends. */
	return store_unpack(db, desc, v.mv_data, v.mv_size, out);
}

pw_status
store_mdb_raw_get(store *s, MDB_txn *txn, store_db db, const void *key, size_t keylen,
    void *buf, size_t buf_size, size_t *len_out)
{
	MDB_val k = { .mv_size = keylen, .mv_data = (void *) key };
	MDB_val v = { 0 };
	int rc;

	store_key_check(s, db, key, keylen);
	PW_ASSERT(txn != NULL && buf != NULL && len_out != NULL);
	*len_out = 0;
	rc = mdb_get(txn, s->dbi[db], &k, &v);
	if (rc != 0) {
		return store_mdb_status(s, rc, "mdb_get");
	}
	if (v.mv_size > buf_size) {
		pw_log(PW_LOG_ERROR, "store: corrupt value in %s: %zu bytes, at most %zu expected",
		    store_db_name(db), v.mv_size, buf_size);
		return PW_INTERNAL;
	}
	memcpy(buf, v.mv_data, v.mv_size);
	*len_out = v.mv_size;
	return PW_OK;
}

pw_status
store_rec_get(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessageDescriptor *desc, void **out)
{
	PW_ASSERT(t != NULL && out != NULL);
	*out = NULL;
	/* A txn that already failed must not be touched again (LMDB would
	 * answer MDB_BAD_TXN). */
	if (t->err != PW_OK) {
		return t->err;
	}
	return store_txn_note(t, store_mdb_rec_get(t->s, t->txn, db, key, keylen, desc, out));
}

pw_status
store_raw_get(store_txn *t, store_db db, const void *key, size_t keylen, void *buf,
    size_t buf_size, size_t *len_out)
{
	PW_ASSERT(t != NULL);
	if (t->err != PW_OK) {
		return t->err;
	}
	return store_txn_note(t,
	    store_mdb_raw_get(t->s, t->txn, db, key, keylen, buf, buf_size, len_out));
}

static void
store_put_flags_check(unsigned flags)
{
	PW_ASSERT((flags & ~(unsigned) (MDB_NOOVERWRITE | MDB_APPEND)) == 0);
}

pw_status
store_rec_put(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessage *msg, unsigned flags, uint8_t hash_out[STORE_HASH_BYTES])
{
	MDB_val k = { .mv_size = keylen, .mv_data = (void *) key };
	MDB_val v = { 0 };
	size_t size;
	size_t packed;
	int rc;

	PW_ASSERT(t != NULL && msg != NULL);
	store_key_check(t->s, db, key, keylen);
	store_put_flags_check(flags);
	PW_ASSERT(protobuf_c_message_check(msg));
	if (t->err != PW_OK) {
		return t->err;
	}
	size = protobuf_c_message_get_packed_size(msg);
	v.mv_size = size;
	rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, flags | MDB_RESERVE);
	if (rc != 0) {
		return store_txn_note(t, store_mdb_status(t->s, rc, "mdb_put"));
	}
	packed = protobuf_c_message_pack(msg, v.mv_data);
	PW_ASSERT(packed == size);
	if (hash_out != NULL) {
		crypto_generichash(hash_out, STORE_HASH_BYTES, v.mv_data, size, NULL, 0);
	}
	return PW_OK;
}

pw_status
store_raw_put(store_txn *t, store_db db, const void *key, size_t keylen, const void *val,
    size_t len, unsigned flags)
{
	MDB_val k = { .mv_size = keylen, .mv_data = (void *) key };
	MDB_val v = { .mv_size = len, .mv_data = (void *) val };
	int rc;

	PW_ASSERT(t != NULL && (val != NULL || len == 0));
	store_key_check(t->s, db, key, keylen);
	store_put_flags_check(flags);
	if (t->err != PW_OK) {
		return t->err;
	}
	rc = mdb_put(t->txn, t->s->dbi[db], &k, &v, flags);
	return store_txn_note(t, store_mdb_status(t->s, rc, "mdb_put"));
}

pw_status
store_raw_del(store_txn *t, store_db db, const void *key, size_t keylen)
{
	MDB_val k = { .mv_size = keylen, .mv_data = (void *) key };
	int rc;

	PW_ASSERT(t != NULL);
	store_key_check(t->s, db, key, keylen);
	if (t->err != PW_OK) {
		return t->err;
	}
	rc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
	return store_txn_note(t, store_mdb_status(t->s, rc, "mdb_del"));
}

pw_status
store_msg_dup(const ProtobufCMessage *msg, void **out)
{
	uint8_t *buf;
	size_t size;
	size_t packed;
	pw_status st;

	PW_ASSERT(msg != NULL && out != NULL);
	PW_ASSERT(protobuf_c_message_check(msg));
	*out = NULL;
	size = protobuf_c_message_get_packed_size(msg);
	buf = pw_malloc(size > 0 ? size : 1);
	if (buf == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	packed = protobuf_c_message_pack(msg, buf);
	PW_ASSERT(packed == size);
	st = store_unpack(STORE_DB_COUNT, msg->descriptor, buf, size, out);
	pw_free(buf);
	return st;
}

pw_status
store_msg_unpack(const ProtobufCMessageDescriptor *desc, const void *data, size_t len, void **out)
{
	PW_ASSERT(desc != NULL && (data != NULL || len == 0) && out != NULL);
	*out = NULL;
	return store_unpack(STORE_DB_COUNT, desc, data, len, out);
}

bool
store_key_join(uint8_t *out, size_t out_size, const char *a, const char *b, size_t *len_out)
{
	size_t alen;
	size_t blen;

	PW_ASSERT(out != NULL && a != NULL && b != NULL && len_out != NULL);
	alen = strlen(a);
	blen = strlen(b);
	*len_out = 0;
	if (alen + 1 + blen > out_size || alen + 1 + blen > STORE_KEY_BYTES_MAX) {
		return false;
	}
	memcpy(out, a, alen);
	out[alen] = 0x00;
	memcpy(out + alen + 1, b, blen);
	*len_out = alen + 1 + blen;
	return true;
}
