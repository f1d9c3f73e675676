#!/usr/bin/env bash
# faults.sh - storage faults (issue 7 "Storage faults"; docs/reliability/crash.md).
#
#   scripts/reliability/faults.sh [--ci | --full] [--build DIR] [--keep] [--only io|mapfull|readonly]
#
# 1. I/O errors: paywire-server runs under strace, which makes the N-th
#    fdatasync / pwrite64 (LMDB's data and meta pages; the meta page is a
#    pwrite on an O_DSYNC descriptor) / fsync fail with EIO or ENOSPC. A
#    sequence of writes (CreateSession and signed Stripe payments, each with
#    its own request_id) runs against it. Checked: the request that met the
#    error never gets OK; after an EIO no write gets OK and the server exits
#    non-zero by itself (DESIGN.md "Concurrency and durability"); restarted
#    on the same data directory it opens with no repair, every acknowledged
#    request is there with its reply, every other one re-sent with its
#    request_id applies once, and pw-crash-check finds nothing half-applied.
# 2. A map too small: writes answer RESOURCE_EXHAUSTED while GetStatus
#    answers; restarted with a larger map, writes resume.
# 3. A read-only data directory (owned by an unprivileged user, mode 0500,
#    the server run as that user) and --read-only: reads served, writes
#    UNAVAILABLE, 503 at the bridge.
# --ci (default): a few N per syscall; --full: N = 1..8 for each syscall/error.
# Prints one summary line; exits non-zero on any failure.
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$SRC/build-test
MODE=ci KEEP= ONLY=
while [ $# -gt 0 ]; do
  case $1 in
    --ci) MODE=ci ;;
    --full) MODE=full ;;
    --build) BUILD=$2; shift ;;
    --keep) KEEP=1 ;;
    --only) ONLY=$2; shift ;;
    *) echo "usage: $0 [--ci|--full] [--build DIR] [--keep] [--only io|mapfull|readonly]" >&2; exit 2 ;;
  esac
  shift
done
SERVER_BIN=$BUILD/server/paywire-server
BRIDGE_BIN=$BUILD/bridge/paywire-bridge
CLI_BIN=$BUILD/client/paywire
CHECK=$BUILD/tests/pw-crash-check
for b in "$SERVER_BIN" "$BRIDGE_BIN" "$CLI_BIN" "$CHECK"; do
  [ -x "$b" ] || { echo "faults: $b missing (a test build: -DPW_TEST_HOOKS=ON -DPW_TESTING=ON)" >&2; exit 2; }
done
command -v strace >/dev/null || { echo "faults: strace missing (scripts/install-deps.sh)" >&2; exit 2; }
HANG_S=120

export PAYWIRE_ADMIN_KEY="adm_faults_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_test_paywire_faults_secret_0123456789
export PAYWIRE_RAZORPAY_WEBHOOK_SECRET=rzp_faults_webhook_secret_0123456789
export PAYWIRE_ONECOM_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export PAYWIRE_WEB3_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export PAYWIRE_TOKEN_SECRET=faults-token-secret-0123456789abcdef0123456789
export ASAN_OPTIONS=detect_leaks=0
unset PAYWIRE_CRASHPOINT PAYWIRE_FAIL_ALLOC

