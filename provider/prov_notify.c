/* prov_notify.c - one delivery of a merchant notification (prov_notify.h). */
#include "prov_notify.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "paywire/version.h"
#include "prov_curl.h"
#include "pw_limits.h"

static bool
v4_internal(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 ||
	    (a & 0xffc00000u) == 0x64400000u ||  /* 100.64/10 */
	    (a & 0xffff0000u) == 0xa9fe0000u ||  /* 169.254/16 */
	    (a & 0xfff00000u) == 0xac100000u ||  /* 172.16/12 */
	    (a & 0xffff0000u) == 0xc0a80000u ||  /* 192.168/16 */
	    (a >> 28) >= 0xe;                    /* multicast, reserved, broadcast */
}

bool
prov_notify_addr_internal(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		return v4_internal(ntohl(((const struct sockaddr_in *) (const void *) sa)->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr.s6_addr;
		static const uint8_t zero[16];
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) {
			return true; /* :: and ::1 */
		}
		if (memcmp(b, mapped, 12) == 0) {
			return v4_internal((uint32_t) b[12] << 24 | (uint32_t) b[13] << 16 |
			    (uint32_t) b[14] << 8 | b[15]);
		}
		return (b[0] & 0xfe) == 0xfc ||                 /* fc00::/7 */
		    (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  /* fe80::/10 */
		    b[0] == 0xff;                               /* multicast */
	}
	return true; /* anything else is not an internet address */
}

/* Splits url into scheme/host/port with libcurl's parser. */
static pw_status
notify_parse(const prov_notify_policy *pol, const char *url, char *host, size_t host_size,
    long *port, char *why, size_t why_size)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	char *h = NULL;
	char *p = NULL;
	char *user = NULL;
	pw_status st = PW_INVALID_ARGUMENT;

	if (u == NULL) {
		snprintf(why, why_size, "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		snprintf(why, why_size, "url does not parse");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user != NULL) {
		snprintf(why, why_size, "url must not carry credentials");
		goto out;
	}
	if (strcmp(scheme, "https") != 0 && !(pol->allow_http && strcmp(scheme, "http") == 0)) {
		snprintf(why, why_size, "url must be https://%s", pol->allow_http ? " or http://" :
		    " (http:// needs the server's --notify-allow-http)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK || p == NULL) {
		snprintf(why, why_size, "url has no port");
		goto out;
	}
	*port = strtol(p, NULL, 10);
	if (!pw_strlcpy(host, h, host_size)) {
		snprintf(why, why_size, "url host too long");
		goto out;
	}
	/* [::1] comes back with its brackets */
	if (host[0] == '[') {
		size_t n = strlen(host);
		memmove(host, host + 1, n - 1);
		host[n - 2] = '\0';
	}
	st = PW_OK;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(p);
	curl_free(user);
	curl_url_cleanup(u);
	return st;
}

/* Resolves host; the first address in ip (text), refusing internal ones
 * (any of the answers) unless allowed. */
static pw_status
notify_resolve(const prov_notify_policy *pol, const char *host, char *ip, size_t ip_size,
    bool *v6, char *why, size_t why_size)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(why, why_size, "host %.100s does not resolve (%s)", host, gai_strerror(rc));
		return PW_UNAVAILABLE;
	}
	for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
		if (!pol->allow_private && prov_notify_addr_internal(a->ai_addr)) {
			snprintf(why, why_size, "host %.100s resolves to an internal address (loopback, "
			    "link-local or private): refused without the server's --notify-allow-private",
			    host);
			freeaddrinfo(res);
			return PW_INVALID_ARGUMENT;
		}
	}
	*v6 = res->ai_family == AF_INET6;
	if (res->ai_family == AF_INET) {
		(void) inet_ntop(AF_INET, &((struct sockaddr_in *) (void *) res->ai_addr)->sin_addr, ip,
		    (socklen_t) ip_size);
	} else {
		(void) inet_ntop(AF_INET6, &((struct sockaddr_in6 *) (void *) res->ai_addr)->sin6_addr,
		    ip, (socklen_t) ip_size);
	}
	freeaddrinfo(res);
	return PW_OK;
}

pw_status
prov_notify_check_url(const prov_notify_policy *pol, const char *url, char *why,
    size_t why_size)
{
	char host[256];
	char ip[INET6_ADDRSTRLEN];
	long port = 0;
	bool v6 = false;
	pw_status st;

	if (prov_curl_ready() != PW_OK) {
		return pw_why(why, why_size, PW_UNAVAILABLE, "libcurl did not initialise");
	}
	st = notify_parse(pol, url, host, sizeof(host), &port, why, why_size);
	if (st == PW_OK) {
		st = notify_resolve(pol, host, ip, sizeof(ip), &v6, why, why_size);
		/* a host that does not resolve now may later: only the policy refuses */
		st = st == PW_UNAVAILABLE ? PW_OK : st;
	}
	return st;
}

