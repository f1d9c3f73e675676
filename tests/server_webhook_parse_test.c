/*
 * server_webhook_parse_test.c - verified webhook bodies -> pw_event
 * (server/srv_webhook_parse.c): every fixture field by field, every event
 * type mapping, exact amounts, and malformed bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "srv_webhook.h"

#define SID "ps_2f6c1e9a4b7d"

static srv_webhook_config cfg;

/* Standard Webhooks and Razorpay headers used with hand-written bodies. */
static const srv_header std_headers[] = {
	{ "webhook-id", "msg_test_0001" },
	{ "webhook-timestamp", "1767225660" },
	{ "webhook-signature", "v1,unused-here" },
};
static const srv_header rzp_headers[] = {
	{ "x-razorpay-signature", "unused-here" },
	{ "x-razorpay-event-id", "evt_unsigned_0001" },
};

static int
setup(void **state)
{
	(void) state;
	if (sodium_init() < 0) {
		return -1;
	}
	srv_webhook_config_init(&cfg);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	srv_webhook_config_fini(&cfg);
	return 0;
}

static const srv_header *
headers_for(pw_provider p, size_t *n)
{
	switch (p) {
	case PW_PROVIDER_RAZORPAY:
		*n = sizeof(rzp_headers) / sizeof(rzp_headers[0]);
		return rzp_headers;
	case PW_PROVIDER_ONECOM:
	case PW_PROVIDER_WEB3:
#ifdef PW_TEST_HOOKS
	case PW_PROVIDER_FAKE: /* test builds' provider: Standard Webhooks too */
#endif
		*n = sizeof(std_headers) / sizeof(std_headers[0]);
		return std_headers;
	case PW_PROVIDER_STRIPE:
	case PW_PROVIDER_NONE:
		break;
	}
	*n = 0;
	return NULL;
}

/* Parses a NUL-terminated body with the provider's usual headers. */
static pw_status
parse_str(pw_provider p, const char *body, pw_event *ev, char *why, size_t why_size)
{
	size_t n;
	const srv_header *h = headers_for(p, &n);

	return srv_webhook_parse(&cfg, p, h, n, (const uint8_t *) body, strlen(body), ev, why,
	    why_size);
}

/* Parses and expects PW_INVALID_ARGUMENT with a reason and a zeroed event. */
static void
expect_invalid(pw_provider p, const char *body, const char *why_part)
{
	static const pw_event zero;
	char why[256] = "";
	pw_event ev;

	memset(&ev, 0x55, sizeof(ev));
	assert_int_equal(PW_INVALID_ARGUMENT, parse_str(p, body, &ev, why, sizeof(why)));
	if (why_part != NULL && strstr(why, why_part) == NULL) {
		fail_msg("why \"%s\" does not mention \"%s\" (body %.80s)", why, why_part, body);
	}
	assert_true(strlen(why) > 0);
	assert_memory_equal(&zero, &ev, sizeof(ev));
}

static pw_event_kind
kind_of(pw_provider p, const char *body)
{
	char why[256];
	pw_event ev;
	pw_status rv = parse_str(p, body, &ev, why, sizeof(why));

	if (rv != PW_OK) {
		fail_msg("parse failed: %s (%s)", pw_status_name(rv), why);
	}
	return ev.kind;
}

static pw_status
parse_fixture(pw_provider p, const char *file, const srv_header *h, size_t nh, pw_event *ev)
{
	char path[1024];
	char why[256];
	uint8_t *buf;
	long sz;
	FILE *f;
	pw_status rv;

	snprintf(path, sizeof(path), "%s/%s", PW_FIXTURES_DIR, file);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(0, fseek(f, 0, SEEK_END));
	sz = ftell(f);
	assert_int_equal(0, fseek(f, 0, SEEK_SET));
	buf = malloc((size_t) sz);
	assert_non_null(buf);
	assert_int_equal((size_t) sz, fread(buf, 1, (size_t) sz, f));
	fclose(f);
	rv = srv_webhook_parse(&cfg, p, h, nh, buf, (size_t) sz, ev, why, sizeof(why));
	if (rv != PW_OK) {
		print_error("%s: %s\n", file, why);
	}
	free(buf);
	return rv;
}

/* ---------------------------------------------------------------------------
 * Every fixture, field by field
 */

/* A Stripe charge of `amount` (Stripe's units) in currency cur (lower
 * case, as Stripe sends it), refunded `refunded`. */
static pw_status
stripe_units_parse(const char *cur, long long amount, long long refunded, pw_event *ev)
{
	char body[512];
	char why[256];

	snprintf(body, sizeof(body),
	    "{\"id\":\"evt_u\",\"type\":\"charge.refunded\",\"data\":{\"object\":"
	    "{\"id\":\"ch_u\",\"payment_intent\":\"pi_u\",\"amount\":%lld,"
	    "\"amount_refunded\":%lld,\"currency\":\"%s\"}}}", amount, refunded, cur);
	return parse_str(PW_PROVIDER_STRIPE, body, ev, why, sizeof(why));
}

static void
test_parse_stripe_converts_its_currency_units_to_iso_minor_units(void **state)
{
	static const struct {
		const char *cur;     /* as Stripe sends it */
		long long stripe;    /* Stripe's amount */
		long long minor;     /* paywire's minor units (ISO 4217 exponent) */
	} rows[] = {
		{ "isk", 490000, 4900 },   /* ISO 0, Stripe two-decimal: 100 = 1 ISK */
		{ "mga", 5000, 500000 },   /* ISO 2, Stripe zero-decimal */
		{ "jpy", 500, 500 },       /* both 0 */
		{ "ugx", 5000, 5000 },     /* both 0 */
		{ "huf", 490000, 490000 }, /* both 2 (Stripe's whole units are for payouts only) */
		{ "twd", 4900, 4900 },     /* both 2 */
		{ "kwd", 4900, 4900 },     /* both 3 */
		{ "eur", 4900, 4900 },     /* both 2 */
	};
	pw_event ev;

	(void) state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(PW_OK, stripe_units_parse(rows[i].cur, rows[i].stripe,
		    rows[i].stripe / 2 - (rows[i].stripe / 2) % 100, &ev));
		assert_true(ev.amount_minor == rows[i].minor);
	}
	/* the refunded total is converted too: 2000 ISK refunded of 4900 */
	assert_int_equal(PW_OK, stripe_units_parse("isk", 490000, 200000, &ev));
	assert_int_equal(4900, ev.amount_minor);
	assert_int_equal(2000, ev.amount_refunded_minor);
	/* a fraction of a krona has no ISO minor unit: refused, not rounded */
	assert_int_equal(PW_INVALID_ARGUMENT, stripe_units_parse("isk", 490050, 0, &ev));
	assert_int_equal(PW_INVALID_ARGUMENT, stripe_units_parse("isk", 490000, 150, &ev));
	/* a Stripe MGA amount past the largest amount once in minor units */
	assert_int_equal(PW_INVALID_ARGUMENT,
	    stripe_units_parse("mga", PW_AMOUNT_MINOR_MAX / 10, 0, &ev));
}

