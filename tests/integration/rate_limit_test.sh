#!/usr/bin/env bash
# rate_limit_test.sh - rate limits per merchant key's merchant and call class
# (issue 11): a burst over the limit gets exactly the configured number of
# successes, the rest RESOURCE_EXHAUSTED with the time to wait (Status.
# retry_after_ms), over HTTP 429 with Retry-After; another merchant is not
# affected; keyless GetStatus is not a merchant's budget. Rates are per hour,
# so a slow machine cannot refill a token during the test: the counts are exact.
. "$(dirname "$0")/lib.sh"
start_server "$T/data" --rate-writes 1/h:5 --rate-reads 1/h:3
start_bridge
a=$(new_merchant test)
b=$(new_merchant test)

create() { "$CLI" --json --retries 0 session create --api-key "$1" --amount-minor 500 --currency EUR; }
okn=0; ren=0; sid=""
for i in $(seq 1 8); do
  if out=$(create "$a" 2>&1); then okn=$((okn + 1)); sid=$(echo "$out" | json id)
  else case "$out" in *RESOURCE_EXHAUSTED*"retry in"*) ren=$((ren + 1)) ;; *) echo "$out" >&2 ;; esac; fi
done
eq "writes: a burst of 8 against 5: exactly 5 succeed" 5 "$okn"
eq "writes: ... and 3 RESOURCE_EXHAUSTED saying when to retry" 3 "$ren"
out=$(create "$b") && ok "another merchant is not affected" || fail "another merchant was refused: $out"
# keyless GetStatus is not the merchant's read budget
for i in 1 2 3 4 5; do
  "$CLI" --retries 0 status "$sid" >/dev/null || fail "status $i refused"
done
ok "GetStatus (no key) is not limited per merchant"
okn=0; ren=0
for i in 1 2 3 4 5; do
  if out=$("$CLI" --retries 0 session get "$sid" --api-key "$a" 2>&1); then okn=$((okn + 1))
  else case "$out" in *RESOURCE_EXHAUSTED*) ren=$((ren + 1)) ;; esac; fi
done
eq "reads: 5 against 3: exactly 3 succeed" 3 "$okn"
eq "reads: ... 2 refused" 2 "$ren"
# over HTTP: merchant b has 4 writes left
codes=""
for i in 1 2 3 4 5; do
  c=$(curl -sS -o "$T/body.$i" -D "$T/hdr.$i" -w '%{http_code}' -X POST "$BRIDGE/create_session" \
    -H "X-API-Key: $b" -H 'Content-Type: application/json' \
    -d '{"amount_minor":500,"currency":"EUR","mode":"test"}')
  codes="$codes $c"
done
eq "bridge: 4 created, then 429" " 200 200 200 200 429" "$codes"
ra=$(grep -i '^retry-after:' "$T/hdr.5" | tr -d '\r' | awk '{print $2}')
if [ -n "$ra" ] && [ "$ra" -ge 1 ] && [ "$ra" -le 3600 ]; then ok "bridge: Retry-After $ra s"; else fail "bridge: Retry-After [$ra]"; fi
contains "bridge: the error says RESOURCE_EXHAUSTED" RESOURCE_EXHAUSTED "$(cat "$T/body.5")"
out=$("$PW_BIN_DIR/server/paywire-server" --rate-writes 'x' --data "$T/d2" 2>&1) && rc=0 || rc=$?
eq "a bad --rate-writes: exit 2" 2 "$rc"
contains "... naming the flag" "--rate-writes" "$out"
finish
