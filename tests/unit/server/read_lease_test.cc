// ReadLease (read_lease.h): the leader's lease clock, with injected times.
#include <catch2/catch.hpp>

#include "coordinator/server/read_lease.h"

#include <time.h>

using corral::raft::LeaseBasis;
using corral::server::ReadLease;
using namespace std::chrono_literals;

namespace {

using Clock = ReadLease::Clock;
const Clock::time_point kT0 = Clock::time_point{} + 1h;

LeaseBasis basis(uint64_t last_round, uint64_t confirmed_round, uint64_t term = 5, uint64_t floor = 10) {
  LeaseBasis b;
  b.eligible = true;
  b.term = term;
  b.round_floor = floor;
  b.commit = 100;
  b.last_round = last_round;
  b.confirmed_round = confirmed_round;
  return b;
}

// A lease that has seen its term begin (round 10 = the floor: the rounds
// of an earlier leadership).
ReadLease fresh(Clock::duration length = std::chrono::milliseconds(180)) {
  ReadLease lease(length);
  lease.observe(basis(10, 0), kT0 - std::chrono::seconds(1));
  return lease;
}

}  // namespace

TEST_CASE("read lease: length is (promise - 1) ticks less the drift margin", "[server][read_lease]") {
  CHECK(ReadLease::length_for(3, 100, 100) == 180ms);
  CHECK(ReadLease::length_for(3, 100, 0) == 200ms);
  CHECK(ReadLease::length_for(1, 100, 100) == Clock::duration::zero());
  CHECK(ReadLease::length_for(0, 100, 100) == Clock::duration::zero());
}

TEST_CASE("read lease: the promise advertised is (promise - 1) ticks in ms, capped at the wire's 16 bits",
          "[server][read_lease]") {
  CHECK(ReadLease::promise_ms_for(3, 100) == 200);
  CHECK(ReadLease::promise_ms_for(6, 50) == 250);
  CHECK(ReadLease::promise_ms_for(1, 100) == 0);
  // A promise past what the field holds is advertised as less (safe), and
  // the lease is computed from what is advertised.
  CHECK(ReadLease::promise_ms_for(3, 60'000) == 65'535);
  CHECK(ReadLease::length_for(3, 60'000, 0) == 65'535ms);
}

TEST_CASE("read lease: runs from the confirmed round's start, not from its confirmation", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(11, 0), kT0);  // round 11 starts
  CHECK_FALSE(lease.valid(basis(11, 0), kT0 + 1ms));
  // Answered by a quorum 50 ms later: the lease still ends at kT0 + 180 ms.
  lease.observe(basis(11, 11), kT0 + 50ms);
  CHECK(lease.valid(basis(11, 11), kT0 + 50ms));
  CHECK(lease.valid(basis(11, 11), kT0 + 179ms));
  CHECK_FALSE(lease.valid(basis(11, 11), kT0 + 180ms));
  CHECK_FALSE(lease.valid(basis(11, 11), kT0 + 10s));
}

TEST_CASE("read lease: a newer confirmed round extends it, an older one never shortens it", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(11, 0), kT0);
  lease.observe(basis(12, 11), kT0 + 100ms);  // round 12 starts, 11 confirmed
  CHECK(lease.expiry() == kT0 + 180ms);
  lease.observe(basis(12, 12), kT0 + 101ms);
  CHECK(lease.expiry() == kT0 + 280ms);
  lease.observe(basis(12, 11), kT0 + 102ms);
  CHECK(lease.expiry() == kT0 + 280ms);
}

TEST_CASE("read lease: an unstamped round borrows the earlier stamp", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(11, 0), kT0);
  // Rounds 12 and 13 started between two looks; only 13 is stamped.
  lease.observe(basis(13, 0), kT0 + 100ms);
  lease.observe(basis(13, 12), kT0 + 101ms);
  CHECK(lease.expiry() == kT0 + 180ms);
  lease.observe(basis(13, 13), kT0 + 102ms);
  CHECK(lease.expiry() == kT0 + 280ms);
}

TEST_CASE("read lease: rounds at or below the floor prove nothing", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(10, 0), kT0);  // round 10 == floor: not stamped
  lease.observe(basis(10, 10), kT0 + 1ms);
  CHECK_FALSE(lease.valid(basis(10, 10), kT0 + 2ms));
}

