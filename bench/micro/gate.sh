#!/usr/bin/env bash
# Instruction-count gate for the hub fan-out step (README.md, "The gate").
#
#   bench/micro/gate.sh BUILD_DIR            compare with baseline.txt; exit 1 on a regression
#   bench/micro/gate.sh BUILD_DIR --update   measure and rewrite baseline.txt
#
# Runs BUILD_DIR/instant-fanout-instr (1,000 subscribers, 20 warm-up then 200 measured
# Hub::Deliver calls) under callgrind, counting instructions (Ir) only inside the measured calls
# (--toggle-collect on InstantFanoutMeasured). The count is deterministic for a given binary, so
# the tolerance is not for noise: it absorbs small code-generation shifts (another compiler
# release, an inlining decision moving a few instructions) while still catching a change to the
# per-subscriber loop. At about 63 instructions per subscriber, one instruction more per
# subscriber is +1.6 %; a real regression (an extra call, a branch, a refcount, an allocation per
# subscriber) is +5 % or more. Hence ±3 %: fail above +3 %, and below -3 % pass but ask for the
# baseline to be refreshed, so that later regressions are measured from the new level.
# Also fails if the measured calls allocate at all (the hub's contract: no allocation per
# delivery).
set -euo pipefail

readonly kSubscribers=1000 kDeliveries=200 kWarmUp=20 kTolerancePercent=3

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
baseline_file="$here/baseline.txt"

usage() { echo "usage: $0 BUILD_DIR [--update]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
build="$1"
update=0
if [[ $# -eq 2 ]]; then
  [[ "$2" == "--update" ]] || usage
  update=1
fi

driver="$build/instant-fanout-instr"
if ! command -v valgrind >/dev/null; then
  echo "gate: valgrind is not installed (apt-get install valgrind; it is in the Makefile's APT_PACKAGES)" >&2
  exit 2
fi
if [[ ! -x "$driver" ]]; then
  echo "gate: $driver not found: build it (make build, or cmake --build $build --target instant-fanout-instr)" >&2
  exit 2
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)"
if [[ "$build_type" != "Release" ]]; then
  echo "gate: $build is a '${build_type:-unknown}' build; the baseline is for Release (make build)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
valgrind --tool=callgrind --collect-atstart=no --toggle-collect=InstantFanoutMeasured \
  --callgrind-out-file="$tmp/callgrind.out" "$driver" "$kSubscribers" "$kDeliveries" "$kWarmUp" \
  >"$tmp/driver.txt" 2>"$tmp/valgrind.txt" || {
  echo "gate: the driver failed under valgrind:" >&2
  cat "$tmp/driver.txt" "$tmp/valgrind.txt" >&2
  exit 2
}
elapsed=$((SECONDS - start))

field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$tmp/driver.txt"; }
allocations="$(field allocations)"
deliveries="$(field deliveries)"
total_ir="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$tmp/callgrind.out")"
if [[ -z "$total_ir" || -z "$deliveries" || "$deliveries" -eq 0 ]]; then
  echo "gate: could not read the instruction count (driver said: $(cat "$tmp/driver.txt"))" >&2
  exit 2
fi
per_delivery=$((total_ir / deliveries))
per_subscriber="$(awk -v d="$per_delivery" -v n="$kSubscribers" 'BEGIN { printf "%.1f", d / n }')"
echo "gate: $kDeliveries deliveries to $kSubscribers subscribers in ${elapsed}s under callgrind"
echo "gate: measured $per_delivery Ir per delivery ($per_subscriber per subscriber), allocations $allocations"

if [[ $update -eq 1 ]]; then
  compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")"
  cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  {
    echo "# Ir (callgrind instructions) per Hub::Deliver of one publication to $kSubscribers subscribers:"
    echo "# instant-fanout-instr $kSubscribers $kDeliveries $kWarmUp, counted by bench/micro/gate.sh."
    echo "# Made $(date -u +%Y-%m-%d) with 'bench/micro/gate.sh $build --update' on $(uname -m) ($cpu),"
    echo "# $("${compiler:-c++}" --version | head -1), CMAKE_BUILD_TYPE=$build_type, $(valgrind --version)."
    echo "$per_delivery"
  } >"$baseline_file"
  echo "gate: wrote $baseline_file"
  exit 0
fi

baseline="$(grep -v '^#' "$baseline_file" | grep -m1 -o '^[0-9]\+' || true)"
if [[ -z "$baseline" ]]; then
  echo "gate: no baseline in $baseline_file (make one: $0 $build --update)" >&2
  exit 2
fi
ratio="$(awk -v m="$per_delivery" -v b="$baseline" 'BEGIN { printf "%.4f", m / b }')"
echo "gate: baseline $baseline Ir per delivery; ratio $ratio (tolerance ±$kTolerancePercent %)"
status=0
if [[ "$allocations" != "0" ]]; then
  echo "gate: FAIL: the measured deliveries allocated $allocations times (expected none)"
  status=1
fi
verdict="$(awk -v r="$ratio" -v t="$kTolerancePercent" \
  'BEGIN { if (r > 1 + t / 100) print "worse"; else if (r < 1 - t / 100) print "better"; else print "same" }')"
case "$verdict" in
  worse)
    echo "gate: FAIL: more than $kTolerancePercent % above the baseline"
    status=1 ;;
  better)
    echo "gate: NOTICE: more than $kTolerancePercent % below the baseline. If this is intended, refresh it:"
    echo "gate:   bench/micro/gate.sh $build --update   (and commit bench/micro/baseline.txt)" ;;
  *)
    echo "gate: OK" ;;
esac
exit $status
