#!/bin/bash
# A Rust toolchain recent enough for edition 2024 (Debian 12's rustc is too old).
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
export PATH="$HOME/.cargo/bin:$PATH"
if have cargo && cargo --version | awk '{split($2,v,"."); exit !(v[1]>1 || v[2]>=85)}'; then
  log "$(cargo --version)"
else
  log "installing Rust with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
fi
