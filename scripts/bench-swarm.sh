#!/bin/bash
# Swarm benchmark: brise's Swarm runtime and `docker stack deploy` of brise's
# Compose export, side by side in one run on the same busybox services of the
# local registry (see benches/swarm.rs and docs/PERFORMANCE.md). Needs root,
# dockerd and the local registry (set up here). Joins the local swarm or
# creates one on 127.0.0.1 and leaves it as found.
# Options through the environment: BENCH_SIZES=10 BENCH_NOOP_RUNS=5, and
# BENCH_PROFILE=dev to reuse the test build instead of an optimised one (the
# times are dominated by the engine's work; a release build needs gigabytes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup/20-docker.sh
bash scripts/setup/30-registry-images.sh
echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench --locked --profile "${BENCH_PROFILE:-bench}" --bench swarm
