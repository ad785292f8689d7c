#include <catch2/catch.hpp>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

TEST_CASE("replication: proposals reach every member in order", "[replication]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  for (int i = 0; i < 10; ++i) REQUIRE(net.propose(1, "e" + std::to_string(i)) == Status::kOk);
  for (NodeId id : net.ids()) {
    const auto data = net.applied_data(id);
    REQUIRE(data.size() == 10);
    for (int i = 0; i < 10; ++i) CHECK(data[i] == "e" + std::to_string(i));
  }
}

TEST_CASE("replication: a new leader commits an empty entry of its term", "[replication]") {
  TestNetwork net(3);
  REQUIRE(net.elect(2));
  const NodeStatus st = net.node(2).status();
  REQUIRE(st.last_index == 1);
  REQUIRE(st.hard_state.commit == 1);
  const Entry& e = net.test_node(3).applied.at(0);
  CHECK(e.data.empty());
  CHECK(e.term == st.hard_state.term);
}

TEST_CASE("replication: proposals on a non-leader are dropped with a status", "[replication]") {
  TestNetwork net(3);
  CHECK(net.propose(1, "x") == Status::kProposalDropped);  // nobody leads yet
  REQUIRE(net.elect(1));
  CHECK(net.propose(2, "x") == Status::kProposalDropped);
  CHECK(net.applied_data(1).empty());
}

TEST_CASE("replication: a minority cannot commit", "[replication]") {
  TestNetwork net(5);
  REQUIRE(net.elect(1));
  net.isolate(2);
  net.isolate(3);
  net.isolate(4);
  REQUIRE(net.propose(1, "lonely") == Status::kOk);
  CHECK(net.applied_data(1).empty());
  net.heal();
  net.tick(1);
  CHECK(net.applied_data(1) == std::vector<std::string>{"lonely"});
}

TEST_CASE("replication: proposals of one turn travel in one append per follower", "[replication][batching]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  for (int i = 0; i < 5; ++i) REQUIRE(net.node(1).propose("b" + std::to_string(i)) == Status::kOk);
  Ready rd = net.node(1).ready();
  size_t appends = 0;
  for (const Message& m : rd.messages) {
    if (m.type != MessageType::kAppend) continue;
    ++appends;
    CHECK(m.entries.size() == 5);
  }
  CHECK(appends == 2);
}

TEST_CASE("replication: max_bytes_per_append splits large batches", "[replication][batching]") {
  TestNetwork net(3, [](Config& c) { c.max_bytes_per_append = 100; });
  REQUIRE(net.elect(1));
  net.isolate(3);
  for (int i = 0; i < 20; ++i) REQUIRE(net.propose(1, std::string(40, 'a' + i)) == Status::kOk);
  net.delivered.clear();
  net.heal();
  net.tick(1);
  size_t max_entries = 0, appends_to_3 = 0;
  for (const Message& m : net.delivered) {
    if (m.type != MessageType::kAppend || m.to != 3) continue;
    ++appends_to_3;
    max_entries = std::max(max_entries, m.entries.size());
    uint64_t bytes = 0;
    for (const Entry& e : m.entries) bytes += e.data.size();
    CHECK((bytes <= 100 || m.entries.size() == 1));
  }
  CHECK(max_entries <= 2);
  CHECK(appends_to_3 >= 10);
  CHECK(net.applied_data(3).size() == 20);
}

TEST_CASE("replication: pipelining keeps several appends in flight, bounded by the window",
          "[replication][flow]") {
  TestNetwork net(3, [](Config& c) { c.max_inflight_appends = 4; });
  REQUIRE(net.elect(1));
  // Hold back every answer from 2: the leader may send at most 4 appends.
  net.drop_if = [](const Message& m) { return m.from == 2 && m.type == MessageType::kAppendResponse; };
  net.isolate(3);
  net.delivered.clear();
  for (int i = 0; i < 10; ++i) {
    net.node(1).propose("p" + std::to_string(i));
    net.stabilize();
  }
  size_t appends_to_2 = 0;
  for (const Message& m : net.delivered) appends_to_2 += (m.type == MessageType::kAppend && m.to == 2) ? 1 : 0;
  CHECK(appends_to_2 == 4);
  const NodeStatus st = net.node(1).status();
  for (const PeerProgress& p : st.progress) {
    if (p.id == 2) {
      CHECK(p.state == PeerProgress::State::kReplicate);
      CHECK(p.inflight == 4);
    }
  }
  net.drop_if = nullptr;
  net.heal();
  net.tick_all(2);
  CHECK(net.applied_data(2).size() == 10);
  CHECK(net.applied_data(3).size() == 10);
}

