#include "coordinator/server/identity.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "coordinator/net/endpoint.h"
#include "coordinator/server/bootstrap_probe.h"

namespace corral::server {

Result<std::optional<MemberIdentity>> load_identity(const storage::Engine& engine) {
  auto raw = engine.get(storage::Space::kRaftMeta, kIdentityKey);
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return std::optional<MemberIdentity>();
  auto m = decode_member(**raw);
  if (!m.ok() || m->id == 0 || m->name.empty()) {
    return make_error(ErrorCode::kStorage, "data dir identity record is broken");
  }
  auto mark = engine.get(storage::Space::kRaftMeta, kRemovedMarkKey);
  if (!mark.ok()) return mark.error();
  return std::optional<MemberIdentity>(MemberIdentity{m->id, m->name, mark->has_value()});
}

void stage_removed_mark(storage::WriteBatch& batch) { batch.put(storage::Space::kRaftMeta, kRemovedMarkKey, ""); }

void stage_identity(storage::WriteBatch& batch, const MemberIdentity& identity) {
  MemberInfo m;
  m.id = identity.id;
  m.name = identity.name;
  batch.put(storage::Space::kRaftMeta, kIdentityKey, encode_member(m));
}

Status check_identity_name(const MemberIdentity& stored, std::string_view name, std::string_view data_dir) {
  if (stored.name == name) return Status();
  char id[17];
  std::snprintf(id, sizeof(id), "%016llx", static_cast<unsigned long long>(stored.id));
  return make_error(ErrorCode::kBadRequest, "--data-dir " + std::string(data_dir) + " belongs to member '" +
                                                stored.name + "' (id " + id + "), not --name " +
                                                std::string(name) + ": start it as " + stored.name +
                                                " or give this member its own data dir");
}

namespace {

bool empty_or_absent(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return !ec;
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec) && !ec;
}

bool has_raft_state(const storage::Engine& engine) {
  for (auto space : {storage::Space::kRaftMeta, storage::Space::kRaftLog}) {
    if (engine.scan(space, "", "")->valid()) return true;
  }
  return false;
}

Result<JoinResult> join_existing(zmq::context_t& context, const NodeOptions& o) {
  auto members = parse_initial_cluster(o.initial_cluster.empty() ? o.name + "=" + o.listen_peer : o.initial_cluster);
  if (!members.ok()) return members.error();
  JoinRequest req;
  req.name = o.name;
  req.listen_peer = o.listen_peer;
  req.peer_wire = o.peer_wire;
  req.advertise_peer = o.advertise_peer.empty() ? o.listen_peer : o.advertise_peer;
  auto adv = net::parse_endpoint(req.advertise_peer, net::EndpointUse::kConnect);
  if (!adv.ok() || adv->port == 0) {
    return make_error(ErrorCode::kBadRequest, "a member joining an existing cluster needs a fixed peer URL "
                                              "(--listen-peer or --advertise-peer with a port), the one given to member add");
  }
  req.advertise_peer = adv->to_zmq();
  if (Status s = add_contacts(req, *members, o.name, o.curve.get()); !s.ok()) return s.error();
  req.timeout = std::max(kMinJoinTimeoutMs,
                         std::chrono::milliseconds(int64_t{kJoinTimeoutElections} * o.tick_ms * o.election_ticks));
  return discover_membership(context, req);
}

}  // namespace

Result<StartupIdentity> decide_identity(zmq::context_t& context, const NodeOptions& o) {
  StartupIdentity out;
  out.identity.name = o.name;
  if (!o.in_memory && !empty_or_absent(o.data_dir)) {
    storage::EngineOptions eo;
    eo.path = o.data_dir;
    auto engine = storage::Engine::open(eo);
    if (!engine.ok()) return engine.error();
    out.engine = std::move(engine).value();
    auto stored = load_identity(*out.engine);
    if (!stored.ok()) return stored.error();
    if (stored->has_value()) {
      if (auto s = check_identity_name(**stored, o.name, o.data_dir); !s.ok()) return s.error();
      out.identity = **stored;
      out.stored = true;
      return out;
    }
    if (has_raft_state(*out.engine)) {
      out.identity.id = legacy_member_id(o.name);
      return out;
    }
    // Nothing of a member in it yet (a start that failed early): as empty.
  }
  if (!o.initial_cluster_new) {
    auto joined = join_existing(context, o);
    if (!joined.ok()) return joined.error();
    out.identity.id = joined->self.id;
    out.joined = std::move(joined).value();
    return out;
  }
  if (auto s = refuse_bootstrapped_member(context, o, out.peer_port_released); !s.ok()) return s.error();
  std::vector<std::string> names{o.name};
  if (!o.initial_cluster.empty()) {
    auto members = parse_initial_cluster(o.initial_cluster);
    if (!members.ok()) return members.error();
    names.clear();
    for (const auto& m : *members) names.push_back(m.name);
  }
  out.identity.id = initial_member_id(o.name, initial_cluster_token(names));
  return out;
}

}  // namespace corral::server
