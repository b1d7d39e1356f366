#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS seconds on its committed corpus (a copy of it, so runs do
# not churn the repository). Usage: tools/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1; seconds=$2
shopt -s nullglob
fail=0
for bin in "$build"/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  work=$(mktemp -d)
  [ -d "server/fuzz/corpus/$name" ] && cp -r "server/fuzz/corpus/$name/." "$work/"
  dict=(); [ -f "server/fuzz/$name.dict" ] && dict=(-dict="server/fuzz/$name.dict")
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" "$work" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$build/fuzz/$name-" 2>"$build/fuzz/$name.log"; then
    echo "fuzz: $name FAILED, see $build/fuzz/$name.log"; tail -40 "$build/fuzz/$name.log"; fail=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/fuzz/$name.log" | tail -2 | sed 's/^/  /'
  fi
  rm -rf "$work"
done
exit $fail
