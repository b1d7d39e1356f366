#!/usr/bin/env bash
# Entry point of `make bench` (Makefile: bench/run.sh BUILD_DIR).
#   default            bench/suite.sh: instant and every peer, S4/S3/S1, ~10 min (+ peers' first install)
#   BENCH_SUITE=fanout bench/fanout.sh: instant only, 9k-subscriber latency + saturation, ~1 min
#   BENCH_SUITE=redis  bench/redis.sh: 5 nodes on one Redis, 95k subscribers, ~3 min
#   BENCH_SUITE=soak   bench/soak.sh: 10k connections with churn for SOAK_SECONDS (600), RSS/fd growth (`make soak`)
#   BENCH_SUITE=api    bench/api.sh: S6, the HTTP publish and batch API with wrk, instant and Centrifugo v6, ~1 min
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
case ${BENCH_SUITE:-suite} in
  suite) exec "$HERE/suite.sh" "$@" ;;
  fanout) exec "$HERE/fanout.sh" "$@" ;;
  redis) exec "$HERE/redis.sh" "$@" ;;
  api) exec "$HERE/api.sh" "$@" ;;
  soak) exec "$HERE/soak.sh" "$@" ;;
  *) echo "bench/run.sh: BENCH_SUITE must be suite, fanout, redis, api or soak" >&2; exit 2 ;;
esac
