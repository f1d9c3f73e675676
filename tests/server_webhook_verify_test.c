/*
 * server_webhook_verify_test.c - webhook secrets and signature verification
 * (server/srv_webhook_verify.c): the published vectors of tests/fixtures,
 * every way a header can be wrong, rotation, and fresh payloads signed by the
 * providers' own libraries (the signer, run through node).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "srv_webhook.h"

#define STRIPE_SECRET "whsec_test_paywire_fixture_secret"
#define RZP_SECRET "rzp_webhook_fixture_secret"
#define STD_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define T0 INT64_C(1767225660)

#define STRIPE_CS_SIG "eefa676ddc4cf376e66f7a0391d220fc8f7596ca6970c5938c8f9760547ddc4a"
#define STRIPE_CS_HDR "t=1767225660,v1=" STRIPE_CS_SIG
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"

/* One published vector of tests/fixtures/README.md. */
typedef struct vector {
	const char *file;      /* fixture file name */
	pw_provider provider;  /* who signed it */
	const char *sig;       /* stripe-signature / x-razorpay-signature / webhook-signature */
	const char *msg_id;    /* webhook-id (Standard Webhooks), else NULL */
} vector;

static const vector vectors[] = {
	{ "stripe.checkout.session.completed.json", PW_PROVIDER_STRIPE, STRIPE_CS_HDR, NULL },
	{ "stripe.payment_intent.succeeded.json", PW_PROVIDER_STRIPE,
	    "t=1767225660,v1=87afc257a6414cb8f8df3645f65bed193e1cc58db2409e52475cd7f1b2a8936f", NULL },
	{ "stripe.payment_intent.payment_failed.json", PW_PROVIDER_STRIPE,
	    "t=1767225660,v1=60d4bc08c566bacd5d1ea3e693dfeed64e786afaf1a9e8d6714c45ca74429c8d", NULL },
	{ "stripe.charge.refunded.json", PW_PROVIDER_STRIPE,
	    "t=1767225660,v1=9f4ebd80269267a8791e7db9c21b976273130efd79e95612c50afc12cb8804e5", NULL },
	{ "razorpay.payment.captured.json", PW_PROVIDER_RAZORPAY,
	    "1e6432b4a7ce995d0e46472d8c1122eb069948b224d04fec5fe22dc50e1737b2", NULL },
	{ "razorpay.payment.failed.json", PW_PROVIDER_RAZORPAY,
	    "27555fd2e197c651ec388b94251e9f85977ae04858c928c6797be75f80b97a95", NULL },
	{ "web3.transfer.confirmed.json", PW_PROVIDER_WEB3,
	    "v1,PG+857N9YEp9ZJkUM3NltuhijNuRmzBSHTZ8w/tPzFo=", "msg_fixture_web3_0001" },
	{ "onecom.payment.completed.json", PW_PROVIDER_ONECOM,
	    "v1,to+cD9r2sa4QpCazi28ct3/0i/DYz1DZmwIJ0mV/ywM=", "msg_fixture_onecom_0001" },
};
#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* Headers of one request, built by the tests. */
typedef struct hdrs {
	srv_header h[8];       /* headers handed to verify */
	char names[8][64];     /* storage for names */
	char values[8][16384]; /* storage for values */
	size_t n;              /* headers in use */
} hdrs;

static void
hdrs_add(hdrs *hs, const char *name, const char *value)
{
	assert_true(hs->n < 8);
	assert_true(strlen(name) < sizeof(hs->names[0]));
	assert_true(strlen(value) < sizeof(hs->values[0]));
	strcpy(hs->names[hs->n], name);
	strcpy(hs->values[hs->n], value);
	hs->h[hs->n].name = hs->names[hs->n];
	hs->h[hs->n].value = hs->values[hs->n];
	hs->n++;
}

static uint8_t *
read_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long sz;

	if (f == NULL) {
		fail_msg("cannot open %s", path);
	}
	assert_int_equal(0, fseek(f, 0, SEEK_END));
	sz = ftell(f);
	assert_true(sz >= 0);
	assert_int_equal(0, fseek(f, 0, SEEK_SET));
	buf = malloc((size_t) sz + 1);
	assert_non_null(buf);
	assert_int_equal((size_t) sz, fread(buf, 1, (size_t) sz, f));
	buf[sz] = '\0';
	fclose(f);
	*len = (size_t) sz;
	return buf;
}

static uint8_t *
read_fixture(const char *name, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", PW_FIXTURES_DIR, name);
	return read_path(path, len);
}

/* The headers a vector was published with. */
static void
vector_headers(const vector *v, hdrs *hs)
{
	memset(hs, 0, sizeof(*hs));
	switch (v->provider) {
	case PW_PROVIDER_STRIPE:
		hdrs_add(hs, "stripe-signature", v->sig);
		break;
	case PW_PROVIDER_RAZORPAY:
		hdrs_add(hs, "x-razorpay-signature", v->sig);
		hdrs_add(hs, "x-razorpay-event-id", "evt_fixture_0001");
		break;
	case PW_PROVIDER_ONECOM:
	case PW_PROVIDER_WEB3:
#ifdef PW_TEST_HOOKS
	case PW_PROVIDER_FAKE: /* test builds' provider: Standard Webhooks too */
#endif
		hdrs_add(hs, "webhook-id", v->msg_id);
		hdrs_add(hs, "webhook-timestamp", "1767225660");
		hdrs_add(hs, "webhook-signature", v->sig);
		break;
	case PW_PROVIDER_NONE:
		fail();
	}
	hdrs_add(hs, "content-type", "application/json");
}

static void
config_fixture(srv_webhook_config *cfg)
{
	srv_webhook_config_init(cfg);
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(cfg, PW_PROVIDER_STRIPE, STRIPE_SECRET));
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(cfg, PW_PROVIDER_RAZORPAY, RZP_SECRET));
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(cfg, PW_PROVIDER_ONECOM, STD_SECRET));
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(cfg, PW_PROVIDER_WEB3, STD_SECRET));
}

