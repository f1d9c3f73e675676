#!/usr/bin/env bash
# webhooks_test.sh - payments arrive end to end: real paywire-server +
# paywire-bridge on loopback, events in the providers' real shapes signed by
# the providers' own libraries (tests/fixtures/signer: stripe, razorpay,
# standardwebhooks from npm), delivered with curl.
. "$(dirname "$0")/lib.sh"
FX=$PW_FIXTURES_DIR
NODE=${PW_NODE:-node}
data=$T/data
start_server "$data"
start_bridge
key=$(new_merchant test)

session() { # session AMOUNT_MINOR CURRENCY -> id
  "$CLI" --json session create --api-key "$key" --amount-minor "$1" --currency "$2" \
    --email jane@example.com --plan pro | json id
}
status_of() { "$CLI" --json status "$1" | json "${2:-status}"; }
# The customer's access link: the merchant reads it (session get); the
# session id alone (status without the checkout secret) never shows it.
link_of() { "$CLI" --json session get --api-key "$key" "$1" | json access_link; }

# fixture NAME SESSION TAG -> path of a copy with the session id and unique ids
fixture() {
  local out=$T/$3.$1
  sed -e "s/ps_2f6c1e9a4b7d/$2/g" -e "s/evt_\([0-9A-Za-z]*\)/evt_\1_$3/g" \
      -e "s/pi_3PwTestPaymentIntent0001/pi_$3/g" -e "s/ch_3PwTestCharge000001/ch_$3/g" \
      -e "s/pay_PwTestPayment00\([01]\)/pay_$3_\1/g" -e "s/order_PwTestOrder0001/order_$3/g" \
      -e "s/onepay_7731/onepay_$3/g" -e "s/cs_test_a1PaywireExampleSession0001/cs_test_$3/g" -e "s/deadbeef/${3//[^0-9a-f]/}0bee/g" "$FX/$1" >"$out"
  printf '%s' "$out"
}
# sign PROVIDER SECRET FILE [extra signer args] -> curl -H arguments, one per line
sign() {
  local p=$1 s=$2 f=$3; shift 3
  "$NODE" "$PW_SIGNER_DIR/sign.js" "$p" "$s" "$f" "$@" 2>/dev/null
}
# post ROUTE FILE HEADERFILE -> prints "HTTP_CODE BODY"
post() {
  local args=() line resp code
  while IFS= read -r line; do [ -n "$line" ] && args+=(-H "$line"); done <"$3"
  resp=$(mktemp "$T/resp.XXXXXX")   # own files: posts run concurrently
  code=$(curl -sS -o "$resp" -w '%{http_code}' -X POST "$BRIDGE/webhooks/$1" "${args[@]}" \
    --data-binary "@$2" || true)
  printf '%s %s' "$code" "$(cat "$resp")"
}
deliver() { # deliver PROVIDER ROUTE SECRET FILE [signer args] -> "CODE BODY"
  local p=$1 r=$2 s=$3 f=$4; shift 4
  sign "$p" "$s" "$f" "$@" >"$T/h" || { echo "000 signer failed"; return; }
  post "$r" "$f" "$T/h"
}
# Every delivery is signed when it is sent ("$(date +%s)"): a run slowed
# down by a busy machine never meets the 300 s tolerance.
ST=$PAYWIRE_STRIPE_WEBHOOK_SECRET RZ=$PAYWIRE_RAZORPAY_WEBHOOK_SECRET SW=$PAYWIRE_ONECOM_WEBHOOK_SECRET

# ---- Stripe: checkout.session.completed → paid, invoice, entitlement, access link
a=$(session 4900 EUR)
f=$(fixture stripe.checkout.session.completed.json "$a" a)
r=$(deliver stripe stripe "$ST" "$f" --timestamp "$(date +%s)")
contains "stripe checkout.session.completed → 200 applied" '200 {"outcome":"applied"' "$r"
eq "stripe: session paid" paid "$(status_of "$a")"
eq "stripe: payment completed" completed "$(status_of "$a" payment_status)"
eq "stripe: provider recorded" stripe "$(status_of "$a" payment_provider)"
eq "stripe: first invoice of the merchant is number 1" 1 "$(status_of "$a" invoice_number)"
link=$(link_of "$a")
contains "stripe: access link minted" "/access/$a?token=" "$link"
r=$("$CLI" --json status "$a")
case "$r" in *token=*|*access_link*) fail "status by session id alone shows the access link: $r" ;;
  *) ok "status by session id alone: no access link" ;; esac
secret=$("$CLI" --json session get --api-key "$key" "$a" | json checkout_secret)
contains "status with the checkout secret: the access link" "/access/$a?token=" \
  "$("$CLI" --json status "$a" --secret "$secret" | json access_link)"