static void
test_parse_stripe_checkout_completed_fixture(void **state)
{
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_STRIPE,
	                            "stripe.checkout.session.completed.json", NULL, 0, &ev));
	assert_int_equal(PW_PROVIDER_STRIPE, ev.provider);
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("evt_1PwTestCheckoutCompleted01", ev.event_id);
	assert_string_equal("checkout.session.completed", ev.event_type);
	assert_string_equal(SID, ev.session_ref);
	assert_true(ev.has_amount);
	assert_int_equal(4900, ev.amount_minor);
	assert_string_equal("EUR", ev.currency);
	assert_int_equal(0, ev.live);
	assert_string_equal("pi_3PwTestPaymentIntent0001", ev.payment_ref);
	assert_string_equal("", ev.charge_ref);
	assert_string_equal("cs_test_a1PaywireExampleSession0001", ev.order_ref);
	assert_int_equal(1767225660, ev.event_unix_s);
	assert_int_equal(0, ev.amount_refunded_minor);
}

static void
test_parse_stripe_payment_intent_fixtures(void **state)
{
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_STRIPE,
	                            "stripe.payment_intent.succeeded.json", NULL, 0, &ev));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("evt_3PwTestPaymentSucceeded01", ev.event_id);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("pi_3PwTestPaymentIntent0001", ev.payment_ref);
	assert_string_equal("ch_3PwTestCharge000001", ev.charge_ref);
	assert_string_equal("", ev.order_ref);
	assert_int_equal(4900, ev.amount_minor);
	assert_string_equal("EUR", ev.currency);
	assert_int_equal(1767225659, ev.event_unix_s);

	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_STRIPE,
	                            "stripe.payment_intent.payment_failed.json", NULL, 0, &ev));
	assert_int_equal(PW_EV_PAYMENT_FAILED, ev.kind);
	assert_string_equal("evt_3PwTestPaymentFailed0001", ev.event_id);
	assert_string_equal("payment_intent.payment_failed", ev.event_type);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("ch_3PwTestChargeDeclined1", ev.charge_ref);
	/* the attempted amount, not amount_received (0) */
	assert_int_equal(4900, ev.amount_minor);
	assert_int_equal(0, ev.live);
}

static void
test_parse_stripe_charge_refunded_fixture_is_cumulative_partial_refund(void **state)
{
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_STRIPE, "stripe.charge.refunded.json",
	                            NULL, 0, &ev));
	assert_int_equal(PW_EV_REFUND, ev.kind);
	assert_string_equal("evt_3PwTestChargeRefunded01", ev.event_id);
	assert_string_equal("ch_3PwTestCharge000001", ev.charge_ref);
	assert_string_equal("pi_3PwTestPaymentIntent0001", ev.payment_ref);
	assert_int_equal(4900, ev.amount_minor);
	assert_int_equal(1900, ev.amount_refunded_minor);
	assert_string_equal("EUR", ev.currency);
	assert_int_equal(1767830400, ev.event_unix_s);
	assert_non_null(strstr(ev.detail, "partial"));
}

static void
test_parse_razorpay_fixtures_derive_event_id_from_signed_body(void **state)
{
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_RAZORPAY, "razorpay.payment.captured.json",
	                            rzp_headers, 2, &ev));
	assert_int_equal(PW_PROVIDER_RAZORPAY, ev.provider);
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("payment.captured:pay_PwTestPayment001", ev.event_id);
	assert_string_equal("payment.captured", ev.event_type);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("pay_PwTestPayment001", ev.payment_ref);
	assert_string_equal("order_PwTestOrder0001", ev.order_ref);
	assert_int_equal(49900, ev.amount_minor);
	assert_string_equal("INR", ev.currency);
	assert_int_equal(-1, ev.live);
	assert_int_equal(1767225660, ev.event_unix_s);
	assert_non_null(strstr(ev.detail, "x-razorpay-event-id evt_unsigned_0001"));

	/* the unsigned header does not change the dedup key */
	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_RAZORPAY, "razorpay.payment.captured.json",
	                            NULL, 0, &ev));
	assert_string_equal("payment.captured:pay_PwTestPayment001", ev.event_id);

	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_RAZORPAY, "razorpay.payment.failed.json",
	                            rzp_headers, 2, &ev));
	assert_int_equal(PW_EV_PAYMENT_FAILED, ev.kind);
	assert_string_equal("payment.failed:pay_PwTestPayment000", ev.event_id);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("pay_PwTestPayment000", ev.payment_ref);
	assert_int_equal(1767225615, ev.event_unix_s);
	assert_non_null(strstr(ev.detail, "payment_failed"));
}

static void
test_parse_standard_webhooks_fixtures(void **state)
{
	const srv_header web3_h[] = { { "webhook-id", "msg_fixture_web3_0001" },
		{ "webhook-timestamp", "1767225660" } };
	const srv_header one_h[] = { { "webhook-id", "msg_fixture_onecom_0001" },
		{ "webhook-timestamp", "1767225660" } };
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_WEB3, "web3.transfer.confirmed.json",
	                            web3_h, 2, &ev));
	assert_int_equal(PW_PROVIDER_WEB3, ev.provider);
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind); /* 12 >= base's 12 */
	assert_string_equal("msg_fixture_web3_0001", ev.event_id);
	assert_string_equal("transfer.confirmed", ev.event_type);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal(
	    "base:0x00000000000000000000000000000000000000000000000000000000deadbeef:7",
	    ev.payment_ref);
	assert_string_equal("base", ev.network);
	assert_int_equal(12, ev.confirmations);
	assert_true(ev.has_amount);
	assert_int_equal(4900, ev.amount_minor);
	assert_string_equal("EUR", ev.currency);
	assert_int_equal(-1, ev.live);
	assert_int_equal(1767225660, ev.event_unix_s);

	assert_int_equal(PW_OK, parse_fixture(PW_PROVIDER_ONECOM, "onecom.payment.completed.json",
	                            one_h, 2, &ev));
	assert_int_equal(PW_PROVIDER_ONECOM, ev.provider);
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("msg_fixture_onecom_0001", ev.event_id);
	assert_string_equal("payment.completed", ev.event_type);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("onepay_7731", ev.payment_ref);
	assert_int_equal(4900, ev.amount_minor);
	assert_string_equal("EUR", ev.currency);
	assert_int_equal(1767225660, ev.event_unix_s);

	/* the ids come from the (signed) headers: without them, malformed */
	assert_int_equal(PW_INVALID_ARGUMENT, parse_fixture(PW_PROVIDER_ONECOM,
	                                          "onecom.payment.completed.json", one_h, 1, &ev));
	{
		const srv_header bad_ts[] = { { "webhook-id", "msg_fixture_onecom_0001" },
			{ "webhook-timestamp", "" } };
		assert_int_equal(PW_INVALID_ARGUMENT, parse_fixture(PW_PROVIDER_ONECOM,
		                                          "onecom.payment.completed.json", bad_ts, 2, &ev));
	}
}

