// The leader's keep-alive stages (server/lease_keepalives.h) and the
// checkpoint entries it proposes (server/lease_checkpointer.h): bounds,
// batching, and nothing answered before its stage is done.
#include <catch2/catch.hpp>

#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/server/keepalive_batches.h"
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
  CHECK(q.take_confirmed(kMaxWaitingKeepAlives).empty());
  CHECK_FALSE(q.confirm(11));
  REQUIRE(q.confirm(10));
  auto confirmed = q.take_confirmed(kMaxWaitingKeepAlives);
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
  CHECK(q.take_confirmed(kMaxWaitingKeepAlives).at(0).lease == 2);
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

TEST_CASE("confirmed keep-alives are served a bounded number at a time, oldest round first", "[server][lease]") {
  LeaseKeepAlives q;
  std::vector<WaitingKeepAlive> first;
  for (lease::LeaseId id = 1; id <= 5; ++id) first.push_back(keepalive(id));
  REQUIRE(q.add_all(std::move(first)));
  q.start_round(1);
  REQUIRE(q.add_all({keepalive(6), keepalive(7)}));
  q.start_round(2);
  REQUIRE(q.confirm(1));
  REQUIRE(q.confirm(2));
  CHECK(q.has_confirmed());
  auto turn1 = q.take_confirmed(3);
  REQUIRE(turn1.size() == 3);
  CHECK(turn1[0].lease == 1);
  CHECK(turn1[2].lease == 3);
  CHECK(q.size() == 4);  // the rest still count toward the bound
  auto turn2 = q.take_confirmed(3);
  REQUIRE(turn2.size() == 3);
  CHECK(turn2[0].lease == 4);
  CHECK(turn2[2].lease == 6);
  CHECK(q.take_confirmed(3).size() == 1);
  CHECK_FALSE(q.has_confirmed());
  CHECK(q.size() == 0);
  // Left over at a leadership loss: failed with the rest.
  REQUIRE(q.add(keepalive(8)));
  q.start_round(3);
  REQUIRE(q.confirm(3));
  CHECK(q.take_all().size() == 1);
  CHECK_FALSE(q.has_confirmed());
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

TEST_CASE("a batch's keep-alives are queued all or none", "[server][lease]") {
  LeaseKeepAlives q;
  std::vector<WaitingKeepAlive> fill(kMaxWaitingKeepAlives - 2, keepalive(1));
  REQUIRE(q.add_all(std::move(fill)));
  CHECK_FALSE(q.add_all({keepalive(2), keepalive(3), keepalive(4)}));
  CHECK(q.size() == kMaxWaitingKeepAlives - 2);
  REQUIRE(q.add_all({keepalive(2), keepalive(3)}));
  CHECK_FALSE(q.add(keepalive(5)));
  q.start_round(1);
  REQUIRE(q.confirm(1));
  CHECK(q.take_confirmed(kMaxWaitingKeepAlives).size() == kMaxWaitingKeepAlives);
  CHECK(q.size() == 0);
}

TEST_CASE("a keep-alive batch is answered once every id has an outcome, in the order asked", "[server][lease]") {
  KeepAliveBatches batches;
  const api::WireError gone = api::wire_error(wire::ErrorCode::LEASE_NOT_FOUND, "gone");
  const uint64_t b = batches.open(net::ConnectionId{"c"}, 42, {7, 8, 9});
  CHECK(b != 0);
  CHECK(batches.size() == 1);
  CHECK_FALSE(batches.record(b, 2, 5, nullptr));
  CHECK_FALSE(batches.record(b, 2, 5, nullptr));  // a second outcome for one id counts once
  CHECK_FALSE(batches.record(b, 9, 5, nullptr));  // past the batch: ignored
  CHECK_FALSE(batches.record(b + 1, 0, 5, nullptr));
  CHECK_FALSE(batches.record(b, 0, 5, &gone));
  auto done = batches.record(b, 1, 3, nullptr);
  REQUIRE(done);
  CHECK_FALSE(done->whole_error);  // one renewed: answered id by id
  CHECK(batches.size() == 0);
  CHECK(done->request_id == 42);
  CHECK(done->connection.routing_id == "c");
  REQUIRE(done->outcomes.size() == 3);
  CHECK(done->outcomes[0].lease == 7);
  CHECK(done->outcomes[0].error == wire::ErrorCode::LEASE_NOT_FOUND);
  CHECK(done->outcomes[0].ttl_seconds == 0);
  CHECK(done->outcomes[1].lease == 8);
  CHECK(done->outcomes[1].ttl_seconds == 3);
  CHECK(done->outcomes[2].lease == 9);
  CHECK(done->outcomes[2].ttl_seconds == 5);
  const uint64_t dropped = batches.open(net::ConnectionId{"c"}, 43, {1});
  batches.drop(dropped);
  CHECK_FALSE(batches.record(dropped, 0, 5, nullptr));
  CHECK(batches.size() == 0);
}

TEST_CASE("a keep-alive batch that this member could not serve at all is answered with that error", "[server][lease]") {
  KeepAliveBatches batches;
  const api::WireError moved = api::not_leader_error("tcp://127.0.0.1:2");
  const api::WireError starting = api::wire_error(wire::ErrorCode::UNAVAILABLE, "leader is starting");
  const api::WireError gone = api::wire_error(wire::ErrorCode::LEASE_NOT_FOUND, "gone");

  // Every id failed because of where or when it was asked: the whole batch
  // gets the first such error, leader hint and all, for the client to retry.
  const uint64_t b = batches.open(net::ConnectionId{"c"}, 1, {7, 8});
  CHECK_FALSE(batches.record(b, 1, 0, &moved));
  auto done = batches.record(b, 0, 0, &starting);
  REQUIRE(done);
  REQUIRE(done->whole_error);
  CHECK(done->whole_error->code == wire::ErrorCode::NOT_LEADER);
  CHECK(done->whole_error->leader_hint == "tcp://127.0.0.1:2");

  // A lease that is gone is an answer about that lease: id by id.
  const uint64_t c = batches.open(net::ConnectionId{"c"}, 2, {7, 8});
  CHECK_FALSE(batches.record(c, 0, 0, &moved));
  done = batches.record(c, 1, 0, &gone);
  REQUIRE(done);
  CHECK_FALSE(done->whole_error);
  CHECK(done->outcomes[0].error == wire::ErrorCode::NOT_LEADER);
  CHECK(done->outcomes[1].error == wire::ErrorCode::LEASE_NOT_FOUND);
}

TEST_CASE("the expiry scan skips nothing that is due, whatever was added after a scan", "[server][lease]") {
  LeaseKeepAlives q;
  const auto now = Clock::now();
  REQUIRE(q.add(keepalive(1, now + std::chrono::hours(1))));
  q.start_round(1);
  CHECK(q.take_expired(now).empty());  // the next deadline is an hour away
  REQUIRE(q.add_all({keepalive(2, now - std::chrono::seconds(1))}));
  q.start_round(2);
  auto expired = q.take_expired(now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].lease == 2);
  q.wait_for_reset(1, {keepalive(3, now - std::chrono::seconds(1))});
  expired = q.take_expired(now);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].lease == 3);
  // 10k due at once leave in one pass; the one not due stays.
  std::vector<WaitingKeepAlive> many(10'000, keepalive(4, now - std::chrono::seconds(1)));
  REQUIRE(q.add_all(std::move(many)));
  q.start_round(3);
  CHECK(q.take_expired(now).size() == 10'000);
  CHECK(q.size() == 1);
  CHECK(q.take_expired(now + std::chrono::hours(2)).size() == 1);
  CHECK(q.size() == 0);
}
