/*
 * client_hooks.h - libpaywire's test hooks: what a test reads instead of
 * measuring time. Private to the paywire tree: never installed, and not
 * exported from libpaywire.so (client.c is built with hidden visibility), so
 * the tests that use it link libpaywire.a.
 *
 * The counters count from pw_client_open; the attempt counters only in a
 * PW_TEST_HOOKS build (zero otherwise). Threads: any (atomics); c must stay
 * open during the call.
 */
#ifndef PW_CLIENT_HOOKS_H
#define PW_CLIENT_HOOKS_H

#include <stdint.h>

#include <paywire/client.h>

typedef struct client_test_counts {
	int pipes;             /* SP connections up now, as the client counts them */
	uint32_t reach_checks; /* raw connects made by attempts that found no connection */
	uint32_t sends;        /* requests handed to nng: attempts that went out */
} client_test_counts;

/* Copies c's counters into out. */
void client_test_counts_get(const pw_client *c, client_test_counts *out);

#endif
