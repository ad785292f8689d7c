#include "coordinator/watch/kv_history.h"

#include <algorithm>

#include "coordinator/kv/limits.h"
#include "coordinator/watch/key_range.h"

namespace corral::watch {

Result<std::vector<kv::RevisionEvents>> KvHistory::events(kv::Revision from_rev,
                                                          std::string_view key,
                                                          std::string_view range_end,
                                                          size_t max_events) const {
  static const std::string kAllKeys(1, '\0');
  if (key.empty() && is_unbounded(range_end)) key = kAllKeys;
  size_t bounded = std::clamp<size_t>(max_events, 1, kv::kMaxHistoryEventsPerRead);
  return store_.events(from_rev, key, range_end, bounded);
}

}  // namespace corral::watch
