/*
 * store_rec.c - get/put/delete of protobuf records and raw values, counts and
 * ordered scans: the only place the domain calls the engine inside a
 * transaction (store_kv.h), and the only place that moves bytes between the
 * engine and protobuf-c.
 *
 * Every record is checked twice (STYLE.md section 7): protobuf_c_message_check
 * and an exact packed size when it is encoded, a successful unpack and
 * protobuf_c_message_check when it is decoded. Values are packed straight into
 * the space the engine's put offers (LMDB: its page), so a put allocates
 * nothing. Every helper refuses a txn whose sticky error is set, and records
 * the first failure it meets there.
 */
#include "store_internal.h"

#include <stddef.h>
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

/* Checks t may be used and key is one of ours; *k = key. PW_OK, or the
 * sticky error of t (a txn that already failed is never touched again: the
 * engine would refuse it). */
static pw_status
store_txn_use(store_txn *t, store_db db, const void *key, size_t keylen, kv_val *k)
{
	PW_ASSERT(t != NULL && t->s != NULL && t->txn != NULL);
	PW_ASSERT(db >= 0 && db < STORE_DB_COUNT);
	PW_ASSERT(key != NULL || keylen == 0);
	PW_ASSERT(keylen <= STORE_KEY_BYTES_MAX);
	*k = (kv_val){ .data = key, .len = keylen };
	return t->err;
}

/* store_txn_use for a write: also refuses a read txn and an empty key. */
static pw_status
store_txn_use_write(store_txn *t, store_db db, const void *key, size_t keylen, kv_val *k)
{
	PW_ASSERT(t != NULL && !t->read && keylen > 0);
	return store_txn_use(t, db, key, keylen, k);
}

/* The value under key: v points into the engine (dies with the txn). */
static pw_status
store_val_get(store_txn *t, store_db db, const void *key, size_t keylen, kv_val *v)
{
	kv_val k;
	pw_status st;

	PW_ASSERT(keylen > 0);
	st = store_txn_use(t, db, key, keylen, &k);
	if (st != PW_OK) {
		return st;
	}
	return store_txn_note(t, t->s->kv->get(t->txn, (unsigned) db, k, v));
}

pw_status
store_rec_get(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessageDescriptor *desc, void **out)
{
	kv_val v;
	pw_status st;

	PW_ASSERT(desc != NULL && out != NULL);
	*out = NULL;
	st = store_val_get(t, db, key, keylen, &v);
	if (st != PW_OK) {
		return st;
	}
	/* v points into the engine: decode it before the txn ends. */
	return store_txn_note(t, store_unpack(db, desc, v.data, v.len, out));
}

pw_status
store_raw_get(store_txn *t, store_db db, const void *key, size_t keylen, void *buf,
    size_t buf_size, size_t *len_out)
{
	kv_val v = { .data = NULL, .len = 0 };
	pw_status st;

	PW_ASSERT(buf != NULL && len_out != NULL);
	*len_out = 0;
	st = store_val_get(t, db, key, keylen, &v);
	if (st == PW_OK && v.len > buf_size) {
		pw_log(PW_LOG_ERROR, "store: corrupt value in %s: %zu bytes, at most %zu expected",
		    store_db_name(db), v.len, buf_size);
		st = store_txn_note(t, PW_INTERNAL);
	}
	if (st == PW_OK && v.len > 0) {
		memcpy(buf, v.data, v.len);
		*len_out = v.len;
	}
	return st;
}

/* A record to pack into the engine's space, and its hash as stored. */
typedef struct store_rec_fill {
	const ProtobufCMessage *msg; /* what to pack */
	uint8_t *hash;               /* NULL, or where the hash of the bytes goes */
} store_rec_fill;

static void
store_rec_fill_cb(void *space, size_t size, void *arg)
{
	const store_rec_fill *f = arg;
	size_t packed = protobuf_c_message_pack(f->msg, space);

	PW_ASSERT(packed == size); /* paired with get_packed_size in store_rec_put */
	if (f->hash != NULL) {
		crypto_generichash(f->hash, STORE_HASH_BYTES, space, size, NULL, 0);
	}
}

/* kv_fill_fn of raw values: arg is the bytes. */
static void
store_raw_fill_cb(void *space, size_t size, void *arg)
{
	if (size > 0) {
		memcpy(space, arg, size);
	}
}

static pw_status
store_put(store_txn *t, store_db db, const void *key, size_t keylen, size_t size,
    unsigned flags, kv_fill_fn fill, void *arg)
{
	kv_val k;
	pw_status st;

	PW_ASSERT((flags & ~(KV_PUT_INSERT | KV_PUT_APPEND | KV_PUT_FRESH)) == 0);
	PW_ASSERT((flags & KV_PUT_FRESH) == 0 || (flags & (KV_PUT_INSERT | KV_PUT_APPEND)) != 0);
	st = store_txn_use_write(t, db, key, keylen, &k);
	if (st != PW_OK) {
		return st;
	}
	t->wrote = true;
	return store_txn_note(t, t->s->kv->put(t->txn, (unsigned) db, k, size, flags, fill, arg));
}

