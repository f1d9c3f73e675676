#!/usr/bin/env bash
# systemd-boot-test.sh: install paywire's Debian packages on a Debian 12 that
# boots with systemd as PID 1 (systemd-nspawn) and check the units there:
# started by the package's postinst, Type=notify readiness, the watchdog, the
# hardening of the running processes, the restart rules (signal and exit 3
# restart, exit 2 does not), a clean stop, and apt-get purge.
#
#   ./scripts/systemd-boot-test.sh            # as root, after ./scripts/build-debs.sh
#   ./scripts/package-test.sh                 # runs it at its end (fresh-machine)
#
# Needs root, dist/paywire_*.deb and dist/libpaywire0_*.deb, and the Debian
# archive (debootstrap, apt-get). Installs systemd-container and debootstrap
# on the machine it runs on. The container root is built with debootstrap
# (--variant=minbase bookworm + systemd, systemd-sysv, dbus and the README
# example's tools) and cached in $PW_NSPAWN_BASE (default
# /var/tmp/paywire-nspawn-base); each run boots a copy. The container has its
# own network namespace (loopback only: the packages' default ports), and
# everything the probe installs is downloaded beforehand (apt-get
# --download-only): inside, nothing is downloaded.
#
# How: a oneshot-like unit pw-probe.service (After=multi-user.target) runs
# /pw-probe/probe.sh in the booted container; it writes "ok - ..." and
# "not ok - ..." lines to /pw-probe/results, then "DONE", then powers the
# container off. This script reads that file: exit 0 only if the container
# booted, the probe finished, and no check failed. If systemd-nspawn cannot
# boot the container here, it says so and exits 1: never a silent pass.
# Every wait is bounded (PW_NSPAWN_TIMEOUT, default 1200 s, for the whole
# boot; a minute or more for each condition inside).
# The units' PrivateUsers=yes needs user namespaces, which the kernel refuses
# in a chroot (fresh-machine's): there the run uses a test drop-in with
# PrivateUsers=no, says so, and checks everything else (PW_BOOT_REQUIRE_USERNS=1:
# fail instead); outside a chroot, nothing is changed. Exit 3 (the store failed)
# comes from a store damaged under the running server (a table's root page
# moved past the end of data.mdb): the server exits 3, systemd restarts it.
# docs/PACKAGING.md.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
case "${1:-}" in -h|--help) usage; exit 0 ;; "") ;; *) usage >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "systemd-boot-test: run as root on a throwaway machine" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export DEBIAN_FRONTEND=noninteractive
base=${PW_NSPAWN_BASE:-/var/tmp/paywire-nspawn-base}
limit=${PW_NSPAWN_TIMEOUT:-1200}
die() { echo "systemd-boot-test: FAIL: $*" >&2; exit 1; }
step() { echo; echo "== $*"; }

debs=$(ls dist/paywire_*.deb dist/libpaywire0_*.deb 2>/dev/null) || true
[ "$(echo "$debs" | grep -c .)" = 2 ] || die "need exactly one dist/paywire_*.deb and one dist/libpaywire0_*.deb (./scripts/build-debs.sh); found: [$debs]"

step "systemd-nspawn and debootstrap on this machine"
if ! command -v systemd-nspawn >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get install -y -qq --no-install-recommends systemd-container debootstrap >/dev/null
fi
systemd-nspawn --version | head -1
# The units have PrivateUsers=yes: systemd makes a user namespace for each
# service, and the kernel refuses one (EPERM) to a process in a chroot, i.e.
# whose root is not its mount namespace's (fresh-machine's plain chroot).
# There, and only there, the boot runs with a test drop-in that sets
# PrivateUsers=no, says so loudly, and checks the rest: a chroot cannot give
# a user namespace to anything it starts, so that one setting is checked
# where the test runs outside a chroot (PW_BOOT_REQUIRE_USERNS=1 makes its
# absence a failure). systemd-nspawn also needs / to be a mount point: in a
# chroot the test re-runs itself in a private mount namespace whose root is
# a bind mount of the chroot's /.
no_userns=${PW_BOOT_NO_USERNS:-}
if [ -z "$no_userns" ] && ! unshare --user true 2>/dev/null; then
  why=$(unshare --user true 2>&1 | sed 's/^unshare: //' || true)
  if [ -n "${PW_BOOT_REQUIRE_USERNS:-}" ]; then
    die "this environment refuses user namespaces ($why) and PW_BOOT_REQUIRE_USERNS is set"
  fi
  echo "systemd-boot-test: NOTE: user namespaces are refused here ($why): a chroot?" >&2
  echo "systemd-boot-test: NOTE: the units run with PrivateUsers=no in this run (a test drop-in); every other check runs." >&2
  no_userns=1
