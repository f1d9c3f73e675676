#!/usr/bin/env bash
# backup_test.sh - issue 13's backup drill and the refusals of `paywire
# backup` / `paywire restore` (client/cli_ops.c, docs/OPERATIONS.md).
#
# The drill: a server takes writes from three CLI writers (two create
# sessions, one pays acknowledged sessions with signed Stripe webhooks); each
# writer logs every acknowledged write with the time it saw the answer.
# `paywire backup` runs while they write, and they keep writing after it.
# The backup is restored into a new directory and a second server started on
# it: its audit chain verifies, every write acknowledged before the backup
# began is there (writes acknowledged after may or may not be), and every
# session it holds reads back whole and is one the writers created.
. "$(dirname "$0")/lib.sh"

FX=$PW_SOURCE_DIR/tests/fixtures
ST=$PAYWIRE_STRIPE_WEBHOOK_SECRET
P=$PW_BIN_DIR/client/paywire
now_ns() { date +%s%N; }
jget() { # jget FIELD < json: the field, or nothing (no JSON: an error was printed)
  $PY -c '
import json, sys
try:
    print(json.load(sys.stdin).get(sys.argv[1], ""))
except ValueError:
    print("")' "$1"
}

start_server "$T/data"
A_PID=$SERVER_PID
mer=$("$CLI" --json merchant create --name "Drill shop") || { fail "merchant create"; exit 1; }
PAYWIRE_API_KEY=$(echo "$mer" | jget api_key)
export PAYWIRE_API_KEY

# ---- the writers ----
stop_file=$T/stop
writer_sessions() { # writer_sessions N: appends "session ID ACK_NS" lines to $T/w$N
  local out=$T/w$1 id
  while [ ! -e "$stop_file" ]; do
    id=$("$CLI" --json session create --amount-minor 4900 --currency EUR --plan pro \
      --email "w$1@example.com" 2>>"$T/w$1.err" | jget id) || continue
    [ -n "$id" ] && echo "session $id $(now_ns)" >>"$out"
  done
}
# Pays sessions writer 1 created (acknowledged ones), one signed
# checkout.session.completed each; logs "paid ID ACK_NS".
writer_payer() {
  local out=$T/wp n=0 id f t sig r
  while [ ! -e "$stop_file" ]; do
    n=$((n + 1))
    id=$(sed -n "${n}p" "$T/w1" 2>/dev/null | cut -d' ' -f2)
    if [ -z "$id" ]; then n=$((n - 1)); sleep 0.05; continue; fi
    f=$T/evt.$n.json
    sed -e "s/ps_2f6c1e9a4b7d/$id/g" -e "s/evt_\([0-9A-Za-z]*\)/evt_\1_d$n/g" \
      -e "s/pi_3PwTestPaymentIntent0001/pi_d$n/g" \
      -e "s/cs_test_a1PaywireExampleSession0001/cs_test_d$n/g" \
      "$FX/stripe.checkout.session.completed.json" >"$f"
    t=$(date +%s)
    sig=$({ printf '%s.' "$t"; cat "$f"; } | openssl dgst -sha256 -hmac "$ST" | sed 's/^.* //')
    r=$("$CLI" --json webhook send --provider stripe --body-file "$f" \
      --header "Stripe-Signature: t=$t,v1=$sig" 2>>"$T/wp.err") || continue
    case "$r" in *applied*) echo "paid $id $(now_ns)" >>"$out" ;; *) echo "$r" >>"$T/wp.err" ;; esac
  done
}
: >"$T/w1"; : >"$T/w2"; : >"$T/wp"
writer_sessions 1 & W1=$!
writer_sessions 2 & W2=$!
writer_payer & WP=$!
PIDS+=("$W1" "$W2" "$WP")
acked() { cat "$T/w1" "$T/w2" "$T/wp" | wc -l; }
enough() { [ "$(acked)" -ge "$1" ]; }
wait_until enough 40 || { fail "the writers did not get 40 writes acknowledged"; cat "$T"/w*.err >&2; exit 1; }