/* Verifies a fixture body with headers hs at time now. */
static pw_status
verify_file(const srv_webhook_config *cfg, pw_provider p, const char *file, const hdrs *hs,
    int64_t now, char *why, size_t why_size)
{
	size_t len;
	uint8_t *body = read_fixture(file, &len);
	pw_status rv = srv_webhook_verify(cfg, p, hs->h, hs->n, body, len, now, why, why_size);

	free(body);
	return rv;
}

/* Stripe checkout vector with a custom stripe-signature header value. */
static pw_status
verify_stripe_header(const srv_webhook_config *cfg, const char *header, int64_t now, char *why,
    size_t why_size)
{
	hdrs hs;

	memset(&hs, 0, sizeof(hs));
	hdrs_add(&hs, "stripe-signature", header);
	return verify_file(cfg, PW_PROVIDER_STRIPE, vectors[0].file, &hs, now, why, why_size);
}

static int
setup_sodium(void **state)
{
	(void) state;
	return sodium_init() < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * Published vectors
 */

static void
test_verify_all_published_vectors_pass(void **state)
{
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;

	(void) state;
	config_fixture(&cfg);
	for (size_t i = 0; i < NVECTORS; i++) {
		vector_headers(&vectors[i], &hs);
		strcpy(why, "stale");
		assert_int_equal(PW_OK, verify_file(&cfg, vectors[i].provider, vectors[i].file, &hs,
		                            T0 + 1, why, sizeof(why)));
		assert_string_equal("", why);
	}
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_body_with_one_byte_changed_is_unauthenticated(void **state)
{
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;

	(void) state;
	config_fixture(&cfg);
	for (size_t i = 0; i < NVECTORS; i++) {
		size_t len;
		uint8_t *body = read_fixture(vectors[i].file, &len);
		vector_headers(&vectors[i], &hs);
		body[len / 2] ^= 0x01;
		assert_int_equal(PW_UNAUTHENTICATED, srv_webhook_verify(&cfg, vectors[i].provider,
		                                         hs.h, hs.n, body, len, T0 + 1, why, sizeof(why)));
		assert_non_null(strstr(why, "match"));
		body[len / 2] ^= 0x01; /* restored: the same call passes again */
		assert_int_equal(PW_OK, srv_webhook_verify(&cfg, vectors[i].provider, hs.h, hs.n, body,
		                            len, T0 + 1, why, sizeof(why)));
		/* one byte more (a trailing newline) also breaks it */
		assert_int_equal(PW_UNAUTHENTICATED, srv_webhook_verify(&cfg, vectors[i].provider,
		                                         hs.h, hs.n, body, len - 1, T0 + 1, NULL, 0));
		free(body);
	}
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_stripe_extra_v0_entry_is_ignored(void **state)
{
	srv_webhook_config cfg;
	char why[256];

	(void) state;
	config_fixture(&cfg);
	assert_int_equal(PW_OK, verify_stripe_header(&cfg, STRIPE_CS_HDR ",v0=" ZERO_HEX, T0 + 1,
	                            why, sizeof(why)));
	assert_int_equal(PW_OK, verify_stripe_header(&cfg, "v0=" ZERO_HEX "," STRIPE_CS_HDR, T0 + 1,
	                            why, sizeof(why)));
	/* a v0 alone is not a signature paywire accepts */
	assert_int_equal(PW_UNAUTHENTICATED, verify_stripe_header(&cfg, "t=1767225660,v0=" STRIPE_CS_SIG,
	                                         T0 + 1, why, sizeof(why)));
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_stripe_two_v1_where_only_second_matches_passes(void **state)
{
	srv_webhook_config cfg;
	char why[256];

	(void) state;
	config_fixture(&cfg);
	assert_int_equal(PW_OK,
	    verify_stripe_header(&cfg, "t=1767225660,v1=" ZERO_HEX ",v1=" STRIPE_CS_SIG, T0 + 1, why,
	        sizeof(why)));
	assert_int_equal(PW_UNAUTHENTICATED,
	    verify_stripe_header(&cfg, "t=1767225660,v1=" ZERO_HEX ",v1=" ZERO_HEX, T0 + 1, why,
	        sizeof(why)));
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_timestamp_tolerance_is_300_s_both_ways(void **state)
{
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;
	const vector *stripe = &vectors[0];
	const vector *web3 = &vectors[6];

	(void) state;
	config_fixture(&cfg);
	vector_headers(stripe, &hs);
	assert_int_equal(PW_OK, verify_file(&cfg, stripe->provider, stripe->file, &hs, T0 + 300, why,
	                            sizeof(why)));
	assert_int_equal(PW_OK, verify_file(&cfg, stripe->provider, stripe->file, &hs, T0 - 300, why,
	                            sizeof(why)));
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, stripe->provider, stripe->file, &hs,
	                                         T0 + 301, why, sizeof(why)));
	assert_non_null(strstr(why, "301 s in the past"));
	/* a timestamp 301 s in the future: refused too (Stripe's SDK would accept it) */
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, stripe->provider, stripe->file, &hs,
	                                         T0 - 301, why, sizeof(why)));
	assert_non_null(strstr(why, "301 s in the future"));

	vector_headers(web3, &hs);
	assert_int_equal(PW_OK, verify_file(&cfg, web3->provider, web3->file, &hs, T0 + 300, why,
	                            sizeof(why)));
	assert_int_equal(PW_OK, verify_file(&cfg, web3->provider, web3->file, &hs, T0 - 300, why,
	                            sizeof(why)));
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, web3->provider, web3->file, &hs,
	                                         T0 + 301, why, sizeof(why)));
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, web3->provider, web3->file, &hs,
	                                         T0 - 301, why, sizeof(why)));

	/* a configured tolerance applies */
	assert_int_equal(PW_OK, srv_webhook_config_set_tolerance(&cfg, 600));
	assert_int_equal(PW_OK, verify_file(&cfg, web3->provider, web3->file, &hs, T0 + 600, why,
	                            sizeof(why)));
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, web3->provider, web3->file, &hs,
	                                         T0 + 601, why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_config_set_tolerance(&cfg, 0));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    srv_webhook_config_set_tolerance(&cfg, PW_WEBHOOK_TOLERANCE_S_MAX + 1));
	assert_int_equal(600, cfg.tolerance_s);
	srv_webhook_config_fini(&cfg);
}

