/*
 * cli.c - `paywire`, the command-line tool of paywire, built on libpaywire.
 *
 *   paywire [--server URL] [--timeout-ms N] [--retries N] [--json] COMMAND ...
 *
 * Output is aligned "key: value" lines, or one JSON object with --json (money
 * as exact integers of minor units). Errors go to stderr as
 * "error: CODE_NAME: message"; after UNAVAILABLE or TIMEOUT a "server: URL
 * (where it came from)" line follows. Exit codes: 0 OK, 1 server or transport
 * error (and a broken audit chain), 2 usage error (nothing was sent); doctor
 * answers 0/1/2 for OK/WARN/FAIL (cli_ops.h). Secrets
 * (admin and API keys, tokens) never appear in error messages.
 *
 * Every command is one row of cli_commands[] (words, help, options, checks,
 * its call) plus its functions; cli_run does the rest alike for all: parse,
 * check, open the client, call, close, print the rows or the error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <sodium.h>

#include "cli_ops.h"
#include "cli_store.h"
#include "pw_common.h"

#include <paywire/client.h>

enum {
	CLI_EXIT_OK = 0,    /* done */
	CLI_EXIT_FAIL = 1,  /* the server or the transport said no */
	CLI_EXIT_USAGE = 2, /* bad command line: nothing was sent */
};

#define CLI_SERVER_DEFAULT "tcp://127.0.0.1:7450"
/* Where the server address came from, as the transport errors say it. */
#define CLI_FROM_FLAG "from --server"
#define CLI_FROM_ENV "from PAYWIRE_SERVER; --server URL overrides it"
#define CLI_FROM_DEFAULT "the default; set PAYWIRE_SERVER or pass --server URL"
/* Rows of one command's output, and the widest value kept (a checkout URL or
 * an access link). */
#define CLI_ROWS_MAX 40
#define CLI_VALUE_BYTES_MAX 2304

typedef struct cli_globals {
	const char *server;   /* --server, else PAYWIRE_SERVER, else CLI_SERVER_DEFAULT */
	const char *server_from; /* where server came from, for transport errors: CLI_FROM_* */
	uint32_t timeout_ms;  /* --timeout-ms: per attempt */
	uint32_t retries;     /* --retries: extra attempts, same request_id */
	bool json;            /* --json: one JSON object on stdout */
	const char *cmd_name; /* "session create": for error hints */
} cli_globals;

typedef struct cli_out {
	bool json;                      /* JSON object instead of key: value lines */
	json_t *obj;                    /* the object (json mode) */
	size_t n;                       /* rows so far */
	const char *keys[CLI_ROWS_MAX]; /* row keys (static strings) */
	char *values[CLI_ROWS_MAX];     /* row values, human form (malloc'd) */
} cli_out;


/* Long options every command also accepts (after the command word). */
enum {
	OPT_SERVER = 256,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_JSON,
	OPT_HELP,
	OPT_VERSION,
	OPT_ADMIN_KEY,
	OPT_API_KEY,
	OPT_NAME,
	OPT_MODE,
	OPT_AMOUNT,
	OPT_AMOUNT_MINOR,
	OPT_CURRENCY,
	OPT_SUCCESS_URL,
	OPT_CANCEL_URL,
	OPT_EMAIL,
	OPT_CUSTOMER_REF,
	OPT_IDEMPOTENCY_KEY,
	OPT_METADATA,
	OPT_PLAN,
	OPT_CREDITS,
	OPT_EXPIRES_IN,
	OPT_EXPIRES_AT,
	OPT_PROVIDER,
	OPT_BODY_FILE,
	OPT_HEADER,
	OPT_TOKEN,
	OPT_RETURN_URL,
	OPT_REASON,
	OPT_STRIPE_PRICE,
	OPT_DELETE,
	OPT_FROM,
	OPT_TO,
	OPT_KEY_DIR,
	OPT_REQUEST_ID,
	OPT_DESCRIPTION,
	OPT_KEY_ID,
	OPT_GRACE,
	OPT_NOW,
	OPT_LIMIT,
	OPT_STARTING_AFTER,
	OPT_STATUS,
	OPT_FROM_MS,
	OPT_TO_MS,
	OPT_AFTER,
	OPT_COUNT,
	OPT_SUBSCRIBE,
	OPT_ONCE,
	OPT_SECRET,
	OPT_FAIL,
	OPT_SUBSCRIPTION,
	OPT_CUSTOMER,
	OPT_PACKAGE,
	OPT_ALL,
	OPT_DATA,
	OPT_CONFIG,
	OPT_FORCE,
	OPT_SERVER_BIN,
	OPT_READS,
	OPT_WRITES,
	OPT_URL,
	OPT_TYPE,
	OPT_KIND,
	OPT_ENABLE,
	OPT_DISABLE,
	OPT_ALL_TYPES,
	OPT_GRACE_MS,
	OPT_DEAD,
	OPT_ENDPOINT,
	OPT_SINCE,
};

/* A long option --NAME with a value, and the end of an option table. */
#define CLI_OPT(name, id) { name, required_argument, NULL, id }
#define CLI_OPTS_END { NULL, 0, NULL, 0 }

#define CLI_GLOBAL_OPTS                                          \
	{ "server", required_argument, NULL, OPT_SERVER },           \
	    { "timeout-ms", required_argument, NULL, OPT_TIMEOUT },  \
	    { "retries", required_argument, NULL, OPT_RETRIES },     \
	    { "json", no_argument, NULL, OPT_JSON },                 \
	    { "help", no_argument, NULL, OPT_HELP }

/* ---- errors ---- */

__attribute__((format(printf, 2, 3))) static int
cli_usage_error(const cli_globals *g, const char *fmt, ...)
{
	va_list ap;

	fputs("error: INVALID_ARGUMENT: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'paywire %s--help')\n", g->cmd_name != NULL ? g->cmd_name : "");
	return CLI_EXIT_USAGE;
}

/* A failed call: "error: CODE: message" on stderr, exit 1. When the server
 * could not be reached or did not answer (UNAVAILABLE, TIMEOUT), a second
 * line names the address tried and what sets it: the CLI is the operator's
 * own tool, so the address belongs here (the bridge never shows it). */
static int
cli_call_error(const cli_globals *g, const pw_error *err)
{
	fprintf(stderr, "error: %s: %s\n", pw_status_name(err->code),
	    err->message[0] != '\0' ? err->message : pw_status_message(err->code));
	if (err->code == PW_UNAVAILABLE || err->code == PW_TIMEOUT) {
		fprintf(stderr, "server: %s (%s)\n", g->server, g->server_from);
	}
	return CLI_EXIT_FAIL;
}

/* ---- parsing helpers ---- */

static bool
cli_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 10) {
		return false;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
		v = v * 10 + (unsigned long long) (*p - '0');
	}
	if (v < min || v > max) {
		return false;
	}
	*out = (uint32_t) v;
	return true;
}

/* A decimal int64, optional leading '-', nothing else. The server judges the
 * range (0 and negatives reach it and get its INVALID_ARGUMENT). */
static bool
cli_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || (*s != '-' && (*s < '0' || *s > '9'))) {
		return false;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return false;
	}
	*out = (int64_t) v;
	return true;
}

static bool
cli_parse_mode(const char *s, pw_mode *out)
{
	if (strcmp(s, "test") == 0) {
		*out = PW_MODE_TEST;
	} else if (strcmp(s, "live") == 0) {
		*out = PW_MODE_LIVE;
	} else {
		return false;
	}
	return true;
}

/* Handles an option every command accepts; returns -1 if opt is not one,
 * else an exit code (CLI_EXIT_OK to go on). *help is set for --help. */
static int
cli_global_opt(cli_globals *g, int opt, const char *arg, bool *help)
{
	switch (opt) {
	case OPT_SERVER:
		g->server = arg;
		g->server_from = CLI_FROM_FLAG;
		return CLI_EXIT_OK;
	case OPT_TIMEOUT:
		if (!cli_parse_u32(arg, 1, PW_CLIENT_TIMEOUT_MS_MAX, &g->timeout_ms)) {
			return cli_usage_error(g, "--timeout-ms wants 1..%u milliseconds, got '%s'",
			    PW_CLIENT_TIMEOUT_MS_MAX, arg);
		}
		return CLI_EXIT_OK;
	case OPT_RETRIES:
		if (!cli_parse_u32(arg, 0, PW_CLIENT_RETRIES_MAX, &g->retries)) {
			return cli_usage_error(g, "--retries wants 0..%u, got '%s'", PW_CLIENT_RETRIES_MAX,
			    arg);
		}
		return CLI_EXIT_OK;
	case OPT_JSON:
		g->json = true;
		return CLI_EXIT_OK;
	case OPT_HELP:
		*help = true;
		return CLI_EXIT_OK;
	default:
		return -1;
	}
}

/* getopt's own complaints, reworded ("':" at the start of optstring). */
static int
cli_getopt_error(const cli_globals *g, int opt, char **argv)
{
	const char *what = optind > 0 ? argv[optind - 1] : "?";
	if (opt == ':') {
		return cli_usage_error(g, "option %s needs a value", what);
	}
	return cli_usage_error(g, "unknown option %s", what);
}

/* The key for an authenticated call: the flag, else the environment. An
 * empty string is sent as it is (the server answers UNAUTHENTICATED). */
static const char *
cli_key(const char *flag_value, const char *env)
{
	return flag_value != NULL ? flag_value : getenv(env);
}

/* ---- output ---- */

static void
cli_out_init(cli_out *o, bool json)
{
	memset(o, 0, sizeof(*o));
	o->json = json;
	if (json) {
		o->obj = json_object();
		PW_ASSERT(o->obj != NULL);
	}
}

/* jansson refuses invalid UTF-8: such a value (which the server should never
 * send) is shown with '?' for each non-ASCII byte rather than dropped. */
static json_t *
cli_json_string(const char *s)
{
	json_t *j = json_string(s);
	if (j == NULL) {
		char *copy = strdup(s);
		PW_ASSERT(copy != NULL);
		for (char *p = copy; *p != '\0'; p++) {
			if ((unsigned char) *p >= 0x80) {
				*p = '?';
			}
		}
		j = json_string(copy);
		free(copy);
	}
	PW_ASSERT(j != NULL);
	return j;
}