fi
if [ -n "$no_userns" ] && [ -z "${PW_BOOT_REEXEC:-}" ] && ! mountpoint -q /; then
  echo "systemd-boot-test: / is not a mount point (a chroot): re-running in a private mount namespace rooted at a bind of /" >&2
  exec unshare -m --propagation unchanged sh -c 'mkdir -p /mnt/pw-boot-root &&
    mount --rbind / /mnt/pw-boot-root && mount --make-rprivate /mnt/pw-boot-root &&
    exec chroot /mnt/pw-boot-root env PW_BOOT_REEXEC=1 PW_BOOT_NO_USERNS=1 bash "$0"' "$top/scripts/systemd-boot-test.sh"
fi

mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
if [ ! -f "$base/.ok" ]; then
  step "a Debian 12 root with systemd (debootstrap --variant=minbase bookworm, $mirror)"
  rm -rf "$base"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,python3,curl,openssl,ca-certificates \
    bookworm "$base" "$mirror" >/var/tmp/paywire-nspawn-debootstrap.log 2>&1 \
    || { tail -20 /var/tmp/paywire-nspawn-debootstrap.log; die "debootstrap failed (/var/tmp/paywire-nspawn-debootstrap.log)"; }
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$base/etc/apt/sources.list.d/"
    rm -f "$base/etc/apt/sources.list"
  fi
  touch "$base/.ok"
fi

