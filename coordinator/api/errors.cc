#include "coordinator/api/errors.h"

namespace corral::api {

WireError to_wire_error(const Error& error) {
  WireError out;
  out.message = error.message;
  switch (error.code) {
    case ErrorCode::kOk: out.code = wire::ErrorCode::OK; break;
    case ErrorCode::kBadRequest: out.code = wire::ErrorCode::BAD_REQUEST; break;
    case ErrorCode::kNotFound: out.code = wire::ErrorCode::NOT_FOUND; break;
    case ErrorCode::kLeaseNotFound: out.code = wire::ErrorCode::LEASE_NOT_FOUND; break;
    case ErrorCode::kCompacted:
      out.code = wire::ErrorCode::COMPACTED;
      out.compact_revision = error.revision;
      break;
    case ErrorCode::kFutureRevision: out.code = wire::ErrorCode::FUTURE_REVISION; break;
    case ErrorCode::kTooLarge: out.code = wire::ErrorCode::TOO_LARGE; break;
    case ErrorCode::kNotLeader: out.code = wire::ErrorCode::NOT_LEADER; break;
    case ErrorCode::kUnavailable: out.code = wire::ErrorCode::UNAVAILABLE; break;
    case ErrorCode::kPermissionDenied: out.code = wire::ErrorCode::PERMISSION_DENIED; break;
    case ErrorCode::kStorage: out.code = wire::ErrorCode::STORAGE; break;
    case ErrorCode::kInternal: out.code = wire::ErrorCode::INTERNAL; break;
    case ErrorCode::kUnauthenticated: out.code = wire::ErrorCode::UNAUTHENTICATED; break;
  }
  return out;
}

WireError wire_error(wire::ErrorCode code, std::string message) {
  WireError out;
  out.code = code;
  out.message = std::move(message);
  return out;
}

WireError not_leader_error(std::string leader_hint) {
  WireError out;
  out.code = wire::ErrorCode::NOT_LEADER;
  out.message = leader_hint.empty() ? "not the leader; no leader known"
                                    : "not the leader; try " + leader_hint;
  out.leader_hint = std::move(leader_hint);
  return out;
}

void fill_error(wire::Error::Builder out, const WireError& error) {
  out.setCode(error.code);
  out.setMessage(error.message);
  out.setLeaderHint(error.leader_hint);
  out.setCompactRevision(error.compact_revision);
}

}  // namespace corral::api
