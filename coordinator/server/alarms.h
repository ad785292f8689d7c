// The replicated alarm table (etcd's alarms; NOSPACE only): which members
// reported a data dir below their free-space reserve. Changed only by
// applying a MaintenanceRequest.alarm raise/disarm from the raft log, kept in
// kv_meta under "alarm/<member id, 16 hex digits>" so that it is in the
// state image (snapshots) and survives restarts. While any alarm stands the
// leader refuses writes that grow the data dir (nospace_refusal).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "coordinator/api/errors.h"
#include "coordinator/base/error.h"
#include "coordinator/storage/engine.h"
#include "schema/api.capnp.h"

namespace corral::server {

class AlarmTable {
 public:
  using Kind = corral::schema::api::AlarmType;

  Status load(const storage::Engine& engine);
  // Applies a committed raise or disarm (list is not replicated).
  Status apply(corral::schema::api::AlarmRequest::Reader request, storage::WriteBatch& batch);
  bool any() const { return !alarms_.empty(); }
  bool has(uint64_t member_id) const { return alarms_.count(member_id) != 0; }
  const std::map<uint64_t, Kind>& all() const { return alarms_; }
  void fill(corral::schema::api::AlarmResponse::Builder out) const;

 private:
  std::map<uint64_t, Kind> alarms_;
};

// Whether a MaintenanceRequest goes through raft (alarm raise/disarm).
bool is_replicated_maintenance(corral::schema::api::MaintenanceRequest::Reader request);

// The typed noSpace refusal for a request that would grow the data dir
// (put, delete, txn with a put or delete, lease grant) while an alarm
// stands or while disk_low: this member's own disk is below its reserve,
// or (the leader) a member reported its own within two seconds (its alarm
// may not have committed yet, or was just disarmed while still low); and
// for a disarm while disk_low. nullopt for anything else.
std::optional<api::WireError> nospace_refusal(const AlarmTable& alarms, corral::schema::api::Request::Reader request,
                                              bool disk_low);

// The flat Request that raises NOSPACE for `member_id` (proposed for a
// member by the leader, nobody waits for its answer).
std::string encode_nospace_raise(uint64_t member_id);

}  // namespace corral::server
