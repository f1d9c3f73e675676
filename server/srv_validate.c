/*
 * srv_validate.c - the rules of srv_validate.h. Every refusal names the field
 * and the limit, so a caller can fix the request without reading our code.
 */
#include "srv_validate.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pw_provider.h"
#include "srv_map.h"
#include "store.h"

/* " STRIPE (1) RAZORPAY (2) ...": the providers a webhook may name. */
#define VALIDATE_XX_PROVIDER(NAME, value, name, label, secret_env) " " #NAME " (" #value ")"
#define VALIDATE_PROVIDERS PW_PROVIDER_MAP(VALIDATE_XX_PROVIDER)

static pw_status
why_ok(char *why, size_t why_size)
{
	if (why != NULL && why_size > 0) {
		why[0] = '\0';
	}
	return PW_OK;
}

/* A text field: valid UTF-8 of min..max bytes. */
static pw_status
check_text(const char *field, const char *s, size_t min, size_t max, char *why, size_t why_size)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len < min || len > max) {
		if (min > 0 && len == 0) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s is required (1..%zu bytes)",
			    field, max);
		}
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s must be %zu..%zu bytes, got %zu",
		    field, min, max, len);
	}
	if (len > 0 && !pw_utf8_valid(s, len)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s is not valid UTF-8", field);
	}
	return PW_OK;
}

static bool
is_visible_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char) *s < 0x21 || (unsigned char) *s > 0x7e) {
			return false;
		}
	}
	return true;
}

pw_status
srv_validate_request_id(const char *request_id, bool required, char *why, size_t why_size)
{
	size_t len = request_id != NULL ? strlen(request_id) : 0;

	if (len == 0 && required) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "request_id is required for this call (1..%d bytes): it makes retries safe",
		    PW_REQUEST_ID_BYTES_MAX);
	}
	if (len > PW_REQUEST_ID_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "request_id must be at most %d bytes, got %zu", PW_REQUEST_ID_BYTES_MAX, len);
	}
	if (len > 0 && !is_visible_ascii(request_id)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "request_id must be printable ASCII without spaces");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_api_key(const char *api_key, char *why, size_t why_size)
{
	size_t len = api_key != NULL ? strlen(api_key) : 0;

	if (len == 0) {
		return pw_why(why, why_size, PW_UNAUTHENTICATED, "missing API key");
	}
	if (len > PW_API_KEY_BYTES_MAX) {
		/* No key is that long: same answer as an unknown key. */
		return pw_why(why, why_size, PW_UNAUTHENTICATED, "invalid API key");
	}
	return why_ok(why, why_size);
}

static pw_status
check_mode(const char *field, Paywire__V1__Mode mode, char *why, size_t why_size)
{
	switch (mode) {
	case PAYWIRE__V1__MODE__MODE_TEST:
	case PAYWIRE__V1__MODE__MODE_LIVE:
		return PW_OK;
	case PAYWIRE__V1__MODE__MODE_UNSPECIFIED:
	case _PAYWIRE__V1__MODE_IS_INT_SIZE:
		break;
	}
	return pw_why(why, why_size, PW_INVALID_ARGUMENT,
	    "%s must be MODE_TEST (1) or MODE_LIVE (2), got %d", field, (int) mode);
}

pw_status
srv_validate_create_merchant(const Paywire__V1__CreateMerchantRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_text("create_merchant.name", r->name, 1, PW_NAME_BYTES_MAX, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_mode("create_merchant.mode", r->mode, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	return why_ok(why, why_size);
}

/* host[:port] of an http(s) URL: a DNS name or IPv4 ([A-Za-z0-9.-]), or an
 * IPv6 literal in brackets; port 1..65535. */
static bool
url_authority_valid(const char *a, size_t len)
{
	size_t host_len = len;
	const char *colon = NULL;

	if (len == 0) {
		return false;
	}
	if (a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (close == NULL || close == a + 1) {
			return false;
		}
		for (const char *p = a + 1; p < close; p++) {
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			        (*p >= 'A' && *p <= 'F') || *p == ':' || *p == '.')) {
				return false;
			}
		}
		host_len = (size_t) (close - a) + 1;
		if (host_len < len && a[host_len] != ':') {
			return false;
		}
		colon = host_len < len ? a + host_len : NULL;
	} else {
		colon = memchr(a, ':', len);
		host_len = colon != NULL ? (size_t) (colon - a) : len;
		if (host_len == 0) {
			return false;
		}
		for (size_t i = 0; i < host_len; i++) {
			char ch = a[i];
			if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			        ch == '.' || ch == '-')) {
				return false;
			}
		}
	}
	if (colon != NULL) {
		const char *p = colon + 1;
		const char *end = a + len;
		long port = 0;
		if (p == end || end - p > 5) {
			return false;
		}
		for (; p < end; p++) {
			if (*p < '0' || *p > '9') {
				return false;
			}
			port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535) {
			return false;
		}
	}
	return true;
}

