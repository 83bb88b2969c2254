#!/usr/bin/env bash
# Runs one libFuzzer target (docs/security.md, "Fuzzing"):
#   scripts/fuzz.sh list                      the targets
#   scripts/fuzz.sh TARGET [SECONDS] [--keep] [--no-build] [-- LIBFUZZER_ARGS...]
# Builds the target with -sanitize=fuzzer,address into .build-fuzz (never the normal .build), fuzzes
# a copy of Tests/FuzzCorpus/TARGET (seeds and past crashes) for SECONDS (default 60), and prints
# executions, execs/s, coverage and the corpus size. A crash's reproducer is written to
# Tests/FuzzCorpus/TARGET/crashes/ (commit it: the unit tests replay it) and the exit status is 1.
# --keep merges the new, coverage-adding inputs back into the committed corpus (minimised);
# --no-build runs the executable already in .build-fuzz.
# Replay one input under the sanitizer: BXT_FUZZ_TARGET=TARGET .build-fuzz/debug/Fuzz FILE
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

CORPORA="Tests/FuzzCorpus"
targets() { find "$CORPORA" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort; }

[ $# -ge 1 ] || die "usage: scripts/fuzz.sh list | TARGET [SECONDS] [--keep] [--no-build] [-- libFuzzer args]"
if [ "$1" = list ]; then
    targets
    exit 0
fi
TARGET="$1"; shift
[ -d "$CORPORA/$TARGET" ] || die "unknown target '$TARGET' (scripts/fuzz.sh list)"
SECONDS_TO_RUN=60
KEEP=0
BUILD_FIRST=1
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) KEEP=1 ;;
        --no-build) BUILD_FIRST=0 ;;
        --) shift; break ;;
        *) [[ "$1" =~ ^[0-9]+$ ]] || die "unknown argument '$1'"; SECONDS_TO_RUN="$1" ;;
    esac
    shift
done

# One executable, `Fuzz`, runs every target (BXT_FUZZ_TARGET); Package.swift declares it under BXT_FUZZ=1.
if [ "$BUILD_FIRST" -eq 1 ]; then
    log "building Fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
    # The shared build lock keeps this from competing with the other builds on the machine.
    BUILD=(swift build --scratch-path .build-fuzz --product Fuzz -Xswiftc -sanitize=fuzzer,address)
    if command -v flock >/dev/null; then BUILD=(flock "${BXT_BUILD_LOCK:-/tmp/bxt-build.lock}" "${BUILD[@]}"); fi
    BXT_FUZZ=1 "${BUILD[@]}" 2>&1 | grep -E "error:|Build of product" || true
fi
BINARY="$(BXT_FUZZ=1 swift build --scratch-path .build-fuzz --show-bin-path)/Fuzz"
export BXT_FUZZ_TARGET="$TARGET"
[ -x "$BINARY" ] || die "the build did not produce $BINARY"

WORK="$(mktemp -d /tmp/bxt-fuzz.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus" "$CORPORA/$TARGET/crashes"
find "$CORPORA/$TARGET" "$CORPORA/$TARGET/crashes" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$WORK/corpus/" \;
DICT=()
[ -f "$CORPORA/$TARGET.dict" ] && DICT=(-dict="$CORPORA/$TARGET.dict")

log "fuzzing $TARGET for ${SECONDS_TO_RUN}s ($(find "$WORK/corpus" -type f | wc -l) inputs to start from)"
# Leak checks are off: the Swift runtime's lazily built caches read as leaks to LeakSanitizer.
set +e
"$BINARY" "$WORK/corpus" "${DICT[@]}" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -detect_leaks=0 -print_final_stats=1 -artifact_prefix="$CORPORA/$TARGET/crashes/" "$@" >"$WORK/log" 2>&1
STATUS=$?
set -e

LAST="$(grep -E '^#[0-9]+' "$WORK/log" | tail -1 || true)"
stat() { grep -E "^stat::$1:" "$WORK/log" | awk '{print $2}'; }
echo "target:      $TARGET"
echo "executions:  $(stat number_of_executed_units)"
echo "execs/s:     $(stat average_exec_per_sec)"
echo "coverage:    $(echo "$LAST" | grep -oE 'cov: [0-9]+' | awk '{print $2}') edges, $(echo "$LAST" | grep -oE 'ft: [0-9]+' | awk '{print $2}') features"
echo "corpus:      $(echo "$LAST" | grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' | awk '{print $2}') (inputs/bytes)"
echo "peak RSS:    $(stat peak_rss_mb) MB"
if [ "$STATUS" -ne 0 ]; then
    grep -E "^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*Fatal error)" "$WORK/log" | head -5 >&2 || true
    grep -E "Test unit written to" "$WORK/log" >&2 || true
    echo "crash:       yes (exit $STATUS); full log below" >&2
    tail -60 "$WORK/log" >&2
    exit 1
fi
echo "crash:       none"
if [ "$KEEP" -eq 1 ]; then
    log "merging new inputs into $CORPORA/$TARGET"
    "$BINARY" -merge=1 -detect_leaks=0 "$CORPORA/$TARGET" "$WORK/corpus" >"$WORK/merge.log" 2>&1 || die "merge failed: $(tail -3 "$WORK/merge.log")"
fi
