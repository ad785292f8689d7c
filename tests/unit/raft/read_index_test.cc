#include <catch2/catch.hpp>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

size_t heartbeats_from(const TestNetwork& net, NodeId from) {
  size_t n = 0;
  for (const Message& m : net.delivered) n += (m.type == MessageType::kHeartbeat && m.from == from) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("read index: served on the leader after a heartbeat round", "[read_index]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  const Index commit = net.node(1).status().hard_state.commit;
  net.delivered.clear();
  net.node(1).read_index("r1");
  net.stabilize();
  REQUIRE(net.test_node(1).reads.size() == 1);
  CHECK(net.test_node(1).reads[0].request_ctx == "r1");
  CHECK(net.test_node(1).reads[0].index == commit);
  CHECK(heartbeats_from(net, 1) == 2);
}

TEST_CASE("read index: not served without a quorum's answer", "[read_index]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(2);
  net.isolate(3);
  net.node(1).read_index("r1");
  net.stabilize();
  CHECK(net.test_node(1).reads.empty());
  net.heal();
  net.node(1).read_index("r2");  // a round after healing confirms both
  net.stabilize();
  REQUIRE(net.test_node(1).reads.size() == 2);
  CHECK(net.test_node(1).reads[0].request_ctx == "r1");
  CHECK(net.test_node(1).reads[1].request_ctx == "r2");
}

TEST_CASE("read index: one heartbeat round confirms every read waiting at that moment", "[read_index][batching]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.delivered.clear();
  for (int i = 0; i < 20; ++i) net.node(1).read_index("r" + std::to_string(i));
  net.stabilize();
  CHECK(net.test_node(1).reads.size() == 20);
  CHECK(heartbeats_from(net, 1) == 2);  // one round to each of two followers
}

TEST_CASE("read index: forwarded from a follower and answered to it", "[read_index]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  net.node(2).read_index("from-2");
  net.stabilize();
  CHECK(net.test_node(1).reads.empty());
  REQUIRE(net.test_node(2).reads.size() == 1);
  CHECK(net.test_node(2).reads[0].request_ctx == "from-2");
  CHECK(net.test_node(2).reads[0].index == net.node(1).status().hard_state.commit);
}

TEST_CASE("read index: held until the leader has committed an entry of its term", "[read_index]") {
  // No check-quorum, so that 2 can take over without waiting out a lease.
  TestNetwork net(3, [](Config& c) { c.check_quorum = false; });
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  // 2 becomes leader but its empty entry cannot commit yet: hold the appends.
  net.isolate(1);
  net.drop_if = [](const Message& m) { return m.type == MessageType::kAppend; };
  REQUIRE(net.elect(2));
  const Term term = net.node(2).status().hard_state.term;
  REQUIRE(net.node(2).status().hard_state.commit < net.node(2).status().last_index);
  net.node(2).read_index("early");
  net.stabilize();
  CHECK(net.test_node(2).reads.empty());
  // Its empty entry commits: the held read is then confirmed and served.
  net.drop_if = nullptr;
  net.tick(2);
  REQUIRE(net.node(2).status().hard_state.term == term);
  REQUIRE(net.test_node(2).reads.size() == 1);
  CHECK(net.test_node(2).reads[0].index == net.node(2).status().last_index);
}

TEST_CASE("read index: a deposed leader's waiting reads are never served", "[read_index]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(1);
  net.node(1).read_index("stale");
  net.stabilize();
  for (int i = 0; i < 30 && net.node(1).status().soft_state.role == Role::kLeader; ++i) net.tick_all();
  CHECK(net.node(1).status().soft_state.role != Role::kLeader);
  net.heal();
  net.tick_all(3);
  CHECK(net.test_node(1).reads.empty());
}

TEST_CASE("read index: single-member cluster answers at once", "[read_index]") {
  TestNetwork net(1);
  REQUIRE(net.elect(1));
  net.node(1).read_index("solo");
  net.stabilize();
  REQUIRE(net.test_node(1).reads.size() == 1);
  CHECK(net.test_node(1).reads[0].index == 1);
}

TEST_CASE("read index: a lost heartbeat round is confirmed by the next regular heartbeat", "[read_index]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  // Lose the read's own heartbeat round.
  net.drop_if = [](const Message& m) { return m.type == MessageType::kHeartbeat; };
  net.node(1).read_index("lone");
  net.stabilize();
  REQUIRE(net.test_node(1).reads.empty());
  // No other read comes: the next regular heartbeat must confirm it.
  net.drop_if = nullptr;
  net.tick(1, net.test_node(1).config.heartbeat_ticks);
  REQUIRE(net.test_node(1).reads.size() == 1);
  CHECK(net.test_node(1).reads[0].request_ctx == "lone");
}

TEST_CASE("read index: a regular heartbeat confirms only reads that arrived before it", "[read_index]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  auto lose_heartbeats = [](const Message& m) { return m.type == MessageType::kHeartbeat; };
  net.drop_if = lose_heartbeats;
  net.node(1).read_index("first");
  net.stabilize();
  // The regular heartbeat goes out; its answers are held back.
  std::vector<Message> held;
  net.drop_if = [&held](const Message& m) {
    if (m.type == MessageType::kHeartbeatResponse) held.push_back(m);
    return m.type == MessageType::kHeartbeatResponse;
  };
  net.tick(1, net.test_node(1).config.heartbeat_ticks);
  REQUIRE(held.size() == 2);
  // A second read arrives after that heartbeat, and its own round is lost.
  net.drop_if = lose_heartbeats;
  net.node(1).read_index("second");
  net.stabilize();
  // The held answers confirm the first read only.
  net.drop_if = nullptr;
  for (const Message& m : held) REQUIRE(net.node(1).step(m) == Status::kOk);
  net.stabilize();
  REQUIRE(net.test_node(1).reads.size() == 1);
  CHECK(net.test_node(1).reads[0].request_ctx == "first");
  // The next heartbeat confirms the second.
  net.tick(1, net.test_node(1).config.heartbeat_ticks);
  REQUIRE(net.test_node(1).reads.size() == 2);
  CHECK(net.test_node(1).reads[1].request_ctx == "second");
}
