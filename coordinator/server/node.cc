#include "coordinator/server/node.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include <zmq.hpp>

#include "coordinator/api/errors.h"
#include "coordinator/api/request.h"
#include "coordinator/api/response.h"
#include "coordinator/base/check.h"
#include "coordinator/kv/compaction_policy.h"
#include "coordinator/net/chunker.h"
#include "coordinator/net/client_listener.h"
#include "coordinator/net/endpoint.h"
#include "coordinator/net/peer_transport.h"
#include "coordinator/net/poller.h"
#include "coordinator/net/reply_budget.h"
#include "coordinator/raft/raw_node.h"
#include "coordinator/server/auth_gate.h"
#include "coordinator/server/auth_token_minter.h"
#include "coordinator/server/backend_quota.h"
#include "coordinator/server/disk_reserve.h"
#include "coordinator/server/storage_failure.h"
#include "coordinator/server/command.h"
#include "coordinator/server/identity.h"
#include "coordinator/server/join_discovery.h"
#include "coordinator/server/defragmenter.h"
#include "coordinator/server/maintenance.h"
#include "coordinator/server/lease_checkpointer.h"
#include "coordinator/server/lease_keepalives.h"
#include "coordinator/server/lease_min_ttl.h"
#include "coordinator/server/log.h"
#include "coordinator/server/loop_turn_stats.h"
#include "coordinator/server/members.h"
#include "coordinator/server/removed_notifier.h"
#include "coordinator/server/request_meter.h"
#include "coordinator/server/server_metrics.h"
#include "coordinator/server/zap_handler.h"
#include "coordinator/server/cluster_id_gate.h"
#include "coordinator/server/startup_checks.h"
#include "coordinator/server/snapshot_sender.h"
#include "coordinator/server/snapshot_worker.h"
#include "coordinator/server/state_machine.h"
#include "coordinator/server/version.h"
#include "coordinator/storage/engine.h"
#include "coordinator/storage/raft_log_store.h"
#include "coordinator/storage/raft_records.h"
#include "coordinator/watch/watch_hub.h"
#include "schema/data_bytes.h"

namespace corral::server {

namespace wire = corral::schema::api;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxPeerMessagesPerTurn = 4096;
constexpr size_t kMaxClientRequestsPerTurn = 4096;
// Request bytes taken in per turn (at least one request): 4096 requests of
// the largest size would be 8 GiB in one turn.
constexpr size_t kMaxClientRequestBytesPerTurn = 32u << 20;
// Reply bytes made per turn by the requests read in it, and again by the
// linearizable reads served in it (at least one each): past it the rest
// waits for the next turn (in ZeroMQ, or in its read batch), so that large
// reads cannot hold the loop past a heartbeat. Taken in steps of
// kClientRequestsPerStep so that the check comes often.
constexpr size_t kMaxReplyBytesPerTurn = 8u << 20;
constexpr size_t kClientRequestsPerStep = 64;
constexpr int kMaxReadiesPerTurn = 8;
constexpr size_t kMaxCatchupEventsPerTurn = 4096;
constexpr size_t kMaxDeliveriesPerStreamPerTurn = 1024;
// Watch output a connection may have inside ZeroMQ (its SNDHWM counts
// messages, not bytes). Past it the stream waits in the hub, under the hub's
// bounds, and a reader that stays away is cancelled there (slow watcher).
constexpr int64_t kMaxWatchBytesInZmqPerConnection = 4 << 20;
// Frames ZeroMQ refused (its queue at SNDHWM) kept in order per connection.
// Replies land here only behind 10000 unread messages, and a connection with
// more than net::ReplyBudget's bound of unsent replies gets no more work, so
// this is a last resort: past it the client has stopped reading for good
// and its output and watches are dropped.
constexpr size_t kMaxHeldBytesPerConnection = 64u << 20;
// How often connections without a watch stream whose replies have all left
// ZeroMQ are forgotten (their byte counts must outlive a full ZeroMQ queue).
constexpr int kOutputSweepIntervalMs = 100;
// A connection that takes no bytes is retried after 1, 2, 4 .. this many ms
// (ZeroMQ cannot say when one connection's queue has room).
constexpr int kMaxOutputRetryMs = 32;
constexpr size_t kMaxExpiredLeasesPerTurn = 1000;
constexpr int64_t kMsPerSecond = 1000;
constexpr int kQuotaCheckIntervalMs = 1000;
// How often the leader looks for assignments revoking past the release timeout.
constexpr int kReleaseCheckIntervalMs = 250;
// ZeroMQ's own bound on a client message (see net/client_listener.h): at
// least this, and at least twice max_request_bytes.
constexpr int64_t kMinTransportRequestBytes = 64 << 20;
// Ticks the loop may fall behind before it skips ticks instead of catching up.
constexpr int kMaxTickBacklogTicks = 5;
// Peer frames: a raft Message as storage::encode_message made it (sent as
// is, no copy), a snapshot chunk: kChunkFrameTag then net::encode_chunk of
// a snapshot stream (snapshot_sender.h), or
// a member's own attributes for the leader to propose (raft does not forward
// proposals): kAttributesFrameTag then encode_member. A flat Cap'n Proto
// message starts with its segment count minus one, which is never
// 0xffffffff or 0xfffffffe, so the tags cannot be mistaken for a message.
constexpr std::string_view kChunkFrameTag = kSnapshotChunkFrameTag;
constexpr std::string_view kAttributesFrameTag{"\xfe\xff\xff\xff", 4};
// A follower's "my disk is below its reserve": the leader raises NOSPACE for it.
constexpr std::string_view kNoSpaceFrameTag{"\xfd\xff\xff\xff", 4};
// While a snapshot streams out, the loop looks at its pacing this often.
constexpr std::chrono::milliseconds kSnapshotPumpIntervalMs{1};
// An image nobody asked for in this long is dropped (it can be 1 GiB).
constexpr std::chrono::seconds kSnapshotImageKeepSeconds{30};
// After a failed image build, the next one waits this long.
constexpr std::chrono::seconds kSnapshotImageRetrySeconds{5};
// `snapshot save`s served at once (each holds an image until sent).
constexpr size_t kMaxSnapshotSaves = 4;
// `snapshot save` chunks sent per client per turn.
constexpr int kMaxSaveChunksPerTurn = 8;
// A member re-sends its attributes this often until they are applied.
constexpr int kPublishRetryMs = 500;
constexpr int kMaxRebindAttempts = 40;
constexpr int kRebindRetryMs = 50;

std::string u64_bytes(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
uint64_t bytes_u64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

}  // namespace

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
  };

  Status bootstrap(const std::vector<MemberInfo>& initial, const MemberIdentity& identity);
  Status record_identity(const MemberIdentity& identity, const std::optional<JoinResult>& joined);
  Result<std::unique_ptr<net::PeerTransport>> create_transport(bool port_just_released);
  void turn();
  void tick_clock();
  void receive_peers();
  bool admit_peer_frame(const net::PeerMessage& pm);
  void receive_clients();
  void handle_client(net::ClientRequest& req);
  void handle_write(const net::ConnectionId& conn, std::unique_ptr<api::ParsedRequest> req,
                    std::string_view payload);
  void handle_watch(const net::ConnectionId& conn, const api::ParsedRequest& req);
  void handle_cluster(const net::ConnectionId& conn, const api::ParsedRequest& req);
  std::optional<std::string> member_add_clash(const MemberInfo& m) const;
  void handle_local(const net::ConnectionId& conn, const api::ParsedRequest& req);
  void answer_defragments();
  void serve_read(const net::ConnectionId& conn, const api::ParsedRequest& req);
  // permissionDenied or unauthenticated sent: the request goes no further.
  bool refuse_unauthorized(const net::ConnectionId& conn, const api::ParsedRequest& req, std::string_view user);
  void flush_proposals();
  void flush_reads();
  void handle_ready();
  // before_write runs after the leader's appends are sent and before
  // anything of rd is staged or written.
  void persist(raft::Ready& rd, const std::function<void()>& before_write);
  void apply(const std::vector<raft::Entry>& committed);
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
  void serve_ready_reads();
  void expire_pending();
  void leader_duties();
  // Leases (lease_keepalives.h, lease_checkpointer.h).
  void flush_keepalives();
  void serve_keepalives();
  void fail_keepalives(const api::WireError& why);
  void after_apply_leases();
  void force_overdue_releases();
  void publish_attributes();
  void report_low_disk();
  void propose_nospace(uint64_t member_id);
  void propose_attributes(const net::PeerMessage& pm, std::string_view record);
  void reissue_reads();
  void deliver_watches();
  void flush_held_output(Clock::time_point now);
  void sweep_outputs(Clock::time_point now);
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
  net::ChunkAssembler assembler_;
  uint64_t next_chunk_stream_ = 1;

  raft::SoftState soft_;
  raft::Term term_ = 0;
  raft::ConfState conf_state_;
  raft::Index snapshot_index_ = 0;

  Clock::time_point next_tick_;
  std::vector<net::PeerMessage> peer_in_;
  std::vector<net::ClientRequest> client_in_;

  uint64_t next_proposal_id_ = 1;
  std::map<uint64_t, PendingProposal> pending_;
  std::unique_ptr<CommandWriter> batch_;
  std::vector<uint64_t> batch_ids_;

  uint64_t next_read_ctx_ = 1;
  std::vector<PendingRead> reads_waiting_;
  std::map<uint64_t, ReadBatch> read_batches_;  // by ctx

  std::map<net::ConnectionId, watch::StreamId> stream_by_conn_;
  std::map<watch::StreamId, net::ConnectionId> conn_by_stream_;
  std::set<watch::StreamId> draining_;  // streams with output still queued in the hub
  // What one client connection's output waits for: frames ZeroMQ refused,
  // kept in order ahead of anything later, and the bytes ZeroMQ holds (for
  // connections with a watch stream, whose sends are counted).
  struct ConnectionOutput {
    std::deque<std::string> held;
    size_t held_bytes = 0;
    net::QueuedBytes in_zmq = std::make_shared<std::atomic<int64_t>>(0);
    int backoff_ms = 0;
    Clock::time_point retry_at{};
    bool refusing = false;  // its requests were refused (net/reply_budget.h)
    int64_t unsent() const {
      return in_zmq->load(std::memory_order_relaxed) + static_cast<int64_t>(held_bytes);
    }
    bool paused(Clock::time_point now) const {
      return !held.empty() || (now < retry_at && in_zmq->load(std::memory_order_relaxed) >= kMaxWatchBytesInZmqPerConnection);
    }
    void back_off(Clock::time_point now) {
      backoff_ms = std::clamp(backoff_ms * 2, 1, kMaxOutputRetryMs);
      retry_at = now + std::chrono::milliseconds(backoff_ms);
    }
  };
  // Every connection with replies not yet taken by the kernel, or a watch stream.
  std::map<net::ConnectionId, ConnectionOutput> outputs_;
  std::set<net::ConnectionId> holding_;  // outputs_ with held frames
  size_t held_bytes_total_ = 0;
  net::ReplyBudget reply_budget_;
  Clock::time_point next_output_sweep_;
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
  ReleaseTimer release_timer_{std::chrono::milliseconds(options_.assign_release_timeout_ms)};
  Clock::time_point next_release_check_;
  RemovedNotifier removed_notifier_;
  std::optional<ClusterIdGate> cluster_gate_;
  bool ever_had_leader_ = false;  // since this start: a member of a working cluster
  LeaseKeepAlives keepalives_;
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
  std::shared_ptr<AuthTokenMinter> minter_;
};

