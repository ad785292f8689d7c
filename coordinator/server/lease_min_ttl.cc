#include "coordinator/server/lease_min_ttl.h"

#include <capnp/message.h>

#include "coordinator/api/response.h"

namespace corral::server {

namespace wire = corral::schema::api;

namespace {

bool batch_below(wire::LeaseGrantBatchRequest::Reader batch, int64_t min_ttl_seconds) {
  for (auto g : batch.getGrants()) {
    if (g.getTtl() < min_ttl_seconds) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> raise_grant_ttl(const api::ParsedRequest& req, int64_t min_ttl_seconds) {
  if (req.which() == wire::Request::LEASE_GRANT) {
    if (req.get().getLeaseGrant().getTtl() >= min_ttl_seconds) return std::nullopt;
    capnp::MallocMessageBuilder message;
    message.setRoot(req.get());
    message.getRoot<wire::Request>().getLeaseGrant().setTtl(min_ttl_seconds);
    return api::to_flat_bytes(message);
  }
  if (req.which() == wire::Request::LEASE_GRANT_BATCH && batch_below(req.get().getLeaseGrantBatch(), min_ttl_seconds)) {
    capnp::MallocMessageBuilder message;
    message.setRoot(req.get());
    for (auto g : message.getRoot<wire::Request>().getLeaseGrantBatch().getGrants()) {
      if (g.getTtl() < min_ttl_seconds) g.setTtl(min_ttl_seconds);
    }
    return api::to_flat_bytes(message);
  }
  return std::nullopt;
}

}  // namespace corral::server
