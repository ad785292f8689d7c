// Maintenance requests (schema/api.capnp MaintenanceRequest): answered by
// the member that gets them, from its own state, without raft. HashKV
// scans the key-space history kept, so it runs on the KvHasher's thread
// (kv_hasher.h) over a view taken when it was asked; this file encodes.
#pragma once

#include <cstdint>
#include <string>

#include "coordinator/api/response.h"
#include "coordinator/base/result.h"
#include "coordinator/kv/kv_hash.h"
#include "coordinator/server/alarms.h"
#include "schema/api.capnp.h"

namespace corral::server {

// The flat ServerMessage answering a HashKV: the hash, or its typed error
// (compacted, futureRevision, a storage error).
std::string answer_hash_kv(uint64_t request_id, const api::Header& header, const Result<kv::KvHash>& hash);

// The flat ServerMessage answering any other maintenance `request` (the
// alarm list), or badRequest (no kind, or a HashKV, which is not hashed here).
std::string answer_maintenance(uint64_t request_id, const api::Header& header,
                               corral::schema::api::MaintenanceRequest::Reader request,
                               const AlarmTable& alarms);

}  // namespace corral::server
