#!/usr/bin/env bash
# Benchmarks with baselines measured in the same run (this machine is noisy: compare ratios).
#   scripts/bench.sh [redis] [ingress] [worker] [api] [budget] [capacity] [cluster]     (default: all)
#   BXT_BENCH_BOOKINGS="10000 100000 1000000": the capacity section's sizes (default 100000)
#   BXT_BENCH_BIN_DIR=DIR: use the release binaries in DIR instead of building them
# Prints one table per section. Release build; wrk and redis-benchmark from Debian.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
ensure_base_deps
ensure_packages wrk procps
SECTIONS=("$@"); [ ${#SECTIONS[@]} -eq 0 ] && SECTIONS=(redis ingress worker api budget capacity cluster)
DURATION="${BXT_BENCH_SECONDS:-10}"

if [ -n "${BXT_BENCH_BIN_DIR:-}" ]; then
    BIN_DIR="$BXT_BENCH_BIN_DIR"  # release binaries built elsewhere (e.g. scripts/image-check.sh's)
else
    log "building release binaries"
    swift build -c release --product booxi-tracking >/dev/null
    swift build -c release --product booxi-tracking-bench >/dev/null
    BIN_DIR="$(swift build -c release --show-bin-path)"
fi
BIN="$BIN_DIR/booxi-tracking"; BENCH="$BIN_DIR/booxi-tracking-bench"

WORK="$(mktemp -d /tmp/bxt-bench.XXXXXX)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
start_throwaway_redis "$WORK/redis"; PIDS+=("$REDIS_PID")
export BXT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" BOOXI_PARTNER_API_KEY=bench-key BXT_LOG_LEVEL=error
# Every ingress started here authenticates (it refuses to start otherwise): a webhook token, which
# the simulator and wrk's post-webhook.lua (BXT_BENCH_TOKEN) send. The one exception is the ingress
# section's "no auth" row, started with ingress.allowUnauthenticated to show what the check costs.
export BXT_BENCH_TOKEN="${BXT_BENCH_TOKEN:-bench-webhook-token-0123456789abcdef}"
export BXT_WEBHOOK_TOKENS="$BXT_BENCH_TOKEN"
R() { redis-cli -p "$REDIS_PORT" "$@"; }

wait_http() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; die "$1 not up"; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; die "port $1 not up"; }
rss_mib() { echo $(( $(ps -o rss= -p "$1") / 1024 )); }
# wrk_run URL SCRIPT [AFTER_WARMUP] -> sets RPS P50 P99 TOTAL NON2XX, after a 2 s warm-up run that
# is not counted (connections opened, scripts loaded, caches filled: steady state is what the
# goals are about); AFTER_WARMUP, a command, runs between the two.
wrk_run() {
    wrk -t2 -c64 -d2s -s "$2" "$1" >/dev/null
    [ -z "${3:-}" ] || "$3"
    local out; out="$(wrk -t2 -c64 -d"${DURATION}s" --latency -s "$2" "$1")"
    RPS="$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')"
    P50="$(echo "$out" | awk '$1=="50%" {print $2}')"; P99="$(echo "$out" | awk '$1=="99%" {print $2}')"
    TOTAL="$(echo "$out" | awk '/requests in/ {print $1}')"
    NON2XX="$(echo "$out" | awk '/Non-2xx/ {print $5}')"; NON2XX="${NON2XX:-0}"
}
row() { printf '| %-44s | %14s | %10s | %10s | %8s |\n' "$@"; }
header() { printf '\n### %s\n\n' "$1"; row "what" "rate (/s)" "p50" "p99" "RSS MiB"; row "---" "---" "---" "---" "---"; }

bench_redis() {
    # Same load shape on both sides: 50 callers (redis-benchmark's default clients), pipelines of 32.
    local ours; ours="$("$BENCH" redis --url "$BXT_REDIS_URL" --count 2000000 --concurrency 50 --depth 32)"
    local ours_rate ours_p50 ours_p99
    ours_rate="$(echo "$ours" | awk -F= '/pipelined/ {print $2}')"; ours_p50="$(echo "$ours" | awk -F= '/single_p50/ {printf "%.3f ms", $2}')"
    ours_p99="$(echo "$ours" | awk -F= '/single_p99/ {printf "%.3f ms", $2}')"
    local base_rate base_p50 base_p99
    base_rate="$(redis-benchmark -p "$REDIS_PORT" -t lpush -P 32 -c 50 -n 2000000 -q --csv | awk -F'"' '/LPUSH/ {print int($4)}')"
    local single; single="$(redis-benchmark -p "$REDIS_PORT" -t lpush -P 1 -c 1 -n 20000 --csv | awk -F'"' '/LPUSH/ {print $10" "$14}')"
    base_p50="$(echo "$single" | awk '{printf "%.3f ms", $1}')"; base_p99="$(echo "$single" | awk '{printf "%.3f ms", $2}')"
    header "redis: our client vs redis-benchmark (same server, same run)"
    row "redis-benchmark LPUSH -P 32 (50 clients)" "$base_rate" "" "" ""
    row "RedisClient pipelined LPUSH (50 x depth 32)" "$ours_rate" "" "" ""
    row "redis-benchmark LPUSH -P 1 -c 1 (latency)" "" "$base_p50" "$base_p99" ""
    row "RedisClient single LPUSH (latency)" "" "$ours_p50" "$ours_p99" ""
    printf '\npipelined ratio: %s%% of redis-benchmark (goal >= 50%%); single p50 ratio: %s (goal <= 1.5)\n' \
        "$(( ours_rate * 100 / base_rate ))" "$(awk -v a="${ours_p50% ms}" -v b="${base_p50% ms}" 'BEGIN {printf "%.2f", a / b}')"
    R DEL mylist >/dev/null
    bench_redis_tls
}

# The same pipelined LPUSH over TLS (rediss://, our TLS tunnel) against redis-benchmark --tls, on
# one TLS-only redis-server with certificates made here by openssl.
bench_redis_tls() {
    python3 -c "import sys; from pathlib import Path; sys.path.insert(0, 'Tests'); from redis_servers import make_certificates; make_certificates(Path('$WORK/certs'))"
    local port; port="$(free_port)"
    redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --save "" --appendonly no --tls-auth-clients no \
        --tls-cert-file "$WORK/certs/server.crt" --tls-key-file "$WORK/certs/server.key" --tls-ca-cert-file "$WORK/certs/ca.crt" \
        --dir "$WORK" --daemonize no >"$WORK/redis-tls.log" 2>&1 & PIDS+=($!)
    for _ in $(seq 1 50); do redis-cli --tls --cacert "$WORK/certs/ca.crt" -h localhost -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    # Alternating rounds (this machine drifts): the median of the rounds' ratios.
    header "redis over TLS: our client (rediss://) vs redis-benchmark --tls (same server, alternating rounds)"
    local ratios=() round ours base
    for round in 1 2 3; do
        base="$(redis-benchmark --tls --cacert "$WORK/certs/ca.crt" -h localhost -p "$port" -t lpush -P 32 -c 50 -n 1000000 -q --csv \
            | awk -F'"' '/LPUSH/ {print int($4)}')"
        ours="$("$BENCH" redis --url "rediss://localhost:$port/0" --tls-ca-file "$WORK/certs/ca.crt" --count 1000000 --concurrency 50 --depth 32 \
            | awk -F= '/pipelined/ {print $2}')"
        row "round $round: redis-benchmark --tls LPUSH -P 32 (50 clients)" "$base" "" "" ""
        row "round $round: RedisClient pipelined LPUSH over TLS" "$ours" "" "" ""
        ratios+=("$(( ours * 100 / base ))")
    done
    printf '\nTLS pipelined ratio per round: %s%%; median: %s%% of redis-benchmark --tls (goal >= 50%%)\n' \
        "$(IFS=/; echo "${ratios[*]}")" "$(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 2p)"
}