T=$(mktemp -d /tmp/pw-faults.XXXXXX)
chmod 0755 "$T"
PIDS=()
FAILS=0 PASSES=0 SCEN=0 INJECTED=0
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  [ -n "$KEEP" ] && echo "faults: kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
ok()   { PASSES=$((PASSES + 1)); }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
URL=tcp://127.0.0.1:$(free_port)
cli() { "$CLI_BIN" --server "$URL" --timeout-ms $((HANG_S * 1000)) --retries 0 "$@"; }
wait_until() { local end=$((SECONDS + HANG_S)); until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done; }
answers() { # the server PID $SPID is alive and answers a status probe
  kill -0 "$SPID" 2>/dev/null || return 2
  case $("$CLI_BIN" --server "$URL" --timeout-ms 1000 --retries 0 status cs_probe 2>&1) in *NOT_FOUND*) return 0 ;; esac
  return 1
}
# start [wrapper...] -- [server flags...]: sets SPID (what to wait on) and
# TPID (the server process itself, for signals)
start() {
  local wrap=() rc
  while [ $# -gt 0 ] && [ "$1" != -- ]; do wrap+=("$1"); shift; done
  shift
  "${wrap[@]}" "$SERVER_BIN" --data "$D" --listen "$URL" --log-level warn "$@" >>"$T/server.log" 2>&1 &
  SPID=$!; TPID=$SPID
  PIDS+=("$SPID")
  wait_until answers; rc=$?
  if [ ${#wrap[@]} -gt 0 ]; then TPID=$(pgrep -P "$SPID" | head -1); fi
  return $rc
}
stop() { # SIGTERM the server, wait for it; sets RC
  kill -TERM "${TPID:-$SPID}" 2>/dev/null || true
  RC=0; wait "$SPID" 2>/dev/null || RC=$?
}
exited_within() { # the server ($SPID) ended by itself within HANG_S; sets RC
  local end=$((SECONDS + HANG_S))
  while kill -0 "$SPID" 2>/dev/null; do [ $SECONDS -lt $end ] || return 1; sleep 0.1; done
  RC=0; wait "$SPID" 2>/dev/null || RC=$?
  return 0
}

# A fresh data dir with one merchant; sets D, API_KEY.
fresh() {
  D=$T/data.$1; rm -rf "$D"
  start -- || { fail "$1: server did not start"; return 1; }
  API_KEY=$(cli --json merchant create --name "faults shop" --mode test | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  stop
}

stripe_payment() { # stripe_payment SID AMOUNT RID -> prints CLI output, returns its rc
  local sid=$1 amt=$2 rid=$3 t body sig
  t=$(date +%s)
  body="{\"id\":\"evt_f_${sid#cs_}\",\"object\":\"event\",\"created\":$t,\"livemode\":false,\"type\":\"checkout.session.completed\",\"data\":{\"object\":{\"id\":\"cs_test_${sid#cs_}\",\"object\":\"checkout.session\",\"amount_total\":$amt,\"currency\":\"eur\",\"client_reference_id\":\"$sid\",\"payment_intent\":\"pi_${sid#cs_}\",\"payment_status\":\"paid\",\"status\":\"complete\",\"livemode\":false}}}"
  printf '%s' "$body" >"$T/body.$rid"
  sig=$(printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$PAYWIRE_STRIPE_WEBHOOK_SECRET" -r | cut -d' ' -f1)
  printf 't=%s,v1=%s' "$t" "$sig" >"$T/sig.$rid"
  cli --json webhook send --provider stripe --body-file "$T/body.$rid" --header "Stripe-Signature: $(cat "$T/sig.$rid")"
}
stripe_resend() { # the same bytes again (the CLI makes a new request_id: the event id dedups)
  cli --json webhook send --provider stripe --body-file "$T/body.$1" --header "Stripe-Signature: $(cat "$T/sig.$1")"
}
create() { # create RID
  cli --json session create --api-key "$API_KEY" --amount-minor 4900 --currency EUR \
    --customer-ref "cust-$1" --plan pro --request-id "$1"
}
jf() { python3 -c 'import json,sys
try: print(json.load(sys.stdin).get(sys.argv[1],""))
except Exception: print("")' "$1"; }

# io_fault SYSCALL ERRNO N: one storage-fault scenario.
io_fault() {
  local sc=$1 err=$2 n=$3 name="$1:$2:when=$3" i out rc first_fail=-1 ok_after=0 sid
  local -a acked=() kinds=() sids=()
  SCEN=$((SCEN + 1))
  fresh "$sc.$err.$n" || return
  start strace -f -qq -o "$T/strace.$name" -e trace="$sc" -e inject="$sc:error=$err:when=$n" -- || {
    # The fault hit the start-up (an fsync of the key file or the
    # environment): the server must refuse to start, non-zero.
    exited_within && [ "$RC" -ne 0 ] && ok || fail "$name: start-up fault: exit $RC"
    grep -q INJECTED "$T/strace.$name" && INJECTED=$((INJECTED + 1))
    verify_after "$name" 0; return; }
  # Writes: creates, and a payment for every second one.
  for i in 1 2 3 4 5 6; do
    out=$(create "f$i" 2>&1); rc=$?
    sid=$(printf '%s' "$out" | jf id)
    kinds+=(c); sids+=("$sid")
    if [ $rc -eq 0 ] && [ -n "$sid" ]; then acked+=(1); [ $first_fail -ge 0 ] && ok_after=$((ok_after + 1))
    else acked+=(0); [ $first_fail -lt 0 ] && first_fail=${#acked[@]}; fi
    if [ $((i % 2)) -eq 0 ] && [ -n "$sid" ]; then
      out=$(stripe_payment "$sid" 4900 "p$i" 2>&1); rc=$?
      kinds+=(p); sids+=("$sid")
      if [ $rc -eq 0 ]; then acked+=(1); [ $first_fail -ge 0 ] && ok_after=$((ok_after + 1))
      else acked+=(0); [ $first_fail -lt 0 ] && first_fail=${#acked[@]}; fi
    fi
  done
  if grep -q INJECTED "$T/strace.$name"; then INJECTED=$((INJECTED + 1)); fi
  if [ "$err" = EIO ] && grep -q INJECTED "$T/strace.$name"; then
    [ $first_fail -ge 0 ] && ok || fail "$name: an EIO was injected but every write got OK"
    [ $ok_after -eq 0 ] && ok || fail "$name: $ok_after write(s) got OK after the EIO"
    if exited_within; then
      [ "$RC" -ne 0 ] && ok || fail "$name: the server exited 0 after an EIO"
    else
      fail "$name: the server still runs $HANG_S s after an EIO"
      stop
    fi
  else
    stop
  fi
  # Restart clean: acknowledged creates are there with their session id,
  # every payment whose session exists is re-sent (applies once), the
  # store's invariants hold.
  start -- || { fail "$name: the restarted server did not answer (the environment does not open as it is)"; return; }
  for i in 1 2 3 4 5 6; do
    out=$(create "f$i" 2>&1) || { fail "$name: re-sent create f$i: $out"; continue; }
    sid=$(printf '%s' "$out" | jf id)
    local k j=0
    for k in "${!kinds[@]}"; do
      if [ "${kinds[$k]}" = c ]; then j=$((j + 1)); fi
      if [ $j -eq $i ] && [ "${kinds[$k]}" = c ]; then
        if [ "${acked[$k]}" = 1 ] && [ "${sids[$k]}" != "$sid" ]; then
          fail "$name: acknowledged create f$i was ${sids[$k]}, its re-send says $sid"
        fi
        break
      fi
    done
    if [ $((i % 2)) -eq 0 ]; then
      out=$(stripe_payment "$sid" 4900 "q$i" 2>&1) || fail "$name: payment of $sid after restart: $out"
      st=$(cli --json status "$sid" 2>&1 | jf status)
      [ "$st" = paid ] || fail "$name: $sid is $st after its payment"
    fi
  done
  verify_after "$name" 1
}

verify_after() { # verify_after NAME RUNNING
  local out
  if [ "$2" = 1 ]; then
    out=$(cli audit verify 2>&1) || fail "$1: audit verify: $out"
    stop
  fi
  out=$("$CHECK" "$D" 2>&1) && ok || fail "$1: pw-crash-check: $out"
}

map_full() {
  local i out rc sid="" full=0 code
  SCEN=$((SCEN + 1))
  fresh mapfull || return
  start -- --map-size 1m || { fail "mapfull: server did not start with --map-size 1m"; return; }
  for i in $(seq 1 5000); do
    out=$(cli --json session create --api-key "$API_KEY" --amount-minor 4900 --currency EUR \
      --customer-ref "cust-$i" --plan pro --metadata "pad=$(head -c 300 /dev/zero | tr '\0' x)" 2>&1); rc=$?
    if [ $rc -ne 0 ]; then full=$i; break; fi
    [ -n "$sid" ] || sid=$(printf '%s' "$out" | jf id)
  done
  case $out in *RESOURCE_EXHAUSTED*) ok ;; *) fail "mapfull: write $full answered [$out], not RESOURCE_EXHAUSTED" ;; esac
  out=$(cli --json status "$sid" 2>&1) && ok || fail "mapfull: GetStatus with a full map: $out"
  # Writes of the same size go on being refused. A full map is not a fixed
  # state: pages freed by earlier commits become reusable once no reader
  # holds them, so a few more writes may fit. Each one answered OK must be
  # there after the restart; a refusal must come again within 64 writes.
  local more=0 refused=0 later=""
  for i in $(seq 1 64); do
    out=$(cli --json session create --api-key "$API_KEY" --amount-minor 4900 --currency EUR \
      --customer-ref "cust-more-$i" --plan pro --metadata "pad=$(head -c 300 /dev/zero | tr '\0' x)" 2>&1); rc=$?
    if [ $rc -eq 0 ]; then more=$((more + 1)); later="$later $(printf '%s' "$out" | jf id)"; continue; fi
    case $out in *RESOURCE_EXHAUSTED*) refused=1 ;; *) fail "mapfull: a write to a full map answered [$out]" ;; esac
    break
  done
  [ $refused = 1 ] && ok || fail "mapfull: 64 more writes of the same size and none refused"
  kill -0 "$SPID" 2>/dev/null && ok || fail "mapfull: the server exited on a full map"
  stop
  start -- --map-size 64m || { fail "mapfull: no restart with --map-size 64m"; return; }
  out=$(create after-full 2>&1) && ok || fail "mapfull: a write after the restart with a larger map: $out"
  for i in $later; do
    out=$(cli --json status "$i" 2>&1) || { fail "mapfull: $i, answered OK on a full map, is not there: $out"; break; }
  done
  verify_after mapfull 1
  echo "mapfull: RESOURCE_EXHAUSTED at write $full of a 1 MiB map, $more more fitted before the next refusal; writes resume with 64 MiB"
}

read_only() {
  local sid out code bport BR BPID
  SCEN=$((SCEN + 1))
  fresh readonly || return
  start -- || return
  sid=$(create ro1 | jf id)
  stop
  # --read-only: reads served, writes UNAVAILABLE, 503 at the bridge.
  start -- --read-only || { fail "readonly: no start with --read-only"; return; }
  out=$(cli --json status "$sid" 2>&1) && ok || fail "readonly(--read-only): GetStatus: $out"
  out=$(create ro2 2>&1); case $out in *UNAVAILABLE*) ok ;; *) fail "readonly(--read-only): a write answered [$out]" ;; esac
  bport=$(free_port); BR=http://127.0.0.1:$bport
  "$BRIDGE_BIN" --listen 127.0.0.1:$bport --server "$URL" --public-url "$BR" --log-level warn >>"$T/bridge.log" 2>&1 &
  BPID=$!; PIDS+=("$BPID")
  wait_until sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $BR/healthz)\" = 200 ]" || fail "readonly: bridge not healthy"
  code=$(curl -s -o /dev/null -w '%{http_code}' "$BR/session/$sid/status")
  [ "$code" = 200 ] && ok || fail "readonly: bridge status page answered $code, not 200"
  code=$(curl -s -o "$T/ro.body" -w '%{http_code}' -X POST -H "X-API-Key: $API_KEY" -H 'Content-Type: application/json' \
    -d '{"amount_minor":4900,"currency":"EUR","mode":"test"}' "$BR/create_session")
  [ "$code" = 503 ] && ok || fail "readonly: bridge create_session answered $code, not 503: $(head -c 300 "$T/ro.body")"
  kill -TERM "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null
  stop
  # A data directory the server's user may not write (root ignores modes:
  # the server runs as nobody on a directory nobody owns, mode 0500).
  if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    chown -R 65534:65534 "$D"; chmod 0500 "$D"; chmod 0400 "$D"/data.mdb
    start setpriv --reuid=65534 --regid=65534 --clear-groups -- --read-only ||
      { fail "readonly(dir 0500, --read-only): no start"; tail -5 "$T/server.log"; return; }
    out=$(cli --json status "$sid" 2>&1) && ok || fail "readonly(dir 0500): GetStatus: $out"
    out=$(create ro3 2>&1); case $out in *UNAVAILABLE*) ok ;; *) fail "readonly(dir 0500): a write answered [$out]" ;; esac
    stop
    SPID=; start setpriv --reuid=65534 --regid=65534 --clear-groups -- && {
      out=$(cli --json status "$sid" 2>&1) && ok || fail "readonly(dir 0500, no flag): GetStatus: $out"
      out=$(create ro4 2>&1); case $out in *UNAVAILABLE*) ok ;; *) fail "readonly(dir 0500, no flag): a write answered [$out]" ;; esac
      stop; } || { wait "$SPID" 2>/dev/null
      # Refusing is allowed only with a message that names the way out.
      if grep -q 'not writable by this user.*--read-only' "$T/server.log"; then ok
        echo "readonly: without --read-only the server refuses a data directory it cannot write and says to pass --read-only"
      else fail "readonly(dir 0500, no flag): refused without naming --read-only: $(tail -2 "$T/server.log")"; fi; }
    chown -R 0:0 "$D"; chmod 0700 "$D"
  fi
}

if [ $MODE = full ]; then NS="1 2 3 4 5 6 7 8"; else NS="2"; fi
if [ -z "$ONLY" ] || [ "$ONLY" = io ]; then
  for n in $NS; do
    io_fault fdatasync EIO "$n"
    io_fault pwrite64 EIO "$n"
    io_fault pwrite64 ENOSPC "$n"
  done
  io_fault fsync EIO 1
  [ $MODE = full ] && { io_fault fdatasync ENOSPC 2; io_fault fsync EIO 2; io_fault fsync ENOSPC 1; }
fi
if [ -z "$ONLY" ] || [ "$ONLY" = mapfull ]; then map_full; fi
if [ -z "$ONLY" ] || [ "$ONLY" = readonly ]; then read_only; fi
echo "faults: $SCEN scenarios ($INJECTED with an injected I/O error), $PASSES checks passed, $FAILS failed -> $([ $FAILS -eq 0 ] && echo PASS || echo FAIL)"
[ $FAILS -eq 0 ]