token=${link#*token=}

# The access link's JWT checked by an independent library (python3-jwt).
claims=$(/usr/bin/python3 - "$token" "$PAYWIRE_TOKEN_SECRET" "$a" <<'PY'
import jwt, sys
tok, key, sid = sys.argv[1:]
c = jwt.decode(tok, key, algorithms=["HS256"])
assert jwt.get_unverified_header(tok)["alg"] == "HS256"
assert c["sub"] == "customer_" + sid, c
assert c["session_id"] == sid, c
assert c["merchant_id"].startswith("mer_"), c
assert c["exp"] - c["iat"] == 7 * 24 * 3600, c
print("jwt-ok")
PY
) || true
eq "python3-jwt verifies the access link (HS256, claims, 7 days)" jwt-ok "$claims"

# Pages are served as HTML (a browser shows anything else as source).
ct=$(curl -sS -o /dev/null -w '%{content_type}' "$BRIDGE/checkout?session=$a")
contains "checkout page is text/html" "text/html" "$ct"
ct=$(curl -sS -o /dev/null -w '%{content_type}' "$BRIDGE/access/$a?token=bad")
contains "access error page is text/html" "text/html" "$ct"

# Whoever knows only the session id (the merchant's staff, a log line, a
# referrer) sees the status, never the access link: not in the JSON status,
# not on the checkout page. The checkout secret (the customer's checkout URL)
# shows it; a wrong secret is refused.
r=$(curl -sS "$BRIDGE/session/$a/status")
case "$r" in *token=*|*access*) fail "status JSON by session id shows the access link: $r" ;;
  *) ok "status JSON by session id alone: no access link" ;; esac
page=$(curl -sS "$BRIDGE/checkout?session=$a")
case "$page" in *token=*) fail "checkout page by session id shows the access link" ;;
  *) ok "checkout page by session id alone: no access link" ;; esac
contains "checkout page by session id alone says it shows the status only" 'id="pw-public"' "$page"
contains "checkout page with the secret: the access link" "/access/$a?token=" \
  "$(curl -sS "$BRIDGE/checkout?session=$a&secret=$secret")"
contains "status JSON with the secret: access_url" "\"access_url\":\"$BRIDGE/access/$a?token=" \
  "$(curl -sS "$BRIDGE/session/$a/status?secret=$secret")"
eq "checkout page with a wrong secret → 401" 401 \
  "$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/checkout?session=$a&secret=cks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"
eq "status JSON with a wrong secret → 401" 401 \
  "$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/session/$a/status?secret=cks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")"

# The access page: a HEAD or a GET (a mail scanner, a link checker) reveals
# nothing; the reveal is a POST from the page's own form, with its CSRF value
# and cookie, from the bridge's own origin.
curl -sS -o /dev/null -I "$BRIDGE/access/$a?token=$token"
curl -sS -o /dev/null "$BRIDGE/access/$a?token=$token"
page=$(curl -sS -c "$T/jar" -D "$T/acc.h" "$BRIDGE/access/$a?token=$token")
case "$page" in *ak_test_*) fail "a GET of the access page shows the key" ;;
  *) ok "HEAD and GETs of the access page reveal nothing" ;; esac
contains "access page offers the reveal button" 'id="pw-reveal"' "$page"
contains "access page is text/html" "text/html" "$(grep -i '^content-type' "$T/acc.h")"
contains "access page is not cached" "no-store" "$(grep -i '^cache-control' "$T/acc.h")"
contains "access page sets its CSRF cookie (HttpOnly, SameSite=Strict)" "HttpOnly; SameSite=Strict" \
  "$(grep -i '^set-cookie' "$T/acc.h")"
csrf=$(printf '%s' "$page" | grep -o 'name="csrf" value="[A-Za-z0-9_-]*"' | sed 's/.*value="//; s/"$//')
code=$(curl -sS -o "$T/p1" -w '%{http_code}' --data "token=$token&csrf=$csrf" "$BRIDGE/access/$a")
eq "a reveal without the page's cookie (a cross-site form) → 403" 403 "$code"
code=$(curl -sS -o "$T/p2" -w '%{http_code}' -b "$T/jar" -H "Origin: https://evil.example" \
  --data "token=$token&csrf=$csrf" "$BRIDGE/access/$a")
eq "a reveal from another origin → 403" 403 "$code"
code=$(curl -sS -o "$T/p4" -w '%{http_code}' -b "$T/jar" -H "Origin: null" \
  --data "token=$token&csrf=$csrf" "$BRIDGE/access/$a")
eq "a reveal from an opaque origin without Sec-Fetch-Site → 403" 403 "$code"
code=$(curl -sS -o "$T/p5" -w '%{http_code}' -b "$T/jar" -H "Origin: $BRIDGE" \
  -H "Sec-Fetch-Site: cross-site" --data "token=$token&csrf=$csrf" "$BRIDGE/access/$a")
eq "a reveal the browser marks cross-site → 403" 403 "$code"
code=$(curl -sS -o "$T/p3" -w '%{http_code}' -b "$T/jar" -H "Origin: $BRIDGE" \
  --data "token=$token&csrf=not-the-page-value" "$BRIDGE/access/$a")
eq "a reveal with another CSRF value → 403" 403 "$code"
case "$(cat "$T/p1" "$T/p2" "$T/p3" "$T/p4" "$T/p5")" in *ak_test_*) fail "a refused reveal showed the key" ;;
  *) ok "refused reveals show no key" ;; esac
page=$(curl -sS -b "$T/jar" -H "Origin: $BRIDGE" --data "token=$token&csrf=$csrf" "$BRIDGE/access/$a")
contains "the reveal POST shows the access key" "ak_test_" "$page"
page2=$(curl -sS -b "$T/jar" -H "Origin: $BRIDGE" --data "token=$token&csrf=$csrf" "$BRIDGE/access/$a")
case "$page2" in *ak_test_*) fail "access key shown a second time" ;; *) ok "access key not shown a second time" ;; esac
contains "a second reveal says it was already revealed" "already revealed" "$page2"

