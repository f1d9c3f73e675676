/* prov_curl.h - what paywire's libcurl callers (prov_http.c, prov_notify.c,
 * prov_smtp.c, prov_telegram.c) share: libcurl's one-time global
 * initialisation, a bounded answer body, the loopback test of a URL's host
 * (plain protocols are allowed only towards it), and a scrub of a secret out
 * of a message.
 *
 * Thread-safe. */
#ifndef PW_PROV_CURL_H
#define PW_PROV_CURL_H

#include <stdbool.h>
#include <stddef.h>

#include "pw_common.h"

/* PW_OK once curl_global_init has succeeded (first call does it). */
pw_status prov_curl_ready(void) PW_WUR;

/* An answer's body, NUL-terminated, at most max bytes: give
 * prov_curl_sink_cb to CURLOPT_WRITEFUNCTION and the sink to
 * CURLOPT_WRITEDATA. Past max (too_big) or out of memory the callback
 * stops the transfer (CURLE_WRITE_ERROR). The caller frees buf (pw_free). */
typedef struct prov_curl_sink {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	bool too_big;
} prov_curl_sink;
size_t prov_curl_sink_cb(char *data, size_t size, size_t nmemb, void *arg);

/* Whether url's host (after "scheme://", before the port or path) is
 * 127.0.0.1, [::1] or localhost. */
bool prov_curl_host_is_loopback(const char *url);

/* Replaces every occurrence of secret (when non-empty) in buf with
 * "<redacted>", in place, truncating at bufsize. */
void prov_curl_scrub(char *buf, size_t bufsize, const char *secret);

/* Copies src[0..n) into out (bufsize) as printable ASCII: every control
 * byte becomes a space, every byte above 0x7f a '?'; the end is trimmed. */
void prov_curl_printable(char *out, size_t bufsize, const char *src, size_t n);

#endif
