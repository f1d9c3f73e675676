/*
 * bridge_buf.h - a growable text buffer with a hard maximum, for the bridge's
 * JSON, HTML and Prometheus answers (the idea of curl's docs/internals/DYNBUF.md).
 *
 * Owns: its heap block (pw_malloc/pw_realloc), released by bridge_buf_fini.
 * Threads: a buffer belongs to one request on one thread; no locking.
 * Limits: never grows past `max_bytes` (including the terminating NUL). An
 * append that does not fit, or an allocation that fails, sets the sticky
 * `failed` flag and leaves the content as it was: callers build a whole answer
 * and check bridge_buf_ok() once at the end (the answer is then a 500, never a
 * truncated page).
 */
#ifndef BRIDGE_BUF_H
#define BRIDGE_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bridge_buf {
	char *data;       /* NUL-terminated once anything was appended; may be NULL */
	size_t len;       /* bytes used, without the NUL */
	size_t cap;       /* bytes allocated */
	size_t max_bytes; /* hard ceiling for cap */
	bool failed;      /* sticky: an append did not fit or allocation failed */
} bridge_buf;

/* Caller's memory; nothing is allocated until the first append. max_bytes > 1. */
void bridge_buf_init(bridge_buf *b, size_t max_bytes);
/* Frees the block; the buffer may be initialized again. */
void bridge_buf_fini(bridge_buf *b);
/* Like fini, but zeroes the whole block first (sodium_memzero): for buffers
 * that held a token or an access key. */
void bridge_buf_wipe(bridge_buf *b);
/* True if no append failed. */
bool bridge_buf_ok(const bridge_buf *b);
/* The text ("" when empty); valid until the next append or fini. */
const char *bridge_buf_str(const bridge_buf *b);

/* Appends len raw bytes / a C string / printf output. */
void bridge_buf_append(bridge_buf *b, const char *s, size_t len);
void bridge_buf_puts(bridge_buf *b, const char *s);
void bridge_buf_printf(bridge_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s with the five HTML-significant characters escaped (& < > " ')
 * so the result is safe both in element text and in a quoted attribute.
 * Bytes that are not valid UTF-8 are replaced by U+FFFD, so a page never
 * carries malformed text. */
void bridge_buf_html(bridge_buf *b, const char *s);

#endif
