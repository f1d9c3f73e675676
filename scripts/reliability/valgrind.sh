#!/usr/bin/env bash
# valgrind.sh - valgrind memcheck on the unit suite: every ctest entry whose
# command is one of our C test executables (cmocka), run under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=97 --suppressions=scripts/reliability/valgrind.supp
# in a build WITHOUT sanitizers (ASan and valgrind do not mix). Pass: every
# test exits 0 under valgrind with 0 errors and 0 bytes definitely lost.
# Integration scripts (bash) and the signer setup are not unit tests and are
# skipped; processes a test spawns (paywire-server in the lifecycle tests)
# run natively (no --trace-children: they are covered by the in-process
# server tests, which run the same code under valgrind).
#
#   scripts/reliability/valgrind.sh [--ci | --full] [-j N] [BUILD_DIR]
#     --full  every unit test (default when CI is not true)
#     --ci    the same minus the tests named in VG_SLOW_IN_CI (empty: the
#             whole suite fits CI's budget); default when CI=true
#   BUILD_DIR defaults to build-vg, configured and built here when missing:
#     cmake -S . -B build-vg -DCMAKE_BUILD_TYPE=Debug -DPW_SANITIZE=OFF \
#       -DPW_TEST_HOOKS=ON -DPW_TESTING=ON
# Summary on the last line: tests run, failures, errors, bytes definitely
# lost, wall time. Logs in BUILD_DIR/valgrind/<test>.log.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODE=full
[ "${CI:-}" = true ] && MODE=ci
JOBS=2
BUILD=
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) MODE=ci ;;
    --full) MODE=full ;;
    -j) JOBS=$2; shift ;;
    -j*) JOBS=${1#-j} ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) BUILD=$1 ;;
  esac
  shift
done
BUILD=${BUILD:-$ROOT/build-vg}
SUPP=$ROOT/scripts/reliability/valgrind.supp
# Minutes each under valgrind (fault loops over every allocation, thousands
# of requests): the full mode runs them, the CI slice does not.
# Measured: the whole unit suite takes ~5 min at -j2 on 2 shared cores, so
# the CI slice runs every test too; VG_SLOW_IN_CI can drop some if it grows.
SLOW_IN_CI=${VG_SLOW_IN_CI:-""}

command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/install-deps.sh)"; exit 1; }
if [ ! -f "$BUILD/CTestTestfile.cmake" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DPW_SANITIZE=OFF -DPW_WERROR=ON \
    -DPW_TEST_HOOKS=ON -DPW_TESTING=ON >/dev/null
fi
cmake --build "$BUILD" -j"$JOBS" >/dev/null
if grep -q 'fsanitize' "$BUILD/CMakeCache.txt" && grep -q 'PW_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt"; then
  echo "valgrind: $BUILD is a sanitizer build; use one configured with -DPW_SANITIZE=OFF"; exit 1
fi
# The webhook verify test checks payloads signed by the providers' own
# libraries: the signer fixture (npm ci in BUILD/signer) must be set up.
# (grep without -q: grep -q exits at the first match, and ctest, still
# writing, would die of SIGPIPE and fail the pipeline under pipefail)
if ctest --test-dir "$BUILD" -N -R '^paywire\.signer_setup$' | grep signer_setup >/dev/null; then
  ctest --test-dir "$BUILD" -R '^paywire\.signer_setup$' >/dev/null || {
    echo "valgrind: the signer fixture (paywire.signer_setup) failed"; exit 1; }
fi
# The store suite's PostgreSQL runs (paywire.*.postgres) need the test
# cluster that ctest's fixture starts: start it here, stop it at exit.
if ctest --test-dir "$BUILD" -N -R '^paywire\.pg_cluster_start$' | grep pg_cluster_start >/dev/null; then
  trap 'ctest --test-dir "$BUILD" -R "^paywire\.pg_cluster_stop$" >/dev/null 2>&1 || true' EXIT
  ctest --test-dir "$BUILD" -R '^paywire\.pg_cluster_start$' >/dev/null || {
    echo "valgrind: the PostgreSQL test cluster (paywire.pg_cluster_start) did not start"; exit 1; }
  echo "# valgrind: PostgreSQL test cluster started for the .postgres runs"
fi
LOGS=$BUILD/valgrind
rm -rf "$LOGS"; mkdir -p "$LOGS"

# name<TAB>command<TAB>env (;-separated) for every unit test, from ctest.
ctest --test-dir "$BUILD" --show-only=json-v1 >"$LOGS/tests.json"
python3 - "$LOGS/tests.json" "$MODE" "$SLOW_IN_CI" >"$LOGS/list.tsv" <<'PY'
import json, sys, os
data = json.load(open(sys.argv[1]))
mode, slow = sys.argv[2], set(sys.argv[3].split())
for t in data["tests"]:
    cmd = t.get("command") or []
    # our cmocka executables only: they live in the build tree (bash and
    # python runners such as paywire.bad_input are not unit tests)
    build = os.path.realpath(os.path.dirname(sys.argv[1]) + "/..")
    if not cmd or not os.access(cmd[0], os.X_OK) or \
            not os.path.realpath(cmd[0]).startswith(build + os.sep):
        continue
    name = os.path.basename(cmd[0])
    if mode == "ci" and name in slow:
        continue
    env = ""
    for p in t.get("properties", []):
        if p["name"] == "ENVIRONMENT":
            env = ";".join(p["value"])
    print("\t".join([t["name"], " ".join(cmd), env]))
PY

run_one() { # run_one NAME CMD ENV -> writes LOGS/NAME.{log,rc}
  local name=$1 cmd=$2 envs=$3 e
  local -a envargs=()
  IFS=';' read -r -a parts <<<"$envs"
  for e in "${parts[@]}"; do
    case "$e" in ASAN_OPTIONS=*|LSAN_OPTIONS=*|UBSAN_OPTIONS=*|"") ;; *) envargs+=("$e") ;; esac
  done
  set +e
  env "${envargs[@]}" PW_UNDER_VALGRIND=1 valgrind --tool=memcheck --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=97 \
    --suppressions="$SUPP" --num-callers=30 --log-file="$LOGS/$name.vg" \
    $cmd >"$LOGS/$name.log" 2>&1
  echo $? >"$LOGS/$name.rc"
  set -e
}
export -f run_one
export LOGS SUPP

start=$SECONDS
# -j JOBS in parallel; each test's own waits are bounded (TW_HANG_MS).
while IFS=$'\t' read -r name cmd envs; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run_one "$name" "$cmd" "$envs" &
done <"$LOGS/list.tsv"
wait
elapsed=$((SECONDS - start))

n=0; bad=0; errs=0; lost=0
while IFS=$'\t' read -r name _ _; do
  n=$((n + 1))
  rc=$(cat "$LOGS/$name.rc")
  e=$(awk '/ERROR SUMMARY:/ {s += $4} END {print s + 0}' "$LOGS/$name.vg")
  l=$(awk '/definitely lost:/ {gsub(",", "", $4); s += $4} END {print s + 0}' "$LOGS/$name.vg")
  errs=$((errs + e)); lost=$((lost + l))
  if [ "$rc" != 0 ] || [ "$e" != 0 ] || [ "$l" != 0 ]; then
    bad=$((bad + 1))
    echo "not ok - $name: exit $rc, $e errors, $l bytes definitely lost ($LOGS/$name.vg)"
  else
    echo "ok - $name"
  fi
done <"$LOGS/list.tsv"
echo "valgrind ($MODE): $n tests, $bad failed, $errs errors, $lost bytes definitely lost, ${elapsed}s"
[ "$bad" -eq 0 ]
