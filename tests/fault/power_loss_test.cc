// Power loss of a real corrald under write load, through the storage
// engine's fault file system (coordinator/storage/fault_fs.h):
// CORRAL_FAULT_FS=power-cut-after-ms:N makes the member, N ms after it opens
// its data dir, cut every file it wrote back to its last synced size and
// exit at once, as a machine whose page cache is lost. N varies by round
// (CORRAL_POWER_SEED), with snapshots every few hundred entries, so the cuts
// land in log appends, unlogged apply batches, the snapshot flush and the
// log compaction that follows it.
//
// Proves: after every cut a member restarts from what was synced, with
// every write it acknowledged (one member: nothing else holds them) and,
// in a cluster, the same key-space hash as its peers at one revision.
// Does not prove: anything about directory entries (not modelled: a file
// created or renamed but never dir-synced is kept), torn sectors, or the
// server's own files outside RocksDB; which phase a cut hit is not recorded.
// Rounds: CORRAL_POWER_ROUNDS (default 3 per case).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "coordinator/storage/fault_fs.h"
#include "tests/fault/workload.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::fault;
using namespace std::chrono_literals;

namespace {

constexpr int kDefaultRounds = 3;
constexpr auto kCutTimeout = 30000ms;
constexpr auto kCatchUpTimeout = 30000ms;
constexpr uint64_t kMinCutMs = 900;
constexpr uint64_t kCutSpreadMs = 2500;
constexpr int kMaxStartAttempts = 5;

uint64_t env_number(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

// When round `round` cuts the power, in ms after the open.
uint64_t cut_after_ms(uint64_t seed, int round) {
  uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(round) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  return kMinCutMs + x % kCutSpreadMs;
}

void arm_power_cut(MemberSlot& slot, uint64_t after_ms) {
  slot.launcher = {"/usr/bin/env",
                   std::string(corral::storage::kFaultFsEnv) + "=power-cut-after-ms:" + std::to_string(after_ms)};
}

// Starts member i; a cut before its ready line is a round too (the power
// went during recovery): it starts again, armed with a later cut.
void start_through_cuts(Cluster& cluster, size_t i, uint64_t after_ms) {
  for (int attempt = 0; attempt < kMaxStartAttempts; ++attempt) {
    arm_power_cut(cluster.member(i), after_ms * static_cast<uint64_t>(attempt + 1));
    try {
      cluster.start_member(i);
      return;
    } catch (const std::runtime_error& e) {
      const std::string why = e.what();
      INFO(why);
      REQUIRE(why.find("exited with status " + std::to_string(corral::storage::kPowerCutExitCode)) !=
              std::string::npos);
      cluster.member(i).process = Process();
    }
  }
  FAIL("member did not come up through its power cuts");
}

// Waits for the cut; the exit must be the cut's, not a crash of corrald.
void wait_for_cut(Cluster& cluster, size_t i) {
  REQUIRE(wait_until([&] { return cluster.member(i).process.poll().has_value(); }, kCutTimeout));
  const int status = *cluster.member(i).process.poll();
  const std::string log = cluster.log_of(i);
  INFO("log tail: " << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  REQUIRE(status == corral::storage::kPowerCutExitCode);
  cluster.member(i).process = Process();
}

void start_clean(Cluster& cluster, size_t i) {
  cluster.member(i).launcher.clear();
  cluster.start_member(i);
}

void check_no_loss(corral::client::Client& c, const std::vector<WriteOutcome>& outcomes, const char* name) {
  WriteCheck check = check_writes(c, "/power/", outcomes);
  INFO(name << ": lost " << check.lost << ", duplicated " << check.duplicated << ", phantom " << check.phantom);
  if (!check.lost_keys.empty()) INFO("first lost key: " << check.lost_keys.front());
  CHECK(check.lost == 0);
  CHECK(check.duplicated == 0);
  CHECK(check.phantom == 0);
}

}  // namespace

TEST_CASE("power loss of a single member under load: every acknowledged write survives each cut",
          "[fault][power]") {
  const int rounds = static_cast<int>(env_number("CORRAL_POWER_ROUNDS", kDefaultRounds));
  const uint64_t seed = env_number("CORRAL_POWER_SEED", 1);
  Cluster cluster(ClusterOptions{.members = 1, .snapshot_count = 300, .snapshot_catchup_entries = 50});
  cluster.start();
  cluster.member(0).process.kill_and_wait();
  cluster.member(0).process = Process();

  std::vector<WriteOutcome> all;
  size_t acked = 0;
  for (int round = 0; round < rounds; ++round) {
    const uint64_t after = cut_after_ms(seed, round);
    INFO("round " << round << ", cut after " << after << " ms (CORRAL_POWER_SEED=" << seed << ")");
    start_through_cuts(cluster, 0, after);
    WriteLoad load(cluster, WriteLoadOptions{.prefix = "/power/r" + std::to_string(round) + "/",
                                             .threads = 4,
                                             .writes_per_thread = 100'000,
                                             .max_duration = 60'000ms,
                                             .request_timeout = 1'000ms});
    load.start();
    wait_for_cut(cluster, 0);
    load.stop();
    acked += load.acked();
    all.insert(all.end(), load.outcomes().begin(), load.outcomes().end());
  }
  start_clean(cluster, 0);
  std::printf("power loss, one member: %d rounds, %zu writes acknowledged before the cuts\n", rounds, acked);
  CHECK(acked > 0);
  auto c = cluster.client();
  check_no_loss(*c, all, "single member");
}

TEST_CASE("power loss of one member of three under load: it comes back with its peers' state",
          "[fault][power]") {
  const int rounds = static_cast<int>(env_number("CORRAL_POWER_ROUNDS", kDefaultRounds));
  const uint64_t seed = env_number("CORRAL_POWER_SEED", 1);
  constexpr size_t kVictim = 2;
  Cluster cluster(ClusterOptions{.snapshot_count = 300, .snapshot_catchup_entries = 50});
  cluster.start();
  WriteLoad load(cluster, WriteLoadOptions{.prefix = "/power/",
                                           .threads = 4,
                                           .writes_per_thread = 100'000,
                                           .max_duration = 120'000ms,
                                           .request_timeout = 2'000ms});
  load.start();
  cluster.member(kVictim).process.kill_and_wait();
  cluster.member(kVictim).process = Process();
  for (int round = 0; round < rounds; ++round) {
    const uint64_t after = cut_after_ms(seed, round);
    INFO("round " << round << ", cut after " << after << " ms (CORRAL_POWER_SEED=" << seed << ")");
    start_through_cuts(cluster, kVictim, after);
    wait_for_cut(cluster, kVictim);
  }
  start_clean(cluster, kVictim);
  load.stop();
  auto c = cluster.client();
  require_ok(c->put("/power-done", "1"), "marker");
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  auto st = cluster.status(*leader);
  REQUIRE(st);
  for (size_t i = 0; i < cluster.size(); ++i) REQUIRE(cluster.wait_applied(i, st->raft_applied_index, kCatchUpTimeout));
  std::printf("power loss, one member of three: %d rounds, %zu writes acknowledged\n", rounds, load.acked());
  CHECK(load.acked() > 0);
  check_no_loss(*c, load.outcomes(), "one of three");
  // One revision, every member: the same key space.
  auto marker = require_ok(c->get("/power-done"), "marker read");
  const int64_t revision = marker.header.revision;
  std::set<uint64_t> hashes;
  for (const std::string& ep : cluster.endpoints()) {
    hashes.insert(require_ok(c->hash_kv_of(ep, revision), "hashkv").hash);
  }
  CHECK(hashes.size() == 1);
}
