#!/usr/bin/env bash
# What CI runs after `make test` (`make ci-sanitize`; tests/README.md, "CI"):
# the part of the sanitizer and fuzz runs that fits CI's budget on a cold
# 2-core machine, each step timed so that the budget can be watched.
#   1. clang's packages (scripts/install-deps.sh --sanitize)
#   2. an ASan+UBSan+coverage build of the fuzz targets (and so of every
#      library they decode with), the fuzz regression tests and the simulator
#   3. those regression tests and a short simulation under ASan+UBSan
#   4. every fuzz target CI_FUZZ_SECONDS from its kept corpus
#   5. a gcc TSan build of the client, net and agent unit tests, and their run
# Left to `make sanitize` (every unit test, a few integration tests),
# `make tsan` (server_tests, integration) and `make fuzz`: the ASan build of
# all unit test binaries alone is ~16 min on an idle 2-core machine
# (tests/README.md, "CI"), more than CI's whole share.
#   scripts/ci-sanitize.sh ASAN_BUILD TSAN_BUILD
set -euo pipefail
asan_build=${1:?usage: scripts/ci-sanitize.sh ASAN_BUILD TSAN_BUILD}
tsan_build=${2:?usage: scripts/ci-sanitize.sh ASAN_BUILD TSAN_BUILD}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-2}
# 5 s: the kept corpus is replayed and a little mutated; long runs are by hand.
fuzz_seconds=${CI_FUZZ_SECONDS:-5}

# The decoders' own unit tests that cost one translation unit each (api,
# schema); raft, storage and kv's (30 more, ~4 min here) do not fit.
asan_targets=(corral_fuzz fuzz_found_tests api_tests schema_tests corral-sim)
asan_executables=(fuzz_found/fuzz_found_tests api/api_tests schema/schema_tests)
# sanitize/server_threads_tests: the storage writer, password worker and log
# writer threads, built from their sources alone (tests/sanitize/CMakeLists.txt).
tsan_executables=(client/client_tests net/net_tests agent_fetch/agent_fetch_tests
  agent_source/agent_source_tests agent_sink/agent_sink_tests sanitize/server_threads_tests)

timings=()
# CPU seconds (user+sys) of every finished child so far, into $cpu, from
# bash's `times` (run in this shell, not a subshell, whose children are its
# own): on a shared machine wall time says little, CPU time / 2 cores more.
cpu_file=$(mktemp)
children_cpu() {
  times > "$cpu_file"
  cpu=$(awk 'END { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%d", n }' "$cpu_file")
}
step() {
  local name=$1; shift
  local start=$SECONDS cpu_start
  children_cpu; cpu_start=$cpu
  echo "== ci-sanitize: $name"
  "$@"
  children_cpu
  timings+=("$(printf '%-52s %5d s wall %6d CPU-s' "$name" $((SECONDS - start)) $((cpu - cpu_start)))")
}
report() {
  echo "== ci-sanitize step times (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  local t
  for t in "${timings[@]}"; do echo "  $t"; done
}
trap report EXIT

asan_configure_and_build() {
  CC=clang CXX=clang++ cmake -S . -B "$asan_build" -DCORRAL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
    > /dev/null
  cmake --build "$asan_build" -j"$jobs" --target "${asan_targets[@]}"
}
tsan_configure_and_build() {
  cmake -S . -B "$tsan_build" -DCORRAL_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" > /dev/null
  cmake --build "$tsan_build" -j"$jobs" --target $(for e in "${tsan_executables[@]}"; do basename "$e"; done)
}

step "install clang (install-deps.sh --sanitize)" scripts/install-deps.sh --sanitize
step "ASan+UBSan build (fuzz targets, 3 unit tests, sim)" asan_configure_and_build
step "ASan+UBSan fuzz_found, api, schema tests, simulation" env ASAN_INTEGRATION= ASAN_EXECUTABLES="${asan_executables[*]}" \
  SIM_SEEDS="${CI_SIM_SEEDS:-5}" scripts/sanitize.sh asan "$asan_build"
step "fuzz: each target ${fuzz_seconds}s" env FUZZ_SECONDS="$fuzz_seconds" scripts/fuzz.sh "$asan_build"
# CI_DEADLINE (epoch seconds, set by .ci/run): the TSan part (~6 min cold on
# an idle 2-core machine, CI_TSAN_SECONDS) runs only if it can end before
# it, so that a slow CI machine skips it, saying so, instead of overrunning
# CI's 40 minutes.
tsan_seconds=${CI_TSAN_SECONDS:-420}
if [ -n "${CI_DEADLINE:-}" ] && [ $(( $(date +%s) + tsan_seconds )) -gt "$CI_DEADLINE" ]; then
  echo "ci-sanitize: TSan part SKIPPED: it would end past CI's deadline (about ${tsan_seconds}s left needed, $(( CI_DEADLINE - $(date +%s) ))s left); run make tsan by hand"
  timings+=("TSan part: skipped (CI budget)")
else
  step "TSan build (client, net, agent, server threads)" tsan_configure_and_build
  step "TSan client, net, agent, server threads tests" env TSAN_INTEGRATION= TSAN_EXECUTABLES="${tsan_executables[*]}" \
    scripts/sanitize.sh tsan "$tsan_build"
fi