root=$(mktemp -d /var/tmp/paywire-nspawn.XXXXXX)
cleanup() {
  [ -n "${PW_NSPAWN_KEEP:-}" ] && { echo "systemd-boot-test: kept $root" >&2; return; }
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
cp -a "$base/." "$root/"
rm -f "$root/.ok"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$root/pw-probe/debs"
if [ -n "$no_userns" ]; then
  for u in paywire-server paywire-bridge; do
    mkdir -p "$root/etc/systemd/system/$u.service.d"
    printf '# systemd-boot-test only: this environment refuses user namespaces\n[Service]\nPrivateUsers=no\n' \
      >"$root/etc/systemd/system/$u.service.d/zz-boot-test-no-userns.conf"
  done
  echo "# NOTE: PrivateUsers=no for this run (user namespaces refused here); not checked" >"$root/pw-probe/results"
fi
# shellcheck disable=SC2086
cp $debs "$root/pw-probe/debs/"
cp README.md "$root/pw-probe/README.md"

step "download what the packages depend on (installed offline inside the container)"
chroot "$root" apt-get update -qq
# shellcheck disable=SC2046
chroot "$root" apt-get install -y -qq --no-install-recommends --download-only \
  $(cd "$root" && ls pw-probe/debs/*.deb | sed 's|^|/|') >/dev/null \
  || die "apt-get --download-only of the packages' dependencies failed"

# the probe: runs inside the booted container as pw-probe.service
cat >"$root/pw-probe/probe.sh" <<'PROBE'
#!/bin/bash
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root
R=/pw-probe/results
exec >>/pw-probe/log 2>&1
res() { echo "$*" >>"$R"; echo "$*"; }
ok() { res "ok - $*"; }
fail() { res "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected [$2] got [$3]"; fi; }
contains() { case "$3" in *"$2"*) ok "$1" ;; *) fail "$1: [$2] not in [${3:0:300}]" ;; esac; }
# wait_until SECONDS COMMAND...: a bounded wait on a condition
wait_until() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -lt $end ] || return 1; sleep 0.5; done; }
prop() { systemctl show -P "$2" "$1" 2>/dev/null; }
pkgs() { dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 ~ /^.i/ {print $2}' | sort; }
files() { find /etc /usr /var /opt -xdev \( -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/cache \
  -o -path /var/log -o -path /var/tmp -o -path /var/lib/systemd \) -prune -o -print 2>/dev/null | sort; }
# the CLI as the package documents it: the secrets of /etc/paywire/paywire.env,
# the server's default address
cli() { sh -c 'set -a; . /etc/paywire/paywire.env; set +a; exec /usr/bin/paywire "$@"' _ "$@"; }
answers() { case "$(cli --timeout-ms 5000 --retries 0 status cs_probe 2>&1)" in *NOT_FOUND*) return 0 ;; esac; return 1; }
active() { [ "$(prop "$1" ActiveState)" = active ]; }
restarted() { [ "$(prop paywire-server NRestarts)" = "$1" ] && active paywire-server && [ "$(prop paywire-server MainPID)" != "$2" ] \
  && [ "$(prop paywire-server MainPID)" != 0 ]; }
hardened() { # NAME PID USER
  local s; s=$(cat "/proc/$2/status" 2>/dev/null)
  check "$1 has a main process" test -n "$s" -a "$2" != 0
  contains "$1: NoNewPrivs: 1 (NoNewPrivileges=)" "$(printf 'NoNewPrivs:\t1')" "$s"
  contains "$1: Seccomp: 2 (SystemCallFilter=)" "$(printf 'Seccomp:\t2')" "$s"
  contains "$1: no effective capability (CapabilityBoundingSet=)" "$(printf 'CapEff:\t0000000000000000')" "$s"
  contains "$1: no bounding capability" "$(printf 'CapBnd:\t0000000000000000')" "$s"
  eq "$1 runs as user $3" "$(id -u "$3") $(id -u "$3")" \
    "$(awk '/^Uid:/ {print $2, $3}' "/proc/$2/status" 2>&1)"
  # ProtectSystem=strict: its / is read-only in its mount namespace
  eq "$1: / read-only in its namespace (ProtectSystem=strict)" ro \
    "$(awk '$5 == "/" {split($6, o, ","); print o[1]; exit}' "/proc/$2/mountinfo")"
}

res "# container: PID 1 is $(cat /proc/1/comm), systemd $(systemctl --version | head -1)"
state=$(timeout 120 systemctl is-system-running --wait 2>&1) || true
res "# system state after boot: $state"
eq "systemd is PID 1 in the container" systemd "$(cat /proc/1/comm)"
before=$(files)
without_paywire=$(pkgs)

# 1. apt-get install: the postinst starts both units (deb-systemd-invoke)
# (the dependencies are in apt's cache already: nothing is downloaded; not
# --no-download, with which apt 2.6 refuses local .deb files: "Pathname to
# install is not absolute")
inst=$(apt-get install -y --no-install-recommends /pw-probe/debs/paywire_*.deb \
  /pw-probe/debs/libpaywire0_*.deb 2>&1) && rc=0 || rc=$?
echo "$inst"
eq "apt-get install ./paywire_*.deb ./libpaywire0_*.deb exits 0" 0 "$rc"
# Type=notify: systemctl start (postinst) returned only after READY=1
eq "paywire-server active when apt-get install returned (postinst started it)" active "$(prop paywire-server ActiveState)"
eq "paywire-bridge active when apt-get install returned" active "$(prop paywire-bridge ActiveState)"
check "paywire-server answers the CLI right after install" answers
for u in paywire-server paywire-bridge; do
  res "# $u: $(systemctl show -p ActiveState,SubState,Type,NotifyAccess,WatchdogUSec,MainPID,NRestarts,User "$u" | tr '\n' ' ')"
  eq "$u: SubState running" running "$(prop $u SubState)"
  eq "$u: Type=notify" notify "$(prop $u Type)"
  eq "$u: NotifyAccess=main" main "$(prop $u NotifyAccess)"
  eq "$u: WatchdogUSec=30s" 30s "$(prop $u WatchdogUSec)"
  eq "$u: enabled" enabled "$(systemctl is-enabled $u 2>&1)"
done
res "# $(cli --version 2>&1)"

# 2. the README's end-to-end example against the units (default ports)
awk '$0=="<!-- readme-e2e:begin -->" {on=1; next} $0=="<!-- readme-e2e:end -->" {on=0} on && !/^```/' /pw-probe/README.md \
  | sed -e 's#\. data/paywire.env#. /etc/paywire/paywire.env#' -e 's#build/client/paywire#/usr/bin/paywire#' >/pw-probe/e2e.sh
out=$(cd /tmp && bash -euo pipefail /pw-probe/e2e.sh 2>&1) && rc=0 || rc=$?
echo "$out"
eq "README end-to-end example exits 0" 0 "$rc"
contains "the signed Stripe event through the bridge is applied" '"outcome":"applied"' "$out"
contains "the session is paid (CLI)" 'status: paid' "$out"
contains "the session is paid (bridge's HTTP status)" '"status":"paid"' "$out"
a=$(cli audit verify 2>&1) && rc=0 || rc=$?
res "# audit verify: $(echo "$a" | tr -s " \n" " ")"
eq "paywire audit verify" 0 "$rc"

# 3. hardening, seen on the running processes
spid=$(prop paywire-server MainPID); bpid=$(prop paywire-bridge MainPID)
hardened paywire-server "$spid" paywire
hardened paywire-bridge "$bpid" paywire
eq "/var/lib/paywire: 700 paywire:paywire" "700 paywire:paywire" "$(stat -c '%a %U:%G' /var/lib/paywire)"
eq "paywire.key: 600 paywire" "600 paywire" "$(stat -c '%a %U' /var/lib/paywire/paywire.key 2>&1)"

# 4. readiness: systemctl restart returns after READY=1, when it serves
for i in 1 2 3; do
  systemctl restart paywire-server && rc=0 || rc=$?
  if [ "$rc" = 0 ] && answers; then ok "restart $i: the server answers as soon as systemctl restart returns"
  else fail "restart $i: systemctl restart exit $rc, or no answer right after it"; fi
done

# 5. watchdog: WATCHDOG=1 pings keep coming; still the same process after
# more than WatchdogSec (counted in pings: the server pings every quarter)
spid=$(prop paywire-server MainPID); n0=$(prop paywire-server NRestarts)
pings=0 last=$(prop paywire-server WatchdogTimestampMonotonic)
ping_seen() { local w; w=$(prop paywire-server WatchdogTimestampMonotonic)
  [ "$w" != "$last" ] && [ "$w" != 0 ] && { last=$w; pings=$((pings + 1)); }; [ $pings -ge 6 ]; }
check "paywire-server: 6 watchdog pings (WatchdogTimestamp moves; 6 x WatchdogSec/4 > WatchdogSec)" wait_until 240 ping_seen
res "# server watchdog pings seen: $pings, last at $(prop paywire-server WatchdogTimestamp)"
eq "paywire-server still active, same process, no restart after those pings" "active $spid $n0" \
  "$(prop paywire-server ActiveState) $(prop paywire-server MainPID) $(prop paywire-server NRestarts)"
bw=$(prop paywire-bridge WatchdogTimestampMonotonic)
bridge_ping() { local w; w=$(prop paywire-bridge WatchdogTimestampMonotonic); [ "$w" != "$bw" ] && [ "$w" != 0 ]; }
check "paywire-bridge: a watchdog ping (WatchdogTimestamp moves)" wait_until 120 bridge_ping
eq "paywire-bridge still the same process" "active $bpid" "$(prop paywire-bridge ActiveState) $(prop paywire-bridge MainPID)"

# 6. restart rules
res "# paywire-server: $(systemctl show -p Restart,RestartUSec,RestartForceExitStatus,RestartPreventExitStatus,SuccessExitStatus paywire-server | tr '\n' ' ')"
eq "Restart=on-failure" on-failure "$(prop paywire-server Restart)"
eq "RestartForceExitStatus=3" 3 "$(prop paywire-server RestartForceExitStatus)"
eq "RestartPreventExitStatus=2" 2 "$(prop paywire-server RestartPreventExitStatus)"
# 6a. killed by a signal: restarted
spid=$(prop paywire-server MainPID); n0=$(prop paywire-server NRestarts)
systemctl kill -s KILL paywire-server
check "SIGKILL: restarted (NRestarts $n0 -> $((n0 + 1)), a new MainPID, active)" wait_until 120 restarted $((n0 + 1)) "$spid"
check "SIGKILL: the restarted server answers" wait_until 60 answers
# 6b. exit 3: the store damaged under the running server, made without test
# hooks: with the server stopped, data.mdb is saved; the server started;
# then, while it runs, the records of LMDB's main tree that describe each
# table get a root page past the end of the file (its map is MAP_SHARED: it
# sees the write). Its next read meets the missing page (LMDB 0.9 answers
# MDB_BAD_TXN for it), the store fails, the server exits 3
# (SRV_EXIT_STORE_FAILED) and systemd restarts it (RestartForceExitStatus=3,
# Restart=on-failure). The saved file is put back afterwards.
systemctl stop paywire-server
mdb=/var/lib/paywire/data.mdb
cp -p "$mdb" /root/data.mdb.orig
cat >/pw-probe/break.py <<'PY'
import struct, sys
# LMDB 0.9, 64-bit: page header 16 bytes (pgno u64, pad u16, flags u16,
# lower u16, upper u16); meta: magic u32 @16, dbs[FREE] @40 (md_pad = page
# size), dbs[MAIN] @88 (48 bytes, md_root @+40), txnid u64 @144. A leaf
# node: data size u32 (lo, hi u16), flags u16, key size u16, key, data.
path = sys.argv[1]
P_LEAF, F_SUBDATA = 0x02, 0x02
with open(path, "r+b") as f:
    data = f.read()
    if struct.unpack_from("<I", data, 16)[0] != 0xBEEFC0DE:
        sys.exit("not an LMDB data file")
    psize = struct.unpack_from("<I", data, 40)[0]
    metas = [(struct.unpack_from("<Q", data, b + 144)[0], b) for b in (0, psize)]
    base = max(metas)[1]
    root = struct.unpack_from("<Q", data, base + 128)[0]
    page = root * psize
    flags, lower = struct.unpack_from("<HH", data, page + 10)
    if not flags & P_LEAF:
        sys.exit("main tree root page %d is not a leaf (flags %#x)" % (root, flags))
    n = 0
    for i in range((lower - 16) // 2):
        node = page + struct.unpack_from("<H", data, page + 16 + 2 * i)[0]
        nflags, ksize = struct.unpack_from("<HH", data, node + 4)
        if nflags & F_SUBDATA:
            f.seek(node + 8 + ksize + 40)
            f.write(struct.pack("<Q", 1 << 40))
            n += 1
    f.flush()
    print("%d tables' roots moved past the end" % n)
    sys.exit(0 if n > 0 else "no table found in the main tree")
PY
systemctl start paywire-server
check "started again: answers" wait_until 60 answers
spid=$(prop paywire-server MainPID); n0=$(prop paywire-server NRestarts)
jstart=$(date '+%Y-%m-%d %H:%M:%S')
b=$(python3 /pw-probe/break.py "$mdb" 2>&1) && rc=0 || rc=$?
res "# corrupting data.mdb: $b"
eq "the tables' root pages point past the end of data.mdb" 0 "$rc"
w=$(cli --timeout-ms 5000 --retries 0 status cs_probe 2>&1) && rc=0 || rc=$?
res "# a read on the corrupted data: exit $rc: $(echo "$w" | head -2 | tr '\n' ' ')"
died() { journalctl -q -u paywire-server --since "$jstart" --no-pager -o cat 2>/dev/null | grep -q -e 'status=3/' -e 'status=6/ABRT'; }
check "the damaged store stops the server" wait_until 120 died
again() { [ "$(prop paywire-server NRestarts)" -gt "$n0" ]; }
check "the damaged store: systemd restarts the server (NRestarts > $n0)" wait_until 120 again
j=$(journalctl -q -u paywire-server --since "$jstart" --no-pager -o cat 2>&1)
echo "$j"
res "# how it stopped: $(echo "$j" | grep -m1 -e 'status=3/' -e 'status=6/' | sed 's/^paywire-server.service: //')"
res "# why: $(echo "$j" | grep -m1 -e 'store: FAILED' -e 'assertion failed' -e 'MDB_')"
eq "the damaged store: the server exited 3 (status=3, not an abort)" 1 \
  "$(echo "$j" | grep -q 'status=3/' && ! echo "$j" | grep -q -e 'status=6/ABRT' -e 'assertion failed' && echo 1)"
contains "the damaged store: the journal says why (store: FAILED)" "store: FAILED" "$j"
eq "the damaged store: a restart is scheduled after exit 3" 1 \
  "$(echo "$j" | awk '/status=3\// {e=1} e && /Scheduled restart job/ {print 1; exit}')"
check "the damaged store: the failed process is gone" test "$(prop paywire-server MainPID)" != "$spid"
systemctl stop paywire-server
cp -p /root/data.mdb.orig "$mdb"
systemctl reset-failed paywire-server 2>/dev/null || true
systemctl start paywire-server && rc=0 || rc=$?
eq "data.mdb put back: systemctl start exits 0" 0 "$rc"
check "data.mdb put back: answers" wait_until 60 answers
w=$(cli --json merchant create --name "after exit 3" --mode test 2>&1) && rc=0 || rc=$?
contains "data.mdb put back: a write succeeds" api_key "$w"
# 6c. exit 2, bad configuration (an admin key too short): not restarted
cp -p /etc/paywire/paywire.env /root/paywire.env.orig
sed -i 's/^PAYWIRE_ADMIN_KEY=.*/PAYWIRE_ADMIN_KEY=adm_short/' /etc/paywire/paywire.env
n0=$(prop paywire-server NRestarts)
jstart=$(date '+%Y-%m-%d %H:%M:%S')
systemctl restart paywire-server && rc=0 || rc=$?
check "bad paywire.env: systemctl restart fails" test "$rc" != 0
failed() { [ "$(prop paywire-server ActiveState)" = failed ]; }
# a restart to come would keep it "activating (auto-restart)"; failed is final
check "exit 2: the unit ends failed, no restart scheduled" wait_until 120 failed
eq "exit 2: ExecMainStatus=2, Result=exit-code, NRestarts unchanged" "2 exit-code $n0" \
  "$(prop paywire-server ExecMainStatus) $(prop paywire-server Result) $(prop paywire-server NRestarts)"
j=$(journalctl -q -u paywire-server --since "$jstart" --no-pager -o cat 2>&1)
echo "$j"
contains "journal: the message names the variable" PAYWIRE_ADMIN_KEY "$j"
case "$j" in *adm_short*) fail "journal shows the bad secret's value" ;; *) ok "journal does not show the bad secret's value" ;; esac
cp -p /root/paywire.env.orig /etc/paywire/paywire.env
systemctl reset-failed paywire-server
systemctl start paywire-server && rc=0 || rc=$?
eq "configuration repaired: systemctl start exits 0" 0 "$rc"
check "configuration repaired: answers" answers
a=$(cli audit verify 2>&1) && rc=0 || rc=$?
res "# audit verify: $(echo "$a" | tr -s " \n" " ")"
eq "paywire audit verify after the restarts" 0 "$rc"

