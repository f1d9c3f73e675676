/*
 * provider_notify_test.c - the notification channels (issue 11): the SMTP
 * sender (provider/prov_smtp.c) against the tests' SMTP sink and the
 * Telegram sender (provider/prov_telegram.c) against the tests' Bot API
 * stand-in, both real servers on loopback written in node
 * (tests/notify/smtp-sink.js, tests/notify/telegram-standin.js), started by
 * this test; and the notification text (provider/prov_notify_text.c).
 *
 * SMTP: a mail arrives with exactly the headers and quoted-printable body
 * expected, AUTH checked by the sink, dot-stuffing done by libcurl (the
 * sink undid it on two lines); a wrong password is a clear permanent error
 * without the password; 451 is UNAVAILABLE, 550 and a 554 after DATA are
 * FAILED_PRECONDITION; a closed port and a silent relay are UNAVAILABLE;
 * smtp:// without STARTTLS is refused unless allowed towards loopback; CR/LF
 * anywhere a header is built and every size over its limit are refused
 * before a byte is sent (the sink received nothing).
 * Telegram: ok; 403 and 400 permanent; 429 with retry_after; 500 and a
 * closed port transient; another token 401 permanent; bad arguments refused;
 * the token is in no error string.
 * Nothing here asserts a duration: waits are bounded by TW_HANG_MS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "prov_notify_text.h"
#include "prov_smtp.h"
#include "prov_telegram.h"
#include "pw_common.h"
#include "pw_limits.h"
#include "test_wait.h"

#define SMTP_USER "notify-user"
#define SMTP_PASS "s3cr3t-Pa55word!"
#define FROM "paywire@shop.example.com"
#define TG_TOKEN "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ab"
#define TG_SECRET "AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ab"
#define TG_OTHER "123456789:ZZZhBOweik6ad9r_QXMENQjcrGbqCr4K-zz"

static char dir[64];
static pid_t pids[6];
static int starttls_port; /* the sink offering STARTTLS (AUTH too) */
static int smtps_port;    /* the sink speaking TLS from the start */
static int tgs_port;      /* the Bot API over https */
static char cert[128];    /* their self-signed certificate for 127.0.0.1 */
static int smtp_port;     /* the sink with AUTH */
static int smtp2_port;    /* the sink without AUTH */
static int tg_port;
static int closed_port;   /* nothing listens there */
static int silent_fd = -1;  /* listens, never answers */
static int silent_port;
static char smtp_out[128];
static char smtp2_out[128];
static char tg_log[128];

/* ---- the stand-ins ---- */

static int
read_port(const char *file)
{
	FILE *f;
	int port = 0;

	TW_WAIT_UNTIL(access(file, R_OK) == 0);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(1, fscanf(f, "%d", &port));
	fclose(f);
	return port;
}

static pid_t
start(const char *const argv[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execv(argv[0], (char *const *) argv);
		_exit(127);
	}
	return pid;
}

/* A loopback socket bound to a free port (listening when backlog > 0). */
static int
listen_any(int backlog, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(0, bind(fd, (struct sockaddr *) &a, sizeof(a)));
	if (backlog > 0) {
		assert_int_equal(0, listen(fd, backlog));
	}
	assert_int_equal(0, getsockname(fd, (struct sockaddr *) &a, &alen));
	*port = (int) ntohs(a.sin_port);
	return fd;
}

