#!/usr/bin/env bash
# S6, the HTTP publish API (research/performance.md §6), for instant and Centrifugo v6 in one run:
#
#   publish-0    wrk POST /api/publish, a 100-byte payload to a channel nobody subscribes to
#   publish-1    the same to a channel with one subscriber (instant-loadgen, idle, reading)
#   batch-100    wrk POST /api/batch, 100 publish commands per request (same payload, one channel)
#
# Keep-alive, no pipelining: S6_CONNECTIONS (32) connections, one request in flight on each, one wrk
# thread (wrk shares the 2 cores with the server; its CPU is reported beside every figure).
# Figures per case: requests/s, messages/s (batch: ×100), wrk's p50/p99 (ms), server CPU µs per
# message (utime+stime of the server process over the wrk run), wrk cores.
# Before each case one request is sent with curl and its answer checked (a server that answers
# errors fast must not pass for a fast server).
#
#   bench/api.sh BUILD_DIR          (BENCH_SUITE=api bench/run.sh BUILD_DIR)
#
# Knobs: BENCH_SERVERS ("instant centrifugo-v6"; Centrifugo comes from bench/peers.sh),
# BENCH_DURATION (10 s per case), S6_CONNECTIONS (32), BENCH_NICE (as in bench/suite.sh).
# Writes bench/results/api-<UTC stamp>.{md,json}. Bounded: every wrk run is wrapped in `timeout`.
set -uo pipefail

BUILD_DIR=$(cd "${1:?usage: bench/api.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS="$HERE/peers"
RESULTS="$HERE/results"
INSTANT="$BUILD_DIR/instant"
LOADGEN="$BUILD_DIR/instant-loadgen"
SERVERS=${BENCH_SERVERS:-"instant centrifugo-v6"}
DURATION=${BENCH_DURATION:-10}
CONNS=${S6_CONNECTIONS:-32}
API_KEY="bench-$RANDOM$RANDOM"
STAMP=$(date -u +%Y%m%d-%H%M%S)
TMP=$(mktemp -d /tmp/instant-api.XXXXXX)
CLK_TCK=$(getconf CLK_TCK)

NICE=()
if [[ -n "${BENCH_NICE:-}" ]]; then
  NICE=(setsid -w sh -c 'echo "$0" > /proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"' "$BENCH_NICE")
fi
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "api: $tool is needed (make setup installs it)" >&2; exit 1; }
done
for bin in "$INSTANT" "$LOADGEN"; do
  [[ -x "$bin" ]] || { echo "api: $bin not built" >&2; exit 1; }
done
mkdir -p "$RESULTS"

SERVER_PID=""
SUB_PID=""
stop_server() {
  [[ -n "$SUB_PID" ]] && { kill "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null; SUB_PID=""; }
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${BENCH_PORT_BASE:-18627}

# The same options as bench/suite.sh: anonymous subscribe, no history, warnings-only logs.
start_server() {  # name -> SERVER_PID, PORT; or returns 1 with START_ERROR
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  case $1 in
    instant)
      cat > "$TMP/instant.json" <<EOF
{"api_key": "$API_KEY", "allow_anonymous_connect_without_token": true, "allow_subscribe_for_anonymous": true,
 "allow_subscribe_for_client": true, "client_queue_max_size": 16777216, "health": true, "log_level": "warn"}
EOF
      CMD=("$INSTANT" --config "$TMP/instant.json" --port "$PORT") ;;
    centrifugo-v6)
      [[ -x "$PEERS/bin/centrifugo" ]] || { START_ERROR="not installed (bench/peers.sh centrifugo-v6)"; return 1; }
      cat > "$TMP/centrifugo.json" <<EOF
{"http_server": {"address": "127.0.0.1", "port": $PORT}, "log": {"level": "warn"},
 "client": {"allow_anonymous_connect_without_token": true, "queue_max_size": 16777216},
 "channel": {"without_namespace": {"allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true}},
 "http_api": {"key": "$API_KEY"}, "health": {"enabled": true}, "usage_stats": {"disabled": true}}
EOF
      CMD=("$PEERS/bin/centrifugo" --config "$TMP/centrifugo.json") ;;
    *) START_ERROR="unknown server"; return 1 ;;
  esac
  "${NICE[@]}" "${CMD[@]}" > "$TMP/$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 30); do
    "$LOADGEN" --wait-health 1 --port "$PORT" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
  done
  START_ERROR="no healthy /health on port $PORT: $(tail -n 2 "$TMP/$1.log" | tr '\n' ' ' | cut -c1-200)"
  stop_server
  return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

PAYLOAD='{"ts":0,"seq":0,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}'
body_for() {  # case -> body file, S6_PATH, messages per request
  case $1 in
    publish-0) printf '{"channel":"s6-empty","data":%s}' "$PAYLOAD" > "$TMP/body"; S6_PATH=/api/publish; PER=1 ;;
    publish-1) printf '{"channel":"s6-one","data":%s}' "$PAYLOAD" > "$TMP/body"; S6_PATH=/api/publish; PER=1 ;;
    batch-100)
      python3 -c 'import json, sys; p = json.loads(sys.argv[1]); print(json.dumps({"commands": [{"publish": {"channel": "s6-batch", "data": p}}] * 100}, separators=(",", ":")))' "$PAYLOAD" > "$TMP/body"
      S6_PATH=/api/batch; PER=100 ;;
  esac
}

