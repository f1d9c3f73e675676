#!/usr/bin/env bash
# pg_bench.sh - paywire on PostgreSQL against its peers, in one run
# (docs/BENCH.md "PostgreSQL"). Starts a private PostgreSQL 15 cluster
# (tests/pg/cluster.sh: fsync on, synchronous_commit on, Unix socket) and runs
#  1. paywire-bench on LMDB (the default engine),
#  2. paywire-bench --store on an empty database of that cluster,
#  3. pgbench, at the same concurrency, doing what one durable write costs the
#     database at least: one single-row INSERT (a 200-byte bytea, the size of
#     a session record) per transaction, for PG_BENCH_SECONDS,
# then prints one table and the ratios the issue set as goals:
#   durable create_session on PostgreSQL >= 2x pgbench's single-insert rate
#   (group commit must pay off), get_status p50 on PostgreSQL <= 1.5x LMDB's.
# Figures only: nothing here is a test; the exit code says whether the runs
# worked, not whether a goal was met.
#
#   bench/pg_bench.sh [BUILD_DIR]      (default: build)
# env: PG_BENCH_N (paywire-bench --n, default 20000), PG_BENCH_THREADS (64),
#      PG_BENCH_SECONDS (pgbench -T, default 20)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bench=$build/bench/paywire-bench
n=${PG_BENCH_N:-20000}
threads=${PG_BENCH_THREADS:-64}
secs=${PG_BENCH_SECONDS:-20}
[ -x "$bench" ] || { echo "pg_bench: $bench not built" >&2; exit 2; }
command -v pgbench >/dev/null || { echo "pg_bench: pgbench not found (postgresql-client-15)" >&2; exit 2; }

pgd=$(mktemp -d /tmp/pw-pgbench.XXXXXX)
work=$(mktemp -d /tmp/pw-pgbench-out.XXXXXX)
trap 'bash "$here/tests/pg/cluster.sh" stop "$pgd" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
bash "$here/tests/pg/cluster.sh" start "$pgd" >/dev/null
psql_() { psql -qX "host=$pgd user=postgres dbname=$1" -c "$2" >/dev/null; }
psql_ postgres "CREATE DATABASE paywire"
psql_ postgres "CREATE DATABASE floor"
psql_ floor "CREATE TABLE floor (k bigserial PRIMARY KEY, v bytea NOT NULL)"

echo "pg_bench: 1/3 paywire-bench on LMDB (n=$n, threads=$threads)" >&2
"$bench" --n "$n" --threads "$threads" --json >"$work/lmdb.json"
echo "pg_bench: 2/3 paywire-bench on PostgreSQL" >&2
"$bench" --n "$n" --threads "$threads" --json \
  --store "host=$pgd user=postgres dbname=paywire" >"$work/pg.json"
echo "pg_bench: 3/3 pgbench: single-row INSERT per transaction, $threads clients, ${secs} s" >&2
printf "INSERT INTO floor (v) VALUES (decode(repeat('ab', 200), 'hex'));\n" >"$work/insert.sql"
if [ "$(id -u)" = 0 ]; then chmod 0755 "$work"; chmod 0644 "$work/insert.sql"; fi
pgbench -n -h "$pgd" -U postgres -c "$threads" -j 2 -T "$secs" -f "$work/insert.sql" floor \
  >"$work/pgbench.out" 2>&1 || { cat "$work/pgbench.out" >&2; exit 1; }

/usr/bin/python3 - "$work" "$threads" <<'PY'
import json, re, sys
work, threads = sys.argv[1], int(sys.argv[2])
lm = json.load(open(f"{work}/lmdb.json"))
pg = json.load(open(f"{work}/pg.json"))
out = open(f"{work}/pgbench.out").read()
tps = float(re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out).group(1))
lat = re.search(r"latency average = ([0-9.]+) ms", out)
def row(d, k):
    return d["results"][k]
print(f"paywire on PostgreSQL 15 vs LMDB vs pgbench, one run ({pg['date']}, {pg['cores']} cores, {pg['cpu']})")
print(f"{'':44s} {'LMDB':>12s} {'PostgreSQL':>12s}")
for k, label in [("get_status_tcp", "get_status tcp p50 (us)"), ("get_status_ipc", "get_status ipc p50 (us)"),
                 ("create_session_seq", "create_session 1 thread p50 (us)")]:
    print(f"{label:44s} {row(lm,k)['p50_us']:12.1f} {row(pg,k)['p50_us']:12.1f}")
for k, label in [("create_session_seq", "create_session 1 thread (ops/s)"),
                 ("create_session_concurrent", f"create_session {threads} threads (ops/s)")]:
    print(f"{label:44s} {row(lm,k)['ops_per_s']:12.0f} {row(pg,k)['ops_per_s']:12.0f}")
gc = pg["group_commit"]["concurrent"]
print(f"{'writes per commit, ' + str(threads) + ' threads':44s} {lm['group_commit']['concurrent']['writes_per_commit']:12.2f} {gc['writes_per_commit']:12.2f}")
print(f"pgbench: 1 INSERT per transaction, {threads} clients: {tps:.0f} tps" + (f", latency {lat.group(1)} ms" if lat else ""))
r1 = row(pg, "create_session_concurrent")["ops_per_s"] / tps
r2 = row(pg, "get_status_tcp")["p50_us"] / row(lm, "get_status_tcp")["p50_us"]
print(f"create_session {threads} threads on PostgreSQL / pgbench single INSERT: {r1:.2f}x   (goal >= 2)")
print(f"get_status tcp p50, PostgreSQL / LMDB:                     {r2:.2f}x   (goal <= 1.5)")
print(f"sessions acknowledged = on disk: LMDB {lm['group_commit']['sessions_expected']} = {lm['group_commit']['sessions_on_disk']}, "
      f"PostgreSQL {pg['group_commit']['sessions_expected']} = {pg['group_commit']['sessions_on_disk']}")
PY
