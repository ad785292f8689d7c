#!/bin/bash
# A perf profile of the leader and one follower during put with 1000
# clients (256-byte keys, 1 KiB values): a fresh 3-member cluster on
# loopback, the bench against all members, and after 2 s
# `perf record -F 999 -g -p PID -- sleep SECONDS` on each. Leaves
# OUT/leader.data and OUT/follower.data; prints the self-time table of each.
# Usage: bench/profile_put.sh BUILD_DIR OUT_DIR [SECONDS]
#   CORRALD=path: another corrald binary (an A/B of two builds).
#   KEY_SPACE=N: keys drawn from N (every key new by default).
set -u
build=$1; out=$2; secs=${3:-8}
corrald=${CORRALD:-$build/coordinator/main/corrald}
. "$(dirname "$0")/lib/three_members.sh"
mkdir -p "$out"
start_three_members "$corrald" "$build/cli/corralctl" profile_put.sh
echo "load $(cut -d' ' -f1 /proc/loadavg)"
"$build/bench/corral-bench" --endpoints "$eps" -workload put -clients 1000 -conns 100 \
  -key-size 256 -val-size 1024 ${KEY_SPACE:+--key-space "$KEY_SPACE"} -duration $((secs + 4))s >"$out/bench.json" 2>/dev/null &
bench_pid=$!
sleep 2
perf record -F 999 -g -p "$leader" -o "$out/leader.data" -- sleep "$secs" 2>/dev/null &
perf_leader=$!
perf record -F 999 -g -p "${followers[0]}" -o "$out/follower.data" -- sleep "$secs" 2>/dev/null &
perf_follower=$!
wait "$perf_leader" "$perf_follower"
wait "$bench_pid"; bench_pid=""
cat "$out/bench.json"
for who in leader follower; do
  echo "== $who"
  perf report -i "$out/$who.data" --no-children --stdio -g none --sort sym 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -25 | cut -c1-140
done