bool
srv_validate_url(const char *url)
{
	size_t len;
	size_t skip;
	size_t alen;

	if (url == NULL) {
		return false;
	}
	len = strlen(url);
	if (len == 0 || len > PW_URL_BYTES_MAX) {
		return false;
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		skip = 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		skip = 7;
	} else {
		return false; /* javascript:, data:, ftp:, relative URLs... */
	}
	/* No whitespace or control bytes anywhere: a URL ends up in a Location
	 * header and an HTML attribute. */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) url[i];
		if (ch <= 0x20 || ch == 0x7f || ch == '\\') {
			return false;
		}
	}
	alen = strcspn(url + skip, "/?#");
	/* No userinfo: "https://bank.example@evil.example/" is a phishing shape. */
	if (memchr(url + skip, '@', alen) != NULL) {
		return false;
	}
	return url_authority_valid(url + skip, alen);
}

static pw_status
check_url(const char *field, const char *url, char *why, size_t why_size)
{
	size_t len = url != NULL ? strlen(url) : 0;

	if (len == 0) {
		return PW_OK; /* optional */
	}
	if (len > PW_URL_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s must be at most %d bytes, got %zu",
		    field, PW_URL_BYTES_MAX, len);
	}
	if (!srv_validate_url(url)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s must be an http:// or https:// URL with a host (no spaces, control "
		    "characters or user@), at most %d bytes",
		    field, PW_URL_BYTES_MAX);
	}
	return PW_OK;
}

static pw_status
check_currency_of(const char *field, const char *code, char *why, size_t why_size)
{
	if (code == NULL || code[0] == '\0') {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s is required (ISO 4217, upper case, e.g. \"EUR\")", field);
	}
	/* pw_currency_exponent knows only chargeable ISO 4217 codes: XXX (no
	 * currency), XTS (testing) and the metal/bond units are not in it. */
	if (strlen(code) != 3 || pw_currency_exponent(code) < 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s must be an active ISO 4217 code in upper case (e.g. "
		    "\"EUR\"); XXX and XTS are refused", field);
	}
	return PW_OK;
}

static pw_status
check_currency(const char *code, char *why, size_t why_size)
{
	return check_currency_of("create_session.currency", code, why, why_size);
}

/* A credit package code: 1..PW_CREDIT_PACKAGE_CODE_BYTES_MAX of [a-z0-9_-]. */
static pw_status
check_package_code(const char *field, const char *code, char *why, size_t why_size)
{
	size_t len = code != NULL ? strlen(code) : 0;

	if (len == 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s is required (1..%d bytes of "
		    "a-z, 0-9, _ and -)", field, PW_CREDIT_PACKAGE_CODE_BYTES_MAX);
	}
	if (len > PW_CREDIT_PACKAGE_CODE_BYTES_MAX || strspn(code, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != len) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s must be 1..%d bytes of a-z, "
		    "0-9, _ and - (lower case), got %zu bytes", field,
		    PW_CREDIT_PACKAGE_CODE_BYTES_MAX, len);
	}
	return PW_OK;
}

static pw_status
check_email(const char *email, char *why, size_t why_size)
{
	const char *field = "create_session.customer_email";
	size_t len = email != NULL ? strlen(email) : 0;
	const char *at;
	pw_status rv;

	if (len == 0) {
		return PW_OK;
	}
	rv = check_text(field, email, 0, PW_EMAIL_BYTES_MAX, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	at = strchr(email, '@');
	if (at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') != NULL) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s must look like local@domain (one @)", field);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) email[i];
		if (ch <= 0x20 || ch == 0x7f) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "%s must not contain spaces or control characters", field);
		}
	}
	return PW_OK;
}

