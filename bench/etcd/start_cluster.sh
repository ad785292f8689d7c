# Sourced by cluster.sh and failover.sh: starts a fresh N-member etcd 3.4
# cluster on loopback (ports below 32768) in a temporary directory and waits
# until it is healthy. Sets: dir, eps (client endpoints), pids, pid_of_ep.
# Fails (exit 1) if the cluster does not become healthy in 20 s.
start_etcd_cluster() {
  n=$1
  dir=$(mktemp -d)
  base=$((21000 + $$ % 8000))
  cl=""; eps=""; pids=""
  i=1; while [ "$i" -le "$n" ]; do
    cl="${cl:+$cl,}n$i=http://127.0.0.1:$((base + 2*i))"
    eps="${eps:+$eps,}127.0.0.1:$((base + 2*i + 1))"
    i=$((i+1))
  done
  i=1; while [ "$i" -le "$n" ]; do
    etcd --name "n$i" --data-dir "$dir/n$i" \
      --listen-peer-urls "http://127.0.0.1:$((base + 2*i))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 2*i))" \
      --listen-client-urls "http://127.0.0.1:$((base + 2*i + 1))" --advertise-client-urls "http://127.0.0.1:$((base + 2*i + 1))" \
      --initial-cluster "$cl" --initial-cluster-state new --log-level error >"$dir/n$i.log" 2>&1 &
    pids="$pids $!"
    eval "pid_of_$i=$!"
    i=$((i+1))
  done
  trap 'kill $pids 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT
  trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind
  t=0; while [ $t -lt 100 ]; do
    ETCDCTL_API=3 etcdctl --endpoints="$eps" endpoint health >/dev/null 2>&1 && return 0
    sleep 0.2; t=$((t+1))
  done
  echo "etcd cluster did not become healthy; logs in $dir" >&2
  tail -5 "$dir"/n*.log >&2
  exit 1
}
