#!/usr/bin/env bash
# checkout_provider_test.sh - paywire creates the provider's checkout (issue
# 10) against the tests' Stripe, which validates every request against
# Stripe's OpenAPI specification (tests/providers/stripe-standin.js), and the
# tests' Razorpay: real paywire-server + paywire-bridge on loopback.
#   - without credentials: FAILED_PRECONDITION, the session kept, Stripe not
#     called; with them, a resend (same request_id) finishes it;
#   - the Checkout Session paywire sends passes the spec (the stand-in
#     answers 400 otherwise) and carries the session id, amount, URLs, expiry
#     and the Idempotency-Key derived from the session;
#   - 500s are retried with the same key: one Stripe session; Stripe's 400 is
#     INVALID_ARGUMENT with Stripe's message; Stripe-Should-Retry: false is
#     not retried (UNAVAILABLE);
#   - kill -9 between Stripe's answer and the record (crash point): the
#     resend after the restart reaches the same Stripe session, never a
#     second;
#   - the checkout page sends the customer to Stripe (303); the signed
#     checkout.session.completed for that Stripe session makes it paid;
#   - Razorpay: an Order with the amount in the smallest unit, receipt and
#     notes.session_id.
. "$(dirname "$0")/lib.sh"
NODE=${PW_NODE:-node}
SK=sk_test_paywireCheckout0123456789
RK_ID=rzp_test_PwCheckout0001
RK_SECRET=rzp_checkout_secret_0001
start_standin stripe --api-key "$SK"
STRIPE=$STANDIN_URL
start_standin razorpay --key-id "$RK_ID" --key-secret "$RK_SECRET"
RZP=$STANDIN_URL

data=$T/data
PW_BRIDGE_PORT=$(free_port)
SFLAGS=(--public-url "http://127.0.0.1:$PW_BRIDGE_PORT" --stripe-api "$STRIPE"
  --razorpay-api "$RZP" --provider-allow-http)
start_server "$data" "${SFLAGS[@]}"
start_bridge
m=$("$CLI" --json merchant create --name "Checkout Co" --mode test)
key=$(echo "$m" | json api_key)
mid=$(echo "$m" | json merchant_id)

standin() { curl -sS -m "$HANG_S" "$@"; }
# requests_to URL PATH -> the stand-in's attempts on PATH, one JSON per line
requests_to() {
  standin "$1/__standin/requests" | $PY -c 'import json,sys
for r in json.load(sys.stdin)["requests"]:
    if r["path"] == sys.argv[1]: print(json.dumps(r))' "$2"
}
count_to() { requests_to "$1" "$2" | wc -l; }
keys_of() { $PY -c 'import json,sys
for l in sys.stdin:
    if l.strip(): print(json.loads(l).get("idempotency_key"))'; }
create() { # create RID [extra flags] -> CLI output (json); rc in RC
  local rid=$1; shift
  RC=0
  OUT=$("$CLI" --json --retries 0 session create --api-key "$key" --amount-minor 1250 \
    --currency EUR --plan pro --email jane@example.com --success-url https://shop.example/ok \
    --cancel-url https://shop.example/cart --provider stripe --request-id "$rid" "$@" 2>&1) || RC=$?
}

# ---- no credentials: refused, the session kept, Stripe never called
create rid-1
eq "no credentials: exit 1" 1 "$RC"
contains "no credentials: FAILED_PRECONDITION" FAILED_PRECONDITION "$OUT"
contains "no credentials: says how to set them" "merchant credentials set" "$OUT"
eq "no credentials: Stripe was not called" 0 "$(count_to "$STRIPE" /v1/checkout/sessions)"
out=$(printf '%s\n' "sk_live_wrongmode0123456789" | "$CLI" merchant credentials set "$mid" \
  --provider stripe --mode test 2>&1) && rc=0 || rc=$?
eq "credentials: a live key for test mode is refused (exit 1)" 1 "$rc"
contains "credentials: ... INVALID_ARGUMENT" INVALID_ARGUMENT "$out"
printf '%s\n' "$SK" | "$CLI" merchant credentials set "$mid" --provider stripe --mode test >/dev/null
printf '%s\n' "$RK_SECRET" | "$CLI" merchant credentials set "$mid" --provider razorpay \
  --mode test --key-id "$RK_ID" >/dev/null
lst=$("$CLI" merchant credentials list "$mid" 2>&1)
case "$lst" in *"$SK"*|*"$RK_SECRET"*) fail "credentials list shows a secret" ;;
  *) ok "credentials list shows no secret" ;; esac