/* ---------------------------------------------------------------------------
 * Event type mappings
 */

#define STRIPE_CS(type, extra)                                                           \
	"{\"id\":\"evt_1\",\"type\":\"" type "\",\"created\":1,\"livemode\":true,"        \
	"\"data\":{\"object\":{\"id\":\"cs_1\",\"amount_total\":4900,\"currency\":\"eur\"," \
	"\"client_reference_id\":\"" SID "\",\"payment_intent\":null" extra "}}}"
#define STRIPE_PI(type, extra)                                                           \
	"{\"id\":\"evt_2\",\"type\":\"" type "\",\"data\":{\"object\":{\"id\":\"pi_1\","  \
	"\"amount\":4900,\"currency\":\"usd\",\"latest_charge\":\"ch_1\"" extra "}}}"
#define CS_COMPLETED(ps) \
	STRIPE_CS("checkout.session.completed", ",\"payment_status\":\"" ps "\"")
#define STRIPE_DISPUTE(type, status)                                                     \
	"{\"id\":\"evt_3\",\"type\":\"" type "\",\"data\":{\"object\":{\"id\":\"du_1\","  \
	"\"charge\":\"ch_1\",\"payment_intent\":\"pi_1\",\"amount\":4900,"                  \
	"\"currency\":\"eur\",\"status\":\"" status "\"}}}"

static void
test_parse_stripe_event_types_map_to_kinds(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED,
	    kind_of(PW_PROVIDER_STRIPE, CS_COMPLETED("paid")));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, kind_of(PW_PROVIDER_STRIPE,
	    STRIPE_CS("checkout.session.completed", ",\"payment_status\":\"no_payment_required\"")));
	assert_int_equal(PW_EV_PAYMENT_PENDING,
	    kind_of(PW_PROVIDER_STRIPE, CS_COMPLETED("unpaid")));
	assert_int_equal(PW_EV_IGNORED,
	    kind_of(PW_PROVIDER_STRIPE, CS_COMPLETED("new")));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_CS("checkout.session.async_payment_succeeded", "")));
	assert_int_equal(PW_EV_PAYMENT_FAILED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_CS("checkout.session.async_payment_failed", "")));
	assert_int_equal(PW_EV_SESSION_EXPIRED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_CS("checkout.session.expired", "")));
	assert_int_equal(PW_EV_PAYMENT_PENDING,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_PI("payment_intent.processing", "")));
	assert_int_equal(PW_EV_PAYMENT_FAILED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_PI("payment_intent.payment_failed", "")));
	assert_int_equal(PW_EV_PAYMENT_CANCELED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_PI("payment_intent.canceled", "")));
	assert_int_equal(PW_EV_DISPUTE_OPENED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_DISPUTE("charge.dispute.created", "needs_response")));
	assert_int_equal(PW_EV_DISPUTE_WON,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_DISPUTE("charge.dispute.closed", "won")));
	assert_int_equal(PW_EV_DISPUTE_LOST,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_DISPUTE("charge.dispute.closed", "lost")));
	assert_int_equal(PW_EV_IGNORED,
	    kind_of(PW_PROVIDER_STRIPE, STRIPE_DISPUTE("charge.dispute.closed", "warning_closed")));

	/* checkout completed, unpaid: live mode, refs and the reason */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            CS_COMPLETED("unpaid"),
	                            &ev, why, sizeof(why)));
	assert_int_equal(1, ev.live);
	assert_string_equal("cs_1", ev.order_ref);
	assert_string_equal("", ev.payment_ref);
	assert_non_null(strstr(ev.detail, "unpaid"));

	/* dispute: charge and payment intent refs, disputed amount */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            STRIPE_DISPUTE("charge.dispute.closed", "lost"), &ev, why,
	                            sizeof(why)));
	assert_string_equal("ch_1", ev.charge_ref);
	assert_string_equal("pi_1", ev.payment_ref);
	assert_int_equal(4900, ev.amount_minor);
	assert_string_equal("", ev.session_ref);

	/* charge.succeeded: charge and payment intent refs */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            "{\"id\":\"evt_4\",\"type\":\"charge.succeeded\",\"data\":{\"object\":"
	                            "{\"id\":\"ch_9\",\"payment_intent\":\"pi_9\",\"amount\":100,"
	                            "\"currency\":\"jpy\"}}}",
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("ch_9", ev.charge_ref);
	assert_string_equal("pi_9", ev.payment_ref);
	assert_int_equal(100, ev.amount_minor);
	assert_string_equal("JPY", ev.currency);
	assert_int_equal(-1, ev.live);

	/* payment_intent.succeeded uses amount_received */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            STRIPE_PI("payment_intent.succeeded", ",\"amount_received\":4000"),
	                            &ev, why, sizeof(why)));
	assert_int_equal(4000, ev.amount_minor);
	assert_string_equal("USD", ev.currency);
}

static void
test_parse_stripe_unknown_type_is_ignored_ok(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            "{\"id\":\"evt_9\",\"type\":\"customer.created\",\"livemode\":false,"
	                            "\"data\":{\"object\":{\"id\":\"cus_1\"}},\"extra\":[1,2]}",
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_IGNORED, ev.kind);
	assert_string_equal("evt_9", ev.event_id);
	assert_string_equal("customer.created", ev.event_type);
	assert_false(ev.has_amount);
	assert_true(strlen(ev.detail) > 0);
	/* without data at all, still fine: nothing is read from it */
	assert_int_equal(PW_EV_IGNORED,
	    kind_of(PW_PROVIDER_STRIPE, "{\"id\":\"evt_9\",\"type\":\"invoice.paid\"}"));
}

static void
test_parse_stripe_event_without_metadata_has_empty_session_ref(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE, STRIPE_PI("payment_intent.succeeded", ""),
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("", ev.session_ref);
	assert_string_equal("pi_1", ev.payment_ref);
	assert_string_equal("ch_1", ev.charge_ref);
	/* metadata present but empty, or without session_id */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            STRIPE_PI("payment_intent.canceled", ",\"metadata\":{}"), &ev, why,
	                            sizeof(why)));
	assert_string_equal("", ev.session_ref);
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            STRIPE_PI("payment_intent.canceled",
	                                ",\"metadata\":{\"session_id\":\"" SID "\"}"),
	                            &ev, why, sizeof(why)));
	assert_string_equal(SID, ev.session_ref);
	/* checkout without client_reference_id falls back to metadata.session_id */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_STRIPE,
	                            "{\"id\":\"evt_1\",\"type\":\"checkout.session.expired\",\"data\":"
	                            "{\"object\":{\"id\":\"cs_2\",\"client_reference_id\":null,"
	                            "\"metadata\":{\"session_id\":\"cs_fallback\"}}}}",
	                            &ev, why, sizeof(why)));
	assert_string_equal("cs_fallback", ev.session_ref);
	assert_false(ev.has_amount);
}

