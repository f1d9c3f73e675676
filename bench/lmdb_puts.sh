#!/usr/bin/env bash
# lmdb_puts.sh - each call's write set, table by table (bench/RESULTS.md "The
# fresh webhook, profiled"): builds bench/lmdb_puts.c (an LD_PRELOAD library
# counting mdb_put and mdb_del per committed write transaction), runs
# paywire-bench's WORKLOADS with one call in flight (so one call per commit,
# as a lone caller's writes run) on a server with the library preloaded, and
# writes the transactions' write sets, most frequent first, to OUT.
#
#   bench/lmdb_puts.sh BUILD_DIR OUT [WORKLOADS (create_session_x64,ingest_fresh_x64)] [SECONDS (3)]
# A write set "audit:1 meta:2 sessions:1" is a commit that made one put in
# audit, two in meta and one in sessions. The sessions a fresh webhook pays
# are prepared in batches first: their write sets are the larger multiples.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: lmdb_puts.sh BUILD_DIR OUT [WORKLOADS] [SECONDS]" >&2; exit 2; }
build=$(cd "$1" && pwd); out=$2; wl=${3:-create_session_x64,ingest_fresh_x64}; secs=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/pw-lmdb-puts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -shared -fPIC -o "$tmp/lmdb_puts.so" "$here/lmdb_puts.c" -ldl
cat >"$tmp/server" <<WRAP
#!/bin/sh
LMDB_PUTS_OUT=$tmp/puts.txt LD_PRELOAD=$tmp/lmdb_puts.so exec "$build/server/paywire-server" "\$@"
WRAP
chmod +x "$tmp/server"
TMPDIR=$tmp "$build/bench/paywire-bench" --server-bin "$tmp/server" --no-floors \
  --workloads "$wl" --inflight 1 --seconds "$secs" >"$tmp/bench.txt" 2>"$tmp/bench.err" ||
  { echo "lmdb_puts.sh: paywire-bench failed:" >&2; cat "$tmp/bench.err" >&2; exit 1; }
[ -s "$tmp/puts.txt" ] || { echo "lmdb_puts.sh: the server wrote no counts" >&2; exit 1; }
{ echo "# commits  puts (and del:) per table in one committed write transaction"
  echo "# bench/lmdb_puts.sh $1 $out $wl $secs  ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
  cat "$tmp/puts.txt"; } >"$out"
cat "$out"
