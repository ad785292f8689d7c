// Start-up of the node loop: sockets, the data dir's identity, a new cluster's
// first batch, the storage and raft it runs on; the peer links that follow the
// member table; the CURVE allow-lists reloaded from the main thread.
#include "coordinator/server/node_loop.h"

#include "coordinator/server/install_intent.h"

#include <algorithm>
#include <random>
#include <thread>

#include "coordinator/net/endpoint.h"
#include "coordinator/server/apply_pacing.h"
#include "coordinator/server/curve_setup.h"
#include "coordinator/server/install_intent.h"
#include "coordinator/server/log.h"
#include "coordinator/server/startup_checks.h"
#include "coordinator/server/u64_bytes.h"

namespace corral::server {

namespace {

// The client wire's own bound on a request (see net/client_listener.h): at
// least this, and at least twice max_request_bytes.
constexpr int64_t kMinTransportRequestBytes = 64 << 20;
constexpr int kMaxRebindAttempts = 40;
constexpr int kRebindRetryMs = 50;

}  // namespace

// The start-up steps, in order. The threads beside the loop's own start in
// two of them: the ZAP handler (with CURVE) in listen_for_clients, every
// other one in start_workers.
Status NodeLoop::init() {
  if (auto s = refuse_bad_options(); !s.ok()) return s;
  // Sockets first: the advertised peer URL defaults to the bound one.
  if (auto s = listen_for_clients(); !s.ok()) return s;
  auto identity = decide_identity(context_, options_);
  if (!identity.ok()) return identity.error();
  if (auto s = open_peer_transport(*identity); !s.ok()) return s;
  if (auto s = open_storage(*identity); !s.ok()) return s;
  auto recovered = recover_log(*identity);
  if (!recovered.ok()) return recovered.error();
  open_watch_hub();
  create_raft(*recovered);
  if (auto s = start_workers(); !s.ok()) return s;
  sync_peers();
  log_event("member %s (id %016llx) starting: applied %llu, term %llu, %zu members", options_.name.c_str(),
            static_cast<unsigned long long>(self_id_),
            static_cast<unsigned long long>(state_->applied_index()),
            static_cast<unsigned long long>(term_), state_->members().size());
  return Status();
}

// Everything that can be refused without a socket or a write.
Status NodeLoop::refuse_bad_options() const {
  const auto& o = options_;
  if (auto s = check_options(o); !s.ok()) return s;
  if (o.initial_cluster.empty()) return Status();
  auto members = parse_initial_cluster(o.initial_cluster);
  if (!members.ok()) return members.error();
  auto listen = net::parse_endpoint(o.listen_peer, net::EndpointUse::kBind);
  if (listen->port != 0 || !o.advertise_peer.empty()) {
    return check_own_peer_url(*members, o.name, o.advertise_peer, *listen);
  }
  return Status();
}

// The client listener, and with CURVE the ZAP handler thread before it.
Status NodeLoop::listen_for_clients() {
  const auto& o = options_;
  net::ClientListenerOptions lo;
  lo.wire = o.client_wire;
  lo.bind_endpoint = o.listen_client;
  // The wire drops the connection past its own bound, so keep it far above
  // ours: a request up to it still gets a typed tooLarge answer, and only
  // its head is copied out.
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
  log_event("clients on %s (%s wire)", listener_->bound_endpoint().to_zmq().c_str(), net::client_wire_name(listener_->wire()));
  return Status();
}

// The member's id, its peer transport (routed by that id), the advertised
// URLs, the initial member table and the cluster id it implies.
Status NodeLoop::open_peer_transport(StartupIdentity& identity) {
  const auto& o = options_;
  self_id_ = identity.identity.id;
  set_log_member(o.name, self_id_);
  engine_ = std::move(identity.engine);
  auto transport = create_transport(identity.joined.has_value() || identity.peer_port_released);
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
  cluster_id_ = identity.joined ? identity.joined->cluster_id : cluster_id_for(initial_members_);
  return Status();
}

// The storage engine (unless decide_identity opened it), the raft log store
// and the state machine on it; a removed member stops here.
Status NodeLoop::open_storage(const StartupIdentity& identity) {
  const auto& o = options_;
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
  // Before anything reads the state: it may be half installed.
  if (!o.in_memory) {
    if (auto s = finish_interrupted_install(*engine_, *store_, install_intent_path(o.data_dir)); !s.ok()) return s;
  }
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
  if (identity.identity.removed || state_->removed_members().count(self_id_)) {
    return make_error(ErrorCode::kPermissionDenied, "this member (" + o.name + ") was removed from the cluster; "
                                                    "its id is never let back in: add it again under a new id "
                                                    "(member add) with an empty data dir");
  }
  return Status();
}

// What raft starts from: a new cluster's first batch written, or the data
// dir's identity recorded, then the stored conf state and snapshot.
Result<raft::InitialState> NodeLoop::recover_log(const StartupIdentity& identity) {
  auto init = store_->initial_state();
  bool fresh = store_->last_index() == 0 && init.hard_state.empty() && init.conf_state.voters.empty() &&
               init.conf_state.learners.empty();
  if (fresh && options_.initial_cluster_new && !identity.stored) {
    auto s = bootstrap(initial_members_, identity.identity);
    if (!s.ok()) return s.error();
    init = store_->initial_state();
  } else if (!identity.stored) {
    auto s = record_identity(identity.identity, identity.joined);
    if (!s.ok()) return s.error();
  }
  conf_state_ = init.conf_state;
  auto snap = store_->snapshot();
  if (snap.ok()) snapshot_index_ = snap.value().metadata.index;
  store_->set_snapshot_source([this](const raft::SnapshotMetadata& latest) { return snapshot_for(latest); });
  return init;
}

void NodeLoop::open_watch_hub() {
  watch::HubOptions ho;
  ho.max_watchers_per_stream = options_.max_watchers_per_connection;
  hub_ = std::make_unique<watch::WatchHub>(state_->history(), ho);
  state_->set_watch_hub(hub_.get());
}

void NodeLoop::create_raft(const raft::InitialState& init) {
  const auto& o = options_;
  raft::Config rc;
  rc.id = self_id_;
  rc.election_ticks = o.election_ticks;
  rc.heartbeat_ticks = o.heartbeat_ticks;
  rc.storage = store_.get();
  rc.async_storage_writes = o.storage_writer;
  // Whatever this run's setting, the promise an earlier run with lease reads
  // may have made is kept after a restart.
  rc.restart_promise_ticks = restart_promise_ticks(o.heartbeat_ticks);
  if (o.read_lease) {
    rc.lease_promise_ticks = kReadLeasePromiseHeartbeats * o.heartbeat_ticks;
    // Advertised in heartbeat acknowledgements; the lease is computed from
    // the same number, so an acknowledgement from a member promising less
    // (another tick length, or none) never backs it.
    rc.lease_promise_ms = ReadLease::promise_ms_for(rc.lease_promise_ticks, o.tick_ms);
    read_lease_.emplace(ReadLease::length_for(rc.lease_promise_ms, kReadLeaseDriftMarginPermille));
    log_event("read lease on: this member promises %d ticks (%u ms), a round confirmed by a quorum of such "
              "promises gives a %lld ms lease",
              rc.lease_promise_ticks, static_cast<unsigned>(rc.lease_promise_ms),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(read_lease_->length()).count()));
  }
  rc.max_committed_bytes_per_ready = kMaxCommittedBytesPerReady;  // apply_pacing.h
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
}

