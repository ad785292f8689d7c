// The Raft paper's Figure 8: an entry of an old term that is stored on a
// majority is not committed by counting replicas; only an entry of the
// leader's current term is, and that one commits its predecessors.
#include <catch2/catch.hpp>

#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

MemoryStorage five_member_storage(const std::vector<Term>& terms, Term hard_term) {
  MemoryStorage s;
  s.set_conf_state(ConfState{{1, 2, 3, 4, 5}, {}});
  std::vector<Entry> ents;
  for (size_t i = 0; i < terms.size(); ++i) ents.push_back(Entry{terms[i], i + 1, EntryType::kNormal, "f8"});
  REQUIRE(s.append(ents) == Status::kOk);
  s.set_hard_state(HardState{hard_term, kNoNode, 1});
  return s;
}

Message append_ack(NodeId from, Term term, Index index) {
  Message m;
  m.type = MessageType::kAppendResponse;
  m.from = from;
  m.to = 1;
  m.term = term;
  m.index = index;
  return m;
}

}  // namespace

TEST_CASE("figure 8: an old-term entry on a majority is not committed by counting", "[figure8]") {
  // (c) S1 leads in term 4 with index 2 from term 2; S5 holds index 2 from term 3.
  TestNetwork net(5, [](Config& c) { c.check_quorum = false; });
  net.start_with(1, five_member_storage({1, 2}, 3));
  net.start_with(2, five_member_storage({1, 2}, 3));
  net.start_with(3, five_member_storage({1}, 3));
  net.start_with(4, five_member_storage({1}, 3));
  net.start_with(5, five_member_storage({1, 3}, 3));
  net.isolate(5);
  // Only 1's vote requests get through; every reply comes back, but S1's
  // appends are held so that we control exactly what is replicated.
  net.drop_if = [](const Message& m) { return m.type == MessageType::kAppend; };
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  REQUIRE(term == 4);
  REQUIRE(net.node(1).status().last_index == 3);  // its empty entry of term 4

  // S2 and S3 acknowledge index 2 (term 2): with S1 that is 3 of 5.
  REQUIRE(net.node(1).step(append_ack(2, term, 2)) == Status::kOk);
  REQUIRE(net.node(1).step(append_ack(3, term, 2)) == Status::kOk);
  CHECK(net.node(1).status().hard_state.commit == 1);

  // (d) were S1 to crash now, S5 could still win (votes of S2, S3, S4 are
  // possible since its last term 3 > 2) and overwrite index 2: so it must not
  // have been committed. Check that S5's log is indeed electable by S3.
  Message vote;
  vote.type = MessageType::kRequestVote;
  vote.from = 5;
  vote.to = 3;
  vote.term = term + 1;
  vote.index = 2;
  vote.log_term = 3;
  net.drop_if = nullptr;
  net.heal();
  REQUIRE(net.node(3).step(vote) == Status::kOk);
  Ready rd = net.node(3).ready();
  bool granted = false;
  for (const Message& m : rd.messages) {
    if (m.type == MessageType::kRequestVoteResponse && m.to == 5) granted = !m.reject;
  }
  CHECK(granted);
}

TEST_CASE("figure 8: a current-term entry on a majority commits it and its predecessors", "[figure8]") {
  TestNetwork net(5, [](Config& c) { c.check_quorum = false; });
  net.start_with(1, five_member_storage({1, 2}, 3));
  net.start_with(2, five_member_storage({1, 2}, 3));
  net.start_with(3, five_member_storage({1}, 3));
  net.start_with(4, five_member_storage({1}, 3));
  net.start_with(5, five_member_storage({1, 3}, 3));
  net.isolate(5);
  net.drop_if = [](const Message& m) { return m.type == MessageType::kAppend; };
  REQUIRE(net.elect(1));
  const Term term = net.node(1).status().hard_state.term;
  REQUIRE(net.node(1).step(append_ack(2, term, 3)) == Status::kOk);
  CHECK(net.node(1).status().hard_state.commit == 1);  // 2 of 5
  REQUIRE(net.node(1).step(append_ack(3, term, 3)) == Status::kOk);
  CHECK(net.node(1).status().hard_state.commit == 3);  // 3 of 5, term 4
}

TEST_CASE("figure 8: the unsafe test knob does commit without a quorum", "[figure8]") {
  // Proves the knob the simulator relies on does what it says.
  TestNetwork net(3, [](Config& c) { c.testing_unsafe_commit_without_quorum = true; });
  REQUIRE(net.elect(1));
  net.isolate(2);
  net.isolate(3);
  REQUIRE(net.propose(1, "unsafe") == Status::kOk);
  CHECK(net.applied_data(1) == std::vector<std::string>{"unsafe"});
}

TEST_CASE("figure 8: the unsafe vote knob grants votes to stale logs", "[figure8]") {
  // No check-quorum, so that only the log decides (as in election_test).
  TestNetwork net(3, [](Config& c) {
    c.check_quorum = false;
    c.testing_unsafe_vote_ignores_log = true;
  });
  REQUIRE(net.elect(1));
  net.isolate(3);
  REQUIRE(net.propose(1, "x") == Status::kOk);
  net.heal();
  net.isolate(1);
  CHECK(net.elect(3));  // refused without the knob (see election_test)
}
