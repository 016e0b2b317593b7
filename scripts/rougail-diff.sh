#!/bin/bash
# Differential check of brise against Rougail 1.3.1 (the reference implementation).
#
#   scripts/rougail-diff.sh [options] [CASE_NAME | DIR]...
#
# With no argument it takes every case of tests/conformance/{cases,invalid}/ and, per case:
#   1. runs Rougail (the reference tool /work/shared/tools/rougail-flat-json.py, through
#      tests/conformance/rougail-values.py when the case has user data) and checks that the
#      committed expected.json is still byte for byte what Rougail prints (for an invalid
#      case: that Rougail still refuses it);
#   2. runs `brise show --json` on the same input and compares it byte for byte with
#      Rougail's output (an invalid case: brise must exit 1 with a `path:line:column: error:`
#      diagnostic).
# An argument is a case name, a case directory (holding dictionaries/), or a plain directory
# of dictionaries (compared live, nothing committed is checked).
#
# Options:
#   --update        write expected.json / rougail-error.txt from Rougail's output instead of
#                   checking them (never hand-write them)
#   --rougail-only  skip brise (check or update the committed Rougail outputs only)
#   --ratchet       brise mismatches of cases listed in tests/conformance/known-failures.txt
#                   are reported but do not fail the run
#   -j N            cases run in parallel (default 2)
#   -v              print the first lines of every diff
# Environment: VENV (Rougail's venv, default /tmp/rougail-venv), SHARED (default ../shared
# beside the project root, else /work/shared), BRISE (the binary; default: cargo build and
# $CARGO_TARGET_DIR/debug/brise).
# Exit: 0 all good, 1 a mismatch or a stale expected output, 2 setup problem.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CONF="$ROOT/tests/conformance"
VENV="${VENV:-/tmp/rougail-venv}"
if [ -z "${SHARED:-}" ]; then
  if [ -d "$ROOT/../shared/tools" ]; then SHARED="$(cd "$ROOT/../shared" && pwd)"; else SHARED=/work/shared; fi
fi
TOOL="$SHARED/tools/rougail-flat-json.py"
WRAPPER="$CONF/rougail-values.py"
PY="$VENV/bin/python"

# ---------------------------------------------------------------- one case (worker mode)
# Prints one result line: STATUS<TAB>NAME<TAB>detail, details of diffs go to $OUT/NAME.*
case_inputs() { # DIR -> ROUGAIL_ARGS, BRISE_ARGS arrays
  local dir="$1" d ns extra
  ROUGAIL_ARGS=(); BRISE_ARGS=()
  for d in "$dir"/dictionaries "$dir"/dictionaries2; do
    [ -d "$d" ] || continue
    ROUGAIL_ARGS+=("$d"); BRISE_ARGS+=(--dictionaries "$d")
  done
  ns=rougail
  if [ -f "$dir/args" ] && grep -qx -- '--no-namespace' "$dir/args"; then ns=""; fi
  if [ -n "$ns" ]; then
    ROUGAIL_ARGS+=(--namespace "$ns"); BRISE_ARGS+=(--namespace "$ns")
  else
    ROUGAIL_ARGS+=(--no-namespace)
  fi
  if [ -d "$dir/extra" ]; then
    for extra in $(cd "$dir/extra" && ls -1 | LC_ALL=C sort); do
      [ -d "$dir/extra/$extra" ] || continue
      ROUGAIL_ARGS+=(--extra "$extra=$dir/extra/$extra"); BRISE_ARGS+=(--extra "$extra=$dir/extra/$extra")
    done
  fi
  if [ -f "$dir/values.yml" ]; then
    ROUGAIL_ARGS+=(--values "$dir/values.yml"); BRISE_ARGS+=(--values "$dir/values.yml")
  else
    # no user data: a values file that does not exist (never the server's /etc/brise/values.yml)
    BRISE_ARGS+=(--values "$OUT/no-values.yml")
  fi
}

run_rougail() { # DIR OUTFILE ERRFILE
  if [ -f "$1/values.yml" ]; then
    "$PY" "$WRAPPER" "$TOOL" "${ROUGAIL_ARGS[@]}" >"$2" 2>"$3"
  else
    "$PY" "$TOOL" "${ROUGAIL_ARGS[@]}" >"$2" 2>"$3"
  fi
}

