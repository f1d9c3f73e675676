/*
 * store_notify_test.c - outbound notifications (store/store_notify.c):
 * endpoints (create, list, update, delete, rotate; limits and bad input
 * refused writing nothing; the secret never in the engine's data in clear),
 * the outbox written in the change's transaction (a change that rolls back
 * leaves no message), the due index, results (delivered, retried, dead,
 * 410 disabling the endpoint and telling the others), dead letters retried,
 * replay with the same message ids. Runs on LMDB and PostgreSQL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

typedef Paywire__Store__V1__NotifyEndpointRecord ep_rec;
typedef Paywire__Store__V1__OutboxMessageRecord ob_rec;

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "notify", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Notify Shop", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_TEST };
	return fx_env_setup(state, &cfg);
}

typedef struct t_ep {
	const char *merchant_id;
	store_endpoint_in in;
	store_endpoint_update_in up;
	int op;            /* 0 create, 1 update, 2 delete, 3 rotate */
	int64_t grace_ms;
	ep_rec *rec;
	char secret[PW_NOTIFY_SECRET_BYTES];
	char why[256];
} t_ep;

static pw_status
t_ep_apply(store_txn *t, void *arg)
{
	t_ep *p = arg;

	store_endpoint_free(p->rec);
	p->rec = NULL;
	switch (p->op) {
	case 0:
		return store_endpoint_create(t, p->merchant_id, &p->in, &p->rec, p->secret, p->why,
		    sizeof(p->why));
	case 1:
		return store_endpoint_update(t, p->merchant_id, &p->up, &p->rec, p->why,
		    sizeof(p->why));
	case 2:
		return store_endpoint_delete(t, p->merchant_id, p->up.endpoint_id, &p->rec);
	default:
		return store_endpoint_rotate(t, p->merchant_id, p->up.endpoint_id, p->grace_ms, &p->rec,
		    p->secret);
	}
}

/* Creates an endpoint; its id into id. */
static pw_status
t_create(fx_env *e, const char *url, const char *const *types, size_t n, char *id,
    char *secret)
{
	t_ep p = { .merchant_id = e->merchant_id, .op = 0,
		.in = { .kind = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK,
		    .url = url, .types = types, .n_types = n, .description = "test" } };
	pw_status st = store_apply_sync(e->s, t_ep_apply, &p);

	if (st == PW_OK) {
		assert_non_null(p.rec);
		assert_int_equal(strncmp(p.rec->endpoint_id, "ep_", 3), 0);
		assert_true(strlen(p.secret) > 6 && sodium_memcmp(p.secret, "whsec_", 6) == 0);
		assert_int_equal(p.rec->sealed.len, 0); /* never handed out */
		if (id != NULL) {
			strcpy(id, p.rec->endpoint_id);
		}
		if (secret != NULL) {
			strcpy(secret, p.secret);
		}
	}
	store_endpoint_free(p.rec);
	return st;
}

typedef struct t_audit {
	const char *merchant_id;
	const char *action;
	bool fail_after;   /* return an error after the append: the change rolls back */
} t_audit;

static pw_status
t_audit_apply(store_txn *t, void *arg)
{
	t_audit *a = arg;
	pw_status st = store_audit_append(t, a->action, a->merchant_id, "cs_test", "amount=100");

	if (st == PW_OK && a->fail_after) {
		return PW_INVALID_ARGUMENT; /* e.g. a validation failing later in the same change */
	}
	return st;
}

static size_t
t_outbox_n(fx_env *e, bool dead)
{
	ob_rec **l = NULL;
	size_t n = 0;
	bool more = false;

	assert_int_equal(store_outbox_list(e->s, e->merchant_id, dead, NULL, 100, &l, &n, &more),
	    PW_OK);
	store_outbox_list_free(l, n);
	return n;
}

