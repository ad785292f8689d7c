#!/bin/bash
# Log collection: corral vs rsyslog vs syslog-ng on the same workload, the
# same machine, one after the other in one run, everything on 127.0.0.1.
#
# Workload (bench/logs/logbench.cc, the same for every system): LINES lines
# "fNN SEQ t=NS PAYLOAD #CSUM" across 10 files (98% 100-300 bytes, 2% up to
# 8 KiB), written at RATE lines/s, each file rotated twice by rename
# (.log.1 -> .log.2, .log -> .log.1, reopen .log) at 1/3 and 2/3 of its lines.
# Each system collects them over TCP into files:
#   corral     3 corrald members, a source agent (one stream per file, glob
#              fNN.log*), a collector agent (file sink, fdatasync and a fenced
#              checkpoint every --checkpoint-interval-ms, default 1000).
#   rsyslog    imfile (inotify, the default mode; glob f*.log; state file
#              written after each batch) -> omfwd TCP with a disk-assisted
#              action queue, retry forever -> imtcp -> omfile; two rsyslogd -n.
#   rsyslog-poll  the same with imfile mode="polling" pollingInterval="1" and
#              glob f*.log* (see RESULTS.md: inotify mode loses renamed files).
#   syslog-ng  wildcard-file (f*.log, flags(no-parse)) -> network() TCP with a
#              disk-buffer(reliable(no)) -> network() -> file(), flow-control
#              on every path; two syslog-ng -F.
#
# Phases per system:
#   1 throughput: generation starts once the system is up; wall = first write
#     to the last line delivered (the verifier polls the output every 20 ms);
#     CPU = utime+stime of the system's processes over that window
#     (/proc/PID/stat, all threads); MB/CPU-s = bytes written / CPU seconds.
#   2 latency: LAT_RATE lines/s for LAT_SECONDS s, no rotation; each line's
#     write time is in it; the verifier reads the output every 1 ms and takes
#     the time of the read that first shows a line (resolution ~1-2 ms).
#   3 (corral only) failover, under 1000 lines/s: a second collector joins;
#     kill -9 of the first: time until each of its streams shows new lines in
#     the second's sink; a third joins; SIGTERM of the second: the same.
#   Then every process is stopped and all output verified: lost, duplicated,
#   corrupt lines.
# Output: one JSON line per system on stdout, then a markdown table.
#
# Usage: bench/logs.sh BUILD_DIR [--lines N] [--rate R] [--systems "corral rsyslog rsyslog-poll syslog-ng"]
#          [--lat-rate R] [--lat-seconds S] [--no-failover] [--keep]
#   BUILD_DIR holds coordinator/main/corrald, agent/main/corral-agent,
#   cli/corralctl and bench/corral-logbench. Run as root on Debian 12; installs
#   rsyslog and syslog-ng-core if missing (they conflict as packages: the one
#   apt cannot install is unpacked under /var/cache/corral-bench, no service).
set -eu
[ $# -ge 1 ] || { sed -n '2,45p' "$0"; exit 2; }
build=$(cd "$1" && pwd); shift
LINES=300000; RATE=30000; SYSTEMS="corral rsyslog rsyslog-poll syslog-ng"
LAT_RATE=2000; LAT_SECONDS=10; FAILOVER=1; KEEP=0
while [ $# -gt 0 ]; do
  case $1 in
    --lines) LINES=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --lat-rate) LAT_RATE=$2; shift 2 ;;
    --lat-seconds) LAT_SECONDS=$2; shift 2 ;;
    --no-failover) FAILOVER=0; shift ;;
    --keep) KEEP=1; shift ;;
    *) echo "logs.sh: unknown flag $1" >&2; exit 2 ;;
  esac
done
corrald=$build/coordinator/main/corrald
agent=$build/agent/main/corral-agent
ctl=$build/cli/corralctl
lb=$build/bench/corral-logbench
for b in "$corrald" "$agent" "$ctl" "$lb"; do [ -x "$b" ] || { echo "logs.sh: missing $b" >&2; exit 2; }; done
COLLECTOR_FLAGS=${COLLECTOR_FLAGS:-}  # extra corral-agent flags for the collectors (e.g. --max-in-flight-fetches 8)
IDLE_MS=${IDLE_MS:-20000}     # give up on a phase after this long without a new line
DEADLINE_S=${DEADLINE_S:-300} # and at most this long after its generator ends

