// Lease keep-alives (leader-local, lease_keepalives.h) and the lessor's
// promotion after apply.
#include "coordinator/server/node_loop.h"

#include "coordinator/server/u64_bytes.h"

namespace corral::server {

// Keepalive: leader-local (lease_keepalives.h), answered once a heartbeat
// round confirms this member still leads. A batch's ids go in as single
// keep-alives of one batch (keepalive_batches.h), all or none.
void NodeLoop::queue_keepalives(const net::ConnectionId& conn, const api::ParsedRequest& r) {
  if (!is_leader()) return reply_error(conn, r.id(), api::not_leader_error(leader_hint()));
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.request_timeout_ms);
  if (!r.get().isLeaseKeepAliveBatch()) {
    if (!keepalives_.add(WaitingKeepAlive{conn, r.id(), r.get().getLeaseKeepAlive().getId(), deadline})) {
      reply_error(conn, r.id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many keepalives waiting"));
    }
    return;
  }
  auto ids_in = r.get().getLeaseKeepAliveBatch().getIds();  // within kMaxKeepAliveBatchIds (api/request.cc)
  if (ids_in.size() == 0) {
    api::ResponseBuilder b(r.id(), header());
    b.response().initLeaseKeepAliveBatch().initOutcomes(0);
    return reply(conn, b.finish());
  }
  std::vector<lease::LeaseId> ids;
  ids.reserve(ids_in.size());
  for (int64_t id : ids_in) ids.push_back(id);
  const uint64_t batch = keepalive_batches_.open(conn, r.id(), ids);
  std::vector<WaitingKeepAlive> each;
  each.reserve(ids.size());
  for (uint32_t i = 0; i < ids.size(); ++i) each.push_back(WaitingKeepAlive{conn, r.id(), ids[i], deadline, 0, batch, i});
  if (!keepalives_.add_all(std::move(each))) {
    keepalive_batches_.drop(batch);
    reply_error(conn, r.id(), api::wire_error(wire::ErrorCode::UNAVAILABLE, "too many keepalives waiting"));
  }
}

// Answers a single keep-alive, or records a batched one and answers its
// batch once every id has an outcome. `error` null: renewed.
void NodeLoop::finish_keepalive(const WaitingKeepAlive& k, const api::WireError* error) {
  if (k.batch == 0) {
    if (error != nullptr) return reply_error(k.connection, k.request_id, *error);
    api::ResponseBuilder b(k.request_id, header());
    auto out = b.response().initLeaseKeepAlive();
    out.setId(k.lease);
    out.setTtl(k.ttl_seconds);
    return reply(k.connection, b.finish());
  }
  auto done = keepalive_batches_.record(k.batch, k.index, k.ttl_seconds, error);
  if (!done) return;
  if (done->whole_error) return reply_error(done->connection, done->request_id, *done->whole_error);
  api::ResponseBuilder b(done->request_id, header());
  auto out = b.response().initLeaseKeepAliveBatch().initOutcomes(static_cast<unsigned>(done->outcomes.size()));
  for (unsigned i = 0; i < out.size(); ++i) {
    const KeepAliveOutcome& o = done->outcomes[i];
    out[i].setId(o.lease);
    out[i].setTtl(o.ttl_seconds);
    out[i].setError(o.error);
  }
  reply(done->connection, b.finish());
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

// Confirmed keep-alives renew their lease, a bounded number a turn
// (lease_keepalives.h); those whose lease holds a checkpoint are answered
// once its reset applied (lease/lessor.h).
void NodeLoop::serve_keepalives() {
  std::vector<WaitingKeepAlive> need_reset;
  for (auto& k : keepalives_.take_confirmed(kMaxKeepAlivesServedPerTurn)) {
    if (!state_->lessor().is_primary()) {
      // Leading, but the new term's first entry has not applied yet.
      const auto why = is_leader() ? api::wire_error(wire::ErrorCode::UNAVAILABLE, "leader is starting; retry")
                                   : api::not_leader_error(leader_hint());
      finish_keepalive(k, &why);
      continue;
    }
    auto renewed = state_->lessor().keepalive(k.lease, now_ms());
    if (!renewed.ok()) {
      const auto why = api::to_wire_error(renewed.error());
      finish_keepalive(k, &why);
      continue;
    }
    k.ttl_seconds = renewed->ttl_seconds;
    if (renewed->reset_needed) {
      need_reset.push_back(std::move(k));
    } else {
      finish_keepalive(k, nullptr);
    }
  }
  if (!need_reset.empty()) {
    auto proposals = checkpointer_->propose_resets(
        state_->lessor(), std::move(need_reset),
        [&](std::string data) { return raw_->propose(std::move(data)) == raft::Status::kOk; });
    for (auto& [sequence, waiting] : proposals.proposed) keepalives_.wait_for_reset(sequence, std::move(waiting));
    const auto refused = api::wire_error(wire::ErrorCode::UNAVAILABLE, "keepalive not proposed; retry");
    for (auto& k : proposals.refused) finish_keepalive(k, &refused);
  }
  for (auto& k : keepalives_.take_reset(state_->lessor().applied_sequence())) finish_keepalive(k, nullptr);
  const auto late = api::wire_error(wire::ErrorCode::UNAVAILABLE, "leadership not confirmed in time; retry");
  for (auto& k : keepalives_.take_expired(Clock::now())) finish_keepalive(k, &late);
}

void NodeLoop::fail_keepalives(const api::WireError& why) {
  for (auto& k : keepalives_.take_all()) finish_keepalive(k, &why);
}

// Checkpoints applied now count down from now; a new leader takes over the
// leases once its term's first entry applied, i.e. after every entry of
// earlier terms, so it knows every committed checkpoint and reset.
void NodeLoop::after_apply_leases() {
  auto& lessor = state_->lessor();
  lessor.stamp(now_ms());
  if (is_leader() && !lessor.is_primary() && applied_term_ == term_) lessor.promote(now_ms(), term_);
}

}  // namespace corral::server
