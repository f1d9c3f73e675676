/*
 * bridge_pages.h - the bridge's HTML pages: checkout, access (receipt), errors.
 *
 * Every page is a complete HTML5 document with no external resource: one
 * inline <style> and, on the checkout page, one inline <script>, both carrying
 * the CSP nonce the caller generated (the http layer sends the matching
 * Content-Security-Policy). Every interpolated value goes through
 * bridge_buf_html, in text and in attributes alike; the script is a constant
 * and reads the session id from an escaped data- attribute, so no value is
 * ever written into script text.
 *
 * Owns nothing; pure functions of their arguments; any thread.
 */
#ifndef BRIDGE_PAGES_H
#define BRIDGE_PAGES_H

#include <stdint.h>

#include <paywire/client.h>

#include "bridge_buf.h"

/* "2026-01-01 00:01:00 UTC", or "-" for 0. out holds at least 32 bytes. */
void bridge_time_utc(char *out, size_t out_size, int64_t unix_ms);

/* The hosted checkout page: amount (pw_amount_format with the currency's
 * exponent), currency, status, mode, session id. While the session is not
 * final, a script polls session/{id}/status every 2 s and updates the status
 * text (reloading the page once paid); without script, a <noscript> refresh
 * does the same every 10 s. Once paid and s->access_link is set, the page
 * shows the customer's access link: public_url + access_link when the link is
 * a path ("/access/..."), the link itself when it is an absolute http(s) URL. */
void bridge_page_checkout(bridge_buf *out, const pw_status_info *s, const char *public_url,
    const char *nonce);

/* The receipt behind the access link: amount, currency, invoice number, paid
 * time, plan, and the access key on the first redemption only, with a
 * "copy it now" note; on later visits a note that it was already revealed. */
void bridge_page_access(bridge_buf *out, const pw_access *a, const char *nonce);

/* An error page: "<http> <title>" and a sentence. */
void bridge_page_error(bridge_buf *out, int http, const char *title, const char *message,
    const char *nonce);

#endif
