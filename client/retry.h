// When the client retries a request, as pure decisions (tested without a
// server). The rule:
//
// - notLeader is a definite "not applied": retried for every request
//   (following leaderHint when there is one, else the next endpoint).
// - unavailable is a definite "not done" (corrald answers `timeout` for a
//   write it had proposed, e.g. when it stops): retried for every request.
// - Any other typed error is a definite answer and goes to the caller.
// - A request that surely never reached a member (never handed to ZeroMQ:
//   a write held until its endpoint answers, or refused by a full queue) is
//   retried for every request. A write handed to ZeroMQ may have left, even
//   on a connection the client has not yet seen come up.
// - A request whose fate is unknown (sent on a connection that then broke, or
//   answered `timeout`) is retried only if it is safe to repeat: reads, and
//   keepalives (refreshing a lease twice is harmless). A write whose outcome
//   is unknown is never sent twice: the caller gets kTimeout and decides.
// - Retries stop at the call's deadline or after Options::max_attempts.
#pragma once

#include <cstdint>

#include "client/error.h"
#include "client/types.h"

namespace corral::client {

enum class RequestClass : uint8_t {
  kRead,        // no effect on state: always safe to repeat
  kIdempotent,  // an effect, but repeating it is harmless (lease keepalive)
  kWrite,       // must not be applied twice without the caller knowing
};

// Txns made only of ranges are reads.
RequestClass classify(const RequestBody& body);

enum class Failure : uint8_t {
  kServerError,     // a typed error answer (see the code)
  kNeverDelivered,  // surely did not reach a member (see above)
  kConnectionLost,  // sent; the connection broke before the answer
  kNoAnswer,        // sent on a live connection; no answer within the attempt timeout
};

enum class Action : uint8_t {
  kFail,          // give the error to the caller
  kFollowHint,    // resend to Error::leader_hint
  kNextEndpoint,  // resend to the next endpoint
};

struct Decision {
  Action action = Action::kFail;
  // With kFail: the outcome may have been applied (the caller gets kTimeout).
  bool outcome_unknown = false;
};

// `error` is the answer for kServerError (ignored otherwise).
Decision decide(RequestClass cls, Failure failure, const Error& error);

// The pause before attempt number `attempt` (1 = the first retry) when
// `endpoint_count` endpoints exist: none while there are endpoints not yet
// tried in this round, then doubling from base up to the maximum.
inline constexpr int64_t kRetryBackoffBaseMs = 25;
// Small, as etcd's client (25 ms between retries): during an election the
// wait for the new leader is the election itself, not our backoff.
inline constexpr int64_t kRetryBackoffMaxMs = 100;
int64_t backoff_ms(int attempt, int endpoint_count);

}  // namespace corral::client
