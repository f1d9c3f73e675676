#!/usr/bin/env bash
# lifecycle_test.sh - create merchant → session → status → cancel through the CLI;
# bad input through the CLI writes nothing; data survives a clean restart
# (SIGTERM → exit 0); a session acknowledged before kill -9 is there after
# restart; the audit chain verifies.
. "$(dirname "$0")/lib.sh"
data=$T/data
start_server "$data"

key=$(new_merchant test)
contains "merchant create prints an sk_test_ key" "sk_test_" "$key"
live_key=$(new_merchant live)
contains "a live merchant gets an sk_live_ key" "sk_live_" "$live_key"

out=$("$CLI" --json session create --api-key "$key" --amount 49.00 --currency EUR --email jane@example.com \
  --plan pro --metadata order=1001)
sid=$(echo "$out" | json id)
contains "session create returns a cs_ id" "cs_" "$sid"
eq "session amount is exact minor units" 4900 "$(echo "$out" | json amount_minor)"
eq "session status is created" created "$(echo "$out" | json status)"

out=$("$CLI" status "$sid")
contains "status (human) shows created" "status: created" "$out"
eq "status --json amount" 4900 "$("$CLI" --json status "$sid" | json amount_minor)"

# Idempotency key: same parameters → same session; other parameters → ABORTED.
a=$("$CLI" --json session create --api-key "$key" --amount-minor 1000 --currency EUR --idempotency-key k-1 | json id)
b=$("$CLI" --json session create --api-key "$key" --amount-minor 1000 --currency EUR --idempotency-key k-1 | json id)
eq "same idempotency key, same parameters → same session" "$a" "$b"
before=$(last_txnid "$data")
out=$("$CLI" session create --api-key "$key" --amount-minor 2000 --currency EUR --idempotency-key k-1 2>&1) && rc=0 || rc=$?
eq "same idempotency key, other parameters → exit 1" 1 "$rc"
contains "… with a clear ABORTED error" "ABORTED" "$out"
eq "… and nothing written" "$before" "$(last_txnid "$data")"

# Bad input: clear error, exit 1, nothing written.
bad() { # bad DESC EXPECTED_CODE ARGS...
  local d=$1 code=$2; shift 2
  local before out rc
  before=$(last_txnid "$data")
  out=$("$CLI" "$@" 2>&1) && rc=0 || rc=$?
  if [ "$rc" = 1 ] && [[ "$out" == *"$code"* ]] && [ "$before" = "$(last_txnid "$data")" ]; then
    ok "$d → $code, nothing written"
  else
    fail "$d → expected $code/exit 1/no write, got rc=$rc: $out"
  fi
}
bad "missing API key" UNAUTHENTICATED session create --api-key "" --amount-minor 100 --currency EUR
bad "unknown API key" UNAUTHENTICATED session create --api-key sk_test_nope --amount-minor 100 --currency EUR
bad "test key creating a live session" PERMISSION_DENIED session create --api-key "$key" --mode live --amount-minor 100 --currency EUR
bad "unknown currency" INVALID_ARGUMENT session create --api-key "$key" --amount-minor 100 --currency EUX
bad "amount 0" INVALID_ARGUMENT session create --api-key "$key" --amount-minor 0 --currency EUR
bad "amount above the maximum" INVALID_ARGUMENT session create --api-key "$key" --amount-minor 1000000000001 --currency EUR
bad "ftp success URL" INVALID_ARGUMENT session create --api-key "$key" --amount-minor 100 --currency EUR --success-url ftp://x/y
bad "wrong admin key" UNAUTHENTICATED --json merchant create --name x --admin-key wrong
bad "expiry in the past" INVALID_ARGUMENT session create --api-key "$key" --amount-minor 100 --currency EUR --expires-at 1000000000
bad "expiry under a minute ahead" INVALID_ARGUMENT session create --api-key "$key" --amount-minor 100 --currency EUR --expires-in 10

# Expiry: 24 h by default, or the caller's; GetStatus reports it.
out=$("$CLI" --json session create --api-key "$key" --amount-minor 100 --currency EUR --expires-in 3600)
esid=$(echo "$out" | json id)
created=$(echo "$out" | json created_at_unix_ms)
expires=$(echo "$out" | json expires_at_unix_ms)
span=$(( (expires - created) / 1000 ))
if [ "$span" -ge 3590 ] && [ "$span" -le 3600 ]; then ok "--expires-in 3600 → expires about an hour after creation ($span s)"; else fail "--expires-in 3600 gave $span s"; fi
eq "status reports the same expiry" "$expires" "$("$CLI" --json status "$esid" | json expires_at_unix_ms)"
out=$("$CLI" --json session create --api-key "$key" --amount-minor 100 --currency EUR)
eq "default expiry is 24 h after creation" 86400000 "$(( $(echo "$out" | json expires_at_unix_ms) - $(echo "$out" | json created_at_unix_ms) ))"