// The poller over the loop's two sockets, and the threads beside the loop
// that wake it when they have a result: the snapshot worker and installer, the password
// worker (authenticator), the HashKV worker and, with --storage-writer, the
// storage writer.
// (The ZAP handler started in listen_for_clients, the defragmenter's thread
// starts on demand.)
Status NodeLoop::start_workers() {
  auto poller = net::Poller::create();
  if (!poller.ok()) return poller.error();
  poller_ = std::move(poller).value();
  peer_slot_ = transport_->watch_with(*poller_);
  client_slot_ = listener_->watch_with(*poller_);
  snapshot_worker_ = std::make_unique<SnapshotWorker>(*engine_, [this] { poller_->wake(); });
  installer_ = std::make_unique<SnapshotInstaller>(
      *engine_, options_.in_memory ? std::string() : install_intent_path(options_.data_dir),
      [this] { poller_->wake(); });
  authenticator_ = std::make_unique<Authenticator>([this] { poller_->wake(); });
  hasher_ = std::make_unique<KvHasher>([this] { poller_->wake(); });
  if (options_.storage_writer) {
    async_persist_ = std::make_unique<AsyncPersist>(
        *engine_, *store_, *raw_, [this] { poller_->wake(); }, StorageWriterLimits{},
        [this](Clock::duration took) { metrics_.wal_fsync_seconds.observe(took); });
  }
  batch_ = std::make_unique<CommandWriter>(self_id_);
  return Status();
}

// A member that joined was told its id; the port it was told on was just
// released by discover_membership, and ZeroMQ closes sockets in the
// background, so the bind is retried a little.
Result<std::unique_ptr<net::PeerTransport>> NodeLoop::create_transport(bool port_just_released) {
  net::PeerTransportOptions po;
  po.self_id = self_id_;
  po.bind_endpoint = options_.listen_peer;
  po.wire = options_.peer_wire;
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

}  // namespace corral::server
