/*
 * store_lastused.c - when each API key was last used, without a write on
 * the read path.
 *
 * store_apikey_auth runs on any thread and must stay a pure read (GetStatus
 * and the other reads are at the transport's floor). So a successful
 * authentication only moves an in-memory time: store_lu_note finds (or
 * claims) the key's slot in a fixed, lock-free, open-addressed table and
 * stores the time with a relaxed atomic, and only when it is at least
 * STORE_LU_NOTE_MS newer than the one there (a hot key does not make every
 * caller write the same cache line). store_apikey_list reports the newer of
 * the stored and the in-memory time.
 *
 * The writer persists the times lazily (store_writer.c): the flush,
 * store_lu_flush_apply, writes the keys whose in-memory time is at least
 * PW_APIKEY_LASTUSED_GRANULARITY_MS newer than the stored one, at most
 * PW_APIKEY_LASTUSED_FLUSH_MAX of them (the next flush goes on where it
 * stopped). It rides, as one more nested write, in a batch of callers' writes
 * that changed something and so commits anyway (no fsync of its own; a batch
 * that wrote nothing stays without a commit), at most once per
 * PW_APIKEY_LASTUSED_CHECK_MS and only when a key was used since the last
 * flush. When no such batch came for PW_APIKEY_LASTUSED_IDLE_MS (a server
 * that only reads), the writer runs it as a batch of its own. When the store
 * closes, the writer flushes every key whose time is newer than the stored
 * one. So the stored time is to the minute, a clean shutdown keeps all of
 * it, and a crash loses at most GRANULARITY + CHECK of it (GRANULARITY +
 * IDLE on a server that only reads).
 *
 * THREADS: note/get any thread (atomics only). The slots' flushed_ms and the
 * flush's scratch (idx, val, cursor) belong to the writer.
 *
 * A slot is claimed once (tag 0 -> the key's tag, CAS) and never freed: the
 * table holds the first PW_APIKEY_LASTUSED_KEYS_MAX distinct keys used since
 * the store opened; a key that finds no slot within STORE_LU_PROBE_MAX
 * probes is not tracked (its stored time stays; logged once).
 */
#include "store_internal.h"

#include <string.h>

#define STORE_LU_PROBE_MAX 256u
#define STORE_LU_NOTE_MS 1000 /* the in-memory time moves in steps of at least 1 s */

typedef struct store_lu_slot {
	_Atomic uint64_t tag;           /* 0: free; else the key's tag (never 0) */
	atomic_bool ready;              /* hash is written (release/acquire) */
	uint8_t hash[STORE_HASH_BYTES]; /* the apikeys key of the record */
	_Atomic int64_t used_ms;        /* newest successful authentication seen */
	int64_t flushed_ms;             /* writer only: the stored time as last seen */
} store_lu_slot;

struct store_lu {
	store_lu_slot slot[PW_APIKEY_LASTUSED_KEYS_MAX];
	atomic_bool dirty;              /* a time moved since the writer last looked */
	atomic_bool full_logged;        /* "not tracked" was logged */
	atomic_uint_fast64_t untracked; /* authentications of keys that found no slot */
	/* writer only: the running flush */
	size_t cursor;                                 /* where the next flush starts */
	size_t next_cursor;                            /* where this one stopped */
	size_t n;                                      /* slots it looked at and settled */
	size_t written;                                /* records it wrote */
	bool more;                                     /* it stopped at FLUSH_MAX */
	bool force;                                    /* closing: write whatever is newer */
	uint32_t idx[PW_APIKEY_LASTUSED_FLUSH_MAX];    /* those slots */
	int64_t val[PW_APIKEY_LASTUSED_FLUSH_MAX];     /* the stored time each has after it */
};

pw_status
store_lu_new(store_lu **out)
{
	store_lu *lu = calloc(1, sizeof(*lu));

	*out = NULL;
	if (lu == NULL) {
		return PW_RESOURCE_EXHAUSTED;
	}
	for (size_t i = 0; i < PW_APIKEY_LASTUSED_KEYS_MAX; i++) {
		atomic_init(&lu->slot[i].tag, 0);
		atomic_init(&lu->slot[i].ready, false);
		atomic_init(&lu->slot[i].used_ms, 0);
	}
	atomic_init(&lu->dirty, false);
	atomic_init(&lu->full_logged, false);
	atomic_init(&lu->untracked, 0);
	*out = lu;
	return PW_OK;
}

