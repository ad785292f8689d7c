// A leader's read lease (--read-lease; docs/design.md "Lease reads"): the
// clock side of raft's LeaseBasis. Pure: the caller passes the time.
//
// Every read round raft starts is stamped with the steady time the loop
// first sees it, which is before any of its heartbeats leave. When a quorum
// has answered a round, each of those voters received it after that stamp
// t0 and promised not to vote for anyone for `promise_ticks` of its ticks;
// its ticks are at least one tick length apart (the loop does not catch up
// on missed ticks with the lease on), and the first may come at once, so
// nobody else can lead before t0 + (promise_ticks - 1) ticks by its clock.
// The lease ends earlier than that by a drift margin for clocks that run
// at different rates. The lease is checked with the clock at the moment a
// read is served, never by counting ticks: a starved loop ticks late.
//
// Nothing carries over a term, a role change, a transfer or a membership
// change (LeaseBasis::eligible, round_floor): the stamps are forgotten.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

#include "coordinator/raft/read_only.h"

namespace corral::server {

// The clock-rate difference between members the lease allows for, in
// thousandths of its length.
inline constexpr int kReadLeaseDriftMarginPermille = 100;
// The followers' promise, in heartbeat intervals: long enough for the lease
// to outlive the interval between two heartbeat rounds, short enough that
// a failover still takes well under a second.
inline constexpr int kReadLeasePromiseHeartbeats = 3;
// The ticks after a start in which a member keeps the promise an earlier run
// may have made, whatever its --read-lease (raft::Config::
// restart_promise_ticks); the loop spaces its ticks meanwhile.
inline constexpr int restart_promise_ticks(int heartbeat_ticks) {
  return kReadLeasePromiseHeartbeats * heartbeat_ticks;
}
// Round stamps kept; an older round's stamp is dropped (it then proves
// nothing, which is only conservative).
inline constexpr size_t kMaxReadLeaseStamps = 256;

// The lease's clock: CLOCK_BOOTTIME, which, unlike steady_clock
// (CLOCK_MONOTONIC), keeps counting while the machine is suspended: a
// leader whose host slept must find its lease over when it wakes, while its
// followers' promises ran out in real time. It is never stepped either.
struct LeaseClock {
  using rep = int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<LeaseClock>;
  static constexpr bool is_steady = true;
  static time_point now() noexcept;
};

class ReadLease {
 public:
  using Clock = LeaseClock;

  // What a follower's promise of promise_ticks ticks of tick_ms guarantees,
  // in ms of its clock: (promise_ticks - 1) ticks (the first may come at
  // once), capped at what the wire carries (raft::Config::lease_promise_ms;
  // promising less than one keeps is only conservative).
  static uint16_t promise_ms_for(int promise_ticks, int tick_ms);
  // The lease a promise of promise_ms backs: less the drift margin.
  static Clock::duration length_for(uint16_t promise_ms, int drift_margin_permille);
  // length_for(promise_ms_for(promise_ticks, tick_ms), margin).
  static Clock::duration length_for(int promise_ticks, int tick_ms, int drift_margin_permille) {
    return length_for(promise_ms_for(promise_ticks, tick_ms), drift_margin_permille);
  }

  explicit ReadLease(Clock::duration length) : length_(length) {}

  // Called with raft's basis before the loop sends what raft produced
  // (each Ready), and before a read is served: stamps new rounds with `now`
  // and extends the lease by the newest confirmed one.
  void observe(const raft::LeaseBasis& basis, Clock::time_point now);
  // Whether a read may be served from the leader's own state at `now`.
  bool valid(const raft::LeaseBasis& basis, Clock::time_point now) const;
  Clock::time_point expiry() const { return expiry_; }
  Clock::duration length() const { return length_; }

 private:
  bool same_epoch(const raft::LeaseBasis& basis) const {
    return basis.term == term_ && basis.round_floor == round_floor_;
  }
  void reset(const raft::LeaseBasis& basis);

  Clock::duration length_;
  raft::Term term_ = 0;
  uint64_t round_floor_ = 0;
  uint64_t last_stamped_ = 0;
  std::deque<std::pair<uint64_t, Clock::time_point>> stamps_;  // round, first seen; ascending
  Clock::time_point expiry_{};  // the epoch's lease ends here (min: none)
};

}  // namespace corral::server
