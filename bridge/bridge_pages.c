/* bridge_pages.c - HTML pages (see bridge_pages.h). Values are escaped where
 * they are written, never before, so nothing is escaped twice or forgotten. */
#include "bridge_pages.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pw_common.h"

/* The session id comes from an escaped data- attribute; nothing is ever
 * interpolated into this text. Polls every 2 s until the status is final;
 * "paid" reloads so the server-rendered page shows the access link. */
static const char bridge_checkout_script[] =
    "(function () {\n"
    "  var main = document.getElementById(\"pw\");\n"
    "  var out = document.getElementById(\"pw-status\");\n"
    "  var id = main.getAttribute(\"data-session\");\n"
    "  var done = { paid: 1, expired: 1, canceled: 1, refunded: 1 };\n"
    "  if (done[main.getAttribute(\"data-status\")]) { return; }\n"
    "  var timer = setInterval(function () {\n"
    "    fetch(\"session/\" + encodeURIComponent(id) + \"/status\",\n"
    "        { cache: \"no-store\", credentials: \"omit\" })\n"
    "      .then(function (r) { return r.ok ? r.json() : null; })\n"
    "      .then(function (j) {\n"
    "        if (!j || typeof j.status !== \"string\") { return; }\n"
    "        out.textContent = j.status;\n"
    "        if (j.status === \"paid\") { clearInterval(timer); location.reload(); }\n"
    "        else if (done[j.status]) { clearInterval(timer); }\n"
    "      })\n"
    "      .catch(function () {});\n"
    "  }, 2000);\n"
    "})();\n";

static const char bridge_page_style[] =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;max-width:36rem;"
    "margin:2rem auto;padding:0 1rem;color:#1b1b1b;background:#fff;line-height:1.5}"
    "h1{font-size:1.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}"
    "dt{color:#555}dd{margin:0}code{font-family:ui-monospace,monospace;word-break:break-all}"
    ".amount{font-size:1.25rem;font-weight:600}.key{display:block;padding:.75rem;"
    "background:#f3f3f3;border:1px solid #ccc;border-radius:4px}"
    ".warn{color:#8a1c00;font-weight:600}.ok{color:#136c2e;font-weight:600}";

static void
bridge_page_begin(bridge_buf *out, const char *title, const char *nonce, bool refresh)
{
	bridge_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                     "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
	bridge_buf_html(out, title);
	bridge_buf_puts(out, "</title>\n");
	if (refresh) {
		bridge_buf_puts(out, "<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>\n");
	}
	bridge_buf_puts(out, "<style nonce=\"");
	bridge_buf_html(out, nonce);
	bridge_buf_puts(out, "\">");
	bridge_buf_puts(out, bridge_page_style);
	bridge_buf_puts(out, "</style>\n</head>\n<body>\n");
}

static void
bridge_page_end(bridge_buf *out)
{
	bridge_buf_puts(out, "</body>\n</html>\n");
}

/* "<dt>label</dt><dd>value</dd>" with value escaped. */
static void
bridge_page_row(bridge_buf *out, const char *label, const char *value)
{
	bridge_buf_puts(out, "<dt>");
	bridge_buf_html(out, label);
	bridge_buf_puts(out, "</dt><dd>");
	bridge_buf_html(out, value);
	bridge_buf_puts(out, "</dd>\n");
}

/* "49.00 EUR" (or "4900 minor units of XXX" for a code we cannot format). */
static void
bridge_page_amount(bridge_buf *out, int64_t minor, const char *currency)
{
	char text[64];
	int exponent = pw_currency_exponent(currency);

	if (exponent < 0) {
		(void) snprintf(text, sizeof(text), "%lld minor units of", (long long) minor);
	} else {
		pw_amount_format(text, sizeof(text), minor, exponent);
	}
	bridge_buf_puts(out, "<dt>Amount</dt><dd class=\"amount\">");
	bridge_buf_html(out, text);
	bridge_buf_puts(out, " ");
	bridge_buf_html(out, currency);
	bridge_buf_puts(out, "</dd>\n");
}

