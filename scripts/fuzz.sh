#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for FUZZ_SECONDS each, two at a
# time, from its kept corpus (tests/fuzz/corpus/<target>, read only: new
# inputs go to a scratch copy). Fails when a target finds a crash, a leak or
# undefined behaviour; the input is left in $FUZZ_ARTIFACTS.
#   scripts/fuzz.sh BUILD_DIR   (configured with CC=clang CXX=clang++ -DCORRAL_FUZZ=ON)
set -euo pipefail
build=${1:?usage: scripts/fuzz.sh BUILD_DIR}
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
# FUZZ_WORK: keep the grown corpora there (for merging into the kept ones).
if [ -n "${FUZZ_WORK:-}" ]; then
  work=$FUZZ_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$artifacts"

targets=()
for src in "$root"/tests/fuzz/fuzz_*.cc; do targets+=("$(basename "$src" .cc)"); done

run_one() {
  local t=$1 log="$work/$1.log"
  mkdir -p "$work/corpus-$t"
  # -max_len: the seeds are small, the decoders' interesting cases too.
  if UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
      "$build/tests/fuzz/$t" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -timeout=25 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
      "$work/corpus-$t" "$root/tests/fuzz/corpus/$t" > "$log" 2>&1; then
    echo "$t: ok, $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${seconds}s"
  else
    echo "$t: FAILED (log below; input in $artifacts)"
    tail -60 "$log"
    return 1
  fi
}

failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/$t" ] || { echo "$t: not built in $build"; failed=1; continue; }
  run_one "$t" > "$work/$t.out" 2>&1 &
  pids+=($!)
  names+=("$t")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    cat "$work/${names[0]}.out"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
  cat "$work/${names[$i]}.out"
done
exit $failed
