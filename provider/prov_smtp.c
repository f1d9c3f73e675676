/* prov_smtp.c - one plain-text mail through libcurl's SMTP (see prov_smtp.h).
 *
 * Everything the caller gives is checked before a byte is built: the
 * message is assembled here (headers in the order RFC 5322 3.6 lists them,
 * a quoted-printable body with CRLF line ends) and libcurl uploads it as the
 * DATA of one transaction, dot-stuffing it on the way. */
#include "prov_smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "prov_curl.h"
#include "pw_limits.h"

/* ---- a bounded growing buffer ---- */

typedef struct smtp_buf {
	char *p;      /* NUL-terminated */
	size_t len;
	size_t cap;
	bool over;    /* an append went past PW_NOTIFY_MESSAGE_BYTES_MAX or out of memory */
} smtp_buf;

static void
smtp_put(smtp_buf *b, const char *s, size_t n)
{
	if (b->over) {
		return;
	}
	if (b->len + n + 1 > PW_NOTIFY_MESSAGE_BYTES_MAX) {
		b->over = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;
		char *np;

		while (cap < b->len + n + 1) {
			cap *= 2;
		}
		np = pw_realloc(b->p, cap);
		if (np == NULL) {
			b->over = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
smtp_puts(smtp_buf *b, const char *s)
{
	smtp_put(b, s, strlen(s));
}

/* ---- what is accepted ---- */

static bool
smtp_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != 0 && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static bool
smtp_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool
prov_smtp_addr_ok(const char *addr)
{
	const char *at;
	size_t n;
	size_t local;
	size_t labels = 0;
	size_t lab = 0;

	if (addr == NULL) {
		return false;
	}
	n = strlen(addr);
	at = strchr(addr, '@');
	if (n == 0 || n > PW_NOTIFY_ADDR_BYTES_MAX || at == NULL || strchr(at + 1, '@') != NULL) {
		return false;
	}
	local = (size_t) (at - addr);
	if (local == 0 || local > PW_NOTIFY_LOCAL_BYTES_MAX || addr[0] == '.' ||
	    addr[local - 1] == '.') {
		return false;
	}
	for (size_t i = 0; i < local; i++) {
		unsigned char c = (unsigned char) addr[i];

		if (c == '.' ? addr[i + 1] == '.' : !smtp_atext(c)) {
			return false;
		}
	}
	/* the domain: labels of letters, digits and inner hyphens */
	for (const char *p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (lab == 0 || lab > PW_NOTIFY_LABEL_BYTES_MAX || p[-1] == '-' ||
			    p[-(ptrdiff_t) lab] == '-') {
				return false;
			}
			labels++;
			lab = 0;
			if (*p == '\0') {
				break;
			}
			continue;
		}
		if (!smtp_ldh((unsigned char) *p)) {
			return false;
		}
		lab++;
	}
	return labels >= 2;
}

/* The message id part: 1..PW_NOTIFY_MESSAGE_ID_BYTES_MAX of [A-Za-z0-9._-]. */
static bool
smtp_msgid_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > PW_NOTIFY_MESSAGE_ID_BYTES_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		        c == '.' || c == '_' || c == '-')) {
			return false;
		}
	}
	return true;
}

/* The first control byte of s[0..n) (other than those allowed), or NULL. */
static const char *
smtp_ctl(const char *s, size_t n, const char *allowed)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];

		if ((c < 0x20 || c == 0x7f) && (c == 0 || strchr(allowed, c) == NULL)) {
			return s + i;
		}
	}
	return NULL;
}

/* ---- the message ---- */

/* RFC 5322 3.3 date-time in UTC, "Sun, 06 Dec 2026 23:15:00 +0000"
 * (English names whatever the locale). */
static void
smtp_date(char *out, size_t size, int64_t unix_s)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t) unix_s;
	struct tm tm;

	(void) gmtime_r(&t, &tm);
	(void) snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* Whether s is sent as it is in a header: printable ASCII and no "=?" that
 * a reader would take for the start of an encoded word. */
