/*
 * store_audit.c - the hash-chained audit log.
 *
 * Record n carries prev_hash = BLAKE2b-256 of record n-1's packed bytes as
 * stored (32 zero bytes for n = 1), and meta "audit_head" holds the hash of
 * the last record, so changing any byte of any record, deleting one or
 * reordering them breaks a link. The hash is not keyed: anyone holding a copy
 * of the data can verify the chain without paywire's keys.
 *
 * Locating the changed record: a record j whose bytes changed breaks the link
 * into j+1 (its hash changed). If the change was in j's own prev_hash field,
 * the link into j breaks as well. So when the first broken link is the one
 * into r, the changed record is r if the link into r+1 is broken too, else
 * r-1.
 *
 * The merchant index: audit_merchant maps merchant_id 0x00 seq (8 bytes BE)
 * to an empty value, one entry per record that has a merchant, written in
 * the record's own transaction; a merchant's events are then a range read.
 * meta audit_index_from holds the first seq the index covers: the first
 * append of a build with the index writes it (= that record's seq), so a
 * store of an older build (store format 1 without the table's entries)
 * keeps its older records readable through the walk of the log itself
 * (store_events_list). docs/STORE.md "The audit log's merchant index".
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* Reads meta audit_seq/audit_head; both absent = empty log. */
static pw_status
store_audit_head_get(store_txn *t, uint64_t *seq, uint8_t head[STORE_HASH_BYTES], bool *present)
{
	uint8_t seqbuf[8];
	size_t seqlen = 0;
	size_t headlen = 0;
	pw_status st1;
	pw_status st2;

	*seq = 0;
	*present = false;
	memset(head, 0, STORE_HASH_BYTES);
	st1 = store_raw_get(t, STORE_DB_META, STORE_META_AUDIT_SEQ,
	    strlen(STORE_META_AUDIT_SEQ), seqbuf, sizeof(seqbuf), &seqlen);
	if (st1 != PW_OK && st1 != PW_NOT_FOUND) {
		return st1;
	}
	st2 = store_raw_get(t, STORE_DB_META, STORE_META_AUDIT_HEAD,
	    strlen(STORE_META_AUDIT_HEAD), head, STORE_HASH_BYTES, &headlen);
	if (st2 != PW_OK && st2 != PW_NOT_FOUND) {
		return st2;
	}
	if (st1 == PW_NOT_FOUND && st2 == PW_NOT_FOUND) {
		return PW_OK;
	}
	if (st1 != PW_OK || st2 != PW_OK || seqlen != 8 || headlen != STORE_HASH_BYTES) {
		pw_log(PW_LOG_ERROR, "store: corrupt audit head in meta");
		return store_txn_note(t, PW_INTERNAL);
	}
	*seq = store_be64_get(seqbuf);
	*present = true;
	return PW_OK;
}

/* The audit_merchant key merchant 0x00 seq (8 bytes BE) into key[size].
 * false for an empty merchant id or one that does not fit. */
static bool
store_am_key(uint8_t *key, size_t size, const char *merchant_id, uint64_t seq, size_t *len)
{
	size_t mlen = strlen(merchant_id);

	if (mlen == 0 || mlen + 1 + 8 > size) {
		return false;
	}
	memcpy(key, merchant_id, mlen);
	key[mlen] = 0x00;
	store_be64_put(key + mlen + 1, seq);
	*len = mlen + 1 + 8;
	return true;
}

/* meta audit_index_from in t: *from = the first seq the index covers, or
 * UINT64_MAX when absent (no record is covered). */
static pw_status
store_audit_index_from_get(store_txn *t, uint64_t *from)
{
	uint8_t buf[8];
	size_t len = 0;
	pw_status st;

	*from = UINT64_MAX;
	st = store_raw_get(t, STORE_DB_META, STORE_META_AUDIT_INDEX_FROM,
	    strlen(STORE_META_AUDIT_INDEX_FROM), buf, sizeof(buf), &len);
	if (st == PW_NOT_FOUND) {
		return PW_OK;
	}
	if (st != PW_OK) {
		return st;
	}
	if (len != sizeof(buf) || store_be64_get(buf) == 0) {
		pw_log(PW_LOG_ERROR, "store: corrupt audit_index_from in meta");
		return store_txn_note(t, PW_INTERNAL);
	}
	*from = store_be64_get(buf);
	return PW_OK;
}

