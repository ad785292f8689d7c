#!/bin/sh
# One benchmark round: every workload of issue 3 on a fresh 3-member cluster,
# corral then etcd back to back, printing a markdown table row per workload
# (ratios corral/etcd) and the raw JSON lines below it.
# Usage: bench/round.sh BUILD_DIR [workload...]
#   workloads: put1000 put1 get1 get100lin get100ser watch lease lease-serial failover
#   put1000ks (not in the default set): put1000 over 20,000 keys, so that
#   both sides hold as many keys whatever their rates (peak RSS compares
#   like with like; with every key new, corral holds ~5x etcd's keys).
#   lease100 (not in the default set): the lease row with 100 connections
#   registering at once instead of 10 (a fleet's agents starting together).
#   lease-batch (not in the default set): corral registers in
#   LeaseGrantBatchRequests (LEASE_BATCH grants each, default 500, 2 in flight
#   per connection); etcd's side is its lease row unchanged (etcd has no
#   batched grant: one grant, then one put, per lease).
#   (default: all), and assign (corral only, etcd has no counterpart: 100k
#   streams over 1k collectors; ASSIGN_STREAMS / ASSIGN_COLLECTORS override).
#   etcd's side runs bench/etcd/ (etcd 3.4 from Debian, driven by etcd-bench,
#   built into BUILD_DIR/etcd-bench by bench/etcd/build.sh when missing).
#   Exits 1 if any run of either side gave no result (no ratio is invented).
#   READ_LEASE=1: corral's members run with --read-lease true, READ_LEASE=0
#   with --read-lease false (cluster.sh, failover.sh; unset: corrald's
#   default, lease reads since session 22); etcd's side is unchanged (its
#   default, ReadIndex).
#   corral's extra column ends with elections=N: raft elections during the
#   run (its highest term after minus before); anything but 0 outside
#   failover is a spurious leader change.
set -eu
build=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
etcd="$build/etcd-bench"
failed=""
need_etcd() { [ -x "$etcd" ] || "$here/etcd/build.sh" "$etcd"; }
[ $# -gt 0 ] || set -- put1000 put1 get1 get100lin get100ser watch lease lease-serial failover

flags() {
  case $1 in
    put1000) echo "-workload put -clients 1000 -conns 100 -key-size 256 -val-size 1024 -duration ${DURATION:-10s}" ;;
    put1000ks) echo "-workload put -clients 1000 -conns 100 -key-size 256 -val-size 1024 -key-space 20000 -duration ${DURATION:-10s}" ;;
    put1) echo "-workload put -clients 1 -conns 1 -key-size 256 -val-size 1024 -duration ${DURATION:-10s}" ;;
    get1) echo "-workload get -clients 1 -conns 1 -duration ${DURATION:-10s}" ;;
    get100lin) echo "-workload get -clients 100 -conns 10 -duration ${DURATION:-10s}" ;;
    get100ser) echo "-workload get -clients 100 -conns 10 -serializable -duration ${DURATION:-10s}" ;;
    watch) echo "-workload watch -watchers 10000 -conns 10 -events 50" ;;
    lease|lease-serial|lease-batch) echo "-workload lease -leases 10000 -conns 10 -ttl 10 -duration 20s" ;;
    lease100) echo "-workload lease -leases 10000 -conns 100 -ttl 10 -duration 20s" ;;
    assign) echo "--workload assign --streams ${ASSIGN_STREAMS:-100000} --collectors ${ASSIGN_COLLECTORS:-1000} --conns 4" ;;
    *) echo "unknown workload $1" >&2; exit 2 ;;
  esac
}
field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
load() { cut -d' ' -f1 /proc/loadavg; }

