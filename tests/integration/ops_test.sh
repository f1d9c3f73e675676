#!/usr/bin/env bash
# ops_test.sh - operating paywire (issue 13): the server's Prometheus metrics
# on --metrics-listen (what they count, the loopback rule, the listener's
# answers), logs (--log-format json lines parse; one info line per request
# with its request id; state changes; a refused webhook's reason), the
# bridge's X-Request-Id (taken when valid, made up otherwise, echoed, passed
# to the server as the trace id and logged by both), HTTPS in the bridge
# (--tls-cert/--tls-key with a self-signed CA made by openssl; plain HTTP
# refused on that port; a group-readable key refused), and a scenario whose
# every secret is registered and looked for in every log line (scan_logs).
. "$(dirname "$0")/lib.sh"
export PW_LOG=debug PW_LOG_FORMAT=json PW_LOG_SCAN=1
data=$T/data
mport=$(free_port)
bport=$(free_port)
start_server "$data" --public-url "http://127.0.0.1:$bport" --metrics-listen "127.0.0.1:$mport"
wait_server
PW_BRIDGE_PORT=$bport start_bridge
M=http://127.0.0.1:$mport/metrics
metric() { curl -sS "$M" | awk -v k="$1" '$1 == k {print $2}'; }

# ---- a scenario: every secret it sees is registered ----
secret "$PAYWIRE_ADMIN_KEY"
mj=$("$CLI" --json merchant create --name "ops shop" --mode test)
key=$(echo "$mj" | json api_key); mid=$(echo "$mj" | json merchant_id)
secret "$key"
key2=$("$CLI" --json key create --api-key "$key" | json api_key)
secret "$key2"
SK=sk_test_opsCredentials0123456789abc
secret "$SK"
printf '%s\n' "$SK" | "$CLI" merchant credentials set "$mid" --provider stripe --mode test >/dev/null
check "credentials set" true
s=$("$CLI" --json session create --api-key "$key" --amount 49.00 --currency EUR --plan pro)
sid=$(echo "$s" | json id); cks=$(echo "$s" | json checkout_secret)
secret "$cks"
# created over HTTP with a request id of ours
hdr=$T/h; body=$T/b
code=$(curl -sS -D "$hdr" -o "$body" -w '%{http_code}' -X POST "$BRIDGE/create_session" \
  -H "X-API-Key: $key" -H 'X-Request-Id: ops-trace-42' -H 'Content-Type: application/json' \
  --data-binary '{"amount":"5.00","currency":"EUR","mode":"test"}')
eq "create_session over HTTP → 200" 200 "$code"
sid2=$(json id <"$body")
secret "$(json url <"$body" | sed 's/.*secret=//')"
eq "X-Request-Id echoed" "ops-trace-42" "$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')"
contains "bridge logs the request id with route and code" 'request_id=ops-trace-42 route=create_session method=POST path=/create_session code=200' "$(cat "$T/bridge.log")"
contains "server logs it as the call's trace" 'trace=ops-trace-42 call=create_session status=OK' "$(cat "$T/server.log")"
contains "server logs the session created (state change) with the trace" "session created session=$sid2" "$(cat "$T/server.log")"
curl -sS -D "$hdr" -o /dev/null -H 'X-Request-Id: bad id<x>' "$BRIDGE/session/$sid/status"
rid=$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
case "$rid" in br-????????????????????????????????) ok "an invalid X-Request-Id is replaced by one of ours ($rid)" ;; *) fail "invalid X-Request-Id: got [$rid]" ;; esac
curl -sS -D "$hdr" -o /dev/null "$BRIDGE/session/$sid/status"
rid=$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
case "$rid" in br-*) ok "no X-Request-Id: one is made up and returned" ;; *) fail "no X-Request-Id: got [$rid]" ;; esac
contains "… and the server logged that one too" "trace=$rid call=get_status" "$(cat "$T/server.log")"
long=$(printf 'a%.0s' $(seq 1 65))
curl -sS -D "$hdr" -o /dev/null -H "X-Request-Id: $long" "$BRIDGE/healthz"
rid=$(tr -d '\r' <"$hdr" | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
case "$rid" in br-*) ok "a 65-byte X-Request-Id is replaced" ;; *) fail "65-byte X-Request-Id: got [$rid]" ;; esac

