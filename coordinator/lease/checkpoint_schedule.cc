#include "coordinator/lease/checkpoint_schedule.h"

#include <algorithm>
#include <functional>

#include "coordinator/base/check.h"

namespace corral::lease {

void CheckpointSchedule::set(LeaseId id, Millis due) {
  auto [it, inserted] = due_.try_emplace(id, due);
  if (!inserted) {
    if (it->second == due) return;  // kept alive twice in one turn: nothing moves
    it->second = due;
  }
  push(due, id);
}

void CheckpointSchedule::remove(LeaseId id) {
  // Its heap entry turns stale and is dropped when it comes up.
  due_.erase(id);
  if (due_.empty()) heap_.clear();
}

void CheckpointSchedule::clear() {
  heap_.clear();
  due_.clear();
}

std::optional<Millis> CheckpointSchedule::due(LeaseId id) const {
  auto it = due_.find(id);
  if (it == due_.end()) return std::nullopt;
  return it->second;
}

bool CheckpointSchedule::live(const Entry& e) const {
  auto it = due_.find(e.second);
  return it != due_.end() && it->second == e.first;
}

void CheckpointSchedule::push(Millis due, LeaseId id) {
  heap_.emplace_back(due, id);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  if (heap_.size() > 2 * due_.size() + kScheduleHeapSlack) rebuild();
}

void CheckpointSchedule::pop_top() {
  std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
  heap_.pop_back();
}

void CheckpointSchedule::rebuild() {
  heap_.clear();
  heap_.reserve(due_.size());
  for (const auto& [id, due] : due_) heap_.emplace_back(due, id);
  std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
}

std::vector<LeaseId> CheckpointSchedule::pop_due(Millis now, size_t max_count) {
  std::vector<LeaseId> out;
  size_t dropped = 0;
  while (out.size() < max_count && dropped < kMaxStaleDroppedPerPop && !heap_.empty() &&
         heap_.front().first <= now) {
    const Entry top = heap_.front();
    pop_top();
    if (!live(top)) {
      ++dropped;
      continue;
    }
    CORRAL_CHECK(due_.erase(top.second) == 1);
    out.push_back(top.second);
  }
  return out;
}

}  // namespace corral::lease
