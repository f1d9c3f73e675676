#!/usr/bin/env bash
# log_scan_test.sh - the suite's scenarios again, at log level debug with
# JSON lines, and every line the server and the bridge wrote scanned for
# secrets (issue 13): each scenario script runs with PW_LOG_SCAN=1, so its
# lib.sh cleanup (scan_logs) checks its own logs for the fixture secrets
# (admin key, webhook secrets, token secret), the values the script
# registered, and anything shaped like an API key, access key, checkout
# secret, access token (JWT), provider key or webhook secret; and that every
# JSON line parses. A scenario that fails, or leaks, fails this test.
# Scenarios: merchants, keys, sessions and errors over HTTP (bridge_e2e);
# the CLI's lifecycle and restarts (lifecycle); webhooks of every provider,
# access links, reissue, test payments (webhooks); provider credentials,
# provider checkouts and refunds against the stand-ins (checkout_provider);
# the change feed (events); the README's commands (readme); operations (ops).
set -uo pipefail
dir=$(dirname "$0")
fails=0
for s in ${PW_LOG_SCAN_SCENARIOS:-bridge_e2e lifecycle webhooks checkout_provider events ops}; do
  out=$(PW_LOG=debug PW_LOG_FORMAT=json PW_LOG_SCAN=1 bash "$dir/${s}_test.sh" 2>&1)
  rc=$?
  scanned=$(printf '%s\n' "$out" | grep -c 'lines scanned for secrets' || true)
  leaks=$(printf '%s\n' "$out" | grep -E '^not ok - .*(holds|is not JSON)' || true)
  if [ "$rc" -eq 0 ] && [ "$scanned" -ge 1 ]; then
    echo "ok - $s: passed at debug/json, $scanned log files scanned, no secret in any line"
  else
    fails=$((fails + 1))
    echo "not ok - $s: exit $rc, $scanned log files scanned"
    [ -n "$leaks" ] && printf '%s\n' "$leaks"
    printf '%s\n' "$out" | grep '^not ok' | head -20
  fi
done
echo "$fails failed"
[ "$fails" -eq 0 ]
