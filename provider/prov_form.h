/* prov_form.h - an application/x-www-form-urlencoded body the way Stripe's
 * API takes it: nested parameters as bracketed keys
 * (`line_items[0][price_data][currency]=eur`, `metadata[session_id]=cs_…`),
 * values percent-encoded (everything but ALPHA / DIGIT / "-._~"). Bounded:
 * a body past PW_PROVIDER_FORM_BYTES_MAX fails (the builder remembers, and
 * prov_form_done reports it once). */
#ifndef PW_PROV_FORM_H
#define PW_PROV_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_common.h"

typedef struct prov_form {
	char *buf;     /* NUL-terminated */
	size_t len;
	size_t cap;
	bool failed;   /* too long or out of memory */
} prov_form;

void prov_form_init(prov_form *f);
void prov_form_fini(prov_form *f);
/* key=value (key written as given, brackets and all; value encoded). A NULL
 * or "" value adds nothing: optional parameters are left out. */
void prov_form_add(prov_form *f, const char *key, const char *value);
/* key=printf(fmt, ...) (the key itself may be a format: see prov_form_addf_k) */
void prov_form_addf(prov_form *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void prov_form_add_i64(prov_form *f, const char *key, int64_t v);
/* PW_OK, or PW_RESOURCE_EXHAUSTED when the body did not fit. */
pw_status prov_form_done(const prov_form *f) PW_WUR;

#endif
