#!/usr/bin/env bash
# What ingress.replicaAcks costs: the ingress under wrk (-c64, the fixture POSTed) against a primary
# with one replica, replicaAcks 0 and 1 alternating, 3 rounds each. The ingress checks a webhook
# token (it refuses to start without authentication); wrk sends it.
#   scripts/bench/replica-acks.sh [BINARY]
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"
cd "$ROOT"
BIN="${1:-$(swift build -c release --show-bin-path)/booxi-tracking}"
export BXT_BENCH_BODY="$ROOT/Tests/Fixtures/webhook-confirmed.json"
WORK="$(mktemp -d /tmp/bxt-acks.XXXXXX)"
start_throwaway_redis "$WORK/primary"; PRIMARY="$REDIS_PORT"; PRIMARY_PID="$REDIS_PID"
start_throwaway_redis "$WORK/replica"; REPLICA_PID="$REDIS_PID"
redis-cli -p "$REDIS_PORT" REPLICAOF 127.0.0.1 "$PRIMARY" >/dev/null
trap 'kill "$PRIMARY_PID" "$REPLICA_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$PRIMARY" INFO replication | grep -q "state=online" && break; sleep 0.1; done
export BXT_REDIS_URL="redis://127.0.0.1:$PRIMARY/0" BXT_LOG_LEVEL=error
export BXT_BENCH_TOKEN="${BXT_BENCH_TOKEN:-bench-webhook-token-0123456789abcdef}"
export BXT_WEBHOOK_TOKENS="$BXT_BENCH_TOKEN"
for round in 1 2 3; do
    for acks in 0 1; do
        port="$(free_port)"
        BXT_INGRESS_PORT="$port" BXT_INGRESS_HOST=127.0.0.1 BXT_INGRESS_OPS_PORT="$(free_port)" BXT_INGRESS_REPLICA_ACKS="$acks" \
            "$BIN" ingress >"$WORK/ingress.log" 2>&1 & pid=$!
        for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
        wrk -t2 -c64 -d2s -s scripts/bench/post-webhook.lua "http://127.0.0.1:$port/webhooks/booxi" >/dev/null
        out="$(wrk -t2 -c64 -d8s --latency -s scripts/bench/post-webhook.lua "http://127.0.0.1:$port/webhooks/booxi")"
        kill "$pid"; wait "$pid" 2>/dev/null || true
        redis-cli -p "$PRIMARY" DEL "bxt:{q}:webhooks" >/dev/null
        printf 'round %s replicaAcks %s: %s webhooks/s, p50 %s, p99 %s, non-2xx %s\n' "$round" "$acks" \
            "$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')" "$(echo "$out" | awk '$1=="50%" {print $2}')" \
            "$(echo "$out" | awk '$1=="99%" {print $2}')" "$(echo "$out" | awk '/Non-2xx/ {print $5}')"
    done
done
