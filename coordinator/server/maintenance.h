// Maintenance requests (schema/api.capnp MaintenanceRequest): answered by
// the member that gets them, from its own state, without raft. HashKV
// scans the key-space history on the node loop (as etcd's handler reads
// its backend), so it costs a turn proportional to the history kept.
#pragma once

#include <cstdint>
#include <string>

#include "coordinator/api/response.h"
#include "coordinator/kv/mvcc_store.h"
#include "coordinator/server/alarms.h"
#include "coordinator/storage/engine.h"
#include "schema/api.capnp.h"

namespace corral::server {

// The flat ServerMessage answering `request`: its response, or a typed
// error (badRequest for no kind, compacted, futureRevision).
std::string answer_maintenance(uint64_t request_id, const api::Header& header,
                               corral::schema::api::MaintenanceRequest::Reader request,
                               const storage::Engine& engine, const kv::MvccStore& kv,
                               const AlarmTable& alarms);

}  // namespace corral::server
