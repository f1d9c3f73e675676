/*
 * store_quarantine_test.c - verified webhooks paywire could not parse
 * (store/store_quarantine.c): kept byte for byte with their headers and
 * reason, ids that grow and are never reused, a retry's failure noted, a
 * successful retry removing the entry, listing with a cursor, the bound
 * (a full quarantine refuses and writes nothing) and bad input refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"
#include "store_internal.h"

#define T_T0_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "quarantine", .map_size_bytes = 64u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS };
	return fx_env_setup(state, &cfg);
}

typedef struct t_put {
	const char *body;            /* in */
	const char *reason;          /* in */
	size_t body_len;             /* in: 0: strlen(body) */
	size_t n_headers;            /* in: headers to keep (<= 2 real, more: repeats) */
	uint64_t id;                 /* out */
} t_put;

static pw_status
t_put_apply(store_txn *t, void *arg)
{
	static Paywire__Store__V1__QuarantineHeader hv[PW_WEBHOOK_HEADERS_MAX + 1];
	static Paywire__Store__V1__QuarantineHeader *hp[PW_WEBHOOK_HEADERS_MAX + 1];
	Paywire__Store__V1__QuarantinedEventRecord q = PAYWIRE__STORE__V1__QUARANTINED_EVENT_RECORD__INIT;
	t_put *p = arg;

	for (size_t i = 0; i < p->n_headers; i++) {
		paywire__store__v1__quarantine_header__init(&hv[i]);
		hv[i].name = i == 0 ? "stripe-signature" : "content-type";
		hv[i].value = i == 0 ? "t=1,v1=abc" : "application/json";
		hp[i] = &hv[i];
	}
	q.provider = PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE;
	q.body.data = (uint8_t *) p->body;
	q.body.len = p->body_len > 0 ? p->body_len : strlen(p->body);
	q.n_headers = p->n_headers;
	q.headers = hp;
	q.reason = (char *) p->reason;
	return store_quarantine_put(t, &q, &p->id);
}

typedef struct t_op {
	uint64_t id;        /* in */
	const char *reason; /* in: note; NULL: remove */
} t_op;

static pw_status
t_op_apply(store_txn *t, void *arg)
{
	t_op *o = arg;

	return o->reason != NULL ? store_quarantine_note(t, o->id, o->reason)
	                         : store_quarantine_remove(t, o->id);
}

static uint64_t
t_keep(fx_env *e, const char *body, const char *reason)
{
	t_put p = { .body = body, .reason = reason, .n_headers = 2 };

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &p));
	assert_true(p.id > 0);
	return p.id;
}

static void
test_an_unparseable_event_is_kept_byte_for_byte_with_its_headers(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__QuarantinedEventRecord *q = NULL;
	static const char body[] = "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\"}";
	uint64_t id = t_keep(e, body, "data.object is required");

	assert_int_equal(1, id);
	assert_int_equal(PW_OK, store_quarantine_get(e->s, id, &q));
	assert_int_equal(id, q->id);
	assert_int_equal(PAYWIRE__STORE__V1__PROVIDER__PROVIDER_STRIPE, q->provider);
	assert_int_equal(strlen(body), q->body.len);
	assert_memory_equal(body, q->body.data, q->body.len);
	assert_int_equal(2, q->n_headers);
	assert_string_equal("stripe-signature", q->headers[0]->name);
	assert_string_equal("t=1,v1=abc", q->headers[0]->value);
	assert_string_equal("data.object is required", q->reason);
	assert_int_equal(T_T0_MS, q->received_at_unix_ms);
	assert_int_equal(0, q->attempts);
	paywire__store__v1__quarantined_event_record__free_unpacked(q, NULL);
	assert_int_equal(PW_NOT_FOUND, store_quarantine_get(e->s, 2, &q));
	assert_null(q);
}

static void
test_a_failed_retry_is_noted_and_a_successful_one_removes_it_ids_never_reused(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__QuarantinedEventRecord *q = NULL;
	uint64_t a = t_keep(e, "{}", "first reason");
	uint64_t b = t_keep(e, "[]", "second reason");
	t_op note = { .id = a, .reason = "still: data.object is required" };
	t_op rm = { .id = b, .reason = NULL };

	e->now_ms += 60000;
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_op_apply, &note));
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_op_apply, &note));
	assert_int_equal(PW_OK, store_quarantine_get(e->s, a, &q));
	assert_string_equal("still: data.object is required", q->reason);
	assert_int_equal(2, q->attempts);
	assert_int_equal(T_T0_MS + 60000, q->last_attempt_unix_ms);
	assert_int_equal(T_T0_MS, q->received_at_unix_ms);
	paywire__store__v1__quarantined_event_record__free_unpacked(q, NULL);

	assert_int_equal(PW_OK, store_apply_sync(e->s, t_op_apply, &rm));
	assert_int_equal(PW_NOT_FOUND, store_quarantine_get(e->s, b, &q));
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_op_apply, &rm));
	note.id = b;
	assert_int_equal(PW_NOT_FOUND, store_apply_sync(e->s, t_op_apply, &note));
	/* the removed id is not given again */
	assert_int_equal(b + 1, t_keep(e, "{}", "third"));
}

