#!/usr/bin/env bash
# interop_test.sh - the wire is plain protobuf over nng REQ/REP: a request
# encoded by the standard protobuf toolchain (protoc --encode, Debian's
# protobuf-compiler), sent with nngcat (Debian's nng-utils), gets a reply that
# protoc --decode reads. No paywire code on the client side at all.
. "$(dirname "$0")/lib.sh"
proto_dir=$PW_SOURCE_DIR/proto

start_server "$T/data"

# send REQ_FILE -> $T/rep.bin. No --count: nngcat 1.5.2 with --count and no
# --interval sets its receive timeout to (0 - milliseconds since the send),
# which nng refuses as soon as a millisecond has passed ("Cannot set recv
# timeout: Invalid argument", nearly always on a loaded machine). Without
# --count it sends once and receives until the REQ socket has its reply, bounded
# by --recv-timeout. Re-sending the same bytes stays safe (every call carries a
# request_id and a repeat gets the stored reply), so a missing reply is still
# retried, bounded: 5 attempts.
send() {
  local i
  for i in 1 2 3 4 5; do
    nngcat --req --dial "$SERVER_URL" --raw --recv-timeout "$HANG_S" --file "$1" \
      >"$T/rep.bin" 2>"$T/nngcat.err" || true
    [ -s "$T/rep.bin" ] && return 0
    echo "    (nngcat attempt $i gave no reply: $(head -c 200 "$T/nngcat.err"))"
  done
  return 1
}
# call TEXTPROTO -> prints the decoded Response as protobuf text
call() {
  printf '%s' "$1" | protoc --encode=paywire.v1.Request -I "$proto_dir" paywire/v1/paywire.proto >"$T/req.bin"
  send "$T/req.bin" >&2
  protoc --decode=paywire.v1.Response -I "$proto_dir" paywire/v1/paywire.proto <"$T/rep.bin"
}

out=$(call "request_id: \"interop-1\" api_key: \"$PAYWIRE_ADMIN_KEY\" create_merchant { name: \"Interop shop\" mode: MODE_TEST }")
echo "$out" | sed 's/^/    | /'
contains "protoc+nngcat: create_merchant answers OK (code 0 is omitted in proto3 text)" 'create_merchant {' "$out"
contains "protoc+nngcat: request_id echoed" 'request_id: "interop-1"' "$out"
key=$(echo "$out" | sed -n 's/^ *api_key: "\(sk_test_[^"]*\)"/\1/p')
check "protoc+nngcat: a raw sk_test_ key is returned" test -n "$key"

out=$(call "request_id: \"interop-2\" api_key: \"$key\" create_session { amount_minor: 4900 currency: \"EUR\" mode: MODE_TEST customer_email: \"jane@example.com\" metadata { key: \"order\" value: \"1001\" } }")
echo "$out" | sed 's/^/    | /'
contains "protoc+nngcat: create_session amount" 'amount_minor: 4900' "$out"
contains "protoc+nngcat: create_session status created" 'status: SESSION_STATUS_CREATED' "$out"
sid=$(echo "$out" | sed -n 's/^ *id: "\(cs_[^"]*\)"/\1/p' | head -1)
check "protoc+nngcat: a cs_ session id is returned" test -n "$sid"

out=$(call "request_id: \"interop-3\" get_status { session_id: \"$sid\" }")
contains "protoc+nngcat: get_status reads the session back" "session_id: \"$sid\"" "$out"
contains "protoc+nngcat: get_status currency" 'currency: "EUR"' "$out"

out=$(call "request_id: \"interop-4\" get_status { session_id: \"cs_does_not_exist\" }")
contains "protoc+nngcat: unknown session is NOT_FOUND (5)" 'code: 5' "$out"

# A request the standard encoder can produce but this server does not know:
# field 99 (unknown) is refused, not ignored in silence.
printf '%s' 'request_id: "interop-5" get_status { session_id: "x" }' \
  | protoc --encode=paywire.v1.Request -I "$proto_dir" paywire/v1/paywire.proto >"$T/req.bin"
printf '\x98\x06\x01' >>"$T/req.bin"   # field 99, varint 1
send "$T/req.bin"
out=$(protoc --decode=paywire.v1.Response -I "$proto_dir" paywire/v1/paywire.proto <"$T/rep.bin")
contains "protoc+nngcat: an unknown field is refused with INVALID_ARGUMENT (3)" 'code: 3' "$out"
finish
