#!/bin/bash
# gen_config through the real binary (process start-up, dictionaries and values
# loaded and validated, templates rendered, files compared and written) for N
# containers each publishing one port: the first run (N files written and
# fsynced), a no-change run (nothing written), and a run where one container
# changed (one file written). Everything under a temporary --root; the nginx
# check runs on the candidates alone (no nginx tree under the root), which opens
# the log files the locations name under /var/log/nginx.
# usage: scripts/bench-gen-config.sh [N]   (default 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --bin brise >/dev/null
BRISE="$CARGO_TARGET_DIR/release/brise"
WORK="$(mktemp -d /tmp/brise-bench-gen-config-XXXXXX)"
# nginx -t creates the log files the locations name: remove the ones this run created.
ls /var/log/nginx >"$WORK.logs-before" 2>/dev/null || true
cleanup() {
  rm -rf "$WORK"
  ls /var/log/nginx 2>/dev/null | grep -vxF -f "$WORK.logs-before" | grep -E '^conteneur[0-9]+-(access|error)\.log$' \
    | sed 's|^|/var/log/nginx/|' | xargs -r rm -f
  rm -f "$WORK.logs-before"
}
trap cleanup EXIT
values() { # $1 = host port of container 1
  echo "containers:"
  echo "  names:"
  for i in $(seq 1 "$N"); do echo "    - app-$i"; done
  for i in $(seq 1 "$N"); do
    port=$((20000 + i)); [ "$i" -eq 1 ] && port="$1"
    printf '  container_app_%s:\n    repository: httpd\n    tag: "2.4"\n    ports:\n      - container_port: 80\n        host_port: %s\n' "$i" "$port"
  done
}
values 20001 >"$WORK/values.yml"
values 19999 >"$WORK/changed.yml"
run() { "$BRISE" -d dictionaries -t templates --values "$1" gen_config --root "$WORK/root" --no-reload; }
echo "== $N containers: first run (writes $N files)"
/usr/bin/time -f "%e s, max RSS %M KB" bash -c "$(declare -f run); BRISE=$BRISE WORK=$WORK; run $WORK/values.yml | tail -1"
echo "== no-change run, then one container changed (hyperfine)"
hyperfine --warmup 1 --runs 10 \
  -n "no change" "$BRISE -d dictionaries -t templates --values $WORK/values.yml gen_config --root $WORK/root --no-reload" \
  -n "one changed" --prepare "$BRISE -d dictionaries -t templates --values $WORK/values.yml gen_config --root $WORK/root --no-reload >/dev/null" \
  "$BRISE -d dictionaries -t templates --values $WORK/changed.yml gen_config --root $WORK/root --no-reload"
echo "== a no-change run writes nothing"
run "$WORK/values.yml" >/dev/null
before="$(find "$WORK/root" -type f -printf '%T@ %i %p\n' | sort | md5sum)"
run "$WORK/values.yml"
after="$(find "$WORK/root" -type f -printf '%T@ %i %p\n' | sort | md5sum)"
if [ "$before" = "$after" ]; then echo "ok: no file written (mtimes and inodes unchanged)"; else echo "FAILED: files changed"; exit 1; fi