static void
cli_row(cli_out *o, const char *key, json_t *jv, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds one row: jv (stolen) in JSON mode, the formatted text otherwise. */
static void
cli_row(cli_out *o, const char *key, json_t *jv, const char *fmt, ...)
{
	va_list ap;
	char *v;
	int rv;

	PW_ASSERT(o->n < CLI_ROWS_MAX);
	if (o->json) {
		PW_ASSERT(jv != NULL);
		rv = json_object_set_new(o->obj, key, jv);
		PW_ASSERT(rv == 0);
		return;
	}
	json_decref(jv);
	v = malloc(CLI_VALUE_BYTES_MAX);
	PW_ASSERT(v != NULL);
	va_start(ap, fmt);
	vsnprintf(v, CLI_VALUE_BYTES_MAX, fmt, ap);
	va_end(ap);
	o->keys[o->n] = key;
	o->values[o->n] = v;
	o->n++;
}

static void
cli_str(cli_out *o, const char *key, const char *v)
{
	cli_row(o, key, o->json ? cli_json_string(v) : NULL, "%s", v[0] != '\0' ? v : "-");
}

static void
cli_int(cli_out *o, const char *key, int64_t v)
{
	cli_row(o, key, o->json ? json_integer((json_int_t) v) : NULL, "%lld", (long long) v);
}

static void
cli_uint(cli_out *o, const char *key, uint64_t v)
{
	json_t *j = NULL;
	if (o->json) {
		/* JSON integers are int64 in jansson; beyond that, an exact string. */
		char buf[24];
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
		j = v <= (uint64_t) INT64_MAX ? json_integer((json_int_t) v) : json_string(buf);
	}
	cli_row(o, key, j, "%llu", (unsigned long long) v);
}

static void
cli_bool(cli_out *o, const char *key, bool v)
{
	cli_row(o, key, o->json ? json_boolean(v) : NULL, "%s", v ? "yes" : "no");
}

/* amount_minor as an exact integer, plus "amount": "49.00" (exact decimal
 * text) when the currency is known. */
static void
cli_amount(cli_out *o, const char *key_minor, const char *key_dec, int64_t minor,
    const char *currency)
{
	int exp = pw_currency_exponent(currency);
	char dec[48];

	cli_int(o, key_minor, minor);
	if (exp < 0) {
		return;
	}
	pw_amount_format(dec, sizeof(dec), minor, exp);
	cli_row(o, key_dec, o->json ? json_string(dec) : NULL, "%s %s", dec, currency);
}

/* Unix ms: an integer in JSON, "2026-01-01T00:00:00.000Z" for people, "-" for 0. */
static void
cli_time(cli_out *o, const char *key, int64_t unix_ms)
{
	struct tm tm;
	time_t secs = (time_t) (unix_ms / 1000);
	char buf[40];

	if (o->json || unix_ms <= 0 || gmtime_r(&secs, &tm) == NULL) {
		cli_row(o, key, o->json ? json_integer((json_int_t) unix_ms) : NULL, "%s",
		    unix_ms <= 0 ? "-" : "?");
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	cli_row(o, key, NULL, "%s.%03dZ", buf, (int) (unix_ms % 1000));
}

/* Prints and frees: JSON on one line, or right-aligned keys so each line reads
 * "key: value" and the values line up. */
/* Drops what o holds without printing it (a failed call). */
static void
cli_out_free(cli_out *o)
{
	json_decref(o->obj); /* NULL-safe */
	o->obj = NULL;
	for (size_t i = 0; i < o->n; i++) {
		free(o->values[i]);
	}
	o->n = 0;
}

static void
cli_out_print(cli_out *o)
{
	size_t width = 0;

	if (o->json && json_object_size(o->obj) == 0) {
		json_decref(o->obj); /* a command that printed its own lines (events tail) */
		o->obj = NULL;
		return;
	}
	if (o->json) {
		char *s = json_dumps(o->obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
		PW_ASSERT(s != NULL);
		printf("%s\n", s);
		free(s);
		json_decref(o->obj);
		o->obj = NULL;
		return;
	}
	for (size_t i = 0; i < o->n; i++) {
		size_t k = strlen(o->keys[i]);
		width = k > width ? k : width;
	}
	for (size_t i = 0; i < o->n; i++) {
		printf("%*s: %s\n", (int) width, o->keys[i], o->values[i]);
		free(o->values[i]);
	}
	o->n = 0;
}

/* ---- shared command plumbing ---- */

typedef int (*cli_opt_fn)(void *args, cli_globals *g, int opt, char *arg);

/* Parses argv (argv[0] is the tool or the command word) with opts and
 * getopt's optstring: the global options here, the others through on_opt;
 * positional arguments are left in argv[optind..argc). */
static int
cli_parse(cli_globals *g, int argc, char **argv, const char *optstring,
    const struct option *opts, cli_opt_fn on_opt, void *args, bool *help)
{
	int opt;
	int rv;

	optind = 0; /* glibc: a full re-initialisation for a new argv */
	opterr = 0;
	for (;;) {
		opt = getopt_long(argc, argv, optstring, opts, NULL);
		if (opt == -1) {
			return CLI_EXIT_OK;
		}
		if (opt == '?' || opt == ':') {
			return cli_getopt_error(g, opt, argv);
		}
		rv = cli_global_opt(g, opt, optarg, help);
		if (rv == -1) {
			PW_ASSERT(on_opt != NULL);
			rv = on_opt(args, g, opt, optarg);
		}
		if (rv != CLI_EXIT_OK) {
			return rv;
		}
	}
}

/* Exactly `want` positional arguments after the options. */
static int
cli_positional(const cli_globals *g, int argc, char **argv, int want, const char *what)
{
	int have = argc - optind;
	if (have < want) {
		return cli_usage_error(g, "missing %s", what);
	}
	if (have > want) {
		return cli_usage_error(g, "unexpected argument '%s'", argv[optind + want]);
	}
	return CLI_EXIT_OK;
}

static int
cli_open(const cli_globals *g, pw_client **c)
{
	pw_client_opts opts;
	pw_status st;

	pw_client_opts_default(&opts);
	opts.timeout_ms = g->timeout_ms;
	opts.retries = g->retries;
	st = pw_client_open(c, g->server, &opts);
	if (st == PW_INVALID_ARGUMENT) {
		return cli_usage_error(g, "invalid server URL '%s' (tcp://HOST:PORT or ipc:///PATH)",
		    g->server);
	}
	if (st != PW_OK) {
		fprintf(stderr, "error: %s: cannot open a client for %s\n", pw_status_name(st),
		    g->server);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static void
cli_help(const char *text)
{
	fputs(text, stdout);
}

/* ---- every command: one table row, one runner ---- */

/* What the runner hands to a command's call. */
typedef struct cli_call {
	const cli_globals *g; /* the global options */
	const char *key;      /* the admin key for admin commands, else NULL */
	const char *arg;      /* the positional argument of a command that takes one, else NULL */
	const char *arg2;     /* the second one of a command that takes two, else NULL */
	pw_client *c;         /* the open client; NULL when --help was answered */
	cli_out out;          /* what the call prints on success (printed by the runner) */
	const char *note;     /* a line for stderr after it (human output only), or NULL */
	int exit_code;        /* the exit code of a successful call: CLI_EXIT_OK unless it says */
	bool help;            /* --help was answered: nothing to call */
} cli_call;

/* A command's one libpaywire call, on call->c with its parsed args: the
 * result's rows go into call->out; err gets the failure. */
typedef pw_status cli_call_fn(cli_call *call, void *args, pw_error *err);

/* One command: a row of cli_commands[] (at the end of this file). */
typedef struct cli_command {
	const char *group;         /* "session" */
	const char *verb;          /* "create", NULL for "status" */
	const char *usage;         /* its arguments, for the tool's help */
	const char *summary;       /* what it does, for the tool's help */
	const char *help;          /* its full help text */
	const struct option *opts; /* CLI_GLOBAL_OPTS + its own, { NULL } last */
	cli_opt_fn on_opt;         /* fills its args; NULL: no options of its own (but --admin-key) */
	int positional;            /* positional arguments it wants: 0, 1 (call->arg) or 2
	                              (call->arg, call->arg2) */
	const char *what;          /* their name, for "missing ..." */
	int (*check)(void *args, cli_globals *g); /* its own flags (may fill args), or NULL */
	bool admin;                /* needs the admin key: --admin-key, else $PAYWIRE_ADMIN_KEY */
	cli_call_fn *call;         /* the call */
	void (*fini)(void *args);  /* frees what check put in args, or NULL */
	bool local;                /* works on a store itself: no server, no client */
} cli_command;

/* What a command's options land in while cli_begin parses them. */
typedef struct cli_cmd_opts {
	const cli_command *cmd; /* whose options */
	void *args;             /* its args, for cmd->on_opt */
	const char *admin_key;  /* --admin-key, kept for every admin command alike */
} cli_cmd_opts;

/* cli_opt_fn of a command: --admin-key here, the rest to cmd->on_opt. */
static int
cli_cmd_opt(void *arg_ctx, cli_globals *g, int opt, char *arg)
{
	cli_cmd_opts *ctx = arg_ctx;

	if (opt == OPT_ADMIN_KEY) {
		ctx->admin_key = arg;
		return CLI_EXIT_OK;
	}
	PW_ASSERT(ctx->cmd->on_opt != NULL);
	return ctx->cmd->on_opt(ctx->args, g, opt, arg);
}

/* Parses the options into args, answers --help, checks the positional
 * arguments and cmd->check, resolves the admin key (admin commands: the
 * flag, else the environment) and opens the client, in that order; the
 * first problem is the one reported. CLI_EXIT_OK: call->c is open (the caller
 * closes it), or NULL after --help (nothing more to do). Else an exit code,
 * nothing open, nothing sent (what cmd->check put in args is the caller's). */
static int
cli_begin(cli_globals *g, int argc, char **argv, const cli_command *cmd, void *args, cli_call *call)
{
	cli_cmd_opts ctx = { .cmd = cmd, .args = args, .admin_key = NULL };
	bool help = false;
	int rv;

	PW_ASSERT(cmd->opts != NULL && cmd->help != NULL && cmd->positional <= 2);
	rv = cli_parse(g, argc, argv, ":", cmd->opts, cli_cmd_opt, &ctx, &help);
	if (rv != CLI_EXIT_OK) {
		return rv;
	}
	if (help) {
		cli_help(cmd->help);
		call->help = true;
		return CLI_EXIT_OK;
	}
	rv = cli_positional(g, argc, argv, cmd->positional, cmd->what);
	if (rv == CLI_EXIT_OK && cmd->check != NULL) {
		rv = cmd->check(args, g);
	}
	call->arg = cmd->positional >= 1 && rv == CLI_EXIT_OK ? argv[optind] : NULL;
	call->arg2 = cmd->positional == 2 && rv == CLI_EXIT_OK ? argv[optind + 1] : NULL;
	if (cmd->admin) {
		call->key = cli_key(ctx.admin_key, "PAYWIRE_ADMIN_KEY");
		if (rv == CLI_EXIT_OK && call->key == NULL) {
			rv = cli_usage_error(g, "no admin key: pass --admin-key or set PAYWIRE_ADMIN_KEY");
		}
	}
	if (rv == CLI_EXIT_OK && !cmd->local) {
		rv = cli_open(g, &call->c);
	}
	PW_ASSERT(rv == CLI_EXIT_OK || call->c == NULL);
	return rv;
}

/* The first rows of a session's output: its id (under id_key), merchant and
 * status. */
static void
cli_session_rows(cli_out *o, const char *id_key, const char *id, const char *merchant_id,
    pw_session_status status)
{
	cli_str(o, id_key, id);
	cli_str(o, "merchant_id", merchant_id);
	cli_str(o, "status", pw_session_status_name(status));
}

/* amount_minor, amount and currency rows. */
static void
cli_money_rows(cli_out *o, int64_t minor, const char *currency)
{
	cli_amount(o, "amount_minor", "amount", minor, currency);
	cli_str(o, "currency", currency);
}

/* ---- merchant create ---- */

static const char cli_help_merchant_create[] =
    "usage: paywire merchant create --name NAME [--mode test|live] [--admin-key KEY]\n"
    "\n"
    "Creates a merchant and its first API key. The raw key is printed once and\n"
    "only a keyed hash of it is stored: store it now.\n"
    "\n"
    "  --name NAME        the merchant's name (required)\n"
    "  --mode test|live   which keys it gets: sk_test_... or sk_live_... (default test)\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "Prints merchant_id, name, mode and api_key.\n"
    "\n"
    "examples:\n"
    "  paywire merchant create --name \"Demo shop\"\n"
    "  paywire --json merchant create --name \"Demo shop\" --mode live\n";

typedef struct cli_merchant_args {
	const char *name; /* --name */
	pw_mode mode;     /* --mode, default test */
} cli_merchant_args;

static int
cli_merchant_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_merchant_args *a = args;
	switch (opt) {
	case OPT_NAME:
		a->name = arg;
		return CLI_EXIT_OK;
	case OPT_MODE:
		if (!cli_parse_mode(arg, &a->mode)) {
			return cli_usage_error(g, "--mode wants test or live, got '%s'", arg);
		}
		return CLI_EXIT_OK;
	default:
		PW_ASSERT(!"option in the table without a handler");
		return CLI_EXIT_USAGE;
	}
}

static int
cli_merchant_check(void *args, cli_globals *g)
{
	cli_merchant_args *a = args;
	if (a->name == NULL) {
		return cli_usage_error(g, "--name is required");
	}
	if (a->mode == PW_MODE_UNSPECIFIED) {
		a->mode = PW_MODE_TEST;
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_merchant_call(cli_call *call, void *args, pw_error *err)
{
	const cli_merchant_args *a = args;
	pw_merchant m;
	pw_status st = pw_merchant_create(call->c, call->key, a->name, a->mode, &m, err);

	if (st == PW_OK) {
		cli_str(&call->out, "merchant_id", m.merchant_id);
		cli_str(&call->out, "name", m.name);
		cli_str(&call->out, "mode", pw_mode_name(m.mode));
		cli_str(&call->out, "api_key", m.api_key);
		call->note = "note: the api_key is shown once; store it now\n";
	}
	return st;
}

/* ---- key revoke ---- */

static const char cli_help_key_revoke[] =
    "usage: paywire key revoke API_KEY [--admin-key KEY]\n"
    "\n"
    "Revokes a merchant API key: calls made with it answer UNAUTHENTICATED from\n"
    "now on. Sessions it created are not touched.\n"
    "\n"
    "  API_KEY            the raw key to revoke (sk_test_... / sk_live_...)\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "Prints the merchant_id the key belonged to.\n"
    "\n"
    "example:\n"
    "  paywire key revoke sk_test_4f1c...\n"
    "\n"
    "A merchant's last active key is not revoked (FAILED_PRECONDITION): that\n"
    "would lock the merchant out. Create another first (paywire key create), or\n"
    "roll it (paywire key roll).\n";

/* ---- key create | list | roll (the merchant's own keys) ---- */

static const char cli_help_key_create[] =
    "usage: paywire key create [--mode test|live] [--api-key KEY]\n"
    "\n"
    "Makes another API key for the calling key's merchant (at most 10 active;\n"
    "a test key cannot make a live one). Prints it once: store it now.\n"
    "\n"
    "  --mode test|live   default: the calling key's mode\n"
    "  --api-key KEY      merchant API key (default: $PAYWIRE_API_KEY)\n";

static const char cli_help_key_list[] =
    "usage: paywire key list [--api-key KEY]\n"
    "\n"
    "Lists the merchant's API keys, newest first: id, prefix, last 4, mode,\n"
    "state (active, expiring, expired, revoked), expires and last used (with\n"
    "--json also created). Never a key.\n"
    "\n"
    "last used is the key's last successful authentication, \"never\" if none.\n"
    "The server keeps it in memory and writes it at most once a minute per key,\n"
    "so the stored time is to the minute and a server crash may lose up to\n"
    "about 70 s of it (a clean shutdown keeps it).\n";

static const char cli_help_key_roll[] =
    "usage: paywire key roll [--key-id ID] [--grace S | --now] [--api-key KEY]\n"
    "\n"
    "Replaces a key with a new one of the same mode and prints the new key\n"
    "once. The old key keeps working for the grace period, so services can\n"
    "switch without downtime, then stops.\n"
    "\n"
    "  --key-id ID        the key to roll (key_...; default: the calling key)\n"
    "  --grace S          seconds the old key keeps working (default 86400,\n"
    "                     at most 604800)\n"
    "  --now              the old key stops at once\n"
    "  --api-key KEY      merchant API key (default: $PAYWIRE_API_KEY)\n";

typedef struct cli_keys_args {
	const char *api_key;  /* --api-key, else $PAYWIRE_API_KEY */
	const char *mode;     /* --mode */
	const char *key_id;   /* --key-id */
	const char *grace;    /* --grace */
	bool now;             /* --now */
	pw_mode m;            /* parsed */
	int64_t g;            /* parsed */
} cli_keys_args;

static int
cli_keys_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_keys_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_MODE: a->mode = arg; break;
	case OPT_KEY_ID: a->key_id = arg; break;
	case OPT_GRACE: a->grace = arg; break;
	case OPT_NOW: a->now = true; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_keys_check(void *args, cli_globals *g)
{
	cli_keys_args *a = args;

	if (a->mode != NULL && !cli_parse_mode(a->mode, &a->m)) {
		return cli_usage_error(g, "--mode wants test or live, got '%s'", a->mode);
	}
	if (a->grace != NULL && a->now) {
		return cli_usage_error(g, "--grace and --now exclude each other");
	}
	if (a->grace != NULL &&
	    (!cli_parse_i64(a->grace, &a->g) || a->g < 1 || a->g > PW_APIKEY_GRACE_MAX_S)) {
		return cli_usage_error(g, "--grace wants seconds, 1..%d, got '%s'",
		    PW_APIKEY_GRACE_MAX_S, a->grace);
	}
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

static void
cli_key_rows(cli_out *o, bool json, const char *prefix, const pw_api_key_info *k)
{
	(void) prefix;
	cli_str(o, "key_id", k->key_id);
	cli_str(o, "key_prefix", k->key_prefix);
	cli_str(o, "last4", k->last4);
	cli_str(o, "mode", pw_mode_name(k->mode));
	cli_str(o, "state", k->state);
	cli_time(o, json ? "created_at_unix_ms" : "created_at", k->created_at_unix_ms);
	cli_time(o, json ? "expires_at_unix_ms" : "expires_at", k->expires_at_unix_ms);
	cli_time(o, json ? "last_used_at_unix_ms" : "last_used", k->last_used_at_unix_ms);
}

static pw_status
cli_key_create_call(cli_call *call, void *args, pw_error *err)
{
	const cli_keys_args *a = args;
	pw_api_key_new k;
	pw_status st = pw_apikey_create(call->c, a->api_key, a->m, &k, err);

	if (st == PW_OK) {
		cli_key_rows(&call->out, call->g->json, "", &k.key);
		cli_str(&call->out, "api_key", k.api_key);
		call->note = "note: the api_key is shown once; store it now\n";
	}
	sodium_memzero(k.api_key, sizeof(k.api_key));
	return st;
}

static pw_status
cli_key_roll_call(cli_call *call, void *args, pw_error *err)
{
	const cli_keys_args *a = args;
	pw_api_key_new k;
	pw_status st = pw_apikey_roll(call->c, a->api_key, a->key_id, (unsigned) a->g, a->now, &k,
	    err);
	cli_out *o = &call->out;

	if (st == PW_OK) {
		cli_key_rows(o, call->g->json, "", &k.key);
		cli_str(o, "api_key", k.api_key);
		cli_str(o, "rolled_key_id", k.rolled.key_id);
		cli_str(o, "rolled_state", k.rolled.state);
		cli_time(o, call->g->json ? "rolled_expires_at_unix_ms" : "rolled_expires_at",
		    k.rolled.expires_at_unix_ms);
		call->note = "note: the api_key is shown once; store it now\n";
	}
	sodium_memzero(k.api_key, sizeof(k.api_key));
	return st;
}

static pw_status
cli_key_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_keys_args *a = args;
	pw_api_key_list *l = malloc(sizeof(*l));
	pw_status st;

	if (l == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_apikey_list(call->c, a->api_key, l, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < l->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_key_rows(&one, true, "", &l->keys[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(&call->out, "keys", arr, "-");
	} else if (st == PW_OK) {
		printf("%-48s  %-12s  %-5s  %-4s  %-8s  %-20s  %s\n", "key_id", "prefix", "last4",
		    "mode", "state", "expires_at", "last_used");
		for (size_t i = 0; i < l->n; i++) {
			const pw_api_key_info *k = &l->keys[i];
			char when[40] = "-";
			char used[40] = "never";
			time_t secs = (time_t) (k->expires_at_unix_ms / 1000);
			time_t usecs = (time_t) (k->last_used_at_unix_ms / 1000);
			struct tm tm;

			if (k->expires_at_unix_ms > 0 && gmtime_r(&secs, &tm) != NULL) {
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			}
			if (k->last_used_at_unix_ms > 0 && gmtime_r(&usecs, &tm) != NULL) {
				strftime(used, sizeof(used), "%Y-%m-%dT%H:%M:%SZ", &tm);
			}
			printf("%-48s  %-12s  %-5s  %-4s  %-8s  %-20s  %s\n", k->key_id, k->key_prefix,
			    k->last4, pw_mode_name(k->mode), k->state, when, used);
		}
	}
	free(l);
	return st;
}

static pw_status
cli_key_revoke_call(cli_call *call, void *args, pw_error *err)
{
	char merchant_id[64];
	pw_status st;

	(void) args;
	st = pw_apikey_revoke(call->c, call->key, call->arg, merchant_id, err);
	if (st == PW_OK) {
		cli_str(&call->out, "merchant_id", merchant_id);
		cli_bool(&call->out, "revoked", true);
	}
	return st;
}

/* ---- session create ---- */

static const char cli_help_session_create[] =
    "usage: paywire session create (--amount DEC | --amount-minor N) --currency CODE\n"
    "           [--mode test|live] [--success-url URL] [--cancel-url URL]\n"
    "           [--email EMAIL] [--name NAME] [--customer-ref REF]\n"
    "           [--idempotency-key KEY] [--metadata KEY=VALUE]...\n"
    "           [--plan PLAN [--subscription] | --credits N | --package CODE]\n"
    "           [--expires-in S | --expires-at UNIX_S] [--provider stripe|razorpay]\n"
    "           [--request-id ID] [--api-key KEY]\n"
    "\n"
    "Creates a checkout session and prints it (id, url, status, amount, expiry).\n"
    "\n"
    "  --amount DEC           decimal amount, converted exactly with the currency's\n"
    "                         ISO 4217 exponent: 49.00 EUR -> 4900; more decimals\n"
    "                         than the currency has (49.001 EUR, 5.5 JPY) is a\n"
    "                         usage error and nothing is sent\n"
    "  --amount-minor N       amount in minor units as it is (4900 = 49.00 EUR)\n"
    "  --currency CODE        ISO 4217 code, upper case (EUR, JPY, KWD...)\n"
    "  --mode test|live       default: live for an sk_live_ key, else test\n"
    "  --success-url URL      where the customer goes after paying (http/https)\n"
    "  --cancel-url URL       where the customer goes after canceling\n"
    "  --email EMAIL          customer e-mail\n"
    "  --name NAME            customer name\n"
    "  --customer-ref REF     your reference for the customer\n"
    "  --idempotency-key KEY  same key + same parameters within 24 h -> the same\n"
    "                         session; same key + other parameters -> ABORTED\n"
    "  --metadata KEY=VALUE   repeatable, at most 50 entries\n"
    "  --plan PLAN            on payment, grant an access key for PLAN\n"
    "  --subscription         with --plan: sell PLAN as a subscription; the\n"
    "                         provider's invoices extend it, a failed one makes it\n"
    "                         past_due, the subscription's end revokes the key;\n"
    "                         3 days past a period end with no renewal reported\n"
    "                         the key reads lapsed (not valid) until one is\n"
    "  --credits N            on payment, add N credits to the customer's ledger\n"
    "  --package CODE         sell your credit package CODE (paywire credits package\n"
    "                         create): amount, currency and credits are the\n"
    "                         package's, so --amount/--amount-minor and --currency\n"
    "                         may be left out (given, they must equal the\n"
    "                         package's: else INVALID_ARGUMENT). An unknown code\n"
    "                         answers NOT_FOUND, an archived one FAILED_PRECONDITION\n"
    "  --expires-in S         unpaid after S seconds (60 .. 604800), the session\n"
    "                         is expired (default: 24 h). Counted from this\n"
    "                         machine's clock: re-running the command with the same\n"
    "                         --idempotency-key asks for another expiry (ABORTED);\n"
    "                         use --expires-at for commands you re-run\n"
    "  --expires-at UNIX_S    the same, as a Unix time in seconds\n"
    "  --provider P           stripe|razorpay: paywire creates the Checkout Session\n"
    "                         or Order too (provider_checkout_id, _url). On a provider\n"
    "                         error the session stays: the same --request-id finishes it\n"
    "  --request-id ID        request id (default: random); a retry with the same\n"
    "                         id gets the stored reply and creates nothing new\n"
    "  --api-key KEY          merchant API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "examples:\n"
    "  paywire session create --amount 49.00 --currency EUR --plan pro \\\n"
    "      --email jane@example.com --idempotency-key order-1001\n"
    "  paywire --json session create --amount-minor 500 --currency JPY --credits 100\n"
    "  paywire session create --amount 9.00 --currency EUR --plan pro --subscription \\\n"
    "      --customer-ref cust_42\n"
    "  paywire session create --package credits_100 --customer-ref cust_42\n";

typedef struct cli_session_args {
	const char *amount;                /* --amount, decimal text */
	const char *amount_minor;          /* --amount-minor, integer text */
	const char *credits;               /* --credits, integer text */
	const char *expires_in;            /* --expires-in, seconds */
	const char *expires_at;            /* --expires-at, Unix seconds */
	const char *provider;              /* --provider */
	const char *api_key;               /* --api-key */
	pw_kv md[PW_METADATA_ENTRIES_MAX]; /* --metadata entries (point into argv) */
	pw_session_params p;               /* everything else, as parsed */
} cli_session_args;

static int
cli_session_metadata(cli_session_args *a, cli_globals *g, char *arg)
{
	char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg) {
		return cli_usage_error(g, "--metadata wants KEY=VALUE, got '%s'", arg);
	}
	if (a->p.metadata_len == PW_METADATA_ENTRIES_MAX) {
		return cli_usage_error(g, "at most %d --metadata entries", PW_METADATA_ENTRIES_MAX);
	}
	*eq = '\0'; /* argv is ours: split in place */
	a->md[a->p.metadata_len].key = arg;
	a->md[a->p.metadata_len].value = eq + 1;
	a->p.metadata_len++;
	return CLI_EXIT_OK;
}

/* --expires-in / --expires-at -> p.expires_at_unix_ms (the server checks
 * the range against its own clock). */
static int
cli_session_expiry(cli_session_args *a, cli_globals *g)
{
	int64_t v = 0;

	if (a->expires_in != NULL && a->expires_at != NULL) {
		return cli_usage_error(g, "--expires-in and --expires-at exclude each other");
	}
	if (a->expires_in != NULL) {
		if (!cli_parse_i64(a->expires_in, &v) || v <= 0 ||
		    v > PW_SESSION_TTL_MAX_MS / 1000) {
			return cli_usage_error(g, "--expires-in wants seconds, 1..%lld, got '%s'",
			    (long long) (PW_SESSION_TTL_MAX_MS / 1000), a->expires_in);
		}
		a->p.expires_at_unix_ms = pw_now_unix_ms() + v * 1000;
	}
	if (a->expires_at != NULL) {
		if (!cli_parse_i64(a->expires_at, &v) || v <= 0 || v > INT64_MAX / 1000) {
			return cli_usage_error(g, "--expires-at wants a Unix time in seconds, got '%s'",
			    a->expires_at);
		}
		a->p.expires_at_unix_ms = v * 1000;
	}
	return CLI_EXIT_OK;
}

static int
cli_session_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_session_args *a = args;
	switch (opt) {
	case OPT_AMOUNT: a->amount = arg; break;
	case OPT_AMOUNT_MINOR: a->amount_minor = arg; break;
	case OPT_CURRENCY: a->p.currency = arg; break;
	case OPT_SUCCESS_URL: a->p.success_url = arg; break;
	case OPT_CANCEL_URL: a->p.cancel_url = arg; break;
	case OPT_EMAIL: a->p.customer_email = arg; break;
	case OPT_NAME: a->p.customer_name = arg; break;
	case OPT_CUSTOMER_REF: a->p.customer_ref = arg; break;
	case OPT_IDEMPOTENCY_KEY: a->p.idempotency_key = arg; break;
	case OPT_REQUEST_ID: a->p.request_id = arg; break;
	case OPT_PLAN: a->p.plan = arg; break;
	case OPT_SUBSCRIPTION: a->p.subscription = true; break;
	case OPT_CREDITS: a->credits = arg; break;
	case OPT_PACKAGE: a->p.credit_package = arg; break;
	case OPT_EXPIRES_IN: a->expires_in = arg; break;
	case OPT_EXPIRES_AT: a->expires_at = arg; break;
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_PROVIDER:
		if (strcmp(arg, "stripe") == 0) {
			a->p.provider = PW_WEBHOOK_STRIPE;
		} else if (strcmp(arg, "razorpay") == 0) {
			a->p.provider = PW_WEBHOOK_RAZORPAY;
		} else {
			return cli_usage_error(g, "--provider wants stripe or razorpay (paywire creates "
			                          "checkouts there only), got '%s'", arg);
		}
		break;
	case OPT_METADATA:
		return cli_session_metadata(a, g, arg);
	case OPT_MODE:
		if (!cli_parse_mode(arg, &a->p.mode)) {
			return cli_usage_error(g, "--mode wants test or live, got '%s'", arg);
		}
		break;
	default:
		PW_ASSERT(!"option in the table without a handler");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* --amount / --amount-minor -> amount_minor, exactly; no float anywhere. */
static int
cli_session_amount(cli_session_args *a, cli_globals *g)
{
	int exp;

	if (a->p.credit_package != NULL && a->amount == NULL && a->amount_minor == NULL) {
		return CLI_EXIT_OK; /* the package's amount (and currency, unless given) */
	}
	if (a->amount != NULL && a->amount_minor != NULL) {
		return cli_usage_error(g, "give exactly one of --amount and --amount-minor");
	}
	if (a->amount == NULL && a->amount_minor == NULL) {
		return cli_usage_error(g, "give exactly one of --amount and --amount-minor (or "
		                          "--package)");
	}
	if (a->p.currency == NULL) {
		return cli_usage_error(g, "--currency is required");
	}
	if (a->amount_minor != NULL) {
		if (!cli_parse_i64(a->amount_minor, &a->p.amount_minor)) {
			return cli_usage_error(g, "--amount-minor wants an integer, got '%s'",
			    a->amount_minor);
		}
		return CLI_EXIT_OK;
	}
	exp = pw_currency_exponent(a->p.currency);
	if (exp < 0) {
		return cli_usage_error(g,
		    "--amount needs a known ISO 4217 currency in upper case, not '%s' "
		    "(--amount-minor sends minor units as they are)",
		    a->p.currency);
	}
	if (pw_amount_parse(a->amount, strlen(a->amount), exp, &a->p.amount_minor) != PW_OK) {
		return cli_usage_error(g,
		    "--amount '%s' is not an exact %s amount (digits, at most %d decimal(s), "
		    "at most %lld minor units)",
		    a->amount, a->p.currency, exp, (long long) PW_AMOUNT_MINOR_MAX);
	}
	return CLI_EXIT_OK;
}

/* Checks the parsed flags and fills a->p; nothing is sent on failure. */
static int
cli_session_check(void *args, cli_globals *g)
{
	cli_session_args *a = args;
	int rv;

	rv = cli_session_amount(a, g);
	if (rv != CLI_EXIT_OK) {
		return rv;
	}
	if (a->p.plan != NULL && a->credits != NULL) {
		return cli_usage_error(g, "--plan and --credits exclude each other");
	}
	if (a->p.credit_package != NULL && a->p.plan != NULL) {
		return cli_usage_error(g, "--package sells credits: it excludes --plan");
	}
	if (a->p.subscription && a->p.plan == NULL) {
		return cli_usage_error(g, "--subscription sells a plan: it needs --plan");
	}
	if (a->credits != NULL && !cli_parse_i64(a->credits, &a->p.credits)) {
		return cli_usage_error(g, "--credits wants an integer, got '%s'", a->credits);
	}
	rv = cli_session_expiry(a, g);
	if (rv != CLI_EXIT_OK) {
		return rv;
	}
	a->p.fulfillment = a->p.plan != NULL ? PW_FULFILL_ACCESS_KEY
	    : a->credits != NULL             ? PW_FULFILL_CREDITS
	                                     : PW_FULFILL_NONE;
	a->p.metadata = a->p.metadata_len > 0 ? a->md : NULL;
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	if (a->api_key == NULL) {
		return cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY");
	}
	if (a->p.mode == PW_MODE_UNSPECIFIED) {
		/* The server wants a mode; the key's own prefix says which one
		 * it may create (the server still checks). */
		a->p.mode = strncmp(a->api_key, "sk_live_", 8) == 0 ? PW_MODE_LIVE : PW_MODE_TEST;
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_session_call(cli_call *call, void *args, pw_error *err)
{
	const cli_session_args *a = args;
	pw_session s;
	pw_status st = pw_session_create(call->c, a->api_key, &a->p, &s, err);
	cli_out *o = &call->out;

	if (st != PW_OK) {
		return st;
	}
	cli_session_rows(o, "id", s.id, s.merchant_id, s.status);
	cli_str(o, "payment_status", pw_payment_status_name(s.payment_status));
	cli_str(o, "mode", pw_mode_name(s.mode));
	cli_money_rows(o, s.amount_minor, s.currency);
	cli_str(o, "url", s.url);
	cli_str(o, "checkout_secret", s.checkout_secret);
	if (s.checkout_provider[0] != '\0') {
		cli_str(o, "checkout_provider", s.checkout_provider);
		cli_str(o, "provider_checkout_id", s.provider_checkout_id);
		cli_str(o, "provider_checkout_url", s.provider_checkout_url);
	}
	cli_str(o, "credit_package", s.credit_package);
	cli_time(o, call->g->json ? "created_at_unix_ms" : "created_at", s.created_at_unix_ms);
	cli_time(o, call->g->json ? "expires_at_unix_ms" : "expires_at", s.expires_at_unix_ms);
	return PW_OK;
}

/* ---- session cancel ---- */

static const char cli_help_session_cancel[] =
    "usage: paywire session cancel SESSION_ID [--api-key KEY]\n"
    "\n"
    "Cancels one of your sessions: a created or pending session becomes\n"
    "canceled, and a payment reported for it later is recorded as an anomaly,\n"
    "never as paid. A session in any other status (paid, failed, expired,\n"
    "canceled, refunded, disputed) answers FAILED_PRECONDITION and is not\n"
    "touched; another merchant's session answers NOT_FOUND.\n"
    "\n"
    "  SESSION_ID         the session (cs_...)\n"
    "  --api-key KEY      merchant API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "Prints the session, canceled.\n"
    "\n"
    "example:\n"
    "  paywire session cancel cs_0190f3c2a1b24f...\n";

typedef struct cli_cancel_args {
	const char *api_key; /* --api-key, else $PAYWIRE_API_KEY */
} cli_cancel_args;

static int
cli_cancel_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_cancel_args *a = args;

	(void) g;
	PW_ASSERT(opt == OPT_API_KEY);
	a->api_key = arg;
	return CLI_EXIT_OK;
}

static int
cli_cancel_check(void *args, cli_globals *g)
{
	cli_cancel_args *a = args;

	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	if (a->api_key == NULL) {
		return cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY");
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_cancel_call(cli_call *call, void *args, pw_error *err)
{
	const cli_cancel_args *a = args;
	pw_session s;
	pw_status st = pw_session_cancel(call->c, a->api_key, call->arg, &s, err);
	cli_out *o = &call->out;

	if (st != PW_OK) {
		return st;
	}
	cli_session_rows(o, "id", s.id, s.merchant_id, s.status);
	cli_str(o, "payment_status", pw_payment_status_name(s.payment_status));
	cli_money_rows(o, s.amount_minor, s.currency);
	return PW_OK;
}

/* ---- session get | list, invoice get | list (the merchant's own) ---- */

static const char cli_help_session_get[] =
    "usage: paywire session get SESSION_ID [--api-key KEY]\n"
    "\n"
    "Everything paywire holds of one of your sessions: its status as of now,\n"
    "amounts, customer, the provider references recorded (payment intent,\n"
    "charge, order, payment id, network:transaction:index), the paid ref, the\n"
    "invoice, the entitlement, the customer's access link, dispute and\n"
    "anomalies. Another merchant's session answers NOT_FOUND.\n";

static const char cli_help_session_list[] =
    "usage: paywire session list [--status S] [--from-ms T] [--to-ms T]\n"
    "           [--limit N] [--starting-after SESSION_ID] [--api-key KEY]\n"
    "\n"
    "Your sessions, newest first, one per line (id, status, amount, created).\n"
    "\n"
    "  --status S             created, pending, paid, failed, expired, canceled,\n"
    "                         refunded or disputed, as of now (an unpaid session\n"
    "                         past its expiry is expired)\n"
    "  --from-ms T, --to-ms T created between these Unix milliseconds (inclusive)\n"
    "  --limit N              1..100 (default 10)\n"
    "  --starting-after ID    the next page: the 'next' the previous page printed\n";

static const char cli_help_invoice_get[] =
    "usage: paywire invoice get NUMBER [--api-key KEY]\n"
    "\n"
    "One of your invoices (numbered from 1, gapless).\n";

static const char cli_help_invoice_list[] =
    "usage: paywire invoice list [--limit N] [--starting-after NUMBER] [--api-key KEY]\n"
    "\n"
    "Your invoices in number order, one per line.\n";

typedef struct cli_query_args {
	const char *api_key;        /* --api-key, else $PAYWIRE_API_KEY */
	const char *status;         /* --status */
	const char *from;           /* --from-ms */
	const char *to;             /* --to-ms */
	const char *limit;          /* --limit */
	const char *starting_after; /* --starting-after */
	const char *customer;       /* entitlement list: --customer */
	const char *return_url;     /* portal: --return-url */
	pw_session_filter f;        /* parsed */
	int64_t after;              /* invoices: parsed starting_after */
	int64_t lim;                /* parsed limit */
} cli_query_args;

static int
cli_query_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_query_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_STATUS: a->status = arg; break;
	case OPT_FROM_MS: a->from = arg; break;
	case OPT_TO_MS: a->to = arg; break;
	case OPT_LIMIT: a->limit = arg; break;
	case OPT_STARTING_AFTER: a->starting_after = arg; break;
	case OPT_CUSTOMER: a->customer = arg; break;
	case OPT_RETURN_URL: a->return_url = arg; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_query_check(void *args, cli_globals *g)
{
	cli_query_args *a = args;

	if (a->status != NULL) {
		bool found = false;
		for (int st = PW_SESSION_CREATED; st <= PW_SESSION_DISPUTED && !found; st++) {
			if (strcmp(a->status, pw_session_status_name((pw_session_status) st)) == 0) {
				a->f.status = (pw_session_status) st;
				found = true;
			}
		}
		if (!found) {
			return cli_usage_error(g, "--status wants created, pending, paid, failed, expired, "
			                          "canceled, refunded or disputed, got '%s'", a->status);
		}
	}
	if (a->from != NULL && (!cli_parse_i64(a->from, &a->f.created_from_unix_ms) ||
	    a->f.created_from_unix_ms < 0)) {
		return cli_usage_error(g, "--from-ms wants Unix milliseconds, got '%s'", a->from);
	}
	if (a->to != NULL && (!cli_parse_i64(a->to, &a->f.created_to_unix_ms) ||
	    a->f.created_to_unix_ms < 0)) {
		return cli_usage_error(g, "--to-ms wants Unix milliseconds, got '%s'", a->to);
	}
	if (a->limit != NULL &&
	    (!cli_parse_i64(a->limit, &a->lim) || a->lim < 1 || a->lim > PW_SESSION_PAGE_MAX)) {
		return cli_usage_error(g, "--limit wants 1..%d, got '%s'", PW_SESSION_PAGE_MAX, a->limit);
	}
	a->f.limit = (unsigned) a->lim;
	a->f.starting_after = a->starting_after;
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

static int
cli_invoice_list_check(void *args, cli_globals *g)
{
	cli_query_args *a = args;

	if (a->starting_after != NULL && (!cli_parse_i64(a->starting_after, &a->after) ||
	    a->after < 0)) {
		return cli_usage_error(g, "--starting-after wants an invoice number, got '%s'",
		    a->starting_after);
	}
	a->starting_after = NULL; /* a number here, not a session id */
	return cli_query_check(args, g);
}

static void
cli_when(char *buf, size_t size, int64_t unix_ms)
{
	time_t secs = (time_t) (unix_ms / 1000);
	struct tm tm;

	snprintf(buf, size, "-");
	if (unix_ms > 0 && gmtime_r(&secs, &tm) != NULL) {
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
}

static pw_status
cli_session_get_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	pw_session_detail *d = malloc(sizeof(*d));
	bool json = call->g->json;
	cli_out *o = &call->out;
	pw_status st;

	if (d == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_session_get(call->c, a->api_key, call->arg, d, err);
	if (st == PW_OK) {
		char refs[1024] = "";
		size_t used = 0;

		cli_session_rows(o, "id", d->session.id, d->session.merchant_id, d->session.status);
		cli_str(o, "payment_status", pw_payment_status_name(d->session.payment_status));
		cli_str(o, "mode", pw_mode_name(d->session.mode));
		cli_money_rows(o, d->session.amount_minor, d->session.currency);
		cli_int(o, "amount_refunded_minor", d->amount_refunded_minor);
		cli_str(o, "customer_email", d->customer_email);
		cli_str(o, "customer_ref", d->customer_ref);
		cli_str(o, "credit_package", d->session.credit_package);
		cli_str(o, "payment_provider", d->payment_provider);
		cli_str(o, "paid_ref", d->paid_ref);
		for (size_t i = 0; i < d->n_refs && used + 1 < sizeof(refs); i++) {
			int n = snprintf(refs + used, sizeof(refs) - used, "%s%s:%s", i > 0 ? " " : "",
			    d->refs[i].provider, d->refs[i].ref);
			used += n > 0 ? (size_t) n : 0;
		}
		cli_str(o, "refs", refs);
		cli_uint(o, "invoice_number", d->invoice_number);
		cli_str(o, "access_key_id", d->access_key_id);
		cli_bool(o, "entitlement_active", d->entitlement_active);
		cli_str(o, "access_link", d->access_link);
		cli_str(o, "url", d->session.url);
		cli_str(o, "checkout_secret", d->session.checkout_secret);
		if (d->session.checkout_provider[0] != '\0') {
			cli_str(o, "checkout_provider", d->session.checkout_provider);
			cli_str(o, "provider_checkout_id", d->session.provider_checkout_id);
			cli_str(o, "provider_checkout_url", d->session.provider_checkout_url);
		}
		cli_str(o, "dispute", d->dispute);
		cli_uint(o, "anomalies", d->anomalies);
		cli_str(o, "anomaly", d->anomaly);
		cli_time(o, json ? "created_at_unix_ms" : "created_at", d->session.created_at_unix_ms);
		cli_time(o, json ? "paid_at_unix_ms" : "paid_at", d->paid_at_unix_ms);
		cli_time(o, json ? "expires_at_unix_ms" : "expires_at", d->session.expires_at_unix_ms);
		cli_time(o, json ? "updated_at_unix_ms" : "updated_at", d->updated_at_unix_ms);
	}
	free(d);
	return st;
}

static pw_status
cli_session_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	pw_session_page *p = malloc(sizeof(*p));
	pw_status st;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_sessions_list(call->c, a->api_key, &a->f, p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->n; i++) {
			const pw_session *s = &p->sessions[i];
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I}", "id", s->id,
			    "status", pw_session_status_name(s->status), "payment_status",
			    pw_payment_status_name(s->payment_status), "amount_minor",
			    (json_int_t) s->amount_minor, "currency", s->currency, "created_at_unix_ms",
			    (json_int_t) s->created_at_unix_ms, "expires_at_unix_ms",
			    (json_int_t) s->expires_at_unix_ms));
		}
		cli_row(&call->out, "sessions", arr, "-");
		cli_bool(&call->out, "has_more", p->has_more);
		cli_str(&call->out, "next", p->next);
	} else if (st == PW_OK) {
		printf("%-47s  %-9s  %14s  %-4s  %s\n", "id", "status", "amount_minor", "cur",
		    "created_at");
		for (size_t i = 0; i < p->n; i++) {
			const pw_session *s = &p->sessions[i];
			char when[40];

			cli_when(when, sizeof(when), s->created_at_unix_ms);
			printf("%-47s  %-9s  %14lld  %-4s  %s\n", s->id, pw_session_status_name(s->status),
			    (long long) s->amount_minor, s->currency, when);
		}
		cli_bool(&call->out, "has_more", p->has_more);
		cli_str(&call->out, "next", p->next);
	}
	free(p);
	return st;
}

static void
cli_invoice_rows(cli_out *o, bool json, const pw_invoice *v)
{
	cli_uint(o, "number", v->number);
	cli_str(o, "session_id", v->session_id);
	cli_money_rows(o, v->amount_minor, v->currency);
	cli_str(o, "provider", v->provider);
	cli_str(o, "payment_ref", v->payment_ref);
	cli_str(o, "customer_email", v->customer_email);
	cli_str(o, "customer_name", v->customer_name);
	cli_time(o, json ? "issued_at_unix_ms" : "issued_at", v->issued_at_unix_ms);
}

static pw_status
cli_invoice_get_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	int64_t number = 0;
	pw_invoice v;
	pw_status st;

	if (!cli_parse_i64(call->arg, &number) || number < 1) {
		err->code = PW_INVALID_ARGUMENT;
		snprintf(err->message, sizeof(err->message),
		    "NUMBER wants an invoice number (1, 2, ...), got '%s'", call->arg);
		return PW_INVALID_ARGUMENT;
	}
	st = pw_invoice_get(call->c, a->api_key, (uint64_t) number, &v, err);
	if (st == PW_OK) {
		cli_invoice_rows(&call->out, call->g->json, &v);
	}
	return st;
}

static pw_status
cli_invoice_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	pw_invoice_page *p = malloc(sizeof(*p));
	pw_status st;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_invoices_list(call->c, a->api_key, (uint64_t) a->after, (unsigned) a->lim, p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_invoice_rows(&one, true, &p->invoices[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(&call->out, "invoices", arr, "-");
		cli_bool(&call->out, "has_more", p->has_more);
	} else if (st == PW_OK) {
		printf("%8s  %-47s  %14s  %-4s  %-8s  %s\n", "number", "session_id", "amount_minor",
		    "cur", "provider", "issued_at");
		for (size_t i = 0; i < p->n; i++) {
			const pw_invoice *v = &p->invoices[i];
			char when[40];

			cli_when(when, sizeof(when), v->issued_at_unix_ms);
			printf("%8llu  %-47s  %14lld  %-4s  %-8s  %s\n", (unsigned long long) v->number,
			    v->session_id, (long long) v->amount_minor, v->currency, v->provider, when);
		}
		cli_bool(&call->out, "has_more", p->has_more);
	}
	free(p);
	return st;
}

/* ---- entitlement list ---- */

static const char cli_help_entitlement_list[] =
    "usage: paywire entitlement list --customer REF [--limit N] [--starting-after ENT_ID]\n"
    "           [--api-key KEY]\n"
    "\n"
    "A customer's entitlements (access keys, subscriptions), one per line: id,\n"
    "plan, state (active, past_due, lapsed, canceled, revoked), whether the key grants\n"
    "the plan now, the end of a subscription's paid period, the key's prefix\n"
    "(never the key) and the paid sessions holding it. Revoked and canceled ones\n"
    "are listed too. REF is the customer_ref the sessions carried, else their\n"
    "e-mail. An unknown customer lists nothing, as does another merchant's.\n"
    "\n"
    "  --customer REF         required\n"
    "  --limit N              1..100 (default 10)\n"
    "  --starting-after ID    the last id of the previous page\n"
    "  --api-key KEY          merchant API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "example:\n"
    "  paywire --json entitlement list --customer cust_42\n";

static int
cli_entitlement_list_check(void *args, cli_globals *g)
{
	cli_query_args *a = args;

	if (a->customer == NULL) {
		return cli_usage_error(g, "--customer is required");
	}
	if (a->limit != NULL &&
	    (!cli_parse_i64(a->limit, &a->lim) || a->lim < 1 || a->lim > PW_ENTITLEMENT_PAGE_MAX)) {
		return cli_usage_error(g, "--limit wants 1..%d, got '%s'", PW_ENTITLEMENT_PAGE_MAX,
		    a->limit);
	}
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

/* One entitlement as JSON members of o. */
static void
cli_entitlement_rows(cli_out *o, const pw_entitlement *v)
{
	size_t n = v->n_sessions < PW_ENTITLEMENT_SESSIONS_MAX ? v->n_sessions
	                                                       : PW_ENTITLEMENT_SESSIONS_MAX;
	json_t *ids = json_array();

	PW_ASSERT(ids != NULL);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(ids, cli_json_string(v->session_ids[i]));
	}
	cli_str(o, "id", v->id);
	cli_str(o, "plan", v->plan);
	cli_str(o, "state", v->state);
	cli_bool(o, "active", v->active);
	cli_bool(o, "subscription", v->subscription);
	cli_int(o, "created_at_unix_ms", v->created_at_unix_ms);
	cli_int(o, "current_period_end_unix_ms", v->current_period_end_unix_ms);
	cli_int(o, "revoked_at_unix_ms", v->revoked_at_unix_ms);
	cli_str(o, "key_prefix", v->key_prefix);
	cli_str(o, "customer", v->customer);
	cli_uint(o, "holders", (uint64_t) v->n_sessions);
	cli_row(o, "session_ids", ids, "-");
}

static void
cli_entitlement_line(const pw_entitlement *v)
{
	char created[40], until[40];
	char holders[160] = "-";
	size_t n = v->n_sessions < PW_ENTITLEMENT_SESSIONS_MAX ? v->n_sessions
	                                                       : PW_ENTITLEMENT_SESSIONS_MAX;
	size_t len = 0;

	cli_when(created, sizeof(created), v->created_at_unix_ms);
	cli_when(until, sizeof(until), v->current_period_end_unix_ms);
	for (size_t i = 0; i < n && len + 2 < sizeof(holders); i++) {
		int w = snprintf(holders + len, sizeof(holders) - len, "%s%s", i > 0 ? "," : "",
		    v->session_ids[i]);
		len = w < 0 ? sizeof(holders) : len + (size_t) w;
	}
	printf("%-48s  %-16s  %-8s  %-6s  %-3s  %-20s  %-20s  %-12s  %s\n", v->id, v->plan, v->state,
	    v->active ? "yes" : "no", v->subscription ? "sub" : "-", created, until, v->key_prefix,
	    holders);
}

static pw_status
cli_entitlement_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	pw_entitlement_page *p = malloc(sizeof(*p));
	pw_status st;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_entitlements_get(call->c, a->api_key, a->customer, a->starting_after,
	    (unsigned) a->lim, p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_entitlement_rows(&one, &p->entitlements[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(&call->out, "entitlements", arr, "-");
		cli_bool(&call->out, "has_more", p->has_more);
	} else if (st == PW_OK) {
		printf("%-48s  %-16s  %-8s  %-6s  %-3s  %-20s  %-20s  %-12s  %s\n", "id", "plan",
		    "state", "active", "sub", "created_at", "period_end", "key_prefix", "sessions");
		for (size_t i = 0; i < p->n; i++) {
			cli_entitlement_line(&p->entitlements[i]);
		}
		cli_bool(&call->out, "has_more", p->has_more);
	}
	free(p);
	return st;
}

/* ---- anomalies list (money that needs a human) ---- */

static const char cli_help_anomalies_list[] =
    "usage: paywire anomalies list [--after SEQ] [--limit N] [--api-key KEY]\n"
    "\n"
    "Your anomalies, oldest first: payments, refunds or disputes paywire recorded\n"
    "but did not apply because they contradict the session (an underpayment,\n"
    "another currency or mode, a payment for an expired or canceled session, a\n"
    "second payment for a paid session, a refund over the amount). Each says\n"
    "what to do, usually: refund that payment at the provider. A refund of the\n"
    "anomalous payment shows as its resolution. Two lines each (seq, session,\n"
    "provider, ref, amount, time; then the action); --json: an array.\n"
    "\n"
    "  --after SEQ       only anomalies after this seq (the last of a page)\n"
    "  --limit N         at most N (1..100, default 10); has_more: there are more\n"
    "  --api-key KEY     merchant API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "example:\n"
    "  paywire anomalies list --limit 20 --after 1042\n";

typedef struct cli_anomaly_args {
	const char *api_key;   /* --api-key, else $PAYWIRE_API_KEY */
	const char *after;     /* --after */
	const char *limit;     /* --limit */
	int64_t a;             /* parsed after */
	int64_t lim;           /* parsed limit (0: the server's default) */
} cli_anomaly_args;

static int
cli_anomaly_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_anomaly_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_AFTER: a->after = arg; break;
	case OPT_LIMIT: a->limit = arg; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_anomaly_check(void *args, cli_globals *g)
{
	cli_anomaly_args *a = args;

	if (a->after != NULL && (!cli_parse_i64(a->after, &a->a) || a->a < 0)) {
		return cli_usage_error(g, "--after wants a seq (0, 1, ...), got '%s'", a->after);
	}
	if (a->limit != NULL &&
	    (!cli_parse_i64(a->limit, &a->lim) || a->lim < 1 || a->lim > PW_ANOMALY_PAGE_MAX)) {
		return cli_usage_error(g, "--limit wants 1..%d, got '%s'", PW_ANOMALY_PAGE_MAX, a->limit);
	}
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

static void
cli_anomaly_rows(cli_out *o, bool json, const pw_anomaly *v)
{
	cli_uint(o, "seq", v->seq);
	cli_str(o, "session_id", v->session_id);
	cli_str(o, "provider", v->provider);
	cli_str(o, "event_id", v->event_id);
	cli_str(o, "event_type", v->event_type);
	cli_str(o, "payment_ref", v->payment_ref);
	cli_str(o, "charge_ref", v->charge_ref);
	if (v->has_amount) {
		cli_money_rows(o, v->amount_minor, v->currency);
	}
	cli_str(o, "reason", v->reason);
	cli_str(o, "action", v->action);
	cli_time(o, json ? "created_at_unix_ms" : "created_at", v->created_at_unix_ms);
	cli_str(o, "resolution", v->resolution);
	cli_time(o, json ? "resolved_at_unix_ms" : "resolved_at", v->resolved_at_unix_ms);
}

static void
cli_anomaly_print(const pw_anomaly *v)
{
	char when[40];
	char amount[48] = "-";

	cli_when(when, sizeof(when), v->created_at_unix_ms);
	if (v->has_amount) {
		snprintf(amount, sizeof(amount), "%lld %s", (long long) v->amount_minor, v->currency);
	}
	printf("%8llu  %-47s  %-8s  %-28s  %16s  %s\n", (unsigned long long) v->seq, v->session_id,
	    v->provider, v->payment_ref[0] != '\0' ? v->payment_ref : (v->charge_ref[0] != '\0'
	        ? v->charge_ref : "-"), amount, when);
	printf("          action: %s\n", v->action);
	if (v->resolution[0] != '\0') {
		printf("          resolved: %s\n", v->resolution);
	}
}

static pw_status
cli_anomalies_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_anomaly_args *a = args;
	pw_anomaly_page *p = malloc(sizeof(*p));
	pw_status st;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_anomalies_list(call->c, a->api_key, (uint64_t) a->a, (unsigned) a->lim, p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_anomaly_rows(&one, true, &p->anomalies[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(&call->out, "anomalies", arr, "-");
		cli_bool(&call->out, "has_more", p->has_more);
	} else if (st == PW_OK) {
		printf("%8s  %-47s  %-8s  %-28s  %16s  %s\n", "seq", "session_id", "provider",
		    "payment_ref", "amount_minor", "created_at");
		for (size_t i = 0; i < p->n; i++) {
			cli_anomaly_print(&p->anomalies[i]);
		}
		cli_bool(&call->out, "has_more", p->has_more);
	}
	free(p);
	return st;
}

/* ---- events tail (the change feed) ---- */

static const char cli_help_events_tail[] =
    "usage: paywire events tail [--after SEQ] [--count N | --once] [--subscribe URL]\n"
    "           [--api-key KEY]\n"
    "\n"
    "Follows your change feed: every committed change (session created, paid,\n"
    "expired, canceled, refunded; credits; keys...) once, in seq order, one line\n"
    "each (seq type session detail; --json: one JSON object per line). It pages\n"
    "through ListEvents from --after, then waits for new events: woken at once by\n"
    "the server's --publish socket when --subscribe names it, else looking once\n"
    "a second. To resume after a stop, pass the last seq printed as --after:\n"
    "nothing is missed and nothing repeats.\n"
    "\n"
    "  --after SEQ       start after this seq (default 0: from the first event)\n"
    "  --count N         stop after N events (default: run until interrupted)\n"
    "  --once            print what is there now, then stop (no waiting)\n"
    "  --subscribe URL   the server's --publish URL (tcp://... or ipc://...)\n"
    "  --api-key KEY     merchant API key (default: $PAYWIRE_API_KEY)\n";

typedef struct cli_tail_args {
	const char *api_key;   /* --api-key, else $PAYWIRE_API_KEY */
	const char *after;     /* --after */
	const char *count;     /* --count */
	const char *subscribe; /* --subscribe */
	bool once;             /* --once */
	int64_t a;             /* parsed */
	int64_t n;             /* parsed (0: no end) */
} cli_tail_args;

static int
cli_tail_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_tail_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_AFTER: a->after = arg; break;
	case OPT_COUNT: a->count = arg; break;
	case OPT_SUBSCRIBE: a->subscribe = arg; break;
	case OPT_ONCE: a->once = true; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_tail_check(void *args, cli_globals *g)
{
	cli_tail_args *a = args;

	if (a->after != NULL && (!cli_parse_i64(a->after, &a->a) || a->a < 0)) {
		return cli_usage_error(g, "--after wants a seq (0, 1, ...), got '%s'", a->after);
	}
	if (a->count != NULL && (!cli_parse_i64(a->count, &a->n) || a->n < 1)) {
		return cli_usage_error(g, "--count wants a positive integer, got '%s'", a->count);
	}
	if (a->once && (a->count != NULL || a->subscribe != NULL)) {
		return cli_usage_error(g, "--once takes neither --count nor --subscribe");
	}
	if (a->subscribe != NULL && strncmp(a->subscribe, "tcp://", 6) != 0 &&
	    strncmp(a->subscribe, "ipc://", 6) != 0) {
		return cli_usage_error(g, "--subscribe takes tcp://HOST:PORT or ipc://PATH, got '%s'",
		    a->subscribe);
	}
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

static void
cli_event_print(const pw_event_info *e, bool json)
{
	if (json) {
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I}", "seq", (json_int_t) e->seq, "type",
		    e->type, "merchant_id", e->merchant_id, "session_id", e->session_id, "detail",
		    e->detail, "created_at_unix_ms", (json_int_t) e->created_at_unix_ms);
		char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		printf("%s\n", line != NULL ? line : "{}");
		free(line);
		json_decref(o);
	} else {
		printf("%llu %s %s %s\n", (unsigned long long) e->seq, e->type,
		    e->session_id[0] != '\0' ? e->session_id : "-", e->detail);
	}
	fflush(stdout);
}

/* Waits for the next event: a message on the SUB socket, or a second. */
static void
cli_tail_wait(nng_socket *sub, bool subscribed)
{
	if (subscribed) {
		nng_msg *m = NULL;
		if (nng_recvmsg(*sub, &m, 0) == 0) {
			nng_msg_free(m); /* a wake-up: the content comes from ListEvents */
		}
	} else {
		struct timespec ts = { 1, 0 };
		(void) nanosleep(&ts, NULL);
	}
}

static pw_status
cli_events_tail_call(cli_call *call, void *args, pw_error *err)
{
	const cli_tail_args *a = args;
	pw_event_page *p = malloc(sizeof(*p));
	uint64_t after = (uint64_t) a->a;
	int64_t left = a->n;
	nng_socket sub = NNG_SOCKET_INITIALIZER;
	bool subscribed = false;
	pw_status st = PW_OK;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	if (a->subscribe != NULL) {
		int rv = nng_sub0_open(&sub);
		if (rv == 0) {
			rv = nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
		}
		if (rv == 0) {
			rv = nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 1000);
		}
		if (rv == 0) {
			rv = nng_dial(sub, a->subscribe, NULL, NNG_FLAG_NONBLOCK);
		}
		if (rv != 0) {
			err->code = PW_UNAVAILABLE;
			snprintf(err->message, sizeof(err->message), "--subscribe %s: %s", a->subscribe,
			    nng_strerror(rv));
			free(p);
			(void) nng_close(sub);
			return PW_UNAVAILABLE;
		}
		subscribed = true;
	}
	while (a->n == 0 || left > 0) {
		st = pw_events_list(call->c, a->api_key, after, PW_EVENT_PAGE_MAX, p, err);
		if (st != PW_OK) {
			break;
		}
		for (size_t i = 0; i < p->n && (a->n == 0 || left > 0); i++) {
			cli_event_print(&p->events[i], call->g->json);
			after = p->events[i].seq;
			left--;
		}
		if (a->n != 0 && left <= 0) {
			break;
		}
		after = p->next_after_seq > after ? p->next_after_seq : after;
		if (!p->has_more && a->once) {
			break; /* all there is now */
		}
		if (!p->has_more) {
			cli_tail_wait(&sub, subscribed);
		}
	}
	if (subscribed) {
		(void) nng_close(sub);
	}
	free(p);
	return st;
}

/* ---- access verify (the merchant checks a customer's access key) ---- */

static const char cli_help_access_verify[] =
    "usage: paywire access verify [--api-key KEY]   (the access key on stdin)\n"
    "\n"
    "Tells whether a customer's access key (ak_test_.../ak_live_...) is valid\n"
    "for your merchant: for which customer and plan, since when, and why not\n"
    "(revoked after a refund or a lost dispute). An unknown key and another\n"
    "merchant's answer alike: valid no, \"unknown access key\". The key is read\n"
    "from standard input (one line), never from the command line, where other\n"
    "users of the machine could read it. Exit code 0 when valid, 1 when not.\n"
    "\n"
    "example:\n"
    "  printf '%s\\n' \"$AK\" | paywire access verify\n";

typedef struct cli_verify_args {
	const char *api_key;  /* --api-key, else $PAYWIRE_API_KEY */
	char ak[256];         /* the access key, from stdin */
} cli_verify_args;

static int
cli_verify_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_verify_args *a = args;

	(void) g;
	PW_ASSERT(opt == OPT_API_KEY);
	a->api_key = arg;
	return CLI_EXIT_OK;
}

static int
cli_verify_check(void *args, cli_globals *g)
{
	cli_verify_args *a = args;
	size_t len;

	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	if (a->api_key == NULL) {
		return cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY");
	}
	if (fgets(a->ak, sizeof(a->ak), stdin) == NULL) {
		return cli_usage_error(g, "no access key on standard input");
	}
	len = strcspn(a->ak, "\r\n");
	a->ak[len] = '\0';
	if (len == 0) {
		return cli_usage_error(g, "no access key on standard input");
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_verify_call(cli_call *call, void *args, pw_error *err)
{
	cli_verify_args *a = args;
	pw_access_check v;
	pw_status st = pw_access_key_verify(call->c, a->api_key, a->ak, &v, err);
	cli_out *o = &call->out;

	sodium_memzero(a->ak, sizeof(a->ak));
	if (st != PW_OK) {
		return st;
	}
	cli_bool(o, "valid", v.valid);
	cli_str(o, "reason", v.reason);
	cli_str(o, "state", v.state);
	cli_str(o, "entitlement_id", v.entitlement_id);
	cli_str(o, "session_id", v.session_id);
	cli_str(o, "customer", v.customer);
	cli_str(o, "plan", v.plan);
	cli_time(o, call->g->json ? "granted_at_unix_ms" : "granted_at", v.granted_at_unix_ms);
	cli_time(o, call->g->json ? "revoked_at_unix_ms" : "revoked_at", v.revoked_at_unix_ms);
	cli_time(o, call->g->json ? "until_unix_ms" : "until", v.until_unix_ms);
	call->exit_code = v.valid ? CLI_EXIT_OK : 1;
	return PW_OK;
}

/* ---- credit packages ---- */

static const char cli_help_package_create[] =
    "usage: paywire credits package create CODE --credits N\n"
    "           (--amount DEC | --amount-minor N) --currency CODE [--name NAME]\n"
    "           [--api-key KEY]\n"
    "\n"
    "Adds a credit package to your catalogue: N credits for the amount. A\n"
    "session sells it with 'paywire session create --package CODE'; its\n"
    "payment adds the credits to the customer's balance.\n"
    "Codes are immutable: the same CODE with the same parameters again prints\n"
    "the package (created: false); with another price, credits, currency or\n"
    "name, or an archived CODE, the answer is ALREADY_EXISTS. To change a\n"
    "price, archive the package and create another code: sessions already\n"
    "created keep their price.\n"
    "\n"
    "  CODE                   1..32 bytes of a-z, 0-9, _ and -\n"
    "  --credits N            credits sold, 1..1000000000\n"
    "  --amount DEC           the price, decimal, exact in the currency's exponent\n"
    "  --amount-minor N       the price in minor units (990 = 9.90 EUR)\n"
    "  --currency CODE        ISO 4217, upper case\n"
    "  --name NAME            display name, at most 128 bytes\n"
    "  --api-key KEY          merchant API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "At most 100 active packages, 1000 in all (archived ones count).\n"
    "\n"
    "example:\n"
    "  paywire credits package create credits_100 --credits 100 --amount 9.90 \\\n"
    "      --currency EUR --name '100 credits'\n";

static const char cli_help_package_archive[] =
    "usage: paywire credits package archive CODE [--api-key KEY]\n"
    "\n"
    "Archives one of your credit packages: no new session may sell it (they\n"
    "answer FAILED_PRECONDITION) and its code is never reused; sessions created\n"
    "with it keep their price and are paid as usual. Archiving an archived\n"
    "package changes nothing. An unknown CODE answers NOT_FOUND.\n";

static const char cli_help_package_list[] =
    "usage: paywire credits package list [--all] [--limit N] [--starting-after CODE]\n"
    "           [--api-key KEY]\n"
    "\n"
    "Lists your credit packages in code order.\n"
    "\n"
    "  --all                  archived ones too (default: active only)\n"
    "  --limit N              packages per page, 1..100 (default 10)\n"
    "  --starting-after CODE  the next page: codes after CODE (the last of a page)\n"
    "  --api-key KEY          merchant API key (default: $PAYWIRE_API_KEY)\n";

typedef struct cli_package_args {
	const char *api_key;        /* --api-key, else $PAYWIRE_API_KEY */
	const char *credits;        /* --credits */
	const char *amount;         /* --amount */
	const char *amount_minor;   /* --amount-minor */
	const char *currency;       /* --currency */
	const char *name;           /* --name */
	const char *limit;          /* --limit */
	const char *starting_after; /* --starting-after */
	bool all;                   /* --all */
	int64_t n;                  /* credits, parsed */
	int64_t minor;              /* the amount, parsed */
	int64_t lim;                /* limit, parsed (0: default) */
} cli_package_args;

static int
cli_package_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_package_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_CREDITS: a->credits = arg; break;
	case OPT_AMOUNT: a->amount = arg; break;
	case OPT_AMOUNT_MINOR: a->amount_minor = arg; break;
	case OPT_CURRENCY: a->currency = arg; break;
	case OPT_NAME: a->name = arg; break;
	case OPT_LIMIT: a->limit = arg; break;
	case OPT_STARTING_AFTER: a->starting_after = arg; break;
	case OPT_ALL: a->all = true; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_package_key(cli_package_args *a, cli_globals *g)
{
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

static int
cli_package_create_check(void *args, cli_globals *g)
{
	cli_package_args *a = args;
	int exp;

	if (a->credits == NULL) {
		return cli_usage_error(g, "--credits is required");
	}
	if (!cli_parse_i64(a->credits, &a->n) || a->n <= 0 || a->n > PW_CREDITS_MAX) {
		return cli_usage_error(g, "--credits wants an integer 1..%lld, got '%s'",
		    (long long) PW_CREDITS_MAX, a->credits);
	}
	if ((a->amount == NULL) == (a->amount_minor == NULL)) {
		return cli_usage_error(g, "give exactly one of --amount and --amount-minor");
	}
	if (a->currency == NULL) {
		return cli_usage_error(g, "--currency is required");
	}
	if (a->amount_minor != NULL && !cli_parse_i64(a->amount_minor, &a->minor)) {
		return cli_usage_error(g, "--amount-minor wants an integer, got '%s'", a->amount_minor);
	}
	if (a->amount != NULL) {
		exp = pw_currency_exponent(a->currency);
		if (exp < 0) {
			return cli_usage_error(g, "--amount needs a known ISO 4217 currency in upper "
			    "case, not '%s'", a->currency);
		}
		if (pw_amount_parse(a->amount, strlen(a->amount), exp, &a->minor) != PW_OK) {
			return cli_usage_error(g, "--amount '%s' is not an exact %s amount (at most %d "
			    "decimal(s))", a->amount, a->currency, exp);
		}
	}
	return cli_package_key(a, g);
}

static int
cli_package_list_check(void *args, cli_globals *g)
{
	cli_package_args *a = args;

	if (a->limit != NULL && (!cli_parse_i64(a->limit, &a->lim) || a->lim < 1 ||
	    a->lim > PW_CREDIT_PACKAGE_PAGE_MAX)) {
		return cli_usage_error(g, "--limit wants 1..%d, got '%s'", PW_CREDIT_PACKAGE_PAGE_MAX,
		    a->limit);
	}
	return cli_package_key(a, g);
}

static int
cli_package_archive_check(void *args, cli_globals *g)
{
	return cli_package_key(args, g);
}

static const char *
cli_package_state_name(pw_credit_package_state st)
{
	switch (st) {
	case PW_CREDIT_PACKAGE_ACTIVE: return "active";
	case PW_CREDIT_PACKAGE_ARCHIVED: return "archived";
	case PW_CREDIT_PACKAGE_UNSPECIFIED: break;
	}
	return "unspecified";
}

static void
cli_package_rows(cli_out *o, bool json, const pw_credit_package *p)
{
	cli_str(o, "code", p->code);
	cli_str(o, "name", p->name);
	cli_int(o, "credits", p->credits);
	cli_money_rows(o, p->amount_minor, p->currency);
	cli_str(o, "state", cli_package_state_name(p->state));
	cli_time(o, json ? "created_at_unix_ms" : "created_at", p->created_at_unix_ms);
	cli_time(o, json ? "archived_at_unix_ms" : "archived_at", p->archived_at_unix_ms);
}

static pw_status
cli_package_create_call(cli_call *call, void *args, pw_error *err)
{
	const cli_package_args *a = args;
	pw_credit_package p;
	pw_status st = pw_credit_package_create(call->c, a->api_key, call->arg, a->name, a->n,
	    a->minor, a->currency, &p, err);

	if (st == PW_OK) {
		cli_package_rows(&call->out, call->g->json, &p);
		cli_bool(&call->out, "created", p.created);
	}
	return st;
}

static pw_status
cli_package_archive_call(cli_call *call, void *args, pw_error *err)
{
	const cli_package_args *a = args;
	pw_credit_package p;
	pw_status st = pw_credit_package_archive(call->c, a->api_key, call->arg, &p, err);

	if (st == PW_OK) {
		cli_package_rows(&call->out, call->g->json, &p);
	}
	return st;
}

/* JSON: {"packages":[{...}, ...], "has_more":bool}. Text: one line per
 * package under a header, then has_more (and the next page's cursor). */
static pw_status
cli_package_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_package_args *a = args;
	pw_credit_package_page *page = malloc(sizeof(*page));
	cli_out *o = &call->out;
	pw_status st;

	if (page == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_credit_packages_list(call->c, a->api_key, a->starting_after, (unsigned) a->lim,
	    a->all, page, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < page->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_package_rows(&one, true, &page->packages[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(o, "packages", arr, "-");
		cli_bool(o, "has_more", page->has_more);
	} else if (st == PW_OK) {
		printf("%-32s  %10s  %14s  %-3s  %-8s  %s\n", "code", "credits", "amount_minor", "cur",
		    "state", "name");
		for (size_t i = 0; i < page->n; i++) {
			const pw_credit_package *p = &page->packages[i];
			printf("%-32s  %10lld  %14lld  %-3s  %-8s  %s\n", p->code, (long long) p->credits,
			    (long long) p->amount_minor, p->currency, cli_package_state_name(p->state),
			    p->name);
		}
		cli_bool(o, "has_more", page->has_more);
		if (page->has_more && page->n > 0) {
			cli_str(o, "next_starting_after", page->packages[page->n - 1].code);
		}
	}
	free(page);
	return st;
}

/* ---- credits ---- */

static const char cli_help_credits_deduct[] =
    "usage: paywire credits deduct CUSTOMER --credits N --idempotency-key KEY\n"
    "           [--description TEXT] [--api-key KEY]\n"
    "\n"
    "Spends N of a customer's prepaid credits (bought through sessions that\n"
    "sold credits). CUSTOMER is the customer_ref those sessions carried, else\n"
    "their e-mail. A balance below N answers FAILED_PRECONDITION with the\n"
    "balance, and nothing is deducted; concurrent deductions never overdraw.\n"
    "\n"
    "  --credits N            credits to spend, 1..1000000000\n"
    "  --idempotency-key KEY  required: the same key and parameters within 24 h\n"
    "                         answer the same entry without deducting again;\n"
    "                         other parameters -> ABORTED\n"
    "  --description TEXT     your words for the entry (at most 500 bytes)\n"
    "  --api-key KEY          merchant API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "Prints the ledger entry (seq, delta, balance after it).\n"
    "\n"
    "example:\n"
    "  paywire credits deduct cust_42 --credits 3 --idempotency-key export-981\n";

static const char cli_help_credits_balance[] =
    "usage: paywire credits balance CUSTOMER [--api-key KEY]\n"
    "\n"
    "Prints a customer's credit balance (0 for a customer without entries) and\n"
    "the number of its ledger entries.\n";

static const char cli_help_credits_list[] =
    "usage: paywire credits list CUSTOMER [--limit N] [--starting-after SEQ]\n"
    "           [--api-key KEY]\n"
    "\n"
    "Lists a customer's ledger entries, newest first: purchases, deductions\n"
    "and reversals (a refund of a purchase; what was already spent shows as\n"
    "its shortfall).\n"
    "\n"
    "  --limit N              entries per page, 1..100 (default 10)\n"
    "  --starting-after SEQ   the next page: entries older than SEQ (the last\n"
    "                         seq of the previous page)\n"
    "  --api-key KEY          merchant API key (default: $PAYWIRE_API_KEY)\n";

typedef struct cli_credits_args {
	const char *api_key;        /* --api-key, else $PAYWIRE_API_KEY */
	const char *credits;        /* --credits */
	const char *key;            /* --idempotency-key */
	const char *description;    /* --description */
	const char *limit;          /* --limit */
	const char *starting_after; /* --starting-after */
	int64_t n;                  /* credits, parsed */
	int64_t lim;                /* limit, parsed (0: default) */
	int64_t after;              /* starting_after, parsed */
} cli_credits_args;

static int
cli_credits_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_credits_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_CREDITS: a->credits = arg; break;
	case OPT_IDEMPOTENCY_KEY: a->key = arg; break;
	case OPT_DESCRIPTION: a->description = arg; break;
	case OPT_LIMIT: a->limit = arg; break;
	case OPT_STARTING_AFTER: a->starting_after = arg; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_credits_key(cli_credits_args *a, cli_globals *g)
{
	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	return a->api_key == NULL
	    ? cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY")
	    : CLI_EXIT_OK;
}

static int
cli_credits_deduct_check(void *args, cli_globals *g)
{
	cli_credits_args *a = args;

	if (a->credits == NULL) {
		return cli_usage_error(g, "--credits is required");
	}
	if (!cli_parse_i64(a->credits, &a->n) || a->n <= 0 || a->n > PW_CREDITS_MAX) {
		return cli_usage_error(g, "--credits wants an integer 1..%lld, got '%s'",
		    (long long) PW_CREDITS_MAX, a->credits);
	}
	if (a->key == NULL || a->key[0] == '\0') {
		return cli_usage_error(g, "--idempotency-key is required (a retried deduction must "
		                          "not deduct twice)");
	}
	return cli_credits_key(a, g);
}

static int
cli_credits_list_check(void *args, cli_globals *g)
{
	cli_credits_args *a = args;

	if (a->limit != NULL &&
	    (!cli_parse_i64(a->limit, &a->lim) || a->lim < 1 || a->lim > PW_CREDIT_PAGE_MAX)) {
		return cli_usage_error(g, "--limit wants 1..%d, got '%s'", PW_CREDIT_PAGE_MAX, a->limit);
	}
	if (a->starting_after != NULL &&
	    (!cli_parse_i64(a->starting_after, &a->after) || a->after < 1)) {
		return cli_usage_error(g, "--starting-after wants a seq (a positive integer), got '%s'",
		    a->starting_after);
	}
	return cli_credits_key(a, g);
}

static int
cli_credits_balance_check(void *args, cli_globals *g)
{
	return cli_credits_key(args, g);
}

static void
cli_credit_rows(cli_out *o, bool json, const pw_credit_txn *t)
{
	cli_uint(o, "seq", t->seq);
	cli_str(o, "customer", t->customer);
	cli_str(o, "kind", pw_credit_kind_name(t->kind));
	cli_int(o, "delta", t->delta);
	cli_int(o, "balance_after", t->balance_after);
	cli_int(o, "shortfall", t->shortfall);
	cli_str(o, "session_id", t->session_id);
	cli_str(o, "idempotency_key", t->idempotency_key);
	cli_str(o, "description", t->description);
	cli_time(o, json ? "created_at_unix_ms" : "created_at", t->created_at_unix_ms);
}

static pw_status
cli_credits_deduct_call(cli_call *call, void *args, pw_error *err)
{
	const cli_credits_args *a = args;
	pw_credit_txn t;
	pw_status st = pw_credits_deduct(call->c, a->api_key, call->arg, a->n, a->key,
	    a->description, &t, err);

	if (st == PW_OK) {
		cli_credit_rows(&call->out, call->g->json, &t);
	}
	return st;
}

static pw_status
cli_credits_balance_call(cli_call *call, void *args, pw_error *err)
{
	const cli_credits_args *a = args;
	pw_credit_balance b;
	pw_status st = pw_credits_balance(call->c, a->api_key, call->arg, &b, err);
	cli_out *o = &call->out;

	if (st == PW_OK) {
		cli_str(o, "customer", b.customer);
		cli_int(o, "balance", b.balance);
		cli_uint(o, "transactions", b.transactions);
		cli_time(o, call->g->json ? "updated_at_unix_ms" : "updated_at", b.updated_at_unix_ms);
	}
	return st;
}

/* JSON: {"transactions":[{...}, ...], "has_more":bool}. Text: one line per
 * entry under a header, then has_more (and the next page's cursor). */
static pw_status
cli_credits_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_credits_args *a = args;
	pw_credit_page *page = malloc(sizeof(*page));
	cli_out *o = &call->out;
	pw_status st;

	if (page == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_credits_list(call->c, a->api_key, call->arg, (uint64_t) a->after,
	    (unsigned) a->lim, page, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < page->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_credit_rows(&one, true, &page->txns[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(o, "transactions", arr, "-");
		cli_bool(o, "has_more", page->has_more);
	} else if (st == PW_OK) {
		printf("%6s  %-9s  %8s  %8s  %9s  %-24s  %s\n", "seq", "kind", "delta", "balance",
		    "shortfall", "created_at", "session / key / description");
		for (size_t i = 0; i < page->n; i++) {
			const pw_credit_txn *t = &page->txns[i];
			time_t secs = (time_t) (t->created_at_unix_ms / 1000);
			struct tm tm;
			char when[40] = "?";

			if (gmtime_r(&secs, &tm) != NULL) {
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			}
			printf("%6llu  %-9s  %+8lld  %8lld  %9lld  %-24s  %s%s%s%s%s\n",
			    (unsigned long long) t->seq, pw_credit_kind_name(t->kind),
			    (long long) t->delta, (long long) t->balance_after, (long long) t->shortfall,
			    when, t->session_id, t->idempotency_key,
			    t->description[0] != '\0' ? " \"" : "", t->description,
			    t->description[0] != '\0' ? "\"" : "");
		}
		cli_bool(o, "has_more", page->has_more);
		if (page->has_more && page->n > 0) {
			cli_uint(o, "next_starting_after", page->txns[page->n - 1].seq);
		}
	}
	free(page);
	return st;
}

/* ---- status ---- */

static const char cli_help_status[] =
    "usage: paywire status SESSION_ID [--secret CHECKOUT_SECRET]\n"
    "\n"
    "Shows a session: status, payment status, provider, amounts, times and invoice\n"
    "number. No key is needed: the session id (128 random bits) is the capability\n"
    "to see the status. With the session's checkout secret (cks_..., what the\n"
    "customer's checkout URL carries) it also shows the merchant's name, what is\n"
    "sold, the URLs and, once paid, the customer's access link.\n"
    "\n"
    "  --secret S         the checkout secret (a wrong one: UNAUTHENTICATED)\n"
    "\n"
    "example:\n"
    "  paywire status cs_0190f3c2a1b24f...\n"
    "  paywire --json status cs_0190f3c2a1b24f... --secret cks_...\n";

/* status and session test-pay: --secret, --fail */
typedef struct cli_secret_args {
	const char *secret;
	bool fail;
} cli_secret_args;

static int
cli_secret_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_secret_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_SECRET: a->secret = arg; break;
	case OPT_FAIL: a->fail = true; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_secret_check(void *args, cli_globals *g)
{
	const cli_secret_args *a = args;
	return a->secret == NULL ? cli_usage_error(g, "--secret is required (the checkout secret, "
	                                              "cks_...)")
	                         : CLI_EXIT_OK;
}

static pw_status
cli_status_call(cli_call *call, void *args, pw_error *err)
{
	const cli_secret_args *a = args;
	bool json = call->g->json;
	cli_out *o = &call->out;
	pw_status_info s;
	pw_status st;

	st = a->secret != NULL ? pw_checkout_status_get(call->c, call->arg, a->secret, &s, err)
	                       : pw_status_get(call->c, call->arg, &s, err);
	if (st != PW_OK) {
		return st;
	}
	cli_session_rows(o, "session_id", s.session_id, s.merchant_id, s.status);
	cli_str(o, "payment_status", pw_payment_status_name(s.payment_status));
	cli_str(o, "payment_provider", s.payment_provider);
	cli_str(o, "mode", pw_mode_name(s.mode));
	cli_money_rows(o, s.amount_minor, s.currency);
	cli_int(o, "amount_refunded_minor", s.amount_refunded_minor);
	cli_time(o, json ? "created_at_unix_ms" : "created_at", s.created_at_unix_ms);
	cli_time(o, json ? "paid_at_unix_ms" : "paid_at", s.paid_at_unix_ms);
	cli_time(o, json ? "expires_at_unix_ms" : "expires_at", s.expires_at_unix_ms);
	cli_uint(o, "invoice_number", s.invoice_number);
	if (a->secret != NULL) {
		cli_str(o, "merchant_name", s.merchant_name);
		cli_str(o, "plan", s.plan);
		cli_int(o, "credits", s.credits);
		cli_str(o, "credit_package", s.credit_package);
		cli_str(o, "success_url", s.success_url);
		cli_str(o, "cancel_url", s.cancel_url);
		cli_str(o, "access_link", s.access_link);
	}
	return PW_OK;
}

/* ---- session test-pay ---- */

static const char cli_help_session_test_pay[] =
    "usage: paywire session test-pay SESSION_ID --secret CHECKOUT_SECRET [--fail]\n"
    "\n"
    "What the \"Pay (test)\" and \"Fail (test)\" buttons of a test session's checkout\n"
    "page do: the server builds a Stripe-shaped event (checkout.session.completed,\n"
    "or with --fail payment_intent.payment_failed), signs it with its Stripe\n"
    "webhook secret and applies it through the webhook path. Test sessions only:\n"
    "a live session is refused (FAILED_PRECONDITION). A second pay is a duplicate.\n"
    "\n"
    "  --secret S    the session's checkout secret (from 'session create')\n"
    "  --fail        a declined payment instead of a successful one\n"
    "\n"
    "example:\n"
    "  paywire session test-pay cs_0190f3c2a1b24f... --secret cks_...\n";

static pw_status
cli_test_pay_call(cli_call *call, void *args, pw_error *err)
{
	const cli_secret_args *a = args;
	cli_out *o = &call->out;
	pw_webhook_result r;
	pw_status st = pw_test_payment(call->c, call->arg, a->secret, a->fail, &r, err);

	if (st != PW_OK) {
		return st;
	}
	cli_str(o, "outcome", pw_webhook_outcome_name(r.outcome));
	cli_str(o, "session_id", r.session_id);
	cli_str(o, "event_id", r.event_id);
	cli_str(o, "event_type", r.event_type);
	cli_str(o, "session_status", pw_session_status_name(r.session_status));
	cli_uint(o, "invoice_number", r.invoice_number);
	cli_str(o, "reason", r.reason);
	return PW_OK;
}

/* ---- access reissue ---- */

static const char cli_help_access_reissue[] =
    "usage: paywire access reissue SESSION_ID [--api-key KEY]\n"
    "\n"
    "Your customer lost the access key of a paid session: a new key replaces it\n"
    "(the old one then verifies as replaced) and a new access link replaces the\n"
    "old one (which then opens nothing). Send the new link to the customer: it\n"
    "reveals the new key once, on a button press. The key itself is never shown\n"
    "to you. Refused (FAILED_PRECONDITION) for a session that sold no key or whose\n"
    "key is revoked (refunded, disputed).\n"
    "\n"
    "  --api-key KEY    your API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "example:\n"
    "  paywire access reissue cs_0190f3c2a1b24f...\n";

static pw_status
cli_reissue_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	cli_out *o = &call->out;
	pw_access_reissue r;
	pw_status st = pw_access_key_reissue(call->c, a->api_key, call->arg, &r, err);

	if (st != PW_OK) {
		return st;
	}
	cli_str(o, "session_id", r.session_id);
	cli_str(o, "entitlement_id", r.entitlement_id);
	cli_str(o, "key_prefix", r.key_prefix);
	cli_str(o, "access_link", r.access_link);
	call->note = "note: the access_link is relative: prefix the bridge's public URL and send it "
	             "to your customer\n";
	return PW_OK;
}

/* ---- refund ---- */

static const char cli_help_refund[] =
    "usage: paywire refund SESSION_ID --idempotency-key KEY [--amount-minor N]\n"
    "           [--reason duplicate|fraudulent|requested_by_customer] [--request-id ID]\n"
    "           [--api-key KEY]\n"
    "\n"
    "Refunds a paid Stripe or Razorpay session at the provider, with your\n"
    "credentials for the session's mode. paywire records the request (its amount\n"
    "reserved: two requests never refund more than was paid), makes the refund\n"
    "at the provider (idempotent: a retry never refunds twice) and records it as\n"
    "pending; the session becomes refunded (or partially refunded) when the\n"
    "provider's webhook confirms it. Prints the refund: id, state (requested,\n"
    "pending, failed), amount, provider_refund_id.\n"
    "\n"
    "  --idempotency-key KEY  required: the same key and parameters answer the same\n"
    "                         refund; other parameters ABORTED\n"
    "  --amount-minor N       minor units to refund (default: all that is left)\n"
    "  --reason R             duplicate, fraudulent or requested_by_customer\n"
    "  --request-id ID        request id (default: random). When the provider did not\n"
    "                         answer (UNAVAILABLE), run the command again with the same\n"
    "                         --request-id to finish the same refund\n"
    "  --api-key KEY          your API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "Exit 1 with the provider's reason when it refused (the refund is recorded\n"
    "failed and its amount is free again).\n"
    "\n"
    "example:\n"
    "  paywire refund cs_0190f3c2a1b24f... --amount-minor 1900 --idempotency-key rma-77\n";

typedef struct cli_refund_args {
	const char *api_key;
	const char *amount;
	pw_refund_params p;
} cli_refund_args;

static int
cli_refund_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_refund_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_AMOUNT_MINOR: a->amount = arg; break;
	case OPT_IDEMPOTENCY_KEY: a->p.idempotency_key = arg; break;
	case OPT_REASON: a->p.reason = arg; break;
	case OPT_REQUEST_ID: a->p.request_id = arg; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_refund_check(void *args, cli_globals *g)
{
	cli_refund_args *a = args;

	if (a->p.idempotency_key == NULL) {
		return cli_usage_error(g, "--idempotency-key is required: a retried refund must not "
		                          "refund twice");
	}
	if (a->amount != NULL && (!cli_parse_i64(a->amount, &a->p.amount_minor) ||
	                             a->p.amount_minor <= 0)) {
		return cli_usage_error(g, "--amount-minor wants a positive integer, got '%s'", a->amount);
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_refund_call(cli_call *call, void *args, pw_error *err)
{
	cli_refund_args *a = args;
	cli_out *o = &call->out;
	pw_refund r;
	pw_status st;

	a->p.session_id = call->arg;
	st = pw_payment_refund(call->c, a->api_key, &a->p, &r, err);
	if (st != PW_OK) {
		return st;
	}
	cli_str(o, "id", r.id);
	cli_str(o, "session_id", r.session_id);
	cli_str(o, "state", r.state);
	cli_money_rows(o, r.amount_minor, r.currency);
	cli_str(o, "provider", r.provider);
	cli_str(o, "payment_ref", r.payment_ref);
	cli_str(o, "provider_refund_id", r.provider_refund_id);
	cli_str(o, "reason", r.reason);
	cli_str(o, "failure_reason", r.failure_reason);
	return PW_OK;
}

/* ---- plan price ---- */

static const char cli_help_plan_price[] =
    "usage: paywire plan price PLAN --stripe-price price_... [--mode test|live] [--api-key KEY]\n"
    "       paywire plan price PLAN --delete [--mode test|live] [--api-key KEY]\n"
    "\n"
    "Your Stripe Price for a plan: the Stripe checkouts paywire creates for sessions\n"
    "selling PLAN (session create --plan PLAN --provider stripe) then sell this\n"
    "Price instead of an amount of their own. Its amount, currency and recurrence\n"
    "are Stripe's: keep them equal to the sessions' (a payment of another amount is\n"
    "recorded as an anomaly). --mode: default your key's (a test key sets test only).\n"
    "\n"
    "example:\n"
    "  paywire plan price pro --stripe-price price_1PwProMonthly\n";

typedef struct cli_plan_args {
	const char *api_key;
	const char *price;
	bool del;
	pw_mode mode;
} cli_plan_args;

static int
cli_plan_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_plan_args *a = args;

	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_STRIPE_PRICE: a->price = arg; break;
	case OPT_DELETE: a->del = true; break;
	case OPT_MODE:
		if (!cli_parse_mode(arg, &a->mode)) {
			return cli_usage_error(g, "--mode wants test or live, got '%s'", arg);
		}
		break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_plan_check(void *args, cli_globals *g)
{
	cli_plan_args *a = args;

	if ((a->price != NULL) == a->del) {
		return cli_usage_error(g, "give exactly one of --stripe-price and --delete");
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_plan_call(cli_call *call, void *args, pw_error *err)
{
	cli_plan_args *a = args;
	pw_plan_price p;
	pw_status st = pw_plan_price_set(call->c, a->api_key, call->arg, a->mode,
	    a->del ? "" : a->price, &p, err);

	if (st != PW_OK) {
		return st;
	}
	cli_str(&call->out, "plan", p.plan);
	cli_str(&call->out, "mode", pw_mode_name(p.mode));
	cli_str(&call->out, "stripe_price_id", p.stripe_price_id);
	return PW_OK;
}

/* ---- notify: endpoints and messages (issue 11, docs/NOTIFY.md) ---- */

#define CLI_NOTIFY_API_KEY "  --api-key KEY      merchant API key (default: $PAYWIRE_API_KEY)\n"

static const char cli_help_notify_ep_create[] =
    "usage: paywire notify endpoint create --url URL [--type TYPE]... [--description TEXT]\n"
    "                                      [--kind webhook|email|telegram] [--api-key KEY]\n"
    "\n"
    "A new endpoint: paywire POSTs the events you choose to URL as Standard Webhooks\n"
    "(webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of\n"
    "id.timestamp.body>), at least once, retried for about 3 days. The signing\n"
    "secret (whsec_...) is printed this once: keep it.\n"
    "  --url URL          https:// (http:// only if the server allows it); hosts on\n"
    "                     loopback, link-local or private addresses are refused\n"
    "  --type TYPE        an event type to receive (repeat; none: every type):\n"
    "                     session.paid session.failed session.expired session.canceled\n"
    "                     session.refunded entitlement.granted entitlement.revoked\n"
    "                     entitlement.past_due credits.changed endpoint.disabled\n"
    "  --description TEXT for you\n"
    "  --kind KIND        webhook (default); email: URL is an address (local@domain),\n"
    "                     sent a short text through the server's relay; telegram: URL\n"
    "                     is a chat id (-100... or @channel) the server's bot writes to.\n"
    "                     Both need the server configured for them (docs/NOTIFY.md)\n"
    CLI_NOTIFY_API_KEY
    "\n"
    "example:\n"
    "  paywire notify endpoint create --url https://shop.example/hooks --type session.paid\n"
    "  paywire notify endpoint create --kind email --url owner@shop.example --type session.paid\n";

static const char cli_help_notify_ep_list[] =
    "usage: paywire notify endpoint list [--api-key KEY]\n\nYour endpoints (never their secrets).\n"
    CLI_NOTIFY_API_KEY;

static const char cli_help_notify_ep_update[] =
    "usage: paywire notify endpoint update EP [--enable|--disable] [--type TYPE]...\n"
    "                                      [--all-types] [--description TEXT] [--api-key KEY]\n"
    "\n"
    "Changes an endpoint: --enable (after paywire disabled it, or you did), --disable,\n"
    "--type (replaces its types; repeat), --all-types (every type), --description.\n"
    CLI_NOTIFY_API_KEY;

static const char cli_help_notify_ep_delete[] =
    "usage: paywire notify endpoint delete EP [--api-key KEY]\n\n"
    "Deletes an endpoint; its undelivered messages become dead letters.\n" CLI_NOTIFY_API_KEY;

static const char cli_help_notify_ep_rotate[] =
    "usage: paywire notify endpoint rotate EP [--grace-ms N] [--api-key KEY]\n"
    "\n"
    "A new signing secret, printed this once. For --grace-ms (default 86400000, 24 h;\n"
    "at most 7 days) deliveries carry both signatures (\"v1,<new> v1,<old>\"), so\n"
    "receivers can switch without losing a message.\n" CLI_NOTIFY_API_KEY;

static const char cli_help_notify_list[] =
    "usage: paywire notify list [--dead] [--endpoint EP] [--limit N] [--api-key KEY]\n"
    "\n"
    "Messages waiting in the outbox (attempts, next attempt, last error), or with\n"
    "--dead the dead letters: messages whose retries ran out (after 5s, 5m, 30m, 2h,\n"
    "5h, 10h, 14h, 20h, 24h), whose endpoint answered 410 Gone or was disabled.\n"
    "  --limit N          1..100 (default 100)\n" CLI_NOTIFY_API_KEY;

static const char cli_help_notify_retry[] =
    "usage: paywire notify retry MSG_ID [--api-key KEY]\n\n"
    "A dead letter back into the outbox, sent now (same webhook-id).\n" CLI_NOTIFY_API_KEY;

static const char cli_help_notify_replay[] =
    "usage: paywire notify replay --since TIME [--endpoint EP] [--api-key KEY]\n"
    "\n"
    "Sends your events since TIME again (from the audit log), to EP or to every\n"
    "active endpoint that wants them, each with the webhook-id it had the first time\n"
    "(one per event and endpoint), so receivers that dedupe see each event once.\n"
    "Messages still in the outbox are left as they are.\n"
    "  --since TIME       Unix milliseconds, or 2026-12-06T10:00:00Z\n" CLI_NOTIFY_API_KEY;

typedef struct cli_notify_args {
	const char *api_key;
	const char *url;
	const char *types[PW_ENDPOINT_TYPES_MAX + 1];
	size_t n_types;
	bool types_set;
	const char *description;
	const char *kind;
	int enable;
	const char *grace;
	bool dead;
	const char *endpoint;
	const char *limit;
	const char *since;
	int64_t since_ms;
} cli_notify_args;

static int
cli_notify_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_notify_args *a = args;

	switch (opt) {
	case OPT_API_KEY: a->api_key = arg; break;
	case OPT_URL: a->url = arg; break;
	case OPT_TYPE:
		if (a->n_types > PW_ENDPOINT_TYPES_MAX) {
			return cli_usage_error(g, "at most %d --type", PW_ENDPOINT_TYPES_MAX);
		}
		a->types[a->n_types++] = arg;
		a->types_set = true;
		break;
	case OPT_ALL_TYPES: a->types_set = true; break;
	case OPT_DESCRIPTION: a->description = arg; break;
	case OPT_KIND: a->kind = arg; break;
	case OPT_ENABLE: a->enable = 1; break;
	case OPT_DISABLE: a->enable = 2; break;
	case OPT_GRACE_MS: a->grace = arg; break;
	case OPT_DEAD: a->dead = true; break;
	case OPT_ENDPOINT: a->endpoint = arg; break;
	case OPT_LIMIT: a->limit = arg; break;
	case OPT_SINCE: a->since = arg; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

/* Unix ms, or YYYY-MM-DDTHH:MM:SS[.mmm]Z. */
static bool
cli_parse_when(const char *s, int64_t *out)
{
	struct tm tm;
	const char *rest;
	int ms = 0;

	if (cli_parse_i64(s, out)) {
		return *out > 0;
	}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL) {
		return false;
	}
	if (rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
	    rest[3] >= '0' && rest[3] <= '9') {
		ms = (rest[1] - '0') * 100 + (rest[2] - '0') * 10 + (rest[3] - '0');
		rest += 4;
	}
	if (strcmp(rest, "Z") != 0) {
		return false;
	}
	*out = (int64_t) timegm(&tm) * 1000 + ms;
	return *out > 0;
}

static int
cli_notify_check(void *args, cli_globals *g)
{
	cli_notify_args *a = args;

	a->api_key = cli_key(a->api_key, "PAYWIRE_API_KEY");
	if (a->api_key == NULL) {
		return cli_usage_error(g, "no API key: pass --api-key or set PAYWIRE_API_KEY");
	}
	if (a->since != NULL && !cli_parse_when(a->since, &a->since_ms)) {
		return cli_usage_error(g, "--since wants Unix milliseconds or YYYY-MM-DDTHH:MM:SSZ, "
		                          "got '%s'", a->since);
	}
	if (a->limit != NULL) {
		uint32_t v;
		if (!cli_parse_u32(a->limit, 1, PW_NOTIFY_PAGE_MAX, &v)) {
			return cli_usage_error(g, "--limit wants 1..%d", PW_NOTIFY_PAGE_MAX);
		}
	}
	return CLI_EXIT_OK;
}

static void
cli_endpoint_rows(cli_out *o, const pw_endpoint *e)
{
	char types[PW_ENDPOINT_TYPES_MAX * 34 + 8];
	size_t n = 0;

	types[0] = '\0';
	for (size_t i = 0; i < e->n_event_types; i++) {
		n += (size_t) snprintf(types + n, sizeof(types) - n, "%s%s", i > 0 ? "," : "",
		    e->event_types[i]);
	}
	cli_str(o, "endpoint_id", e->endpoint_id);
	cli_str(o, "url", e->url);
	cli_str(o, "event_types", e->n_event_types > 0 ? types : "all");
	cli_str(o, "description", e->description);
	cli_bool(o, "enabled", e->enabled);
	cli_str(o, "disabled_reason", e->disabled_reason);
	cli_time(o, "failing_since", e->failing_since_unix_ms);
	cli_time(o, "created_at", e->created_at_unix_ms);
	cli_time(o, "prev_secret_expires_at", e->prev_secret_expires_at_unix_ms);
}

static pw_status
cli_notify_ep_create_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_endpoint_params p = { .url = a->url, .event_types = a->types, .n_event_types = a->n_types,
		.description = a->description };
	pw_endpoint_secret out;
	pw_status st;

	if (a->kind != NULL) {
		p.kind = strcmp(a->kind, "webhook") == 0 ? PW_NOTIFY_KIND_WEBHOOK
		    : strcmp(a->kind, "email") == 0      ? PW_NOTIFY_KIND_EMAIL
		    : strcmp(a->kind, "telegram") == 0   ? PW_NOTIFY_KIND_TELEGRAM
		                                         : (pw_notify_kind) 99;
	}
	st = pw_endpoint_create(call->c, a->api_key, &p, &out, err);
	if (st == PW_OK) {
		cli_endpoint_rows(&call->out, &out.endpoint);
		cli_str(&call->out, "secret", out.secret);
		call->note = "the secret is shown this once: keep it (it signs every delivery)";
	}
	sodium_memzero(out.secret, sizeof(out.secret));
	return st;
}

static pw_status
cli_notify_ep_list_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_endpoint_list *l = malloc(sizeof(*l));
	pw_status st;

	if (l == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_endpoint_list_get(call->c, a->api_key, l, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < l->n; i++) {
			const pw_endpoint *e = &l->endpoints[i];
			json_t *types = json_array();
			for (size_t k = 0; k < e->n_event_types; k++) {
				json_array_append_new(types, json_string(e->event_types[k]));
			}
			json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:s,s:b,s:s,s:I,s:I}",
			    "endpoint_id", e->endpoint_id, "url", e->url, "event_types", types,
			    "description", e->description, "enabled", e->enabled, "disabled_reason",
			    e->disabled_reason, "failing_since_unix_ms", (json_int_t) e->failing_since_unix_ms,
			    "created_at_unix_ms", (json_int_t) e->created_at_unix_ms));
		}
		cli_row(&call->out, "endpoints", arr, "-");
	} else if (st == PW_OK) {
		printf("%-47s  %-8s  %s\n", "endpoint_id", "enabled", "url");
		for (size_t i = 0; i < l->n; i++) {
			printf("%-47s  %-8s  %s\n", l->endpoints[i].endpoint_id,
			    l->endpoints[i].enabled ? "yes" : "no", l->endpoints[i].url);
		}
	}
	free(l);
	return st;
}

static pw_status
cli_notify_ep_update_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_endpoint_changes p = { .endpoint_id = call->arg, .enable = a->enable,
		.set_event_types = a->types_set, .event_types = a->types, .n_event_types = a->n_types,
		.set_description = a->description != NULL, .description = a->description };
	pw_endpoint out;
	pw_status st = pw_endpoint_update(call->c, a->api_key, &p, &out, err);

	if (st == PW_OK) {
		cli_endpoint_rows(&call->out, &out);
	}
	return st;
}

static pw_status
cli_notify_ep_delete_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_endpoint out;
	pw_status st = pw_endpoint_delete(call->c, a->api_key, call->arg, &out, err);

	if (st == PW_OK) {
		cli_str(&call->out, "endpoint_id", out.endpoint_id);
		cli_bool(&call->out, "deleted", true);
	}
	return st;
}

static pw_status
cli_notify_ep_rotate_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_endpoint_secret out;
	int64_t grace = 0;
	pw_status st;

	if (a->grace != NULL && !cli_parse_i64(a->grace, &grace)) {
		err->code = PW_INVALID_ARGUMENT;
		snprintf(err->message, sizeof(err->message), "--grace-ms wants milliseconds");
		return PW_INVALID_ARGUMENT;
	}
	st = pw_endpoint_rotate(call->c, a->api_key, call->arg, grace, &out, err);
	if (st == PW_OK) {
		cli_endpoint_rows(&call->out, &out.endpoint);
		cli_str(&call->out, "secret", out.secret);
		call->note = "the new secret is shown this once; the old one signs too until "
		             "prev_secret_expires_at";
	}
	sodium_memzero(out.secret, sizeof(out.secret));
	return st;
}

static pw_status
cli_notify_list_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_notify_page *p = malloc(sizeof(*p));
	uint32_t limit = 0;
	pw_status st;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	if (a->limit != NULL) {
		(void) cli_parse_u32(a->limit, 1, PW_NOTIFY_PAGE_MAX, &limit); /* checked */
	}
	st = pw_notify_list(call->c, a->api_key, a->dead, a->endpoint, limit, p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->n; i++) {
			const pw_notify_message *m = &p->messages[i];
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:i,s:s,s:b}",
			    "msg_id", m->msg_id, "endpoint_id", m->endpoint_id, "event_type", m->event_type,
			    "attempts", (json_int_t) m->attempts, "next_attempt_at_unix_ms",
			    (json_int_t) m->next_attempt_at_unix_ms, "created_at_unix_ms",
			    (json_int_t) m->created_at_unix_ms, "dead_at_unix_ms",
			    (json_int_t) m->dead_at_unix_ms, "last_status", m->last_status, "last_error",
			    m->last_error, "dead", m->dead));
		}
		cli_row(&call->out, "messages", arr, "-");
		cli_bool(&call->out, "has_more", p->has_more);
	} else if (st == PW_OK) {
		printf("%-36s  %-20s  %8s  %-24s  %s\n", "msg_id", "event_type", "attempts",
		    a->dead ? "dead_at" : "next_attempt_at", "last_error");
		for (size_t i = 0; i < p->n; i++) {
			const pw_notify_message *m = &p->messages[i];
			char when[40];

			cli_when(when, sizeof(when), a->dead ? m->dead_at_unix_ms : m->next_attempt_at_unix_ms);
			printf("%-36s  %-20s  %8u  %-24s  %s\n", m->msg_id, m->event_type, m->attempts, when,
			    m->last_error[0] != '\0' ? m->last_error : "-");
		}
		cli_bool(&call->out, "has_more", p->has_more);
	}
	free(p);
	return st;
}

static pw_status
cli_notify_retry_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_notify_message *m = malloc(sizeof(*m));
	pw_status st;

	if (m == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_notify_retry(call->c, a->api_key, call->arg, m, err);
	if (st == PW_OK) {
		cli_str(&call->out, "msg_id", m->msg_id);
		cli_str(&call->out, "endpoint_id", m->endpoint_id);
		cli_str(&call->out, "event_type", m->event_type);
		cli_time(&call->out, "next_attempt_at", m->next_attempt_at_unix_ms);
	}
	free(m);
	return st;
}

static pw_status
cli_notify_replay_call(cli_call *call, void *args, pw_error *err)
{
	cli_notify_args *a = args;
	pw_notify_replay r;
	pw_status st;

	if (a->since == NULL) {
		err->code = PW_INVALID_ARGUMENT;
		snprintf(err->message, sizeof(err->message), "missing --since TIME");
		return PW_INVALID_ARGUMENT;
	}
	st = pw_notify_replay_since(call->c, a->api_key, a->since_ms, a->endpoint, &r, err);
	if (st == PW_OK) {
		cli_uint(&call->out, "enqueued", r.enqueued);
		cli_uint(&call->out, "examined", r.examined);
		cli_bool(&call->out, "has_more", r.has_more);
		cli_time(&call->out, "next_since", r.next_since_unix_ms);
	}
	return st;
}

/* ---- portal ---- */

static const char cli_help_portal[] =
    "usage: paywire portal SESSION_ID --return-url URL [--api-key KEY]\n"
    "\n"
    "Stripe's customer portal for the customer of one of your sessions paid\n"
    "through Stripe (manage the subscription, payment methods, invoices):\n"
    "paywire creates a portal session with your Stripe credentials for the\n"
    "session's mode and prints its url. The url is short-lived: send your\n"
    "customer there at once. FAILED_PRECONDITION when the session has no Stripe\n"
    "customer recorded (it is recorded from the checkout's completion) or no\n"
    "credentials are set; UNAVAILABLE when Stripe did not answer.\n"
    "\n"
    "  --return-url URL   where the portal's return link goes (http/https)\n"
    "  --api-key KEY      your API key (default: $PAYWIRE_API_KEY)\n"
    "\n"
    "example:\n"
    "  paywire portal cs_0190f3c2a1b24f... --return-url https://shop.example/account\n";

static int
cli_portal_check(void *args, cli_globals *g)
{
	const cli_query_args *a = args;

	if (a->return_url == NULL) {
		return cli_usage_error(g, "--return-url is required (where the portal's return link "
		                          "goes)");
	}
	return cli_query_check(args, g);
}

static pw_status
cli_portal_call(cli_call *call, void *args, pw_error *err)
{
	const cli_query_args *a = args;
	cli_out *o = &call->out;
	pw_portal p;
	pw_status st;

	st = pw_portal_create(call->c, a->api_key, call->arg, a->return_url, &p, err);
	if (st != PW_OK) {
		return st;
	}
	cli_str(o, "url", p.url);
	cli_str(o, "customer", p.customer);
	cli_str(o, "session_id", p.session_id);
	cli_str(o, "mode", pw_mode_name(p.mode));
	return PW_OK;
}

/* ---- webhook send ---- */

/* " stripe razorpay onecom web3": the providers' names, from the table. */
#define CLI_XX_PROVIDER(NAME, value, name, label, secret_env) " " name
#define CLI_PROVIDERS PW_PROVIDER_MAP(CLI_XX_PROVIDER)

static const char cli_help_webhook_send[] =
    "usage: paywire webhook send --provider P --body-file FILE\n"
    "           [--header 'Name: value']...\n"
    "\n"
    "Replays a provider event exactly as it was received (for operators re-sending\n"
    "a stored event). The server verifies the signature with its own secrets, so\n"
    "the signature headers must be the original ones. Header names are sent in\n"
    "lower case; the body is sent byte for byte (FILE '-' reads stdin).\n"
    "\n"
    "  --provider P          one of:" CLI_PROVIDERS "\n"
    "  --body-file FILE      the raw body, at most 1 MiB\n"
    "  --header 'N: v'       repeatable, at most 64 (e.g. the signature header)\n"
    "\n"
    "Prints the outcome (applied, duplicate or ignored), the session and event ids,\n"
    "and what was created.\n"
    "\n"
    "example:\n"
    "  paywire webhook send --provider stripe --body-file evt.json \\\n"
    "      --header \"Stripe-Signature: t=1767225660,v1=eefa67...\"\n";

typedef struct cli_webhook_args {
	const char *provider;                             /* --provider */
	const char *body_file;                            /* --body-file */
	pw_kv headers[PW_WEBHOOK_HEADERS_MAX];            /* --header (point into argv) */
	size_t headers_len;                               /* how many */
	pw_webhook_provider provider_id;                  /* parsed --provider (check) */
	uint8_t *body;                                    /* the body read (check); caller frees */
	size_t body_len;                                  /* its length */
} cli_webhook_args;

static char *
cli_trim(char *s)
{
	size_t n;
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
		s[--n] = '\0';
	}
	return s;
}

/* 'Name: value' -> lower-case name, value without surrounding blanks. */
static int
cli_webhook_header(cli_webhook_args *a, cli_globals *g, char *arg)
{
	char *colon = strchr(arg, ':');
	char *name;

	if (a->headers_len == PW_WEBHOOK_HEADERS_MAX) {
		return cli_usage_error(g, "at most %d --header options", PW_WEBHOOK_HEADERS_MAX);
	}
	if (colon == NULL) {
		return cli_usage_error(g, "--header wants 'Name: value'");
	}
	*colon = '\0'; /* argv is ours: split in place */
	name = cli_trim(arg);
	if (*name == '\0' || strpbrk(name, " \t") != NULL) {
		return cli_usage_error(g, "--header has an empty name or a name with blanks");
	}
	for (char *p = name; *p != '\0'; p++) {
		*p = *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : *p;
	}
	a->headers[a->headers_len].key = name;
	a->headers[a->headers_len].value = cli_trim(colon + 1);
	a->headers_len++;
	return CLI_EXIT_OK;
}

static int
cli_webhook_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_webhook_args *a = args;

	if (opt == OPT_HEADER) {
		return cli_webhook_header(a, g, arg);
	}
	switch (opt) {
	case OPT_PROVIDER: a->provider = arg; break;
	case OPT_BODY_FILE: a->body_file = arg; break;
	default:
		PW_ASSERT(!"option in the table without a handler");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* Reads the whole body (at most PW_WEBHOOK_BODY_BYTES_MAX bytes) into *out. */
static int
cli_read_body(const cli_globals *g, const char *path, uint8_t **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		return cli_usage_error(g, "cannot open --body-file '%s': %s", path, strerror(errno));
	}
	buf = malloc(PW_WEBHOOK_BODY_BYTES_MAX + 1);
	PW_ASSERT(buf != NULL);
	n = fread(buf, 1, PW_WEBHOOK_BODY_BYTES_MAX + 1, f);
	if (ferror(f) || n > PW_WEBHOOK_BODY_BYTES_MAX) {
		bool big = !ferror(f);
		if (f != stdin) {
			fclose(f);
		}
		free(buf);
		return big ? cli_usage_error(g, "--body-file '%s' is over %u bytes", path,
		                 PW_WEBHOOK_BODY_BYTES_MAX)
		           : cli_usage_error(g, "cannot read --body-file '%s'", path);
	}
	if (f != stdin) {
		fclose(f);
	}
	*out = buf;
	*len = n;
	return CLI_EXIT_OK;
}

/* --provider and --body-file are required; the body is read here, before
 * anything is sent. */
static int
cli_webhook_check(void *args, cli_globals *g)
{
	cli_webhook_args *a = args;

	if (!pw_webhook_provider_parse(a->provider, &a->provider_id)) {
		return cli_usage_error(g, "--provider wants %s", CLI_PROVIDERS + 1);
	}
	if (a->body_file == NULL) {
		return cli_usage_error(g, "--body-file is required");
	}
	return cli_read_body(g, a->body_file, &a->body, &a->body_len);
}

static pw_status
cli_webhook_call(cli_call *call, void *args, pw_error *err)
{
	const cli_webhook_args *a = args;
	cli_out *o = &call->out;
	pw_webhook_result r;
	pw_status st = pw_webhook_ingest(call->c, a->provider_id, a->headers, a->headers_len, a->body,
	    a->body_len, &r, err);

	if (st != PW_OK) {
		return st;
	}
	cli_str(o, "outcome", pw_webhook_outcome_name(r.outcome));
	cli_str(o, "session_id", r.session_id);
	cli_str(o, "event_id", r.event_id);
	cli_str(o, "event_type", r.event_type);
	cli_str(o, "session_status", pw_session_status_name(r.session_status));
	cli_uint(o, "invoice_number", r.invoice_number);
	cli_str(o, "access_key_id", r.access_key_id);
	cli_bool(o, "anomaly", r.anomaly);
	cli_str(o, "reason", r.reason);
	return PW_OK;
}

static void
cli_webhook_fini(void *args)
{
	free(((cli_webhook_args *) args)->body);
}

/* ---- access redeem ---- */

static const char cli_help_access_redeem[] =
    "usage: paywire access redeem SESSION_ID --token JWT\n"
    "\n"
    "What the customer's access page shows: the receipt of a paid session and,\n"
    "on the first redemption only, the raw access key (shown once, store it now).\n"
    "JWT is the token of the customer's access link ('paywire session get', or\n"
    "'paywire status --secret' with the checkout secret, once paid). It always\n"
    "reveals: the first redemption shows the key and it is never shown again.\n"
    "\n"
    "example:\n"
    "  paywire access redeem cs_0190f3c2a1b24f... --token eyJhbGciOiJIUzI1NiJ9...\n";

static int
cli_token_opt(void *args, cli_globals *g, int opt, char *arg)
{
	const char **token = args;
	(void) g;
	PW_ASSERT(opt == OPT_TOKEN);
	*token = arg;
	return CLI_EXIT_OK;
}

static int
cli_token_check(void *args, cli_globals *g)
{
	const char *const *token = args;
	return *token == NULL ? cli_usage_error(g, "--token is required") : CLI_EXIT_OK;
}

static pw_status
cli_access_call(cli_call *call, void *args, pw_error *err)
{
	const char *const *token = args;
	cli_out *o = &call->out;
	pw_access a;
	pw_status st = pw_access_redeem(call->c, call->arg, *token, &a, err);

	if (st != PW_OK) {
		return st;
	}
	cli_session_rows(o, "session_id", a.session_id, a.merchant_id, a.status);
	cli_money_rows(o, a.amount_minor, a.currency);
	cli_time(o, call->g->json ? "paid_at_unix_ms" : "paid_at", a.paid_at_unix_ms);
	cli_uint(o, "invoice_number", a.invoice_number);
	cli_str(o, "merchant_name", a.merchant_name);
	cli_str(o, "plan", a.plan);
	cli_str(o, "customer_email", a.customer_email);
	cli_str(o, "access_key_id", a.access_key_id);
	cli_str(o, "access_key", a.access_key);
	cli_bool(o, "already_revealed", a.already_revealed);
	cli_bool(o, "entitlement_active", a.entitlement_active);
	if (a.access_key[0] != '\0') {
		call->note = "note: the access_key is shown once; store it now\n";
	}
	return PW_OK;
}

/* ---- audit verify ---- */

static const char cli_help_audit_verify[] =
    "usage: paywire audit verify [--admin-key KEY]\n"
    "\n"
    "Walks the hash-chained audit log on the server and reports whether it is\n"
    "intact: records, last sequence number, head hash, and the first bad record\n"
    "if any.\n"
    "\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "Exit code 0 when the chain is intact, 1 when it is broken (or on an error).\n"
    "\n"
    "example:\n"
    "  paywire audit verify && echo intact\n";

static pw_status
cli_audit_call(cli_call *call, void *args, pw_error *err)
{
	pw_audit_report r;
	pw_status st;

	(void) args;
	st = pw_audit_verify(call->c, call->key, &r, err);
	if (st == PW_OK) {
		cli_bool(&call->out, "ok", r.ok);
		cli_uint(&call->out, "records", r.records);
		cli_uint(&call->out, "last_seq", r.last_seq);
		cli_str(&call->out, "head_hash", r.head_hash_hex);
		cli_uint(&call->out, "first_bad_seq", r.first_bad_seq);
		cli_str(&call->out, "detail", r.detail);
		call->exit_code = r.ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
	}
	return st;
}

/* ---- events quarantine list | show | retry (admin) ---- */

static const char cli_help_quarantine_list[] =
    "usage: paywire events quarantine list [--after ID] [--limit N] [--admin-key KEY]\n"
    "\n"
    "Verified webhooks paywire could not process (an unknown shape, a missing\n"
    "field): the server answered the provider 200 \"quarantined\" and kept the\n"
    "exact body and headers with the reason. Oldest first, a line each (id\n"
    "provider received_at attempts body_bytes reason). Fix the configuration\n"
    "(or paywire), then 'paywire events quarantine retry ID'.\n"
    "\n"
    "  --after ID         only entries after this id (the last of a page)\n"
    "  --limit N          at most N (1..100, default 10)\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "example:\n"
    "  paywire events quarantine list --limit 50\n";

static const char cli_help_quarantine_show[] =
    "usage: paywire events quarantine show ID [--admin-key KEY]\n"
    "\n"
    "One kept event: provider, reason, times, attempts, its headers and body\n"
    "(--json: the whole body; as text, its first 2 KiB).\n"
    "\n"
    "example:\n"
    "  paywire --json events quarantine show 3\n";

static const char cli_help_quarantine_retry[] =
    "usage: paywire events quarantine retry ID [--admin-key KEY]\n"
    "\n"
    "Verifies the kept event again (with the secrets configured now, as of the\n"
    "time it was received), parses it and applies it exactly as a delivery\n"
    "would. Success: the event's outcome (applied, ignored, duplicate, ...) and\n"
    "the entry is removed; exit 0. Still failing: the new reason, kept with the\n"
    "entry; exit 1.\n"
    "\n"
    "example:\n"
    "  paywire events quarantine retry 3\n";

typedef struct cli_q_args {
	const char *after;     /* --after */
	const char *limit;     /* --limit */
	int64_t a;             /* parsed after */
	int64_t lim;           /* parsed limit (0: the server's default) */
} cli_q_args;

static int
cli_q_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_q_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_AFTER: a->after = arg; break;
	case OPT_LIMIT: a->limit = arg; break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

static int
cli_q_check(void *args, cli_globals *g)
{
	cli_q_args *a = args;

	if (a->after != NULL && (!cli_parse_i64(a->after, &a->a) || a->a < 0)) {
		return cli_usage_error(g, "--after wants an id (0, 1, ...), got '%s'", a->after);
	}
	if (a->limit != NULL && (!cli_parse_i64(a->limit, &a->lim) || a->lim < 1 ||
	    a->lim > PW_QUARANTINE_PAGE_MAX)) {
		return cli_usage_error(g, "--limit wants 1..%d, got '%s'", PW_QUARANTINE_PAGE_MAX,
		    a->limit);
	}
	return CLI_EXIT_OK;
}

/* ID of show/retry: 1, 2, ... */
static pw_status
cli_q_id(cli_call *call, uint64_t *id, pw_error *err)
{
	int64_t v = 0;

	if (!cli_parse_i64(call->arg, &v) || v < 1) {
		err->code = PW_INVALID_ARGUMENT;
		snprintf(err->message, sizeof(err->message),
		    "ID wants a quarantine id (1, 2, ...), got '%s'", call->arg);
		return PW_INVALID_ARGUMENT;
	}
	*id = (uint64_t) v;
	return PW_OK;
}

static void
cli_q_rows(cli_out *o, bool json, const pw_quarantined_event *q)
{
	cli_uint(o, "id", q->id);
	cli_str(o, "provider", q->provider);
	cli_str(o, "reason", q->reason);
	cli_time(o, json ? "received_at_unix_ms" : "received_at", q->received_at_unix_ms);
	cli_uint(o, "attempts", q->attempts);
	cli_time(o, json ? "last_attempt_unix_ms" : "last_attempt_at", q->last_attempt_unix_ms);
	cli_uint(o, "body_bytes", q->body_bytes);
}

static pw_status
cli_q_list_call(cli_call *call, void *args, pw_error *err)
{
	const cli_q_args *a = args;
	pw_quarantine_page *p = malloc(sizeof(*p));
	pw_status st;

	if (p == NULL) {
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_quarantine_list(call->c, call->key, (uint64_t) a->a, (unsigned) a->lim, p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p->n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_q_rows(&one, true, &p->events[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_row(&call->out, "events", arr, "-");
		cli_bool(&call->out, "has_more", p->has_more);
	} else if (st == PW_OK) {
		printf("%8s  %-8s  %-20s  %8s  %10s  %s\n", "id", "provider", "received_at", "attempts",
		    "body_bytes", "reason");
		for (size_t i = 0; i < p->n; i++) {
			const pw_quarantined_event *q = &p->events[i];
			char when[40];

			cli_when(when, sizeof(when), q->received_at_unix_ms);
			printf("%8llu  %-8s  %-20s  %8u  %10llu  %s\n", (unsigned long long) q->id,
			    q->provider, when, (unsigned) q->attempts, (unsigned long long) q->body_bytes,
			    q->reason);
		}
		cli_bool(&call->out, "has_more", p->has_more);
	}
	free(p);
	return st;
}

static pw_status
cli_q_show_call(cli_call *call, void *args, pw_error *err)
{
	pw_quarantined_detail *d;
	char *text;
	size_t used = 0;
	uint64_t id = 0;
	pw_status st;

	(void) args;
	st = cli_q_id(call, &id, err);
	if (st != PW_OK) {
		return st;
	}
	d = malloc(sizeof(*d));
	text = malloc(d != NULL ? sizeof(d->body) + 1 : 1);
	if (d == NULL || text == NULL) {
		free(d);
		free(text);
		err->code = PW_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return PW_RESOURCE_EXHAUSTED;
	}
	st = pw_quarantine_get(call->c, call->key, id, d, err);
	if (st == PW_OK) {
		cli_q_rows(&call->out, call->g->json, &d->event);
		text[0] = '\0';
		for (size_t i = 0; i < d->headers_len && used + 2 < CLI_VALUE_BYTES_MAX; i++) {
			int n = snprintf(text + used, CLI_VALUE_BYTES_MAX - used, "%s%s: %s",
			    i > 0 ? "; " : "", d->headers[i].name, d->headers[i].value);
			used += n > 0 ? (size_t) n : 0;
		}
		text[used < CLI_VALUE_BYTES_MAX ? used : CLI_VALUE_BYTES_MAX - 1] = '\0';
		cli_str(&call->out, "headers", text);
		memcpy(text, d->body, d->event.body_bytes);
		text[d->event.body_bytes] = '\0'; /* a NUL inside cuts it: the JSON of a provider has none */
		cli_str(&call->out, "body", text);
	}
	free(text);
	free(d);
	return st;
}

static pw_status
cli_q_retry_call(cli_call *call, void *args, pw_error *err)
{
	pw_quarantine_retry_result r;
	uint64_t id = 0;
	pw_status st;

	(void) args;
	st = cli_q_id(call, &id, err);
	if (st != PW_OK) {
		return st;
	}
	st = pw_quarantine_retry(call->c, call->key, id, &r, err);
	if (st == PW_OK) {
		cli_uint(&call->out, "id", id);
		cli_bool(&call->out, "retried", r.retried);
		if (r.retried) {
			cli_str(&call->out, "outcome", pw_webhook_outcome_name(r.result.outcome));
			cli_str(&call->out, "session_id", r.result.session_id);
			cli_str(&call->out, "event_id", r.result.event_id);
			cli_str(&call->out, "event_type", r.result.event_type);
			cli_bool(&call->out, "anomaly", r.result.anomaly);
			cli_str(&call->out, "reason", r.result.reason);
		} else {
			cli_str(&call->out, "reason", r.reason);
			call->exit_code = CLI_EXIT_FAIL;
		}
	}
	return st;
}

/* ---- store copy ---- */

typedef struct cli_store_args {
	const char *from;    /* --from */
	const char *to;      /* --to */
	const char *key_dir; /* --key-dir */
} cli_store_args;

static const char cli_help_store_copy[] =
    "usage: paywire store copy --from SOURCE --to TARGET [--key-dir DIR]\n"
    "\n"
    "Copies a whole store between engines, without a server: every record of\n"
    "every table, from one snapshot of SOURCE, into TARGET, which must hold\n"
    "nothing (it is refused otherwise, and nothing is written). Then checks\n"
    "TARGET: each table's count equals SOURCE's, and its audit chain verifies\n"
    "to the same head. Stop the servers writing to SOURCE first.\n"
    "\n"
    "SOURCE and TARGET are each an LMDB data directory (a server's --data) or a\n"
    "PostgreSQL connection string (a server's --store: postgres://... or\n"
    "'host=... dbname=...'; its tables are created if missing).\n"
    "\n"
    "  --from SOURCE    the store to copy\n"
    "  --to TARGET      the store to fill; a new directory gets a copy of\n"
    "                   paywire.key (mode 0600)\n"
    "  --key-dir DIR    when SOURCE is PostgreSQL: the directory holding its\n"
    "                   paywire.key (the servers' --data). API keys and sealed\n"
    "                   access keys are only usable with the same master key\n"
    "\n"
    "Exit code 0 when copied and verified, 1 on an error, 2 on a bad command line.\n"
    "\n"
    "examples:\n"
    "  paywire store copy --from ./data --to 'postgresql://pay@db1/paywire'\n"
    "  paywire store copy --from 'postgresql://pay@db1/paywire' --key-dir ./data \\\n"
    "      --to ./data-copy\n";

static int
cli_store_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_store_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_FROM:
		a->from = arg;
		break;
	case OPT_TO:
		a->to = arg;
		break;
	default:
		PW_ASSERT(opt == OPT_KEY_DIR);
		a->key_dir = arg;
		break;
	}
	return CLI_EXIT_OK;
}

static int
cli_store_check(void *args, cli_globals *g)
{
	cli_store_args *a = args;

	if (a->from == NULL || a->from[0] == '\0') {
		return cli_usage_error(g, "missing --from SOURCE");
	}
	if (a->to == NULL || a->to[0] == '\0') {
		return cli_usage_error(g, "missing --to TARGET");
	}
	if (cli_store_is_postgres(a->from) && a->key_dir == NULL) {
		return cli_usage_error(g, "the source is PostgreSQL: pass --key-dir DIR (where its "
		    "paywire.key is)");
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_store_copy_call(cli_call *call, void *args, pw_error *err)
{
	cli_store_args *a = args;
	cli_store_copy_result r;
	pw_status st;

	st = cli_store_copy(a->from, a->to, a->key_dir, &r, err);
	if (st == PW_OK) {
		cli_bool(&call->out, "ok", true);
		cli_uint(&call->out, "records", r.records);
		cli_uint(&call->out, "tables", r.tables);
		cli_uint(&call->out, "audit_records", r.audit_records);
		cli_str(&call->out, "audit_head_hash", r.head_hash_hex);
		cli_bool(&call->out, "key_copied", r.key_copied);
	}
	return st;
}

/* ---- backup | restore | doctor (no server: cli_ops.c) ---- */

typedef struct cli_ops_args {
	const char *data;       /* --data, else $PAYWIRE_DATA */
	const char *config;     /* --config */
	const char *server_bin; /* --server-bin */
	bool force;             /* --force */
} cli_ops_args;

static const char cli_help_backup[] =
    "usage: paywire backup DEST [--data DIR]\n"
    "\n"
    "Takes a consistent copy of a server's LMDB data directory while the server\n"
    "keeps running: LMDB's compacting copy of one snapshot (every write the\n"
    "server acknowledged before the backup began is in it), the master key\n"
    "paywire.key and, when present, paywire.env (the secrets scripts/run.sh\n"
    "writes). DEST gets mode 0700, its files 0600. It is written as DEST.tmp,\n"
    "opened and its audit chain verified, then renamed to DEST: DEST exists only\n"
    "when complete. Run it as the server's user.\n"
    "\n"
    "  DEST          a new directory (or an empty one); anything else is refused\n"
    "  --data DIR    the server's data directory (default: $PAYWIRE_DATA)\n"
    "\n"
    "A PostgreSQL store is refused: back it up with pg_dump --schema=paywire\n"
    "and keep a copy of paywire.key (docs/OPERATIONS.md \"Backups\").\n"
    "\n"
    "Exit code 0 when the copy is complete and verified, 1 on an error (nothing\n"
    "is left at DEST), 2 on a bad command line.\n"
    "\n"
    "example:\n"
    "  paywire backup /var/backups/paywire/$(date +%Y%m%d-%H%M) --data /var/lib/paywire\n";

static const char cli_help_restore[] =
    "usage: paywire restore SRC DATA_DIR [--force]\n"
    "\n"
    "Installs a backup (a directory `paywire backup` wrote) as a server's data\n"
    "directory. The server must be stopped: while any process has DATA_DIR's\n"
    "store open (LMDB's lock on DATA_DIR/lock.mdb) the restore is refused. The\n"
    "backup is copied to DATA_DIR.restore-tmp, opened and its audit chain\n"
    "verified there, and only then renamed to DATA_DIR.\n"
    "\n"
    "  SRC        the backup directory (data.mdb, paywire.key[, paywire.env])\n"
    "  DATA_DIR   the data directory to create\n"
    "  --force    DATA_DIR exists and is not empty: replace it anyway. The old\n"
    "             directory is kept, renamed to DATA_DIR.replaced-UNIXTIME\n"
    "\n"
    "Exit code 0 when installed, 1 on an error (DATA_DIR untouched), 2 on a bad\n"
    "command line.\n"
    "\n"
    "example:\n"
    "  systemctl stop paywire-server\n"
    "  paywire restore /var/backups/paywire/20261206-2300 /var/lib/paywire --force\n";

static const char cli_help_doctor[] =
    "usage: paywire doctor [--data DIR] [--config FILE] [--server-bin PATH]\n"
    "\n"
    "Checks an installation and prints one line per check: OK, WARN or FAIL,\n"
    "the check's name and why. The server may be running.\n"
    "  data_dir        DIR is a directory of mode 0700 owned by this user\n"
    "  key_file        DIR/paywire.key: mode 0600, this user's, 32 bytes\n"
    "  server          which process has the store open, if any\n"
    "  map_usage       LMDB map use: WARN above 80%, FAIL at 95% (raise --map-size)\n"
    "  reader_slots    stale reader slots of dead processes (they are freed)\n"
    "  store_format    the store opens with this paywire's store format\n"
    "  audit_chain     the hash-chained audit log verifies\n"
    "  config_file     FILE (else DIR/paywire.env when present): mode 0600, only\n"
    "                  the PAYWIRE_* variables of paywire-server --help, each once\n"
    "  config          PAYWIRE_ADMIN_KEY and at least one webhook secret present;\n"
    "                  every secret long enough and well-formed, by the server's\n"
    "                  rules (its values are never printed)\n"
    "  server_version  paywire-server --version answers this paywire's version\n"
    "\n"
    "  --data DIR         the server's data directory (default: $PAYWIRE_DATA)\n"
    "  --config FILE      the server's --config file (the environment's PAYWIRE_*\n"
    "                     variables win over it, as in the server)\n"
    "  --server-bin PATH  the server binary (default: paywire-server next to this\n"
    "                     program, else on PATH)\n"
    "\n"
    "Exit code 0 when every check is OK, 1 when some check warns (and none\n"
    "fails), 2 when a check fails (also a bad command line).\n"
    "\n"
    "example:\n"
    "  paywire doctor --data /var/lib/paywire --config /etc/paywire/server.env\n";

static int
cli_ops_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_ops_args *a = args;

	(void) g;
	switch (opt) {
	case OPT_DATA:
		a->data = arg;
		break;
	case OPT_CONFIG:
		a->config = arg;
		break;
	case OPT_SERVER_BIN:
		a->server_bin = arg;
		break;
	default:
		PW_ASSERT(opt == OPT_FORCE);
		a->force = true;
		break;
	}
	return CLI_EXIT_OK;
}

/* --data, else $PAYWIRE_DATA (NULL if neither). */
static int
cli_ops_data_check(void *args, cli_globals *g)
{
	cli_ops_args *a = args;

	(void) g;
	if (a->data == NULL || a->data[0] == '\0') {
		a->data = getenv("PAYWIRE_DATA");
	}
	if (a->data != NULL && a->data[0] == '\0') {
		a->data = NULL;
	}
	return CLI_EXIT_OK;
}

static int
cli_backup_check(void *args, cli_globals *g)
{
	cli_ops_args *a = args;

	(void) cli_ops_data_check(args, g);
	if (a->data == NULL) {
		return cli_usage_error(g, "no data directory: pass --data DIR or set PAYWIRE_DATA");
	}
	return CLI_EXIT_OK;
}

static pw_status
cli_backup_call(cli_call *call, void *args, pw_error *err)
{
	cli_ops_args *a = args;
	cli_backup_result r;
	pw_status st;

	st = cli_backup(a->data, call->arg, &r, err);
	if (st == PW_OK) {
		cli_bool(&call->out, "ok", true);
		cli_str(&call->out, "backup", call->arg);
		cli_int(&call->out, "started_ms", r.started_ms);
		cli_uint(&call->out, "last_txnid", r.last_txnid);
		cli_uint(&call->out, "data_bytes", r.data_bytes);
		cli_uint(&call->out, "audit_records", r.audit_records);
		cli_str(&call->out, "audit_head_hash", r.head_hash_hex);
		cli_bool(&call->out, "env_copied", r.env_copied);
	}
	return st;
}

static pw_status
cli_restore_call(cli_call *call, void *args, pw_error *err)
{
	cli_ops_args *a = args;
	cli_restore_result r;
	pw_status st;

	st = cli_restore(call->arg, call->arg2, a->force, &r, err);
	if (st == PW_OK) {
		cli_bool(&call->out, "ok", true);
		cli_str(&call->out, "data_dir", call->arg2);
		cli_uint(&call->out, "audit_records", r.audit_records);
		cli_str(&call->out, "audit_head_hash", r.head_hash_hex);
		cli_str(&call->out, "moved_aside", r.moved_aside);
	}
	return st;
}

/* cli_doctor_fn: a line now (human), or an entry of "checks" (--json). */
static void
cli_doctor_line(void *arg, cli_doctor_level level, const char *check, const char *why)
{
	cli_call *call = arg;
	static const char *const names[] = { "OK", "WARN", "FAIL" };

	if (call->g->json) {
		json_t *checks = json_object_get(call->out.obj, "checks");
		if (checks == NULL) {
			checks = json_array();
			(void) json_object_set_new(call->out.obj, "checks", checks);
		}
		(void) json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "check", check,
		    "level", names[level], "why", why));
		return;
	}
	printf("%-4s  %-15s %s\n", names[level], check, why);
	fflush(stdout);
}

static pw_status
cli_doctor_call(cli_call *call, void *args, pw_error *err)
{
	cli_ops_args *a = args;
	cli_doctor_level worst;

	memset(err, 0, sizeof(*err));
	if (a->data == NULL) {
		cli_doctor_line(call, CLI_DOCTOR_WARN, "data_dir",
		    "no --data DIR and no PAYWIRE_DATA: the data directory was not checked");
	}
	worst = cli_doctor(a->data, a->config, a->server_bin, cli_doctor_line, call);
	if (a->data == NULL && worst == CLI_DOCTOR_OK) {
		worst = CLI_DOCTOR_WARN;
	}
	if (call->g->json) {
		static const char *const names[] = { "OK", "WARN", "FAIL" };
		cli_str(&call->out, "result", names[worst]);
	}
	call->exit_code = (int) worst;
	return PW_OK;
}

/* ---- merchant credentials set | list | delete (admin) ---- */

static const char cli_help_creds_set[] =
    "usage: paywire merchant credentials set MERCHANT_ID --provider stripe|razorpay\n"
    "           --mode test|live [--key-id ID] [--admin-key KEY]   (the secret on stdin)\n"
    "\n"
    "Sets (or replaces) the credentials paywire calls a provider with for a\n"
    "merchant. The secret is read from standard input (one line), never from\n"
    "the command line, where other users of the machine could read it. The\n"
    "server stores it encrypted, never answers it and never logs it: what is\n"
    "shown is its hint (sk_test_AbCd...wxyz).\n"
    "\n"
    "  --provider P       stripe or razorpay (onecom and web3 need none)\n"
    "  --mode test|live   which sessions they serve; the key's own test/live part\n"
    "                     must match it (a test key cannot serve live sessions)\n"
    "  --key-id ID        razorpay: the key id (rzp_test_... / rzp_live_...);\n"
    "                     stripe: none (the secret or restricted key alone,\n"
    "                     sk_test_/sk_live_/rk_test_/rk_live_)\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "Prints provider, mode, key_id, secret_hint and updated_at.\n"
    "\n"
    "examples:\n"
    "  printf '%s\\n' \"$STRIPE_KEY\" | paywire merchant credentials set m_01 \\\n"
    "      --provider stripe --mode test\n"
    "  paywire merchant credentials set m_01 --provider razorpay --mode live \\\n"
    "      --key-id rzp_live_1DP5mmOlF5G5ag < razorpay-secret.txt\n";

static const char cli_help_creds_list[] =
    "usage: paywire merchant credentials list MERCHANT_ID [--admin-key KEY]\n"
    "\n"
    "Lists a merchant's provider credentials: provider, mode, key id, the\n"
    "secret's hint (never the secret) and when they were set.\n"
    "\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "example:\n"
    "  paywire --json merchant credentials list m_01\n";

static const char cli_help_creds_delete[] =
    "usage: paywire merchant credentials delete MERCHANT_ID --provider stripe|razorpay\n"
    "           --mode test|live [--admin-key KEY]\n"
    "\n"
    "Deletes a merchant's credentials at a provider for a mode: paywire can no\n"
    "longer call that provider for it in that mode. NOT_FOUND when it has none.\n"
    "\n"
    "  --provider P       stripe or razorpay\n"
    "  --mode test|live   which ones\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "Prints what was deleted (provider, mode, key_id, secret_hint).\n"
    "\n"
    "example:\n"
    "  paywire merchant credentials delete m_01 --provider stripe --mode live\n";

typedef struct cli_creds_args {
	const char *provider_arg; /* --provider */
	pw_webhook_provider provider;
	pw_mode mode;             /* --mode */
	const char *key_id;       /* --key-id */
	char secret[PW_PROVIDER_SECRET_BYTES_MAX + 3]; /* set: from stdin (wiped) */
} cli_creds_args;

static int
cli_creds_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_creds_args *a = args;

	switch (opt) {
	case OPT_PROVIDER: a->provider_arg = arg; break;
	case OPT_KEY_ID: a->key_id = arg; break;
	case OPT_MODE:
		if (!cli_parse_mode(arg, &a->mode)) {
			return cli_usage_error(g, "--mode wants test or live, got '%s'", arg);
		}
		break;
	default: PW_ASSERT(!"an option the table does not give this command");
	}
	return CLI_EXIT_OK;
}

/* --provider and --mode, for set and delete. */
static int
cli_creds_which(cli_creds_args *a, cli_globals *g)
{
	if (a->provider_arg == NULL) {
		return cli_usage_error(g, "--provider is required (stripe or razorpay)");
	}
	if (!pw_webhook_provider_parse(a->provider_arg, &a->provider)) {
		return cli_usage_error(g, "--provider wants stripe or razorpay, got '%s'",
		    a->provider_arg);
	}
	if (a->mode == PW_MODE_UNSPECIFIED) {
		return cli_usage_error(g, "--mode is required (test or live)");
	}
	return CLI_EXIT_OK;
}

static int
cli_creds_set_check(void *args, cli_globals *g)
{
	cli_creds_args *a = args;
	size_t len;
	int rv = cli_creds_which(a, g);

	if (rv != CLI_EXIT_OK) {
		return rv;
	}
	if (fgets(a->secret, sizeof(a->secret), stdin) == NULL) {
		return cli_usage_error(g, "no secret on standard input");
	}
	len = strcspn(a->secret, "\r\n");
	if (len > PW_PROVIDER_SECRET_BYTES_MAX) {
		sodium_memzero(a->secret, sizeof(a->secret));
		return cli_usage_error(g, "the secret on standard input is longer than %d bytes",
		    PW_PROVIDER_SECRET_BYTES_MAX);
	}
	a->secret[len] = '\0';
	if (len == 0) {
		return cli_usage_error(g, "no secret on standard input (to delete, use "
		    "'paywire merchant credentials delete')");
	}
	return CLI_EXIT_OK;
}

static int
cli_creds_delete_check(void *args, cli_globals *g)
{
	return cli_creds_which(args, g);
}

static void
cli_creds_fini(void *args)
{
	cli_creds_args *a = args;

	sodium_memzero(a->secret, sizeof(a->secret));
}

static void
cli_creds_rows(cli_out *o, bool json, const pw_provider_credentials *k)
{
	cli_str(o, "provider", k->provider);
	cli_str(o, "mode", pw_mode_name(k->mode));
	cli_str(o, "key_id", k->key_id);
	cli_str(o, "secret_hint", k->secret_hint);
	cli_time(o, json ? "created_at_unix_ms" : "created_at", k->created_at_unix_ms);
	cli_time(o, json ? "updated_at_unix_ms" : "updated_at", k->updated_at_unix_ms);
}

static pw_status
cli_creds_set_call(cli_call *call, void *args, pw_error *err)
{
	cli_creds_args *a = args;
	pw_provider_credentials k;
	pw_status st = pw_provider_credentials_set(call->c, call->key, call->arg, a->provider,
	    a->mode, a->key_id, a->secret, &k, err);

	sodium_memzero(a->secret, sizeof(a->secret));
	if (st == PW_OK) {
		cli_str(&call->out, "merchant_id", call->arg);
		cli_creds_rows(&call->out, call->g->json, &k);
	}
	return st;
}

static pw_status
cli_creds_delete_call(cli_call *call, void *args, pw_error *err)
{
	cli_creds_args *a = args;
	pw_provider_credentials k;
	pw_status st = pw_provider_credentials_delete(call->c, call->key, call->arg, a->provider,
	    a->mode, &k, err);

	if (st == PW_OK) {
		cli_str(&call->out, "merchant_id", call->arg);
		cli_creds_rows(&call->out, call->g->json, &k);
		cli_bool(&call->out, "deleted", k.deleted);
	}
	return st;
}

static pw_status
cli_creds_list_call(cli_call *call, void *args, pw_error *err)
{
	pw_provider_credentials_page p;
	pw_status st;

	(void) args;
	st = pw_provider_credentials_list(call->c, call->key, call->arg, &p, err);
	if (st == PW_OK && call->g->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < p.n; i++) {
			cli_out one;
			cli_out_init(&one, true);
			cli_creds_rows(&one, true, &p.items[i]);
			json_array_append_new(arr, one.obj);
		}
		cli_str(&call->out, "merchant_id", call->arg);
		cli_row(&call->out, "credentials", arr, "-");
	} else if (st == PW_OK) {
		printf("%-8s  %-4s  %-24s  %-24s  %s\n", "provider", "mode", "key_id", "secret_hint",
		    "updated_at");
		for (size_t i = 0; i < p.n; i++) {
			const pw_provider_credentials *k = &p.items[i];
			char when[40];

			cli_when(when, sizeof(when), k->updated_at_unix_ms);
			printf("%-8s  %-4s  %-24s  %-24s  %s\n", k->provider, pw_mode_name(k->mode),
			    k->key_id[0] != '\0' ? k->key_id : "-", k->secret_hint, when);
		}
		cli_uint(&call->out, "count", p.n);
	}
	return st;
}

/* ---- merchant limits set | show (admin) ---- */

static const char cli_help_limits_set[] =
    "usage: paywire merchant limits set MERCHANT_ID [--reads LIMIT] [--writes LIMIT]\n"
    "           [--provider LIMIT] [--admin-key KEY]\n"
    "\n"
    "Sets a merchant's own rate limits per call class, in place of the server's\n"
    "--rate-reads/--rate-writes/--rate-provider. A class not named is left as it\n"
    "is. The new limit applies to the merchant's next request (its bucket starts\n"
    "full) and is kept in the merchant's record across restarts. Over the limit a\n"
    "call answers RESOURCE_EXHAUSTED with the time to wait (HTTP 429 with\n"
    "Retry-After through the bridge).\n"
    "\n"
    "  LIMIT is one of:\n"
    "    RATE[/s|/m|/h][:BURST]  RATE requests per second (or minute, hour),\n"
    "                            1..1000000; BURST at once from idle, 1..1000000\n"
    "                            (default 2 x RATE, at most 1000000)\n"
    "    default                 the server's limit for the class\n"
    "    unlimited               no limit for this merchant\n"
    "  --reads LIMIT      reads (get, list, balance, ...)\n"
    "  --writes LIMIT     writes (create, cancel, deduct, ...)\n"
    "  --provider LIMIT   calls that reach a provider (checkouts, refunds, portals)\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "Prints each class's limit as now applied (and the server's defaults).\n"
    "\n"
    "examples:\n"
    "  paywire merchant limits set m_01 --reads 50/s:100 --provider 10/m\n"
    "  paywire merchant limits set m_01 --writes unlimited --reads default\n";

static const char cli_help_limits_show[] =
    "usage: paywire merchant limits show MERCHANT_ID [--admin-key KEY]\n"
    "\n"
    "Shows a merchant's rate limits per call class (reads, writes, provider):\n"
    "its own (RATE/UNIT burst B, unlimited) or 'default' with the server's\n"
    "limit that then applies.\n"
    "\n"
    "  --admin-key KEY    admin key (default: $PAYWIRE_ADMIN_KEY)\n"
    "\n"
    "example:\n"
    "  paywire --json merchant limits show m_01\n";

typedef struct cli_limits_args {
	pw_rate_limit set[PW_RATE_CLASSES];
} cli_limits_args;

/* LIMIT of --reads/--writes/--provider into *out; false: not one. */
static bool
cli_parse_limit(const char *v, pw_rate_limit *out)
{
	char *end = NULL;
	unsigned long long rate;
	unsigned long long burst;

	memset(out, 0, sizeof(*out));
	if (strcmp(v, "default") == 0) {
		out->kind = PW_RATE_LIMIT_DEFAULT;
		return true;
	}
	if (strcmp(v, "unlimited") == 0) {
		out->kind = PW_RATE_LIMIT_UNLIMITED;
		return true;
	}
	if (v[0] < '0' || v[0] > '9') {
		return false;
	}
	errno = 0;
	rate = strtoull(v, &end, 10);
	if (errno != 0 || rate == 0 || rate > 1000000) {
		return false;
	}
	out->period_s = 1;
	if (end[0] == '/') {
		switch (end[1]) {
		case 's': out->period_s = 1; break;
		case 'm': out->period_s = 60; break;
		case 'h': out->period_s = 3600; break;
		default: return false;
		}
		end += 2;
	}
	burst = rate * 2 > 1000000 ? 1000000 : rate * 2;
	if (end[0] == ':') {
		const char *b = end + 1;

		if (b[0] < '0' || b[0] > '9') {
			return false;
		}
		errno = 0;
		burst = strtoull(b, &end, 10);
		if (errno != 0 || burst == 0 || burst > 1000000) {
			return false;
		}
	}
	if (end[0] != '\0') {
		return false;
	}
	out->kind = PW_RATE_LIMIT_CUSTOM;
	out->rate = (uint32_t) rate;
	out->burst = (uint32_t) burst;
	return true;
}

static int
cli_limits_opt(void *args, cli_globals *g, int opt, char *arg)
{
	cli_limits_args *a = args;
	int cls;
	const char *name;

	switch (opt) {
	case OPT_READS: cls = PW_RATE_CLASS_READS; name = "--reads"; break;
	case OPT_WRITES: cls = PW_RATE_CLASS_WRITES; name = "--writes"; break;
	case OPT_PROVIDER: cls = PW_RATE_CLASS_PROVIDER; name = "--provider"; break;
	default: PW_ASSERT(!"an option the table does not give this command"); return CLI_EXIT_USAGE;
	}
	if (!cli_parse_limit(arg, &a->set[cls])) {
		return cli_usage_error(g, "%s wants RATE[/s|/m|/h][:BURST] (1..1000000 each), default "
		    "or unlimited, got '%s'", name, arg);
	}
	return CLI_EXIT_OK;
}

static int
cli_limits_set_check(void *args, cli_globals *g)
{
	cli_limits_args *a = args;

	for (int i = 0; i < PW_RATE_CLASSES; i++) {
		if (a->set[i].kind != PW_RATE_LIMIT_UNCHANGED) {
			return CLI_EXIT_OK;
		}
	}
	return cli_usage_error(g, "name at least one of --reads, --writes, --provider");
}

static const char *
cli_period_unit(uint32_t period_s)
{
	return period_s == 3600 ? "h" : period_s == 60 ? "m" : "s";
}

/* "50/s burst 100", "unlimited", "1 per 333333 us burst 6". */
static void
cli_limit_text(const pw_rate_limit *l, char *out, size_t size)
{
	if (l->kind == PW_RATE_LIMIT_UNLIMITED || (l->kind != PW_RATE_LIMIT_CUSTOM &&
	    l->interval_us == 0)) {
		(void) snprintf(out, size, "unlimited");
	} else if (l->rate > 0) {
		(void) snprintf(out, size, "%u/%s burst %u", l->rate, cli_period_unit(l->period_s),
		    l->burst);
	} else {
		(void) snprintf(out, size, "1 per %lld us burst %u", (long long) l->interval_us,
		    l->burst);
	}
}

static json_t *
cli_limit_json(const pw_rate_limit *l)
{
	static const char *const kinds[] = { "unchanged", "default", "custom", "unlimited" };

	return json_pack("{s:s, s:I, s:I, s:I, s:I}", "kind", kinds[l->kind], "rate",
	    (json_int_t) l->rate, "period_s", (json_int_t) l->period_s, "burst",
	    (json_int_t) l->burst, "interval_us", (json_int_t) l->interval_us);
}

static void
cli_limits_rows(cli_call *call, const pw_merchant_rate_limits *r)
{
	static const char *const names[PW_RATE_CLASSES] = { "reads", "writes", "provider" };

	cli_str(&call->out, "merchant_id", r->merchant_id);
	for (int i = 0; i < PW_RATE_CLASSES; i++) {
		char own[64];
		char def[64];

		cli_limit_text(&r->limits[i], own, sizeof(own));
		cli_limit_text(&r->server_defaults[i], def, sizeof(def));
		if (call->g->json) {
			json_t *o = cli_limit_json(&r->limits[i]);

			json_object_set_new(o, "server_default", cli_limit_json(&r->server_defaults[i]));
			cli_row(&call->out, names[i], o, "-");
		} else if (r->limits[i].kind == PW_RATE_LIMIT_DEFAULT) {
			cli_row(&call->out, names[i], NULL, "default (%s)", def);
		} else {
			cli_row(&call->out, names[i], NULL, "%s", own);
		}
	}
}

static pw_status
cli_limits_set_call(cli_call *call, void *args, pw_error *err)
{
	cli_limits_args *a = args;
	pw_merchant_rate_limits r;
	pw_status st = pw_merchant_rate_limits_set(call->c, call->key, call->arg, a->set, &r, err);

	if (st == PW_OK) {
		cli_limits_rows(call, &r);
	}
	return st;
}

static pw_status
cli_limits_show_call(cli_call *call, void *args, pw_error *err)
{
	pw_merchant_rate_limits r;
	pw_status st;

	(void) args;
	st = pw_merchant_rate_limits_get(call->c, call->key, call->arg, &r, err);
	if (st == PW_OK) {
		cli_limits_rows(call, &r);
	}
	return st;
}

/* ---- the runner ---- */

/* What a command's own options fill: one member per kind of command. */
typedef union cli_args {
	const char *token;          /* access redeem: --token */
	cli_merchant_args merchant; /* merchant create */
	cli_session_args session;   /* session create */
	cli_cancel_args cancel;     /* session cancel */
	cli_credits_args credits;   /* credits deduct|balance|list */
	cli_keys_args keys;         /* key create|list|roll */
	cli_verify_args verify;     /* access verify */
	cli_query_args query;       /* session get|list, invoice get|list, entitlement list, portal */
	cli_refund_args refund;     /* refund */
	cli_plan_args plan;         /* plan price */
	cli_notify_args notify;     /* notify ... */
	cli_tail_args tail;         /* events tail */
	cli_anomaly_args anomaly;   /* anomalies list */
	cli_q_args quarantine;      /* events quarantine list */
	cli_creds_args creds;       /* merchant credentials set|delete */
	cli_limits_args limits;     /* merchant limits set */
	cli_secret_args secret;     /* status, session test-pay */
	cli_webhook_args webhook;   /* webhook send */
	cli_store_args store;       /* store copy */
	cli_ops_args ops;           /* backup, restore, doctor */
} cli_args;

/* Runs command cmd on argv (argv[0] is its last word): cli_begin, the call,
 * the client closed, then the result printed (and its note), or the error
 * (cli_call_error). Returns the exit code. */
static int
cli_run(cli_globals *g, int argc, char **argv, const cli_command *cmd)
{
	cli_args args;
	cli_call call = { .g = g, .exit_code = CLI_EXIT_OK };
	pw_error err;
	pw_status st;
	int rv;

	memset(&args, 0, sizeof(args));
	rv = cli_begin(g, argc, argv, cmd, &args, &call);
	if (rv == CLI_EXIT_OK && (call.c != NULL || (cmd->local && !call.help))) {
		cli_out_init(&call.out, g->json);
		st = cmd->call(&call, &args, &err);
		if (call.c != NULL) {
			pw_client_close(call.c);
		}
		if (st == PW_OK) {
			cli_out_print(&call.out);
			if (!g->json && call.note != NULL) {
				fputs(call.note, stderr);
			}
		} else {
			cli_out_free(&call.out);
			rv = cli_call_error(g, &err);
		}
		rv = rv == CLI_EXIT_OK ? call.exit_code : rv;
	}
	if (cmd->fini != NULL) {
		cmd->fini(&args);
	}
	return rv;
}

/* ---- the tool ---- */

/* Every command, one row each: its words, its line in the tool's help, its
 * help, its options (CLI_GLOBAL_OPTS first), what it takes and checks, and
 * its call. cli_run does the rest the same way for all. */
static const cli_command cli_commands[] = {
	{ .group = "merchant", .verb = "create", .usage = "--name NAME [--mode test|live]",
	    .summary = "new merchant + API key (admin)",
	    .help = cli_help_merchant_create, .on_opt = cli_merchant_opt,
	    .check = cli_merchant_check, .admin = true, .call = cli_merchant_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("name", OPT_NAME),
	        CLI_OPT("mode", OPT_MODE), CLI_OPT("admin-key", OPT_ADMIN_KEY), CLI_OPTS_END } },
	{ .group = "merchant", .verb = "credentials set",
	    .usage = "MERCHANT_ID --provider P --mode M [--key-id ID] (secret on stdin)",
	    .summary = "set a merchant's provider credentials (admin)",
	    .help = cli_help_creds_set, .admin = true, .positional = 1, .what = "MERCHANT_ID",
	    .on_opt = cli_creds_opt, .check = cli_creds_set_check, .call = cli_creds_set_call,
	    .fini = cli_creds_fini,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("provider", OPT_PROVIDER),
	        CLI_OPT("mode", OPT_MODE), CLI_OPT("key-id", OPT_KEY_ID),
	        CLI_OPT("admin-key", OPT_ADMIN_KEY), CLI_OPTS_END } },
	{ .group = "merchant", .verb = "credentials list", .usage = "MERCHANT_ID",
	    .summary = "a merchant's provider credentials, hints only (admin)",
	    .help = cli_help_creds_list, .admin = true, .positional = 1, .what = "MERCHANT_ID",
	    .call = cli_creds_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("admin-key", OPT_ADMIN_KEY),
	        CLI_OPTS_END } },
	{ .group = "merchant", .verb = "credentials delete",
	    .usage = "MERCHANT_ID --provider P --mode M",
	    .summary = "delete a merchant's provider credentials (admin)",
	    .help = cli_help_creds_delete, .admin = true, .positional = 1, .what = "MERCHANT_ID",
	    .on_opt = cli_creds_opt, .check = cli_creds_delete_check, .call = cli_creds_delete_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("provider", OPT_PROVIDER),
	        CLI_OPT("mode", OPT_MODE), CLI_OPT("admin-key", OPT_ADMIN_KEY), CLI_OPTS_END } },
	{ .group = "merchant", .verb = "limits set",
	    .usage = "MERCHANT_ID [--reads L] [--writes L] [--provider L]",
	    .summary = "set a merchant's own rate limits (admin)",
	    .help = cli_help_limits_set, .admin = true, .positional = 1, .what = "MERCHANT_ID",
	    .on_opt = cli_limits_opt, .check = cli_limits_set_check, .call = cli_limits_set_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("reads", OPT_READS),
	        CLI_OPT("writes", OPT_WRITES), CLI_OPT("provider", OPT_PROVIDER),
	        CLI_OPT("admin-key", OPT_ADMIN_KEY), CLI_OPTS_END } },
	{ .group = "merchant", .verb = "limits show", .usage = "MERCHANT_ID",
	    .summary = "a merchant's rate limits, its own or the defaults (admin)",
	    .help = cli_help_limits_show, .admin = true, .positional = 1, .what = "MERCHANT_ID",
	    .call = cli_limits_show_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("admin-key", OPT_ADMIN_KEY),
	        CLI_OPTS_END } },
	{ .group = "key", .verb = "revoke", .usage = "API_KEY",
	    .summary = "revoke an API key (admin)",
	    .help = cli_help_key_revoke, .positional = 1, .what = "API_KEY", .admin = true,
	    .call = cli_key_revoke_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("admin-key", OPT_ADMIN_KEY),
	        CLI_OPTS_END } },
	{ .group = "key", .verb = "create", .usage = "[--mode test|live]",
	    .summary = "another API key for your merchant (API key)",
	    .help = cli_help_key_create, .on_opt = cli_keys_opt, .check = cli_keys_check,
	    .call = cli_key_create_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("mode", OPT_MODE),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "key", .verb = "list", .usage = "",
	    .summary = "your merchant's API keys, never the keys (API key)",
	    .help = cli_help_key_list, .on_opt = cli_keys_opt, .check = cli_keys_check,
	    .call = cli_key_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "key", .verb = "roll", .usage = "[--key-id ID] [--grace S | --now]",
	    .summary = "replace a key; the old one works for a grace period (API key)",
	    .help = cli_help_key_roll, .on_opt = cli_keys_opt, .check = cli_keys_check,
	    .call = cli_key_roll_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("key-id", OPT_KEY_ID),
	        CLI_OPT("grace", OPT_GRACE), { "now", no_argument, NULL, OPT_NOW },
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "session", .verb = "create", .usage = "--amount 49.00 --currency EUR ...",
	    .summary = "new checkout session (API key)",
	    .help = cli_help_session_create, .on_opt = cli_session_opt, .check = cli_session_check,
	    .call = cli_session_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("amount", OPT_AMOUNT),
	        CLI_OPT("amount-minor", OPT_AMOUNT_MINOR), CLI_OPT("currency", OPT_CURRENCY),
	        CLI_OPT("mode", OPT_MODE), CLI_OPT("success-url", OPT_SUCCESS_URL),
	        CLI_OPT("cancel-url", OPT_CANCEL_URL), CLI_OPT("email", OPT_EMAIL),
	        CLI_OPT("name", OPT_NAME), CLI_OPT("customer-ref", OPT_CUSTOMER_REF),
	        CLI_OPT("idempotency-key", OPT_IDEMPOTENCY_KEY), CLI_OPT("metadata", OPT_METADATA),
	        CLI_OPT("plan", OPT_PLAN), { "subscription", no_argument, NULL, OPT_SUBSCRIPTION },
	        CLI_OPT("provider", OPT_PROVIDER),
	        CLI_OPT("credits", OPT_CREDITS), CLI_OPT("package", OPT_PACKAGE),
	        CLI_OPT("expires-in", OPT_EXPIRES_IN), CLI_OPT("expires-at", OPT_EXPIRES_AT),
	        CLI_OPT("request-id", OPT_REQUEST_ID), CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "session", .verb = "cancel", .usage = "SESSION_ID",
	    .summary = "cancel a created or pending session (API key)",
	    .help = cli_help_session_cancel, .on_opt = cli_cancel_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_cancel_check, .call = cli_cancel_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "credits", .verb = "deduct",
	    .usage = "CUSTOMER --credits N --idempotency-key KEY",
	    .summary = "spend a customer's credits (API key)",
	    .help = cli_help_credits_deduct, .on_opt = cli_credits_opt, .positional = 1,
	    .what = "CUSTOMER", .check = cli_credits_deduct_check, .call = cli_credits_deduct_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("credits", OPT_CREDITS),
	        CLI_OPT("idempotency-key", OPT_IDEMPOTENCY_KEY),
	        CLI_OPT("description", OPT_DESCRIPTION), CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "credits", .verb = "balance", .usage = "CUSTOMER",
	    .summary = "a customer's credit balance (API key)",
	    .help = cli_help_credits_balance, .on_opt = cli_credits_opt, .positional = 1,
	    .what = "CUSTOMER", .check = cli_credits_balance_check, .call = cli_credits_balance_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "credits", .verb = "list", .usage = "CUSTOMER [--limit N] [--starting-after SEQ]",
	    .summary = "a customer's credit entries, newest first (API key)",
	    .help = cli_help_credits_list, .on_opt = cli_credits_opt, .positional = 1,
	    .what = "CUSTOMER", .check = cli_credits_list_check, .call = cli_credits_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("limit", OPT_LIMIT),
	        CLI_OPT("starting-after", OPT_STARTING_AFTER), CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "credits", .verb = "package create",
	    .usage = "CODE --credits N --amount DEC ...",
	    .summary = "a credit package sessions can sell (API key)",
	    .help = cli_help_package_create, .on_opt = cli_package_opt, .positional = 1,
	    .what = "CODE", .check = cli_package_create_check, .call = cli_package_create_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("credits", OPT_CREDITS),
	        CLI_OPT("amount", OPT_AMOUNT), CLI_OPT("amount-minor", OPT_AMOUNT_MINOR),
	        CLI_OPT("currency", OPT_CURRENCY), CLI_OPT("name", OPT_NAME),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "credits", .verb = "package archive", .usage = "CODE",
	    .summary = "stop selling a credit package (API key)",
	    .help = cli_help_package_archive, .on_opt = cli_package_opt, .positional = 1,
	    .what = "CODE", .check = cli_package_archive_check, .call = cli_package_archive_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "credits", .verb = "package list",
	    .usage = "[--all] [--limit N] ...",
	    .summary = "your credit packages, in code order (API key)",
	    .help = cli_help_package_list, .on_opt = cli_package_opt,
	    .check = cli_package_list_check, .call = cli_package_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, { "all", no_argument, NULL, OPT_ALL },
	        CLI_OPT("limit", OPT_LIMIT), CLI_OPT("starting-after", OPT_STARTING_AFTER),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "session", .verb = "get", .usage = "SESSION_ID",
	    .summary = "everything about one of your sessions (API key)",
	    .help = cli_help_session_get, .on_opt = cli_query_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_query_check, .call = cli_session_get_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "session", .verb = "list", .usage = "[--status S] [--limit N] ...",
	    .summary = "your sessions, newest first (API key)",
	    .help = cli_help_session_list, .on_opt = cli_query_opt, .check = cli_query_check,
	    .call = cli_session_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("status", OPT_STATUS),
	        CLI_OPT("from-ms", OPT_FROM_MS), CLI_OPT("to-ms", OPT_TO_MS),
	        CLI_OPT("limit", OPT_LIMIT), CLI_OPT("starting-after", OPT_STARTING_AFTER),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "invoice", .verb = "get", .usage = "NUMBER",
	    .summary = "one of your invoices (API key)",
	    .help = cli_help_invoice_get, .on_opt = cli_query_opt, .positional = 1,
	    .what = "NUMBER", .check = cli_query_check, .call = cli_invoice_get_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "invoice", .verb = "list", .usage = "[--limit N] [--starting-after NUMBER]",
	    .summary = "your invoices in number order (API key)",
	    .help = cli_help_invoice_list, .on_opt = cli_query_opt, .check = cli_invoice_list_check,
	    .call = cli_invoice_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("limit", OPT_LIMIT),
	        CLI_OPT("starting-after", OPT_STARTING_AFTER), CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "entitlement", .verb = "list",
	    .usage = "--customer REF [--limit N] [--starting-after ID]",
	    .summary = "a customer's entitlements and subscriptions (API key)",
	    .help = cli_help_entitlement_list, .on_opt = cli_query_opt,
	    .check = cli_entitlement_list_check, .call = cli_entitlement_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("customer", OPT_CUSTOMER),
	        CLI_OPT("limit", OPT_LIMIT), CLI_OPT("starting-after", OPT_STARTING_AFTER),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "events", .verb = "quarantine list", .usage = "[--after ID] [--limit N]",
	    .summary = "verified webhooks paywire could not process (admin)",
	    .help = cli_help_quarantine_list, .admin = true, .on_opt = cli_q_opt,
	    .check = cli_q_check, .call = cli_q_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("after", OPT_AFTER),
	        CLI_OPT("limit", OPT_LIMIT), CLI_OPT("admin-key", OPT_ADMIN_KEY), CLI_OPTS_END } },
	{ .group = "events", .verb = "quarantine show", .usage = "ID",
	    .summary = "one kept event, its headers and body (admin)",
	    .help = cli_help_quarantine_show, .admin = true, .positional = 1, .what = "ID",
	    .call = cli_q_show_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("admin-key", OPT_ADMIN_KEY),
	        CLI_OPTS_END } },
	{ .group = "events", .verb = "quarantine retry", .usage = "ID",
	    .summary = "verify, parse and apply a kept event again (admin)",
	    .help = cli_help_quarantine_retry, .admin = true, .positional = 1, .what = "ID",
	    .call = cli_q_retry_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("admin-key", OPT_ADMIN_KEY),
	        CLI_OPTS_END } },
	{ .group = "anomalies", .verb = "list", .usage = "[--after SEQ] [--limit N]",
	    .summary = "money that needs a human, and what to do (API key)",
	    .help = cli_help_anomalies_list, .on_opt = cli_anomaly_opt, .check = cli_anomaly_check,
	    .call = cli_anomalies_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("after", OPT_AFTER),
	        CLI_OPT("limit", OPT_LIMIT), CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "events", .verb = "tail", .usage = "[--after SEQ] [--count N] [--subscribe URL]",
	    .summary = "follow your change feed, resuming from a seq (API key)",
	    .help = cli_help_events_tail, .on_opt = cli_tail_opt, .check = cli_tail_check,
	    .call = cli_events_tail_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("after", OPT_AFTER),
	        CLI_OPT("count", OPT_COUNT), CLI_OPT("subscribe", OPT_SUBSCRIBE),
	        { "once", no_argument, NULL, OPT_ONCE },
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "session", .verb = "test-pay", .usage = "SESSION_ID --secret S [--fail]",
	    .summary = "pay (or fail) a test session as its page does",
	    .help = cli_help_session_test_pay, .on_opt = cli_secret_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_secret_check, .call = cli_test_pay_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("secret", OPT_SECRET),
	        { "fail", no_argument, NULL, OPT_FAIL }, CLI_OPTS_END } },
	{ .group = "status", .verb = NULL, .usage = "SESSION_ID [--secret S]",
	    .summary = "a session's status (no key)",
	    .help = cli_help_status, .on_opt = cli_secret_opt, .positional = 1,
	    .what = "SESSION_ID", .call = cli_status_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("secret", OPT_SECRET),
	        CLI_OPTS_END } },
	{ .group = "webhook", .verb = "send", .usage = "--provider P --body-file F ...",
	    .summary = "replay a stored provider event",
	    .help = cli_help_webhook_send, .on_opt = cli_webhook_opt, .check = cli_webhook_check,
	    .call = cli_webhook_call, .fini = cli_webhook_fini,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("provider", OPT_PROVIDER),
	        CLI_OPT("body-file", OPT_BODY_FILE), CLI_OPT("header", OPT_HEADER),
	        CLI_OPTS_END } },
	{ .group = "access", .verb = "redeem", .usage = "SESSION_ID --token JWT",
	    .summary = "receipt + access key (customer)",
	    .help = cli_help_access_redeem, .on_opt = cli_token_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_token_check, .call = cli_access_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("token", OPT_TOKEN),
	        CLI_OPTS_END } },
	{ .group = "access", .verb = "reissue", .usage = "SESSION_ID",
	    .summary = "a new access key for a customer who lost it (API key)",
	    .help = cli_help_access_reissue, .on_opt = cli_query_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_query_check, .call = cli_reissue_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "refund", .verb = NULL, .usage = "SESSION_ID --idempotency-key KEY ...",
	    .summary = "refund a paid Stripe or Razorpay session at the provider (API key)",
	    .help = cli_help_refund, .on_opt = cli_refund_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_refund_check, .call = cli_refund_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS,
	        CLI_OPT("idempotency-key", OPT_IDEMPOTENCY_KEY),
	        CLI_OPT("amount-minor", OPT_AMOUNT_MINOR), CLI_OPT("reason", OPT_REASON),
	        CLI_OPT("request-id", OPT_REQUEST_ID), CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "plan", .verb = "price", .usage = "PLAN --stripe-price ID | --delete",
	    .summary = "your Stripe Price for a plan (API key)",
	    .help = cli_help_plan_price, .on_opt = cli_plan_opt, .positional = 1,
	    .what = "PLAN", .check = cli_plan_check, .call = cli_plan_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS,
	        CLI_OPT("stripe-price", OPT_STRIPE_PRICE), { "delete", no_argument, NULL, OPT_DELETE },
	        CLI_OPT("mode", OPT_MODE), CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "notify", .verb = "endpoint create", .usage = "--url URL [--type TYPE]...",
	    .summary = "a webhook endpoint for your events; prints its secret once (API key)",
	    .help = cli_help_notify_ep_create, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .call = cli_notify_ep_create_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("url", OPT_URL),
	        CLI_OPT("type", OPT_TYPE), CLI_OPT("description", OPT_DESCRIPTION),
	        CLI_OPT("kind", OPT_KIND), CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "notify", .verb = "endpoint list", .usage = "",
	    .summary = "your endpoints (API key)",
	    .help = cli_help_notify_ep_list, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .call = cli_notify_ep_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "notify", .verb = "endpoint update", .usage = "EP [--enable|--disable] ...",
	    .summary = "enable, disable, event types, description (API key)",
	    .help = cli_help_notify_ep_update, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .positional = 1, .what = "EP", .call = cli_notify_ep_update_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS,
	        { "enable", no_argument, NULL, OPT_ENABLE }, { "disable", no_argument, NULL, OPT_DISABLE },
	        { "all-types", no_argument, NULL, OPT_ALL_TYPES }, CLI_OPT("type", OPT_TYPE),
	        CLI_OPT("description", OPT_DESCRIPTION), CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "notify", .verb = "endpoint delete", .usage = "EP",
	    .summary = "deletes an endpoint (API key)",
	    .help = cli_help_notify_ep_delete, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .positional = 1, .what = "EP", .call = cli_notify_ep_delete_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "notify", .verb = "endpoint rotate", .usage = "EP [--grace-ms N]",
	    .summary = "a new signing secret, both signed during the grace (API key)",
	    .help = cli_help_notify_ep_rotate, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .positional = 1, .what = "EP", .call = cli_notify_ep_rotate_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("grace-ms", OPT_GRACE_MS),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "notify", .verb = "list", .usage = "[--dead] [--endpoint EP] [--limit N]",
	    .summary = "messages in the outbox, or the dead letters (API key)",
	    .help = cli_help_notify_list, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .call = cli_notify_list_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, { "dead", no_argument, NULL, OPT_DEAD },
	        CLI_OPT("endpoint", OPT_ENDPOINT), CLI_OPT("limit", OPT_LIMIT),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "notify", .verb = "retry", .usage = "MSG_ID",
	    .summary = "a dead letter back into the outbox (API key)",
	    .help = cli_help_notify_retry, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .positional = 1, .what = "MSG_ID", .call = cli_notify_retry_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "notify", .verb = "replay", .usage = "--since TIME [--endpoint EP]",
	    .summary = "your events since TIME sent again, same webhook-ids (API key)",
	    .help = cli_help_notify_replay, .on_opt = cli_notify_opt, .check = cli_notify_check,
	    .call = cli_notify_replay_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("since", OPT_SINCE),
	        CLI_OPT("endpoint", OPT_ENDPOINT), CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "portal", .verb = NULL, .usage = "SESSION_ID --return-url URL",
	    .summary = "Stripe's customer portal for a session's customer (API key)",
	    .help = cli_help_portal, .on_opt = cli_query_opt, .positional = 1,
	    .what = "SESSION_ID", .check = cli_portal_check, .call = cli_portal_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("return-url", OPT_RETURN_URL),
	        CLI_OPT("api-key", OPT_API_KEY), CLI_OPTS_END } },
	{ .group = "access", .verb = "verify", .usage = "(access key on stdin)",
	    .summary = "is a customer's access key valid? (API key)",
	    .help = cli_help_access_verify, .on_opt = cli_verify_opt, .check = cli_verify_check,
	    .call = cli_verify_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("api-key", OPT_API_KEY),
	        CLI_OPTS_END } },
	{ .group = "audit", .verb = "verify", .usage = "",
	    .summary = "check the audit chain (admin)",
	    .help = cli_help_audit_verify, .admin = true, .call = cli_audit_call,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("admin-key", OPT_ADMIN_KEY),
	        CLI_OPTS_END } },
	{ .group = "store", .verb = "copy", .usage = "--from SRC --to DST",
	    .summary = "copy a store between engines (no server)",
	    .help = cli_help_store_copy, .on_opt = cli_store_opt, .check = cli_store_check,
	    .call = cli_store_copy_call, .local = true,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("from", OPT_FROM),
	        CLI_OPT("to", OPT_TO), CLI_OPT("key-dir", OPT_KEY_DIR), CLI_OPTS_END } },
	{ .group = "backup", .verb = NULL, .usage = "DEST [--data DIR]",
	    .summary = "consistent copy of a live data directory (no server)",
	    .help = cli_help_backup, .positional = 1, .what = "DEST", .on_opt = cli_ops_opt,
	    .check = cli_backup_check, .call = cli_backup_call, .local = true,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("data", OPT_DATA),
	        CLI_OPTS_END } },
	{ .group = "restore", .verb = NULL, .usage = "SRC DATA_DIR [--force]",
	    .summary = "install a backup as a stopped server's data directory",
	    .help = cli_help_restore, .positional = 2, .what = "SRC DATA_DIR",
	    .on_opt = cli_ops_opt, .call = cli_restore_call, .local = true,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, { "force", no_argument, NULL,
	        OPT_FORCE }, CLI_OPTS_END } },
	{ .group = "doctor", .verb = NULL, .usage = "[--data DIR] [--config FILE]",
	    .summary = "check modes, map, readers, audit, config, versions",
	    .help = cli_help_doctor, .on_opt = cli_ops_opt, .check = cli_ops_data_check,
	    .call = cli_doctor_call, .local = true,
	    .opts = (const struct option[]) { CLI_GLOBAL_OPTS, CLI_OPT("data", OPT_DATA),
	        CLI_OPT("config", OPT_CONFIG), CLI_OPT("server-bin", OPT_SERVER_BIN),
	        CLI_OPTS_END } },
};
#define CLI_COMMANDS_LEN (sizeof(cli_commands) / sizeof(cli_commands[0]))
/* The column where a command's summary starts in the tool's help. */
#define CLI_SUMMARY_COLUMN 51

