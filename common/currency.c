/*
 * currency.c - ISO 4217 currency exponents and exact decimal <-> minor-unit
 * conversion. Money never passes through a float here or anywhere.
 */
#include "pw_common.h"

#include <string.h>

/* Active ISO 4217 codes with their minor-unit exponent (ISO 4217 list one,
 * as published in 2025). Left out on purpose: codes whose minor unit is "N.A."
 * (XAU, XAG, XPD, XPT, XDR, XSU, XUA, XBA-XBD), XTS (testing) and XXX (no
 * currency): none of them can be charged. Sorted for bsearch. */
static const struct currency {
	char code[4];  /* upper-case alpha code */
	int exponent;  /* digits after the decimal point */
} currencies[] = {
	{ "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "AOA", 2 }, { "ARS", 2 },
	{ "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 }, { "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 },
	{ "BGN", 2 }, { "BHD", 3 }, { "BIF", 0 }, { "BMD", 2 }, { "BND", 2 }, { "BOB", 2 },
	{ "BOV", 2 }, { "BRL", 2 }, { "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 },
	{ "BZD", 2 }, { "CAD", 2 }, { "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 }, { "CHW", 2 },
	{ "CLF", 4 }, { "CLP", 0 }, { "CNY", 2 }, { "COP", 2 }, { "COU", 2 }, { "CRC", 2 },
	{ "CUP", 2 }, { "CVE", 2 }, { "CZK", 2 }, { "DJF", 0 }, { "DKK", 2 }, { "DOP", 2 },
	{ "DZD", 2 }, { "EGP", 2 }, { "ERN", 2 }, { "ETB", 2 }, { "EUR", 2 }, { "FJD", 2 },
	{ "FKP", 2 }, { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 },
	{ "GNF", 0 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 }, { "HNL", 2 }, { "HTG", 2 },
	{ "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 }, { "INR", 2 }, { "IQD", 3 }, { "IRR", 2 },
	{ "ISK", 0 }, { "JMD", 2 }, { "JOD", 3 }, { "JPY", 0 }, { "KES", 2 }, { "KGS", 2 },
	{ "KHR", 2 }, { "KMF", 0 }, { "KPW", 2 }, { "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 },
	{ "KZT", 2 }, { "LAK", 2 }, { "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 }, { "LSL", 2 },
	{ "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 }, { "MKD", 2 }, { "MMK", 2 },
	{ "MNT", 2 }, { "MOP", 2 }, { "MRU", 2 }, { "MUR", 2 }, { "MVR", 2 }, { "MWK", 2 },
	{ "MXN", 2 }, { "MXV", 2 }, { "MYR", 2 }, { "MZN", 2 }, { "NAD", 2 }, { "NGN", 2 },
	{ "NIO", 2 }, { "NOK", 2 }, { "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PAB", 2 },
	{ "PEN", 2 }, { "PGK", 2 }, { "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 }, { "PYG", 0 },
	{ "QAR", 2 }, { "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RWF", 0 }, { "SAR", 2 },
	{ "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 }, { "SGD", 2 }, { "SHP", 2 },
	{ "SLE", 2 }, { "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 }, { "STN", 2 }, { "SVC", 2 },
	{ "SYP", 2 }, { "SZL", 2 }, { "THB", 2 }, { "TJS", 2 }, { "TMT", 2 }, { "TND", 3 },
	{ "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 }, { "TWD", 2 }, { "TZS", 2 }, { "UAH", 2 },
	{ "UGX", 0 }, { "USD", 2 }, { "USN", 2 }, { "UYI", 0 }, { "UYU", 2 }, { "UYW", 4 },
	{ "UZS", 2 }, { "VED", 2 }, { "VES", 2 }, { "VND", 0 }, { "VUV", 0 }, { "WST", 2 },
	{ "XAF", 0 }, { "XCD", 2 }, { "XCG", 2 }, { "XOF", 0 }, { "XPF", 0 }, { "YER", 2 },
	{ "ZAR", 2 }, { "ZMW", 2 }, { "ZWG", 2 },
};

static int
currency_cmp(const void *key, const void *elem)
{
	return strcmp((const char *) key, ((const struct currency *) elem)->code);
}

int
pw_currency_exponent(const char *code)
{
	const struct currency *c;

	if (code == NULL || strlen(code) != 3) {
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		if (code[i] < 'A' || code[i] > 'Z') {
			return -1; /* upper case only: "eur" is refused, not guessed */
		}
	}
	c = bsearch(code, currencies, sizeof(currencies) / sizeof(currencies[0]),
	    sizeof(currencies[0]), currency_cmp);
	return c != NULL ? c->exponent : -1;
}

/* Stripe's amounts are in "the currency's smallest unit" as Stripe counts
 * it, which is not always ISO 4217's (docs.stripe.com/currencies):
 * - zero-decimal currencies: the amount is in whole units. For most of them
 *   ISO 4217 agrees (exponent 0); MGA has ISO exponent 2, so Stripe's 5000
 *   MGA is 500000 of paywire's minor units;
 * - ISK has ISO exponent 0 but Stripe keeps it two-decimal "for backwards
 *   compatibility": 100 is 1 ISK, and since April 2023 every ISK amount is a
 *   multiple of 100;
 * - HUF and TWD are two-decimal for charges at Stripe as in ISO 4217 (only
 *   their payouts are whole units): no conversion;
 * - the three-decimal currencies (BHD, JOD, KWD, OMR, TND) are three-decimal
 *   at Stripe as in ISO 4217 (their last digit must be 0 when sent): no
 *   conversion.
 * Sorted for bsearch. */
static const char stripe_zero_decimal[][4] = {
	"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
	"XAF", "XOF", "XPF",
};

static int
stripe_code_cmp(const void *key, const void *elem)
{
	return strcmp((const char *) key, (const char *) elem);
}

int
pw_stripe_exponent(const char *code)
{
	int iso = pw_currency_exponent(code);

	if (iso < 0) {
		return -1;
	}
	if (bsearch(code, stripe_zero_decimal, sizeof(stripe_zero_decimal) /
	    sizeof(stripe_zero_decimal[0]), sizeof(stripe_zero_decimal[0]), stripe_code_cmp) != NULL) {
		return 0;
	}
	if (strcmp(code, "ISK") == 0) {
		return 2;
	}
	return iso;
}

pw_status
pw_amount_rescale(int64_t v, int from_exp, int to_exp, int64_t *out)
{
	int64_t r = v;

	if (v < 0 || from_exp < 0 || to_exp < 0 || from_exp > 4 || to_exp > 4 || out == NULL) {
		return PW_INVALID_ARGUMENT;
	}
	for (int e = from_exp; e < to_exp; e++) {
		if (r > PW_AMOUNT_MINOR_MAX / 10) {
			return PW_INVALID_ARGUMENT; /* would pass the largest amount */
		}
		r *= 10;
	}
	for (int e = to_exp; e < from_exp; e++) {
		if (r % 10 != 0) {
			return PW_INVALID_ARGUMENT; /* a fraction the target cannot hold */
		}
		r /= 10;
	}
	*out = r;
	return PW_OK;
}

pw_status
pw_amount_parse(const char *dec, size_t len, int exponent, int64_t *out)
{
	int64_t whole = 0;
	int frac_digits = 0;
	bool seen_dot = false;
	bool seen_digit = false;

	if (dec == NULL || len == 0 || len > 32 || exponent < 0 || exponent > 4) {
		return PW_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = dec[i];
		if (ch == '.') {
			/* one dot, with a digit on each side: "49." and ".5" are refused */
			if (seen_dot || !seen_digit || i + 1 == len) {
				return PW_INVALID_ARGUMENT;
			}
			seen_dot = true;
			continue;
		}
		if (ch < '0' || ch > '9') {
			return PW_INVALID_ARGUMENT; /* sign, exponent, space, anything else */
		}
		if (seen_dot && ++frac_digits > exponent) {
			return PW_INVALID_ARGUMENT; /* more precision than the currency has */
		}
		if (whole > PW_AMOUNT_MINOR_MAX / 10 + 1) {
			return PW_INVALID_ARGUMENT; /* overflow guard before multiplying */
		}
		whole = whole * 10 + (ch - '0');
		seen_digit = true;
	}
	for (int i = frac_digits; i < exponent; i++) {
		if (whole > PW_AMOUNT_MINOR_MAX) {
			return PW_INVALID_ARGUMENT;
		}
		whole *= 10;
	}
	if (whole > PW_AMOUNT_MINOR_MAX) {
		return PW_INVALID_ARGUMENT;
	}
	*out = whole;
	return PW_OK;
}

void
pw_amount_format(char *out, size_t out_size, int64_t minor, int exponent)
{
	int64_t div = 1;
	const char *sign = "";
	uint64_t mag;

	PW_ASSERT(exponent >= 0 && exponent <= 4);
	for (int i = 0; i < exponent; i++) {
		div *= 10;
	}
	if (minor < 0) {
		sign = "-";
		mag = (uint64_t) 0 - (uint64_t) minor;
	} else {
		mag = (uint64_t) minor;
	}
	if (exponent == 0) {
		snprintf(out, out_size, "%s%llu", sign, (unsigned long long) mag);
	} else {
		snprintf(out, out_size, "%s%llu.%0*llu", sign, (unsigned long long) (mag / (uint64_t) div),
		    exponent, (unsigned long long) (mag % (uint64_t) div));
	}
}
