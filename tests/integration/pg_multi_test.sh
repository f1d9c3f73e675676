#!/usr/bin/env bash
# pg_multi_test.sh - several paywire-servers on one PostgreSQL database
# (issue 8), against a private PostgreSQL 15 cluster this test starts itself
# (tests/pg/cluster.sh: initdb + pg_ctl on a temp dir, Unix socket only):
#  1. three servers share the database and one key file, one bridge each;
#  2. storm: PG_PAYMENTS payments, each delivered PG_COPIES times at once,
#     the copies spread over the three bridges: every delivery 2xx, exactly
#     one APPLIED per payment, invoices 1..n;
#  3. payall: PG_PAYALL payments delivered at once across the three
#     bridges: all applied, invoice numbers of the merchant gapless 1..n;
#  4. race_check on the database: one invoice, entitlement, event, paid
#     audit record and access link per session, no extra session, the audit
#     chain (one chain, three writers) verifies.
# Nothing is timed; every wait is bounded by HANG_S (lib.sh).
. "$(dirname "$0")/lib.sh"
: "${PG_PAYMENTS:=20}" "${PG_COPIES:=64}" "${PG_PAYALL:=200}" "${PG_THREADS:=32}"
STORM=$PW_BIN_DIR/tests/race_storm
CHECK=$PW_BIN_DIR/tests/race_check
FIX=$PW_FIXTURES_DIR/stripe.checkout.session.completed.json
[ -x "$STORM" ] || { echo "not ok - $STORM not built (libcurl4-openssl-dev missing?)"; exit 1; }

pg_cluster
URL="postgresql:///paywire?host=$PGD&user=postgres"
ok "private PostgreSQL cluster started on $PGD"

data=$T/data
SURLS=() SPIDS=() BURLS=() BPIDS=()
for i in 1 2 3; do
  start_server "$data" --store "$URL"
  SURLS+=("$SERVER_URL"); SPIDS+=("$SERVER_PID")
  start_bridge --threads 8 --ip-rate-public 0 --ip-rate-webhooks 0 # one address: no per-address limits
  BURLS+=("$BRIDGE"); BPIDS+=("$BRIDGE_PID")
done
ok "three servers on one database, one bridge each"
bridges=$(IFS=,; echo "${BURLS[*]}")

out=$("$STORM" storm --server "${SURLS[0]}" --bridge "$bridges" --fixture "$FIX" \
  --sessions "$T/sessions" --payments "$PG_PAYMENTS" --copies "$PG_COPIES" --resend 0 \
  2>"$T/storm.err") && rc=0 || rc=$?
cat "$T/storm.err" >&2
echo "$out"
eq "storm across 3 servers: every delivery 2xx, exactly one applied per payment, invoices 1..n" 0 "$rc"
STORM_LINE=$out

out=$("$STORM" payall --server "${SURLS[1]}" --bridge "$bridges" --fixture "$FIX" \
  --sessions "$T/sessions" --payments "$PG_PAYALL" --copies "$PG_THREADS" \
  2>"$T/payall.err") && rc=0 || rc=$?
cat "$T/payall.err" >&2
echo "$out"
eq "payall: $PG_PAYALL payments at once across 3 servers, all applied, invoice numbers gapless and unique" 0 "$rc"
PAYALL_LINE=$out

audit=$("$CLI" --server "${SURLS[2]}" --json audit verify)
eq "audit chain verifies (one chain, three writers)" true "$(echo "$audit" | json ok)"

for i in 0 1 2; do
  stop_pid "${BPIDS[$i]}" TERM
  eq "bridge $((i + 1)) stops cleanly" 0 "$RC"
  stop_pid "${SPIDS[$i]}" TERM
  eq "server $((i + 1)) stops cleanly" 0 "$RC"
done

out=$("$CHECK" "$data" "$T/sessions" "$URL" 2>"$T/check.err") && rc=0 || rc=$?
cat "$T/check.err" >&2
echo "$out"
eq "database: one invoice, entitlement, event, paid audit record, access link per session" 0 "$rc"
CHECK_LINE=$out
# paywire store copy: the database into a new LMDB directory, and its refusals.
out=$("$CLI" store copy --from "$URL" --to "$T/copy" 2>&1) && rc=0 || rc=$?
eq "store copy from PostgreSQL without --key-dir: usage error (exit 2)" 2 "$rc"
contains "  and it says what is missing" "--key-dir" "$out"
out=$("$CLI" --json store copy --from "$URL" --key-dir "$data" --to "$T/copy" 2>/dev/null) && rc=0 || rc=$?
eq "store copy PostgreSQL -> LMDB: copied and verified" "0 true" "$rc $(echo "$out" | json ok)"
copied=$(echo "$out" | json records)
out=$("$CLI" store copy --from "$URL" --key-dir "$data" --to "$T/copy" 2>&1) && rc=0 || rc=$?
eq "store copy into a store that holds data: refused (exit 1)" 1 "$rc"
contains "  and it says why" "not empty" "$out"
out=$("$CHECK" "$T/copy" "$T/sessions" 2>"$T/check2.err") && rc=0 || rc=$?
eq "the LMDB copy passes the same check" 0 "$rc"
out=$("$SERVER_BIN" --data "$T/x" --store 'mysql://secret-password@db/x' 2>&1) && rc=0 || rc=$?
eq "paywire-server --store with a URL that is not PostgreSQL: exit 2" 2 "$rc"
case "$out" in *secret-password*) fail "the refused --store value was shown" ;; *) ok "the refused --store value is not shown" ;; esac
conflicts=$(grep -c "met a conflict" "$T/server.log" || true)
echo "pg_multi: ${STORM_LINE} | ${PAYALL_LINE} | ${CHECK_LINE} | store copy: ${copied} records | batches re-run after a conflict: ${conflicts}"
finish
