// The public face of the consensus core: a single-threaded state machine that
// is driven from outside (tick, step, propose) and tells what to do (Ready).
// No threads, I/O, clock or global RNG: the same inputs give the same outputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "coordinator/raft/config.h"
#include "coordinator/raft/read_only.h"
#include "coordinator/raft/ready.h"
#include "coordinator/raft/status.h"
#include "coordinator/raft/types.h"

namespace corral::raft {

class Raft;


// Per-peer replication state, for status and tests.
struct PeerProgress {
  NodeId id = kNoNode;
  Index match = 0;
  Index next = 0;
  enum class State : uint8_t { kProbe, kReplicate, kSnapshot } state = State::kProbe;
  bool learner = false;
  uint32_t inflight = 0;
};

struct EntryPosition {
  Index index = 0;
  Term term = 0;
};

struct NodeStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  Index applied = 0;
  Index last_index = 0;
  NodeId lead_transferee = kNoNode;
  ConfState conf_state;
  std::vector<PeerProgress> progress;  // leader only
};

class RawNode {
 public:
  // Starts from what config.storage holds (hard state, conf state, log). A
  // brand-new cluster's storage holds a ConfState naming the initial voters;
  // a node joining a running cluster starts with the current membership
  // (without itself) and learns of itself when it applies its conf change,
  // or from a snapshot. config.applied must not exceed the stored commit.
  explicit RawNode(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Advances logical time by one tick (heartbeats, election timeouts).
  void tick();
  // Starts an election now (skipping PreVote's wait, not its rules).
  void campaign();
  // Proposes a command. kProposalDropped when this node is not the leader or
  // a leadership transfer is in progress; kTooLarge past max_uncommitted_bytes.
  // On kOk, `appended_at` (if given) is where the entry went: it commits
  // there or nowhere.
  Status propose(std::string data, EntryPosition* appended_at = nullptr);
  // Proposes a membership change; one at a time (kConfChangePending).
  Status propose_conf_change(const ConfChange& cc);
  // Applies a committed conf-change entry; the application calls it when it
  // applies that entry. Returns the new membership.
  ConfState apply_conf_change(const ConfChange& cc);
  // Handles a message from a peer.
  Status step(const Message& msg);
  // Asks for a linearizable read point; answered in Ready::read_states with
  // the same ctx. A follower forwards it to the leader.
  void read_index(std::string request_ctx);
  // Asks the leader to hand leadership to `transferee`.
  void transfer_leader(NodeId transferee);
  // The application has strong reason to think the leader is dead (its
  // connection dropped): see Raft::forget_leader.
  void forget_leader();
  // The application reports a peer unreachable (send failed) or a snapshot
  // sent/failed, so the leader stops pipelining to it / resumes probing.
  void report_unreachable(NodeId id);
  void report_snapshot(NodeId id, bool ok);

  // Installing a snapshot off the caller's thread (server/snapshot_installer.h):
  // wants_snapshot says whether one with this metadata would replace the log
  // now (a kSnapshot message would restore it); once the caller holds it
  // durably, with its state machine loaded from it, snapshot_installed
  // restores raft to it as if a Ready had carried it and been advanced (no
  // Ready hands it out), and queues the acknowledgement to the leader. Ask
  // wants_snapshot before the storage holds it (after, the storage's term at
  // md.index matches); snapshot_installed is false (and does nothing) for a
  // snapshot not newer than the commit index or not naming this node. Call
  // outside a Ready (between advance() and the next ready()).
  bool wants_snapshot(const SnapshotMetadata& md) const;
  bool snapshot_installed(const SnapshotMetadata& md);
  // While paused, no Ready hands out committed entries (the application's
  // state machine is not there yet: a snapshot's state still loading);
  // they stay in the log, and come in order once resumed. Everything else
  // (appends, acknowledgements, votes) goes on.
  void pause_apply(bool paused) { apply_paused_ = paused; }

  bool has_ready() const;
  Ready ready();
  // The last Ready has been handled (persisted, sent, applied). Call it
  // before the next ready(): until then ready() hands out the same entries.
  // With Config::async_storage_writes the Ready's entries need not be
  // persisted yet: report them with advance_append() once they are.
  void advance();
  // Asynchronous storage writes: the log is persisted up to (index, term),
  // the last entry of a write (an entry since overwritten is ignored). A
  // leader's own acknowledgement: it may commit and apply.
  void advance_append(Index index, Term term);

  NodeStatus status() const;
  NodeId id() const;
  // What a lease-based read may rest on now (Config::lease_promise_ticks;
  // the server keeps the clock: server/read_lease.h). Cheap: no copies.
  LeaseBasis lease_basis() const;
  // A follower's forwarded read (a kReadIndex message), answered at once at
  // the leader's commit index instead of joining a heartbeat round. Only
  // for a caller that has just checked its read lease valid against
  // lease_basis() (server/read_lease.h). false, and nothing done, when raft
  // holds no lease basis now (not the leader, no confirmed round, another
  // term, a transfer started, ...): step() the message instead.
  bool answer_read_on_lease(const Message& msg);

 private:
  // What the last Ready handed out, for advance().
  struct PendingAdvance {
    Index stable_index = 0;
    Term stable_term = 0;
    Index snapshot_index = 0;
    Index applied_index = 0;
    uint64_t applied_bytes = 0;
  };

  std::unique_ptr<Raft> raft_;
  SoftState prev_soft_;
  HardState prev_hard_;
  PendingAdvance pending_;
  bool async_storage_writes_ = false;
  bool apply_paused_ = false;
  uint64_t max_committed_bytes_per_ready_ = 0;
};

}  // namespace corral::raft
