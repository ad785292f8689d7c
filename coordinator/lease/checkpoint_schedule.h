// Leader-local: when each lease kept alive since its last checkpoint is due
// for a new one. A lease is scheduled once, at its first keep-alive after a
// checkpoint, and stays at that time however often it is kept alive after,
// so a lease kept alive every second is still checkpointed every interval.
#pragma once

#include <cstddef>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "coordinator/lease/lease_types.h"

namespace corral::lease {

class CheckpointSchedule {
 public:
  // Schedules `id` at `due`, unless it is scheduled already.
  void add(LeaseId id, Millis due);
  void remove(LeaseId id);
  void clear();
  bool contains(LeaseId id) const { return due_.contains(id); }
  size_t size() const { return due_.size(); }
  // Up to max_count leases due at or before `now`, earliest first, each
  // removed from the schedule.
  std::vector<LeaseId> pop_due(Millis now, size_t max_count);

 private:
  std::set<std::pair<Millis, LeaseId>> by_due_;
  std::unordered_map<LeaseId, Millis> due_;
};

}  // namespace corral::lease
