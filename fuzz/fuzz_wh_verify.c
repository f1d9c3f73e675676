/*
 * fuzz_wh_verify.c - each provider's signature-header parser: srv_webhook_verify
 * on a request in the fuzz_wh_input.h format, at a fixed time, with the
 * fixtures' secrets. Any status is fine; a crash, a leak, a sanitizer report
 * or a `why` that is not a NUL-terminated string is not.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_wh_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const srv_webhook_config *cfg = fz_wh_setup();
	fz_wh r;
	char why[256];
	pw_status st;

	if (!fz_wh_split(data, size, &r)) {
		return 0;
	}
	memset(why, 'x', sizeof(why));
	st = srv_webhook_verify(cfg, r.provider, r.h, r.nh, r.body_len > 0 ? r.body : NULL,
	    r.body_len, FZ_WH_NOW_UNIX_S, why, sizeof(why));
	if (memchr(why, '\0', sizeof(why)) == NULL) {
		abort();
	}
	if (st != PW_OK && st != PW_UNAUTHENTICATED && st != PW_INVALID_ARGUMENT) {
		abort(); /* every provider has a secret here: UNAVAILABLE is wrong */
	}
	return 0;
}
