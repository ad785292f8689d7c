#include "coordinator/server/auth_token_minter.h"

#include "coordinator/server/auth_gate.h"

namespace corral::server {

std::optional<std::string> AuthTokenMinter::mint(std::string_view user) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled_) return std::nullopt;
  auto it = token_revisions_.find(user);
  if (it == token_revisions_.end()) return std::nullopt;
  return auth::mint_token({std::string(user), wall_clock_ms() + token_ttl_ms_, it->second}, signing_key_);
}

void AuthTokenMinter::publish(const auth::AuthStore& store) {
  std::map<std::string, uint64_t, std::less<>> revisions;
  for (const auto& name : store.user_names()) revisions[name] = store.user(name)->token_revision;
  std::lock_guard<std::mutex> lock(mu_);
  enabled_ = store.enabled();
  signing_key_ = store.signing_key();
  token_revisions_ = std::move(revisions);
  revision_ = store.revision();
  published_ = true;
}

uint64_t AuthTokenMinter::published_revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_ ? revision_ : UINT64_MAX;
}

}  // namespace corral::server
