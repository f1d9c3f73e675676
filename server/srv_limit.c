/* srv_limit.c - GCRA rate limits per merchant and call class (see
 * srv_limit.h). */
#include "srv_limit.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

typedef struct srv_limit_slot {
	_Atomic uint64_t key;                        /* 0: free; else the merchant's hash | 1 */
	_Atomic int64_t tat[SRV_LIMIT_CLASSES];      /* theoretical arrival time, µs */
	_Atomic uint64_t own[SRV_LIMIT_CLASSES];     /* the merchant's own limit (OWN_*), 0: default */
} srv_limit_slot;

/* A merchant's own limit in one word: bit 63 set, interval µs in bits
 * 24..62 (0: unlimited), burst in bits 0..23. */
#define OWN_SET (UINT64_C(1) << 63)
#define OWN_BURST_MASK ((UINT64_C(1) << 24) - 1)
#define OWN_INTERVAL_MASK ((UINT64_C(1) << 39) - 1)
_Static_assert(PW_RATE_MAX <= OWN_BURST_MASK, "a burst fits its bits");
_Static_assert(SRV_LIMIT_OWN_INTERVAL_MAX <= (int64_t) OWN_INTERVAL_MASK, "an interval fits");

struct srv_limiter {
	srv_limit_rate rates[SRV_LIMIT_CLASSES];
	int64_t t_us[SRV_LIMIT_CLASSES];             /* emission interval: 1 s / rate */
	atomic_bool full_logged;
	atomic_bool any_own;                         /* some merchant has its own limit */
	srv_limit_slot slots[SRV_LIMIT_SLOTS];
};

const char *
srv_limit_class_name(srv_limit_class cls)
{
	switch (cls) {
	case SRV_LIMIT_READS: return "reads";
	case SRV_LIMIT_WRITES: return "writes";
	case SRV_LIMIT_PROVIDER: return "provider calls";
	case SRV_LIMIT_CLASSES: break;
	}
	return "?";
}

srv_limiter *
srv_limiter_new(const srv_limit_rate *rates)
{
	srv_limiter *l = pw_calloc(1, sizeof(*l));

	if (l == NULL) {
		return NULL;
	}
	for (int i = 0; i < SRV_LIMIT_CLASSES; i++) {
		l->rates[i] = rates[i];
		l->t_us[i] = rates[i].per_s > 0 ? 1000000 / (int64_t) rates[i].per_s
		                                : rates[i].interval_us;
		if (l->t_us[i] == 0 && rates[i].per_s > 0) {
			l->t_us[i] = 1;
		}
	}
	return l;
}

void
srv_limiter_free(srv_limiter *l)
{
	pw_free(l);
}

/* The merchant's slot, claimed when new; NULL when the table is full. */
static srv_limit_slot *
srv_limit_slot_of(srv_limiter *l, const char *merchant_id)
{
	uint64_t h;
	uint8_t raw[8];

	(void) crypto_generichash(raw, sizeof(raw), (const uint8_t *) merchant_id,
	    strlen(merchant_id), NULL, 0);
	memcpy(&h, raw, sizeof(h));
	h |= 1; /* never 0 (free) */
	for (uint32_t i = 0; i < SRV_LIMIT_SLOTS; i++) {
		srv_limit_slot *s = &l->slots[(h + i) % SRV_LIMIT_SLOTS];
		uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
		uint64_t zero = 0;

		if (k == h) {
			return s;
		}
		if (k == 0 && atomic_compare_exchange_strong(&s->key, &zero, h)) {
			return s;
		}
		if (atomic_load_explicit(&s->key, memory_order_acquire) == h) {
			return s; /* another thread claimed it for the same merchant */
		}
	}
	return NULL;
}

bool
srv_limiter_take(srv_limiter *l, const char *merchant_id, srv_limit_class cls, int64_t now_us,
    int64_t *retry_after_ms)
{
	srv_limit_slot *s;
	uint64_t own;
	uint32_t burst;
	int64_t t;
	int64_t limit;
	int64_t tat;

	PW_ASSERT(l != NULL && merchant_id != NULL && retry_after_ms != NULL);
	PW_ASSERT(cls >= 0 && cls < SRV_LIMIT_CLASSES);
	*retry_after_ms = 0;
	if (l->t_us[cls] <= 0 && !atomic_load_explicit(&l->any_own, memory_order_relaxed)) {
		return true; /* no limit for the class, nor anyone's own */
	}
	s = srv_limit_slot_of(l, merchant_id);
	if (s == NULL) {
		if (!atomic_exchange(&l->full_logged, true)) {
			pw_log(PW_LOG_WARN, "rate limits: %d merchants tracked, the table is full: the "
			    "others are not limited", SRV_LIMIT_SLOTS);
		}
		return true;
	}
	own = atomic_load_explicit(&s->own[cls], memory_order_acquire);
	if (own & OWN_SET) {
		t = (int64_t) ((own >> 24) & OWN_INTERVAL_MASK);
		burst = (uint32_t) (own & OWN_BURST_MASK);
	} else {
		t = l->t_us[cls];
		burst = l->rates[cls].burst;
	}
	if (t <= 0) {
		return true; /* unlimited */
	}
	limit = (int64_t) burst * t;
	tat = atomic_load_explicit(&s->tat[cls], memory_order_relaxed);
	for (;;) {
		int64_t base = tat > now_us ? tat : now_us;
		int64_t next = base + t;

		if (next - now_us > limit) {
			int64_t wait_us = next - limit - now_us;
			*retry_after_ms = wait_us / 1000 + 1;
			return false;
		}
		if (atomic_compare_exchange_weak_explicit(&s->tat[cls], &tat, next, memory_order_relaxed,
		        memory_order_relaxed)) {
			return true;
		}
	}
}

