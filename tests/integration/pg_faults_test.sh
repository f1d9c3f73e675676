#!/usr/bin/env bash
# pg_faults_test.sh - faults under load with two paywire-servers on one
# PostgreSQL database (issue 8), on a private cluster this test starts
# (tests/pg/cluster.sh). A load loop per server creates sessions through the
# CLI (no retries) and records every id answered OK; nothing is timed, every
# wait is for a count of answers, bounded by HANG_S (lib.sh).
#  1. kill -9 one server in the middle of its load: the other goes on
#     answering OK; afterwards every id either server acknowledged is there.
#  2. the database stops (pg_ctl stop -m immediate, a crash): GetStatus and
#     CreateSession answer UNAVAILABLE at once (CLI) and 503 (bridge), never
#     another error; it starts again: the same server (same PID) answers OK
#     again without a restart.
#  3. pg_ctl restart -m immediate during the load: the loop only ever sees OK
#     or UNAVAILABLE, goes on answering OK after it, and every acknowledged id
#     is there.
. "$(dirname "$0")/lib.sh"
CLUSTER=$PW_SOURCE_DIR/tests/pg/cluster.sh
PGBIN=${PW_PG_BIN:-/usr/lib/postgresql/15/bin}
: "${PG_LOAD_N:=25}"

PGD=$(mktemp -d /tmp/pw-pgf.XXXXXX)
pg_cleanup() { touch "$T/stop" 2>/dev/null || true; bash "$CLUSTER" stop "$PGD" >/dev/null 2>&1 || true; cleanup; }
trap pg_cleanup EXIT
bash "$CLUSTER" start "$PGD" >/dev/null
psql -qX "host=$PGD user=postgres dbname=postgres" -c "CREATE DATABASE paywire" >/dev/null
URL="postgresql:///paywire?host=$PGD&user=postgres"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

data=$T/data
start_server "$data" --store "$URL"; A_URL=$SERVER_URL; A_PID=$SERVER_PID
start_server "$data" --store "$URL"; B_URL=$SERVER_URL; B_PID=$SERVER_PID
start_bridge
export PAYWIRE_API_KEY; PAYWIRE_API_KEY=$(new_merchant)
ok "two servers on one database, a bridge on the second"

# load_loop SERVER OUT STOPFILE: sessions until STOPFILE exists; ids answered
# OK to OUT, error lines to OUT.err.
load_loop() {
  local out
  while [ ! -e "$3" ]; do
    if out=$("$CLI" --server "$1" --timeout-ms 10000 --retries 0 --json session create \
      --amount 1.00 --currency EUR 2>>"$2.err"); then
      echo "$out" | json id >>"$2"
    fi
  done
}
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
at_least() { [ "$(count "$1")" -ge "$2" ]; }
# every id in the files answers GetStatus OK on SERVER
all_there() {
  local srv=$1; shift
  local id missing=0
  for id in $(cat "$@"); do
    "$CLI" --server "$srv" --retries 0 status "$id" >/dev/null 2>&1 || missing=$((missing + 1))
  done
  echo "$missing"
}

# ---- 1. kill -9 one server under load ----
rm -f "$T/stop1"
load_loop "$A_URL" "$T/a1" "$T/stop1" & LA=$!
load_loop "$B_URL" "$T/b1" "$T/stop1" & LB=$!
check "both servers answer under load" wait_until at_least "$T/a1" "$PG_LOAD_N"
wait_until at_least "$T/b1" "$PG_LOAD_N" || true
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null || true
b_at_kill=$(count "$T/b1")
check "the other server goes on after kill -9 of one" wait_until at_least "$T/b1" $((b_at_kill + PG_LOAD_N))
touch "$T/stop1"; wait "$LA" "$LB" 2>/dev/null || true
acked=$(( $(count "$T/a1") + $(count "$T/b1") ))
eq "every session acknowledged by either server is in the database ($acked)" 0 "$(all_there "$B_URL" "$T/a1" "$T/b1")"

# ---- 2. the database down, then up: UNAVAILABLE at once, recovery without restart ----
sid=$(head -1 "$T/b1")
as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate -w stop >/dev/null
out=$("$CLI" --server "$B_URL" --retries 0 status "$sid" 2>&1 || true)
contains "GetStatus with the database down: UNAVAILABLE" "UNAVAILABLE" "$out"
out=$("$CLI" --server "$B_URL" --retries 0 session create --amount 1.00 --currency EUR 2>&1 || true)
contains "CreateSession with the database down: UNAVAILABLE" "UNAVAILABLE" "$out"
code=$(curl -sS -o /dev/null -m "$HANG_S" -w '%{http_code}' "$BRIDGE/session/$sid/status" || true)
eq "the bridge answers 503 with the database down" 503 "$code"
as_pg "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/server.log" -w -t 120 start >/dev/null
status_ok() { "$CLI" --server "$B_URL" --retries 0 status "$sid" >/dev/null 2>&1; }
check "the same server answers again once the database is back (no restart)" wait_until status_ok
check "  and it is the same process" kill -0 "$B_PID"
out=$("$CLI" --server "$B_URL" --retries 0 --json session create --amount 2.00 --currency EUR | json status)
eq "CreateSession works again" created "$out"

# ---- 3. pg_ctl restart -m immediate during the load ----
rm -f "$T/stop3"
load_loop "$B_URL" "$T/b3" "$T/stop3" & LB=$!
wait_until at_least "$T/b3" "$PG_LOAD_N" || true
bash "$CLUSTER" restart "$PGD"
b_at_restart=$(count "$T/b3")
check "the load goes on answering OK after the database restarted" wait_until at_least "$T/b3" $((b_at_restart + PG_LOAD_N))
touch "$T/stop3"; wait "$LB" 2>/dev/null || true
unavail=$(grep -c UNAVAILABLE "$T/b3.err" 2>/dev/null || true)
others=$(grep '^error:' "$T/b3.err" 2>/dev/null | grep -vc UNAVAILABLE || true)
eq "during the restart, every error was UNAVAILABLE ($unavail of them)" 0 "$others"
eq "every session acknowledged across the restart is there ($(count "$T/b3"))" 0 "$(all_there "$B_URL" "$T/b3")"
check "the server never restarted" kill -0 "$B_PID"
echo "pg_faults: kill -9 under load: $acked acknowledged, all there | restart -m immediate: $(count "$T/b3") acknowledged, $unavail UNAVAILABLE, all there"
finish