static pw_status
check_metadata(const Paywire__V1__CreateSessionRequest *r, char *why, size_t why_size)
{
	char field[64];
	pw_status rv;

	if (r->n_metadata > PW_METADATA_ENTRIES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_session.metadata must have at most %d entries, got %zu",
		    PW_METADATA_ENTRIES_MAX, r->n_metadata);
	}
	for (size_t i = 0; i < r->n_metadata; i++) {
		const Paywire__V1__CreateSessionRequest__MetadataEntry *e = r->metadata[i];
		PW_ASSERT(e != NULL);
		(void) snprintf(field, sizeof(field), "create_session.metadata key #%zu", i + 1);
		rv = check_text(field, e->key, 1, PW_METADATA_KEY_BYTES_MAX, why, why_size);
		if (rv != PW_OK) {
			return rv;
		}
		(void) snprintf(field, sizeof(field), "create_session.metadata value #%zu", i + 1);
		rv = check_text(field, e->value, 0, PW_METADATA_VALUE_BYTES_MAX, why, why_size);
		if (rv != PW_OK) {
			return rv;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(r->metadata[j]->key, e->key) == 0) {
				return pw_why(why, why_size, PW_INVALID_ARGUMENT,
				    "create_session.metadata key #%zu repeats key #%zu", i + 1, j + 1);
			}
		}
	}
	return PW_OK;
}

static pw_status
check_fulfillment(const Paywire__V1__Fulfillment *f, char *why, size_t why_size)
{
	size_t plan_len;

	if (f == NULL) {
		return PW_OK; /* NONE */
	}
	plan_len = f->plan != NULL ? strlen(f->plan) : 0;
	if (f->subscription && f->kind != PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_session.fulfillment.subscription is for kind ACCESS_KEY only (a plan "
		    "sold as a subscription)");
	}
	switch (f->kind) {
	case PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_NONE:
		if (plan_len > 0 || f->credits != 0) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "create_session.fulfillment: kind NONE takes no plan and no credits");
		}
		return PW_OK;
	case PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_ACCESS_KEY:
		if (f->credits != 0) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "create_session.fulfillment: kind ACCESS_KEY takes no credits");
		}
		/* subscription: a plan's key sold as a subscription (any plan may be) */
		return check_text("create_session.fulfillment.plan (ACCESS_KEY)", f->plan, 1,
		    PW_PLAN_BYTES_MAX, why, why_size);
	case PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS:
		if (plan_len > 0) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "create_session.fulfillment: kind CREDITS takes no plan");
		}
		if (f->credits <= 0 || f->credits > PW_CREDITS_MAX) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "create_session.fulfillment.credits must be 1..%lld for CREDITS, got %lld",
			    (long long) PW_CREDITS_MAX, (long long) f->credits);
		}
		return PW_OK;
	case _PAYWIRE__V1__FULFILLMENT_KIND_IS_INT_SIZE:
		break;
	}
	return pw_why(why, why_size, PW_INVALID_ARGUMENT,
	    "create_session.fulfillment.kind must be NONE (0), ACCESS_KEY (1) or CREDITS (2), got %d",
	    (int) f->kind);
}

/* 0 (the default lifetime), or between the min and the max ahead of now. */
/* create_session.provider: where paywire can create the checkout itself. */
static pw_status
check_checkout_provider(Paywire__V1__Provider p, char *why, size_t why_size)
{
	switch (p) {
	case PAYWIRE__V1__PROVIDER__PROVIDER_UNSPECIFIED:
	case PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE:
	case PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY:
		return PW_OK;
	case PAYWIRE__V1__PROVIDER__PROVIDER_ONECOM:
	case PAYWIRE__V1__PROVIDER__PROVIDER_WEB3:
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_session.provider: paywire creates checkouts at stripe and razorpay "
		    "only; %s payments keep their own flow (leave provider unset)",
		    pw_provider_name((pw_provider) p));
	default:
		break;
	}
	return pw_why(why, why_size, PW_INVALID_ARGUMENT, "create_session.provider %d is unknown",
	    (int) p);
}

static pw_status
check_expires_at(int64_t at, int64_t now_ms, char *why, size_t why_size)
{
	if (at == 0) {
		return PW_OK;
	}
	if (at < now_ms + PW_SESSION_TTL_MIN_MS || at > now_ms + PW_SESSION_TTL_MAX_MS) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_session.expires_at_unix_ms must be 0 (24 h after creation) or between "
		    "%lld s and %lld days after the server's clock (%lld), got %lld",
		    (long long) (PW_SESSION_TTL_MIN_MS / 1000),
		    (long long) (PW_SESSION_TTL_MAX_MS / (24ll * 3600ll * 1000ll)), (long long) now_ms,
		    (long long) at);
	}
	return PW_OK;
}

