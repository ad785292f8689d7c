// The node loop itself: one turn (node_loop.h), raft's clock, peer frames in,
// raft's Ready (persist, apply), leadership changes, raft messages out.
#include "coordinator/server/node_loop.h"

#include <algorithm>

#include "coordinator/base/check.h"
#include "coordinator/server/apply_version.h"
#include "coordinator/server/apply_pacing.h"
#include "coordinator/server/auth_gate.h"
#include "coordinator/server/log.h"
#include "coordinator/server/storage_failure.h"
#include "coordinator/server/u64_bytes.h"
#include "coordinator/storage/raft_records.h"

namespace corral::server {

namespace {

constexpr size_t kMaxPeerMessagesPerTurn = 4096;
constexpr int kMaxReadiesPerTurn = 8;
// Ticks the loop may fall behind before it skips ticks instead of catching up.
constexpr int kMaxTickBacklogTicks = 5;
// While a snapshot streams out, the loop looks at its pacing this often.
constexpr std::chrono::milliseconds kSnapshotPumpIntervalMs{1};

}  // namespace

void NodeLoop::run(const std::atomic<bool>& stop) {
  next_tick_ = Clock::now() + std::chrono::milliseconds(options_.tick_ms);
  while (!stop.load() && !removed_) turn();
  // Every waiting client learns the member is stopping. A pending write was
  // proposed: it may still commit (and apply on the other members), so its
  // outcome is unknown (timeout), as when it expires; `unavailable` stays
  // "not done", which a client may retry safely. Reads change nothing:
  // unavailable.
  for (auto& [pid, p] : pending_) {
    reply_error(p.connection, p.request_id,
                api::wire_error(wire::ErrorCode::TIMEOUT, "member stopping; outcome unknown"));
  }
  pending_.clear();
  proposed_at_.clear();
  for (auto& r : reads_waiting_) {
    reply_error(r.connection, r.request->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "member stopping"));
  }
  reads_waiting_.clear();
  for (auto& [ctx, batch] : read_batches_) {
    for (auto& r : batch.reads) {
      reply_error(r.connection, r.request->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "member stopping"));
    }
  }
  read_batches_.clear();
  for (const auto& w : leader_moves_.take_all()) {
    reply_error(w.connection, w.request_id, api::wire_error(wire::ErrorCode::UNAVAILABLE, "member stopping"));
  }
  fail_keepalives(api::wire_error(wire::ErrorCode::UNAVAILABLE, "member stopping"));
  // No write, flush or image build may outlive stop() (a caller may remove the data dir).
  async_persist_.reset();
  installer_.reset();  // a running install is cancelled: its intent finishes it at the next start
  snapshot_worker_.reset();
  authenticator_.reset();
  log_event("member %s stopped", options_.name.c_str());
}

void NodeLoop::turn() {
  if (!wait_for_work()) {
    removed_ = true;
    return;
  }
  const auto work_start = Clock::now();
  listener_->hold_writes();  // this turn's replies leave together at its end
  tick_clock();
  receive_peers();
  receive_clients();
  flush_proposals();
  flush_reads();
  flush_keepalives();
  leader_duties();
  publish_attributes();
  report_low_disk();
  if (async_persist_) async_persist_->collect();
  for (int i = 0; i < kMaxReadiesPerTurn && raw_->has_ready() && !removed_; ++i) {
    if (i > 0 && Clock::now() - work_start >= kApplyTimePerTurn) break;  // apply_pacing.h
    handle_ready();
  }
  serve_ready_reads();
  authenticator_->answer_done(state_->auth(), wall_clock_ms(), options_.auth_token_ttl_ms, header(), Clock::now(),
                              [this](const net::ConnectionId& c, const std::string& bytes) { reply(c, bytes); });
  serve_keepalives();
  expire_pending();
  answer_leader_moves();
  answer_defragments();
  answer_hashes();
  deliver_watches();
  snapshot_duties();
  if (minter_->published_revision() != state_->auth().revision()) minter_->publish(state_->auth());
  listener_->release_writes();
  turn_stats_.record(Clock::now() - work_start);
  if (installing()) install_longest_turn_ = std::max(install_longest_turn_, Clock::now() - work_start);
  metrics_.loop_turn_seconds.observe(Clock::now() - work_start);
  publish_metrics(Clock::now());
}

