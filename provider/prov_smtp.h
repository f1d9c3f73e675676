/* prov_smtp.h - one plain-text mail to a configured SMTP relay, through
 * libcurl (issue 11: the email channel of notifications).
 *
 * The sender builds the whole RFC 5322 message itself (Date, Message-ID,
 * From, To, Subject -- RFC 2047 encoded when not ASCII --, MIME-Version,
 * Content-Type text/plain; charset=utf-8, Content-Transfer-Encoding
 * quoted-printable) and hands it to libcurl, which speaks SMTP to the relay
 * (EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA) and dot-stuffs the data
 * (a line starting with '.' is sent with a second one: RFC 5321 4.5.2).
 *
 * Header injection is impossible: an address, the subject and the
 * message id are checked before anything is built, CR and LF are refused in
 * each, and addresses must be in this strict subset of RFC 5321/5322
 * (prov_smtp_addr_ok):
 *   local@domain, at most PW_NOTIFY_ADDR_BYTES_MAX bytes in all;
 *   local: 1..64 bytes, dot-separated non-empty atoms of
 *          A-Z a-z 0-9 ! # $ % & ' * + / = ? ^ _ ` { | } ~ -
 *          (no quoted strings, no comments, no leading/trailing/double dot);
 *   domain: two or more dot-separated labels of A-Z a-z 0-9 and '-', each
 *          1..63 bytes, not starting or ending with '-' (no address
 *          literals, no internationalised names: punycode them).
 *
 * TLS: smtps:// (implicit TLS) or smtp:// with STARTTLS required; the
 * relay's certificate and name are always verified (ca_file adds a CA).
 * Plain smtp:// without TLS only with allow_plain AND a loopback host
 * (127.0.0.1, [::1], localhost): the tests' sink, or a local MTA.
 *
 * Blocks for up to cfg->timeout_ms. Thread-safe: each call uses its own
 * libcurl handle. Never called by the writer or in an nng callback. The
 * password never reaches err or a log line.
 */
#ifndef PW_PROV_SMTP_H
#define PW_PROV_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pw_common.h"

typedef struct prov_smtp_cfg {
	const char *url;        /* smtp://host:port (STARTTLS required unless allow_plain) or smtps://host:port */
	const char *user;       /* NULL: no AUTH */
	const char *password;   /* never logged, never in errors */
	const char *from;       /* envelope + From: address */
	const char *ca_file;    /* extra CA bundle, NULL: system */
	bool allow_plain;       /* plain smtp:// without TLS to a loopback host: stand-ins in tests */
	long timeout_ms;        /* the whole send; 0: PW_NOTIFY_TIMEOUT_MS_DEFAULT */
	long connect_timeout_ms; /* TCP + TLS connect; 0: PW_NOTIFY_CHAN_CONNECT_MS (capped by timeout_ms) */
	const char *auth_mech;  /* NULL: the best the relay offers (libcurl's choice);
	                           "PLAIN" or "LOGIN": only that one */
} prov_smtp_cfg;

/* Sends one plain-text mail. PW_OK: the relay accepted it (250 after DATA).
 * PW_UNAVAILABLE: worth retrying (connect/timeout/4xx reply). PW_FAILED_PRECONDITION:
 * permanent (5xx: bad recipient, refused; credentials refused; TLS refused).
 * PW_INVALID_ARGUMENT: the cfg or the arguments (an address outside the
 * subset, CR/LF, invalid UTF-8, a size over its limit): nothing was sent.
 * subject and text are UTF-8; text's lines end in "\n" (sent as CRLF).
 * message_id: the id part of Message-ID (1..PW_NOTIFY_MESSAGE_ID_BYTES_MAX of
 * A-Z a-z 0-9 . _ -), written <message_id@from's domain>; NULL: a random one.
 * err (errlen > 0): a clear reason, no secret. */
pw_status prov_smtp_send(const prov_smtp_cfg *cfg, const char *to, const char *subject,
    const char *text, const char *message_id, char *err, size_t errlen) PW_WUR;

/* Builds the message prov_smtp_send would send at unix time date_unix_s
 * (malloc'd in *out, *out_len bytes, NUL-terminated; free with pw_free):
 * PW_OK or PW_INVALID_ARGUMENT with err. Exposed for the tests. */
pw_status prov_smtp_message(const char *from, const char *to, const char *subject,
    const char *text, const char *message_id, int64_t date_unix_s, char **out,
    size_t *out_len, char *err, size_t errlen) PW_WUR;

/* Whether addr is in the subset above. */
bool prov_smtp_addr_ok(const char *addr);

#endif
