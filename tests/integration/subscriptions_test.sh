#!/usr/bin/env bash
# subscriptions_test.sh - a plan sold as a subscription, end to end: real
# paywire-server + paywire-bridge on loopback, Stripe events in Stripe's
# shapes (a Checkout Session in subscription mode, Invoices, a Subscription;
# the fixtures hold no invoices, so they are written here) signed by Stripe's
# own library (tests/fixtures/signer), delivered with curl; the merchant side
# through the CLI: session create --subscription, access verify (valid,
# until, past_due, canceled), entitlement list.
. "$(dirname "$0")/lib.sh"
NODE=${PW_NODE:-node}
data=$T/data
start_server "$data"
start_bridge
key=$(new_merchant test)
ST=$PAYWIRE_STRIPE_WEBHOOK_SECRET

deliver() { # deliver FILE -> "CODE BODY" (signed now: never outside the tolerance)
  local args=() line resp code
  "$NODE" "$PW_SIGNER_DIR/sign.js" stripe "$ST" "$1" --timestamp "$(date +%s)" >"$T/h" 2>/dev/null ||
    { echo "000 signer failed"; return; }
  while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$T/h"
  resp=$(mktemp "$T/resp.XXXXXX")
  code=$(curl -sS -o "$resp" -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" "${args[@]}" \
    --data-binary "@$1" || true)
  printf '%s %s' "$code" "$(cat "$resp")"
}
verify() { printf '%s\n' "$1" | "$CLI" --json access verify --api-key "$key"; }
n_ents() { # n_ents API_KEY -> how many entitlements cust_it has for that merchant
  "$CLI" --json entitlement list --customer cust_it --api-key "$1" |
    /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entitlements"]))'
}

# checkout.session.completed of SESSION in subscription mode -> file
checkout() {
  cat >"$T/co.$1.json" <<EOF
{"id":"evt_co_$1","object":"event","api_version":"2024-06-20","created":$(date +%s),"livemode":false,"type":"checkout.session.completed","data":{"object":{"id":"cs_test_$1","object":"checkout.session","amount_subtotal":900,"amount_total":900,"client_reference_id":"$1","currency":"eur","customer":"cus_it_1","invoice":"in_first_$2","metadata":{"session_id":"$1"},"mode":"subscription","payment_intent":null,"payment_status":"paid","status":"complete","subscription":"$2"}}}
EOF
  printf '%s' "$T/co.$1.json"
}
# invoice TYPE EVENT_ID SUBSCRIPTION BILLING_REASON PERIOD_END -> file
invoice() {
  cat >"$T/inv.$2.json" <<EOF
{"id":"$2","object":"event","api_version":"2024-06-20","created":$(date +%s),"livemode":false,"type":"$1","data":{"object":{"id":"in_$2","object":"invoice","amount_due":900,"amount_paid":900,"amount_remaining":0,"attempt_count":1,"billing_reason":"$4","currency":"eur","customer":"cus_it_1","lines":{"object":"list","data":[{"id":"il_$2","object":"line_item","amount":900,"currency":"eur","period":{"end":$5,"start":$(($5 - 2592000))},"type":"subscription"}],"has_more":false,"total_count":1,"url":"/v1/invoices/in_$2/lines"},"metadata":{},"period_end":$(($5 - 2592000)),"period_start":$(($5 - 5184000)),"status":"paid","subscription":"$3"}}}
EOF
  printf '%s' "$T/inv.$2.json"
}
# customer.subscription.deleted of SUBSCRIPTION -> file
deleted() {
  cat >"$T/del.$1.json" <<EOF
{"id":"evt_del_$1","object":"event","api_version":"2024-06-20","created":$(date +%s),"livemode":false,"type":"customer.subscription.deleted","data":{"object":{"id":"$1","object":"subscription","customer":"cus_it_1","status":"canceled","canceled_at":$(date +%s),"current_period_end":$(date +%s),"metadata":{}}}}
EOF
  printf '%s' "$T/del.$1.json"
}

P1=$(( $(date +%s) + 30 * 86400 ))
P2=$(( P1 + 30 * 86400 ))

# ---- the subscription checkout grants the plan
s=$("$CLI" --json session create --api-key "$key" --amount-minor 900 --currency EUR \
  --customer-ref cust_it --email jane@example.com --plan pro --subscription | json id)
contains "session create --subscription: a session" "cs_" "$s"
r=$(deliver "$(checkout "$s" sub_it_1)")
contains "subscription checkout.session.completed → 200 applied" '200 {"outcome":"applied"' "$r"
contains "the checkout's subscription is one of the session's refs" "stripe:sub_it_1" \
  "$("$CLI" --json session get "$s" --api-key "$key" | json refs)"
link=$("$CLI" --json session get --api-key "$key" "$s" | json access_link)
tok=${link#*token=}
page=$(curl -sS -c "$T/subjar" "$BRIDGE/access/$s?token=$tok")
csrf=$(printf '%s' "$page" | grep -o 'name="csrf" value="[A-Za-z0-9_-]*"' | sed 's/.*value="//; s/"$//')
page=$(curl -sS -b "$T/subjar" -H "Origin: $BRIDGE" --data "token=$tok&csrf=$csrf" "$BRIDGE/access/$s")
ak=$(printf '%s' "$page" | grep -o 'ak_test_[A-Za-z0-9_-]\{43\}' | head -1)
contains "the customer's access page shows the key" ak_test_ "$ak"
out=$(verify "$ak") && rc=0 || rc=$?
eq "access verify: valid after the checkout (exit 0)" 0 "$rc"
eq "access verify: … active" active "$(echo "$out" | json state)"

# ---- the first invoice sets the period; its redelivery and a second one grant nothing twice
f=$(invoice invoice.payment_succeeded evt_inv_1 sub_it_1 subscription_create "$P1")
r=$(deliver "$f")
contains "invoice.payment_succeeded (subscription_create) → 200 applied" '200 {"outcome":"applied"' "$r"
out=$(verify "$ak")
eq "access verify: until = the paid period's end" "$((P1 * 1000))" "$(echo "$out" | json until_unix_ms)"
r=$(deliver "$f")
contains "the same invoice event again → duplicate" '"outcome":"duplicate"' "$r"
r=$(deliver "$(invoice invoice.payment_succeeded evt_inv_1b sub_it_1 subscription_create "$P1")")
contains "another event for the same period → ignored" '"outcome":"ignored"' "$r"
contains "… saying it is covered" 'already covered' "$r"
eq "still one entitlement for the customer" 1 "$(n_ents "$key")"

# ---- a failed renewal: past_due, then the retry succeeds
r=$(deliver "$(invoice invoice.payment_failed evt_inv_2f sub_it_1 subscription_cycle "$P2")")
contains "invoice.payment_failed → 200 applied" '200 {"outcome":"applied"' "$r"
out=$(verify "$ak") && rc=0 || rc=$?
eq "access verify: past_due is not valid (exit 1)" 1 "$rc"
eq "access verify: … state past_due" past_due "$(echo "$out" | json state)"
eq "access verify: … and says why" "past_due: the subscription's latest payment failed" "$(echo "$out" | json reason)"
r=$(deliver "$(invoice invoice.payment_succeeded evt_inv_2 sub_it_1 subscription_cycle "$P2")")
contains "the retried renewal → applied" '200 {"outcome":"applied"' "$r"
out=$(verify "$ak") && rc=0 || rc=$?
eq "access verify: valid again (exit 0)" 0 "$rc"
eq "access verify: … until the next period's end" "$((P2 * 1000))" "$(echo "$out" | json until_unix_ms)"

# ---- an unknown subscription's invoice is ignored with the reason
r=$(deliver "$(invoice invoice.payment_succeeded evt_inv_x sub_nobody subscription_cycle "$P2")")
contains "an unknown subscription's invoice → 200 ignored" '200 {"outcome":"ignored"' "$r"
contains "… 'unknown subscription'" 'unknown subscription sub_nobody' "$r"

# ---- entitlement list: the merchant's own customer only
out=$("$CLI" --json entitlement list --customer cust_it --api-key "$key")
eq "entitlement list: the plan" pro "$(echo "$out" | json entitlements.0.plan)"
eq "entitlement list: active" active "$(echo "$out" | json entitlements.0.state)"
eq "entitlement list: the period end" "$((P2 * 1000))" "$(echo "$out" | json entitlements.0.current_period_end_unix_ms)"
eq "entitlement list: held by the session" "$s" "$(echo "$out" | json entitlements.0.session_ids.0)"
contains "entitlement list: the key's prefix, never the key" ak_test_ "$(echo "$out" | json entitlements.0.key_prefix)"
case "$out" in *"$ak"*) fail "entitlement list shows the raw key" ;; *) ok "entitlement list never shows the raw key" ;; esac
other=$(new_merchant test)
eq "another merchant sees no entitlement of the customer" 0 "$(n_ents "$other")"
"$CLI" entitlement list --api-key "$key" >/dev/null 2>&1 && rc=0 || rc=$?
eq "entitlement list without --customer: a usage error (exit 2)" 2 "$rc"

