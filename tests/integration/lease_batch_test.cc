// Batched lease keep-alives (LeaseKeepAliveBatchRequest) on real processes:
//  - a LeaseKeeper keeping 2,000 leases (one batch per tick) keeps every one
//    alive across several TTLs and across a kill -9 of the leader;
//  - a batch answers each id on its own (renewed, or leaseNotFound);
//  - a batch past the id bound is refused whole with tooLarge and renews
//    nothing.
#include <catch2/catch.hpp>

#include <capnp/message.h>
#include <csignal>

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/lease_keeper.h"
#include "schema/api.capnp.h"
#include "tests/integration/harness/cluster.h"
#include "tests/integration/harness/raw_connection.h"
#include "tests/integration/harness/key_count.h"
#include "tests/integration/harness/require_ok.h"

using namespace corral::integration;
using namespace corral::client;
using namespace std::chrono_literals;

namespace {

constexpr int kLeases = 2000;
constexpr int64_t kTtlSeconds = 3;
constexpr int kGrantsInFlight = 64;

// Grants `n` leases, each with its key under `prefix`, kGrantsInFlight at a
// time; returns their ids. A grant caught in a leader change (the harness's
// 100 ms election timeout on a loaded machine) is sent again, up to 3 times:
// its key then names the new lease, so a lost first grant leaves no key.
std::vector<int64_t> grant_many(Client& c, const std::string& prefix, int n) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int64_t> ids;
  int in_flight = 0;
  std::vector<int> failed;
  for (int i = 0; i < n; ++i) {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 20s, [&] { return in_flight < kGrantsInFlight; }));
    ++in_flight;
    lock.unlock();
    LeaseGrantRequest g;
    g.ttl_seconds = kTtlSeconds;
    g.puts.push_back(LeaseKeyPut{prefix + std::to_string(i), "up"});
    c.call_async(std::move(g), CallOptions{}, [&, i](Result<LeaseGrantResult> r) {
      std::lock_guard l(mu);
      if (r.ok()) {
        ids.push_back(r->id);
      } else {
        failed.push_back(i);
      }
      --in_flight;
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  REQUIRE(cv.wait_for(lock, 30s, [&] { return in_flight == 0; }));
  for (int i : failed) {
    std::optional<Result<LeaseGrantResult>> r;
    for (int attempt = 0; attempt < 3 && !(r && r->ok()); ++attempt) {
      r = c.lease_grant_with_keys(kTtlSeconds, {LeaseKeyPut{prefix + std::to_string(i), "up"}});
    }
    ids.push_back(require_ok(std::move(*r), "grant, sent again").id);
  }
  return ids;
}

std::string oversized_batch(uint64_t request_id, int64_t lease) {
  capnp::MallocMessageBuilder m;
  auto r = m.initRoot<corral::schema::api::Request>();
  r.setId(request_id);
  auto ids = r.initLeaseKeepAliveBatch().initIds(static_cast<unsigned>(kMaxKeepAliveBatchIds + 1));
  for (unsigned i = 0; i < ids.size(); ++i) ids.set(i, lease);
  return frame_bytes(m);
}

}  // namespace

