// Leases under leader churn and a leader cut off from its quorum, on real
// processes (lease/lessor.h, server/lease_keepalives.h):
//  - leadership moved every few hundred ms: a lease nobody keeps alive still
//    expires within TTL + one election timeout (+ slack) of its grant, never
//    before its TTL; a lease kept alive through the same churn is never lost;
//  - a leader whose followers stopped answering renews no lease, though it
//    still believes it leads until CheckQuorum deposes it.
#include <catch2/catch.hpp>

#include <atomic>
#include <optional>
#include <string>

#include "client/client.h"
#include "client/lease_keeper.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kTtlSeconds = 3;
// The harness's election timeout: 10 ticks of 10 ms.
constexpr auto kElectionTimeout = 100ms;
// Expiry scan, apply, and this test's own polling on a shared machine.
constexpr auto kExpirySlack = 1500ms;
constexpr auto kMoveDeadline = 3000ms;
constexpr auto kPollEvery = 50ms;

int64_t ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

bool leads_within(Cluster& cluster, size_t target, std::chrono::milliseconds deadline) {
  return wait_until([&] {
    auto l = cluster.wait_for_leader(200ms);
    return l && *l == target;
  }, deadline, 10ms);
}

}  // namespace

TEST_CASE("leader churn: an unrefreshed lease expires on time, a kept-alive one is never lost",
          "[integration][lease]") {
  Cluster cluster(ClusterOptions{});
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  auto c = cluster.client({}, 3000ms);

  auto kept = require_ok(c->lease_grant(kTtlSeconds), "grant kept");
  const auto asked_at = Clock::now();
  auto loose = require_ok(c->lease_grant(kTtlSeconds), "grant loose");
  REQUIRE(loose.ttl_seconds == kTtlSeconds);
  require_ok(c->put("/churn/kept", "k", kept.id), "put kept");
  require_ok(c->put("/churn/loose", "l", loose.id), "put loose");
  std::atomic<int> lost{0};
  LeaseKeeper keeper(*c, [&](int64_t, const Error&) { lost.fetch_add(1); });
  REQUIRE(keeper.add(kept.id, kept.ttl_seconds).ok());

  // The loose lease was granted after asked_at: it may not go before
  // asked_at + TTL, and must go by its grant's answer + TTL + an election.
  const auto not_before = asked_at + std::chrono::seconds(kTtlSeconds);
  const auto due_by = Clock::now() + std::chrono::seconds(kTtlSeconds) + kElectionTimeout + kExpirySlack;
  // Churn on for two more TTLs to watch the kept lease.
  const auto churn_until = due_by + std::chrono::seconds(2 * kTtlSeconds);
  size_t current = *leader;
  int moves_before_due = 0;
  int moves = 0;
  std::optional<Clock::time_point> loose_gone_at;
  bool kept_gone = false;
  while (Clock::now() < churn_until) {
    const size_t target = (current + 1) % cluster.size();
    if (c->move_leader(cluster.member_id(target)).ok() && leads_within(cluster, target, kMoveDeadline)) {
      current = target;
      ++moves;
      if (Clock::now() < due_by) ++moves_before_due;
    }
    auto loose_now = c->get("/churn/loose");
    if (!loose_gone_at && loose_now.ok() && loose_now->kvs.empty()) loose_gone_at = Clock::now();
    auto kept_now = c->get("/churn/kept");
    if (kept_now.ok() && kept_now->kvs.empty()) kept_gone = true;
    std::this_thread::sleep_for(kPollEvery);
  }
  INFO("leadership moved " << moves << " times, " << moves_before_due << " before the loose lease was due");
  CHECK(moves_before_due >= 5);
  REQUIRE(loose_gone_at.has_value());
  INFO("loose lease gone " << ms_between(asked_at, *loose_gone_at) << " ms after its grant was asked");
  CHECK(*loose_gone_at >= not_before);
  CHECK(*loose_gone_at <= due_by);
  CHECK_FALSE(kept_gone);
  CHECK(lost.load() == 0);
  auto ttl = require_ok(c->lease_ttl(kept.id), "ttl of the kept lease");
  CHECK(ttl.ttl_seconds > 0);
  keeper.remove(kept.id);
}

TEST_CASE("a leader cut off from its quorum renews no lease", "[integration][lease]") {
  // A long election timeout (50 ticks of 10 ms) keeps the cut-off leader
  // believing it leads for 0.5-1 s before CheckQuorum deposes it: the window
  // in which a newer leader may already hold the leases.
  ClusterOptions options;
  options.election_ticks = 50;
  Cluster cluster(options);
  cluster.start();
  auto leader = cluster.wait_for_leader();
  REQUIRE(leader);
  auto c = cluster.client({}, 3000ms);
  auto lease = require_ok(c->lease_grant(10), "grant");
  auto direct = cluster.client({cluster.member(*leader).client_url()}, 300ms);
  auto healthy = require_ok(direct->lease_keepalive_once(lease.id), "keepalive while healthy");
  CHECK(healthy.ttl_seconds == 10);

  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != *leader) cluster.pause_member(i);
  }
  int renewed = 0;
  int refused = 0;
  const auto until = Clock::now() + 1500ms;
  while (Clock::now() < until) {
    auto r = direct->lease_keepalive_once(lease.id);
    if (r.ok() && r->ttl_seconds > 0) {
      ++renewed;
    } else {
      ++refused;
    }
  }
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (i != *leader) cluster.resume_member(i);
  }
  INFO(renewed << " keepalives renewed, " << refused << " refused or unanswered");
  CHECK(renewed == 0);
  CHECK(refused > 0);
  // Healed: keep-alives work again.
  REQUIRE(cluster.wait_for_leader());
  CHECK(wait_until([&] { return c->lease_keepalive_once(lease.id).ok(); }, 10000ms, 100ms));
}

TEST_CASE("a grant below the minimum TTL is raised to 1.5 election timeouts", "[integration][lease]") {
  // Elections of 150 ticks of 10 ms: the minimum is ceil(2.25 s) = 3 s.
  ClusterOptions options;
  options.election_ticks = 150;
  Cluster cluster(options);
  cluster.start();
  auto c = cluster.client({}, 5000ms);
  CHECK(require_ok(c->lease_grant(1), "grant 1 s").ttl_seconds == 3);
  CHECK(require_ok(c->lease_grant(0), "grant 0 s").ttl_seconds == 3);
  auto five = require_ok(c->lease_grant(5), "grant 5 s");
  CHECK(five.ttl_seconds == 5);
  // Every member applied the raised TTL, not its own idea of a minimum.
  auto raised = require_ok(c->lease_grant(2), "grant 2 s");
  for (size_t i = 0; i < cluster.size(); ++i) {
    auto member = cluster.client({cluster.member(i).client_url()}, 5000ms);
    CHECK(wait_until([&] {
      auto ttl = member->lease_ttl(raised.id);
      return ttl.ok() && ttl->granted_ttl_seconds == 3;
    }, 5000ms, 50ms));
  }
}