#define RZP_PAYMENT(event, notes)                                                          \
	"{\"entity\":\"event\",\"event\":\"" event "\",\"payload\":{\"payment\":{\"entity\":" \
	"{\"id\":\"pay_1\",\"amount\":100,\"currency\":\"INR\",\"order_id\":\"order_1\","    \
	"\"notes\":" notes "}}},\"created_at\":1700000000}"

static void
test_parse_razorpay_event_types_and_notes(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	assert_int_equal(PW_EV_PAYMENT_PENDING,
	    kind_of(PW_PROVIDER_RAZORPAY, RZP_PAYMENT("payment.authorized", "[]")));
	/* notes [] when unset: no reference, still OK */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY, RZP_PAYMENT("payment.captured", "[]"),
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("", ev.session_ref);
	assert_string_equal("pay_1", ev.payment_ref);
	assert_string_equal("order_1", ev.order_ref);
	assert_string_equal("payment.captured:pay_1", ev.event_id);
	/* notes null or absent: the same */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY, RZP_PAYMENT("payment.captured", "null"),
	                            &ev, why, sizeof(why)));
	assert_string_equal("", ev.session_ref);
	/* notes an object */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY,
	                            RZP_PAYMENT("payment.captured", "{\"session_id\":\"" SID "\"}"), &ev,
	                            why, sizeof(why)));
	assert_string_equal(SID, ev.session_ref);
	/* a non-empty array or a string is not what Razorpay sends */
	expect_invalid(PW_PROVIDER_RAZORPAY, RZP_PAYMENT("payment.captured", "[\"x\"]"), "notes");
	expect_invalid(PW_PROVIDER_RAZORPAY, RZP_PAYMENT("payment.captured", "\"x\""), "notes");

	/* payment notes [] but the order has the reference */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY,
	                            "{\"event\":\"order.paid\",\"payload\":{\"payment\":{\"entity\":"
	                            "{\"id\":\"pay_2\",\"amount\":100,\"currency\":\"INR\","
	                            "\"order_id\":\"order_2\",\"notes\":[]}},\"order\":{\"entity\":"
	                            "{\"id\":\"order_2\",\"amount_paid\":100,\"currency\":\"INR\","
	                            "\"notes\":{\"session_id\":\"" SID "\"}}}}}",
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal("order.paid:order_2", ev.event_id);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("pay_2", ev.payment_ref);
	assert_string_equal("order_2", ev.order_ref);
	assert_int_equal(100, ev.amount_minor);
}

static void
test_parse_razorpay_refund_processed_reports_cumulative_refund(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	/* with the payment entity: cumulative = payment.amount_refunded */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY,
	                            "{\"event\":\"refund.processed\",\"payload\":{\"refund\":{\"entity\":"
	                            "{\"id\":\"rfnd_1\",\"payment_id\":\"pay_1\",\"amount\":1000,"
	                            "\"currency\":\"INR\"}},\"payment\":{\"entity\":{\"id\":\"pay_1\","
	                            "\"amount\":49900,\"currency\":\"INR\",\"amount_refunded\":3000,"
	                            "\"notes\":{\"session_id\":\"" SID "\"}}}}}",
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_REFUND, ev.kind);
	assert_string_equal("refund.processed:rfnd_1", ev.event_id);
	assert_string_equal("pay_1", ev.payment_ref);
	assert_int_equal(49900, ev.amount_minor);
	assert_int_equal(3000, ev.amount_refunded_minor);
	assert_string_equal(SID, ev.session_ref);
	/* without it: this refund's amount */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY,
	                            "{\"event\":\"refund.processed\",\"payload\":{\"refund\":{\"entity\":"
	                            "{\"id\":\"rfnd_2\",\"payment_id\":\"pay_1\",\"amount\":1000,"
	                            "\"currency\":\"INR\"}}}}",
	                            &ev, why, sizeof(why)));
	assert_int_equal(1000, ev.amount_refunded_minor);
	assert_string_equal("pay_1", ev.payment_ref);
	assert_string_equal("", ev.session_ref);
	/* refund and payment that disagree */
	expect_invalid(PW_PROVIDER_RAZORPAY,
	    "{\"event\":\"refund.processed\",\"payload\":{\"refund\":{\"entity\":"
	    "{\"id\":\"rfnd_1\",\"payment_id\":\"pay_1\",\"amount\":1000,\"currency\":\"INR\"}},"
	    "\"payment\":{\"entity\":{\"id\":\"pay_OTHER\",\"amount\":49900,\"currency\":\"INR\"}}}}",
	    "disagree");
}

static void
test_parse_razorpay_unknown_event_is_ignored_with_body_derived_id(void **state)
{
	const char *a = "{\"event\":\"refund.created\",\"payload\":{}}";
	const char *b = "{\"event\":\"refund.created\",\"payload\":{\"x\":1}}";
	char why[256];
	pw_event ev1, ev2, ev3;

	(void) state;
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY, a, &ev1, why, sizeof(why)));
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY, a, &ev2, why, sizeof(why)));
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_RAZORPAY, b, &ev3, why, sizeof(why)));
	assert_int_equal(PW_EV_IGNORED, ev1.kind);
	assert_string_equal(ev1.event_id, ev2.event_id);
	assert_string_not_equal(ev1.event_id, ev3.event_id);
	assert_memory_equal("refund.created:body-", ev1.event_id, 20);
}

#define ONECOM(event, rest) "{\"event\":\"" event "\",\"reference\":\"" SID "\"" rest "}"
#define WEB3(event, network, conf)                                                        \
	"{\"event\":\"" event "\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":\"0xABCdef\"," \
	"\"network\":\"" network "\",\"confirmations\":" conf ",\"log_index\":3,"              \
	"\"amount\":\"10\",\"currency\":\"USD\"}"

