#!/bin/sh
# Availability through a leader crash, etcd's side of bench/failover.sh: a
# 3-member etcd cluster under a steady put load (10 clients); after 5 s the
# leader is killed with SIGKILL. Prints etcd-bench's JSON; max_gap_ms is the
# longest stretch with no acknowledged write.
# Usage: bench/etcd/failover.sh ETCD_BENCH_BINARY
set -eu
bench=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/start_cluster.sh"
start_etcd_cluster 3
"$bench" -endpoints "$eps" -workload put -clients 10 -conns 10 -key-size 16 -val-size 256 -duration 15s 2>/dev/null &
b=$!
sleep 5
leader=$(ETCDCTL_API=3 etcdctl --endpoints="$eps" endpoint status 2>/dev/null | awk -F', ' '$5=="true" {print $1}')
[ -n "$leader" ] || { echo "no etcd leader found" >&2; exit 1; }
i=1; for ep in $(echo "$eps" | tr ',' ' '); do
  [ "$ep" = "$leader" ] && eval "kill -9 \$pid_of_$i"
  i=$((i+1))
done
wait $b