/* The index entry of record seq (of merchant_id, "" for none), and the
 * marker if this is the first append that writes the index. */
static pw_status
store_audit_index_put(store_txn *t, const char *merchant_id, uint64_t seq)
{
	store *s = t->s;
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t len = 0;
	pw_status st;

	if (atomic_load(&s->audit_index_off)) {
		return PW_OK; /* test hook: as a build before the index */
	}
	if (s->audit_index_from == 0) {
		uint64_t from = 0;

		st = store_audit_index_from_get(t, &from);
		if (st != PW_OK) {
			return st;
		}
		if (from == UINT64_MAX) {
			/* the first append with the index: every record from this one
			 * on has its entry. Not cached: the batch may still roll back. */
			uint8_t buf[8];

			store_be64_put(buf, seq);
			st = store_raw_put(t, STORE_DB_META, STORE_META_AUDIT_INDEX_FROM,
			    strlen(STORE_META_AUDIT_INDEX_FROM), buf, sizeof(buf), 0);
			if (st != PW_OK) {
				return st;
			}
		} else {
			/* There: committed, or written earlier in this batch. In the
			 * second case a rolled-back batch leaves the cache set and the
			 * marker absent: readers then walk the whole log (right, only
			 * slower) until a store reopen writes it. */
			s->audit_index_from = from;
		}
	}
	if (merchant_id[0] == '\0') {
		return PW_OK; /* no merchant: no entry (a NULL listing walks the log) */
	}
	if (!store_am_key(key, sizeof(key), merchant_id, seq, &len)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	st = store_raw_put(t, STORE_DB_AUDIT_MERCHANT, key, len, "", 0, KV_PUT_INSERT | KV_PUT_FRESH);
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

pw_status
store_audit_append(store_txn *t, const char *action, const char *merchant_id,
    const char *session_id, const char *detail)
{
	uint64_t seq = 0;

	return store_audit_append_seq(t, action, merchant_id, session_id, detail, &seq);
}

pw_status
store_audit_append_seq(store_txn *t, const char *action, const char *merchant_id,
    const char *session_id, const char *detail, uint64_t *seq_out)
{
	Paywire__Store__V1__AuditRecord rec = PAYWIRE__STORE__V1__AUDIT_RECORD__INIT;
	uint8_t head[STORE_HASH_BYTES];
	uint8_t key[8];
	uint64_t seq = 0;
	bool present = false;
	pw_status st;

	PW_ASSERT(t != NULL && action != NULL && action[0] != '\0');
	if (t->err != PW_OK) {
		return t->err;
	}
	st = store_audit_head_get(t, &seq, head, &present);
	if (st != PW_OK) {
		return st;
	}
	PW_ASSERT(seq < UINT64_MAX);
	rec.seq = seq + 1;
	rec.unix_ms = t->now_ms;
	rec.action = (char *) action;
	rec.merchant_id = (char *) (merchant_id != NULL ? merchant_id : "");
	rec.session_id = (char *) (session_id != NULL ? session_id : "");
	rec.detail = (char *) (detail != NULL ? detail : "");
	rec.prev_hash.len = STORE_HASH_BYTES;
	rec.prev_hash.data = head;
	store_be64_put(key, rec.seq);
	/* KV_PUT_APPEND: seq keys only grow, so this appends to the B-tree; it
	 * also refuses an existing seq (and, on LMDB, any key not past the last
	 * one): a broken head. */
	st = store_rec_put(t, STORE_DB_AUDIT, key, sizeof(key), &rec.base,
	    KV_PUT_APPEND | KV_PUT_FRESH, head);
	if (st == PW_ALREADY_EXISTS) {
		pw_log(PW_LOG_ERROR, "store: audit seq %llu is not past the last record: corrupt "
		    "audit head", (unsigned long long) rec.seq);
		return store_txn_note(t, PW_INTERNAL);
	}
	if (st != PW_OK) {
		return st;
	}
	st = store_audit_index_put(t, rec.merchant_id, rec.seq);
	if (st != PW_OK) {
		return st;
	}
	st = store_raw_put(t, STORE_DB_META, STORE_META_AUDIT_SEQ, strlen(STORE_META_AUDIT_SEQ),
	    key, sizeof(key), 0);
	if (st != PW_OK) {
		return st;
	}
	st = store_raw_put(t, STORE_DB_META, STORE_META_AUDIT_HEAD,
	    strlen(STORE_META_AUDIT_HEAD), head, sizeof(head), 0);
	if (st == PW_OK) {
		/* the outbox is written with the change (store_notify.c) */
		st = store_notify_on_audit(t, rec.seq, action, rec.merchant_id, rec.session_id,
		    rec.detail);
	}
	if (st == PW_OK) {
		*seq_out = rec.seq;
	}
	return st;
}

/* ---- verification ---- */

typedef struct store_audit_walk {
	uint64_t records;               /* records seen */
	uint64_t last_seq;              /* seq of the last record seen */
	uint64_t expected;              /* next seq expected */
	uint64_t broken_into;           /* r: first record whose incoming link broke, 0 none */
	uint64_t first_bad;             /* the answer, 0 while none */
	uint8_t prev[STORE_HASH_BYTES]; /* hash of the previous record (running head) */
	char detail[256];               /* what was wrong */
} store_audit_walk;

_Static_assert(sizeof(((store_audit_walk *) 0)->detail) ==
        sizeof(((store_audit_report *) 0)->detail),
    "a walk's detail fits the report whole");
_Static_assert(sizeof(((store_audit_report *) 0)->head_hash) == STORE_HASH_BYTES,
    "the report's head is one chain hash");

/* The changed record once the link after `broken_into` is known. */
static void
store_audit_locate(store_audit_walk *w, bool next_link_ok, const char *what)
{
	uint64_t r = w->broken_into;

	w->first_bad = (next_link_ok && r > 1) ? r - 1 : r;
	snprintf(w->detail, sizeof(w->detail), "record %llu changed after it was written "
	    "(prev_hash of record %llu does not match; %s)", (unsigned long long) w->first_bad,
	    (unsigned long long) r, what);
}

static void
store_audit_bad(store_audit_walk *w, uint64_t seq, const char *why)
{
	w->first_bad = seq;
	snprintf(w->detail, sizeof(w->detail), "record %llu: %s", (unsigned long long) seq, why);
}

/* store_scan_fn: one record of the chain, in seq order. */
static pw_status
store_audit_step(kv_val k, kv_val v, store_scan_step *step, void *arg)
{
	store_audit_walk *w = arg;
	Paywire__Store__V1__AuditRecord *rec = NULL;
	uint64_t seq = k.len == 8 ? store_be64_get(k.data) : 0;
	bool link_ok;
	pw_status st;

	(void) step; /* read only: always the next record */
	PW_ASSERT(w->first_bad != 0 || w->expected > w->last_seq);
	w->records++;
	w->last_seq = seq;
	if (w->first_bad != 0) {
		return PW_OK; /* keep counting only */
	}
	if (seq != w->expected) {
		store_audit_bad(w, w->expected, "missing (sequence has a gap or a bad key)");
		return PW_OK;
	}
	w->expected++;
	st = store_msg_unpack(&paywire__store__v1__audit_record__descriptor, v.data, v.len, (void **) &rec);
	if (st != PW_OK || rec->seq != seq) {
		store_audit_bad(w, seq, st != PW_OK ? "does not decode" : "seq field differs from key");
		if (rec != NULL) {
			paywire__store__v1__audit_record__free_unpacked(rec, NULL);
		}
		return PW_OK;
	}
	link_ok = rec->prev_hash.len == STORE_HASH_BYTES &&
	    sodium_memcmp(rec->prev_hash.data, w->prev, STORE_HASH_BYTES) == 0;
	paywire__store__v1__audit_record__free_unpacked(rec, NULL);
	if (w->broken_into != 0) {
		store_audit_locate(w, link_ok, link_ok ? "the next link holds" : "the next link too");
		return PW_OK;
	}
	if (!link_ok) {
		w->broken_into = seq;
	}
	crypto_generichash(w->prev, sizeof(w->prev), v.data, v.len, NULL, 0);
	return PW_OK;
}

/* Checks the end of the chain against meta's head. */
static void
store_audit_finish(store_audit_walk *w, uint64_t meta_seq, const uint8_t meta_head[32],
    bool meta_present)
{
	bool head_ok;

	if (w->first_bad != 0) {
		return;
	}
	if (!meta_present) {
		meta_seq = 0;
		meta_head = w->prev; /* empty log: nothing to compare */
	}
	head_ok = meta_seq == w->last_seq &&
	    sodium_memcmp(meta_head, w->prev, STORE_HASH_BYTES) == 0;
	if (meta_seq > w->last_seq) {
		store_audit_bad(w, w->last_seq + 1, "missing (the log ends before the head in meta)");
	} else if (meta_seq < w->last_seq) {
		store_audit_bad(w, meta_seq + 1, "not covered by the head in meta (appended outside "
		    "paywire?)");
	} else if (w->broken_into != 0) {
		store_audit_locate(w, head_ok, head_ok ? "the head holds" : "the head too");
	} else if (!head_ok) {
		store_audit_bad(w, w->last_seq, "changed after it was written (its hash does not "
		    "match the head in meta)");
	} else {
		snprintf(w->detail, sizeof(w->detail), "chain intact: %llu records",
		    (unsigned long long) w->records);
	}
}

pw_status
store_audit_verify(store *s, store_audit_report *out)
{
	store_audit_walk w = { .expected = 1 };
	uint8_t meta_head[STORE_HASH_BYTES];
	uint64_t meta_seq = 0;
	bool meta_present = false;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_AUDIT, (kv_val){ .data = NULL, .len = 0 },
		    store_audit_step, &w);
	}
	if (st == PW_OK) {
		st = store_audit_head_get(&t, &meta_seq, meta_head, &meta_present);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		return st;
	}
	store_audit_finish(&w, meta_seq, meta_head, meta_present);
	out->ok = w.first_bad == 0;
	out->records = w.records;
	out->last_seq = w.last_seq;
	memcpy(out->head_hash, w.prev, sizeof(out->head_hash));
	out->first_bad_seq = w.first_bad;
	(void) pw_strlcpy(out->detail, w.detail, sizeof(out->detail)); /* same size */
	return PW_OK;
}

