// Network partitions on a real 3-member cluster, each member in a network
// namespace of its own (netns_lab.h), under a write load, a register load
// whose reads must never go back in time, and a put/get load on a few keys
// whose whole history must be linearizable (history_load.h). Every case
// checks: the history linearizable, no
// acknowledged write lost, none applied twice, the register's version
// between the writes acknowledged and attempted, and every member at the
// same applied index once the network heals.
//
// CORRAL_PARTITION_ROUNDS=N runs N seeded rounds of random faults in the
// last case (default 3); CORRAL_PARTITION_SEED picks the seed.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <random>
#include <tuple>
#include <string>
#include <thread>

#include "tests/fault/checked_run.h"
#include "tests/fault/netns_lab.h"
#include "tests/fault/workload.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::fault;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMembers = 3;

ClusterOptions netns_options(const NetnsLab& lab) {
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  for (size_t i = 0; i < kMembers; ++i) {
    o.member_hosts.push_back(lab.host(i));
    o.member_launchers.push_back(lab.launcher(i));
  }
  return o;
}

std::vector<size_t> all_but(size_t skip) {
  std::vector<size_t> out;
  for (size_t i = 0; i < kMembers; ++i) {
    if (i != skip) out.push_back(i);
  }
  return out;
}

// What every case starts from: the namespaces, a started cluster in them,
// the loads running and past their first acknowledgements, and the leader.
class Setup {
 public:
  Setup() {
    cluster_.start();
    run_.emplace(cluster_);
    REQUIRE(run_->progressed(kAcksBeforeFault));
    auto l = cluster_.wait_for_leader();
    REQUIRE(l);
    leader_ = *l;
  }
  std::tuple<NetnsLab&, Cluster&, CheckedRun&, std::optional<size_t>> parts() {
    return {lab_, cluster_, *run_, leader_};
  }

 private:
  NetnsLab lab_{kMembers};  // first: the cluster's members live in it
  Cluster cluster_{netns_options(lab_)};
  std::optional<CheckedRun> run_;
  size_t leader_ = 0;
};

// Skips (with the reason) where namespaces cannot be made: not root.
#define REQUIRE_NETNS()                                          \
  do {                                                           \
    const std::string why = NetnsLab::unavailable_reason();      \
    if (!why.empty()) {                                          \
      WARN("skipped: " << why);                                  \
      return;                                                    \
    }                                                            \
  } while (0)

}  // namespace

TEST_CASE("partition: the leader cut off from the majority steps down and the majority goes on", "[fault][partition]") {
  REQUIRE_NETNS();
  Setup setup;
  auto [lab, cluster, run, leader] = setup.parts();
  const uint64_t old_id = cluster.member_id(*leader);
  lab.isolate(*leader);
  auto next = leader_among(cluster, all_but(*leader), old_id, kProgressTimeout);
  REQUIRE(next);
  CHECK(run.progressed(kAcksDuringFault));
  // Check-quorum: the cut-off leader no longer calls itself leader.
  CHECK(wait_until(
      [&] {
        auto st = cluster.status(*leader);
        return st && st->leader != old_id;
      },
      kProgressTimeout, 50ms));
  lab.heal_all();
  run.finish("leader isolated");
}

TEST_CASE("partition: a follower cut off, then back: no pause for the rest, it catches up", "[fault][partition]") {
  REQUIRE_NETNS();
  Setup setup;
  auto [lab, cluster, run, leader] = setup.parts();
  const size_t follower = (*leader + 1) % kMembers;
  lab.isolate(follower);
  CHECK(run.progressed(kAcksDuringFault * 3));
  lab.heal_all();
  run.finish("follower isolated");
}

TEST_CASE("partition: one-way loss from the leader to a follower", "[fault][partition]") {
  REQUIRE_NETNS();
  Setup setup;
  auto [lab, cluster, run, leader] = setup.parts();
  const size_t follower = (*leader + 1) % kMembers;
  lab.cut(*leader, follower);
  CHECK(run.progressed(kAcksDuringFault * 3));
  lab.heal_all();
  run.finish("one-way loss");
}

TEST_CASE("partition: a bridge member sees both halves, which cannot see each other", "[fault][partition]") {
  REQUIRE_NETNS();
  Setup setup;
  auto [lab, cluster, run, leader] = setup.parts();
  // The two that are not the leader's successor in index order lose each
  // other; the third bridges them.
  const size_t bridge = (*leader + 1) % kMembers;
  const size_t a = (bridge + 1) % kMembers;
  const size_t b = (bridge + 2) % kMembers;
  lab.cut(a, b);
  lab.cut(b, a);
  CHECK(run.progressed(kAcksDuringFault * 3));
  lab.heal_all();
  run.finish("bridge");
}

TEST_CASE("partition: the leader's link flaps", "[fault][partition]") {
  REQUIRE_NETNS();
  Setup setup;
  auto [lab, cluster, run, first_leader] = setup.parts();
  for (int flap = 0; flap < 5; ++flap) {
    auto leader = cluster.wait_for_leader(kProgressTimeout);
    if (!leader) leader = 0;  // mid-election: flap member 0
    lab.link_down(*leader);
    std::this_thread::sleep_for(400ms);  // the fault's length, not a wait for a result
    lab.link_up(*leader);
    std::this_thread::sleep_for(400ms);
  }
  lab.heal_all();
  run.finish("flapping link");
}

TEST_CASE("partition: seeded rounds of random partitions", "[fault][partition]") {
  REQUIRE_NETNS();
  const char* rounds_env = std::getenv("CORRAL_PARTITION_ROUNDS");
  const char* seed_env = std::getenv("CORRAL_PARTITION_SEED");
  const int rounds = rounds_env ? std::max(1, std::atoi(rounds_env)) : 3;
  const unsigned seed = seed_env ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10)) : 1;
  std::mt19937 rng(seed);
  Setup setup;
  auto [lab, cluster, run, first_leader] = setup.parts();
  std::string history;
  for (int round = 0; round < rounds; ++round) {
    auto leader = leader_among(cluster, {0, 1, 2}, 0, kHealTimeout);
    REQUIRE(leader);
    const size_t other = (*leader + 1 + rng() % (kMembers - 1)) % kMembers;
    switch (rng() % 4) {
      case 0: lab.isolate(*leader); history += " isolate-leader"; break;
      case 1: lab.isolate(other); history += " isolate-follower"; break;
      case 2: lab.cut(*leader, other); history += " one-way"; break;
      default: lab.cut(other, *leader); lab.cut(*leader, other); history += " pair-cut"; break;
    }
    INFO("seed " << seed << ", rounds so far:" << history);
    // A majority is always connected: writes go on during the fault.
    CHECK(run.progressed(kAcksDuringFault));
    lab.heal_all();
  }
  INFO("seed " << seed << ", rounds:" << history);
  run.finish("seeded rounds seed " + std::to_string(seed));
}
