/* bridge_pages.c - HTML pages (see bridge_pages.h). Values are escaped where
 * they are written, never before, so nothing is escaped twice or forgotten. */
#include "bridge_pages.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pw_common.h"

/* The session id and the checkout secret come from escaped data- attributes;
 * nothing is ever interpolated into this text. Polls every 2 s until the
 * status is final and shows the change in place: once paid, the access link
 * and the way back to the merchant appear without a reload (the status
 * route answers them to the holder of the secret). The test buttons POST to
 * checkout/{id}/test with the secret. */
static const char bridge_checkout_script[] =
    "(function () {\n"
    "  var main = document.getElementById(\"pw\");\n"
    "  var out = document.getElementById(\"pw-status\");\n"
    "  var id = main.getAttribute(\"data-session\");\n"
    "  var secret = main.getAttribute(\"data-secret\") || \"\";\n"
    "  var done = { paid: 1, expired: 1, canceled: 1, refunded: 1 };\n"
    "  var timer = null;\n"
    "  function el(n) { return document.getElementById(n); }\n"
    "  function url() {\n"
    "    return \"session/\" + encodeURIComponent(id) + \"/status\" +\n"
    "      (secret ? \"?secret=\" + encodeURIComponent(secret) : \"\");\n"
    "  }\n"
    "  function show(j) {\n"
    "    out.textContent = j.status;\n"
    "    main.setAttribute(\"data-status\", j.status);\n"
    "    if (!done[j.status]) { return; }\n"
    "    [\"pw-test\", \"pw-cancel\", \"pw-note\", \"pw-razorpay\"].forEach(function (n) {\n"
    "      if (el(n)) { el(n).hidden = true; }\n"
    "    });\n"
    "    if (j.status !== \"paid\") { return; }\n"
    "    el(\"pw-paid\").hidden = false;\n"
    "    if (j.access_url) {\n"
    "      el(\"pw-access\").href = j.access_url;\n"
    "      el(\"pw-access-p\").hidden = false;\n"
    "    }\n"
    "    if (j.continue_url) {\n"
    "      el(\"pw-continue\").href = j.continue_url;\n"
    "      el(\"pw-continue-p\").hidden = false;\n"
    "      if (!j.access_url) { setTimeout(function () { location.assign(j.continue_url); }, 3000); }\n"
    "    }\n"
    "  }\n"
    "  function poll() {\n"
    "    fetch(url(), { cache: \"no-store\", credentials: \"omit\" })\n"
    "      .then(function (r) { return r.ok ? r.json() : null; })\n"
    "      .then(function (j) {\n"
    "        if (!j || typeof j.status !== \"string\") { return; }\n"
    "        show(j);\n"
    "        if (done[j.status] && timer !== null) { clearInterval(timer); timer = null; }\n"
    "      })\n"
    "      .catch(function () {});\n"
    "  }\n"
    "  function test(outcome) {\n"
    "    var msg = el(\"pw-test-msg\");\n"
    "    msg.textContent = \"Sending the test \" + outcome + \"...\";\n"
    "    fetch(\"checkout/\" + encodeURIComponent(id) + \"/test\", {\n"
    "      method: \"POST\", cache: \"no-store\", credentials: \"omit\",\n"
    "      headers: { \"Content-Type\": \"application/x-www-form-urlencoded\" },\n"
    "      body: \"secret=\" + encodeURIComponent(secret) + \"&outcome=\" + outcome\n"
    "    }).then(function (r) {\n"
    "      return r.json().then(function (j) { return { ok: r.ok, j: j }; });\n"
    "    }).then(function (x) {\n"
    "      msg.textContent = x.ok ? \"Test \" + outcome + \": \" + x.j.outcome +\n"
    "        (x.j.reason ? \" (\" + x.j.reason + \")\" : \"\")\n"
    "        : (x.j && x.j.error ? x.j.error.message : \"refused\");\n"
    "      poll();\n"
    "    }).catch(function () { msg.textContent = \"The payment service did not answer.\"; });\n"
    "  }\n"
    "  function razorpay() {\n"
    "    var msg = el(\"pw-razorpay-msg\");\n"
    "    if (typeof window.Razorpay !== \"function\") {\n"
    "      msg.textContent = \"Razorpay Checkout did not load; try again later.\";\n"
    "      return;\n"
    "    }\n"
    "    new window.Razorpay({\n"
    "      key: main.getAttribute(\"data-rzp-key\"),\n"
    "      order_id: main.getAttribute(\"data-rzp-order\"),\n"
    "      amount: Number(main.getAttribute(\"data-amount\")),\n"
    "      currency: main.getAttribute(\"data-currency\"),\n"
    "      name: main.getAttribute(\"data-merchant\") || \"\",\n"
    "      handler: function () {\n"
    "        msg.textContent = \"Payment submitted; waiting for Razorpay's confirmation...\";\n"
    "        poll();\n"
    "      }\n"
    "    }).open();\n"
    "  }\n"
    "  if (el(\"pw-razorpay-pay\")) { el(\"pw-razorpay-pay\").addEventListener(\"click\", razorpay); }\n"
    "  if (el(\"pw-pay\")) { el(\"pw-pay\").addEventListener(\"click\", function () { test(\"pay\"); }); }\n"
    "  if (el(\"pw-fail\")) { el(\"pw-fail\").addEventListener(\"click\", function () { test(\"fail\"); }); }\n"
    "  if (!done[main.getAttribute(\"data-status\")]) { timer = setInterval(poll, 2000); }\n"
    "})();\n";