# The merchant's API checks the customer's key (read from stdin, never argv).
ak=$(printf '%s' "$page" | grep -o 'ak_test_[A-Za-z0-9_-]\{43\}' | head -1)
out=$(printf '%s\n' "$ak" | "$CLI" --json access verify --api-key "$key") && rc=0 || rc=$?
eq "access verify: the revealed key is valid (exit 0)" 0 "$rc"
eq "access verify: … for the session's plan" pro "$(echo "$out" | json plan)"
eq "access verify: … and its customer" jane@example.com "$(echo "$out" | json customer)"
other_key=$(new_merchant test)
out=$(printf '%s\n' "$ak" | "$CLI" --json access verify --api-key "$other_key") && rc=0 || rc=$?
eq "access verify: another merchant learns nothing (exit 1)" 1 "$rc"
eq "access verify: … 'unknown access key'" "unknown access key" "$(echo "$out" | json reason)"

# The customer lost the key: the merchant re-issues it. The old key then
# verifies as replaced, the old link opens nothing, the new link reveals a new
# key once; another merchant cannot re-issue it.
out=$("$CLI" --json access reissue --api-key "$other_key" "$a") && rc=0 || rc=$?
eq "access reissue by another merchant: exit 1 (not found)" 1 "$rc"
out=$("$CLI" --json access reissue --api-key "$key" "$a")
link2=$(echo "$out" | json access_link)
contains "access reissue: a new link" "/access/$a?token=" "$link2"
token2=${link2#*token=}
eq "access reissue: the old link opens nothing (401)" 401 \
  "$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/access/$a?token=$token")"
out=$(printf '%s\n' "$ak" | "$CLI" --json access verify --api-key "$key") && rc=0 || rc=$?
eq "access verify: the old key after a re-issue is invalid (exit 1)" 1 "$rc"
contains "access verify: … replaced" "replaced" "$(echo "$out" | json reason)"
page=$(curl -sS -c "$T/jar2" "$BRIDGE/access/$a?token=$token2")
csrf=$(printf '%s' "$page" | grep -o 'name="csrf" value="[A-Za-z0-9_-]*"' | sed 's/.*value="//; s/"$//')
page=$(curl -sS -b "$T/jar2" -H "Origin: $BRIDGE" --data "token=$token2&csrf=$csrf" "$BRIDGE/access/$a")
ak2=$(printf '%s' "$page" | grep -o 'ak_test_[A-Za-z0-9_-]\{43\}' | head -1)
if [ -n "$ak2" ] && [ "$ak2" != "$ak" ]; then ok "the new link reveals a new key"; else fail "no new key revealed"; fi
out=$(printf '%s\n' "$ak2" | "$CLI" --json access verify --api-key "$key") && rc=0 || rc=$?
eq "access verify: the re-issued key is valid (exit 0)" 0 "$rc"

# Tokens the bridge must refuse: tampered, expired, alg none, wrong key, other session.
bad_tokens=$(/usr/bin/python3 - "$token" "$PAYWIRE_TOKEN_SECRET" "$a" <<'PY'
import jwt, sys, time, base64, json
tok, key, sid = sys.argv[1:]
c = jwt.decode(tok, key, algorithms=["HS256"])
h, p, s = tok.split(".")
def b64(d): return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
tampered = h + "." + b64(dict(c, merchant_id="mer_evil")) + "." + s
expired = jwt.encode(dict(c, iat=int(time.time()) - 8*86400, exp=int(time.time()) - 86400), key, algorithm="HS256")
none = b64({"alg": "none", "typ": "JWT"}) + "." + b64(c) + "."
wrong = jwt.encode(c, "not-the-key-0123456789abcdef0123", algorithm="HS256")
other = jwt.encode(dict(c, session_id="cs_other", sub="customer_cs_other"), key, algorithm="HS256")
for name, t in [("tampered", tampered), ("expired", expired), ("alg-none", none), ("wrong-key", wrong), ("other-session", other)]:
    print(name, t)
PY
)
while read -r name t; do
  code=$(curl -sS -o /dev/null -w '%{http_code}' "$BRIDGE/access/$a?token=$t")
  eq "access page refuses a $name token with 401" 401 "$code"
done <<<"$bad_tokens"

# ---- Stripe: payment_intent.succeeded (metadata.session_id) then a stale payment_failed
b=$(session 4900 EUR)
r=$(deliver stripe stripe "$ST" "$(fixture stripe.payment_intent.succeeded.json "$b" b)" --timestamp "$(date +%s)")
contains "stripe payment_intent.succeeded → applied" '"outcome":"applied"' "$r"
r=$(deliver stripe stripe "$ST" "$(fixture stripe.payment_intent.payment_failed.json "$b" b)" --timestamp "$(date +%s)")
contains "payment_failed after succeeded → 200 ignored" '200 {"outcome":"ignored"' "$r"
eq "… and the session stays paid" paid "$(status_of "$b")"
eq "second paid session gets invoice 2 (gapless)" 2 "$(status_of "$b" invoice_number)"

# ---- Stripe refunds resolved through the pi_ ref recorded at payment: partial, then full
f=$(fixture stripe.charge.refunded.json "$a" a)
r=$(deliver stripe stripe "$ST" "$f" --timestamp "$(date +%s)")
contains "partial charge.refunded → applied" '"outcome":"applied"' "$r"
eq "partial refund: still paid" paid "$(status_of "$a")"
eq "partial refund: amount refunded tracked" 1900 "$(status_of "$a" amount_refunded_minor)"
sed -e 's/"amount_refunded": 1900/"amount_refunded": 4900/' -e 's/"refunded": false/"refunded": true/' \
    -e 's/evt_3PwTestChargeRefunded01_a/evt_full_refund_a/' "$f" >"$T/full.json"
