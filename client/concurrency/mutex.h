// etcd's concurrency.Mutex: a distributed lock on a key prefix. Each
// contender puts PREFIX/<its lease in hex> under its session's lease (in a
// txn that keeps an existing key, so a session locks at most once); the
// contender whose key has the lowest create revision holds the lock, the
// others wait for the key just before theirs to go (predecessors.h). A
// holder that dies loses its key when its lease expires, and the next
// contender gets the lock.
#pragma once

#include <cstdint>
#include <string>

#include "client/concurrency/predecessors.h"
#include "client/concurrency/session.h"

namespace corral::client::concurrency {

class Mutex {
 public:
  // `name`: the lock's prefix; a '/' is added if missing.
  Mutex(Session& session, std::string name);

  // Blocks until the lock is held (or should_stop: kClosed; the key is
  // then removed again).
  Status lock(const StopCheck& should_stop = {});
  // Deletes the key: the next contender gets the lock.
  Status unlock();

  // While held: the key, and the revision it was created at (a fencing
  // token: later holders have larger ones).
  const std::string& key() const { return key_; }
  int64_t revision() const { return revision_; }

 private:
  Session& session_;
  std::string prefix_;
  std::string key_;
  int64_t revision_ = 0;
};

// The key a session puts under `prefix` (with its trailing '/').
std::string session_key(const std::string& prefix, int64_t lease);
// `name` with a trailing '/'.
std::string queue_prefix(std::string name);

}  // namespace corral::client::concurrency
