#!/bin/sh
# 10000 (or N) concurrent HTTP streaming watches on one corrald member:
# opens them, waits until each has its created line, writes one key, waits
# until every stream has the event, and prints the member's resident memory
# idle and with every stream open (the hidden integration test
# "http: many streaming watchers, for the bench"). Exits non-zero on failure.
# Usage: bench/http_watchers.sh BUILD_DIR [N]
set -eu
build=$1
CORRAL_HTTP_WATCHERS=${2:-10000} "$build/tests/integration/http_integration_tests" "[http-watchers-bench]"
