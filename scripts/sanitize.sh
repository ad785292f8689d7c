#!/usr/bin/env bash
# Runs a chosen part of the test suite under sanitizers (tests/README.md,
# "Sanitizers"): the build must be configured with CORRAL_SANITIZE (or
# CORRAL_FUZZ, which implies address,undefined).
#   scripts/sanitize.sh asan BUILD_DIR   unit and simulation tests, a few integration tests
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
    # Unit and simulation tests: everything but the labelled process tests.
    selections=("-LE" "integration|fault|packaging")
    # A few integration tests: a cluster's life, snapshots, hostile clients.
    integration="${ASAN_INTEGRATION:-integration: (a three-member cluster|snapshot|hostile|raw request)}"
    ;;
  tsan)
    export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$root/tests/sanitize/tsan.supp"
    selections=("-R" "${TSAN_TESTS:-^(client|agent|server|net|log|snapshot|defrag|lease keep|fetch|collector|tailer|sink)}")
    integration="${TSAN_INTEGRATION:-integration: (a three-member cluster|snapshot catch)}"
    ;;
  *) echo "unknown mode $mode (asan or tsan)"; exit 2 ;;
esac

status=0
ctest --test-dir "$build" -j"$jobs" --output-on-failure "${selections[@]}" || status=1
if [ -n "$integration" ]; then
  ctest --test-dir "$build" -j"$jobs" --output-on-failure -L integration -R "$integration" || status=1
fi
if compgen -G "$reports/*" > /dev/null; then
  echo "sanitizer reports ($mode):"
  for f in "$reports"/*; do echo "== $f"; head -80 "$f"; done
  status=1
fi
exit $status
