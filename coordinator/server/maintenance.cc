#include "coordinator/server/maintenance.h"

#include "coordinator/api/errors.h"

namespace corral::server {

namespace wire = corral::schema::api;

std::string answer_hash_kv(uint64_t request_id, const api::Header& header, const Result<kv::KvHash>& hash) {
  if (!hash.ok()) return api::encode_error(request_id, header, api::to_wire_error(hash.error()));
  api::ResponseBuilder b(request_id, header);
  auto out = b.response().initMaintenance().initHashKv();
  out.setHash(hash->hash);
  out.setHashRevision(hash->hash_revision);
  out.setCompactRevision(hash->compact_revision);
  return b.finish();
}

std::string answer_maintenance(uint64_t request_id, const api::Header& header,
                               wire::MaintenanceRequest::Reader request, const AlarmTable& alarms) {
  switch (request.which()) {
    case wire::MaintenanceRequest::HASH_KV:
      break;  // hashed off the loop (kv_hasher.h)
    case wire::MaintenanceRequest::ALARM: {
      // Only list gets here: raise and disarm go through raft (alarms.h).
      api::ResponseBuilder b(request_id, header);
      alarms.fill(b.response().initMaintenance().initAlarm());
      return b.finish();
    }
    case wire::MaintenanceRequest::NONE:
      break;
  }
  return api::encode_error(request_id, header,
                           api::wire_error(wire::ErrorCode::BAD_REQUEST, "maintenance request of no known kind"));
}

}  // namespace corral::server
