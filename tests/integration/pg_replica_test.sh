#!/usr/bin/env bash
# pg_replica_test.sh - paywire survives the loss of its database machine
# (issue 8): a PostgreSQL 15 primary and a synchronous standby, both started
# here (tests/pg/cluster.sh, pg_basebackup -R, synchronous_standby_names),
# each on its own Unix socket directory. Two paywire-servers connect with a
# multi-host connection string and target_session_attrs=read-write. Under
# load (a CLI loop per server, no retries, every id answered OK recorded):
#  1. the primary's processes are killed with SIGKILL (the machine is gone);
#  2. the standby is promoted;
#  3. both servers, never restarted, answer OK again on the new primary;
#  4. every session acknowledged before the kill (and after) is on it.
# Nothing is timed; every wait is for a count of answers, bounded by HANG_S.
. "$(dirname "$0")/lib.sh"
: "${PG_LOAD_N:=25}"

# The primary, then the standby from its base backup.
pg_cluster; P=$PGD
pg_dir; S=$PGD
[ "$(id -u)" = 0 ] && chown postgres: "$S" && chmod 0700 "$S"
as_pg "$PGBIN/pg_basebackup" -h "$P" -U postgres -D "$S/data" -R -X stream -c fast >/dev/null
cat >>"$S/data/postgresql.conf" <<CONF
unix_socket_directories = '$S'
CONF
cat >>"$S/data/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$P user=postgres application_name=standby1'
CONF
as_pg "$PGBIN/pg_ctl" -D "$S/data" -l "$S/server.log" -w -t 120 start >/dev/null
psql -qX "host=$P user=postgres dbname=postgres" \
  -c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" -c "SELECT pg_reload_conf()" >/dev/null
standby_sync() {
  [ "$(psql -qtAX "host=$P user=postgres dbname=postgres" \
    -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ]
}
check "a primary and a synchronous standby" wait_until standby_sync

URL="host=$P,$S user=postgres dbname=paywire target_session_attrs=read-write connect_timeout=5"
data=$T/data
start_server "$data" --store "$URL"; A_URL=$SERVER_URL; A_PID=$SERVER_PID
start_server "$data" --store "$URL"; B_URL=$SERVER_URL; B_PID=$SERVER_PID
export PAYWIRE_API_KEY; PAYWIRE_API_KEY=$(new_merchant)
ok "two servers on a multi-host connection string"

start_load "$A_URL" "$T/a"; LA=$LOAD_PID
start_load "$B_URL" "$T/b"; LB=$LOAD_PID
check "both servers answer on the primary" wait_until at_least "$T/a" "$PG_LOAD_N"
wait_until at_least "$T/b" "$PG_LOAD_N" || true

# The machine is gone: every process of the primary, SIGKILL at once.
pm=$(head -1 "$P/data/postmaster.pid")
kill -KILL "$pm" $(pgrep -P "$pm") 2>/dev/null || true
# What was acknowledged before the kill (a request answered after this
# point may still have committed before it: it is checked too, below).
cp "$T/a" "$T/a.before"; cp "$T/b" "$T/b.before"
a_kill=$(count "$T/a.before"); b_kill=$(count "$T/b.before")
as_pg "$PGBIN/pg_ctl" -D "$S/data" -w -t 120 promote >/dev/null
ok "primary killed (SIGKILL), standby promoted"

check "server 1 answers OK again on the promoted standby (no restart)" \
  wait_until at_least "$T/a" $((a_kill + PG_LOAD_N))
check "server 2 answers OK again on the promoted standby (no restart)" \
  wait_until at_least "$T/b" $((b_kill + PG_LOAD_N))
stop_load "$T/a" "$LA"; stop_load "$T/b" "$LB"
check "neither server restarted" kill -0 "$A_PID" "$B_PID"

missing_before=0
for id in $(cat "$T/a.before" "$T/b.before"); do
  n=$(psql -qtAX "host=$S user=postgres dbname=paywire" -c \
    "SELECT count(*) FROM paywire.sessions WHERE k = convert_to('$id', 'UTF8')")
  [ "$n" = 1 ] || missing_before=$((missing_before + 1))
done
eq "every session acknowledged before the kill ($((a_kill + b_kill))) is on the promoted standby" 0 "$missing_before"
eq "every session acknowledged at all ($(( $(count "$T/a") + $(count "$T/b") ))) answers GetStatus" 0 \
  "$(missing_on "$B_URL" "$T/a" "$T/b")"
others=$(cat "$T/a.err" "$T/b.err" 2>/dev/null | grep '^error:' | grep -vc UNAVAILABLE || true)
unavail=$(cat "$T/a.err" "$T/b.err" 2>/dev/null | grep -c UNAVAILABLE || true)
eq "during the failover every error was UNAVAILABLE ($unavail of them)" 0 "$others"
audit=$("$CLI" --server "$A_URL" --json audit verify)
eq "the audit chain verifies on the promoted standby" true "$(echo "$audit" | json ok)"
echo "pg_replica: acknowledged before the kill $((a_kill + b_kill)), all on the promoted standby; after: $(( $(count "$T/a") + $(count "$T/b") - a_kill - b_kill )); UNAVAILABLE during the failover: $unavail"
finish