# a Stripe payment (signed as the README does), then a forged one
stripe() { # stripe BODY SECRET -> http code
  local t sig; t=$(date +%s)
  sig=$(printf '%s.%s' "$t" "$1" | openssl dgst -sha256 -hmac "$2" | sed 's/^.* //')
  curl -sS -o "$T/wh" -w '%{http_code}' -X POST "$BRIDGE/webhooks/stripe" -H 'Content-Type: application/json' \
    -H "Stripe-Signature: t=$t,v1=$sig" --data-binary "$1"
}
ev=$(printf '{"id":"evt_ops_%s","object":"event","type":"checkout.session.completed","created":%s,"livemode":false,"data":{"object":{"id":"cs_test_ops","object":"checkout.session","client_reference_id":"%s","amount_total":4900,"currency":"eur","payment_status":"paid","payment_intent":"pi_ops_%s"}}}' "$sid" "$(date +%s)" "$sid" "$sid")
eq "signed Stripe event → 200" 200 "$(stripe "$ev" "$PAYWIRE_STRIPE_WEBHOOK_SECRET")"
contains "state change: webhook applied, session paid" "webhook applied provider=stripe session=$sid event=checkout.session.completed kind=payment session_status=SESSION_STATUS_PAID request_id=" "$(cat "$T/server.log")"
eq "forged Stripe event → 401" 401 "$(stripe "$ev" whsec_not_the_secret_0123456789)"
contains "a refused webhook is logged with its reason" "webhook refused provider=stripe status=UNAUTHENTICATED reason=" "$(cat "$T/server.log")"
link=$("$CLI" --json session get --api-key "$key" "$sid" | json access_link)
tok=${link#*token=}
secret "$tok"
ak=$("$CLI" --json access redeem "$sid" --token "$tok" | json access_key)
secret "$ak"
check "access key revealed" [ -n "$ak" ]
printf '%s\n' "$ak" | "$CLI" access verify --api-key "$key" >/dev/null
check "access verify" true
new=$("$CLI" --json access reissue --api-key "$key" "$sid")
secret "$(echo "$new" | json access_link | sed 's/.*token=//')"
ts=$("$CLI" --json session create --api-key "$key" --amount-minor 700 --currency EUR)
tsid=$(echo "$ts" | json id); tcks=$(echo "$ts" | json checkout_secret)
secret "$tcks"
"$CLI" session test-pay "$tsid" --secret "$tcks" >/dev/null
check "test payment" true
rolled=$("$CLI" --json key roll --api-key "$key2" --now | json api_key)
secret "$rolled"

# ---- metrics ----
eq "requests by call and code: create_merchant OK" 1 "$(metric 'paywire_server_requests_total{call="create_merchant",code="OK"}')"
eq "… a webhook refused: UNAUTHENTICATED" 1 "$(metric 'paywire_server_requests_total{call="ingest_webhook",code="UNAUTHENTICATED"}')"
eq "webhooks by provider and outcome: stripe applied" 1 "$(metric 'paywire_server_webhooks_total{provider="stripe",outcome="applied"}')"
eq "… stripe rejected" 1 "$(metric 'paywire_server_webhooks_total{provider="stripe",outcome="rejected"}')"
n=$(metric 'paywire_server_request_duration_seconds_count{call="create_session"}')
check "latency histogram per call: create_session counted ($n)" [ "${n:-0}" -ge 2 ]
n=$(metric 'paywire_store_commit_duration_seconds_count')
check "commit (fsync) latency histogram counts commits ($n)" [ "${n:-0}" -ge 5 ]
n=$(metric 'paywire_store_batch_size_count')
check "batch size histogram ($n batches)" [ "${n:-0}" -ge 5 ]
eq "map size" 1073741824 "$(metric paywire_store_map_size_bytes)"
n=$(metric paywire_store_map_used_bytes)
check "map used: some pages, less than the map ($n)" [ "${n:-0}" -gt 0 ] && [ "$n" -lt 1073741824 ]
check "reader slots: a count, at most the slots in all" [ "$(metric paywire_store_readers_used)" -le "$(metric paywire_store_readers_max)" ]
eq "queue depth at rest" 0 "$(metric paywire_store_queue_depth)"
eq "store failed: 0" 0 "$(metric paywire_store_failed)"
contains "build info with the version" 'paywire_build_info{program="paywire-server",version="' "$(curl -sS "$M")"
contains "process start time" 'process_start_time_seconds ' "$(curl -sS "$M")"
if command -v promtool >/dev/null; then
  curl -sS "$M" >"$T/scrape"
  out=$(promtool check metrics <"$T/scrape" 2>&1) && rc=0 || rc=$?
  eq "promtool check metrics: the scrape is clean (${out:-no remark})" 0 "$rc"
else
  ok "promtool not installed: the scrape's format is checked by the lines above (SKIP promtool)"
fi
eq "listener: another path → 404" 404 "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")"
eq "listener: POST → 405" 405 "$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$M")"
eq "listener: a request head over 4 KiB → 431" 431 "$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' a)" "$M")"
out=$("$SERVER_BIN" --data "$T/d2" --listen "tcp://127.0.0.1:$(free_port)" --metrics-listen "0.0.0.0:$(free_port)" 2>&1) && rc=0 || rc=$?
eq "a public --metrics-listen without --metrics-allow-public: exit 2" 2 "$rc"
contains "… says which flag allows it" "--metrics-allow-public" "$out"
out=$("$SERVER_BIN" --data "$T/d2" --metrics-listen "127.0.0.1" 2>&1) && rc=0 || rc=$?
eq "--metrics-listen without a port: exit 2" 2 "$rc"
"$SERVER_BIN" --help | grep -q -- '--metrics-listen HOST:PORT' && ok "--help documents --metrics-listen" || fail "--help: --metrics-listen"
"$SERVER_BIN" --help | grep -q -- '--log-format' && ok "--help documents --log-format" || fail "--help: --log-format"
"$BRIDGE_BIN" --help | grep -q -- '--tls-cert' && ok "bridge --help documents --tls-cert" || fail "bridge --help: --tls-cert"

