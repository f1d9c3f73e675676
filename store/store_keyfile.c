/*
 * store_keyfile.c - <dir>/paywire.key (the master key) and the sub-keys
 * derived from it.
 *
 * The key file is created atomically: 32 random bytes go to a temporary file
 * opened O_CREAT|O_EXCL with mode 0600, are fsynced, then link(2)ed to
 * paywire.key (link fails if the name exists, so two first opens never
 * overwrite each other) and the directory is fsynced. A crash leaves either no
 * key file or a complete one, never a short one.
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_KEYFILE_NAME "paywire.key"
#define STORE_KEYFILE_TMP "paywire.key.tmp"

/* Distinct context per sub-key; changing one changes every derived key, so
 * these strings are part of the on-disk format. */
#define STORE_CTX_APIKEY "paywire.v1 api-key pepper"
#define STORE_CTX_ACCESS "paywire.v1 access-key pepper"
#define STORE_CTX_SECRETBOX "paywire.v1 entitlement secretbox"
#define STORE_CTX_JWT "paywire.v1 access-link jwt hs256"
#define STORE_CTX_CHECK "paywire.v1 key check"
#define STORE_CTX_CHECKOUT "paywire.v1 checkout secret"
#define STORE_CTX_CREDS "paywire.v1 provider credentials aead"

_Static_assert(crypto_generichash_KEYBYTES_MIN <= STORE_MASTER_KEY_BYTES &&
        STORE_MASTER_KEY_BYTES <= crypto_generichash_KEYBYTES_MAX,
    "the master key is a valid BLAKE2b key");
_Static_assert(crypto_secretbox_KEYBYTES == STORE_HASH_BYTES, "a sub-key fills a secretbox key");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == STORE_HASH_BYTES,
    "a sub-key fills an XChaCha20-Poly1305 key");

void
store_keyed_hash(uint8_t out[STORE_HASH_BYTES], const uint8_t key[STORE_HASH_BYTES],
    const void *in, size_t len)
{
	int rv = crypto_generichash(out, STORE_HASH_BYTES, in, len, key, STORE_HASH_BYTES);
	PW_ASSERT(rv == 0);
}

static int
store_path(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	PW_ASSERT(n > 0 && (size_t) n < size);
	return n;
}

static bool
store_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		buf += n;
		len -= (size_t) n;
	}
	return true;
}

static void
store_dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void) fsync(fd);
		close(fd);
	}
}

/* Creates the key file with fresh random bytes. PW_ALREADY_EXISTS if another
 * opener created it first (the caller then reads that one). */
static pw_status
store_keyfile_create(const char *dir)
{
	uint8_t key[STORE_MASTER_KEY_BYTES];
	char tmp[PATH_MAX];
	char final[PATH_MAX];
	bool ok;
	int fd;
	int rv;

	store_path(tmp, sizeof(tmp), dir, STORE_KEYFILE_TMP);
	store_path(final, sizeof(final), dir, STORE_KEYFILE_NAME);
	(void) unlink(tmp); /* a leftover from a crash during creation */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		pw_log(PW_LOG_ERROR, "store: cannot create %s: %s", tmp, strerror(errno));
		return PW_UNAVAILABLE;
	}
	pw_random(key, sizeof(key));
	ok = store_write_all(fd, key, sizeof(key)) && fsync(fd) == 0;
	sodium_memzero(key, sizeof(key));
	ok = (close(fd) == 0) && ok;
	if (!ok) {
		pw_log(PW_LOG_ERROR, "store: cannot write %s: %s", tmp, strerror(errno));
		(void) unlink(tmp);
		return PW_UNAVAILABLE;
	}
	rv = link(tmp, final);
	int err = errno;
	(void) unlink(tmp);
	if (rv != 0 && err == EEXIST) {
		return PW_ALREADY_EXISTS;
	}
	if (rv != 0) {
		pw_log(PW_LOG_ERROR, "store: cannot create %s: %s", final, strerror(err));
		return PW_UNAVAILABLE;
	}
	store_dir_sync(dir);
	pw_log(PW_LOG_INFO, "store: created master key file %s (mode 0600): back it up "
	    "with the data, API keys cannot be checked without it", final);
	return PW_OK;
}

/* Checks the open key file: regular, ours, no group/other bits, 32 bytes. */
static pw_status
store_keyfile_check(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		pw_log(PW_LOG_ERROR, "store: %s: %s", path, strerror(errno));
		return PW_UNAVAILABLE;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		pw_log(PW_LOG_ERROR, "store: %s must be a regular file owned by uid %u",
		    path, (unsigned) geteuid());
		return PW_UNAVAILABLE;
	}
	if ((st.st_mode & 077) != 0) {
		pw_log(PW_LOG_ERROR, "store: %s has mode %04o: group/other may access the master "
		    "key; refusing to start (chmod 600 it and consider rotating it)", path,
		    (unsigned) (st.st_mode & 07777));
		return PW_UNAVAILABLE;
	}
	if (st.st_size != STORE_MASTER_KEY_BYTES) {
		pw_log(PW_LOG_ERROR, "store: %s is %lld bytes, expected %d: damaged key file "
		    "(restore it from backup)", path, (long long) st.st_size, STORE_MASTER_KEY_BYTES);
		return PW_INTERNAL;
	}
	return PW_OK;
}

