// NodeLoop: everything the node-loop thread owns (private to server/; the
// public face is Node in node.h, which starts and stops the thread).
//
// Threads (node.h says why, and how one turn goes):
//  - the node-loop thread runs NodeLoop::run and so every NodeLoop member
//    function below, except reload_curve_allow_lists (main thread; it only
//    touches the ZAP handler, which locks) and wake (any thread);
//  - the ZAP handler thread (zap_handler.h), the snapshot worker
//    (snapshot_worker.h), the snapshot installer (snapshot_installer.h:
//    a follower's received snapshot), the defragmenter (defragmenter.h) and the HashKV
//    worker (kv_hasher.h) are started
//    here and report back through their own locks; nothing else of the loop
//    is shared.
//
// Where NodeLoop's member functions live, by concern:
//   node_loop.cc        run, turn, tick, peer frames in, Ready: persist and
//                       apply, soft state, raft messages out
//   node_bootstrap.cc   init, transport, the data dir's identity, bootstrap,
//                       peer links (sync_peers), CURVE allow-list reload
//   request_routing.cc  client requests in, writes, reads, read batches,
//                       deadlines
//   local_requests.cc   status, maintenance (HashKV off the loop), defragment,
//                       snapshot save
//   client_replies.cc   replies out (through ConnectionOutputs,
//                       connection_output.h: held frames, backoff), refusal
//                       of backlogged connections
//   watch_delivery.cc   watch streams, watch requests, delivery
//   cluster_admin.cc    membership requests and answers, move leader,
//                       member attributes
//   node_snapshots.cc   snapshots, images, snapshot streams, saves
//   leader_duties.cc    quota, lease expiry, checkpoints, forced releases,
//                       auto-compaction
//   node_leases.cc      keep-alives, lessor promotion after apply
//   node_metrics.cc     gauges published once a second
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "coordinator/api/errors.h"
#include "coordinator/api/request.h"
#include "coordinator/api/response.h"
#include "coordinator/net/chunker.h"
#include "coordinator/net/client_listener.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/net/poller.h"
#include "coordinator/net/reply_budget.h"
#include "coordinator/raft/raw_node.h"
#include "coordinator/server/async_persist.h"
#include "coordinator/server/auth_token_minter.h"
#include "coordinator/server/cluster_id_gate.h"
#include "coordinator/server/peer_identity_gate.h"
#include "coordinator/server/authenticator.h"
#include "coordinator/server/command.h"
#include "coordinator/server/connection_output.h"
#include "coordinator/server/defragmenter.h"
#include "coordinator/server/kv_hasher.h"
#include "coordinator/server/disk_reserve.h"
#include "coordinator/server/identity.h"
#include "coordinator/server/join_discovery.h"
#include "coordinator/server/leader_moves.h"
#include "coordinator/server/lease_checkpointer.h"
#include "coordinator/server/keepalive_batches.h"
#include "coordinator/server/lease_keepalives.h"
#include "coordinator/server/loop_turn_stats.h"
#include "coordinator/server/members.h"
#include "coordinator/server/proposal_positions.h"
#include "coordinator/server/node.h"
#include "coordinator/server/read_lease.h"
#include "coordinator/server/release_timer.h"
#include "coordinator/server/peer_wire_report.h"
#include "coordinator/server/removed_notifier.h"
#include "coordinator/server/request_meter.h"
#include "coordinator/server/server_metrics.h"
#include "coordinator/server/snapshot_installer.h"
#include "coordinator/server/snapshot_sender.h"
#include "coordinator/server/snapshot_worker.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/server/zap_handler.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"
#include "coordinator/watch/watch_hub.h"

