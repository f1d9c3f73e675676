#!/usr/bin/env bash
# model_check.sh - the order-independence model checker of the session state
# machine (tests/reliability/model_check.c; docs/reliability/fuzz.md).
#
#   scripts/reliability/model_check.sh          CI slice (also CI=true / --ci): every
#                                               multiset of up to 4 events in every order,
#                                               the scenarios with drops and duplicates up
#                                               to 7 events, 10^5 random sequences (~10-30 s)
#   scripts/reliability/model_check.sh --full   depth 5, scenarios up to 8 events,
#                                               10^6 random sequences (~4 CPU-minutes)
#   --seed N   first random seed (default 1);  --build-dir DIR (default build-test,
#   built with the project's usual test configuration if the binary is missing)
# Any other argument goes to model_check (e.g. --seq payA,ref400 to replay).
# Exits non-zero on a failure; the last line is model_check's summary.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build_dir="$here/build-test"
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--ci) ;;
	--full) args+=(--full) ;;
	--build-dir) build_dir=${2:?}; shift ;;
	*) args+=("$1") ;;
	esac
	shift
done
bin="$build_dir/tests/model_check"
if [ ! -x "$bin" ]; then
	cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DPW_SANITIZE=ON -DPW_WERROR=ON \
		-DPW_TEST_HOOKS=ON -DPW_TESTING=ON >/dev/null
	cmake --build "$build_dir" --target model_check -j2 >/dev/null
fi
exec "$bin" "${args[@]}"