pw_status
store_rec_put(store_txn *t, store_db db, const void *key, size_t keylen,
    const ProtobufCMessage *msg, unsigned flags, uint8_t hash_out[STORE_HASH_BYTES])
{
	store_rec_fill f = { .msg = msg, .hash = hash_out };

	PW_ASSERT(msg != NULL && protobuf_c_message_check(msg));
	return store_put(t, db, key, keylen, protobuf_c_message_get_packed_size(msg), flags,
	    store_rec_fill_cb, &f);
}

pw_status
store_raw_put(store_txn *t, store_db db, const void *key, size_t keylen, const void *val,
    size_t len, unsigned flags)
{
	PW_ASSERT(val != NULL || len == 0);
	return store_put(t, db, key, keylen, len, flags, store_raw_fill_cb, (void *) val);
}

pw_status
store_raw_del(store_txn *t, store_db db, const void *key, size_t keylen)
{
	kv_val k;
	pw_status st;

	st = store_txn_use_write(t, db, key, keylen, &k);
	if (st != PW_OK) {
		return st;
	}
	t->wrote = true;
	return store_txn_note(t, t->s->kv->del(t->txn, (unsigned) db, k));
}

pw_status
store_count(store_txn *t, store_db db, uint64_t *out)
{
	kv_val k;
	pw_status st;

	PW_ASSERT(out != NULL);
	*out = 0;
	st = store_txn_use(t, db, NULL, 0, &k);
	if (st != PW_OK) {
		return st;
	}
	return store_txn_note(t, t->s->kv->count(t->txn, (unsigned) db, out));
}

pw_status
store_counts_get(store *s, store_counts *out)
{
	const struct {
		store_db db;     /* counted table */
		size_t offset;   /* its field in store_counts */
	} rows[] = {
		{ STORE_DB_MERCHANTS, offsetof(store_counts, merchants) },
		{ STORE_DB_SESSIONS, offsetof(store_counts, sessions) },
		{ STORE_DB_INVOICES, offsetof(store_counts, invoices) },
		{ STORE_DB_ENTITLEMENTS, offsetof(store_counts, entitlements) },
		{ STORE_DB_EVENTS, offsetof(store_counts, events) },
		{ STORE_DB_AUDIT, offsetof(store_counts, audit) },
		{ STORE_DB_REPLIES, offsetof(store_counts, replies) },
	};
	store_txn t;
	uint64_t n = 0;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	st = store_read_begin(s, &t);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && st == PW_OK; i++) {
		st = store_count(&t, rows[i].db, &n);
		memcpy((char *) out + rows[i].offset, &n, sizeof(n));
	}
	store_read_end(&t);
	if (st != PW_OK) {
		memset(out, 0, sizeof(*out));
	}
	return st;
}

/* The loop of store_scan over an open cursor. */
static pw_status
store_scan_run(store_txn *t, kv_cursor *cur, kv_val from, store_scan_fn visit, void *arg)
{
	const kv_ops *kv = t->s->kv;
	store_scan_step step;
	kv_val k;
	kv_val v;
	pw_status st;

	st = kv->cursor_seek(cur, from, &k, &v);
	while (st == PW_OK) {
		step = STORE_SCAN_NEXT;
		st = visit(k, v, &step, arg);
		if (st != PW_OK || step == STORE_SCAN_STOP) {
			return st;
		}
		if (step == STORE_SCAN_DELETE) {
			PW_ASSERT(!t->read);
			t->wrote = true;
			st = store_txn_note(t, kv->cursor_del(cur));
			if (st != PW_OK) {
				return st;
			}
		}
		/* After a delete the engine returns the entry that followed it. */
		st = kv->cursor_next(cur, &k, &v);
	}
	return st == PW_NOT_FOUND ? PW_OK : store_txn_note(t, st);
}

pw_status
store_scan(store_txn *t, store_db db, kv_val from, store_scan_fn visit, void *arg)
{
	kv_cursor *cur = NULL;
	kv_val k;
	pw_status st;

	PW_ASSERT(visit != NULL);
	st = store_txn_use(t, db, from.data, from.len, &k);
	if (st != PW_OK) {
		return st;
	}
	st = store_txn_note(t, t->s->kv->cursor_open(t->txn, (unsigned) db, &cur));
	if (st != PW_OK) {
		return st;
	}
	st = store_scan_run(t, cur, k, visit, arg);
	t->s->kv->cursor_close(cur);
	return st;
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
