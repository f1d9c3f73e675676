/* bridge_buf.c - bounded growable text buffer (see bridge_buf.h). */
#include "bridge_buf.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pw_common.h"

#define BRIDGE_BUF_FIRST_CAP 1024u
#define BRIDGE_UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

void
bridge_buf_init(bridge_buf *b, size_t max_bytes)
{
	PW_ASSERT(b != NULL);
	PW_ASSERT(max_bytes > 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max_bytes = max_bytes;
	b->failed = false;
}

void
bridge_buf_fini(bridge_buf *b)
{
	PW_ASSERT(b != NULL);
	pw_free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
bridge_buf_wipe(bridge_buf *b)
{
	PW_ASSERT(b != NULL);
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
	}
	bridge_buf_fini(b);
}

bool
bridge_buf_ok(const bridge_buf *b)
{
	PW_ASSERT(b != NULL);
	return !b->failed;
}

const char *
bridge_buf_str(const bridge_buf *b)
{
	PW_ASSERT(b != NULL);
	return b->data != NULL ? b->data : "";
}

/* Makes room for `more` bytes plus the NUL; false (and failed set) if that
 * would pass max_bytes or memory runs out. */
static bool
bridge_buf_reserve(bridge_buf *b, size_t more)
{
	size_t need;
	size_t cap;
	char *p;

	if (b->failed) {
		return false;
	}
	if (more > b->max_bytes || b->len + 1 > b->max_bytes - more) {
		b->failed = true;
		return false;
	}
	need = b->len + more + 1;
	if (need <= b->cap) {
		return true;
	}
	cap = b->cap != 0 ? b->cap : BRIDGE_BUF_FIRST_CAP;
	while (cap < need) {
		cap = cap > b->max_bytes / 2 ? b->max_bytes : cap * 2;
	}
	if (cap > b->max_bytes) {
		cap = b->max_bytes;
	}
	p = pw_realloc(b->data, cap);
	if (p == NULL) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	PW_ASSERT(b->cap >= need);
	return true;
}

void
bridge_buf_append(bridge_buf *b, const char *s, size_t len)
{
	PW_ASSERT(b != NULL);
	PW_ASSERT(s != NULL || len == 0);
	if (!bridge_buf_reserve(b, len)) {
		return;
	}
	if (len > 0) {
		memcpy(b->data + b->len, s, len);
	}
	b->len += len;
	b->data[b->len] = '\0';
}

void
bridge_buf_puts(bridge_buf *b, const char *s)
{
	PW_ASSERT(s != NULL);
	bridge_buf_append(b, s, strlen(s));
}

void
bridge_buf_printf(bridge_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	PW_ASSERT(b != NULL && fmt != NULL);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!bridge_buf_reserve(b, (size_t) n)) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	PW_ASSERT(n >= 0 && b->len + (size_t) n < b->cap);
	b->len += (size_t) n;
}

/* The escape for one byte, or NULL when the byte is copied as it is. With
 * `utf8_ok` false every non-ASCII byte is replaced (we cannot tell which
 * sequences are the broken ones cheaply, and such text is garbage anyway). */
static const char *
bridge_html_escape_of(unsigned char ch, bool utf8_ok)
{
	switch (ch) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '\t':
	case '\n':
	case '\r':
		return NULL;
	}
	if (ch < 0x20 || ch == 0x7f) {
		return BRIDGE_UTF8_REPLACEMENT; /* control characters are not valid HTML text */
	}
	if (ch >= 0x80 && !utf8_ok) {
		return BRIDGE_UTF8_REPLACEMENT;
	}
	return NULL;
}

void
bridge_buf_html(bridge_buf *b, const char *s)
{
	size_t len;
	size_t run = 0; /* start of the pending run of bytes copied as they are */
	bool utf8_ok;

	PW_ASSERT(b != NULL && s != NULL);
	len = strlen(s);
	utf8_ok = pw_utf8_valid(s, len);
	for (size_t i = 0; i < len; i++) {
		const char *esc = bridge_html_escape_of((unsigned char) s[i], utf8_ok);
		if (esc == NULL) {
			continue;
		}
		bridge_buf_append(b, s + run, i - run);
		bridge_buf_puts(b, esc);
		run = i + 1;
	}
	bridge_buf_append(b, s + run, len - run);
}
