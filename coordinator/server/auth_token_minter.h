// Tokens for identities another thread has already verified (the HTTP
// server mints one for a TLS client certificate's CN, then calls the
// cluster with it). Thread-safe: the node loop publishes the auth store's
// signing key and users' token revisions after every apply that changed
// them; mint() reads that copy under a mutex and never touches node state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "coordinator/auth/auth_store.h"
#include "coordinator/auth/token.h"

namespace corral::server {

class AuthTokenMinter {
 public:
  explicit AuthTokenMinter(int64_t token_ttl_ms = auth::kDefaultTokenTtlMs) : token_ttl_ms_(token_ttl_ms) {}

  // A token for `user`, valid for the token TTL from now; nullopt when auth
  // is disabled or there is no such user.
  std::optional<std::string> mint(std::string_view user) const;

  // The node loop, when the store's revision moved (and at start).
  void publish(const auth::AuthStore& store);
  uint64_t published_revision() const;

 private:
  const int64_t token_ttl_ms_;
  mutable std::mutex mu_;
  bool enabled_ = false;
  std::string signing_key_;
  std::map<std::string, uint64_t, std::less<>> token_revisions_;
  uint64_t revision_ = 0;
  bool published_ = false;
};

}  // namespace corral::server
