/*
 * kv_cache.c - a write transaction's bounded map of what it read and wrote
 * (kv_cache.h). Chained hash, a fixed number of buckets, one allocation per
 * entry (key and value inline). Replaced entries wait on a list until
 * kv_cache_reclaim, so bytes get returned live as store_kv.h promises.
 */
#include "kv_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Buckets: a power of two, a quarter of the entries at most. */
#define KV_CACHE_BUCKETS 2048u

typedef struct kv_cache_ent kv_cache_ent;
struct kv_cache_ent {
	kv_cache_ent *next; /* in its bucket, or on the reclaim list */
	uint64_t hash;      /* of (table, key) */
	unsigned table;     /* its table */
	bool present;       /* false: the key holds nothing */
	size_t klen;        /* key bytes, at data */
	size_t vlen;        /* value bytes, at data + klen */
	unsigned char data[]; /* key, then value */
};

struct kv_cache {
	kv_cache_ent *bucket[KV_CACHE_BUCKETS]; /* the entries */
	kv_cache_ent *dead;                     /* replaced: freed by reclaim */
	size_t n;                               /* entries in buckets */
	size_t bytes;                           /* their value bytes */
};

kv_cache *
kv_cache_new(void)
{
	return calloc(1, sizeof(kv_cache));
}

void
kv_cache_free(kv_cache *c)
{
	if (c != NULL) {
		kv_cache_clear(c);
		kv_cache_reclaim(c);
		free(c);
	}
}

/* FNV-1a over the table number and the key. The keys are the domain's own
 * (ids, hashes, big-endian numbers), not chosen by an attacker beyond what a
 * bounded chain length tolerates: a batch holds at most
 * KV_CACHE_ENTRIES_MAX. */
static uint64_t
kv_cache_hash(unsigned table, kv_val key)
{
	const unsigned char *p = key.data;
	uint64_t h = 1469598103934665603ull ^ table;

	for (size_t i = 0; i < key.len; i++) {
		h = (h ^ p[i]) * 1099511628211ull;
	}
	return h;
}

/* The link that points at (table, key)'s entry, or at the NULL ending its
 * bucket. */
static kv_cache_ent **
kv_cache_find(kv_cache *c, uint64_t h, unsigned table, kv_val key)
{
	kv_cache_ent **at = &c->bucket[h & (KV_CACHE_BUCKETS - 1)];

	for (; *at != NULL; at = &(*at)->next) {
		const kv_cache_ent *e = *at;

		if (e->hash == h && e->table == table && e->klen == key.len &&
		    memcmp(e->data, key.data, key.len) == 0) {
			break;
		}
	}
	return at;
}

/* Moves *at's entry to the reclaim list. */
static void
kv_cache_unlink(kv_cache *c, kv_cache_ent **at)
{
	kv_cache_ent *e = *at;

	*at = e->next;
	c->n--;
	c->bytes -= e->vlen;
	e->next = c->dead;
	c->dead = e;
}

kv_cache_hit
kv_cache_get(kv_cache *c, unsigned table, kv_val key, kv_val *val)
{
	uint64_t h = kv_cache_hash(table, key);
	kv_cache_ent *e = *kv_cache_find(c, h, table, key);

	if (e == NULL) {
		return KV_CACHE_MISS;
	}
	if (!e->present) {
		return KV_CACHE_ABSENT;
	}
	*val = (kv_val){ .data = e->data + e->klen, .len = e->vlen };
	return KV_CACHE_PRESENT;
}

void
kv_cache_set(kv_cache *c, unsigned table, kv_val key, const void *val, size_t len, bool present)
{
	uint64_t h = kv_cache_hash(table, key);
	kv_cache_ent **at = kv_cache_find(c, h, table, key);
	kv_cache_ent *e;

	if (!present) {
		len = 0;
	}
	if (*at != NULL) {
		kv_cache_unlink(c, at);
		at = kv_cache_find(c, h, table, key);
	}
	if (c->n >= KV_CACHE_ENTRIES_MAX || len > KV_CACHE_BYTES_MAX - c->bytes) {
		return; /* full: forgotten, a miss */
	}
	e = malloc(sizeof(*e) + key.len + len);
	if (e == NULL) {
		return; /* forgotten, a miss */
	}
	e->next = NULL;
	e->hash = h;
	e->table = table;
	e->present = present;
	e->klen = key.len;
	e->vlen = len;
	memcpy(e->data, key.data, key.len);
	if (len > 0) {
		memcpy(e->data + key.len, val, len);
	}
	*at = e;
	c->n++;
	c->bytes += len;
}

void
kv_cache_forget(kv_cache *c, unsigned table, kv_val key)
{
	kv_cache_ent **at = kv_cache_find(c, kv_cache_hash(table, key), table, key);

	if (*at != NULL) {
		kv_cache_unlink(c, at);
	}
}

void
kv_cache_clear(kv_cache *c)
{
	if (c->n == 0) {
		return;
	}
	for (size_t i = 0; i < KV_CACHE_BUCKETS; i++) {
		while (c->bucket[i] != NULL) {
			kv_cache_unlink(c, &c->bucket[i]);
		}
	}
}

void
kv_cache_reclaim(kv_cache *c)
{
	kv_cache_ent *e;

	while ((e = c->dead) != NULL) {
		c->dead = e->next;
		free(e);
	}
}

size_t
kv_cache_size(const kv_cache *c)
{
	return c->n;
}
