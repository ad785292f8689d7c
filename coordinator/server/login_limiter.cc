#include "coordinator/server/login_limiter.h"

#include <algorithm>
#include <cmath>

namespace corral::server {

void LoginLimiter::refill(Bucket& b, Clock::time_point now) const {
  if (now > b.updated) {
    const double earned = std::chrono::duration<double, std::milli>(now - b.updated).count() /
                          static_cast<double>(limits_.refill.count());
    b.failures_left = std::min<double>(limits_.burst, b.failures_left + earned);
  }
  b.updated = now;
}

std::chrono::milliseconds LoginLimiter::wait_before_try(const std::string& key, Clock::time_point now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return std::chrono::milliseconds(0);
  refill(it->second, now);
  if (it->second.failures_left >= 1) return std::chrono::milliseconds(0);
  const double missing = 1 - it->second.failures_left;
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::ceil(missing * static_cast<double>(limits_.refill.count()))));
}

void LoginLimiter::failed(const std::string& key, Clock::time_point now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limits_.max_keys) buckets_.clear();
    it = buckets_.emplace(key, Bucket{static_cast<double>(limits_.burst), now}).first;
  }
  refill(it->second, now);
  it->second.failures_left = std::max(0.0, it->second.failures_left - 1);
}

std::string login_limiter_key(std::string_view user, std::string_view connection) {
  std::string key(user);
  key.push_back('\0');
  key.append(connection);
  return key;
}

}  // namespace corral::server
