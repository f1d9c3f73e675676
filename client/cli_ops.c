/*
 * cli_ops.c - `paywire backup`, `restore` and `doctor` (cli_ops.h) over the
 * store's outside view of an LMDB data directory (store_lmdb_* in store.h)
 * and a read-only store_open for the audit chain.
 */
#include "cli_ops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <paywire/provider.h>
#include <paywire/version.h>

#include "pw_common.h"
#include "pw_limits.h"
#include "store.h"

#define OPS_KEY_FILE "paywire.key"
#define OPS_ENV_FILE "paywire.env"
#define OPS_COPY_CHUNK (1u << 20)

static pw_status
ops_fail(pw_error *err, pw_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static pw_status
ops_fail(pw_error *err, pw_status st, const char *fmt, ...)
{
	va_list ap;

	err->code = st;
	va_start(ap, fmt);
	(void) vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return st;
}

static int64_t
ops_now_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dir/name into out; false if it does not fit. */
static bool
ops_path(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n > 0 && (size_t) n < size;
}

/* -1: path does not exist; 0: an empty directory; 1: anything else. */
static int
ops_dir_state(const char *path)
{
	struct stat sb;
	struct dirent *d;
	DIR *dir;
	int state = 0;

	if (lstat(path, &sb) != 0) {
		return errno == ENOENT ? -1 : 1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		return 1;
	}
	dir = opendir(path);
	if (dir == NULL) {
		return 1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
			state = 1;
			break;
		}
	}
	(void) closedir(dir);
	return state;
}

static void
ops_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		(void) fsync(fd);
		(void) close(fd);
	}
}

/* The directory holding path (for its fsync after a rename). */
static void
ops_fsync_parent(const char *path)
{
	char parent[PATH_MAX];
	char *slash;

	(void) snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash == NULL) {
		(void) snprintf(parent, sizeof(parent), ".");
	} else if (slash == parent) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	ops_fsync_path(parent);
}

/* Copies the regular file src to the new file dst (mode 0600), fsynced. */
static pw_status
ops_copy_file(const char *src, const char *dst, pw_error *err)
{
	char *buf;
	struct stat sb;
	pw_status st = PW_OK;
	int in;
	int out;

	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "cannot read %s: %s", src, strerror(errno));
	}
	if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		(void) close(in);
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s is not a regular file", src);
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		(void) close(in);
		return ops_fail(err, PW_UNAVAILABLE, "cannot create %s: %s", dst, strerror(errno));
	}
	buf = malloc(OPS_COPY_CHUNK);
	if (buf == NULL) {
		st = ops_fail(err, PW_RESOURCE_EXHAUSTED, "out of memory");
	}
	while (st == PW_OK) {
		ssize_t n = read(in, buf, OPS_COPY_CHUNK);
		ssize_t done = 0;

		if (n == 0) {
			break;
		}
		if (n < 0) {
			st = ops_fail(err, PW_UNAVAILABLE, "cannot read %s: %s", src, strerror(errno));
			break;
		}
		while (done < n) {
			ssize_t w = write(out, buf + done, (size_t) (n - done));
			if (w <= 0) {
				st = ops_fail(err, PW_UNAVAILABLE, "cannot write %s: %s", dst,
				    w < 0 ? strerror(errno) : "short write");
				break;
			}
			done += w;
		}
	}
	if (buf != NULL) {
		sodium_memzero(buf, OPS_COPY_CHUNK); /* it may have held the master key */
		free(buf);
	}
	if (st == PW_OK && fsync(out) != 0) {
		st = ops_fail(err, PW_UNAVAILABLE, "cannot fsync %s: %s", dst, strerror(errno));
	}
	(void) close(out);
	(void) close(in);
	if (st != PW_OK) {
		(void) unlink(dst);
	}
	return st;
}

/* Removes the files (not subdirectories) of a directory this command
 * created, then the directory. */
static void
ops_remove_tmp(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (dp != NULL) {
		while ((d = readdir(dp)) != NULL) {
			if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0 &&
			    ops_path(path, sizeof(path), dir, d->d_name)) {
				(void) unlink(path);
			}
		}
		(void) closedir(dp);
	}
	(void) rmdir(dir);
}

static void
ops_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		(void) snprintf(out + 2 * i, 3, "%02x", b[i]);
	}
}

