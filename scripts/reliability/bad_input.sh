#!/usr/bin/env bash
# bad_input.sh - the bad-input catalogue (tests/reliability/bad_input.tsv, 116
# cases) against a real paywire-server + paywire-bridge: exact code, LMDB's
# last transaction id unchanged, same PIDs, per case. Cases listed in
# tests/reliability/bad_input.xfail are expected to fail today (known bugs).
#
#   scripts/reliability/bad_input.sh [--ci | --full] [--pg] [BUILD_DIR]
# --pg: the server on the PostgreSQL engine (a private cluster); "unchanged"
# is then the engine's commits sequence (docs/POSTGRES.md).
# Both modes run the whole catalogue (~2.5 min on 2 shared cores); BUILD_DIR
# defaults to build-test (any build with PW_TESTING; sanitizers welcome).
# Exit non-zero on any failure or XPASS; the last line is the summary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build-test
PG=
for a in "$@"; do
  case "$a" in --ci|--full) ;; --pg) PG=--pg ;; *) BUILD=$a ;; esac
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
exec python3 -u "$ROOT/tests/reliability/bad_input.py" "$BUILD" $PG
