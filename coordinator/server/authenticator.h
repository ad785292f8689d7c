// Password authentication as the node loop serves it: never hashing on the
// loop (password_worker.h) and bounded per user and connection
// (login_limiter.h). A token is minted only once the worker says the
// password matched and the user is still the same (its token revision).
//
// Answers: a token; unauthenticated (wrong name or password, or "too many
// failed authentications ... retry in N ms" when the (user, connection)
// failed too often lately: final, so clients do not retry it on their own);
// or unavailable "too many authentications in progress" when
// kMaxQueuedChecks checks already wait. (A code of its
// own, api.capnp's reserved tooManyRequests @17, is left for later: see
// the sec branch notes.)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "coordinator/api/response.h"
#include "coordinator/auth/auth_store.h"
#include "coordinator/net/client_listener.h"
#include "coordinator/server/login_limiter.h"
#include "coordinator/server/password_worker.h"
#include "schema/api.capnp.h"

namespace corral::server {

class Authenticator {
 public:
  using Clock = std::chrono::steady_clock;
  using Reply = std::function<void(const net::ConnectionId&, const std::string&)>;

  // `wake` wakes the node loop (from the worker thread).
  explicit Authenticator(std::function<void()> wake, LoginLimits limits = {});

  // Takes an authenticate request while auth is enabled: answers it now
  // (through `reply`) or hands it to the worker. False: not such a request;
  // the caller serves it as before.
  bool take(const net::ConnectionId& conn, const auth::AuthStore& store, schema::api::Request::Reader r,
            const api::Header& header, Clock::time_point now, const Reply& reply);
  // Answers every check the worker finished.
  void answer_done(const auth::AuthStore& store, int64_t now_ms, int64_t token_ttl_ms, const api::Header& header,
                   Clock::time_point now, const Reply& reply);

  uint64_t limited() const { return limited_; }  // answered as above, unhashed

 private:
  LoginLimiter limiter_;
  PasswordWorker worker_;
  uint64_t limited_ = 0;
};

}  // namespace corral::server
