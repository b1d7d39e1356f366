#!/usr/bin/env bash
# Runs every libFuzzer target on its committed corpus (a copy of it, so runs do not churn the
# repository) for SECONDS seconds, or until RUNS executions when RUNS is given (SECONDS then caps
# each target). FUZZ_TARGETS="a b" runs only those. server/fuzz/NAME.options holds extra libFuzzer
# flags for one target, one per line (# starts a comment). Usage: tools/fuzz.sh BUILD_DIR SECONDS [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1; seconds=$2; runs=${3:-}
shopt -s nullglob
fail=0
for bin in "$build"/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  work=$(mktemp -d)
  [ -d "server/fuzz/corpus/$name" ] && cp -r "server/fuzz/corpus/$name/." "$work/"
  dict=(); [ -f "server/fuzz/$name.dict" ] && dict=(-dict="server/fuzz/$name.dict")
  limit=(-max_total_time="$seconds"); [ -n "$runs" ] && limit+=(-runs="$runs")
  [ -f "server/fuzz/$name.options" ] && limit+=($(sed 's/#.*//' "server/fuzz/$name.options"))
  echo "fuzz: $name for ${seconds}s${runs:+ or $runs executions}"
  if ! "$bin" "$work" "${dict[@]}" "${limit[@]}" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/$name-" 2>"$build/fuzz/$name.log"; then
    echo "fuzz: $name FAILED, see $build/fuzz/$name.log"; tail -40 "$build/fuzz/$name.log"; fail=1
  else
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|cov:" "$build/fuzz/$name.log" | tail -3 | sed 's/^/  /'
  fi
  rm -rf "$work"
done
exit $fail
