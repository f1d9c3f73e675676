/* prov_curl.h - what the notification senders (prov_smtp.c, prov_telegram.c)
 * share about libcurl: its one-time global initialisation, the loopback test
 * of a URL's host (plain protocols are allowed only towards it), and a
 * scrub of a secret out of a message.
 *
 * Thread-safe. */
#ifndef PW_PROV_CURL_H
#define PW_PROV_CURL_H

#include <stdbool.h>
#include <stddef.h>

#include "pw_common.h"

/* PW_OK once curl_global_init has succeeded (first call does it). */
pw_status prov_curl_ready(void) PW_WUR;

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
