#include "coordinator/http/route.h"

#include <charconv>
#include <cstdio>

#include "coordinator/http/url_codec.h"

namespace corral::http {
namespace {

constexpr std::string_view kKeys = "/v1/keys";
constexpr std::string_view kWatch = "/v1/watch";
constexpr std::string_view kLeases = "/v1/leases";

RouteError method_not_allowed(std::string_view method, std::string_view path, std::string allow) {
  return {HttpError{405, "methodNotAllowed",
                    std::string(method) + " is not allowed on " + std::string(path) + " (allowed: " + allow + ")"},
          allow};
}

RouteError unknown(std::string_view path) { return {not_found_path(std::string(path)), {}}; }

// The rest of `path` after `base` when it is base itself or base/...;
// nullopt otherwise ("/v1/keysx" is not a keys path).
std::optional<std::string_view> below(std::string_view path, std::string_view base) {
  if (path.substr(0, base.size()) != base) return std::nullopt;
  std::string_view rest = path.substr(base.size());
  if (!rest.empty() && rest.front() != '/') return std::nullopt;
  return rest;
}

std::variant<Route, RouteError> key_route(RouteKind kind, std::string_view rest, std::string_view path) {
  auto key = percent_decode(rest, false);
  if (!key) return RouteError{bad_request("the key in " + std::string(path) + " is not percent-encoded correctly"), {}};
  if (key->empty()) *key = "/";
  return Route{kind, std::move(*key), 0};
}

}  // namespace

std::string lease_hex(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

bool parse_lease_hex(std::string_view text, int64_t& id) {
  if (text.empty() || text.size() > 16) return false;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (ec != std::errc() || p != text.data() + text.size()) return false;
  id = static_cast<int64_t>(v);
  return true;
}

std::variant<Route, RouteError> route(std::string_view method, std::string_view path) {
  if (auto rest = below(path, kKeys)) {
    if (method == "GET") return key_route(RouteKind::kGetKey, *rest, path);
    if (method == "PUT" || method == "POST") return key_route(RouteKind::kPutKey, *rest, path);
    if (method == "DELETE") return key_route(RouteKind::kDeleteKey, *rest, path);
    return method_not_allowed(method, path, "GET, PUT, POST, DELETE");
  }
  if (auto rest = below(path, kWatch)) {
    if (method == "GET") return key_route(RouteKind::kWatch, *rest, path);
    return method_not_allowed(method, path, "GET");
  }
  if (auto rest = below(path, kLeases)) {
    if (rest->empty() || *rest == "/") {
      if (method == "POST") return Route{RouteKind::kLeaseGrant, {}, 0};
      if (method == "GET") return Route{RouteKind::kLeaseList, {}, 0};
      return method_not_allowed(method, path, "GET, POST");
    }
    std::string_view id_text = rest->substr(1);
    bool keepalive = false;
    if (size_t slash = id_text.find('/'); slash != std::string_view::npos) {
      if (id_text.substr(slash) != "/keepalive") return unknown(path);
      keepalive = true;
      id_text = id_text.substr(0, slash);
    }
    int64_t id = 0;
    if (!parse_lease_hex(id_text, id)) {
      return RouteError{bad_request("lease id '" + std::string(id_text) + "' is not a hex number"), {}};
    }
    if (keepalive) {
      if (method == "POST" || method == "PUT") return Route{RouteKind::kLeaseKeepAlive, {}, id};
      return method_not_allowed(method, path, "POST");
    }
    if (method == "GET") return Route{RouteKind::kLeaseGet, {}, id};
    if (method == "DELETE") return Route{RouteKind::kLeaseRevoke, {}, id};
    return method_not_allowed(method, path, "GET, DELETE");
  }
  struct Fixed {
    std::string_view path;
    std::string_view method;
    RouteKind kind;
  };
  static constexpr Fixed kFixed[] = {
      {"/v1/txn", "POST", RouteKind::kTxn},       {"/v1/members", "GET", RouteKind::kMembers},
      {"/v1/auth/authenticate", "POST", RouteKind::kAuthenticate},
      {"/v1/agents", "GET", RouteKind::kAgents},  {"/v1/tasks", "GET", RouteKind::kTasks},
      {"/v1/status", "GET", RouteKind::kStatus},  {"/health", "GET", RouteKind::kHealth},
      {"/version", "GET", RouteKind::kVersion},   {"/metrics", "GET", RouteKind::kMetrics},
  };
  for (const Fixed& f : kFixed) {
    if (path != f.path) continue;
    if (method == f.method) return Route{f.kind, {}, 0};
    return method_not_allowed(method, path, std::string(f.method));
  }
  return unknown(path);
}

}  // namespace corral::http