static void
t_endpoints(void **state)
{
	fx_env *e = *state;
	const char *types[] = { "session.paid", "credits.changed" };
	const char *bad[] = { "session.nope" };
	const char *twice[] = { "session.paid", "session.paid" };
	const char *many[PW_NOTIFY_TYPES_MAX + 1];
	char id[STORE_NOTIFY_ID_BYTES];
	char secret[PW_NOTIFY_SECRET_BYTES];
	char longurl[PW_NOTIFY_URL_BYTES_MAX + 16];
	uint64_t audits = fx_audit_ok(e->s);
	ep_rec **list = NULL;
	size_t n = 0;

	/* refusals write nothing */
	assert_int_equal(t_create(e, "ftp://x.example/h", NULL, 0, NULL, NULL), PW_INVALID_ARGUMENT);
	assert_int_equal(t_create(e, "https://x.example/h", bad, 1, NULL, NULL), PW_INVALID_ARGUMENT);
	assert_int_equal(t_create(e, "https://x.example/h", twice, 2, NULL, NULL),
	    PW_INVALID_ARGUMENT);
	for (size_t i = 0; i < PW_NOTIFY_TYPES_MAX + 1; i++) {
		many[i] = "session.paid";
	}
	assert_int_equal(t_create(e, "https://x.example/h", many, PW_NOTIFY_TYPES_MAX + 1, NULL, NULL),
	    PW_INVALID_ARGUMENT);
	memcpy(longurl, "https://", 8);
	memset(longurl + 8, 'a', sizeof(longurl) - 9);
	longurl[sizeof(longurl) - 1] = '\0';
	assert_int_equal(t_create(e, longurl, NULL, 0, NULL, NULL), PW_INVALID_ARGUMENT);
	{
		char longdesc[PW_NOTIFY_DESCRIPTION_BYTES_MAX + 2];
		memset(longdesc, 'd', sizeof(longdesc) - 1);
		longdesc[sizeof(longdesc) - 1] = '\0';
		t_ep p = { .merchant_id = e->merchant_id, .op = 0,
			.in = { .kind = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK,
			    .url = "https://x.example/h", .description = longdesc } };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_INVALID_ARGUMENT);
		assert_non_null(strstr(p.why, "description"));
	}
	{
		t_ep p = { .merchant_id = e->merchant_id, .op = 0,
			.in = { .kind = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL,
			    .url = "https://x.example/h" } };
		/* a URL is not an EMAIL endpoint's address, nor a TELEGRAM chat id */
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_INVALID_ARGUMENT);
		assert_non_null(strstr(p.why, "EMAIL endpoint's url is an address"));
		p.in.kind = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM;
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_INVALID_ARGUMENT);
		assert_non_null(strstr(p.why, "chat id"));
		p.in.kind = (Paywire__Store__V1__NotifyEndpointKind) 9;
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_INVALID_ARGUMENT);
		assert_non_null(strstr(p.why, "WEBHOOK, EMAIL or TELEGRAM"));
		p.merchant_id = "mer_nobody";
		p.in.kind = PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK;
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_NOT_FOUND);
	}
	assert_int_equal(fx_audit_ok(e->s), audits);

	assert_int_equal(t_create(e, "https://x.example/h", types, 2, id, secret), PW_OK);
	/* the secret is sealed: not in the data in clear */
	assert_false(fx_data_has(e, secret + 6, strlen(secret + 6)));
	assert_int_equal(store_endpoint_list(e->s, e->merchant_id, &list, &n), PW_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->endpoint_id, id);
	assert_int_equal(list[0]->n_event_types, 2);
	assert_int_equal(list[0]->sealed.len, 0);
	store_endpoint_list_free(list, n);
	{
		store_notify_secrets sec;
		ep_rec *r = NULL;
		assert_int_equal(store_endpoint_get(e->s, e->merchant_id, id, &r, &sec), PW_OK);
		assert_string_equal(sec.current, secret);
		assert_false(sec.has_previous);
		store_endpoint_free(r);
		/* another merchant's id finds nothing */
		assert_int_equal(store_endpoint_get(e->s, "mer_other", id, &r, NULL), PW_NOT_FOUND);
	}
	/* the most endpoints per merchant */
	for (int i = 1; i < PW_NOTIFY_ENDPOINTS_MAX; i++) {
		assert_int_equal(t_create(e, "https://y.example/h", NULL, 0, NULL, NULL), PW_OK);
	}
	audits = fx_audit_ok(e->s);
	assert_int_equal(t_create(e, "https://z.example/h", NULL, 0, NULL, NULL),
	    PW_RESOURCE_EXHAUSTED);
	assert_int_equal(fx_audit_ok(e->s), audits);

	/* update: disable, types, description */
	{
		const char *one[] = { "session.failed" };
		t_ep p = { .merchant_id = e->merchant_id, .op = 1,
			.up = { .endpoint_id = id, .enable = 2, .set_types = true, .types = one,
			    .n_types = 1, .set_description = true, .description = "new" } };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		assert_int_equal(p.rec->state,
		    PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_DISABLED);
		assert_string_equal(p.rec->description, "new");
		assert_int_equal(p.rec->n_event_types, 1);
		assert_string_equal(p.rec->event_types[0], "session.failed");
		p.up = (store_endpoint_update_in){ .endpoint_id = id, .set_types = true, .types = bad,
			.n_types = 1 };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_INVALID_ARGUMENT);
		p.up = (store_endpoint_update_in){ .endpoint_id = "ep_nope", .enable = 1 };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_NOT_FOUND);
		p.up = (store_endpoint_update_in){ .endpoint_id = id, .enable = 1 };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		assert_int_equal(p.rec->state,
		    PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_ACTIVE);
		/* rotate: both secrets during the grace */
		p.op = 3;
		p.grace_ms = 60000;
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		assert_string_not_equal(p.secret, secret);
		assert_int_equal(p.rec->prev_expires_at_unix_ms, e->now_ms + 60000);
		store_notify_secrets sec;
		ep_rec *r = NULL;
		assert_int_equal(store_endpoint_get(e->s, e->merchant_id, id, &r, &sec), PW_OK);
		assert_string_equal(sec.current, p.secret);
		assert_true(sec.has_previous);
		assert_string_equal(sec.previous, secret);
		store_endpoint_free(r);
		e->now_ms += 60001; /* past the grace */
		assert_int_equal(store_endpoint_get(e->s, e->merchant_id, id, &r, &sec), PW_OK);
		assert_false(sec.has_previous);
		store_endpoint_free(r);
		p.grace_ms = PW_NOTIFY_GRACE_MS_MAX + 1;
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_INVALID_ARGUMENT);
		/* delete */
		p.op = 2;
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_NOT_FOUND);
		store_endpoint_free(p.rec);
	}
	fx_audit_ok(e->s);
}