static bool
smtp_plain_header(const char *s)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char) *p;

		if (c < 0x20 || c >= 0x7f || (c == '=' && p[1] == '?')) {
			return false;
		}
	}
	return true;
}

/* The subject as RFC 2047 "B" encoded words of at most 39 bytes each (52
 * characters of base64, 64 with the =?UTF-8?B? ?= around: well inside the
 * 75 an encoded word may have), never splitting a UTF-8 sequence, folded
 * with CRLF SP between words (the whitespace between two encoded words is
 * not part of the text: RFC 2047 6.2). */
static void
smtp_put_subject(smtp_buf *b, const char *subj)
{
	size_t n = strlen(subj);
	size_t i = 0;

	smtp_puts(b, "Subject: ");
	if (smtp_plain_header(subj)) {
		smtp_puts(b, subj);
		smtp_puts(b, "\r\n");
		return;
	}
	while (i < n) {
		size_t k = n - i > 39 ? 39 : n - i;
		char b64[64];

		while (i + k < n && ((unsigned char) subj[i + k] & 0xC0) == 0x80) {
			k--; /* the next byte continues a sequence: end before its lead */
		}
		(void) sodium_bin2base64(b64, sizeof(b64), (const unsigned char *) subj + i, k,
		    sodium_base64_VARIANT_ORIGINAL);
		if (i > 0) {
			smtp_puts(b, "\r\n ");
		}
		smtp_puts(b, "=?UTF-8?B?");
		smtp_puts(b, b64);
		smtp_puts(b, "?=");
		i += k;
	}
	smtp_puts(b, "\r\n");
}

/* text as quoted-printable (RFC 2045 6.7): lines of at most 76 characters,
 * a soft break ("=" CRLF) inside longer ones, "=" and every byte outside
 * printable ASCII as =XX, a space or tab before a line end as =20 / =09;
 * "\n" becomes CRLF; the body ends with CRLF. */
static void
smtp_put_qp(smtp_buf *b, const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(text);
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) text[i];
		bool at_eol = i + 1 == n || text[i + 1] == '\n';
		char enc[4];
		size_t elen;

		if (c == '\n') {
			smtp_puts(b, "\r\n");
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol)) {
			enc[0] = (char) c;
			elen = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			elen = 3;
		}
		/* room for this and, unless the line ends right after it, a
		 * soft break's "=" */
		if (col + elen > (at_eol ? 76u : 75u)) {
			smtp_puts(b, "=\r\n");
			col = 0;
		}
		smtp_put(b, enc, elen);
		col += elen;
	}
	if (n == 0 || text[n - 1] != '\n') {
		smtp_puts(b, "\r\n");
	}
}

static pw_status
smtp_check(const char *from, const char *to, const char *subject, const char *text,
    const char *message_id, char *err, size_t errlen)
{
	size_t sl;
	size_t tl;

	if (from == NULL || !prov_smtp_addr_ok(from)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the sender address is not a plain address local@domain.tld (see prov_smtp.h)");
	}
	if (to == NULL || !prov_smtp_addr_ok(to)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the recipient address is not a plain address local@domain.tld of at most %u "
		    "bytes (no CR/LF, no quotes, no display name)",
		    (unsigned) PW_NOTIFY_ADDR_BYTES_MAX);
	}
	if (subject == NULL || text == NULL) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "a mail needs a subject and a text");
	}
	sl = strlen(subject);
	tl = strlen(text);
	if (sl == 0 || sl > PW_NOTIFY_SUBJECT_BYTES_MAX) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the subject must have 1 to %u bytes (it has %zu)",
		    (unsigned) PW_NOTIFY_SUBJECT_BYTES_MAX, sl);
	}
	if (smtp_ctl(subject, sl, "") != NULL) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the subject contains a control character (CR, LF, ...): refused");
	}
	if (!pw_utf8_valid(subject, sl)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "the subject is not valid UTF-8");
	}
	if (tl > PW_NOTIFY_BODY_BYTES_MAX) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the text has %zu bytes, more than the %u a mail may have", tl,
		    (unsigned) PW_NOTIFY_BODY_BYTES_MAX);
	}
	if (smtp_ctl(text, tl, "\n\t") != NULL) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the text contains a control character other than LF and TAB (a CR?)");
	}
	if (!pw_utf8_valid(text, tl)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "the text is not valid UTF-8");
	}
	if (message_id != NULL && !smtp_msgid_ok(message_id)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the message id must have 1 to %u of A-Z a-z 0-9 . _ -",
		    (unsigned) PW_NOTIFY_MESSAGE_ID_BYTES_MAX);
	}
	return PW_OK;
}

