#!/usr/bin/env bash
# server_down_test.sh - with paywire-server down, the CLI and the bridge fail
# fast and show nothing internal in public:
#   - the CLI (600 s per attempt and default retries, then the defaults: a
#     refusal retried like a timeout would be killed at 60 s) exits 1 with
#     UNAVAILABLE, the address it tried and the variable that set it;
#   - a bridge started in front of the dead address (default 8 workers,
#     5000 ms x 4 attempts) answers 32 concurrent page requests and 32
#     concurrent webhook posts all with 503 and the right content type, and no
#     body names the RPC address, tcp:// or ipc://; /healthz says down;
#   - once the server starts, the same bridge answers 200.
# No duration is asserted: every curl has --max-time 60, so a bridge that
# held its workers for the retry period (64 requests over 8 workers x 20 s)
# fails on the bound, not on a measurement. The wall time is printed only.
. "$(dirname "$0")/lib.sh"
data=$T/data
port=$(free_port)
SERVER_URL=tcp://127.0.0.1:$port   # nothing listens there yet
export PAYWIRE_SERVER=$SERVER_URL

# The CLI.
rc=0
timeout 60 "$CLI" --timeout-ms 600000 status cs_0000000000000000000000000000000000000000000 \
  >"$T/cli.out" 2>"$T/cli.err" || rc=$?
eq "CLI with the server down exits 1 (not killed by the 60 s bound)" 1 "$rc"
contains "… says UNAVAILABLE and the address it tried" "error: UNAVAILABLE: cannot connect to the server at $SERVER_URL" "$(cat "$T/cli.err")"
contains "… and the variable that set it" "server: $SERVER_URL (from PAYWIRE_SERVER; --server URL overrides it)" "$(cat "$T/cli.err")"
rc=0
timeout 60 "$CLI" --server "$SERVER_URL" --json audit verify --admin-key k >/dev/null 2>"$T/cli.err" || rc=$?
eq "CLI audit verify with the server down exits 1" 1 "$rc"
contains "… naming --server as the source" "server: $SERVER_URL (from --server)" "$(cat "$T/cli.err")"

# The bridge, in front of nothing.
PW_BRIDGE_HEALTH=503 start_bridge
code=$(curl -sS -o "$T/h.body" -m 60 -w '%{http_code}' "$BRIDGE/healthz" || true)
eq "/healthz with the server down → 503" 503 "$code"
contains "… says unavailable" '"status":"unavailable"' "$(cat "$T/h.body")"

sid=cs_00000000000000000000000000000000000000000001
req() { # req NAME METHOD PATH: one request, its code, content type and body in $T/r/NAME.*
  local name=$1 method=$2 path=$3
  if [ "$method" = POST ]; then
    curl -sS -m 60 -X POST -H 'Content-Type: application/json' -H 'Stripe-Signature: t=1,v1=00' \
      --data-binary '{"id":"evt_1","type":"checkout.session.completed"}' \
      -o "$T/r/$name.body" -w '%{http_code} %{content_type}' "$BRIDGE$path" >"$T/r/$name.meta" 2>&1 || true
  else
    curl -sS -m 60 -o "$T/r/$name.body" -w '%{http_code} %{content_type}' "$BRIDGE$path" \
      >"$T/r/$name.meta" 2>&1 || true
  fi
}
mkdir -p "$T/r"
pages=(/checkout?session=$sid /session/$sid/status "/access/$sid?token=a.b.c")
providers=(stripe razorpay onecom web3)
t0=$(date +%s%N)
pids=()
for i in $(seq 0 31); do
  req "page$i" GET "${pages[$((i % 3))]}" & pids+=($!)
  req "hook$i" POST "/webhooks/${providers[$((i % 4))]}" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
t1=$(date +%s%N)
echo "# 64 concurrent requests with the server down answered in $(( (t1 - t0) / 1000000 )) ms (not asserted)"

bad=0 leaked=0
for i in $(seq 0 31); do
  for kind in page hook; do
    meta=$(cat "$T/r/$kind$i.meta")
    case "$kind:${pages[$((i % 3))]}" in
      page:/session/*|hook:*) want="503 application/json; charset=utf-8" ;;
      *) want="503 text/html; charset=utf-8" ;;
    esac
    [ "$meta" = "$want" ] || { bad=$((bad + 1)); echo "# $kind$i: got [$meta], want [$want]"; }
    if grep -sqF -e "$SERVER_URL" -e "127.0.0.1:$port" -e "tcp://" -e "ipc://" -e "Connection refused" \
        -e "cannot connect" "$T/r/$kind$i.body"; then
      leaked=$((leaked + 1)); echo "# $kind$i body shows internals: $(head -c 300 "$T/r/$kind$i.body")"
    fi
  done
done
eq "32 pages and 32 webhooks with the server down: all 503 with their content type" 0 "$bad"
eq "… and no body names the RPC address, tcp:// or ipc://" 0 "$leaked"
contains "… a page says the service is unavailable" "cannot answer right now" "$(cat "$T/r/page0.body")"
contains "… a webhook gets UNAVAILABLE (the provider retries)" '"code":"UNAVAILABLE"' "$(cat "$T/r/hook0.body")"
if grep -q "127.0.0.1:$port" "$T/bridge.log"; then
  ok "the operator's log has the detail (the address and the refusal)"
else
  fail "the bridge log should name the address it could not reach"
fi

# The server comes up at that address: the same bridge answers again.
PW_REUSE_PORT=$port start_server "$data" --public-url "$BRIDGE"
key=$(new_merchant test)
sid=$("$CLI" --json session create --api-key "$key" --amount 1.00 --currency EUR | json id)
health=000
for _ in $(seq 1 100); do
  health=$(curl -sS -o /dev/null -m 60 -w '%{http_code}' "$BRIDGE/healthz" || true)
  [ "$health" = 200 ] && break
  sleep 0.1
done
eq "/healthz once the server is up → 200" 200 "$health"
eq "the checkout page → 200" 200 "$(curl -sS -o /dev/null -m 60 -w '%{http_code}' "$BRIDGE/checkout?session=$sid")"
eq "the status route → 200" 200 "$(curl -sS -o /dev/null -m 60 -w '%{http_code}' "$BRIDGE/session/$sid/status")"
code=$(curl -sS -o /dev/null -m 60 -w '%{http_code}' -X POST -H 'Stripe-Signature: t=1,v1=00' \
  --data-binary '{}' "$BRIDGE/webhooks/stripe" || true)
case "$code" in 4??) ok "a webhook reaches the server again (an unsigned one is refused: $code)" ;;
  *) fail "a webhook with the server up should get the server's 4xx, got $code" ;; esac
finish
