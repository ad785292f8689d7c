// Config::lease_promise_ticks: the followers' promise that a leader's read
// lease rests on, and the LeaseBasis a leader reports.
#include <catch2/catch.hpp>

#include "coordinator/raft/raft.h"
#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

constexpr int kPromiseTicks = 3;

TestNetwork::Tweak with_promise(uint64_t seed = 1) {
  return [seed](Config& c) {
    c.rng_seed = seed;
    c.lease_promise_ticks = kPromiseTicks;
  };
}

// A 3-member cluster with lease reads on and node 1 its leader. Every node
// starts inside its promise (as after a restart), so time passes first.
void start_with_leader(TestNetwork& net) {
  net.tick_all(kPromiseTicks);
  REQUIRE(net.elect(1));
}

// A RequestVote (or pre-vote) from `from` for the next term, with a log as
// long as the leader's.
Message vote_request(TestNetwork& net, NodeId from, NodeId to, MessageType type) {
  const NodeStatus st = net.node(1).status();
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = st.hard_state.term + 1;
  m.index = st.last_index;
  m.log_term = st.hard_state.term;
  return m;
}

// The vote responses `id` sends now (its Ready's messages).
size_t vote_answers(TestNetwork& net, NodeId id) {
  size_t n = 0;
  if (!net.node(id).has_ready()) return 0;
  Ready rd = net.node(id).ready();
  for (const Message& m : rd.messages) {
    n += (m.type == MessageType::kRequestVoteResponse || m.type == MessageType::kRequestPreVoteResponse) ? 1 : 0;
  }
  net.node(id).advance();
  return n;
}

}  // namespace

TEST_CASE("lease promise: a follower that forgot its leader votes for nobody until the promise ends",
          "[raft][lease]") {
  for (MessageType type : {MessageType::kRequestVote, MessageType::kRequestPreVote}) {
    TestNetwork net(3, with_promise());
    start_with_leader(net);
    net.isolate(1);
    net.node(2).forget_leader();
    const Term term = net.node(2).status().hard_state.term;
    // Ticks 0..W-1 after the last heartbeat: ignored (not even rejected).
    for (int t = 0; t < kPromiseTicks; ++t) {
      INFO("tick " << t);
      net.node(2).step(vote_request(net, 3, 2, type));
      CHECK(vote_answers(net, 2) == 0);
      CHECK(net.node(2).status().hard_state.term == term);
      net.node(2).tick();
      vote_answers(net, 2);  // nothing else to hand out either
    }
    // W ticks: the promise has ended; the vote is granted.
    net.node(2).step(vote_request(net, 3, 2, type));
    CHECK(vote_answers(net, 2) == 1);
  }
}

TEST_CASE("lease promise: without it, a follower that forgot its leader votes at once", "[raft][lease]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(1);
  net.node(2).forget_leader();
  net.node(2).step(vote_request(net, 3, 2, MessageType::kRequestPreVote));
  CHECK(vote_answers(net, 2) == 1);
}

TEST_CASE("lease promise: followers that forget a dead leader elect a new one only after the promise, and soon",
          "[raft][lease]") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    INFO("seed " << seed);
    TestNetwork net(3, with_promise(seed));
    start_with_leader(net);
    const Term term = net.node(1).status().hard_state.term;
    net.isolate(1);  // it crashed right after its last heartbeat
    net.node(2).forget_leader();
    net.node(3).forget_leader();
    for (int t = 0; t < kPromiseTicks; ++t) {
      net.tick(2);
      net.tick(3);
      if (t < kPromiseTicks - 1) CHECK(net.node(2).status().hard_state.term == term);
    }
    // Then within heartbeat_ticks + 1 more ticks, as without the promise.
    for (int i = 0; i < 2 && net.leader() != 2 && net.leader() != 3; ++i) {
      net.tick(2);
      net.tick(3);
    }
    CHECK((net.leader() == 2 || net.leader() == 3));
  }
}

