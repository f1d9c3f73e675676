#!/usr/bin/env bash
# ab.sh - two paywire-server builds side by side (bench/RESULTS.md, "A/B"):
# ROUNDS rounds, each running paywire-bench's WORKLOADS against server A, then
# B (the order swapped every other round, so that neither always runs first),
# with the same bench binary and options. Prints, per workload, the median of
# each build's rates and server CPU per call, and the median of the per-round
# ratios B/A: on a shared machine a ratio within one round is what holds.
#
#   bench/ab.sh BENCH A_SERVER B_SERVER OUT_DIR [ROUNDS (5)] [WORKLOADS] [-- bench options]
#
# WORKLOADS: paywire-bench --workloads (default create_session_x64,mix_x64,
# ingest_fresh_x64). Each run's JSON is kept in OUT_DIR (a-N.json, b-N.json).
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: ab.sh BENCH A_SERVER B_SERVER OUT_DIR [ROUNDS] [WORKLOADS] [-- bench options]" >&2; exit 2; }
bench=$1; a=$2; b=$3; out=$4; shift 4
rounds=5; wl=create_session_x64,mix_x64,ingest_fresh_x64
if [ $# -gt 0 ] && [ "$1" != "--" ]; then rounds=$1; shift; fi
if [ $# -gt 0 ] && [ "$1" != "--" ]; then wl=$1; shift; fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
for f in "$bench" "$a" "$b"; do [ -x "$f" ] || { echo "ab.sh: $f: not an executable" >&2; exit 2; }; done
case $rounds in ""|*[!0-9]*|0) echo "ab.sh: ROUNDS must be a number of at least 1" >&2; exit 2;; esac
mkdir -p "$out"

for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then order="a b"; else order="b a"; fi
  for w in $order; do
    if [ "$w" = a ]; then srv=$a; else srv=$b; fi
    echo "ab.sh: round $r of $rounds: $w" >&2
    "$bench" --server-bin "$srv" --no-floors --workloads "$wl" --json-out "$out/$w-$r.json" "$@" \
      >"$out/$w-$r.txt" 2>"$out/$w-$r.err" ||
      { echo "ab.sh: bench failed ($w, round $r):" >&2; tail -20 "$out/$w-$r.err" >&2; exit 1; }
  done
done

/usr/bin/python3 - "$out" "$rounds" "$a" "$b" <<'EOF'
import json, statistics, sys
out, rounds, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {w: [json.load(open(f"{out}/{w}-{r}.json"))["workloads"] for r in range(1, rounds + 1)]
        for w in ("a", "b")}
print(f"A: {a}\nB: {b}\n{rounds} rounds, medians (ratio: median of the per-round B/A)\n")
print(f"{'workload':<22}{'A ops/s':>10}{'B ops/s':>10}{'B/A':>7}   "
      f"{'A srv us/op':>12}{'B srv us/op':>12}{'B/A':>7}")
for key in runs["a"][0]:
    row = [(x[key], y[key]) for x, y in zip(runs["a"], runs["b"]) if key in x and key in y]
    if not row or row[0][0].get("ops_per_s") is None:
        continue
    def med(i, f):
        v = [p[i].get(f) for p in row if p[i].get(f)]
        return statistics.median(v) if v else float("nan")
    def ratio(f):
        v = [p[1][f] / p[0][f] for p in row if p[0].get(f) and p[1].get(f)]
        return statistics.median(v) if v else float("nan")
    print(f"{key:<22}{med(0, 'ops_per_s'):>10.0f}{med(1, 'ops_per_s'):>10.0f}{ratio('ops_per_s'):>7.3f}   "
          f"{med(0, 'server_cpu_us_per_op'):>12.1f}{med(1, 'server_cpu_us_per_op'):>12.1f}"
          f"{ratio('server_cpu_us_per_op'):>7.3f}")
EOF