/* ---- the change feed: the audit log read as events ---- */

pw_status
store_events_head(store *s, uint64_t *seq)
{
	uint8_t head[STORE_HASH_BYTES];
	bool present = false;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && seq != NULL);
	*seq = 0;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_audit_head_get(&t, seq, head, &present);
	}
	store_read_end(&t);
	return st;
}

typedef struct store_events_walk {
	store_txn *t;
	const char *merchant_id;                 /* NULL: every merchant's */
	size_t limit;
	Paywire__Store__V1__AuditRecord **out;   /* limit slots */
	size_t n;
	size_t examined;
	uint64_t last_examined;
	uint64_t stop_at;                        /* the log walk stops before this seq
	                                            (where the index takes over) */
	const uint8_t *prefix;                   /* index walk: merchant 0x00 */
	size_t prefix_len;
	bool more;
} store_events_walk;

static pw_status
store_events_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_events_walk *w = arg;
	Paywire__Store__V1__AuditRecord *r = NULL;
	pw_status st;

	if (key.len != 8) {
		pw_log(PW_LOG_ERROR, "store: audit key of %zu bytes (corrupt)", key.len);
		return PW_INTERNAL;
	}
	if (store_be64_get(key.data) >= w->stop_at) {
		/* the index covers the rest */
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	if (w->n == w->limit || w->examined == PW_LIST_SCAN_MAX) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->examined++;
	w->last_examined = store_be64_get(key.data);
	st = store_msg_unpack(&paywire__store__v1__audit_record__descriptor, val.data, val.len,
	    (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (w->merchant_id != NULL && strcmp(r->merchant_id, w->merchant_id) != 0) {
		paywire__store__v1__audit_record__free_unpacked(r, NULL);
		return PW_OK;
	}
	w->out[w->n++] = r;
	return PW_OK;
}

/* One entry of the merchant's index range: its record, by seq. */
static pw_status
store_events_index_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_events_walk *w = arg;
	Paywire__Store__V1__AuditRecord *r = NULL;
	const uint8_t *k = key.data;
	uint64_t seq;
	pw_status st;

	(void) val;
	if (key.len != w->prefix_len + 8 || memcmp(k, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP; /* past the merchant's range */
		return PW_OK;
	}
	if (w->n == w->limit || w->examined == PW_LIST_SCAN_MAX) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	seq = store_be64_get(k + w->prefix_len);
	st = store_rec_get(w->t, STORE_DB_AUDIT, k + w->prefix_len, 8,
	    &paywire__store__v1__audit_record__descriptor, (void **) &r);
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_ERROR, "store: audit_merchant names seq %llu, which the audit log "
		    "lacks (corrupt)", (unsigned long long) seq);
		return PW_INTERNAL;
	}
	if (st != PW_OK) {
		return st;
	}
	if (r->seq != seq || strcmp(r->merchant_id, w->merchant_id) != 0) {
		pw_log(PW_LOG_ERROR, "store: audit_merchant entry of seq %llu does not match its "
		    "record (corrupt)", (unsigned long long) seq);
		paywire__store__v1__audit_record__free_unpacked(r, NULL);
		return PW_INTERNAL;
	}
	w->examined++;
	w->last_examined = seq;
	w->out[w->n++] = r;
	return PW_OK;
}

