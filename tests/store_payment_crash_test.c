/*
 * store_payment_crash_test.c - a payment is all or nothing, even when the
 * process dies in the middle of it.
 *
 * A child process opens the store and applies a SUCCEEDED event with
 * PAYWIRE_CRASHPOINT set to a point inside store_webhook_apply or the
 * writer's commit; it must abort there. The parent then reopens the store:
 * before the commit nothing at all is there (session unpaid, no invoice, no
 * entitlement, no event record, no audit record), and the provider's
 * redelivery applies cleanly exactly once. After the commit everything is
 * there and the redelivery is a DUPLICATE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "store_fixture.h"

#define ST(x) PAYWIRE__STORE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define OUT(x) PAYWIRE__STORE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x

typedef struct t_env {
	fx_env fx;         /* first: the shared set-up (data dir, setup merchant) */
	char sid[64];      /* the session the event pays */
	store_counts base; /* counts before any payment */
} t_env;

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "payment_crash", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL, .open = true, .merchant_name = "Acme",
		.merchant_mode = PAYWIRE__STORE__V1__MODE__MODE_TEST, .env_bytes = sizeof(t_env) };
	store_session_params req = { 0 };
	Paywire__Store__V1__Fulfillment f = PAYWIRE__STORE__V1__FULFILLMENT__INIT;
	fx_session c = { .req = &req, .hash = { 1 } };
	t_env *e;

	assert_int_equal(0, fx_env_setup(state, &cfg));
	e = *state;
	req.amount_minor = 4900;
	req.currency = "EUR";
	req.mode = PAYWIRE__STORE__V1__MODE__MODE_TEST;
	req.customer_email = "ada@example.com";
	f.kind = PAYWIRE__STORE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f.plan = "pro";
	req.fulfillment = &f;
	c.merchant_id = e->fx.merchant_id;
	assert_int_equal(PW_OK, store_apply_sync(e->fx.s, fx_session_apply, &c));
	strcpy(e->sid, c.rec->session->id);
	fx_session_free(&c);
	assert_int_equal(PW_OK, store_counts_get(e->fx.s, &e->base));
	fx_store_close(&e->fx); /* no thread may run when we fork */
	return 0;
}

static void
t_event(const t_env *e, pw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->provider = PW_PROVIDER_STRIPE;
	ev->kind = PW_EV_PAYMENT_SUCCEEDED;
	strcpy(ev->event_id, "evt_crash_1");
	strcpy(ev->event_type, "checkout.session.completed");
	strcpy(ev->session_ref, e->sid);
	ev->has_amount = true;
	ev->amount_minor = 4900;
	strcpy(ev->currency, "EUR");
	ev->live = 0;
	strcpy(ev->payment_ref, "pi_crash");
	strcpy(ev->order_ref, "cs_test_crash");
}

static pw_status
t_deliver(store *s, const t_env *e, store_webhook_result *res)
{
	pw_event ev;
	fx_webhook a = { .ev = &ev };
	pw_status st;

	t_event(e, &ev);
	st = store_apply_sync(s, fx_webhook_apply, &a);
	*res = a.res;
	return st;
}

/* Forks a child that delivers the event with PAYWIRE_CRASHPOINT=spec and
 * asserts it died of SIGABRT. */
static void
t_crash_child(const t_env *e, const char *spec)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		store_webhook_result res;
		store *s;

		setrlimit(RLIMIT_CORE, &no_core);
		setenv("PAYWIRE_CRASHPOINT", spec, 1);
		s = fx_store_new(&e->fx);
		(void) t_deliver(s, e, &res);
		store_close(s);
		_exit(0); /* reached only if the crash point never fired */
	}
	assert_int_equal(pid, waitpid(pid, &status, 0));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fail_msg("crash point %s did not abort the child (status 0x%x)", spec, status);
	}
}

/* Nothing of the payment is in the store. */
static void
t_assert_untouched(const t_env *e, const char *spec)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	store_counts c;
	store *s = fx_store_new(&e->fx);

	assert_int_equal(PW_OK, store_counts_get(s, &c));
	if (memcmp(&c, &e->base, sizeof(c)) != 0) {
		fail_msg("after %s: counts moved (invoices %llu, entitlements %llu, events %llu, "
		         "audit %llu)",
		    spec, (unsigned long long) c.invoices, (unsigned long long) c.entitlements,
		    (unsigned long long) c.events, (unsigned long long) c.audit);
	}
	assert_int_equal(PW_OK, store_session_get(s, e->sid, &rec));
	assert_int_equal(ST(CREATED), rec->session->status);
	assert_int_equal(0, rec->session->paid_at_unix_ms);
	assert_int_equal(0, rec->invoice_number);
	assert_string_equal("", rec->access_key_id);
	assert_string_equal("", rec->access_link);
	assert_int_equal(0, rec->n_refs);
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	store_close(s);
}

static void
t_assert_paid_once(const t_env *e, store *s)
{
	Paywire__Store__V1__SessionRecord *rec = NULL;
	store_counts c;

	assert_int_equal(PW_OK, store_counts_get(s, &c));
	assert_int_equal(e->base.invoices + 1, c.invoices);
	assert_int_equal(e->base.entitlements + 1, c.entitlements);
	assert_int_equal(e->base.events + 1, c.events);
	assert_int_equal(e->base.audit + 1, c.audit);
	assert_int_equal(PW_OK, store_session_get(s, e->sid, &rec));
	assert_int_equal(ST(PAID), rec->session->status);
	assert_int_equal(1, rec->invoice_number);
	assert_int_equal(2, rec->n_refs);
	assert_int_equal(0, strncmp(rec->access_link, "/access/", 8));
	paywire__store__v1__session_record__free_unpacked(rec, NULL);
	fx_audit_ok(s);
}

static void
test_crash_before_commit_leaves_nothing_and_redelivery_applies_once(void **state)
{
	t_env *e = *state;
	const char *specs[] = {
		"store.after_dedup",
		"store.between_effects",
		"store.between_effects:2",
		"store.between_effects:3",
		"store.between_effects:4",
		"store.between_effects:5",
		"store.between_effects:6",
		"store.between_effects:7",
		"store.before_commit",
	};
	store_webhook_result res;
	store *s;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		t_crash_child(e, specs[i]);
		t_assert_untouched(e, specs[i]);
	}
	s = fx_store_new(&e->fx);
	assert_int_equal(PW_OK, t_deliver(s, e, &res));
	assert_int_equal(OUT(APPLIED), res.outcome);
	assert_int_equal(1, res.invoice_number);
	t_assert_paid_once(e, s);
	assert_int_equal(PW_OK, t_deliver(s, e, &res));
	assert_int_equal(OUT(DUPLICATE), res.outcome);
	t_assert_paid_once(e, s);
	store_close(s);
}

static void
test_crash_after_commit_keeps_everything_and_redelivery_is_duplicate(void **state)
{
	t_env *e = *state;
	store_webhook_result res;
	store *s;

	t_crash_child(e, "store.after_commit");
	s = fx_store_new(&e->fx);
	t_assert_paid_once(e, s);
	assert_int_equal(PW_OK, t_deliver(s, e, &res));
	assert_int_equal(OUT(DUPLICATE), res.outcome);
	assert_string_equal(e->sid, res.session_id);
	assert_int_equal(ST(PAID), res.session_status);
	t_assert_paid_once(e, s);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_crash_before_commit_leaves_nothing_and_redelivery_applies_once, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(
		    test_crash_after_commit_keeps_everything_and_redelivery_is_duplicate, t_setup,
		    fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