work=$(mktemp -d /tmp/corral-logs.XXXXXX)
pids=""            # every process this script started (killed by id at exit)
made_policy=0
cleanup() {
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 50); do
    alive=0; for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ "$KEEP" = 1 ]; then echo "logs.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "logs.sh: $*" >&2; }
now_ns() { "$lb" now; }
load() { cut -d' ' -f1 /proc/loadavg; }
field() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" | head -1; }
arr() { sed -n "s/.*\"$1\":\[\([-0-9,]*\)\].*/\1/p" | head -1; }
# utime+stime in clock ticks of the given pids (all threads), 0 for gone ones
ticks() { local t=0 p s; for p in "$@"; do s=$(sed 's/.*) //' /proc/"$p"/stat 2>/dev/null | awk '{print $12 + $13}') || s=0; t=$((t + ${s:-0})); done; echo $t; }
hz=$(getconf CLK_TCK)
hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/"$1"/status 2>/dev/null || echo null; }
stop_pids() {  # TERM, up to 15 s, then KILL
  local p i alive
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for i in $(seq 150); do
    alive=0; for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && return 0; sleep 0.1
  done
  for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

# ---- tools ----
# the package manager may not start a service while we install
guard_services() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
}
unpack() {  # unpack a .deb (and install its library dependencies) under /var/cache/corral-bench/$1
  local pkg=$1 dir=/var/cache/corral-bench/$1
  [ -d "$dir/usr" ] && return 0
  mkdir -p "$dir" && chmod 755 /var/cache/corral-bench "$dir"
  (cd "$dir" && apt-get download "$pkg" >/dev/null 2>&1 && dpkg -x ./"$pkg"_*.deb . ) || { log "cannot unpack $pkg"; return 1; }
  # its Depends, minus the conflicting daemon packages themselves
  deps=$(apt-cache depends "$pkg" | awk '/^  Depends:/ && $2 !~ /^</ {print $2}' | grep -v -e rsyslog -e syslog-ng | sort -u)
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove --no-install-recommends $deps >/dev/null
}
RSYSLOGD=""; RSYSLOG_MODS=""; SYSLOGNG=""; SYSLOGNG_ENV=""
need_rsyslog=0; need_sng=0
case " $SYSTEMS " in *" rsyslog"*) need_rsyslog=1 ;; esac
case " $SYSTEMS " in *" syslog-ng "*) need_sng=1 ;; esac
updated=0
apt_update() { [ $updated = 1 ] || { apt-get update >/dev/null 2>&1 || true; updated=1; }; }
if [ $need_rsyslog = 1 ]; then
  if command -v rsyslogd >/dev/null; then RSYSLOGD=$(command -v rsyslogd)
  else
    guard_services; apt_update
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove --no-install-recommends rsyslog >/dev/null 2>&1; then RSYSLOGD=$(command -v rsyslogd)
    else unpack rsyslog; RSYSLOGD=/var/cache/corral-bench/rsyslog/usr/sbin/rsyslogd; RSYSLOG_MODS="-M /var/cache/corral-bench/rsyslog/usr/lib/x86_64-linux-gnu/rsyslog"; fi
  fi
fi
if [ $need_sng = 1 ]; then
  if command -v syslog-ng >/dev/null; then SYSLOGNG=$(command -v syslog-ng)
  else
    guard_services; apt_update
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-remove --no-install-recommends syslog-ng-core >/dev/null 2>&1; then SYSLOGNG=$(command -v syslog-ng)
    else
      unpack syslog-ng-core; s=/var/cache/corral-bench/syslog-ng-core
      SYSLOGNG="$s/usr/sbin/syslog-ng --module-path=$s/usr/lib/syslog-ng/3.38"; SYSLOGNG_ENV="LD_LIBRARY_PATH=$s/usr/lib/syslog-ng"
    fi
  fi
fi
[ $made_policy = 1 ] && { rm -f /usr/sbin/policy-rc.d; made_policy=0; }

# ports below the ephemeral range (32768-60999)
base=$((20000 + $$ % 600 * 20))
eps="tcp://127.0.0.1:$((base+3)),tcp://127.0.0.1:$((base+5)),tcp://127.0.0.1:$((base+7))"
ctl_eps="127.0.0.1:$((base+3)),127.0.0.1:$((base+5)),127.0.0.1:$((base+7))"

