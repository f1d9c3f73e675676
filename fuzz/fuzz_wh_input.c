/* fuzz_wh_input.c - see fuzz_wh_input.h. */
#include "fuzz_wh_input.h"

#include <stdlib.h>
#include <string.h>

static srv_webhook_config fz_cfg;

const srv_webhook_config *
fz_wh_setup(void)
{
	static bool ready;

	if (ready) {
		return &fz_cfg;
	}
	if (pw_common_init() != 0) {
		abort();
	}
	srv_webhook_config_init(&fz_cfg);
	if (srv_webhook_config_add_secret(&fz_cfg, PW_PROVIDER_STRIPE,
	        "whsec_test_paywire_fixture_secret") != PW_OK ||
	    srv_webhook_config_add_secret(&fz_cfg, PW_PROVIDER_RAZORPAY,
	        "rzp_webhook_fixture_secret") != PW_OK ||
	    srv_webhook_config_add_secret(&fz_cfg, PW_PROVIDER_ONECOM,
	        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") != PW_OK ||
	    srv_webhook_config_add_secret(&fz_cfg, PW_PROVIDER_WEB3,
	        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") != PW_OK) {
		abort();
	}
	ready = true;
	return &fz_cfg;
}

bool
fz_wh_split(const uint8_t *data, size_t size, fz_wh *out)
{
	static const pw_provider provs[] = { PW_PROVIDER_STRIPE, PW_PROVIDER_RAZORPAY,
		PW_PROVIDER_ONECOM, PW_PROVIDER_WEB3 };
	size_t at = 1, used = 0;

	memset(out, 0, sizeof(*out));
	if (size == 0) {
		return false;
	}
	out->provider = provs[data[0] % 4];
	while (at < size && data[at] != '\n') {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t line = nl != NULL ? (size_t) (nl - (data + at)) : size - at;
		const uint8_t *colon = memchr(data + at, ':', line);
		size_t nlen, vstart, vlen;

		if (colon == NULL || out->nh == FZ_WH_HEADERS_MAX || used + line + 2 > sizeof(out->text)) {
			return false;
		}
		nlen = (size_t) (colon - (data + at));
		vstart = nlen + 1;
		if (vstart < line && data[at + vstart] == ' ') {
			vstart++;
		}
		vlen = line - vstart;
		/* header names and values are NUL-terminated strings: an input with
		 * a NUL in one is not a request the bridge could forward */
		if (memchr(data + at, '\0', line) != NULL) {
			return false;
		}
		out->h[out->nh].name = out->text + used;
		for (size_t i = 0; i < nlen; i++) {
			char c = (char) data[at + i];
			out->text[used++] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
		}
		out->text[used++] = '\0';
		out->h[out->nh].value = out->text + used;
		memcpy(out->text + used, data + at + vstart, vlen);
		used += vlen;
		out->text[used++] = '\0';
		out->nh++;
		at += line + (nl != NULL ? 1 : 0);
	}
	if (at < size) {
		at++; /* the empty line */
	}
	out->body = data + at;
	out->body_len = size - at;
	return true;
}
