/*
 * store_parked.c - events that wait for a ref (docs/PAYMENTS.md "Reference
 * resolution"): a verified event naming only provider refs no session has
 * recorded yet (a Stripe charge.refunded delivered before its
 * checkout.session.completed) is parked under each of its refs; when a later
 * event records one of them, store_payment.c takes the events parked under
 * it and applies them, in arrival order, in the same transaction.
 *
 * parked  provider(1) ref 0x00 seq (8 bytes BE)  ParkedEventRecord
 * meta "parked_seq"                              the last seq given
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* provider ref 0x00 seq */
#define STORE_PARKED_KEY_BYTES (1 + PW_EV_REF_BYTES + 1 + 8)
_Static_assert(STORE_PARKED_KEY_BYTES <= STORE_KEY_BYTES_MAX, "a parked key fits");

static size_t
store_parked_key(uint8_t key[STORE_PARKED_KEY_BYTES], pw_provider p, const char *ref,
    uint64_t seq, bool with_seq)
{
	size_t len = strlen(ref);

	PW_ASSERT(len > 0 && len < PW_EV_REF_BYTES);
	key[0] = (uint8_t) p;
	memcpy(key + 1, ref, len);
	key[1 + len] = 0x00;
	if (!with_seq) {
		return len + 2;
	}
	store_be64_put(key + len + 2, seq);
	return len + 10;
}

static const char *
store_parked_ref(const pw_event *ev, int i)
{
	return i == 0 ? ev->payment_ref : i == 1 ? ev->charge_ref : ev->order_ref;
}

