/* bridge_html_test.c - HTML escaping and the bridge's pages
 * (bridge_buf.h, bridge_pages.h): every interpolated value is escaped, the
 * amount is formatted with the currency's exponent, the access key shows once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bridge_buf.h"
#include "bridge_pages.h"
#include "pw_common.h"

#define NONCE "n0nce_Test-123"

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
		n++;
	}
	return n;
}

/* The only <script elements a page may carry are ours, with the nonce. */
static void
assert_no_foreign_markup(const char *page)
{
	assert_int_equal(count(page, "<script"), count(page, "<script nonce=\"" NONCE "\">"));
	assert_null(strstr(page, "<b>"));
	assert_null(strstr(page, "onerror=\""));
	assert_null(strstr(page, "\"><script"));
	assert_null(strstr(page, "<img"));
	assert_int_equal(0, strncmp(page, "<!DOCTYPE html>\n<html lang=\"en\">", 32));
	assert_non_null(strstr(page, "</body>\n</html>\n"));
}

static void
test_html_escape_escapes_the_five_characters(void **state)
{
	bridge_buf b;

	(void) state;
	bridge_buf_init(&b, 1024);
	bridge_buf_html(&b, "Ann <script>alert('x')</script> & \"Bob\"");
	assert_true(bridge_buf_ok(&b));
	assert_string_equal(
	    "Ann &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Bob&quot;", bridge_buf_str(&b));
	bridge_buf_fini(&b);
}

static void
test_html_escape_keeps_utf8_and_replaces_garbage(void **state)
{
	bridge_buf b;

	(void) state;
	bridge_buf_init(&b, 1024);
	bridge_buf_html(&b, "Jos\xc3\xa9 \xe2\x82\xac");
	assert_string_equal("Jos\xc3\xa9 \xe2\x82\xac", bridge_buf_str(&b));
	bridge_buf_fini(&b);
	bridge_buf_init(&b, 1024);
	bridge_buf_html(&b, "a\xff<b\x01");
	assert_string_equal("a\xef\xbf\xbd&lt;b\xef\xbf\xbd", bridge_buf_str(&b));
	bridge_buf_fini(&b);
}

static void
test_buf_refuses_to_grow_past_its_maximum(void **state)
{
	bridge_buf b;

	(void) state;
	bridge_buf_init(&b, 8);
	bridge_buf_puts(&b, "1234567");
	assert_true(bridge_buf_ok(&b));
	bridge_buf_puts(&b, "8");
	assert_false(bridge_buf_ok(&b));
	assert_string_equal("1234567", bridge_buf_str(&b));
	bridge_buf_puts(&b, "");
	assert_false(bridge_buf_ok(&b)); /* sticky */
	bridge_buf_wipe(&b);
}

static void
hostile_status(pw_status_info *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->session_id, "cs_\"><script>alert(1)</script>");
	strcpy(s->currency, "EUR");
	strcpy(s->payment_provider, "<b>x</b>");
	s->status = PW_SESSION_PENDING;
	s->payment_status = PW_PAYMENT_PROCESSING;
	s->amount_minor = 4900;
	s->mode = PW_MODE_TEST;
}

/* The page as bridge_route_checkout renders it: the URLs built the same way. */
static void
t_checkout(bridge_buf *b, const pw_status_info *s, const char *secret, const char *public_url)
{
	bridge_buf access, cont;
	bridge_checkout_view v;

	bridge_buf_init(&access, 8192);
	bridge_buf_init(&cont, 8192);
	if (s->status == PW_SESSION_PAID) {
		(void) bridge_access_url(&access, s, public_url);
		bridge_continue_url(&cont, s->success_url, s->session_id);
	}
	v = (bridge_checkout_view) { .s = s, .secret = secret, .access_url = bridge_buf_str(&access),
		.continue_url = bridge_buf_str(&cont) };
	bridge_page_checkout(b, &v, NONCE);
	bridge_buf_fini(&access);
	bridge_buf_fini(&cont);
}

