#include "coordinator/lease/lessor.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "coordinator/lease/checkpoint_entry.h"
#include "coordinator/lease/checkpoint_schedule.h"
#include "coordinator/lease/expiry_tracker.h"
#include "coordinator/lease/lease_record.h"
#include "coordinator/storage/engine.h"

namespace corral::lease {
namespace {

constexpr Millis kSecond = 1000;

LeaseId must_grant(Lessor& lessor, LeaseId id, int64_t ttl, uint64_t index = 1,
                   storage::WriteBatch* batch = nullptr) {
  auto granted = lessor.grant(id, ttl, index, batch);
  INFO((granted.ok() ? "" : granted.error().message));
  REQUIRE(granted.ok());
  return *granted;
}

std::unique_ptr<storage::Engine> memory_engine() {
  storage::EngineOptions options;
  options.path = "/lessor-test";
  options.in_memory = true;
  auto engine = storage::Engine::open(options);
  INFO((engine.ok() ? std::string() : engine.error().message));
  REQUIRE(engine.ok());
  return std::move(engine).value();
}

TEST_CASE("lessor: grant, lookup, list, duplicate and bad ids") {
  Lessor lessor;
  CHECK(must_grant(lessor, 7, 60) == 7);
  REQUIRE(lessor.lookup(7));
  CHECK(lessor.lookup(7)->ttl_seconds == 60);
  CHECK(lessor.lookup(8) == nullptr);

  auto dup = lessor.grant(7, 30, 2, nullptr);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == ErrorCode::kBadRequest);
  CHECK(lessor.lookup(7)->ttl_seconds == 60);  // unchanged

  CHECK(lessor.grant(-3, 30, 3, nullptr).error().code == ErrorCode::kBadRequest);
  CHECK(lessor.grant(9, kMaxTtlSeconds + 1, 4, nullptr).error().code == ErrorCode::kTooLarge);
  CHECK(lessor.size() == 1);

  must_grant(lessor, 3, 10);
  CHECK(lessor.list() == std::vector<LeaseId>{3, 7});
}

TEST_CASE("lessor: TTLs below the minimum are raised to it") {
  LessorOptions options;
  options.min_ttl_seconds = 5;
  Lessor lessor(options);
  must_grant(lessor, 1, 1);
  must_grant(lessor, 2, 0);
  must_grant(lessor, 3, -10);
  must_grant(lessor, 4, 6);
  CHECK(lessor.lookup(1)->ttl_seconds == 5);
  CHECK(lessor.lookup(2)->ttl_seconds == 5);
  CHECK(lessor.lookup(3)->ttl_seconds == 5);
  CHECK(lessor.lookup(4)->ttl_seconds == 6);
}

TEST_CASE("lessor: id 0 derives the same positive id on every member") {
  Lessor a;
  Lessor b;
  std::set<LeaseId> seen;
  for (uint64_t index = 1; index <= 200; ++index) {
    LeaseId ia = must_grant(a, 0, 10, index);
    LeaseId ib = must_grant(b, 0, 10, index);
    CHECK(ia == ib);
    CHECK(ia > 0);
    seen.insert(ia);
  }
  CHECK(seen.size() == 200);
  // A client-chosen id that collides with the derivation is probed past.
  Lessor c;
  LeaseId derived = must_grant(b, 0, 10, 1000);
  must_grant(c, derived, 10);
  LeaseId probed = must_grant(c, 0, 10, 1000);
  CHECK(probed != derived);
  CHECK(probed > 0);
}

TEST_CASE("lessor: attach, detach, revoke returns the attached keys sorted") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  must_grant(lessor, 2, 10);
  REQUIRE(lessor.attach(1, "/b").ok());
  REQUIRE(lessor.attach(1, "/a").ok());
  REQUIRE(lessor.attach(1, "/c").ok());
  REQUIRE(lessor.attach(1, "/a").ok());  // idempotent
  REQUIRE(lessor.attach(2, "/z").ok());
  REQUIRE(lessor.detach(1, "/c").ok());
  CHECK(lessor.detach(1, "/c").error().code == ErrorCode::kNotFound);
  CHECK(lessor.detach(9, "/c").error().code == ErrorCode::kLeaseNotFound);
  CHECK(lessor.attach(9, "/c").error().code == ErrorCode::kLeaseNotFound);