static void
test_parse_onecom_and_web3_event_types(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	assert_int_equal(PW_EV_PAYMENT_FAILED, kind_of(PW_PROVIDER_ONECOM, ONECOM("payment.failed", "")));
	assert_int_equal(PW_EV_IGNORED, kind_of(PW_PROVIDER_ONECOM, ONECOM("payment.created", "")));
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_ONECOM,
	                            ONECOM("payment.completed", ",\"amount\":\"49\",\"currency\":\"eur\""),
	                            &ev, why, sizeof(why)));
	assert_int_equal(4900, ev.amount_minor);
	assert_string_equal("EUR", ev.currency);
	assert_string_equal("msg_test_0001", ev.event_id);
	assert_string_equal("", ev.payment_ref);

	/* below the minimum: pending, with the count */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "ethereum", "3"),
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_PENDING, ev.kind);
	assert_non_null(strstr(ev.detail, "3/12 confirmations"));
	assert_int_equal(3, ev.confirmations);
	/* 0x hashes are lower-cased: one transaction, one spelling */
	assert_string_equal("ethereum:0xabcdef:3", ev.payment_ref);
	assert_int_equal(1000, ev.amount_minor);
	/* at the minimum: paid */
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED,
	    kind_of(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "ethereum", "12")));
	assert_int_equal(PW_EV_PAYMENT_PENDING,
	    kind_of(PW_PROVIDER_WEB3, WEB3("transfer.confirmed", "polygon", "127")));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED,
	    kind_of(PW_PROVIDER_WEB3, WEB3("transfer.confirmed", "Polygon", "128")));
	/* unknown network: pending, says why */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "solana", "1000"),
	                            &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_PENDING, ev.kind);
	assert_non_null(strstr(ev.detail, "no confirmation minimum configured for network solana"));
	/* ... until an operator configures one */
	assert_int_equal(PW_OK, srv_webhook_config_set_min_confirmations(&cfg, "solana:32"));
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED,
	    kind_of(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "solana", "1000")));
	srv_webhook_config_fini(&cfg);
	srv_webhook_config_init(&cfg);
	/* the seeds' relay shape: no log_index, no confirmations */
#define WEB3_SEED(network)                                                                   \
	"{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":"     \
	"\"0xABCdef\",\"network\":\"" network "\",\"amount\":\"10\",\"currency\":\"USD\"}"
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_WEB3, WEB3_SEED("base"), &ev, why, sizeof(why)));
	/* no log_index: a native transfer, index 0 */
	assert_string_equal("base:0xabcdef:0", ev.payment_ref);
	/* no count and no operator minimum (base's 12 is paywire's default): confirmed */
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_non_null(strstr(ev.detail, "confirmed by the relay"));
	assert_int_equal(1000, ev.amount_minor);
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, kind_of(PW_PROVIDER_WEB3, WEB3_SEED("solana")));
	/* an operator minimum for that network: a count is needed, pending */
	assert_int_equal(PW_OK, srv_webhook_config_set_min_confirmations(&cfg, "base:5"));
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_WEB3, WEB3_SEED("base"), &ev, why, sizeof(why)));
	assert_int_equal(PW_EV_PAYMENT_PENDING, ev.kind);
	assert_non_null(strstr(ev.detail, "the operator wants 5 on base"));
	/* ... other networks are unaffected */
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, kind_of(PW_PROVIDER_WEB3, WEB3_SEED("ethereum")));
	srv_webhook_config_fini(&cfg);
	srv_webhook_config_init(&cfg);
#undef WEB3_SEED
	/* other relay events are recorded and ignored */
	assert_int_equal(PW_EV_IGNORED, kind_of(PW_PROVIDER_WEB3,
	                                    "{\"event\":\"transfer.seen\",\"session_id\":\"" SID "\"}"));
}

/* ---------------------------------------------------------------------------
 * Exact amounts
 */

static int64_t
web3_amount(const char *amount_json, const char *currency)
{
	char body[512];
	char why[256];
	pw_event ev;
	pw_status rv;

	snprintf(body, sizeof(body),
	    "{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":"
	    "\"0x01\",\"network\":\"base\",\"confirmations\":20,\"log_index\":0,"
	    "\"amount\":%s,\"currency\":\"%s\"}",
	    amount_json, currency);
	rv = parse_str(PW_PROVIDER_WEB3, body, &ev, why, sizeof(why));
	return rv == PW_OK ? ev.amount_minor : -1;
}

static void
test_parse_decimal_amounts_are_exact_for_strings_and_numbers(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	assert_int_equal(4900, web3_amount("\"49.00\"", "EUR"));
	assert_int_equal(4900, web3_amount("49", "EUR"));
	assert_int_equal(4900, web3_amount("49.00", "EUR"));
	assert_int_equal(4900, web3_amount("49.0", "EUR"));
	/* 19.99 is 19.989999... as a double: the raw token is used, never the double */
	assert_int_equal(1999, web3_amount("19.99", "EUR"));
	assert_int_equal(1999, web3_amount("\"19.99\"", "EUR"));
	assert_int_equal(3, web3_amount("0.03", "USD"));
	assert_int_equal(500, web3_amount("500", "JPY"));
	assert_int_equal(1234, web3_amount("\"1.234\"", "KWD"));
	assert_int_equal(1000000000000, web3_amount("10000000000.00", "EUR"));
	/* refused: too precise, signs, exponents, zero, too large, wrong types */
	assert_int_equal(-1, web3_amount("\"49.001\"", "EUR"));
	assert_int_equal(-1, web3_amount("49.001", "EUR"));
	assert_int_equal(-1, web3_amount("\"49.5\"", "JPY"));
	assert_int_equal(-1, web3_amount("49.5", "JPY"));
	assert_int_equal(-1, web3_amount("-1", "EUR"));
	assert_int_equal(-1, web3_amount("\"-1\"", "EUR"));
	assert_int_equal(-1, web3_amount("1e3", "EUR"));
	assert_int_equal(-1, web3_amount("4.9E1", "EUR"));
	assert_int_equal(-1, web3_amount("\"\"", "EUR"));
	assert_int_equal(-1, web3_amount("\" 49\"", "EUR"));
	assert_int_equal(-1, web3_amount("0", "EUR"));
	assert_int_equal(-1, web3_amount("\"0.00\"", "EUR"));
	assert_int_equal(-1, web3_amount("10000000000.01", "EUR"));
	assert_int_equal(-1, web3_amount("99999999999999999999", "EUR"));
	assert_int_equal(-1, web3_amount("true", "EUR"));
	assert_int_equal(-1, web3_amount("null", "EUR"));
	assert_int_equal(-1, web3_amount("[49]", "EUR"));
	assert_int_equal(-1, web3_amount("\"49\"", "XYZ"));
	assert_int_equal(-1, web3_amount("\"49\"", "EU"));

	/* the raw scanner finds the top-level member, not a nested one, and
	 * decodes escaped keys exactly as jansson does */
	assert_int_equal(PW_OK, parse_str(PW_PROVIDER_ONECOM,
	                            "{ \"payload\" : {\"amount\": 1, \"txn_id\":\"t}\\\"x\"} ,\n"
	                            "\"event\":\"payment.completed\",\"reference\":\"" SID "\","
	                            "\"\\u0061mount\"\t:\t19.99 ,\"currency\":\"EUR\"}",
	                            &ev, why, sizeof(why)));
	assert_int_equal(1999, ev.amount_minor);
	assert_string_equal("t}\"x", ev.payment_ref);
	expect_invalid(PW_PROVIDER_ONECOM,
	    ONECOM("payment.completed", ",\"amount\":\"49.001\",\"currency\":\"EUR\""), "amount");
	expect_invalid(PW_PROVIDER_ONECOM,
	    ONECOM("payment.completed", ",\"amount\":49.5,\"currency\":\"JPY\""), "JPY");
	expect_invalid(PW_PROVIDER_ONECOM,
	    ONECOM("payment.completed", ",\"amount\":\"49\",\"currency\":\"XYZ\""), "unknown currency");
	expect_invalid(PW_PROVIDER_ONECOM, ONECOM("payment.completed", ",\"currency\":\"EUR\""),
	    "amount");
}

