#!/bin/bash
# Rougail 1.3.1, the reference implementation of the dictionary format, in a venv
# (VENV, default /tmp/rougail-venv) for the differential test and the benchmark.
# The installer is the shared one (../shared/tools beside the project root in CI).
set -euo pipefail
. "$(dirname "$0")/00-common.sh"
SRC="${BRISE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
SHARED="${SHARED:-}"
if [ -z "$SHARED" ]; then
  if [ -f "$SRC/../shared/tools/setup-rougail.sh" ]; then SHARED="$SRC/../shared"; else SHARED=/work/shared; fi
fi
if [ ! -f "$SHARED/tools/setup-rougail.sh" ]; then
  echo "70-rougail: $SHARED/tools/setup-rougail.sh not found (set SHARED)" >&2
  exit 1
fi
bash "$SHARED/tools/setup-rougail.sh" | sed 's/^/   /'
