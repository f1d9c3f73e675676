#!/usr/bin/env bash
# npm_setup.sh DIR [WHAT] - `npm ci` the test packages pinned in DIR's
# package-lock.json (the webhook signer, the provider stand-ins, the browser
# test's playwright-core), for the tests.
#
# Behind a TLS-intercepting proxy whose CA the system does not trust (seen in
# sandboxed CI), npm fails with a certificate error. Then, and only if
# package-lock.json pins a sha512 integrity for every package, it retries with
# --strict-ssl=false: npm ci refuses any tarball whose bytes do not match the
# pinned hash, so what gets installed is exactly what the lockfile says; only
# the transport is unauthenticated. Any other failure is reported as it is.
set -euo pipefail
dir=${1:?usage: npm_setup.sh DIR [WHAT]}
what=${2:-$(basename "$dir")}
export npm_config_update_notifier=false
npm_ci() { npm ci --no-audit --no-fund --loglevel=error --prefix "$dir" "$@"; }

if npm_ci 2>"$dir/npm.err"; then exit 0; fi
if ! grep -qE 'SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)|CERT_(UNTRUSTED|HAS_EXPIRED)|unable to get local issuer' "$dir/npm.err"; then
  cat "$dir/npm.err" >&2; exit 1
fi
node -e '
const lock = require(process.argv[1]);
const pkgs = Object.entries(lock.packages || {}).filter(([k]) => k !== "");
const unpinned = pkgs.filter(([, v]) => !/^sha512-/.test(v.integrity || ""));
if (pkgs.length === 0 || unpinned.length) {
  console.error(process.argv[2] + " setup: not every package is pinned by sha512:", unpinned.map(([k]) => k).join(" "));
  process.exit(1);
}' "$dir/package-lock.json" "$what" || { cat "$dir/npm.err" >&2; exit 1; }
echo "$what setup: the npm registry's TLS certificate is not trusted here (intercepting proxy?);" \
     "retrying without TLS verification — every package is still checked against the sha512 pinned in package-lock.json" >&2
npm_ci --strict-ssl=false