r=$(deliver stripe stripe "$ST" "$T/full.json" --timestamp "$(date +%s)")
contains "full charge.refunded → applied" '"outcome":"applied"' "$r"
eq "full refund: session refunded" refunded "$(status_of "$a")"
# Session b (the same customer, the same plan) holds the same entitlement: the
# key stays valid until no paid session holds it (docs/PAYMENTS.md "Revoke").
acc=$("$CLI" --json access redeem "$a" --token "$token2" 2>&1 || true)
eq "full refund of a: the entitlement b also holds stays active" true "$(echo "$acc" | json entitlement_active 2>/dev/null || echo "?")"
out=$(printf '%s\n' "$ak2" | "$CLI" --json access verify --api-key "$key") && rc=0 || rc=$?
eq "access verify after a's refund: still valid, b holds it (exit 0)" 0 "$rc"
f=$(fixture stripe.charge.refunded.json "$b" b)
sed -i -e 's/"amount_refunded": 1900/"amount_refunded": 4900/' -e 's/evt_3PwTestChargeRefunded01_b/evt_full_refund_b/' "$f"
r=$(deliver stripe stripe "$ST" "$f" --timestamp "$(date +%s)")
contains "full refund of b → applied" '"outcome":"applied"' "$r"
acc=$("$CLI" --json access redeem "$a" --token "$token2" 2>&1 || true)
eq "refunds of both sessions revoke the entitlement" false "$(echo "$acc" | json entitlement_active 2>/dev/null || echo "?")"
out=$(printf '%s\n' "$ak2" | "$CLI" --json access verify --api-key "$key") && rc=0 || rc=$?
eq "access verify after both refunds: not valid (exit 1)" 1 "$rc"
eq "access verify: … and says why" "revoked: the payment was refunded" "$(echo "$out" | json reason)"

# ---- Razorpay: failed then captured (a retry that succeeded) → paid
c=$(session 49900 INR)
r=$(deliver razorpay razorpay "$RZ" "$(fixture razorpay.payment.failed.json "$c" c)" --id "evt_rzp_fail_c")
contains "razorpay payment.failed → applied" '"outcome":"applied"' "$r"
eq "razorpay: failed attempt" failed "$(status_of "$c")"
r=$(deliver razorpay razorpay "$RZ" "$(fixture razorpay.payment.captured.json "$c" c)" --id "evt_rzp_cap_c")
contains "razorpay payment.captured after failed → applied" '"outcome":"applied"' "$r"
eq "razorpay: paid after the retry" paid "$(status_of "$c")"
# The unsigned event-id header changed, the signed body the same: still a duplicate.
r=$(deliver razorpay razorpay "$RZ" "$T/c.razorpay.payment.captured.json" --id "evt_rzp_other_header")
contains "razorpay replay with another (unsigned) event-id header → duplicate" '"outcome":"duplicate"' "$r"

# ---- One.com and Web3 (Standard Webhooks)
d=$(session 4900 EUR)
r=$(deliver onecom onecom "$SW" "$(fixture onecom.payment.completed.json "$d" d)" --timestamp "$(date +%s)" --id msg_onecom_d)
contains "onecom payment.completed → applied" '"outcome":"applied"' "$r"
eq "onecom: paid" paid "$(status_of "$d")"
e=$(session 4900 EUR)
f=$(fixture web3.transfer.confirmed.json "$e" e)
sed 's/"confirmations":12/"confirmations":2/' "$f" >"$T/web3low.json"
r=$(deliver web3 web3 "$SW" "$T/web3low.json" --timestamp "$(date +%s)" --id msg_web3_low_e)
contains "web3 below the confirmation minimum → applied (pending)" '"outcome":"applied"' "$r"
eq "web3: pending below the minimum" pending "$(status_of "$e")"
r=$(deliver web3 web3 "$SW" "$f" --timestamp "$(date +%s)" --id msg_web3_e)
contains "web3 transfer.confirmed at the minimum → applied" '"outcome":"applied"' "$r"
eq "web3: paid" paid "$(status_of "$e")"

# ---- no paywire reference (another integration on the same account) → 200 ignored
sed -e '/"metadata": {/,/}/d' "$FX/stripe.payment_intent.succeeded.json" \
  | sed -e 's/pi_3PwTestPaymentIntent0001/pi_foreign/' -e 's/evt_3PwTestPaymentSucceeded01/evt_foreign/' >"$T/foreign.json"
r=$(deliver stripe stripe "$ST" "$T/foreign.json" --timestamp "$(date +%s)")
contains "event with no paywire reference → 200 ignored" '200 {"outcome":"ignored"' "$r"

