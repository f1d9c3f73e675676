/*
 * store_refund.c - refunds the merchant asks paywire to make at the provider
 * (RefundPayment, issue 10; docs/PROVIDERS.md "Refunds").
 *
 * refunds  "r" id                          RefundRecord
 *          "k" merchant_id 0x00 idem_key   the refund's id
 *
 * A request is recorded first (REQUESTED: the amount is reserved on the
 * session, refund_requested_minor, so two concurrent requests never refund
 * more than was paid); the server then calls the provider outside any
 * transaction and records what it answered: PENDING with the provider's
 * refund id (the provider's webhook then moves the session through the
 * state machine, as for a refund made anywhere else), or FAILED with its
 * reason (the reservation is released).
 */
#include "store_fsm.h"
#include "store_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define REF_ID_BYTES 64

static size_t
ref_key_id(uint8_t *key, size_t size, const char *id)
{
	size_t n = strlen(id);

	PW_ASSERT(n + 1 <= size);
	key[0] = 'r';
	memcpy(key + 1, id, n);
	return n + 1;
}

static bool
ref_key_idem(uint8_t *key, size_t size, const char *merchant_id, const char *idem, size_t *len)
{
	size_t m = strlen(merchant_id);
	size_t k = strlen(idem);

	if (2 + m + k > size) {
		return false;
	}
	key[0] = 'k';
	memcpy(key + 1, merchant_id, m);
	key[1 + m] = 0x00;
	memcpy(key + 2 + m, idem, k);
	*len = 2 + m + k;
	return true;
}

static pw_status
ref_load(store_txn *t, const char *id, Paywire__Store__V1__RefundRecord **out)
{
	uint8_t key[1 + REF_ID_BYTES];

	if (strlen(id) >= REF_ID_BYTES) {
		return PW_NOT_FOUND;
	}
	return store_rec_get(t, STORE_DB_REFUNDS, key, ref_key_id(key, sizeof(key), id),
	    &paywire__store__v1__refund_record__descriptor, (void **) out);
}

static pw_status
ref_save(store_txn *t, Paywire__Store__V1__RefundRecord *r, unsigned flags)
{
	uint8_t key[1 + REF_ID_BYTES];

	return store_rec_put(t, STORE_DB_REFUNDS, key, ref_key_id(key, sizeof(key), r->id),
	    &r->base, flags, NULL);
}

const char *
store_refund_state_name(Paywire__Store__V1__RefundState st)
{
	switch (st) {
	case PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_REQUESTED: return "requested";
	case PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_PENDING: return "pending";
	case PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_FAILED: return "failed";
	default: return "unspecified";
	}
}

/* What is left to refund on rec: what was paid, less the larger of what
 * the provider confirmed and what paywire was asked for. */
static int64_t
ref_left(const Paywire__Store__V1__SessionRecord *rec)
{
	int64_t done = rec->session->amount_refunded_minor;

	if (rec->refund_requested_minor > done) {
		done = rec->refund_requested_minor;
	}
	return rec->session->amount_minor > done ? rec->session->amount_minor - done : 0;
}

