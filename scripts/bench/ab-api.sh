#!/usr/bin/env bash
# Alternates two release binaries' API under wrk (-c64, 10,000 seeded codes looked up from the
# lookup cache), the order flipped each round, for a change's before/after on a drifting machine.
#   scripts/bench/ab-api.sh OLD_BINARY [NEW_BINARY] [ROUNDS]
set -euo pipefail
source "$(dirname "$0")/ab-common.sh"
ab_setup 4 "$@"
export BXT_API_LOOKUPS_PER_MINUTE_PER_IP=1000000 BXT_API_LOOKUPS_PER_SECOND_GLOBAL=1000000 BXT_BENCH_CODES=10000
"$BENCH" seed-codes --url "$BXT_REDIS_URL" --count 10000
for round in $(seq 1 "$ROUNDS"); do
    order="old new"; [ $((round % 2)) -eq 0 ] && order="new old"
    for which in $order; do
        BIN="$OLD"; [ "$which" = new ] && BIN="$NEW"
        port="$(free_port)"; ops="$(free_port)"
        BXT_API_PORT="$port" BXT_API_OPS_PORT="$ops" "$BIN" api >/dev/null 2>&1 & pid=$!
        for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
        wrk -t2 -c64 -d2s -s scripts/bench/lookup.lua "http://127.0.0.1:$port" >/dev/null
        out="$(wrk -t2 -c64 -d8s --latency -s scripts/bench/lookup.lua "http://127.0.0.1:$port")"
        kill "$pid"; wait "$pid" 2>/dev/null || true
        printf 'round %s %s: %s lookups/s, p99 %s\n' "$round" "$which" \
            "$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
    done
done
