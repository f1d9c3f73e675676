/*
 * srv_limit.h - rate limits per merchant and call class (issue 11): reads,
 * writes and provider calls each have a rate and a burst. The algorithm is
 * GCRA (the "virtual scheduling" form of a token bucket): one 64-bit
 * theoretical arrival time per (merchant, class), advanced by a
 * compare-and-swap, so a check costs no lock and no write to the store.
 *
 * A request at now is allowed when tat - now <= burst * T (T = 1 s / rate,
 * tat = max(stored tat, now)), and moves the stored tat to tat + T. A
 * refused request moves nothing and learns how long to wait:
 * tat + T - burst * T - now. The first `burst` requests of an idle merchant
 * pass at once; after that, `rate` per second.
 *
 * Merchants live in a fixed open-addressing table of SRV_LIMIT_SLOTS slots
 * (a merchant id's BLAKE2b-64 as the key, claimed by CAS). A full table
 * lets requests through (logged once): a limiter must never refuse paying
 * customers for its own capacity.
 *
 * A merchant's own limits (SetMerchantRateLimits, kept in its store
 * record) live in its slot too: one 64-bit word per class, read with the
 * tat on the same path (no lock, no store read). The server loads them at
 * start and sets each change after its commit (srv_limiter_set_own); a
 * change starts the class's bucket full, so it applies to the very next
 * request. A merchant's own limit needs a slot: with the table full it is
 * not applied (logged), like any merchant past the table.
 *
 * THREADS: any number of threads at once.
 */
#ifndef SRV_LIMIT_H
#define SRV_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "pw_common.h"
#include "store.h"

#define SRV_LIMIT_SLOTS 8192

typedef enum srv_limit_class {
	SRV_LIMIT_READS = 0,
	SRV_LIMIT_WRITES = 1,
	SRV_LIMIT_PROVIDER = 2,
	SRV_LIMIT_CLASSES = 3,
} srv_limit_class;

typedef struct srv_limit_rate {
	uint32_t per_s;  /* requests per second; 0: see per_interval_us */
	int64_t interval_us; /* or one request per this many µs (per_s 0); both 0: no limit */
	uint32_t burst;  /* >= 1 when limited */
} srv_limit_rate;

typedef struct srv_limiter srv_limiter;

/* rates[SRV_LIMIT_CLASSES]. NULL on out of memory. */
srv_limiter *srv_limiter_new(const srv_limit_rate *rates);
void srv_limiter_free(srv_limiter *l);

/* Takes one request of cls for merchant_id at now_us (monotonic µs). True:
 * allowed. False: refused, *retry_after_ms (>= 1) says when one would pass. */
bool srv_limiter_take(srv_limiter *l, const char *merchant_id, srv_limit_class cls,
    int64_t now_us, int64_t *retry_after_ms);

/* Sets merchant_id's own limit for cls: own NULL: back to the limiter's
 * default; own->interval_us 0: unlimited; else one request per interval_us
 * (1..SRV_LIMIT_OWN_INTERVAL_MAX) with own->burst (1..PW_RATE_MAX). The
 * class's bucket starts full. False: the table is full (not applied). */
bool srv_limiter_set_own(srv_limiter *l, const char *merchant_id, srv_limit_class cls,
    const srv_limit_rate *own);

/* srv_limiter_set_own from a merchant's stored limit for cls (NULL or kind
 * default: back to the default). */
bool srv_limit_apply_record(srv_limiter *l, const char *merchant_id, srv_limit_class cls,
    const Paywire__Store__V1__MerchantRateLimitRecord *rec);

/* Loads every merchant's own limits from the store (the server's start):
 * *n_out merchants. The store's failure is returned. */
pw_status srv_limit_load(srv_limiter *l, store *st, size_t *n_out) PW_WUR;

/* The limiter's default for cls (interval_us 0: unlimited). */
srv_limit_rate srv_limiter_default(const srv_limiter *l, srv_limit_class cls);

/* One request per this many µs (1 per hour at most: fits the slot's word). */
#define SRV_LIMIT_OWN_INTERVAL_MAX (INT64_C(3600) * 1000000)

/* "reads", "writes", "provider". */
const char *srv_limit_class_name(srv_limit_class cls);

#endif
