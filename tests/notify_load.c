/*
 * notify_load.c - the load of tests/integration/notify_test.sh: N session
 * changes, each a CreateSession (500 EUR, test mode) followed by its
 * CancelSession, so that every change makes one session.canceled event for
 * the merchant's endpoints. One process makes them all through libpaywire,
 * one after the other, like a merchant's service would; the test used to
 * start the CLI twice per change (2,000 process starts under ASan for the
 * 1,000-change load, most of the test's time).
 *
 * USAGE
 *   notify_load --server URL --count N
 * The merchant's API key comes from PAYWIRE_API_KEY (never argv, which
 * other users can read). A call refused by the merchant's rate limit
 * (PW_RESOURCE_EXHAUSTED with retry_after_ms) waits as the server asks and
 * is made again; any other error stops the load: exit 1 with the call, the
 * change's number and the server's message. Exit 2 for bad arguments. The
 * last line says how many changes were made.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <paywire/client.h>

/* The client's bound on one call: only a hang reaches it (as TW_HANG_MS in
 * tests/test_wait.h). */
#define NL_CALL_TIMEOUT_MS 120000
/* A load of more than this is a typo. */
#define NL_COUNT_MAX 1000000
/* Waits asked by the rate limiter, per change: more is a limiter that never
 * lets the load through. */
#define NL_LIMIT_WAITS_MAX 100

static void
nl_sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static int
usage(const char *why)
{
	fprintf(stderr, "notify_load: %s\nusage: notify_load --server URL --count N (PAYWIRE_API_KEY set)\n", why);
	return 2;
}

int
main(int argc, char **argv)
{
	const char *server = NULL;
	long long count = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			server = argv[++i];
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			count = strtoll(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || count < 0 || count > NL_COUNT_MAX) {
				return usage("--count: a whole number from 0 to 1000000");
			}
		} else {
			return usage("unknown argument");
		}
	}
	const char *key = getenv("PAYWIRE_API_KEY");
	if (server == NULL || count < 0) {
		return usage("--server and --count are required");
	}
	if (key == NULL || key[0] == '\0') {
		return usage("PAYWIRE_API_KEY is not set");
	}

	pw_client_opts opts;
	pw_client_opts_default(&opts);
	opts.timeout_ms = NL_CALL_TIMEOUT_MS;
	pw_client *c = NULL;
	pw_status st = pw_client_open(&c, server, &opts);
	if (st != PW_OK) {
		fprintf(stderr, "notify_load: cannot open %s: %s\n", server, pw_status_name(st));
		return 1;
	}
	long long made = 0;
	int rc = 0;
	for (long long n = 1; n <= count && rc == 0; n++) {
		pw_session_params p = {
			.amount_minor = 500,
			.currency = "EUR",
			.mode = PW_MODE_TEST,
		};
		pw_session s;
		pw_error err;
		char id[sizeof(s.id)] = "";
		const char *call = "create_session";
		int waits = 0;
		for (;;) {
			memset(&err, 0, sizeof(err));
			st = pw_session_create(c, key, &p, &s, &err);
			if (st == PW_OK) {
				call = "cancel_session";
				memcpy(id, s.id, sizeof(id));
				st = pw_session_cancel(c, key, id, &s, &err);
			}
			if (st == PW_RESOURCE_EXHAUSTED && err.retry_after_ms > 0 && waits++ < NL_LIMIT_WAITS_MAX &&
			    strcmp(call, "create_session") == 0) {
				nl_sleep_ms(err.retry_after_ms);
				continue; /* nothing was created: make the change again */
			}
			break;
		}
		/* A cancel refused by the limiter is made again on its own: the
		 * session exists, a second create would make a second change. */
		while (st == PW_RESOURCE_EXHAUSTED && err.retry_after_ms > 0 && waits++ < NL_LIMIT_WAITS_MAX) {
			nl_sleep_ms(err.retry_after_ms);
			memset(&err, 0, sizeof(err));
			st = pw_session_cancel(c, key, id, &s, &err);
		}
		if (st != PW_OK) {
			fprintf(stderr, "notify_load: change %lld: %s: %s: %s\n", n, call, pw_status_name(st),
			    err.message[0] != '\0' ? err.message : "(no message)");
			rc = 1;
		} else if (s.status != PW_SESSION_CANCELED) {
			fprintf(stderr, "notify_load: change %lld: the session is %s after its cancel\n", n,
			    pw_session_status_name(s.status));
			rc = 1;
		} else {
			made++;
		}
	}
	pw_client_close(c);
	printf("notify_load: %lld of %lld changes made\n", made, count);
	return rc;
}
