#!/usr/bin/env bash
# doctor_test.sh - `paywire doctor` (client/cli_ops.c): all well (exit 0)
# beside a running server, then each failing check on its own: modes of the
# data directory, the key file and the config file, short / malformed /
# unknown configuration, no secrets (warnings, exit 1), a broken audit chain,
# a map nearly full, a server binary of another version. Secret values never
# appear in its output.
. "$(dirname "$0")/lib.sh"

P=$PW_BIN_DIR/client/paywire
D=$T/data
doctor() { # doctor ARGS... -> $out, $rc (the environment's PAYWIRE_* secrets unset)
  out=$(env -u PAYWIRE_ADMIN_KEY -u PAYWIRE_TOKEN_SECRET -u PAYWIRE_STRIPE_WEBHOOK_SECRET \
    -u PAYWIRE_RAZORPAY_WEBHOOK_SECRET -u PAYWIRE_ONECOM_WEBHOOK_SECRET \
    -u PAYWIRE_WEB3_WEBHOOK_SECRET "$P" doctor "$@" 2>&1) && rc=0 || rc=$?
}
expect() { # expect DESC RC NEEDLE
  if [ "$rc" = "$2" ]; then contains "$1 (exit $2)" "$3" "$out"; else fail "$1: exit $rc, want $2: $out"; fi
}

cfg=$T/server.env
(umask 077; {
  echo "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY"
  echo "PAYWIRE_TOKEN_SECRET=$PAYWIRE_TOKEN_SECRET"
  echo "PAYWIRE_STRIPE_WEBHOOK_SECRET=$PAYWIRE_STRIPE_WEBHOOK_SECRET"
  echo "PAYWIRE_ONECOM_WEBHOOK_SECRET=$PAYWIRE_ONECOM_WEBHOOK_SECRET"
} >"$cfg")
start_server "$D" --config "$cfg"
"$CLI" merchant create --name "Doctor shop" >/dev/null

doctor --data "$D" --config "$cfg"
expect "all well beside a running server" 0 "OK    audit_chain"
contains "... names the server's process" "process $SERVER_PID has the store open" "$out"
contains "... checks the server binary's version" "OK    server_version" "$out"
n=$(echo "$out" | grep -c '^OK ' || true)
[ "$n" -ge 9 ] && ! echo "$out" | grep -qv '^OK ' && ok "one OK line per check ($n)" ||
  fail "lines: $out"
jout=$(env -u PAYWIRE_ADMIN_KEY "$P" --json doctor --data "$D" --config "$cfg")
[ "$(echo "$jout" | json result)" = OK ] && ok "--json: result OK with a checks array" ||
  fail "--json: $jout"

# ---- modes ----
chmod 755 "$D"
doctor --data "$D" --config "$cfg"
expect "data directory mode 0755 fails" 2 "FAIL  data_dir        $D has mode 0755"
chmod 700 "$D"
chmod 644 "$D/paywire.key"
doctor --data "$D" --config "$cfg"
expect "key file mode 0644 fails" 2 "FAIL  key_file"
chmod 600 "$D/paywire.key"
chmod 640 "$cfg"
doctor --data "$D" --config "$cfg"
expect "config file mode 0640 fails" 2 "FAIL  config_file"
chmod 600 "$cfg"

# ---- configuration ----
bad=$T/bad.env
secret_check() { # secret_check DESC RC NEEDLE LINE...
  local d=$1 want=$2 needle=$3; shift 3
  (umask 077; printf '%s\n' "$@" >"$bad")
  doctor --data "$D" --config "$bad"
  expect "$d" "$want" "$needle"
}
secret_check "a short admin key fails, without showing it" 2 \
  "FAIL  config          PAYWIRE_ADMIN_KEY is shorter than 24 bytes" \
  "PAYWIRE_ADMIN_KEY=adm_short_SeCrEt" "PAYWIRE_STRIPE_WEBHOOK_SECRET=$PAYWIRE_STRIPE_WEBHOOK_SECRET"
case "$out" in *adm_short_SeCrEt*) fail "the secret's value was printed" ;; *) ok "the short secret's value is not printed" ;; esac
secret_check "a short token secret fails" 2 "PAYWIRE_TOKEN_SECRET is shorter than 32 bytes" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_TOKEN_SECRET=too-short-token-secret" \
  "PAYWIRE_STRIPE_WEBHOOK_SECRET=$PAYWIRE_STRIPE_WEBHOOK_SECRET"
secret_check "a Stripe secret without whsec_ fails" 2 \
  "PAYWIRE_STRIPE_WEBHOOK_SECRET item 1 must start with whsec_" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_STRIPE_WEBHOOK_SECRET=sk_not_a_webhook_secret_0123456789"
secret_check "a Standard Webhooks secret that is not base64 fails" 2 \
  "PAYWIRE_ONECOM_WEBHOOK_SECRET item 1 must be whsec_<base64>" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_ONECOM_WEBHOOK_SECRET=whsec_not*base64*at*all"
secret_check "a secret with a space fails" 2 "PAYWIRE_ADMIN_KEY byte 5 is whitespace" \
  "PAYWIRE_ADMIN_KEY=adm_ 0123456789abcdef0123456789" "PAYWIRE_STRIPE_WEBHOOK_SECRET=$PAYWIRE_STRIPE_WEBHOOK_SECRET"
