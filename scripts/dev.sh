#!/usr/bin/env bash
# The first run: installs what is missing, builds (release), starts a local redis-server (AOF on,
# data in .dev/redis), the Booxi simulator, the ingress, two workers, the API and the operations
# console (user `dev`, a password made for this run, printed at the end), books a demo
# appointment through the real ingress, and prints the tracking page URL. Ctrl-C stops everything.
# A second run reuses the build and the data.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

DEV="${BXT_DEV_DIR:-$ROOT/.dev}"
mkdir -p "$DEV/redis" "$DEV/logs"
REDIS_PORT="${BXT_DEV_REDIS_PORT:-6390}"
export BXT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export BOOXI_PARTNER_API_KEY="${BOOXI_PARTNER_API_KEY:-dev-partner-key}"
export BXT_WEBHOOK_TOKENS="${BXT_WEBHOOK_TOKENS:-dev-webhook-token}"
export BXT_LOG_LEVEL="${BXT_LOG_LEVEL:-info}"
export BXT_SIMULATOR_WEBHOOK_URL="http://127.0.0.1:8081/webhooks/booxi"

log "1/5 checking system packages"
ensure_base_deps

if [ -n "${BXT_DEV_BIN:-}" ]; then
    log "2/5 using $BXT_DEV_BIN (BXT_DEV_BIN)"
    BIN="$BXT_DEV_BIN"
else
    log "2/5 building (release; the first build takes several minutes)"
    swift build -c release --product booxi-tracking 2>&1 | grep -E "^(Compiling|Build|error)|error:" | sed 's/^/    /' || true
    BIN="$(swift build -c release --show-bin-path)/booxi-tracking"
fi
[ -x "$BIN" ] || die "build failed"

PIDS=()
stop_all() {
    trap - INT TERM EXIT
    log "stopping"
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

log "3/5 starting redis-server on $REDIS_PORT (AOF, data in .dev/redis)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DEV/redis" --appendonly yes --appendfsync everysec \
    --maxmemory-policy noeviction --daemonize no >"$DEV/logs/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

log "4/5 starting simulator, ingress, 2 workers, api and console (logs in .dev/logs)"
start_role() {
    local name="$1"; shift
    env "${ROLE_ENV[@]}" "$BIN" "$@" >"$DEV/logs/$name.log" 2>&1 &
    PIDS+=($!)
}
ROLE_ENV=()
start_role simulator simulator
start_role ingress ingress
ROLE_ENV=(BXT_WORKER_PORT=8082); start_role worker-1 worker --id dev-worker-1
ROLE_ENV=(BXT_WORKER_PORT=8083); start_role worker-2 worker --id dev-worker-2
ROLE_ENV=()
start_role api api
CONSOLE_PASSWORD="${BXT_DEV_CONSOLE_PASSWORD:-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')}"
ROLE_ENV=(BXT_CONSOLE_USERS="dev:$(echo "$CONSOLE_PASSWORD" | "$BIN" console hash-password)"); start_role console console
ROLE_ENV=()
for url in http://127.0.0.1:8090/healthz http://127.0.0.1:9081/readyz http://127.0.0.1:9080/readyz http://127.0.0.1:8082/readyz http://127.0.0.1:8084/healthz; do
    for _ in $(seq 1 100); do curl -fs "$url" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fs "$url" >/dev/null || die "$url did not come up (see .dev/logs)"
done

log "5/5 booking a demo appointment (the simulator sends booking.confirmed to the ingress)"
CODE="$("$BIN" simulator book --service 100 --first-name Jane --last-name Doe)"
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:8080/api/tracking/$CODE" >/dev/null 2>&1 && break; sleep 0.1; done

# Every line of the block between "paste into a fresh shell" and the blank line after it works
# as pasted (Tests/Deployment/test_dev_script.py runs them in a fresh shell).
cat <<MSG

  booxi-tracking is running.

  Tracking page:   http://127.0.0.1:8080/track/$CODE
  Tracking API:    http://127.0.0.1:8080/api/tracking/$CODE
  Console:         http://127.0.0.1:8084/console   user dev, password $CONSOLE_PASSWORD
  Operations:      http://127.0.0.1:9081/metrics (ingress)  :8082/metrics (worker)  :9080/metrics (api), and /readyz
                   (operations listeners, loopback only; the public ports 8081 and 8080 keep only /healthz)

  Try it, paste into a fresh shell:

    export BXT_REDIS_URL=$BXT_REDIS_URL BXT_DEFAULTS_FILE=$ROOT/config/default.json
    $BIN admin queues
    # Booxi's call budget: use, waits per class, background fetches queued
    $BIN admin budget
    $BIN admin lookup --code $CODE
    # dead letters: list, replay or purge
    $BIN admin dead list
    # everything that happened to the demo booking (the console's timeline page shows the same)
    $BIN admin timeline $CODE
    # another booking, through the simulator and the real ingress
    $BIN simulator book --service 101 --at 2030-01-02T10:00:00Z
    # Booxi's sample webhook (then http://127.0.0.1:8080/track/abc123XYZ)
    curl -fsS -H 'content-type: application/json' -H 'x-webhook-token: $BXT_WEBHOOK_TOKENS' --data-binary @$ROOT/Tests/Fixtures/webhook-confirmed.json http://127.0.0.1:8081/webhooks/booxi

  Ctrl-C stops everything; data stays in $DEV/redis.
MSG
wait
