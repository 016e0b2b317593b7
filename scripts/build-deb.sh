#!/bin/bash
# Builds the Debian package of this checkout: installs the build dependencies
# of debian/control (apt) and Rust (rustup) when missing, copies the source
# (tracked and untracked-but-not-ignored files, never target/) to a clean build
# directory, runs `dpkg-buildpackage -us -uc -b` there, then lintian (fails on
# any error or warning that debian/brise.lintian-overrides does not justify).
#
# Usage: scripts/build-deb.sh [OUTDIR]        (default OUTDIR: target/debian)
# Prints the path of the built .deb on its last line.
# Environment:
#   BRISE_DEB_CARGO_TARGET_DIR  cargo target directory to reuse between builds
#                               (default: a fresh one inside the build tree)
#   BRISE_DEB_VERSION           build this Debian version instead of the one in
#                               debian/changelog (an entry is added to the copy;
#                               its upstream part must still equal Cargo.toml's)
#   BRISE_DEB_LINTIAN=0         skip lintian
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mkdir -p "${1:-$SRC/target/debian}" && cd "${1:-$SRC/target/debian}" && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

step() { echo "== build-deb: $*" >&2; }
fail() { echo "build-deb: $*" >&2; exit 1; }

# --- tools and build dependencies -------------------------------------------
need=()
for tool in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing ${need[*]}: run as root to install them"
  step "installing ${need[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
if ! (cd "$SRC" && dpkg-checkbuilddeps) 2>/dev/null; then
  [ "$(id -u)" = 0 ] || fail "missing build dependencies (dpkg-checkbuilddeps): run as root to install them"
  step "installing the build dependencies of debian/control"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -q --no-install-recommends "$SRC"
fi
if ! command -v cargo >/dev/null 2>&1; then
  step "installing Rust"
  bash "$SRC/scripts/setup/15-rust.sh"
fi

# --- a clean copy of the source ---------------------------------------------
changelog_version="$(cd "$SRC" && dpkg-parsechangelog -S Version)"
version="${BRISE_DEB_VERSION:-$changelog_version}"
upstream="${version%-*}"
build="$OUT/build"
tree="$build/brise-$upstream"
rm -rf "$build"
mkdir -p "$tree"
step "copying the source to $tree"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files still present, plus new files not ignored by .gitignore.
  (cd "$SRC" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf -) | tar -xf - -C "$tree"
else
  (cd "$SRC" && tar --exclude=./target --exclude=./.git -cf - .) | tar -xf - -C "$tree"
fi

if [ "$version" != "$changelog_version" ]; then
  step "adding a changelog entry for $version"
  {
    printf 'brise (%s) %s; urgency=medium\n\n' "$version" "$(cd "$SRC" && dpkg-parsechangelog -S Distribution)"
    printf '  * Rebuild as %s.\n\n' "$version"
    printf ' -- %s  %s\n\n' "$(cd "$SRC" && dpkg-parsechangelog -S Maintainer)" "$(date -R)"
    cat "$tree/debian/changelog"
  } > "$tree/debian/changelog.new"
  mv "$tree/debian/changelog.new" "$tree/debian/changelog"
fi

# --- build ------------------------------------------------------------------
if [ -n "${BRISE_DEB_CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$BRISE_DEB_CARGO_TARGET_DIR"
else
  unset CARGO_TARGET_DIR
fi
step "dpkg-buildpackage -us -uc -b ($version)"
start=$SECONDS
(cd "$tree" && dpkg-buildpackage -us -uc -b)
step "built in $((SECONDS - start)) s"

arch="$(dpkg --print-architecture)"
changes="$build/brise_${version}_${arch}.changes"
[ -f "$changes" ] || fail "dpkg-buildpackage did not produce $changes"

if [ "${BRISE_DEB_LINTIAN:-1}" != 0 ]; then
  step "lintian"
  # Errors and warnings fail the build; justified ones are overridden in
  # debian/brise.lintian-overrides and listed in debian/README.source.
  lintian --fail-on error,warning --info --display-info "$changes" >&2
fi

# Keep only the results in OUTDIR (the build tree is rebuilt every time).
for f in "$build"/*.deb "$build"/*.ddeb "$build"/*.changes "$build"/*.buildinfo; do
  [ -e "$f" ] && mv -f "$f" "$OUT/"
done
echo "$OUT/brise_${version}_${arch}.deb"
