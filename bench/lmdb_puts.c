/*
 * lmdb_puts.c - what each LMDB write transaction of a process writes, table
 * by table (bench/RESULTS.md "The fresh webhook, profiled"). An LD_PRELOAD
 * library, built and used by bench/lmdb_puts.sh: it wraps mdb_dbi_open (to
 * learn the tables' names), mdb_txn_begin / mdb_txn_commit / mdb_txn_abort
 * of top-level read-write transactions, mdb_put and mdb_del. At each commit
 * of a top-level transaction it writes the puts and deletes made in it as a
 * line ("audit:1 meta:2 sessions:1 ...", the transaction's write set) and
 * counts the distinct lines; at exit it writes them, most frequent first, to
 * $LMDB_PUTS_OUT (or stderr). With one call per commit (one call in flight),
 * a line is one call's write set. Puts of a nested transaction that is aborted are counted too.
 * Not part of paywire: a measuring tool, never linked into a build.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LP_DBS 64   /* dbi handles tracked */
#define LP_SETS 256 /* distinct write sets kept */
#define LP_SET_LEN 512

static char lp_names[LP_DBS][32];
static struct {
	char set[LP_SET_LEN];
	unsigned long n;
} lp_sets[LP_SETS];
static unsigned long lp_dropped; /* commits whose write set did not fit */
static pthread_mutex_t lp_mu = PTHREAD_MUTEX_INITIALIZER;

static __thread MDB_txn *lp_top; /* this thread's top-level write txn */
static __thread unsigned lp_puts[LP_DBS], lp_dels[LP_DBS];

/* The real function `name`, found once. */
#define LP_REAL(name) \
	static __typeof__(&name) lp_##name; \
	if (lp_##name == NULL) lp_##name = (__typeof__(&name)) dlsym(RTLD_NEXT, #name)

int
mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	LP_REAL(mdb_dbi_open);
	int rc = lp_mdb_dbi_open(txn, name, flags, dbi);
	if (rc == 0 && *dbi < LP_DBS) {
		snprintf(lp_names[*dbi], sizeof(lp_names[0]), "%s", name != NULL ? name : "main");
	}
	return rc;
}

int
mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned flags, MDB_txn **txn)
{
	LP_REAL(mdb_txn_begin);
	int rc = lp_mdb_txn_begin(env, parent, flags, txn);
	if (rc == 0 && parent == NULL && (flags & MDB_RDONLY) == 0) {
		lp_top = *txn;
		memset(lp_puts, 0, sizeof(lp_puts));
		memset(lp_dels, 0, sizeof(lp_dels));
	}
	return rc;
}

static void
lp_record(void)
{
	char set[LP_SET_LEN];
	size_t len = 0;
	int i;

	set[0] = '\0';
	for (i = 0; i < LP_DBS; i++) {
		int w = 0;
		if (lp_puts[i] != 0) {
			w = snprintf(set + len, sizeof(set) - len, "%s%s:%u", len ? " " : "",
			    lp_names[i][0] ? lp_names[i] : "?", lp_puts[i]);
		}
		if (w >= 0 && (size_t) w < sizeof(set) - len) {
			len += (size_t) w;
		}
		w = 0;
		if (lp_dels[i] != 0) {
			w = snprintf(set + len, sizeof(set) - len, "%sdel:%s:%u", len ? " " : "",
			    lp_names[i][0] ? lp_names[i] : "?", lp_dels[i]);
		}
		if (w >= 0 && (size_t) w < sizeof(set) - len) {
			len += (size_t) w;
		}
	}
	if (len == 0) {
		return; /* changed nothing */
	}
	pthread_mutex_lock(&lp_mu);
	for (i = 0; i < LP_SETS; i++) {
		if (lp_sets[i].n == 0) {
			snprintf(lp_sets[i].set, sizeof(lp_sets[i].set), "%s", set);
		}
		if (strcmp(lp_sets[i].set, set) == 0) {
			lp_sets[i].n++;
			break;
		}
	}
	if (i == LP_SETS) {
		lp_dropped++;
	}
	pthread_mutex_unlock(&lp_mu);
}

int
mdb_txn_commit(MDB_txn *txn)
{
	LP_REAL(mdb_txn_commit);
	int top = txn == lp_top;
	int rc = lp_mdb_txn_commit(txn);
	if (top) {
		if (rc == 0) {
			lp_record();
		}
		lp_top = NULL;
	}
	return rc;
}

void
mdb_txn_abort(MDB_txn *txn)
{
	LP_REAL(mdb_txn_abort);
	if (txn == lp_top) {
		lp_top = NULL;
	}
	lp_mdb_txn_abort(txn);
}

int
mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags)
{
	LP_REAL(mdb_put);
	if (lp_top != NULL && dbi < LP_DBS) {
		lp_puts[dbi]++;
	}
	return lp_mdb_put(txn, dbi, key, data, flags);
}

int
mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	LP_REAL(mdb_del);
	if (lp_top != NULL && dbi < LP_DBS) {
		lp_dels[dbi]++;
	}
	return lp_mdb_del(txn, dbi, key, data);
}

static int
lp_cmp(const void *a, const void *b)
{
	unsigned long x = ((const __typeof__(lp_sets[0]) *) a)->n;
	unsigned long y = ((const __typeof__(lp_sets[0]) *) b)->n;
	return x < y ? 1 : x > y ? -1 : 0;
}

__attribute__((destructor)) static void
lp_dump(void)
{
	const char *path = getenv("LMDB_PUTS_OUT");
	FILE *f = path != NULL ? fopen(path, "w") : stderr;

	if (f == NULL) {
		return;
	}
	qsort(lp_sets, LP_SETS, sizeof(lp_sets[0]), lp_cmp);
	for (int i = 0; i < LP_SETS && lp_sets[i].n != 0; i++) {
		fprintf(f, "%8lu  %s\n", lp_sets[i].n, lp_sets[i].set);
	}
	if (lp_dropped != 0) {
		fprintf(f, "%8lu  (other write sets, not kept)\n", lp_dropped);
	}
	if (f != stderr) {
		fclose(f);
	}
}