namespace corral::server {

namespace wire = corral::schema::api;
using Clock = std::chrono::steady_clock;

// Peer frames: a raft Message as storage::encode_message made it (sent as
// is, no copy), a snapshot chunk: kChunkFrameTag then net::encode_chunk of
// a snapshot stream (snapshot_sender.h), or
// a member's own attributes for the leader to propose (raft does not forward
// proposals): kAttributesFrameTag then encode_member. A flat Cap'n Proto
// message starts with its segment count minus one, which is never
// 0xffffffff or 0xfffffffe, so the tags cannot be mistaken for a message.
inline constexpr std::string_view kChunkFrameTag = kSnapshotChunkFrameTag;
inline constexpr std::string_view kAttributesFrameTag{"\xfe\xff\xff\xff", 4};
// A follower's "my disk is below its reserve": the leader raises NOSPACE for it
// (node_nospace.cc). It once shared its tag with kJoinQueryTag: the leader
// took it for a join query and no follower's alarm was ever raised. Every
// tag is checked distinct below.
inline constexpr std::string_view kNoSpaceFrameTag{"\xf9\xff\xff\xff", 4};
static_assert(kNoSpaceFrameTag != kJoinQueryTag && kNoSpaceFrameTag != kJoinAnswerTag &&
              kNoSpaceFrameTag != kRemovedTag && kNoSpaceFrameTag != kClusterMismatchTag &&
              kNoSpaceFrameTag != kChunkFrameTag && kNoSpaceFrameTag != kAttributesFrameTag);
static_assert(kAttributesFrameTag != kJoinQueryTag && kAttributesFrameTag != kJoinAnswerTag &&
              kAttributesFrameTag != kRemovedTag && kAttributesFrameTag != kClusterMismatchTag &&
              kAttributesFrameTag != kChunkFrameTag);

// Everything the node-loop thread owns.
class NodeLoop {
 public:
  NodeLoop(const NodeOptions& options)
      : options_(options), context_(1), minter_(std::make_shared<AuthTokenMinter>(options.auth_token_ttl_ms)) {}
  Status init();
  void run(const std::atomic<bool>& stop);
  void wake() { poller_->wake(); }

  uint64_t id() const { return self_id_; }
  bool refused_by_cluster() const { return refused_by_cluster_.load(); }
  std::string client_endpoint() const { return listener_->bound_endpoint().to_zmq(); }
  std::string peer_endpoint() const { return transport_->bound_endpoint().to_zmq(); }
  const metrics::Registry& metrics() const { return metrics_.registry; }
  Status reload_curve_allow_lists();
  std::shared_ptr<AuthTokenMinter> token_minter() const { return minter_; }

 private:
  // A client waiting for its proposal to apply.
  struct PendingProposal {
    net::ConnectionId connection;
    uint64_t request_id = 0;
    wire::Request::Which kind = wire::Request::PUT;
    Clock::time_point deadline;
    uint64_t member_id = 0;  // a membership change: the member it names
  };
  // A linearizable read waiting for its read index and then for apply.
  struct PendingRead {
    net::ConnectionId connection;
    std::unique_ptr<api::ParsedRequest> request;
    Clock::time_point deadline;
    std::string user;  // who asked (auth_gate.h): checked again when served
  };
  struct ReadBatch {
    std::vector<PendingRead> reads;
    raft::Index index = 0;  // set once the read state arrived
    Clock::time_point asked{};  // when raft was last asked for its index
  };

