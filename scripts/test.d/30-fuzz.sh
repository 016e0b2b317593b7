#!/bin/bash
# Fuzzing (docs/RELIABILITY.md "Fuzzing"): builds the cargo-fuzz targets of
# fuzz/ with the stable toolchain (RUSTC_BOOTSTRAP=1 for libFuzzer's -Z
# instrumentation flags; no sanitizer: brise is safe Rust, what we look for is
# a panic, an abort, a hang or a memory blow-up), then runs each target for a
# bounded time from the committed corpus (fuzz/corpus/<target>, read only; new
# inputs go to fuzz/corpus-run/, not committed). A crash fails the run and
# leaves its input in fuzz/artifacts/<target>/: turn it into a regression test
# of the normal suite. Prints the time and executions of each target.
#   BRISE_FUZZ_SECONDS   seconds per target (default 30)
#   BRISE_FUZZ_PROFILE   dev (default: unoptimised with debug assertions, so
#                        overflows panic too; builds in about half the time,
#                        which is what the CI budget pays) or release (faster
#                        executions, for longer runs by hand)
#   BRISE_FUZZ_TARGETS   targets to run (default: all)
#   BRISE_FUZZ_TARGET_DIR  build directory (default fuzz/target)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
seconds="${BRISE_FUZZ_SECONDS:-30}"
profile="${BRISE_FUZZ_PROFILE:-dev}"
target_dir="${BRISE_FUZZ_TARGET_DIR:-$PWD/fuzz/target}"
targets="${BRISE_FUZZ_TARGETS:-dictionary values catalogue web_form}"
flags=(--sanitizer none --codegen-units 16 --target-dir "$target_dir")
case "$profile" in
  dev) flags+=(--dev) ;;
  release) ;;
  *) echo "BRISE_FUZZ_PROFILE must be dev or release, not \`$profile\`" >&2; exit 2 ;;
esac

cd fuzz
start=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz build ($profile): $(( $(date +%s) - start )) s"

summary=()
for target in $targets; do
  mkdir -p "corpus-run/$target" "artifacts/$target"
  log="$target_dir/fuzz-$target.log"
  began=$(date +%s)
  # -timeout: one input taking longer is a hang (a failure); -rss_limit_mb: a blow-up.
  if ! cargo fuzz run "${flags[@]}" "$target" "corpus-run/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="artifacts/$target/" > "$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target \`$target\` failed: the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log" | tail -n 1)
  elapsed=$(( $(date +%s) - began ))
  summary+=("$target: ${elapsed} s, ${execs:-?} executions, corpus $(ls "corpus/$target" | wc -l) committed + $(ls "corpus-run/$target" | wc -l) found")
done
printf 'fuzz %s\n' "${summary[@]}"
echo "fuzz total (build and runs): $(( $(date +%s) - start )) s"