pw_status
prov_smtp_message(const char *from, const char *to, const char *subject, const char *text,
    const char *message_id, int64_t date_unix_s, char **out, size_t *out_len, char *err,
    size_t errlen)
{
	smtp_buf b = { 0 };
	char line[PW_NOTIFY_ADDR_BYTES_MAX + PW_NOTIFY_MESSAGE_ID_BYTES_MAX + 64];
	char rid[33];
	pw_status st;

	PW_ASSERT(out != NULL && out_len != NULL);
	*out = NULL;
	*out_len = 0;
	st = smtp_check(from, to, subject, text, message_id, err, errlen);
	if (st != PW_OK) {
		return st;
	}
	if (message_id == NULL) {
		unsigned char r[16];

		pw_random(r, sizeof(r));
		(void) sodium_bin2hex(rid, sizeof(rid), r, sizeof(r));
		message_id = rid;
	}
	smtp_date(line, sizeof(line), date_unix_s);
	smtp_puts(&b, "Date: ");
	smtp_puts(&b, line);
	smtp_puts(&b, "\r\nFrom: ");
	smtp_puts(&b, from);
	smtp_puts(&b, "\r\nTo: ");
	smtp_puts(&b, to);
	smtp_puts(&b, "\r\n");
	smtp_put_subject(&b, subject);
	(void) snprintf(line, sizeof(line), "Message-ID: <%s@%s>\r\n", message_id,
	    strchr(from, '@') + 1);
	smtp_puts(&b, line);
	/* RFC 3834: an automatic message; vacation responders stay quiet */
	smtp_puts(&b, "Auto-Submitted: auto-generated\r\n"
	              "MIME-Version: 1.0\r\n"
	              "Content-Type: text/plain; charset=utf-8\r\n"
	              "Content-Transfer-Encoding: quoted-printable\r\n"
	              "\r\n");
	smtp_put_qp(&b, text);
	if (b.over) {
		pw_free(b.p);
		return pw_why(err, errlen, b.cap == 0 ? PW_RESOURCE_EXHAUSTED : PW_INVALID_ARGUMENT,
		    "the message would be larger than %u bytes", (unsigned) PW_NOTIFY_MESSAGE_BYTES_MAX);
	}
	*out = b.p;
	*out_len = b.len;
	return PW_OK;
}

/* ---- the transaction ---- */

typedef struct smtp_upload {
	const char *p;
	size_t len;
	size_t off;
} smtp_upload;

static size_t
smtp_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	smtp_upload *u = arg;
	size_t n = size * nitems;

	if (n > u->len - u->off) {
		n = u->len - u->off;
	}
	memcpy(buf, u->p + u->off, n);
	u->off += n;
	return n;
}

/* The relay's last refusal (a 4xx or 5xx reply line; libcurl hands SMTP
 * replies to the header callback), kept printable and bounded: the 221 of
 * the QUIT that follows it does not replace it. */
typedef struct smtp_reply {
	char last[PW_NOTIFY_REPLY_BYTES_MAX];
} smtp_reply;

static size_t
smtp_header_cb(char *line, size_t size, size_t nitems, void *arg)
{
	smtp_reply *r = arg;
	size_t n = size * nitems;

	if (n >= 3 && (line[0] == '4' || line[0] == '5') && line[1] >= '0' && line[1] <= '9' &&
	    line[2] >= '0' && line[2] <= '9') {
		prov_curl_printable(r->last, sizeof(r->last), line, n);
	}
	return n;
}

