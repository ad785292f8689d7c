#include "client/concurrency/session.h"

namespace corral::client::concurrency {

Result<std::unique_ptr<Session>> Session::create(Client& client, int64_t ttl_seconds) {
  auto grant = client.lease_grant(ttl_seconds);
  if (!grant.ok()) return grant.error();
  std::unique_ptr<Session> s(new Session(client, grant->id, grant->ttl_seconds));
  if (Status added = s->keeper_->add(grant->id, grant->ttl_seconds); !added.ok()) return added.error();
  return s;
}

Session::Session(Client& client, int64_t lease, int64_t ttl_seconds)
    : client_(client), lease_(lease), ttl_seconds_(ttl_seconds) {
  keeper_ = std::make_unique<LeaseKeeper>(client_, [this](int64_t, const Error&) { lost_ = true; });
}

Session::~Session() {
  keeper_.reset();
  (void)client_.lease_revoke(lease_);
}

}  // namespace corral::client::concurrency
