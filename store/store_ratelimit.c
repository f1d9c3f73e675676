/*
 * store_ratelimit.c - a merchant's own rate limits, kept in its
 * MerchantRecord (rate_reads 40, rate_writes 41, rate_provider 42; issue
 * 11). The server's limiter (server/srv_limit.h) holds them in memory: it
 * loads them at start (store_merchant_rate_limits_each) and is told of every
 * change after its commit, so the read path never reads them from here.
 */
#include "store_internal.h"

#include <string.h>

static const char *const store_rl_names[STORE_RATE_LIMIT_CLASSES] = { "reads", "writes",
	"provider" };

pw_status
store_rate_limit_check(const Paywire__Store__V1__MerchantRateLimitRecord *r, char *reason,
    size_t reason_size)
{
	PW_ASSERT(r != NULL && reason != NULL && reason_size > 0);
	reason[0] = '\0';
	if (r->kind == STORE_RATE_LIMIT_CUSTOM) {
		if (r->rate == 0 || r->rate > PW_RATE_MAX) {
			snprintf(reason, reason_size, "rate must be 1..%d, got %u", PW_RATE_MAX, r->rate);
			return PW_INVALID_ARGUMENT;
		}
		if (r->period_s != 1 && r->period_s != 60 && r->period_s != 3600) {
			snprintf(reason, reason_size, "period must be 1, 60 or 3600 seconds, got %u",
			    r->period_s);
			return PW_INVALID_ARGUMENT;
		}
		if (r->burst == 0 || r->burst > PW_RATE_MAX) {
			snprintf(reason, reason_size, "burst must be 1..%d, got %u", PW_RATE_MAX, r->burst);
			return PW_INVALID_ARGUMENT;
		}
		return PW_OK;
	}
	if (r->kind != STORE_RATE_LIMIT_DEFAULT && r->kind != STORE_RATE_LIMIT_UNLIMITED) {
		snprintf(reason, reason_size, "kind must be default, custom or unlimited, got %u",
		    r->kind);
		return PW_INVALID_ARGUMENT;
	}
	if (r->rate != 0 || r->period_s != 0 || r->burst != 0) {
		snprintf(reason, reason_size, "rate, period and burst go with a custom limit only");
		return PW_INVALID_ARGUMENT;
	}
	return PW_OK;
}

/* "10/1s:20", "default", "unlimited" into out. */
static void
store_rl_text(const Paywire__Store__V1__MerchantRateLimitRecord *r, char *out, size_t size)
{
	if (r == NULL || r->kind == STORE_RATE_LIMIT_DEFAULT) {
		snprintf(out, size, "default");
	} else if (r->kind == STORE_RATE_LIMIT_UNLIMITED) {
		snprintf(out, size, "unlimited");
	} else {
		snprintf(out, size, "%u/%us:%u", r->rate, r->period_s, r->burst);
	}
}

static Paywire__Store__V1__MerchantRateLimitRecord **
store_rl_field(Paywire__Store__V1__MerchantRecord *m, int i)
{
	switch (i) {
	case 0: return &m->rate_reads;
	case 1: return &m->rate_writes;
	default: return &m->rate_provider;
	}
}

