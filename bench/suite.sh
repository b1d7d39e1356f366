#!/usr/bin/env bash
# The benchmark suite: instant and its peers on this machine, in one run, same load generator,
# same payloads. Scenarios (research/performance.md §6; `bench/README.md` explains the figures):
#
#   S4      9,000 subscribers of one channel, publisher saturating (end-to-end window)  -> deliveries/s, server CPU µs/delivery
#   S4-3k   the same with 3,000 subscribers; S4-1k with 1,000 (throughput vs subscribers)
#   S3-9k   9,000 subscribers, 2 publishes/s for BENCH_DURATION s                       -> p50/p99 ms
#   S3-1k   1,000 subscribers, 10 publishes/s                                           -> p50/p99 ms
#   S1-19k  19,000 idle connections (connect + subscribe, then BENCH_IDLE s idle)        -> server RSS B/conn, kernel slab B/conn
#   S1-10k  10,000 idle connections                                                     -> same
#   S2      handshake storm for BENCH_DURATION s, a HS256 JWT of its own per connection,
#           BENCH_S2_PENDING handshakes in flight, closed once connected                -> handshakes/s, p50/p99 ms, server CPU µs/handshake
#   S2-anon the same without token (every server: plain peers end at their "subscribed" frame)
#   S5      BENCH_S5_CONNS connections, each on a group channel of 10 and its own channel,
#           BENCH_S5_RATE publishes/s to random channels, BENCH_S5_CHURN of the connections
#           leave and reconnect every second                                            -> deliveries/s, p99, loss (per session), server RSS
#   S7      BENCH_S7_CONNS subscribers, BENCH_S7_RATE publishes/s of BENCH_S7_PAYLOAD B for 2 x
#           BENCH_DURATION s; in the second half 1 % stop reading; 1 MB client queue    -> healthy p99 before/after, slow ones closed (how), server RSS
#
# Servers: instant (BUILD_DIR/instant), centrifugo-v6, centrifuge-go (Centrifuge library), node-ws,
# daphne (Daphne + Channels); the peers come from bench/peers.sh (run first unless
# BENCH_SKIP_INSTALL=1). Every (scenario, server) pair gets a FRESH server process on a fresh
# loopback port (so RSS is measured from a cold start and nothing queued by one scenario leaks into
# the next), then is stopped (SIGTERM, SIGKILL after 5 s). Scenario-major order: all servers run
# S4 back to back, then S4-3k, ... (with BENCH_REPEAT=N, the N rounds of a scenario follow each
# other) so a noisy neighbour hits one scenario's servers alike. A scenario that does not apply to
# a server (S2 needs JWT verification, S5 many channels: see `not_applicable`) is reported as
# "n/a" with the reason; a peer that is not installed, does not start, or whose run fails is
# reported as such in the table and the JSON, never dropped.
#
#   bench/suite.sh BUILD_DIR        (`make bench` -> bench/run.sh -> this)
#
# Writes bench/results/latest.json, latest.md, suite-<UTC stamp>.{json,md} and, when matplotlib
# can be installed into bench/peers/plot-venv (bench/requirements.txt), PNG plots
# suite-<stamp>-{s4-throughput,s3-latency-cdf}.png (+ latest-*.png); the load generator's full
# output of every run goes to bench/results/tmp/<stamp>/ (git-ignored).
# Bounded: each loadgen run is wrapped in `timeout`; the measuring part stops starting runs when
# BENCH_BUDGET seconds (default 1500 per round) are used up and reports the rest as skipped. The
# peers' installation (first run only; a cold Centrifugo build takes minutes) is not counted.
#
# Knobs (environment): BENCH_SERVERS ("instant centrifugo-v6 centrifuge-go node-ws daphne"),
# BENCH_SCENARIOS ("S4 S4-3k S4-1k S3-9k S3-1k S1-19k S1-10k S2 S2-anon S5 S7"), BENCH_REPEAT (1),
# BENCH_DURATION (10), BENCH_IDLE (5), BENCH_WINDOW (64), BENCH_CONNECT_RATE (2000),
# BENCH_RAMP_TIMEOUT (60; daphne: BENCH_DAPHNE_RAMP_TIMEOUT, 50), BENCH_BUDGET (1500 x BENCH_REPEAT),
# BENCH_S2_PENDING (32), BENCH_S5_CONNS (10000), BENCH_S5_RATE (2000), BENCH_S5_CHURN (0.05),
# BENCH_S7_CONNS (200), BENCH_S7_RATE (100), BENCH_S7_PAYLOAD (8000), BENCH_PLOTS (1; 0 = none),
# BENCH_NICE (as in bench/fanout.sh), BENCH_SKIP_INSTALL, CENTRIFUGO_VERSION (v6.9.1).
set -uo pipefail