static void
test_parse_stripe_and_razorpay_amounts_must_be_integers_in_range(void **state)
{
	(void) state;
	expect_invalid(PW_PROVIDER_STRIPE,
	    STRIPE_PI("payment_intent.succeeded", ",\"amount_received\":49.5"),
	    "integer");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_2\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
	    "{\"id\":\"pi_1\",\"amount\":-5,\"currency\":\"usd\"}}}",
	    "out of range");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_2\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
	    "{\"id\":\"pi_1\",\"amount\":\"4900\",\"currency\":\"usd\"}}}",
	    "integer");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_2\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
	    "{\"id\":\"pi_1\",\"amount\":4900,\"currency\":\"zzz\"}}}",
	    "unknown currency ZZZ");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_2\",\"type\":\"charge.refunded\",\"data\":{\"object\":"
	    "{\"id\":\"ch_1\",\"amount\":4900,\"amount_refunded\":5000,\"currency\":\"usd\"}}}",
	    "amount_refunded");
	expect_invalid(PW_PROVIDER_RAZORPAY,
	    "{\"event\":\"payment.captured\",\"payload\":{\"payment\":{\"entity\":"
	    "{\"id\":\"pay_1\",\"amount\":499.00,\"currency\":\"INR\"}}}}",
	    "integer");
	expect_invalid(PW_PROVIDER_RAZORPAY,
	    "{\"event\":\"payment.captured\",\"payload\":{\"payment\":{\"entity\":"
	    "{\"id\":\"pay_1\",\"amount\":1000000000001,\"currency\":\"INR\"}}}}",
	    "out of range");
}

/* ---------------------------------------------------------------------------
 * Malformed bodies
 */

static void
test_parse_malformed_bodies_are_invalid_argument(void **state)
{
	char why[256];
	pw_event ev;

	(void) state;
	expect_invalid(PW_PROVIDER_STRIPE, "not json", "not valid JSON");
	expect_invalid(PW_PROVIDER_STRIPE, "", NULL);
	expect_invalid(PW_PROVIDER_STRIPE, "[{\"id\":\"evt_1\",\"type\":\"x\"}]", "not a JSON object");
	expect_invalid(PW_PROVIDER_STRIPE, "\"evt\"", NULL);
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\",\"type\":\"x\"} trailing", NULL);
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\",\"id\":\"evt_2\",\"type\":\"x\"}",
	    "twice");
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\",\"type\":\"x\\u0000y\"}", NULL);
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\"}", "type");
	expect_invalid(PW_PROVIDER_STRIPE, "{\"type\":\"charge.succeeded\"}", "id");
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\",\"type\":7}", "type");
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\",\"type\":\"\"}", "type");
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt_1\",\"type\":\"x\",\"livemode\":\"yes\"}",
	    "livemode");
	expect_invalid(PW_PROVIDER_STRIPE, "{\"id\":\"evt 1\",\"type\":\"x\"}", "printable");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\",\"data\":{}}", "data.object");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
	    "{\"amount\":1,\"currency\":\"usd\"}}}",
	    "data.object.id");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":"
	    "{\"id\":\"cs_1\"}}}",
	    "payment_status");
	expect_invalid(PW_PROVIDER_STRIPE,
	    "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\",\"data\":{\"object\":"
	    "{\"id\":\"pi_1\",\"amount\":1,\"currency\":\"usd\",\"metadata\":{\"session_id\":5}}}}",
	    "session_id");
	expect_invalid(PW_PROVIDER_RAZORPAY, "{\"payload\":{}}", "event");
	expect_invalid(PW_PROVIDER_RAZORPAY, "{\"event\":\"payment.captured\"}", "payload");
	expect_invalid(PW_PROVIDER_RAZORPAY, "{\"event\":\"payment.captured\",\"payload\":{\"payment\":"
	                                     "{\"entity\":{\"amount\":1,\"currency\":\"INR\"}}}}",
	    "payload.payment.entity.id");
	/* One.com: the reference is required (this integration is paywire's own) */
	expect_invalid(PW_PROVIDER_ONECOM,
	    "{\"event\":\"payment.completed\",\"amount\":\"49.00\",\"currency\":\"EUR\"}", "reference");
	expect_invalid(PW_PROVIDER_ONECOM,
	    "{\"event\":\"payment.failed\",\"reference\":\"\"}", "reference");
	expect_invalid(PW_PROVIDER_ONECOM, ONECOM("payment.completed", ",\"amount\":\"49\",\"currency\":"
	                                                               "\"EUR\",\"payload\":[]"),
	    "payload");
	/* Web3: session_id, network and tx are required; confirmations, when
	 * sent, must be a count */
	expect_invalid(PW_PROVIDER_WEB3,
	    "{\"event\":\"payment.confirmed\",\"blockchain_tx_id\":\"0x1\",\"network\":\"base\","
	    "\"confirmations\":20,\"log_index\":0,\"amount\":\"1\",\"currency\":\"EUR\"}",
	    "session_id");
	expect_invalid(PW_PROVIDER_WEB3,
	    "{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"network\":\"base\","
	    "\"confirmations\":20,\"log_index\":0,\"amount\":\"1\",\"currency\":\"EUR\"}",
	    "blockchain_tx_id");
	expect_invalid(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "base", "-1"), "confirmations");
	expect_invalid(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "base", "1.5"), "confirmations");
	expect_invalid(PW_PROVIDER_WEB3, WEB3("payment.confirmed", "ba se", "3"), "network");
	expect_invalid(PW_PROVIDER_WEB3,
	    "{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":"
	    "\"0x1:2\",\"network\":\"base\",\"confirmations\":20,\"log_index\":0,\"amount\":\"1\","
	    "\"currency\":\"EUR\"}",
	    "alphanumeric");
	/* not a provider */
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_parse(&cfg, PW_PROVIDER_NONE, NULL, 0,
	                                          (const uint8_t *) "{}", 2, &ev, why, sizeof(why)));
	/* the why of a decode error never echoes body bytes */
	assert_int_equal(PW_INVALID_ARGUMENT, parse_str(PW_PROVIDER_STRIPE, "{\"id\":\xff\xfe}", &ev,
	                                          why, sizeof(why)));
	assert_null(strchr(why, '\xff'));
}

