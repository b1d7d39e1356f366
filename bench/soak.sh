#!/usr/bin/env bash
# Soak test (issue 8): does instant stay flat under hours-like churn? Starts BUILD_DIR/instant
# (memory engine, the suite's options) on a free loopback port, then instant-loadgen in channels
# mode for SECONDS: SOAK_CONNECTIONS connections over SOAK_PROCS processes, each on a group channel
# of 10 and its own channel, SOAK_CHURN of them leaving and reconnecting every second, SOAK_RATE
# publishes/s through the HTTP API to random channels. Every second the server's VmRSS
# (/proc/PID/status), open fds (/proc/PID/fd) and CPU go into bench/results/soak-<stamp>.csv.
# At the end it prints RSS and fds after the warm-up vs at the end, their maximum and their growth
# per minute (least-squares line over the samples after the warm-up), the warn/error lines of the
# server's log, and the load generator's loss (per session: bench/loadgen/session_accounting.h);
# the same goes to soak-<stamp>.md (and latest-soak.md), the load generator's JSON to
# soak-<stamp>.json.
#
#   bench/soak.sh BUILD_DIR [SECONDS]          (default SECONDS: $SOAK_SECONDS or 600)
#   SOAK_SECONDS=60 bench/soak.sh build        (a one-minute check)
#
# Knobs: SOAK_CONNECTIONS (10000), SOAK_PROCS (2), SOAK_RATE (500), SOAK_CHURN (0.02),
# SOAK_WARMUP (seconds after the load generator started, default min(60, SECONDS / 3)), SOAK_PORT.
# Bounded: the load generator runs under `timeout` (SECONDS + ramp + 120 s), the sampler stops with
# it, the server is stopped (SIGTERM, SIGKILL after 5 s); everything started here is killed on
# exit. Loopback only. Exit status: 0 when the load generator completed and the server survived.
set -uo pipefail

BUILD_DIR=${1:?usage: bench/soak.sh BUILD_DIR [SECONDS]}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
DURATION=${2:-${SOAK_SECONDS:-600}}
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS="$HERE/results"
SERVER="$BUILD_DIR/instant"
LOADGEN="$BUILD_DIR/instant-loadgen"
CONNECTIONS=${SOAK_CONNECTIONS:-10000}
PROCS=${SOAK_PROCS:-2}
RATE=${SOAK_RATE:-500}
CHURN=${SOAK_CHURN:-0.02}
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 10 ]] || { echo "soak: SECONDS must be an integer >= 10" >&2; exit 2; }
WARMUP=${SOAK_WARMUP:-$((DURATION / 3 < 60 ? DURATION / 3 : 60))}
API_KEY="soak-$RANDOM$RANDOM"
STAMP=$(date -u +%Y%m%d-%H%M%S)
CSV="$RESULTS/soak-$STAMP.csv"
JSON="$RESULTS/soak-$STAMP.json"
MD="$RESULTS/soak-$STAMP.md"

for bin in "$SERVER" "$LOADGEN"; do
  [[ -x "$bin" ]] || { echo "soak: $bin not built" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "soak: python3 is needed for the summary" >&2; exit 1; }
mkdir -p "$RESULTS"
TMP=$(mktemp -d /tmp/instant-soak.XXXXXX)
SERVER_PID=""
SAMPLER_PID=""
LOADGEN_PID=""
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  [[ -z "$LOADGEN_PID" ]] || kill -TERM "$LOADGEN_PID" 2>/dev/null || true
  [[ -z "$SAMPLER_PID" ]] || kill -TERM "$SAMPLER_PID" 2>/dev/null || true
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${SOAK_PORT:-}
if [[ -z "$PORT" ]]; then
  for p in $(seq 18700 18800); do
    if port_free "$p"; then PORT=$p; break; fi
  done
fi
[[ -n "$PORT" ]] || { echo "soak: no free port in 18700..18800" >&2; exit 1; }

