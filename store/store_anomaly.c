/*
 * store_anomaly.c - money that needs a human: the anomalies table.
 *
 * anomalies  merchant_id 0x00 seq (8 bytes BE)  AnomalyRecord
 *
 * store_payment.c writes one record for every event it records as an
 * anomaly, in that event's transaction; seq is the audit seq of the
 * session.anomaly record written with it (unique and growing across the
 * store), so a merchant's range lists in the order anomalies were found.
 * A later event may annotate a record (resolution: the anomalous payment
 * was refunded); nothing deletes one.
 *
 * Listing is a read: one read transaction of its own, a forward scan of the
 * merchant's range from after_seq + 1.
 */
#include "store_internal.h"

#include <string.h>

/* merchant 0x00 seq */
#define STORE_ANOMALY_KEY_BYTES (PW_SESSION_ID_BYTES_MAX + 1 + 8)
_Static_assert(STORE_ANOMALY_KEY_BYTES <= STORE_KEY_BYTES_MAX, "an anomalies key fits");

static bool
store_anomaly_key(uint8_t key[STORE_ANOMALY_KEY_BYTES], const char *merchant_id, uint64_t seq,
    size_t *len)
{
	size_t mlen = strlen(merchant_id);

	if (mlen == 0 || mlen >= PW_SESSION_ID_BYTES_MAX) {
		return false;
	}
	memcpy(key, merchant_id, mlen);
	key[mlen] = 0x00;
	store_be64_put(key + mlen + 1, seq);
	*len = mlen + 9;
	return true;
}

pw_status
store_anomaly_put(store_txn *t, const Paywire__Store__V1__AnomalyRecord *r)
{
	uint8_t key[STORE_ANOMALY_KEY_BYTES];
	size_t len = 0;

	PW_ASSERT(t != NULL && r != NULL && r->seq > 0);
	PW_ASSERT(r->reason != NULL && r->reason[0] != '\0' && r->action != NULL &&
	    r->action[0] != '\0');
	if (!store_anomaly_key(key, r->merchant_id, r->seq, &len)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	return store_rec_put(t, STORE_DB_ANOMALIES, key, len, &r->base, 0, NULL);
}

pw_status
store_anomaly_get(store_txn *t, const char *merchant_id, uint64_t seq,
    Paywire__Store__V1__AnomalyRecord **out)
{
	uint8_t key[STORE_ANOMALY_KEY_BYTES];
	size_t len = 0;

	PW_ASSERT(t != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	if (!store_anomaly_key(key, merchant_id, seq, &len)) {
		return PW_NOT_FOUND;
	}
	return store_rec_get(t, STORE_DB_ANOMALIES, key, len,
	    &paywire__store__v1__anomaly_record__descriptor, (void **) out);
}

typedef struct store_anomaly_walk {
	const uint8_t *prefix;                      /* merchant 0x00 */
	size_t prefix_len;
	size_t limit;
	Paywire__Store__V1__AnomalyRecord **out;    /* limit slots */
	size_t n;
	bool more;                                  /* stopped before the end of the range */
} store_anomaly_walk;

static pw_status
store_anomaly_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_anomaly_walk *w = arg;
	Paywire__Store__V1__AnomalyRecord *r = NULL;
	pw_status st;

	if (key.len != w->prefix_len + 8 || memcmp(key.data, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP; /* past the merchant's range */
		return PW_OK;
	}
	if (w->n == w->limit) {
		w->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	st = store_msg_unpack(&paywire__store__v1__anomaly_record__descriptor, val.data, val.len,
	    (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	/* Paired with store_anomaly_put: the key is the record's own. */
	if (r->seq != store_be64_get((const uint8_t *) key.data + w->prefix_len)) {
		pw_log(PW_LOG_ERROR, "store: anomaly record under another seq (corrupt)");
		paywire__store__v1__anomaly_record__free_unpacked(r, NULL);
		return PW_INTERNAL;
	}
	w->out[w->n++] = r;
	return PW_OK;
}

void
store_anomalies_free(Paywire__Store__V1__AnomalyRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__anomaly_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}

pw_status
store_anomalies_list(store *s, const char *merchant_id, uint64_t after_seq, size_t limit,
    Paywire__Store__V1__AnomalyRecord ***out, size_t *n_out, bool *has_more)
{
	uint8_t start[STORE_ANOMALY_KEY_BYTES];
	store_anomaly_walk w;
	size_t len = 0;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	PW_ASSERT(has_more != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	if (limit == 0 || limit > PW_LIST_LIMIT_MAX || after_seq == UINT64_MAX ||
	    !store_anomaly_key(start, merchant_id, after_seq + 1, &len)) {
		return PW_INVALID_ARGUMENT;
	}
	memset(&w, 0, sizeof(w));
	w.prefix = start;
	w.prefix_len = len - 8;
	w.limit = limit;
	w.out = pw_calloc(limit, sizeof(*w.out));
	if (w.out == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_ANOMALIES, (kv_val){ .data = start, .len = len },
		    store_anomaly_visit, &w);
	}
	store_read_end(&t);
	if (st != PW_OK) {
		store_anomalies_free(w.out, w.n);
		return st;
	}
	*out = w.out;
	*n_out = w.n;
	*has_more = w.more;
	return PW_OK;
}
