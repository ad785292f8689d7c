// Leadership transfers a client waits for (move-leader).
//
// Raft's transfer is fire and forget: the leader sends TimeoutNow once the
// target has caught up and drops the transfer, silently, after an election
// timeout; a follower's forwarded request is lost with its message when a
// link is down. Answering "transferred" when it was only asked for told a
// client a move had happened that never did. So, as etcd's MoveLeader
// does, the answer waits until this member sees the target lead, or says
// the move timed out (the caller sets the deadline: cluster_admin.cc).
// Meanwhile the transfer is asked again after a retry interval with no
// transfer running (a lost forward, an aborted one), a bounded number of
// times: the leader takes no proposal while a transfer runs, and a target
// that is down would otherwise hold writes off until the deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "coordinator/net/client_listener.h"

namespace corral::server {

// Waiting moves a member holds at most; past it a move is refused.
inline constexpr size_t kMaxWaitingLeaderMoves = 64;
// Times one move asks raft for the transfer, the first ask included.
inline constexpr int kMaxLeaderMoveAsks = 3;

class LeaderMoves {
 public:
  using Clock = std::chrono::steady_clock;
  struct Waiter {
    net::ConnectionId connection;
    uint64_t request_id = 0;
    uint64_t target = 0;
    Clock::time_point deadline;
    Clock::time_point next_ask;
    int asks = 1;
  };

  explicit LeaderMoves(std::chrono::milliseconds retry_interval) : retry_interval_(retry_interval) {}

  // A move just asked of raft; false (nothing kept) when too many wait.
  bool add(net::ConnectionId connection, uint64_t request_id, uint64_t target, Clock::time_point now,
           Clock::time_point deadline);
  // `leader`: whom this member follows (itself when it leads);
  // `transfer_running`: this member leads and a transfer is under way (a
  // follower cannot know: false). Calls ask(target) for each transfer to
  // ask again and answer(waiter, moved) for each move that ended.
  void step(Clock::time_point now, uint64_t leader, bool transfer_running,
            const std::function<void(uint64_t target)>& ask,
            const std::function<void(const Waiter&, bool moved)>& answer);
  // Every waiter, for a member that stops.
  std::vector<Waiter> take_all();
  bool empty() const { return waiting_.empty(); }

 private:
  std::chrono::milliseconds retry_interval_;
  std::vector<Waiter> waiting_;
};

}  // namespace corral::server
