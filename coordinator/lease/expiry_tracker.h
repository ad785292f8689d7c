// Leader-local lease deadlines (never replicated). Deadlines sit in an
// ordered set, so expired leases are found from the front without scanning
// every lease. An expired lease is reported once, then parked until a retry
// time in case its revoke never applies.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "coordinator/lease/lease_types.h"

namespace corral::lease {

class ExpiryTracker {
 public:
  // Tracks `id` with `deadline`, replacing any earlier deadline or report.
  void set(LeaseId id, Millis deadline);
  void remove(LeaseId id);
  void clear();

  std::optional<Millis> deadline(LeaseId id) const;
  // Whether `id` was reported expired and not set again since.
  bool reported(LeaseId id) const;
  size_t size() const { return entries_.size(); }

  // Up to max_count leases whose deadline is <= now, earliest first. Each is
  // reported and re-armed at retry_at, so it comes back only if still
  // tracked then.
  std::vector<LeaseId> pop_expired(Millis now, size_t max_count, Millis retry_at);

 private:
  struct Entry {
    Millis deadline = 0;
    bool reported = false;
  };
  std::set<std::pair<Millis, LeaseId>> by_deadline_;
  std::unordered_map<LeaseId, Entry> entries_;
};

}  // namespace corral::lease
