#!/usr/bin/env bash
# notify_test.sh - outbound notifications to merchants (issue 11,
# docs/NOTIFY.md), end to end: a receiver written with the `standardwebhooks`
# npm library (tests/integration/notify_receiver.js) verifies every delivery.
# Time is the server's injected clock (PAYWIRE_TEST_CLOCK_FILE): the test
# moves it and asserts the retry schedule in its terms, never wall durations.
#  - safety: http:// and loopback endpoints refused without the flags;
#  - a message answered 500 three times, then no answer (timeout) once, then
#    200: delivered, signed, the same webhook-id every time, each retry at the
#    documented wait (+-10%) after the attempt before;
#  - secret rotation: both signatures during the grace, each verified by the
#    library with its own secret; after the grace the new one only;
#  - 410 Gone disables the endpoint (the merchant's other endpoint is told
#    endpoint.disabled); its message is a dead letter; retry refused until
#    enabled, then delivered; replay sends past events with their first ids;
#  - kill -9 with messages in the outbox: after a restart all are delivered;
#  - 1,000 changes with the receiver down for the first half: every message
#    delivered, exactly once by id (duplicates, which the spec allows, are
#    counted and printed). tests/notify_load.c makes them through libpaywire
#    in one process; the other changes here are made by the CLI.
# NOTIFY_PG=1 runs the server under test on PostgreSQL (a private cluster).
. "$(dirname "$0")/lib.sh"
: "${PW_SIGNER_DIR:?PW_SIGNER_DIR must point at the signer (node_modules with standardwebhooks)}"

CLOCK=$T/clock
# Each move of the clock while deliveries may be under way is STEP (4 min):
# a delivery signed just before a move reaches the receiver after it, and
# standardwebhooks accepts a timestamp within 5 minutes of its now (the same
# injected clock). A longer move would fail its verification, a race of the
# test and not of the server.
STEP=240000
set_clock() { $PY -c 'import struct,sys; open(sys.argv[1],"r+b").write(struct.pack("<q",int(sys.argv[2])))' "$CLOCK" "$1"; NOW=$1; }
printf '\0\0\0\0\0\0\0\0' >"$CLOCK"
T0=$($PY -c 'import time; print(int(time.time()*1000))')
set_clock "$T0"
export PAYWIRE_TEST_CLOCK_FILE=$CLOCK

# receiver R1 (and R2 for the endpoint.disabled notice)
start_receiver() { # start_receiver NAME PORT
  rm -f "$T/$1.log.ready"
  NODE_PATH=$PW_SIGNER_DIR/node_modules node "$PW_SOURCE_DIR/tests/integration/notify_receiver.js" \
    "$2" "$T/$1.secrets" "$T/$1.mode" "$T/$1.log" "$CLOCK" >>"$T/$1.out" 2>&1 &
  eval "${1}_PID=$!"
  PIDS+=("$!")
  wait_until test -f "$T/$1.log.ready" || { cat "$T/$1.out" >&2; fail "receiver $1 did not start"; exit 1; }
}
mode() { echo "$2" >"$T/$1.mode"; }
touch "$T/r1.log" "$T/r2.log"
P1=$(free_port); P2=$(free_port)
mode r1 '{"mode":"ok"}'; mode r2 '{"mode":"ok"}'
start_receiver r1 "$P1"
start_receiver r2 "$P2"

# ---- safety: a server without the flags ----
start_server "$T/strict"
key=$(new_merchant test)
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --url "http://127.0.0.1:$P1/h" 2>&1) && rc=0 || rc=$?
contains "http:// refused without --notify-allow-http" "https://" "$out"
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --url "https://127.0.0.1:$P1/h" 2>&1) && rc=0 || rc=$?
contains "loopback refused without --notify-allow-private" "internal address" "$out"
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --url "https://10.1.2.3/h" 2>&1) && rc=0 || rc=$?
contains "RFC 1918 refused" "internal address" "$out"
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --url "https://[::1]/h" 2>&1) && rc=0 || rc=$?
contains "::1 refused" "internal address" "$out"
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --url "https://x.example/h" --kind email 2>&1) && rc=0 || rc=$?
contains "email without a relay: FAILED_PRECONDITION" "FAILED_PRECONDITION" "$out"
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --url "https://x.example/h" --type session.nope 2>&1) && rc=0 || rc=$?
contains "an unknown event type refused" "unknown event type" "$out"
stop_pid "$SERVER_PID" TERM
out=$("$SERVER_BIN" --notify-workers 0 --data "$T/d2" 2>&1) && rc=0 || rc=$?
eq "--notify-workers 0: exit 2" 2 "$rc"
contains "... naming the flag" "--notify-workers" "$out"
out=$("$SERVER_BIN" --notify-timeout-ms 10 --data "$T/d2" 2>&1) && rc=0 || rc=$?
eq "--notify-timeout-ms 10: exit 2" 2 "$rc"
contains "--help documents the schedule" "5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h and 24h" "$("$SERVER_BIN" --help)"

