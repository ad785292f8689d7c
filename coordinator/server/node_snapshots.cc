// Snapshots: recording one every snapshot_count entries (the flush on the
// worker), images for lagging followers and their streams, `snapshot save`,
// and a follower's install of a received one (on the installer).
#include "coordinator/server/node_loop.h"

#include <algorithm>
#include <limits>

#include "coordinator/base/check.h"
#include "coordinator/server/log.h"
#include "coordinator/server/storage_failure.h"
#include "schema/data_bytes.h"

namespace corral::server {

namespace {

// An image nobody asked for in this long is dropped (it can be 1 GiB).
constexpr std::chrono::seconds kSnapshotImageKeepSeconds{30};
// After a failed image build, the next one waits this long.
constexpr std::chrono::seconds kSnapshotImageRetrySeconds{5};
// `snapshot save` chunks sent per client per turn.
constexpr int kMaxSaveChunksPerTurn = 8;

}  // namespace

bool NodeLoop::maybe_snapshot(bool force) {
  raft::Index applied = state_->applied_index();
  if (installing()) return false;  // the state is being replaced
  if (applied <= snapshot_index_) return true;
  if (!force && applied < snapshot_index_ + options_.snapshot_count) return true;
  if (snapshot_flush_) return false;
  // A flush writes table files (and opens a new WAL) before it frees the
  // old WAL: not below the disk's floor (disk_reserve.h).
  if (disk_reserve_.was_critical()) return false;
  // Apply batches skip the WAL: make them durable up to `applied` before the
  // log drops entries a restart would replay, and before the snapshot
  // metadata and conf state (logged) name `applied`. Every apply write up to
  // `applied` has returned, so the worker's flush covers them; it can take
  // long, so the loop goes on meanwhile.
  if (!snapshot_worker_->flush(applied)) return false;
  snapshot_flush_ = SnapshotFlush{applied, conf_state_, force};
  return true;
}

void NodeLoop::finish_snapshot(const SnapshotWorker::FlushDone& done) {
  CORRAL_CHECK(snapshot_flush_ && snapshot_flush_->applied == done.applied_index);
  const SnapshotFlush flushed = *snapshot_flush_;
  snapshot_flush_.reset();
  const raft::Index applied = flushed.applied;
  if (!done.status.ok()) {
    log_warn("snapshot at %llu skipped: %s", static_cast<unsigned long long>(applied),
             done.status.error().message.c_str());
    return;
  }
  if (applied <= snapshot_index_) return;  // a snapshot installed meanwhile is newer
  if (async_persist_) async_persist_->drain();  // compaction must not overtake writes in flight
  storage::WriteBatch batch;
  auto meta = store_->stage_create_snapshot(batch, applied, flushed.conf_state);
  if (!meta.ok()) {
    store_->abandon_staged();
    return;
  }
  // Keep snapshot_catchup_entries in the log, but always drop entry 1 so
  // that a new member starts from an image (with the bootstrap membership).
  raft::Index compact_to = applied > options_.snapshot_catchup_entries
                               ? applied - options_.snapshot_catchup_entries
                               : 1;
  compact_to = std::min(compact_to, log_hold_index());
  if (compact_to >= store_->first_index()) (void)store_->stage_compact(batch, compact_to);
  auto w = engine_->write(std::move(batch), false);
  if (!w.ok()) {
    store_->abandon_staged();
    return;
  }
  store_->on_written();
  snapshot_index_ = applied;
  log_event("snapshot at index %llu; log starts at %llu", static_cast<unsigned long long>(applied),
            static_cast<unsigned long long>(store_->first_index()));
}

Result<raft::Snapshot> NodeLoop::snapshot_for(const raft::SnapshotMetadata& latest) {
  // A member just added is only in the conf state of the snapshot being
  // recorded for it: an older one would not take it in.
  if (force_snapshot_ || (snapshot_flush_ && snapshot_flush_->forced)) {
    return make_error(ErrorCode::kUnavailable, "a snapshot is being recorded");
  }
  // The image's snapshot must still have its following entries in the log
  // (log_hold_index keeps them while the image waits).
  if (image_ && image_->meta.index <= latest.index && image_->meta.index + 1 >= store_->first_index()) {
    image_used_ = Clock::now();
    return raft::Snapshot{image_->meta, {}};
  }
  image_wanted_ = true;
  return make_error(ErrorCode::kUnavailable, "snapshot image being built");
}

raft::Index NodeLoop::log_hold_index() const {
  raft::Index hold = std::numeric_limits<raft::Index>::max();
  if (image_) hold = std::min(hold, image_->meta.index);
  if (image_building_for_) hold = std::min(hold, *image_building_for_);
  if (auto oldest = snapshot_sender_.oldest_index(); oldest != 0) hold = std::min(hold, oldest);
  return hold;
}

void NodeLoop::start_snapshot_stream(const raft::Message& m) {
  // snapshot_for answered for this message, normally in this turn.
  if (!m.snapshot || !image_ || image_->meta.index != m.snapshot->metadata.index) {
    raw_->report_snapshot(m.to, false);
    return;
  }
  if (!snapshot_sender_.start(m, image_, Clock::now())) return;  // already on its way
  metrics_.snapshots_sent.inc();
  log_event("sending snapshot at %llu (state at %llu, %zu bytes) to %016llx",
            static_cast<unsigned long long>(m.snapshot->metadata.index),
            static_cast<unsigned long long>(image_->applied_index), image_->bytes.size(),
            static_cast<unsigned long long>(m.to));
}

void NodeLoop::snapshot_duties() {
  install_duties();
  const auto now = Clock::now();
  auto done = snapshot_worker_->take_done();
  if (done.flush) finish_snapshot(*done.flush);
  if (force_snapshot_ && maybe_snapshot(true)) force_snapshot_ = false;
  if (done.image) {
    image_building_for_.reset();
    image_wanted_ = false;  // asked again if this one does not fit
    if (done.image->image.ok()) {
      image_ = *done.image->image;
      image_used_ = now;
    } else {
      log_event("snapshot image at %llu failed: %s", static_cast<unsigned long long>(done.image->applied_index),
                done.image->image.error().message.c_str());
      next_image_try_ = now + kSnapshotImageRetrySeconds;
      for (auto& save : saves_) {
        if (!save.image) reply_error(save.connection, save.request_id, api::to_wire_error(done.image->image.error()));
      }
      std::erase_if(saves_, [](const SnapshotSave& save) { return !save.image; });
    }
  }
  bool save_waits = false;
  for (auto& save : saves_) {
    if (!save.image && image_ && image_->applied_index >= save.min_applied) save.image = image_;
    save_waits = save_waits || !save.image;
  }
  // Here no apply batch is half staged: the view is the state at applied_index().
  // Not from a state half replaced by an install.
  if ((image_wanted_ || save_waits) && now >= next_image_try_ && !snapshot_worker_->image_busy() &&
      !installing()) {
    const raft::SnapshotMetadata& meta = store_->snapshot_metadata();
    if (snapshot_worker_->build_image(engine_->read_view(), state_->applied_index(), meta) && image_wanted_) {
      image_building_for_ = meta.index;
    }
    image_wanted_ = false;
  }
  for (const auto& o : snapshot_sender_.pump(*transport_, next_chunk_stream_, now)) {
    log_event("snapshot at %llu to %016llx (%llu bytes): %s", static_cast<unsigned long long>(o.index),
              static_cast<unsigned long long>(o.to), static_cast<unsigned long long>(o.bytes),
              o.ok ? "sent" : "failed");
    // A snapshot handed to the transport is settled by the follower's
    // acknowledgement, not here: reporting it done would let raft probe
    // (and send it again) while the follower is still receiving it.
    if (!o.ok) {
      raw_->report_unreachable(o.to);
      raw_->report_snapshot(o.to, false);
    }
  }
  send_saves(now);
  if (image_ && now - image_used_ > kSnapshotImageKeepSeconds) image_.reset();
}

bool NodeLoop::start_install(raft::Message& m) {
  if (!m.snapshot || !raw_->wants_snapshot(m.snapshot->metadata)) return false;
  const raft::SnapshotMetadata meta = m.snapshot->metadata;
  CORRAL_CHECK_MSG(!installing() && installer_->start(meta, std::move(m.snapshot->data)),
                   "a second snapshot install");
  installing_ = meta;
  install_started_ = Clock::now();
  install_longest_turn_ = {};
  log_event("installing snapshot at index %llu (term %llu) off the loop",
            static_cast<unsigned long long>(meta.index), static_cast<unsigned long long>(meta.term));
  return true;
}

void NodeLoop::install_duties() {
  for (auto& done : installer_->take_done()) {
    if (!done.status.ok()) {
      const Error& e = done.status.error();
      // A broken image changed nothing (it is checked before the intent):
      // the leader sends one again.
      if (e.code == ErrorCode::kBadRequest && !install_committed_) {
        log_warn("snapshot at %llu refused: %s", static_cast<unsigned long long>(done.meta.index), e.message.c_str());
        installing_.reset();
        continue;
      }
      stop_on_storage_failure("snapshot install", e);
    }
    if (done.stage == SnapshotInstaller::Done::Stage::kIntentWritten) {
      commit_install_now(done.meta);
    } else {
      finish_install(done);
    }
  }
}

void NodeLoop::commit_install_now(const raft::SnapshotMetadata& meta) {
  // Raft only moves within its old log until now (appends are dropped), so
  // it still wants the snapshot. If not, a restart finishes the install
  // from its intent, consistently.
  CORRAL_CHECK_MSG(raw_->wants_snapshot(meta), "a snapshot being installed no longer wanted by raft");
  if (async_persist_) async_persist_->drain();
  if (auto c = commit_install(*engine_, *store_, meta); !c.ok()) {
    stop_on_storage_failure("snapshot install commit", c.error());
  }
  CORRAL_CHECK(raw_->snapshot_installed(meta));
  // The leader's entries after it are appended (and acknowledged) from
  // now on; applied once the state is loaded.
  raw_->pause_apply(true);
  install_committed_ = true;
  conf_state_ = meta.conf_state;
  snapshot_index_ = meta.index;
  log_event("snapshot install at index %llu committed, %lld ms after it arrived; loading the state",
            static_cast<unsigned long long>(meta.index),
            static_cast<long long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - install_started_).count()));
}

