#include "coordinator/raft/raft.h"

#include <algorithm>
#include <utility>

#include "coordinator/base/check.h"

namespace corral::raft {

namespace {

bool is_response(MessageType t) {
  return t == MessageType::kAppendResponse || t == MessageType::kRequestVoteResponse ||
         t == MessageType::kRequestPreVoteResponse || t == MessageType::kHeartbeatResponse;
}

MessageType vote_response_type(MessageType t) {
  return t == MessageType::kRequestVote ? MessageType::kRequestVoteResponse
                                        : MessageType::kRequestPreVoteResponse;
}

uint64_t data_bytes(const std::vector<Entry>& ents) {
  uint64_t n = 0;
  for (const Entry& e : ents) n += e.data.size();
  return n;
}

// Checkpoints (one per election timeout) a leader waits for a sent snapshot
// to be acknowledged before it sends it again: at least one full timeout.
constexpr uint32_t kSnapshotWaitElectionTimeouts = 2;

// Each node draws from its own stream even when the whole cluster is given
// one seed, or every member would time out on the same tick forever.
uint64_t node_seed(uint64_t seed, NodeId id) { return seed ^ (id * 0xd1b54a32d192ed03ULL); }

}  // namespace

Raft::Raft(const Config& config)
    : config_(config), id_(config.id), log_(config.storage), rng_(node_seed(config.rng_seed, config.id)) {
  CORRAL_CHECK_MSG(id_ != kNoNode, "raft config: id 0 is reserved");
  CORRAL_CHECK_MSG(config_.heartbeat_ticks > 0, "raft config: heartbeat_ticks must be > 0");
  CORRAL_CHECK_MSG(config_.election_ticks > config_.heartbeat_ticks,
                   "raft config: election_ticks must exceed heartbeat_ticks");
  CORRAL_CHECK_MSG(config_.max_inflight_appends > 0, "raft config: max_inflight_appends must be > 0");
  CORRAL_CHECK_MSG(config_.lease_promise_ticks == 0 || config_.lease_promise_ms > 0,
                   "raft config: lease_promise_ticks needs lease_promise_ms");
  const InitialState init = config_.storage->initial_state();
  restore_conf_state(init.conf_state);
  if (!init.hard_state.empty()) {
    // A stored commit below the compaction point is possible with
    // asynchronous writes (the commit index is written after the entries
    // it covers were applied and compacted): commit_to keeps the higher one.
    CORRAL_CHECK_MSG(init.hard_state.commit <= log_.last_index(), "stored commit index past the log's end");
    log_.commit_to(init.hard_state.commit);
    term_ = init.hard_state.term;
    vote_ = init.hard_state.vote;
  }
  // Only committed entries are applied, so what was applied is committed,
  // even when the commit index on disk lags (asynchronous writes).
  CORRAL_CHECK_MSG(config_.applied <= log_.last_index(), "raft config: applied past the stored log");
  if (config_.applied > log_.committed()) log_.commit_to(config_.applied);
  if (config_.applied > 0) log_.applied_to(config_.applied);
  become_follower(term_, kNoNode);
}

// ---------------------------------------------------------------- membership

ConfState Raft::conf_state() const {
  ConfState cs;
  for (const auto& [id, pr] : prs_) (pr.learner ? cs.learners : cs.voters).push_back(id);
  return cs;
}

bool Raft::promotable() const {
  auto it = prs_.find(id_);
  return it != prs_.end() && !it->second.learner;
}

bool Raft::is_voter(NodeId id) const {
  auto it = prs_.find(id);
  return it != prs_.end() && !it->second.learner;
}

size_t Raft::voter_count() const {
  size_t n = 0;
  for (const auto& [id, pr] : prs_) n += pr.learner ? 0 : 1;
  return n;
}

void Raft::add_progress(NodeId id, bool learner) {
  Progress pr(log_.last_index() + 1, config_.max_inflight_appends, learner);
  // A new member counts as active so that CheckQuorum does not depose the
  // leader before it has had a chance to hear from it.
  pr.recent_active = true;
  prs_.insert_or_assign(id, std::move(pr));
}

void Raft::restore_conf_state(const ConfState& cs) {
  prs_.clear();
  for (NodeId id : cs.voters) add_progress(id, false);
  for (NodeId id : cs.learners) {
    if (!prs_.count(id)) add_progress(id, true);
  }
  if (auto it = prs_.find(id_); it != prs_.end()) it->second.match = log_.persisted_index();
}

bool Raft::committed_entry_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

bool Raft::has_unapplied_conf_change() const {
  if (log_.committed() <= log_.applied()) return false;
  const Index lo = std::max(log_.applied() + 1, log_.first_index());
  auto ents = log_.slice(lo, log_.committed() + 1, UINT64_MAX);
  if (!ents.ok()) return false;
  for (const Entry& e : ents.value()) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

Status Raft::propose_conf_change(const ConfChange& cc) {
  if (role_ != Role::kLeader || lead_transferee_ != kNoNode) return Status::kProposalDropped;
  if (cc.node_id == kNoNode) return Status::kInvalidConfChange;
  if (pending_conf_index_ > log_.applied() || !committed_entry_in_current_term()) {
    return Status::kConfChangePending;
  }
  auto it = prs_.find(cc.node_id);
  const bool member = it != prs_.end();
  const bool voter = member && !it->second.learner;
  switch (cc.type) {
    case ConfChangeType::kAddNode:
      if (voter) return Status::kInvalidConfChange;
      break;
    case ConfChangeType::kAddLearner:
      if (member) return Status::kInvalidConfChange;  // demotion is not supported
      break;
    case ConfChangeType::kRemoveNode:
      if (!member || (voter && voter_count() == 1)) return Status::kInvalidConfChange;
      break;
    default:
      return Status::kInvalidConfChange;
  }
  Status s = propose(encode_conf_change(cc), EntryType::kConfChange);
  if (s == Status::kOk) pending_conf_index_ = log_.last_index();
  return s;
}

ConfState Raft::apply_conf_change(const ConfChange& cc) {
  if (cc.node_id == kNoNode) return conf_state();
  auto it = prs_.find(cc.node_id);
  const bool member = it != prs_.end();
  switch (cc.type) {
    case ConfChangeType::kAddNode:
      if (!member) {
        add_progress(cc.node_id, false);
      } else if (it->second.learner) {
        it->second.learner = false;  // promotion keeps the replication state
      }
      break;
    case ConfChangeType::kAddLearner:
      if (!member) add_progress(cc.node_id, true);
      break;
    case ConfChangeType::kRemoveNode:
      if (!member || (!it->second.learner && voter_count() == 1)) break;
      prs_.erase(it);
      if (cc.node_id == lead_transferee_) abort_leader_transfer();
      if (role_ == Role::kLeader && cc.node_id == id_) {
        // A removed leader steps down; the others elect a new one.
        become_follower(term_, kNoNode);
        return conf_state();
      }
      break;
  }
  // A lease proved under the old membership is not carried over.
  lease_round_floor_ = read_only_.last_round();
  if (role_ == Role::kLeader && voter_count() > 0) {
    // The quorum may have changed size.
    if (maybe_commit()) on_commit_advanced();
  }
  return conf_state();
}

// ------------------------------------------------------------------- roles

void Raft::reset_randomized_election_timeout() {
  randomized_election_timeout_ =
      config_.election_ticks + static_cast<int>(rng_.below(static_cast<uint64_t>(config_.election_ticks)));
}

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  votes_.clear();
  for (auto& [id, pr] : prs_) {
    Progress fresh(log_.last_index() + 1, config_.max_inflight_appends, pr.learner);
    if (id == id_) fresh.match = log_.persisted_index();
    pr = std::move(fresh);
  }
  pending_conf_index_ = 0;
  uncommitted_bytes_ = 0;
  append_pending_ = false;
  read_only_.reset();
  held_reads_.clear();
  timeout_now_sent_ = false;
}

void Raft::become_follower(Term term, NodeId lead) {
  reset(term);
  lead_ = lead;
  if (lead != kNoNode) heard_from_leader();
  role_ = Role::kFollower;
}

void Raft::become_pre_candidate() {
  CORRAL_CHECK(role_ != Role::kLeader);
  // No term change and no vote: a pre-vote must not disturb anyone.
  votes_.clear();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::become_candidate() {
  CORRAL_CHECK(role_ != Role::kLeader);
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  CORRAL_CHECK(role_ != Role::kFollower);
  reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  lease_round_floor_ = read_only_.last_round();
  prs_.at(id_).recent_active = true;
  prs_.at(id_).become_replicate();
  // Conservatively, anything not yet applied may be a conf change.
  pending_conf_index_ = log_.last_index();
  // The empty entry of our term lets us commit (and so serve reads and
  // accept conf changes) without waiting for a client.
  CORRAL_CHECK(append_entries({Entry{}}));
}

Raft::VoteResult Raft::poll(NodeId id, bool granted) {
  votes_.try_emplace(id, granted);
  size_t yes = 0, no = 0;
  for (const auto& [voter, v] : votes_) {
    if (!is_voter(voter)) continue;  // learners' votes never count
    (v ? yes : no) += 1;
  }
  if (yes >= quorum()) return VoteResult::kWon;
  if (no > voter_count() - quorum()) return VoteResult::kLost;
  return VoteResult::kPending;
}

void Raft::campaign(bool transfer) {
  if (transfer) {
    campaign_as(CampaignType::kTransfer);
  } else {
    campaign_as(config_.pre_vote ? CampaignType::kPreElection : CampaignType::kElection);
  }
}

void Raft::campaign_as(CampaignType kind) {
  if (role_ == Role::kLeader || !promotable()) return;
  if (has_unapplied_conf_change()) return;
  // Our own vote breaks the promise too; a lone voter has nobody to wait for.
  if (kind != CampaignType::kTransfer && lease_promise_held() && voter_count() > 1) return;
  const bool pre = kind == CampaignType::kPreElection;
  const bool transfer = kind == CampaignType::kTransfer;
  MessageType type;
  Term vote_term;
  if (pre) {
    become_pre_candidate();
    type = MessageType::kRequestPreVote;
    vote_term = term_ + 1;  // the term we would campaign in; ours is unchanged
  } else {
    become_candidate();
    type = MessageType::kRequestVote;
    vote_term = term_;
  }
  if (poll(id_, true) == VoteResult::kWon) {
    // A single voter wins at once.
    if (pre) {
      campaign_as(CampaignType::kElection);
    } else {
      become_leader();
    }
    return;
  }
  for (const auto& [id, pr] : prs_) {
    if (id == id_ || pr.learner) continue;
    Message m;
    m.type = type;
    m.to = id;
    m.term = vote_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (transfer) m.context = kCampaignTransferContext;
    send(std::move(m));
  }
}

// -------------------------------------------------------------------- time

void Raft::tick() {
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (ticks_since_leader_ < config_.lease_promise_ticks) ++ticks_since_leader_;
  if (ticks_since_start_ < config_.restart_promise_ticks) ++ticks_since_start_;
  if (promotable() && past_election_timeout() && !lease_promise_held()) {
    election_elapsed_ = 0;
    campaign(false);
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      check_quorum_active();
      if (role_ != Role::kLeader) return;
    }
    // A transfer that has not finished within an election timeout failed.
    abort_leader_transfer();
    // A snapshot neither acknowledged nor reported for a full election
    // timeout (counted at these checkpoints) was probably lost: fall back to
    // probing, which resends it.
    for (auto& [id, pr] : prs_) {
      if (pr.state != Progress::State::kSnapshot) continue;
      if (++pr.snapshot_wait_timeouts >= kSnapshotWaitElectionTimeouts) pr.become_probe();
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    if (config_.lease_promise_ticks > 0) {
      // A new round with every heartbeat renews the read lease; it also
      // confirms every read waiting, as the carried round below would.
      bcast_heartbeat(ReadOnly::encode_round(read_only_.start_round()));
      release_confirmed_reads();  // a lone voter confirms its own round
      return;
    }
    // Carry the latest round that still has reads waiting (etcd's
    // lastPendingRequestCtx): if that round's own heartbeats were lost, this
    // one confirms it, instead of the reads waiting for another read.
    bcast_heartbeat(read_only_.round_waiting() ? ReadOnly::encode_round(read_only_.last_round()) : std::string());
  }
}

void Raft::check_quorum_active() {
  size_t active = 0;
  for (auto& [id, pr] : prs_) {
    if (pr.learner) continue;
    if (id == id_ || pr.recent_active) ++active;
  }
  for (auto& [id, pr] : prs_) pr.recent_active = id == id_;
  if (active < quorum()) become_follower(term_, kNoNode);
}

// ----------------------------------------------------------------- sending

void Raft::send(Message m) {
  if (m.from == kNoNode) m.from = id_;
  const bool vote_related = m.type == MessageType::kRequestVote || m.type == MessageType::kRequestPreVote ||
                            m.type == MessageType::kRequestVoteResponse ||
                            m.type == MessageType::kRequestPreVoteResponse;
  if (!vote_related) m.term = term_;
  msgs.push_back(std::move(m));
}

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  auto it = prs_.find(to);
  if (it == prs_.end()) return false;
  Progress& pr = it->second;
  if (pr.is_paused()) return false;
  Message m;
  m.to = to;
  auto prev_term = log_.term(pr.next - 1);
  auto ents = log_.entries_from(pr.next, config_.max_bytes_per_append);
  if (ents.ok() && ents.value().empty() && !send_if_empty) return false;
  if (!prev_term.ok() || !ents.ok()) {
    // The entries it needs are compacted: send the snapshot instead.
    if (!pr.recent_active) return false;
    auto snap = log_.snapshot();
    if (!snap.ok()) return false;  // temporarily unavailable: retried on a later trigger
    CORRAL_CHECK_MSG(!snap.value().empty(), "log compacted without a snapshot");
    m.type = MessageType::kSnapshot;
    pr.become_snapshot(snap.value().metadata.index);
    m.snapshot = std::move(snap).value();
  } else {
    m.type = MessageType::kAppend;
    m.index = pr.next - 1;
    m.log_term = prev_term.value();
    m.entries = std::move(ents).value();
    m.commit = log_.committed();
    // An answer would report the match the leader already has (a commit
    // index update costs each follower a reply and the leader a turn).
    m.ack_not_needed = m.entries.empty() && pr.match + 1 == pr.next;
    if (!m.entries.empty()) {
      const Index last = m.entries.back().index;
      if (pr.state == Progress::State::kReplicate) {
        pr.optimistic_update(last);
        pr.inflights.add(last);
      } else {
        pr.probe_sent = true;
      }
    }
  }
  send(std::move(m));
  return true;
}

void Raft::send_heartbeat(NodeId to, const std::string& ctx) {
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never more than the follower is known to have: it may not have the rest.
  m.commit = std::min(prs_.at(to).match, log_.committed());
  m.context = ctx;
  send(std::move(m));
}

void Raft::bcast_append() {
  for (const auto& [id, pr] : prs_) {
    if (id != id_) maybe_send_append(id, true);
  }
}

void Raft::bcast_heartbeat(const std::string& ctx) {
  for (const auto& [id, pr] : prs_) {
    if (id != id_) send_heartbeat(id, ctx);
  }
}

void Raft::send_timeout_now(NodeId to) {
  timeout_now_sent_ = true;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  send(std::move(m));
}

void Raft::flush() {
  if (role_ != Role::kLeader) {
    append_pending_ = false;
    return;
  }
  if (append_pending_) {
    append_pending_ = false;
    bcast_append();
  }
  if (read_only_.round_needed()) {
    const uint64_t round = read_only_.start_round();
    if (voter_count() == 1 && is_voter(id_)) {
      release_confirmed_reads();
    } else {
      bcast_heartbeat(ReadOnly::encode_round(round));
    }
  }
}

bool Raft::flush_needed() const {
  return role_ == Role::kLeader && (append_pending_ || read_only_.round_needed());
}

// --------------------------------------------------------------- proposals

bool Raft::append_entries(std::vector<Entry> ents) {
  const uint64_t bytes = data_bytes(ents);
  if (bytes > 0 && uncommitted_bytes_ + bytes > config_.max_uncommitted_bytes) return false;
  uncommitted_bytes_ += bytes;
  Index li = log_.last_index();
  for (Entry& e : ents) {
    e.term = term_;
    e.index = ++li;
  }
  log_.append(ents);
  // Our own match moves when the application reports the entries persisted
  // (on_persisted): until then they count toward commit only on followers.
  if (config_.testing_unsafe_commit_without_quorum && maybe_commit()) on_commit_advanced();
  return true;
}

void Raft::on_persisted(Index index, Term term) {
  if (role_ != Role::kLeader) return;
  if (!log_.match_term(index, term)) return;  // overwritten since it was handed out
  auto it = prs_.find(id_);
  if (it == prs_.end()) return;
  if (it->second.maybe_update(index) && maybe_commit()) on_commit_advanced();
}

Status Raft::propose(std::string data, EntryType type) {
  if (role_ != Role::kLeader || lead_transferee_ != kNoNode) return Status::kProposalDropped;
  if (!prs_.count(id_)) return Status::kProposalDropped;
  Entry e;
  e.type = type;
  e.data = std::move(data);
  if (!append_entries({std::move(e)})) return Status::kTooLarge;
  append_pending_ = true;
  return Status::kOk;
}

void Raft::reduce_uncommitted_bytes(uint64_t bytes) {
  if (role_ != Role::kLeader) return;
  uncommitted_bytes_ = bytes > uncommitted_bytes_ ? 0 : uncommitted_bytes_ - bytes;
}

bool Raft::maybe_commit() {
  std::vector<Index> matches;
  for (const auto& [id, pr] : prs_) {
    if (!pr.learner) matches.push_back(pr.match);
  }
  if (matches.empty()) return false;
  std::sort(matches.begin(), matches.end(), std::greater<Index>());
  Index mci = matches[quorum() - 1];
  if (config_.testing_unsafe_commit_without_quorum) mci = log_.last_index();
  return log_.maybe_commit(mci, term_);
}

void Raft::on_commit_advanced() {
  release_held_reads();
  append_pending_ = true;  // followers learn the new commit index
}

void Raft::forget_leader() {
  if (role_ != Role::kFollower || lead_ == kNoNode) return;
  lead_ = kNoNode;
  int soon = 1 + static_cast<int>(rng_.below(static_cast<uint64_t>(config_.heartbeat_ticks) + 1));
  // Lease reads: the promise still holds; campaign only after it ends.
  if (lease_promise_held()) soon += config_.lease_promise_ticks - ticks_since_leader_;
  election_elapsed_ = std::max(election_elapsed_, randomized_election_timeout_ - soon);
}

// ---------------------------------------------------------------- stepping

Status Raft::step(const Message& m) {
  if (is_response(m.type) && !prs_.count(m.from)) return Status::kStepPeerNotFound;

  if (m.term > term_) {
    if (m.type == MessageType::kRequestVote || m.type == MessageType::kRequestPreVote) {
      const bool force = m.context == kCampaignTransferContext;
      const bool in_lease =
          config_.check_quorum && lead_ != kNoNode && election_elapsed_ < config_.election_ticks;
      // Leader lease: while we hear from a leader, nobody disrupts it.
      // Lease reads: nor within the promise, leader forgotten or not.
      if (!force && (in_lease || lease_promise_held())) return Status::kOk;
    }
    if (m.type == MessageType::kRequestPreVote) {
      // A pre-vote never changes our term.
    } else if (m.type == MessageType::kRequestPreVoteResponse && !m.reject) {
      // The term we would get; the election itself bumps ours.
    } else if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kAppend)) {
      // A deposed leader learns our term from this and steps down; without
      // it, a partitioned node with a higher term could never rejoin.
      Message r;
      r.type = MessageType::kAppendResponse;
      r.to = m.from;
      send(std::move(r));
    } else if (m.type == MessageType::kRequestPreVote) {
      Message r;
      r.type = MessageType::kRequestPreVoteResponse;
      r.to = m.from;
      r.term = term_;
      r.reject = true;
      send(std::move(r));
    }
    return Status::kOk;
  }

  if (m.type == MessageType::kRequestVote || m.type == MessageType::kRequestPreVote) {
    step_vote_request(m);
    return Status::kOk;
  }
  switch (role_) {
    case Role::kLeader: step_leader(m); break;
    case Role::kPreCandidate:
    case Role::kCandidate: step_candidate(m); break;
    case Role::kFollower: step_follower(m); break;
  }
  return Status::kOk;
}

