#!/bin/bash
# A mixed soak on a fresh 3-member corrald cluster on loopback: for MINUTES,
#   - puts from 4 clients (SOAK_PUT_CLIENTS) into a bounded key space (10,000 keys, 256 B values),
#   - 5 watchers on the whole put prefix (corralctl watch, output discarded),
#   - LEASES leases granted at the start and kept alive to the end,
#   - a compaction every minute to 10,000 revisions behind the head, and a
#     defrag every 10 minutes.
# Every 30 s it prints one sample line (CSV):
#   t_s,rss_mb_n1,rss_mb_n2,rss_mb_n3,db_mb_leader,leader,term,revision,leases_alive
# and at the end one summary line:
#   soak minutes=M samples=N leader_changes=C rss_mb_first=[..] rss_mb_last=[..] rss_mb_max=[..] leases_alive=A/L watchers_alive=W/5 put=<bench json>
# leader_changes counts the (leader, term) pairs seen beyond the first.
# Usage: soak.sh BUILD_DIR [MINUTES] [LEASES]   (defaults 60, 2000)
set -u
build=$1; minutes=${2:-60}; leases=${3:-2000}
corrald=${CORRALD:-$build/coordinator/main/corrald}
ctl=$build/cli/corralctl
bench=$build/bench/corral-bench
dir=$(mktemp -d)
base=$((26000 + $$ % 2000 * 2))  # servers below the ephemeral range (32768-60999)
cl=""; eps=""
for i in 1 2 3; do cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"; eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"; done
pids=(); children=()
for i in 1 2 3; do
  "$corrald" --name n$i --data-dir "$dir/n$i" --listen-peer tcp://127.0.0.1:$((base + 2*i)) \
    --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) --initial-cluster "$cl" \
    --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
  pids+=($!)
done
# SOAK_KEEP=1 keeps the members' logs and the benches' output in the printed dir.
trap 'kill "${children[@]}" "${pids[@]}" 2>/dev/null; wait 2>/dev/null; [ "${SOAK_KEEP:-0}" = 1 ] && echo "kept $dir" || rm -rf "$dir"' EXIT
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
for t in $(seq 50); do "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
secs=$((minutes * 60))
"$bench" --endpoints "$eps" --workload put --clients "${SOAK_PUT_CLIENTS:-4}" --conns 2 --key-size 32 --val-size 256 --key-space 10000 \
  --duration "${secs}s" >"$dir/put.json" 2>"$dir/put.err" &
put=$!; children+=($put)
# The lease bench keeps its leases alive for --duration after the last grant:
# past the soak's end (the last count comes after it), killed at exit.
"$bench" --endpoints "$eps" --workload lease --leases "$leases" --ttl 10 --conns 2 --duration "$((secs + 600))s" \
  >"$dir/lease.json" 2>"$dir/lease.err" &
children+=($!)
for w in 1 2 3 4 5; do
  "$ctl" --endpoints "$eps" watch /bench/ --prefix >/dev/null 2>"$dir/watch$w.err" &
  children+=($!)
done
rss() { for p in "${pids[@]}"; do awk '/VmRSS/ {printf "%d ", $2/1024}' /proc/$p/status 2>/dev/null || printf -- "- "; done; }
declare -A seen_leader_terms
samples=0; first=""; last=""; max=(0 0 0)
echo "t_s,rss_mb_n1,rss_mb_n2,rss_mb_n3,db_mb_leader,leader,term,revision,leases_alive"
start=$(date +%s)
while :; do
  now=$(( $(date +%s) - start ))
  [ "$now" -ge "$secs" ] && break
  st=$("$ctl" --endpoints "$eps" --command-timeout 2s -w json endpoint status 2>/dev/null |
    sed -n 's/.*"member_id":\([0-9]*\).*"revision":\([0-9]*\).*"db_size":\([0-9]*\),"leader":\([0-9]*\).*"raft_term":\([0-9]*\),"raft_applied.*/\1 \2 \3 \4 \5/p' |
    awk '$1==$4 {print; exit}')
  read -r _ rev db leader term <<<"${st:-? 0 0 ? ?}"
  r=($(rss))
  for k in 0 1 2; do [ "${r[$k]}" != "-" ] && [ "${r[$k]}" -gt "${max[$k]}" ] && max[$k]=${r[$k]}; done
  [ -z "$first" ] && first="[${r[0]},${r[1]},${r[2]}]"
  last="[${r[0]},${r[1]},${r[2]}]"
  [ "$leader" != "?" ] && seen_leader_terms["$leader/$term"]=1
  alive=$("$ctl" --endpoints "$eps" --command-timeout 5s get /agents/ --prefix --count-only 2>/dev/null | tr -dc 0-9)
  echo "$now,${r[0]},${r[1]},${r[2]},$((db / 1048576)),$leader,$term,$rev,${alive:-?}"
  samples=$((samples + 1))
  if [ "$rev" -gt 10000 ] && [ $((samples % 2)) -eq 0 ]; then
    "$ctl" --endpoints "$eps" --command-timeout 10s compaction $((rev - 10000)) >/dev/null 2>&1
  fi
  [ $((samples % 20)) -eq 0 ] && "$ctl" --endpoints "$eps" --command-timeout 60s defrag >/dev/null 2>&1
  sleep 30
done
alive=$("$ctl" --endpoints "$eps" --command-timeout 5s get /agents/ --prefix --count-only 2>/dev/null | tr -dc 0-9)
watchers=0; for p in "${children[@]:2}"; do kill -0 "$p" 2>/dev/null && watchers=$((watchers + 1)); done
wait $put
echo "soak minutes=$minutes samples=$samples leader_changes=$(( ${#seen_leader_terms[@]} - 1 )) rss_mb_first=$first rss_mb_last=$last rss_mb_max=[${max[0]},${max[1]},${max[2]}] leases_alive=${alive:-?}/$leases watchers_alive=$watchers/5 put=$(cat "$dir/put.json")"