/* ---------------------------------------------------------------------------
 * Headers missing or malformed
 */

static void
test_verify_missing_or_repeated_signature_header_is_unauthenticated(void **state)
{
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;

	(void) state;
	config_fixture(&cfg);
	for (size_t i = 0; i < NVECTORS; i++) {
		/* every header of the vector but the signature-related ones */
		hdrs only;
		vector_headers(&vectors[i], &hs);
		memset(&only, 0, sizeof(only));
		hdrs_add(&only, "content-type", "application/json");
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, vectors[i].provider,
		                                         vectors[i].file, &only, T0 + 1, why, sizeof(why)));
		assert_non_null(strstr(why, "missing"));
		/* the signature header twice: ambiguous, refused */
		hdrs_add(&hs, hs.names[0], hs.values[0]);
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, vectors[i].provider,
		                                         vectors[i].file, &hs, T0 + 1, why, sizeof(why)));
		assert_non_null(strstr(why, "more than once"));
	}
	/* names are matched case-insensitively, so another spelling is the same
	 * header: found alone, refused as a repeat next to the lower-case one */
	{
		hdrs mixed;
		memset(&mixed, 0, sizeof(mixed));
		hdrs_add(&mixed, "Stripe-Signature", STRIPE_CS_HDR);
		assert_int_equal(PW_OK, verify_file(&cfg, PW_PROVIDER_STRIPE, vectors[0].file, &mixed,
		                            T0 + 1, why, sizeof(why)));
		hdrs_add(&mixed, "stripe-signature", "t=1767225660,v1=" ZERO_HEX);
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_STRIPE,
		                                         vectors[0].file, &mixed, T0 + 1, why, sizeof(why)));
		assert_non_null(strstr(why, "more than once"));
	}
	/* Standard Webhooks: each of the three headers is required */
	for (size_t drop = 0; drop < 3; drop++) {
		hdrs part;
		vector_headers(&vectors[7], &hs);
		memset(&part, 0, sizeof(part));
		for (size_t k = 0; k < 3; k++) {
			if (k != drop) {
				hdrs_add(&part, hs.names[k], hs.values[k]);
			}
		}
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_ONECOM,
		                                         vectors[7].file, &part, T0 + 1, why, sizeof(why)));
	}
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_malformed_stripe_header_is_unauthenticated(void **state)
{
	static const char *bad[] = {
		"",
		"garbage",
		"v1=" STRIPE_CS_SIG,                                  /* no t= */
		"t=,v1=" STRIPE_CS_SIG,                               /* empty t */
		"t=abc,v1=" STRIPE_CS_SIG,                            /* t not a number */
		"t=-1767225660,v1=" STRIPE_CS_SIG,                    /* signed t */
		"t=1767225660,t=1767225660,v1=" STRIPE_CS_SIG,        /* t twice */
		"t=1767225660,v1=zz" STRIPE_CS_SIG,                   /* non-hex */
		"t=1767225660,v1=eefa676ddc4cf376e66f7a0391d220fc8f7596ca6970c5938c8f9760547ddc4",
		"t=1767225660,v1=" STRIPE_CS_SIG "00",                /* too long */
		"t=1767225660,v1=" STRIPE_CS_SIG ",",                 /* trailing comma */
		"t=1767225660, v1=" STRIPE_CS_SIG,                    /* space: key " v1" ignored */
		"t=1767225660,=" STRIPE_CS_SIG,                       /* empty key */
		"t=1767225660,v1=" STRIPE_CS_SIG ",junk",             /* item without = */
		"t=1767225660,v1=" STRIPE_CS_SIG " ",                 /* trailing space */
		/* the right MAC upper-cased: Stripe sends lower case and its libraries
		 * compare the hex as a string (bad-input catalogue case S06) */
		"t=1767225660,v1=EEFA676DDC4CF376E66F7A0391D220FC8F7596CA6970C5938C8F9760547DDC4A",
	};
	srv_webhook_config cfg;
	char why[256];

	(void) state;
	config_fixture(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(why, "");
		assert_int_equal(PW_UNAUTHENTICATED,
		    verify_stripe_header(&cfg, bad[i], T0 + 1, why, sizeof(why)));
		assert_true(strlen(why) > 0);
	}
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_signature_entries_over_the_limit_are_refused(void **state)
{
	srv_webhook_config cfg;
	char header[2048];
	char why[256];
	hdrs hs;

	(void) state;
	config_fixture(&cfg);
	/* 7 wrong + the right one = 8 entries: accepted; 9: refused */
	strcpy(header, "t=1767225660");
	for (int i = 0; i < 7; i++) {
		strcat(header, ",v1=" ZERO_HEX);
	}
	strcat(header, ",v1=" STRIPE_CS_SIG);
	assert_int_equal(PW_OK, verify_stripe_header(&cfg, header, T0 + 1, why, sizeof(why)));
	strcat(header, ",v0=" ZERO_HEX);
	assert_int_equal(PW_UNAUTHENTICATED, verify_stripe_header(&cfg, header, T0 + 1, why,
	                                         sizeof(why)));
	assert_non_null(strstr(why, "more than 8"));

	/* a header longer than PW_HEADER_VALUE_BYTES_MAX is refused unread */
	{
		char *huge = malloc(PW_HEADER_VALUE_BYTES_MAX + 2);
		assert_non_null(huge);
		memset(huge, 'a', PW_HEADER_VALUE_BYTES_MAX + 1);
		memcpy(huge, STRIPE_CS_HDR ",x=", strlen(STRIPE_CS_HDR ",x="));
		huge[PW_HEADER_VALUE_BYTES_MAX + 1] = '\0';
		assert_int_equal(PW_UNAUTHENTICATED, verify_stripe_header(&cfg, huge, T0 + 1, why,
		                                         sizeof(why)));
		assert_non_null(strstr(why, "longer than"));
		huge[PW_HEADER_VALUE_BYTES_MAX] = '\0'; /* exactly at the limit: parsed, passes */
		assert_int_equal(PW_OK, verify_stripe_header(&cfg, huge, T0 + 1, why, sizeof(why)));
		free(huge);
	}

	/* Standard Webhooks: 9 entries refused */
	vector_headers(&vectors[7], &hs);
	strcpy(hs.values[2], vectors[7].sig);
	for (int i = 0; i < 8; i++) {
		strcat(hs.values[2], " v2,AAAA");
	}
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_ONECOM, vectors[7].file,
	                                         &hs, T0 + 1, why, sizeof(why)));
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_malformed_razorpay_and_standard_headers_are_unauthenticated(void **state)
{
	static const char *bad_rzp[] = { "", "xyz",
		"1e6432b4a7ce995d0e46472d8c1122eb069948b224d04fec5fe22dc50e1737b",
		"1e6432b4a7ce995d0e46472d8c1122eb069948b224d04fec5fe22dc50e1737b2 ",
		"sha256=1e6432b4a7ce995d0e46472d8c1122eb069948b224d04fec5fe22dc50e1737b2",
		/* the right MAC upper-cased (catalogue case S13) */
		"1E6432B4A7CE995D0E46472D8C1122EB069948B224D04FEC5FE22DC50E1737B2" };
	static const char *bad_sig[] = { "", "v1", "v1,", "v1,not-base64!!",
		"v1,to+cD9r2sa4QpCazi28ct3/0i/DYz1DZmwIJ0mV/yw", /* 31 bytes, unpadded */
		",to+cD9r2sa4QpCazi28ct3/0i/DYz1DZmwIJ0mV/ywM=", "v2,AAAA" };
	static const char *bad_ts[] = { "", "abc", "-1767225660", "1767225660.0", "17672256600000" };
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;

	(void) state;
	config_fixture(&cfg);
	for (size_t i = 0; i < sizeof(bad_rzp) / sizeof(bad_rzp[0]); i++) {
		vector_headers(&vectors[4], &hs);
		strcpy(hs.values[0], bad_rzp[i]);
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_RAZORPAY,
		                                         vectors[4].file, &hs, T0 + 1, why, sizeof(why)));
	}
	for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++) {
		vector_headers(&vectors[7], &hs);
		strcpy(hs.values[2], bad_sig[i]);
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_ONECOM,
		                                         vectors[7].file, &hs, T0 + 1, why, sizeof(why)));
	}
	for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
		vector_headers(&vectors[7], &hs);
		strcpy(hs.values[1], bad_ts[i]);
		assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_ONECOM,
		                                         vectors[7].file, &hs, T0 + 1, why, sizeof(why)));
	}
	/* the id is signed: another id breaks the signature */
	vector_headers(&vectors[7], &hs);
	strcpy(hs.values[0], "msg_fixture_onecom_0002");
	assert_int_equal(PW_UNAUTHENTICATED, verify_file(&cfg, PW_PROVIDER_ONECOM, vectors[7].file,
	                                         &hs, T0 + 1, why, sizeof(why)));
	/* an unknown version next to the right v1 is ignored; repeated spaces too */
	vector_headers(&vectors[7], &hs);
	snprintf(hs.values[2], sizeof(hs.values[2]), "v1a,AAAA  %s", vectors[7].sig);
	assert_int_equal(PW_OK, verify_file(&cfg, PW_PROVIDER_ONECOM, vectors[7].file, &hs, T0 + 1,
	                            why, sizeof(why)));
	srv_webhook_config_fini(&cfg);
}

