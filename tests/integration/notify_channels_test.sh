#!/usr/bin/env bash
# notify_channels_test.sh - the email and Telegram endpoint kinds (issue 11,
# docs/NOTIFY.md "Email and Telegram"), end to end: a real SMTP sink and a
# Telegram Bot API stand-in on loopback (tests/notify/), a real server whose
# delivery worker sends the outbox's messages through prov_smtp and
# prov_telegram.
#  - refusals: a server without --smtp-url / a bot token refuses EMAIL and
#    TELEGRAM endpoints (FAILED_PRECONDITION, saying what the operator sets);
#    a malformed address or chat id is refused; bad flags exit 2;
#  - a canceled session reaches the mailbox (AUTH, From, To, Subject, the
#    session id, Message-ID = the message's webhook-id) and the chat;
#  - a relay that answers 451 and a Bot API that answers 500 leave the message
#    in the outbox with the attempt's reason, retried on the schedule (the
#    injected clock moves; no sleeping on durations);
#  - neither the relay's password nor the bot token is in any log or reply.
. "$(dirname "$0")/lib.sh"

CLOCK=$T/clock
set_clock() { $PY -c 'import struct,sys; open(sys.argv[1],"r+b").write(struct.pack("<q",int(sys.argv[2])))' "$CLOCK" "$1"; NOW=$1; }
printf '\0\0\0\0\0\0\0\0' >"$CLOCK"
T0=$($PY -c 'import time; print(int(time.time()*1000))')
set_clock "$T0"
export PAYWIRE_TEST_CLOCK_FILE=$CLOCK

SMTP_USER=paywire-relay
SMTP_PASS=relay-pass-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
BOT_TOKEN=123456789:AAH$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
secret "$SMTP_PASS" "$BOT_TOKEN"

# ---- the stand-ins ----
node "$PW_SOURCE_DIR/tests/notify/smtp-sink.js" --port 0 --port-file "$T/smtp.port" \
  --out "$T/mail.jsonl" --user "$SMTP_USER" --password "$SMTP_PASS" \
  --reply busy@shop.example=451 >>"$T/smtp.out" 2>&1 &
PIDS+=("$!")
node "$PW_SOURCE_DIR/tests/notify/telegram-standin.js" --port 0 --port-file "$T/tg.port" \
  --log "$T/tg.jsonl" --token "$BOT_TOKEN" --error500 999 >>"$T/tg.out" 2>&1 &
PIDS+=("$!")
wait_until test -s "$T/smtp.port" || { cat "$T/smtp.out" >&2; fail "the SMTP sink did not start"; exit 1; }
wait_until test -s "$T/tg.port" || { cat "$T/tg.out" >&2; fail "the Telegram stand-in did not start"; exit 1; }
SMTP_URL=smtp://127.0.0.1:$(cat "$T/smtp.port")
TG_API=http://127.0.0.1:$(cat "$T/tg.port")
touch "$T/mail.jsonl" "$T/tg.jsonl"