BUILD_DIR=${1:?usage: bench/suite.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/peers"
SRV="$HERE/servers"
RESULTS="$HERE/results"
INSTANT="$BUILD_DIR/instant"
LOADGEN="$BUILD_DIR/instant-loadgen"
SERVERS=${BENCH_SERVERS:-"instant centrifugo-v6 centrifuge-go node-ws daphne"}
SCENARIOS=${BENCH_SCENARIOS:-"S4 S4-3k S4-1k S3-9k S3-1k S1-19k S1-10k S2 S2-anon S5 S7"}
REPEAT=${BENCH_REPEAT:-1}
DURATION=${BENCH_DURATION:-10}
IDLE=${BENCH_IDLE:-5}
WINDOW=${BENCH_WINDOW:-64}
CONNECT_RATE=${BENCH_CONNECT_RATE:-2000}
RAMP_TIMEOUT=${BENCH_RAMP_TIMEOUT:-60}
S2_PENDING=${BENCH_S2_PENDING:-32}
S5_CONNS=${BENCH_S5_CONNS:-10000}
S5_RATE=${BENCH_S5_RATE:-2000}
S5_CHURN=${BENCH_S5_CHURN:-0.05}
S7_CONNS=${BENCH_S7_CONNS:-200}
S7_RATE=${BENCH_S7_RATE:-100}
S7_PAYLOAD=${BENCH_S7_PAYLOAD:-8000}
[[ $REPEAT =~ ^[1-9][0-9]?$ ]] || { echo "suite: BENCH_REPEAT must be 1..99" >&2; exit 2; }
BUDGET=${BENCH_BUDGET:-$((1500 * REPEAT))}
API_KEY="bench-$RANDOM$RANDOM"
# HS256 secret of S2's connection tokens: instant, Centrifugo and the centrifuge-go peer are
# configured with it, the load generator signs one token per connection with it.
TOKEN_SECRET="bench-secret-$RANDOM$RANDOM$RANDOM"
STAMP=$(date -u +%Y%m%d-%H%M%S)
LOGS="$RESULTS/tmp/$STAMP"
if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then PATH=$PATH:/usr/local/go/bin; fi

NICE=()
if [[ -n "${BENCH_NICE:-}" ]]; then
  NICE=(setsid -w sh -c 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$BENCH_NICE")
fi

for bin in "$INSTANT" "$LOADGEN"; do
  [[ -x "$bin" ]] || { echo "suite: $bin not built" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "suite: python3 is needed for the summary" >&2; exit 1; }
mkdir -p "$RESULTS" "$LOGS"
TMP=$(mktemp -d /tmp/instant-suite.XXXXXX)
RUNS="$LOGS/runs"  # kept: `summarize.py --runs` can be rerun on it
mkdir -p "$RUNS"

# ---- peers ----
if [[ -z "${BENCH_SKIP_INSTALL:-}" ]]; then
  peers=()
  for s in $SERVERS; do [[ $s == instant ]] || peers+=("$s"); done
  [[ ${#peers[@]} -eq 0 ]] || "$HERE/peers.sh" "${peers[@]}" || true
fi
peer_status() {  # name -> "ok ..." or "failed: ..."
  if [[ $1 == instant ]]; then
    # The binary may be older than HEAD when the suite runs on an existing build: say when it was built.
    echo "ok git $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$HERE/.." status --porcelain 2>/dev/null | grep -q . && echo '+dirty') at run time; binary built $(date -u -r "$INSTANT" '+%Y-%m-%d %H:%M UTC')"
  elif [[ -f "$PEERS/status/$1" ]]; then
    cat "$PEERS/status/$1"
  else
    echo "failed: not installed (bench/peers.sh $1)"
  fi
}

# Why a scenario does not apply to a server (empty: it does). Said in the table as "n/a".
not_applicable() {  # scenario server
  local plain=false
  [[ $2 == node-ws || $2 == daphne ]] && plain=true
  case $1 in
    S2)
      [[ $plain == true ]] && { echo "n/a: plain broadcast protocol: no connect command, no token"; return; }
    S5)
      [[ $plain == true ]] && { echo "n/a: plain broadcast protocol: one broadcast set, no channels"; return; } ;;
    S7)
      [[ $2 == daphne ]] && { echo "n/a: Daphne's in-memory channel layer cannot carry S7's base load (see S3-1k)"; return; } ;;
  esac
}

# ---- servers ----
SERVER_PID=""
STOP_S=null
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local t0=$SECONDS
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  STOP_S=$((SECONDS - t0))
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=${BENCH_PORT_BASE:-18427}
next_port() {
  while ! port_free "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  PORT=$NEXT_PORT
  NEXT_PORT=$((NEXT_PORT + 1))
}

# Same options for everyone: anonymous connect and subscribe (and HS256 tokens with TOKEN_SECRET
# where the server verifies them), no history, no presence, a 16 MB per-client queue (S7: 1 MB,
# the default of instant and Centrifugo, so that slow clients meet the limit a deployment has),
# warnings-only logs, no outside traffic (Centrifugo's usage stats off).
server_cmd() {  # name port queue_bytes -> CMD array, PROTO, PACE (connect pacing flags for the loadgen)
  PROTO=v2
  PACE=(--connect-rate "$CONNECT_RATE" --ramp-timeout "$RAMP_TIMEOUT")
  case $1 in
    instant)
      cat > "$TMP/instant.json" <<EOF
{"api_key": "$API_KEY", "allow_anonymous_connect_without_token": true, "allow_subscribe_for_anonymous": true,
 "allow_subscribe_for_client": true, "client_queue_max_size": $3, "health": true, "log_level": "warn",
 "token_hmac_secret_key": "$TOKEN_SECRET"}
EOF
      CMD=("$INSTANT" --config "$TMP/instant.json" --port "$2") ;;
    centrifugo-v6)
      cat > "$TMP/centrifugo.json" <<EOF
{"http_server": {"address": "127.0.0.1", "port": $2}, "log": {"level": "warn"},
 "client": {"allow_anonymous_connect_without_token": true, "queue_max_size": $3,
            "token": {"hmac_secret_key": "$TOKEN_SECRET"}},
 "channel": {"without_namespace": {"allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true}},
 "http_api": {"key": "$API_KEY"}, "health": {"enabled": true}, "usage_stats": {"disabled": true}}
EOF
      CMD=("$PEERS/bin/centrifugo" --config "$TMP/centrifugo.json") ;;
    centrifuge-go)
      CMD=("$PEERS/bin/centrifuge-go" -port "$2" -api-key "$API_KEY" -queue "$3" -token-secret "$TOKEN_SECRET") ;;
    node-ws)
      PROTO=plain
      CMD=(node "$PEERS/node-ws/server.js" "$2" "$API_KEY") ;;
    daphne)
      PROTO=plain
      # Daphne completes a few hundred handshakes/s at best here (Python, one process, ~2.5 ms
      # CPU each): pace the connects, and bound its ramp (the connections not up by then count as
      # failed, and the table says "partial"). -e only to raise Twisted's listen backlog from 50.
      PACE=(--connect-rate "${BENCH_DAPHNE_CONNECT_RATE:-300}" --max-pending 200 --handshake-timeout 20
            --ramp-timeout "${BENCH_DAPHNE_RAMP_TIMEOUT:-50}")
      CMD=(env "BENCH_API_KEY=$API_KEY" "PYTHONPATH=$SRV/daphne" "$PEERS/daphne-venv/bin/daphne" -v 0
           -e "tcp:port=$2:interface=127.0.0.1:backlog=4096" benchapp:application) ;;
    *) return 1 ;;
  esac
}

