// Lease-based linearizable reads (corrald --read-lease) on real members:
//  - a leader cut off from both followers (each member in its own network
//    namespace, netns_lab.h) stops serving reads from its lease before the
//    others can elect a new leader: once a write through the new leader is
//    acknowledged, no read at the old leader returns the value before it;
//  - under the checked loads (linearizable put/get history, a register that
//    never goes back, no lost write), a kill -9 of the leader and its
//    restart; and the leader's reads did go by the lease (/metrics).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fault/checked_run.h"
#include "tests/fault/netns_lab.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::fault;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMembers = 3;
constexpr int kSlowElectionTicks = 100;  // of the harness's 10 ms ticks
constexpr int kFastElectionTicks = 10;
using SteadyClock = std::chrono::steady_clock;

// One read at the old leader: when it was sent and answered, and what it saw.
struct ReadRecord {
  SteadyClock::time_point sent;
  SteadyClock::time_point answered;
  std::optional<std::string> value;  // nullopt: an error (unavailable, timeout, not leader)
};

// Reads `key` at one member in a loop until stopped (bounded by `max_reads`).
class ReadLoop {
 public:
  ReadLoop(Cluster& cluster, size_t member, std::string key, size_t max_reads)
      : client_(cluster.client({cluster.endpoints().at(member)}, 3000ms)),
        key_(std::move(key)),
        thread_([this, max_reads] {
          for (size_t i = 0; i < max_reads && !stop_.load(); ++i) {
            ReadRecord r;
            r.sent = SteadyClock::now();
            auto got = client_->get(key_);
            r.answered = SteadyClock::now();
            if (got.ok() && !got->kvs.empty()) r.value = got->kvs[0].value;
            std::lock_guard lock(mu_);
            records_.push_back(std::move(r));
          }
        }) {}
  ~ReadLoop() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<ReadRecord> records() {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  std::unique_ptr<corral::client::Client> client_;
  std::string key_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<ReadRecord> records_;
  std::thread thread_;  // last: starts once the rest exists
};

#define REQUIRE_NETNS()                                     \
  do {                                                      \
    const std::string why = NetnsLab::unavailable_reason(); \
    if (!why.empty()) {                                     \
      WARN("skipped: " << why);                             \
      return;                                               \
    }                                                       \
  } while (0)

double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

}  // namespace

TEST_CASE("lease reads: a leader cut off from both followers never serves a value the new leader overwrote",
          "[fault][lease_read]") {
  REQUIRE_NETNS();
  NetnsLab lab(kMembers);
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  o.extra_args = {"--read-lease", "true"};
  for (size_t i = 0; i < kMembers; ++i) {
    o.member_hosts.push_back(lab.host(i));
    o.member_launchers.push_back(lab.launcher(i));
  }
  // The danger is a new leader that commits while the old one still thinks
  // it leads: the old leader keeps a 10x longer election timeout (so its
  // check-quorum step-down comes 1-2 s after the cut), the followers
  // campaign after 100-200 ms. Everyone starts slow; once the leader is
  // known, the others restart fast.
  auto fast = std::make_shared<std::set<std::string>>();
  o.election_ticks = kSlowElectionTicks;
  o.member_args = [fast](const std::string& name) {
    return fast->count(name) ? std::vector<std::string>{"--election-ticks", std::to_string(kFastElectionTicks)}
                             : std::vector<std::string>{};
  };
  Cluster cluster(o);
  cluster.start();
  auto leader = cluster.wait_for_leader(kProgressTimeout);
  REQUIRE(leader);
  const uint64_t old_id = cluster.member_id(*leader);
  for (size_t i = 0; i < kMembers; ++i) {
    if (i == *leader) continue;
    fast->insert(cluster.member(i).name);
    cluster.signal_member(i, SIGTERM);
    cluster.start_member(i);
    auto still = cluster.wait_for_leader(kProgressTimeout);
    REQUIRE(still);
    REQUIRE(*still == *leader);
  }
  auto writer = cluster.client();
  require_ok(writer->put("/lease/k", "old"), "put old");

  // Readers at the old leader: one in a loop through the cut, more started
  // right after the new value is acknowledged.
  ReadLoop before(cluster, *leader, "/lease/k", 100'000);
  REQUIRE(wait_until([&] { return before.records().size() >= 20; }, kProgressTimeout));
  lab.isolate(*leader);
  std::vector<size_t> others;
  for (size_t i = 0; i < kMembers; ++i) {
    if (i != *leader) others.push_back(i);
  }
  auto next = leader_among(cluster, others, old_id, kProgressTimeout);
  REQUIRE(next);
  auto new_writer = cluster.client({cluster.endpoints().at(*next)});
  require_ok(new_writer->put("/lease/k", "new"), "put new through the new leader");
  const auto acked = SteadyClock::now();
  std::vector<std::unique_ptr<ReadLoop>> after;
  for (int i = 0; i < 3; ++i) after.push_back(std::make_unique<ReadLoop>(cluster, *leader, "/lease/k", 3));
  // Long enough for the old leader to step down (check-quorum) and for
  // the readers' requests to end in an error or a redirect.
  REQUIRE(wait_until(
      [&] {
        auto st = cluster.status(*leader);
        return st && st->leader != old_id;
      },
      kProgressTimeout, 20ms));
  for (auto& a : after) a->stop();
  before.stop();

  size_t old_served = 0, stale = 0, served_after = 0;
  for (const ReadRecord& r : before.records()) {
    if (r.value == std::string("old")) ++old_served;
    // Sent after the new value was acknowledged: never the old one.
    if (r.sent > acked && r.value == std::string("old")) ++stale;
  }
  for (auto& a : after) {
    for (const ReadRecord& r : a->records()) {
      if (r.value) ++served_after;
      if (r.value == std::string("old")) ++stale;
    }
  }
  std::printf("lease reads, leader cut off: %zu reads of the old value at the old leader, %zu answered after the new "
              "write was acknowledged, %zu of them stale\n",
              old_served, served_after, stale);
  CHECK(old_served >= 20);
  CHECK(stale == 0);
  lab.heal_all();
}

TEST_CASE("lease reads: linearizable across kill -9 of the leader, and served by the lease",
          "[fault][lease_read]") {
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  o.extra_args = {"--read-lease", "true"};
  o.http = true;
  Cluster cluster(o);
  cluster.start();
  CheckedRun run(cluster);
  REQUIRE(run.progressed(kAcksBeforeFault));
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const uint64_t old_id = cluster.member_id(*leader);
  const std::string series = "corral_server_linearizable_reads_total{path=\"lease\"}";
  // The loads' linearizable reads go to the leader, by its lease.
  CHECK(wait_until(
      [&] {
        auto a = http_request(cluster.member(*leader).http_port, "GET", "/metrics", {}, {}, 3000ms);
        return a.status == 200 && sample(a.body, series) > 0;
      },
      kProgressTimeout, 100ms));
  cluster.signal_member(*leader, SIGKILL);
  auto next = cluster.wait_for_leader(kProgressTimeout, old_id);
  REQUIRE(next);
  CHECK(run.progressed(kAcksDuringFault));
  cluster.start_member(*leader);
  CHECK(run.progressed(kAcksDuringFault));
  run.finish("lease reads, leader killed");
}
