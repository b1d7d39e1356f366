#!/usr/bin/env bash
# Several nodes on one Redis (issue 7): BENCH_NODES instant nodes (default 5) with engine "redis"
# on a throw-away redis-server, BENCH_CONNECTIONS subscribers (default 95,000) spread round-robin
# over the nodes, publishing through node 1's API. Prints the load generator's table (deliveries/s,
# latency, loss) and each node's CPU and RSS. Loopback only; bounded; stops everything it started.
#
#   bench/redis.sh BUILD_DIR        (BENCH_SUITE=redis make bench)
#
# Knobs: BENCH_NODES (5), BENCH_CONNECTIONS (95000), BENCH_DURATION (10), BENCH_RATE (0 = saturate),
# BENCH_WINDOW (16), BENCH_NICE (as in fanout.sh).
set -euo pipefail
BUILD_DIR=$(cd "${1:?usage: bench/redis.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
NODES=${BENCH_NODES:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-95000}
DURATION=${BENCH_DURATION:-10}
RATE=${BENCH_RATE:-0}
WINDOW=${BENCH_WINDOW:-16}
TMP=$(mktemp -d /tmp/instant-bench-redis.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p; for p in $(seq "$1" $(($1 + 200))); do port_free "$p" && { echo "$p"; return; }; done; echo "bench: no free port near $1" >&2; exit 1; }

REDIS_PORT=$(free_port 16500)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" > "$TMP/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

API_KEY="bench-$RANDOM$RANDOM"
PORTS=()
NODE_PIDS=()
next=18600
for n in $(seq "$NODES"); do
  port=$(free_port "$next"); next=$((port + 1))
  cat > "$TMP/node$n.json" <<JSON
{"api_key": "$API_KEY", "engine": "redis", "redis_address": "127.0.0.1:$REDIS_PORT", "name": "node$n",
 "allow_anonymous_connect_without_token": true, "allow_subscribe_for_anonymous": true,
 "allow_subscribe_for_client": true, "client_queue_max_size": 16777216, "log_level": "warn", "workers": 1}
JSON
  "$BUILD_DIR/instant" --config "$TMP/node$n.json" --port "$port" > "$TMP/node$n.log" 2>&1 &
  PIDS+=($!); NODE_PIDS+=($!); PORTS+=("$port")
done
for port in "${PORTS[@]}"; do "$BUILD_DIR/instant-loadgen" --wait-health 10 --port "$port"; done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A before
for p in "${NODE_PIDS[@]}"; do before[$p]=$(cpu_ticks "$p"); done
SUB_PORTS=$(IFS=,; echo "${PORTS[*]}")
echo "bench: $NODES nodes on Redis :$REDIS_PORT, $CONNECTIONS subscribers over ports $SUB_PORTS"
timeout -k 5 300 "$BUILD_DIR/instant-loadgen" --port "${PORTS[0]}" --sub-ports "$SUB_PORTS" --api-key "$API_KEY" \
  --connections "$CONNECTIONS" --duration "$DURATION" --rate "$RATE" --window "$WINDOW" \
  --ramp-timeout 200 --connect-rate 3000 --label "redis-${NODES}nodes" --md-out "$TMP/rows.md" --json-out "$TMP/run.json"
HZ=$(getconf CLK_TCK)
echo
cat "$TMP/rows.md"
echo
echo "| node | port | CPU s during the run | RSS KB |"
echo "|---|---|---|---|"
i=0
for p in "${NODE_PIDS[@]}"; do
  after=$(cpu_ticks "$p")
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")
  awk -v a="${before[$p]}" -v b="$after" -v hz="$HZ" -v n="node$((i + 1))" -v port="${PORTS[$i]}" -v rss="$rss" \
    'BEGIN { printf "| %s | %s | %.2f | %s |\n", n, port, (b - a) / hz, rss }'
  i=$((i + 1))
done
cp "$TMP/run.json" "$HERE/results/redis-$(date -u +%Y%m%d-%H%M%S).json"