  Status bootstrap(const std::vector<MemberInfo>& initial, const MemberIdentity& identity);
  Status record_identity(const MemberIdentity& identity, const std::optional<JoinResult>& joined);
  Result<std::unique_ptr<net::PeerTransport>> create_transport(bool port_just_released);
  // init's steps, in order (node_bootstrap.cc).
  Status refuse_bad_options() const;
  Status listen_for_clients();
  Status open_peer_transport(StartupIdentity& identity);
  Status open_storage(const StartupIdentity& identity);
  Result<raft::InitialState> recover_log(const StartupIdentity& identity);
  void open_watch_hub();
  void create_raft(const raft::InitialState& init);
  Status start_workers();
  void turn();
  bool wait_for_work();
  void tick_clock();
  void receive_peers();
  // Logs what the transport saw of peers on another wire (peer_wire_report.h).
  void report_peer_wire_troubles();
  bool admit_peer_frame(const net::PeerMessage& pm);
  void receive_clients();
  void handle_client(net::ClientRequest& req);
  void handle_write(const net::ConnectionId& conn, std::unique_ptr<api::ParsedRequest> req,
                    std::string_view payload, std::string_view user);
  void handle_watch(const net::ConnectionId& conn, const api::ParsedRequest& req);
  void handle_cluster(const net::ConnectionId& conn, const api::ParsedRequest& req);
  void handle_move_leader(const net::ConnectionId& conn, uint64_t request_id, uint64_t target);
  // Answers the move-leader requests whose target now leads or whose time is up.
  void answer_leader_moves();
  // Fills `cc` and `ctx` for a member add, or says why it is refused.
  std::optional<api::WireError> plan_member_add(wire::MemberAddRequest::Reader ma, raft::ConfChange& cc,
                                                ConfChangeContext& ctx);
  std::optional<std::string> member_add_clash(const MemberInfo& m) const;
  void handle_local(const net::ConnectionId& conn, const api::ParsedRequest& req);
  void answer_defragments();
  void start_hash_kv(const net::ConnectionId& conn, uint64_t request_id, kv::Revision revision);
  void answer_hashes();
  void serve_read(const net::ConnectionId& conn, const api::ParsedRequest& req);
  // permissionDenied or unauthenticated sent: the request goes no further.
  bool refuse_unauthorized(const net::ConnectionId& conn, const api::ParsedRequest& req, std::string_view user);
  void flush_proposals();
  void flush_reads();
  // --read-lease: the leader's lease is valid now; the waiting reads become
  // a batch at the commit index, served once it is applied. False: use
  // ReadIndex.
  bool serve_reads_from_lease();
  // A read batch a follower forwarded (kReadIndex), counted by path: with
  // --read-lease answered at once at the commit index while the lease is
  // valid; true: answered. False: step it into raft (a ReadIndex round).
  bool answer_forwarded_read_on_lease(const raft::Message& m);
  // The lease's view now: raft's basis, the stamps of new rounds observed.
  bool lease_valid_now(const raft::LeaseBasis& basis, ReadLease::Clock::time_point now);
  void handle_ready();
  // A leader's Ready whose writes go to the storage writer (async_persist.h):
  // handed over, messages sent, committed entries applied; true. Otherwise
  // the writes in flight are drained (false).
  bool persist_off_loop(raft::Ready& rd);
  // Read states, raft's advance, the periodic snapshot.
  void finish_ready(raft::Ready& rd);
  // before_write runs after the leader's appends are sent and before
  // anything of rd is staged or written.
  void persist(raft::Ready& rd, const std::function<void()>& before_write);
  void apply(const std::vector<raft::Entry>& committed);
  bool apply_conf_change_entry(const raft::Entry& e, storage::WriteBatch& batch, ApplyOutput& out);
  void answer_applied(ApplyOutput& out);
  // force: snapshot now (a member was added: it must start from an image,
  // since bootstrap membership is not in the log). Starts the flush that a
  // snapshot waits for on the worker; false if one is still running.
  bool maybe_snapshot(bool force = false);
  // The flush of maybe_snapshot finished: record the snapshot, compact the log.
  void finish_snapshot(const SnapshotWorker::FlushDone& done);
  // The raft snapshot source: the snapshot recorded when the latest image
  // was taken (its data goes with the stream, not in raft's message);
  // unavailable (raft retries) until such an image is built.
  Result<raft::Snapshot> snapshot_for(const raft::SnapshotMetadata& latest);
  // The log is not compacted past this index: a follower is being sent a
  // snapshot at it, or an image taken at it waits to be sent.
  raft::Index log_hold_index() const;
  void start_snapshot_stream(const raft::Message& m);
  // Each turn: collect the worker's results, start the image builds asked
  // for, send the next chunks of snapshot streams and `snapshot save`s.
  void snapshot_duties();
  void send_saves(Clock::time_point now);
  // A received snapshot raft wants: handed to the installer (the loop goes
  // on; raft hears of it once installed). False: not wanted, step it.
  bool start_install(raft::Message& m);
  // Each turn: an install the installer finished is committed, the state
  // machine reloaded and raft told (node_snapshots.cc).
  void install_duties();
  // The intent is on disk: the snapshot's raft record written, raft told,
  // apply paused (the leader's entries are appended meanwhile).
  void commit_install_now(const raft::SnapshotMetadata& meta);
  // The state is loaded: the state machine takes it over, apply resumes.
  void finish_install(SnapshotInstaller::Done& done);
  // While an install runs the loop serves no read from the half-replaced
  // state and applies nothing; until it is committed, it also drops the
  // leader's appends.
  bool installing() const { return installing_.has_value(); }
  void serve_ready_reads();
  void expire_pending();
  // A proposal whose log index now holds another entry (proposal_positions.h):
  // answered "not leader" (nothing applied; safe to send again).
  void answer_lost_proposal(uint64_t proposal_id);
  void retry_forwarded_reads(Clock::time_point now);
  void leader_duties();
  // Leases (lease_keepalives.h, keepalive_batches.h, lease_checkpointer.h).
  void queue_keepalives(const net::ConnectionId& conn, const api::ParsedRequest& r);
  void finish_keepalive(const WaitingKeepAlive& k, const api::WireError* error);
  void flush_keepalives();
  void serve_keepalives();
  void fail_keepalives(const api::WireError& why);
  void after_apply_leases();
  void force_overdue_releases();
  void publish_attributes();
  void report_low_disk();                     // node_nospace.cc
  // A raft message (null: a snapshot chunk) that would grow a critically
  // full data dir (disk_reserve.h): true, it is dropped as if lost.
  bool refuse_for_disk(const raft::Message* msg);  // node_nospace.cc
  // This member's disk is below its reserve, or (the leader) a member
  // reported its own within the last kLowDiskReportTtl: writes and disarms
  // are refused (alarms.h, nospace_refusal).
  bool some_disk_low();  // node_nospace.cc
  void propose_nospace(uint64_t member_id);   // node_nospace.cc
  void propose_attributes(const net::PeerMessage& pm, std::string_view record);
  void reissue_reads();
  void deliver_watches();
  void flush_held_output(Clock::time_point now);
  bool send_frame(const net::ConnectionId& conn, std::string frame);
  bool refuse_if_backlogged(const net::ConnectionId& conn, uint64_t request_id);
  void send_refusal(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e);
  void refuse_unread(const net::ClientRequest& req);
  void send_raft(const raft::Message& m);
  void sync_peers();
  void on_soft_state(const raft::SoftState& ss);
  void publish_metrics(Clock::time_point now);

