/*
 * cli_store.h - `paywire store copy`: the one CLI command that works on a
 * store itself rather than through a server (it links paywire_store).
 */
#ifndef PW_CLI_STORE_H
#define PW_CLI_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <paywire/client.h>

/* What a copy did, for the CLI's output. */
typedef struct cli_store_copy_result {
	uint64_t records;      /* entries copied, every table */
	uint64_t tables;       /* tables copied */
	uint64_t audit_records; /* the target's audit chain, verified */
	char head_hash_hex[65]; /* its head (hex) */
	bool key_copied;       /* paywire.key was copied next to the target */
} cli_store_copy_result;

/* Copies the store `from` into `to`: each is an LMDB data directory or a
 * PostgreSQL connection string (store_url_is_postgres). The master key
 * (paywire.key) comes from the LMDB side's directory, or from key_dir when
 * the source is PostgreSQL; a target directory that has none gets a copy
 * (mode 0600). The target must hold nothing; afterwards its counts and audit
 * chain are checked against the source. PW_OK, or err says what went wrong
 * (never a connection string: it may hold a password). */
pw_status cli_store_copy(const char *from, const char *to, const char *key_dir,
    cli_store_copy_result *out, pw_error *err);

/* True when s names a PostgreSQL database rather than a directory. */
bool cli_store_is_postgres(const char *s);

#endif
