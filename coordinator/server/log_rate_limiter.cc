#include "coordinator/server/log_rate_limiter.h"

namespace corral::server {

LogRateLimiter::Verdict LogRateLimiter::admit(const void* site, TimePoint now) {
  auto it = sites_.find(site);
  if (it == sites_.end()) {
    if (sites_.size() >= kMaxSites) sites_.clear();  // forget counts rather than grow
    it = sites_.emplace(site, Site{now, 0, 0}).first;
  }
  Site& s = it->second;
  if (now - s.window_start >= window_) {
    s.window_start = now;
    s.written = 0;
  }
  if (s.written >= burst_) {
    ++s.suppressed;
    return {};
  }
  ++s.written;
  Verdict v{true, s.suppressed};
  s.suppressed = 0;
  return v;
}

}  // namespace corral::server
