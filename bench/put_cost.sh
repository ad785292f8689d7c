#!/bin/bash
# What one put costs each process: starts a fresh 3-member cluster on
# loopback, runs corral-bench (put, 256-byte keys, 1 KiB values) against all
# members, and for SECONDS in the middle of the run counts the syscalls
# (`perf stat -e raw_syscalls:sys_enter`, sendto alone: messages out; a follower syncs
# once per append it takes, so its sendto per fdatasync is the answers per put)
# and CPU time (utime + stime from
# /proc) of the leader, both followers and the bench; prints one line per
# run with each divided by the puts in the window. Idle work (ticks,
# heartbeats) is included, so compare runs at similar rates.
# Usage: bench/put_cost.sh BUILD_DIR CLIENTS CONNS [SECONDS]
#   CORRALD=path: another corrald binary (an A/B of two builds, interleaved).
#   CLIENT_WIRE=tcp|zmq|auto: the members' and the bench's --client-wire.
set -u
build=$1; clients=$2; conns=$3; secs=${4:-4}
corrald=${CORRALD:-$build/coordinator/main/corrald}
. "$(dirname "$0")/lib/three_members.sh"
ctl=$build/cli/corralctl
start_three_members "$corrald" "$ctl" put_cost.sh
load=$(cut -d' ' -f1 /proc/loadavg)
# shellcheck disable=SC2086 # the flag is two words
"$build/bench/corral-bench" $client_wire_flag --endpoints "$eps" -workload put -clients "$clients" -conns "$conns" \
  -key-size 256 -val-size 1024 -duration $((secs + 4))s >"$dir/bench.json" 2>/dev/null &
bench_pid=$!
sleep 2
procs=("$leader" "${followers[@]}" "$bench_pid")
cpu() { for p in "${procs[@]}"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo nan; done; }
before=($(cpu))
for p in "${procs[@]}"; do
  perf stat -e raw_syscalls:sys_enter,syscalls:sys_enter_sendto,syscalls:sys_enter_fdatasync -x, -p "$p" -o "$dir/stat-$p.txt" -- sleep "$secs" 2>/dev/null &
done
wait $(jobs -p | grep -v "^$bench_pid$" | grep -v -e "^${pids[0]}$" -e "^${pids[1]}$" -e "^${pids[2]}$")
after=($(cpu))
wait "$bench_pid"; bench_pid=""
json=$(cat "$dir/bench.json")
ops=$(echo "$json" | sed -n 's/.*"ops_per_sec":\([0-9.]*\).*/\1/p')
p50=$(echo "$json" | sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p')
p99=$(echo "$json" | sed -n 's/.*"p99_ms":\([0-9.]*\).*/\1/p')
[ -n "$ops" ] || { echo "put_cost.sh: the bench gave no result" >&2; exit 1; }
calls=(); sends=(); syncs=()
for p in "${procs[@]}"; do
  calls+=("$(grep raw_syscalls:sys_enter "$dir/stat-$p.txt" | cut -d, -f1)")
  sends+=("$(grep sys_enter_sendto "$dir/stat-$p.txt" | cut -d, -f1)")
  syncs+=("$(grep sys_enter_fdatasync "$dir/stat-$p.txt" | cut -d, -f1)")
done
awk -v ops="$ops" -v secs="$secs" -v p50="$p50" -v p99="$p99" -v load="$load" -v clients="$clients" \
  -v c="${calls[*]}" -v t="${sends[*]}" -v f="${syncs[*]}" -v b="${before[*]}" -v a="${after[*]}" 'BEGIN {
  n = ops * secs; split(c, s, " "); split(t, m, " "); split(f, d, " "); split(b, x, " "); split(a, y, " ")
  for (i = 1; i <= 4; i++) { sc[i] = s[i] / n; us[i] = (y[i] - x[i]) * 10000 / n }
  printf "clients %d load %s ops/s %.0f p50 %s ms p99 %s ms | syscalls/put leader %.1f followers %.1f %.1f bench %.1f (members %.1f) | cpu-us/put leader %.0f followers %.0f %.0f bench %.0f (members %.0f) | sendto/put leader %.2f followers %.2f %.2f | followers sendto per own fdatasync %.2f %.2f\n",
    clients, load, ops, p50, p99, sc[1], sc[2], sc[3], sc[4], sc[1] + sc[2] + sc[3], us[1], us[2], us[3], us[4], us[1] + us[2] + us[3], m[1] / n, m[2] / n, m[3] / n, m[2] / (d[2] ? d[2] : 1), m[3] / (d[3] ? d[3] : 1)
}'
