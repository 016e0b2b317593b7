#!/bin/bash
# Debian packages the tests and the demo need (installed only when missing).
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
PACKAGES=(
  build-essential pkg-config clang libclang-dev lxc lxc-dev
  docker.io docker-registry docker-compose nginx busybox-static
  chromium chromium-driver skopeo umoci nftables iproute2 bridge-utils
  debootstrap lintian debhelper dpkg-dev fakeroot systemd-container
  curl ca-certificates python3 python3-venv hyperfine time
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "packages already installed"
fi
