// The leader's apply-version gate (coordinator/server/apply_version.h) on
// real processes: one member started with the test-only
// CORRAL_TEST_PUBLISH_APPLY_VERSION=1 publishes version 1, as a member with
// an older binary would, so
//  - a LeaseGrantBatch (version 2) is refused with unknownRequest naming
//    that member, and changes nothing;
//  - Client::lease_grant_batch falls back to single grants: all granted;
//  - once that member restarts without the hook (it publishes version 2),
//    batches are accepted.
#include <catch2/catch.hpp>

#include <csignal>

#include <string>
#include <vector>

#include "client/client.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/key_count.h"
#include "tests/integration/harness/lease_grants.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

constexpr size_t kOldMember = 2;
constexpr int kGrants = 20;
constexpr int64_t kTtlSeconds = 60;
constexpr auto kPublishTimeout = 15s;

// Every member's record carries its client URL: each has published its
// attributes, and its apply version with them (NodeLoop::publish_attributes).
bool all_published(Client& c, size_t members) {
  auto list = c.member_list();
  if (!list.ok() || list->members.size() != members) return false;
  for (const auto& m : list->members) {
    if (m.client_urls.empty()) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("apply version gate: a member publishing version 1 holds grant batches back until it restarts without it",
          "[integration][lease]") {
  ClusterOptions options;
  options.member_launchers.resize(kOldMember + 1);
  options.member_launchers[kOldMember] = {"/usr/bin/env", "CORRAL_TEST_PUBLISH_APPLY_VERSION=1"};
  Cluster cluster(options);
  cluster.start();
  auto c = cluster.client({}, 5000ms);
  REQUIRE(wait_until([&] { return all_published(*c, cluster.size()); }, kPublishTimeout));
  CHECK(cluster.log_of(kOldMember).find("publishes apply version 1") != std::string::npos);

  // The batch itself is refused, naming the member that holds it back...
  auto refused = c->call(LeaseGrantBatchRequest{grants_under("/gate/batch/", 0, kGrants, kTtlSeconds)});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnknownRequest);
  INFO(refused.error().message);
  CHECK(refused.error().message.find("member " + cluster.member(kOldMember).name + " applies entries of version 1") !=
        std::string::npos);
  CHECK(count_keys(*c, "/gate/batch/") == 0);
  CHECK(require_ok(c->lease_list(), "lease list").ids.empty());

  // ...and the client falls back to one grant each.
  auto fallback = require_ok(c->lease_grant_batch(grants_under("/gate/single/", 0, kGrants, kTtlSeconds)), "grant batch (fallback)");
  REQUIRE(fallback.outcomes.size() == static_cast<size_t>(kGrants));
  for (const auto& o : fallback.outcomes) {
    CHECK(o.error == ErrorCode::kOk);
    CHECK(o.ttl_seconds == kTtlSeconds);
  }
  CHECK(count_keys(*c, "/gate/single/") == kGrants);

  // Restarted without the hook, the member publishes version 2.
  REQUIRE(cluster.signal_member(kOldMember, SIGTERM) >= 0);
  cluster.member(kOldMember).launcher.clear();
  cluster.start_member(kOldMember);
  // A one-grant batch without keys probes the gate (refused: changes nothing).
  REQUIRE(wait_until([&] { return c->call(LeaseGrantBatchRequest{{LeaseGrantRequest{kTtlSeconds, 0, {}}}}).ok(); },
                     kPublishTimeout, 50ms));
  const std::string log = cluster.log_of(kOldMember);
  CHECK(log.find("publishes apply version") == log.rfind("publishes apply version"));  // the first run only
  auto accepted = require_ok(c->call(LeaseGrantBatchRequest{grants_under("/gate/batch/", 0, kGrants, kTtlSeconds)}), "grant batch");
  REQUIRE(accepted.outcomes.size() == static_cast<size_t>(kGrants));
  for (const auto& o : accepted.outcomes) CHECK(o.error == ErrorCode::kOk);
  CHECK(count_keys(*c, "/gate/batch/") == kGrants);
  // The fallback's grants, the batch's and the probe's that passed (a probe
  // that timed out in the restart may have passed too).
  CHECK(require_ok(c->lease_list(), "lease list").ids.size() >= static_cast<size_t>(2 * kGrants + 1));
}
