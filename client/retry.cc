#include "client/retry.h"

#include <algorithm>
#include <type_traits>

namespace corral::client {

namespace {
bool only_reads(const std::vector<TxnOp>& ops);
bool only_reads(const TxnRequest& t) { return only_reads(t.success) && only_reads(t.failure); }
bool only_reads(const std::vector<TxnOp>& ops) {
  for (const TxnOp& op : ops) {
    if (std::holds_alternative<RangeRequest>(op.op)) continue;
    const auto* nested = std::get_if<std::vector<TxnRequest>>(&op.op);
    if (nested == nullptr) return false;
    for (const TxnRequest& t : *nested) {
      if (!only_reads(t)) return false;
    }
  }
  return true;
}
}  // namespace

RequestClass classify(const RequestBody& body) {
  return std::visit(
      [](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, RangeRequest> || std::is_same_v<T, ListRequest> ||
                      std::is_same_v<T, LeaseTtlRequest> || std::is_same_v<T, LeaseListRequest> ||
                      std::is_same_v<T, WatchCreateRequest> ||
                      std::is_same_v<T, WatchProgressRequest> ||
                      std::is_same_v<T, MemberListRequest> || std::is_same_v<T, StatusRequest> ||
                      std::is_same_v<T, SnapshotRequest>) {
          return RequestClass::kRead;
        } else if constexpr (std::is_same_v<T, TxnRequest>) {
          return only_reads(r) ? RequestClass::kRead : RequestClass::kWrite;
        } else if constexpr (std::is_same_v<T, AuthRequest>) {
          using K = AuthRequest::Kind;
          return r.kind == K::kAuthenticate || r.kind == K::kUserGet || r.kind == K::kUserList ||
                         r.kind == K::kRoleGet || r.kind == K::kRoleList || r.kind == K::kAuthStatus
                     ? RequestClass::kRead
                     : RequestClass::kWrite;
        } else if constexpr (std::is_same_v<T, LeaseKeepAliveRequest> || std::is_same_v<T, LeaseKeepAliveBatchRequest> ||
                             std::is_same_v<T, WatchCancelRequest>) {
          return RequestClass::kIdempotent;
        } else {
          return RequestClass::kWrite;
        }
      },
      body);
}

Decision decide(RequestClass cls, Failure failure, const Error& error) {
  const bool repeatable = cls != RequestClass::kWrite;
  switch (failure) {
    case Failure::kNeverDelivered:
      return {Action::kNextEndpoint, false};
    case Failure::kConnectionLost:
    case Failure::kNoAnswer:
      if (repeatable) return {Action::kNextEndpoint, false};
      return {Action::kFail, true};
    case Failure::kServerError:
      break;
  }
  switch (error.code) {
    case ErrorCode::kNotLeader:
      if (!error.leader_hint.empty()) return {Action::kFollowHint, false};
      return {Action::kNextEndpoint, false};
    case ErrorCode::kUnavailable:
      // corrald says unavailable only for what it did not propose (no
      // leader, too many pending proposals, member stopping before proposing).
      return {Action::kNextEndpoint, false};
    case ErrorCode::kTimeout:
      if (repeatable) return {Action::kNextEndpoint, false};
      return {Action::kFail, true};
    default:
      return {Action::kFail, false};
  }
}

int64_t backoff_ms(int attempt, int endpoint_count) {
  const int free_attempts = std::max(endpoint_count - 1, 0);
  if (attempt <= free_attempts) return 0;
  const int doublings = std::min(attempt - free_attempts - 1, 16);
  return std::min(kRetryBackoffBaseMs << doublings, kRetryBackoffMaxMs);
}

}  // namespace corral::client