static pw_status
check_session_texts(const Paywire__V1__CreateSessionRequest *r, char *why, size_t why_size)
{
	pw_status rv;

	rv = check_url("create_session.success_url", r->success_url, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_url("create_session.cancel_url", r->cancel_url, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_email(r->customer_email, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_text("create_session.customer_name", r->customer_name, 0, PW_NAME_BYTES_MAX, why,
	    why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_text("create_session.customer_ref", r->customer_ref, 0,
	    PW_CUSTOMER_REF_BYTES_MAX, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	return check_text("create_session.idempotency_key", r->idempotency_key, 0,
	    PW_IDEMPOTENCY_KEY_BYTES_MAX, why, why_size);
}

pw_status
srv_validate_create_session(const Paywire__V1__CreateSessionRequest *r, char *why,
    size_t why_size)
{
	bool pkg;
	pw_status rv;

	PW_ASSERT(r != NULL);
	pkg = r->credit_package != NULL && r->credit_package[0] != '\0';
	if (pkg) {
		/* the package sets amount, currency and fulfillment; given ones must
		 * equal its own, which the store checks against the package */
		rv = check_package_code("create_session.credit_package", r->credit_package, why,
		    why_size);
		if (rv != PW_OK) {
			return rv;
		}
		if (r->fulfillment != NULL &&
		    r->fulfillment->kind != PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_NONE &&
		    r->fulfillment->kind != PAYWIRE__V1__FULFILLMENT_KIND__FULFILLMENT_KIND_CREDITS) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "create_session.fulfillment must be unset or CREDITS with credit_package "
			    "(a package sells credits)");
		}
	}
	if ((r->amount_minor <= 0 && !(pkg && r->amount_minor == 0)) ||
	    r->amount_minor > PW_AMOUNT_MINOR_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_session.amount_minor must be 1..%lld (minor units)%s, got %lld",
		    (long long) PW_AMOUNT_MINOR_MAX, pkg ? ", or 0 for the package's" : "",
		    (long long) r->amount_minor);
	}
	if (!pkg || (r->currency != NULL && r->currency[0] != '\0')) {
		rv = check_currency(r->currency, why, why_size);
		if (rv != PW_OK) {
			return rv;
		}
	}
	rv = check_mode("create_session.mode", r->mode, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_session_texts(r, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_metadata(r, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_fulfillment(r->fulfillment, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_expires_at(r->expires_at_unix_ms, pw_now_unix_ms(), why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_checkout_provider(r->provider, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_session_id(const char *field, const char *id, char *why, size_t why_size)
{
	size_t len = id != NULL ? strlen(id) : 0;

	if (len == 0 || len > PW_SESSION_ID_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s must be 1..%d bytes, got %zu",
		    field, PW_SESSION_ID_BYTES_MAX, len);
	}
	for (size_t i = 0; i < len; i++) {
		char ch = id[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        ch == '_' || ch == '-')) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "%s may contain only [A-Za-z0-9_-]", field);
		}
	}
	return why_ok(why, why_size);
}

/* A checkout secret's shape ("" allowed when optional): "cks_" + 43
 * base64url characters. Whether it is the session's is the store's check. */
static pw_status
checkout_secret_valid(const char *field, const char *s, bool required, char *why,
    size_t why_size)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0 && !required) {
		return why_ok(why, why_size);
	}
	if (len != PW_CHECKOUT_SECRET_BYTES || sodium_memcmp(s, "cks_", 4) != 0 ||
	    strspn(s + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
	        len - 4) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s must be \"cks_\" + 43 base64url characters (the secret of the session's "
		    "checkout URL)%s", field, required ? "" : " or empty");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_get_status(const Paywire__V1__GetStatusRequest *r, char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = srv_validate_session_id("get_status.session_id", r->session_id, why, why_size);
	if (rv == PW_OK) {
		rv = checkout_secret_valid("get_status.checkout_secret", r->checkout_secret, false, why,
		    why_size);
	}
	return rv;
}

pw_status
srv_validate_test_payment(const Paywire__V1__TestPaymentRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = srv_validate_session_id("test_payment.session_id", r->session_id, why, why_size);
	if (rv == PW_OK) {
		rv = checkout_secret_valid("test_payment.checkout_secret", r->checkout_secret, true, why,
		    why_size);
	}
	return rv;
}

pw_status
srv_validate_reissue_access_key(const Paywire__V1__ReissueAccessKeyRequest *r, char *why,
    size_t why_size)
{
	PW_ASSERT(r != NULL);
	return srv_validate_session_id("reissue_access_key.session_id", r->session_id, why,
	    why_size);
}

pw_status
srv_validate_create_portal_session(const Paywire__V1__CreatePortalSessionRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = srv_validate_session_id("create_portal_session.session_id", r->session_id, why,
	    why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->return_url == NULL || r->return_url[0] == '\0' || !srv_validate_url(r->return_url)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_portal_session.return_url must be an http:// or https:// URL with a host "
		    "(at most %d bytes)", PW_URL_BYTES_MAX);
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_refund_payment(const Paywire__V1__RefundPaymentRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = srv_validate_session_id("refund_payment.session_id", r->session_id, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->amount_minor < 0 || r->amount_minor > PW_AMOUNT_MINOR_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "refund_payment.amount_minor must be 0 (all that is left) .. %lld, got %lld",
		    (long long) PW_AMOUNT_MINOR_MAX, (long long) r->amount_minor);
	}
	if (r->idempotency_key == NULL || r->idempotency_key[0] == '\0') {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "refund_payment.idempotency_key is required: a retried refund must not refund "
		    "twice");
	}
	rv = check_text("refund_payment.idempotency_key", r->idempotency_key, 1,
	    PW_IDEMPOTENCY_KEY_BYTES_MAX, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->reason != NULL && r->reason[0] != '\0' && strcmp(r->reason, "duplicate") != 0 &&
	    strcmp(r->reason, "fraudulent") != 0 && strcmp(r->reason, "requested_by_customer") != 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "refund_payment.reason must be duplicate, fraudulent or requested_by_customer "
		    "(or empty)");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_cancel_session(const Paywire__V1__CancelSessionRequest *r, char *why,
    size_t why_size)
{
	PW_ASSERT(r != NULL);
	return srv_validate_session_id("cancel_session.session_id", r->session_id, why, why_size);
}

/* ---- API keys ---- */

pw_status
srv_validate_create_api_key(const Paywire__V1__CreateApiKeyRequest *r, char *why,
    size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->mode != PAYWIRE__V1__MODE__MODE_UNSPECIFIED && r->mode != PAYWIRE__V1__MODE__MODE_TEST &&
	    r->mode != PAYWIRE__V1__MODE__MODE_LIVE) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_api_key.mode must be 0 (the calling key's), TEST (1) or LIVE (2), got %d",
		    (int) r->mode);
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_list_api_keys(const Paywire__V1__ListApiKeysRequest *r, char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	return why_ok(why, why_size);
}

pw_status
srv_validate_roll_api_key(const Paywire__V1__RollApiKeyRequest *r, char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_text("roll_api_key.key_id", r->key_id, 0, PW_ID_BYTES(4) - 1, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->grace_s > PW_APIKEY_GRACE_MAX_S) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "roll_api_key.grace_s must be 0 (%d s) .. %d, got %u", PW_APIKEY_GRACE_DEFAULT_S,
		    PW_APIKEY_GRACE_MAX_S, (unsigned) r->grace_s);
	}
	if (r->expire_now && r->grace_s != 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "roll_api_key: expire_now and grace_s exclude each other");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_verify_access_key(const Paywire__V1__VerifyAccessKeyRequest *r, char *why,
    size_t why_size)
{
	size_t len;

	PW_ASSERT(r != NULL);
	len = r->access_key != NULL ? strlen(r->access_key) : 0;
	if (len == 0 || len > PW_API_KEY_BYTES_MAX) {
		/* the value is a secret: its length only, never its bytes */
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "verify_access_key.access_key must be 1..%d bytes, got %zu", PW_API_KEY_BYTES_MAX,
		    len);
	}
	return why_ok(why, why_size);
}

/* ---- a merchant's sessions and invoices ---- */

pw_status
srv_validate_get_session(const Paywire__V1__GetSessionRequest *r, char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	return srv_validate_session_id("get_session.session_id", r->session_id, why, why_size);
}

pw_status
srv_validate_list_sessions(const Paywire__V1__ListSessionsRequest *r, char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_sessions.limit must be 0 (%d) or 1..%d, got %u", PW_LIST_LIMIT_DEFAULT,
		    PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->created_from_unix_ms < 0 || r->created_to_unix_ms < 0 ||
	    (r->created_to_unix_ms > 0 && r->created_from_unix_ms > r->created_to_unix_ms)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_sessions: created_from_unix_ms and created_to_unix_ms must be >= 0 and "
		    "from <= to, got %lld .. %lld", (long long) r->created_from_unix_ms,
		    (long long) r->created_to_unix_ms);
	}
	if (r->starting_after != NULL && r->starting_after[0] != '\0') {
		return srv_validate_session_id("list_sessions.starting_after", r->starting_after, why,
		    why_size);
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_get_invoice(const Paywire__V1__GetInvoiceRequest *r, char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->number == 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "get_invoice.number is required (invoices are numbered from 1)");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_list_invoices(const Paywire__V1__ListInvoicesRequest *r, char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_invoices.limit must be 0 (%d) or 1..%d, got %u", PW_LIST_LIMIT_DEFAULT,
		    PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->starting_after == UINT64_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_invoices.starting_after is past every invoice number");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_list_events(const Paywire__V1__ListEventsRequest *r, char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_events.limit must be 0 (%d) or 1..%d, got %u", PW_LIST_LIMIT_DEFAULT,
		    PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->after_seq == UINT64_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_events.after_seq is past every event");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_list_anomalies(const Paywire__V1__ListAnomaliesRequest *r, char *why,
    size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_anomalies.limit must be 0 (%d) or 1..%d, got %u", PW_LIST_LIMIT_DEFAULT,
		    PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->after_seq == UINT64_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_anomalies.after_seq is past every anomaly");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_list_quarantined_events(const Paywire__V1__ListQuarantinedEventsRequest *r,
    char *why, size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_quarantined_events.limit must be 0 (%d) or 1..%d, got %u",
		    PW_LIST_LIMIT_DEFAULT, PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->after_id == UINT64_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_quarantined_events.after_id is past every event");
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_get_quarantined_event(const Paywire__V1__GetQuarantinedEventRequest *r, char *why,
    size_t why_size)
{
	PW_ASSERT(r != NULL);
	if (r->id == 0) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "get_quarantined_event.id is required (ids start at 1)");
	}
	return why_ok(why, why_size);
}

/* ---- credits ---- */

static pw_status
check_customer(const char *field, const char *customer, char *why, size_t why_size)
{
	return check_text(field, customer, 1, PW_CREDIT_CUSTOMER_BYTES_MAX, why, why_size);
}

pw_status
srv_validate_deduct_credits(const Paywire__V1__DeductCreditsRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_customer("deduct_credits.customer", r->customer, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->credits <= 0 || r->credits > PW_CREDITS_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "deduct_credits.credits must be 1..%lld, got %lld", (long long) PW_CREDITS_MAX,
		    (long long) r->credits);
	}
	if (r->idempotency_key == NULL || r->idempotency_key[0] == '\0') {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "deduct_credits.idempotency_key is required: a retried deduction must not "
		    "deduct twice");
	}
	rv = check_text("deduct_credits.idempotency_key", r->idempotency_key, 1,
	    PW_IDEMPOTENCY_KEY_BYTES_MAX, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_text("deduct_credits.description", r->description, 0, PW_DESCRIPTION_BYTES_MAX,
	    why, why_size);
	return rv != PW_OK ? rv : why_ok(why, why_size);
}

