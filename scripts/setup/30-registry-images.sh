#!/bin/bash
# The local registry (Debian's docker-registry) on 127.0.0.1:5000 with its own
# config and storage under /var/lib/brise-registry, and the demo images built
# FROM scratch with busybox-static, pushed there:
#   localhost:5000/brise-demo/httpd:2.4        busybox httpd on port 80 serving
#                                              /usr/local/apache2/htdocs ("It works!")
#   localhost:5000/brise-demo/hello-world:latest  prints a greeting and exits 0
#   localhost:5000/brise-demo/busybox:latest    sleeps (benchmarks, tests)
#   localhost:5000/brise-demo/busybox:v2        the same with another file (tag changes)
# Idempotent: a listening registry is reused; images are rebuilt only when this
# script's image recipe version changes or an image is missing.
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
REGISTRY=127.0.0.1:5000
PREFIX=localhost:5000/brise-demo
STATE=/var/lib/brise-registry
RECIPE_VERSION=1
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=docker
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX="$(command -v busybox)"

exec 9>/run/brise-setup-registry.lock
flock 9

registry_answers() { curl -sf "http://$REGISTRY/v2/" >/dev/null; }

mkdir -p "$STATE/data"
if registry_answers; then
  log "registry already answering on $REGISTRY"
else
  cat >"$STATE/config.yml" <<CONF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
CONF
  log "starting docker-registry on $REGISTRY (log: /var/log/brise-registry.log)"
  # 9>&-: the daemon must not inherit (and so hold forever) the setup lock.
  setsid nohup docker-registry serve "$STATE/config.yml" >>/var/log/brise-registry.log 2>&1 </dev/null 9>&- &
  if ! wait_for registry_answers; then
    echo "docker-registry did not answer on $REGISTRY within 60 s:" >&2
    tail -n 20 /var/log/brise-registry.log >&2 || true
    exit 1
  fi
fi

image_in_registry() { # repository tag
  curl -sf -o /dev/null \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/brise-demo/$1/manifests/$2"
}

all_present() {
  image_in_registry httpd 2.4 && image_in_registry hello-world latest \
    && image_in_registry busybox latest && image_in_registry busybox v2
}

if [ "$(cat "$STATE/recipe-version" 2>/dev/null || true)" = "$RECIPE_VERSION" ] && all_present; then
  log "demo images already in the registry (recipe $RECIPE_VERSION)"
  exit 0
fi

work="$(mktemp -d /tmp/brise-images.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# rootfs NAME: a minimal tree with busybox and its applets in /bin.
rootfs() {
  local root="$work/$1"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp "$BUSYBOX" "$root/bin/busybox"
  local applet
  for applet in sh echo cat ls sleep httpd wget true false id env ps kill; do
    ln -sf busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  echo "$root"
}

# import_push ROOT IMAGE CHANGE...: import the tree as an image (FROM scratch) and push it.
import_push() {
  local root="$1" image="$2"
  shift 2
  local changes=()
  local c
  for c in "$@"; do changes+=(--change "$c"); done
  tar -C "$root" -cf - . | "$DOCKER" import "${changes[@]}" - "$image" >/dev/null
  "$DOCKER" push -q "$image" >/dev/null
  log "pushed $image"
}

root="$(rootfs httpd)"
mkdir -p "$root/usr/local/apache2/htdocs"
echo '<html><body><h1>It works!</h1></body></html>' >"$root/usr/local/apache2/htdocs/index.html"
import_push "$root" "$PREFIX/httpd:2.4" \
  'EXPOSE 80' \
  'CMD ["/bin/httpd", "-f", "-v", "-p", "80", "-h", "/usr/local/apache2/htdocs"]'

root="$(rootfs hello-world)"
cat >"$root/hello" <<'HELLO'
#!/bin/sh
echo
echo "Hello from brise-demo/hello-world!"
echo "This message shows that the container ran and exited."
HELLO
chmod +x "$root/hello"
import_push "$root" "$PREFIX/hello-world:latest" 'CMD ["/hello"]'

root="$(rootfs busybox)"
import_push "$root" "$PREFIX/busybox:latest" 'CMD ["/bin/sleep", "1000000000"]'
echo v2 >"$root/etc/brise-demo-version"
import_push "$root" "$PREFIX/busybox:v2" 'CMD ["/bin/sleep", "1000000000"]'

echo "$RECIPE_VERSION" >"$STATE/recipe-version"
