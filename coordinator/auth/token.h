// Tokens that every member verifies alone, with no shared table:
//   <user>:<expiry ms since the epoch>:<user's token revision>:<HMAC, hex>
// The HMAC-SHA256 is keyed by the auth store's signing key (random, made at
// auth enable, replicated, never sent to clients) over the other three
// fields. A token is refused when its HMAC is wrong (forged, or signed
// before auth was enabled again), when it has expired, or when its user is
// gone or was re-created or changed password (the token revision moved).
// Tokens carry no permissions: those are read at every request.
// The user name is parsed from the right, so it may hold ':'.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "coordinator/base/error.h"

namespace corral::auth {

inline constexpr int64_t kDefaultTokenTtlMs = 300'000;  // etcd's --auth-token-ttl
inline constexpr size_t kMaxTokenBytes = 1024;

struct TokenClaims {
  std::string user;
  int64_t expiry_ms = 0;
  uint64_t token_revision = 0;
};

std::string mint_token(const TokenClaims& claims, std::string_view signing_key);

// The claims of a well-formed token whose HMAC matches and that has not
// expired at now_ms; kUnauthenticated otherwise. The caller still checks
// that the user exists with that token revision.
Result<TokenClaims> verify_token(std::string_view token, std::string_view signing_key, int64_t now_ms);

}  // namespace corral::auth