bool
prov_notify_sign(const char *secret, const char *msg_id, int64_t timestamp_s, const char *body,
    size_t body_len, char *out, size_t out_size)
{
	uint8_t key[64];
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	size_t key_len = 0;
	char ts[24];
	crypto_auth_hmacsha256_state h;

	/* the prefix compared in constant time: it is part of the secret's text */
	if (strlen(secret) <= 6 || sodium_memcmp(secret, "whsec_", 6) != 0 ||
	    sodium_base642bin(key, sizeof(key), secret + 6, strlen(secret + 6), NULL, &key_len, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0 || key_len == 0 ||
	    out_size < 3 + sodium_base64_ENCODED_LEN(sizeof(mac), sodium_base64_VARIANT_ORIGINAL)) {
		sodium_memzero(key, sizeof(key));
		return false;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long) timestamp_s);
	crypto_auth_hmacsha256_init(&h, key, key_len);
	crypto_auth_hmacsha256_update(&h, (const uint8_t *) msg_id, strlen(msg_id));
	crypto_auth_hmacsha256_update(&h, (const uint8_t *) ".", 1);
	crypto_auth_hmacsha256_update(&h, (const uint8_t *) ts, strlen(ts));
	crypto_auth_hmacsha256_update(&h, (const uint8_t *) ".", 1);
	crypto_auth_hmacsha256_update(&h, (const uint8_t *) body, body_len);
	crypto_auth_hmacsha256_final(&h, mac);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(&h, sizeof(h));
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, out_size - 3, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
	return true;
}

typedef struct notify_sink {
	size_t n;
} notify_sink;

/* The answer's body is not kept; read at most PW_NOTIFY_RESPONSE_BYTES_MAX. */
static size_t
notify_write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	notify_sink *s = arg;
	size_t n = size * nmemb;

	(void) ptr;
	if (s->n + n > PW_NOTIFY_RESPONSE_BYTES_MAX) {
		return 0; /* stop reading: the status is known */
	}
	s->n += n;
	return n;
}

pw_status
prov_notify_post(const prov_notify_policy *pol, const prov_notify_req *req,
    prov_notify_resp *resp)
{
	char host[256];
	char ip[INET6_ADDRSTRLEN];
	char pin[256 + INET6_ADDRSTRLEN + 32];
	char hdr[4][PW_NOTIFY_SIG_HEADER_BYTES];
	struct curl_slist *hl = NULL;
	struct curl_slist *rl = NULL;
	notify_sink sink = { 0 };
	long port = 0;
	bool v6 = false;
	CURL *e;
	CURLcode rc;
	pw_status st;

	memset(resp, 0, sizeof(*resp));
	if (prov_curl_ready() != PW_OK) {
		snprintf(resp->error, sizeof(resp->error), "libcurl did not initialise");
		return PW_UNAVAILABLE;
	}
	st = notify_parse(pol, req->url, host, sizeof(host), &port, resp->error, sizeof(resp->error));
	if (st != PW_OK) {
		return st;
	}
	st = notify_resolve(pol, host, ip, sizeof(ip), &v6, resp->error, sizeof(resp->error));
	if (st == PW_UNAVAILABLE) {
		return PW_OK; /* no answer: retried */
	}
	if (st != PW_OK) {
		return st;
	}
	snprintf(pin, sizeof(pin), v6 ? "%s:%ld:[%s]" : "%s:%ld:%s", host, port, ip);
	e = curl_easy_init();
	if (e == NULL) {
		snprintf(resp->error, sizeof(resp->error), "out of memory");
		return PW_OK;
	}
	snprintf(hdr[0], sizeof(hdr[0]), "webhook-id: %s", req->msg_id);
	snprintf(hdr[1], sizeof(hdr[1]), "webhook-timestamp: %lld", (long long) req->timestamp_s);
	snprintf(hdr[2], sizeof(hdr[2]), "webhook-signature: %s", req->signature);
	snprintf(hdr[3], sizeof(hdr[3]), "Content-Type: application/json");
	for (size_t i = 0; i < 4; i++) {
		struct curl_slist *n = curl_slist_append(hl, hdr[i]);
		if (n == NULL) {
			goto oom;
		}
		hl = n;
	}
	{
		struct curl_slist *n = curl_slist_append(hl, "Expect:");
		if (n == NULL) {
			goto oom;
		}
		hl = n;
	}
	rl = curl_slist_append(NULL, pin);
	if (rl == NULL) {
		goto oom;
	}
	(void) curl_easy_setopt(e, CURLOPT_URL, req->url);
	(void) curl_easy_setopt(e, CURLOPT_RESOLVE, rl); /* connect where we checked */
	(void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, pol->allow_http ? "http,https" : "https");
	(void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	(void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (pol->ca_file != NULL) {
		(void) curl_easy_setopt(e, CURLOPT_CAINFO, pol->ca_file);
	}
	(void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) req->connect_ms);
	(void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) req->total_ms);
	(void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L); /* a pinned address per attempt */
	(void) curl_easy_setopt(e, CURLOPT_USERAGENT, "paywire-webhooks/" PW_VERSION_STRING);
	(void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, notify_write_cb);
	(void) curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink);
	(void) curl_easy_setopt(e, CURLOPT_POST, 1L);
	(void) curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
	(void) curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
	(void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(e);
	(void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && resp->status > 0)) {
		resp->status = 0;
		snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	curl_slist_free_all(rl);
	return PW_OK;
oom:
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	snprintf(resp->error, sizeof(resp->error), "out of memory");
	return PW_OK;
}
