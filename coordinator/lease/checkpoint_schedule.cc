#include "coordinator/lease/checkpoint_schedule.h"

#include "coordinator/base/check.h"

namespace corral::lease {

void CheckpointSchedule::add(LeaseId id, Millis due) {
  if (!due_.try_emplace(id, due).second) return;
  by_due_.emplace(due, id);
}

void CheckpointSchedule::remove(LeaseId id) {
  auto it = due_.find(id);
  if (it == due_.end()) return;
  by_due_.erase({it->second, id});
  due_.erase(it);
}

void CheckpointSchedule::clear() {
  by_due_.clear();
  due_.clear();
}

std::vector<LeaseId> CheckpointSchedule::pop_due(Millis now, size_t max_count) {
  std::vector<LeaseId> out;
  while (out.size() < max_count && !by_due_.empty() && by_due_.begin()->first <= now) {
    LeaseId id = by_due_.begin()->second;
    by_due_.erase(by_due_.begin());
    CORRAL_CHECK(due_.erase(id) == 1);
    out.push_back(id);
  }
  return out;
}

}  // namespace corral::lease
