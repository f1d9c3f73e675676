/*
 * store_query.c - what a merchant reads of its own sessions and invoices.
 *
 * merchant_sessions  merchant_id 0x00 ~created_ms (8 bytes BE) session id -> empty
 *
 * The creation time is stored inverted (UINT64_MAX - ms), so a forward scan
 * of a merchant's range meets its newest sessions first: newest-first pages
 * without a reverse cursor in the engine seam, and a created_to filter is
 * where the scan starts. Invoices need no index of their own: their key is
 * merchant_id 0x00 number (8 bytes BE), already in number order.
 *
 * Reads only: each call runs in one read transaction of its own.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* merchant 0x00 ~created (8) id */
#define STORE_MS_KEY_BYTES (PW_SESSION_ID_BYTES_MAX + 1 + 8 + PW_SESSION_ID_BYTES_MAX)
_Static_assert(STORE_MS_KEY_BYTES <= STORE_KEY_BYTES_MAX, "a merchant_sessions key fits");

/* merchant 0x00 ~created, the start of sessions created at or before ms;
 * with id, the entry itself. */
static bool
store_ms_key(uint8_t *key, size_t size, const char *merchant_id, int64_t created_ms,
    const char *id, size_t *len)
{
	size_t mlen = strlen(merchant_id);
	size_t ilen = id != NULL ? strlen(id) : 0;

	if (mlen == 0 || mlen + 1 + 8 + ilen > size) {
		return false;
	}
	memcpy(key, merchant_id, mlen);
	key[mlen] = 0x00;
	store_be64_put(key + mlen + 1, UINT64_MAX - (uint64_t) created_ms);
	if (ilen > 0) {
		memcpy(key + mlen + 9, id, ilen);
	}
	*len = mlen + 9 + ilen;
	return true;
}

pw_status
store_merchant_session_index(store_txn *t, const Paywire__Store__V1__Session *sess)
{
	uint8_t key[STORE_MS_KEY_BYTES];
	size_t len = 0;
	pw_status st;

	if (!store_ms_key(key, sizeof(key), sess->merchant_id, sess->created_at_unix_ms, sess->id,
	    &len)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	st = store_raw_put(t, STORE_DB_MERCHANT_SESSIONS, key, len, "", 0,
	    KV_PUT_INSERT | KV_PUT_FRESH);
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

pw_status
store_session_get_for(store *s, const char *merchant_id, const char *session_id,
    Paywire__Store__V1__SessionRecord **out)
{
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && session_id != NULL && out != NULL);
	st = store_session_get(s, session_id, out);
	if (st == PW_INVALID_ARGUMENT) {
		st = PW_NOT_FOUND; /* no such id can exist */
	}
	if (st == PW_OK && strcmp((*out)->session->merchant_id, merchant_id) != 0) {
		paywire__store__v1__session_record__free_unpacked(*out, NULL);
		*out = NULL;
		st = PW_NOT_FOUND; /* another merchant's: not told apart from none */
	}
	return st;
}

/* ---- listing sessions ---- */

typedef struct store_ms_walk {
	store_txn *t;
	const store_session_filter *f;
	size_t prefix_len;                         /* merchant 0x00 */
	const uint8_t *prefix;
	uint8_t skip[STORE_MS_KEY_BYTES];          /* the cursor's own entry: skipped */
	size_t skip_len;
	size_t examined;                           /* index entries looked at */
	Paywire__Store__V1__SessionRecord **out;   /* limit + 1 slots */
	size_t n;
	char last[PW_SESSION_ID_BYTES_MAX];        /* id of the last entry examined */
	bool more;                                 /* stopped before the end of the range */
} store_ms_walk;

static pw_status
store_ms_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_ms_walk *w = arg;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	const uint8_t *k = key.data;
	char id[PW_SESSION_ID_BYTES_MAX];
	uint64_t created;
	size_t ilen;
	pw_status st;

	(void) val;
	if (key.len <= w->prefix_len + 8 || memcmp(k, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP; /* past the merchant's range */
		return PW_OK;
	}
	if (key.len == w->skip_len && memcmp(k, w->skip, w->skip_len) == 0) {
		return PW_OK; /* the previous page's last session */
	}
	created = UINT64_MAX - store_be64_get(k + w->prefix_len);
	if (w->f->created_from_ms > 0 && (int64_t) created < w->f->created_from_ms) {
		*step = STORE_SCAN_STOP; /* older than the range: all after it are too */
		return PW_OK;
	}
	if (w->n > w->f->limit || w->examined == PW_LIST_SCAN_MAX) {
		w->more = true; /* a full page (and one more), or the scan bound */
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	w->examined++;
	ilen = key.len - w->prefix_len - 8;
	if (ilen >= sizeof(id)) {
		pw_log(PW_LOG_ERROR, "store: merchant_sessions entry with a %zu-byte id", ilen);
		return PW_INTERNAL;
	}
	memcpy(id, k + w->prefix_len + 8, ilen);
	id[ilen] = '\0';
	memcpy(w->last, id, ilen + 1);
	st = store_session_load(w->t, id, &rec);
	if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_ERROR, "store: merchant_sessions names missing session %s", id);
		return PW_INTERNAL;
	}
	if (st != PW_OK) {
		return st;
	}
	store_session_view(rec, w->t->now_ms);
	if (w->f->status != PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_UNSPECIFIED &&
	    rec->session->status != w->f->status) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
		return PW_OK;
	}
	w->out[w->n++] = rec;
	return PW_OK;
}