Status NodeLoop::init() {
  const auto& o = options_;
  // Everything that can be refused without a socket or a write first.
  if (auto s = check_options(o); !s.ok()) return s;
  if (!o.initial_cluster.empty()) {
    auto members = parse_initial_cluster(o.initial_cluster);
    if (!members.ok()) return members.error();
    auto listen = net::parse_endpoint(o.listen_peer, net::EndpointUse::kBind);
    if (listen->port != 0 || !o.advertise_peer.empty()) {
      if (auto s = check_own_peer_url(*members, o.name, o.advertise_peer, *listen); !s.ok()) return s;
    }
  }
  // Sockets first: the advertised peer URL defaults to the bound one.
  net::ClientListenerOptions lo;
  lo.bind_endpoint = o.listen_client;
  // ZeroMQ drops the connection past its own bound, so keep it far above
  // ours: a request up to it still gets a typed tooLarge answer, and only
  // its head is copied out of ZeroMQ.
  lo.max_request_bytes =
      std::max<int64_t>(kMinTransportRequestBytes, 2 * static_cast<int64_t>(o.max_request_bytes));
  lo.max_kept_request_bytes = o.max_request_bytes;
  lo.deliver_multipart = true;
  if (o.curve) {
    // Before any CURVE socket: a handshake without a handler is let in.
    auto zap = ZapHandler::start(context_, o.curve->lists);
    if (!zap.ok()) return zap.error();
    zap_ = std::move(zap).value();
    lo.curve = net::CurveServerKeys{o.curve->own, net::kClientZapDomain};
  }
  auto listener = net::ClientListener::create(context_, lo);
  if (!listener.ok()) return make_error(ErrorCode::kUnavailable, "client listener " + o.listen_client + ": " + listener.error().message);
  listener_ = std::move(listener).value();
  auto identity = decide_identity(context_, o);
  if (!identity.ok()) return identity.error();
  self_id_ = identity->identity.id;
  set_log_member(o.name, self_id_);
  engine_ = std::move(identity->engine);
  auto transport = create_transport(identity->joined.has_value() || identity->peer_port_released);
  if (!transport.ok()) return transport.error();
  transport_ = std::move(transport).value();
  advertise_client_ = o.advertise_client.empty() ? client_endpoint() : o.advertise_client;
  std::string advertise_peer = o.advertise_peer.empty() ? peer_endpoint() : o.advertise_peer;

  std::string cluster_text = o.initial_cluster.empty() ? o.name + "=" + advertise_peer : o.initial_cluster;
  auto members = parse_initial_cluster(cluster_text);
  if (!members.ok()) return members.error();
  initial_members_ = std::move(members).value();
  // Client URLs are not in the bootstrap table (each member knows only its
  // own, and the table must be the same everywhere): every member publishes
  // its own through raft once it knows a leader (publish_attributes).
  if (auto s = check_own_peer_url(initial_members_, o.name, o.advertise_peer, transport_->bound_endpoint()); !s.ok()) {
    return s;
  }
  cluster_id_ = identity->joined ? identity->joined->cluster_id : cluster_id_for(initial_members_);

  if (!engine_) {
    storage::EngineOptions eo;
    eo.path = o.data_dir;
    eo.in_memory = o.in_memory;
    auto engine = storage::Engine::open(eo);
    if (!engine.ok()) return engine.error();
    engine_ = std::move(engine).value();
  }
  defragmenter_ = std::make_unique<Defragmenter>(*engine_);
  auto store = storage::RaftLogStore::open(engine_.get());
  if (!store.ok()) return store.error();
  store_ = std::move(store).value();
  auto stored_cluster = engine_->get(storage::Space::kKvMeta, kClusterIdKey);
  if (stored_cluster.ok() && stored_cluster->has_value()) cluster_id_ = bytes_u64(**stored_cluster);
  // Before any peer is added: every link then says which cluster it is of.
  transport_->set_cluster_id(cluster_id_);
  cluster_gate_.emplace(cluster_id_);
  StateMachineOptions so;
  so.self_id = self_id_;
  so.cluster_id = cluster_id_;
  so.assign.load_slack_permille = options_.assign_load_slack_permille;
  checkpointer_ = std::make_unique<LeaseCheckpointer>(self_id_);
  auto state = StateMachine::open(*engine_, so);
  if (!state.ok()) return state.error();
  state_ = std::move(state).value();
  if (identity->identity.removed || state_->removed_members().count(self_id_)) {
    return make_error(ErrorCode::kPermissionDenied, "this member (" + o.name + ") was removed from the cluster; "
                                                    "its id is never let back in: add it again under a new id "
                                                    "(member add) with an empty data dir");
  }

  auto init = store_->initial_state();
  bool fresh = store_->last_index() == 0 && init.hard_state.empty() && init.conf_state.voters.empty() &&
               init.conf_state.learners.empty();
  if (fresh && o.initial_cluster_new && !identity->stored) {
    auto s = bootstrap(initial_members_, identity->identity);
    if (!s.ok()) return s;
    init = store_->initial_state();
  } else if (!identity->stored) {
    auto s = record_identity(identity->identity, identity->joined);
    if (!s.ok()) return s;
  }
  conf_state_ = init.conf_state;
  auto snap = store_->snapshot();
  if (snap.ok()) snapshot_index_ = snap.value().metadata.index;
  store_->set_snapshot_source([this](const raft::SnapshotMetadata& latest) { return snapshot_for(latest); });

  watch::HubOptions ho;
  ho.max_watchers_per_stream = o.max_watchers_per_connection;
  hub_ = std::make_unique<watch::WatchHub>(state_->history(), ho);
  state_->set_watch_hub(hub_.get());

  raft::Config rc;
  rc.id = self_id_;
  rc.election_ticks = o.election_ticks;
  rc.heartbeat_ticks = o.heartbeat_ticks;
  rc.storage = store_.get();
  // The image of an installed snapshot may be newer than the commit index
  // raft knows; apply skips what it already holds.
  rc.applied = std::min<raft::Index>(state_->applied_index(),
                                      std::max(init.hard_state.commit, snapshot_index_));
  std::random_device rd;
  rc.rng_seed = (static_cast<uint64_t>(rd()) << 32 | rd()) ^ self_id_;
  // Proposal ids and read contexts must not repeat across restarts: entries
  // proposed by an earlier run of this member may still commit now, and
  // must not answer a new client that happens to reuse their id.
  next_proposal_id_ = (static_cast<uint64_t>(rd()) << 32 | rd()) >> 1;
  next_read_ctx_ = (static_cast<uint64_t>(rd()) << 32 | rd()) >> 1;
  raw_ = std::make_unique<raft::RawNode>(rc);
  term_ = init.hard_state.term;
  // A member that is the only voter need not wait an election timeout.
  if (conf_state_.voters.size() == 1 && conf_state_.voters[0] == self_id_) raw_->campaign();

  auto poller = net::Poller::create();
  if (!poller.ok()) return poller.error();
  poller_ = std::move(poller).value();
  poller_->add(transport_->inbound_socket());
  poller_->add(listener_->socket());
  snapshot_worker_ = std::make_unique<SnapshotWorker>(*engine_, [this] { poller_->wake(); });
  batch_ = std::make_unique<CommandWriter>(self_id_);
  sync_peers();
  log_event("member %s (id %016llx) starting: applied %llu, term %llu, %zu members", o.name.c_str(),
            static_cast<unsigned long long>(self_id_),
            static_cast<unsigned long long>(state_->applied_index()),
            static_cast<unsigned long long>(term_), state_->members().size());
  return Status();
}

