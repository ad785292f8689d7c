// The auth store: users, roles and their permissions, the enabled flag and
// the token signing key, as replicated state. Apply calls the changes below
// in log order on every member (deterministic: no clock, no randomness; the
// leader put the password hashes and the signing key in the entry); each
// change checks everything first, so a refused change stages nothing, then
// stages its records into the apply batch and raises the auth revision.
// The records live in space kKvMeta under "auth/" (auth_records.h), so they
// are in every snapshot image and survive restarts.
//
// Rules (etcd's): the role `root` always exists and grants everything; auth
// enable needs a user `root` holding it; while enabled, neither that user
// nor its root role can go. `user add root` grants it the root role.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/auth/auth_records.h"
#include "coordinator/auth/permission.h"
#include "coordinator/base/error.h"
#include "coordinator/storage/engine.h"

namespace corral::auth {

inline constexpr std::string_view kRootName = "root";
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxUsers = 10'000;
inline constexpr size_t kMaxRoles = 10'000;
inline constexpr size_t kMaxPermsPerRole = 1'000;
inline constexpr size_t kMaxRolesPerUser = 100;
inline constexpr size_t kSigningKeyBytes = 32;

class AuthStore {
 public:
  // Reads every auth record of the engine (kStorage for a broken one).
  Status load(const storage::Engine& engine);

  bool enabled() const { return state_.enabled; }
  uint64_t revision() const { return state_.revision; }
  const std::string& signing_key() const { return state_.signing_key; }
  const User* user(std::string_view name) const;
  // The root role is always there (with no listed permissions).
  bool role_exists(std::string_view name) const;
  const Role* role(std::string_view name) const;
  std::vector<std::string> user_names() const;
  std::vector<std::string> role_names() const;
  bool is_root(std::string_view user) const;
  // Whether `user` may access every key of (key, range_end): always with
  // auth disabled or for root; never for an unknown user.
  bool check(std::string_view user, std::string_view key, std::string_view range_end, Access access) const;

  Status add_user(std::string_view name, std::string_view password_hash, storage::WriteBatch& batch);
  Status delete_user(std::string_view name, storage::WriteBatch& batch);
  Status change_password(std::string_view name, std::string_view password_hash, storage::WriteBatch& batch);
  Status grant_role(std::string_view user, std::string_view role, storage::WriteBatch& batch);
  Status revoke_role(std::string_view user, std::string_view role, storage::WriteBatch& batch);
  Status add_role(std::string_view name, storage::WriteBatch& batch);
  // Also takes the role from every user holding it.
  Status delete_role(std::string_view name, storage::WriteBatch& batch);
  // Replaces the access of a permission on the same range.
  Status grant_permission(std::string_view role, const Permission& perm, storage::WriteBatch& batch);
  Status revoke_permission(std::string_view role, std::string_view key, std::string_view range_end,
                           storage::WriteBatch& batch);
  // Enabling again keeps the key it has (tokens stay valid); a disabled
  // store takes the new one, so tokens from before a disable never return.
  Status enable(std::string_view signing_key, storage::WriteBatch& batch);
  Status disable(storage::WriteBatch& batch);

 private:
  void bump(storage::WriteBatch& batch);
  void store_user(const User& u, storage::WriteBatch& batch);
  void store_role(const Role& r, storage::WriteBatch& batch);

  AuthState state_;
  std::map<std::string, User, std::less<>> users_;
  std::map<std::string, Role, std::less<>> roles_;
};

// kBadRequest unless 1..kMaxNameBytes bytes with no control character.
Status validate_name(std::string_view what, std::string_view name);

}  // namespace corral::auth
