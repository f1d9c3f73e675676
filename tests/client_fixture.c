/*
 * client_fixture.c - the client tests' shared helpers (client_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "client_fixture.h"

Paywire__V1__Request *
cfx_request_get(testpeer *p, uint32_t n)
{
	Paywire__V1__Request *rq;
	uint8_t *raw = NULL;
	size_t len = 0;

	assert_non_null(p);
	assert_true(n > 0);
	assert_true(testpeer_copy(p, n, &raw, &len));
	rq = paywire__v1__request__unpack(NULL, len, raw);
	assert_non_null(rq);
	return rq;
}

Paywire__V1__Request *
cfx_request_last(testpeer *p)
{
	return cfx_request_get(p, testpeer_count(p));
}