# ---- systems: start_<sys> DIR sets SYS_PIDS (all), SGROUPS ("name:pid pid;...") ----
start_corral() {
  local d=$1 i cl="" src="" t
  for i in 1 2 3; do cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"; done
  M_PIDS=""
  for i in 1 2 3; do
    "$corrald" --name n$i --data-dir "$d/n$i" --listen-peer tcp://127.0.0.1:$((base + 2*i)) \
      --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) --initial-cluster "$cl" --initial-cluster-state new \
      >"$d/n$i.log" 2>&1 &
    M_PIDS="$M_PIDS $!"; pids="$pids $!"
  done
  for t in $(seq 100); do "$ctl" --endpoints "$ctl_eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
  for i in $(seq 0 9); do src="$src --source bench/f0$i=$d/in/f0$i.log*"; done
  # shellcheck disable=SC2086
  "$agent" --endpoints "$eps" --id src1 --ip 127.0.0.1 --roles source --listen tcp://127.0.0.1:$((base+10)) $src \
    >"$d/src1.log" 2>&1 &
  SRC_PID=$!; pids="$pids $!"
  "$agent" --endpoints "$eps" --id c1 --ip 127.0.0.1 --roles collector $COLLECTOR_FLAGS --sink "file:$d/out/c1" >"$d/c1.log" 2>&1 &
  C1_PID=$!; pids="$pids $!"
  for t in $(seq 100); do
    [ "$("$ctl" --endpoints "$ctl_eps" tasks --collector c1 2>/dev/null | grep -c ' active ')" = 10 ] && break; sleep 0.2
  done
  SYS_PIDS="$M_PIDS $SRC_PID $C1_PID"
  SGROUPS="corrald:$M_PIDS;agents:$SRC_PID $C1_PID"
  RSS_NAMES="n1 n2 n3 source collector"
}
start_rsyslog() {  # $2: inotify | polling
  local d=$1 mode=$2 glob='f*.log' modeopt='mode="inotify"'
  [ "$mode" = polling ] && { glob='f*.log*'; modeopt='mode="polling" pollingInterval="1"'; }
  mkdir -p "$d/ws" "$d/wr"
  cat >"$d/recv.conf" <<EOF
global(workDirectory="$d/wr" maxMessageSize="64k")
main_queue(queue.type="LinkedList" queue.filename="mainq" queue.saveOnShutdown="on" queue.maxDiskSpace="4g")
module(load="imtcp")
template(name="msgonly" type="string" string="%msg:2:\$%\n")
input(type="imtcp" address="127.0.0.1" port="$((base+12))" ruleset="out")
ruleset(name="out") {
  action(type="omfile" file="$d/out/all.log" template="msgonly")
}
EOF
  cat >"$d/send.conf" <<EOF
global(workDirectory="$d/ws" maxMessageSize="64k")
module(load="imfile" $modeopt)
input(type="imfile" file="$d/in/$glob" tag="bench:" ruleset="fwd" persistStateAfterSubmission="on")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="$((base+12))" protocol="tcp"
         queue.type="LinkedList" queue.filename="fwdq" queue.saveOnShutdown="on" queue.maxDiskSpace="4g"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}
EOF
  # shellcheck disable=SC2086
  "$RSYSLOGD" -n $RSYSLOG_MODS -f "$d/recv.conf" -i "$d/recv.pid" >"$d/recv.log" 2>&1 &
  R_PID=$!; pids="$pids $!"
  for t in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$((base+12))) 2>/dev/null && break; sleep 0.1; done
  # shellcheck disable=SC2086
  "$RSYSLOGD" -n $RSYSLOG_MODS -f "$d/send.conf" -i "$d/send.pid" >"$d/send.log" 2>&1 &
  S_PID=$!; pids="$pids $!"
  sleep 1
  SYS_PIDS="$S_PID $R_PID"; SGROUPS="sender:$S_PID;receiver:$R_PID"; RSS_NAMES="sender receiver"
}
start_syslog_ng() {
  local d=$1 t
  mkdir -p "$d/ws" "$d/wr"
  cat >"$d/send.conf" <<EOF
@version: 3.38
options { stats-freq(0); log-fifo-size(10000); log-msg-size(65536); };
source s_files {
  wildcard-file(base-dir("$d/in") filename-pattern("f*.log") recursive(no) flags(no-parse)
                program-override("bench") log-iw-size(10000) max-files(100));
};
destination d_net {
  network("127.0.0.1" port($((base+14))) transport("tcp")
          disk-buffer(reliable(no) dir("$d/ws") disk-buf-size(4294967296) mem-buf-length(10000)));
};
log { source(s_files); destination(d_net); flags(flow-control); };
EOF
  cat >"$d/recv.conf" <<EOF
@version: 3.38
options { stats-freq(0); log-fifo-size(10000); log-msg-size(65536); };
source s_net { network(ip("127.0.0.1") port($((base+14))) transport("tcp") log-iw-size(10000)); };
destination d_file { file("$d/out/all.log" template("\$MSG\n")); };
log { source(s_net); destination(d_file); flags(flow-control); };
EOF
  # shellcheck disable=SC2086
  env $SYSLOGNG_ENV $SYSLOGNG -F -f "$d/recv.conf" -R "$d/wr/persist" -p "$d/recv.pid" -c "$d/wr/ctl" >"$d/recv.log" 2>&1 &
  R_PID=$!; pids="$pids $!"
  for t in $(seq 50); do (echo >/dev/tcp/127.0.0.1/$((base+14))) 2>/dev/null && break; sleep 0.1; done
  # shellcheck disable=SC2086
  env $SYSLOGNG_ENV $SYSLOGNG -F -f "$d/send.conf" -R "$d/ws/persist" -p "$d/send.pid" -c "$d/ws/ctl" >"$d/send.log" 2>&1 &
  S_PID=$!; pids="$pids $!"
  sleep 1
  SYS_PIDS="$S_PID $R_PID"; SGROUPS="sender:$S_PID;receiver:$R_PID"; RSS_NAMES="sender receiver"
}

