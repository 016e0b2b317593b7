#!/bin/bash
# The whole test suite, as CI runs it (.ci/run calls this): prepares the machine,
# then formatting, lints, forbidden markers, every test including the ones that
# need dockerd, nginx, LXC and chromium, and the differential test against Rougail.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
./scripts/setup-test-env.sh
echo "== fmt";     cargo fmt --all -- --check
echo "== clippy";  cargo clippy --all-targets --locked -- -D warnings
echo "== markers"; ! grep -rnE 'dbg!\(|todo!\(|unimplemented!\(|FIXME' src tests
echo "== tests";   INSTA_UPDATE=no cargo test --locked -- --include-ignored
for extra in scripts/test.d/[0-9]*.sh; do
  [ -e "$extra" ] || continue
  echo "== $(basename "$extra")"
  bash "$extra"
done
echo "== all tests passed"