clear_webhooks() { R DEL "bxt:{q}:webhooks" >/dev/null; }

# Rounds of bare route, ingress with token auth and ingress without auth, alternating: this
# machine's speed drifts by up to 30% within minutes, so one run of each can land in different
# phases; the median of the rounds' ratios can't. The goal is about the authenticated ingress.
bench_ingress() {
    export BXT_BENCH_BODY="$ROOT/Tests/Fixtures/webhook-confirmed.json"
    local rounds="${BXT_BENCH_ROUNDS:-5}" bare_port ingress_port open_port
    bare_port="$(free_port)"
    "$BENCH" bare-server --port "$bare_port" >/dev/null 2>&1 & local bare=$!; PIDS+=("$bare")
    ingress_port="$(free_port)"
    BXT_INGRESS_PORT="$ingress_port" BXT_INGRESS_HOST=127.0.0.1 BXT_INGRESS_OPS_PORT="$(free_port)" \
        "$BIN" ingress >"$WORK/ingress.log" 2>&1 & local ingress=$!; PIDS+=("$ingress")
    open_port="$(free_port)"
    BXT_INGRESS_PORT="$open_port" BXT_INGRESS_HOST=127.0.0.1 BXT_INGRESS_OPS_PORT="$(free_port)" \
        BXT_INGRESS_ALLOW_UNAUTHENTICATED=true BXT_WEBHOOK_TOKENS="" \
        "$BIN" ingress >"$WORK/ingress-no-auth.log" 2>&1 & local open=$!; PIDS+=("$open")
    wait_port "$bare_port"; wait_http "http://127.0.0.1:$ingress_port/healthz"; wait_http "http://127.0.0.1:$open_port/healthz"
    header "ingress: wrk -c64 POST fixture for ${DURATION}s, ${rounds} alternating rounds"
    local ratios=() auth_ratios=() acked=0 queued=0 round
    for round in $(seq 1 "$rounds"); do
        wrk_run "http://127.0.0.1:$bare_port/webhooks/booxi" scripts/bench/post-webhook.lua
        local bare_rps=$RPS
        row "round $round: bare route (no Redis)" "$RPS" "$P50" "$P99" "$(rss_mib "$bare")"
        wrk_run "http://127.0.0.1:$ingress_port/webhooks/booxi" scripts/bench/post-webhook.lua clear_webhooks
        local auth_rps=$RPS
        row "round $round: ingress, token auth (acked after LPUSH)" "$RPS" "$P50" "$P99" "$(rss_mib "$ingress")"
        ratios+=("$(( RPS * 100 / bare_rps ))")
        acked=$(( acked + TOTAL - NON2XX )); queued=$(( queued + $(R LLEN "bxt:{q}:webhooks") ))
        clear_webhooks
        BXT_BENCH_TOKEN="" wrk_run "http://127.0.0.1:$open_port/webhooks/booxi" scripts/bench/post-webhook.lua clear_webhooks
        row "round $round: ingress, no auth (allowUnauthenticated)" "$RPS" "$P50" "$P99" "$(rss_mib "$open")"
        auth_ratios+=("$(( auth_rps * 100 / (RPS > 0 ? RPS : 1) ))")
        acked=$(( acked + TOTAL - NON2XX )); queued=$(( queued + $(R LLEN "bxt:{q}:webhooks") ))
        clear_webhooks
    done
    kill "$bare" "$ingress" "$open"
    median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf '\ntoken auth: ratio per round: %s%%; median: %s%% of the bare route (goal >= 65%%)\n' \
        "$(IFS=/; echo "${ratios[*]}")" "$(median "${ratios[@]}")"
    printf 'token auth vs no auth: per round %s%%; median %s%%\n' "$(IFS=/; echo "${auth_ratios[*]}")" "$(median "${auth_ratios[@]}")"
    printf '200s (both ingresses): %s, list lengths: %s (%s)\n' \
        "$acked" "$queued" "$([ "$acked" -le "$queued" ] && echo "every acknowledged webhook is in Redis" || echo "MISMATCH")"
    clear_webhooks
}

