#!/bin/bash
# Syscalls per request of one client: starts a fresh 3-member cluster on
# loopback, runs corral-bench with one client against the leader, and counts
# the syscalls of every thread of the leader, one follower and the bench
# for SECONDS in the middle of the run. Divide a thread's counts by the
# requests in the window (puts: the leader writer's fdatasync count; gets:
# the follower's sendto count, one heartbeat answer per get).
# Usage: bench/syscalls.sh BUILD_DIR put|get OUT_DIR [SECONDS] [perf|strace]
#   perf (default): `perf trace -s` summaries in OUT_DIR/{leader,follower,bench}.txt
#   strace: `strace -f -tt -T` of one second instead, to read turn by turn
set -u
build=$1; workload=$2; out=$3; secs=${4:-5}; tool=${5:-perf}
case $workload in put|get) ;; *) echo "workload: put or get" >&2; exit 2 ;; esac
mkdir -p "$out"
. "$(dirname "$0")/lib/three_members.sh"
ctl=$build/cli/corralctl
start_three_members "$build/coordinator/main/corrald" "$ctl" syscalls.sh
follower=${followers[0]}
sizes=""; [ "$workload" = put ] && sizes="-key-size 256 -val-size 1024"
# shellcheck disable=SC2086 # sizes are words
"$build/bench/corral-bench" --endpoints "$leader_ep" -workload "$workload" -clients 1 -conns 1 $sizes \
  -duration $((secs + 3))s >"$out/bench.json" 2>/dev/null &
bench_pid=$!
sleep 1.5
for who in leader follower bench; do
  case $who in leader) p=$leader ;; follower) p=$follower ;; bench) p=$bench_pid ;; esac
  if [ "$tool" = strace ]; then
    timeout -s INT 1 strace -f -tt -T -o "$out/$who.txt" -p "$p" 2>/dev/null &
  else
    perf trace -s -p "$p" -o "$out/$who.txt" -- sleep "$secs" 2>/dev/null &
  fi
done
wait "$bench_pid"
bench_pid=""
wait
cat "$out/bench.json"
