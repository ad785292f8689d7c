// The short names of the auth requests (client.h): each one AuthRequest.
#include "client/client.h"

namespace corral::client {

namespace {

AuthRequest make(AuthRequest::Kind kind, std::string name = {}) {
  AuthRequest r;
  r.kind = kind;
  r.name = std::move(name);
  return r;
}

}  // namespace

using K = AuthRequest::Kind;

Result<std::string> Client::authenticate(std::string name, std::string password, CallOptions options) {
  auto r = make(K::kAuthenticate, std::move(name));
  r.password = std::move(password);
  auto out = auth(std::move(r), options);
  if (!out.ok()) return out.error();
  return std::move(out->token);
}

Result<AuthResult> Client::user_add(std::string name, std::string password, bool no_password) {
  auto r = make(K::kUserAdd, std::move(name));
  r.password = std::move(password);
  r.no_password = no_password;
  return auth(std::move(r));
}

Result<AuthResult> Client::user_delete(std::string name) { return auth(make(K::kUserDelete, std::move(name))); }
Result<AuthResult> Client::user_get(std::string name) { return auth(make(K::kUserGet, std::move(name))); }
Result<AuthResult> Client::user_list() { return auth(make(K::kUserList)); }

Result<AuthResult> Client::user_change_password(std::string name, std::string password) {
  auto r = make(K::kUserChangePassword, std::move(name));
  r.password = std::move(password);
  return auth(std::move(r));
}

Result<AuthResult> Client::user_grant_role(std::string user, std::string role) {
  auto r = make(K::kUserGrantRole, std::move(user));
  r.role = std::move(role);
  return auth(std::move(r));
}

Result<AuthResult> Client::user_revoke_role(std::string user, std::string role) {
  auto r = make(K::kUserRevokeRole, std::move(user));
  r.role = std::move(role);
  return auth(std::move(r));
}

Result<AuthResult> Client::role_add(std::string name) { return auth(make(K::kRoleAdd, std::move(name))); }
Result<AuthResult> Client::role_delete(std::string name) { return auth(make(K::kRoleDelete, std::move(name))); }
Result<AuthResult> Client::role_get(std::string name) { return auth(make(K::kRoleGet, std::move(name))); }
Result<AuthResult> Client::role_list() { return auth(make(K::kRoleList)); }

Result<AuthResult> Client::role_grant_permission(std::string role, AuthPermission perm) {
  auto r = make(K::kRoleGrantPermission, std::move(role));
  r.perm = std::move(perm);
  return auth(std::move(r));
}

Result<AuthResult> Client::role_revoke_permission(std::string role, std::string key, std::string range_end) {
  auto r = make(K::kRoleRevokePermission, std::move(role));
  r.perm.key = std::move(key);
  r.perm.range_end = std::move(range_end);
  return auth(std::move(r));
}

Result<AuthResult> Client::auth_enable() { return auth(make(K::kAuthEnable)); }
Result<AuthResult> Client::auth_disable() { return auth(make(K::kAuthDisable)); }
Result<AuthResult> Client::auth_status() { return auth(make(K::kAuthStatus)); }

}  // namespace corral::client