/* Opens the store in dir read-only and verifies its audit chain; then
 * removes the lock file the open created (a copy carries none). */
static pw_status
ops_verify(const char *dir, uint64_t *records, char head_hex[65], pw_error *err)
{
	store_opts o = { .dir = dir, .sync = STORE_SYNC_FULL, .read_only = true };
	store_audit_report r;
	char lock[PATH_MAX];
	store *s = NULL;
	pw_status st;

	st = store_open(&s, &o);
	if (st != PW_OK) {
		return ops_fail(err, st, "the copy in %s does not open as a paywire store (%s): "
		    "nothing was installed", dir, pw_status_name(st));
	}
	st = store_audit_verify(s, &r);
	store_close(s);
	if (ops_path(lock, sizeof(lock), dir, "lock.mdb")) {
		(void) unlink(lock);
	}
	if (st != PW_OK) {
		return ops_fail(err, st, "cannot verify the audit chain of %s: %s", dir,
		    pw_status_name(st));
	}
	if (!r.ok) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "the audit chain of %s is broken at seq %llu (%s)",
		    dir, (unsigned long long) r.first_bad_seq, r.detail);
	}
	*records = r.records;
	ops_hex(r.head_hash, sizeof(r.head_hash), head_hex);
	return PW_OK;
}

/* Copies dir/name into tmp/name; a missing optional file is no error.
 * *copied tells whether it did. */
static pw_status
ops_copy_named(const char *dir, const char *tmp, const char *name, bool required, bool *copied,
    pw_error *err)
{
	char src[PATH_MAX];
	char dst[PATH_MAX];

	if (copied != NULL) {
		*copied = false;
	}
	if (!ops_path(src, sizeof(src), dir, name) || !ops_path(dst, sizeof(dst), tmp, name)) {
		return ops_fail(err, PW_INVALID_ARGUMENT, "a path under %s is too long", dir);
	}
	if (!required && access(src, F_OK) != 0) {
		return PW_OK;
	}
	if (required && access(src, F_OK) != 0) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s has no %s: %s", dir, name,
		    strerror(errno));
	}
	if (ops_copy_file(src, dst, err) != PW_OK) {
		return err->code;
	}
	if (copied != NULL) {
		*copied = true;
	}
	return PW_OK;
}

pw_status
cli_backup(const char *data_dir, const char *dest, cli_backup_result *out, pw_error *err)
{
	char tmp[PATH_MAX];
	char data[PATH_MAX];
	struct stat sb;
	int dest_state;
	char why[512];
	pw_status st;

	pw_log_set_level(PW_LOG_WARN); /* the store's "opened" lines are noise here */
	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (store_url_is_postgres(data_dir)) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "the store is a PostgreSQL database: back "
		    "it up with pg_dump (pg_dump --schema=paywire --format=custom), and keep a copy "
		    "of the servers' paywire.key; docs/OPERATIONS.md \"Backups\"");
	}
	if (!ops_path(data, sizeof(data), data_dir, "data.mdb") || stat(data, &sb) != 0) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s is not a paywire data directory (no "
		    "data.mdb)", data_dir);
	}
	dest_state = ops_dir_state(dest);
	if (dest_state > 0) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s exists and is not an empty directory: "
		    "back up into a new directory", dest);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dest) >= (int) sizeof(tmp)) {
		return ops_fail(err, PW_INVALID_ARGUMENT, "the path %s is too long", dest);
	}
	if (mkdir(tmp, 0700) != 0) {
		return ops_fail(err, errno == EEXIST ? PW_FAILED_PRECONDITION : PW_UNAVAILABLE,
		    "cannot create %s: %s%s", tmp, strerror(errno),
		    errno == EEXIST ? " (left by a backup that did not finish? remove it)" : "");
	}
	out->started_ms = ops_now_ms();
	st = store_lmdb_backup(data_dir, tmp, &out->last_txnid, why, sizeof(why));
	if (st != PW_OK) {
		(void) ops_fail(err, st, "%s", why);
	}
	if (st == PW_OK) {
		st = ops_copy_named(data_dir, tmp, OPS_KEY_FILE, true, NULL, err);
	}
	if (st == PW_OK) {
		st = ops_copy_named(data_dir, tmp, OPS_ENV_FILE, false, &out->env_copied, err);
	}
	if (st == PW_OK) {
		st = ops_verify(tmp, &out->audit_records, out->head_hash_hex, err);
	}
	if (st == PW_OK && ops_path(data, sizeof(data), tmp, "data.mdb") && stat(data, &sb) == 0) {
		out->data_bytes = (uint64_t) sb.st_size;
		ops_fsync_path(data);
		ops_fsync_path(tmp);
	}
	if (st == PW_OK && dest_state == 0 && rmdir(dest) != 0) {
		st = ops_fail(err, PW_UNAVAILABLE, "cannot replace the empty directory %s: %s", dest,
		    strerror(errno));
	}
	if (st == PW_OK && rename(tmp, dest) != 0) {
		st = ops_fail(err, PW_UNAVAILABLE, "cannot rename %s to %s: %s", tmp, dest,
		    strerror(errno));
	}
	if (st != PW_OK) {
		ops_remove_tmp(tmp);
		return st;
	}
	ops_fsync_parent(dest);
	return PW_OK;
}

