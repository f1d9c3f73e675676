# lib.sh - helpers for integration tests that run real paywire processes.
# Sourced by tests/integration/*_test.sh. Every process started here is
# stopped by PID at exit; everything lives in a fresh temp dir; loopback only.
# Tests wait on conditions (wait_until), never for a time; every bound is
# HANG_S, which only a hang reaches (as TW_HANG_MS in tests/test_wait.h).
set -euo pipefail

: "${PW_BIN_DIR:?PW_BIN_DIR must point at the build tree}"
SERVER_BIN=$PW_BIN_DIR/server/paywire-server
BRIDGE_BIN=$PW_BIN_DIR/bridge/paywire-bridge
PY=/usr/bin/python3
HANG_S=120

T=$(mktemp -d /tmp/pw-it.XXXXXX)
# The CLI as the tests run it: a per-attempt timeout of HANG_S, so a slow
# server is never a retry or a failure (a later --timeout-ms wins).
CLI=$T/paywire
printf '#!/bin/sh\nexec "%s" --timeout-ms %d "$@"\n' "$PW_BIN_DIR/client/paywire" \
  $((HANG_S * 1000)) >"$CLI"
chmod +x "$CLI"
PIDS=()
FAILS=0
PASSES=0

PG_DIRS=()

cleanup() {
  local p d
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for d in "${PG_DIRS[@]}"; do
    bash "$PW_SOURCE_DIR/tests/pg/cluster.sh" stop "$d" >/dev/null 2>&1 || true
  done
  local scan_rc=0
  [ -n "${PW_LOG_SCAN:-}" ] && { scan_logs || scan_rc=1; }
  [ -n "${PW_KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
  [ "$scan_rc" -eq 0 ] || exit 1
}
trap cleanup EXIT

# secret VALUE...: registers values the test used that must never be logged
# (scan_logs looks for them with the fixture secrets and the secret shapes).
secret() { local v; for v in "$@"; do [ -n "$v" ] && printf '%s\n' "$v" >>"$T/secrets"; done; return 0; }

# scan_logs: every line of the server's and the bridge's logs in $T, checked
# for every registered secret, the fixture secrets exported below and
# anything shaped like a key, token or secret paywire hands out; with
# PW_LOG_FORMAT=json every line must parse as JSON too. Run at exit when
# PW_LOG_SCAN is set (tests/integration/log_scan_test.sh); prints what it found
# (the log line's number, never the line) and fails the test.
scan_logs() {
  local f rc=0
  for f in "$T"/server*.log "$T"/bridge*.log; do
    [ -f "$f" ] || continue
    PW_SCAN_SECRETS="$T/secrets" $PY - "$f" <<'PYEOF' || rc=1
import json, os, re, sys
path = sys.argv[1]
fixed = set()
for k in ("PAYWIRE_ADMIN_KEY", "PAYWIRE_TOKEN_SECRET", "PAYWIRE_STRIPE_WEBHOOK_SECRET",
          "PAYWIRE_RAZORPAY_WEBHOOK_SECRET", "PAYWIRE_ONECOM_WEBHOOK_SECRET",
          "PAYWIRE_WEB3_WEBHOOK_SECRET", "PAYWIRE_FAKE_WEBHOOK_SECRET"):
    v = os.environ.get(k, "")
    if len(v) >= 8:
        fixed.add(v)
sf = os.environ.get("PW_SCAN_SECRETS", "")
if sf and os.path.exists(sf):
    fixed.update(l.strip() for l in open(sf) if len(l.strip()) >= 8)
shapes = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9_-]{16,}|ak_(test|live)_[A-Za-z0-9_-]{16,}"
                    r"|cks_[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
                    r"|whsec_[A-Za-z0-9+/]{16,}|\b[0-9]{6,12}:[A-Za-z0-9_-]{30,}")
want_json = os.environ.get("PW_LOG_FORMAT") == "json"
bad = 0
n = 0
def strings(v):
    # every string a JSON line holds, decoded: an escape ("\\/", "\\u0041")
    # must not hide a secret from the scan
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
for i, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
    n += 1
    text = line
    if line.startswith("{"):
        try:
            text = line + "\n".join(strings(json.loads(line)))
        except ValueError:
            pass
    hits = [s for s in fixed if s in text]
    m = shapes.search(text)
    if hits or m:
        bad += 1
        what = "a registered or fixture secret" if hits else "a secret-shaped value (%s...)" % m.group(0)[:6]
        print("not ok - %s line %d holds %s" % (os.path.basename(path), i, what))
    # with json, pw_log's lines all start with "{"; others (the bridge's
    # startup line on stdout, sanitizer reports) are not JSON lines
    if want_json and line.startswith("{"):
        try:
            json.loads(line)
        except ValueError:
            bad += 1
            print("not ok - %s line %d is not JSON" % (os.path.basename(path), i))