group_ticks() {  # "name:pids;name:pids" -> "name=ticks name=ticks"
  local g out="" IFS=';'
  for g in $SGROUPS; do out="$out ${g%%:*}=$(IFS=' '; ticks ${g#*:})"; done
  echo "$out"
}
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'; }

# "1,0,..." over f00..f09: the streams the collector holds now (corralctl tasks)
held_by() {
  local t held
  held=$("$ctl" --endpoints "$ctl_eps" tasks --collector "$1" 2>/dev/null | sed -n 's|^bench/f\([0-9]*\)/.* active .*|\1|p')
  for t in $(seq 0 9); do echo "$held" | grep -qx "0$t" && echo 1 || echo 0; done | paste -sd,
}
# corral failover: sets FAIL_JSON
corral_failover() {
  local d=$1 t0 t1 moved_from gen_pid r
  cp "$d/st2" "$d/st2.base"
  cp "$d/st2" "$d/st3"
  "$lb" gen --dir "$d/in" --lines 60000 --rate 1000 --rotations 0 --state "$d/st3" >"$d/gen3.json" &
  gen_pid=$!; pids="$pids $!"
  "$agent" --endpoints "$eps" --id c2 --ip 127.0.0.1 --roles collector $COLLECTOR_FLAGS --sink "file:$d/out/c2" >"$d/c2.log" 2>&1 &
  C2_PID=$!; pids="$pids $!"
  "$lb" collect --dir "$d/out/c2" --until-streams 1 --timeout-ms 30000 --poll-us 10000 >/dev/null
  sleep 3
  # the streams c1 delivers now, then kill -9 c1
  moved_from=$(held_by c1)
  t0=$(now_ns); kill -KILL "$C1_PID"
  r=$("$lb" collect --dir "$d/out/c2" --from-end --until-streams 10 --timeout-ms 60000 --poll-us 2000 | arr first_seen_ns)
  REASSIGN=$(paste -d' ' <(echo "$moved_from" | tr ',' '\n') <(echo "$r" | tr ',' '\n') |
    awk -v t0="$t0" '$1 > 0 { n++; if ($2 == 0) miss++; else { ms = ($2 - t0) / 1e6; if (!n1 || ms < lo) lo = ms; if (ms > hi) hi = ms; n1 = 1 } }
      END { printf "{\"streams\":%d,\"missing\":%d,\"first_ms\":%.0f,\"all_ms\":%.0f}", n, miss, lo, hi }')
  "$agent" --endpoints "$eps" --id c3 --ip 127.0.0.1 --roles collector $COLLECTOR_FLAGS --sink "file:$d/out/c3" >"$d/c3.log" 2>&1 &
  C3_PID=$!; pids="$pids $!"
  "$lb" collect --dir "$d/out/c3" --until-streams 1 --timeout-ms 30000 --poll-us 10000 >/dev/null
  sleep 3
  moved_from=$(held_by c2)
  t1=$(now_ns); kill -TERM "$C2_PID"
  r=$("$lb" collect --dir "$d/out/c3" --from-end --until-streams 10 --timeout-ms 60000 --poll-us 2000 | arr first_seen_ns)
  HANDOVER=$(paste -d' ' <(echo "$moved_from" | tr ',' '\n') <(echo "$r" | tr ',' '\n') |
    awk -v t0="$t1" '$1 > 0 { n++; if ($2 == 0) miss++; else { ms = ($2 - t0) / 1e6; if (!n1 || ms < lo) lo = ms; if (ms > hi) hi = ms; n1 = 1 } }
      END { printf "{\"streams\":%d,\"missing\":%d,\"first_ms\":%.0f,\"all_ms\":%.0f}", n, miss, lo, hi }')
  for t in $(seq 900); do kill -0 $gen_pid 2>/dev/null || break; sleep 0.1; done
  wait $gen_pid 2>/dev/null || true
  # everything of the failover phase, over all three sinks
  r=$("$lb" collect --dir "$d/out" --base "$d/st2.base" --expect "$d/st3" --timeout-ms 60000 --idle-ms 15000)
  FAIL_JSON="{\"kill9\":$REASSIGN,\"sigterm\":$HANDOVER,\"fo_lost\":$(echo "$r" | field lost),\"fo_dup\":$(echo "$r" | field dup)}"
  stop_pids "$C3_PID"
  stop_pids "$C2_PID"
}

run_system() {
  local sys=$1 d=$work/$1 l0 c0 c1 g0 g1 gen wall w r lat rss="" names p n i final
  rm -rf "$d"; mkdir -p "$d/in" "$d/out"
  l0=$(load)
  log "$sys: starting (load $l0)"
  case $sys in
    corral) start_corral "$d" ;;
    rsyslog) start_rsyslog "$d" inotify ;;
    rsyslog-poll) start_rsyslog "$d" polling ;;
    syslog-ng) start_syslog_ng "$d" ;;
    *) log "unknown system $sys"; return 1 ;;
  esac
  # phase 1: throughput
  g0=$(group_ticks)
  "$lb" collect --dir "$d/out" --expect-lines "$LINES" --timeout-ms $((DEADLINE_S * 1000 + (RATE > 0 ? LINES * 1000 / RATE : 0))) \
    --idle-ms "$IDLE_MS" >"$d/p1.json" &
  w=$!
  "$lb" gen --dir "$d/in" --lines "$LINES" --rate "$RATE" --rotations 2 --state "$d/st1" >"$d/gen1.json"
  wait $w || true
  g1=$(group_ticks)
  gen=$(cat "$d/gen1.json")
  r=$(cat "$d/p1.json")
  wall=$(awk -v a="$(echo "$gen" | field start_ns)" -v b="$(echo "$r" | field last_new_ns)" 'BEGIN { printf "%.2f", (b > 0 ? (b - a) / 1e9 : -1) }')
  log "$sys: phase 1 $(echo "$r" | cut -c1-160)"
  # phase 2: latency at a fixed rate
  cp "$d/st1" "$d/st1.base"
  "$lb" collect --dir "$d/out" --from-end --base "$d/st1.base" --expect-lines $((LAT_RATE * LAT_SECONDS)) --latency \
    --poll-us 1000 --rescan-ms 200 --timeout-ms $(((LAT_SECONDS + 60) * 1000)) --idle-ms "$IDLE_MS" >"$d/p2.json" &
  w=$!
  sleep 0.3
  cp "$d/st1" "$d/st2"
  "$lb" gen --dir "$d/in" --lines $((LAT_RATE * LAT_SECONDS)) --rate "$LAT_RATE" --rotations 0 --state "$d/st2" >"$d/gen2.json"
  wait $w || true
  lat=$(cat "$d/p2.json")
  log "$sys: phase 2 $(echo "$lat" | cut -c1-200)"
  # peak RSS before anything stops
  for p in $SYS_PIDS; do rss="$rss${rss:+,}$(hwm "$p")"; done
  FAIL_JSON=null
  if [ "$sys" = corral ] && [ "$FAILOVER" = 1 ]; then corral_failover "$d"; log "$sys: failover $FAIL_JSON"; fi
  final_st=$d/st2; [ -f "$d/st3" ] && final_st=$d/st3
  stop_pids $SYS_PIDS
  final=$("$lb" collect --dir "$d/out" --expect "$final_st" --timeout-ms 0)
  # CPU per group over phase 1
  local cpu_total=0 cpu_json=""
  for kv in $g1; do
    n=${kv%%=*}; c1=${kv#*=}; c0=$(echo "$g0" | tr ' ' '\n' | sed -n "s/^$n=//p")
    cpu_json="$cpu_json${cpu_json:+,}\"$n\":$(secs $((c1 - c0)))"; cpu_total=$((cpu_total + c1 - c0))
  done
  local bytes mbps agents_mbps
  bytes=$(echo "$gen" | field bytes)
  mbps=$(awk -v b="$bytes" -v t="$cpu_total" -v hz="$hz" 'BEGIN { printf "%.1f", (t > 0 ? b / 1e6 / (t / hz) : 0) }')
  agents_mbps=null
  if [ "$sys" = corral ]; then
    local at; at=$(echo "$g0 $g1" | tr ' ' '\n' | sed -n 's/^agents=//p' | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }')
    agents_mbps=$(awk -v b="$bytes" -v t="$at" -v hz="$hz" 'BEGIN { printf "%.1f", (t > 0 ? b / 1e6 / (t / hz) : 0) }')
  fi
  printf '{"system":"%s","lines":%s,"bytes":%s,"rate":%s,"gen_s":%s,"wall_s":%s,"cpu_s":%s,"cpu_split_s":{%s},"mb_per_cpu_s":%s,"mb_per_cpu_s_agents":%s,"peak_rss_mb":{"order":"%s","mb":[%s]},"p1_lost_at_end":%s,"p1_dup":%s,"lost":%s,"dup":%s,"corrupt":%s,"prefixed":%s,"lat_n":%s,"lat_p50_ms":%s,"lat_p90_ms":%s,"lat_p99_ms":%s,"lat_max_ms":%s,"failover":%s,"load":%s,"load_end":%s,"collector_flags":"%s"}\n' \
    "$sys" "$(echo "$gen" | field lines)" "$bytes" "$RATE" "$(echo "$gen" | field seconds)" "$wall" "$(secs $cpu_total)" "$cpu_json" \
    "$mbps" "$agents_mbps" "$RSS_NAMES" "$rss" "$(echo "$r" | field lost)" "$(echo "$r" | field dup)" \
    "$(echo "$final" | field lost)" "$(echo "$final" | field dup)" "$(echo "$final" | field corrupt)" "$(echo "$final" | field prefixed)" \
    "$(echo "$lat" | field latency_n)" "$(echo "$lat" | field p50_ms)" "$(echo "$lat" | field p90_ms)" "$(echo "$lat" | field p99_ms)" \
    "$(echo "$lat" | field max_ms)" "$FAIL_JSON" "$l0" "$(load)" "$([ "$sys" = corral ] && echo "$COLLECTOR_FLAGS")" | tee -a "$work/results.jsonl"
  # free the disk and the ports for the next system
  rm -rf "$d/in" "$d/out" "$d"/n? "$d"/ws "$d"/wr
}

