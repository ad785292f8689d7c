#include "coordinator/lease/expiry_tracker.h"

#include "coordinator/base/check.h"

namespace corral::lease {

void ExpiryTracker::set(LeaseId id, Millis deadline) {
  auto [it, inserted] = entries_.try_emplace(id);
  if (!inserted) by_deadline_.erase({it->second.deadline, id});
  it->second = Entry{deadline, false};
  by_deadline_.emplace(deadline, id);
}

void ExpiryTracker::remove(LeaseId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  by_deadline_.erase({it->second.deadline, id});
  entries_.erase(it);
}

void ExpiryTracker::clear() {
  by_deadline_.clear();
  entries_.clear();
}

std::optional<Millis> ExpiryTracker::deadline(LeaseId id) const {
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.deadline;
}

bool ExpiryTracker::reported(LeaseId id) const {
  auto it = entries_.find(id);
  return it != entries_.end() && it->second.reported;
}

std::vector<LeaseId> ExpiryTracker::pop_expired(Millis now, size_t max_count, Millis retry_at) {
  CORRAL_CHECK(retry_at > now);  // else a reported lease would come straight back
  std::vector<LeaseId> out;
  while (out.size() < max_count && !by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    LeaseId id = by_deadline_.begin()->second;
    by_deadline_.erase(by_deadline_.begin());
    Entry& entry = entries_.at(id);
    entry.deadline = retry_at;
    entry.reported = true;
    by_deadline_.emplace(retry_at, id);
    out.push_back(id);
  }
  return out;
}

}  // namespace corral::lease