/* ---------------------------------------------------------------------------
 * Secrets: validation, wrong secret, rotation, none configured
 */

static void
test_add_secret_refuses_bad_secrets_and_keeps_config_unchanged(void **state)
{
	static const struct {
		pw_provider p;
		const char *secret;
	} bad[] = {
		{ PW_PROVIDER_STRIPE, STRIPE_SECRET "\n" },     /* trailing newline */
		{ PW_PROVIDER_STRIPE, STRIPE_SECRET " " },      /* trailing space */
		{ PW_PROVIDER_STRIPE, " " STRIPE_SECRET },      /* leading space */
		{ PW_PROVIDER_STRIPE, "whsec_a b" },            /* inner space */
		{ PW_PROVIDER_STRIPE, "sk_test_notawebhooksecret" },
		{ PW_PROVIDER_STRIPE, "whsec_" },
		{ PW_PROVIDER_STRIPE, "" },
		{ PW_PROVIDER_RAZORPAY, RZP_SECRET "\r\n" },
		{ PW_PROVIDER_RAZORPAY, "" },
		{ PW_PROVIDER_RAZORPAY, "caf\xc3\xa9" },           /* not ASCII */
		{ PW_PROVIDER_ONECOM, STD_SECRET "\n" },
		{ PW_PROVIDER_ONECOM, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }, /* no whsec_ */
		{ PW_PROVIDER_ONECOM, "whsec_" },                /* decodes to 0 bytes */
		{ PW_PROVIDER_WEB3, "whsec_not*base64" },
		/* well-formed but a key under PW_SECRET_BYTES_MIN (24) bytes */
		{ PW_PROVIDER_STRIPE, "whsec_0123456789abcdefg" },    /* 23 */
		{ PW_PROVIDER_RAZORPAY, "rzp_0123456789abcdefghi" },  /* 23 */
		{ PW_PROVIDER_ONECOM, "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRY=" }, /* 23 decoded */
		{ PW_PROVIDER_NONE, STRIPE_SECRET },
	};
	srv_webhook_config cfg;
	char longsecret[PW_WEBHOOK_SECRET_BYTES_MAX + 2];

	(void) state;
	srv_webhook_config_init(&cfg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PW_INVALID_ARGUMENT,
		    srv_webhook_config_add_secret(&cfg, bad[i].p, bad[i].secret));
	}
	memset(longsecret, 'a', sizeof(longsecret) - 1);
	longsecret[sizeof(longsecret) - 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT,
	    srv_webhook_config_add_secret(&cfg, PW_PROVIDER_RAZORPAY, longsecret));
	longsecret[PW_WEBHOOK_SECRET_BYTES_MAX] = '\0'; /* exactly at the limit */
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_RAZORPAY, longsecret));
	for (int p = PW_PROVIDER_STRIPE; p <= PW_PROVIDER_WEB3; p++) {
		assert_int_equal(p == PW_PROVIDER_RAZORPAY ? 1 : 0,
		    cfg.keyrings[pw_provider_index((pw_provider) p)].count);
	}
	/* Standard Webhooks keys: 66 bytes refused, 64 (the limit) accepted */
	{
		uint8_t raw[66];
		char sec[6 + 4 * sizeof(raw) / 3 + 4];
		memset(raw, 0x5a, sizeof(raw));
		memcpy(sec, "whsec_", 6);
		sodium_bin2base64(sec + 6, sizeof(sec) - 6, raw, 66, sodium_base64_VARIANT_ORIGINAL);
		assert_int_equal(PW_INVALID_ARGUMENT,
		    srv_webhook_config_add_secret(&cfg, PW_PROVIDER_WEB3, sec));
		sodium_bin2base64(sec + 6, sizeof(sec) - 6, raw, 64, sodium_base64_VARIANT_ORIGINAL);
		assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_WEB3, sec));
		assert_int_equal(64, cfg.keyrings[pw_provider_index(PW_PROVIDER_WEB3)].secrets[0].key_len);
		assert_memory_equal(raw,
		    cfg.keyrings[pw_provider_index(PW_PROVIDER_WEB3)].secrets[0].key, 64);
	}
	/* at most PW_SECRETS_PER_PROVIDER_MAX per provider */
	for (int i = 1; i < PW_SECRETS_PER_PROVIDER_MAX; i++) {
		assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_STRIPE,
		                            STRIPE_SECRET));
	}
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_STRIPE, STRIPE_SECRET));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    srv_webhook_config_add_secret(&cfg, PW_PROVIDER_STRIPE, STRIPE_SECRET));
	assert_int_equal(PW_SECRETS_PER_PROVIDER_MAX,
	    cfg.keyrings[pw_provider_index(PW_PROVIDER_STRIPE)].count);
	srv_webhook_config_fini(&cfg);
	/* fini wiped every key byte */
	for (size_t i = 0; i < sizeof(cfg); i++) {
		assert_int_equal(0, ((const unsigned char *) &cfg)[i]);
	}
}