static void
test_listing_is_oldest_first_with_a_cursor(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__QuarantinedEventRecord **list = NULL;
	uint64_t after = 0;
	uint64_t seen = 0;
	bool more = true;
	size_t n = 0;

	for (int i = 0; i < 5; i++) {
		(void) t_keep(e, "{}", "r");
	}
	while (more) {
		assert_int_equal(PW_OK, store_quarantine_list(e->s, after, 2, &list, &n, &more));
		assert_true(n <= 2);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(after + 1, list[i]->id);
			after = list[i]->id;
			seen++;
		}
		store_quarantine_free(list, n);
	}
	assert_int_equal(5, seen);
	assert_int_equal(PW_INVALID_ARGUMENT, store_quarantine_list(e->s, 0, 0, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    store_quarantine_list(e->s, 0, PW_LIST_LIMIT_MAX + 1, &list, &n, &more));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    store_quarantine_list(e->s, UINT64_MAX, 10, &list, &n, &more));
}

static void
test_a_full_quarantine_refuses_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	t_put p = { .body = "{}", .reason = "r", .n_headers = 1 };
	t_op rm = { .id = 7, .reason = NULL };
	Paywire__Store__V1__QuarantinedEventRecord **list = NULL;
	uint64_t txn;
	uint64_t after = 0;
	uint64_t kept = 0;
	bool more = true;
	size_t n = 0;

	for (int i = 0; i < PW_QUARANTINE_EVENTS_MAX; i++) {
		(void) t_keep(e, "{}", "r");
	}
	txn = store_last_txnid(e->s);
	assert_int_equal(PW_UNAVAILABLE, store_apply_sync(e->s, t_put_apply, &p));
	assert_int_equal(0, p.id);
	assert_int_equal(txn, store_last_txnid(e->s));
	while (more) {
		assert_int_equal(PW_OK, store_quarantine_list(e->s, after, PW_LIST_LIMIT_MAX, &list, &n,
		                            &more));
		kept += n;
		after = n > 0 ? list[n - 1]->id : after;
		store_quarantine_free(list, n);
	}
	assert_int_equal(PW_QUARANTINE_EVENTS_MAX, kept);
	/* one retried away: room for the next */
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_op_apply, &rm));
	assert_int_equal(PW_QUARANTINE_EVENTS_MAX + 1, t_keep(e, "{}", "r"));
}

static void
test_bad_input_is_refused_and_writes_nothing(void **state)
{
	fx_env *e = *state;
	char *big = malloc(PW_WEBHOOK_BODY_BYTES_MAX + 1);
	t_put p = { .body = "{}", .reason = "", .n_headers = 1 };
	Paywire__Store__V1__QuarantinedEventRecord **list = NULL;
	bool more = false;
	size_t n = 0;

	assert_non_null(big);
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &p));
	memset(big, ' ', PW_WEBHOOK_BODY_BYTES_MAX + 1);
	p = (t_put){ .body = big, .body_len = PW_WEBHOOK_BODY_BYTES_MAX + 1, .reason = "r",
		.n_headers = 1 };
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &p));
	p = (t_put){ .body = "{}", .reason = "r", .n_headers = PW_WEBHOOK_HEADERS_MAX + 1 };
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(e->s, t_put_apply, &p));
	/* the largest body is kept */
	p = (t_put){ .body = big, .body_len = PW_WEBHOOK_BODY_BYTES_MAX, .reason = "r",
		.n_headers = PW_WEBHOOK_HEADERS_MAX };
	assert_int_equal(PW_OK, store_apply_sync(e->s, t_put_apply, &p));
	assert_int_equal(1, p.id);
	assert_int_equal(PW_OK, store_quarantine_list(e->s, 0, 10, &list, &n, &more));
	assert_int_equal(1, n);
	assert_int_equal(PW_WEBHOOK_BODY_BYTES_MAX, list[0]->body.len);
	store_quarantine_free(list, n);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_an_unparseable_event_is_kept_byte_for_byte_with_its_headers, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_a_failed_retry_is_noted_and_a_successful_one_removes_it_ids_never_reused, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_listing_is_oldest_first_with_a_cursor, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_a_full_quarantine_refuses_and_writes_nothing,
		    t_setup, fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_is_refused_and_writes_nothing, t_setup,
		    fx_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
