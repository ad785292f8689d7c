// Automatic compaction: when to compact and up to which revision. kv/ reads
// no clock, so the age policy takes times from its caller (the leader's
// apply path passes the time carried in the entry or its own tick count).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "coordinator/kv/key_value.h"

namespace corral::kv {

// Keep the last `keep_revisions` revisions: the revision to compact at, if
// that moves the compact revision forward.
std::optional<Revision> revision_retention_target(Revision current, Revision compacted,
                                                  int64_t keep_revisions);

// Keep every revision younger than `retention_ms`: samples (time, revision)
// as the caller observes them, and proposes the newest revision that was
// already current `retention_ms` ago.
class AgeRetention {
 public:
  // Samples kept at most; observations closer than retention / this are skipped.
  static constexpr size_t kMaxSamples = 256;

  explicit AgeRetention(int64_t retention_ms);
  void observe(int64_t now_ms, Revision current);
  std::optional<Revision> target(int64_t now_ms, Revision compacted) const;
  size_t samples() const { return samples_.size(); }

 private:
  int64_t retention_ms_;
  std::deque<std::pair<int64_t, Revision>> samples_;  // ascending time
};

}  // namespace corral::kv
