// Client requests in: parsing, checks, and the way each class of request
// takes (writes batched into one proposal, linearizable reads into one
// ReadIndex, serializable reads served at once), and their deadlines.
#include "coordinator/server/node_loop.h"

#include <algorithm>

#include "coordinator/server/apply_version.h"
#include "coordinator/server/apply_pacing.h"
#include "coordinator/server/auth_gate.h"
#include "coordinator/server/lease_min_ttl.h"
#include "coordinator/server/log.h"
#include "coordinator/server/u64_bytes.h"
#include "schema/data_bytes.h"

namespace corral::server {

namespace {

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
constexpr int64_t kMsPerSecond = 1000;

// `list`: the entries right under a directory, each key's value with it.
std::optional<api::WireError> fill_list(const kv::MvccStore& kv, wire::ListRequest::Reader lr,
                                        wire::ListResponse::Builder out) {
  std::string dir = schema::as_string(lr.getDir());
  auto res = kv.list(dir, lr.getRevision());
  if (!res.ok()) return api::to_wire_error(res.error());
  std::string base = dir;
  if (base.empty() || base.back() != '/') base.push_back('/');
  size_t n = res->entries.size();
  bool more = false;
  if (lr.getLimit() > 0 && static_cast<size_t>(lr.getLimit()) < n) {
    n = static_cast<size_t>(lr.getLimit());
    more = true;
  }
  auto entries = out.initEntries(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& e = res->entries[i];
    entries[i].setName(schema::as_data(e.name));
    entries[i].setIsDir(e.is_dir);
    entries[i].setHasKey(e.is_key);
    if (e.is_key) {
      kv::RangeOptions ro;
      ro.revision = lr.getRevision();
      auto kvs = kv.range(base + e.name, {}, ro);
      if (kvs.ok() && !kvs->kvs.empty()) api::fill_kv(entries[i].initKv(), kvs->kvs[0]);
    }
  }
  out.setMore(more);
  return std::nullopt;
}

// A lease's time to live: ttl -1 for a lease that does not exist.
void fill_time_to_live(lease::Lessor& lessor, wire::LeaseTimeToLiveRequest::Reader q, int64_t now,
                       wire::LeaseTimeToLiveResponse::Builder out) {
  out.setId(q.getId());
  auto ttl = lessor.time_to_live(q.getId(), now, q.getKeys());
  if (!ttl.ok()) {
    out.setTtl(-1);
    return;
  }
  out.setTtl((ttl->remaining_ms + kMsPerSecond - 1) / kMsPerSecond);
  out.setGrantedTtl(ttl->granted_ttl_seconds);
  auto keys = out.initKeys(ttl->keys.size());
  for (size_t i = 0; i < ttl->keys.size(); ++i) {
    keys.set(i, schema::as_data(ttl->keys[i]));
  }
}

}  // namespace

void NodeLoop::receive_clients() {
  client_in_.clear();
  client_work_now_ = false;
  reply_bytes_this_turn_ = 0;
  size_t request_bytes = 0;
  if (!clients_readable_) return;
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
      handle_write(req.connection, std::move(parsed.request), sealed ? std::string_view(*sealed) : req.payload, *user);
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
      // Keepalive, single or batched: leader-local (node_leases.cc).
      queue_keepalives(req.connection, r);
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

void NodeLoop::handle_write(const net::ConnectionId& conn, std::unique_ptr<api::ParsedRequest> req,
                            std::string_view payload, std::string_view user) {
  if (!is_leader()) {
    reply_error(conn, req->id(), api::not_leader_error(leader_hint()));
    return;
  }
  if (over_quota_ && (req->which() == wire::Request::PUT || req->which() == wire::Request::TXN ||
                      req->which() == wire::Request::LEASE_GRANT ||
                      req->which() == wire::Request::LEASE_GRANT_BATCH)) {
    reply_error(conn, req->id(), api::wire_error(wire::ErrorCode::TOO_LARGE,
                                                 "database space exceeded (--quota-backend-bytes): delete, compact, then defragment (corralctl defrag)"));
    return;
  }
  if (auto refused = nospace_refusal(state_->alarms(), req->get(), some_disk_low())) {
    reply_error(conn, req->id(), *refused);
    return;
  }
  // Version 1 needs no look at the member table: every member applies it.
  if (const uint32_t needed = apply_version_needed(req->get());
      needed > 1 && needed > cluster_apply_version(state_->members())) {
    reply_error(conn, req->id(),
                api::wire_error(wire::ErrorCode::UNKNOWN_REQUEST, apply_version_refusal(state_->members(), needed)));
    return;
  }
  if (pending_.size() >= options_.max_pending_proposals) {
    reply_error(conn, req->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many pending proposals"));
    return;
  }
  // An entry holds at most kMaxGrantsPerEntry grants (apply_pacing.h).
  const size_t grants = grants_in(req->get());
  if (grants > 0 && batch_grants_ > 0 && batch_grants_ + grants > kMaxGrantsPerEntry) flush_proposals();
  uint64_t pid = next_proposal_id_++;
  pending_[pid] = PendingProposal{conn, req->id(), req->which(),
                                  Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms)};
  auto raised = raise_grant_ttl(*req, lease::min_ttl_seconds_for(static_cast<int64_t>(options_.tick_ms) *
                                                                 options_.election_ticks));
  // Stamped with who it was admitted as: apply checks again (auth_recheck.h).
  batch_->add(pid, raised ? std::string_view(*raised) : payload, AuthStamp{user, state_->auth().revision()});
  batch_ids_.push_back(pid);
  batch_grants_ += grants;
  if (batch_->size_bytes() >= kMaxEntryBytes || batch_->count() >= kMaxRequestsPerEntry ||
      batch_grants_ >= kMaxGrantsPerEntry) {
    flush_proposals();
  }
}

void NodeLoop::flush_proposals() {
  if (batch_->count() == 0) return;
  batch_grants_ = 0;
  raft::EntryPosition at;
  auto s = raw_->propose(batch_->take(), &at);
  if (s == raft::Status::kOk) {
    proposed_at_.add(at.index, at.term, std::move(batch_ids_));
  } else {
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
  if (serve_reads_from_lease()) return;
  // A follower's reads are confirmed by the leader, by the lease or a round.
  metrics_.linearizable_reads.with({is_leader() ? "read_index" : "forwarded"}).inc(reads_waiting_.size());
  uint64_t ctx = next_read_ctx_++;
  auto& batch = read_batches_[ctx];
  batch.reads = std::move(reads_waiting_);
  batch.asked = Clock::now();
  reads_waiting_.clear();
  raw_->read_index(u64_bytes(ctx));
}

bool NodeLoop::lease_valid_now(const raft::LeaseBasis& basis, ReadLease::Clock::time_point now) {
  if (!read_lease_) return false;
  read_lease_->observe(basis, now);
  return read_lease_->valid(basis, now);
}

bool NodeLoop::serve_reads_from_lease() {
  if (!read_lease_) return false;
  const raft::LeaseBasis basis = raw_->lease_basis();
  if (!lease_valid_now(basis, ReadLease::Clock::now())) return false;
  // As a confirmed ReadIndex: the commit index now, which no other leader
  // can have passed while the lease holds.
  metrics_.linearizable_reads.with({"lease"}).inc(reads_waiting_.size());
  uint64_t ctx = next_read_ctx_++;
  auto& batch = read_batches_[ctx];
  batch.reads = std::move(reads_waiting_);
  batch.asked = Clock::now();
  batch.index = std::max<raft::Index>(basis.commit, 1);
  reads_waiting_.clear();
  return true;
}

bool NodeLoop::answer_forwarded_read_on_lease(const raft::Message& m) {
  if (m.type != raft::MessageType::kReadIndex || !is_leader()) return false;
  // raft answers in this turn's Ready, from the same basis checked here.
  const bool answered =
      read_lease_ && lease_valid_now(raw_->lease_basis(), ReadLease::Clock::now()) && raw_->answer_read_on_lease(m);
  metrics_.forwarded_reads.with({answered ? "lease" : "read_index"}).inc();
  return answered;
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
  // The state on disk is half replaced until the install is committed.
  if (installing()) {
    return reply_error(conn, r.getId(), api::wire_error(wire::ErrorCode::UNAVAILABLE,
                                                        "member installing a snapshot: retry, or ask another member"));
  }
  api::ResponseBuilder b(r.getId(), header());
  switch (r.which()) {
    case wire::Request::AUTH: {
      if (authenticator_->take(conn, state_->auth(), r, header(), Clock::now(),
                               [this](const net::ConnectionId& c, const std::string& bytes) { reply(c, bytes); })) {
        return;
      }
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
      auto err = fill_list(state_->kv(), r.getList(), b.response().initList());
      if (err) return reply_error(conn, r.getId(), *err);
      break;
    }
    case wire::Request::LEASE_TIME_TO_LIVE:
      fill_time_to_live(state_->lessor(), r.getLeaseTimeToLive(), now_ms(), b.response().initLeaseTimeToLive());
      break;
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
      it->second.asked = Clock::now();
      ++it;
      continue;
    }
    for (auto& r : it->second.reads) {
      reply_error(r.connection, r.request->id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "no leader"));
    }
    it = read_batches_.erase(it);
  }
}

// A follower's read forwarded to the leader gets no answer if the request
// or the answer was lost on the way (a peer connection re-established, a
// full queue): ask again every half election timeout, as etcd's
// readIndexRetryTime does, instead of failing at the client's deadline. A
// leader needs no retry: each heartbeat re-confirms its latest read round.
// An answer to an earlier ask that arrives late finds its batch served and
// is ignored.
void NodeLoop::retry_forwarded_reads(Clock::time_point now) {
  if (is_leader() || soft_.leader == raft::kNoNode) return;
  const auto retry = std::chrono::milliseconds(options_.tick_ms) * options_.election_ticks / 2;
  for (auto& [ctx, batch] : read_batches_) {
    if (batch.index != 0 || now - batch.asked < retry) continue;
    raw_->read_index(u64_bytes(ctx));
    batch.asked = now;
  }
}

void NodeLoop::answer_lost_proposal(uint64_t proposal_id) {
  auto it = pending_.find(proposal_id);
  if (it == pending_.end()) return;
  metrics_.proposals_failed.inc();
  reply_error(it->second.connection, it->second.request_id, api::not_leader_error(leader_hint()));
  pending_.erase(it);
}

void NodeLoop::expire_pending() {
  auto now = Clock::now();
  retry_forwarded_reads(now);
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

}  // namespace corral::server