typedef struct t_res {
	store_outbox_attempt a;
	bool disabled;
	int op;           /* 0 result, 1 retry, 2 replay */
	const char *merchant_id;
	const char *msg_id;
	int64_t since_ms;
	const char *endpoint_id;
	store_replay_result replay;
	ob_rec *rec;
	char why[256];
} t_res;

static pw_status
t_res_apply(store_txn *t, void *arg)
{
	t_res *r = arg;

	if (r->rec != NULL) {
		paywire__store__v1__outbox_message_record__free_unpacked(r->rec, NULL);
		r->rec = NULL;
	}
	switch (r->op) {
	case 0:
		return store_outbox_result(t, &r->a, &r->disabled);
	case 1:
		return store_outbox_retry(t, r->merchant_id, r->msg_id, &r->rec, r->why,
		    sizeof(r->why));
	default:
		return store_notify_replay(t, r->merchant_id, r->since_ms, r->endpoint_id, &r->replay,
		    r->why, sizeof(r->why));
	}
}

static pw_status
t_res_run(fx_env *e, t_res *r)
{
	pw_status st = store_apply_sync(e->s, t_res_apply, r);

	if (r->rec != NULL) {
		paywire__store__v1__outbox_message_record__free_unpacked(r->rec, NULL);
		r->rec = NULL;
	}
	return st;
}

static ep_rec *
t_ep_get(fx_env *e, const char *id)
{
	ep_rec *r = NULL;

	assert_int_equal(store_endpoint_get(e->s, e->merchant_id, id, &r, NULL), PW_OK);
	return r;
}

/* store_outbox_skip_fn: skips the endpoint named by arg. */
static bool
t_skip_ep(const char *endpoint_id, const char *msg_id, void *arg)
{
	(void) msg_id;
	return strcmp(endpoint_id, (const char *) arg) == 0;
}

