#!/usr/bin/env bash
# race_test.sh - concurrency (issue 7), against real paywire-server and
# paywire-bridge processes on loopback:
#  1. storm: for each of RACE_PAYMENTS payments, RACE_COPIES identical signed
#     Stripe deliveries posted to the bridge at once (all 2xx, exactly one
#     APPLIED); mixed: RACE_THREADS threads of create_session / get_status /
#     ingest through libpaywire and the bridge, RACE_ROUNDS rounds each; the
#     bridge and the server then stop cleanly (exit 0; under ThreadSanitizer
#     a report makes the exit code 66);
#  2. the server restarted on the same data with its writer slowed
#     (--test-writer-delay-ms): RACE_RESEND payments whose create_session and
#     ingest_webhook are each re-sent raw, RACE_RESEND_COPIES copies under one
#     SP request id on one IPC connection, as nng's REQ re-sends them;
#  3. race_check counts, in the stopped store, one invoice, one entitlement,
#     one event, one session.paid audit record and one access link per paid
#     session, no extra session, and an unbroken audit chain.
# Defaults are the CI slice (20 x 64). scripts/reliability/race.sh runs it on
# the ThreadSanitizer tree, and with --full (200 x 64). RACE_PG=1 runs it all
# on the PostgreSQL engine (a private cluster; the server gets --store and
# race_check reads the database). Nothing is timed.
. "$(dirname "$0")/lib.sh"
: "${RACE_PAYMENTS:=20}" "${RACE_COPIES:=64}" "${RACE_RESEND:=4}" "${RACE_RESEND_COPIES:=8}"
: "${RACE_THREADS:=8}" "${RACE_ROUNDS:=5}" "${RACE_WRITER_DELAY_MS:=20}"
STORM=$PW_BIN_DIR/tests/race_storm
CHECK=$PW_BIN_DIR/tests/race_check
FIX=$PW_FIXTURES_DIR/stripe.checkout.session.completed.json
[ -x "$STORM" ] || { echo "not ok - $STORM not built (libcurl4-openssl-dev missing?)"; exit 1; }

# A ThreadSanitizer report must fail the run, never scroll by: each process
# writes its reports to its own log (log_path) and exits 66 at the end.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 log_path=$T/tsan suppressions=$PW_SOURCE_DIR/tests/tsan.supp ${TSAN_OPTIONS:-}"

data=$T/data
ipc=ipc://$T/srv.ipc
STORE=()
if [ "${RACE_PG:-}" = 1 ]; then
  pg_cluster
  STORE=(--store "host=$PGD user=postgres dbname=paywire")
fi
# Phase 1: the storm and the mixed load, at full speed.
start_server "$data" "${STORE[@]}"
start_bridge --threads 8 --ip-rate-public 0 --ip-rate-webhooks 0 # the storm is one address

out=$("$STORM" storm --server "$SERVER_URL" --bridge "$BRIDGE" --fixture "$FIX" \
  --sessions "$T/sessions" --payments "$RACE_PAYMENTS" --copies "$RACE_COPIES" --resend 0 \
  2>"$T/storm.err") && rc=0 || rc=$?
cat "$T/storm.err" >&2
echo "$out"
eq "storm: every delivery 2xx, exactly one applied and the rest duplicate per payment, all paid, invoices 1..n" 0 "$rc"
STORM_LINE=$out

out=$("$STORM" mixed --server "$SERVER_URL" --bridge "$BRIDGE" --fixture "$FIX" \
  --sessions "$T/sessions" --threads "$RACE_THREADS" --rounds "$RACE_ROUNDS" 2>"$T/mixed.err") && rc=0 || rc=$?
cat "$T/mixed.err" >&2
echo "$out"
eq "mixed: $RACE_THREADS threads through libpaywire and the bridge, every answer as expected" 0 "$rc"
MIXED_LINE=$out

stop_pid "$BRIDGE_PID" TERM
eq "bridge stops cleanly (exit 0, no ThreadSanitizer report)" 0 "$RC"
stop_pid "$SERVER_PID" TERM
eq "server stops cleanly (exit 0, no ThreadSanitizer report)" 0 "$RC"

# Phase 2: the same data, the writer slowed down, so that the re-sent copies
# of a request reach the server while the first one still waits for the
# writer (more likely, never required: the checks hold either way).
start_server "$data" --listen "$ipc" --test-writer-delay-ms "$RACE_WRITER_DELAY_MS" "${STORE[@]}"
out=$("$STORM" storm --server "$SERVER_URL" --ipc "$ipc" --bridge none --fixture "$FIX" \
  --sessions "$T/sessions" --payments 0 --resend "$RACE_RESEND" \
  --resend-copies "$RACE_RESEND_COPIES" 2>"$T/resend.err") && rc=0 || rc=$?
cat "$T/resend.err" >&2
echo "$out"
eq "REQ re-sends: every copy answered OK with the same bytes, one session, delivery applied" 0 "$rc"
RESEND_LINE=$out
stop_pid "$SERVER_PID" TERM
eq "server stops cleanly after the re-sends" 0 "$RC"

reports=$(cat "$T"/tsan.* 2>/dev/null | grep -c 'WARNING: ThreadSanitizer' || true)
eq "no ThreadSanitizer report from the server, the bridge or the load" 0 "$reports"
[ "$reports" = 0 ] || cat "$T"/tsan.* >&2

# Every phase listed the sessions it paid (appending): race_check wants
# every session of the store accounted for.
out=$("$CHECK" "$data" "$T/sessions" "${STORE[@]:1}" 2>"$T/check.err") && rc=0 || rc=$?
cat "$T/check.err" >&2
echo "$out"
eq "store: one invoice, entitlement, event, paid audit record, access link per session" 0 "$rc"
echo "race: ${STORM_LINE} | ${RESEND_LINE} | ${MIXED_LINE} | ${out}"
finish
