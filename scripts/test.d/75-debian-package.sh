#!/bin/bash
# The Debian package, built and installed for real in CI: scripts/test-deb.sh
# in its quick variant (BRISE_DEB_QUICK=1): two unoptimised builds with
# `DEB_BUILD_OPTIONS=noopt dpkg-buildpackage -us -uc -b` (cargo's dev profile,
# compiled dependencies cached in BRISE_DEB_CACHE), the contents and control
# data checks, then in a clean debootstrap'ed Debian 12 root (cached tarball):
# install, the EOLE commands, upgrade, remove, purge. No lintian and no
# systemd boot: `sudo scripts/test-deb.sh` (release builds) does those.
# Timings and the opt-out are in docs/packaging.md.
#
# Opt out with BRISE_TEST_DEB=0 (it then says so; it never passes silently).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${BRISE_TEST_DEB:-1}" = 0 ]; then
  echo "   SKIPPED: the package build and install test (BRISE_TEST_DEB=0)"
  exit 0
fi
start=$SECONDS
# Build with the test suite's own target directory (same dev profile): the
# compiled dependencies of `cargo test` are reused, only brise is recompiled.
# From a clean clone this saves a whole cold build of every dependency.
target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target"
export BRISE_DEB_QUICK_TARGET_DIR="$(cd "$target" && pwd)"
BRISE_DEB_QUICK=1 ./scripts/test-deb.sh
echo "   75-debian-package: $((SECONDS - start)) s"