  auto keys = lessor.revoke(1, nullptr);
  REQUIRE(keys.ok());
  CHECK(*keys == std::vector<std::string>{"/a", "/b"});
  CHECK(lessor.lookup(1) == nullptr);
  CHECK(lessor.revoke(1, nullptr).error().code == ErrorCode::kLeaseNotFound);
  CHECK(lessor.lookup(2)->keys == std::set<std::string>{"/z"});
}

TEST_CASE("lessor: lease_of follows attach, detach, a move to another lease and revoke") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  must_grant(lessor, 2, 10);
  CHECK(lessor.lease_of("/k") == 0);
  REQUIRE(lessor.attach(1, "/k").ok());
  REQUIRE(lessor.attach(1, "/j").ok());
  CHECK(lessor.lease_of("/k") == 1);
  REQUIRE(lessor.detach(1, "/j").ok());
  CHECK(lessor.lease_of("/j") == 0);
  // Moved as the state machine moves it: detached from 1, attached to 2.
  REQUIRE(lessor.detach(1, "/k").ok());
  REQUIRE(lessor.attach(2, "/k").ok());
  CHECK(lessor.lease_of("/k") == 2);
  // Attached to 2 while 1 still holds it: 2's, and 1 letting go keeps it.
  REQUIRE(lessor.attach(1, "/m").ok());
  REQUIRE(lessor.attach(2, "/m").ok());
  CHECK(lessor.lease_of("/m") == 2);
  REQUIRE(lessor.revoke(1, nullptr).ok());
  CHECK(lessor.lease_of("/m") == 2);
  CHECK(lessor.lease_of("/k") == 2);
  REQUIRE(lessor.revoke(2, nullptr).ok());
  CHECK(lessor.lease_of("/m") == 0);
  CHECK(lessor.lease_of("/k") == 0);
}

TEST_CASE("lessor: time_to_live on a follower and on the leader") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  REQUIRE(lessor.attach(1, "/k").ok());
  auto ttl = lessor.time_to_live(1, 0, true);
  REQUIRE(ttl.ok());
  CHECK(ttl->granted_ttl_seconds == 10);
  CHECK(ttl->remaining_ms == 10 * kSecond);
  CHECK(ttl->keys == std::vector<std::string>{"/k"});
  CHECK(lessor.time_to_live(1, 0, false)->keys.empty());
  CHECK(lessor.time_to_live(5, 0, false).error().code == ErrorCode::kLeaseNotFound);

  lessor.promote(100 * kSecond, 1);
  CHECK(lessor.time_to_live(1, 103 * kSecond, false)->remaining_ms == 7 * kSecond);
  CHECK(lessor.time_to_live(1, 200 * kSecond, false)->remaining_ms == 0);
}

TEST_CASE("lessor: keepalive renews on the leader only and knows no unknown lease") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  CHECK(lessor.keepalive(1, 0).error().code == ErrorCode::kNotLeader);
  lessor.promote(0, 1);
  CHECK(lessor.keepalive(42, 0).error().code == ErrorCode::kLeaseNotFound);
  auto renewed = lessor.keepalive(1, 8 * kSecond);
  REQUIRE(renewed.ok());
  CHECK(renewed->ttl_seconds == 10);
  CHECK(renewed->reset_needed);  // the grant is a checkpoint
  // Without the keepalive it would have expired at 10 s.
  CHECK(lessor.expired(17 * kSecond, 10).empty());
  CHECK(lessor.expired(18 * kSecond, 10) == std::vector<LeaseId>{1});
  // Once expired, it cannot be brought back: its revoke is on the way.
  CHECK(lessor.keepalive(1, 18 * kSecond).error().code == ErrorCode::kLeaseNotFound);
  REQUIRE(lessor.revoke(1, nullptr).ok());
  CHECK(lessor.keepalive(1, 18 * kSecond).error().code == ErrorCode::kLeaseNotFound);
}

