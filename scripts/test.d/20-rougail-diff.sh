#!/bin/bash
# The live differential check against Rougail: every committed expected output must
# still be what Rougail prints, and brise must match it except for the cases listed
# in tests/conformance/known-failures.txt (the same ratchet as tests/conformance.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash scripts/rougail-diff.sh --ratchet
