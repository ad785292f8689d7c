// Lease-based linearizable reads (corrald --read-lease) on real members:
//  - a leader cut off from both followers (each member in its own network
//    namespace, netns_lab.h) stops serving reads from its lease before the
//    others can elect a new leader: once a write through the new leader is
//    acknowledged, no read at the old leader returns the value before it;
//  - a leader paused (SIGSTOP) past its lease, which hears nothing from the
//    others for a while after SIGCONT, serves no read from its old lease;
//  - a mixed cluster (only the leader with the flag) falls back to
//    ReadIndex; a read a follower forwards is answered from the lease;
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
#include "tests/fault/delay_proxy.h"
#include "tests/fault/netns_lab.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/http_client.h"
#include "tests/integration/harness/metrics_text.h"
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

// What the readers saw around the moment `acked` when the new value was
// acknowledged: reads of "old" at the old leader (`before`), reads answered
// after that moment (by it or by `after`, readers started then), and how
// many of those still saw "old" (each a stale read).
struct ReadTally {
  size_t old_before = 0;
  size_t answered_after = 0;
  size_t stale = 0;
};

ReadTally tally_reads(ReadLoop& before, std::vector<std::unique_ptr<ReadLoop>>& after, SteadyClock::time_point acked) {
  ReadTally t;
  for (const ReadRecord& r : before.records()) {
    if (r.value == std::string("old")) ++t.old_before;
    if (r.sent > acked && r.value) ++t.answered_after;
    if (r.sent > acked && r.value == std::string("old")) ++t.stale;
  }
  for (auto& a : after) {
    for (const ReadRecord& r : a->records()) {
      if (r.value) ++t.answered_after;
      if (r.value == std::string("old")) ++t.stale;
    }
  }
  return t;
}

// Stops the readers, then demands that none read "old" after `acked` and
// that the old leader served enough reads of it before (so the case tested
// something). `what` names the fault in the printed tally.
void stop_and_check_no_stale_read(ReadLoop& before, std::vector<std::unique_ptr<ReadLoop>>& after,
                                  SteadyClock::time_point acked, const char* what) {
  for (auto& a : after) a->stop();
  before.stop();
  const ReadTally t = tally_reads(before, after, acked);
  std::printf("lease reads, %s: %zu reads of the old value at the old leader, %zu answered after the new write was "
              "acknowledged, %zu of them stale\n",
              what, t.old_before, t.answered_after, t.stale);
  CHECK(t.old_before >= 20);
  CHECK(t.stale == 0);
}

#define REQUIRE_NETNS()                                     \
  do {                                                      \
    const std::string why = NetnsLab::unavailable_reason(); \
    if (!why.empty()) {                                     \
      WARN("skipped: " << why);                             \
      return;                                               \
    }                                                       \
  } while (0)

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
  stop_and_check_no_stale_read(before, after, acked, "leader cut off");
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

namespace {

// A member's counter sample from /metrics (0 when absent or unanswered).
double metric_at(Cluster& cluster, size_t i, const std::string& series) {
  auto a = http_request(cluster.member(i).http_port, "GET", "/metrics", {}, {}, 3000ms);
  return a.status == 200 ? sample(a.body, series) : 0;
}

const std::string kLeaseReads = "corral_server_linearizable_reads_total{path=\"lease\"}";
const std::string kRoundReads = "corral_server_linearizable_reads_total{path=\"read_index\"}";
const std::string kForwardedReads = "corral_server_linearizable_reads_total{path=\"forwarded\"}";
const std::string kForwardedOnLease = "corral_server_forwarded_read_requests_total{path=\"lease\"}";
const std::string kForwardedByRound = "corral_server_forwarded_read_requests_total{path=\"read_index\"}";

// Makes member `target` the leader (a transfer when another leads).
bool lead_with(Cluster& cluster, size_t target) {
  auto leads = [&] {
    auto st = cluster.status(target);
    return st && st->leader == cluster.member_id(target);
  };
  for (int attempt = 0; attempt < 5 && !leads(); ++attempt) {
    auto c = cluster.client();
    (void)c->move_leader(cluster.member_id(target));
    wait_until(leads, 5000ms, 20ms);
  }
  return leads() && cluster.wait_for_leader(kProgressTimeout) == target;
}

}  // namespace

