#!/usr/bin/env bash
# Alternates two release binaries' ingress under wrk (-c64, the fixture POSTed), for a change's
# before/after on a machine whose speed drifts.
#   scripts/bench/ab-ingress.sh OLD_BINARY [NEW_BINARY] [ROUNDS]
set -euo pipefail
source "$(dirname "$0")/ab-common.sh"
ab_setup 3 "$@"
SECONDS_EACH="${BXT_BENCH_SECONDS:-8}"
export BXT_BENCH_BODY="$ROOT/Tests/Fixtures/webhook-confirmed.json"
for round in $(seq 1 "$ROUNDS"); do
    for which in old new; do
        BIN="$OLD"; [ "$which" = new ] && BIN="$NEW"
        port="$(free_port)"
        BXT_INGRESS_PORT="$port" BXT_INGRESS_HOST=127.0.0.1 BXT_INGRESS_OPS_PORT="$(free_port)" "$BIN" ingress >/dev/null 2>&1 & pid=$!
        for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
        wrk -t2 -c64 -d2s -s scripts/bench/post-webhook.lua "http://127.0.0.1:$port/webhooks/booxi" >/dev/null
        redis-cli -p "$REDIS_PORT" DEL "bxt:{q}:webhooks" >/dev/null
        out="$(wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -s scripts/bench/post-webhook.lua "http://127.0.0.1:$port/webhooks/booxi")"
        kill "$pid"; wait "$pid" 2>/dev/null || true
        redis-cli -p "$REDIS_PORT" DEL "bxt:{q}:webhooks" >/dev/null
        printf 'round %s %s: %s webhooks/s, p99 %s\n' "$round" "$which" \
            "$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
    done
done