# 7. systemctl stop: clean exits, no failed unit
systemctl stop paywire-bridge paywire-server && rc=0 || rc=$?
eq "systemctl stop paywire-bridge paywire-server exits 0" 0 "$rc"
for u in paywire-server paywire-bridge; do
  eq "$u stopped cleanly (inactive, Result=success, exit 0)" "inactive success 0" \
    "$(prop $u ActiveState) $(prop $u Result) $(prop $u ExecMainStatus)"
done
eq "no failed unit" "" "$(systemctl list-units --failed --no-legend --plain 2>&1)"

# 8. apt-get purge (first the test's own drop-ins, where a chroot made it
# write them: they are the test's, not the package's, and would keep the
# units loaded)
if ls /etc/systemd/system/paywire-*.service.d/zz-boot-test-no-userns.conf >/dev/null 2>&1; then
  rm -f /etc/systemd/system/paywire-*.service.d/zz-boot-test-no-userns.conf
  rmdir /etc/systemd/system/paywire-*.service.d 2>/dev/null || true
  systemctl daemon-reload
fi
apt-get purge -y paywire libpaywire0 && rc=0 || rc=$?
eq "apt-get purge paywire libpaywire0 exits 0" 0 "$rc"
apt-get autoremove --purge -y >/dev/null
eq "the packages and what they pulled in are gone" "$without_paywire" "$(pkgs)"
eq "no paywire unit file" "" "$(systemctl list-unit-files --no-legend 'paywire*' 2>&1)"
eq "no paywire unit loaded" "" "$(systemctl list-units --all --no-legend --plain 'paywire*' 2>&1)"
running=$(for e in /proc/[0-9]*/exe; do readlink "$e" 2>/dev/null; done | grep -c '^/usr/bin/paywire' || true)
eq "no paywire process" 0 "$running"
left=$(comm -13 <(echo "$before") <(files))
res "# files left after purge: $(echo "$left" | tr '\n' ' ')"
eq "only the data directory (and the user database's backups) left" "" \
  "$(echo "$left" | grep -v -e '^/var/lib/paywire' -e '^/etc/passwd-$' -e '^/etc/group-$' \
    -e '^/etc/shadow-$' -e '^/etc/gshadow-$' || true)"
