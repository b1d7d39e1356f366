#!/usr/bin/env bash
# Installs what the build and the tests need on Debian 12. Idempotent and quick when everything is
# present: apt-get runs only for missing packages, npm only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node packages for the integration tests and the load tools (pinned by package-lock.json).
for dir in tests/integration; do
  if [ -f "$dir/package.json" ]; then
    stamp="$dir/node_modules/.setup-stamp"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
      echo "setup: npm ci in $dir"
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      touch "$stamp"
    fi
  fi
done
