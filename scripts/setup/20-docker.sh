#!/bin/bash
# dockerd (Debian's docker.io): reuse a running daemon, else start it through
# systemd or the init script, else run it in the background (sandboxes and CI
# have no init system) with its log in /var/log/brise-dockerd.log.
# Idempotent and safe when several setups run at once (one lock).
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
SOCKET=/var/run/docker.sock
# Debian's client, not whatever newer one sits earlier in PATH.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker

engine_answers() { "$DOCKER" -H "unix://$SOCKET" version >/dev/null 2>&1; }

exec 9>/run/brise-setup-docker.lock
flock 9
if engine_answers; then
  log "dockerd already running: $("$DOCKER" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
  exit 0
fi
if have systemctl && [ "$(systemctl is-system-running 2>/dev/null || true)" != offline ] \
   && systemctl start docker 2>/dev/null && wait_for engine_answers; then
  log "dockerd started by systemd"
elif [ -x /etc/init.d/docker ] && /etc/init.d/docker start >/dev/null 2>&1 9>&- && wait_for engine_answers; then
  log "dockerd started by its init script"
else
  log "starting dockerd in the background (log: /var/log/brise-dockerd.log)"
  # A stale pid file from a daemon that died prevents a new start.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  # 9>&-: the daemon must not inherit (and so hold forever) the setup lock.
  setsid nohup dockerd --host "unix://$SOCKET" >>/var/log/brise-dockerd.log 2>&1 </dev/null 9>&- &
  if ! wait_for engine_answers; then
    echo "dockerd did not answer on $SOCKET within 60 s; last lines of its log:" >&2
    tail -n 20 /var/log/brise-dockerd.log >&2 || true
    exit 1
  fi
fi
log "dockerd $("$DOCKER" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