// A member that joined was told its id; the port it was told on was just
// released by discover_membership, and ZeroMQ closes sockets in the
// background, so the bind is retried a little.
Result<std::unique_ptr<net::PeerTransport>> NodeLoop::create_transport(bool port_just_released) {
  net::PeerTransportOptions po;
  po.self_id = self_id_;
  po.bind_endpoint = options_.listen_peer;
  if (options_.curve) po.curve = options_.curve->own;
  const int attempts = port_just_released ? kMaxRebindAttempts : 1;
  for (int attempt = 1;; ++attempt) {
    auto transport = net::PeerTransport::create(context_, po);
    if (transport.ok()) return transport;
    if (attempt >= attempts) {
      return make_error(ErrorCode::kUnavailable, "peer listener " + options_.listen_peer + ": " + transport.error().message);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kRebindRetryMs));
  }
}

// The data dir's identity (and for a member that joined, the cluster id and
// member table it was told, so that it can reach its peers until a
// snapshot brings the real table) before anything else is written.
Status NodeLoop::record_identity(const MemberIdentity& identity, const std::optional<JoinResult>& joined) {
  storage::WriteBatch batch;
  stage_identity(batch, identity);
  if (joined) {
    batch.put(storage::Space::kKvMeta, kClusterIdKey, u64_bytes(joined->cluster_id));
    state_->stage_initial_members(joined->members, batch);
  }
  auto s = engine_->write(std::move(batch), true);
  if (!s.ok()) return s;
  if (joined) log_event("joined as member %016llx of cluster %016llx", static_cast<unsigned long long>(identity.id),
                        static_cast<unsigned long long>(joined->cluster_id));
  return Status();
}

Status NodeLoop::bootstrap(const std::vector<MemberInfo>& initial, const MemberIdentity& identity) {
  storage::WriteBatch batch;
  stage_identity(batch, identity);
  raft::ConfState cs;
  for (const auto& m : initial) cs.voters.push_back(m.id);
  std::sort(cs.voters.begin(), cs.voters.end());
  store_->stage_conf_state(batch, cs);
  state_->stage_initial_members(initial, batch);
  batch.put(storage::Space::kKvMeta, kClusterIdKey, u64_bytes(cluster_id_));
  auto s = engine_->write(std::move(batch), true);
  if (!s.ok()) {
    store_->abandon_staged();
    return s;
  }
  store_->on_written();
  log_event("bootstrapped a new cluster of %zu members (cluster id %016llx)", initial.size(),
            static_cast<unsigned long long>(cluster_id_));
  return Status();
}

void NodeLoop::sync_peers() {
  std::set<uint64_t> want;
  for (const auto& [id, m] : state_->members()) {
    if (id == self_id_ || m.peer_urls.empty()) continue;
    want.insert(id);
    if (!transport_->has_peer(id)) {
      std::optional<std::string> key;
      if (options_.curve) {
        auto listed = options_.curve->peer_key(m.name);
        if (!listed.ok()) {
          log_warn("cannot add peer %s: %s", m.name.c_str(), listed.error().message.c_str());
          continue;
        }
        key = *listed;
      }
      auto s = transport_->add_peer(id, m.peer_urls[0], key);
      if (!s.ok()) log_warn("cannot add peer %s: %s", m.name.c_str(), s.error().message.c_str());
    }
  }
  if (!options_.initial_cluster_new && state_->members().empty()) return;
  for (auto id : transport_->peer_ids()) {
    if (!want.count(id)) {
      (void)transport_->remove_peer(id);
      assembler_.drop_sender(id);
      snapshot_sender_.forget(id);
    }
  }
}

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
  fail_keepalives(api::wire_error(wire::ErrorCode::UNAVAILABLE, "member stopping"));
  // No flush or image build may outlive stop() (a caller may remove the data dir).
  snapshot_worker_.reset();
  log_event("member %s stopped", options_.name.c_str());
}

void NodeLoop::turn() {
  auto now = Clock::now();
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick_ - now);
  if (wait.count() < 0) wait = std::chrono::milliseconds(0);
  if (watch_work_now_ || client_work_now_) {
    wait = std::chrono::milliseconds(0);
  } else if (next_output_retry_) {
    auto until = std::chrono::ceil<std::chrono::milliseconds>(*next_output_retry_ - now);
    wait = std::clamp(until, std::chrono::milliseconds(0), wait);
  }
  // A snapshot on its way paces itself on bytes ZeroMQ has not written
  // yet, which no socket event announces: look again soon.
  const bool save_sending = !saves_.empty() && saves_.front().image != nullptr;
  if (snapshot_sender_.sending() || save_sending) wait = std::min(wait, kSnapshotPumpIntervalMs);
  auto polled = poller_->wait(wait);
  if (!polled.ok()) {
    removed_ = true;
    return;
  }
  const auto work_start = Clock::now();
  tick_clock();
  receive_peers();
  receive_clients();
  flush_proposals();
  flush_reads();
  flush_keepalives();
  leader_duties();
  publish_attributes();
  report_low_disk();
  for (int i = 0; i < kMaxReadiesPerTurn && raw_->has_ready() && !removed_; ++i) handle_ready();
  serve_ready_reads();
  serve_keepalives();
  expire_pending();
  answer_defragments();
  deliver_watches();
  snapshot_duties();
  if (minter_->published_revision() != state_->auth().revision()) minter_->publish(state_->auth());
  turn_stats_.record(Clock::now() - work_start);
  metrics_.loop_turn_seconds.observe(Clock::now() - work_start);
  publish_metrics(Clock::now());
}

