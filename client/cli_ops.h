/*
 * cli_ops.h - `paywire backup`, `paywire restore` and `paywire doctor`: an
 * operator's commands on an LMDB data directory, run beside the server
 * (LMDB lets a second process read while the server writes) or while it is
 * stopped. They link paywire_store like `paywire store copy` (cli_store.h).
 * docs/OPERATIONS.md tells how to use them.
 */
#ifndef PW_CLI_OPS_H
#define PW_CLI_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <paywire/client.h>

/* What a backup did, for the CLI's output. */
typedef struct cli_backup_result {
	int64_t started_ms;     /* when the copy began (Unix ms): every write
	                           acknowledged before is in it */
	uint64_t last_txnid;    /* LMDB's last transaction at the start (a lower
	                           bound of what the copy holds) */
	uint64_t data_bytes;    /* size of the compacted data.mdb */
	uint64_t audit_records; /* the copy's audit chain, verified */
	char head_hash_hex[65]; /* its head (hex) */
	bool env_copied;        /* paywire.env was copied too */
} cli_backup_result;

/* Copies the LMDB data directory data_dir (a server may be running on it)
 * into the new directory dest: LMDB's compacting copy of one snapshot as
 * data.mdb, paywire.key and, when present, paywire.env (scripts/run.sh's
 * secrets), all 0600 in a 0700 directory. It is written as dest.tmp, checked
 * (opened, audit chain verified) and renamed to dest. Refuses a dest that
 * exists and is not an empty directory, a leftover dest.tmp, and a
 * PostgreSQL store (pg_dump, docs/OPERATIONS.md). */
pw_status cli_backup(const char *data_dir, const char *dest, cli_backup_result *out,
    pw_error *err);

/* What a restore did. */
typedef struct cli_restore_result {
	uint64_t audit_records;  /* the restored audit chain, verified */
	char head_hash_hex[65];  /* its head (hex) */
	char moved_aside[4096];  /* --force: where the old directory went ("" if none) */
} cli_restore_result;

/* Installs the backup src (a directory `paywire backup` wrote) as the data
 * directory data_dir. Refuses while any process has data_dir's environment
 * open (a server: stop it first), and a data_dir that exists and is not empty
 * unless force (then it is renamed to data_dir.replaced-UNIXTIME, never
 * deleted). The backup is copied to data_dir.restore-tmp, verified there
 * (opened, audit chain checked) and only then renamed into place. */
pw_status cli_restore(const char *src, const char *data_dir, bool force, cli_restore_result *out,
    pw_error *err);

/* One finding of the doctor. */
typedef enum cli_doctor_level { CLI_DOCTOR_OK = 0, CLI_DOCTOR_WARN = 1, CLI_DOCTOR_FAIL = 2 }
    cli_doctor_level;

/* Told of each check: its level, its name ("data_dir", "key_file", ...) and
 * why (never a secret's value). */
typedef void cli_doctor_fn(void *arg, cli_doctor_level level, const char *check, const char *why);

/* Checks data_dir (NULL: not checked), the configuration file config (NULL:
 * data_dir/paywire.env if it exists, else the PAYWIRE_* variables of the
 * environment) and the server binary server_bin (NULL: paywire-server next
 * to this program, else on PATH); reports each check to fn. Answers the worst
 * level found. */
cli_doctor_level cli_doctor(const char *data_dir, const char *config, const char *server_bin,
    cli_doctor_fn *fn, void *arg);

#endif
