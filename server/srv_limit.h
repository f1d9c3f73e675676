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
 * THREADS: any number of threads at once.
 */
#ifndef SRV_LIMIT_H
#define SRV_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "pw_common.h"

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

/* "reads", "writes", "provider". */
const char *srv_limit_class_name(srv_limit_class cls);

#endif
