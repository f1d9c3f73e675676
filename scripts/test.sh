#!/usr/bin/env bash
# test.sh - the one command that runs every paywire test.
# Installs the Debian dependencies (idempotent), builds with AddressSanitizer +
# UndefinedBehaviorSanitizer and -Werror in build-test/, runs ctest (unit,
# integration with real server + bridge processes on loopback, interop with
# protoc + nngcat, the README's own commands), and exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
build=${PW_TEST_BUILD_DIR:-build-test}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DPW_SANITIZE=ON -DPW_WERROR=ON \
  -DPW_TEST_HOOKS=ON -DPW_TESTING=ON >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs" "$@"
