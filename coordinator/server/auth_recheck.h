// The apply-time permission check (etcd's "auth revision" rule).
//
// The leader checks a write when it admits it (auth_gate.h) and stamps the
// raft command with the user it ran as and the auth revision it checked
// against (command.h). A permission revoked between admission and apply
// would otherwise let the write through. At apply, on every member: when
// auth is enabled and the store's revision is newer than the stamp, the
// request is checked again against the store as it is now; a user who lacks
// the permission now gets permissionDenied and nothing changes. Deterministic:
// it reads only replicated state (auth store, leases). An unchanged revision
// needs no second check (the admission check saw the same store).
#pragma once

#include <optional>

#include "coordinator/api/errors.h"
#include "coordinator/auth/auth_store.h"
#include "coordinator/lease/lessor.h"
#include "coordinator/server/command.h"
#include "schema/api.capnp.h"

namespace corral::server {

// nullopt: apply it. Unstamped requests (server-made, or from a version 1
// entry) are not checked again.
std::optional<api::WireError> recheck_at_apply(const auth::AuthStore& store, const lease::Lessor& lessor,
                                               const std::optional<AuthStamp>& stamp,
                                               schema::api::Request::Reader request);

}  // namespace corral::server
