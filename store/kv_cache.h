/*
 * kv_cache.h - what one write transaction already knows of its tables: a
 * bounded map (table, key) -> value, or "absent", that an engine whose reads
 * cost a round trip (kv_pg.c) keeps beside its batch. store_kv.h's seam is
 * unchanged by it.
 *
 * OWNS
 * Copies of keys and values the batch read or wrote. Nothing of the engine:
 * the engine decides what to remember and when to forget (docs/POSTGRES.md
 * "The batch's cache").
 *
 * WHY IT IS SAFE
 * The engine calls kv_cache_set for every write it sends (put, del) and for
 * every answer of the database it reads (get), and clears the cache when a
 * nested transaction aborts and when the batch ends. A key the cache does not
 * hold is a miss: the engine asks the database. So the cache can only be
 * behind the database when someone else writes between the read and the
 * batch's end: kv_pg's batches hold the writer lock, so no one does.
 * When the cache is full or memory is short, kv_cache_set forgets the key
 * instead of keeping it: a miss is always a correct answer.
 *
 * THREADS
 * One thread (the writer's). No locking.
 *
 * LIFETIMES
 * A value kv_cache_get returns stays valid until kv_cache_reclaim, which the
 * engine calls where store_kv.h lets the bytes it returned die (a write on
 * the txn, the txn's end). kv_cache_set and kv_cache_clear never free such
 * bytes themselves: what they replace waits for kv_cache_reclaim.
 */
#ifndef PW_KV_CACHE_H
#define PW_KV_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "store_kv.h"

/* Most entries one batch's cache holds: PW_STORE_BATCH_MAX requests of about
 * ten keys each, with room. Past it, kv_cache_set forgets. */
#define KV_CACHE_ENTRIES_MAX 8192

/* Most value bytes it holds in all (a record is at most PW_STORE_RECORD_MAX;
 * most are a few hundred bytes). Past it, kv_cache_set forgets. */
#define KV_CACHE_BYTES_MAX (16u << 20)

typedef struct kv_cache kv_cache;

/* What kv_cache_get knows of a key. */
typedef enum kv_cache_hit {
	KV_CACHE_MISS = 0, /* nothing: ask the database */
	KV_CACHE_PRESENT,  /* the key holds *val */
	KV_CACHE_ABSENT,   /* the key holds nothing */
} kv_cache_hit;

/* NULL when out of memory. */
kv_cache *kv_cache_new(void);
void kv_cache_free(kv_cache *c);

kv_cache_hit kv_cache_get(kv_cache *c, unsigned table, kv_val key, kv_val *val);

/* Remembers that key holds the len bytes at val (present) or nothing
 * (!present). On allocation failure or when full, forgets the key instead. */
void kv_cache_set(kv_cache *c, unsigned table, kv_val key, const void *val, size_t len,
    bool present);

/* Forgets key (a miss from now on). */
void kv_cache_forget(kv_cache *c, unsigned table, kv_val key);

/* Forgets everything (a nested abort, the batch's end). */
void kv_cache_clear(kv_cache *c);

/* Frees what set, forget and clear replaced: every value get returned
 * before dies. */
void kv_cache_reclaim(kv_cache *c);

/* Entries held (tests). */
size_t kv_cache_size(const kv_cache *c);

#endif