cat > "$TMP/config.json" <<EOF
{"api_key": "$API_KEY", "engine": "memory", "allow_anonymous_connect_without_token": true,
 "allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true,
 "client_queue_max_size": 16777216, "health": true, "log_level": "warn"}
EOF
"$SERVER" --config "$TMP/config.json" --port "$PORT" > "$TMP/server.log" 2>&1 &
SERVER_PID=$!
if ! "$LOADGEN" --wait-health 10 --port "$PORT"; then
  echo "soak: the server did not become healthy; its log:" >&2
  tail -n 20 "$TMP/server.log" >&2
  exit 1
fi

# ---- sampler: one CSV line a second while the server lives (and at most DURATION + 300 s) ----
HZ=$(getconf CLK_TCK)
T_START=$EPOCHREALTIME
since_start() { awk -v a="$EPOCHREALTIME" -v b="$T_START" 'BEGIN { printf "%.1f", a - b }'; }
echo "t_s,rss_kb,fds,cpu_s" > "$CSV"
(
  end=$(( $(date +%s) + DURATION + 300 ))
  while kill -0 "$SERVER_PID" 2>/dev/null && (( $(date +%s) < end )); do
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null)
    fds=$(ls "/proc/$SERVER_PID/fd" 2>/dev/null | wc -l)
    cpu=$(awk -v hz="$HZ" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$SERVER_PID/stat" 2>/dev/null)
    [[ -n "$rss" ]] && echo "$(since_start),$rss,$fds,$cpu" >> "$CSV"
    sleep 1
  done
) &
SAMPLER_PID=$!

# ---- load ----
echo "soak: instant pid $SERVER_PID on 127.0.0.1:$PORT; $CONNECTIONS connections ($PROCS processes), $RATE publishes/s," \
     "churn $CHURN/s, ${DURATION} s; warm-up ${WARMUP} s; samples -> $CSV"
RAMP=$(( CONNECTIONS / 2000 + 30 ))
LG_START=$(since_start)
timeout -k 10 $((DURATION + RAMP + 120)) "$LOADGEN" --mode channels --port "$PORT" --api-key "$API_KEY" \
  --server-pid "$SERVER_PID" --connections "$CONNECTIONS" --procs "$PROCS" --group-size 10 --rate "$RATE" \
  --churn "$CHURN" --duration "$DURATION" --pub-conns 8 --conns-per-ip 2000 --ramp-timeout "$RAMP" \
  --label soak --json-out "$JSON" --quiet > "$TMP/loadgen.txt" 2>&1 &
LOADGEN_PID=$!
wait "$LOADGEN_PID"
LG_RC=$?
LOADGEN_PID=""
LG_END=$(since_start)
SERVER_ALIVE=true
kill -0 "$SERVER_PID" 2>/dev/null || SERVER_ALIVE=false
sleep 1.5  # one more sample with every client gone
kill -TERM "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
stop_server
grep -E '^\s+(connections|publishes|deliveries|latency|sessions|server CPU|machine)' "$TMP/loadgen.txt" | cut -c1-220

# ---- summary ----
GIT_REV=$(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$CSV" "$JSON" "$TMP/server.log" "$MD" "$LG_START" "$LG_END" "$WARMUP" "$LG_RC" "$SERVER_ALIVE" \
  "soak $DURATION s, $CONNECTIONS connections, $RATE publishes/s, churn $CHURN/s, git $GIT_REV" <<'PY'
import csv, json, re, sys

csv_path, json_path, log_path, md_path, lg_start, lg_end, warmup, rc, alive, what = sys.argv[1:]
lg_start, lg_end, warmup = float(lg_start), float(lg_end), float(warmup)
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(csv_path))]
during = [r for r in rows if lg_start + warmup <= r["t_s"] <= lg_end]
out = [f"# Soak: {what}", ""]


def fit(points):
    """Least-squares slope of (minute, value) points, per minute."""
    n = len(points)
    if n < 3:
        return None
    sx = sum(x for x, _ in points); sy = sum(y for _, y in points)
    sxx = sum(x * x for x, _ in points); sxy = sum(x * y for x, y in points)
    d = n * sxx - sx * sx
    return (n * sxy - sx * sy) / d if d else None


