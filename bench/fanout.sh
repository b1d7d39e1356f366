#!/usr/bin/env bash
# Fan-out benchmark: starts BUILD_DIR/instant on a free loopback port with a throw-away config,
# runs instant-loadgen against 9,000 subscribers of one channel: 2 publishes/s for latency,
# closed-loop saturation, a ladder of fixed rates at 20-80 % of that saturation, saturation on a
# channel with history and recovery, then S9 (saturation with 1 KB and 16 KB payloads). Writes
# bench/results/fanout-<date>.json and latest-fanout.md, stops the server. Bounded: every loadgen
# run is wrapped in `timeout`; the whole script takes ~2 min.
#
#   bench/fanout.sh BUILD_DIR       (instant only, ~2 min; `BENCH_SUITE=fanout make bench`)
#
# Knobs (environment): BENCH_CONNECTIONS (9000), BENCH_DURATION (10), BENCH_RATE (2),
# BENCH_WINDOW (64), BENCH_HISTORY (1; 0 skips the history run), BENCH_PAYLOADS (1; 0 skips S9), BENCH_RAMP
# ("0.2 0.4 0.6 0.8"), BENCH_PROCS (0 = auto), BENCH_PUB_CONNS (0 = auto: 4 at a fixed rate,
# = window when saturating), BENCH_PORT (first free from 18427), BENCH_NICE (unset; e.g. -19 runs the
# server and the load generator each in a new session, i.e. a new scheduler autogroup, at that nice
# level, to shield a measurement from background builds; needs root for negative values).
set -euo pipefail

BUILD_DIR=${1:?usage: bench/fanout.sh BUILD_DIR}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER="$BUILD_DIR/instant"
LOADGEN="$BUILD_DIR/instant-loadgen"
RESULTS="$HERE/results"
CONNECTIONS=${BENCH_CONNECTIONS:-9000}
DURATION=${BENCH_DURATION:-10}
RATE=${BENCH_RATE:-2}
WINDOW=${BENCH_WINDOW:-64}
PROCS=${BENCH_PROCS:-0}
PUB_CONNS=${BENCH_PUB_CONNS:-0}
API_KEY="bench-$RANDOM$RANDOM"
# With kernel.sched_autogroup_enabled the scheduler shares CPU fairly between sessions first, so a
# plain `nice` cannot win against a build running in another session: give each process its own
# session (setsid) and set that autogroup's nice too. setsid does not fork here (a background job
# of a script is no process-group leader), so $! stays the server's pid; checked below.
NICE=()
if [[ -n "${BENCH_NICE:-}" ]]; then
  NICE=(setsid -w sh -c 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$BENCH_NICE")
fi

for bin in "$SERVER" "$LOADGEN"; do
  [[ -x "$bin" ]] || { echo "bench: $bin not built" >&2; exit 1; }
done
mkdir -p "$RESULTS"
TMP=$(mktemp -d /tmp/instant-bench.XXXXXX)
SERVER_PID=""

# Stops the server: SIGTERM, then SIGKILL after 5 s. Sets STOP_S and SERVER_EXIT.
STOP_S=null
SERVER_EXIT=null
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local t0 t1
  t0=$(date +%s%N)
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "bench: server did not stop within 5 s of SIGTERM; killing it" >&2
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_EXIT=0
  wait "$SERVER_PID" 2>/dev/null || SERVER_EXIT=$?
  t1=$(date +%s%N)
  STOP_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
  SERVER_PID=""
}

