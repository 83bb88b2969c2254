#!/usr/bin/env bash
# Profiles a release binary's ingress under wrk (-c64, the fixture POSTed with a token) with perf
# (Debian's linux-perf): prints the top frames by own time (the flame graph's widest leaves) and by
# time including callees, and leaves perf.data in the work directory it names.
#   scripts/bench/profile-ingress.sh BINARY [SECONDS]
set -euo pipefail
source "$(dirname "$0")/ab-common.sh"
ensure_packages linux-perf
ab_setup 1 "$1" "$1"
SECONDS_EACH="${2:-8}"
export BXT_BENCH_BODY="$ROOT/Tests/Fixtures/webhook-confirmed.json"
trap 'kill "$REDIS_PID" 2>/dev/null || true' EXIT
port="$(free_port)"
BXT_INGRESS_PORT="$port" BXT_INGRESS_HOST=127.0.0.1 BXT_INGRESS_OPS_PORT="$(free_port)" "$OLD" ingress >/dev/null 2>&1 & pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
wrk -t2 -c64 -d2s -s scripts/bench/post-webhook.lua "http://127.0.0.1:$port/webhooks/booxi" >/dev/null
wrk -t2 -c64 -d"$((SECONDS_EACH + 2))s" -s scripts/bench/post-webhook.lua "http://127.0.0.1:$port/webhooks/booxi" >"$WORK/wrk.txt" &
wrk_pid=$!
sleep 1
perf record -F 499 -g -p "$pid" -o "$WORK/perf.data" -- sleep "$SECONDS_EACH" 2>/dev/null
wait "$wrk_pid"
kill "$pid"; wait "$pid" 2>/dev/null || true
printf 'under perf: %s webhooks/s\n' "$(awk '/Requests\/sec/ {print int($2)}' "$WORK/wrk.txt")"
printf '\ntop frames by own time (%% of the ingress process):\n'
perf report -i "$WORK/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -20 || true
printf '\ntop frames including callees:\n'
perf report -i "$WORK/perf.data" --children --sort symbol --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -25 || true
trap - EXIT
kill "$REDIS_PID" 2>/dev/null || true
echo "perf.data: $WORK/perf.data"
