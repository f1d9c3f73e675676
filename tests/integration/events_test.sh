#!/usr/bin/env bash
# events_test.sh - the change feed (issue 9): every committed change is an
# event with a seq; `paywire events tail` follows it from a cursor, and a
# consumer that stops and resumes from the last seq it printed gets every
# event exactly once, in order; the server's --publish socket sends each
# event after its commit (checked with Debian's nngcat as the subscriber);
# another merchant's feed holds none of them. Every wait is bounded.
. "$(dirname "$0")/lib.sh"
data=$T/data
feed=ipc://$T/feed.sock
start_server "$data" --publish "$feed"
key=$(new_merchant test)
other=$(new_merchant test)

mk() { "$CLI" --json session create --api-key "$key" --amount-minor "$1" --currency EUR | json id; }
s1=$(mk 100); s2=$(mk 200); s3=$(mk 300)

# Read 3 events, stop; resume from the last seq printed.
"$CLI" --json events tail --after 0 --count 3 --api-key "$key" >"$T/part1" 2>&1 && rc=0 || rc=$?
eq "events tail --count 3 ends by itself" 0 "$rc"
eq "… with 3 events" 3 "$(wc -l <"$T/part1")"
last=$(tail -1 "$T/part1" | json seq)
"$CLI" session cancel "$s2" --api-key "$key" >/dev/null
s4=$(mk 400)
"$CLI" --json events tail --after "$last" --count 3 --api-key "$key" >"$T/part2" 2>&1 && rc=0 || rc=$?
eq "resumed tail ends by itself" 0 "$rc"
# The whole feed at once, for comparison.
"$CLI" --json events tail --after 0 --count 6 --api-key "$key" >"$T/all" 2>&1 || true
cat "$T/part1" "$T/part2" >"$T/joined"
if cmp -s "$T/joined" "$T/all"; then ok "stop and resume: every event exactly once, in order"; else
  fail "stop and resume differs from the whole feed"; diff "$T/joined" "$T/all" | head; fi
types=$($PY -c 'import json,sys; print(" ".join(json.loads(l)["type"] for l in open(sys.argv[1])))' "$T/all")
eq "the feed: merchant, three sessions, a cancel, a session" \
  "merchant.created session.created session.created session.created session.canceled session.created" "$types"
seqs_ok=$($PY -c 'import json,sys; s=[json.loads(l)["seq"] for l in open(sys.argv[1])]; print(all(a<b for a,b in zip(s,s[1:])))' "$T/all")
eq "seqs strictly increase" True "$seqs_ok"
eq "the cancel names its session" "$s2" "$($PY -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][4]["session_id"])' "$T/all")"

# Another merchant's feed: its own merchant.created only.
"$CLI" --json events tail --after 0 --count 1 --api-key "$other" >"$T/other" 2>&1 || true
eq "another merchant sees its own events only" merchant.created "$(head -1 "$T/other" | json type)"
if grep -q "$s1" "$T/other"; then fail "another merchant saw this merchant's session"; else ok "… none of this merchant's"; fi

# The --publish socket: a subscriber gets the next event after its commit.
nngcat --sub --dial "$feed" --subscribe "" --count 1 --recv-timeout 60 --quoted >"$T/pub" 2>&1 &
sub=$!; PIDS+=("$sub")
# nngcat subscribes asynchronously: keep committing until it has one (bounded).
for _ in $(seq 1 600); do
  kill -0 "$sub" 2>/dev/null || break
  mk 500 >/dev/null
  sleep 0.1
done
wait "$sub" 2>/dev/null || true
contains "--publish: the subscriber received a committed event" "session.created" "$(cat "$T/pub")"
mid=$("$CLI" --json session get "$s1" --api-key "$key" | json merchant_id)
contains "… prefixed with its merchant id (SUB filters on it)" "$mid" "$(cat "$T/pub")"

# events tail --subscribe: woken by the PUB socket, it prints the next event.
"$CLI" --json events tail --after 0 --once --api-key "$key" >"$T/now" 2>&1 && rc=0 || rc=$?
eq "events tail --once prints what is there and stops" 0 "$rc"
eq "… starting with the same six events" "$(cat "$T/all")" "$(head -6 "$T/now")"
head_seq=$(tail -1 "$T/now" | json seq)
"$CLI" --json events tail --after "$head_seq" --count 1 --subscribe "$feed" --api-key "$key" >"$T/woken" 2>&1 &
tp=$!; PIDS+=("$tp")
s6=$(mk 600)
wait_until bash -c "! kill -0 $tp 2>/dev/null" || true
eq "events tail --subscribe prints the next event" "$s6" "$(head -1 "$T/woken" | json session_id)"

bad=$("$CLI" events tail --count 0 --api-key "$key" 2>&1) && rc=0 || rc=$?
eq "events tail --count 0 is a usage error (exit 2)" 2 "$rc"
out=$("$SERVER_BIN" --data "$T/d2" --publish http://x 2>&1) && rc=0 || rc=$?
contains "--publish with a bad URL is refused" "--publish takes tcp://" "$out"
finish