pw_status
srv_validate_get_balance(const Paywire__V1__GetBalanceRequest *r, char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_customer("get_balance.customer", r->customer, why, why_size);
	return rv != PW_OK ? rv : why_ok(why, why_size);
}

pw_status
srv_validate_list_credit_transactions(const Paywire__V1__ListCreditTransactionsRequest *r,
    char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_customer("list_credit_transactions.customer", r->customer, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_credit_transactions.limit must be 0 (%d) or 1..%d, got %u",
		    PW_LIST_LIMIT_DEFAULT, PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	return why_ok(why, why_size);
}

static pw_status
check_header_name(size_t i, const char *name, char *why, size_t why_size)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > PW_HEADER_NAME_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "ingest_webhook.headers name #%zu must be 1..%d bytes, got %zu", i + 1,
		    PW_HEADER_NAME_BYTES_MAX, len);
	}
	for (size_t k = 0; k < len; k++) {
		unsigned char ch = (unsigned char) name[k];
		if (ch < 0x21 || ch > 0x7e || ch == ':' || (ch >= 'A' && ch <= 'Z')) {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "ingest_webhook.headers name #%zu must be lower-case visible ASCII without ':'",
			    i + 1);
		}
	}
	return PW_OK;
}

pw_status
srv_validate_ingest_webhook(const Paywire__V1__IngestWebhookRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;
	char field[64];

	PW_ASSERT(r != NULL);
	if (!pw_provider_known((pw_provider) r->provider)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "ingest_webhook.provider must be one of" VALIDATE_PROVIDERS ", got %d",
		    (int) r->provider);
	}
	if (r->body.len == 0 || r->body.len > PW_WEBHOOK_BODY_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "ingest_webhook.body must be 1..%u bytes, got %zu", PW_WEBHOOK_BODY_BYTES_MAX,
		    r->body.len);
	}
	if (r->n_headers > PW_WEBHOOK_HEADERS_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "ingest_webhook.headers must have at most %d entries, got %zu",
		    PW_WEBHOOK_HEADERS_MAX, r->n_headers);
	}
	for (size_t i = 0; i < r->n_headers; i++) {
		const Paywire__V1__IngestWebhookRequest__HeadersEntry *h = r->headers[i];
		PW_ASSERT(h != NULL);
		rv = check_header_name(i, h->key, why, why_size);
		if (rv != PW_OK) {
			return rv;
		}
		(void) snprintf(field, sizeof(field), "ingest_webhook.headers value #%zu", i + 1);
		rv = check_text(field, h->value, 0, PW_HEADER_VALUE_BYTES_MAX, why, why_size);
		if (rv != PW_OK) {
			return rv;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(r->headers[j]->key, h->key) == 0) {
				return pw_why(why, why_size, PW_INVALID_ARGUMENT,
				    "ingest_webhook.headers name #%zu repeats #%zu", i + 1, j + 1);
			}
		}
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_revoke_api_key(const Paywire__V1__RevokeApiKeyRequest *r, char *why,
    size_t why_size)
{
	size_t len;

	PW_ASSERT(r != NULL);
	len = r->api_key != NULL ? strlen(r->api_key) : 0;
	if (len == 0 || len > PW_API_KEY_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "revoke_api_key.api_key must be 1..%d bytes, got %zu", PW_API_KEY_BYTES_MAX, len);
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_redeem_access(const Paywire__V1__RedeemAccessRequest *r, char *why,
    size_t why_size)
{
	size_t len;
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = srv_validate_session_id("redeem_access.session_id", r->session_id, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	len = r->token != NULL ? strlen(r->token) : 0;
	if (len == 0 || len > PW_ACCESS_TOKEN_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "redeem_access.token must be 1..%d bytes, got %zu", PW_ACCESS_TOKEN_BYTES_MAX, len);
	}
	if (!is_visible_ascii(r->token)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "redeem_access.token must be printable ASCII (a JWT)");
	}
	return why_ok(why, why_size);
}