# ---- the server under test ----
STORE=()
if [ "${NOTIFY_PG:-}" = 1 ]; then
  pg_cluster
  STORE=(--store "host=$PGD user=postgres dbname=paywire")
fi
start_server "$T/data" "${STORE[@]}" --notify-allow-http --notify-allow-private --notify-timeout-ms 1500
key=$(new_merchant test)
export PAYWIRE_API_KEY=$key
out=$("$CLI" --json notify endpoint create --url "http://127.0.0.1:$P1/hook" --type session.canceled \
  --type endpoint.disabled --description "r1")
EP1=$(echo "$out" | json endpoint_id)
S1=$(echo "$out" | json secret)
contains "endpoint id" "ep_" "$EP1"
contains "secret shown once" "whsec_" "$S1"
echo "$S1" >"$T/r1.secrets"
out=$("$CLI" --json notify endpoint create --url "http://127.0.0.1:$P2/hook" --type endpoint.disabled)
EP2=$(echo "$out" | json endpoint_id)
echo "$out" | json secret >"$T/r2.secrets"
out=$("$CLI" --json notify endpoint list)
case "$out" in *whsec_*) fail "a listing shows a secret" ;; *) ok "the listing shows no secret" ;; esac
grep -q "$(echo "$S1" | cut -c7-)" "$T/server.log" && fail "the secret is in the server log" || ok "the secret is not in the log"

# A session canceled: one session.canceled event, made by the CLI (31 times
# times here; the 1,000-change load below uses tests/notify_load.c). The id
# is read from the text output (no python), and the CLI's own leak check at
# exit (LSan's scan, about 40% of a run's CPU in this build) is off for these
# two runs. The server under test keeps its leak check; the CLI's create and
# cancel keep theirs in lifecycle_test.sh and events_test.sh.
new_change() {
  local sid
  sid=$(ASAN_OPTIONS=detect_leaks=0 "$CLI" session create --amount-minor 500 --currency EUR |
    awk '$1 == "id:" { print $2; exit }')
  [ -n "$sid" ] || fail "session create printed no id"
  ASAN_OPTIONS=detect_leaks=0 "$CLI" session cancel "$sid" >/dev/null
}
outbox_n() { "$CLI" --json notify list "$@" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))'; }
outbox_is() { # outbox_is N [notify list flags]: now N messages (a condition for wait_until)
  local n=$1; shift
  [ "$(outbox_n "$@")" = "$n" ]
}
delivered() { # delivered LOG ID: the receiver answered 200 to ID
  $PY - "$1" "$2" <<'PY'
import json, sys
ok = any(json.loads(l)["id"] == sys.argv[2] and json.loads(l)["answered"] == 200 for l in open(sys.argv[1]))
sys.exit(0 if ok else 1)
PY
}
attempts_are() { # attempts_are N: the one outbox message has N attempts
  [ "$("$CLI" --json notify list | $PY -c 'import json,sys; m=json.load(sys.stdin)["messages"]; print(m[0]["attempts"] if m else -1)')" = "$1" ]
}

# ---- the schedule: 500, 500, 500, no answer, 200 ----
mode r1 '{"mode":"plan","fail":3,"hang":1}'
new_change
wait_until attempts_are 1 || fail "first attempt not recorded"
MSG=$("$CLI" --json notify list | json messages.0.msg_id)
# the schedule's first waits (ms): 5 s, 5 min, 30 min, 2 h
SCHED=(5000 300000 1800000 7200000)
for i in 0 1 2 3; do
  next=$("$CLI" --json notify list | json messages.0.next_attempt_at_unix_ms)
  wait_ms=$((next - NOW))
  lo=$((SCHED[i] * 9 / 10)); hi=$((SCHED[i] * 11 / 10))
  if [ "$wait_ms" -ge "$lo" ] && [ "$wait_ms" -le "$hi" ]; then ok "attempt $((i + 1)) failed: the next one $wait_ms ms later (schedule ${SCHED[i]} +-10%)"
  else fail "attempt $((i + 1)): next after $wait_ms ms, schedule ${SCHED[i]} +-10%"; fi
  set_clock "$next"
  if [ "$i" -lt 3 ]; then
    wait_until attempts_are $((i + 2)) || fail "attempt $((i + 2)) not made"
  fi