bench_worker() {
    local count="${BXT_BENCH_EVENTS:-200000}"
    header "worker: apply $count preloaded booking.confirmed envelopes"
    for workers in 1 2; do
        R FLUSHALL >/dev/null
        "$BENCH" preload --url "$BXT_REDIS_URL" --count "$count"
        local started; started="$(date +%s.%N)"
        local wpids=()
        for index in $(seq 1 "$workers"); do
            BXT_WORKER_PORT="$(free_port)" "$BIN" worker --id "bench-$index" >"$WORK/worker-$index.log" 2>&1 & wpids+=($!); PIDS+=($!)
        done
        while [ "$(R LLEN "bxt:{q}:webhooks")" != "0" ]; do sleep 0.05; done
        while [ "$(R EVAL "local n=0 for _,k in ipairs(redis.call('KEYS','bxt:{q}:processing:*')) do n=n+redis.call('LLEN',k) end return n" 0)" != "0" ]; do sleep 0.02; done
        local elapsed; elapsed="$(echo "$(date +%s.%N) - $started" | bc)"
        local rss; rss="$(rss_mib "${wpids[0]}")"
        for pid in "${wpids[@]}"; do kill "$pid"; done
        local mapped; mapped="$(R EVAL "return #redis.call('KEYS','bxt:{m}:code:*')" 0)"
        row "$workers worker process(es), $mapped mapped" "$(echo "$count / $elapsed" | bc)" "" "" "$rss"
    done
    R FLUSHALL >/dev/null
    local ingress_port; ingress_port="$(free_port)"
    # booxi-tracking-bench e2e-latency sends no token: this ingress authenticates its webhooks by
    # source address instead (an allow list of loopback), the token cleared (every form is checked).
    BXT_INGRESS_PORT="$ingress_port" BXT_INGRESS_OPS_PORT="$(free_port)" BXT_WEBHOOK_TOKENS="" BXT_INGRESS_ALLOWED_SOURCES=127.0.0.1/32 \
        "$BIN" ingress >"$WORK/ingress-e2e.log" 2>&1 & local e2e_ingress=$!; PIDS+=($!)
    BXT_WORKER_PORT="$(free_port)" BXT_WORKER_BATCH_SIZE=16 "$BIN" worker --id bench-e2e >"$WORK/worker-e2e.log" 2>&1 & local e2e_worker=$!; PIDS+=($!)
    wait_http "http://127.0.0.1:$ingress_port/healthz"
    local e2e; e2e="$("$BENCH" e2e-latency --ingress "http://127.0.0.1:$ingress_port" --url "$BXT_REDIS_URL" --rate 2000 --seconds 5)"
    row "webhook → mapping visible at 2,000/s ($(echo "$e2e" | awk '/e2e_sent/ {print $2}'))" "2000" \
        "$(echo "$e2e" | awk -F= '/e2e_p50/ {printf "%.1f ms", $2}')" "$(echo "$e2e" | awk -F= '/e2e_p99/ {printf "%.1f ms", $2}')" ""
    # Stop them: a leftover worker would compete for the next section's command jobs.
    kill "$e2e_ingress" "$e2e_worker"; wait "$e2e_ingress" "$e2e_worker" 2>/dev/null || true
}

