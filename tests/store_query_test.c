/*
 * store_query_test.c - a merchant reads its own sessions and invoices
 * (store/store_query.c): GetSession (another merchant's is not found),
 * ListSessions newest first with a cursor, a status filter (as of now: a due
 * session lists as expired), a created range, isolation between merchants,
 * a bad cursor; GetInvoice and ListInvoices in number order with a cursor.
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
#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define N_SESS 7

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "query", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_NONE, .open = true, .clock_t0_ms = T_T0_MS,
		.merchant_name = "Acme", .merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_LIVE };
	return fx_env_setup(state, &cfg);
}

static void
t_session(fx_env *e, const char *merchant_id, int64_t amount, char *sid)
{
	store_session_params req = { 0 };
	fx_session c = { .merchant_id = merchant_id, .req = &req };

	req.amount_minor = amount;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_email = "ada@example.com";
	req.expires_at_unix_ms = e->now_ms + 3600 * 1000;
	randombytes_buf(c.hash, sizeof(c.hash));
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_session_apply, &c));
	strcpy(sid, c.rec->session->id);
	fx_session_free(&c);
}

static void
t_pay(fx_env *e, const char *sid, int64_t amount)
{
	fx_webhook w;
	pw_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.provider = PW_PROVIDER_STRIPE;
	ev.kind = PW_EV_PAYMENT_SUCCEEDED;
	snprintf(ev.event_id, sizeof(ev.event_id), "evt_%u", ++e->seq);
	snprintf(ev.event_type, sizeof(ev.event_type), "checkout.session.completed");
	snprintf(ev.session_ref, sizeof(ev.session_ref), "%s", sid);
	snprintf(ev.payment_ref, sizeof(ev.payment_ref), "pi_%u", e->seq);
	ev.live = 0;
	ev.has_amount = true;
	ev.amount_minor = amount;
	snprintf(ev.currency, sizeof(ev.currency), "EUR");
	ev.event_unix_s = e->now_ms / 1000;
	w = (fx_webhook){ .ev = &ev };
	assert_int_equal(PW_OK, store_apply_sync(e->s, fx_webhook_apply, &w));
}

/* Lists with f and checks the ids, in order, against want[0..n). */
static void
t_list_is(fx_env *e, const char *merchant_id, store_session_filter *f, char (*want)[64],
    size_t n, bool more)
{
	Paywire__Store__V1__SessionRecord **list = NULL;
	char next[PW_SESSION_ID_BYTES_MAX];
	bool has_more = !more;
	size_t got = 0;

	assert_int_equal(PW_OK, store_sessions_list(e->s, merchant_id, f, &list, &got, &has_more,
	    next, sizeof(next)));
	assert_int_equal(n, got);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(want[i], list[i]->session->id);
	}
	assert_int_equal(more, has_more);
	if (more) {
		assert_string_equal(want[n - 1], next);
	}
	store_session_list_free(list, got);
}