# ---- refusals: a server that sends neither ----
start_server "$T/plain"
key=$(new_merchant test)
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --kind email --url ops@shop.example 2>&1) && rc=0 || rc=$?
contains "EMAIL without --smtp-url: FAILED_PRECONDITION" "FAILED_PRECONDITION" "$out"
contains "... naming what the operator sets" "--smtp-url" "$out"
out=$("$CLI" --retries 0 notify endpoint create --api-key "$key" --kind telegram --url 12345 2>&1) && rc=0 || rc=$?
contains "TELEGRAM without a bot token: FAILED_PRECONDITION" "FAILED_PRECONDITION" "$out"
contains "... naming the variable" "PAYWIRE_TELEGRAM_BOT_TOKEN" "$out"
stop_pid "$SERVER_PID" TERM
out=$("$SERVER_BIN" --data "$T/d2" --smtp-url "$SMTP_URL" 2>&1) && rc=0 || rc=$?
eq "--smtp-url without --smtp-from: exit 2" 2 "$rc"
contains "... saying they go together" "--smtp-from" "$out"
out=$("$SERVER_BIN" --data "$T/d2" --smtp-url "smtp://u:p@127.0.0.1:25" --smtp-from a@b.example 2>&1) && rc=0 || rc=$?
eq "credentials in --smtp-url: exit 2" 2 "$rc"
out=$("$SERVER_BIN" --data "$T/d2" --smtp-from "Shop <a@b.example>" 2>&1) && rc=0 || rc=$?
eq "a display name in --smtp-from: exit 2" 2 "$rc"
out=$(PAYWIRE_TELEGRAM_BOT_TOKEN=not-a-token "$SERVER_BIN" --data "$T/d2" 2>&1) && rc=0 || rc=$?
eq "a malformed bot token: exit 2" 2 "$rc"
case "$out" in *not-a-token*) fail "the token's value is echoed" ;; *) ok "the token's value is not echoed" ;; esac
out=$(PAYWIRE_SMTP_USER=u "$SERVER_BIN" --data "$T/d2" 2>&1) && rc=0 || rc=$?
eq "PAYWIRE_SMTP_USER without a password: exit 2" 2 "$rc"
contains "--help documents the channels" "PAYWIRE_TELEGRAM_BOT_TOKEN" "$("$SERVER_BIN" --help)"

# ---- the server under test ----
PAYWIRE_SMTP_USER=$SMTP_USER PAYWIRE_SMTP_PASSWORD=$SMTP_PASS PAYWIRE_TELEGRAM_BOT_TOKEN=$BOT_TOKEN \
  start_server "$T/data" --smtp-url "$SMTP_URL" --smtp-from paywire@shop.example --smtp-allow-plain \
  --telegram-api "$TG_API" --telegram-allow-http --notify-timeout-ms 5000
key=$(new_merchant test)
export PAYWIRE_API_KEY=$key
out=$("$CLI" --retries 0 notify endpoint create --kind email --url "Ops <ops@shop.example>" 2>&1) && rc=0 || rc=$?
contains "a display name is not an EMAIL endpoint's address" "INVALID_ARGUMENT" "$out"
out=$("$CLI" --retries 0 notify endpoint create --kind telegram --url "chat one" 2>&1) && rc=0 || rc=$?
contains "a malformed chat id refused" "chat id" "$out"
eq "... and nothing was created" 0 "$("$CLI" --json notify endpoint list | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["endpoints"]))')"

EPM=$("$CLI" --json notify endpoint create --kind email --url ops@shop.example --type session.canceled | json endpoint_id)
EPT=$("$CLI" --json notify endpoint create --kind telegram --url 12345 --type session.canceled | json endpoint_id)
contains "an EMAIL endpoint" "ep_" "$EPM"
contains "a TELEGRAM endpoint" "ep_" "$EPT"

SID=$("$CLI" --json session create --amount-minor 500 --currency EUR | json id)
"$CLI" session cancel "$SID" >/dev/null
mails() { $PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if "data" in json.loads(l)))' "$T/mail.jsonl"; }
mail_came() { [ "$(mails)" -ge 1 ]; }
tg_sent() { $PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("status")==200))' "$T/tg.jsonl"; }
tg_came() { [ "$(tg_sent)" -ge 1 ]; }
wait_until mail_came || fail "no mail arrived"
wait_until tg_came || fail "no Telegram message arrived"
outbox_is() { [ "$("$CLI" --json notify list | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')" = "$1" ]; }
wait_until outbox_is 0 || fail "the outbox did not empty"

$PY - "$T/mail.jsonl" "$SID" "$SMTP_USER" >"$T/mail.check" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
auth = [l for l in lines if "auth" in l]
mail = [l for l in lines if "data" in l]
m = mail[0]
hdr, _, body = m["data"].partition("\r\n\r\n")
h = {}
for line in hdr.split("\r\n"):
    if ":" in line and not line.startswith((" ", "\t")):
        k, v = line.split(":", 1)
        h[k.strip().lower()] = v.strip()