static void
test_verify_with_wrong_secret_is_unauthenticated_and_why_leaks_nothing(void **state)
{
	static const char *wrong[] = { "whsec_test_paywire_other_secret", "rzp_other_secret_0123456789",
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX" };
	srv_webhook_config cfg;
	char why[512];
	hdrs hs;

	(void) state;
	srv_webhook_config_init(&cfg);
	for (int p = PW_PROVIDER_STRIPE; p <= PW_PROVIDER_WEB3; p++) {
		assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, (pw_provider) p, wrong[p - 1]));
	}
	for (size_t i = 0; i < NVECTORS; i++) {
		size_t len;
		uint8_t *body = read_fixture(vectors[i].file, &len);
		uint8_t mac[crypto_auth_hmacsha256_BYTES];
		char mac_hex[2 * sizeof(mac) + 1];
		const char *secret = wrong[vectors[i].provider - 1];
		crypto_auth_hmacsha256_state st;

		vector_headers(&vectors[i], &hs);
		assert_int_equal(PW_UNAUTHENTICATED, srv_webhook_verify(&cfg, vectors[i].provider, hs.h,
		                                         hs.n, body, len, T0 + 1, why, sizeof(why)));
		/* neither the secret, nor the received MAC, nor a computed one */
		crypto_auth_hmacsha256_init(&st, (const uint8_t *) secret, strlen(secret));
		crypto_auth_hmacsha256_update(&st, body, len);
		crypto_auth_hmacsha256_final(&st, mac);
		sodium_bin2hex(mac_hex, sizeof(mac_hex), mac, sizeof(mac));
		assert_null(strstr(why, secret));
		assert_null(strstr(why, secret + 6));
		assert_null(strstr(why, mac_hex));
		assert_null(strstr(why, "eefa676d"));
		assert_null(strstr(why, "1e6432b4"));
		assert_null(strstr(why, "PG+857N9"));
		assert_non_null(strstr(why, "1 configured secret"));
		free(body);
	}
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_rotation_accepts_events_signed_by_old_or_new_secret(void **state)
{
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;

	(void) state;
	/* new secret first, the fixture's (old) one second, and the other way */
	for (int order = 0; order < 2; order++) {
		srv_webhook_config_init(&cfg);
		if (order == 0) {
			assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_STRIPE,
			                            "whsec_new_rotated_secret," STRIPE_SECRET));
			assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_ONECOM,
			                            "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX " STD_SECRET));
			assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg,
			                            PW_PROVIDER_RAZORPAY, "rzp_new_rotated_secret_0123, " RZP_SECRET));
		} else {
			assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_STRIPE,
			                            STRIPE_SECRET "\twhsec_new_rotated_secret"));
			assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_ONECOM,
			                            STD_SECRET ",whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"));
			assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg,
			                            PW_PROVIDER_RAZORPAY, RZP_SECRET "\nrzp_new_rotated_secret_0123"));
		}
		assert_int_equal(2, cfg.keyrings[pw_provider_index(PW_PROVIDER_STRIPE)].count);
		for (size_t i = 0; i < NVECTORS; i++) {
			if (vectors[i].provider == PW_PROVIDER_WEB3) {
				continue;
			}
			vector_headers(&vectors[i], &hs);
			assert_int_equal(PW_OK, verify_file(&cfg, vectors[i].provider, vectors[i].file, &hs,
			                            T0 + 1, why, sizeof(why)));
		}
		srv_webhook_config_fini(&cfg);
	}
}