check "/var/lib/paywire kept (documented: the operator's data)" test -f /var/lib/paywire/paywire.key
check "/etc/paywire gone" test ! -e /etc/paywire
check "/etc/default/paywire gone" test ! -e /etc/default/paywire
res "# user paywire after purge: $(getent passwd paywire || echo none) (kept on purpose: docs/PACKAGING.md)"
res DONE
systemctl poweroff --no-block
PROBE
chmod 755 "$root/pw-probe/probe.sh"
cat >"$root/etc/systemd/system/pw-probe.service" <<'UNIT'
[Unit]
Description=paywire systemd boot test probe (scripts/systemd-boot-test.sh)
After=multi-user.target

[Service]
Type=exec
ExecStart=/pw-probe/probe.sh
# the probe stops what it tests: systemd must not stop it for that
KillMode=process

[Install]
WantedBy=multi-user.target
UNIT
ln -s /etc/systemd/system/pw-probe.service "$root/etc/systemd/system/multi-user.target.wants/pw-probe.service"

step "boot the container (systemd-nspawn -b, private network; at most ${limit}s)"
set +e
timeout --kill-after=30 "$limit" systemd-nspawn -q -D "$root" -b --register=no --keep-unit --private-network \
  >/var/tmp/paywire-nspawn-boot.log 2>&1
