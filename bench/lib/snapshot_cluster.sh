# Sourced by snapshot_catchup.sh and snapshot_install.sh (POSIX sh): starts
# a fresh 3-member cluster on loopback (ports from BASE, below the ephemeral
# range) in a temporary dir, snapshots every 100 entries, waits for it, then
# stops member 3; `fill_state MB SECONDS` writes ~1 MiB values under random
# keys through members 1 and 2 until about MB are written. Sets dir, eps,
# ep N (a member's client endpoint), pid1..pid3, and an exit trap that stops
# the members, copies their logs to $LOGS when set, and removes dir.
# Needs corrald, ctl, bench and BASE set by the caller.
dir=$(mktemp -d)
cl=""; eps=""
for i in 1 2 3; do
  cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((BASE + 2*i))"
  eps="${eps:+$eps,}127.0.0.1:$((BASE + 2*i + 1))"
done
ep() { echo "127.0.0.1:$((BASE + 2*$1 + 1))"; }
start() {
  "$corrald" --name n$1 --data-dir "$dir/n$1" --snapshot-count 100 --snapshot-catchup-entries 50 \
    --listen-peer tcp://127.0.0.1:$((BASE + 2*$1)) --listen-client tcp://127.0.0.1:$((BASE + 2*$1 + 1)) \
    --initial-cluster "$cl" --initial-cluster-state new >>"$dir/n$1.log" 2>&1 &
  eval "pid$1=$!"
}
start 1; start 2; start 3
trap 'kill $pid1 $pid2 $pid3 2>/dev/null || true; wait 2>/dev/null || true; if [ -n "${LOGS:-}" ]; then cp "$dir"/n*.log "$LOGS"/; fi; rm -rf "$dir"' EXIT
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
for t in $(seq 50); do "$ctl" --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
kill "$pid3"; wait "$pid3" 2>/dev/null || true
fill_state() {
  written=0
  while [ "$written" -lt "$1" ]; do
    r=$("$bench" --endpoints "$(ep 1),$(ep 2)" -workload put -clients 4 -conns 4 -key-size 64 -val-size 1048576 \
      -duration "$2"s 2>/dev/null)
    ops=$(echo "$r" | sed -n 's/.*"ops_per_sec":\([0-9.]*\).*/\1/p' | head -1)
    written=$((written + ${ops%.*} * $2))
  done
}