if not bad:
    print("ok - %s: %d lines scanned for secrets%s" % (os.path.basename(path), n,
          ", JSON lines parse" if want_json else ""))
sys.exit(1 if bad else 0)
PYEOF
  done
  return "$rc"
}

free_port() {
  $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

export PAYWIRE_ADMIN_KEY="adm_test_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_test_paywire_fixture_secret
export PAYWIRE_RAZORPAY_WEBHOOK_SECRET=rzp_webhook_fixture_secret
export PAYWIRE_ONECOM_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export PAYWIRE_WEB3_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
export PAYWIRE_TOKEN_SECRET=it-token-secret-0123456789abcdef0123456789

# start_server DATA_DIR [extra flags...]: sets SERVER_PID, SERVER_URL.
start_server() {
  local data=$1; shift
  local port; port=${PW_REUSE_PORT:-$(free_port)}
  SERVER_URL=tcp://127.0.0.1:$port
  "$SERVER_BIN" --data "$data" --listen "$SERVER_URL" --log-level "${PW_LOG:-warn}" \
    --log-format "${PW_LOG_FORMAT:-text}" "$@" \
    >>"$T/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  export PAYWIRE_SERVER=$SERVER_URL
  wait_server
}

# wait_until CMD...: runs CMD every 0.1 s until it succeeds (0) or HANG_S
# have passed (1).
wait_until() {
  local end=$((SECONDS + HANG_S))
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.1
  done
}

# The server is up when an unknown session answers NOT_FOUND (a 1 s probe,
# asked again until then); it must not exit meanwhile.
server_answers() {
  local out
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/server.log" >&2; fail "server exited during start"; exit 1; }
  out=$("$CLI" --server "$SERVER_URL" --timeout-ms 1000 --retries 0 status cs_probe 2>&1 || true)
  case "$out" in *NOT_FOUND*) return 0 ;; *) return 1 ;; esac
}
# The server's TCP port accepts a connection (bash's /dev/tcp; it closes at
# once, before the SP handshake, which the server drops). wait_server asks
# this first so that the CLI's first call is not refused: the CLI closing its
# socket after a refused connection shows a ThreadSanitizer report with both
# stacks inside Debian's uninstrumented libnng (docs/reliability/race.md), and
# under ThreadSanitizer that report would fail a race run whose subject is
# the server and the bridge.
server_listening() {
  local hp=${SERVER_URL#tcp://}
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/server.log" >&2; fail "server exited during start"; exit 1; }
  [ "$hp" != "$SERVER_URL" ] || return 0 # not tcp://: nothing to ask
  (exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null
}
wait_server() {
  wait_until server_listening && wait_until server_answers && return 0
  cat "$T/server.log" >&2
  fail "server did not answer within $HANG_S s"; exit 1
}

# start_bridge: sets BRIDGE_PID, BRIDGE (http://127.0.0.1:port); waits until
# /healthz answers PW_BRIDGE_HEALTH (default 200, the server is up; 503 for a
# bridge started in front of a server that is down).
start_bridge() {
  local port; port=${PW_BRIDGE_PORT:-$(free_port)}
  BRIDGE=http://127.0.0.1:$port
  "$BRIDGE_BIN" --listen 127.0.0.1:$port --server "$SERVER_URL" --public-url "$BRIDGE" \
    --server-timeout-ms $((HANG_S * 1000)) --log-level "${PW_LOG:-warn}" \
    --log-format "${PW_LOG_FORMAT:-text}" "$@" \
    >>"$T/bridge.log" 2>&1 &
  BRIDGE_PID=$!
  PIDS+=("$BRIDGE_PID")
  wait_until healthz_is "${PW_BRIDGE_HEALTH:-200}" && return 0
  cat "$T/bridge.log" >&2
  fail "bridge did not become healthy within $HANG_S s"; exit 1
}

# healthz_is CODE: the bridge's /healthz answers CODE now.
healthz_is() {
  [ "$(curl -sS -o /dev/null -m "$HANG_S" -w '%{http_code}' "$BRIDGE/healthz" 2>/dev/null)" = "$1" ]
}

stop_pid() { # stop_pid PID SIGNAL -> waits (in this shell: it is our child), sets RC
  local pid=$1 sig=${2:-TERM}
  RC=0
  kill -"$sig" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || RC=$?
}

ok()   { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }
# check DESC CMD...: runs CMD, ok if it succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
eq() { # eq DESC EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2] got [$3]"; fi
}
contains() { # contains DESC NEEDLE HAYSTACK
  case "$3" in *"$2"*) ok "$1" ;; *) fail "$1: [$2] not in [${3:0:400}]" ;; esac
}
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
json() { # json FIELD < json  (nested with dots)
  $PY -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k] if not k.isdigit() else v[int(k)]
