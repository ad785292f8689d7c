#!/usr/bin/env bash
# Long fuzz runs toward the issue's 10M executions per target (tests/README.md,
# "Fuzzing"): each target in turn, one at a time, under `nice -n 19` so that
# it takes only idle CPU, from its kept corpus; then the new inputs that add
# coverage are merged into tests/fuzz/corpus/<target> (-merge=1 keeps only
# those), and each target's runs, CPU seconds and outcome are printed.
# A crash leaves its input in $build/fuzz-artifacts and fails the script.
#   FUZZ_SECONDS=600 scripts/fuzz-long.sh BUILD_DIR [TARGET...]
set -euo pipefail
build=${1:?usage: scripts/fuzz-long.sh BUILD_DIR [TARGET...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${FUZZ_SECONDS:-600}
artifacts=$build/fuzz-artifacts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifacts"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$root"/tests/fuzz/fuzz_*.cc; do targets+=("$(basename "$src" .cc)"); done
fi

failed=0
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/$t
  kept=$root/tests/fuzz/corpus/$t
  [ -x "$bin" ] || { echo "$t: not built in $build"; failed=1; continue; }
  mkdir -p "$work/$t"
  before=$(ls "$kept" | wc -l)
  status=ok
  # As scripts/fuzz.sh, but -timeout is wall time and a nice 19 process on a
  # busy machine may wait seconds for a core (a 0.2 CPU-s input timed out at
  # 25 s here), so it is 600 s. New inputs go to the scratch dir only.
  if ! UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
      /usr/bin/time -f '%U %S' -o "$work/$t.cpu" nice -n 19 "$bin" -max_total_time="$seconds" -max_len=8192 \
      -rss_limit_mb=2048 -timeout=600 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
      "$work/$t" "$kept" > "$work/$t.log" 2>&1; then
    status=FAILED
    failed=1
    tail -60 "$work/$t.log"
  fi
  nice -n 19 "$bin" -merge=1 -max_len=8192 -rss_limit_mb=2048 -timeout=600 "$kept" "$work/$t" > "$work/$t.merge" 2>&1 ||
    { echo "$t: merge failed"; tail -20 "$work/$t.merge"; failed=1; }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t.log" | grep -o '[0-9]*$' || echo '?')
  echo "$t: $status, $runs runs in ${seconds} s wall, $(tail -1 "$work/$t.cpu" | awk '{ printf "%.0f", $1 + $2 }') CPU-s," \
    "corpus $before -> $(ls "$kept" | wc -l) inputs ($(du -s --apparent-size -k "$kept" | cut -f1) KB)"
done
exit $failed