log "work dir $work, ports $base..$((base+14)), lines $LINES at $RATE/s, latency $LAT_RATE/s x ${LAT_SECONDS}s"
for s in $SYSTEMS; do run_system "$s"; done
echo
echo "| system | lines | wall s | CPU s (split) | MB/CPU-s | lost / dup / corrupt | latency p50 / p99 / max ms | peak RSS MB | load start / end |"
echo "|---|---|---|---|---|---|---|---|---|"
while read -r j; do
  s=$(echo "$j" | sed -n 's/.*"system":"\([^"]*\)".*/\1/p')
  split=$(echo "$j" | sed -n 's/.*"cpu_split_s":{\([^}]*\)}.*/\1/p' | tr -d '"' | sed 's/,/ /g')
  mb=$(echo "$j" | field mb_per_cpu_s); am=$(echo "$j" | field mb_per_cpu_s_agents)
  [ "$am" != null ] && [ -n "$am" ] && mb="$mb (agents $am)"
  printf '| %s | %s | %s | %s (%s) | %s | %s / %s / %s | %s / %s / %s | %s | %s / %s |\n' "$s" "$(echo "$j" | field lines)" \
    "$(echo "$j" | field wall_s)" "$(echo "$j" | field cpu_s)" "$split" "$mb" "$(echo "$j" | field lost)" \
    "$(echo "$j" | field dup)" "$(echo "$j" | field corrupt)" "$(echo "$j" | field lat_p50_ms)" "$(echo "$j" | field lat_p99_ms)" \
    "$(echo "$j" | field lat_max_ms)" "$(echo "$j" | arr mb)" "$(echo "$j" | field load)" "$(echo "$j" | field load_end)"
done <"$work/results.jsonl"
