#!/usr/bin/env bash
# Runs a chosen part of the test suite under sanitizers (tests/README.md,
# "Sanitizers"): the build must be configured with CORRAL_SANITIZE (or
# CORRAL_FUZZ, which implies address,undefined).
#   scripts/sanitize.sh asan BUILD_DIR   unit and simulation tests, a few integration tests
#     (ASAN_EXECUTABLES, SIM_SEEDS, ASAN_INTEGRATION: CI's smaller choice)
#   scripts/sanitize.sh tsan BUILD_DIR   the tests that run threads: client, agent, server, net, a few integration tests
# Every process the tests start (corrald, corralctl, corral-agent) writes its
# sanitizer reports under BUILD_DIR/sanitizer-reports; any report fails the run.
set -euo pipefail
mode=${1:?usage: scripts/sanitize.sh asan|tsan BUILD_DIR}
build=${2:?usage: scripts/sanitize.sh asan|tsan BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
reports="$(cd "$build" && pwd)/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"

case "$mode" in
  asan)
    export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0"
    export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$root/tests/sanitize/lsan.supp"
    # Unit tests: everything but the labelled process tests and the
    # simulation's seed ranges (run below, SIM_SEEDS of them); _NOT_BUILT:
    # ctest's stand-in for an executable this build left out.
    selections=("-LE" "integration|fault|packaging" "-E" "^sim_[0-9]+nodes_seeds_|_NOT_BUILT")
    sim_seeds=${SIM_SEEDS:-50}
    # ASAN_EXECUTABLES (e.g. "fuzz_found/fuzz_found_tests"): only these
    # unit executables, whole, instead of every unit test (CI's choice).
    executables=(${ASAN_EXECUTABLES:-})
    # A few integration tests: a cluster's life, snapshots, hostile clients.
    integration="${ASAN_INTEGRATION-integration: ?(writes and reads go through any member|range, prefix, list, txn|malformed and oversized requests|a member wiped and re-added catches up by snapshot)}"
    ;;
  tsan)
    export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$root/tests/sanitize/tsan.supp"
    # Whole test executables (ctest names are the test cases' names).
    executables=(${TSAN_EXECUTABLES:-client/client_tests server/server_tests net/net_tests agent_fetch/agent_fetch_tests
                 agent_source/agent_source_tests agent_sink/agent_sink_tests sanitize/server_threads_tests})
    # corrald's node loop with its snapshot worker and defragmenter threads.
    integration="${TSAN_INTEGRATION-integration: ?(writes and reads go through any member|a member wiped and re-added catches up by snapshot|a member past its quota)}"
    ;;
  *) echo "unknown mode $mode (asan or tsan)"; exit 2 ;;
esac

status=0
if [ "$mode" = asan ] && [ ${#executables[@]} -eq 0 ]; then
  ctest --test-dir "$build" -j"$jobs" --output-on-failure "${selections[@]}" || status=1
fi
if [ "$mode" = asan ]; then
  for nodes in 3 5; do
    echo "== corral-sim: $sim_seeds seeds, $nodes members"
    "$build/tests/sim/corral-sim" --seeds "$sim_seeds" --start 1 --nodes "$nodes" --ticks 2000 > "$build/sim-$nodes.log" 2>&1 ||
      { tail -30 "$build/sim-$nodes.log"; status=1; }
  done
fi
# An executable is named from tests/unit ("client/client_tests") or, when
# not there, from tests ("sanitize/server_threads_tests").
for exe in "${executables[@]}"; do
  echo "== $exe"
  path=$build/tests/unit/$exe
  [ -x "$path" ] || path=$build/tests/$exe
  "$path" || status=1
done
if [ -n "$integration" ]; then
  # --no-tests=error: a selection that matches nothing must fail, not pass.
  ctest --test-dir "$build" -j"$jobs" --output-on-failure --no-tests=error -L integration -R "$integration" || status=1
fi
if compgen -G "$reports/*" > /dev/null; then
  echo "sanitizer reports ($mode):"
  for f in "$reports"/*; do echo "== $f"; head -80 "$f"; done
  status=1
fi
exit $status
