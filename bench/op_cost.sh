#!/bin/bash
# CPU time per operation of each member (and of the bench), for one of
# round.sh's throughput workloads: starts a fresh 3-member cluster on
# loopback, runs corral-bench, and over SECONDS in the middle of the run reads
# utime + stime and minor page faults from /proc/PID/stat of the leader, both
# followers and the bench. On a noisy shared machine CPU per operation moves
# far less than throughput, so this is the figure to A/B two builds with
# (interleave them: A B A B ...). Unlike put_cost.sh nothing is attached to
# the processes (no perf), so the figures are the processes' own.
# Usage: bench/op_cost.sh BUILD_DIR WORKLOAD [SECONDS]
#   WORKLOAD: put1000 | get100lin | get100ser | put1 | get1 (round.sh's flags)
#   CORRALD=path: another corrald binary (the bench stays BUILD_DIR's).
#   FIRST=leader (default) | follower: the member named first in the bench's
#   endpoints. Every connection of corral-bench starts at the first
#   endpoint, so reads are served there: by the leader, or by a follower
#   that asks the leader for a read index (more CPU per get). round.sh
#   names n1 first, which is either by the luck of the election; fixing it
#   here keeps A/B runs comparable.
# Prints one line: workload, load, ops/s, then per op: members' CPU µs
# (leader, followers, sum), the bench's CPU µs, members' minor faults.
set -u
build=$1; workload=$2; secs=${3:-5}
corrald=${CORRALD:-$build/coordinator/main/corrald}
case $workload in
  put1000) flags="-workload put -clients 1000 -conns 100 -key-size 256 -val-size 1024" ;;
  put1) flags="-workload put -clients 1 -conns 1 -key-size 256 -val-size 1024" ;;
  get1) flags="-workload get -clients 1 -conns 1" ;;
  get100lin) flags="-workload get -clients 100 -conns 10" ;;
  get100ser) flags="-workload get -clients 100 -conns 10 -serializable" ;;
  *) echo "op_cost.sh: unknown workload $workload" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib/three_members.sh"
start_three_members "$corrald" "$build/cli/corralctl" op_cost.sh
others=$(echo "$eps" | tr ',' '\n' | grep -v -x "$leader_ep" | paste -sd,)
case ${FIRST:-leader} in
  leader) eps="$leader_ep,$others" ;;
  follower) eps="$others,$leader_ep" ;;
  *) echo "op_cost.sh: FIRST is leader or follower" >&2; exit 2 ;;
esac
load=$(cut -d' ' -f1 /proc/loadavg)
# shellcheck disable=SC2086 # flags are words
"$build/bench/corral-bench" --endpoints "$eps" $flags -duration $((secs + 4))s >"$dir/bench.json" 2>/dev/null &
bench_pid=$!
sleep 2
procs=("$leader" "${followers[@]}" "$bench_pid")
# utime + stime (ticks) and minflt of each process, "ticks:faults"
sample() { for p in "${procs[@]}"; do awk '{print $14 + $15 ":" $10}' "/proc/$p/stat" 2>/dev/null || echo nan:nan; done; }
before=($(sample))
sleep "$secs"
after=($(sample))
wait "$bench_pid"; bench_pid=""
json=$(cat "$dir/bench.json")
ops=$(echo "$json" | sed -n 's/.*"ops_per_sec":\([0-9.]*\).*/\1/p')
p50=$(echo "$json" | sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p')
[ -n "$ops" ] || { echo "op_cost.sh: the bench gave no result" >&2; exit 1; }
tick=$(getconf CLK_TCK)
awk -v ops="$ops" -v secs="$secs" -v p50="$p50" -v load="$load" -v w="$workload" -v first="${FIRST:-leader}" -v tick="$tick" \
  -v b="${before[*]}" -v a="${after[*]}" 'BEGIN {
  n = ops * secs; split(b, x, " "); split(a, y, " "); faults = 0
  for (i = 1; i <= 4; i++) {
    split(x[i], u, ":"); split(y[i], v, ":")
    us[i] = (v[1] - u[1]) * 1e6 / tick / n
    if (i <= 3) faults += (v[2] - u[2]) / n
  }
  printf "%s first %s load %s ops/s %.0f p50 %s ms | cpu-us/op leader %.1f followers %.1f %.1f members %.1f bench %.1f | members minflt/op %.2f\n",
    w, first, load, ops, p50, us[1], us[2], us[3], us[1] + us[2] + us[3], us[4], faults
}'