TEST_CASE("lessor: expired() batches, earliest first, each lease once") {
  Lessor lessor;
  for (LeaseId id = 1; id <= 10; ++id) must_grant(lessor, id, 100 - id);  // 10 expires first
  lessor.promote(0, 1);
  CHECK(lessor.expired(89 * kSecond, 100).empty());
  auto first = lessor.expired(100 * kSecond, 4);
  CHECK(first == std::vector<LeaseId>{10, 9, 8, 7});
  auto second = lessor.expired(100 * kSecond, 4);
  CHECK(second == std::vector<LeaseId>{6, 5, 4, 3});
  auto third = lessor.expired(100 * kSecond, 4);
  CHECK(third == std::vector<LeaseId>{2, 1});
  CHECK(lessor.expired(100 * kSecond, 4).empty());
  // Revokes of the first batch apply; the others' proposals were lost, so
  // they come back once after the retry interval, and only them.
  for (LeaseId id : first) REQUIRE(lessor.revoke(id, nullptr).ok());
  CHECK(lessor.expired(100 * kSecond + kExpiredRetryMs - 1, 100).empty());
  auto retried = lessor.expired(100 * kSecond + kExpiredRetryMs, 100);
  std::set<LeaseId> retried_set(retried.begin(), retried.end());
  CHECK(retried_set == std::set<LeaseId>{1, 2, 3, 4, 5, 6});
  CHECK(lessor.expired(100 * kSecond + kExpiredRetryMs, 100).empty());
}