cleanup() {
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${BENCH_PORT:-}
if [[ -z "$PORT" ]]; then
  for p in $(seq 18427 18527); do
    if port_free "$p"; then PORT=$p; break; fi
  done
fi
[[ -n "$PORT" ]] || { echo "bench: no free port in 18427..18527" >&2; exit 1; }

cat > "$TMP/config.json" <<EOF
{
  "api_key": "$API_KEY",
  "allow_anonymous_connect_without_token": true,
  "allow_subscribe_for_anonymous": true,
  "allow_subscribe_for_client": true,
  "client_queue_max_size": 16777216,
  "health": true,
  "log_level": "warn",
  "namespaces": [
    {"name": "history", "history_size": 100, "history_ttl": "300s", "force_recovery": true,
     "allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true}
  ]
}
EOF

echo "bench: starting $SERVER on 127.0.0.1:$PORT"
"${NICE[@]}" "$SERVER" --config "$TMP/config.json" --port "$PORT" > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
if ! "$LOADGEN" --wait-health 10 --port "$PORT"; then
  echo "bench: server did not become healthy; its log:" >&2
  tail -n 30 "$TMP/server.log" >&2 || true
  exit 1
fi
if [[ "$(cat "/proc/$SERVER_PID/comm" 2>/dev/null)" != "instant" ]]; then
  echo "bench: pid $SERVER_PID is not the server ($(cat "/proc/$SERVER_PID/comm" 2>/dev/null)); CPU figures would be wrong" >&2
  exit 1
fi

STAMP=$(date -u +%Y%m%d-%H%M%S)
MD_ROWS="$TMP/rows.md"
FAILED=0
run_scenario() {  # label, extra loadgen flags...
  local label=$1
  shift
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "bench: server is not running; skipping $label" >&2
    FAILED=1
    return
  fi
  local rc=0
  timeout -k 5 100 "${NICE[@]}" "$LOADGEN" --port "$PORT" --api-key "$API_KEY" --server-pid "$SERVER_PID" \
    --connections "$CONNECTIONS" --duration "$DURATION" --procs "$PROCS" --pub-conns "$PUB_CONNS" \
    --label "$label" --json-out "$TMP/$label.json" --md-out "$MD_ROWS" "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "bench: $label: instant-loadgen exited with $rc" >&2
    FAILED=1
  fi
  sleep 1  # let the server finish closing the previous connections
}

run_scenario "latency-${RATE}pps" --rate "$RATE"
run_scenario "saturation-w${WINDOW}" --rate 0 --window "$WINDOW"
# Latency under load (S4's "p99 at 80 % load"), as a ladder of fixed publish rates: fractions
# BENCH_RAMP ("0.2 0.4 0.6 0.8") of the saturation just measured, in publishes/s = fraction x
# deliveries/s / subscribers. The highest step with p99 <= 100 ms is the sustainable rate; the
# ladder stops climbing once a step's p99 passes 1 s (the server is behind: higher steps only queue).
SAT_PPS=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["deliveries_per_s"] / max(d["subscribed"], 1))' \
  "$TMP/saturation-w${WINDOW}.json" 2>/dev/null || echo 0)
SUSTAINABLE=""
if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "$SAT_PPS"; then
  for frac in ${BENCH_RAMP:-0.2 0.4 0.6 0.8}; do
    read -r pct rate < <(python3 -c 'import sys; f, s = float(sys.argv[1]), float(sys.argv[2]); print(round(f * 100), round(f * s, 1))' "$frac" "$SAT_PPS")
    run_scenario "load${pct}-${rate}pps" --rate "$rate"
    p99=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["p99_ms"])' "$TMP/load${pct}-${rate}pps.json" 2>/dev/null || echo 1e9)
    if python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 100 else 1)' "$p99"; then
      SUSTAINABLE="$pct % of saturation ($rate publishes/s), p99 $p99 ms"
    elif python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 1000 else 1)' "$p99"; then
      echo "bench: p99 $p99 ms at $pct % of saturation: the ladder stops here"
      break
    fi
  done
fi
# The same on a channel that keeps history with recovery on: every publish is stored first and
# every subscriber is positioned (offset checked per delivery). BENCH_HISTORY=0 skips it.
if [[ "${BENCH_HISTORY:-1}" != 0 ]]; then
  run_scenario "saturation-w${WINDOW}-history" --rate 0 --window "$WINDOW" --channel "history:bench"