static void
test_parse_overlong_strings_are_invalid_not_truncated(void **state)
{
	char body[2048];
	char longid[400];
	char tx[120];

	(void) state;
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';

	/* event id: 255 bytes fit, 256 do not */
	longid[255] = '\0';
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"x.y\"}", longid);
	assert_int_equal(PW_EV_IGNORED, kind_of(PW_PROVIDER_STRIPE, body));
	longid[255] = 'a';
	longid[256] = '\0';
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"type\":\"x.y\"}", longid);
	expect_invalid(PW_PROVIDER_STRIPE, body, "longer than 255");
	longid[256] = 'a';

	/* type over 95 bytes */
	longid[96] = '\0';
	snprintf(body, sizeof(body), "{\"id\":\"evt_1\",\"type\":\"%s\"}", longid);
	expect_invalid(PW_PROVIDER_STRIPE, body, "type");
	longid[96] = 'a';

	/* session reference over 127 bytes */
	longid[128] = '\0';
	snprintf(body, sizeof(body), "{\"event\":\"payment.failed\",\"reference\":\"%s\"}", longid);
	expect_invalid(PW_PROVIDER_ONECOM, body, "reference");
	snprintf(body, sizeof(body), STRIPE_PI("payment_intent.succeeded",
	                                 ",\"metadata\":{\"session_id\":\"%s\"}"), longid);
	expect_invalid(PW_PROVIDER_STRIPE, body, "session_id");
	snprintf(body, sizeof(body),
	    "{\"event\":\"payment.captured\",\"payload\":{\"payment\":{\"entity\":"
	    "{\"id\":\"%s\",\"amount\":1,\"currency\":\"INR\"}}}}", longid);
	expect_invalid(PW_PROVIDER_RAZORPAY, body, "payload.payment.entity.id");
	longid[128] = 'a';

	/* web3: a transaction id over the limit, and network:tx:log_index over 127 */
	memset(tx, 'b', sizeof(tx) - 1);
	tx[sizeof(tx) - 1] = '\0';
	snprintf(body, sizeof(body),
	    "{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":\"%s\","
	    "\"network\":\"base\",\"confirmations\":20,\"log_index\":0,\"amount\":\"1\","
	    "\"currency\":\"EUR\"}", tx);
	expect_invalid(PW_PROVIDER_WEB3, body, "blockchain_tx_id");
	tx[100] = '\0';
	snprintf(body, sizeof(body),
	    "{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":\"%s\","
	    "\"network\":\"a_rather_long_network_name_xyz1\",\"confirmations\":20,\"log_index\":0,"
	    "\"amount\":\"1\",\"currency\":\"EUR\"}", tx);
	expect_invalid(PW_PROVIDER_WEB3, body, "longer than 127");
	tx[95] = '\0';
	snprintf(body, sizeof(body),
	    "{\"event\":\"payment.confirmed\",\"session_id\":\"" SID "\",\"blockchain_tx_id\":\"%s\","
	    "\"network\":\"base\",\"confirmations\":20,\"log_index\":0,\"amount\":\"1\","
	    "\"currency\":\"EUR\"}", tx);
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, kind_of(PW_PROVIDER_WEB3, body));
}

/* ---------------------------------------------------------------------------
 * Subscriptions: Stripe's shapes (API reference: the Checkout Session in
 * subscription mode, the Invoice, the Subscription)
 */

#define SUB_CHECKOUT                                                                            \
	"{\"id\":\"evt_1SubCheckout0001\",\"object\":\"event\",\"api_version\":\"2024-06-20\","        \
	"\"created\":1767225660,\"livemode\":false,\"type\":\"checkout.session.completed\","         \
	"\"data\":{\"object\":{\"id\":\"cs_test_sub0001\",\"object\":\"checkout.session\","         \
	"\"amount_subtotal\":900,\"amount_total\":900,\"client_reference_id\":\"" SID "\","         \
	"\"currency\":\"eur\",\"customer\":\"cus_QabC0001\",\"invoice\":\"in_1Sub0001\","            \
	"\"metadata\":{},\"mode\":\"subscription\",\"payment_intent\":null,"                         \
	"\"payment_status\":\"paid\",\"status\":\"complete\",\"subscription\":\"sub_1QabC0001\"}}}"

/* An invoice event of type T, billing_reason R, its lines' periods LINES
 * ("[...]") and REST (more members of the invoice). */
#define SUB_INVOICE(T, R, LINES, REST)                                                          \
	"{\"id\":\"evt_1Inv0002\",\"object\":\"event\",\"api_version\":\"2024-06-20\","               \
	"\"created\":1769904060,\"livemode\":false,\"type\":\"" T "\",\"data\":{\"object\":{"       \
	"\"id\":\"in_1Inv0002\",\"object\":\"invoice\",\"amount_due\":900,\"amount_paid\":900,"     \
	"\"amount_remaining\":0,\"attempt_count\":1,\"billing_reason\":\"" R "\","                  \
	"\"currency\":\"eur\",\"customer\":\"cus_QabC0001\",\"lines\":{\"object\":\"list\","        \
	"\"data\":" LINES ",\"has_more\":false,\"total_count\":1,"                                   \
	"\"url\":\"/v1/invoices/in_1Inv0002/lines\"},\"metadata\":{},\"period_end\":1769904000,"     \
	"\"period_start\":1767225600,\"status\":\"paid\"" REST "}}}"

#define SUB_LINE(START, END)                                                                    \
	"{\"id\":\"il_1\",\"object\":\"line_item\",\"amount\":900,\"currency\":\"eur\","            \
	"\"period\":{\"end\":" END ",\"start\":" START "},\"type\":\"subscription\"}"

#define SUB_DELETED(REST)                                                                       \
	"{\"id\":\"evt_1SubDeleted0003\",\"object\":\"event\",\"created\":1772323260,"               \
	"\"livemode\":false,\"type\":\"customer.subscription.deleted\",\"data\":{\"object\":{"     \
	"\"object\":\"subscription\",\"customer\":\"cus_QabC0001\",\"status\":\"canceled\","        \
	"\"canceled_at\":1772323200,\"current_period_end\":1772323200,\"metadata\":{}" REST "}}}"

static pw_event
sub_parse(const char *body)
{
	char why[256] = "";
	pw_event ev;
	pw_status rv = parse_str(PW_PROVIDER_STRIPE, body, &ev, why, sizeof(why));

	if (rv != PW_OK) {
		fail_msg("parse failed: %s (%s)", pw_status_name(rv), why);
	}
	return ev;
}

static void
test_parse_stripe_subscription_checkout_carries_its_subscription_and_customer(void **state)
{
	pw_event ev = sub_parse(SUB_CHECKOUT);

	(void) state;
	assert_int_equal(PW_EV_PAYMENT_SUCCEEDED, ev.kind);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("sub_1QabC0001", ev.subscription_ref);
	assert_string_equal("cus_QabC0001", ev.customer_ref);
	assert_string_equal("cs_test_sub0001", ev.order_ref);
	assert_string_equal("", ev.payment_ref); /* null in subscription mode */
	assert_int_equal(900, ev.amount_minor);
	/* a one-time checkout has no subscription */
	ev = sub_parse(CS_COMPLETED("paid"));
	assert_string_equal("", ev.subscription_ref);
}