TEST_CASE("lease reads: only the leader with --read-lease: reads fall back to ReadIndex and stay linearizable",
          "[fault][lease_read]") {
  // n1 alone runs with the flag; its followers make no promise, so their
  // acknowledgements never back a lease (they may vote for another
  // candidate right after answering).
  constexpr size_t kFlagged = 0;
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  o.http = true;
  o.member_args = [](const std::string& name) {
    return std::vector<std::string>{"--read-lease", name == "n1" ? "true" : "false"};
  };
  Cluster cluster(o);
  cluster.start();
  REQUIRE(lead_with(cluster, kFlagged));
  CheckedRun run(cluster);
  REQUIRE(run.progressed(kAcksBeforeFault));
  // Linearizable reads of our own at the leader and through a follower.
  auto at_leader = cluster.client({cluster.endpoints().at(kFlagged)});
  auto at_follower = cluster.client({cluster.endpoints().at(1)});
  for (int i = 0; i < 50; ++i) {
    const std::string v = "v" + std::to_string(i);
    require_ok(at_leader->put("/mixed/k", v), "put");
    for (auto* c : {at_leader.get(), at_follower.get()}) {
      auto got = c->get("/mixed/k");
      REQUIRE(got.ok());
      REQUIRE(got->kvs.size() == 1);
      CHECK(got->kvs[0].value == v);
    }
  }
  CHECK(run.progressed(kAcksDuringFault));
  REQUIRE(cluster.wait_for_leader(kProgressTimeout) == kFlagged);  // still the flagged leader
  const double lease = metric_at(cluster, kFlagged, kLeaseReads);
  const double rounds = metric_at(cluster, kFlagged, kRoundReads);
  const double forwarded_lease = metric_at(cluster, kFlagged, kForwardedOnLease);
  const double forwarded_rounds = metric_at(cluster, kFlagged, kForwardedByRound);
  std::printf("mixed cluster, leader with --read-lease: reads at the leader by lease %.0f, by ReadIndex %.0f; "
              "forwarded by lease %.0f, by ReadIndex %.0f\n",
              lease, rounds, forwarded_lease, forwarded_rounds);
  CHECK(lease == 0);
  CHECK(forwarded_lease == 0);
  CHECK(rounds >= 50);
  CHECK(forwarded_rounds >= 1);
  run.finish("lease reads, only the leader with the flag");
}

TEST_CASE("lease reads: a read a follower forwards is answered from the leader's lease", "[fault][lease_read]") {
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  o.extra_args = {"--read-lease", "true"};
  o.http = true;
  // corrald's default timing: a 180 ms lease renewed every 100 ms, so that
  // a loaded machine seldom lets it lapse between two heartbeats.
  o.tick_ms = 100;
  Cluster cluster(o);
  const size_t leader = cluster.start_with_leader();
  const size_t follower = (leader + 1) % kMembers;
  auto writer = cluster.client({cluster.endpoints().at(leader)});
  auto reader = cluster.client({cluster.endpoints().at(follower)});
  for (int i = 0; i < 100; ++i) {
    const std::string v = "v" + std::to_string(i);
    require_ok(writer->put("/fwd/k", v), "put");
    auto got = reader->get("/fwd/k");  // linearizable: it sees the put just acknowledged
    REQUIRE(got.ok());
    REQUIRE(got->kvs.size() == 1);
    CHECK(got->kvs[0].value == v);
  }
  REQUIRE(cluster.wait_for_leader(kProgressTimeout) == leader);
  const double on_lease = metric_at(cluster, leader, kForwardedOnLease);
  const double by_round = metric_at(cluster, leader, kForwardedByRound);
  const double forwarded = metric_at(cluster, follower, kForwardedReads);
  std::printf("forwarded reads: %.0f at the follower; the leader answered %.0f from its lease, %.0f by ReadIndex\n",
              forwarded, on_lease, by_round);
  CHECK(forwarded >= 100);
  // A lease lapsed between heartbeats (a starved loop) sends some by ReadIndex.
  CHECK(on_lease >= 50);
  CHECK(on_lease + by_round >= 100);
  CHECK(metric_at(cluster, follower, kRoundReads) == 0);
}

