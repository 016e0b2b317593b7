#!/bin/bash
# The Debian package's end-to-end test (issue 7). As root:
#   1. builds the package twice with scripts/build-deb.sh (the version of
#      debian/changelog, then the same source as <version>+upgradetest1), or
#      takes two already built .deb files as arguments;
#   2. checks the first package's contents and control data (dpkg-deb -c/-I);
#   3. makes a clean Debian 12 root with debootstrap (minbase, cached as a
#      tarball), installs the package there with dpkg -i + apt-get -f install,
#      and runs the EOLE commands (gen_config --help, CreoleSet/CreoleGet on a
#      shipped variable, gen_config --dry-run);
#   4. upgrades to the second build and checks that values, local dictionaries
#      and templates survived; removes (configuration kept), reinstalls over an
#      administrator's values file (kept as it was), purges (/etc/brise and
#      /var/lib/brise gone).
# Nothing on this machine outside the cache directory is touched: every brise
# command runs inside the chroot, and a policy-rc.d there keeps services from
# starting.
#
# Usage: scripts/test-deb.sh [FIRST.deb SECOND.deb]
# Environment:
#   BRISE_DEB_CACHE   cache and work directory (default /var/tmp/brise-deb-cache):
#                     the debootstrap tarball, the cargo target directory shared
#                     by the two builds, the built packages, the chroots
#   BRISE_DEB_MIRROR  Debian mirror for debootstrap and apt in the chroot
#                     (default: the host's apt source for bookworm)
#   BRISE_DEB_KEEP=1  keep the chroot afterwards (its path is printed)
#   BRISE_DEB_QUICK=1 the CI variant (scripts/test.d/75-debian-package.sh):
#                     both builds with DEB_BUILD_OPTIONS=noopt (cargo's dev
#                     profile; target directory BRISE_DEB_QUICK_TARGET_DIR,
#                     else its own in the cache), no lintian,
#                     no systemd stage; every other check is the same
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${BRISE_DEB_CACHE:-/var/tmp/brise-deb-cache}"
SUITE=bookworm
export PATH="$HOME/.cargo/bin:$PATH"

T0=$SECONDS
phase_start=$SECONDS
phase() { echo "== test-deb: $* (at $((SECONDS - T0)) s)"; phase_start=$SECONDS; }
took() { echo "   took $((SECONDS - phase_start)) s"; }
fail() { echo "test-deb: FAILED: $*" >&2; exit 1; }
ok() { echo "   ok: $*"; }

QUICK="${BRISE_DEB_QUICK:-0}"
[ "$(id -u)" = 0 ] || fail "must run as root (debootstrap, chroot)"
tools="debootstrap dpkg-deb chroot"
[ "$QUICK" = 1 ] || tools="$tools systemd-nspawn"
for tool in $tools; do
  command -v "$tool" >/dev/null || fail "\`$tool\` not found (scripts/setup/10-packages.sh installs it)"
done
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