/* ---- entitlements ---- */

pw_status
srv_validate_get_entitlements(const Paywire__V1__GetEntitlementsRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	/* a customer as its sessions named it: a customer_ref, else an e-mail */
	rv = check_customer("get_entitlements.customer_ref", r->customer_ref, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "get_entitlements.limit must be 0 (%d) or 1..%d, got %u", PW_LIST_LIMIT_DEFAULT,
		    PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->starting_after != NULL && r->starting_after[0] != '\0' &&
	    (strlen(r->starting_after) > PW_ENTITLEMENT_ID_BYTES_MAX ||
	        strncmp(r->starting_after, "ent_", 4) != 0 || !is_visible_ascii(r->starting_after))) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "get_entitlements.starting_after must be \"\" or an entitlement id (ent_...)");
	}
	return why_ok(why, why_size);
}

/* ---- provider credentials (admin) ---- */

static pw_status
check_merchant_id(const char *field, const char *id, char *why, size_t why_size)
{
	size_t len = id != NULL ? strlen(id) : 0;

	if (len == 0 || len > PW_REPLY_SCOPE_BYTES_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT, "%s must be 1..%d bytes, got %zu",
		    field, PW_REPLY_SCOPE_BYTES_MAX, len);
	}
	if (!is_visible_ascii(id)) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "%s must be printable ASCII without spaces", field);
	}
	return PW_OK;
}

