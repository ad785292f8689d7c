#include "coordinator/server/read_lease.h"

#include <algorithm>
#include <limits>
#include <optional>

#include <time.h>

namespace corral::server {

LeaseClock::time_point LeaseClock::now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

uint16_t ReadLease::promise_ms_for(int promise_ticks, int tick_ms) {
  if (promise_ticks <= 1 || tick_ms <= 0) return 0;
  const int64_t ms = int64_t{promise_ticks - 1} * tick_ms;
  return static_cast<uint16_t>(std::min<int64_t>(ms, std::numeric_limits<uint16_t>::max()));
}

ReadLease::Clock::duration ReadLease::length_for(uint16_t promise_ms, int drift_margin_permille) {
  const auto promise = std::chrono::milliseconds(promise_ms);
  const int keep = std::clamp(1000 - drift_margin_permille, 0, 1000);
  return std::chrono::duration_cast<Clock::duration>(promise) * keep / 1000;
}

void ReadLease::reset(const raft::LeaseBasis& basis) {
  term_ = basis.term;
  round_floor_ = basis.round_floor;
  // Rounds started before now may have left long ago: never stamped.
  last_stamped_ = std::max(basis.round_floor, basis.last_round);
  stamps_.clear();
  expiry_ = Clock::time_point{};
}

void ReadLease::observe(const raft::LeaseBasis& basis, Clock::time_point now) {
  if (!basis.eligible || !same_epoch(basis)) reset(basis);
  if (!basis.eligible) return;
  if (basis.last_round > last_stamped_) {
    // Rounds started since the last look leave no earlier than now; the
    // latest one stands for all of them (see below).
    stamps_.emplace_back(basis.last_round, now);
    last_stamped_ = basis.last_round;
    if (stamps_.size() > kMaxReadLeaseStamps) stamps_.pop_front();
  }
  if (basis.confirmed_round == 0) return;
  // The confirmed round's stamp, or, if it was never stamped (started
  // between two looks), that of the latest stamped round before it: an
  // earlier time, so a shorter lease.
  std::optional<Clock::time_point> start;
  while (!stamps_.empty() && stamps_.front().first <= basis.confirmed_round) {
    start = stamps_.front().second;
    stamps_.pop_front();
  }
  if (start) expiry_ = std::max(expiry_, *start + length_);
}

bool ReadLease::valid(const raft::LeaseBasis& basis, Clock::time_point now) const {
  return basis.eligible && same_epoch(basis) && now < expiry_;
}

}  // namespace corral::server
