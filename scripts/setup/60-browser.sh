#!/bin/bash
# The real browser of the web form's end-to-end tests (tests/browser.rs):
# Debian's chromium and its chromedriver, of the same version. The tests start
# both themselves (free 127.0.0.1 ports, fresh profile, no background networking).
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
if ! have chromium || ! have chromedriver; then
  log "installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium chromium-driver
fi
browser=$(chromium --version 2>/dev/null | awk '{print $2}')
driver=$(chromedriver --version | awk '{print $2}')
if [ "${browser%%.*}" != "${driver%%.*}" ]; then
  echo "chromium $browser and chromedriver $driver differ: install matching versions" >&2
  exit 1
fi
log "chromium $browser, chromedriver $driver"