pw_status
cli_restore(const char *src, const char *data_dir, bool force, cli_restore_result *out,
    pw_error *err)
{
	char tmp[PATH_MAX];
	char path[PATH_MAX];
	long pid = 0;
	int state;
	pw_status st;

	pw_log_set_level(PW_LOG_WARN); /* the store's "opened" lines are noise here */
	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	if (store_url_is_postgres(data_dir) || store_url_is_postgres(src)) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "restore works on LMDB data directories; "
		    "a PostgreSQL store is restored with pg_restore (docs/OPERATIONS.md \"Backups\")");
	}
	if (!ops_path(path, sizeof(path), src, "data.mdb") || access(path, R_OK) != 0 ||
	    !ops_path(path, sizeof(path), src, OPS_KEY_FILE) || access(path, R_OK) != 0) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s is not a paywire backup (it needs "
		    "data.mdb and paywire.key, as `paywire backup` writes them)", src);
	}
	if (store_lmdb_in_use(data_dir, &pid)) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s is in use: process %ld has its store "
		    "open (a running paywire-server?); stop it first, restore never replaces a live "
		    "data directory", data_dir, pid);
	}
	state = ops_dir_state(data_dir);
	if (state > 0 && !force) {
		return ops_fail(err, PW_FAILED_PRECONDITION, "%s exists and is not empty: restore into a "
		    "new directory, or pass --force to replace it (it is kept, renamed to "
		    "%s.replaced-UNIXTIME)", data_dir, data_dir);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.restore-tmp", data_dir) >= (int) sizeof(tmp)) {
		return ops_fail(err, PW_INVALID_ARGUMENT, "the path %s is too long", data_dir);
	}
	if (mkdir(tmp, 0700) != 0) {
		return ops_fail(err, errno == EEXIST ? PW_FAILED_PRECONDITION : PW_UNAVAILABLE,
		    "cannot create %s: %s%s", tmp, strerror(errno),
		    errno == EEXIST ? " (left by a restore that did not finish? remove it)" : "");
	}
	st = ops_copy_named(src, tmp, "data.mdb", true, NULL, err);
	if (st == PW_OK) {
		st = ops_copy_named(src, tmp, OPS_KEY_FILE, true, NULL, err);
	}
	if (st == PW_OK) {
		st = ops_copy_named(src, tmp, OPS_ENV_FILE, false, NULL, err);
	}
	if (st == PW_OK) {
		st = ops_verify(tmp, &out->audit_records, out->head_hash_hex, err);
	}
	if (st == PW_OK) {
		ops_fsync_path(tmp);
		/* Asked again right before the swap: a server may have started. */
		if (store_lmdb_in_use(data_dir, &pid)) {
			st = ops_fail(err, PW_FAILED_PRECONDITION, "%s is in use: process %ld opened "
			    "its store during the restore; stop it first", data_dir, pid);
		}
	}
	state = ops_dir_state(data_dir);
	if (st == PW_OK && state == 0 && rmdir(data_dir) != 0) {
		st = ops_fail(err, PW_UNAVAILABLE, "cannot replace the empty directory %s: %s",
		    data_dir, strerror(errno));
	}
	if (st == PW_OK && state > 0) {
		(void) snprintf(out->moved_aside, sizeof(out->moved_aside), "%s.replaced-%lld", data_dir,
		    (long long) (ops_now_ms() / 1000));
		if (rename(data_dir, out->moved_aside) != 0) {
			st = ops_fail(err, PW_UNAVAILABLE, "cannot move %s aside to %s: %s", data_dir,
			    out->moved_aside, strerror(errno));
			out->moved_aside[0] = '\0';
		}
	}
	if (st == PW_OK && rename(tmp, data_dir) != 0) {
		st = ops_fail(err, PW_UNAVAILABLE, "cannot rename %s to %s: %s", tmp, data_dir,
		    strerror(errno));
	}
	if (st != PW_OK) {
		ops_remove_tmp(tmp);
		return st;
	}
	ops_fsync_parent(data_dir);
	return PW_OK;
}

