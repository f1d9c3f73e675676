#!/usr/bin/env bash
# build-check.sh - the optimised builds compile without a single warning.
# GCC finds some warnings (-Wformat-truncation, -Wstringop-*, -Wmaybe-
# uninitialized...) only when it optimises, so the ASan Debug build of
# scripts/test.sh cannot see them. This builds, with the tests and -Werror
# and without sanitizers (CMakePresets.json):
#   ci-o2  -O2 (RelWithDebInfo, what a plain `cmake -S . -B b` builds), no test hooks
#   ci-o3  -O3 (Release), with the test hooks compiled in
# and fails on any "warning:" in the build output (generated code and CMake
# included). Called by .ci/run after scripts/test.sh; about a minute per
# build on 2 idle cores. Usage: scripts/build-check.sh [preset...]
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(ci-o2 ci-o3)

for p in "${presets[@]}"; do
  log=build-$p.log
  echo "build-check: $p" >&2
  if ! { cmake --preset "$p" && cmake --build --preset "$p" -j"$jobs"; } >"$log" 2>&1; then
    grep -E "error|warning" "$log" | head -40 >&2 || tail -40 "$log" >&2
    echo "build-check: $p failed (full log: $log)" >&2
    exit 1
  fi
  if grep -q "warning:" "$log"; then
    grep "warning:" "$log" | sort -u >&2
    echo "build-check: $p has warnings (full log: $log)" >&2
    exit 1
  fi
  echo "build-check: $p: built with -Werror, no warnings" >&2
done
