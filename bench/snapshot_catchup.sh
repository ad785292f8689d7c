#!/bin/sh
# A follower that fell behind past the log catches up by a snapshot of about
# DATA_MB of state while one client keeps putting (put1). Prints one line:
# the catch-up time, the raft terms before and after (a change means the
# leader was lost), the leader's longest loop turn, and put1's figures.
# The state image is bounded at 1 GiB (server/state_machine.h), so DATA_MB
# stays below it. Usage: snapshot_catchup.sh BUILD_DIR [DATA_MB]
#   (CORRALD= another corrald binary)
set -eu
build=$1; mb=${2:-800}
corrald=${CORRALD:-$build/coordinator/main/corrald}
ctl=$build/cli/corralctl; bench=$build/bench/corral-bench
BASE=$((26000 + $$ % 2000 * 2))
. "$(dirname "$0")/lib/snapshot_cluster.sh"
# ~1 MiB values under random keys until about DATA_MB are written.
fill_state "$mb" 5
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
before=$("$ctl" --endpoints "$(ep 1),$(ep 2)" -w json endpoint status 2>/dev/null || true)
term_before=$(echo "$before" | field raft_term | sort -n | tail -1)
target=$(echo "$before" | field raft_applied_index | sort -n | tail -1)
t0=$(date +%s.%N)
start 3
"$bench" --endpoints "$(ep 1),$(ep 2)" -workload put -clients 1 -conns 1 -key-size 256 -val-size 1024 -duration 30s \
  >"$dir/put1.json" 2>/dev/null &
bpid=$!
caught=""
for t in $(seq 1200); do
  a=$("$ctl" --endpoints "$(ep 3)" --command-timeout 1s -w json endpoint status 2>/dev/null | field raft_applied_index || true)
  if [ -n "$a" ] && [ "$a" -ge "$target" ]; then caught=$(echo "$(date +%s.%N) - $t0" | bc); break; fi
  sleep 0.1
done
wait "$bpid" || true
after=$("$ctl" --endpoints "$eps" --command-timeout 5s -w json endpoint status 2>/dev/null || true)
term_after=$(echo "$after" | field raft_term | sort -n | tail -1)
turns=$(echo "$after" | field loop_turn_max_us | awk '{printf "%s%.1f", (NR>1?",":""), $1/1000}')
sends=$(grep -c "bytes): sent" "$dir/n1.log" "$dir/n2.log" | awk -F: '{s+=$2} END {print s}')
echo "data_mb=$written catchup_s=${caught:-never} term=$term_before->$term_after longest_turn_ms=$turns snapshot_sends=$sends put1=$(cat "$dir/put1.json")"
