#include "coordinator/server/auth_recheck.h"

#include "coordinator/server/auth_gate.h"

namespace corral::server {

std::optional<api::WireError> recheck_at_apply(const auth::AuthStore& store, const lease::Lessor& lessor,
                                               const std::optional<AuthStamp>& stamp,
                                               schema::api::Request::Reader request) {
  if (!stamp || !store.enabled() || stamp->auth_revision >= store.revision()) return std::nullopt;
  return authorize(store, lessor, stamp->user, request);
}

}  // namespace corral::server
