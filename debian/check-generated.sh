#!/bin/sh
# Build-time check (debian/rules): the generated man pages and shell
# completions cover every command that `brise --help` lists, subcommands of
# subcommands included, so a command added to the CLI can never ship without
# its page and completion. Takes the built binary and the generated directory
# (man/ and completions/); changes nothing.
# Usage: debian/check-generated.sh BRISE GENERATED_DIR
set -eu
brise="$1"
dir="$2"
fail() { echo "debian/check-generated.sh: $*" >&2; exit 1; }

# The visible subcommands `brise WORDS... --help` lists (clap's "Commands:").
commands() {
  "$brise" "$@" --help | awk '/^Commands:$/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }' \
    | grep -vx help || true
}

checked=0
expected=brise.8
check() {
  for command in $(commands "$@"); do
    page="brise$(printf -- '-%s' "$@" "$command").8"
    [ -s "$dir/man/$page" ] || fail "\`brise $* $command\` has no man page $page"
    grep -q "^\.TH \"*${page%.8}\"* 8" "$dir/man/$page" || fail "$page is not in section 8"
    for completion in brise _brise brise.fish; do
      grep -qw -- "$command" "$dir/completions/$completion" \
        || fail "completions/$completion does not mention \`brise $* $command\`"
    done
    checked=$((checked + 1))
    expected="$expected $page"
    check "$@" "$command"
  done
}
[ -s "$dir/man/brise.8" ] || fail "no man page brise.8"
check
[ "$checked" -gt 0 ] || fail "\`$brise --help\` lists no command"
# Every man page matches a command (none left over from a removed command).
for page in "$dir"/man/*.8; do
  name="$(basename "$page")"
  case " $expected " in *" $name "*) ;; *) fail "man page $name names no command of \`brise --help\`" ;; esac
done
echo "debian/check-generated.sh: man pages and completions cover the $checked commands of \`brise --help\`"
