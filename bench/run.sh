#!/usr/bin/env bash
# run.sh - the one documented command of bench/RESULTS.md: starts a private
# PostgreSQL 15 cluster (tests/pg/cluster.sh: fsync on, Unix socket) for the
# pgbench peer, then runs paywire-bench once with every phase, every
# workload, the gRPC peer (when built) and pgbench, and writes
#   OUT/run.txt (the table, with the goals), OUT/run.json (--json-out: the
#   same run), OUT/run.png (bench/plot.sh), OUT/machine.txt (nproc, CPU,
#   disk, the exact command).
#
#   bench/run.sh BUILD_DIR OUT_DIR [paywire-bench flags...]
# e.g. bench/run.sh build-rel /tmp/b10k --preload 10000
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: run.sh BUILD_DIR OUT_DIR [paywire-bench flags]" >&2; exit 2; }
build=$(cd "$1" && pwd); out=$2; shift 2
mkdir -p "$out"
bench=$build/bench/paywire-bench
[ -x "$bench" ] || { echo "run.sh: $bench not built" >&2; exit 2; }
peer=()
[ -x "$build/bench/peers/paywire-grpc-peer" ] && peer=(--grpc-peer "$build/bench/peers/paywire-grpc-peer")
pg=()
pgd=""
if command -v pgbench >/dev/null && command -v initdb >/dev/null 2>&1 || [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  pgd=$(mktemp -d /tmp/pw-run-pg.XXXXXX)
  trap 'bash "$here/tests/pg/cluster.sh" stop "$pgd" >/dev/null 2>&1 || true; rm -rf "$pgd"' EXIT
  bash "$here/tests/pg/cluster.sh" start "$pgd" >/dev/null
  psql -qX "host=$pgd user=postgres dbname=postgres" -c "CREATE DATABASE floor" >/dev/null
  psql -qX "host=$pgd user=postgres dbname=floor" \
    -c "CREATE TABLE floor (k bigserial PRIMARY KEY, v bytea NOT NULL)" >/dev/null
  pg=(--pgbench "host=$pgd user=postgres dbname=floor")
fi
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "disk (TMPDIR=${TMPDIR:-/tmp}): $(df -hT "${TMPDIR:-/tmp}" | awk 'NR==2 {print $1, $2, $3}')"
  echo "kernel: $(uname -r)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: $bench ${peer[*]} ${pg[*]} $*"
} >"$out/machine.txt"
"$bench" "${peer[@]}" "${pg[@]}" --json-out "$out/run.json" "$@" | tee "$out/run.txt"
bash "$here/bench/plot.sh" "$out/run.json" "$out/run.png"
echo "run.sh: $out/run.json, $out/run.png, $out/machine.txt" >&2
