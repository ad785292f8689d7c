// Lease keep-alives (leader-local, lease_keepalives.h) and the lessor's
// promotion after apply.
#include "coordinator/server/node_loop.h"

#include "coordinator/server/u64_bytes.h"

namespace corral::server {

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

}  // namespace corral::server
