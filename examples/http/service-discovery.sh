#!/bin/sh
# Service discovery with curl: an instance registers under a 10 s lease and
# keeps it alive (heartbeat); clients list the live instances. When the
# heartbeat stops, the instance disappears by itself.
# Usage: service-discovery.sh HTTP_URL   (e.g. http://127.0.0.1:2381)
set -eu
H=$1
lease=$(curl -sf -X POST "$H/v1/leases" -d ttl=10 | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
curl -sf -X PUT "$H/v1/keys/services/web/10.0.0.11:8080" -d value='{"addr":"10.0.0.11:8080"}' -d lease="$lease" >/dev/null
curl -sf -X PUT "$H/v1/keys/services/web/10.0.0.12:8080" -d value='{"addr":"10.0.0.12:8080"}' -d ttl=10 >/dev/null
# Heartbeat: keep the first instance's lease alive (a real instance loops every ttl/3).
curl -sf -X POST "$H/v1/leases/$lease/keepalive" >/dev/null
echo "instances:"
curl -sf "$H/v1/keys/services/web" | tr '{' '\n' | sed -n 's/.*"key":"\([^"]*\)".*/  \1/p'
echo "lease $lease:"
curl -sf "$H/v1/leases/$lease?keys=true"
# The instance leaves: revoke its lease; its key goes with it.
curl -sf -X DELETE "$H/v1/leases/$lease" >/dev/null
echo "after 10.0.0.11 left:"
curl -sf "$H/v1/keys/services/web" | tr '{' '\n' | sed -n 's/.*"key":"\([^"]*\)".*/  \1/p'