static void
t_outbox(void **state)
{
	fx_env *e = *state;
	const char *paid[] = { "session.paid" };
	char a[STORE_NOTIFY_ID_BYTES];
	char b[STORE_NOTIFY_ID_BYTES];
	ob_rec **due = NULL;
	size_t n = 0;
	int64_t next = 0;

	assert_int_equal(t_create(e, "https://a.example/h", NULL, 0, a, NULL), PW_OK);
	assert_int_equal(t_create(e, "https://b.example/h", paid, 1, b, NULL), PW_OK);
	assert_int_equal(t_outbox_n(e, false), 0); /* endpoint.created tells nobody */

	/* a change that rolls back leaves no message */
	t_audit rb = { .merchant_id = e->merchant_id, .action = "session.paid", .fail_after = true };
	assert_int_equal(store_apply_sync(e->s, t_audit_apply, &rb), PW_INVALID_ARGUMENT);
	assert_int_equal(t_outbox_n(e, false), 0);

	/* session.paid: both endpoints; credits.deducted: a only; session.created: none */
	t_audit ok = { .merchant_id = e->merchant_id, .action = "session.paid" };
	assert_int_equal(store_apply_sync(e->s, t_audit_apply, &ok), PW_OK);
	ok.action = "credits.deducted";
	assert_int_equal(store_apply_sync(e->s, t_audit_apply, &ok), PW_OK);
	ok.action = "session.created";
	assert_int_equal(store_apply_sync(e->s, t_audit_apply, &ok), PW_OK);
	ok.merchant_id = "mer_other"; /* another merchant's change */
	ok.action = "session.paid";
	assert_int_equal(store_apply_sync(e->s, t_audit_apply, &ok), PW_OK);
	assert_int_equal(t_outbox_n(e, false), 3);

	assert_int_equal(store_outbox_due(e->s, e->now_ms, 64, NULL, NULL, &due, &n, &next), PW_OK);
	assert_int_equal(n, 3);
	size_t to_b = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strncmp(due[i]->msg_id, "msg_", 4), 0);
		assert_non_null(strstr(due[i]->payload, "\"type\":\""));
		assert_non_null(strstr(due[i]->payload, "\"data\":{\"merchant_id\":\""));
		assert_non_null(strstr(due[i]->payload, "\"session_id\":\"cs_test\""));
		to_b += strcmp(due[i]->endpoint_id, b) == 0;
		if (strcmp(due[i]->endpoint_id, b) == 0) {
			assert_string_equal(due[i]->event_type, "session.paid");
		}
	}
	assert_int_equal(to_b, 1);
	store_outbox_list_free(due, n);
	/* the worker's filter: a busy endpoint's messages are passed over, the others found */
	assert_int_equal(store_outbox_due(e->s, e->now_ms, 64, t_skip_ep, b, &due, &n, &next), PW_OK);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(due[i]->endpoint_id, a);
	}
	store_outbox_list_free(due, n);
	assert_int_equal(store_outbox_due(e->s, e->now_ms, 64, NULL, NULL, &due, &n, &next), PW_OK);

	/* results: delivered leaves; failed moves its due time; no retry left: dead */
	char m0[STORE_NOTIFY_ID_BYTES];
	char m1[STORE_NOTIFY_ID_BYTES];
	char m2[STORE_NOTIFY_ID_BYTES];
	/* m2: b's message (kept for the 410 below); m0, m1: a's */
	for (size_t i = 0, k = 0; i < n; i++) {
		if (strcmp(due[i]->endpoint_id, b) == 0) {
			strcpy(m2, due[i]->msg_id);
		} else {
			strcpy(k++ == 0 ? m0 : m1, due[i]->msg_id);
		}
	}
	store_outbox_list_free(due, n);
	/* not due yet: nothing, and the next due time */
	t_res r = { .a = { .msg_id = m0, .outcome = STORE_OUTBOX_DELIVERED,
		.attempt_at_ms = e->now_ms, .http_status = 200 } };
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_int_equal(t_res_run(e, &r), PW_NOT_FOUND); /* done already */
	assert_int_equal(t_outbox_n(e, false), 2);
	r.a = (store_outbox_attempt){ .msg_id = m1, .outcome = STORE_OUTBOX_FAILED,
		.attempt_at_ms = e->now_ms, .http_status = 500, .error = "HTTP 500",
		.retry_at_ms = e->now_ms + 5000, .disable_after_ms = PW_NOTIFY_DISABLE_AFTER_MS };
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_false(r.disabled);
	assert_int_equal(store_outbox_due(e->s, e->now_ms, 64, NULL, NULL, &due, &n, &next), PW_OK);
	assert_int_equal(n, 1); /* m2 only */
	assert_string_equal(due[0]->msg_id, m2);
	assert_int_equal(next, e->now_ms + 5000);
	store_outbox_list_free(due, n);
	assert_int_equal(store_outbox_due(e->s, e->now_ms + 5000, 64, NULL, NULL, &due, &n, &next), PW_OK);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(due[i]->msg_id, m1) == 0) {
			assert_int_equal(due[i]->attempts, 1);
			assert_int_equal(due[i]->last_status, 500);
			assert_string_equal(due[i]->last_error, "HTTP 500");
		}
	}
	store_outbox_list_free(due, n);
	/* retries exhausted: a dead letter */
	r.a.retry_at_ms = 0;
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_int_equal(t_outbox_n(e, false), 1);
	assert_int_equal(t_outbox_n(e, true), 1);
	/* a dead letter back in the outbox; another merchant's id is not found */
	r.op = 1;
	r.merchant_id = "mer_other";
	r.msg_id = m1;
	assert_int_equal(t_res_run(e, &r), PW_NOT_FOUND);
	r.merchant_id = e->merchant_id;
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_int_equal(t_res_run(e, &r), PW_NOT_FOUND);
	assert_int_equal(t_outbox_n(e, false), 2);
	assert_int_equal(t_outbox_n(e, true), 0);

	/* 410 Gone: dead, the endpoint disabled, the others told endpoint.disabled */
	ob_rec **l = NULL;
	bool more = false;
	assert_int_equal(store_outbox_list(e->s, e->merchant_id, false, b, 10, &l, &n, &more), PW_OK);
	store_outbox_list_free(l, n);
	assert_int_equal(n, 1);
	r.op = 0;
	r.a = (store_outbox_attempt){ .msg_id = m2, .outcome = STORE_OUTBOX_GONE,
		.attempt_at_ms = e->now_ms, .http_status = 410, .error = "HTTP 410" };
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_true(r.disabled);
	ep_rec *eb = t_ep_get(e, b);
	assert_int_equal(eb->state, PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_DISABLED);
	assert_non_null(strstr(eb->disabled_reason, "410"));
	store_endpoint_free(eb);
	assert_int_equal(store_outbox_list(e->s, e->merchant_id, false, a, 10, &l, &n, &more), PW_OK);
	bool told = false;
	for (size_t i = 0; i < n; i++) {
		told = told || strcmp(l[i]->event_type, "endpoint.disabled") == 0;
	}
	store_outbox_list_free(l, n);
	assert_true(told);
	/* a dead letter of a disabled endpoint is not retried */
	r.op = 1;
	r.msg_id = m2;
	assert_int_equal(t_res_run(e, &r), PW_FAILED_PRECONDITION);

	/* failing for days with no success: disabled */
	assert_int_equal(store_outbox_list(e->s, e->merchant_id, false, a, 10, &l, &n, &more), PW_OK);
	assert_true(n >= 1);
	strcpy(m0, l[0]->msg_id);
	store_outbox_list_free(l, n);
	r.op = 0;
	r.a = (store_outbox_attempt){ .msg_id = m0, .outcome = STORE_OUTBOX_FAILED,
		.attempt_at_ms = e->now_ms, .http_status = 0, .error = "connect refused",
		.retry_at_ms = e->now_ms + 1000, .disable_after_ms = 3600000 };
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_false(r.disabled);
	e->now_ms += 3600000;
	r.a.attempt_at_ms = e->now_ms;
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_true(r.disabled);
	ep_rec *ea = t_ep_get(e, a);
	assert_int_equal(ea->state, PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_STATE__NOTIFY_ENDPOINT_STATE_DISABLED);
	store_endpoint_free(ea);

	/* replay: re-enabled, the events since T0 come back with the same ids */
	{
		t_ep p = { .merchant_id = e->merchant_id, .op = 1,
			.up = { .endpoint_id = a, .enable = 1 } };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		store_endpoint_free(p.rec);
	}
	size_t dead_before = t_outbox_n(e, true);
	r.op = 2;
	r.since_ms = T_T0_MS;
	r.endpoint_id = a;
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_true(r.replay.enqueued >= 2);
	assert_false(r.replay.has_more);
	assert_true(t_outbox_n(e, true) < dead_before); /* replayed dead letters leave the list */
	assert_int_equal(store_outbox_list(e->s, e->merchant_id, false, a, 100, &l, &n, &more), PW_OK);
	bool again = false;
	for (size_t i = 0; i < n; i++) {
		again = again || strcmp(l[i]->msg_id, m1) == 0; /* the same webhook-id */
	}
	store_outbox_list_free(l, n);
	assert_true(again);
	r.endpoint_id = "ep_nope";
	assert_int_equal(t_res_run(e, &r), PW_NOT_FOUND);

	/* a deleted endpoint's messages go dead when met */
	{
		t_ep p = { .merchant_id = e->merchant_id, .op = 2, .up = { .endpoint_id = a } };
		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		store_endpoint_free(p.rec);
	}
	r.op = 0;
	r.a = (store_outbox_attempt){ .msg_id = m1, .outcome = STORE_OUTBOX_SKIPPED,
		.attempt_at_ms = e->now_ms };
	assert_int_equal(t_res_run(e, &r), PW_OK);
	assert_int_equal(store_outbox_list(e->s, e->merchant_id, true, a, 100, &l, &n, &more), PW_OK);
	bool gone = false;
	for (size_t i = 0; i < n; i++) {
		gone = gone || (strcmp(l[i]->msg_id, m1) == 0 &&
		    strcmp(l[i]->last_error, "endpoint deleted") == 0);
	}
	store_outbox_list_free(l, n);
	assert_true(gone);
	fx_audit_ok(e->s);
}

