/*
 * crash_check.c - pw-crash-check DATA_DIR | POSTGRES_URL: the read-only
 * invariants check of the crash harness (docs/reliability/crash.md).
 *
 * Owns nothing but its read transaction. It opens the LMDB environment of a
 * data directory read-only (MDB_RDONLY: a running server may go on writing
 * beside it; LMDB readers never wait), or, given a libpq connection string
 * (postgres://... or key=value), reads the PostgreSQL engine's tables
 * (docs/POSTGRES.md "Schema") in one REPEATABLE READ READ ONLY transaction,
 * and checks what the public RPC does not expose:
 *
 *   - per session: status paid <=> exactly one invoice, one entitlement, one
 *     access link (the customer JWT) and one "session.paid" audit record;
 *     an unpaid session has none of them; no session has more than one;
 *   - invoice numbers are 1..n without a gap per merchant, and each invoice's
 *     number is the one its session records;
 *   - the audit log: seq 1..n without a gap, each record's prev_hash is the
 *     BLAKE2b-256 of the previous record's stored bytes, meta audit_seq and
 *     audit_head name the last record.
 *
 * The environment must open as it is: nothing here repairs anything. Exit 0
 * and one summary line on stdout when every check holds; exit 1 and one line
 * per violation on stderr otherwise; exit 2 when the data cannot be read.
 * Single-threaded. Test builds only (tests/crash.cmake).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <lmdb.h>
#include <sodium.h>

#include "paywire/store/v1/store.pb-c.h"

#define CK_HASH_BYTES 32u   /* BLAKE2b-256, as store_audit.c */
#define CK_ID_BYTES 64u     /* session / merchant ids fit (pw_limits.h ids are 47/48) */
#define CK_VIOLATIONS_MAX 50 /* printed; later ones are only counted */

typedef struct ck_session {
	char id[CK_ID_BYTES];    /* session id; the array is sorted by it (the db's key order) */
	int status;              /* Paywire__Store__V1__SessionStatus */
	uint64_t invoice_number; /* as the session record says */
	bool has_link;           /* access_link set */
	unsigned invoices;       /* invoice records naming it */
	unsigned entitlements;   /* entitlement records naming it */
	unsigned audit_paid;     /* "session.paid" audit records naming it */
} ck_session;

typedef struct ck {
	PGconn *pg;              /* PostgreSQL: the connection (NULL: LMDB) */
	MDB_env *env;            /* read-only environment */
	MDB_txn *txn;            /* the one read transaction */
	ck_session *sessions;    /* sorted by id */
	size_t n_sessions;       /* used */
	size_t cap_sessions;     /* allocated */
	unsigned long violations; /* found so far */
	uint64_t invoices;       /* counted */
	uint64_t entitlements;   /* counted */
	uint64_t audit;          /* counted */
	uint64_t paid;           /* sessions in status paid */
} ck;

static void ck_fail(ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
ck_fail(ck *c, const char *fmt, ...)
{
	va_list ap;

	c->violations++;
	if (c->violations <= CK_VIOLATIONS_MAX) {
		fprintf(stderr, "pw-crash-check: VIOLATION: ");
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static int
ck_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const ck_session *) elem)->id);
}

static ck_session *
ck_find(ck *c, const char *sid)
{
	if (sid == NULL || sid[0] == '\0') {
		return NULL;
	}
	return bsearch(sid, c->sessions, c->n_sessions, sizeof(*c->sessions), ck_cmp);
}

/* Calls fn on every (key, value) of the named db, in key order. */
typedef int (*ck_row_fn)(ck *c, const MDB_val *k, const MDB_val *v);

/* ck_scan on PostgreSQL: the table's rows in key order (bytea compares as
 * memcmp, shorter first: LMDB's order), binary results. */
static int
ck_pg_scan(ck *c, const char *db, ck_row_fn fn)
{
	char sql[128];
	PGresult *res;
	int rv = 0;

	snprintf(sql, sizeof(sql), "SELECT k, v FROM paywire.\"%s\" ORDER BY k", db);
	res = PQexecParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "pw-crash-check: scan of %s: %s", db, PQerrorMessage(c->pg));
		PQclear(res);
		return 2;
	}
	for (int i = 0; i < PQntuples(res) && rv == 0; i++) {
		MDB_val k = { .mv_size = (size_t) PQgetlength(res, i, 0), .mv_data = PQgetvalue(res, i, 0) };
		MDB_val v = { .mv_size = (size_t) PQgetlength(res, i, 1), .mv_data = PQgetvalue(res, i, 1) };

		rv = fn(c, &k, &v);
	}
	PQclear(res);
	return rv;
}

