#include "coordinator/lease/checkpoint_schedule.h"

#include <catch2/catch.hpp>

namespace corral::lease {

TEST_CASE("checkpoint schedule: a keep-alive moves the due time, later or earlier") {
  CheckpointSchedule schedule;
  schedule.set(1, 300);
  schedule.set(2, 100);
  schedule.set(1, 500);  // kept alive again: due later
  CHECK(schedule.due(1) == 500);
  CHECK(schedule.pop_due(99, 10).empty());
  CHECK(schedule.pop_due(300, 10) == std::vector<LeaseId>{2});  // 1's old time is stale
  CHECK(schedule.size() == 1);
  schedule.set(1, 200);  // earlier (a refused batch retried sooner)
  CHECK(schedule.pop_due(200, 10) == std::vector<LeaseId>{1});
  CHECK(schedule.pop_due(1000, 10).empty());  // its entry at 500 is stale now
  CHECK(schedule.size() == 0);
  CHECK(schedule.heap_entries() == 0);
}

TEST_CASE("checkpoint schedule: a lease nobody keeps alive comes due once, earliest first") {
  CheckpointSchedule schedule;
  for (LeaseId id = 1; id <= 5; ++id) schedule.set(id, 1000 + 10 * id);
  // Leases 1, 3, 5 kept alive every 5 ms for a while; 2 and 4 stopped.
  for (Millis now = 0; now < 1000; now += 5) {
    for (LeaseId id : {1, 3, 5}) schedule.set(id, now + 1000);
    CHECK(schedule.pop_due(now, 10).empty());
  }
  CHECK(schedule.pop_due(1019, 10).empty());
  CHECK(schedule.pop_due(1040, 10) == std::vector<LeaseId>{2, 4});
  CHECK(schedule.pop_due(1994, 10).empty());
  CHECK(schedule.pop_due(1995, 2) == std::vector<LeaseId>{1, 3});  // max_count
  CHECK(schedule.pop_due(1995, 2) == std::vector<LeaseId>{5});
  CHECK(schedule.pop_due(1995, 2).empty());
  CHECK_FALSE(schedule.contains(5));
}

TEST_CASE("checkpoint schedule: remove and clear forget, a second set at the same time adds nothing") {
  CheckpointSchedule schedule;
  schedule.set(3, 10);
  schedule.set(3, 10);
  CHECK(schedule.heap_entries() == 1);
  schedule.set(4, 20);
  schedule.remove(3);
  CHECK_FALSE(schedule.contains(3));
  CHECK(schedule.pop_due(1000, 10) == std::vector<LeaseId>{4});
  schedule.set(5, 1);
  schedule.clear();
  CHECK(schedule.size() == 0);
  CHECK(schedule.heap_entries() == 0);
  CHECK(schedule.pop_due(1000, 10).empty());
}

TEST_CASE("checkpoint schedule: stale entries stay bounded however often leases are kept alive") {
  CheckpointSchedule schedule;
  constexpr LeaseId kLeases = 1000;
  // 200 keep-alives of every lease, nothing ever due: without the rebuild
  // the heap would hold 200,000 entries.
  for (Millis now = 1; now <= 200; ++now) {
    for (LeaseId id = 1; id <= kLeases; ++id) schedule.set(id, now + 1'000'000);
    REQUIRE(schedule.heap_entries() <= 2 * kLeases + kScheduleHeapSlack);
  }
  CHECK(schedule.size() == kLeases);
  // Every lease still comes due exactly once, at its last time.
  CHECK(schedule.pop_due(1'000'199, 10 * kLeases).empty());
  CHECK(schedule.pop_due(1'000'200, 10 * kLeases).size() == kLeases);
  CHECK(schedule.size() == 0);
}

TEST_CASE("checkpoint schedule: one pop drops a bounded number of stale entries") {
  CheckpointSchedule schedule;
  const auto count = static_cast<LeaseId>(kMaxStaleDroppedPerPop + 10);
  for (LeaseId id = 1; id <= count; ++id) schedule.set(id, 0);  // a promotion: all due at once
  for (LeaseId id = 1; id <= count; ++id) schedule.set(id, 5000);  // then all kept alive
  CHECK(schedule.pop_due(0, 10).empty());
  CHECK(schedule.heap_entries() == count + 10);  // the rest wait for the next pop
  CHECK(schedule.pop_due(0, 10).empty());
  CHECK(schedule.heap_entries() == static_cast<size_t>(count));
  CHECK(schedule.pop_due(5000, 3) == std::vector<LeaseId>{1, 2, 3});
}

}  // namespace corral::lease