# ---- the same event 32 times concurrently through the bridge: one APPLIED, 31 DUPLICATE
g=$(session 4900 EUR)
f=$(fixture stripe.checkout.session.completed.json "$g" g)
sign stripe "$ST" "$f" --timestamp "$(date +%s)" >"$T/hg"
audit_before=$("$CLI" --json audit verify | json records)
cpids=()
for i in $(seq 1 32); do post stripe "$f" "$T/hg" >"$T/par.$i" & cpids+=($!); done
wait "${cpids[@]}"   # only the deliveries: the server and bridge are children too
applied=$(grep -l '"outcome":"applied"' "$T"/par.* | wc -l)
dup=$(grep -l '"outcome":"duplicate"' "$T"/par.* | wc -l)
eq "32 concurrent deliveries: exactly one applied" 1 "$applied"
eq "32 concurrent deliveries: 31 duplicates" 31 "$dup"
eq "… one invoice: the next gapless number (3rd paid session after a,b … is checked below)" paid "$(status_of "$g")"
inv_g=$(status_of "$g" invoice_number)
h=$(session 4900 EUR)
r=$(deliver stripe stripe "$ST" "$(fixture stripe.checkout.session.completed.json "$h" h)" --timestamp "$(date +%s)")
eq "the next paid session's invoice follows with no gap (only one invoice for the 32)" $((inv_g + 1)) "$(status_of "$h" invoice_number)"
audit_after=$("$CLI" --json audit verify | json records)
check "audit chain still verifies after concurrent deliveries" "$CLI" audit verify
# g paid once + h created + h paid: one 'paid' audit record for the 32 deliveries.
eq "audit: exactly 3 new records (one 'paid' for the 32 deliveries of g, h created, h paid)" \
  $((audit_before + 3)) "$audit_after"

# ---- kill -9 right after an acknowledged payment: all of it is on disk
m=$(session 4900 EUR)
f=$(fixture stripe.checkout.session.completed.json "$m" m)
sign stripe "$ST" "$f" --timestamp "$(date +%s)" >"$T/hm"
r=$(post stripe "$f" "$T/hm")
contains "payment acknowledged before kill -9" '200 {"outcome":"applied"' "$r"
inv_m=$(status_of "$m" invoice_number)
stop_pid "$SERVER_PID" KILL
eq "server killed with SIGKILL" 137 "$RC"
PW_REUSE_PORT=${SERVER_URL##*:} start_server "$data"   # same address: the bridge redials
eq "after kill -9 and restart: still paid" paid "$(status_of "$m")"
eq "after kill -9 and restart: same invoice" "$inv_m" "$(status_of "$m" invoice_number)"
contains "after kill -9 and restart: access link kept" "/access/$m?token=" "$(link_of "$m")"
r=$(post stripe "$f" "$T/hm")
contains "redelivery after restart → duplicate (dedup record survived)" '200 {"outcome":"duplicate"' "$r"
check "audit chain verifies after kill -9" "$CLI" audit verify

# ---- refused: right HTTP status and nothing written (LMDB last txn id unchanged)
k=$(session 4900 EUR)
f=$(fixture stripe.checkout.session.completed.json "$k" k)
refused() { # refused DESC EXPECTED_CODE CURL_OUTPUT_CMD...
  local d=$1 want=$2; shift 2
  local before r
  before=$(last_txnid "$data")
  r=$("$@")
  if [ "${r%% *}" = "$want" ] && [ "$before" = "$(last_txnid "$data")" ]; then
    ok "$d → $want, nothing written"
  else
    fail "$d → expected $want and no write, got ${r:0:300} (txn $before → $(last_txnid "$data"))"
  fi
}
refused "wrong secret" 401 deliver stripe stripe whsec_wrong_secret "$f" --timestamp "$(date +%s)"
sign stripe "$ST" "$f" --timestamp "$(date +%s)" >"$T/hk"
sed 's/"amount_total": 4900/"amount_total": 4901/' "$f" >"$T/tampered.json"
refused "tampered body" 401 post stripe "$T/tampered.json" "$T/hk"
# Outside the 300 s tolerance, both ways: sign with openssl (same scheme,
# milliseconds instead of node's start-up second) just after a second
# boundary. 301 s in the past stays past 300 however late it arrives; in the
# future, delivery time counts down, so that one is 301 s plus a minute no
# loaded machine takes to deliver. The exact ±300/±301 boundary is
# tests/server_webhook_verify_test.c's, with an injected clock.
stripe_fast() { # stripe_fast OFFSET_S FILE -> header file $T/hf
  while [ "$(date +%N | cut -c1)" -gt 2 ]; do sleep 0.02; done
  local t=$(($(date +%s) + $1))
  printf 'Stripe-Signature: t=%s,v1=%s\n' "$t" \
    "$({ printf '%s.' "$t"; cat "$2"; } | openssl dgst -sha256 -hmac "$ST" | sed 's/^.* //')" >"$T/hf"
  post stripe "$2" "$T/hf"
}
refused "timestamp 301 s old" 401 stripe_fast -301 "$f"
refused "timestamp 301 s (+ 60 s of delivery margin) in the future" 401 stripe_fast 361 "$f"
printf 'Content-Type: application/json\n' >"$T/nosig"
refused "missing signature header" 401 post stripe "$f" "$T/nosig"
printf 'Stripe-Signature: garbage\n' >"$T/badsig"
refused "malformed signature header" 401 post stripe "$f" "$T/badsig"
printf 'this is not json' >"$T/notjson"
# Stripe's library refuses to sign a non-JSON body, so sign it by hand (same scheme).
tn=$(date +%s)
printf 'Stripe-Signature: t=%s,v1=%s\n' "$tn" \
  "$(printf '%s.%s' "$tn" "$(cat "$T/notjson")" | openssl dgst -sha256 -hmac "$ST" | sed 's/^.* //')" >"$T/hn"
# Verified but not understood: kept in the quarantine (written) and answered 200
# "quarantined", so the provider stops retrying; an operator lists, shows and retries it.
r=$(post stripe "$T/notjson" "$T/hn")
contains "non-JSON body (validly signed) → 200 quarantined" '200 {"outcome":"quarantined"' "$r"
printf '{"event":"payment.completed","amount":"49.00","currency":"EUR","payload":{"txn_id":"x"}}' >"$T/noref"
r=$(deliver onecom onecom "$SW" "$T/noref" --timestamp "$(date +%s)" --id msg_noref)
contains "One.com JSON without a session reference → 200 quarantined" '200 {"outcome":"quarantined"' "$r"
contains "… with the parser's reason" 'missing string reference' "$r"
q=$("$CLI" --json events quarantine list)
eq "quarantine list: both kept" 2 "$(echo "$q" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')"
qid=$(echo "$q" | json events.0.id)
eq "quarantine list: … the Stripe one first, its exact size" "$(wc -c <"$T/notjson")" "$(echo "$q" | json events.0.body_bytes)"
shown=$("$CLI" --json events quarantine show "$qid")
eq "quarantine show: the exact body" "this is not json" "$(echo "$shown" | json body)"
contains "quarantine show: the signature header kept" "stripe-signature: t=$tn" "$(echo "$shown" | json headers)"
rt=$("$CLI" --json events quarantine retry "$qid") && rc=0 || rc=$?
eq "quarantine retry of a body still not JSON → exit 1" 1 "$rc"
eq "… not retried" false "$(echo "$rt" | json retried)"
eq "… kept, one attempt" 1 "$("$CLI" --json events quarantine show "$qid" | json attempts)"
bad=$("$CLI" events quarantine list --admin-key "" 2>&1) && rc=0 || rc=$?
eq "quarantine list with an empty admin key → exit 1" 1 "$rc"
contains "… UNAUTHENTICATED" UNAUTHENTICATED "$bad"
refused "reference to a session that does not exist" 404 deliver stripe stripe "$ST" \
  "$(fixture stripe.checkout.session.completed.json cs_0000000000000000000000000000000000000000000 zz)" --timestamp "$(date +%s)"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/huge"
refused "body over the 1 MiB limit" 413 post stripe "$T/huge" "$T/hk"

# Amount / currency mismatch: verified, recorded, answered 2xx IGNORED with the
# anomaly (DESIGN.md: a verified event is always 2xx once recorded), never paid.
sed 's/"amount_total": 4900/"amount_total": 4800/' "$f" | sed 's/evt_1PwTestCheckoutCompleted01_k/evt_amount_k/' >"$T/amt.json"
r=$(deliver stripe stripe "$ST" "$T/amt.json" --timestamp "$(date +%s)")
contains "amount mismatch → 200 ignored" '200 {"outcome":"ignored"' "$r"
sed 's/"currency": "eur"/"currency": "usd"/' "$f" | sed 's/evt_1PwTestCheckoutCompleted01_k/evt_cur_k/' >"$T/cur.json"
r=$(deliver stripe stripe "$ST" "$T/cur.json" --timestamp "$(date +%s)")
contains "currency mismatch → 200 ignored" '200 {"outcome":"ignored"' "$r"
eq "after amount and currency mismatches the session is not paid" created "$(status_of "$k")"
contains "amount mismatch: the reply says anomaly" '"anomaly":true' "$r"
# Money that needs a human: both mismatches are listed, with what to do.
out=$("$CLI" --json anomalies list --limit 100 --api-key "$key")
n=$(echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for x in d["anomalies"] if x["session_id"]=="'"$k"'"))')
eq "anomalies list: the two mismatched payments of the session" 2 "$n"
acts=$(echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); print("|".join(x["action"] for x in d["anomalies"] if x["session_id"]=="'"$k"'"))')
contains "anomalies list: … each says refund it (underpaid)" "refund payment pi_k at stripe: it paid 4800 EUR (minor units), the session asks 4900 EUR" "$acts"
contains "anomalies list: … (wrong currency)" "refund payment pi_k at stripe: it paid 4900 USD" "$acts"
eq "anomalies list: another merchant sees none of them" 0 "$("$CLI" --json anomalies list --api-key "$other_key" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["anomalies"]))')"
first=$(echo "$out" | json anomalies.0.seq)
page=$("$CLI" --json anomalies list --after "$first" --limit 100 --api-key "$key")
eq "anomalies list --after: the page starts past the cursor" 1 "$(echo "$page" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(int(all(x["seq"]>'"$first"' for x in d["anomalies"])))')"
human=$("$CLI" anomalies list --api-key "$key")
contains "anomalies list (text): the action line" "action: refund payment pi_k at stripe" "$human"