fi
# S9, throughput per byte: the same saturation with 1 KB and 16 KB payloads (MB/s = deliveries/s x
# payload). Smaller windows: 64 x 16 KB in flight to 9,000 subscribers would queue ~9 GB.
if [[ "${BENCH_PAYLOADS:-1}" != 0 ]]; then
  run_scenario "saturation-1KB-w16" --rate 0 --window 16 --payload-size 1024
  run_scenario "saturation-16KB-w4" --rate 0 --window 4 --payload-size 16384
fi

SERVER_ALIVE=true
kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE=false
# Memory the server keeps once every client is gone (allocator caches included).
RSS_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo null)
stop_server
WARNINGS=$(grep -c -i -E 'warn|error' "$TMP/server.log" || true)

GIT_REV=$(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$HERE/.." status --porcelain 2>/dev/null | grep -q . && echo true || echo false)
KERNEL=$(uname -r)
CPUS=$(nproc)
JSON_OUT="$RESULTS/fanout-$STAMP.json"
{
  printf '{"benchmark":"fanout","date":"%s","git":"%s","git_dirty":%s,"kernel":"%s","cpus":%s,' \
    "$STAMP" "$GIT_REV" "$GIT_DIRTY" "$KERNEL" "$CPUS"
  printf '"server_alive_after":%s,"server_rss_idle_after_kb":%s,"server_stop_s":%s,"server_exit_code":%s,' \
    "$SERVER_ALIVE" "${RSS_IDLE_KB:-null}" "$STOP_S" "$SERVER_EXIT"
  printf '"nice":%s,"server_log_warnings":%s,"scenarios":[' "${BENCH_NICE:-0}" "${WARNINGS:-0}"
  first=1
  for f in "$TMP"/*.json; do
    [[ -f "$f" && "$f" != "$TMP/config.json" ]] || continue
    [[ $first -eq 1 ]] || printf ','
    first=0
    tr -d '\n' < "$f"
  done
  printf ']}\n'
} > "$JSON_OUT"

{
  echo "# Fan-out benchmark, $STAMP"
  echo
  echo "git \`$GIT_REV\`$([[ $GIT_DIRTY == true ]] && echo ' (uncommitted changes)'), kernel $KERNEL, $CPUS CPUs;" \
       "$CONNECTIONS subscribers of one channel, ${DURATION} s publish phase, 100 B payload, server and load generator on the same machine" \
       "(nice ${BENCH_NICE:-0})."
  echo "Raw figures: \`$(basename "$JSON_OUT")\`. How to read them: \`bench/README.md\`."
  echo
  if [[ -f "$MD_ROWS" ]]; then cat "$MD_ROWS"; else echo "(no scenario completed)"; fi
  echo
  echo "- sustainable fixed rate (highest step of the ladder with p99 <= 100 ms): ${SUSTAINABLE:-none}"
  echo "- server still running after the scenarios: $SERVER_ALIVE; RSS once all clients left: ${RSS_IDLE_KB:-?} KB;" \
       "stopped ${STOP_S} s after SIGTERM with exit code ${SERVER_EXIT}; warning/error lines in its log: ${WARNINGS:-0}"
  echo "- \`other cores\`: CPU used by other processes in the measured window; when the machine was saturated, that was taken from" \
       "the benchmark (see the run-queue waits in the JSON). Rerun on an idle machine or with BENCH_NICE=-19."
} > "$RESULTS/latest-fanout.md"

if [[ "${WARNINGS:-0}" -gt 0 ]]; then
  echo "bench: server log (first 10 warning/error lines):"
  grep -i -E 'warn|error' "$TMP/server.log" | head -n 10 || true
fi
echo
echo "bench: wrote $JSON_OUT and $RESULTS/latest-fanout.md"
cat "$RESULTS/latest-fanout.md"
exit $FAILED
