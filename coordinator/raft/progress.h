// What a leader knows about one follower's log, and how it sends to it:
//   kProbe:     next is a guess; one kAppend at a time until one is accepted.
//   kReplicate: next is optimistic; kAppends are pipelined up to the inflight
//               window.
//   kSnapshot:  a snapshot is on its way; nothing else is sent until it is
//               acknowledged, reported, or times out.
#pragma once

#include <cstdint>

#include "coordinator/raft/inflights.h"
#include "coordinator/raft/types.h"

namespace corral::raft {

class Progress {
 public:
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot };

  Progress(Index next, uint32_t max_inflight_appends, bool learner);

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);
  // An acknowledgement of everything up to n; false if it says nothing new.
  bool maybe_update(Index n);
  // Pipelining: assume the kAppend ending at n will be accepted.
  void optimistic_update(Index n) { next = n + 1; }
  // A rejection of the kAppend after `rejected`, with the follower's hint
  // (the last index where our logs may agree). false if stale.
  bool maybe_decr_to(Index rejected, Index match_hint);
  bool is_paused() const;

  Index match = 0;
  Index next = 1;
  State state = State::kProbe;
  bool probe_sent = false;       // kProbe: one kAppend outstanding, wait
  Index pending_snapshot = 0;    // kSnapshot: index of the snapshot sent
  uint32_t snapshot_wait_timeouts = 0;  // election timeouts spent in kSnapshot
  bool recent_active = false;    // heard from it during this election timeout
  bool learner = false;
  uint64_t read_round_acked = 0;  // highest ReadIndex heartbeat round it answered
  // Highest round it answered with a lease promise at least the leader's
  // own (Config::lease_promise_ms): only these rounds prove a read lease.
  uint64_t lease_round_acked = 0;
  Inflights inflights;

 private:
  void reset_state(State s);
};

const char* progress_state_name(Progress::State s);

}  // namespace corral::raft
