#!/usr/bin/env bash
# providers_test.sh - the provider stand-ins (tests/providers/) as the
# integration tests start them (lib.sh's start_standin) and as paywire's
# libcurl calls will meet them: form-encoded Stripe calls and JSON Razorpay
# calls with curl, refusals in the providers' shapes, a fault and a replay.
. "$(dirname "$0")/lib.sh"
SK=sk_test_paywireIt0123456789
start_standin stripe --api-key "$SK"
STRIPE=$STANDIN_URL
start_standin razorpay --key-id rzp_test_PwIt0123456789 --key-secret it_secret
RZP=$STANDIN_URL

# stripe ARGS... -> "HTTP_CODE" line then the body
stripe() { curl -sS -m "$HANG_S" -u "$SK:" -w '\n%{http_code}' "$@"; }
code() { tail -n1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }

r=$(stripe "$STRIPE/v1/checkout/sessions" -H 'Idempotency-Key: it-1' \
  -d mode=payment -d 'success_url=http://127.0.0.1/ok' -d client_reference_id=ps_1 \
  -d 'line_items[0][price_data][currency]=eur' -d 'line_items[0][price_data][unit_amount]=1250' \
  -d 'line_items[0][price_data][product_data][name]=Credits' -d 'line_items[0][quantity]=1' \
  -d 'metadata[paywire_session]=ps_1')
eq "stripe: a valid checkout session is created" 200 "$(code "$r")"
cs=$(body "$r" | json id)
contains "stripe: its id" cs_test_ "$cs"
eq "stripe: its url" "https://checkout.stripe.com/c/pay/$cs" "$(body "$r" | json url)"
eq "stripe: its metadata" ps_1 "$(body "$r" | json metadata.paywire_session)"

r=$(stripe "$STRIPE/v1/checkout/sessions" -H 'Idempotency-Key: it-1' \
  -d mode=payment -d 'success_url=http://127.0.0.1/ok' -d client_reference_id=ps_1 \
  -d 'line_items[0][price_data][currency]=eur' -d 'line_items[0][price_data][unit_amount]=1250' \
  -d 'line_items[0][price_data][product_data][name]=Credits' -d 'line_items[0][quantity]=1' \
  -d 'metadata[paywire_session]=ps_1')
eq "stripe: the same key and params replay the session" "$cs" "$(body "$r" | json id)"

r=$(stripe "$STRIPE/v1/checkout/sessions" -d mode=payment -d 'success_url=http://127.0.0.1/ok' -d amount=1250)
eq "stripe: an unknown parameter is a 400" 400 "$(code "$r")"
eq "stripe: ... naming it" amount "$(body "$r" | json error.param)"
eq "stripe: ... in Stripe's shape" invalid_request_error "$(body "$r" | json error.type)"

r=$(curl -sS -m "$HANG_S" -u "sk_test_wrong0000000000:" -w '\n%{http_code}' "$STRIPE/v1/customers" -d email=a@example.com)
eq "stripe: another key is a 401" 401 "$(code "$r")"

curl -sS -m "$HANG_S" "$STRIPE/__standin/faults" -H 'Content-Type: application/json' \
  -d '{"path":"/v1/refunds","fault":"429","retry_after":2}' >/dev/null
h=$(curl -sS -m "$HANG_S" -u "$SK:" -D - -o /dev/null "$STRIPE/v1/refunds" -d payment_intent=pi_x)
contains "stripe: a queued 429 carries Retry-After" "Retry-After: 2" "$h"

n=$(curl -sS -m "$HANG_S" "$STRIPE/__standin/requests" | $PY -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(sum(1 for a in r if a["idempotency_key"]=="it-1"))')
eq "stripe: the log has both attempts under the key" 2 "$n"

r=$(curl -sS -m "$HANG_S" -u rzp_test_PwIt0123456789:it_secret -w '\n%{http_code}' "$RZP/v1/orders" \
  -H 'Content-Type: application/json' -d '{"amount":49900,"currency":"INR","receipt":"ps_1","notes":{"paywire_session":"ps_1"}}')
eq "razorpay: an order is created" 200 "$(code "$r")"
eq "razorpay: its entity" order "$(body "$r" | json entity)"
eq "razorpay: its amount due" 49900 "$(body "$r" | json amount_due)"
r=$(curl -sS -m "$HANG_S" -u rzp_test_PwIt0123456789:it_secret -w '\n%{http_code}' "$RZP/v1/orders" \
  -H 'Content-Type: application/json' -d '{"amount":499.5,"currency":"INR"}')
eq "razorpay: a fractional amount is a 400" 400 "$(code "$r")"
eq "razorpay: ... on amount" amount "$(body "$r" | json error.field)"
r=$(curl -sS -m "$HANG_S" -u rzp_test_PwIt0123456789:nope -w '\n%{http_code}' "$RZP/v1/orders" \
  -H 'Content-Type: application/json' -d '{"amount":49900,"currency":"INR"}')
eq "razorpay: a wrong secret is a 401" 401 "$(code "$r")"
finish