static void
test_checkout_page_escapes_every_value(void **state)
{
	pw_status_info s;
	bridge_buf b;
	const char *page;

	(void) state;
	hostile_status(&s);
	strcpy(s.merchant_name, "Acme <b>&</b>");
	strcpy(s.plan, "pro\"><img>");
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "cks_\"><script>", "https://pay.example");
	assert_true(bridge_buf_ok(&b));
	page = bridge_buf_str(&b);
	assert_no_foreign_markup(page);
	assert_non_null(strstr(page, "data-session=\"cs_&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""));
	assert_non_null(strstr(page, "data-secret=\"cks_&quot;&gt;&lt;script&gt;\""));
	assert_non_null(strstr(page, "<h1>Pay Acme &lt;b&gt;&amp;&lt;/b&gt;</h1>"));
	assert_non_null(strstr(page, "<dt>Plan</dt><dd>pro&quot;&gt;&lt;img&gt;</dd>"));
	assert_non_null(strstr(page, "<dd class=\"amount\">49.00 EUR</dd>"));
	assert_non_null(strstr(page, "<strong id=\"pw-status\">pending</strong>"));
	/* live: the poller and the no-script refresh, no access link yet */
	assert_non_null(strstr(page, "/status\""));
	assert_non_null(strstr(page, "2000"));
	assert_non_null(strstr(page, "<noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript>"));
	assert_non_null(strstr(page, "<section id=\"pw-paid\" hidden>"));
	assert_non_null(strstr(page, "<p id=\"pw-access-p\" hidden><a id=\"pw-access\" rel=\"noreferrer\" href=\"\">"));
	assert_null(strstr(page, "location.reload")); /* the page turns paid in place */
	bridge_buf_fini(&b);
}

static void
test_checkout_page_formats_amount_by_currency_exponent(void **state)
{
	pw_status_info s;
	bridge_buf b;

	(void) state;
	hostile_status(&s);
	strcpy(s.session_id, "cs_1");
	strcpy(s.currency, "JPY");
	s.amount_minor = 500;
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "", "http://x");
	assert_non_null(strstr(bridge_buf_str(&b), "<dd class=\"amount\">500 JPY</dd>"));
	bridge_buf_fini(&b);
	strcpy(s.currency, "BHD"); /* three decimals */
	s.amount_minor = 1005;
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "", "http://x");
	assert_non_null(strstr(bridge_buf_str(&b), "<dd class=\"amount\">1.005 BHD</dd>"));
	bridge_buf_fini(&b);
}

static void
test_paid_checkout_page_shows_the_access_link(void **state)
{
	pw_status_info s;
	bridge_buf b;
	const char *page;

	(void) state;
	hostile_status(&s);
	strcpy(s.session_id, "cs_1");
	s.status = PW_SESSION_PAID;
	strcpy(s.access_link, "/access/cs_1?token=aaa.bbb.ccc&x=\"><script>");
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "cks_x", "https://pay.example");
	page = bridge_buf_str(&b);
	assert_no_foreign_markup(page);
	assert_non_null(strstr(page,
	    "href=\"https://pay.example/access/cs_1?token=aaa.bbb.ccc&amp;x=&quot;&gt;&lt;script&gt;\""));
	assert_non_null(strstr(page, "<section id=\"pw-paid\">"));
	assert_null(strstr(page, "http-equiv=\"refresh\"")); /* final: nothing left to poll */
	assert_null(strstr(page, "id=\"pw-pay\"")); /* paid: no test buttons */
	bridge_buf_fini(&b);

	strcpy(s.access_link, "aaa.bbb.ccc"); /* a bare token */
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "cks_x", "https://pay.example");
	assert_non_null(strstr(bridge_buf_str(&b), "href=\"https://pay.example/access/cs_1?token=aaa.bbb.ccc\""));
	bridge_buf_fini(&b);

	strcpy(s.access_link, "javascript:alert(1)"); /* none of the accepted shapes: no link */
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "cks_x", "https://pay.example");
	assert_non_null(strstr(bridge_buf_str(&b), "<p id=\"pw-access-p\" hidden>"));
	assert_null(strstr(bridge_buf_str(&b), "javascript:"));
	bridge_buf_fini(&b);
}