# The merchant cancels: created -> canceled; again, or another merchant's
# session, is refused and writes nothing.
csid=$("$CLI" --json session create --api-key "$key" --amount-minor 1500 --currency EUR | json id)
out=$("$CLI" --json session cancel "$csid" --api-key "$key")
eq "session cancel answers the session canceled" canceled "$(echo "$out" | json status)"
eq "status shows it canceled" canceled "$("$CLI" --json status "$csid" | json status)"
bad "cancel of a canceled session" FAILED_PRECONDITION session cancel "$csid" --api-key "$key"
bad "cancel of another merchant's session" NOT_FOUND session cancel "$csid" --api-key "$live_key"
bad "cancel without an API key" UNAUTHENTICATED session cancel "$csid" --api-key ""
out=$("$CLI" session cancel "$csid" --api-key "$key" 2>&1) || true
contains "… saying why" "only a created or pending session can be canceled" "$out"

# API keys: the last active key is not revoked; a second key, a roll with a
# grace period (both work), a roll --now (the old one stops), the listing.
revoke_key=$(new_merchant test)
bad "revoking a merchant's last active key" FAILED_PRECONDITION key revoke "$revoke_key"
out=$("$CLI" key revoke "$revoke_key" 2>&1) || true
contains "… saying why" "last active API key" "$out"
out=$("$CLI" --json key create --api-key "$revoke_key")
key2=$(echo "$out" | json api_key)
contains "key create prints a second sk_test_ key" "sk_test_" "$key2"
eq "… active" active "$(echo "$out" | json state)"
bad "a test key making a live key" PERMISSION_DENIED key create --mode live --api-key "$revoke_key"
"$CLI" key revoke "$revoke_key" >/dev/null
bad "revoked API key" UNAUTHENTICATED session create --api-key "$revoke_key" --amount-minor 100 --currency EUR
bad "the last one again" FAILED_PRECONDITION key revoke "$key2"
out=$("$CLI" --json key roll --grace 3600 --api-key "$key2")
key3=$(echo "$out" | json api_key)
eq "key roll: the old key is expiring" expiring "$(echo "$out" | json rolled_state)"
"$CLI" session create --api-key "$key2" --amount-minor 100 --currency EUR >/dev/null && ok "… and still works in its grace period" || fail "rolled key refused during its grace period"
"$CLI" session create --api-key "$key3" --amount-minor 100 --currency EUR >/dev/null && ok "… as does the new one" || fail "new key refused"
out=$("$CLI" --json key roll --now --api-key "$key3")
key4=$(echo "$out" | json api_key)
bad "a key rolled with --now" UNAUTHENTICATED session create --api-key "$key3" --amount-minor 100 --currency EUR
out=$("$CLI" --json key list --api-key "$key4")
eq "key list: four keys" 4 "$(echo "$out" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["keys"]))')"
eq "key list: newest first, the one in use active" active "$(echo "$out" | json keys.0.state)"
eq "key list: the first revoked" revoked "$(echo "$out" | json keys.3.state)"
if echo "$out" | grep -q -- "${key4:12}"; then fail "key list shows a raw key"; else ok "key list never shows a raw key"; fi

# Clean restart: SIGTERM → exit 0, data survives.
stop_pid "$SERVER_PID" TERM
eq "SIGTERM: server exits 0" 0 "$RC"
start_server "$data"
eq "after a clean restart the session is there" 4900 "$("$CLI" --json status "$sid" | json amount_minor)"

# kill -9 right after an acknowledged create: the session is on disk.
sid2=$("$CLI" --json session create --api-key "$key" --amount-minor 777 --currency JPY | json id)
stop_pid "$SERVER_PID" KILL
eq "kill -9 kills the server" 137 "$RC"
start_server "$data"
eq "a session acknowledged before kill -9 survives" 777 "$("$CLI" --json status "$sid2" | json amount_minor)"

out=$("$CLI" audit verify 2>&1) && rc=0 || rc=$?
eq "audit verify exits 0 on an intact chain" 0 "$rc"
contains "audit verify reports ok" "ok" "$out"
finish