pw_status
store_refund_request(store_txn *t, const char *merchant_id, const store_refund_params *p,
    const uint8_t request_hash[32], Paywire__Store__V1__RefundRecord **out, char *why,
    size_t why_size)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__RefundRecord r = PAYWIRE__STORE__V1__REFUND_RECORD__INIT;
	uint8_t ikey[STORE_KEY_BYTES_MAX];
	char id[REF_ID_BYTES];
	char detail[200];
	size_t ilen = 0;
	size_t len = 0;
	int64_t left;
	int64_t amount;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && p != NULL && request_hash != NULL);
	PW_ASSERT(out != NULL && why != NULL && why_size > 0);
	*out = NULL;
	why[0] = '\0';
	if (p->idempotency_key == NULL || p->idempotency_key[0] == '\0' ||
	    !ref_key_idem(ikey, sizeof(ikey), merchant_id, p->idempotency_key, &ilen) ||
	    p->amount_minor < 0 || p->session_id == NULL) {
		return PW_INVALID_ARGUMENT;
	}
	/* the merchant's key again: the same refund, or a conflict */
	st = store_raw_get(t, STORE_DB_REFUNDS, ikey, ilen, id, sizeof(id) - 1, &len);
	if (st == PW_OK) {
		id[len] = '\0';
		st = ref_load(t, id, out);
		if (st == PW_NOT_FOUND) {
			return store_txn_note(t, PW_INTERNAL);
		}
		if (st == PW_OK && ((*out)->request_hash.len != STORE_HASH_BYTES ||
		                       sodium_memcmp((*out)->request_hash.data, request_hash,
		                           STORE_HASH_BYTES) != 0)) {
			paywire__store__v1__refund_record__free_unpacked(*out, NULL);
			*out = NULL;
			return PW_IDEMPOTENCY_CONFLICT;
		}
		return st;
	}
	if (st != PW_NOT_FOUND) {
		return st;
	}
	st = store_session_load(t, p->session_id, &rec);
	if (st == PW_OK && strcmp(rec->session->merchant_id, merchant_id) != 0) {
		st = PW_NOT_FOUND;
	}
	if (st != PW_OK) {
		goto out;
	}
	if (rec->session->status != PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID ||
	    rec->paid_ref[0] == '\0') {
		snprintf(why, why_size, "session %s is %s: only a paid session can be refunded",
		    p->session_id, fsm_status_name(rec->session->status));
		st = PW_FAILED_PRECONDITION;
		goto out;
	}
	if (rec->session->payment_provider != PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE &&
	    rec->session->payment_provider != PAYWIRE__STORE__V1__PROVIDER__PROVIDER_RAZORPAY) {
		snprintf(why, why_size, "session %s was paid through %s: paywire refunds stripe and "
		                        "razorpay payments only (refund it there)",
		    p->session_id, pw_provider_name((pw_provider) rec->session->payment_provider));
		st = PW_FAILED_PRECONDITION;
		goto out;
	}
	left = ref_left(rec);
	amount = p->amount_minor == 0 ? left : p->amount_minor;
	if (amount <= 0 || amount > left) {
		snprintf(why, why_size, "%" PRId64 " %s minor units are left to refund on session %s "
		                        "(paid %" PRId64 ", refunded %" PRId64 ", requested %" PRId64 ")",
		    left, rec->session->currency, p->session_id, rec->session->amount_minor,
		    rec->session->amount_refunded_minor, rec->refund_requested_minor);
		st = PW_FAILED_PRECONDITION;
		goto out;
	}
	pw_id_new(id, sizeof(id), "rf_", t->now_ms);
	r.id = id;
	r.merchant_id = (char *) merchant_id;
	r.session_id = rec->session->id;
	r.amount_minor = amount;
	r.currency = rec->session->currency;
	r.state = PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_REQUESTED;
	r.provider = rec->session->payment_provider;
	r.payment_ref = rec->paid_ref;
	r.idempotency_key = (char *) p->idempotency_key;
	r.request_hash.len = STORE_HASH_BYTES;
	r.request_hash.data = (uint8_t *) request_hash;
	r.reason = (char *) (p->reason != NULL ? p->reason : "");
	r.created_at_unix_ms = t->now_ms;
	r.updated_at_unix_ms = t->now_ms;
	r.mode = rec->session->mode;
	st = ref_save(t, &r, KV_PUT_INSERT);
	if (st == PW_OK) {
		st = store_raw_put(t, STORE_DB_REFUNDS, ikey, ilen, id, strlen(id), KV_PUT_INSERT);
	}
	if (st == PW_OK) {
		rec->refund_requested_minor =
		    (rec->refund_requested_minor > rec->session->amount_refunded_minor
		            ? rec->refund_requested_minor
		            : rec->session->amount_refunded_minor) + amount;
		rec->updated_at_unix_ms = t->now_ms;
		st = store_session_save(t, rec);
	}
	if (st == PW_OK) {
		snprintf(detail, sizeof(detail), "refund=%s amount=%" PRId64 " %s provider=%s payment=%s",
		    id, amount, rec->session->currency,
		    pw_provider_name((pw_provider) rec->session->payment_provider), rec->paid_ref);
		st = store_audit_append(t, "refund.requested", merchant_id, rec->session->id, detail);
	}
	if (st == PW_OK) {
		st = ref_load(t, id, out);
	}
out:
	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	return st;
}

pw_status
store_refund_get(store_txn *t, const char *merchant_id, const char *refund_id,
    Paywire__Store__V1__RefundRecord **out)
{
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && refund_id != NULL && out != NULL);
	*out = NULL;
	st = ref_load(t, refund_id, out);
	if (st == PW_OK && strcmp((*out)->merchant_id, merchant_id) != 0) {
		paywire__store__v1__refund_record__free_unpacked(*out, NULL);
		*out = NULL;
		st = PW_NOT_FOUND;
	}
	return st;
}

