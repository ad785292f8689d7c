#!/bin/bash
# One corral-bench run on a fresh 3-member cluster (loopback, HTTP metrics
# on), then what each member's synced raft log writes cost meanwhile: their
# count and mean duration (corral_disk_wal_fsync_duration_seconds over the
# run), beside the bench's JSON line. For A/B runs of the write path.
# Usage: bench/wal_sync.sh BUILD_DIR [corral-bench flags...]
#   e.g. bench/wal_sync.sh build --workload put --clients 1 --conns 1 --key-size 256 --val-size 1024 --duration 8s
set -euo pipefail
build=$1; shift
corrald=${CORRALD:-$build/coordinator/main/corrald}; ctl=$build/cli/corralctl; bench=$build/bench/corral-bench
dir=$(mktemp -d); base=$((24000 + $$ % 3000 * 2)); cl=""; eps=""  # below the ephemeral range
for i in 1 2 3; do cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"; eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"; done
pids=()
trap 'kill ${pids[*]} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
for i in 1 2 3; do
  "$corrald" --name n$i --data-dir "$dir/n$i" --listen-peer tcp://127.0.0.1:$((base + 2*i)) \
    --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) --listen-http http://127.0.0.1:$((base + 100 + i)) \
    --initial-cluster "$cl" --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
  pids+=($!)
done
for _ in $(seq 50); do "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
snap() {
  for i in 1 2 3; do
    curl -s http://127.0.0.1:$((base + 100 + i))/metrics |
      awk -v m=n$i '/^corral_disk_wal_fsync_duration_seconds_(count|sum) /{print m, $1, $2}'
  done
}
snap > "$dir/before"
"$bench" --endpoints "$eps" "$@" 2>/dev/null
snap > "$dir/after"
paste "$dir/before" "$dir/after" | awk '
  /_count/ {c[$1] = $6 - $3} /_sum/ {s[$1] = $6 - $3}
  END {for (m in c) if (c[m] > 0) printf "%s wal_syncs=%d mean_us=%.0f\n", m, c[m], s[m] / c[m] * 1e6}' | sort
