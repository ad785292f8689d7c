// Config::lease_promise_ticks: the followers' promise that a leader's read
// lease rests on, and the LeaseBasis a leader reports.
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

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
    c.lease_promise_ms = 200;
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

// The votes `id` grants now (its Ready's messages).
size_t vote_grants(TestNetwork& net, NodeId id) {
  size_t n = 0;
  if (!net.node(id).has_ready()) return 0;
  Ready rd = net.node(id).ready();
  for (const Message& m : rd.messages) {
    const bool vote = m.type == MessageType::kRequestVoteResponse || m.type == MessageType::kRequestPreVoteResponse;
    n += vote && !m.reject ? 1 : 0;
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

TEST_CASE("lease promise: a term learned from a stale answer, not from a leader, does not free the vote",
          "[raft][lease]") {
  // The vote check for a higher term ran only when the request's term was
  // above the follower's: a follower moved to that term by something else
  // (here a late pre-vote rejection from a node already in it) then granted
  // a same-term vote inside its promise, and a leader's lease resting on
  // that promise could overlap a new leader.
  for (MessageType type : {MessageType::kRequestVote, MessageType::kRequestPreVote}) {
    TestNetwork net(3, with_promise());
    start_with_leader(net);
    net.isolate(1);
    const Term term = net.node(2).status().hard_state.term;
    Message stale;
    stale.type = MessageType::kRequestPreVoteResponse;
    stale.from = 3;
    stale.to = 2;
    stale.term = term + 1;
    stale.reject = true;
    net.node(2).step(stale);
    REQUIRE(net.node(2).status().hard_state.term == term + 1);
    vote_answers(net, 2);
    Message req = vote_request(net, 3, 2, type);
    req.term = term + 1;  // the follower's term now: no term bump on the way
    net.node(2).step(req);
    CHECK(vote_grants(net, 2) == 0);
    // Once the promise has ended, the vote is free again.
    for (int t = 0; t < kPromiseTicks; ++t) {
      net.node(2).tick();
      vote_answers(net, 2);
    }
    net.node(2).step(req);
    CHECK(vote_grants(net, 2) == 1);
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

TEST_CASE("lease promise: a node restarted without lease reads keeps the promise an earlier run may have made",
          "[raft][lease]") {
  // restart_promise_ticks without lease_promise_ticks: corrald restarted
  // with --read-lease=false after a run with it on.
  TestNetwork net(3, [](Config& c) { c.restart_promise_ticks = kPromiseTicks; });
  net.tick_all(kPromiseTicks);
  REQUIRE(net.elect(1));
  net.restart(2);
  net.isolate(1);
  for (int t = 0; t < kPromiseTicks; ++t) {
    INFO("tick " << t);
    net.node(2).step(vote_request(net, 3, 2, MessageType::kRequestVote));
    CHECK(vote_answers(net, 2) == 0);
    net.node(2).campaign();
    CHECK(net.node(2).status().soft_state.role == Role::kFollower);
    net.node(2).tick();
    vote_answers(net, 2);
  }
  net.node(2).step(vote_request(net, 3, 2, MessageType::kRequestVote));
  CHECK(vote_grants(net, 2) == 1);
  // After that window, nothing of the promise is left: a follower that
  // forgets its leader votes at once, as without lease reads.
  net.heal();
  TestNetwork plain(3, [](Config& c) { c.restart_promise_ticks = kPromiseTicks; });
  plain.tick_all(kPromiseTicks);
  REQUIRE(plain.elect(1));
  plain.isolate(1);
  plain.node(2).forget_leader();
  plain.node(2).step(vote_request(plain, 3, 2, MessageType::kRequestPreVote));
  CHECK(vote_grants(plain, 2) == 1);
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

// ---------------------------------------------------------------------------
// The promise travels with the acknowledgement (Message::lease_promise_ms):
// a leader's lease rests only on acknowledgements that carry one at least
// as long as its own, from a quorum of the current configuration.

namespace {

constexpr uint16_t kPromiseMs = 200;

// Lease reads on only at the nodes in `with`; each promising kPromiseMs,
// or `short_ms` at the nodes in `short_promise`.
TestNetwork::Tweak promise_at(std::set<NodeId> with, std::set<NodeId> short_promise = {}, uint16_t short_ms = 100) {
  return [with, short_promise, short_ms](Config& c) {
    if (!with.count(c.id)) return;
    c.lease_promise_ticks = kPromiseTicks;
    c.lease_promise_ms = short_promise.count(c.id) ? short_ms : kPromiseMs;
  };
}

// The promise each heartbeat response delivered since `net.delivered` was
// cleared carried, by sender.
std::map<NodeId, uint16_t> promises_heard(const TestNetwork& net) {
  std::map<NodeId, uint16_t> out;
  for (const Message& m : net.delivered) {
    if (m.type == MessageType::kHeartbeatResponse) out[m.from] = m.lease_promise_ms;
  }
  return out;
}

Message forwarded_read(TestNetwork& net, NodeId from, const std::string& ctx) {
  Message m;
  m.type = MessageType::kReadIndex;
  m.from = from;
  m.to = 1;
  m.term = net.node(1).status().hard_state.term;
  m.context = ctx;
  return m;
}

}  // namespace

TEST_CASE("lease promise: a heartbeat acknowledgement carries the follower's promise, or none without one",
          "[raft][lease]") {
  TestNetwork net(3, promise_at({1, 2}));
  start_with_leader(net);
  net.delivered.clear();
  net.tick(1);
  const auto heard = promises_heard(net);
  REQUIRE(heard.size() == 2);
  CHECK(heard.at(2) == kPromiseMs);
  CHECK(heard.at(3) == 0);
}

TEST_CASE("lease basis: followers without the promise confirm ReadIndex rounds but never a lease",
          "[raft][lease]") {
  // Only the leader runs with lease reads: a mixed cluster.
  TestNetwork net(3, promise_at({1}));
  start_with_leader(net);
  net.tick(1);
  const LeaseBasis b = net.node(1).lease_basis();
  REQUIRE(b.eligible);
  CHECK(b.last_round > b.round_floor);
  CHECK(b.confirmed_round == 0);
  // ReadIndex still works: the read is confirmed by the same round.
  net.node(1).read_index("r1");
  net.stabilize();
  REQUIRE(net.test_node(1).reads.size() == 1);
  CHECK(net.test_node(1).reads[0].request_ctx == "r1");
  // And a forwarded read is not answered from a lease it does not hold.
  CHECK_FALSE(net.node(1).answer_read_on_lease(forwarded_read(net, 2, "f1")));
}

TEST_CASE("lease basis: one promising follower and the leader are a quorum of 3, the other alone is not",
          "[raft][lease]") {
  TestNetwork net(3, promise_at({1, 2}));
  start_with_leader(net);
  net.tick(1);
  LeaseBasis b = net.node(1).lease_basis();
  CHECK(b.confirmed_round == b.last_round);
  // Node 2 cut off: node 3 answers every round, without a promise.
  net.isolate(2);
  net.tick(1);
  b = net.node(1).lease_basis();
  CHECK(b.confirmed_round == b.last_round - 1);
  net.tick(1);
  const LeaseBasis b2 = net.node(1).lease_basis();
  CHECK(b2.confirmed_round == b.confirmed_round);
  CHECK(b2.last_round == b.last_round + 1);
}

TEST_CASE("lease basis: a promise shorter than the leader's own backs no lease", "[raft][lease]") {
  TestNetwork net(3, promise_at({1, 2, 3}, {2, 3}, kPromiseMs - 1));
  start_with_leader(net);
  net.tick(1);
  const LeaseBasis b = net.node(1).lease_basis();
  REQUIRE(b.eligible);
  CHECK(b.confirmed_round == 0);
  // A longer one does (node 2 promises kPromiseMs, the leader kPromiseMs - 1).
  TestNetwork net2(3, promise_at({1, 2, 3}, {1, 3}, kPromiseMs - 1));
  start_with_leader(net2);
  net2.tick(1);
  const LeaseBasis b2 = net2.node(1).lease_basis();
  CHECK(b2.confirmed_round == b2.last_round);
}

TEST_CASE("lease basis: 5 members need the leader and two promising followers", "[raft][lease]") {
  TestNetwork one(5, promise_at({1, 2}));
  start_with_leader(one);
  one.tick(1);
  CHECK(one.node(1).lease_basis().confirmed_round == 0);
  TestNetwork two(5, promise_at({1, 2, 3}));
  start_with_leader(two);
  two.tick(1);
  const LeaseBasis b = two.node(1).lease_basis();
  CHECK(b.confirmed_round == b.last_round);
}

TEST_CASE("lease basis: the quorum is that of the current configuration", "[raft][lease]") {
  // Voters 1, 2, 3 promise; 4 and 5 join as voters without the flag.
  TestNetwork net(3, promise_at({1, 2, 3}));
  start_with_leader(net);
  for (NodeId id : {NodeId{4}, NodeId{5}}) {
    net.add_node(id, net.node(1).status().conf_state);
    REQUIRE(net.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddNode, id}) == Status::kOk);
    net.stabilize();
    net.tick(1);
  }
  REQUIRE(net.node(1).status().conf_state.voters.size() == 5);
  // Leader + 2 promising of 5: a quorum.
  LeaseBasis b = net.node(1).lease_basis();
  CHECK(b.confirmed_round == b.last_round);
  // Without node 3: voters 1, 2, 4, 5; a quorum is 3, and only 1 and 2 promise.
  REQUIRE(net.node(1).propose_conf_change(ConfChange{ConfChangeType::kRemoveNode, 3}) == Status::kOk);
  net.stabilize();
  net.tick(1);
  REQUIRE(net.node(1).status().conf_state.voters.size() == 4);
  b = net.node(1).lease_basis();
  CHECK(b.eligible);
  CHECK(b.confirmed_round == 0);
  // ReadIndex is not affected.
  net.node(1).read_index("r");
  net.stabilize();
  CHECK(net.test_node(1).reads.size() == 1);
}

TEST_CASE("lease reads: a forwarded read is answered at once, at the commit index, while a lease is held",
          "[raft][lease]") {
  TestNetwork net(3, promise_at({1, 2, 3}));
  start_with_leader(net);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.stabilize();
  net.tick(1);
  REQUIRE(net.node(1).lease_basis().confirmed_round > 0);
  const Index commit = net.node(1).status().hard_state.commit;
  net.delivered.clear();
  REQUIRE(net.node(1).answer_read_on_lease(forwarded_read(net, 2, "f1")));
  net.stabilize();
  size_t answers = 0, heartbeats = 0;
  for (const Message& m : net.delivered) {
    if (m.type == MessageType::kReadIndexResponse) {
      ++answers;
      CHECK(m.to == 2);
      CHECK(m.index == commit);
      CHECK(m.context == "f1");
    }
    heartbeats += m.type == MessageType::kHeartbeat ? 1 : 0;
  }
  CHECK(answers == 1);
  CHECK(heartbeats == 0);  // no round for it
  REQUIRE(net.test_node(2).reads.size() == 1);
  CHECK(net.test_node(2).reads[0].index == commit);
  // Not from a stale term, not at a follower.
  Message stale = forwarded_read(net, 2, "f2");
  stale.term -= 1;
  CHECK_FALSE(net.node(1).answer_read_on_lease(stale));
  Message at_follower = forwarded_read(net, 3, "f3");
  at_follower.to = 2;
  CHECK_FALSE(net.node(2).answer_read_on_lease(at_follower));
  // Not once a transfer has started.
  net.drop_if = [](const Message& m) { return m.type == MessageType::kTimeoutNow; };
  net.node(1).transfer_leader(3);
  net.stabilize();
  CHECK_FALSE(net.node(1).answer_read_on_lease(forwarded_read(net, 2, "f4")));
}
