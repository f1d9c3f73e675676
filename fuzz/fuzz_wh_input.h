/*
 * fuzz_wh_input.h - the input format of the webhook targets, one request:
 *
 *   byte 0          provider: byte % 4 -> stripe, razorpay, onecom, web3
 *   header lines    "name: value\n" (name lower-cased as the bridge does),
 *                   ended by an empty line "\n"; at most FZ_WH_HEADERS_MAX
 *   the rest        the body, exactly as signed
 *
 * fz_wh_setup() configures one secret per provider (the fixtures' secrets,
 * tests/signer_setup.sh) once. Headers are copied into the caller's fz_wh.
 */
#ifndef FUZZ_WH_INPUT_H
#define FUZZ_WH_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "srv_webhook.h"

#define FZ_WH_HEADERS_MAX 16
#define FZ_WH_NOW_UNIX_S INT64_C(1767225600)

typedef struct fz_wh {
	pw_provider provider;                      /* picked by byte 0 */
	srv_header h[FZ_WH_HEADERS_MAX];           /* points into text */
	size_t nh;                                 /* headers used */
	char text[8192];                           /* NUL-terminated header names and values */
	const uint8_t *body;                       /* into the input */
	size_t body_len;
} fz_wh;

const srv_webhook_config *fz_wh_setup(void);
/* False when the input is empty or the headers do not fit. */
bool fz_wh_split(const uint8_t *data, size_t size, fz_wh *out);

#endif