/* One line of help for cmd: prefix, its words and usage, its summary. */
static void
cli_synopsis(const cli_command *cmd, const char *prefix, FILE *f)
{
	char words[CLI_SUMMARY_COLUMN + 1];

	(void) snprintf(words, sizeof(words), "%s%s%s%s%s", cmd->group, cmd->verb != NULL ? " " : "",
	    cmd->verb != NULL ? cmd->verb : "", cmd->usage[0] != '\0' ? " " : "", cmd->usage);
	fprintf(f, "%s%-*s%s\n", prefix, CLI_SUMMARY_COLUMN, words, cmd->summary);
}

static void
cli_tool_help(FILE *f)
{
	fputs("paywire - command-line client of paywire-server\n"
	      "\n"
	      "usage: paywire [--server URL] [--timeout-ms N] [--retries N] [--json] COMMAND ...\n"
	      "       paywire COMMAND --help\n"
	      "\n"
	      "commands:\n",
	    f);
	for (size_t i = 0; i < CLI_COMMANDS_LEN; i++) {
		cli_synopsis(&cli_commands[i], "  ", f);
	}
	fputs("\n"
	      "options (before or after the command):\n"
	      "  --server URL     server address: tcp://HOST:PORT or ipc:///PATH\n"
	      "                   (default: $PAYWIRE_SERVER, else " CLI_SERVER_DEFAULT ")\n"
	      "  --timeout-ms N   wait per attempt, 1..600000 ms (default 5000)\n"
	      "  --retries N      re-sends of the same request (same request_id) after a\n"
	      "                   timeout, 0..32 (default 3); the server applies it once.\n"
	      "                   A refused connection (no server listening) is not\n"
	      "                   retried: UNAVAILABLE at once, naming the address\n"
	      "  --json           print one JSON object; money as integer minor units\n"
	      "  --help           this text; 'paywire COMMAND --help' for one command\n"
	      "  --version        print the version\n"
	      "\n"
	      "environment:\n"
	      "  PAYWIRE_SERVER     server address\n"
	      "  PAYWIRE_ADMIN_KEY  admin key (merchant create, key revoke, audit verify)\n"
	      "  PAYWIRE_API_KEY    merchant API key (session create|cancel, credits, key\n"
	      "                     create|list|roll)\n"
	      "  PAYWIRE_DATA       data directory (backup, doctor)\n"
	      "\n"
	      "exit codes:\n"
	      "  0  success\n"
	      "  1  the server or the transport reported an error ('error: CODE: message'\n"
	      "     on stderr; for UNAVAILABLE and TIMEOUT also 'server: URL (where the\n"
	      "     address came from)'), or audit verify found a broken chain\n"
	      "  2  usage error: nothing was sent\n"
	      "  doctor: 0 every check OK, 1 a warning, 2 a failure\n"
	      "\n"
	      "examples:\n"
	      "  export PAYWIRE_API_KEY=$(paywire --json merchant create --name Shop | jq -r .api_key)\n"
	      "  paywire session create --amount 49.00 --currency EUR --plan pro\n"
	      "  paywire --json status cs_0190f3c2a1b24f...\n",
	    f);
}