if not during:
    out.append(f"no samples after the {warmup:.0f} s warm-up (the load generator ran {lg_end - lg_start:.0f} s)")
else:
    first, last = during[0], during[-1]
    out.append(f"{len(rows)} samples (1/s) in `{csv_path.split('/')[-1]}`; {len(during)} after the warm-up "
               f"({warmup:.0f} s after the load started), until the load generator stopped.")
    out.append("")
    out.append("| figure | after warm-up | at the end | max | growth per minute (fit) |")
    out.append("|---|---|---|---|---|")
    for key, label, scale, unit in (("rss_kb", "server RSS", 1 / 1024, "MB"), ("fds", "open fds", 1, "")):
        slope = fit([(r["t_s"] / 60, r[key]) for r in during])
        mx = max(r[key] for r in during)
        fmt = (lambda v: f"{v * scale:.1f} {unit}") if unit else (lambda v: f"{v:.0f}")
        growth = "–" if slope is None else (f"{slope * scale:+.2f} {unit}/min" if unit else f"{slope:+.1f}/min")
        pct = f" ({100 * slope / first[key]:+.2f} %/min)" if slope is not None and first[key] else ""
        out.append(f"| {label} | {fmt(first[key])} | {fmt(last[key])} | {fmt(mx)} | {growth}{pct} |")
    cpu = last["cpu_s"] - first["cpu_s"]
    span = last["t_s"] - first["t_s"]
    out.append(f"| server CPU | | | | {cpu / span:.2f} cores on average |" if span > 0 else "")
    after = [r for r in rows if r["t_s"] > lg_end]
    if after:
        out.append(f"\nOnce every client was gone: RSS {after[-1]['rss_kb'] / 1024:.1f} MB, {after[-1]['fds']:.0f} fds.")
lg = None
try:
    lg = json.loads(open(json_path).read())
except (OSError, ValueError):
    pass
out.append("")
if lg:
    out.append(f"Load: {lg.get('subscribed')}/{lg.get('connections')} connected, {lg.get('sessions')} sessions "
               f"({lg.get('leaves')} left by churn, {lg.get('reconnects')} reconnected, {lg.get('reconnect_failures')} "
               f"reconnects failed), {lg.get('publishes_acked')} of {lg.get('publishes_sent')} publishes acked, "
               f"{lg.get('publish_api_errors')} API errors.  ")
    out.append(f"Deliveries: {lg.get('deliveries_received')} received, {lg.get('deliveries_expected')} expected by "
               f"their sessions, **lost {lg.get('lost')} ({lg.get('loss_pct', 0):.4f} %)**, {lg.get('duplicates')} "
               f"duplicates; latency p50 {lg.get('p50_ms', 0):.1f} ms, p99 {lg.get('p99_ms', 0):.1f} ms, "
               f"max {lg.get('max_ms', 0):.1f} ms; other processes {lg.get('other_cores') or 0:.2f} cores.")
else:
    out.append("The load generator wrote no report.")
if rc != "0":
    out.append(f"\n**The load generator exited with {rc}.**")
if alive != "true":
    out.append("\n**The server died during the soak.**")
lines = open(log_path, errors="replace").read().splitlines()
bad = [l for l in lines if re.search(r"\b(warn|warning|error|fatal)\b", l, re.I)]
out.append(f"\nServer log: {len(lines)} lines, {len(bad)} at level warn/error" + (":" if bad else "."))
for l in bad[:20]:
    out.append(f"    {l[:200]}")
if len(bad) > 20:
    out.append(f"    ... {len(bad) - 20} more")
text = "\n".join(out) + "\n"
open(md_path, "w").write(text)
print()
print(text)
PY
cp "$MD" "$RESULTS/latest-soak.md"
echo "soak: wrote $CSV, $JSON, $MD"
[[ $LG_RC -eq 0 && $SERVER_ALIVE == true ]]