static void
test_secret_lists_refuse_empty_entries_and_edges_all_or_nothing(void **state)
{
	/* Secrets long enough to pass the 24-byte minimum (PW_SECRET_BYTES_MIN). */
#define SEC_A "whsec_a_rotated_secret_0123"
#define SEC_B "whsec_b_rotated_secret_0123"
#define SEC_C "whsec_c_rotated_secret_0123"
#define SEC_D "whsec_d_rotated_secret_0123"
#define SEC_E "whsec_e_rotated_secret_0123"
	static const char *bad[] = { "", "," SEC_A, SEC_A ",", SEC_A ",," SEC_B, SEC_A ", ," SEC_B,
		SEC_A "\n", " " SEC_A, SEC_A "," SEC_B "," SEC_C "," SEC_D "," SEC_E,
		SEC_A ",sk_live_b", SEC_A ",whsec_short" };
	srv_webhook_config cfg;

	(void) state;
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_OK,
	    srv_webhook_config_add_secret(&cfg, PW_PROVIDER_STRIPE, "whsec_first_rotated_secret_01"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PW_INVALID_ARGUMENT,
		    srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_STRIPE, bad[i]));
		assert_int_equal(1, cfg.keyrings[pw_provider_index(PW_PROVIDER_STRIPE)].count);
	}
	/* three more fit (4 in all), a fifth does not */
	assert_int_equal(PW_OK, srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_STRIPE,
	                            SEC_B " , " SEC_C " " SEC_D));
	assert_int_equal(4, cfg.keyrings[pw_provider_index(PW_PROVIDER_STRIPE)].count);
	assert_memory_equal(SEC_C, cfg.keyrings[pw_provider_index(PW_PROVIDER_STRIPE)].secrets[2].key,
	    strlen(SEC_C));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    srv_webhook_config_add_secret_list(&cfg, PW_PROVIDER_STRIPE, SEC_E));
	srv_webhook_config_fini(&cfg);
}

static void
test_verify_without_configured_secret_is_unavailable(void **state)
{
	srv_webhook_config cfg;
	char why[256];
	hdrs hs;

	(void) state;
	srv_webhook_config_init(&cfg);
	for (size_t i = 0; i < NVECTORS; i++) {
		vector_headers(&vectors[i], &hs);
		assert_false(srv_webhook_config_has_secret(&cfg, vectors[i].provider));
		assert_int_equal(PW_UNAVAILABLE, verify_file(&cfg, vectors[i].provider, vectors[i].file,
		                                     &hs, T0 + 1, why, sizeof(why)));
		assert_non_null(strstr(why, "no webhook secret configured"));
	}
	/* Stripe configured does not make Razorpay verifiable */
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_STRIPE, STRIPE_SECRET));
	vector_headers(&vectors[4], &hs);
	assert_int_equal(PW_UNAVAILABLE, verify_file(&cfg, PW_PROVIDER_RAZORPAY, vectors[4].file, &hs,
	                                     T0 + 1, why, sizeof(why)));
	/* not a provider at all, or over the limits */
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_verify(&cfg, PW_PROVIDER_NONE, hs.h, hs.n,
	                                          (const uint8_t *) "{}", 2, T0, why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_verify(&cfg, (pw_provider) 9, hs.h, hs.n,
	                                          (const uint8_t *) "{}", 2, T0, why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_verify(&cfg, PW_PROVIDER_STRIPE, hs.h,
	                                          PW_WEBHOOK_HEADERS_MAX + 1, (const uint8_t *) "{}",
	                                          2, T0, why, sizeof(why)));
	srv_webhook_config_fini(&cfg);
}

/* ---------------------------------------------------------------------------
 * Environment, confirmation minimums, provider names
 */

static void
env_clear(void)
{
	unsetenv("PAYWIRE_STRIPE_WEBHOOK_SECRET");
	unsetenv("PAYWIRE_RAZORPAY_WEBHOOK_SECRET");
	unsetenv("PAYWIRE_ONECOM_WEBHOOK_SECRET");
	unsetenv("PAYWIRE_WEB3_WEBHOOK_SECRET");
	unsetenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS");
}

static void
test_config_from_env_reads_every_provider_and_refuses_bad_values(void **state)
{
	srv_webhook_config cfg;
	int64_t min = 0;

	(void) state;
	env_clear();
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_OK, srv_webhook_config_from_env(&cfg));
	for (int p = PW_PROVIDER_STRIPE; p <= PW_PROVIDER_WEB3; p++) {
		assert_false(srv_webhook_config_has_secret(&cfg, (pw_provider) p));
	}
	srv_webhook_config_fini(&cfg);

	setenv("PAYWIRE_STRIPE_WEBHOOK_SECRET", "whsec_old_rotated_secret_01 " STRIPE_SECRET, 1);
	setenv("PAYWIRE_RAZORPAY_WEBHOOK_SECRET", RZP_SECRET, 1);
	setenv("PAYWIRE_ONECOM_WEBHOOK_SECRET", STD_SECRET, 1);
	setenv("PAYWIRE_WEB3_WEBHOOK_SECRET", STD_SECRET, 1);
	setenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS", "base:5,ethereum:20", 1);
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_OK, srv_webhook_config_from_env(&cfg));
	assert_int_equal(2, cfg.keyrings[pw_provider_index(PW_PROVIDER_STRIPE)].count);
	assert_int_equal(1, cfg.keyrings[pw_provider_index(PW_PROVIDER_WEB3)].count);
	assert_true(srv_webhook_min_confirmations(&cfg, "base", &min, NULL));
	assert_int_equal(5, min);
	assert_true(srv_webhook_min_confirmations(&cfg, "ethereum", &min, NULL));
	assert_int_equal(20, min);
	srv_webhook_config_fini(&cfg);

	/* a value ending in a newline (echo > file; export $(cat file)) */
	setenv("PAYWIRE_RAZORPAY_WEBHOOK_SECRET", RZP_SECRET "\n", 1);
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_config_from_env(&cfg));
	srv_webhook_config_fini(&cfg);
	setenv("PAYWIRE_RAZORPAY_WEBHOOK_SECRET", RZP_SECRET, 1);

	/* set but empty: refused (unset is how a provider is turned off) */
	setenv("PAYWIRE_ONECOM_WEBHOOK_SECRET", "", 1);
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_config_from_env(&cfg));
	srv_webhook_config_fini(&cfg);
	setenv("PAYWIRE_ONECOM_WEBHOOK_SECRET", STD_SECRET, 1);

	setenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS", "base=5", 1);
	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_config_from_env(&cfg));
	srv_webhook_config_fini(&cfg);
	env_clear();
}

