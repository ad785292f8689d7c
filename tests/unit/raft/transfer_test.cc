#include <catch2/catch.hpp>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

TEST_CASE("transfer: leadership moves to an up-to-date follower at once", "[transfer]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  const Term term = net.node(1).status().hard_state.term;
  net.node(1).transfer_leader(2);
  net.stabilize();
  CHECK(net.leader() == 2);
  CHECK(net.node(2).status().hard_state.term == term + 1);
  CHECK(net.node(1).status().soft_state.role == Role::kFollower);
  CHECK(net.node(1).status().soft_state.leader == 2);
}

TEST_CASE("transfer: a lagging transferee is caught up first", "[transfer]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(3);
  for (int i = 0; i < 5; ++i) REQUIRE(net.propose(1, "x") == Status::kOk);
  net.heal();
  net.node(1).transfer_leader(3);
  net.stabilize();
  CHECK(net.leader() == 3);
  CHECK(net.applied_data(3).size() == 5);
}

TEST_CASE("transfer: forwarded from a follower", "[transfer]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.node(3).transfer_leader(3);
  net.stabilize();
  CHECK(net.leader() == 3);
}

TEST_CASE("transfer: proposals are dropped while transferring, an unreachable transferee aborts",
          "[transfer]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(3);
  net.node(1).transfer_leader(3);
  net.stabilize();
  CHECK(net.node(1).status().lead_transferee == 3);
  CHECK(net.propose(1, "during") == Status::kProposalDropped);
  ConfChange c{ConfChangeType::kRemoveNode, 2, {}};
  CHECK(net.node(1).propose_conf_change(c) == Status::kProposalDropped);
  // Aborted after an election timeout: 1 still leads and takes proposals.
  for (int i = 0; i < 25 && net.node(1).status().lead_transferee != kNoNode; ++i) net.tick(1);
  CHECK(net.node(1).status().lead_transferee == kNoNode);
  CHECK(net.node(1).status().soft_state.role == Role::kLeader);
  CHECK(net.propose(1, "after") == Status::kOk);
  CHECK(net.applied_data(2) == std::vector<std::string>{"after"});
}

TEST_CASE("transfer: to a learner or a non-member is ignored", "[transfer]") {
  TestNetwork net(3, {}, {4});
  REQUIRE(net.elect(1));
  net.node(1).transfer_leader(4);
  net.stabilize();
  CHECK(net.node(1).status().lead_transferee == kNoNode);
  net.node(1).transfer_leader(9);
  net.stabilize();
  CHECK(net.node(1).status().lead_transferee == kNoNode);
  CHECK(net.leader() == 1);
}
