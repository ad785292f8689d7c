#include "coordinator/server/loop_turn_stats.h"

#include <algorithm>
#include <limits>

namespace corral::server {

void LoopTurnStats::record(std::chrono::steady_clock::duration took) {
  const auto micros = static_cast<uint64_t>(
      std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  ++count_;
  max_micros_ = std::max(max_micros_, micros);
  auto bound = std::lower_bound(kBucketUpperMicros.begin(), kBucketUpperMicros.end(), micros);
  ++buckets_[static_cast<size_t>(bound - kBucketUpperMicros.begin())];
}

uint64_t LoopTurnStats::bucket_upper_micros(size_t i) {
  return i < kBucketUpperMicros.size() ? kBucketUpperMicros[i] : std::numeric_limits<uint64_t>::max();
}

}  // namespace corral::server
