#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test against real redis-server
# instances (a throwaway one for the suite, plus the ones tests start and kill themselves).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_base_deps
# The tracking page is tested in a real headless Chromium driven by Selenium.
ensure_packages chromium chromium-driver prometheus
python3 -c "import selenium, pytest, yaml, requests, kubernetes_validate, icalendar, axe_selenium_python" 2>/dev/null \
    || python3 -m pip install -q selenium pytest pyyaml requests kubernetes-validate icalendar axe-selenium-python

log "building (debug, with tests)"
swift build --build-tests

WORK="$(mktemp -d /tmp/bxt-test.XXXXXX)"
cleanup() {
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
    # Servers and role processes of tests that crashed or were interrupted.
    find "$WORK/tmp" -name '*.pid' 2>/dev/null | while read -r pidfile; do kill -9 "$(cat "$pidfile")" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

start_throwaway_redis "$WORK/redis"
export BXT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export BXT_PROJECT_ROOT="$ROOT"
# Everything tests create (redis-server directories, role logs, pid files) goes under $WORK.
mkdir -p "$WORK/tmp"
export TMPDIR="$WORK/tmp"
log "throwaway redis-server on port $REDIS_PORT"

log "running tests"
# Bounded, so a hung test cannot eat the CI budget.
timeout 1800 swift test --skip-build "$@"

if [ $# -eq 0 ]; then
    log "running the tracking page in Chromium (screenshots in test-output/screenshots), the deployment checks and the public edge"
    timeout 900 python3 -m pytest -q -p no:cacheprovider Tests/Browser Tests/Deployment Tests/Edge Tests/Redis
    log "running the short chaos, fault and fuzz scenarios (scripts/chaos.sh --short)"
    BXT_EXECUTABLE="$ROOT/.build/debug/booxi-tracking" timeout 900 bash scripts/chaos.sh --short
fi

if [ $# -eq 0 ]; then
    # The container image without Docker: the release binary in a bookworm root with only the
    # Dockerfile's runtime packages, every role run as nobody (chroot and mounts: needs root).
    if [ "$(id -u)" -eq 0 ]; then
        log "checking the container image (scripts/image-check.sh)"
        timeout 1800 bash scripts/image-check.sh
    else
        log "image check skipped: it needs root (run sudo scripts/image-check.sh)"
    fi
fi
