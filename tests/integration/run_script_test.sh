#!/usr/bin/env bash
# run_script_test.sh - scripts/run.sh tells the truth (issue 13): with its
# bridge or server port taken (by any listener, or by another paywire
# instance) it fails at once naming the address and the variable that
# changes it, never "paywire is running"; started on non-default addresses
# (PAYWIRE_HTTP, PAYWIRE_RPC) the commands it prints work as printed. It runs
# on this build's programs (PAYWIRE_BUILD_DIR: no install, no build), on free
# ports and its own data directories, so parallel tests are not disturbed.
. "$(dirname "$0")/lib.sh"

RUN=$PW_SOURCE_DIR/scripts/run.sh
export PAYWIRE_BUILD_DIR=$PW_BIN_DIR

# listen_on PORT: a plain TCP listener that is not paywire; sets LPID.
listen_on() {
  $PY -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True: time.sleep(60)' "$1" &
  LPID=$!
  PIDS+=("$LPID")
  wait_until listening_on "$1" || { fail "the test's listener did not start"; exit 1; }
}
listening_on() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_now() { ! listening_on "$1"; }

# run_fails DESC NEEDLE...: run.sh (bounded) exits 1, stderr has every NEEDLE.
run_fails() {
  local d=$1 out rc; shift
  out=$(timeout $HANG_S bash "$RUN" 2>&1 </dev/null) && rc=0 || rc=$?
  if [ "$rc" != 1 ]; then fail "$d: exit $rc, want 1: ${out:0:600}"; return; fi
  case "$out" in *"paywire is running"*) fail "$d: said 'paywire is running': $out"; return ;; esac
  for n in "$@"; do
    case "$out" in *"$n"*) ;; *) fail "$d: [$n] not in [${out:0:600}]"; return ;; esac
  done
  ok "$d"
}

# ---- the bridge's port taken by another program ----
ph=$(free_port); pr=$(free_port)
listen_on "$ph"
PAYWIRE_DATA=$T/d1 PAYWIRE_HTTP=127.0.0.1:$ph PAYWIRE_RPC=tcp://127.0.0.1:$pr \
  run_fails "bridge port taken: fails naming 127.0.0.1:$ph and PAYWIRE_HTTP" \
  "127.0.0.1:$ph is already in use" "set PAYWIRE_HTTP"
free_now "$pr" && ok "... and started no server on $pr" || fail "a server listens on $pr"
kill "$LPID"; wait "$LPID" 2>/dev/null || true

# ---- the server's port taken ----
ph=$(free_port); pr=$(free_port)
listen_on "$pr"
PAYWIRE_DATA=$T/d1 PAYWIRE_HTTP=127.0.0.1:$ph PAYWIRE_RPC=tcp://127.0.0.1:$pr \
  run_fails "server port taken: fails naming 127.0.0.1:$pr and PAYWIRE_RPC" \
  "127.0.0.1:$pr is already in use" "set PAYWIRE_RPC"
free_now "$ph" && ok "... and started no bridge on $ph" || fail "a bridge listens on $ph"
kill "$LPID"; wait "$LPID" 2>/dev/null || true

