/* prov_curl.c - what the notification senders share (see prov_curl.h). */
#include "prov_curl.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

static pthread_once_t prov_curl_once = PTHREAD_ONCE_INIT;
static CURLcode prov_curl_rc = CURLE_FAILED_INIT;

static void
prov_curl_init(void)
{
	prov_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

pw_status
prov_curl_ready(void)
{
	(void) pthread_once(&prov_curl_once, prov_curl_init);
	return prov_curl_rc == CURLE_OK ? PW_OK : PW_UNAVAILABLE;
}

size_t
prov_curl_sink_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	prov_curl_sink *s = arg;
	size_t n = size * nmemb;

	if (n > s->max - s->len) {
		s->too_big = true;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap == 0 ? 4096 : s->cap;
		char *nb;

		while (cap < s->len + n + 1) {
			cap *= 2;
		}
		nb = pw_realloc(s->buf, cap);
		if (nb == NULL) {
			return 0;
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

bool
prov_curl_host_is_loopback(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	if (h == NULL) {
		return false;
	}
	h += 3;
	if (strncmp(h, "[::1]", 5) == 0) {
		return h[5] == '\0' || h[5] == ':' || h[5] == '/';
	}
	n = strcspn(h, ":/?#");
	return (n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
	    (n == 9 && strncasecmp(h, "localhost", 9) == 0);
}

void
prov_curl_scrub(char *buf, size_t bufsize, const char *secret)
{
	static const char mark[] = "<redacted>";
	size_t slen;
	char *p;

	if (secret == NULL || secret[0] == '\0' || bufsize == 0) {
		return;
	}
	slen = strlen(secret);
	while ((p = strstr(buf, secret)) != NULL) {
		size_t tail = strlen(p + slen);
		size_t at = (size_t) (p - buf);
		size_t mlen = sizeof(mark) - 1;

		if (at + mlen >= bufsize) {
			buf[at] = '\0'; /* no room for the mark: cut there */
			return;
		}
		if (at + mlen + tail >= bufsize) {
			tail = bufsize - 1 - at - mlen;
		}
		memmove(p + mlen, p + slen, tail);
		memcpy(p, mark, mlen);
		p[mlen + tail] = '\0';
	}
}

void
prov_curl_printable(char *out, size_t bufsize, const char *src, size_t n)
{
	size_t j = 0;

	if (bufsize == 0) {
		return;
	}
	for (size_t i = 0; i < n && j + 1 < bufsize; i++) {
		unsigned char c = (unsigned char) src[i];

		/* ASCII only: a reply's bytes are the relay's, not trusted text */
		out[j++] = (c < 0x20 || c == 0x7f) ? ' ' : c >= 0x80 ? '?' : (char) c;
	}
	while (j > 0 && out[j - 1] == ' ') {
		j--;
	}
	out[j] = '\0';
}
