// What the leader does every turn besides raft: the backend quota, expired
// leases, lease checkpoints, forced releases of assignments, auto-compaction.
#include "coordinator/server/node_loop.h"

#include "coordinator/kv/compaction_policy.h"
#include "coordinator/server/backend_quota.h"
#include "coordinator/server/log.h"
#include "schema/data_bytes.h"

namespace corral::server {

namespace {

constexpr size_t kMaxExpiredLeasesPerTurn = 1000;
constexpr int kQuotaCheckIntervalMs = 1000;
// How often the leader looks for assignments revoking past the release timeout.
constexpr int kReleaseCheckIntervalMs = 250;

}  // namespace

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

}  // namespace corral::server