static void
test_min_confirmations_defaults_and_overrides(void **state)
{
	static const char *bad[] = { "", "base", "base:", ":5", "base:0", "base:-1", "base:5,",
		"base:5,,polygon:3", "base :5", "ba.se:5", "base:99999999",
		"a_network_name_that_is_too_long_x:5" };
	srv_webhook_config cfg;
	int64_t min = 0;
	char spec[1024];

	(void) state;
	srv_webhook_config_init(&cfg);
	assert_true(srv_webhook_min_confirmations(&cfg, "ethereum", &min, NULL));
	assert_int_equal(12, min);
	assert_true(srv_webhook_min_confirmations(&cfg, "base", &min, NULL));
	assert_int_equal(12, min);
	assert_true(srv_webhook_min_confirmations(&cfg, "polygon", &min, NULL));
	assert_int_equal(128, min);
	assert_true(srv_webhook_min_confirmations(&cfg, "arbitrum", &min, NULL));
	assert_int_equal(12, min);
	assert_true(srv_webhook_min_confirmations(&cfg, "optimism", &min, NULL));
	assert_int_equal(12, min);
	assert_false(srv_webhook_min_confirmations(&cfg, "solana", &min, NULL));

	assert_int_equal(PW_OK, srv_webhook_config_set_min_confirmations(&cfg, "Base:5,solana:32"));
	assert_true(srv_webhook_min_confirmations(&cfg, "base", &min, NULL));
	assert_int_equal(5, min);
	assert_true(srv_webhook_min_confirmations(&cfg, "solana", &min, NULL));
	assert_int_equal(32, min);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_config_set_min_confirmations(&cfg, bad[i]));
	}
	/* all or nothing: a bad entry after a good one changes nothing */
	assert_int_equal(PW_INVALID_ARGUMENT,
	    srv_webhook_config_set_min_confirmations(&cfg, "base:7,polygon:x"));
	assert_true(srv_webhook_min_confirmations(&cfg, "base", &min, NULL));
	assert_int_equal(5, min);
	/* the table is bounded */
	spec[0] = '\0';
	for (int i = 0; i < PW_WEB3_NETWORKS_MAX; i++) {
		char one[32];
		snprintf(one, sizeof(one), "%snet%d:3", i ? "," : "", i);
		strcat(spec, one);
	}
	assert_int_equal(PW_INVALID_ARGUMENT, srv_webhook_config_set_min_confirmations(&cfg, spec));
	assert_false(srv_webhook_min_confirmations(&cfg, "net0", &min, NULL));
	srv_webhook_config_fini(&cfg);
}

static void
test_provider_names_round_trip(void **state)
{
	pw_provider p = PW_PROVIDER_NONE;

	(void) state;
	for (int i = PW_PROVIDER_STRIPE; i <= PW_PROVIDER_WEB3; i++) {
		assert_true(pw_provider_parse(pw_provider_name((pw_provider) i), &p));
		assert_int_equal(i, p);
	}
	assert_string_equal("onecom", pw_provider_name(PW_PROVIDER_ONECOM));
	assert_string_equal("none", pw_provider_name(PW_PROVIDER_NONE));
	assert_string_equal("unknown", pw_provider_name((pw_provider) 42));
	p = PW_PROVIDER_WEB3;
	assert_false(pw_provider_parse("Stripe", &p));
	assert_false(pw_provider_parse("none", &p));
	assert_false(pw_provider_parse("", &p));
	assert_false(pw_provider_parse(NULL, &p));
	assert_int_equal(PW_PROVIDER_WEB3, p);
}

/* ---------------------------------------------------------------------------
 * Fresh payloads signed by the providers' own libraries (node + signer)
 */

/* The signed request: headers printed by sign.js, and the body file bytes. */
typedef struct signed_req {
	hdrs hs;       /* lower-cased headers */
	uint8_t *body; /* exact bytes that were signed */
	size_t len;    /* body length */
} signed_req;

static void
signer_check_available(void)
{
	char js[1024];

	snprintf(js, sizeof(js), "%s/node_modules/stripe/package.json", PW_SIGNER_DIR);
	if (access(PW_NODE, X_OK) != 0 || access(js, R_OK) != 0) {
		fail_msg("the webhook signer is not available (node: \"%s\", signer: %s): install "
		         "node/npm and run the ctest fixture paywire.signer_setup (npm ci)",
		    PW_NODE, PW_SIGNER_DIR);
	}
}

/* Writes a copy of a fixture with the session id replaced, returns its path. */
static void
write_variant(const char *dir, const char *fixture, const char *new_sid, char *path,
    size_t path_size)
{
	static const char old_sid[] = "ps_2f6c1e9a4b7d";
	size_t len;
	uint8_t *src = read_fixture(fixture, &len);
	FILE *f;
	const char *p = (const char *) src;

	snprintf(path, path_size, "%s/%s", dir, fixture);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (;;) {
		const char *hit = strstr(p, old_sid);
		if (hit == NULL) {
			fputs(p, f);
			break;
		}
		fwrite(p, 1, (size_t) (hit - p), f);
		fputs(new_sid, f);
		p = hit + strlen(old_sid);
	}
	assert_int_equal(0, fclose(f));
	free(src);
}

/* Runs sign.js and collects its "Name: value" lines, names lower-cased. */
static void
sign_with_node(const char *provider, const char *secret, const char *file, int64_t ts,
    const char *id, signed_req *out)
{
	char cmd[4096];
	char line[16384];
	FILE *pipe;

	memset(out, 0, sizeof(*out));
	snprintf(cmd, sizeof(cmd), "'%s' '%s/sign.js' %s '%s' '%s' --timestamp %lld --id '%s'",
	    PW_NODE, PW_SIGNER_DIR, provider, secret, file, (long long) ts, id);
	pipe = popen(cmd, "r");
	assert_non_null(pipe);
	while (fgets(line, sizeof(line), pipe) != NULL) {
		char *colon = strstr(line, ": ");
		size_t vlen;
		if (colon == NULL) {
			continue;
		}
		*colon = '\0';
		for (char *c = line; *c != '\0'; c++) {
			if (*c >= 'A' && *c <= 'Z') {
				*c = (char) (*c - 'A' + 'a');
			}
		}
		vlen = strcspn(colon + 2, "\r\n");
		colon[2 + vlen] = '\0';
		hdrs_add(&out->hs, line, colon + 2);
	}
	if (pclose(pipe) != 0) {
		fail_msg("sign.js failed: %s", cmd);
	}
	assert_true(out->hs.n >= 2);
	out->body = read_path(file, &out->len);
}

