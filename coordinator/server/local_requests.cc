// Requests this member answers about itself: status, maintenance,
// defragment, snapshot save (sent by node_snapshots.cc).
#include "coordinator/server/node_loop.h"

#include "coordinator/server/backend_quota.h"
#include "coordinator/server/log.h"
#include "coordinator/server/maintenance.h"
#include "coordinator/server/version.h"

namespace corral::server {

namespace {

// `snapshot save`s served at once (each holds an image until sent).
constexpr size_t kMaxSnapshotSaves = 4;

}  // namespace

void NodeLoop::handle_local(const net::ConnectionId& conn, const api::ParsedRequest& req) {
  auto r = req.get();
  if (r.isStatus()) {
    auto st = raw_->status();
    api::ResponseBuilder b(r.getId(), header());
    auto out = b.response().initStatus();
    out.setVersion(kVersion);
    auto bytes = backend_bytes(*engine_);
    out.setDbSizeBytes(bytes.ok() ? *bytes : -1);
    out.setLeader(st.soft_state.leader);
    out.setRaftIndex(st.last_index);
    out.setRaftTerm(st.hard_state.term);
    out.setRaftAppliedIndex(state_->applied_index());
    auto it = state_->members().find(self_id_);
    out.setIsLearner(it != state_->members().end() && it->second.is_learner);
    auto turns = out.initLoopTurns();
    turns.setCount(turn_stats_.count());
    turns.setMaxMicros(turn_stats_.max_micros());
    auto bounds = turns.initBucketUpperMicros(LoopTurnStats::kBucketCount);
    auto counts = turns.initBucketCounts(LoopTurnStats::kBucketCount);
    for (size_t i = 0; i < LoopTurnStats::kBucketCount; ++i) {
      bounds.set(i, LoopTurnStats::bucket_upper_micros(i));
      counts.set(i, turn_stats_.bucket_count(i));
    }
    return reply(conn, b.finish());
  }
  if (r.isMaintenance()) {
    auto m = r.getMaintenance();
    if (m.isHashKv()) return start_hash_kv(conn, r.getId(), m.getHashKv().getRevision());
    return reply(conn, answer_maintenance(r.getId(), header(), m, state_->alarms()));
  }
  if (r.isDefragment()) {
    defragment_waiters_.emplace_back(conn, r.getId());
    defragmenter_->start();
    return;
  }
  // Snapshot save: an image of the state as of now, built off the loop and
  // sent in chunks of one request id (snapshot_duties).
  if (saves_.size() >= kMaxSnapshotSaves) {
    return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many snapshot saves in progress"));
  }
  saves_.push_back(SnapshotSave{conn, r.getId(), state_->applied_index(), nullptr, 0});
}

// The view and the revisions are taken together, on the loop: the hash is
// of the history as of this turn, whatever is applied while it runs.
void NodeLoop::start_hash_kv(const net::ConnectionId& conn, uint64_t request_id, kv::Revision revision) {
  if (installing()) {
    return reply_error(conn, request_id, api::wire_error(wire::ErrorCode::UNAVAILABLE,
                                                         "member installing a snapshot: retry later"));
  }
  HashJob job;
  job.connection = conn;
  job.request_id = request_id;
  job.revision = revision;
  job.current = state_->kv().current_revision();
  job.compact = state_->kv().compact_revision();
  job.view = engine_->read_view();
  if (!hasher_->submit(std::move(job))) {
    reply_error(conn, request_id,
                api::wire_error(wire::ErrorCode::UNAVAILABLE,
                                "too many hashkv requests in progress on this member (at most " +
                                    std::to_string(kMaxHashJobs) + "): retry later"));
  }
}

void NodeLoop::answer_hashes() {
  for (const HashJob& job : hasher_->take_done()) reply(job.connection, answer_hash_kv(job.request_id, header(), job.hash));
}

void NodeLoop::answer_defragments() {
  auto outcome = defragmenter_->take_outcome();
  if (!outcome) return;
  for (const auto& [conn, request_id] : defragment_waiters_) {
    if (!outcome->status.ok()) {
      reply_error(conn, request_id, api::to_wire_error(outcome->status.error()));
      continue;
    }
    api::ResponseBuilder b(request_id, header());
    auto out = b.response().initDefragment();
    out.setDbSizeBytesBefore(outcome->bytes_before);
    out.setDbSizeBytesAfter(outcome->bytes_after);
    reply(conn, b.finish());
  }
  defragment_waiters_.clear();
  log_event("defragmented: %lld bytes before, %lld after", static_cast<long long>(outcome->bytes_before),
            static_cast<long long>(outcome->bytes_after));
  next_quota_check_ = Clock::now();  // the verdict may change now
}

}  // namespace corral::server
