/*
 * client_fixture.h - helpers the client tests share on top of the in-test
 * REP peer (client/testpeer.h): reading back, decoded, what the peer received.
 *
 * Compiled into each tests/client_*_test.c executable (pw_add_test SOURCES).
 * THREADS: the test's main thread only (they fail the running test with cmocka
 * assertions; never call them from a peer handler).
 * LIFETIMES: a returned request belongs to the caller, freed with
 * paywire__v1__request__free_unpacked(rq, NULL).
 * LIMITS: the peer keeps the first TESTPEER_COPIES_MAX requests only.
 */
#ifndef PW_TEST_CLIENT_FIXTURE_H
#define PW_TEST_CLIENT_FIXTURE_H

#include <stdint.h>

#include "paywire/v1/paywire.pb-c.h"
#include "testpeer.h"

/* The n-th request (from 1) p received, decoded; asserts that it was kept and
 * that it decodes. */
Paywire__V1__Request *cfx_request_get(testpeer *p, uint32_t n);

/* The last request p received, decoded; asserts there was one. */
Paywire__V1__Request *cfx_request_last(testpeer *p);

#endif
