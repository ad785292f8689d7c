#include "coordinator/server/http_handlers.h"

#include <memory>

#include "coordinator/http/key_params.h"
#include "coordinator/http/kv_json.h"
#include "coordinator/http/txn_json.h"
#include "coordinator/server/http_collection.h"
#include "coordinator/server/version.h"

namespace corral::server {
namespace {

using nlohmann::json;
using http::HttpError;

// A directory answer lists at most this many keys (then "more": true).
constexpr int64_t kMaxDirKeys = 10'000;

template <class R>
HttpReply failed(const client::Result<R>& r) {
  return error_reply(http::from_client_error(r.error()));
}

HttpReply key_not_found(const std::string& key, int64_t revision) {
  HttpError e{404, "keyNotFound", "key not found: " + key};
  if (revision > 0) e.details["revision"] = revision;
  return error_reply(e);
}

HttpReply compare_failed(const std::string& key, const client::TxnResult& txn) {
  HttpError e{412, "compareFailed", "the conditions on " + key + " do not hold"};
  e.details["revision"] = txn.header.revision;
  e.details["current"] = nullptr;
  if (!txn.responses.empty()) {
    if (auto* range = std::get_if<client::RangeResult>(&txn.responses.front().result)) {
      if (!range->kvs.empty()) e.details["current"] = http::kv_json(range->kvs.front());
    }
  }
  return error_reply(e);
}

// The kv a put made, from its revision and the previous kv.
json put_json(const std::string& key, const std::string& value, int64_t lease, const client::PutResult& put) {
  client::KeyValue kv;
  kv.key = key;
  kv.value = value;
  kv.lease = lease;
  kv.mod_revision = put.header.revision;
  kv.create_revision = put.has_prev_kv ? put.prev_kv.create_revision : put.header.revision;
  kv.version = put.has_prev_kv ? put.prev_kv.version + 1 : 1;
  json out = http::kv_json(kv);
  out["revision"] = put.header.revision;
  if (put.has_prev_kv) out["prevKv"] = http::kv_json(put.prev_kv);
  return out;
}

HttpReply put_reply(const std::string& key, const std::string& value, int64_t lease, const client::PutResult& put) {
  return json_reply(put.has_prev_kv ? 200 : 201, put_json(key, value, lease, put));
}

void get_dir(const HttpBackend& b, const HttpCall& call, const http::GetPlan& plan, HttpRespond respond) {
  if (plan.recursive) {
    client::RangeRequest r;
    r.key = http::dir_prefix(plan.key);
    r.range_end = client::prefix_range_end(r.key);
    r.revision = plan.revision;
    r.limit = kMaxDirKeys;
    b.kv()->call_async(std::move(r), http::options_for(call.context),
                     [key = plan.key, respond](client::Result<client::RangeResult> r) {
                       if (!r.ok()) return respond(failed(r));
                       if (r->kvs.empty()) return respond(key_not_found(key, r->header.revision));
                       json nodes = json::array();
                       for (const auto& kv : r->kvs) nodes.push_back(http::kv_json(kv));
                       json out = {{"dir", true}, {"nodes", nodes}, {"revision", r->header.revision}};
                       http::set_bytes(out, "key", key);
                       if (r->more) out["more"] = true;
                       respond(json_reply(200, out));
                     });
    return;
  }
  client::ListRequest l;
  l.dir = plan.key;
  l.revision = plan.revision;
  l.limit = kMaxDirKeys;
  b.kv()->call_async(std::move(l), http::options_for(call.context),
                   [key = plan.key, respond](client::Result<client::ListResult> r) {
                     if (!r.ok()) return respond(failed(r));
                     if (r->entries.empty()) return respond(key_not_found(key, r->header.revision));
                     json nodes = json::array();
                     const std::string prefix = http::dir_prefix(key);
                     for (const auto& e : r->entries) {
                       json node = e.has_key ? http::kv_json(e.kv) : json::object();
                       http::set_bytes(node, "key", prefix + e.name);
                       if (e.is_dir) node["dir"] = true;
                       nodes.push_back(std::move(node));
                     }
                     json out = {{"dir", true}, {"nodes", nodes}, {"revision", r->header.revision}};
                     http::set_bytes(out, "key", key);
                     if (r->more) out["more"] = true;
                     respond(json_reply(200, out));
                   });
}

void get_key(const HttpBackend& b, const HttpCall& call, const http::GetPlan& plan, HttpRespond respond) {
  if (plan.key == "/") return get_dir(b, call, plan, std::move(respond));
  client::RangeRequest r;
  r.key = plan.key;
  r.revision = plan.revision;
  // The backend pointer outlives every call (the server stops its clients first).
  const HttpBackend* backend = &b;
  b.kv()->call_async(std::move(r), http::options_for(call.context),
                   [backend, call, plan, respond](client::Result<client::RangeResult> r) {
                     if (!r.ok()) return respond(failed(r));
                     if (r->kvs.empty()) return get_dir(*backend, call, plan, respond);
                     json out = http::kv_json(r->kvs.front());
                     out["revision"] = r->header.revision;
                     respond(json_reply(200, out));
                   });
}

void put_with_lease(const HttpBackend& b, const HttpCall& call, const http::PutPlan& plan, int64_t lease,
                    HttpRespond respond) {
  const HttpBackend* backend = &b;
  // A lease granted for this put is revoked again when the put does not happen.
  auto undo = [backend, call, granted = plan.ttl > 0 ? lease : 0] {
    if (granted == 0) return;
    backend->kv()->call_async(client::LeaseRevokeRequest{granted}, http::options_for(call.context),
                            [](client::Result<client::LeaseRevokeResult>) {});
  };
  if (!plan.conditions.any()) {
    client::PutRequest put;
    put.key = plan.key;
    put.value = plan.value;
    put.lease = lease;
    put.prev_kv = true;
    b.kv()->call_async(std::move(put), http::options_for(call.context),
                     [plan, lease, respond, undo](client::Result<client::PutResult> r) {
                       if (!r.ok()) {
                         undo();
                         return respond(failed(r));
                       }
                       respond(put_reply(plan.key, plan.value, lease, *r));
                     });
    return;
  }
  b.kv()->call_async(http::put_txn(plan, lease), http::options_for(call.context),
                   [plan, lease, respond, undo](client::Result<client::TxnResult> r) {
                     if (!r.ok()) {
                       undo();
                       return respond(failed(r));
                     }
                     if (!r->succeeded) {
                       undo();
                       return respond(compare_failed(plan.key, *r));
                     }
                     auto* put = r->responses.empty() ? nullptr
                                                      : std::get_if<client::PutResult>(&r->responses.front().result);
                     if (put == nullptr) return respond(error_reply({500, "internal", "txn answered without its put"}));
                     client::PutResult p = *put;
                     p.header.revision = r->header.revision;
                     respond(put_reply(plan.key, plan.value, lease, p));
                   });
}

void put_key(const HttpBackend& b, const HttpCall& call, const http::PutPlan& plan, HttpRespond respond) {
  if (plan.ttl == 0) return put_with_lease(b, call, plan, plan.lease, std::move(respond));
  const HttpBackend* backend = &b;
  client::LeaseGrantRequest grant;
  grant.ttl_seconds = plan.ttl;
  b.kv()->call_async(std::move(grant), http::options_for(call.context),
                   [backend, call, plan, respond](client::Result<client::LeaseGrantResult> r) {
                     if (!r.ok()) return respond(failed(r));
                     put_with_lease(*backend, call, plan, r->id, respond);
                   });
}

void delete_key(const HttpBackend& b, const HttpCall& call, const http::DeletePlan& plan, HttpRespond respond) {
  if (!plan.recursive && !plan.conditions.any()) {
    client::DeleteRequest d;
    d.key = plan.key;
    d.prev_kv = true;
    b.kv()->call_async(std::move(d), http::options_for(call.context),
                     [key = plan.key, respond](client::Result<client::DeleteResult> r) {
                       if (!r.ok()) return respond(failed(r));
                       if (r->deleted == 0) return respond(key_not_found(key, r->header.revision));
                       json out = {{"deleted", r->deleted}, {"revision", r->header.revision}};
                       http::set_bytes(out, "key", key);
                       if (!r->prev_kvs.empty()) out["prevKv"] = http::kv_json(r->prev_kvs.front());
                       respond(json_reply(200, out));
                     });
    return;
  }
  b.kv()->call_async(http::delete_txn(plan), http::options_for(call.context),
                   [key = plan.key, respond](client::Result<client::TxnResult> r) {
                     if (!r.ok()) return respond(failed(r));
                     if (!r->succeeded) return respond(compare_failed(key, *r));
                     int64_t deleted = 0;
                     for (const auto& op : r->responses) {
                       if (auto* d = std::get_if<client::DeleteResult>(&op.result)) deleted += d->deleted;
                     }
                     if (deleted == 0) return respond(key_not_found(key, r->header.revision));
                     json out = {{"deleted", deleted}, {"revision", r->header.revision}};
                     http::set_bytes(out, "key", key);
                     respond(json_reply(200, out));
                   });
}

// Parameters of the call, or the reply that refuses them.
std::optional<http::Params> params_of(const HttpCall& call, HttpRespond& respond) {
  auto params = http::request_params(call.query, call.content_type, call.body);
  if (auto* e = std::get_if<HttpError>(&params)) {
    respond(error_reply(*e));
    return std::nullopt;
  }
  return std::get<http::Params>(std::move(params));
}

template <class Plan>
std::optional<Plan> plan_of(std::variant<Plan, HttpError> plan, HttpRespond& respond) {
  if (auto* e = std::get_if<HttpError>(&plan)) {
    respond(error_reply(*e));
    return std::nullopt;
  }
  return std::get<Plan>(std::move(plan));
}

json lease_json(int64_t id, int64_t ttl, int64_t revision) {
  return {{"id", http::lease_hex(id)}, {"ttl", ttl}, {"revision", revision}};
}

HttpReply lease_not_found(int64_t id) {
  return error_reply({404, "leaseNotFound", "lease " + http::lease_hex(id) + " not found or expired"});
}

void leases(const HttpBackend& b, const HttpCall& call, const http::Params& p, HttpRespond respond) {
  const auto opts = http::options_for(call.context);
  const int64_t id = call.route.lease;
  switch (call.route.kind) {
    case http::RouteKind::kLeaseGrant: {
      client::LeaseGrantRequest g;
      auto ttl = p.count("ttl") ? http::parse_int(p.at("ttl")) : std::nullopt;
      if (!ttl || *ttl < 1 || *ttl > http::kMaxTtlSeconds) {
        return respond(error_reply(http::bad_request("ttl must be a whole number of seconds >= 1")));
      }
      g.ttl_seconds = *ttl;
      if (auto it = p.find("id"); it != p.end() && !http::parse_lease_hex(it->second, g.id)) {
        return respond(error_reply(http::bad_request("id must be a lease id in hex")));
      }
      b.kv()->call_async(std::move(g), opts, [respond](client::Result<client::LeaseGrantResult> r) {
        if (!r.ok()) return respond(failed(r));
        respond(json_reply(201, lease_json(r->id, r->ttl_seconds, r->header.revision)));
      });
      return;
    }
    case http::RouteKind::kLeaseKeepAlive:
      b.kv()->call_async(client::LeaseKeepAliveRequest{id}, opts,
                       [id, respond](client::Result<client::LeaseKeepAliveResult> r) {
                         if (!r.ok()) return respond(failed(r));
                         if (r->ttl_seconds <= 0) return respond(lease_not_found(id));
                         respond(json_reply(200, lease_json(id, r->ttl_seconds, r->header.revision)));
                       });
      return;
    case http::RouteKind::kLeaseGet: {
      bool keys = p.count("keys") && http::parse_bool(p.at("keys")).value_or(false);
      b.kv()->call_async(client::LeaseTtlRequest{id, keys}, opts,
                       [id, keys, respond](client::Result<client::LeaseTtlResult> r) {
                         if (!r.ok()) return respond(failed(r));
                         if (r->ttl_seconds < 0) return respond(lease_not_found(id));
                         json out = lease_json(id, r->ttl_seconds, r->header.revision);
                         out["grantedTtl"] = r->granted_ttl_seconds;
                         if (keys) {
                           json list = json::array();
                           for (const auto& k : r->keys) {
                             json one = json::object();
                             http::set_bytes(one, "key", k);
                             list.push_back(one.contains("keyEncoding") ? one : one["key"]);
                           }
                           out["keys"] = list;
                         }
                         respond(json_reply(200, out));
                       });
      return;
    }
    case http::RouteKind::kLeaseRevoke:
      b.kv()->call_async(client::LeaseRevokeRequest{id}, opts,
                       [id, respond](client::Result<client::LeaseRevokeResult> r) {
                         if (!r.ok()) return respond(failed(r));
                         respond(json_reply(200, {{"id", http::lease_hex(id)}, {"revoked", true},
                                                  {"revision", r->header.revision}}));
                       });
      return;
    default:  // kLeaseList
      b.kv()->call_async(client::LeaseListRequest{}, opts, [respond](client::Result<client::LeaseListResult> r) {
        if (!r.ok()) return respond(failed(r));
        json list = json::array();
        for (int64_t lease : r->ids) list.push_back({{"id", http::lease_hex(lease)}});
        respond(json_reply(200, {{"leases", list}, {"revision", r->header.revision}}));
      });
      return;
  }
}

std::string member_hex(uint64_t id) { return http::lease_hex(static_cast<int64_t>(id)); }

void members(const HttpBackend& b, const HttpCall& call, HttpRespond respond) {
  b.kv()->call_async(client::MemberListRequest{}, http::options_for(call.context),
                   [respond](client::Result<client::MemberListResult> r) {
                     if (!r.ok()) return respond(failed(r));
                     json list = json::array();
                     for (const auto& m : r->members) {
                       list.push_back({{"id", member_hex(m.id)},
                                       {"name", m.name},
                                       {"peerURLs", m.peer_urls},
                                       {"clientURLs", m.client_urls},
                                       {"isLearner", m.is_learner}});
                     }
                     respond(json_reply(200, {{"members", list},
                                              {"clusterId", member_hex(r->header.cluster_id)},
                                              {"revision", r->header.revision}}));
                   });
}

// A token for a user and password, to send as "Authorization: Bearer T".
void authenticate(const HttpBackend& b, const HttpCall& call, const http::Params& params, HttpRespond respond) {
  auto name = params.find("name");
  auto password = params.find("password");
  if (name == params.end() || password == params.end()) {
    return respond(error_reply({400, "badRequest", "authenticate needs name and password"}));
  }
  client::AuthRequest r;
  r.kind = client::AuthRequest::Kind::kAuthenticate;
  r.name = name->second;
  r.password = password->second;
  b.kv()->call_async(std::move(r), http::options_for(call.context), [respond](client::Result<client::AuthResult> a) {
    if (!a.ok()) return respond(failed(a));
    respond(json_reply(200, {{"token", a->token}}));
  });
}

void status(const HttpBackend& b, const HttpCall& call, HttpRespond respond) {
  b.local->call_async(client::StatusRequest{}, http::options_for(call.context),
                      [respond](client::Result<client::StatusResult> r) {
                        if (!r.ok()) return respond(failed(r));
                        respond(json_reply(200, {{"memberId", member_hex(r->header.member_id)},
                                                 {"clusterId", member_hex(r->header.cluster_id)},
                                                 {"version", r->version},
                                                 {"dbSize", r->db_size_bytes},
                                                 {"leader", member_hex(r->leader)},
                                                 {"raftIndex", r->raft_index},
                                                 {"raftTerm", r->raft_term},
                                                 {"raftAppliedIndex", r->raft_applied_index},
                                                 {"isLearner", r->is_learner},
                                                 {"revision", r->header.revision},
                                                 {"errors", r->errors}}));
                      });
}

// Healthy: a linearizable read through this member answers within the deadline.
void health(const HttpBackend& b, const HttpCall& call, HttpRespond respond) {
  client::RangeRequest r;
  r.key = "/corral/health";
  r.count_only = true;
  client::CallOptions opts = http::options_for(call.context);
  opts.timeout = b.health_timeout;
  b.local->call_async(std::move(r), opts, [respond](client::Result<client::RangeResult> r) {
    if (r.ok()) return respond(json_reply(200, {{"health", true}, {"revision", r->header.revision}}));
    HttpReply reply = json_reply(503, {{"health", false}, {"reason", client::to_string(r.error())}});
    reply.retry_after = 1;
    respond(std::move(reply));
  });
}

HttpReply metrics_reply(const HttpBackend& b) {
  HttpReply reply;
  reply.content_type = "text/plain; version=0.0.4";
  if (b.metrics) {
    reply.body = b.metrics();
  } else {
    reply.body = "# HELP corral_up 1 while the member serves.\n# TYPE corral_up gauge\ncorral_up 1\n"
                 "# TYPE corral_version_info gauge\ncorral_version_info{version=\"" +
                 std::string(kVersion) + "\"} 1\n";
  }
  return reply;
}

}  // namespace

HttpReply json_reply(int status, const nlohmann::json& doc) {
  HttpReply reply;
  reply.status = status;
  reply.body = http::dump(doc) + "\n";
  return reply;
}

HttpReply error_reply(const HttpError& error) {
  HttpReply reply = json_reply(error.status, http::error_json(error));
  reply.retry_after = error.retry_after_seconds;
  return reply;
}

void handle_http_call(const HttpBackend& b, const HttpCall& call, HttpRespond respond) {
  using http::RouteKind;
  switch (call.route.kind) {
    case RouteKind::kGetKey: {
      auto params = params_of(call, respond);
      if (!params) return;
      auto plan = plan_of(http::get_plan(call.route.key, *params), respond);
      if (plan) get_key(b, call, *plan, std::move(respond));
      return;
    }
    case RouteKind::kPutKey: {
      auto params = params_of(call, respond);
      if (!params) return;
      auto plan = plan_of(http::put_plan(call.route.key, *params), respond);
      if (plan) put_key(b, call, *plan, std::move(respond));
      return;
    }
    case RouteKind::kDeleteKey: {
      auto params = params_of(call, respond);
      if (!params) return;
      auto plan = plan_of(http::delete_plan(call.route.key, *params), respond);
      if (plan) delete_key(b, call, *plan, std::move(respond));
      return;
    }
    case RouteKind::kLeaseGrant:
    case RouteKind::kLeaseList:
    case RouteKind::kLeaseGet:
    case RouteKind::kLeaseRevoke:
    case RouteKind::kLeaseKeepAlive: {
      auto params = params_of(call, respond);
      if (params) leases(b, call, *params, std::move(respond));
      return;
    }
    case RouteKind::kTxn: {
      auto txn = http::parse_txn(call.body);
      if (auto* e = std::get_if<HttpError>(&txn)) return respond(error_reply(*e));
      b.kv()->call_async(std::get<client::TxnRequest>(std::move(txn)), http::options_for(call.context),
                       [respond](client::Result<client::TxnResult> r) {
                         if (!r.ok()) return respond(failed(r));
                         respond(json_reply(200, http::txn_result_json(*r)));
                       });
      return;
    }
    case RouteKind::kMembers:
      return members(b, call, std::move(respond));
    case RouteKind::kAgents:
    case RouteKind::kTasks:
      return collection_view(b, call, std::move(respond));
    case RouteKind::kAuthenticate: {
      auto params = params_of(call, respond);
      if (params) authenticate(b, call, *params, std::move(respond));
      return;
    }
    case RouteKind::kStatus:
      return status(b, call, std::move(respond));
    case RouteKind::kHealth:
      return health(b, call, std::move(respond));
    case RouteKind::kVersion:
      return respond(json_reply(200, {{"server", kVersion}, {"api", "v1"}}));
    case RouteKind::kMetrics:
      return respond(metrics_reply(b));
    case RouteKind::kWatch:
      return respond(error_reply({500, "internal", "watch routes are served by the session"}));
  }
}

}  // namespace corral::server