void
bridge_time_utc(char *out, size_t out_size, int64_t unix_ms)
{
	struct tm tm;
	time_t t;

	PW_ASSERT(out != NULL && out_size >= 32);
	if (unix_ms <= 0) {
		(void) snprintf(out, out_size, "-");
		return;
	}
	t = (time_t) (unix_ms / 1000);
	if (gmtime_r(&t, &tm) == NULL) {
		(void) snprintf(out, out_size, "-");
		return;
	}
	(void) snprintf(out, out_size, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* True for a bare token made only of base64url characters and dots (a JWT). */
static bool
bridge_page_is_token(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

/* The access link as an absolute URL, escaped, in an href; false when the
 * server's value is none of the three accepted shapes (then no link). */
static bool
bridge_page_access_href(bridge_buf *out, const pw_status_info *s, const char *public_url)
{
	const char *link = s->access_link;

	if (link[0] == '/' && link[1] != '/') {
		bridge_buf_html(out, public_url);
		bridge_buf_html(out, link);
		return true;
	}
	if (strncmp(link, "https://", 8) == 0 || strncmp(link, "http://", 7) == 0) {
		bridge_buf_html(out, link);
		return true;
	}
	if (bridge_page_is_token(link)) {
		bridge_buf_html(out, public_url);
		bridge_buf_puts(out, "/access/");
		bridge_buf_html(out, s->session_id);
		bridge_buf_puts(out, "?token=");
		bridge_buf_html(out, link);
		return true;
	}
	return false;
}

static void
bridge_page_checkout_note(bridge_buf *out, const pw_status_info *s, const char *public_url)
{
	bridge_buf scratch;

	if (s->status != PW_SESSION_PAID) {
		bridge_buf_puts(out, "<p id=\"pw-note\">This page shows the live status of the payment "
		                     "and updates by itself.</p>\n"
		                     "<noscript><p>Reload this page to see the latest status.</p></noscript>\n");
		return;
	}
	bridge_buf_puts(out, "<p class=\"ok\">Payment received. Thank you.</p>\n");
	bridge_buf_init(&scratch, 8192);
	if (s->access_link[0] != '\0' && bridge_page_access_href(&scratch, s, public_url) &&
	    bridge_buf_ok(&scratch)) {
		bridge_buf_puts(out, "<p><a id=\"pw-access\" rel=\"noreferrer\" href=\"");
		bridge_buf_puts(out, bridge_buf_str(&scratch)); /* already escaped */
		bridge_buf_puts(out, "\">Open your receipt and access</a></p>\n"
		                     "<p>Keep this link private: it is your proof of purchase.</p>\n");
	}
	bridge_buf_wipe(&scratch); /* it held the customer's token */
}

void
bridge_page_checkout(bridge_buf *out, const pw_status_info *s, const char *public_url,
    const char *nonce)
{
	const char *status = pw_session_status_name(s->status);
	bool final;

	PW_ASSERT(out != NULL && s != NULL && public_url != NULL && nonce != NULL);
	status = status != NULL ? status : "unknown";
	final = s->status == PW_SESSION_PAID || s->status == PW_SESSION_EXPIRED ||
	    s->status == PW_SESSION_CANCELED || s->status == PW_SESSION_REFUNDED;
	bridge_page_begin(out, "Checkout", nonce, !final);
	bridge_buf_puts(out, "<main id=\"pw\" data-session=\"");
	bridge_buf_html(out, s->session_id);
	bridge_buf_puts(out, "\" data-status=\"");
	bridge_buf_html(out, status);
	bridge_buf_puts(out, "\">\n<h1>Checkout</h1>\n<dl>\n");
	bridge_page_amount(out, s->amount_minor, s->currency);
	bridge_page_row(out, "Currency", s->currency);
	bridge_buf_puts(out, "<dt>Status</dt><dd><strong id=\"pw-status\">");
	bridge_buf_html(out, status);
	bridge_buf_puts(out, "</strong></dd>\n");
	if (s->mode == PW_MODE_TEST) {
		bridge_page_row(out, "Mode", "test (no real money moves)");
	}
	bridge_buf_puts(out, "<dt>Session</dt><dd><code>");
	bridge_buf_html(out, s->session_id);
	bridge_buf_puts(out, "</code></dd>\n</dl>\n");
	bridge_page_checkout_note(out, s, public_url);
	bridge_buf_puts(out, "</main>\n<script nonce=\"");
	bridge_buf_html(out, nonce);
	bridge_buf_puts(out, "\">\n");
	bridge_buf_puts(out, bridge_checkout_script);
	bridge_buf_puts(out, "</script>\n");
	bridge_page_end(out);
}

static void
bridge_page_access_key(bridge_buf *out, const pw_access *a)
{
	if (a->access_key[0] != '\0') {
		bridge_buf_puts(out, "<section>\n<h2>Your access key</h2>\n<p><code class=\"key\" "
		                     "id=\"pw-key\">");
		bridge_buf_html(out, a->access_key);
		bridge_buf_puts(out, "</code></p>\n<p class=\"warn\">Copy it now: it will not be shown "
		                     "again.</p>\n</section>\n");
		return;
	}
	if (a->already_revealed) {
		bridge_buf_puts(out, "<p id=\"pw-revealed\">Your access key was already revealed on an "
		                     "earlier visit and is not shown again. If you lost it, contact the "
		                     "merchant.</p>\n");
	}
}

void
bridge_page_access(bridge_buf *out, const pw_access *a, const char *nonce)
{
	char paid[32];
	char invoice[32];
	const char *status = pw_session_status_name(a->status);

	PW_ASSERT(out != NULL && a != NULL && nonce != NULL);
	bridge_time_utc(paid, sizeof(paid), a->paid_at_unix_ms);
	(void) snprintf(invoice, sizeof(invoice), "%llu", (unsigned long long) a->invoice_number);
	bridge_page_begin(out, "Receipt", nonce, false);
	bridge_buf_puts(out, "<main>\n<h1>Receipt</h1>\n<dl>\n");
	bridge_page_amount(out, a->amount_minor, a->currency);
	bridge_page_row(out, "Currency", a->currency);
	bridge_page_row(out, "Invoice number", invoice);
	bridge_page_row(out, "Paid", paid);
	bridge_page_row(out, "Status", status != NULL ? status : "unknown");
	if (a->plan[0] != '\0') {
		bridge_page_row(out, "Plan", a->plan);
	}
	if (a->customer_email[0] != '\0') {
		bridge_page_row(out, "Email", a->customer_email);
	}
	bridge_buf_puts(out, "<dt>Session</dt><dd><code>");
	bridge_buf_html(out, a->session_id);
	bridge_buf_puts(out, "</code></dd>\n</dl>\n");
	bridge_page_access_key(out, a);
	bridge_buf_puts(out, "</main>\n");
	bridge_page_end(out);
}

void
bridge_page_error(bridge_buf *out, int http, const char *title, const char *message,
    const char *nonce)
{
	char heading[160];

	PW_ASSERT(out != NULL && title != NULL && message != NULL && nonce != NULL);
	PW_ASSERT(http >= 400 && http <= 599);
	(void) snprintf(heading, sizeof(heading), "%d %s", http, title);
	bridge_page_begin(out, heading, nonce, false);
	bridge_buf_puts(out, "<main>\n<h1>");
	bridge_buf_html(out, heading);
	bridge_buf_puts(out, "</h1>\n<p id=\"pw-error\">");
	bridge_buf_html(out, message);
	bridge_buf_puts(out, "</p>\n</main>\n");
	bridge_page_end(out);
}
