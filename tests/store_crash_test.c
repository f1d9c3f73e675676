/*
 * store_crash_test.c - durability across a crash. A forked child opens the
 * store and writes with PAYWIRE_CRASHPOINT set, so it abort()s at that point
 * of the writer; the parent then reopens the store and checks what is there:
 * nothing before the commit, everything after it (the reply is only sent
 * after the commit, so a client never hears OK for a lost write).
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

#include "store_fixture.h"

static int
t_setup(void **state)
{
	const fx_cfg cfg = { .name = "store_crash", .map_size_bytes = 16u << 20,
		.sync = STORE_SYNC_FULL };
	return fx_env_setup(state, &cfg);
}

/* The child: opens the store, creates `writes` merchants one after another
 * with the crash point armed. Exit 0 means the crash point never fired. */
static _Noreturn void
t_child(const fx_env *e, const char *crashpoint, int writes)
{
	struct rlimit no_core = { 0, 0 };
	store *s = NULL;

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGABRT, SIG_DFL);
	setenv("PAYWIRE_CRASHPOINT", crashpoint, 1);
	if (store_open(&s, &e->opts) != PW_OK) {
		_exit(2);
	}
	for (int i = 0; i < writes; i++) {
		if (fx_merchant_add(s, "Crashy", PAYWIRE__STORE__V1__MODE__MODE_TEST, NULL, 0) != PW_OK) {
			_exit(3);
		}
	}
	store_close(s);
	_exit(0);
}

/* Runs the child and checks it died of SIGABRT at the crash point. */
static void
t_run_child(fx_env *e, const char *crashpoint, int writes)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		t_child(e, crashpoint, writes);
	}
	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(SIGABRT, WTERMSIG(status));
}

/* Reopens the store in the parent; returns the merchant count and checks
 * the store is healthy and its audit chain intact. */
static uint64_t
t_merchants_after(fx_env *e)
{
	store *s = fx_store_new(e);
	store_counts c;

	assert_false(store_failed(s));
	assert_int_equal(PW_OK, store_counts_get(s, &c));
	assert_int_equal(c.merchants, fx_audit_ok(s)); /* one audit record per merchant */
	/* and the store still takes writes */
	assert_int_equal(PW_OK,
	    fx_merchant_add(s, "Crashy", PAYWIRE__STORE__V1__MODE__MODE_TEST, NULL, 0));
	store_close(s);
	return c.merchants;
}

static bool
t_hooks_built(void)
{
#ifdef PW_TEST_HOOKS
	return true;
#else
	return false;
#endif
}

static void
test_crash_before_commit_keeps_nothing(void **state)
{
	if (!t_hooks_built()) {
		skip();
	}
	t_run_child(*state, "store.before_commit", 1);
	assert_int_equal(0, t_merchants_after(*state));
}

static void
test_crash_after_commit_keeps_the_write(void **state)
{
	if (!t_hooks_built()) {
		skip();
	}
	t_run_child(*state, "store.after_commit", 1);
	assert_int_equal(1, t_merchants_after(*state));
}

static void
test_crash_before_the_third_commit_keeps_the_first_two(void **state)
{
	if (!t_hooks_built()) {
		skip();
	}
	t_run_child(*state, "store.before_commit:3", 5);
	assert_int_equal(2, t_merchants_after(*state));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crash_before_commit_keeps_nothing, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit_keeps_the_write, t_setup,
		    fx_env_teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_the_third_commit_keeps_the_first_two,
		    t_setup, fx_env_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
