#!/usr/bin/env bash
# install-deps.sh: install everything paywire needs to build, run and test on Debian 12.
# Idempotent: packages already present are skipped and nothing is printed.
# Uses sudo when not run as root. Never downloads anything but Debian packages.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libprotobuf-c-dev protobuf-c-compiler libnng-dev liblmdb-dev lmdb-utils
  libsodium-dev libcmocka-dev libmicrohttpd-dev libjansson-dev libjwt-dev
  # the PostgreSQL engine (store/kv_pg.c) links libpq; the tests start their
  # own PostgreSQL 15 clusters (initdb/pg_ctl, no system service)
  libpq-dev postgresql-15
  # test-only: standard protobuf toolchain + nngcat (interop), python3-jwt
  # (independent JWT check), node/npm (providers' own signing libraries), curl
  protobuf-compiler nng-utils python3 python3-jwt nodejs curl openssl
  # fuzzing (scripts/reliability/fuzz.sh): clang-14 with libFuzzer and the
  # sanitizer runtimes; protobuf-compiler above writes the RPC seed frames
  clang-14 libclang-rt-14-dev
  # test-only: the browser test (tests/browser) drives Debian's chromium with
  # playwright-core from npm; no browser is ever downloaded
  chromium
  # libcurl: paywire's calls to the providers (provider/prov_http.c), and the
  # tests' concurrency storm (tests/race_storm.c)
  libcurl4-openssl-dev
  # reliability runs (scripts/reliability/): strace fault injection, eatmydata
  # for the long crash run, valgrind memcheck on the unit suite
  strace eatmydata valgrind
  # Debian packages (scripts/build-debs.sh, docs/PACKAGING.md) and the
  # services' sd_notify (libsystemd, optional at build time); systemd-analyze
  # checks the unit files (tests/integration/systemd_units_test.sh)
  dpkg-dev debhelper lintian libsystemd-dev systemd
)
# CI only: promtool (in Debian's prometheus package) checks the alert rules and
# a scrape (tests/integration/contrib_test.sh, ops_test.sh); elsewhere those
# tests fall back to a YAML/format check and say so. Its daemon is never started.
if [ "${CI:-}" = true ]; then pkgs+=(prometheus); fi

# paywire-bench only (`install-deps.sh --bench`): its gRPC C++ peer
# (bench/peers), the plot (bench/plot.sh) and the profile (perf)
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc gnuplot-nox linux-perf)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Some Node.js builds bundle npm and conflict with Debian's npm package:
# ask for npm only when no npm command exists.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Installing a package that ships a service must not start it (prometheus
# in CI): a policy-rc.d for the install's duration, when none exists.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 0755 "$policy"
fi
rc=0
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
[ -z "$policy" ] || $SUDO rm -f "$policy"
exit $rc
