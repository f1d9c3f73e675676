#!/usr/bin/env bash
# browser_provider_test.sh - a customer of a session whose checkout paywire
# created at Stripe (issue 10), in Debian's chromium driven by playwright-core
# (tests/browser/provider.js): paywire's checkout page sends the browser to
# Stripe's hosted page (the tests' spec-validated Stripe stand-in, whose
# /c/pay page plays it), "Pay" there brings it back to the merchant's
# success_url; Stripe's signed checkout.session.completed makes the session
# paid, and paywire's checkout page then shows the paid page, not Stripe's.
. "$(dirname "$0")/lib.sh"
: "${PW_BROWSER_DIR:?PW_BROWSER_DIR must hold the npm ci of tests/browser}"
OUT=${PW_OUT_DIR:-$T/out}
CHROMIUM=${PW_CHROMIUM:-/usr/bin/chromium}
NODE=${PW_NODE:-node}
[ -x "$CHROMIUM" ] || { echo "not ok - $CHROMIUM is missing (scripts/install-deps.sh installs Debian's chromium)"; exit 1; }
rm -rf "$OUT" && mkdir -p "$OUT"
SK=sk_test_paywireBrowser0123456789

sp=$(free_port)
start_standin stripe --api-key "$SK" --port "$sp" --checkout-base "http://127.0.0.1:$sp/c/pay"
STRIPE=$STANDIN_URL
PW_BRIDGE_PORT=$(free_port)
start_server "$T/data" --public-url "http://127.0.0.1:$PW_BRIDGE_PORT" --stripe-api "$STRIPE" \
  --provider-allow-http
start_bridge
m=$("$CLI" --json merchant create --name "Browser Books" --mode test)
key=$(echo "$m" | json api_key)
printf '%s\n' "$SK" | "$CLI" merchant credentials set "$(echo "$m" | json merchant_id)" \
  --provider stripe --mode test >/dev/null
# success_url on the bridge (a page that answers): Stripe puts its session id in
s=$("$CLI" --json session create --api-key "$key" --amount-minor 1250 --currency EUR \
  --plan reader --email reader@example.com --provider stripe \
  --success-url "$BRIDGE/healthz?paid={CHECKOUT_SESSION_ID}" --cancel-url "$BRIDGE/healthz?canceled=1")
sid=$(echo "$s" | json id)
cs=$(echo "$s" | json provider_checkout_id)
url=$(echo "$s" | json url)

rc=0
out=$(NODE_PATH="$PW_BROWSER_DIR/node_modules" PW_CHROMIUM="$CHROMIUM" \
  node "$PW_SOURCE_DIR/tests/browser/provider.js" "$url" "http://127.0.0.1:$sp/c/pay/$cs" \
  "$BRIDGE/healthz?paid=" "$OUT" 2>"$T/browser.log") || rc=$?
cat "$T/browser.log"
eq "the browser went to Stripe's page and back (exit 0)" 0 "$rc"
[ "$rc" -eq 0 ] || { finish; exit 1; }
eq "back at success_url with Stripe's session id" "$BRIDGE/healthz?paid=$cs" "$(echo "$out" | json success_url)"

# Stripe's event for that checkout session (as Stripe would send it)
curl -sS -m "$HANG_S" "$STRIPE/__standin/state" | $PY -c 'import json,sys,time
s=[x for x in json.load(sys.stdin)["checkout_sessions"] if x["id"] == sys.argv[1]][0]
print(json.dumps({"id": "evt_browser_" + s["id"][-12:], "object": "event",
    "type": "checkout.session.completed", "created": int(time.time()), "livemode": False,
    "api_version": "2024-04-10", "data": {"object": s}}))' "$cs" >"$T/ev.json"
"$NODE" "$PW_SIGNER_DIR/sign.js" stripe "$PAYWIRE_STRIPE_WEBHOOK_SECRET" "$T/ev.json" \
  --timestamp "$(date +%s)" >"$T/h"
args=(); while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$T/h"
code=$(curl -sS -o "$T/wr" -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" "${args[@]}" \
  --data-binary "@$T/ev.json")
contains "Stripe's checkout.session.completed is applied" '200 {"outcome":"applied"' "$code $(cat "$T/wr")"
eq "the session is paid" paid "$("$CLI" --json status "$sid" | json status)"
code=$(curl -sS -o "$T/page" -w '%{http_code}' "$url")
eq "paid: paywire's checkout page answers itself (200, no redirect)" 200 "$code"
contains "... with the receipt and the access link" 'id="pw-access"' "$(cat "$T/page")"
n=$(ls "$OUT"/*.png 2>/dev/null | wc -l)
if [ "$n" -ge 2 ]; then ok "screenshots in $OUT ($n)"; else fail "screenshots: $n in $OUT"; fi
finish