/* Each kind's url: an https URL, an address, a chat id; an EMAIL and a
 * TELEGRAM endpoint are kept like a WEBHOOK one (their secrets unused). */
static void
t_kinds(void **state)
{
	fx_env *e = *state;
	char why[256];
	static const struct {
		Paywire__Store__V1__NotifyEndpointKind kind;
		const char *url;
		bool ok;
	} cases[] = {
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL, "ops@shop.example", true },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL, "a@b@c.example", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL, "@shop.example", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL, "ops@", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL, "Ops <ops@shop.example>", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL, "ops@shop.example\r\nBcc: x@y.example", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "12345", true },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "-1001234567890", true },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "@shop_alerts", true },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "@shop", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "12a", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "-", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM, "123456789012345678901", false },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK, "https://x.example/h", true },
		{ PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_WEBHOOK, "ops@shop.example", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pw_status st = store_notify_target_check(cases[i].kind, cases[i].url, why, sizeof(why));
		if ((st == PW_OK) != cases[i].ok) {
			fail_msg("kind %d url '%s': %s", (int) cases[i].kind, cases[i].url,
			    st == PW_OK ? "accepted" : why);
		}
	}
	for (int k = 0; k < 2; k++) {
		t_ep p = { .merchant_id = e->merchant_id, .op = 0,
			.in = { .kind = k == 0 ? PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_EMAIL
			                       : PAYWIRE__STORE__V1__NOTIFY_ENDPOINT_KIND__NOTIFY_ENDPOINT_KIND_TELEGRAM,
			    .url = k == 0 ? "ops@shop.example" : "-1001234567890" } };
		ep_rec **list = NULL;
		size_t n = 0;

		assert_int_equal(store_apply_sync(e->s, t_ep_apply, &p), PW_OK);
		assert_int_equal((int) p.rec->kind, (int) p.in.kind);
		assert_string_equal(p.rec->url, p.in.url);
		store_endpoint_free(p.rec);
		assert_int_equal(store_endpoint_list(e->s, e->merchant_id, &list, &n), PW_OK);
		assert_int_equal(n, (size_t) k + 1);
		store_endpoint_list_free(list, n);
	}
	fx_audit_ok(e->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_endpoints, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(t_outbox, t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(t_kinds, t_setup, fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
