#!/usr/bin/env bash
# The main job: log collection on a local 3-member corrald cluster.
#
#   1. a 3-member cluster on loopback;
#   2. 3 source agents (machines 10.0.0.11..13, the ip only a label in their
#      stream keys; they serve on 127.0.0.1 ports), each tailing 2 log files
#      that a generator appends numbered lines to, and 2 collectors writing
#      into file sinks; every task is assigned;
#   3. a rename rotation of every log file, then a SIGKILL of the corrald
#      leader while the agents run (and its restart);
#   4. a SIGKILL of a collector: its tasks move to the other one once its
#      lease expires (the time is measured);
#   5. a graceful handover: a new collector takes its share, then the
#      collector holding the rest is drained (cooperative moves);
#   6. the generators stop, the collectors catch up, and the tally: lines
#      written, delivered, lost (must be 0: the script fails otherwise),
#      duplicated (only by the crash: what the killed collector wrote after
#      its last checkpoint);
#   7. the deterministic cluster simulation (corral-sim) on 20 seeds.
#
# Usage: scripts/demo.sh [BUILD_DIR]   (make demo runs it with $(BUILD))
# DEMO_KEEP=1 keeps the working directory (logs, sinks, data); it is also
# kept when the demo fails. DEMO_TRACE=1 traces the script.
set -euo pipefail
[ -n "${DEMO_TRACE:-}" ] && set -x
build=${1:-build}
corrald="$build/coordinator/main/corrald"
agent_bin="$build/agent/main/corral-agent"
ctl_bin="$build/cli/corralctl"
sim="$build/tests/sim/corral-sim"
for b in "$corrald" "$agent_bin" "$ctl_bin" "$sim"; do
  [ -x "$b" ] || { echo "demo: $b is not built (run make build)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/corral-demo.XXXXXX)
# Ports: members at base+2..base+7, source agents at base+11..base+13, all
# below 32768 (the ephemeral range starts there).
base=$((21000 + $$ % 4000 * 2))
cluster="" endpoints="" agent_endpoints=""
for i in 1 2 3; do
  cluster="${cluster:+$cluster,}n$i=tcp://127.0.0.1:$((base + 2*i))"
  endpoints="${endpoints:+$endpoints,}127.0.0.1:$((base + 2*i + 1))"
  agent_endpoints="${agent_endpoints:+$agent_endpoints,}tcp://127.0.0.1:$((base + 2*i + 1))"
done
collector_ttl=3            # seconds: a dead collector's tasks move after this
checkpoint_ms=500
ips=(10.0.0.11 10.0.0.12 10.0.0.13)
topics=(access error)
streams=$(( ${#ips[@]} * ${#topics[@]} ))
declare -A pid   # corrald members, by number
declare -A apid  # agents, by id
gens=()          # generators
t_start=$(date +%s.%N)

# Every process this script started, children of children included (command
# substitutions, a corralctl in a pipeline, generator subshells and their
# sleeps). Under make the script shares make's process group, so the group
# cannot be killed whole; the tree can.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
# Ends the whole tree, whatever path the demo ends by (done, failed, ^C):
# TERM, up to 2 s to go, then KILL what is left.
end_descendants() {
  local left p _
  left=$(descendants $$)
  [ -n "$left" ] || return 0
  kill $left 2>/dev/null
  for _ in $(seq 20); do
    for p in $left; do kill -0 "$p" 2>/dev/null && break; p=; done
    [ -n "$p" ] || return 0
    sleep 0.1
  done
  kill -9 $left 2>/dev/null
}

cleanup() {
  local rc=$?
  set +e
  touch "$dir/stop-generators" 2>/dev/null
  for p in "${apid[@]}" "${pid[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${gens[@]}"; do kill "$p" 2>/dev/null; done
  end_descendants
  wait 2>/dev/null
  if [ "$rc" -ne 0 ] || [ -n "${DEMO_KEEP:-}" ]; then
    echo "demo: logs, sinks and data kept in $dir" >&2
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { "$ctl_bin" --endpoints "$endpoints" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[%5ss] %s\n' "$(elapsed "$t_start")" "$*"; }
die() { echo "demo: $*; logs in $dir" >&2; exit 1; }

start_member() {
  local i=$1
  "$corrald" --name "n$i" --data-dir "$dir/n$i" \
    --listen-peer "tcp://127.0.0.1:$((base + 2*i))" \
    --listen-client "tcp://127.0.0.1:$((base + 2*i + 1))" \
    --initial-cluster "$cluster" --tick-ms 20 >>"$dir/n$i.log" 2>&1 &
  pid[$i]=$!
}
wait_healthy() {
  for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "the cluster did not become healthy"
}
leader_member() {  # the number of the member that is leader now (retries 5 s)
  local i out me leader
  for _ in $(seq 50); do
    for i in "${!pid[@]}"; do
      out=$("$ctl_bin" --endpoints "127.0.0.1:$((base + 2*i + 1))" -w json endpoint status 2>/dev/null) || continue
      me=$(echo "$out" | grep -o '"member_id":[0-9]*' | head -1 | cut -d: -f2)
      leader=$(echo "$out" | grep -o '"leader":[0-9]*' | head -1 | cut -d: -f2)
      if [ -n "$me" ] && [ "$me" = "$leader" ]; then echo "$i"; return 0; fi
    done
    sleep 0.1
  done
  return 1
}

# --- log generators: numbered lines, 2 files per machine ---------------------
# Each generator appends 5 lines every 100 ms, opening the file for every
# write (as a logger that reopens after rotation would), until the stop file
# appears; then it records how many lines it wrote.
generator() {
  local ip=$1 topic=$2 f="$dir/logs/$1/$2.log" n=0 k
  while [ ! -e "$dir/stop-generators" ]; do
    for k in 1 2 3 4 5; do
      n=$((n + 1))
      printf 'ip=%s stream=web/%s seq=%d GET /item/%d HTTP/1.1 200\n' "$ip" "$topic" "$n" "$((n * 7 % 1000))" >>"$f"
    done
    sleep 0.1
  done
  echo "$n" >"$dir/logs/$ip/$topic.count"
}

# --- agents --------------------------------------------------------------------
start_source() {  # index into ips
  local n=$1 ip=${ips[$1]} id="source-$(( $1 + 1 ))"
  "$agent_bin" --id "$id" --ip "$ip" --host "web-$((n + 1))" --roles source \
    --endpoints "$agent_endpoints" --listen "tcp://127.0.0.1:$((base + 11 + n))" \
    --source "web/access=$dir/logs/$ip/access.log*" \
    --source "web/error=$dir/logs/$ip/error.log*" >>"$dir/$id.log" 2>&1 &
  apid[$id]=$!
}
start_collector() {  # id
  local id=$1
  "$agent_bin" --id "$id" --ip "10.0.1.${id##*-}" --roles collector \
    --endpoints "$agent_endpoints" --sink-dir "$dir/sink/$id" \
    --lease-ttl-seconds "$collector_ttl" --checkpoint-interval-ms "$checkpoint_ms" >>"$dir/$id.log" 2>&1 &
  apid[$id]=$!
}
agent_alive() { kill -0 "${apid[$1]}" 2>/dev/null || die "agent $1 exited: $(tail -3 "$dir/$1.log")"; }

# --- what the cluster and the sinks say --------------------------------------------
have_tasks=0
"$ctl_bin" tasks --help >/dev/null 2>&1 && have_tasks=1
have_drain=0
"$ctl_bin" collector drain --help >/dev/null 2>&1 && have_drain=1
# The assignments in one read: "collector-1=3 collector-2=3 revoking=0".
# "unavailable" when the cluster does not answer.
assignments() {
  local out
  out=$(ctl get /corral/assign/ --prefix 2>/dev/null) || { echo unavailable; return; }
  echo "$out" | awk -F/ '
    $1 == "" && $2 == "corral" && $3 == "assign" && NF >= 7 { n[$4]++ }
    /"state":"revoking"/ { r++ }
    END { for (c in n) print c "=" n[c]; print "~revoking=" r + 0 }' | sort | tr '\n' ' ' | sed 's/ $//; s/~//'
}
held_by() {  # ID [ASSIGNMENTS]
  local a=${2:-$(assignments)}
  echo "$a" | tr ' ' '\n' | awk -F= -v c="$1" '$1 == c { n = $2 } END { print n + 0 }'
}
holders() { assignments | sed 's/ revoking=0$//'; }
show_tasks() {
  if [ "$have_tasks" = 1 ]; then
    echo "\$ corralctl -w table tasks"; ctl -w table tasks || true
  else
    echo "\$ corralctl get /corral/assign/ --prefix --keys-only"
    ctl get /corral/assign/ --prefix --keys-only | grep -v '^$' || true
  fi
}
written() { cat "$dir"/logs/*/*.log* 2>/dev/null | wc -l; }
delivered() { cat "$dir"/sink/*/web/*/*.log 2>/dev/null | sort -u | wc -l; }
status() {
  local d; d=$(delivered)   # before written: delivered <= written
  say "written $(written)  delivered $d  tasks: $(holders)"
}
# started_last ID T0: when the last task that collector ID started after T0
# (epoch seconds) started, from its log's timestamps; empty if none.
started_last() {
  local ts t last=""
  while read -r ts _; do
    t=$(date -d "$ts" +%s.%N 2>/dev/null) || continue
    awk -v t="$t" -v s="$2" 'BEGIN { exit !(t >= s) }' && last=$t
  done < <(grep ' started at epoch ' "$dir/$1.log" 2>/dev/null)
  echo "$last"
}
# move_time ID T0 FALLBACK: seconds from T0 to the last task start at ID.
move_time() {
  local last; last=$(started_last "$1" "$2")
  if [ -n "$last" ]; then awk -v a="$2" -v b="$last" 'BEGIN { printf "%.2f", b - a }'; else echo "$3"; fi
}
# run_for SECONDS: a status line every 2 s.
run_for() {
  local end; end=$(awk -v t="$(now)" -v d="$1" 'BEGIN { printf "%.3f", t + d }')
  while awk -v t="$(now)" -v e="$end" 'BEGIN { exit !(t < e) }'; do
    status
    sleep 2
  done
}
# wait_for TIMEOUT CMD...: polls CMD every 0.1 s, a status line every 2 s;
# prints nothing else; fails when TIMEOUT seconds pass.
wait_for() {
  local timeout=$1 t0 last; shift
  t0=$(now) last=$t0
  until "$@"; do
    if awk -v t="$(now)" -v s="$t0" -v m="$timeout" 'BEGIN { exit !(t - s > m) }'; then return 1; fi
    if awk -v t="$(now)" -v l="$last" 'BEGIN { exit !(t - l >= 2) }'; then status; last=$(now); fi
    sleep 0.1
  done
}
all_assigned_to() {  # ID: every stream held by this collector, none revoking
  local a; a=$(assignments)
  [ "$(held_by "$1" "$a")" = "$streams" ] && [ "$(held_by revoking "$a")" = 0 ]
}
balanced() {  # A B: each holds half, none revoking
  local a; a=$(assignments)
  [ "$(held_by "$1" "$a")" = $((streams / 2)) ] && [ "$(held_by "$2" "$a")" = $((streams / 2)) ] &&
    [ "$(held_by revoking "$a")" = 0 ]
}

echo "== starting a 3-member cluster on 127.0.0.1 ($endpoints)"
for i in 1 2 3; do start_member "$i"; done
wait_healthy
ctl -w table endpoint status

echo
echo "== log generators: 2 files on each of 3 machines, 5 numbered lines every 100 ms per file"
for ip in "${ips[@]}"; do
  mkdir -p "$dir/logs/$ip"
  for topic in "${topics[@]}"; do
    generator "$ip" "$topic" &
    gens+=($!)
  done
done
echo "   $dir/logs/<ip>/{access,error}.log"

echo
echo "== 2 collectors (file sinks, lease TTL ${collector_ttl}s, checkpoints every ${checkpoint_ms} ms) and 3 source agents"
start_collector collector-1
start_collector collector-2
for n in 0 1 2; do start_source "$n"; done
echo "   corral-agent --id source-1 --ip 10.0.0.11 --roles source --listen tcp://127.0.0.1:$((base + 11)) \\"
echo "       --source 'web/access=$dir/logs/10.0.0.11/access.log*' --source 'web/error=...' --endpoints ..."
echo "   corral-agent --id collector-1 --ip 10.0.1.1 --roles collector --sink-dir $dir/sink/collector-1 \\"
echo "       --lease-ttl-seconds $collector_ttl --checkpoint-interval-ms $checkpoint_ms --endpoints ..."
t0=$(now)
wait_for 20 balanced collector-1 collector-2 || die "the $streams streams were not spread over the 2 collectors"
say "all $streams streams assigned, 3 per collector"
for id in "${!apid[@]}"; do agent_alive "$id"; done
if [ "$have_tasks" = 1 ]; then echo "\$ corralctl -w table agents"; ctl -w table agents || true; fi
show_tasks
run_for 4

echo
echo "== rotation: every log file is renamed to <file>.1; the writers go on in a new <file>"
for ip in "${ips[@]}"; do
  for topic in "${topics[@]}"; do mv "$dir/logs/$ip/$topic.log" "$dir/logs/$ip/$topic.log.1"; done
done
echo "   (a source reads a renamed file to its end, then moves to the new one once the old has"
echo "    been idle for 5 s)"
run_for 4

echo
echo "== the corrald leader fails (SIGKILL) while the agents run"
leader=$(leader_member) || die "no leader found"
say "killing n$leader (the leader)"
{ kill -9 "${pid[$leader]}"; wait "${pid[$leader]}"; } 2>/dev/null || true
unset "pid[$leader]"
run_for 4
say "n$leader restarts from its data directory and catches up"
start_member "$leader"
wait_healthy
ctl -w table endpoint status 2>/dev/null || true

echo
echo "== collector-1 crashes (SIGKILL): its tasks move once its ${collector_ttl}s lease expires"
held1=$(held_by collector-1)
t_kill=$(now)
kill -9 "${apid[collector-1]}"
wait "${apid[collector-1]}" 2>/dev/null || true
unset "apid[collector-1]"
say "killed collector-1, which held $held1 tasks"
wait_for 30 all_assigned_to collector-2 || die "collector-1's tasks did not move to collector-2"
reassign_crash=$(move_time collector-2 "$t_kill" "$(elapsed "$t_kill")")
say "all $streams tasks held by collector-2: the last one started there ${reassign_crash} s after the kill"
show_tasks
run_for 4

echo
echo "== graceful handover: collector-3 joins and takes its share (cooperative moves)"
t0=$(now)
start_collector collector-3
wait_for 30 balanced collector-2 collector-3 || die "collector-3 did not get its share"
handover_join=$(move_time collector-3 "$t0" "$(elapsed "$t0")")
say "collector-3 holds $((streams / 2)) tasks: the last one started there ${handover_join} s after collector-3 was started"
run_for 2
t0=$(now)
if [ "$have_drain" = 1 ]; then
  echo "\$ corralctl collector drain collector-2"
  ctl collector drain collector-2
else
  echo "\$ corralctl put /corral/drain/collector-2 ''   # what 'corralctl collector drain' writes"
  ctl put /corral/drain/collector-2 '' >/dev/null
fi
wait_for 30 all_assigned_to collector-3 || die "collector-2's tasks did not move to collector-3"
handover_drain=$(move_time collector-3 "$t0" "$(elapsed "$t0")")
say "collector-2 drained: all $streams tasks held by collector-3, the last one started ${handover_drain} s after the drain"
show_tasks

echo
echo "== the generators stop; the collectors catch up"
touch "$dir/stop-generators"
for p in "${gens[@]}"; do wait "$p"; done
gens=()
total_written=0
for f in "$dir"/logs/*/*.count; do total_written=$((total_written + $(cat "$f"))); done
say "$total_written lines written"
t0=$(now)
caught_up() { [ "$(delivered)" -ge "$total_written" ]; }
wait_for 40 caught_up || say "not caught up after 40 s"
say "caught up $(elapsed "$t0") s after the generators stopped"
show_tasks

# The tally. Every line is unique (machine, stream, sequence number), so a
# line seen in two sink files was delivered twice. A copy kept by the crashed
# collector-1 is a duplicate of the crash; any other is one of a planned move.
tally=$({
  for ip in "${ips[@]}"; do
    for topic in "${topics[@]}"; do echo "count $ip web/$topic $(cat "$dir/logs/$ip/$topic.count")"; done
  done
  for f in "$dir"/sink/*/web/*/*.log; do
    [ -e "$f" ] || continue
    c=${f#"$dir/sink/"}; c=${c%%/*}
    sed "s|^|line $c |" "$f"
  done; } | awk '
    $1 == "count" { want[$2 " " $3] = $4; next }
    {
      coll = $2; line = substr($0, length($1 " " $2 " ") + 1)
      copies[line]++
      if (coll == "collector-1") crashed[line] = 1
      split($3, a, "="); split($4, b, "="); split($5, s, "=")
      k = a[2] " " b[2]
      if (!(k in want) || s[2] !~ /^[0-9]+$/ || s[2] < 1 || s[2] > want[k]) bad[line] = 1
    }
    END {
      for (k in want) written += want[k]
      for (l in copies) {
        if (l in bad) { unexpected++; continue }
        unique++
        if (copies[l] > 1) { if (l in crashed) crashdup += copies[l] - 1; else planneddup += copies[l] - 1 }
      }
      printf "%d %d %d %d %d %d\n", written, unique, written - unique,
             crashdup + planneddup, crashdup + 0, planneddup + 0
      printf "%d\n", unexpected + 0 > "/dev/stderr"
    }' 2>"$dir/unexpected"
)
read -r t_written t_delivered t_lost t_dup t_dup_crash t_dup_planned <<<"$tally"
unexpected=$(cat "$dir/unexpected")

echo
echo "== tally"
printf '  lines written                 %8d  (%d streams on %d machines, one rotation each)\n' "$t_written" "$streams" "${#ips[@]}"
printf '  delivered (unique, all sinks) %8d\n' "$t_delivered"
printf '  lost                          %8d\n' "$t_lost"
printf '  duplicated                    %8d  (%d re-read after the crash of collector-1, %d by planned moves)\n' \
  "$t_dup" "$t_dup_crash" "$t_dup_planned"
printf '  reassignment after the crash  %8s s (the %d s lease TTL runs from the last keep-alive, sent every %d s)\n' \
  "$reassign_crash" "$collector_ttl" $((collector_ttl / 3))
printf '  handover to collector-3       %8s s (join), %s s (drain)\n' "$handover_join" "$handover_drain"
[ "$unexpected" = 0 ] || die "$unexpected lines in the sinks are no line that was written"
[ "$t_lost" = 0 ] || die "$t_lost lines were lost"
[ "$t_dup_planned" = 0 ] || echo "demo: warning: planned moves duplicated $t_dup_planned lines" >&2
echo "  no line lost"

# Stop the agents and the cluster before the simulation.
for p in "${apid[@]}" "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${apid[@]}" "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
apid=() pid=()

echo
echo "== deterministic simulation: 3- and 5-member clusters under faults"
"$sim" --seeds 20 --start 1 --nodes 3
"$sim" --seeds 20 --start 1 --nodes 5
echo "Replay any seed with a readable trace: SIM_SEED=7 $sim --nodes 3"
say "demo done"
