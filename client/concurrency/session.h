// etcd's concurrency.Session: a lease kept alive in the background for as
// long as the session lives, under which Mutex and Election put their keys.
// If the process dies, the lease expires after its TTL and the keys go with
// it: that is what hands a lock or a leadership over after a crash.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "client/client.h"
#include "client/lease_keeper.h"

namespace corral::client::concurrency {

inline constexpr int64_t kDefaultSessionTtlSeconds = 60;

class Session {
 public:
  // Grants a lease of `ttl_seconds` and keeps it alive.
  static Result<std::unique_ptr<Session>> create(Client& client, int64_t ttl_seconds = kDefaultSessionTtlSeconds);
  // Stops the keepalives and revokes the lease (its keys go at once).
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Client& client() { return client_; }
  int64_t lease() const { return lease_; }
  int64_t ttl_seconds() const { return ttl_seconds_; }
  // The keeper found the lease gone (expired or revoked): keys under it are gone too.
  bool lost() const { return lost_.load(); }

 private:
  Session(Client& client, int64_t lease, int64_t ttl_seconds);
  Client& client_;
  int64_t lease_;
  int64_t ttl_seconds_;
  std::atomic<bool> lost_{false};
  std::unique_ptr<LeaseKeeper> keeper_;
};

}  // namespace corral::client::concurrency