pw_status
srv_validate_set_provider_credentials(const Paywire__V1__SetProviderCredentialsRequest *r,
    char *why, size_t why_size)
{
	char detail[256];
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_merchant_id("set_provider_credentials.merchant_id", r->merchant_id, why,
	    why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->provider != PAYWIRE__V1__PROVIDER__PROVIDER_STRIPE &&
	    r->provider != PAYWIRE__V1__PROVIDER__PROVIDER_RAZORPAY) {
		pw_provider p = (pw_provider) r->provider;
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "set_provider_credentials.provider must be PROVIDER_STRIPE (1) or "
		    "PROVIDER_RAZORPAY (2), got %d%s%s%s", (int) r->provider,
		    pw_provider_known(p) ? ": paywire makes no calls to " : "",
		    pw_provider_known(p) ? pw_provider_name(p) : "",
		    pw_provider_known(p) ? ", so it holds no credentials for it" : "");
	}
	rv = check_mode("set_provider_credentials.mode", r->mode, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->secret == NULL || r->secret[0] == '\0') {
		if (r->key_id != NULL && r->key_id[0] != '\0') {
			return pw_why(why, why_size, PW_INVALID_ARGUMENT,
			    "set_provider_credentials.key_id must be empty with an empty secret (a delete)");
		}
		return why_ok(why, why_size);
	}
	rv = store_provider_creds_check((pw_provider) r->provider, srv_map_mode_to_store(r->mode),
	    r->key_id, r->secret, detail, sizeof(detail));
	if (rv != PW_OK) {
		return pw_why(why, why_size, rv, "set_provider_credentials: %s", detail);
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_list_provider_credentials(const Paywire__V1__ListProviderCredentialsRequest *r,
    char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_merchant_id("list_provider_credentials.merchant_id", r->merchant_id, why,
	    why_size);
	if (rv != PW_OK) {
		return rv;
	}
	return why_ok(why, why_size);
}

/* ---- credit packages ---- */

pw_status
srv_validate_create_credit_package(const Paywire__V1__CreditPackageCreateRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_package_code("create_credit_package.code", r->code, why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	rv = check_text("create_credit_package.name", r->name, 0, PW_CREDIT_PACKAGE_NAME_BYTES_MAX,
	    why, why_size);
	if (rv != PW_OK) {
		return rv;
	}
	if (r->credits <= 0 || r->credits > PW_CREDITS_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_credit_package.credits must be 1..%lld, got %lld",
		    (long long) PW_CREDITS_MAX, (long long) r->credits);
	}
	if (r->amount_minor <= 0 || r->amount_minor > PW_AMOUNT_MINOR_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "create_credit_package.amount_minor must be 1..%lld (minor units), got %lld",
		    (long long) PW_AMOUNT_MINOR_MAX, (long long) r->amount_minor);
	}
	rv = check_currency_of("create_credit_package.currency", r->currency, why, why_size);
	return rv != PW_OK ? rv : why_ok(why, why_size);
}