void
store_session_list_free(Paywire__Store__V1__SessionRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__session_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

pw_status
store_sessions_list(store *s, const char *merchant_id, const store_session_filter *f,
    Paywire__Store__V1__SessionRecord ***out, size_t *n_out, bool *has_more, char *next,
    size_t next_size)
{
	Paywire__Store__V1__SessionRecord *cursor = NULL;
	uint8_t prefix[STORE_MS_KEY_BYTES];
	uint8_t start[STORE_MS_KEY_BYTES];
	size_t plen = 0;
	size_t slen = 0;
	store_ms_walk w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && f != NULL && out != NULL && n_out != NULL);
	PW_ASSERT(has_more != NULL && next != NULL && next_size >= PW_SESSION_ID_BYTES_MAX);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	next[0] = '\0';
	if (f->limit == 0 || f->limit > PW_LIST_LIMIT_MAX ||
	    !store_ms_key(prefix, sizeof(prefix), merchant_id, 0, NULL, &plen)) {
		return PW_INVALID_ARGUMENT;
	}
	plen -= 8; /* merchant 0x00 */
	memset(&w, 0, sizeof(w));
	w.f = f;
	w.prefix = prefix;
	w.prefix_len = plen;
	/* Where to start: after the cursor's entry, else at created_to, else
	 * at the newest. */
	if (f->starting_after != NULL && f->starting_after[0] != '\0') {
		st = store_session_get_for(s, merchant_id, f->starting_after, &cursor);
		if (st == PW_NOT_FOUND) {
			return PW_INVALID_ARGUMENT;
		}
		if (st != PW_OK) {
			return st;
		}
		if (!store_ms_key(start, sizeof(start), merchant_id, cursor->session->created_at_unix_ms,
		    cursor->session->id, &slen)) {
			st = PW_INVALID_ARGUMENT;
		}
		paywire__store__v1__session_record__free_unpacked(cursor, NULL);
		if (st != PW_OK) {
			return st;
		}
		memcpy(w.skip, start, slen);
		w.skip_len = slen;
	} else if (f->created_to_ms > 0) {
		(void) store_ms_key(start, sizeof(start), merchant_id, f->created_to_ms, NULL, &slen);
	} else {
		memcpy(start, prefix, plen);
		slen = plen;
	}
	w.out = pw_malloc((f->limit + 1) * sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		w.t = &t;
		st = store_scan(&t, STORE_DB_MERCHANT_SESSIONS, (kv_val){ .data = start, .len = slen },
		    store_ms_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_session_list_free(w.out, w.n);
		return st;
	}
	if (w.n > f->limit) {
		/* one more than a page matched: the page ends at the limit */
		paywire__store__v1__session_record__free_unpacked(w.out[f->limit], NULL);
		w.n = f->limit;
		w.more = true;
		(void) pw_strlcpy(next, w.out[w.n - 1]->session->id, next_size);
	} else if (w.more) {
		(void) pw_strlcpy(next, w.last, next_size); /* the scan bound: go on from there */
	}
	*has_more = w.more;
	*out = w.out;
	*n_out = w.n;
	return PW_OK;
}

/* ---- invoices ---- */

static bool
store_inv_key(uint8_t *key, size_t size, const char *merchant_id, uint64_t number, size_t *len)
{
	size_t mlen = strlen(merchant_id);

	if (mlen == 0 || mlen + 9 > size) {
		return false;
	}
	memcpy(key, merchant_id, mlen);
	key[mlen] = 0x00;
	store_be64_put(key + mlen + 1, number);
	*len = mlen + 9;
	return true;
}

pw_status
store_invoice_get(store *s, const char *merchant_id, uint64_t number,
    Paywire__Store__V1__InvoiceRecord **out)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t len = 0;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	if (number == 0 || !store_inv_key(key, sizeof(key), merchant_id, number, &len)) {
		return PW_NOT_FOUND;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_rec_get(&t, STORE_DB_INVOICES, key, len,
		    &paywire__store__v1__invoice_record__descriptor, (void **) out);
	}
	store_read_end(&t);
	return st;
}

typedef struct store_inv_walk {
	const uint8_t *prefix;                      /* merchant 0x00 */
	size_t prefix_len;
	size_t limit;
	Paywire__Store__V1__InvoiceRecord **out;    /* limit slots */
	size_t n;
	bool more;
} store_inv_walk;

static pw_status
store_inv_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_inv_walk *w = arg;

	if (key.len != w->prefix_len + 8 || memcmp(key.data, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	if (w->n == w->limit) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	return store_msg_unpack(&paywire__store__v1__invoice_record__descriptor, val.data, val.len,
	    (void **) &w->out[w->n++]);
}

void
store_invoice_list_free(Paywire__Store__V1__InvoiceRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		if (list[i] != NULL) {
			paywire__store__v1__invoice_record__free_unpacked(list[i], NULL);
		}
	}
	pw_free(list);
}

pw_status
store_invoices_list(store *s, const char *merchant_id, uint64_t starting_after, size_t limit,
    Paywire__Store__V1__InvoiceRecord ***out, size_t *n_out, bool *has_more)
{
	uint8_t start[STORE_KEY_BYTES_MAX];
	size_t slen = 0;
	store_inv_walk w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	PW_ASSERT(has_more != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	if (limit == 0 || limit > PW_LIST_LIMIT_MAX || starting_after == UINT64_MAX ||
	    !store_inv_key(start, sizeof(start), merchant_id, starting_after + 1, &slen)) {
		return PW_INVALID_ARGUMENT;
	}
	memset(&w, 0, sizeof(w));
	w.prefix = start;
	w.prefix_len = slen - 8;
	w.limit = limit;
	w.out = pw_calloc(limit, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_INVOICES, (kv_val){ .data = start, .len = slen },
		    store_inv_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_invoice_list_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	*has_more = w.more;
	return PW_OK;
}
