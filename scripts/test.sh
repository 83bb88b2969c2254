#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test against real redis-server
# instances (a throwaway one for the suite, plus the ones tests start and kill themselves).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_base_deps

log "building (debug, with tests)"
swift build --build-tests

WORK="$(mktemp -d /tmp/bxt-test.XXXXXX)"
cleanup() {
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

start_throwaway_redis "$WORK/redis"
export BXT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export BXT_PROJECT_ROOT="$ROOT"
log "throwaway redis-server on port $REDIS_PORT"

log "running tests"
swift test --skip-build "$@"