/* ---- doctor ---- */

typedef struct doc_ctx {
	cli_doctor_fn *fn;
	void *arg;
	cli_doctor_level worst;
} doc_ctx;

static void
doc_say(doc_ctx *d, cli_doctor_level level, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
doc_say(doc_ctx *d, cli_doctor_level level, const char *check, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (level > d->worst) {
		d->worst = level;
	}
	d->fn(d->arg, level, check, why);
}

/* A file or directory holding secrets: owned by us, nothing for group or
 * others (want: 0700 or 0600). */
static bool
doc_mode(doc_ctx *d, const char *check, const char *path, bool dir, unsigned want)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		doc_say(d, CLI_DOCTOR_FAIL, check, "%s: %s", path, strerror(errno));
		return false;
	}
	if (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode)) {
		doc_say(d, CLI_DOCTOR_FAIL, check, "%s is not a %s", path,
		    dir ? "directory" : "regular file");
		return false;
	}
	if ((sb.st_mode & 077) != 0) {
		doc_say(d, CLI_DOCTOR_FAIL, check, "%s has mode %04o: group or others may %s it "
		    "(chmod %o %s)", path, (unsigned) (sb.st_mode & 07777), dir ? "enter" : "read",
		    want, path);
		return false;
	}
	if (sb.st_uid != geteuid()) {
		doc_say(d, CLI_DOCTOR_WARN, check, "%s is owned by uid %u, not by uid %u running "
		    "this check (the server's user should own it)", path, (unsigned) sb.st_uid,
		    (unsigned) geteuid());
		return true;
	}
	doc_say(d, CLI_DOCTOR_OK, check, "%s mode %04o, owner uid %u", path,
	    (unsigned) (sb.st_mode & 07777), (unsigned) sb.st_uid);
	return true;
}

static void
doc_key_file(doc_ctx *d, const char *data_dir)
{
	char path[PATH_MAX];
	struct stat sb;

	if (!ops_path(path, sizeof(path), data_dir, OPS_KEY_FILE)) {
		return;
	}
	if (!doc_mode(d, "key_file", path, false, 0600)) {
		return;
	}
	if (stat(path, &sb) == 0 && sb.st_size != 32) {
		doc_say(d, CLI_DOCTOR_FAIL, "key_file_size", "%s holds %lld bytes, not a 32-byte key",
		    path, (long long) sb.st_size);
	}
}

static void
doc_lmdb(doc_ctx *d, const char *data_dir)
{
	store_lmdb_info info;
	char why[512];
	long pid = 0;
	double pct;

	if (store_lmdb_in_use(data_dir, &pid)) {
		doc_say(d, CLI_DOCTOR_OK, "server", "process %ld has the store open", pid);
	} else {
		doc_say(d, CLI_DOCTOR_OK, "server", "no process has the store open");
	}
	if (store_lmdb_inspect(data_dir, &info, why, sizeof(why)) != PW_OK) {
		doc_say(d, CLI_DOCTOR_FAIL, "map_usage", "%s", why);
		return;
	}
	pct = info.map_bytes > 0 ? 100.0 * (double) info.used_bytes / (double) info.map_bytes : 100.0;
	doc_say(d, pct >= PW_DOCTOR_MAP_FAIL_PCT ? CLI_DOCTOR_FAIL :
	    pct > PW_DOCTOR_MAP_WARN_PCT ? CLI_DOCTOR_WARN : CLI_DOCTOR_OK, "map_usage",
	    "%.1f%% of the map used (%llu of %llu bytes; warn above %d%%, fail at %d%%: raise "
	    "--map-size)", pct, (unsigned long long) info.used_bytes,
	    (unsigned long long) info.map_bytes, PW_DOCTOR_MAP_WARN_PCT, PW_DOCTOR_MAP_FAIL_PCT);
	if (info.stale_cleared > 0) {
		doc_say(d, CLI_DOCTOR_WARN, "reader_slots", "%d stale reader slot(s) of dead processes "
		    "were freed (a process died inside a read); %u of %u in use", info.stale_cleared,
		    info.readers_used, info.readers_max);
	} else {
		doc_say(d, info.readers_used * 10 >= info.readers_max * 9 ? CLI_DOCTOR_WARN :
		    CLI_DOCTOR_OK, "reader_slots", "no stale reader slot; %u of %u in use",
		    info.readers_used, info.readers_max);
	}
}

