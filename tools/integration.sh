#!/usr/bin/env bash
# Runs the Node integration suites against the binary in $INSTANT_BIN.
set -euo pipefail
cd "$(dirname "$0")/../tests/integration"
: "${INSTANT_BIN:?set INSTANT_BIN to the instant binary}"
echo "integration: $INSTANT_BIN"
node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
