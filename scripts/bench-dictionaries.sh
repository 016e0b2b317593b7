#!/bin/bash
# Dictionary benchmark, brise side by side with Rougail 1.3.1 on the same files:
# load + resolve + flat JSON of generated dictionaries of 100, 1,000 and 10,000
# variables (scripts/gen-dictionaries.py: families of 20, choices, multis,
# leaderships, 10% calculated or conditional).
#
#   scripts/bench-dictionaries.sh [--sizes "100 1000 10000"] [--runs N] [--no-write]
#
# For each size it checks that both print the same JSON, times both with hyperfine
# (wall clock, mean of N runs; Rougail gets at least 3) and measures peak RSS with
# /usr/bin/time -v, then writes the table into docs/PERFORMANCE.md between the
# `dictionary-bench` markers (unless --no-write). brise is built with --release.
# Environment: VENV (Rougail's venv), SHARED (the shared folder), BRISE (a binary).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-/tmp/rougail-venv}"
if [ -z "${SHARED:-}" ]; then
  if [ -d "$ROOT/../shared/tools" ]; then SHARED="$(cd "$ROOT/../shared" && pwd)"; else SHARED=/work/shared; fi
fi
TOOL="$SHARED/tools/rougail-flat-json.py"
SIZES="100 1000 10000"
RUNS=10
WRITE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) SIZES="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    --no-write) WRITE=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench-dictionaries: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
for tool in hyperfine /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench-dictionaries: $tool is missing (scripts/setup/10-packages.sh)" >&2; exit 2; }
done
"$VENV/bin/python" -c 'import rougail' 2>/dev/null || { echo "bench-dictionaries: no Rougail in $VENV (scripts/setup/70-rougail.sh)" >&2; exit 2; }

if [ -z "${BRISE:-}" ]; then
  (cd "$ROOT" && cargo build --quiet --release --locked --bin brise)
  BRISE="${CARGO_TARGET_DIR:-$ROOT/target}/release/brise"
  BUILD="release build of \`$(git -C "$ROOT" rev-parse --short HEAD)\`"
else
  BUILD="the binary \`$BRISE\` given in BRISE"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-dictionaries.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

peak_kb() { # command... -> peak RSS in KB
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
}
mean_s() { # hyperfine json -> mean seconds
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$1"
}

ROWS=()
for n in $SIZES; do
  dir="$WORK/d$n"
  python3 "$ROOT/scripts/gen-dictionaries.py" "$n" "$dir"
  rougail=("$VENV/bin/python" "$TOOL" "$dir" --namespace rougail)
  brise=("$BRISE" show --json --namespace rougail --dictionaries "$dir" --values "$WORK/no-values.yml")
  "${rougail[@]}" >"$WORK/rougail-$n.json"
  same="no"
  if "${brise[@]}" >"$WORK/brise-$n.json" 2>"$WORK/brise-$n.err" && cmp -s "$WORK/rougail-$n.json" "$WORK/brise-$n.json"; then
    same="yes"
  fi
  echo "== $n variables: same JSON: $same"
  if [ "$same" != yes ]; then
    head -n 3 "$WORK/brise-$n.err" | sed 's/^/   brise: /'
  fi
  rruns=$RUNS; [ "$n" -ge 10000 ] && rruns=3
  hyperfine --style basic --warmup 1 --runs "$rruns" --export-json "$WORK/r$n.json" \
    "$(printf '%q ' "${rougail[@]}")" >/dev/null
  r_mean="$(mean_s "$WORK/r$n.json")"
  r_rss="$(peak_kb "${rougail[@]}")"
  if [ "$same" = yes ]; then
    hyperfine --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/b$n.json" \
      "$(printf '%q ' "${brise[@]}")" >/dev/null
    b_mean="$(mean_s "$WORK/b$n.json")"
    b_rss="$(peak_kb "${brise[@]}")"
    ROWS+=("$(python3 - "$n" "$r_mean" "$r_rss" "$b_mean" "$b_rss" <<'EOF'
import sys
n, rm, rr, bm, br = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f"| {int(n):,} | {rm:.3f} s | {rr / 1024:.0f} MB | {bm * 1000:.1f} ms | {br / 1024:.1f} MB | {rm / bm:.0f}x | {rr / br:.1f}x |")
EOF
)")
  else
    ROWS+=("$(python3 -c 'import sys; n,rm,rr=sys.argv[1:]; print(f"| {int(n):,} | {float(rm):.3f} s | {int(rr)/1024:.0f} MB | not comparable: brise output differs or fails | | | |")' "$n" "$r_mean" "$r_rss")")
  fi
  echo "${ROWS[-1]}"
done

TABLE="$WORK/table.md"
{
  echo "<!-- dictionary-bench:start (written by scripts/bench-dictionaries.sh) -->"
  echo "Measured $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end), brise: $BUILD; Rougail 1.3.1 ($("$VENV/bin/python" -V 2>&1)); wall clock = hyperfine mean, memory = peak RSS from \`/usr/bin/time -v\`."
  echo
  echo "| variables | Rougail time | Rougail peak RSS | brise time | brise peak RSS | time ratio | memory ratio |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo "<!-- dictionary-bench:end -->"
} >"$TABLE"
cat "$TABLE"
if [ "$WRITE" = 1 ]; then
  doc="$ROOT/docs/PERFORMANCE.md"
  python3 - "$doc" "$TABLE" <<'EOF'
import re, sys
doc, table = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(doc).read()
pattern = re.compile(r"<!-- dictionary-bench:start.*?<!-- dictionary-bench:end -->", re.S)
if not pattern.search(text):
    sys.exit(f"bench-dictionaries: no dictionary-bench markers in {doc}")
open(doc, "w").write(pattern.sub(lambda _: table, text))
EOF
  echo "bench-dictionaries: table written to docs/PERFORMANCE.md"
fi
