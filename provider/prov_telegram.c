/* prov_telegram.c - Bot API sendMessage through libcurl (see prov_telegram.h). */
#include "prov_telegram.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "paywire/version.h"
#include "prov_curl.h"
#include "pw_limits.h"

static bool
tg_token_ok(const char *t)
{
	size_t n;
	size_t digits = strspn(t, "0123456789");
	size_t rest;

	n = strlen(t);
	if (n > PW_NOTIFY_TELEGRAM_TOKEN_BYTES_MAX || digits == 0 || digits > 20 || t[digits] != ':') {
		return false;
	}
	rest = n - digits - 1;
	return rest >= 30 &&
	    strspn(t + digits + 1,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == rest;
}

static bool
tg_chat_ok(const char *c)
{
	size_t n = strlen(c);

	if (c[0] == '@') {
		return n >= 6 && n <= 33 &&
		    strspn(c + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
		    n - 1;
	}
	if (c[0] == '-') {
		c++;
		n--;
	}
	return n >= 1 && n <= 20 && strspn(c, "0123456789") == n;
}

static pw_status
tg_base_check(const prov_telegram_cfg *cfg, const char *base, char *err, size_t errlen)
{
	size_t n = strlen(base);
	const char *host;

	if (strncmp(base, "https://", 8) == 0) {
		host = base + 8;
	} else if (strncmp(base, "http://", 7) == 0 && cfg->allow_http) {
		if (!prov_curl_host_is_loopback(base)) {
			return pw_why(err, errlen, PW_INVALID_ARGUMENT,
			    "the Telegram API over plain http:// is allowed only on a loopback host");
		}
		host = base + 7;
	} else {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the Telegram API base must be https://host[:port][/path]");
	}
	if (host[0] == '\0' || host[0] == '/' || n >= PW_PROVIDER_URL_BYTES_MAX - 200 ||
	    strcspn(base, " \t\r\n?#@") != n) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the Telegram API base needs a host and no credentials, query or spaces");
	}
	return PW_OK;
}


static size_t
tg_header_cb(char *line, size_t size, size_t nmemb, void *arg)
{
	int64_t *retry_after_s = arg;
	size_t n = size * nmemb;

	if (n > 12 && strncasecmp(line, "retry-after:", 12) == 0) {
		char v[32];
		char *end = NULL;
		long long s;

		prov_curl_printable(v, sizeof(v), line + 12, n - 12);
		s = strtoll(v, &end, 10);
		if (end != v && s >= 0) {
			*retry_after_s = s;
		}
	}
	return n;
}

/* The token, and its secret part alone, out of a message. */
static void
tg_scrub(char *why, size_t size, const char *token)
{
	prov_curl_scrub(why, size, token);
	prov_curl_scrub(why, size, strchr(token, ':') + 1);
}

static long
tg_timeout(long v, long dflt)
{
	return v <= 0 ? dflt : v;
}

pw_status
prov_telegram_send(const prov_telegram_cfg *cfg, const char *bot_token, const char *chat_id,
    const char *text, int64_t *retry_after_ms, char *err, size_t errlen)
{
	const char *base;
	char url[PW_PROVIDER_URL_BYTES_MAX];
	char why[PW_NOTIFY_REPLY_BYTES_MAX + 256];
	char desc[PW_NOTIFY_REPLY_BYTES_MAX];
	char *body = NULL;
	struct curl_slist *hl = NULL;
	prov_curl_sink sink = { .max = PW_NOTIFY_CHAN_RESPONSE_BYTES_MAX };
	int64_t header_retry_s = -1;
	int64_t retry_s = -1;
	json_t *req;
	json_t *ans = NULL;
	bool api_ok = false;
	long status = 0;
	long tmo;
	long ctmo;
	size_t tl;
	size_t bl;
	CURLcode rc;
	CURL *e;
	pw_status st;

	PW_ASSERT(cfg != NULL);
	if (retry_after_ms != NULL) {
		*retry_after_ms = 0;
	}
	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	base = cfg->api_base != NULL ? cfg->api_base : PW_TELEGRAM_API_DEFAULT;
	st = tg_base_check(cfg, base, err, errlen);
	if (st != PW_OK) {
		return st;
	}
	if (bot_token == NULL || !tg_token_ok(bot_token)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the bot token is not in the Bot API's form (digits ':' and 30 or more of "
		    "A-Z a-z 0-9 _ -)");
	}
	if (chat_id == NULL || !tg_chat_ok(chat_id)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the chat id must be an integer of at most 20 digits or @name (5 to 32 of A-Z a-z "
		    "0-9 _)");
	}
	if (text == NULL) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "a Telegram message needs a text");
	}
	tl = strlen(text);
	if (tl == 0 || tl > PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT,
		    "the text must have 1 to %u bytes (it has %zu)",
		    (unsigned) PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX, tl);
	}
	if (!pw_utf8_valid(text, tl)) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "the text is not valid UTF-8");
	}
	tmo = tg_timeout(cfg->timeout_ms, PW_NOTIFY_TIMEOUT_MS_DEFAULT);
	ctmo = tg_timeout(cfg->connect_timeout_ms, PW_NOTIFY_CHAN_CONNECT_MS);
	if (tmo > PW_NOTIFY_TIMEOUT_MS_MAX || ctmo > PW_NOTIFY_TIMEOUT_MS_MAX) {
		return pw_why(err, errlen, PW_INVALID_ARGUMENT, "a Telegram timeout is over %u ms",
		    (unsigned) PW_NOTIFY_TIMEOUT_MS_MAX);
	}
	if (ctmo > tmo) {
		ctmo = tmo;
	}
	bl = strlen(base);
	while (bl > 0 && base[bl - 1] == '/') {
		bl--;
	}
	(void) snprintf(url, sizeof(url), "%.*s/bot%s/sendMessage", (int) bl, base, bot_token);
	req = json_pack("{s:s, s:s}", "chat_id", chat_id, "text", text);
	body = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (body == NULL || prov_curl_ready() != PW_OK || (e = curl_easy_init()) == NULL) {
		free(body);
		return pw_why(err, errlen, PW_RESOURCE_EXHAUSTED,
		    "out of memory or libcurl did not initialise");
	}
	hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:");
	(void) curl_easy_setopt(e, CURLOPT_URL, url);
	(void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, cfg->allow_http ? "http,https" : "https");
	(void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_file != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
	}
	(void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ctmo);
	(void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, tmo);
	(void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void) curl_easy_setopt(e, CURLOPT_USERAGENT, "paywire/" PW_VERSION_STRING);
	(void) curl_easy_setopt(e, CURLOPT_POST, 1L);
	(void) curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	(void) curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
	(void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	(void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, prov_curl_sink_cb);
	(void) curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
	(void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, tg_header_cb);
	(void) curl_easy_setopt(e, CURLOPT_HEADERDATA, &header_retry_s);
	rc = curl_easy_perform(e);
	(void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	free(body);
	/* the URL holds the token: wipe it now it is no longer needed */
	sodium_memzero(url, sizeof(url));

	if (rc != CURLE_OK) {
		pw_free(sink.buf);
		st = (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		         rc == CURLE_UNSUPPORTED_PROTOCOL)
		    ? PW_FAILED_PRECONDITION
		    : PW_UNAVAILABLE;
		/* curl_easy_strerror, never the error buffer: that one may name the URL */
		(void) snprintf(why, sizeof(why), "the Telegram API could not be reached: %s%s",
		    sink.too_big ? "its answer is larger than paywire reads" : curl_easy_strerror(rc),
		    st == PW_FAILED_PRECONDITION ? " (its TLS certificate was not verified)" : "");
		tg_scrub(why, sizeof(why), bot_token);
		return pw_why(err, errlen, st, "%s", why);
	}
	desc[0] = '\0';
	if (sink.buf != NULL) {
		json_t *d;
		json_t *p;

		ans = json_loadb(sink.buf, sink.len, 0, NULL);
		if (json_is_object(ans)) {
			api_ok = json_is_true(json_object_get(ans, "ok"));
			d = json_object_get(ans, "description");
			if (json_is_string(d)) {
				prov_curl_printable(desc, sizeof(desc), json_string_value(d),
				    json_string_length(d));
			}
			p = json_object_get(json_object_get(ans, "parameters"), "retry_after");
			if (json_is_integer(p) && json_integer_value(p) >= 0) {
				retry_s = (int64_t) json_integer_value(p);
			}
		}
		json_decref(ans);
		pw_free(sink.buf);
	}
	if (status == 200 && api_ok) {
		return PW_OK;
	}
	if (status == 429) {
		if (retry_s < 0) {
			retry_s = header_retry_s >= 0 ? header_retry_s : 1;
		}
		if (retry_s > PW_NOTIFY_RETRY_AFTER_MAX_S) {
			retry_s = PW_NOTIFY_RETRY_AFTER_MAX_S;
		}
		if (retry_after_ms != NULL) {
			*retry_after_ms = retry_s * 1000;
		}
		st = PW_RESOURCE_EXHAUSTED;
	} else if (status >= 400 && status <= 499) {
		st = PW_FAILED_PRECONDITION;
	} else {
		st = PW_UNAVAILABLE; /* 5xx, or a 2xx/3xx that is not the API's {"ok":true} */
	}
	(void) snprintf(why, sizeof(why), "the Telegram API answered %ld%s%s%s", status,
	    desc[0] != '\0' ? ": " : "", desc,
	    st == PW_RESOURCE_EXHAUSTED ? " (too many requests: retry later)"
	    : st == PW_UNAVAILABLE      ? " (transient: retry later)"
	    : status == 401             ? " (permanent: the bot token was refused)"
	                                : " (permanent: check the chat id and that the bot may write there)");
	tg_scrub(why, sizeof(why), bot_token);
	return pw_why(err, errlen, st, "%s", why);
}
