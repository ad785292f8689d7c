#!/usr/bin/env bash
# The main job. Until corrald serves clients, it runs the deterministic
# cluster simulation on a few seeds of 3- and 5-member clusters, with
# crashes, partitions, snapshots and membership changes, and prints what the
# checkers verified.
set -euo pipefail
build=${1:-build}
sim="$build/tests/sim/corral-sim"
[ -x "$sim" ] || { echo "demo: $sim not built" >&2; exit 1; }
echo "== 3-member clusters, seeds 1..20"
"$sim" --seeds 20 --start 1 --nodes 3
echo "== 5-member clusters, seeds 1..20"
"$sim" --seeds 20 --start 1 --nodes 5
echo "Replay any seed with a readable trace: SIM_SEED=7 $sim --nodes 3"