static void
test_sessions_newest_first_with_cursor_filters_and_isolation(void **state)
{
	fx_env *e = *state;
	char other[FX_MERCHANT_ID_BYTES];
	char sid[N_SESS][64];
	char rev[N_SESS][64];
	char theirs[64];
	Paywire__Store__V1__SessionRecord *rec = NULL;
	Paywire__Store__V1__SessionRecord **list = NULL;
	store_session_filter f = { .limit = 3 };
	char next[PW_SESSION_ID_BYTES_MAX];
	bool more;
	size_t n;

	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	for (int i = 0; i < N_SESS; i++) {
		e->now_ms = T_T0_MS + i * 1000;
		t_session(e, e->merchant_id, 100 + i, sid[i]);
		strcpy(rev[N_SESS - 1 - i], sid[i]);
		if (i == 3) {
			t_session(e, other, 999, theirs); /* interleaved: never listed here */
		}
	}
	t_pay(e, sid[1], 101);
	t_pay(e, sid[4], 104);

	/* pages of 3, newest first: 6 5 4 | 3 2 1 | 0 */
	t_list_is(e, e->merchant_id, &f, rev, 3, true);
	f.starting_after = rev[2];
	t_list_is(e, e->merchant_id, &f, rev + 3, 3, true);
	f.starting_after = rev[5];
	t_list_is(e, e->merchant_id, &f, rev + 6, 1, false);

	/* status: paid ones only */
	{
		char paid[2][64];
		strcpy(paid[0], sid[4]);
		strcpy(paid[1], sid[1]);
		f = (store_session_filter){ .limit = 10,
			.status = ST(PAID) };
		t_list_is(e, e->merchant_id, &f, paid, 2, false);
	}
	/* created range, inclusive: sessions 2..4 */
	f = (store_session_filter){ .limit = 10, .created_from_ms = T_T0_MS + 2000,
		.created_to_ms = T_T0_MS + 4000 };
	t_list_is(e, e->merchant_id, &f, rev + 2, 3, false);

	/* as of now: an hour later the unpaid ones are due and list as expired */
	e->now_ms = T_T0_MS + 2 * 3600 * 1000;
	f = (store_session_filter){ .limit = 10, .status = ST(EXPIRED) };
	assert_int_equal(PW_OK, store_sessions_list(e->s, e->merchant_id, &f, &list, &n, &more, next,
	    sizeof(next)));
	assert_int_equal(N_SESS - 2, n);
	store_session_list_free(list, n);

	/* the other merchant sees its own only */
	f = (store_session_filter){ .limit = 10 };
	{
		char one[1][64];
		strcpy(one[0], theirs);
		t_list_is(e, other, &f, one, 1, false);
	}
	/* GetSession: mine, with its record; another merchant's: not found */
	assert_int_equal(PW_OK, store_session_get_for(e->s, e->merchant_id, sid[4], &rec));
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(1, rec->n_refs);
	assert_true(rec->invoice_number >= 1);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(PW_NOT_FOUND, store_session_get_for(e->s, other, sid[4], &rec));
	assert_null(rec);
	assert_int_equal(PW_NOT_FOUND, store_session_get_for(e->s, e->merchant_id, "", &rec));
	/* a cursor that is another merchant's session, or none: refused */
	f = (store_session_filter){ .limit = 10, .starting_after = theirs };
	assert_int_equal(PW_INVALID_ARGUMENT, store_sessions_list(e->s, e->merchant_id, &f, &list,
	    &n, &more, next, sizeof(next)));
	f.starting_after = "cs_nope";
	assert_int_equal(PW_INVALID_ARGUMENT, store_sessions_list(e->s, e->merchant_id, &f, &list,
	    &n, &more, next, sizeof(next)));
	f = (store_session_filter){ .limit = PW_LIST_LIMIT_MAX + 1 };
	assert_int_equal(PW_INVALID_ARGUMENT, store_sessions_list(e->s, e->merchant_id, &f, &list,
	    &n, &more, next, sizeof(next)));
}

static void
test_invoices_in_number_order_with_cursor(void **state)
{
	fx_env *e = *state;
	Paywire__Store__V1__InvoiceRecord **list = NULL;
	Paywire__Store__V1__InvoiceRecord *inv = NULL;
	char other[FX_MERCHANT_ID_BYTES];
	char sid[5][64];
	char theirs[64];
	bool more;
	size_t n;

	assert_int_equal(PW_OK, fx_merchant_add(e->s, "Other", PAYWIRE__STORE__V1__MODE__MODE_LIVE,
	    other, sizeof(other)));
	for (int i = 0; i < 5; i++) {
		t_session(e, e->merchant_id, 200 + i, sid[i]);
		t_pay(e, sid[i], 200 + i);
	}
	t_session(e, other, 999, theirs);
	t_pay(e, theirs, 999);
	assert_int_equal(PW_OK, store_invoice_get(e->s, e->merchant_id, 3, &inv));
	assert_int_equal(3, inv->number);
	assert_string_equal(sid[2], inv->session_id);
	assert_int_equal(202, inv->amount_minor);
	paywire__store__v1__invoice_record__free_unpacked(inv, NULL);
	assert_int_equal(PW_NOT_FOUND, store_invoice_get(e->s, e->merchant_id, 6, &inv));
	assert_int_equal(PW_NOT_FOUND, store_invoice_get(e->s, e->merchant_id, 0, &inv));
	/* the other merchant's invoice 1 is its own */
	assert_int_equal(PW_OK, store_invoice_get(e->s, other, 1, &inv));
	assert_string_equal(theirs, inv->session_id);
	paywire__store__v1__invoice_record__free_unpacked(inv, NULL);
	/* pages of 2: 1 2 | 3 4 | 5 */
	assert_int_equal(PW_OK, store_invoices_list(e->s, e->merchant_id, 0, 2, &list, &n, &more));
	assert_int_equal(2, n);
	assert_true(more);
	assert_int_equal(1, list[0]->number);
	assert_int_equal(2, list[1]->number);
	store_invoice_list_free(list, n);
	assert_int_equal(PW_OK, store_invoices_list(e->s, e->merchant_id, 4, 2, &list, &n, &more));
	assert_int_equal(1, n);
	assert_false(more);
	assert_int_equal(5, list[0]->number);
	store_invoice_list_free(list, n);
	assert_int_equal(PW_INVALID_ARGUMENT, store_invoices_list(e->s, e->merchant_id, 0, 0, &list,
	    &n, &more));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_sessions_newest_first_with_cursor_filters_and_isolation, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_invoices_in_number_order_with_cursor, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