void Raft::step_vote_request(const Message& m) {
  // Lease reads: a term learned without hearing a leader (a late answer from
  // a node already in it) clears lead_ and vote_ but not the promise, so the
  // promise is checked for a same-term request too (refused, as with a
  // known leader). Repeating a vote already given, or a transfer's
  // campaign, elects nobody the promise excludes.
  const bool force = m.context == kCampaignTransferContext;
  const bool promised = !force && vote_ != m.from && lease_promise_held();
  const bool can_vote = !promised && (vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                                      (m.type == MessageType::kRequestPreVote && m.term > term_));
  const bool log_ok = config_.testing_unsafe_vote_ignores_log || log_.is_up_to_date(m.index, m.log_term);
  Message r;
  r.type = vote_response_type(m.type);
  r.to = m.from;
  if (can_vote && log_ok) {
    r.term = m.term;
    if (m.type == MessageType::kRequestVote) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  send(std::move(r));
}

void Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::kAppendResponse: handle_append_response(m); break;
    case MessageType::kHeartbeatResponse: handle_heartbeat_response(m); break;
    case MessageType::kTransferLeader:
      if (prs_.count(m.from)) handle_transfer_leader(m.from);
      break;
    case MessageType::kReadIndex:
      if (prs_.count(m.from)) leader_read_index(m.from, m.context);
      break;
    default: break;  // another leader of our term cannot exist; stale types
  }
}

