// One corrald member, and ALL of its threading.
//
// Threads: the caller's thread (create, start, stop) and ONE node-loop thread
// that owns everything else: the RawNode, the RocksDB engine and stores, the
// apply path, the watch hub, and the ZeroMQ sockets (peers and clients). The
// ZeroMQ context runs its own I/O thread inside libzmq. One snapshot worker
// thread (snapshot_worker.h) does what may take seconds: state images (from
// a RocksDB snapshot, for lagging followers and `snapshot save`) and the
// flush before the log is compacted; it shares only the thread-safe engine
// and hands results back through a mutex. No other thread touches node
// state; stop() only sets an atomic and wakes the poller.
// A leader's log writes (entries + sync) go to a storage writer thread
// (async_persist.h, --storage-writer); followers write on the loop thread.
//
// One loop turn:
//   wait for a socket, a wake-up or the next tick -> tick raft from a steady
//   clock -> read peer messages and client requests (bounded per turn) ->
//   step peer messages; answer reads/local requests; gather every write
//   request of the turn into one proposal batch (one entry, several
//   requests) and every linearizable read into one ReadIndex ->
//   handle Ready: persist snapshot + entries + hard state in ONE WriteBatch
//   (ONE sync when must_sync; a leader sends its appends before that write,
//   and committed entries persisted in an earlier Ready are applied and
//   answered before it), send messages, apply the other committed entries
//   into ONE unsynced WriteBatch,
//   answer applied proposals and reads whose index is applied, advance ->
//   snapshot every snapshot_count applied entries (the flush on the worker)
//   -> watch catch-up and delivery per connection -> snapshot duties (worker
//   results, the next chunks of snapshot streams and saves).
//
// Durability: a write is answered only after its entry is applied, and an
// entry is applied only once committed, i.e. persisted (synced) on a
// majority. The raft log is the durable record; applied state is rebuilt
// from it, as etcd does with its consistent index:
//  - Apply batches (kv, leases, member table, conf state, and the applied
//    index with them) are written without the WAL. RocksDB flushes every
//    column family at one point (atomic_flush), so after a crash the applied
//    spaces on disk are the state as of one applied index A <= the applied
//    index before the crash, with the member table and conf state of A.
//  - Restart replays the committed entries after A from the raft log
//    (StateMachine skips entries <= its applied index). The log is
//    compacted only by finish_snapshot, after a flush that began once every
//    apply write up to the snapshot's index had returned, and only up to
//    that index, so the entries after A are always still there.
//  - Logged writes that name applied state: the snapshot metadata and conf
//    state of finish_snapshot (after that flush, so <= A) and an installed
//    snapshot (its image is in the same synced batch; flushed before, so
//    its deletes cover every key on disk). The bootstrap batch precedes
//    every apply.
//  - A clean stop closes RocksDB, which flushes unlogged data.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "coordinator/api/limits.h"
#include "coordinator/assign/engine.h"
#include "coordinator/auth/token.h"
#include "coordinator/base/error.h"
#include "coordinator/metrics/registry.h"
#include "coordinator/net/client_listener.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/raft/types.h"
#include "coordinator/server/curve_setup.h"
#include "coordinator/server/release_timer.h"