# ---- the resend finishes the same session
create rid-1
eq "resend with credentials: exit 0" 0 "$RC"
sid=$(echo "$OUT" | json id)
cs=$(echo "$OUT" | json provider_checkout_id)
contains "a Stripe checkout session was recorded" cs_test_ "$cs"
eq "its url is Stripe's hosted page" "https://checkout.stripe.com/c/pay/$cs" \
  "$(echo "$OUT" | json provider_checkout_url)"
r=$(requests_to "$STRIPE" /v1/checkout/sessions)
eq "Stripe was called once" 1 "$(echo "$r" | wc -l)"
eq "... and accepted it (the request passes Stripe's spec)" 200 "$(echo "$r" | json status)"
eq "... with the idempotency key of the session" "paywire-checkout-$sid" "$(echo "$r" | json idempotency_key)"
eq "... client_reference_id = the session id" "$sid" "$(echo "$r" | json params.client_reference_id)"
eq "... metadata.session_id" "$sid" "$(echo "$r" | json params.metadata.session_id)"
eq "... the amount" 1250 "$(echo "$r" | json params.line_items.0.price_data.unit_amount)"
eq "... the currency in Stripe's case" eur "$(echo "$r" | json params.line_items.0.price_data.currency)"
eq "... the plan as the product" pro "$(echo "$r" | json params.line_items.0.price_data.product_data.name)"
eq "... success_url" https://shop.example/ok "$(echo "$r" | json params.success_url)"
eq "... cancel_url" https://shop.example/cart "$(echo "$r" | json params.cancel_url)"
eq "... mode payment" payment "$(echo "$r" | json params.mode)"
eq "... the customer's email" jane@example.com "$(echo "$r" | json params.customer_email)"
create rid-1
eq "a third send answers the same Stripe session" "$cs" "$(echo "$OUT" | json provider_checkout_id)"
eq "... without calling Stripe again" 1 "$(count_to "$STRIPE" /v1/checkout/sessions)"

# ---- the checkout page sends the customer to Stripe
url=$(echo "$OUT" | json url)
loc=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$url")
eq "the checkout page: 303 to Stripe's page" "303 https://checkout.stripe.com/c/pay/$cs" "$loc"
loc=$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/checkout?session=$sid")
eq "... not without the checkout secret (the status page)" 200 "$loc"

# ---- paid by Stripe's event for that checkout session
ev=$(standin -X POST "$STRIPE/__standin/checkout/sessions/$cs/complete" | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["event"]))')
printf '%s' "$ev" >"$T/ev.json"
"$NODE" "$PW_SIGNER_DIR/sign.js" stripe "$PAYWIRE_STRIPE_WEBHOOK_SECRET" "$T/ev.json" \
  --timestamp "$(date +%s)" >"$T/h"