void NodeLoop::tick_clock() {
  auto now = Clock::now();
  auto tick = std::chrono::milliseconds(options_.tick_ms);
  if (now - next_tick_ > tick * kMaxTickBacklogTicks) next_tick_ = now;  // a long stall: do not burst
  while (now >= next_tick_) {
    raw_->tick();
    next_tick_ += tick;
  }
  hub_->tick(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
}

void NodeLoop::receive_peers() {
  peer_in_.clear();
  transport_->receive(kMaxPeerMessagesPerTurn, peer_in_);
  for (auto& pm : peer_in_) {
    metrics_.peer_received_bytes.inc(pm.bytes.size());
    std::string_view body(pm.bytes);
    if (!admit_peer_frame(pm)) continue;
    if (body.starts_with(kChunkFrameTag)) {
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
      (void)raw_->step(*snap);
      continue;
    } else if (body.starts_with(kAttributesFrameTag)) {
      propose_attributes(pm, body.substr(kAttributesFrameTag.size()));
      continue;
    } else if (body == kNoSpaceFrameTag) {
      if (is_leader() && !state_->alarms().has(pm.from)) propose_nospace(pm.from);
      continue;
    }
    auto msg = storage::decode_message(body);
    if (!msg.ok() || msg->to != self_id_ || msg->from != pm.from) continue;
    if (msg->type == raft::MessageType::kAppendResponse && !msg->reject) {
      snapshot_sender_.acknowledged(pm.from, msg->index, Clock::now());
    }
    (void)raw_->step(*msg);
  }
  removed_notifier_.expire(*transport_, Clock::now());
}

// Membership frames of other members, and the gate for removed ones: a
// removed member's frames are dropped and it is told to stop. False: the
// frame was handled or dropped here.
bool NodeLoop::admit_peer_frame(const net::PeerMessage& pm) {
  std::string_view body(pm.bytes);
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

void NodeLoop::receive_clients() {
  client_in_.clear();
  client_work_now_ = false;
  reply_bytes_this_turn_ = 0;
  size_t request_bytes = 0;
  for (size_t taken = 0; taken < kMaxClientRequestsPerTurn;) {
    if (reply_bytes_this_turn_ >= kMaxReplyBytesPerTurn || request_bytes >= kMaxClientRequestBytesPerTurn) {
      client_work_now_ = true;
      break;
    }
    const size_t first = client_in_.size();
    const size_t got = listener_->receive(std::min(kClientRequestsPerStep, kMaxClientRequestsPerTurn - taken),
                                          kMaxClientRequestBytesPerTurn - request_bytes, client_in_);
    if (got == 0) break;
    taken += got;
    for (size_t i = first; i < client_in_.size(); ++i) {
      request_bytes += client_in_[i].payload.size();
      handle_client(client_in_[i]);
    }
  }
}

// Every reply is counted while ZeroMQ holds it, so that a client that does
// not read its replies can be told apart (refuse_if_backlogged).
void NodeLoop::reply(const net::ConnectionId& conn, const std::string& bytes) {
  meter_.answered(conn, bytes, Clock::now());
  (void)send_frame(conn, bytes);
}

bool NodeLoop::send_frame(const net::ConnectionId& conn, std::string frame) {
  reply_bytes_this_turn_ += frame.size();
  auto it = outputs_.try_emplace(conn).first;
  net::ClientSendResult r;
  if (!it->second.held.empty()) {
    r = net::ClientSendResult::kBackpressure;  // behind what is held: keep the order
  } else {
    r = listener_->send_counted(conn, frame, it->second.in_zmq);
  }
  if (r == net::ClientSendResult::kSent) return true;
  if (r == net::ClientSendResult::kGone) {
    forget_connection(conn);
    return false;
  }
  // kBackpressure: not lost, kept and retried (flush_held_output).
  auto& out = outputs_[conn];
  if (out.held_bytes + frame.size() > kMaxHeldBytesPerConnection) {
    log_warn("client connection stopped reading (%zu bytes held): its output and watches are dropped",
              out.held_bytes);
    forget_connection(conn);
    return false;
  }
  if (out.held.empty()) {
    out.back_off(Clock::now());
    holding_.insert(conn);
  }
  out.held_bytes += frame.size();
  held_bytes_total_ += frame.size();
  out.held.push_back(std::move(frame));
  return true;
}

// A connection that leaves its replies unread gets no more work done: each
// request gets a typed error instead (net/reply_budget.h). Keep-alives are
// always served: their answer is no bigger than the refusal, and a busy
// member must not let leases lapse.
bool NodeLoop::refuse_if_backlogged(const net::ConnectionId& conn, uint64_t request_id) {
  auto it = outputs_.find(conn);
  if (it == outputs_.end()) return false;
  auto& out = it->second;
  const int64_t total = listener_->queued_bytes_total() + static_cast<int64_t>(held_bytes_total_);
  const int64_t unsent = out.unsent();
  const auto verdict = net::serve_verdict(reply_budget_, unsent, total);
  if (verdict == net::ServeVerdict::kServe) return false;
  if (!out.refusing) {  // logged once until the connection has drained
    out.refusing = true;
    log_event("a client connection has %lld reply bytes unread (all: %lld): its requests are refused until it reads",
              static_cast<long long>(unsent), static_cast<long long>(total));
  }
  send_refusal(conn, request_id,
               api::wire_error(wire::ErrorCode::UNAVAILABLE,
                               verdict == net::ServeVerdict::kConnectionFull
                                   ? "this connection has " + std::to_string(unsent) +
                                         " bytes of replies unread; read them, then retry"
                                   : "member has too many unread replies; read yours, then retry"));
  return true;
}

// A refusal is sent only if ZeroMQ takes it now: held, it would grow what
// the connection leaves unread, which is what it answers.
void NodeLoop::send_refusal(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e) {
  auto it = outputs_.try_emplace(conn).first;
  if (!it->second.held.empty()) return;
  std::string bytes = api::encode_error(request_id, header(), e);
  meter_.answered(conn, bytes, Clock::now());
  reply_bytes_this_turn_ += bytes.size();
  if (listener_->send_counted(conn, bytes, it->second.in_zmq) == net::ClientSendResult::kGone) {
    forget_connection(conn);
  }
}

// A message the api layer is not given: past max_request_bytes (only its
// head was kept) or in several frames. Answered by the id in its head.
void NodeLoop::refuse_unread(const net::ClientRequest& req) {
  const uint64_t id = api::peek_request_id(req.payload);
  if (req.multipart) {
    return reply_error(req.connection, id,
                       api::wire_error(wire::ErrorCode::MALFORMED,
                                       "request sent in several ZeroMQ frames; send one frame per request"));
  }
  reply_error(req.connection, id,
              api::wire_error(wire::ErrorCode::TOO_LARGE,
                              "request of " + std::to_string(req.wire_bytes) + " bytes is past the " +
                                  std::to_string(options_.max_request_bytes) + "-byte bound"));
}

void NodeLoop::flush_held_output(Clock::time_point now) {
  std::vector<net::ConnectionId> conns(holding_.begin(), holding_.end());
  for (const auto& conn : conns) {
    auto it = outputs_.find(conn);
    if (it == outputs_.end()) {
      holding_.erase(conn);
      continue;
    }
    auto& out = it->second;
    if (now >= out.retry_at) {
      net::ClientSendResult r = net::ClientSendResult::kSent;
      while (!out.held.empty()) {
        const size_t size = out.held.front().size();
        r = listener_->send_counted(conn, out.held.front(), out.in_zmq);
        if (r != net::ClientSendResult::kSent) break;
        out.held.pop_front();
        out.held_bytes -= size;
        held_bytes_total_ -= size;
      }
      if (r == net::ClientSendResult::kGone) {
        forget_connection(conn);
        continue;
      }
      if (!out.held.empty()) out.back_off(now);
    }
    if (!out.held.empty()) {
      note_retry(out.retry_at);
      continue;
    }
    out.backoff_ms = 0;
    holding_.erase(conn);
  }
  sweep_outputs(now);
}

// A connection without a watch stream needs no entry once ZeroMQ has let go
// of all its replies (an entry dropped earlier would forget bytes it holds).
void NodeLoop::sweep_outputs(Clock::time_point now) {
  if (now < next_output_sweep_) return;
  next_output_sweep_ = now + std::chrono::milliseconds(kOutputSweepIntervalMs);
  for (auto it = outputs_.begin(); it != outputs_.end();) {
    const bool idle = it->second.held.empty() && it->second.unsent() == 0 &&
                      !stream_by_conn_.count(it->first);
    it = idle ? outputs_.erase(it) : std::next(it);
  }
}

void NodeLoop::reply_error(const net::ConnectionId& conn, uint64_t request_id, const api::WireError& e) {
  reply(conn, api::encode_error(request_id, header(), e));
}

api::Header NodeLoop::header() const { return state_->header(term_); }

std::string NodeLoop::leader_hint() const {
  auto it = state_->members().find(soft_.leader);
  if (it == state_->members().end() || it->second.client_urls.empty()) return {};
  return it->second.client_urls[0];
}

void NodeLoop::handle_client(net::ClientRequest& req) {
  if (req.multipart || req.cut()) return refuse_unread(req);
  auto parsed = api::parse_request(req.payload, options_.max_request_bytes);
  if (parsed.ok()) meter_.received(req.connection, parsed.request->id(), parsed.request->which(), Clock::now());
  if (!parsed.ok()) {
    meter_.received_malformed(req.connection, parsed.id, Clock::now());
    reply_error(req.connection, parsed.id, parsed.error);
    return;
  }
  auto& r = *parsed.request;
  // The transport identity (CURVE key -> user, zap_handler.h); the auth
  // branch's permission checks start from it.
  if (!req.user.empty()) log_debug("request %llu from user '%s'", static_cast<unsigned long long>(r.id()), req.user.c_str());
  if (r.request_class() != api::RequestClass::kLeaderLocal && refuse_if_backlogged(req.connection, r.id())) {
    return;
  }
  if (auto refused = api::check_before_proposing(r)) return reply_error(req.connection, r.id(), *refused);
  auto user = identify(state_->auth(), r.get(), req.user, wall_clock_ms());
  if (!user.ok()) return reply_error(req.connection, r.id(), api::to_wire_error(user.error()));
  if (refuse_unauthorized(req.connection, r, *user)) return;
  switch (r.request_class()) {
    case api::RequestClass::kWrite: {
      // The password hash and signing key are made once, by the leader.
      auto sealed = is_leader() ? seal_auth_change(r) : std::nullopt;
      handle_write(req.connection, std::move(parsed.request), sealed ? std::string_view(*sealed) : req.payload);
      return;
    }
    case api::RequestClass::kRead:
      if (r.linearizable_read()) {
        reads_waiting_.push_back(PendingRead{req.connection, std::move(parsed.request),
                                             Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms),
                                             std::move(*user)});
      } else {
        serve_read(req.connection, r);
      }
      return;
    case api::RequestClass::kLeaderLocal: {
      // Keepalive: leader-local (lease_keepalives.h), answered once a
      // heartbeat round confirms this member still leads.
      if (!is_leader()) return reply_error(req.connection, r.id(), api::not_leader_error(leader_hint()));
      WaitingKeepAlive k{req.connection, r.id(), r.get().getLeaseKeepAlive().getId(),
                         Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms)};
      if (!keepalives_.add(std::move(k))) {
        reply_error(req.connection, r.id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many keepalives waiting"));
      }
      return;
    }
    case api::RequestClass::kWatch:
      handle_watch(req.connection, r);
      return;
    case api::RequestClass::kCluster:
      handle_cluster(req.connection, r);
      return;
    case api::RequestClass::kLocal:
      handle_local(req.connection, r);
      return;
  }
}

void NodeLoop::handle_write(const net::ConnectionId& conn, std::unique_ptr<api::ParsedRequest> req,
                            std::string_view payload) {
  if (!is_leader()) {
    reply_error(conn, req->id(), api::not_leader_error(leader_hint()));
    return;
  }
  if (over_quota_ && (req->which() == wire::Request::PUT || req->which() == wire::Request::TXN ||
                      req->which() == wire::Request::LEASE_GRANT)) {
    reply_error(conn, req->id(), api::wire_error(wire::ErrorCode::TOO_LARGE,
                                                 "database space exceeded (--quota-backend-bytes): delete, compact, then defragment (corralctl defrag)"));
    return;
  }
  if (auto refused = nospace_refusal(state_->alarms(), req->get(), disk_reserve_.was_low())) {
    reply_error(conn, req->id(), *refused);
    return;
  }
  if (pending_.size() >= options_.max_pending_proposals) {
    reply_error(conn, req->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many pending proposals"));
    return;
  }
  uint64_t pid = next_proposal_id_++;
  pending_[pid] = PendingProposal{conn, req->id(), req->which(),
                                  Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms)};
  auto raised = raise_grant_ttl(*req, lease::min_ttl_seconds_for(static_cast<int64_t>(options_.tick_ms) *
                                                                 options_.election_ticks));
  batch_->add(pid, raised ? std::string_view(*raised) : payload);
  batch_ids_.push_back(pid);
  if (batch_->size_bytes() >= kMaxEntryBytes || batch_->count() >= kMaxRequestsPerEntry) flush_proposals();
}

void NodeLoop::flush_proposals() {
  if (batch_->count() == 0) return;
  auto s = raw_->propose(batch_->take());
  if (s != raft::Status::kOk) {
    for (auto pid : batch_ids_) {
      auto it = pending_.find(pid);
      if (it == pending_.end()) continue;
      metrics_.proposals_failed.inc();
      reply_error(it->second.connection, it->second.request_id,
                  s == raft::Status::kTooLarge
                      ? api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many uncommitted bytes; retry")
                      : api::not_leader_error(leader_hint()));
      pending_.erase(it);
    }
  }
  batch_ids_.clear();
}

void NodeLoop::flush_reads() {
  if (reads_waiting_.empty()) return;
  // Raft's own view: a step this turn may have lost the leader that soft_
  // (updated at the next Ready) still names, and raft drops such a read.
  if (raw_->status().soft_state.leader == raft::kNoNode) {
    for (auto& r : reads_waiting_) {
      reply_error(r.connection, r.request->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "no leader"));
    }
    reads_waiting_.clear();
    return;
  }
  uint64_t ctx = next_read_ctx_++;
  read_batches_[ctx].reads = std::move(reads_waiting_);
  reads_waiting_.clear();
  raw_->read_index(u64_bytes(ctx));
}

