#!/usr/bin/env bash
# merchant_limits_test.sh - a merchant's own rate limits (issue 11):
# 'paywire merchant limits set|show' (admin), applied to the merchant's next
# request with exact counts while another merchant keeps the server's
# defaults; a change applies at once; kept across a restart (loaded from the
# store at start); bad input is refused and changes nothing. Rates are per
# hour, so no token refills during the test: the counts are exact.
. "$(dirname "$0")/lib.sh"
start_server "$T/data" --rate-writes 1/h:4 --rate-reads 1/h:1000
out=$("$CLI" --json merchant create --name "own limits" --mode test)
a_key=$(echo "$out" | json api_key); a_id=$(echo "$out" | json merchant_id)
b_key=$(new_merchant test)

create() { "$CLI" --json --retries 0 session create --api-key "$1" --amount-minor 500 --currency EUR; }
# burst KEY N -> "OK REFUSED"
burst() {
  local okn=0 ren=0 out
  for _ in $(seq 1 "$2"); do
    if out=$(create "$1" 2>&1); then okn=$((okn + 1))
    else case "$out" in *RESOURCE_EXHAUSTED*) ren=$((ren + 1)) ;; *) echo "$out" >&2 ;; esac; fi
  done
  echo "$okn $ren"
}

out=$("$CLI" merchant limits show "$a_id")
contains "show: writes follow the server's default" "default (1/h burst 4)" "$out"
out=$("$CLI" merchant limits set "$a_id" --writes 2/h:2 --provider unlimited)
contains "set: the merchant's own writes" "2/h burst 2" "$out"
contains "set: provider calls unlimited" "unlimited" "$out"
contains "set: reads left at the default" "default (1/h burst 1000)" "$out"
eq "merchant a: 2/h:2 of its own: 2 of 5 writes pass" "2 3" "$(burst "$a_key" 5)"
eq "merchant b keeps the default 4: 4 of 6 pass" "4 2" "$(burst "$b_key" 6)"

# a change applies to the next request, with a full bucket
"$CLI" merchant limits set "$a_id" --writes 1/h:3 >/dev/null
eq "after a change to 1/h:3: 3 of 5 pass" "3 2" "$(burst "$a_key" 5)"
out=$("$CLI" --json merchant limits show "$a_id")
eq "JSON: writes kind" custom "$(echo "$out" | json writes.kind)"
eq "JSON: writes burst" 3 "$(echo "$out" | json writes.burst)"
eq "JSON: writes period" 3600 "$(echo "$out" | json writes.period_s)"
eq "JSON: reads default" default "$(echo "$out" | json reads.kind)"
eq "JSON: the server's default reads burst" 1000 "$(echo "$out" | json reads.server_default.burst)"

# bad input: usage errors send nothing; the server refuses a bad merchant
out=$("$CLI" merchant limits set "$a_id" --writes 0/h 2>&1) && rc=0 || rc=$?
eq "rate 0: usage error (exit 2)" 2 "$rc"
out=$("$CLI" merchant limits set "$a_id" --writes 5/d 2>&1) && rc=0 || rc=$?
eq "unit /d: usage error" 2 "$rc"
out=$("$CLI" merchant limits set "$a_id" 2>&1) && rc=0 || rc=$?
eq "no class named: usage error" 2 "$rc"
contains "... saying which options" "--reads" "$out"
out=$("$CLI" merchant limits set mer_nobody --writes 5 2>&1) && rc=0 || rc=$?
contains "an unknown merchant: NOT_FOUND" NOT_FOUND "$out"
out=$("$CLI" merchant limits show "$a_id" --admin-key wrong 2>&1) && rc=0 || rc=$?
contains "a wrong admin key: UNAUTHENTICATED" UNAUTHENTICATED "$out"
"$CLI" merchant limits set --help | grep -q "RATE\[/s|/m|/h\]\[:BURST\]" && ok "--help documents LIMIT" || fail "--help"

# kept across a restart (and every bucket starts full again)
stop_pid "$SERVER_PID" TERM
eq "server stopped cleanly" 0 "$RC"
start_server "$T/data" --rate-writes 1/h:4 --rate-reads 1/h:1000
out=$("$CLI" merchant limits show "$a_id")
contains "after a restart: still 1/h burst 3" "1/h burst 3" "$out"
eq "after a restart: 3 of 5 pass (its own limit, loaded at start)" "3 2" "$(burst "$a_key" 5)"
eq "... merchant b: the default 4 of 5" "4 1" "$(burst "$b_key" 5)"
# back to the default
"$CLI" merchant limits set "$a_id" --writes default >/dev/null
eq "back to the default: 4 of 5" "4 1" "$(burst "$a_key" 5)"
finish
