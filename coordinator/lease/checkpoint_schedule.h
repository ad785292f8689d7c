// Leader-local: when each lease is due for a checkpoint. A keep-alive moves
// its lease's due time to `interval` after it (Lessor::keepalive), so a
// lease kept alive more often than the interval never comes due and costs
// no replicated write; a lease whose holder stopped comes due `interval`
// after its last keep-alive.
//
// Moving must be cheap (30k keep-alives a second at 100k leases): the due
// time per lease lives in a hash map, and a move only pushes a new entry on
// a binary min-heap; the old entry stays there, stale (its time no longer
// matches the map), and is dropped when it reaches the top. Bounds: one due
// time per lease (so at most kMaxLeases), and the heap is rebuilt from the
// map once it holds more than twice as many entries as the map plus
// kScheduleHeapSlack (16 bytes an entry).
#pragma once

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "coordinator/lease/lease_types.h"

namespace corral::lease {

// Stale heap entries tolerated above twice the live ones before a rebuild.
inline constexpr size_t kScheduleHeapSlack = 4096;
// Stale entries one pop_due call may drop before it stops (a turn after a
// promotion could otherwise drop 100k at once); the rest wait for the next.
inline constexpr size_t kMaxStaleDroppedPerPop = 65536;

class CheckpointSchedule {
 public:
  // Makes `id` due at `due`, earlier or later than before.
  void set(LeaseId id, Millis due);
  void remove(LeaseId id);
  void clear();
  bool contains(LeaseId id) const { return due_.contains(id); }
  std::optional<Millis> due(LeaseId id) const;
  size_t size() const { return due_.size(); }
  // Heap entries, stale ones included (for the bound's tests).
  size_t heap_entries() const { return heap_.size(); }
  // Up to max_count leases due at or before `now`, earliest first, each
  // removed from the schedule.
  std::vector<LeaseId> pop_due(Millis now, size_t max_count);

 private:
  using Entry = std::pair<Millis, LeaseId>;
  void push(Millis due, LeaseId id);
  void pop_top();
  void rebuild();
  bool live(const Entry& e) const;

  std::vector<Entry> heap_;  // min-heap on (due, id), may hold stale entries
  std::unordered_map<LeaseId, Millis> due_;
};

}  // namespace corral::lease