static void
test_checkout_page_offers_test_buttons_and_urls_to_the_customer_only(void **state)
{
	pw_status_info s;
	bridge_buf b;
	const char *page;

	(void) state;
	hostile_status(&s);
	strcpy(s.session_id, "cs_1");
	strcpy(s.cancel_url, "https://shop.example/cart?x=1&y=\"2");
	/* the customer (secret), a test session: pay, fail, the way back */
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "cks_abc", "https://pay.example");
	page = bridge_buf_str(&b);
	assert_non_null(strstr(page, "<button type=\"button\" id=\"pw-pay\">Pay (test)</button>"));
	assert_non_null(strstr(page, "<button type=\"button\" id=\"pw-fail\">Fail (test)</button>"));
	assert_non_null(strstr(page, "href=\"https://shop.example/cart?x=1&amp;y=&quot;2\""));
	assert_null(strstr(page, "id=\"pw-public\""));
	bridge_buf_fini(&b);
	/* live: no test buttons */
	s.mode = PW_MODE_LIVE;
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "cks_abc", "https://pay.example");
	assert_null(strstr(bridge_buf_str(&b), "id=\"pw-pay\""));
	bridge_buf_fini(&b);
	/* without the secret: the status only, no buttons, no way to cancel */
	s.mode = PW_MODE_TEST;
	bridge_buf_init(&b, 64 * 1024);
	t_checkout(&b, &s, "", "https://pay.example");
	page = bridge_buf_str(&b);
	assert_non_null(strstr(page, "id=\"pw-public\""));
	assert_null(strstr(page, "id=\"pw-pay\""));
	assert_null(strstr(page, "id=\"pw-cancel\""));
	bridge_buf_fini(&b);
}

static void
test_continue_url_carries_the_session_id(void **state)
{
	bridge_buf b;

	(void) state;
	bridge_buf_init(&b, 1024);
	bridge_continue_url(&b, "https://shop.example/ok", "cs_1");
	assert_string_equal("https://shop.example/ok?session_id=cs_1", bridge_buf_str(&b));
	bridge_buf_fini(&b);
	bridge_buf_init(&b, 1024);
	bridge_continue_url(&b, "https://shop.example/ok?order=7", "cs_1");
	assert_string_equal("https://shop.example/ok?order=7&session_id=cs_1", bridge_buf_str(&b));
	bridge_buf_fini(&b);
	bridge_buf_init(&b, 1024);
	bridge_continue_url(&b, "https://shop.example/done/{CHECKOUT_SESSION_ID}?x=1", "cs_1");
	assert_string_equal("https://shop.example/done/cs_1?x=1", bridge_buf_str(&b));
	bridge_buf_fini(&b);
	bridge_buf_init(&b, 1024);
	bridge_continue_url(&b, "", "cs_1");
	assert_string_equal("", bridge_buf_str(&b));
	bridge_buf_fini(&b);
}

static void
hostile_access(pw_access *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->session_id, "cs_1");
	strcpy(a->currency, "EUR");
	a->amount_minor = 4900;
	a->status = PW_SESSION_PAID;
	a->paid_at_unix_ms = 1767225660000; /* 2026-01-01T00:01:00Z */
	a->invoice_number = 17;
	strcpy(a->plan, "<script>alert(1)</script>");
	strcpy(a->customer_email, "a\"onerror=\"x@b.example");
}

