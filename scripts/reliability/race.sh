#!/usr/bin/env bash
# race.sh - concurrency (issue 7) on a ThreadSanitizer build of paywire.
#
# Builds the TSan tree (default build-tsan: -DPW_TSAN=ON, Debug, test hooks)
# and runs tests/integration/race_test.sh on it: real paywire-server and
# paywire-bridge (both TSan-instrumented) under
#   - the storm: P payments x 64 identical signed Stripe deliveries posted to
#     the bridge at once (all 2xx, exactly one APPLIED per payment);
#   - raw REQ re-sends: K payments whose create_session and ingest_webhook are
#     each re-sent 8 times under one SP request id while the writer is slowed;
#   - the mixed load: 8 client threads of create_session / get_status /
#     ingest through libpaywire and the bridge;
# then race_check counts one invoice, one entitlement, one event, one
# session.paid audit record and one access link per paid session in the
# stopped store. Any ThreadSanitizer report (tests/tsan.supp holds the
# reviewed suppressions) makes a process exit 66 and the run fail.
#
# usage: scripts/reliability/race.sh [--ci | --full] [--build-dir DIR] [--pg]
#   --ci    (default when CI=true, and the default anyway) 20 x 64 deliveries,
#           4 re-sent payments, 8 threads x 10 rounds
#   --full  200 x 64 deliveries, 50 re-sent payments, 8 threads x 100 rounds
#   --pg    on the PostgreSQL engine (a private cluster the test starts)
# Exit 0 only when every check passed; the last line is a one-line summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
mode=ci
build=$here/build-tsan
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) mode=ci ;;
    --full) mode=full ;;
    --build-dir) build=$2; shift ;;
    --pg) export RACE_PG=1 ;;
    *) echo "usage: $0 [--ci | --full] [--build-dir DIR] [--pg]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = full ]; then
  export RACE_PAYMENTS=200 RACE_COPIES=64 RACE_RESEND=50 RACE_RESEND_COPIES=8 RACE_THREADS=8 RACE_ROUNDS=100
else
  export RACE_PAYMENTS=20 RACE_COPIES=64 RACE_RESEND=4 RACE_RESEND_COPIES=8 RACE_THREADS=8 RACE_ROUNDS=10
fi

echo "race: building the ThreadSanitizer tree in $build" >&2
mkdir -p "$build"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DPW_TSAN=ON -DPW_SANITIZE=OFF \
  -DPW_WERROR=ON -DPW_TEST_HOOKS=ON -DPW_TESTING=ON >"$build/race-configure.log" 2>&1 \
  || { cat "$build/race-configure.log" >&2; echo "race: FAIL (configure)"; exit 1; }
cmake --build "$build" -j"$(nproc)" --target paywire-server paywire-bridge paywire race_storm race_check \
  >"$build/race-build.log" 2>&1 || { tail -40 "$build/race-build.log" >&2; echo "race: FAIL (build)"; exit 1; }

log=$(mktemp /tmp/pw-race.XXXXXX.log)
rc=0
PW_BIN_DIR=$build PW_SOURCE_DIR=$here PW_FIXTURES_DIR=$here/tests/fixtures \
  bash "$here/tests/integration/race_test.sh" >"$log" 2>&1 || rc=$?
grep -E '^(ok|not ok)|FAIL|race_check:|ThreadSanitizer' "$log" || true
summary=$(grep '^race: ' "$log" | tail -1 || true)
if [ "$rc" -eq 0 ]; then
  echo "race ($mode, TSan${RACE_PG:+, PostgreSQL}): PASS - ${summary#race: }"
  rm -f "$log"
else
  echo "race ($mode, TSan${RACE_PG:+, PostgreSQL}): FAIL (log: $log) - ${summary#race: }"
fi
exit "$rc"
