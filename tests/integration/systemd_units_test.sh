#!/usr/bin/env bash
# systemd_units_test.sh - the packaged unit files (contrib/systemd/) pass
# `systemd-analyze verify` and score "OK" or better in `systemd-analyze
# security` (offline); the restart rule matches the server's store-failure
# exit code; the man pages and the bash completion the package installs work.
# Skipped (exit 77, with the reason) where systemd-analyze is not installed.
. "$(dirname "$0")/lib.sh"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "skip: systemd-analyze is not installed (Debian: systemd); the unit files were not checked"
  exit 77
fi
units=$PW_SOURCE_DIR/contrib/systemd
mkdir -p "$T/units"
# verify needs the ExecStart binaries to exist: the build tree's stand in for /usr/bin
for u in server bridge; do
  sed "s|/usr/bin/paywire-$u|$PW_BIN_DIR/$u/paywire-$u|" "$units/paywire-$u.service" \
    >"$T/units/paywire-$u.service"
done
# Documentation=man:... is checked too: the project's own pages
out=$(cd "$T/units" && MANPATH=$PW_SOURCE_DIR/docs/man systemd-analyze verify \
  paywire-server.service paywire-bridge.service 2>&1) && rc=0 || rc=$?
eq "systemd-analyze verify: exit 0" 0 "$rc"
eq "systemd-analyze verify: no complaint" "" "$out"

for u in server bridge; do
  # exposure <= 4.9 is OK, <= 1.0 SAFE (threshold is in tenths)
  out=$(cd "$T/units" && systemd-analyze security --offline=yes --threshold=49 \
    "paywire-$u.service" 2>&1) && rc=0 || rc=$?
  eq "paywire-$u: exposure OK or better" 0 "$rc"
  echo "# $(printf '%s\n' "$out" | grep 'Overall exposure')"
  f=$units/paywire-$u.service
  for line in Type=notify WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
    'SystemCallFilter=@system-service' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    CapabilityBoundingSet= MemoryDenyWriteExecute=yes User=paywire Restart=on-failure; do
    check "paywire-$u: $line" grep -q "^$line" "$f"
  done
  check "paywire-$u.service: its man page exists" test -f "$PW_SOURCE_DIR/docs/man/man1/paywire-$u.1"
done
check "paywire-server: StateDirectory=paywire, mode 0700" \
  grep -q '^StateDirectoryMode=0700' "$units/paywire-server.service"
# the store-failure exit code of the server is the one the unit restarts on
code=$(awk '$2 == "SRV_EXIT_STORE_FAILED" {print $3}' "$PW_SOURCE_DIR/server/srv_config.h")
check "the server's store-failure exit code ($code) restarts the service" \
  grep -q "^RestartForceExitStatus=$code\$" "$units/paywire-server.service"
check "a configuration error (exit 2) does not loop" \
  grep -q '^RestartPreventExitStatus=2$' "$units/paywire-server.service"

# man pages: no troff warning
for p in "$PW_SOURCE_DIR"/docs/man/man1/*.1; do
  if command -v man >/dev/null 2>&1; then
    out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
    eq "$(basename "$p"): no troff warning" "" "$out"
  fi
done

# bash completion: with bash-completion's helpers when installed, else the
# two it uses, minimal
comp=$PW_SOURCE_DIR/contrib/bash-completion/paywire
complete_words() { # complete_words WORD... (the last one is being completed)
  bash -c '
    if [ -f /usr/share/bash-completion/bash_completion ]; then . /usr/share/bash-completion/bash_completion
    else
      _init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
      _filedir() { :; }
    fi
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _paywire; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$comp" "$@"
}
cli=$PW_BIN_DIR/client/paywire
contains "completion: commands" "session" "$(complete_words "$cli" se)"
eq "completion: a group's verbs" "cancel create get list test-pay " "$(complete_words "$cli" session "")"
eq "completion: a verb's options" "--amount --amount-minor " "$(complete_words "$cli" session create --amou)"
eq "completion: a value" "live test " "$(complete_words "$cli" merchant create --mode "")"
eq "completion: three-word commands" "delete list set " "$(complete_words "$cli" merchant credentials "")"
finish
