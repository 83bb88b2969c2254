#!/usr/bin/env bash
# Alternates two release binaries on the worker section's load (preloaded booking.confirmed
# envelopes, one worker process), for a change's before/after on a machine whose speed drifts.
#   scripts/bench/ab-worker.sh OLD_BINARY [NEW_BINARY] [ROUNDS]
# OLD_BINARY: e.g. built from an earlier commit in a git worktree (swift build -c release).
set -euo pipefail
source "$(dirname "$0")/ab-common.sh"
ab_setup 3 "$@"
COUNT="${BXT_BENCH_EVENTS:-200000}"
R() { redis-cli -p "$REDIS_PORT" "$@"; }
held() { R EVAL "local n=0 for _,k in ipairs(redis.call('KEYS','bxt:{q}:processing:*')) do n=n+redis.call('LLEN',k) end return n" 0; }
for round in $(seq 1 "$ROUNDS"); do
    for which in old new; do
        BIN="$OLD"; [ "$which" = new ] && BIN="$NEW"
        R FLUSHALL >/dev/null
        "$BENCH" preload --url "$BXT_REDIS_URL" --count "$COUNT"
        started="$(date +%s.%N)"
        BXT_WORKER_PORT="$(free_port)" "$BIN" worker --id ab >/dev/null 2>&1 & pid=$!
        while [ "$(R LLEN "bxt:{q}:webhooks")" != "0" ]; do sleep 0.05; done
        while [ "$(held)" != "0" ]; do sleep 0.02; done
        elapsed="$(echo "$(date +%s.%N) - $started" | bc)"
        kill "$pid"; wait "$pid" 2>/dev/null || true
        printf 'round %s %s: %s events/s\n' "$round" "$which" "$(echo "$COUNT / $elapsed" | bc)"
    done
done