pw_status
store_parked_put(store_txn *t, const pw_event *ev)
{
	Paywire__Store__V1__ParkedEventRecord r = PAYWIRE__STORE__V1__PARKED_EVENT_RECORD__INIT;
	uint8_t key[STORE_PARKED_KEY_BYTES];
	uint8_t seqbuf[8];
	uint64_t n = 0;
	uint64_t seq = 0;
	size_t len = 0;
	pw_status st;

	PW_ASSERT(t != NULL && ev != NULL);
	st = store_count(t, STORE_DB_PARKED, &n);
	if (st != PW_OK) {
		return st;
	}
	if (n + 3 > PW_PARKED_ENTRIES_MAX) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_raw_get(t, STORE_DB_META, STORE_META_PARKED_SEQ, strlen(STORE_META_PARKED_SEQ),
	    seqbuf, sizeof(seqbuf), &len);
	if (st == PW_OK && len == sizeof(seqbuf)) {
		seq = store_be64_get(seqbuf);
	} else if (st == PW_OK || st != PW_NOT_FOUND) {
		return st == PW_OK ? store_txn_note(t, PW_INTERNAL) : st;
	}
	seq++;
	r.seq = seq;
	r.provider = (Paywire__Store__V1__Provider) ev->provider;
	r.kind = (int32_t) ev->kind;
	r.event_id = (char *) ev->event_id;
	r.event_type = (char *) ev->event_type;
	r.has_amount = ev->has_amount;
	r.amount_minor = ev->amount_minor;
	r.currency = (char *) ev->currency;
	r.amount_refunded_minor = ev->amount_refunded_minor;
	r.live = ev->live;
	r.payment_ref = (char *) ev->payment_ref;
	r.charge_ref = (char *) ev->charge_ref;
	r.order_ref = (char *) ev->order_ref;
	r.event_unix_s = ev->event_unix_s;
	r.parked_at_unix_ms = t->now_ms;
	r.network = (char *) ev->network;
	r.confirmations = ev->confirmations;
	r.detail = (char *) ev->detail;
	for (int i = 0; i < 3 && st != PW_INTERNAL; i++) {
		const char *ref = store_parked_ref(ev, i);
		if (ref[0] == '\0') {
			continue;
		}
		st = store_rec_put(t, STORE_DB_PARKED, key,
		    store_parked_key(key, ev->provider, ref, seq, true), &r.base,
		    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
		if (st != PW_OK) {
			return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
		}
	}
	store_be64_put(seqbuf, seq);
	return store_raw_put(t, STORE_DB_META, STORE_META_PARKED_SEQ,
	    strlen(STORE_META_PARKED_SEQ), seqbuf, sizeof(seqbuf), 0);
}

typedef struct store_parked_walk {
	const uint8_t *prefix;                    /* provider ref 0x00 */
	size_t prefix_len;
	Paywire__Store__V1__ParkedEventRecord **out; /* max slots */
	size_t max;
	size_t n;
} store_parked_walk;

static pw_status
store_parked_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_parked_walk *w = arg;
	Paywire__Store__V1__ParkedEventRecord *r = NULL;
	pw_status st;

	if (key.len != w->prefix_len + 8 || memcmp(key.data, w->prefix, w->prefix_len) != 0 ||
	    w->n == w->max) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	st = store_msg_unpack(&paywire__store__v1__parked_event_record__descriptor, val.data,
	    val.len, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	w->out[w->n++] = r;
	return PW_OK;
}

static void
store_parked_to_event(const Paywire__Store__V1__ParkedEventRecord *r, pw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->provider = (pw_provider) r->provider;
	ev->kind = (pw_event_kind) r->kind;
	(void) pw_strlcpy(ev->event_id, r->event_id, sizeof(ev->event_id));
	(void) pw_strlcpy(ev->event_type, r->event_type, sizeof(ev->event_type));
	ev->has_amount = r->has_amount;
	ev->amount_minor = r->amount_minor;
	(void) pw_strlcpy(ev->currency, r->currency, sizeof(ev->currency));
	ev->amount_refunded_minor = r->amount_refunded_minor;
	ev->live = r->live;
	(void) pw_strlcpy(ev->payment_ref, r->payment_ref, sizeof(ev->payment_ref));
	(void) pw_strlcpy(ev->charge_ref, r->charge_ref, sizeof(ev->charge_ref));
	(void) pw_strlcpy(ev->order_ref, r->order_ref, sizeof(ev->order_ref));
	ev->event_unix_s = r->event_unix_s;
	(void) pw_strlcpy(ev->network, r->network, sizeof(ev->network));
	ev->confirmations = r->confirmations;
	(void) pw_strlcpy(ev->detail, r->detail, sizeof(ev->detail));
}

pw_status
store_parked_take(store_txn *t, pw_provider p, const char *ref, store_parked_event *out,
    size_t max, size_t *n_out)
{
	Paywire__Store__V1__ParkedEventRecord *recs[PW_PARKED_APPLY_MAX];
	uint8_t prefix[STORE_PARKED_KEY_BYTES];
	uint8_t key[STORE_PARKED_KEY_BYTES];
	store_parked_walk w;
	pw_status st;

	PW_ASSERT(t != NULL && ref != NULL && out != NULL && n_out != NULL);
	PW_ASSERT(max <= PW_PARKED_APPLY_MAX);
	*n_out = 0;
	memset(&w, 0, sizeof(w));
	w.prefix = prefix;
	w.prefix_len = store_parked_key(prefix, p, ref, 0, false);
	w.out = recs;
	w.max = max;
	st = store_scan(t, STORE_DB_PARKED, (kv_val){ .data = prefix, .len = w.prefix_len },
	    store_parked_visit, &w);
	for (size_t i = 0; i < w.n; i++) {
		if (st == PW_OK) {
			pw_event *ev = &out[i].ev;
			out[i].seq = recs[i]->seq;
			store_parked_to_event(recs[i], ev);
			/* every key of the event, under each of its refs */
			for (int k = 0; k < 3 && st == PW_OK; k++) {
				const char *r = store_parked_ref(ev, k);
				if (r[0] == '\0') {
					continue;
				}
				st = store_raw_del(t, STORE_DB_PARKED, key,
				    store_parked_key(key, ev->provider, r, out[i].seq, true));
				st = st == PW_NOT_FOUND ? PW_OK : st;
			}
		}
		paywire__store__v1__parked_event_record__free_unpacked(recs[i], NULL);
	}
	if (st == PW_OK) {
		*n_out = w.n;
	}
	return st;
}

pw_status
store_parked_count(store *s, uint64_t *n)
{
	store_txn t;
	pw_status st;

	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_count(&t, STORE_DB_PARKED, n);
	}
	store_read_end(&t);
	return st;
}
