#!/bin/bash
# nginx for the gen_config tests: the tests run their own nginx instances (own
# configuration tree in a temporary directory, random 127.0.0.1 port, started
# and stopped by PID); they only need the binary and /var/log/nginx (the shipped
# location template logs there, and `nginx -t` opens those files).
# The system nginx is neither configured nor reloaded here.
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
NGINX="${BRISE_TEST_NGINX:-/usr/sbin/nginx}"
if [ ! -x "$NGINX" ]; then
  echo "nginx not found at $NGINX (10-packages.sh installs Debian's nginx)" >&2
  exit 1
fi
log "$("$NGINX" -v 2>&1)"
install -d -m 0755 /var/log/nginx