print(v if not isinstance(v,bool) else str(v).lower())' "$1"
}
# LMDB's last committed transaction id of a data dir (no writer needed).
last_txnid() { mdb_stat -e "$1" | awk '/Last transaction ID/ {print $4}'; }

new_merchant() { # new_merchant [mode] -> prints api key
  "$CLI" --json merchant create --name "it shop" --mode "${1:-test}" | json api_key
}

# ---- PostgreSQL (the pg_*_test.sh scripts) ----
PGBIN=${PW_PG_BIN:-/usr/lib/postgresql/15/bin}
# as_pg CMD...: PostgreSQL's tools refuse root: run them as postgres then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# pg_dir: a new temp dir for a cluster, stopped and removed at exit (PGD).
pg_dir() { PGD=$(mktemp -d /tmp/pw-pg.XXXXXX); PG_DIRS+=("$PGD"); }
# pg_cluster: pg_dir, a private cluster on it (tests/pg/cluster.sh: Unix
# socket only) and an empty database "paywire"; sets PGD.
pg_cluster() {
  pg_dir
  bash "$PW_SOURCE_DIR/tests/pg/cluster.sh" start "$PGD" >/dev/null
  psql -qX "host=$PGD user=postgres dbname=postgres" -c "CREATE DATABASE paywire" >/dev/null
}

# ---- load: CLI create_session loops ----
# start_load SERVER OUT: creates sessions on SERVER (no retries) until
# stop_load; ids answered OK to OUT, errors to OUT.err. Sets LOAD_PID.
load_loop() {
  local out
  while [ ! -e "$T/stop.$(basename "$2")" ] && [ -d "$T" ]; do
    if out=$("$CLI" --server "$1" --timeout-ms 10000 --retries 0 --json session create \
      --amount 1.00 --currency EUR 2>>"$2.err"); then
      echo "$out" | json id >>"$2"
    fi
  done
}
start_load() { load_loop "$1" "$2" & LOAD_PID=$!; PIDS+=("$LOAD_PID"); }
# stop_load OUT PID: asks the loop writing OUT to stop after its current call.
stop_load() { touch "$T/stop.$(basename "$1")"; wait "$2" 2>/dev/null || true; }
count() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
at_least() { [ "$(count "$1")" -ge "$2" ]; }
# missing_on SERVER FILE...: how many ids of the files do not answer
# GetStatus OK on SERVER; each one that does not, and the CLI's error, go to
# stderr (a NOT_FOUND is a lost write, an UNAVAILABLE is not).
missing_on() {
  local srv=$1; shift
  local id missing=0 err
  for id in $(cat "$@"); do
    if ! err=$("$CLI" --server "$srv" --retries 0 status "$id" 2>&1 >/dev/null); then
      missing=$((missing + 1))
      echo "# missing_on: $id: $err" >&2
    fi
  done
  echo "$missing"
}

# ---- provider stand-ins (tests/providers/, issue 10) ----
# start_standin stripe|razorpay [flags...]: the tests' Stripe or Razorpay on
# a free loopback port, its packages from the build tree (CTest fixture
# "providers": FIXTURES_REQUIRED providers in the test's registration); sets
# STANDIN_URL and STANDIN_PID (stopped at exit with the others).
start_standin() {
  local which=$1; shift
  local pf=$T/standin.$which.port
  rm -f "$pf"
  NODE_PATH=$PW_BIN_DIR/providers/node_modules "${PW_NODE:-node}" \
    "$PW_SOURCE_DIR/tests/providers/$which-standin.js" --port 0 --port-file "$pf" "$@" \
    >>"$T/standin.$which.log" 2>&1 &
  STANDIN_PID=$!
  PIDS+=("$STANDIN_PID")
  standin_up() { kill -0 "$STANDIN_PID" 2>/dev/null && test -s "$pf"; }
  wait_until standin_up && { STANDIN_URL=http://127.0.0.1:$(cat "$pf"); return 0; }
  cat "$T/standin.$which.log" >&2
  fail "the $which stand-in did not start within $HANG_S s"; exit 1
}
