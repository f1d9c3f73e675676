/*
 * server_metrics_test.c - the metrics of issue 13 below the listener:
 * common/pw_metrics (histogram buckets, exact rendering, a text buffer that
 * refuses to overrun), common's JSON log lines (a message with quotes,
 * backslashes, control and non-ASCII bytes still gives one parsable line),
 * pw_log_safe_id, server/srv_metrics (the --metrics-listen address rule:
 * loopback or not, malformed values refused; counts by call and status from
 * 8 racing threads add up exactly).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pw_common.h"
#include "pw_metrics.h"
#include "srv_metrics.h"
#include "store_internal.h" /* store_fail: simulate an I/O error at commit */

static void
test_hist_buckets_and_render(void **state)
{
	pw_hist h;
	pw_hist_snap s;
	char buf[4096];
	pw_text t;

	(void) state;
	pw_hist_init(&h);
	pw_hist_observe(&h, &pw_hist_batch_size, 1);   /* le=1 */
	pw_hist_observe(&h, &pw_hist_batch_size, 3);   /* le=4 */
	pw_hist_observe(&h, &pw_hist_batch_size, 4);   /* le=4 */
	pw_hist_observe(&h, &pw_hist_batch_size, 600); /* +Inf only */
	memset(&s, 0, sizeof(s));
	pw_hist_snap_add(&s, &h);
	pw_text_init(&t, buf, sizeof(buf));
	pw_metrics_hist(&t, "x", "", &pw_hist_batch_size, &s);
	assert_false(t.overflow);
	assert_non_null(strstr(buf, "x_bucket{le=\"1\"} 1\n"));
	assert_non_null(strstr(buf, "x_bucket{le=\"2\"} 1\n"));
	assert_non_null(strstr(buf, "x_bucket{le=\"4\"} 3\n"));
	assert_non_null(strstr(buf, "x_bucket{le=\"512\"} 3\n"));
	assert_non_null(strstr(buf, "x_bucket{le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(buf, "x_sum 608\n"));
	assert_non_null(strstr(buf, "x_count 4\n"));

	pw_hist_init(&h);
	pw_hist_observe(&h, &pw_hist_latency_us, 1500000); /* 1.5 s: le=2.5 */
	memset(&s, 0, sizeof(s));
	pw_hist_snap_add(&s, &h);
	pw_text_init(&t, buf, sizeof(buf));
	pw_metrics_hist(&t, "y_seconds", "call=\"c\"", &pw_hist_latency_us, &s);
	assert_non_null(strstr(buf, "y_seconds_bucket{call=\"c\",le=\"1\"} 0\n"));
	assert_non_null(strstr(buf, "y_seconds_bucket{call=\"c\",le=\"2.5\"} 1\n"));
	assert_non_null(strstr(buf, "y_seconds_sum{call=\"c\"} 1.500000\n"));
}

static void
test_text_never_overruns(void **state)
{
	char buf[16];
	pw_text t;

	(void) state;
	memset(buf, 'Z', sizeof(buf));
	pw_text_init(&t, buf, 10);
	pw_text_printf(&t, "%s", "12345");
	assert_false(t.overflow);
	pw_text_printf(&t, "%s", "67890"); /* 10 bytes + NUL: does not fit */
	assert_true(t.overflow);
	assert_string_equal("12345", buf);
	assert_int_equal('Z', buf[10]);
	pw_text_printf(&t, "%s", "a"); /* after an overflow: nothing more */
	assert_string_equal("12345", buf);
}

/* Runs pw_log with stderr on a file; returns what it wrote (static). */
static const char *
logged(pw_log_format f, const char *msg)
{
	static char out[4096];
	char path[] = "/tmp/pw-metrics-test.XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);
	FILE *r;
	size_t n;

	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(2, dup2(fd, 2));
	pw_log_set_format(f);
	pw_log(PW_LOG_WARN, "%s", msg);
	pw_log_set_format(PW_LOG_TEXT);
	assert_int_equal(2, dup2(saved, 2));
	close(saved);
	close(fd);
	r = fopen(path, "r");
	assert_non_null(r);
	n = fread(out, 1, sizeof(out) - 1, r);
	out[n] = '\0';
	fclose(r);
	unlink(path);
	return out;
}

static void
test_json_log_lines(void **state)
{
	const char *l;

	(void) state;
	l = logged(PW_LOG_JSON, "a \"quoted\" back\\slash\nnew line \x01 caf\xc3\xa9");
	assert_int_equal('{', l[0]);
	assert_non_null(strstr(l, "\"level\":\"warn\",\"msg\":\"a \\\"quoted\\\" back\\\\slash"
	                          "\\u000anew line \\u0001 caf\\u00c3\\u00a9\"}\n"));
	assert_null(strchr(l, '\n') == l + strlen(l) - 1 ? NULL : "two lines");
	l = logged(PW_LOG_TEXT, "one\ntwo");
	assert_non_null(strstr(l, "warn  one two\n"));
	assert_true(strchr(l, '\n') == l + strlen(l) - 1);
}

static void
test_safe_id(void **state)
{
	char out[8];

	(void) state;
	pw_log_safe_id(out, sizeof(out), "ab c\"d");
	assert_string_equal("ab?c?d", out);
	pw_log_safe_id(out, sizeof(out), "0123456789");
	assert_string_equal("0123456", out); /* cut to the buffer */
	pw_log_safe_id(out, sizeof(out), "");
	assert_string_equal("-", out);
	pw_log_safe_id(out, sizeof(out), NULL);
	assert_string_equal("-", out);
}

static void
test_addr_rule(void **state)
{
	srv_metrics_addr a;

	(void) state;
	assert_true(srv_metrics_addr_parse("127.0.0.1:9450", &a));
	assert_true(a.loopback);
	assert_true(srv_metrics_addr_parse("127.8.9.10:1", &a));
	assert_true(a.loopback);
	assert_true(srv_metrics_addr_parse("localhost:65535", &a));
	assert_true(a.loopback);
	assert_true(srv_metrics_addr_parse("[::1]:9450", &a));
	assert_true(a.loopback);
	assert_true(srv_metrics_addr_parse("0.0.0.0:9450", &a));
	assert_false(a.loopback);
	assert_true(srv_metrics_addr_parse("10.1.2.3:9450", &a));
	assert_false(a.loopback);
	assert_true(srv_metrics_addr_parse("[::]:9450", &a));
	assert_false(a.loopback);
	assert_false(srv_metrics_addr_parse("127.0.0.1", &a));
	assert_false(srv_metrics_addr_parse("127.0.0.1:0", &a));
	assert_false(srv_metrics_addr_parse("127.0.0.1:65536", &a));
	assert_false(srv_metrics_addr_parse("127.0.0.1:+80", &a));
	assert_false(srv_metrics_addr_parse("127.0.0.1:80x", &a));
	assert_false(srv_metrics_addr_parse("::1:9450", &a));
	assert_false(srv_metrics_addr_parse("example.com:9450", &a));
	assert_false(srv_metrics_addr_parse("[::1:9450", &a));
	assert_false(srv_metrics_addr_parse(":9450", &a));
	assert_false(srv_metrics_addr_parse("", &a));
}

#define RACE_THREADS 8
#define RACE_EACH 20000

static void *
race_body(void *arg)
{
	srv_metrics *m = arg;

	for (int i = 0; i < RACE_EACH; i++) {
		srv_metrics_request(m, 11, "create_session", (i % 4) == 0 ? PW_INVALID_ARGUMENT : PW_OK,
		    (uint64_t) i);
		srv_metrics_webhook(m, PW_PROVIDER_STRIPE, SRV_METRICS_WH_APPLIED);
	}
	return NULL;
}

static void
test_counts_add_up_across_threads(void **state)
{
	srv_metrics *m = srv_metrics_new(NULL);
	pthread_t th[RACE_THREADS];
	char *buf = malloc(SRV_METRICS_TEXT_BYTES_MAX);
	char want[160];
	pw_text t;

	(void) state;
	assert_non_null(m);
	assert_non_null(buf);
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(0, pthread_create(&th[i], NULL, race_body, m));
	}
	for (int i = 0; i < RACE_THREADS; i++) {
		assert_int_equal(0, pthread_join(th[i], NULL));
	}
	srv_metrics_request(m, 9999, "bogus", PW_OK, 5); /* out of range: call "none" */
	pw_text_init(&t, buf, SRV_METRICS_TEXT_BYTES_MAX);
	srv_metrics_render(m, &t);
	assert_false(t.overflow);
	(void) snprintf(want, sizeof(want),
	    "paywire_server_requests_total{call=\"create_session\",code=\"OK\"} %d\n",
	    RACE_THREADS * RACE_EACH * 3 / 4);
	assert_non_null(strstr(buf, want));
	(void) snprintf(want, sizeof(want),
	    "paywire_server_requests_total{call=\"create_session\",code=\"INVALID_ARGUMENT\"} %d\n",
	    RACE_THREADS * RACE_EACH / 4);
	assert_non_null(strstr(buf, want));
	(void) snprintf(want, sizeof(want),
	    "paywire_server_request_duration_seconds_count{call=\"create_session\"} %d\n",
	    RACE_THREADS * RACE_EACH);
	assert_non_null(strstr(buf, want));
	(void) snprintf(want, sizeof(want),
	    "paywire_server_webhooks_total{provider=\"stripe\",outcome=\"applied\"} %d\n",
	    RACE_THREADS * RACE_EACH);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "paywire_server_requests_total{call=\"none\",code=\"OK\"} 1\n"));
	assert_null(strstr(buf, "bogus"));
	assert_null(strstr(buf, "paywire_store_")); /* no store given: no store series */
	assert_non_null(strstr(buf, "paywire_build_info{program=\"paywire-server\""));
	free(buf);
	srv_metrics_free(m);
}

