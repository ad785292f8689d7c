#include "client/error.h"

namespace corral::client {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kBadRequest: return "bad request";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kLeaseNotFound: return "lease not found";
    case ErrorCode::kCompacted: return "compacted";
    case ErrorCode::kFutureRevision: return "future revision";
    case ErrorCode::kTooLarge: return "too large";
    case ErrorCode::kNotLeader: return "not leader";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kUnknownRequest: return "unknown request";
    case ErrorCode::kTimeout: return "timeout (outcome unknown)";
    case ErrorCode::kUnreachable: return "unreachable";
    case ErrorCode::kBackpressure: return "backpressure";
    case ErrorCode::kClosed: return "closed";
    case ErrorCode::kBadResponse: return "bad response";
    case ErrorCode::kFenced: return "fenced";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kNoSpace: return "no space (NOSPACE alarm)";
  }
  return "unknown";
}

std::string to_string(const Error& error) {
  std::string out = error_code_name(error.code);
  if (!error.message.empty()) out += ": " + error.message;
  if (error.code == ErrorCode::kNotLeader && !error.leader_hint.empty()) {
    out += " (leader " + error.leader_hint + ")";
  }
  if (error.code == ErrorCode::kCompacted) {
    out += " (compact revision " + std::to_string(error.compact_revision) + ")";
  }
  return out;
}

}  // namespace corral::client