bool NodeLoop::refuse_unauthorized(const net::ConnectionId& conn, const api::ParsedRequest& req,
                                  std::string_view user) {
  auto denied = authorize(state_->auth(), state_->lessor(), user, req.get());
  if (!denied) return false;
  reply_error(conn, req.id(), *denied);
  return true;
}

void NodeLoop::serve_read(const net::ConnectionId& conn, const api::ParsedRequest& req) {
  auto r = req.get();
  api::ResponseBuilder b(r.getId(), header());
  switch (r.which()) {
    case wire::Request::AUTH: {
      auto s = fill_auth_read(state_->auth(), r.getAuth(), wall_clock_ms(), options_.auth_token_ttl_ms,
                              b.response().initAuth());
      if (!s.ok()) return reply_error(conn, r.getId(), api::to_wire_error(s.error()));
      break;
    }
    case wire::Request::RANGE: {
      auto rr = api::to_range(r.getRange());
      auto res = state_->kv().range(rr.key, rr.range_end, rr.options);
      if (!res.ok()) return reply_error(conn, r.getId(), api::to_wire_error(res.error()));
      api::fill_range(b.response().initRange(), *res);
      break;
    }
    case wire::Request::LIST: {
      auto lr = r.getList();
      std::string dir = schema::as_string(lr.getDir());
      auto res = state_->kv().list(dir, lr.getRevision());
      if (!res.ok()) return reply_error(conn, r.getId(), api::to_wire_error(res.error()));
      std::string base = dir;
      if (base.empty() || base.back() != '/') base.push_back('/');
      size_t n = res->entries.size();
      bool more = false;
      if (lr.getLimit() > 0 && static_cast<size_t>(lr.getLimit()) < n) {
        n = static_cast<size_t>(lr.getLimit());
        more = true;
      }
      auto out = b.response().initList();
      auto entries = out.initEntries(n);
      for (size_t i = 0; i < n; ++i) {
        const auto& e = res->entries[i];
        entries[i].setName(schema::as_data(e.name));
        entries[i].setIsDir(e.is_dir);
        entries[i].setHasKey(e.is_key);
        if (e.is_key) {
          kv::RangeOptions ro;
          ro.revision = lr.getRevision();
          auto kvs = state_->kv().range(base + e.name, {}, ro);
          if (kvs.ok() && !kvs->kvs.empty()) api::fill_kv(entries[i].initKv(), kvs->kvs[0]);
        }
      }
      out.setMore(more);
      break;
    }
    case wire::Request::LEASE_TIME_TO_LIVE: {
      auto q = r.getLeaseTimeToLive();
      auto out = b.response().initLeaseTimeToLive();
      out.setId(q.getId());
      auto ttl = state_->lessor().time_to_live(q.getId(), now_ms(), q.getKeys());
      if (!ttl.ok()) {
        out.setTtl(-1);
        break;
      }
      out.setTtl((ttl->remaining_ms + kMsPerSecond - 1) / kMsPerSecond);
      out.setGrantedTtl(ttl->granted_ttl_seconds);
      auto keys = out.initKeys(ttl->keys.size());
      for (size_t i = 0; i < ttl->keys.size(); ++i) {
        keys.set(i, schema::as_data(ttl->keys[i]));
      }
      break;
    }
    case wire::Request::LEASE_LEASES: {
      auto ids = state_->lessor().list();
      auto out = b.response().initLeaseLeases().initIds(ids.size());
      for (size_t i = 0; i < ids.size(); ++i) out.set(i, ids[i]);
      break;
    }
    default:
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::BAD_REQUEST, "not a read"));
  }
  reply(conn, b.finish());
}

void NodeLoop::serve_ready_reads() {
  auto applied = state_->applied_index();
  const size_t first_byte = reply_bytes_this_turn_;
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    if (it->second.index == 0 || it->second.index > applied) {
      ++it;
      continue;
    }
    auto& reads = it->second.reads;
    size_t served = 0;
    for (; served < reads.size() && reply_bytes_this_turn_ - first_byte < kMaxReplyBytesPerTurn; ++served) {
      auto& r = reads[served];
      if (!refuse_if_backlogged(r.connection, r.request->id()) &&
          !refuse_unauthorized(r.connection, *r.request, r.user)) {
        serve_read(r.connection, *r.request);
      }
    }
    if (served < reads.size()) {  // the rest next turn, still in order
      reads.erase(reads.begin(), reads.begin() + static_cast<std::ptrdiff_t>(served));
      client_work_now_ = true;
      return;
    }
    it = read_batches_.erase(it);
  }
}

