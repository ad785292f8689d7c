#include "coordinator/server/release_timer.h"

namespace corral::server {

std::vector<ReleaseTimer::Due> ReleaseTimer::due(const std::map<std::string, int64_t>& revoking,
                                                 Clock::time_point now, size_t max) {
  std::vector<Due> out;
  // Both maps are sorted by key: one merge pass forgets what is no longer
  // revoking and starts the clock of what just became so.
  auto seen = seen_.begin();
  for (const auto& [key, mod_revision] : revoking) {
    while (seen != seen_.end() && seen->first < key) seen = seen_.erase(seen);
    if (seen == seen_.end() || seen->first != key) {
      seen = seen_.emplace_hint(seen, key, Seen{mod_revision, now});
    } else if (seen->second.mod_revision != mod_revision) {
      seen->second = Seen{mod_revision, now};
    } else if (now - seen->second.since >= timeout_ && out.size() < max) {
      out.push_back(Due{key, mod_revision});
      seen->second.since = now;  // once more after another timeout, if still there
    }
    ++seen;
  }
  seen_.erase(seen, seen_.end());
  return out;
}

}  // namespace corral::server