static const char bridge_page_style[] =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;max-width:36rem;"
    "margin:2rem auto;padding:0 1rem;color:#1b1b1b;background:#fff;line-height:1.5}"
    "h1{font-size:1.5rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}"
    "dt{color:#555}dd{margin:0}code{font-family:ui-monospace,monospace;word-break:break-all}"
    ".amount{font-size:1.25rem;font-weight:600}.key{display:block;padding:.75rem;"
    "background:#f3f3f3;border:1px solid #ccc;border-radius:4px}"
    ".warn{color:#8a1c00;font-weight:600}.ok{color:#136c2e;font-weight:600}"
    "button{font:inherit;padding:.5rem 1rem;margin:0 .5rem .5rem 0;border-radius:4px;"
    "border:1px solid #555;background:#f3f3f3;cursor:pointer}[hidden]{display:none}"
    ".test{border:1px dashed #b57a00;padding:.75rem;border-radius:4px}";

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

bool
bridge_access_url(bridge_buf *out, const pw_status_info *s, const char *public_url)
{
	const char *link = s->access_link;

	if (link[0] == '/' && link[1] != '/') {
		bridge_buf_puts(out, public_url);
		bridge_buf_puts(out, link);
		return true;
	}
	if (strncmp(link, "https://", 8) == 0 || strncmp(link, "http://", 7) == 0) {
		bridge_buf_puts(out, link);
		return true;
	}
	if (bridge_page_is_token(link)) {
		bridge_buf_puts(out, public_url);
		bridge_buf_puts(out, "/access/");
		bridge_buf_puts(out, s->session_id);
		bridge_buf_puts(out, "?token=");
		bridge_buf_puts(out, link);
		return true;
	}
	return false;
}

void
bridge_continue_url(bridge_buf *out, const char *success_url, const char *session_id)
{
	static const char placeholder[] = "{CHECKOUT_SESSION_ID}";
	const char *at = strstr(success_url, placeholder);

	if (success_url[0] == '\0') {
		return;
	}
	if (at != NULL) { /* Stripe's template: the id goes where the merchant put it */
		bridge_buf_append(out, success_url, (size_t) (at - success_url));
		bridge_buf_puts(out, session_id);
		bridge_buf_puts(out, at + sizeof(placeholder) - 1);
		return;
	}
	bridge_buf_puts(out, success_url);
	bridge_buf_puts(out, strchr(success_url, '?') != NULL ? "&session_id=" : "?session_id=");
	bridge_buf_puts(out, session_id);
}

/* <a id=... href=url>text</a> inside <p id=...>, hidden when url is "". */
static void
bridge_page_link(bridge_buf *out, const char *pid, const char *aid, const char *url,
    const char *text)
{
	bridge_buf_puts(out, "<p id=\"");
	bridge_buf_puts(out, pid);
	bridge_buf_puts(out, url[0] == '\0' ? "\" hidden><a id=\"" : "\"><a id=\"");
	bridge_buf_puts(out, aid);
	bridge_buf_puts(out, "\" rel=\"noreferrer\" href=\"");
	bridge_buf_html(out, url);
	bridge_buf_puts(out, "\">");
	bridge_buf_html(out, text);
	bridge_buf_puts(out, "</a></p>\n");
}

/* What is being bought, and from whom (known with the checkout secret). */
static void
bridge_page_item(bridge_buf *out, const pw_status_info *s)
{
	char credits[48];

	if (s->merchant_name[0] != '\0') {
		bridge_page_row(out, "Merchant", s->merchant_name);
	}
	if (s->plan[0] != '\0') {
		bridge_page_row(out, "Plan", s->plan);
	} else if (s->credits > 0) {
		(void) snprintf(credits, sizeof(credits), "%lld credits", (long long) s->credits);
		bridge_page_row(out, "Item", credits);
	}
}

