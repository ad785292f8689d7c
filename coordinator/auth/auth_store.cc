#include "coordinator/auth/auth_store.h"

#include <algorithm>

#include "coordinator/kv/key_range.h"

namespace corral::auth {

using storage::Space;

namespace {

Error not_found(std::string_view what, std::string_view name) {
  return make_error(ErrorCode::kNotFound, std::string(what) + " " + std::string(name) + " not found");
}

Error refused(std::string message) { return make_error(ErrorCode::kBadRequest, std::move(message)); }

std::string perm_range_text(std::string_view key, std::string_view range_end) {
  std::string out = "[" + std::string(key);
  if (range_end.empty()) return out + "]";
  if (range_end == std::string_view("\0", 1)) return out + ", <end>)";
  return out + ", " + std::string(range_end) + ")";
}

}  // namespace

Status validate_name(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) {
    return refused(std::string(what) + " name must be 1.." + std::to_string(kMaxNameBytes) + " bytes");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return refused(std::string(what) + " name holds a control character");
  }
  return Status();
}

Status AuthStore::load(const storage::Engine& engine) {
  state_ = AuthState{};
  users_.clear();
  roles_.clear();
  auto it = engine.scan(Space::kKvMeta, kAuthKeyPrefix, kAuthKeyUpper);
  for (; it->valid(); it->next()) {
    auto key = it->key();
    if (key == kStateKey) {
      auto s = decode_state(it->value());
      if (!s.ok()) return s.error();
      state_ = std::move(s).value();
    } else if (key.starts_with(kUserKeyPrefix)) {
      auto u = decode_user(it->value());
      if (!u.ok()) return u.error();
      users_[u->name] = std::move(u).value();
    } else if (key.starts_with(kRoleKeyPrefix)) {
      auto r = decode_role(it->value());
      if (!r.ok()) return r.error();
      roles_[r->name] = std::move(r).value();
    }
  }
  return it->status();
}