args=(); while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$T/h"
code=$(curl -sS -o "$T/wr" -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" "${args[@]}" \
  --data-binary "@$T/ev.json")
eq "Stripe's checkout.session.completed: 200" 200 "$code"
contains "... applied" '"outcome":"applied"' "$(cat "$T/wr")"
eq "the session is paid" paid "$("$CLI" --json status "$sid" | json status)"
g=$("$CLI" --json session get "$sid" --api-key "$key")
if [ "$(echo "$g" | json invoice_number)" -ge 1 ]; then ok "paid: an invoice"; else fail "paid: no invoice"; fi
contains "paid: the entitlement the plan grants" ent_ "$(echo "$g" | json access_key_id)"
contains "paid: the customer's access link" "/access/$sid?token=" "$(echo "$g" | json access_link)"
contains "paid: Stripe's payment intent recorded" "stripe:pi_" "$(echo "$g" | json refs)"
eq "paid: the audit chain verifies" true "$("$CLI" --json audit verify | json ok)"

# ---- the customer portal for that session's Stripe customer
RC=0
P=$("$CLI" --json --retries 0 portal "$sid" --return-url https://shop.example/account \
  --api-key "$key" 2>&1) || RC=$?
eq "portal: exit 0" 0 "$RC"
contains "portal: Stripe's portal url" "https://billing.stripe.com/p/session/" "$(echo "$P" | json url)"
contains "portal: the customer recorded from the checkout" cus_ "$(echo "$P" | json customer)"
r=$(requests_to "$STRIPE" /v1/billing_portal/sessions | tail -n 1)
eq "portal: Stripe accepted the request (spec-valid)" 200 "$(echo "$r" | json status)"
eq "portal: return_url" https://shop.example/account "$(echo "$r" | json params.return_url)"
plain=$("$CLI" --json session create --api-key "$key" --amount-minor 500 --currency EUR | json id)
RC=0
P=$("$CLI" --json --retries 0 portal "$plain" --return-url https://shop.example/account \
  --api-key "$key" 2>&1) || RC=$?
eq "portal: a session without a Stripe customer: exit 1" 1 "$RC"
contains "portal: ... FAILED_PRECONDITION, saying why" "no Stripe customer recorded" "$P"
RC=0
P=$("$CLI" --json --retries 0 portal "$sid" --return-url ftp://shop.example/ --api-key "$key" 2>&1) || RC=$?
contains "portal: a bad return_url: INVALID_ARGUMENT" INVALID_ARGUMENT "$P"

# ---- refunds made at Stripe: recorded, made (idempotent), pending; the
# session moves when Stripe's charge.refunded arrives
RC=0
R=$("$CLI" --json --retries 0 refund "$sid" --amount-minor 500 --idempotency-key rma-1 \
  --reason requested_by_customer --api-key "$key" 2>&1) || RC=$?
eq "refund: exit 0" 0 "$RC"
rf=$(echo "$R" | json id)
eq "refund: pending at Stripe" pending "$(echo "$R" | json state)"
contains "refund: Stripe's refund id" re_ "$(echo "$R" | json provider_refund_id)"
pi=$(standin "$STRIPE/__standin/state" | $PY -c 'import json,sys
s=json.load(sys.stdin)
print([x for x in s["checkout_sessions"] if x["id"] == sys.argv[1]][0]["payment_intent"])' "$cs")
eq "refund: of the session's payment intent" "$pi" "$(echo "$R" | json payment_ref)"
r=$(requests_to "$STRIPE" /v1/refunds | tail -n 1)
eq "refund: Stripe accepted the request (spec-valid)" 200 "$(echo "$r" | json status)"
eq "refund: the idempotency key of the refund" "paywire-refund-$rf" "$(echo "$r" | json idempotency_key)"
eq "refund: amount" 500 "$(echo "$r" | json params.amount)"
R2=$("$CLI" --json --retries 0 refund "$sid" --amount-minor 500 --idempotency-key rma-1 \
  --reason requested_by_customer --api-key "$key" 2>&1)
eq "refund: the same key again answers the same refund" "$rf" "$(echo "$R2" | json id)"
eq "refund: ... without a second call to Stripe" 1 "$(count_to "$STRIPE" /v1/refunds)"
RC=0
R2=$("$CLI" --json --retries 0 refund "$sid" --amount-minor 800 --idempotency-key rma-2 \
  --api-key "$key" 2>&1) || RC=$?
contains "refund: more than is left (750): FAILED_PRECONDITION" FAILED_PRECONDITION "$R2"
eq "refund: ... Stripe not called" 1 "$(count_to "$STRIPE" /v1/refunds)"
RC=0
R2=$("$CLI" --json --retries 0 refund "$sid" --amount-minor 100 --api-key "$key" 2>&1) || RC=$?
eq "refund: without an idempotency key: a usage error (exit 2)" 2 "$RC"
eq "refund: the session is still paid before Stripe confirms" paid "$("$CLI" --json status "$sid" | json status)"
ch=$(standin "$STRIPE/__standin/state" | $PY -c 'import json,sys
s=json.load(sys.stdin)
print([x for x in s["payment_intents"] if x["id"] == sys.argv[1]][0]["charge"])' "$pi")
$PY - "$ch" "$pi" >"$T/refunded.json" <<'PYEOF'
import json, sys, time
ch, pi = sys.argv[1], sys.argv[2]
print(json.dumps({"id": "evt_refund_" + ch, "object": "event", "type": "charge.refunded",
    "created": int(time.time()), "livemode": False, "api_version": "2024-04-10",
    "data": {"object": {"id": ch, "object": "charge", "amount": 1250, "amount_captured": 1250,
        "amount_refunded": 500, "currency": "eur", "payment_intent": pi, "refunded": False,
        "paid": True, "status": "succeeded", "livemode": False, "metadata": {}}}}))
PYEOF
"$NODE" "$PW_SIGNER_DIR/sign.js" stripe "$PAYWIRE_STRIPE_WEBHOOK_SECRET" "$T/refunded.json" \
  --timestamp "$(date +%s)" >"$T/h"
args=(); while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$T/h"
code=$(curl -sS -o "$T/wr" -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" "${args[@]}" \
  --data-binary "@$T/refunded.json")
contains "refund: Stripe's charge.refunded is applied" '"outcome":"applied"' "$code $(cat "$T/wr")"
eq "refund: the session records 500 refunded" 500 "$("$CLI" --json status "$sid" | json amount_refunded_minor)"
# A refund made in Stripe's dashboard meanwhile: Stripe refuses paywire's for
# more than its charge has left; the refund is recorded failed, the amount free
standin -X POST "$STRIPE/v1/refunds" -u "$SK:" -d "payment_intent=$pi" -d amount=700 >/dev/null
RC=0
R2=$("$CLI" --json --retries 0 refund "$sid" --amount-minor 750 --idempotency-key rma-3 \
  --api-key "$key" 2>&1) || RC=$?
eq "refund: Stripe refuses (amount too large): exit 1" 1 "$RC"
contains "refund: ... INVALID_ARGUMENT with Stripe's reason" "greater than unrefunded amount" "$R2"
RC=0
R2=$("$CLI" --json --retries 0 refund "$sid" --amount-minor 50 --idempotency-key rma-4 \
  --api-key "$key" 2>&1) || RC=$?
eq "refund: the failed one's amount is free again (a new refund of 50: exit 0)" 0 "$RC"

# ---- the same over HTTP (the bridge): create with a provider, refund, portal
hb=$(curl -sS -m "$HANG_S" -w '\n%{http_code}' -X POST "$BRIDGE/create_session" -H "X-API-Key: $key" \
  -H 'Content-Type: application/json' \
  -d '{"amount_minor":900,"currency":"EUR","mode":"test","provider":"stripe","success_url":"https://shop.example/ok"}')
eq "bridge create_session with provider: 200" 200 "$(tail -n1 <<<"$hb")"
contains "... a Stripe checkout session" cs_test_ "$(sed '$d' <<<"$hb" | json provider_checkout_id)"
contains "... its url" https://checkout.stripe.com/ "$(sed '$d' <<<"$hb" | json provider_checkout_url)"
hb=$(curl -sS -m "$HANG_S" -o /dev/null -w '%{http_code}' -X POST "$BRIDGE/create_session" -H "X-API-Key: $key" \
  -H 'Content-Type: application/json' -d '{"amount_minor":900,"currency":"EUR","mode":"test","provider":"onecom"}')
eq "bridge create_session with provider onecom: 400" 400 "$hb"
hr() { curl -sS -m "$HANG_S" -w '\n%{http_code}' -X POST "$@"; }
r=$(hr "$BRIDGE/sessions/$sid/refund" -H "X-API-Key: $key" -H 'Idempotency-Key: http-1' \
  -H 'Content-Type: application/json' -d '{"amount_minor":100,"reason":"requested_by_customer"}')
# (Stripe has nothing left on this payment: the dashboard refund above took it)
eq "bridge refund Stripe refuses: 400" 400 "$(tail -n1 <<<"$r")"
contains "bridge refund: ... with Stripe's reason" "stripe refused the request" "$(sed '$d' <<<"$r")"
r=$(hr "$BRIDGE/sessions/$sid/refund" -H "X-API-Key: $key" -d '{"amount_minor":100}')
eq "bridge refund without Idempotency-Key: 400" 400 "$(tail -n1 <<<"$r")"
r=$(hr "$BRIDGE/sessions/$sid/refund" -H 'Idempotency-Key: http-2' -d '{}')
eq "bridge refund without X-API-Key: 401" 401 "$(tail -n1 <<<"$r")"
r=$(hr "$BRIDGE/sessions/$sid/refund" -H "X-API-Key: $key" -H 'Idempotency-Key: http-3' \
  -d '{"amount_minor":-5}')
eq "bridge refund with a negative amount: 400" 400 "$(tail -n1 <<<"$r")"
r=$(hr "$BRIDGE/sessions/$sid/refund" -H "X-API-Key: $key" -H 'Idempotency-Key: http-4' \
  -d '{"amount":5}')
eq "bridge refund with an unknown parameter: 400" 400 "$(tail -n1 <<<"$r")"
r=$(hr "$BRIDGE/sessions/$sid/portal" -H "X-API-Key: $key" -d '{"return_url":"https://shop.example/a"}')
eq "bridge portal: 200" 200 "$(tail -n1 <<<"$r")"
contains "bridge portal: Stripe's portal url" https://billing.stripe.com/ "$(sed '$d' <<<"$r" | json url)"
r=$(hr "$BRIDGE/sessions/$sid/portal" -H "X-API-Key: $key" -d '{}')
eq "bridge portal without return_url: 400" 400 "$(tail -n1 <<<"$r")"

# ---- the merchant's Stripe Price for a plan: sold instead of price_data
pr=$(standin -X POST "$STRIPE/v1/prices" -u "$SK:" -d unit_amount=1250 -d currency=eur \
  -d 'product_data[name]=Pro' | json id)
contains "a Stripe Price made at Stripe" price_ "$pr"
P=$("$CLI" --json plan price pro --stripe-price "$pr" --api-key "$key")
eq "plan price: set for test mode" test "$(echo "$P" | json mode)"
RC=0
P=$("$CLI" --json plan price pro --stripe-price "$pr" --mode live --api-key "$key" 2>&1) || RC=$?
contains "plan price: a test key cannot set live" PERMISSION_DENIED "$P"
RC=0
P=$("$CLI" --json plan price pro --stripe-price "prod_x" --api-key "$key" 2>&1) || RC=$?
contains "plan price: not a price id: INVALID_ARGUMENT" INVALID_ARGUMENT "$P"
create rid-price
eq "a session selling the plan: exit 0" 0 "$RC"
r=$(requests_to "$STRIPE" /v1/checkout/sessions | tail -n 1)
eq "... Stripe was asked for the merchant's Price" "$pr" "$(echo "$r" | json params.line_items.0.price)"
eq "... and accepted it" 200 "$(echo "$r" | json status)"
case "$(echo "$r" | json params.line_items.0)" in *price_data*) fail "... price_data sent too" ;;
  *) ok "... no price_data with it" ;; esac
"$CLI" plan price pro --delete --api-key "$key" >/dev/null
create rid-noprice
r=$(requests_to "$STRIPE" /v1/checkout/sessions | tail -n 1)
eq "after --delete: price_data again" 1250 "$(echo "$r" | json params.line_items.0.price_data.unit_amount)"

# ---- retries: 500, 500, then the session; one Stripe session, one key
standin -X POST "$STRIPE/__standin/faults" -H 'Content-Type: application/json' \
  -d '{"path":"/v1/checkout/sessions","fault":"500","count":2}' >/dev/null
n0=$(count_to "$STRIPE" /v1/checkout/sessions)
create rid-2
eq "two 500s then OK: exit 0" 0 "$RC"
sid2=$(echo "$OUT" | json id)
r=$(requests_to "$STRIPE" /v1/checkout/sessions | tail -n +$((n0 + 1)))
eq "... three attempts" 3 "$(echo "$r" | wc -l)"
eq "... all with the same key" "paywire-checkout-$sid2" "$(echo "$r" | keys_of | sort -u)"
n=$(standin "$STRIPE/__standin/state" | $PY -c 'import json,sys
s=json.load(sys.stdin); cs=s.get("checkout_sessions", s.get("checkoutSessions", {}))
vals = cs.values() if isinstance(cs, dict) else cs
print(sum(1 for x in vals if x.get("client_reference_id") == sys.argv[1]))' "$sid2")
eq "... one Stripe checkout session for the paywire session" 1 "$n"

# ---- 429 with Retry-After, then a dropped connection, then the session
standin -X POST "$STRIPE/__standin/faults" -H 'Content-Type: application/json' \
  -d '[{"path":"/v1/checkout/sessions","fault":"429","retry_after":1,"count":1},{"path":"/v1/checkout/sessions","fault":"drop","count":1}]' >/dev/null
n0=$(count_to "$STRIPE" /v1/checkout/sessions)
create rid-2b
eq "429 (Retry-After) then a drop then OK: exit 0" 0 "$RC"
sid2b=$(echo "$OUT" | json id)
r=$(requests_to "$STRIPE" /v1/checkout/sessions | tail -n +$((n0 + 1)))
eq "... three attempts" 3 "$(echo "$r" | wc -l)"
eq "... all with the same key" "paywire-checkout-$sid2b" "$(echo "$r" | keys_of | sort -u)"

# ---- Stripe-Should-Retry: false: no retry, UNAVAILABLE, the session kept
standin -X POST "$STRIPE/__standin/faults" -H 'Content-Type: application/json' \
  -d '{"path":"/v1/checkout/sessions","fault":"no_retry","count":1}' >/dev/null
n0=$(count_to "$STRIPE" /v1/checkout/sessions)
create rid-3
eq "Stripe-Should-Retry: false: exit 1" 1 "$RC"
contains "... UNAVAILABLE" UNAVAILABLE "$OUT"
eq "... one attempt" $((n0 + 1)) "$(count_to "$STRIPE" /v1/checkout/sessions)"
create rid-3
eq "... its resend finishes it" 0 "$RC"
contains "... with a Stripe session" cs_test_ "$(echo "$OUT" | json provider_checkout_id)"

# ---- Stripe refuses the request: INVALID_ARGUMENT with Stripe's words
RC=0
OUT=$("$CLI" --json --retries 0 session create --api-key "$key" --amount-minor 10 \
  --currency EUR --provider stripe --success-url https://shop.example/ok 2>&1) || RC=$?
eq "an amount below Stripe's minimum: exit 1" 1 "$RC"
contains "... INVALID_ARGUMENT" INVALID_ARGUMENT "$OUT"
contains "... with Stripe's reason" "stripe refused the request" "$OUT"
case "$OUT" in *"$SK"*) fail "the error shows the Stripe key" ;; *) ok "the error shows no key" ;; esac

# ---- killed after the session committed, before Stripe was called: the
# resend calls Stripe (once) and records it
port=${SERVER_URL##*:} # restarted on the same port: the bridge keeps its server
stop_pid "$SERVER_PID" TERM
PW_REUSE_PORT=$port PAYWIRE_CRASHPOINT=server.before_provider_call start_server "$data" "${SFLAGS[@]}"
n0=$(count_to "$STRIPE" /v1/checkout/sessions)
create rid-4a
eq "crash before Stripe was called: the call fails" 1 "$RC"
wait_until bash -c "! kill -0 $SERVER_PID 2>/dev/null" && ok "the server died before calling Stripe" \
  || fail "the server did not die at the crash point"
wait "$SERVER_PID" 2>/dev/null || true
eq "... Stripe was not called" "$n0" "$(count_to "$STRIPE" /v1/checkout/sessions)"
PW_REUSE_PORT=$port start_server "$data" "${SFLAGS[@]}"
create rid-4a
eq "after the restart, the resend: exit 0" 0 "$RC"
eq "... Stripe called once" $((n0 + 1)) "$(count_to "$STRIPE" /v1/checkout/sessions)"
contains "... its session recorded" cs_test_ "$(echo "$OUT" | json provider_checkout_id)"

# ---- kill -9 between Stripe's answer and the record: the resend reaches the
# same Stripe session
stop_pid "$SERVER_PID" TERM
PW_REUSE_PORT=$port PAYWIRE_CRASHPOINT=server.after_provider_call start_server "$data" "${SFLAGS[@]}"
create rid-4
eq "crash after Stripe answered: the call fails" 1 "$RC"
wait_until bash -c "! kill -0 $SERVER_PID 2>/dev/null" && ok "the server died at the crash point" \
  || fail "the server did not die at the crash point"
wait "$SERVER_PID" 2>/dev/null || true
n0=$(count_to "$STRIPE" /v1/checkout/sessions)
PW_REUSE_PORT=$port start_server "$data" "${SFLAGS[@]}"
create rid-4
eq "after the restart, the resend: exit 0" 0 "$RC"
[ "$RC" = 0 ] || echo "$OUT" >&2
sid4=$(echo "$OUT" | json id)
cs4=$(echo "$OUT" | json provider_checkout_id)
r=$(requests_to "$STRIPE" /v1/checkout/sessions | tail -n 1)
eq "... Stripe replayed the same session (same key)" true "$(echo "$r" | json replayed)"
n=$(standin "$STRIPE/__standin/state" | $PY -c 'import json,sys
s=json.load(sys.stdin); cs=s.get("checkout_sessions", s.get("checkoutSessions", {}))
vals = cs.values() if isinstance(cs, dict) else cs
print(sum(1 for x in vals if x.get("client_reference_id") == sys.argv[1]))' "$sid4")
eq "... one Stripe checkout session, never two" 1 "$n"
eq "... the recorded one" "$cs4" "$("$CLI" --json session get "$sid4" --api-key "$key" | json provider_checkout_id)"

# ---- Razorpay: an Order
RC=0
OUT=$("$CLI" --json --retries 0 session create --api-key "$key" --amount-minor 49900 \
  --currency INR --provider razorpay --request-id rid-5 2>&1) || RC=$?
eq "razorpay: exit 0" 0 "$RC"
sid5=$(echo "$OUT" | json id)
contains "razorpay: an order was recorded" order_ "$(echo "$OUT" | json provider_checkout_id)"
r=$(requests_to "$RZP" /v1/orders | tail -n 1)
eq "razorpay: the order's amount in paise" 49900 "$(echo "$r" | json params.amount)"
eq "razorpay: notes.session_id" "$sid5" "$(echo "$r" | json params.notes.session_id)"
rcpt=$(echo "$r" | json params.receipt)
if [ "${#rcpt}" -le 40 ]; then ok "razorpay: receipt within 40 characters"; else fail "razorpay: receipt ${#rcpt} long"; fi
order=$(echo "$OUT" | json provider_checkout_id)
# the customer pays the order; Razorpay's signed order.paid makes it paid
standin -X POST "$RZP/__standin/orders/$order/pay" | $PY -c 'import json,sys
print(json.dumps(json.load(sys.stdin)["event"]))' >"$T/rzp.json"
"$NODE" "$PW_SIGNER_DIR/sign.js" razorpay "$PAYWIRE_RAZORPAY_WEBHOOK_SECRET" "$T/rzp.json" \
  --id "evt_rzp_$order" >"$T/h"
args=(); while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$T/h"
code=$(curl -sS -o "$T/wr" -w '%{http_code}' -X POST "$BRIDGE/webhooks/razorpay" "${args[@]}" \
  --data-binary "@$T/rzp.json")
contains "razorpay: order.paid is applied" '200 {"outcome":"applied"' "$code $(cat "$T/wr")"
eq "razorpay: the session is paid" paid "$("$CLI" --json status "$sid5" | json status)"
RC=0
R=$("$CLI" --json --retries 0 refund "$sid5" --amount-minor 10000 --idempotency-key rzp-r1 \
  --api-key "$key" 2>&1) || RC=$?
eq "razorpay refund: exit 0" 0 "$RC"
contains "razorpay refund: Razorpay's refund id" rfnd_ "$(echo "$R" | json provider_refund_id)"
r=$(requests_to "$RZP" "/v1/payments/$(echo "$R" | json payment_ref)/refund" | tail -n 1)
eq "razorpay refund: Razorpay took it" 200 "$(echo "$r" | json status)"
eq "razorpay refund: amount in paise" 10000 "$(echo "$r" | json params.amount)"
# no final answer (every attempt a 500): UNAVAILABLE, the refund stays
# requested with its amount reserved; the same request again finishes it
pay5=$(echo "$R" | json payment_ref)
standin -X POST "$RZP/__standin/faults" -H 'Content-Type: application/json' \
  -d "{\"path\":\"/v1/payments/$pay5/refund\",\"fault\":\"500\",\"count\":4}" >/dev/null
RC=0
R=$("$CLI" --json --retries 0 refund "$sid5" --amount-minor 1000 --idempotency-key rzp-r2 \
  --request-id rid-rzp-r2 --api-key "$key" 2>&1) || RC=$?
contains "razorpay refund, the provider down: UNAVAILABLE" UNAVAILABLE "$R"
R2=$("$CLI" --json --retries 0 refund "$sid5" --amount-minor 39000 --idempotency-key rzp-r3 \
  --api-key "$key" 2>&1) && rc=0 || rc=$?
contains "... its 1000 stay reserved (39000 more is too much)" FAILED_PRECONDITION "$R2"
R=$("$CLI" --json --retries 0 refund "$sid5" --amount-minor 1000 --idempotency-key rzp-r2 \
  --request-id rid-rzp-r2 --api-key "$key" 2>&1) && RC=0 || RC=$?
eq "... the same request again: exit 0" 0 "$RC"
eq "... pending at Razorpay" pending "$(echo "$R" | json state)"
r=$(hr "$BRIDGE/sessions/$sid5/refund" -H "X-API-Key: $key" -H 'Idempotency-Key: http-rzp' \
  -H 'Content-Type: application/json' -d '{"amount_minor":2500}')
eq "bridge refund (razorpay): 200" 200 "$(tail -n1 <<<"$r")"
eq "bridge refund: pending at the provider" pending "$(sed '$d' <<<"$r" | json state)"
contains "bridge refund: Razorpay's refund id" rfnd_ "$(sed '$d' <<<"$r" | json provider_refund_id)"
finish
