#!/bin/sh
# A load balancer's node table with curl: backends as keys under
# /lb/pool/, weights as values; the balancer reads the whole table with one
# recursive GET and takes a node out with a compare-and-swap on its
# revision (a concurrent change makes the swap fail with 412).
# Usage: lb-nodes.sh HTTP_URL
set -eu
H=$1
for n in 1 2 3; do curl -sf -X PUT "$H/v1/keys/lb/pool/10.0.1.$n" -d value="weight=$n" >/dev/null; done
echo "table:"
curl -sf "$H/v1/keys/lb/pool?recursive=true" | tr '{' '\n' | sed -n 's/.*"key":"\([^"]*\)".*"value":"\([^"]*\)".*/  \1 \2/p'
rev=$(curl -sf "$H/v1/keys/lb/pool/10.0.1.2" | sed 's/.*"modRevision":\([0-9]*\).*/\1/')
curl -sf -X PUT "$H/v1/keys/lb/pool/10.0.1.2" -d value=weight=0 -d prevRevision="$rev" >/dev/null && echo "drained 10.0.1.2"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$H/v1/keys/lb/pool/10.0.1.2" -d value=weight=9 -d prevRevision="$rev")
echo "stale swap: $code"
