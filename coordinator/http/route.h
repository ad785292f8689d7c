// Which handler a request goes to: its path and method, and what the path
// names (a key, a lease id). Unknown paths are 404, a known path with a
// method it does not take is 405 with the methods it takes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "coordinator/http/http_error.h"

namespace corral::http {

enum class RouteKind {
  kGetKey,       // GET /v1/keys/<path> (also the long poll with ?wait=true)
  kPutKey,       // PUT /v1/keys/<path>
  kDeleteKey,    // DELETE /v1/keys/<path>
  kWatch,        // GET /v1/watch/<path>
  kLeaseGrant,   // POST /v1/leases
  kLeaseList,    // GET /v1/leases
  kLeaseGet,     // GET /v1/leases/<id>
  kLeaseRevoke,  // DELETE /v1/leases/<id>
  kLeaseKeepAlive,  // POST /v1/leases/<id>/keepalive
  kTxn,          // POST /v1/txn
  kAuthenticate, // POST /v1/auth/authenticate (name, password) -> token
  kMembers,      // GET /v1/members
  kAgents,       // GET /v1/agents: log collection's agents
  kTasks,        // GET /v1/tasks: log collection's tasks and collectors' load
  kStatus,       // GET /v1/status
  kHealth,       // GET /health
  kVersion,      // GET /version
  kMetrics,      // GET /metrics
};

struct Route {
  RouteKind kind = RouteKind::kHealth;
  std::string key;   // keys and watch: the decoded key ("/" for the root)
  int64_t lease = 0; // lease routes with an id
};

// A 405 carries the methods the path takes, for the Allow header.
struct RouteError {
  HttpError error;
  std::string allow;
};

// `method` as the request line spells it ("GET"); `path` still
// percent-encoded, without the query.
std::variant<Route, RouteError> route(std::string_view method, std::string_view path);

// Lease ids are hex in paths and answers, as corralctl prints them.
std::string lease_hex(int64_t id);
bool parse_lease_hex(std::string_view text, int64_t& id);

}  // namespace corral::http
