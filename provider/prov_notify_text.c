/* prov_notify_text.c - a notification's subject and body (see
 * prov_notify_text.h). */
#include "prov_notify_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pw_limits.h"

/* What each outbox type means to a person. */
static const struct {
	const char *type;
	const char *title;
} notify_titles[] = {
	{ "session.paid", "Payment succeeded" },
	{ "session.failed", "Payment failed" },
	{ "session.expired", "Checkout expired" },
	{ "session.canceled", "Checkout canceled" },
	{ "session.refunded", "Payment refunded" },
	{ "entitlement.granted", "Access granted" },
	{ "entitlement.revoked", "Access revoked" },
	{ "entitlement.past_due", "Subscription past due" },
	{ "credits.changed", "Credits changed" },
	{ "endpoint.disabled", "Notification endpoint disabled" },
	{ "test", "Test notification" },
};

/* A field copied into the text: cut at max bytes on a UTF-8 boundary,
 * control bytes and invalid UTF-8 turned into spaces or dropped. */
static void
notify_clean(char *out, size_t size, const char *s, size_t max)
{
	size_t n;
	size_t i = 0;
	size_t j = 0;

	out[0] = '\0';
	if (s == NULL) {
		return;
	}
	n = strnlen(s, max + 4);
	if (n > max) {
		n = max;
	}
	while (i < n) {
		unsigned char c = (unsigned char) s[i];
		size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;

		if (i + len > n || j + len + 1 > size) {
			break; /* the cut falls inside this character: end before it */
		}
		if (len == 1) {
			out[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
		} else if (pw_utf8_valid(s + i, len)) {
			memcpy(out + j, s + i, len);
			j += len;
		} else {
			out[j++] = '?'; /* not UTF-8: one byte replaced, go on */
			len = 1;
		}
		i += len;
	}
	out[j] = '\0';
}

typedef struct notify_out {
	char *p;
	size_t size;
	size_t len;
} notify_out;

static void
notify_add(notify_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
notify_add(notify_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->size) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		o->len += (size_t) n < o->size - o->len ? (size_t) n : o->size - o->len - 1;
	}
}

pw_status
prov_notify_text(const prov_notify_event *ev, char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE],
    char body[PW_NOTIFY_TEXT_BODY_SIZE])
{
	const char *title = NULL;
	char type[64];
	char sid[PW_SESSION_ID_BYTES_MAX + 1];
	char mid[PW_SESSION_ID_BYTES_MAX + 1];
	char detail[PW_NOTIFY_DETAIL_BYTES_MAX + 1];
	char amount[64] = "";
	notify_out s = { subject, PW_NOTIFY_TEXT_SUBJECT_SIZE, 0 };
	notify_out b = { body, PW_NOTIFY_TEXT_BODY_SIZE, 0 };
	size_t tl;

	PW_ASSERT(ev != NULL && subject != NULL && body != NULL);
	tl = ev->type != NULL ? strlen(ev->type) : 0;
	if (tl == 0 || tl >= sizeof(type) ||
	    strspn(ev->type, "abcdefghijklmnopqrstuvwxyz0123456789._") != tl) {
		return PW_INVALID_ARGUMENT;
	}
	memcpy(type, ev->type, tl + 1);
	for (size_t i = 0; i < sizeof(notify_titles) / sizeof(notify_titles[0]); i++) {
		if (strcmp(notify_titles[i].type, type) == 0) {
			title = notify_titles[i].title;
		}
	}
	notify_clean(sid, sizeof(sid), ev->session_id, PW_SESSION_ID_BYTES_MAX);
	notify_clean(mid, sizeof(mid), ev->merchant_id, PW_SESSION_ID_BYTES_MAX);
	notify_clean(detail, sizeof(detail), ev->detail, PW_NOTIFY_DETAIL_BYTES_MAX);
	if (ev->has_amount && ev->currency != NULL) {
		int exp = pw_currency_exponent(ev->currency);

		if (exp >= 0 && ev->amount_minor > -PW_AMOUNT_MINOR_MAX &&
		    ev->amount_minor < PW_AMOUNT_MINOR_MAX) {
			char num[48];

			pw_amount_format(num, sizeof(num), ev->amount_minor, exp);
			(void) snprintf(amount, sizeof(amount), "%s %s", num, ev->currency);
		}
	}

	/* "[paywire] Payment succeeded: 12.50 EUR (cs_...)" */
	if (title != NULL) {
		notify_add(&s, "[paywire] %s", title);
	} else {
		notify_add(&s, "[paywire] Event %s", type);
	}
	if (amount[0] != '\0') {
		notify_add(&s, ": %s", amount);
	}
	if (sid[0] != '\0') {
		notify_add(&s, " (%s)", sid);
	}

	notify_add(&b, "%s.\n\n", title != NULL ? title : "An event happened");
	notify_add(&b, "Event:    %s\n", type);
	if (sid[0] != '\0') {
		notify_add(&b, "Session:  %s\n", sid);
	}
	if (mid[0] != '\0') {
		notify_add(&b, "Merchant: %s\n", mid);
	}
	if (amount[0] != '\0') {
		notify_add(&b, "Amount:   %s\n", amount);
	}
	if (ev->event_unix_s > 0) {
		time_t t = (time_t) ev->event_unix_s;
		struct tm tm;
		char when[32];

		(void) gmtime_r(&t, &tm);
		(void) strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		notify_add(&b, "When:     %s\n", when);
	}
	if (detail[0] != '\0') {
		notify_add(&b, "Detail:   %s\n", detail);
	}
	notify_add(&b, "\n-- \nSent by paywire.\n");
	return PW_OK;
}
