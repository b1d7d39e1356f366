#!/usr/bin/env bash
# `make demo`: the demo site (examples/) and the instant server, ready on a fresh machine.
#
# Sets up (idempotent): the server's config.json with fresh secrets the first time and the demo's
# origins, the database (migrations), the demo users and channels. Then runs, on loopback, until
# Ctrl-C stops them all:
#   the instant server     ws://localhost:$DEMO_WS_PORT (8427)
#   the Django site        http://localhost:$DEMO_PORT (8000), runserver
#   manage.py demo_events  a demo event every 3 s (DEMO_EVENTS=0: none)
# Run-time files live in examples/var/ (INSTANT_DEMO_DIR); delete it to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export INSTANT_BIN=${INSTANT_BIN:-$root/build/instant}
DEMO_PORT=${DEMO_PORT:-8000}
DEMO_WS_PORT=${DEMO_WS_PORT:-8427}
export INSTANT_DEMO_DIR=${INSTANT_DEMO_DIR:-$root/examples/var}
export INSTANT_DEMO_WS_PORT=$DEMO_WS_PORT
python=$root/.venv-django52/bin/python

if [ ! -x "$INSTANT_BIN" ]; then
  echo "demo: no server binary at $INSTANT_BIN: run make build (or set INSTANT_BIN)" >&2
  exit 1
fi
if [ ! -x "$python" ]; then
  tools/python_setup.sh
fi

port_busy() {
  "$python" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no obstacle
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}
for pair in "DEMO_PORT $DEMO_PORT" "DEMO_WS_PORT $DEMO_WS_PORT"; do
  set -- $pair
  if port_busy "$2"; then
    echo "demo: port $2 is in use; stop what runs there, or choose another: $1=<port> make demo" >&2
    exit 1
  fi
done

cd examples
manage() { "$python" manage.py "$@"; }
manage demo_config --origin "http://localhost:$DEMO_PORT" --origin "http://127.0.0.1:$DEMO_PORT" >/dev/null
manage migrate --verbosity 0
manage demo_setup >/dev/null

pids=()
cleanup() {
  trap - INT TERM EXIT
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "demo: stopped"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

wait_for() {  # wait_for URL WHAT: up to 20 s
  "$python" - "$1" "$2" <<'PY'
import sys, time, urllib.request
url, what = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 20
while True:
    try:
        urllib.request.urlopen(url, timeout=1).read()
        break
    except Exception:
        if time.monotonic() > deadline:
            sys.exit(f"demo: {what} did not answer at {url} within 20 s (see its output above)")
        time.sleep(0.1)
PY
}

"$INSTANT_BIN" --config "$INSTANT_DEMO_DIR/config.json" --port "$DEMO_WS_PORT" --address 127.0.0.1 &
pids+=($!)
wait_for "http://127.0.0.1:$DEMO_WS_PORT/health" "the instant server"

# Started directly (not through the manage function) so that $! is python's pid, which cleanup stops.
"$python" manage.py runserver "127.0.0.1:$DEMO_PORT" --noreload &
pids+=($!)
wait_for "http://127.0.0.1:$DEMO_PORT/demo/me/" "the Django site"

if [ "${DEMO_EVENTS:-1}" != 0 ]; then
  "$python" manage.py demo_events --interval 3 > "$INSTANT_DEMO_DIR/demo_events.log" 2>&1 &
  pids+=($!)
fi

cat <<EOF

  instant demo is running

    open          http://localhost:$DEMO_PORT/
    logins        alice / alice   (group1: public, \$users, \$group1)
                  bob   / bob     (staff: \$staff too, and the publish form)
                  admin / admin   (superuser; channels in http://localhost:$DEMO_PORT/admin/)
                  or stay anonymous (public only)
    websockets    ws://localhost:$DEMO_WS_PORT  (instant server, config $INSTANT_DEMO_DIR/config.json)
    demo events   every 3 s into the channels in turn (log: $INSTANT_DEMO_DIR/demo_events.log)
    publish       in Python: from instant.producers import publish; publish("public", "hello")
                  or: cd examples && ../.venv-django52/bin/python manage.py demo_events --count 1 --channel public --message hello

  Ctrl-C stops everything.
EOF

# Until Ctrl-C, or until one of them exits on its own (then stop the others too).
set +e
wait -n "${pids[@]}"
status=$?
set -e
echo "demo: a process exited (status $status); stopping the others" >&2
exit "$status"