bench_api() {
    R FLUSHALL >/dev/null
    "$BENCH" seed-codes --url "$BXT_REDIS_URL" --count 10000
    local sim_port api_port ingress_port
    sim_port=8790; api_port="$(free_port)"; ingress_port="$(free_port)"
    # Booxi's fair use (5/s) would dominate the cancel timing; here we measure our own overhead, so
    # both our budget and the simulator's enforcement are raised alike.
    export BXT_BOOXI_REQUESTS_PER_SECOND=10000 BXT_BOOXI_REQUESTS_PER_MINUTE=600000
    export BXT_SIMULATOR_REQUESTS_PER_SECOND=10000 BXT_SIMULATOR_REQUESTS_PER_MINUTE=600000
    BXT_SIMULATOR_PORT=$sim_port BXT_SIMULATOR_WEBHOOK_URL="http://127.0.0.1:$ingress_port/webhooks/booxi" "$BIN" simulator >"$WORK/sim.log" 2>&1 & PIDS+=($!)
    BXT_INGRESS_PORT=$ingress_port "$BIN" ingress >"$WORK/ingress.log" 2>&1 & PIDS+=($!)
    BXT_WORKER_PORT="$(free_port)" BXT_BOOXI_BASE_URL="http://127.0.0.1:$sim_port/booking/v1" "$BIN" worker >"$WORK/worker.log" 2>&1 & PIDS+=($!)
    export BXT_BOOXI_BASE_URL="http://127.0.0.1:$sim_port/booking/v1" BXT_API_LOOKUPS_PER_MINUTE_PER_IP=1000000 \
        BXT_API_LOOKUPS_PER_SECOND_GLOBAL=1000000 BXT_API_ACTIONS_PER_MINUTE_PER_IP=100000
    # Baseline in the same run: the same API with its lookup cache off (a Redis round trip per lookup).
    local uncached_port; uncached_port="$(free_port)"
    BXT_API_PORT=$uncached_port BXT_API_OPS_PORT="$(free_port)" BXT_API_LOOKUP_CACHE_CAPACITY=0 "$BIN" api >"$WORK/api-uncached.log" 2>&1 & local uncached=$!
    wait_http "http://127.0.0.1:$uncached_port/healthz"
    BXT_BENCH_CODES=10000 wrk_run "http://127.0.0.1:$uncached_port" scripts/bench/lookup.lua
    local base_rps=$RPS base_p50=$P50 base_p99=$P99 base_non2xx=$NON2XX base_rss; base_rss="$(rss_mib "$uncached")"
    kill "$uncached"; wait "$uncached" 2>/dev/null || true
    local api_ops; api_ops="$(free_port)"
    BXT_API_PORT=$api_port BXT_API_OPS_PORT=$api_ops "$BIN" api >"$WORK/api.log" 2>&1 & local api=$!; PIDS+=("$api")
    wait_http "http://127.0.0.1:$api_ops/readyz"; wait_http "http://127.0.0.1:$sim_port/healthz"
    curl -fs -X DELETE "http://127.0.0.1:$sim_port/simulator/calls" >/dev/null
    BXT_BENCH_CODES=10000 wrk_run "http://127.0.0.1:$api_port" scripts/bench/lookup.lua
    local rss; rss="$(rss_mib "$api")"
    local hits misses
    hits="$(curl -fs "http://127.0.0.1:$api_ops/metrics" | awk '/^booxi_tracking_api_lookup_cache_total\{result="hit"\}/ {print $2}')"
    misses="$(curl -fs "http://127.0.0.1:$api_ops/metrics" | awk '/^booxi_tracking_api_lookup_cache_total\{result="miss"\}/ {print $2}')"
    local calls; calls="$(curl -fs "http://127.0.0.1:$sim_port/simulator/calls" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("GET /booking/{id}", 0))')"
    local cancel; cancel="$("$BENCH" cancel-latency --api "http://127.0.0.1:$api_port" --simulator "http://127.0.0.1:$sim_port" --count 50)"
    header "api: wrk -c64 GET /api/tracking/:code over 10,000 cached codes for ${DURATION}s"
    row "lookups, cache off: Redis per lookup (non-2xx: $base_non2xx)" "$base_rps" "$base_p50" "$base_p99" "$base_rss"
    row "lookups (non-2xx: $NON2XX)" "$RPS" "$P50" "$P99" "$rss"
    row "cancel round trip, simulator at 0 latency ($(echo "$cancel" | awk '/cancels/ {print $2}'))" "" \
        "$(echo "$cancel" | awk -F= '/cancel_p50/ {printf "%.1f ms", $2}')" "$(echo "$cancel" | awk -F= '/cancel_p99/ {printf "%.1f ms", $2}')" ""
    printf '\nratio: %s× the cache-off rate (goal: >= 30,000/s, p99 <= 5 ms); lookup cache: %s hits, %s misses (warm-up included)\n' \
        "$(awk -v a="$RPS" -v b="$base_rps" 'BEGIN {printf "%.2f", a / b}')" "${hits:-0}" "${misses:-0}"
    printf 'Booxi calls during the lookup run: %s for %s lookups (%s per 1,000)\n' "$calls" "$TOTAL" \
        "$(awk -v c="$calls" -v t="$TOTAL" 'BEGIN {printf "%.3f", c * 1000 / t}')"
}

