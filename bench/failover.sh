#!/bin/bash
# Availability through a leader crash, like bench/etcd/failover.sh for etcd: a fresh 3-member corrald cluster on loopback under a steady put
# load (10 clients); after 5 s the leader is killed with SIGKILL. Prints
# corral-bench's JSON; max_gap_ms is the longest stretch with no write
# acknowledged, errors counts writes that failed (unknown outcome included).
# Usage: failover.sh BUILD_DIR   (CORRALD overrides the corrald binary;
# CORRALD_FLAGS adds flags to every member, e.g. "--tick-ms 50";
# FAILOVER_KEEP=DIR copies the members' logs there, with the bench's output;
# READ_LEASE=1 adds --read-lease true, READ_LEASE=0 --read-lease false
# (ReadIndex), as bench/cluster.sh; unset: corrald's default, lease reads)
set -u
build=$1
case "${READ_LEASE:-}" in
  1) CORRALD_FLAGS="${CORRALD_FLAGS:-} --read-lease true" ;;
  0) CORRALD_FLAGS="${CORRALD_FLAGS:-} --read-lease false" ;;
esac
corrald=${CORRALD:-$build/coordinator/main/corrald}
ctl=$build/cli/corralctl
dir=$(mktemp -d); base=$((22000 + $$ % 1000 * 2))  # below the ephemeral range (32768-60999)
cl=""; eps=""
for i in 1 2 3; do cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"; eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"; done
declare -A pid
for i in 1 2 3; do
  "$corrald" --name n$i --data-dir "$dir/n$i" --listen-peer tcp://127.0.0.1:$((base + 2*i)) \
    --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) --initial-cluster "$cl" \
    --initial-cluster-state new ${CORRALD_FLAGS:-} >"$dir/n$i.log" 2>&1 &
  pid[127.0.0.1:$((base + 2*i + 1))]=$!
done
keep() { [ -n "${FAILOVER_KEEP:-}" ] && mkdir -p "$FAILOVER_KEEP" && cp "$dir"/n*.log "$FAILOVER_KEEP"/; }
trap 'kill ${pid[@]} 2>/dev/null; wait 2>/dev/null; keep; rm -rf "$dir"' EXIT
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
for t in $(seq 50); do "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
"$build/bench/corral-bench" -endpoints "$eps" -workload put -clients 10 -conns 10 -key-size 16 -val-size 256 -duration 15s 2>/dev/null &
b=$!
sleep 5
# The leader is the endpoint whose member id is the leader id it reports.
leader=$("$ctl" --endpoints "$eps" -w json endpoint status 2>/dev/null |
  sed -n 's/.*"endpoint":"\([^"]*\)".*"member_id":\([0-9]*\).*"leader":\([0-9]*\).*/\1 \2 \3/p' |
  awk '$2==$3 {print $1}' | head -1)
echo "killing leader $leader at $(date -u +%T.%N)" >&2
kill -9 "${pid[$leader]}"
wait $b