print("auth_ok", any(a["ok"] and a["user"] == sys.argv[3] for a in auth))
print("from", m["from"])
print("to", ",".join(m["to"]))
print("subject", h.get("subject", ""))
print("message_id", h.get("message-id", ""))
print("body_has_session", sys.argv[2] in body.replace("=\r\n", ""))
print("count", len(mail))
PY
cat "$T/mail.check"
contains "the relay's AUTH with the configured user" "auth_ok True" "$(cat "$T/mail.check")"
contains "envelope from --smtp-from" "from paywire@shop.example" "$(cat "$T/mail.check")"
contains "to the endpoint's address" "to ops@shop.example" "$(cat "$T/mail.check")"
contains "the subject says what happened" "subject [paywire] Checkout canceled ($SID)" "$(cat "$T/mail.check")"
contains "Message-ID is the message's webhook-id" "message_id <msg_" "$(cat "$T/mail.check")"
contains "the body names the session" "body_has_session True" "$(cat "$T/mail.check")"
contains "exactly one mail" "count 1" "$(cat "$T/mail.check")"
tg=$($PY -c 'import json,sys; l=[json.loads(x) for x in open(sys.argv[1])][0]; print(l["path_token_ok"], l["body"]["chat_id"], "Checkout canceled" in l["body"]["text"], sys.argv[2] in l["body"]["text"])' "$T/tg.jsonl" "$SID")
eq "Telegram: the bot's token, the endpoint's chat, the event, the session" "True 12345 True True" "$tg"

# ---- refusals by the relay and by Telegram: failures on the schedule ----
"$CLI" notify endpoint delete "$EPM" >/dev/null
"$CLI" notify endpoint delete "$EPT" >/dev/null
EPB=$("$CLI" --json notify endpoint create --kind email --url busy@shop.example --type session.canceled | json endpoint_id)
EP5=$("$CLI" --json notify endpoint create --kind telegram --url 999 --type session.canceled | json endpoint_id)
SID2=$("$CLI" --json session create --amount-minor 700 --currency EUR | json id)
"$CLI" session cancel "$SID2" >/dev/null
attempts_of() { # attempts_of EP N: the endpoint's one outbox message has N attempts
  [ "$("$CLI" --json notify list --endpoint "$1" | $PY -c 'import json,sys; m=json.load(sys.stdin)["messages"]; print(m[0]["attempts"] if m else -1)')" = "$2" ]
}
wait_until attempts_of "$EPB" 1 || fail "the 451 attempt was not recorded"
wait_until attempts_of "$EP5" 1 || fail "the 500 attempt was not recorded"
outm=$("$CLI" --json notify list --endpoint "$EPB")
outt=$("$CLI" --json notify list --endpoint "$EP5")
contains "the relay's 451 is the attempt's reason" "451" "$outm"
contains "Telegram's 500 is the attempt's reason" "500" "$outt"
# the schedule: 5 s later (+-10%) the next attempt; not before
set_clock $((NOW + 4000))
sleep 1 # (not a time assertion: gives a wrongly early retry the chance to show)
attempts_of "$EPB" 1 && ok "no retry before the schedule's first wait" || fail "retried early"
set_clock $((NOW + 6000))
wait_until attempts_of "$EPB" 2 || fail "no second attempt after 5 s (+-10%)"
wait_until attempts_of "$EP5" 2 || fail "no second Telegram attempt after 5 s (+-10%)"
eq "no mail was accepted for busy@" 1 "$(mails)"

# ---- no secret anywhere ----
all="$(cat "$T/server.log") $outm $outt $("$CLI" --json notify endpoint list)"
case "$all" in *"$SMTP_PASS"*) fail "the relay's password leaked" ;; *) ok "the relay's password is in no log or reply" ;; esac
case "$all" in *"${BOT_TOKEN#*:}"*) fail "the bot token leaked" ;; *) ok "the bot token is in no log or reply" ;; esac
finish
