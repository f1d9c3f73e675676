#!/usr/bin/env bash
# load.sh - hostile load (tests/reliability/load.py): 16 nng peers announcing
# 1 GiB each, slowloris against the bridge while legitimate requests go on,
# mixed load with RSS drift. Asserts memory bounds and correct answers only;
# latencies are reported as figures.
#
#   scripts/reliability/load.sh [--ci | --full] [BUILD_DIR]
#     --ci    (default when CI=true) 200 slow connections x 20 s, mixed 60 s
#     --full  1000 slow connections x 120 s, mixed 600 s (~13 min)
# BUILD_DIR defaults to build-vg: a build WITHOUT sanitizers (ASan's shadow
# memory makes RSS figures meaningless; load.py refuses a sanitizer build),
# configured and built here when missing. Last line: summary with figures (JSON).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-vg
MODE=--full
[ "${CI:-}" = true ] && MODE=--ci
for a in "$@"; do
  case "$a" in --ci|--full) MODE=$a ;; *) BUILD=$a ;; esac
done
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DPW_SANITIZE=OFF -DPW_WERROR=ON \
    -DPW_TEST_HOOKS=ON -DPW_TESTING=ON >/dev/null
fi
cmake --build "$BUILD" -j2 --target paywire-server paywire-bridge >/dev/null
exec python3 -u "$ROOT/tests/reliability/load.py" "$BUILD" "$MODE"
