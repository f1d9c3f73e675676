#!/usr/bin/env bash
# systemd_notify_test.sh - Type=notify as systemd sees it, without systemd: a
# datagram socket stands in for $NOTIFY_SOCKET and records what the server and
# the bridge send. READY=1 comes only once they serve (the first call after it
# is answered at once, no retry), WATCHDOG=1 pings come while they run (the
# server's once its writer has run a probe, also while it takes writes),
# none without WATCHDOG_USEC, and STOPPING=1 on SIGTERM, exit 0.
# Skipped (77) for a build without libsystemd (-DPW_SYSTEMD=OFF).
. "$(dirname "$0")/lib.sh"

if ! ldd "$SERVER_BIN" | grep -q libsystemd; then
  echo "skip: paywire-server was built without libsystemd (PW_SYSTEMD=OFF)"
  exit 77
fi

# listen SOCK LOG: record every notification, one per line
listen() {
  rm -f "$1"
  $PY -u -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        m = s.recv(4096).decode()
        f.write(m.replace("\n", " ") + "\n"); f.flush()' "$1" "$2" &
  PIDS+=("$!")
  wait_until test -S "$1"
}
seen() { grep -q "$1" "$2" 2>/dev/null; }
pings_at_least() { [ "$(grep -c 'WATCHDOG=1' "$2" 2>/dev/null || true)" -ge "$1" ]; }

# ---- the server ----
listen "$T/server.sock" "$T/server.notes"
port=$(free_port)
SERVER_URL=tcp://127.0.0.1:$port
export PAYWIRE_SERVER=$SERVER_URL
NOTIFY_SOCKET=$T/server.sock WATCHDOG_USEC=800000 "$SERVER_BIN" --data "$T/data" \
  --listen "$SERVER_URL" --log-level info >>"$T/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
check "server: READY=1" wait_until seen READY=1 "$T/server.notes"
out=$("$CLI" --retries 0 status cs_probe 2>&1 || true)
contains "server: the first call after READY=1 is answered" NOT_FOUND "$out"
check "server: WATCHDOG=1 pings" wait_until pings_at_least 3 "$T/server.notes"
check "server: the log says the watchdog waits for the writer" \
  grep -q "systemd watchdog: 800 ms" "$T/server.log"
n=$(grep -c WATCHDOG=1 "$T/server.notes")
key=$(new_merchant)
check "server: a write while pinged" test -n "$key"
check "server: pings go on after writes" wait_until pings_at_least $((n + 3)) "$T/server.notes"
check "server: no STOPPING=1 before SIGTERM" bash -c "! grep -q STOPPING=1 '$T/server.notes'"
stop_pid "$SERVER_PID" TERM
eq "server: SIGTERM exits 0" 0 "$RC"
check "server: STOPPING=1" wait_until seen STOPPING=1 "$T/server.notes"

# without WATCHDOG_USEC: READY=1, no ping (the watchdog is systemd's choice)
listen "$T/server2.sock" "$T/server2.notes"
NOTIFY_SOCKET=$T/server2.sock "$SERVER_BIN" --data "$T/data" --listen "$SERVER_URL" \
  --read-only >>"$T/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
check "server (no watchdog): READY=1" wait_until seen READY=1 "$T/server2.notes"
wait_server
stop_pid "$SERVER_PID" TERM
check "server (no watchdog): no ping" bash -c "! grep -q WATCHDOG=1 '$T/server2.notes'"

# read-only: the main loop pings (no writer to prove)
listen "$T/server3.sock" "$T/server3.notes"
NOTIFY_SOCKET=$T/server3.sock WATCHDOG_USEC=800000 "$SERVER_BIN" --data "$T/data" \
  --listen "$SERVER_URL" --read-only >>"$T/server.log" 2>&1 &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
check "server (read-only): READY=1" wait_until seen READY=1 "$T/server3.notes"
check "server (read-only): WATCHDOG=1 pings" wait_until pings_at_least 2 "$T/server3.notes"
stop_pid "$SERVER_PID" TERM

# ---- the bridge ----
start_server "$T/data"
listen "$T/bridge.sock" "$T/bridge.notes"
bport=$(free_port)
BRIDGE=http://127.0.0.1:$bport
NOTIFY_SOCKET=$T/bridge.sock WATCHDOG_USEC=800000 "$BRIDGE_BIN" --listen "127.0.0.1:$bport" \
  --server "$SERVER_URL" >>"$T/bridge.log" 2>&1 &
BRIDGE_PID=$!
PIDS+=("$BRIDGE_PID")
check "bridge: READY=1" wait_until seen READY=1 "$T/bridge.notes"
check "bridge: /healthz answers right after READY=1" healthz_is 200
check "bridge: WATCHDOG=1 pings" wait_until pings_at_least 3 "$T/bridge.notes"
stop_pid "$BRIDGE_PID" TERM
eq "bridge: SIGTERM exits 0" 0 "$RC"
check "bridge: STOPPING=1" wait_until seen STOPPING=1 "$T/bridge.notes"
finish
