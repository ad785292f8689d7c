// The role state machine of one consensus node: follower, pre-candidate,
// candidate, leader. Driven by RawNode; not for direct use by the server.
//
// Membership changes: one server at a time (etcd's v1 ConfChange, Raft thesis
// 4.1). A change takes effect when the application applies its entry and
// calls apply_conf_change(), on every member alike. At most one change is
// uncommitted/unapplied (pending_conf_index_). A leader also refuses a change
// until it has committed an entry of its own term: otherwise a leader that
// has not yet caught up with a change proposed by its predecessor could add
// its own change on a different base configuration, and two configurations
// with disjoint majorities could both commit (the single-server-change bug
// Diego Ongaro described on raft-dev in 2015; the fix is this very rule).
// A node does not campaign while a committed conf change is unapplied.
//
// Persistence and sending order (see ready.h): everything produced by one
// turn is handed out in one Ready; the application persists entries and hard
// state before it sends any message except a leader's (a leader may write its
// log in parallel with replicating it, thesis 10.2.1). A leader counts its
// own entries toward commit only once the application reports them
// persisted (on_persisted, from RawNode::advance or advance_append), so a
// commit always rests on a persisted majority even when the leader's write
// runs on another thread. Votes and append acknowledgements are only sent
// after they are durable.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "coordinator/raft/config.h"
#include "coordinator/raft/progress.h"
#include "coordinator/raft/raft_log.h"
#include "coordinator/raft/read_only.h"
#include "coordinator/raft/rng.h"
#include "coordinator/raft/status.h"
#include "coordinator/raft/types.h"

namespace corral::raft {

// kRequestVote context of an election started by leadership transfer: it
// bypasses the followers' leader lease.
inline constexpr const char* kCampaignTransferContext = "corral:campaign-transfer";

class Raft {
 public:
  explicit Raft(const Config& config);

  void tick();
  // Starts an election: a pre-vote first when PreVote is on, unless `transfer`.
  void campaign(bool transfer);
  Status propose(std::string data, EntryType type);
  Status propose_conf_change(const ConfChange& cc);
  ConfState apply_conf_change(const ConfChange& cc);
  Status step(const Message& m);
  void read_index(std::string ctx);
  void transfer_leader(NodeId transferee);
  // A follower forgets its leader (etcd raft's ForgetLeader): leaderless, it
  // grants pre-votes at once instead of honouring the leader's lease, and
  // its own election comes forward to within the next 1..heartbeat_ticks+1
  // ticks (random, so two followers that both saw the leader die seldom
  // campaign together). If the leader is alive after all, its next
  // heartbeat makes it the leader again and resets the timer. Only timing
  // changes, never safety. No-op on a leader, candidate or leaderless node.
  void forget_leader();
  void report_unreachable(NodeId id);
  // What a read lease may rest on now (Config::lease_promise_ticks).
  LeaseBasis lease_basis() const;
  // Whether a snapshot with this metadata would replace the log (restore).
  bool wants_snapshot(const SnapshotMetadata& md) const;
  // The application installed (durably) a snapshot it checked with
  // wants_snapshot: restore to it, nothing left to persist or apply, and
  // tell the leader (if known) the log now reaches md.index.
  bool snapshot_installed(const SnapshotMetadata& md);
  // See RawNode::answer_read_on_lease.
  bool answer_read_on_lease(const Message& m);
  void report_snapshot(NodeId id, bool ok);

  // Sends what was batched during this turn: one kAppend per follower for all
  // new proposals, one heartbeat round for all new reads. Called by RawNode
  // before it hands out a Ready.
  void flush();
  bool flush_needed() const;
  // The application persisted the log up to (index, term): a leader's own
  // progress advances, which may commit. Ignored when that entry has since
  // been overwritten, or off the leader role.
  void on_persisted(Index index, Term term);
  // Committed entries were applied: they no longer count as uncommitted.
  void reduce_uncommitted_bytes(uint64_t applied_bytes);

  SoftState soft_state() const { return SoftState{lead_, role_}; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  ConfState conf_state() const;
  NodeId id() const { return id_; }
  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId lead() const { return lead_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  const std::map<NodeId, Progress>& progress() const { return prs_; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  uint64_t uncommitted_bytes() const { return uncommitted_bytes_; }

  std::vector<Message> msgs;
  std::vector<ReadState> read_states;

 private:
  bool promotable() const;
  bool is_voter(NodeId id) const;
  size_t voter_count() const;
  size_t quorum() const { return voter_count() / 2 + 1; }
  bool committed_entry_in_current_term() const;
  bool has_unapplied_conf_change() const;

  void reset(Term term);
  void reset_randomized_election_timeout();
  void become_follower(Term term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  enum class VoteResult { kPending, kWon, kLost };
  enum class CampaignType { kPreElection, kElection, kTransfer };
  void campaign_as(CampaignType kind);
  VoteResult poll(NodeId id, bool granted);

  void tick_election();
  void tick_heartbeat();
  bool past_election_timeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  // Config::lease_promise_ticks: not yet that many ticks since a leader was
  // heard; or Config::restart_promise_ticks: not yet that many since start.
  bool lease_promise_held() const {
    return (config_.lease_promise_ticks > 0 && ticks_since_leader_ < config_.lease_promise_ticks) ||
           ticks_since_start_ < config_.restart_promise_ticks;
  }
  void heard_from_leader() { ticks_since_leader_ = 0; }
  void check_quorum_active();

  void send(Message m);
  bool maybe_send_append(NodeId to, bool send_if_empty);
  void send_heartbeat(NodeId to, const std::string& ctx);
  void bcast_append();
  void bcast_heartbeat(const std::string& ctx);
  void send_timeout_now(NodeId to);
  bool append_entries(std::vector<Entry> ents);
  bool maybe_commit();
  void on_commit_advanced();

  void step_vote_request(const Message& m);
  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void handle_transfer_leader(NodeId transferee);
  bool restore(const Snapshot& snap);
  void restore_conf_state(const ConfState& cs);

  void leader_read_index(NodeId from, std::string ctx);
  void answer_read(const PendingRead& read);
  void release_confirmed_reads();
  // The highest read round a quorum of voters (this node included)
  // answered; with_promise: counting only answers that promise at least
  // Config::lease_promise_ms (promise_backs_lease).
  uint64_t quorum_acked_round(bool with_promise) const;
  bool promise_backs_lease(const Message& heartbeat_response) const;
  void release_held_reads();
  void abort_leader_transfer() { lead_transferee_ = kNoNode; }
  void add_progress(NodeId id, bool learner);

  Config config_;
  NodeId id_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  RaftLog log_;
  std::map<NodeId, Progress> prs_;  // voters and learners, this node included
  std::map<NodeId, bool> votes_;
  Role role_ = Role::kFollower;
  NodeId lead_ = kNoNode;
  NodeId lead_transferee_ = kNoNode;
  Index pending_conf_index_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  bool append_pending_ = false;  // proposals appended this turn, not yet sent
  ReadOnly read_only_;
  std::vector<PendingRead> held_reads_;  // wait for a commit in this term
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  // Lease reads (Config::lease_promise_ticks). Zero at start: a restarted
  // node keeps the promise it may have made before it stopped.
  int ticks_since_leader_ = 0;
  int ticks_since_start_ = 0;  // up to Config::restart_promise_ticks
  uint64_t lease_round_floor_ = 0;
  bool timeout_now_sent_ = false;  // in this term
  SplitMix64 rng_;
};

}  // namespace corral::raft
