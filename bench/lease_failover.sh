#!/bin/bash
# Leases kept alive through a leader crash: a fresh 3-member corrald cluster
# on loopback; corral-bench grants LEASES leases (each with its key under
# /agents/) and keeps them alive; once every key is there the leader is
# killed with SIGKILL. The bench's keys_alive_after, counted DURATION after
# the last grant, must equal LEASES: any fewer is a false expiry (a lease
# whose holder kept it alive but that the new leader let lapse).
# Prints the bench's JSON line, then one line of figures:
#   leases=N alive_after=N false_expiries=N kill_after_s=S rss_mb_before=[..] rss_mb_after=[..]
# Usage: lease_failover.sh BUILD_DIR [LEASES] [TTL_S] [DURATION]
#   (defaults 100000, 10, 40s; CORRALD overrides the corrald binary;
#   LEASE_INFLIGHT, default 64, registrations in flight per connection;
#   LEASE_BATCH, default 1, grants per LeaseGrantBatchRequest: above 1,
#   LEASE_INFLIGHT counts batches)
# register_s is the bench's registration time (every grant answered);
# keeper_losses: leases the bench's keepers gave up on (before or after the kill).
set -u
build=$1; leases=${2:-100000}; ttl=${3:-10}; duration=${4:-40s}
corrald=${CORRALD:-$build/coordinator/main/corrald}
ctl=$build/cli/corralctl
dir=$(mktemp -d)
base=$((20000 + $$ % 3000 * 2))  # servers below the ephemeral range (32768-60999)
cl=""; eps=""
for i in 1 2 3; do cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"; eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"; done
declare -A pid
for i in 1 2 3; do
  "$corrald" --name n$i --data-dir "$dir/n$i" --listen-peer tcp://127.0.0.1:$((base + 2*i)) \
    --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) --initial-cluster "$cl" \
    --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
  pid[127.0.0.1:$((base + 2*i + 1))]=$!
done
trap 'kill ${pid[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
rss() { local out=""; for p in "${pid[@]}"; do out="${out:+$out,}$(awk '/VmRSS/ {printf "%d", $2/1024}' /proc/$p/status 2>/dev/null || echo -)"; done; echo "[$out]"; }
for t in $(seq 50); do "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
start=$(date +%s.%N)
"$build/bench/corral-bench" --endpoints "$eps" --workload lease --leases "$leases" --ttl "$ttl" --conns 10 --lease-inflight "${LEASE_INFLIGHT:-64}" \
  --lease-batch "${LEASE_BATCH:-1}" \
  --duration "$duration" >"$dir/bench.json" 2>"$dir/bench.err" &
b=$!
# Every key registered (bounded: 10 minutes).
for t in $(seq 1200); do
  n=$("$ctl" --endpoints "$eps" --command-timeout 2s get /agents/ --prefix --count-only 2>/dev/null | tr -dc 0-9)
  [ "${n:-0}" -ge "$leases" ] && break
  kill -0 $b 2>/dev/null || break
  sleep 0.5
done
before=$(rss)
if [ "${n:-0}" -lt "$leases" ]; then
  # Never all there at once (registration slower than expiry, or the bench
  # gave up): no kill; the line says so.
  wait $b
  cat "$dir/bench.json"
  tail -3 "$dir/bench.err" >&2
  echo "leases=$leases registered_at_most=${n:-0} no_kill=1 rss_mb=$before"
  exit 1
fi
leader=$("$ctl" --endpoints "$eps" -w json endpoint status 2>/dev/null |
  sed -n 's/.*"endpoint":"\([^"]*\)".*"member_id":\([0-9]*\).*"leader":\([0-9]*\).*/\1 \2 \3/p' |
  awk '$2==$3 {print $1}' | head -1)
kill_after=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
echo "killing leader $leader after ${kill_after}s ($n keys registered)" >&2
kill -9 "${pid[$leader]}"
unset "pid[$leader]"
wait $b
cat "$dir/bench.json"
tail -3 "$dir/bench.err" >&2
alive=$(sed -n 's/.*keys_alive_after=\([0-9-]*\).*/\1/p' "$dir/bench.json")
reg=$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$dir/bench.json")
losses=$(sed -n 's/.*keepalive_losses=\([0-9]*\).*/\1/p' "$dir/bench.json")
echo "leases=$leases register_s=${reg:-?} alive_after=${alive:-?} false_expiries=$((leases - ${alive:-0})) keeper_losses=${losses:-0} kill_after_s=$kill_after rss_mb_before=$before rss_mb_after=$(rss)"
