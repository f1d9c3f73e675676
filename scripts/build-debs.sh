#!/usr/bin/env bash
# build-debs.sh: build paywire's Debian packages into dist/ and check them
# with lintian (docs/PACKAGING.md).
#
#   ./scripts/build-debs.sh      -> dist/paywire_*.deb, dist/libpaywire0_*.deb,
#                                   dist/libpaywire-dev_*.deb (+ -dbgsym)
#
# dpkg-buildpackage (debian/, debhelper) runs on a copy of the tree in
# build-deb/ (it writes its results next to the source, outside the tree).
# Build dependencies: debian/control's Build-Depends (scripts/install-deps.sh
# installs them; `apt-get build-dep ./` does too). Exit status: 1 if the build
# fails or lintian reports an error.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=$(dpkg-parsechangelog -S Version)
stage=$top/build-deb
src=$stage/paywire-$version
rm -rf "$stage"
mkdir -p "$src" "$top/dist"

echo "build-debs: copying the source tree to $src" >&2
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # tracked and new (not ignored) files: what a clean clone would have, plus
  # work not yet committed
  git -C "$top" ls-files -z --cached --others --exclude-standard \
    | (cd "$top" && xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' ) \
    | tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
else
  tar -C "$top" --exclude='./build*' --exclude=./dist --exclude=./data -cf - . | tar -C "$src" -xf -
fi

echo "build-debs: dpkg-buildpackage (log: build-deb/build.log)" >&2
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$stage/build.log" 2>&1; then
  tail -40 "$stage/build.log" >&2
  echo "build-debs: dpkg-buildpackage failed (full log: build-deb/build.log)" >&2
  exit 1
fi
rm -f "$top"/dist/*.deb "$top"/dist/*.ddeb
cp "$stage"/*.deb "$top/dist/"
cp "$stage"/*.ddeb "$top/dist/" 2>/dev/null || true
ls -l "$top"/dist/

if command -v lintian >/dev/null 2>&1; then
  echo "build-debs: lintian (errors fail the build; warnings are explained in docs/PACKAGING.md)" >&2
  # not as root: lintian unpacks untrusted archives; it warns when it must
  lintian --fail-on error --display-info "$top"/dist/*.deb
else
  echo "build-debs: lintian is not installed (Debian: lintian): the packages were not checked" >&2
  exit 1
fi
echo "build-debs: done: $(cd "$top" && ls dist/*.deb | tr '\n' ' ')" >&2
