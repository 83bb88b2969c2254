#!/usr/bin/env bash
# The code's layout, by the toolchain's swift-format and the repository's .swift-format (4 spaces,
# lines of at most 150 characters; layout only, no naming rules).
#   scripts/format.sh           rewrites Package.swift, Sources/ and Tests/ in place
#   scripts/format.sh --check   lists what differs and fails if anything does (scripts/test.sh --fast)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
FILES=(Package.swift Sources Tests)
if [ "${1:-}" = "--check" ]; then
    swift format lint --strict --parallel --recursive "${FILES[@]}"
else
    swift format format --in-place --parallel --recursive "${FILES[@]}"
fi
