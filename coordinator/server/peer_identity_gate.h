// Binding a peer's claimed member id to the key it authenticated with.
//
// A peer message says who sent it by its routing id (a claim, see
// net/peer_transport.h); with CURVE the connection also carries the ZAP
// User-Id, the member name its key is listed under in the peer allow-list
// (a proof). Without this gate a holder of one listed member's key could
// dial with another member's id and speak for it (vote, append, ack).
//
// Rule, from the replicated member table only:
//  - the name proven is a current member's: the claimed id must be that
//    member's id;
//  - otherwise the claimed id must not be a current member's (a listed
//    name that is no member yet, a joiner, may speak only for ids nobody
//    holds);
//  - no User-Id (CURVE off): everything passes, there is nothing to bind.
// A refused message is dropped, counted and logged, at most once per
// kIdentityLogInterval per (claimed id, proven name).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "coordinator/net/peer_transport.h"
#include "coordinator/server/members.h"

namespace corral::server {

inline constexpr std::chrono::milliseconds kIdentityLogInterval{5000};
// (id, name) pairs remembered for rate limiting; past it the table starts over.
inline constexpr size_t kMaxIdentityLogSenders = 64;

class PeerIdentityGate {
 public:
  using Clock = std::chrono::steady_clock;

  // True: the message may be handled. False: dropped (logged as above).
  bool admit(const net::PeerMessage& pm, const std::map<uint64_t, MemberInfo>& members, Clock::time_point now);
  uint64_t refused() const { return refused_; }

 private:
  std::map<std::pair<uint64_t, std::string>, Clock::time_point> last_logged_;
  uint64_t refused_ = 0;
};

// The reason a message with this claimed id and proven name is refused
// (for the log), or empty when it is not. Pure; the rule above.
std::string peer_identity_refusal(uint64_t claimed_id, const std::string& proven_name,
                                  const std::map<uint64_t, MemberInfo>& members);

}  // namespace corral::server
