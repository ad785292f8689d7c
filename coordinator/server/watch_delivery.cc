// Watch streams: one per client connection, its create/cancel/progress
// requests, and each turn's catch-up and delivery under the output bounds.
#include "coordinator/server/node_loop.h"

#include "coordinator/server/log.h"
#include "schema/data_bytes.h"

namespace corral::server {

namespace {

constexpr size_t kMaxCatchupEventsPerTurn = 4096;
constexpr size_t kMaxDeliveriesPerStreamPerTurn = 1024;

// Watchers that start at a past revision read the history a bounded step
// per turn. True if the catch-up moved.
bool catch_up_step(watch::WatchHub& hub) {
  if (!hub.has_unsynced()) return false;
  const size_t before = hub.stats().unsynced;
  return hub.sync_step(kMaxCatchupEventsPerTurn) > 0 || hub.stats().unsynced != before;
}

// The frames one delivery of the hub makes for its client.
std::vector<std::string> delivery_frames(const watch::Delivery& d, api::Header h, ServerMetrics& metrics) {
  std::vector<std::string> frames;
  switch (d.kind) {
    case watch::Delivery::Kind::kCreated:
      break;  // the create response already told the client
    case watch::Delivery::Kind::kEvents:
      h.revision = d.revision;
      frames.push_back(api::encode_watch_events(h, *d.watch_ids, *d.events));
      break;
    case watch::Delivery::Kind::kProgress:
      h.revision = d.revision;
      for (auto id : *d.watch_ids) frames.push_back(api::encode_watch_progress(h, id));
      break;
    case watch::Delivery::Kind::kCancelled: {
      api::WireError why;
      switch (d.reason) {
        case watch::CancelReason::kRequested:
          why = api::wire_error(wire::ErrorCode::OK, "cancelled");
          break;
        case watch::CancelReason::kCompacted:
          why = api::wire_error(wire::ErrorCode::COMPACTED, "start revision compacted");
          why.compact_revision = d.revision;
          break;
        case watch::CancelReason::kSlowWatcher:
          metrics.slow_watcher_cancels.inc();
          why = api::wire_error(wire::ErrorCode::UNAVAILABLE, "slow watcher: " + d.message);
          break;
        case watch::CancelReason::kHistoryError:
          why = api::wire_error(wire::ErrorCode::INTERNAL, d.message);
          break;
      }
      for (auto id : *d.watch_ids) frames.push_back(api::encode_watch_canceled(h, id, why));
      break;
    }
  }
  return frames;
}

}  // namespace

watch::StreamId NodeLoop::stream_for(const net::ConnectionId& conn) {
  auto it = stream_by_conn_.find(conn);
  if (it != stream_by_conn_.end()) return it->second;
  auto s = hub_->open_stream();
  if (!s.ok()) return 0;
  stream_by_conn_[conn] = *s;
  conn_by_stream_[*s] = conn;
  outputs_.open(conn);  // its sends are counted from now on
  return *s;
}

void NodeLoop::close_stream(watch::StreamId stream) {
  auto it = conn_by_stream_.find(stream);
  if (it == conn_by_stream_.end()) return;
  (void)hub_->close_stream(stream);
  draining_.erase(stream);
  stream_by_conn_.erase(it->second);
  conn_by_stream_.erase(it);
}

void NodeLoop::handle_watch(const net::ConnectionId& conn, const api::ParsedRequest& req) {
  auto r = req.get();
  watch::StreamId stream = stream_for(conn);
  if (stream == 0) {
    return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::TOO_LARGE, "too many watch streams"));
  }
  api::ResponseBuilder b(r.getId(), header());
  switch (r.which()) {
    case wire::Request::WATCH_CREATE: {
      if (installing()) {  // its history is half replaced
        return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::UNAVAILABLE,
                                                            "member installing a snapshot: retry, or watch another member"));
      }
      auto wc = r.getWatchCreate();
      watch::WatchRequest w;
      w.key = schema::as_string(wc.getKey());
      w.range_end = schema::as_string(wc.getRangeEnd());
      w.start_revision = wc.getStartRevision();
      w.prev_kv = wc.getPrevKv();
      w.progress_notify = wc.getProgressNotify();
      w.no_put = wc.getNoPut();
      w.no_delete = wc.getNoDelete();
      auto id = hub_->create(stream, w);
      if (!id.ok()) return reply_error(conn, r.getId(), api::to_wire_error(id.error()));
      b.response().initWatchCreate().setWatchId(*id);
      break;
    }
    case wire::Request::WATCH_CANCEL: {
      auto s = hub_->cancel(stream, r.getWatchCancel().getWatchId());
      if (!s.ok()) return reply_error(conn, r.getId(), api::to_wire_error(s.error()));
      b.response().initWatchCancel();
      break;
    }
    default: {
      auto s = hub_->request_progress(stream);
      if (!s.ok()) return reply_error(conn, r.getId(), api::to_wire_error(s.error()));
      b.response().initWatchProgress();
      break;
    }
  }
  reply(conn, b.finish());
}

void NodeLoop::deliver_watches() {
  const auto now = Clock::now();
  // Catching watchers up reads history: not from a state half replaced by
  // a snapshot install (they go on from where they were once it is in).
  const bool catchup_moved = !installing() && catch_up_step(*hub_);
  next_output_retry_.reset();
  flush_held_output(now);
  for (auto s : hub_->take_ready()) draining_.insert(s);
  bool more_now = false;
  bool popped = false;
  std::vector<watch::StreamId> streams(draining_.begin(), draining_.end());
  for (auto stream : streams) {
    auto cit = conn_by_stream_.find(stream);
    if (cit == conn_by_stream_.end()) {
      draining_.erase(stream);
      (void)hub_->close_stream(stream);
      continue;
    }
    const net::ConnectionId conn = cit->second;
    auto& out = outputs_.open(conn);
    // A connection that takes no more (ZeroMQ refused a frame, or holds our
    // byte budget of it) is paused: its output stays in the hub, under the
    // hub's bounds, and is retried later. Nothing is dropped here.
    if (out.paused(now)) {
      note_retry(out.retry_at);
      continue;
    }
    bool gone = false;
    size_t sent = 0;
    while (sent < kMaxDeliveriesPerStreamPerTurn) {
      if (out.in_zmq->load(std::memory_order_relaxed) >= kMaxWatchBytesInZmqPerConnection) {
        out.back_off(now);
        break;
      }
      auto d = hub_->pop(stream);
      if (!d) break;
      ++sent;
      popped = true;
      std::vector<std::string> frames = delivery_frames(*d, header(), metrics_);
      // A frame ZeroMQ refuses is held (send_frame) with the rest of this
      // delivery behind it; the stream then pauses. Watch ids are never
      // reused on a stream, so a cancel that arrives late is still right.
      for (auto& f : frames) {
        if (!send_frame(conn, std::move(f))) {
          gone = true;
          break;
        }
      }
      if (gone || !out.held.empty()) break;
      out.backoff_ms = 0;
    }
    if (gone) {
      log_event("watch stream %llu closed: connection gone", static_cast<unsigned long long>(stream));
      continue;  // forget_connection closed the stream
    }
    if (hub_->queued(stream) == 0) {
      draining_.erase(stream);
    } else if (out.paused(now)) {
      note_retry(out.retry_at);
    } else {
      more_now = true;  // stopped by the per-turn bound only
    }
  }
  watch_work_now_ = more_now || catchup_moved || (popped && hub_->has_unsynced());
}

}  // namespace corral::server