# ---- The merchant reads its own sessions and invoices.
out=$("$CLI" --json session get "$a" --api-key "$key")
eq "session get: refunded (it was paid, then refunded in full)" refunded "$(echo "$out" | json status)"
contains "session get: the provider references recorded" "stripe:pi_a" "$(echo "$out" | json refs)"
eq "session get: its invoice" 1 "$(echo "$out" | json invoice_number)"
bad_get=$("$CLI" session get "$a" --api-key "$other_key" 2>&1) && rc=0 || rc=$?
eq "session get: another merchant's session → exit 1" 1 "$rc"
contains "… NOT_FOUND" NOT_FOUND "$bad_get"
out=$("$CLI" --json invoice get 1 --api-key "$key")
eq "invoice get 1: the first payment's session" "$a" "$(echo "$out" | json session_id)"
out=$("$CLI" --json invoice list --limit 2 --api-key "$key")
eq "invoice list: in number order" 1 "$(echo "$out" | json invoices.0.number)"
eq "invoice list: … a page of 2" 2 "$(echo "$out" | json invoices.1.number)"
eq "invoice list: … with more" true "$(echo "$out" | json has_more)"
out=$("$CLI" --json session list --status paid --limit 100 --api-key "$key")
n=$(echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(len(d["sessions"]), all(x["status"]=="paid" for x in d["sessions"]))')
case "$n" in "0 "*|*False) fail "session list --status paid gave: $n" ;; *) ok "session list --status paid lists paid sessions only ($n)" ;; esac
out=$("$CLI" --json session list --limit 1 --api-key "$key")
first=$(echo "$out" | json sessions.0.id)
next=$(echo "$out" | json next)
eq "session list: the cursor is the page's last id" "$first" "$next"
out2=$("$CLI" --json session list --limit 1 --starting-after "$next" --api-key "$key")
if [ "$(echo "$out2" | json sessions.0.id)" != "$first" ]; then ok "session list: the next page goes on"; else fail "session list: the next page repeats"; fi

