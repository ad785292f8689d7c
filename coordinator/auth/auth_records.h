// The auth store's plain structs and their stored form (schema/auth.capnp),
// in space kKvMeta under "auth/": "auth/state", "auth/user/<name>",
// "auth/role/<name>".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/auth/permission.h"
#include "coordinator/base/error.h"

namespace corral::auth {

inline constexpr std::string_view kAuthKeyPrefix = "auth/";
inline constexpr std::string_view kAuthKeyUpper = "auth0";  // '/' + 1: past every auth/ key
inline constexpr std::string_view kStateKey = "auth/state";
inline constexpr std::string_view kUserKeyPrefix = "auth/user/";
inline constexpr std::string_view kRoleKeyPrefix = "auth/role/";

struct AuthState {
  bool enabled = false;
  std::string signing_key;
  uint64_t revision = 0;
};

struct User {
  std::string name;
  std::string password_hash;        // empty: no password login
  std::vector<std::string> roles;   // sorted, unique
  uint64_t token_revision = 0;
};

struct Role {
  std::string name;
  std::vector<Permission> perms;    // sorted by (key, range_end)
};

std::string encode_state(const AuthState& s);
std::string encode_user(const User& u);
std::string encode_role(const Role& r);
// kStorage for a value that is not such a record.
Result<AuthState> decode_state(std::string_view value);
Result<User> decode_user(std::string_view value);
Result<Role> decode_role(std::string_view value);

}  // namespace corral::auth
