// The leader's own entries count toward commit only once the application
// reports them persisted (Config::async_storage_writes, RawNode::advance_append).
#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

void async_writes(Config& c) { c.async_storage_writes = true; }

bool applied(const TestNetwork& net, NodeId id, const std::string& data) {
  auto got = net.applied_data(id);
  return std::find(got.begin(), got.end(), data) != got.end();
}

}  // namespace

TEST_CASE("async persist: one follower's ack without the leader's write does not commit", "[raft][async]") {
  TestNetwork net(3, async_writes);
  REQUIRE(net.elect(1));
  net.drop_if = [](const Message& m) { return m.to == 3 || m.from == 3; };
  net.hold_persistence(1);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.stabilize();
  const Index x = net.node(1).status().last_index;
  // The leader shipped the entry before its own write: the follower has it.
  CHECK(net.node(2).status().last_index == x);
  CHECK(net.node(1).status().hard_state.commit < x);
  CHECK_FALSE(applied(net, 1, "x"));
  CHECK_FALSE(applied(net, 2, "x"));

  net.release_persistence(1);
  net.stabilize();
  CHECK(net.node(1).status().hard_state.commit == x);
  CHECK(applied(net, 1, "x"));
  CHECK(applied(net, 2, "x"));
}

TEST_CASE("async persist: two followers commit, the leader applies only what it persisted", "[raft][async]") {
  TestNetwork net(3, async_writes);
  REQUIRE(net.elect(1));
  net.hold_persistence(1);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.stabilize();
  const Index x = net.node(1).status().last_index;
  CHECK(net.node(1).status().hard_state.commit == x);  // a majority without the leader
  CHECK(applied(net, 2, "x"));
  CHECK(applied(net, 3, "x"));
  CHECK_FALSE(applied(net, 1, "x"));  // not durable here yet: a crash would lose it
  CHECK_FALSE(net.node(1).has_ready());

  net.release_persistence(1);
  REQUIRE(net.node(1).has_ready());
  net.stabilize();
  CHECK(applied(net, 1, "x"));
}

TEST_CASE("async persist: a Ready hands out each entry to persist once", "[raft][async]") {
  TestNetwork net(3, async_writes);
  REQUIRE(net.elect(1));
  net.hold_persistence(1);
  REQUIRE(net.propose(1, "a") == Status::kOk);
  net.stabilize();
  REQUIRE(net.propose(1, "b") == Status::kOk);
  net.stabilize();
  const auto& held = net.test_node(1).unpersisted;
  REQUIRE(held.size() == 2);
  CHECK(held[0].data == "a");
  CHECK(held[1].data == "b");
  CHECK(held[1].index == held[0].index + 1);
  net.release_persistence(1);
  net.stabilize();
  CHECK(applied(net, 1, "a"));
  CHECK(applied(net, 1, "b"));
}

TEST_CASE("async persist: a report for another term's entry is ignored", "[raft][async]") {
  TestNetwork net(3, async_writes);
  REQUIRE(net.elect(1));
  net.drop_if = [](const Message& m) { return m.to == 3 || m.from == 3; };
  net.hold_persistence(1);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.stabilize();
  const NodeStatus st = net.node(1).status();
  net.node(1).advance_append(st.last_index, st.hard_state.term + 1);
  net.stabilize();
  CHECK(net.node(1).status().hard_state.commit < st.last_index);
  CHECK_FALSE(applied(net, 1, "x"));
}

TEST_CASE("async persist: a leader alone in a 3-member group never commits", "[raft][async]") {
  for (bool async : {false, true}) {
    CAPTURE(async);
    TestNetwork net(3, [async](Config& c) { c.async_storage_writes = async; });
    REQUIRE(net.elect(1));
    net.isolate(1);
    REQUIRE(net.propose(1, "x") == Status::kOk);
    net.stabilize();  // the leader persists and acknowledges its own entry
    const NodeStatus st = net.node(1).status();
    CHECK(st.hard_state.commit < st.last_index);
    CHECK_FALSE(applied(net, 1, "x"));
  }
}

TEST_CASE("async persist: a new leader counts only its persisted entries", "[raft][async]") {
  // Node 1 leads with its write held; after it is cut off, a follower takes
  // over with the entry it persisted and commits it in its own term.
  TestNetwork net(3, async_writes);
  REQUIRE(net.elect(1));
  net.hold_persistence(1);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.stabilize();
  net.isolate(1);
  NodeId lead = 1;
  for (int i = 0; i < 100 && lead == 1; ++i) {
    net.tick(2);
    net.tick(3);
    lead = net.leader();
  }
  REQUIRE((lead == 2 || lead == 3));
  REQUIRE(net.propose(lead, "y") == Status::kOk);
  net.stabilize();
  for (NodeId id : {NodeId{2}, NodeId{3}}) {
    CHECK(applied(net, id, "x"));
    CHECK(applied(net, id, "y"));
  }
  CHECK_FALSE(applied(net, 1, "x"));  // its own write never finished
}
