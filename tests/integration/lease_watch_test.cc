// Leases and watches across real processes: a lease's expiry deletes its keys
// in one revision and fires watch delete events; a watch from a past revision
// gets the history, then live events, with no gap and no duplicate.
#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

// Collects a watch's events on the client's I/O thread.
struct Recorder {
  std::mutex mu;
  std::vector<WatchEvent> events;
  std::vector<int64_t> batch_revisions;  // header revision of each event batch
  std::optional<Error> error;
  bool created = false;
  WatchCallback callback() {
    return [this](const WatchUpdate& u) {
      std::lock_guard lock(mu);
      if (u.error) error = u.error;
      if (u.created) created = true;
      if (!u.events.empty()) batch_revisions.push_back(u.revision);
      events.insert(events.end(), u.events.begin(), u.events.end());
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return events.size();
  }
  std::vector<WatchEvent> snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
};

}  // namespace

TEST_CASE("lease expiry deletes its keys and fires watch delete events", "[integration][lease]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  Recorder rec;
  WatchOptions w;
  w.key = "/leased/";
  w.range_end = prefix_range_end("/leased/");
  WatchHandle h = c->watch(w, rec.callback());
  REQUIRE(wait_until([&] { std::lock_guard l(rec.mu); return rec.created; }, 5000ms));

  auto lease = require_ok(c->lease_grant(2), "lease grant");
  REQUIRE(lease.id != 0);
  require_ok(c->put("/leased/a", "1", lease.id), "put a with lease");
  require_ok(c->put("/leased/b", "2", lease.id), "put b with lease");
  require_ok(c->put("/unleased", "3"), "put without lease");
  auto ttl = require_ok(c->lease_ttl(lease.id, true), "lease ttl");
  CHECK(ttl.granted_ttl_seconds == lease.ttl_seconds);
  CHECK(ttl.keys.size() == 2);

  // Two puts, then two deletes when the lease expires.
  const auto deadline = std::chrono::milliseconds((lease.ttl_seconds + 10) * 1000);
  REQUIRE(wait_until([&] { return rec.size() >= 4; }, deadline));
  auto events = rec.snapshot();
  REQUIRE(events.size() == 4);
  CHECK(events[0].type == WatchEvent::Type::kPut);
  CHECK(events[1].type == WatchEvent::Type::kPut);
  CHECK(events[2].type == WatchEvent::Type::kDelete);
  CHECK(events[3].type == WatchEvent::Type::kDelete);
  CHECK(events[2].kv.key == "/leased/a");
  CHECK(events[3].kv.key == "/leased/b");
  // One revision deletes every key of the lease.
  CHECK(events[2].kv.mod_revision == events[3].kv.mod_revision);
  CHECK(require_ok(c->get_prefix("/leased/"), "after expiry").kvs.empty());
  CHECK(require_ok(c->get("/unleased"), "unleased").kvs.size() == 1);
  auto after = require_ok(c->lease_ttl(lease.id), "ttl after expiry");
  CHECK(after.ttl_seconds == -1);
  std::lock_guard l(rec.mu);
  CHECK_FALSE(rec.error.has_value());
}

TEST_CASE("a watch from a past revision gets the history, then live events", "[integration][watch]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  constexpr int kHistoryPuts = 20;
  constexpr int kLivePuts = 20;
  std::vector<int64_t> revisions;
  for (int i = 0; i < kHistoryPuts; ++i) {
    revisions.push_back(require_ok(c->put("/hist/k" + std::to_string(i % 3), std::to_string(i)), "history put").header.revision);
  }
  require_ok(c->put("/other", "x"), "unrelated put");
  Recorder rec;
  WatchOptions w;
  w.key = "/hist/";
  w.range_end = prefix_range_end("/hist/");
  w.start_revision = revisions[0];
  WatchHandle h = c->watch(w, rec.callback());
  REQUIRE(wait_until([&] { return rec.size() >= kHistoryPuts; }, 10000ms));
  // Live events through another member's client.
  auto other = cluster.client({cluster.member(2).client_url()});
  for (int i = kHistoryPuts; i < kHistoryPuts + kLivePuts; ++i) {
    revisions.push_back(require_ok(other->put("/hist/k" + std::to_string(i % 3), std::to_string(i)), "live put").header.revision);
  }
  require_ok(other->del("/hist/k0"), "live delete");
  REQUIRE(wait_until([&] { return rec.size() >= kHistoryPuts + kLivePuts + 1; }, 10000ms));
  auto events = rec.snapshot();
  REQUIRE(events.size() == kHistoryPuts + kLivePuts + 1);
  for (int i = 0; i < kHistoryPuts + kLivePuts; ++i) {
    INFO("event " << i);
    CHECK(events[i].type == WatchEvent::Type::kPut);
    CHECK(events[i].kv.mod_revision == revisions[i]);
    CHECK(events[i].kv.value == std::to_string(i));
  }
  CHECK(events.back().type == WatchEvent::Type::kDelete);
  CHECK(events.back().kv.key == "/hist/k0");

  // From a compacted revision: a typed error carrying the compact revision.
  require_ok(c->compact(revisions[5]), "compact");
  Recorder late;
  w.start_revision = revisions[1];
  WatchHandle h2 = c->watch(w, late.callback());
  REQUIRE(wait_until([&] { std::lock_guard l(late.mu); return late.error.has_value(); }, 10000ms));
  std::lock_guard l(late.mu);
  CHECK(late.error->code == ErrorCode::kCompacted);
  // FINDINGS.md #2: the watch says compact + 1 where a range says compact.
  CHECK(late.error->compact_revision >= revisions[5]);
  CHECK(late.events.empty());
}

// FINDINGS.md #2 (fixed): after compact(R), a range below R and a watch from
// below R both report compact_revision R, the compaction point; a watch from
// R itself is served, as in etcd.
TEST_CASE("range and watch report the same compact revision", "[integration][watch]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto c = cluster.client();
  int64_t first = require_ok(c->put("/cr/k", "1"), "put").header.revision;
  int64_t point = require_ok(c->put("/cr/k", "2"), "put").header.revision;
  require_ok(c->put("/cr/k", "3"), "put");
  require_ok(c->compact(point), "compact");
  RangeRequest q;
  q.key = "/cr/k";
  q.revision = first;
  auto r = c->range(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().compact_revision == point);
  Recorder rec;
  WatchOptions w;
  w.key = "/cr/k";
  w.start_revision = first;
  WatchHandle h = c->watch(w, rec.callback());
  REQUIRE(wait_until([&] { std::lock_guard l(rec.mu); return rec.error.has_value(); }, 10000ms));
  {
    std::lock_guard l(rec.mu);
    CHECK(rec.error->code == ErrorCode::kCompacted);
    CHECK(rec.error->compact_revision == point);
  }

  // etcd's boundary: a watch from the compaction point itself is served,
  // the change at the point first (with its prev_kv, still known).
  Recorder at;
  w.start_revision = point;
  w.prev_kv = true;
  WatchHandle h2 = c->watch(w, at.callback());
  REQUIRE(wait_until([&] { return at.size() >= 2; }, 10000ms));
  auto events = at.snapshot();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kv.mod_revision == point);
  CHECK(events[0].kv.value == "2");
  CHECK(events[0].has_prev_kv);
  CHECK(events[0].prev_kv.value == "1");
  CHECK(events[1].kv.value == "3");
  std::lock_guard l(at.mu);
  CHECK_FALSE(at.error.has_value());
}