# --- 1. the two builds ------------------------------------------------------
if [ $# -eq 2 ]; then
  DEB1="$(realpath "$1")"
  DEB2="$(realpath "$2")"
elif [ $# -eq 0 ]; then
  if [ "$QUICK" = 1 ]; then
    # Unoptimised builds (debian/rules maps noopt to cargo's dev profile) in
    # their own target directory: the release one keeps its artefacts.
    build() { # OUTDIR [VERSION]
      DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }noopt" BRISE_DEB_LINTIAN=0 \
        BRISE_DEB_CARGO_TARGET_DIR="${BRISE_DEB_QUICK_TARGET_DIR:-$CACHE/cargo-target-noopt}" BRISE_DEB_VERSION="${2:-}" \
        "$SRC/scripts/build-deb.sh" "$CACHE/out/quick-$1" | tail -n 1
    }
  else
    build() { # OUTDIR [VERSION]; lintian on the first build only
      BRISE_DEB_CARGO_TARGET_DIR="$CACHE/cargo-target" BRISE_DEB_VERSION="${2:-}" \
        BRISE_DEB_LINTIAN="${2:+0}" "$SRC/scripts/build-deb.sh" "$CACHE/out/$1" | tail -n 1
    }
  fi
  phase "building the first package"
  DEB1="$(build first)"
  took
  phase "building the second package (upgrade target)"
  V1="$(dpkg-deb -f "$DEB1" Version)"
  DEB2="$(build second "$V1+upgradetest1")"
  took
else
  fail "usage: scripts/test-deb.sh [FIRST.deb SECOND.deb]"
fi
[ -f "$DEB1" ] || fail "no package at $DEB1"
[ -f "$DEB2" ] || fail "no package at $DEB2"
V1="$(dpkg-deb -f "$DEB1" Version)"
V2="$(dpkg-deb -f "$DEB2" Version)"
dpkg --compare-versions "$V2" gt "$V1" || fail "second package $V2 is not newer than $V1"

# --- 2. contents and control data -------------------------------------------
phase "checking the contents of $(basename "$DEB1")"
listing="$(dpkg-deb -c "$DEB1" | awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }')"
has() { grep -qxF -- "$1" <<<"$listing" || fail "$(basename "$DEB1") lacks \`$1\`"; }
has_match() { grep -qE -- "$1" <<<"$listing" || fail "$(basename "$DEB1") has nothing matching \`$1\`"; }
lacks() { ! grep -qE -- "$1" <<<"$listing" || fail "$(basename "$DEB1") must not contain \`$1\`"; }
mode_of() { dpkg-deb -c "$DEB1" | awk -v p="$1" '{ n = $6 } n == p { print $1 }'; }

has ./usr/sbin/brise
[ "$(mode_of ./usr/sbin/brise)" = "-rwxr-xr-x" ] || fail "/usr/sbin/brise is not -rwxr-xr-x"
for name in gen_config reconfigure CreoleGet CreoleSet; do
  has "./usr/sbin/$name -> brise"
done
has_match '^\./(usr/)?lib/systemd/system/brise-web\.service$'
has ./etc/nginx/snippets/brise.conf
has ./etc/nginx/web.d/
has ./etc/brise/dictionaries/
has ./etc/brise/templates/
lacks '^\./etc/brise/values'
for hook in preservice pretemplate posttemplate postservice; do
  has "./usr/share/brise/hooks/$hook.d/"
done
# Every shipped dictionary and template of the source tree is in the package.
[ -d "$SRC/dictionaries" ] || fail "the source has no dictionaries/ directory"
[ -d "$SRC/templates" ] || fail "the source has no templates/ directory"
shipped=0
while IFS= read -r -d '' f; do
  has "./usr/share/brise/${f#./}"
  shipped=$((shipped + 1))
done < <(cd "$SRC" && find ./dictionaries ./templates -type f -print0)
[ "$shipped" -gt 0 ] || fail "dictionaries/ and templates/ are empty"
has ./usr/share/man/man8/brise.8.gz
for page in brise-gen_config brise-reconfigure brise-get brise-set brise-serve; do
  has "./usr/share/man/man8/$page.8.gz"
done
has "./usr/share/man/man8/gen_config.8.gz -> brise-gen_config.8.gz"
has "./usr/share/man/man8/reconfigure.8.gz -> brise-reconfigure.8.gz"
has "./usr/share/man/man8/CreoleGet.8.gz -> brise-get.8.gz"
has "./usr/share/man/man8/CreoleSet.8.gz -> brise-set.8.gz"
has ./usr/share/bash-completion/completions/brise
has ./usr/share/zsh/vendor-completions/_brise
has ./usr/share/fish/vendor_completions.d/brise.fish
has ./usr/share/doc/brise/copyright
ok "paths of the binary, EOLE links, unit, nginx snippet, $shipped dictionaries and templates, man pages, completions"

field() { dpkg-deb -f "$DEB1" "$1"; }
[ "$(field Package)" = brise ] || fail "Package is not brise"
[ "$(field Section)" = admin ] || fail "Section is $(field Section), not admin"
for d in liblxc1 liblxc-common; do
  grep -qw "$d" <<<"$(field Depends)" || fail "Depends lacks $d: $(field Depends)"
done
for r in nginx docker.io lxc skopeo umoci nftables iproute2 rsync; do
  grep -qw "$r" <<<"$(field Recommends)" || fail "Recommends lacks $r: $(field Recommends)"
done
conffiles="$(dpkg-deb -I "$DEB1" conffiles)"
grep -qxF /etc/nginx/snippets/brise.conf <<<"$conffiles" || fail "the nginx snippet is not a conffile"
! grep -q '^/etc/brise/' <<<"$conffiles" || fail "/etc/brise files must not be conffiles: $conffiles"
for script in postinst postrm; do
  dpkg-deb -I "$DEB1" "$script" | grep -q '^set -e' || fail "$script does not set -e"
done
unit="$(dpkg-deb --fsys-tarfile "$DEB1" | tar -xOf - --wildcards '*/systemd/system/brise-web.service')"
for directive in 'ExecStart=/usr/sbin/brise serve' ProtectSystem=strict NoNewPrivileges=yes \
  'ReadWritePaths=/etc/brise /var/lib/brise' PrivateTmp=yes; do
  grep -qF -- "$directive" <<<"$unit" || fail "brise-web.service lacks \`$directive\`"
done
snippet="$(dpkg-deb --fsys-tarfile "$DEB1" | tar -xOf - ./etc/nginx/snippets/brise.conf)"
grep -qx 'include /etc/nginx/web.d/\*.conf;' <<<"$snippet" || fail "the nginx snippet does not include /etc/nginx/web.d/*.conf"
grep -qw busybox-static <<<"$(field Suggests)" || fail "Suggests lacks busybox-static: $(field Suggests)"
ok "control data: Section admin, Depends liblxc1 liblxc-common, Recommends nginx docker.io and the LXC runtime's tools, conffiles, hardened unit"
took

# --- 3. a clean Debian 12 root ----------------------------------------------
MIRROR="${BRISE_DEB_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' "Codename: $SUITE" 'Target-Of: deb' | head -n 1)}"
[ -n "$MIRROR" ] || fail "no Debian mirror for $SUITE in the host's apt sources: set BRISE_DEB_MIRROR"
BASE="$CACHE/$SUITE-minbase.tar"
if [ ! -f "$BASE" ]; then
  phase "debootstrap $SUITE (cached afterwards in $BASE)"
  boot="$(mktemp -d "$CACHE/debootstrap.XXXXXX")"
  debootstrap --variant=minbase "$SUITE" "$boot" "$MIRROR" >"$boot.log" 2>&1 \
    || { tail -n 30 "$boot.log" >&2; rm -rf "$boot"; fail "debootstrap failed (log: $boot.log)"; }
  tar -C "$boot" -cf "$BASE.new" .
  mv "$BASE.new" "$BASE"
  rm -rf "$boot" "$boot.log"
  took
fi

phase "unpacking a fresh root"
ROOT="$(mktemp -d "$CACHE/root.XXXXXX")"
chmod 0755 "$ROOT" # mktemp makes it 0700: apt's _apt user must traverse /
cleanup() {
  local status=$?
  # Unmount whatever is mounted inside the root, deepest first.
  local m
  for m in $(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" || true
  done
  if [ "${BRISE_DEB_KEEP:-0}" = 1 ]; then
    echo "test-deb: root kept in $ROOT"
  else
    rm -rf --one-file-system "$ROOT"
  fi
  exit "$status"
}
trap cleanup EXIT
tar -C "$ROOT" -xf "$BASE"
# No service may start inside the chroot (it shares this machine's network).
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
echo "deb $MIRROR $SUITE main" > "$ROOT/etc/apt/sources.list"
# apt cannot drop to its _apt user in this chroot (it warns, then downloads as root).
echo 'APT::Sandbox::User "root";' > "$ROOT/etc/apt/apt.conf.d/99brise-test"
took

# inroot CMD...: run a command inside the root with a clean environment.
inroot() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
status_of() { inroot dpkg-query -W -f='${Status} ${Version}' brise 2>/dev/null || true; }
sum() { inroot sha256sum "$1" | cut -d' ' -f1; }
mode() { inroot stat -c '%a %U:%G' "$1"; }

# --- 4. install ---------------------------------------------------------------
phase "installing $(basename "$DEB1") with dpkg -i + apt-get -f install"
cp "$DEB1" "$ROOT/tmp/first.deb"
cp "$DEB2" "$ROOT/tmp/second.deb"
inroot apt-get update -q >/dev/null
if inroot dpkg -i /tmp/first.deb >"$ROOT/tmp/dpkg-first.log" 2>&1; then
  echo "   dpkg -i installed it with no missing dependency"
else
  grep -q 'dependency problems' "$ROOT/tmp/dpkg-first.log" || { cat "$ROOT/tmp/dpkg-first.log" >&2; fail "dpkg -i failed"; }
  echo "   dpkg -i left it unconfigured (missing dependencies), as expected in a minimal root"
fi
inroot apt-get -f install -y -q >"$ROOT/tmp/apt-fix.log" 2>&1 || { cat "$ROOT/tmp/apt-fix.log" >&2; fail "apt-get -f install failed"; }
[ "$(status_of)" = "install ok installed $V1" ] || fail "brise is not installed: $(status_of)"
ok "installed $V1"
took

phase "the installed files"
[ "$(inroot brise --version)" = "brise $V1" ] || fail "brise --version prints \`$(inroot brise --version)\`, not \`brise $V1\`"
ok "brise --version prints the package version"
[ "$(mode /etc/brise/values.yml)" = "600 root:root" ] || fail "values.yml is $(mode /etc/brise/values.yml)"
[ "$(mode /var/lib/brise)" = "700 root:root" ] || fail "/var/lib/brise is $(mode /var/lib/brise)"
ok "values.yml 0600 root:root, /var/lib/brise 0700"
for name in gen_config reconfigure CreoleGet CreoleSet; do
  [ "$(inroot readlink -f "/usr/sbin/$name")" = /usr/sbin/brise ] || fail "/usr/sbin/$name does not lead to brise"
done
inroot test -d /usr/share/brise/dictionaries || fail "no /usr/share/brise/dictionaries"
# Every command the installed binary lists has its man page (the build checks
# subcommands and completions too: debian/check-generated.sh).
commands="$(inroot brise --help | awk '/^Commands:$/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' | grep -vx help)"
[ -n "$commands" ] || fail "brise --help lists no command"
for command in $commands; do
  inroot test -f "/usr/share/man/man8/brise-$command.8.gz" || fail "\`brise $command\` has no man page"
done
ok "a man page for each of the $(wc -w <<<"$commands") commands of brise --help"
# The LXC runtime's data files come with the Depends.
for f in /usr/share/lxc/config/common.conf /usr/sbin/init.lxc.static /usr/share/lxc/templates/lxc-busybox; do
  inroot test -e "$f" || fail "$f is missing although brise Depends on liblxc-common"
done
ok "liblxc-common's files (common.conf, init.lxc.static, the busybox template) are installed"
took

phase "the EOLE commands"
# gen_config checks what it renders with `nginx -t`, even with --dry-run: the
# recommended nginx, as `apt install ./brise.deb` would bring it (its service
# does not start: policy-rc.d).
inroot apt-get install -y -q --no-install-recommends nginx >"$ROOT/tmp/apt-nginx.log" 2>&1 \
  || { tail -n 30 "$ROOT/tmp/apt-nginx.log" >&2; fail "installing nginx failed"; }
inroot gen_config --help >"$ROOT/tmp/help.txt" || fail "gen_config --help failed"
grep -q -- '--dry-run' "$ROOT/tmp/help.txt" || fail "gen_config --help does not document --dry-run"
ok "gen_config --help"
# The demonstration's values (as an administrator would write them), then one
# variable changed with CreoleSet and read back with CreoleGet.
[ -f "$SRC/examples/demo/values.yml" ] || fail "no examples/demo/values.yml in the source"
install -m 0600 "$SRC/examples/demo/values.yml" "$ROOT/etc/brise/values.yml"
inroot CreoleSet containers.container_my_apache_app.tag 2.4.62 || fail "CreoleSet failed"
[ "$(inroot CreoleGet containers.container_my_apache_app.tag)" = 2.4.62 ] \
  || fail "CreoleGet prints \`$(inroot CreoleGet containers.container_my_apache_app.tag)\`, not 2.4.62"
ok "CreoleSet/CreoleGet containers.container_my_apache_app.tag"
inroot CreoleGet --list >"$ROOT/tmp/list.txt" || fail "CreoleGet --list failed"
grep -q '^containers.container_my_apache_app.tag=2.4.62$' "$ROOT/tmp/list.txt" \
  || { cat "$ROOT/tmp/list.txt" >&2; fail "CreoleGet --list lacks the value set"; }
ok "CreoleGet --list"
[ "$(mode /etc/brise/values.yml)" = "600 root:root" ] || fail "CreoleSet left values.yml as $(mode /etc/brise/values.yml)"
inroot gen_config --dry-run >"$ROOT/tmp/dry-run.txt" 2>&1 || { cat "$ROOT/tmp/dry-run.txt" >&2; fail "gen_config --dry-run failed"; }
grep -q '/etc/nginx/web.d/conteneurs2.conf' "$ROOT/tmp/dry-run.txt" \
  || { cat "$ROOT/tmp/dry-run.txt" >&2; fail "gen_config --dry-run does not list /etc/nginx/web.d/conteneurs2.conf"; }
inroot test ! -e /etc/nginx/web.d/conteneurs2.conf || fail "gen_config --dry-run wrote a file"
ok "gen_config --dry-run lists the demo's nginx file and writes nothing"
took

# --- 5. upgrade, remove, reinstall, purge -------------------------------------
phase "upgrading to $V2"
printf 'version: 1.1\n' > "$ROOT/etc/brise/dictionaries/99_local.yml"
printf '# local template\n' > "$ROOT/etc/brise/templates/local-note.tera"
values_sum="$(sum /etc/brise/values.yml)"
dict_sum="$(sum /etc/brise/dictionaries/99_local.yml)"
tmpl_sum="$(sum /etc/brise/templates/local-note.tera)"
inroot dpkg -i /tmp/second.deb >"$ROOT/tmp/dpkg-second.log" 2>&1 || { cat "$ROOT/tmp/dpkg-second.log" >&2; fail "upgrade failed"; }
[ "$(status_of)" = "install ok installed $V2" ] || fail "after upgrade: $(status_of)"
[ "$(inroot brise --version)" = "brise $V2" ] || fail "after upgrade brise --version prints \`$(inroot brise --version)\`"
[ "$(sum /etc/brise/values.yml)" = "$values_sum" ] || fail "the upgrade changed values.yml"
[ "$(mode /etc/brise/values.yml)" = "600 root:root" ] || fail "after upgrade values.yml is $(mode /etc/brise/values.yml)"
[ "$(sum /etc/brise/dictionaries/99_local.yml)" = "$dict_sum" ] || fail "the upgrade changed the local dictionary"
[ "$(sum /etc/brise/templates/local-note.tera)" = "$tmpl_sum" ] || fail "the upgrade changed the local template"
[ "$(inroot CreoleGet containers.container_my_apache_app.tag)" = 2.4.62 ] || fail "the value set before the upgrade is lost"
ok "upgraded; values.yml (0600), the local dictionary and template unchanged; CreoleGet still prints 2.4.62"
inroot dpkg -i /tmp/second.deb >/dev/null 2>&1 || fail "reinstalling the same version failed"
[ "$(sum /etc/brise/values.yml)" = "$values_sum" ] || fail "reinstalling changed values.yml"
ok "reinstalling the same version (maintainer scripts run again) changes nothing"
took

phase "remove, then purge"
inroot dpkg -r brise >/dev/null 2>&1 || fail "dpkg -r failed"
inroot test ! -e /usr/sbin/brise || fail "/usr/sbin/brise is still there after remove"
[ "$(sum /etc/brise/values.yml)" = "$values_sum" ] || fail "remove changed values.yml"
inroot test -d /var/lib/brise || fail "remove deleted /var/lib/brise"
ok "remove keeps /etc/brise/values.yml and /var/lib/brise"
inroot dpkg -P brise >/dev/null 2>&1 || fail "dpkg -P failed"
for gone in /etc/brise /var/lib/brise /etc/nginx/snippets/brise.conf /usr/share/brise; do
  inroot test ! -e "$gone" || fail "$gone is still there after purge"
done
[ -z "$(status_of | grep -v '^unknown ok not-installed')" ] || fail "after purge: $(status_of)"
ok "purge removes /etc/brise, /var/lib/brise and the nginx snippet"
took

phase "installing over an administrator's values file"
inroot mkdir -p /etc/brise
printf '# restored from a backup\n' > "$ROOT/etc/brise/values.yml"
chmod 0640 "$ROOT/etc/brise/values.yml"
admin_sum="$(sum /etc/brise/values.yml)"
inroot dpkg -i /tmp/first.deb >/dev/null 2>&1 || fail "installing again failed"
[ "$(sum /etc/brise/values.yml)" = "$admin_sum" ] || fail "postinst overwrote the administrator's values.yml"
[ "$(mode /etc/brise/values.yml)" = "640 root:root" ] || fail "postinst changed the mode of the administrator's values.yml"
ok "an existing values.yml is kept as it is (content and mode)"
# An LXC container made by brise still uses the image store (its overlay base):
# purge keeps /var/lib/brise/lxc then, and only then.
inroot mkdir -p /var/lib/lxc/brise-t-deb /var/lib/brise/lxc/images/busybox-t/rootfs
printf '{}\n' > "$ROOT/var/lib/lxc/brise-t-deb/brise.json"
printf '{}\n' > "$ROOT/var/lib/brise/generated-files.json"
inroot dpkg -P brise >"$ROOT/tmp/purge-lxc.log" 2>&1 || { cat "$ROOT/tmp/purge-lxc.log" >&2; fail "second purge failed"; }
inroot test ! -e /etc/brise || fail "/etc/brise is still there after the second purge"
inroot test -d /var/lib/brise/lxc/images/busybox-t/rootfs || fail "purge deleted the image store of a remaining LXC container"
inroot test ! -e /var/lib/brise/generated-files.json || fail "purge kept /var/lib/brise/generated-files.json"
grep -q 'kept /var/lib/brise/lxc' "$ROOT/tmp/purge-lxc.log" || fail "purge did not say it kept /var/lib/brise/lxc"
ok "purge keeps /var/lib/brise/lxc while a brise LXC container remains, and says so"
inroot rm -rf /var/lib/lxc/brise-t-deb /var/lib/brise
took

if [ "$QUICK" = 1 ]; then
  echo "== test-deb: all checks passed in $((SECONDS - T0)) s (quick: noopt builds, no lintian, no systemd stage)"
  exit 0
fi

# --- 6. the web form's service under systemd ---------------------------------
phase "the web form's hardened service, booted under systemd (systemd-nspawn)"
# The same root, now with systemd, nginx (recommended) and the second build,
# the demo values, and nginx's default site including brise's snippet (the
# administrator's step of README.Debian).
inroot apt-get install -y -q --no-install-recommends systemd systemd-sysv dbus nginx /tmp/second.deb \
  >"$ROOT/tmp/apt-systemd.log" 2>&1 || { tail -n 30 "$ROOT/tmp/apt-systemd.log" >&2; fail "installing systemd, nginx and brise failed"; }
install -m 0600 "$SRC/examples/demo/values.yml" "$ROOT/etc/brise/values.yml"
sed -i 's|^\(\s*\)server_name _;|&\n\1include snippets/brise.conf;|' "$ROOT/etc/nginx/sites-available/default"
grep -q 'include snippets/brise.conf;' "$ROOT/etc/nginx/sites-available/default" || fail "could not include the snippet in nginx's default site"
rm -f "$ROOT/usr/sbin/policy-rc.d" # services start inside the container (private network)
cat > "$ROOT/usr/local/sbin/brise-apply-check" <<'SCRIPT'
#!/bin/sh
# What the form's "apply" does to files, run inside brise-web's sandbox.
set -e
brise set containers.container_my_apache_app.tag 2.4.63
brise gen_config
SCRIPT
cat > "$ROOT/usr/local/sbin/brise-boot-check" <<'SCRIPT'
#!/bin/bash
# Runs at boot inside the container (systemd is PID 1), writes /root/check.log.
exec >/root/check.log 2>&1
failed=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failed=1; }
http_status() { # PORT PATH
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || { echo none; return; }
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3
  head -n 1 <&3 | cut -d' ' -f2
  exec 3<&-
}
echo 'check-password-1' | brise passwd admin || bad "brise passwd admin"
systemctl start brise-web || bad "systemctl start brise-web"
for _ in $(seq 50); do [ "$(http_status 8470 /login)" = 200 ] && break; sleep 0.2; done
if [ "$(http_status 8470 /login)" = 200 ]; then ok "brise-web is active and answers /login with 200"; else
  bad "brise-web does not answer /login"; journalctl -u brise-web --no-pager | tail -n 20; fi
pid="$(systemctl show -p MainPID --value brise-web)"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" && ok "NoNewPrivs" || bad "the service can gain privileges"
grep -q '^Seccomp:[[:space:]]*2$' "/proc/$pid/status" && ok "seccomp filter" || bad "no seccomp filter"
if nsenter -t "$pid" -m touch /usr/brise-probe 2>/dev/null; then bad "the service can write /usr"; else ok "/usr is read-only for the service"; fi
if nsenter -t "$pid" -m touch /etc/brise-probe 2>/dev/null; then bad "the service can write /etc"; else ok "/etc is read-only for the service"; fi
if nsenter -t "$pid" -m sh -c 'touch /etc/brise/.probe && rm /etc/brise/.probe'; then ok "/etc/brise is writable for the service"; else bad "the service cannot write /etc/brise"; fi
before="$(http_status 80 /my-apache-app/)"
# A twin of brise-web (same sandbox, oneshot) does what "apply" does to files.
sed -e 's|^ExecStart=.*|ExecStart=/usr/local/sbin/brise-apply-check|' -e 's|^Type=.*|Type=oneshot|' \
  -e '/^Restart=/d' /lib/systemd/system/brise-web.service > /etc/systemd/system/brise-web-twin.service
systemctl daemon-reload
if systemctl start brise-web-twin; then ok "brise set + gen_config ran in brise-web's sandbox"; else
  bad "brise set + gen_config failed in brise-web's sandbox"; fi
journalctl -u brise-web-twin --no-pager | tail -n 20
[ "$(brise get containers.container_my_apache_app.tag)" = 2.4.63 ] && ok "the value set in the sandbox is stored" || bad "the value set in the sandbox is not stored"
[ -f /etc/nginx/web.d/conteneurs2.conf ] && ok "gen_config wrote /etc/nginx/web.d/conteneurs2.conf" || bad "no /etc/nginx/web.d/conteneurs2.conf"
# The reload is asynchronous: give nginx's new workers a moment.
for _ in $(seq 25); do after="$(http_status 80 /my-apache-app/)"; [ "$after" = 502 ] && break; sleep 0.2; done
# Nothing listens on 127.0.0.1:8081 here: a live location answers 502.
[ "$before" = 404 ] && [ "$after" = 502 ] && ok "nginx serves the new location (404 before, 502 without backend after)" \
  || bad "nginx answered $before before and $after after gen_config (expected 404 then 502)"
if [ "$failed" = 0 ]; then echo CHECK-PASSED; else echo CHECK-FAILED; fi
systemctl --no-block --job-mode=replace-irreversibly start poweroff.target
SCRIPT
chmod 0755 "$ROOT/usr/local/sbin/brise-apply-check" "$ROOT/usr/local/sbin/brise-boot-check"
cat > "$ROOT/etc/systemd/system/brise-boot-check.service" <<'UNIT'
[Unit]
Description=brise package test, run at boot
After=nginx.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/brise-boot-check
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/brise-boot-check.service "$ROOT/etc/systemd/system/multi-user.target.wants/"
# --keep-unit --register=no: no host systemd/machined is needed.
timeout -k 10 300 systemd-nspawn --quiet --register=no --keep-unit --private-network -D "$ROOT" -b \
  >"$CACHE/nspawn.log" 2>&1 || echo "   (systemd-nspawn exited with $?; its console: $CACHE/nspawn.log)"
[ -f "$ROOT/root/check.log" ] || fail "the boot check did not run (console: $CACHE/nspawn.log)"
sed 's/^/   /' "$ROOT/root/check.log"
grep -qx CHECK-PASSED "$ROOT/root/check.log" || fail "the web form's service under systemd"
took

echo "== test-deb: all checks passed in $((SECONDS - T0)) s"