pw_status
store_refund_provider_record(store_txn *t, const char *merchant_id, const char *refund_id,
    const char *provider_refund_id, const char *failure_reason,
    Paywire__Store__V1__RefundRecord **out)
{
	Paywire__Store__V1__RefundRecord *r = NULL;
	Paywire__Store__V1__SessionRecord *rec = NULL;
	bool failed = failure_reason != NULL;
	char detail[320];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && refund_id != NULL && out != NULL);
	PW_ASSERT(failed != (provider_refund_id != NULL));
	*out = NULL;
	if ((provider_refund_id != NULL &&
	        (provider_refund_id[0] == '\0' || strlen(provider_refund_id) >= PW_EV_REF_BYTES)) ||
	    (failure_reason != NULL && strlen(failure_reason) > PW_REASON_BYTES_MAX)) {
		return PW_INVALID_ARGUMENT;
	}
	st = store_refund_get(t, merchant_id, refund_id, &r);
	if (st != PW_OK) {
		return st;
	}
	if (r->state != PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_REQUESTED) {
		/* recorded already (a resend that reached the provider again):
		 * the same answer is no change, another is a conflict */
		bool same = failed ? r->state == PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_FAILED
		                   : strcmp(r->provider_refund_id, provider_refund_id) == 0;
		if (!same) {
			pw_log(PW_LOG_ERROR, "store: refund %s is %s; refusing another provider answer",
			    refund_id, store_refund_state_name(r->state));
			paywire__store__v1__refund_record__free_unpacked(r, NULL);
			return PW_IDEMPOTENCY_CONFLICT;
		}
		*out = r;
		return PW_OK;
	}
	if (failed) {
		r->state = PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_FAILED;
		st = store_pbstr_set(&r->failure_reason, failure_reason);
		/* the reserved amount is free again */
		if (st == PW_OK) {
			st = store_session_load(t, r->session_id, &rec);
		}
		if (st == PW_OK) {
			rec->refund_requested_minor = rec->refund_requested_minor > r->amount_minor
			    ? rec->refund_requested_minor - r->amount_minor : 0;
			rec->updated_at_unix_ms = t->now_ms;
			st = store_session_save(t, rec);
		}
		snprintf(detail, sizeof(detail), "refund=%s failed: %.200s", refund_id, failure_reason);
	} else {
		r->state = PAYWIRE__STORE__V1__REFUND_STATE__REFUND_STATE_PENDING;
		st = store_pbstr_set(&r->provider_refund_id, provider_refund_id);
		snprintf(detail, sizeof(detail), "refund=%s provider_refund=%s", refund_id,
		    provider_refund_id);
	}
	r->updated_at_unix_ms = t->now_ms;
	if (st == PW_OK) {
		st = ref_save(t, r, 0);
	}
	if (st == PW_OK) {
		st = store_audit_append(t, failed ? "refund.failed" : "refund.pending", merchant_id,
		    r->session_id, detail);
	}
	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	if (st != PW_OK) {
		paywire__store__v1__refund_record__free_unpacked(r, NULL);
		return st;
	}
	*out = r;
	return PW_OK;
}

/* ---- plan prices: a merchant's Stripe Price per plan (issue 10) ----
 * plan_prices  merchant_id 0x00 mode(1) plan  ->  price id (raw bytes) */

static bool
plan_price_key(uint8_t *key, size_t size, const char *merchant_id,
    Paywire__Store__V1__Mode mode, const char *plan, size_t *len)
{
	size_t m = strlen(merchant_id);
	size_t p = strlen(plan);

	if (m + 2 + p > size || m == 0 || p == 0) {
		return false;
	}
	memcpy(key, merchant_id, m);
	key[m] = 0x00;
	key[m + 1] = (uint8_t) mode;
	memcpy(key + m + 2, plan, p);
	*len = m + 2 + p;
	return true;
}

pw_status
store_plan_price_set(store_txn *t, const char *merchant_id, Paywire__Store__V1__Mode mode,
    const char *plan, const char *price_id)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	char detail[240];
	size_t len = 0;
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && plan != NULL && price_id != NULL);
	if ((mode != PAYWIRE__STORE__V1__MODE__MODE_TEST && mode != PAYWIRE__STORE__V1__MODE__MODE_LIVE) ||
	    strlen(plan) > PW_PLAN_BYTES_MAX || strlen(price_id) > PW_PROVIDER_ID_BYTES_MAX ||
	    (price_id[0] != '\0' && strncmp(price_id, "price_", 6) != 0) ||
	    !plan_price_key(key, sizeof(key), merchant_id, mode, plan, &len)) {
		return PW_INVALID_ARGUMENT;
	}
	if (price_id[0] == '\0') {
		st = store_raw_del(t, STORE_DB_PLAN_PRICES, key, len);
		if (st != PW_OK) {
			return st; /* PW_NOT_FOUND: nothing to delete */
		}
	} else {
		st = store_raw_put(t, STORE_DB_PLAN_PRICES, key, len, price_id, strlen(price_id), 0);
		if (st != PW_OK) {
			return st;
		}
	}
	snprintf(detail, sizeof(detail), "plan=%s mode=%s price=%s", plan,
	    mode == PAYWIRE__STORE__V1__MODE__MODE_LIVE ? "live" : "test",
	    price_id[0] != '\0' ? price_id : "-");
	return store_audit_append(t, price_id[0] != '\0' ? "plan_price.set" : "plan_price.deleted",
	    merchant_id, "", detail);
}

pw_status
store_plan_price_get(store *s, const char *merchant_id, Paywire__Store__V1__Mode mode,
    const char *plan, char *out, size_t size)
{
	uint8_t key[STORE_KEY_BYTES_MAX];
	size_t len = 0;
	size_t vlen = 0;
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && plan != NULL && out != NULL && size > 1);
	out[0] = '\0';
	if (!plan_price_key(key, sizeof(key), merchant_id, mode, plan, &len)) {
		return PW_NOT_FOUND;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_raw_get(&t, STORE_DB_PLAN_PRICES, key, len, out, size - 1, &vlen);
	}
	store_read_end(&t);
	if (st == PW_OK) {
		out[vlen] = '\0';
	}
	return st;
}