# ---- Credits: a paid session sells 10 credits; 64 concurrent deductions of 1
# (each with its own idempotency key) through the CLI: exactly 10 succeed, the
# others FAILED_PRECONDITION; the balance ends at 0, never below.
cr=$("$CLI" --json session create --api-key "$key" --amount-minor 4900 --currency EUR \
  --customer-ref cust_race --credits 10 | json id)
f=$(fixture stripe.checkout.session.completed.json "$cr" cr)
r=$(deliver stripe stripe "$ST" "$f" --timestamp "$(date +%s)")
contains "credits: the purchase is applied" '200 {"outcome":"applied"' "$r"
eq "credits: balance 10 after the purchase" 10 "$("$CLI" --json credits balance cust_race --api-key "$key" | json balance)"
dpids=()
for i in $(seq 1 64); do
  ( rc=0; "$CLI" credits deduct cust_race --credits 1 --idempotency-key "race-$i" \
      --api-key "$key" >"$T/deduct.$i" 2>&1 || rc=$?; echo "$rc" >"$T/deduct.$i.rc" ) &
  dpids+=($!)
done
wait "${dpids[@]}"
okn=$(cat "$T"/deduct.*.rc | grep -c '^0$' || true)
refn=$(cat "$T"/deduct.[0-9] "$T"/deduct.[0-9][0-9] | grep -c 'FAILED_PRECONDITION' || true)
eq "credits: 64 concurrent deductions against 10 → exactly 10 succeed" 10 "$okn"
eq "credits: … and 54 are refused FAILED_PRECONDITION" 54 "$refn"
eq "credits: the balance ends at 0" 0 "$("$CLI" --json credits balance cust_race --api-key "$key" | json balance)"
eq "credits: 11 entries (1 purchase, 10 deductions)" 11 "$("$CLI" --json credits balance cust_race --api-key "$key" | json transactions)"
before=$(last_txnid "$data")
again=$("$CLI" --json credits deduct cust_race --credits 1 --idempotency-key race-1 --api-key "$key" 2>&1) && rc=0 || rc=$?
if grep -q '^0$' "$T/deduct.1.rc"; then
  eq "credits: a retried deduction (same key) answers its entry again" 0 "$rc"
else
  contains "credits: a retried refused deduction is refused again" FAILED_PRECONDITION "$again"
fi
eq "credits: … and writes nothing" "$before" "$(last_txnid "$data")"
out=$("$CLI" credits deduct cust_race --credits 1 --api-key "$key" 2>&1) && rc=0 || rc=$?
eq "credits: a deduction without an idempotency key is a usage error (exit 2)" 2 "$rc"
out=$("$CLI" --json credits list cust_race --limit 4 --api-key "$key")
eq "credits list: newest first, 4 per page" "11" "$(echo "$out" | json transactions.0.seq)"
eq "credits list: has_more" true "$(echo "$out" | json has_more)"
out=$("$CLI" --json credits list cust_race --limit 100 --starting-after 2 --api-key "$key")
eq "credits list: the oldest page ends at the purchase" purchase "$(echo "$out" | json transactions.0.kind)"
# The refund of the purchase after everything was spent: nothing left to take
# back, the whole 10 recorded as the shortfall, the balance stays 0.
f=$(fixture stripe.charge.refunded.json "$cr" cr)
sed -i 's/"amount_refunded": 1900/"amount_refunded": 4900/' "$f"   # the whole payment
r=$(deliver stripe stripe "$ST" "$f" --timestamp "$(date +%s)")
contains "credits: the refund of the purchase is applied" '200 {"outcome":"applied"' "$r"
out=$("$CLI" --json credits list cust_race --limit 1 --api-key "$key")
eq "credits: the refund is a reversal" reversal "$(echo "$out" | json transactions.0.kind)"
eq "credits: … of 0 credits" 0 "$(echo "$out" | json transactions.0.delta)"
eq "credits: … with all 10 as the shortfall" 10 "$(echo "$out" | json transactions.0.shortfall)"
eq "credits: the balance never goes below 0" 0 "$("$CLI" --json credits balance cust_race --api-key "$key" | json balance)"

# ---- Credit packages: the catalogue through the CLI, a session selling one,
# paid through the webhook path (test-pay): the balance grows by the
# package's credits; archived, it is sold no more; another merchant sees none.
out=$("$CLI" --json credits package create credits_100 --credits 100 --amount 9.90 \
  --currency EUR --name "100 credits" --api-key "$key")
eq "package create: created" true "$(echo "$out" | json created)"
eq "package create: the price in minor units" 990 "$(echo "$out" | json amount_minor)"
out=$("$CLI" --json credits package create credits_100 --credits 100 --amount 9.90 \
  --currency EUR --name "100 credits" --api-key "$key")
