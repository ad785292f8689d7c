// What a keys request asks for, read from its query and body: the value,
// ttl or lease of a PUT, the compare-and-swap conditions of a PUT or DELETE,
// the recursion, revision and long poll of a GET. Bad parameters are a
// badRequest naming the parameter; nothing is sent to the cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "client/types.h"
#include "coordinator/http/http_error.h"
#include "coordinator/http/url_codec.h"

namespace corral::http {

// A long poll waits at most this long (default kDefaultWaitSeconds).
inline constexpr int64_t kDefaultWaitSeconds = 60;
inline constexpr int64_t kMaxWaitSeconds = 600;
inline constexpr int64_t kMaxTtlSeconds = 9'000'000'000;  // etcd's MaxLeaseTTL

// The query's parameters, then the body's over them: a form
// (application/x-www-form-urlencoded, also when no type is given) or a
// JSON object (application/json) whose strings, numbers and booleans are
// read as their text.
std::variant<Params, HttpError> request_params(std::string_view query, std::string_view content_type,
                                               std::string_view body);

struct Conditions {
  std::optional<bool> prev_exist;
  std::optional<std::string> prev_value;
  std::optional<int64_t> prev_revision;
  bool any() const { return prev_exist || prev_value || prev_revision; }
};

struct PutPlan {
  std::string key;
  std::string value;
  int64_t lease = 0;  // attach this lease
  int64_t ttl = 0;    // > 0: grant a lease of this TTL first and attach it
  Conditions conditions;
};
std::variant<PutPlan, HttpError> put_plan(std::string key, const Params& params);

struct DeletePlan {
  std::string key;
  bool recursive = false;  // the key and every key below key + "/"
  Conditions conditions;
};
std::variant<DeletePlan, HttpError> delete_plan(std::string key, const Params& params);

struct GetPlan {
  std::string key;
  bool recursive = false;
  int64_t revision = 0;  // read at this revision (0: the newest)
  bool wait = false;     // long poll
  int64_t wait_revision = 0;
  int64_t timeout_seconds = kDefaultWaitSeconds;
};
std::variant<GetPlan, HttpError> get_plan(std::string key, const Params& params);

// Watch stream: recursive, revision (start; 0: from now), prevKv.
struct WatchPlan {
  std::string key;
  bool recursive = false;
  int64_t revision = 0;
  bool prev_kv = false;
};
std::variant<WatchPlan, HttpError> watch_plan(std::string key, const Params& params);

// "/a" -> "/a/" (the prefix of the keys below it); "/" stays "/".
std::string dir_prefix(const std::string& key);

// The txn of a conditional PUT: the conditions, then the put (with its
// previous kv) or, when they fail, a get of the key's current kv.
client::TxnRequest put_txn(const PutPlan& plan, int64_t lease);
// The txn of a DELETE: the conditions (if any), then the deletes (the key, and
// the subtree when recursive) or a get of the key.
client::TxnRequest delete_txn(const DeletePlan& plan);

// Parsers shared with the other routes.
std::optional<bool> parse_bool(std::string_view text);
std::optional<int64_t> parse_int(std::string_view text);

}  // namespace corral::http
