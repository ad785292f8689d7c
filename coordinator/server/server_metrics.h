// The Prometheus metrics of one member (README "Metrics"). The registry is
// the member's own (no global): Node::render_metrics() gives its text for a
// scrape from any thread. Counters and histograms are updated where things
// happen; gauges the node loop computes are published by it at most once a
// second (NodeLoop::publish_metrics).
#pragma once

#include "coordinator/metrics/registry.h"

namespace corral::server {

struct ServerMetrics {
  ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  metrics::Registry registry;  // declared first: the references below point into it

  // Raft.
  metrics::Gauge& raft_term;
  metrics::Gauge& has_leader;
  metrics::Gauge& is_leader;
  metrics::Counter& leader_changes_seen;
  metrics::Counter& proposals_committed;
  metrics::Counter& proposals_applied;
  metrics::Counter& proposals_failed;
  metrics::Gauge& proposals_pending;
  metrics::Gauge& applied_index;
  metrics::Histogram& apply_seconds;
  metrics::Histogram& wal_fsync_seconds;
  metrics::Gauge& storage_writes_in_flight;
  metrics::Counter& storage_writer_queue_full;
  metrics::Histogram& loop_turn_seconds;
  // The key space and what hangs on it.
  metrics::Gauge& db_size_bytes;
  metrics::Gauge& keys;
  metrics::Gauge& current_revision;
  metrics::Gauge& compact_revision;
  metrics::Gauge& watchers;
  metrics::Gauge& watch_streams;
  metrics::Counter& slow_watcher_cancels;
  metrics::Gauge& leases;
  metrics::Counter& lease_checkpoints_applied;
  metrics::Counter& lease_resets_applied;
  // Network.
  metrics::Gauge& client_connections;
  metrics::Family<metrics::Counter>& requests;           // type, code
  metrics::Family<metrics::Counter>& linearizable_reads;  // path: lease, read_index or forwarded
  metrics::Family<metrics::Counter>& forwarded_reads;     // path: lease or read_index
  metrics::Family<metrics::Histogram>& request_seconds;  // type
  metrics::Counter& peer_sent_bytes;
  metrics::Counter& peer_received_bytes;
  metrics::Counter& peer_dropped;
  metrics::Counter& client_closed_silent;
  metrics::Counter& snapshots_sent;
  metrics::Counter& snapshots_received;
};

}  // namespace corral::server