static void
doc_audit(doc_ctx *d, const char *data_dir)
{
	store_opts o = { .dir = data_dir, .sync = STORE_SYNC_FULL, .read_only = true };
	store_audit_report r;
	store *s = NULL;
	pw_status st = store_open(&s, &o);

	if (st != PW_OK) {
		struct stat sb;
		bool other = stat(data_dir, &sb) == 0 && sb.st_uid != geteuid();

		doc_say(d, CLI_DOCTOR_FAIL, "store_format", "the store in %s does not open (%s): %s",
		    data_dir, pw_status_name(st), other ? "run the doctor as the user owning it "
		    "(the store opens only a key file of its own user)" : "not a paywire store of "
		    "this format, or its key file does not match");
		return;
	}
	doc_say(d, CLI_DOCTOR_OK, "store_format", "opens as store format %d (paywire %s reads "
	    "format %d)", STORE_FORMAT_VERSION, PW_VERSION_STRING, STORE_FORMAT_VERSION);
	st = store_audit_verify(s, &r);
	store_close(s);
	if (st != PW_OK) {
		doc_say(d, CLI_DOCTOR_FAIL, "audit_chain", "cannot walk the audit chain: %s",
		    pw_status_name(st));
	} else if (!r.ok) {
		doc_say(d, CLI_DOCTOR_FAIL, "audit_chain", "broken at seq %llu: %s",
		    (unsigned long long) r.first_bad_seq, r.detail);
	} else {
		doc_say(d, CLI_DOCTOR_OK, "audit_chain", "intact, %llu records",
		    (unsigned long long) r.records);
	}
}

/* ---- doctor: the configuration ---- */

/* The kinds of value a PAYWIRE_* variable takes (the server's rules:
 * server/srv_config.c secret_var_check, server/srv_webhook.c). */
typedef enum doc_kind {
	DOC_ADMIN,     /* PW_SECRET_BYTES_MIN..PW_ADMIN_KEY_BYTES_MAX printable */
	DOC_TOKEN,     /* PW_TOKEN_SECRET_BYTES_MIN..MAX printable */
	DOC_WH_STRIPE, /* whsec_..., the raw string is the key */
	DOC_WH_RAW,    /* the raw string is the key */
	DOC_WH_STD,    /* whsec_<base64>: the decoded bytes are the key */
	DOC_OTHER,     /* not a secret: not checked here */
} doc_kind;

static const struct {
	const char *var;
	doc_kind kind;
} doc_vars[] = {
	{ "PAYWIRE_ADMIN_KEY", DOC_ADMIN },
	{ "PAYWIRE_TOKEN_SECRET", DOC_TOKEN },
	{ "PAYWIRE_STRIPE_WEBHOOK_SECRET", DOC_WH_STRIPE },
	{ "PAYWIRE_RAZORPAY_WEBHOOK_SECRET", DOC_WH_RAW },
	{ "PAYWIRE_ONECOM_WEBHOOK_SECRET", DOC_WH_STD },
	{ "PAYWIRE_WEB3_WEBHOOK_SECRET", DOC_WH_STD },
	{ "PAYWIRE_FAKE_WEBHOOK_SECRET", DOC_WH_STD },
	{ "PAYWIRE_WEB3_MIN_CONFIRMATIONS", DOC_OTHER },
	{ "PAYWIRE_STORE", DOC_OTHER },
};
#define DOC_VARS (sizeof(doc_vars) / sizeof(doc_vars[0]))

/* Printable ASCII without spaces; else why names the byte. */
static bool
doc_printable(const char *v, size_t len, char *why, size_t why_size)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) v[i];
		if (c <= 0x20 || c >= 0x7f) {
			(void) snprintf(why, why_size, "byte %zu is whitespace, a control byte or not "
			    "ASCII", i + 1);
			return false;
		}
	}
	return true;
}