pw_status
srv_validate_archive_credit_package(const Paywire__V1__CreditPackageArchiveRequest *r,
    char *why, size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	rv = check_package_code("archive_credit_package.code", r->code, why, why_size);
	return rv != PW_OK ? rv : why_ok(why, why_size);
}

pw_status
srv_validate_list_credit_packages(const Paywire__V1__CreditPackageListRequest *r, char *why,
    size_t why_size)
{
	pw_status rv;

	PW_ASSERT(r != NULL);
	if (r->limit > PW_LIST_LIMIT_MAX) {
		return pw_why(why, why_size, PW_INVALID_ARGUMENT,
		    "list_credit_packages.limit must be 0 (%d) or 1..%d, got %u", PW_LIST_LIMIT_DEFAULT,
		    PW_LIST_LIMIT_MAX, (unsigned) r->limit);
	}
	if (r->starting_after != NULL && r->starting_after[0] != '\0') {
		rv = check_package_code("list_credit_packages.starting_after", r->starting_after, why,
		    why_size);
		if (rv != PW_OK) {
			return rv;
		}
	}
	return why_ok(why, why_size);
}

pw_status
srv_validate_merchant_id(const char *field, const char *id, char *why, size_t why_size)
{
	pw_status rv = check_merchant_id(field, id, why, why_size);

	return rv != PW_OK ? rv : why_ok(why, why_size);
}
