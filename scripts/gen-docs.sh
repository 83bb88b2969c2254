#!/usr/bin/env bash
# Regenerates the documentation that is derived from the code: docs/configuration.md (every
# configuration key, from config/default.json and Sources/TrackingConfig/ConfigurationReference.swift).
# Tests/Deployment/test_configuration.py fails when the committed file differs from this output.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
swift build --product booxi-tracking >/dev/null
"$(swift build --show-bin-path)/booxi-tracking" admin config-reference >docs/configuration.md
log "docs/configuration.md regenerated"
