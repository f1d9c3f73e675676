#!/usr/bin/env bash
# npm_setup.sh DIR [WHAT] - `npm ci` the test packages pinned in DIR's
# package-lock.json (the webhook signer, the provider stand-ins, the browser
# test's playwright-core), for the tests.
#
# Each lockfile is installed once per machine: into a cache directory named
# by WHAT and the lockfile's SHA-256 (PW_NPM_CACHE, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/paywire/npm; DIR/../npm-cache when that
# cannot be written), and DIR/node_modules is a link to it. Another build tree (scripts/reliability/valgrind.sh's, the
# second clean build of a developer) links the same install instead of
# running `npm ci` again; a changed lockfile has another hash, so another
# install. An install is made in a temporary directory under a lock and
# renamed into place when it is complete, so a half-made one is never
# linked.
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
cache_root=${PW_NPM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/paywire/npm}
# no home to write to (a package build, a sandbox): a cache inside the build tree
if ! mkdir -p "$cache_root" 2>/dev/null || [ ! -w "$cache_root" ]; then
  cache_root=$dir/../npm-cache
  mkdir -p "$cache_root"
fi
cache_root=$(cd "$cache_root" && pwd) # the link's target is absolute
key=$(sha256sum "$dir/package-lock.json" | cut -c1-32)
cache=$cache_root/$what-$key

link() { # DIR/node_modules -> the complete install in the cache
  rm -rf "$dir/node_modules"
  ln -s "$cache/node_modules" "$dir/node_modules"
  echo "$what setup: $dir/node_modules -> $cache/node_modules" >&2
}
[ -f "$cache/.complete" ] && { link; exit 0; }

exec 9>"$cache_root/.lock-$what"
flock 9 # one install per lockfile at a time; the second waits, then links
[ -f "$cache/.complete" ] && { link; exit 0; }
work=$(mktemp -d "$cache_root/.install-$what.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$dir/package.json" "$dir/package-lock.json" "$work/"
npm_ci() { npm ci --no-audit --no-fund --loglevel=error --prefix "$work" "$@"; }
done_install() {
  touch "$work/.complete"
  rm -rf "$cache"
  mv "$work" "$cache"
  trap - EXIT
  link
}

cert_error() { grep -qE 'SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)|CERT_(UNTRUSTED|HAS_EXPIRED)|unable to get local issuer' "$dir/npm.err"; }
# The first try makes no retries: behind the proxy, npm's own retries of a
# certificate error (10 s, then 60 s) only delay the fallback by ~70 s.
if npm_ci --fetch-retries=0 2>"$dir/npm.err"; then done_install; exit 0; fi
if ! cert_error; then
  # not the proxy: a network hiccup gets npm's own retries
  if npm_ci 2>"$dir/npm.err"; then done_install; exit 0; fi
  cert_error || { cat "$dir/npm.err" >&2; exit 1; }
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
done_install
