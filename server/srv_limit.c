/* srv_limit.c - GCRA rate limits per merchant and call class (see
 * srv_limit.h). */
#include "srv_limit.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

typedef struct srv_limit_slot {
	_Atomic uint64_t key;                        /* 0: free; else the merchant's hash | 1 */
	_Atomic int64_t tat[SRV_LIMIT_CLASSES];      /* theoretical arrival time, µs */
} srv_limit_slot;

struct srv_limiter {
	srv_limit_rate rates[SRV_LIMIT_CLASSES];
	int64_t t_us[SRV_LIMIT_CLASSES];             /* emission interval: 1 s / rate */
	atomic_bool full_logged;
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
	int64_t t;
	int64_t limit;
	int64_t tat;

	PW_ASSERT(l != NULL && merchant_id != NULL && retry_after_ms != NULL);
	PW_ASSERT(cls >= 0 && cls < SRV_LIMIT_CLASSES);
	*retry_after_ms = 0;
	if (l->t_us[cls] <= 0) {
		return true; /* no limit for the class */
	}
	s = srv_limit_slot_of(l, merchant_id);
	if (s == NULL) {
		if (!atomic_exchange(&l->full_logged, true)) {
			pw_log(PW_LOG_WARN, "rate limits: %d merchants tracked, the table is full: the "
			    "others are not limited", SRV_LIMIT_SLOTS);
		}
		return true;
	}
	t = l->t_us[cls];
	limit = (int64_t) l->rates[cls].burst * t;
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
