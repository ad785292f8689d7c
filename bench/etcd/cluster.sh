#!/bin/sh
# Starts a fresh N-member etcd cluster on loopback, runs etcd-bench against it
# with the given flags (the same as corral-bench's: see bench/round.sh), then
# stops it. Prints etcd-bench's JSON line on stdout and each member's peak
# resident memory on stderr; exits non-zero if the run failed.
# Usage: bench/etcd/cluster.sh N ETCD_BENCH_BINARY [etcd-bench flags...]
set -eu
n=$1; bench=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/start_cluster.sh"
start_etcd_cluster "$n"
"$bench" -endpoints "$eps" "$@" 2>"$dir/bench.err" || { cat "$dir/bench.err" >&2; exit 1; }
rss=""; for p in $pids; do rss="$rss${rss:+,}$(awk '/VmHWM/ {print int($2/1024)}' /proc/$p/status 2>/dev/null)"; done
echo "{\"member_peak_rss_mb\":[$rss]}" >&2
