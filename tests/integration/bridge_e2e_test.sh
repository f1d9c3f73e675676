#!/usr/bin/env bash
# bridge_e2e_test.sh - the bridge's merchant and public routes against a real
# server: POST /create_session (exact amounts, errors mapped through the status
# table, nothing written on refusal), GET /session/{id}/status, /healthz with
# and without a server, /metrics, unknown routes and methods.
. "$(dirname "$0")/lib.sh"
data=$T/data
bport=$(free_port)   # the server's checkout URLs point at this bridge, as run.sh sets it up
start_server "$data" --public-url "http://127.0.0.1:$bport"
PW_BRIDGE_PORT=$bport start_bridge
key=$(new_merchant test)

# create BODY [extra curl args] -> "HTTP_CODE BODY"
create() {
  local body=$1; shift
  local resp; resp=$(mktemp "$T/c.XXXXXX")
  local code
  code=$(curl -sS -o "$resp" -w '%{http_code}' -X POST "$BRIDGE/create_session" \
    -H 'Content-Type: application/json' "$@" --data-binary "$body" || true)
  printf '%s %s' "$code" "$(cat "$resp")"
}
field() { printf '%s' "${1#* }" | json "$2"; }

r=$(create '{"amount":"49.00","currency":"EUR","mode":"test","customer_email":"jane@example.com","plan":"pro"}' -H "X-API-Key: $key")
eq "create_session with a decimal string → 200" 200 "${r%% *}"
eq "… exact minor units" 4900 "$(field "$r" amount_minor)"
sid=$(field "$r" id)
contains "… a cs_ id" cs_ "$sid"
contains "… its checkout URL points at this bridge" "$BRIDGE/checkout?session=$sid" "$(field "$r" url)"

r=$(create '{"amount":19.99,"currency":"EUR","mode":"test"}' -H "X-API-Key: $key")
eq "create_session with a JSON number 19.99 → exactly 1999 (no float on the way)" 1999 "$(field "$r" amount_minor)"
r=$(create '{"amount":500,"currency":"JPY","mode":"test"}' -H "X-API-Key: $key")
eq "JPY has no minor unit: 500 → 500" 500 "$(field "$r" amount_minor)"

a=$(create '{"amount":"10.00","currency":"EUR","mode":"test"}' -H "X-API-Key: $key" -H 'Idempotency-Key: order-77')
b=$(create '{"amount":"10.00","currency":"EUR","mode":"test"}' -H "X-API-Key: $key" -H 'Idempotency-Key: order-77')
eq "Idempotency-Key header: same parameters → same session" "$(field "$a" id)" "$(field "$b" id)"

refused() { # refused DESC HTTP BODY [curl args]
  local d=$1 want=$2 body=$3; shift 3
  local before r
  before=$(last_txnid "$data")
  r=$(create "$body" "$@")
  if [ "${r%% *}" = "$want" ] && [ "$before" = "$(last_txnid "$data")" ]; then
    ok "$d → $want, nothing written"
  else
    fail "$d → expected $want and no write, got ${r:0:300}"
  fi
}
refused "more precision than EUR has (49.001)" 400 '{"amount":"49.001","currency":"EUR","mode":"test"}' -H "X-API-Key: $key"
refused "a fraction of a yen (0.5 JPY)" 400 '{"amount":"0.5","currency":"JPY","mode":"test"}' -H "X-API-Key: $key"
refused "exponent notation (1e3)" 400 '{"amount":1e3,"currency":"EUR","mode":"test"}' -H "X-API-Key: $key"
refused "negative amount" 400 '{"amount":"-1.00","currency":"EUR","mode":"test"}' -H "X-API-Key: $key"
refused "unknown currency" 400 '{"amount":"1.00","currency":"EUX","mode":"test"}' -H "X-API-Key: $key"
refused "an unknown JSON key (refused like Stripe)" 400 '{"amount":"1.00","currency":"EUR","mode":"test","colour":"red"}' -H "X-API-Key: $key"
refused "not JSON" 400 'amount=1' -H "X-API-Key: $key"
refused "no X-API-Key" 401 '{"amount":"1.00","currency":"EUR","mode":"test"}'
refused "an unknown X-API-Key" 401 '{"amount":"1.00","currency":"EUR","mode":"test"}' -H 'X-API-Key: sk_test_unknown'
refused "a test key asking for a live session" 403 '{"amount":"1.00","currency":"EUR","mode":"live"}' -H "X-API-Key: $key"
refused "same Idempotency-Key, other parameters" 409 '{"amount":"11.00","currency":"EUR","mode":"test"}' -H "X-API-Key: $key" -H 'Idempotency-Key: order-77'

# A credit package sold over HTTP: amount and currency are the package's.
"$CLI" credits package create web_50 --credits 50 --amount-minor 450 --currency EUR \
  --api-key "$key" >/dev/null
r=$(create '{"credit_package":"web_50","mode":"test","customer_ref":"cust_web"}' -H "X-API-Key: $key")
eq "create_session with a credit_package → 200" 200 "${r%% *}"
eq "… the package's amount" 450 "$(field "$r" amount_minor)"
eq "… the package's currency" EUR "$(field "$r" currency)"
eq "… names the package" web_50 "$(field "$r" credit_package)"
refused "a credit_package with another amount" 400 '{"credit_package":"web_50","amount_minor":451,"mode":"test"}' -H "X-API-Key: $key"
refused "an unknown credit_package" 404 '{"credit_package":"nope","mode":"test"}' -H "X-API-Key: $key"
refused "a credit_package and a plan" 400 '{"credit_package":"web_50","plan":"pro","mode":"test"}' -H "X-API-Key: $key"

# Status over HTTP.
r=$(curl -sS -w ' %{http_code}' "$BRIDGE/session/$sid/status")
contains "GET /session/{id}/status → 200 created" '"status":"created"' "$r"
contains "… with exact amounts" '"amount_minor":4900' "$r"
case "$r" in *access_link*|*token*) fail "status JSON must not carry the access link" ;; *) ok "status JSON carries no access link" ;; esac
code=$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/session/cs_0000000000000000000000000000000000000000000/status")
eq "status of an unknown session → 404" 404 "$code"

# Routing.
eq "unknown route → 404" 404 "$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/nope")"
eq "GET on a webhook route → 405" 405 "$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/webhooks/stripe")"
eq "unknown provider → 404" 404 "$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary '{}' "$BRIDGE/webhooks/paypal")"

# Metrics count what happened.
m=$(curl -sS "$BRIDGE/metrics")
contains "metrics: create_session 200s counted" 'route="create_session",code="200"' "$m"
contains "metrics: create_session 400s counted" 'route="create_session",code="400"' "$m"
contains "metrics: latency histogram exported" 'paywire_bridge_request_duration_seconds_bucket' "$m"

# Health follows the server: up, then down (503), then up again.
# The bridge's health probe has its own 1 s timeout: on a loaded machine a
# probe may miss it, so "up" is a state reached, not one timed answer.
check "/healthz with the server up → 200" wait_until healthz_is 200
stop_pid "$SERVER_PID" TERM
eq "server stopped cleanly" 0 "$RC"
eq "/healthz with the server down → 503" 503 "$(curl -sS -o /dev/null -m "$HANG_S" -w '%{http_code}' "$BRIDGE/healthz")"
PW_REUSE_PORT=${SERVER_URL##*:} start_server "$data" --public-url "http://127.0.0.1:$bport"
check "/healthz after the server is back → 200 (the bridge redials)" wait_until healthz_is 200
finish
