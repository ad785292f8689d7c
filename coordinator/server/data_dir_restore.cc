#include "coordinator/server/data_dir_restore.h"

#include <algorithm>
#include <filesystem>

#include "coordinator/kv/record_codec.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/server/identity.h"
#include "coordinator/storage/raft_log_store.h"

namespace corral::server {

namespace {

// Salts no bootstrapped cluster uses (members.cc hashes "corral-member" and
// the bare initial-cluster text).
constexpr std::string_view kRestoredClusterSalt = "corral-restored-cluster";
constexpr std::string_view kRestoredMemberSalt = "corral-restored-member";

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

uint64_t nonzero(uint64_t id) { return id == 0 ? 1 : id; }

// The sorted name=url list, the token and the snapshot: what every member's
// restore agrees on.
std::string restore_seed(const std::vector<MemberInfo>& members, const std::string& cluster_token,
                         const std::string& snapshot_digest_hex) {
  std::vector<std::string> items;
  for (const auto& m : members) items.push_back(m.name + "=" + m.peer_urls.at(0));
  std::sort(items.begin(), items.end());
  std::string seed;
  for (const auto& item : items) seed += item + ",";
  seed.push_back('\0');
  seed += cluster_token;
  seed.push_back('\0');
  seed += snapshot_digest_hex;
  return seed;
}

bool empty_or_absent(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return !ec;
  return std::filesystem::is_directory(dir, ec) && std::filesystem::is_empty(dir, ec) && !ec;
}

}  // namespace

uint64_t restored_cluster_id(const std::vector<MemberInfo>& members, const std::string& cluster_token,
                             const std::string& snapshot_digest_hex) {
  std::string bytes(kRestoredClusterSalt);
  bytes.push_back('\0');
  bytes += restore_seed(members, cluster_token, snapshot_digest_hex);
  return nonzero(fnv1a64(bytes));
}

uint64_t restored_member_id(const std::string& name, const std::vector<MemberInfo>& members,
                            const std::string& cluster_token, const std::string& snapshot_digest_hex) {
  std::string bytes(kRestoredMemberSalt);
  bytes.push_back('\0');
  bytes += name;
  bytes.push_back('\0');
  bytes += restore_seed(members, cluster_token, snapshot_digest_hex);
  return nonzero(fnv1a64(bytes));
}

Result<RestoreOutcome> restore_data_dir(const RestoreOptions& o, const SnapshotFile& snapshot) {
  if (o.name.empty()) return make_error(ErrorCode::kBadRequest, "--name is required");
  if (o.data_dir.empty()) return make_error(ErrorCode::kBadRequest, "--data-dir is required");
  auto members = parse_initial_cluster(o.initial_cluster);
  if (!members.ok()) return members.error();
  RestoreOutcome out;
  for (auto& m : *members) m.id = restored_member_id(m.name, *members, o.cluster_token, snapshot.digest_hex);
  std::sort(members->begin(), members->end(), [](const MemberInfo& a, const MemberInfo& b) { return a.id < b.id; });
  for (size_t i = 1; i < members->size(); ++i) {
    if ((*members)[i].id == (*members)[i - 1].id) {
      return make_error(ErrorCode::kBadRequest, "two member names hash to one id; rename one");
    }
  }
  auto self = std::find_if(members->begin(), members->end(), [&](const MemberInfo& m) { return m.name == o.name; });
  if (self == members->end()) {
    return make_error(ErrorCode::kBadRequest, "--name " + o.name + " is not in --initial-cluster " + o.initial_cluster);
  }
  if (!o.advertise_peer.empty()) {
    auto adv = net::parse_endpoint(o.advertise_peer, net::EndpointUse::kConnect);
    if (!adv.ok()) return make_error(ErrorCode::kBadRequest, "--initial-advertise-peer-urls: " + adv.error().message);
    if (adv->to_zmq() != self->peer_urls.at(0)) {
      return make_error(ErrorCode::kBadRequest, "--initial-advertise-peer-urls " + o.advertise_peer +
                                                    " is not the URL --initial-cluster gives " + o.name + " (" +
                                                    self->peer_urls.at(0) + ")");
    }
  }
  if (!empty_or_absent(o.data_dir)) {
    return make_error(ErrorCode::kBadRequest, "--data-dir " + o.data_dir +
                                                  " exists and is not empty: restore only into a new data dir");
  }
  out.cluster_id = restored_cluster_id(*members, o.cluster_token, snapshot.digest_hex);
  out.member_id = self->id;
  out.members = *members;

  storage::WriteBatch batch;
  for (const ImageRecord& rec : snapshot.records) {
    if (rec.space == storage::Space::kKvMeta) {
      // The old cluster's membership and id stay behind.
      if (rec.key.starts_with(kMemberKeyPrefix) || rec.key.starts_with(kRemovedMemberKeyPrefix) ||
          rec.key == kClusterIdKey) {
        continue;
      }
      if (rec.key == kv::kKvStateKey) {
        auto state = kv::decode_kv_state(rec.value);
        if (!state.ok()) return make_error(ErrorCode::kBadRequest, "snapshot key-space state: " + state.error().message);
        out.revision = state->current_revision;
        state->applied_index = 0;
        batch.put(rec.space, rec.key, kv::encode_kv_state(*state));
        continue;
      }
    }
    batch.put(rec.space, rec.key, rec.value);
  }
  stage_identity(batch, MemberIdentity{self->id, self->name, false});
  batch.put(storage::Space::kKvMeta, kClusterIdKey, u64_le(out.cluster_id));
  for (const auto& m : *members) batch.put(storage::Space::kKvMeta, member_key(m.id), encode_member(m));

  std::error_code ec;
  const bool created = !std::filesystem::exists(o.data_dir, ec);
  auto fail = [&](const Error& e) -> Error {
    if (created) std::filesystem::remove_all(o.data_dir, ec);
    return e;
  };
  storage::EngineOptions eo;
  eo.path = o.data_dir;
  auto engine = storage::Engine::open(eo);
  if (!engine.ok()) return fail(engine.error());
  auto store = storage::RaftLogStore::open(engine->get());
  if (!store.ok()) return fail(store.error());
  raft::ConfState cs;
  for (const auto& m : *members) cs.voters.push_back(m.id);
  (*store)->stage_conf_state(batch, cs);
  if (auto s = (*engine)->write(std::move(batch), true); !s.ok()) {
    (*store)->abandon_staged();
    return fail(s.error());
  }
  (*store)->on_written();
  return out;
}

}  // namespace corral::server
