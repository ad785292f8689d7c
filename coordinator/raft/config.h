// Settings of one consensus node. Every bound has its unit in its name.
#pragma once

#include <cstdint>

#include "coordinator/raft/types.h"

namespace corral::raft {

class LogStorage;

struct Config {
  NodeId id = kNoNode;
  // A follower that hears no leader for a random number of ticks in
  // [election_ticks, 2*election_ticks) campaigns.
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  const LogStorage* storage = nullptr;  // not owned; must outlive the node
  // Last index the application had applied at restart; at most the stored
  // log's last index. It may exceed the stored commit index (asynchronous
  // writes persist the commit index after apply): it counts as committed.
  Index applied = 0;
  uint64_t max_bytes_per_append = 1 << 20;  // entry data per kAppend message
  uint32_t max_inflight_appends = 256;      // unacknowledged kAppend per follower in replicate state
  uint64_t max_uncommitted_bytes = 64 << 20;  // proposals past this are refused (kTooLarge)
  // Committed entries handed out in one Ready, in bytes of entry data (at
  // least one entry is always handed out): etcd raft's MaxCommittedSizePerReady.
  uint64_t max_committed_bytes_per_ready = 4 << 20;
  bool pre_vote = true;
  bool check_quorum = true;
  // Seed of the node's own PRNG for randomised election timeouts. raft never
  // reads a global RNG: the same seed gives the same timeouts.
  // The node mixes its id into the seed so that members given one seed still
  // draw different timeouts.
  uint64_t rng_seed = 1;
  // Asynchronous storage writes (etcd raft's AsyncStorageWrites): the
  // application may persist a Ready's entries after it has called advance(),
  // e.g. on a writer thread, and reports them with RawNode::advance_append().
  // A Ready then hands out only entries not handed out before, and committed
  // entries only up to the persisted index. Either way a leader counts its
  // own entries toward commit only once they are reported persisted.
  bool async_storage_writes = false;
  // Lease-based linearizable reads (the server's --read-lease); 0: off, and
  // raft behaves exactly as without it. A node promises not to vote or
  // pre-vote for anyone, nor to campaign (except on a leader's TimeoutNow),
  // until this many of its ticks have passed since it last heard from a
  // leader, even after forget_leader() or a restart. A leader starts a read
  // round with every heartbeat, so that each one can renew its lease
  // (LeaseBasis). Must not exceed election_ticks.
  int lease_promise_ticks = 0;
  // What that promise is worth in time: the least time, in ms of this
  // node's own clock, between its receiving a heartbeat and its voting or
  // campaigning (corrald: (lease_promise_ticks - 1) ticks, its ticks being
  // at least a tick length apart). A follower advertises it in every
  // heartbeat acknowledgement (Message::lease_promise_ms); a leader counts
  // an acknowledgement toward its read lease only if it promises at least
  // as much as the leader's own, which is what the leader's lease length
  // is computed from. raft only compares the numbers. Required (> 0) with
  // lease_promise_ticks.
  uint16_t lease_promise_ms = 0;
  // The first this many ticks after start: vote for nobody and do not
  // campaign, even with lease_promise_ticks 0. A member restarted with lease
  // reads turned off (or before a rolling change of the setting is done)
  // keeps the promise its previous run may have made, on which a leader may
  // still be serving reads. 0: raft unchanged (corrald sets it always).
  int restart_promise_ticks = 0;

  // TEST-ONLY. Break safety on purpose so that the simulator can prove its
  // checkers catch it. Never set them outside tests.
  // A leader treats its own append as a quorum: commits at once.
  bool testing_unsafe_commit_without_quorum = false;
  // Votes are granted without the up-to-date log check (paper 5.4.1).
  bool testing_unsafe_vote_ignores_log = false;
};

}  // namespace corral::raft
