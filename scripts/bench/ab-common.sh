# What every scripts/bench/ab-*.sh shares: the two binaries and the rounds from the arguments
# (OLD_BINARY [NEW_BINARY] [ROUNDS]), the bench tool, a work directory and a throwaway redis-server
# (stopped and removed on exit), and the environment the roles need: the ingress refuses to start
# without webhook authentication, so a webhook token is configured (BXT_WEBHOOK_TOKENS) and wrk's
# post-webhook.lua sends it (BXT_BENCH_TOKEN).
#   source "$(dirname "$0")/ab-common.sh"; ab_setup DEFAULT_ROUNDS "$@"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

ab_setup() {
    local default_rounds="$1"; shift
    cd "$ROOT"
    OLD="$1"; NEW="${2:-$(swift build -c release --show-bin-path)/booxi-tracking}"; ROUNDS="${3:-$default_rounds}"
    BENCH="${BXT_BENCH_BIN:-$(swift build -c release --show-bin-path)/booxi-tracking-bench}"
    WORK="$(mktemp -d /tmp/bxt-ab.XXXXXX)"
    start_throwaway_redis "$WORK/redis"
    trap 'kill "$REDIS_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
    export BXT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" BOOXI_PARTNER_API_KEY=bench-key BXT_LOG_LEVEL=error
    export BXT_BENCH_TOKEN="${BXT_BENCH_TOKEN:-bench-webhook-token-0123456789abcdef}"
    export BXT_WEBHOOK_TOKENS="$BXT_BENCH_TOKEN"
}