done
wait_until delivered "$T/r1.log" "$MSG" && ok "delivered on the 5th attempt" || fail "not delivered"
wait_until outbox_is 0 && ok "the outbox is empty after the 2xx" || fail "still in the outbox"
$PY - "$T/r1.log" "$MSG" "$T0" <<'PY' && ok "5 attempts, same webhook-id, each verified by standardwebhooks, timestamps in the injected clock" || fail "the receiver's view of the attempts"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["id"] == sys.argv[2]]
assert [r["answered"] for r in rows] == [500, 500, 500, 0, 200], rows
assert all(r["verified"] == [True] for r in rows), rows
assert rows[0]["ts"] == int(sys.argv[3]) // 1000, rows[0]
assert all(rows[i + 1]["ts"] > rows[i]["ts"] for i in range(4)), rows
PY
mode r1 '{"mode":"ok"}'

# ---- rotation: both signatures during the grace ----
out=$("$CLI" --json notify endpoint rotate "$EP1" --grace-ms 60000)
S1B=$(echo "$out" | json secret)
[ "$S1B" != "$S1" ] && ok "rotate: a new secret" || fail "rotate: same secret"
printf '%s\n%s\n' "$S1B" "$S1" >"$T/r1.secrets"
: >"$T/r1.log"
new_change
wait_until test -s "$T/r1.log" || fail "no delivery after the rotation"
wait_until outbox_is 0 || fail "outbox not empty after the rotation"
$PY - "$T/r1.log" <<'PY' && ok "during the grace: two v1 signatures, the new and the old secret each verified by the library" || fail "grace signatures"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["verified"] == [True, True] and len(r["sig"].split(" ")) == 2 for r in rows), rows
PY
set_clock $((NOW + 60001))
: >"$T/r1.log"
new_change
wait_until test -s "$T/r1.log" || fail "no delivery after the grace"
wait_until outbox_is 0 || fail "outbox not empty after the grace"
$PY - "$T/r1.log" <<'PY' && ok "after the grace: the new secret only" || fail "after grace signatures"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all(r["verified"] == [True, False] and len(r["sig"].split(" ")) == 1 for r in rows), rows
PY
echo "$S1B" >"$T/r1.secrets"

# ---- a slow endpoint: at most 2 deliveries at once to it, the others go on ----
"$CLI" notify endpoint update "$EP2" --type endpoint.disabled --type session.canceled >/dev/null
mode r1 '{"mode":"hang"}'
: >"$T/r1.log"; : >"$T/r2.log"
for i in 1 2 3 4 5 6; do new_change; done
r2_got() { [ "$($PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["answered"] == 200))' "$T/r2.log")" = 6 ]; }
wait_until r2_got && ok "the other endpoint got its 6 messages while this one hangs" || fail "r2 held up by r1"
r1_seen() { [ "$(wc -l <"$T/r1.log")" -ge 6 ]; }
wait_until r1_seen || fail "r1 did not see its 6 first attempts"
$PY - "$T/r1.log" <<'PY' && ok "the hanging endpoint never had more than 2 deliveries at once" || fail "per-endpoint limit"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("# r1: %d attempts, at most %d at once" % (len(rows), max(r["inflight"] for r in rows)))
assert max(r["inflight"] for r in rows) <= 2, rows
PY
mode r1 '{"mode":"ok"}'
"$CLI" notify endpoint update "$EP2" --type endpoint.disabled >/dev/null
set_clock $((NOW + STEP)) # past the first retry (5 s) of each
wait_until outbox_is 0 || fail "the slow endpoint's messages not delivered after it recovered"

# ---- 410 Gone disables; the other endpoint is told; retry; replay ----
mode r1 '{"mode":"gone"}'
: >"$T/r1.log"
new_change
wait_until outbox_is 1 --dead --endpoint "$EP1" && ok "410: a dead letter" || fail "410: no dead letter"
out=$("$CLI" --json notify endpoint list)
eq "410: the endpoint is disabled" false "$(echo "$out" | $PY -c 'import json,sys; print(str([e for e in json.load(sys.stdin)["endpoints"] if e["endpoint_id"] == sys.argv[1]][0]["enabled"]).lower())' "$EP1")"
contains "410: the reason" "410" "$out"
wait_until $PY -c 'import json,sys; sys.exit(0 if any(json.loads(l)["type"]=="endpoint.disabled" and json.loads(l)["answered"]==200 for l in open(sys.argv[1])) else 1)' "$T/r2.log" \
  && ok "the merchant's other endpoint is told endpoint.disabled" || fail "no endpoint.disabled on r2"
DEAD=$("$CLI" --json notify list --dead --endpoint "$EP1" | json messages.0.msg_id)
out=$("$CLI" --retries 0 notify retry "$DEAD" 2>&1) && rc=0 || rc=$?
contains "retry refused while the endpoint is disabled" "enable it first" "$out"
mode r1 '{"mode":"ok"}'
"$CLI" notify endpoint update "$EP1" --enable >/dev/null
"$CLI" notify retry "$DEAD" >/dev/null
wait_until delivered "$T/r1.log" "$DEAD" && ok "the dead letter retried and delivered" || fail "retry not delivered"
: >"$T/r1.log"
out=$("$CLI" --json notify replay --since "$T0" --endpoint "$EP1")
n=$(echo "$out" | json enqueued)
[ "$n" -ge 4 ] && ok "replay enqueued $n events" || fail "replay enqueued $n"
wait_until outbox_is 0 || fail "replay not delivered"
$PY - "$T/r1.log" "$MSG" <<'PY' && ok "replay: the first message came again with its first webhook-id" || fail "replay ids"
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
assert sys.argv[2] in ids, ids
PY