static void
test_parse_stripe_invoice_events(void **state)
{
	pw_event ev;

	(void) state;
	/* a renewal: the period is the latest line's, not the invoice's period_end */
	ev = sub_parse(SUB_INVOICE("invoice.payment_succeeded", "subscription_cycle",
	    "[" SUB_LINE("1769904000", "1772323200") "," SUB_LINE("1769904000", "1770000000") "]",
	    ",\"subscription\":\"sub_1QabC0001\",\"subscription_details\":{\"metadata\":"
	    "{\"session_id\":\"" SID "\"}}"));
	assert_int_equal(PW_EV_SUBSCRIPTION_PAID, ev.kind);
	assert_string_equal("evt_1Inv0002", ev.event_id);
	assert_string_equal("invoice.payment_succeeded", ev.event_type);
	assert_string_equal("sub_1QabC0001", ev.subscription_ref);
	assert_string_equal("cus_QabC0001", ev.customer_ref);
	assert_string_equal("in_1Inv0002", ev.order_ref);
	assert_string_equal(SID, ev.session_ref);
	assert_string_equal("subscription_cycle", ev.billing_reason);
	assert_true(ev.period_end_unix_s == 1772323200);
	assert_true(ev.has_amount && ev.amount_minor == 900);
	assert_string_equal("EUR", ev.currency);
	assert_int_equal(0, ev.live);
	/* failed, in the 2025 shape: the subscription under parent */
	ev = sub_parse(SUB_INVOICE("invoice.payment_failed", "subscription_cycle",
	    "[" SUB_LINE("1769904000", "1772323200") "]",
	    ",\"parent\":{\"type\":\"subscription_details\",\"subscription_details\":{"
	    "\"metadata\":{},\"subscription\":\"sub_1QabC0001\"}}"));
	assert_int_equal(PW_EV_SUBSCRIPTION_PAST_DUE, ev.kind);
	assert_string_equal("sub_1QabC0001", ev.subscription_ref);
	assert_string_equal("", ev.session_ref);
	assert_true(ev.period_end_unix_s == 1772323200);
	/* no lines: the period is unknown (0) */
	ev = sub_parse(SUB_INVOICE("invoice.payment_succeeded", "subscription_create", "[]",
	    ",\"subscription\":\"sub_1QabC0001\",\"payment_intent\":\"pi_3First\","
	    "\"charge\":\"ch_3First\""));
	assert_int_equal(PW_EV_SUBSCRIPTION_PAID, ev.kind);
	assert_string_equal("pi_3First", ev.payment_ref);
	assert_string_equal("ch_3First", ev.charge_ref);
	assert_int_equal(0, ev.period_end_unix_s);
	assert_string_equal("subscription_create", ev.billing_reason);
	/* an invoice of no subscription is not ours */
	ev = sub_parse(SUB_INVOICE("invoice.payment_succeeded", "manual", "[]", ""));
	assert_int_equal(PW_EV_IGNORED, ev.kind);
	assert_non_null(strstr(ev.detail, "invoice of no subscription"));
	/* malformed */
	expect_invalid(PW_PROVIDER_STRIPE, SUB_INVOICE("invoice.payment_succeeded",
	    "subscription_cycle", "{}", ",\"subscription\":\"sub_1\""), "lines.data must be an array");
	expect_invalid(PW_PROVIDER_STRIPE, SUB_INVOICE("invoice.payment_succeeded",
	    "subscription_cycle", "[" SUB_LINE("1", "\"soon\"") "]", ",\"subscription\":\"sub_1\""),
	    "period.end");
	expect_invalid(PW_PROVIDER_STRIPE, SUB_INVOICE("invoice.payment_failed",
	    "subscription_cycle", "[1]", ",\"subscription\":\"sub_1\""), "lines.data[]");
	expect_invalid(PW_PROVIDER_STRIPE, SUB_INVOICE("invoice.payment_failed",
	    "subscription_cycle", "[]", ",\"subscription\":7"), "data.object.subscription");
}

static void
test_parse_stripe_subscription_deleted(void **state)
{
	pw_event ev;

	(void) state;
	ev = sub_parse(SUB_DELETED(",\"id\":\"sub_1QabC0001\""));
	assert_int_equal(PW_EV_SUBSCRIPTION_ENDED, ev.kind);
	assert_string_equal("customer.subscription.deleted", ev.event_type);
	assert_string_equal("sub_1QabC0001", ev.subscription_ref);
	assert_string_equal("cus_QabC0001", ev.customer_ref);
	assert_string_equal("", ev.session_ref);
	assert_false(ev.has_amount);
	assert_true(ev.period_end_unix_s == 1772323200);
	assert_non_null(strstr(ev.detail, "subscription canceled"));
	/* the subscription's id is required */
	expect_invalid(PW_PROVIDER_STRIPE, SUB_DELETED(""), "data.object.id");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stripe_converts_its_currency_units_to_iso_minor_units),
		cmocka_unit_test(test_parse_stripe_checkout_completed_fixture),
		cmocka_unit_test(test_parse_stripe_subscription_checkout_carries_its_subscription_and_customer),
		cmocka_unit_test(test_parse_stripe_invoice_events),
		cmocka_unit_test(test_parse_stripe_subscription_deleted),
		cmocka_unit_test(test_parse_stripe_payment_intent_fixtures),
		cmocka_unit_test(test_parse_stripe_charge_refunded_fixture_is_cumulative_partial_refund),
		cmocka_unit_test(test_parse_razorpay_fixtures_derive_event_id_from_signed_body),
		cmocka_unit_test(test_parse_standard_webhooks_fixtures),
		cmocka_unit_test(test_parse_stripe_event_types_map_to_kinds),
		cmocka_unit_test(test_parse_stripe_unknown_type_is_ignored_ok),
		cmocka_unit_test(test_parse_stripe_event_without_metadata_has_empty_session_ref),
		cmocka_unit_test(test_parse_razorpay_event_types_and_notes),
		cmocka_unit_test(test_parse_razorpay_refund_processed_reports_cumulative_refund),
		cmocka_unit_test(test_parse_razorpay_unknown_event_is_ignored_with_body_derived_id),
		cmocka_unit_test(test_parse_onecom_and_web3_event_types),
		cmocka_unit_test(test_parse_decimal_amounts_are_exact_for_strings_and_numbers),
		cmocka_unit_test(test_parse_stripe_and_razorpay_amounts_must_be_integers_in_range),
		cmocka_unit_test(test_parse_malformed_bodies_are_invalid_argument),
		cmocka_unit_test(test_parse_overlong_strings_are_invalid_not_truncated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