/* The store's series from a real LMDB store: map size and use, reader
 * slots, queue depth, failed 0 then 1 after a (simulated) I/O error. */
/* An apply that writes, then fails: its batch's flat run is undone and run
 * again nested (store_writer.c). */
static pw_status
t_put_then_fail(store_txn *t, void *arg)
{
	static const uint8_t hash[32];
	pw_status st;

	(void) arg;
	st = store_reply_put(t, "test", "req-half", hash, (const uint8_t *) "x", 1);
	return st != PW_OK ? st : PW_INVALID_ARGUMENT;
}

static void
test_store_series(void **state)
{
	char dir[] = "/tmp/pw-metrics-store.XXXXXX";
	char *buf = malloc(SRV_METRICS_TEXT_BYTES_MAX);
	store_opts o;
	store *st = NULL;
	srv_metrics *m;
	pw_text t;
	char cmd[128];

	(void) state;
	assert_non_null(buf);
	assert_non_null(mkdtemp(dir));
	memset(&o, 0, sizeof(o));
	o.dir = dir;
	o.map_size_bytes = 64u * 1024u * 1024u;
	o.sync = STORE_SYNC_FULL;
	assert_int_equal(PW_OK, store_open(&st, &o));
	m = srv_metrics_new(st);
	assert_non_null(m);
	pw_text_init(&t, buf, SRV_METRICS_TEXT_BYTES_MAX);
	srv_metrics_render(m, &t);
	assert_non_null(strstr(buf, "\npaywire_store_failed 0\n"));
	assert_non_null(strstr(buf, "\npaywire_store_map_size_bytes 67108864\n"));
	assert_non_null(strstr(buf, "\npaywire_store_map_used_bytes "));
	assert_null(strstr(buf, "\npaywire_store_map_used_bytes 0\n")); /* the meta pages at least */
	assert_non_null(strstr(buf, "\npaywire_store_readers_max "));
	assert_non_null(strstr(buf, "\npaywire_store_queue_depth 0\n"));
	assert_non_null(strstr(buf, "\n# TYPE paywire_store_nested_reruns_total counter\n"
	    "paywire_store_nested_reruns_total 0\n"));
	assert_int_equal(PW_INVALID_ARGUMENT, store_apply_sync(st, t_put_then_fail, NULL));
	pw_text_init(&t, buf, SRV_METRICS_TEXT_BYTES_MAX);
	srv_metrics_render(m, &t);
	assert_non_null(strstr(buf, "\npaywire_store_nested_reruns_total 1\n"));
	assert_non_null(strstr(buf, "\npaywire_store_commit_duration_seconds_bucket{le=\"+Inf\"} "));
	assert_non_null(strstr(buf, "\npaywire_store_batch_size_count "));
	store_fail(st, "test: simulated I/O error at commit");
	pw_text_init(&t, buf, SRV_METRICS_TEXT_BYTES_MAX);
	srv_metrics_render(m, &t);
	assert_non_null(strstr(buf, "\npaywire_store_failed 1\n"));
	srv_metrics_free(m);
	store_close(st);
	free(buf);
	(void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(0, system(cmd));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets_and_render),
		cmocka_unit_test(test_text_never_overruns),
		cmocka_unit_test(test_json_log_lines),
		cmocka_unit_test(test_safe_id),
		cmocka_unit_test(test_addr_rule),
		cmocka_unit_test(test_counts_add_up_across_threads),
		cmocka_unit_test(test_store_series),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