/* A separator of a secret list (server/srv_webhook.c wh_is_sep). */
static bool
doc_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* One webhook secret (one item of a list). */
static bool
doc_wh_one(doc_kind kind, const char *v, size_t len, char *why, size_t why_size)
{
	size_t key_len = len;

	if (len > PW_WEBHOOK_SECRET_BYTES_MAX) {
		(void) snprintf(why, why_size, "is longer than %d bytes", PW_WEBHOOK_SECRET_BYTES_MAX);
		return false;
	}
	if (!doc_printable(v, len, why, why_size)) {
		return false;
	}
	if ((kind == DOC_WH_STRIPE || kind == DOC_WH_STD) && (len <= 6 ||
	    strncmp(v, "whsec_", 6) != 0)) {
		(void) snprintf(why, why_size, "must start with whsec_");
		return false;
	}
	if (kind == DOC_WH_STD) {
		unsigned char key[PW_WEBHOOK_SECRET_BYTES_MAX];
		bool ok = false;
		const int variants[] = { sodium_base64_VARIANT_ORIGINAL,
			sodium_base64_VARIANT_ORIGINAL_NO_PADDING };

		for (size_t i = 0; i < 2 && !ok; i++) {
			const char *end = NULL;
			size_t bin = 0;
			ok = sodium_base642bin(key, sizeof(key), v + 6, len - 6, NULL, &bin, &end,
			    variants[i]) == 0 && end == v + len && bin >= 1;
			key_len = bin;
		}
		sodium_memzero(key, sizeof(key));
		if (!ok) {
			(void) snprintf(why, why_size, "must be whsec_<base64>");
			return false;
		}
	}
	if (key_len < PW_SECRET_BYTES_MIN) {
		(void) snprintf(why, why_size, "gives a %zu-byte key, shorter than %d bytes", key_len,
		    PW_SECRET_BYTES_MIN);
		return false;
	}
	return true;
}

/* Checks one variable's value; why (never the value) when it is wrong. */
static bool
doc_value_ok(doc_kind kind, const char *v, char *why, size_t why_size)
{
	size_t len = strlen(v);
	size_t min = kind == DOC_TOKEN ? PW_TOKEN_SECRET_BYTES_MIN : PW_SECRET_BYTES_MIN;
	size_t max = kind == DOC_TOKEN ? PW_TOKEN_SECRET_BYTES_MAX : PW_ADMIN_KEY_BYTES_MAX;
	size_t at = 0;
	size_t item = 1;

	if (kind == DOC_OTHER) {
		return true;
	}
	if (len == 0) {
		(void) snprintf(why, why_size, "is set but empty");
		return false;
	}
	if (kind == DOC_ADMIN || kind == DOC_TOKEN) {
		if (len < min || len > max) {
			(void) snprintf(why, why_size, "is %s than %zu bytes (it must be %zu..%zu bytes)",
			    len < min ? "shorter" : "longer", len < min ? min : max, min, max);
			return false;
		}
		return doc_printable(v, len, why, why_size);
	}
	/* a list (rotation): the server's wh_list_split rules, separators a
	 * comma or whitespace, at most one comma between two secrets */
	if (doc_sep(v[0]) || doc_sep(v[len - 1])) {
		(void) snprintf(why, why_size, "starts or ends with whitespace or a comma (a trailing "
		    "newline?); it is never trimmed");
		return false;
	}
	while (at < len) {
		size_t begin = at;
		size_t commas = 0;
		char one[160];

		if (item > PW_SECRETS_PER_PROVIDER_MAX) {
			(void) snprintf(why, why_size, "lists more than %d secrets",
			    PW_SECRETS_PER_PROVIDER_MAX);
			return false;
		}
		while (at < len && !doc_sep(v[at])) {
			at++;
		}
		if (!doc_wh_one(kind, v + begin, at - begin, one, sizeof(one))) {
			(void) snprintf(why, why_size, "item %zu %s", item, one);
			return false;
		}
		for (; at < len && doc_sep(v[at]); at++) {
			commas += v[at] == ',';
		}
		if (commas > 1) {
			(void) snprintf(why, why_size, "has an empty item after item %zu", item);
			return false;
		}
		item++;
	}
	return true;
}

