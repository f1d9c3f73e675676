/*
 * test_wait.h - how the tests wait: on a condition, never for a fixed time.
 *
 * A test that needs something to happen (a write to be answered, a child to
 * exit, a peer to see a request) polls for it with TW_WAIT_UNTIL and then
 * asserts it as before. The bound, TW_HANG_MS, is two minutes: far above
 * anything a loaded 2-core machine under ASan takes, so it only ends the
 * wait of a test that hangs, and the assertion after it reports what was
 * missing. Timeouts the tests hand to the code under test for operations
 * that must succeed (socket receive/send, client per-attempt timeouts, the
 * server's drain) are TW_HANG_MS too; tests never assert a duration.
 *
 * Header-only (static inline) so every test executable can use it without
 * another source file; any thread may call it.
 */
#ifndef PW_TEST_WAIT_H
#define PW_TEST_WAIT_H

#include <stdint.h>
#include <time.h>

#define TW_HANG_MS 120000 /* bound of every wait: only a hang reaches it */
#define TW_POLL_MS 5      /* pause between two looks at the condition */

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t
tw_now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds (EINTR ends it early: callers poll a condition). */
static inline void
tw_sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t) (ms / 1000),
		.tv_nsec = (long) (ms % 1000) * 1000000L };

	(void) nanosleep(&ts, NULL);
}

/* Evaluates cond every TW_POLL_MS until it is true or TW_HANG_MS have
 * passed; the caller asserts what it waited for afterwards. */
#define TW_WAIT_UNTIL(cond)                                         \
	do {                                                            \
		int64_t tw_end_ = tw_now_ms() + TW_HANG_MS;                 \
		while (!(cond) && tw_now_ms() < tw_end_) {                  \
			tw_sleep_ms(TW_POLL_MS);                                \
		}                                                           \
	} while (0)

/* The same for work that advances step by step, where the whole may take
 * longer than TW_HANG_MS on a busy disk (thousands of fsynced writes): the
 * bound restarts whenever `progress` (an integer expression, e.g. a count
 * of answered writes) changes, so only TW_HANG_MS without any progress, a
 * hang, ends the wait. */
#define TW_WAIT_PROGRESS(cond, progress)                            \
	do {                                                            \
		int64_t tw_end_ = tw_now_ms() + TW_HANG_MS;                 \
		int64_t tw_seen_ = (int64_t) (progress);                    \
		while (!(cond) && tw_now_ms() < tw_end_) {                  \
			tw_sleep_ms(TW_POLL_MS);                                \
			if ((int64_t) (progress) != tw_seen_) {                 \
				tw_seen_ = (int64_t) (progress);                    \
				tw_end_ = tw_now_ms() + TW_HANG_MS;                 \
			}                                                       \
		}                                                           \
	} while (0)

#endif
