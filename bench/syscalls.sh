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
dir=$(mktemp -d)
base=$((24000 + $$ % 3000 * 2))  # below the ephemeral range, as cluster.sh
cl=""; eps=""
for i in 1 2 3; do
  cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"
  eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"
done
pids=()
for i in 1 2 3; do
  "$build/coordinator/main/corrald" --name n$i --data-dir "$dir/n$i" \
    --listen-peer tcp://127.0.0.1:$((base + 2*i)) --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) \
    --initial-cluster "$cl" --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
  pids+=($!)
done
bench_pid=""
cleanup() {
  [ -n "$bench_pid" ] && kill "$bench_pid" 2>/dev/null
  kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
ctl=$build/cli/corralctl
for _ in $(seq 50); do
  "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
leader=""; follower=""; leader_ep=""
for i in 0 1 2; do
  ep=127.0.0.1:$((base + 2*(i+1) + 1))
  s=$("$ctl" --endpoints "$ep" -w json endpoint status 2>/dev/null)
  id=$(echo "$s" | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
  lead=$(echo "$s" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
  if [ -n "$id" ] && [ "$id" = "$lead" ]; then leader=${pids[$i]}; leader_ep=$ep; else follower=${pids[$i]}; fi
done
[ -n "$leader" ] || { echo "syscalls.sh: no leader found" >&2; exit 1; }
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
