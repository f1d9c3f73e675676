/* consumer.c - a program outside the paywire tree, built against an installed
 * libpaywire by check.sh (pkg-config, static archive, find_package). It calls
 * a server that does not exist: PW_UNAVAILABLE is the expected answer. */
#include <paywire/client.h>

#include <stdio.h>

int
main(int argc, char **argv)
{
	pw_client_opts opts;
	pw_status_info info;
	pw_error err;
	pw_client *c;
	pw_status st;

	if (argc != 2) {
		fprintf(stderr, "usage: consumer URL\n");
		return 2;
	}
	pw_client_opts_default(&opts);
	opts.timeout_ms = 50;
	opts.retries = 0;
	if (pw_client_open(&c, argv[1], &opts) != PW_OK) {
		return 1;
	}
	st = pw_status_get(c, "cs_nobody", &info, &err);
	printf("%s %d %s %s\n", pw_status_name(st), pw_status_http(st),
	    pw_session_status_name(PW_SESSION_PAID), PW_VERSION_STRING);
	pw_client_close(c);
	return st == PW_UNAVAILABLE && err.code == PW_UNAVAILABLE ? 0 : 1;
}
