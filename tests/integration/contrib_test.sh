#!/usr/bin/env bash
# contrib_test.sh - contrib/prometheus/alerts.yml and contrib/grafana/paywire.json
# (issue 13): the rules pass `promtool check rules` when Debian's prometheus
# package (which ships promtool) is installed, else they parse as YAML with
# the shape Prometheus wants; the dashboard is JSON; and every paywire_*
# metric either file names is one that a running server or bridge exposes.
. "$(dirname "$0")/lib.sh"
C=$PW_SOURCE_DIR/contrib
rules=$C/prometheus/alerts.yml
dash=$C/grafana/paywire.json
if command -v promtool >/dev/null; then
  out=$(promtool check rules "$rules" 2>&1) && rc=0 || rc=$?
  eq "promtool check rules: exit 0 ($(echo "$out" | grep -o 'SUCCESS: [0-9]* rules found' || echo "$out" | head -3))" 0 "$rc"
else
  echo "# promtool not installed (Debian: apt-get install prometheus): YAML check only"
  check "alerts.yml parses as YAML with groups of named rules" $PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
rules = [r for g in d["groups"] for r in g["rules"]]
assert rules and all(r.get("alert") and r.get("expr") for r in rules)' "$rules"
fi
check "paywire.json parses as JSON with panels" $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["panels"] and all(p["targets"] for p in d["panels"])' "$dash"

mport=$(free_port)
start_server "$T/data" --metrics-listen "127.0.0.1:$mport"
wait_server
start_bridge
curl -sS "http://127.0.0.1:$mport/metrics" >"$T/scrape"
curl -sS "$BRIDGE/metrics" >>"$T/scrape"
for f in "$rules" "$dash"; do
  missing=$(grep -o 'paywire_[a-z_]*' "$f" | sed -E 's/_(bucket|sum|count)$//' | sort -u | while read -r m; do
    grep -q "^# TYPE $m " "$T/scrape" || echo "$m"; done)
  eq "every metric $(basename "$f") names is exposed" "" "$missing"
done
finish
