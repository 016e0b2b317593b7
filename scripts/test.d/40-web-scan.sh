#!/bin/bash
# A scan of the web form with a real tool (docs/RELIABILITY.md "Web security"):
# nikto (Debian, installed by scripts/setup/85-nikto.sh) against a real
# `brise serve` on a random 127.0.0.1 port, over the shipped dictionaries and
# the demo values, as an anonymous visitor. Every line nikto reports that is not
# one of its informational lines is a finding and fails the run.
#   BRISE_SCAN_SECONDS  nikto's time limit (default 300)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v nikto >/dev/null || { echo "nikto is required: run scripts/setup-test-env.sh" >&2; exit 1; }
seconds="${BRISE_SCAN_SECONDS:-150}"
cargo build --locked --quiet --bin brise
brise="${CARGO_TARGET_DIR:-$PWD/target}/debug/brise"

work=$(mktemp -d /tmp/brise-relsec-scan-XXXXXX)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cp examples/demo/values.yml "$work/values.yml"
chmod 600 "$work/values.yml"
printf '%s\n' 'scan-password-not-used' | "$brise" passwd admin --users-file "$work/web-users" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$brise" --dictionaries dictionaries --templates templates --values "$work/values.yml" \
  --state-dir "$work/state" serve --listen "127.0.0.1:$port" --users-file "$work/web-users" \
  2> "$work/serve.log" &
server=$!
for _ in $(seq 1 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/login"; then break; fi
  sleep 0.2
done
curl -s -o /dev/null "http://127.0.0.1:$port/login" || { cat "$work/serve.log"; echo "brise serve did not start" >&2; exit 1; }

began=$(date +%s)
nikto -host 127.0.0.1 -port "$port" -maxtime "$seconds" -nointeractive -ask no \
  -nossl -nolookup > "$work/nikto.out" 2>&1 || true
cat "$work/nikto.out"
kill -0 "$server" 2>/dev/null || { cat "$work/serve.log"; echo "brise serve died during the scan" >&2; exit 1; }
# nikto's informational lines; anything else it reports is a finding.
# nikto 2.1.5 predates them and calls brise's own security headers "uncommon":
# those lines are expected (tests/web_security.rs checks their values).
ours='referrer-policy|x-content-type-options|content-security-policy|cross-origin-opener-policy|x-frame-options|permissions-policy|cache-control'
findings=$(grep '^+ ' "$work/nikto.out" | grep -vE \
  -e '^\+ (Target IP|Target Hostname|Target Port|Start Time|End Time|Server: No banner retrieved|No CGI Directories found|Root page / redirects to: /config$|Allowed HTTP Methods: GET, HEAD *$|[0-9]+ items checked|Scan terminated: +[0-9]+ error\(s\) and [0-9]+ item\(s\) reported|[0-9]+ host\(s\) tested|ERROR: Host maximum execution time)' \
  -e "^\\+ Uncommon header '($ours)' found" || true)
checked=$(grep -oE '^\+ [0-9]+ items checked' "$work/nikto.out" | grep -oE '[0-9]+' || echo "?")
grep -q '^+ End Time' "$work/nikto.out" || echo "web scan: nikto stopped at its time limit (${seconds} s) before the end"
echo "web scan: nikto checked $checked items in $(( $(date +%s) - began )) s"
if [ -n "$findings" ]; then
  echo "nikto findings:" >&2
  echo "$findings" >&2
  exit 1
fi
echo "web scan: nothing reported"
