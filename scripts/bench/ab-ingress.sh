#!/usr/bin/env bash
# Alternates two release binaries' ingress under wrk (-c64, the fixture POSTed), for a change's
# before/after on a machine whose speed drifts.
#   scripts/bench/ab-ingress.sh OLD_BINARY [NEW_BINARY] [ROUNDS]
#   BXT_BENCH_AUTH=token (default): the ingress checks a webhook token, wrk sends it;
#   BXT_BENCH_AUTH=signature: the Standard Webhooks preset, wrk sends a signature made once;
#   BXT_BENCH_AUTH=none: no authentication (ingress.allowUnauthenticated), labelled "no auth".
set -euo pipefail
source "$(dirname "$0")/ab-common.sh"
ab_setup 3 "$@"
SECONDS_EACH="${BXT_BENCH_SECONDS:-8}"
export BXT_BENCH_BODY="$ROOT/Tests/Fixtures/webhook-confirmed.json"
AUTH="${BXT_BENCH_AUTH:-token}"
case "$AUTH" in
    token) LABEL="token auth" ;;
    # An older binary may not know the setting; it then ignores it and runs unauthenticated anyway.
    none) LABEL="no auth"; export BXT_INGRESS_ALLOW_UNAUTHENTICATED=true BXT_WEBHOOK_TOKENS="" BXT_BENCH_TOKEN="" ;;
    # Standard Webhooks: one signature over id.timestamp.body, made once here (the body is the same
    # for every request) and valid for the run (tolerance raised to an hour).
    signature)
        LABEL="Standard Webhooks signature"
        SECRET_BYTES="bench-signing-secret-0123456789abcdef"
        export BXT_INGRESS_SIGNATURE_ENABLED=true BXT_INGRESS_SIGNATURE_PRESET=standardWebhooks \
            BXT_INGRESS_SIGNATURE_TOLERANCE_SECONDS=3600 BXT_WEBHOOK_TOKENS="" BXT_BENCH_TOKEN="" \
            BXT_WEBHOOK_SIGNING_SECRETS="whsec_$(printf '%s' "$SECRET_BYTES" | base64 -w0)"
        export BXT_BENCH_WEBHOOK_ID="msg_bench" BXT_BENCH_TIMESTAMP="$(date +%s)"
        BXT_BENCH_SIGNATURE="v1,$( { printf '%s.%s.' "$BXT_BENCH_WEBHOOK_ID" "$BXT_BENCH_TIMESTAMP"; cat "$BXT_BENCH_BODY"; } \
            | openssl dgst -sha256 -hmac "$SECRET_BYTES" -binary | base64 -w0)"
        export BXT_BENCH_SIGNATURE ;;
    *) die "BXT_BENCH_AUTH must be token, signature or none" ;;
esac
log "ingress: $LABEL"
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
        printf 'round %s %s (%s): %s webhooks/s, p99 %s\n' "$round" "$which" "$LABEL" \
            "$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
    done
done
