/*
 * cli_store.c - `paywire store copy` (cli_store.h) over store_copy
 * (store/store_copy.c).
 */
#include "cli_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static pw_status
cli_store_fail(pw_error *err, pw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static pw_status
cli_store_fail(pw_error *err, pw_status st, const char *fmt, ...)
{
	va_list ap;

	err->code = st;
	va_start(ap, fmt);
	(void) vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return st;
}

bool
cli_store_is_postgres(const char *s)
{
	return store_url_is_postgres(s);
}

/* Copies <src_dir>/paywire.key to <dst_dir>/paywire.key (created 0700 and
 * 0600, never over an existing key). *copied tells whether it did. */
static pw_status
cli_store_key_copy(const char *src_dir, const char *dst_dir, bool *copied, pw_error *err)
{
	char src[4096];
	char dst[4096];
	unsigned char key[64];
	ssize_t n;
	int in;
	int out;

	*copied = false;
	if (strcmp(src_dir, dst_dir) == 0) {
		return PW_OK;
	}
	(void) snprintf(src, sizeof(src), "%s/paywire.key", src_dir);
	(void) snprintf(dst, sizeof(dst), "%s/paywire.key", dst_dir);
	if (access(dst, F_OK) == 0) {
		return PW_OK; /* the store checks it at open */
	}
	if (mkdir(dst_dir, 0700) != 0 && errno != EEXIST) {
		return cli_store_fail(err, PW_UNAVAILABLE, "cannot create %s: %s", dst_dir,
		    strerror(errno));
	}
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		return cli_store_fail(err, PW_FAILED_PRECONDITION, "cannot read the master key %s: %s",
		    src, strerror(errno));
	}
	n = read(in, key, sizeof(key));
	(void) close(in);
	if (n != 32) {
		return cli_store_fail(err, PW_FAILED_PRECONDITION, "%s is not a 32-byte master key",
		    src);
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		return cli_store_fail(err, PW_UNAVAILABLE, "cannot create %s: %s", dst, strerror(errno));
	}
	n = write(out, key, 32);
	memset(key, 0, sizeof(key));
	if (n != 32 || fsync(out) != 0) {
		(void) close(out);
		(void) unlink(dst);
		return cli_store_fail(err, PW_UNAVAILABLE, "cannot write %s", dst);
	}
	(void) close(out);
	*copied = true;
	return PW_OK;
}

pw_status
cli_store_copy(const char *from, const char *to, const char *key_dir, cli_store_copy_result *out,
    pw_error *err)
{
	bool from_pg = cli_store_is_postgres(from);
	bool to_pg = cli_store_is_postgres(to);
	const char *keys;
	store_opts src = { .sync = STORE_SYNC_FULL };
	store_opts dst = { .sync = STORE_SYNC_FULL };
	store_copy_report r;
	char why[512];
	pw_status st;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	keys = from_pg ? key_dir : from;
	if (keys == NULL) {
		return cli_store_fail(err, PW_INVALID_ARGUMENT, "the source is a PostgreSQL database: "
		    "pass --key-dir DIR, the directory holding its paywire.key (the servers' --data)");
	}
	if (!from_pg && !to_pg && strcmp(from, to) == 0) {
		return cli_store_fail(err, PW_INVALID_ARGUMENT, "--from and --to are the same directory");
	}
	src.dir = keys;
	src.url = from_pg ? from : NULL;
	dst.dir = to_pg ? keys : to;
	dst.url = to_pg ? to : NULL;
	if (!to_pg) {
		st = cli_store_key_copy(keys, to, &out->key_copied, err);
		if (st != PW_OK) {
			return st;
		}
	}
	st = store_copy(&src, &dst, &r, why, sizeof(why));
	if (st != PW_OK) {
		return cli_store_fail(err, st, "%s", why[0] != '\0' ? why : pw_status_message(st));
	}
	out->records = r.records;
	out->tables = r.tables;
	out->audit_records = r.audit.records;
	for (size_t i = 0; i < sizeof(r.audit.head_hash); i++) {
		(void) snprintf(out->head_hash_hex + 2 * i, 3, "%02x", r.audit.head_hash[i]);
	}
	return PW_OK;
}
