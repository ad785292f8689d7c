// Leases across a leader kill: a lease kept alive survives the failover, an
// unrefreshed lease is never expired early by the new leader (it extends
// every remaining TTL) and never lives forever: it expires, its key is
// deleted and a watch sees the delete.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <mutex>

#include "client/lease_keeper.h"
#include "tests/fault/workload.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::fault;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kTtlSeconds = 4;
// A deleted key must show up within the TTL plus this (election, expiry scan).
constexpr auto kExpirySlack = 10000ms;

// True if `key` exists on every read until `until`; false at the first miss.
bool present_until(Client& c, const std::string& key, Clock::time_point until, std::string& why) {
  while (Clock::now() < until) {
    auto r = c.get(key);
    if (r.ok() && r->kvs.empty()) {
      why = key + " gone " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count()) +
            " ms before its deadline";
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

}  // namespace

TEST_CASE("leases across a leader kill: kept alive survives, unrefreshed expires on time", "[fault][lease]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  const uint64_t old_leader_id = cluster.member_id(*leader);
  auto c = cluster.client({}, 3000ms);

  EventLog deletes;
  WatchOptions w;
  w.key = "/lease/";
  w.range_end = prefix_range_end("/lease/");
  w.no_put = true;
  WatchHandle h = c->watch(w, deletes.callback());

  auto kept = require_ok(c->lease_grant(kTtlSeconds), "grant kept");
  auto loose = require_ok(c->lease_grant(kTtlSeconds), "grant loose");
  const auto granted_at = Clock::now();
  require_ok(c->put("/lease/kept", "k", kept.id), "put kept");
  require_ok(c->put("/lease/loose", "l", loose.id), "put loose");
  std::atomic<int> lost{0};
  LeaseKeeper keeper(*c, [&](int64_t, const Error&) { lost.fetch_add(1); });
  REQUIRE(keeper.add(kept.id, kept.ttl_seconds).ok());

  cluster.signal_member(*leader, SIGKILL);
  REQUIRE(cluster.wait_for_leader(kLeaderTimeoutMs, old_leader_id));
  // Not early: the unrefreshed lease lives at least its TTL from the grant.
  std::string why;
  CHECK(present_until(*c, "/lease/loose", granted_at + std::chrono::seconds(loose.ttl_seconds) - 200ms, why));
  INFO(why);
  // Not forever: it goes within the TTL plus slack, in one delete event.
  CHECK(wait_until([&] {
    auto r = c->get("/lease/loose");
    return r.ok() && r->kvs.empty();
  }, std::chrono::seconds(loose.ttl_seconds) + kExpirySlack));
  CHECK(wait_until([&] { return deletes.size() >= 1; }, kExpirySlack));
  // The kept lease outlived two of its TTLs through the failover.
  CHECK(present_until(*c, "/lease/kept", granted_at + std::chrono::seconds(2 * kept.ttl_seconds), why));
  CHECK(lost.load() == 0);
  auto ttl = require_ok(c->lease_ttl(kept.id), "ttl kept");
  CHECK(ttl.ttl_seconds > 0);
  keeper.remove(kept.id);
  h.cancel();
  std::lock_guard lock(deletes.mu);
  REQUIRE(deletes.events.size() == 1);
  CHECK(deletes.events[0].kv.key == "/lease/loose");
  CHECK(deletes.events[0].type == WatchEvent::Type::kDelete);
}
