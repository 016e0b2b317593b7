#!/bin/bash
# Fast checks of debian/ that need no package build (seconds): the maintainer
# scripts parse, debian/rules accepts the current versions and refuses a
# changelog whose upstream version differs from Cargo.toml's, the web form's
# unit is valid for systemd. The full build + install test is
# scripts/test-deb.sh (docs/packaging.md says why it is separate).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "70-debian-static: FAILED: $*" >&2; exit 1; }

for script in debian/brise.postinst debian/brise.postrm; do
  sh -n "$script" || fail "$script does not parse"
  head -n 5 "$script" | grep -q '^set -e$' || fail "$script does not set -e"
  grep -q '^#DEBHELPER#$' "$script" || fail "$script lacks #DEBHELPER#"
done
echo "   ok: maintainer scripts parse, set -e, #DEBHELPER#"

# debian/rules reads the versions when it is parsed: `-n clean` runs nothing.
make -s -n -f debian/rules clean >/dev/null || fail "debian/rules refuses the current versions"
tmp="$(mktemp -d /tmp/brise-debian-static.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/debian"
cp Cargo.toml "$tmp/"
sed '1s/^brise ([^)]*)/brise (999.0.0-1)/' debian/changelog > "$tmp/debian/changelog"
if (cd "$tmp" && make -s -n -f "$OLDPWD/debian/rules" clean) >"$tmp/out" 2>&1; then
  fail "debian/rules accepted changelog 999.0.0-1 with Cargo.toml $(grep -m1 '^version' Cargo.toml)"
fi
grep -q 'does not match Cargo.toml version' "$tmp/out" || { cat "$tmp/out" >&2; fail "debian/rules refused the mismatch without saying why"; }
echo "   ok: debian/rules refuses a changelog version that differs from Cargo.toml's"

# Man pages and completions cover every command (debian/check-generated.sh,
# run by debian/rules), with the binary `cargo test` built before this script.
brise="${CARGO_TARGET_DIR:-target}/debug/brise"
[ -x "$brise" ] || fail "no $brise: run cargo test (scripts/test.sh does) first"
"$brise" generate man "$tmp/generated/man" && "$brise" generate completions "$tmp/generated/completions"
mv "$tmp/generated/completions/brise.bash" "$tmp/generated/completions/brise"
sh debian/check-generated.sh "$brise" "$tmp/generated" || fail "debian/check-generated.sh refuses the generated files"
rm "$tmp/generated/man/brise-status.8"
if sh debian/check-generated.sh "$brise" "$tmp/generated" >"$tmp/out" 2>&1; then
  fail "debian/check-generated.sh accepted a missing man page (brise-status.8)"
fi
grep -q 'brise-status.8' "$tmp/out" || { cat "$tmp/out" >&2; fail "debian/check-generated.sh did not name the missing page"; }
echo "   ok: debian/check-generated.sh: man pages and completions cover every command, and it notices a missing page"

if command -v systemd-analyze >/dev/null; then
  cp debian/brise.brise-web.service "$tmp/brise-web.service"
  # The binary and man pages are not installed here: ignore only those complaints.
  systemd-analyze verify "$tmp/brise-web.service" 2>&1 \
    | grep -v -e 'is not executable: No such file' -e "Command 'man " | tee "$tmp/verify" >&2 || true
  [ ! -s "$tmp/verify" ] || fail "systemd-analyze verify complains about brise-web.service"
  exposure="$(systemd-analyze security --offline=true "$tmp/brise-web.service" 2>/dev/null | awk '/Overall exposure level/ { print $(NF-2) }')"
  echo "   ok: brise-web.service verifies; systemd-analyze security exposure $exposure"
  awk -v e="$exposure" 'BEGIN { exit !(e + 0 <= 3.0) }' || fail "brise-web.service exposure $exposure is above 3.0"
else
  fail "systemd-analyze not found (package systemd)"
fi
