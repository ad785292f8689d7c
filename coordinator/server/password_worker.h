// The member's thread for password checks (PBKDF2, several ms each), so
// that authentications never hold up the node loop. The loop hands over a
// check and goes on; the worker verifies and wakes the loop, which takes
// the results on its next turn (take_done) and answers them.
//
// Bounded: at most kMaxQueuedChecks checks and kMaxQueuedBytes of
// passwords and hashes wait; past either, submit() refuses and the caller
// answers unavailable (authenticator.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "coordinator/net/client_listener.h"
#include "coordinator/server/job_worker.h"

namespace corral::server {

inline constexpr size_t kMaxQueuedChecks = 64;
inline constexpr size_t kMaxQueuedBytes = 256 << 10;

struct PasswordCheck {
  net::ConnectionId connection;
  uint64_t request_id = 0;
  std::string user;
  std::string password;
  std::string stored_hash;
  uint64_t token_revision = 0;  // of the user when asked: a change since voids the check
  bool matched = false;         // the worker's answer
};

class PasswordWorker {
 public:
  // `wake` is called from the worker thread when a result is ready.
  explicit PasswordWorker(std::function<void()> wake);

  // False: the queue is at its bound; nothing was taken.
  bool submit(PasswordCheck check) { return jobs_.submit(std::move(check)); }
  std::vector<PasswordCheck> take_done() { return jobs_.take_done(); }
  size_t waiting() const { return jobs_.waiting(); }

 private:
  JobWorker<PasswordCheck> jobs_;  // finishes the check in hand, drops the rest
};

}  // namespace corral::server
