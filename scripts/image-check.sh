#!/usr/bin/env bash
# Proves the container image without Docker (which this machine cannot run): builds the release
# binary as the Dockerfile's build stage does (static Swift standard library), lays out a Debian
# bookworm root file system with only the packages the Dockerfile's runtime stage installs (read
# from the Dockerfile itself, with mmdebstrap), copies in what the runtime stage copies, and runs
# `admin check` and every role inside it as `nobody` (chroot in a private mount namespace) against a
# redis-server on loopback, checking their /readyz and the tracking page. A library or resource
# missing from the image fails here instead of in a deployment.
#
#   scripts/image-check.sh             # build, lay out (cached in .image-check/), run
#   scripts/image-check.sh --prepare   # only build and lay out (scripts/test.sh runs this in the
#                                      # background, beside its pytest and chaos stages)
#   IMAGE_CHECK_KEEP=1 scripts/...     # keep the root file system and the logs for a look
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
[ "$(id -u)" -eq 0 ] || die "image-check needs root (chroot, mounts); run it with sudo"

WORK="$ROOT/.image-check"
mkdir -p "$WORK"
ensure_base_deps
ensure_packages mmdebstrap

# What the Dockerfile says, so this check follows it rather than a copy of it.
RUNTIME_STAGE="$(awk '/^FROM /{stage=""} {stage=stage $0 "\n"} END{printf "%s", stage}' Dockerfile)"
BASE="$(printf '%s' "$RUNTIME_STAGE" | awk '/^FROM /{print $2; exit}')"
[ "$BASE" = "debian:bookworm-slim" ] || die "runtime stage is '$BASE'; this check lays out debian:bookworm-slim"
PACKAGES="$(printf '%s' "$RUNTIME_STAGE" | tr '\\\n' '  ' | grep -o 'apt-get install [^&]*' | sed 's/apt-get install//; s/ -[a-z-]*//g' | xargs)"
[ -n "$PACKAGES" ] || die "no apt-get install found in the Dockerfile's runtime stage"
grep -q -- '--static-swift-stdlib' Dockerfile || die "the Dockerfile no longer builds with --static-swift-stdlib; update this check"
log "runtime stage: $BASE + $PACKAGES"

log "1/4 release build as the Dockerfile's build stage (static Swift standard library)"
SCRATCH="${IMAGE_CHECK_SCRATCH:-$ROOT/.build-image}"
swift build -c release --product booxi-tracking --static-swift-stdlib --scratch-path "$SCRATCH" 2>&1 \
    | grep -E "error|warning: unable|Compiling booxi|Build complete" | sed 's/^/    /' || true
BIN_DIR="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
[ -x "$BIN_DIR/booxi-tracking" ] || die "release build failed"

log "2/4 Debian bookworm root file system with: $PACKAGES"
ROOTFS="$WORK/rootfs-$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-12)"
if [ ! -x "$ROOTFS/bin/sh" ]; then
    rm -rf "$WORK"/rootfs-*
    # minbase is what debian:bookworm-slim is built from.
    mmdebstrap --quiet --variant=minbase --include="$(echo "$PACKAGES" | tr ' ' ',')" bookworm "$ROOTFS" \
        http://deb.debian.org/debian >"$WORK/mmdebstrap.log" 2>&1 || die "mmdebstrap failed (see $WORK/mmdebstrap.log)"
fi

if [ "${1:-}" = --prepare ]; then
    log "prepared: the release binary and the root file system; run without --prepare to check them"
    exit 0
fi

log "3/4 copying what the runtime stage copies (the binary, its resource bundle, config/)"
rm -rf "$ROOTFS/app"
mkdir -p "$ROOTFS/app"
cp "$BIN_DIR/booxi-tracking" "$ROOTFS/app/"
cp -r "$BIN_DIR/booxi-tracking_ReadAPI.resources" "$BIN_DIR/booxi-tracking_Console.resources" "$ROOTFS/app/"
cp -r config "$ROOTFS/app/config"
echo "    image size without the base: $(du -sh "$ROOTFS/app" | cut -f1); dynamic libraries the binary needs:"
chroot "$ROOTFS" /usr/bin/ldd /app/booxi-tracking | sed 's/^/      /'