bench_budget() {
    # Booxi's real fair use, the rush-hour mix (scripts/chaos.sh rush-hour --short: 100 bookings
    # confirmed in 10 s, each visitor's first lookup 20-120 s later and 1-3 repeats, 30 cancels while
    # prefetches are queued). Baseline in the same run: the same mix with the workers' prefetch off.
    local on off
    on="$(BXT_EXECUTABLE="$BIN" python3 scripts/chaos/chaos.py --short rush-hour | sed -n 's/^rush-hour-figures: //p')"
    off="$(BXT_EXECUTABLE="$BIN" python3 scripts/chaos/chaos.py --short --no-prefetch rush-hour | sed -n 's/^rush-hour-figures: //p')"
    field() { echo "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
    printf '\n### budget: Booxi calls for the rush-hour mix (fair use enforced: 5/s, 300/min)\n\n'
    printf '| %-34s | %22s | %26s | %22s | %10s | %6s |\n' "what" "Booxi GETs / 1,000 lookups" "first lookups ready (%)" "first lookup p99 (ms)" "calls/booking" "429s"
    printf '| %-34s | %22s | %26s | %22s | %10s | %6s |\n' "---" "---" "---" "---" "---" "---"
    for variant in on off; do
        local figures; [ "$variant" = on ] && figures="$on" || figures="$off"
        printf '| %-34s | %22s | %26s | %22s | %10s | %6s |\n' "prefetch $variant" "$(field "$figures" gets_per_1000_lookups)" \
            "$(field "$figures" first_lookups_ready_pct)" "$(field "$figures" first_lookup_p99_ms)" "$(field "$figures" calls_per_booking)" "$(field "$figures" booxi_429)"
    done
}

# Webhook, worker and lookup rates on one primary and on a 3-primary, 3-replica Redis Cluster on
# this machine, in alternating rounds. Every node shares the same two cores with the roles, wrk and
# the replicas, so this shows what the Cluster path costs per request, not what more machines add.
bench_cluster() {
    local rounds="${BXT_BENCH_ROUNDS:-3}" ports=() index seeds
    for index in 1 2 3 4 5 6; do
        local port; port="$(free_port)"; ports+=("$port")
        mkdir -p "$WORK/node-$index"
        redis-server --port "$port" --bind 127.0.0.1 --dir "$WORK/node-$index" --save "" --appendonly no --cluster-enabled yes \
            --cluster-config-file nodes.conf --cluster-port "$(free_port)" --cluster-node-timeout 1000 >"$WORK/node-$index.log" 2>&1 &
        PIDS+=($!)
    done
    for port in "${ports[@]}"; do wait_port "$port"; done
    redis-cli --cluster create $(printf '127.0.0.1:%s ' "${ports[@]}") --cluster-replicas 1 --cluster-yes >/dev/null
    until [ "$(redis-cli -p "${ports[0]}" CLUSTER INFO | tr -d '\r' | awk -F: '/cluster_state/ {print $2}')" = ok ]; do sleep 0.2; done
    seeds="$(printf '127.0.0.1:%s,' "${ports[@]:0:3}")"; seeds="${seeds%,}"
    flush_cluster() { for port in "${ports[@]}"; do redis-cli -p "$port" FLUSHALL >/dev/null 2>&1 || true; done; }
    # The roles' Redis settings per target, given on each command line (a process started in the
    # background that way is the role itself: $! is its pid).
    # Targets: one primary; the cluster with one queue shard (`{q}` on one primary); the cluster
    # with three queue shards, one per primary.
    url_of() { [ "$1" = single ] && echo "$BXT_REDIS_URL" || echo "redis://cluster-managed/0"; }
    seeds_of() { [ "$1" = single ] && echo "" || echo "$seeds"; }
    shards_of() { [ "$1" = cluster-3-shards ] && echo 3 || echo 1; }
    # Jobs waiting or held in every queue shard, summed over the primaries.
    left_in_queues() {
        local script="local n=0 for _,p in ipairs({'bxt:{q*}:webhooks','bxt:{q*}:processing:*'}) do for _,k in ipairs(redis.call('KEYS',p)) do n=n+redis.call('LLEN',k) end end return n"
        if [ "$1" = single ]; then R EVAL "$script" 0; return; fi
        local total=0 port
        for port in "${ports[@]}"; do
            [ "$(redis-cli -p "$port" ROLE | head -1)" = master ] || continue
            total=$((total + $(redis-cli -p "$port" EVAL "$script" 0)))
        done
        echo "$total"
    }
    export BXT_BENCH_BODY="$ROOT/Tests/Fixtures/webhook-confirmed.json" BXT_API_LOOKUPS_PER_MINUTE_PER_IP=1000000 \
        BXT_API_LOOKUPS_PER_SECOND_GLOBAL=1000000
    local events="${BXT_BENCH_EVENTS:-50000}" target round
    header "cluster: 1 primary vs a 3-primary cluster (3 replicas) with 1 and 3 queue shards, same machine, ${rounds} alternating rounds"
    for round in $(seq 1 "$rounds"); do
        for target in single cluster cluster-3-shards; do
            export BXT_QUEUE_SHARDS; BXT_QUEUE_SHARDS="$(shards_of $target)"
            R FLUSHALL >/dev/null; flush_cluster
            # The ingress: wrk -c64 POST of the fixture (acknowledged after the push).
            local ingress_port; ingress_port="$(free_port)"
            BXT_REDIS_URL="$(url_of $target)" BXT_REDIS_CLUSTER_SEEDS="$(seeds_of $target)" BXT_INGRESS_PORT="$ingress_port" \
                BXT_INGRESS_HOST=127.0.0.1 BXT_INGRESS_OPS_PORT="$(free_port)" "$BIN" ingress >"$WORK/cluster-ingress.log" 2>&1 &
            local ingress=$!; PIDS+=("$ingress")
            wait_http "http://127.0.0.1:$ingress_port/healthz"
            wrk_run "http://127.0.0.1:$ingress_port/webhooks/booxi" scripts/bench/post-webhook.lua
            row "round $round, $target: ingress webhooks" "$RPS" "$P50" "$P99" "$(rss_mib "$ingress")"
            kill "$ingress"; wait "$ingress" 2>/dev/null || true
            R FLUSHALL >/dev/null; flush_cluster
            # One worker applying preloaded envelopes (each a new booking: claim, apply, finish).
            BXT_REDIS_CLUSTER_SEEDS="$(seeds_of $target)" "$BENCH" preload --url "$BXT_REDIS_URL" --count "$events" --shards "$BXT_QUEUE_SHARDS"
            local started worker; started="$(date +%s.%N)"
            BXT_REDIS_URL="$(url_of $target)" BXT_REDIS_CLUSTER_SEEDS="$(seeds_of $target)" BXT_WORKER_PORT="$(free_port)" \
                "$BIN" worker --id "bench-$target" >"$WORK/cluster-worker.log" 2>&1 &
            worker=$!; PIDS+=("$worker")
            local left=1
            while [ "$left" != "0" ]; do
                sleep 0.05
                left="$(left_in_queues "$target")"
            done
            local elapsed; elapsed="$(echo "$(date +%s.%N) - $started" | bc)"
            row "round $round, $target: worker events (1 process)" "$(echo "$events / $elapsed" | bc)" "" "" "$(rss_mib "$worker")"
            kill "$worker"; wait "$worker" 2>/dev/null || true
            R FLUSHALL >/dev/null; flush_cluster
            # Lookups with the API's cache off: the Redis path of every lookup.
            BXT_REDIS_CLUSTER_SEEDS="$(seeds_of $target)" "$BENCH" seed-codes --url "$BXT_REDIS_URL" --count 10000
            local api_port api; api_port="$(free_port)"
            BXT_REDIS_URL="$(url_of $target)" BXT_REDIS_CLUSTER_SEEDS="$(seeds_of $target)" BXT_API_PORT="$api_port" \
                BXT_API_OPS_PORT="$(free_port)" BXT_API_LOOKUP_CACHE_CAPACITY=0 "$BIN" api >"$WORK/cluster-api.log" 2>&1 &
            api=$!; PIDS+=("$api")
            wait_http "http://127.0.0.1:$api_port/healthz"
            BXT_BENCH_CODES=10000 wrk_run "http://127.0.0.1:$api_port" scripts/bench/lookup.lua
            row "round $round, $target: lookups, cache off (non-2xx: $NON2XX)" "$RPS" "$P50" "$P99" "$(rss_mib "$api")"
            kill "$api"; wait "$api" 2>/dev/null || true
        done
    done
    unset BXT_QUEUE_SHARDS
    R FLUSHALL >/dev/null; flush_cluster
}

ensure_packages bc
# The figures of docs/scaling.md at each size in BXT_BENCH_BOOKINGS (e.g. "10000 100000 1000000"):
# Redis memory per booking, the worker's rate, commands per webhook (the budget's fixed shape, one
# at a time, and a concurrent one, 32 senders), per lookup miss and per cancel; then the timeline's
# designs compared.
bench_capacity() {
    printf '\n### capacity: per-event budget and how cost grows (docs/scaling.md)\n\n'
    printf '| bookings | bytes/booking | worker events/s | commands/webhook (one at a time) | commands/webhook (32 senders) | commands/lookup miss | commands/cancel |\n'
    printf '|---|---|---|---|---|---|---|\n'
    local size figures
    for size in ${BXT_BENCH_BOOKINGS:-100000}; do
        figures="$(BXT_EXECUTABLE="$BIN" python3 scripts/bench/capacity.py --bookings "$size")"
        echo "$figures" | python3 -c "
import json, sys
f = json.load(sys.stdin)
print(f\"| {f['bookings']:,} | {f['bytes_per_booking']:,} | {f['worker_events_per_s']:,} | {f['commands_per_webhook']} | {f['commands_per_webhook_concurrent']} | {f['commands_per_lookup_miss']} | {f['commands_per_cancel']} |\")"
    done
    printf '\nbudgets (fixed shape): webhook <= 12, lookup miss <= 3, cancel <= 50, bytes/booking <= 1,000\n'
    printf '\n### the timeline: designs compared (scripts/bench/timeline_designs.py)\n\n'
    python3 scripts/bench/timeline_designs.py --bookings 10000
}

for section in "${SECTIONS[@]}"; do "bench_$section"; done
