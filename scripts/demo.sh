#!/usr/bin/env bash
# The main job: a local 3-member corrald cluster on loopback doing what the
# log-collection coordinator is for, then a leader failure, then the
# deterministic simulation on a few seeds. Agents (collectors of example
# logs) are not built yet: for now the demo plays their part with corralctl.
set -euo pipefail
[ -n "${DEMO_TRACE:-}" ] && set -x
build=${1:-build}
corrald="$build/coordinator/main/corrald"
ctl="$build/cli/corralctl"
sim="$build/tests/sim/corral-sim"
for b in "$corrald" "$ctl" "$sim"; do
  [ -x "$b" ] || { echo "demo: $b is not built (run make build)" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/corral-demo.XXXXXX)
base=$((21000 + $$ % 4000 * 2))
cluster="" endpoints=""
for i in 1 2 3; do
  cluster="${cluster:+$cluster,}n$i=tcp://127.0.0.1:$((base + 2*i))"
  endpoints="${endpoints:+$endpoints,}127.0.0.1:$((base + 2*i + 1))"
done
declare -A pid
start_member() {
  local i=$1
  "$corrald" --name "n$i" --data-dir "$dir/n$i" \
    --listen-peer "tcp://127.0.0.1:$((base + 2*i))" \
    --listen-client "tcp://127.0.0.1:$((base + 2*i + 1))" \
    --initial-cluster "$cluster" --tick-ms 20 >>"$dir/n$i.log" 2>&1 &
  pid[$i]=$!
}
cleanup() {
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ctl() { "$ctl" --endpoints "$endpoints" "$@"; }
wait_healthy() {
  for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: cluster did not become healthy; logs in $dir" >&2; exit 1
}

echo "== starting a 3-member cluster on 127.0.0.1 ($endpoints)"
for i in 1 2 3; do start_member "$i"; done
wait_healthy
ctl -w table endpoint status

echo
echo "== a collector watches /apps/ recursively (from revision 1)"
ctl watch /apps/ --prefix >"$dir/watch.out" 2>&1 &
watcher=$!

echo "== agents register the log streams of their machines, with a lease"
echo "   (the lease and its keys in one request: all or nothing, one revision)"
lease=$(ctl lease grant 30 \
  --put /apps/web/access/10.0.0.11 '{"agent":"agent-10.0.0.11","paths":["/var/log/web/access.log"]}' \
  --put /apps/web/error/10.0.0.11 '{"paths":["/var/log/web/error.log"]}' | awk '{print $2}')
ctl put /apps/web/access/10.0.0.12 '{"agent":"agent-10.0.0.12","paths":["/var/log/web/access.log"]}' --lease "$lease" >/dev/null
ctl put /apps/db/slow/10.0.0.21 '{"paths":["/var/log/db/slow.log"]}' >/dev/null
echo "\$ corralctl ls /apps/web"; ctl ls /apps/web
echo "\$ corralctl get /apps/web --prefix --keys-only"; ctl get /apps/web --prefix --keys-only

echo
echo "== the leader fails (SIGKILL)"
leader_id=$(ctl -w json endpoint status | grep -o '"leader":[0-9]*' | head -1 | cut -d: -f2)
for i in 1 2 3; do
  if "$ctl" --endpoints "127.0.0.1:$((base + 2*i + 1))" -w json endpoint status 2>/dev/null \
      | grep -q "\"member_id\":$leader_id,"; then
    echo "killing n$i (id $leader_id)"
    { kill -9 "${pid[$i]}"; wait "${pid[$i]}"; } 2>/dev/null || true
    unset "pid[$i]"; break
  fi
done
ctl put /apps/db/slow/10.0.0.22 '{"paths":["/var/log/db/slow.log"]}' >/dev/null
echo "a write after the failure succeeded; the cluster now says:"
ctl -w table endpoint status 2>/dev/null || true
echo "\$ corralctl -w table get /apps --prefix"; ctl -w table get /apps --prefix

echo
echo "== the agents' lease is revoked: their streams vanish in one revision"
ctl lease revoke "$lease" >/dev/null
ctl -w table get /apps --prefix
sleep 0.5
kill "$watcher" 2>/dev/null || true
echo "== what the collector's watch saw:"
cat "$dir/watch.out"

echo
echo "== deterministic simulation: 3- and 5-member clusters under faults"
"$sim" --seeds 20 --start 1 --nodes 3
"$sim" --seeds 20 --start 1 --nodes 5
echo "Replay any seed with a readable trace: SIM_SEED=7 $sim --nodes 3"
