// Lease keep-alives on their way through the leader, in three stages:
//
//   unsent     arrived this turn; the next ReadIndex round takes them all
//   confirming waiting for that round (one heartbeat round confirms every
//              keep-alive of the turn, as batched linearizable reads)
//   resetting  renewed, waiting for the checkpoint reset the lessor asked
//              for (lessor.h) to apply
//
// Why a deposed leader cannot renew: a keep-alive is applied to the lessor
// only after a quorum answered a heartbeat of this leader's term sent after
// the keep-alive arrived. A newer leader needs a vote from one member of that
// quorum, given after its answer, so it was elected after the keep-alive
// arrived, and it starts the lease no earlier than a whole TTL after (or
// from a checkpoint taken after the renewal). A leader cut off from a quorum
// never gets the round confirmed: its keep-alives time out unanswered.
// CheckQuorum alone would not do: a leader steps down only an election
// timeout after it stops hearing from a quorum, while a newer leader may be
// elected before that.
//
// Confirmed keep-alives are served at most kMaxKeepAlivesServedPerTurn a
// loop turn, oldest first (a round of 30k kept 100k-lease turns at 0.6-2.4 s,
// past an election timeout); the rest wait, confirmed, for the next turns.
// Serving one late is safe: the confirmation came after it arrived, and the
// lessor checks its lease (expired, checkpoint to reset) when it is served.
//
// Plain data and bounds; the node loop drives it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "coordinator/lease/lease_types.h"
#include "coordinator/net/client_listener.h"

namespace corral::server {

// Keep-alives waiting in all stages together (the ids of batches counted
// one by one; ~80 bytes each, ~10 MB in all); past it a keep-alive, or a
// whole batch, gets `unavailable` at once. Room for 100k leases kept alive
// and all of them retried at once after a leader change.
inline constexpr size_t kMaxWaitingKeepAlives = 1 << 17;
// Confirmed keep-alives one loop turn serves (a few microseconds each:
// ~10-20 ms a turn); a full queue drains in 32 turns.
inline constexpr size_t kMaxKeepAlivesServedPerTurn = 4096;

struct WaitingKeepAlive {
  net::ConnectionId connection;
  uint64_t request_id = 0;
  lease::LeaseId lease = 0;
  std::chrono::steady_clock::time_point deadline;
  int64_t ttl_seconds = 0;  // set once renewed
  uint64_t batch = 0;       // 0: a single keep-alive; else its KeepAliveBatches handle
  uint32_t index = 0;       // its place in the batch
};

class LeaseKeepAlives {
 public:
  // False (nothing queued) past kMaxWaitingKeepAlives.
  bool add(WaitingKeepAlive k);
  // All or nothing: false (nothing queued) if they do not all fit.
  bool add_all(std::vector<WaitingKeepAlive> ks);
  bool has_unsent() const { return !unsent_.empty(); }
  // Moves every unsent keep-alive to the round named `ctx`.
  void start_round(uint64_t ctx);
  // Round `ctx` confirmed leadership; false if no such round.
  bool confirm(uint64_t ctx);
  // Up to max_count confirmed keep-alives, in the order their rounds were
  // confirmed; the rest stay for the next call.
  std::vector<WaitingKeepAlive> take_confirmed(size_t max_count);
  bool has_confirmed() const { return !confirmed_.empty(); }
  // Renewed keep-alives that wait for the reset batch `sequence`.
  void wait_for_reset(uint64_t sequence, std::vector<WaitingKeepAlive> keepalives);
  // Those whose reset batch is at or below `applied_sequence`.
  std::vector<WaitingKeepAlive> take_reset(uint64_t applied_sequence);
  // Those past their deadline, in any stage.
  std::vector<WaitingKeepAlive> take_expired(std::chrono::steady_clock::time_point now);
  // Everything (leadership lost, member stopping).
  std::vector<WaitingKeepAlive> take_all();
  size_t size() const { return size_; }

 private:
  using Batches = std::map<uint64_t, std::vector<WaitingKeepAlive>>;
  void take_expired_from(Batches& batches, std::chrono::steady_clock::time_point now,
                                std::vector<WaitingKeepAlive>& out);
  void note_deadline(std::chrono::steady_clock::time_point d) { next_deadline_ = std::min(next_deadline_, d); }
  std::vector<WaitingKeepAlive> unsent_;
  Batches confirming_;  // by round ctx
  std::deque<WaitingKeepAlive> confirmed_;  // served from the front
  Batches resetting_;  // by reset batch sequence
  size_t size_ = 0;
  // No keep-alive waits past a deadline earlier than this: take_expired
  // scans nothing before it (it runs every turn; a scan of 100k waiting
  // keep-alives each turn would be the loop's main cost).
  std::chrono::steady_clock::time_point next_deadline_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace corral::server
