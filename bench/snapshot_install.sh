#!/bin/sh
# A follower installs a snapshot of about DATA_MB while it and the leader
# are the only members up (the third is stopped once the follower has heard
# from the leader): the leader keeps its quorum only if the installing
# follower keeps answering. One client puts all along (put1, 30 s). Prints
# one line: the follower's install (received -> installed, from its log),
# its longest loop turn, the raft terms before and after (a change means
# the leader was lost), and put1's figures (errors, max_gap_ms: the longest
# stretch without an acknowledged put).
# Usage: snapshot_install.sh BUILD_DIR [DATA_MB]
#   (CORRALD= another corrald binary; LOGS=DIR keeps the members' logs there)
set -eu
build=$1; mb=${2:-200}
corrald=${CORRALD:-$build/coordinator/main/corrald}
ctl=$build/cli/corralctl; bench=$build/bench/corral-bench
BASE=$((22000 + $$ % 2000 * 2))
. "$(dirname "$0")/lib/snapshot_cluster.sh"
fill_state "$mb" 2
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
st() { "$ctl" --endpoints "$(ep $1)" --command-timeout 2s -w json endpoint status 2>/dev/null || true; }
leader_id=$(st 1 | field leader)
me1=$(st 1 | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
if [ "$leader_id" = "$me1" ]; then lead=1; other=2; else lead=2; other=1; fi
term_before=$(st $lead | field raft_term)
target=$(st $lead | field raft_applied_index)
start 3
for t in $(seq 100); do
  l=$(st 3 | field leader)
  [ -n "$l" ] && [ "$l" != 0 ] && break
  sleep 0.1
done
eval "kill \$pid$other; wait \$pid$other 2>/dev/null || true"
"$bench" --endpoints "$(ep $lead)" -workload put -clients 1 -conns 1 -key-size 256 -val-size 1024 -duration 30s \
  >"$dir/put1.json" 2>/dev/null &
bpid=$!
caught=never
for t in $(seq 1200); do
  a=$(st 3 | field raft_applied_index)
  if [ -n "$a" ] && [ "$a" -ge "$target" ]; then caught=yes; break; fi
  sleep 0.1
done
wait "$bpid" || true
term_after=$(st $lead | field raft_term)
turn=$(st 3 | field loop_turn_max_us)
ms() { date -d "$(echo "$1" | cut -c1-23)" +%s%3N; }
got=$(grep -m1 "received a snapshot" "$dir/n3.log" | cut -d' ' -f1)
done_line=$(grep -m1 "installed snapshot" "$dir/n3.log" || true)
inst=never
[ -n "$got" ] && [ -n "$done_line" ] && inst=$(( $(ms "$(echo "$done_line" | cut -d' ' -f1)") - $(ms "$got") ))
sends=$(grep -c "bytes): sent" "$dir/n$lead.log" || true)
# This branch's log line says how long the install took off the loop and on it.
split=$(echo "$done_line" | sed -n 's/.*: \([0-9]*\) ms off the loop (longest loop turn meanwhile \([0-9.]*\) ms), \([0-9]*\) ms on it.*/off=\1,longest_turn_meanwhile_ms=\2,on_loop_ms=\3/p')
echo "data_mb=$written caught_up=$caught install_ms=$inst${split:+($split)} follower_longest_turn_ms=$(echo "${turn:-0}" | awk '{printf "%.1f", $1/1000}') term=$term_before->$term_after snapshot_sends=$sends put1=$(cat "$dir/put1.json")"
