#include "coordinator/raft/raw_node.h"

#include <utility>

#include "coordinator/base/check.h"
#include "coordinator/raft/raft.h"

namespace corral::raft {

RawNode::RawNode(const Config& config)
    : raft_(std::make_unique<Raft>(config)),
      async_storage_writes_(config.async_storage_writes),
      max_committed_bytes_per_ready_(config.max_committed_bytes_per_ready) {
  CORRAL_CHECK_MSG(config.storage != nullptr, "raft config: storage is required");
  prev_soft_ = raft_->soft_state();
  prev_hard_ = raft_->hard_state();
}

RawNode::~RawNode() = default;

void RawNode::tick() { raft_->tick(); }

void RawNode::campaign() { raft_->campaign(false); }

Status RawNode::propose(std::string data, EntryPosition* appended_at) {
  const Status s = raft_->propose(std::move(data), EntryType::kNormal);
  if (s == Status::kOk && appended_at != nullptr) *appended_at = EntryPosition{raft_->log().last_index(), raft_->term()};
  return s;
}

Status RawNode::propose_conf_change(const ConfChange& cc) { return raft_->propose_conf_change(cc); }

ConfState RawNode::apply_conf_change(const ConfChange& cc) { return raft_->apply_conf_change(cc); }

Status RawNode::step(const Message& msg) { return raft_->step(msg); }

void RawNode::read_index(std::string request_ctx) { raft_->read_index(std::move(request_ctx)); }

void RawNode::transfer_leader(NodeId transferee) { raft_->transfer_leader(transferee); }

void RawNode::forget_leader() { raft_->forget_leader(); }

void RawNode::report_unreachable(NodeId id) { raft_->report_unreachable(id); }

void RawNode::report_snapshot(NodeId id, bool ok) { raft_->report_snapshot(id, ok); }

bool RawNode::wants_snapshot(const SnapshotMetadata& md) const { return raft_->wants_snapshot(md); }

bool RawNode::snapshot_installed(const SnapshotMetadata& md) { return raft_->snapshot_installed(md); }

bool RawNode::has_ready() const {
  const Raft& r = *raft_;
  if (r.soft_state() != prev_soft_) return true;
  const HardState hs = r.hard_state();
  if (!hs.empty() && hs != prev_hard_) return true;
  return r.log().unstable_snapshot().has_value() || r.log().has_entries_to_persist() ||
         !r.msgs.empty() || !r.read_states.empty() ||
         (!apply_paused_ && r.log().has_next_committed_entries(!async_storage_writes_)) || r.flush_needed();
}

Ready RawNode::ready() {
  Raft& r = *raft_;
  r.flush();
  Ready rd;
  const SoftState ss = r.soft_state();
  if (ss != prev_soft_) {
    rd.soft_state = ss;
    prev_soft_ = ss;
  }
  const HardState hs = r.hard_state();
  if (!hs.empty() && hs != prev_hard_) rd.hard_state = hs;
  rd.must_sync = hs.term != prev_hard_.term || hs.vote != prev_hard_.vote;
  prev_hard_ = hs;
  rd.snapshot = r.log().unstable_snapshot();
  rd.entries = r.log().entries_to_persist();
  // Committed entries per Ready are bounded by Config::max_committed_bytes_per_ready
  // (the application's apply per Ready). With asynchronous writes only persisted ones: this Ready's entries may not be
  // durable when the application applies.
  if (!apply_paused_) {
    rd.committed_entries = r.log().next_committed_entries(max_committed_bytes_per_ready_, !async_storage_writes_);
  }
  if (async_storage_writes_) r.log().accept_in_progress();
  rd.messages = std::move(r.msgs);
  r.msgs.clear();
  rd.read_states = std::move(r.read_states);
  r.read_states.clear();
  rd.must_sync = rd.must_sync || !rd.entries.empty() || rd.snapshot.has_value();

  pending_ = PendingAdvance{};
  if (!rd.entries.empty() && !async_storage_writes_) {
    pending_.stable_index = rd.entries.back().index;
    pending_.stable_term = rd.entries.back().term;
  }
  if (rd.snapshot) pending_.snapshot_index = rd.snapshot->metadata.index;
  if (!rd.committed_entries.empty()) {
    pending_.applied_index = rd.committed_entries.back().index;
    for (const Entry& e : rd.committed_entries) pending_.applied_bytes += e.data.size();
  } else if (rd.snapshot) {
    pending_.applied_index = rd.snapshot->metadata.index;
  }
  return rd;
}

void RawNode::advance() {
  Raft& r = *raft_;
  if (pending_.snapshot_index != 0) r.log().stable_snap_to(pending_.snapshot_index);
  if (pending_.stable_index != 0) advance_append(pending_.stable_index, pending_.stable_term);
  if (pending_.applied_index != 0) r.log().applied_to(pending_.applied_index);
  r.reduce_uncommitted_bytes(pending_.applied_bytes);
  pending_ = PendingAdvance{};
}

void RawNode::advance_append(Index index, Term term) {
  raft_->log().stable_to(index, term);
  raft_->on_persisted(index, term);
}

NodeStatus RawNode::status() const {
  const Raft& r = *raft_;
  NodeStatus st;
  st.id = r.id();
  st.hard_state = r.hard_state();
  st.soft_state = r.soft_state();
  st.applied = r.log().applied();
  st.last_index = r.log().last_index();
  st.lead_transferee = r.lead_transferee();
  st.conf_state = r.conf_state();
  if (r.role() == Role::kLeader) {
    for (const auto& [id, pr] : r.progress()) {
      PeerProgress p;
      p.id = id;
      p.match = pr.match;
      p.next = pr.next;
      p.state = static_cast<PeerProgress::State>(pr.state);
      p.learner = pr.learner;
      p.inflight = pr.inflights.count();
      st.progress.push_back(p);
    }
  }
  return st;
}

NodeId RawNode::id() const { return raft_->id(); }

LeaseBasis RawNode::lease_basis() const { return raft_->lease_basis(); }

bool RawNode::answer_read_on_lease(const Message& msg) { return raft_->answer_read_on_lease(msg); }

}  // namespace corral::raft
