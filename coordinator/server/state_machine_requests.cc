// The apply of one client request inside a committed command entry: one
// function per replicated request kind (put, delete, txn, compaction, lease
// grant and revoke, auth change, alarm). Each runs in its own revision and
// answers only when this member owes the answer (the proposer, or all
// members in tests).
#include <string>
#include <vector>

#include "coordinator/server/state_machine.h"

#include "coordinator/api/request.h"
#include "coordinator/base/check.h"
#include "coordinator/kv/limits.h"
#include "coordinator/kv/txn_check.h"
#include "coordinator/server/auth_apply.h"
#include "coordinator/server/auth_recheck.h"
#include "coordinator/server/command.h"
#include "schema/data_bytes.h"
#include "schema/log_records.h"

namespace corral::server {

namespace wire = corral::schema::api;

namespace {

// A request inside a committed entry was checked by its proposer against the
// member's bound; apply accepts up to the entry bound.
constexpr size_t kMaxAppliedRequestBytes = kMaxEntryBytes * 4;

}  // namespace

std::string StateMachine::refuse(const Applying& a, const Error& e) const {
  return a.answer ? api::encode_error(a.id, header(a.entry.term), api::to_wire_error(e)) : std::string();
}

template <typename Fill>
std::string StateMachine::reply(const Applying& a, Fill fill) const {
  if (!a.answer) return {};
  api::ResponseBuilder b(a.id, header(a.entry.term));
  fill(b.response());
  return b.finish();
}

void StateMachine::feed(const kv::RevisionEvents& events) {
  track_leases(events);
  if (hub_ != nullptr && !events.events.empty()) hub_->on_commit(events);
}

std::string StateMachine::apply_request(const CommandItem& item, const raft::Entry& entry,
                                        storage::WriteBatch& batch, bool answer, std::string& unreadable) {
  auto parsed = api::parse_request(item.request, kMaxAppliedRequestBytes);
  if (!parsed.ok() && parsed.error.code == wire::ErrorCode::UNKNOWN_REQUEST) {
    // Its proposer knew this kind: refusing it here would leave this member
    // different from its peers (apply_version.h).
    unreadable = parsed.error.message;
    return {};
  }
  if (!parsed.ok()) {
    return answer ? api::encode_error(parsed.id, header(entry.term), parsed.error) : std::string();
  }
  auto r = parsed.request->get();
  const Applying a{r.getId(), entry, batch, answer};
  if (auto denied = recheck_at_apply(auth_, *lessor_, item.stamp, r)) {
    return answer ? api::encode_error(a.id, header(entry.term), *denied) : std::string();
  }
  switch (r.which()) {
    case wire::Request::PUT: return apply_put(a, r.getPut());
    case wire::Request::DELETE_RANGE: return apply_delete(a, r.getDeleteRange());
    case wire::Request::TXN: return apply_txn(a, r.getTxn());
    case wire::Request::COMPACTION: {
      auto s = kv_->compact(r.getCompaction().getRevision(), batch);
      if (!s.ok()) return refuse(a, s.error());
      return reply(a, [](auto out) { out.initCompaction(); });
    }
    case wire::Request::LEASE_GRANT: return apply_lease_grant(a, r.getLeaseGrant());
    case wire::Request::LEASE_GRANT_BATCH: return apply_lease_grant_batch(a, r.getLeaseGrantBatch());
    case wire::Request::LEASE_REVOKE: return apply_lease_revoke(a, r.getLeaseRevoke().getId());
    case wire::Request::AUTH: {
      // The proposer checked who may; the store checks what may change.
      auto s = apply_auth_change(auth_, r.getAuth(), batch);
      if (!s.ok()) return refuse(a, s.error());
      return reply(a, [](auto out) { out.initAuth().setDone(); });
    }
    case wire::Request::MAINTENANCE: {
      if (!r.getMaintenance().isAlarm()) break;
      auto s = alarms_.apply(r.getMaintenance().getAlarm(), batch);
      if (!s.ok()) return refuse(a, s.error());
      return reply(a, [&](auto out) { alarms_.fill(out.initMaintenance().initAlarm()); });
    }
    default:
      break;
  }
  return refuse(a, make_error(ErrorCode::kBadRequest, "request kind is not a replicated command"));
}

std::string StateMachine::apply_put(const Applying& a, wire::PutRequest::Reader r) {
  auto req = api::to_put(r);
  if (req.lease != 0 && lessor_->lookup(req.lease) == nullptr) {
    return refuse(a, make_error(ErrorCode::kLeaseNotFound, "lease " + std::to_string(req.lease) + " not found"));
  }
  if (!req.options.ignore_value) {
    auto problem = schema::records::check_client_put(req.key, req.value);
    if (!problem.empty()) return refuse(a, make_error(ErrorCode::kBadRequest, problem));
  }
  auto txn = kv_->begin_write(a.entry.index);
  auto res = txn.put(req.key, req.value, req.lease, req.options);
  if (!res.ok()) return refuse(a, res.error());
  feed(commit(txn, a.batch));
  return reply(a, [&](auto out) { api::fill_put(out.initPut(), *res); });
}

std::string StateMachine::apply_delete(const Applying& a, wire::DeleteRangeRequest::Reader r) {
  auto req = api::to_delete(r);
  auto txn = kv_->begin_write(a.entry.index);
  auto res = txn.delete_range(req.key, req.range_end, req.prev_kv);
  if (!res.ok()) return refuse(a, res.error());
  feed(commit(txn, a.batch));
  return reply(a, [&](auto out) { api::fill_delete(out.initDeleteRange(), *res); });
}

std::string StateMachine::apply_txn(const Applying& a, wire::TxnRequest::Reader r) {
  auto req = api::to_txn(r);
  if (auto s = check_leases(req); !s.ok()) return refuse(a, s.error());
  if (auto s = check_records(req); !s.ok()) return refuse(a, s.error());
  auto txn = kv_->begin_write(a.entry.index);
  auto res = txn.txn(req);
  if (!res.ok()) return refuse(a, res.error());
  feed(commit(txn, a.batch));
  return reply(a, [&](auto out) { api::fill_txn(out.initTxn(), *res); });
}

Result<lease::LeaseId> StateMachine::grant_with_keys(const Applying& a, wire::LeaseGrantRequest::Reader g,
                                                     uint64_t slot) {
  // The keys are checked before the grant, so that once the lease exists
  // no put can fail and the registration is all or nothing.
  auto puts = g.getPuts();
  if (puts.size() > kv::kMaxTxnOps) {
    return make_error(ErrorCode::kTooLarge, "lease grant with " + std::to_string(puts.size()) +
                                                " keys; the limit is " + std::to_string(kv::kMaxTxnOps));
  }
  for (auto p : puts) {
    const auto key = schema::as_view(p.getKey());
    const auto value = schema::as_view(p.getValue());
    if (auto s = kv::check_put(key, value, 0, {}); !s.ok()) return s.error();
    auto problem = schema::records::check_client_put(key, value);
    if (!problem.empty()) return make_error(ErrorCode::kBadRequest, problem);
  }
  auto granted = lessor_->grant(g.getId(), g.getTtl(), a.entry.index, &a.batch, slot);
  if (!granted.ok()) return granted.error();
  if (puts.size() > 0) {
    auto txn = kv_->begin_write(a.entry.index);
    for (auto p : puts) {
      auto put = txn.put(schema::as_view(p.getKey()), schema::as_view(p.getValue()), *granted, {});
      CORRAL_CHECK_MSG(put.ok(), put.ok() ? "" : put.error().message.c_str());
    }
    feed(commit(txn, a.batch));
  }
  return granted;
}

std::string StateMachine::apply_lease_grant(const Applying& a, wire::LeaseGrantRequest::Reader g) {
  auto granted = grant_with_keys(a, g, 0);
  if (!granted.ok()) return refuse(a, granted.error());
  return reply(a, [&](auto out) {
    auto grant = out.initLeaseGrant();
    grant.setId(*granted);
    grant.setTtl(lessor_->lookup(*granted)->ttl_seconds);
  });
}

std::string StateMachine::apply_lease_grant_batch(const Applying& a, wire::LeaseGrantBatchRequest::Reader r) {
  // Bounds and emptiness were checked when the request was parsed (here too).
  auto grants = r.getGrants();
  std::vector<Result<lease::LeaseId>> granted;
  granted.reserve(grants.size());
  for (unsigned i = 0; i < grants.size(); ++i) granted.push_back(grant_with_keys(a, grants[i], i + 1));
  return reply(a, [&](auto out) {
    auto outcomes = out.initLeaseGrantBatch().initOutcomes(grants.size());
    for (unsigned i = 0; i < grants.size(); ++i) {
      auto o = outcomes[i];
      if (granted[i].ok()) {
        o.setId(*granted[i]);
        o.setTtl(lessor_->lookup(*granted[i])->ttl_seconds);
        continue;
      }
      auto e = api::to_wire_error(granted[i].error());
      o.setId(grants[i].getId());
      o.setError(e.code);
      o.setMessage(e.message);
    }
  });
}

std::string StateMachine::apply_lease_revoke(const Applying& a, int64_t lease_id) {
  auto keys = lessor_->revoke(lease_id, &a.batch);
  if (!keys.ok()) return refuse(a, keys.error());
  // Every key of the lease goes in one revision.
  auto txn = kv_->begin_write(a.entry.index);
  for (const auto& key : *keys) (void)txn.delete_range(key);
  feed(commit(txn, a.batch));
  return reply(a, [](auto out) { out.initLeaseRevoke(); });
}

}  // namespace corral::server
