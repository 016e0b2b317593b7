#!/bin/bash
# The reference demonstration (seed-demo.md), end to end on this machine, as root:
#   1. set up dockerd, the local registry with images built FROM scratch
#      (busybox httpd standing in for httpd:2.4, a hello-world), and nginx;
#   2. build brise and configure the demonstration's two containers
#      (hello-world, and my-apache-app publishing 80 on 127.0.0.1:8081 with a
#      shared directory, persistent);
#   3. run `brise reconfigure`: pulls, creates and starts the containers, writes
#      /etc/nginx/web.d/conteneurs2.conf, reloads nginx;
#   4. show the page answering through nginx (http://127.0.0.1:8080/my-apache-app/),
#      then run reconfigure again: nothing to do, nothing restarted.
# This is the one script that configures and reloads the system nginx: it adds a
# site listening on 127.0.0.1:8080 (BRISE_DEMO_PORT) that includes the generated
# locations. Everything else lives under /var/lib/brise-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
DEMO=/var/lib/brise-demo
PORT="${BRISE_DEMO_PORT:-8080}"

echo "== 1. machine setup"
for step in 00-common 10-packages 15-rust 20-docker 30-registry-images 40-nginx; do
  [ "$step" = 00-common ] && continue
  bash "scripts/setup/$step.sh"
done

echo "== 2. build brise and write the demonstration's values"
cargo build --locked --bin brise
BRISE="$PWD/${CARGO_TARGET_DIR:-target}/debug/brise"
[ -x "$BRISE" ] || BRISE="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/brise"
install -d -m 0755 "$DEMO" "$DEMO/state" "$DEMO/hooks"
cat >"$DEMO/values.yml" <<'VALUES'
# The reference demonstration, with the images of the local registry.
containers:
  names:
    - hello-world
    - my-apache-app
  container_hello_world:
    registry: localhost:5000
    repository: brise-demo/hello-world
    restart: "no"
  container_my_apache_app:
    registry: localhost:5000
    repository: brise-demo/httpd
    tag: "2.4"
    shared_dirs:
      - host_dir: /var/eole-httpd/
        container_dir: /usr/local/apache2/htdocs/
    ports:
      - container_port: 80
        host_port: 8081
    persistent: true
VALUES
chmod 0600 "$DEMO/values.yml"
install -d -m 0755 /var/eole-httpd
[ -e /var/eole-httpd/index.html ] ||
  echo '<html><body><h1>It works!</h1><p>served by my-apache-app through nginx, configured by brise</p></body></html>' >/var/eole-httpd/index.html
brise() {
  "$BRISE" --dictionaries dictionaries --templates templates \
    --values "$DEMO/values.yml" --state-dir "$DEMO/state" --hooks-dir "$DEMO/hooks" "$@"
}

echo "== nginx: a demonstration site on 127.0.0.1:$PORT including /etc/nginx/web.d/*.conf"
install -d -m 0755 /etc/nginx/web.d /etc/nginx/snippets
install -m 0644 packaging/nginx/brise.conf /etc/nginx/snippets/brise.conf
cat >/etc/nginx/sites-enabled/brise-demo <<SITE
# Written by brise's scripts/demo.sh.
server {
    listen 127.0.0.1:$PORT;
    server_name _;
    include snippets/brise.conf;
}
SITE
nginx -t -q
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
  nginx -s reload
else
  nginx
fi

echo "== 3. brise reconfigure --dry-run (the plan)"
brise reconfigure --dry-run || true
echo "== 3. brise reconfigure"
brise reconfigure

echo "== 4. the page through nginx: curl http://127.0.0.1:$PORT/my-apache-app/"
for _ in $(seq 1 50); do
  if page="$(curl -fsS "http://127.0.0.1:$PORT/my-apache-app/")"; then break; fi
  sleep 0.2
done
echo "$page"
echo "$page" | grep -q "It works!"
echo "== the generated location: /etc/nginx/web.d/conteneurs2.conf"
cat /etc/nginx/web.d/conteneurs2.conf
echo "== 4. brise reconfigure again: nothing to do, nothing restarted"
brise reconfigure
echo "== brise status"
brise status
echo "== demonstration done: http://127.0.0.1:$PORT/my-apache-app/"