static int
group_setup(void **state)
{
	char sink_js[512];
	char tg_js[512];
	char pf[6][128];
	char key[128];
	char cmd[512];

	(void) state;
	assert_int_equal(0, pw_common_init());
	if (access(PW_NODE, X_OK) != 0) {
		fail_msg("node is needed for the stand-ins (PW_NODE \"%s\")", PW_NODE);
	}
	(void) snprintf(dir, sizeof(dir), "/tmp/pw-notify-XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void) snprintf(sink_js, sizeof(sink_js), "%s/tests/notify/smtp-sink.js", PW_SOURCE_DIR);
	(void) snprintf(tg_js, sizeof(tg_js), "%s/tests/notify/telegram-standin.js", PW_SOURCE_DIR);
	(void) snprintf(smtp_out, sizeof(smtp_out), "%s/smtp.jsonl", dir);
	(void) snprintf(smtp2_out, sizeof(smtp2_out), "%s/smtp2.jsonl", dir);
	(void) snprintf(tg_log, sizeof(tg_log), "%s/telegram.jsonl", dir);
	for (int i = 0; i < 6; i++) {
		(void) snprintf(pf[i], sizeof(pf[i]), "%s/port%d", dir, i);
	}
	(void) snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	(void) snprintf(key, sizeof(key), "%s/key.pem", dir);
	(void) snprintf(cmd, sizeof(cmd),
	    "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
	    key, cert);
	assert_int_equal(0, system(cmd));
	{
		const char *a0[] = { PW_NODE, sink_js, "--out", smtp_out, "--port-file", pf[0], "--user",
			SMTP_USER, "--password", SMTP_PASS, "--reply", "defer@example.com=451", "--reply",
			"nobody@example.com=550", "--data-reply", "spam@example.com=554", NULL };
		const char *a1[] = { PW_NODE, sink_js, "--out", smtp2_out, "--port-file", pf[1], NULL };
		const char *a2[] = { PW_NODE, tg_js, "--token", TG_TOKEN, "--log", tg_log,
			"--port-file", pf[2], "--blocked", "403001", "--not-found", "-1004040",
			"--flood", "777=17", "--error500", "500500", NULL };

		const char *a3[] = { PW_NODE, sink_js, "--out", smtp_out, "--port-file", pf[3], "--user",
			SMTP_USER, "--password", SMTP_PASS, "--tls-cert", cert, "--tls-key", key, NULL };
		const char *a4[] = { PW_NODE, sink_js, "--out", smtp_out, "--port-file", pf[4],
			"--tls-cert", cert, "--tls-key", key, "--implicit-tls", NULL };
		const char *a5[] = { PW_NODE, tg_js, "--token", TG_TOKEN, "--log", tg_log,
			"--port-file", pf[5], "--tls-cert", cert, "--tls-key", key, NULL };

		pids[0] = start(a0);
		pids[1] = start(a1);
		pids[2] = start(a2);
		pids[3] = start(a3);
		pids[4] = start(a4);
		pids[5] = start(a5);
	}
	smtp_port = read_port(pf[0]);
	smtp2_port = read_port(pf[1]);
	tg_port = read_port(pf[2]);
	starttls_port = read_port(pf[3]);
	smtps_port = read_port(pf[4]);
	tgs_port = read_port(pf[5]);
	close(listen_any(0, &closed_port)); /* bound then closed: nothing listens */
	silent_fd = listen_any(8, &silent_port);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void) state;
	for (int i = 0; i < 6; i++) {
		if (pids[i] > 0) {
			(void) kill(pids[i], SIGTERM);
			(void) waitpid(pids[i], NULL, 0);
		}
	}
	if (silent_fd >= 0) {
		close(silent_fd);
	}
	(void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- reading what the stand-ins wrote ---- */

static int
count_lines(const char *file)
{
	FILE *f = fopen(file, "r");
	int n = 0;
	int c;

	if (f == NULL) {
		return 0;
	}
	while ((c = fgetc(f)) != EOF) {
		n += c == '\n';
	}
	fclose(f);
	return n;
}

/* The JSON of line `index` (0-based; -1: the last). */
static json_t *
line_json(const char *file, int index)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = count_lines(file);
	json_t *j = NULL;

	assert_non_null(f);
	if (index < 0) {
		index = n + index;
	}
	for (int i = 0; getline(&line, &cap, f) > 0; i++) {
		if (i == index) {
			j = json_loads(line, 0, NULL);
			break;
		}
	}
	free(line);
	fclose(f);
	assert_non_null(j);
	return j;
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- SMTP ---- */

static prov_smtp_cfg
smtp_cfg(int port, char *url, size_t size)
{
	(void) snprintf(url, size, "smtp://127.0.0.1:%d", port);
	return (prov_smtp_cfg) { .url = url, .user = SMTP_USER, .password = SMTP_PASS,
		.from = FROM, .allow_plain = true, .timeout_ms = TW_HANG_MS };
}

static const char delivered_rest[] =
    "From: paywire@shop.example.com\r\n"
    "To: merchant@example.com\r\n"
    "Subject: Payment succeeded: 12.50 EUR\r\n"
    "Message-ID: <msg_0001@shop.example.com>\r\n"
    "Auto-Submitted: auto-generated\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Payment succeeded.\r\n"
    ".hidden line\r\n"
    ".\r\n"
    "a=3Db and trailing space=20\r\n"
    "Zahlung f=C3=BCr Bestellung: 12,50 =E2=82=AC\r\n"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\r\n"
    "xxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
    "end\r\n";

static void
test_smtp_a_mail_arrives_with_exact_headers_and_body(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp_port, url, sizeof(url));
	char err[256];
	char text[512];
	char xs[101];
	int before = count_lines(smtp_out);
	int64_t t0 = pw_now_unix_ms() / 1000;
	int64_t t1;
	json_t *m;
	json_t *a;
	const char *data;
	struct tm tm = { 0 };
	const char *end;

	(void) state;
	memset(xs, 'x', 100);
	xs[100] = '\0';
	(void) snprintf(text, sizeof(text),
	    "Payment succeeded.\n.hidden line\n.\na=b and trailing space \n"
	    "Zahlung f\xc3\xbcr Bestellung: 12,50 \xe2\x82\xac\n%s\nend",
	    xs);
	assert_int_equal(PW_OK, prov_smtp_send(&cfg, "merchant@example.com",
	                            "Payment succeeded: 12.50 EUR", text, "msg_0001", err, sizeof(err)));
	t1 = pw_now_unix_ms() / 1000;
	/* the sink wrote the AUTH and then the message */
	assert_int_equal(before + 2, count_lines(smtp_out));
	a = line_json(smtp_out, -2);
	assert_string_equal(SMTP_USER, jstr(a, "user"));
	assert_true(json_is_true(json_object_get(a, "ok")));
	json_decref(a);
	m = line_json(smtp_out, -1);
	assert_string_equal(FROM, jstr(m, "from"));
	assert_int_equal(1, json_array_size(json_object_get(m, "to")));
	assert_string_equal("merchant@example.com",
	    json_string_value(json_array_get(json_object_get(m, "to"), 0)));
	assert_string_equal(SMTP_USER, jstr(m, "auth_user"));
	/* libcurl dot-stuffed ".hidden line" and "." and the sink undid it */
	assert_int_equal(2, json_integer_value(json_object_get(m, "unstuffed")));
	data = jstr(m, "data");
	assert_non_null(data);
	/* Date: first, RFC 5322, UTC, within the send */
	assert_memory_equal("Date: ", data, 6);
	end = strptime(data + 6, "%a, %d %b %Y %H:%M:%S +0000\r\n", &tm);
	assert_non_null(end);
	assert_in_range((uint64_t) timegm(&tm), (uint64_t) t0, (uint64_t) t1);
	assert_string_equal(delivered_rest, end);
	json_decref(m);
}

static void
test_smtp_message_date_and_no_message_id(void **state)
{
	char *msg = NULL;
	size_t len = 0;
	char err[256];

	(void) state;
	/* 2026-12-06 23:15:00 UTC is a Sunday */
	assert_int_equal(PW_OK, prov_smtp_message(FROM, "a@example.com", "Hi", "x\n", NULL,
	                            INT64_C(1796598900), &msg, &len, err, sizeof(err)));
	assert_int_equal(len, strlen(msg));
	assert_memory_equal("Date: Sun, 06 Dec 2026 23:15:00 +0000\r\n", msg, 39);
	/* a random id: 32 hex digits at the sender's domain */
	{
		const char *p = strstr(msg, "\r\nMessage-ID: <");

		assert_non_null(p);
		p += 15;
		assert_int_equal(32, strspn(p, "0123456789abcdef"));
		assert_memory_equal("@shop.example.com>\r\n", p + 32, 20);
	}
	assert_non_null(strstr(msg, "\r\n\r\nx\r\n"));
	pw_free(msg);
}

/* Each encoded word of a Subject: at most 75 characters, its bytes valid
 * UTF-8 on their own (no character split), all of them together the
 * subject. */
static void
check_encoded_subject(const char *subject)
{
	char *msg = NULL;
	size_t len = 0;
	char err[256];
	char got[PW_NOTIFY_SUBJECT_BYTES_MAX + 1] = "";
	const char *p;
	const char *hend;

	assert_int_equal(PW_OK, prov_smtp_message(FROM, "a@example.com", subject, "x", "id1", 0,
	                            &msg, &len, err, sizeof(err)));
	p = strstr(msg, "\r\nSubject: ");
	assert_non_null(p);
	p += 11;
	hend = strstr(p, "\r\nMessage-ID:");
	assert_non_null(hend);
	while (p < hend) {
		const char *q = strstr(p, "?=");
		unsigned char bin[64];
		size_t bl = 0;

		assert_memory_equal("=?UTF-8?B?", p, 10);
		assert_true(q != NULL && q < hend);
		assert_true(q + 2 - p <= 75);
		assert_int_equal(0, sodium_base642bin(bin, sizeof(bin), p + 10, (size_t) (q - p - 10),
		                        NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL));
		assert_true(pw_utf8_valid((const char *) bin, bl));
		strncat(got, (const char *) bin, bl);
		p = q + 2;
		if (p < hend) {
			assert_memory_equal("\r\n ", p, 3); /* folded */
			p += 3;
		}
	}
	assert_string_equal(subject, got);
	pw_free(msg);
}

static void
test_smtp_a_non_ascii_subject_is_rfc2047_encoded(void **state)
{
	char *msg = NULL;
	size_t len = 0;
	char err[256];
	char euros[PW_NOTIFY_SUBJECT_BYTES_MAX + 1] = "";

	(void) state;
	assert_int_equal(PW_OK, prov_smtp_message(FROM, "a@example.com",
	                            "Zahlung f\xc3\xbcr Bestellung", "x", "id1", 0, &msg, &len, err,
	                            sizeof(err)));
	assert_non_null(strstr(msg, "\r\nSubject: =?UTF-8?B?WmFobHVuZyBmw7xyIEJlc3RlbGx1bmc=?=\r\n"));
	pw_free(msg);
	check_encoded_subject("Zahlung f\xc3\xbcr Bestellung");
	/* 66 three-byte characters: 198 bytes, several words, none split */
	for (int i = 0; i < 66; i++) {
		strcat(euros, "\xe2\x82\xac");
	}
	check_encoded_subject(euros);
	/* "=?" in an ASCII subject would read as an encoded word: encoded too */
	check_encoded_subject("a =?x?= trick");
	/* mixed, with a 4-byte character near a cut */
	check_encoded_subject("Paid \xf0\x9f\x8e\x89 order 1234567890123456789012345678 \xc3\xa9t\xc3\xa9");
}

static void
test_smtp_wrong_password_is_permanent_and_never_shows_it(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp_port, url, sizeof(url));
	char err[512];
	int before = count_lines(smtp_out);
	json_t *a;

	(void) state;
	cfg.password = "wrong-" SMTP_PASS;
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "refused the credentials of user '" SMTP_USER "'"));
	assert_non_null(strstr(err, "535"));
	assert_null(strstr(err, SMTP_PASS));
	assert_null(strstr(err, "wrong-"));
	/* the sink saw one failed AUTH and no message */
	assert_int_equal(before + 1, count_lines(smtp_out));
	a = line_json(smtp_out, -1);
	assert_true(json_is_false(json_object_get(a, "ok")));
	assert_null(jstr(a, "data"));
	json_decref(a);
}

