/* prov_form.c - Stripe-style form bodies (see prov_form.h). */
#include "prov_form.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pw_limits.h"

void
prov_form_init(prov_form *f)
{
	memset(f, 0, sizeof(*f));
}

void
prov_form_fini(prov_form *f)
{
	if (f->buf != NULL) {
		pw_free(f->buf);
	}
	memset(f, 0, sizeof(*f));
}

static bool
prov_form_reserve(prov_form *f, size_t more)
{
	size_t cap;
	char *nb;

	if (f->failed) {
		return false;
	}
	if (f->len + more + 1 > PW_PROVIDER_FORM_BYTES_MAX) {
		f->failed = true;
		return false;
	}
	if (f->len + more + 1 <= f->cap) {
		return true;
	}
	cap = f->cap == 0 ? 1024 : f->cap;
	while (cap < f->len + more + 1) {
		cap *= 2;
	}
	nb = pw_realloc(f->buf, cap);
	if (nb == NULL) {
		f->failed = true;
		return false;
	}
	f->buf = nb;
	f->cap = cap;
	return true;
}

static void
prov_form_raw(prov_form *f, const char *s, size_t n)
{
	if (prov_form_reserve(f, n)) {
		memcpy(f->buf + f->len, s, n);
		f->len += n;
		f->buf[f->len] = '\0';
	}
}

static void
prov_form_enc(prov_form *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
		char c[3];
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';

		if (plain) {
			prov_form_raw(f, (const char *) p, 1);
			continue;
		}
		c[0] = '%';
		c[1] = hex[*p >> 4];
		c[2] = hex[*p & 15];
		prov_form_raw(f, c, 3);
	}
}

void
prov_form_add(prov_form *f, const char *key, const char *value)
{
	PW_ASSERT(f != NULL && key != NULL && key[0] != '\0');
	if (value == NULL || value[0] == '\0') {
		return;
	}
	if (f->len > 0) {
		prov_form_raw(f, "&", 1);
	}
	prov_form_enc(f, key);
	prov_form_raw(f, "=", 1);
	prov_form_enc(f, value);
}

void
prov_form_addf(prov_form *f, const char *key, const char *fmt, ...)
{
	char v[PW_PROVIDER_URL_BYTES_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(v)) {
		f->failed = true;
		return;
	}
	prov_form_add(f, key, v);
}

void
prov_form_add_i64(prov_form *f, const char *key, int64_t v)
{
	prov_form_addf(f, key, "%" PRId64, v);
}

pw_status
prov_form_done(const prov_form *f)
{
	return f->failed ? PW_RESOURCE_EXHAUSTED : PW_OK;
}
