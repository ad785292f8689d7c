#include <catch2/catch.hpp>

#include <optional>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

// Snapshots node `id` at its applied index and compacts its log up to there.
void snapshot_and_compact(TestNetwork& net, NodeId id, const std::string& data) {
  auto& tn = net.test_node(id);
  const Index at = tn.applied_index;
  REQUIRE(net.storage(id).create_snapshot(at, tn.conf_state, data).ok());
  REQUIRE(net.storage(id).compact(at) == Status::kOk);
}

size_t count_type(const TestNetwork& net, MessageType type, NodeId to) {
  size_t n = 0;
  for (const Message& m : net.delivered) n += (m.type == type && m.to == to) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("snapshot: a follower behind the compaction point is sent a snapshot and catches up",
          "[snapshot]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(3);
  for (int i = 0; i < 10; ++i) REQUIRE(net.propose(1, "s" + std::to_string(i)) == Status::kOk);
  snapshot_and_compact(net, 1, "state@11");
  REQUIRE(net.storage(1).first_index() == 12);
  REQUIRE(net.propose(1, "after") == Status::kOk);
  net.heal();
  net.delivered.clear();
  net.tick(1, 2);
  CHECK(count_type(net, MessageType::kSnapshot, 3) == 1);
  CHECK(net.test_node(3).snapshot_index == 11);
  CHECK(net.storage(3).snapshot().value().data == "state@11");
  CHECK(net.applied_data(3) == std::vector<std::string>{"after"});
  CHECK(net.node(3).status().last_index == net.node(1).status().last_index);
  CHECK(net.node(3).status().applied == net.node(1).status().applied);
  // The leader went back to replicating to 3.
  for (const PeerProgress& p : net.node(1).status().progress) {
    if (p.id == 3) CHECK(p.state == PeerProgress::State::kReplicate);
  }
}

TEST_CASE("snapshot: a lost snapshot is resent (report_snapshot failure or timeout)", "[snapshot]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(3);
  for (int i = 0; i < 5; ++i) REQUIRE(net.propose(1, "s" + std::to_string(i)) == Status::kOk);
  snapshot_and_compact(net, 1, "img");
  net.heal();
  size_t snapshots_sent = 0;
  net.drop_if = [&snapshots_sent](const Message& m) {
    if (m.type != MessageType::kSnapshot) return false;
    ++snapshots_sent;
    return true;
  };
  net.tick(1, 2);
  REQUIRE(snapshots_sent == 1);
  auto state_of_3 = [&] {
    for (const PeerProgress& p : net.node(1).status().progress) {
      if (p.id == 3) return p.state;
    }
    return PeerProgress::State::kProbe;
  };
  REQUIRE(state_of_3() == PeerProgress::State::kSnapshot);
  SECTION("reported failure") {
    net.node(1).report_snapshot(3, false);
    CHECK(state_of_3() == PeerProgress::State::kProbe);
  }
  SECTION("no report: times out and is sent again") {
    for (int i = 0; i < 40 && snapshots_sent == 1; ++i) net.tick(1);
    CHECK(snapshots_sent == 2);
  }
  net.drop_if = nullptr;
  for (int i = 0; i < 40 && net.test_node(3).snapshot_index == 0; ++i) net.tick(1);
  CHECK(net.test_node(3).snapshot_index == 6);
  CHECK(net.node(3).status().last_index == net.node(1).status().last_index);
}

namespace {

// A storage whose snapshot is still being built.
class NotReadyStorage : public MemoryStorage {
 public:
  using MemoryStorage::MemoryStorage;
  Result<Snapshot> snapshot() const override {
    if (!ready) return Status::kSnapshotTemporarilyUnavailable;
    return MemoryStorage::snapshot();
  }
  bool ready = false;
};

}  // namespace

TEST_CASE("snapshot: kSnapshotTemporarilyUnavailable is retried later", "[snapshot]") {
  // Build the leader's state in an ordinary storage first, then restart it on
  // one whose snapshot is not ready. No check-quorum: the restarted leader
  // must not wait out the followers' lease on its previous incarnation.
  TestNetwork net(3, [](Config& c) { c.check_quorum = false; });
  REQUIRE(net.elect(1));
  net.isolate(3);
  for (int i = 0; i < 5; ++i) REQUIRE(net.propose(1, "s" + std::to_string(i)) == Status::kOk);
  snapshot_and_compact(net, 1, "later");
  NotReadyStorage slow;
  static_cast<MemoryStorage&>(slow) = net.storage(1);
  Config c;
  c.id = 1;
  c.storage = &slow;
  c.applied = net.test_node(1).applied_index;
  RawNode leader(c);
  leader.campaign();
  // Drive it by hand against 2 and 3 to the point it needs the snapshot.
  auto pump = [&](int rounds) {
    for (int r = 0; r < rounds; ++r) {
      std::vector<Message> out;
      if (leader.has_ready()) {
        Ready rd = leader.ready();
        slow.append(rd.entries);
        if (rd.hard_state) slow.set_hard_state(*rd.hard_state);
        out = rd.messages;
        leader.advance();
      }
      for (const Message& m : out) {
        if (m.to == 1) continue;
        net.node(m.to).step(m);
        Ready frd = net.node(m.to).ready();
        if (frd.snapshot) net.storage(m.to).apply_snapshot(*frd.snapshot);
        net.storage(m.to).append(frd.entries);
        if (frd.hard_state) net.storage(m.to).set_hard_state(*frd.hard_state);
        net.node(m.to).advance();
        for (const Message& back : frd.messages) {
          if (back.to == 1) leader.step(back);
        }
      }
    }
  };
  pump(10);
  for (int i = 0; i < 4; ++i) {
    leader.tick();
    pump(5);
  }
  REQUIRE(leader.status().soft_state.role == Role::kLeader);
  CHECK(net.node(3).status().last_index < leader.status().last_index);
  slow.ready = true;
  for (int i = 0; i < 4; ++i) {
    leader.tick();
    pump(5);
  }
  CHECK(net.node(3).status().last_index == leader.status().last_index);
}

TEST_CASE("snapshot: a snapshot not newer than the commit index is ignored", "[snapshot]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  const NodeStatus before = net.node(2).status();
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.term = before.hard_state.term;
  Snapshot old;
  old.metadata.index = 1;
  old.metadata.term = before.hard_state.term;
  old.metadata.conf_state = ConfState{{1, 2, 3}, {}};
  m.snapshot = old;
  REQUIRE(net.node(2).step(m) == Status::kOk);
  Ready rd = net.node(2).ready();
  CHECK_FALSE(rd.snapshot.has_value());
  CHECK(net.node(2).status().last_index == before.last_index);
  net.node(2).advance();
}

// The server installs a large snapshot on a worker thread (server/
// snapshot_installer.h): it asks wants_snapshot, keeps stepping heartbeats
// (dropping appends) while the install runs, then reports it with
// snapshot_installed. Raft must take it without a Ready carrying it, and
// catch the follower up from there.
TEST_CASE("snapshot: a snapshot installed by the application off the Ready path", "[snapshot]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  net.isolate(3);
  for (int i = 0; i < 10; ++i) REQUIRE(net.propose(1, "s" + std::to_string(i)) == Status::kOk);
  snapshot_and_compact(net, 1, "state@11");
  net.heal();
  std::optional<Snapshot> held;
  bool installing = false;
  net.drop_if = [&](const Message& m) {
    if (m.to != 3) return false;
    if (m.type == MessageType::kSnapshot) {
      if (!held && m.snapshot && net.node(3).wants_snapshot(m.snapshot->metadata)) held = *m.snapshot;
      installing = held.has_value();
      return true;
    }
    return installing && m.type == MessageType::kAppend;
  };
  net.tick(1, 2);
  REQUIRE(held);
  CHECK(held->metadata.index == 11);
  const Index commit_before = net.node(3).status().hard_state.commit;
  // While "installing", the follower answers heartbeats: the leader keeps it.
  net.delivered.clear();
  for (int i = 0; i < 3; ++i) net.tick(1, 1);
  size_t heartbeat_answers = 0;
  for (const Message& m : net.delivered) {
    heartbeat_answers += (m.type == MessageType::kHeartbeatResponse && m.from == 3);
  }
  CHECK(heartbeat_answers > 0);
  CHECK(net.node(3).status().hard_state.commit == commit_before);
  REQUIRE(net.propose(1, "after") == Status::kOk);  // committed by 1 and 2

  // The install is durable: storage holds it, then raft hears of it.
  REQUIRE(net.node(3).wants_snapshot(held->metadata));
  REQUIRE(net.storage(3).apply_snapshot(*held) == Status::kOk);
  net.test_node(3).applied_index = held->metadata.index;  // the state machine loaded it
  net.test_node(3).conf_state = held->metadata.conf_state;
  REQUIRE(net.node(3).snapshot_installed(held->metadata));
  CHECK_FALSE(net.node(3).wants_snapshot(held->metadata));
  CHECK_FALSE(net.node(3).snapshot_installed(held->metadata));  // once
  installing = false;
  net.stabilize();
  net.tick(1, 2);
  CHECK(net.test_node(3).snapshot_index == 0);  // no Ready carried it
  CHECK(net.applied_data(3) == std::vector<std::string>{"after"});
  CHECK(net.node(3).status().last_index == net.node(1).status().last_index);
  CHECK(net.node(3).status().applied == net.node(1).status().applied);
}

// The server commits an install (raft told) before the state is loaded,
// and pauses apply until it is: entries are appended and acknowledged
// meanwhile (writes commit), applied once resumed, in order.
TEST_CASE("snapshot: with apply paused appends and commits go on", "[snapshot]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  net.isolate(2);  // commits now need node 3
  net.node(3).pause_apply(true);
  REQUIRE(net.propose(1, "b") == Status::kOk);
  REQUIRE(net.propose(1, "c") == Status::kOk);
  CHECK(net.node(1).status().hard_state.commit == net.node(1).status().last_index);  // 3 acknowledged
  CHECK(net.node(3).status().last_index == net.node(1).status().last_index);
  CHECK(net.applied_data(3) == std::vector<std::string>{"a"});
  CHECK(net.applied_data(1) == std::vector<std::string>{"a", "b", "c"});
  net.node(3).pause_apply(false);
  net.stabilize();
  CHECK(net.applied_data(3) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("snapshot: wants_snapshot refuses old, foreign and already held snapshots", "[snapshot]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  const NodeStatus st = net.node(2).status();
  SnapshotMetadata md;
  md.term = st.hard_state.term;
  md.conf_state = ConfState{{1, 2, 3}, {}};
  md.index = st.hard_state.commit;  // not newer than the commit index
  CHECK_FALSE(net.node(2).wants_snapshot(md));
  md.index = st.last_index + 5;
  CHECK(net.node(2).wants_snapshot(md));
  md.conf_state = ConfState{{1, 3}, {}};  // not for node 2
  CHECK_FALSE(net.node(2).wants_snapshot(md));
  CHECK_FALSE(net.node(2).snapshot_installed(md));
  CHECK(net.node(2).status().last_index == st.last_index);
}
