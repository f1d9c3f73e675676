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
: "${PG_LOAD_N:=25}"

pg_cluster
URL="postgresql:///paywire?host=$PGD&user=postgres"

data=$T/data
start_server "$data" --store "$URL"; A_URL=$SERVER_URL; A_PID=$SERVER_PID
start_server "$data" --store "$URL"; B_URL=$SERVER_URL; B_PID=$SERVER_PID
start_bridge
export PAYWIRE_API_KEY; PAYWIRE_API_KEY=$(new_merchant)
ok "two servers on one database, a bridge on the second"

# ---- 1. kill -9 one server under load ----
start_load "$A_URL" "$T/a1"; LA=$LOAD_PID
start_load "$B_URL" "$T/b1"; LB=$LOAD_PID
check "both servers answer under load" wait_until at_least "$T/a1" "$PG_LOAD_N"
wait_until at_least "$T/b1" "$PG_LOAD_N" || true
kill -KILL "$A_PID"; wait "$A_PID" 2>/dev/null || true
b_at_kill=$(count "$T/b1")
check "the other server goes on after kill -9 of one" wait_until at_least "$T/b1" $((b_at_kill + PG_LOAD_N))
stop_load "$T/a1" "$LA"; stop_load "$T/b1" "$LB"
acked=$(( $(count "$T/a1") + $(count "$T/b1") ))
eq "every session acknowledged by either server is in the database ($acked)" 0 "$(missing_on "$B_URL" "$T/a1" "$T/b1")"

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
start_load "$B_URL" "$T/b3"; LB=$LOAD_PID
wait_until at_least "$T/b3" "$PG_LOAD_N" || true
bash "$PW_SOURCE_DIR/tests/pg/cluster.sh" restart "$PGD"
b_at_restart=$(count "$T/b3")
check "the load goes on answering OK after the database restarted" wait_until at_least "$T/b3" $((b_at_restart + PG_LOAD_N))
stop_load "$T/b3" "$LB"
unavail=$(grep -c UNAVAILABLE "$T/b3.err" 2>/dev/null || true)
others=$(grep '^error:' "$T/b3.err" 2>/dev/null | grep -vc UNAVAILABLE || true)
eq "during the restart, every error was UNAVAILABLE ($unavail of them)" 0 "$others"
eq "every session acknowledged across the restart is there ($(count "$T/b3"))" 0 "$(missing_on "$B_URL" "$T/b3")"
check "the server never restarted" kill -0 "$B_PID"
echo "pg_faults: kill -9 under load: $acked acknowledged, all there | restart -m immediate: $(count "$T/b3") acknowledged, $unavail UNAVAILABLE, all there"
finish