eq "package create again, same parameters: the package (created false)" false "$(echo "$out" | json created)"
out=$("$CLI" credits package create credits_100 --credits 100 --amount 8.90 --currency EUR \
  --name "100 credits" --api-key "$key" 2>&1) && rc=0 || rc=$?
eq "package create, another price: exit 1" 1 "$rc"
contains "… ALREADY_EXISTS (codes are immutable)" ALREADY_EXISTS "$out"
pk=$("$CLI" --json session create --package credits_100 --customer-ref cust_pkg --api-key "$key")
pks=$(echo "$pk" | json id); pkk=$(echo "$pk" | json checkout_secret)
eq "session --package: the package's amount" 990 "$(echo "$pk" | json amount_minor)"
eq "session --package: the package's currency" EUR "$(echo "$pk" | json currency)"
eq "session --package: names the package" credits_100 "$(echo "$pk" | json credit_package)"
out=$("$CLI" --json session test-pay "$pks" --secret "$pkk")
eq "session --package: paid" applied "$(echo "$out" | json outcome)"
eq "session --package: the balance grew by the package's credits" 100 \
  "$("$CLI" --json credits balance cust_pkg --api-key "$key" | json balance)"
out=$("$CLI" --json status "$pks" --secret "$pkk")
eq "status with the secret: the package sold" credits_100 "$(echo "$out" | json credit_package)"
eq "status with the secret: its credits" 100 "$(echo "$out" | json credits)"
out=$("$CLI" session create --package credits_100 --amount 1.00 --currency EUR \
  --api-key "$key" 2>&1) && rc=0 || rc=$?
contains "session --package with another amount: INVALID_ARGUMENT" "amount_minor does not match" "$out"
out=$("$CLI" session create --package credits_100 --api-key "$other_key" 2>&1) && rc=0 || rc=$?
contains "session --package of another merchant's package: NOT_FOUND" NOT_FOUND "$out"
out=$("$CLI" --json credits package archive credits_100 --api-key "$key")
eq "package archive: archived" archived "$(echo "$out" | json state)"
before=$(last_txnid "$data")
out=$("$CLI" session create --package credits_100 --api-key "$key" 2>&1) && rc=0 || rc=$?
contains "session --package of an archived package: FAILED_PRECONDITION" FAILED_PRECONDITION "$out"
eq "… and writes nothing" "$before" "$(last_txnid "$data")"
out=$("$CLI" --json credits package list --all --api-key "$key")
eq "package list --all: the archived one" archived "$(echo "$out" | json packages.0.state)"

# Test-mode payments: what the checkout page's buttons do, through the webhook
# path (Stripe's shape, signed with the Stripe secret).
tp=$("$CLI" --json session create --api-key "$key" --amount-minor 1500 --currency ISK \
  --email t@example.com --plan pro)
tps=$(echo "$tp" | json id); tpk=$(echo "$tp" | json checkout_secret)
out=$("$CLI" --json session test-pay "$tps" --secret "$tpk" --fail)
eq "test-pay --fail: applied" applied "$(echo "$out" | json outcome)"
eq "test-pay --fail: the session failed" failed "$(status_of "$tps")"
out=$("$CLI" --json session test-pay "$tps" --secret "$tpk")
eq "test-pay: applied" applied "$(echo "$out" | json outcome)"
eq "test-pay: the session is paid (ISK: Stripe's hundredths converted back)" paid "$(status_of "$tps")"
out=$("$CLI" --json session test-pay "$tps" --secret "$tpk")
eq "test-pay again: duplicate" duplicate "$(echo "$out" | json outcome)"
out=$("$CLI" --json session test-pay "$tps" --secret cks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2>&1) && rc=0 || rc=$?
contains "test-pay with a wrong secret: UNAUTHENTICATED" "UNAUTHENTICATED" "$out"
live_key=$(new_merchant live)
lv=$("$CLI" --json session create --api-key "$live_key" --amount-minor 1500 --currency EUR --mode live)
out=$("$CLI" --json session test-pay "$(echo "$lv" | json id)" --secret "$(echo "$lv" | json checkout_secret)" 2>&1) && rc=0 || rc=$?
contains "test-pay of a live session: FAILED_PRECONDITION" "FAILED_PRECONDITION" "$out"
eq "test-pay of a live session: exit 1" 1 "$rc"
eq "test-pay of a live session: still created" created "$(status_of "$(echo "$lv" | json id)")"
code=$(curl -sS -o "$T/tp" -w '%{http_code}' -H "Origin: https://evil.example" \
  --data "secret=$tpk&outcome=pay" "$BRIDGE/checkout/$tps/test")
eq "bridge test payment from another origin → 403" 403 "$code"
code=$(curl -sS -o "$T/tp" -w '%{http_code}' --data "secret=$tpk&outcome=maybe" "$BRIDGE/checkout/$tps/test")
eq "bridge test payment with an unknown outcome → 400" 400 "$code"

metrics=$(curl -sS "$BRIDGE/metrics")
contains "metrics count webhook outcomes by provider" 'paywire_bridge_webhooks_total{provider="stripe",outcome="applied"}' "$metrics"
an=$(echo "$metrics" | sed -n 's/^paywire_bridge_webhooks_total{provider="stripe",outcome="anomaly"} //p')
[ "${an:-0}" -ge 2 ] && ok "metrics count anomalies apart from ignored ($an)" || fail "metrics: stripe anomaly count is '${an}', wanted >= 2"
finish
