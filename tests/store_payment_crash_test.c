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

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"

#define ST(x) PAYWIRE__V1__SESSION_STATUS__SESSION_STATUS_##x
#define OUT(x) PAYWIRE__V1__WEBHOOK_OUTCOME__WEBHOOK_OUTCOME_##x

typedef struct t_env {
	char root[64];        /* mkdtemp directory */
	char dir[128];        /* root/data */
	char merchant_id[64]; /* merchant created in setup */
	char sid[64];         /* the session the event pays */
	store_counts base;    /* counts before any payment */
} t_env;

static int
t_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static store *
t_open(const t_env *e)
{
	store_opts o = { .dir = e->dir, .map_size_bytes = 16u << 20, .sync = STORE_SYNC_FULL };
	store *s = NULL;

	assert_int_equal(PW_OK, store_open(&s, &o));
	return s;
}

typedef struct t_merchant {
	Paywire__V1__MerchantRecord *rec; /* out */
	char key[128];                    /* out */
} t_merchant;

static pw_status
t_merchant_apply(store_txn *t, void *arg)
{
	t_merchant *m = arg;
	return store_merchant_create(t, "Acme", PAYWIRE__V1__MODE__MODE_TEST, &m->rec, m->key,
	    sizeof(m->key));
}

typedef struct t_create {
	const char *merchant_id;         /* in */
	Paywire__V1__SessionRecord *rec; /* out */
} t_create;

static pw_status
t_create_apply(store_txn *t, void *arg)
{
	t_create *c = arg;
	Paywire__V1__CreateSessionRequest req = PAYWIRE__V1__CREATE_SESSION_REQUEST__INIT;
	Paywire__V1__Fulfillment f = PAYWIRE__V1__FULFILLMENT__INIT;
	uint8_t hash[32] = { 1 };

	req.amount_minor = 4900;
	req.currency = "EUR";
	req.mode = PAYWIRE__V1__MODE__MODE_TEST;
	req.customer_email = "ada@example.com";
	f.kind = PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY;
	f.plan = "pro";
	req.fulfillment = &f;
	return store_session_create(t, c->merchant_id, &req, hash, NULL, &c->rec);
}

static int
t_setup(void **state)
{
	t_env *e = calloc(1, sizeof(*e));
	t_merchant m = { 0 };
	t_create c = { 0 };
	store *s;

	assert_non_null(e);
	assert_int_equal(0, pw_common_init());
	strcpy(e->root, "/tmp/pw_payment_crash_XXXXXX");
	assert_non_null(mkdtemp(e->root));
	snprintf(e->dir, sizeof(e->dir), "%s/data", e->root);
	s = t_open(e);
	assert_int_equal(PW_OK, store_apply_sync(s, t_merchant_apply, &m));
	strcpy(e->merchant_id, m.rec->merchant_id);
	paywire__v1__merchant_record__free_unpacked(m.rec, NULL);
	c.merchant_id = e->merchant_id;
	assert_int_equal(PW_OK, store_apply_sync(s, t_create_apply, &c));
	strcpy(e->sid, c.rec->session->id);
	paywire__v1__session_record__free_unpacked(c.rec, NULL);
	assert_int_equal(PW_OK, store_counts_get(s, &e->base));
	store_close(s); /* no thread may run when we fork */
	*state = e;
	return 0;
}

static int
t_teardown(void **state)
{
	t_env *e = *state;
	nftw(e->root, t_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(e);
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

typedef struct t_apply {
	const pw_event *ev;       /* in */
	store_webhook_result res; /* out */
} t_apply;

static pw_status
t_apply_cb(store_txn *t, void *arg)
{
	t_apply *a = arg;
	return store_webhook_apply(t, a->ev, &a->res);
}

static pw_status
t_deliver(store *s, const t_env *e, store_webhook_result *res)
{
	pw_event ev;
	t_apply a = { .ev = &ev };
	pw_status st;

	t_event(e, &ev);
	st = store_apply_sync(s, t_apply_cb, &a);
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
		s = t_open(e);
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
	Paywire__V1__SessionRecord *rec = NULL;
	store_counts c;
	store *s = t_open(e);

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
	paywire__v1__session_record__free_unpacked(rec, NULL);
	store_close(s);
}

static void
t_assert_paid_once(const t_env *e, store *s)
{
	Paywire__V1__SessionRecord *rec = NULL;
	Paywire__V1__VerifyAuditResponse *v = NULL;
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
	paywire__v1__session_record__free_unpacked(rec, NULL);
	assert_int_equal(PW_OK, store_audit_verify(s, &v));
	assert_true(v->ok);
	paywire__v1__verify_audit_response__free_unpacked(v, NULL);
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
	s = t_open(e);
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
	s = t_open(e);
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
		    t_teardown),
		cmocka_unit_test_setup_teardown(
		    test_crash_after_commit_keeps_everything_and_redelivery_is_duplicate, t_setup,
		    t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
