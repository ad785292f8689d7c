#include <catch2/catch.hpp>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

const ConfState kThree{{1, 2, 3}, {}};

ConfChange cc(ConfChangeType type, NodeId id) { return ConfChange{type, id, "peer-url"}; }

}  // namespace

TEST_CASE("membership: add a voter, it catches up and counts for quorum", "[membership]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "before") == Status::kOk);
  // A joining node starts with the cluster's membership, without itself.
  net.add_node(4, kThree);
  REQUIRE(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, 4)) == Status::kOk);
  net.stabilize();
  CHECK(net.test_node(1).conf_state.voters == std::vector<NodeId>{1, 2, 3, 4});
  net.tick(1, 2);
  CHECK(net.applied_data(4) == std::vector<std::string>{"before"});
  CHECK(net.test_node(4).conf_state.voters == std::vector<NodeId>{1, 2, 3, 4});
  // With 4 voters the quorum is 3: two isolated followers block commits.
  net.isolate(3);
  net.isolate(4);
  REQUIRE(net.propose(1, "needs-3") == Status::kOk);
  CHECK(net.applied_data(1).size() == 1);
  net.heal();
  net.tick(1);
  CHECK(net.applied_data(1).size() == 2);
}

TEST_CASE("membership: learners receive the log but never vote and never count for quorum",
          "[membership][learner]") {
  TestNetwork net(3, {}, {4});
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "x") == Status::kOk);
  CHECK(net.applied_data(4) == std::vector<std::string>{"x"});
  // Quorum is 2 of the 3 voters: the learner's ack does not help.
  net.isolate(2);
  net.isolate(3);
  REQUIRE(net.propose(1, "y") == Status::kOk);
  CHECK(net.applied_data(4).empty() == false);
  CHECK(net.applied_data(1).size() == 1);
  net.heal();
  net.tick(1);
  // A learner never campaigns, however long it waits.
  net.isolate(1);
  for (int i = 0; i < 100; ++i) net.tick(4);
  CHECK(net.node(4).status().soft_state.role == Role::kFollower);
  CHECK(net.node(4).status().hard_state.term == net.node(1).status().hard_state.term);
}

TEST_CASE("membership: add a learner, then promote it", "[membership][learner]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.add_node(4, kThree);
  REQUIRE(net.node(1).propose_conf_change(cc(ConfChangeType::kAddLearner, 4)) == Status::kOk);
  net.stabilize();
  net.tick(1);
  CHECK(net.test_node(1).conf_state.learners == std::vector<NodeId>{4});
  CHECK(net.test_node(4).conf_state.learners == std::vector<NodeId>{4});
  // Adding it again as a learner, or a learner that is a voter: invalid.
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kAddLearner, 4)) == Status::kInvalidConfChange);
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kAddLearner, 2)) == Status::kInvalidConfChange);
  REQUIRE(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, 4)) == Status::kOk);
  net.stabilize();
  net.tick(1);
  CHECK(net.test_node(1).conf_state.voters == std::vector<NodeId>{1, 2, 3, 4});
  CHECK(net.test_node(1).conf_state.learners.empty());
  CHECK(net.test_node(4).conf_state.voters == std::vector<NodeId>{1, 2, 3, 4});
  // Now a voter, it counts for quorum: 3 of 4 are needed, 1 and 2 are not enough.
  const size_t applied = net.applied_data(1).size();
  net.isolate(3);
  net.isolate(4);
  REQUIRE(net.propose(1, "needs-3-of-4") == Status::kOk);
  CHECK(net.applied_data(1).size() == applied);
  net.heal();
  net.tick(1);
  CHECK(net.applied_data(1).size() == applied + 1);
}

TEST_CASE("membership: remove a follower, the quorum shrinks", "[membership]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.node(1).propose_conf_change(cc(ConfChangeType::kRemoveNode, 3)) == Status::kOk);
  net.stabilize();
  CHECK(net.test_node(1).conf_state.voters == std::vector<NodeId>{1, 2});
  net.isolate(3);
  REQUIRE(net.propose(1, "two") == Status::kOk);
  CHECK(net.applied_data(2) == std::vector<std::string>{"two"});
  // Responses from the removed node are refused.
  Message m;
  m.type = MessageType::kAppendResponse;
  m.from = 3;
  m.to = 1;
  m.term = net.node(1).status().hard_state.term;
  CHECK(net.node(1).step(m) == Status::kStepPeerNotFound);
}

TEST_CASE("membership: a removed leader steps down and the rest elect a new one", "[membership]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.node(1).propose_conf_change(cc(ConfChangeType::kRemoveNode, 1)) == Status::kOk);
  net.stabilize();
  CHECK(net.node(1).status().soft_state.role == Role::kFollower);
  CHECK(net.test_node(1).conf_state.voters == std::vector<NodeId>{2, 3});
  for (int i = 0; i < 60 && (net.leader() == kNoNode || net.leader() == 1); ++i) net.tick_all();
  const NodeId lead = net.leader();
  CHECK((lead == 2 || lead == 3));
  // The removed node never campaigns again.
  CHECK(net.node(1).status().soft_state.role == Role::kFollower);
  REQUIRE(net.propose(lead, "after") == Status::kOk);
  CHECK(net.applied_data(lead) == std::vector<std::string>{"after"});
}

TEST_CASE("membership: one change at a time", "[membership]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.add_node(4, kThree);
  net.add_node(5, kThree);
  net.isolate(2);
  net.isolate(3);  // the first change cannot commit
  REQUIRE(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, 4)) == Status::kOk);
  net.stabilize();
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, 5)) == Status::kConfChangePending);
  net.heal();
  net.tick(1);
  // Applied: the next change may go.
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, 5)) == Status::kOk);
}

TEST_CASE("membership: no conf change before the leader committed an entry of its term", "[membership]") {
  TestNetwork net(3);
  // 1 wins the election, but its empty entry cannot commit: appends are held.
  net.drop_if = [](const Message& m) { return m.type == MessageType::kAppend; };
  REQUIRE(net.elect(1));
  CHECK(net.node(1).status().hard_state.commit < net.node(1).status().last_index);
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kRemoveNode, 3)) == Status::kConfChangePending);
  net.drop_if = nullptr;
  net.tick(1);
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kRemoveNode, 3)) == Status::kOk);
}

TEST_CASE("membership: invalid changes are refused and change nothing", "[membership]") {
  TestNetwork net(1);
  REQUIRE(net.elect(1));
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kRemoveNode, 1)) == Status::kInvalidConfChange);
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, 1)) == Status::kInvalidConfChange);
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kRemoveNode, 7)) == Status::kInvalidConfChange);
  CHECK(net.node(1).propose_conf_change(cc(ConfChangeType::kAddNode, kNoNode)) == Status::kInvalidConfChange);
  CHECK(net.node(1).status().conf_state.voters == std::vector<NodeId>{1});
  // Applying an invalid change directly is a no-op, never a crash.
  CHECK(net.node(1).apply_conf_change(cc(ConfChangeType::kRemoveNode, 1)).voters == std::vector<NodeId>{1});
  TestNetwork follower_net(3);
  CHECK(follower_net.node(2).propose_conf_change(cc(ConfChangeType::kAddNode, 4)) == Status::kProposalDropped);
}