TEST_CASE("lease batch: a keeper of 2000 leases keeps them all across TTLs and a leader kill",
          "[integration][lease]") {
  Cluster cluster(ClusterOptions{});
  const size_t leader = cluster.start_with_leader();
  auto c = cluster.client({}, 5000ms);
  std::atomic<int> lost{0};
  LeaseKeeper keeper(*c, [&](int64_t, const Error&) { lost.fetch_add(1); });
  // Granted first, then kept: the first grants must not age out while the
  // last are granted (a TTL is 3 s), so they are kept in slices.
  int granted = 0;
  for (int slice = 0; slice < kLeases / 500; ++slice) {
    auto ids = grant_many(*c, "/batch/" + std::to_string(slice) + "/", 500);
    for (int64_t id : ids) require_ok(keeper.add(id, kTtlSeconds), "keep");
    granted += static_cast<int>(ids.size());
  }
  REQUIRE(granted == kLeases);
  REQUIRE(keeper.size() == static_cast<size_t>(kLeases));

  // Three TTLs: every lease refreshed several times, none lost.
  std::this_thread::sleep_for(std::chrono::seconds(3 * kTtlSeconds));
  CHECK(lost.load() == 0);
  CHECK(count_keys(*c, "/batch/") == kLeases);

  REQUIRE(cluster.signal_member(leader, SIGKILL) != -1);
  auto next = cluster.wait_for_leader();
  REQUIRE(next);
  CHECK(*next != leader);
  // Three more TTLs after the kill: the keeper moved to the new leader in
  // time for every lease.
  std::this_thread::sleep_for(std::chrono::seconds(3 * kTtlSeconds));
  CHECK(lost.load() == 0);
  CHECK(keeper.size() == static_cast<size_t>(kLeases));
  CHECK(count_keys(*c, "/batch/") == kLeases);
}

TEST_CASE("lease batch: each id is answered on its own, and past the id bound nothing is renewed",
          "[integration][lease]") {
  Cluster cluster(raw_zmq_cluster());
  const size_t leader = cluster.start_with_leader();
  auto c = cluster.client({}, 5000ms);
  auto a = require_ok(c->lease_grant(kTtlSeconds), "grant a");
  auto b = require_ok(c->lease_grant(kTtlSeconds), "grant b");
  const int64_t never_granted = a.id + b.id + 12345;

  auto batch = require_ok(c->call(LeaseKeepAliveBatchRequest{{a.id, never_granted, b.id}}), "batch");
  REQUIRE(batch.outcomes.size() == 3);
  CHECK(batch.outcomes[0].id == a.id);
  CHECK(batch.outcomes[0].error == ErrorCode::kOk);
  CHECK(batch.outcomes[0].ttl_seconds == kTtlSeconds);
  CHECK(batch.outcomes[1].id == never_granted);
  CHECK(batch.outcomes[1].error == ErrorCode::kLeaseNotFound);
  CHECK(batch.outcomes[2].id == b.id);
  CHECK(batch.outcomes[2].error == ErrorCode::kOk);
  auto empty = require_ok(c->call(LeaseKeepAliveBatchRequest{}), "empty batch");
  CHECK(empty.outcomes.empty());

  // Let `a` run down, then send a batch one id past the bound, all of them
  // `a`, straight to the leader: tooLarge, and `a` is not renewed.
  REQUIRE(wait_until([&] {
    auto t = c->lease_ttl(a.id);
    return t.ok() && t->ttl_seconds >= 0 && t->ttl_seconds <= 1;
  }, 10s, 50ms));
  zmq::context_t ctx;
  RawConnection raw(ctx, cluster.member(leader).client_url());
  raw.send(oversized_batch(77, a.id));
  auto refused = raw.receive();
  REQUIRE(refused);
  CHECK(refused->id == 77);
  CHECK(refused->error.code == ErrorCode::kTooLarge);
  auto after = require_ok(c->lease_ttl(a.id), "ttl after the refused batch");
  CHECK(after.ttl_seconds <= 1);
  // The member still serves batches on that connection and others.
  raw.send_request(78, RequestBody(LeaseKeepAliveBatchRequest{{a.id}}));
  auto renewed = raw.receive();
  REQUIRE(renewed);
  REQUIRE_FALSE(renewed->is_error());
  auto* body = std::get_if<LeaseKeepAliveBatchResult>(&renewed->body);
  REQUIRE(body != nullptr);
  REQUIRE(body->outcomes.size() == 1);
  CHECK(body->outcomes[0].error == ErrorCode::kOk);
  CHECK(require_ok(c->lease_ttl(a.id), "ttl after the renewal").ttl_seconds >= kTtlSeconds - 1);
}
