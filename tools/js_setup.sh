#!/usr/bin/env bash
# Sets up the JavaScript side (js/, the instant-client package) on Debian 12. Idempotent, and quick
# when nothing changed:
#   - Debian's chromium for the browser tests (apt-get, only when missing; never a downloaded browser);
#   - js/node_modules from js/package-lock.json (npm ci, only when the lock file or Node changed);
#   - js/dist (ESM, .d.ts, IIFE bundle), rebuilt only when its sources changed.
# It does not touch python/src/instant/static/instant/index.min.js, the committed copy of the bundle
# the Django app serves: `npm run build:static` in js/ updates it, and tools/js_test.sh checks it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "js_setup: Node.js >= 18 with npm is needed (node and npm on PATH)" >&2
  exit 1
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "js_setup: Node.js >= 18 is needed, found $(node --version)" >&2
  exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "js_setup: installing Debian's chromium (browser tests)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi

cd js
want="$(node --version) $(sha256sum package-lock.json | cut -c1-32)"
stamp=node_modules/.instant-setup
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "js_setup: npm ci in js/"
  # No install scripts: esbuild runs from its platform package without its postinstall.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

want_dist="$(cat package-lock.json build.mjs tsconfig.json src/*.ts | sha256sum | cut -c1-32)"
dist_stamp=dist/.instant-build
if [ ! -f "$dist_stamp" ] || [ "$(cat "$dist_stamp")" != "$want_dist" ]; then
  echo "js_setup: building js/dist"
  node build.mjs
  echo "$want_dist" > "$dist_stamp"
fi
