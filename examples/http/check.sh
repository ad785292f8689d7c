#!/bin/sh
# Runs every example of this folder against a fresh single-member corrald
# with --listen-http and checks what each prints (a ctest: "examples: http").
# Usage: check.sh CORRALD
set -eu
corrald=$1
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
base=$((26000 + $$ % 2000 * 3))  # below the ephemeral range
"$corrald" --name ex --data-dir "$dir/ex" --listen-client tcp://127.0.0.1:$base \
  --listen-peer tcp://127.0.0.1:$((base + 1)) --listen-http http://127.0.0.1:$((base + 2)) >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
H=http://127.0.0.1:$((base + 2))
for _ in $(seq 100); do curl -sf -m 2 "$H/health" >/dev/null 2>&1 && break; sleep 0.1; done
fail=0
expect() {  # script pattern...
  script=$1; shift
  out=$("$here/$script" "$H" 2>&1) || { echo "$script failed:"; echo "$out"; fail=1; return; }
  for p in "$@"; do
    printf '%s\n' "$out" | grep -q -- "$p" || { echo "$script: '$p' missing in:"; echo "$out"; fail=1; }
  done
}
expect service-discovery.sh "/services/web/10.0.0.11:8080" '"keys":\["/services/web/10.0.0.11:8080"\]'
[ "$("$here/service-discovery.sh" "$H" | sed -n '/after/,$p' | grep -c "10.0.0.11:8080")" = 0 ] || { echo "revoked instance still listed"; fail=1; }
expect config-watch.sh "v1 at" "v3 at" "  v2"
expect lb-nodes.sh "/lb/pool/10.0.1.3 weight=3" "drained 10.0.1.2" "stale swap: 412"
expect log-dirs.sh "/apps/web/access" "/apps/web/error" "PUT /apps/web/error/10.0.0.12"
exit $fail