void NodeLoop::expire_pending() {
  auto now = Clock::now();
  // Proposal ids grow with time and every deadline has the same length, so
  // the oldest ids expire first.
  while (!pending_.empty() && pending_.begin()->second.deadline <= now) {
    auto& p = pending_.begin()->second;
    metrics_.proposals_failed.inc();
    reply_error(p.connection, p.request_id,
                api::wire_error(wire::ErrorCode::TIMEOUT, "not applied in time; outcome unknown"));
    pending_.erase(pending_.begin());
  }
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    if (it->second.reads.empty() || it->second.reads.front().deadline > now) {
      ++it;
      continue;
    }
    for (auto& r : it->second.reads) {
      reply_error(r.connection, r.request->id(),
                  api::wire_error(wire::ErrorCode::TIMEOUT, "read index not confirmed in time"));
    }
    it = read_batches_.erase(it);
  }
}

void NodeLoop::leader_duties() {
  if (!is_leader()) return;
  if (options_.quota_backend_bytes > 0 && Clock::now() >= next_quota_check_) {
    next_quota_check_ = Clock::now() + std::chrono::milliseconds(kQuotaCheckIntervalMs);
    auto bytes = backend_bytes(*engine_);
    // A size that cannot be read leaves the last verdict standing.
    bool over = bytes.ok() ? *bytes > options_.quota_backend_bytes : over_quota_;
    if (over != over_quota_) log_event("database %s its quota", over ? "is past" : "is back under");
    over_quota_ = over;
  }
  // Expired leases: one revoke each, all in one entry; the lessor reports
  // each once (again only if its revoke did not apply in time).
  auto expired = state_->lessor().expired(now_ms(), kMaxExpiredLeasesPerTurn);
  if (!expired.empty()) {
    CommandWriter w(0);
    for (auto id : expired) {
      capnp::MallocMessageBuilder msg;
      msg.initRoot<wire::Request>().initLeaseRevoke().setId(id);
      w.add(0, api::to_flat_bytes(msg));
    }
    (void)raw_->propose(w.take());
  }
  checkpointer_->propose_due(state_->lessor(), now_ms(),
                             [&](std::string data) { return raw_->propose(std::move(data)) == raft::Status::kOk; });
  force_overdue_releases();
  if (options_.auto_compaction_retention_revisions > 0) {
    auto target = kv::revision_retention_target(state_->kv().current_revision(),
                                                state_->kv().compact_revision(),
                                                options_.auto_compaction_retention_revisions);
    // Compact in steps of at least a retention's worth, not every revision.
    if (target && *target - state_->kv().compact_revision() >= options_.auto_compaction_retention_revisions) {
      capnp::MallocMessageBuilder msg;
      auto r = msg.initRoot<wire::Request>();
      r.initCompaction().setRevision(*target);
      CommandWriter w(0);
      w.add(0, api::to_flat_bytes(msg));
      if (raw_->propose(w.take()) == raft::Status::kOk) {
        log_event("auto-compaction at revision %lld", static_cast<long long>(*target));
      }
    }
  }
}

// One ReadIndex round confirms every keep-alive that arrived this turn.
void NodeLoop::flush_keepalives() {
  if (!keepalives_.has_unsent()) return;
  if (!is_leader() || raw_->status().soft_state.leader != self_id_) {
    return fail_keepalives(api::not_leader_error(leader_hint()));
  }
  uint64_t ctx = next_read_ctx_++;
  keepalives_.start_round(ctx);
  raw_->read_index(u64_bytes(ctx));
}

// Confirmed keep-alives renew their lease; those whose lease holds a
// checkpoint are answered once its reset applied (lease/lessor.h).
void NodeLoop::serve_keepalives() {
  auto answer = [&](const WaitingKeepAlive& k) {
    api::ResponseBuilder b(k.request_id, header());
    auto out = b.response().initLeaseKeepAlive();
    out.setId(k.lease);
    out.setTtl(k.ttl_seconds);
    reply(k.connection, b.finish());
  };
  std::vector<WaitingKeepAlive> need_reset;
  for (auto& k : keepalives_.take_confirmed()) {
    if (!state_->lessor().is_primary()) {
      // Leading, but the new term's first entry has not applied yet.
      reply_error(k.connection, k.request_id,
                  is_leader() ? api::wire_error(wire::ErrorCode::UNAVAILABLE, "leader is starting; retry")
                              : api::not_leader_error(leader_hint()));
      continue;
    }
    auto renewed = state_->lessor().keepalive(k.lease, now_ms());
    if (!renewed.ok()) {
      reply_error(k.connection, k.request_id, api::to_wire_error(renewed.error()));
      continue;
    }
    k.ttl_seconds = renewed->ttl_seconds;
    if (renewed->reset_needed) {
      need_reset.push_back(std::move(k));
    } else {
      answer(k);
    }
  }
  if (!need_reset.empty()) {
    auto proposals = checkpointer_->propose_resets(
        state_->lessor(), std::move(need_reset),
        [&](std::string data) { return raw_->propose(std::move(data)) == raft::Status::kOk; });
    for (auto& [sequence, waiting] : proposals.proposed) keepalives_.wait_for_reset(sequence, std::move(waiting));
    for (auto& k : proposals.refused) {
      reply_error(k.connection, k.request_id, api::wire_error(wire::ErrorCode::UNAVAILABLE, "keepalive not proposed; retry"));
    }
  }
  for (auto& k : keepalives_.take_reset(state_->lessor().applied_sequence())) answer(k);
  for (auto& k : keepalives_.take_expired(Clock::now())) {
    reply_error(k.connection, k.request_id,
                api::wire_error(wire::ErrorCode::UNAVAILABLE, "leadership not confirmed in time; retry"));
  }
}

void NodeLoop::fail_keepalives(const api::WireError& why) {
  for (auto& k : keepalives_.take_all()) reply_error(k.connection, k.request_id, why);
}

// Checkpoints applied now count down from now; a new leader takes over the
// leases once its term's first entry applied, i.e. after every entry of
// earlier terms, so it knows every committed checkpoint and reset.
void NodeLoop::after_apply_leases() {
  auto& lessor = state_->lessor();
  lessor.stamp(now_ms());
  if (is_leader() && !lessor.is_primary() && applied_term_ == term_) lessor.promote(now_ms(), term_);
}

// Revoking assignments not released in time are released by the leader,
// each with a delete fenced on the mod_revision that marked it revoking.
void NodeLoop::force_overdue_releases() {
  const auto now = Clock::now();
  if (now < next_release_check_) return;
  next_release_check_ = now + std::chrono::milliseconds(kReleaseCheckIntervalMs);
  auto due = release_timer_.due(state_->assignment().revoking(), now, kMaxForcedReleasesPerCheck);
  if (due.empty()) return;
  CommandWriter w(0);
  for (const auto& d : due) {
    capnp::MallocMessageBuilder msg;
    auto txn = msg.initRoot<wire::Request>().initTxn();
    auto cmp = txn.initCompare(1)[0];
    cmp.setTarget(wire::Compare::Target::MOD);
    cmp.setResult(wire::Compare::Result::EQUAL);
    cmp.setKey(schema::as_data(d.key));
    cmp.setModRevision(d.mod_revision);
    txn.initSuccess(1)[0].initDeleteRange().setKey(schema::as_data(d.key));
    w.add(0, api::to_flat_bytes(msg));
  }
  if (raw_->propose(w.take()) == raft::Status::kOk) {
    log_event("forced the release of %zu assignments revoking for over %d ms", due.size(),
              options_.assign_release_timeout_ms);
  }
}

// etcd's publish: each member puts its own client URL in the replicated
// member table (so `member list` anywhere names every member's URLs, and a
// notLeader hint names the leader), retrying until the table shows it.
void NodeLoop::publish_attributes() {
  if (soft_.leader == raft::kNoNode) return;
  auto now = Clock::now();
  if (now < next_publish_) return;
  auto it = state_->members().find(self_id_);
  if (it == state_->members().end()) return;  // joining: not in our table yet
  if (it->second.client_urls == std::vector<std::string>{advertise_client_}) return;
  next_publish_ = now + std::chrono::milliseconds(kPublishRetryMs);
  MemberInfo m = it->second;
  m.client_urls = {advertise_client_};
  std::string record = encode_member(m);
  if (is_leader()) {
    (void)raw_->propose(encode_attributes(record));
    return;
  }
  std::string frame(kAttributesFrameTag);
  frame.append(record);
  (void)transport_->send(soft_.leader, frame);
}

