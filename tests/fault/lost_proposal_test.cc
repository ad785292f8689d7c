// A write whose entry a deposed leader appended but never committed
// (server/proposal_positions.h): once the newer leader's entry commits at
// that index, the old leader answers "not leader" at once (nothing was
// applied), so the client sends the write again to the new leader and it
// goes through, instead of waiting for the member's request timeout (7 s)
// and hearing "outcome unknown".
//
// The sequence, on real processes: the followers are killed, a put reaches
// the leader and is appended there only; the leader is paused (its queued
// appends cannot leave), the followers restarted and one of them elected
// (it never saw the put); the old leader resumed. Elections of 1 s keep
// the leader from stepping down (CheckQuorum) before the put reaches it.
// Without the fix the put fails with kTimeout.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <future>
#include <string>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

TEST_CASE("a write appended only by a leader that was then deposed goes through on the new leader",
          "[fault][lost_proposal]") {
  ClusterOptions options;
  options.election_ticks = 100;  // 1 s
  Cluster cluster(options);
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const uint64_t old_leader_id = cluster.member_id(*leader);
  // Every endpoint, the leader first; the call takes an election and a
  // retry, well below this timeout (the member's own is 7 s).
  std::vector<std::string> eps = {cluster.member(*leader).client_url()};
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != *leader) eps.push_back(cluster.member(i).client_url());
  }
  auto c = cluster.client(eps, 20000ms);
  require_ok(c->put("/lost/warm", "1"), "put through the leader");
  auto before = cluster.status(*leader);
  REQUIRE(before);

  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != *leader) cluster.signal_member(i, SIGKILL);
  }
  auto put = std::async(std::launch::async, [&] { return c->put("/lost/key", "v"); });
  // The leader appended it (its last index moved); the followers are gone.
  REQUIRE(wait_until([&] {
    auto st = cluster.status(*leader);
    return st && st->raft_index > before->raft_index;
  }, 5000ms, 5ms));
  cluster.pause_member(*leader);
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != *leader) cluster.start_member(i);
  }
  auto next = cluster.wait_for_leader(10000ms, old_leader_id);
  REQUIRE(next);
  REQUIRE(*next != *leader);
  cluster.resume_member(*leader);

  REQUIRE(put.wait_for(30s) == std::future_status::ready);
  auto r = put.get();
  INFO((r.ok() ? std::string() : r.error().message));
  CHECK(r.ok());
  auto got = require_ok(c->get("/lost/key"), "read back");
  REQUIRE(got.kvs.size() == 1);
  CHECK(got.kvs[0].value == "v");
  CHECK(got.kvs[0].version == 1);  // applied once
}