void NodeLoop::finish_install(SnapshotInstaller::Done& done) {
  CORRAL_CHECK(install_committed_ && done.prepared);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - install_started_).count();
  const auto finish_start = Clock::now();
  auto r = state_->reload(std::move(*done.prepared));
  CORRAL_CHECK_MSG(r.ok(), r.error().message.c_str());
  hub_->on_restore();
  applied_term_ = done.meta.term;
  installing_.reset();
  install_committed_ = false;
  raw_->pause_apply(false);
  installer_->forget_intent();
  after_apply_leases();
  sync_peers();
  const auto finish_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - finish_start).count();
  const auto longest_us = std::chrono::duration_cast<std::chrono::microseconds>(install_longest_turn_).count();
  log_event("installed snapshot at index %llu (state applied %llu): %lld ms off the loop (longest loop turn "
            "meanwhile %.1f ms), %lld ms on it",
            static_cast<unsigned long long>(done.meta.index),
            static_cast<unsigned long long>(state_->applied_index()), static_cast<long long>(ms),
            static_cast<double>(longest_us) / 1000.0, static_cast<long long>(finish_ms));
}

void NodeLoop::send_saves(Clock::time_point now) {
  for (auto& save : saves_) {
    if (!save.image) continue;
    const auto* out = outputs_.find(save.connection);
    if (out && out->paused(now)) continue;
    const std::string& data = save.image->bytes;
    for (int i = 0; i < kMaxSaveChunksPerTurn && save.sent_bytes < data.size(); ++i) {
      size_t n = std::min(api::kSnapshotChunkBytes, data.size() - save.sent_bytes);
      api::ResponseBuilder b(save.request_id, header());
      auto chunk = b.response().initSnapshot();
      chunk.setBlob(schema::as_data(std::string_view(data).substr(save.sent_bytes, n)));
      save.sent_bytes += n;
      chunk.setRemainingBytes(static_cast<int64_t>(data.size() - save.sent_bytes));
      reply(save.connection, b.finish());
    }
  }
  std::erase_if(saves_, [](const SnapshotSave& save) { return save.image && save.sent_bytes >= save.image->bytes.size(); });
}

}  // namespace corral::server
