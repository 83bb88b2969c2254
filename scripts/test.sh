#!/usr/bin/env bash
# The test command, in two tiers (docs/testing.md says which to run for which change):
#   scripts/test.sh               the full suite, what CI runs: installs what is missing, builds, runs
#                                 every Swift suite, the pytest suites (browser, deployment, edge, Redis
#                                 set-ups, hostile input, secrets), the short chaos scenarios and, as
#                                 root, the image check (as root, the image's release build comes
#                                 first and the pytest and chaos stages run its binary)
#   scripts/test.sh --fast        the inner loop: the debug build and the Swift unit and contract suites
#                                 against a throwaway redis-server, without the slow-tagged ones; no
#                                 browser, chaos, image or release build, no installs beyond Redis
#   scripts/test.sh --filter X    one Swift suite (any `swift test` arguments), fast set-up
# Every stage prints its time at the end, and the run fails if a process it started outlives it.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

TIER=full
if [ "${1:-}" = "--fast" ]; then TIER=fast; shift; fi
[ $# -gt 0 ] && TIER=filter
[ "$TIER" = full ] || export BXT_TEST_TIER=fast

# Every process the run starts inherits this mark (the image check passes it into its chroot), so
# the last check finds whatever outlived its stage.
export BXT_TEST_RUN="$$-$(date +%s%N)"
WORK="$(mktemp -d /tmp/bxt-test.XXXXXX)"
STAGES=()

# stage NAME COMMAND...: runs one stage and records its time.
stage() {
    local name="$1" started=$SECONDS status=0
    shift
    log "$name"
    "$@" || status=$?
    STAGES+=("$(printf '%-44s %5ds  %s' "$name" $((SECONDS - started)) "$([ $status -eq 0 ] && echo ok || echo "FAILED ($status)")")")
    return $status
}

cleanup() {
    local status=$?
    # A run that failed early does not wait for the background debug build.
    if [ -n "${DEBUG_BUILD_PID:-}" ]; then
        # shellcheck disable=SC2046
        kill $(marked_processes "$BXT_TEST_RUN" BXT_DEBUG_BUILD) 2>/dev/null || true
    fi
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    local leftovers
    leftovers="$(marked_processes "$BXT_TEST_RUN")"
    if [ -n "$leftovers" ]; then
        printf '\033[1;31merror:\033[0m processes this run started are still alive:\n' >&2
        # shellcheck disable=SC2086
        ps -o pid,ppid,user,etime,args -p "$(echo $leftovers | tr ' ' ',')" >&2 || true
        # shellcheck disable=SC2086
        kill -9 $leftovers 2>/dev/null || true
        status=1
    fi
    rm -rf "$WORK"
    printf '\n%-44s %6s  %s\n' "stage ($TIER tier)" "time" "result" >&2
    for line in "${STAGES[@]}"; do printf '%s\n' "$line" >&2; done
    printf '%-44s %5ds\n' "total" "$SECONDS" >&2
    exit $status
}
trap cleanup EXIT
PYTEST_DIRS="Tests/Browser Tests/Deployment Tests/Edge Tests/Redis Tests/Hostile Tests/Security"
trap 'exit 130' INT TERM

install_full() {
    ensure_base_deps
    # The tracking page is tested in a real headless Chromium driven by Selenium.
    ensure_packages chromium chromium-driver prometheus
    python3 -c "import selenium, pytest, yaml, requests, kubernetes_validate, icalendar, axe_selenium_python" 2>/dev/null \
        || python3 -m pip install -q selenium pytest pyyaml requests kubernetes-validate icalendar axe-selenium-python
}

swift_tests() {
    start_throwaway_redis "$WORK/redis"
    export BXT_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" BXT_PROJECT_ROOT="$ROOT"
    # Everything tests create (redis-server directories, role logs, pid files) goes under $WORK.
    mkdir -p "$WORK/tmp"
    # Bounded, so a hung test cannot eat the CI budget.
    TMPDIR="$WORK/tmp" timeout 1800 swift test --skip-build "$@"
}

if [ "$TIER" = full ]; then
    stage "install (apt, pip)" install_full
else
    stage "install (Redis and the build's libraries)" ensure_base_deps
fi

# The full tier as root (CI) builds twice from scratch: the image's static release binary and the
# debug build the Swift suites need. The release build comes first, alone; the pytest and chaos
# stages then run the processes from it (what the image ships), and since a release process needs a
# fraction of a debug one's CPU, the debug build gets what those stages leave idle, beside them.
# (A `nice` would not reach the compilers: SwiftPM starts them at the normal priority. Started
# beside the release build, it took half the CPU from the start, and the tests then ran alone.)
# Without root (no image check) every stage uses the debug build.
debug_build_done() {
    local status=0
    wait "$DEBUG_BUILD_PID" || status=$?
    DEBUG_BUILD_PID=""
    STAGES+=("$(printf '%-44s %5ds  %s' "  (debug build, in the background)" $(( $(cat "$WORK/debug-build.ended" 2>/dev/null || date +%s) - DEBUG_BUILD_STARTED )) \
        "$([ $status -eq 0 ] && echo ok || echo "FAILED ($status)")")")
    [ $status -eq 0 ] || { tail -40 "$WORK/debug-build.log" >&2; return $status; }
}
if [ "$TIER" = full ] && [ "$(id -u)" -eq 0 ]; then
    stage "image: static release build, Debian root" bash scripts/image-check.sh --prepare
    RELEASE_BIN="$(swift build -c release --scratch-path "${IMAGE_CHECK_SCRATCH:-$ROOT/.build-image}" --show-bin-path)/booxi-tracking"
    DEBUG_BUILD_STARTED=$(date +%s)
    BXT_DEBUG_BUILD="$BXT_TEST_RUN" bash -c 'swift build --build-tests; status=$?; date +%s >"$0"; exit $status' \
        "$WORK/debug-build.ended" >"$WORK/debug-build.log" 2>&1 &
    DEBUG_BUILD_PID=$!
    stage "pytest: browser, deployment, edge, Redis, hostile, secrets" \
        env BXT_EXECUTABLE="$RELEASE_BIN" timeout 900 python3 -m pytest -q -p no:cacheprovider $PYTEST_DIRS
    stage "chaos, fault and fuzz scenarios (--short)" env BXT_EXECUTABLE="$RELEASE_BIN" timeout 900 bash scripts/chaos.sh --short
    # The container image without Docker: the release binary in a bookworm root with only the
    # Dockerfile's runtime packages, every role run as nobody (chroot and mounts: needs root).
    stage "image check (roles as nobody)" timeout 1800 bash scripts/image-check.sh
    stage "debug build: waiting for it" debug_build_done
    stage "Swift suites" swift_tests "$@"
    exit 0
fi

stage "build (debug, with tests)" swift build --build-tests
if [ "$TIER" = fast ]; then
    stage "format check (swift-format lint)" bash scripts/format.sh --check
fi
stage "Swift suites$([ "$TIER" = full ] || echo ", slow ones left out")" swift_tests "$@"
if [ "$TIER" = full ]; then
    stage "pytest: browser, deployment, edge, Redis, hostile, secrets" \
        timeout 900 python3 -m pytest -q -p no:cacheprovider $PYTEST_DIRS
    stage "chaos, fault and fuzz scenarios (--short)" \
        env BXT_EXECUTABLE="$ROOT/.build/debug/booxi-tracking" timeout 900 bash scripts/chaos.sh --short
    log "image check skipped: it needs root (run sudo scripts/image-check.sh)"
fi