TEST_CASE("read lease: a term change ends it", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(11, 0), kT0);
  lease.observe(basis(11, 11), kT0 + 1ms);
  REQUIRE(lease.valid(basis(11, 11), kT0 + 2ms));
  CHECK_FALSE(lease.valid(basis(11, 11, 6), kT0 + 2ms));
  // Seen once in the new term, the old stamps are gone for good.
  lease.observe(basis(12, 11, 6, 11), kT0 + 3ms);
  CHECK_FALSE(lease.valid(basis(12, 11, 6, 11), kT0 + 4ms));
  CHECK_FALSE(lease.valid(basis(11, 11), kT0 + 4ms));
}

TEST_CASE("read lease: not eligible (transfer, step-down, no commit in term) ends it", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(11, 0), kT0);
  lease.observe(basis(11, 11), kT0 + 1ms);
  LeaseBasis transfer = basis(11, 11);
  transfer.eligible = false;
  CHECK_FALSE(lease.valid(transfer, kT0 + 2ms));
  lease.observe(transfer, kT0 + 2ms);
  // Eligible again in the same term (an aborted transfer that never sent
  // its TimeoutNow): only rounds stamped from now on count.
  lease.observe(basis(11, 11), kT0 + 3ms);  // round 11 left before: not stamped again
  CHECK_FALSE(lease.valid(basis(11, 11), kT0 + 3ms));
  lease.observe(basis(12, 11), kT0 + 4ms);
  lease.observe(basis(12, 12), kT0 + 5ms);
  CHECK(lease.valid(basis(12, 12), kT0 + 6ms));
  CHECK(lease.expiry() == kT0 + 4ms + 180ms);
}

TEST_CASE("read lease: a membership change (new floor) ends it", "[server][read_lease]") {
  ReadLease lease = fresh();
  lease.observe(basis(11, 0), kT0);
  lease.observe(basis(11, 11), kT0 + 1ms);
  CHECK_FALSE(lease.valid(basis(11, 11, 5, 11), kT0 + 2ms));
}

TEST_CASE("read lease: the drift margin shortens it", "[server][read_lease]") {
  ReadLease lease = fresh(ReadLease::length_for(3, 100, 500));  // half of 200 ms
  lease.observe(basis(11, 0), kT0);
  lease.observe(basis(11, 11), kT0 + 1ms);
  CHECK(lease.valid(basis(11, 11), kT0 + 99ms));
  CHECK_FALSE(lease.valid(basis(11, 11), kT0 + 100ms));
}

TEST_CASE("read lease: stamps are bounded", "[server][read_lease]") {
  ReadLease lease = fresh();
  for (uint64_t r = 11; r < 11 + 3 * corral::server::kMaxReadLeaseStamps; ++r) lease.observe(basis(r, 0), kT0);
  const uint64_t last = 10 + 3 * corral::server::kMaxReadLeaseStamps;
  lease.observe(basis(last, last), kT0 + 1ms);
  CHECK(lease.valid(basis(last, last), kT0 + 2ms));
}

TEST_CASE("read lease: its clock is the boot-time clock, which runs with the steady clock while awake",
          "[server][read_lease]") {
  // CLOCK_BOOTTIME also counts a suspend, which steady_clock (CLOCK_MONOTONIC)
  // leaves out; awake, the two advance together.
  timespec boot{};
  REQUIRE(clock_gettime(CLOCK_BOOTTIME, &boot) == 0);
  const auto before = Clock::now();
  const auto boot_now = std::chrono::seconds(boot.tv_sec) + std::chrono::nanoseconds(boot.tv_nsec);
  CHECK(before.time_since_epoch() >= boot_now);
  CHECK(before.time_since_epoch() - boot_now < 1s);
  const auto steady0 = std::chrono::steady_clock::now();
  const auto deadline = steady0 + 20ms;
  while (std::chrono::steady_clock::now() < deadline) {
  }
  const auto lease_elapsed = Clock::now() - before;
  const auto steady_elapsed = std::chrono::steady_clock::now() - steady0;
  CHECK(lease_elapsed >= 20ms);
  CHECK(lease_elapsed - steady_elapsed < 5ms);
  CHECK(steady_elapsed - lease_elapsed < 5ms);
}
