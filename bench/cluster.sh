#!/bin/sh
# Starts a fresh N-member corrald cluster on loopback in a temporary
# directory, runs corral-bench against it with the given flags, prints each
# member's peak resident memory on stderr, then stops it. The same shape as
# bench/etcd/cluster.sh (etcd's side), so that runs compare one to one.
# Usage: cluster.sh N BUILD_DIR [corral-bench flags...]
#   BUILD_DIR holds bench/corral-bench, cli/corralctl and coordinator/main/corrald
#   (or set CORRALD to another corrald binary).
#   CURVE=1: every member and the bench client get a key pair (corralctl
#   curve keygen) and the allow files: the cost of CURVE + ZAP.
#   READ_LEASE=1: every member runs with --read-lease true (lease-based
#   linearizable reads, corrald's default since session 22); READ_LEASE=0:
#   --read-lease false (ReadIndex, as etcd); unset: corrald's own default
#   (round.sh passes it through).
#   PEER_WIRE=tcp|zmq|auto: every member runs with --peer-wire PEER_WIRE
#   (unset: corrald's default, auto).
#   CLIENT_WIRE=tcp|zmq|auto: every member runs with --client-wire
#   CLIENT_WIRE, and so do corral-bench and the script's corralctl (unset:
#   the defaults, auto on both ends).
#   BENCH_AT=follower: corral-bench is given one follower's endpoint only
#   (add --seed-apart to a get workload, or its reads follow its first
#   write to the leader).
set -eu
n=$1; build=$2; shift 2
corrald=${CORRALD:-$build/coordinator/main/corrald}
bench=$build/bench/corral-bench
dir=$(mktemp -d)
base=$((24000 + $$ % 3000 * 2))  # servers below the ephemeral range (32768-60999)
cl=""; eps=""
i=1; while [ $i -le "$n" ]; do
  cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"
  eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"
  i=$((i+1))
done
ctl=$build/cli/corralctl
curve_client=""
if [ "${CURVE:-0}" = 1 ]; then
  pub() { sed -n 's/^public-key = //p' "$1"; }
  "$ctl" curve keygen --out "$dir/client" >/dev/null
  echo "$(pub "$dir/client.pub") bench" >"$dir/clients.allow"
  : >"$dir/peers.allow"; server_keys=""
  i=1; while [ $i -le "$n" ]; do
    "$ctl" curve keygen --out "$dir/n$i" >/dev/null
    echo "$(pub "$dir/n$i.pub") n$i" >>"$dir/peers.allow"
    server_keys="${server_keys:+$server_keys,}$dir/n$i.pub"
    i=$((i+1))
  done
  curve_client="--curve-key-file $dir/client.key --curve-server-key $server_keys"
fi
curve_member() {
  [ "${CURVE:-0}" = 1 ] && echo "--curve-key-file $dir/n$1.key --client-curve-allow-file $dir/clients.allow --peer-curve-allow-file $dir/peers.allow"
  return 0
}
read_lease=""
[ "${READ_LEASE:-}" = 1 ] && read_lease="--read-lease true"
[ "${READ_LEASE:-}" = 0 ] && read_lease="--read-lease false"
peer_wire=""
[ -n "${PEER_WIRE:-}" ] && peer_wire="--peer-wire $PEER_WIRE"
client_wire=""
[ -n "${CLIENT_WIRE:-}" ] && client_wire="--client-wire $CLIENT_WIRE"
curve_client="$curve_client $client_wire"
pids=""
i=1; while [ $i -le "$n" ]; do
  # shellcheck disable=SC2046 # the CURVE flags are words
  "$corrald" $(curve_member $i) $read_lease $peer_wire $client_wire --name n$i --data-dir "$dir/n$i" \
    --listen-peer tcp://127.0.0.1:$((base + 2*i)) --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) \
    --initial-cluster "$cl" --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
  pids="$pids $!"
  i=$((i+1))
done
trap 'kill $pids 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT  # || true: under set -e a failed kill would end the trap before the rm
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
# Healthy: every member answers status and knows a leader (up to 10 s).
# shellcheck disable=SC2086 # the CURVE flags are words
ctlc() { "$ctl" $curve_client "$@"; }
for t in $(seq 50); do
  ctlc --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
# CLUSTER_TERMS=1: the highest raft term before and after the run on stderr
# (a change means an election during the run).
max_term() {
  ctlc --endpoints "$eps" --command-timeout 2s -w json endpoint status 2>/dev/null |
    sed -n 's/.*"raft_term":\([0-9]*\).*/\1/p' | sort -n | tail -1
}
[ "${CLUSTER_TERMS:-0}" = 1 ] && term_before=$(max_term)
# STATUS_JSON=path: every member's status (term, longest loop turn) before
# and after the run, in path.before and path.after (bench/loop_turns.sh).
[ -n "${STATUS_JSON:-}" ] && ctlc --endpoints "$eps" -w json endpoint status >"$STATUS_JSON.before" 2>/dev/null
# BENCH_AT=follower: the bench talks to one follower only (its
# linearizable reads are forwarded to the leader: bench/RESULTS.md).
bench_eps=$eps
if [ "${BENCH_AT:-}" = follower ]; then
  bench_eps=$(ctlc --endpoints "$eps" endpoint status 2>/dev/null | awk -F', ' '$5 == "false" {print $1; exit}')
  [ -n "$bench_eps" ] || { echo "cluster.sh: no follower found" >&2; exit 1; }
fi
# shellcheck disable=SC2086 # the CURVE flags are words
"$bench" --endpoints "$bench_eps" $curve_client "$@" 2>/dev/null
[ -n "${STATUS_JSON:-}" ] && ctlc --endpoints "$eps" -w json endpoint status >"$STATUS_JSON.after" 2>/dev/null
[ "${CLUSTER_TERMS:-0}" = 1 ] && echo "{\"raft_term_before\":${term_before:-null},\"raft_term_after\":$(max_term || echo null)}" >&2
# peak resident memory of each member, on stderr so stdout stays one JSON line
# A member that is gone by now is reported (with its log's end), not skipped.
rss=""; i=1
for p in $pids; do
  m=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$p/status 2>/dev/null || true)
  if [ -z "$m" ]; then
    m=null
    echo "cluster.sh: member n$i (pid $p) exited during the run; its log ends:" >&2
    tail -5 "$dir/n$i.log" >&2
  fi
  rss="$rss${rss:+,}$m"; i=$((i+1))
done
echo "{\"member_peak_rss_mb\":[$rss]}" >&2