/* AUTH LOGIN when asked for: the sink checks it the same way. */
static void
test_smtp_auth_login(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp_port, url, sizeof(url));
	char err[512];
	int before = count_lines(smtp_out);
	json_t *m;

	(void) state;
	cfg.auth_mech = "LOGIN";
	assert_int_equal(PW_OK,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_int_equal(before + 2, count_lines(smtp_out));
	m = line_json(smtp_out, -1);
	assert_string_equal("LOGIN", jstr(m, "auth_mech"));
	assert_string_equal(SMTP_USER, jstr(m, "auth_user"));
	json_decref(m);
	cfg.password = "not-it";
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_null(strstr(err, "not-it"));
	assert_non_null(strstr(err, "535"));
	m = line_json(smtp_out, -1);
	assert_string_equal("LOGIN", jstr(m, "auth"));
	assert_true(json_is_false(json_object_get(m, "ok")));
	json_decref(m);
	cfg.auth_mech = "CRAM-MD5";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_int_equal(before + 3, count_lines(smtp_out));
}

static void
test_smtp_451_is_unavailable_550_and_554_permanent(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp_port, url, sizeof(url));
	char err[512];
	int before;

	(void) state;
	assert_int_equal(PW_UNAVAILABLE,
	    prov_smtp_send(&cfg, "defer@example.com", "s", "t", NULL, err, sizeof(err)));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "deferred"));
	assert_non_null(strstr(err, "451"));
	assert_null(strstr(err, SMTP_PASS));
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "nobody@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "refused"));
	assert_non_null(strstr(err, "550"));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "No such user"));
	/* refused after the data: 554, nothing kept by the sink */
	before = count_lines(smtp_out);
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "spam@example.com", "s", "t", NULL, err, sizeof(err)));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "554"));
	assert_int_equal(before + 1, count_lines(smtp_out)); /* its AUTH only */
}

