#!/bin/bash
# HTTP put and get throughput and latency: corrald's HTTP API against etcd
# 3.4's JSON gateway (/v3/kv/put and /v3/kv/range, base64 JSON bodies), both
# as 3-member clusters on loopback on this machine, in the same run, driven by
# wrk (a Lua script makes each request's key). Installs etcd from apt if it
# is missing. Prints a markdown table; exits non-zero if either side failed
# (a member that did not start, wrk errors, non-2xx answers).
# Usage: bench/http.sh BUILD_DIR [SECONDS] [CONNECTIONS]
set -euo pipefail
build=${1:?usage: bench/http.sh BUILD_DIR [SECONDS] [CONNECTIONS]}
secs=${2:-10}
conns=${3:-64}
threads=2
corrald=${CORRALD:-$build/coordinator/main/corrald}
[ -x "$corrald" ] || { echo "http.sh: no corrald at $corrald" >&2; exit 1; }
command -v wrk >/dev/null || { echo "http.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
if ! command -v etcd >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q etcd-server etcd-client >/dev/null
fi
dir=$(mktemp -d)
base=$((20000 + ($$ % 700) * 16))  # below the ephemeral range
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 129' HUP INT TERM PIPE  # a signal runs the EXIT trap too: no member left behind

# corrald: peer base+1..3, client base+4..6, http base+7..9; etcd: peer base+10..12, client base+13..15.
cl=""; ecl=""
for i in 1 2 3; do
  cl="${cl:+$cl,}n$i=tcp://127.0.0.1:$((base + i))"
  ecl="${ecl:+$ecl,}e$i=http://127.0.0.1:$((base + 9 + i))"
done
for i in 1 2 3; do
  "$corrald" --name n$i --data-dir "$dir/n$i" --listen-peer tcp://127.0.0.1:$((base + i)) \
    --listen-client tcp://127.0.0.1:$((base + 3 + i)) --listen-http http://127.0.0.1:$((base + 6 + i)) \
    --initial-cluster "$cl" --log-level warn >"$dir/n$i.log" 2>&1 &
  pids+=($!)
  ETCD_UNSUPPORTED_ARCH= etcd --name e$i --data-dir "$dir/e$i" \
    --listen-peer-urls http://127.0.0.1:$((base + 9 + i)) --initial-advertise-peer-urls http://127.0.0.1:$((base + 9 + i)) \
    --listen-client-urls http://127.0.0.1:$((base + 12 + i)) --advertise-client-urls http://127.0.0.1:$((base + 12 + i)) \
    --initial-cluster "$ecl" --initial-cluster-state new --initial-cluster-token http-bench \
    --log-level error >"$dir/e$i.log" 2>&1 &
  pids+=($!)
done
corral_url=http://127.0.0.1:$((base + 7))
etcd_url=http://127.0.0.1:$((base + 13))
ready() {  # url path [body]
  for _ in $(seq 100); do
    if [ -n "${3:-}" ]; then curl -sf -m 2 -X POST -d "$3" "$1$2" >/dev/null 2>&1 && return 0
    else curl -sf -m 2 "$1$2" >/dev/null 2>&1 && return 0; fi
    sleep 0.2
  done
  echo "http.sh: $1 not healthy; its log ends:" >&2
  tail -3 "$dir"/*.log >&2
  exit 1
}
ready "$corral_url" /health
ready "$etcd_url" /health
value=$(head -c 256 /dev/zero | tr '\0' v)
value64=$(printf %s "$value" | base64 -w0)

# Lua: PUTs of key bench/<n> (n cycling over 10000 keys); GETs of one key.
cat >"$dir/corral_put.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", "/v1/keys/bench/" .. (n % 10000), {["Content-Type"]="application/x-www-form-urlencoded"}, "value=$value")
end
LUA
cat >"$dir/etcd_put.lua" <<LUA
-- the keys, base64 of "bench/<n>", made once
local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64(data)
  return ((data:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2^i - byte % 2^(i-1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if (#x < 6) then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2^(6-i) or 0) end
    return b:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end
local keys = {}
for i = 0, 9999 do keys[i] = b64("bench/" .. i) end
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/v3/kv/put", {["Content-Type"]="application/json"},
    '{"key":"' .. keys[n % 10000] .. '","value":"$value64"}')
end
LUA
k1=$(printf %s "bench/1" | base64 -w0)
cat >"$dir/etcd_get.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"key":"$k1"}'
wrk.headers["Content-Type"] = "application/json"
LUA
curl -sf -X PUT -d "value=$value" "$corral_url/v1/keys/bench/1" >/dev/null
curl -sf -X POST -d "{\"key\":\"$k1\",\"value\":\"$value64\"}" "$etcd_url/v3/kv/put" >/dev/null

failed=0
# run NAME URL PATH SCRIPT: one wrk run; writes "rps p50 p99" to NAME.res, checks for errors.
run() {
  local out="$dir/$1.wrk"
  if [ -n "$4" ]; then wrk -t$threads -c$conns -d${secs}s --latency -s "$4" "$2$3" >"$out" 2>&1 || failed=1
  else wrk -t$threads -c$conns -d${secs}s --latency "$2$3" >"$out" 2>&1 || failed=1; fi
  if grep -qE "Non-2xx|Socket errors" "$out"; then
    echo "http.sh: $1: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')" >&2; failed=1
  fi
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  p50=$(awk '$1=="50%" {print $2}' "$out")
  p99=$(awk '$1=="99%" {print $2}' "$out")
  [ -n "$rps" ] || { echo "http.sh: $1: no result; wrk said:" >&2; cat "$out" >&2; failed=1; }
  echo "${rps:-0} ${p50:-?} ${p99:-?}" >"$dir/$1.res"
}
run corral_put "$corral_url" /v1/keys/bench/0 "$dir/corral_put.lua"
run etcd_put "$etcd_url" /v3/kv/put "$dir/etcd_put.lua"
run corral_get "$corral_url" /v1/keys/bench/1 ""
run etcd_get "$etcd_url" /v3/kv/range "$dir/etcd_get.lua"
read -r c_put_rps c_put_p50 c_put_p99 <"$dir/corral_put.res"
read -r e_put_rps e_put_p50 e_put_p99 <"$dir/etcd_put.res"
read -r c_get_rps c_get_p50 c_get_p99 <"$dir/corral_get.res"
read -r e_get_rps e_get_p50 e_get_p99 <"$dir/etcd_get.res"
# The members must still be there.
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "http.sh: a member exited during the run" >&2; failed=1; }; done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "wrk -t$threads -c$conns -d${secs}s, 256-byte values, 3 members each, requests to member 1"
echo
echo "| workload | corral req/s | corral p50 | corral p99 | etcd req/s | etcd p50 | etcd p99 | corral/etcd |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
echo "| put | $c_put_rps | $c_put_p50 | $c_put_p99 | $e_put_rps | $e_put_p50 | $e_put_p99 | $(ratio "$c_put_rps" "$e_put_rps") |"
echo "| get | $c_get_rps | $c_get_p50 | $c_get_p99 | $e_get_rps | $e_get_p50 | $e_get_p99 | $(ratio "$c_get_rps" "$e_get_rps") |"
if [ "$failed" != 0 ]; then echo "http.sh: FAILED (see above)" >&2; exit 1; fi