/* meta's value under key into *v: 0 found, 1 absent (no meta table
 * either), 2 unreadable. On PostgreSQL *v points into *res, which the caller
 * clears (NULL on LMDB). */
static int
ck_meta(ck *c, const char *key, MDB_val *v, PGresult **res)
{
	const char *vals[1] = { key };
	const int lens[1] = { (int) strlen(key) };
	const int fmts[1] = { 1 };
	MDB_val k = { .mv_size = strlen(key), .mv_data = (void *) key };
	MDB_dbi dbi;
	int rv;

	*res = NULL;
	if (c->pg != NULL) {
		*res = PQexecParams(c->pg, "SELECT v FROM paywire.meta WHERE k = $1::bytea", 1, NULL,
		    vals, lens, fmts, 1);
		if (PQresultStatus(*res) != PGRES_TUPLES_OK) {
			return 2;
		}
		if (PQntuples(*res) != 1) {
			return 1;
		}
		v->mv_size = (size_t) PQgetlength(*res, 0, 0);
		v->mv_data = PQgetvalue(*res, 0, 0);
		return 0;
	}
	rv = mdb_dbi_open(c->txn, "meta", 0, &dbi);
	if (rv == 0) {
		rv = mdb_get(c->txn, dbi, &k, v);
	}
	return rv == 0 ? 0 : rv == MDB_NOTFOUND ? 1 : 2;
}

static int
ck_scan(ck *c, const char *db, ck_row_fn fn)
{
	MDB_dbi dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rv;

	if (c->pg != NULL) {
		return ck_pg_scan(c, db, fn);
	}
	rv = mdb_dbi_open(c->txn, db, 0, &dbi);
	if (rv == MDB_NOTFOUND) {
		return 0; /* never written: empty */
	}
	if (rv != 0) {
		fprintf(stderr, "pw-crash-check: open db %s: %s\n", db, mdb_strerror(rv));
		return 2;
	}
	rv = mdb_cursor_open(c->txn, dbi, &cur);
	if (rv != 0) {
		fprintf(stderr, "pw-crash-check: cursor on %s: %s\n", db, mdb_strerror(rv));
		return 2;
	}
	for (rv = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rv == 0;
	     rv = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int frv = fn(c, &k, &v);
		if (frv != 0) {
			mdb_cursor_close(cur);
			return frv;
		}
	}
	mdb_cursor_close(cur);
	if (rv != MDB_NOTFOUND) {
		fprintf(stderr, "pw-crash-check: scan of %s: %s\n", db, mdb_strerror(rv));
		return 2;
	}
	return 0;
}

