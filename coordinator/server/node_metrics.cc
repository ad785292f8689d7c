// Gauges the loop computes, published at most once a second (the quota's
// figure reads RocksDB properties).
#include "coordinator/server/node_loop.h"

#include <algorithm>

#include "coordinator/server/backend_quota.h"

namespace corral::server {

void NodeLoop::publish_metrics(Clock::time_point now) {
  if (now < next_metrics_publish_) return;
  next_metrics_publish_ = now + std::chrono::seconds(1);
  const uint64_t dropped = transport_->stats().dropped_malformed;
  metrics_.peer_dropped.inc(dropped - peer_dropped_published_);
  peer_dropped_published_ = dropped;
  const uint64_t silent = listener_->stats().closed_silent;
  metrics_.client_closed_silent.inc(silent - std::min(silent, metrics_.client_closed_silent.value()));
  metrics_.raft_term.set(static_cast<double>(term_));
  metrics_.has_leader.set(soft_.leader != raft::kNoNode ? 1 : 0);
  metrics_.is_leader.set(is_leader() ? 1 : 0);
  metrics_.proposals_pending.set(static_cast<double>(pending_.size()));
  metrics_.applied_index.set(static_cast<double>(state_->applied_index()));
  if (auto bytes = backend_bytes(*engine_); bytes.ok()) metrics_.db_size_bytes.set(static_cast<double>(*bytes));
  metrics_.keys.set(static_cast<double>(state_->kv().indexed_keys()));
  metrics_.current_revision.set(static_cast<double>(state_->kv().current_revision()));
  metrics_.compact_revision.set(static_cast<double>(state_->kv().compact_revision()));
  const auto hub = hub_->stats();
  metrics_.watchers.set(static_cast<double>(hub.synced + hub.unsynced + hub.future));
  metrics_.watch_streams.set(static_cast<double>(stream_by_conn_.size()));
  metrics_.leases.set(static_cast<double>(state_->lessor().size()));
  const auto& checkpoints = state_->lessor().checkpoint_counts();
  const auto catch_up = [](metrics::Counter& c, uint64_t total) { c.inc(total - std::min(total, c.value())); };
  catch_up(metrics_.lease_checkpoints_applied, checkpoints.countdowns_applied);
  catch_up(metrics_.lease_resets_applied, checkpoints.resets_applied);
  metrics_.client_connections.set(static_cast<double>(outputs_.size()));
  if (async_persist_) {
    metrics_.storage_writes_in_flight.set(static_cast<double>(async_persist_->in_flight()));
    const uint64_t full = async_persist_->queue_full_count();
    metrics_.storage_writer_queue_full.inc(full - std::min(full, metrics_.storage_writer_queue_full.value()));
  }
}

}  // namespace corral::server