void
store_lu_free(store_lu *lu)
{
	free(lu);
}

static uint64_t
store_lu_tag(const uint8_t hash[STORE_HASH_BYTES])
{
	uint64_t tag;

	memcpy(&tag, hash, sizeof(tag));
	return tag | 1u; /* never 0 (free) */
}

/* The slot of hash, claiming a free one when claim; NULL: none (not yet
 * claimed, or no room: *busy false; being claimed by another thread right
 * now: *busy true). */
static store_lu_slot *
store_lu_find(store_lu *lu, const uint8_t hash[STORE_HASH_BYTES], bool claim, bool *busy)
{
	uint64_t tag = store_lu_tag(hash);
	size_t i = (size_t) (tag >> 1) & (PW_APIKEY_LASTUSED_KEYS_MAX - 1);

	*busy = false;
	for (unsigned probe = 0; probe < STORE_LU_PROBE_MAX; probe++) {
		store_lu_slot *sl = &lu->slot[(i + probe) & (PW_APIKEY_LASTUSED_KEYS_MAX - 1)];
		uint64_t cur = atomic_load_explicit(&sl->tag, memory_order_acquire);

		if (cur == 0) {
			if (!claim) {
				return NULL; /* slots are never freed: it is not further on */
			}
			if (atomic_compare_exchange_strong_explicit(&sl->tag, &cur, tag,
			    memory_order_acq_rel, memory_order_acquire)) {
				memcpy(sl->hash, hash, STORE_HASH_BYTES);
				atomic_store_explicit(&sl->ready, true, memory_order_release);
				return sl;
			}
			/* another thread claimed it first: cur is its tag */
		}
		if (cur == tag) {
			if (!atomic_load_explicit(&sl->ready, memory_order_acquire)) {
				*busy = true; /* being claimed right now (most likely by this
				                 very key): this one use is not noted */
				return NULL;
			}
			/* a key's hash: compared in constant time */
			if (sodium_memcmp(sl->hash, hash, STORE_HASH_BYTES) == 0) {
				return sl;
			}
		}
	}
	return NULL;
}

void
store_lu_note(store_lu *lu, const uint8_t hash[STORE_HASH_BYTES], int64_t now_ms)
{
	store_lu_slot *sl;
	bool busy;
	int64_t cur;

	if (lu == NULL) {
		return;
	}
	sl = store_lu_find(lu, hash, true, &busy);
	if (sl == NULL && !busy) {
		atomic_fetch_add_explicit(&lu->untracked, 1, memory_order_relaxed);
		if (!atomic_load_explicit(&lu->full_logged, memory_order_relaxed) &&
		    !atomic_exchange(&lu->full_logged, true)) {
			pw_log(PW_LOG_WARN, "store: API key last-used table has no room (about %u "
			    "keys used since start): such keys keep their stored last-used time "
			    "until a restart", PW_APIKEY_LASTUSED_KEYS_MAX);
		}
		return;
	}
	if (sl == NULL) {
		return; /* busy: the claiming caller notes its own use */
	}
	cur = atomic_load_explicit(&sl->used_ms, memory_order_relaxed);
	if (now_ms - cur < STORE_LU_NOTE_MS) {
		return; /* noted within the last second, or the clock went back */
	}
	atomic_store_explicit(&sl->used_ms, now_ms, memory_order_relaxed);
	if (!atomic_load_explicit(&lu->dirty, memory_order_relaxed)) {
		atomic_store_explicit(&lu->dirty, true, memory_order_relaxed);
	}
}

int64_t
store_lu_get(store_lu *lu, const uint8_t hash[STORE_HASH_BYTES])
{
	store_lu_slot *sl;
	bool busy;

	if (lu == NULL) {
		return 0;
	}
	sl = store_lu_find(lu, hash, false, &busy);
	return sl == NULL ? 0 : atomic_load_explicit(&sl->used_ms, memory_order_relaxed);
}

