/* prov_notify.h - one delivery of a merchant notification (issue 11,
 * docs/NOTIFY.md): a Standard Webhooks POST through libcurl, one attempt (the
 * outbox retries), explicit connect and total timeouts, the answer's body
 * read to PW_NOTIFY_RESPONSE_BYTES_MAX at most, no redirects, and the
 * address policy: https only unless allow_http; a host that resolves to a
 * loopback, link-local, private, CGNAT, unspecified or ULA address refused
 * unless allow_private. The address checked is the one connected to
 * (CURLOPT_RESOLVE pins it), so a DNS answer that changes between the check
 * and the connect (rebinding) cannot reach an internal address.
 *
 * Any thread; never inside a store transaction, the writer or an nng
 * callback (a delivery can take seconds). */
#ifndef PW_PROV_NOTIFY_H
#define PW_PROV_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "pw_common.h"

typedef struct prov_notify_policy {
	bool allow_http;      /* http:// too (--notify-allow-http) */
	bool allow_private;   /* internal addresses too (--notify-allow-private) */
	const char *ca_file;  /* extra CA bundle, or NULL */
} prov_notify_policy;

/* The header lines of a delivery (without CRLF). */
typedef struct prov_notify_req {
	const char *url;
	const char *body;
	size_t body_len;
	const char *msg_id;      /* webhook-id */
	int64_t timestamp_s;     /* webhook-timestamp */
	const char *signature;   /* webhook-signature: "v1,… [v1,…]" */
	uint32_t connect_ms;
	uint32_t total_ms;
} prov_notify_req;

typedef struct prov_notify_resp {
	long status;             /* HTTP status; 0: no answer */
	char error[200];         /* why there was no answer, or "" */
} prov_notify_resp;

/* One POST. PW_OK: an answer (resp->status) or a transport failure
 * (status 0, resp->error); PW_INVALID_ARGUMENT: the policy refuses the URL or
 * the address its host resolves to (resp->error says why). */
pw_status prov_notify_post(const prov_notify_policy *pol, const prov_notify_req *req,
    prov_notify_resp *resp) PW_WUR;

/* The policy on url alone, resolving its host now (endpoint creation).
 * PW_INVALID_ARGUMENT with why. */
pw_status prov_notify_check_url(const prov_notify_policy *pol, const char *url, char *why,
    size_t why_size) PW_WUR;

/* True for the addresses refused without allow_private: 0/8, 10/8, 100.64/10,
 * 127/8, 169.254/16, 172.16/12, 192.168/16, ::, ::1, fc00::/7, fe80::/10,
 * and IPv4-mapped forms of those. */
bool prov_notify_addr_internal(const struct sockaddr *sa);

/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" with key the base64
 * decoding of secret after "whsec_", into out. false: a malformed secret. */
bool prov_notify_sign(const char *secret, const char *msg_id, int64_t timestamp_s,
    const char *body, size_t body_len, char *out, size_t out_size);

#endif