pw_status
store_merchant_rate_limits_set(store_txn *t, const char *merchant_id,
    const Paywire__Store__V1__MerchantRateLimitRecord *const set[STORE_RATE_LIMIT_CLASSES],
    Paywire__Store__V1__MerchantRecord **out, char *reason, size_t reason_size)
{
	Paywire__Store__V1__MerchantRecord *m = NULL;
	Paywire__Store__V1__MerchantRateLimitRecord keep[STORE_RATE_LIMIT_CLASSES];
	char detail[160];
	char part[STORE_RATE_LIMIT_CLASSES][40];
	pw_status st;

	PW_ASSERT(t != NULL && merchant_id != NULL && set != NULL && out != NULL);
	PW_ASSERT(reason != NULL && reason_size > 0);
	*out = NULL;
	reason[0] = '\0';
	for (int i = 0; i < STORE_RATE_LIMIT_CLASSES; i++) {
		if (set[i] != NULL) {
			char why[128];

			st = store_rate_limit_check(set[i], why, sizeof(why));
			if (st != PW_OK) {
				snprintf(reason, reason_size, "%s: %s", store_rl_names[i], why);
				return st;
			}
		}
	}
	if (merchant_id[0] == '\0') {
		snprintf(reason, reason_size, "no merchant %s", merchant_id);
		return PW_NOT_FOUND;
	}
	st = store_rec_get(t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
	    &paywire__store__v1__merchant_record__descriptor, (void **) &m);
	if (st == PW_NOT_FOUND) {
		snprintf(reason, reason_size, "no merchant %s", merchant_id);
	}
	if (st != PW_OK) {
		return st;
	}
	/* The record's classes point at keep[] while it is packed; the unpacked
	 * ones are restored before it is freed. */
	{
		Paywire__Store__V1__MerchantRateLimitRecord *orig[STORE_RATE_LIMIT_CLASSES];

		for (int i = 0; i < STORE_RATE_LIMIT_CLASSES; i++) {
			Paywire__Store__V1__MerchantRateLimitRecord **f = store_rl_field(m, i);

			orig[i] = *f;
			if (set[i] != NULL) {
				paywire__store__v1__merchant_rate_limit_record__init(&keep[i]);
				keep[i].kind = set[i]->kind;
				keep[i].rate = set[i]->rate;
				keep[i].period_s = set[i]->period_s;
				keep[i].burst = set[i]->burst;
				*f = keep[i].kind == STORE_RATE_LIMIT_DEFAULT ? NULL : &keep[i];
			}
			store_rl_text(*f, part[i], sizeof(part[i]));
		}
		st = store_rec_put(t, STORE_DB_MERCHANTS, m->merchant_id, strlen(m->merchant_id),
		    &m->base, 0, NULL);
		if (st == PW_OK) {
			snprintf(detail, sizeof(detail), "reads=%s writes=%s provider=%s", part[0], part[1],
			    part[2]);
			st = store_audit_append(t, "merchant.rate_limits.set", merchant_id, NULL, detail);
		}
		if (st == PW_OK) {
			void *copy = NULL;

			st = store_msg_dup(&m->base, &copy);
			*out = copy;
		}
		for (int i = 0; i < STORE_RATE_LIMIT_CLASSES; i++) {
			*store_rl_field(m, i) = orig[i];
		}
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	return st;
}

pw_status
store_merchant_record_get(store *s, const char *merchant_id, Paywire__Store__V1__MerchantRecord **out)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && merchant_id != NULL && out != NULL);
	*out = NULL;
	if (merchant_id[0] == '\0') {
		return PW_NOT_FOUND;
	}
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_rec_get(&t, STORE_DB_MERCHANTS, merchant_id, strlen(merchant_id),
		    &paywire__store__v1__merchant_record__descriptor, (void **) out);
	}
	store_read_end(&t);
	return st;
}

typedef struct store_rl_walk {
	store_rate_limits_fn visit;
	void *arg;
} store_rl_walk;

static pw_status
store_rl_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_rl_walk *w = arg;
	Paywire__Store__V1__MerchantRecord *m = NULL;
	pw_status st;

	(void) key;
	(void) step;
	st = store_msg_unpack(&paywire__store__v1__merchant_record__descriptor, val.data, val.len,
	    (void **) &m);
	if (st != PW_OK) {
		return st;
	}
	if (m->rate_reads != NULL || m->rate_writes != NULL || m->rate_provider != NULL) {
		w->visit(m, w->arg);
	}
	paywire__store__v1__merchant_record__free_unpacked(m, NULL);
	return PW_OK;
}

pw_status
store_merchant_rate_limits_each(store *s, store_rate_limits_fn visit, void *arg)
{
	store_rl_walk w = { .visit = visit, .arg = arg };
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL && visit != NULL);
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, STORE_DB_MERCHANTS, (kv_val){ .data = NULL, .len = 0 },
		    store_rl_visit, &w);
	}
	store_read_end(&t);
	return st;
}
