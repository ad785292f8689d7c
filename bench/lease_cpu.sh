#!/bin/bash
# Members' CPU per lease registration: a fresh 3-member corrald cluster on
# loopback, corral-bench's lease workload (LEASES leases with one key each,
# kept alive 1 s after the last grant), and each member's user+system CPU
# (/proc/PID/stat) read before and after. Prints the bench's JSON line, then:
#   leases=N members_cpu_s=[a,b,c] cpu_us_per_lease=X longest_turn_ms=[..] load=L
# cpu_us_per_lease sums the three members (start-up not counted).
# Usage: lease_cpu.sh BUILD_DIR LEASES [corral-bench flags...]
#   e.g. lease_cpu.sh build 20000 --lease-batch 500 --lease-inflight 2
#   TTL (30) and DURATION (1s, the keep-alive time after the last grant)
#   set the bench's flags, CONNS (10) its connections; CORRALD overrides the corrald binary; PERF=FILE records the leader
#   (perf record -g) for the whole bench run into FILE.
# Each member also serves /metrics (--listen-http); every 2 s the lease
# checkpoint records applied (corral_lease_checkpoints_applied_total and
# corral_lease_checkpoint_resets_applied_total, summed over the members) are
# sampled, and the line ends with their rates over the run's last 10 s:
#   ckpt_per_s_last10s=X resets_per_s_last10s=Y ("-" for a build without them)
# turns_over_100ms=[..]: each member's loop turns longer than 100 ms in the
# whole run (its corral_server_loop_turn_duration_seconds histogram), and
# turns_over_{100,250}ms_last10s: the same summed over the members, in the
# run's last 10 s.
set -u
build=$1; leases=$2; shift 2
corrald=${CORRALD:-$build/coordinator/main/corrald}
ctl=$build/cli/corralctl
dir=$(mktemp -d)
base=$((26000 + $$ % 3000 * 2))  # servers below the ephemeral range (32768-60999)
cl=""; eps=""
for i in 1 2 3; do cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"; eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"; done
declare -A pid
for i in 1 2 3; do
  "$corrald" --name n$i --data-dir "$dir/n$i" --listen-peer tcp://127.0.0.1:$((base + 2*i)) \
    --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) --initial-cluster "$cl" \
    --listen-http http://127.0.0.1:$((base + 7 + i)) \
    --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
  pid[127.0.0.1:$((base + 2*i + 1))]=$!
done
trap 'kill ${pid[@]} 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
for t in $(seq 50); do "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
declare -A before
for e in "${!pid[@]}"; do before[$e]=$(ticks "${pid[$e]}"); done
load=$(cut -d' ' -f1 /proc/loadavg)
perf_pid=""
if [ -n "${PERF:-}" ]; then
  leader=$("$ctl" --endpoints "$eps" -w json endpoint status 2>/dev/null |
    sed -n 's/.*"endpoint":"\([^"]*\)".*"member_id":\([0-9]*\).*"leader":\([0-9]*\).*/\1 \2 \3/p' |
    awk '$2==$3 {print $1}' | head -1)
  perf record ${PERF_CALLGRAPH:--g} -o "$PERF" -p "${pid[$leader]}" >/dev/null 2>&1 &
  perf_pid=$!