  void reply(const net::ConnectionId& conn, const std::string& bytes);
  void reply_error(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e);
  api::Header header() const;
  std::string leader_hint() const;
  bool is_leader() const { return soft_.role == raft::Role::kLeader; }
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
  }
  void fill_members(capnp::List<wire::Member>::Builder out) const;
  void answer_conf(uint64_t proposal_id, const std::optional<api::WireError>& err);
  watch::StreamId stream_for(const net::ConnectionId& conn);
  void close_stream(watch::StreamId stream);
  void forget_connection(const net::ConnectionId& conn);
  void note_retry(Clock::time_point at) {
    if (!next_output_retry_ || at < *next_output_retry_) next_output_retry_ = at;
  }

 public:
  bool removed_ = false;  // this member was removed: the loop ends
  std::atomic<bool> refused_by_cluster_{false};  // another cluster's members refused it: ended too

 private:
  NodeOptions options_;
  ServerMetrics metrics_;  // before everything that counts into it
  RequestMeter meter_{metrics_};
  Clock::time_point next_metrics_publish_{};
  zmq::context_t context_;
  // After context_: stopped before the context is closed.
  std::unique_ptr<ZapHandler> zap_;
  uint64_t self_id_ = 0;
  uint64_t cluster_id_ = 0;
  std::vector<MemberInfo> initial_members_;
  std::string advertise_client_;

  std::unique_ptr<storage::Engine> engine_;
  // Declared after engine_: destroyed (joined) before it.
  std::unique_ptr<Defragmenter> defragmenter_;
  std::vector<std::pair<net::ConnectionId, uint64_t>> defragment_waiters_;  // conn, request id
  std::unique_ptr<storage::RaftLogStore> store_;
  std::unique_ptr<StateMachine> state_;
  std::unique_ptr<raft::RawNode> raw_;
  std::unique_ptr<watch::WatchHub> hub_;
  std::unique_ptr<net::PeerTransport> transport_;
  std::unique_ptr<net::ClientListener> listener_;
  std::unique_ptr<net::Poller> poller_;
  // The two polled sockets (Tracking::kOwnerReportsUse: the loop tells the
  // poller which may hold messages), and whether the last wait found each
  // readable: an empty socket is not received from (each receive that ends
  // in EAGAIN costs libzmq a getpid(2) and a poll(2)).
  size_t peer_slot_ = 0;
  size_t client_slot_ = 0;
  bool peers_readable_ = true;
  uint64_t peer_dropped_published_ = 0;  // transport's count already in the metric
  bool clients_readable_ = true;
  net::ChunkAssembler assembler_;
  uint64_t next_chunk_stream_ = 1;

  raft::SoftState soft_;
  raft::Term term_ = 0;
  raft::ConfState conf_state_;
  raft::Index snapshot_index_ = 0;

  Clock::time_point next_tick_;
  int ticks_since_start_ = 0;  // spaced, up to raft's restart promise (tick_clock)
  std::vector<net::PeerMessage> peer_in_;
  std::vector<net::ClientRequest> client_in_;

  uint64_t next_proposal_id_ = 1;
  std::map<uint64_t, PendingProposal> pending_;
  std::unique_ptr<CommandWriter> batch_;
  size_t batch_grants_ = 0;  // lease grants in batch_ (apply_pacing.h)
  std::vector<uint64_t> batch_ids_;
  ProposalPositions proposed_at_;  // lost proposals answered at once

  uint64_t next_read_ctx_ = 1;
  std::vector<PendingRead> reads_waiting_;
  std::map<uint64_t, ReadBatch> read_batches_;  // by ctx
  std::optional<ReadLease> read_lease_;  // --read-lease