# ---- the backup, while they write ----
B0=$(now_ns)
if out=$("$P" backup "$T/backup" --data "$T/data" 2>&1); then
  ok "paywire backup while three writers write"
else
  fail "paywire backup: $out"
fi
B1=$(now_ns)
at_backup=$(acked)
wait_until enough $((at_backup + 30)) || fail "the writers stopped after the backup"
touch "$stop_file"
wait "$W1" "$W2" "$WP" 2>/dev/null || true
[ "$(stat -c %a "$T/backup")" = 700 ] && [ "$(stat -c %a "$T/backup/data.mdb")" = 600 ] &&
  [ "$(stat -c %a "$T/backup/paywire.key")" = 600 ] && [ ! -e "$T/backup.tmp" ] &&
  ok "backup dir 0700, files 0600, no .tmp left" ||
  fail "backup modes: $(stat -c '%a %n' "$T/backup" "$T/backup"/*)"
"$CLI" audit verify >/dev/null && ok "the live server's audit chain verifies after the backup" ||
  fail "live audit chain"

# ---- restore refusals on the live directory ----
out=$("$P" restore "$T/backup" "$T/data" --force 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && contains "restore over the live data directory is refused, naming the process" \
  "process $A_PID has its store open" "$out" || fail "restore over a live dir: rc $rc, $out"

# ---- restore into a new directory and a server on it ----
if out=$("$P" restore "$T/backup" "$T/restored" 2>&1); then ok "paywire restore"; else fail "restore: $out"; fi
[ "$(stat -c %a "$T/restored")" = 700 ] && [ ! -e "$T/restored.restore-tmp" ] &&
  ok "restored dir 0700, no .restore-tmp left" || fail "restored modes"
start_server "$T/restored"
"$CLI" audit verify >/dev/null && ok "the restored server's audit chain verifies" ||
  fail "restored audit chain: $("$CLI" audit verify 2>&1)"

before=0; before_sessions=0; missing=0; after_present=0; after_total=0
while read -r kind id ack; do
  st=$("$CLI" --json session get "$id" 2>/dev/null | jget status) || st=""
  want=created; [ "$kind" = paid ] && want=paid
  if [ "$ack" -lt "$B0" ]; then
    before=$((before + 1))
    [ "$kind" = session ] && before_sessions=$((before_sessions + 1))
    if [ "$kind" = session ] && [ -z "$st" ]; then missing=$((missing + 1)); echo "missing $kind $id" >&2; fi
    if [ "$kind" = paid ] && [ "$st" != paid ]; then missing=$((missing + 1)); echo "missing $kind $id ($st)" >&2; fi
  elif [ "$ack" -gt "$B1" ]; then
    after_total=$((after_total + 1))
    { [ "$kind" = session ] && [ -n "$st" ]; } || [ "$st" = "$want" ] && after_present=$((after_present + 1))
  fi
done < <(cat "$T/w1" "$T/w2" "$T/wp")
[ "$before" -ge 40 ] && [ "$missing" = 0 ] &&
  ok "all $before writes acknowledged before the backup began are in the restore ($after_present of $after_total acknowledged after it too)" ||
  fail "$missing of $before writes acknowledged before the backup are missing"

# Every session of the restored store reads whole and is one a writer created.
listed=$($PY - "$CLI" "$T" <<'PY'
import json, subprocess, sys
cli, t = sys.argv[1], sys.argv[2]
ours = set()
for w in ("w1", "w2"):
    for line in open(f"{t}/{w}"):
        ours.add(line.split()[1])
seen, bad, after = 0, [], None
while True:
    args = [cli, "--json", "session", "list", "--limit", "100"] + (["--starting-after", after] if after else [])
    page = json.loads(subprocess.check_output(args))
    for s in page.get("sessions", []):
        seen += 1
        g = json.loads(subprocess.check_output([cli, "--json", "session", "get", s["id"]]))
        if g.get("amount_minor") != 4900 or g.get("currency") != "EUR" or g.get("status") not in ("created", "paid"):
            bad.append(s["id"])
    if not page.get("has_more"):
        break
    after = page["next"]
print(seen, len(bad))
PY
)
[ "${listed#* }" = 0 ] && [ "${listed% *}" -ge "$before_sessions" ] &&
  ok "every session the restore holds (${listed% *}) reads back whole (4900 EUR, created or paid)" ||
  fail "restored sessions: $listed (seen, bad)"

# ---- refusals ----
out=$("$P" backup "$T/backup" --data "$T/data" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && contains "backup into an existing non-empty directory is refused" \
  "exists and is not an empty directory" "$out" || fail "backup over non-empty: rc $rc $out"
mkdir "$T/b2.tmp"
out=$("$P" backup "$T/b2" --data "$T/data" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && [ ! -e "$T/b2" ] && contains "a leftover DEST.tmp is refused, nothing written" \
  "did not finish? remove it" "$out" || fail "leftover tmp: rc $rc $out"
mkdir -m 700 "$T/b3"
"$P" backup "$T/b3" --data "$T/data" >/dev/null 2>&1 && [ -f "$T/b3/data.mdb" ] &&
  ok "backup into an existing empty directory" || fail "backup into an empty dir"
out=$("$P" backup "$T/b4" --data "postgresql://nobody@127.0.0.1:1/paywire" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && contains "a PostgreSQL store is refused, pointing at pg_dump" "pg_dump" "$out" ||
  fail "pg backup: rc $rc $out"
out=$("$P" backup "$T/b5" 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && contains "backup without --data nor PAYWIRE_DATA is a usage error" "PAYWIRE_DATA" "$out" ||
  fail "no data: rc $rc $out"
out=$(PAYWIRE_DATA=$T/nothing "$P" backup "$T/b6" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && [ ! -e "$T/b6" ] && contains "backup of a directory without data.mdb is refused" \
  "not a paywire data directory" "$out" || fail "no data.mdb: rc $rc $out"

# restore: a non-empty target needs --force, which keeps the old directory
kill -TERM "$A_PID"; wait "$A_PID" 2>/dev/null || true
mkdir -m 700 "$T/other"; echo keep >"$T/other/file"
out=$("$P" restore "$T/backup" "$T/other" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && [ -f "$T/other/file" ] && contains "restore into a non-empty directory needs --force" \
  "pass --force" "$out" || fail "non-empty target: rc $rc $out"
out=$("$P" --json restore "$T/backup" "$T/other" --force 2>&1) && rc=0 || rc=$?
aside=$(echo "$out" | jget moved_aside 2>/dev/null || true)
[ "$rc" = 0 ] && [ -f "$T/other/data.mdb" ] && [ -n "$aside" ] && [ -f "$aside/file" ] &&
  ok "restore --force on a stopped directory keeps the old one aside ($aside)" ||
  fail "restore --force: rc $rc $out"
# a backup whose audit chain is broken is not installed (a byte of an audit
# record changed with LMDB's own tools)
cp -a "$T/backup" "$T/broken"
mdb_dump -s audit "$T/broken" >"$T/audit.dump"
$PY - "$T/audit.dump" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
# data lines are " <hex>" in key/value pairs after HEADER=END; flip a byte of the first value
i = lines.index("HEADER=END") + 2
v = lines[i]
lines[i] = v[:3] + ("0" if v[3] != "0" else "1") + v[4:]
open(p, "w").write("\n".join(lines))
PY
mdb_load -s audit -f "$T/audit.dump" "$T/broken" 2>/dev/null
rm -f "$T/broken/lock.mdb"
out=$("$P" restore "$T/broken" "$T/r2" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && [ ! -e "$T/r2" ] && [ ! -e "$T/r2.restore-tmp" ] &&
  contains "a backup with a broken audit chain is not installed" "audit chain" "$out" ||
  fail "broken backup: rc $rc $out"
out=$("$P" restore "$T/nothing" "$T/r3" 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] && contains "restore from a directory that is no backup is refused" "not a paywire backup" "$out" ||
  fail "restore from nothing: rc $rc $out"
out=$("$P" restore "$T/backup" 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && ok "restore with one argument is a usage error" || fail "restore usage: rc $rc $out"

finish
