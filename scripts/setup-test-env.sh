#!/bin/bash
# Prepares this machine (Debian 12, root) for brise's whole test suite and demo,
# idempotently: packages, Rust, dockerd, the local registry and its FROM-scratch
# images, nginx, the LXC bridge, chromium, and Rougail (the reference).
# Every step can run again; a daemon already running is reused, never restarted.
# Each concern is one file under scripts/setup/, run in name order.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
export BRISE_SRC="$(cd "$HERE/.." && pwd)"
for step in "$HERE"/setup/[0-9]*.sh; do
  echo "== setup: $(basename "$step")"
  bash "$step"
done
echo "== setup: done"