/* The URL policy: smtp:// or smtps://, a host, no user:password@ in it, no
 * control byte or space; plain smtp:// without TLS only to loopback. */
static pw_status
smtp_url_check(const prov_smtp_cfg *cfg, char *err, size_t errlen)
{
	const char *u = cfg->url;
	const char *host;
	size_t n;

	if (u == NULL) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "no SMTP relay URL");
	}
	n = strlen(u);
	if (strncmp(u, "smtps://", 8) == 0) {
		host = u + 8;
	} else if (strncmp(u, "smtp://", 7) == 0) {
		host = u + 7;
	} else {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the SMTP relay URL must be smtp://host:port (STARTTLS) or smtps://host:port");
	}
	if (n >= PW_PROVIDER_URL_BYTES_MAX || host[0] == '\0' || host[0] == '/' || host[0] == ':' ||
	    strcspn(u, " \t\r\n") != n || strchr(u, '@') != NULL) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the SMTP relay URL needs a host, and no credentials or spaces in it "
		    "(the user and password are configured apart)");
	}
	if (cfg->allow_plain && !prov_curl_host_is_loopback(u)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "SMTP without TLS is allowed only to a loopback relay (127.0.0.1, [::1], localhost)");
	}
	return PW_OK;
}

static long
smtp_timeout(long v, long dflt)
{
	return v <= 0 ? dflt : v;
}

/* The status for libcurl's result rc with the relay's last reply code. */
static pw_status
smtp_classify(CURLcode rc, long code)
{
	if (rc == CURLE_OK) {
		return PW_OK;
	}
	if (code >= 400 && code <= 499) {
		return PW_UNAVAILABLE; /* the relay's "try again later" */
	}
	if (code >= 500 && code <= 599) {
		return PW_FAILED_PRECONDITION;
	}
	switch (rc) {
	case CURLE_LOGIN_DENIED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return PW_FAILED_PRECONDITION; /* the configuration, not the moment */
	case CURLE_OUT_OF_MEMORY:
		return PW_RESOURCE_EXHAUSTED;
	default:
		return PW_UNAVAILABLE; /* connect, timeout, reset: the next try may pass */
	}
}