TEST_CASE("lessor: a new leader expires a lease where its checkpoint's countdown ends") {
  Lessor old_leader;
  Lessor new_leader;
  for (Lessor* l : {&old_leader, &new_leader}) {
    must_grant(*l, 1, 10);
    must_grant(*l, 2, 60);
    l->stamp(0);  // both applied the grants at 0
  }
  old_leader.promote(0, 1);
  CHECK(old_leader.expired(9 * kSecond, 10).empty());
  // Failover at 9 s: the old leader steps down before lease 1 expires.
  old_leader.demote();
  CHECK(old_leader.expired(11 * kSecond, 10).empty());
  CHECK(old_leader.keepalive(1, 11 * kSecond).error().code == ErrorCode::kNotLeader);
  new_leader.promote(9 * kSecond, 2);
  CHECK(new_leader.expired(9'999, 10).empty());  // never early
  CHECK(new_leader.expired(10 * kSecond, 10) == std::vector<LeaseId>{1});
  REQUIRE(new_leader.revoke(1, nullptr).ok());
  // Promoted again later: the countdown goes on, it does not restart.
  new_leader.demote();
  new_leader.promote(50 * kSecond, 4);
  CHECK(new_leader.expired(59'999, 10).empty());
  CHECK(new_leader.expired(60 * kSecond, 10) == std::vector<LeaseId>{2});
}

TEST_CASE("lessor: a lease granted on the leader starts its TTL at the next call") {
  Lessor lessor;
  lessor.promote(0, 1);
  must_grant(lessor, 1, 10);
  CHECK(lessor.expired(50 * kSecond, 10).empty());  // the TTL starts now, at 50 s
  CHECK(lessor.expired(59 * kSecond, 10).empty());
  CHECK(lessor.expired(60 * kSecond, 10) == std::vector<LeaseId>{1});
}

TEST_CASE("expiry tracker: set replaces, remove forgets, reports re-arm") {
  ExpiryTracker tracker;
  tracker.set(1, 100);
  tracker.set(2, 50);
  tracker.set(1, 10);
  CHECK(tracker.deadline(1) == 10);
  CHECK(tracker.pop_expired(60, 10, 1000) == std::vector<LeaseId>{1, 2});
  CHECK(tracker.reported(1));
  CHECK(tracker.deadline(1) == 1000);
  tracker.set(1, 70);
  CHECK_FALSE(tracker.reported(1));
  tracker.remove(2);
  CHECK(tracker.size() == 1);
  CHECK(tracker.pop_expired(999, 10, 2000) == std::vector<LeaseId>{1});
  CHECK(tracker.pop_expired(1999, 10, 3000).empty());
}

TEST_CASE("lease record: round trip and malformed input") {
  LeaseRecord record{0x0102030405060708, 3600, 1234};
  std::string key = encode_lease_key(record.id);
  std::string value = encode_lease_value(record);
  CHECK(key.size() == kLeaseKeyBytes);
  CHECK(key[0] == 0x01);  // big-endian, so keys sort by id
  auto decoded = decode_lease_record(key, value);
  REQUIRE(decoded.ok());
  CHECK(*decoded == record);
  CHECK(encode_lease_key(2) < encode_lease_key(256));

  CHECK(decode_lease_record(key.substr(1), value).error().code == ErrorCode::kStorage);
  CHECK(decode_lease_record(key, value.substr(1)).error().code == ErrorCode::kStorage);
  CHECK(decode_lease_record(key, "").error().code == ErrorCode::kStorage);
  std::string bad_pointer = value;
  bad_pointer[8] = '\x7f';  // the root pointer points far outside the message
  bad_pointer[12] = '\x7f';
  CHECK(decode_lease_record(key, bad_pointer).error().code == ErrorCode::kStorage);
  CHECK(decode_lease_record(encode_lease_key(0), value).error().code == ErrorCode::kStorage);
  CHECK(decode_lease_record(key, encode_lease_value({1, 0})).error().code == ErrorCode::kStorage);
  CHECK(decode_lease_record(key, encode_lease_value({1, 10, -1})).error().code == ErrorCode::kStorage);
}

TEST_CASE("lessor: persistence round trip through a real engine") {
  auto engine = memory_engine();
  Lessor lessor;
  storage::WriteBatch batch;
  must_grant(lessor, 5, 30, 1, &batch);
  must_grant(lessor, 9, 40, 2, &batch);
  LeaseId derived = must_grant(lessor, 0, 50, 3, &batch);
  CHECK(lessor.grant(5, 10, 4, &batch).error().code == ErrorCode::kBadRequest);
  CHECK(batch.count() == 3);  // the failed grant staged nothing
  REQUIRE(lessor.attach(9, "/k").ok());
  REQUIRE(lessor.revoke(5, &batch).ok());
  CHECK(lessor.revoke(5, &batch).error().code == ErrorCode::kLeaseNotFound);
  REQUIRE(engine->write(std::move(batch), true).ok());

  Lessor recovered;
  REQUIRE(recovered.recover(*engine).ok());
  std::vector<LeaseId> want = {9, derived};
  std::sort(want.begin(), want.end());
  CHECK(recovered.list() == want);
  CHECK(recovered.lookup(9)->ttl_seconds == 40);
  CHECK(recovered.lookup(derived)->ttl_seconds == 50);
  CHECK(recovered.lookup(9)->keys.empty());  // keys come back from the kv index
  REQUIRE(recovered.attach(9, "/k").ok());
  CHECK(*recovered.revoke(9, nullptr) == std::vector<std::string>{"/k"});
}

TEST_CASE("lessor: recovery refuses a corrupt record and stays empty") {
  auto engine = memory_engine();
  storage::WriteBatch batch;
  batch.put(storage::Space::kLease, encode_lease_key(1), encode_lease_value({1, 10}));
  batch.put(storage::Space::kLease, encode_lease_key(2), "garbage");
  REQUIRE(engine->write(std::move(batch), true).ok());
  Lessor lessor;
  auto status = lessor.recover(*engine);
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().code == ErrorCode::kStorage);
  CHECK(lessor.size() == 0);
}

}  // namespace
}  // namespace corral::lease

// --- checkpoints ------------------------------------------------------------

namespace corral::lease {
namespace {

// Applies a batch the way apply does, on every given lessor (the members).
void apply_batch(const CheckpointBatch& batch, std::initializer_list<Lessor*> members, uint64_t term,
                 Lessor* proposer, Millis now) {
  for (Lessor* m : members) {
    for (const auto& cp : batch.checkpoints) REQUIRE(m->checkpoint(cp, nullptr).ok());
    if (m == proposer) m->own_batch_applied(term, batch.sequence);
    m->stamp(now);
  }
}

TEST_CASE("lessor: repeated leader changes never extend a lease nobody keeps alive") {
  // Three members; leadership moves every second, each leader promoted
  // fresh. Before checkpoints, each promotion gave a whole new TTL and the
  // lease never expired.
  Lessor a, b, c;
  Lessor* members[] = {&a, &b, &c};
  for (Lessor* m : members) {
    must_grant(*m, 1, 4);
    m->stamp(0);
  }
  uint64_t term = 1;
  for (Millis now = 0; now < 4 * kSecond; now += kSecond, ++term) {
    Lessor& leader = *members[term % 3];
    leader.promote(now, term);
    CHECK(leader.expired(now + kSecond - 1, 10).empty());
    leader.demote();
  }
  Lessor& last = *members[term % 3];
  last.promote(4 * kSecond, term);
  CHECK(last.expired(4 * kSecond, 10) == std::vector<LeaseId>{1});
}

TEST_CASE("lessor: a keep-alive resets the checkpoint, the next leader then gives a whole TTL") {
  Lessor leader, follower;
  for (Lessor* m : {&leader, &follower}) {
    must_grant(*m, 1, 10);
    m->stamp(0);
  }
  leader.promote(0, 1);
  // A follower tells what is left of the checkpoint it counts down.
  CHECK(follower.time_to_live(1, 4 * kSecond, false)->remaining_ms == 6 * kSecond);
  auto first = leader.keepalive(1, 5 * kSecond);
  REQUIRE(first.ok());
  CHECK(first->reset_needed);  // the grant's checkpoint would end at 10 s
  auto reset = leader.reset_batch({1});
  CHECK(reset.sequence == 1);
  CHECK(reset.checkpoints == std::vector<Checkpoint>{{1, 0}});
  CHECK(leader.applied_sequence() == 0);
  apply_batch(reset, {&leader, &follower}, 1, &leader, 5 * kSecond);
  CHECK(leader.applied_sequence() == 1);
  CHECK(follower.lookup(1)->remaining_ms == 0);
  CHECK_FALSE(follower.checkpoint_deadline(1).has_value());
  CHECK(follower.time_to_live(1, 5 * kSecond, false)->remaining_ms == 10 * kSecond);  // ask the leader
  // Further keep-alives need no entry until the next checkpoint.
  auto second = leader.keepalive(1, 6 * kSecond);
  REQUIRE(second.ok());
  CHECK_FALSE(second->reset_needed);
  // Failover at 7 s: a whole TTL from the promotion, never before 6 s + 10 s.
  follower.promote(7 * kSecond, 2);
  CHECK(follower.expired(16'999, 10).empty());
  CHECK(follower.expired(17 * kSecond, 10) == std::vector<LeaseId>{1});
}

TEST_CASE("lessor: a lease no longer kept alive is checkpointed an interval after its last keep-alive") {
  LessorOptions options;
  options.checkpoint_interval_ms = 2 * kSecond;
  Lessor leader(options), follower(options);
  for (Lessor* m : {&leader, &follower}) {
    must_grant(*m, 1, 10);
    m->stamp(0);
  }
  leader.promote(0, 1);
  REQUIRE(leader.keepalive(1, 1 * kSecond).ok());  // due at 6 s (TTL/2 > 2 s)
  CHECK(leader.checkpoint_interval_ms(10) == 5 * kSecond);
  apply_batch(leader.reset_batch({1}), {&leader, &follower}, 1, &leader, 1 * kSecond);
  REQUIRE(leader.keepalive(1, 2 * kSecond).ok());
  REQUIRE(leader.keepalive(1, 2'500).ok());  // the last one: due at 7.5 s
  CHECK(leader.take_due_checkpoints(6 * kSecond, 100).checkpoints.empty());
  CHECK(leader.take_due_checkpoints(7'499, 100).checkpoints.empty());
  auto due = leader.take_due_checkpoints(7'500, 100);
  CHECK(due.sequence == 2);
  CHECK(due.checkpoints == std::vector<Checkpoint>{{1, 5 * kSecond}});  // 2.5 s + 10 s - 7.5 s
  // In flight: a keep-alive now must reset it, though nothing applied yet.
  auto during = leader.keepalive(1, 7'550);
  REQUIRE(during.ok());
  CHECK(during->reset_needed);
  apply_batch(due, {&leader, &follower}, 1, &leader, 7'600);
  CHECK(follower.lookup(1)->remaining_ms == 5 * kSecond);
  CHECK(follower.checkpoint_deadline(1) == 12'600);
  // Had the leader died before answering that keep-alive: the follower
  // takes over at 9 s and expires the lease at the countdown's end, not at
  // 9 s + 10 s.
  follower.promote(9 * kSecond, 2);
  CHECK(follower.expired(12'599, 10).empty());
  CHECK(follower.expired(12'600, 10) == std::vector<LeaseId>{1});
}

TEST_CASE("lessor: a lease kept alive every half interval is never checkpointed, its keep-alives need no reset") {
  LessorOptions options;
  options.checkpoint_interval_ms = 2 * kSecond;
  Lessor leader(options), follower(options);
  for (Lessor* m : {&leader, &follower}) {
    must_grant(*m, 1, 3);  // interval max(2 s, 1.5 s) = 2 s
    m->stamp(0);
  }
  leader.promote(0, 1);
  CHECK(leader.checkpoint_interval_ms(3) == 2 * kSecond);
  auto first = leader.keepalive(1, 100);
  REQUIRE(first.ok());
  CHECK(first->reset_needed);  // the grant's checkpoint, once
  apply_batch(leader.reset_batch({1}), {&leader, &follower}, 1, &leader, 100);
  int keepalives = 0;
  for (Millis now = 1 * kSecond; now <= 60 * kSecond; now += 100) {
    if (now % kSecond == 0) {
      auto renewed = leader.keepalive(1, now);
      REQUIRE(renewed.ok());
      CHECK_FALSE(renewed->reset_needed);
      ++keepalives;
    }
    auto batch = leader.take_due_checkpoints(now, 100);
    INFO("at " << now << " ms");
    CHECK(batch.checkpoints.empty());
  }
  CHECK(keepalives == 60);
  CHECK(leader.checkpoint_counts().countdowns_applied == 0);
  CHECK(leader.checkpoint_counts().resets_applied == 1);
  CHECK(follower.lookup(1)->remaining_ms == 0);
  // Its holder stops: checkpointed 2 s after the last keep-alive, 1 s left.
  CHECK(leader.take_due_checkpoints(61'999, 100).checkpoints.empty());
  CHECK(leader.take_due_checkpoints(62 * kSecond, 100).checkpoints == std::vector<Checkpoint>{{1, 1 * kSecond}});
}

TEST_CASE("lessor: the checkpoint interval grows to half a long TTL") {
  Lessor lessor;  // 5 s
  CHECK(lessor.checkpoint_interval_ms(1) == 5 * kSecond);
  CHECK(lessor.checkpoint_interval_ms(10) == 5 * kSecond);
  CHECK(lessor.checkpoint_interval_ms(60) == 30 * kSecond);
  CHECK(lessor.checkpoint_interval_ms(kMaxTtlSeconds) == kMaxRemainingMs / 2);
  // A 60 s lease kept alive every 20 s (TTL/3): never due.
  must_grant(lessor, 1, 60);
  REQUIRE(lessor.checkpoint({1, 0}, nullptr).ok());
  lessor.stamp(0);
  lessor.promote(0, 1);
  REQUIRE(lessor.keepalive(1, 0).ok());
  for (Millis now = 20 * kSecond; now <= 200 * kSecond; now += 20 * kSecond) {
    CHECK(lessor.take_due_checkpoints(now - 1, 100).checkpoints.empty());
    auto renewed = lessor.keepalive(1, now);
    REQUIRE(renewed.ok());
    CHECK_FALSE(renewed->reset_needed);
  }
  CHECK(lessor.take_due_checkpoints(229'999, 100).checkpoints.empty());
  CHECK(lessor.take_due_checkpoints(230 * kSecond, 100).checkpoints == std::vector<Checkpoint>{{1, 30 * kSecond}});
}

TEST_CASE("lessor: a keep-alive after a promotion moves the promotion's checkpoint") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  must_grant(lessor, 2, 10);
  for (LeaseId id : {1, 2}) REQUIRE(lessor.checkpoint({id, 0}, nullptr).ok());
  lessor.stamp(0);
  lessor.promote(1 * kSecond, 2);  // both got a whole TTL: due at once
  auto renewed = lessor.keepalive(1, 1'050);  // its holder is alive
  REQUIRE(renewed.ok());
  CHECK_FALSE(renewed->reset_needed);
  CHECK(lessor.take_due_checkpoints(1'100, 100).checkpoints == std::vector<Checkpoint>{{2, 9'900}});
  CHECK(lessor.take_due_checkpoints(6'049, 100).checkpoints.empty());
  CHECK(lessor.take_due_checkpoints(6'050, 100).checkpoints == std::vector<Checkpoint>{{1, 5 * kSecond}});
}

TEST_CASE("lessor: a lease whose holder stopped expires within TTL + interval + election of its last keep-alive") {
  // Three members; the holder's last keep-alive is at K = 10 s. The leader
  // is lost at D (every 100 ms from K to K + TTL), its successor is
  // promoted E later and checkpoints at once; a third leader takes over
  // 300 ms after that. The lease must go in [K + TTL, K + TTL + I + E].
  constexpr Millis kTtl = 8 * kSecond;
  constexpr Millis kK = 10 * kSecond;
  constexpr Millis kE = 1'500;
  constexpr Millis kStep = 100;  // the leader's checkpoint pass, as the loop's gap
  for (Millis lost_after = 0; lost_after <= kTtl; lost_after += 100) {
    LessorOptions options;
    options.checkpoint_interval_ms = 3 * kSecond;  // < TTL/2 = 4 s: I = 4 s
    Lessor a(options), b(options), c(options);
    const Millis interval = a.checkpoint_interval_ms(8);
    REQUIRE(interval == 4 * kSecond);
    for (Lessor* m : {&a, &b, &c}) {
      must_grant(*m, 1, 8);
      m->stamp(0);
    }
    a.promote(0, 1);
    // The holder keeps the lease alive every 2 s up to K, then stops.
    std::optional<Millis> expired_at;
    uint64_t term = 1;
    const Millis d = kK + lost_after;
    Millis now = 0;
    auto leader_pass = [&](Lessor& l) {
      auto batch = l.take_due_checkpoints(now, 1000);
      if (!batch.checkpoints.empty()) apply_batch(batch, {&a, &b, &c}, term, &l, now);
      auto gone = l.expired(now, 10);
      if (!gone.empty() && !expired_at) expired_at = now;
    };
    for (; now <= d; now += kStep) {
      if (now % (2 * kSecond) == 0 && now <= kK) {
        auto renewed = a.keepalive(1, now);
        REQUIRE(renewed.ok());
        if (renewed->reset_needed) apply_batch(a.reset_batch({1}), {&a, &b, &c}, term, &a, now);
      }
      leader_pass(a);
    }
    a.demote();
    if (!expired_at) {
      now = d + kE;
      b.promote(now, ++term);
      for (; now <= d + kE + 300; now += kStep) leader_pass(b);
      b.demote();
      if (!expired_at) {
        c.promote(now, ++term);
        for (; !expired_at && now <= kK + 3 * kTtl; now += kStep) leader_pass(c);
      }
    }
    INFO("leader lost " << lost_after << " ms after the last keep-alive");
    REQUIRE(expired_at.has_value());
    CHECK(*expired_at >= kK + kTtl);
    CHECK(*expired_at <= kK + kTtl + interval + kE + kStep);
  }
}

TEST_CASE("lessor: a new leader checkpoints at once the leases it had to give a whole TTL") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  must_grant(lessor, 2, 10);
  REQUIRE(lessor.checkpoint({1, 0}, nullptr).ok());  // kept alive before the failover
  lessor.stamp(0);
  lessor.promote(3 * kSecond, 5);
  auto due = lessor.take_due_checkpoints(3 * kSecond, 100);
  CHECK(due.checkpoints == std::vector<Checkpoint>{{1, 10 * kSecond}});
  CHECK(lessor.take_due_checkpoints(4 * kSecond, 100).checkpoints.empty());
  // Batches are bounded.
  Lessor many;
  for (LeaseId id = 1; id <= 2500; ++id) {
    must_grant(many, id, 10);
    REQUIRE(many.checkpoint({id, 0}, nullptr).ok());
  }
  many.promote(0, 1);
  CHECK(many.take_due_checkpoints(0, 5000).checkpoints.size() == kMaxCheckpointsPerEntry);
  CHECK(many.take_due_checkpoints(0, 300).checkpoints.size() == 300);
}

TEST_CASE("lessor: only this term's own batches count as applied") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  lessor.own_batch_applied(1, 5);  // not primary: ignored
  lessor.promote(0, 3);
  lessor.own_batch_applied(2, 7);  // an earlier term's entry
  CHECK(lessor.applied_sequence() == 0);
  lessor.own_batch_applied(3, 1);
  CHECK(lessor.applied_sequence() == 1);
}

TEST_CASE("lessor: a bad checkpoint is refused and changes nothing") {
  Lessor lessor;
  must_grant(lessor, 1, 10);
  storage::WriteBatch batch;
  CHECK(lessor.checkpoint({2, 5}, &batch).error().code == ErrorCode::kLeaseNotFound);
  CHECK(lessor.checkpoint({1, -1}, &batch).error().code == ErrorCode::kBadRequest);
  CHECK(lessor.checkpoint({1, kMaxRemainingMs + 1}, &batch).error().code == ErrorCode::kBadRequest);
  CHECK(batch.count() == 0);
  CHECK(lessor.lookup(1)->remaining_ms == 10 * kSecond);
}

TEST_CASE("lessor: a restart keeps the checkpoint and counts it down from the start") {
  auto engine = memory_engine();
  {
    Lessor lessor;
    storage::WriteBatch batch;
    must_grant(lessor, 1, 30, 1, &batch);
    must_grant(lessor, 2, 30, 2, &batch);
    REQUIRE(lessor.checkpoint({1, 7 * kSecond}, &batch).ok());
    REQUIRE(lessor.checkpoint({2, 0}, &batch).ok());
    REQUIRE(engine->write(std::move(batch), true).ok());
  }
  Lessor recovered;
  REQUIRE(recovered.recover(*engine).ok());
  CHECK(recovered.lookup(1)->remaining_ms == 7 * kSecond);
  CHECK(recovered.lookup(2)->remaining_ms == 0);
  recovered.stamp(100 * kSecond);
  CHECK(recovered.checkpoint_deadline(1) == 107 * kSecond);
  CHECK_FALSE(recovered.checkpoint_deadline(2).has_value());
  recovered.promote(101 * kSecond, 9);
  CHECK(recovered.expired(107 * kSecond, 10) == std::vector<LeaseId>{1});
  REQUIRE(recovered.revoke(1, nullptr).ok());
  CHECK(recovered.expired(130 * kSecond, 10).empty());  // a whole TTL from 101 s
  CHECK(recovered.expired(131 * kSecond, 10) == std::vector<LeaseId>{2});
}

TEST_CASE("checkpoint entry: round trip and malformed input") {
  CheckpointBatch batch{7, {{1, 500}, {2, 0}, {0x7fffffffffffffff, kMaxRemainingMs}}};
  std::string data = encode_checkpoint_entry(0xabc, batch);
  CHECK(is_checkpoint_entry(data));
  auto decoded = decode_checkpoint_entry(data);
  REQUIRE(decoded.ok());
  CHECK(decoded->proposer == 0xabc);
  CHECK(decoded->batch.sequence == 7);
  CHECK(decoded->batch.checkpoints == batch.checkpoints);

  auto code = [](std::string_view d) { return decode_checkpoint_entry(d).error().code; };
  CHECK(code("") == ErrorCode::kBadRequest);
  CHECK(code("K\x01") == ErrorCode::kBadRequest);
  CHECK(code(std::string_view(data).substr(0, data.size() - 8)) == ErrorCode::kBadRequest);
  CHECK(code(data.substr(0, 2)) == ErrorCode::kBadRequest);
  CHECK(code(encode_checkpoint_entry(1, {1, {{-4, 5}}})) == ErrorCode::kBadRequest);
  CHECK(code(encode_checkpoint_entry(1, {1, {{4, -5}}})) == ErrorCode::kBadRequest);
  CHECK(code(encode_checkpoint_entry(1, {1, {{4, kMaxRemainingMs + 1}}})) == ErrorCode::kBadRequest);
  std::string garbage = data;
  for (size_t i = 2; i < garbage.size(); ++i) garbage[i] = '\x7f';
  CHECK(code(garbage) == ErrorCode::kBadRequest);
  CheckpointBatch full{1, std::vector<Checkpoint>(kMaxCheckpointsPerEntry, Checkpoint{1, 1})};
  CHECK(encode_checkpoint_entry(1, full).size() <= kMaxCheckpointEntryBytes);
  CHECK(decode_checkpoint_entry(encode_checkpoint_entry(1, full)).ok());
}

TEST_CASE("minimum TTL follows the election timeout (1.5 elections, whole seconds)") {
  CHECK(min_ttl_seconds_for(1000) == 2);  // corrald's default: 10 ticks of 100 ms
  CHECK(min_ttl_seconds_for(100) == 1);
  CHECK(min_ttl_seconds_for(1400) == 3);
  CHECK(min_ttl_seconds_for(2000) == 3);
  CHECK(min_ttl_seconds_for(0) == 1);
}

}  // namespace
}  // namespace corral::lease