TEST_CASE("replication: kTooLarge past max_uncommitted_bytes, and room again after commit",
          "[replication][flow]") {
  TestNetwork net(3, [](Config& c) { c.max_uncommitted_bytes = 100; });
  REQUIRE(net.elect(1));
  net.isolate(2);
  net.isolate(3);
  CHECK(net.propose(1, std::string(60, 'a')) == Status::kOk);
  CHECK(net.propose(1, std::string(60, 'b')) == Status::kTooLarge);
  CHECK(net.propose(1, std::string(101, 'c')) == Status::kTooLarge);
  CHECK(net.propose(1, std::string(40, 'd')) == Status::kOk);
  net.heal();
  net.tick(1);
  REQUIRE(net.applied_data(1).size() == 2);
  CHECK(net.propose(1, std::string(60, 'e')) == Status::kOk);
}

TEST_CASE("replication: divergent followers are repaired to the leader's log", "[replication]") {
  TestNetwork net(5);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "common") == Status::kOk);
  // 1 writes entries only 2 receives, then loses leadership.
  net.isolate(3);
  net.isolate(4);
  net.isolate(5);
  for (int i = 0; i < 5; ++i) net.propose(1, "lost" + std::to_string(i));
  net.heal();
  net.isolate(1);
  net.isolate(2);
  // 3, 4, 5 elect one of them once their lease on 1 has run out.
  for (int i = 0; i < 100 && (net.leader() == kNoNode || net.leader() == 1); ++i) net.tick_all();
  const NodeId lead = net.leader();
  REQUIRE(lead >= 3);
  for (int i = 0; i < 3; ++i) REQUIRE(net.propose(lead, "won" + std::to_string(i)) == Status::kOk);
  net.heal();
  net.tick(lead, 2);
  const std::vector<std::string> want{"common", "won0", "won1", "won2"};
  for (NodeId id : net.ids()) {
    INFO("node " << id);
    CHECK(net.applied_data(id) == want);
    CHECK(net.node(id).status().last_index == net.node(lead).status().last_index);
  }
}

namespace {

// A storage for a member of {1,2,3} holding `terms[i]` at index i+1.
MemoryStorage storage_with_terms(const std::vector<Term>& terms, Term hard_term) {
  MemoryStorage s;
  s.set_conf_state(ConfState{{1, 2, 3}, {}});
  std::vector<Entry> ents;
  for (size_t i = 0; i < terms.size(); ++i) ents.push_back(Entry{terms[i], i + 1, EntryType::kNormal, "t"});
  REQUIRE(s.append(ents) == Status::kOk);
  s.set_hard_state(HardState{hard_term, kNoNode, 0});
  return s;
}

}  // namespace

TEST_CASE("replication: fast backtracking takes round trips per term, not per entry", "[replication]") {
  // 1 and 2 hold 10 entries of term 1 then 30 of term 5; 3 holds the same 10
  // then 30 each of terms 2, 3, 4 that never committed.
  constexpr size_t kCommon = 10, kPerTerm = 30;
  std::vector<Term> good(kCommon, 1), bad(kCommon, 1);
  good.insert(good.end(), kPerTerm, 5);
  for (Term t : {2, 3, 4}) bad.insert(bad.end(), kPerTerm, t);
  TestNetwork net(3);
  net.start_with(1, storage_with_terms(good, 5));
  net.start_with(2, storage_with_terms(good, 5));
  net.start_with(3, storage_with_terms(bad, 4));
  REQUIRE(net.elect(1));
  size_t rejections = 0, appends_to_3 = 0;
  for (const Message& m : net.delivered) {
    if (m.type == MessageType::kAppendResponse && m.from == 3 && m.reject) ++rejections;
    if (m.type == MessageType::kAppend && m.to == 3) ++appends_to_3;
  }
  INFO("rejections " << rejections << ", appends " << appends_to_3);
  CHECK(rejections >= 1);
  CHECK(rejections <= 3);  // entry-by-entry backtracking would take about 80
  CHECK(net.node(3).status().last_index == net.node(1).status().last_index);
  REQUIRE(net.test_node(3).applied.size() == kCommon + kPerTerm + 1);
  for (size_t i = 0; i < kCommon + kPerTerm; ++i) CHECK(net.test_node(3).applied[i].term == good[i]);
}

TEST_CASE("replication: report_unreachable stops pipelining to a peer until it answers", "[replication][flow]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  auto state_of = [&](NodeId id) {
    for (const PeerProgress& p : net.node(1).status().progress) {
      if (p.id == id) return p.state;
    }
    FAIL("no progress for peer");
    return PeerProgress::State::kProbe;
  };
  REQUIRE(state_of(2) == PeerProgress::State::kReplicate);
  net.node(1).report_unreachable(2);
  CHECK(state_of(2) == PeerProgress::State::kProbe);
  REQUIRE(net.propose(1, "b") == Status::kOk);
  CHECK(state_of(2) == PeerProgress::State::kReplicate);
  CHECK(net.applied_data(2) == std::vector<std::string>{"a", "b"});
}
