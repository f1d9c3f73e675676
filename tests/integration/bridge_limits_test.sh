#!/usr/bin/env bash
# bridge_limits_test.sh - the bridge's rate limits per client address (issue
# 11) over real HTTP. The bridge trusts 127.0.0.1 as a reverse proxy, so
# X-Forwarded-For stands for several clients. Rates are per hour: no token
# refills during the test, the counts are exact.
#   public routes: a burst of 7 against 5 → exactly 5 answers, then 429 with
#   Retry-After and a small JSON body (HTML on the checkout page); another
#   address unaffected; one IPv6 /64 is one client; a peer that is not a
#   trusted proxy cannot pick its address with X-Forwarded-For;
#   webhooks: their own, separate limit; a webhook refused with 429 wrote
#   nothing, and the provider's retry (from another address here) applies it;
#   /metrics counts the refusals by class; bad flags exit 2.
. "$(dirname "$0")/lib.sh"
FX=$PW_FIXTURES_DIR
start_server "$T/data"
start_bridge --ip-rate-public 1/h:5 --ip-rate-webhooks 1/h:3 --trust-forwarded-for 127.0.0.1,::1
key=$(new_merchant test)
sid=$("$CLI" --json session create --api-key "$key" --amount-minor 4900 --currency EUR | json id)

# get PATH XFF [curl args...] -> HTTP code; headers in $T/hdr, body in $T/body
get() {
  local p=$1 x=$2; shift 2
  curl -sS -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" ${x:+-H "X-Forwarded-For: $x"} \
    "$BRIDGE$p" || true
}
codes() { # codes N PATH XFF [curl args] -> " c1 c2 ..."
  local n=$1 out=""; shift
  for _ in $(seq 1 "$n"); do out="$out $(get "$@")"; done
  echo "$out"
}
retry_after() { grep -i '^retry-after:' "$T/hdr" | tr -d '\r' | awk '{print $2}'; }

eq "public: 7 status requests against a burst of 5 → 5 answered, then 429" \
  " 200 200 200 200 200 429 429" "$(codes 7 "/session/$sid/status" 198.51.100.1)"
ra=$(retry_after)
if [ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ]; then ok "429 with Retry-After $ra s"
else fail "Retry-After [$ra]"; fi
contains "429 body: JSON RESOURCE_EXHAUSTED" '"code":"RESOURCE_EXHAUSTED"' "$(cat "$T/body")"
contains "429 body: says why" "too many requests from this address" "$(cat "$T/body")"
eq "the checkout page of the same address → 429" 429 "$(get "/checkout?session=$sid" 198.51.100.1)"
contains "... as a small HTML page" "text/html" "$(grep -i '^content-type:' "$T/hdr")"
[ -n "$(retry_after)" ] && ok "... with Retry-After" || fail "checkout 429 without Retry-After"
eq "create_session from the same address → 429 (before the server is asked)" 429 \
  "$(get /create_session 198.51.100.1 -X POST -H "X-API-Key: $key" -H 'Content-Type: application/json' \
     -d '{"amount_minor":500,"currency":"EUR","mode":"test"}')"
eq "another address is not affected" " 200 200 200" "$(codes 3 "/session/$sid/status" 198.51.100.2)"
eq "the proxy's own requests (no X-Forwarded-For) are its own address" 200 \
  "$(get "/session/$sid/status" "")"
eq "X-Forwarded-For's last untrusted hop is the client (127.0.0.1 is the proxy)" 429 \
  "$(get "/session/$sid/status" "198.51.100.1, 127.0.0.1")"
eq "IPv6: one /64 is one client (5 from ::1, 2 more from ::2)" " 200 200 200 200 200 429 429" \
  "$( { codes 5 "/session/$sid/status" 2001:db8:7:7::1; codes 2 "/session/$sid/status" 2001:db8:7:7::2; } | tr -d '\n' | sed 's/  / /g')"
eq "... the next /64 is another client" 200 "$(get "/session/$sid/status" 2001:db8:7:8::1)"
# a peer that is not a trusted proxy (127.0.0.2) cannot choose its address
out=""
for i in 1 2 3 4 5 6; do out="$out $(get "/session/$sid/status" "203.0.113.$i" --interface 127.0.0.2)"; done
eq "untrusted peer: X-Forwarded-For ignored, its 6 requests are one address's" \
  " 200 200 200 200 200 429" "$out"

# ---- webhooks: a separate limit; a refusal loses no event
f=$T/evt.json
sed -e "s/ps_2f6c1e9a4b7d/$sid/g" "$FX/stripe.checkout.session.completed.json" >"$f"
stripe_post() { # stripe_post XFF -> HTTP code (fresh signature each time)
  local t; t=$(date +%s)
  local sig; sig=$({ printf '%s.' "$t"; cat "$f"; } | openssl dgst -sha256 -hmac "$PAYWIRE_STRIPE_WEBHOOK_SECRET" | sed 's/^.* //')
  curl -sS -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" \
    -H "X-Forwarded-For: $1" -H "Stripe-Signature: t=$t,v1=$sig" -H 'Content-Type: application/json' \
    --data-binary "@$f" || true
}
badsig() { # a wrongly signed post from $1: counts against the webhook limit, writes nothing
  curl -sS -o /dev/null -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" -H "X-Forwarded-For: $1" \
    -H "Stripe-Signature: t=1,v1=00" --data-binary '{}' || true
}
eq "webhooks: the address limited on public routes still has its webhook budget" 401 "$(badsig 198.51.100.1)"
eq "webhooks: 2 more bad posts (burst 3)" "401 401" "$(badsig 198.51.100.1) $(badsig 198.51.100.1)"
before=$(last_txnid "$T/data")
eq "webhooks: a valid event over the limit → 429" 429 "$(stripe_post 198.51.100.1)"
[ -n "$(retry_after)" ] && ok "... with Retry-After" || fail "webhook 429 without Retry-After"
eq "... nothing was written" "$before" "$(last_txnid "$T/data")"
eq "... the session is still unpaid" created "$("$CLI" --json status "$sid" | json status)"
eq "the provider's retry (from another address) → 200" 200 "$(stripe_post 198.51.100.77)"
contains "... applied" '"outcome":"applied"' "$(cat "$T/body")"
eq "... the session is paid: no event lost" paid "$("$CLI" --json status "$sid" | json status)"
eq "public routes of a fresh address are not spent by webhooks" 200 "$(get "/session/$sid/status" 198.51.100.77)"

m=$(curl -sS "$BRIDGE/metrics")
contains "metrics: public refusals counted" 'paywire_bridge_ip_limited_total{class="public"} 8' "$m"
contains "metrics: webhook refusals counted" 'paywire_bridge_ip_limited_total{class="webhooks"} 1' "$m"
eq "/healthz is not limited per address" " 200 200 200 200 200 200 200" "$(codes 7 /healthz "")"

for bad in "--ip-rate-public x" "--ip-rate-public 5:0" "--ip-rate-webhooks 5/d" "--trust-forwarded-for 10.0.0.0/40" "--trust-forwarded-for example.com"; do
  # shellcheck disable=SC2086
  out=$("$BRIDGE_BIN" --listen 127.0.0.1:0 $bad 2>&1) && rc=0 || rc=$?
  eq "bridge $bad: exit 2" 2 "$rc"
done
"$BRIDGE_BIN" --help | grep -q -- "--ip-rate-public R\[:B\]" && ok "--help documents --ip-rate-public" || fail "--help"
"$BRIDGE_BIN" --help | grep -q -- "default 20:100" && ok "--help names the public default" || fail "--help default"
finish
