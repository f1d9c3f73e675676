#!/usr/bin/env bash
# browser_razorpay_test.sh - Razorpay Checkout on paywire's checkout page
# (issue 10), in Debian's chromium driven by playwright-core
# (tests/browser/razorpay.js): paywire creates the Razorpay order, its page
# loads Razorpay Checkout (the tests' Razorpay stand-in serves checkout.js and
# its frame), the customer pays in the frame, Razorpay's signed order.paid
# arrives, the page turns paid in place.
. "$(dirname "$0")/lib.sh"
: "${PW_BROWSER_DIR:?PW_BROWSER_DIR must hold the npm ci of tests/browser}"
OUT=${PW_OUT_DIR:-$T/out}
CHROMIUM=${PW_CHROMIUM:-/usr/bin/chromium}
NODE=${PW_NODE:-node}
[ -x "$CHROMIUM" ] || { echo "not ok - $CHROMIUM is missing (scripts/install-deps.sh installs Debian's chromium)"; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
KID=rzp_test_PwBrowser0001
KSECRET=rzp_browser_secret_0001

start_standin razorpay --key-id "$KID" --key-secret "$KSECRET"
RZP=$STANDIN_URL
PW_BRIDGE_PORT=$(free_port)
start_server "$T/data" --public-url "http://127.0.0.1:$PW_BRIDGE_PORT" --razorpay-api "$RZP" \
  --provider-allow-http
start_bridge --razorpay-checkout-js "$RZP/v1/checkout.js"
m=$("$CLI" --json merchant create --name "Chai Co" --mode test)
key=$(echo "$m" | json api_key)
printf '%s\n' "$KSECRET" | "$CLI" merchant credentials set "$(echo "$m" | json merchant_id)" \
  --provider razorpay --mode test --key-id "$KID" >/dev/null
s=$("$CLI" --json session create --api-key "$key" --amount-minor 49900 --currency INR \
  --plan masala --provider razorpay)
sid=$(echo "$s" | json id)
order=$(echo "$s" | json provider_checkout_id)
url=$(echo "$s" | json url)
contains "a Razorpay order was created" order_ "$order"
page=$(curl -sS -D "$T/hdr" "$url")
contains "the page loads Razorpay Checkout" "src=\"$RZP/v1/checkout.js\"" "$page"
contains "the page has the order" "data-rzp-order=\"$order\"" "$page"
contains "the page has the public key id" "data-rzp-key=\"$KID\"" "$page"
case "$page" in *"$KSECRET"*) fail "the page shows the key secret" ;; *) ok "the page shows no key secret" ;; esac
contains "the CSP allows Checkout's script and frame" "script-src 'nonce-" "$(grep -i '^content-security-policy' "$T/hdr")"
contains "... from its origin" "$RZP" "$(grep -i '^content-security-policy' "$T/hdr")"

marker=$T/paid.marker
NODE_PATH="$PW_BROWSER_DIR/node_modules" PW_CHROMIUM="$CHROMIUM" \
  node "$PW_SOURCE_DIR/tests/browser/razorpay.js" "$url" "$OUT" "$marker" 2>"$T/browser.log" &
BPID=$!
PIDS+=("$BPID")
have_marker() { [ -s "$marker" ] || ! kill -0 "$BPID" 2>/dev/null; }
wait_until have_marker || fail "the browser did not pay within $HANG_S s"
if [ -s "$marker" ]; then
  curl -sS -m "$HANG_S" "$RZP/__standin/orders/$order/event" >"$T/ev.json"
  "$NODE" "$PW_SIGNER_DIR/sign.js" razorpay "$PAYWIRE_RAZORPAY_WEBHOOK_SECRET" "$T/ev.json" \
    --id "evt_browser_$order" >"$T/h"
  args=(); while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$T/h"
  code=$(curl -sS -o "$T/wr" -w '%{http_code}' -X POST "$BRIDGE/webhooks/razorpay" "${args[@]}" \
    --data-binary "@$T/ev.json")
  contains "Razorpay's order.paid is applied" '200 {"outcome":"applied"' "$code $(cat "$T/wr")"
fi
rc=0
wait "$BPID" || rc=$?
cat "$T/browser.log"
eq "the browser paid through Razorpay Checkout and saw the page turn paid (exit 0)" 0 "$rc"
eq "the session is paid" paid "$("$CLI" --json status "$sid" | json status)"
n=$(ls "$OUT"/*.png 2>/dev/null | wc -l)
if [ "$n" -ge 3 ]; then ok "screenshots in $OUT ($n)"; else fail "screenshots: $n in $OUT"; fi
finish
