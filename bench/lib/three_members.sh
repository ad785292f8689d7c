# Sourced by the per-process profiling scripts (put_cost.sh, syscalls.sh):
# starts a fresh 3-member cluster on loopback in a temporary dir, waits for
# it, and finds its leader. After `start_three_members CORRALD CTL NAME`:
#   dir        the temporary dir (removed at exit, with the members stopped)
#   eps        the three client endpoints, comma-separated
#   pids       the members' pids; leader (pid), leader_ep, followers (pids)
#   bench_pid  empty; set it to a bench's pid to have it killed at exit too
# Exits 1 (naming NAME) if no leader is found.
# CLIENT_WIRE=tcp|zmq|auto: the members run with --client-wire CLIENT_WIRE,
# and so does the script's corralctl (the caller passes $client_wire_flag
# to its clients).
client_wire_flag=${CLIENT_WIRE:+--client-wire $CLIENT_WIRE}
start_three_members() {
  local corrald=$1 ctl=$2 name=$3 i cl="" s id lead ep
  dir=$(mktemp -d)
  local base=$((24000 + $$ % 3000 * 2))  # below the ephemeral range, as cluster.sh
  eps=""
  for i in 1 2 3; do
    cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + 2*i))"
    eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"
  done
  pids=()
  for i in 1 2 3; do
    # shellcheck disable=SC2086 # the flag is two words
    "$corrald" $client_wire_flag --name n$i --data-dir "$dir/n$i" \
      --listen-peer tcp://127.0.0.1:$((base + 2*i)) --listen-client tcp://127.0.0.1:$((base + 2*i + 1)) \
      --initial-cluster "$cl" --initial-cluster-state new >"$dir/n$i.log" 2>&1 &
    pids+=($!)
  done
  bench_pid=""
  trap stop_three_members EXIT
  trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
  for _ in $(seq 50); do
    "$ctl" $client_wire_flag --endpoints "$eps" --command-timeout 1s endpoint health >/dev/null 2>&1 && break
    sleep 0.2
  done
  leader=""; leader_ep=""; followers=()
  for i in 0 1 2; do
    ep=127.0.0.1:$((base + 2*(i+1) + 1))
    s=$("$ctl" $client_wire_flag --endpoints "$ep" -w json endpoint status 2>/dev/null)
    id=$(echo "$s" | sed -n 's/.*"member_id":\([0-9]*\).*/\1/p')
    lead=$(echo "$s" | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
    if [ -n "$id" ] && [ "$id" = "$lead" ]; then leader=${pids[$i]}; leader_ep=$ep; else followers+=("${pids[$i]}"); fi
  done
  [ -n "$leader" ] && [ ${#followers[@]} = 2 ] || { echo "$name: no leader found" >&2; exit 1; }
}

stop_three_members() {
  [ -n "${bench_pid:-}" ] && kill "$bench_pid" 2>/dev/null
  kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$dir"
}