namespace corral::server {

inline constexpr int kDefaultTickMs = 100;
inline constexpr int kDefaultElectionTicks = 10;
inline constexpr int kDefaultHeartbeatTicks = 1;
inline constexpr uint64_t kDefaultSnapshotCount = 10'000;
inline constexpr uint64_t kDefaultSnapshotCatchupEntries = 5'000;
inline constexpr int kDefaultRequestTimeoutMs = 7'000;

struct NodeOptions {
  std::string name = "default";
  std::string data_dir = "corral.data";
  std::string listen_peer = "tcp://127.0.0.1:2380";
  std::string listen_client = "tcp://127.0.0.1:2379";
  std::string advertise_client;  // empty: the bound client endpoint
  std::string advertise_peer;    // empty: the bound peer endpoint
  std::string initial_cluster;   // empty: name=advertise_peer (a single member)
  bool initial_cluster_new = true;  // false: join an existing cluster
  int tick_ms = kDefaultTickMs;
  int election_ticks = kDefaultElectionTicks;
  int heartbeat_ticks = kDefaultHeartbeatTicks;
  uint64_t snapshot_count = kDefaultSnapshotCount;
  uint64_t snapshot_catchup_entries = kDefaultSnapshotCatchupEntries;
  int64_t auto_compaction_retention_revisions = 0;  // 0: off
  size_t max_request_bytes = api::kDefaultMaxRequestBytes;
  size_t max_pending_proposals = api::kDefaultMaxPendingProposals;
  size_t max_watchers_per_connection = api::kDefaultMaxWatchersPerConnection;
  int request_timeout_ms = kDefaultRequestTimeoutMs;
  // Past this many bytes in the data dir, writes that add data (put, txn,
  // lease grant) get tooLarge; deletes, revokes and compaction still pass.
  // 0: no quota.
  int64_t quota_backend_bytes = 0;
  // Free space of the data dir's file system below which this member raises
  // the NOSPACE alarm (disk_reserve.h); 0: never.
  uint64_t disk_reserve_bytes = 64ull << 20;
  bool in_memory = false;  // tests: RocksDB in memory, nothing on disk
  // The leader's raft log append and fsync on a writer thread
  // (async_persist.h); false: on the loop thread.
  bool storage_writer = true;
  // Linearizable reads served by a leader from its read lease, without a
  // heartbeat round each (read_lease.h), as TiKV and CockroachDB do by
  // default; false: ReadIndex only, as etcd's default.
  bool read_lease = true;
  // Log collection: a revoking assignment not released within this is
  // released by the leader; the assignment bound's slack in thousandths.
  int assign_release_timeout_ms = static_cast<int>(kDefaultReleaseTimeoutMs);
  int64_t assign_load_slack_permille = assign::kDefaultLoadSlackPermille;
  // The peers' wire (net/peer_transport.h): auto is ZeroMQ with CURVE,
  // plain TCP without. Every member of a cluster must use the same.
  net::PeerWire peer_wire = net::PeerWire::kAuto;
  // The clients' wire (net/client_listener.h): auto is ZeroMQ with CURVE,
  // plain TCP without. Clients must use the same.
  net::ClientWire client_wire = net::ClientWire::kAuto;
  // CURVE on the client listener and the peer transport, with a ZAP
  // handler checking the allow-lists (curve_setup.h); null: plain ZMTP.
  std::shared_ptr<const CurveSetup> curve;
  // How long a token from authenticate (or the minter) is valid.
  int64_t auth_token_ttl_ms = auth::kDefaultTokenTtlMs;
  // Tests only (a lost packet): an outgoing raft message for which this
  // returns true is dropped instead of sent. Called on the loop thread.
  std::function<bool(const raft::Message&)> drop_peer_message;
};

class NodeLoop;
class AuthTokenMinter;

class Node {
 public:
  // Opens (or bootstraps) the data dir and binds both sockets. Errors:
  // kBadRequest (options), kUnavailable (bind), kStorage (disk).
  static Result<std::unique_ptr<Node>> create(const NodeOptions& options);
  ~Node();  // stops
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the node-loop thread.
  void start();
  // Asks the loop to end, then joins it. Idempotent.
  void stop();
  // The loop ended by itself (removed from the cluster, or a disk error).
  bool finished() const { return finished_.load(); }
  // It ended because members of another cluster refused it (cluster id
  // mismatch, cluster_id_gate.h): corrald exits with 2.
  bool refused_by_cluster() const;

  // Re-reads the CURVE allow files (SIGHUP); new handshakes use them,
  // connections already up stay. Errors leave the old lists in force.
  Status reload_curve_allow_lists();

  uint64_t id() const;
  std::string client_endpoint() const;  // as bound (port 0 resolved)
  std::string peer_endpoint() const;
  // The member's Prometheus metrics: metrics().render() is the /metrics
  // text, safe from any thread while the member runs.
  const metrics::Registry& metrics() const;
  // Tokens for identities verified elsewhere (the HTTP server's client
  // certificates); thread-safe, valid for the node's life.
  std::shared_ptr<AuthTokenMinter> token_minter() const;

 private:
  explicit Node(std::unique_ptr<NodeLoop> loop);

  std::unique_ptr<NodeLoop> loop_;
  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace corral::server
