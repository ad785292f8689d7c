#include <catch2/catch.hpp>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

TEST_CASE("raw node: a vote is in the same Ready as its response, with must_sync", "[raw_node]") {
  TestNetwork net(3);
  net.node(1).campaign();
  Ready rd1 = net.node(1).ready();
  net.node(1).advance();
  // Pre-vote first: no term change, nothing to sync.
  for (const Message& m : rd1.messages) {
    REQUIRE(m.type == MessageType::kRequestPreVote);
    if (m.to == 2) net.node(2).step(m);
  }
  Ready rd2 = net.node(2).ready();
  CHECK_FALSE(rd2.must_sync);
  net.node(2).advance();
  for (const Message& m : rd2.messages) net.node(1).step(m);
  Ready rd3 = net.node(1).ready();  // now a candidate: voted for itself
  REQUIRE(rd3.hard_state.has_value());
  CHECK(rd3.hard_state->vote == 1);
  CHECK(rd3.must_sync);
  net.node(1).advance();
  for (const Message& m : rd3.messages) {
    if (m.to == 2) net.node(2).step(m);
  }
  Ready rd4 = net.node(2).ready();
  REQUIRE(rd4.hard_state.has_value());
  CHECK(rd4.hard_state->vote == 1);
  CHECK(rd4.must_sync);
  bool granted = false;
  for (const Message& m : rd4.messages) {
    granted = granted || (m.type == MessageType::kRequestVoteResponse && !m.reject);
  }
  CHECK(granted);
  net.node(2).advance();
}

TEST_CASE("raw node: quiet after advance, hard state only when changed", "[raw_node]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  for (NodeId id : net.ids()) CHECK_FALSE(net.node(id).has_ready());
  REQUIRE(net.node(1).propose("x") == Status::kOk);
  REQUIRE(net.node(1).has_ready());
  Ready rd = net.node(1).ready();
  REQUIRE(rd.entries.size() == 1);
  CHECK(rd.entries[0].data == "x");
  CHECK(rd.must_sync);
  CHECK_FALSE(rd.hard_state.has_value());  // term, vote, commit unchanged
  CHECK(rd.committed_entries.empty());     // not committed without a quorum
  net.storage(1).append(rd.entries);
  net.node(1).advance();
  CHECK_FALSE(net.node(1).has_ready());
  CHECK(net.node(1).status().last_index == 2);
}

TEST_CASE("raw node: a single member commits its entry once it is persisted", "[raw_node]") {
  // The leader's own acknowledgement is its persisted write: advance()
  // reports it, and the next Ready hands the entry out to apply.
  TestNetwork net(1);
  REQUIRE(net.elect(1));
  REQUIRE(net.node(1).propose("now") == Status::kOk);
  Ready rd = net.node(1).ready();
  REQUIRE(rd.entries.size() == 1);
  CHECK(rd.committed_entries.empty());
  CHECK_FALSE(rd.hard_state.has_value());
  net.storage(1).append(rd.entries);
  net.node(1).advance();
  REQUIRE(net.node(1).has_ready());
  Ready rd2 = net.node(1).ready();
  CHECK(rd2.entries.empty());
  REQUIRE(rd2.committed_entries.size() == 1);
  CHECK(rd2.committed_entries[0] == rd.entries[0]);
  REQUIRE(rd2.hard_state.has_value());
  CHECK(rd2.hard_state->commit == 2);
  net.node(1).advance();
  CHECK(net.node(1).status().applied == 2);
  CHECK_FALSE(net.node(1).has_ready());
}

TEST_CASE("raw node: soft state reports role and leader changes once", "[raw_node]") {
  TestNetwork net(3);
  net.node(2).campaign();
  Ready rd = net.node(2).ready();
  REQUIRE(rd.soft_state.has_value());
  CHECK(rd.soft_state->role == Role::kPreCandidate);
  net.node(2).advance();
  for (const Message& m : rd.messages) net.node(m.to).step(m);
  net.stabilize();
  REQUIRE(net.leader() == 2);
  CHECK(net.node(3).status().soft_state.leader == 2);
  CHECK_FALSE(net.node(2).has_ready());
}

TEST_CASE("raw node: committed entries per Ready stop at max_committed_bytes_per_ready, at least one", "[raw_node]") {
  // The bound lets the application apply a burst over several turns; every
  // entry is still handed out whole and in order.
  TestNetwork net(1, [](Config& c) { c.max_committed_bytes_per_ready = 250; });
  REQUIRE(net.elect(1));
  const std::string hundred(100, 'e');
  for (int i = 0; i < 5; ++i) REQUIRE(net.node(1).propose(hundred) == Status::kOk);
  REQUIRE(net.node(1).propose(std::string(1000, 'b')) == Status::kOk);  // alone past the bound
  Ready rd = net.node(1).ready();
  REQUIRE(rd.entries.size() == 6);
  net.storage(1).append(rd.entries);
  net.node(1).advance();
  std::vector<size_t> per_ready;
  Index next = rd.entries.front().index;
  for (int turn = 0; turn < 10 && net.node(1).has_ready(); ++turn) {
    Ready r = net.node(1).ready();
    for (const Entry& e : r.committed_entries) CHECK(e.index == next++);
    per_ready.push_back(r.committed_entries.size());
    net.node(1).advance();
  }
  CHECK(per_ready == std::vector<size_t>{2, 2, 1, 1});
  CHECK(next == rd.entries.back().index + 1);
}
