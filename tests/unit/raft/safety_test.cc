// Randomised runs of the in-test cluster: message loss, partitions, crashes
// and restarts, from fixed seeds. Whatever happens, no two members ever apply
// different entries at the same index, and there is at most one leader per
// term. The tiny simulator of tests/sim goes much further; this guards the
// core on its own.
#include <catch2/catch.hpp>

#include <map>

#include "coordinator/raft/rng.h"
#include "tests/unit/raft/test_network.h"

using namespace corral::raft;
using corral::raft::test::TestNetwork;

namespace {

constexpr int kStepsPerRun = 400;
constexpr uint64_t kDropPercent = 10;

void check_prefixes(TestNetwork& net) {
  std::map<Index, Entry> chosen;
  for (NodeId id : net.ids()) {
    for (const Entry& e : net.test_node(id).applied) {
      auto [it, fresh] = chosen.emplace(e.index, e);
      INFO("node " << id << " index " << e.index);
      REQUIRE(it->second == e);
    }
  }
}

}  // namespace

TEST_CASE("safety: random loss, partitions and restarts never break state machine safety", "[safety]") {
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    INFO("seed " << seed);
    SplitMix64 rng(seed);
    TestNetwork net(5, [seed](Config& c) {
      c.rng_seed = seed;
      c.max_inflight_appends = 4;
      c.max_bytes_per_append = 64;
    });
    net.drop_if = [&rng](const Message&) { return rng.below(100) < kDropPercent; };
    std::map<Term, NodeId> leader_of_term;
    int proposed = 0;
    for (int step = 0; step < kStepsPerRun; ++step) {
      switch (rng.below(10)) {
        case 0:
          net.heal();
          net.isolate(1 + rng.below(5));
          break;
        case 1:
          net.heal();
          break;
        case 2:
          net.restart(1 + rng.below(5));
          break;
        default:
          break;
      }
      net.tick_all();
      if (const NodeId lead = net.leader(); lead != kNoNode) {
        if (net.propose(lead, "v" + std::to_string(proposed)) == Status::kOk) ++proposed;
      }
      for (NodeId id : net.ids()) {
        const NodeStatus st = net.node(id).status();
        if (st.soft_state.role != Role::kLeader) continue;
        auto [it, fresh] = leader_of_term.emplace(st.hard_state.term, id);
        REQUIRE(it->second == id);
      }
      check_prefixes(net);
    }
    // Liveness after healing: everyone converges.
    net.heal();
    net.drop_if = nullptr;
    for (int i = 0; i < 100 && net.leader() == kNoNode; ++i) net.tick_all();
    const NodeId lead = net.leader();
    REQUIRE(lead != kNoNode);
    REQUIRE(net.propose(lead, "final") == Status::kOk);
    net.tick_all(3);
    for (NodeId id : net.ids()) {
      CHECK(net.node(id).status().hard_state.commit == net.node(lead).status().hard_state.commit);
    }
    CHECK(proposed > 0);
  }
}

TEST_CASE("safety: a restarted follower keeps its term and vote and catches up", "[safety]") {
  TestNetwork net(3);
  REQUIRE(net.elect(1));
  REQUIRE(net.propose(1, "a") == Status::kOk);
  const HardState before = net.node(2).status().hard_state;
  net.restart(2);
  const HardState after = net.node(2).status().hard_state;
  CHECK(after.term == before.term);
  CHECK(after.vote == before.vote);
  CHECK(after.commit == before.commit);
  // Committed entries are applied again from the start (applied was 0).
  net.stabilize();
  CHECK(net.applied_data(2) == std::vector<std::string>{"a"});
  REQUIRE(net.propose(1, "b") == Status::kOk);
  CHECK(net.applied_data(2) == std::vector<std::string>{"a", "b"});
}