// NOSPACE (alarms.h, disk_reserve.h): a member whose disk is below its
// reserve asks for its alarm, through the leader, at most once a second
// until the alarm stands (a disarm while the disk is still low re-raises it).
void NodeLoop::report_low_disk() {
  const auto now = Clock::now();
  if (!disk_reserve_.low(now) || state_->alarms().has(self_id_) || now < next_nospace_report_) return;
  if (soft_.leader == raft::kNoNode) return;
  next_nospace_report_ = now + std::chrono::seconds(1);
  if (is_leader()) {
    propose_nospace(self_id_);
    return;
  }
  (void)transport_->send(soft_.leader, std::string(kNoSpaceFrameTag));
}

void NodeLoop::propose_nospace(uint64_t member_id) {
  log_event("raising the NOSPACE alarm for member %016llx", static_cast<unsigned long long>(member_id));
  CommandWriter w(0);
  w.add(0, encode_nospace_raise(member_id));
  (void)raw_->propose(w.take());
}

// The leader proposes a member's attributes for it: only the sender's own
// record, only if known and changed (apply takes only its client URLs).
void NodeLoop::propose_attributes(const net::PeerMessage& pm, std::string_view record) {
  if (!is_leader()) return;
  auto m = decode_member(record);
  if (!m.ok() || m->id != pm.from || m->client_urls.empty() ||
      m->client_urls.size() > api::kMaxUrlsPerMember) {
    return;
  }
  auto it = state_->members().find(m->id);
  if (it == state_->members().end() || it->second.client_urls == m->client_urls) return;
  (void)raw_->propose(encode_attributes(record));
}

// The leader changed: reads forwarded to the old one get no answer. Ask the
// new leader again, or, with none known, answer unavailable at once so the
// client retries elsewhere instead of waiting for its timeout.
void NodeLoop::reissue_reads() {
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    if (it->second.index != 0) {
      ++it;
      continue;
    }
    if (soft_.leader != raft::kNoNode) {
      raw_->read_index(u64_bytes(it->first));
      ++it;
      continue;
    }
    for (auto& r : it->second.reads) {
      reply_error(r.connection, r.request->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "no leader"));
    }
    it = read_batches_.erase(it);
  }
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
  metrics_.proposals_committed.inc(rd.committed_entries.size());
  if (rd.hard_state) term_ = rd.hard_state->term;
  if (rd.soft_state) on_soft_state(*rd.soft_state);
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
  storage::WriteBatch batch;
  bool restored = false;
  if (rd.snapshot && !rd.snapshot->empty()) {
    // The restore deletes the keys it sees and is logged: flush unlogged
    // apply batches first, or a key they deleted (not seen now, so not
    // deleted again) could come back from an older table file after a crash.
    auto flushed = engine_->flush();
    if (!flushed.ok()) stop_on_storage_failure("flush before installing a snapshot", flushed.error());
    auto s = store_->stage_apply_snapshot(batch, rd.snapshot->metadata);
    auto r = s.ok() ? state_->stage_restore(rd.snapshot->data, batch) : s;
    if (!r.ok()) {
      log_error("cannot install snapshot at %llu: %s",
                static_cast<unsigned long long>(rd.snapshot->metadata.index), r.error().message.c_str());
      std::abort();
    }
    restored = true;
  }
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
  if (restored) {
    auto r = state_->reload();
    CORRAL_CHECK_MSG(r.ok(), r.error().message.c_str());
    conf_state_ = rd.snapshot->metadata.conf_state;
    snapshot_index_ = rd.snapshot->metadata.index;
    hub_->on_restore();
    applied_term_ = rd.snapshot->metadata.term;
    after_apply_leases();
    sync_peers();
    log_event("installed snapshot at index %llu (state applied %llu)",
              static_cast<unsigned long long>(snapshot_index_),
              static_cast<unsigned long long>(state_->applied_index()));
  }
  for (size_t i = 0; i < rd.messages.size(); ++i) {
    if (!sent[i]) send_raft(rd.messages[i]);
  }
}

