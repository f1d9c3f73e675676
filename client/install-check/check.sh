#!/usr/bin/env bash
# check.sh - installs the client component of a build tree into a temp prefix
# and checks what a user of libpaywire gets: exactly the public symbols, the
# SONAME, headers, a pkg-config file that compiles and links a program (shared
# and static), a CMake package (find_package(paywire) -> paywire::client and
# paywire::client_static), and an installed `paywire` that runs.
# Usage: check.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -euo pipefail
build=$1 src=$2 cflags=${3:-}
T=$(mktemp -d /tmp/pw-client-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }

prefix=$T/prefix
cmake --install "$build" --prefix "$prefix" --component client >/dev/null
lib=$(dirname "$(find "$prefix" -name 'libpaywire.so.0.1.0' | head -1)")
[ -f "$lib/libpaywire.so.0.1.0" ] && ok "libpaywire.so.0.1.0 installed" || fail "libpaywire.so.0.1.0 installed"
[ "$(readlink "$lib/libpaywire.so.0")" = libpaywire.so.0.1.0 ] && ok "libpaywire.so.0 -> .0.1.0" || fail "so.0 symlink"
[ "$(readlink "$lib/libpaywire.so")" = libpaywire.so.0 ] && ok "libpaywire.so -> .0" || fail "so symlink"
[ -f "$lib/libpaywire.a" ] && ok "libpaywire.a installed" || fail "libpaywire.a installed"
objdump -p "$lib/libpaywire.so.0.1.0" | grep -q 'SONAME *libpaywire.so.0$' && ok "SONAME libpaywire.so.0" || fail "SONAME"
for h in client.h status.h version.h; do
  [ -f "$prefix/include/paywire/$h" ] && ok "include/paywire/$h" || fail "include/paywire/$h"
done

# Exported symbols == the functions declared in client.h (PW_API) and status.h.
want=$( { grep -oE '^PW_API [^(]*\(' "$src/include/paywire/client.h" | sed 's/($//; s/.*[ *]//';
          grep -oE '^[a-z_ ]+[ *]pw_status_[a-z_]+\(' "$src/include/paywire/status.h" | sed 's/($//; s/.*[ *]//'; } | sort -u)
have=$(nm -D --defined-only "$lib/libpaywire.so.0.1.0" | awk '$2 ~ /^[TW]$/ {print $3}' | sort -u)
if [ "$want" = "$have" ]; then
  ok "exports exactly the $(echo "$want" | wc -l) public functions"
else
  fail "exported symbols differ from the headers:"; diff <(echo "$want") <(echo "$have") || true
fi
# The Debian package's symbols file lists exactly the exports (a new public
# function needs its line in debian/libpaywire0.symbols).
debsyms=$(grep -oE '^ pw_[a-z0-9_]+@Base' "$src/debian/libpaywire0.symbols" | sed 's/^ //; s/@Base//' | sort -u)
if [ "$debsyms" = "$have" ]; then
  ok "debian/libpaywire0.symbols lists exactly the exports"
else
  fail "debian/libpaywire0.symbols differs from the exports:"; diff <(echo "$debsyms") <(echo "$have") || true
fi
if nm -D --defined-only "$lib/libpaywire.so.0.1.0" | grep -qE ' (paywire__|protobuf_c_|pw_log|pw_random|pw_amount)'; then
  fail "internal symbols leak from libpaywire.so"
else
  ok "no protobuf-c or common/ internals exported"
fi

nobody="ipc://$T/nobody.sock"
pc=$(dirname "$(find "$prefix" -name paywire.pc | head -1)")
export PKG_CONFIG_PATH=$pc
[ "$(pkg-config --modversion paywire)" = 0.1.0 ] && ok "pkg-config --modversion 0.1.0" || fail "pkg-config version"
# shellcheck disable=SC2046,SC2086
if cc $cflags -Wall -Wextra -Werror "$src/client/install-check/consumer.c" $(pkg-config --cflags --libs paywire) \
    -Wl,-rpath,"$(pkg-config --variable=libdir paywire)" -o "$T/consumer_pc" 2>"$T/cc.log"; then
  ok "pkg-config: consumer compiles and links against libpaywire.so"
  out=$("$T/consumer_pc" "$nobody") && ok "pkg-config consumer runs: $out" || fail "pkg-config consumer: $out"
else
  cat "$T/cc.log"; fail "pkg-config: consumer compiles"
fi
# Static: the archive plus the private dependencies the .pc file names.
# shellcheck disable=SC2046,SC2086
if cc $cflags "$src/client/install-check/consumer.c" $(pkg-config --cflags paywire) "$lib/libpaywire.a" \
    $(pkg-config --static --libs paywire | sed 's/-lpaywire//') -o "$T/consumer_a" 2>"$T/cc.log"; then
  ok "pkg-config --static: consumer links libpaywire.a"
  ldd "$T/consumer_a" | grep -q libpaywire && fail "static consumer still needs libpaywire.so" || ok "static consumer does not need libpaywire.so"
  out=$("$T/consumer_a" "$nobody") && ok "static consumer runs: $out" || fail "static consumer: $out"
else
  cat "$T/cc.log"; fail "pkg-config --static: consumer links"
fi

# find_package(paywire)
if cmake -S "$src/client/install-check" -B "$T/cb" -DCMAKE_PREFIX_PATH="$prefix" \
     -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$cflags" >"$T/cmake.log" 2>&1 \
   && cmake --build "$T/cb" >>"$T/cmake.log" 2>&1; then
  ok "find_package(paywire): paywire::client and paywire::client_static build"
  for v in shared static; do
    out=$("$T/cb/consumer_$v" "$nobody") && ok "find_package consumer_$v runs: $out" || fail "consumer_$v: $out"
  done
else
  cat "$T/cmake.log"; fail "find_package(paywire)"
fi

out=$("$prefix/bin/paywire" --version) && ok "installed paywire runs: $out" || fail "installed paywire --version"
echo "$fails failed"
[ "$fails" -eq 0 ]