# ---- both taken by another paywire instance (the bridge answers /healthz) ----
start_server "$T/other"
start_bridge
PAYWIRE_DATA=$T/d1 PAYWIRE_HTTP=${BRIDGE#http://} PAYWIRE_RPC=$SERVER_URL \
  run_fails "another instance on both ports: fails naming the bridge's address" \
  "${BRIDGE#http://} is already in use" "PAYWIRE_HTTP"

# ---- the data directory in use by that instance's server ----
PAYWIRE_DATA=$T/other PAYWIRE_HTTP=127.0.0.1:$(free_port) PAYWIRE_RPC=tcp://127.0.0.1:$(free_port) \
  run_fails "its data directory in use: fails naming the process and PAYWIRE_DATA" \
  "$T/other is in use by process $SERVER_PID" "set PAYWIRE_DATA"

# ---- non-default addresses: the printed commands work as printed ----
ph=$(free_port); pr=$(free_port)
log=$T/run.out
# (without this test's secrets in the environment, which the server would
# take over data/paywire.env's: run.sh says so, tested below)
env -u PAYWIRE_ADMIN_KEY -u PAYWIRE_TOKEN_SECRET -u PAYWIRE_STRIPE_WEBHOOK_SECRET \
  -u PAYWIRE_RAZORPAY_WEBHOOK_SECRET -u PAYWIRE_ONECOM_WEBHOOK_SECRET -u PAYWIRE_WEB3_WEBHOOK_SECRET \
  PAYWIRE_DATA=$T/d2 PAYWIRE_HTTP=127.0.0.1:$ph PAYWIRE_RPC=tcp://127.0.0.1:$pr \
  bash "$RUN" >"$log" 2>&1 </dev/null &
RPID=$!
PIDS+=("$RPID")
running() { grep -q "paywire is running" "$log" || { kill -0 "$RPID" 2>/dev/null || return 2; return 1; }; }
if wait_until running; then ok "run.sh on 127.0.0.1:$ph and tcp://127.0.0.1:$pr says it is running"; else
  fail "run.sh did not start: $(cat "$log")"; finish; exit 1; fi
contains "... with the addresses it used" "RPC (nng):   tcp://127.0.0.1:$pr" "$(cat "$log")"
grep -q "^PAYWIRE_SERVER='tcp://127.0.0.1:$pr'$" "$T/d2/cli.env" &&
  [ "$(stat -c %a "$T/d2/cli.env")" = 600 ] && ok "data/cli.env (0600) names PAYWIRE_SERVER" ||
  fail "cli.env: $(cat "$T/d2/cli.env")"
# The printed "Try it" lines: the environment line and merchant create, run
# as printed, in a shell without this test's PAYWIRE_* variables.
envline=$(grep -m1 '^  set -a; \. ' "$log" | sed 's/^  //')
mcline=$(grep -m1 'paywire merchant create' "$log" | sed 's/^  //')
out=$(env -u PAYWIRE_SERVER -u PAYWIRE_ADMIN_KEY -u PAYWIRE_API_KEY -u PAYWIRE_DATA \
  bash -c "$envline; $mcline" 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] && contains "the printed commands create a merchant on this run's server" "api_key:" "$out" ||
  fail "printed commands ($envline; $mcline): rc $rc: $out"
"$PW_BIN_DIR/client/paywire" doctor --data "$T/d2" >"$T/doctor.out" 2>&1 && rc=0 || rc=$?
[ "$rc" = 0 ] && ok "paywire doctor on run.sh's data directory: all OK" ||
  fail "doctor on run.sh's data: rc $rc: $(cat "$T/doctor.out")"
kill -TERM "$RPID"
wait "$RPID" && rc=0 || rc=$?
eq "SIGTERM stops run.sh with exit 0" 0 "$rc"
wait_until free_now "$ph" && wait_until free_now "$pr" && ok "... and both of its ports are free again" ||
  fail "ports still in use after run.sh stopped"

# ---- a secret of the environment overrides the file's: run.sh says so ----
# (a new log: the first run's "paywire is running" must not be read before
# this run's shell has truncated the file)
log=$T/run2.out
: >"$log"
ph=$(free_port); pr=$(free_port)
PAYWIRE_DATA=$T/d2 PAYWIRE_HTTP=127.0.0.1:$ph PAYWIRE_RPC=tcp://127.0.0.1:$pr \
  bash "$RUN" >"$log" 2>&1 </dev/null &
RPID=$!
PIDS+=("$RPID")
if wait_until running; then
  contains "an exported PAYWIRE_ADMIN_KEY is named as overriding data/paywire.env" \
    "PAYWIRE_ADMIN_KEY is set in your environment" "$(cat "$log")"
else
  fail "run.sh did not start: $(cat "$log")"
fi
kill -TERM "$RPID"; wait "$RPID" 2>/dev/null || true

finish