void Raft::step_candidate(const Message& m) {
  const MessageType my_response =
      role_ == Role::kPreCandidate ? MessageType::kRequestPreVoteResponse : MessageType::kRequestVoteResponse;
  switch (m.type) {
    case MessageType::kAppend:
      become_follower(m.term, m.from);
      handle_append(m);
      return;
    case MessageType::kHeartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      return;
    case MessageType::kSnapshot:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      return;
    default: break;
  }
  if (m.type != my_response) return;
  switch (poll(m.from, !m.reject)) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        campaign_as(CampaignType::kElection);
      } else {
        become_leader();
        bcast_append();
        append_pending_ = false;
      }
      break;
    case VoteResult::kLost:
      become_follower(term_, kNoNode);
      break;
    case VoteResult::kPending: break;
  }
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ = 0;
      lead_ = m.from;
      heard_from_leader();
      handle_append(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      heard_from_leader();
      handle_heartbeat(m);
      break;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      heard_from_leader();
      handle_snapshot(m);
      break;
    case MessageType::kTimeoutNow:
      // Transfer: campaign now, past the others' leases.
      if (promotable()) campaign(true);
      break;
    case MessageType::kReadIndexResponse:
      read_states.push_back(ReadState{m.index, m.context});
      break;
    default: break;
  }
}

