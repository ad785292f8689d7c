// The leader's forced release. A collector asked to hand a task over (its
// assignment marked revoking) normally releases it within a batch; one that
// is stuck, paused or cut off would keep the new owner waiting forever. The
// leader watches how long each assignment has been revoking and, past the
// release timeout, releases it on the owner's behalf: a delete fenced on the
// assignment's mod_revision, so a release or a move that got there first
// wins and nothing else is touched.
//
// Time is the leader's own steady clock: a new leader starts counting anew,
// so a failover can delay a forced release by up to one timeout (never
// bring it forward).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace corral::server {

inline constexpr int64_t kDefaultReleaseTimeoutMs = 10'000;
// How many forced releases one check proposes at most.
inline constexpr size_t kMaxForcedReleasesPerCheck = 1000;

class ReleaseTimer {
 public:
  using Clock = std::chrono::steady_clock;
  struct Due {
    std::string key;
    int64_t mod_revision = 0;
  };

  explicit ReleaseTimer(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // `revoking`: assignment key -> the mod_revision that marked it. Returns
  // the overdue ones (at most `max`); each is returned again only after
  // another timeout, if its release did not apply meanwhile.
  std::vector<Due> due(const std::map<std::string, int64_t>& revoking, Clock::time_point now, size_t max);
  // Leadership lost: forget every start time.
  void reset() { seen_.clear(); }
  size_t tracked() const { return seen_.size(); }

 private:
  struct Seen {
    int64_t mod_revision = 0;
    Clock::time_point since;
  };
  std::chrono::milliseconds timeout_;
  std::map<std::string, Seen> seen_;
};

}  // namespace corral::server