uint64_t
store_lu_untracked(store_lu *lu)
{
	return lu == NULL ? 0 : (uint64_t) atomic_load_explicit(&lu->untracked, memory_order_relaxed);
}

bool
store_lu_take_dirty(store_lu *lu)
{
	return atomic_exchange(&lu->dirty, false);
}

void
store_lu_set_dirty(store_lu *lu)
{
	atomic_store(&lu->dirty, true);
}

void
store_lu_set_force(store_lu *lu, bool force)
{
	lu->force = force;
}

bool
store_lu_more(const store_lu *lu)
{
	return lu->more;
}

/* Settles one slot in t: reads the stored time and writes the in-memory one
 * when it is due. */
static pw_status
store_lu_settle(store_txn *t, store_lu *lu, uint32_t idx, int64_t used, int64_t gran)
{
	store_lu_slot *sl = &lu->slot[idx];
	Paywire__Store__V1__ApiKeyRecord *rec = NULL;
	int64_t stored;
	pw_status st;

	st = store_rec_get(t, STORE_DB_APIKEYS, sl->hash, STORE_HASH_BYTES,
	    &paywire__store__v1__api_key_record__descriptor, (void **) &rec);
	if (st == PW_NOT_FOUND) {
		/* authenticated a moment ago, so it existed; nothing to keep it in */
		lu->idx[lu->n] = idx;
		lu->val[lu->n++] = used;
		return PW_OK;
	}
	if (st != PW_OK) {
		return st;
	}
	stored = rec->last_used_at_unix_ms;
	if (used > stored && (lu->force || used - stored >= gran)) {
		rec->last_used_at_unix_ms = used;
		st = store_rec_put(t, STORE_DB_APIKEYS, sl->hash, STORE_HASH_BYTES, &rec->base, 0, NULL);
		stored = used;
		lu->written++;
	}
	paywire__store__v1__api_key_record__free_unpacked(rec, NULL);
	if (st == PW_OK) {
		lu->idx[lu->n] = idx;
		lu->val[lu->n++] = stored;
	}
	return st;
}

pw_status
store_lu_flush_apply(store_txn *t, void *arg)
{
	store *s = arg;
	store_lu *lu = s->lu;
	int64_t gran = (int64_t) atomic_load(&s->lu_granularity_ms);
	size_t i;
	pw_status st = PW_OK;

	/* a re-run starts over: nothing of an earlier run was kept */
	lu->n = 0;
	lu->written = 0;
	lu->more = false;
	for (i = 0; i < PW_APIKEY_LASTUSED_KEYS_MAX && st == PW_OK; i++) {
		uint32_t idx = (uint32_t) ((lu->cursor + i) & (PW_APIKEY_LASTUSED_KEYS_MAX - 1));
		store_lu_slot *sl = &lu->slot[idx];
		int64_t used;

		if (!atomic_load_explicit(&sl->ready, memory_order_acquire)) {
			continue;
		}
		used = atomic_load_explicit(&sl->used_ms, memory_order_relaxed);
		if (used <= sl->flushed_ms || (!lu->force && used - sl->flushed_ms < gran)) {
			continue;
		}
		if (lu->n == PW_APIKEY_LASTUSED_FLUSH_MAX) {
			lu->more = true; /* the next flush starts here */
			break;
		}
		st = store_lu_settle(t, lu, idx, used, gran);
	}
	lu->next_cursor = (lu->cursor + i) & (PW_APIKEY_LASTUSED_KEYS_MAX - 1);
	return st;
}

size_t
store_lu_flush_done(store_lu *lu, pw_status st)
{
	if (st != PW_OK) {
		lu->more = false;
		store_lu_set_dirty(lu); /* what it would have written is still due */
		return 0;
	}
	for (size_t k = 0; k < lu->n; k++) {
		lu->slot[lu->idx[k]].flushed_ms = lu->val[k];
	}
	lu->cursor = lu->next_cursor;
	return lu->written;
}
