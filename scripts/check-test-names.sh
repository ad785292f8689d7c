#!/bin/sh
# Fails when a Catch2 TEST_CASE name holds a ';'. catch_discover_tests
# registers each test case with ctest by name, and CMake splits a name at
# ';' into two: ctest then runs the binary with half a name, Catch matches
# no test case, and the test "passes" without having run.
# Usage: check-test-names.sh TESTS_DIR
found=$(grep -rn --include='*.cc' 'TEST_CASE("[^"]*;' "$1")
[ -z "$found" ] && exit 0
echo "TEST_CASE names with ';' (ctest would never run them; use ','):" >&2
echo "$found" >&2
exit 1