static void
check_signed(const srv_webhook_config *cfg, pw_provider p, signed_req *req, int64_t now,
    const char *sid)
{
	char why[256];
	pw_event ev;

	assert_int_equal(PW_OK, srv_webhook_verify(cfg, p, req->hs.h, req->hs.n, req->body,
	                            req->len, now, why, sizeof(why)));
	/* parsed, the fresh session id is what the event refers to */
	assert_int_equal(PW_OK, srv_webhook_parse(cfg, p, req->hs.h, req->hs.n, req->body, req->len,
	                            &ev, why, sizeof(why)));
	assert_string_equal(sid, ev.session_ref);
	/* one byte changed: refused */
	req->body[req->len - 2] ^= 0x20;
	assert_int_equal(PW_UNAUTHENTICATED, srv_webhook_verify(cfg, p, req->hs.h, req->hs.n,
	                                         req->body, req->len, now, why, sizeof(why)));
	/* too late: refused */
	req->body[req->len - 2] ^= 0x20;
	if (p != PW_PROVIDER_RAZORPAY) {
		assert_int_equal(PW_UNAUTHENTICATED, srv_webhook_verify(cfg, p, req->hs.h, req->hs.n,
		                                         req->body, req->len, now + 400, why, sizeof(why)));
	}
	free(req->body);
}

static void
test_verify_accepts_fresh_payloads_signed_by_provider_libraries(void **state)
{
	srv_webhook_config cfg;
	char dir[] = "/tmp/pw_webhook_sign_XXXXXX";
	char path[1024];
	char sid[64];
	char stripe_secret[80], std_secret[80];
	uint8_t key[32];
	char hex[2 * sizeof(key) + 1];
	int64_t ts = (int64_t) time(NULL);
	signed_req req;

	(void) state;
	signer_check_available();
	assert_non_null(mkdtemp(dir));
	/* fresh secrets too: a random Stripe secret and a 32-byte Standard key */
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), key, 12);
	snprintf(stripe_secret, sizeof(stripe_secret), "whsec_%s", hex);
	memcpy(std_secret, "whsec_", 6);
	sodium_bin2base64(std_secret + 6, sizeof(std_secret) - 6, key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(sid, sizeof(sid), "cs_fresh%.16s", hex + 8); /* the 16 hex digits after 8 */

	srv_webhook_config_init(&cfg);
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_STRIPE, stripe_secret));
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_RAZORPAY, RZP_SECRET));
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_ONECOM, std_secret));
	assert_int_equal(PW_OK, srv_webhook_config_add_secret(&cfg, PW_PROVIDER_WEB3, std_secret));

	write_variant(dir, "stripe.checkout.session.completed.json", sid, path, sizeof(path));
	sign_with_node("stripe", stripe_secret, path, ts, "unused", &req);
	assert_string_equal("stripe-signature", req.hs.names[1]);
	check_signed(&cfg, PW_PROVIDER_STRIPE, &req, ts + 1, sid);
	unlink(path);

	write_variant(dir, "razorpay.payment.captured.json", sid, path, sizeof(path));
	sign_with_node("razorpay", RZP_SECRET, path, ts, "evt_fresh_0001", &req);
	check_signed(&cfg, PW_PROVIDER_RAZORPAY, &req, ts + 1, sid);
	unlink(path);

	write_variant(dir, "onecom.payment.completed.json", sid, path, sizeof(path));
	sign_with_node("onecom", std_secret, path, ts, "msg_fresh_onecom", &req);
	check_signed(&cfg, PW_PROVIDER_ONECOM, &req, ts + 1, sid);
	unlink(path);

	write_variant(dir, "web3.transfer.confirmed.json", sid, path, sizeof(path));
	sign_with_node("web3", std_secret, path, ts, "msg_fresh_web3", &req);
	check_signed(&cfg, PW_PROVIDER_WEB3, &req, ts + 1, sid);
	unlink(path);

	assert_int_equal(0, rmdir(dir));
	srv_webhook_config_fini(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_all_published_vectors_pass),
		cmocka_unit_test(test_verify_body_with_one_byte_changed_is_unauthenticated),
		cmocka_unit_test(test_verify_stripe_extra_v0_entry_is_ignored),
		cmocka_unit_test(test_verify_stripe_two_v1_where_only_second_matches_passes),
		cmocka_unit_test(test_verify_timestamp_tolerance_is_300_s_both_ways),
		cmocka_unit_test(test_verify_missing_or_repeated_signature_header_is_unauthenticated),
		cmocka_unit_test(test_verify_malformed_stripe_header_is_unauthenticated),
		cmocka_unit_test(test_verify_signature_entries_over_the_limit_are_refused),
		cmocka_unit_test(test_verify_malformed_razorpay_and_standard_headers_are_unauthenticated),
		cmocka_unit_test(test_add_secret_refuses_bad_secrets_and_keeps_config_unchanged),
		cmocka_unit_test(test_verify_with_wrong_secret_is_unauthenticated_and_why_leaks_nothing),
		cmocka_unit_test(test_verify_rotation_accepts_events_signed_by_old_or_new_secret),
		cmocka_unit_test(test_secret_lists_refuse_empty_entries_and_edges_all_or_nothing),
		cmocka_unit_test(test_verify_without_configured_secret_is_unavailable),
		cmocka_unit_test(test_config_from_env_reads_every_provider_and_refuses_bad_values),
		cmocka_unit_test(test_min_confirmations_defaults_and_overrides),
		cmocka_unit_test(test_provider_names_round_trip),
		cmocka_unit_test(test_verify_accepts_fresh_payloads_signed_by_provider_libraries),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
