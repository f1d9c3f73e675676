/*
 * server_config_test.c - paywire-server's flags and config file, and the
 * pure validation rules (srv_validate.h) at their exact boundaries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server_harness.h"
#include "srv_config.h"
#include "srv_validate.h"

static pw_status
parse(srv_config *cfg, const char *const *args)
{
	char *argv[32];
	char why[512];
	int argc = 0;

	argv[argc++] = (char *) "paywire-server";
	for (size_t i = 0; args[i] != NULL; i++) {
		argv[argc++] = (char *) args[i];
	}
	srv_config_init(cfg);
	return srv_config_parse(cfg, argc, argv, why, sizeof(why));
}

static void
test_defaults_listen_on_tcp_and_ipc_under_the_data_dir(void **state)
{
	static srv_config cfg;
	const char *const none[] = { NULL };
	char why[256];

	(void) state;
	assert_int_equal(PW_OK, parse(&cfg, none));
	assert_int_equal(PW_OK, srv_config_finish(&cfg, why, sizeof(why)));
	assert_int_equal(2, cfg.listen_count);
	assert_string_equal("tcp://127.0.0.1:7450", cfg.listen[0]);
	assert_string_equal("ipc://./data/paywire.sock", cfg.listen[1]);
	assert_int_equal(STORE_SYNC_FULL, cfg.sync);
	assert_int_equal(PW_SRV_CONTEXTS_DEFAULT, cfg.contexts);
	assert_string_equal("http://127.0.0.1:8080", cfg.public_url);
	assert_int_equal(PW_LOG_INFO, cfg.log_level);
}

static void
test_flags_are_parsed_in_both_spellings(void **state)
{
	static srv_config cfg;
	const char *const args[] = { "--listen", "tcp://127.0.0.1:9", "--listen=ipc:///tmp/x.sock",
		"--data=/var/lib/pw", "--map-size", "64m", "--sync", "meta", "--unsafe-no-fsync",
		"--contexts=4096",
		"--public-url", "https://pay.example", "--log-level=debug", "--read-only",
		"--webhook-tolerance-s", "60", "--drain-timeout-ms=0",
#ifdef PW_TEST_HOOKS
		"--test-writer-delay-ms", "5",
#endif
		"--config", "/etc/pw.env", NULL };
	char why[256];

	(void) state;
	assert_int_equal(PW_OK, parse(&cfg, args));
	assert_int_equal(PW_OK, srv_config_finish(&cfg, why, sizeof(why)));
	assert_int_equal(2, cfg.listen_count);
	assert_string_equal("ipc:///tmp/x.sock", cfg.listen[1]);
	assert_string_equal("/var/lib/pw", cfg.data_dir);
	assert_int_equal(64ull * 1024 * 1024, cfg.map_size_bytes);
	assert_int_equal(STORE_SYNC_META, cfg.sync);
	assert_true(cfg.unsafe_no_fsync);
	assert_int_equal(4096, cfg.contexts);
	assert_string_equal("https://pay.example", cfg.public_url);
	assert_int_equal(PW_LOG_DEBUG, cfg.log_level);
	assert_true(cfg.read_only);
	assert_int_equal(60, cfg.webhook_tolerance_s);
	assert_int_equal(0, cfg.drain_timeout_ms);
#ifdef PW_TEST_HOOKS
	assert_int_equal(5, cfg.test_writer_delay_ms);
#endif
	assert_string_equal("/etc/pw.env", cfg.config_file);
}

static void
test_out_of_range_and_unknown_flags_are_refused(void **state)
{
	static srv_config cfg;
	const char *const bad[][3] = {
		{ "--contexts", "0", NULL }, { "--contexts", "4097", NULL }, { "--contexts", "-1", NULL },
		{ "--contexts", "12x", NULL }, { "--map-size", "1048575", NULL },
		{ "--map-size", "2048g", NULL }, { "--map-size", "99999999999999999999999", NULL },
		{ "--sync", "FULL", NULL }, { "--log-level", "trace", NULL },
		{ "--public-url", "ftp://x", NULL }, { "--listen", "http://x", NULL },
		{ "--listen", "tcp://", NULL }, { "--webhook-tolerance-s", "0", NULL },
		{ "--webhook-tolerance-s", "3601", NULL }, { "--read-only=yes", NULL, NULL },
		{ "--bogus", NULL, NULL }, { "data", NULL, NULL }, { "--data", NULL, NULL },
		{ "--drain-timeout-ms", "600001", NULL },
	};
	const char *const nine[] = { "--listen=tcp://a:1", "--listen=tcp://a:2", "--listen=tcp://a:3",
		"--listen=tcp://a:4", "--listen=tcp://a:5", "--listen=tcp://a:6", "--listen=tcp://a:7",
		"--listen=tcp://a:8", "--listen=tcp://a:9", NULL };

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&cfg, bad[i]) != PW_INVALID_ARGUMENT) {
			fail_msg("accepted: %s %s", bad[i][0], bad[i][1] != NULL ? bad[i][1] : "");
		}
	}
	assert_int_equal(PW_INVALID_ARGUMENT, parse(&cfg, nine));
}

static void
test_store_flag_and_variable(void **state)
{
	static srv_config cfg;
	const char *const pg_url[] = { "--store", "postgresql://pay:s3cret@db1/paywire", NULL };
	const char *const pg_kv[] = { "--store=host=/tmp dbname=paywire", NULL };
	const char *const bad[] = { "--store", "mysql://pay:s3cret@db1/x", NULL };
	const char *const none[] = { NULL };
	char *argv[3] = { (char *) "paywire-server", (char *) "--store", NULL };
	char why[512];

	(void) state;
	assert_int_equal(PW_OK, parse(&cfg, pg_url));
	assert_string_equal("postgresql://pay:s3cret@db1/paywire", cfg.store_url);
	assert_int_equal(PW_OK, parse(&cfg, pg_kv));
	assert_string_equal("host=/tmp dbname=paywire", cfg.store_url);
	/* refused, and the value (it may hold a password) is not in the message */
	srv_config_init(&cfg);
	argv[2] = (char *) bad[1];
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_parse(&cfg, 3, argv, why, sizeof(why)));
	assert_non_null(strstr(why, "--store"));
	assert_null(strstr(why, "s3cret"));
	/* PAYWIRE_STORE when no flag; the flag wins; a bad variable is refused too */
	assert_int_equal(0, setenv("PAYWIRE_STORE", "postgres://from-env/paywire", 1));
	assert_int_equal(PW_OK, parse(&cfg, none));
	assert_int_equal(PW_OK, srv_config_finish(&cfg, why, sizeof(why)));
	assert_string_equal("postgres://from-env/paywire", cfg.store_url);
	assert_int_equal(PW_OK, parse(&cfg, pg_url));
	assert_int_equal(PW_OK, srv_config_finish(&cfg, why, sizeof(why)));
	assert_string_equal("postgresql://pay:s3cret@db1/paywire", cfg.store_url);
	assert_int_equal(0, setenv("PAYWIRE_STORE", "/var/lib/not-a-url-s3cret", 1));
	assert_int_equal(PW_OK, parse(&cfg, none));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_finish(&cfg, why, sizeof(why)));
	assert_non_null(strstr(why, "PAYWIRE_STORE"));
	assert_null(strstr(why, "s3cret"));
	assert_int_equal(0, unsetenv("PAYWIRE_STORE"));
	/* longer than PW_STORE_URL_BYTES_MAX: refused */
	{
		static char longurl[PW_STORE_URL_BYTES_MAX + 40];

		memset(longurl, 'x', sizeof(longurl) - 1);
		memcpy(longurl, "postgresql://h/db?", 18);
		srv_config_init(&cfg);
		argv[2] = longurl;
		assert_int_equal(PW_INVALID_ARGUMENT, srv_config_parse(&cfg, 3, argv, why, sizeof(why)));
		assert_non_null(strstr(why, "--store"));
	}
}