static int
ck_session_row(ck *c, const MDB_val *k, const MDB_val *v)
{
	Paywire__Store__V1__SessionRecord *r;
	ck_session *s;

	(void) k;
	r = paywire__store__v1__session_record__unpack(NULL, v->mv_size, v->mv_data);
	if (r == NULL || r->session == NULL || r->session->id == NULL) {
		fprintf(stderr, "pw-crash-check: a session record does not unpack\n");
		return 2;
	}
	if (c->n_sessions == c->cap_sessions) {
		size_t cap = c->cap_sessions == 0 ? 1024 : c->cap_sessions * 2;
		ck_session *p = realloc(c->sessions, cap * sizeof(*p));
		if (p == NULL) {
			paywire__store__v1__session_record__free_unpacked(r, NULL);
			return 2;
		}
		c->sessions = p;
		c->cap_sessions = cap;
	}
	s = &c->sessions[c->n_sessions++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", r->session->id);
	s->status = (int) r->session->status;
	s->invoice_number = r->invoice_number;
	s->has_link = r->access_link != NULL && r->access_link[0] != '\0';
	if (s->status == PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID) {
		c->paid++;
	}
	paywire__store__v1__session_record__free_unpacked(r, NULL);
	return 0;
}

/* Invoices are keyed merchant || 0x00 || number (big-endian): per merchant
 * in number order, so gaplessness is a running counter. */
static char ck_inv_merchant[CK_ID_BYTES];
static uint64_t ck_inv_next;

static int
ck_invoice_row(ck *c, const MDB_val *k, const MDB_val *v)
{
	Paywire__Store__V1__InvoiceRecord *r;
	ck_session *s;

	(void) k;
	r = paywire__store__v1__invoice_record__unpack(NULL, v->mv_size, v->mv_data);
	if (r == NULL) {
		fprintf(stderr, "pw-crash-check: an invoice record does not unpack\n");
		return 2;
	}
	c->invoices++;
	if (strcmp(ck_inv_merchant, r->merchant_id) != 0) {
		snprintf(ck_inv_merchant, sizeof(ck_inv_merchant), "%s", r->merchant_id);
		ck_inv_next = 1;
	}
	if (r->number != ck_inv_next) {
		ck_fail(c, "merchant %s: invoice %" PRIu64 " where %" PRIu64 " was expected (gap)",
		    r->merchant_id, r->number, ck_inv_next);
	}
	ck_inv_next = r->number + 1;
	s = ck_find(c, r->session_id);
	if (s == NULL) {
		ck_fail(c, "invoice %" PRIu64 " of merchant %s names unknown session %s",
		    r->number, r->merchant_id, r->session_id);
	} else {
		s->invoices++;
		if (s->invoice_number != r->number) {
			ck_fail(c, "session %s records invoice %" PRIu64 ", not invoice %" PRIu64,
			    s->id, s->invoice_number, r->number);
		}
	}
	paywire__store__v1__invoice_record__free_unpacked(r, NULL);
	return 0;
}

static int
ck_entitlement_row(ck *c, const MDB_val *k, const MDB_val *v)
{
	Paywire__Store__V1__EntitlementRecord *r;
	ck_session *s;

	(void) k;
	r = paywire__store__v1__entitlement_record__unpack(NULL, v->mv_size, v->mv_data);
	if (r == NULL) {
		fprintf(stderr, "pw-crash-check: an entitlement record does not unpack\n");
		return 2;
	}
	c->entitlements++;
	s = ck_find(c, r->session_id);
	if (s == NULL) {
		ck_fail(c, "entitlement %s names unknown session %s", r->id, r->session_id);
	} else {
		s->entitlements++;
	}
	paywire__store__v1__entitlement_record__free_unpacked(r, NULL);
	return 0;
}

static uint8_t ck_audit_prev[CK_HASH_BYTES]; /* hash of the last record seen */

static int
ck_audit_row(ck *c, const MDB_val *k, const MDB_val *v)
{
	Paywire__Store__V1__AuditRecord *r;
	uint64_t kseq = 0;
	ck_session *s;

	r = paywire__store__v1__audit_record__unpack(NULL, v->mv_size, v->mv_data);
	if (r == NULL || k->mv_size != 8) {
		fprintf(stderr, "pw-crash-check: an audit record does not unpack\n");
		return 2;
	}
	for (size_t i = 0; i < 8; i++) {
		kseq = (kseq << 8) | ((const uint8_t *) k->mv_data)[i];
	}
	c->audit++;
	if (kseq != c->audit || r->seq != c->audit) {
		ck_fail(c, "audit sequence has a gap: key %" PRIu64 ", seq %" PRIu64 ", expected %" PRIu64,
		    kseq, r->seq, c->audit);
	}
	if (r->prev_hash.len != CK_HASH_BYTES ||
	    memcmp(r->prev_hash.data, ck_audit_prev, CK_HASH_BYTES) != 0) {
		ck_fail(c, "audit hash chain broken at seq %" PRIu64, r->seq);
	}
	crypto_generichash(ck_audit_prev, sizeof(ck_audit_prev), v->mv_data, v->mv_size, NULL, 0);
	if (r->action != NULL && strcmp(r->action, "session.paid") == 0) {
		s = ck_find(c, r->session_id);
		if (s == NULL) {
			ck_fail(c, "audit seq %" PRIu64 " session.paid names unknown session %s",
			    r->seq, r->session_id);
		} else {
			s->audit_paid++;
		}
	}
	paywire__store__v1__audit_record__free_unpacked(r, NULL);
	return 0;
}

/* meta audit_seq / audit_head name the last audit record. */
static int
ck_audit_meta(ck *c)
{
	MDB_val v;
	PGresult *res = NULL;
	uint64_t seq = 0;
	int rv;

	rv = ck_meta(c, "audit_seq", &v, &res);
	if (rv == 2) {
		PQclear(res);
		return 2;
	}
	if (rv == 0 && v.mv_size == 8) {
		for (size_t i = 0; i < 8; i++) {
			seq = (seq << 8) | ((const uint8_t *) v.mv_data)[i];
		}
	}
	PQclear(res);
	if (seq != c->audit) {
		ck_fail(c, "meta audit_seq %" PRIu64 " is not the last record's seq %" PRIu64, seq, c->audit);
	}
	rv = ck_meta(c, "audit_head", &v, &res);
	if (c->audit > 0 && (rv != 0 || v.mv_size != CK_HASH_BYTES ||
	                        memcmp(v.mv_data, ck_audit_prev, CK_HASH_BYTES) != 0)) {
		ck_fail(c, "meta audit_head is not the hash of record %" PRIu64, c->audit);
	}
	PQclear(res);
	return rv == 2 ? 2 : 0;
}

static void
ck_sessions_judge(ck *c)
{
	for (size_t i = 0; i < c->n_sessions; i++) {
		const ck_session *s = &c->sessions[i];
		bool paid = s->status == PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID;
		unsigned want = paid ? 1u : 0u;

		if (s->invoices != want || s->entitlements != want || s->audit_paid != want ||
		    s->has_link != paid || (s->invoice_number != 0) != paid) {
			ck_fail(c, "session %s status %d: invoices %u, entitlements %u, paid audit "
			           "records %u, link %d, invoice_number %" PRIu64,
			    s->id, s->status, s->invoices, s->entitlements, s->audit_paid,
			    s->has_link ? 1 : 0, s->invoice_number);
		}
	}
}

int
main(int argc, char **argv)
{
	ck c = { .env = NULL };
	int rv;

	if (argc != 2) {
		fprintf(stderr, "usage: pw-crash-check DATA_DIR | POSTGRES_URL\n");
		return 2;
	}
	if (sodium_init() < 0) {
		return 2;
	}
	if (strncmp(argv[1], "postgres", 8) == 0 || strchr(argv[1], '=') != NULL) {
		PGresult *res;

		c.pg = PQconnectdb(argv[1]);
		res = PQexec(c.pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		if (PQstatus(c.pg) != CONNECTION_OK || PQresultStatus(res) != PGRES_COMMAND_OK) {
			fprintf(stderr, "pw-crash-check: the database does not open: %s",
			    PQerrorMessage(c.pg));
			PQclear(res);
			PQfinish(c.pg);
			return 2;
		}
		PQclear(res);
		goto checks;
	}
	rv = mdb_env_create(&c.env);
	if (rv == 0) {
		rv = mdb_env_set_maxdbs(c.env, 32);
	}
	if (rv == 0) {
		/* MDB_RDONLY: nothing is repaired; mapsize 0 takes the file's. */
		rv = mdb_env_open(c.env, argv[1], MDB_RDONLY | MDB_NOTLS, 0600);
	}
	if (rv == 0) {
		rv = mdb_txn_begin(c.env, NULL, MDB_RDONLY, &c.txn);
	}
	if (rv != 0) {
		fprintf(stderr, "pw-crash-check: %s does not open: %s\n", argv[1], mdb_strerror(rv));
		return 2;
	}
checks:
	rv = ck_scan(&c, "sessions", ck_session_row);
	if (rv == 0) {
		rv = ck_scan(&c, "invoices", ck_invoice_row);
	}
	if (rv == 0) {
		rv = ck_scan(&c, "entitlements", ck_entitlement_row);
	}
	if (rv == 0) {
		rv = ck_scan(&c, "audit", ck_audit_row);
	}
	if (rv == 0) {
		rv = ck_audit_meta(&c);
	}
	if (rv == 0) {
		ck_sessions_judge(&c);
	}
	if (c.pg != NULL) {
		PQfinish(c.pg);
	} else {
		mdb_txn_abort(c.txn);
		mdb_env_close(c.env);
	}
	free(c.sessions);
	if (rv != 0) {
		return rv;
	}
	printf("sessions=%zu paid=%" PRIu64 " invoices=%" PRIu64 " entitlements=%" PRIu64
	       " audit=%" PRIu64 " violations=%lu\n",
	    c.n_sessions, c.paid, c.invoices, c.entitlements, c.audit, c.violations);
	return c.violations == 0 ? 0 : 1;
}
