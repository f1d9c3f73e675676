/*
 * kv_cache.c - a write transaction's bounded map of what it read and wrote
 * (kv_cache.h). Chained hash, a fixed number of buckets, one allocation per
 * entry (key and value inline). An entry replaced outside a mark waits on the
 * dead list until kv_cache_reclaim, so bytes get returned stay live as
 * store_kv.h promises; inside a mark it goes to the undo log, from which
 * kv_cache_rollback puts it back.
 */
#include "kv_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pw_common.h"

/* Buckets: a power of two, a quarter of the entries at most. */
#define KV_CACHE_BUCKETS 2048u

typedef struct kv_cache_ent kv_cache_ent;
struct kv_cache_ent {
	kv_cache_ent *next;   /* in its bucket, or on the dead list */
	uint64_t hash;        /* of (table, key) */
	unsigned table;       /* its table */
	bool present;         /* false: the key holds nothing */
	bool dirty;           /* a write not yet sent */
	bool new_key;         /* dirty: insert, not overwrite */
	size_t klen;          /* key bytes, at data */
	size_t vlen;          /* value bytes, at data + klen */
	unsigned char data[]; /* key, then value */
};

/* What a marked change replaced: the entry the key had (NULL: none). */
typedef struct kv_cache_undo kv_cache_undo;
struct kv_cache_undo {
	kv_cache_undo *next;  /* newer first */
	kv_cache_ent *old;    /* the entry before the change, or NULL */
	uint64_t hash;        /* of (table, key) */
	unsigned table;       /* the key's table */
	size_t klen;          /* the key, at key */
	unsigned char key[];
};

struct kv_cache {
	kv_cache_ent *bucket[KV_CACHE_BUCKETS]; /* the entries */
	kv_cache_ent *dead;                     /* replaced: freed by reclaim */
	kv_cache_undo *undo;                    /* marked changes, newest first */
	bool marked;                            /* between mark and release/rollback */
	size_t n;                               /* entries in buckets */
	size_t n_dirty;                         /* of them dirty */
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
		if (c->marked) {
			kv_cache_release(c);
		}
		kv_cache_clear(c);
		kv_cache_reclaim(c);
		free(c);
	}
}

/* FNV-1a over the table number and the key. The keys are the domain's own
 * (ids, hashes, big-endian numbers), and a batch holds at most
 * KV_CACHE_ENTRIES_MAX, which bounds a chain. */
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
kv_cache_find(kv_cache *c, uint64_t h, unsigned table, const void *key, size_t klen)
{
	kv_cache_ent **at = &c->bucket[h & (KV_CACHE_BUCKETS - 1)];

	for (; *at != NULL; at = &(*at)->next) {
		const kv_cache_ent *e = *at;

		if (e->hash == h && e->table == table && e->klen == klen &&
		    memcmp(e->data, key, klen) == 0) {
			break;
		}
	}
	return at;
}

/* Takes *at's entry out of its bucket and returns it. */
static kv_cache_ent *
kv_cache_unlink(kv_cache *c, kv_cache_ent **at)
{
	kv_cache_ent *e = *at;

	*at = e->next;
	e->next = NULL;
	c->n--;
	c->n_dirty -= e->dirty ? 1u : 0u;
	c->bytes -= e->vlen;
	return e;
}

/* Puts e into its bucket (no entry of its key is there). */
static void
kv_cache_link(kv_cache *c, kv_cache_ent *e)
{
	kv_cache_ent **b = &c->bucket[e->hash & (KV_CACHE_BUCKETS - 1)];

	e->next = *b;
	*b = e;
	c->n++;
	c->n_dirty += e->dirty ? 1u : 0u;
	c->bytes += e->vlen;
}

static void
kv_cache_bury(kv_cache *c, kv_cache_ent *e)
{
	e->next = c->dead;
	c->dead = e;
}

kv_cache_hit
kv_cache_get(kv_cache *c, unsigned table, kv_val key, kv_val *val)
{
	uint64_t h = kv_cache_hash(table, key);
	kv_cache_ent *e = *kv_cache_find(c, h, table, key.data, key.len);

	if (e == NULL) {
		return KV_CACHE_MISS;
	}
	if (!e->present) {
		return KV_CACHE_ABSENT;
	}
	*val = (kv_val){ .data = e->data + e->klen, .len = e->vlen };
	return KV_CACHE_PRESENT;
}