void
bridge_page_checkout(bridge_buf *out, const bridge_checkout_view *v, const char *nonce)
{
	const pw_status_info *s = v->s;
	const char *status = pw_session_status_name(s->status);
	bool customer = v->secret[0] != '\0';
	bool paid = s->status == PW_SESSION_PAID;
	bool final;

	PW_ASSERT(out != NULL && s != NULL && nonce != NULL);
	status = status != NULL ? status : "unknown";
	final = paid || s->status == PW_SESSION_EXPIRED || s->status == PW_SESSION_CANCELED ||
	    s->status == PW_SESSION_REFUNDED;
	bridge_page_begin(out, s->merchant_name[0] != '\0' ? s->merchant_name : "Checkout", nonce,
	    !final);
	bridge_buf_puts(out, "<main id=\"pw\" data-session=\"");
	bridge_buf_html(out, s->session_id);
	bridge_buf_puts(out, "\" data-secret=\"");
	bridge_buf_html(out, v->secret);
	bridge_buf_puts(out, "\" data-status=\"");
	bridge_buf_html(out, status);
	if (v->razorpay_js != NULL) {
		char amount[32];

		(void) snprintf(amount, sizeof(amount), "%lld", (long long) s->amount_minor);
		bridge_buf_puts(out, "\" data-rzp-key=\"");
		bridge_buf_html(out, s->provider_key_id);
		bridge_buf_puts(out, "\" data-rzp-order=\"");
		bridge_buf_html(out, s->provider_checkout_id);
		bridge_buf_puts(out, "\" data-amount=\"");
		bridge_buf_html(out, amount);
		bridge_buf_puts(out, "\" data-currency=\"");
		bridge_buf_html(out, s->currency);
		bridge_buf_puts(out, "\" data-merchant=\"");
		bridge_buf_html(out, s->merchant_name);
	}
	bridge_buf_puts(out, "\">\n<h1>");
	if (s->merchant_name[0] != '\0') {
		bridge_buf_puts(out, "Pay ");
		bridge_buf_html(out, s->merchant_name);
	} else {
		bridge_buf_puts(out, "Checkout");
	}
	bridge_buf_puts(out, "</h1>\n<dl>\n");
	bridge_page_item(out, s);
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
	if (!customer) {
		bridge_buf_puts(out, "<p id=\"pw-public\">This page shows the status of the payment only. "
		                     "To pay, or to reach your purchase, open the checkout link the "
		                     "merchant gave you.</p>\n");
	}
	if (!final) {
		bridge_buf_puts(out, "<p id=\"pw-note\">This page shows the live status of the payment "
		                     "and updates by itself.</p>\n"
		                     "<noscript><p>Reload this page to see the latest status.</p></noscript>\n");
	}
	if (customer && !final && v->razorpay_js != NULL) {
		bridge_buf_puts(out, "<section id=\"pw-razorpay\">\n<p>The payment goes through "
		                     "Razorpay.</p>\n<button type=\"button\" id=\"pw-razorpay-pay\">Pay "
		                     "with Razorpay</button>\n<p id=\"pw-razorpay-msg\" role=\"status\">"
		                     "</p>\n</section>\n");
	}
	if (customer && !final && s->mode == PW_MODE_TEST) {
		bridge_buf_puts(out, "<section id=\"pw-test\" class=\"test\">\n<p>Test mode: pay or "
		                     "decline this session as the provider would report it.</p>\n"
		                     "<button type=\"button\" id=\"pw-pay\">Pay (test)</button>"
		                     "<button type=\"button\" id=\"pw-fail\">Fail (test)</button>\n"
		                     "<p id=\"pw-test-msg\" role=\"status\"></p>\n</section>\n");
	}
	bridge_buf_puts(out, paid ? "<section id=\"pw-paid\">\n" : "<section id=\"pw-paid\" hidden>\n");
	bridge_buf_puts(out, "<p class=\"ok\">Payment received. Thank you.</p>\n");
	bridge_page_link(out, "pw-access-p", "pw-access", v->access_url,
	    "Open your receipt and access");
	bridge_buf_puts(out, "<p>Keep your access link private: it is your proof of purchase.</p>\n");
	bridge_page_link(out, "pw-continue-p", "pw-continue", v->continue_url,
	    "Continue to the merchant");
	bridge_buf_puts(out, "</section>\n");
	if (customer && !final && s->cancel_url[0] != '\0') {
		bridge_page_link(out, "pw-cancel", "pw-cancel-a", s->cancel_url,
		    "Cancel and return to the merchant");
	}
	bridge_buf_puts(out, "</main>\n");
	if (customer && !final && v->razorpay_js != NULL) {
		bridge_buf_puts(out, "<script nonce=\"");
		bridge_buf_html(out, nonce);
		bridge_buf_puts(out, "\" src=\"");
		bridge_buf_html(out, v->razorpay_js);
		bridge_buf_puts(out, "\"></script>\n");
	}
	bridge_buf_puts(out, "<script nonce=\"");
	bridge_buf_html(out, nonce);
	bridge_buf_puts(out, "\">\n");
	bridge_buf_puts(out, bridge_checkout_script);
	bridge_buf_puts(out, "</script>\n");
	bridge_page_end(out);
}