  std::map<net::ConnectionId, watch::StreamId> stream_by_conn_;
  std::map<watch::StreamId, net::ConnectionId> conn_by_stream_;
  std::set<watch::StreamId> draining_;  // streams with output still queued in the hub
  // Every client connection's output (connection_output.h).
  ConnectionOutputs outputs_{[this](const net::ConnectionId& conn, std::string& frame, const net::QueuedBytes& queued) {
    return listener_->send_counted(conn, frame, queued);
  }};
  net::ReplyBudget reply_budget_;
  // Set by deliver_watches for turn(): work that can go on at once (a stream
  // left with output while its connection takes bytes, a catch-up that
  // moved), else the earliest retry of a paused connection.
  bool watch_work_now_ = false;
  // Client requests or ready reads were left for the next turn (per-turn bounds).
  bool client_work_now_ = false;
  size_t reply_bytes_this_turn_ = 0;  // counted by send_frame and send_refusal
  std::optional<Clock::time_point> next_output_retry_;
  Clock::time_point next_publish_;
  bool force_snapshot_ = false;
  bool over_quota_ = false;
  Clock::time_point next_quota_check_;
  DiskReserve disk_reserve_{options_.data_dir, options_.disk_reserve_bytes};
  Clock::time_point next_nospace_report_;
  uint64_t disk_refused_frames_ = 0;  // while critically low (refuse_for_disk)
  // The leader: when each member last reported its disk low (a member
  // below its reserve reports once a second). Entries older than
  // kLowDiskReportTtl are dropped; at most one per member.
  std::map<uint64_t, Clock::time_point> low_disk_reports_;
  ReleaseTimer release_timer_{std::chrono::milliseconds(options_.assign_release_timeout_ms)};
  // move-leader requests waiting to see their target lead; a transfer is
  // asked again after an election timeout without one running.
  LeaderMoves leader_moves_{std::chrono::milliseconds(options_.tick_ms * options_.election_ticks)};
  Clock::time_point next_release_check_;
  RemovedNotifier removed_notifier_;
  PeerWireReport peer_wire_report_;
  std::optional<ClusterIdGate> cluster_gate_;
  PeerIdentityGate identity_gate_;
  bool ever_had_leader_ = false;  // since this start: a member of a working cluster
  LeaseKeepAlives keepalives_;
  KeepAliveBatches keepalive_batches_;
  std::unique_ptr<LeaseCheckpointer> checkpointer_;
  raft::Term applied_term_ = 0;  // term of the last entry applied

  // Off-loop snapshot work (declared last: destroyed first, before the
  // engine it reads and the poller it wakes).
  LoopTurnStats turn_stats_;
  SnapshotSender snapshot_sender_;
  struct SnapshotFlush {
    raft::Index applied = 0;
    raft::ConfState conf_state;  // as of `applied`
    bool forced = false;
  };
  std::optional<SnapshotFlush> snapshot_flush_;
  std::shared_ptr<const StateImage> image_;  // the latest image built
  Clock::time_point image_used_{};
  bool image_wanted_ = false;  // raft asked for an image newer than image_
  std::optional<raft::Index> image_building_for_;  // a raft image being built: its meta index
  Clock::time_point next_image_try_{};
  // A `snapshot save` of a client: the image once built with at least
  // min_applied, then sent in chunks over several turns.
  struct SnapshotSave {
    net::ConnectionId connection;
    uint64_t request_id = 0;
    raft::Index min_applied = 0;
    std::shared_ptr<const StateImage> image;
    size_t sent_bytes = 0;
  };
  std::deque<SnapshotSave> saves_;
  std::unique_ptr<SnapshotWorker> snapshot_worker_;
  // A follower's snapshot install off the loop, and the snapshot it installs.
  std::unique_ptr<SnapshotInstaller> installer_;
  std::optional<raft::SnapshotMetadata> installing_;
  bool install_committed_ = false;  // raft knows it; the state is still loading
  Clock::time_point install_started_{};
  Clock::duration install_longest_turn_{};  // of the loop while the install runs (logged)
  std::shared_ptr<AuthTokenMinter> minter_;
  std::unique_ptr<Authenticator> authenticator_;  // password checks off the loop
  // HashKV off the loop; declared after engine_ and poller_, so destroyed
  // (joined, its views released) before them.
  std::unique_ptr<KvHasher> hasher_;
  // The leader's log writes off the loop (--storage-writer; null when off).
  // Last: joined first, before the store, node and poller it uses.
  std::unique_ptr<AsyncPersist> async_persist_;
};

}  // namespace corral::server
