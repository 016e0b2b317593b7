#!/bin/bash
# cargo-fuzz for the fuzz targets under fuzz/ (scripts/test.d/30-fuzz.sh).
# Built from crates.io; it drives the stable toolchain with RUSTC_BOOTSTRAP=1
# (libFuzzer's instrumentation needs -Z flags), no nightly toolchain needed.
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
export PATH="$HOME/.cargo/bin:$PATH"
if cargo fuzz --version 2>/dev/null | grep -q '^cargo-fuzz 0\.13\.'; then
  log "$(cargo fuzz --version)"
else
  log "installing cargo-fuzz 0.13.2"
  cargo install --locked cargo-fuzz@0.13.2
fi
