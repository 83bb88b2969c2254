# Shared by the scripts: dependency installation, free ports, throwaway redis-server.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="/opt/swift/usr/bin:$PATH"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG...: installs the Debian packages that are missing (apt-get update first).
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The system packages every script needs.
ensure_base_deps() {
    ensure_packages libhiredis-dev zlib1g-dev redis-server redis-sentinel pkg-config ca-certificates curl openssl
    command -v swift >/dev/null || die "Swift 6 is required (expected in /opt/swift/usr/bin)"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_throwaway_redis DIR: a redis-server without persistence on a free loopback port.
# Sets REDIS_PORT and REDIS_PID.
start_throwaway_redis() {
    local dir="$1"
    mkdir -p "$dir"
    REDIS_PORT="$(free_port)"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
        --daemonize no --loglevel warning >"$dir/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 100); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "redis-server did not start (see $dir/redis.log)"
}

# marked_processes VALUE [VARIABLE]: the pids of processes whose environment holds
# VARIABLE=VALUE (BXT_TEST_RUN by default), this shell excepted: scripts/test.sh's last check and
# the image check's clean-up. The environment is read with builtins only, so no helper process of
# the check itself is found.
marked_processes() {
    local mark="${2:-BXT_TEST_RUN}=$1" file pid entry
    for file in /proc/[0-9]*/environ; do
        pid="${file#/proc/}"
        pid="${pid%/environ}"
        [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
        { while IFS= read -r -d '' entry; do
            if [ "$entry" = "$mark" ]; then echo "$pid"; break; fi
        done <"$file"; } 2>/dev/null || true
    done
}