# ---- the schedule used up: a dead letter after the 10th attempt ----
mode r1 '{"mode":"down"}'
new_change
wait_until attempts_are 1 || fail "exhaust: first attempt not recorded"
EX=$("$CLI" --json notify list | json messages.0.msg_id)
for i in 2 3 4 5 6 7 8 9 10; do
  set_clock "$("$CLI" --json notify list | json messages.0.next_attempt_at_unix_ms)"
  if [ "$i" -lt 10 ]; then wait_until attempts_are "$i" || fail "exhaust: attempt $i not made"; fi
done
wait_until outbox_is 0 && ok "after 10 failed attempts (~3 days of clock) the message left the outbox" || fail "exhaust: still in the outbox"
"$CLI" --json notify list --dead --endpoint "$EP1" >"$T/dead.json"
$PY - "$EX" "$T/dead.json" <<'PY' && ok "... and is a dead letter with 10 attempts and its last status" || fail "exhaust: dead letter"
import json, sys
m = [m for m in json.load(open(sys.argv[2]))["messages"] if m["msg_id"] == sys.argv[1]]
assert m and m[0]["attempts"] == 10 and m[0]["last_status"] == 503 and m[0]["dead"], m
PY
mode r1 '{"mode":"ok"}'
"$CLI" notify retry "$EX" >/dev/null
wait_until delivered "$T/r1.log" "$EX" && ok "the exhausted message retried and delivered" || fail "exhausted retry not delivered"

# ---- kill -9 with messages in the outbox ----
mode r1 '{"mode":"down"}'
: >"$T/r1.log"
for i in $(seq 1 20); do new_change; done
wait_until outbox_is 20 --endpoint "$EP1" || fail "20 messages not in the outbox"
ids_before=$("$CLI" --json notify list --endpoint "$EP1" | $PY -c 'import json,sys; print(" ".join(sorted(m["msg_id"] for m in json.load(sys.stdin)["messages"])))')
stop_pid "$SERVER_PID" KILL
mode r1 '{"mode":"ok"}'
start_server "$T/data" "${STORE[@]}" --notify-allow-http --notify-allow-private --notify-timeout-ms 1500
set_clock $((NOW + STEP)) # past every first retry (5 s)
wait_until outbox_is 0 --endpoint "$EP1" || fail "the outbox did not drain after the restart"
$PY - "$T/r1.log" "$ids_before" <<'PY' && ok "kill -9: after the restart all 20 messages were delivered" || fail "kill -9: messages lost"
import json, sys
got = {json.loads(l)["id"] for l in open(sys.argv[1]) if json.loads(l)["answered"] == 200}
want = set(sys.argv[2].split())
assert len(want) == 20 and want <= got, (len(want), len(want - got))
PY

# ---- 1,000 changes, the receiver down for the first half ----
stop_pid "$r1_PID" KILL
: >"$T/r1.log"
"$CLI" notify endpoint update "$EP1" --type session.canceled >/dev/null
N=${NOTIFY_N:-1000}
LOAD=$PW_BIN_DIR/tests/notify_load # one process makes the changes (tests/notify_load.c)
"$LOAD" --server "$SERVER_URL" --count $((N / 2)) || fail "the load's first half"
start_receiver r1 "$P1"
"$LOAD" --server "$SERVER_URL" --count $((N - N / 2)) || fail "the load's second half"
# Move the clock along the schedule until the outbox drains (the first half
# is due 5 s after its failed first attempt, a second failure 5 min after
# that), STEP at a time: see STEP below.
for step in $(seq 1 12); do
  set_clock $((NOW + STEP))
  wait_until outbox_is 0 --endpoint "$EP1" && break
done
$PY - "$T/r1.log" "$N" <<'PY' && ok "$N changes: every message delivered" || fail "$N changes: not all delivered"
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = collections.Counter(r["id"] for r in rows if r["answered"] == 200)
dup = {i: c for i, c in ok.items() if c > 1}
print("# delivered %d distinct ids, %d duplicates by id%s" % (len(ok), sum(c - 1 for c in dup.values()),
      (": " + ", ".join("%s x%d" % kv for kv in dup.items())) if dup else ""))
assert all(r["verified"] == [True] for r in rows)
assert len(ok) == int(sys.argv[2]), len(ok)
PY
finish
