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
 * The engine calls kv_cache_set for every write (put, del) and for every
 * answer of the database it reads (get), undoes a nested transaction's sets
 * when it aborts (kv_cache_mark / kv_cache_rollback), and clears the cache
 * when the batch ends. A key the cache does not hold is a miss: the engine
 * asks the database. So the cache can only be behind the database when
 * someone else writes between the read and the batch's end: kv_pg's batches
 * hold the writer lock, so no one does.
 * A clean entry (what the database holds) may be forgotten at any time: when
 * the cache is full or memory is short, kv_cache_set forgets the key instead
 * of keeping it, and a miss is always a correct answer. A dirty entry (a
 * write the engine has not sent yet, KV_CACHE_SET_DIRTY) is never forgotten:
 * kv_cache_set answers false when it cannot keep one, and the engine then
 * sends the write at once.
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

/* kv_cache_set flags */
#define KV_CACHE_SET_ABSENT 0x1u /* the key holds nothing (val, len ignored) */
#define KV_CACHE_SET_DIRTY 0x2u  /* a write not yet sent: kept until sent, see
                                    kv_cache_each_dirty */
#define KV_CACHE_SET_NEW 0x4u    /* dirty, and the key is to be inserted, not
                                    overwritten (the engine's choice of statement) */

/* What kv_cache_set did. */
typedef enum kv_cache_res {
	KV_CACHE_KEPT = 0, /* the key now holds what was set */
	KV_CACHE_FORGOT,   /* the key is a miss now (full, or no memory for the
	                      entry): for a DIRTY set, the engine must send the
	                      write itself */
	KV_CACHE_NOMEM,    /* inside a mark, no memory to record the change:
	                      nothing changed; the engine fails the op
	                      (PW_RESOURCE_EXHAUSTED) and sends nothing */
} kv_cache_res;

/* Remembers that key holds the len bytes at val (or nothing: ABSENT),
 * replacing what the cache held for key, dirty or not. */
kv_cache_res kv_cache_set(kv_cache *c, unsigned table, kv_val key, const void *val, size_t len,
    unsigned flags);

/* Calls fn for every dirty entry (a present value to write; new: insert it),
 * in no particular order, for the engine to send. The entries stay dirty:
 * sending them twice is harmless (an overwrite), and a nested abort may need
 * them again. before_end: they are sent before the batch's end (a scan must
 * see them), so the inserts among them are overwrites from then on (their
 * rows exist). */
typedef void (*kv_cache_dirty_fn)(void *arg, unsigned table, kv_val key, kv_val val, bool new_key);
void kv_cache_each_dirty(kv_cache *c, kv_cache_dirty_fn fn, void *arg, bool before_end);

/* Whether any entry is dirty. */
bool kv_cache_has_dirty(const kv_cache *c);

/* A nested transaction begins: from now on every set is
 * recorded so that kv_cache_rollback can undo it. One level. */
void kv_cache_mark(kv_cache *c);

/* It committed: its changes stay, the record of them goes. */
void kv_cache_release(kv_cache *c);

/* It aborted: the cache is back to what it held at kv_cache_mark. */
void kv_cache_rollback(kv_cache *c);

/* Forgets everything, dirty entries too (the batch's end). Not inside a
 * mark. */
void kv_cache_clear(kv_cache *c);

/* Frees what set and clear replaced: every value get returned
 * before dies. */
void kv_cache_reclaim(kv_cache *c);

/* Entries held (tests). */
size_t kv_cache_size(const kv_cache *c);

#endif