void NodeLoop::apply(const std::vector<raft::Entry>& committed) {
  if (committed.empty()) return;
  metrics::ScopedTimer apply_timer(metrics_.apply_seconds);
  metrics_.proposals_applied.inc(committed.size());
  storage::WriteBatch batch;
  ApplyOutput out;
  bool conf_changed = false;
  for (const auto& e : committed) {
    if (e.type == raft::EntryType::kConfChange) {
      auto cc = raft::decode_conf_change(e.data);
      if (!cc) continue;
      bool already = e.index <= state_->applied_index();
      auto refusal = already ? std::nullopt : state_->conf_change_refusal(*cc);
      if (refusal) {
        // As etcd does: raft applies a no-op instead, and the proposer hears why.
        raft::ConfChange noop = *cc;
        noop.node_id = raft::kNoNode;
        conf_state_ = raw_->apply_conf_change(noop);
        state_->apply_refused_conf_change(e, *cc, *refusal, batch, out);
        log_event("membership change at %llu refused: %s", static_cast<unsigned long long>(e.index), refusal->c_str());
        continue;
      }
      conf_state_ = raw_->apply_conf_change(*cc);
      conf_changed = true;
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
    } else {
      state_->apply_entry(e, batch, out);
    }
  }
  // The conf state goes with the applied index in the same unlogged batch,
  // so on disk it is never ahead of nor behind the applied state (see
  // node.h, Durability).
  if (conf_changed) store_->stage_conf_state(batch, conf_state_);
  // Clients are answered before the (unlogged) write: their entries are
  // durable in the raft log already, and reads and watches run on this
  // thread, after the write, so nothing observes the gap.
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

bool NodeLoop::maybe_snapshot(bool force) {
  raft::Index applied = state_->applied_index();
  if (applied <= snapshot_index_) return true;
  if (!force && applied < snapshot_index_ + options_.snapshot_count) return true;
  if (snapshot_flush_) return false;
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
  if ((image_wanted_ || save_waits) && now >= next_image_try_ && !snapshot_worker_->image_busy()) {
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

void NodeLoop::send_saves(Clock::time_point now) {
  for (auto& save : saves_) {
    if (!save.image) continue;
    auto out = outputs_.find(save.connection);
    if (out != outputs_.end() && out->second.paused(now)) continue;
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

void NodeLoop::send_raft(const raft::Message& m) {
  if (m.type == raft::MessageType::kSnapshot) return start_snapshot_stream(m);
  const std::string bytes = storage::encode_message(m);
  metrics_.peer_sent_bytes.inc(bytes.size());
  auto r = transport_->send(m.to, bytes);
  if (r != net::PeerSendResult::kSent) raw_->report_unreachable(m.to);
}

watch::StreamId NodeLoop::stream_for(const net::ConnectionId& conn) {
  auto it = stream_by_conn_.find(conn);
  if (it != stream_by_conn_.end()) return it->second;
  auto s = hub_->open_stream();
  if (!s.ok()) return 0;
  stream_by_conn_[conn] = *s;
  conn_by_stream_[*s] = conn;
  outputs_.try_emplace(conn);  // its sends are counted from now on
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

void NodeLoop::forget_connection(const net::ConnectionId& conn) {
  meter_.forget(conn);
  auto it = stream_by_conn_.find(conn);
  if (it != stream_by_conn_.end()) close_stream(it->second);
  if (auto out = outputs_.find(conn); out != outputs_.end()) {
    held_bytes_total_ -= out->second.held_bytes;
    outputs_.erase(out);
  }
  holding_.erase(conn);
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
  bool catchup_moved = false;
  if (hub_->has_unsynced()) {
    const size_t before = hub_->stats().unsynced;
    catchup_moved = hub_->sync_step(kMaxCatchupEventsPerTurn) > 0 || hub_->stats().unsynced != before;
  }
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
    auto& out = outputs_[conn];
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
      api::Header h = header();
      std::vector<std::string> frames;
      switch (d->kind) {
        case watch::Delivery::Kind::kCreated:
          break;  // the create response already told the client
        case watch::Delivery::Kind::kEvents:
          h.revision = d->revision;
          frames.push_back(api::encode_watch_events(h, *d->watch_ids, *d->events));
          break;
        case watch::Delivery::Kind::kProgress:
          h.revision = d->revision;
          for (auto id : *d->watch_ids) frames.push_back(api::encode_watch_progress(h, id));
          break;
        case watch::Delivery::Kind::kCancelled: {
          api::WireError why;
          switch (d->reason) {
            case watch::CancelReason::kRequested:
              why = api::wire_error(wire::ErrorCode::OK, "cancelled");
              break;
            case watch::CancelReason::kCompacted:
              why = api::wire_error(wire::ErrorCode::COMPACTED, "start revision compacted");
              why.compact_revision = d->revision;
              break;
            case watch::CancelReason::kSlowWatcher:
              metrics_.slow_watcher_cancels.inc();
              why = api::wire_error(wire::ErrorCode::UNAVAILABLE, "slow watcher: " + d->message);
              break;
            case watch::CancelReason::kHistoryError:
              why = api::wire_error(wire::ErrorCode::INTERNAL, d->message);
              break;
          }
          for (auto id : *d->watch_ids) frames.push_back(api::encode_watch_canceled(h, id, why));
          break;
        }
      }
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

void NodeLoop::fill_members(capnp::List<wire::Member>::Builder out) const {
  size_t i = 0;
  for (const auto& [id, m] : state_->members()) fill_member(out[i++], m);
}

void NodeLoop::answer_conf(uint64_t proposal_id, const std::optional<api::WireError>& err) {
  auto it = pending_.find(proposal_id);
  if (it == pending_.end()) return;
  auto p = it->second;
  pending_.erase(it);
  if (err) return reply_error(p.connection, p.request_id, *err);
  api::ResponseBuilder b(p.request_id, header());
  size_t n = state_->members().size();
  switch (p.kind) {
    case wire::Request::MEMBER_ADD: {
      auto out = b.response().initMemberAdd();
      auto added = state_->members().find(p.member_id);
      if (added != state_->members().end()) fill_member(out.initMember(), added->second);
      fill_members(out.initMembers(n));
      break;
    }
    case wire::Request::MEMBER_REMOVE:
      fill_members(b.response().initMemberRemove().initMembers(n));
      break;
    default:
      fill_members(b.response().initMemberPromote().initMembers(n));
      break;
  }
  reply(p.connection, b.finish());
}

void NodeLoop::handle_cluster(const net::ConnectionId& conn, const api::ParsedRequest& req) {
  auto r = req.get();
  if (r.isMemberList()) {
    api::ResponseBuilder b(r.getId(), header());
    fill_members(b.response().initMemberList().initMembers(state_->members().size()));
    return reply(conn, b.finish());
  }
  if (!is_leader()) return reply_error(conn, r.getId(), api::not_leader_error(leader_hint()));
  if (r.isMoveLeader()) {
    uint64_t target = r.getMoveLeader().getTargetId();
    auto member = state_->members().find(target);
    if (member == state_->members().end()) {
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::NOT_FOUND, "no such member"));
    }
    // Raft ignores a transfer to a learner (it cannot vote or lead): say so
    // instead of answering OK for a move that never happens (etcd:
    // ErrBadLeaderTransferee).
    if (member->second.is_learner) {
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::BAD_REQUEST, "target is a learner"));
    }
    raw_->transfer_leader(target);
    api::ResponseBuilder b(r.getId(), header());
    b.response().initMoveLeader();
    return reply(conn, b.finish());
  }
  raft::ConfChange cc;
  ConfChangeContext ctx;
  ctx.proposer = self_id_;
  ctx.proposal_id = next_proposal_id_;
  if (r.isMemberAdd()) {
    auto ma = r.getMemberAdd();
    MemberInfo m;
    m.name = ma.getName();
    if (m.name.empty() || m.name.size() > api::kMaxMemberNameBytes || ma.getPeerUrls().size() == 0 ||
        ma.getPeerUrls().size() > api::kMaxUrlsPerMember || ma.getClientUrls().size() > api::kMaxUrlsPerMember) {
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::BAD_REQUEST, "member needs a name and 1.." +
                                                                         std::to_string(api::kMaxUrlsPerMember) + " peer URLs"));
    }
    for (auto u : ma.getPeerUrls()) {
      auto ep = net::parse_endpoint(u.cStr(), net::EndpointUse::kConnect);
      if (!ep.ok()) return reply_error(conn, r.getId(), api::to_wire_error(ep.error()));
      m.peer_urls.push_back(ep->to_zmq());
    }
    for (auto u : ma.getClientUrls()) m.client_urls.emplace_back(u);
    m.is_learner = ma.getIsLearner();
    if (auto clash = member_add_clash(m)) {
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::BAD_REQUEST, *clash));
    }
    // A new id, never one in use or removed: apply checks it again.
    auto st = raw_->status();
    auto id = added_member_id(cluster_id_, st.hard_state.term, st.last_index + 1, m.name,
                              [this](uint64_t candidate) { return state_->member_id_taken(candidate); });
    if (!id.ok()) return reply_error(conn, r.getId(), api::to_wire_error(id.error()));
    m.id = *id;
    ctx.member = encode_member(m);
    cc.type = m.is_learner ? raft::ConfChangeType::kAddLearner : raft::ConfChangeType::kAddNode;
    cc.node_id = m.id;
  } else if (r.isMemberRemove()) {
    cc.type = raft::ConfChangeType::kRemoveNode;
    cc.node_id = r.getMemberRemove().getId();
    if (!state_->members().count(cc.node_id)) {
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::NOT_FOUND, "no such member"));
    }
  } else {
    cc.type = raft::ConfChangeType::kAddNode;
    cc.node_id = r.getMemberPromote().getId();
    auto it = state_->members().find(cc.node_id);
    if (it == state_->members().end() || !it->second.is_learner) {
      return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::BAD_REQUEST, "not a learner of this cluster"));
    }
  }
  cc.context = encode_conf_context(ctx);
  auto s = raw_->propose_conf_change(cc);
  if (s != raft::Status::kOk) {
    auto code = s == raft::Status::kConfChangePending ? wire::ErrorCode::UNAVAILABLE : wire::ErrorCode::BAD_REQUEST;
    return reply_error(conn, r.getId(), api::wire_error(code, std::string("membership change refused: ") + raft::status_name(s)));
  }
  pending_[next_proposal_id_++] = PendingProposal{conn, r.getId(), r.which(),
                                                  Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms),
                                                  cc.node_id};
}

// Why a member cannot be added as `m`: its name or a peer URL is a current
// member's.
std::optional<std::string> NodeLoop::member_add_clash(const MemberInfo& m) const {
  for (const auto& [id, other] : state_->members()) {
    if (other.name == m.name) return "member name " + m.name + " already in use";
    for (const auto& url : m.peer_urls) {
      if (std::find(other.peer_urls.begin(), other.peer_urls.end(), url) != other.peer_urls.end()) {
        return "peer URL " + url + " is member " + other.name + "'s";
      }
    }
  }
  return std::nullopt;
}

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
    return reply(conn, answer_maintenance(r.getId(), header(), r.getMaintenance(), *engine_, state_->kv(), state_->alarms()));
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

// ---- Node: the thread ----

// Gauges the loop computes, published at most once a second (the quota's
// figure reads RocksDB properties).
void NodeLoop::publish_metrics(Clock::time_point now) {
  if (now < next_metrics_publish_) return;
  next_metrics_publish_ = now + std::chrono::seconds(1);
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
  metrics_.client_connections.set(static_cast<double>(outputs_.size()));
}

Node::Node(std::unique_ptr<NodeLoop> loop) : loop_(std::move(loop)) {}

Node::~Node() { stop(); }

Result<std::unique_ptr<Node>> Node::create(const NodeOptions& options) {
  auto loop = std::make_unique<NodeLoop>(options);
  auto s = loop->init();
  if (!s.ok()) return s.error();
  return std::unique_ptr<Node>(new Node(std::move(loop)));
}

void Node::start() {
  CORRAL_CHECK(!thread_.joinable());
  thread_ = std::thread([this] {
    loop_->run(stop_requested_);
    finished_.store(true);
  });
}

void Node::stop() {
  stop_requested_.store(true);
  if (loop_) loop_->wake();
  if (thread_.joinable()) thread_.join();
}

uint64_t Node::id() const { return loop_->id(); }

Status Node::reload_curve_allow_lists() { return loop_->reload_curve_allow_lists(); }

// Called from the main thread: only the ZAP handler (which locks) is touched.
Status NodeLoop::reload_curve_allow_lists() {
  if (!zap_) return make_error(ErrorCode::kBadRequest, "CURVE is off: no allow-lists to reload");
  auto lists = load_curve_allow_lists(options_.curve->files);
  if (!lists.ok()) return lists.error();
  log_event("CURVE allow-lists reloaded: %zu client keys, %zu peer keys", lists->clients.name_by_key.size(),
            lists->peers.name_by_key.size());
  zap_->replace_lists(std::move(lists).value());
  return Status();
}
std::string Node::client_endpoint() const { return loop_->client_endpoint(); }
const metrics::Registry& Node::metrics() const { return loop_->metrics(); }
std::string Node::peer_endpoint() const { return loop_->peer_endpoint(); }
bool Node::refused_by_cluster() const { return loop_->refused_by_cluster(); }
std::shared_ptr<AuthTokenMinter> Node::token_minter() const { return loop_->token_minter(); }

}  // namespace corral::server