worker() { # KIND NAME DIR
  local kind="$1" name="$2" dir="$3" rc=0 brc=0 status detail
  local r_out="$OUT/$name.rougail.json" r_err="$OUT/$name.rougail.err"
  local b_out="$OUT/$name.brise.json" b_err="$OUT/$name.brise.err"
  case_inputs "$dir"
  run_rougail "$dir" "$r_out" "$r_err" || rc=$?
  # 1. the committed Rougail output
  case "$kind" in
    case)
      if [ "$rc" != 0 ]; then
        echo -e "ROUGAIL_FAIL\t$name\tRougail refuses a valid case: $(tail -n1 "$r_err")"; return
      fi
      if [ "$UPDATE" = 1 ]; then
        cmp -s "$r_out" "$dir/expected.json" || cp "$r_out" "$dir/expected.json"
      elif ! cmp -s "$r_out" "$dir/expected.json"; then
        diff -u "$dir/expected.json" "$r_out" >"$OUT/$name.stale.diff" || true
        echo -e "STALE\t$name\texpected.json differs from what Rougail prints now"; return
      fi ;;
    invalid)
      if [ "$rc" = 0 ]; then
        echo -e "ROUGAIL_ACCEPTS\t$name\tRougail accepts an invalid case"; return
      fi
      local msg; msg="$(grep -v '^\s*$' "$r_err" | tail -n1 | sed "s#$ROOT/##g")"
      if [ "$UPDATE" = 1 ]; then
        printf '%s\n' "$msg" >"$dir/rougail-error.txt"
      elif [ "$(cat "$dir/rougail-error.txt" 2>/dev/null)" != "$msg" ]; then
        echo -e "STALE\t$name\trougail-error.txt differs from Rougail's error: $msg"; return
      fi ;;
    adhoc)
      if [ "$rc" != 0 ]; then kind=invalid; fi ;;
  esac
  if [ "$ROUGAIL_ONLY" = 1 ]; then echo -e "OK\t$name\tRougail output checked"; return; fi
  # 2. brise against Rougail
  "$BRISE" show --json "${BRISE_ARGS[@]}" >"$b_out" 2>"$b_err" || brc=$?
  if [ "$kind" = invalid ]; then
    if [ "$brc" = 1 ] && grep -qE '^[^ ]+:[0-9]+:[0-9]+: error: ' "$b_err"; then
      echo -e "OK\t$name\tboth refuse"
    else
      echo -e "MISMATCH\t$name\tRougail refuses, brise exit $brc$(head -c 200 "$b_err" | head -n1 | sed 's/^/: /')"
    fi
  elif [ "$brc" != 0 ]; then
    echo -e "MISMATCH\t$name\tbrise exit $brc: $(head -n1 "$b_err" | cut -c1-200)"
  elif cmp -s "$r_out" "$b_out"; then
    echo -e "OK\t$name\tidentical"
  else
    diff -u --label rougail --label brise "$r_out" "$b_out" >"$OUT/$name.diff" || true
    echo -e "MISMATCH\t$name\tJSON differs"
  fi
}

if [ "${1:-}" = --worker ]; then
  shift
  OUT="$1" UPDATE="$2" ROUGAIL_ONLY="$3" BRISE="$4"; shift 4
  worker "$@"
  exit 0
fi

# ---------------------------------------------------------------- driver
UPDATE=0 ROUGAIL_ONLY=0 RATCHET=0 JOBS=2 VERBOSE=0
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --update) UPDATE=1 ;;
    --rougail-only) ROUGAIL_ONLY=1 ;;
    --ratchet) RATCHET=1 ;;
    -j) JOBS="$2"; shift ;;
    -v) VERBOSE=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "rougail-diff: unknown option $1" >&2; exit 2 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done

if [ ! -x "$PY" ] || ! "$PY" -c 'import rougail' 2>/dev/null; then
  echo "rougail-diff: Rougail is not installed in $VENV (run scripts/setup/70-rougail.sh)" >&2
  exit 2