pw_status
prov_smtp_send(const prov_smtp_cfg *cfg, const char *to, const char *subject, const char *text,
    const char *message_id, char *err, size_t errlen)
{
	char *msg = NULL;
	size_t msg_len = 0;
	char env[PW_NOTIFY_ADDR_BYTES_MAX + 3];
	char ebuf[CURL_ERROR_SIZE];
	char why[CURL_ERROR_SIZE + PW_NOTIFY_REPLY_BYTES_MAX + 128];
	struct curl_slist *rcpt = NULL;
	smtp_upload up;
	smtp_reply reply = { { 0 } };
	long code = 0;
	long tmo;
	long ctmo;
	CURLcode rc;
	CURL *e;
	pw_status st;

	PW_ASSERT(cfg != NULL);
	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	st = smtp_url_check(cfg, err, errlen);
	if (st != PW_OK) {
		return st;
	}
	tmo = smtp_timeout(cfg->timeout_ms, PW_NOTIFY_TIMEOUT_MS_DEFAULT);
	ctmo = smtp_timeout(cfg->connect_timeout_ms, PW_NOTIFY_CHAN_CONNECT_MS);
	if (tmo > PW_NOTIFY_TIMEOUT_MS_MAX || ctmo > PW_NOTIFY_TIMEOUT_MS_MAX) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "an SMTP timeout is over %u ms",
		    (unsigned) PW_NOTIFY_TIMEOUT_MS_MAX);
	}
	if (ctmo > tmo) {
		ctmo = tmo;
	}
	if (cfg->user != NULL && (cfg->user[0] == '\0' || cfg->password == NULL ||
	                             smtp_ctl(cfg->user, strlen(cfg->user), "") != NULL ||
	                             smtp_ctl(cfg->password, strlen(cfg->password), "") != NULL)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the SMTP user needs a password, neither with a control character");
	}
	if (cfg->auth_mech != NULL && strcmp(cfg->auth_mech, "PLAIN") != 0 &&
	    strcmp(cfg->auth_mech, "LOGIN") != 0) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the SMTP AUTH mechanism must be PLAIN or LOGIN (or left to the relay's offer)");
	}
	st = prov_smtp_message(cfg->from, to, subject, text, message_id,
	    pw_now_unix_ms() / 1000, &msg, &msg_len, err, errlen);
	if (st != PW_OK) {
		return st;
	}
	if (prov_curl_ready() != PW_OK || (e = curl_easy_init()) == NULL) {
		pw_free(msg);
		return pw_why(err, errlen, PW_UNAVAILABLE, "libcurl did not initialise");
	}
	(void) snprintf(env, sizeof(env), "<%s>", to);
	rcpt = curl_slist_append(NULL, env);
	(void) snprintf(env, sizeof(env), "<%s>", cfg->from);
	up = (smtp_upload) { .p = msg, .len = msg_len, .off = 0 };
	ebuf[0] = '\0';
	(void) curl_easy_setopt(e, CURLOPT_URL, cfg->url);
	(void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* smtp://: STARTTLS or nothing; with allow_plain (loopback only) TLS
	 * when the sink offers it */
	(void) curl_easy_setopt(e, CURLOPT_USE_SSL,
	    (long) (cfg->allow_plain ? CURLUSESSL_TRY : CURLUSESSL_ALL));
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
	}
	(void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ctmo);
	(void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, tmo);
	(void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void) curl_easy_setopt(e, CURLOPT_MAIL_FROM, env);
	(void) curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
	(void) curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	(void) curl_easy_setopt(e, CURLOPT_READFUNCTION, smtp_read_cb);
	(void) curl_easy_setopt(e, CURLOPT_READDATA, &up);
	(void) curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) msg_len);
	(void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, smtp_header_cb);
	(void) curl_easy_setopt(e, CURLOPT_HEADERDATA, &reply);
	(void) curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
	if (cfg->user != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_USERNAME, cfg->user);
		(void) curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->password);
		if (cfg->auth_mech != NULL) {
			(void) curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS,
			    strcmp(cfg->auth_mech, "LOGIN") == 0 ? "AUTH=LOGIN" : "AUTH=PLAIN");
		}
	}
	rc = curl_easy_perform(e);
	(void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	curl_slist_free_all(rcpt);
	sodium_memzero(msg, msg_len);
	pw_free(msg);
	st = smtp_classify(rc, code);
	if (st == PW_OK) {
		return PW_OK;
	}
	if (rc == CURLE_LOGIN_DENIED) {
		(void) snprintf(why, sizeof(why),
		    "the SMTP relay refused the credentials of user '%s' (it answered: %s)",
		    cfg->user != NULL ? cfg->user : "", reply.last);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		(void) snprintf(why, sizeof(why),
		    "the SMTP relay does not offer STARTTLS: nothing was sent in the clear");
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
		(void) snprintf(why, sizeof(why),
		    "the SMTP relay's TLS certificate was not verified (%s): give its CA with the CA "
		    "file setting",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	} else if (code >= 400 && code <= 599) {
		(void) snprintf(why, sizeof(why), "the SMTP relay %s the mail: it answered %s (%s)",
		    code < 500 ? "deferred" : "refused", reply.last[0] != '\0' ? reply.last : "nothing",
		    ebuf[0] != '\0' ? ebuf
		    : rc == CURLE_WEIRD_SERVER_REPLY ? "after the message's data"
		                                     : curl_easy_strerror(rc));
	} else {
		(void) snprintf(why, sizeof(why), "the SMTP relay could not be reached or failed: %s",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	}
	/* whatever the relay echoed, the password does not go further */
	if (cfg->password != NULL) {
		prov_curl_scrub(why, sizeof(why), cfg->password);
	}
	return pw_why(err, errlen, st, "%s", why);
}