static void
test_default_ipc_path_too_long_is_refused(void **state)
{
	static srv_config cfg;
	static char dir[200];
	char flag[220];
	const char *args[2];
	char why[512];

	(void) state;
	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	(void) snprintf(flag, sizeof(flag), "--data=%s", dir);
	args[0] = flag;
	args[1] = NULL;
	assert_int_equal(PW_OK, parse(&cfg, args));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_finish(&cfg, why, sizeof(why)));
	assert_non_null(strstr(why, "--listen"));
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(strlen(text), fwrite(text, 1, strlen(text), f));
	assert_int_equal(0, fclose(f));
	assert_int_equal(0, chmod(path, mode));
}

static void
test_config_file_rules(void **state)
{
	char dir[] = "/tmp/pw-cfg-XXXXXX";
	char path[64];
	char why[512];

	(void) state;
	assert_non_null(mkdtemp(dir));
	(void) snprintf(path, sizeof(path), "%s/pw.env", dir);
	(void) unsetenv("PAYWIRE_TOKEN_SECRET");
	(void) unsetenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS");
	assert_int_equal(0, setenv("PAYWIRE_ADMIN_KEY", "from-env", 1));

	write_file(path, "PAYWIRE_TOKEN_SECRET=s3cret\n", 0640);
	assert_int_equal(PW_PERMISSION_DENIED, srv_config_file_load(path, why, sizeof(why)));
	assert_null(strstr(why, "s3cret"));
	write_file(path, "PAYWIRE_TOKEN_SECRET=s3cret\n", 0604);
	assert_int_equal(PW_PERMISSION_DENIED, srv_config_file_load(path, why, sizeof(why)));
	assert_null(getenv("PAYWIRE_TOKEN_SECRET"));

	write_file(path, "PAYWIRE_TOKEN_SECRET=a\nPAYWIRE_TOKEN_SECRET=b\n", 0600);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_file_load(path, why, sizeof(why)));
	assert_non_null(strstr(why, "line 2"));
	write_file(path, "PAYWIRE_TOKEN_SECRET=a\r\n", 0600);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_file_load(path, why, sizeof(why)));
	write_file(path, "export PAYWIRE_TOKEN_SECRET=a\n", 0600);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_file_load(path, why, sizeof(why)));
	write_file(path, "HOME=/tmp\n", 0600);
	assert_int_equal(PW_INVALID_ARGUMENT, srv_config_file_load(path, why, sizeof(why)));
	(void) unsetenv("PAYWIRE_TOKEN_SECRET");

	write_file(path,
	    "# comment\n\n  # indented comment\nPAYWIRE_TOKEN_SECRET='quoted value'\n"
	    "PAYWIRE_ADMIN_KEY=from-file\nPAYWIRE_WEB3_MIN_CONFIRMATIONS=base:5",
	    0400);
	assert_int_equal(PW_OK, srv_config_file_load(path, why, sizeof(why)));
	assert_string_equal("quoted value", getenv("PAYWIRE_TOKEN_SECRET"));
	assert_string_equal("from-env", getenv("PAYWIRE_ADMIN_KEY")); /* the environment wins */
	assert_string_equal("base:5", getenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS"));
	(void) snprintf(why, sizeof(why), "%s/missing", dir);
	assert_int_equal(PW_NOT_FOUND, srv_config_file_load(why, path, sizeof(path)));
	(void) unsetenv("PAYWIRE_TOKEN_SECRET");
	(void) unsetenv("PAYWIRE_WEB3_MIN_CONFIRMATIONS");
	(void) unsetenv("PAYWIRE_ADMIN_KEY");
	(void) unlink(path);
	(void) rmdir(dir);
}

