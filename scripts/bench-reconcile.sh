#!/bin/bash
# Reconciliation benchmark: brise's reconciler and docker-compose 1.29 side by
# side in one run on the same 10 and 50 busybox services, plus the Engine API
# floors (see benches/reconcile.rs and docs/PERFORMANCE.md). Needs root, dockerd
# and the local registry (set up here) and Debian's docker-compose.
# Options through the environment: BENCH_SIZES=10,50 BENCH_NOOP_RUNS=5.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup/20-docker.sh
bash scripts/setup/30-registry-images.sh
command -v docker-compose >/dev/null || { echo "docker-compose is missing (apt-get install docker-compose)" >&2; exit 1; }
echo "docker-compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)"
echo "machine: $(nproc) cores, $(uname -r)"
cargo bench --locked --bench reconcile