static void
test_smtp_unreachable_and_silent_relays_are_unavailable(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(closed_port, url, sizeof(url));
	char err[512];

	(void) state;
	assert_int_equal(PW_UNAVAILABLE,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "could not be reached"));
	assert_null(strstr(err, SMTP_PASS));
	/* accepted by the kernel, never greeted: the whole-send timeout ends it */
	cfg = smtp_cfg(silent_port, url, sizeof(url));
	cfg.timeout_ms = 300;
	assert_int_equal(PW_UNAVAILABLE,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "could not be reached"));
}

static void
test_smtp_starttls_is_required_and_plain_only_to_loopback(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp2_port, url, sizeof(url));
	char err[512];
	int before = count_lines(smtp2_out);

	(void) state;
	/* the sink offers no STARTTLS: nothing is sent in the clear */
	cfg.user = NULL;
	cfg.password = NULL;
	cfg.allow_plain = false;
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "STARTTLS"));
	assert_int_equal(before, count_lines(smtp2_out));
	/* allowed: delivered without AUTH */
	cfg.allow_plain = true;
	assert_int_equal(PW_OK,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_int_equal(before + 1, count_lines(smtp2_out));
	{
		json_t *m = line_json(smtp2_out, -1);

		assert_true(json_is_null(json_object_get(m, "auth_user")));
		json_decref(m);
	}
	/* the URL policy */
	cfg.url = "smtp://mail.example.com:25";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "loopback"));
	cfg.allow_plain = false;
	cfg.url = "http://127.0.0.1:25";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	cfg.url = "smtps://user:pw@mail.example.com";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_null(strstr(err, "pw@"));
	cfg.url = "smtps://";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	cfg.url = NULL;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
}

static void
test_smtp_header_injection_is_refused_before_sending(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp_port, url, sizeof(url));
	char err[512];
	int before = count_lines(smtp_out);

	(void) state;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com\r\nBcc: victim@example.org", "s", "t", NULL,
	        err, sizeof(err)));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "recipient"));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com\nBcc: victim@example.org", "s", "t", NULL,
	        err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "Paid\r\nBcc: victim@example.org", "t",
	        NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "control character"));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "Paid\nX: y", "t", NULL, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "Paid\rX: y", "t", NULL, err, sizeof(err)));
	/* a CR in the text could end a line early: refused */
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "a\r\n.\r\nMAIL FROM:<x@y.z>", NULL,
	        err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "bad \xff utf-8", NULL, err,
	        sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "bad \xc3", "t", NULL, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", "id>\r\nX: y", err,
	        sizeof(err)));
	assert_non_null(strstr(err, "message id"));
	cfg.from = "paywire@shop.example.com\r\nBcc: victim@example.org";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "sender"));
	cfg.from = FROM;
	cfg.user = SMTP_USER "\r\nRSET";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_int_equal(before, count_lines(smtp_out));
}

