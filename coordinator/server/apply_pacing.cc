#include "coordinator/server/apply_pacing.h"

namespace corral::server {

size_t grants_in(schema::api::Request::Reader request) {
  switch (request.which()) {
    case schema::api::Request::LEASE_GRANT: return 1;
    case schema::api::Request::LEASE_GRANT_BATCH: return request.getLeaseGrantBatch().getGrants().size();
    default: return 0;
  }
}

}  // namespace corral::server
