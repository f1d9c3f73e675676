/*
 * store_expiry.c - checkout sessions that nobody paid in time.
 *
 * A session is due when the state machine would still close it (created,
 * pending or failed: no payment recorded) and its expiry has passed. Three
 * places act on that, all through the state machine's closure
 * (PW_EV_SESSION_EXPIRED), so they cannot disagree:
 * - reads (store_session_get) show a due session as expired at once, before
 *   anything is written;
 * - a provider event or a cancel that meets a due session first expires it
 *   in the same transaction (store_session_expire_due), so a payment that
 *   arrives after the expiry is an anomaly whether or not the sweep ran;
 * - the writer's sweep (store_sessions_expire) writes the change, with its
 *   audit record, in bounded batches.
 *
 * The expiry index (table "expiry") is keyed by the expiry time, big-endian,
 * then the session id: a scan from the start meets the due sessions first
 * and stops at the first one that is not. An entry is written with the
 * session and deleted by the sweep when it reaches it, whatever the session
 * became meanwhile (paid sessions cost one read then). Records written
 * before expiry existed have no entry; reads and payments still see them
 * expire (created + PW_SESSION_TTL_DEFAULT_MS), the sweep does not write it.
 */
#include "store_internal.h"
#include "store_fsm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* be64 expires_at + session id */
#define STORE_EXPIRY_KEY_BYTES (8 + PW_SESSION_ID_BYTES_MAX)
_Static_assert(STORE_EXPIRY_KEY_BYTES <= STORE_KEY_BYTES_MAX, "an expiry key fits an engine key");
_Static_assert(sizeof(((store *) 0)->sweep_keys[0]) == STORE_EXPIRY_KEY_BYTES,
    "the writer's sweep scratch holds expiry keys");

int64_t
store_session_expires_at(const Paywire__Store__V1__Session *sess)
{
	PW_ASSERT(sess != NULL);
	return sess->expires_at_unix_ms > 0 ? sess->expires_at_unix_ms
	                                    : sess->created_at_unix_ms + PW_SESSION_TTL_DEFAULT_MS;
}

/* The state machine's closure of rec at now: PW_OK and *res when it applies
 * (rec would become expired), PW_NOT_FOUND when it does not (paid, closed),
 * PW_INTERNAL for a record that fails the state machine's checks. */
static pw_status
store_expiry_closure(const Paywire__Store__V1__SessionRecord *rec, int64_t now_ms,
    fsm_result *res)
{
	fsm_state before;
	pw_event ev;

	if (store_session_state_load(rec, &before) != PW_OK) {
		return PW_INTERNAL;
	}
	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_NONE;
	ev.kind = PW_EV_SESSION_EXPIRED;
	ev.live = -1;
	fsm_apply(&before, &ev, now_ms, res);
	if (res->outcome != FSM_APPLIED) {
		return PW_NOT_FOUND;
	}
	PW_ASSERT(res->state.status == PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_EXPIRED &&
	    (res->effects & ~(uint32_t) FSM_FX_AUDIT) == 0);
	return PW_OK;
}

bool
store_session_due(const Paywire__Store__V1__SessionRecord *rec, int64_t now_ms)
{
	fsm_result res;

	PW_ASSERT(rec != NULL);
	if (rec->session == NULL || now_ms < store_session_expires_at(rec->session)) {
		return false;
	}
	return store_expiry_closure(rec, now_ms, &res) == PW_OK;
}

void
store_session_view(Paywire__Store__V1__SessionRecord *rec, int64_t now_ms)
{
	fsm_result res;

	PW_ASSERT(rec != NULL);
	if (rec->session != NULL && rec->session->expires_at_unix_ms == 0) {
		rec->session->expires_at_unix_ms = store_session_expires_at(rec->session);
	}
	if (rec->session == NULL || now_ms < store_session_expires_at(rec->session) ||
	    store_expiry_closure(rec, now_ms, &res) != PW_OK) {
		return;
	}
	rec->session->status = res.state.status;
	rec->session->payment_status = res.state.payment_status;
}

static size_t
store_expiry_key(uint8_t key[STORE_EXPIRY_KEY_BYTES], int64_t expires_at, const char *id)
{
	size_t len = strlen(id);

	PW_ASSERT(expires_at > 0 && len > 0 && len < PW_SESSION_ID_BYTES_MAX);
	store_be64_put(key, (uint64_t) expires_at);
	memcpy(key + 8, id, len);
	return 8 + len;
}

pw_status
store_expiry_index_put(store_txn *t, const Paywire__Store__V1__Session *sess)
{
	uint8_t key[STORE_EXPIRY_KEY_BYTES];
	size_t len = store_expiry_key(key, store_session_expires_at(sess), sess->id);
	pw_status st;

	st = store_raw_put(t, STORE_DB_EXPIRY, key, len, "", 0, KV_PUT_INSERT | KV_PUT_FRESH);
	/* a new session id is new in the index too */
	return st == PW_ALREADY_EXISTS ? store_txn_note(t, PW_INTERNAL) : st;
}

