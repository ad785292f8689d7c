#include <catch2/catch.hpp>

#include <map>

#include "coordinator/raft/raft.h"
#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

size_t leader_count(TestNetwork& net) {
  size_t n = 0;
  for (NodeId id : net.ids()) n += net.node(id).status().soft_state.role == Role::kLeader ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("election: ticking elects exactly one leader and everyone follows it", "[election]") {
  TestNetwork net(3);
  REQUIRE(net.leader() == kNoNode);
  for (int i = 0; i < 50 && net.leader() == kNoNode; ++i) net.tick_all();
  const NodeId lead = net.leader();
  REQUIRE(lead != kNoNode);
  REQUIRE(leader_count(net) == 1);
  for (NodeId id : net.ids()) {
    CHECK(net.node(id).status().soft_state.leader == lead);
    CHECK(net.node(id).status().hard_state.term == net.node(lead).status().hard_state.term);
  }
}

TEST_CASE("election: at most one leader per term across many seeds and partitions", "[election]") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    TestNetwork net(5, [seed](Config& c) { c.rng_seed = seed; });
    std::map<Term, NodeId> leader_of_term;
    for (int step = 0; step < 300; ++step) {
      if (step % 60 == 0) {
        net.heal();
        net.isolate(static_cast<NodeId>(1 + (seed + step) % 5));
      }
      net.tick_all();
      for (NodeId id : net.ids()) {
        const NodeStatus st = net.node(id).status();
        if (st.soft_state.role != Role::kLeader) continue;
        auto [it, fresh] = leader_of_term.emplace(st.hard_state.term, id);
        INFO("seed " << seed << " term " << st.hard_state.term);
        REQUIRE(it->second == id);
      }
    }
    REQUIRE(!leader_of_term.empty());
  }
}

TEST_CASE("election: a candidate with a stale log cannot win", "[election]") {
  // No check-quorum: the lease must not be what refuses the vote here.
  TestNetwork net(3, [](Config& c) { c.check_quorum = false; });
  REQUIRE(net.elect(1));
  net.isolate(3);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.heal();
  net.isolate(1);
  // 3 lacks "x": 2 refuses to vote for it, so it cannot get a majority.
  REQUIRE_FALSE(net.elect(3));
  REQUIRE(net.elect(2));
}

TEST_CASE("election: pre-vote keeps a partitioned node from inflating its term", "[election][prevote]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  net.isolate(3);
  for (int i = 0; i < 100; ++i) net.tick(3);
  CHECK(net.node(3).status().hard_state.term == term);
  CHECK(net.node(3).status().soft_state.role == Role::kPreCandidate);
  net.heal();
  net.tick_all(3);
  // Rejoining disturbs nothing: same leader, same term.
  CHECK(net.leader() == 1);
  CHECK(net.node(1).status().hard_state.term == term);
}

TEST_CASE("election: without pre-vote the partitioned node's term does inflate", "[election][prevote]") {
  // The counterpart of the test above, so that it is seen to be able to fail.
  TestNetwork net(3, [](Config& c) { c.pre_vote = false; });
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  net.isolate(3);
  for (int i = 0; i < 100; ++i) net.tick(3);
  CHECK(net.node(3).status().hard_state.term > term + 3);
}

TEST_CASE("election: check-quorum makes a leader without a quorum step down", "[election][checkquorum]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(1);
  for (int i = 0; i < 2 * 10 + 1 && net.node(1).status().soft_state.role == Role::kLeader; ++i) net.tick(1);
  CHECK(net.node(1).status().soft_state.role == Role::kFollower);
}

TEST_CASE("election: without check-quorum an isolated leader stays leader", "[election][checkquorum]") {
  TestNetwork net(3, [](Config& c) { c.check_quorum = false; });
  REQUIRE(net.elect(1));
  net.isolate(1);
  net.tick(1, 50);
  CHECK(net.node(1).status().soft_state.role == Role::kLeader);
}

TEST_CASE("election: followers with a live leader ignore vote requests (lease)", "[election][checkquorum]") {
  TestNetwork net(3, [](Config& c) { c.pre_vote = false; });
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  // 3 campaigns while 1 and 2 still hear from each other: 2 ignores it.
  net.cut(1, 3);
  net.node(3).campaign();
  net.stabilize();
  CHECK(net.node(2).status().hard_state.term == term);
  CHECK(net.node(1).status().soft_state.role == Role::kLeader);
  CHECK(net.node(3).status().soft_state.role == Role::kCandidate);
}

