// A peer's claimed member id must be the member its CURVE key is listed as
// (peer_identity_gate.h).
#include <catch2/catch.hpp>

#include "coordinator/server/peer_identity_gate.h"

using namespace corral;
using namespace corral::server;

namespace {

std::map<uint64_t, MemberInfo> members() {
  std::map<uint64_t, MemberInfo> m;
  m[0xa] = MemberInfo{0xa, "n1", {}, {}, false};
  m[0xb] = MemberInfo{0xb, "n2", {}, {}, false};
  return m;
}

net::PeerMessage message(uint64_t from, std::string user) {
  net::PeerMessage pm;
  pm.from = from;
  pm.bytes = "raft";
  pm.user = std::move(user);
  return pm;
}

}  // namespace

TEST_CASE("a peer may speak only for the member its key is listed as", "[server][peer][security]") {
  const auto m = members();
  CHECK(peer_identity_refusal(0xa, "n1", m).empty());
  CHECK(peer_identity_refusal(0xb, "n2", m).empty());
  // n1's key claiming n2's id, or an id nobody holds.
  CHECK_FALSE(peer_identity_refusal(0xb, "n1", m).empty());
  CHECK_FALSE(peer_identity_refusal(0x99, "n1", m).empty());
  // A listed name that is no member yet (a joiner) may use ids nobody holds,
  // never a member's.
  CHECK(peer_identity_refusal(0x99, "n4", m).empty());
  CHECK_FALSE(peer_identity_refusal(0xa, "n4", m).empty());
  // Without CURVE there is no proven name to bind.
  CHECK(peer_identity_refusal(0xb, "", m).empty());
}

TEST_CASE("the gate drops and counts refused messages", "[server][peer][security]") {
  PeerIdentityGate gate;
  const auto m = members();
  const auto t0 = PeerIdentityGate::Clock::now();
  CHECK(gate.admit(message(0xa, "n1"), m, t0));
  CHECK(gate.admit(message(0xb, ""), m, t0));
  for (int i = 0; i < 1000; ++i) CHECK_FALSE(gate.admit(message(0xb, "n1"), m, t0 + std::chrono::milliseconds(i)));
  CHECK(gate.refused() == 1000);
}
