#!/usr/bin/env bash
# A 3-member corrald cluster on 127.0.0.1, its data, logs and pids in DIR.
#
#   examples/local-cluster.sh start DIR    # starts n1 n2 n3, waits until healthy
#   examples/local-cluster.sh status DIR   # corralctl endpoint status
#   examples/local-cluster.sh kill DIR N   # SIGKILL member nN (a crash)
#   examples/local-cluster.sh restart DIR N  # starts nN again from its data
#   examples/local-cluster.sh stop DIR     # SIGTERM to every member
#
# Client endpoints: 127.0.0.1:2379, 127.0.0.1:12379, 127.0.0.1:22379 (peers on
# the next port). CORRAL_PORT_BASE=N moves them to N, N+10000, N+20000 (keep
# N+20001 below 32768). The binaries are taken from CORRAL_BUILD (default:
# the build directory of this checkout).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${CORRAL_BUILD:-$here/../build}
corrald="$build/coordinator/main/corrald"
ctl_bin="$build/cli/corralctl"
port_base=${CORRAL_PORT_BASE:-2379}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)

client_port() { echo $((port_base + ($1 - 1) * 10000)); }
peer_port() { echo $(($(client_port "$1") + 1)); }
cluster="" endpoints=""
for i in 1 2 3; do
  cluster="${cluster:+$cluster,}n$i=tcp://127.0.0.1:$(peer_port "$i")"
  endpoints="${endpoints:+$endpoints,}127.0.0.1:$(client_port "$i")"
done
ctl() { "$ctl_bin" --endpoints "$endpoints" "$@"; }
running() { [ -f "$dir/n$1.pid" ] && kill -0 "$(cat "$dir/n$1.pid")" 2>/dev/null; }

start_member() {
  local i=$1
  if running "$i"; then echo "n$i is already running (pid $(cat "$dir/n$i.pid"))"; return; fi
  [ -x "$corrald" ] || { echo "$corrald is not built (make build, or set CORRAL_BUILD)" >&2; exit 1; }
  nohup "$corrald" --name "n$i" --data-dir "$dir/n$i" \
    --listen-peer "tcp://127.0.0.1:$(peer_port "$i")" \
    --listen-client "tcp://127.0.0.1:$(client_port "$i")" \
    --initial-cluster "$cluster" >>"$dir/n$i.log" 2>&1 </dev/null &
  echo $! >"$dir/n$i.pid"
  echo "n$i: pid $!, client 127.0.0.1:$(client_port "$i"), data $dir/n$i, log $dir/n$i.log"
}
wait_healthy() {
  for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the cluster is not healthy after 10 s; see $dir/n*.log" >&2
  return 1
}
stop_member() {  # N SIGNAL
  local i=$1 p
  running "$i" || { rm -f "$dir/n$i.pid"; return 0; }
  p=$(cat "$dir/n$i.pid")
  kill "-$2" "$p"
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/n$i.pid"
  echo "n$i (pid $p) stopped with SIG$2"
}
member() { [[ "${1:-}" =~ ^[123]$ ]] || usage; echo "$1"; }

case $cmd in
  start)
    for i in 1 2 3; do start_member "$i"; done
    wait_healthy
    echo "healthy; endpoints: $endpoints"
    echo "  corralctl --endpoints $endpoints endpoint status -w table"
    ;;
  status) ctl -w table endpoint status ;;
  kill) stop_member "$(member "${3:-}")" KILL ;;
  restart) start_member "$(member "${3:-}")"; wait_healthy ;;
  stop) for i in 1 2 3; do stop_member "$i" TERM; done ;;
  *) usage ;;
esac
