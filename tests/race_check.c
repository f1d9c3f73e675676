/*
 * race_check.c - read-only checker of a data directory after the
 * concurrency storm (tests/race_storm.c): for each session the storm paid,
 * exactly one invoice, one entitlement (the fulfillment), one webhook event
 * record, one "session.paid" audit record and one access link; no session
 * the storm did not ask for; the audit chain whole.
 *
 * usage: race_check DATA_DIR SESSIONS_FILE [STORE_URL]
 *   SESSIONS_FILE: "<session id> <kind>" per line, as race_storm writes it.
 *   STORE_URL: a PostgreSQL store (DATA_DIR then holds only paywire.key).
 * Run after the server has stopped (or beside it: every read here is an
 * LMDB read transaction, and the store is opened read-only, so nothing is
 * written either way). Exit 0 when every count is right, 1 otherwise; the
 * last line is a one-line summary.
 *
 * It links the store (paywire_store) and walks its tables through the
 * domain's own read helpers (store_internal.h): the public API can tell
 * "paid with invoice n", not "and no second invoice".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_internal.h"

#define RC_SESSIONS_MAX 200000

/* What one table holds per session of the storm. */
typedef enum rc_kind {
	RC_INVOICE = 0,
	RC_ENTITLEMENT,
	RC_EVENT,
	RC_AUDIT_PAID,
	RC_KINDS,
} rc_kind;

static const char *const rc_kind_name[RC_KINDS] = {
	[RC_INVOICE] = "invoices",
	[RC_ENTITLEMENT] = "entitlements",
	[RC_EVENT] = "webhook events",
	[RC_AUDIT_PAID] = "session.paid audit records",
};

typedef struct rc_session {
	char id[64];                 /* session id */
	unsigned count[RC_KINDS];    /* records of each kind naming it */
} rc_session;

typedef struct rc_env {
	rc_session *s;               /* sorted by id */
	size_t n;
	uint64_t strays;             /* records naming a session not in the file */
	rc_kind kind;                /* what the running scan counts */
	const ProtobufCMessageDescriptor *desc; /* its record type */
} rc_env;

static int
rc_cmp(const void *a, const void *b)
{
	return strcmp(((const rc_session *) a)->id, ((const rc_session *) b)->id);
}

/* The session id a record names (each record type keeps it in its own
 * field), or NULL when the record is not about a storm payment. */
static const char *
rc_session_of(rc_env *e, const ProtobufCMessage *m)
{
	switch (e->kind) {
	case RC_INVOICE: return ((const Paywire__Store__V1__InvoiceRecord *) m)->session_id;
	case RC_ENTITLEMENT: return ((const Paywire__Store__V1__EntitlementRecord *) m)->session_id;
	case RC_EVENT: return ((const Paywire__Store__V1__WebhookEventRecord *) m)->session_id;
	case RC_AUDIT_PAID: {
		const Paywire__Store__V1__AuditRecord *a = (const Paywire__Store__V1__AuditRecord *) m;
		return strcmp(a->action, "session.paid") == 0 ? a->session_id : NULL;
	}
	case RC_KINDS: break;
	}
	return NULL;
}

/* store_scan_fn: one record; counts it against its session. */
static pw_status
rc_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	rc_env *e = arg;
	ProtobufCMessage *m = NULL;
	const char *sid;
	rc_session probe;
	rc_session *hit;
	pw_status st;

	(void) key;
	(void) step;
	st = store_msg_unpack(e->desc, val.data, val.len, (void **) &m);
	if (st != PW_OK) {
		return st;
	}
	sid = rc_session_of(e, m);
	if (sid != NULL && sid[0] != '\0') {
		snprintf(probe.id, sizeof(probe.id), "%s", sid);
		hit = bsearch(&probe, e->s, e->n, sizeof(*e->s), rc_cmp);
		if (hit != NULL) {
			hit->count[e->kind]++;
		} else {
			e->strays++;
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return PW_OK;
}

static pw_status
rc_scan(store *s, rc_env *e, store_db db, rc_kind kind, const ProtobufCMessageDescriptor *desc)
{
	store_txn t;
	pw_status st;

	e->kind = kind;
	e->desc = desc;
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_scan(&t, db, (kv_val) { .data = NULL, .len = 0 }, rc_visit, e);
	}
	store_read_end(&t);
	return st;
}

