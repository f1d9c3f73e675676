#!/usr/bin/env bash
# readme_test.sh - runs the README's own commands so they can never rot:
# the end-to-end block (merchant → session → signed Stripe event via curl →
# paid) and the C example, compiled against an installed libpaywire found
# through its pkg-config file.
. "$(dirname "$0")/lib.sh"
readme=$PW_SOURCE_DIR/README.md

block() { # block NAME: the fenced code between <!-- NAME:begin --> and <!-- NAME:end -->
  awk -v b="<!-- $1:begin -->" -v e="<!-- $1:end -->" '
    $0==b {on=1; next} $0==e {on=0} on && !/^```/ {print}' "$readme"
}

# A data dir and env file like scripts/run.sh makes.
data=$T/data; mkdir -m 700 "$data"
envf=$data/paywire.env
(umask 077; cat >"$envf" <<ENV
PAYWIRE_ADMIN_KEY=adm_readme_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
PAYWIRE_TOKEN_SECRET=readme-token-secret-0123456789abcdef
PAYWIRE_STRIPE_WEBHOOK_SECRET=whsec_readme$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
ENV
)
unset PAYWIRE_ADMIN_KEY PAYWIRE_STRIPE_WEBHOOK_SECRET PAYWIRE_API_KEY
start_server "$data" --config "$envf"
start_bridge

# 1. the end-to-end block, with this test's addresses and paths
script=$T/e2e.sh
block readme-e2e | sed -e "s#http://127.0.0.1:8080#$BRIDGE#g" \
  -e "s#data/paywire.env#$envf#g" -e "s#build/client/paywire#$CLI#g" >"$script"
[ -s "$script" ] || { fail "README has no readme-e2e block"; finish; exit 1; }
out=$(cd "$T" && bash -euo pipefail "$script" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/    | /'
eq "README end-to-end block exits 0" 0 "$rc"
contains "README: the signed Stripe event is applied" '"outcome":"applied"' "$out"
contains "README: the session ends paid" 'status: paid' "$out"
contains "README: HTTP status says paid" '"status":"paid"' "$out"

# 2. the C example, against an installed libpaywire via pkg-config
prefix=$T/prefix
cmake --install "$PW_BIN_DIR" --prefix "$prefix" >/dev/null 2>&1 \
  || { fail "cmake --install of the build tree"; finish; exit 1; }
pcdir=$(dirname "$(find "$prefix" -name paywire.pc | head -1)")
check "pkg-config file installed" test -f "$pcdir/paywire.pc"
block readme-c-example >"$T/example.c"
flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs paywire)
libdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir paywire)
# shellcheck disable=SC2086
if cc ${PW_EXAMPLE_CFLAGS:-} -Wall -Wextra -Werror "$T/example.c" $flags -Wl,-rpath,"$libdir" \
    -o "$T/example" 2>"$T/cc.log"; then
  ok "README C example compiles with pkg-config flags"
else
  cat "$T/cc.log"; fail "README C example compiles with pkg-config flags"
fi
set -a; . "$envf"; set +a
key=$(new_merchant test)
ex=$(PAYWIRE_API_KEY=$key "$T/example" 2>&1) && rc=0 || rc=$?
eq "README C example runs" 0 "$rc"
contains "README C example creates a session and reads its status" " created 4900 EUR" "$ex"
finish