void
store_events_free(Paywire__Store__V1__AuditRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__audit_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

pw_status
store_events_list(store *s, const char *merchant_id, uint64_t after_seq, size_t limit,
    Paywire__Store__V1__AuditRecord ***out, size_t *n_out, bool *has_more,
    uint64_t *next_after)
{
	store_events_walk w;
	uint8_t start[8];
	uint8_t ikey[STORE_KEY_BYTES_MAX];
	size_t ilen = 0;
	uint64_t from = UINT64_MAX;
	bool indexed;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL && n_out != NULL && has_more != NULL);
	PW_ASSERT(next_after != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	*next_after = after_seq;
	if (limit == 0 || limit > PW_LIST_LIMIT_MAX || after_seq == UINT64_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	memset(&w, 0, sizeof(w));
	w.merchant_id = merchant_id;
	w.limit = limit;
	w.out = pw_calloc(limit, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	w.t = &t;
	w.stop_at = UINT64_MAX;
	/* a merchant's listing reads its index from audit_index_from on; an id
	 * that cannot have entries walks the log (and finds nothing) */
	indexed = merchant_id != NULL &&
	    store_am_key(ikey, sizeof(ikey), merchant_id, 0, &ilen);
	store_be64_put(start, after_seq + 1);
	st = store_read_begin(s, &t);
	if (st == PW_OK && indexed) {
		st = store_audit_index_from_get(&t, &from);
		w.stop_at = from;
	}
	if (st == PW_OK && after_seq + 1 < w.stop_at) {
		/* before the index (or without one): the log itself */
		st = store_scan(&t, STORE_DB_AUDIT, (kv_val){ .data = start, .len = sizeof(start) },
		    store_events_visit, &w);
	}
	if (st == PW_OK && indexed && from != UINT64_MAX && !w.more) {
		/* the index: from past after_seq and past what the walk covered */
		uint64_t first = after_seq + 1 > from ? after_seq + 1 : from;

		store_be64_put(ikey + ilen - 8, first);
		w.prefix = ikey;
		w.prefix_len = ilen - 8;
		st = store_scan(&t, STORE_DB_AUDIT_MERCHANT, (kv_val){ .data = ikey, .len = ilen },
		    store_events_index_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_events_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	*has_more = w.more;
	/* where to go on: past the last one examined, matched or not */
	*next_after = w.examined > 0 ? w.last_examined : after_seq;
	return PW_OK;
}
