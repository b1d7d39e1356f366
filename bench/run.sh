#!/usr/bin/env bash
# Entry point of `make bench` (Makefile: bench/run.sh BUILD_DIR).
#   default            bench/suite.sh: instant and every peer, S4/S3/S1, ~10 min (+ peers' first install)
#   BENCH_SUITE=fanout bench/fanout.sh: instant only, 9k-subscriber latency + saturation, ~1 min
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
case ${BENCH_SUITE:-suite} in
  suite) exec "$HERE/suite.sh" "$@" ;;
  fanout) exec "$HERE/fanout.sh" "$@" ;;
  *) echo "bench/run.sh: BENCH_SUITE must be suite or fanout" >&2; exit 2 ;;
esac