pw_status
store_session_expire_due(store_txn *t, Paywire__Store__V1__SessionRecord *rec, const char *by,
    bool *expired)
{
	Paywire__Store__V1__Session *sess;
	char detail[160];
	fsm_result res;
	pw_status st;

	PW_ASSERT(t != NULL && rec != NULL && by != NULL && expired != NULL);
	*expired = false;
	sess = rec->session;
	PW_ASSERT(sess != NULL);
	if (t->now_ms < store_session_expires_at(sess)) {
		return PW_OK;
	}
	st = store_expiry_closure(rec, t->now_ms, &res);
	if (st == PW_NOT_FOUND) {
		return PW_OK; /* paid or closed: nothing expires */
	}
	if (st != PW_OK) {
		pw_log(PW_LOG_ERROR, "store: session %s: record fails the state machine's checks",
		    sess->id);
		return store_txn_note(t, st);
	}
	snprintf(detail, sizeof(detail), "by=%s status=%s->expired expires_at_unix_ms=%" PRId64, by,
	    fsm_status_name(sess->status), store_session_expires_at(sess));
	sess->status = res.state.status;
	sess->payment_status = res.state.payment_status;
	*expired = true;
	return store_audit_append(t, "session.expired", sess->merchant_id, sess->id, detail);
}

/* ---- the sweep ---- */

typedef struct store_sweep_scan {
	int64_t now_ms;                                       /* the txn's time */
	size_t max;                                           /* entries to collect at most */
	size_t n;                                             /* entries collected */
	uint8_t (*keys)[STORE_EXPIRY_KEY_BYTES];              /* their keys (copied) */
	size_t *lens;                                         /* and lengths */
	bool more;                                            /* a due entry was left */
} store_sweep_scan;

/* store_scan_fn: collects the due entries, in order, up to max. */
static pw_status
store_sweep_visit(kv_val key, kv_val val, store_scan_step *step, void *arg)
{
	store_sweep_scan *sc = arg;

	(void) val;
	if (key.len <= 8 || key.len > STORE_EXPIRY_KEY_BYTES) {
		pw_log(PW_LOG_ERROR, "store: expiry index entry of %zu bytes (corrupt)", key.len);
		return PW_INTERNAL;
	}
	if ((int64_t) store_be64_get(key.data) > sc->now_ms) {
		*step = STORE_SCAN_STOP; /* the first entry not due: all after it are later */
		return PW_OK;
	}
	if (sc->n == sc->max) {
		sc->more = true;
		*step = STORE_SCAN_STOP;
		return PW_OK;
	}
	memcpy(sc->keys[sc->n], key.data, key.len);
	sc->lens[sc->n] = key.len;
	sc->n++;
	return PW_OK;
}

/* Expires the session of one collected index entry if it is still due,
 * then deletes the entry. */
static pw_status
store_sweep_one(store_txn *t, const uint8_t *key, size_t len, size_t *expired_out)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	char id[PW_SESSION_ID_BYTES_MAX];
	bool expired = false;
	pw_status st;

	memcpy(id, key + 8, len - 8);
	id[len - 8] = '\0';
	st = store_session_load(t, id, &rec);
	if (st == PW_OK) {
		st = store_session_expire_due(t, rec, "sweep", &expired);
	} else if (st == PW_NOT_FOUND) {
		pw_log(PW_LOG_WARN, "store: expiry index names missing session %s: entry dropped", id);
		st = PW_OK;
	}
	if (st == PW_OK && expired) {
		st = store_session_save(t, rec);
		(*expired_out)++;
	}
	if (st == PW_OK) {
		st = store_raw_del(t, STORE_DB_EXPIRY, key, len);
	}
	if (rec != NULL) {
		paywire__store__v1__session_record__free_unpacked(rec, NULL);
	}
	return st;
}

pw_status
store_sessions_expire(store_txn *t, size_t max_scan, size_t *expired_out, bool *more_out)
{
	uint8_t (*keys)[STORE_EXPIRY_KEY_BYTES] = NULL;
	size_t *lens = NULL;
	store_sweep_scan sc;
	pw_status st;

	PW_ASSERT(t != NULL && !t->read && expired_out != NULL);
	PW_ASSERT(max_scan > 0 && max_scan <= PW_STORE_SWEEP_BATCH_MAX);
	*expired_out = 0;
	if (more_out != NULL) {
		*more_out = false;
	}
	if (t->err != PW_OK) {
		return t->err;
	}
	/* writer scratch: a sweep that finds nothing due allocates nothing */
	keys = t->s->sweep_keys;
	lens = t->s->sweep_lens;
	sc = (store_sweep_scan){ .now_ms = t->now_ms, .max = max_scan, .keys = keys, .lens = lens };
	/* Collect first, then write: no write while the scan's cursor is open. */
	st = store_scan(t, STORE_DB_EXPIRY, (kv_val){ .data = NULL, .len = 0 }, store_sweep_visit,
	    &sc);
	for (size_t i = 0; i < sc.n && st == PW_OK; i++) {
		st = store_sweep_one(t, keys[i], lens[i], expired_out);
	}
	if (st != PW_OK) {
		*expired_out = 0;
		return st;
	}
	if (more_out != NULL) {
		*more_out = sc.more;
	}
	if (*expired_out > 0) {
		pw_log(PW_LOG_INFO, "store: %zu session(s) expired", *expired_out);
	}
	return PW_OK;
}