// Sleeps until a socket has messages, a thread wakes the loop, a tick or
// a retry is due. False: the ZeroMQ context is shutting down.
bool NodeLoop::wait_for_work() {
  listener_->release_writes();  // nothing held while the loop sleeps
  auto now = Clock::now();
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick_ - now);
  if (wait.count() < 0) wait = std::chrono::milliseconds(0);
  // Confirmed keep-alives left over by the last turn's bound: serve on.
  if (watch_work_now_ || client_work_now_ || raw_->has_ready() || keepalives_.has_confirmed()) {
    wait = std::chrono::milliseconds(0);
  } else if (next_output_retry_) {
    auto until = std::chrono::ceil<std::chrono::milliseconds>(*next_output_retry_ - now);
    wait = std::clamp(until, std::chrono::milliseconds(0), wait);
  }
  // A snapshot on its way paces itself on bytes ZeroMQ has not written
  // yet, which no socket event announces: look again soon.
  const bool save_sending = !saves_.empty() && saves_.front().image != nullptr;
  if (snapshot_sender_.sending() || save_sending) wait = std::min(wait, kSnapshotPumpIntervalMs);
  // A socket last read down to EAGAIN announces its next message on its
  // fd; any other (read to a limit, or sent on since) is asked before sleeping.
  const auto report = [this](size_t slot, bool drained) { drained ? poller_->drained(slot) : poller_->used(slot); };
  report(peer_slot_, transport_->inbound_drained());
  report(client_slot_, listener_->drained());
  auto polled = poller_->wait(wait);
  if (!polled.ok()) return false;
  const auto& readable = polled->readable;
  peers_readable_ = std::find(readable.begin(), readable.end(), peer_slot_) != readable.end();
  clients_readable_ = std::find(readable.begin(), readable.end(), client_slot_) != readable.end();
  return true;
}

