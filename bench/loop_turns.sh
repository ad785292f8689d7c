#!/bin/sh
# The longest node-loop turn of every member and whether the leader changed,
# for each corral-bench workload of round.sh, on a fresh 3-member cluster per
# workload (bench/cluster.sh with STATUS_JSON). One line per workload:
#   workload  longest turn ms per member  raft terms before -> after  ops/s
# A term that moved means a leader change during the run.
# Usage: loop_turns.sh BUILD_DIR [workload...]   (CORRALD= another corrald)
set -eu
build=$1; shift
here=$(dirname "$0")
[ $# -gt 0 ] || set -- put1000 put1 get1 get100lin get100ser watch lease
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
for w in "$@"; do
  case $w in
    put1000) f="-workload put -clients 1000 -conns 100 -key-size 256 -val-size 1024 -duration ${DURATION:-10s}" ;;
    put1) f="-workload put -clients 1 -conns 1 -key-size 256 -val-size 1024 -duration ${DURATION:-10s}" ;;
    get1) f="-workload get -clients 1 -conns 1 -duration ${DURATION:-10s}" ;;
    get100lin) f="-workload get -clients 100 -conns 10 -duration ${DURATION:-10s}" ;;
    get100ser) f="-workload get -clients 100 -conns 10 -serializable -duration ${DURATION:-10s}" ;;
    watch) f="-workload watch -watchers 10000 -conns 10 -events 50" ;;
    lease) f="-workload lease -leases 10000 -conns 10 -ttl 10 -duration 20s" ;;
    *) echo "unknown workload $w" >&2; exit 2 ;;
  esac
  # shellcheck disable=SC2086
  res=$(STATUS_JSON="$out/s" "$here/cluster.sh" 3 "$build" $f 2>/dev/null || true)
  ops=$(echo "$res" | sed -n 's/.*"ops_per_sec":\([0-9.]*\).*/\1/p' | head -1)
  turns=$(sed -n 's/.*"loop_turn_max_us":\([0-9]*\).*/\1/p' "$out/s.after" | awk '{printf "%s%.1f", (NR>1?",":""), $1/1000}')
  tb=$(sed -n 's/.*"raft_term":\([0-9]*\).*/\1/p' "$out/s.before" | sort -n | tail -1)
  ta=$(sed -n 's/.*"raft_term":\([0-9]*\).*/\1/p' "$out/s.after" | sort -n | tail -1)
  echo "$w  longest_turn_ms=$turns  term=$tb->$ta  ops_per_sec=${ops:-?}"
done
