/*
 * store_credits.c - customers' prepaid credit ledgers.
 *
 * credits      merchant_id 0x00 customer                 CreditLedgerRecord (balance, last seq)
 * credit_txns  merchant_id 0x00 customer 0x00 seq (be64)  CreditTxnRecord (immutable)
 *
 * Every change of a balance is one new entry, written in the same
 * transaction as the ledger it moves: a purchase (a paid session that sold
 * credits), a deduction (DeductCredits), a reversal (the refund or lost
 * dispute of a purchase). Entries are never changed or deleted. A reversal
 * takes back at most what is left (the balance stops at 0) and records the
 * rest as its shortfall: credits already spent cannot be taken back, and the
 * merchant sees by how much it lost. A deduction is refused when the balance
 * is short. The one writer serializes all of them, so concurrent deductions
 * never overdraw; on a shared engine the ledger row is read and written in
 * the same transaction, so a concurrent server's deduction is a conflict,
 * and the batch runs again on the new balance.
 */
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define KIND_PURCHASE PAYWIRE__STORE__V1__CREDIT_TXN_KIND__CREDIT_TXN_KIND_PURCHASE
#define KIND_DEDUCTION PAYWIRE__STORE__V1__CREDIT_TXN_KIND__CREDIT_TXN_KIND_DEDUCTION
#define KIND_REVERSAL PAYWIRE__STORE__V1__CREDIT_TXN_KIND__CREDIT_TXN_KIND_REVERSAL

/* merchant 0x00 customer 0x00 be64 seq */
static bool
store_ctx_key(uint8_t *key, size_t size, const char *merchant_id, const char *customer,
    uint64_t seq, size_t *len)
{
	if (!store_key_join(key, size, merchant_id, customer, len) || *len + 9 > size ||
	    *len + 9 > STORE_KEY_BYTES_MAX) {
		return false;
	}
	key[*len] = 0x00;
	store_be64_put(key + *len + 1, seq);
	*len += 9;
	return true;
}

bool
store_credit_customer_ok(const char *customer)
{
	size_t len = customer != NULL ? strnlen(customer, PW_CREDIT_CUSTOMER_BYTES_MAX + 1) : 0;

	return len > 0 && len <= PW_CREDIT_CUSTOMER_BYTES_MAX;
}

/* The ledger of (merchant, customer) in t: *l (caller frees), or NULL with
 * PW_OK when there is none yet. */
static pw_status
store_ledger_get(store_txn *t, const uint8_t *key, size_t keylen,
    Paywire__Store__V1__CreditLedgerRecord **l)
{
	pw_status st;

	*l = NULL;
	st = store_rec_get(t, STORE_DB_CREDITS, key, keylen,
	    &paywire__store__v1__credit_ledger_record__descriptor, (void **) l);
	return st == PW_NOT_FOUND ? PW_OK : st;
}

