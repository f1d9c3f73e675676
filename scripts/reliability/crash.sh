#!/usr/bin/env bash
# crash.sh - crash durability run (issue 7; docs/reliability/crash.md).
#
#   scripts/reliability/crash.sh [--ci | --full | --fsync-slice] [--build DIR]
#                                [--seed N] [--cycles N] [--ops N] [--keep] [--pg]
#
# --ci (default when CI=true): 25 cycles x 120 intents, real fsync; a few minutes.
# --full: >= 550 cycles of up to 500 intents, going on until >= 100,000 intents
#         are acknowledged (>= 90 kills per crash point), under eatmydata (a process crash keeps the page cache, so fsync
#         adds nothing to what a SIGKILL can show), plus --fsync-slice.
# --fsync-slice: 50 cycles x 200 intents with real fsync.
# --pg: the same runs on the PostgreSQL engine (issue 8): a private PostgreSQL 15
#       cluster (tests/pg/cluster.sh, fsync on, synchronous_commit on) started
#       for the run, one database per run; the server gets --store, the data
#       dir keeps only its key file, pw-crash-check reads the database. The
#       server is killed as on LMDB; the database is not (its own crashes are
#       tests/integration/pg_faults_test.sh). No eatmydata: the database's
#       fsync is its own.
# The build dir must be a test build (-DPW_TEST_HOOKS=ON -DPW_TESTING=ON).
# Prints one summary line per run; exits non-zero on any violation.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$SRC/build-test
MODE=ci
[ "${CI:-}" = "true" ] && MODE=ci
SEED=${PW_CRASH_SEED:-$(date +%s)}
CYCLES= OPS= KEEP= PG=
while [ $# -gt 0 ]; do
  case $1 in
    --ci) MODE=ci ;;
    --full) MODE=full ;;
    --fsync-slice) MODE=fsync ;;
    --build) BUILD=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --cycles) CYCLES=$2; shift ;;
    --ops) OPS=$2; shift ;;
    --keep) KEEP=1 ;;
    --pg) PG=1 ;;
    *) echo "usage: $0 [--ci|--full|--fsync-slice] [--build DIR] [--seed N] [--cycles N] [--ops N] [--keep] [--pg]" >&2; exit 2 ;;
  esac
  shift
done

HARNESS=$BUILD/tests/pw-crash-harness
CHECK=$BUILD/tests/pw-crash-check
SERVER=$BUILD/server/paywire-server
for b in "$HARNESS" "$CHECK" "$SERVER"; do
  [ -x "$b" ] || { echo "crash: $b missing (configure with -DPW_TEST_HOOKS=ON -DPW_TESTING=ON)" >&2; exit 2; }
done

# The secrets the server reads and the harness signs with (test values).
export PAYWIRE_ADMIN_KEY="adm_crash_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_test_paywire_crash_secret_0123456789
export PAYWIRE_RAZORPAY_WEBHOOK_SECRET=rzp_crash_webhook_secret_0123456789
export PAYWIRE_ONECOM_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export PAYWIRE_WEB3_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export PAYWIRE_TOKEN_SECRET=crash-token-secret-0123456789abcdef0123456789
unset PAYWIRE_CRASHPOINT PAYWIRE_FAIL_ALLOC
# The harness dials and closes a client per probe; Debian's nng 1.5.2 leaves
# dialer/pipe objects of a connection the server dropped (see
# tests/lsan-nng.supp): leak checks are for the unit suite, not this driver.
export ASAN_OPTIONS=detect_leaks=0

# The crash points of common/pw_common.h, cycled through (with plain SIGKILL
# cycles between them).
POINTS=server.after_request_dedup,store.after_dedup,store.between_effects,store.before_commit,store.after_commit

RUN_DIR=$(mktemp -d /tmp/pw-crash.XXXXXX)
PGD=
cleanup() {
  if [ -n "$PGD" ]; then bash "$SRC/tests/pg/cluster.sh" stop "$PGD" >/dev/null 2>&1 || true; fi
  [ -n "$KEEP" ] && echo "crash: kept $RUN_DIR" >&2 || rm -rf "$RUN_DIR"
}
trap cleanup EXIT
ENGINE=lmdb
if [ -n "$PG" ]; then
  ENGINE=postgresql
  PGD=$(mktemp -d /tmp/pw-crash-pg.XXXXXX)
  bash "$SRC/tests/pg/cluster.sh" start "$PGD" >/dev/null
fi
# pg_db NAME: a new database for run NAME
pg_db() { psql -qX "host=$PGD user=postgres dbname=postgres" -c "CREATE DATABASE crash_$1" >/dev/null; }

# run NAME CYCLES OPS SYNC [--eatmydata]
run() {
  local name=$1 cycles=$2 ops=$3 sync=$4 min=$5 cpmax=$6; shift 6
  local start=$SECONDS rc=0 out
  local -a store=()
  mkdir -p "$RUN_DIR/$name/data"
  if [ -n "$PGD" ]; then pg_db "$name"; store=(--store "host=$PGD user=postgres dbname=crash_$name"); fi
  out=$("$HARNESS" --server "$SERVER" --check "$CHECK" --data "$RUN_DIR/$name/data" \
    --log "$RUN_DIR/$name/intents.log" --cycles "$cycles" --ops "$ops" --threads 4 \
    --seed "$SEED" --sync "$sync" --points "$POINTS" --cp-max "$cpmax" --min-acks "$min" \
    "${store[@]}" "$@") || rc=$?
  echo "$out [$name, $ENGINE, sync=$sync${1:+ $1}, $((SECONDS - start)) s, $(date -u +%FT%TZ)]"
  if [ $rc -ne 0 ]; then
    KEEP=1
    echo "crash: $name FAILED (exit $rc); seed $SEED; logs in $RUN_DIR/$name" >&2
    tail -n 20 "$RUN_DIR/$name/intents.log.check" 2>/dev/null >&2 || true
  fi
  return $rc
}

case $MODE in
  ci) run ci "${CYCLES:-25}" "${OPS:-120}" full 0 40 ;;
  fsync) run fsync "${CYCLES:-50}" "${OPS:-200}" full 0 60 ;;
  full)
    if command -v eatmydata >/dev/null; then EMD=--eatmydata; SYNC=full; else EMD=; SYNC=none; fi
    if [ -n "$PGD" ]; then EMD=; SYNC=full; fi
    rc=0
    run full "${CYCLES:-550}" "${OPS:-500}" $SYNC 100000 200 $EMD || rc=$?
    run fsync 50 200 full 0 60 || rc=$?
    exit $rc ;;
esac