static void
test_url_rule(void **state)
{
	static const char *const good[] = { "http://a", "https://a.example/x?y#z", "HTTPS://A.EXAMPLE",
		"http://127.0.0.1:8080", "http://[::1]:443/p", "https://x-y.example:1/" };
	static const char *const bad[] = { "", "ftp://a", "javascript:alert(1)", "https://",
		"https:///x", "http://a b", "http://a\tb", "https://u@h/", "http://h:0",
		"http://h:65536", "http://h:", "http://h:12a", "//h/x", "http:/h", "http://[::1",
		"http://[]/", "http://h_1/", "https://h\\@evil" };

	(void) state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!srv_validate_url(good[i])) {
			fail_msg("refused %s", good[i]);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (srv_validate_url(bad[i])) {
			fail_msg("accepted %s", bad[i]);
		}
	}
}

static void
test_request_id_and_session_id_rules(void **state)
{
	char big[PW_REQUEST_ID_BYTES_MAX + 2];
	char why[SRV_WHY_BYTES];

	(void) state;
	memset(big, 'r', sizeof(big));
	big[PW_REQUEST_ID_BYTES_MAX] = '\0';
	assert_int_equal(PW_OK, srv_validate_request_id(big, true, why, sizeof(why)));
	big[PW_REQUEST_ID_BYTES_MAX] = 'r';
	big[PW_REQUEST_ID_BYTES_MAX + 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT, srv_validate_request_id(big, true, why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_validate_request_id("", true, why, sizeof(why)));
	assert_int_equal(PW_OK, srv_validate_request_id("", false, why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_validate_request_id("a b", false, why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT,
	    srv_validate_request_id("a\nlevel=error", false, why, sizeof(why)));
	assert_int_equal(PW_OK, srv_validate_session_id("f", "cs_0190abc-_Z", why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_validate_session_id("f", "cs/..", why, sizeof(why)));
	assert_int_equal(PW_INVALID_ARGUMENT, srv_validate_session_id("f", "", why, sizeof(why)));
	assert_int_equal(PW_UNAUTHENTICATED, srv_validate_api_key("", why, sizeof(why)));
	assert_string_equal("missing API key", why);
}

/* --sync meta and none are refused by srv_config_finish unless
 * --unsafe-no-fsync says so out loud; full needs nothing. */
static void
test_unsafe_sync_modes_need_the_unsafe_flag(void **state)
{
	static srv_config cfg;
	static const char *const modes[] = { "none", "meta" };
	char why[512];

	(void) state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *const bare[] = { "--sync", modes[i], NULL };
		const char *const loud[] = { "--sync", modes[i], "--unsafe-no-fsync", NULL };

		assert_int_equal(PW_OK, parse(&cfg, bare));
		assert_int_equal(PW_INVALID_ARGUMENT, srv_config_finish(&cfg, why, sizeof(why)));
		assert_non_null(strstr(why, "--unsafe-no-fsync"));
		assert_non_null(strstr(why, modes[i]));
		assert_int_equal(PW_OK, parse(&cfg, loud));
		assert_true(cfg.unsafe_no_fsync);
		assert_int_equal(PW_OK, srv_config_finish(&cfg, why, sizeof(why)));
	}
	{
		const char *const full[] = { "--sync", "full", NULL };
		const char *const val[] = { "--unsafe-no-fsync=yes", NULL };
		assert_int_equal(PW_OK, parse(&cfg, full));
		assert_int_equal(PW_OK, srv_config_finish(&cfg, why, sizeof(why)));
		assert_int_equal(PW_INVALID_ARGUMENT, parse(&cfg, val)); /* a switch takes no value */
	}
}

/* One secret variable set to value: srv_config_secrets_check's status, why
 * naming the variable and never holding the value. */
static pw_status
secrets_with(const char *var, const char *value, char *why, size_t why_size)
{
	pw_status rv;

	(void) unsetenv("PAYWIRE_ADMIN_KEY");
	(void) unsetenv("PAYWIRE_TOKEN_SECRET");
	assert_int_equal(0, setenv(var, value, 1));
	rv = srv_config_secrets_check(why, why_size);
	(void) unsetenv(var);
	if (rv != PW_OK) {
		assert_non_null(strstr(why, var));
		if (value[0] != '\0') {
			assert_null(strstr(why, value));
		}
	}
	return rv;
}

static void
test_admin_key_and_token_secret_are_checked_without_showing_them(void **state)
{
	static const struct {
		const char *var;
		const char *value;
		const char *says;
	} bad[] = {
		{ "PAYWIRE_ADMIN_KEY", "", "set but empty" },
		{ "PAYWIRE_ADMIN_KEY", "adm_Zq7shortkey_xx", "shorter than 24" }, /* 18 */
		{ "PAYWIRE_ADMIN_KEY", "adm_Zq7_0123456789abcdef\n", "trailing whitespace" },
		{ "PAYWIRE_ADMIN_KEY", "adm_Zq7 0123456789abcdefgh", "byte 8" },
		{ "PAYWIRE_ADMIN_KEY", "adm_Zq7_0123456789abcd\xc3\xa9", "not ASCII" },
		{ "PAYWIRE_TOKEN_SECRET", "", "set but empty" },
		{ "PAYWIRE_TOKEN_SECRET", "tok_Zq7_0123456789abcdef01", "shorter than 32" }, /* 26 */
		{ "PAYWIRE_TOKEN_SECRET", "tok_Zq7_0123456789abcdef0123456789\r", "trailing" },
	};
	char why[512];
	char big[PW_ADMIN_KEY_BYTES_MAX + 2];

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (secrets_with(bad[i].var, bad[i].value, why, sizeof(why)) != PW_INVALID_ARGUMENT ||
		    strstr(why, bad[i].says) == NULL) {
			fail_msg("case %zu (%s): got why [%s], wanted [%s]", i, bad[i].var, why,
			    bad[i].says);
		}
	}
	/* the exact boundaries: 24 and 256 bytes pass, 23 and 257 do not */
	memset(big, 'k', sizeof(big));
	big[PW_SECRET_BYTES_MIN] = '\0';
	assert_int_equal(PW_OK, secrets_with("PAYWIRE_ADMIN_KEY", big, why, sizeof(why)));
	big[PW_SECRET_BYTES_MIN - 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT, secrets_with("PAYWIRE_ADMIN_KEY", big, why, sizeof(why)));
	memset(big, 'k', sizeof(big));
	big[PW_ADMIN_KEY_BYTES_MAX] = '\0';
	assert_int_equal(PW_OK, secrets_with("PAYWIRE_ADMIN_KEY", big, why, sizeof(why)));
	big[PW_ADMIN_KEY_BYTES_MAX] = 'k';
	big[PW_ADMIN_KEY_BYTES_MAX + 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT, secrets_with("PAYWIRE_ADMIN_KEY", big, why, sizeof(why)));
	assert_non_null(strstr(why, "longer than 256"));
	memset(big, 't', sizeof(big));
	big[PW_TOKEN_SECRET_BYTES_MIN] = '\0';
	assert_int_equal(PW_OK, secrets_with("PAYWIRE_TOKEN_SECRET", big, why, sizeof(why)));
	big[PW_TOKEN_SECRET_BYTES_MIN - 1] = '\0';
	assert_int_equal(PW_INVALID_ARGUMENT,
	    secrets_with("PAYWIRE_TOKEN_SECRET", big, why, sizeof(why)));
	/* both unset: fine (admin calls off, token key derived) */
	(void) unsetenv("PAYWIRE_ADMIN_KEY");
	(void) unsetenv("PAYWIRE_TOKEN_SECRET");
	assert_int_equal(PW_OK, srv_config_secrets_check(why, sizeof(why)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_listen_on_tcp_and_ipc_under_the_data_dir),
		cmocka_unit_test(test_flags_are_parsed_in_both_spellings),
		cmocka_unit_test(test_out_of_range_and_unknown_flags_are_refused),
		cmocka_unit_test(test_store_flag_and_variable),
		cmocka_unit_test(test_default_ipc_path_too_long_is_refused),
		cmocka_unit_test(test_config_file_rules),
		cmocka_unit_test(test_url_rule),
		cmocka_unit_test(test_request_id_and_session_id_rules),
		cmocka_unit_test(test_unsafe_sync_modes_need_the_unsafe_flag),
		cmocka_unit_test(test_admin_key_and_token_secret_are_checked_without_showing_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
