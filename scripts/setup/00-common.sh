# Sourced by the setup steps: logging and small helpers.
log() { echo "   $*"; }
have() { command -v "$1" >/dev/null 2>&1; }
# wait_for CMD... : retry a command for up to 60 s.
wait_for() {
  local i
  for i in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}