secret_check "an unknown variable fails, naming its line" 2 "line 4: expected KEY=VALUE" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "" "# comment" "PAYWIRE_ADMN_KEY=typo"
secret_check "a Windows line ending fails" 2 "line 1: carriage return" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY"$'\r'
secret_check "two Stripe secrets (rotation, comma and space) are well-formed" 0 "OK    config " \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_first_secret_0123456789abc, whsec_second_secret_0123456789ab"
secret_check "a secret list with an empty item fails" 2 "has an empty item after item 1" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_first_secret_0123456789abc,,whsec_second_secret_0123456789ab"
secret_check "a short second secret fails, naming the item" 2 "item 2 gives a 10-byte key" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_first_secret_0123456789abc,whsec_1234"
secret_check "a variable set twice fails" 2 "PAYWIRE_ADMIN_KEY is set twice" \
  "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY" "PAYWIRE_ADMIN_KEY=$PAYWIRE_ADMIN_KEY"
secret_check "no admin key and no webhook secret warn" 1 "WARN  config          PAYWIRE_ADMIN_KEY is not set" \
  "# nothing but a comment"
contains "... and the webhook secrets too" "no PAYWIRE_*_WEBHOOK_SECRET is set" "$out"

# ---- the server binary ----
printf '#!/bin/sh\necho "paywire-server 9.9.9 (wire paywire.v1)"\n' >"$T/old-server"
chmod +x "$T/old-server"
doctor --data "$D" --config "$cfg" --server-bin "$T/old-server"
expect "a server binary of another version warns" 1 "WARN  server_version"
doctor --data "$D" --config "$cfg" --server-bin "$T/none"
expect "a missing server binary warns" 1 "did not answer"

# ---- a broken audit chain (in a backup of the data, changed with LMDB's tools) ----
"$P" backup "$T/copy" --data "$D" >/dev/null
"$P" backup "$T/clean" --data "$D" >/dev/null
mdb_dump -s audit "$T/copy" >"$T/audit.dump"
$PY - "$T/audit.dump" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
i = lines.index("HEADER=END") + 2  # the first record's value
v = lines[i]
lines[i] = v[:3] + ("0" if v[3] != "0" else "1") + v[4:]
open(p, "w").write("\n".join(lines))
PY
mdb_load -s audit -f "$T/audit.dump" "$T/copy" 2>/dev/null
doctor --data "$T/copy" --config "$cfg"
expect "a broken audit chain fails" 2 "FAIL  audit_chain     broken at seq 1"

# ---- a map nearly full: the data loaded again into a map of ~85% use ----
# (LMDB keeps a larger map size it once recorded: a fresh environment gets the
# small one from the dump's header)
mkdir -m 700 "$T/full0" "$T/full"
mdb_dump -a "$T/clean" | mdb_load -f /dev/stdin "$T/full0" 2>/dev/null
pages=$(mdb_stat -e "$T/full0" | sed -n 's/^ *Number of pages used: //p')
map=$(( (pages + 1) * 100 / 85 * 4096 ))
cp "$D/paywire.key" "$T/full/"
mdb_dump -a "$T/clean" | sed "s/^mapsize=.*/mapsize=$map/" | mdb_load -f /dev/stdin "$T/full" 2>/dev/null
doctor --data "$T/full" --config "$cfg"
expect "a map over 80% used warns" 1 "WARN  map_usage"

# ---- a stale reader slot: a reader killed inside its read transaction ----
# mdb_dump holds a read txn while it writes; into a FIFO nobody reads it
# blocks once the pipe is full, and SIGKILL leaves its slot behind.
mkdir -m 700 "$T/stale"
cp "$D/paywire.key" "$T/stale/"
{ mdb_dump -a "$T/clean"
  $PY -c 'print("VERSION=3\nformat=bytevalue\ndatabase=doctor_big\ntype=btree\nHEADER=END")
for i in range(4000): print(" %08x\n %s" % (i, "ab" * 100))
print("DATA=END")'
} | mdb_load -f /dev/stdin "$T/stale" 2>/dev/null
# LMDB resets the reader table when the environment is opened by no other
# process, so a second, live, blocked reader keeps it open meanwhile.
mkfifo "$T/fifo" "$T/fifo2"
exec 4<>"$T/fifo" 5<>"$T/fifo2"
mdb_dump -s doctor_big "$T/stale" >"$T/fifo2" 2>/dev/null &
LIVE=$!
PIDS+=("$LIVE")
mdb_dump -s doctor_big "$T/stale" >"$T/fifo" 2>/dev/null &
DPID=$!
PIDS+=("$DPID")
has_reader() { local r; r=$(mdb_stat -r "$T/stale" 2>/dev/null || true); [[ "$r" == *" $1 "* ]]; } # (mdb_stat -r exits 1)
if wait_until has_reader "$LIVE" && wait_until has_reader "$DPID"; then
  kill -KILL "$DPID"; wait "$DPID" 2>/dev/null || true
  doctor --data "$T/stale" --config "$cfg"
  expect "a stale reader slot warns (and is freed)" 1 "WARN  reader_slots    1 stale reader slot(s)"
  doctor --data "$T/stale" --config "$cfg"
  expect "... and the next check finds none" 0 "OK    reader_slots    no stale reader slot; 1 of"
else
  fail "mdb_dump did not hold a reader slot: $(mdb_stat -r "$T/stale" 2>&1)"
fi
kill -KILL "$LIVE"; wait "$LIVE" 2>/dev/null || true
exec 4<&- 5<&-

# ---- no data directory ----
out=$(env -u PAYWIRE_DATA "$P" doctor --config "$cfg" 2>&1) && rc=0 || rc=$?
expect "no --data and no PAYWIRE_DATA warns" 1 "the data directory was not checked"
doctor --data "$T/nowhere" --config "$cfg"
expect "a missing data directory fails" 2 "FAIL  data_dir"

finish