/* Finds the command for argv[0] (and argv[1]); *used = words consumed. */
static const cli_command *
cli_find(int argc, char **argv, int *used, bool *group_known)
{
	*group_known = false;
	for (size_t i = 0; i < CLI_COMMANDS_LEN; i++) {
		const cli_command *cmd = &cli_commands[i];
		if (strcmp(argv[0], cmd->group) != 0) {
			continue;
		}
		*group_known = true;
		if (cmd->verb == NULL) {
			*used = 1;
			return cmd;
		}
		if (argc > 1 && strcmp(argv[1], cmd->verb) == 0) {
			*used = 2;
			return cmd;
		}
		/* a verb of two words ("quarantine list"): argv[1] argv[2] */
		const char *sp = strchr(cmd->verb, ' ');
		if (sp != NULL && argc > 2 && strlen(argv[1]) == (size_t) (sp - cmd->verb) &&
		    strncmp(argv[1], cmd->verb, (size_t) (sp - cmd->verb)) == 0 &&
		    strcmp(argv[2], sp + 1) == 0) {
			*used = 3;
			return cmd;
		}
	}
	return NULL;
}

static int
cli_group_help(const char *group, FILE *f)
{
	fprintf(f, "usage:\n");
	for (size_t i = 0; i < CLI_COMMANDS_LEN; i++) {
		if (strcmp(cli_commands[i].group, group) == 0) {
			cli_synopsis(&cli_commands[i], "  paywire ", f);
		}
	}
	fprintf(f, "('paywire %s VERB --help' for details)\n", group);
	return 0;
}

