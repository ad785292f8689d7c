// The leader's keep-alive stages (server/lease_keepalives.h) and the
// checkpoint entries it proposes (server/lease_checkpointer.h): bounds,
// batching, and nothing answered before its stage is done.
#include <catch2/catch.hpp>

#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/server/lease_checkpointer.h"
#include "coordinator/server/lease_keepalives.h"

using namespace corral;
using namespace corral::server;
using Clock = std::chrono::steady_clock;

namespace {

WaitingKeepAlive keepalive(lease::LeaseId id, Clock::time_point deadline = Clock::now() + std::chrono::hours(1)) {
  return WaitingKeepAlive{net::ConnectionId{"c"}, static_cast<uint64_t>(id), id, deadline, 0};
}

}  // namespace

TEST_CASE("keep-alives wait for their round, then for their reset", "[server][lease]") {
  LeaseKeepAlives q;
  REQUIRE(q.add(keepalive(1)));
  REQUIRE(q.add(keepalive(2)));
  q.start_round(10);
  REQUIRE(q.add(keepalive(3)));  // came after the round: the next one
  CHECK(q.take_confirmed().empty());
  CHECK_FALSE(q.confirm(11));
  REQUIRE(q.confirm(10));
  auto confirmed = q.take_confirmed();
  REQUIRE(confirmed.size() == 2);
  CHECK(q.size() == 1);
  q.wait_for_reset(4, {confirmed[0]});
  q.wait_for_reset(6, {confirmed[1]});
  CHECK(q.take_reset(3).empty());
  CHECK(q.take_reset(5).size() == 1);
  CHECK(q.take_reset(6).size() == 1);
  CHECK(q.take_all().size() == 1);
  CHECK(q.size() == 0);
}

TEST_CASE("keep-alives are bounded and time out in every stage", "[server][lease]") {
  LeaseKeepAlives q;
  for (size_t i = 0; i < kMaxWaitingKeepAlives; ++i) REQUIRE(q.add(keepalive(1)));
  CHECK_FALSE(q.add(keepalive(1)));
  CHECK(q.take_all().size() == kMaxWaitingKeepAlives);

  const auto now = Clock::now();
  REQUIRE(q.add(keepalive(1, now - std::chrono::seconds(1))));
  REQUIRE(q.add(keepalive(2, now + std::chrono::seconds(1))));
  q.start_round(1);
  q.wait_for_reset(1, {keepalive(3, now - std::chrono::seconds(1))});
  auto expired = q.take_expired(now);
  REQUIRE(expired.size() == 2);
  CHECK(q.size() == 1);
  REQUIRE(q.confirm(1));
  CHECK(q.take_confirmed().at(0).lease == 2);
}

TEST_CASE("resets go one per lease, at most kMaxCheckpointsPerEntry an entry", "[server][lease]") {
  lease::Lessor lessor;
  const size_t leases = lease::kMaxCheckpointsPerEntry + 10;
  for (size_t id = 1; id <= leases; ++id) REQUIRE(lessor.grant(static_cast<lease::LeaseId>(id), 10, id, nullptr).ok());
  lessor.promote(0, 1);
  std::vector<WaitingKeepAlive> renewed;
  for (size_t id = 1; id <= leases; ++id) renewed.push_back(keepalive(static_cast<lease::LeaseId>(id)));
  renewed.push_back(keepalive(5));  // the same lease twice in a turn
  LeaseCheckpointer checkpointer(42);
  std::vector<std::string> entries;
  auto proposals = checkpointer.propose_resets(lessor, renewed, [&](std::string data) {
    entries.push_back(std::move(data));
    return true;
  });
  REQUIRE(entries.size() == 2);
  REQUIRE(proposals.proposed.size() == 2);
  CHECK(proposals.refused.empty());
  auto first = lease::decode_checkpoint_entry(entries[0]);
  auto second = lease::decode_checkpoint_entry(entries[1]);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->proposer == 42);
  CHECK(first->batch.checkpoints.size() == lease::kMaxCheckpointsPerEntry);
  CHECK(second->batch.checkpoints.size() == 10);
  CHECK(first->batch.sequence < second->batch.sequence);
  CHECK(proposals.proposed[0].second.size() == lease::kMaxCheckpointsPerEntry + 1);  // both of lease 5
  for (const auto& cp : first->batch.checkpoints) CHECK(cp.remaining_ms == 0);

  // Raft refused: every keep-alive of the entry is handed back.
  auto refused = checkpointer.propose_resets(lessor, {keepalive(1), keepalive(2)}, [](std::string) { return false; });
  CHECK(refused.proposed.empty());
  CHECK(refused.refused.size() == 2);
}

TEST_CASE("periodic checkpoints are rate-limited and retried when raft refuses them", "[server][lease]") {
  lease::Lessor lessor;
  for (lease::LeaseId id = 1; id <= 3; ++id) {
    REQUIRE(lessor.grant(id, 10, static_cast<uint64_t>(id), nullptr).ok());
    REQUIRE(lessor.checkpoint({id, 0}, nullptr).ok());  // kept alive: none left
  }
  lessor.promote(0, 1);  // all three due at once
  LeaseCheckpointer checkpointer(1);
  int proposed = 0;
  checkpointer.propose_due(lessor, 0, [&](std::string) {
    ++proposed;
    return false;
  });
  CHECK(proposed == 1);
  checkpointer.propose_due(lessor, lease::kMinCheckpointEntryGapMs - 1, [&](std::string) {
    ++proposed;
    return true;
  });
  CHECK(proposed == 1);  // too soon
  std::string data;
  checkpointer.propose_due(lessor, lease::kMinCheckpointEntryGapMs, [&](std::string d) {
    data = std::move(d);
    return true;
  });
  auto entry = lease::decode_checkpoint_entry(data);
  REQUIRE(entry.ok());
  CHECK(entry->batch.checkpoints.size() == 3);  // the refused ones came back
}
