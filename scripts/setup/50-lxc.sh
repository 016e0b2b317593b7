#!/bin/bash
# LXC for `technology: lxc` containers and tests/lxc.rs (privileged containers
# as root, through liblxc): Debian's lxc (liblxc, its busybox template and
# init.lxc.static), lxc-dev (the headers lxc-sys binds), busybox-static (the
# offline template), skopeo + umoci (OCI images), nftables (port rules),
# rsync (liblxc copies directory root filesystems with it for snapshots);
# the overlay filesystem (ephemeral containers) and brise's directories.
# Then a smoke test: a busybox container in a scratch LXC path is created,
# started, stopped and destroyed, so a machine that cannot run LXC fails
# here with liblxc's own words. Idempotent; touches no existing container,
# bridge or nftables rule (brise creates its bridge `brisebr0` when needed).
set -euo pipefail
. "$(dirname "$0")/00-common.sh"

PACKAGES=(lxc lxc-dev busybox-static skopeo umoci nftables iproute2 rsync)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

for file in /usr/share/lxc/templates/lxc-busybox /usr/sbin/init.lxc.static /usr/share/lxc/config/common.conf; do
  [ -e "$file" ] || { echo "LXC is incomplete: $file is missing" >&2; exit 1; }
done
have busybox || { echo "busybox is not in PATH (package busybox-static)" >&2; exit 1; }

if ! grep -qw overlay /proc/filesystems; then
  modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems || {
    echo "the kernel has no overlay filesystem: ephemeral LXC containers need it" >&2
    exit 1
  }
fi

mkdir -p /var/lib/lxc /var/lib/brise/lxc/images /var/lib/brise/lxc/local
chmod 0755 /var/lib/brise /var/lib/brise/lxc

# Smoke test in a scratch LXC path, without network (no bridge is touched).
scratch="$(mktemp -d /tmp/brise-t-lxc-setup.XXXXXX)"
name="brise-t-lxc-setup-$$"
cleanup() {
  lxc-stop -P "$scratch" -n "$name" -k >/dev/null 2>&1 || true
  lxc-destroy -P "$scratch" -n "$name" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
if ! lxc-create -P "$scratch" -n "$name" -t busybox >"$scratch/create.log" 2>&1; then
  echo "LXC cannot create a busybox container:" >&2
  tail -n 20 "$scratch/create.log" >&2
  exit 1
fi
sed -i -e '/^lxc\.net\./d' -e '/^lxc\.apparmor\./d' "$scratch/$name/config"
echo "lxc.net.0.type = empty" >>"$scratch/$name/config"
if ! lxc-start -P "$scratch" -n "$name" -l WARN -o "$scratch/start.log"; then
  echo "LXC cannot start a busybox container:" >&2
  tail -n 20 "$scratch/start.log" >&2
  exit 1
fi
lxc-wait -P "$scratch" -n "$name" -s RUNNING -t 30
lxc-stop -P "$scratch" -n "$name" -k
log "liblxc $(lxc-start --version) runs privileged busybox containers"
