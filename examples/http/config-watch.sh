#!/bin/sh
# Config publish/subscribe with curl: a subscriber streams every change of
# /config/app/ in order (one JSON line per event) while a publisher writes
# three versions; the subscriber resumes from a revision without a gap.
# Usage: config-watch.sh HTTP_URL
set -eu
H=$1
out=$(mktemp)
trap 'kill $watcher 2>/dev/null || true; rm -f "$out"' EXIT
curl -sfN "$H/v1/watch/config/app?recursive=true" >"$out" &
watcher=$!
# Wait (bounded) for the stream's first line: the watch is in place.
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
first=""
for v in 1 2 3; do
  rev=$(curl -sf -X PUT "$H/v1/keys/config/app/level" -d value="v$v" | sed 's/.*"modRevision":\([0-9]*\).*/\1/')
  [ -n "$first" ] || first=$rev
done
for _ in $(seq 50); do [ "$(grep -c '"type"' "$out")" -ge 3 ] && break; sleep 0.1; done
echo "subscriber saw:"
grep '"type"' "$out" | sed 's/.*"modRevision":\([0-9]*\).*"value":"\([^"]*\)".*/  \2 at \1/'
echo "resumed from revision $first:"
curl -sfN -m 2 "$H/v1/watch/config/app?recursive=true&revision=$first" | grep '"type"' |
  sed 's/.*"value":"\([^"]*\)".*/  \1/' || true
