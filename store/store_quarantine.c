/*
 * store_quarantine.c - verified webhooks paywire could not parse, kept for an
 * operator instead of being dropped (docs/WEBHOOKS.md "Quarantine").
 *
 * quarantine  id (8 bytes BE)  QuarantinedEventRecord
 * meta "quarantine_id"         the last id given (8 bytes BE): ids are never reused
 *
 * The server writes an entry in the transaction that answers the provider
 * (so the 200 it sends is durable), and removes it in the transaction that
 * applies it on a successful retry. At most PW_QUARANTINE_EVENTS_MAX entries:
 * a full quarantine refuses (PW_UNAVAILABLE), the provider then retries later.
 */
#include "store_internal.h"

#include <string.h>

static void
store_q_key(uint8_t key[8], uint64_t id)
{
	store_be64_put(key, id);
}

pw_status
store_quarantine_put(store_txn *t, Paywire__Store__V1__QuarantinedEventRecord *r,
    uint64_t *id_out)
{
	uint8_t key[8];
	uint8_t last[8];
	uint64_t n = 0;
	uint64_t id = 0;
	size_t len = 0;
	pw_status st;

	PW_ASSERT(t != NULL && r != NULL && id_out != NULL);
	*id_out = 0;
	if (r->body.len > PW_WEBHOOK_BODY_BYTES_MAX || r->n_headers > PW_WEBHOOK_HEADERS_MAX ||
	    r->reason == NULL || r->reason[0] == '\0' || !pw_provider_known((pw_provider) r->provider)) {
		return PW_INVALID_ARGUMENT;
	}
	st = store_count(t, STORE_DB_QUARANTINE, &n);
	if (st != PW_OK) {
		return st;
	}
	if (n >= PW_QUARANTINE_EVENTS_MAX) {
		pw_log(PW_LOG_WARN, "store: quarantine full (%d events): a %s webhook is refused; "
		    "retry or remove kept events", PW_QUARANTINE_EVENTS_MAX,
		    pw_provider_name((pw_provider) r->provider));
		return PW_UNAVAILABLE;
	}
	st = store_raw_get(t, STORE_DB_META, STORE_META_QUARANTINE_ID,
	    strlen(STORE_META_QUARANTINE_ID), last, sizeof(last), &len);
	if (st == PW_OK && len == sizeof(last)) {
		id = store_be64_get(last);
	} else if (st == PW_OK || st != PW_NOT_FOUND) {
		return st == PW_OK ? store_txn_note(t, PW_INTERNAL) : st;
	}
	PW_ASSERT(id < UINT64_MAX);
	id++;
	r->id = id;
	r->received_at_unix_ms = t->now_ms;
	r->attempts = 0;
	r->last_attempt_unix_ms = 0;
	store_q_key(key, id);
	st = store_rec_put(t, STORE_DB_QUARANTINE, key, sizeof(key), &r->base,
	    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
	if (st == PW_ALREADY_EXISTS) {
		return store_txn_note(t, PW_INTERNAL); /* the counter went back */
	}
	if (st == PW_OK) {
		st = store_raw_put(t, STORE_DB_META, STORE_META_QUARANTINE_ID,
		    strlen(STORE_META_QUARANTINE_ID), key, sizeof(key), 0);
	}
	if (st == PW_OK) {
		*id_out = id;
	}
	return st;
}

pw_status
store_quarantine_get_in(store_txn *t, uint64_t id, Paywire__Store__V1__QuarantinedEventRecord **out)
{
	uint8_t key[8];
	pw_status st;

	PW_ASSERT(t != NULL && out != NULL);
	*out = NULL;
	store_q_key(key, id);
	st = store_rec_get(t, STORE_DB_QUARANTINE, key, sizeof(key),
	    &paywire__store__v1__quarantined_event_record__descriptor, (void **) out);
	if (st == PW_OK && (*out)->id != id) {
		pw_log(PW_LOG_ERROR, "store: quarantine entry %llu holds id %llu (corrupt)",
		    (unsigned long long) id, (unsigned long long) (*out)->id);
		paywire__store__v1__quarantined_event_record__free_unpacked(*out, NULL);
		*out = NULL;
		return PW_INTERNAL;
	}
	return st;
}

pw_status
store_quarantine_remove(store_txn *t, uint64_t id)
{
	uint8_t key[8];

	PW_ASSERT(t != NULL);
	store_q_key(key, id);
	return store_raw_del(t, STORE_DB_QUARANTINE, key, sizeof(key));
}

pw_status
store_quarantine_note(store_txn *t, uint64_t id, const char *reason)
{
	Paywire__Store__V1__QuarantinedEventRecord *r = NULL;
	uint8_t key[8];
	pw_status st;

	PW_ASSERT(t != NULL && reason != NULL && reason[0] != '\0');
	st = store_quarantine_get_in(t, id, &r);
	if (st != PW_OK) {
		return st;
	}
	st = store_pbstr_set(&r->reason, reason);
	if (st == PW_OK) {
		r->attempts++;
		r->last_attempt_unix_ms = t->now_ms;
		store_q_key(key, id);
		st = store_rec_put(t, STORE_DB_QUARANTINE, key, sizeof(key), &r->base, 0, NULL);
	}
	paywire__store__v1__quarantined_event_record__free_unpacked(r, NULL);
	return st;
}

pw_status
store_quarantine_get(store *s, uint64_t id, Paywire__Store__V1__QuarantinedEventRecord **out)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL);
	*out = NULL;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_quarantine_get_in(&t, id, out);
	}
	store_read_end(&t);
	return st;
}

typedef struct store_q_walk {
	size_t limit;
	Paywire__Store__V1__QuarantinedEventRecord **out; /* limit slots */
	size_t n;
	bool more;
} store_q_walk;

static pw_status
store_q_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_q_walk *w = arg;
	Paywire__Store__V1__QuarantinedEventRecord *r = NULL;
	pw_status st;

	if (key.len != 8) {
		pw_log(PW_LOG_ERROR, "store: quarantine key of %zu bytes (corrupt)", key.len);
		return PW_INTERNAL;
	}
	if (w->n == w->limit) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	st = store_msg_unpack(&paywire__store__v1__quarantined_event_record__descriptor, val.data,
	    val.len, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	w->out[w->n++] = r;
	return PW_OK;
}

void
store_quarantine_free(Paywire__Store__V1__QuarantinedEventRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__quarantined_event_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

pw_status
store_quarantine_list(store *s, uint64_t after_id, size_t limit,
    Paywire__Store__V1__QuarantinedEventRecord ***out, size_t *n_out, bool *has_more)
{
	uint8_t start[8];
	store_q_walk w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && out != NULL && n_out != NULL && has_more != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	if (limit == 0 || limit > PW_LIST_LIMIT_MAX || after_id == UINT64_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	memset(&w, 0, sizeof(w));
	w.limit = limit;
	w.out = pw_calloc(limit, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	store_q_key(start, after_id + 1);
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_QUARANTINE, (kv_val){ .data = start, .len = sizeof(start) },
		    store_q_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_quarantine_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	*has_more = w.more;
	return PW_OK;
}