ROWS="$TMP/rows.jsonl"
: > "$ROWS"
row() { python3 -c 'import json, sys; a = sys.argv[1:]; print(json.dumps(dict(zip(a[0::2], a[1::2]))))' "$@" >> "$ROWS"; }

for srv in $SERVERS; do
  if ! start_server "$srv"; then
    echo "api: $srv did not start: $START_ERROR"
    row server "$srv" case all status "did not start: $START_ERROR"
    continue
  fi
  for case in publish-0 publish-1 batch-100; do
    body_for "$case"
    if [[ $case == publish-1 ]]; then
      "$LOADGEN" --port "$PORT" --connections 1 --channel s6-one --idle $((DURATION + 10)) --quiet > "$TMP/sub.txt" 2>&1 &
      SUB_PID=$!
      sleep 2  # connected and subscribed well before wrk starts (one connection)
    fi
    answer=$(curl -s -m 5 -X POST -H "X-API-Key: $API_KEY" -H 'Content-Type: application/json' \
      --data-binary "@$TMP/body" "http://127.0.0.1:$PORT$S6_PATH")
    if [[ $answer == *'"error"'* || ( $answer != *'"result"'* && $answer != *'"replies"'* ) ]]; then
      echo "api: $srv $case: the server answers ${answer:0:200}"
      row server "$srv" case "$case" status "bad answer: ${answer:0:200}"
      continue
    fi
    before=$(cpu_ticks "$SERVER_PID")
    TIMEFORMAT='%3U %3S'
    { time S6_BODY_FILE="$TMP/body" S6_PATH="$S6_PATH" S6_API_KEY="$API_KEY" timeout -k 5 $((DURATION + 30)) \
        "${NICE[@]}" wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 5s -s "$HERE/api/publish.lua" \
        "http://127.0.0.1:$PORT" > "$TMP/wrk.txt" 2>&1; } 2> "$TMP/time.txt"
    after=$(cpu_ticks "$SERVER_PID")
    line=$(grep '^S6 ' "$TMP/wrk.txt")
    if [[ -z $line ]]; then
      echo "api: $srv $case: wrk failed: $(tail -n 3 "$TMP/wrk.txt" | tr '\n' ' ')"
      row server "$srv" case "$case" status "wrk failed"
      continue
    fi
    read -r u s < "$TMP/time.txt"
    eval "${line#S6 }"  # requests= errors_status= ... (integers written by publish.lua)
    stats=$(python3 - "$requests" "$duration_us" "$PER" "$before" "$after" "$CLK_TCK" "$u" "$s" "$p50_us" "$p99_us" <<'EOF'
import sys
req, dur_us, per, before, after, tck, u, s, p50, p99 = sys.argv[1:]
req, dur, per = int(req), int(dur_us) / 1e6, int(per)
cpu_s = (int(after) - int(before)) / int(tck)
msgs = req * per
print(f"{req / dur:.0f} {msgs / dur:.0f} {int(p50) / 1000:.2f} {int(p99) / 1000:.2f} "
      f"{cpu_s * 1e6 / max(msgs, 1):.2f} {cpu_s / dur:.2f} {(float(u) + float(s)) / dur:.2f}")
EOF
)
    read -r rps mps p50 p99 us_per core wrk_cores <<< "$stats"
    errors=$((errors_status + errors_connect + errors_timeout))
    printf 'api: %-14s %-10s %9s req/s %10s msg/s  p50 %6s ms  p99 %6s ms  server %5s µs/msg (%s cores)  wrk %s cores  errors %s\n' \
      "$srv" "$case" "$rps" "$mps" "$p50" "$p99" "$us_per" "$core" "$wrk_cores" "$errors"
    row server "$srv" case "$case" status ok requests_per_s "$rps" messages_per_s "$mps" p50_ms "$p50" p99_ms "$p99" \
      server_cpu_us_per_message "$us_per" server_cores "$core" loadgen_cores "$wrk_cores" errors "$errors" connections "$CONNS"
    if [[ $case == publish-1 ]]; then kill "$SUB_PID" 2>/dev/null; wait "$SUB_PID" 2>/dev/null; SUB_PID=""; fi
  done
  stop_server
