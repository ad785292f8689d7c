#!/bin/sh
# Leader memory and another client's put latency while hostile clients run
# (corral-bench --hostile-conns: connections that send reads of a 1.4 MB
# value and never read the replies), next to the same run without them.
# Each run is a fresh 3-member cluster (cluster.sh); one writer (1 client,
# 1 connection) measures put latency; the hostile connections target every
# member. Prints, per run, the bench's JSON line, each member's peak RSS and
# the raft term before and after (a change: an election happened).
# Usage: hostile.sh BUILD_DIR [HOSTILE_CONNS_PER_MEMBER [DURATION]]
#   CORRALD=path/to/corrald runs another corrald binary (e.g. an older one).
set -eu
build=$1; conns=${2:-1}; duration=${3:-10s}
here=$(dirname "$0")
for hostile in 0 "$conns"; do
  echo "== hostile connections per member: $hostile"
  CLUSTER_TERMS=1 "$here/cluster.sh" 3 "$build" --workload put --clients 1 --conns 1 \
    --duration "$duration" --hostile-conns "$hostile" 2>&1
done