// The classic lease hazard: a leader stopped (SIGSTOP, a long GC pause, a
// VM migration) wakes up still believing it leads. Its inbound peer
// traffic is held 3 s after it resumes (a delay proxy), so it hears nothing
// of the new leader; its check-quorum step-down comes ~1 s later (a 10x
// longer election timeout than the others'): in between, only the clock
// can tell it that its lease has run out.
TEST_CASE("lease reads: a leader paused past its lease serves nothing stale when it wakes", "[fault][lease_read]") {
  ClusterOptions o;
  o.members = static_cast<int>(kMembers);
  o.extra_args = {"--read-lease", "true"};
  o.peer_proxies = true;
  auto fast = std::make_shared<std::set<std::string>>();
  o.election_ticks = kSlowElectionTicks;
  o.member_args = [fast](const std::string& name) {
    return fast->count(name) ? std::vector<std::string>{"--election-ticks", std::to_string(kFastElectionTicks)}
                             : std::vector<std::string>{};
  };
  Cluster cluster(o);
  std::vector<std::unique_ptr<DelayProxy>> proxies;  // after cluster: gone before its members stop
  for (size_t i = 0; i < kMembers; ++i) {
    const MemberSlot& m = cluster.member(i);
    proxies.push_back(std::make_unique<DelayProxy>(m.advertised_peer_port, m.peer_port, 2000 + i));
  }
  const size_t leader = cluster.start_with_leader();
  const uint64_t old_id = cluster.member_id(leader);
  std::vector<size_t> others;
  for (size_t i = 0; i < kMembers; ++i) {
    if (i == leader) continue;
    others.push_back(i);
    fast->insert(cluster.member(i).name);
    cluster.signal_member(i, SIGTERM);
    cluster.start_member(i);
    REQUIRE(cluster.wait_for_leader(kProgressTimeout) == leader);
  }
  auto writer = cluster.client();
  require_ok(writer->put("/pause/k", "old"), "put old");
  ReadLoop before(cluster, leader, "/pause/k", 100'000);
  REQUIRE(wait_until([&] { return before.records().size() >= 20; }, kProgressTimeout));

  cluster.pause_member(leader);
  proxies[leader]->set_delay(3000ms, 0ms);
  auto next = leader_among(cluster, others, old_id, kProgressTimeout);
  REQUIRE(next);
  auto new_writer = cluster.client({cluster.endpoints().at(*next)});
  require_ok(new_writer->put("/pause/k", "new"), "put new through the new leader");
  const auto acked = SteadyClock::now();
  // Readers of the stopped leader from now on, through its wake-up.
  std::vector<std::unique_ptr<ReadLoop>> after;
  for (int i = 0; i < 3; ++i) after.push_back(std::make_unique<ReadLoop>(cluster, leader, "/pause/k", 100'000));
  std::this_thread::sleep_for(100ms);  // the fault's shape, not a wait for a result
  cluster.resume_member(leader);
  proxies[leader]->set_delay(0ms, 0ms);  // chunks already held keep their 3 s
  REQUIRE(wait_until(
      [&] {
        auto st = cluster.status(leader);
        return st && st->leader != old_id && st->leader != 0;
      },
      kProgressTimeout, 20ms));
  stop_and_check_no_stale_read(before, after, acked, "leader paused");
}
