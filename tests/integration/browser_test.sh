#!/usr/bin/env bash
# browser_test.sh - a customer's visit in a real browser (issue 9): Debian's
# chromium, driven by playwright-core (tests/browser/checkout.js), opens the
# checkout page of a test-mode session, clicks "Pay (test)", sees the page
# turn paid without a reload, follows the access link, reveals the access
# key once and finds it gone on a second visit; "Fail (test)" on another
# session. Real paywire-server + paywire-bridge on loopback. Screenshots go
# to PW_OUT_DIR (build-*/test-output/browser). The key the browser revealed
# is then checked with the merchant's VerifyAccessKey.
. "$(dirname "$0")/lib.sh"
: "${PW_BROWSER_DIR:?PW_BROWSER_DIR must hold the npm ci of tests/browser}"
OUT=${PW_OUT_DIR:-$T/out}
CHROMIUM=${PW_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "not ok - $CHROMIUM is missing (scripts/install-deps.sh installs Debian's chromium)"; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"

# The server writes the checkout URLs with the bridge's public address, so
# the bridge's port is chosen first.
PW_BRIDGE_PORT=$(free_port)
start_server "$T/data" --public-url "http://127.0.0.1:$PW_BRIDGE_PORT"
start_bridge
key=$("$CLI" --json merchant create --name "Browser Books" --mode test | json api_key)

checkout() { # checkout -> the customer's checkout URL of a new test session
  "$CLI" --json session create --api-key "$key" --amount-minor 1250 --currency EUR \
    --email reader@example.com --plan reader --success-url "https://shop.example/thanks" \
    --cancel-url "https://shop.example/cart" | json url
}
pay_url=$(checkout)
fail_url=$(checkout)
contains "the session's URL carries the checkout secret" "secret=cks_" "$pay_url"
contains "… and points at the bridge" "http://127.0.0.1:$PW_BRIDGE_PORT/checkout?session=" "$pay_url"

rc=0
out=$(NODE_PATH="$PW_BROWSER_DIR/node_modules" PW_CHROMIUM="$CHROMIUM" \
  node "$PW_SOURCE_DIR/tests/browser/checkout.js" "$pay_url" "$fail_url" "$OUT" 2>"$T/browser.log") || rc=$?
cat "$T/browser.log"
eq "the browser visit passed every step (exit 0)" 0 "$rc"
if [ "$rc" -ne 0 ]; then tail -20 "$T/bridge.log" >&2; finish; exit 1; fi

sid=${pay_url#*session=}; sid=${sid%%&*}
eq "the session the browser paid is paid" paid "$("$CLI" --json session get "$sid" --api-key "$key" | json status)"
fsid=${fail_url#*session=}; fsid=${fsid%%&*}
eq "the session the browser failed is failed" failed "$("$CLI" --json status "$fsid" | json status)"
ak=$(echo "$out" | json access_key)
v=$(printf '%s\n' "$ak" | "$CLI" --json access verify --api-key "$key") && rc=0 || rc=$?
eq "the key the browser revealed verifies (exit 0)" 0 "$rc"
eq "… for the plan the session sold" reader "$(echo "$v" | json plan)"
contains "the continue link carries the session id" "$sid" "$(echo "$out" | json continue_url)"
n=$(ls "$OUT"/*.png 2>/dev/null | wc -l)
if [ "$n" -ge 6 ]; then ok "screenshots in $OUT ($n)"; else fail "screenshots: $n in $OUT"; fi
finish
