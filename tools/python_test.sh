#!/usr/bin/env bash
# The Django app's test suite (python/tests) against the real server binary, on every Django of the
# matrix: Django 5.2 LTS (.venv-django52, with cent 4.x) and Django 6.x (.venv-django6, with cent 5.x)
# must both pass; a third run checks the oldest supported Django, 4.2, with the same suite.
# Environments come from tools/python_setup.sh. Extra arguments go to pytest (e.g. -k publish -x).
#
#   INSTANT_BIN=build/instant tools/python_test.sh
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${INSTANT_BIN:-}" ]; then
  echo "python_test: set INSTANT_BIN to the instant server binary (make build makes build/instant)" >&2
  exit 2
fi
if [ ! -x "$INSTANT_BIN" ]; then
  echo "python_test: INSTANT_BIN=$INSTANT_BIN is not an executable file" >&2
  exit 2
fi
INSTANT_BIN=$(realpath "$INSTANT_BIN")
export INSTANT_BIN

failed=()
run() {  # run NAME VENV EXPECTED_CENT_MAJOR [PYTHONPATH_OVERLAY]
  local name=$1 venv=$2 cent=$3 overlay=${4:-}
  if [ ! -x "$venv/bin/python" ] || { [ -n "$overlay" ] && [ ! -d "$overlay" ]; }; then
    echo "python_test: $venv is missing: run tools/python_setup.sh (make setup)" >&2
    failed+=("$name"); return
  fi
  local pp=""
  [ -n "$overlay" ] && pp="$(realpath "$overlay")"
  local django
  django=$(cd python && PYTHONPATH="$pp" "../$venv/bin/python" -c 'import django; print(django.get_version())')
  echo "=== python tests: $name (Django $django, $("$venv/bin/python" -V 2>&1), cent $cent.x) ==="
  if ! (cd python && PYTHONPATH="$pp" INSTANT_EXPECT_CENT="$cent" "../$venv/bin/python" -m pytest "${@:5}"); then
    failed+=("$name")
  fi
}

run django52 .venv-django52 4 "" "$@"
run django6 .venv-django6 5 "" "$@"
run django42-compat .venv-django52 4 .venv-django52/django42-overlay "$@"

if [ ${#failed[@]} -gt 0 ]; then
  echo "python_test: FAILED on ${failed[*]}" >&2
  exit 1
fi
echo "python_test: all Django environments passed"