void NodeLoop::tick_clock() {
  auto now = Clock::now();
  auto tick = std::chrono::milliseconds(options_.tick_ms);
  // The followers' lease promise, and after a restart the one an earlier
  // run may have made, counts ticks: never two ticks closer than a tick
  // apart then (read_lease.h). Late ticks only make it longer.
  const bool in_restart_promise = ticks_since_start_ < restart_promise_ticks(options_.heartbeat_ticks);
  const bool spaced = read_lease_ || in_restart_promise;
  if (spaced && now >= next_tick_) {
    raw_->tick();
    if (in_restart_promise) ++ticks_since_start_;
    next_tick_ = now + tick;
  }
  if (now - next_tick_ > tick * kMaxTickBacklogTicks) next_tick_ = now;  // a long stall: do not burst
  while (!spaced && now >= next_tick_) {
    raw_->tick();
    next_tick_ += tick;
  }
  hub_->tick(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

void NodeLoop::receive_peers() {
  peer_in_.clear();
  if (peers_readable_) transport_->receive(kMaxPeerMessagesPerTurn, peer_in_);
  transport_->maintain(Clock::now());
  listener_->maintain(Clock::now());
  for (auto& pm : peer_in_) {
    metrics_.peer_received_bytes.inc(pm.bytes.size());
    std::string_view body(pm.bytes);
    if (!admit_peer_frame(pm)) continue;
    if (body.starts_with(kChunkFrameTag)) {
      if (refuse_for_disk(nullptr)) continue;
      // One install at a time, and one image in memory: the leader sends
      // another snapshot again later if this one is still needed.
      if (installing()) continue;
      body.remove_prefix(kChunkFrameTag.size());
      auto chunk = net::decode_chunk(body);
      if (!chunk.ok()) continue;
      auto done = assembler_.add(pm.from, *chunk);
      if (!done.ok()) {
        log_warn("snapshot chunk from %016llx refused: %s", static_cast<unsigned long long>(pm.from),
                  done.error().message.c_str());
        continue;
      }
      if (!done->has_value()) continue;
      auto snap = decode_snapshot_stream(std::move(**done));
      if (!snap.ok() || snap->to != self_id_ || snap->from != pm.from) continue;
      log_event("received a snapshot at %llu from %016llx (%zu bytes)",
                static_cast<unsigned long long>(snap->snapshot->metadata.index),
                static_cast<unsigned long long>(pm.from), snap->snapshot->data.size());
      metrics_.snapshots_received.inc();
      if (start_install(*snap)) continue;
      (void)raw_->step(*snap);
      continue;
    } else if (body.starts_with(kAttributesFrameTag)) {
      propose_attributes(pm, body.substr(kAttributesFrameTag.size()));
      continue;
    } else if (body == kNoSpaceFrameTag) {
      if (!is_leader()) continue;
      if (state_->members().count(pm.from)) low_disk_reports_[pm.from] = Clock::now();
      if (!state_->alarms().has(pm.from)) propose_nospace(pm.from);
      continue;
    }
    auto msg = storage::decode_message(body);
    if (!msg.ok() || msg->to != self_id_ || msg->from != pm.from) continue;
    if (refuse_for_disk(&*msg)) continue;
    // Entries after a snapshot being installed wait until it is committed
    // (its intent on disk): dropped as if lost (the leader probes again;
    // heartbeats and votes still go).
    if (installing() && !install_committed_ && msg->type == raft::MessageType::kAppend) continue;
    if (msg->type == raft::MessageType::kAppendResponse && !msg->reject) {
      snapshot_sender_.acknowledged(pm.from, msg->index, Clock::now());
    }
    if (answer_forwarded_read_on_lease(*msg)) continue;
    (void)raw_->step(*msg);
  }
  // The leader's connection dropped: it crashed or stopped (a partition or
  // a hung leader shows nothing like it, and waits out the election
  // timeout). Forgetting it lets the followers elect a new leader within a
  // heartbeat or two instead of a randomized election timeout.
  for (auto id : transport_->take_lost_connections()) {
    if (id == soft_.leader && !is_leader()) {
      log_event("connection to leader %016llx lost; forgetting it", static_cast<unsigned long long>(id));
      raw_->forget_leader();
    }
  }
  removed_notifier_.expire(*transport_, Clock::now());
  report_peer_wire_troubles();
}

void NodeLoop::report_peer_wire_troubles() {
  for (const auto& t : transport_->take_wire_troubles()) {
    auto m = state_->members().find(t.peer);
    const std::string name = t.peer == 0                      ? PeerWireReport::member_at(t.remote, state_->members(), self_id_)
                             : m != state_->members().end() ? m->second.name
                                                            : std::string();
    auto line = peer_wire_report_.line(t, name, net::peer_wire_name(transport_->wire()), Clock::now());
    if (line) log_warn("%s", line->c_str());
  }
}

// Membership frames of other members, and the gate for removed ones: a
// removed member's frames are dropped and it is told to stop. False: the
// frame was handled or dropped here.
bool NodeLoop::admit_peer_frame(const net::PeerMessage& pm) {
  std::string_view body(pm.bytes);
  // A join query comes from a provisional id (join_discovery.h).
  if (!body.starts_with(kJoinQueryTag) && !identity_gate_.admit(pm, state_->members(), Clock::now())) return false;
  if (auto mismatch = parse_cluster_mismatch_notice(body)) {
    if (mismatch->refused == cluster_id_ && !ever_had_leader_) {
      log_error("cluster id mismatch: member %016llx of cluster %016llx refuses this member of cluster %016llx; "
                "start every member with the same --initial-cluster (or this one with an empty data dir and "
                "--initial-cluster-state existing after member add); stopping",
                static_cast<unsigned long long>(pm.from), static_cast<unsigned long long>(mismatch->theirs),
                static_cast<unsigned long long>(cluster_id_));
      refused_by_cluster_.store(true);
      removed_ = true;
    }
    return false;
  }
  if (!cluster_gate_->admit(pm, *transport_, Clock::now())) return false;
  auto removed = state_->removed_members().find(pm.from);
  if (removed != state_->removed_members().end()) {
    std::optional<std::string> key;
    if (options_.curve) {
      auto listed = options_.curve->peer_key(removed->second.name);
      if (listed.ok()) key = *listed;
    }
    if (!options_.curve || key) removed_notifier_.notice(removed->second, state_->members(), *transport_, Clock::now(), key);
    return false;
  }
  if (body.starts_with(kJoinQueryTag)) {
    auto answer = answer_join_query(body.substr(kJoinQueryTag.size()), cluster_id_, state_->members());
    if (answer.to != 0 && answer.to != self_id_) (void)transport_->send(answer.to, answer.frame);
    return false;
  }
  if (body.starts_with(kRemovedTag)) {
    if (removed_notice_id(body) == self_id_ && state_->members().count(pm.from)) {
      log_event("member %016llx says this member was removed from the cluster; stopping",
                static_cast<unsigned long long>(pm.from));
      storage::WriteBatch mark;
      stage_removed_mark(mark);
      (void)engine_->write(std::move(mark), true);
      removed_ = true;
    }
    return false;
  }
  return true;
}

void NodeLoop::on_soft_state(const raft::SoftState& ss) {
  bool was_leader = is_leader();
  if (ss.leader != soft_.leader) {
    log_event("leader is now %016llx (term %llu)", static_cast<unsigned long long>(ss.leader),
              static_cast<unsigned long long>(term_));
  }
  bool leader_changed = ss.leader != soft_.leader;
  if (ss.leader != raft::kNoNode) ever_had_leader_ = true;
  soft_ = ss;
  if (leader_changed) {
    if (ss.leader != raft::kNoNode) metrics_.leader_changes_seen.inc();
    next_publish_ = Clock::now();
    reissue_reads();
  }
  // The lessor is promoted later, once the new term's first entry applied
  // (after_apply_leases).
  if (was_leader && !is_leader()) {
    state_->lessor().demote();
    fail_keepalives(api::not_leader_error(leader_hint()));
    release_timer_.reset();
    // Stepped down with no leader in sight (cut off: check-quorum): its
    // proposals may still commit under a next leader, which this member
    // would then apply and answer, or never. Give them three election
    // timeouts (at least 1 s) for that instead of the whole request
    // timeout, so a client of a cut-off leader hears "outcome unknown"
    // sooner. (After a transfer the new leader is known: they keep their
    // deadline.) Deadlines stay in proposal-id order.
    if (ss.leader == raft::kNoNode) {
      const auto grace = std::max<Clock::duration>(
          std::chrono::seconds(1), 3 * std::chrono::milliseconds(options_.tick_ms) * options_.election_ticks);
      const auto soon = Clock::now() + grace;
      for (auto& [pid, p] : pending_) p.deadline = std::min(p.deadline, soon);
    }
    log_event("lost leadership");
  }
}

void NodeLoop::handle_ready() {
  raft::Ready rd = raw_->ready();
  // Before any of this Ready's heartbeats leave: stamps their read rounds.
  if (read_lease_) read_lease_->observe(raw_->lease_basis(), ReadLease::Clock::now());
  metrics_.proposals_committed.inc(rd.committed_entries.size());
  if (rd.hard_state) term_ = rd.hard_state->term;
  if (rd.soft_state) on_soft_state(*rd.soft_state);
  if (persist_off_loop(rd)) return finish_ready(rd);
  // Committed entries that this member had already persisted before this
  // Ready (below its stored last index and below any entry this Ready
  // rewrites) are applied, and their clients answered, before this Ready's
  // new entries are synced: they are durable on a majority already, and
  // waiting for an unrelated fsync put a second sync on their latency.
  std::vector<raft::Entry> early;
  std::vector<raft::Entry> later;
  raft::Index persisted = store_->last_index();
  if (!rd.entries.empty()) persisted = std::min<raft::Index>(persisted, rd.entries.front().index - 1);
  for (auto& e : rd.committed_entries) {
    (!rd.snapshot && later.empty() && e.index <= persisted ? early : later).push_back(std::move(e));
  }
  // A follower's clients wait for nothing it applies as much as the
  // leader's wait for its acknowledgement of the new entries, which persist
  // sends after the sync: it applies afterwards, off that path.
  const bool apply_before_sync = is_leader();
  persist(rd, [&] {
    if (apply_before_sync) apply(early);
  });
  if (removed_) return;
  if (!apply_before_sync) apply(early);
  apply(later);
  finish_ready(rd);
}

bool NodeLoop::persist_off_loop(raft::Ready& rd) {
  if (!async_persist_) return false;
  if (!async_persist_->takes(rd, is_leader())) {
    async_persist_->drain();  // this Ready's writes must land after those in flight
    return false;
  }
  // None of a leader's messages waits for its own write: the appends go
  // first, so the followers' syncs start before (and overlap) the leader's.
  for (const auto& m : rd.messages) send_raft(m);
  async_persist_->submit(rd);
  // raft hands out only committed entries this member has persisted.
  apply(rd.committed_entries);
  return true;
}

void NodeLoop::finish_ready(raft::Ready& rd) {
  for (const auto& rs : rd.read_states) {
    if (keepalives_.confirm(bytes_u64(rs.request_ctx))) continue;
    auto it = read_batches_.find(bytes_u64(rs.request_ctx));
    if (it != read_batches_.end()) it->second.index = std::max<raft::Index>(rs.index, 1);
  }
  raw_->advance();
  if (maybe_snapshot(force_snapshot_)) force_snapshot_ = false;
}

void NodeLoop::persist(raft::Ready& rd, const std::function<void()>& before_write) {
  // A leader may ship its appends before its own sync: commit still needs a
  // persisted majority. Everything else waits for the write.
  std::vector<bool> sent(rd.messages.size(), false);
  if (is_leader()) {
    for (size_t i = 0; i < rd.messages.size(); ++i) {
      if (rd.messages[i].type == raft::MessageType::kAppend) {
        send_raft(rd.messages[i]);
        sent[i] = true;
      }
    }
  }
  before_write();
  // A received snapshot is installed off the loop and raft told once it
  // is (start_install): no Ready carries one.
  CORRAL_CHECK_MSG(!rd.snapshot, "a snapshot in a Ready: installs go through the installer");
  storage::WriteBatch batch;
  auto s = store_->stage_append(batch, rd.entries);
  CORRAL_CHECK_MSG(s.ok(), s.error().message.c_str());
  if (rd.hard_state) store_->stage_hard_state(batch, *rd.hard_state);
  if (!batch.empty()) {
    const auto write_start = Clock::now();
    auto w = engine_->write(std::move(batch), rd.must_sync);
    if (rd.must_sync) metrics_.wal_fsync_seconds.observe(Clock::now() - write_start);
    if (!w.ok()) stop_on_storage_failure("raft log write", w.error());
    store_->on_written();
  } else {
    store_->abandon_staged();
  }
  // With the storage writer raft waits for every write to be reported.
  if (async_persist_ && !rd.entries.empty()) raw_->advance_append(rd.entries.back().index, rd.entries.back().term);
  for (size_t i = 0; i < rd.messages.size(); ++i) {
    if (!sent[i]) send_raft(rd.messages[i]);
  }
}

void NodeLoop::apply(const std::vector<raft::Entry>& committed) {
  if (committed.empty()) return;
  if (installing()) {
    // Before the install is committed the snapshot holds them: with the
    // leader's appends dropped the commit index stays within the old log,
    // behind it. After, raft hands out none (apply paused).
    CORRAL_CHECK_MSG(committed.back().index <= installing_->index, "applying past a snapshot being installed");
    return;
  }
  metrics::ScopedTimer apply_timer(metrics_.apply_seconds);
  metrics_.proposals_applied.inc(committed.size());
  storage::WriteBatch batch;
  ApplyOutput out;
  bool conf_changed = false;
  for (const auto& e : committed) {
    if (e.type == raft::EntryType::kConfChange) {
      conf_changed = apply_conf_change_entry(e, batch, out) || conf_changed;
    } else {
      state_->apply_entry(e, batch, out);
      if (!out.unreadable.empty()) stop_on_unreadable_entry(out.unreadable_index, out.unreadable);
    }
    for (uint64_t pid : proposed_at_.on_applied(e.index, e.term)) answer_lost_proposal(pid);
  }
  // The conf state goes with the applied index in the same unlogged batch,
  // so on disk it is never ahead of nor behind the applied state (see
  // node.h, Durability).
  if (conf_changed) {
    if (async_persist_) async_persist_->drain();  // the store stages on top of no write in flight
    store_->stage_conf_state(batch, conf_state_);
  }
  // Clients are answered before the (unlogged) write: their entries are
  // durable in the raft log already, and reads and watches run on this
  // thread, after the write, so nothing observes the gap.
  answer_applied(out);
  auto w = engine_->write_unlogged(std::move(batch));
  if (!w.ok()) stop_on_storage_failure("apply write", w.error());
  if (store_->has_staged()) store_->on_written();
  state_->batch_written();
  applied_term_ = committed.back().term;
  after_apply_leases();
  if (out.members_changed) sync_peers();
  for (auto id : out.removed_members) {
    if (id == self_id_) {
      log_event("this member was removed from the cluster; stopping");
      removed_ = true;
    }
  }
}

// One committed membership change; true if raft's conf state changed.
bool NodeLoop::apply_conf_change_entry(const raft::Entry& e, storage::WriteBatch& batch, ApplyOutput& out) {
  auto cc = raft::decode_conf_change(e.data);
  if (!cc) return false;
  bool already = e.index <= state_->applied_index();
  auto refusal = already ? std::nullopt : state_->conf_change_refusal(*cc);
  if (refusal) {
    // As etcd does: raft applies a no-op instead, and the proposer hears why.
    raft::ConfChange noop = *cc;
    noop.node_id = raft::kNoNode;
    conf_state_ = raw_->apply_conf_change(noop);
    state_->apply_refused_conf_change(e, *cc, *refusal, batch, out);
    log_event("membership change at %llu refused: %s", static_cast<unsigned long long>(e.index), refusal->c_str());
    return false;
  }
  conf_state_ = raw_->apply_conf_change(*cc);
  if (cc->type != raft::ConfChangeType::kRemoveNode) {
    force_snapshot_ = true;
    image_.reset();  // its conf state lacks the new member
  }
  if (!already) state_->apply_conf_change(e, *cc, batch, out);
  log_event("membership change at %llu: %s %016llx (%zu voters, %zu learners)",
            static_cast<unsigned long long>(e.index),
            cc->type == raft::ConfChangeType::kRemoveNode ? "remove"
            : cc->type == raft::ConfChangeType::kAddLearner ? "add learner" : "add voter",
            static_cast<unsigned long long>(cc->node_id), conf_state_.voters.size(),
            conf_state_.learners.size());
  return true;
}

// Answers the clients (and membership callers) whose entries were applied.
void NodeLoop::answer_applied(ApplyOutput& out) {
  for (auto& a : out.answers) {
    if (a.conf_change) {
      answer_conf(a.proposal_id, a.conf_error);
      continue;
    }
    auto it = pending_.find(a.proposal_id);
    if (it == pending_.end()) continue;
    reply(it->second.connection, a.response);
    pending_.erase(it);
  }
}

void NodeLoop::send_raft(const raft::Message& m) {
  if (options_.drop_peer_message && options_.drop_peer_message(m)) return;
  if (m.type == raft::MessageType::kSnapshot) return start_snapshot_stream(m);
  const std::string bytes = storage::encode_message(m);
  metrics_.peer_sent_bytes.inc(bytes.size());
  auto r = transport_->send(m.to, bytes);
  if (r != net::PeerSendResult::kSent) raw_->report_unreachable(m.to);
}

api::Header NodeLoop::header() const { return state_->header(term_); }

std::string NodeLoop::leader_hint() const {
  auto it = state_->members().find(soft_.leader);
  if (it == state_->members().end() || it->second.client_urls.empty()) return {};
  return it->second.client_urls[0];
}

}  // namespace corral::server
