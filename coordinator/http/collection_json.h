// The log-collection views of the HTTP API (GET /v1/agents, GET /v1/tasks):
// pure functions from one read of the collection prefixes (one revision) to
// readable JSON. A record that does not parse is shown with its problem,
// never an error of the whole view: one bad value must not hide the rest.
//
//   /v1/agents: {"agents":[{"id","host","ip","endpoint","roles","capacity",
//                "zone","lease","ttl","alive","tasks","draining"}],"revision"}
//   /v1/tasks:  {"tasks":[{"task","app","topic","ip","source","collector",
//                "state","epoch","assignedRevision",...}],
//                "collectors":[{"id","tasks","revoking","registered",
//                "capacity","draining"}],"revision"}
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/types.h"

namespace corral::http {

// The prefixes both views read, in one read-only txn (one revision).
struct CollectionRead {
  std::vector<client::KeyValue> agents;       // /corral/agents/
  std::vector<client::KeyValue> streams;      // /apps/
  std::vector<client::KeyValue> assigns;      // /corral/assign/
  std::vector<client::KeyValue> checkpoints;  // /corral/checkpoints/
  std::vector<client::KeyValue> drains;       // /corral/drain/
  bool more = false;                          // a prefix had more keys than the read's limit
  int64_t revision = 0;
};

// The read's txn: a range of each prefix above, in that order, each at most
// `limit` keys.
client::TxnRequest collection_txn(int64_t limit);
// The txn's answer as a CollectionRead; false when its shape is not the
// txn's (five ranges).
bool collection_read_of(const client::TxnResult& txn, CollectionRead& read);

// The distinct leases of the agent keys, at most `max` (one lookup each).
std::vector<int64_t> agent_leases(const CollectionRead& read, size_t max);
// `ttls`: lease -> seconds left (< 0: expired); a lease missing from it is
// not known ("ttl" absent; "alive" then says the key is still there).
nlohmann::json agents_json(const CollectionRead& read, const std::map<int64_t, int64_t>& ttls);
nlohmann::json tasks_json(const CollectionRead& read);

}  // namespace corral::http
