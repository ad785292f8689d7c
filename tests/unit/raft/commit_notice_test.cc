// The append that only carries a new commit index to a caught-up follower
// is not answered (Message::ack_not_needed): one reply per follower and one
// leader turn less per commit, and nothing the leader tracks is lost.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

// Every message the network carries, in order (nothing dropped).
std::shared_ptr<std::vector<Message>> record(TestNetwork& net) {
  auto seen = std::make_shared<std::vector<Message>>();
  net.drop_if = [seen](const Message& m) {
    seen->push_back(m);
    return false;
  };
  return seen;
}

}  // namespace

TEST_CASE("commit notice: caught-up followers learn the commit index without answering", "[replication][commit_notice]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  auto seen = record(net);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.stabilize();
  const Index x = net.node(1).status().last_index;
  size_t notices = 0;
  size_t answers = 0;
  for (const Message& m : *seen) {
    if (m.type == MessageType::kAppend && m.entries.empty()) {
      CHECK(m.ack_not_needed);
      CHECK(m.commit == x);
      ++notices;
    }
    if (m.type == MessageType::kAppend && !m.entries.empty()) CHECK_FALSE(m.ack_not_needed);
    if (m.type == MessageType::kAppendResponse) ++answers;
  }
  CHECK(notices == 2);
  CHECK(answers == 2);  // one per follower, for the entry; none for the notices
  for (NodeId id : {NodeId{2}, NodeId{3}}) {
    CHECK(net.node(id).status().hard_state.commit == x);
    CHECK(net.applied_data(id) == std::vector<std::string>{"x"});
  }
  // The leader still knows both followers hold everything.
  for (const PeerProgress& p : net.node(1).status().progress) CHECK(p.match == x);
}

TEST_CASE("commit notice: a follower whose match the leader does not know is always answered", "[replication][commit_notice]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  // Follower 3 misses a run of entries, then comes back: the leader probes it
  // and must hear every answer until its match is known again.
  net.isolate(3);
  for (int i = 0; i < 5; ++i) REQUIRE(net.propose(1, "e" + std::to_string(i)) == Status::kOk);
  net.stabilize();
  net.heal();
  auto seen = record(net);
  net.tick(1);
  net.stabilize();
  const Index last = net.node(1).status().last_index;
  for (const Message& m : *seen) {
    if (m.type == MessageType::kAppend && m.to == 3 && m.ack_not_needed) CHECK(m.index == last);
  }
  CHECK(net.applied_data(3).size() == 5);
  for (const PeerProgress& p : net.node(1).status().progress) CHECK(p.match == last);
}

TEST_CASE("commit notice: a notice the follower cannot accept is answered with a rejection", "[replication][commit_notice]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  net.stabilize();
  // A notice naming a position the follower does not hold (a forged one here)
  // still gets its answer: the leader learns to back off.
  Message m;
  m.type = MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = net.node(1).status().hard_state.term;
  m.index = net.node(1).status().last_index + 5;
  m.log_term = m.term;
  m.commit = net.node(1).status().hard_state.commit;
  m.ack_not_needed = true;
  REQUIRE(net.node(2).step(m) == Status::kOk);
  Ready rd = net.node(2).ready();
  bool rejected = false;
  for (const Message& r : rd.messages) rejected = rejected || (r.type == MessageType::kAppendResponse && r.reject);
  CHECK(rejected);
}
