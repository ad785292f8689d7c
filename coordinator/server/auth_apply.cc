#include "coordinator/server/auth_apply.h"

#include "schema/data_bytes.h"

namespace corral::server {

namespace wire = corral::schema::api;

namespace {

std::string_view text(capnp::Text::Reader t) { return std::string_view(t.cStr(), t.size()); }

}  // namespace

bool is_auth_change(wire::AuthRequest::Reader req) {
  switch (req.which()) {
    case wire::AuthRequest::AUTHENTICATE:
    case wire::AuthRequest::USER_GET:
    case wire::AuthRequest::USER_LIST:
    case wire::AuthRequest::ROLE_GET:
    case wire::AuthRequest::ROLE_LIST:
    case wire::AuthRequest::AUTH_STATUS:
      return false;
    default:
      return true;
  }
}

auth::Permission to_permission(wire::Permission::Reader p) {
  auth::Permission out;
  out.read = p.getType() != wire::Permission::Type::WRITE;
  out.write = p.getType() != wire::Permission::Type::READ;
  out.key = schema::as_string(p.getKey());
  out.range_end = schema::as_string(p.getRangeEnd());
  return out;
}

Status apply_auth_change(auth::AuthStore& store, wire::AuthRequest::Reader req, storage::WriteBatch& batch) {
  auto hashed = schema::as_view(req.getHashedPassword());
  switch (req.which()) {
    case wire::AuthRequest::USER_ADD:
      return store.add_user(text(req.getUserAdd().getName()), hashed, batch);
    case wire::AuthRequest::USER_DELETE:
      return store.delete_user(text(req.getUserDelete().getName()), batch);
    case wire::AuthRequest::USER_CHANGE_PASSWORD:
      return store.change_password(text(req.getUserChangePassword().getName()), hashed, batch);
    case wire::AuthRequest::USER_GRANT_ROLE:
      return store.grant_role(text(req.getUserGrantRole().getUser()), text(req.getUserGrantRole().getRole()), batch);
    case wire::AuthRequest::USER_REVOKE_ROLE:
      return store.revoke_role(text(req.getUserRevokeRole().getUser()), text(req.getUserRevokeRole().getRole()), batch);
    case wire::AuthRequest::ROLE_ADD:
      return store.add_role(text(req.getRoleAdd().getName()), batch);
    case wire::AuthRequest::ROLE_DELETE:
      return store.delete_role(text(req.getRoleDelete().getName()), batch);
    case wire::AuthRequest::ROLE_GRANT_PERMISSION: {
      auto g = req.getRoleGrantPermission();
      return store.grant_permission(text(g.getRole()), to_permission(g.getPerm()), batch);
    }
    case wire::AuthRequest::ROLE_REVOKE_PERMISSION: {
      auto g = req.getRoleRevokePermission();
      return store.revoke_permission(text(g.getRole()), schema::as_view(g.getPerm().getKey()),
                                     schema::as_view(g.getPerm().getRangeEnd()), batch);
    }
    case wire::AuthRequest::AUTH_ENABLE:
      return store.enable(schema::as_view(req.getSigningKey()), batch);
    case wire::AuthRequest::AUTH_DISABLE:
      return store.disable(batch);
    default:
      return make_error(ErrorCode::kBadRequest, "auth request kind is not a change");
  }
}

}  // namespace corral::server