start_server() {  # name log queue_bytes -> SERVER_PID, PORT, PROTO; or START_ERROR
  START_ERROR=""
  next_port
  server_cmd "$1" "$PORT" "$3" || { START_ERROR="unknown server $1"; return 1; }
  "${NICE[@]}" "${CMD[@]}" > "$2" 2>&1 &
  SERVER_PID=$!
  local healthy=false
  for _ in $(seq 30); do  # up to ~30 s, but give up at once if the process is gone
    if "$LOADGEN" --wait-health 1 --port "$PORT" 2> /dev/null; then healthy=true; break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
  done
  if [[ $healthy != true ]]; then
    local why="no healthy /health on port $PORT within 30 s"
    kill -0 "$SERVER_PID" 2>/dev/null || why="the process exited"
    START_ERROR="$why: $(tail -n 3 "$2" | tr '\n' ' ' | cut -c1-300)"
    stop_server
    return 1
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    START_ERROR="process exited (another process answers on port $PORT?)"
    SERVER_PID=""
    return 1
  fi
}

meta() {  # file key value ... -> one JSON object (strings)
  local f=$1
  shift
  python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[0::2], a[1::2]))))' "$@" > "$f"
}

T0=$SECONDS
HARD_END=$((T0 + BUDGET))
run_one() {  # scenario server round
  local scn=$1 srv=$2 round=$3 conns args=() status out rc=0 queue=16777216 seconds
  local base="$RUNS/$scn.$srv.r$round"
  seconds=${DURATION%.*}  # the measured part, for the timeout below
  case $scn in
    S4) conns=9000; args=(--rate 0 --window "$WINDOW" --duration "$DURATION") ;;
    S4-3k) conns=3000; args=(--rate 0 --window "$WINDOW" --duration "$DURATION") ;;
    S4-1k) conns=1000; args=(--rate 0 --window "$WINDOW" --duration "$DURATION") ;;
    S3-9k) conns=9000; args=(--rate 2 --duration "$DURATION") ;;
    S3-1k) conns=1000; args=(--rate 10 --duration "$DURATION") ;;
    S1-19k) conns=19000; args=(--idle "$IDLE"); seconds=${IDLE%.*} ;;
    S1-10k) conns=10000; args=(--idle "$IDLE"); seconds=${IDLE%.*} ;;
    S2|S2-anon)
      # Up to 200k handshakes (each closed at once, 40 source addresses of 5,000 ports), as many
      # as the server completes in BENCH_DURATION s with BENCH_S2_PENDING in flight.
      conns=200000
      args=(--mode handshake --duration "$DURATION" --connect-rate 0 --max-pending "$S2_PENDING" --procs 2)
      [[ $scn == S2 ]] && args+=(--token-secret "$TOKEN_SECRET") ;;
    S5)
      conns=$S5_CONNS
      # Churn leaves sockets in TIME_WAIT on the client side: 2,000 per source address.
      args=(--mode channels --group-size 10 --rate "$S5_RATE" --churn "$S5_CHURN" --duration "$DURATION"
            --pub-conns 8 --conns-per-ip 2000) ;;
    S7)
      conns=$S7_CONNS
      queue=1048576
      args=(--rate "$S7_RATE" --payload-size "$S7_PAYLOAD" --slow-fraction 0.01 --duration "$DURATION")
      seconds=$((2 * ${DURATION%.*} + 10)) ;;
    *) echo "suite: unknown scenario $scn" >&2; return ;;
  esac
  local na
  na=$(not_applicable "$scn" "$srv")
  if [[ -n $na ]]; then
    meta "$base.meta" scenario "$scn" server "$srv" round "$round" status "$na"
    echo "suite: $scn $srv: ${na#n/a: }"
    return
  fi
  status=$(peer_status "$srv")
  if [[ $status != ok* ]]; then
    meta "$base.meta" scenario "$scn" server "$srv" round "$round" status "not started: peer not installed ($status)"
    echo "suite: $scn $srv: not installed"
    return
  fi
  local left=$((HARD_END - SECONDS))
  if ((left < 40)); then
    meta "$base.meta" scenario "$scn" server "$srv" round "$round" status "skipped: suite time budget (BENCH_BUDGET=$BUDGET s) used up"
    echo "suite: $scn $srv: skipped (time budget)"
    return
  fi
  if ! start_server "$srv" "$LOGS/$scn.$srv.r$round.server.log" "$queue"; then
    meta "$base.meta" scenario "$scn" server "$srv" round "$round" status "did not start: $START_ERROR"
    echo "suite: $scn $srv: did not start: $START_ERROR"
    return
  fi
  local comm
  comm=$(cat "/proc/$SERVER_PID/comm" 2>/dev/null || echo '?')
  local limit=$((RAMP_TIMEOUT + 30 + seconds + 40))
  ((limit > left - 10)) && limit=$((left - 10))
  out="$LOGS/$scn.$srv.r$round.loadgen.txt"
  printf 'suite: %-7s %-14s %sport %s pid %s (%s) ... ' "$scn" "$srv" "$([[ $REPEAT -gt 1 ]] && echo "round $round ")" \
    "$PORT" "$SERVER_PID" "$comm"
  timeout -k 5 "$limit" "${NICE[@]}" "$LOADGEN" --port "$PORT" --api-key "$API_KEY" --server-pid "$SERVER_PID" \
    --protocol "$PROTO" --connections "$conns" "${PACE[@]}" \
    --label "$scn.$srv" --json-out "$base.json" --quiet "${args[@]}" > "$out" 2>&1 || rc=$?
  local alive=true
  kill -0 "$SERVER_PID" 2>/dev/null || alive=false
  stop_server
  if [[ $rc -eq 0 ]]; then
    status=ok
  elif [[ $rc -eq 124 || $rc -eq 137 ]]; then
    status="loadgen killed after $limit s (timeout)"
  else
    status="loadgen exited with $rc$([[ $alive == false ]] && echo '; the server died')"
  fi
  meta "$base.meta" scenario "$scn" server "$srv" round "$round" status "$status" protocol "$PROTO" port "$PORT" \
    comm "$comm" server_alive_after "$alive" server_stop_s "$STOP_S"
  echo "$status"
  local lines
  case $scn in
    S1*) lines='^\s+(connections|server RSS|  +[0-9.]+ MB after|kernel slab|machine)' ;;
    S2*) lines='^\s+(connections|handshakes|latency|server CPU|loadgen CPU|machine)' ;;
    S5) lines='^\s+(connections|deliveries|throughput|latency|sessions|server RSS/s|server CPU|machine)' ;;
    S7) lines='^\s+(connections|deliveries|latency|healthy|slow|  +(latency with|their streams)|server RSS/s|machine)' ;;
    *) lines='^\s+(connections|deliveries|throughput|latency|server CPU|loadgen CPU|machine)' ;;
  esac
  grep -E "$lines" "$out" | sed 's/^/    /' | head -n 10
}

