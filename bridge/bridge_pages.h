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

#include <stdbool.h>
#include <stdint.h>

#include <paywire/client.h>

#include "bridge_buf.h"

/* "2026-01-01 00:01:00 UTC", or "-" for 0. out holds at least 32 bytes. */
void bridge_time_utc(char *out, size_t out_size, int64_t unix_ms);

/* The absolute URL of s's access link into out (unescaped): public_url +
 * access_link when the link is a path ("/access/..."), the link itself when
 * it is an absolute http(s) URL, the access route when it is a bare token;
 * false (nothing written) for anything else or no link. */
bool bridge_access_url(bridge_buf *out, const pw_status_info *s, const char *public_url);

/* Where the customer goes once paid: success_url with the session id (in
 * place of "{CHECKOUT_SESSION_ID}" when the URL has it, as Stripe's template,
 * else as a session_id query argument); nothing for an empty success_url. */
void bridge_continue_url(bridge_buf *out, const char *success_url, const char *session_id);

/* What the checkout page shows. */
typedef struct bridge_checkout_view {
	const pw_status_info *s;  /* the status (with the customer's fields when secret is set) */
	const char *secret;       /* the checkout secret the page was opened with; "" none */
	const char *access_url;   /* bridge_access_url once paid, else "" */
	const char *continue_url; /* bridge_continue_url once paid, else "" */
	const char *razorpay_js;  /* an open session whose Razorpay order paywire created:
	                             Razorpay Checkout's script URL (the page offers "Pay with
	                             Razorpay" for the order); else NULL */
} bridge_checkout_view;

/* The hosted checkout page: merchant and what is sold (with the secret),
 * amount (pw_amount_format with the currency's exponent), currency, status,
 * mode, session id. While the session is not final, a script polls
 * session/{id}/status?secret= every 2 s and shows the change in place: once
 * paid the access link and "Continue to the merchant" (continue_url) appear
 * without a reload; a paid session with no access link goes on to
 * continue_url by itself after 3 s. Without script, a <noscript> refresh
 * every 10 s. With the secret, a test session offers "Pay (test)" and "Fail
 * (test)" (POST checkout/{id}/test) and a way back to cancel_url. Without the
 * secret the page says it shows the status only. */
void bridge_page_checkout(bridge_buf *out, const bridge_checkout_view *v, const char *nonce);

/* The receipt behind the access link: merchant, plan, amount, currency,
 * invoice number, paid time; then the access key when a (POST) redemption
 * revealed it, with a "copy it now" note; or, when the key is still sealed
 * and csrf/token are given (the GET), a form that POSTs them back to reveal
 * it; or a note that it was already revealed (ask the merchant to re-issue)
 * or is no longer active. */
void bridge_page_access(bridge_buf *out, const pw_access *a, const char *token, const char *csrf,
    const char *nonce);

/* The body of a 303 to the provider's checkout page (Stripe): a link, for
 * a client that does not follow the redirect. */
void bridge_page_redirect(bridge_buf *out, const char *url, const char *nonce);

/* An error page: "<http> <title>" and a sentence. */
void bridge_page_error(bridge_buf *out, int http, const char *title, const char *message,
    const char *nonce);

#endif