echo "| workload | corral ops/s | corral p50 / p99 ms | etcd ops/s | etcd p50 / p99 ms | ops ratio | p50 ratio | p99 ratio | peak RSS MB corral / etcd | extra corral / etcd | load corral / etcd |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
raw=""
for w in "$@"; do
  if [ "$w" = assign ]; then
    # shellcheck disable=SC2046
    lc=$(load); c=$("$here/cluster.sh" 3 "$build" $(flags "$w") 2>&1 | tr '\n' ' ')
    cr=$(echo "$c" | sed -n 's/.*member_peak_rss_mb":\[\([0-9,]*\)\].*/\1/p')
    printf '| assign | register %ss | reassign p50 %s / p99 %s ms | - | - | moved %s of min %s | join %s of %s | max load %s <= %s | %s / - | - | %s / - |\n' \
      "$(echo "$c" | field register_seconds)" "$(echo "$c" | field reassign_p50_ms)" "$(echo "$c" | field reassign_p99_ms)" \
      "$(echo "$c" | field moved)" "$(echo "$c" | field min_moved)" "$(echo "$c" | field join_moved)" \
      "$(echo "$c" | field join_min_moved)" "$(echo "$c" | field max_load)" "$(echo "$c" | field load_bound)" "$cr" "$lc"
    raw="$raw
    $w corral load=$lc: $c"
    continue
  fi
  need_etcd
  if [ "$w" = failover ]; then
    lc=$(load); c=$("$here/failover.sh" "$build" 2>/dev/null | tail -1)
    le=$(load); e=$("$here/etcd/failover.sh" "$etcd" 2>/dev/null | tail -1)
  else
    extra=""; [ "$w" = lease-serial ] && extra="--lease-register serial"
    [ "$w" = lease-batch ] && extra="--lease-batch ${LEASE_BATCH:-500} --lease-inflight 2"
    # shellcheck disable=SC2046
    lc=$(load); c=$(CLUSTER_TERMS=1 "$here/cluster.sh" 3 "$build" $(flags "$w") $extra 2>&1 | tr '\n' ' ')
    # shellcheck disable=SC2046
    le=$(load); e=$("$here/etcd/cluster.sh" 3 "$etcd" $(flags "$w") 2>&1 | tr '\n' ' ')
  fi
  co=$(echo "$c" | field ops_per_sec); eo=$(echo "$e" | field ops_per_sec)
  [ -n "$co" ] || failed="$failed $w:corral"
  [ -n "$eo" ] || failed="$failed $w:etcd"
  c50=$(echo "$c" | field p50_ms); e50=$(echo "$e" | field p50_ms)
  c99=$(echo "$c" | field p99_ms); e99=$(echo "$e" | field p99_ms)
  cx=$(echo "$c" | sed -n 's/.*"extra":"\([^"]*\)".*/\1/p; s/.*"max_gap_ms":\([0-9.]*\)}.*/max_gap_ms=\1/p' | tail -1)
  ex=$(echo "$e" | sed -n 's/.*"extra":"\([^"]*\)".*/\1/p; s/.*"max_gap_ms":\([0-9.]*\)}.*/max_gap_ms=\1/p' | tail -1)
  # Elections during corral's run (raft term after - before, cluster.sh's
  # CLUSTER_TERMS): issue 12 wants none in any run but failover.
  tb=$(echo "$c" | field raft_term_before); ta=$(echo "$c" | field raft_term_after)
  if [ -n "$tb" ] && [ -n "$ta" ]; then cx="$cx elections=$((ta - tb))"; elif [ "$w" != failover ]; then cx="$cx elections=?"; fi
  cr=$(echo "$c" | sed -n 's/.*member_peak_rss_mb":\[\([0-9,]*\)\].*/\1/p')
  er=$(echo "$e" | sed -n 's/.*member_peak_rss_mb":\[\([0-9,]*\)\].*/\1/p')
  printf '| %s | %.0f | %s / %s | %.0f | %s / %s | %s | %s | %s | %s / %s | %s / %s | %s / %s |\n' \
    "$w" "${co:-0}" "$c50" "$c99" "${eo:-0}" "$e50" "$e99" "$(ratio "${co:-0}" "${eo:-0}")" \
    "$(ratio "${c50:-0}" "${e50:-0}")" "$(ratio "${c99:-0}" "${e99:-0}")" "$cr" "$er" "$cx" "$ex" "$lc" "$le"
  raw="$raw
    $w corral load=$lc: $c
    $w etcd load=$le: $e"
done
echo
echo "Raw lines:"
echo "$raw"
if [ -n "$failed" ]; then
  echo "round.sh: no result from:$failed" >&2
  exit 1
fi