static void
test_smtp_the_address_subset(void **state)
{
	static const char *const good[] = { "a@example.com", "first.last@example.co.uk",
		"x+tag@sub-domain.example.org", "o'neil@example.com", "a!#$%&'*+/=?^_`{|}~-z@ex.io",
		"123@456.78" };
	static const char *const bad[] = { "", "a", "@example.com", "a@", "a@example",
		"a@@example.com", "a@b@example.com", ".a@example.com", "a.@example.com",
		"a..b@example.com", "\"quoted\"@example.com", "a b@example.com", "a@exa mple.com",
		"a@-example.com", "a@example-.com", "a@example..com", "a@.example.com",
		"a@example.com.", "a@[127.0.0.1]", "Name <a@example.com>", "a@ex_ample.com",
		"a(comment)@example.com", "j\xc3\xb6rg@example.com", "a@b\xc3\xa9.com",
		"a@example.com\r\n", "a@example.com,b@example.com", "a@example.com>" };
	char local65[80];
	char label64[80];
	char long_addr[300];

	(void) state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!prov_smtp_addr_ok(good[i])) {
			fail_msg("refused %s", good[i]);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (prov_smtp_addr_ok(bad[i])) {
			fail_msg("accepted %s", bad[i]);
		}
	}
	assert_false(prov_smtp_addr_ok(NULL));
	memset(local65, 'l', 65);
	strcpy(local65 + 65, "@example.com");
	assert_false(prov_smtp_addr_ok(local65));
	strcpy(local65 + 64, "@example.com");
	assert_true(prov_smtp_addr_ok(local65));
	memset(label64, 'd', 64);
	strcpy(label64, "a@");
	memset(label64 + 2, 'd', 64);
	strcpy(label64 + 66, ".com");
	assert_false(prov_smtp_addr_ok(label64));
	strcpy(label64 + 65, ".com");
	assert_true(prov_smtp_addr_ok(label64));
	/* 254 bytes in all at most */
	strcpy(long_addr, "a@");
	while (strlen(long_addr) + 10 <= PW_NOTIFY_ADDR_BYTES_MAX - 4) {
		strcat(long_addr, "abcdefghi.");
	}
	while (strlen(long_addr) < PW_NOTIFY_ADDR_BYTES_MAX - 3) {
		strcat(long_addr, "x");
	}
	strcat(long_addr, ".io");
	assert_int_equal(PW_NOTIFY_ADDR_BYTES_MAX, strlen(long_addr));
	assert_true(prov_smtp_addr_ok(long_addr));
	memmove(long_addr + 1, long_addr, strlen(long_addr) + 1); /* "aa@..." */
	assert_false(prov_smtp_addr_ok(long_addr));
}

static void
test_smtp_sizes_at_and_over_their_limits(void **state)
{
	char url[64];
	prov_smtp_cfg cfg = smtp_cfg(smtp_port, url, sizeof(url));
	char err[512];
	char subject[PW_NOTIFY_SUBJECT_BYTES_MAX + 2];
	char *body = malloc(PW_NOTIFY_BODY_BYTES_MAX + 2);
	char msgid[PW_NOTIFY_MESSAGE_ID_BYTES_MAX + 2];
	int before = count_lines(smtp_out);
	json_t *m;

	(void) state;
	assert_non_null(body);
	memset(subject, 's', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	/* a body at its limit, of bytes that quoted-printable triples, lines of
	 * 64 (each = 63 bytes and a LF) */
	for (size_t i = 0; i < PW_NOTIFY_BODY_BYTES_MAX; i++) {
		body[i] = (i % 64) == 63 ? '\n' : '=';
	}
	body[PW_NOTIFY_BODY_BYTES_MAX] = '\0';
	memset(msgid, 'm', sizeof(msgid) - 1);
	msgid[sizeof(msgid) - 1] = '\0';

	/* over: one byte more each */
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", subject, "t", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "subject"));
	body[PW_NOTIFY_BODY_BYTES_MAX] = 'x';
	body[PW_NOTIFY_BODY_BYTES_MAX + 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", body, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "text"));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", msgid, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "", "t", NULL, err, sizeof(err)));
	cfg.timeout_ms = PW_NOTIFY_TIMEOUT_MS_MAX + 1;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	cfg.timeout_ms = TW_HANG_MS;
	assert_int_equal(before, count_lines(smtp_out));

	/* at the limits: delivered */
	subject[PW_NOTIFY_SUBJECT_BYTES_MAX] = '\0';
	body[PW_NOTIFY_BODY_BYTES_MAX] = '\0';
	msgid[PW_NOTIFY_MESSAGE_ID_BYTES_MAX] = '\0';
	assert_int_equal(PW_OK,
	    prov_smtp_send(&cfg, "merchant@example.com", subject, body, msgid, err, sizeof(err)));
	assert_int_equal(before + 2, count_lines(smtp_out));
	m = line_json(smtp_out, -1);
	/* 256 lines of 63 "=3D" = 189 characters: soft-broken into 25, 25, 13
	 * encoded bytes (75, 75, 39 characters) */
	assert_non_null(strstr(jstr(m, "data"), "\r\n\r\n=3D=3D"));
	{
		const char *d = strstr(jstr(m, "data"), "\r\n\r\n") + 4;
		size_t lines = 0;

		while (*d != '\0') {
			size_t n = strcspn(d, "\r");

			assert_true(n <= 76);
			assert_memory_equal("\r\n", d + n, 2);
			d += n + 2;
			lines++;
		}
		assert_int_equal(3 * (PW_NOTIFY_BODY_BYTES_MAX / 64), lines);
	}
	json_decref(m);
	free(body);
}

/* STARTTLS (smtp://) and implicit TLS (smtps://) against the sink's
 * self-signed certificate: refused without its CA (nothing delivered),
 * delivered over TLS with cfg.ca_file. */
