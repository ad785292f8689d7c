// A follower installs a large received snapshot off its loop thread
// (server/snapshot_installer.h). On the loop the install of ~129 MB took
// seconds (15.7 s at load 20) with no heartbeat answered: with the third
// member down the leader lost its quorum for that time. Here:
//  - with only the leader and the installing follower up, the leader keeps
//    its term, every write started during the install is acknowledged, and
//    the follower's loop never takes a long turn;
//  - a follower killed (-9) in the middle of an install comes back with a
//    consistent state (the install finished from its intent file) and
//    catches up: its key-space hash equals the leader's.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "client/client.h"
#include "tests/integration/harness/bulk_fill.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral;
using namespace corral::integration;
using namespace std::chrono_literals;

namespace {

constexpr int kTickMs = 50;
constexpr int kElectionTicks = 10;  // a 500 ms election timeout
constexpr size_t kValueBytes = 512 * 1024;
constexpr size_t kBulkInFlight = 8;
constexpr std::chrono::seconds kBulkTimeout{180};
constexpr std::chrono::seconds kCatchupTimeout{120};
// No turn of the installing follower may take this long (a healthy turn
// takes a few ms; on main the install is one turn: 662-735 ms here at load
// ~6, longer under load). The follower also persists the leader's backlog
// after the snapshot while its state loads: with snapshots every 50
// entries (~24 MB of 512 KiB entries) that took turns of 267-580 ms at load
// 13-17, so the leader here snapshots every 10 (a backlog of ~5 MB).
constexpr uint64_t kMaxFollowerTurnMicros = 400'000;

ClusterOptions options() {
  ClusterOptions o;
  o.tick_ms = kTickMs;
  o.election_ticks = kElectionTicks;
  o.snapshot_count = 10;
  o.snapshot_catchup_entries = 5;
  return o;
}

// Puts `keys` values of kValueBytes (harness/bulk_fill.h).
void fill(Cluster& c, int keys) { fill_bulk(c, keys, kValueBytes, kBulkInFlight, kBulkTimeout); }

// From the follower's "installed snapshot ... (longest loop turn meanwhile
// X ms)" line: X, or nullopt when there is no such line (main's corrald
// installs on its loop and writes none).
std::optional<double> longest_turn_during_install_ms(const std::string& log) {
  const std::string marker = "longest loop turn meanwhile ";
  const auto at = log.find(marker);
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stod(log.substr(at + marker.size(), 16));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The running member other than `a` and `b`.
size_t third(size_t a, size_t b) {
  for (size_t i = 0; i < 3; ++i) {
    if (i != a && i != b) return i;
  }
  return 3;
}

std::string intent_of(Cluster& c, size_t i) { return c.member(i).data_dir + "/snapshot-install.intent"; }

// Starts the cluster and stops a follower (the one to fall behind); returns it.
size_t start_and_stop_a_follower(Cluster& c) {
  c.start();
  auto first = c.wait_for_leader();
  REQUIRE(first);
  const size_t lagging = (*first + 1) % c.size();
  REQUIRE(c.signal_member(lagging, SIGTERM) >= 0);
  return lagging;
}

}  // namespace

TEST_CASE("a follower installing a large snapshot keeps answering its leader", "[snapshot][loopstall]") {
  // 240 MiB of values, ~250 MB of image.
  Cluster c(options());
  const size_t lagging = start_and_stop_a_follower(c);
  // 240 MiB: the lagging member's next entry is long compacted, and on
  // main the install is a turn of 416 ms at 120 MiB on a quiet machine:
  // too close to the bound below.
  fill(c, 480);
  auto leader = c.wait_for_leader();
  REQUIRE(leader);
  const size_t other = third(*leader, lagging);
  auto before = c.status(*leader, 5000ms);
  REQUIRE(before);
  const uint64_t term = before->raft_term;
  const uint64_t target = before->raft_applied_index;

  // From here only the leader and the installing follower are up: the
  // leader keeps its quorum only if the follower keeps answering.
  // The follower hears from the leader (and so answers it) before the
  // third member goes: the leader's check-quorum then counts it from the
  // start, before the snapshot (built and streamed in seconds) arrives.
  c.start_member(lagging);
  const uint64_t leader_id = before->leader;
  REQUIRE(wait_until([&] {
    auto s = c.status(lagging);
    return s && s->leader == leader_id;
  }, 10s));
  REQUIRE(c.signal_member(other, SIGTERM) >= 0);

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> acknowledged{0};
  std::thread writer([&] {
    auto w = c.client();
    for (int i = 0; !stop.load() && i < 100'000; ++i) {
      if (w->put("/writer/" + std::to_string(i % 64), std::to_string(i)).ok()) {
        ++acknowledged;
      } else {
        ++failures;
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  const bool caught_up = c.wait_applied(lagging, target, kCatchupTimeout);
  // Writes after the install too, then stop.
  const int acked_at_catchup = acknowledged.load();
  const bool more = wait_until([&] { return acknowledged.load() >= acked_at_catchup + 10; }, 10s);
  stop = true;
  writer.join();
  REQUIRE(caught_up);

  auto after = c.status(*leader, 5000ms);
  auto follower = c.status(lagging, 5000ms);
  REQUIRE(after);
  REQUIRE(follower);
  INFO("leader log:\n" << c.log_of(*leader));
  INFO("follower log:\n" << c.log_of(lagging));
  CHECK(after->leader == before->leader);
  CHECK(after->raft_term == term);
  CHECK(more);
  CHECK(failures.load() == 0);
  // The follower's own account of its loop while the install ran (its
  // turns before it, receiving the chunks and catching up by log after, are
  // not what this case is about: tests/README.md, and they reached 400 ms
  // in a whole-suite run).
  // (Its log writer thread can lag the state read above: waited for.)
  std::optional<double> meanwhile;
  wait_until([&] { return (meanwhile = longest_turn_during_install_ms(c.log_of(lagging))).has_value(); }, 5s);
  REQUIRE(meanwhile);
  CHECK(*meanwhile * 1000 < kMaxFollowerTurnMicros);
}

TEST_CASE("a follower killed during a snapshot install comes back consistent and catches up",
          "[snapshot][crash]") {
  Cluster c(options());
  const size_t lagging = start_and_stop_a_follower(c);
  fill(c, 160);  // 80 MiB
  auto leader = c.wait_for_leader();
  REQUIRE(leader);

  c.start_member(lagging);
  // The intent is on disk: the install is under way, not committed.
  const std::string intent = intent_of(c, lagging);
  REQUIRE(wait_until([&] { return std::filesystem::exists(intent); }, kCatchupTimeout, 2ms));
  REQUIRE(c.signal_member(lagging, SIGKILL) >= 0);
  REQUIRE(std::filesystem::exists(intent));

  // The snapshot's index, from the leader's "sending snapshot at N" (the
  // follower's own line may not have left its log writer before the kill;
  // the leader's writer can lag too: waited for).
  const std::string sending = "sending snapshot at ";
  std::string log;
  REQUIRE(wait_until([&] { return (log = c.log_of(*leader)).find(sending) != std::string::npos; }, 5s));
  const uint64_t snapshot_index = std::stoull(log.substr(log.find(sending) + sending.size()));

  c.start_member(lagging);
  // Before it hears from anyone, the restarted member holds the whole
  // snapshot (finished from the intent), not its old state nor a mix.
  auto restarted = c.status(lagging, 5000ms);
  REQUIRE(restarted);
  CHECK(restarted->raft_applied_index >= snapshot_index);
  auto now = c.status(*leader, 5000ms);
  REQUIRE(now);
  REQUIRE(c.wait_applied(lagging, now->raft_applied_index, kCatchupTimeout));
  INFO("follower log:\n" << c.log_of(lagging));
  CHECK(c.log_of(lagging).find("finished the snapshot install at index") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(intent));

  // A write after the restart, then the same key space on both.
  auto cl = c.client();
  require_ok(cl->put("/after-restart", "x"), "put");
  auto led = c.status(*leader, 5000ms);
  REQUIRE(led);
  REQUIRE(c.wait_applied(lagging, led->raft_applied_index, kCatchupTimeout));
  const int64_t rev = require_ok(cl->hash_kv_of(c.member(*leader).client_url(), 0), "hashkv").hash_revision;
  const auto on_leader = require_ok(cl->hash_kv_of(c.member(*leader).client_url(), rev), "hashkv leader");
  const auto on_follower = require_ok(cl->hash_kv_of(c.member(lagging).client_url(), rev), "hashkv follower");
  CHECK(on_leader.hash == on_follower.hash);
  auto got = require_ok(cl->get("/bulk/159"), "get");
  CHECK(got.kvs.size() == 1);
}