void Raft::handle_append(const Message& m) {
  for (size_t i = 0; i < m.entries.size(); ++i) {
    // Malformed: not the consecutive entries after m.index. Ignore it.
    if (m.entries[i].index != m.index + 1 + i) return;
  }
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (m.index < log_.committed()) {
    r.index = log_.committed();
    send(std::move(r));
    return;
  }
  if (auto last_new = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    if (m.ack_not_needed && m.entries.empty()) return;
    r.index = *last_new;
    send(std::move(r));
    return;
  }
  // Reject, with a hint that lets the leader skip a whole term per round trip:
  // the last index where our log could agree with a log that has m.log_term
  // at m.index.
  const auto [hint_index, hint_term] =
      log_.find_conflict_by_term(std::min(m.index, log_.last_index()), m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = hint_index;
  r.log_term = hint_term;
  send(std::move(r));
}

void Raft::handle_heartbeat(const Message& m) {
  // The leader sends at most what it knows we have; ignore anything else.
  if (m.commit <= log_.last_index()) log_.commit_to(m.commit);
  Message r;
  r.type = MessageType::kHeartbeatResponse;
  r.to = m.from;
  r.context = m.context;
  // Just heard from the leader: the promise holds from now on, if we make it.
  if (lease_promise_held()) r.lease_promise_ms = config_.lease_promise_ms;
  send(std::move(r));
}

void Raft::handle_snapshot(const Message& m) {
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (m.snapshot && restore(*m.snapshot)) {
    r.index = log_.last_index();
  } else {
    r.index = log_.committed();
  }
  send(std::move(r));
}

namespace {

bool names(const ConfState& cs, NodeId id) {
  return std::find(cs.voters.begin(), cs.voters.end(), id) != cs.voters.end() ||
         std::find(cs.learners.begin(), cs.learners.end(), id) != cs.learners.end();
}

}  // namespace

bool Raft::wants_snapshot(const SnapshotMetadata& md) const {
  // Not newer, or not meant for us (a configuration we are not in), or
  // entries we already have.
  return md.index > log_.committed() && names(md.conf_state, id_) && !log_.match_term(md.index, md.term);
}

bool Raft::restore(const Snapshot& snap) {
  const SnapshotMetadata& md = snap.metadata;
  if (wants_snapshot(md)) {
    log_.restore(snap);
    restore_conf_state(md.conf_state);
    return true;
  }
  // We already have the entries: just fast-forward the commit.
  if (md.index > log_.committed() && names(md.conf_state, id_)) log_.commit_to(md.index);
  return false;
}

bool Raft::snapshot_installed(const SnapshotMetadata& md) {
  // Not match_term: the storage holds the snapshot now, so it matches.
  if (md.index <= log_.committed() || !names(md.conf_state, id_)) return false;
  log_.restore_persisted(Snapshot{md, {}});
  restore_conf_state(md.conf_state);
  if (lead_ != kNoNode && lead_ != id_) {
    Message r;
    r.type = MessageType::kAppendResponse;
    r.to = lead_;
    r.index = log_.last_index();
    send(std::move(r));
  }
  return true;
}

void Raft::handle_append_response(const Message& m) {
  Progress& pr = prs_.at(m.from);
  pr.recent_active = true;
  if (m.reject) {
    Index next_probe = m.reject_hint;
    if (m.log_term > 0) {
      // Skip every entry of ours whose term is above the follower's hint term.
      next_probe = log_.find_conflict_by_term(m.reject_hint, m.log_term).first;
    }
    if (pr.maybe_decr_to(m.index, next_probe)) {
      if (pr.state == Progress::State::kReplicate) pr.become_probe();
      maybe_send_append(m.from, true);
    }
    return;
  }
  if (m.index > log_.last_index()) return;  // acknowledges what we never sent
  const bool was_paused = pr.is_paused();
  if (!pr.maybe_update(m.index)) return;
  switch (pr.state) {
    case Progress::State::kProbe: pr.become_replicate(); break;
    case Progress::State::kSnapshot:
      if (pr.match >= pr.pending_snapshot) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case Progress::State::kReplicate: pr.inflights.free_le(m.index); break;
  }
  if (maybe_commit()) {
    on_commit_advanced();  // the new commit index goes out with this turn's flush
  } else if (was_paused) {
    maybe_send_append(m.from, true);
  }
  // Keep the pipe full: send whatever else fits in the window.
  for (uint32_t i = 0; i < config_.max_inflight_appends && maybe_send_append(m.from, false); ++i) {
  }
  if (m.from == lead_transferee_ && pr.match == log_.last_index()) send_timeout_now(m.from);
}

void Raft::handle_heartbeat_response(const Message& m) {
  Progress& pr = prs_.at(m.from);
  pr.recent_active = true;
  pr.probe_sent = false;
  if (pr.state == Progress::State::kReplicate && pr.inflights.full()) pr.inflights.free_first_one();
  if (pr.match < log_.last_index()) maybe_send_append(m.from, true);
  if (auto round = ReadOnly::decode_round(m.context)) {
    if (*round <= read_only_.last_round()) {
      pr.read_round_acked = std::max(pr.read_round_acked, *round);
      if (promise_backs_lease(m)) pr.lease_round_acked = std::max(pr.lease_round_acked, *round);
      release_confirmed_reads();
    }
  }
}

void Raft::handle_transfer_leader(NodeId transferee) {
  auto it = prs_.find(transferee);
  if (it == prs_.end() || it->second.learner) return;  // learners cannot lead
  if (lead_transferee_ != kNoNode) {
    if (lead_transferee_ == transferee) return;
    abort_leader_transfer();
  }
  if (transferee == id_) return;
  // The transfer must finish within one election timeout.
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (it->second.match == log_.last_index()) {
    send_timeout_now(transferee);
  } else {
    maybe_send_append(transferee, true);
  }
}

void Raft::transfer_leader(NodeId transferee) {
  if (role_ == Role::kLeader) {
    handle_transfer_leader(transferee);
  } else if (lead_ != kNoNode && transferee != kNoNode) {
    Message m;
    m.type = MessageType::kTransferLeader;
    m.from = transferee;  // by convention the forwarded request names the transferee as sender
    m.to = lead_;
    send(std::move(m));
  }
}

// ------------------------------------------------------------------- reads

void Raft::read_index(std::string ctx) {
  if (role_ == Role::kLeader) {
    leader_read_index(id_, std::move(ctx));
  } else if (lead_ != kNoNode) {
    Message m;
    m.type = MessageType::kReadIndex;
    m.to = lead_;
    m.context = std::move(ctx);
    send(std::move(m));
  }
  // Without a known leader the read is dropped; the requester retries.
}

void Raft::leader_read_index(NodeId from, std::string ctx) {
  if (!committed_entry_in_current_term()) {
    // Our commit index may lag the true one until we commit in our term
    // (thesis 6.4 step 1): hold the read until then.
    if (held_reads_.size() < kMaxPendingReadRequests) {
      held_reads_.push_back(PendingRead{0, 0, from, std::move(ctx)});
    }
    return;
  }
  read_only_.add(log_.committed(), from, std::move(ctx));
}

void Raft::release_held_reads() {
  if (held_reads_.empty() || !committed_entry_in_current_term()) return;
  std::vector<PendingRead> held;
  held.swap(held_reads_);
  for (PendingRead& r : held) read_only_.add(log_.committed(), r.from, std::move(r.ctx));
}

uint64_t Raft::quorum_acked_round(bool with_promise) const {
  std::vector<uint64_t> rounds;
  for (const auto& [id, pr] : prs_) {
    if (pr.learner) continue;
    // The leader itself votes for nobody else while it leads, and stops
    // serving from its lease the moment it steps down.
    if (id == id_) {
      rounds.push_back(read_only_.last_round());
    } else {
      rounds.push_back(with_promise ? pr.lease_round_acked : pr.read_round_acked);
    }
  }
  if (rounds.empty()) return 0;
  std::sort(rounds.begin(), rounds.end(), std::greater<uint64_t>());
  return rounds[quorum() - 1];
}

void Raft::release_confirmed_reads() {
  if (voter_count() == 0) return;
  for (const PendingRead& r : read_only_.release_up_to(quorum_acked_round(false))) answer_read(r);
}

bool Raft::promise_backs_lease(const Message& m) const {
  return config_.lease_promise_ticks > 0 && m.lease_promise_ms >= config_.lease_promise_ms;
}

LeaseBasis Raft::lease_basis() const {
  LeaseBasis b;
  b.term = term_;
  b.round_floor = lease_round_floor_;
  b.commit = log_.committed();
  b.last_round = read_only_.last_round();
  b.eligible = config_.lease_promise_ticks > 0 && role_ == Role::kLeader && lead_transferee_ == kNoNode &&
               !timeout_now_sent_ && is_voter(id_) && committed_entry_in_current_term();
  if (!b.eligible) return b;
  // Only promising acknowledgements prove a lease: a member without the
  // promise may vote for another candidate right after it answered.
  const uint64_t acked = quorum_acked_round(true);
  if (acked > lease_round_floor_) b.confirmed_round = acked;
  return b;
}

bool Raft::answer_read_on_lease(const Message& m) {
  if (m.type != MessageType::kReadIndex || m.term != term_ || !prs_.count(m.from) || m.from == id_) return false;
  const LeaseBasis b = lease_basis();
  if (!b.eligible || b.confirmed_round == 0) return false;
  answer_read(PendingRead{0, log_.committed(), m.from, m.context});
  return true;
}

void Raft::answer_read(const PendingRead& read) {
  if (read.from == id_) {
    read_states.push_back(ReadState{read.index, read.ctx});
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexResponse;
  m.to = read.from;
  m.index = read.index;
  m.context = read.ctx;
  send(std::move(m));
}

// ----------------------------------------------------------------- reports

void Raft::report_unreachable(NodeId id) {
  if (role_ != Role::kLeader) return;
  auto it = prs_.find(id);
  if (it == prs_.end()) return;
  // Optimistic pipelining to a node we cannot reach only loses messages.
  if (it->second.state == Progress::State::kReplicate) it->second.become_probe();
}

void Raft::report_snapshot(NodeId id, bool ok) {
  if (role_ != Role::kLeader) return;
  auto it = prs_.find(id);
  if (it == prs_.end() || it->second.state != Progress::State::kSnapshot) return;
  Progress& pr = it->second;
  if (!ok) pr.pending_snapshot = 0;
  pr.become_probe();
  // Wait for the follower's answer (or a heartbeat response) before probing.
  pr.probe_sent = true;
}

}  // namespace corral::raft