nrc=$?
set -e
# nspawn's own directory, which it will not remove where /run is on disk
rm -rf --one-file-system "/run/systemd/nspawn/propagate/$(basename "$root")"
grep -v -e 'Failed to create symlink /sys/fs/cgroup' /var/tmp/paywire-nspawn-boot.log | tail -8 | sed 's/^/   boot: /'
echo "   systemd-nspawn exit $nrc (boot log: /var/tmp/paywire-nspawn-boot.log)"

step "results of the probe inside the container"
R=$root/pw-probe/results
if [ ! -s "$R" ]; then
  echo "systemd-boot-test: NO RESULTS: systemd-nspawn did not boot the container or the probe never ran." >&2
  echo "systemd-boot-test: this environment cannot run the units under systemd; the test FAILS (it does not pass without systemd)." >&2
  tail -40 /var/tmp/paywire-nspawn-boot.log >&2
  exit 1
fi
cat "$R"
if [ "$nrc" = 124 ] || [ "$nrc" = 137 ]; then
  echo "systemd-boot-test: the container did not power off within ${limit}s" >&2
fi
cp "$root/pw-probe/log" /var/tmp/paywire-nspawn-probe.log 2>/dev/null || true
passed=$(grep -c '^ok - ' "$R" || true)
failed=$(grep -c '^not ok - ' "$R" || true)
echo
echo "systemd boot test: $passed passed, $failed failed (probe log: /var/tmp/paywire-nspawn-probe.log)"
grep -qx DONE "$R" || die "the probe did not finish (timeout or crash): see /var/tmp/paywire-nspawn-probe.log"
[ "$failed" -eq 0 ] || die "$failed check(s) failed under systemd"
[ "$nrc" = 0 ] || die "systemd-nspawn exit $nrc (the container did not shut down cleanly)"
if [ -n "$no_userns" ]; then
  echo "systemd boot test: OK, except PrivateUsers=yes, which this environment cannot give (user namespaces refused)"
else
  echo "systemd boot test: OK"
fi
