#!/bin/bash
# nikto, the web server scanner of scripts/test.d/40-web-scan.sh. Debian 12
# ships it in the non-free component (its database's licence), which this
# machine's sources do not list: the package is fetched with a private apt
# list of bookworm non-free (the system's sources stay as they are), then
# installed with its dependencies (all in main) by apt.
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
if have nikto; then
  log "nikto already installed"
  exit 0
fi
work=/var/cache/brise-test/nikto
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb http://deb.debian.org/debian bookworm non-free" > "$work/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=/nonexistent"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
)
log "fetching nikto from Debian bookworm non-free"
apt-get "${apt_private[@]}" update -q
(cd "$work" && apt-get "${apt_private[@]}" download nikto)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "$work"/nikto_*.deb
log "$(nikto -Version 2>/dev/null | grep -m1 'Nikto main' | tr -s ' ')"