/* The key once revealed; before: the reveal form (the GET shows it, the POST
 * reveals); after: a note. */
static void
bridge_page_access_key(bridge_buf *out, const pw_access *a, const char *token, const char *csrf)
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
		                     "earlier visit and is not shown again. If you lost it, ask the "
		                     "merchant to issue a new one.</p>\n");
		return;
	}
	if (a->access_key_id[0] == '\0') {
		return; /* the purchase sold no key */
	}
	if (!a->entitlement_active) {
		bridge_buf_puts(out, "<p id=\"pw-inactive\">The access this purchase granted is no longer "
		                     "active (refunded or disputed).</p>\n");
		return;
	}
	if (csrf == NULL || token == NULL) {
		return;
	}
	bridge_buf_puts(out, "<form method=\"post\" id=\"pw-reveal-form\" action=\"/access/");
	bridge_buf_html(out, a->session_id);
	bridge_buf_puts(out, "\">\n<input type=\"hidden\" name=\"token\" value=\"");
	bridge_buf_html(out, token);
	bridge_buf_puts(out, "\">\n<input type=\"hidden\" name=\"csrf\" value=\"");
	bridge_buf_html(out, csrf);
	bridge_buf_puts(out, "\">\n<p>Your access key is shown once. Reveal it when you are ready to "
	                     "copy it.</p>\n<button type=\"submit\" id=\"pw-reveal\">Reveal my access "
	                     "key</button>\n</form>\n");
}

void
bridge_page_access(bridge_buf *out, const pw_access *a, const char *token, const char *csrf,
    const char *nonce)
{
	char paid[32];
	char invoice[32];
	const char *status = pw_session_status_name(a->status);

	PW_ASSERT(out != NULL && a != NULL && nonce != NULL);
	bridge_time_utc(paid, sizeof(paid), a->paid_at_unix_ms);
	(void) snprintf(invoice, sizeof(invoice), "%llu", (unsigned long long) a->invoice_number);
	bridge_page_begin(out, "Receipt", nonce, false);
	bridge_buf_puts(out, "<main>\n<h1>Receipt</h1>\n<dl>\n");
	if (a->merchant_name[0] != '\0') {
		bridge_page_row(out, "Merchant", a->merchant_name);
	}
	if (a->plan[0] != '\0') {
		bridge_page_row(out, "Plan", a->plan);
	}
	bridge_page_amount(out, a->amount_minor, a->currency);
	bridge_page_row(out, "Currency", a->currency);
	bridge_page_row(out, "Invoice number", invoice);
	bridge_page_row(out, "Paid", paid);
	bridge_page_row(out, "Status", status != NULL ? status : "unknown");
	if (a->customer_email[0] != '\0') {
		bridge_page_row(out, "Email", a->customer_email);
	}
	bridge_buf_puts(out, "<dt>Session</dt><dd><code>");
	bridge_buf_html(out, a->session_id);
	bridge_buf_puts(out, "</code></dd>\n</dl>\n");
	bridge_page_access_key(out, a, token, csrf);
	bridge_buf_puts(out, "</main>\n");
	bridge_page_end(out);
}

void
bridge_page_redirect(bridge_buf *out, const char *url, const char *nonce)
{
	PW_ASSERT(out != NULL && url != NULL && nonce != NULL);
	bridge_page_begin(out, "Continue to payment", nonce, false);
	bridge_buf_puts(out, "<main>\n<h1>Continue to payment</h1>\n<p>The payment continues on "
	                     "the payment provider's page: <a id=\"pw-provider\" href=\"");
	bridge_buf_html(out, url);
	bridge_buf_puts(out, "\">continue</a>.</p>\n</main>\n");
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
