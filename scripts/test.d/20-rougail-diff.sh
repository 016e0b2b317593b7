#!/bin/bash
# The live differential check against Rougail. tests/conformance.rs (in
# `cargo test`) already compares brise with Rougail's committed outputs for all
# 438 cases; this step runs Rougail itself, live, to check that those committed
# outputs are still what Rougail prints and that brise matches it, except for
# the cases listed in tests/conformance/known-failures.txt.
#
# Each Rougail run costs about a second of Python start-up, so within the CI
# budget this runs a fixed sample: every 8th case of tests/conformance/cases and
# tests/conformance/invalid (in name order, always the same ones, about 55).
# BRISE_ROUGAIL_DIFF=all runs every case (about 4 minutes on 2 cores), as does
# `scripts/rougail-diff.sh --ratchet` run by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${BRISE_ROUGAIL_DIFF:-sample}" = all ]; then
  exec bash scripts/rougail-diff.sh --ratchet
fi
mapfile -t sample < <(
  for dir in tests/conformance/cases tests/conformance/invalid; do
    find "$dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | LC_ALL=C sort | awk 'NR % 8 == 1'
  done
)
echo "   rougail-diff: a sample of ${#sample[@]} cases (BRISE_ROUGAIL_DIFF=all for every case)"
exec bash scripts/rougail-diff.sh --ratchet "${sample[@]}"
