#!/usr/bin/env bash
# log_scan_test.sh - the secret scan of the logs (issue 13), in three parts.
# Every integration test already runs at log level debug with PW_LOG_SCAN=1
# (tests/integration.cmake), so its lib.sh cleanup (scan_logs) checks its
# own server and bridge logs for the fixture secrets (admin key, webhook
# secrets, token secret), the values the script registered, and anything
# shaped like an API key, access key, checkout secret, access token (JWT),
# provider key, webhook secret or bot token. This test adds:
# 1. the scanner's own test: planted leaks (plain, in JSON, escaped) fail
#    the scan, a clean log passes;
# 2. from ctest's list: every integration test of the build has the scan on;
# 3. six scenarios again with JSON lines (every line must parse, and the
#    secrets are looked for in the decoded strings too): merchants, keys,
#    sessions and errors over HTTP (bridge_e2e); the CLI's lifecycle and
#    restarts (lifecycle); webhooks of every provider, access links,
#    reissue, test payments (webhooks); provider credentials, provider
#    checkouts and refunds against the stand-ins (checkout_provider); the
#    change feed (events); operations (ops).
set -uo pipefail
dir=$(dirname "$0")
fails=0

# The scanner itself first: a log with one planted secret must fail the scan,
# in each form a leak could take; a clean log with what paywire does log
# (a key's 12-character prefix, last4, ids) must pass. A scanner that found
# nothing would make every scenario below, and every it_* test that runs
# with PW_LOG_SCAN=1 (tests/integration.cmake), pass.
planted() { # FORMAT LINE: scan_logs over a server.log holding LINE
  local fmt=$1 line=$2
  ( export PW_LOG_FORMAT=$fmt
    . "$dir/lib.sh" >/dev/null 2>&1
    trap - EXIT
    printf '%s\n' "${line//@ADMIN@/$PAYWIRE_ADMIN_KEY}" >"$T/server.log"
    secret "rzp_live_registered_secret_value"
    scan_logs >/dev/null; rc=$?; rm -rf "$T"; exit $rc )
}
k=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
sec="ab/cd/$(head -c 24 /dev/urandom | base64)" # a "/" early: escaped as "\/" in JSON
sec_escaped=${sec//\//\\\/}
while read -r name fmt want line; do
  planted "$fmt" "$line" && got=pass || got=fail
  if [ "$got" = "$want" ]; then
    echo "ok - scanner: $name: $got"
  else
    fails=$((fails + 1))
    echo "not ok - scanner: $name: $got, wanted $want"
  fi
done <<PLANTED
api-key text fail level=info msg="auth" key=sk_test_$k
api-key-json json fail {"level":"info","msg":"auth","key":"sk_live_$k"}
whsec-escaped json fail {"level":"debug","msg":"x","v":"whsec_$sec_escaped"}
unicode-escaped json fail {"level":"debug","msg":"x","v":"\\u0073k_test_$k"}
access-key text fail granted ak_live_$k
jwt text fail token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjc18xMjM0In0.c2lnbmF0dXJl
telegram text fail sending via 123456789:AAH$k
registered text fail provider said rzp_live_registered_secret_value
admin-key text fail header @ADMIN@
bad-json json fail {"level":"info","msg":
clean text pass level=info msg="api key created" key_prefix=sk_test_AbCd last4=wxyz key_id=key_0190abcdef
clean-json json pass {"level":"info","msg":"paid","session":"cs_0190abcdef0123456789","amount":1999}
PLANTED

# Every integration test of this build scans its own logs at exit: ctest's
# own list of the tests and their environments says so.
if [ -n "${PW_BIN_DIR:-}" ] && [ -f "$PW_BIN_DIR/CTestTestfile.cmake" ]; then
  missing=$(ctest --test-dir "$PW_BIN_DIR" --show-only=json-v1 2>/dev/null | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
n, bad = 0, []
for t in d["tests"]:
    if not t["name"].startswith("paywire.it_") or t["name"] == "paywire.it_log_scan":
        continue
    n += 1
    env = next((p["value"] for p in t.get("properties", []) if p["name"] == "ENVIRONMENT"), [])
    if "PW_LOG_SCAN=1" not in env or "PW_LOG=debug" not in env:
        bad.append(t["name"])
print(n, " ".join(bad))')
  count=${missing%% *}
  rest=${missing#* }
  if [ -n "$count" ] && [ "$count" -ge 20 ] && [ -z "${rest// /}" ]; then
    echo "ok - all $count integration tests scan their logs at debug (PW_LOG_SCAN=1)"
  else
    fails=$((fails + 1))
    echo "not ok - integration tests without the log scan: ${rest:-?} (of ${count:-?})"
  fi
fi
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
