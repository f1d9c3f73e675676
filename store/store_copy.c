/*
 * store_copy.c - moving a store between engines (store_copy in store.h):
 * every entry of every table, from one read snapshot of the source, written
 * insert-only into a target that holds nothing, in chunks of at most
 * STORE_COPY_CHUNK_ENTRIES entries or STORE_COPY_CHUNK_BYTES bytes per write
 * transaction; then the target is checked: each table's count equals what
 * the source's snapshot holds, and its audit chain verifies to the same head
 * as the source's. Engine-neutral: both sides are stores opened through
 * store_open, so LMDB -> PostgreSQL, PostgreSQL -> LMDB and LMDB -> LMDB are
 * the same code.
 */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STORE_COPY_CHUNK_ENTRIES 1000
#define STORE_COPY_CHUNK_BYTES (4u << 20)

/* One chunk of entries read from the source, written in one apply. */
typedef struct copy_chunk {
	store_db db;            /* the table */
	uint8_t *buf;           /* keys and values, back to back */
	size_t used;            /* bytes of buf in use */
	size_t cap;             /* its capacity */
	size_t n;               /* entries */
	size_t klen[STORE_COPY_CHUNK_ENTRIES]; /* each key's length */
	size_t vlen[STORE_COPY_CHUNK_ENTRIES]; /* each value's length */
	uint8_t last[KV_KEY_BYTES_MAX];        /* the last key read */
	size_t last_len;        /* its length (0: none yet) */
	bool skip_first;        /* the scan restarts at last: skip it */
	bool more;              /* the scan stopped before the table's end */
	pw_status err;          /* a failure of the chunk itself (OOM) */
} copy_chunk;

/* store_scan_fn: appends the entry to the chunk until it is full. */
static pw_status
copy_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	copy_chunk *c = arg;
	size_t need = key.len + val.len;

	if (c->skip_first) {
		c->skip_first = false;
		if (key.len == c->last_len && sodium_memcmp(key.data, c->last, key.len) == 0) {
			return PW_OK;
		}
	}
	if (c->n == STORE_COPY_CHUNK_ENTRIES || (c->n > 0 && c->used + need > STORE_COPY_CHUNK_BYTES)) {
		c->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	if (c->used + need > c->cap) {
		size_t cap = c->cap != 0 ? c->cap : 1u << 16;
		uint8_t *b;

		while (cap < c->used + need) {
			cap *= 2;
		}
		b = realloc(c->buf, cap);
		if (b == NULL) {
			c->err = PW_RESOURCE_EXHAUSTED;
			return PW_RESOURCE_EXHAUSTED;
		}
		c->buf = b;
		c->cap = cap;
	}
	PW_ASSERT(key.len <= sizeof(c->last));
	memcpy(c->buf + c->used, key.data, key.len);
	memcpy(c->buf + c->used + key.len, val.data, val.len);
	c->used += need;
	c->klen[c->n] = key.len;
	c->vlen[c->n] = val.len;
	c->n++;
	memcpy(c->last, key.data, key.len);
	c->last_len = key.len;
	return PW_OK;
}

/* store_apply_fn on the target: the chunk's entries, insert-only (the
 * target held nothing, so an existing key means two writers). */
static pw_status
copy_apply(store_txn *t, void *arg)
{
	copy_chunk *c = arg;
	size_t at = 0;
	pw_status st = PW_OK;

	for (size_t i = 0; i < c->n && st == PW_OK; i++) {
		/* meta key_check: the target's first batch may have written it
		 * already (store_key_check_apply); the source's overwrites it, so
		 * the target asks for the key the data was written with. */
		bool key_check = c->db == STORE_DB_META &&
		    c->klen[i] == strlen(STORE_META_KEY_CHECK) &&
		    memcmp(c->buf + at, STORE_META_KEY_CHECK, c->klen[i]) == 0;

		st = store_raw_put(t, c->db, c->buf + at, c->klen[i], c->buf + at + c->klen[i],
		    c->vlen[i], key_check ? 0u : KV_PUT_INSERT);
		at += c->klen[i] + c->vlen[i];
	}
	return st;
}

