#!/usr/bin/env bash
# The JavaScript suites (Node's test runner), all in one run, after a type check of the declarations:
#   js/test/unit/    routing, payload decoding, Django calls and errors, the useInstant() shim, the
#                    bundles (and that python/.../static/instant/index.min.js is the current build);
#   js/test/server/  the client in Node against the real server ($INSTANT_BIN): tokens, refresh,
#                    errors, reconnect and recovery;
#   js/test/e2e/     headless Chromium on the demo site (examples/) with the real server.
# Screenshots: js/test-results/. Arguments go to `node --test` (e.g. --test-name-pattern=alice).
set -euo pipefail
cd "$(dirname "$0")/.."

export INSTANT_BIN=${INSTANT_BIN:-$PWD/build/instant}
if [ ! -x "$INSTANT_BIN" ]; then
  echo "js_test: no server binary at $INSTANT_BIN: run make build, or set INSTANT_BIN" >&2
  exit 1
fi
if [ ! -x .venv-django52/bin/python ]; then
  echo "js_test: no .venv-django52 for the demo site: run tools/python_setup.sh (make setup)" >&2
  exit 1
fi
tools/js_setup.sh

cd js
# The declarations as a TypeScript user sees them (test/types/usage.ts compiles against dist/*.d.ts).
node node_modules/typescript/bin/tsc -p test/types/tsconfig.json
export INSTANT_E2E_REQUIRED=1  # a missing browser or Django environment fails instead of skipping
exec node --test --test-timeout=120000 "$@" test/unit/ test/server/ test/e2e/
