#!/usr/bin/env bash
# plot.sh - a PNG of one paywire-bench --json run: latency percentiles
# (p50, p99, p99.9, log scale) and throughput of every row, each next to its
# floor (the nng echo at the same concurrency, the LMDB commit), and the
# peers' rates. gnuplot from Debian (gnuplot-nox: install-deps.sh --bench).
#
#   bench/plot.sh RUN.json OUT.png
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: plot.sh RUN.json OUT.png" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 2; }
json=$1 out=$2
tmp=$(mktemp -d /tmp/pw-plot.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$json" "$tmp" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); d = sys.argv[2]
rows = []
for k, v in r["results"].items():
    if v: rows.append((k, v))
for k, v in r.get("workloads", {}).items():
    if v: rows.append((k, v))
with open(d + "/lat.dat", "w") as f:
    for k, v in rows:
        f.write('"%s" %f %f %f\n' % (k.replace("_", "\\\\_"), v["p50_us"], v["p99_us"], v["p999_us"]))
with open(d + "/ops.dat", "w") as f:
    for k, v in rows:
        floor = k.startswith("echo") or k.startswith("lmdb")
        f.write('"%s" %f %f\n' % (k.replace("_", "\\\\_"), 0 if floor else v["ops_per_s"],
                                   v["ops_per_s"] if floor else 0))
    for k, v in r.get("peers", {}).items():
        if not v: continue
        rs = v["rounds"]
        pw = sorted(x["paywire_ops_per_s"] for x in rs)[len(rs) // 2]
        peer = sorted(x["peer_ops_per_s"] for x in rs)[len(rs) // 2]
        f.write('"%s paywire" %f 0\n' % (k.replace("_", "\\\\_"), pw))
        f.write('"%s peer" 0 %f\n' % (k.replace("_", "\\\\_"), peer))
with open(d + "/title", "w") as f:
    f.write("paywire-bench %s, %s, %s cores %s, sync %s, preload %s, %.1f s per workload" % (
        r["version"], r["date"], r["cores"], r["cpu"], r["sync"], r.get("preload", 0),
        r.get("seconds", 0)))
PY
title=$(cat "$tmp/title")
gnuplot <<GP
set terminal pngcairo size 1600,1400 font "sans,10"
set output "$out"
set multiplot layout 2,1 title "$title"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -40 scale 0
set grid ytics
set key top left
set logscale y
set ylabel "latency (us, log)"
set title "latency percentiles per row (floors: echo_*, lmdb_*)"
plot "$tmp/lat.dat" using 2:xtic(1) title "p50", "" using 3 title "p99", "" using 4 title "p99.9"
unset logscale y
set ylabel "calls (puts) per second"
set title "throughput: paywire rows and peers (blue) against floors and peers (grey)"
plot "$tmp/ops.dat" using 2:xtic(1) title "paywire" lc rgb "#3060c0", "" using 3 title "floor / peer" lc rgb "#909090"
unset multiplot
GP
echo "plot.sh: wrote $out" >&2
