// Apply of a committed auth change (schema/api.capnp AuthRequest) to the
// auth store: the one place that turns the wire request into a store call.
// Read kinds (authenticate, get, list, status) never reach apply.
#pragma once

#include "coordinator/auth/auth_store.h"
#include "coordinator/base/error.h"
#include "coordinator/storage/engine.h"
#include "schema/api.capnp.h"

namespace corral::server {

// Whether an auth request changes the store (goes through raft).
bool is_auth_change(schema::api::AuthRequest::Reader req);

Status apply_auth_change(auth::AuthStore& store, schema::api::AuthRequest::Reader req, storage::WriteBatch& batch);

// Wire permission -> store permission.
auth::Permission to_permission(schema::api::Permission::Reader p);

}  // namespace corral::server