pw_status
store_credits_post(store_txn *t, const store_credit_post *p,
    Paywire__Store__V1__CreditTxnRecord **out)
{
	Paywire__Store__V1__CreditLedgerRecord fresh = PAYWIRE__STORE__V1__CREDIT_LEDGER_RECORD__INIT;
	Paywire__Store__V1__CreditTxnRecord e = PAYWIRE__STORE__V1__CREDIT_TXN_RECORD__INIT;
	Paywire__Store__V1__CreditLedgerRecord *l = NULL;
	uint8_t lkey[STORE_KEY_BYTES_MAX];
	uint8_t ekey[STORE_KEY_BYTES_MAX];
	size_t lkeylen = 0;
	size_t ekeylen = 0;
	int64_t delta = p->delta;
	int64_t shortfall = 0;
	int64_t bal;
	pw_status st;

	PW_ASSERT(t != NULL && p != NULL && p->merchant_id != NULL && p->customer != NULL);
	PW_ASSERT(p->delta >= -PW_CREDITS_MAX && p->delta <= PW_CREDITS_MAX && p->delta != 0);
	PW_ASSERT((p->kind == KIND_PURCHASE) == (p->delta > 0));
	if (out != NULL) {
		*out = NULL;
	}
	if (!store_key_join(lkey, sizeof(lkey), p->merchant_id, p->customer, &lkeylen)) {
		return store_txn_note(t, PW_INTERNAL);
	}
	st = store_ledger_get(t, lkey, lkeylen, &l);
	if (st != PW_OK) {
		return st;
	}
	if (l == NULL) {
		fresh.merchant_id = (char *) p->merchant_id;
		fresh.customer = (char *) p->customer;
		l = &fresh;
	}
	if (p->kind == KIND_REVERSAL && l->balance + delta < 0) {
		/* spent already: take back what is left, record the rest */
		shortfall = -delta - (l->balance > 0 ? l->balance : 0);
		delta = l->balance > 0 ? -l->balance : 0;
	}
	if (p->kind == KIND_DEDUCTION && l->balance + delta < 0) {
		st = PW_FAILED_PRECONDITION; /* the caller checked: a bug if reached */
	} else if (__builtin_add_overflow(l->balance, delta, &bal)) {
		pw_log(PW_LOG_ERROR, "store: credit ledger of %s overflows", p->merchant_id);
		st = store_txn_note(t, PW_INTERNAL);
	} else {
		l->balance = bal;
		l->entries++;
		l->updated_at_unix_ms = t->now_ms;
		st = store_rec_put(t, STORE_DB_CREDITS, lkey, lkeylen, &l->base, 0, NULL);
	}
	if (st == PW_OK && !store_ctx_key(ekey, sizeof(ekey), p->merchant_id, p->customer,
	    l->entries, &ekeylen)) {
		st = store_txn_note(t, PW_INTERNAL);
	}
	if (st == PW_OK) {
		e.seq = l->entries;
		e.merchant_id = (char *) p->merchant_id;
		e.customer = (char *) p->customer;
		e.kind = p->kind;
		e.delta = delta;
		e.balance_after = l->balance;
		e.shortfall = shortfall;
		e.session_id = (char *) (p->session_id != NULL ? p->session_id : "");
		e.idempotency_key = (char *) (p->idempotency_key != NULL ? p->idempotency_key : "");
		e.description = (char *) (p->description != NULL ? p->description : "");
		e.created_at_unix_ms = t->now_ms;
		st = store_rec_put(t, STORE_DB_CREDIT_TXNS, ekey, ekeylen, &e.base,
		    KV_PUT_INSERT | KV_PUT_FRESH, NULL);
		/* the seq is the ledger's next: an entry there means the counter went back */
		st = st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
	}
	if (st == PW_OK && out != NULL) {
		st = store_msg_dup(&e.base, (void **) out);
	}
	if (l != &fresh) {
		paywire__store__v1__credit_ledger_record__free_unpacked(l, NULL);
	}
	return st;
}

/* The entry (merchant, customer, seq) in t. */
static pw_status
store_ctx_get(store_txn *t, const char *merchant_id, const char *customer, uint64_t seq,
    Paywire__Store__V1__CreditTxnRecord **out)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;

	if (!store_ctx_key(key, sizeof(key), merchant_id, customer, seq, &keylen)) {
		return PW_NOT_FOUND;
	}
	return store_rec_get(t, STORE_DB_CREDIT_TXNS, key, keylen,
	    &paywire__store__v1__credit_txn_record__descriptor, (void **) out);
}

/* A deduction's idempotency: PW_OK + *out for a replay; PW_NOT_FOUND for a
 * new key (or one older than the TTL); PW_IDEMPOTENCY_CONFLICT. */
