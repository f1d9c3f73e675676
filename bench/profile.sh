#!/usr/bin/env bash
# profile.sh - where a durable write's time and CPU go (bench/RESULTS.md
# "Profile"): runs paywire-bench's create_session workload at INFLIGHT calls in
# flight, and meanwhile, on the paywire-server child:
#   - perf record -g (call graphs) for SECONDS, then perf report: self and
#     inclusive (children) CPU by symbol;
#   - mdb_stat -a -e -f of its live environment before and after, and
#     /proc/PID/io: records written per create (entries per table), LMDB
#     commits (transaction ids), pages written per commit (LMDB writes one
#     pwrite per dirty page: the write syscalls).
#
#   bench/profile.sh BUILD_DIR OUT_DIR [INFLIGHT (64)] [SECONDS (10)] [WORKLOAD (create_session_x64)]
# Needs perf (linux-perf) and mdb_stat (lmdb-utils); run as root or with
# kernel.perf_event_paranoid <= 1.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: profile.sh BUILD_DIR OUT_DIR [INFLIGHT] [SECONDS] [WORKLOAD]" >&2; exit 2; }
build=$(cd "$1" && pwd); out=$2; inflight=${3:-64}; secs=${4:-10}; wl=${5:-create_session_x64}
mkdir -p "$out"
tmp=$(mktemp -d /tmp/pwprof.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp "$build/bench/paywire-bench" --no-floors --workloads "$wl" --inflight "$inflight" \
  --seconds $((secs + 6)) --pool $((secs * 20000 + 20000)) >"$out/bench.txt" 2>"$out/bench.err" &
bpid=$!
srv=""
for _ in $(seq 1 300); do
  srv=$(pgrep -P "$bpid" -f paywire-server || true)
  # the workload's own line: after the start and the pool's preparation
  grep -qv -e "^bench: starting" -e "^bench: preparing" "$out/bench.err" 2>/dev/null &&
    [ -n "$srv" ] && break
  sleep 0.2
done
[ -n "$srv" ] || { echo "profile.sh: no server child" >&2; kill "$bpid"; exit 1; }
sleep 2 # past the pool's preparation and the warm-up
data=$(ls -d "$tmp"/paywire-bench.*/data)
mdb_stat -a -e -f "$data" >"$out/mdb_stat.before"
cat /proc/"$srv"/io >"$out/io.before"
perf record -F 299 --call-graph dwarf,32768 -p "$srv" -o "$out/perf.data" -- sleep "$secs" 2>"$out/perf.err"
cat /proc/"$srv"/io >"$out/io.after"
mdb_stat -a -e -f "$data" >"$out/mdb_stat.after"
wait "$bpid" || { echo "profile.sh: paywire-bench failed:" >&2; cat "$out/bench.err" >&2; exit 1; }
perf report -i "$out/perf.data" --no-children --sort symbol --stdio --percent-limit 0.7 -g none \
  >"$out/self.txt" 2>/dev/null
perf report -i "$out/perf.data" --children --sort symbol --stdio --percent-limit 2 -g none \
  >"$out/children.txt" 2>/dev/null
perf report -i "$out/perf.data" --no-children --sort comm,dso --stdio -g none \
  >"$out/threads.txt" 2>/dev/null
/usr/bin/python3 - "$out" <<'PY'
import re, sys
d = sys.argv[1]
def stat(path):
    txt = open(path).read()
    txn = int(re.search(r"Last transaction ID: (\d+)", txt).group(1))
    pages = int(re.search(r"Number of pages used: (\d+)", txt).group(1))
    dbs = {}
    for m in re.finditer(r'Status of (\S+)\n(?:.*\n){0,2}?\s*Tree depth: (\d+)\n\s*Branch pages: (\d+)\n\s*Leaf pages: (\d+)\n\s*Overflow pages: (\d+)\n\s*Entries: (\d+)', txt):
        dbs[m.group(1)] = [int(m.group(i)) for i in range(2, 7)]
    return txn, pages, dbs
def io(path):
    return {k: int(v) for k, v in (l.split(": ") for l in open(path).read().splitlines())}
t0, p0, d0 = stat(d + "/mdb_stat.before")
t1, p1, d1 = stat(d + "/mdb_stat.after")
i0, i1 = io(d + "/io.before"), io(d + "/io.after")
commits = t1 - t0
creates = d1.get("sessions", [0]*5)[4] - d0.get("sessions", [0]*5)[4]
with open(d + "/writes.txt", "w") as f:
    f.write("commits %d, sessions created %d, %.2f per commit\n" % (commits, creates, creates / max(commits, 1)))
    f.write("%-20s %10s %12s %8s\n" % ("table", "entries+", "per create", "depth"))
    for name in sorted(d1):
        e = d1[name][4] - d0.get(name, [0]*5)[4]
        if e:
            f.write("%-20s %10d %12.2f %8d\n" % (name, e, e / max(creates, 1), d1[name][0]))
    # LMDB (0.9.24) writes each dirty page with its own pwrite(2) and the
    # meta page once more (O_DSYNC fd); the server writes nothing else
    # through write(2) (replies go out with sendmsg, not counted): write
    # syscalls - 1 per commit = pages dirtied. (/proc/PID/io write_bytes is
    # no page count: ext4's large folios account more than the bytes written.)
    w = i1["syscw"] - i0["syscw"]
    f.write("write syscalls %d: %.1f per commit = %.1f dirty pages per commit (+1 meta), "
            "%.2f per create\n" % (w, w / max(commits, 1), w / max(commits, 1) - 1,
                                    (w - commits) / max(creates, 1)))
    f.write("map pages used: %d -> %d\n" % (p0, p1))
print(open(d + "/writes.txt").read())
PY
echo "profile.sh: $out/{self,children,threads,writes}.txt" >&2