/* Copies table db from the source snapshot src into dst; *copied counts. */
static pw_status
copy_table(store_txn *src, store *dst, store_db db, uint64_t *copied, char *why,
    size_t why_size)
{
	copy_chunk *c = calloc(1, sizeof(*c));
	pw_status st = PW_OK;

	if (c == NULL) {
		return pw_why(why, why_size, PW_RESOURCE_EXHAUSTED, "out of memory");
	}
	c->db = db;
	do {
		kv_val from = { .data = c->last, .len = c->last_len };

		c->n = 0;
		c->used = 0;
		c->more = false;
		c->skip_first = c->last_len > 0;
		st = store_scan(src, db, from, copy_visit, c);
		if (st == PW_OK && c->err != PW_OK) {
			st = c->err;
		}
		if (st != PW_OK) {
			st = pw_why(why, why_size, st, "reading table %s of the source: %s",
			    store_db_name(db), pw_status_name(st));
			break;
		}
		if (c->n > 0) {
			st = store_apply_sync(dst, copy_apply, c);
			if (st != PW_OK) {
				st = pw_why(why, why_size, st, "writing table %s of the target: %s",
				    store_db_name(db), pw_status_name(st));
				break;
			}
			*copied += c->n;
		}
	} while (c->more);
	free(c->buf);
	free(c);
	return st;
}

/* Every table of s holds no entry. */
static pw_status
copy_target_empty(store *s, char *why, size_t why_size)
{
	store_txn t;
	uint64_t n = 0;
	pw_status st = store_read_begin(s, &t);

	for (int db = 0; db < STORE_DB_COUNT && st == PW_OK; db++) {
		st = store_count(&t, (store_db) db, &n);
		if (st == PW_OK && n != 0) {
			st = pw_why(why, why_size, PW_FAILED_PRECONDITION, "the target is not empty "
			    "(table %s holds %llu entries): copy only into a new store",
			    store_db_name((store_db) db), (unsigned long long) n);
		}
	}
	store_read_end(&t);
	return st;
}

pw_status
store_copy(const store_opts *from, const store_opts *to, store_copy_report *out, char *why,
    size_t why_size)
{
	store_opts src_opts = *from;
	store *src = NULL;
	store *dst = NULL;
	store_audit_report src_audit;
	store_txn t = { 0 };
	bool reading = false;
	pw_status st;

	PW_ASSERT(from != NULL && to != NULL && out != NULL && why != NULL && why_size > 0);
	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	src_opts.read_only = true;
	st = store_open(&src, &src_opts);
	if (st != PW_OK) {
		return pw_why(why, why_size, st, "cannot open the source: %s", pw_status_name(st));
	}
	st = store_open(&dst, to);
	if (st != PW_OK) {
		store_close(src);
		return pw_why(why, why_size, st, "cannot open the target: %s", pw_status_name(st));
	}
	st = copy_target_empty(dst, why, why_size);
	if (st == PW_OK) {
		st = store_audit_verify(src, &src_audit);
		if (st == PW_OK && !src_audit.ok) {
			st = pw_why(why, why_size, PW_FAILED_PRECONDITION, "the source's audit chain "
			    "is broken at seq %llu (%s): not copied", (unsigned long long)
			    src_audit.first_bad_seq, src_audit.detail);
		}
	}
	if (st == PW_OK) {
		st = store_read_begin(src, &t);
		reading = st == PW_OK;
	}
	for (int db = 0; db < STORE_DB_COUNT && st == PW_OK; db++) {
		uint64_t copied = 0;
		uint64_t want = 0;
		uint64_t have = 0;
		store_txn d;

		st = copy_table(&t, dst, (store_db) db, &copied, why, why_size);
		if (st != PW_OK) {
			break;
		}
		st = store_count(&t, (store_db) db, &want);
		if (st == PW_OK) {
			st = store_read_begin(dst, &d);
			if (st == PW_OK) {
				st = store_count(&d, (store_db) db, &have);
				store_read_end(&d);
			}
		}
		if (st == PW_OK && (have != want || copied != want)) {
			st = pw_why(why, why_size, PW_INTERNAL, "table %s: the source holds %llu "
			    "entries, %llu were copied, the target holds %llu", store_db_name((store_db) db),
			    (unsigned long long) want, (unsigned long long) copied,
			    (unsigned long long) have);
		}
		out->records += copied;
		out->tables++;
	}
	if (reading) {
		store_read_end(&t);
	}
	if (st == PW_OK) {
		st = store_audit_verify(dst, &out->audit);
		if (st == PW_OK && (!out->audit.ok || out->audit.records != src_audit.records ||
		    sodium_memcmp(out->audit.head_hash, src_audit.head_hash,
	    sizeof(src_audit.head_hash)) != 0)) {
			st = pw_why(why, why_size, PW_INTERNAL, "the target's audit chain does not "
			    "verify to the source's head (%s)", out->audit.detail);
		}
	}
	store_close(dst);
	store_close(src);
	return st;
}