/* --version, the tool's one option of its own (args: the bool it sets). */
static int
cli_version_opt(void *args, cli_globals *g, int opt, char *arg)
{
	(void) g;
	(void) arg;
	PW_ASSERT(opt == OPT_VERSION);
	*(bool *) args = true;
	return CLI_EXIT_OK;
}

/* The options before the command word ('+': getopt stops at the command). */
static int
cli_main_opts(cli_globals *g, int argc, char **argv, bool *help, bool *version)
{
	static const struct option opts[] = { CLI_GLOBAL_OPTS,
		{ "version", no_argument, NULL, OPT_VERSION }, CLI_OPTS_END };

	return cli_parse(g, argc, argv, "+:", opts, cli_version_opt, version, help);
}

static int
cli_dispatch(cli_globals *g, int argc, char **argv)
{
	const cli_command *cmd;
	char name[64];
	bool group_known;
	int used = 0;

	cmd = cli_find(argc, argv, &used, &group_known);
	if (cmd == NULL && group_known) {
		if (argc > 1 && strcmp(argv[1], "--help") == 0) {
			return cli_group_help(argv[0], stdout);
		}
		g->cmd_name = NULL;
		cli_usage_error(g, "unknown or missing verb after '%s'", argv[0]);
		cli_group_help(argv[0], stderr);
		return CLI_EXIT_USAGE;
	}
	if (cmd == NULL) {
		return cli_usage_error(g, "unknown command '%s'", argv[0]);
	}
	snprintf(name, sizeof(name), "%s%s%s ", cmd->group, cmd->verb != NULL ? " " : "",
	    cmd->verb != NULL ? cmd->verb : "");
	g->cmd_name = name;
	/* The command parses from its last word on: argv[0] = "create". */
	return cli_run(g, argc - (used - 1), argv + (used - 1), cmd);
}

int
main(int argc, char **argv)
{
	cli_globals g = {
		.server = getenv("PAYWIRE_SERVER"),
		.server_from = CLI_FROM_ENV,
		.timeout_ms = PW_CLIENT_TIMEOUT_MS_DEFAULT,
		.retries = PW_CLIENT_RETRIES_DEFAULT,
	};
	bool help = false;
	bool version = false;
	int rv;

	if (g.server == NULL || g.server[0] == '\0') {
		g.server = CLI_SERVER_DEFAULT;
		g.server_from = CLI_FROM_DEFAULT;
	}
	rv = cli_main_opts(&g, argc, argv, &help, &version);
	if (rv != CLI_EXIT_OK) {
		return rv;
	}
	if (version) {
		printf("paywire %s\n", PW_VERSION_LINE);
		return CLI_EXIT_OK;
	}
	if (help) {
		cli_tool_help(stdout);
		return CLI_EXIT_OK;
	}
	if (optind >= argc) {
		cli_tool_help(stderr);
		return CLI_EXIT_USAGE;
	}
	return cli_dispatch(&g, argc - optind, argv + optind);
}
