#!/bin/sh
# Log collection's key layout with curl: sources register
# /apps/<app>/<topic>/<ip> under a lease; a collector watches /apps/
# recursively and lists an app's topics as a directory.
# Usage: log-dirs.sh HTTP_URL
set -eu
H=$1
out=$(mktemp)
trap 'kill $watcher 2>/dev/null || true; rm -f "$out"' EXIT
curl -sfN "$H/v1/watch/apps?recursive=true" >"$out" &
watcher=$!
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
for ip in 10.0.0.11 10.0.0.12; do
  for topic in access error; do
    curl -sf -X PUT "$H/v1/keys/apps/web/$topic/$ip" -d ttl=30 \
      -d value="{\"agent\":\"web-$ip\",\"endpoint\":\"tcp://$ip:7070\",\"paths\":[\"/var/log/nginx/$topic.log\"]}" >/dev/null
  done
done
echo "topics of web:"
curl -sf "$H/v1/keys/apps/web" | tr '{' '\n' | sed -n 's/.*"key":"\([^"]*\)".*/  \1/p'
for _ in $(seq 50); do [ "$(grep -c '"type"' "$out")" -ge 4 ] && break; sleep 0.1; done
echo "the collector's watch saw:"
grep '"type"' "$out" | sed 's/.*"key":"\([^"]*\)".*"type":"\([A-Z]*\)".*/  \2 \1/'