TEST_CASE("lease promise: a restarted node keeps it (it cannot know when it last heard a leader)", "[raft][lease]") {
  TestNetwork net(3, with_promise());
  start_with_leader(net);
  net.restart(2);
  net.isolate(1);
  net.node(2).step(vote_request(net, 3, 2, MessageType::kRequestVote));
  CHECK(vote_answers(net, 2) == 0);
  // Nor does it campaign on its own before the promise ends.
  net.node(2).campaign();
  CHECK(net.node(2).status().soft_state.role == Role::kFollower);
}

TEST_CASE("lease promise: a single voter campaigns at once", "[raft][lease]") {
  TestNetwork net(1, with_promise());
  CHECK(net.elect(1));
}

TEST_CASE("lease basis: confirmed by a heartbeat round a quorum answered, after a commit in the term",
          "[raft][lease]") {
  TestNetwork net(3, with_promise());
  start_with_leader(net);
  LeaseBasis b = net.node(1).lease_basis();
  REQUIRE(b.eligible);  // the empty entry of its term is committed
  CHECK(b.confirmed_round == 0);  // no round since it became leader
  net.tick(1);  // heartbeat: a new round, answered
  b = net.node(1).lease_basis();
  CHECK(b.last_round > b.round_floor);
  CHECK(b.confirmed_round == b.last_round);
  // One follower answering is a quorum of 3.
  net.isolate(3);
  net.tick(1);
  const LeaseBasis b2 = net.node(1).lease_basis();
  CHECK(b2.confirmed_round == b2.last_round);
  CHECK(b2.last_round == b.last_round + 1);
  // With both cut off, the round stays unconfirmed.
  net.isolate(2);
  net.tick(1);
  const LeaseBasis b3 = net.node(1).lease_basis();
  CHECK(b3.confirmed_round == b2.last_round);
  CHECK(b3.last_round == b2.last_round + 1);
  // Followers do not hold leases.
  CHECK_FALSE(net.node(2).lease_basis().eligible);
}

TEST_CASE("lease basis: without lease reads, never eligible and heartbeats carry no round", "[raft][lease]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.delivered.clear();
  net.tick(1);
  CHECK_FALSE(net.node(1).lease_basis().eligible);
  for (const Message& m : net.delivered) {
    if (m.type == MessageType::kHeartbeat) CHECK(m.context.empty());
  }
}

TEST_CASE("lease basis: a leadership transfer ends it for the rest of the term", "[raft][lease]") {
  TestNetwork net(3, with_promise());
  start_with_leader(net);
  net.tick(1);
  REQUIRE(net.node(1).lease_basis().confirmed_round > 0);
  // The transferee's TimeoutNow is dropped: the transfer stays pending.
  net.drop_if = [](const Message& m) { return m.type == MessageType::kTimeoutNow; };
  net.node(1).transfer_leader(2);
  net.stabilize();
  CHECK(net.node(1).status().lead_transferee == 2);
  CHECK_FALSE(net.node(1).lease_basis().eligible);
  // Aborted after an election timeout: the TimeoutNow may still arrive, so
  // no lease in this term.
  net.tick(1, 12);
  REQUIRE(net.node(1).status().soft_state.role == Role::kLeader);
  CHECK(net.node(1).status().lead_transferee == kNoNode);
  CHECK_FALSE(net.node(1).lease_basis().eligible);
}

TEST_CASE("lease basis: a membership change sets the floor: earlier rounds prove nothing", "[raft][lease]") {
  TestNetwork net(3, with_promise());
  start_with_leader(net);
  net.tick(1);
  const LeaseBasis before = net.node(1).lease_basis();
  REQUIRE(before.confirmed_round > 0);
  net.add_node(4, net.node(1).status().conf_state);
  REQUIRE(net.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddLearner, 4}) == Status::kOk);
  net.stabilize();
  const LeaseBasis after = net.node(1).lease_basis();
  CHECK(after.round_floor >= before.last_round);
  CHECK(after.confirmed_round == 0);
  net.tick(1);
  CHECK(net.node(1).lease_basis().confirmed_round > after.round_floor);
}