static void
test_smtp_tls_is_verified_starttls_and_smtps(void **state)
{
	char url[64];
	prov_smtp_cfg cfg;
	char err[512];
	int before = count_lines(smtp_out);
	json_t *m;

	(void) state;
	cfg = smtp_cfg(starttls_port, url, sizeof(url));
	cfg.allow_plain = false;
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	print_message("  err: %s\n", err);
	assert_null(strstr(err, SMTP_PASS));
	assert_int_equal(before, count_lines(smtp_out)); /* not even the AUTH */
	cfg.ca_file = cert;
	assert_int_equal(PW_OK,
	    prov_smtp_send(&cfg, "merchant@example.com", "over STARTTLS", "t", NULL, err,
	        sizeof(err)));
	assert_int_equal(before + 2, count_lines(smtp_out));
	m = line_json(smtp_out, -1);
	assert_true(json_is_true(json_object_get(m, "tls")));
	assert_string_equal(SMTP_USER, jstr(m, "auth_user"));
	assert_non_null(strstr(jstr(m, "data"), "\r\nSubject: over STARTTLS\r\n"));
	json_decref(m);

	(void) snprintf(url, sizeof(url), "smtps://127.0.0.1:%d", smtps_port);
	cfg = (prov_smtp_cfg) { .url = url, .from = FROM, .timeout_ms = TW_HANG_MS };
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_smtp_send(&cfg, "merchant@example.com", "s", "t", NULL, err, sizeof(err)));
	assert_int_equal(before + 2, count_lines(smtp_out));
	cfg.ca_file = cert;
	assert_int_equal(PW_OK,
	    prov_smtp_send(&cfg, "merchant@example.com", "over smtps", "t", NULL, err, sizeof(err)));
	assert_int_equal(before + 3, count_lines(smtp_out));
	m = line_json(smtp_out, -1);
	assert_true(json_is_true(json_object_get(m, "tls")));
	assert_true(json_is_null(json_object_get(m, "auth_user")));
	json_decref(m);
}

/* ---- Telegram ---- */

static prov_telegram_cfg
tg_cfg(int port, char *base, size_t size)
{
	(void) snprintf(base, size, "http://127.0.0.1:%d", port);
	return (prov_telegram_cfg) { .api_base = base, .allow_http = true, .timeout_ms = TW_HANG_MS };
}

static void
no_token(const char *err)
{
	assert_null(strstr(err, TG_TOKEN));
	assert_null(strstr(err, TG_SECRET));
	assert_null(strstr(err, "ZZZhBOweik6ad9r"));
	assert_null(strstr(err, "AAEhBOweik6ad9r"));
}

static void
test_telegram_a_message_is_sent(void **state)
{
	char base[64];
	prov_telegram_cfg cfg = tg_cfg(tg_port, base, sizeof(base));
	char err[512] = "untouched";
	int64_t ra = -1;
	int before = count_lines(tg_log);
	const char *text = "Payment succeeded: 12.50 \xe2\x82\xac\n\"quoted\" <b>not markup</b>";
	json_t *r;
	json_t *body;

	(void) state;
	assert_int_equal(PW_OK, prov_telegram_send(&cfg, TG_TOKEN, "4242", text, &ra, err,
	                            sizeof(err)));
	assert_int_equal(0, ra);
	assert_string_equal("", err);
	assert_int_equal(before + 1, count_lines(tg_log));
	r = line_json(tg_log, -1);
	assert_true(json_is_true(json_object_get(r, "path_token_ok")));
	assert_string_equal("sendMessage", jstr(r, "method"));
	assert_string_equal("POST", jstr(r, "http_method"));
	assert_string_equal("application/json", jstr(r, "content_type"));
	assert_int_equal(200, json_integer_value(json_object_get(r, "status")));
	body = json_object_get(r, "body");
	assert_int_equal(2, json_object_size(body));
	assert_string_equal("4242", jstr(body, "chat_id"));
	assert_string_equal(text, jstr(body, "text"));
	json_decref(r);
	/* a channel by name, an api_base with a trailing slash */
	(void) snprintf(base, sizeof(base), "http://127.0.0.1:%d/", tg_port);
	assert_int_equal(PW_OK, prov_telegram_send(&cfg, TG_TOKEN, "@paywire_alerts", "hi", NULL,
	                            err, sizeof(err)));
	assert_int_equal(before + 2, count_lines(tg_log));
}

static void
test_telegram_permanent_refusals(void **state)
{
	char base[64];
	prov_telegram_cfg cfg = tg_cfg(tg_port, base, sizeof(base));
	char err[512];
	int64_t ra = -1;

	(void) state;
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_telegram_send(&cfg, TG_TOKEN, "403001", "hi", &ra, err, sizeof(err)));
	assert_int_equal(0, ra);
	assert_non_null(strstr(err, "403"));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "Forbidden: bot was blocked by the user"));
	assert_non_null(strstr(err, "permanent"));
	no_token(err);
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_telegram_send(&cfg, TG_TOKEN, "-1004040", "hi", &ra, err, sizeof(err)));
	assert_non_null(strstr(err, "400"));
	assert_non_null(strstr(err, "Bad Request: chat not found"));
	no_token(err);
	/* a token the API does not know (revoked): 401, permanent, not shown */
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_telegram_send(&cfg, TG_OTHER, "4242", "hi", &ra, err, sizeof(err)));
	assert_non_null(strstr(err, "401"));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "Unauthorized"));
	no_token(err);
}