/* Inside a mark the old entry is recorded first, so nothing changes when the
 * record cannot be made. */
kv_cache_res
kv_cache_set(kv_cache *c, unsigned table, kv_val key, const void *val, size_t len,
    unsigned flags)
{
	uint64_t h = kv_cache_hash(table, key);
	kv_cache_ent **at = kv_cache_find(c, h, table, key.data, key.len);
	bool present = (flags & KV_CACHE_SET_ABSENT) == 0;
	bool dirty = (flags & KV_CACHE_SET_DIRTY) != 0;
	kv_cache_undo *u = NULL;
	kv_cache_ent *old;
	kv_cache_ent *e = NULL;

	PW_ASSERT(present || !dirty);
	if (c->marked) {
		u = malloc(sizeof(*u) + key.len);
		if (u == NULL) {
			return KV_CACHE_NOMEM;
		}
		u->hash = h;
		u->table = table;
		u->klen = key.len;
		memcpy(u->key, key.data, key.len);
	}
	old = *at != NULL ? kv_cache_unlink(c, at) : NULL;
	if (u != NULL) {
		u->old = old;
		u->next = c->undo;
		c->undo = u;
	} else if (old != NULL) {
		kv_cache_bury(c, old);
	}
	if (!present) {
		len = 0;
	}
	if (c->n < KV_CACHE_ENTRIES_MAX && len <= KV_CACHE_BYTES_MAX - c->bytes) {
		e = malloc(sizeof(*e) + key.len + len);
	}
	if (e == NULL) {
		return KV_CACHE_FORGOT;
	}
	e->next = NULL;
	e->hash = h;
	e->table = table;
	e->present = present;
	e->dirty = dirty;
	/* an insert the batch has not sent, overwritten, is still an insert */
	e->new_key = dirty && ((flags & KV_CACHE_SET_NEW) != 0 ||
	    (old != NULL && old->dirty && old->new_key));
	e->klen = key.len;
	e->vlen = len;
	memcpy(e->data, key.data, key.len);
	if (len > 0) {
		memcpy(e->data + key.len, val, len);
	}
	kv_cache_link(c, e);
	return KV_CACHE_KEPT;
}

void
kv_cache_each_dirty(kv_cache *c, kv_cache_dirty_fn fn, void *arg, bool before_end)
{
	if (c->n_dirty == 0) {
		return;
	}
	for (size_t i = 0; i < KV_CACHE_BUCKETS; i++) {
		for (kv_cache_ent *e = c->bucket[i]; e != NULL; e = e->next) {
			if (e->dirty) {
				fn(arg, e->table, (kv_val){ .data = e->data, .len = e->klen },
				    (kv_val){ .data = e->data + e->klen, .len = e->vlen }, e->new_key);
				e->new_key = e->new_key && !before_end;
			}
		}
	}
}

bool
kv_cache_has_dirty(const kv_cache *c)
{
	return c->n_dirty > 0;
}

void
kv_cache_mark(kv_cache *c)
{
	PW_ASSERT(!c->marked && c->undo == NULL);
	c->marked = true;
}

void
kv_cache_release(kv_cache *c)
{
	kv_cache_undo *u;

	PW_ASSERT(c->marked);
	while ((u = c->undo) != NULL) {
		c->undo = u->next;
		if (u->old != NULL) {
			kv_cache_bury(c, u->old);
		}
		free(u);
	}
	c->marked = false;
}

void
kv_cache_rollback(kv_cache *c)
{
	kv_cache_undo *u;

	PW_ASSERT(c->marked);
	/* newest first: each record puts back what its key held before it */
	while ((u = c->undo) != NULL) {
		kv_cache_ent **at = kv_cache_find(c, u->hash, u->table, u->key, u->klen);

		c->undo = u->next;
		if (*at != NULL) {
			kv_cache_bury(c, kv_cache_unlink(c, at));
		}
		if (u->old != NULL) {
			kv_cache_link(c, u->old);
		}
		free(u);
	}
	c->marked = false;
}

void
kv_cache_clear(kv_cache *c)
{
	PW_ASSERT(!c->marked);
	if (c->n == 0) {
		return;
	}
	for (size_t i = 0; i < KV_CACHE_BUCKETS; i++) {
		while (c->bucket[i] != NULL) {
			kv_cache_bury(c, kv_cache_unlink(c, &c->bucket[i]));
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