static int
rc_load(const char *path, rc_env *e)
{
	FILE *f = fopen(path, "r");
	char id[64];
	char kind[32];

	if (f == NULL) {
		perror(path);
		return -1;
	}
	e->s = calloc(RC_SESSIONS_MAX, sizeof(*e->s));
	if (e->s == NULL) {
		abort();
	}
	while (e->n < RC_SESSIONS_MAX && fscanf(f, "%63s %31s", id, kind) == 2) {
		snprintf(e->s[e->n++].id, sizeof(e->s[0].id), "%s", id);
	}
	(void) fclose(f);
	qsort(e->s, e->n, sizeof(*e->s), rc_cmp);
	return e->n > 0 ? 0 : -1;
}

/* Every listed session: paid, with an access link, and one of each record. */
static unsigned
rc_judge(store *s, rc_env *e)
{
	unsigned bad = 0;

	for (size_t i = 0; i < e->n; i++) {
		Paywire__Store__V1__SessionRecord *rec = NULL;
		pw_status st = store_session_get(s, e->s[i].id, &rec);

		if (st != PW_OK || rec->session == NULL ||
		    rec->session->status != PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_PAID ||
		    rec->access_link == NULL || rec->access_link[0] == '\0' || rec->invoice_number == 0) {
			if (bad++ < 20) {
				fprintf(stderr, "race_check: %s: not paid with invoice and access link (%s)\n",
				    e->s[i].id, pw_status_name(st));
			}
		}
		if (rec != NULL) {
			paywire__store__v1__session_record__free_unpacked(rec, NULL);
		}
		for (int k = 0; k < RC_KINDS; k++) {
			if (e->s[i].count[k] != 1 && bad++ < 20) {
				fprintf(stderr, "race_check: %s: %u %s (1 expected)\n", e->s[i].id,
				    e->s[i].count[k], rc_kind_name[k]);
			}
		}
	}
	return bad;
}

int
main(int argc, char **argv)
{
	store_opts o = { .read_only = true };
	store_audit_report audit_r;
	store_audit_report *audit = &audit_r;
	store_counts c;
	rc_env e = { 0 };
	store *s = NULL;
	unsigned bad = 0;
	pw_status st;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: race_check DATA_DIR SESSIONS_FILE [STORE_URL]\n");
		return 2;
	}
	if (rc_load(argv[2], &e) != 0) {
		fprintf(stderr, "race_check: no sessions in %s\n", argv[2]);
		return 1;
	}
	o.dir = argv[1];
	o.url = argc == 4 ? argv[3] : NULL;
	st = store_open(&s, &o);
	if (st != PW_OK) {
		fprintf(stderr, "race_check: open %s: %s\n", argv[1], pw_status_name(st));
		return 1;
	}
	st = rc_scan(s, &e, STORE_DB_INVOICES, RC_INVOICE, &paywire__store__v1__invoice_record__descriptor);
	if (st == PW_OK) {
		st = rc_scan(s, &e, STORE_DB_ENTITLEMENTS, RC_ENTITLEMENT,
		    &paywire__store__v1__entitlement_record__descriptor);
	}
	if (st == PW_OK) {
		st = rc_scan(s, &e, STORE_DB_EVENTS, RC_EVENT, &paywire__store__v1__webhook_event_record__descriptor);
	}
	if (st == PW_OK) {
		st = rc_scan(s, &e, STORE_DB_AUDIT, RC_AUDIT_PAID, &paywire__store__v1__audit_record__descriptor);
	}
	if (st == PW_OK) {
		st = store_counts_get(s, &c);
	}
	if (st == PW_OK) {
		st = store_audit_verify(s, audit);
	}
	if (st != PW_OK) {
		fprintf(stderr, "race_check: reading the store: %s\n", pw_status_name(st));
		store_close(s);
		return 1;
	}
	bad += rc_judge(s, &e);
	if (e.strays != 0) {
		fprintf(stderr, "race_check: %" PRIu64 " records name a session the storm did not pay\n",
		    e.strays);
		bad++;
	}
	if (c.sessions != e.n) { /* a re-sent create_session made exactly one */
		fprintf(stderr, "race_check: %" PRIu64 " sessions in the store, %zu expected\n", c.sessions, e.n);
		bad++;
	}
	if (!audit->ok) {
		fprintf(stderr, "race_check: audit chain broken at seq %" PRIu64 "\n", audit->first_bad_seq);
		bad++;
	}
	printf("check: %zu sessions; store holds %" PRIu64 " sessions, %" PRIu64 " invoices, %" PRIu64
	       " entitlements, %" PRIu64 " events, %" PRIu64 " audit records (chain %s); "
	       "per session one of each: %s\n",
	    e.n, c.sessions, c.invoices, c.entitlements, c.events, c.audit, audit->ok ? "ok" : "BROKEN",
	    bad == 0 ? "yes" : "NO");
	store_close(s);
	free(e.s);
	return bad == 0 ? 0 : 1;
}