# ---- HTTPS in the bridge ----
tls=$T/tls; mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 2 \
  -subj "/CN=paywire test CA" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$tls/bridge.key" -out "$tls/bridge.csr" \
  -subj "/CN=127.0.0.1" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/ext"
openssl x509 -req -in "$tls/bridge.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
  -out "$tls/bridge.pem" -days 2 -extfile "$tls/ext" >/dev/null 2>&1
chmod 600 "$tls/bridge.key"
secret "$(grep -v -- '-----' "$tls/bridge.key" | head -1)"
tport=$(free_port)
"$BRIDGE_BIN" --listen "127.0.0.1:$tport" --server "$SERVER_URL" --tls-cert "$tls/bridge.pem" \
  --tls-key "$tls/bridge.key" --log-level debug --log-format json >>"$T/bridge-tls.log" 2>&1 &
TLS_PID=$!; PIDS+=("$TLS_PID")
tls_up() { [ "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$tls/ca.pem" "https://127.0.0.1:$tport/healthz" 2>/dev/null)" = 200 ]; }
if wait_until tls_up; then ok "HTTPS: /healthz → 200 with curl --cacert (the test CA)"; else fail "HTTPS bridge did not answer"; cat "$T/bridge-tls.log" >&2; fi
code=$(curl -sS -o "$body" -w '%{http_code}' --cacert "$tls/ca.pem" -X POST "https://127.0.0.1:$tport/create_session" \
  -H "X-API-Key: $key" -H 'X-Request-Id: ops-tls-1' --data-binary '{"amount":"1.00","currency":"EUR","mode":"test"}')
eq "HTTPS: create_session → 200" 200 "$code"
secret "$(json url <"$body" | sed 's/.*secret=//')"
code=$(curl -sS -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$tport/healthz" 2>/dev/null) || true
check "plain HTTP on the TLS port gets no HTTP answer (got ${code:-none})" [ "${code:-000}" = 000 ]
curl -sS -o /dev/null "https://127.0.0.1:$tport/healthz" 2>/dev/null && rc=0 || rc=$?
check "without the CA, curl refuses the certificate (exit $rc)" [ "$rc" -ne 0 ]
chmod 640 "$tls/bridge.key"
out=$("$BRIDGE_BIN" --listen "127.0.0.1:$(free_port)" --server "$SERVER_URL" --tls-cert "$tls/bridge.pem" --tls-key "$tls/bridge.key" 2>&1) && rc=0 || rc=$?
eq "a group-readable key is refused: exit 2" 2 "$rc"
contains "… saying why" "readable by group or others (mode 0640): chmod 600 it" "$out"
out=$("$BRIDGE_BIN" --listen "127.0.0.1:$(free_port)" --tls-cert "$tls/bridge.pem" 2>&1) && rc=0 || rc=$?
eq "--tls-cert without --tls-key: exit 2" 2 "$rc"
contains "… saying so" "--tls-cert and --tls-key go together" "$out"
chmod 600 "$tls/bridge.key"
out=$("$BRIDGE_BIN" --listen "127.0.0.1:$(free_port)" --tls-cert "$tls/nope.pem" --tls-key "$tls/bridge.key" 2>&1) && rc=0 || rc=$?
eq "a missing certificate file: exit 2" 2 "$rc"
contains "… naming it" "nope.pem: cannot open" "$out"
out=$("$BRIDGE_BIN" --listen "127.0.0.1:$(free_port)" --tls-cert "$tls/ext" --tls-key "$tls/bridge.key" 2>&1) && rc=0 || rc=$?
eq "a certificate file that is not PEM: exit 2" 2 "$rc"

# ---- logs: one info line per request; JSON lines (scan_logs at exit checks
# every line for every registered secret and that each JSON line parses) ----
n=$(grep -c '"level":"info","msg":"rpc request_id=' "$T/server.log" || true)
check "server: one info line per request ($n)" [ "$n" -ge 15 ]
n=$(grep -c '"level":"info","msg":"http request_id=' "$T/bridge.log" || true)
check "bridge: one info line per request ($n)" [ "$n" -ge 5 ]
finish
