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

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"

typedef struct t_env {
	char root[64]; /* mkdtemp directory */
	char dir[128]; /* root/data */
} t_env;

static int
t_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

static int
t_setup(void **state)
{
	t_env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	assert_int_equal(0, pw_common_init());
	strcpy(e->root, "/tmp/pw_store_crash_XXXXXX");
	assert_non_null(mkdtemp(e->root));
	snprintf(e->dir, sizeof(e->dir), "%s/data", e->root);
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

static pw_status
t_merchant_apply(store_txn *t, void *arg)
{
	Paywire__V1__MerchantRecord *m = NULL;
	char key[128];
	pw_status st;

	(void) arg;
	st = store_merchant_create(t, "Crashy", PAYWIRE__V1__MODE__MODE_TEST, &m, key, sizeof(key));
	if (m != NULL) {
		paywire__v1__merchant_record__free_unpacked(m, NULL);
	}
	return st;
}

/* The child: opens the store, creates `writes` merchants one after another
 * with the crash point armed. Exit 0 means the crash point never fired. */
static _Noreturn void
t_child(const char *dir, const char *crashpoint, int writes)
{
	struct rlimit no_core = { 0, 0 };
	store_opts o = { .dir = dir, .map_size_bytes = 16u << 20, .sync = STORE_SYNC_FULL };
	store *s = NULL;

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGABRT, SIG_DFL);
	setenv("PAYWIRE_CRASHPOINT", crashpoint, 1);
	if (store_open(&s, &o) != PW_OK) {
		_exit(2);
	}
	for (int i = 0; i < writes; i++) {
		if (store_apply_sync(s, t_merchant_apply, NULL) != PW_OK) {
			_exit(3);
		}
	}
	store_close(s);
	_exit(0);
}

/* Runs the child and checks it died of SIGABRT at the crash point. */
static void
t_run_child(t_env *e, const char *crashpoint, int writes)
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		t_child(e->dir, crashpoint, writes);
	}
	assert_int_equal(pid, waitpid(pid, &status, 0));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(SIGABRT, WTERMSIG(status));
}

/* Reopens the store in the parent; returns the merchant count and checks
 * the store is healthy and its audit chain intact. */
static uint64_t
t_merchants_after(t_env *e)
{
	store_opts o = { .dir = e->dir, .map_size_bytes = 16u << 20, .sync = STORE_SYNC_FULL };
	Paywire__V1__VerifyAuditResponse *v = NULL;
	store *s = NULL;
	store_counts c;

	assert_int_equal(PW_OK, store_open(&s, &o));
	assert_false(store_failed(s));
	assert_int_equal(PW_OK, store_counts_get(s, &c));
	assert_int_equal(PW_OK, store_audit_verify(s, &v));
	assert_true(v->ok);
	assert_int_equal(c.merchants, v->records); /* one audit record per merchant */
	paywire__v1__verify_audit_response__free_unpacked(v, NULL);
	/* and the store still takes writes */
	assert_int_equal(PW_OK, store_apply_sync(s, t_merchant_apply, NULL));
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
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit_keeps_the_write, t_setup,
		    t_teardown),
		cmocka_unit_test_setup_teardown(test_crash_before_the_third_commit_keeps_the_first_two,
		    t_setup, t_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