done

MACHINE="$(nproc) vCPU $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), kernel $(uname -r), loopback, server and wrk on the same machine"
python3 - "$ROWS" "$RESULTS/api-$STAMP" "$MACHINE" "bench/api.sh (BENCH_SERVERS=\"$SERVERS\" BENCH_DURATION=$DURATION S6_CONNECTIONS=$CONNS BENCH_NICE=${BENCH_NICE:-})" "$(git -C "$HERE/.." rev-parse --short HEAD)" <<'EOF'
import json, sys
rows_path, out, machine, command, commit = sys.argv[1:]
rows = [json.loads(l) for l in open(rows_path)]
results = []
for r in rows:
    for metric in ("requests_per_s", "messages_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_message", "loadgen_cores"):
        if metric in r:
            results.append({"scenario": "S6", "case": r["case"], "server": r["server"], "metric": metric,
                            "value": float(r[metric]), "status": r["status"]})
    if r["status"] != "ok":
        results.append({"scenario": "S6", "case": r["case"], "server": r["server"], "metric": "messages_per_s",
                        "value": None, "status": r["status"]})
json.dump({"machine": machine, "command": command, "git": commit, "results": results, "runs": rows},
          open(out + ".json", "w"), indent=1)
servers = list(dict.fromkeys(r["server"] for r in rows))
base = {r["case"]: r for r in rows if r["server"] == "instant" and r["status"] == "ok"}
lines = [f"S6 HTTP API — {machine}; `{command}`, git {commit}", "",
         "| case | figure | " + " | ".join(servers) + " |", "|---|---|" + "---|" * len(servers)]
for case in ("publish-0", "publish-1", "batch-100"):
    for label, key in (("messages/s", "messages_per_s"), ("p99 ms", "p99_ms"),
                       ("server CPU µs/message", "server_cpu_us_per_message"), ("wrk cores", "loadgen_cores")):
        cells = []
        for s in servers:
            r = next((x for x in rows if x["server"] == s and x["case"] in (case, "all")), None)
            if r is None or r["status"] != "ok":
                cells.append(r["status"][:60] if r else "n/a")
                continue
            v = float(r[key])
            cell = f"{v:,.0f}" if key == "messages_per_s" else f"{v:.2f}"
            if s != "instant" and case in base and key != "loadgen_cores" and float(base[case][key]) > 0:
                cell += f" (×{v / float(base[case][key]):.2g})"
            cells.append(cell)
        lines.append(f"| {case} | {label} | " + " | ".join(cells) + " |")
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
echo "api: wrote $RESULTS/api-$STAMP.md and .json"