/* Values found for doc_vars (pointers into buf or the environment). */
typedef struct doc_config {
	const char *val[DOC_VARS];
	char *buf;   /* the file's bytes, lines cut */
	size_t size; /* its size, for the wipe */
} doc_config;

/* Reads a config file: KEY=VALUE lines as the server's --config (mode 0600,
 * known keys only, each once, optional quotes). */
static bool
doc_config_read(doc_ctx *d, const char *path, doc_config *c)
{
	struct stat sb;
	char *line;
	FILE *f;
	size_t got;
	int line_no = 0;

	if (!doc_mode(d, "config_file", path, false, 0600)) {
		return false;
	}
	if (stat(path, &sb) != 0 || sb.st_size > PW_CONFIG_FILE_BYTES_MAX) {
		doc_say(d, CLI_DOCTOR_FAIL, "config_file", "%s is over %d bytes", path,
		    PW_CONFIG_FILE_BYTES_MAX);
		return false;
	}
	f = fopen(path, "re");
	c->size = (size_t) sb.st_size + 1;
	c->buf = calloc(1, c->size);
	if (f == NULL || c->buf == NULL) {
		doc_say(d, CLI_DOCTOR_FAIL, "config_file", "cannot read %s", path);
		if (f != NULL) {
			(void) fclose(f);
		}
		return false;
	}
	got = fread(c->buf, 1, (size_t) sb.st_size, f);
	(void) fclose(f);
	c->buf[got] = '\0';
	for (char *next = c->buf; next != NULL;) {
		char *eq;
		size_t k;
		size_t vlen;

		line = next;
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = '\0';
		}
		line_no++;
		if (strchr(line, '\r') != NULL) {
			doc_say(d, CLI_DOCTOR_FAIL, "config_file", "%s line %d: carriage return (save the "
			    "file with Unix line endings)", path, line_no);
			return false;
		}
		while (*line == ' ' || *line == '\t') {
			line++;
		}
		if (*line == '\0' || *line == '#') {
			continue;
		}
		eq = strchr(line, '=');
		for (k = 0; eq != NULL && k < DOC_VARS; k++) {
			if (strlen(doc_vars[k].var) == (size_t) (eq - line) &&
			    strncmp(line, doc_vars[k].var, (size_t) (eq - line)) == 0) {
				break;
			}
		}
		if (eq == NULL || k == DOC_VARS) {
			doc_say(d, CLI_DOCTOR_FAIL, "config_file", "%s line %d: expected KEY=VALUE with "
			    "KEY one of the PAYWIRE_* variables of paywire-server --help", path, line_no);
			return false;
		}
		if (c->val[k] != NULL) {
			doc_say(d, CLI_DOCTOR_FAIL, "config_file", "%s line %d: %s is set twice", path,
			    line_no, doc_vars[k].var);
			return false;
		}
		line = eq + 1;
		vlen = strlen(line);
		if (vlen >= 2 && (line[0] == '"' || line[0] == '\'') && line[vlen - 1] == line[0]) {
			line[vlen - 1] = '\0';
			line++;
		}
		c->val[k] = line;
	}
	return true;
}

static void
doc_config_check(doc_ctx *d, const char *data_dir, const char *config)
{
	char env_path[PATH_MAX];
	doc_config c = { .buf = NULL };
	const char *from = "the environment";
	bool any_webhook = false;
	bool bad = false;

	if (config == NULL && data_dir != NULL && ops_path(env_path, sizeof(env_path), data_dir,
	    OPS_ENV_FILE) && access(env_path, F_OK) == 0) {
		config = env_path;
	}
	if (config != NULL) {
		from = config;
		if (!doc_config_read(d, config, &c)) {
			if (c.buf != NULL) {
				sodium_memzero(c.buf, c.size);
			}
			free(c.buf);
			return;
		}
	}
	for (size_t k = 0; k < DOC_VARS; k++) {
		/* the environment wins over the file, as in the server */
		const char *env = getenv(doc_vars[k].var);
		if (env != NULL) {
			c.val[k] = env;
		}
	}
	for (size_t k = 0; k < DOC_VARS; k++) {
		char why[200];

		if (c.val[k] == NULL || doc_vars[k].kind == DOC_OTHER) {
			continue;
		}
		if (!doc_value_ok(doc_vars[k].kind, c.val[k], why, sizeof(why))) {
			doc_say(d, CLI_DOCTOR_FAIL, "config", "%s %s", doc_vars[k].var, why);
			bad = true;
		}
		any_webhook |= doc_vars[k].kind >= DOC_WH_STRIPE && doc_vars[k].kind <= DOC_WH_STD;
	}
	if (c.val[0] == NULL) {
		doc_say(d, CLI_DOCTOR_WARN, "config", "PAYWIRE_ADMIN_KEY is not set (in %s): admin "
		    "calls answer PERMISSION_DENIED", from);
		bad = true;
	}
	if (!any_webhook) {
		doc_say(d, CLI_DOCTOR_WARN, "config", "no PAYWIRE_*_WEBHOOK_SECRET is set (in %s): "
		    "every provider's webhooks are refused", from);
		bad = true;
	}
	if (!bad) {
		doc_say(d, CLI_DOCTOR_OK, "config", "secrets from %s present and well-formed", from);
	}
	if (c.buf != NULL) {
		sodium_memzero(c.buf, c.size);
	}
	free(c.buf);
}