# ---- the subscription ends: canceled, the key revoked
r=$(deliver "$(deleted sub_it_1)")
contains "customer.subscription.deleted → 200 applied" '200 {"outcome":"applied"' "$r"
out=$(verify "$ak") && rc=0 || rc=$?
eq "access verify: after the end not valid (exit 1)" 1 "$rc"
eq "access verify: … canceled" canceled "$(echo "$out" | json state)"
eq "access verify: … and says why" "canceled: the subscription ended" "$(echo "$out" | json reason)"
eq "the session stays paid" paid "$("$CLI" --json status "$s" | json status)"
r=$(deliver "$(invoice invoice.payment_succeeded evt_inv_3 sub_it_1 subscription_cycle "$((P2 + 2592000))")")
contains "an invoice after the end → ignored" '"outcome":"ignored"' "$r"
# ---- the bridge's create_session sells a subscription too
create() { # create BODY -> "HTTP_CODE BODY"
  local resp code; resp=$(mktemp "$T/c.XXXXXX")
  code=$(curl -sS -o "$resp" -w '%{http_code}' -X POST "$BRIDGE/create_session" \
    -H 'Content-Type: application/json' -H "X-API-Key: $key" --data-binary "$1" || true)
  printf '%s %s' "$code" "$(cat "$resp")"
}
r=$(create '{"amount":"9.00","currency":"EUR","mode":"test","customer_ref":"cust_web","plan":"pro","subscription":true}')
eq "bridge create_session with \"subscription\":true → 200" 200 "${r%% *}"
w=$(printf '%s' "${r#* }" | json id)
r=$(deliver "$(checkout "$w" sub_web)")
contains "… its subscription checkout → applied" '200 {"outcome":"applied"' "$r"
r=$(deliver "$(invoice invoice.payment_failed evt_inv_web sub_web subscription_cycle "$P2")")
contains "… it is a subscription: its failed invoice → applied (past_due)" '200 {"outcome":"applied"' "$r"
r=$(create '{"amount":"9.00","currency":"EUR","mode":"test","credits":5,"subscription":true}')
eq "bridge: subscription without a plan → 400" 400 "${r%% *}"
contains "… saying why" "subscription sells a plan" "$r"

events=$("$CLI" --json events tail --once --api-key "$key")
for a in entitlement.extended entitlement.past_due entitlement.revoked; do
  contains "the change feed has $a" "$a" "$events"
done
finish