echo "suite: servers: $SERVERS; scenarios: $SCENARIOS; $REPEAT round(s); budget ${BUDGET} s; logs in $LOGS"
for scn in $SCENARIOS; do
  for round in $(seq "$REPEAT"); do
    for srv in $SERVERS; do
      run_one "$scn" "$srv" "$round"
    done
  done
done
ELAPSED=$((SECONDS - T0))

# ---- summary ----
STATUS_JSON="$TMP/servers.json"
{
  args=()
  for srv in $SERVERS; do args+=("$srv" "$(peer_status "$srv")"); done
  python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[0::2], a[1::2]))))' "${args[@]}"
} > "$STATUS_JSON"
MACHINE="$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r), loopback only, server and load generator on the same machine"
python3 "$HERE/summarize.py" --runs "$RUNS" --servers-json "$STATUS_JSON" --machine "$MACHINE" \
  --command "bench/suite.sh (servers: $SERVERS; scenarios: $SCENARIOS; BENCH_REPEAT=$REPEAT BENCH_DURATION=$DURATION BENCH_IDLE=$IDLE BENCH_WINDOW=$WINDOW BENCH_S2_PENDING=$S2_PENDING BENCH_S5_CONNS=$S5_CONNS BENCH_S5_RATE=$S5_RATE BENCH_S5_CHURN=$S5_CHURN BENCH_S7_CONNS=$S7_CONNS BENCH_S7_RATE=$S7_RATE BENCH_S7_PAYLOAD=$S7_PAYLOAD BENCH_NICE=${BENCH_NICE:-})" \
  --stamp "$STAMP" --elapsed "$ELAPSED" --order "$SERVERS" --repeat "$REPEAT" \
  --out-json "$RESULTS/suite-$STAMP.json" --out-md "$RESULTS/suite-$STAMP.md" || exit 1