const User* AuthStore::user(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

bool AuthStore::role_exists(std::string_view name) const { return name == kRootName || roles_.count(name) > 0; }

const Role* AuthStore::role(std::string_view name) const {
  auto it = roles_.find(name);
  return it == roles_.end() ? nullptr : &it->second;
}

std::vector<std::string> AuthStore::user_names() const {
  std::vector<std::string> out;
  for (const auto& [name, u] : users_) out.push_back(name);
  return out;
}

std::vector<std::string> AuthStore::role_names() const {
  std::vector<std::string> out;
  bool root_listed = false;
  for (const auto& [name, r] : roles_) {
    if (!root_listed && name > kRootName) {
      out.emplace_back(kRootName);
      root_listed = true;
    }
    out.push_back(name);
  }
  if (!root_listed) out.emplace_back(kRootName);
  return out;
}

bool AuthStore::is_root(std::string_view name) const {
  auto* u = user(name);
  return u != nullptr && std::binary_search(u->roles.begin(), u->roles.end(), kRootName);
}

bool AuthStore::check(std::string_view name, std::string_view key, std::string_view range_end,
                      Access access) const {
  if (!state_.enabled) return true;
  auto* u = user(name);
  if (u == nullptr) return false;
  std::vector<const Permission*> perms;
  for (const auto& role_name : u->roles) {
    if (role_name == kRootName) return true;
    if (auto* r = role(role_name)) {
      for (const auto& p : r->perms) perms.push_back(&p);
    }
  }
  return covers(perms, key, range_end, access);
}

void AuthStore::bump(storage::WriteBatch& batch) {
  ++state_.revision;
  batch.put(Space::kKvMeta, kStateKey, encode_state(state_));
}

void AuthStore::store_user(const User& u, storage::WriteBatch& batch) {
  batch.put(Space::kKvMeta, std::string(kUserKeyPrefix) + u.name, encode_user(u));
}

void AuthStore::store_role(const Role& r, storage::WriteBatch& batch) {
  batch.put(Space::kKvMeta, std::string(kRoleKeyPrefix) + r.name, encode_role(r));
}

Status AuthStore::add_user(std::string_view name, std::string_view password_hash, storage::WriteBatch& batch) {
  if (auto s = validate_name("user", name); !s.ok()) return s;
  if (users_.count(name)) return refused("user " + std::string(name) + " already exists");
  if (users_.size() >= kMaxUsers) return make_error(ErrorCode::kTooLarge, "at most " + std::to_string(kMaxUsers) + " users");
  User u;
  u.name = std::string(name);
  u.password_hash = std::string(password_hash);
  if (name == kRootName) u.roles.emplace_back(kRootName);
  bump(batch);
  u.token_revision = state_.revision;
  store_user(u, batch);
  users_[u.name] = std::move(u);
  return Status();
}

Status AuthStore::delete_user(std::string_view name, storage::WriteBatch& batch) {
  auto it = users_.find(name);
  if (it == users_.end()) return not_found("user", name);
  if (state_.enabled && name == kRootName) return refused("cannot delete user root while auth is enabled");
  batch.del(Space::kKvMeta, std::string(kUserKeyPrefix) + std::string(name));
  users_.erase(it);
  bump(batch);
  return Status();
}

Status AuthStore::change_password(std::string_view name, std::string_view password_hash, storage::WriteBatch& batch) {
  auto it = users_.find(name);
  if (it == users_.end()) return not_found("user", name);
  bump(batch);
  it->second.password_hash = std::string(password_hash);
  it->second.token_revision = state_.revision;
  store_user(it->second, batch);
  return Status();
}

Status AuthStore::grant_role(std::string_view name, std::string_view role_name, storage::WriteBatch& batch) {
  auto it = users_.find(name);
  if (it == users_.end()) return not_found("user", name);
  if (!role_exists(role_name)) return not_found("role", role_name);
  auto& roles = it->second.roles;
  auto at = std::lower_bound(roles.begin(), roles.end(), role_name);
  if (at != roles.end() && *at == role_name) return Status();  // already held: nothing changes
  if (roles.size() >= kMaxRolesPerUser) {
    return make_error(ErrorCode::kTooLarge, "a user holds at most " + std::to_string(kMaxRolesPerUser) + " roles");
  }
  roles.insert(at, std::string(role_name));
  store_user(it->second, batch);
  bump(batch);
  return Status();
}

Status AuthStore::revoke_role(std::string_view name, std::string_view role_name, storage::WriteBatch& batch) {
  auto it = users_.find(name);
  if (it == users_.end()) return not_found("user", name);
  auto& roles = it->second.roles;
  auto at = std::lower_bound(roles.begin(), roles.end(), role_name);
  if (at == roles.end() || *at != role_name) {
    return not_found("role", std::string(role_name) + " of user " + std::string(name));
  }
  if (state_.enabled && name == kRootName && role_name == kRootName) {
    return refused("cannot revoke role root from user root while auth is enabled");
  }
  roles.erase(at);
  store_user(it->second, batch);
  bump(batch);
  return Status();
}

Status AuthStore::add_role(std::string_view name, storage::WriteBatch& batch) {
  if (auto s = validate_name("role", name); !s.ok()) return s;
  if (role_exists(name)) return refused("role " + std::string(name) + " already exists");
  if (roles_.size() >= kMaxRoles) return make_error(ErrorCode::kTooLarge, "at most " + std::to_string(kMaxRoles) + " roles");
  Role r;
  r.name = std::string(name);
  store_role(r, batch);
  roles_[r.name] = std::move(r);
  bump(batch);
  return Status();
}

Status AuthStore::delete_role(std::string_view name, storage::WriteBatch& batch) {
  if (name == kRootName) return refused("the role root cannot be deleted");
  auto it = roles_.find(name);
  if (it == roles_.end()) return not_found("role", name);
  for (auto& [uname, u] : users_) {
    auto at = std::lower_bound(u.roles.begin(), u.roles.end(), name);
    if (at != u.roles.end() && *at == name) {
      u.roles.erase(at);
      store_user(u, batch);
    }
  }
  batch.del(Space::kKvMeta, std::string(kRoleKeyPrefix) + std::string(name));
  roles_.erase(it);
  bump(batch);
  return Status();
}

Status AuthStore::grant_permission(std::string_view role_name, const Permission& perm, storage::WriteBatch& batch) {
  if (role_name == kRootName) return refused("the role root has every permission already");
  auto it = roles_.find(role_name);
  if (it == roles_.end()) return not_found("role", role_name);
  if (!perm.read && !perm.write) return refused("a permission grants read, write or both");
  if (auto r = kv::KeyRange::make(perm.key, perm.range_end); !r.ok()) {
    return refused("permission range: " + r.error().message);
  }
  auto& perms = it->second.perms;
  auto less = [](const Permission& a, const Permission& b) {
    return std::tie(a.key, a.range_end) < std::tie(b.key, b.range_end);
  };
  auto at = std::lower_bound(perms.begin(), perms.end(), perm, less);
  if (at != perms.end() && at->same_range(perm)) {
    at->read = perm.read;
    at->write = perm.write;
  } else {
    if (perms.size() >= kMaxPermsPerRole) {
      return make_error(ErrorCode::kTooLarge, "a role holds at most " + std::to_string(kMaxPermsPerRole) + " permissions");
    }
    perms.insert(at, perm);
  }
  store_role(it->second, batch);
  bump(batch);
  return Status();
}

Status AuthStore::revoke_permission(std::string_view role_name, std::string_view key, std::string_view range_end,
                                    storage::WriteBatch& batch) {
  auto it = roles_.find(role_name);
  if (it == roles_.end()) return not_found("role", role_name);
  auto& perms = it->second.perms;
  auto at = std::find_if(perms.begin(), perms.end(),
                         [&](const Permission& p) { return p.key == key && p.range_end == range_end; });
  if (at == perms.end()) {
    return not_found("permission", perm_range_text(key, range_end) + " of role " + std::string(role_name));
  }
  perms.erase(at);
  store_role(it->second, batch);
  bump(batch);
  return Status();
}

Status AuthStore::enable(std::string_view signing_key, storage::WriteBatch& batch) {
  if (state_.enabled) return Status();
  if (!is_root(kRootName)) {
    return refused("auth enable needs a user root with the role root (corralctl user add root)");
  }
  if (signing_key.size() != kSigningKeyBytes) return refused("auth enable without a signing key");
  state_.enabled = true;
  state_.signing_key = std::string(signing_key);
  bump(batch);
  return Status();
}

Status AuthStore::disable(storage::WriteBatch& batch) {
  if (!state_.enabled) return Status();
  state_.enabled = false;
  state_.signing_key.clear();
  bump(batch);
  return Status();
}

}  // namespace corral::auth
