// kill -9 right after acknowledged writes, then restart from the data dirs:
// apply batches are written without RocksDB's WAL (the raft log is the
// durable record), so a restarted member rebuilds what its last flush did
// not keep by replaying its own log. Small snapshot intervals make every
// round also flush and compact the log, so a compaction past the durably
// applied index (entries a restart needs) would show up here as a member
// that fails to start, misses keys or counts other revisions.
#include <catch2/catch.hpp>

#include <signal.h>

#include <string>
#include <vector>

#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

constexpr int kRounds = 4;
constexpr int kWritesPerRound = 150;
constexpr auto kRecoverTimeout = 30000ms;

std::string value_for(const std::string& key) { return "v-" + key; }

// Member i's own view (serializable: no leader, no forwarding).
std::optional<RangeResult> local_view(Cluster& cluster, size_t i) {
  auto c = cluster.client({cluster.member(i).client_url()}, 1000ms);
  RangeRequest q;
  q.key = "/crash/";
  q.range_end = prefix_range_end("/crash/");
  q.serializable = true;
  auto r = c->range(q);
  if (!r.ok()) return std::nullopt;
  return std::move(r).value();
}

// Every member holds exactly the acknowledged keys with their values, and
// all report the same revision. `why` says what differs when not.
bool members_agree(Cluster& cluster, const std::vector<std::string>& acked, std::string& why) {
  int64_t revision = -1;
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto view = local_view(cluster, i);
    if (!view) {
      why = "member " + std::to_string(i) + " does not answer";
      return false;
    }
    if (view->count != static_cast<int64_t>(acked.size())) {
      why = "member " + std::to_string(i) + " has " + std::to_string(view->count) + " keys, " +
            std::to_string(acked.size()) + " acknowledged";
      return false;
    }
    for (const auto& kv : view->kvs) {
      if (kv.value != value_for(kv.key)) {
        why = "member " + std::to_string(i) + " has " + kv.key + " = " + kv.value;
        return false;
      }
    }
    if (revision >= 0 && view->header.revision != revision) {
      why = "member " + std::to_string(i) + " is at revision " + std::to_string(view->header.revision) +
            ", member 0 at " + std::to_string(revision);
      return false;
    }
    revision = view->header.revision;
  }
  return true;
}

}  // namespace

TEST_CASE("kill -9 right after acknowledged writes: restarted members have every write and one revision",
          "[fault][recovery]") {
  ClusterOptions options;
  options.snapshot_count = 40;
  options.snapshot_catchup_entries = 10;
  Cluster cluster(options);
  cluster.start();
  std::vector<std::string> acked;
  for (int round = 0; round < kRounds; ++round) {
    auto leader = cluster.wait_for_leader();
    REQUIRE(leader);
    {
      auto c = cluster.client();
      for (int i = 0; i < kWritesPerRound; ++i) {
        std::string key = "/crash/r" + std::to_string(round) + "/" + std::to_string(i);
        require_ok(c->put(key, value_for(key)), "put");
        acked.push_back(key);
      }
    }
    // Even rounds: the leader alone (it acknowledged the writes; the others
    // keep serving). Odd rounds: every member at once, so no member's memory
    // survives and every one recovers from its own disk.
    std::vector<size_t> victims;
    if (round % 2 == 0) {
      victims.push_back(*leader);
    } else {
      for (size_t i = 0; i < cluster.size(); ++i) victims.push_back(i);
    }
    for (size_t v : victims) CHECK(cluster.signal_member(v, SIGKILL) == 128 + SIGKILL);
    for (size_t v : victims) cluster.start_member(v);
    REQUIRE(cluster.wait_for_leader());
    std::string why;
    bool agree = wait_until([&] { return members_agree(cluster, acked, why); }, kRecoverTimeout, 50ms);
    INFO("round " << round << ": " << why);
    CHECK(agree);
  }
  // The log was compacted along the way (snapshots every 40 entries).
  bool snapshotted = false;
  for (size_t i = 0; i < cluster.size(); ++i) {
    snapshotted = snapshotted || cluster.log_of(i).find("snapshot at index") != std::string::npos;
  }
  CHECK(snapshotted);
}
