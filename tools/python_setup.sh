#!/usr/bin/env bash
# Creates the Python environments of the Django app's test matrix (python/). Idempotent, and quick
# when nothing changed: an environment is rebuilt only when its requirements file, python/pyproject.toml
# or its interpreter changed.
#
#   .venv-django52  Python 3.10/3.11 (python3)  python/requirements/django52.txt  Django 5.2 LTS + cent 4.x
#   .venv-django6   Python >= 3.12               python/requirements/django6.txt   Django 6.x     + cent 5.x
#   .venv-django52/django42-overlay                 python/requirements/django42-overlay.txt  Django 4.2
#                   (put first on PYTHONPATH by tools/python_test.sh: the suite on the oldest supported Django)
#
# cent 4.x and 5.x cannot share an environment, so each Django gets one of them: the drop-in tests
# run django-instant's cent 4.x publish call in the first and the current cent 5.x client in the second.
# The instant package is installed editable (src layout), so source changes need no reinstall.
# Interpreters: $PYTHON_DJANGO52 / $PYTHON_DJANGO6 when set, else found on PATH and in pyenv.
set -euo pipefail
cd "$(dirname "$0")/.."

# version_ok PYTHON MIN_MINOR: a Python 3 interpreter of at least 3.MIN_MINOR
version_ok() {
  "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] >= (3, $2) else 1)" >/dev/null 2>&1
}

find_python() {  # find_python MIN_MINOR [PREFERRED...]
  local min=$1; shift
  local c
  for c in "$@"; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && version_ok "$c" "$min"; then command -v "$c"; return 0; fi
  done
  local root
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for c in "$root"/versions/3.*/bin/python3; do
    if [ -x "$c" ] && version_ok "$c" "$min"; then echo "$c"; return 0; fi
  done
  return 1
}

setup_venv() {  # setup_venv DIR PYTHON REQUIREMENTS
  local venv=$1 python=$2 req=$3
  local pyver want stamp="$1/.instant-setup"
  pyver=$("$python" -c 'import sys; print(sys.version.split()[0])')
  want="$pyver $(cat "$req" python/pyproject.toml | sha256sum | cut -c1-32)"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "python_setup: $venv (Python $pyver, $req)"
  if [ -d "$venv" ] && [ "$("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null)" != "$pyver" ]; then
    rm -rf "$venv"
  fi
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  # Exactly the pinned set: drop anything a previous requirements file left behind.
  local extra
  extra=$("$venv/bin/python" -m pip freeze --disable-pip-version-check --exclude-editable \
    | grep -v -x -i -F -f <(grep -v '^#' "$req" | grep .) | sed 's/==.*//' | grep -v -i -x -e pip || true)
  if [ -n "$extra" ]; then
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip uninstall -q -y --disable-pip-version-check $extra
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e python
  rm -rf python/src/*.egg-info python/build  # build leftovers; the installed metadata lives in the venv
  echo "$want" > "$stamp"
}

py52=$(find_python 10 "${PYTHON_DJANGO52:-}" python3 python3.11) || {
  echo "python_setup: no Python >= 3.10 found for Django 5.2 (set PYTHON_DJANGO52)" >&2; exit 1; }
py6=$(find_python 12 "${PYTHON_DJANGO6:-}" python3.13 python3.12) || {
  echo "python_setup: Django 6 needs Python >= 3.12 and none was found on PATH or in pyenv; install one" \
       "(pyenv install 3.12) or point PYTHON_DJANGO6 at it" >&2; exit 1; }

setup_venv .venv-django52 "$py52" python/requirements/django52.txt
setup_venv .venv-django6 "$py6" python/requirements/django6.txt

overlay=.venv-django52/django42-overlay
want=$(sha256sum < python/requirements/django42-overlay.txt | cut -c1-32)
if [ ! -f "$overlay/.instant-setup" ] || [ "$(cat "$overlay/.instant-setup")" != "$want" ]; then
  echo "python_setup: $overlay (python/requirements/django42-overlay.txt)"
  rm -rf "$overlay"
  .venv-django52/bin/python -m pip install -q --disable-pip-version-check --no-deps --target "$overlay" \
    -r python/requirements/django42-overlay.txt
  echo "$want" > "$overlay/.instant-setup"
fi
