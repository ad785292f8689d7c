// Linearizable reads without a log write (ReadIndex, Raft thesis 6.4), in
// safe mode: a read is served at the commit index the leader had when the
// read arrived, once a quorum has answered a heartbeat sent after that.
//
// Batching: reads join the next heartbeat "round"; the leader sends at most
// one round per Ready, so one round confirms every read waiting at that
// moment. A round is named by a counter that increases for the life of the
// node and travels as the heartbeat's context (8 bytes, little-endian). A
// follower's answer to round r also confirms every earlier round. Regular
// heartbeats carry the latest started round while reads of it wait, so a
// lost round costs one heartbeat interval, not the requester's timeout.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/raft/types.h"

namespace corral::raft {

// At most this many reads wait for confirmation; past it new reads are
// dropped (the requester times out and retries, as with a lost message).
inline constexpr size_t kMaxPendingReadRequests = 1 << 16;

struct PendingRead {
  uint64_t round = 0;
  Index index = 0;
  NodeId from = kNoNode;  // who asked: this node or a follower that forwarded it
  std::string ctx;
};

// What a leader's read lease rests on (the clock side is the server's
// ReadLease). A round acknowledged by a quorum of voters that each said
// they hold the promise (Message::lease_promise_ms, at least the leader's
// own) proves that none of them will vote for another candidate for
// lease_promise_ticks of its ticks after it received that round's
// heartbeat. Acknowledgements without it confirm ReadIndex rounds only.
struct LeaseBasis {
  // Lease reads on, the leader, an entry of its term committed, and no
  // leadership transfer started in this term (its TimeoutNow makes the
  // transferee campaign past every promise).
  bool eligible = false;
  Term term = 0;
  // Rounds up to this one never prove a lease: started before this node
  // became leader or before the last membership change.
  uint64_t round_floor = 0;
  Index commit = 0;
  uint64_t last_round = 0;       // the latest round started
  uint64_t confirmed_round = 0;  // the latest round a promising quorum answered, above round_floor; 0: none
};

class ReadOnly {
 public:
  // Queues a read at `index` for the next round; false when full (dropped).
  bool add(Index index, NodeId from, std::string ctx);
  bool round_needed() const { return unsent_; }
  // Starts the next round and returns its number.
  uint64_t start_round();
  uint64_t last_round() const { return last_round_; }
  // Some read of a started round is not yet confirmed. Resending that round
  // is safe: every read in it arrived before the resent heartbeat leaves.
  bool round_waiting() const { return !queue_.empty() && queue_.front().round <= last_round_; }
  // A quorum has confirmed every round <= round: those reads may be served.
  std::vector<PendingRead> release_up_to(uint64_t round);
  // Leadership lost: every waiting read is dropped.
  void reset();
  size_t pending() const { return queue_.size(); }

  static std::string encode_round(uint64_t round);
  static std::optional<uint64_t> decode_round(const std::string& ctx);

 private:
  uint64_t last_round_ = 0;
  bool unsent_ = false;
  std::deque<PendingRead> queue_;
};

}  // namespace corral::raft
