// Which member a data dir belongs to, kept in the data dir itself.
//
// Record: space kRaftMeta (local to the member, never in a snapshot image),
// key "server/identity" -> a flat schema/api.capnp Member with the id and
// the name only. Written once, synced, before anything else of a fresh data
// dir (with the bootstrap of a new cluster, or once a joining member has
// learnt its id), and read at every start: the id of a member is what the
// cluster gave it, not something recomputed from flags, and a data dir
// started under another --name is refused. A member told by its peers that
// it was removed adds key "server/removed" (empty value) beside it, so that
// it is refused at its next start even though it never applied its removal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <memory>

#include <zmq.hpp>

#include "coordinator/base/error.h"
#include "coordinator/server/join_discovery.h"
#include "coordinator/server/members.h"
#include "coordinator/server/node.h"
#include "coordinator/storage/engine.h"

namespace corral::server {

inline constexpr std::string_view kIdentityKey = "server/identity";
inline constexpr std::string_view kRemovedMarkKey = "server/removed";
// Space kKvMeta: the cluster id, 8 bytes little-endian (bootstrap, join and
// snapshot restore write it; the member reads it at every start).
inline constexpr std::string_view kClusterIdKey = "server/cluster_id";

struct MemberIdentity {
  uint64_t id = 0;
  std::string name;
  bool removed = false;  // the cluster said so (kRemovedMarkKey)
};

// nullopt for a data dir that has none yet; kStorage for a broken record.
Result<std::optional<MemberIdentity>> load_identity(const storage::Engine& engine);
void stage_identity(storage::WriteBatch& batch, const MemberIdentity& identity);
void stage_removed_mark(storage::WriteBatch& batch);

// kBadRequest naming both names when the data dir belongs to another member.
Status check_identity_name(const MemberIdentity& stored, std::string_view name, std::string_view data_dir);

// Who this member is, decided before its peer endpoint is bound (the id is
// the transport's routing id):
//  - a data dir with an identity record: that id (under the same --name);
//  - a data dir with raft state but no record (written before the record
//    existed): legacy_member_id(name);
//  - an empty or absent data dir, --initial-cluster-state new: the initial
//    id, initial_member_id(name, names of --initial-cluster);
//  - an empty or absent data dir, existing: the id the cluster gave it at
//    `member add`, by discover_membership.
// An empty or absent data dir is neither created nor written here.
struct StartupIdentity {
  std::unique_ptr<storage::Engine> engine;  // open unless the data dir was empty
  MemberIdentity identity;
  bool stored = false;                      // false: write it before anything else
  std::optional<JoinResult> joined;         // existing: what the cluster said
  bool peer_port_released = false;          // bound and closed by a probe: rebind may need retries
};
Result<StartupIdentity> decide_identity(zmq::context_t& context, const NodeOptions& options);

}  // namespace corral::server