TEST_CASE("election: a single node elects itself at once", "[election]") {
  TestNetwork net(1);
  net.tick_all(25);
  REQUIRE(net.leader() == 1);
  REQUIRE(net.propose(1, "solo") == Status::kOk);
  CHECK(net.applied_data(1) == std::vector<std::string>{"solo"});
}

TEST_CASE("election: timeouts are randomised between election and 2x election ticks, deterministic per seed",
          "[election][determinism]") {
  auto timeouts = [](uint64_t seed, NodeId id) {
    MemoryStorage storage;
    storage.set_conf_state(ConfState{{1, 2, 3}, {}});
    Config c;
    c.id = id;
    c.storage = &storage;
    c.rng_seed = seed;
    Raft r(c);
    std::vector<int> out;
    for (int i = 0; i < 20; ++i) {
      out.push_back(r.randomized_election_timeout());
      r.step(Message{MessageType::kHeartbeat, 2, id, r.term() + 1});  // reset the timer
    }
    return out;
  };
  const auto a = timeouts(7, 1);
  CHECK(a == timeouts(7, 1));
  CHECK(a != timeouts(8, 1));
  CHECK(a != timeouts(7, 2));  // members given one seed still differ
  for (int t : a) {
    CHECK(t >= 10);
    CHECK(t < 20);
  }
  // Whole clusters replay identically from the same seed.
  auto run = [](uint64_t seed) {
    TestNetwork net(5, [seed](Config& c) { c.rng_seed = seed; });
    for (int i = 0; i < 60 && net.leader() == kNoNode; ++i) net.tick_all();
    return std::make_pair(net.leader(), net.delivered.size());
  };
  CHECK(run(3) == run(3));
}

TEST_CASE("election: stale-term messages are ignored and a higher term makes a follower", "[election]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  Message stale{MessageType::kAppend, 2, 1, term - 1};
  REQUIRE(net.node(1).step(stale) == Status::kOk);
  CHECK(net.node(1).status().soft_state.role == Role::kLeader);
  Message newer{MessageType::kHeartbeat, 2, 1, term + 5};
  REQUIRE(net.node(1).step(newer) == Status::kOk);
  CHECK(net.node(1).status().soft_state.role == Role::kFollower);
  CHECK(net.node(1).status().hard_state.term == term + 5);
  CHECK(net.node(1).status().soft_state.leader == 2);
}

TEST_CASE("election: responses from non-members are refused with kStepPeerNotFound", "[election]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  Message m{MessageType::kAppendResponse, 9, 1, net.node(1).status().hard_state.term};
  CHECK(net.node(1).step(m) == Status::kStepPeerNotFound);
  m.type = MessageType::kHeartbeatResponse;
  CHECK(net.node(1).step(m) == Status::kStepPeerNotFound);
}

// ForgetLeader: the application saw the leader's connection drop.
TEST_CASE("election: followers that forget a dead leader elect a new one within heartbeat+1 ticks", "[election][forget]") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    TestNetwork net(3, [seed](Config& c) {
      c.rng_seed = seed;
      c.heartbeat_ticks = 2;
    });
    REQUIRE(net.elect(1));
    const Term term = net.node(1).status().hard_state.term;
    net.isolate(1);  // it crashed
    net.node(2).forget_leader();
    net.node(3).forget_leader();
    CHECK(net.node(2).status().soft_state.leader == kNoNode);
    // Both ticking in step, at most heartbeat_ticks + 1 = 3 ticks each.
    for (int i = 0; i < 3 && net.leader() != 2 && net.leader() != 3; ++i) {
      net.tick(2);
      net.tick(3);
    }
    INFO("seed " << seed);
    CHECK((net.leader() == 2 || net.leader() == 3));
    CHECK(net.node(2).status().hard_state.term == term + 1);
  }
}

TEST_CASE("election: a follower that forgets a live leader takes it back at its next heartbeat", "[election][forget]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  net.node(2).forget_leader();
  CHECK(net.node(2).status().soft_state.leader == kNoNode);
  net.tick(1);  // heartbeat_ticks = 1: the leader's heartbeat goes out
  CHECK(net.node(2).status().soft_state.leader == 1);
  net.tick(2, 5);  // and its election timer was reset: no campaign
  CHECK(net.leader() == 1);
  CHECK(net.node(2).status().hard_state.term == term);
  // On a leader it is a no-op.
  net.node(1).forget_leader();
  CHECK(net.node(1).status().soft_state.role == Role::kLeader);
}