static pw_status
store_deduct_replay(store_txn *t, const char *merchant_id, const uint8_t *key, size_t keylen,
    const uint8_t hash[STORE_HASH_BYTES], Paywire__Store__V1__CreditTxnRecord **out)
{
	Paywire__Store__V1__IdempotencyRecord *r = NULL;
	pw_status st;

	st = store_rec_get(t, STORE_DB_IDEM, key, keylen,
	    &paywire__store__v1__idempotency_record__descriptor, (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (t->now_ms - r->created_at_unix_ms >= PW_IDEMPOTENCY_TTL_MS) {
		st = PW_NOT_FOUND;
	} else if (r->request_hash.len != STORE_HASH_BYTES ||
	    sodium_memcmp(r->request_hash.data, hash, STORE_HASH_BYTES) != 0 ||
	    r->credit_seq == 0) {
		st = PW_IDEMPOTENCY_CONFLICT; /* other parameters, or another call's key */
	} else {
		st = store_ctx_get(t, merchant_id, r->customer, r->credit_seq, out);
		if (st == PW_NOT_FOUND) {
			pw_log(PW_LOG_ERROR, "store: idempotency record names a missing credit entry");
			st = store_txn_note(t, PW_INTERNAL);
		}
	}
	paywire__store__v1__idempotency_record__free_unpacked(r, NULL);
	return st;
}

pw_status
store_credits_deduct(store_txn *t, const char *merchant_id, const store_deduct_params *p,
    const uint8_t request_hash[32], Paywire__Store__V1__CreditTxnRecord **out, char *reason,
    size_t reason_size)
{
	Paywire__Store__V1__IdempotencyRecord idem = PAYWIRE__STORE__V1__IDEMPOTENCY_RECORD__INIT;
	Paywire__Store__V1__CreditLedgerRecord *l = NULL;
	uint8_t ikey[STORE_KEY_BYTES_MAX];
	uint8_t lkey[STORE_KEY_BYTES_MAX];
	size_t ikeylen = 0;
	size_t lkeylen = 0;
	store_credit_post post;
	char detail[160];
	int64_t balance;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && p != NULL && request_hash != NULL);
	PW_ASSERT(out != NULL && reason != NULL && reason_size > 0);
	*out = NULL;
	reason[0] = '\0';
	if (!store_credit_customer_ok(p->customer) || p->credits <= 0 ||
	    p->credits > PW_CREDITS_MAX || p->idempotency_key == NULL ||
	    p->idempotency_key[0] == '\0' ||
	    strnlen(p->idempotency_key, PW_IDEMPOTENCY_KEY_BYTES_MAX + 1) >
	        PW_IDEMPOTENCY_KEY_BYTES_MAX ||
	    (p->description != NULL &&
	        strnlen(p->description, PW_DESCRIPTION_BYTES_MAX + 1) > PW_DESCRIPTION_BYTES_MAX) ||
	    !store_key_join(ikey, sizeof(ikey), merchant_id, p->idempotency_key, &ikeylen) ||
	    !store_key_join(lkey, sizeof(lkey), merchant_id, p->customer, &lkeylen)) {
		snprintf(reason, reason_size, "deduction parameters out of range");
		return PW_INVALID_ARGUMENT;
	}
	st = store_deduct_replay(t, merchant_id, ikey, ikeylen, request_hash, out);
	if (st != PW_NOT_FOUND) {
		return st; /* PW_OK: the same deduction again, nothing written */
	}
	st = store_ledger_get(t, lkey, lkeylen, &l);
	if (st != PW_OK) {
		return st;
	}
	balance = l != NULL ? l->balance : 0;
	if (l != NULL) {
		paywire__store__v1__credit_ledger_record__free_unpacked(l, NULL);
	}
	if (balance < p->credits) {
		snprintf(reason, reason_size, "balance is %" PRId64 " credits, %" PRId64
		    " asked: nothing deducted", balance, p->credits);
		return PW_FAILED_PRECONDITION;
	}
	post = (store_credit_post){ .merchant_id = merchant_id, .customer = p->customer,
		.kind = KIND_DEDUCTION, .delta = -p->credits, .idempotency_key = p->idempotency_key,
		.description = p->description };
	st = store_credits_post(t, &post, out);
	if (st == PW_OK) {
		idem.request_hash.len = STORE_HASH_BYTES;
		idem.request_hash.data = (uint8_t *) request_hash;
		idem.session_id = (char *) "";
		idem.created_at_unix_ms = t->now_ms;
		idem.customer = (char *) p->customer;
		idem.credit_seq = (*out)->seq;
		st = store_rec_put(t, STORE_DB_IDEM, ikey, ikeylen, &idem.base, 0, NULL);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "seq=%" PRIu64 " credits=-%" PRId64 " balance=%" PRId64,
		    (*out)->seq, p->credits, (*out)->balance_after);
		st = store_audit_append(t, "credits.deducted", merchant_id, NULL, detail);
	}
	if (st != PW_OK && *out != NULL) {
		paywire__store__v1__credit_txn_record__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return st;
}

/* ---- reads ---- */

pw_status
store_credits_balance(store *s, const char *merchant_id, const char *customer,
    Paywire__Store__V1__CreditLedgerRecord **out)
{
	Paywire__Store__V1__CreditLedgerRecord *l = NULL;
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t keylen = 0;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	if (!store_credit_customer_ok(customer) ||
	    !store_key_join(key, sizeof(key), merchant_id, customer, &keylen)) {
		return PW_INVALID_ARGUMENT;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_ledger_get(&t, key, keylen, &l);
	}
	store_read_end(&t);
	if (st == PW_OK && l == NULL) {
		Paywire__Store__V1__CreditLedgerRecord none =
		    PAYWIRE__STORE__V1__CREDIT_LEDGER_RECORD__INIT;
		none.merchant_id = (char *) merchant_id;
		none.customer = (char *) customer;
		st = store_msg_dup(&none.base, (void **) &l);
	}
	*out = l;
	return st;
}

/* Listing newest first: walks the customer's entries from the start of its
 * key range and keeps the last `limit + 1` below the cursor. The entries of
 * one customer are its own key range, so the walk is O(its entries). */
typedef struct store_ctx_list {
	const uint8_t *prefix;                   /* merchant 0x00 customer 0x00 */
	size_t prefix_len;
	uint64_t below;                          /* seq < below (UINT64_MAX: all) */
	size_t keep;                             /* limit + 1 */
	Paywire__Store__V1__CreditTxnRecord **ring; /* the last `keep` seen, oldest first */
	size_t n;                                /* in ring */
	size_t head;                             /* index of the oldest */
} store_ctx_list;

static pw_status
store_ctx_list_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_ctx_list *w = arg;
	Paywire__Store__V1__CreditTxnRecord *r = NULL;
	pw_status st;

	if (key.len != w->prefix_len + 8 || memcmp(key.data, w->prefix, w->prefix_len) != 0) {
		*step = STORE_SCAN_STOP; /* past the customer's range */
		return PW_OK;
	}
	if (store_be64_get((const uint8_t *) key.data + w->prefix_len) >= w->below) {
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	st = store_msg_unpack(&paywire__store__v1__credit_txn_record__descriptor, val.data, val.len,
	    (void **) &r);
	if (st != PW_OK) {
		return st;
	}
	if (w->n < w->keep) {
		w->ring[(w->head + w->n) % w->keep] = r;
		w->n++;
	} else {
		paywire__store__v1__credit_txn_record__free_unpacked(w->ring[w->head], NULL);
		w->ring[w->head] = r;
		w->head = (w->head + 1) % w->keep;
	}
	return PW_OK;
}

pw_status
store_credits_list(store *s, const char *merchant_id, const char *customer,
    uint64_t starting_after, size_t limit, Paywire__Store__V1__CreditTxnRecord ***out,
    size_t *n_out, bool *has_more)
{
	uint8_t prefix[STORE_KEY_BYTES_MAX];
	size_t plen = 0;
	store_ctx_list w;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL && n_out != NULL);
	PW_ASSERT(has_more != NULL);
	*out = NULL;
	*n_out = 0;
	*has_more = false;
	if (!store_credit_customer_ok(customer) || limit == 0 || limit > PW_LIST_LIMIT_MAX ||
	    !store_key_join(prefix, sizeof(prefix), merchant_id, customer, &plen) ||
	    plen + 1 > sizeof(prefix)) {
		return PW_INVALID_ARGUMENT;
	}
	prefix[plen++] = 0x00;
	memset(&w, 0, sizeof(w));
	w.prefix = prefix;
	w.prefix_len = plen;
	w.below = starting_after > 0 ? starting_after : UINT64_MAX;
	w.keep = limit + 1;
	w.ring = pw_malloc(w.keep * sizeof(*w.ring));
	if (w.ring == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_CREDIT_TXNS, (kv_val){ .data = prefix, .len = plen },
		    store_ctx_list_visit, &w);
	}
	store_read_end(&t);
	if (st == PW_OK) {
		/* newest first: the ring's newest `limit`; one more means more pages */
		size_t take = w.n < limit ? w.n : limit;
		Paywire__Store__V1__CreditTxnRecord **res = pw_malloc((take > 0 ? take : 1) *
		    sizeof(*res));

		if (res == NULL) {
			st = PW_RESOURCE_EXHAUSTED;
		} else {
			for (size_t i = 0; i < take; i++) {
				size_t idx = (w.head + w.n - 1 - i) % w.keep;
				res[i] = w.ring[idx];
				w.ring[idx] = NULL;
			}
			*has_more = w.n > limit;
			*out = res;
			*n_out = take;
		}
	}
	for (size_t i = 0; i < w.n; i++) {
		Paywire__Store__V1__CreditTxnRecord *r = w.ring[(w.head + i) % w.keep];
		if (r != NULL) {
			paywire__store__v1__credit_txn_record__free_unpacked(r, NULL);
		}
	}
	pw_free(w.ring);
	return st;
}

void
store_credits_list_free(Paywire__Store__V1__CreditTxnRecord **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++) {
		paywire__store__v1__credit_txn_record__free_unpacked(list[i], NULL);
	}
	pw_free(list);
}