bool
srv_limiter_set_own(srv_limiter *l, const char *merchant_id, srv_limit_class cls,
    const srv_limit_rate *own)
{
	srv_limit_slot *s;
	uint64_t word = 0;

	PW_ASSERT(l != NULL && merchant_id != NULL && cls >= 0 && cls < SRV_LIMIT_CLASSES);
	if (own != NULL) {
		PW_ASSERT(own->interval_us >= 0 && own->interval_us <= SRV_LIMIT_OWN_INTERVAL_MAX);
		PW_ASSERT(own->interval_us == 0 || (own->burst >= 1 && own->burst <= PW_RATE_MAX));
		word = OWN_SET | ((uint64_t) own->interval_us << 24) |
		    (own->interval_us > 0 ? own->burst : 0);
		atomic_store_explicit(&l->any_own, true, memory_order_relaxed);
	}
	s = srv_limit_slot_of(l, merchant_id);
	if (s == NULL) {
		pw_log(PW_LOG_WARN, "rate limits: the table is full (%d merchants): %s's own limit "
		    "is not applied", SRV_LIMIT_SLOTS, merchant_id);
		return false;
	}
	atomic_store_explicit(&s->own[cls], word, memory_order_release);
	atomic_store_explicit(&s->tat[cls], 0, memory_order_release); /* starts full */
	return true;
}

srv_limit_rate
srv_limiter_default(const srv_limiter *l, srv_limit_class cls)
{
	PW_ASSERT(l != NULL && cls >= 0 && cls < SRV_LIMIT_CLASSES);
	return (srv_limit_rate) { .interval_us = l->t_us[cls] > 0 ? l->t_us[cls] : 0,
		.burst = l->t_us[cls] > 0 ? l->rates[cls].burst : 0 };
}

bool
srv_limit_apply_record(srv_limiter *l, const char *merchant_id, srv_limit_class cls,
    const Paywire__Store__V1__MerchantRateLimitRecord *rec)
{
	srv_limit_rate own = { 0 };

	if (rec == NULL || rec->kind == STORE_RATE_LIMIT_DEFAULT) {
		return srv_limiter_set_own(l, merchant_id, cls, NULL);
	}
	if (rec->kind == STORE_RATE_LIMIT_CUSTOM && rec->rate > 0) {
		own.interval_us = (int64_t) rec->period_s * 1000000 / (int64_t) rec->rate;
		if (own.interval_us <= 0) {
			own.interval_us = 1;
		}
		if (own.interval_us > SRV_LIMIT_OWN_INTERVAL_MAX) {
			own.interval_us = SRV_LIMIT_OWN_INTERVAL_MAX;
		}
		own.burst = rec->burst >= 1 && rec->burst <= PW_RATE_MAX ? rec->burst : 1;
	}
	return srv_limiter_set_own(l, merchant_id, cls, &own); /* else unlimited */
}

typedef struct srv_limit_loader {
	srv_limiter *l;
	size_t n;
} srv_limit_loader;

static void
srv_limit_load_one(const Paywire__Store__V1__MerchantRecord *m, void *arg)
{
	srv_limit_loader *ld = arg;

	(void) srv_limit_apply_record(ld->l, m->merchant_id, SRV_LIMIT_READS, m->rate_reads);
	(void) srv_limit_apply_record(ld->l, m->merchant_id, SRV_LIMIT_WRITES, m->rate_writes);
	(void) srv_limit_apply_record(ld->l, m->merchant_id, SRV_LIMIT_PROVIDER, m->rate_provider);
	ld->n++;
}

pw_status
srv_limit_load(srv_limiter *l, store *st, size_t *n_out)
{
	srv_limit_loader ld = { .l = l, .n = 0 };
	pw_status rv;

	PW_ASSERT(l != NULL && st != NULL && n_out != NULL);
	rv = store_merchant_rate_limits_each(st, srv_limit_load_one, &ld);
	*n_out = ld.n;
	return rv;
}
