#include "coordinator/server/server_metrics.h"

namespace corral::server {

namespace {

// Loop turns: the same bounds as LoopTurnStats, in seconds.
std::vector<double> turn_buckets() {
  return {0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5};
}

}  // namespace

ServerMetrics::ServerMetrics()
    : raft_term(registry.gauge("corral_server_raft_term", "The raft term this member is in.")),
      has_leader(registry.gauge("corral_server_has_leader", "1 if this member knows a leader, else 0.")),
      is_leader(registry.gauge("corral_server_is_leader", "1 if this member is the leader, else 0.")),
      leader_changes_seen(registry.counter("corral_server_leader_changes_seen_total",
                                           "Leader changes this member has seen since it started.")),
      proposals_committed(registry.counter("corral_server_proposals_committed_total",
                                           "Raft entries committed and handed to this member's apply.")),
      proposals_applied(registry.counter("corral_server_proposals_applied_total",
                                         "Raft entries this member has applied since it started.")),
      proposals_failed(registry.counter("corral_server_proposals_failed_total",
                                        "Client writes whose proposal was refused by raft or not applied in time.")),
      proposals_pending(registry.gauge("corral_server_proposals_pending",
                                       "Client writes proposed by this member and not yet answered.")),
      applied_index(registry.gauge("corral_server_applied_index", "The raft index this member has applied.")),
      apply_seconds(registry.histogram("corral_server_apply_duration_seconds",
                                       "Time to apply one batch of committed entries.", metrics::latency_buckets())),
      wal_fsync_seconds(registry.histogram("corral_disk_wal_fsync_duration_seconds",
                                           "Time of a synced write of raft log entries and hard state.",
                                           metrics::latency_buckets())),
      storage_writes_in_flight(registry.gauge("corral_disk_storage_writes_in_flight",
                                              "The leader's raft log writes handed to its storage writer thread "
                                              "and not yet done.")),
      storage_writer_queue_full(registry.counter(
          "corral_disk_storage_writer_queue_full_total",
          "Times the storage writer's queue was full (1024 writes or 64 MiB) and the node loop waited for it, "
          "then wrote itself: the disk is slower than the writes.")),
      loop_turn_seconds(registry.histogram("corral_server_loop_turn_duration_seconds",
                                           "Work time of one node-loop turn (a turn near the election timeout "
                                           "costs a leader its leadership).",
                                           turn_buckets())),
      db_size_bytes(registry.gauge("corral_mvcc_db_total_size_in_bytes",
                                   "Bytes the key space and leases take on disk (what --quota-backend-bytes counts).")),
      keys(registry.gauge("corral_mvcc_keys", "Keys in the index: live, or deleted with history not yet compacted.")),
      current_revision(registry.gauge("corral_mvcc_current_revision", "The current revision of the key space.")),
      compact_revision(registry.gauge("corral_mvcc_compact_revision", "The revision the key space is compacted to.")),
      watchers(registry.gauge("corral_mvcc_watchers", "Watchers on this member (synced, catching up, future).")),
      watch_streams(registry.gauge("corral_mvcc_watch_streams", "Client connections with a watch stream.")),
      slow_watcher_cancels(registry.counter("corral_mvcc_slow_watcher_cancels_total",
                                            "Watches cancelled because their client read too slowly.")),
      leases(registry.gauge("corral_lease_active", "Leases granted and not yet expired or revoked.")),
      lease_checkpoints_applied(registry.counter(
          "corral_lease_checkpoints_applied_total",
          "Lease checkpoints (a remaining TTL) this member applied: leases not kept alive for the checkpoint "
          "interval, or a new leader's first checkpoints. One lease record written each.")),
      lease_resets_applied(registry.counter(
          "corral_lease_checkpoint_resets_applied_total",
          "Lease checkpoint resets this member applied: a keep-alive on a lease holding a checkpoint. 0 a "
          "second when every lease is kept alive more often than its checkpoint interval.")),
      client_connections(registry.gauge("corral_network_client_connections",
                                        "Client connections with a watch stream or replies in flight (ZeroMQ does "
                                        "not report idle ones).")),
      requests(registry.counter_family("corral_server_requests_total",
                                       "Client requests answered, by request type and result code.",
                                       {"type", "code"})),
      linearizable_reads(registry.counter_family("corral_server_linearizable_reads_total",
                                                 "Linearizable reads by how this member confirmed them: from its "
                                                 "leader's read lease (--read-lease), by a ReadIndex round, or "
                                                 "forwarded to the leader (a follower).",
                                                 {"path"})),
      forwarded_reads(registry.counter_family("corral_server_forwarded_read_requests_total",
                                              "Read requests followers forwarded to this leader (each one batch of "
                                              "a follower's linearizable reads), by how it confirmed them: at once "
                                              "from its read lease (--read-lease) or by a ReadIndex round.",
                                              {"path"})),
      request_seconds(registry.histogram_family("corral_server_request_duration_seconds",
                                                "Time from a client request's arrival to its answer.", {"type"},
                                                metrics::latency_buckets())),
      peer_sent_bytes(registry.counter("corral_network_peer_sent_bytes_total",
                                       "Bytes of raft messages sent to other members (snapshot chunks not counted).")),
      peer_received_bytes(registry.counter("corral_network_peer_received_bytes_total",
                                           "Bytes received from other members.")),
      peer_dropped(registry.counter("corral_network_peer_dropped_total",
                                    "Connections and frames the peer listener dropped: a bad hello or frame "
                                    "shape (a member on the other --peer-wire looks like this), an oversized "
                                    "frame, or a connection past the bounds.")),
      client_closed_silent(registry.counter("corral_network_client_closed_silent_total",
                                            "Client connections closed after sending nothing, not even a "
                                            "heartbeat, for 10 s (TCP wire: a vanished host or a cut link).")),
      snapshots_sent(registry.counter("corral_network_snapshot_sent_total",
                                      "Snapshots this member started sending to lagging followers.")),
      snapshots_received(registry.counter("corral_network_snapshot_received_total",
                                          "Whole snapshots this member received from a leader.")) {}

}  // namespace corral::server