static void
test_access_page_reveals_the_key_once_and_escapes_it(void **state)
{
	pw_access a;
	bridge_buf b;
	const char *page;

	(void) state;
	hostile_access(&a);
	strcpy(a.access_key, "ak_<img src=x onerror=alert(1)>");
	strcpy(a.access_key_id, "ent_1");
	a.entitlement_active = true;
	strcpy(a.merchant_name, "Acme <i>");
	bridge_buf_init(&b, 64 * 1024);
	bridge_page_access(&b, &a, NULL, NULL, NONCE);
	page = bridge_buf_str(&b);
	assert_no_foreign_markup(page);
	assert_null(strstr(page, "<script>"));
	assert_null(strstr(page, "<img"));
	assert_non_null(strstr(page, "ak_&lt;img src=x onerror=alert(1)&gt;"));
	assert_non_null(strstr(page, "it will not be shown again"));
	assert_non_null(strstr(page, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(page, "a&quot;onerror=&quot;x@b.example"));
	assert_non_null(strstr(page, "<dd class=\"amount\">49.00 EUR</dd>"));
	assert_non_null(strstr(page, "<dd>17</dd>"));
	assert_non_null(strstr(page, "2026-01-01 00:01:00 UTC"));
	assert_null(strstr(page, "already revealed"));
	assert_non_null(strstr(page, "<dt>Merchant</dt><dd>Acme &lt;i&gt;</dd>"));
	assert_null(strstr(page, "<form")); /* the POST's page: nothing left to reveal */
	bridge_buf_wipe(&b);

	/* the GET: the key still sealed, a form that posts token and csrf back */
	a.access_key[0] = '\0';
	bridge_buf_init(&b, 64 * 1024);
	bridge_page_access(&b, &a, "aaa.bbb\"><x>", "csrf_\"1", NONCE);
	page = bridge_buf_str(&b);
	assert_no_foreign_markup(page);
	assert_non_null(strstr(page, "<form method=\"post\" id=\"pw-reveal-form\" action=\"/access/cs_1\">"));
	assert_non_null(strstr(page, "name=\"token\" value=\"aaa.bbb&quot;&gt;&lt;x&gt;\""));
	assert_non_null(strstr(page, "name=\"csrf\" value=\"csrf_&quot;1\""));
	assert_non_null(strstr(page, "id=\"pw-reveal\""));
	assert_null(strstr(page, "pw-key"));
	bridge_buf_wipe(&b);

	a.already_revealed = true;
	bridge_buf_init(&b, 64 * 1024);
	bridge_page_access(&b, &a, "t", "c", NONCE);
	page = bridge_buf_str(&b);
	assert_non_null(strstr(page, "already revealed"));
	assert_null(strstr(page, "pw-key"));
	assert_null(strstr(page, "<form"));
	bridge_buf_fini(&b);

	a.already_revealed = false; /* refunded: nothing to reveal */
	a.entitlement_active = false;
	bridge_buf_init(&b, 64 * 1024);
	bridge_page_access(&b, &a, "t", "c", NONCE);
	page = bridge_buf_str(&b);
	assert_non_null(strstr(page, "pw-inactive"));
	assert_null(strstr(page, "<form"));
	bridge_buf_fini(&b);
}

static void
test_error_page_escapes_title_and_message(void **state)
{
	bridge_buf b;
	const char *page;

	(void) state;
	bridge_buf_init(&b, 64 * 1024);
	bridge_page_error(&b, 404, "Not <found>", "no <script>x</script> here", NONCE);
	page = bridge_buf_str(&b);
	assert_no_foreign_markup(page);
	assert_non_null(strstr(page, "<h1>404 Not &lt;found&gt;</h1>"));
	assert_non_null(strstr(page, "no &lt;script&gt;x&lt;/script&gt; here"));
	bridge_buf_fini(&b);
}

static void
test_time_is_utc_and_zero_is_a_dash(void **state)
{
	char t[32];

	(void) state;
	bridge_time_utc(t, sizeof(t), 0);
	assert_string_equal("-", t);
	bridge_time_utc(t, sizeof(t), 1767225660999);
	assert_string_equal("2026-01-01 00:01:00 UTC", t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape_escapes_the_five_characters),
		cmocka_unit_test(test_html_escape_keeps_utf8_and_replaces_garbage),
		cmocka_unit_test(test_buf_refuses_to_grow_past_its_maximum),
		cmocka_unit_test(test_checkout_page_escapes_every_value),
		cmocka_unit_test(test_checkout_page_formats_amount_by_currency_exponent),
		cmocka_unit_test(test_paid_checkout_page_shows_the_access_link),
		cmocka_unit_test(test_checkout_page_offers_test_buttons_and_urls_to_the_customer_only),
		cmocka_unit_test(test_continue_url_carries_the_session_id),
		cmocka_unit_test(test_access_page_reveals_the_key_once_and_escapes_it),
		cmocka_unit_test(test_error_page_escapes_title_and_message),
		cmocka_unit_test(test_time_is_utc_and_zero_is_a_dash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