log "4/4 admin check and every role as nobody, against a redis-server on loopback"
start_throwaway_redis "$WORK/redis"
PIDS=("$REDIS_PID")
# Each role in the image carries this mark: chroot --userspec changes its user, which clears the
# parent-death signal unshare set, so killing the wrappers alone left the roles running as nobody.
IMAGE_RUN="image-check-$$-$(date +%s%N)"
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    # shellcheck disable=SC2046
    kill $(marked_processes "$IMAGE_RUN" BXT_IMAGE_RUN) 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "${IMAGE_CHECK_KEEP:-}" ] || rm -rf "$ROOTFS/app"
}
trap cleanup EXIT
SIM=$(free_port); INGRESS=$(free_port); INGRESS_OPS=$(free_port); WORKER=$(free_port); API=$(free_port); API_OPS=$(free_port)
CONSOLE=$(free_port)
ENVIRONMENT=(
    BXT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" BOOXI_PARTNER_API_KEY=image-check-key BXT_LOG_LEVEL=notice
    BXT_SIMULATOR_PORT="$SIM" BXT_BOOXI_BASE_URL="http://127.0.0.1:$SIM/booking/v1"
    BXT_SIMULATOR_WEBHOOK_URL="http://127.0.0.1:$INGRESS/webhooks/booxi" BXT_INGRESS_PORT="$INGRESS"
    BXT_INGRESS_OPS_PORT="$INGRESS_OPS" BXT_WORKER_PORT="$WORKER" BXT_API_PORT="$API" BXT_API_OPS_PORT="$API_OPS"
    # The ingress refuses to start without webhook authentication; the simulator sends this token.
    BXT_WEBHOOK_TOKENS=image-check-webhook-token-0123456789
    # The console needs a user to start; the image check serves its pages but does not log in.
    BXT_CONSOLE_PORT="$CONSOLE" BXT_CONSOLE_USERS=imagecheck:no-login-here
    # Marks for the clean-up above and for scripts/test.sh's check for leftover processes.
    BXT_IMAGE_RUN="$IMAGE_RUN" BXT_TEST_RUN="${BXT_TEST_RUN:-}"
)
# As the image runs it: WORKDIR /app, USER nobody, /proc mounted, nothing from the host but the network.
in_image() {
    unshare --mount --fork --kill-child=SIGTERM -- sh -c 'mount -t proc proc "$0/proc" && exec chroot --userspec=nobody:nogroup "$0" \
        /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent "$@"' "$ROOTFS" \
        "${ENVIRONMENT[@]}" /bin/sh -c 'cd /app && exec ./booxi-tracking "$@"' booxi-tracking "$@"
}
in_image admin check || die "admin check failed inside the image"
for role in simulator ingress worker api console; do
    in_image "$role" >"$WORK/$role.log" 2>&1 &
    PIDS+=($!)
done
wait_ready() {
    for _ in $(seq 1 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
    die "$1 did not answer inside the image (logs in $WORK/*.log): $(tail -5 "$WORK"/*.log)"
}
wait_ready "http://127.0.0.1:$SIM/healthz"
wait_ready "http://127.0.0.1:$INGRESS_OPS/readyz"
wait_ready "http://127.0.0.1:$WORKER/readyz"
wait_ready "http://127.0.0.1:$API_OPS/readyz"
wait_ready "http://127.0.0.1:$CONSOLE/healthz"
# The console's pages come from its own resource bundle.
curl -fs "http://127.0.0.1:$CONSOLE/console/login" | grep -q 'id="login"' || die "the console's login page is not served (resource bundle?)"
curl -fs "http://127.0.0.1:$CONSOLE/console/assets/console.js" -o /dev/null || die "the console's script is not served (resource bundle?)"
# The page comes from the resource bundle: a bundle missing from the image fails here.
# Its strings come from config/messages (copied into the image): a missing directory stops the api at start.
PAGE="$(curl -fs "http://127.0.0.1:$API/track/imagecheck1")"
grep -q "<html" <<<"$PAGE" || die "the tracking page is not served (resource bundle?)"
SCRIPT="$(grep -o '/assets/tracking\.[0-9a-f]*\.js' <<<"$PAGE" | head -1)"
[ -n "$SCRIPT" ] || die "the tracking page names no script"
curl -fs "http://127.0.0.1:$API$SCRIPT" -o /dev/null || die "$SCRIPT is not served (resource bundle?)"
curl -fs -H 'Accept-Encoding: gzip' -D - "http://127.0.0.1:$API/track/imagecheck1" -o /dev/null | grep -qi '^content-encoding: gzip' \
    || die "the page is not served gzip-compressed (zlib in the image?)"
# A webhook through the ingress in the image, applied by the worker in the image.
CODE="$(in_image simulator book --service 100 --first-name Image --last-name Check)"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$API/api/tracking/$CODE" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$API/api/tracking/$CODE" | grep -q '"status"' || die "a booking did not make it through the roles in the image"
log "image check passed: admin check, simulator, ingress, worker, api and console ran as nobody in a bookworm root with only '$PACKAGES'"
