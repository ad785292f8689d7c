#include "coordinator/server/lease_min_ttl.h"

#include <capnp/message.h>

#include "coordinator/api/response.h"

namespace corral::server {

namespace wire = corral::schema::api;

std::optional<std::string> raise_grant_ttl(const api::ParsedRequest& req, int64_t min_ttl_seconds) {
  if (req.which() != wire::Request::LEASE_GRANT || req.get().getLeaseGrant().getTtl() >= min_ttl_seconds) {
    return std::nullopt;
  }
  capnp::MallocMessageBuilder message;
  message.setRoot(req.get());
  message.getRoot<wire::Request>().getLeaseGrant().setTtl(min_ttl_seconds);
  return api::to_flat_bytes(message);
}

}  // namespace corral::server
