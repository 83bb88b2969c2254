#!/usr/bin/env bash
# Chaos, fault and fuzz scenarios with figures (worker kill -9 under load, Redis restarts with
# appendfsync always/everysec, Booxi outage, ingress SIGTERM under load, 10,000+ fuzzed bodies and
# codes, a 10-minute soak, code enumeration). Prints a table; exits non-zero if an invariant broke.
#   scripts/chaos.sh [--short] [scenario ...]
# scripts/test.sh runs the --short variants (bounded to a few minutes) against the debug build.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
ensure_base_deps
python3 -c "import requests" 2>/dev/null || python3 -m pip install -q requests
if [ -z "${BXT_EXECUTABLE:-}" ]; then
    log "building release binary"
    swift build -c release --product booxi-tracking >/dev/null
    export BXT_EXECUTABLE="$(swift build -c release --show-bin-path)/booxi-tracking"
fi
exec python3 scripts/chaos/chaos.py "$@"
