#include "coordinator/kv/compaction_policy.h"

#include <algorithm>

namespace corral::kv {

std::optional<Revision> revision_retention_target(Revision current, Revision compacted,
                                                  int64_t keep_revisions) {
  if (keep_revisions < 0) return std::nullopt;
  Revision target = current - keep_revisions;
  if (target <= compacted || target <= 0) return std::nullopt;
  return target;
}

AgeRetention::AgeRetention(int64_t retention_ms) : retention_ms_(std::max<int64_t>(retention_ms, 0)) {}

void AgeRetention::observe(int64_t now_ms, Revision current) {
  if (!samples_.empty()) {
    // Time from outside may repeat or step back: never let samples unsort.
    if (now_ms <= samples_.back().first) return;
    int64_t spacing_ms = retention_ms_ / static_cast<int64_t>(kMaxSamples);
    if (now_ms - samples_.back().first < spacing_ms) return;
  }
  samples_.emplace_back(now_ms, current);
  // Keep one sample at or before the cutoff: it is the current answer.
  int64_t cutoff = now_ms - retention_ms_;
  while (samples_.size() > 1 && samples_[1].first <= cutoff) samples_.pop_front();
  while (samples_.size() > kMaxSamples) samples_.pop_front();
}

std::optional<Revision> AgeRetention::target(int64_t now_ms, Revision compacted) const {
  int64_t cutoff = now_ms - retention_ms_;
  std::optional<Revision> best;
  for (const auto& [t, rev] : samples_) {
    if (t > cutoff) break;
    best = rev;
  }
  if (!best || *best <= compacted || *best <= 0) return std::nullopt;
  return best;
}

}  // namespace corral::kv