cp "$RESULTS/suite-$STAMP.json" "$RESULTS/latest.json"
cp "$RESULTS/suite-$STAMP.md" "$RESULTS/latest.md"

# ---- plots (optional: matplotlib in a venv of its own, never system-wide) ----
if [[ ${BENCH_PLOTS:-1} != 0 ]]; then
  PLOT_VENV="$PEERS/plot-venv"
  if [[ ! -f "$PLOT_VENV/.installed" || "$HERE/requirements.txt" -nt "$PLOT_VENV/.installed" ]] && [[ -z "${BENCH_SKIP_INSTALL:-}" ]]; then
    echo "suite: installing matplotlib into $PLOT_VENV (bench/requirements.txt)"
    rm -rf "$PLOT_VENV"
    mkdir -p "$PEERS/logs"
    if { python3 -m venv "$PLOT_VENV" && timeout 600 "$PLOT_VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"; } > "$PEERS/logs/plot-venv.log" 2>&1; then
      touch "$PLOT_VENV/.installed"
    else
      echo "suite: matplotlib could not be installed (see $PEERS/logs/plot-venv.log); no plots"
    fi
  fi
  if [[ -x "$PLOT_VENV/bin/python" ]] && "$PLOT_VENV/bin/python" -c 'import matplotlib' 2>/dev/null; then
    timeout 120 "$PLOT_VENV/bin/python" "$HERE/plot.py" "$RESULTS/suite-$STAMP.json" --out-prefix "$RESULTS/suite-$STAMP" \
      --latest-prefix "$RESULTS/latest" || echo "suite: plotting failed"
  fi
fi
echo
cat "$RESULTS/latest.md"
echo
echo "suite: wrote $RESULTS/latest.json and latest.md (also suite-$STAMP.*); measuring took ${ELAPSED} s"