static void
test_telegram_429_carries_retry_after(void **state)
{
	char base[64];
	prov_telegram_cfg cfg = tg_cfg(tg_port, base, sizeof(base));
	char err[512];
	int64_t ra = -1;

	(void) state;
	assert_int_equal(PW_RESOURCE_EXHAUSTED,
	    prov_telegram_send(&cfg, TG_TOKEN, "777", "hi", &ra, err, sizeof(err)));
	assert_int_equal(17000, ra);
	assert_non_null(strstr(err, "429"));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "Too Many Requests: retry after 17"));
	no_token(err);
}

static void
test_telegram_transient_failures(void **state)
{
	char base[64];
	prov_telegram_cfg cfg = tg_cfg(tg_port, base, sizeof(base));
	char err[512];
	int64_t ra = -1;

	(void) state;
	assert_int_equal(PW_UNAVAILABLE,
	    prov_telegram_send(&cfg, TG_TOKEN, "500500", "hi", &ra, err, sizeof(err)));
	assert_int_equal(0, ra);
	assert_non_null(strstr(err, "500"));
	print_message("  err: %s\n", err);
	assert_non_null(strstr(err, "Internal Server Error"));
	no_token(err);
	cfg = tg_cfg(closed_port, base, sizeof(base));
	assert_int_equal(PW_UNAVAILABLE,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", &ra, err, sizeof(err)));
	assert_non_null(strstr(err, "could not be reached"));
	no_token(err);
	cfg = tg_cfg(silent_port, base, sizeof(base));
	cfg.timeout_ms = 300;
	assert_int_equal(PW_UNAVAILABLE,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", &ra, err, sizeof(err)));
	no_token(err);
}

static void
test_telegram_tls_is_verified(void **state)
{
	char base[64];
	prov_telegram_cfg cfg = { .api_base = base, .timeout_ms = TW_HANG_MS };
	char err[512];
	int before = count_lines(tg_log);

	(void) state;
	(void) snprintf(base, sizeof(base), "https://127.0.0.1:%d", tgs_port);
	assert_int_equal(PW_FAILED_PRECONDITION,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	print_message("  err: %s\n", err);
	no_token(err);
	assert_int_equal(before, count_lines(tg_log));
	cfg.ca_file = cert;
	assert_int_equal(PW_OK,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	assert_int_equal(before + 1, count_lines(tg_log));
}

static void
test_telegram_bad_arguments_are_refused_before_sending(void **state)
{
	char base[64];
	prov_telegram_cfg cfg = tg_cfg(tg_port, base, sizeof(base));
	char err[512];
	char *big = malloc(PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX + 2);
	int before = count_lines(tg_log);

	(void) state;
	assert_non_null(big);
	memset(big, 'a', PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX + 1);
	big[PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX + 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", big, NULL, err, sizeof(err)));
	no_token(err);
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "", NULL, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "bad \xff", NULL, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "42/../x", "hi", NULL, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "@abc", "hi", NULL, err, sizeof(err)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "", "hi", NULL, err, sizeof(err)));
	/* a token that would change the path, or not the API's shape */
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, "123:abc/../../x?y=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "4242",
	        "hi", NULL, err, sizeof(err)));
	assert_null(strstr(err, "abc/"));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, "123456789:short", "4242", "hi", NULL, err, sizeof(err)));
	assert_null(strstr(err, "short"));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, NULL, "4242", "hi", NULL, err, sizeof(err)));
	/* the base URL policy */
	cfg.allow_http = false;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	no_token(err);
	cfg.allow_http = true;
	cfg.api_base = "http://api.telegram.org";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "loopback"));
	cfg.api_base = "https://u:p@api.telegram.org";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	cfg.api_base = "ftp://api.telegram.org";
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	cfg.api_base = base;
	cfg.timeout_ms = PW_NOTIFY_TIMEOUT_MS_MAX + 1;
	assert_int_equal(PW_INVALID_ARGUMENT,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", "hi", NULL, err, sizeof(err)));
	assert_int_equal(before, count_lines(tg_log));
	/* at the limit: sent */
	cfg.timeout_ms = TW_HANG_MS;
	big[PW_NOTIFY_TELEGRAM_TEXT_BYTES_MAX] = '\0';
	assert_int_equal(PW_OK,
	    prov_telegram_send(&cfg, TG_TOKEN, "4242", big, NULL, err, sizeof(err)));
	assert_int_equal(before + 1, count_lines(tg_log));
	free(big);
}

/* ---- the text ---- */