static pw_status
store_keyfile_read(const char *dir, uint8_t key[STORE_MASTER_KEY_BYTES])
{
	char path[PATH_MAX];
	size_t got = 0;
	pw_status st;
	int fd;

	store_path(path, sizeof(path), dir, STORE_KEYFILE_NAME);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		return PW_NOT_FOUND;
	}
	if (fd < 0) {
		pw_log(PW_LOG_ERROR, "store: cannot open %s: %s", path, strerror(errno));
		return PW_UNAVAILABLE;
	}
	st = store_keyfile_check(fd, path);
	while (st == PW_OK && got < STORE_MASTER_KEY_BYTES) {
		ssize_t n = read(fd, key + got, STORE_MASTER_KEY_BYTES - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			pw_log(PW_LOG_ERROR, "store: cannot read %s", path);
			st = PW_UNAVAILABLE;
			break;
		}
		got += (size_t) n;
	}
	close(fd);
	return st;
}

static void
store_keys_derive(store_keys *keys, const uint8_t master[STORE_MASTER_KEY_BYTES],
    const char *token_secret)
{
	store_keyed_hash(keys->apikey_pepper, master, STORE_CTX_APIKEY, strlen(STORE_CTX_APIKEY));
	store_keyed_hash(keys->access_pepper, master, STORE_CTX_ACCESS, strlen(STORE_CTX_ACCESS));
	store_keyed_hash(keys->secretbox_key, master, STORE_CTX_SECRETBOX,
	    strlen(STORE_CTX_SECRETBOX));
	store_keyed_hash(keys->check, master, STORE_CTX_CHECK, strlen(STORE_CTX_CHECK));
	store_keyed_hash(keys->checkout_key, master, STORE_CTX_CHECKOUT, strlen(STORE_CTX_CHECKOUT));
	store_keyed_hash(keys->creds_key, master, STORE_CTX_CREDS, strlen(STORE_CTX_CREDS));
	if (token_secret != NULL) {
		keys->jwt_key_len = strlen(token_secret);
		memcpy(keys->jwt_key, token_secret, keys->jwt_key_len);
	} else {
		store_keyed_hash(keys->jwt_key, master, STORE_CTX_JWT, strlen(STORE_CTX_JWT));
		keys->jwt_key_len = STORE_HASH_BYTES;
	}
}

pw_status
store_keys_load(store_keys *keys, const char *dir, bool may_create, const char *token_secret)
{
	uint8_t master[STORE_MASTER_KEY_BYTES];
	size_t tlen = token_secret != NULL ? strlen(token_secret) : 0;
	pw_status st;

	PW_ASSERT(keys != NULL && dir != NULL);
	/* store_open checked the length already. */
	PW_ASSERT(token_secret == NULL ||
	    (tlen >= PW_TOKEN_SECRET_BYTES_MIN && tlen <= PW_TOKEN_SECRET_BYTES_MAX));
	st = store_keyfile_read(dir, master);
	if (st == PW_NOT_FOUND && !may_create) {
		pw_log(PW_LOG_ERROR, "store: %s/" STORE_KEYFILE_NAME " is missing but the store %s: "
		    "API keys and sealed access keys cannot be checked without it; restore it",
		    dir, "already holds data (or is opened read-only)");
		return PW_UNAVAILABLE;
	}
	if (st == PW_NOT_FOUND) {
		st = store_keyfile_create(dir);
		if (st == PW_OK || st == PW_ALREADY_EXISTS) {
			st = store_keyfile_read(dir, master);
		}
	}
	if (st == PW_OK) {
		store_keys_derive(keys, master, token_secret);
	}
	sodium_memzero(master, sizeof(master));
	return st;
}

/* ---- the key check (store_internal.h) ---- */

/* Compares the stored key_check with ours; in a write txn, writes it when
 * there is none. */
pw_status
store_key_check_apply(store_txn *t, void *arg)
{
	const uint8_t *mine = arg;
	uint8_t stored[STORE_HASH_BYTES];
	size_t len = 0;
	pw_status st;

	st = store_raw_get(t, STORE_DB_META, STORE_META_KEY_CHECK, strlen(STORE_META_KEY_CHECK),
	    stored, sizeof(stored), &len);
	if (st == PW_NOT_FOUND && !t->read) {
		return store_raw_put(t, STORE_DB_META, STORE_META_KEY_CHECK,
		    strlen(STORE_META_KEY_CHECK), mine, STORE_HASH_BYTES, KV_PUT_INSERT);
	}
	if (st == PW_NOT_FOUND) {
		return PW_OK; /* a read: nothing to compare yet */
	}
	if (st != PW_OK) {
		return st;
	}
	if (len != STORE_HASH_BYTES || sodium_memcmp(stored, mine, STORE_HASH_BYTES) != 0) {
		pw_log(PW_LOG_ERROR, "store: this server's " STORE_KEYFILE_NAME " is not the key the "
		    "data was written with: API keys and access keys would not verify. Every server "
		    "of one database needs a copy of the first server's " STORE_KEYFILE_NAME);
		return PW_FAILED_PRECONDITION;
	}
	return PW_OK;
}

pw_status
store_key_check(store *s)
{
	store_txn t;
	pw_status st;

	PW_ASSERT(s != NULL);
	st = store_read_begin(s, &t);
	if (st == PW_OK) {
		st = store_key_check_apply(&t, s->keys.check);
	}
	store_read_end(&t);
	return st;
}
