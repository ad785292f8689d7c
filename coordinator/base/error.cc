#include "coordinator/base/error.h"

namespace corral {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kBadRequest: return "bad_request";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kLeaseNotFound: return "lease_not_found";
    case ErrorCode::kCompacted: return "compacted";
    case ErrorCode::kFutureRevision: return "future_revision";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kNotLeader: return "not_leader";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
  }
  return "unknown";
}

}  // namespace corral