fi
# Summed over the members: "SECONDS CKPT RESETS TURNS>100MS TURNS>250MS"
# (checkpoint records applied, loop turns from the turn histogram).
checkpoint_sample() {
  local c=0 r=0 t1=0 t2=0 m i have=1
  for i in 1 2 3; do
    m=$(curl -s --max-time 1 "http://127.0.0.1:$((base + 7 + i))/metrics") || continue
    echo "$m" | grep -q '^corral_lease_checkpoints_applied_total' || have=0
    read -r dc dr d1 d2 <<<"$(echo "$m" | awk '
      $1=="corral_lease_checkpoints_applied_total" {c=$2} $1=="corral_lease_checkpoint_resets_applied_total" {r=$2}
      $1=="corral_server_loop_turn_duration_seconds_bucket{le=\"0.1\"}" {b1=$2}
      $1=="corral_server_loop_turn_duration_seconds_bucket{le=\"0.25\"}" {b2=$2}
      $1=="corral_server_loop_turn_duration_seconds_count" {n=$2}
      END {printf "%d %d %d %d", c, r, n-b1, n-b2}')"
    c=$((c + dc)); r=$((r + dr)); t1=$((t1 + d1)); t2=$((t2 + d2))
  done
  [ $have = 1 ] || { c=-; r=-; }
  echo "$(date +%s.%N) $c $r $t1 $t2"
}
"$build/bench/corral-bench" --endpoints "$eps" --workload lease --leases "$leases" --ttl "${TTL:-30}" --conns "${CONNS:-10}" \
  --duration "${DURATION:-1s}" "$@" 2>"$dir/bench.err" &
bench_pid=$!
while kill -0 "$bench_pid" 2>/dev/null; do checkpoint_sample >>"$dir/ckpt.txt"; sleep 2; done
wait "$bench_pid"
[ -n "$perf_pid" ] && kill -INT "$perf_pid" && wait "$perf_pid" 2>/dev/null
hz=$(getconf CLK_TCK)
cpu=""; total=0
for e in $(echo "${!pid[@]}" | tr ' ' '\n' | sort); do
  d=$(( $(ticks "${pid[$e]}") - ${before[$e]} ))
  total=$((total + d))
  cpu="${cpu:+$cpu,}$(awk -v d="$d" -v hz="$hz" 'BEGIN {printf "%.2f", d / hz}')"
done
turns=$("$ctl" --endpoints "$eps" -w json endpoint status 2>/dev/null |
  sed -n 's/.*"loop_turn_max_us":\([0-9]*\).*/\1/p' | awk '{printf "%s%.1f", (NR>1?",":""), $1/1000}')
tail -2 "$dir/bench.err" >&2
# Rates over the run's last 10 s (the keep-alive phase when DURATION >= 15s).
rates=$(awk '{t[NR]=$1; c[NR]=$2; r[NR]=$3; a[NR]=$4; b[NR]=$5}
  END {if (NR < 2) {print "- - - -"; exit} j=NR; for (i=NR; i>=1; i--) {j=i; if (t[NR]-t[i] >= 10) break}
       d=t[NR]-t[j]; if (d <= 0) {print "- - - -"; exit}
       if (c[NR]=="-") printf "- - "; else printf "%.0f %.0f ", (c[NR]-c[j])/d, (r[NR]-r[j])/d
       printf "%d %d", a[NR]-a[j], b[NR]-b[j]}' "$dir/ckpt.txt" 2>/dev/null)
[ -n "$rates" ] || rates="- - - -"
read -r ckpt_rate reset_rate slow100 slow250 <<<"$rates"
# Loop turns over 100 ms on each member, from its turn histogram.
slow=""
for i in 1 2 3; do
  n=$(curl -s --max-time 2 "http://127.0.0.1:$((base + 7 + i))/metrics" | awk -F'[ ]' '
    /^corral_server_loop_turn_duration_seconds_bucket\{le="0.1"\}/ {b=$2} /^corral_server_loop_turn_duration_seconds_count/ {c=$2}
    END {if (c == "") print "-"; else print c - b}')
  slow="${slow:+$slow,}$n"
done
echo "leases=$leases members_cpu_s=[$cpu] cpu_us_per_lease=$(awk -v t="$total" -v hz="$hz" -v n="$leases" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') longest_turn_ms=[$turns] turns_over_100ms=[$slow] ckpt_per_s_last10s=$ckpt_rate resets_per_s_last10s=$reset_rate turns_over_100ms_last10s=$slow100 turns_over_250ms_last10s=$slow250 load=$load"