/* ---- doctor: the server binary ---- */

/* The server binary: given, or paywire-server beside this program (an
 * install's bin/) or in a build tree's server/, else on PATH. */
static void
doc_server_bin(const char *given, char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (given != NULL) {
		(void) snprintf(out, size, "%s", given);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (ops_path(out, size, self, "paywire-server") && access(out, X_OK) == 0) {
				return;
			}
			if (ops_path(out, size, self, "../server/paywire-server") &&
			    access(out, X_OK) == 0) {
				return;
			}
		}
	}
	(void) snprintf(out, size, "paywire-server");
}

static void
doc_server(doc_ctx *d, const char *given)
{
	char bin[PATH_MAX];
	char cmd[PATH_MAX + 64];
	char line[256] = "";
	FILE *p;
	int rc;

	doc_server_bin(given, bin, sizeof(bin));
	if (strchr(bin, '\'') != NULL) {
		doc_say(d, CLI_DOCTOR_WARN, "server_version", "cannot run %s (a quote in its path)",
		    bin);
		return;
	}
	(void) snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", bin);
	p = popen(cmd, "r");
	if (p == NULL) {
		doc_say(d, CLI_DOCTOR_WARN, "server_version", "cannot run %s", bin);
		return;
	}
	if (fgets(line, sizeof(line), p) == NULL) {
		line[0] = '\0';
	}
	while (fgetc(p) != EOF) {
	}
	rc = pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (rc != 0 || line[0] == '\0') {
		doc_say(d, CLI_DOCTOR_WARN, "server_version", "%s --version did not answer (not "
		    "installed? pass --server-bin)", bin);
		return;
	}
	if (strstr(line, PW_VERSION_STRING) == NULL) {
		doc_say(d, CLI_DOCTOR_WARN, "server_version", "%s is '%s', this paywire is %s: "
		    "install matching versions", bin, line, PW_VERSION_STRING);
		return;
	}
	doc_say(d, CLI_DOCTOR_OK, "server_version", "%s: %s", bin, line);
}

cli_doctor_level
cli_doctor(const char *data_dir, const char *config, const char *server_bin, cli_doctor_fn *fn,
    void *arg)
{
	doc_ctx d = { .fn = fn, .arg = arg, .worst = CLI_DOCTOR_OK };

	pw_log_set_level(PW_LOG_WARN);

	if (data_dir != NULL && store_url_is_postgres(data_dir)) {
		doc_say(&d, CLI_DOCTOR_FAIL, "data_dir", "doctor checks an LMDB data directory; for "
		    "PostgreSQL pass the directory holding paywire.key");
		data_dir = NULL;
	}
	if (data_dir != NULL && doc_mode(&d, "data_dir", data_dir, true, 0700)) {
		char data[PATH_MAX];

		doc_key_file(&d, data_dir);
		if (ops_path(data, sizeof(data), data_dir, "data.mdb") && access(data, F_OK) == 0) {
			doc_lmdb(&d, data_dir);
			doc_audit(&d, data_dir);
		} else {
			doc_say(&d, CLI_DOCTOR_WARN, "store", "%s holds no data.mdb (a PostgreSQL "
			    "store, or no server has started here yet)", data_dir);
		}
	}
	doc_config_check(&d, data_dir, config);
	doc_server(&d, server_bin);
	return d.worst;
}
