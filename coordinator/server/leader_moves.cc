#include "coordinator/server/leader_moves.h"

#include <utility>

namespace corral::server {

bool LeaderMoves::add(net::ConnectionId connection, uint64_t request_id, uint64_t target, Clock::time_point now,
                      Clock::time_point deadline) {
  if (waiting_.size() >= kMaxWaitingLeaderMoves) return false;
  waiting_.push_back(Waiter{std::move(connection), request_id, target, deadline, now + retry_interval_});
  return true;
}

void LeaderMoves::step(Clock::time_point now, uint64_t leader, bool transfer_running,
                       const std::function<void(uint64_t)>& ask,
                       const std::function<void(const Waiter&, bool)>& answer) {
  bool asked = false;  // one ask per step: a second would abort the first
  for (size_t i = 0; i < waiting_.size();) {
    Waiter& w = waiting_[i];
    const bool moved = leader == w.target;
    if (moved || now >= w.deadline) {
      answer(w, moved);
      waiting_[i] = std::move(waiting_.back());
      waiting_.pop_back();
      continue;
    }
    // A running transfer (maybe another client's) is left to finish or
    // fail: asking again would abort it.
    if (now >= w.next_ask && !transfer_running && !asked && w.asks < kMaxLeaderMoveAsks) {
      w.next_ask = now + retry_interval_;
      ++w.asks;
      ask(w.target);
      asked = true;
    }
    ++i;
  }
}

std::vector<LeaderMoves::Waiter> LeaderMoves::take_all() {
  std::vector<Waiter> all;
  all.swap(waiting_);
  return all;
}

}  // namespace corral::server