static void
test_notify_text_of_a_paid_session(void **state)
{
	char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE];
	char body[PW_NOTIFY_TEXT_BODY_SIZE];
	prov_notify_event ev = { .type = "session.paid", .session_id = "cs_0190abc",
		.merchant_id = "m_shop", .detail = "card", .has_amount = true, .amount_minor = 1250,
		.currency = "EUR", .event_unix_s = INT64_C(1796598900) };

	(void) state;
	assert_int_equal(PW_OK, prov_notify_text(&ev, subject, body));
	assert_string_equal("[paywire] Payment succeeded: 12.50 EUR (cs_0190abc)", subject);
	assert_string_equal("Payment succeeded.\n\n"
	                    "Event:    session.paid\n"
	                    "Session:  cs_0190abc\n"
	                    "Merchant: m_shop\n"
	                    "Amount:   12.50 EUR\n"
	                    "When:     2026-12-06 23:15:00 UTC\n"
	                    "Detail:   card\n"
	                    "\n-- \nSent by paywire.\n",
	    body);
	/* JPY has no minor unit; no session, no time */
	ev = (prov_notify_event) { .type = "session.failed", .merchant_id = "m_shop",
		.has_amount = true, .amount_minor = 500, .currency = "JPY" };
	assert_int_equal(PW_OK, prov_notify_text(&ev, subject, body));
	assert_string_equal("[paywire] Payment failed: 500 JPY", subject);
	assert_null(strstr(body, "Session:"));
	assert_null(strstr(body, "When:"));
	/* a type not known yet */
	ev = (prov_notify_event) { .type = "dispute.opened", .session_id = "cs_1" };
	assert_int_equal(PW_OK, prov_notify_text(&ev, subject, body));
	assert_string_equal("[paywire] Event dispute.opened (cs_1)", subject);
	ev.type = "Bad Type";
	assert_int_equal(PW_INVALID_ARGUMENT, prov_notify_text(&ev, subject, body));
	ev.type = "";
	assert_int_equal(PW_INVALID_ARGUMENT, prov_notify_text(&ev, subject, body));
	ev.type = NULL;
	assert_int_equal(PW_INVALID_ARGUMENT, prov_notify_text(&ev, subject, body));
}

static void
test_notify_text_is_bounded_and_mailable(void **state)
{
	char subject[PW_NOTIFY_TEXT_SUBJECT_SIZE];
	char body[PW_NOTIFY_TEXT_BODY_SIZE];
	char detail[4000];
	char sid[300];
	char *msg = NULL;
	size_t len = 0;
	char err[256];
	prov_notify_event ev = { .type = "session.refunded", .session_id = sid,
		.merchant_id = sid, .detail = detail, .has_amount = true,
		.amount_minor = PW_AMOUNT_MINOR_MAX - 1, .currency = "EUR" };

	(void) state;
	/* a detail that tries to add lines and headers, long fields, and
	 * multi-byte characters across every cut */
	memset(sid, 'S', sizeof(sid) - 1);
	sid[sizeof(sid) - 1] = '\0';
	detail[0] = '\0';
	strcat(detail, "line one\r\nBcc: x@y.z\n\x01\x7f");
	while (strlen(detail) + 4 < sizeof(detail)) {
		strcat(detail, "\xe2\x82\xac");
	}
	assert_int_equal(PW_OK, prov_notify_text(&ev, subject, body));
	assert_true(strlen(subject) <= PW_NOTIFY_SUBJECT_BYTES_MAX);
	assert_true(strlen(body) <= PW_NOTIFY_TEXT_BYTES_MAX);
	assert_null(strchr(subject, '\n'));
	assert_null(strchr(body, '\r'));
	assert_non_null(strstr(body, "Detail:   line one  Bcc: x@y.z"));
	assert_null(strstr(body, "\nBcc:"));
	assert_true(pw_utf8_valid(subject, strlen(subject)));
	assert_true(pw_utf8_valid(body, strlen(body)));
	/* the detail is cut at its limit, on a character boundary */
	{
		const char *d = strstr(body, "Detail:   ") + 10;
		size_t dl = strcspn(d, "\n");

		assert_true(dl <= PW_NOTIFY_DETAIL_BYTES_MAX);
		assert_true(dl > PW_NOTIFY_DETAIL_BYTES_MAX - 4);
	}
	assert_non_null(strstr(body, "Amount:   9999999999.99 EUR\n"));
	/* what it wrote is a mail the SMTP sender accepts */
	assert_int_equal(PW_OK, prov_smtp_message(FROM, "a@example.com", subject, body, "n1", 0,
	                            &msg, &len, err, sizeof(err)));
	pw_free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_a_mail_arrives_with_exact_headers_and_body),
		cmocka_unit_test(test_smtp_message_date_and_no_message_id),
		cmocka_unit_test(test_smtp_a_non_ascii_subject_is_rfc2047_encoded),
		cmocka_unit_test(test_smtp_wrong_password_is_permanent_and_never_shows_it),
		cmocka_unit_test(test_smtp_auth_login),
		cmocka_unit_test(test_smtp_451_is_unavailable_550_and_554_permanent),
		cmocka_unit_test(test_smtp_unreachable_and_silent_relays_are_unavailable),
		cmocka_unit_test(test_smtp_starttls_is_required_and_plain_only_to_loopback),
		cmocka_unit_test(test_smtp_header_injection_is_refused_before_sending),
		cmocka_unit_test(test_smtp_the_address_subset),
		cmocka_unit_test(test_smtp_sizes_at_and_over_their_limits),
		cmocka_unit_test(test_smtp_tls_is_verified_starttls_and_smtps),
		cmocka_unit_test(test_telegram_a_message_is_sent),
		cmocka_unit_test(test_telegram_permanent_refusals),
		cmocka_unit_test(test_telegram_429_carries_retry_after),
		cmocka_unit_test(test_telegram_transient_failures),
		cmocka_unit_test(test_telegram_tls_is_verified),
		cmocka_unit_test(test_telegram_bad_arguments_are_refused_before_sending),
		cmocka_unit_test(test_notify_text_of_a_paid_session),
		cmocka_unit_test(test_notify_text_is_bounded_and_mailable),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