fi
[ -f "$TOOL" ] || { echo "rougail-diff: reference tool $TOOL not found" >&2; exit 2; }

BRISE="${BRISE:-}"
if [ "$ROUGAIL_ONLY" = 0 ] && [ -z "$BRISE" ]; then
  (cd "$ROOT" && cargo build --quiet --locked --bin brise)
  BRISE="${CARGO_TARGET_DIR:-$ROOT/target}/debug/brise"
fi
[ "$ROUGAIL_ONLY" = 1 ] || [ -x "$BRISE" ] || { echo "rougail-diff: no brise binary at $BRISE" >&2; exit 2; }

OUT="$(mktemp -d "${TMPDIR:-/tmp}/conformance-diff.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

JOBLIST="$OUT/jobs"
: >"$JOBLIST"
add_case() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$JOBLIST"; }
if [ ${#ARGS[@]} = 0 ]; then
  for d in "$CONF"/cases/*/; do add_case case "$(basename "$d")" "${d%/}"; done
  for d in "$CONF"/invalid/*/; do [ -d "$d" ] && add_case invalid "$(basename "$d")" "${d%/}"; done
else
  for a in "${ARGS[@]}"; do
    if [ -d "$CONF/cases/$a" ]; then add_case case "$a" "$CONF/cases/$a"
    elif [ -d "$CONF/invalid/$a" ]; then add_case invalid "$a" "$CONF/invalid/$a"
    elif [ -d "$a/dictionaries" ]; then add_case adhoc "$(basename "$a")" "$(cd "$a" && pwd)"
    elif [ -d "$a" ]; then
      # a plain directory of dictionaries: make it a one-directory case
      n="adhoc-$(basename "$a")"; mkdir -p "$OUT/$n.case"; ln -s "$(cd "$a" && pwd)" "$OUT/$n.case/dictionaries"
      add_case adhoc "$n" "$OUT/$n.case"
    else echo "rougail-diff: no case or directory named $a" >&2; exit 2
    fi
  done
fi

RESULTS="$OUT/results"
tr '\t' '\n' <"$JOBLIST" | xargs -d '\n' -n 3 -P "$JOBS" bash "$0" --worker "$OUT" "$UPDATE" "$ROUGAIL_ONLY" "${BRISE:-none}" >"$RESULTS"
sort -t$'\t' -k2,2 -o "$RESULTS" "$RESULTS"

KNOWN="$CONF/known-failures.txt"
known() { [ -f "$KNOWN" ] && sed 's/#.*//; s/[[:space:]]*$//' "$KNOWN" | grep -qxF "$1"; }
total=0 ok=0 failed=0 tolerated=0 stale=0 fixed=()
while IFS=$'\t' read -r status name detail; do
  total=$((total + 1))
  case "$status" in
    OK) ok=$((ok + 1)); if [ "$RATCHET" = 1 ] && known "$name"; then fixed+=("$name"); fi ;;
    MISMATCH)
      if [ "$RATCHET" = 1 ] && known "$name"; then tolerated=$((tolerated + 1))
      else failed=$((failed + 1)); echo "FAIL $name: $detail"; fi
      if [ "$VERBOSE" = 1 ] && [ -f "$OUT/$name.diff" ]; then head -n 20 "$OUT/$name.diff" | sed 's/^/    /'; fi ;;
    *) stale=$((stale + 1)); echo "$status $name: $detail"
       if [ -f "$OUT/$name.stale.diff" ]; then head -n 20 "$OUT/$name.stale.diff" | sed 's/^/    /'; fi ;;
  esac
done <"$RESULTS"

if [ "$ROUGAIL_ONLY" = 1 ]; then
  echo "rougail-diff: $ok of $total Rougail outputs $( [ "$UPDATE" = 1 ] && echo written || echo unchanged)"
else
  echo "rougail-diff: brise matches Rougail on $ok of $total cases ($failed failed, $tolerated known failures, $stale Rougail problems)"
fi
if [ ${#fixed[@]} -gt 0 ]; then
  echo "rougail-diff: listed in known-failures.txt but now passing (remove them): ${fixed[*]}"
fi
[ "$failed" = 0 ] && [ "$stale" = 0 ]
